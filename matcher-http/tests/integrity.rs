//! Integrity under concurrency: a request sees one view of the data from
//! start to end, so concurrent writes can't leak a restricted company to a
//! portal or mix two companies' evidence into one match (issue #12).
//!
//! Real server on 127.0.0.1, real threads (a multi-threaded runtime: the
//! writer and the portal clients run on different OS threads, matching on
//! the blocking pool), bounded loops.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use matcher_core::model::Company;
use matcher_core::{fixtures, Context, Engine};
use serde_json::{json, Value};

/// The public company whose slot is freed and reused, and the need both
/// it and the restricted intruders answer.
const ORIGINAL: &str = "tk-001";
const CYCLES: usize = 100;

fn fresh_engine() -> Arc<Engine> {
    let dir = fixtures::fixtures_dir();
    let ctx = Context::load(&dir).expect("fixtures context");
    let engine = Engine::in_memory(Arc::new(ctx)).expect("engine");
    fixtures::load_into(&engine, &dir).expect("load fixtures");
    Arc::new(engine)
}

/// Field texts of every company, as explanations quote them.
fn texts(engine: &Engine) -> HashMap<String, HashMap<&'static str, String>> {
    let mut out = HashMap::new();
    for id in engine.company_ids(matcher_core::Role::Coordinator) {
        let c = engine
            .company(&id, matcher_core::Role::Coordinator)
            .unwrap()
            .unwrap();
        out.insert(id, field_texts(&c));
    }
    out
}

fn field_texts(c: &Company) -> HashMap<&'static str, String> {
    HashMap::from([
        ("capabilities", c.capabilities.clone()),
        ("products", c.products.clone().unwrap_or_default()),
        ("equipment", matcher_core::index::schema::equipment_text(c)),
    ])
}

/// A restricted company that answers the same need with other words.
fn intruder(original: &Value, i: usize) -> Value {
    let mut v = original.clone();
    v["id"] = json!(format!("zz-intruder-{i:03}"));
    v["name"] = json!(format!("株式会社秘匿研削{i:03}"));
    v["visibility"] = json!("restricted");
    v["capabilities"] = json!(
        "円筒研削盤とセンタレス研削盤で、焼入れ後のシャフト外径をh6公差、面粗さRa0.2まで仕上げます。\
         SUJ2やS45Cの高周波焼入れ品の研削が得意で、1ロット10本からの小ロットにも対応。秘匿工程あり。"
    );
    v["products"] = json!("研削シャフト、ローラー軸");
    v
}

/// Check one portal answer: no intruder, and every quoted piece of
/// evidence is the named company's own text at the quoted offsets.
fn check_answer(
    body: &Value,
    texts: &HashMap<String, HashMap<&'static str, String>>,
    original_texts: &HashMap<&'static str, String>,
) -> Result<usize, String> {
    let matches = body["matches"]
        .as_array()
        .ok_or_else(|| format!("no matches in {body}"))?;
    for m in matches {
        let id = m["company_id"].as_str().unwrap_or_default();
        if id.starts_with("zz-intruder") {
            return Err(format!("restricted {id} reached the portal"));
        }
        let own = if id == ORIGINAL {
            original_texts
        } else {
            texts
                .get(id)
                .ok_or_else(|| format!("unknown company {id}"))?
        };
        for t in m["explanation"]["terms"].as_array().into_iter().flatten() {
            let field = t["field"].as_str().unwrap_or_default();
            let (start, end) = (
                t["start"].as_u64().unwrap_or(0) as usize,
                t["end"].as_u64().unwrap_or(0) as usize,
            );
            let quoted = t["text"].as_str().unwrap_or_default();
            let have = own.get(field).and_then(|s| s.get(start..end));
            if have != Some(quoted) {
                return Err(format!(
                    "{id}: evidence {quoted:?} at {field}[{start}..{end}] is not its text ({have:?})"
                ));
            }
        }
        for c in m["explanation"]["concepts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let source = c["source"].as_str().unwrap_or_default();
            if source.contains("秘匿") {
                return Err(format!("{id}: concept evidence from an intruder: {source}"));
            }
        }
    }
    if body.to_string().contains("秘匿") {
        return Err("an intruder's text reached the portal".into());
    }
    Ok(matches.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slot_reuse_during_portal_mutual_matches_never_mixes_or_leaks() {
    let engine = fresh_engine();
    let texts = Arc::new(texts(&engine));
    let original_json: Value = {
        let c = engine
            .company(ORIGINAL, matcher_core::Role::Coordinator)
            .unwrap()
            .unwrap();
        serde_json::to_value(&c).unwrap()
    };
    let original_texts = Arc::new(texts[ORIGINAL].clone());
    let s = Arc::new(start(matcher_http::http::AppState::new(engine.clone(), keys())).await);
    let need = engine
        .need("n-001", matcher_core::Role::Coordinator)
        .expect("fixture need n-001");
    let draft = json!({
        "company_id": need.company_id.as_ref().map(|c| c.as_str()),
        "kind": "subcontracting",
        "title": need.title,
        "text": need.text,
    });

    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (s, done, draft) = (s.clone(), done.clone(), draft.clone());
        let (texts, original_texts) = (texts.clone(), original_texts.clone());
        readers.push(tokio::spawn(async move {
            let mut answers = 0usize;
            let mut problems = Vec::new();
            // Bounded: the writer ends the loop; the count caps it anyway.
            for _ in 0..2_000 {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let r = s
                    .send(
                        "POST",
                        "/v1/match?top_k=200&rank_by=mutual",
                        Some(PORTAL),
                        Body::Json(draft.clone()),
                    )
                    .await;
                r.expect(200);
                match check_answer(&r.json(), &texts, &original_texts) {
                    Ok(_) => answers += 1,
                    Err(e) => problems.push(e),
                }
            }
            (answers, problems)
        }));
    }

    // The writer: free the original's slot, let a restricted company take
    // it, free it again, put the original back.
    let mut intruders = BTreeSet::new();
    for i in 0..CYCLES {
        s.delete(&format!("/v1/companies/{ORIGINAL}"), ADMIN)
            .await
            .expect(204);
        let x = intruder(&original_json, i);
        intruders.insert(x["id"].as_str().unwrap().to_owned());
        let r = s.post("/v1/companies", ADMIN, x.clone()).await;
        assert!(r.status == 201 || r.status == 200, "{}", r.text);
        s.delete(
            &format!("/v1/companies/{}", x["id"].as_str().unwrap()),
            ADMIN,
        )
        .await
        .expect(204);
        let r = s.post("/v1/companies", ADMIN, original_json.clone()).await;
        assert!(r.status == 201 || r.status == 200, "{}", r.text);
    }
    done.store(true, Ordering::Relaxed);
    let mut answers = 0;
    let mut problems = Vec::new();
    for r in readers {
        let (a, p) = r.await.unwrap();
        answers += a;
        problems.extend(p);
    }
    eprintln!(
        "slot reuse: {CYCLES} cycles, {} portal answers checked, {} wrong",
        answers + problems.len(),
        problems.len()
    );
    assert!(answers > 0, "no portal answer completed during the writes");
    assert!(
        problems.is_empty(),
        "{} of {} portal answers were wrong, first: {}",
        problems.len(),
        answers + problems.len(),
        problems[0]
    );
    // The writes all landed: the original is back, the intruders are gone.
    assert!(
        s.get(&format!("/v1/companies/{ORIGINAL}"), PORTAL)
            .await
            .status
            == 200
    );
    for id in &intruders {
        assert_eq!(
            s.get(&format!("/v1/companies/{id}"), COORD).await.status,
            404
        );
    }
}
