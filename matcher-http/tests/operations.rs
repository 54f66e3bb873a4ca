//! Operator basics against the real binary: `matcher backup` of a folder a
//! server is writing, restored by serving the copy, answers the same
//! matches and holds the acknowledged writes; `--log-format json` writes
//! one JSON object per log line.

use std::path::{Path, PathBuf};
use std::process::Command;

use matcher_http::http::auth::hash_key;
use serde_json::{json, Value};

mod process;
use process::{Server, BIN};

const ADMIN: &str = "ops-test-admin-key";

/// `matcher serve` on `data`, JSON logs into `log`, ready.
async fn serve(data: &Path, keys: &Path, log: &Path) -> Server {
    process::serve(data, keys, &["--log-format", "json"], &[], Some(log)).await
}

async fn admin(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.bearer_auth(ADMIN).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn backup(data: &Path, dest: &Path) -> String {
    let out = Command::new(BIN)
        .arg("backup")
        .arg(dest)
        .arg("--data")
        .arg(data)
        .arg("--fixtures")
        .arg(matcher_core::fixtures::fixtures_dir())
        .output()
        .expect("run matcher backup");
    assert!(
        out.status.success(),
        "matcher backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_restores_the_same_matches() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys: PathBuf = dir.path().join("keys.tsv");
    std::fs::write(&keys, format!("ops\tadmin\t{}\n", hash_key(ADMIN))).unwrap();
    let log = dir.path().join("serve.log");
    let s = serve(&data, &keys, &log).await;
    let c = reqwest::Client::new();

    // An acknowledged write, then the copy while the server holds the folder.
    let company = json!({
        "id": "bk-1", "name": "控え精工", "municipality_code": "131113",
        "industry_codes": ["24"],
        "capabilities": "ハステロイの精密切削と5軸マシニングセンタによる複雑形状加工"
    });
    let (st, _) = admin(c.post(format!("{}/v1/companies", s.base)).json(&company)).await;
    assert_eq!(st, 201);
    let dest = dir.path().join("copy");
    let said = backup(&data, &dest);
    assert!(said.contains("restore: matcher serve --data"), "{said}");
    // A second backup into the same folder is refused.
    let again = Command::new(BIN)
        .arg("backup")
        .arg(&dest)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let need = json!({
        "kind": "subcontracting", "title": "ハステロイ部品の切削",
        "text": "ハステロイの精密切削ができる、5軸マシニングセンタのある会社を探しています。"
    });
    let ask = |base: String| {
        let c = c.clone();
        let need = need.clone();
        async move {
            let (st, stored) =
                admin(c.get(format!("{base}/v1/needs/n-001/matches?top_k=10"))).await;
            assert_eq!(st, 200, "{stored}");
            let (st, adhoc) = admin(c.post(format!("{base}/v1/match?top_k=10")).json(&need)).await;
            assert_eq!(st, 200, "{adhoc}");
            let (st, list) = admin(c.get(format!("{base}/v1/companies?limit=1"))).await;
            assert_eq!(st, 200);
            (stored, adhoc, list["total"].clone())
        }
    };
    let original = ask(s.base.clone()).await;
    assert!(
        original.1["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["company_id"] == "bk-1"),
        "the new company is a candidate: {}",
        original.1
    );

    // Restore: serve the copy (the original keeps running beside it).
    let restored_log = dir.path().join("restored.log");
    let r = serve(&dest, &keys, &restored_log).await;
    let restored = ask(r.base.clone()).await;
    assert_eq!(restored.0, original.0, "stored need's matches");
    assert_eq!(restored.1, original.1, "ad-hoc matches");
    assert_eq!(restored.2, original.2, "company totals");
    let (st, _) = admin(c.get(format!("{}/v1/companies/bk-1", r.base))).await;
    assert_eq!(st, 200);
    drop(r);
    drop(s);

    // JSON logs: every stderr line is one JSON object, requests among them.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines
        .iter()
        .all(|v| v["level"].is_string() && v["timestamp"].is_string()));
    assert!(
        lines.iter().any(|v| v["span"]["route"] == "/v1/companies"
            || v["spans"].to_string().contains("/v1/companies")),
        "a request line names its route: {text}"
    );
}
