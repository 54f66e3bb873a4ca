//! Where to cut a long text before lindera sees it.
//!
//! lindera segments a text sentence by sentence, a sentence ending at 。、
//! a newline or a tab. A stretch of more than 32 KiB without any of them
//! (a capabilities text pasted as one line of nouns) it cuts wherever the
//! 32 KiB fall, mostly inside a word: 切削 becomes the words 切 and 削.
//! [`chunks`] cuts such a stretch itself, a little earlier, where a word
//! ends as surely as the characters tell (after a space or a symbol, after
//! hiragana, between scripts), so lindera never has to; only a stretch of
//! one script with none of those in its last KiB is still cut blindly.
//! Everywhere else it cuts only right after a delimiter, where lindera
//! starts a new sentence anyway: a text lindera would not cut by force is
//! segmented exactly as before.

/// lindera's `MAX_SENTENCE_BYTES` (private to lindera): a sentence this
/// long without a delimiter is cut by force.
pub(crate) const LINDERA_SENTENCE_BYTES: usize = 32 * 1024;

/// How far back from lindera's forced cut a word boundary is looked for.
/// Kana, kanji and ASCII change every few characters in real text; a
/// stretch of one script this long has no better place to cut anyway.
const SEARCH_BYTES: usize = 1024;

/// Byte ranges of `text`, in order and covering it, each of which lindera
/// segments without a forced cut. A text shorter than
/// [`LINDERA_SENTENCE_BYTES`] is one range.
pub(crate) fn chunks(text: &str) -> Chunks<'_> {
    Chunks { text, start: 0 }
}

pub(crate) struct Chunks<'a> {
    text: &'a str,
    start: usize,
}

impl Iterator for Chunks<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let start = self.start;
        if start >= self.text.len() {
            return None;
        }
        let rest = &self.text[start..];
        let end = if rest.len() <= LINDERA_SENTENCE_BYTES {
            self.text.len()
        } else {
            start + cut(rest)
        };
        self.start = end;
        Some((start, end))
    }
}

/// Where to end the chunk at the start of `rest` (longer than
/// [`LINDERA_SENTENCE_BYTES`]): after the last sentence delimiter lindera
/// would reach without a forced cut, or else at the best word boundary
/// before the forced cut.
fn cut(rest: &str) -> usize {
    // A delimiter ending exactly at the limit still ends lindera's sentence.
    let window = &rest[..floor_char_boundary(rest, LINDERA_SENTENCE_BYTES)];
    if let Some(i) = window.rfind(['\n', '\t', '。', '、']) {
        return i + window[i..].chars().next().map_or(1, char::len_utf8);
    }
    // One byte short of the limit: a chunk of exactly the limit is not cut,
    // but lindera warns that it was.
    let limit = floor_char_boundary(rest, LINDERA_SENTENCE_BYTES - 1);
    word_boundary(rest, limit).unwrap_or(limit)
}

/// The largest char boundary of `s` at or before `i` (`i <= s.len()`).
/// (`str::floor_char_boundary` is newer than our minimum Rust.)
fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// How sure a boundary between two characters is to be a word boundary.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Boundary {
    /// Between scripts other than into hiragana (加工|マシニング, センタ|sus):
    /// a user-dictionary word (mcナイロン) may still span it.
    Script,
    /// From hiragana into another script (の|切削): a particle or an
    /// inflection ends there.
    AfterKana,
    /// After a space or a symbol, which lindera never joins to a word.
    AfterSymbol,
}

/// The last of the surest word boundaries of `rest` in the [`SEARCH_BYTES`]
/// up to `limit` (a char boundary of `rest` before its end), if any.
fn word_boundary(rest: &str, limit: usize) -> Option<usize> {
    let mut best: Option<(Boundary, usize)> = None;
    let mut next = rest[limit..].chars().next();
    for (i, c) in rest[..limit].char_indices().rev() {
        if limit - i > SEARCH_BYTES {
            break;
        }
        if let Some(kind) = next.and_then(|n| boundary(c, n)) {
            if best.is_none_or(|(b, _)| kind > b) {
                best = Some((kind, i + c.len_utf8()));
                if kind == Boundary::AfterSymbol {
                    break;
                }
            }
        }
        next = Some(c);
    }
    best.map(|(_, at)| at)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Hiragana,
    /// Katakana and the long-vowel mark ー, which only ever extends katakana.
    Katakana,
    Kanji,
    Ascii,
    Symbol,
    Other,
}

fn script(c: char) -> Script {
    match c {
        '・' | '\u{3000}'..='\u{3004}' | '\u{3008}'..='\u{3020}' => Script::Symbol,
        '\u{3041}'..='\u{309F}' => Script::Hiragana,
        '\u{30A0}'..='\u{30FF}' => Script::Katakana,
        '々' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' => {
            Script::Kanji
        }
        _ if c.is_ascii_alphanumeric() => Script::Ascii,
        _ if c.is_whitespace() || c.is_ascii_punctuation() => Script::Symbol,
        _ => Script::Other,
    }
}

/// The kind of boundary between the characters `a` and `b`, if any.
fn boundary(a: char, b: char) -> Option<Boundary> {
    match (script(a), script(b)) {
        (Script::Symbol, _) => Some(Boundary::AfterSymbol),
        (Script::Hiragana, Script::Hiragana | Script::Other | Script::Symbol) => None,
        (Script::Hiragana, _) => Some(Boundary::AfterKana),
        // okurigana (削り), or a word we cannot judge
        (_, Script::Hiragana | Script::Other | Script::Symbol) | (Script::Other, _) => None,
        (x, y) if x != y => Some(Boundary::Script),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        let out: Vec<&str> = chunks(text).map(|(s, e)| &text[s..e]).collect();
        assert_eq!(out.concat(), text, "chunks cover the text in order");
        out
    }

    #[test]
    fn short_and_delimited_texts_are_not_cut_by_us() {
        assert_eq!(pieces("精密切削加工"), ["精密切削加工"]);
        assert!(pieces("").is_empty());
        let exact = "あ".repeat(LINDERA_SENTENCE_BYTES / 3) + "ab";
        assert_eq!(exact.len(), LINDERA_SENTENCE_BYTES);
        assert_eq!(pieces(&exact).len(), 1);
        // a long text with a delimiter in every 32 KiB: cut only after one
        let sentence = "精密部品の切削加工に対応します。";
        let text = sentence.repeat(3 * LINDERA_SENTENCE_BYTES / sentence.len());
        for p in pieces(&text) {
            assert!(p.ends_with('。'), "cut inside a sentence: …{:?}", tail(p));
            assert!(p.len() <= LINDERA_SENTENCE_BYTES);
        }
    }

    #[test]
    fn long_stretches_are_cut_between_words() {
        let phrase = "精密切削加工マシニングセンタsus304アルミa5052";
        let text = phrase.repeat(4 * LINDERA_SENTENCE_BYTES / phrase.len());
        let p = pieces(&text);
        assert!(p.len() >= 4);
        for piece in &p[..p.len() - 1] {
            assert!(piece.len() <= LINDERA_SENTENCE_BYTES);
            assert!(
                [
                    "精密切削加工",
                    "マシニングセンタ",
                    "sus304",
                    "アルミ",
                    "a5052"
                ]
                .iter()
                .any(|w| piece.ends_with(w)),
                "cut inside a word: …{:?}",
                tail(piece)
            );
        }
        // after a particle rather than between two scripts
        let phrase = "部品の切削加工とマシニングセンタによる試作";
        let text = phrase.repeat(2 * LINDERA_SENTENCE_BYTES / phrase.len());
        for piece in &pieces(&text)[..1] {
            assert!(
                ["の", "と", "による"].iter().any(|w| piece.ends_with(w)),
                "…{:?}",
                tail(piece)
            );
        }
        // after a space best of all
        let phrase = "切削加工マシニングセンタ sus304アルミ";
        let text = phrase.repeat(2 * LINDERA_SENTENCE_BYTES / phrase.len());
        assert!(pieces(&text)[0].ends_with(' '));
    }

    #[test]
    fn one_script_is_cut_short_of_the_limit() {
        let text = "あ".repeat(LINDERA_SENTENCE_BYTES);
        let p = pieces(&text);
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].len(), (LINDERA_SENTENCE_BYTES - 1) / 3 * 3);
    }

    fn tail(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        chars[chars.len().saturating_sub(12)..].iter().collect()
    }
}
