//! The axum router: every endpoint of the table in [`super::routes`] with
//! its access check and time limit, the console beside the API, and the
//! layers every request passes (request id, trace span, CORS, metrics,
//! body limit, a panic answered as a problem).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use super::error::{self, ApiError};
use super::state::AppState;
use super::{metrics, routes};

/// The header carrying the request id (set when the client sends none).
pub const REQUEST_ID: &str = "x-request-id";

/// A new request id: a per-process random prefix and a counter (shared by
/// the router and [`wire`], so ids are unique across both).
pub(crate) fn next_request_id() -> String {
    static IDS: OnceLock<(String, AtomicU64)> = OnceLock::new();
    let (prefix, next) = IDS.get_or_init(|| {
        let r: u32 = rand::random();
        (format!("{r:08x}"), AtomicU64::new(1))
    });
    let n = next.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{n:06}")
}

/// Request ids for requests that come without one.
#[derive(Clone)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&next_request_id())
            .ok()
            .map(RequestId::new)
    }
}

async fn not_found_route(req: Request) -> ApiError {
    ApiError::new(
        error::Kind::NotFound,
        format!(
            "no route {}; see /openapi.json for the routes",
            req.uri().path()
        ),
    )
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        error::Kind::MethodNotAllowed,
        format!(
            "{} is not allowed on {}; see /openapi.json",
            req.method(),
            req.uri().path()
        ),
    )
}

/// Answer 503 `timeout` when a request runs past the limit (every route
/// but those with [`routes::Endpoint::own_deadline`]).
async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.limits().request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::timeout(limit).into_response(),
    }
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static(REQUEST_ID),
        ])
        .expose_headers([
            HeaderName::from_static(REQUEST_ID),
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("x-batch-status"),
        ])
        .max_age(std::time::Duration::from_secs(600));
    if origins.iter().any(|o| o == "*") {
        return Some(layer.allow_origin(Any));
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o.trim_end_matches('/')) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring a CORS origin that is not a header value");
                None
            }
        })
        .collect();
    Some(layer.allow_origin(AllowOrigin::list(list)))
}

/// The whole API as an axum router (tests start it on 127.0.0.1:0).
pub fn router(state: AppState) -> Router {
    let limits = state.limits().clone();
    let mut r: Router<AppState> = Router::new();
    for e in routes::endpoints(&limits) {
        let path = e.path.clone();
        let own_deadline = e.own_deadline;
        let mut handler = routes::guarded(&state, e);
        if !own_deadline {
            handler =
                handler.route_layer(middleware::from_fn_with_state(state.clone(), time_limit));
        }
        r = r.route(&path, handler);
    }
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|m| m.as_str())
                .unwrap_or("unmatched");
            tracing::info_span!(
                "request",
                request_id = %id,
                method = %req.method(),
                route = %route,
                key = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
        // Statuses are in the response line; server errors are logged where they happen.
        .on_failure(());
    // The coordinator console (HTML, its own log-in) beside the API.
    let r = r.merge(crate::console::router());
    let mut r = r
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(limits.json_body))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a handler panicked").into_response()
            },
        ));
    if let Some(c) = cors_layer(&state.inner.cors_origins) {
        r = r.layer(c);
    }
    let id = HeaderName::from_static(REQUEST_ID);
    r.layer(PropagateRequestIdLayer::new(id.clone()))
        .layer(trace)
        .layer(SetRequestIdLayer::new(id, MakeId))
        .with_state(state)
}
