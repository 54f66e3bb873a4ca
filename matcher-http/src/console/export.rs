//! CSV exports for Excel: UTF-8 with a byte-order mark (Excel reads a
//! BOM-less UTF-8 CSV as Shift_JIS and garbles it) or Shift_JIS
//! (Windows-31J, what older Excel and many municipal systems expect).
//!
//! Characters Shift_JIS cannot hold are written as `?` and counted in the
//! `X-Unmappable-Characters` header, never dropped silently; cells that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) get a
//! leading `'`, the usual CSV-injection guard.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::kpi::KpiQuery;
use super::layout;
use super::session::User;
use super::{ConsoleError, ConsoleResult};
use crate::http::state::{AppState, Work};

/// Candidates in a CSV export (more than the page shows: it is for sorting in Excel).
const CSV_TOP_K: usize = 50;

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8Bom,
    ShiftJis,
}

impl Encoding {
    fn parse(s: &str) -> Encoding {
        match s {
            "sjis" | "shift_jis" | "cp932" => Encoding::ShiftJis,
            _ => Encoding::Utf8Bom,
        }
    }
}

fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// The file's bytes and how many characters had to be replaced.
pub fn csv_bytes(header: &[&str], rows: &[Vec<String>], enc: Encoding) -> (Vec<u8>, usize) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| cell(c)));
    }
    let text = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    match enc {
        Encoding::Utf8Bom => {
            let mut out = vec![0xEF, 0xBB, 0xBF];
            out.extend_from_slice(text.as_bytes());
            (out, 0)
        }
        Encoding::ShiftJis => {
            let mut out = Vec::with_capacity(text.len());
            let mut bad = 0;
            let mut buf = [0u8; 8];
            let mut enc = encoding_rs::SHIFT_JIS.new_encoder();
            for ch in text.chars() {
                let s = ch.encode_utf8(&mut buf);
                let mut dst = [0u8; 8];
                let (res, _, written) =
                    enc.encode_from_utf8_without_replacement(s, &mut dst, false);
                match res {
                    encoding_rs::EncoderResult::InputEmpty => {
                        out.extend_from_slice(&dst[..written])
                    }
                    _ => {
                        bad += 1;
                        out.push(b'?');
                    }
                }
            }
            (out, bad)
        }
    }
}

fn download(name: &str, header: &[&str], rows: &[Vec<String>], enc: Encoding) -> Response {
    let (bytes, bad) = csv_bytes(header, rows, enc);
    let charset = match enc {
        Encoding::Utf8Bom => "utf-8",
        Encoding::ShiftJis => "shift_jis",
    };
    (
        [
            (header::CONTENT_TYPE, format!("text/csv; charset={charset}")),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-unmappable-characters"),
                bad.to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EncQuery {
    pub enc: String,
}

fn suffix(enc: Encoding) -> &'static str {
    match enc {
        Encoding::Utf8Bom => "utf8",
        Encoding::ShiftJis => "sjis",
    }
}

/// `GET /console/needs/{id}/candidates.csv`.
pub async fn candidates(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Query(q): Query<EncQuery>,
) -> ConsoleResult<Response> {
    let enc = Encoding::parse(&q.enc);
    let role = user.caller.core_role();
    let key = id.clone();
    let got = state
        .run(Work::Matching, move |e| {
            let m = e.matcher();
            let Some(n) = m.view().need(&key, role) else {
                return Ok(None);
            };
            let (r, companies) = super::needs::candidates(&m, &n, role, CSV_TOP_K)?;
            let rows = r
                .matches
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let restricted = companies.get(&m.company_id).is_some_and(|c| {
                        c.visibility == matcher_core::model::Visibility::Restricted
                    });
                    vec![
                        (i + 1).to_string(),
                        m.company_id.clone(),
                        m.name.clone(),
                        layout::score(m.score),
                        if restricted { "限定公開" } else { "公開" }.to_owned(),
                        if m.stale { "要確認" } else { "" }.to_owned(),
                        m.explanation
                            .as_ref()
                            .map(|x| x.why.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect::<Vec<_>>();
            Ok(Some(rows))
        })
        .await?;
    let rows = got.ok_or_else(|| ConsoleError::not_found("ニーズ", &id))?;
    Ok(download(
        &format!("candidates-{id}-{}.csv", suffix(enc)),
        &[
            "順位",
            "企業ID",
            "企業名",
            "スコア",
            "公開範囲",
            "情報の鮮度",
            "理由",
        ],
        &rows,
        enc,
    ))
}

/// `GET /console/needs/{id}/shortlist.csv`.
pub async fn shortlist(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Query(q): Query<EncQuery>,
) -> ConsoleResult<Response> {
    let enc = Encoding::parse(&q.enc);
    let role = user.caller.core_role();
    let st = state.clone();
    let key = id.clone();
    let (list, names) = state
        .run(Work::Plain, move |e| {
            let list = crate::http::routes::outcomes::shortlist_of(e, &st, &key, role)?;
            let v = e.view();
            let mut names = HashMap::new();
            for p in &list.items {
                if let Some(c) = v.company(p.company_id.as_str(), role)? {
                    names.insert(p.company_id.to_string(), c.name);
                }
            }
            Ok((list, names))
        })
        .await?;
    let rows: Vec<Vec<String>> = list
        .items
        .iter()
        .map(|p| {
            vec![
                p.company_id.to_string(),
                names
                    .get(p.company_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                p.stage.label().to_owned(),
                layout::time(p.since),
                p.proposed_by.clone(),
                layout::time(p.proposed_at),
                p.reason.map(|r| r.label().to_owned()).unwrap_or_default(),
                p.note.clone(),
            ]
        })
        .collect();
    Ok(download(
        &format!("shortlist-{id}-{}.csv", suffix(enc)),
        &[
            "企業ID",
            "企業名",
            "段階",
            "更新日時",
            "提案者",
            "提案日時",
            "見送り理由",
            "メモ",
        ],
        &rows,
        enc,
    ))
}

/// `GET /console/kpi.csv`.
pub async fn kpis(
    State(state): State<AppState>,
    _user: User,
    Query(q): Query<KpiQuery>,
    Query(e): Query<EncQuery>,
) -> ConsoleResult<Response> {
    let enc = Encoding::parse(&e.enc);
    let rows = state.outcomes()?.kpis(q.kind(), q.group());
    let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.3}"));
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.period.clone(),
                r.label.clone(),
                r.group.clone(),
                r.needs_received.to_string(),
                r.proposals.to_string(),
                r.contacts.to_string(),
                r.meetings.to_string(),
                r.deals.to_string(),
                r.declined.to_string(),
                f(r.contact_rate),
                f(r.meeting_rate),
                f(r.deal_rate),
                f(r.proposal_to_deal),
                r.median_days_to_deal
                    .map_or(String::new(), |d| format!("{d:.1}")),
            ]
        })
        .collect();
    Ok(download(
        &format!("kpi-{}.csv", suffix(enc)),
        &[
            "期間",
            "期間名",
            "集計",
            "受付ニーズ",
            "提案",
            "連絡",
            "面談",
            "成約",
            "見送り",
            "提案→連絡",
            "連絡→面談",
            "面談→成約",
            "提案→成約",
            "成約までの日数（中央値）",
        ],
        &rows,
        enc,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_has_a_bom_and_crlf_lines() {
        let (b, bad) = csv_bytes(
            &["企業名", "段階"],
            &[vec!["㈱多摩精機".into(), "成約".into()]],
            Encoding::Utf8Bom,
        );
        assert_eq!(&b[..3], &[0xEF, 0xBB, 0xBF]);
        assert_eq!(
            std::str::from_utf8(&b[3..]).unwrap(),
            "企業名,段階\r\n㈱多摩精機,成約\r\n"
        );
        assert_eq!(bad, 0);
    }

    #[test]
    fn shift_jis_round_trips_japanese_and_counts_what_it_cannot_hold() {
        let rows = vec![
            vec!["髙橋製作所 ①".into(), "成約".into()],
            vec!["🙂".into(), "=1+1".into()],
        ];
        let (b, bad) = csv_bytes(&["企業名", "段階"], &rows, Encoding::ShiftJis);
        let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&b);
        assert!(!errors);
        assert_eq!(text, "企業名,段階\r\n髙橋製作所 ①,成約\r\n?,'=1+1\r\n");
        assert_eq!(bad, 1, "the emoji has no Shift_JIS code");
        // It really is Shift_JIS, not UTF-8: 成 is 0x90 0xAC.
        assert!(b.windows(2).any(|w| w == [0x90, 0xAC]));
    }
}
