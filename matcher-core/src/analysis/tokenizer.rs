//! The analyzer as a tantivy tokenizer, so the index stores exactly the
//! terms [`Analyzer::analyze`] produces, with its offsets and positions.

use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::Analyzer;

/// Name under which the tokenizer is registered in every index.
pub const TOKENIZER_NAME: &str = "ja_matcher";

#[derive(Clone)]
pub struct JapaneseTokenizer {
    analyzer: Arc<Analyzer>,
}

impl JapaneseTokenizer {
    pub fn new(analyzer: Arc<Analyzer>) -> Self {
        JapaneseTokenizer { analyzer }
    }
}

pub struct JapaneseTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for JapaneseTokenizer {
    type TokenStream<'a> = JapaneseTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JapaneseTokenStream {
        let tokens = self
            .analyzer
            .analyze(text)
            .into_iter()
            .map(|t| Token {
                offset_from: t.start,
                offset_to: t.end,
                position: t.position as usize,
                text: t.term,
                position_length: 1,
            })
            .collect();
        JapaneseTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for JapaneseTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}
