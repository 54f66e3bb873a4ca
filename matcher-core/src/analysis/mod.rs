//! Japanese text analysis: the one pipeline used for indexing and for queries.
//!
//! `text → normalize → lindera (IPADIC + domain user dictionary) → content
//! words + codes + compounds`. The entry point is [`Analyzer::analyze`]; the
//! index uses the same pipeline through [`tokenizer::JapaneseTokenizer`], so a
//! term in a query is always spelled the way the index spells it.
//!
//! Rules (each proven by a test in `tests/analyzer_sentences.rs`):
//! - normalization first (see [`mod@normalize`]);
//! - nouns, verbs and adjectives (base form) are kept; particles,
//!   auxiliaries, symbols, pronouns, suffixes and stop words are dropped;
//! - ASCII runs are read by us, not by lindera, so model numbers, alloy
//!   grades and standards stay whole (`sus304`, `a5052`, `iso9001`,
//!   `φ0.1`, `5軸`), with the letter prefix of a grade also emitted (`sus`);
//! - a run of adjacent nouns also yields the joined compound (精密部品 →
//!   精密, 部品, 精密部品) at the position of its first part;
//! - every term carries byte offsets into the *original* text;
//! - terms come in position order (tantivy requires a term's positions in a
//!   value never to go backwards), however long the text
//!   (`tests/analyzer_long_text.rs`).

pub mod analyzed;
pub mod bigram;
mod chunks;
pub mod dictionary;
pub mod lexicon;
pub mod normalize;
pub mod phrases;
pub mod scope;
pub mod tokenizer;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use parking_lot::RwLock;

use lindera::mode::Mode;
use lindera::segmenter::Segmenter;
use lindera::token::Token;
use lindera_dictionary::dictionary::DetailFields;

use crate::data_file::{DataSource, DataText};

pub use lexicon::{LexiconError, Synonyms};
pub use normalize::{inner_key, loose_key, normalize, normalize_key, normalize_loose};

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
    /// The term as the index stores it: normalized, base form for verbs and adjectives.
    pub term: String,
    /// Byte offset of its first character in the original text.
    pub start: usize,
    /// Byte offset just past it in the original text (highlights cut here).
    pub end: usize,
    /// Token position for phrase queries; a compound shares its first part's.
    #[serde(skip)]
    pub position: u32,
    /// What the term is, for weighting and for the `analyze` tool.
    #[serde(skip)]
    pub kind: TermKind,
}

/// Why an [`Analyzer`] could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzerError {
    /// The IPADIC system dictionary (see [`dictionary`]).
    #[error(transparent)]
    Dictionary(#[from] dictionary::DictionaryError),
    /// A word list: user dictionary, stop words or synonyms, with its file and line.
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
}

/// The Japanese analyzer. Cheap to share (`Arc`), `Send + Sync`.
pub struct Analyzer {
    segmenter: Segmenter,
    stopwords: std::collections::HashSet<String>,
    synonyms: Synonyms,
    /// The class of every dictionary word met so far. Reading an entry from
    /// the (memory-mapped) dictionary costs more than the rest of a token's
    /// analysis, and texts share their vocabulary. Bounded by the
    /// dictionary's size; a word's class never changes, so sharing it
    /// between threads cannot change any output.
    word_classes: RwLock<HashMap<WordKey, WordClass, BuildHasherDefault<WordKeyHasher>>>,
}

/// ASCII-prefixed codes that are commonly written with a space before the
/// number (ISO 9001, JIS Q 9100, SUS 304): joined into one term.
const SPACED_CODE_PREFIXES: &[&str] = &["iso", "jis", "jisq", "sus", "iec", "as", "en", "astm"];
/// Longest noun run joined into a compound; longer runs are lists, not words.
const MAX_COMPOUND_PARTS: usize = 4;

impl Analyzer {
    /// Load the analyzer with the domain dictionary, synonyms and stop words
    /// from `dict_dir` (a folder like `fixtures/dict`: `user_dict.csv`,
    /// `stopwords.txt`, `synonyms.tsv`), for an operator who edits them.
    /// The IPADIC system dictionary is built on first use (see [`dictionary`]).
    pub fn from_dir(dict_dir: &Path) -> Result<Self, AnalyzerError> {
        Analyzer::from_lexicon(
            &DataText::file(&dict_dir.join("user_dict.csv"))?,
            &DataText::file(&dict_dir.join("stopwords.txt"))?,
            &DataText::file(&dict_dir.join("synonyms.tsv"))?,
        )
    }

    /// The analyzer with the word lists bundled with the crate: what an
    /// embedding program uses. The IPADIC system dictionary is built on
    /// first use (see [`dictionary`]).
    pub fn bundled() -> Result<Self, AnalyzerError> {
        Analyzer::from_source(&DataSource::Bundled)
    }

    /// The analyzer with the `dict/` word lists of `source`.
    pub(crate) fn from_source(source: &DataSource) -> Result<Self, AnalyzerError> {
        Analyzer::from_lexicon(
            &source.read("dict/user_dict.csv")?,
            &source.read("dict/stopwords.txt")?,
            &source.read("dict/synonyms.tsv")?,
        )
    }

    fn from_lexicon(
        user_dict: &DataText,
        stopwords: &DataText,
        synonyms: &DataText,
    ) -> Result<Self, AnalyzerError> {
        let system = dictionary::load_or_build()?;
        let metadata = dictionary::ipadic_metadata()?;
        let user = lexicon::parse_user_dictionary(user_dict, metadata)?;
        let segmenter = Segmenter::new(Mode::Normal, system, Some(user));
        let stopwords = lexicon::parse_word_list(stopwords)?;
        let mut analyzer = Analyzer {
            segmenter,
            stopwords,
            synonyms: Synonyms::default(),
            word_classes: RwLock::default(),
        };
        // Synonyms are spelled the way this analyzer spells terms, so they
        // are parsed by it.
        analyzer.synonyms = lexicon::parse_synonyms(synonyms, &analyzer)?;
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
            terms.retain(|t| analyzed::counts(scope::scope_at(&scopes, t.start, t.end)));
        }
        terms
    }

    /// Katakana reading of `text` from the dictionary (unknown words as written).
    pub fn reading(&self, text: &str) -> String {
        let norm = normalize(text);
        let mut out = String::new();
        for mut tok in self.segment(&norm.text) {
            let surface = tok.surface.as_ref().to_owned();
            let details = tok.details();
            match details.get(7) {
                Some(r) if *r != "*" => out.push_str(r),
                _ => out.push_str(&surface),
            }
        }
        out
    }

    /// lindera's tokens of normalized `text`, with byte offsets into it.
    ///
    /// A text lindera would cut by force (32 KiB without 。、 newline or
    /// tab), wherever the 32 KiB fall, is given to it in chunks that end
    /// at a word boundary instead (see [`chunks`]); any other text in one
    /// call, as lindera cuts it into the same sentences itself. lindera only
    /// fails on internal errors: a chunk it fails on yields no tokens.
    fn segment<'a>(&'a self, text: &'a str) -> Vec<Token<'a>> {
        if text.len() <= chunks::LINDERA_SENTENCE_BYTES {
            return self
                .segmenter
                .segment(Cow::Borrowed(text))
                .unwrap_or_default();
        }
        let mut tokens: Vec<Token<'a>> = Vec::with_capacity(text.len() / 4);
        for (start, end) in chunks::chunks(text) {
            let Ok(chunk) = self.segmenter.segment(Cow::Borrowed(&text[start..end])) else {
                continue;
            };
            let first = tokens.len();
            tokens.extend(chunk.into_iter().map(|mut t| {
                t.byte_start += start;
                t.byte_end += start;
                t.position += first;
                t
            }));
        }
        tokens
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
        let units = self.units(norm.text.as_str());
        self.emit(norm, &units, out);
    }

    /// The units (kept words, glue, codes) of normalized `text`, in order:
    /// what [`Analyzer::emit`] turns into terms and
    /// [`Analyzer::noun_phrases`] into runs of nouns.
    fn units<'a>(&'a self, text: &'a str) -> Vec<Unit<'a>> {
        let tokens = self.segment(text);
        // One read lock for the whole text; the classes it did not know yet
        // are added afterwards.
        let known = self.word_classes.read();
        let mut learned: Vec<(WordKey, WordClass)> = Vec::new();
        let toks: Vec<Tok> = tokens
            .iter()
            .map(|token| {
                let key = word_key(token);
                let class = known.get(&key).copied().unwrap_or_else(|| {
                    let class = WordClass::of(&Fields::of(token));
                    learned.push((key, class));
                    class
                });
                Tok {
                    token,
                    // lindera's surface is this very slice of the text it was given.
                    surface: &text[token.byte_start..token.byte_end],
                    class,
                }
            })
            .collect();
        drop(known);
        if !learned.is_empty() {
            self.word_classes.write().extend(learned);
        }
        // Domain words that start with a letter or digit (mcナイロン, 3次元測定機)
        // win over the code scanner.
        let custom: Vec<(usize, usize)> = toks
            .iter()
            .filter(|t| t.class.custom)
            .map(|t| (t.token.byte_start, t.token.byte_end))
            .collect();
        let mut codes = scan_codes(text);
        codes.retain(|c| {
            !custom
                .iter()
                .any(|&(s, e)| s < c.end && c.start < e && (s < c.start || e > c.end))
        });
        let mut units: Vec<Unit> = Vec::with_capacity(toks.len() + codes.len());
        let mut ci = 0;
        let mut open = 0; // first code that may still overlap the current token
        for tok in &toks {
            let (s, e) = (tok.token.byte_start, tok.token.byte_end);
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
            // Symbols IPADIC reads as nouns: )★ ://
            let role = if tok.surface.chars().any(is_alphanumeric) {
                tok.class.role
            } else {
                Role::Drop
            };
            let term = match role {
                Role::Word { noun } => {
                    // Verbs and adjectives are indexed in their base form.
                    let base = if noun { "" } else { Fields::of(tok.token).base };
                    let t = if base != "*" && !base.is_empty() {
                        Cow::Borrowed(base)
                    } else {
                        fold_token_vowel(tok.surface)
                    };
                    (!self.stopwords.contains(t.as_ref()) && !is_trivial(&t)).then_some(t)
                }
                _ => None,
            };
            units.push(Unit {
                start: s,
                end: e,
                term,
                noun: matches!(role, Role::Word { noun: true }),
                glue: matches!(role, Role::Affix).then_some(tok.surface),
                prefix: tok.class.prefix,
                kind: TermKind::Word,
            });
        }
        while ci < codes.len() {
            units.push(Unit::code(&codes[ci], text));
            ci += 1;
        }
        units
    }

    /// Turn units into terms, in position order.
    ///
    /// A compound sits at the position of its first part, so it is emitted
    /// right after that part, not when its run of nouns ends: tantivy
    /// delta-encodes each term's positions and requires them never to go
    /// backwards within a field value. Emitting compounds at the end of a
    /// run did exactly that whenever a compound's spelling was also a word
    /// later in the same run, as when lindera's forced cut every 32 KiB of
    /// an unpunctuated text broke a word in two (マシニ|ングセンタ): the
    /// pair compound マシニングセンタ came after every later マシニングセンタ
    /// of a text that was one long noun run (issue #12).
    fn emit(&self, norm: &normalize::Normalized, units: &[Unit<'_>], out: &mut Vec<Term>) {
        // The run of adjacent compound parts containing unit i: run_start..run_end.
        let mut run_start = 0usize;
        let mut run_end = 0usize;
        for (i, u) in units.iter().enumerate() {
            if i >= run_end {
                run_start = i;
                run_end = i + 1;
                while run_end < units.len() && continues(&units[run_end - 1], &units[run_end]) {
                    run_end += 1;
                }
            }
            let pos = i as u32;
            if let Some(t) = &u.term {
                let (s, e) = norm.orig_span(u.start, u.end);
                out.push(Term {
                    term: t.as_ref().to_owned(),
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
            if u.is_compound_part() {
                self.emit_compounds_at(norm, &units[run_start..run_end], i - run_start, pos, out);
            }
        }
    }

    /// The compounds of `run` that start at its part `a` (at position `pos`):
    /// the whole run when `a` is its first part and the run is short enough
    /// to be a word, and the pair of `a` and its successor in runs of three
    /// or more.
    fn emit_compounds_at(
        &self,
        norm: &normalize::Normalized,
        run: &[Unit<'_>],
        a: usize,
        pos: u32,
        out: &mut Vec<Term>,
    ) {
        let n = run.len();
        if n < 2 {
            return;
        }
        let join = |b: usize, out: &mut Vec<Term>| {
            let parts = || run[a..b].iter().map(Unit::text);
            let mut term = String::with_capacity(parts().map(str::len).sum());
            for part in parts() {
                term.push_str(part);
            }
            let (s, e) = norm.orig_span(run[a].start, run[b - 1].end);
            out.push(Term {
                term,
                start: s,
                end: e,
                position: pos,
                kind: TermKind::Compound,
            });
        };
        if a == 0 && n <= MAX_COMPOUND_PARTS {
            join(n, out);
        }
        if n >= 3 && a + 1 < n {
            // A pair may not start with a suffix (用ロボット) or end with a prefix.
            let starts_with_suffix = run[a].glue.is_some() && !run[a].prefix;
            let ends_with_prefix = run[a + 1].glue.is_some() && run[a + 1].prefix;
            if !starts_with_suffix && !ends_with_prefix {
                join(a + 2, out);
            }
        }
    }
}

/// Whether unit `next` continues the compound run of `prev`: both are kept
/// nouns or glue and nothing lies between them.
fn continues(prev: &Unit<'_>, next: &Unit<'_>) -> bool {
    prev.is_compound_part() && next.is_compound_part() && next.start == prev.end
}

/// A lindera token with its surface and its word's class.
struct Tok<'t, 'a> {
    token: &'t Token<'a>,
    surface: &'a str,
    class: WordClass,
}

/// A dictionary word's identity: its lexicon (unknown, system, user) in the
/// high half, its id there in the low half.
type WordKey = u64;

fn word_key(token: &Token) -> WordKey {
    let id = &token.word_id;
    let lexicon: u64 = if id.is_unknown() {
        0
    } else if id.is_system() {
        1
    } else {
        2
    };
    (lexicon << 32) | u64::from(id.id())
}

/// Hashes a [`WordKey`] with one multiplication: the keys are ours, not an
/// attacker's, and SipHash showed up in profiles at one lookup per token.
#[derive(Default)]
struct WordKeyHasher(u64);

impl Hasher for WordKeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// What the analyzer needs to know about a dictionary word whatever its
/// surface (cached in [`Analyzer::word_classes`]).
#[derive(Clone, Copy)]
struct WordClass {
    /// By part of speech only: a surface without letters or digits drops any word.
    role: Role,
    /// A domain word from the user dictionary (カスタム名詞).
    custom: bool,
    /// A prefix (接頭詞).
    prefix: bool,
}

impl WordClass {
    fn of(fields: &Fields) -> WordClass {
        WordClass {
            role: classify(fields.pos, fields.sub),
            custom: fields.pos == "カスタム名詞",
            prefix: fields.pos == "接頭詞",
        }
    }
}

/// The dictionary fields the analyzer reads for a word.
#[derive(Clone, Copy)]
struct Fields<'a> {
    /// IPADIC part of speech (名詞, 動詞, …; カスタム名詞 for the user dictionary).
    pos: &'a str,
    /// Its first subcategory (接尾, 自立, …).
    sub: &'a str,
    /// Base form (verbs and adjectives are indexed in it).
    base: &'a str,
}

/// Detail-field indexes in the IPADIC schema.
const POS_FIELD: usize = 0;
const SUB_FIELD: usize = 1;
const BASE_FIELD: usize = 6;

impl<'a> Fields<'a> {
    /// Read the fields of `tok` straight from its dictionary.
    /// `Token::details` would allocate a vector per token (and we used to
    /// copy four strings out of it); this reads the same fields by the same
    /// rules as lindera's `Token::ensure_details`: the entry comes from the
    /// unknown-word, system or user dictionary by word id, and a field the
    /// entry lacks reads as `*` up to the schema's width (`""` past it).
    fn of(tok: &Token<'a>) -> Fields<'a> {
        let dict = tok.dictionary;
        let id = tok.word_id.id() as usize;
        let entry = if tok.word_id.is_unknown() {
            dict.unknown_word_details_iter(id)
        } else if tok.word_id.is_system() {
            dict.word_details_iter(id)
        } else {
            match tok.user_dictionary {
                Some(user) => user.word_details_iter(id),
                None => DetailFields::unk(),
            }
        };
        let width = dict.metadata.dictionary_schema.get_custom_fields().len();
        let mut fields = [""; BASE_FIELD + 1];
        for field in fields.iter_mut().take(width) {
            *field = "*";
        }
        for (field, value) in fields.iter_mut().zip(entry) {
            *field = value;
        }
        Fields {
            pos: fields[POS_FIELD],
            sub: fields[SUB_FIELD],
            base: fields[BASE_FIELD],
        }
    }
}

/// One position of the analyzed text: a token or a code. Borrows its text
/// until [`Analyzer::emit`] builds the owned [`Term`]s.
struct Unit<'a> {
    start: usize,
    end: usize,
    term: Option<Cow<'a, str>>,
    noun: bool,
    /// A suffix or prefix (化, 用, 機, 高): never a term alone, but part of compounds (自動化).
    glue: Option<&'a str>,
    prefix: bool,
    kind: TermKind,
}

impl<'a> Unit<'a> {
    fn code(c: &CodeSpan, text: &'a str) -> Unit<'a> {
        let span = &text[c.start..c.end];
        let raw: Cow<str> = if span.contains(' ') {
            Cow::Owned(span.chars().filter(|c| *c != ' ').collect())
        } else {
            Cow::Borrowed(span)
        };
        let digits_only = raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',');
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
    /// What this unit contributes to a compound.
    fn text(&self) -> &str {
        self.term.as_deref().or(self.glue).unwrap_or("")
    }
}

/// What a token is to the analyzer.
#[derive(Clone, Copy)]
enum Role {
    Word {
        noun: bool,
    },
    /// Suffix or prefix: glue inside compounds only.
    Affix,
    Drop,
}

/// The role of a token by its IPADIC part of speech.
fn classify(pos: &str, sub: &str) -> Role {
    match pos {
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
fn fold_token_vowel(t: &str) -> Cow<'_, str> {
    if t.ends_with('ー') && t.chars().count() >= 3 {
        Cow::Owned(normalize(t).text)
    } else {
        Cow::Borrowed(t)
    }
}

/// `char::is_alphanumeric`, answered without a table lookup for kana and
/// kanji (most of a Japanese text). Checked by `alphanumeric_ranges`.
fn is_alphanumeric(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{4E00}'..='\u{9FFF}')
        || c.is_alphanumeric()
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
    fn alphanumeric_ranges() {
        for c in ('\u{3000}'..='\u{9FFF}').chain(['a', '0', '_', '★']) {
            assert_eq!(
                is_alphanumeric(c),
                c.is_alphanumeric(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn alpha_prefix_only_for_grades() {
        assert_eq!(alpha_prefix("sus304"), Some("sus"));
        assert_eq!(alpha_prefix("a5052"), None);
        assert_eq!(alpha_prefix("cad"), None);
    }
}
