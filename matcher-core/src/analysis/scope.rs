//! Clause scopes: which parts of a text are *not* a statement of what is
//! wanted or offered.
//!
//! People write what is out of scope in the same breath as what is in it:
//! a need says 塗装は対象外です or 溶接以外の工程, a profile says
//! 熱処理は協力会社に外注 or 鋳造には対応しておりません, and a need's owner
//! describes itself (弊社は金属加工業を営んでおりますが、…). Terms inside
//! those clauses must not attract candidates. This module finds the spans;
//! the query builder, the profile tokenizer and concept extraction decide
//! what each kind costs.
//!
//! A clause ends at 。！？ or a line break, and at a 、 that follows a
//! hiragana (し、 て、 が、: a predicate ends there), but not at the 、 of
//! a list (旋盤、マシニングセンタ、). The marker follows its object in
//! Japanese, so the scope is the clause text before the marker; for a
//! self-description (弊社は…) it is the text after it.

/// Why a span does not count as an offer or a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// A need rules it out (対象外, 不要, 以外, 除く).
    Excluded,
    /// A profile says the company does not do it (対応しておりません, 不可).
    Refused,
    /// A profile sends it out (外注, 委託, 協力会社).
    Outsourced,
    /// A need's owner describing itself (弊社は…を営んでおります).
    SelfDescription,
}

/// A byte span of the original text and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub start: usize,
    pub end: usize,
    pub kind: ScopeKind,
}

const EXCLUDED: &[&str] = &[
    "対象外",
    "不要",
    "必要ありません",
    "必要ない",
    "必要なし",
    "以外",
    "除く",
    "除き",
    "含みません",
    "含まない",
    "結構です",
    "お断り",
];
const REFUSED: &[&str] = &[
    "対応しておりません",
    "対応していません",
    "対応不可",
    "対応できません",
    "行っておりません",
    "行っていません",
    "行っていない",
    "おこなっておりません",
    "しておりません",
    "していません",
    "できません",
    "出来ません",
    "不可",
    "扱わない",
    "扱っていない",
    "扱っておりません",
    "受けておりません",
    "受けていません",
    "非対応",
    "苦手",
];
const OUTSOURCED: &[&str] = &[
    "外注",
    "委託",
    "協力会社",
    "協力工場",
    "外部に",
    "外部へ",
    "提携先",
];
const SELF: &[&str] = &[
    "弊社は",
    "当社は",
    "弊社では",
    "当社では",
    "私どもは",
    "弊社も",
    "当社も",
];
/// A clause containing one of these is a request, not a self-description.
const REQUEST: &[&str] = &[
    "探して",
    "探し",
    "募集",
    "求め",
    "依頼",
    "お願い",
    "希望",
    "欲しい",
    "ほしい",
    "頂け",
    "いただけ",
    "できる会社",
    "可能な会社",
    "できる企業",
    "可能な企業",
    "協力先",
    "パートナー",
];

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

/// Clause byte ranges of `text`.
fn clauses(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let hard = matches!(c, '。' | '！' | '？' | '!' | '?' | '\n' | '．');
        let soft = matches!(c, '、' | '，' | ',') && prev.is_some_and(is_hiragana);
        if hard || soft {
            if i > start {
                out.push((start, i));
            }
            start = i + c.len_utf8();
        }
        prev = Some(c);
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// One automaton per text kind over every marker that can open a scope:
/// most texts have none, and finding that out with one pass (instead of a
/// substring search per marker per clause) matters when every profile is
/// analyzed at indexing and every matched profile again for explanations.
/// (`None` only if the automaton could not be built: then every text takes
/// the full path.)
fn markers(is_need: bool) -> Option<&'static aho_corasick::AhoCorasick> {
    type Cell = std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>;
    static NEED: Cell = Cell::new();
    static PROFILE: Cell = Cell::new();
    let (cell, lists): (_, &[&[&str]]) = if is_need {
        (&NEED, &[EXCLUDED, SELF])
    } else {
        (&PROFILE, &[REFUSED, OUTSOURCED])
    };
    cell.get_or_init(|| {
        let words: Vec<&str> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        aho_corasick::AhoCorasick::new(&words).ok()
    })
    .as_ref()
}

/// Find the out-of-scope spans of `text`. `is_need` selects the markers:
/// needs have exclusions and self-descriptions, profiles refusals and
/// outsourcing.
pub fn scopes(text: &str, is_need: bool) -> Vec<Scope> {
    let mut out = Vec::new();
    if markers(is_need).is_some_and(|m| !m.is_match(text)) {
        return out;
    }
    for (cs, ce) in clauses(text) {
        let clause = &text[cs..ce];
        let markers: &[(&[&str], ScopeKind)] = if is_need {
            &[(EXCLUDED, ScopeKind::Excluded)]
        } else {
            &[
                (REFUSED, ScopeKind::Refused),
                (OUTSOURCED, ScopeKind::Outsourced),
            ]
        };
        let mut found = None;
        for (words, kind) in markers {
            for w in *words {
                if let Some(p) = clause.find(w) {
                    // 以外にも / 以外も mean "besides", not "except".
                    let rest = &clause[p + w.len()..];
                    if *w == "以外" && (rest.starts_with('に') || rest.starts_with('も')) {
                        continue;
                    }
                    if found.is_none_or(|(fp, _)| p < fp) {
                        found = Some((p, *kind));
                    }
                }
            }
            if found.is_some() {
                break;
            }
        }
        if let Some((p, kind)) = found {
            if p > 0 {
                out.push(Scope {
                    start: cs,
                    end: cs + p,
                    kind,
                });
            }
            continue;
        }
        if is_need && !REQUEST.iter().any(|r| clause.contains(r)) {
            if let Some((p, w)) = SELF
                .iter()
                .filter_map(|w| clause.find(w).map(|p| (p, w)))
                .min()
            {
                out.push(Scope {
                    start: cs + p + w.len(),
                    end: ce,
                    kind: ScopeKind::SelfDescription,
                });
            }
        }
    }
    out
}

/// The kind of scope covering byte `pos`, if any.
pub fn scope_at(scopes: &[Scope], start: usize, end: usize) -> Option<ScopeKind> {
    scopes
        .iter()
        .find(|s| start >= s.start && end <= s.end)
        .map(|s| s.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str, need: bool) -> Vec<(&str, ScopeKind)> {
        scopes(text, need)
            .iter()
            .map(|s| (&text[s.start..s.end], s.kind))
            .collect()
    }

    #[test]
    fn need_exclusions() {
        let t = "アルミ筐体の切削をお願いします。塗装は対象外です。";
        assert_eq!(spans(t, true), [("塗装は", ScopeKind::Excluded)]);
        let t = "溶接以外の工程を任せたい";
        assert_eq!(spans(t, true), [("溶接", ScopeKind::Excluded)]);
        let t = "切削以外にも研削ができる会社";
        assert!(spans(t, true).is_empty());
        let t = "量産は不要です、試作1個から";
        assert_eq!(spans(t, true), [("量産は", ScopeKind::Excluded)]);
    }

    #[test]
    fn self_description_is_not_the_request() {
        let t = "弊社は金属プレス加工業を営んでおりますが、樹脂成形ができる会社を探しています。";
        let s = spans(t, true);
        assert_eq!(s.len(), 1);
        assert!(s[0].0.contains("金属プレス加工業"));
        assert_eq!(s[0].1, ScopeKind::SelfDescription);
    }

    #[test]
    fn profile_refusals_and_outsourcing() {
        let t = "NC旋盤による切削加工を得意とし、熱処理・めっきは協力会社に外注しています。鋳造には対応しておりません。";
        assert_eq!(
            spans(t, false),
            [
                ("熱処理・めっきは", ScopeKind::Outsourced),
                ("鋳造には", ScopeKind::Refused)
            ]
        );
        // a list's 、 does not end the clause
        let t = "旋盤、フライス、研削は外注";
        assert_eq!(
            spans(t, false),
            [("旋盤、フライス、研削は", ScopeKind::Outsourced)]
        );
    }
}
