//! Text normalization with an offset map back to the original text.
//!
//! Everything that compares Japanese text (the analyzer, the user dictionary,
//! synonyms, concepts, certifications) goes through [`normalize`] first, so a
//! profile written with ＭＣ, ﾏｼﾆﾝｸﾞｾﾝﾀｰ or マシニングセンター meets a query
//! written with mc or マシニングセンタ. The rules:
//!
//! 1. NFKC: full-width ASCII to half-width, half-width kana to full-width
//!    (with ﾌﾟ composed to プ), compatibility characters (㈱, ①) unfolded.
//! 2. Lower case (ASCII and Greek, so Φ0.1 and φ0.1 agree).
//! 3. Katakana long-vowel folding: a word-final ー after two or more kana
//!    (three or more morae counting the ー) is dropped (マシニングセンター →
//!    マシニングセンタ, サーバー → サーバ, ブロー → ブロ), the JIS Z 8301
//!    convention that profiles mix freely. Two-mora words (カー, キー) keep it.
//!
//! Offsets: [`Normalized::orig_span`] maps a byte range of the normalized text
//! back to the original, so highlights land on what the user wrote.

use unicode_normalization::UnicodeNormalization;

/// Normalized text plus, for each of its bytes, the original byte span it came from.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub text: String,
    /// For each byte of `text`: (start, end) in the original.
    spans: Vec<(u32, u32)>,
}

impl Normalized {
    /// Original byte range covering the normalized byte range `start..end`.
    pub fn orig_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.spans.is_empty() || start >= end {
            return (0, 0);
        }
        let s = self.spans[start.min(self.spans.len() - 1)].0;
        let e = self.spans[(end - 1).min(self.spans.len() - 1)].1;
        (s as usize, e as usize)
    }
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FF}')
}

/// Characters that NFKC folds into the previous character (voiced marks,
/// combining marks); they must be normalized together with it.
fn joins_previous(c: char) -> bool {
    matches!(
        c,
        '\u{FF9E}' | '\u{FF9F}' | '\u{3099}' | '\u{309A}' | '\u{0300}'..='\u{036F}'
    )
}

/// Normalize `text` (NFKC, lower case, long-vowel folding) keeping an offset map.
pub fn normalize(text: &str) -> Normalized {
    let mut out = String::with_capacity(text.len());
    let mut spans: Vec<(u32, u32)> = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut unit = String::new();
    while let Some((start, c)) = chars.next() {
        unit.clear();
        unit.push(c);
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if !joins_previous(next) {
                break;
            }
            unit.push(next);
            end = i + next.len_utf8();
            chars.next();
        }
        let before = out.len();
        if unit.is_ascii() {
            // Fast path: ASCII is NFKC-stable; only case changes.
            for b in unit.bytes() {
                out.push(b.to_ascii_lowercase() as char);
            }
        } else {
            for n in unit.nfkc() {
                for l in n.to_lowercase() {
                    out.push(l);
                }
            }
        }
        spans.resize(out.len(), (start as u32, end as u32));
        let _ = before;
    }
    fold_long_vowels(out, spans)
}

/// Drop a word-final ー after two or more katakana.
fn fold_long_vowels(text: String, spans: Vec<(u32, u32)>) -> Normalized {
    if !text.contains('ー') {
        return Normalized { text, spans };
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut keep = vec![true; chars.len()];
    let mut run = 0usize; // katakana chars (without ー) in the current run
    for (k, &(_, c)) in chars.iter().enumerate() {
        if is_katakana(c) {
            run += 1;
        } else if c == 'ー' {
            let next = chars.get(k + 1).map(|&(_, n)| n);
            let word_final = !matches!(next, Some(n) if is_katakana(n) || n == 'ー');
            if word_final && run >= 2 {
                keep[k] = false;
            }
            if !word_final {
                continue;
            }
            run = 0;
        } else {
            run = 0;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut out_spans = Vec::with_capacity(spans.len());
    for (k, &(i, c)) in chars.iter().enumerate() {
        if keep[k] {
            out.push(c);
            out_spans.extend_from_slice(&spans[i..i + c.len_utf8()]);
        } else if let Some(last) = out_spans.last_mut() {
            // The dropped ー still belongs to the word it ended.
            last.1 = spans[i + c.len_utf8() - 1].1;
        }
    }
    Normalized {
        text: out,
        spans: out_spans,
    }
}

/// Normalized text only, for keys (dictionary entries, synonyms, codes).
pub fn normalize_key(text: &str) -> String {
    normalize(text.trim()).text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_case_and_kana() {
        assert_eq!(normalize("ＭＣ５軸ＳＵＳ３０４").text, "mc5軸sus304");
        assert_eq!(normalize("ﾌﾟﾚｽ加工").text, "プレス加工");
        assert_eq!(normalize("Φ0.1").text, "φ0.1");
    }

    #[test]
    fn long_vowel_folding() {
        assert_eq!(normalize("マシニングセンター").text, "マシニングセンタ");
        assert_eq!(normalize("ﾏｼﾆﾝｸﾞｾﾝﾀｰ").text, "マシニングセンタ");
        assert_eq!(
            normalize("コンピューターとサーバー").text,
            "コンピュータとサーバ"
        );
        // short words keep their ー; a medial ー is never touched
        assert_eq!(normalize("カーとソー").text, "カーとソー");
        assert_eq!(normalize("ワイヤーカット").text, "ワイヤーカット");
    }

    #[test]
    fn offsets_map_back_to_original() {
        let orig = "ＳＵＳ３０４のﾌﾟﾚｽ";
        let n = normalize(orig);
        let s = n.text.find("プレス").unwrap();
        let (a, b) = n.orig_span(s, s + "プレス".len());
        assert_eq!(&orig[a..b], "ﾌﾟﾚｽ");
        let (a, b) = n.orig_span(0, 6);
        assert_eq!(&orig[a..b], "ＳＵＳ３０４");
        let orig = "センター長";
        let n = normalize(orig);
        assert_eq!(n.text, "センタ長");
        let (a, b) = n.orig_span(0, "センタ".len());
        assert_eq!(&orig[a..b], "センター");
    }
}
