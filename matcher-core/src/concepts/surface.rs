//! Finding a concept's surface forms in a text: the string matcher and the
//! boundary rules that keep a surface from matching where it is not a word.
//!
//! Surfaces are matched as strings (Aho–Corasick, leftmost-longest) over
//! the text's [`normalize_loose`] form, because Japanese has no spaces and
//! most surfaces are phrases (削り出し品, 図面のない部品) that no tokenizer
//! keeps whole. Strings match where words do not, though, so three rules
//! hold them to word boundaries where the text gives one:
//!
//! - an ASCII surface (mc, tig) does not match inside a longer ASCII word;
//! - a katakana surface preceded by katakana does not match from inside
//!   one of the analyzer's words (ニット in ユニット, ダクト in
//!   プロダクト), while a compound's head still does (デザイン of
//!   グラフィックデザイン, which the analyzer splits);
//! - a one-character surface (銅, 鞄) is found only as a whole word of the
//!   analyzer (銅 in 銅の加工, not in 銅像 or 青銅): as a string it would
//!   match inside every longer word that contains it.

use std::collections::HashMap;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{ConceptId, OntologyError};
use crate::analysis::{inner_key, loose_key, Term, TermKind};

/// A surface matcher: the automaton, the concepts of each pattern (as it
/// reads opening a katakana run, and inside one: see [`inner_key`]),
/// whether each pattern is ASCII, and the one-character surfaces with
/// their concepts.
pub(super) struct SurfaceMatcher {
    pub(super) automaton: AhoCorasick,
    concepts: Vec<PatternConcepts>,
    pub(super) ascii: Vec<bool>,
    pub(super) single: HashMap<String, Vec<ConceptId>>,
}

/// The concepts a pattern means where it opens a katakana run (or has
/// none) and where it stands inside one.
#[derive(Default)]
struct PatternConcepts {
    outer: Vec<ConceptId>,
    inner: Vec<ConceptId>,
}

impl SurfaceMatcher {
    /// The concepts of pattern `p` matched at `start` of the loose text:
    /// inside a katakana run, the surfaces whose [`inner_key`] it is.
    pub(super) fn concepts_at(&self, p: usize, text: &str, start: usize) -> &[ConceptId] {
        let inside = text[..start].chars().next_back().is_some_and(is_katakana);
        let c = &self.concepts[p];
        if inside {
            &c.inner
        } else {
            &c.outer
        }
    }
}

/// Leftmost-longest matcher over [`loose_key`]ed patterns (and their
/// [`inner_key`]s); one pattern may mean several concepts. One-character
/// surfaces go to `single` instead.
pub(super) fn build_matcher<'a>(
    path: &Path,
    pairs: impl Iterator<Item = (&'a str, ConceptId)>,
) -> Result<SurfaceMatcher, OntologyError> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut concepts: Vec<PatternConcepts> = Vec::new();
    let mut single: HashMap<String, Vec<ConceptId>> = HashMap::new();
    let add = |list: &mut Vec<ConceptId>, c: ConceptId| {
        if !list.contains(&c) {
            list.push(c);
        }
    };
    for (s, c) in pairs {
        let key = loose_key(s);
        match key.chars().count() {
            0 => continue,
            1 => {
                add(single.entry(key).or_default(), c);
                continue;
            }
            _ => {}
        }
        for (key, inner) in [(key, false), (inner_key(s), true)] {
            let i = *index.entry(key.clone()).or_insert_with(|| {
                patterns.push(key);
                concepts.push(PatternConcepts::default());
                patterns.len() - 1
            });
            let pc = &mut concepts[i];
            add(if inner { &mut pc.inner } else { &mut pc.outer }, c);
        }
    }
    let ascii = patterns.iter().map(|p| p.is_ascii()).collect();
    let automaton = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
        .map_err(|e| OntologyError::Invalid {
            path: path.to_path_buf(),
            reason: format!("cannot build the surface matcher: {e}"),
        })?;
    Ok(SurfaceMatcher {
        automaton,
        concepts,
        ascii,
        single,
    })
}

/// An ASCII surface (mc, tig) must not match inside a longer ASCII word.
pub(super) fn ascii_word_boundary(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let left = start == 0 || !b[start - 1].is_ascii_alphabetic();
    let right = end >= b.len() || !b[end].is_ascii_alphabetic();
    left && right
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー')
}

/// Whether a match at `start` of the normalized `text` (`orig_start` in
/// the original, whose analyzer `terms` are given) begins inside a katakana
/// word: katakana on both sides of its start, and an analyzer word that
/// spans it (ユ|ニット of ユニット). Without terms (an ontology without an
/// analyzer) nothing is refused.
pub(super) fn splits_katakana_word(
    text: &str,
    start: usize,
    orig_start: usize,
    terms: &[Term],
) -> bool {
    let first = text[start..].chars().next();
    let prev = text[..start].chars().next_back();
    if !(first.is_some_and(is_katakana) && prev.is_some_and(is_katakana)) {
        return false;
    }
    terms
        .iter()
        .any(|t| t.kind == TermKind::Word && t.start < orig_start && orig_start < t.end)
}
