//! The connection under hyper: turns the answers hyper writes by itself
//! into problems.
//!
//! hyper refuses some requests before any service sees them, and answers
//! them itself with a bare head and no body: `431` when the request line
//! and headers overflow its read buffer (about 400 KiB, so a 1 MB URL),
//! `414` for a request target over its fixed 64 KiB limit, `400` for a
//! request it cannot parse. No hyper setting lets such a request through
//! (the URI limit is a constant), so [`ProblemIo`] wraps each connection
//! and rewrites exactly those answers, as they are written, into
//! `application/problem+json` with a request id.
//!
//! What is rewritten: a write that is one whole HTTP/1 response head with
//! status 400, 414 or 431, `content-length: 0` and no `content-type`. Our
//! own answers never look like that — every error goes through
//! [`ApiError`], which always sets a content type — and a body can never
//! start a write with such a head: the bodies are JSON or text, in which
//! CR LF does not occur. hyper writes its automatic answer only between
//! responses, in one write (the connection has no vectored writes, so
//! hyper flattens), and then closes the connection; if it ever came in
//! pieces, it would go out unchanged.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::error::{ApiError, Kind};

/// A [`TcpListener`] whose connections are [`ProblemIo`]s, for `axum::serve`.
pub struct ProblemListener {
    inner: TcpListener,
}

impl ProblemListener {
    pub fn new(inner: TcpListener) -> Self {
        ProblemListener { inner }
    }
}

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (ProblemIo::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The peer of a connection, as connect info for the router
/// (`into_make_service_with_connect_info::<Peer>()`): requests without a
/// valid key are rate-limited by its IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, ProblemListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, ProblemListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A connection whose hyper-written error heads become problems.
pub struct ProblemIo<T> {
    inner: T,
    /// A rewritten answer being written: the bytes, how many are out, and
    /// the length of hyper's write to report once they all are.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> Self {
        ProblemIo {
            inner,
            pending: None,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The problem answer replacing `buf`, if `buf` is one of hyper's
/// automatic error heads.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let line_end = find(buf, b"\r\n")?;
    let line = &buf[..line_end];
    let rest = line
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| line.strip_prefix(b"HTTP/1.0 "))?;
    let kind = match rest.get(..4)? {
        b"400 " => Kind::BadRequest,
        b"414 " => Kind::UriTooLong,
        b"431 " => Kind::HeadersTooLarge,
        _ => return None,
    };
    let head_end = find(buf, b"\r\n\r\n")?;
    if head_end + 4 != buf.len() {
        return None;
    }
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut empty = false;
    for h in buf[line_end + 2..head_end].split(|&b| b == b'\n') {
        let h = h.strip_suffix(b"\r").unwrap_or(h);
        let (name, value) = match find(h, b":") {
            Some(i) => (&h[..i], h[i + 1..].trim_ascii()),
            None => return None,
        };
        let name = name.to_ascii_lowercase();
        match name.as_slice() {
            b"content-type" | b"transfer-encoding" => return None,
            b"content-length" if value == b"0" => empty = true,
            b"content-length" => return None,
            b"connection" => {}
            _ => kept.push(h),
        }
    }
    if !empty {
        return None;
    }
    let detail = match kind {
        Kind::UriTooLong => {
            "the request target (path and query) is longer than the 64 KiB the server reads; \
             send long input in a POST body (POST /v1/search, POST /v1/match)"
        }
        Kind::HeadersTooLarge => {
            "the request line and headers are larger than the server reads (about 400 KiB); \
             send long input in a POST body (POST /v1/search, POST /v1/match)"
        }
        _ => "the request is not valid HTTP/1.1 (request line, version or a header)",
    };
    let id = super::next_request_id();
    tracing::info!(request_id = %id, status = kind.status().as_u16(), "refused a request before routing");
    let err = ApiError::new(kind, detail);
    let body = serde_json::to_vec(&err.body()).ok()?;
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(line);
    out.extend_from_slice(b"\r\n");
    for h in kept {
        out.extend_from_slice(h);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-type: {}\r\ncontent-length: {}\r\n{}: {id}\r\nconnection: close\r\n\r\n",
            super::error::PROBLEM_JSON,
            body.len(),
            super::REQUEST_ID,
        )
        .as_bytes(),
    );
    out.extend_from_slice(&body);
    Some(out)
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Write out a pending rewritten answer; its original length when done.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        while let Some((bytes, written, _)) = self.pending.as_mut() {
            if *written == bytes.len() {
                let claimed = self.pending.take().map(|p| p.2);
                return Poll::Ready(Ok(claimed));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(None))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match rewrite(buf) {
                Some(bytes) => this.pending = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // hyper retries the same bytes until they are reported written.
        match ready!(this.poll_pending(cx))? {
            Some(n) => Poll::Ready(Ok(n)),
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// No: hyper then flattens each answer into one write, so its
    /// automatic error heads arrive whole in [`AsyncWrite::poll_write`].
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_hypers_bare_heads_only() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).expect("rewritten")).expect("utf-8");
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(out.contains("\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"));
        assert!(out.contains("\r\ncontent-type: application/problem+json\r\n"));
        assert!(out.contains("urn:matcher:problem:headers-too-large"));
        assert_eq!(out.matches("connection:").count(), 1);
        let (head, body) = out.split_once("\r\n\r\n").expect("head");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        // Our own answers, other statuses, heads with a body: unchanged.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ours).is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}").is_none());
        assert!(rewrite(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n").is_none());
        assert!(rewrite(b"{\"status\":\"ok\"}").is_none());
    }
}
