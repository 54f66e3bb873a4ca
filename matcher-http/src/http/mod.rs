//! The REST facade: axum routes over `matcher-core`, versioned under `/v1`.
//!
//! - [`routes`]: the endpoint table (method, path, access, handler) from
//!   which the router, the auth layer and the OpenAPI document are built;
//! - [`auth`]: API keys (stored hashed) and roles — admin writes,
//!   coordinator reads everything, portal reads public records only;
//! - [`error`]: [`ApiError`], answered as `application/problem+json`;
//! - [`extract`]: JSON, query and path extractors whose rejections are problems;
//! - [`jobs`]: background batch matching; [`metrics`]: Prometheus text;
//! - [`openapi`]: the OpenAPI 3 document served at `/openapi.json`;
//! - [`wire`]: the connection under hyper, so that the errors hyper answers
//!   itself (URL or headers too large, unparsable requests) are problems too.
//!
//! Handlers are thin: they check the request, call the engine on the
//! blocking pool ([`AppState`] holds an `Arc<Engine>`) and serialize core's
//! types as they are.

pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use matcher_core::matching::MatchConfig;
use matcher_core::{fixtures, Context, Engine};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use auth::{ApiKeys, KeyRole};
pub use error::ApiError;
pub use state::{AppState, Limits, RateLimit};

/// The header carrying the request id (set when the client sends none).
pub const REQUEST_ID: &str = "x-request-id";

/// What `matcher serve` needs.
pub struct ServeConfig {
    pub addr: std::net::SocketAddr,
    pub data_dir: std::path::PathBuf,
    pub fixtures_dir: std::path::PathBuf,
    /// Key file (see [`auth`] for the format); default `DATA_DIR/keys.tsv`,
    /// created with one new key per role when missing.
    pub key_file: Option<std::path::PathBuf>,
    /// Allowed CORS origins (`*` for any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Matching configuration (TOML, see `config/matcher.toml`).
    pub match_config: Option<std::path::PathBuf>,
}

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
        let path = e.path;
        let own_deadline = e.own_deadline;
        let mut handler = routes::guarded(&state, e);
        if !own_deadline {
            handler =
                handler.route_layer(middleware::from_fn_with_state(state.clone(), time_limit));
        }
        r = r.route(path, handler);
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

/// Structured logs on stderr: `RUST_LOG` filters (default `info`);
/// `format` chooses human lines or one JSON object per line
/// (`MATCHER_LOG=json` still selects JSON, as before `--log-format`).
pub fn init_tracing(format: config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tantivy=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = format == config::LogFormat::Json
        || std::env::var("MATCHER_LOG").is_ok_and(|v| v == "json");
    let _ = if json {
        builder.json().with_ansi(false).try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Unix time of the newest index commit in `dir` (the tantivy meta files).
fn index_mtime(dir: &Path) -> Option<u64> {
    ["companies/meta.json", "needs/meta.json"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok()?.modified().ok())
        .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .max()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The engine and the journals of the data folder (outcomes, audit).
fn open_engine(
    config: &ServeConfig,
    matching: MatchConfig,
) -> Result<
    (
        Engine,
        matcher_core::outcomes::Outcomes,
        matcher_core::audit::Audit,
    ),
    BoxError,
> {
    let mut ctx = Context::load(&config.fixtures_dir)?;
    ctx.match_config = matching;
    let engine = Engine::open(&config.data_dir, Arc::new(ctx))?;
    // The server is the folder's one writer from its start: an import
    // beside it is refused (write through the API instead).
    engine.lock_for_writing()?;
    let (companies, needs) = engine.counts();
    if companies == 0 && needs == 0 {
        let l = fixtures::load_into(&engine, &config.fixtures_dir)?;
        println!(
            "matcher: the data folder {} was empty: loaded the bundled fixtures from {} ({} companies, {} needs, {} rejected)",
            config.data_dir.display(),
            config.fixtures_dir.display(),
            l.companies,
            l.needs,
            l.rejected
        );
    } else {
        println!(
            "matcher: opened {} ({companies} companies, {needs} needs)",
            config.data_dir.display()
        );
    }
    let outcomes = matcher_core::outcomes::Outcomes::open(&config.data_dir)?;
    let audit = matcher_core::audit::Audit::open(&config.data_dir)?;
    Ok((engine, outcomes, audit))
}

/// Limits from the environment over the configuration file's:
/// `MATCHER_RATE_LIMIT` (`N` requests per second per key, or `N/BURST`;
/// `off` turns off a limit the file sets; unset: the file's
/// `[server.rate_limit]`, else off), `MATCHER_REQUEST_TIMEOUT` (seconds,
/// default 30) and `MATCHER_QUEUE_PER_CORE` (matches waiting per core,
/// default 32).
fn limits_from_env(file: &config::FileConfig) -> Result<Limits, BoxError> {
    let mut limits = Limits {
        rate_limit: file.rate_limit,
        ..Limits::default()
    };
    if let Ok(v) = std::env::var("MATCHER_RATE_LIMIT") {
        let v = v.trim();
        if v.eq_ignore_ascii_case("off") {
            limits.rate_limit = None;
        } else if !v.is_empty() {
            limits.rate_limit = Some(RateLimit::parse(v)?);
        }
    }
    if let Ok(v) = std::env::var("MATCHER_REQUEST_TIMEOUT") {
        let secs: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("MATCHER_REQUEST_TIMEOUT={v:?}: expected seconds"))?;
        if !(secs.is_finite() && secs > 0.0) {
            return Err(format!("MATCHER_REQUEST_TIMEOUT={v:?}: must be positive").into());
        }
        limits.request_timeout = std::time::Duration::from_secs_f64(secs);
    }
    if let Ok(v) = std::env::var("MATCHER_QUEUE_PER_CORE") {
        limits.queue_per_core = v
            .trim()
            .parse()
            .map_err(|_| format!("MATCHER_QUEUE_PER_CORE={v:?}: expected a whole number"))?;
    }
    Ok(limits)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Run the server until SIGTERM or Ctrl-C: open the engine (loading the
/// fixtures into an empty data folder), load or create the keys, serve,
/// then finish in-flight requests, stop batch jobs and save the snapshot.
pub async fn serve(config: ServeConfig, log_format: config::LogFormat) -> Result<(), BoxError> {
    init_tracing(log_format);
    serve_until(config, shutdown_signal(), None).await
}

/// [`serve`] with another shutdown trigger, telling `ready` the bound
/// address once the index is open (tests, embedding).
pub async fn serve_until(
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<(), BoxError> {
    for o in &config.cors_origins {
        if o != "*" && HeaderValue::from_str(o).is_err() {
            return Err(format!("--cors-origin {o:?} is not a valid origin").into());
        }
    }
    let key_path = config
        .key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("keys.tsv"));
    let (keys, new_keys) = ApiKeys::load_or_create(&key_path)?;
    let file = config::FileConfig::load_or_default(config.match_config.as_deref())?;
    let state = AppState::pending(keys)
        .with_limits(limits_from_env(&file)?)
        .with_cors_origins(config.cors_origins.clone());

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let local: SocketAddr = listener.local_addr()?;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    // Connect info: requests without a valid key are rate-limited by address.
    let app = router(state.clone()).into_make_service_with_connect_info::<wire::Peer>();
    let server = tokio::spawn(async move {
        axum::serve(wire::ProblemListener::new(listener), app)
            .with_graceful_shutdown(async move {
                tokio::select! {
                    _ = shutdown => {},
                    _ = stop_rx.changed() => {},
                }
                tracing::info!("shutting down: finishing in-flight requests");
            })
            .await
    });
    tracing::info!(addr = %local, "listening; opening the index");

    let config = Arc::new(config);
    let cfg = config.clone();
    let matching = file.matching;
    let opened = tokio::task::spawn_blocking(move || open_engine(&cfg, matching))
        .await
        .map_err(|e| -> BoxError { format!("opening the index panicked: {e}").into() })
        .and_then(|r| r);
    let engine = match opened {
        Ok((e, outcomes, audit)) => {
            state.set_stores(Arc::new(outcomes), Arc::new(audit));
            Arc::new(e)
        }
        Err(e) => {
            let _ = stop_tx.send(true);
            let _ = server.await;
            return Err(e);
        }
    };
    if let Some(t) = index_mtime(&config.data_dir) {
        state.set_last_commit(t);
    }
    state.set_engine(engine.clone());

    let host = if local.ip().is_unspecified() {
        format!("127.0.0.1:{}", local.port())
    } else {
        local.to_string()
    };
    let try_key = if new_keys.is_empty() {
        println!(
            "matcher: API keys from {} (stored hashed; use one of yours below)",
            key_path.display()
        );
        "$MATCHER_KEY".to_owned()
    } else {
        println!(
            "matcher: created {} with three API keys. They are stored hashed and shown only now:",
            key_path.display()
        );
        for k in &new_keys {
            println!("  {:<12} {}", k.role.as_str(), k.key);
        }
        new_keys
            .iter()
            .find(|k| k.role == KeyRole::Coordinator)
            .map(|k| k.key.clone())
            .unwrap_or_default()
    };
    println!("matcher: listening on http://{local} (API description: http://{host}/openapi.json)");
    let auth = if try_key.starts_with('$') {
        format!("\"Authorization: Bearer {try_key}\"")
    } else {
        shell_quote(&format!("Authorization: Bearer {try_key}"))
    };
    println!("try:");
    println!(
        "  curl -s -H {auth} -H 'Content-Type: application/json' -d '{{\"query\":\"5軸 マシニング\",\"limit\":3}}' http://{host}/v1/search"
    );

    if let Some(tx) = ready {
        let _ = tx.send(local);
    }
    let served = server.await;
    state.cancel_jobs();
    state.inner.jobs.wait_idle().await;
    let saved = tokio::task::spawn_blocking(move || engine.save_snapshot()).await;
    match served {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("server error: {e}").into()),
        Err(e) => return Err(format!("server task failed: {e}").into()),
    }
    match saved {
        Ok(Ok(())) => {
            tracing::info!("snapshot saved; bye");
            Ok(())
        }
        Ok(Err(e)) => Err(format!("saving the snapshot: {e}").into()),
        Err(e) => Err(format!("saving the snapshot panicked: {e}").into()),
    }
}

/// For tests and embedding: the data folder's default key file.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("keys.tsv")
}
