//! The stages of a proposed pair (need, company) and the moves between them.
//!
//! 提案 → 連絡 → 面談 → 成約, or 見送り from any open stage. Moves go one
//! stage forward at a time: the city's KPIs are conversions between
//! stages, and a pair that jumped from 提案 to 成約 would count a deal
//! without its contact and meeting. A coordinator who forgot a step records
//! it (the error says which).

use serde::{Deserialize, Serialize};

/// Where a proposed pair stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 提案: on the need's shortlist, proposed to the asking company.
    Proposed,
    /// 連絡: the two companies have been put in touch.
    Contacted,
    /// 面談: they met.
    Meeting,
    /// 成約: business was concluded (the city's KPI).
    Deal,
    /// 見送り: it will not happen (with a reason).
    Declined,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 5] = [
        Stage::Proposed,
        Stage::Contacted,
        Stage::Meeting,
        Stage::Deal,
        Stage::Declined,
    ];

    /// The Japanese label coordinators use.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Proposed => "提案",
            Stage::Contacted => "連絡",
            Stage::Meeting => "面談",
            Stage::Deal => "成約",
            Stage::Declined => "見送り",
        }
    }

    /// The wire name (`proposed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Proposed => "proposed",
            Stage::Contacted => "contacted",
            Stage::Meeting => "meeting",
            Stage::Deal => "deal",
            Stage::Declined => "declined",
        }
    }

    /// Parse a wire name or a Japanese label.
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s || st.label() == s)
    }

    /// No move leaves a finished pair.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Deal | Stage::Declined)
    }

    /// The one forward stage after this one, if any.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Proposed => Some(Stage::Contacted),
            Stage::Contacted => Some(Stage::Meeting),
            Stage::Meeting => Some(Stage::Deal),
            Stage::Deal | Stage::Declined => None,
        }
    }

    /// The stages a pair at `self` may move to.
    pub fn moves(self) -> Vec<Stage> {
        let mut v: Vec<Stage> = self.next().into_iter().collect();
        if !self.is_final() {
            v.push(Stage::Declined);
        }
        v
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a pair was declined: a fixed list (for the statistics) plus free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// 価格・費用が合わない
    Price,
    /// 納期・量が合わない
    Capacity,
    /// 技術・品質の要件を満たさない
    Capability,
    /// 相手企業が辞退
    PartnerDeclined,
    /// ニーズ企業が取り下げ
    NeedWithdrawn,
    /// 連絡がつかない
    NoResponse,
    /// その他（自由記述に理由）
    Other,
}

impl DeclineReason {
    /// Every reason, in the order the console lists them.
    pub const ALL: [DeclineReason; 7] = [
        DeclineReason::Price,
        DeclineReason::Capacity,
        DeclineReason::Capability,
        DeclineReason::PartnerDeclined,
        DeclineReason::NeedWithdrawn,
        DeclineReason::NoResponse,
        DeclineReason::Other,
    ];

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            DeclineReason::Price => "価格・費用が合わない",
            DeclineReason::Capacity => "納期・量が合わない",
            DeclineReason::Capability => "技術・品質の要件を満たさない",
            DeclineReason::PartnerDeclined => "相手企業が辞退",
            DeclineReason::NeedWithdrawn => "ニーズ企業が取り下げ",
            DeclineReason::NoResponse => "連絡がつかない",
            DeclineReason::Other => "その他",
        }
    }

    /// The wire name (`price`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::Price => "price",
            DeclineReason::Capacity => "capacity",
            DeclineReason::Capability => "capability",
            DeclineReason::PartnerDeclined => "partner_declined",
            DeclineReason::NeedWithdrawn => "need_withdrawn",
            DeclineReason::NoResponse => "no_response",
            DeclineReason::Other => "other",
        }
    }

    /// Parse a wire name.
    pub fn parse(s: &str) -> Option<DeclineReason> {
        DeclineReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A move the state machine refuses. The message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// A move of a pair that was never shortlisted.
    #[error("{company} is not on the shortlist of {need}: add it first (it starts at 提案)")]
    NotShortlisted {
        /// The need.
        need: String,
        /// The company.
        company: String,
    },
    /// Shortlisting a pair that is already on the shortlist.
    #[error("{company} is already on the shortlist of {need} (at {stage})")]
    AlreadyShortlisted {
        /// The need.
        need: String,
        /// The company.
        company: String,
        /// Where the pair stands.
        stage: Stage,
    },
    /// A move out of 成約 or 見送り, which end a pair.
    #[error("the pair is finished at {from}: no move leaves {from}")]
    Finished {
        /// The final stage.
        from: Stage,
    },
    /// A move the state machine does not allow (backwards, or skipping on).
    #[error("cannot move from {from} to {to}: {hint}")]
    Illegal {
        /// Where the pair stands.
        from: Stage,
        /// Where it was asked to go.
        to: Stage,
        /// The moves allowed from `from`.
        hint: String,
    },
    /// 見送り without a reason: the KPIs count declines by reason.
    #[error("見送り needs a reason: one of {0}")]
    MissingReason(String),
    /// A reason with a move other than 見送り.
    #[error("a reason is given only with 見送り (declined)")]
    ReasonWithoutDecline,
    /// その他 without saying what: a reason nobody can read later.
    #[error("the reason その他 (other) needs a free-text explanation")]
    OtherNeedsText,
}

/// Check one move of a pair at `from` (`None`: not on the shortlist) to `to`.
pub fn check(
    need: &str,
    company: &str,
    from: Option<Stage>,
    to: Stage,
    reason: Option<DeclineReason>,
    text: &str,
) -> Result<(), TransitionError> {
    match (to, reason) {
        (Stage::Declined, None) => {
            let list: Vec<&str> = DeclineReason::ALL.iter().map(|r| r.as_str()).collect();
            return Err(TransitionError::MissingReason(list.join(", ")));
        }
        (Stage::Declined, Some(DeclineReason::Other)) if text.trim().is_empty() => {
            return Err(TransitionError::OtherNeedsText)
        }
        (Stage::Declined, Some(_)) => {}
        (_, Some(_)) => return Err(TransitionError::ReasonWithoutDecline),
        (_, None) => {}
    }
    let Some(from) = from else {
        if to == Stage::Proposed {
            return Ok(());
        }
        return Err(TransitionError::NotShortlisted {
            need: need.to_owned(),
            company: company.to_owned(),
        });
    };
    if to == Stage::Proposed {
        return Err(TransitionError::AlreadyShortlisted {
            need: need.to_owned(),
            company: company.to_owned(),
            stage: from,
        });
    }
    if from.is_final() {
        return Err(TransitionError::Finished { from });
    }
    if to == Stage::Declined || from.next() == Some(to) {
        return Ok(());
    }
    let hint = if to > from {
        let missing: Vec<&str> = Stage::ALL
            .iter()
            .filter(|s| **s > from && **s < to)
            .map(|s| s.label())
            .collect();
        format!("record {} first", missing.join(" and "))
    } else {
        "stages only go forward".to_owned()
    };
    Err(TransitionError::Illegal { from, to, hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(from: Option<Stage>, to: Stage) -> bool {
        check("n", "c", from, to, None, "").is_ok()
    }

    #[test]
    fn the_forward_path_is_allowed_one_stage_at_a_time() {
        assert!(ok(None, Stage::Proposed));
        assert!(ok(Some(Stage::Proposed), Stage::Contacted));
        assert!(ok(Some(Stage::Contacted), Stage::Meeting));
        assert!(ok(Some(Stage::Meeting), Stage::Deal));
    }

    #[test]
    fn skipping_a_stage_is_refused_naming_the_missing_ones() {
        let e = check("n", "c", Some(Stage::Proposed), Stage::Deal, None, "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot move from 提案 to 成約: record 連絡 and 面談 first"
        );
        assert!(!ok(Some(Stage::Contacted), Stage::Deal));
    }

    #[test]
    fn backwards_and_out_of_finished_pairs_are_refused() {
        let e = check("n", "c", Some(Stage::Meeting), Stage::Contacted, None, "").unwrap_err();
        assert!(e.to_string().contains("only go forward"), "{e}");
        for from in [Stage::Deal, Stage::Declined] {
            for to in [Stage::Contacted, Stage::Meeting, Stage::Deal] {
                assert_eq!(
                    check("n", "c", Some(from), to, None, ""),
                    Err(TransitionError::Finished { from })
                );
            }
        }
        let e = check(
            "n",
            "c",
            Some(Stage::Deal),
            Stage::Declined,
            Some(DeclineReason::Price),
            "",
        )
        .unwrap_err();
        assert_eq!(e, TransitionError::Finished { from: Stage::Deal });
    }

    #[test]
    fn a_pair_enters_only_through_the_shortlist_and_only_once() {
        assert!(matches!(
            check("n-1", "c-1", None, Stage::Contacted, None, ""),
            Err(TransitionError::NotShortlisted { .. })
        ));
        assert!(matches!(
            check(
                "n-1",
                "c-1",
                Some(Stage::Meeting),
                Stage::Proposed,
                None,
                ""
            ),
            Err(TransitionError::AlreadyShortlisted {
                stage: Stage::Meeting,
                ..
            })
        ));
    }

    #[test]
    fn declining_needs_a_reason_and_other_needs_text() {
        assert!(matches!(
            check("n", "c", Some(Stage::Contacted), Stage::Declined, None, ""),
            Err(TransitionError::MissingReason(_))
        ));
        assert_eq!(
            check(
                "n",
                "c",
                Some(Stage::Contacted),
                Stage::Declined,
                Some(DeclineReason::Other),
                "  "
            ),
            Err(TransitionError::OtherNeedsText)
        );
        assert!(check(
            "n",
            "c",
            Some(Stage::Meeting),
            Stage::Declined,
            Some(DeclineReason::Other),
            "先方の設備更新待ち"
        )
        .is_ok());
        assert_eq!(
            check(
                "n",
                "c",
                Some(Stage::Proposed),
                Stage::Contacted,
                Some(DeclineReason::Price),
                ""
            ),
            Err(TransitionError::ReasonWithoutDecline)
        );
    }

    #[test]
    fn labels_and_wire_names_parse_back() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
            assert_eq!(Stage::parse(s.label()), Some(s));
        }
        assert_eq!(Stage::parse("won"), None);
        for r in DeclineReason::ALL {
            assert_eq!(DeclineReason::parse(r.as_str()), Some(r));
        }
    }
}
