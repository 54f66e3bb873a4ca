//! Bulk upload: a JSON Lines or CSV body, answered with the per-row report.
//!
//! # The deadline of an import
//!
//! An upload may hold more records than can be committed within the
//! request time limit, and a commit cannot be cut off halfway: answering
//! 503 at the limit while the blocking work went on committing would
//! acknowledge nothing, lose the per-row report, and still change the
//! index. So the import routes are exempt from the global time limit
//! (see [`crate::http::routes::Endpoint::own_deadline`]) and keep a
//! deadline of their own, [`DEADLINE_SHARE`] of the limit from the start
//! of the request: the body is read within the whole limit (or 503
//! `timeout`, nothing committed); records are then upserted in chunks of
//! [`COMMIT_BATCH`] (one commit each), and no chunk is started once the
//! deadline has passed. The answer is the report of what was committed:
//! `committed`, `not_committed`, `first_not_committed_id` (records commit
//! in file order, so resending from that record's row on completes the
//! upload; upserts are idempotent) and `timed_out`. It is 200 — the report
//! is the answer, like one that rejects rows — and it comes after the
//! chunk in progress at the deadline has finished, possibly a little past
//! the limit; nothing is committed after it.
//!
//! This was chosen over a job (202, id, progress, report) as batch matching
//! does: an import keeps its one request and its report, and needs no
//! job store; a client with a file too big for one request splits it, or
//! resends the rest.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderMap;
use matcher_core::engine::{WriteSummary, COMMIT_BATCH};
use matcher_core::import::{self, Encoding, Format, Importable, RowError, RowWarning};
use matcher_core::Engine;
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{body_bytes, content_type};
use crate::http::state::{AppState, Work};

/// `?encoding=` of a bulk upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// text encoding (default auto: UTF-8, else Shift_JIS); a `charset`
    /// parameter of the content type counts when this is absent
    #[param(inline)]
    pub encoding: Option<Encoding>,
}

/// Share of the request time limit after which an import starts no more
/// commits (the chunk in progress finishes): the rest of the limit is for
/// that chunk and the snapshot.
pub const DEADLINE_SHARE: f64 = 0.8;

/// The per-row report of a bulk upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub format: Format,
    pub encoding: &'static str,
    /// Distinct valid records (a later row with the same id replaces an earlier one).
    pub accepted: usize,
    /// Of the accepted records, those committed (`created + updated`).
    pub committed: usize,
    /// Accepted records not committed: the deadline passed first.
    pub not_committed: usize,
    /// The first record not committed, in file order (null when all were):
    /// resend from its row on.
    #[schema(required = true)]
    pub first_not_committed_id: Option<String>,
    /// True when the import stopped at its deadline (`not_committed > 0`).
    pub timed_out: bool,
    pub created: usize,
    pub updated: usize,
    pub rejected: Vec<RowError>,
    pub warnings: Vec<RowWarning>,
}

/// What the commit loop did.
struct Committed {
    summary: WriteSummary,
    committed: usize,
    first_left: Option<String>,
}

/// Upsert `records` in chunks of [`COMMIT_BATCH`], starting no chunk after
/// `deadline`, then save the snapshot if anything was committed.
fn commit_until<T: Importable>(
    engine: &Engine,
    records: Vec<T>,
    deadline: Option<Instant>,
    upsert: fn(&Engine, Vec<T>) -> Result<WriteSummary, matcher_core::EngineError>,
) -> ApiResult<Committed> {
    let mut done = Committed {
        summary: WriteSummary::default(),
        committed: 0,
        first_left: None,
    };
    let mut rest = records.into_iter().peekable();
    while let Some(next) = rest.peek() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            done.first_left = Some(next.id_str().to_owned());
            break;
        }
        let chunk: Vec<T> = rest.by_ref().take(COMMIT_BATCH).collect();
        let n = chunk.len();
        match upsert(engine, chunk) {
            Ok(s) => {
                done.summary.created += s.created;
                done.summary.updated += s.updated;
                done.committed += n;
            }
            Err(e) => {
                if done.committed > 0 {
                    let _ = engine.save_snapshot();
                }
                return Err(ApiError::internal(format!(
                    "bulk import failed after committing {} records: {e}",
                    done.committed
                )));
            }
        }
    }
    if done.committed > 0 {
        engine.save_snapshot()?;
    }
    Ok(done)
}

/// The body's format from its content type, or 415.
fn format_of(headers: &HeaderMap) -> ApiResult<(Format, Option<Encoding>)> {
    let ct = content_type(headers);
    let lower = ct.unwrap_or("").to_ascii_lowercase();
    let mut parts = lower.split(';');
    let essence = parts.next().unwrap_or("").trim().to_owned();
    let charset = parts
        .filter_map(|p| {
            p.trim()
                .strip_prefix("charset=")
                .map(|c| c.trim_matches('"').to_owned())
        })
        .next();
    let format = match essence.as_str() {
        "text/csv" => Format::Csv,
        "application/x-ndjson"
        | "application/jsonl"
        | "application/jsonlines"
        | "application/json-lines"
        | "application/x-jsonlines" => Format::JsonLines,
        _ => {
            return Err(ApiError::unsupported_media(
                ct,
                "application/x-ndjson (JSON Lines) or text/csv",
            ))
        }
    };
    let encoding = match charset.as_deref() {
        None => None,
        Some("utf-8") | Some("utf8") => Some(Encoding::Utf8),
        Some("shift_jis") | Some("shift-jis") | Some("sjis") | Some("cp932")
        | Some("windows-31j") => Some(Encoding::ShiftJis),
        Some(other) => {
            return Err(ApiError::unsupported_media(
                ct,
                &format!("charset utf-8 or shift_jis, not {other}"),
            ))
        }
    };
    Ok((format, encoding))
}

/// Parse, validate and upsert a bulk body of `T` records (`kind` names
/// them in the metrics: `companies`, `needs`).
pub async fn import<T>(
    state: &AppState,
    kind: &'static str,
    query: ImportQuery,
    req: Request,
    upsert: fn(&Engine, Vec<T>) -> Result<WriteSummary, matcher_core::EngineError>,
) -> ApiResult<ImportReport>
where
    T: Importable + Send + 'static,
{
    let start = Instant::now();
    let (format, declared) = format_of(req.headers())?;
    let encoding = query.encoding.or(declared).unwrap_or_default();
    let limits = state.limits().clone();
    let limit = limits.request_timeout;
    // None: a limit too far off to add to an instant, so no deadline.
    let deadline = start.checked_add(limit.mul_f64(DEADLINE_SHARE));
    let bytes = tokio::time::timeout(limit, body_bytes(req, state, limits.bulk_body))
        .await
        .map_err(|_| ApiError::timeout(limit))??;
    let report = state
        .run(Work::Plain, move |engine| {
            let parsed = import::parse::<T>(&bytes, format, encoding, &engine.ctx.taxonomy);
            if parsed.records.len() > limits.bulk_rows {
                return Err(ApiError::new(
                    crate::http::error::Kind::PayloadTooLarge,
                    format!(
                        "{} records in one upload; the limit is {}: split the file",
                        parsed.records.len(),
                        limits.bulk_rows
                    ),
                ));
            }
            let accepted = parsed.records.len();
            let done = commit_until(engine, parsed.records, deadline, upsert)?;
            Ok(ImportReport {
                format,
                encoding: parsed.encoding,
                accepted,
                committed: done.committed,
                not_committed: accepted - done.committed,
                timed_out: done.first_left.is_some(),
                first_not_committed_id: done.first_left,
                created: done.summary.created,
                updated: done.summary.updated,
                rejected: parsed.rejected,
                warnings: parsed.warnings,
            })
        })
        .await?;
    if report.committed > 0 {
        state.touch_commit();
    }
    state
        .metrics()
        .imported(kind, report.accepted, report.rejected.len());
    Ok(report)
}
