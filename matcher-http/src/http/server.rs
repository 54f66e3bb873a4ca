//! The lifecycle of `matcher serve`: bind, open the data folder off the
//! async threads (answering `/readyz` 503 meanwhile), serve, then on
//! SIGTERM or Ctrl-C finish in-flight requests, stop batch jobs and save
//! the snapshot. What it opened is handed to the caller as [`Started`]
//! rather than printed here, so the banner belongs to the CLI and an
//! embedder's stdout stays its own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::HeaderValue;
use matcher_core::matching::MatchConfig;
use matcher_core::{fixtures, Context, Engine};

use super::auth::{ApiKeys, NewKey};
use super::state::AppState;
use super::{config, router, wire};

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

/// What a started server opened, for the caller to announce.
#[derive(Debug, Clone)]
pub struct Started {
    /// The bound address (the port chosen when the config asked for 0).
    pub addr: SocketAddr,
    /// The key file read (or created).
    pub key_file: PathBuf,
    /// Keys created at this start (the only time they are seen in clear).
    pub new_keys: Vec<NewKey>,
    /// Companies and needs in the index once open.
    pub companies: usize,
    pub needs: usize,
    /// Set when the folder was empty and the bundled fixtures were loaded:
    /// (companies, needs, rejected rows).
    pub loaded_fixtures: Option<(usize, usize, usize)>,
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

/// What [`open_engine`] opened.
struct Opened {
    engine: Engine,
    outcomes: matcher_core::outcomes::Outcomes,
    audit: matcher_core::audit::Audit,
    /// See [`Started::loaded_fixtures`].
    loaded_fixtures: Option<(usize, usize, usize)>,
}

/// The engine and the journals of the data folder (outcomes, audit).
fn open_engine(config: &ServeConfig, matching: MatchConfig) -> Result<Opened, BoxError> {
    let ctx = Context::load(&config.fixtures_dir)?;
    let engine = Engine::open(&config.data_dir, Arc::new(ctx))?.with_match_config(matching);
    // The server is the folder's one writer from its start: an import
    // beside it is refused (write through the API instead).
    engine.lock_for_writing()?;
    let (companies, needs) = engine.counts();
    let mut loaded = None;
    if companies == 0 && needs == 0 {
        let l = fixtures::load_into(&engine, &config.fixtures_dir)?;
        tracing::info!(
            companies = l.companies,
            needs = l.needs,
            rejected = l.rejected,
            "the data folder was empty: loaded the bundled fixtures"
        );
        loaded = Some((l.companies, l.needs, l.rejected));
    }
    let outcomes = matcher_core::outcomes::Outcomes::open(&config.data_dir)?;
    let audit = matcher_core::audit::Audit::open(&config.data_dir)?;
    Ok(Opened {
        engine,
        outcomes,
        audit,
        loaded_fixtures: loaded,
    })
}

/// Run the server until SIGTERM or Ctrl-C: open the engine (loading the
/// fixtures into an empty data folder), load or create the keys, serve,
/// then finish in-flight requests, stop batch jobs and save the snapshot.
/// `on_started` is called once the index is open (the CLI prints the keys
/// and the address there).
pub async fn serve(
    config: ServeConfig,
    log_format: config::LogFormat,
    on_started: impl FnOnce(&Started) + Send + 'static,
) -> Result<(), BoxError> {
    init_tracing(log_format);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let announce = tokio::spawn(async move {
        if let Ok(s) = rx.await {
            on_started(&s);
        }
    });
    let served = serve_until(config, shutdown_signal(), Some(tx)).await;
    let _ = announce.await;
    served
}

/// [`serve`] with another shutdown trigger, telling `ready` what it
/// started (the bound address first) once the index is open (tests,
/// embedding).
pub async fn serve_until(
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: Option<tokio::sync::oneshot::Sender<Started>>,
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
        .with_limits(config::limits_from_env(&file)?)
        .with_cors_origins(config.cors_origins.clone());

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let local: SocketAddr = listener.local_addr()?;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    // Connect info: requests without a valid key are rate-limited by address.
    let app = router::router(state.clone()).into_make_service_with_connect_info::<wire::Peer>();
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
    let (engine, loaded_fixtures) = match opened {
        Ok(o) => {
            state.set_stores(Arc::new(o.outcomes), Arc::new(o.audit));
            (Arc::new(o.engine), o.loaded_fixtures)
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

    let (companies, needs) = engine.counts();
    tracing::info!(addr = %local, companies, needs, "ready");
    if let Some(tx) = ready {
        let _ = tx.send(Started {
            addr: local,
            key_file: key_path,
            new_keys,
            companies,
            needs,
            loaded_fixtures,
        });
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
