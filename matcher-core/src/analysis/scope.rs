//! Clause scopes: which parts of a text are *not* a statement of what is
//! wanted or offered, or are only a wish.
//!
//! People write what is out of scope in the same breath as what is in it:
//! a need says 塗装は対象外です or 溶接以外の工程, a profile says
//! 熱処理は協力会社に外注 or 鋳造には対応しておりません, and a need's owner
//! describes itself (弊社は金属加工業を営んでおりますが、…, 計測器メーカー
//! からの相談です), says what it does itself (アルマイトはこちらで手配します)
//! or what would merely be nice (経験があれば尚可). Terms inside those
//! clauses must not attract candidates, or only a little. This module finds
//! the spans; the query builder, the profile tokenizer and concept
//! extraction decide what each kind costs.
//!
//! A sentence ends at 。！？ or a line break; a clause also at a 、 that
//! follows a hiragana (し、 て、 が、: a predicate ends there), but not at
//! the 、 of a list (旋盤、マシニングセンタ、). Most markers follow their
//! object in Japanese, so the scope is the clause text before the marker;
//! できれば and a self-description's topic (弊社は…, 当社（大田区）では…)
//! precede it, so the scope is the text after. A self-description runs to
//! the end of its sentence unless a later clause asks for something
//! (…を営んでおりますが、樹脂成形ができる会社を探しています); a sentence that
//! only frames the asker (…メーカーから。) or ends in the owner's trade
//! (…を手がける会社です) and asks nothing is a self-description whole.

/// Why a span does not count as an offer or a request, or counts less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// A need rules it out (対象外, 不要, 以外, 除く, は求めていません).
    Excluded,
    /// A profile says the company does not do it (対応しておりません, 不可).
    Refused,
    /// A profile sends it out (外注, 委託, 協力会社).
    Outsourced,
    /// A need's owner describing itself (弊社は…を営んでおります,
    /// 当社（大田区）では…, …を手がける会社です, 計測器メーカーからの相談です).
    SelfDescription,
    /// A need's owner does it itself or supplies it (塗装は当社で行います,
    /// アルマイトはこちらで手配します, 木型は支給します): not wanted.
    InHouse,
    /// How a need's owner makes the part today, the method it wants to
    /// replace (いま溶接で作っている部品を…, 板金からの置き換え): not wanted.
    Replaced,
    /// A need would like it but does not require it (できれば, 尚可,
    /// 望ましい, 歓迎, あればなお良い).
    Optional,
}

impl ScopeKind {
    /// Whether a term in a clause of this kind still states an offer or a
    /// request (at some weight): outsourced work is still work a company
    /// can take on, a nice-to-have is still asked for.
    pub fn counts(self) -> bool {
        matches!(self, ScopeKind::Outsourced | ScopeKind::Optional)
    }
}

/// A byte span of the original text and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Byte offset of the clause's start in the original text.
    pub start: usize,
    /// Byte offset just past the clause.
    pub end: usize,
    /// Why the clause is not a plain offer or request.
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
    "求めていません",
    "求めておりません",
    "求めません",
    "問いません",
    "問わない",
    "問わず",
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
/// Who the owner of a need calls itself. A self-description opens where
/// one of these is the topic: followed by は, では, も or としては,
/// optionally after a parenthesis (当社（大田区）では).
const SELF_SUBJECTS: &[&str] = &[
    "弊社",
    "当社",
    "私ども",
    "私共",
    "わたくしども",
    "私たち",
    "私達",
    "わたしたち",
    "我々",
    "当組合",
    "弊組合",
    "当法人",
    "弊法人",
    "当店",
    "当工房",
    "当事務所",
    "弊所",
    "当協会",
    "当グループ",
    "弊グループ",
    "わが社",
    "我が社",
    "小社",
];
/// Topic particles after a [`SELF_SUBJECTS`] word, longest first.
const SELF_PARTICLES: &[&str] = &["としては", "としても", "では", "は", "も"];
/// The owner's main line, named as a topic (当社の主力は…).
const SELF_TOPICS: &[&str] = &[
    "の主力",
    "の主な事業",
    "の主要製品",
    "の事業内容",
    "の得意",
    "の強み",
];
/// How a sentence that describes the owner without naming it ends
/// (大田区で精密板金を営んでおります, …を手がける会社です, 創業50年の
/// 金型メーカーです), when it asks for nothing.
const SELF_PREDICATES: &[&str] = &[
    "営んでおります",
    "営んでいます",
    "営んでまいりました",
    "営んで参りました",
    "営む会社です",
    "営む企業です",
    "手がけております",
    "手掛けております",
    "手がけています",
    "手掛けています",
    "手がける会社です",
    "手掛ける会社です",
    "手がける企業です",
    "手掛ける企業です",
    "製造している会社です",
    "製造している企業です",
    "製造しております",
    "製造販売しております",
    "メーカーです",
    "の会社です",
    "の企業です",
    "の工場です",
    "でございます",
];
/// A third party's framing of who asks (計測器メーカーからの相談です,
/// 区内の研削加工会社から。, 食品機械メーカーより。): the sentence
/// describes the owner. Matched at the end of a sentence.
const FRAME_ENDS: &[&str] = &[
    "から",
    "より",
    "からの相談",
    "からの相談です",
    "からのご相談",
    "からのご相談です",
    "からの紹介",
    "からの紹介です",
    "からの紹介案件",
    "からの紹介案件です",
    "からのご紹介",
    "からのご紹介です",
    "からの問い合わせ",
    "からの問い合わせです",
    "からのお問い合わせ",
    "からのお問い合わせです",
    "からの問合せ",
    "からの問合せです",
    "からの依頼",
    "からの依頼です",
    "からのご依頼",
    "からのご依頼です",
    "からの案件",
    "からの案件です",
    "からの相談案件",
    "からの相談案件です",
    "からのご相談案件です",
    "からの依頼案件です",
    "経由の相談",
    "経由の相談です",
    "経由のご相談",
    "経由のご相談です",
    "経由の案件です",
    "経由のご依頼です",
];
/// Work the owner does itself or supplies: the clause text before the
/// marker is not wanted (塗装は当社で行います, 材料は支給します).
const IN_HOUSE: &[&str] = &[
    "当社で行",
    "弊社で行",
    "自社で行",
    "社内で行",
    "こちらで行",
    "当方で行",
    "当社にて行",
    "弊社にて行",
    "自社にて行",
    "当社で手配",
    "弊社で手配",
    "自社で手配",
    "こちらで手配",
    "当方で手配",
    "お客様側で手配",
    "先方で手配",
    "当社で担当",
    "弊社で担当",
    "自社で担当",
    "当社で用意",
    "弊社で用意",
    "こちらで用意",
    "当社で対応",
    "弊社で対応",
    "自社で対応",
    "社内で対応",
    "当社で実施",
    "弊社で実施",
    "自社で実施",
    "当社でやり",
    "自社でやり",
    "支給",
    // a step already done elsewhere (熱処理は既存の協力先で済ませています):
    // the stative and polite forms only, since で済ませたい asks for it
    "で済ませてい",
    "で済ませており",
    "で済ませます",
    "手配済",
    // steps done before the part arrives (当社で切断・曲げまで済ませた部品の溶接)
    "まで済ませた",
    "まで済ませて",
];
/// How a part is made today, after the method (いま溶接で作っている):
/// a clause with one of these and a [`CURRENT_TIME`] word before it names
/// the method a need wants to replace. Without the time word the method
/// may be a requirement (アルミで作っている部品の塗装: アルミ is wanted).
const CURRENT_METHOD: &[&str] = &[
    // stems: で作ってい covers で作っている/で作っています
    "で作ってい",
    "で作られてい",
    "で製作してい",
    "で製造してい",
    "で加工してい",
    "で対応してい",
    "で成形してい",
    "で行ってい",
    "で外注してい",
    "で調達してい",
];
/// Words that put a method in the present (いま, 現在, 従来).
const CURRENT_TIME: &[&str] = &[
    "いま",
    "今は",
    "今、",
    "現在",
    "現状",
    "従来",
    "これまで",
    "今まで",
    "現行",
];
/// A replacement, after the method replaced (溶接品の置き換え, 板金からの切り替え).
const REPLACED_BY: &[&str] = &[
    "からの置き換え",
    "からの置換",
    "からの切り替え",
    "からの切替",
    "から置き換え",
    "から切り替え",
    "の置き換え",
    "の代替",
    "に代わる",
    "に替わる",
];
/// A nice-to-have that follows what it qualifies: the clause text before
/// the marker (経験があれば尚可, 測れる方法が望ましい).
const OPTIONAL_AFTER: &[&str] = &[
    "尚可",
    "なお可",
    "尚良",
    "なお良",
    "なおよ",
    "尚よ",
    "更に良",
    "さらに良",
    "望ましい",
    "望ましく",
    "歓迎",
    "あれば良い",
    "あればよい",
    "あると良い",
    "あるとよい",
    "あると助かる",
    "あれば助かる",
    "優遇",
    "加点",
];
/// A nice-to-have that precedes what it qualifies: the rest of the
/// clause (できれば箱の製作まで, 可能であれば塗装も).
const OPTIONAL_BEFORE: &[&str] = &[
    "できれば",
    "出来れば",
    "可能であれば",
    "可能なら",
    "可能でしたら",
    "できましたら",
    "出来ましたら",
    "余裕があれば",
    "あわよくば",
];
/// A clause containing one of these is a request, not a self-description.
const REQUEST: &[&str] = &[
    "探して",
    "探し",
    "募集",
    "求め",
    "求む",
    "依頼",
    "お願い",
    "希望",
    "欲しい",
    "ほしい",
    "頂け",
    "いただけ",
    "いただき",
    "頂き",
    "くれる",
    "くださ",
    "下さ",
    "たい",
    "たく",
    "必要",
    "必須",
    "条件",
    "相談",
    "任せ",
    "できる会社",
    "可能な会社",
    "できる企業",
    "可能な企業",
    "できる先",
    "協力先",
    "委託先",
    "外注先",
    "加工先",
    "パートナー",
    "相手",
];

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

fn is_hard_break(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '\n' | '．')
}

/// Sentence byte ranges of `text`: ended by 。！？ or a line break.
pub(crate) fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_hard_break(c) {
            if i > start {
                out.push((start, i));
            }
            start = i + c.len_utf8();
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Clause byte ranges of `text`.
fn clauses(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let hard = is_hard_break(c);
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
        (
            &NEED,
            &[
                EXCLUDED,
                SELF_SUBJECTS,
                SELF_PREDICATES,
                IN_HOUSE,
                CURRENT_METHOD,
                REPLACED_BY,
                OPTIONAL_AFTER,
                OPTIONAL_BEFORE,
                &["から", "より", "経由"],
            ],
        )
    } else {
        (&PROFILE, &[REFUSED, OUTSOURCED])
    };
    cell.get_or_init(|| {
        let words: Vec<&str> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        aho_corasick::AhoCorasick::new(&words).ok()
    })
    .as_ref()
}

/// The first occurrence in `clause` of any of `words` that `keep` accepts
/// (given the text after it): (position, word).
fn first_of<'w>(
    clause: &str,
    words: &[&'w str],
    keep: impl Fn(&str, &str) -> bool,
) -> Option<(usize, &'w str)> {
    let mut found: Option<(usize, &str)> = None;
    for w in words {
        let mut from = 0;
        while let Some(p) = clause[from..].find(w).map(|p| p + from) {
            if keep(w, &clause[p + w.len()..]) {
                if found.is_none_or(|(fp, fw)| p < fp || (p == fp && w.len() > fw.len())) {
                    found = Some((p, w));
                }
                break;
            }
            from = p + w.len();
        }
    }
    found
}

/// Where a self-description opens in `clause`: the byte just after its
/// topic (当社は, 当社（大田区）では, 私どもは, 当社の主力は), if any.
fn self_topic(clause: &str) -> Option<usize> {
    let mut best: Option<usize> = None;
    for subject in SELF_SUBJECTS {
        let mut from = 0;
        while let Some(p) = clause[from..].find(subject).map(|p| p + from) {
            from = p + subject.len();
            let mut rest = &clause[from..];
            // 当社（大田区）では: skip a parenthesis after the subject
            if let Some(r) = rest.strip_prefix('（').or_else(|| rest.strip_prefix('(')) {
                match r.find(['）', ')']) {
                    Some(close) => {
                        let close_len = r[close..].chars().next().map_or(1, char::len_utf8);
                        rest = &r[close + close_len..];
                    }
                    None => continue,
                }
            }
            let after = clause.len() - rest.len();
            let open = SELF_PARTICLES
                .iter()
                .find(|pt| rest.starts_with(*pt))
                .map(|pt| after + pt.len())
                .or_else(|| {
                    // 当社の主力は…
                    SELF_TOPICS.iter().find_map(|t| {
                        let r = rest.strip_prefix(t)?;
                        let topic_end = r.find('は')?;
                        // the topic noun is short (主力製品は, 得意分野は)
                        (r[..topic_end].chars().count() <= 4)
                            .then(|| after + t.len() + topic_end + 'は'.len_utf8())
                    })
                });
            if let Some(o) = open {
                if best.is_none_or(|b| o < b) {
                    best = Some(o);
                }
                break;
            }
        }
    }
    best
}

/// What a framing's から follows: an organisation or a person
/// (…メーカーから, …の開発者から, …の研究室から), not a quantity
/// (小ロットから, 1個から).
const FRAME_ASKERS: &[&str] = &[
    "メーカー",
    "会社",
    "企業",
    "工場",
    "商社",
    "問屋",
    "者",
    "研究室",
    "研究所",
    "大学",
    "機関",
    "組合",
    "協会",
    "団体",
    "法人",
    "事業所",
    "ベンチャー",
    "スタートアップ",
    "工房",
    "病院",
    "学校",
    "自治体",
    "役所",
    "店",
    "社",
    "様",
    "さん",
    "氏",
];

/// Whether a sentence is a third party's framing of who asks
/// (…メーカーからの相談です, …会社（従業員12名）から) and the asker's
/// description asks for nothing itself (…を縮めたい成形メーカーから).
fn is_frame(sentence: &str) -> bool {
    let s = sentence.trim_end_matches(|c: char| c.is_whitespace() || c == '」');
    let Some(e) = FRAME_ENDS
        .iter()
        .filter(|e| s.ends_with(*e))
        .max_by_key(|e| e.len())
    else {
        return false;
    };
    let mut asker = s[..s.len() - e.len()].trim_end();
    // 産業機械メーカー（社員80名）から: the asker is before the parenthesis
    if let Some(inner) = asker.strip_suffix('）').or_else(|| asker.strip_suffix(')')) {
        if let Some(open) = inner.rfind(['（', '(']) {
            asker = inner[..open].trim_end();
        }
    }
    // …経由のご相談です names the route a case came by (商工会議所, 金融機関),
    // whatever it is called.
    (e.starts_with("経由") || FRAME_ASKERS.iter().any(|a| asker.ends_with(a)))
        && !has_request(asker)
}

/// Whether a sentence describes the owner by its predicate
/// (…を営んでおります, …を手がける会社です).
fn is_self_predicate(sentence: &str) -> bool {
    let s = sentence.trim_end_matches(|c: char| c.is_whitespace());
    SELF_PREDICATES.iter().any(|e| s.ends_with(e))
}

fn has_request(text: &str) -> bool {
    REQUEST.iter().any(|r| text.contains(r))
}

/// Find the out-of-scope spans of `text`. `is_need` selects the markers:
/// needs have exclusions, self-descriptions, work done in-house and
/// nice-to-haves; profiles refusals and outsourcing. A need's
/// self-description covers its topic's clause (see [`need_scopes`]).
pub fn scopes(text: &str, is_need: bool) -> Vec<Scope> {
    scopes_with(text, is_need, false)
}

/// A need's scopes; with `to_sentence_end`, a self-description opened by
/// its topic (当社は…で、) also covers the sentence's later clauses up to
/// the first that asks for something (当社は…のベンチャーで、…を開発して
/// います。). Off by default: on the judged fixtures it drops a need
/// whose owner's own field is what the partner must know (see
/// `NeedScoping::self_to_sentence_end`).
pub fn need_scopes(text: &str, to_sentence_end: bool) -> Vec<Scope> {
    scopes_with(text, true, to_sentence_end)
}

fn scopes_with(text: &str, is_need: bool, to_sentence_end: bool) -> Vec<Scope> {
    let mut out = Vec::new();
    if markers(is_need).is_some_and(|m| !m.is_match(text)) {
        return out;
    }
    if !is_need {
        for (cs, ce) in clauses(text) {
            profile_clause(text, cs, ce, &mut out);
        }
        return out;
    }
    for (ss, se) in sentences(text) {
        let sentence = &text[ss..se];
        // A sentence that only frames or describes the asker, asking for nothing.
        if is_frame(sentence) || (!has_request(sentence) && is_self_predicate(sentence)) {
            out.push(Scope {
                start: ss,
                end: se,
                kind: ScopeKind::SelfDescription,
            });
            continue;
        }
        // A self-description runs from its topic (弊社は) clause by clause
        // to the end of the sentence, or to the first clause that asks
        // for something (…を営んでおりますが、樹脂成形ができる会社を探しています).
        let mut describing = false;
        for (cs, ce) in clauses(sentence) {
            let (cs, ce) = (ss + cs, ss + ce);
            let clause = &text[cs..ce];
            let request = has_request(clause);
            if request || !to_sentence_end {
                describing = false;
            }
            if need_clause(text, cs, ce, &mut out) {
                continue;
            }
            if describing {
                out.push(Scope {
                    start: cs,
                    end: ce,
                    kind: ScopeKind::SelfDescription,
                });
                continue;
            }
            if request {
                continue;
            }
            if let Some(open) = self_topic(clause) {
                if cs + open < ce {
                    out.push(Scope {
                        start: cs + open,
                        end: ce,
                        kind: ScopeKind::SelfDescription,
                    });
                }
                describing = true;
            }
        }
    }
    out
}

/// The exclusion, in-house and nice-to-have markers of one need clause
/// (`text[cs..ce]`); true if the clause had one.
fn need_clause(text: &str, cs: usize, ce: usize, out: &mut Vec<Scope>) -> bool {
    let clause = &text[cs..ce];
    // 以外にも / 以外も mean "besides", not "except"; 問いません after
    // a manner (作り方は問わない) says any way will do, which is also
    // "not a requirement".
    let excluded = first_of(clause, EXCLUDED, |w, rest| {
        !(w == "以外" && (rest.starts_with('に') || rest.starts_with('も')))
    });
    // …まで済ませたい / 済ませてほしい ask for those steps; …まで済ませた部品
    // and 済ませています say they are done.
    let in_house = first_of(clause, IN_HOUSE, |w, rest| match w {
        "まで済ませた" => !rest.starts_with('い'),
        "まで済ませて" => !["ほし", "もら", "くだ", "いただ"]
            .iter()
            .any(|x| rest.starts_with(x)),
        _ => true,
    });
    let replaced = first_of(clause, CURRENT_METHOD, |_, _| true)
        .filter(|&(p, _)| CURRENT_TIME.iter().any(|t| clause[..p].contains(t)))
        .or_else(|| first_of(clause, REPLACED_BY, |_, _| true));
    let before = [
        excluded.map(|(p, _)| (p, ScopeKind::Excluded)),
        in_house.map(|(p, _)| (p, ScopeKind::InHouse)),
        replaced.map(|(p, _)| (p, ScopeKind::Replaced)),
        first_of(clause, OPTIONAL_AFTER, |_, _| true).map(|(p, _)| (p, ScopeKind::Optional)),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|(p, _)| *p);
    if let Some((p, kind)) = before {
        if p > 0 {
            out.push(Scope {
                start: cs,
                end: cs + p,
                kind,
            });
        }
        return true;
    }
    if let Some((p, w)) = first_of(clause, OPTIONAL_BEFORE, |_, _| true) {
        let from = p + w.len();
        if from < clause.len() {
            out.push(Scope {
                start: cs + from,
                end: ce,
                kind: ScopeKind::Optional,
            });
        }
        return true;
    }
    false
}

/// The refusal and outsourcing markers of one profile clause.
fn profile_clause(text: &str, cs: usize, ce: usize, out: &mut Vec<Scope>) {
    let clause = &text[cs..ce];
    let found = first_of(clause, REFUSED, |_, _| true)
        .map(|(p, _)| (p, ScopeKind::Refused))
        .or_else(|| {
            first_of(clause, OUTSOURCED, |_, _| true).map(|(p, _)| (p, ScopeKind::Outsourced))
        });
    if let Some((p, kind)) = found {
        if p > 0 {
            out.push(Scope {
                start: cs,
                end: cs + p,
                kind,
            });
        }
    }
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

    use ScopeKind::{Excluded, InHouse, Optional, Replaced, SelfDescription};

    #[test]
    fn every_form_of_self_description() {
        // a topic with a parenthesis
        let t = "当社（大田区）では精密板金とレーザー加工が中心です。";
        assert_eq!(
            spans(t, true),
            [("精密板金とレーザー加工が中心です", SelfDescription)]
        );
        // other subjects
        let t = "私どもは創業60年、プレス金型が専門です。";
        assert_eq!(
            spans(t, true),
            [("創業60年、プレス金型が専門です", SelfDescription)]
        );
        let t = "当組合では組合員20社が鋳造品を共同受注しています。";
        assert_eq!(
            spans(t, true),
            [("組合員20社が鋳造品を共同受注しています", SelfDescription)]
        );
        let t = "私たちは墨田区で革小物を縫製している工房です。";
        assert_eq!(
            spans(t, true),
            [("墨田区で革小物を縫製している工房です", SelfDescription)]
        );
        // the owner's main line as a topic
        let t = "当社の主力製品はアルミダイカスト部品です。";
        assert_eq!(
            spans(t, true),
            [("アルミダイカスト部品です", SelfDescription)]
        );
        // no subject: the predicate says it, the whole sentence
        let t = "大田区で精密板金を手がける会社です。樹脂成形の協力先を探しています。";
        assert_eq!(
            spans(t, true),
            [("大田区で精密板金を手がける会社です", SelfDescription)]
        );
        let t = "創業50年の金型メーカーです。";
        assert_eq!(
            spans(t, true),
            [("創業50年の金型メーカーです", SelfDescription)]
        );
        let t = "墨田区で金属プレス加工を営んでおります。";
        assert_eq!(
            spans(t, true),
            [("墨田区で金属プレス加工を営んでおります", SelfDescription)]
        );
        // a third party's framing of who asks
        let t = "計測器メーカーからの相談です。SUS304の箱型ケースを作れる会社を探しています。";
        assert_eq!(
            spans(t, true),
            [("計測器メーカーからの相談です", SelfDescription)]
        );
        let t = "区内の研削加工会社（従業員12名）から。ホームページを作り直したい。";
        assert_eq!(
            spans(t, true),
            [("区内の研削加工会社（従業員12名）から", SelfDescription)]
        );
        let t = "食品機械メーカーより。";
        assert_eq!(spans(t, true), [("食品機械メーカーより", SelfDescription)]);
        // a case named, or its route
        let t = "食品メーカーからの相談案件です。";
        assert_eq!(
            spans(t, true),
            [("食品メーカーからの相談案件です", SelfDescription)]
        );
        let t = "商工会議所経由のご相談です。";
        assert_eq!(
            spans(t, true),
            [("商工会議所経由のご相談です", SelfDescription)]
        );
    }

    #[test]
    fn a_request_in_the_same_sentence_is_not_self_description() {
        assert!(spans("当社では樹脂成形ができる会社を探しています。", true).is_empty());
        assert!(spans("弊社の製品の塗装加工をお願いしたい。", true).is_empty());
        assert!(spans("当社は、アルミの切削加工先を探しています。", true).is_empty());
        // the description stops at the clause that asks
        let t = "当社は大田区で板金を営んでおり、樹脂成形ができる会社を探しています。";
        assert_eq!(
            spans(t, true),
            [("大田区で板金を営んでおり", SelfDescription)]
        );
        // a quantity is not an asker: 小ロットから is not a framing
        assert!(spans("まずは数型、各30〜50個の小ロットから。", true).is_empty());
        // a wish about the asker's own trade is a request
        assert!(spans("射出成形の冷却時間を縮めたい成形メーカーから。", true).is_empty());
        // profiles have no self-description
        assert!(spans("当社は精密板金を営んでおります。", false).is_empty());
    }

    #[test]
    fn self_description_to_the_sentence_end_is_a_choice() {
        let t = "当社は農工大発のベンチャーで、バイオセンサを開発しています。流路チップの成形先を探しています。";
        let clause = |to_end| -> Vec<&str> {
            need_scopes(t, to_end)
                .iter()
                .map(|s| &t[s.start..s.end])
                .collect()
        };
        assert_eq!(clause(false), ["農工大発のベンチャーで"]);
        assert_eq!(
            clause(true),
            ["農工大発のベンチャーで", "バイオセンサを開発しています"]
        );
        // it still stops at a clause that asks
        let t = "当社は板金を営んでおり、樹脂成形ができる会社を探しています。";
        assert_eq!(need_scopes(t, true).len(), 1);
    }

    #[test]
    fn work_done_or_supplied_in_house_is_not_wanted() {
        let t = "製缶・溶接は自社で行いますので、機械加工のみのご依頼です。";
        assert_eq!(spans(t, true), [("製缶・溶接は", InHouse)]);
        let t = "アルマイトはこちらで手配します。";
        assert_eq!(spans(t, true), [("アルマイトは", InHouse)]);
        let t = "滅菌は別途当社で手配します。";
        assert_eq!(spans(t, true), [("滅菌は別途", InHouse)]);
        let t = "木型は今あるものを支給できる。";
        assert_eq!(spans(t, true), [("木型は今あるものを", InHouse)]);
        // a step an existing partner already does is not asked for
        let t = "なお、熱処理は既存の協力先で済ませています。";
        assert_eq!(spans(t, true), [("熱処理は既存の協力先", InHouse)]);
        let t = "新製品の立ち上げにあたり、S45Cの歯車の歯面を硬くしてくれるパートナー企業はありませんか。なお、ガス軟窒化は既存の協力先で済ませています。";
        assert_eq!(spans(t, true), [("ガス軟窒化は既存の協力先", InHouse)]);
        // the steps done before the part arrives
        let t = "当社で切断・曲げまで済ませた鋼材（SPCC）部品の溶接だけをお願いしたい。";
        assert_eq!(spans(t, true), [("当社で切断・曲げ", InHouse)]);
        let t = "切断から曲げまで済ませてほしい。";
        assert!(spans(t, true).is_empty());
        let t = "切断から曲げまで済ませたいと考えています。";
        assert!(spans(t, true).is_empty());
        let t = "曲げまで済ませています。";
        assert_eq!(spans(t, true), [("曲げ", InHouse)]);
        // wanting it done in one place is still a request
        let t = "切削と研削を一社で済ませたいと考えています。";
        assert!(spans(t, true).is_empty());
        // 当社でも: the owner could, but asks for it all
        let t = "ボス部の旋削は当社でもできますが、歯切りを含めてお願いしたいです。";
        assert!(spans(t, true).is_empty());
    }

    /// The method a need replaces is not what it asks for; a material
    /// named with a method and no time word still is.
    #[test]
    fn the_method_being_replaced_is_not_wanted() {
        let t = "今期から、いま溶接で作っている重い部品を、型に流して一体物にしてくれるパートナー企業を探しています。";
        assert_eq!(spans(t, true), [("いま溶接", Replaced)]);
        let t = "現在は板金で製作しているカバーを、樹脂成形に切り替えたいと考えています。";
        assert_eq!(spans(t, true), [("現在は板金", Replaced)]);
        let t = "従来は削り出しで対応していた部品を、鍛造で作れないか検討しています。";
        assert_eq!(spans(t, true), [("従来は削り出し", Replaced)]);
        assert_eq!(spans("溶接品の置き換え", true), [("溶接品", Replaced)]);
        let t = "板金からの切り替えを検討中です。";
        assert_eq!(spans(t, true), [("板金", Replaced)]);
        // no time word: the material is part of the request
        assert!(spans("アルミで作っている部品の塗装をお願いしたい。", true).is_empty());
    }

    #[test]
    fn nice_to_haves_are_optional() {
        let t = "クリーンルームでの作業経験があればなお可。";
        assert_eq!(
            spans(t, true),
            [("クリーンルームでの作業経験があれば", Optional)]
        );
        let t = "ロボットの教示もできればなお良い。";
        assert_eq!(spans(t, true), [("ロボットの教示もできれば", Optional)]);
        let t = "内側も見たいので、外から触れない部分も測れる方法が望ましいです。";
        assert_eq!(
            spans(t, true),
            [("外から触れない部分も測れる方法が", Optional)]
        );
        let t = "英語での打合せができる方を歓迎します。";
        assert_eq!(spans(t, true), [("英語での打合せができる方を", Optional)]);
        // できれば precedes what it qualifies
        let t = "ロゴと箱のデザイン、できれば箱の製作まで相談できるところを探しています。";
        assert_eq!(
            spans(t, true),
            [("箱の製作まで相談できるところを探しています", Optional)]
        );
        let t = "可能であれば塗装まで一括で。";
        assert_eq!(spans(t, true), [("塗装まで一括で", Optional)]);
    }

    #[test]
    fn more_ways_to_say_not_wanted() {
        let t = "表面処理は求めていません。";
        assert_eq!(spans(t, true), [("表面処理は", Excluded)]);
        let t = "材質は問いません。";
        assert_eq!(spans(t, true), [("材質は", Excluded)]);
        let t = "熱処理と旋削は依頼範囲に含みません。";
        assert_eq!(spans(t, true), [("熱処理と旋削は依頼範囲に", Excluded)]);
    }
}
