//! Highlighted snippets from stored text, using the analyzer's offsets.
//!
//! The analyzer maps every term back to the original text, so a match on
//! マシニングセンタ highlights ﾏｼﾆﾝｸﾞｾﾝﾀｰ exactly as the company wrote it.
//!
//! Each highlight is given three ways, because clients count differently:
//! UTF-8 bytes (Rust, Go, Python `bytes`), UTF-16 code units (JavaScript's
//! `String.prototype.slice`, Java, C#) and Unicode scalar values (Python
//! `str`, Swift's `unicodeScalars`). They differ as soon as the text holds
//! a character outside the Basic Multilingual Plane — 𠮷 (U+20BB7) in
//! 𠮷野家 is 4 bytes, 2 UTF-16 units and 1 character — so a portal that
//! sliced with the wrong unit would highlight the wrong text. A client that
//! wants no arithmetic at all asks for [`Snippet::formatted`]: the snippet as
//! HTML, escaped, with `<em>` around each highlight.

use std::collections::HashSet;

use serde::Serialize;

use crate::analysis::Analyzer;

/// Characters of context in one snippet.
const WINDOW_CHARS: usize = 120;

/// A piece of a field with highlighted ranges, each half-open and relative
/// to `text`, in three units (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snippet {
    /// The field it comes from: `capabilities`, `products` or `equipment`.
    pub field: String,
    /// The piece of the field's text, at most about 120 characters around the hits.
    pub text: String,
    /// UTF-8 byte offsets.
    pub highlights: Vec<[usize; 2]>,
    /// The same ranges in UTF-16 code units (JavaScript string indices).
    pub highlights_utf16: Vec<[usize; 2]>,
    /// The same ranges in Unicode scalar values (code points).
    pub highlights_chars: Vec<[usize; 2]>,
    /// `text` HTML-escaped with `<em>…</em>` around each highlight, when
    /// the search asked for it (`formatted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub formatted: Option<String>,
}

impl Snippet {
    /// A snippet of `text` highlighting `highlights` (sorted, disjoint byte
    /// ranges on character boundaries), with the other units computed.
    pub fn new(field: &str, text: &str, highlights: Vec<[usize; 2]>, formatted: bool) -> Snippet {
        let (utf16, chars) = other_units(text, &highlights);
        let formatted = formatted.then(|| tagged_html(text, &highlights));
        Snippet {
            field: field.to_owned(),
            text: text.to_owned(),
            highlights,
            highlights_utf16: utf16,
            highlights_chars: chars,
            formatted,
        }
    }
}

/// The byte ranges `bytes` of `text` in UTF-16 code units and in
/// characters, in one pass over the text.
fn other_units(text: &str, bytes: &[[usize; 2]]) -> (Vec<[usize; 2]>, Vec<[usize; 2]>) {
    let mut utf16 = vec![[0usize; 2]; bytes.len()];
    let mut chars = vec![[0usize; 2]; bytes.len()];
    // Every boundary, by byte offset: (offset, range, 0 = start / 1 = end).
    let mut marks: Vec<(usize, usize, usize)> = bytes
        .iter()
        .enumerate()
        .flat_map(|(i, r)| [(r[0], i, 0), (r[1], i, 1)])
        .collect();
    marks.sort_unstable();
    let mut next = marks.iter().peekable();
    let (mut u, mut c) = (0usize, 0usize);
    let positions = text
        .char_indices()
        .map(|(b, ch)| (b, ch.len_utf16()))
        .chain(std::iter::once((text.len(), 0)));
    for (b, width) in positions {
        while let Some(&&(at, i, side)) = next.peek() {
            if at > b {
                break;
            }
            // `at < b` only for an offset inside a character, which the
            // analyzer never produces: it gets the next boundary.
            utf16[i][side] = u;
            chars[i][side] = c;
            next.next();
        }
        u += width;
        c += 1;
    }
    (utf16, chars)
}

/// HTML-escape `s` into `out` (text and attribute safe).
fn escape_html(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text` escaped, with `<em>…</em>` around each byte range.
fn tagged_html(text: &str, highlights: &[[usize; 2]]) -> String {
    let mut out = String::with_capacity(text.len() + highlights.len() * 9);
    let mut pos = 0;
    for &[s, e] in highlights {
        if s < pos || e > text.len() || s > e {
            continue;
        }
        escape_html(&text[pos..s], &mut out);
        out.push_str("<em>");
        escape_html(&text[s..e], &mut out);
        out.push_str("</em>");
        pos = e;
    }
    escape_html(&text[pos..], &mut out);
    out
}

/// The best window of `text` around terms in `want`, or `None` if none
/// match; with [`Snippet::formatted`] when `formatted`.
pub fn snippet(
    analyzer: &Analyzer,
    field: &str,
    text: &str,
    want: &HashSet<&str>,
    formatted: bool,
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
    Some(Snippet::new(field, &text[ws..we], highlights, formatted))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JavaScript's `s.slice(a, b)`: UTF-16 code units.
    fn js_slice(s: &str, [a, b]: [usize; 2]) -> String {
        let units: Vec<u16> = s.encode_utf16().collect();
        String::from_utf16(&units[a..b]).expect("whole surrogate pairs")
    }

    #[test]
    fn offsets_in_three_units_agree_beyond_the_bmp() {
        // 𠮷 is outside the BMP: 4 bytes, 2 UTF-16 units, 1 character.
        let text = "𠮷野家と𠀋の<牛丼>&設計";
        let terms = ["𠮷野家", "牛丼", "設計"];
        let bytes: Vec<[usize; 2]> = terms
            .iter()
            .map(|t| {
                let s = text.find(t).unwrap();
                [s, s + t.len()]
            })
            .collect();
        let sn = Snippet::new("capabilities", text, bytes.clone(), true);
        for (i, t) in terms.iter().enumerate() {
            assert_eq!(&text[bytes[i][0]..bytes[i][1]], *t);
            assert_eq!(js_slice(text, sn.highlights_utf16[i]), *t);
            let [a, b] = sn.highlights_chars[i];
            let by_chars: String = text.chars().skip(a).take(b - a).collect();
            assert_eq!(by_chars, *t);
        }
        // The units really differ here (so the test could fail).
        assert_ne!(sn.highlights_utf16[1], sn.highlights_chars[1]);
        assert_eq!(
            sn.formatted.as_deref(),
            Some("<em>𠮷野家</em>と𠀋の&lt;<em>牛丼</em>&gt;&amp;<em>設計</em>")
        );
        assert!(Snippet::new("f", text, bytes, false).formatted.is_none());
    }
}
