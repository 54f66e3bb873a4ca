//! Entry points into matching's internal hot loops, for the criterion
//! benches in `benches/benches/retrieval.rs` only: not part of the API,
//! hidden from the docs, and free to change with the internals they wrap.
//! Each wrapper calls the code a match runs, not a copy of it.

use crate::access::Role;
use crate::index::top_slots;
use crate::matching::{Ablation, MatchError, Matcher, PreparedNeed, Ranked};
use crate::model::Need;

/// `index::top_slots::select` for a need without hard constraints: the best
/// `limit` (slot, score) of a per-slot score array with a positive score,
/// except the `hidden` slots (zeroed in `scores`), best first, ties to the
/// lower slot.
pub fn select_all_but(scores: &mut [f32], limit: usize, hidden: &[u32]) -> Vec<(u32, f32)> {
    top_slots::select(scores, limit, &top_slots::Admit::AllBut(hidden, None))
}

/// `index::top_slots::select` for a need whose constraints admit only
/// `slots` (ascending), as `Matcher::admit` lists them.
pub fn select_only(scores: &mut [f32], limit: usize, slots: &[u32]) -> Vec<(u32, f32)> {
    top_slots::select(scores, limit, &top_slots::Admit::Only(slots.into()))
}

/// A need prepared once against a matcher's view and a role (analysis,
/// synonyms, concepts, owner, constraints' inputs), as a match prepares it.
pub struct Prepared<'a> {
    matcher: &'a Matcher<'a>,
    role: Role,
    p: PreparedNeed<'a>,
}

/// Prepare `need` on `matcher`'s view for `role`, with every part of the
/// method on. The need is taken as given (no `View::need_as_seen`): use a
/// role that may see its owner, e.g. [`Role::Coordinator`].
pub fn prepare<'a>(matcher: &'a Matcher<'a>, need: &'a Need, role: Role) -> Prepared<'a> {
    Prepared {
        matcher,
        role,
        p: matcher.prepare_need(&matcher.view(), need, Ablation::FULL, role),
    }
}

/// Both retrieval channels of a prepared need: term-at-a-time BM25 into the
/// dense per-slot array (`index::taat::accumulate`) and the filtered top-M
/// selection from it, for the text terms and then the concept ids. Returns
/// how many slots each channel kept.
pub fn channels(p: &Prepared) -> Result<(usize, usize), MatchError> {
    let m = p.matcher;
    let (text, concepts) = m.channels(&m.view(), &p.p, p.role, Ablation::FULL)?;
    Ok((text.len(), concepts.len()))
}

/// A prepared need's ranked candidates (retrieval, fusion, rescoring), best first.
pub struct Top(Vec<Ranked>);

impl Top {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Rank a prepared need and keep the best `k`, as `Matcher::match_need`
/// does before it explains them.
pub fn rank_top(p: &Prepared, k: usize) -> Result<Top, MatchError> {
    let m = p.matcher;
    let mut ranked = m.rank(&m.view(), &p.p, p.role, Ablation::FULL)?;
    ranked.truncate(k);
    Ok(Top(ranked))
}

/// Explain every match of `top` from the evidence stored at indexing, one
/// after another on this thread (a match spreads them over rayon). Returns
/// the number of term and concept evidence items cited.
pub fn explain_top(p: &Prepared, top: &Top) -> Result<usize, MatchError> {
    let m = p.matcher;
    let v = m.view();
    let mut cited = 0;
    for r in &top.0 {
        let Some(f) = v.records.companies.get(r.slot) else {
            continue;
        };
        let e = m.explain(&v, &p.p, f, &r.row.0)?;
        cited += e.terms.len() + e.concepts.len();
    }
    Ok(cited)
}
