//! Shortlists, outcome moves, KPIs and the audit trail: staff data.
//!
//! Coordinator and admin keys only (a portal key gets 403 before anything
//! is looked up, so these routes reveal nothing about restricted records to
//! it). Every write names its author (the key's name) and is on disk before
//! the answer; the state machine is core's (`outcomes::stage`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use matcher_core::audit::AuditEntry;
use matcher_core::model::RecordId;
use matcher_core::outcomes::{
    Change, DeclineReason, Event, GroupBy, KpiRow, Pair, PeriodKind, Request, Stage,
};
use matcher_core::{Engine, Role};
use serde::{Deserialize, Serialize};

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, PathId};
use crate::http::openapi::{
    BadRequest, IllegalTransition, Invalid, NotFound, TooLarge, Unsupported,
};
use crate::http::state::{AppState, Work};

/// A need's shortlist.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Shortlist {
    pub need_id: String,
    pub items: Vec<Pair>,
}

/// `POST /v1/needs/{id}/shortlist` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortlistAdd {
    pub company_id: RecordId,
    #[serde(default)]
    pub note: String,
}

/// `POST /v1/outcomes` body: a move (`to`) or, without `to`, a note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    pub need_id: RecordId,
    pub company_id: RecordId,
    #[serde(default)]
    #[schema(nullable = false)]
    pub to: Option<Stage>,
    #[serde(default)]
    #[schema(nullable = false)]
    pub reason: Option<DeclineReason>,
    #[serde(default)]
    pub text: String,
}

/// Check that the need and the company exist for `role`, then record the
/// change and return the pair as it now stands. Shared by the REST routes
/// and the console, so both refuse the same things the same way.
pub(crate) fn record_checked(
    engine: &Engine,
    state: &AppState,
    caller: &Caller,
    need_id: RecordId,
    company_id: RecordId,
    change: Change,
) -> ApiResult<Pair> {
    let role = caller.core_role();
    // Both checks on one view.
    let v = engine.view();
    if v.need(need_id.as_str(), role).is_none() {
        return Err(ApiError::not_found("need", need_id.as_str()));
    }
    if v.company(company_id.as_str(), role)?.is_none() {
        return Err(ApiError::not_found("company", company_id.as_str()));
    }
    let outcomes = state.outcomes()?;
    outcomes.record(Request {
        who: caller.name.clone(),
        need_id: need_id.clone(),
        company_id: Some(company_id.clone()),
        change,
    })?;
    outcomes
        .shortlist(need_id.as_str())
        .into_iter()
        .find(|p| p.company_id == company_id)
        .ok_or_else(|| ApiError::internal("a recorded pair is missing from its shortlist"))
}

/// The shortlist of a need the caller may read (404 otherwise).
pub(crate) fn shortlist_of(
    engine: &Engine,
    state: &AppState,
    need_id: &str,
    role: Role,
) -> ApiResult<Shortlist> {
    if engine.need(need_id, role).is_none() {
        return Err(ApiError::not_found("need", need_id));
    }
    Ok(Shortlist {
        need_id: need_id.to_owned(),
        items: state.outcomes()?.shortlist(need_id),
    })
}

/// `GET /v1/needs/{id}/shortlist`.
#[utoipa::path(get, path = "/v1/needs/{id}/shortlist", operation_id = "getShortlist", tag = "outcomes",
    summary = "A need's shortlist",
    description = "The need's shortlist: every proposed pair with its stage, note and history.",
    params(("id" = String, Path, description = "the need's id")),
    responses((status = 200, description = "the shortlist", body = Shortlist), NotFound))]
pub async fn shortlist_get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Shortlist>> {
    let st = state.clone();
    let role = caller.core_role();
    let list = state
        .run(Work::Plain, move |e| shortlist_of(e, &st, &id, role))
        .await?;
    Ok(Json(list))
}

/// `POST /v1/needs/{id}/shortlist`: 201 with the pair at 提案.
#[utoipa::path(post, path = "/v1/needs/{id}/shortlist", operation_id = "addToShortlist", tag = "outcomes",
    summary = "Shortlist a candidate",
    description = "Propose a candidate for the need (stage 提案), with a note. Recorded durably with the key's name and the time.",
    params(("id" = String, Path, description = "the need's id")),
    request_body = ShortlistAdd,
    responses((status = 201, description = "the pair", body = Pair),
        BadRequest, NotFound, IllegalTransition, TooLarge, Unsupported, Invalid))]
pub async fn shortlist_add(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<ShortlistAdd>,
) -> ApiResult<Response> {
    let need: RecordId = id.parse().map_err(|e: String| ApiError::invalid("id", e))?;
    let st = state.clone();
    let pair = state
        .run(Work::Plain, move |e| {
            record_checked(
                e,
                &st,
                &caller,
                need,
                body.company_id,
                Change::Moved {
                    to: Stage::Proposed,
                    reason: None,
                    text: body.note,
                },
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(pair)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// events of one need
    pub need_id: Option<String>,
    /// events after this seq (default 0; paging: the last `seq` seen)
    #[serde(default)]
    pub after: u64,
    /// page size (default 100)
    #[param(minimum = 1)]
    pub limit: Option<usize>,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventsPage {
    pub items: Vec<Event>,
    /// Pass as `after` for the next page; absent at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next_after: Option<u64>,
}

/// `GET /v1/outcomes`: the event log, oldest first.
#[utoipa::path(get, path = "/v1/outcomes", operation_id = "listOutcomes", tag = "outcomes",
    summary = "Outcome events",
    description = "The outcome event log, oldest first; page with `after` = the last `seq` seen.",
    params(EventsQuery),
    responses((status = 200, description = "events", body = EventsPage), Invalid))]
pub async fn events(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventsPage>> {
    let max = state.limits().max_page;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > max {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {max}, got {limit}"),
        ));
    }
    let items = state
        .outcomes()?
        .events(q.need_id.as_deref(), q.after, limit + 1);
    let more = items.len() > limit;
    let items: Vec<Event> = items.into_iter().take(limit).collect();
    let next_after = if more {
        items.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(EventsPage { items, next_after }))
}

/// `POST /v1/outcomes`: move a pair (or note on it); 201 with the pair.
#[utoipa::path(post, path = "/v1/outcomes", operation_id = "recordOutcome", tag = "outcomes",
    summary = "Record an outcome",
    description = "Move a shortlisted pair one stage forward (`to`), or decline it (`to: declined` with a `reason`; `other` needs `text`), or, without `to`, add a note. An illegal move is 409 `illegal-transition` naming what to record first.",
    request_body = OutcomeBody,
    responses((status = 201, description = "the pair as it now stands", body = Pair),
        BadRequest, NotFound, IllegalTransition, TooLarge, Unsupported, Invalid))]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<OutcomeBody>,
) -> ApiResult<Response> {
    let change = match b.to {
        Some(to) => Change::Moved {
            to,
            reason: b.reason,
            text: b.text,
        },
        None if b.reason.is_some() => {
            return Err(ApiError::invalid(
                "reason",
                "is given only with `to: declined`",
            ))
        }
        None => Change::Note { text: b.text },
    };
    let st = state.clone();
    let pair = state
        .run(Work::Plain, move |e| {
            record_checked(e, &st, &caller, b.need_id, b.company_id, change)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(pair)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// default month
    #[serde(default)]
    #[param(inline)]
    pub period: PeriodKind,
    /// default all
    #[serde(default)]
    #[param(inline)]
    pub by: GroupBy,
}

/// `GET /v1/kpis`: the KPI table.
#[utoipa::path(get, path = "/v1/kpis", operation_id = "kpis", tag = "outcomes",
    summary = "KPIs",
    description = "Needs received, proposals, contacts, meetings, deals (成約件数), conversions and median days need→deal, per month or Japanese fiscal year (April–March, Japan time), overall or per coordinator key.",
    params(KpiQuery),
    responses((status = 200, description = "KPI rows, oldest period first", body = Vec<KpiRow>), Invalid))]
pub async fn kpis(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<Vec<KpiRow>>> {
    Ok(Json(state.outcomes()?.kpis(q.period, q.by)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// reads of one company
    pub company_id: Option<String>,
    /// at most (default 100)
    #[param(minimum = 1)]
    pub limit: Option<usize>,
}

/// `GET /v1/audit` (admin): reads of restricted profiles, newest first.
#[utoipa::path(get, path = "/v1/audit", operation_id = "audit", tag = "outcomes",
    summary = "Audit of restricted profiles",
    description = "Who read a restricted company's profile, when and through what (console or API), newest first.",
    params(AuditQuery),
    responses((status = 200, description = "audit entries", body = Vec<AuditEntry>), Invalid))]
pub async fn audit(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = q.limit.unwrap_or(100).min(state.limits().max_page);
    Ok(Json(state.audit()?.recent(q.company_id.as_deref(), limit)))
}

/// Log a staff read of a restricted profile (console or API). Fails
/// closed: a read that cannot be logged is not answered.
pub(crate) fn audit_read(
    state: &AppState,
    caller: &Caller,
    company_id: &str,
    via: &str,
) -> ApiResult<()> {
    let entry = AuditEntry {
        at: matcher_core::journal::now_unix(),
        who: caller.name.clone(),
        role: caller.role.as_str().to_owned(),
        company_id: company_id.to_owned(),
        via: via.to_owned(),
    };
    state
        .audit()?
        .record(entry)
        .map_err(|e| ApiError::internal(format!("cannot write the audit trail: {e}")))
}
