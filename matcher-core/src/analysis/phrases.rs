//! Noun phrases: the maximal runs of adjacent nouns of a text.
//!
//! A curator extending the ontology needs to see *what* a text names that
//! no concept covers (蝋の型, 64チタン部品, 色付け), and in Japanese the
//! names of things are runs of nouns glued by suffixes and prefixes
//! (複雑形状部品, 高周波焼入れ品). The analyzer already finds those runs to
//! emit compounds; here they are returned whole (however long, unlike the
//! indexed compounds, which stop at four parts) with their parts, so a
//! report can count them and tell boilerplate parts from content.

use super::{continues, normalize, Analyzer, Unit};

/// One run of adjacent nouns, as the analyzer reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NounPhrase {
    /// The parts joined, in the analyzer's normalized spelling (the key
    /// under which equal phrases are counted).
    pub text: String,
    /// The parts: nouns, codes and the suffixes or prefixes between them.
    pub parts: Vec<String>,
    /// Which parts are a suffix or prefix (製 of アルミ製, ご of ご説明),
    /// parallel to `parts`: glue says what a word is, not what it names.
    pub glue: Vec<bool>,
    /// Byte offsets into the original text.
    pub start: usize,
    /// Byte offset just past the phrase in the original text.
    pub end: usize,
}

impl Analyzer {
    /// The noun phrases of `text`, in order. A run never starts with a
    /// suffix (の部品 → 部品, not 品-glue first) nor ends with a prefix, and
    /// a run of glue alone is no phrase.
    pub fn noun_phrases(&self, text: &str) -> Vec<NounPhrase> {
        let norm = normalize(text);
        let units = self.units(&norm.text);
        let mut out = Vec::new();
        let mut i = 0;
        while i < units.len() {
            if !units[i].is_compound_part() {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < units.len() && continues(&units[j - 1], &units[j]) {
                j += 1;
            }
            if let Some(p) = phrase(&norm, &units[i..j]) {
                out.push(p);
            }
            i = j;
        }
        out
    }
}

/// The phrase of one run, trimmed of a leading suffix and a trailing prefix.
fn phrase(norm: &normalize::Normalized, run: &[Unit<'_>]) -> Option<NounPhrase> {
    let is_suffix = |u: &Unit<'_>| u.glue.is_some() && !u.prefix;
    let is_prefix = |u: &Unit<'_>| u.glue.is_some() && u.prefix;
    let from = run.iter().position(|u| !is_suffix(u))?;
    let to = run.iter().rposition(|u| !is_prefix(u))? + 1;
    if from >= to {
        return None;
    }
    let run = &run[from..to];
    if run.iter().all(|u| u.glue.is_some()) {
        return None;
    }
    let parts: Vec<String> = run.iter().map(|u| u.text().to_owned()).collect();
    let glue = run.iter().map(|u| u.glue.is_some()).collect();
    let (start, end) = norm.orig_span(run[0].start, run[run.len() - 1].end);
    Some(NounPhrase {
        text: parts.concat(),
        parts,
        glue,
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use crate::analysis::Analyzer;

    fn analyzer() -> Analyzer {
        let dir = crate::fixtures::fixtures_dir();
        Analyzer::from_dir(&dir.join("dict")).expect("analyzer")
    }

    fn texts(a: &Analyzer, text: &str) -> Vec<String> {
        a.noun_phrases(text).into_iter().map(|p| p.text).collect()
    }

    #[test]
    fn runs_of_nouns_are_phrases_and_particles_and_verbs_split_them() {
        let a = analyzer();
        let t = "底付きのアルミ製ケースを、溶接なしで一体成形してくれるところを探しています。";
        let phrases = texts(&a, t);
        // アルミ製ケース is one run (アルミ + suffix 製 + ケース); を, で and
        // the verbs split the sentence.
        assert!(
            phrases.contains(&"アルミ製ケース".to_owned()),
            "{phrases:?}"
        );
        assert!(phrases.contains(&"一体成形".to_owned()), "{phrases:?}");
        assert!(!phrases.iter().any(|p| p.contains("探")), "{phrases:?}");
        // offsets are into the original text
        for p in a.noun_phrases(t) {
            assert!(t.is_char_boundary(p.start) && t.is_char_boundary(p.end));
            assert!(!t[p.start..p.end].is_empty());
        }
    }

    #[test]
    fn long_runs_stay_whole_and_keep_their_parts() {
        let a = analyzer();
        let p = a.noun_phrases("半導体製造装置向け精密部品加工");
        let long = p
            .iter()
            .find(|p| p.text.starts_with("半導体"))
            .expect("a phrase");
        // longer than the four parts an indexed compound may have
        assert!(long.parts.len() > 4, "{long:?}");
        assert_eq!(long.text, long.parts.concat());
        assert_eq!(long.parts.len(), long.glue.len());
        // 向け is a suffix: glue, not a word
        let i = long.parts.iter().position(|p| p == "向け").expect("向け");
        assert!(long.glue[i] && !long.glue[0], "{long:?}");
    }

    #[test]
    fn normalized_spelling_is_the_key() {
        let a = analyzer();
        // full-width and half-width text give the same phrase
        assert_eq!(texts(&a, "ＳＵＳ３０４の丸棒"), texts(&a, "SUS304の丸棒"));
    }
}
