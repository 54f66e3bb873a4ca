//! Company search: free text, filters, facets, sorting, paging, highlights.
//! Core applies the caller's role to every hit, total and facet.

use axum::extract::State;
use axum::Json;
use matcher_core::index::{Filters, SearchRequest, SearchResponse, Sort};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::state::{AppState, Work};

async fn run(state: AppState, caller: Caller, req: SearchRequest) -> ApiResult<SearchResponse> {
    let limits = state.limits();
    if req.limit == 0 || req.limit > limits.max_page {
        return Err(ApiError::invalid(
            "limit",
            format!(
                "limit {} is out of range 1..={}",
                req.limit, limits.max_page
            ),
        ));
    }
    let chars = req.query.chars().count();
    if chars > limits.max_query_chars {
        return Err(ApiError::invalid(
            "query",
            format!(
                "the query has {chars} characters; the limit is {}",
                limits.max_query_chars
            ),
        ));
    }
    let role = caller.core_role();
    state
        .run(Work::Plain, move |e| Ok(e.search(&req, role)?))
        .await
}

/// `POST /v1/search` with a SearchRequest.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SearchRequest>,
) -> ApiResult<Json<SearchResponse>> {
    run(state, caller, req).await.map(Json)
}

/// `GET /v1/search?q=…`: the common case without a body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub offset: usize,
    pub limit: Option<usize>,
    #[serde(default)]
    pub sort: Sort,
    pub facets: Option<bool>,
    pub highlight: Option<bool>,
    /// Snippets also as escaped HTML with `<em>` highlights (default false).
    pub formatted: Option<bool>,
    /// Comma-separated JSIC codes or cluster ids.
    pub jsic: Option<String>,
    #[serde(default)]
    pub exclude_stale: bool,
}

pub async fn search_get(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResponse>> {
    let d = SearchRequest::default();
    let req = SearchRequest {
        query: q.q,
        filters: Filters {
            jsic: q
                .jsic
                .map(|j| {
                    j.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            exclude_stale: q.exclude_stale,
            ..Filters::default()
        },
        sort: q.sort,
        offset: q.offset,
        limit: q.limit.unwrap_or(d.limit),
        facets: q.facets.unwrap_or(d.facets),
        highlight: q.highlight.unwrap_or(d.highlight),
        formatted: q.formatted.unwrap_or(d.formatted),
    };
    run(state, caller, req).await.map(Json)
}
