//! Matching: candidates for a stored need or an ad-hoc one, mutual
//! matches, opportunities for a company. Each calls core once, with the
//! caller's role: core runs it on one view and applies privacy there.

use std::time::Instant;

use axum::extract::State;
use axum::Json;
use matcher_core::matching::{MatchOptions, MatchResult, Opportunity};
use matcher_core::model::{validate, NeedDraft};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, PathId};
use crate::http::openapi::{BadRequest, Invalid, NotFound, TooLarge, Unsupported};
use crate::http::state::{AppState, Work};

/// Rank by the one-way score (default) or the mutual score (implies mutual).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    Score,
    Mutual,
}

/// Options of a match request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// how many (default 10)
    #[param(minimum = 1)]
    pub top_k: Option<usize>,
    /// also compute reciprocal scores (implied by `rank_by=mutual`)
    #[serde(default)]
    pub mutual: bool,
    /// rank by the one-way score (default) or the mutual score (implies mutual)
    #[serde(default)]
    #[param(inline)]
    pub rank_by: RankBy,
    /// include evidence and the "why you" sentence (default true)
    pub explain: Option<bool>,
}

impl MatchQuery {
    fn options(&self, state: &AppState) -> ApiResult<MatchOptions> {
        let max = state.limits().max_top_k;
        let top_k = self.top_k.unwrap_or(10);
        if top_k == 0 || top_k > max {
            return Err(ApiError::invalid(
                "top_k",
                format!("top_k {top_k} is out of range 1..={max}"),
            ));
        }
        let by_mutual = self.rank_by == RankBy::Mutual;
        Ok(MatchOptions {
            top_k,
            mutual: self.mutual || by_mutual,
            rank_by_mutual: by_mutual,
            explain: self.explain.unwrap_or(true),
            ..MatchOptions::default()
        })
    }
}

/// `GET /v1/needs/{id}/matches`.
#[utoipa::path(get, path = "/v1/needs/{id}/matches", operation_id = "needMatches", tag = "matching",
    summary = "Matches for a stored need",
    description = "Candidate partners for a stored need, best first, with signals and explanations; mutual scores on request.",
    params(("id" = String, Path, description = "the need's id"), MatchQuery),
    responses((status = 200, description = "ranked candidates", body = MatchResult), NotFound, Invalid))]
pub async fn need_matches(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<MatchQuery>,
) -> ApiResult<Json<MatchResult>> {
    let opts = q.options(&state)?;
    let role = caller.core_role();
    let key = id.clone();
    let metrics = state.clone();
    let found = state
        .run(Work::Matching, move |e| {
            let start = Instant::now();
            let r = e.matcher().match_need_id(&key, role, &opts)?;
            if let Some(m) = &r {
                metrics.metrics().matched(
                    "need",
                    start.elapsed().as_secs_f64(),
                    Some(m.candidates),
                );
            }
            Ok(r)
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found("need", &id))
}

/// `POST /v1/match`: a need in the body (interchange shape, id optional).
#[utoipa::path(post, path = "/v1/match", operation_id = "matchAdhoc", tag = "matching",
    summary = "Matches for an ad-hoc need",
    description = "Candidates for a need given in the body (interchange shape, id optional).",
    params(MatchQuery),
    request_body = NeedDraft,
    responses((status = 200, description = "ranked candidates", body = MatchResult),
        BadRequest, TooLarge, Unsupported, Invalid))]
pub async fn adhoc(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MatchQuery>,
    ApiJson(draft): ApiJson<NeedDraft>,
) -> ApiResult<Json<MatchResult>> {
    let opts = q.options(&state)?;
    let role = caller.core_role();
    let metrics = state.clone();
    let r = state
        .run(Work::Matching, move |e| {
            let mut need = draft.into_need();
            validate::need(&mut need, &e.ctx.taxonomy)?;
            let start = Instant::now();
            let r = e.matcher().match_need(&need, role, &opts)?;
            metrics
                .metrics()
                .matched("adhoc", start.elapsed().as_secs_f64(), Some(r.candidates));
            Ok(r)
        })
        .await?;
    Ok(Json(r))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OpportunityQuery {
    /// how many (default 10)
    #[param(minimum = 1)]
    pub top_k: Option<usize>,
    /// include evidence (default true)
    pub explain: Option<bool>,
}

/// `GET /v1/companies/{id}/opportunities`: open needs the company could serve.
#[utoipa::path(get, path = "/v1/companies/{id}/opportunities", operation_id = "companyOpportunities", tag = "matching",
    summary = "Opportunities for a company",
    description = "Open needs the company could serve, best first, with its rank among the candidates the key may see.",
    params(("id" = String, Path, description = "the company's id"), OpportunityQuery),
    responses((status = 200, description = "opportunities", body = Vec<Opportunity>), NotFound, Invalid))]
pub async fn opportunities(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<OpportunityQuery>,
) -> ApiResult<Json<Vec<Opportunity>>> {
    let opts = MatchQuery {
        top_k: q.top_k,
        mutual: false,
        rank_by: RankBy::Score,
        explain: q.explain,
    }
    .options(&state)?;
    let role = caller.core_role();
    let key = id.clone();
    let metrics = state.clone();
    let found = state
        .run(Work::Matching, move |e| {
            let start = Instant::now();
            let r = e.matcher().opportunities(&key, role, &opts)?;
            // Opportunities rank needs, not candidate companies: no count.
            metrics
                .metrics()
                .matched("opportunities", start.elapsed().as_secs_f64(), None);
            Ok(r)
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found("company", &id))
}
