//! Prometheus text exposition: request counts and latency histograms per
//! route, index size and last commit, batch jobs.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let s = m.entry((method.to_owned(), route.to_owned())).or_default();
        *s.by_status.entry(status).or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
        s.sum += seconds;
        s.count += 1;
    }

    fn write_requests(&self, out: &mut String) {
        let m = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP matcher_http_requests_total HTTP requests answered, by route template and status.\n");
        out.push_str("# TYPE matcher_http_requests_total counter\n");
        for ((method, route), s) in m.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "matcher_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP matcher_http_request_duration_seconds Time to answer, by route template.\n",
        );
        out.push_str("# TYPE matcher_http_request_duration_seconds histogram\n");
        for ((method, route), s) in m.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "matcher_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "matcher_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "matcher_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "matcher_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: time every request and count it under its route template
/// (`/v1/companies/{id}`), or `unmatched`.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let res = next.run(req).await;
    state.metrics().observe(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {value}");
}

/// The whole exposition (engine figures computed by the caller off the async threads).
pub fn render(state: &AppState, index: Option<IndexFigures>) -> String {
    let mut out = String::new();
    state.metrics().write_requests(&mut out);
    gauge(
        &mut out,
        "matcher_ready",
        "1 once the index is open.",
        u8::from(index.is_some()),
    );
    if let Some(ix) = index {
        gauge(
            &mut out,
            "matcher_index_companies",
            "Companies in the index (all visibilities).",
            ix.companies,
        );
        gauge(
            &mut out,
            "matcher_index_needs",
            "Needs in the index.",
            ix.needs,
        );
        gauge(
            &mut out,
            "matcher_index_size_bytes",
            "Bytes of the data folder's index files (0 in memory).",
            ix.disk_bytes,
        );
    }
    gauge(
        &mut out,
        "matcher_index_last_commit_timestamp_seconds",
        "Unix time of the last commit (writes through this server, or the index files at start).",
        state.last_commit(),
    );
    let _ = writeln!(
        out,
        "# HELP matcher_batch_jobs Batch jobs known to this server, by status."
    );
    let _ = writeln!(out, "# TYPE matcher_batch_jobs gauge");
    for (status, n) in state.jobs().counts() {
        let _ = writeln!(out, "matcher_batch_jobs{{status=\"{status}\"}} {n}");
    }
    out
}

/// Figures read from the engine for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct IndexFigures {
    pub companies: usize,
    pub needs: usize,
    pub disk_bytes: u64,
}
