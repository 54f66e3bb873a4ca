//! The endpoint table: every route with its method, path, access and
//! handler. The router, the auth layer and the OpenAPI document are all
//! built from this one table, so they cannot drift apart.

pub mod batch;
pub mod bulk;
pub mod companies;
pub mod health;
pub mod matching;
pub mod needs;
pub mod outcomes;
pub mod search;
pub mod taxonomy;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put, MethodRouter};
use serde::{Deserialize, Serialize};

use super::auth::Access;
use super::error::{ApiError, ApiResult};
use super::state::{AppState, Limits};

/// One route.
pub struct Endpoint {
    pub method: Method,
    /// axum path syntax (`/v1/companies/{id}`), which is also OpenAPI's.
    pub path: &'static str,
    pub access: Access,
    /// OpenAPI operationId; its documentation is in `openapi.rs`.
    pub operation_id: &'static str,
    pub handler: MethodRouter<AppState>,
    /// The handler keeps a deadline of its own and is not cut off by the
    /// request time limit (bulk imports: a commit must not be abandoned
    /// halfway with an answer that says nothing was done; see `bulk`).
    pub own_deadline: bool,
}

impl Endpoint {
    fn with_own_deadline(mut self) -> Self {
        self.own_deadline = true;
        self
    }
}

fn ep(
    method: Method,
    path: &'static str,
    access: Access,
    operation_id: &'static str,
    handler: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        access,
        operation_id,
        handler,
        own_deadline: false,
    }
}

/// Every route of the API.
pub fn endpoints(limits: &Limits) -> Vec<Endpoint> {
    use Access::*;
    let bulk = DefaultBodyLimit::max(limits.bulk_body);
    vec![
        ep(
            Method::GET,
            "/healthz",
            Open,
            "healthz",
            get(health::healthz),
        ),
        ep(Method::GET, "/readyz", Open, "readyz", get(health::readyz)),
        ep(
            Method::GET,
            "/metrics",
            Staff,
            "metrics",
            get(health::metrics),
        ),
        ep(
            Method::GET,
            "/openapi.json",
            Open,
            "openapi",
            get(health::openapi),
        ),
        // Companies
        ep(
            Method::GET,
            "/v1/companies",
            AnyKey,
            "listCompanies",
            get(companies::list),
        ),
        ep(
            Method::POST,
            "/v1/companies",
            Admin,
            "createCompany",
            post(companies::create),
        ),
        ep(
            Method::GET,
            "/v1/companies/{id}",
            AnyKey,
            "getCompany",
            get(companies::get_one),
        ),
        ep(
            Method::PUT,
            "/v1/companies/{id}",
            Admin,
            "replaceCompany",
            put(companies::replace),
        ),
        ep(
            Method::DELETE,
            "/v1/companies/{id}",
            Admin,
            "deleteCompany",
            delete(companies::remove),
        ),
        ep(
            Method::GET,
            "/v1/companies/{id}/opportunities",
            AnyKey,
            "companyOpportunities",
            get(matching::opportunities),
        ),
        ep(
            Method::POST,
            "/v1/import/companies",
            Admin,
            "importCompanies",
            post(companies::import).layer(bulk),
        )
        .with_own_deadline(),
        // Needs
        ep(
            Method::GET,
            "/v1/needs",
            AnyKey,
            "listNeeds",
            get(needs::list),
        ),
        ep(
            Method::POST,
            "/v1/needs",
            Staff,
            "createNeed",
            post(needs::create),
        ),
        ep(
            Method::GET,
            "/v1/needs/{id}",
            AnyKey,
            "getNeed",
            get(needs::get_one),
        ),
        ep(
            Method::PUT,
            "/v1/needs/{id}",
            Staff,
            "replaceNeed",
            put(needs::replace),
        ),
        ep(
            Method::DELETE,
            "/v1/needs/{id}",
            Staff,
            "deleteNeed",
            delete(needs::remove),
        ),
        ep(
            Method::GET,
            "/v1/needs/{id}/matches",
            AnyKey,
            "needMatches",
            get(matching::need_matches),
        ),
        ep(
            Method::POST,
            "/v1/import/needs",
            Admin,
            "importNeeds",
            post(needs::import).layer(bulk),
        )
        .with_own_deadline(),
        // Shortlists and outcomes (staff data)
        ep(
            Method::GET,
            "/v1/needs/{id}/shortlist",
            Staff,
            "getShortlist",
            get(outcomes::shortlist_get),
        ),
        ep(
            Method::POST,
            "/v1/needs/{id}/shortlist",
            Staff,
            "addToShortlist",
            post(outcomes::shortlist_add),
        ),
        ep(
            Method::GET,
            "/v1/outcomes",
            Staff,
            "listOutcomes",
            get(outcomes::events),
        ),
        ep(
            Method::POST,
            "/v1/outcomes",
            Staff,
            "recordOutcome",
            post(outcomes::record),
        ),
        ep(Method::GET, "/v1/kpis", Staff, "kpis", get(outcomes::kpis)),
        ep(
            Method::GET,
            "/v1/audit",
            Admin,
            "audit",
            get(outcomes::audit),
        ),
        // Search and matching
        ep(
            Method::POST,
            "/v1/search",
            AnyKey,
            "search",
            post(search::search),
        ),
        ep(
            Method::GET,
            "/v1/search",
            AnyKey,
            "searchGet",
            get(search::search_get),
        ),
        ep(
            Method::POST,
            "/v1/match",
            AnyKey,
            "matchAdhoc",
            post(matching::adhoc),
        ),
        ep(
            Method::POST,
            "/v1/batch",
            Staff,
            "startBatch",
            post(batch::start),
        ),
        ep(
            Method::GET,
            "/v1/batch/{id}",
            Staff,
            "getBatch",
            get(batch::status),
        ),
        ep(
            Method::GET,
            "/v1/batch/{id}/results",
            Staff,
            "batchResults",
            get(batch::results),
        ),
        ep(
            Method::DELETE,
            "/v1/batch/{id}",
            Staff,
            "cancelBatch",
            delete(batch::cancel),
        ),
        // Taxonomies
        ep(
            Method::GET,
            "/v1/taxonomy/jsic",
            AnyKey,
            "jsicTree",
            get(taxonomy::jsic),
        ),
        ep(
            Method::GET,
            "/v1/taxonomy/clusters",
            AnyKey,
            "jsicClusters",
            get(taxonomy::clusters),
        ),
        ep(
            Method::GET,
            "/v1/taxonomy/municipalities",
            AnyKey,
            "municipalities",
            get(taxonomy::municipalities),
        ),
    ]
}

/// Authenticate, authorize and rate-limit; put the [`super::auth::Caller`]
/// in the request's extensions for the handler.
///
/// Rate limiting (when configured, see [`super::state::RateLimiter`]) takes
/// one request from the caller's key's bucket after the key is checked,
/// and from the peer address's bucket when the key is missing or unknown,
/// so guessing keys is limited too. Open routes (probes, the OpenAPI
/// document) are never limited: an orchestrator's health checks must not
/// compete with clients.
pub async fn authorize(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    if access == Access::Open {
        return next.run(req).await;
    }
    let caller = match state.keys().authenticate(req.headers()) {
        Ok(c) => c,
        Err(e) => {
            if let Err(wait) = take_rate(&state, &peer_bucket(&req)) {
                return ApiError::rate_limited(wait).into_response();
            }
            return e.into_response();
        }
    };
    if let Err(wait) = take_rate(&state, &format!("key:{}", caller.key_hash)) {
        return ApiError::rate_limited(wait).into_response();
    }
    if !access.allows(caller.role) {
        return ApiError::forbidden(format!(
            "a {} key may not {} {}; this needs one of: {}",
            caller.role.as_str(),
            req.method(),
            req.uri().path(),
            access.roles().join(", ")
        ))
        .into_response();
    }
    tracing::Span::current().record("key", caller.name.as_str());
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// One request from `bucket`, if rate limiting is on.
fn take_rate(state: &AppState, bucket: &str) -> Result<(), u64> {
    match &state.inner.rate {
        Some(r) => r.take(bucket),
        None => Ok(()),
    }
}

/// The rate-limit bucket of a request without a valid key: its peer's IP
/// address (the port changes per connection). A router served without
/// connect info (see [`super::serve`]) puts all such requests in one bucket.
fn peer_bucket(req: &Request) -> String {
    match req
        .extensions()
        .get::<axum::extract::ConnectInfo<super::wire::Peer>>()
    {
        Some(ci) => format!("ip:{}", ci.0 .0.ip()),
        None => "ip:unknown".to_owned(),
    }
}

/// Wrap a handler with the endpoint's access check.
pub fn guarded(state: &AppState, e: Endpoint) -> MethodRouter<AppState> {
    e.handler.route_layer(middleware::from_fn_with_state(
        (state.clone(), e.access),
        authorize,
    ))
}

/// `offset` and `limit` of a list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    pub offset: usize,
    pub limit: Option<usize>,
}

impl PageQuery {
    /// (offset, limit) checked against the limits. Default limit 20.
    pub fn checked(&self, limits: &Limits) -> ApiResult<(usize, usize)> {
        let limit = self.limit.unwrap_or(20.min(limits.max_page));
        if limit == 0 || limit > limits.max_page {
            return Err(ApiError::invalid(
                "limit",
                format!("limit {limit} is out of range 1..={}", limits.max_page),
            ));
        }
        Ok((self.offset, limit))
    }
}

/// One page of records.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<T>,
}

/// What a create or replace did.
#[derive(Debug, Serialize)]
pub struct Written<T> {
    pub id: String,
    /// True when the record did not exist before.
    pub created: bool,
    /// Accepted with a note (e.g. a JSIC class missing from the bundled table).
    pub warnings: Vec<String>,
    /// The record as stored (certifications canonicalized).
    pub record: T,
}
