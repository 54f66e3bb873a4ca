//! matcher-core: Japanese business matching for regional industrial promotion.
//!
//! See `ARCHITECTURE.md` at the repository root for the codemap.

pub mod analysis;
pub mod audit;
pub mod backup;
/// For the criterion benches only (see the module's docs).
#[doc(hidden)]
pub mod bench_api;
pub mod concepts;
pub mod data_file;
pub mod fixtures;
pub mod generator;
pub mod import;
pub mod index;
pub mod journal;
pub mod matching;
pub mod model;
pub mod outcomes;
pub mod persist;
pub mod taxonomy;

pub use index::{Context, Engine, EngineError, Role, SearchRequest, SearchResponse};
