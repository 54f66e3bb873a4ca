//! The configuration file (`config/matcher.toml`, `--config`): matching
//! settings for core, and a `[server]` table that only this crate reads.
//!
//! One file, because an operator configures one program; two readers,
//! because core must not know about HTTP. The `[server]` table is taken
//! out here and the rest handed to [`MatchConfig::parse`], which still
//! refuses unknown keys, so a typo anywhere is an error at start.

use std::path::Path;

use matcher_core::matching::MatchConfig;
use serde::Deserialize;

use super::state::{Limits, RateLimit};

/// `[server]`: what the HTTP server (and the CLI's logging) reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// `[server.rate_limit]`; absent: no rate limiting (the default, so
    /// that a city's one portal key, shared by all its visitors, is never
    /// throttled by surprise). `MATCHER_RATE_LIMIT` overrides it.
    pub rate_limit: Option<RateLimitSettings>,
    /// `"text"` (default) or `"json"`; `--log-format` overrides it.
    pub log_format: Option<LogFormat>,
}

/// `[server.rate_limit]`: requests per second per API key (or per client
/// address for requests without a valid key), and the burst allowed.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_second: f64,
    /// Default: twice the rate, at least 1.
    pub burst: Option<u32>,
}

impl RateLimitSettings {
    fn checked(self, path: &Path) -> Result<RateLimit, ConfigError> {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err(ConfigError::Server {
                path: path.display().to_string(),
                message: "server.rate_limit.per_second must be a positive number".into(),
            });
        }
        let burst = self
            .burst
            .unwrap_or((self.per_second * 2.0).ceil().min(u32::MAX as f64) as u32)
            .max(1);
        Ok(RateLimit {
            per_second: self.per_second,
            burst,
        })
    }
}

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// The whole file, read once.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    pub matching: MatchConfig,
    pub server: ServerSettings,
    /// `server.rate_limit`, checked.
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Server { path: String, message: String },
    #[error(transparent)]
    Matching(#[from] matcher_core::matching::weights::ConfigError),
}

impl FileConfig {
    /// Read `path`: `[server]` here, everything else as [`MatchConfig`].
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// [`FileConfig::load`] from text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
        let server_err = |message: String| ConfigError::Server {
            path: path.display().to_string(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| server_err(e.to_string()))?;
        let Some(server) = table.remove("server") else {
            // The common case: core parses the text itself, so its errors
            // point at the lines of the file as written.
            return Ok(FileConfig {
                matching: MatchConfig::parse(text, path)?,
                ..FileConfig::default()
            });
        };
        let server: ServerSettings = server
            .try_into()
            .map_err(|e: toml::de::Error| server_err(format!("[server]: {}", e.message())))?;
        // Core reads the file less its [server] table; an error there names
        // the key (its line is of the file rewritten without that table).
        let rest = toml::to_string(&table).map_err(|e| server_err(e.to_string()))?;
        let matching = MatchConfig::parse(&rest, path)?;
        let rate_limit = server.rate_limit.map(|r| r.checked(path)).transpose()?;
        Ok(FileConfig {
            matching,
            server,
            rate_limit,
        })
    }

    /// The file at `path`, or the defaults when there is none.
    pub fn load_or_default(path: Option<&Path>) -> Result<FileConfig, ConfigError> {
        match path {
            Some(p) => Self::load(p),
            None => Ok(FileConfig::default()),
        }
    }
}

/// Limits from the environment over the configuration file's:
/// `MATCHER_RATE_LIMIT` (`N` requests per second per key, or `N/BURST`;
/// `off` turns off a limit the file sets; unset: the file's
/// `[server.rate_limit]`, else off), `MATCHER_REQUEST_TIMEOUT` (seconds,
/// default 30) and `MATCHER_QUEUE_PER_CORE` (matches waiting per core,
/// default 32).
pub fn limits_from_env(
    file: &FileConfig,
) -> Result<Limits, Box<dyn std::error::Error + Send + Sync>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_table_is_ours_and_the_rest_is_cores() {
        let p = Path::new("matcher.toml");
        let c = FileConfig::parse(
            "candidates = 123\n[server]\nlog_format = \"json\"\n[server.rate_limit]\nper_second = 0.5\n[weights]\ntext = 0.5\n",
            p,
        )
        .unwrap();
        assert_eq!(c.matching.candidates, 123);
        assert_eq!(c.server.log_format, Some(LogFormat::Json));
        assert_eq!(
            c.rate_limit,
            Some(RateLimit {
                per_second: 0.5,
                burst: 1
            })
        );
        // Without [server]: no limit, core's defaults where unset.
        let c = FileConfig::parse("candidates = 7\n", p).unwrap();
        assert_eq!((c.matching.candidates, c.rate_limit), (7, None));
        // Typos are errors on both sides, naming the key.
        let e = FileConfig::parse("[server]\nrate_limits = 1\n", p).unwrap_err();
        assert!(e.to_string().contains("rate_limits"), "{e}");
        let e = FileConfig::parse("candidatez = 1\n[server]\n", p).unwrap_err();
        assert!(e.to_string().contains("candidatez"), "{e}");
        let e = FileConfig::parse("[server.rate_limit]\nper_second = 0\n", p).unwrap_err();
        assert!(e.to_string().contains("per_second"), "{e}");
    }

    #[test]
    fn the_shipped_config_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/matcher.toml");
        let c = FileConfig::load(&p).unwrap();
        assert_eq!(c.matching, MatchConfig::default());
    }
}
