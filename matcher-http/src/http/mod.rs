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
//!   itself (URL or headers too large, unparsable requests) are problems too;
//! - [`router`]: the axum router and its layers (request ids, time limit,
//!   CORS, metrics, panics as problems);
//! - [`server`]: the lifecycle of `matcher serve` (open, serve, drain,
//!   save), telling the caller what it opened so that the CLI prints it;
//! - [`config`]: the `[server]` table of the configuration file and the
//!   limits from the environment.
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
pub mod router;
pub mod routes;
pub mod server;
pub mod state;
pub mod wire;

pub use auth::{ApiKeys, KeyRole};
pub use error::ApiError;
pub(crate) use router::next_request_id;
pub use router::{router, REQUEST_ID};
pub use server::{default_key_file, init_tracing, serve, serve_until, ServeConfig, Started};
pub use state::{AppState, Limits, RateLimit};
