//! Term-at-a-time scoring of a weighted disjunction into a dense per-slot
//! accumulator: what a need's retrieval channels run.
//!
//! Why not a tantivy `BooleanQuery` of `TermQuery`s: a need is 20–40 terms
//! over four fields, so the query is a union of up to 160 posting lists,
//! and tantivy's union visits them document-at-a-time through a buffered
//! horizon (and WAND was slower still, see `top_slots.rs`). Here each
//! posting list is read once, front to back, adding `boost × BM25` into a
//! `Vec<f32>` indexed by company slot: one sequential pass per list, no
//! merging, no per-document dispatch. The lists come from the view's
//! matching index (`postings.rs`: flat arrays decoded once per segment),
//! and the scores are tantivy's own ([`Bm25Weight`] with the view's
//! statistics — public-only for a portal), summed in clause order: the
//! same bits as a pass over tantivy's postings, which the tests keep as
//! the reference.
//!
//! The accumulator is indexed by slot (through the view's per-segment
//! `doc → slot` map), so deleted documents never score and the top-M
//! selection that follows reads the packed filter keys by the same index.

use tantivy::Term;

use super::view::View;
use crate::access::Role;

/// A slot number that no live document has.
pub(crate) const NO_SLOT: u32 = u32::MAX;

thread_local! {
    /// Each thread's accumulator, kept between calls of [`with_accumulator`].
    static SCRATCH: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Run `f` with a zeroed accumulator of `n` slots, reused between calls on
/// the same thread, so a match allocates nothing per slot. Measured: within
/// the noise of a fresh `vec![0.0; n]` at 100k (`matcher batch`, session 8;
/// the page faults `perf` showed came from loading the matching index, not
/// from here). The buffer is taken out of its cell for the call, so a
/// nested call (none today) gets its own.
pub(crate) fn with_accumulator<R>(n: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut acc = SCRATCH.with(|s| s.take());
    acc.clear();
    acc.resize(n, 0.0);
    let out = f(&mut acc);
    SCRATCH.with(|s| s.set(acc));
    out
}

/// `Σ boost × BM25(term)` over `clauses`, per company slot, in `acc`
/// (which must cover every slot of the view; it is added to, not cleared).
/// The same weights as tantivy's `Bm25Weight::for_terms` with the view's
/// statistics for `role` (document frequency summed over the segments for
/// staff; over public documents only for a portal).
pub(crate) fn accumulate(
    v: &View,
    role: Role,
    clauses: &[(Term, f32)],
    acc: &mut [f32],
) -> tantivy::Result<()> {
    let ix = v.postings()?;
    super::postings::accumulate(
        ix,
        |ord| v.doc_slots(ord),
        v.match_stats(role, ix),
        role,
        clauses,
        acc,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tantivy::fieldnorm::FieldNormReader;
    use tantivy::postings::{Postings, TermInfo};
    use tantivy::query::Bm25Weight;
    use tantivy::schema::{Field, IndexRecordOption};
    use tantivy::{DocSet, InvertedIndexReader, Term, TERMINATED};

    use super::NO_SLOT;
    use crate::index::view::View;

    /// One field's readers and BM25 length normalization, resolved once per
    /// call of [`accumulate_tantivy`].
    struct FieldReaders {
        field: Field,
        avg_fieldnorm: f32,
        /// Per segment: the inverted index and the field norms.
        segments: Vec<(Arc<InvertedIndexReader>, FieldNormReader)>,
    }

    /// [`accumulate`] over tantivy's own postings and statistics: the
    /// reference the matching index is tested against.
    fn accumulate_tantivy(
        v: &View,
        role: Role,
        clauses: &[(Term, f32)],
        acc: &mut [f32],
    ) -> tantivy::Result<()> {
        let stats = v.statistics(role);
        let total_docs = stats.total_num_docs()?;
        let segments = v.companies.segment_readers();
        let mut fields: Vec<FieldReaders> = Vec::with_capacity(4);
        let mut infos: Vec<(usize, TermInfo)> = Vec::with_capacity(segments.len());
        for (term, boost) in clauses {
            let field = term.field();
            let fr = match fields.iter().position(|f| f.field == field) {
                Some(i) => &fields[i],
                None => {
                    let tokens = stats.total_num_tokens(field)?;
                    let mut readers = Vec::with_capacity(segments.len());
                    for seg in segments {
                        let norms = match seg.fieldnorms_readers().get_field(field)? {
                            Some(r) => r,
                            None => FieldNormReader::constant(seg.max_doc(), 1),
                        };
                        readers.push((seg.inverted_index(field)?, norms));
                    }
                    fields.push(FieldReaders {
                        field,
                        avg_fieldnorm: tokens as f32 / total_docs as f32,
                        segments: readers,
                    });
                    &fields[fields.len() - 1]
                }
            };
            infos.clear();
            for (ord, (inverted, _)) in fr.segments.iter().enumerate() {
                if let Some(info) = inverted.get_term_info(term)? {
                    infos.push((ord, info));
                }
            }
            if infos.is_empty() {
                continue;
            }
            let doc_freq = match role {
                Role::Coordinator | Role::Admin => {
                    infos.iter().map(|(_, i)| u64::from(i.doc_freq)).sum()
                }
                Role::Public => stats.doc_freq(term)?,
            };
            let weight =
                Bm25Weight::for_one_term_without_explain(doc_freq, total_docs, fr.avg_fieldnorm);
            for (ord, info) in &infos {
                let Some((inverted, norms)) = fr.segments.get(*ord) else {
                    continue;
                };
                let mut postings =
                    inverted.read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
                let slots = v.doc_slots(*ord);
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let slot = slots.get(doc as usize).copied().unwrap_or(NO_SLOT);
                    if let Some(a) = acc.get_mut(slot as usize) {
                        *a += weight.score(norms.fieldnorm_id(doc), postings.term_freq()) * boost;
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(())
    }

    use crate::index::Role;
    use crate::matching::Ablation;
    use crate::{fixtures, Context, Engine};

    /// The matching index scores every clause of every fixture need to the
    /// same bits as tantivy's postings with the same statistics, for staff
    /// and for a portal, over several segments with deleted documents and
    /// reused slots (what a deleted document's postings must not reach).
    #[test]
    fn matching_index_scores_equal_tantivy_postings() {
        let dir = fixtures::fixtures_dir();
        let engine =
            Engine::in_memory(Arc::new(Context::load(&dir).expect("ctx"))).expect("engine");
        fixtures::load_into(&engine, &dir).expect("load");
        let ids: Vec<String> = engine
            .view()
            .records
            .companies
            .iter()
            .map(|(_, f)| f.id.to_string())
            .collect();
        let mut reused = fixtures::companies(&dir, &engine.ctx.taxonomy)
            .expect("companies")
            .records;
        reused.truncate(5);
        for (i, c) in reused.iter_mut().enumerate() {
            assert!(engine.delete_company(&ids[i * 5]).expect("delete"));
            c.id = format!("reuse-{i}").parse().expect("id");
        }
        engine.upsert_companies(reused).expect("upsert");
        let m = engine.matcher();
        let v = m.view();
        assert!(v.companies.segment_readers().len() > 1, "several segments");
        let (mut compared, mut scored) = (0, 0);
        for (_, entry) in v.records.needs.iter() {
            for role in [Role::Coordinator, Role::Public] {
                let p = m.prepare_need(&v, &entry.need, Ablation::FULL, role);
                let (text, concepts) = m.candidate_clauses(&p);
                for clauses in [text, concepts] {
                    let n = v.records.filter_keys.len();
                    let (mut ours, mut theirs) = (vec![0.0f32; n], vec![0.0f32; n]);
                    super::accumulate(&v, role, &clauses, &mut ours).expect("ours");
                    accumulate_tantivy(&v, role, &clauses, &mut theirs).expect("theirs");
                    for (slot, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                        assert_eq!(
                            a.to_bits(),
                            b.to_bits(),
                            "need {} slot {slot} {role:?}: {a} vs {b}",
                            entry.need.id
                        );
                    }
                    compared += 1;
                    scored += usize::from(ours.iter().any(|&x| x > 0.0));
                }
            }
        }
        assert!(compared > 200, "{compared}");
        assert!(scored * 10 > compared * 9, "{scored} of {compared} scored");
    }
}
