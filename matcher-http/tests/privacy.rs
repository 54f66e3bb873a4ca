//! A portal key never learns that a restricted company exists: not through
//! search hits, totals, facets or snippets, matches, mutual matches,
//! opportunities, gets, lists, need owners, nor error answers.
//!
//! Besides the fixtures' restricted companies, the engine holds a pair that
//! makes leaks visible: `zz-secret` (restricted) and `zz-public`, the only
//! two companies that mention ハフニウム; the secret one is the better match
//! and has a certification nobody else has.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use matcher_core::model::{validate, Company, Need};
use matcher_core::{Engine, Role};
use serde_json::{json, Value};

const SECRET: &str = "zz-secret";
const ABSENT: &str = "zz-absent"; // same length as SECRET
const TWIN: &str = "zz-public";
const SECRET_WORDS: [&str; 3] = ["秘匿", "ZZSECRETCERT", "zz-secret"];

fn setup(engine: &Engine) {
    let tax = &engine.ctx.taxonomy;
    let mut secret: Company = serde_json::from_value(json!({
        "id": SECRET,
        "name": "秘匿ハフニウム工業",
        "municipality_code": "131113",
        "industry_codes": ["24"],
        "capabilities": "ハフニウム合金の精密切削加工。ハフニウム部品の試作から量産まで。5軸マシニングセンタで複雑形状。",
        "equipment": [{"name": "5軸マシニングセンタ", "count": 2}],
        "certifications": ["ZZ-SECRET-CERT"],
        "employees": 30,
        "visibility": "restricted",
        "updated_at": "2025-03-01"
    }))
    .unwrap();
    let mut twin: Company = serde_json::from_value(json!({
        "id": TWIN,
        "name": "公開ハフニウム製作所",
        "municipality_code": "132012",
        "industry_codes": ["24"],
        "capabilities": "ハフニウム合金の精密切削加工。試作にも対応します。",
        "employees": 8,
        "updated_at": "2025-03-01"
    }))
    .unwrap();
    validate::company(&mut secret, tax).unwrap();
    validate::company(&mut twin, tax).unwrap();
    engine.upsert_companies(vec![secret, twin]).unwrap();
    let mut owned: Need = serde_json::from_value(json!({
        "id": "zz-need-owned",
        "company_id": SECRET,
        "kind": "subcontracting",
        "title": "チタン部品の鏡面研磨",
        "text": "チタン部品の鏡面研磨をお願いできる会社を探しています。近場希望。",
        "region": {"max_distance_km": 30}
    }))
    .unwrap();
    let mut hf: Need = serde_json::from_value(json!({
        "id": "zz-need-hf",
        "kind": "subcontracting",
        "title": "ハフニウム合金の切削",
        "text": "ハフニウム合金の精密切削加工ができる会社を探しています。試作5個。"
    }))
    .unwrap();
    validate::need(&mut owned, tax).unwrap();
    validate::need(&mut hf, tax).unwrap();
    engine.upsert_needs(vec![owned, hf]).unwrap();
}

fn eng() -> std::sync::Arc<Engine> {
    engine_with(setup)
}

async fn srv() -> Server {
    start(matcher_http::http::AppState::new(eng(), keys())).await
}

fn restricted_ids() -> BTreeSet<String> {
    let e = eng();
    let public: BTreeSet<String> = e.company_ids(Role::Public).into_iter().collect();
    e.company_ids(Role::Coordinator)
        .into_iter()
        .filter(|id| !public.contains(id))
        .collect()
}

/// No restricted id (as a JSON string) and no secret word in a portal answer.
#[track_caller]
fn assert_clean(what: &str, body: &str, restricted: &BTreeSet<String>) {
    for id in restricted {
        assert!(
            !body.contains(&format!("\"{id}\"")),
            "{what}: restricted {id} leaked: {body}"
        );
    }
    for w in SECRET_WORDS {
        assert!(!body.contains(w), "{what}: {w} leaked: {body}");
    }
}

#[tokio::test]
async fn get_list_and_errors_alike_for_restricted_and_missing() {
    let s = srv().await;
    let restricted = restricted_ids();
    assert!(restricted.len() >= 25, "{restricted:?}");
    assert!(restricted.contains(SECRET));

    // A restricted company answers exactly like a missing one.
    let missing = s.get(&format!("/v1/companies/{ABSENT}"), PORTAL).await;
    missing.problem(404, "not-found");
    for path in ["/v1/companies/{}", "/v1/companies/{}/opportunities"] {
        let a = s.get(&path.replace("{}", SECRET), PORTAL).await;
        let b = s.get(&path.replace("{}", ABSENT), PORTAL).await;
        assert_eq!(a.status, 404);
        assert_eq!(a.status, b.status);
        assert_eq!(a.text.replace(SECRET, "ID"), b.text.replace(ABSENT, "ID"));
        let names = |r: &Resp| -> Vec<String> {
            let mut v: Vec<String> = r
                .headers
                .iter()
                .filter(|(k, _)| *k != "x-request-id" && *k != "date")
                .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&a), names(&b));
    }
    for id in &restricted {
        s.get(&format!("/v1/companies/{id}"), PORTAL)
            .await
            .problem(404, "not-found");
        s.get(&format!("/v1/companies/{id}"), COORD)
            .await
            .expect(200);
    }
    // Writes by a portal: 403 whatever the id.
    let a = s.delete(&format!("/v1/companies/{SECRET}"), PORTAL).await;
    let b = s.delete(&format!("/v1/companies/{ABSENT}"), PORTAL).await;
    a.problem(403, "forbidden");
    assert_eq!(a.text.replace(SECRET, "ID"), b.text.replace(ABSENT, "ID"));

    // The list: public companies only, and the total says so.
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = s
            .get(&format!("/v1/companies?offset={offset}&limit=100"), PORTAL)
            .await;
        assert_clean("list", &r.text, &restricted);
        let v = r.expect(200).json();
        let items = v["items"].as_array().unwrap();
        if items.is_empty() {
            assert_eq!(v["total"].as_u64().unwrap() as usize, seen.len());
            break;
        }
        for c in items {
            assert_eq!(c["visibility"], "public");
            seen.push(c["id"].as_str().unwrap().to_owned());
        }
        offset += 100;
    }
    assert_eq!(seen.len(), eng().company_ids(Role::Public).len());
    assert!(seen.iter().any(|id| id == TWIN));
    let all = s.get("/v1/companies?limit=1", COORD).await.json();
    assert_eq!(
        all["total"].as_u64().unwrap() as usize,
        seen.len() + restricted.len()
    );
}

#[tokio::test]
async fn search_hits_totals_facets_snippets() {
    let s = srv().await;
    let restricted = restricted_ids();
    // The pair: a portal finds only the twin.
    let body = json!({"query": "ハフニウム", "limit": 10, "facets": true, "highlight": true});
    let p = s.post("/v1/search", PORTAL, body.clone()).await;
    assert_clean("search", &p.text, &restricted);
    let p = p.expect(200).json();
    let c = s.post("/v1/search", COORD, body).await.expect(200).json();
    // (Other companies may match too, through bigrams: the pair is what counts.)
    let ids = |v: &Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&p).first().map(String::as_str), Some(TWIN), "{p}");
    assert!(!p["hits"][0]["snippets"].as_array().unwrap().is_empty());
    assert_eq!(ids(&c).first().map(String::as_str), Some(SECRET), "{c}");
    assert!(ids(&c).iter().any(|i| i == TWIN));
    assert_eq!(
        p["total"].as_u64().unwrap() + 1,
        c["total"].as_u64().unwrap(),
        "a portal's total is the coordinator's less the secret company"
    );
    assert!(c.to_string().contains("ZZSECRETCERT"));

    // Asking for restricted records finds nothing, facets included.
    let r = s
        .post(
            "/v1/search",
            PORTAL,
            json!({"query": "", "filters": {"visibility": "restricted"}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["total"], 0);
    assert_eq!(
        r["facets"],
        json!({"jsic_division": [], "municipality": [], "certification": []})
    );
    let r = s
        .post(
            "/v1/search",
            PORTAL,
            json!({"query": "", "filters": {"certifications": ["ZZ-SECRET-CERT"]}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["total"], 0);

    // Many queries: no restricted id anywhere, and the facets count exactly
    // the hits a portal can page through.
    for q in [
        "研削",
        "旋盤",
        "加工",
        "板金",
        "溶接",
        "めっき",
        "樹脂",
        "マシニング",
        "検査",
        "設計",
        "\"円筒研削\"",
        "研削 -平面",
    ] {
        let mut hits: Vec<Value> = Vec::new();
        let mut facets = Value::Null;
        let mut total = 0;
        for page in 0..3 {
            let r = s
                .post(
                    "/v1/search",
                    PORTAL,
                    json!({"query": q, "offset": page * 100, "limit": 100, "facets": true}),
                )
                .await;
            assert_clean(q, &r.text, &restricted);
            let v = r.expect(200).json();
            total = v["total"].as_u64().unwrap() as usize;
            if page == 0 {
                facets = v["facets"].clone();
            }
            hits.extend(v["hits"].as_array().unwrap().iter().cloned());
            if hits.len() >= total {
                break;
            }
        }
        assert_eq!(hits.len(), total, "{q}");
        let mut by_muni: BTreeMap<String, u64> = BTreeMap::new();
        for h in &hits {
            *by_muni
                .entry(h["municipality_code"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        for f in facets["municipality"].as_array().unwrap() {
            assert_eq!(
                by_muni.get(f["value"].as_str().unwrap()).copied(),
                f["count"].as_u64(),
                "{q}: municipality facet {f}"
            );
        }
        let mut by_div: BTreeMap<String, u64> = BTreeMap::new();
        for h in &hits {
            let mut divs: BTreeSet<String> = BTreeSet::new();
            for c in h["industry_codes"].as_array().unwrap() {
                if let Some(d) = c.as_str().and_then(|c| c.get(..2)) {
                    if d.bytes().all(|b| b.is_ascii_digit()) {
                        divs.insert(d.to_owned());
                    }
                }
            }
            for d in divs {
                *by_div.entry(d).or_default() += 1;
            }
        }
        for f in facets["jsic_division"].as_array().unwrap() {
            assert_eq!(
                by_div.get(f["value"].as_str().unwrap()).copied(),
                f["count"].as_u64(),
                "{q}: division facet {f}"
            );
        }
        // The coordinator's count is the portal's plus the restricted hits.
        let c = s
            .post(
                "/v1/search",
                COORD,
                json!({"query": q, "limit": 1, "facets": false}),
            )
            .await
            .json();
        assert!(c["total"].as_u64().unwrap() as usize >= total, "{q}");
    }
    let g = s
        .get(
            "/v1/search?q=%E3%83%8F%E3%83%95%E3%83%8B%E3%82%A6%E3%83%A0",
            PORTAL,
        )
        .await;
    assert_clean("GET search", &g.text, &restricted);
    assert_eq!(g.json()["total"], p["total"]);
}

#[tokio::test]
async fn matches_and_mutual_matches() {
    let s = srv().await;
    let restricted = restricted_ids();
    let hf = s.get("/v1/needs/zz-need-hf/matches?top_k=10", PORTAL).await;
    assert_clean("matches", &hf.text, &restricted);
    let hf = hf.expect(200).json();
    assert_eq!(hf["matches"][0]["company_id"], TWIN, "{hf}");
    let c = s
        .get("/v1/needs/zz-need-hf/matches?top_k=10", COORD)
        .await
        .json();
    assert_eq!(c["matches"][0]["company_id"], SECRET);
    assert!(c["candidates"].as_u64() > hf["candidates"].as_u64());

    // Every stored need, plain and mutual.
    for n in eng().needs(Role::Coordinator) {
        let r = s
            .get(
                &format!("/v1/needs/{}/matches?top_k=50&explain=false", n.id),
                PORTAL,
            )
            .await;
        assert_clean(n.id.as_str(), &r.text, &restricted);
        r.expect(200);
    }
    for id in ["n-001", "n-002", "n-010", "zz-need-owned"] {
        let r = s
            .get(
                &format!("/v1/needs/{id}/matches?top_k=20&rank_by=mutual"),
                PORTAL,
            )
            .await;
        assert_clean(id, &r.text, &restricted);
    }

    // An ad-hoc need naming the restricted company as its owner answers
    // exactly as one naming an unknown company.
    let draft = |owner: &str| {
        json!({"company_id": owner, "kind": "subcontracting",
               "title": "ハフニウム合金の切削", "text": "ハフニウム合金の切削加工。大田区近辺。",
               "region": {"max_distance_km": 20}})
    };
    let a = s
        .send(
            "POST",
            "/v1/match?top_k=20&mutual=true",
            Some(PORTAL),
            Body::Json(draft(SECRET)),
        )
        .await;
    let b = s
        .send(
            "POST",
            "/v1/match?top_k=20&mutual=true",
            Some(PORTAL),
            Body::Json(draft(ABSENT)),
        )
        .await;
    assert_clean("adhoc", &a.text, &restricted);
    assert_eq!(a.expect(200).json(), b.expect(200).json());
    let c = s
        .send(
            "POST",
            "/v1/match?top_k=20",
            Some(COORD),
            Body::Json(draft(SECRET)),
        )
        .await
        .json();
    // For a coordinator the owner counts: it is not its own candidate.
    assert!(!c
        .to_string()
        .contains(&format!("\"company_id\":\"{SECRET}\"")));
}

#[tokio::test]
async fn need_owners_are_hidden() {
    let s = srv().await;
    let restricted = restricted_ids();
    let p = s.get("/v1/needs/zz-need-owned", PORTAL).await;
    assert_clean("need", &p.text, &restricted);
    assert!(p.expect(200).json().get("company_id").is_none());
    let c = s.get("/v1/needs/zz-need-owned", COORD).await.json();
    assert_eq!(c["company_id"], SECRET);

    let a = s
        .get(&format!("/v1/needs?company_id={SECRET}"), PORTAL)
        .await;
    let b = s
        .get(&format!("/v1/needs?company_id={ABSENT}"), PORTAL)
        .await;
    assert_eq!(a.expect(200).json(), b.expect(200).json());
    assert_eq!(a.json()["total"], 0);
    let mut offset = 0;
    loop {
        let r = s
            .get(&format!("/v1/needs?offset={offset}&limit=100"), PORTAL)
            .await;
        assert_clean("needs", &r.text, &restricted);
        if r.json()["items"].as_array().unwrap().is_empty() {
            break;
        }
        offset += 100;
    }
    // Its matches for a portal are those of the same need without an owner.
    let stored = s
        .get(
            "/v1/needs/zz-need-owned/matches?top_k=20&mutual=true",
            PORTAL,
        )
        .await
        .json();
    let mut draft =
        serde_json::to_value(eng().need("zz-need-owned", Role::Coordinator).unwrap()).unwrap();
    draft.as_object_mut().unwrap().remove("company_id");
    let adhoc = s
        .send(
            "POST",
            "/v1/match?top_k=20&mutual=true",
            Some(PORTAL),
            Body::Json(draft),
        )
        .await
        .json();
    assert_eq!(stored, adhoc);
}

#[tokio::test]
async fn opportunities_rank_among_public_companies() {
    let s = srv().await;
    let restricted = restricted_ids();
    let p = s
        .get(
            &format!("/v1/companies/{TWIN}/opportunities?top_k=10"),
            PORTAL,
        )
        .await;
    assert_clean("opportunities", &p.text, &restricted);
    let p = p.expect(200).json();
    let hf = p
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["need_id"] == "zz-need-hf")
        .unwrap_or_else(|| panic!("{p}"));
    assert_eq!(hf["rank"], 1, "{hf}");
    assert!(hf["explanation"]["why"].is_string());
    let c = s
        .get(
            &format!("/v1/companies/{TWIN}/opportunities?top_k=10"),
            COORD,
        )
        .await
        .json();
    let chf = c
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["need_id"] == "zz-need-hf")
        .unwrap();
    assert_eq!(
        chf["rank"], 2,
        "the secret company ranks first for a coordinator"
    );

    // A portal's rank and score are those of the portal's own matches.
    for company in [TWIN, "tk-001", "tm-001"] {
        let opps = s
            .get(
                &format!("/v1/companies/{company}/opportunities?top_k=5&explain=false"),
                PORTAL,
            )
            .await;
        assert_clean(company, &opps.text, &restricted);
        for o in opps.json().as_array().unwrap() {
            let m = s
                .get(
                    &format!(
                        "/v1/needs/{}/matches?top_k=200&explain=false",
                        o["need_id"].as_str().unwrap()
                    ),
                    PORTAL,
                )
                .await
                .json();
            let rank = o["rank"].as_u64().unwrap() as usize;
            let at = &m["matches"][rank - 1];
            assert_eq!(at["company_id"], company, "{o} vs {m}");
            assert_eq!(at["score"], o["score"]);
        }
    }
}
