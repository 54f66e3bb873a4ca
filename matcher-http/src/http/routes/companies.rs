//! Companies: list, get, create, replace, delete, bulk upload.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use matcher_core::model::{validate, Company, Visibility};
use matcher_core::Role;

use super::bulk::{self, ImportQuery, ImportReport};
use super::{Page, PageQuery, Written};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{from_value, ApiJson, ApiJsonValue, ApiQuery, PathId};
use crate::http::openapi::{BadRequest, Conflict, Invalid, NotFound, TooLarge, Unsupported};
use crate::http::state::{AppState, Work};

/// `GET /v1/companies`: the companies the caller may see, by id.
#[utoipa::path(get, path = "/v1/companies", operation_id = "listCompanies", tag = "companies",
    summary = "List companies",
    description = "Companies the key may see, by id. A portal key sees public companies only.",
    params(PageQuery),
    responses((status = 200, description = "a page of companies", body = Page<Company>), Invalid))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Company>>> {
    let (offset, limit) = q.checked(state.limits())?;
    let role = caller.core_role();
    let page = state
        .run(Work::Plain, move |engine| {
            let ids = engine.company_ids(role);
            let mut items = Vec::new();
            for id in ids.iter().skip(offset).take(limit) {
                if let Some(c) = engine.company(id, role)? {
                    items.push(c);
                }
            }
            Ok(Page {
                total: ids.len(),
                offset,
                limit,
                items,
            })
        })
        .await?;
    Ok(Json(page))
}

/// `GET /v1/companies/{id}`: 404 alike for missing and (to a portal) restricted.
#[utoipa::path(get, path = "/v1/companies/{id}", operation_id = "getCompany", tag = "companies",
    summary = "Get a company",
    description = "404 alike for a missing company and, to a portal key, a restricted one.",
    params(("id" = String, Path, description = "the company's id")),
    responses((status = 200, description = "the company", body = Company), NotFound))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Company>> {
    let role = caller.core_role();
    let key = id.clone();
    let st = state.clone();
    let found = state
        .run(Work::Plain, move |e| {
            let c = e.company(&key, role)?;
            // Staff reads of restricted profiles are audited (portals
            // never get one).
            if c.as_ref()
                .is_some_and(|c| c.visibility == Visibility::Restricted)
            {
                super::outcomes::audit_read(&st, &caller, &key, "api")?;
            }
            Ok(c)
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found("company", &id))
}

fn created_response<T: serde::Serialize>(kind: &str, w: Written<T>) -> Response {
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/{kind}/{}", w.id);
    let mut res = (status, Json(w)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Validate and store one company. `must_be_new`: refuse an existing id (409).
async fn write(state: &AppState, mut c: Company, must_be_new: bool) -> ApiResult<Written<Company>> {
    let st = state.clone();
    let w = state
        .run(Work::Plain, move |engine| {
            let warnings = validate::company(&mut c, &engine.ctx.taxonomy)?;
            let _guard = st
                .inner
                .create_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if must_be_new && engine.company(c.id.as_str(), Role::Admin)?.is_some() {
                return Err(ApiError::conflict(format!(
                    "a company with id {:?} exists; use PUT /v1/companies/{} to replace it",
                    c.id.as_str(),
                    c.id
                )));
            }
            let summary = engine.upsert_companies(vec![c.clone()])?;
            Ok(Written {
                id: c.id.to_string(),
                created: summary.created > 0,
                warnings,
                record: c,
            })
        })
        .await?;
    state.touch_commit();
    Ok(w)
}

/// `POST /v1/companies` (admin): 201, or 409 if the id exists.
#[utoipa::path(post, path = "/v1/companies", operation_id = "createCompany", tag = "companies",
    summary = "Create a company",
    request_body = Company,
    responses((status = 201, description = "created", body = Written<Company>),
        BadRequest, Conflict, TooLarge, Unsupported, Invalid))]
pub async fn create(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(c): ApiJson<Company>,
) -> ApiResult<Response> {
    let w = write(&state, c, true).await?;
    Ok(created_response("companies", w))
}

/// Put the path id into a body that has none; refuse a different one.
pub fn with_path_id(mut v: serde_json::Value, id: &str) -> ApiResult<serde_json::Value> {
    if let Some(obj) = v.as_object_mut() {
        match obj.get("id") {
            None => {
                obj.insert("id".into(), serde_json::Value::String(id.to_owned()));
            }
            Some(serde_json::Value::String(s)) if s == id => {}
            Some(other) => {
                return Err(ApiError::invalid(
                    "id",
                    format!("the body's id {other} differs from the path's id {id:?}"),
                ))
            }
        }
    }
    Ok(v)
}

/// `PUT /v1/companies/{id}` (admin): replace or create.
#[utoipa::path(put, path = "/v1/companies/{id}", operation_id = "replaceCompany", tag = "companies",
    summary = "Replace a company",
    description = "Replace (or create) the company; the body's id may be omitted and must equal the path's when given.",
    params(("id" = String, Path, description = "the company's id")),
    request_body = Company,
    responses((status = 200, description = "replaced", body = Written<Company>),
        (status = 201, description = "created", body = Written<Company>),
        BadRequest, TooLarge, Unsupported, Invalid))]
pub async fn replace(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
    ApiJsonValue(v): ApiJsonValue,
) -> ApiResult<Response> {
    let c: Company = from_value(with_path_id(v, &id)?)?;
    let w = write(&state, c, false).await?;
    Ok(created_response("companies", w))
}

/// `DELETE /v1/companies/{id}` (admin): 204 or 404.
#[utoipa::path(delete, path = "/v1/companies/{id}", operation_id = "deleteCompany", tag = "companies",
    summary = "Delete a company",
    params(("id" = String, Path, description = "the company's id")),
    responses((status = 204, description = "deleted"), NotFound))]
pub async fn remove(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let key = id.clone();
    let existed = state
        .run(Work::Plain, move |e| Ok(e.delete_company(&key)?))
        .await?;
    if !existed {
        return Err(ApiError::not_found("company", &id));
    }
    state.touch_commit();
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/import/companies` (admin): JSON Lines or CSV, per-row report.
#[utoipa::path(post, path = "/v1/import/companies", operation_id = "importCompanies", tag = "companies",
    summary = "Bulk upload companies",
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
    let r =
        bulk::import::<Company>(&state, "companies", q, req, |e, v| e.upsert_companies(v)).await?;
    Ok(Json(r))
}
