//! Needs: list, get, create, replace, delete, bulk upload.
//!
//! A portal sees every need, but never the id of an owner it may not see
//! (core's `Engine::needs` / `Engine::need`, given the caller's role,
//! remove it).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use matcher_core::model::{validate, Need, NeedStatus};
use matcher_core::Role;
use serde::Deserialize;

use super::bulk::{self, ImportQuery, ImportReport};
use super::companies::with_path_id;
use super::{Page, PageQuery, Written};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{from_value, ApiJson, ApiJsonValue, ApiQuery, PathId};
use crate::http::openapi::{BadRequest, Conflict, Invalid, NotFound, TooLarge, Unsupported};
use crate::http::state::{AppState, Work};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NeedListQuery {
    /// records to skip (default 0)
    #[serde(default)]
    pub offset: usize,
    /// page size (default 20)
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// only needs with this status
    #[param(inline)]
    pub status: Option<NeedStatus>,
    /// only needs of this owner
    pub company_id: Option<String>,
}

/// `GET /v1/needs`: by id, optionally by status and owner.
#[utoipa::path(get, path = "/v1/needs", operation_id = "listNeeds", tag = "needs",
    summary = "List needs",
    description = "Needs by id. To a portal key, an owner it may not see is left out of the need.",
    params(NeedListQuery),
    responses((status = 200, description = "a page of needs", body = Page<Need>), Invalid))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NeedListQuery>,
) -> ApiResult<Json<Page<Need>>> {
    let (offset, limit) = PageQuery {
        offset: q.offset,
        limit: q.limit,
    }
    .checked(state.limits())?;
    let role = caller.core_role();
    let page = state
        .run(Work::Plain, move |engine| {
            let mut all = Vec::new();
            // Owner checks on the needs as the caller sees them.
            for n in engine.needs(role) {
                if q.status.is_some_and(|s| s != n.status) {
                    continue;
                }
                if let Some(owner) = &q.company_id {
                    if n.company_id.as_ref().map(|c| c.as_str()) != Some(owner.as_str()) {
                        continue;
                    }
                }
                all.push(n);
            }
            let total = all.len();
            let items: Vec<_> = all.into_iter().skip(offset).take(limit).collect();
            Ok(Page {
                total,
                offset,
                limit,
                items,
            })
        })
        .await?;
    Ok(Json(page))
}

/// `GET /v1/needs/{id}`.
#[utoipa::path(get, path = "/v1/needs/{id}", operation_id = "getNeed", tag = "needs",
    summary = "Get a need",
    params(("id" = String, Path, description = "the need's id")),
    responses((status = 200, description = "the need", body = Need), NotFound))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Need>> {
    let role = caller.core_role();
    let key = id.clone();
    let found = state
        .run(Work::Plain, move |e| Ok(e.need(&key, role)))
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found("need", &id))
}

/// Validate and store a need; a new one is logged as received (KPIs) in
/// the name of `who`.
pub(crate) async fn write(
    state: &AppState,
    who: &str,
    mut n: Need,
    must_be_new: bool,
) -> ApiResult<Written<Need>> {
    let st = state.clone();
    let who = who.to_owned();
    let w = state
        .run(Work::Plain, move |engine| {
            let warnings = validate::need(&mut n, &engine.ctx.taxonomy)?;
            let _guard = st
                .inner
                .create_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if must_be_new && engine.need(n.id.as_str(), Role::Coordinator).is_some() {
                return Err(ApiError::conflict(format!(
                    "a need with id {:?} exists; use PUT /v1/needs/{} to replace it",
                    n.id.as_str(),
                    n.id
                )));
            }
            let summary = engine.upsert_needs(vec![n.clone()])?;
            if summary.created > 0 {
                st.outcomes()?.record(matcher_core::outcomes::Request {
                    who,
                    need_id: n.id.clone(),
                    company_id: None,
                    change: matcher_core::outcomes::Change::NeedReceived,
                })?;
            }
            Ok(Written {
                id: n.id.to_string(),
                created: summary.created > 0,
                warnings,
                record: n,
            })
        })
        .await?;
    state.touch_commit();
    Ok(w)
}

fn written_response(w: Written<Need>) -> Response {
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/needs/{}", w.id);
    let mut res = (status, Json(w)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `POST /v1/needs` (staff): 201, or 409 if the id exists.
#[utoipa::path(post, path = "/v1/needs", operation_id = "createNeed", tag = "needs",
    summary = "Create a need",
    request_body = Need,
    responses((status = 201, description = "created", body = Written<Need>),
        BadRequest, Conflict, TooLarge, Unsupported, Invalid))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(n): ApiJson<Need>,
) -> ApiResult<Response> {
    Ok(written_response(
        write(&state, &caller.name, n, true).await?,
    ))
}

/// `PUT /v1/needs/{id}` (staff): replace or create.
#[utoipa::path(put, path = "/v1/needs/{id}", operation_id = "replaceNeed", tag = "needs",
    summary = "Replace a need",
    params(("id" = String, Path, description = "the need's id")),
    request_body = Need,
    responses((status = 200, description = "replaced", body = Written<Need>),
        (status = 201, description = "created", body = Written<Need>),
        BadRequest, TooLarge, Unsupported, Invalid))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJsonValue(v): ApiJsonValue,
) -> ApiResult<Response> {
    let n: Need = from_value(with_path_id(v, &id)?)?;
    Ok(written_response(
        write(&state, &caller.name, n, false).await?,
    ))
}

/// `DELETE /v1/needs/{id}` (staff): 204 or 404.
#[utoipa::path(delete, path = "/v1/needs/{id}", operation_id = "deleteNeed", tag = "needs",
    summary = "Delete a need",
    params(("id" = String, Path, description = "the need's id")),
    responses((status = 204, description = "deleted"), NotFound))]
pub async fn remove(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let key = id.clone();
    let existed = state
        .run(Work::Plain, move |e| Ok(e.delete_need(&key)?))
        .await?;
    if !existed {
        return Err(ApiError::not_found("need", &id));
    }
    state.touch_commit();
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/import/needs` (admin): JSON Lines or CSV, per-row report.
#[utoipa::path(post, path = "/v1/import/needs", operation_id = "importNeeds", tag = "needs",
    summary = "Bulk upload needs",
    params(ImportQuery),
    request_body(content((String = "application/x-ndjson"), (String = "text/csv"))),
    responses((status = 200, description = "the per-row report", body = ImportReport),
        BadRequest, TooLarge, Unsupported, Invalid))]
pub async fn import(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> ApiResult<Json<ImportReport>> {
    let r = bulk::import::<Need>(&state, "needs", q, req, |e, v| e.upsert_needs(v)).await?;
    Ok(Json(r))
}
