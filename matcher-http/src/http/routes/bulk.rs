//! Bulk upload: a JSON Lines or CSV body, answered with the per-row report.

use axum::extract::Request;
use axum::http::HeaderMap;
use matcher_core::import::{self, Encoding, Format, Importable, RowError, RowWarning};
use matcher_core::index::WriteSummary;
use matcher_core::Engine;
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{body_bytes, content_type};
use crate::http::state::{AppState, Work};

/// `?encoding=` of a bulk upload.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `auto` (default: UTF-8, or Shift_JIS when the body is not UTF-8),
    /// `utf8` or `shift_jis`. A `charset` parameter of the content type
    /// counts when this is absent.
    pub encoding: Option<Encoding>,
}

/// The per-row report of a bulk upload.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub format: Format,
    pub encoding: &'static str,
    /// Distinct records accepted (a later row with the same id replaces an earlier one).
    pub accepted: usize,
    pub created: usize,
    pub updated: usize,
    pub rejected: Vec<RowError>,
    pub warnings: Vec<RowWarning>,
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

/// Parse, validate and upsert a bulk body of `T` records.
pub async fn import<T>(
    state: &AppState,
    query: ImportQuery,
    req: Request,
    upsert: fn(&Engine, Vec<T>) -> Result<WriteSummary, matcher_core::EngineError>,
) -> ApiResult<ImportReport>
where
    T: Importable + Send + 'static,
{
    let (format, declared) = format_of(req.headers())?;
    let encoding = query.encoding.or(declared).unwrap_or_default();
    let limits = state.limits().clone();
    let bytes = body_bytes(req, state, limits.bulk_body).await?;
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
            let summary = if accepted > 0 {
                let s = upsert(engine, parsed.records)?;
                engine.save_snapshot()?;
                s
            } else {
                WriteSummary::default()
            };
            Ok(ImportReport {
                format,
                encoding: parsed.encoding,
                accepted,
                created: summary.created,
                updated: summary.updated,
                rejected: parsed.rejected,
                warnings: parsed.warnings,
            })
        })
        .await?;
    if report.accepted > 0 {
        state.touch_commit();
    }
    Ok(report)
}
