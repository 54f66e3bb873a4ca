//! KPIs from the outcome events: needs received, proposals, contacts,
//! meetings, deals (マッチング成約件数), conversion between stages and the
//! median days from a need to its deal — per month or per Japanese fiscal
//! year (April to March), overall or per coordinator (the key's name).
//!
//! Every count is of events dated in the period (Japan time, UTC+9, no
//! daylight saving): a pair proposed in March and concluded in May counts
//! as a proposal of fiscal year N−1 and a deal of fiscal year N. That is how
//! the cities report: 成約件数 of the year is the deals recorded in it.
//! Rates are ratios of those counts within one period, so a rate can exceed
//! 1 in a period that closes pairs proposed earlier.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::stage::Stage;
use super::{Change, Event};

/// Seconds east of UTC of Japan Standard Time.
pub const JST_OFFSET_SECS: i64 = 9 * 3600;

/// A civil date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CivilDate {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
}

impl CivilDate {
    /// The date in Japan of a Unix time in seconds.
    pub fn jst(unix: i64) -> CivilDate {
        civil_from_days((unix + JST_OFFSET_SECS).div_euclid(86_400))
    }

    /// The Japanese fiscal year (年度) the date falls in: it starts on 1 April.
    pub fn fiscal_year(self) -> i32 {
        if self.month >= 4 {
            self.year
        } else {
            self.year - 1
        }
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> CivilDate {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    CivilDate {
        year: (if m <= 2 { y + 1 } else { y }) as i32,
        month: m,
        day: d,
    }
}

/// A Unix time (seconds) at midnight JST of a civil date (tests, forms).
pub fn jst_midnight(year: i32, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 - JST_OFFSET_SECS
}

/// How events are grouped in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Calendar months (`2026-04`).
    #[default]
    Month,
    /// Japanese fiscal years, April to March (`FY2026` = 2026年度).
    FiscalYear,
}

impl PeriodKind {
    /// The period key of a date and its Japanese label.
    pub fn period(self, d: CivilDate) -> (String, String) {
        match self {
            PeriodKind::Month => (
                format!("{:04}-{:02}", d.year, d.month),
                format!("{}年{}月", d.year, d.month),
            ),
            PeriodKind::FiscalYear => {
                let fy = d.fiscal_year();
                (format!("FY{fy}"), format!("{fy}年度"))
            }
        }
    }
}

/// Who the counts are per.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per period.
    #[default]
    All,
    /// One row per period and coordinator (the API key's name, which is
    /// issued per organisation or per person), after the period's total.
    Coordinator,
}

/// The name of the total row of a period.
pub const ALL_GROUP: &str = "全体";

/// One row of the KPI table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KpiRow {
    /// `2026-04` or `FY2026`.
    pub period: String,
    /// `2026年4月` or `2026年度`.
    pub label: String,
    /// [`ALL_GROUP`] or a coordinator's key name.
    pub group: String,
    /// Needs taken in during the period.
    pub needs_received: u32,
    /// Pairs shortlisted (提案).
    pub proposals: u32,
    /// Pairs moved to 連絡.
    pub contacts: u32,
    /// Pairs moved to 面談.
    pub meetings: u32,
    /// Pairs moved to 成約: the figure a city reports.
    pub deals: u32,
    /// Pairs moved to 見送り.
    pub declined: u32,
    /// contacts / proposals.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub contact_rate: Option<f64>,
    /// meetings / contacts.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub meeting_rate: Option<f64>,
    /// deals / meetings.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deal_rate: Option<f64>,
    /// deals / proposals.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub proposal_to_deal: Option<f64>,
    /// Median of the days from a need's reception (its first event when it
    /// came in before the log) to each deal recorded in the period.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub median_days_to_deal: Option<f64>,
}

#[derive(Default)]
struct Acc {
    label: String,
    needs_received: u32,
    proposals: u32,
    contacts: u32,
    meetings: u32,
    deals: u32,
    declined: u32,
    days_to_deal: Vec<f64>,
}

fn ratio(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The median of `v` (sorted in place), `None` when empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The KPI table of `events` (in log order), oldest period first; within
/// a period the total row first, then coordinators by name.
pub fn table(events: &[Event], kind: PeriodKind, by: GroupBy) -> Vec<KpiRow> {
    // When each need came in: its reception event, else its first event.
    let mut first: HashMap<&str, i64> = HashMap::new();
    let mut reception: HashMap<&str, i64> = HashMap::new();
    for e in events {
        let f = first.entry(e.need_id.as_str()).or_insert(e.at);
        *f = (*f).min(e.at);
        if matches!(e.change, Change::NeedReceived) {
            reception.entry(e.need_id.as_str()).or_insert(e.at);
        }
    }
    let received = |need: &str| reception.get(need).or_else(|| first.get(need)).copied();
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for e in events {
        let (period, label) = kind.period(CivilDate::jst(e.at));
        let mut groups = vec![ALL_GROUP.to_owned()];
        if by == GroupBy::Coordinator {
            groups.push(e.who.clone());
        }
        for g in groups {
            let a = acc.entry((period.clone(), g)).or_default();
            a.label = label.clone();
            match &e.change {
                Change::NeedReceived => a.needs_received += 1,
                Change::Moved { to, .. } => match to {
                    Stage::Proposed => a.proposals += 1,
                    Stage::Contacted => a.contacts += 1,
                    Stage::Meeting => a.meetings += 1,
                    Stage::Declined => a.declined += 1,
                    Stage::Deal => {
                        a.deals += 1;
                        if let Some(r) = received(e.need_id.as_str()) {
                            a.days_to_deal.push((e.at - r) as f64 / 86_400.0);
                        }
                    }
                },
                Change::Note { .. } => {}
            }
        }
    }
    let mut rows: Vec<KpiRow> = acc
        .into_iter()
        .map(|((period, group), mut a)| KpiRow {
            period,
            label: a.label,
            group,
            needs_received: a.needs_received,
            proposals: a.proposals,
            contacts: a.contacts,
            meetings: a.meetings,
            deals: a.deals,
            declined: a.declined,
            contact_rate: ratio(a.contacts, a.proposals),
            meeting_rate: ratio(a.meetings, a.contacts),
            deal_rate: ratio(a.deals, a.meetings),
            proposal_to_deal: ratio(a.deals, a.proposals),
            median_days_to_deal: median(&mut a.days_to_deal),
        })
        .collect();
    rows.sort_by(|a, b| {
        a.period
            .cmp(&b.period)
            .then_with(|| (b.group == ALL_GROUP).cmp(&(a.group == ALL_GROUP)))
            .then_with(|| a.group.cmp(&b.group))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordId;
    use crate::outcomes::DeclineReason;

    fn id(s: &str) -> RecordId {
        serde_json::from_value(serde_json::json!(s)).unwrap()
    }

    fn ev(at: i64, who: &str, need: &str, change: Change) -> Event {
        Event {
            seq: 0,
            at,
            who: who.to_owned(),
            need_id: id(need),
            company_id: Some(id("c-1")),
            change,
        }
    }

    fn moved(to: Stage) -> Change {
        Change::Moved {
            to,
            reason: None,
            text: String::new(),
        }
    }

    #[test]
    fn dates_are_japan_dates() {
        // 2026-03-31 15:00 UTC is 2026-04-01 00:00 in Japan.
        let t = jst_midnight(2026, 4, 1);
        assert_eq!(t, 1_774_969_200);
        assert_eq!(CivilDate::jst(t).to_string(), "2026-04-01");
        assert_eq!(CivilDate::jst(t - 1).to_string(), "2026-03-31");
        assert_eq!(CivilDate::jst(0).to_string(), "1970-01-01");
        assert_eq!(
            CivilDate::jst(jst_midnight(2024, 2, 29)).to_string(),
            "2024-02-29"
        );
        assert_eq!(
            CivilDate::jst(jst_midnight(2000, 3, 1) - 1).to_string(),
            "2000-02-29"
        );
    }

    #[test]
    fn the_fiscal_year_turns_on_the_first_of_april_in_japan() {
        let april = jst_midnight(2026, 4, 1);
        assert_eq!(CivilDate::jst(april).fiscal_year(), 2026);
        assert_eq!(CivilDate::jst(april - 1).fiscal_year(), 2025);
        assert_eq!(
            CivilDate::jst(jst_midnight(2027, 3, 31)).fiscal_year(),
            2026
        );
        assert_eq!(CivilDate::jst(jst_midnight(2027, 1, 5)).fiscal_year(), 2026);
        // One second after midnight in Japan it is the new fiscal year,
        // while in UTC it is still 31 March, 15:00.
        let events = vec![
            ev(april - 60, "tama", "n-1", moved(Stage::Proposed)),
            ev(april + 1, "tama", "n-1", moved(Stage::Contacted)),
        ];
        let rows = table(&events, PeriodKind::FiscalYear, GroupBy::All);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].period.as_str(), rows[0].proposals), ("FY2025", 1));
        assert_eq!((rows[1].period.as_str(), rows[1].contacts), ("FY2026", 1));
        assert_eq!(rows[1].label, "2026年度");
    }

    #[test]
    fn counts_rates_and_median_days_per_period_and_coordinator() {
        let d = |day: u32| jst_midnight(2026, 5, day);
        let events = vec![
            ev(d(1), "tama", "n-1", Change::NeedReceived),
            ev(d(2), "tama", "n-1", moved(Stage::Proposed)),
            ev(d(3), "tama", "n-1", moved(Stage::Contacted)),
            ev(d(4), "tama", "n-1", moved(Stage::Meeting)),
            ev(d(11), "tama", "n-1", moved(Stage::Deal)),
            ev(d(1), "kawasaki", "n-2", Change::NeedReceived),
            ev(d(2), "kawasaki", "n-2", moved(Stage::Proposed)),
            ev(d(2), "kawasaki", "n-2", moved(Stage::Proposed)),
            ev(d(5), "kawasaki", "n-2", moved(Stage::Contacted)),
            ev(
                d(6),
                "kawasaki",
                "n-2",
                Change::Moved {
                    to: Stage::Declined,
                    reason: Some(DeclineReason::Price),
                    text: String::new(),
                },
            ),
            ev(d(7), "kawasaki", "n-2", moved(Stage::Meeting)),
            ev(d(30), "kawasaki", "n-2", moved(Stage::Deal)),
        ];
        let rows = table(&events, PeriodKind::Month, GroupBy::Coordinator);
        let names: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(names, ["全体", "kawasaki", "tama"]);
        let all = &rows[0];
        assert_eq!(all.period, "2026-05");
        assert_eq!(
            (
                all.needs_received,
                all.proposals,
                all.contacts,
                all.meetings,
                all.deals,
                all.declined
            ),
            (2, 3, 2, 2, 2, 1)
        );
        assert_eq!(all.contact_rate, Some(2.0 / 3.0));
        assert_eq!(all.deal_rate, Some(1.0));
        // Need n-1: 10 days; n-2: 29 days; the median of two is their mean.
        assert_eq!(all.median_days_to_deal, Some(19.5));
        let tama = &rows[2];
        assert_eq!((tama.proposals, tama.deals), (1, 1));
        assert_eq!(tama.median_days_to_deal, Some(10.0));
        assert_eq!(rows[1].proposal_to_deal, Some(0.5));
    }

    #[test]
    fn a_need_from_before_the_log_counts_from_its_first_event_and_empty_rates_are_none() {
        let events = vec![
            ev(
                jst_midnight(2026, 6, 10),
                "tama",
                "n-9",
                moved(Stage::Proposed),
            ),
            ev(jst_midnight(2026, 6, 13), "tama", "n-9", moved(Stage::Deal)),
        ];
        let rows = table(&events, PeriodKind::Month, GroupBy::All);
        assert_eq!(rows[0].median_days_to_deal, Some(3.0));
        assert_eq!(rows[0].needs_received, 0);
        assert_eq!(rows[0].deal_rate, None, "no meetings: no rate, not 0 or ∞");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
