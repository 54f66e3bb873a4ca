//! matcher-core: Japanese business matching for regional industrial promotion.
//!
//! See `ARCHITECTURE.md` at the repository root for the codemap.

pub mod analysis;
pub mod fixtures;
pub mod import;
pub mod model;
pub mod taxonomy;
