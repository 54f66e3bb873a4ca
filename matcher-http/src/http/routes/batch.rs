//! Batch jobs: start, progress, results (JSON Lines), cancel.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{body_bytes, content_type, parse_json, PathId};
use crate::http::jobs::{JobStatus, JobView};
use crate::http::openapi::{BadRequest, Invalid, NotFound, TooLarge, Unsupported};
use crate::http::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Matches per need (default 10).
    #[serde(default = "default_top_k")]
    #[schema(minimum = 1)]
    pub top_k: usize,
}

fn default_top_k() -> usize {
    10
}

/// `POST /v1/batch`: 202 with the job; the body is optional.
#[utoipa::path(post, path = "/v1/batch", operation_id = "startBatch", tag = "batch",
    summary = "Start a batch job",
    description = "Match every open need in the background (one job runs at a time). The body is optional.",
    request_body(content = Option<BatchRequest>, content_type = "application/json"),
    responses((status = 202, description = "queued", body = JobView),
        BadRequest, TooLarge, Unsupported, Invalid))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<Response> {
    let has_type = content_type(req.headers()).is_some();
    let is_json = content_type(req.headers()).is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        let e = c.split(';').next().unwrap_or("").trim().to_owned();
        e == "application/json" || (e.starts_with("application/") && e.ends_with("+json"))
    });
    let bytes = body_bytes(req, &state, state.limits().json_body).await?;
    let body: BatchRequest = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        BatchRequest {
            top_k: default_top_k(),
        }
    } else if !is_json {
        return Err(ApiError::unsupported_media(
            if has_type {
                Some("a non-JSON body")
            } else {
                None
            },
            "application/json",
        ));
    } else {
        parse_json(&bytes)?
    };
    let max = state.limits().batch_top_k;
    if body.top_k == 0 || body.top_k > max {
        return Err(ApiError::invalid(
            "top_k",
            format!("top_k {} is out of range 1..={max}", body.top_k),
        ));
    }
    let engine = state.engine()?;
    let limits = state.limits();
    let job = state.jobs().create(
        body.top_k,
        &caller.name,
        limits.max_active_jobs,
        limits.kept_jobs,
    )?;
    tracing::info!(job = %job.id, top_k = body.top_k, by = %caller.name, "batch job queued");
    let st = state.clone();
    let j = job.clone();
    tokio::spawn(async move { st.jobs().execute(j, engine).await });
    let view = job.view();
    let mut res = (StatusCode::ACCEPTED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/batch/{}", job.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /v1/batch/{id}`: status and progress.
#[utoipa::path(get, path = "/v1/batch/{id}", operation_id = "getBatch", tag = "batch",
    summary = "Batch job status",
    params(("id" = String, Path, description = "the batch job's id")),
    responses((status = 200, description = "status and progress", body = JobView), NotFound))]
pub async fn status(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<JobView>> {
    let job = state
        .jobs()
        .get(&id)
        .ok_or_else(|| ApiError::not_found("batch job", &id))?;
    Ok(Json(job.view()))
}

/// `GET /v1/batch/{id}/results`: the lines so far (all of them once the
/// status is `done`), one JSON object per need, in need-id order. The
/// `X-Batch-Status` header tells whether more will come.
#[utoipa::path(get, path = "/v1/batch/{id}/results", operation_id = "batchResults", tag = "batch",
    summary = "Batch job results",
    description = "One JSON object (BatchLine) per need, in need-id order: the lines so far; the X-Batch-Status header tells whether more will come.",
    params(("id" = String, Path, description = "the batch job's id")),
    responses((status = 200, description = "JSON Lines of BatchLine", body = String,
            content_type = "application/x-ndjson",
            headers(("X-Batch-Status" = inline(JobStatus), description = "queued or running: more lines will come"))),
        NotFound))]
pub async fn results(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Response> {
    let job = state
        .jobs()
        .get(&id)
        .ok_or_else(|| ApiError::not_found("batch job", &id))?;
    let (status, body) = job.results();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    h.insert("x-batch-status", HeaderValue::from_static(status.as_str()));
    Ok(res)
}

/// `DELETE /v1/batch/{id}`: cancel (a running job stops after its current chunk).
#[utoipa::path(delete, path = "/v1/batch/{id}", operation_id = "cancelBatch", tag = "batch",
    summary = "Cancel a batch job",
    params(("id" = String, Path, description = "the batch job's id")),
    responses((status = 200, description = "the job, cancelled or finishing its chunk", body = JobView), NotFound))]
pub async fn cancel(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<JobView>> {
    let job = state
        .jobs()
        .get(&id)
        .ok_or_else(|| ApiError::not_found("batch job", &id))?;
    job.cancel();
    Ok(Json(job.view()))
}
