//! The engine's write side: upserts and deletes, serialized by one mutex,
//! each committed to tantivy and published as a new view; the features
//! snapshot; and rebuilding the features from the stored records.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use tantivy::{IndexWriter, TantivyDocument, Term};

use super::{Engine, EngineError, InvalidRecord, InvalidRecords, WriteSummary, COMMIT_BATCH};
use crate::index::lock::DirLock;
use crate::index::persist::{self, SnapshotError};
use crate::index::records::{CompanyFeatures, NeedEntry, Records};
use crate::index::{matching_path, schema, stored_docs, StoredDoc, View};
use crate::model::{validate, Company, Need, RecordId};

/// Which index a write goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Companies,
    Needs,
}

/// The write side, behind one mutex: writes are serialized.
#[derive(Default)]
pub(super) struct Writers {
    companies: Option<IndexWriter>,
    needs: Option<IndexWriter>,
    /// Why the last failed write failed; set, it refuses every write.
    failed: Option<String>,
    /// The data folder's lock, taken before the first write.
    lock: Option<DirLock>,
}

/// Which kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A company profile.
    Company,
    /// A need.
    Need,
}

/// A stored document whose record could not be read back when the features
/// were rebuilt (a record written by a build whose model accepted what
/// this one refuses, or a damaged document). It stays in the index and
/// keeps its id: it is found by no search or match, an upsert of the same
/// id replaces it, and a delete of the id removes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnreadableRecord {
    /// Company or need.
    pub kind: RecordKind,
    /// The record's id, if the document stores one.
    pub id: Option<String>,
    /// The record's slot, if the document stores one.
    pub slot: Option<u32>,
    /// Why it could not be read (serde's message, with line and column of
    /// the stored JSON).
    pub reason: String,
}

/// What rebuilding the features from the stored records found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RebuildSummary {
    /// Companies read back.
    pub companies: usize,
    /// Needs read back.
    pub needs: usize,
    /// Stored documents whose record could not be read (each also logged
    /// as a warning): re-import those records from their source, or delete
    /// their ids.
    pub unreadable: Vec<UnreadableRecord>,
}

/// Document `d` read back as a `T`, or why it cannot be.
pub(super) fn read_back<T: serde::de::DeserializeOwned>(
    d: StoredDoc,
    kind: RecordKind,
) -> Result<(u32, T), UnreadableRecord> {
    let unreadable = |d: StoredDoc, reason: String| UnreadableRecord {
        kind,
        id: d.id,
        slot: d.slot,
        reason,
    };
    let Some(slot) = d.slot else {
        return Err(unreadable(d, "the document stores no slot".into()));
    };
    let Some(json) = d.record.as_deref() else {
        return Err(unreadable(d, "the document stores no record".into()));
    };
    match serde_json::from_str::<T>(json) {
        Ok(t) => Ok((slot, t)),
        Err(e) => Err(unreadable(
            d,
            format!("the stored record does not read: {e}"),
        )),
    }
}

impl Engine {
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
        match slot {
            Some(writer) => Ok(writer),
            None => {
                let opened = match which {
                    Which::Companies => self.companies.open_writer(),
                    Which::Needs => self.needs.open_writer(),
                };
                let writer = opened.map_err(|e| match e {
                    tantivy::TantivyError::LockFailure(..) => EngineError::IndexBusy {
                        path: self
                            .dir
                            .as_deref()
                            .map(|d| {
                                d.join(match which {
                                    Which::Companies => "companies",
                                    Which::Needs => "needs",
                                })
                            })
                            .unwrap_or_default(),
                    },
                    e => EngineError::Index(e),
                })?;
                Ok(slot.insert(writer))
            }
        }
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
    pub fn reopen_writers(&self) -> Result<RebuildSummary, EngineError> {
        let mut w = self.writers.lock();
        w.companies = None;
        w.needs = None;
        self.companies.reader.reload()?;
        self.needs.reader.reload()?;
        let summary = self.rebuild_from_disk()?;
        w.failed = None;
        Ok(summary)
    }

    /// Restore in-memory records from the snapshot if it was taken at the
    /// indexes' current commits, else rebuild them from the stored documents.
    pub(super) fn load_records(&self) -> Result<(), EngineError> {
        let base = self.view();
        if let Some(path) = self.snapshot_path() {
            match persist::load(&path, base.commits, self.ctx.ontology.fingerprint()) {
                Ok(mut records) => {
                    records.rebuild_filter_keys();
                    warn_held(&records);
                    self.view.store(Arc::new(
                        base.with_records(Arc::new(records), &self.companies.fields)?,
                    ));
                    return Ok(());
                }
                Err(SnapshotError::Missing) => {
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
        self.rebuild_from_disk().map(drop)
    }

    /// Recompute every feature from the stored records (after a crash, a
    /// corrupt snapshot or an ontology change) and publish them. Records
    /// that cannot be read back are reported (and logged), not dropped:
    /// see [`UnreadableRecord`].
    pub fn rebuild_records(&self) -> Result<RebuildSummary, EngineError> {
        let _w = self.writers.lock();
        self.rebuild_from_disk()
    }

    fn rebuild_from_disk(&self) -> Result<RebuildSummary, EngineError> {
        let ctx = &self.ctx;
        let (cf, nf) = (self.companies.fields, self.needs.fields);
        let (cs, ns) = (
            self.companies.reader.searcher(),
            self.needs.reader.searcher(),
        );
        let commits = [self.companies.commit_id(&cs), self.needs.commit_id(&ns)];
        let mut records = Records::default();
        let mut summary = RebuildSummary::default();
        let companies: Vec<Result<(u32, CompanyFeatures), UnreadableRecord>> =
            stored_docs(&cs, cf.slot, cf.id, cf.record)?
                .into_par_iter()
                .map(|d| {
                    let (slot, c) = read_back::<Company>(d, RecordKind::Company)?;
                    Ok((slot, CompanyFeatures::new(&c, &ctx.taxonomy, &ctx.ontology)))
                })
                .collect();
        for r in companies {
            match r {
                Ok((slot, f)) => {
                    records.set_company(slot, f, &ctx.ontology);
                    summary.companies += 1;
                }
                Err(u) => summary.unreadable.push(u),
            }
        }
        records.companies.reindex(|f| f.id.clone());
        for d in stored_docs(&ns, nf.slot, nf.id, nf.record)? {
            match read_back::<Need>(d, RecordKind::Need) {
                Ok((slot, n)) => {
                    let concepts = ctx.ontology.need_concepts(&n);
                    records.needs.set(slot, NeedEntry { need: n, concepts });
                    summary.needs += 1;
                }
                Err(u) => summary.unreadable.push(u),
            }
        }
        records.needs.reindex(|e| e.need.id.clone());
        // An unreadable document keeps its id and slot (held, with no
        // features), so that memory still counts what the index holds and
        // a later upsert of the id replaces it. One without either cannot
        // be held: it is reported all the same.
        for u in &summary.unreadable {
            let id = u.id.as_deref().and_then(|i| i.parse::<RecordId>().ok());
            if let (Some(id), Some(slot)) = (id, u.slot) {
                match u.kind {
                    RecordKind::Company => records.companies.hold(slot, id),
                    RecordKind::Need => records.needs.hold(slot, id),
                }
            }
            tracing::warn!(
                kind = ?u.kind,
                id = u.id.as_deref().unwrap_or("?"),
                slot = ?u.slot,
                "a stored record cannot be read back and is left out of search and matching \
                 (re-import it, or delete its id): {}",
                u.reason
            );
        }
        if !summary.unreadable.is_empty() {
            tracing::warn!(
                "{} stored record(s) could not be read back; the others ({} companies, {} needs) \
                 were",
                summary.unreadable.len(),
                summary.companies,
                summary.needs
            );
        }
        let prev = self.view();
        let view = View::new(cs, ns, Arc::new(records), &cf, commits, prev.lendable())?;
        self.view.store(Arc::new(view));
        Ok(summary)
    }

    /// Write the features snapshot of the current view (atomic), bound to
    /// the view's commits, and the matching index's postings beside it.
    /// Call after a bulk import and at shutdown.
    pub fn save_snapshot(&self) -> Result<(), EngineError> {
        let Some(path) = self.snapshot_path() else {
            return Ok(());
        };
        let _w = self.writers.lock();
        let v = self.view();
        persist::save(
            &path,
            &v.records,
            v.commits,
            self.ctx.ontology.fingerprint(),
        )
        .map_err(|e| EngineError::Snapshot {
            path: path.clone(),
            source: Box::new(e),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let ix = v.postings()?;
        let matching = matching_path(dir);
        persist::save_matching(&matching, ix.segments()).map_err(|e| EngineError::Snapshot {
            path: matching.clone(),
            source: Box::new(e),
        })
    }

    /// Insert or replace companies, committing every [`COMMIT_BATCH`].
    /// Every record is validated against the context's tables first
    /// ([`validate::company`], which also normalizes certification names);
    /// if any is invalid, nothing is written and the error names each one's
    /// id, field and reason.
    pub fn upsert_companies(
        &self,
        mut companies: Vec<Company>,
    ) -> Result<WriteSummary, EngineError> {
        let tax = &self.ctx.taxonomy;
        check_all(companies.iter_mut().map(|c| {
            let id = c.id.to_string();
            (id, validate::company(c, tax).map(drop))
        }))?;
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

    /// Insert or replace needs, validated first as
    /// [`Engine::upsert_companies`] validates companies
    /// ([`validate::need`]): one invalid need and nothing is written.
    pub fn upsert_needs(&self, mut needs: Vec<Need>) -> Result<WriteSummary, EngineError> {
        if needs.is_empty() {
            return Ok(WriteSummary::default());
        }
        let tax = &self.ctx.taxonomy;
        check_all(needs.iter_mut().map(|n| {
            let id = n.id.to_string();
            (id, validate::need(n, tax).map(drop))
        }))?;
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
        let Ok(rid) = id.parse::<RecordId>() else {
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
        let Ok(rid) = id.parse::<RecordId>() else {
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
}

/// Every record's validation, by id: `Ok` if all passed, else all that
/// failed, so a caller fixes a batch in one round.
fn check_all(
    results: impl Iterator<Item = (String, Result<(), validate::FieldError>)>,
) -> Result<(), InvalidRecords> {
    let records: Vec<InvalidRecord> = results
        .filter_map(|(id, r)| {
            r.err().map(|e| InvalidRecord {
                id,
                field: e.field,
                reason: e.reason,
            })
        })
        .collect();
    if records.is_empty() {
        Ok(())
    } else {
        Err(InvalidRecords { records })
    }
}

/// Log the ids a loaded snapshot holds without a readable record (see
/// [`UnreadableRecord`]): a snapshot saved after a rebuild that reported
/// them keeps them held, and an operator should hear of them at every start.
fn warn_held(records: &Records) {
    let companies = records.companies.held().count();
    let needs = records.needs.held().count();
    if companies + needs > 0 {
        let ids: Vec<&str> = records
            .companies
            .held()
            .chain(records.needs.held())
            .map(|(id, _)| id.as_str())
            .take(20)
            .collect();
        tracing::warn!(
            "{companies} companies and {needs} needs of the index have no readable stored record \
             (left out of search and matching; re-import or delete them): {}",
            ids.join(", ")
        );
    }
}
