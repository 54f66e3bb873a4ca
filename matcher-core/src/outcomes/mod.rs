//! Outcomes: what happened after a match. A coordinator shortlists a
//! candidate for a need (提案) and moves the pair through 連絡, 面談 to
//! 成約 or 見送り. Every change is an [`Event`] in an append-only journal
//! (`DATA/outcomes.jsonl`, see [`crate::journal`]) with who and when; the
//! current state of each pair ([`Pair`]) is the fold of those events.
//!
//! - [`stage`]: the stages and the moves the state machine allows;
//! - [`kpi`]: counts and conversions per month or fiscal year.
//!
//! This module knows nothing of the index: callers check that the need and
//! the company exist (and that the caller may see them) before recording.
//! Outcomes are staff data — no portal role reads them.

pub mod kpi;
pub mod stage;

use std::collections::BTreeMap;
use std::path::Path;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

pub use kpi::{GroupBy, KpiRow, PeriodKind};
pub use stage::{DeclineReason, Stage, TransitionError};

use crate::journal::{Journal, JournalError};
use crate::model::RecordId;

/// The journal's file name in the data folder.
pub const FILE_NAME: &str = "outcomes.jsonl";

/// Longest note or free text of one event, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// What changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A need was taken in (created through the console or the API).
    NeedReceived,
    /// A pair moved to `to` (to [`Stage::Proposed`]: it was shortlisted).
    Moved {
        /// The new stage.
        to: Stage,
        /// Why, for a move to 見送り.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(nullable = false))]
        reason: Option<DeclineReason>,
        /// The coordinator's note (free text of a 見送り).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        text: String,
    },
    /// A note on a pair, without a move.
    Note {
        /// The note.
        text: String,
    },
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// 1, 2, 3, … in journal order.
    pub seq: u64,
    /// Unix time, seconds.
    pub at: i64,
    /// The API key's name.
    pub who: String,
    /// The need.
    pub need_id: RecordId,
    /// The company of the pair, if the change is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub company_id: Option<RecordId>,
    /// What changed.
    pub change: Change,
}

/// The current state of a shortlisted pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pair {
    /// The need.
    pub need_id: RecordId,
    /// The shortlisted company.
    pub company_id: RecordId,
    /// Where the pair stands.
    pub stage: Stage,
    /// When it reached its stage.
    pub since: i64,
    /// Who shortlisted it, and when.
    pub proposed_by: String,
    /// When it was shortlisted (Unix time, seconds).
    pub proposed_at: i64,
    /// Why it was declined, at 見送り.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reason: Option<DeclineReason>,
    /// The latest note.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Its events, oldest first.
    pub history: Vec<Event>,
}

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum OutcomeError {
    /// The state machine refuses the move.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A field of the request is invalid (no author, a note too long, a
    /// company where none belongs or none where one does).
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal could not be written: nothing was recorded.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A change asked for by a caller (the store adds seq and time).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Who asks (the key's name): recorded with the event.
    pub who: String,
    /// The need.
    pub need_id: RecordId,
    /// The company, for a move or a note on a pair; none for a need taken in.
    pub company_id: Option<RecordId>,
    /// What changes.
    pub change: Change,
}

#[derive(Default)]
struct State {
    events: Vec<Event>,
    pairs: BTreeMap<(RecordId, RecordId), Pair>,
    /// Pairs of a need in shortlisting order.
    order: BTreeMap<RecordId, Vec<RecordId>>,
}

impl State {
    fn apply(&mut self, e: Event) {
        if let (Some(c), Change::Moved { to, reason, text }) = (&e.company_id, &e.change) {
            let key = (e.need_id.clone(), c.clone());
            match self.pairs.get_mut(&key) {
                Some(p) => {
                    p.stage = *to;
                    p.since = e.at;
                    p.reason = *reason;
                    if !text.is_empty() {
                        p.note = text.clone();
                    }
                    p.history.push(e.clone());
                }
                None => {
                    self.order
                        .entry(e.need_id.clone())
                        .or_default()
                        .push(c.clone());
                    self.pairs.insert(
                        key,
                        Pair {
                            need_id: e.need_id.clone(),
                            company_id: c.clone(),
                            stage: *to,
                            since: e.at,
                            proposed_by: e.who.clone(),
                            proposed_at: e.at,
                            reason: *reason,
                            note: text.clone(),
                            history: vec![e.clone()],
                        },
                    );
                }
            }
        } else if let (Some(c), Change::Note { text }) = (&e.company_id, &e.change) {
            if let Some(p) = self.pairs.get_mut(&(e.need_id.clone(), c.clone())) {
                p.note = text.clone();
                p.history.push(e.clone());
            }
        }
        self.events.push(e);
    }
}

/// The outcome store: the journal and its current-state view, behind one
/// lock (appends are serialized; reads copy what they return).
pub struct Outcomes {
    inner: Mutex<(Journal<Event>, State)>,
}

impl Outcomes {
    /// Open (or create) `DIR/outcomes.jsonl`.
    pub fn open(data_dir: &Path) -> Result<Outcomes, JournalError> {
        let (journal, events) = Journal::open(&data_dir.join(FILE_NAME))?;
        let mut state = State::default();
        for e in events {
            state.apply(e);
        }
        Ok(Outcomes {
            inner: Mutex::new((journal, state)),
        })
    }

    /// A store that keeps nothing on disk.
    pub fn in_memory() -> Outcomes {
        Outcomes {
            inner: Mutex::new((Journal::in_memory(), State::default())),
        }
    }

    /// Check `req` against the state machine, write it durably, then apply
    /// it. Returns the event as stored; on any error nothing is recorded.
    pub fn record(&self, req: Request) -> Result<Event, OutcomeError> {
        self.record_at(req, crate::journal::now_unix())
    }

    /// [`Outcomes::record`] at a given time (imports of past events, tests).
    pub fn record_at(&self, req: Request, at: i64) -> Result<Event, OutcomeError> {
        validate(&req)?;
        let mut guard = self.inner.lock();
        let (journal, state) = &mut *guard;
        if let (Some(c), Change::Moved { to, reason, text }) = (&req.company_id, &req.change) {
            let from = state
                .pairs
                .get(&(req.need_id.clone(), c.clone()))
                .map(|p| p.stage);
            stage::check(req.need_id.as_str(), c.as_str(), from, *to, *reason, text)?;
        }
        if let (Some(c), Change::Note { .. }) = (&req.company_id, &req.change) {
            if !state.pairs.contains_key(&(req.need_id.clone(), c.clone())) {
                return Err(TransitionError::NotShortlisted {
                    need: req.need_id.to_string(),
                    company: c.to_string(),
                }
                .into());
            }
        }
        let e = Event {
            seq: state.events.last().map_or(1, |l| l.seq + 1),
            at,
            who: req.who,
            need_id: req.need_id,
            company_id: req.company_id,
            change: req.change,
        };
        journal.append(&e)?;
        state.apply(e.clone());
        Ok(e)
    }

    /// The shortlist of a need, in shortlisting order.
    pub fn shortlist(&self, need_id: &str) -> Vec<Pair> {
        let g = self.inner.lock();
        let state = &g.1;
        let Some((need, companies)) = state.order.get_key_value(need_id) else {
            return Vec::new();
        };
        companies
            .iter()
            .filter_map(|c| state.pairs.get(&(need.clone(), c.clone())).cloned())
            .collect()
    }

    /// Every pair, by need then company.
    pub fn pairs(&self) -> Vec<Pair> {
        self.inner.lock().1.pairs.values().cloned().collect()
    }

    /// Events in journal order, optionally of one need, after `after_seq`.
    pub fn events(&self, need_id: Option<&str>, after_seq: u64, limit: usize) -> Vec<Event> {
        let g = self.inner.lock();
        g.1.events
            .iter()
            .filter(|e| e.seq > after_seq)
            .filter(|e| need_id.is_none_or(|n| e.need_id.as_str() == n))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The KPI table (see [`kpi`]).
    pub fn kpis(&self, kind: PeriodKind, by: GroupBy) -> Vec<KpiRow> {
        kpi::table(&self.inner.lock().1.events, kind, by)
    }

    /// How many events the journal holds.
    pub fn len(&self) -> usize {
        self.inner.lock().1.events.len()
    }

    /// True when nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn validate(req: &Request) -> Result<(), OutcomeError> {
    let bad = |field, reason: &str| {
        Err(OutcomeError::Invalid {
            field,
            reason: reason.to_owned(),
        })
    };
    if req.who.trim().is_empty() {
        return bad("who", "must name the key that makes the change");
    }
    let text = match &req.change {
        Change::NeedReceived => {
            if req.company_id.is_some() {
                return bad("company_id", "a need reception names no company");
            }
            return Ok(());
        }
        Change::Moved { text, .. } => text,
        Change::Note { text } => {
            if text.trim().is_empty() {
                return bad("text", "a note must not be empty");
            }
            text
        }
    };
    if req.company_id.is_none() {
        return bad(
            "company_id",
            "is required: a move or note is about one pair",
        );
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return bad(
            "text",
            &format!("is longer than {MAX_TEXT_CHARS} characters"),
        );
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return bad("text", "contains control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> RecordId {
        serde_json::from_value(serde_json::json!(s)).unwrap()
    }

    fn mv(need: &str, company: &str, to: Stage) -> Request {
        Request {
            who: "tama-center".into(),
            need_id: id(need),
            company_id: Some(id(company)),
            change: Change::Moved {
                to,
                reason: None,
                text: String::new(),
            },
        }
    }

    #[test]
    fn a_pair_moves_to_a_deal_and_the_state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outcomes::open(dir.path()).unwrap();
        let mut r = mv("n-001", "tk-003", Stage::Proposed);
        if let Change::Moved { text, .. } = &mut r.change {
            *text = "5軸加工の実績あり".into();
        }
        o.record(r).unwrap();
        for s in [Stage::Contacted, Stage::Meeting, Stage::Deal] {
            o.record(mv("n-001", "tk-003", s)).unwrap();
        }
        o.record(mv("n-001", "tk-009", Stage::Proposed)).unwrap();
        let err = o
            .record(mv("n-001", "tk-003", Stage::Meeting))
            .unwrap_err()
            .to_string();
        assert!(err.contains("finished at 成約"), "{err}");
        drop(o);
        let o = Outcomes::open(dir.path()).unwrap();
        let list = o.shortlist("n-001");
        let got: Vec<(&str, Stage)> = list
            .iter()
            .map(|p| (p.company_id.as_str(), p.stage))
            .collect();
        assert_eq!(got, [("tk-003", Stage::Deal), ("tk-009", Stage::Proposed)]);
        assert_eq!(list[0].note, "5軸加工の実績あり");
        assert_eq!(list[0].history.len(), 4);
        assert_eq!(o.len(), 5, "the refused move was not written");
        let seqs: Vec<u64> = o.events(None, 0, 100).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn invalid_requests_name_the_field() {
        let o = Outcomes::in_memory();
        let mut r = mv("n-1", "c-1", Stage::Proposed);
        r.company_id = None;
        let e = o.record(r).unwrap_err().to_string();
        assert!(e.starts_with("company_id:"), "{e}");
        let mut r = mv("n-1", "c-1", Stage::Proposed);
        r.change = Change::Note {
            text: "x".repeat(MAX_TEXT_CHARS + 1),
        };
        let e = o.record(r).unwrap_err().to_string();
        assert!(e.starts_with("text:"), "{e}");
        let e = o
            .record(Request {
                who: "t".into(),
                need_id: id("n-1"),
                company_id: Some(id("c-1")),
                change: Change::Note {
                    text: "メモ".into(),
                },
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("not on the shortlist"), "{e}");
        assert!(o.is_empty());
    }
}
