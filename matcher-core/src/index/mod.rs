//! Storage and retrieval: the two tantivy indexes (companies, needs), the
//! in-memory features of every record, the [`View`] a request reads, and
//! what retrieval scores from them (the matching index, term-at-a-time
//! BM25, top-M selection, company search).
//!
//! Nothing here opens a data folder, writes, or ranks a need: the engine
//! ([`crate::engine`]) opens the indexes and serializes writes, and
//! matching ([`crate::matching`]) turns what retrieval returns into ranked,
//! explained matches. Both read the index through a [`View`], which is why
//! the index depends on neither.

pub(crate) mod evidence;
pub(crate) mod lock;
#[cfg(feature = "testkit")]
pub mod persist;
#[cfg(not(feature = "testkit"))]
pub(crate) mod persist;
pub(crate) mod postings;
pub(crate) mod rankings;
#[cfg(feature = "testkit")]
pub mod records;
#[cfg(not(feature = "testkit"))]
pub(crate) mod records;
#[cfg(feature = "testkit")]
pub mod schema;
#[cfg(not(feature = "testkit"))]
pub(crate) mod schema;
pub mod search;
pub mod snippet;
pub(crate) mod taat;
pub(crate) mod top_slots;
pub mod view;

pub(crate) mod query;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::schema::{Field, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument};

use crate::analysis::Analyzer;
use persist::CommitId;

pub use crate::access::Role;
pub use lock::LockError;
pub use search::{Facet, Facets, Filters, Hit, Near, SearchRequest, SearchResponse, Sort};
pub use view::View;

/// A stored record could not be read from the index: tantivy failed (a
/// damaged index, an I/O error). What [`View`]'s record reads answer.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read a stored record: {0} (if it persists, check the disk; a damaged data folder is \
     restored from a backup, `matcher backup`)"
)]
pub struct ReadError(#[from] pub tantivy::TantivyError);

/// The index writer's memory budget, shared by its indexing threads.
const WRITER_HEAP: usize = 100_000_000;

/// Settings of a new index: tantivy's LZ4 in 4 KB blocks for the stored
/// records. Every explanation and record read fetches and decompresses one
/// whole block for one record of ~1 KB, so the block size is what an
/// explanation pays. Measured with `matcher-benches report --companies
/// 100000 --no-http` on fresh folders, back to back: LZ4 16 KB, top-20
/// p50 1.86 ms with explanations / 1.33 ms without (explanations 0.53 ms);
/// LZ4 4 KB, 1.70 / 1.30 ms (0.40 ms); disk 1.60 × → 1.80 × the JSON
/// Lines. Before LZ4, zstd in 32 KB blocks packed 14 % tighter but
/// tantivy builds a fresh zstd context for every block it reads (6.8 % of
/// a `perf` profile). Existing indexes keep the settings they were
/// created with.
pub(crate) fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Lz4,
        docstore_blocksize: 4 * 1024,
        ..Default::default()
    }
}

/// Where a data folder keeps the matching index's postings, saved with the
/// features snapshot (`persist::save_matching`).
pub(crate) fn matching_path(dir: &Path) -> PathBuf {
    dir.join("matching.bin")
}

/// One tantivy index with its reader and the fields of its schema.
pub(crate) struct Store<F> {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: F,
}

impl<F> Store<F> {
    /// The store of `index`, its tokenizers registered: the reader is
    /// reloaded by hand after each commit, so that a view is published
    /// only once memory and index agree.
    pub(crate) fn new(index: Index, fields: F, analyzer: &Arc<Analyzer>) -> tantivy::Result<Self> {
        schema::register_tokenizers(index.tokenizers(), analyzer);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Store {
            index,
            reader,
            fields,
        })
    }

    /// A writer of this index. tantivy's own lock refuses a second one
    /// (`TantivyError::LockFailure`): the caller says who holds it.
    pub(crate) fn open_writer(&self) -> tantivy::Result<IndexWriter> {
        self.index.writer(WRITER_HEAP)
    }

    /// The commit `searcher` reads. Called right after a reload, under the
    /// writer lock, so the index's current opstamp is the searcher's.
    pub(crate) fn commit_id(&self, searcher: &Searcher) -> CommitId {
        let opstamp = self.index.load_metas().map(|m| m.opstamp).unwrap_or(0);
        CommitId::of(searcher, opstamp)
    }
}

/// The JSON record stored in `field` of a document, if it reads as a `T`.
pub(crate) fn record_of<T: serde::de::DeserializeOwned>(
    d: &TantivyDocument,
    field: Field,
) -> Option<T> {
    d.get_first(field)
        .and_then(|v| v.as_str())
        .and_then(|s| serde_json::from_str(s).ok())
}

/// The first bytes value of `field` in a document.
pub(crate) fn first_bytes(d: &TantivyDocument, field: Field) -> Option<&[u8]> {
    d.get_first(field).and_then(|v| v.as_bytes())
}

/// What a live document stores of its record: its slot, id and JSON, each
/// `None` when the document lacks it. Rebuilding the features reads these
/// and reports each document it cannot turn back into a record, rather
/// than dropping it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredDoc {
    /// The `slot` field.
    pub slot: Option<u32>,
    /// The `id` field.
    pub id: Option<String>,
    /// The `record` field: the record as JSON.
    pub record: Option<String>,
}

/// The stored slot, id and record of every live document of `searcher`.
pub(crate) fn stored_docs(
    searcher: &Searcher,
    slot: Field,
    id: Field,
    record: Field,
) -> tantivy::Result<Vec<StoredDoc>> {
    let mut out = Vec::new();
    for seg in searcher.segment_readers() {
        let store = seg.get_store_reader(64)?;
        for doc in seg.doc_ids_alive() {
            let d: TantivyDocument = store.get(doc)?;
            out.push(StoredDoc {
                slot: d
                    .get_first(slot)
                    .and_then(|v| v.as_u64())
                    .and_then(|s| u32::try_from(s).ok()),
                id: d.get_first(id).and_then(|v| v.as_str()).map(str::to_owned),
                record: d
                    .get_first(record)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            });
        }
    }
    Ok(out)
}
