//! Batch matching: every open need against every company, top-k each,
//! parallel across needs, results delivered in need-id order (so the output
//! is deterministic for a fixed input), with progress and cancellation.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::{open_needs, MatchError, MatchOptions, Matcher};
use crate::access::Role;

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

/// Why a batch stopped: a need could not be matched, or the sink refused
/// a line (its own error, kept whole: a full disk, a closed pipe).
#[derive(Debug, thiserror::Error)]
pub enum BatchError<E: std::error::Error + 'static> {
    /// Matching a need failed.
    #[error("batch: {0}")]
    Match(#[from] MatchError),
    /// The sink (`emit`) failed to take a line.
    #[error("batch: cannot write a line: {0}")]
    Sink(#[source] E),
}

/// Needs processed per parallel chunk; results of a chunk are emitted in order.
const CHUNK: usize = 64;

/// Run all open needs of the matcher's view. `emit` receives lines in
/// need-id order; `progress` receives (done, total). Returns the number of
/// needs done; stops early (without error) when `cancel` is set, and at the
/// first error of `emit`, which is returned as [`BatchError::Sink`].
pub fn run<E: std::error::Error + 'static>(
    matcher: &Matcher<'_>,
    role: Role,
    top_k: usize,
    cancel: &AtomicBool,
    mut emit: impl FnMut(BatchLine) -> Result<(), E>,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<usize, BatchError<E>> {
    // The whole batch reads the matcher's one view: its lines agree with
    // each other even while writes go on.
    let needs = open_needs(&matcher.view());
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
        let lines: Vec<Result<BatchLine, MatchError>> = chunk
            .par_iter()
            .map(|n| {
                let r = matcher.match_need(n, role, &opts)?;
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
            emit(l?).map_err(BatchError::Sink)?;
        }
    }
    Ok(done.load(Ordering::Relaxed))
}
