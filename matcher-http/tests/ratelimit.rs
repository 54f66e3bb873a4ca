//! Rate limiting on a real server with a tiny quota: per API key, per
//! client address for requests without a valid key, 429 problem+json with
//! `Retry-After`, probes never limited; and the quota read from the
//! `[server.rate_limit]` table of the configuration file by `serve`.

mod common;

use std::time::Duration;

use common::*;
use matcher_http::http::{serve_until, AppState, Limits, RateLimit};

/// A quota that does not refill within a test: two requests, then 429.
fn tiny() -> Limits {
    Limits {
        rate_limit: Some(RateLimit {
            per_second: 1.0 / 3600.0,
            burst: 2,
        }),
        ..Limits::default()
    }
}

#[tokio::test]
async fn per_key_then_per_address() {
    let s = start(AppState::new(engine(), keys()).with_limits(tiny())).await;
    s.get("/v1/companies/tk-001", PORTAL).await.expect(200);
    s.get("/v1/taxonomy/jsic", PORTAL).await.expect(200);
    let r = s.get("/v1/companies/tk-001", PORTAL).await;
    let p = r.problem(429, "rate-limited");
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds");
    // The next request is an hour away (one per hour, burst spent).
    assert!((3500..=3600).contains(&wait), "Retry-After {wait}");
    assert!(p["detail"].as_str().unwrap().contains(&wait.to_string()));

    // Another key has its own bucket.
    s.get("/v1/companies/tk-001", COORD).await.expect(200);

    // Probes and the document are never limited.
    for _ in 0..5 {
        s.send("GET", "/healthz", None, Body::None)
            .await
            .expect(200);
    }

    // Without a valid key: the address's bucket, whatever key is made up,
    // so guessing keys is limited too.
    for k in ["made-up-1", "made-up-2"] {
        s.get("/v1/companies/tk-001", k)
            .await
            .problem(401, "unauthorized");
    }
    s.get("/v1/companies/tk-001", "made-up-3")
        .await
        .problem(429, "rate-limited");
    s.send("GET", "/v1/companies/tk-001", None, Body::None)
        .await
        .problem(429, "rate-limited");
    // ...while a valid key still has its own.
    s.get("/v1/companies/tk-001", ADMIN).await.expect(200);
}

#[tokio::test]
async fn no_limit_by_default() {
    let s = server().await;
    for _ in 0..30 {
        s.get("/v1/taxonomy/clusters", PORTAL).await.expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_the_quota_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("matcher.toml");
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/matcher.toml"),
    )
    .unwrap();
    std::fs::write(
        &config,
        format!("{shipped}\n[server.rate_limit]\nper_second = 0.001\nburst = 3\n"),
    )
    .unwrap();
    let key_file = dir.path().join("keys.tsv");
    std::fs::write(
        &key_file,
        format!(
            "web\tportal\t{}\n",
            matcher_http::http::auth::hash_key(PORTAL)
        ),
    )
    .unwrap();
    let cfg = matcher_http::http::ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data,
        fixtures_dir: matcher_core::fixtures::fixtures_dir(),
        key_file: Some(key_file),
        cors_origins: vec![],
        match_config: Some(config),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        serve_until(
            cfg,
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
    let c = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = c
            .get(format!("http://{addr}/v1/taxonomy/clusters"))
            .bearer_auth(PORTAL)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json"));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
