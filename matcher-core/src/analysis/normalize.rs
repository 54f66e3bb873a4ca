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
    /// The normalized text (NFKC, lower case, long vowels folded).
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

/// Characters that NFKC and lower-casing both leave unchanged when they
/// stand alone: kana, kanji and CJK punctuation, i.e. nearly all Japanese
/// text. They skip the (comparatively slow) NFKC iterator. Checked against
/// the full path by `stable_ranges_match_nfkc`.
fn is_stable(c: char) -> bool {
    matches!(
        c,
        '\u{3001}'..='\u{3035}' // CJK punctuation: 、。「」〜 …
            | '\u{3041}'..='\u{3096}' // hiragana
            | '\u{309D}'..='\u{309E}' // ゝゞ
            | '\u{30A0}'..='\u{30FE}' // katakana and ー (not ヿ, which NFKC spells コト)
            | '\u{3400}'..='\u{4DBF}' // CJK extension A
            | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
    )
}

/// NFKC of a full-width ASCII character (！ to ～) is the ASCII character
/// `0xFEE0` below it. Checked by `stable_ranges_match_nfkc`.
fn full_width_ascii(c: char) -> Option<u8> {
    matches!(c, '\u{FF01}'..='\u{FF5E}').then(|| (c as u32 - 0xFEE0) as u8)
}

/// Normalize `text` (NFKC, lower case, long-vowel folding) keeping an offset map.
pub fn normalize(text: &str) -> Normalized {
    let mut out = String::with_capacity(text.len());
    let mut spans: Vec<(u32, u32)> = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if !joins_previous(next) {
                break;
            }
            end = i + next.len_utf8();
            chars.next();
        }
        // The character with the marks NFKC folds into it (ﾌﾟ): one unit.
        let unit = &text[start..end];
        let alone = unit.len() == c.len_utf8();
        if c.is_ascii() && alone {
            // ASCII is NFKC-stable; only case changes.
            out.push(c.to_ascii_lowercase());
        } else if alone && is_stable(c) {
            out.push(c);
        } else if let Some(b) = full_width_ascii(c).filter(|_| alone) {
            out.push(b.to_ascii_lowercase() as char);
        } else {
            for n in unit.nfkc() {
                for l in n.to_lowercase() {
                    out.push(l);
                }
            }
        }
        spans.resize(out.len(), (start as u32, end as u32));
    }
    fold_long_vowels(out, spans, Fold::Final)
}

/// [`normalize`], and then every ー inside a katakana run dropped but one
/// right after the run's first mora: ファイバーレーザー and ファイバレーザ
/// both become ファイバレザ, ワイヤーハーネス and ワイヤハーネス
/// ワイヤハネス, while a run that opens with a long vowel keeps it
/// (カーテン, スーパエンプラ). What concept surfaces are matched on.
///
/// Why not in [`normalize`]: word-final folding is safe because a word ends
/// there; a medial ー may end a word inside a compound (ファイバー|レーザー)
/// or belong to one (データベース), and without word boundaries the only
/// rule that meets both spellings of every compound is to drop them all.
/// Text search leaves compounds to the analyzer, which folds each
/// dictionary word's final ー on its own (`fold_token_vowel`). A concept
/// surface is matched as a string, so it folds on both sides: writers mix
/// ワイヤーカット and ワイヤカット, センターレス and センタレス (33 to 3 in
/// the blind profiles). A surface that opens a run (レーザ加工) is also
/// looked for inside one, where its first ー is dropped too: see
/// [`inner_key`].
pub fn normalize_loose(text: &str) -> Normalized {
    let n = normalize(text);
    fold_long_vowels(n.text, n.spans, Fold::Medial)
}

/// [`normalize_loose`]'s text only: the key of a concept surface.
pub fn loose_key(text: &str) -> String {
    normalize_loose(text.trim()).text
}

/// The key of a surface as it reads inside a longer katakana run of
/// [`normalize_loose`]d text: no medial ー at all (レーザ加工 → レザ加工,
/// found in ファイバレザ加工).
pub fn inner_key(text: &str) -> String {
    let n = normalize(text.trim());
    fold_long_vowels(n.text, n.spans, Fold::MedialAll).text
}

/// Which long vowels [`fold_long_vowels`] drops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// A word-final ー after two or more katakana.
    Final,
    /// And every medial ー but one right after a run's first mora.
    Medial,
    /// And every medial ー.
    MedialAll,
}

/// Drop the long vowels `fold` names. A small ァィゥェォャュョ is no mora
/// of its own (ウォー keeps its ー as カー does).
fn fold_long_vowels(text: String, spans: Vec<(u32, u32)>, fold: Fold) -> Normalized {
    if !text.contains('ー') {
        return Normalized { text, spans };
    }
    let mut out = String::with_capacity(text.len());
    let mut out_spans = Vec::with_capacity(spans.len());
    let mut run = 0usize; // katakana chars (without ー) in the current run
    let mut morae = 0usize; // morae (without ー) in the current run
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let len = c.len_utf8();
        let mut keep = true;
        if is_katakana(c) {
            run += 1;
            if !is_small_kana(c) {
                morae += 1;
            }
        } else if c == 'ー' {
            let next = chars.peek().map(|&(_, n)| n);
            let word_final = !matches!(next, Some(n) if is_katakana(n) || n == 'ー');
            if word_final {
                keep = run < 2;
                run = 0;
                morae = 0;
            } else {
                // A medial ー (ワイヤーカット) neither ends nor resets the run.
                keep = match fold {
                    Fold::Final => true,
                    Fold::Medial => morae <= 1,
                    Fold::MedialAll => run == 0,
                };
            }
        } else {
            run = 0;
            morae = 0;
        }
        if keep {
            out.push(c);
            out_spans.extend_from_slice(&spans[i..i + len]);
        } else if let Some(last) = out_spans.last_mut() {
            // The dropped ー still belongs to the word it ended.
            last.1 = spans[i + len - 1].1;
        }
    }
    Normalized {
        text: out,
        spans: out_spans,
    }
}

/// Small kana that join the previous one into one mora (ウォ, シャ).
fn is_small_kana(c: char) -> bool {
    matches!(
        c,
        'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ' | 'ャ' | 'ュ' | 'ョ' | 'ヮ'
    )
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

    /// Concept keys fold a ー inside a compound too, so the spellings
    /// writers mix meet; short words and the plain normalization keep theirs.
    #[test]
    fn loose_folding_meets_compound_spellings() {
        for (a, b) in [
            ("ファイバーレーザー溶接機", "ファイバレーザ溶接機"),
            ("ワイヤーカット放電加工", "ワイヤカット放電加工"),
            ("センターレス研削", "センタレス研削"),
            ("スーパーエンプラの切削", "スーパエンプラの切削"),
            ("ｳｫｰﾀｰｼﾞｪｯﾄ", "ウォータジェット"),
            ("パウダーコーティング", "パウダコーティング"),
            ("ユーザーインターフェース", "ユーザインタフェース"),
            ("プライバシーマーク", "プライバシマーク"),
            ("ワイヤーハーネス加工", "ワイヤハーネス加工"),
            ("レーザーマーカー", "レーザマーカ"),
        ] {
            assert_eq!(loose_key(a), loose_key(b), "{a} / {b}");
        }
        assert_eq!(loose_key("ファイバーレーザー"), "ファイバレザ");
        // a surface that opens a run, as it reads inside one
        assert_eq!(loose_key("レーザー加工"), "レーザ加工");
        assert_eq!(inner_key("レーザー加工"), "レザ加工");
        assert!(loose_key("ファイバーレーザー加工").ends_with(&inner_key("レーザ加工")));
        // a two-mora word keeps its ー inside a compound as at its end
        assert_eq!(loose_key("カーテン"), "カーテン");
        assert_eq!(loose_key("スーパー"), "スーパ");
        // the plain normalization leaves a medial ー alone
        assert_eq!(normalize("ファイバーレーザー").text, "ファイバーレーザ");
        // offsets still reach the characters as written
        let orig = "高出力ファイバーレーザー";
        let n = normalize_loose(orig);
        let s = n.text.find("ファイバレザ").expect("folded");
        let (a, b) = n.orig_span(s, s + "ファイバレザ".len());
        assert_eq!(&orig[a..b], "ファイバーレーザー");
    }

    #[test]
    fn stable_ranges_match_nfkc() {
        for c in ('\u{3000}'..='\u{9FFF}').chain('\u{FF00}'..='\u{FFEF}') {
            let full: String = c.nfkc().flat_map(char::to_lowercase).collect();
            if is_stable(c) {
                assert_eq!(full, c.to_string(), "U+{:04X}", c as u32);
            }
            if let Some(b) = full_width_ascii(c) {
                assert_eq!(
                    full,
                    char::from(b.to_ascii_lowercase()).to_string(),
                    "U+{:04X}",
                    c as u32
                );
            }
        }
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
