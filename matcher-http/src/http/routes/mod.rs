//! The endpoint table: every route with its access. The router, the auth
//! layer and the OpenAPI document are all built from this one table, so
//! they cannot drift apart. A route's path, method and documentation are
//! its handler's `#[utoipa::path(...)]` annotation, read here through
//! `utoipa_axum::routes!`: the path is written once, where the handler is.

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
use axum::routing::MethodRouter;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use super::auth::Access;
use super::error::{ApiError, ApiResult};
use super::state::{AppState, Limits};

/// One route.
pub struct Endpoint {
    pub method: Method,
    /// axum path syntax (`/v1/companies/{id}`), which is also OpenAPI's.
    pub path: String,
    pub access: Access,
    /// What the handler's annotation documents (operation id, parameters,
    /// body, answers); `openapi.rs` adds what [`Endpoint::access`] implies.
    pub operation: Operation,
    /// The schemas [`Endpoint::operation`] refers to, by name.
    pub schemas: Vec<(String, RefOr<Schema>)>,
    pub handler: MethodRouter<AppState>,
    /// The handler keeps a deadline of its own and is not cut off by the
    /// request time limit (bulk imports: a commit must not be abandoned
    /// halfway with an answer that says nothing was done; see `bulk`).
    pub own_deadline: bool,
}

impl Endpoint {
    /// The OpenAPI operationId (empty only if an annotation lacks one).
    pub fn operation_id(&self) -> &str {
        self.operation.operation_id.as_deref().unwrap_or("")
    }

    fn with_own_deadline(mut self) -> Self {
        self.own_deadline = true;
        self
    }

    fn with_body_limit(mut self, bytes: usize) -> Self {
        self.handler = self.handler.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

/// The one operation of a path item (`routes!` of one handler).
fn only_operation(item: PathItem) -> Option<(Method, Operation)> {
    [
        (Method::GET, item.get),
        (Method::POST, item.post),
        (Method::PUT, item.put),
        (Method::DELETE, item.delete),
        (Method::PATCH, item.patch),
        (Method::HEAD, item.head),
        (Method::OPTIONS, item.options),
        (Method::TRACE, item.trace),
    ]
    .into_iter()
    .find_map(|(m, op)| op.map(|op| (m, op)))
}

/// An endpoint from `routes!(handler)` of one annotated handler.
fn ep(access: Access, (schemas, paths, handler): UtoipaMethodRouter<AppState>) -> Endpoint {
    let (path, (method, operation)) = paths
        .paths
        .into_iter()
        .find_map(|(path, item)| only_operation(item).map(|op| (path, op)))
        // `#[utoipa::path]` does not compile without a path and a method;
        // `tests::one_operation_per_endpoint` checks this is never used.
        .unwrap_or_default();
    Endpoint {
        method,
        path,
        access,
        operation,
        schemas,
        handler,
        own_deadline: false,
    }
}

/// Every route of the API.
pub fn endpoints(limits: &Limits) -> Vec<Endpoint> {
    use Access::*;
    vec![
        ep(Open, routes!(health::healthz)),
        ep(Open, routes!(health::readyz)),
        ep(Staff, routes!(health::metrics)),
        ep(Open, routes!(health::openapi)),
        // Companies
        ep(AnyKey, routes!(companies::list)),
        ep(Admin, routes!(companies::create)),
        ep(AnyKey, routes!(companies::get_one)),
        ep(Admin, routes!(companies::replace)),
        ep(Admin, routes!(companies::remove)),
        ep(AnyKey, routes!(matching::opportunities)),
        ep(Admin, routes!(companies::import))
            .with_body_limit(limits.bulk_body)
            .with_own_deadline(),
        // Needs
        ep(AnyKey, routes!(needs::list)),
        ep(Staff, routes!(needs::create)),
        ep(AnyKey, routes!(needs::get_one)),
        ep(Staff, routes!(needs::replace)),
        ep(Staff, routes!(needs::remove)),
        ep(AnyKey, routes!(matching::need_matches)),
        ep(Admin, routes!(needs::import))
            .with_body_limit(limits.bulk_body)
            .with_own_deadline(),
        // Shortlists and outcomes (staff data)
        ep(Staff, routes!(outcomes::shortlist_get)),
        ep(Staff, routes!(outcomes::shortlist_add)),
        ep(Staff, routes!(outcomes::events)),
        ep(Staff, routes!(outcomes::record)),
        ep(Staff, routes!(outcomes::kpis)),
        ep(Admin, routes!(outcomes::audit)),
        // Search and matching
        ep(AnyKey, routes!(search::search)),
        ep(AnyKey, routes!(search::search_get)),
        ep(AnyKey, routes!(matching::adhoc)),
        ep(Staff, routes!(batch::start)),
        ep(Staff, routes!(batch::status)),
        ep(Staff, routes!(batch::results)),
        ep(Staff, routes!(batch::cancel)),
        // Taxonomies
        ep(AnyKey, routes!(taxonomy::jsic)),
        ep(AnyKey, routes!(taxonomy::clusters)),
        ep(AnyKey, routes!(taxonomy::municipalities)),
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
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// records to skip (default 0)
    #[serde(default)]
    pub offset: usize,
    /// page size (default 20)
    #[param(minimum = 1)]
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<T>,
}

/// What a create or replace did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Written<T> {
    pub id: String,
    /// True when the record did not exist before.
    pub created: bool,
    /// Accepted with a note (e.g. a JSIC class missing from the bundled table).
    pub warnings: Vec<String>,
    /// The record as stored (certifications canonicalized).
    pub record: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_operation_per_endpoint() {
        let table = endpoints(&Limits::default());
        let mut seen = std::collections::HashSet::new();
        for e in &table {
            assert!(e.path.starts_with('/'), "{} has no path", e.operation_id());
            assert!(
                !e.operation_id().is_empty(),
                "{} {} has no operationId",
                e.method,
                e.path
            );
            assert!(
                seen.insert((e.method.clone(), e.path.clone())),
                "{} {} twice",
                e.method,
                e.path
            );
        }
        let ids: std::collections::HashSet<&str> = table.iter().map(|e| e.operation_id()).collect();
        assert_eq!(ids.len(), table.len(), "operation ids are unique");
    }
}
