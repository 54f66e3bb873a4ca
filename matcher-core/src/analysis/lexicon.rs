//! Domain data for the analyzer: user dictionary, stop words, synonyms.
//!
//! Each is a plain text file in `fixtures/dict/` (bundled with the crate, or
//! read from a folder that overrides it), validated when loaded: a bad line
//! is an error with its file and line number, never silently skipped.
//! Entries are normalized like the text they will meet, so a file may be
//! written with マシニングセンター or ＭＣ and still match.
//!
//! Synonyms are applied at query time only, so editing `synonyms.tsv` takes
//! effect on restart without re-indexing.

use std::collections::{HashMap, HashSet};

use lindera::dictionary::UserDictionary;
use lindera_dictionary::builder::DictionaryBuilder;
use lindera_dictionary::dictionary::metadata::Metadata;

use super::{normalize_key, Analyzer, TermKind};

/// Errors of the analyzer's data files.
pub type LexiconError = crate::data_file::DataFileError;
use crate::data_file::DataText;

/// Non-empty, non-comment lines with their 1-based line numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

fn is_katakana_reading(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | 'ヽ' | 'ヾ'))
}

/// Validate `surface,part_of_speech,reading` lines and build a lindera user dictionary.
pub(crate) fn parse_user_dictionary(
    file: &DataText,
    metadata: Metadata,
) -> Result<UserDictionary, LexiconError> {
    let (path, text) = (file.path.as_path(), &file.text);
    let mut csv = String::with_capacity(text.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, l) in data_lines(&text) {
        let err = |reason: String| LexiconError::Line {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        let [surface, pos, reading] = fields[..] else {
            return Err(err(format!(
                "expected 3 comma-separated fields (surface,part_of_speech,reading), found {}",
                fields.len()
            )));
        };
        let surface = normalize_key(surface);
        if surface.is_empty() || surface.contains(' ') {
            return Err(err("surface is empty or contains a space".into()));
        }
        if pos.is_empty() {
            return Err(err("part_of_speech is empty".into()));
        }
        if !is_katakana_reading(reading) {
            return Err(err(format!("reading {reading:?} must be katakana")));
        }
        if let Some(first) = seen.insert(surface.clone(), line) {
            return Err(err(format!("{surface} is already defined on line {first}")));
        }
        csv.push_str(&format!("{surface},{pos},{reading}\n"));
    }
    DictionaryBuilder::new(metadata)
        .build_user_dict_from_reader(csv.as_bytes())
        .map_err(|e| LexiconError::Invalid {
            path: path.to_path_buf(),
            reason: format!("lindera rejected the user dictionary: {e}"),
        })
}

/// One word per line, normalized.
pub(crate) fn parse_word_list(file: &DataText) -> Result<HashSet<String>, LexiconError> {
    let (path, text) = (file.path.as_path(), &file.text);
    let mut words = HashSet::new();
    for (line, l) in data_lines(&text) {
        let w = normalize_key(l);
        if w.contains(char::is_whitespace) {
            return Err(LexiconError::Line {
                path: path.to_path_buf(),
                line,
                reason: format!("{l:?}: one word per line"),
            });
        }
        words.insert(w);
    }
    Ok(words)
}

/// Synonym groups keyed by the term the analyzer produces for each member.
#[derive(Debug, Default, Clone)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    by_term: HashMap<String, usize>,
}

impl Synonyms {
    /// The other members of `term`'s group (in index spelling), or nothing.
    pub fn expand<'a>(&'a self, term: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.by_term
            .get(term)
            .map(|&g| self.groups[g].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(String::as_str)
            .filter(move |t| *t != term)
    }

    /// The canonical (first) member of `term`'s group.
    pub fn canonical(&self, term: &str) -> Option<&str> {
        self.by_term.get(term).map(|&g| self.groups[g][0].as_str())
    }

    /// How many terms belong to a group (not how many groups).
    pub fn len(&self) -> usize {
        self.by_term.len()
    }

    /// No synonyms at all: queries are not expanded.
    pub fn is_empty(&self) -> bool {
        self.by_term.is_empty()
    }
}

/// The single term the index stores for a whole phrase: its compound if the
/// analyzer joined it, else its one word, else its normalized form.
pub fn index_term(analyzer: &Analyzer, phrase: &str) -> String {
    let terms = analyzer.analyze(phrase);
    let whole = normalize_key(phrase).replace(' ', "");
    let covers = |t: &super::Term| t.start == 0 && t.end >= phrase.trim_end().len();
    let trimmed = phrase.trim();
    if trimmed.len() != phrase.len() {
        return index_term(analyzer, trimmed);
    }
    // The longest compound or word spanning the whole phrase, else its normalized form.
    terms
        .iter()
        .filter(|t| covers(t))
        .max_by_key(|t| (t.kind == TermKind::Compound, t.term.len()))
        .map(|t| t.term.clone())
        .unwrap_or(whole)
}

/// Parse `canonical|variant|…` groups. A term in two groups is an error.
pub(crate) fn parse_synonyms(
    file: &DataText,
    analyzer: &Analyzer,
) -> Result<Synonyms, LexiconError> {
    let (path, text) = (file.path.as_path(), &file.text);
    let mut syn = Synonyms::default();
    let mut written_on: HashMap<String, usize> = HashMap::new();
    for (line, l) in data_lines(&text) {
        let err = |reason: String| LexiconError::Line {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut group: Vec<String> = Vec::new();
        for raw in l.split('|') {
            let raw = raw.trim();
            if raw.is_empty() {
                return Err(err("empty term (two '|' in a row or a trailing '|')".into()));
            }
            // A term written twice is an authoring error; report it.
            let written = normalize_key(raw);
            if let Some(first) = written_on.insert(written.clone(), line) {
                if first != line {
                    return Err(err(format!(
                        "{raw} is already in the group on line {first}; merge the two lines"
                    )));
                }
            }
            let t = index_term(analyzer, raw);
            // Different spellings may analyze to one term already claimed by
            // another group; the first group keeps it.
            if !group.contains(&t) && !syn.by_term.contains_key(&t) {
                group.push(t);
            }
        }
        if group.len() < 2 {
            continue;
        }
        let g = syn.groups.len();
        for t in &group {
            syn.by_term.insert(t.clone(), g);
        }
        syn.groups.push(group);
    }
    Ok(syn)
}
