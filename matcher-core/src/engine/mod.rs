//! The engine: what a program that embeds matcher holds. It owns two
//! tantivy indexes (companies, needs) in a data folder or in memory, the
//! in-memory features of every record, the shared analysis [`Context`] and
//! the matching configuration, and publishes the [`View`] every request
//! reads.
//!
//! What an [`Engine`] does, by purpose:
//!
//! | for | methods |
//! |---|---|
//! | opening | [`Engine::open`], [`Engine::in_memory`], [`Engine::with_match_config`] |
//! | reading records | [`Engine::company`], [`Engine::need`], [`Engine::needs`], [`Engine::company_ids`], [`Engine::counts`] (each a [`View`] read: `View::company`, …) |
//! | searching | [`Engine::search`] |
//! | matching | [`Engine::matcher`]: a [`Matcher`] over the current view (`match_need`, `match_need_id`, `opportunities`; batches through [`crate::matching::batch::run`]) |
//! | writing (`write.rs`) | [`Engine::upsert_companies`], [`Engine::upsert_needs`] (both validate), [`Engine::delete_company`], [`Engine::delete_need`], [`Engine::lock_for_writing`] |
//! | durability (`write.rs`) | [`Engine::save_snapshot`], [`Engine::rebuild_records`], [`Engine::reopen_writers`] |
//!
//! Every read takes a [`Role`]; privacy is applied in core (see
//! [`crate::access`]), never by the caller.
//!
//! Data folder layout (format version [`FORMAT_VERSION`]):
//! ```text
//! DIR/FORMAT         "matcher-data <version>"
//! DIR/companies/     tantivy index of company profiles (full record and
//!                    explanation evidence stored)
//! DIR/needs/         tantivy index of needs (full record stored)
//! DIR/snapshot.bin   features snapshot (see `index::persist`), rebuilt if stale or corrupt
//! DIR/matching.bin   the matching index's postings per segment, saved with the
//!                    snapshot (see `index::postings`); segments it lacks are decoded at open
//! DIR/writer.lock    held by the one process that writes (see `index::lock`)
//! ```
//! Durability comes from tantivy's atomic commits: a process killed in the
//! middle of a bulk import loses only the uncommitted batch.
//!
//! Concurrency: readers work on a [`View`] — the searchers and features of
//! one commit — loaded once per request; writers are serialized, build the
//! next view privately and publish it with an atomic swap (see
//! `index/view.rs`). A write that fails leaves the engine *failed*: later
//! writes are refused with [`EngineError::WriterFailed`] until
//! [`Engine::reopen_writers`] (or a restart) — never acknowledged and then
//! lost.

mod reindex;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use serde::Serialize;
use tantivy::directory::error::OpenDirectoryError;
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, Query};
use tantivy::Index;

use crate::access::Role;
use crate::context::Context;
use crate::index::persist::SnapshotError;
use crate::index::postings;
use crate::index::query::ParsedQuery;
use crate::index::records::Records;
use crate::index::schema::{CompanyFields, NeedFields};
use crate::index::search::{
    self, ResolvedFilters, SearchError, SearchRequest, SearchResponse, TextBoosts,
};
use crate::index::{index_settings, matching_path, LockError, Store, View};
use crate::matching::{MatchConfig, MatchError, Matcher};
use crate::model::{Company, Date, Need};

pub use reindex::ReindexSummary;
pub use write::{RebuildSummary, RecordKind, UnreadableRecord};

/// Version of the data folder layout; bump on incompatible changes.
pub const FORMAT_VERSION: u32 = 3;
/// Records per commit in a bulk import: what a crash can lose at most.
pub const COMMIT_BATCH: usize = 5_000;

/// Why an engine call failed: each failure its own variant, and each
/// message says what to do about it. Reads fail only on the index or the
/// caller's request; a failed write also fails later writes
/// ([`EngineError::WriterFailed`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// tantivy failed (a damaged index, a full disk).
    #[error(
        "index error: {0} (if it persists, check the disk; a damaged data folder is restored \
         from a backup, `matcher backup`)"
    )]
    Index(#[from] tantivy::TantivyError),
    /// A file of the data folder could not be read or written.
    #[error("cannot use the data folder {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An index folder inside the data folder could not be opened.
    #[error(
        "cannot open the index folder {}: {source}; check that it exists, is a folder and is \
         readable and writable by this user",
        path.display()
    )]
    OpenIndex {
        /// The index folder (`DIR/companies` or `DIR/needs`).
        path: PathBuf,
        /// What tantivy said.
        source: OpenDirectoryError,
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
    Search(#[from] SearchError),
    /// The match request is invalid, or the index could not be read while
    /// matching.
    #[error("{0}")]
    Match(#[from] MatchError),
    /// Records given to an upsert did not validate; nothing was written.
    #[error("{0}")]
    Invalid(#[from] InvalidRecords),
    /// Another process holds the data folder's writer lock.
    #[error("{0}")]
    Locked(#[from] LockError),
    /// tantivy's own index lock is held: another writer has this index open.
    #[error(
        "another process (probably `matcher serve`) is writing to the index in {}; stop it, \
         or write through its REST API",
        path.display()
    )]
    IndexBusy {
        /// The index folder (empty for an index in memory).
        path: PathBuf,
    },
    /// The features snapshot could not be saved. Nothing is lost: the index
    /// holds every record, and a missing or stale snapshot is rebuilt from
    /// it at the next open (which takes longer on a large index).
    #[error(
        "cannot save the features snapshot {}: {source}; the records are safe in the index \
         (the next start rebuilds the features from it): free disk space or fix the folder's \
         permissions, then save again",
        path.display()
    )]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What failed (boxed: a stale snapshot's error names four
        /// commits, and every `Result` of the engine would carry its size).
        source: Box<SnapshotError>,
    },
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
}

impl From<crate::index::ReadError> for EngineError {
    fn from(e: crate::index::ReadError) -> Self {
        EngineError::Index(e.0)
    }
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

/// A record an upsert refused: which one, which field, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvalidRecord {
    /// The record's id.
    pub id: String,
    /// The field's path (`equipment[2].name`).
    pub field: String,
    /// What is wrong and, where there is one, the value expected.
    pub reason: String,
}

/// The records of one upsert that did not validate against the context's
/// tables ([`crate::model::validate`]). The upsert writes nothing when any
/// record is invalid, so a caller can fix them and send the same batch
/// again.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{}", describe_invalid(.records))]
pub struct InvalidRecords {
    /// Every invalid record of the batch, in input order.
    pub records: Vec<InvalidRecord>,
}

fn describe_invalid(records: &[InvalidRecord]) -> String {
    const SHOWN: usize = 5;
    let mut s = format!(
        "{} record{} did not validate and nothing was written; fix {} and upsert again \
         (import::parse validates and reports every row): ",
        records.len(),
        if records.len() == 1 { "" } else { "s" },
        if records.len() == 1 { "it" } else { "them" },
    );
    for (i, r) in records.iter().take(SHOWN).enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&format!("{}: {}: {}", r.id, r.field, r.reason));
    }
    if records.len() > SHOWN {
        s.push_str(&format!("; and {} more", records.len() - SHOWN));
    }
    s
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WriteSummary {
    /// Records whose id was new.
    pub created: usize,
    /// Records that replaced one with the same id.
    pub updated: usize,
}

/// The matching engine: see the [module documentation](self) for what it
/// does and where.
pub struct Engine {
    /// The analysis context every request of this engine reads.
    pub ctx: Arc<Context>,
    /// How matching weighs and cuts (see [`Engine::with_match_config`]).
    config: MatchConfig,
    pub(crate) companies: Store<CompanyFields>,
    pub(crate) needs: Store<NeedFields>,
    /// The current view; replaced whole by each write.
    view: ArcSwap<View>,
    writers: Mutex<write::Writers>,
    dir: Option<PathBuf>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Engine {
    /// An engine held entirely in memory (tests, embedding without a disk),
    /// matching with the default configuration.
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

    /// Open (or create) the data folder `dir`, matching with the default
    /// configuration. Opening only reads: the folder's writer lock is taken
    /// at the first write (or by [`Engine::lock_for_writing`]), so
    /// read-only tools can share a folder with a running server.
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
            let d = MmapDirectory::open(&p).map_err(|source| EngineError::OpenIndex {
                path: p.clone(),
                source,
            })?;
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
            config: MatchConfig::default(),
            companies,
            needs,
            view: ArcSwap::from_pointee(empty),
            writers: Mutex::new(write::Writers::default()),
            dir,
        };
        engine.load_records()?;
        Ok(engine)
    }

    /// This engine matching with `config` (e.g. read from
    /// `config/matcher.toml`) instead of the defaults. The configuration
    /// is the engine's, not each request's: a view memoizes the rankings
    /// of stored needs (opportunities, mutual scores), which are only
    /// right for the configuration they were ranked with, so the current
    /// view is republished with an empty memo.
    pub fn with_match_config(mut self, config: MatchConfig) -> Engine {
        self.config = config;
        let v = self.view();
        self.view.store(Arc::new(v.with_needs(
            v.needs.clone(),
            v.records.clone(),
            v.commits,
        )));
        self
    }

    /// How this engine matches: weights, candidates, scoping, the field
    /// boosts search shares, staleness.
    pub fn match_config(&self) -> &MatchConfig {
        &self.config
    }

    /// The current view of the data. A request loads it once and works on
    /// it to the end: later writes publish new views and leave this one
    /// as it is.
    pub fn view(&self) -> Arc<View> {
        self.view.load_full()
    }

    /// Matching over the current view: every call of the [`Matcher`] reads
    /// that one view, however many needs it ranks, so take one per request
    /// (or per batch) and drop it when done; later writes publish new views
    /// and leave this one as it is.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher::new(&self.ctx, &self.config, self.view())
    }

    /// Profiles not confirmed since this date are stale (flagged in answers,
    /// and excluded by a search that asks).
    pub fn stale_cutoff(&self) -> Date {
        Date::today().minus_months(self.config.stale_months)
    }

    /// The data folder, or none for an engine in memory.
    pub fn data_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn snapshot_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("snapshot.bin"))
    }

    /// The full company record, if `role` may see it. A restricted company
    /// is `None` for a public caller, exactly as a missing one. To read it
    /// together with other answers of one request, use [`View::company`]
    /// on the request's view.
    pub fn company(&self, id: &str, role: Role) -> Result<Option<Company>, EngineError> {
        Ok(self.view().company(id, role)?)
    }

    /// A need by id as `role` may see it: an owner the role may not see is
    /// removed (see [`View::need_as_seen`]). `None` if there is no such need.
    pub fn need(&self, id: &str, role: Role) -> Option<Need> {
        self.view().need(id, role)
    }

    /// All needs as `role` may see them, sorted by id, from one view.
    pub fn needs(&self, role: Role) -> Vec<Need> {
        self.view().needs(role)
    }

    /// Company ids visible to `role`, sorted, for paging.
    pub fn company_ids(&self, role: Role) -> Vec<String> {
        self.view().company_ids(role)
    }

    /// Number of companies (all roles) and needs.
    pub fn counts(&self) -> (usize, usize) {
        self.view().counts()
    }

    /// Search companies (free text, filters, facets, highlights, paging) as
    /// `role` may see them, on one view.
    pub fn search(&self, req: &SearchRequest, role: Role) -> Result<SearchResponse, EngineError> {
        let chars = req.query.chars().count();
        if chars > search::MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong { chars }.into());
        }
        if req.limit == 0 || req.limit > search::MAX_PAGE_SIZE {
            return Err(SearchError::PageTooLarge(req.limit).into());
        }
        if req.offset > search::MAX_OFFSET {
            return Err(SearchError::OffsetTooLarge(req.offset).into());
        }
        let parsed = ParsedQuery::parse(&req.query);
        if parsed.is_empty() && parsed.excluded.is_empty() && req.filters.is_empty() {
            return Err(SearchError::EmptyQuery.into());
        }
        let cutoff = self.stale_cutoff();
        let filters = ResolvedFilters::resolve(&req.filters, &self.ctx.taxonomy, cutoff)?;
        let (q, highlight_terms) = search::search_query(
            &self.companies.fields,
            &self.ctx.analyzer,
            self.text_boosts(),
            &parsed,
            true,
        );
        // Text that yields no term ("の", "-") is no query: with filters it
        // is a filter-only search, without any it is empty, not "everything".
        let q: Box<dyn Query> = match q {
            Some(q) => q,
            None if req.filters.is_empty() => return Err(SearchError::EmptyQuery.into()),
            None => Box::new(AllQuery),
        };
        let v = self.view();
        let hits = search::matching_slots(&v, q.as_ref(), role, &filters)?;
        let page = search::page(&v, &self.ctx, req, hits, &highlight_terms, cutoff)?;
        Ok(page)
    }

    /// The field boosts of company search: the ones matching uses
    /// (config `[fields]`), but for the name (see
    /// [`crate::matching::FieldBoosts`]).
    fn text_boosts(&self) -> TextBoosts {
        let b = &self.config.fields;
        TextBoosts {
            name: b.name_search,
            capabilities: b.capabilities,
            products: b.products,
            equipment: b.equipment,
        }
    }

    /// Company ids for a free-text query, best first (coordinator view, no
    /// filters): what the search evaluation ranks, with or without bigrams.
    #[cfg(any(test, feature = "testkit"))]
    pub(crate) fn search_ranking(
        &self,
        text: &str,
        bigrams: bool,
        limit: usize,
    ) -> Result<Vec<String>, EngineError> {
        let parsed = ParsedQuery::parse(text);
        let (Some(q), _) = search::search_query(
            &self.companies.fields,
            &self.ctx.analyzer,
            self.text_boosts(),
            &parsed,
            bigrams,
        ) else {
            return Ok(Vec::new());
        };
        let none = ResolvedFilters::resolve(
            &search::Filters::default(),
            &self.ctx.taxonomy,
            self.stale_cutoff(),
        )?;
        let v = self.view();
        let mut hits = search::matching_slots(&v, q.as_ref(), Role::Coordinator, &none)?;
        let rec = &v.records;
        let id_of = |s: u32| {
            rec.companies
                .get(s)
                .map(|f| f.id.to_string())
                .unwrap_or_default()
        };
        hits.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| id_of(a.0).cmp(&id_of(b.0)))
        });
        Ok(hits
            .into_iter()
            .take(limit)
            .map(|(s, _)| id_of(s))
            .collect())
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
