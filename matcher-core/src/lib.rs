//! matcher-core: business matching for Japanese regional industrial
//! promotion, as a library.
//!
//! A need (ニーズ: "a partner for the outer-diameter finish of hardened
//! shafts, near 大田区") goes in; the companies whose seeds (シーズ:
//! techniques, equipment, products, industry codes) can meet it come out,
//! ranked, each with the evidence and one sentence saying why. The text is
//! read as Japanese profiles are written: ＭＣ, マシニングセンター and MC are
//! one thing, SUS304 stays whole, and 「シャフトの外径仕上げ」 reaches the
//! 円筒研削 shops through the capability ontology.
//!
//! # Embedding
//!
//! ```
//! use std::sync::Arc;
//!
//! use matcher_core::import::{self, Encoding, Format};
//! use matcher_core::{Company, Context, Engine, MatchOptions, Need, Role};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The reference data (JSIC, municipalities, certifications, the
//! // ontology, the analyzer's word lists) is compiled into the crate.
//! let ctx = Arc::new(Context::bundled()?);
//! // An index in memory; `Engine::open(dir, ctx)` keeps one on disk.
//! let engine = Engine::in_memory(ctx.clone())?;
//!
//! // Records go through the importer, which validates them against the
//! // tables and reports bad rows with their line and field.
//! let companies = import::parse::<Company>(
//!     r#"{"id":"c-grind","name":"大森研削工業","municipality_code":"131113","industry_codes":["26"],"capabilities":"円筒研削盤による焼入れ後のシャフト外径研削。h6公差、面粗さRa0.4まで対応します。","equipment":[{"name":"円筒研削盤"}]}
//! {"id":"c-sheet","name":"蒲田板金","municipality_code":"131113","industry_codes":["24"],"capabilities":"レーザー切断とベンダーによる曲げ加工、TIG溶接で制御盤の筐体を製作します。","equipment":[{"name":"レーザー加工機"}]}"#
//!         .as_bytes(),
//!     Format::JsonLines,
//!     Encoding::Utf8,
//!     &ctx.taxonomy,
//! );
//! assert!(companies.rejected.is_empty(), "{:?}", companies.rejected);
//! engine.upsert_companies(companies.records)?;
//!
//! let need: Need = import::parse::<Need>(
//!     r#"{"id":"n-1","kind":"subcontracting","title":"焼入れ済みシャフトの外径仕上げ","text":"高周波焼入れ後のシャフトを研削で仕上げてくれる会社を探しています。"}"#
//!         .as_bytes(),
//!     Format::JsonLines,
//!     Encoding::Utf8,
//!     &ctx.taxonomy,
//! )
//! .records
//! .pop()
//! .expect("the need is valid");
//!
//! // A role decides what a caller may see: a portal never meets a
//! // restricted company; a coordinator sees every one. A matcher reads one
//! // view of the data, whatever is written meanwhile.
//! let result = engine
//!     .matcher()
//!     .match_need(&need, Role::Public, &MatchOptions::default())?;
//! let best = &result.matches[0];
//! let why = best.explanation.as_ref().map(|e| e.why.as_str()).unwrap_or("");
//! println!("{} ({:.2}): {why}", best.name, best.score);
//! assert_eq!(best.company_id, "c-grind");
//! assert!(!why.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! [`Context`] is loaded once per process (a second or two: the ontology is
//! analyzed) and shared; an [`Engine`] is `Send + Sync` and answers
//! requests from any thread, each on one immutable [`View`] of the data
//! (a [`Matcher`] holds one for a request's matching). How matching weighs
//! its signals is the engine's [`MatchConfig`]
//! ([`Engine::with_match_config`]); `Engine::upsert_*` validate every record
//! against the context's tables before indexing it.
//!
//! # Reference data
//!
//! [`Context::bundled`] reads the tables, the ontology and the word lists
//! compiled into the crate from the repository's `fixtures/` when it was
//! built, so a program that depends on matcher-core needs no folder beside
//! it. [`Context::load`] reads the same files from a folder instead, for an
//! operator who edits synonyms or the ontology without rebuilding. Either
//! way every file is validated whole, and a bad line is a [`ContextError`]
//! naming the part, the file and the line (bundled files are named by their
//! repository path, `fixtures/…`).
//!
//! # The Japanese dictionary
//!
//! One thing is not bundled: the IPADIC system dictionary (about 50 MB once
//! built). lindera's own `embed-ipadic` downloads an archive while building,
//! which fails on machines that reach only package registries; instead the
//! analyzer builds it from Debian's `mecab-ipadic` package (`apt-get install
//! mecab-ipadic`, the source in `/usr/share/mecab/dic/ipadic`) on first use,
//! about two seconds, into `~/.cache/matcher/ipadic-v1` (or
//! `$XDG_CACHE_HOME/matcher/ipadic-v1`), and memory-maps it on every later
//! start. `MATCHER_IPADIC_SRC` names another source folder and
//! `MATCHER_DICT_DIR` an already built dictionary; see
//! [`analysis::dictionary`]. Without either, [`Context::bundled`] fails with
//! [`ContextError::Dictionary`], whose message says what to install.
//!
//! # Where things are
//!
//! - [`analysis`]: the one text pipeline of indexing and queries ([`Analyzer`]).
//! - [`model`]: [`Company`], [`Need`] and their codes; [`import`]: JSON Lines
//!   and CSV with a per-row report; [`taxonomy`]: the reference tables.
//! - [`concepts`]: the capability ontology.
//! - [`context`]: the [`Context`] (analyzer, tables, ontology).
//! - [`engine`]: the [`Engine`]: its data folder, writes, record reads,
//!   search; [`Engine::matcher`] hands out matching.
//! - [`index`]: storage and retrieval: the indexes, [`View`]s, in-memory
//!   features, search, the matching index and its snapshot.
//! - [`matching`]: the [`Matcher`]: candidates, signals, rescoring,
//!   explanations, batches.
//! - [`access`]: [`Role`] and the one privacy rule.
//! - [`outcomes`], [`audit`], [`journal`]: what coordinators did, append-only.
//! - [`backup`]: a consistent copy of a data folder while a server writes.
//!
//! The repository's `ARCHITECTURE.md` is the codemap, with the invariants
//! (privacy, one analyzer, durability, determinism) and where each is kept.
//!
//! # Features
//!
//! `testkit` makes public what this workspace's server, benchmarks and tests
//! reach into and an embedder should not: the repository's sample data
//! (`fixtures`), synthetic corpora (`generator`), the judged evaluation
//! (`matching::eval`), the snapshot file (`index::persist`), the in-memory features
//! and index schema (`index::records`, `index::schema`), the signals one by
//! one and the benches' hooks. None of it is a stable API.

#![warn(missing_docs)]

pub mod access;
pub mod analysis;
pub mod audit;
pub mod backup;
/// For the criterion benches only (see the module's docs).
#[cfg(feature = "testkit")]
#[doc(hidden)]
pub mod bench_api;
pub mod concepts;
pub mod context;
mod data_file;
pub mod engine;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
#[cfg(any(test, feature = "testkit"))]
pub mod generator;
pub mod import;
pub mod index;
pub mod journal;
pub mod matching;
pub mod model;
pub mod outcomes;
pub mod taxonomy;

pub use access::Role;
pub use analysis::Analyzer;
pub use concepts::Ontology;
pub use context::{Context, ContextError};
pub use data_file::{DataFileError, DataSource};
pub use engine::{
    Engine, EngineError, InvalidRecord, InvalidRecords, RebuildSummary, ReindexSummary,
    WriteSummary, COMMIT_BATCH,
};
pub use index::{Filters, Hit, SearchRequest, SearchResponse, Sort, View};
pub use matching::{
    Explanation, Match, MatchConfig, MatchError, MatchOptions, MatchResult, Matcher, Opportunity,
};
pub use model::{
    Company, Date, Equipment, GeoPoint, JsicCode, MunicipalityCode, Need, NeedDraft, NeedKind,
    NeedStatus, RecordId, Region, Visibility,
};
pub use taxonomy::Taxonomy;

#[cfg(test)]
mod tests {
    /// The crate doc promises one engine and one context shared by every
    /// thread; this stops compiling if either stops being shareable.
    #[test]
    fn engine_and_context_are_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<crate::Engine>();
        shared::<crate::Matcher<'static>>();
        shared::<crate::Context>();
        shared::<crate::ContextError>();
    }
}
