//! `GET /metrics` on a real server, read with a real exposition parser
//! (`prometheus-parse`): counters move with the requests made, histograms
//! are per route template and status, matches and imports are counted, and
//! the exposition is for staff keys only, with no record id in any label.

mod common;

use common::*;
use prom_text_format_parser::{Metric, Scrape, Type, ValueType};
use serde_json::json;

/// Scrape and parse with a strict exposition-format parser (it refuses the
/// whole text on one malformed line, and reads quoted label values such as
/// `route="/v1/companies/{id}"` as the grammar says).
async fn scrape(s: &Server, key: &str) -> Scrape {
    let r = s.get("/metrics", key).await;
    r.expect(200);
    assert!(
        r.content_type().starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type()
    );
    Scrape::parse(&r.text).unwrap_or_else(|e| panic!("not a valid exposition: {e:?}\n{}", r.text))
}

fn metric<'a>(s: &'a Scrape, name: &str) -> Option<&'a Metric> {
    s.metrics.iter().find(|m| m.name == name)
}

/// The sample of `name` of this value type whose labels include `labels`
/// (and, for a histogram bucket, no other `le` than `le`); 0 when absent.
fn sample(s: &Scrape, name: &str, ty: ValueType, labels: &[(&str, &str)]) -> f64 {
    let Some(m) = metric(s, name) else {
        return 0.0;
    };
    m.samples
        .iter()
        .find(|x| {
            x.value.value_type == ty
                && labels
                    .iter()
                    .all(|(k, v)| x.labels.iter().any(|l| l.key == *k && l.value == *v))
        })
        .map_or(0.0, |x| x.value.value.as_f64())
}

/// A counter's or gauge's value; 0 when the series does not exist yet.
fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(s, name, ValueType::Sample, labels)
}

/// A histogram's count of observations; 0 when absent.
fn histogram_count(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(s, name, ValueType::Count, labels)
}

#[tokio::test]
async fn counters_move_with_requests_and_parse() {
    let s = server().await;
    let before = scrape(&s, ADMIN).await;
    let get_one = [
        ("method", "GET"),
        ("route", "/v1/companies/{id}"),
        ("status", "200"),
    ];
    let missing = [
        ("method", "GET"),
        ("route", "/v1/companies/{id}"),
        ("status", "404"),
    ];
    let matches = [("kind", "need")];
    let imported = [("kind", "companies"), ("outcome", "accepted")];
    let refused = [("kind", "companies"), ("outcome", "rejected")];

    s.get("/v1/companies/tk-001", COORD).await.expect(200);
    s.get("/v1/companies/tk-001", PORTAL).await.expect(200);
    s.get("/v1/companies/no-such-company", COORD)
        .await
        .expect(404);
    let m = s.get("/v1/needs/n-001/matches?top_k=3", COORD).await;
    let candidates = m.expect(200).json()["candidates"].as_u64().unwrap();
    let rows = format!(
        "{}\n{}\n",
        json!({"id": "metrics-ok", "name": "計測工業", "municipality_code": "131113",
               "industry_codes": ["24"], "capabilities": "NC旋盤による丸物加工"}),
        json!({"id": "metrics-bad", "name": "", "municipality_code": "999999"}),
    );
    let report = s
        .send(
            "POST",
            "/v1/import/companies",
            Some(ADMIN),
            Body::Raw("application/x-ndjson", rows.into_bytes()),
        )
        .await;
    let report = report.expect(200).json();
    let (accepted, rejected) = (
        report["accepted"].as_u64().unwrap() as f64,
        report["rejected"].as_array().unwrap().len() as f64,
    );
    assert_eq!((accepted, rejected), (1.0, 1.0), "{report}");

    let after = scrape(&s, COORD).await;
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert_eq!(moved("matcher_http_requests_total", &get_one), 2.0);
    assert_eq!(moved("matcher_http_requests_total", &missing), 1.0);
    let hist_moved = |metric: &str, labels: &[(&str, &str)]| {
        histogram_count(&after, metric, labels) - histogram_count(&before, metric, labels)
    };
    assert_eq!(
        hist_moved("matcher_http_request_duration_seconds", &get_one),
        2.0
    );
    assert_eq!(hist_moved("matcher_match_duration_seconds", &matches), 1.0);
    assert_eq!(hist_moved("matcher_match_candidates", &matches), 1.0);
    // The candidates histogram's sum is the count the answer reported.
    let sum = |s: &Scrape| sample(s, "matcher_match_candidates", ValueType::Sum, &matches);
    assert_eq!(sum(&after) - sum(&before), candidates as f64);
    assert_eq!(moved("matcher_import_rows_total", &imported), accepted);
    assert_eq!(moved("matcher_import_rows_total", &refused), rejected);

    // Gauges: the engine's totals (every visibility: staff only).
    let (companies, needs) = s.state.engine().unwrap().counts();
    assert_eq!(
        value(&after, "matcher_index_companies", &[]),
        companies as f64
    );
    assert_eq!(value(&after, "matcher_index_needs", &[]), needs as f64);
    assert_eq!(value(&after, "matcher_ready", &[]), 1.0);
    // In memory: no snapshot, so no age.
    assert!(metric(&after, "matcher_snapshot_age_seconds").is_none());

    // Types as declared, with help texts.
    let kind = |name: &str| metric(&after, name).map(|m| m.kind);
    assert_eq!(kind("matcher_http_requests_total"), Some(Type::Counter));
    assert_eq!(
        kind("matcher_http_request_duration_seconds"),
        Some(Type::Histogram)
    );
    assert_eq!(kind("matcher_match_candidates"), Some(Type::Histogram));
    assert_eq!(kind("matcher_index_companies"), Some(Type::Gauge));
    assert!(metric(&after, "matcher_http_requests_total")
        .and_then(|m| m.help_desc.as_deref())
        .is_some_and(|h| h.contains("route template")));

    // Labels hold templates, never the ids asked for.
    for m in &after.metrics {
        for x in &m.samples {
            for l in x.labels.iter() {
                assert!(
                    !["tk-001", "no-such-company", "n-001"]
                        .iter()
                        .any(|id| l.value.contains(id)),
                    "{} has a raw path in its labels: {}",
                    m.name,
                    l.value
                );
            }
        }
    }
}

#[tokio::test]
async fn only_staff_read_metrics() {
    let s = server().await;
    s.get("/metrics", PORTAL).await.problem(403, "forbidden");
    s.send("GET", "/metrics", None, Body::None)
        .await
        .problem(401, "unauthorized");
    // The refused scrapes are themselves counted, under the route template.
    let m = scrape(&s, ADMIN).await;
    let refused = [("route", "/metrics"), ("status", "403")];
    assert_eq!(value(&m, "matcher_http_requests_total", &refused), 1.0);
}
