//! Long texts without sentence delimiters (issue #12, defect 2).
//!
//! lindera cuts a text into sentences at 。、 newline and tab, and forces a
//! cut every 32 KiB when there is none. A company's capabilities text can be
//! one long unpunctuated run of nouns (精密切削加工マシニングセンタSUS304…):
//! the analyzer used to emit a run's compounds when the run ended, at the
//! positions of their first parts, so a pair compound that was also a word
//! (マシニ|ングセンタ, two pieces of a word broken by the forced cut) came
//! after every later occurrence of that word. tantivy subtracts consecutive
//! positions of a term: it panicked in debug builds and stored garbage in
//! release. Every token stream must be in position order, its offsets on
//! character boundaries of the original text, the end of the text must
//! still be there, and no word may be broken where the text was cut.
//!
//! Run: `cargo test -p matcher-core --test analyzer_long_text`

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use matcher_core::analysis::bigram::{BigramTokenizer, BIGRAM_TOKENIZER_NAME};
use matcher_core::analysis::tokenizer::{
    JapaneseTokenizer, PROFILE_TOKENIZER_NAME, TOKENIZER_NAME,
};
use matcher_core::analysis::{Analyzer, Term, TermKind};
use matcher_core::fixtures;

use tantivy::collector::Count;
use tantivy::query::{PhraseQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexWriter, TantivyDocument};

/// One analyzer for every test in this file (loading the dictionary is slow).
fn analyzer() -> Arc<Analyzer> {
    static ANALYZER: OnceLock<Arc<Analyzer>> = OnceLock::new();
    ANALYZER
        .get_or_init(|| {
            Arc::new(
                Analyzer::from_dir(&fixtures::dict_dir())
                    .expect("load the analyzer from fixtures/dict"),
            )
        })
        .clone()
}

/// Where lindera forces a sentence boundary in a text without delimiters.
const LINDERA_CUT: usize = 32 * 1024;

/// Appended to every long text: words that occur nowhere before, so finding
/// them proves the end of the text was analyzed. (After a particle: lindera
/// reads a katakana run that does not end in a word as one unknown word, so
/// チタン right after the katakana phrase would vanish into it.)
const TAIL: &str = "の溶接チタン";
const TAIL_TERMS: &[&str] = &["溶接", "チタン"];

/// A repeated phrase (no 。、 newline or tab) and a term each copy yields.
struct Phrase {
    name: &'static str,
    text: &'static str,
    probe: Option<&'static str>,
}

const PHRASES: &[Phrase] = &[
    Phrase {
        name: "noun run",
        text: "精密切削加工マシニングセンタSUS304アルミA5052",
        probe: Some("マシニングセンタ"),
    },
    Phrase {
        name: "sentence without punctuation",
        text: "精密部品の切削加工とマシニングセンタによるSUS304やアルミA5052の試作に対応します",
        probe: Some("試作"),
    },
    Phrase {
        name: "hiragana",
        text: "せいみつぶひんのせっさくかこうとしさくにたいおうします",
        probe: None,
    },
    Phrase {
        name: "katakana",
        text: "マシニングセンタワイヤーカットレーザーカッタープレスブレーキ",
        probe: None,
    },
    Phrase {
        name: "ascii words",
        text: "cnc machining of SUS304 and A5052 parts ISO 9001 ",
        probe: Some("machining"),
    },
    Phrase {
        name: "ascii run",
        text: "sus304a5052cnc",
        probe: None,
    },
    Phrase {
        name: "full width and half-width kana",
        text: "ＳＵＳ３０４ﾏｼﾆﾝｸﾞｾﾝﾀｰ精密部品５軸加工",
        probe: Some("精密部品"),
    },
    Phrase {
        name: "mixed",
        text: "5軸MCでφ0.1の微細加工 NC旋盤によるアルミ筐体の量産 ワイヤーカット放電加工機",
        probe: Some("筐体"),
    },
];

/// `phrase` repeated to at least `len` bytes, then [`TAIL`].
fn long_text(phrase: &str, len: usize) -> String {
    let mut s = String::with_capacity(len + phrase.len() + TAIL.len());
    while s.len() < len {
        s.push_str(phrase);
    }
    s.push_str(TAIL);
    s
}

/// Check what every token stream must satisfy: positions and start offsets
/// never go backwards, offsets lie inside `text` on character boundaries.
fn check_order<'a>(
    label: &str,
    text: &str,
    tokens: impl IntoIterator<Item = (&'a str, usize, usize, usize)>,
) {
    let mut last: Option<(&str, usize, usize)> = None;
    let mut n = 0usize;
    for (term, from, to, pos) in tokens {
        n += 1;
        assert!(!term.is_empty(), "{label}: empty term at position {pos}");
        assert!(
            from <= to && to <= text.len(),
            "{label}: {term:?} has offsets {from}..{to} outside the text ({} bytes)",
            text.len()
        );
        assert!(
            text.is_char_boundary(from) && text.is_char_boundary(to),
            "{label}: {term:?} has offsets {from}..{to} inside a character"
        );
        if let Some((prev, prev_from, prev_pos)) = last {
            assert!(
                pos >= prev_pos,
                "{label}: position goes backwards: {prev:?}@{prev_pos} then {term:?}@{pos} \
                 (bytes {from}..{to} of {})",
                text.len()
            );
            assert!(
                from >= prev_from,
                "{label}: offset goes backwards: {prev:?} at byte {prev_from} then {term:?} \
                 at byte {from}"
            );
        }
        last = Some((term, from, pos));
    }
    assert!(n > 0, "{label}: no tokens");
}

fn check_terms(label: &str, text: &str, terms: &[Term]) {
    check_order(
        label,
        text,
        terms
            .iter()
            .map(|t| (t.term.as_str(), t.start, t.end, t.position as usize)),
    );
}

/// The tail's terms are found, at the tail.
fn check_tail(label: &str, text: &str, terms: &[Term]) {
    let tail_start = text.len() - TAIL.len();
    for want in TAIL_TERMS {
        assert!(
            terms
                .iter()
                .any(|t| t.term == *want && t.start >= tail_start && t.end <= text.len()),
            "{label}: {want:?} at the end of the text is missing; last terms: {:?}",
            &terms[terms.len().saturating_sub(5)..]
        );
    }
}

/// Each copy of the phrase still yields its probe term (a forced cut may
/// break at most one copy per cut), the last copy included.
fn check_probe(label: &str, text: &str, phrase: &Phrase, terms: &[Term]) {
    let Some(probe) = phrase.probe else {
        return;
    };
    let copies = (text.len() - TAIL.len()) / phrase.text.len();
    let cuts = text.len() / LINDERA_CUT + 1;
    let found: Vec<&Term> = terms.iter().filter(|t| t.term == probe).collect();
    assert!(
        found.len() + cuts >= copies,
        "{label}: {probe:?} found {} times in {copies} copies",
        found.len()
    );
    let last_copy = text.len() - TAIL.len() - phrase.text.len();
    assert!(
        found.last().is_some_and(|t| t.start >= last_copy),
        "{label}: {probe:?} missing from the last copy (last at {:?} of {})",
        found.last().map(|t| t.start),
        text.len()
    );
}

/// No word is broken in two where the text was cut for lindera: the long
/// text yields no word that a few copies of its phrase do not (lindera's own
/// forced cut left pieces such as マシニ and ングセンタ).
fn check_no_broken_words(label: &str, text: &str, phrase: &Phrase, terms: &[Term]) {
    if phrase.probe.is_none() {
        return; // pure kana: lindera's reading depends on where a run starts
    }
    let mut short = phrase.text.repeat(3);
    short.push_str(TAIL);
    let known: BTreeSet<String> = analyzer()
        .analyze(&short)
        .into_iter()
        .filter(|t| t.kind == TermKind::Word)
        .map(|t| t.term)
        .collect();
    let broken: BTreeSet<&str> = terms
        .iter()
        .filter(|t| t.kind == TermKind::Word && !known.contains(&t.term))
        .map(|t| t.term.as_str())
        .collect();
    assert!(
        broken.is_empty(),
        "{label}: words broken at a cut: {broken:?} ({} bytes)",
        text.len()
    );
}

fn stream<T: Tokenizer>(tokenizer: &mut T, text: &str) -> Vec<Token> {
    let mut s = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while s.advance() {
        out.push(s.token().clone());
    }
    out
}

fn check_tokens(label: &str, text: &str, tokens: &[Token]) {
    check_order(
        label,
        text,
        tokens
            .iter()
            .map(|t| (t.text.as_str(), t.offset_from, t.offset_to, t.position)),
    );
}

/// Every phrase at 40 KB and 100 KB; the two that matter most at 300 KB.
fn cases() -> impl Iterator<Item = (String, &'static Phrase, String)> {
    PHRASES.iter().flat_map(|p| {
        let big = matches!(p.name, "noun run" | "mixed");
        [40_000, 100_000, 300_000]
            .into_iter()
            .filter(move |&n| n < 300_000 || big)
            .map(move |n| (format!("{} ({n} bytes)", p.name), p, long_text(p.text, n)))
    })
}

#[test]
fn analyze_keeps_positions_in_order_on_long_unpunctuated_texts() {
    let a = analyzer();
    for (label, phrase, text) in cases() {
        let terms = a.analyze(&text);
        check_terms(&label, &text, &terms);
        check_tail(&label, &text, &terms);
        check_probe(&label, &text, phrase, &terms);
        check_no_broken_words(&label, &text, phrase, &terms);
    }
}

#[test]
fn scoped_analysis_keeps_positions_in_order_on_long_unpunctuated_texts() {
    let a = analyzer();
    for (label, _, mut text) in cases() {
        // A refused clause after the long one: its terms must go, the
        // long clause's must stay.
        text.push_str("。鋳造には対応しておりません");
        let scoped = a.analyze_scoped(&text, false);
        check_terms(&label, &text, &scoped);
        assert!(
            !scoped.iter().any(|t| t.term == "鋳造"),
            "{label}: refused work kept"
        );
        assert!(
            scoped.iter().any(|t| t.term == "チタン"),
            "{label}: the end of the long clause is missing"
        );
        let analyzed = a.analyze_text(&text, false);
        check_terms(&label, &text, &analyzed.terms);
        let scoped_too: Vec<Term> = analyzed.scoped().cloned().collect();
        assert_eq!(scoped_too, scoped, "{label}: two scoped analyses differ");
        let pre = analyzed.pre_tokenized(&text);
        check_tokens(&format!("{label}, pre-tokenized"), &text, &pre.tokens);
        assert_eq!(pre.tokens.len(), scoped.len(), "{label}");
    }
}

#[test]
fn tokenizers_keep_positions_in_order_on_long_unpunctuated_texts() {
    let a = analyzer();
    let mut plain = JapaneseTokenizer::new(a.clone());
    let mut profile = JapaneseTokenizer::profile(a.clone());
    let mut bigram = BigramTokenizer;
    for (label, _, text) in cases() {
        let tokens = stream(&mut plain, &text);
        check_tokens(&format!("{TOKENIZER_NAME}: {label}"), &text, &tokens);
        let tokens = stream(&mut profile, &text);
        check_tokens(
            &format!("{PROFILE_TOKENIZER_NAME}: {label}"),
            &text,
            &tokens,
        );
        let tokens = stream(&mut bigram, &text);
        check_tokens(&format!("{BIGRAM_TOKENIZER_NAME}: {label}"), &text, &tokens);
        // the bigram of the tail's last two characters is there
        assert!(
            tokens.last().is_some_and(|t| t.text == "タン"),
            "{BIGRAM_TOKENIZER_NAME}: {label}: the end of the text is missing"
        );
    }
}

/// A text with one space, between 合金 and 溶接, just before 32 KiB: the
/// analyzer ends the chunk it gives lindera at the surest word boundary
/// before lindera's forced cut, which is that space, so a phrase query for
/// 合金 溶接 spans the chunk boundary.
fn text_across_the_cut() -> String {
    let filler = PHRASES[0].text;
    let mut s = String::new();
    while s.len() < LINDERA_CUT - 500 {
        s.push_str(filler);
    }
    s.push_str("耐熱合金 溶接加工");
    while s.len() < 3 * LINDERA_CUT {
        s.push_str(filler);
    }
    s.push_str(TAIL);
    s
}

#[test]
fn tantivy_indexes_long_unpunctuated_texts() {
    let a = analyzer();
    let with = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut b = Schema::builder();
    let plain = b.add_text_field("plain", with(TOKENIZER_NAME));
    let profile = b.add_text_field("profile", with(PROFILE_TOKENIZER_NAME));
    let grams = b.add_text_field("grams", with(BIGRAM_TOKENIZER_NAME));
    // what the company index does: the analysis once, stored as pre-tokenized text
    let pre = b.add_text_field("pre", with(PROFILE_TOKENIZER_NAME));
    let index = Index::create_in_ram(b.build());
    index
        .tokenizers()
        .register(TOKENIZER_NAME, JapaneseTokenizer::new(a.clone()));
    index.tokenizers().register(
        PROFILE_TOKENIZER_NAME,
        JapaneseTokenizer::profile(a.clone()),
    );
    index
        .tokenizers()
        .register(BIGRAM_TOKENIZER_NAME, BigramTokenizer);
    let mut writer: IndexWriter = index
        .writer_with_num_threads(1, 50_000_000)
        .expect("index writer");

    let across = text_across_the_cut();
    let noun_run = long_text(PHRASES[0].text, 100_000);
    let mixed = long_text(PHRASES[7].text, 100_000);
    for text in [&across, &noun_run, &mixed] {
        let mut doc = TantivyDocument::new();
        for field in [plain, profile, grams] {
            doc.add_text(field, text);
            // a second value: tantivy continues its positions after a gap
            doc.add_text(field, "耐熱合金溶接加工");
        }
        doc.add_pre_tokenized_text(pre, a.analyze_text(text, false).pre_tokenized(text));
        writer.add_document(doc).expect("add a long document");
    }
    writer.commit().expect("commit the long documents");

    let searcher = index.reader().expect("reader").searcher();
    let count = |q: &dyn tantivy::query::Query| searcher.search(q, &Count).expect("search");
    let term = |field, t: &str| tantivy::Term::from_field_text(field, t);
    for field in [plain, profile, pre] {
        // the end of every text
        let q = TermQuery::new(term(field, "チタン"), IndexRecordOption::Basic);
        assert_eq!(count(&q), 3, "チタン in field {field:?}");
        // across the forced cut (and, in the second value, in every document)
        let q = PhraseQuery::new(vec![term(field, "合金"), term(field, "溶接")]);
        let want = if field == pre { 1 } else { 3 };
        assert_eq!(count(&q), want, "合金 溶接 in field {field:?}");
    }
    // a phrase of the second value does not run into the first
    let q = PhraseQuery::new(vec![term(plain, "チタン"), term(plain, "耐熱")]);
    assert_eq!(count(&q), 0);
    let q = PhraseQuery::new(vec![term(grams, "チタ"), term(grams, "タン")]);
    assert_eq!(count(&q), 3);
    let q = PhraseQuery::new(vec![term(grams, "合金"), term(grams, "金溶")]);
    assert_eq!(count(&q), 3);
}
