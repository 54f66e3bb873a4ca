//! Entry points into matching's internal hot loops, for the criterion
//! benches in `benches/benches/retrieval.rs` only: not part of the API,
//! hidden from the docs, and free to change with the internals they wrap.
//! Each wrapper calls the code a match runs, not a copy of it.

use crate::index::{top_slots, Engine, EngineError, Role, View};
use crate::matching::{Ablation, PreparedNeed, Ranked};
use crate::model::Need;

/// `index::top_slots::select` for a need without hard constraints: the best
/// `limit` (slot, score) of a per-slot score array with a positive score,
/// except the `hidden` slots (zeroed in `scores`), best first, ties to the
/// lower slot.
pub fn select_all_but(scores: &mut [f32], limit: usize, hidden: &[u32]) -> Vec<(u32, f32)> {
    top_slots::select(scores, limit, &top_slots::Admit::AllBut(hidden, None))
}

/// `index::top_slots::select` for a need whose constraints admit only
/// `slots` (ascending), as `Engine::admit` lists them.
pub fn select_only(scores: &mut [f32], limit: usize, slots: &[u32]) -> Vec<(u32, f32)> {
    top_slots::select(scores, limit, &top_slots::Admit::Only(slots.into()))
}

/// A need prepared once against one view and role (analysis, synonyms,
/// concepts, owner, constraints' inputs), as a match prepares it.
pub struct Prepared<'a> {
    view: &'a View,
    role: Role,
    p: PreparedNeed<'a>,
}

/// Prepare `need` in `view` for `role`, with every part of the method on.
/// The need is taken as given (no `View::need_as_seen`): use a role that
/// may see its owner, e.g. [`Role::Coordinator`].
pub fn prepare<'a>(engine: &Engine, view: &'a View, need: &'a Need, role: Role) -> Prepared<'a> {
    Prepared {
        view,
        role,
        p: engine.prepare_need(view, need, Ablation::FULL, role),
    }
}

/// Both retrieval channels of a prepared need: term-at-a-time BM25 into the
/// dense per-slot array (`index::taat::accumulate`) and the filtered top-M
/// selection from it, for the text terms and then the concept ids. Returns
/// how many slots each channel kept.
pub fn channels(engine: &Engine, p: &Prepared) -> Result<(usize, usize), EngineError> {
    let (text, concepts) = engine.channels(p.view, &p.p, p.role, Ablation::FULL)?;
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

/// Rank a prepared need and keep the best `k`, as `Engine::match_need` does
/// before it explains them.
pub fn rank_top(engine: &Engine, p: &Prepared, k: usize) -> Result<Top, EngineError> {
    let mut ranked = engine.rank(p.view, &p.p, p.role, Ablation::FULL)?;
    ranked.truncate(k);
    Ok(Top(ranked))
}

/// Explain every match of `top` from the evidence stored at indexing, one
/// after another on this thread (a match spreads them over rayon). Returns
/// the number of term and concept evidence items cited.
pub fn explain_top(engine: &Engine, p: &Prepared, top: &Top) -> Result<usize, EngineError> {
    let mut cited = 0;
    for r in &top.0 {
        let Some(f) = p.view.records.companies.get(r.slot) else {
            continue;
        };
        let e = engine.explain(p.view, &p.p, f, &r.row.0)?;
        cited += e.terms.len() + e.concepts.len();
    }
    Ok(cited)
}
