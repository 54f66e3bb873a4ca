//! The engine: two tantivy indexes (companies, needs) in a data folder, the
//! in-memory features of every record, and the shared analysis context.
//!
//! Data folder layout (format version [`FORMAT_VERSION`]):
//! ```text
//! DIR/FORMAT         "matcher-data <version>"
//! DIR/companies/     tantivy index of company profiles (full record and
//!                    explanation evidence stored)
//! DIR/needs/         tantivy index of needs (full record stored)
//! DIR/snapshot.bin   features snapshot (see `persist`), rebuilt if stale or corrupt
//! DIR/matching.bin   the matching index's postings per segment, saved with the
//!                    snapshot (see `postings`); segments it lacks are decoded at open
//! DIR/writer.lock    held by the one process that writes (see `lock`)
//! ```
//! Durability comes from tantivy's atomic commits: a process killed in the
//! middle of a bulk import loses only the uncommitted batch.
//!
//! Concurrency: readers work on a [`View`] — the searchers and features of
//! one commit — loaded once per request; writers are serialized, build the
//! next view privately and publish it with an atomic swap (see `view.rs`).
//! A write that fails leaves the engine *failed*: later writes are refused
//! with [`EngineError::WriterFailed`] until [`Engine::reopen_writers`] (or a
//! restart) — never acknowledged and then lost.

pub(crate) mod evidence;
pub(crate) mod lock;
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

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use rayon::prelude::*;
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analysis::{Analyzer, AnalyzerError};
use crate::concepts::Ontology;
use crate::data_file::{DataFileError, DataSource};
use crate::model::{Company, Date, Need};
use crate::persist::CommitId;
use crate::taxonomy::Taxonomy;
use lock::DirLock;
pub use lock::LockError;
use records::{CompanyFeatures, NeedEntry, Records};
use schema::{CompanyFields, NeedFields};
pub use view::View;

pub use search::{Facet, Facets, Filters, Hit, Near, Role, SearchRequest, SearchResponse, Sort};

/// Version of the data folder layout; bump on incompatible changes.
pub const FORMAT_VERSION: u32 = 3;
/// Records per commit in a bulk import: what a crash can lose at most.
pub const COMMIT_BATCH: usize = 5_000;
const WRITER_HEAP: usize = 100_000_000;

/// Settings of a new index. The stored records are JSON, which zstd in
/// 32 KB blocks packs about twice as tightly as tantivy's default LZ4 in
/// 16 KB blocks; fetching one record (an explanation, a record read)
/// decompresses one block, tens of microseconds. Existing indexes keep the
/// settings they were created with.
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(3),
        }),
        docstore_blocksize: 32 * 1024,
        ..Default::default()
    }
}

/// Why an engine call failed. Reads fail only on the index or the caller's
/// request; a failed write also fails later writes ([`EngineError::WriterFailed`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// tantivy failed (a damaged index, a full disk).
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A file of the data folder could not be read or written.
    #[error("cannot use the data folder {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The data folder was written by another version of the format; the
    /// message says how to upgrade. The folder is left unchanged.
    #[error("{}", format_advice(path, found))]
    Format {
        /// The data folder.
        path: PathBuf,
        /// What its `FORMAT` file says.
        found: String,
    },
    /// The search request is invalid (the caller's error, not the engine's).
    #[error("{0}")]
    Search(#[from] search::SearchError),
    /// Another process writes this data folder.
    #[error("{0}")]
    Locked(#[from] LockError),
    /// An earlier write failed; writes are refused until
    /// [`Engine::reopen_writers`], so none is acknowledged and then lost.
    #[error(
        "an earlier write failed ({reason}); nothing more is written until the index writer \
         is reopened: fix the cause and restart the server (every acknowledged write is in \
         the data folder)"
    )]
    WriterFailed {
        /// Why the first failed write failed.
        reason: String,
    },
    /// Any other failure, described.
    #[error("{0}")]
    Other(String),
}

/// What to tell an operator who opened a data folder of another format:
/// which versions, and what to do. There is no in-place upgrade: the index
/// is rebuilt from the records, which the old build can still export.
fn format_advice(path: &Path, found: &str) -> String {
    let here = path.display();
    let version = found
        .strip_prefix("matcher-data ")
        .and_then(|v| v.trim().parse::<u32>().ok());
    match version {
        Some(v) if v < FORMAT_VERSION => format!(
            "the data folder {here} has data format {v}, written by an older matcher; this build \
             reads format {FORMAT_VERSION}. To upgrade: with the old build, export the records \
             (GET /v1/companies and /v1/needs, or keep your import files), start this build on a \
             new empty data folder and import them (matcher import FILE --data NEW); copy \
             keys.tsv, outcomes.jsonl and audit.jsonl across. The old folder is left unchanged."
        ),
        Some(v) => format!(
            "the data folder {here} has data format {v}, written by a newer matcher; this build \
             reads format {FORMAT_VERSION} only. Run the newer matcher (or restore a backup made \
             by this version); the folder is left unchanged."
        ),
        None => format!(
            "the data folder {here} has a FORMAT file reading {found:?}, not \"matcher-data N\"; \
             this build reads format {FORMAT_VERSION}. Is it a matcher data folder? It is left \
             unchanged."
        ),
    }
}

/// Where a data folder keeps the matching index's postings, saved with the
/// features snapshot (`persist::save_matching`).
fn matching_path(dir: &Path) -> PathBuf {
    dir.join("matching.bin")
}

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
    /// Weights, candidate count and scoping of matching (defaults until the
    /// caller sets them, e.g. from `config/matcher.toml`).
    pub match_config: crate::matching::MatchConfig,
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
            match_config: Default::default(),
        })
    }

    /// Updates before this date are stale.
    pub fn stale_cutoff(&self) -> Date {
        Date::today().minus_months(self.match_config.stale_months)
    }
}

pub(crate) struct Store<F> {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: F,
}

impl<F> Store<F> {
    fn new(index: Index, fields: F, analyzer: &Arc<Analyzer>) -> Result<Self, EngineError> {
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

    fn open_writer(&self) -> Result<IndexWriter, EngineError> {
        self.index.writer(WRITER_HEAP).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => EngineError::Other(
                "another process (probably `matcher serve`) is writing to this data folder; \
                 stop it, or write through its REST API"
                    .into(),
            ),
            e => EngineError::Index(e),
        })
    }

    /// The commit `searcher` reads. Called right after a reload, under the
    /// writer lock, so the index's current opstamp is the searcher's.
    fn commit_id(&self, searcher: &Searcher) -> CommitId {
        let opstamp = self.index.load_metas().map(|m| m.opstamp).unwrap_or(0);
        CommitId::of(searcher, opstamp)
    }
}

/// The JSON record stored in `field` of a document, if it reads as a `T`.
fn record_of<T: serde::de::DeserializeOwned>(
    d: &TantivyDocument,
    field: tantivy::schema::Field,
) -> Option<T> {
    d.get_first(field)
        .and_then(|v| v.as_str())
        .and_then(|s| serde_json::from_str(s).ok())
}

/// The first bytes value of `field` in a document.
pub(crate) fn first_bytes(d: &TantivyDocument, field: tantivy::schema::Field) -> Option<&[u8]> {
    d.get_first(field).and_then(|v| v.as_bytes())
}

/// (slot, stored JSON record) of every live document of `searcher`.
fn stored_records(
    searcher: &Searcher,
    slot: tantivy::schema::Field,
    record: tantivy::schema::Field,
) -> Result<Vec<(u32, String)>, EngineError> {
    let mut out = Vec::new();
    for seg in searcher.segment_readers() {
        let store = seg
            .get_store_reader(64)
            .map_err(|e| EngineError::Other(format!("cannot read the document store: {e}")))?;
        for doc in seg.doc_ids_alive() {
            let d: TantivyDocument = store.get(doc)?;
            let s = d.get_first(slot).and_then(|v| v.as_u64());
            let r = d.get_first(record).and_then(|v| v.as_str());
            if let (Some(s), Some(r)) = (s, r) {
                out.push((s as u32, r.to_owned()));
            }
        }
    }
    Ok(out)
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WriteSummary {
    /// Records whose id was new.
    pub created: usize,
    /// Records that replaced one with the same id.
    pub updated: usize,
}

/// Which index a write goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Companies,
    Needs,
}

/// The write side, behind one mutex: writes are serialized.
#[derive(Default)]
struct Writers {
    companies: Option<IndexWriter>,
    needs: Option<IndexWriter>,
    /// Why the last failed write failed; set, it refuses every write.
    failed: Option<String>,
    /// The data folder's lock, taken before the first write.
    lock: Option<DirLock>,
}

/// The matching engine.
pub struct Engine {
    /// The analysis context every request of this engine reads.
    pub ctx: Arc<Context>,
    pub(crate) companies: Store<CompanyFields>,
    pub(crate) needs: Store<NeedFields>,
    /// The current view; replaced whole by each write.
    view: ArcSwap<View>,
    writers: Mutex<Writers>,
    dir: Option<PathBuf>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Engine {
    /// An engine held entirely in memory (tests, embedding without a disk).
    pub fn in_memory(ctx: Arc<Context>) -> Result<Engine, EngineError> {
        let (cs, cf) = CompanyFields::schema();
        let (ns, nf) = NeedFields::schema();
        let in_ram = |schema| {
            Index::builder()
                .schema(schema)
                .settings(index_settings())
                .create_in_ram()
        };
        let companies = Store::new(in_ram(cs)?, cf, &ctx.analyzer)?;
        let needs = Store::new(in_ram(ns)?, nf, &ctx.analyzer)?;
        Engine::assemble(ctx, companies, needs, None)
    }

    /// Open (or create) the data folder `dir`. Opening only reads: the
    /// folder's writer lock is taken at the first write (or by
    /// [`Engine::lock_for_writing`]), so read-only tools can share a folder
    /// with a running server.
    pub fn open(dir: &Path, ctx: Arc<Context>) -> Result<Engine, EngineError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let format_file = dir.join("FORMAT");
        let want = format!("matcher-data {FORMAT_VERSION}");
        match std::fs::read_to_string(&format_file) {
            Ok(found) if found.trim() == want => {}
            Ok(found) => {
                return Err(EngineError::Format {
                    path: dir.to_path_buf(),
                    found: found.trim().to_owned(),
                })
            }
            Err(_) => {
                std::fs::write(&format_file, format!("{want}\n")).map_err(io(&format_file))?
            }
        }
        let open = |name: &str, schema: tantivy::schema::Schema| -> Result<Index, EngineError> {
            let p = dir.join(name);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
            let d = MmapDirectory::open(&p)
                .map_err(|e| EngineError::Other(format!("{}: {e}", p.display())))?;
            Ok(Index::builder()
                .schema(schema)
                .settings(index_settings())
                .open_or_create(d)?)
        };
        let (cs, cf) = CompanyFields::schema();
        let (ns, nf) = NeedFields::schema();
        let companies = Store::new(open("companies", cs)?, cf, &ctx.analyzer)?;
        let needs = Store::new(open("needs", ns)?, nf, &ctx.analyzer)?;
        Engine::assemble(ctx, companies, needs, Some(dir.to_path_buf()))
    }

    fn assemble(
        ctx: Arc<Context>,
        companies: Store<CompanyFields>,
        needs: Store<NeedFields>,
        dir: Option<PathBuf>,
    ) -> Result<Engine, EngineError> {
        let (cs, ns) = (companies.reader.searcher(), needs.reader.searcher());
        let commits = [companies.commit_id(&cs), needs.commit_id(&ns)];
        let empty = View::new(
            cs,
            ns,
            Arc::new(Records::default()),
            &companies.fields,
            commits,
            postings::Lend {
                segments: Vec::new(),
                file: dir.as_deref().map(|d| matching_path(d).into()),
            },
        )?;
        let engine = Engine {
            ctx,
            companies,
            needs,
            view: ArcSwap::from_pointee(empty),
            writers: Mutex::new(Writers::default()),
            dir,
        };
        engine.load_records()?;
        Ok(engine)
    }

    /// The current view of the data. A request loads it once and works on
    /// it to the end: later writes publish new views and leave this one
    /// as it is.
    pub fn view(&self) -> Arc<View> {
        self.view.load_full()
    }

    /// Take the data folder's lock and open the index writers now (a
    /// server does, so that no other process can write behind its view).
    pub fn lock_for_writing(&self) -> Result<(), EngineError> {
        let mut w = self.writers.lock();
        self.writers_ready(&mut w, Which::Companies)?;
        self.writers_ready(&mut w, Which::Needs)?;
        Ok(())
    }

    /// The lock, the writer for `which`, and no earlier failure.
    fn writers_ready<'w>(
        &self,
        w: &'w mut Writers,
        which: Which,
    ) -> Result<&'w mut IndexWriter, EngineError> {
        if let Some(reason) = &w.failed {
            return Err(EngineError::WriterFailed {
                reason: reason.clone(),
            });
        }
        if w.lock.is_none() {
            if let Some(dir) = &self.dir {
                w.lock = Some(DirLock::acquire(dir)?);
                // Another process may have written since this one opened
                // the folder: start writing from what is on disk.
                self.catch_up()?;
            }
        }
        let slot = match which {
            Which::Companies => &mut w.companies,
            Which::Needs => &mut w.needs,
        };
        if slot.is_none() {
            *slot = Some(match which {
                Which::Companies => self.companies.open_writer()?,
                Which::Needs => self.needs.open_writer()?,
            });
        }
        slot.as_mut()
            .ok_or_else(|| EngineError::Other("index writer unavailable".into()))
    }

    /// One write: `change` stages documents on the writer and applies the
    /// same change to a private copy of the records (returning whether it
    /// changed anything); then commit, reload, check and publish the new
    /// view. Any failure after the writer was touched fails the engine
    /// for writes (see [`EngineError::WriterFailed`]), and the published
    /// view stays the last good one.
    fn write<R>(
        &self,
        which: Which,
        change: impl FnOnce(&mut IndexWriter, &mut Records) -> Result<(R, bool), EngineError>,
    ) -> Result<R, EngineError> {
        let mut w = self.writers.lock();
        let writer = self.writers_ready(&mut w, which)?;
        let base = self.view();
        let mut rec = (*base.records).clone();
        let staged = change(writer, &mut rec).and_then(|(r, changed)| {
            if changed {
                writer.commit()?;
            }
            Ok((r, changed))
        });
        let result = staged.and_then(|(r, changed)| {
            if changed {
                self.publish(which, &base, rec)?;
            }
            Ok(r)
        });
        if let Err(e) = &result {
            tracing::error!("write failed, refusing further writes until reopened: {e}");
            w.failed = Some(e.to_string());
            // Drop the writer: its staged documents are discarded.
            w.companies = None;
            w.needs = None;
        }
        result
    }

    /// Reload the written index and publish the view of the new commit,
    /// after checking that memory and index agree.
    fn publish(&self, which: Which, base: &View, rec: Records) -> Result<(), EngineError> {
        let (cs, ns) = match which {
            Which::Companies => {
                self.companies.reader.reload()?;
                (self.companies.reader.searcher(), base.needs.clone())
            }
            Which::Needs => {
                self.needs.reader.reload()?;
                (base.companies.clone(), self.needs.reader.searcher())
            }
        };
        let commits = match which {
            Which::Companies => [self.companies.commit_id(&cs), base.commits[1]],
            Which::Needs => [base.commits[0], self.needs.commit_id(&ns)],
        };
        let listed = (rec.companies.len() as u64, rec.needs.len() as u64);
        if listed != (cs.num_docs(), ns.num_docs()) {
            return Err(EngineError::WriterFailed {
                reason: format!(
                    "after the commit the indexes hold {} companies and {} needs, memory lists {} and {}",
                    cs.num_docs(),
                    ns.num_docs(),
                    listed.0,
                    listed.1
                ),
            });
        }
        let view = match which {
            Which::Companies => View::new(
                cs,
                ns,
                Arc::new(rec),
                &self.companies.fields,
                commits,
                base.lendable(),
            )?,
            Which::Needs => base.with_needs(ns, Arc::new(rec), commits),
        };
        self.view.store(Arc::new(view));
        Ok(())
    }

    /// Reload both indexes and, if either moved on since the current view,
    /// rebuild the view from the stored records.
    fn catch_up(&self) -> Result<(), EngineError> {
        self.companies.reader.reload()?;
        self.needs.reader.reload()?;
        let (cs, ns) = (
            self.companies.reader.searcher(),
            self.needs.reader.searcher(),
        );
        let now = [self.companies.commit_id(&cs), self.needs.commit_id(&ns)];
        if now != self.view().commits {
            tracing::info!("the data folder changed since it was opened; reloading its records");
            self.rebuild_from_disk()?;
        }
        Ok(())
    }

    /// Recover after a failed write: drop the writers, reread both indexes
    /// from disk, rebuild the features from the stored records and accept
    /// writes again.
    pub fn reopen_writers(&self) -> Result<(), EngineError> {
        let mut w = self.writers.lock();
        w.companies = None;
        w.needs = None;
        self.companies.reader.reload()?;
        self.needs.reader.reload()?;
        self.rebuild_from_disk()?;
        w.failed = None;
        Ok(())
    }

    /// The data folder, or none for an engine in memory.
    pub fn data_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn snapshot_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("snapshot.bin"))
    }

    /// Restore in-memory records from the snapshot if it was taken at the
    /// indexes' current commits, else rebuild them from the stored documents.
    fn load_records(&self) -> Result<(), EngineError> {
        let base = self.view();
        if let Some(path) = self.snapshot_path() {
            match crate::persist::load(&path, base.commits) {
                Ok(mut records) => {
                    records.rebuild_filter_keys();
                    self.view.store(Arc::new(
                        base.with_records(Arc::new(records), &self.companies.fields)?,
                    ));
                    return Ok(());
                }
                Err(crate::persist::SnapshotError::Missing) => {
                    if base.companies.num_docs() + base.needs.num_docs() == 0 {
                        return Ok(());
                    }
                    tracing::warn!(
                        "no snapshot {}; rebuilding features from the index",
                        path.display()
                    );
                }
                Err(e) => tracing::warn!(
                    "snapshot {}: {e}; rebuilding features from the index",
                    path.display()
                ),
            }
        }
        self.rebuild_from_disk()
    }

    /// Recompute every feature from the stored records (after a crash, a
    /// corrupt snapshot or an ontology change) and publish them.
    pub fn rebuild_records(&self) -> Result<(), EngineError> {
        let _w = self.writers.lock();
        self.rebuild_from_disk()
    }

    fn rebuild_from_disk(&self) -> Result<(), EngineError> {
        let ctx = &self.ctx;
        let (cf, nf) = (self.companies.fields, self.needs.fields);
        let (cs, ns) = (
            self.companies.reader.searcher(),
            self.needs.reader.searcher(),
        );
        let commits = [self.companies.commit_id(&cs), self.needs.commit_id(&ns)];
        let mut records = Records::default();
        let companies: Vec<(u32, CompanyFeatures)> = stored_records(&cs, cf.slot, cf.record)?
            .par_iter()
            .filter_map(|(slot, s)| {
                let c: Company = serde_json::from_str(s).ok()?;
                Some((
                    *slot,
                    CompanyFeatures::new(&c, &ctx.taxonomy, &ctx.ontology),
                ))
            })
            .collect();
        for (slot, f) in companies {
            records.set_company(slot, f, &ctx.ontology);
        }
        records.companies.reindex(|f| f.id.clone());
        for (slot, s) in stored_records(&ns, nf.slot, nf.record)? {
            if let Ok(n) = serde_json::from_str::<Need>(&s) {
                let concepts = ctx.ontology.need_concepts(&n);
                records.needs.set(slot, NeedEntry { need: n, concepts });
            }
        }
        records.needs.reindex(|e| e.need.id.clone());
        let prev = self.view();
        let view = View::new(cs, ns, Arc::new(records), &cf, commits, prev.lendable())?;
        self.view.store(Arc::new(view));
        Ok(())
    }

    /// Write the features snapshot of the current view (atomic), bound to
    /// the view's commits. Call after a bulk import and at shutdown.
    pub fn save_snapshot(&self) -> Result<(), EngineError> {
        let Some(path) = self.snapshot_path() else {
            return Ok(());
        };
        let _w = self.writers.lock();
        let v = self.view();
        crate::persist::save(&path, &v.records, v.commits)
            .and_then(|()| {
                let dir = path.parent().unwrap_or(Path::new("."));
                let ix = v
                    .postings()
                    .map_err(|e| crate::persist::SnapshotError::Codec(e.to_string()))?;
                crate::persist::save_matching(&matching_path(dir), ix.segments())
            })
            .map_err(|e| EngineError::Other(e.to_string()))
    }

    /// Insert or replace companies (validated records), committing every [`COMMIT_BATCH`].
    pub fn upsert_companies(&self, companies: Vec<Company>) -> Result<WriteSummary, EngineError> {
        let mut summary = WriteSummary::default();
        for chunk in companies.chunks(COMMIT_BATCH) {
            let s = self.upsert_company_batch(chunk)?;
            summary.created += s.created;
            summary.updated += s.updated;
        }
        Ok(summary)
    }

    fn upsert_company_batch(&self, batch: &[Company]) -> Result<WriteSummary, EngineError> {
        if batch.is_empty() {
            return Ok(WriteSummary::default());
        }
        let ctx = &self.ctx;
        let f = self.companies.fields;
        self.write(Which::Companies, |writer, rec| {
            let mut summary = WriteSummary::default();
            let slots: Vec<u32> = batch
                .iter()
                .map(|c| {
                    if rec.companies.slot_of(c.id.as_str()).is_some() {
                        summary.updated += 1;
                    } else {
                        summary.created += 1;
                    }
                    rec.companies.reserve(&c.id)
                })
                .collect();
            let prepared: Vec<(CompanyFeatures, TantivyDocument)> = batch
                .par_iter()
                .zip(slots.par_iter())
                .map(|(c, &slot)| {
                    let a = schema::CompanyAnalysis::new(c, &ctx.analyzer, &ctx.ontology);
                    let feats = CompanyFeatures::with_concepts(c, &ctx.taxonomy, a.concepts());
                    let doc = schema::company_doc(&f, c, slot, &a, &feats.concepts, &ctx.ontology);
                    (feats, doc)
                })
                .collect();
            for ((feat, doc), slot) in prepared.into_iter().zip(slots) {
                writer.delete_term(Term::from_field_text(f.id, feat.id.as_str()));
                writer.add_document(doc)?;
                rec.set_company(slot, feat, &ctx.ontology);
            }
            Ok((summary, true))
        })
    }

    /// Insert or replace needs.
    pub fn upsert_needs(&self, needs: Vec<Need>) -> Result<WriteSummary, EngineError> {
        if needs.is_empty() {
            return Ok(WriteSummary::default());
        }
        let ctx = &self.ctx;
        let f = self.needs.fields;
        self.write(Which::Needs, |writer, rec| {
            let mut summary = WriteSummary::default();
            let slots: Vec<u32> = needs
                .iter()
                .map(|n| {
                    if rec.needs.slot_of(n.id.as_str()).is_some() {
                        summary.updated += 1;
                    } else {
                        summary.created += 1;
                    }
                    rec.needs.reserve(&n.id)
                })
                .collect();
            let prepared: Vec<(NeedEntry, TantivyDocument)> = needs
                .into_par_iter()
                .zip(slots.par_iter())
                .map(|(n, &slot)| {
                    let concepts = ctx.ontology.need_concepts(&n);
                    let doc = schema::need_doc(&f, &n, slot, &concepts, &ctx.ontology);
                    (NeedEntry { need: n, concepts }, doc)
                })
                .collect();
            for ((entry, doc), slot) in prepared.into_iter().zip(slots) {
                writer.delete_term(Term::from_field_text(f.id, entry.need.id.as_str()));
                writer.add_document(doc)?;
                rec.needs.set(slot, entry);
            }
            Ok((summary, true))
        })
    }

    /// Delete a company by id. Returns whether it existed.
    pub fn delete_company(&self, id: &str) -> Result<bool, EngineError> {
        let Ok(rid) = id.parse::<crate::model::RecordId>() else {
            return Ok(false);
        };
        let f = self.companies.fields;
        let ontology = &self.ctx.ontology;
        self.write(Which::Companies, |writer, rec| {
            if rec.companies.slot_of(id).is_none() {
                return Ok((false, false));
            }
            writer.delete_term(Term::from_field_text(f.id, id));
            rec.remove_company(&rid, ontology);
            Ok((true, true))
        })
    }

    /// Delete a need by id. Returns whether it existed.
    pub fn delete_need(&self, id: &str) -> Result<bool, EngineError> {
        let Ok(rid) = id.parse::<crate::model::RecordId>() else {
            return Ok(false);
        };
        let f = self.needs.fields;
        self.write(Which::Needs, |writer, rec| {
            if rec.needs.slot_of(id).is_none() {
                return Ok((false, false));
            }
            writer.delete_term(Term::from_field_text(f.id, id));
            rec.needs.remove(&rid);
            Ok((true, true))
        })
    }

    /// The full company record, if `role` may see it. A restricted company
    /// is `None` for a public caller, exactly as a missing one.
    pub fn company(&self, id: &str, role: Role) -> Result<Option<Company>, EngineError> {
        self.company_in(&self.view(), id, role)
    }

    /// [`Engine::company`] in a given view.
    pub fn company_in(
        &self,
        v: &View,
        id: &str,
        role: Role,
    ) -> Result<Option<Company>, EngineError> {
        let rec = &v.records;
        let Some(slot) = rec.companies.slot_of(id) else {
            return Ok(None);
        };
        match rec.companies.get(slot) {
            Some(f) if role.may_see(f.visibility) => {}
            _ => return Ok(None),
        }
        self.stored_company(v, id)
    }

    /// The stored record of company `id` in view `v`, whoever may see it:
    /// callers check the role first.
    pub(crate) fn stored_company(
        &self,
        v: &View,
        id: &str,
    ) -> Result<Option<Company>, EngineError> {
        Ok(self
            .stored_doc(v, id)?
            .and_then(|d| record_of(&d, self.companies.fields.record)))
    }

    /// The stored document of company `id` in view `v` (its record and its
    /// evidence), whoever may see it: callers check the role first.
    pub(crate) fn stored_doc(
        &self,
        v: &View,
        id: &str,
    ) -> Result<Option<TantivyDocument>, EngineError> {
        // The view maps each live slot to its document: no term query.
        let Some(addr) = v.records.companies.slot_of(id).and_then(|s| v.doc_of(s)) else {
            return Ok(None);
        };
        Ok(Some(v.companies.doc(addr)?))
    }

    /// A need by id, with its owner (what a coordinator sees).
    pub fn need(&self, id: &str) -> Option<Need> {
        self.need_for(id, Role::Coordinator)
    }

    /// A need by id as `role` may see it (see [`View::need_as_seen`]).
    pub fn need_for(&self, id: &str, role: Role) -> Option<Need> {
        self.need_in(&self.view(), id, role)
    }

    /// [`Engine::need_for`] in a given view.
    pub fn need_in(&self, v: &View, id: &str, role: Role) -> Option<Need> {
        let rec = &v.records;
        rec.needs
            .slot_of(id)
            .and_then(|s| rec.needs.get(s))
            .map(|e| v.need_as_seen(&e.need, role).into_owned())
    }

    /// All needs as `role` may see them, sorted by id, from one view.
    pub fn needs_for(&self, role: Role) -> Vec<Need> {
        let v = self.view();
        let mut out: Vec<Need> = v
            .records
            .needs
            .iter()
            .map(|(_, e)| v.need_as_seen(&e.need, role).into_owned())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Company ids visible to `role`, sorted, for paging.
    pub fn company_ids(&self, role: Role) -> Vec<String> {
        let v = self.view();
        let mut ids: Vec<String> = v
            .records
            .companies
            .iter()
            .filter(|(_, f)| role.may_see(f.visibility))
            .map(|(_, f)| f.id.to_string())
            .collect();
        ids.sort();
        ids
    }

    /// All needs, sorted by id, with their owners (what a coordinator sees).
    pub fn needs(&self) -> Vec<Need> {
        self.needs_for(Role::Coordinator)
    }

    /// Number of companies (all roles) and needs.
    pub fn counts(&self) -> (usize, usize) {
        self.view().counts()
    }

    /// Bytes used by the index files on disk (0 in memory).
    pub fn disk_size(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => walk(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        self.dir.as_deref().map(walk).unwrap_or(0)
    }

    /// When the features snapshot was last written (`None` in memory or
    /// before the first save). Operators watch its age: a server killed
    /// long after its last snapshot rebuilds the features from the stored
    /// records at its next start, which takes longer on a large index.
    pub fn snapshot_modified(&self) -> Option<std::time::SystemTime> {
        let path = self.snapshot_path()?;
        std::fs::metadata(path).ok()?.modified().ok()
    }
}
