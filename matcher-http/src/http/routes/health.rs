//! Probes, metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::http::error::ApiResult;
use crate::http::metrics::IndexFigures;
use crate::http::state::AppState;

/// `GET /healthz`: the process answers. It touches neither the engine nor a
/// matching permit nor the blocking pool, so it answers while matching is
/// saturated (see `tests/limits.rs`).
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 once the index is open, else 503.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state.engine()?;
    Ok(Json(json!({"status": "ready"})))
}

/// `GET /metrics` (coordinator or admin; see `http::metrics` for why):
/// Prometheus text format.
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
pub async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::http::openapi::document(state.limits()))
}
