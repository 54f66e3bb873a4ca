//! From user text to a tantivy query.
//!
//! Syntax: free words (OR, ranked by BM25), `"exact phrase"` (required), and
//! `-word` (excluded). Every free term is expanded with its synonyms at query
//! time, so editing the synonym table needs no re-index. Character bigrams
//! add recall at low weight; a query written only in kana also searches the
//! name readings.

use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use crate::analysis::bigram::{bigrams, to_katakana};
use crate::analysis::{normalize_key, Analyzer, TermKind};

/// Weight of a synonym relative to the word the user wrote.
pub const SYNONYM_WEIGHT: f32 = 0.8;

/// A parsed search string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedQuery {
    /// Free text (everything that is not a phrase or an exclusion).
    pub free: String,
    pub phrases: Vec<String>,
    pub excluded: Vec<String>,
}

impl ParsedQuery {
    pub fn parse(q: &str) -> ParsedQuery {
        let q = q.replace(['“', '”', '「', '」'], "\"").replace('　', " ");
        let mut out = ParsedQuery::default();
        let mut rest = String::new();
        for (i, part) in q.split('"').enumerate() {
            if i % 2 == 1 {
                if !part.trim().is_empty() {
                    out.phrases.push(part.trim().to_owned());
                }
                continue;
            }
            for w in part.split_whitespace() {
                match w.strip_prefix('-').or_else(|| w.strip_prefix('－')) {
                    Some(x) if !x.is_empty() => out.excluded.push(x.to_owned()),
                    _ => {
                        rest.push_str(w);
                        rest.push(' ');
                    }
                }
            }
        }
        out.free = rest.trim().to_owned();
        out
    }

    pub fn is_empty(&self) -> bool {
        self.free.is_empty() && self.phrases.is_empty()
    }
}

/// A weighted term to look for in text fields, with its synonyms.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    pub term: String,
    pub weight: f32,
}

/// The analyzed terms of free text, each with synonyms (deduplicated).
pub fn expand_terms(analyzer: &Analyzer, terms: &[crate::analysis::Term]) -> Vec<QueryTerm> {
    let mut out: Vec<QueryTerm> = Vec::new();
    let mut push = |t: &str, w: f32| match out.iter_mut().find(|q| q.term == t) {
        Some(q) => q.weight = q.weight.max(w),
        None => out.push(QueryTerm {
            term: t.to_owned(),
            weight: w,
        }),
    };
    for t in terms {
        // A compound's parts are already there; weigh the compound a little more.
        let w = if t.kind == TermKind::Compound {
            1.2
        } else {
            1.0
        };
        push(&t.term, w);
        for s in analyzer.synonyms().expand(&t.term) {
            push(s, w * SYNONYM_WEIGHT);
        }
    }
    out
}

fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// OR of every term over every (field, boost).
pub fn terms_query(terms: &[QueryTerm], fields: &[(Field, f32)]) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses = Vec::new();
    for t in terms {
        for &(f, b) in fields {
            clauses.push((Occur::Should, term_query(f, &t.term, b * t.weight)));
        }
    }
    clauses
}

/// The character bigrams of `text` over `field`, of which at least 70% (and
/// at least two, when there are two) must match: a part of a compound (空港 in 関西国際空港) still matches, a stray
/// shared bigram (ヤー) does not.
pub fn bigram_query(text: &str, field: Field, boost: f32) -> Option<Box<dyn Query>> {
    let mut seen = std::collections::HashSet::new();
    let clauses: Vec<(Occur, Box<dyn Query>)> = bigrams(text)
        .into_iter()
        // A lone ASCII character (the 5 of 5軸) is a 1-char token, not a
        // bigram: it would match every text with that digit in it.
        .filter(|t| t.text.chars().nth(1).is_some())
        .filter(|t| seen.insert(t.text.clone()))
        .map(|t| (Occur::Should, term_query(field, &t.text, boost)))
        .collect();
    if clauses.is_empty() {
        return None;
    }
    let n = clauses.len();
    let min = (n * 7).div_ceil(10).max(n.min(2));
    Some(Box::new(BooleanQuery::with_minimum_required_clauses(
        clauses, min,
    )))
}

/// A phrase over any of `fields` (word terms only, with their positions).
pub fn phrase_query(analyzer: &Analyzer, phrase: &str, fields: &[Field]) -> Option<Box<dyn Query>> {
    let words: Vec<crate::analysis::Term> = analyzer
        .analyze(phrase)
        .into_iter()
        .filter(|t| t.kind != TermKind::Compound)
        .collect();
    let mut words = words;
    // Keep one term per position (a grade's letter prefix shares its position).
    words.dedup_by_key(|t| t.position);
    let first = words.first()?.position;
    let per_field: Vec<(Occur, Box<dyn Query>)> = fields
        .iter()
        .map(|&f| {
            let q: Box<dyn Query> = if words.len() == 1 {
                Box::new(TermQuery::new(
                    Term::from_field_text(f, &words[0].term),
                    IndexRecordOption::WithFreqs,
                ))
            } else {
                let terms = words
                    .iter()
                    .map(|w| {
                        (
                            (w.position - first) as usize,
                            Term::from_field_text(f, &w.term),
                        )
                    })
                    .collect();
                Box::new(PhraseQuery::new_with_offset(terms))
            };
            (Occur::Should, q)
        })
        .collect();
    Some(Box::new(BooleanQuery::new(per_field)))
}

/// A query that is only kana: search the reading field too.
pub fn kana_only(text: &str) -> Option<String> {
    let n = normalize_key(text).replace(' ', "");
    let is_kana = !n.is_empty() && n.chars().all(|c| matches!(c, '\u{3041}'..='\u{30FF}'));
    is_kana.then(|| to_katakana(&n))
}
