//! Character bigrams for recall: a part of a compound (空港 in 関西国際空港)
//! and words the dictionary does not know still meet. Runs of Japanese
//! characters yield overlapping bigrams; single characters are not emitted,
//! so one-character fragments never flood results. ASCII runs are emitted
//! whole (they are codes, handled better by the main analyzer anyway).
//! Readings: hiragana is folded to katakana, so a name's reading matches
//! whichever script the user typed.

use tantivy::tokenizer::{Token, Tokenizer};

use super::tokenizer::VecTokenStream;

use super::normalize::normalize;

/// Name under which [`BigramTokenizer`] is registered in every index.
pub const BIGRAM_TOKENIZER_NAME: &str = "ja_bigram";

/// Hiragana → katakana (after normalization).
pub fn to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '々')
}

/// Bigram terms of `text` with offsets into `text`.
pub fn bigrams(text: &str) -> Vec<Token> {
    let norm = normalize(text);
    let t = to_katakana(&norm.text);
    let chars: Vec<(usize, char)> = t.char_indices().collect();
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut k = 0;
    while k < chars.len() {
        let (i, c) = chars[k];
        // (end of the token in `t`, where to continue), or nothing to emit here.
        let (end, next) = if is_cjk(c) {
            match chars.get(k + 1).filter(|(_, d)| is_cjk(*d)) {
                Some(&(j, d)) => (Some(j + d.len_utf8()), k + 1),
                None => (None, k + 1),
            }
        } else if c.is_ascii_alphanumeric() {
            let m = k + chars[k..]
                .iter()
                .take_while(|(_, x)| x.is_ascii_alphanumeric())
                .count();
            (Some(chars.get(m).map_or(t.len(), |x| x.0)), m)
        } else {
            (None, k + 1)
        };
        if let Some(end) = end {
            let (s, e) = norm.orig_span(i, end);
            out.push(Token {
                offset_from: s,
                offset_to: e,
                position: pos,
                text: t[i..end].to_owned(),
                position_length: 1,
            });
            pos += 1;
        }
        k = next;
    }
    out
}

/// The [`bigrams`] of a text as a tantivy tokenizer (the `grams` and `reading`
/// fields): recall for compounds and words the dictionary does not know.
#[derive(Clone, Default)]
pub struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(bigrams(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_cover_compound_parts_without_unigrams() {
        let terms: Vec<String> = bigrams("関西国際空港")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(terms, ["関西", "西国", "国際", "際空", "空港"]);
        let terms: Vec<String> = bigrams("軸 と おおもり")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(terms, ["オオ", "オモ", "モリ"]);
    }
}
