//! The shared, read-only analysis context: what indexing, search and
//! matching all read, loaded once per process.
//!
//! It holds the reference data only (the analyzer and its word lists, the
//! tables, the ontology), not how matching weighs it: the matching
//! configuration ([`crate::MatchConfig`]) is the engine's
//! ([`crate::Engine::with_match_config`]), so the context depends on
//! nothing that depends on it, and one context can serve engines
//! configured differently (an evaluation's ablations, a tuning run).

use std::path::Path;
use std::sync::Arc;

use crate::analysis::{Analyzer, AnalyzerError};
use crate::concepts::Ontology;
use crate::data_file::{DataFileError, DataSource};
use crate::taxonomy::Taxonomy;

/// The shared, read-only analysis context: the analyzer, the reference
/// tables and the ontology every engine and request reads. Loading it costs
/// a second or two (the ontology is analyzed once), so build one per process
/// and share it in an `Arc`.
pub struct Context {
    /// The one text pipeline of indexing and queries.
    pub analyzer: Arc<Analyzer>,
    /// JSIC, clusters, municipalities and certifications: what validation
    /// and the JSIC and geography signals look codes up in.
    pub taxonomy: Taxonomy,
    /// The capability concepts, with the analyzer they were loaded with.
    pub ontology: Ontology,
}

/// Why a [`Context`] could not be loaded: which part, from where, and (in
/// the source error) which file and line.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The IPADIC system dictionary could not be built or opened; the
    /// message says what to install or which variable to set.
    #[error("cannot load the IPADIC system dictionary: {0}")]
    Dictionary(#[from] crate::analysis::dictionary::DictionaryError),
    /// The analyzer's word lists: user dictionary, stop words, synonyms.
    #[error(
        "cannot load the analyzer's word lists (user dictionary, stop words, synonyms) \
         from {from}: {source}"
    )]
    Lexicon {
        /// Where they were read from.
        from: DataSource,
        /// The file and line that failed.
        source: DataFileError,
    },
    /// The reference tables: JSIC, clusters, municipalities, certifications.
    #[error(
        "cannot load the reference tables (JSIC, clusters, municipalities, certifications) \
         from {from}: {source}"
    )]
    Tables {
        /// Where they were read from.
        from: DataSource,
        /// The file and line that failed.
        source: DataFileError,
    },
    /// The capability ontology (`concepts.jsonl`).
    #[error("cannot load the capability ontology from {from}: {source}")]
    Ontology {
        /// Where it was read from.
        from: DataSource,
        /// The line that failed.
        source: DataFileError,
    },
}

impl Context {
    /// The context from the reference data bundled with the crate: what a
    /// program that embeds matcher-core calls, with no data folder to ship.
    /// Only the IPADIC system dictionary comes from outside (see
    /// [`crate::analysis::dictionary`]: built once from Debian's
    /// `mecab-ipadic` into a cache folder).
    pub fn bundled() -> Result<Context, ContextError> {
        Context::from_source(DataSource::Bundled)
    }

    /// The context from a folder laid out like the repository's `fixtures/`
    /// (`jsic.tsv`, `jsic_clusters.tsv`, `municipalities.tsv`,
    /// `certifications.tsv`, `concepts.jsonl`, `dict/`), for an operator who
    /// edits the data without rebuilding. Every file must be there.
    pub fn load(fixtures: &Path) -> Result<Context, ContextError> {
        Context::from_source(DataSource::Dir(fixtures.to_path_buf()))
    }

    fn from_source(from: DataSource) -> Result<Context, ContextError> {
        let analyzer = match Analyzer::from_source(&from) {
            Ok(a) => Arc::new(a),
            Err(AnalyzerError::Dictionary(e)) => return Err(ContextError::Dictionary(e)),
            Err(AnalyzerError::Lexicon(source)) => {
                return Err(ContextError::Lexicon { from, source })
            }
        };
        let taxonomy = match Taxonomy::from_source(&from) {
            Ok(t) => t,
            Err(source) => return Err(ContextError::Tables { from, source }),
        };
        let ontology = match Ontology::from_source(&from, Some(analyzer.clone())) {
            Ok(o) => o,
            Err(source) => return Err(ContextError::Ontology { from, source }),
        };
        Ok(Context {
            analyzer,
            taxonomy,
            ontology,
        })
    }
}
