//! Signal weights and matching limits, from a TOML file with documented
//! defaults (`config/matcher.toml` in the repository).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::signals::{PerSignal, Signal};
use crate::concepts::{NeedScoping, Relation};

/// How much each signal counts. Only signals that apply to a need share the
/// total, so the weights need not sum to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// The need's words in the profile (BM25, relative to the best candidate).
    pub text: f32,
    /// The need's capability concepts met by the company's, through the hierarchy.
    pub concepts: f32,
    /// The machines the need names, among the company's.
    pub equipment: f32,
    /// The company's industry against the wanted industries.
    pub jsic: f32,
    /// Nearness to the need's origin.
    pub geography: f32,
    /// How recently the profile was confirmed.
    pub freshness: f32,
    /// The company's size against a size the need hints at.
    pub size: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            text: 0.33,
            concepts: 0.53,
            equipment: 0.10,
            jsic: 0.36,
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

/// BM25 field boosts over the seed fields: one set for portal search and
/// matching. The company name is the one field the two weigh differently,
/// on purpose: a portal user often types a name, while a need's words
/// found in a company's name (精密 in 山田精密工業) say little about what
/// the company can make.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldBoosts {
    /// The capabilities text: what a company says it does, weighed most.
    pub capabilities: f32,
    /// The products text.
    pub products: f32,
    /// Equipment names, makers and models.
    pub equipment: f32,
    /// The name in portal search.
    pub name_search: f32,
    /// The name when matching a need.
    pub name_match: f32,
}

impl Default for FieldBoosts {
    fn default() -> Self {
        FieldBoosts {
            capabilities: 1.5,
            products: 1.2,
            equipment: 1.2,
            name_search: 3.0,
            name_match: 0.5,
        }
    }
}

/// How much of a wanted concept a company's concept covers, by where it
/// stands in the hierarchy (exact > narrower > broader > sibling).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelationWeights {
    /// The wanted concept itself.
    pub exact: f32,
    /// A narrower one: the company does a specific kind of what is wanted.
    pub narrower: f32,
    /// A broader one: it may or may not do the specific kind.
    pub broader: f32,
    /// A concept with a common parent: related work, a weak hint.
    pub sibling: f32,
}

impl Default for RelationWeights {
    fn default() -> Self {
        RelationWeights {
            exact: 1.0,
            narrower: 0.8,
            broader: 0.5,
            sibling: 0.3,
        }
    }
}

impl RelationWeights {
    /// The strength of `relation`, in [0, 1].
    pub fn of(&self, relation: Relation) -> f32 {
        match relation {
            Relation::Exact => self.exact,
            Relation::Narrower => self.narrower,
            Relation::Broader => self.broader,
            Relation::Sibling => self.sibling,
        }
    }
}

/// How a need's stated requirements (its concepts) weigh against each
/// other, and how the concepts signal turns "how many are met, how well"
/// into one number. A buyer needs every requirement it states, so a
/// material or a market it names is not a quarter of a process; what the
/// text says is optional weighs less through the scoping instead.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequirementWeights {
    /// A process the need asks for.
    pub process: f32,
    /// A service it asks for (試作, 量産, 設計): often read from a lot size
    /// or a stage rather than named, so it may be worth less than a process.
    pub service: f32,
    /// A product it names: often the workpiece the process is for
    /// (箱形ケースを削り出し: a cutting shop, not an enclosure maker), so it
    /// may be worth less than a process. 0.6 by a scan of 0.35–1 on the
    /// blind tune half (1 → 0.6: nDCG@10 0.819 → 0.827, the judged
    /// fixtures unchanged; 0.5 and below lost fixture recall).
    pub product: f32,
    /// A material it must work with.
    pub material: f32,
    /// A market or client industry it must have served.
    pub market: f32,
    /// Anything else (a certification named in the text, …).
    pub other: f32,
    /// How much rarer concepts outweigh common ones: each requirement's
    /// weight is multiplied by `(0.5 + idf)^rarity` (0: every requirement
    /// alike; 1: in proportion to its inverse document frequency).
    pub rarity: f32,
    /// A concept stated together with a narrower one (機械加工 and 5軸加工)
    /// is one requirement, the narrower one, not two.
    pub most_specific: bool,
    /// The share of the concepts signal given to the weighted fraction of
    /// requirements met (at least `met_at`); the rest is the weighted mean
    /// of how well each is met.
    pub all_met: f32,
    /// The strength (relation × the company's mention weight) from which
    /// a requirement counts as met.
    pub met_at: f32,
}

impl Default for RequirementWeights {
    fn default() -> Self {
        RequirementWeights {
            process: 1.0,
            service: 1.0,
            product: 0.6,
            material: 0.35,
            market: 0.25,
            other: 0.2,
            rarity: 1.0,
            most_specific: false,
            all_met: 0.0,
            met_at: 0.5,
        }
    }
}

impl RequirementWeights {
    /// The weight of a requirement of concept kind `kind` (the ontology's
    /// `kind` field).
    pub fn of_kind(&self, kind: &str) -> f32 {
        match kind {
            "process" => self.process,
            "service" => self.service,
            "product" => self.product,
            "material" => self.material,
            "market" => self.market,
            _ => self.other,
        }
    }
}

/// The geography signal: `exp(-km / decay_km)`, plus a bonus in the
/// owner's own municipality (capped at 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeographyDecay {
    /// Kilometres over which the signal falls to 1/e.
    pub decay_km: f32,
    /// Added in the owner's own municipality, where a visit costs nothing.
    pub same_municipality_bonus: f32,
}

impl Default for GeographyDecay {
    fn default() -> Self {
        GeographyDecay {
            decay_km: 30.0,
            same_municipality_bonus: 0.2,
        }
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
    /// How much each signal counts.
    pub weights: Weights,
    /// Candidates taken from the index before rescoring.
    pub candidates: usize,
    /// Mutual matches need both directions at least this score.
    pub mutual_threshold: f32,
    /// How a need's clauses and head words weigh its concepts.
    pub scoping: NeedScoping,
    /// The JSIC signal's wanted industries when a need names none.
    pub wanted_industries: WantedIndustries,
    /// Profiles not confirmed for this many months are stale.
    pub stale_months: u32,
    /// BM25 field boosts, shared with portal search.
    pub fields: FieldBoosts,
    /// How much each hierarchy relation of a concept counts.
    pub relations: RelationWeights,
    /// How the geography signal falls with distance.
    pub geography: GeographyDecay,
    /// How a need's requirements weigh and count as met.
    pub requirements: RequirementWeights,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            weights: Weights::default(),
            candidates: 400,
            mutual_threshold: 0.3,
            scoping: NeedScoping::default(),
            wanted_industries: WantedIndustries::Concepts,
            stale_months: 24,
            fields: FieldBoosts::default(),
            relations: RelationWeights::default(),
            geography: GeographyDecay::default(),
            requirements: RequirementWeights::default(),
        }
    }
}

/// Why a configuration file could not be used; the message names the file
/// and, for a bad value, the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value out of range.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the key.
        message: String,
    },
}

impl MatchConfig {
    /// Read and validate a configuration file (`config/matcher.toml`'s format);
    /// keys not given keep their defaults.
    pub fn load(path: &Path) -> Result<MatchConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// [`MatchConfig::load`] from text already read from `path` (named in
    /// errors): a server that keeps its own settings in the same file
    /// removes them first.
    pub fn parse(text: &str, path: &Path) -> Result<MatchConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        };
        let cfg: MatchConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if cfg
            .weights
            .per_signal()
            .0
            .iter()
            .any(|w| !w.is_finite() || *w < 0.0)
        {
            return Err(invalid("weights must be non-negative numbers".into()));
        }
        let sc = &cfg.scoping;
        if [
            sc.optional_weight,
            sc.optional_text_weight,
            sc.self_weight,
            sc.self_text_weight,
            sc.head_weight,
        ]
        .iter()
        .any(|w| !w.is_finite() || !(0.0..=1.0).contains(w))
        {
            return Err(invalid("scoping weights must be numbers in [0, 1]".into()));
        }
        let f = &cfg.fields;
        let r = &cfg.relations;
        let g = &cfg.geography;
        let tunables = [
            ("fields.capabilities", f.capabilities, f32::MAX),
            ("fields.products", f.products, f32::MAX),
            ("fields.equipment", f.equipment, f32::MAX),
            ("fields.name_search", f.name_search, f32::MAX),
            ("fields.name_match", f.name_match, f32::MAX),
            ("relations.exact", r.exact, 1.0),
            ("relations.narrower", r.narrower, 1.0),
            ("relations.broader", r.broader, 1.0),
            ("relations.sibling", r.sibling, 1.0),
            ("requirements.process", cfg.requirements.process, f32::MAX),
            ("requirements.service", cfg.requirements.service, f32::MAX),
            ("requirements.product", cfg.requirements.product, f32::MAX),
            ("requirements.material", cfg.requirements.material, f32::MAX),
            ("requirements.market", cfg.requirements.market, f32::MAX),
            ("requirements.other", cfg.requirements.other, f32::MAX),
            ("requirements.rarity", cfg.requirements.rarity, 4.0),
            ("requirements.all_met", cfg.requirements.all_met, 1.0),
            ("requirements.met_at", cfg.requirements.met_at, 1.0),
            (
                "geography.same_municipality_bonus",
                g.same_municipality_bonus,
                1.0,
            ),
        ];
        for (name, v, max) in tunables {
            if !v.is_finite() || !(0.0..=max).contains(&v) {
                return Err(invalid(format!(
                    "{name} is {v}: it must be a number from 0{}",
                    if max == f32::MAX {
                        " up".to_owned()
                    } else {
                        format!(" to {max}")
                    }
                )));
            }
        }
        if !(g.decay_km.is_finite() && g.decay_km > 0.0) {
            return Err(invalid(format!(
                "geography.decay_km is {}: it must be more than 0",
                g.decay_km
            )));
        }
        if cfg.stale_months == 0 {
            return Err(invalid("stale_months must be at least 1".into()));
        }
        if cfg.candidates == 0 {
            return Err(invalid("candidates must be at least 1".into()));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file in the repository writes out the defaults: every tunable
    /// is where an operator looks for it, with the value the code uses.
    #[test]
    fn the_repository_config_is_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/matcher.toml");
        assert_eq!(
            MatchConfig::load(&path).expect("config"),
            MatchConfig::default()
        );
    }

    /// A bad value is refused with the key and the rule, not clamped.
    #[test]
    fn bad_tunables_name_their_key() {
        let dir = tempfile::tempdir().expect("tmp");
        for (text, key) in [
            ("[relations]\nnarrower = 1.5\n", "relations.narrower"),
            ("[fields]\nproducts = -1\n", "fields.products"),
            ("[geography]\ndecay_km = 0\n", "geography.decay_km"),
            ("stale_months = 0\n", "stale_months"),
        ] {
            let path = dir.path().join("m.toml");
            std::fs::write(&path, text).expect("write");
            let err = MatchConfig::load(&path).expect_err(text).to_string();
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }
}
