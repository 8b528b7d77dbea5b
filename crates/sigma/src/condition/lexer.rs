//! Tokeniser for condition strings.

use super::ast::CondSpan;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    Pipe,
    /// A word: identifier, pattern, keyword or number. Keywords are recognised by the parser,
    /// case-insensitively.
    Word(String),
    /// A comparison operator of the legacy aggregation syntax.
    Op(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: CondSpan,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub message: String,
    pub span: CondSpan,
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || matches!(c, '(' | ')' | '|' | '<' | '>' | '=' | '!'))
}

pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '|' => Some(Tok::Pipe),
            _ => None,
        };
        if let Some(tok) = single {
            it.next();
            out.push(Token {
                tok,
                span: i..i + 1,
            });
            continue;
        }
        if matches!(c, '<' | '>' | '=' | '!') {
            it.next();
            let mut op = c.to_string();
            if let Some(&(_, '=')) = it.peek() {
                it.next();
                op.push('=');
            }
            if op == "!" {
                return Err(LexError {
                    message: "'!' must be followed by '='".into(),
                    span: i..i + 1,
                });
            }
            let end = i + op.len();
            out.push(Token {
                tok: Tok::Op(op),
                span: i..end,
            });
            continue;
        }
        let start = i;
        let mut end = i;
        while let Some(&(j, c)) = it.peek() {
            if !is_word_char(c) {
                break;
            }
            end = j + c.len_utf8();
            it.next();
        }
        out.push(Token {
            tok: Tok::Word(text[start..end].to_owned()),
            span: start..end,
        });
    }
    Ok(out)
}
