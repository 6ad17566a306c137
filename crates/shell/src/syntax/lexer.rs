//! The tokenizer of `sh`: source text in, tokens with line numbers out.
//!
//! Ancestor: `YYLEX.lex` and `readfdassign` in Inferno's `appl/cmd/sh/sh.y`, whose rules are
//! followed exactly (where the manual page words them differently, the code wins):
//!
//! - Blanks are space, tab and carriage return; a newline is a token. `#` starts a comment
//!   to the end of the line wherever a token could start, including straight after a word
//!   (`a#b` is the word `a`), but never inside quotes.
//! - An unquoted word is a run of anything but blanks, newline and
//!   ``# ; & | ^ $ ` ' { } ( ) < > " =``; it also stops before a `:` that is followed by `=`,
//!   so `x:=1` lexes as `x`, `:=`, `1`. `=` is always a token of its own, which is why
//!   `echo a=b` is a syntax error in Inferno's sh.
//! - `'...'` is a quoted word; `''` inside it stands for one `'`. There are no other quotes
//!   and no backslash escapes, and no line continuation.
//! - Straight after `$`, `$#` or `$"` (no blank between), a word takes its first character
//!   freely and then only `[A-Za-z0-9_*]`, so `$stem.b` is `$stem` then `.b`.
//! - Free carets: when a word (quoted or not, including the name after `$`) is followed with
//!   no blank by `$`, `'`, `` ` ``, `"` or the start of an unquoted word, a `^` token is
//!   produced between them. Nothing else gets one: `a{b}` and `(a)b` are two words each.
//! - `<`, `>`, `>>`, `<>` may be followed by `[n]` (a descriptor) or `[n=m]` (a dup);
//!   `|` may be followed by `[n]` or `[n=m]`; `&&` and `||` are tokens.
//!
//! Invariants: every call consumes at least one byte or returns `Eof`, and lexing is linear
//! in the input. The source is scanned as bytes; everything special is ASCII, so word text is
//! always cut at character boundaries.

use super::ast::{PipeLink, RedirKind, VarKind};
use super::error::{ErrorKind, ParseError};

/// A token of the shell grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// An unquoted word or a `'...'` string.
    Word {
        text: String,
        quoted: bool,
    },
    /// `$`, `$#` or `$"`: applies to the word-like thing after it.
    Dollar(VarKind),
    /// `` ` `` (`join` false) or `"` (`join` true): command substitution of the thing after it.
    Backquote {
        join: bool,
    },
    /// `^`, written or free.
    Caret,
    LeftBrace,
    RightBrace,
    LeftParen,
    RightParen,
    Semicolon,
    Ampersand,
    AndAnd,
    OrOr,
    Pipe(PipeLink),
    /// `<`, `>`, `>>`, `<>`, with the descriptor from `[n]` if one was written.
    Redir {
        kind: RedirKind,
        fd: Option<u32>,
    },
    /// `>[n=m]` and friends.
    Dup {
        kind: RedirKind,
        fd: u32,
        to: u32,
    },
    /// `=` (`local` false) or `:=` (`local` true).
    Assign {
        local: bool,
    },
    Newline,
    Eof,
    /// Never produced by the lexer: the parser's lookahead after the lexer failed.
    Invalid,
}

impl Token {
    /// The token as an error message shows it (without the quotes the message adds).
    pub(crate) fn describe(&self) -> String {
        match self {
            Token::Word {
                text,
                quoted: false,
            } => text.clone(),
            Token::Word { text, quoted: true } => format!("'{}'", text.replace('\'', "''")),
            Token::Dollar(kind) => kind.symbol().to_string(),
            Token::Backquote { join: false } => "`".to_string(),
            Token::Backquote { join: true } => "\"".to_string(),
            Token::Caret => "^".to_string(),
            Token::LeftBrace => "{".to_string(),
            Token::RightBrace => "}".to_string(),
            Token::LeftParen => "(".to_string(),
            Token::RightParen => ")".to_string(),
            Token::Semicolon => ";".to_string(),
            Token::Ampersand => "&".to_string(),
            Token::AndAnd => "&&".to_string(),
            Token::OrOr => "||".to_string(),
            Token::Pipe(link) => format!("|{}", super::print::link_suffix(*link)),
            Token::Redir { kind, fd: None } => kind.symbol().to_string(),
            Token::Redir { kind, fd: Some(fd) } => format!("{}[{fd}]", kind.symbol()),
            Token::Dup { kind, fd, to } => format!("{}[{fd}={to}]", kind.symbol()),
            Token::Assign { local: false } => "=".to_string(),
            Token::Assign { local: true } => ":=".to_string(),
            Token::Newline => "newline".to_string(),
            Token::Eof => "end of input".to_string(),
            Token::Invalid => "invalid token".to_string(),
        }
    }

    /// Whether this token is a redirection (with or without a file to come).
    pub(crate) fn starts_redirection(&self) -> bool {
        matches!(self, Token::Redir { .. } | Token::Dup { .. })
    }

    /// Whether this token can begin a word (sh.y's `comword`).
    pub(crate) fn starts_word(&self) -> bool {
        matches!(
            self,
            Token::Word { .. }
                | Token::Dollar(_)
                | Token::Backquote { .. }
                | Token::LeftBrace
                | Token::LeftParen
        )
    }
}

/// Whether `byte` may appear in an unquoted word (outside the `$` name rule).
pub(crate) fn is_word_byte(byte: u8) -> bool {
    !matches!(
        byte,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'#'
            | b';'
            | b'&'
            | b'|'
            | b'^'
            | b'$'
            | b'`'
            | b'\''
            | b'{'
            | b'}'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'"'
            | b'='
    )
}

/// Whether `byte` may continue a variable name straight after `$`.
pub(crate) fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'*'
}

/// The tokenizer state: the position, the line, and sh.y's two bits of free-caret memory.
pub(crate) struct Lexer<'a> {
    source: &'a str,
    position: usize,
    line: usize,
    /// The previous token was a word and nothing has been skipped since (sh.y `atendword`).
    at_end_of_word: bool,
    /// The previous token was `$`, `$#` or `$"` and nothing has been skipped since (sh.y
    /// `wasdollar`).
    after_dollar: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(source: &'a str) -> Lexer<'a> {
        Lexer {
            source,
            position: 0,
            line: 1,
            at_end_of_word: false,
            after_dollar: false,
        }
    }

    /// The line the lexer has reached (where the next token starts, once blanks are skipped).
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    fn peek(&self) -> Option<u8> {
        self.source.as_bytes().get(self.position).copied()
    }

    fn peek_second(&self) -> Option<u8> {
        self.source.as_bytes().get(self.position + 1).copied()
    }

    fn error(&self, kind: ErrorKind) -> ParseError {
        ParseError::new(self.line, kind)
    }

    /// The next token and the line it starts on.
    pub(crate) fn next_token(&mut self) -> Result<(Token, usize), ParseError> {
        // A loop, not recursion, over blanks and comments: a megabyte of spaces must not
        // become a megabyte of stack frames.
        loop {
            let at_end_of_word = self.at_end_of_word;
            let after_dollar = self.after_dollar;
            // Anything, even a blank, resets both bits; the two token kinds that set them do
            // so below.
            self.at_end_of_word = false;
            self.after_dollar = false;
            let Some(byte) = self.peek() else {
                return Ok((Token::Eof, self.line));
            };
            match byte {
                b' ' | b'\t' | b'\r' => {
                    self.position += 1;
                    continue;
                }
                b'#' => {
                    let rest = &self.source.as_bytes()[self.position..];
                    self.position += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                    continue;
                }
                _ => {}
            }
            let line = self.line;
            let token = match byte {
                b'\n' => {
                    self.position += 1;
                    self.line += 1;
                    Token::Newline
                }
                b';' => self.single(Token::Semicolon),
                b'^' => self.single(Token::Caret),
                b'{' => self.single(Token::LeftBrace),
                b'}' => self.single(Token::RightBrace),
                b'(' => self.single(Token::LeftParen),
                b')' => self.single(Token::RightParen),
                b'=' => self.single(Token::Assign { local: false }),
                b'&' => {
                    self.position += 1;
                    if self.peek() == Some(b'&') {
                        self.position += 1;
                        Token::AndAnd
                    } else {
                        Token::Ampersand
                    }
                }
                b'$' | b'\'' | b'"' | b'`' if at_end_of_word => Token::Caret,
                b'$' => {
                    self.position += 1;
                    let kind = match self.peek() {
                        Some(b'#') => VarKind::Count,
                        Some(b'"') => VarKind::Join,
                        _ => VarKind::Value,
                    };
                    if kind != VarKind::Value {
                        self.position += 1;
                    }
                    self.after_dollar = true;
                    Token::Dollar(kind)
                }
                b'"' => self.single(Token::Backquote { join: true }),
                b'`' => self.single(Token::Backquote { join: false }),
                b'\'' => {
                    let text = self.quoted()?;
                    self.at_end_of_word = true;
                    Token::Word { text, quoted: true }
                }
                b'<' | b'>' => self.redirection(byte)?,
                b'|' => self.pipe()?,
                b':' if self.peek_second() == Some(b'=') => {
                    self.position += 2;
                    Token::Assign { local: true }
                }
                _ if at_end_of_word => Token::Caret,
                _ => {
                    let text = self.unquoted(after_dollar);
                    self.at_end_of_word = true;
                    Token::Word {
                        text,
                        quoted: false,
                    }
                }
            };
            return Ok((token, line));
        }
    }

    fn single(&mut self, token: Token) -> Token {
        self.position += 1;
        token
    }

    /// A `'...'` word, the opening quote not yet consumed.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let start_line = self.line;
        self.position += 1;
        let mut text = String::new();
        loop {
            let rest = &self.source[self.position..];
            let Some(end) = rest.find('\'') else {
                self.line += rest.matches('\n').count();
                self.position = self.source.len();
                return Err(ParseError::new(start_line, ErrorKind::UnterminatedQuote));
            };
            let piece = &rest[..end];
            self.line += piece.matches('\n').count();
            text.push_str(piece);
            self.position += end + 1;
            if self.peek() != Some(b'\'') {
                return Ok(text);
            }
            // `''` inside quotes: a literal quote, and the string goes on.
            text.push('\'');
            self.position += 1;
        }
    }

    /// An unquoted word. Its first character is already known to start one.
    fn unquoted(&mut self, after_dollar: bool) -> String {
        let start = self.position;
        // The first character is taken whatever it is (sh.y's do-while), so take a whole one.
        let first = self.source[start..]
            .chars()
            .next()
            .map_or(1, char::len_utf8);
        self.position += first;
        let bytes = self.source.as_bytes();
        while let Some(&byte) = bytes.get(self.position) {
            let more = if after_dollar {
                is_name_byte(byte)
            } else {
                is_word_byte(byte) && !(byte == b':' && bytes.get(self.position + 1) == Some(&b'='))
            };
            if !more {
                break;
            }
            self.position += 1;
        }
        self.source[start..self.position].to_string()
    }

    /// `<`, `>`, `>>` or `<>`, with an optional `[...]` part.
    fn redirection(&mut self, first: u8) -> Result<Token, ParseError> {
        self.position += 1;
        let kind = match (first, self.peek()) {
            (b'>', Some(b'>')) => RedirKind::Append,
            (b'<', Some(b'>')) => RedirKind::ReadWrite,
            (b'>', _) => RedirKind::Write,
            _ => RedirKind::Read,
        };
        if matches!(kind, RedirKind::Append | RedirKind::ReadWrite) {
            self.position += 1;
        }
        if self.peek() != Some(b'[') {
            return Ok(Token::Redir { kind, fd: None });
        }
        self.position += 1;
        match self.descriptors(ErrorKind::BadRedirection)? {
            (fd, None) => Ok(Token::Redir { kind, fd }),
            (Some(fd), Some(Some(to))) => Ok(Token::Dup { kind, fd, to }),
            // `>[2=]` and `>[=1]` parse in sh.y but always fail when run ("invalid dup").
            _ => Err(self.error(ErrorKind::BadRedirection)),
        }
    }

    /// `|`, `||` or `|[...]`.
    fn pipe(&mut self) -> Result<Token, ParseError> {
        self.position += 1;
        match self.peek() {
            Some(b'|') => {
                self.position += 1;
                Ok(Token::OrOr)
            }
            Some(b'[') => {
                self.position += 1;
                let (first, second) = self.descriptors(ErrorKind::BadPipe)?;
                // sh.y's walkpipeline: the first number is the writer's descriptor unless it
                // is missing, in which case the second takes its place.
                let (writer, reader) = match first {
                    Some(_) => (first, second.flatten()),
                    None => (second.flatten(), None),
                };
                Ok(Token::Pipe(PipeLink {
                    from_fd: writer.unwrap_or(1),
                    to_fd: reader.unwrap_or(0),
                }))
            }
            _ => Ok(Token::Pipe(PipeLink::default())),
        }
    }

    /// The inside of `[n]` or `[n=m]`, the `[` consumed: `(n, None)` for the first form and
    /// `(n, Some(m))` for the second, each number optional as in sh.y's `readfdassign`.
    #[allow(clippy::type_complexity)]
    fn descriptors(
        &mut self,
        bad: ErrorKind,
    ) -> Result<(Option<u32>, Option<Option<u32>>), ParseError> {
        let first = self.number(&bad)?;
        let second = match self.peek() {
            Some(b']') => None,
            Some(b'=') => {
                self.position += 1;
                Some(self.number(&bad)?)
            }
            _ => return Err(self.descriptor_error(bad)),
        };
        if self.peek() != Some(b']') {
            return Err(self.descriptor_error(bad));
        }
        self.position += 1;
        Ok((first, second))
    }

    /// A decimal descriptor number, if one is there.
    fn number(&mut self, bad: &ErrorKind) -> Result<Option<u32>, ParseError> {
        let mut value: Option<u32> = None;
        let mut overflow = false;
        while let Some(byte @ b'0'..=b'9') = self.peek() {
            self.position += 1;
            let digit = u32::from(byte - b'0');
            match value
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|v| v.checked_add(digit))
            {
                Some(next) => value = Some(next),
                None => overflow = true,
            }
        }
        if overflow {
            return Err(self.error(bad.clone()));
        }
        Ok(value)
    }

    /// The error for a `[...]` part that stops early: incomplete at the end of input, and
    /// otherwise `bad`, after stepping over the offending byte so the lexer moves on.
    fn descriptor_error(&mut self, bad: ErrorKind) -> ParseError {
        match self.peek() {
            None => self.error(ErrorKind::UnexpectedEnd),
            Some(b'\n') => self.error(bad),
            Some(_) => {
                // A whole character, so that the lexer never stands inside one.
                self.position += self.source[self.position..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                self.error(bad)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(source: &str) -> Vec<Token> {
        let mut lexer = Lexer::new(source);
        let mut out = Vec::new();
        loop {
            let (token, _) = lexer
                .next_token()
                .unwrap_or_else(|e| panic!("{source:?}: {e}"));
            if token == Token::Eof {
                return out;
            }
            out.push(token);
        }
    }

    fn word(text: &str) -> Token {
        Token::Word {
            text: text.into(),
            quoted: false,
        }
    }

    fn quoted(text: &str) -> Token {
        Token::Word {
            text: text.into(),
            quoted: true,
        }
    }

    fn lex_error(source: &str) -> ParseError {
        let mut lexer = Lexer::new(source);
        loop {
            match lexer.next_token() {
                Err(error) => return error,
                Ok((Token::Eof, _)) => panic!("{source:?} lexed without error"),
                Ok(_) => {}
            }
        }
    }

    #[test]
    fn words_blanks_and_separators() {
        assert_eq!(
            tokens("echo a\tb\r;c & d&&e||f\n"),
            vec![
                word("echo"),
                word("a"),
                word("b"),
                Token::Semicolon,
                word("c"),
                Token::Ampersand,
                word("d"),
                Token::AndAnd,
                word("e"),
                Token::OrOr,
                word("f"),
                Token::Newline
            ]
        );
        // Characters that are special elsewhere are word characters in sh.
        assert_eq!(
            tokens("a\\b ~!@%,./-+:x] é*?[z"),
            vec![word("a\\b"), word("~!@%,./-+:x]"), word("é*?[z")]
        );
    }

    #[test]
    fn comments_start_anywhere_outside_quotes() {
        assert_eq!(
            tokens("a#b c\nd # e"),
            vec![word("a"), Token::Newline, word("d")]
        );
        assert_eq!(tokens("'a#b'"), vec![quoted("a#b")]);
        assert_eq!(tokens("# only\n"), vec![Token::Newline]);
    }

    #[test]
    fn equals_and_colon_equals() {
        assert_eq!(
            tokens("x=1"),
            vec![word("x"), Token::Assign { local: false }, word("1")]
        );
        assert_eq!(
            tokens("x:=1"),
            vec![word("x"), Token::Assign { local: true }, word("1")]
        );
        assert_eq!(
            tokens("a:b x::=1"),
            vec![
                word("a:b"),
                word("x:"),
                Token::Assign { local: true },
                word("1")
            ]
        );
        assert_eq!(
            tokens(":= :"),
            vec![Token::Assign { local: true }, word(":")]
        );
    }

    #[test]
    fn quoted_words_double_their_quotes() {
        assert_eq!(
            tokens("'it''s' '' ''''"),
            vec![quoted("it's"), quoted(""), quoted("'")]
        );
        assert_eq!(tokens("'a\nb' c"), vec![quoted("a\nb"), word("c")]);
    }

    #[test]
    fn free_carets_follow_sh_y() {
        let caret = Token::Caret;
        let dollar = Token::Dollar(VarKind::Value);
        // -$flags $stem.b, the manual's example.
        assert_eq!(
            tokens("-$flags $stem.b"),
            vec![
                word("-"),
                caret.clone(),
                dollar.clone(),
                word("flags"),
                dollar.clone(),
                word("stem"),
                caret.clone(),
                word(".b")
            ]
        );
        assert_eq!(
            tokens("a'b'c"),
            vec![
                word("a"),
                caret.clone(),
                quoted("b"),
                caret.clone(),
                word("c")
            ]
        );
        assert_eq!(
            tokens("$x$y"),
            vec![
                dollar.clone(),
                word("x"),
                caret.clone(),
                dollar.clone(),
                word("y")
            ]
        );
        assert_eq!(
            tokens("a`{b}\"{c}"),
            vec![
                word("a"),
                caret.clone(),
                Token::Backquote { join: false },
                Token::LeftBrace,
                word("b"),
                Token::RightBrace,
                Token::Backquote { join: true },
                Token::LeftBrace,
                word("c"),
                Token::RightBrace
            ]
        );
        // No caret after a bracket, before a bracket, or across a blank.
        assert_eq!(
            tokens("a{b}c (d)e f $g"),
            vec![
                word("a"),
                Token::LeftBrace,
                word("b"),
                Token::RightBrace,
                word("c"),
                Token::LeftParen,
                word("d"),
                Token::RightParen,
                word("e"),
                word("f"),
                dollar,
                word("g")
            ]
        );
    }

    #[test]
    fn names_after_dollar() {
        let dollar = Token::Dollar(VarKind::Value);
        assert_eq!(
            tokens("$a_1*x-y"),
            vec![dollar.clone(), word("a_1*x"), Token::Caret, word("-y")]
        );
        assert_eq!(
            tokens("$#x $\"y $*"),
            vec![
                Token::Dollar(VarKind::Count),
                word("x"),
                Token::Dollar(VarKind::Join),
                word("y"),
                dollar.clone(),
                word("*")
            ]
        );
        // The first character is taken whatever it is; then only [A-Za-z0-9_*].
        assert_eq!(
            tokens("$.x.y"),
            vec![dollar.clone(), word(".x"), Token::Caret, word(".y")]
        );
        assert_eq!(tokens("$éa"), vec![dollar.clone(), word("éa")]);
        // A blank after `$` ends the name rule: the operand is an ordinary word.
        assert_eq!(tokens("$ x-y"), vec![dollar.clone(), word("x-y")]);
        assert_eq!(tokens("$$x"), vec![dollar.clone(), dollar, word("x")]);
    }

    #[test]
    fn redirections() {
        use RedirKind::*;
        assert_eq!(
            tokens("<a >b >>c <>d"),
            vec![
                Token::Redir {
                    kind: Read,
                    fd: None
                },
                word("a"),
                Token::Redir {
                    kind: Write,
                    fd: None
                },
                word("b"),
                Token::Redir {
                    kind: Append,
                    fd: None
                },
                word("c"),
                Token::Redir {
                    kind: ReadWrite,
                    fd: None
                },
                word("d")
            ]
        );
        assert_eq!(
            tokens(">[2]e <[0=3] >[2=1] >>[5]f >[]g"),
            vec![
                Token::Redir {
                    kind: Write,
                    fd: Some(2)
                },
                word("e"),
                Token::Dup {
                    kind: Read,
                    fd: 0,
                    to: 3
                },
                Token::Dup {
                    kind: Write,
                    fd: 2,
                    to: 1
                },
                Token::Redir {
                    kind: Append,
                    fd: Some(5)
                },
                word("f"),
                Token::Redir {
                    kind: Write,
                    fd: None
                },
                word("g")
            ]
        );
        assert_eq!(
            tokens("<<"),
            vec![
                Token::Redir {
                    kind: Read,
                    fd: None
                },
                Token::Redir {
                    kind: Read,
                    fd: None
                }
            ]
        );
        assert_eq!(
            tokens("a>b"),
            vec![
                word("a"),
                Token::Redir {
                    kind: Write,
                    fd: None
                },
                word("b")
            ]
        );
    }

    #[test]
    fn pipes_resolve_descriptors_like_walkpipeline() {
        let pipe = |from_fd, to_fd| Token::Pipe(PipeLink { from_fd, to_fd });
        assert_eq!(tokens("|"), vec![pipe(1, 0)]);
        assert_eq!(tokens("|[2]"), vec![pipe(2, 0)]);
        assert_eq!(tokens("|[2=3]"), vec![pipe(2, 3)]);
        assert_eq!(tokens("|[]"), vec![pipe(1, 0)]);
        assert_eq!(tokens("|[=]"), vec![pipe(1, 0)]);
        assert_eq!(tokens("|[4=]"), vec![pipe(4, 0)]);
        assert_eq!(tokens("|[=5]"), vec![pipe(5, 0)]);
        assert_eq!(tokens("| [x]"), vec![pipe(1, 0), word("[x]")]);
    }

    #[test]
    fn descriptor_errors() {
        assert_eq!(lex_error(">[x]").kind(), &ErrorKind::BadRedirection);
        assert_eq!(lex_error(">[2=]").kind(), &ErrorKind::BadRedirection);
        assert_eq!(lex_error(">[=1]").kind(), &ErrorKind::BadRedirection);
        assert_eq!(
            lex_error(">[99999999999]").kind(),
            &ErrorKind::BadRedirection
        );
        assert_eq!(lex_error("|[a]").kind(), &ErrorKind::BadPipe);
        assert_eq!(lex_error("\n\n>[1\n]").line(), 3);
        // Found by fuzzing: the lexer stepped into the middle of a character after a bad
        // descriptor and then cut a word there.
        let mut lexer = Lexer::new(">[é]x");
        assert!(lexer.next_token().is_err());
        while lexer
            .next_token()
            .is_ok_and(|(token, _)| token != Token::Eof)
        {}
        for incomplete in [">[", ">[1", ">[1=", ">[1=2", "|[", "|[3="] {
            assert_eq!(
                lex_error(incomplete).kind(),
                &ErrorKind::UnexpectedEnd,
                "{incomplete:?}"
            );
        }
    }

    #[test]
    fn unterminated_quote_reports_its_first_line() {
        let error = lex_error("a\nb 'c\nd\n");
        assert_eq!(error.kind(), &ErrorKind::UnterminatedQuote);
        assert_eq!(error.line(), 2);
        assert!(error.is_incomplete());
    }

    #[test]
    fn lines_are_counted_through_quotes() {
        let mut lexer = Lexer::new("a\n'b\nc'\nd");
        let mut lines = Vec::new();
        loop {
            let (token, line) = lexer.next_token().unwrap();
            if token == Token::Eof {
                break;
            }
            lines.push(line);
        }
        assert_eq!(lines, vec![1, 1, 2, 3, 4]);
    }

    #[test]
    fn describe_matches_source() {
        for source in ["|[2=3]", ">[2=1]", "<[4]", ":=", "$\"", "'a''b'", "&&"] {
            assert_eq!(tokens(source)[0].describe(), source);
        }
    }
}
