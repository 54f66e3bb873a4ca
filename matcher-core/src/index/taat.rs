//! Term-at-a-time scoring of a weighted disjunction into a dense per-slot
//! accumulator: what a need's retrieval channels run.
//!
//! Why not a tantivy `BooleanQuery` of `TermQuery`s: a need is 20–40 terms
//! over four fields, so the query is a union of up to 160 posting lists,
//! and tantivy's union visits them document-at-a-time through a buffered
//! horizon (and WAND was slower still, see `top_slots.rs`). Here each
//! posting list is read once, front to back, adding `boost × BM25` into a
//! `Vec<f32>` indexed by company slot: one sequential pass per list, no
//! merging, no per-document dispatch. The scores are tantivy's own
//! ([`Bm25Weight`] with the view's statistics — public-only for a
//! portal), summed in clause order; float rounding may differ from the
//! union's in the last bit (`matcher eval` was unchanged by the switch).
//!
//! The accumulator is indexed by slot (through the view's per-segment
//! `doc → slot` map), so deleted documents never score and the top-M
//! selection that follows reads the packed filter keys by the same index.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::Postings;
use tantivy::query::Bm25Weight;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Term, TERMINATED};

use super::search::Role;
use super::view::View;

/// A slot number that no live document has.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// `Σ boost × BM25(term)` over `clauses`, per company slot, in `acc`
/// (which must cover every slot of the view; it is added to, not cleared).
pub(crate) fn accumulate(
    v: &View,
    role: Role,
    clauses: &[(Term, f32)],
    acc: &mut [f32],
) -> tantivy::Result<()> {
    let stats = v.statistics(role);
    for (term, boost) in clauses {
        let weight = Bm25Weight::for_terms(stats.as_ref(), std::slice::from_ref(term))?;
        for (ord, seg) in v.companies.segment_readers().iter().enumerate() {
            let inverted = seg.inverted_index(term.field())?;
            let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::WithFreqs)?
            else {
                continue;
            };
            let norms = match seg.fieldnorms_readers().get_field(term.field())? {
                Some(r) => r,
                None => FieldNormReader::constant(seg.max_doc(), 1),
            };
            let slots = v.doc_slots(ord);
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
