//! Signal weights and matching limits, from a TOML file with documented
//! defaults (`config/matcher.toml` in the repository).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::signals::{PerSignal, Signal};
use crate::concepts::NeedScoping;

/// How much each signal counts. Only signals that apply to a need share the
/// total, so the weights need not sum to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    pub text: f32,
    pub concepts: f32,
    pub equipment: f32,
    pub jsic: f32,
    pub geography: f32,
    pub freshness: f32,
    pub size: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            text: 0.45,
            concepts: 0.35,
            equipment: 0.10,
            jsic: 0.06,
            geography: 0.04,
            freshness: 0.03,
            size: 0.02,
        }
    }
}

impl Weights {
    /// The weight of each signal.
    pub fn per_signal(&self) -> PerSignal<f32> {
        let mut w = PerSignal::default();
        for s in Signal::ALL {
            w[s] = match s {
                Signal::Text => self.text,
                Signal::Concepts => self.concepts,
                Signal::Equipment => self.equipment,
                Signal::Jsic => self.jsic,
                Signal::Geography => self.geography,
                Signal::Freshness => self.freshness,
                Signal::Size => self.size,
            };
        }
        w
    }
}

/// Where the JSIC signal takes a need's wanted industries from when the
/// need names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WantedIndustries {
    /// The owner's own codes (a buyer usually wants another industry than
    /// its own: kept only for comparison).
    Owner,
    /// The JSIC hints of the need's recognised requirements (processes,
    /// services and products; see `signals::WantedJsic`).
    Concepts,
    /// None: the JSIC signal does not apply.
    None,
}

/// Matching configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchConfig {
    pub weights: Weights,
    /// Candidates taken from the index before rescoring.
    pub candidates: usize,
    /// Mutual matches need both directions at least this score.
    pub mutual_threshold: f32,
    /// How a need's clauses and head words weigh its concepts.
    pub scoping: NeedScoping,
    /// The JSIC signal's wanted industries when a need names none.
    pub wanted_industries: WantedIndustries,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            weights: Weights::default(),
            candidates: 400,
            mutual_threshold: 0.3,
            scoping: NeedScoping::default(),
            wanted_industries: WantedIndustries::Concepts,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

impl MatchConfig {
    pub fn load(path: &Path) -> Result<MatchConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let cfg: MatchConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if cfg
            .weights
            .per_signal()
            .0
            .iter()
            .any(|w| !w.is_finite() || *w < 0.0)
        {
            return Err(ConfigError::Parse {
                path: path.display().to_string(),
                message: "weights must be non-negative numbers".into(),
            });
        }
        let sc = &cfg.scoping;
        if [
            sc.optional_weight,
            sc.optional_text_weight,
            sc.self_weight,
            sc.self_text_weight,
        ]
        .iter()
        .any(|w| !w.is_finite() || !(0.0..=1.0).contains(w))
        {
            return Err(ConfigError::Parse {
                path: path.display().to_string(),
                message: "scoping weights must be numbers in [0, 1]".into(),
            });
        }
        if cfg.candidates == 0 {
            return Err(ConfigError::Parse {
                path: path.display().to_string(),
                message: "candidates must be at least 1".into(),
            });
        }
        Ok(cfg)
    }
}
