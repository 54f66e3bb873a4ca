//! Japanese text analysis: the one pipeline used for indexing and for queries.
//!
//! `text → normalize → lindera (IPADIC + domain user dictionary) → content
//! words + codes + compounds`. The entry point is [`Analyzer::analyze`]; the
//! index uses the same pipeline through [`tokenizer::JapaneseTokenizer`], so a
//! term in a query is always spelled the way the index spells it.
//!
//! Rules (each proven by a test in `tests/analyzer_sentences.rs`):
//! - normalization first (see [`normalize`]);
//! - nouns, verbs and adjectives (base form) are kept; particles,
//!   auxiliaries, symbols, pronouns, suffixes and stop words are dropped;
//! - ASCII runs are read by us, not by lindera, so model numbers, alloy
//!   grades and standards stay whole (`sus304`, `a5052`, `iso9001`,
//!   `φ0.1`, `5軸`), with the letter prefix of a grade also emitted (`sus`);
//! - a run of adjacent nouns also yields the joined compound (精密部品 →
//!   精密, 部品, 精密部品) at the position of its first part;
//! - every term carries byte offsets into the *original* text.

pub mod analyzed;
pub mod bigram;
pub mod dictionary;
pub mod lexicon;
pub mod normalize;
pub mod scope;
pub mod tokenizer;

use std::borrow::Cow;
use std::path::Path;

use lindera::mode::Mode;
use lindera::segmenter::Segmenter;

pub use lexicon::{LexiconError, Synonyms};
pub use normalize::{normalize, normalize_key};

/// What a term is, for weighting and for the `analyze` tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    /// A content word from the dictionary (or an unknown katakana/kanji word).
    Word,
    /// An ASCII word, model number, grade, standard or size, kept whole.
    Code,
    /// The joined form of a run of adjacent nouns.
    Compound,
}

/// One analyzed term with byte offsets into the original text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Term {
    pub term: String,
    pub start: usize,
    pub end: usize,
    #[serde(skip)]
    pub position: u32,
    #[serde(skip)]
    pub kind: TermKind,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzerError {
    #[error(transparent)]
    Dictionary(#[from] dictionary::DictionaryError),
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
}

/// The Japanese analyzer. Cheap to share (`Arc`), `Send + Sync`.
pub struct Analyzer {
    segmenter: Segmenter,
    stopwords: std::collections::HashSet<String>,
    synonyms: Synonyms,
}

/// ASCII-prefixed codes that are commonly written with a space before the
/// number (ISO 9001, JIS Q 9100, SUS 304): joined into one term.
const SPACED_CODE_PREFIXES: &[&str] = &["iso", "jis", "jisq", "sus", "iec", "as", "en", "astm"];
/// Longest noun run joined into a compound; longer runs are lists, not words.
const MAX_COMPOUND_PARTS: usize = 4;

impl Analyzer {
    /// Load the analyzer with the domain dictionary, synonyms and stop words
    /// from `dict_dir` (normally `fixtures/dict`).
    pub fn from_dir(dict_dir: &Path) -> Result<Self, AnalyzerError> {
        let system = dictionary::load_or_build()?;
        let metadata = dictionary::ipadic_metadata()?;
        let user = lexicon::load_user_dictionary(&dict_dir.join("user_dict.csv"), metadata)?;
        let segmenter = Segmenter::new(Mode::Normal, system, Some(user));
        let stopwords = lexicon::load_word_list(&dict_dir.join("stopwords.txt"))?;
        let mut analyzer = Analyzer {
            segmenter,
            stopwords,
            synonyms: Synonyms::default(),
        };
        let synonyms = lexicon::load_synonyms(&dict_dir.join("synonyms.tsv"), &analyzer)?;
        analyzer.synonyms = synonyms;
        Ok(analyzer)
    }

    /// The synonym table (query-time expansion).
    pub fn synonyms(&self) -> &Synonyms {
        &self.synonyms
    }

    /// Replace the synonym table (query time only: no re-index needed).
    pub fn set_synonyms(&mut self, synonyms: Synonyms) {
        self.synonyms = synonyms;
    }

    /// Analyze `text` into index/query terms with offsets into `text`.
    pub fn analyze(&self, text: &str) -> Vec<Term> {
        let norm = normalize(text);
        let mut out = Vec::with_capacity(text.len() / 4);
        self.analyze_normalized(&norm, &mut out);
        out
    }

    /// Analyze, dropping the terms inside clauses that are not an offer
    /// (profile: refused work) or not a request (need: exclusions and the
    /// owner's self-description). See [`scope`].
    pub fn analyze_scoped(&self, text: &str, is_need: bool) -> Vec<Term> {
        let scopes = scope::scopes(text, is_need);
        let mut terms = self.analyze(text);
        if !scopes.is_empty() {
            terms.retain(|t| match scope::scope_at(&scopes, t.start, t.end) {
                Some(scope::ScopeKind::Outsourced) | None => true,
                Some(_) => false,
            });
        }
        terms
    }

    /// Katakana reading of `text` from the dictionary (unknown words as written).
    pub fn reading(&self, text: &str) -> String {
        let norm = normalize(text);
        let mut out = String::new();
        if let Ok(tokens) = self.segmenter.segment(Cow::Borrowed(norm.text.as_str())) {
            for mut tok in tokens {
                let surface = tok.surface.as_ref().to_owned();
                let details = tok.details();
                match details.get(7) {
                    Some(r) if *r != "*" => out.push_str(r),
                    _ => out.push_str(&surface),
                }
            }
        }
        out
    }

    /// The lindera tokens of raw text, unnormalized and unfiltered: the
    /// baseline the benchmarks compare against.
    pub fn segment_raw(&self, text: &str) -> usize {
        self.segmenter
            .segment(Cow::Borrowed(text))
            .map(|t| t.len())
            .unwrap_or(0)
    }

    fn analyze_normalized(&self, norm: &normalize::Normalized, out: &mut Vec<Term>) {
        let text = norm.text.as_str();
        let tokens = match self.segmenter.segment(Cow::Borrowed(text)) {
            Ok(t) => t,
            // lindera only fails on internal errors; an unanalyzable text yields no terms.
            Err(_) => Vec::new(),
        };
        let mut toks: Vec<(usize, usize, String, String, String, String)> =
            Vec::with_capacity(tokens.len());
        for mut tok in tokens {
            let (s, e) = (tok.byte_start, tok.byte_end);
            let surface = tok.surface.as_ref().to_owned();
            let details = tok.details();
            let detail = |i: usize| details.get(i).copied().unwrap_or("").to_owned();
            toks.push((s, e, surface, detail(0), detail(1), detail(6)));
        }
        // Domain words that start with a letter or digit (mcナイロン, 3次元測定機)
        // win over the code scanner.
        let custom: Vec<(usize, usize)> = toks
            .iter()
            .filter(|t| t.3 == "カスタム名詞")
            .map(|t| (t.0, t.1))
            .collect();
        let mut codes = scan_codes(text);
        codes.retain(|c| {
            !custom
                .iter()
                .any(|&(s, e)| s < c.end && c.start < e && (s < c.start || e > c.end))
        });
        let mut units: Vec<Unit> = Vec::with_capacity(toks.len());
        let mut ci = 0;
        let mut open = 0; // first code that may still overlap the current token
        for (s, e, surface, pos, sub, base) in toks {
            while ci < codes.len() && codes[ci].start < e {
                units.push(Unit::code(&codes[ci], text));
                ci += 1;
            }
            while open < ci && codes[open].end <= s {
                open += 1;
            }
            if codes[open..ci].iter().any(|c| s < c.end && c.start < e) {
                continue; // inside a code region: already emitted whole
            }
            let role = classify(&pos, &sub, &surface);
            let term = match role {
                Role::Word { noun } => {
                    let t = if base != "*" && !base.is_empty() && !noun {
                        base
                    } else {
                        fold_token_vowel(surface.clone())
                    };
                    (!self.stopwords.contains(&t) && !is_trivial(&t)).then_some(t)
                }
                _ => None,
            };
            let noun = matches!(role, Role::Word { noun: true });
            let glue = matches!(role, Role::Affix).then(|| surface.clone());
            let prefix = pos == "接頭詞";
            units.push(Unit {
                start: s,
                end: e,
                term,
                noun,
                glue,
                prefix,
                kind: TermKind::Word,
            });
        }
        while ci < codes.len() {
            units.push(Unit::code(&codes[ci], text));
            ci += 1;
        }
        self.emit(norm, &units, out);
    }

    fn emit(&self, norm: &normalize::Normalized, units: &[Unit], out: &mut Vec<Term>) {
        let mut run_start = 0usize;
        for (i, u) in units.iter().enumerate() {
            let pos = i as u32;
            if let Some(t) = &u.term {
                let (s, e) = norm.orig_span(u.start, u.end);
                out.push(Term {
                    term: t.clone(),
                    start: s,
                    end: e,
                    position: pos,
                    kind: u.kind,
                });
                if u.kind == TermKind::Code {
                    if let Some(prefix) = alpha_prefix(t) {
                        out.push(Term {
                            term: prefix.to_owned(),
                            start: s,
                            end: e,
                            position: pos,
                            kind: TermKind::Code,
                        });
                    }
                }
            }
            // Compound runs: adjacent kept nouns with no gap between them.
            let continues = i + 1 < units.len()
                && units[i + 1].is_compound_part()
                && u.is_compound_part()
                && units[i + 1].start == u.end;
            if !continues {
                if u.is_compound_part() {
                    self.emit_compounds(norm, &units[run_start..=i], run_start as u32, out);
                }
                run_start = i + 1;
            }
        }
    }

    fn emit_compounds(
        &self,
        norm: &normalize::Normalized,
        run: &[Unit],
        first_pos: u32,
        out: &mut Vec<Term>,
    ) {
        let n = run.len();
        if n < 2 {
            return;
        }
        let join = |a: usize, b: usize, out: &mut Vec<Term>| {
            let mut term = String::new();
            for u in &run[a..b] {
                term.push_str(u.term.as_deref().or(u.glue.as_deref()).unwrap_or(""));
            }
            let (s, e) = norm.orig_span(run[a].start, run[b - 1].end);
            out.push(Term {
                term,
                start: s,
                end: e,
                position: first_pos + a as u32,
                kind: TermKind::Compound,
            });
        };
        if n <= MAX_COMPOUND_PARTS {
            join(0, n, out);
        }
        if n >= 3 {
            for a in 0..n - 1 {
                // A pair may not start with a suffix (用ロボット) or end with a prefix.
                let starts_with_suffix = run[a].glue.is_some() && !run[a].prefix;
                let ends_with_prefix = run[a + 1].glue.is_some() && run[a + 1].prefix;
                if !starts_with_suffix && !ends_with_prefix {
                    join(a, a + 2, out);
                }
            }
        }
    }
}

struct Unit {
    start: usize,
    end: usize,
    term: Option<String>,
    noun: bool,
    /// A suffix or prefix (化, 用, 機, 高): never a term alone, but part of compounds (自動化).
    glue: Option<String>,
    prefix: bool,
    kind: TermKind,
}

impl Unit {
    fn code(c: &CodeSpan, text: &str) -> Unit {
        let raw: String = text[c.start..c.end].chars().filter(|c| *c != ' ').collect();
        let digits_only = raw
            .chars()
            .all(|ch| ch.is_ascii_digit() || ch == '.' || ch == ',');
        Unit {
            start: c.start,
            end: c.end,
            term: (!digits_only && !raw.is_empty()).then_some(raw),
            noun: true,
            glue: None,
            prefix: false,
            kind: TermKind::Code,
        }
    }
    fn is_compound_part(&self) -> bool {
        (self.term.is_some() && self.noun) || self.glue.is_some()
    }
}

/// What a token is to the analyzer.
enum Role {
    Word {
        noun: bool,
    },
    /// Suffix or prefix: glue inside compounds only.
    Affix,
    Drop,
}

/// The role of a token by its IPADIC part of speech.
fn classify(pos: &str, sub: &str, surface: &str) -> Role {
    let has_alnum = surface.chars().any(char::is_alphanumeric);
    match pos {
        _ if !has_alnum => Role::Drop, // symbols IPADIC reads as nouns: )★ ://
        "名詞" if sub == "接尾" => Role::Affix,
        "名詞" if matches!(sub, "非自立" | "代名詞" | "数" | "副詞可能" | "特殊") => {
            Role::Drop
        }
        "名詞" | "カスタム名詞" | "UNK" => Role::Word { noun: true },
        "接頭詞" if sub == "名詞接続" => Role::Affix,
        "動詞" | "形容詞" if sub == "自立" => Role::Word { noun: false },
        _ => Role::Drop,
    }
}

/// A katakana word ending in ー (ユーザー of ユーザーインターフェース) is
/// folded like a whole text's final ー.
fn fold_token_vowel(t: String) -> String {
    if t.ends_with('ー') && t.chars().count() >= 3 {
        normalize(&t).text
    } else {
        t
    }
}

/// A single hiragana or a lone symbol carries no meaning on its own.
fn is_trivial(t: &str) -> bool {
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (None, _) => true,
        (Some(c), None) => matches!(c, '\u{3041}'..='\u{309F}') || !c.is_alphanumeric(),
        _ => false,
    }
}

/// Letter prefix of a letters+digits code (sus304 → sus), when it is ≥ 2 letters.
fn alpha_prefix(code: &str) -> Option<&str> {
    let n = code.bytes().take_while(|b| b.is_ascii_lowercase()).count();
    (n >= 2 && n < code.len() && code.as_bytes()[n].is_ascii_digit()).then(|| &code[..n])
}

struct CodeSpan {
    start: usize,
    end: usize,
}

/// Find ASCII words, numbers and codes in normalized text: `[a-z0-9]` runs
/// with inner `.`, `-`, `/`; a leading `φ`; a trailing `軸` after digits
/// (5軸); and `iso 9001`-style spaced standards.
fn scan_codes(text: &str) -> Vec<CodeSpan> {
    let b = text.as_bytes();
    let mut spans: Vec<CodeSpan> = Vec::new();
    let mut i = 0;
    let is_an = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    while i < b.len() {
        let phi = text[i..].starts_with('φ');
        let start = i;
        let mut j = if phi { i + 'φ'.len_utf8() } else { i };
        if j >= b.len() || !is_an(b[j]) {
            // advance one whole character (i is always on a char boundary)
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        loop {
            while j < b.len() && is_an(b[j]) {
                j += 1;
            }
            // inner punctuation between alphanumerics (0.1, a5052-t6, 1/100)
            if j + 1 < b.len() && matches!(b[j], b'.' | b'-' | b'/') && is_an(b[j + 1]) {
                j += 1;
                continue;
            }
            // spaced standards: "iso 9001", "jis q 9100"
            let word = &text[start..j];
            if j + 1 < b.len()
                && b[j] == b' '
                && b[j + 1].is_ascii_alphanumeric()
                && SPACED_CODE_PREFIXES.contains(&word.replace(' ', "").as_str())
            {
                j += 1;
                continue;
            }
            break;
        }
        if text[j..].starts_with('軸') {
            // "5軸" is one term; in "mc5軸" the axis count is its own term.
            let digits = text[start..j]
                .bytes()
                .rev()
                .take_while(u8::is_ascii_digit)
                .count();
            let split = j - digits;
            if digits > 0 && split > start {
                spans.push(CodeSpan { start, end: split });
            }
            if digits > 0 {
                spans.push(CodeSpan {
                    start: split,
                    end: j + '軸'.len_utf8(),
                });
                i = j + '軸'.len_utf8();
                continue;
            }
        }
        spans.push(CodeSpan { start, end: j });
        i = j;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_scanner_keeps_codes_whole() {
        let t = "sus304とa5052、iso 9001とφ0.1、5軸、jis q 9100、mc5軸";
        let spans: Vec<&str> = scan_codes(t).iter().map(|s| &t[s.start..s.end]).collect();
        assert_eq!(
            spans,
            [
                "sus304",
                "a5052",
                "iso 9001",
                "φ0.1",
                "5軸",
                "jis q 9100",
                "mc",
                "5軸"
            ]
        );
    }

    #[test]
    fn alpha_prefix_only_for_grades() {
        assert_eq!(alpha_prefix("sus304"), Some("sus"));
        assert_eq!(alpha_prefix("a5052"), None);
        assert_eq!(alpha_prefix("cad"), None);
    }
}
