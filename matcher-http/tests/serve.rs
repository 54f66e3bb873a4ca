//! `serve`: a data folder on disk, keys created and stored hashed, the
//! fixtures loaded once, graceful shutdown that finishes in-flight requests
//! and saves the snapshot, and what was written is there after a restart.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use matcher_http::http::{auth::hash_key, serve_until, ServeConfig};
use serde_json::{json, Value};
use tokio::sync::oneshot;

const ADMIN: &str = "serve-test-admin-key";
const PORTAL: &str = "serve-test-portal-key";

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

async fn run(data: &Path, key_file: Option<&Path>) -> Running {
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        fixtures_dir: matcher_core::fixtures::fixtures_dir(),
        key_file: key_file.map(Path::to_path_buf),
        cors_origins: vec![],
        match_config: None,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready_tx, ready) = oneshot::channel();
    let task = tokio::spawn(async move {
        serve_until(
            config,
            async move {
                let _ = stopped.await;
            },
            Some(ready_tx),
        )
        .await
        .map_err(|e| e.to_string())
    });
    let addr = tokio::time::timeout(Duration::from_secs(120), ready)
        .await
        .expect("server ready in time")
        .expect("server started")
        .addr;
    Running { addr, stop, task }
}

async fn get(c: &reqwest::Client, addr: SocketAddr, path: &str, key: &str) -> (u16, Value) {
    let r = c
        .get(format!("http://{addr}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let c = reqwest::Client::new();

    // First start: fixtures loaded, keys created with hashes only.
    let s = run(&data, None).await;
    let r = c
        .get(format!("http://{}/readyz", s.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let keys = std::fs::read_to_string(data.join("keys.tsv")).unwrap();
    let lines: Vec<&str> = keys.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 3, "{keys}");
    for (line, role) in lines.iter().zip(["admin", "coordinator", "portal"]) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[1], role);
        assert_eq!(f[2].len(), 64);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("keys.tsv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
    }
    s.stop.send(()).unwrap();
    s.task.await.unwrap().unwrap();
    assert!(data.join("snapshot.bin").exists());

    // Our own key file: a write, then shutdown with a slow request in flight.
    let key_file = dir.path().join("keys.tsv");
    std::fs::write(
        &key_file,
        format!(
            "ops\tadmin\t{}\nweb\tportal\t{}\n",
            hash_key(ADMIN),
            hash_key(PORTAL)
        ),
    )
    .unwrap();
    let s = run(&data, Some(&key_file)).await;
    let (status, before) = get(&c, s.addr, "/v1/companies?limit=1", ADMIN).await;
    assert_eq!(status, 200);
    let total = before["total"].as_u64().unwrap();
    assert!(total >= 275, "fixtures loaded: {before}");
    let company = json!({
        "id": "persist-1", "name": "永続化テスト工業", "municipality_code": "131113",
        "industry_codes": ["24"], "capabilities": "再起動後も残る旋盤加工"
    });
    let r = c
        .post(format!("http://{}/v1/companies", s.addr))
        .bearer_auth(ADMIN)
        .json(&company)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let m = c
        .get(format!("http://{}/metrics", s.addr))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let size: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("matcher_index_size_bytes "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(size > 0, "{m}");

    // A slow request (a portal's opportunities rescore every open need);
    // how long it takes alone tells when to stop the server in its middle.
    let slow_path = "/v1/companies/tk-001/opportunities?top_k=3";
    let t = std::time::Instant::now();
    assert_eq!(get(&c, s.addr, slow_path, PORTAL).await.0, 200);
    let took = t.elapsed();
    let slow = {
        let c = c.clone();
        let addr = s.addr;
        tokio::spawn(async move {
            let t = std::time::Instant::now();
            let r = get(&c, addr, slow_path, PORTAL).await;
            (r, t.elapsed())
        })
    };
    tokio::time::sleep(took / 3).await;
    let stopped_at = std::time::Instant::now();
    s.stop.send(()).unwrap();
    let ((status, body), elapsed) = slow.await.unwrap();
    assert_eq!(status, 200, "in-flight request finished: {body}");
    assert!(body.is_array());
    eprintln!(
        "slow request: {took:?} alone, {elapsed:?} with a shutdown {:?} before it ended",
        stopped_at.elapsed()
    );
    s.task.await.unwrap().unwrap();

    // Restart: the write is there, the fixtures were not loaded again.
    let s = run(&data, Some(&key_file)).await;
    let (status, got) = get(&c, s.addr, "/v1/companies/persist-1", PORTAL).await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "永続化テスト工業");
    let (_, after) = get(&c, s.addr, "/v1/companies?limit=1", ADMIN).await;
    assert_eq!(after["total"].as_u64().unwrap(), total + 1);
    // Keys of the first start are not in this key file.
    let (status, _) = get(&c, s.addr, "/v1/companies/persist-1", "nope").await;
    assert_eq!(status, 401);
    s.stop.send(()).unwrap();
    s.task.await.unwrap().unwrap();
}
