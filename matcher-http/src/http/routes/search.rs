//! Company search: free text, filters, facets, sorting, paging, highlights.
//! Core applies the caller's role to every hit, total and facet.

use axum::extract::State;
use axum::Json;
use matcher_core::index::{Filters, SearchRequest, SearchResponse, Sort};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::openapi::{BadRequest, Invalid, TooLarge, Unsupported};
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
#[utoipa::path(post, path = "/v1/search", operation_id = "search", tag = "search",
    summary = "Search companies",
    description = "Free text (words, \"phrases\", -exclusions), filters, facets, sorting, paging and highlights. Hits, totals and facets count only companies the key may see.",
    request_body = SearchRequest,
    responses((status = 200, description = "a page of hits", body = SearchResponse),
        BadRequest, TooLarge, Unsupported, Invalid))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SearchRequest>,
) -> ApiResult<Json<SearchResponse>> {
    run(state, caller, req).await.map(Json)
}

/// `GET /v1/search?q=…`: the common case without a body.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// the query
    #[serde(default)]
    pub q: String,
    /// hits to skip
    #[serde(default)]
    pub offset: usize,
    /// page size (default 20)
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// order
    #[serde(default)]
    #[param(inline)]
    pub sort: Sort,
    /// include facets (default true)
    pub facets: Option<bool>,
    /// include snippets (default true)
    pub highlight: Option<bool>,
    /// snippets also as escaped HTML with <em> around highlights (default false)
    pub formatted: Option<bool>,
    /// comma-separated JSIC codes or cluster ids
    pub jsic: Option<String>,
    /// drop stale profiles
    #[serde(default)]
    pub exclude_stale: bool,
}

#[utoipa::path(get, path = "/v1/search", operation_id = "searchGet", tag = "search",
    summary = "Search companies (query string)",
    description = "The common search without a body; filters other than JSIC need POST.",
    params(SearchQuery),
    responses((status = 200, description = "a page of hits", body = SearchResponse), Invalid))]
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
