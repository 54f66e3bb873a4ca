//! The HTTP section: start `matcher serve` on the indexed folder and load it
//! with wrk on 127.0.0.1. Every failure becomes a "skipped: …" status, never
//! an error of the report.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use matcher_benches::Memory;
use matcher_core::model::Need;
use serde::{Deserialize, Serialize};

use crate::report::Args;

#[derive(Debug, Serialize, Deserialize)]
pub struct HttpSection {
    /// "ok" or "skipped: <why>".
    pub status: String,
    pub load_generator: Option<String>,
    pub runs: Vec<HttpRun>,
    /// Seconds from spawning `matcher serve` to its first answer from /v1 (index open).
    pub server_start_secs: Option<f64>,
    /// The server's memory after the load runs.
    pub server_memory: Option<Memory>,
}

impl HttpSection {
    pub fn skipped(why: impl Into<String>) -> Self {
        HttpSection {
            status: why.into(),
            load_generator: None,
            runs: Vec::new(),
            server_start_secs: None,
            server_memory: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HttpRun {
    pub endpoint: String,
    pub connections: u32,
    pub threads: u32,
    pub secs: f64,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Socket errors plus non-2xx/3xx answers.
    pub errors: u64,
}

/// What the wrk script's `done` prints.
#[derive(Debug, Deserialize)]
struct WrkOut {
    requests: u64,
    duration_us: f64,
    connect: u64,
    read: u64,
    write: u64,
    status: u64,
    timeout: u64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
}

const DONE_LUA: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"#;

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// A running `matcher serve`, stopped (by its pid) on drop.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection: (status, body).
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn tail(path: &Path, lines: usize) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join(" | ")
}

/// The coordinator key `matcher serve` prints once when it creates a key
/// file (`  coordinator  KEY`); the file itself holds only hashes.
fn find_key(log: &Path) -> Option<String> {
    let s = std::fs::read_to_string(log).unwrap_or_default();
    s.lines().find_map(|line| {
        let mut it = line.split_whitespace();
        match (it.next(), it.next(), it.next()) {
            (Some("coordinator"), Some(key), None) if key.len() >= 16 => Some(key.to_owned()),
            _ => None,
        }
    })
}

/// The body of POST /v1/match: the need as a draft (interchange shape, no id).
pub fn match_body(need: &Need) -> String {
    let mut v = serde_json::to_value(need).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("id");
    }
    v.to_string()
}

fn lua_escape(s: &str) -> String {
    // A long bracket no JSON body can close early.
    format!("[==[{s}]==]")
}

#[allow(clippy::too_many_arguments)]
fn wrk(
    wrk: &Path,
    dir: &Path,
    addr: SocketAddr,
    label: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    connections: u32,
    secs: u32,
) -> Result<HttpRun, String> {
    let mut lua = format!("wrk.method = \"{method}\"\n");
    for (k, v) in headers {
        lua.push_str(&format!("wrk.headers[\"{k}\"] = {}\n", lua_escape(v)));
    }
    if let Some(b) = body {
        lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        lua.push_str(&format!("wrk.body = {}\n", lua_escape(b)));
    }
    lua.push_str(DONE_LUA);
    let script = dir.join(format!(
        "wrk-{}.lua",
        label.replace(['/', ' ', '{', '}'], "_")
    ));
    std::fs::write(&script, lua).map_err(|e| e.to_string())?;
    let threads = connections.min(2);
    let out = Command::new(wrk)
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"))
        .arg("--timeout")
        .arg("10s")
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}{path}"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("WRKJSON "))
        .ok_or_else(|| {
            format!(
                "wrk printed no summary: {} {}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
    let w: WrkOut = serde_json::from_str(line).map_err(|e| format!("wrk summary: {e}"))?;
    let secs_run = w.duration_us / 1e6;
    Ok(HttpRun {
        endpoint: label.to_owned(),
        connections,
        threads,
        secs: secs_run,
        requests: w.requests,
        requests_per_sec: w.requests as f64 / secs_run.max(1e-9),
        p50_ms: w.p50_us / 1e3,
        p90_ms: w.p90_us / 1e3,
        p99_ms: w.p99_us / 1e3,
        max_ms: w.max_us / 1e3,
        errors: w.connect + w.read + w.write + w.status + w.timeout,
    })
}

/// The HTTP section. `data` must not be open in this process.
pub fn run(
    args: &Args,
    data: &Path,
    stored_need: Option<&str>,
    post_need: Option<&Need>,
) -> HttpSection {
    let Some(wrk_bin) = which("wrk") else {
        return HttpSection::skipped(
            "skipped: wrk not installed (bash scripts/bench-deps.sh installs it)",
        );
    };
    let bin = args.matcher_bin.clone().or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|p| p.join("matcher")))
    });
    let Some(bin) = bin.filter(|b| b.is_file()) else {
        return HttpSection::skipped(
            "skipped: server not available (no `matcher` binary next to this one; \
             cargo build --release -p matcher-http)",
        );
    };
    match serve_and_load(args, &wrk_bin, &bin, data, stored_need, post_need) {
        Ok(s) => s,
        Err(why) => HttpSection::skipped(format!("skipped: server not available ({why})")),
    }
}

fn serve_and_load(
    args: &Args,
    wrk_bin: &Path,
    bin: &Path,
    data: &Path,
    stored_need: Option<&str>,
    post_need: Option<&Need>,
) -> Result<HttpSection, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let keys = work.path().join("keys.tsv");
    let log = work.path().join("server.log");
    let logf = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let logf2 = logf.try_clone().map_err(|e| e.to_string())?;
    eprintln!("report: starting {} serve on {addr}", bin.display());
    let t = Instant::now();
    let child = Command::new(bin)
        .arg("serve")
        .arg("--data")
        .arg(data)
        .arg("--addr")
        .arg(addr.to_string())
        .args(if args.api_key.is_some() {
            // A key of the caller's: the server's own key file (DATA/keys.tsv).
            Vec::new()
        } else {
            // A fresh key file: the server creates it and prints the keys.
            vec![
                std::ffi::OsString::from("--keys"),
                keys.clone().into_os_string(),
            ]
        })
        .env("MATCHER_FIXTURES", matcher_core::fixtures::fixtures_dir())
        .stdin(Stdio::null())
        .stdout(logf)
        .stderr(logf2)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut server = Server { child };
    // /healthz answers while the index is still opening; the keys are
    // printed once it is open, so wait for them (or for --api-key's /v1 answer).
    let stored_path = stored_need.map(|id| format!("/v1/needs/{id}/matches?top_k=20"));
    let mut key = args.api_key.clone();
    let start_secs = loop {
        if let Ok(Some(st)) = server.child.try_wait() {
            return Err(format!("`matcher serve` exited ({st}): {}", tail(&log, 3)));
        }
        if key.is_none() {
            key = find_key(&log);
        }
        if let Some(k) = &key {
            let h = vec![("Authorization".to_owned(), format!("Bearer {k}"))];
            let probe = stored_path.as_deref().unwrap_or("/v1/needs");
            match request(addr, "GET", probe, &h, None) {
                Ok((503, _)) | Err(_) => {}
                Ok(_) => break t.elapsed().as_secs_f64(),
            }
        }
        if t.elapsed() > Duration::from_secs(300) {
            return Err(format!("not ready in 300 s: {}", tail(&log, 3)));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("report: server ready in {start_secs:.2}s");
    let key = key.ok_or("no key")?;
    let header = args.auth_header.replace("{key}", &key);
    let (hk, hv) = header
        .split_once(':')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .ok_or("--auth-header must be `Name: value`")?;
    let headers = vec![(hk, hv)];

    let mut plan: Vec<(String, &str, String, Option<String>)> =
        vec![("GET /healthz".into(), "GET", "/healthz".into(), None)];
    let mut notes = Vec::new();
    if let Some(n) = post_need {
        let body = match_body(n);
        let path = "/v1/match?top_k=20";
        match request(addr, "POST", path, &headers, Some(&body)) {
            Ok((200, _)) => plan.push((
                "POST /v1/match?top_k=20".into(),
                "POST",
                path.into(),
                Some(body),
            )),
            Ok((s, b)) => notes.push(format!(
                "POST /v1/match answered {s}: {}",
                b.chars().take(200).collect::<String>()
            )),
            Err(e) => notes.push(format!("POST /v1/match: {e}")),
        }
    }
    if let Some(path) = stored_path {
        match request(addr, "GET", &path, &headers, None) {
            Ok((200, _)) => plan.push((
                "GET /v1/needs/{id}/matches?top_k=20".into(),
                "GET",
                path,
                None,
            )),
            Ok((s, b)) => notes.push(format!(
                "GET {path} answered {s}: {}",
                b.chars().take(200).collect::<String>()
            )),
            Err(e) => notes.push(format!("GET {path}: {e}")),
        }
    }
    // A server built from an older matcher-core may not read this build's
    // snapshot (it then rebuilds the features, and answers slower at first).
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(server), Some(me)) = (
        mtime(bin),
        std::env::current_exe().ok().as_deref().and_then(mtime),
    ) {
        if me
            .duration_since(server)
            .is_ok_and(|d| d > Duration::from_secs(600))
        {
            notes.push(format!(
                "{} is older than this report binary: build both together \
                 (cargo build --release -p matcher-http -p matcher-benches)",
                bin.display()
            ));
        }
    }
    let mut runs = Vec::new();
    for (label, method, path, body) in &plan {
        for c in [16u32, 64] {
            eprintln!("report: wrk {label} c={c} {}s", args.http_secs);
            match wrk(
                wrk_bin,
                work.path(),
                addr,
                label,
                method,
                path,
                if label == "GET /healthz" {
                    &[]
                } else {
                    &headers
                },
                body.as_deref(),
                c,
                args.http_secs,
            ) {
                Ok(r) => {
                    eprintln!(
                        "report:   {:.0} req/s, p99 {:.2} ms, errors {}",
                        r.requests_per_sec, r.p99_ms, r.errors
                    );
                    runs.push(r)
                }
                Err(e) => notes.push(format!("{label} c={c}: {e}")),
            }
        }
    }
    let server_memory = Some(matcher_benches::memory(Some(server.child.id())));
    drop(server);
    let status = if notes.is_empty() {
        "ok".to_owned()
    } else {
        format!("partial: {}", notes.join("; "))
    };
    let version = Command::new(wrk_bin).arg("-v").output().ok().map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .and_then(|l| l.split(" [").next())
            .unwrap_or("wrk")
            .to_owned()
    });
    Ok(HttpSection {
        status,
        load_generator: version,
        runs,
        server_start_secs: Some(start_secs),
        server_memory,
    })
}
