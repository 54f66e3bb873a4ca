//! Analyze and index every stored record again: what an operator runs
//! after editing the ontology, the synonyms or the word lists, or after an
//! upgrade whose extraction rules differ (`concepts::EXTRACTION_VERSION`).
//!
//! Why it is needed: what a text evokes is decided at indexing time and
//! kept three ways — the company's concept set in its features (the
//! snapshot), its concept ids in the index (what the concept channel
//! retrieves by) and the evidence stored beside its record. A snapshot
//! rebuild ([`Engine::rebuild_records`]) refreshes only the first; a new
//! context reads the old concept ids until every record is indexed again.
//! Re-indexing is an upsert of each stored record by its own id, in
//! commits of [`COMMIT_BATCH`], so readers see old or new records, never a
//! gap, and a record that cannot be read back is reported, not dropped.

use serde::Serialize;

use super::write::{read_back, RecordKind, UnreadableRecord};
use super::{Engine, EngineError, COMMIT_BATCH};
use crate::index::stored_docs;
use crate::model::{Company, Need};

/// What [`Engine::reindex`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReindexSummary {
    /// Companies indexed again.
    pub companies: usize,
    /// Needs indexed again.
    pub needs: usize,
    /// Stored documents whose record could not be read back: left as they
    /// are (re-import them from their source, or delete their ids).
    pub unreadable: Vec<UnreadableRecord>,
}

impl Engine {
    /// Index every stored company and need again with this engine's
    /// context (analyzer, ontology, tables), then save the snapshot.
    pub fn reindex(&self) -> Result<ReindexSummary, EngineError> {
        let mut summary = ReindexSummary::default();
        let companies: Vec<Company> = self.read_all(RecordKind::Company, &mut summary)?;
        for chunk in companies.chunks(COMMIT_BATCH) {
            let w = self.upsert_companies(chunk.to_vec())?;
            summary.companies += w.created + w.updated;
        }
        drop(companies);
        let needs: Vec<Need> = self.read_all(RecordKind::Need, &mut summary)?;
        for chunk in needs.chunks(COMMIT_BATCH) {
            let w = self.upsert_needs(chunk.to_vec())?;
            summary.needs += w.created + w.updated;
        }
        for u in &summary.unreadable {
            tracing::warn!(
                kind = ?u.kind,
                id = u.id.as_deref().unwrap_or("?"),
                "a stored record cannot be read back and was not indexed again \
                 (re-import it, or delete its id): {}",
                u.reason
            );
        }
        self.save_snapshot()?;
        Ok(summary)
    }

    /// Every stored record of `kind` read back; those that cannot be are
    /// added to `summary.unreadable`.
    fn read_all<T: serde::de::DeserializeOwned>(
        &self,
        kind: RecordKind,
        summary: &mut ReindexSummary,
    ) -> Result<Vec<T>, EngineError> {
        let docs = match kind {
            RecordKind::Company => {
                let f = self.companies.fields;
                stored_docs(&self.companies.reader.searcher(), f.slot, f.id, f.record)?
            }
            RecordKind::Need => {
                let f = self.needs.fields;
                stored_docs(&self.needs.reader.searcher(), f.slot, f.id, f.record)?
            }
        };
        let mut out = Vec::with_capacity(docs.len());
        for d in docs {
            match read_back::<T>(d, kind) {
                Ok((_, r)) => out.push(r),
                Err(u) => summary.unreadable.push(u),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::concepts::{ConceptSet, Ontology};
    use crate::{fixtures, Context, Engine};

    /// Each company's concept set, by id.
    fn concept_sets(e: &Engine) -> Vec<(String, ConceptSet)> {
        let v = e.view();
        let mut out: Vec<(String, ConceptSet)> = v
            .records
            .companies
            .iter()
            .map(|(_, f)| (f.id.to_string(), f.concepts.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A folder indexed with an ontology that knew no surface of チタン,
    /// opened with one that does: the snapshot (which names concepts by
    /// their number in its ontology) is refused and the features rebuilt,
    /// but the index keeps the old concept ids until `reindex`, after
    /// which the concept channel finds the titanium shops.
    #[test]
    fn reindex_applies_a_changed_ontology_to_stored_records() {
        let fx = fixtures::fixtures_dir();
        let full = Arc::new(Context::load(&fx).expect("ctx"));
        let text = std::fs::read_to_string(fx.join("concepts.jsonl")).expect("concepts");
        let edited: String = text
            .lines()
            .map(|l| {
                if l.starts_with("{\"id\": \"titanium\"") {
                    // no surface a profile writes
                    match (l.find("\"surface\": ["), l.find("], \"broader\"")) {
                        (Some(a), Some(b)) => {
                            format!("{}\"surface\": [\"旧チタン旧{}", &l[..a], &l[b - 1..])
                        }
                        _ => l.to_owned(),
                    }
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(edited, text, "the titanium line was edited");
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("concepts.jsonl");
        std::fs::write(&path, edited).expect("write");
        let mut old = Context::load(&fx).expect("ctx");
        old.ontology = Ontology::load(&path, Some(old.analyzer.clone())).expect("edited ontology");
        let titanium = full.ontology.id("titanium").expect("titanium");

        let fresh = Engine::in_memory(full.clone()).expect("engine");
        fixtures::load_into(&fresh, &fx).expect("load");
        let want = concept_sets(&fresh);
        let with_titanium = |sets: &[(String, ConceptSet)]| {
            sets.iter()
                .filter(|(_, s)| s.0.iter().any(|&(c, _)| c == titanium))
                .count()
        };
        assert!(
            with_titanium(&want) >= 3,
            "fixture companies that work titanium"
        );

        let data = tmp.path().join("data");
        {
            let e = Engine::open(&data, Arc::new(old)).expect("open");
            fixtures::load_into(&e, &fx).expect("load");
            e.save_snapshot().expect("save");
        }
        let e = Engine::open(&data, full.clone()).expect("reopen");
        // The snapshot names the old ontology: refused, the features are
        // rebuilt from the stored records with the new one ...
        assert_eq!(concept_sets(&e), want);
        // ... but the index still holds the concept ids of the old one.
        let n = with_titanium(&want) as u64;
        assert!(indexed(&e, "titanium") < n, "stale index before");

        let summary = e.reindex().expect("reindex");
        assert_eq!(summary.companies, want.len());
        assert!(summary.needs > 0 && summary.unreadable.is_empty());
        assert_eq!(concept_sets(&e), want);
        assert!(indexed(&e, "titanium") >= n, "indexed after");
    }

    /// Documents whose concept field holds `id` (deleted ones included, as
    /// tantivy counts them until a merge).
    fn indexed(e: &Engine, id: &str) -> u64 {
        let v = e.view();
        let field = e.companies.fields.concepts;
        let term = tantivy::Term::from_field_text(field, id);
        v.companies
            .segment_readers()
            .iter()
            .map(|s| {
                s.inverted_index(field)
                    .ok()
                    .and_then(|i| i.get_term_info(&term).ok().flatten())
                    .map_or(0, |t| u64::from(t.doc_freq))
            })
            .sum()
    }
}
