//! Probes, metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::http::error::ApiResult;
use crate::http::metrics::IndexFigures;
use crate::http::state::AppState;

/// What the probes answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `ok` (liveness) or `ready` (readiness).
    pub status: &'static str,
}

/// `GET /healthz`: the process answers. It touches neither the engine nor a
/// matching permit nor the blocking pool, so it answers while matching is
/// saturated (see `tests/limits.rs`).
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "health",
    summary = "Liveness",
    responses((status = 200, description = "the process answers", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// `GET /readyz`: 200 once the index is open, else 503.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "health",
    summary = "Readiness",
    description = "200 once the index is open; 503 `not-ready` before.",
    responses((status = 200, description = "ready", body = Status)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Status>> {
    state.engine()?;
    Ok(Json(Status { status: "ready" }))
}

/// `GET /metrics` (coordinator or admin; see `http::metrics` for why):
/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "health",
    summary = "Metrics",
    description = "Prometheus text format: request counts and latency histograms per route, index size, last commit, batch jobs.",
    responses((status = 200, description = "metrics", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let figures = match state.engine() {
        Ok(engine) => tokio::task::spawn_blocking(move || {
            let (companies, needs) = engine.counts();
            let snapshot_age_seconds = engine
                .snapshot_modified()
                .map(|t| t.elapsed().map_or(0.0, |d| d.as_secs_f64()));
            IndexFigures {
                companies,
                needs,
                disk_bytes: engine.disk_size(),
                snapshot_age_seconds,
            }
        })
        .await
        .ok(),
        Err(_) => None,
    };
    let body = state.metrics().render(&state, figures);
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "health",
    summary = "This OpenAPI document",
    responses((status = 200, description = "this document", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::http::openapi::document(state.limits()))
}
