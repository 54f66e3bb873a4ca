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
use crate::http::state::{AppState, Work};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    Score,
    Mutual,
}

/// Options of a match request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchQuery {
    pub top_k: Option<usize>,
    /// Compute reciprocal scores (implied by `rank_by=mutual`).
    #[serde(default)]
    pub mutual: bool,
    #[serde(default)]
    pub rank_by: RankBy,
    /// Include the evidence and the "why you" sentence (default true).
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
            let r = e.match_need_id(&key, role, &opts)?;
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
            let r = e.match_need(&need, role, &opts)?;
            metrics
                .metrics()
                .matched("adhoc", start.elapsed().as_secs_f64(), Some(r.candidates));
            Ok(r)
        })
        .await?;
    Ok(Json(r))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpportunityQuery {
    pub top_k: Option<usize>,
    pub explain: Option<bool>,
}

/// `GET /v1/companies/{id}/opportunities`: open needs the company could serve.
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
            let r = e.opportunities(&key, role, &opts)?;
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
