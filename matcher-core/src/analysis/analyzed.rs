//! A text analyzed once and used three ways.
//!
//! A company's capabilities text feeds the index (offered terms only),
//! concept extraction (every term, to find head words, weighted by clause
//! scope) and explanations (offered terms with offsets). Analysis is the
//! most expensive step of indexing and of an explanation, so it runs once
//! per text and the three consumers share its result.

use tantivy::tokenizer::{PreTokenizedString, Token};

use super::scope::{self, Scope, ScopeKind};
use super::{Analyzer, Term};

/// Every term of a text (no scope filtering) and the text's clause scopes.
#[derive(Debug, Clone, Default)]
pub struct AnalyzedText {
    /// Every term, in position order, clauses out of scope included: each consumer
    /// filters by [`AnalyzedText::scopes`] as it needs.
    pub terms: Vec<Term>,
    /// The clauses that are not a plain offer or request, in text order.
    pub scopes: Vec<Scope>,
}

impl Analyzer {
    /// Analyze `text` once; `is_need` selects the clause rules (see [`scope`]).
    pub fn analyze_text(&self, text: &str, is_need: bool) -> AnalyzedText {
        AnalyzedText {
            terms: self.analyze(text),
            scopes: scope::scopes(text, is_need),
        }
    }
}

/// Whether a term in a clause of this kind still states an offer or a
/// request: work sent out to partners is still work the company can take
/// on, a nice-to-have is still asked for (see [`ScopeKind::counts`]).
pub fn counts(kind: Option<ScopeKind>) -> bool {
    kind.is_none_or(ScopeKind::counts)
}

impl AnalyzedText {
    /// The terms outside refused, excluded, self-description and in-house clauses
    /// (what [`Analyzer::analyze_scoped`] returns).
    pub fn scoped(&self) -> impl Iterator<Item = &Term> {
        self.terms
            .iter()
            .filter(|t| counts(scope::scope_at(&self.scopes, t.start, t.end)))
    }

    /// The scoped terms as tantivy tokens over `text`, so the index stores
    /// exactly them without running the tokenizer again.
    pub fn pre_tokenized(&self, text: &str) -> PreTokenizedString {
        pre_tokenized(text, self.scoped())
    }

    /// Every term as tantivy tokens over `text`: what the plain tokenizer
    /// (`ja_matcher`, which does not scope) would index, so a text analyzed
    /// for other uses is not analyzed again by the index.
    pub fn pre_tokenized_all(&self, text: &str) -> PreTokenizedString {
        pre_tokenized(text, self.terms.iter())
    }
}

fn pre_tokenized<'a>(text: &str, terms: impl Iterator<Item = &'a Term>) -> PreTokenizedString {
    PreTokenizedString {
        text: text.to_owned(),
        tokens: terms
            .map(|t| Token {
                offset_from: t.start,
                offset_to: t.end,
                position: t.position as usize,
                text: t.term.clone(),
                position_length: 1,
            })
            .collect(),
    }
}
