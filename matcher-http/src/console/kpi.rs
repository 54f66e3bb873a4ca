//! KPIs (needs, proposals, meetings, 成約件数, conversions, median days)
//! as a table and an SVG plot drawn here, and the admins' audit page.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use matcher_core::outcomes::kpi::ALL_GROUP;
use matcher_core::outcomes::{GroupBy, KpiRow, PeriodKind};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, Tab};
use super::session::User;
use super::{ConsoleError, ConsoleResult};
use crate::http::state::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct KpiQuery {
    /// `month` (default) or `fiscal_year`.
    pub period: String,
    /// `all` (default) or `coordinator`.
    pub by: String,
}

impl KpiQuery {
    pub fn kind(&self) -> PeriodKind {
        if self.period == "fiscal_year" {
            PeriodKind::FiscalYear
        } else {
            PeriodKind::Month
        }
    }
    pub fn group(&self) -> GroupBy {
        if self.by == "coordinator" {
            GroupBy::Coordinator
        } else {
            GroupBy::All
        }
    }
    fn query(&self) -> String {
        format!(
            "period={}&by={}",
            if self.kind() == PeriodKind::FiscalYear {
                "fiscal_year"
            } else {
                "month"
            },
            if self.group() == GroupBy::Coordinator {
                "coordinator"
            } else {
                "all"
            }
        )
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// `GET /console/kpi`.
pub async fn kpi_page(
    State(state): State<AppState>,
    user: User,
    Query(q): Query<KpiQuery>,
) -> ConsoleResult<Markup> {
    let rows = state.outcomes()?.kpis(q.kind(), q.group());
    Ok(layout::page(
        &user,
        Tab::Kpi,
        "成果・KPI",
        html! {
            form.inline.kpi method="get" action="/console/kpi" {
                label { "期間 "
                    select name="period" {
                        option value="month" selected[q.kind() == PeriodKind::Month] { "月別" }
                        option value="fiscal_year" selected[q.kind() == PeriodKind::FiscalYear] { "年度別（4月始まり）" }
                    }
                }
                label { " 集計 "
                    select name="by" {
                        option value="all" selected[q.group() == GroupBy::All] { "全体" }
                        option value="coordinator" selected[q.group() == GroupBy::Coordinator] { "コーディネーター別" }
                    }
                }
                button type="submit" { "表示" }
            }
            p.exports { "書き出し: "
                a href={"/console/kpi.csv?" (q.query()) "&enc=utf8"} { "CSV（UTF-8）" } " · "
                a.kpi-csv-sjis href={"/console/kpi.csv?" (q.query()) "&enc=sjis"} { "CSV（Shift_JIS）" } }
            @if rows.is_empty() {
                p { "まだ記録がありません。ニーズの候補リストに企業を追加すると集計されます。" }
            } @else {
                figure.chart {
                    img src={"/console/kpi.svg?" (q.query())} alt="期間ごとの提案・面談・成約の件数" width="760" height="300";
                    figcaption { "期間ごとの提案・面談・成約の件数（全体）" }
                }
                table.kpi id="kpi-table" {
                    thead { tr {
                        th { "期間" } th { "集計" } th { "受付ニーズ" } th { "提案" } th { "連絡" } th { "面談" } th { "成約" } th { "見送り" }
                        th { "提案→連絡" } th { "連絡→面談" } th { "面談→成約" } th { "提案→成約" } th { "成約までの日数（中央値）" }
                    } }
                    tbody {
                        @for r in &rows {
                            tr class=@if r.group == ALL_GROUP { "total" } @else { "" } data-period=(r.period) data-group=(r.group) {
                                td { (r.label) } td { (r.group) }
                                td.num { (r.needs_received) } td.num { (r.proposals) } td.num { (r.contacts) }
                                td.num { (r.meetings) } td.num.deals { (r.deals) } td.num { (r.declined) }
                                td.num { (pct(r.contact_rate)) } td.num { (pct(r.meeting_rate)) }
                                td.num { (pct(r.deal_rate)) } td.num { (pct(r.proposal_to_deal)) }
                                td.num { (r.median_days_to_deal.map_or("—".to_owned(), |d| format!("{d:.1}"))) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A grouped bar chart of proposals, meetings and deals per period (the
/// total rows), as standalone SVG. Drawn by hand: three series of bars
/// and an axis do not need a plotting library, and the output is plain,
/// testable markup with no fonts to embed (the browser renders the text).
pub fn chart_svg(rows: &[KpiRow]) -> String {
    let totals: Vec<&KpiRow> = rows.iter().filter(|r| r.group == ALL_GROUP).collect();
    let (w, h) = (760.0_f64, 300.0_f64);
    let (left, right, top, bottom) = (48.0, 16.0, 36.0, 48.0);
    let max = totals
        .iter()
        .map(|r| r.proposals.max(r.meetings).max(r.deals))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    // A round axis maximum: 1, 2, 5 × 10^k.
    let mut step = 1.0;
    let mut k = 0usize;
    while max / step > 5.0 {
        k += 1;
        step = [1.0, 2.0, 5.0][k % 3] * 10f64.powi((k / 3) as i32);
    }
    let top_val = (max / step).ceil() * step;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let y = |v: f64| top + plot_h - v / top_val * plot_h;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12" role="img"><title>提案・面談・成約の件数</title><rect width="{w}" height="{h}" fill="#fff"/>"##
    );
    let series = [
        ("提案", "#8aa8c8"),
        ("面談", "#e0a34a"),
        ("成約", "#2f8f5b"),
    ];
    for (i, (name, colour)) in series.iter().enumerate() {
        let x = left + i as f64 * 80.0;
        s.push_str(&format!(
            r#"<rect x="{x}" y="10" width="12" height="12" fill="{colour}"/><text x="{}" y="20">{name}</text>"#,
            x + 16.0
        ));
    }
    let mut v = 0.0;
    while v <= top_val + 1e-9 {
        let yy = y(v);
        s.push_str(&format!(
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            w - right,
            left - 6.0,
            yy + 4.0,
            v
        ));
        v += step;
    }
    let n = totals.len().max(1) as f64;
    let group_w = plot_w / n;
    let bar_w = (group_w * 0.8 / 3.0).min(28.0);
    for (i, r) in totals.iter().enumerate() {
        let gx = left + i as f64 * group_w + (group_w - bar_w * 3.0) / 2.0;
        for (j, (val, (_, colour))) in [r.proposals, r.meetings, r.deals]
            .iter()
            .zip(series.iter())
            .enumerate()
        {
            let x = gx + j as f64 * bar_w;
            let yy = y(*val as f64);
            s.push_str(&format!(
                r#"<rect class="bar" data-value="{val}" x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
                bar_w - 2.0,
                top + plot_h - yy
            ));
            if *val > 0 {
                s.push_str(&format!(
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{val}</text>"#,
                    x + (bar_w - 2.0) / 2.0,
                    yy - 3.0
                ));
            }
        }
        s.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            left + i as f64 * group_w + group_w / 2.0,
            h - bottom + 18.0,
            esc(&r.label)
        ));
    }
    s.push_str(&format!(
        r##"<line x1="{left}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#333"/></svg>"##,
        w - right,
        top + plot_h,
        top + plot_h
    ));
    s
}

/// `GET /console/kpi.svg`.
pub async fn kpi_svg(
    State(state): State<AppState>,
    _user: User,
    Query(q): Query<KpiQuery>,
) -> ConsoleResult<Response> {
    let rows = state.outcomes()?.kpis(q.kind(), GroupBy::All);
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        chart_svg(&rows),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub company: String,
}

/// `GET /console/audit` (admins): reads of restricted profiles.
pub async fn audit_page(
    State(state): State<AppState>,
    user: User,
    Query(q): Query<AuditQuery>,
) -> ConsoleResult<Markup> {
    if !user.is_admin() {
        return Err(ConsoleError::new(
            StatusCode::FORBIDDEN,
            "閲覧記録は管理者だけが見られます。",
        ));
    }
    let company = (!q.company.trim().is_empty()).then(|| q.company.trim().to_owned());
    let entries = state.audit()?.recent(company.as_deref(), 500);
    Ok(layout::page(
        &user,
        Tab::Audit,
        "限定公開企業の閲覧記録",
        html! {
            form.inline method="get" action="/console/audit" {
                label { "企業ID " input type="text" name="company" value=(q.company); }
                button type="submit" { "絞り込む" }
            }
            table.audit id="audit-table" {
                thead { tr { th { "日時" } th { "閲覧者" } th { "権限" } th { "企業" } th { "経路" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (layout::time(e.at)) }
                            td { (e.who) }
                            td { (e.role) }
                            td { a href={"/console/companies/" (e.company_id)} { (e.company_id) } }
                            td { @if e.via == "console" { "コンソール" } @else { "API" } }
                        }
                    }
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, p: u32, m: u32, d: u32) -> KpiRow {
        KpiRow {
            period: period.into(),
            label: format!("{period}<"),
            group: ALL_GROUP.into(),
            needs_received: 0,
            proposals: p,
            contacts: 0,
            meetings: m,
            deals: d,
            declined: 0,
            contact_rate: None,
            meeting_rate: None,
            deal_rate: None,
            proposal_to_deal: None,
            median_days_to_deal: None,
        }
    }

    #[test]
    fn the_chart_draws_one_bar_per_series_and_period_scaled_to_the_axis() {
        let svg = chart_svg(&[row("2026-04", 10, 4, 2), row("2026-05", 3, 1, 0)]);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 6);
        assert!(svg.contains(r#"data-value="10""#));
        // Labels are escaped.
        assert!(svg.contains("2026-04&lt;"));
        assert!(!svg.contains("2026-04<<"));
        // The tallest bar reaches the top of the plot (axis max 10).
        let tallest = svg
            .split(r#"data-value="10""#)
            .nth(1)
            .and_then(|s| s.split("y=\"").nth(1))
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap();
        assert!((tallest - 36.0).abs() < 0.2, "{tallest}");
    }
}
