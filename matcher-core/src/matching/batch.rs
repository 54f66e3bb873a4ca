//! Batch matching: every open need against every company, top-k each,
//! parallel across needs, results delivered in need-id order (so the output
//! is deterministic for a fixed input), with progress and cancellation.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::{open_needs, MatchOptions};
use crate::index::{Engine, EngineError, Role};

/// One line of batch output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchLine {
    /// The need's id.
    pub need_id: String,
    /// Its best candidates, best first.
    pub matches: Vec<BatchMatch>,
}

/// One candidate of a batch line: just enough to join with the records.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchMatch {
    /// The company's id.
    pub company_id: String,
    /// Its score, as a match gives it.
    pub score: f32,
}

/// Needs processed per parallel chunk; results of a chunk are emitted in order.
const CHUNK: usize = 64;

/// Run all open needs. `emit` receives lines in need-id order; `progress`
/// receives (done, total). Returns the number of needs done; stops early
/// (without error) when `cancel` is set.
pub fn run(
    engine: &Engine,
    role: Role,
    top_k: usize,
    cancel: &AtomicBool,
    mut emit: impl FnMut(BatchLine) -> Result<(), EngineError>,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<usize, EngineError> {
    // The whole batch reads one view: its lines agree with each other even
    // while writes go on.
    let view = engine.view();
    let needs = open_needs(&view);
    let total = needs.len();
    let done = AtomicUsize::new(0);
    let opts = MatchOptions {
        top_k,
        explain: false,
        ..MatchOptions::default()
    };
    for chunk in needs.chunks(CHUNK) {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let lines: Vec<Result<BatchLine, EngineError>> = chunk
            .par_iter()
            .map(|n| {
                let r = engine.match_need_in(&view, n, role, &opts)?;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(d, total);
                Ok(BatchLine {
                    need_id: r.need_id,
                    matches: r
                        .matches
                        .into_iter()
                        .map(|m| BatchMatch {
                            company_id: m.company_id,
                            score: m.score,
                        })
                        .collect(),
                })
            })
            .collect();
        for l in lines {
            emit(l?)?;
        }
    }
    Ok(done.load(Ordering::Relaxed))
}
