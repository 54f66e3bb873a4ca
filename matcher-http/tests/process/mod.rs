//! The real `matcher` binary as a child process on an ephemeral
//! 127.0.0.1 port: what the fault and operations tests drive (SIGKILL,
//! restarts, backups), where an in-process server would not do.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_matcher");

/// A running `matcher serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `matcher serve` on `data` with the key file `keys`, `args` and
/// `env` added, its stderr into `log` (or nowhere), and wait until
/// `/readyz` answers 200. A server that exits early fails the test with
/// its log.
pub async fn serve(
    data: &Path,
    keys: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    log: Option<&Path>,
) -> Server {
    let port = free_port();
    let stderr = match log {
        Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
        None => Stdio::null(),
    };
    let child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data)
        .arg("--keys")
        .arg(keys)
        .arg("--fixtures")
        .arg(matcher_core::fixtures::fixtures_dir())
        .env_remove("MATCHER_LOG")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start matcher serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_ready(server, log).await
}

async fn wait_ready(mut server: Server, log: Option<&Path>) -> Server {
    let c = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = log
                .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                .unwrap_or_default();
            panic!("matcher serve exited early: {status}: {log}");
        }
        if let Ok(r) = c.get(format!("{}/readyz", server.base)).send().await {
            if r.status() == 200 {
                return server;
            }
        }
        assert!(Instant::now() < deadline, "server not ready in 180 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
