//! The engine: two tantivy indexes (companies, needs) in a data folder, the
//! in-memory features of every record, and the shared analysis context.
//!
//! Data folder layout (format version [`FORMAT_VERSION`]):
//! ```text
//! DIR/FORMAT         "matcher-data <version>"
//! DIR/companies/     tantivy index of company profiles (full record stored)
//! DIR/needs/         tantivy index of needs (full record stored)
//! DIR/snapshot.bin   features snapshot (see `persist`), rebuilt if stale or corrupt
//! ```
//! Durability comes from tantivy's atomic commits: a process killed in the
//! middle of a bulk import loses only the uncommitted batch. Readers keep
//! answering from the last commit while a writer imports.

pub mod records;
pub mod schema;
pub mod search;
pub mod snippet;
pub(crate) mod top_slots;

pub(crate) mod query;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use rayon::prelude::*;
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::Analyzer;
use crate::concepts::Ontology;
use crate::model::{Company, Date, Need};
use crate::taxonomy::Taxonomy;
use records::{CompanyFeatures, NeedEntry, Records};
use schema::{CompanyFields, NeedFields};

pub use search::{Facet, Facets, Filters, Hit, Near, Role, SearchRequest, SearchResponse, Sort};

/// Version of the data folder layout; bump on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;
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

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot use the data folder {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the data folder {} has format {found:?}, this build reads \"matcher-data {FORMAT_VERSION}\"; re-import into an empty folder", path.display())]
    Format { path: PathBuf, found: String },
    #[error("{0}")]
    Search(#[from] search::SearchError),
    #[error("{0}")]
    Other(String),
}

/// The shared, read-only analysis context.
pub struct Context {
    pub analyzer: Arc<Analyzer>,
    pub taxonomy: Taxonomy,
    pub ontology: Ontology,
    /// Profiles not confirmed for this many months are stale.
    pub stale_months: u32,
    pub match_config: crate::matching::MatchConfig,
}

impl Context {
    /// Load the analyzer, tables and ontology from a fixtures folder.
    pub fn load(fixtures: &Path) -> Result<Context, Box<dyn std::error::Error + Send + Sync>> {
        let analyzer = Arc::new(Analyzer::from_dir(&fixtures.join("dict"))?);
        let taxonomy = Taxonomy::load(fixtures)?;
        let ontology = Ontology::load(&fixtures.join("concepts.jsonl"), Some(analyzer.clone()))?;
        Ok(Context {
            analyzer,
            taxonomy,
            ontology,
            stale_months: 24,
            match_config: Default::default(),
        })
    }

    /// Updates before this date are stale.
    pub fn stale_cutoff(&self) -> Date {
        Date::today().minus_months(self.stale_months)
    }
}

pub(crate) struct Store<F> {
    pub index: Index,
    pub reader: IndexReader,
    /// Opened on first write, so read-only tools can share a data folder with a running server.
    writer: Mutex<Option<IndexWriter>>,
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
            writer: Mutex::new(None),
            fields,
        })
    }

    /// The index writer, opened on first use.
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Option<IndexWriter>>, EngineError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let w = self.index.writer(WRITER_HEAP).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => EngineError::Other(
                    "another process (probably `matcher serve`) is writing to this data folder; \
                     stop it, or write through its REST API"
                        .into(),
                ),
                e => EngineError::Index(e),
            })?;
            *guard = Some(w);
        }
        Ok(guard)
    }

    fn opstamp(&self) -> u64 {
        self.index.load_metas().map(|m| m.opstamp).unwrap_or(0)
    }

    /// (slot, stored JSON record) of every live document.
    fn stored_records(
        &self,
        slot: tantivy::schema::Field,
        record: tantivy::schema::Field,
    ) -> Result<Vec<(u32, String)>, EngineError> {
        let searcher = self.reader.searcher();
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
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WriteSummary {
    pub created: usize,
    pub updated: usize,
}

/// The matching engine.
pub struct Engine {
    pub ctx: Arc<Context>,
    pub(crate) companies: Store<CompanyFields>,
    pub(crate) needs: Store<NeedFields>,
    pub(crate) records: RwLock<Records>,
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
        Ok(Engine {
            ctx,
            companies,
            needs,
            records: RwLock::new(Records::default()),
            dir: None,
        })
    }

    /// Open (or create) the data folder `dir`.
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
        let engine = Engine {
            ctx,
            companies,
            needs,
            records: RwLock::new(Records::default()),
            dir: Some(dir.to_path_buf()),
        };
        engine.load_records()?;
        Ok(engine)
    }

    /// Take the index writers now (a server does, so that no other process
    /// can write behind its in-memory state).
    pub fn lock_for_writing(&self) -> Result<(), EngineError> {
        drop(self.companies.writer()?);
        drop(self.needs.writer()?);
        Ok(())
    }

    pub fn data_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn snapshot_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("snapshot.bin"))
    }

    /// Restore in-memory records from the snapshot if it matches the
    /// indexes, else rebuild them from the stored documents.
    fn load_records(&self) -> Result<(), EngineError> {
        let stamps = (self.companies.opstamp(), self.needs.opstamp());
        if let Some(path) = self.snapshot_path() {
            match crate::persist::load(&path, stamps) {
                Ok(mut records) => {
                    records.rebuild_filter_keys();
                    *self.write_records() = records;
                    return Ok(());
                }
                Err(crate::persist::SnapshotError::Missing) => {}
                Err(e) => tracing::warn!(
                    "snapshot {}: {e}; rebuilding features from the index",
                    path.display()
                ),
            }
        }
        self.rebuild_records()
    }

    /// Recompute every feature from the stored records (after a crash, a
    /// corrupt snapshot or an ontology change).
    pub fn rebuild_records(&self) -> Result<(), EngineError> {
        let ctx = &self.ctx;
        let (cf, nf) = (self.companies.fields, self.needs.fields);
        let mut records = Records::default();
        let companies: Vec<(u32, CompanyFeatures)> = self
            .companies
            .stored_records(cf.slot, cf.record)?
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
        for (slot, s) in self.needs.stored_records(nf.slot, nf.record)? {
            if let Ok(n) = serde_json::from_str::<Need>(&s) {
                let concepts = ctx.ontology.need_concepts(&n);
                records.needs.set(slot, NeedEntry { need: n, concepts });
            }
        }
        records.needs.reindex(|e| e.need.id.clone());
        *self.write_records() = records;
        Ok(())
    }

    /// Write the features snapshot (atomic). Call after a bulk import and at shutdown.
    pub fn save_snapshot(&self) -> Result<(), EngineError> {
        let Some(path) = self.snapshot_path() else {
            return Ok(());
        };
        let stamps = (self.companies.opstamp(), self.needs.opstamp());
        crate::persist::save(&path, &self.read_records(), stamps)
            .map_err(|e| EngineError::Other(e.to_string()))
    }

    /// Readers never wait behind a queued writer (`read_recursive`): a
    /// rayon worker inside one match may pick up another match's task that
    /// reads too, and with a fair lock a queued upsert between them would
    /// deadlock the pool.
    pub(crate) fn read_records(&self) -> RwLockReadGuard<'_, Records> {
        self.records.read_recursive()
    }

    fn write_records(&self) -> RwLockWriteGuard<'_, Records> {
        self.records.write()
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
        let ctx = &self.ctx;
        let f = self.companies.fields;
        let mut guard = self.companies.writer()?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| EngineError::Other("index writer unavailable".into()))?;
        let mut summary = WriteSummary::default();
        let slots: Vec<u32> = {
            let mut rec = self.write_records();
            batch
                .iter()
                .map(|c| {
                    if rec.companies.slot_of(c.id.as_str()).is_some() {
                        summary.updated += 1;
                    } else {
                        summary.created += 1;
                    }
                    rec.companies.reserve(&c.id)
                })
                .collect()
        };
        let prepared: Vec<(CompanyFeatures, TantivyDocument)> = batch
            .par_iter()
            .zip(slots.par_iter())
            .map(|(c, &slot)| {
                let a = schema::CompanyAnalysis::new(c, &ctx.analyzer);
                let feats = CompanyFeatures::with_analysis(
                    c,
                    &ctx.taxonomy,
                    &ctx.ontology,
                    &a.capabilities,
                    a.products.as_ref(),
                );
                let doc = schema::company_doc(&f, c, slot, &a, &feats.concepts, &ctx.ontology);
                (feats, doc)
            })
            .collect();
        let mut feats = Vec::with_capacity(prepared.len());
        for (feat, doc) in prepared {
            writer.delete_term(Term::from_field_text(f.id, feat.id.as_str()));
            writer.add_document(doc)?;
            feats.push(feat);
        }
        writer.commit()?;
        {
            let mut rec = self.write_records();
            for (feat, slot) in feats.into_iter().zip(slots) {
                rec.set_company(slot, feat, &ctx.ontology);
            }
        }
        self.companies.reader.reload()?;
        Ok(summary)
    }

    /// Insert or replace needs.
    pub fn upsert_needs(&self, needs: Vec<Need>) -> Result<WriteSummary, EngineError> {
        let ctx = &self.ctx;
        let f = self.needs.fields;
        let mut guard = self.needs.writer()?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| EngineError::Other("index writer unavailable".into()))?;
        let mut summary = WriteSummary::default();
        let slots: Vec<u32> = {
            let mut rec = self.write_records();
            needs
                .iter()
                .map(|n| {
                    if rec.needs.slot_of(n.id.as_str()).is_some() {
                        summary.updated += 1;
                    } else {
                        summary.created += 1;
                    }
                    rec.needs.reserve(&n.id)
                })
                .collect()
        };
        let prepared: Vec<(NeedEntry, TantivyDocument)> = needs
            .into_par_iter()
            .zip(slots.par_iter())
            .map(|(n, &slot)| {
                let concepts = ctx.ontology.need_concepts(&n);
                let doc = schema::need_doc(&f, &n, slot, &concepts, &ctx.ontology);
                (NeedEntry { need: n, concepts }, doc)
            })
            .collect();
        let mut entries = Vec::with_capacity(prepared.len());
        for (entry, doc) in prepared {
            writer.delete_term(Term::from_field_text(f.id, entry.need.id.as_str()));
            writer.add_document(doc)?;
            entries.push(entry);
        }
        writer.commit()?;
        {
            let mut rec = self.write_records();
            for (e, slot) in entries.into_iter().zip(slots) {
                rec.needs.set(slot, e);
            }
        }
        self.needs.reader.reload()?;
        Ok(summary)
    }

    /// Delete a company by id. Returns whether it existed.
    pub fn delete_company(&self, id: &str) -> Result<bool, EngineError> {
        let f = self.companies.fields;
        let mut guard = self.companies.writer()?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| EngineError::Other("index writer unavailable".into()))?;
        let rid = match id.parse() {
            Ok(r) => r,
            Err(_) => return Ok(false),
        };
        if self.read_records().companies.slot_of(id).is_none() {
            return Ok(false);
        }
        writer.delete_term(Term::from_field_text(f.id, id));
        writer.commit()?;
        self.write_records()
            .remove_company(&rid, &self.ctx.ontology);
        self.companies.reader.reload()?;
        Ok(true)
    }

    /// Delete a need by id. Returns whether it existed.
    pub fn delete_need(&self, id: &str) -> Result<bool, EngineError> {
        let f = self.needs.fields;
        let mut guard = self.needs.writer()?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| EngineError::Other("index writer unavailable".into()))?;
        let rid = match id.parse() {
            Ok(r) => r,
            Err(_) => return Ok(false),
        };
        if self.read_records().needs.slot_of(id).is_none() {
            return Ok(false);
        }
        writer.delete_term(Term::from_field_text(f.id, id));
        writer.commit()?;
        self.write_records().needs.remove(&rid);
        self.needs.reader.reload()?;
        Ok(true)
    }

    /// The full company record, if `role` may see it. A restricted company
    /// is `None` for a public caller, exactly as a missing one.
    pub fn company(&self, id: &str, role: Role) -> Result<Option<Company>, EngineError> {
        {
            let rec = self.read_records();
            let Some(slot) = rec.companies.slot_of(id) else {
                return Ok(None);
            };
            match rec.companies.get(slot) {
                Some(f) if role.may_see(f.visibility) => {}
                _ => return Ok(None),
            }
        }
        self.stored_company(id)
    }

    pub(crate) fn stored_company(&self, id: &str) -> Result<Option<Company>, EngineError> {
        let f = self.companies.fields;
        let searcher = self.companies.reader.searcher();
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(f.id, id),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let top = searcher.search(
            &q,
            &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
        )?;
        let Some((_, addr)) = top.first() else {
            return Ok(None);
        };
        let d: TantivyDocument = searcher.doc(*addr)?;
        Ok(d.get_first(f.record)
            .and_then(|v| v.as_str())
            .and_then(|s| serde_json::from_str(s).ok()))
    }

    /// A need by id.
    pub fn need(&self, id: &str) -> Option<Need> {
        let rec = self.read_records();
        rec.needs
            .slot_of(id)
            .and_then(|s| rec.needs.get(s))
            .map(|e| e.need.clone())
    }

    /// Company ids visible to `role`, sorted, for paging.
    pub fn company_ids(&self, role: Role) -> Vec<String> {
        let rec = self.read_records();
        let mut ids: Vec<String> = rec
            .companies
            .iter()
            .filter(|(_, f)| role.may_see(f.visibility))
            .map(|(_, f)| f.id.to_string())
            .collect();
        ids.sort();
        ids
    }

    /// All needs, sorted by id.
    pub fn needs(&self) -> Vec<Need> {
        let rec = self.read_records();
        let mut v: Vec<Need> = rec.needs.iter().map(|(_, e)| e.need.clone()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Number of companies (all roles) and needs.
    pub fn counts(&self) -> (usize, usize) {
        let rec = self.read_records();
        (rec.companies.len(), rec.needs.len())
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
}
