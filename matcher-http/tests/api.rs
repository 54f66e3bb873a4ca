//! Every route, every role, every error status: the real server on an
//! ephemeral 127.0.0.1 port, over the bundled fixtures. Every answer is
//! checked against the OpenAPI document by the harness.

mod common;

use std::time::Duration;

use common::*;
use matcher_http::http::{routes, AppState, Limits, RateLimit};
use serde_json::{json, Value};

fn company(id: &str) -> Value {
    json!({
        "id": id,
        "name": format!("テスト工業 {id}"),
        "municipality_code": "131113",
        "industry_codes": ["24"],
        "capabilities": "NC旋盤による丸物部品の加工。SUS304、アルミ。",
        "equipment": [{"name": "NC旋盤", "maker": "オークマ", "count": 2}],
        "certifications": ["ISO 9001:2015"],
        "employees": 12,
        "updated_at": "2025-01-10"
    })
}

fn need(id: &str) -> Value {
    json!({
        "id": id,
        "kind": "subcontracting",
        "title": "アルミ筐体の切削加工",
        "text": "A5052の筐体を5軸マシニングセンタで削ってくれる会社を探しています。月50台。"
    })
}

#[tokio::test]
async fn health_ready_and_not_ready() {
    let s = server().await;
    let r = s.send("GET", "/healthz", None, Body::None).await;
    assert_eq!(r.expect(200).json(), json!({"status": "ok"}));
    s.send("GET", "/readyz", None, Body::None).await.expect(200);

    let pending = start(AppState::pending(keys())).await;
    pending
        .send("GET", "/readyz", None, Body::None)
        .await
        .problem(503, "not-ready");
    pending
        .send("GET", "/healthz", None, Body::None)
        .await
        .expect(200);
    pending
        .get("/v1/companies/tk-001", COORD)
        .await
        .problem(503, "not-ready");
    // Metrics still answer, without index figures.
    let m = pending.get("/metrics", COORD).await;
    m.expect(200);
    assert!(m.text.contains("matcher_ready 0"), "{}", m.text);
    // Engine opens: ready.
    pending.state.set_engine(engine());
    pending
        .send("GET", "/readyz", None, Body::None)
        .await
        .expect(200);
}

#[tokio::test]
async fn openapi_matches_the_routes() {
    let s = server().await;
    let r = s.send("GET", "/openapi.json", None, Body::None).await;
    let doc = r.expect(200).json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(matcher_http::http::openapi::undocumented(&Limits::default()).is_empty());
    let table = routes::endpoints(&Limits::default());
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented += 1;
            let e = table
                .iter()
                .find(|e| e.path == *path && e.method.as_str().eq_ignore_ascii_case(method))
                .unwrap_or_else(|| panic!("{method} {path} documented but not routed"));
            assert_eq!(op["operationId"], e.operation_id());
            // The route exists: without a key it is 401 (or answers, when open).
            let concrete = path.replace("{id}", "x");
            let r = s
                .send(&method.to_ascii_uppercase(), &concrete, None, Body::None)
                .await;
            if op["x-roles"].as_array().unwrap().is_empty() {
                assert!(r.status < 400, "{method} {path}: {}", r.text);
            } else {
                r.problem(401, "unauthorized");
            }
        }
    }
    assert_eq!(documented, table.len());
}

/// The generated schemas are strict enough to catch a wrong answer: an
/// undocumented field, a missing required one, a null where none is
/// answered, a wrong enum value, a highlight that is not a pair.
#[tokio::test]
async fn openapi_schemas_catch_wrong_answers() {
    let s = server().await;
    let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let company = s
        .get("/v1/companies/tk-001", COORD)
        .await
        .expect(200)
        .json();
    validate(&s.doc, &schema("Company"), &company).unwrap();
    let wrong = |v: &Value, what: &str, change: &dyn Fn(&mut Value)| {
        let mut w = v.clone();
        change(&mut w);
        assert!(
            validate(&s.doc, &schema(what), &w).is_err(),
            "{what} accepted {w}"
        );
    };
    wrong(&company, "Company", &|c| c["surprise"] = json!(1));
    wrong(&company, "Company", &|c| {
        c.as_object_mut().unwrap().remove("capabilities");
    });
    wrong(&company, "Company", &|c| c["address"] = Value::Null);
    wrong(&company, "Company", &|c| c["visibility"] = json!("secret"));
    wrong(&company, "Company", &|c| c["employees"] = json!(-1));
    wrong(&company, "Company", &|c| c["employees"] = json!(1u64 << 32));

    let r = s
        .post("/v1/search", COORD, json!({"query": "切削", "limit": 3}))
        .await
        .expect(200)
        .json();
    validate(&s.doc, &schema("SearchResponse"), &r).unwrap();
    let hit = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| !h["snippets"].as_array().unwrap().is_empty())
        .expect("a hit with a snippet");
    wrong(hit, "Hit", &|h| {
        h.as_object_mut().unwrap().remove("municipality");
    });
    wrong(hit, "Hit", &|h| {
        h["snippets"][0]["highlights"] = json!([[0, 1, 2]])
    });
    wrong(hit, "Hit", &|h| h["snippets"][0]["formatted"] = Value::Null);

    let m = s
        .post("/v1/match?mutual=true", COORD, need("strict-1"))
        .await
        .expect(200)
        .json();
    validate(&s.doc, &schema("MatchResult"), &m).unwrap();
    let one = &m["matches"][0];
    wrong(one, "Match", &|x| {
        x.as_object_mut().unwrap().remove("score");
    });
    wrong(one, "Match", &|x| x["explanation"]["extra"] = json!(true));
    wrong(one, "Match", &|x| {
        x["explanation"]["concepts"] = json!([{"wanted": "a", "have": "b", "relation": "cousin",
            "weight": 0.5, "source": "text"}])
    });
    wrong(one, "Match", &|x| x["mutual"] = Value::Null);
    // The outcome changes are one of three shapes, by `kind`.
    let change = |v: Value| validate(&s.doc, &schema("Change"), &v);
    change(json!({"kind": "need_received"})).unwrap();
    change(json!({"kind": "moved", "to": "contacted"})).unwrap();
    assert!(change(json!({"kind": "moved"})).is_err());
    assert!(change(json!({"kind": "note", "text": "x", "to": "deal"})).is_err());
}

#[tokio::test]
async fn keys_and_roles() {
    let s = server().await;
    // Missing key, wrong key, wrong scheme: 401 with WWW-Authenticate.
    let r = s
        .send("GET", "/v1/companies/tk-001", None, Body::None)
        .await;
    r.problem(401, "unauthorized");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    s.get("/v1/companies/tk-001", "not-a-key")
        .await
        .problem(401, "unauthorized");
    let basic = s
        .client
        .get(format!("{}/v1/companies/tk-001", s.base))
        .header("authorization", format!("Basic {COORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // X-API-Key works too.
    let x = s
        .client
        .get(format!("{}/v1/companies/tk-001", s.base))
        .header("x-api-key", PORTAL)
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), 200);

    // Needs and outcomes are staff writes (coordinators take needs in);
    // a coordinator passes the role check and meets validation.
    s.put("/v1/needs/role-x", PORTAL, need("role-x"))
        .await
        .problem(403, "forbidden");
    s.put("/v1/needs/role-x", COORD, json!({"title": ""}))
        .await
        .problem(422, "validation");
    // Company writes: admin only.
    for key in [COORD, PORTAL] {
        s.post("/v1/companies", key, company("role-x"))
            .await
            .problem(403, "forbidden");
        s.delete("/v1/companies/tk-001", key)
            .await
            .problem(403, "forbidden");
        s.send(
            "POST",
            "/v1/import/companies",
            Some(key),
            Body::Raw("application/x-ndjson", b"{}".to_vec()),
        )
        .await
        .problem(403, "forbidden");
    }
    // The role check comes before the body is read.
    s.send(
        "POST",
        "/v1/companies",
        Some(PORTAL),
        Body::Raw("text/plain", b"nonsense".to_vec()),
    )
    .await
    .problem(403, "forbidden");
    // Batch and metrics: staff only.
    s.post("/v1/batch", PORTAL, json!({}))
        .await
        .problem(403, "forbidden");
    s.get("/v1/batch/b1", PORTAL)
        .await
        .problem(403, "forbidden");
    s.get("/metrics", PORTAL).await.problem(403, "forbidden");
    s.get("/metrics", COORD).await.expect(200);
    s.get("/metrics", ADMIN).await.expect(200);
    // Reads: every role.
    for key in [ADMIN, COORD, PORTAL] {
        s.get("/v1/companies/tk-001", key).await.expect(200);
        s.get("/v1/needs/n-001", key).await.expect(200);
        s.get("/v1/taxonomy/jsic", key).await.expect(200);
        s.post("/v1/search", key, json!({"query": "旋盤", "limit": 3}))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn company_crud() {
    let s = server().await;
    let r = s.post("/v1/companies", ADMIN, company("crud-c1")).await;
    let v = r.expect(201).json();
    assert_eq!(r.header("location"), Some("/v1/companies/crud-c1"));
    assert_eq!(v["created"], true);
    assert_eq!(v["record"]["certifications"], json!(["ISO9001"]));
    s.post("/v1/companies", ADMIN, company("crud-c1"))
        .await
        .problem(409, "conflict");
    let got = s
        .get("/v1/companies/crud-c1", COORD)
        .await
        .expect(200)
        .json();
    assert_eq!(got["name"], "テスト工業 crud-c1");
    assert_eq!(got["municipality_code"], "131113");

    // Replace: the body's id may be left out.
    let mut c = company("crud-c1");
    c.as_object_mut().unwrap().remove("id");
    c["name"] = json!("改名工業");
    let r = s.put("/v1/companies/crud-c1", ADMIN, c).await;
    assert_eq!(r.expect(200).json()["created"], false);
    assert_eq!(
        s.get("/v1/companies/crud-c1", PORTAL).await.json()["name"],
        "改名工業"
    );
    // A different id in the body is refused.
    let r = s
        .put("/v1/companies/crud-c1", ADMIN, company("crud-other"))
        .await;
    assert_eq!(r.invalid_field(), "id");
    // PUT of a new id creates.
    s.put("/v1/companies/crud-c2", ADMIN, company("crud-c2"))
        .await
        .expect(201);
    // An invalid path id is a 422 on the id.
    assert_eq!(
        s.put("/v1/companies/bad%20id", ADMIN, json!({"name": "x"}))
            .await
            .invalid_field(),
        "id"
    );

    s.delete("/v1/companies/crud-c1", ADMIN).await.expect(204);
    s.get("/v1/companies/crud-c1", ADMIN)
        .await
        .problem(404, "not-found");
    s.delete("/v1/companies/crud-c1", ADMIN)
        .await
        .problem(404, "not-found");
    s.delete("/v1/companies/crud-c2", ADMIN).await.expect(204);
}

#[tokio::test]
async fn need_crud_and_list_filters() {
    let s = server().await;
    let r = s.post("/v1/needs", ADMIN, need("crud-n1")).await;
    assert_eq!(r.expect(201).header("location"), Some("/v1/needs/crud-n1"));
    s.post("/v1/needs", ADMIN, need("crud-n1"))
        .await
        .problem(409, "conflict");
    let mut n = need("crud-n1");
    n["status"] = json!("closed");
    n["company_id"] = json!("tk-001");
    s.put("/v1/needs/crud-n1", ADMIN, n).await.expect(200);
    let got = s.get("/v1/needs/crud-n1", COORD).await.expect(200).json();
    assert_eq!(got["status"], "closed");

    let closed = s
        .get("/v1/needs?status=closed&limit=100", COORD)
        .await
        .expect(200)
        .json();
    assert!(closed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["status"] == "closed"));
    assert!(closed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == "crud-n1"));
    let mine = s
        .get("/v1/needs?company_id=tk-001&limit=100", PORTAL)
        .await
        .expect(200)
        .json();
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["company_id"] == "tk-001"));
    assert_eq!(
        s.get("/v1/needs?status=pending", COORD)
            .await
            .invalid_field(),
        "status"
    );

    s.delete("/v1/needs/crud-n1", ADMIN).await.expect(204);
    s.get("/v1/needs/crud-n1", ADMIN)
        .await
        .problem(404, "not-found");
    s.delete("/v1/needs/crud-n1", ADMIN)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn list_paging_and_query_errors() {
    let s = server().await;
    let a = s
        .get("/v1/companies?limit=5", COORD)
        .await
        .expect(200)
        .json();
    let b = s
        .get("/v1/companies?offset=5&limit=5", COORD)
        .await
        .expect(200)
        .json();
    assert_eq!(a["items"].as_array().unwrap().len(), 5);
    assert!(a["total"].as_u64().unwrap() >= 275);
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (ia, ib) = (ids(&a), ids(&b));
    assert!(ia.iter().all(|i| !ib.contains(i)));
    assert!(ia.windows(2).all(|w| w[0] < w[1]) && ia.last() < ib.first());
    let past = s
        .get("/v1/companies?offset=100000&limit=5", COORD)
        .await
        .expect(200)
        .json();
    assert_eq!(past["items"], json!([]));

    assert_eq!(
        s.get("/v1/companies?limit=0", COORD).await.invalid_field(),
        "limit"
    );
    assert_eq!(
        s.get("/v1/companies?limit=101", COORD)
            .await
            .invalid_field(),
        "limit"
    );
    assert_eq!(
        s.get("/v1/companies?limit=abc", COORD)
            .await
            .invalid_field(),
        "limit"
    );
    assert_eq!(
        s.get("/v1/companies?lmit=5", COORD).await.invalid_field(),
        "lmit"
    );
    assert_eq!(
        s.get("/v1/needs/n-001/matches?top_k=0", COORD)
            .await
            .invalid_field(),
        "top_k"
    );
    assert_eq!(
        s.get("/v1/needs/n-001/matches?top_k=201", COORD)
            .await
            .invalid_field(),
        "top_k"
    );
    assert_eq!(
        s.get("/v1/needs/n-001/matches?rank_by=luck", COORD)
            .await
            .invalid_field(),
        "rank_by"
    );
}

#[tokio::test]
async fn body_errors_are_problems() {
    let s = server().await;
    // Malformed JSON: 400.
    let v = s
        .send(
            "POST",
            "/v1/search",
            Some(COORD),
            Body::Raw("application/json", b"{\"query\": ".to_vec()),
        )
        .await
        .problem(400, "malformed-json");
    assert!(v["detail"].as_str().unwrap().contains("JSON"));
    s.send(
        "POST",
        "/v1/search",
        Some(COORD),
        Body::Raw("application/json", b"".to_vec()),
    )
    .await
    .problem(400, "malformed-json");
    s.send(
        "POST",
        "/v1/search",
        Some(COORD),
        Body::Raw("application/json", b"{} {}".to_vec()),
    )
    .await
    .problem(400, "malformed-json");
    // Unsupported media type: 415.
    s.send(
        "POST",
        "/v1/search",
        Some(COORD),
        Body::Raw("text/plain", b"{}".to_vec()),
    )
    .await
    .problem(415, "unsupported-media-type");
    s.send(
        "POST",
        "/v1/match",
        Some(COORD),
        Body::Raw("", b"{}".to_vec()),
    )
    .await
    .problem(415, "unsupported-media-type");
    s.send(
        "POST",
        "/v1/import/companies",
        Some(ADMIN),
        Body::Raw("application/pdf", b"%PDF".to_vec()),
    )
    .await
    .problem(415, "unsupported-media-type");
    // Invalid fields: 422 with the path.
    let r = s
        .post("/v1/search", COORD, json!({"query": "旋盤", "limt": 3}))
        .await;
    assert_eq!(r.invalid_field(), "limt");
    let r = s
        .post(
            "/v1/search",
            COORD,
            json!({"query": "旋盤", "filters": {"jsic": ["00"]}}),
        )
        .await;
    assert_eq!(r.invalid_field(), "filters.jsic");
    let r = s
        .post(
            "/v1/search",
            COORD,
            json!({"query": "旋盤", "filters": {"employees_min": "many"}}),
        )
        .await;
    assert_eq!(r.invalid_field(), "filters.employees_min");
    let mut c = company("body-c1");
    c["equipment"][0]["count"] = json!("two");
    let r = s.post("/v1/companies", ADMIN, c).await;
    assert_eq!(r.invalid_field(), "equipment[0].count");
    let mut c = company("body-c1");
    c.as_object_mut().unwrap().remove("capabilities");
    assert_eq!(
        s.post("/v1/companies", ADMIN, c).await.invalid_field(),
        "capabilities"
    );
    let mut c = company("body-c1");
    c["municipality_code"] = json!("131110");
    assert_eq!(
        s.post("/v1/companies", ADMIN, c).await.invalid_field(),
        "municipality_code"
    );
    let mut c = company("body-c1");
    c["name"] = json!("   ");
    assert_eq!(
        s.post("/v1/companies", ADMIN, c).await.invalid_field(),
        "name"
    );
    let mut c = company("body-c1");
    c["industry_codes"] = json!(["24", "00"]);
    assert_eq!(
        s.post("/v1/companies", ADMIN, c).await.invalid_field(),
        "industry_codes[1]"
    );
    let mut n = need("body-n1");
    n["titel"] = json!("typo");
    assert_eq!(s.post("/v1/needs", ADMIN, n).await.invalid_field(), "titel");
    let mut n = need("body-n1");
    n["region"] = json!({"prefecture_codes": ["48"]});
    assert_eq!(
        s.post("/v1/match", COORD, n).await.invalid_field(),
        "region.prefecture_codes[0]"
    );
    let r = s.post("/v1/search", COORD, json!({"query": ""})).await;
    assert_eq!(r.invalid_field(), "query");
    let long = "旋盤".repeat(600);
    assert_eq!(
        s.post("/v1/search", COORD, json!({"query": long}))
            .await
            .invalid_field(),
        "query"
    );
    assert_eq!(
        s.post("/v1/search", COORD, json!({"query": "旋盤", "limit": 500}))
            .await
            .invalid_field(),
        "limit"
    );
    assert_eq!(
        s.post(
            "/v1/search",
            COORD,
            json!({"query": "旋盤", "offset": 20000})
        )
        .await
        .invalid_field(),
        "offset"
    );
    // Unknown route and method: problems too.
    s.get("/v1/nothing-here", COORD)
        .await
        .problem(404, "not-found");
    s.send("PATCH", "/v1/companies/tk-001", Some(ADMIN), Body::None)
        .await
        .problem(405, "method-not-allowed");
}

#[tokio::test]
async fn limits_413_429_503() {
    // Body over the limit: 413.
    let small = Limits {
        json_body: 2048,
        bulk_body: 4096,
        bulk_rows: 2,
        ..Limits::default()
    };
    let s = server_with(small).await;
    let big = json!({"query": "旋盤".repeat(800)});
    s.post("/v1/search", COORD, big)
        .await
        .problem(413, "payload-too-large");
    let rows: String = (0..3)
        .map(|i| format!("{}\n", company(&format!("lim-{i}"))))
        .collect();
    s.send(
        "POST",
        "/v1/import/companies",
        Some(ADMIN),
        Body::Raw("application/x-ndjson", rows.into_bytes()),
    )
    .await
    .problem(413, "payload-too-large");
    let huge = vec![b' '; 10_000];
    s.send(
        "POST",
        "/v1/import/companies",
        Some(ADMIN),
        Body::Raw("application/x-ndjson", huge),
    )
    .await
    .problem(413, "payload-too-large");

    // Rate limit: a burst of 2, then 429 with Retry-After, per key.
    let s = server_with(Limits {
        rate_limit: Some(RateLimit {
            per_second: 0.5,
            burst: 2,
        }),
        ..Limits::default()
    })
    .await;
    s.get("/v1/companies/tk-001", PORTAL).await.expect(200);
    s.get("/v1/companies/tk-001", PORTAL).await.expect(200);
    let r = s.get("/v1/companies/tk-001", PORTAL).await;
    r.problem(429, "rate-limited");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    s.get("/v1/companies/tk-001", COORD).await.expect(200);
    // Probes are not limited.
    s.send("GET", "/healthz", None, Body::None)
        .await
        .expect(200);

    // Request time limit: 503 timeout.
    let s = server_with(Limits {
        request_timeout: Duration::from_millis(1),
        ..Limits::default()
    })
    .await;
    s.get("/v1/companies/tk-001/opportunities?top_k=50", PORTAL)
        .await
        .problem(503, "timeout");
}

#[tokio::test]
async fn bulk_upload_reports_rows() {
    let s = server().await;
    let good = company("bulk-c1").to_string();
    let mut bad = company("bulk-c2");
    bad["municipality_code"] = json!("13111x");
    let body = format!("{good}\n{bad}\nnot json\n");
    let r = s
        .send(
            "POST",
            "/v1/import/companies",
            Some(ADMIN),
            Body::Raw("application/x-ndjson", body.into_bytes()),
        )
        .await;
    let v = r.expect(200).json();
    assert_eq!(v["format"], "json_lines");
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["created"], 1);
    let rejected = v["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{v}");
    assert_eq!(rejected[0]["line"], 2);
    assert_eq!(rejected[0]["field"], "municipality_code");
    assert_eq!(rejected[1]["line"], 3);
    s.get("/v1/companies/bulk-c1", PORTAL).await.expect(200);

    // CSV with Japanese headers, in Shift_JIS.
    let csv = "企業ID,企業名,市区町村コード,業種コード,技術・強み\n\
               bulk-c3,株式会社シフトJIS製作所,131113,24,板金加工とレーザー切断\n";
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
    let r = s
        .send(
            "POST",
            "/v1/import/companies?encoding=shift_jis",
            Some(ADMIN),
            Body::Raw("text/csv", sjis.into_owned()),
        )
        .await;
    let v = r.expect(200).json();
    assert_eq!(v["format"], "csv");
    assert_eq!(v["encoding"], "shift_jis");
    assert_eq!(v["accepted"], 1, "{v}");
    let c = s
        .get("/v1/companies/bulk-c3", COORD)
        .await
        .expect(200)
        .json();
    assert_eq!(c["name"], "株式会社シフトJIS製作所");

    // Needs, CSV declared by charset.
    let csv = "id,kind,title,text\nbulk-n1,procurement,治具の調達,検査治具を作れる会社\n";
    let r = s
        .send(
            "POST",
            "/v1/import/needs",
            Some(ADMIN),
            Body::Raw("text/csv; charset=utf-8", csv.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(r.expect(200).json()["accepted"], 1);
    s.get("/v1/needs/bulk-n1", PORTAL).await.expect(200);
    assert_eq!(
        s.send(
            "POST",
            "/v1/import/needs?encoding=latin1",
            Some(ADMIN),
            Body::Raw("text/csv", csv.as_bytes().to_vec()),
        )
        .await
        .invalid_field(),
        "encoding"
    );
}

#[tokio::test]
async fn search_full() {
    let s = server().await;
    let v = s
        .post(
            "/v1/search",
            COORD,
            json!({"query": "円筒研削", "limit": 5, "facets": true, "highlight": true}),
        )
        .await
        .expect(200)
        .json();
    assert!(v["total"].as_u64().unwrap() >= 1);
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5);
    assert!(hits
        .iter()
        .any(|h| !h["snippets"].as_array().unwrap().is_empty()));
    assert!(v["facets"]["jsic_division"].is_array());

    // Filters, sort and paging.
    let v = s
        .post(
            "/v1/search",
            COORD,
            json!({"query": "", "filters": {"jsic": ["24"], "prefectures": ["13"]},
                   "sort": "updated_at", "offset": 2, "limit": 3, "facets": false}),
        )
        .await
        .expect(200)
        .json();
    assert!(v.get("facets").is_none());
    assert_eq!(v["offset"], 2);
    for h in v["hits"].as_array().unwrap() {
        assert!(h["industry_codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("24")));
    }
    let g = s
        .get("/v1/search?q=%E6%97%8B%E7%9B%A4&limit=3&jsic=24", PORTAL)
        .await
        .expect(200)
        .json();
    assert!(g["hits"].as_array().unwrap().len() <= 3);
    assert_eq!(
        s.get("/v1/search?q=x&sort=random", PORTAL)
            .await
            .invalid_field(),
        "sort"
    );
    assert_eq!(s.get("/v1/search", PORTAL).await.invalid_field(), "query");
}

#[tokio::test]
async fn matching_routes() {
    let s = server().await;
    let v = s
        .get("/v1/needs/n-001/matches?top_k=5", COORD)
        .await
        .expect(200)
        .json();
    assert_eq!(v["need_id"], "n-001");
    let m = v["matches"].as_array().unwrap();
    assert_eq!(m.len(), 5);
    assert!(m[0]["explanation"]["why"].is_string());
    assert!(m
        .windows(2)
        .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
    let v = s
        .get(
            "/v1/needs/n-001/matches?top_k=3&rank_by=mutual&explain=false",
            COORD,
        )
        .await
        .expect(200)
        .json();
    assert!(v["matches"][0].get("explanation").is_none());
    s.get("/v1/needs/n-001/matches?mutual=true&top_k=3", PORTAL)
        .await
        .expect(200);
    s.get("/v1/needs/no-such/matches", COORD)
        .await
        .problem(404, "not-found");

    // Ad-hoc need: id optional.
    let mut draft = need("x");
    draft.as_object_mut().unwrap().remove("id");
    let v = s
        .send(
            "POST",
            "/v1/match?top_k=4",
            Some(PORTAL),
            Body::Json(draft.clone()),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["need_id"], "adhoc");
    assert!(!v["matches"].as_array().unwrap().is_empty());
    draft["title"] = json!("");
    assert_eq!(
        s.post("/v1/match", COORD, draft).await.invalid_field(),
        "title"
    );

    // Opportunities.
    let v = s
        .get("/v1/companies/tk-001/opportunities?top_k=5", COORD)
        .await
        .expect(200)
        .json();
    assert!(v.as_array().unwrap().len() <= 5);
    s.get("/v1/companies/no-such/opportunities", COORD)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn batch_jobs() {
    let s = server().await;
    let r = s.post("/v1/batch", COORD, json!({"top_k": 3})).await;
    let job = r.expect(202).json();
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v1/batch/{id}").as_str()
    );
    let done = wait_job(&s, &id, COORD).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["done"], done["total"]);
    let r = s.get(&format!("/v1/batch/{id}/results"), ADMIN).await;
    r.expect(200);
    assert_eq!(r.header("x-batch-status"), Some("done"));
    assert!(r.content_type().starts_with("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, done["total"].as_u64().unwrap());
    assert!(lines
        .windows(2)
        .all(|w| w[0]["need_id"].as_str() < w[1]["need_id"].as_str()));
    for l in &lines {
        validate(
            &s.doc,
            &json!({"$ref": "#/components/schemas/BatchLine"}),
            l,
        )
        .unwrap();
        assert!(l["matches"].as_array().unwrap().len() <= 3);
    }

    // No body: defaults. Cancel.
    let r = s.send("POST", "/v1/batch", Some(ADMIN), Body::None).await;
    let id2 = r.expect(202).json()["id"].as_str().unwrap().to_owned();
    let c = s
        .delete(&format!("/v1/batch/{id2}"), COORD)
        .await
        .expect(200)
        .json();
    assert!(["cancelled", "running", "done"].contains(&c["status"].as_str().unwrap()));
    let end = wait_job(&s, &id2, COORD).await;
    assert!(["cancelled", "done"].contains(&end["status"].as_str().unwrap()));

    s.get("/v1/batch/nope", COORD)
        .await
        .problem(404, "not-found");
    s.get("/v1/batch/nope/results", COORD)
        .await
        .problem(404, "not-found");
    s.delete("/v1/batch/nope", COORD)
        .await
        .problem(404, "not-found");
    assert_eq!(
        s.post("/v1/batch", COORD, json!({"top_k": 0}))
            .await
            .invalid_field(),
        "top_k"
    );
    assert_eq!(
        s.post("/v1/batch", COORD, json!({"top": 3}))
            .await
            .invalid_field(),
        "top"
    );
    s.send(
        "POST",
        "/v1/batch",
        Some(COORD),
        Body::Raw("text/plain", b"top_k=3".to_vec()),
    )
    .await
    .problem(415, "unsupported-media-type");
}

#[tokio::test]
async fn too_many_batch_jobs_is_429() {
    let s = server_with(Limits {
        max_active_jobs: 1,
        ..Limits::default()
    })
    .await;
    let first = s.post("/v1/batch", COORD, json!({"top_k": 1})).await;
    let id = first.expect(202).json()["id"].as_str().unwrap().to_owned();
    let second = s.post("/v1/batch", COORD, json!({"top_k": 1})).await;
    if second.status == 429 {
        second.problem(429, "rate-limited");
    } else {
        // The first finished already on a fast machine.
        second.expect(202);
    }
    s.delete(&format!("/v1/batch/{id}"), COORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn taxonomies() {
    let s = server().await;
    let tree = s.get("/v1/taxonomy/jsic", PORTAL).await.expect(200).json();
    let e = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "E")
        .expect("section E");
    assert_eq!(e["level"], "section");
    let d24 = e["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "24")
        .expect("division 24 under E");
    assert_eq!(d24["level"], "division");
    let clusters = s
        .get("/v1/taxonomy/clusters", PORTAL)
        .await
        .expect(200)
        .json();
    assert!(!clusters.as_array().unwrap().is_empty());
    let m = s
        .get("/v1/taxonomy/municipalities", PORTAL)
        .await
        .expect(200)
        .json();
    assert!(m.as_array().unwrap().iter().any(|x| x["code"] == "131113"));
}

#[tokio::test]
async fn metrics_and_request_ids() {
    let s = server().await;
    s.get("/v1/companies/tk-001", COORD).await.expect(200);
    s.get("/v1/companies/nope", COORD).await.expect(404);
    let m = s.get("/metrics", COORD).await;
    m.expect(200);
    assert!(m.content_type().starts_with("text/plain"));
    let t = &m.text;
    assert!(
        t.contains(
            "matcher_http_requests_total{method=\"GET\",route=\"/v1/companies/{id}\",status=\"200\"}"
        ),
        "{t}"
    );
    assert!(t.contains("status=\"404\""));
    assert!(t.contains(
        "matcher_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/companies/{id}\",status=\"200\",le=\"+Inf\"}"
    ));
    assert!(t.contains("matcher_index_companies "));
    assert!(t.contains("matcher_index_size_bytes 0"));
    assert!(t.contains("matcher_index_last_commit_timestamp_seconds "));
    assert!(t.contains("matcher_batch_jobs{status=\"running\"}"));

    // Request ids: generated, or echoed.
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let a = s.send("GET", "/healthz", None, Body::None).await;
    let b = s.send("GET", "/healthz", None, Body::None).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}

#[tokio::test]
async fn cors_is_configurable() {
    let s = start(
        AppState::new(engine(), keys()).with_cors_origins(vec!["https://portal.example.jp".into()]),
    )
    .await;
    let pre = s
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/search", s.base))
        .header("origin", "https://portal.example.jp")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "https://portal.example.jp"
    );
    let other = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Without configuration: no CORS headers.
    let plain = server().await;
    let r = plain
        .client
        .get(format!("{}/healthz", plain.base))
        .header("origin", "https://portal.example.jp")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_and_reads() {
    // Bounded: a deadlock between writes and parallel matching ends the
    // test binary with a message instead of hanging it (the runtime could
    // not shut down with its blocking threads stuck).
    let limit = Duration::from_secs(240);
    if tokio::time::timeout(limit, concurrent_writes_and_reads_inner())
        .await
        .is_err()
    {
        eprintln!("concurrent_writes_and_reads: no progress in {limit:?}: engine deadlock");
        std::process::exit(101);
    }
}

async fn concurrent_writes_and_reads_inner() {
    let s = std::sync::Arc::new(server().await);
    let mut tasks = Vec::new();
    // A batch job (parallel matching of every open need) runs meanwhile.
    let job = s.post("/v1/batch", COORD, json!({"top_k": 5})).await;
    let job_id = job.expect(202).json()["id"].as_str().unwrap().to_owned();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("conc-{i}");
            s.put(&format!("/v1/companies/{id}"), ADMIN, company(&id))
                .await
                .expect(201);
            let mut c = company(&id);
            c["capabilities"] = json!(format!("同時書き込み試験 {i}: 旋盤加工"));
            s.put(&format!("/v1/companies/{id}"), ADMIN, c)
                .await
                .expect(200);
        }));
    }
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                s.post("/v1/search", PORTAL, json!({"query": "旋盤", "limit": 10}))
                    .await
                    .expect(200);
                s.get("/v1/companies/tk-001", COORD).await.expect(200);
                s.get(&format!("/v1/companies?offset={}&limit=10", i * 10), PORTAL)
                    .await
                    .expect(200);
            }
            for n in ["n-002", "n-003"] {
                s.get(
                    &format!("/v1/needs/{n}/matches?top_k=3&explain=false"),
                    PORTAL,
                )
                .await
                .expect(200);
            }
            if i % 4 == 0 {
                s.get(
                    "/v1/companies/tk-001/opportunities?top_k=2&explain=false",
                    COORD,
                )
                .await
                .expect(200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let end = wait_job(&s, &job_id, COORD).await;
    assert_eq!(end["status"], "done", "{end}");
    for i in 0..8 {
        let c = s
            .get(&format!("/v1/companies/conc-{i}"), PORTAL)
            .await
            .expect(200)
            .json();
        assert!(c["capabilities"]
            .as_str()
            .unwrap()
            .contains("同時書き込み試験"));
    }
    // Concurrent creates of one id: exactly one wins.
    let mut creates = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        creates.push(tokio::spawn(async move {
            s.post("/v1/companies", ADMIN, company("conc-race"))
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for c in creates {
        statuses.push(c.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![201, 409, 409, 409]);
}

/// One raw HTTP/1.1 exchange (for requests hyper refuses before axum sees
/// them): the status, the headers (lower-case names) and the body.
async fn raw_exchange(s: &Server, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading all of a huge head.
    let _ = tcp.write_all(request).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "no answer in 30 s");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// Issue #12, defect 10: every error the server writes is problem+json,
/// including the ones raised before a handler runs (routing, extractors,
/// body limits) and the ones hyper answers itself (URL or head too large,
/// unparsable request).
#[tokio::test]
async fn every_error_is_a_problem() {
    let s = server_with(Limits {
        json_body: 4096,
        ..Limits::default()
    })
    .await;
    let big_json = format!("{{\"query\": \"{}\"}}", "旋".repeat(3000)).into_bytes();
    // (method, path, key, body, status, problem type)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Body, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/v1/nothing-here",
            Some(COORD),
            Body::None,
            404,
            "not-found",
        ),
        ("GET", "/nothing", None, Body::None, 404, "not-found"),
        (
            "PATCH",
            "/v1/companies/tk-001",
            Some(ADMIN),
            Body::None,
            405,
            "method-not-allowed",
        ),
        (
            "DELETE",
            "/v1/search",
            Some(COORD),
            Body::None,
            405,
            "method-not-allowed",
        ),
        (
            "POST",
            "/healthz",
            None,
            Body::None,
            405,
            "method-not-allowed",
        ),
        (
            "GET",
            "/v1/companies",
            None,
            Body::None,
            401,
            "unauthorized",
        ),
        (
            "POST",
            "/v1/companies",
            Some(PORTAL),
            Body::Json(json!({})),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/search",
            Some(COORD),
            Body::Raw("application/json", big_json),
            413,
            "payload-too-large",
        ),
        (
            "POST",
            "/v1/search",
            Some(COORD),
            Body::Raw("text/plain", b"{}".to_vec()),
            415,
            "unsupported-media-type",
        ),
        (
            "POST",
            "/v1/search",
            Some(COORD),
            Body::Raw("application/json", b"{\"query\":".to_vec()),
            400,
            "malformed-json",
        ),
        (
            "POST",
            "/v1/search",
            Some(COORD),
            Body::Json(json!({"query": 5})),
            422,
            "validation",
        ),
        (
            "GET",
            "/v1/companies?limit=abc",
            Some(COORD),
            Body::None,
            422,
            "validation",
        ),
        (
            "GET",
            "/v1/companies/%FF%FE",
            Some(COORD),
            Body::None,
            400,
            "bad-request",
        ),
        (
            "GET",
            "/v1/needs/%C3%28/matches",
            Some(COORD),
            Body::None,
            400,
            "bad-request",
        ),
    ];
    for (method, path, key, body, status, slug) in cases {
        let r = s.send(method, path, key, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text);
        r.problem(status, slug);
    }

    // Requests hyper answers itself, on raw connections (an http::Uri, so
    // reqwest, stops at 64 KiB): a URL past hyper's URI limit (64 KiB) and
    // past its head buffer (~400 KiB), a huge header, unparsable requests.
    let long_url = |n: usize| {
        format!(
            "GET /v1/search?q={} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {COORD}\r\n\r\n",
            "a".repeat(n)
        )
        .into_bytes()
    };
    let huge_header = format!(
        "GET /v1/companies HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\n\r\n",
        "b".repeat(600_000)
    );
    let raw: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("100 kB URL", long_url(100_000), 414, "uri-too-long"),
        ("1 MB URL", long_url(1 << 20), 431, "headers-too-large"),
        (
            "huge header",
            huge_header.into_bytes(),
            431,
            "headers-too-large",
        ),
        (
            "bad header line",
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n".to_vec(),
            400,
            "bad-request",
        ),
        (
            "bad version",
            b"GET /healthz HTTP/7.1\r\nhost: x\r\n\r\n".to_vec(),
            400,
            "bad-request",
        ),
    ];
    for (what, request, status, slug) in raw {
        let (got, headers, body) = raw_exchange(&s, &request).await;
        assert_eq!(got, status, "{what}: {headers:?} {body}");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            header("content-type"),
            Some("application/problem+json"),
            "{what}: {headers:?}"
        );
        assert!(
            header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{what}"
        );
        let v: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
        assert_eq!(
            v["type"],
            format!("urn:matcher:problem:{slug}"),
            "{what}: {v}"
        );
        assert_eq!(v["status"], status, "{what}: {v}");
        validate(&s.doc, &json!({"$ref": "#/components/schemas/Problem"}), &v)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    // The server still answers afterwards.
    s.send("GET", "/healthz", None, Body::None)
        .await
        .expect(200);
}
