//! Highlighted snippets from stored text, using the analyzer's offsets.
//!
//! The analyzer maps every term back to the original text, so a match on
//! マシニングセンタ highlights ﾏｼﾆﾝｸﾞｾﾝﾀｰ exactly as the company wrote it.

use std::collections::HashSet;

use serde::Serialize;

use crate::analysis::Analyzer;

/// Characters of context in one snippet.
const WINDOW_CHARS: usize = 120;

/// A piece of a field with highlighted byte ranges (relative to `text`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snippet {
    pub field: String,
    pub text: String,
    pub highlights: Vec<[usize; 2]>,
}

/// The best window of `text` around terms in `want`, or `None` if none match.
pub fn snippet(
    analyzer: &Analyzer,
    field: &str,
    text: &str,
    want: &HashSet<&str>,
) -> Option<Snippet> {
    if text.is_empty() || want.is_empty() {
        return None;
    }
    let mut spans: Vec<(usize, usize)> = analyzer
        .analyze(text)
        .into_iter()
        .filter(|t| want.contains(t.term.as_str()))
        .map(|t| (t.start, t.end))
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    // Merge overlapping spans (a compound and its parts).
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    // Window start: the match that has the most matches within WINDOW_CHARS after it.
    let char_pos = |b: usize| text[..b].chars().count();
    let best = (0..merged.len())
        .max_by_key(|&i| {
            let start = char_pos(merged[i].0);
            let n = merged[i..]
                .iter()
                .take_while(|m| char_pos(m.1) - start <= WINDOW_CHARS)
                .count();
            (n, std::cmp::Reverse(i))
        })
        .unwrap_or(0);
    // Start a little before the first match, on a char boundary.
    let first = merged[best].0;
    let lead: usize = text[..first]
        .chars()
        .rev()
        .take(20)
        .map(char::len_utf8)
        .sum();
    let ws = first - lead;
    let we = text[ws..]
        .char_indices()
        .nth(WINDOW_CHARS)
        .map_or(text.len(), |(i, _)| ws + i);
    let highlights = merged
        .iter()
        .filter(|(s, e)| *s >= ws && *e <= we)
        .map(|(s, e)| [s - ws, e - ws])
        .collect();
    Some(Snippet {
        field: field.to_owned(),
        text: text[ws..we].to_owned(),
        highlights,
    })
}
