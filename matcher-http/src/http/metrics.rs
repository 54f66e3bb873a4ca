//! Prometheus metrics, recorded with the `metrics` facade into this
//! server's own `metrics-exporter-prometheus` recorder and rendered at
//! `GET /metrics`.
//!
//! The recorder belongs to the [`AppState`], not to the process: it is
//! never installed as the global recorder, and every update runs under
//! [`metrics::with_local_recorder`]. Two servers in one process (the tests
//! start dozens; an embedder may run one per data folder) therefore count
//! apart, and nothing a library records into the global facade lands here
//! by accident.
//!
//! What is measured:
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `matcher_http_requests_total` | counter | `method`, `route` (the template, `/v1/companies/{id}`, or `unmatched`), `status` |
//! | `matcher_http_request_duration_seconds` | histogram | the same |
//! | `matcher_match_duration_seconds` | histogram | `kind` (`need`, `adhoc`, `opportunities`): time in the engine, after the matching permit |
//! | `matcher_match_candidates` | histogram | `kind` (`need`, `adhoc`): candidates rescored per match (after privacy and hard filters) |
//! | `matcher_import_rows_total` | counter | `kind` (`companies`, `needs`), `outcome` (`accepted`, `rejected`) |
//! | `matcher_index_companies`, `matcher_index_needs` | gauge | totals over every visibility |
//! | `matcher_index_size_bytes`, `matcher_index_last_commit_timestamp_seconds`, `matcher_snapshot_age_seconds`, `matcher_ready`, `matcher_batch_jobs{status}` | gauge | |
//!
//! Who may read it: coordinator and admin keys (`Access::Staff`), never a
//! portal key. The document counts are totals over all visibilities, so a
//! portal that could read them would learn how many restricted companies
//! exist (by subtracting its own public total); staff roles read every
//! restricted profile anyway, so the totals tell them nothing new. Labels
//! hold route templates, never raw paths, so no record id (and no
//! restricted company's id) ever becomes a label, and the number of series
//! stays bounded whatever clients send.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const SECONDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Upper bounds of the candidate-count buckets (the default cut is 400).
const CANDIDATES: [f64; 9] = [0.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0];

/// Histogram samples are buffered until drained; drain every this many
/// requests so a server nobody scrapes does not grow without bound.
const UPKEEP_EVERY: u64 = 512;

const REQUESTS: &str = "matcher_http_requests_total";
const REQUEST_SECONDS: &str = "matcher_http_request_duration_seconds";
const MATCH_SECONDS: &str = "matcher_match_duration_seconds";
const MATCH_CANDIDATES: &str = "matcher_match_candidates";
const IMPORT_ROWS: &str = "matcher_import_rows_total";

/// This server's recorder and the handle that renders it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    observed: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // Bucket lists are constants and non-empty: setting them cannot fail.
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(MATCH_SECONDS.into()), &SECONDS))
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(MATCH_CANDIDATES.into()), &CANDIDATES)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = Metrics {
            recorder,
            handle,
            observed: AtomicU64::new(0),
        };
        m.record(|| {
            use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
            describe_counter!(REQUESTS, "HTTP requests answered, by route template and status.");
            describe_histogram!(
                REQUEST_SECONDS,
                Unit::Seconds,
                "Time to answer, by route template and status."
            );
            describe_histogram!(
                MATCH_SECONDS,
                Unit::Seconds,
                "Time a match spends in the engine (after its matching permit)."
            );
            describe_histogram!(
                MATCH_CANDIDATES,
                "Candidates rescored per match, after privacy and hard filters."
            );
            describe_counter!(IMPORT_ROWS, "Bulk import rows, accepted or rejected.");
            describe_gauge!("matcher_ready", "1 once the index is open.");
            describe_gauge!(
                "matcher_index_companies",
                "Companies in the index (every visibility)."
            );
            describe_gauge!("matcher_index_needs", "Needs in the index.");
            describe_gauge!(
                "matcher_index_size_bytes",
                Unit::Bytes,
                "Bytes of the data folder's index files (0 in memory)."
            );
            describe_gauge!(
                "matcher_index_last_commit_timestamp_seconds",
                "Unix time of the last commit (writes through this server, or the index files at start)."
            );
            describe_gauge!(
                "matcher_snapshot_age_seconds",
                Unit::Seconds,
                "Seconds since the features snapshot was written (absent before the first one)."
            );
            describe_gauge!("matcher_batch_jobs", "Batch jobs known to this server, by status.");
        });
        m
    }

    fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// One answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        self.record(|| {
            metrics::counter!(REQUESTS, &labels).increment(1);
            metrics::histogram!(REQUEST_SECONDS, &labels).record(seconds);
        });
        if self.observed.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// One match computed by the engine: how long it took there and how
    /// many candidates it rescored (core counts only what the caller's role
    /// may see).
    pub fn matched(&self, kind: &'static str, seconds: f64, candidates: Option<usize>) {
        self.record(|| {
            metrics::histogram!(MATCH_SECONDS, "kind" => kind).record(seconds);
            if let Some(n) = candidates {
                metrics::histogram!(MATCH_CANDIDATES, "kind" => kind).record(n as f64);
            }
        });
    }

    /// Rows of one bulk import.
    pub fn imported(&self, kind: &'static str, accepted: usize, rejected: usize) {
        self.record(|| {
            metrics::counter!(IMPORT_ROWS, "kind" => kind, "outcome" => "accepted")
                .increment(accepted as u64);
            metrics::counter!(IMPORT_ROWS, "kind" => kind, "outcome" => "rejected")
                .increment(rejected as u64);
        });
    }

    fn gauges(&self, state: &AppState, index: Option<IndexFigures>) {
        self.record(|| {
            use metrics::gauge;
            gauge!("matcher_ready").set(if index.is_some() { 1.0 } else { 0.0 });
            if let Some(ix) = index {
                gauge!("matcher_index_companies").set(ix.companies as f64);
                gauge!("matcher_index_needs").set(ix.needs as f64);
                gauge!("matcher_index_size_bytes").set(ix.disk_bytes as f64);
                if let Some(age) = ix.snapshot_age_seconds {
                    gauge!("matcher_snapshot_age_seconds").set(age);
                }
            }
            gauge!("matcher_index_last_commit_timestamp_seconds").set(state.last_commit() as f64);
            for (status, n) in state.jobs().counts() {
                gauge!("matcher_batch_jobs", "status" => status).set(n as f64);
            }
        });
    }

    /// The whole exposition, with the gauges set from `index` (read from
    /// the engine by the caller, off the async threads) and the state.
    pub fn render(&self, state: &AppState, index: Option<IndexFigures>) -> String {
        self.gauges(state, index);
        self.handle.render()
    }
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
    state.metrics().request(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

/// Figures read from the engine for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct IndexFigures {
    pub companies: usize,
    pub needs: usize,
    pub disk_bytes: u64,
    /// `None` in memory or before the first snapshot.
    pub snapshot_age_seconds: Option<f64>,
}
