//! What a portal (Role::Public) may learn, beyond the filtering core does.
//!
//! Core filters restricted companies out of every read it is given
//! `Role::Public` for. Three things need more care at this layer:
//!
//! - a need names its owner (`company_id`): for a portal, an owner the portal
//!   may not see is removed from the need, so a need owned by a restricted
//!   company looks exactly like a need whose owner is unknown;
//! - matching a need uses its owner (excluded from candidates, origin for
//!   distances, JSIC fallback, mutual scores): a portal's matches are
//!   computed for the need with that owner removed, for the same reason;
//! - `Engine::opportunities` ranks every need with `Role::Coordinator`, so
//!   its `rank` and `score` count restricted candidates: for a portal they
//!   are recomputed here from `match_need(.., Role::Public, ..)`.

use matcher_core::matching::{MatchOptions, Opportunity, MAX_TOP_K};
use matcher_core::model::{Need, NeedStatus};
use matcher_core::{Engine, EngineError, Role};
use rayon::prelude::*;

/// The need as `role` may see it.
pub fn need_for(engine: &Engine, mut need: Need, role: Role) -> Result<Need, EngineError> {
    if role == Role::Public {
        if let Some(owner) = &need.company_id {
            if engine.company(owner.as_str(), Role::Public)?.is_none() {
                need.company_id = None;
            }
        }
    }
    Ok(need)
}

/// Open needs a company could serve, as a portal may see them: ranks and
/// scores among public companies only, owners the portal may not see removed.
/// `None` when the company is missing or restricted.
pub fn public_opportunities(
    engine: &Engine,
    id: &str,
    opts: &MatchOptions,
) -> Result<Option<Vec<Opportunity>>, EngineError> {
    if engine.company(id, Role::Public)?.is_none() {
        return Ok(None);
    }
    let needs: Vec<Need> = engine
        .needs()
        .into_iter()
        .filter(|n| n.status == NeedStatus::Open)
        .filter(|n| n.company_id.as_ref().map(|c| c.as_str()) != Some(id))
        .map(|n| need_for(engine, n, Role::Public))
        .collect::<Result<_, _>>()?;
    let scan = MatchOptions {
        top_k: MAX_TOP_K,
        mutual: false,
        rank_by_mutual: false,
        explain: false,
        ..*opts
    };
    let found: Vec<Result<Option<(usize, Opportunity)>, EngineError>> = needs
        .par_iter()
        .enumerate()
        .map(|(i, n)| {
            let r = engine.match_need(n, Role::Public, &scan)?;
            Ok(r.matches
                .iter()
                .position(|m| m.company_id == id)
                .map(|pos| {
                    (
                        i,
                        Opportunity {
                            need_id: n.id.to_string(),
                            title: n.title.clone(),
                            score: r.matches[pos].score,
                            rank: pos + 1,
                            explanation: None,
                        },
                    )
                }))
        })
        .collect();
    let mut out: Vec<(usize, Opportunity)> = Vec::new();
    for f in found {
        if let Some(o) = f? {
            out.push(o);
        }
    }
    out.sort_by(|a, b| {
        b.1.score
            .total_cmp(&a.1.score)
            .then_with(|| a.1.need_id.cmp(&b.1.need_id))
    });
    out.truncate(opts.top_k.clamp(1, MAX_TOP_K));
    if opts.explain {
        for (i, o) in out.iter_mut() {
            let explained = MatchOptions {
                top_k: o.rank,
                mutual: false,
                rank_by_mutual: false,
                explain: true,
                ..*opts
            };
            let r = engine.match_need(&needs[*i], Role::Public, &explained)?;
            o.explanation = r
                .matches
                .into_iter()
                .find(|m| m.company_id == id)
                .and_then(|m| m.explanation);
        }
    }
    Ok(Some(out.into_iter().map(|(_, o)| o).collect()))
}
