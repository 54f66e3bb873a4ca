//! The analyzer as a tantivy tokenizer, so the index stores exactly the
//! terms [`Analyzer::analyze`] produces, with its offsets and positions.

use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::Analyzer;

/// Name under which the plain tokenizer is registered in every index.
pub const TOKENIZER_NAME: &str = "ja_matcher";
/// Profile text: like [`TOKENIZER_NAME`] but drops refused work (鋳造には対応しておりません).
pub const PROFILE_TOKENIZER_NAME: &str = "ja_profile";

/// [`Analyzer::analyze`] as a tantivy tokenizer, so the index and queries
/// cannot spell a term two ways.
#[derive(Clone)]
pub struct JapaneseTokenizer {
    analyzer: Arc<Analyzer>,
    profile: bool,
}

impl JapaneseTokenizer {
    /// The tokenizer for every text except profiles: every term is kept.
    pub fn new(analyzer: Arc<Analyzer>) -> Self {
        JapaneseTokenizer {
            analyzer,
            profile: false,
        }
    }
    /// The variant for company profile text.
    pub fn profile(analyzer: Arc<Analyzer>) -> Self {
        JapaneseTokenizer {
            analyzer,
            profile: true,
        }
    }
}

/// A token stream over tokens computed up front (both our tokenizers
/// analyze the whole text at once).
pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl VecTokenStream {
    /// A stream over `tokens`, in their order.
    pub fn new(tokens: Vec<Token>) -> Self {
        VecTokenStream { tokens, index: 0 }
    }
}

impl Tokenizer for JapaneseTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let terms = if self.profile {
            self.analyzer.analyze_scoped(text, false)
        } else {
            self.analyzer.analyze(text)
        };
        let tokens = terms
            .into_iter()
            .map(|t| Token {
                offset_from: t.start,
                offset_to: t.end,
                position: t.position as usize,
                text: t.term,
                position_length: 1,
            })
            .collect();
        VecTokenStream::new(tokens)
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}
