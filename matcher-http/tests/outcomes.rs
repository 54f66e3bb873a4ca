//! Shortlists, outcomes, KPIs and the audit trail over REST, on a real
//! server on 127.0.0.1; every answer is checked against the OpenAPI
//! document by the harness.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcome_routes_are_staff_only() {
    let s = server().await;
    for (method, path) in [
        ("GET", "/v1/needs/n-001/shortlist"),
        ("POST", "/v1/needs/n-001/shortlist"),
        ("GET", "/v1/outcomes"),
        ("POST", "/v1/outcomes"),
        ("GET", "/v1/kpis"),
        ("GET", "/v1/audit"),
    ] {
        s.send(
            method,
            path,
            Some(PORTAL),
            Body::Json(json!({"company_id": "tk-001"})),
        )
        .await
        .problem(403, "forbidden");
    }
    // The audit trail is the admins'.
    s.get("/v1/audit", COORD).await.problem(403, "forbidden");
    s.get("/v1/audit", ADMIN).await.expect(200);
    s.get("/v1/kpis", COORD).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_goes_to_a_deal_one_stage_at_a_time_and_the_kpis_count_it() {
    let s = server().await;
    let before = s.get("/v1/kpis?period=fiscal_year", COORD).await.json();
    let deals = |v: &serde_json::Value| -> u64 {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["deals"].as_u64().unwrap())
            .sum()
    };
    let deals_before = deals(&before);

    // Unknown need or company: 404; a move before shortlisting: 409.
    s.post(
        "/v1/needs/no-such-need/shortlist",
        COORD,
        json!({"company_id": "tk-001"}),
    )
    .await
    .problem(404, "not-found");
    s.post(
        "/v1/needs/n-002/shortlist",
        COORD,
        json!({"company_id": "zz-none"}),
    )
    .await
    .problem(404, "not-found");
    let e = s
        .post(
            "/v1/outcomes",
            COORD,
            json!({"need_id": "n-002", "company_id": "tk-001", "to": "contacted"}),
        )
        .await
        .problem(409, "illegal-transition");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("not on the shortlist"),
        "{e}"
    );

    let p = s
        .post(
            "/v1/needs/n-002/shortlist",
            COORD,
            json!({"company_id": "tk-001", "note": "研削の実績"}),
        )
        .await;
    p.expect(201);
    assert_eq!(p.json()["stage"], "proposed");
    assert_eq!(p.json()["proposed_by"], "coordinator");
    // Skipping 連絡 and 面談 is refused, naming them.
    let e = s
        .post(
            "/v1/outcomes",
            COORD,
            json!({"need_id": "n-002", "company_id": "tk-001", "to": "deal"}),
        )
        .await
        .problem(409, "illegal-transition");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("record 連絡 and 面談 first"),
        "{e}"
    );
    for to in ["contacted", "meeting", "deal"] {
        let r = s
            .post(
                "/v1/outcomes",
                ADMIN,
                json!({"need_id": "n-002", "company_id": "tk-001", "to": to}),
            )
            .await;
        r.expect(201);
        assert_eq!(r.json()["stage"], to);
    }
    // A finished pair moves no more; a decline needs a reason.
    s.post(
        "/v1/outcomes",
        COORD,
        json!({"need_id": "n-002", "company_id": "tk-001", "to": "declined", "reason": "price"}),
    )
    .await
    .problem(409, "illegal-transition");
    s.post(
        "/v1/needs/n-002/shortlist",
        COORD,
        json!({"company_id": "tk-002"}),
    )
    .await
    .expect(201);
    s.post(
        "/v1/outcomes",
        COORD,
        json!({"need_id": "n-002", "company_id": "tk-002", "to": "declined"}),
    )
    .await
    .problem(409, "illegal-transition");
    let r = s
        .post("/v1/outcomes", COORD, json!({"need_id": "n-002", "company_id": "tk-002", "to": "declined", "reason": "capacity", "text": "月産が合わない"}))
        .await;
    r.expect(201);
    assert_eq!(r.json()["reason"], "capacity");

    let list = s.get("/v1/needs/n-002/shortlist", COORD).await.json();
    let stages: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["deal", "declined"]);
    let history = &list["items"][0]["history"];
    let who: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["who"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["coordinator", "admin", "admin", "admin"]);

    let after = s.get("/v1/kpis?period=fiscal_year", COORD).await.json();
    assert_eq!(deals(&after), deals_before + 1);
    let by = s.get("/v1/kpis?by=coordinator", COORD).await.json();
    assert!(by
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["group"] == "admin" && r["deals"].as_u64() >= Some(1)));

    // The event log pages by seq.
    let page = s
        .get("/v1/outcomes?need_id=n-002&limit=2", COORD)
        .await
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["next_after"].as_u64().unwrap();
    let rest = s
        .get(
            &format!("/v1/outcomes?need_id=n-002&after={next}&limit=100"),
            COORD,
        )
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_reads_of_restricted_profiles_are_audited_and_public_ones_are_not() {
    let s = server().await;
    // tk-003 is restricted in the fixtures; tk-001 is public.
    s.get("/v1/companies/tk-003", COORD).await.expect(200);
    s.get("/v1/companies/tk-001", COORD).await.expect(200);
    s.get("/v1/companies/tk-003", PORTAL)
        .await
        .problem(404, "not-found");
    let a = s.get("/v1/audit?company_id=tk-003", ADMIN).await.json();
    let e = &a.as_array().unwrap()[0];
    assert_eq!(
        (e["who"].as_str(), e["via"].as_str()),
        (Some("coordinator"), Some("api"))
    );
    let public = s.get("/v1/audit?company_id=tk-001", ADMIN).await.json();
    assert!(public.as_array().unwrap().is_empty());
}
