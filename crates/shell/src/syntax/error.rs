//! Parse errors: what went wrong, on which line, and whether more input could fix it.
//!
//! Ancestor: `YYLEX.error` and `doparse` in Inferno's `appl/cmd/sh/sh.y`, which keep the first
//! error's text and line (`l.err`, `l.errline`) and print `path:line: message`. The shell
//! adds the path; we give `line N: message`. Inferno's interactive loop never has to ask
//! whether an error is final, because its lexer simply reads another line whenever the grammar
//! wants more; our parser is handed a finished string, so the error itself says whether the
//! text stopped inside an open construct ([`ParseError::is_incomplete`]) and a prompt can ask
//! for a continuation line.

use std::fmt;

/// A syntax error and the line (counted from 1) it was found on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    line: usize,
    kind: ErrorKind,
}

/// The kinds of syntax error. The first three are "incomplete": the input ended where more
/// text could have made it valid.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a `{` or `(` opened on the error's line: "unmatched '{'".
    Unclosed(char),
    /// The input ended inside a `'...'` that began on the error's line.
    UnterminatedQuote,
    /// The input ended after an operator that needs something after it (`a |`, `x^`,
    /// `a &&`, `>[2`) outside any bracket.
    UnexpectedEnd,
    /// A `}` or `)` that closes nothing.
    Unmatched(char),
    /// A token that cannot come where it does; holds the token as written, or `newline`.
    Near(String),
    /// A malformed `>[...]` descriptor part, e.g. `>[x]`, `>[2=]` or a number too large.
    BadRedirection,
    /// A malformed `|[...]`.
    BadPipe,
    /// `${...}` that is not one simple command of words.
    BadSubstitution,
    /// A redirection inside `${...}`.
    SubstitutionRedirection,
    /// Brackets, `$`/`` ` `` operators or `&&`/`||` chains nested deeper than
    /// [`super::MAX_DEPTH`].
    TooDeep,
}

impl ParseError {
    pub(crate) fn new(line: usize, kind: ErrorKind) -> ParseError {
        ParseError { line, kind }
    }

    /// The line the problem was found on, counted from 1. For an unclosed bracket or quote it
    /// is the line where that bracket or quote opened.
    pub fn line(&self) -> usize {
        self.line
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// True when the input ended inside an open construct (an unclosed `{`, `(` or `'`, or
    /// right after `|`, `^`, `&&` or `||`), so that appending more lines could make it parse.
    /// An interactive prompt should then read a continuation line rather than report.
    pub fn is_incomplete(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Unclosed(_) | ErrorKind::UnterminatedQuote | ErrorKind::UnexpectedEnd
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Unclosed(bracket) | ErrorKind::Unmatched(bracket) => {
                write!(f, "unmatched '{bracket}'")
            }
            // sh.y's wording.
            ErrorKind::UnterminatedQuote => f.write_str("unterminated string literal"),
            ErrorKind::UnexpectedEnd => f.write_str("unexpected end of input"),
            ErrorKind::Near(token) if token == "newline" => {
                f.write_str("syntax error near newline")
            }
            ErrorKind::Near(token) => write!(f, "syntax error near '{token}'"),
            ErrorKind::BadRedirection => f.write_str("syntax error in redirection"),
            ErrorKind::BadPipe => f.write_str("syntax error in pipe redirection"),
            // The manual's rule, in sh.y's runtime wording.
            ErrorKind::BadSubstitution => f.write_str("invalid argument to ${} operator"),
            ErrorKind::SubstitutionRedirection => {
                f.write_str("redirection not allowed in substitution")
            }
            ErrorKind::TooDeep => write!(
                f,
                "nested too deeply (more than {} levels)",
                super::MAX_DEPTH
            ),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_line() {
        let cases = [
            (ErrorKind::Unclosed('{'), "line 3: unmatched '{'"),
            (ErrorKind::Unmatched(')'), "line 3: unmatched ')'"),
            (
                ErrorKind::UnterminatedQuote,
                "line 3: unterminated string literal",
            ),
            (ErrorKind::UnexpectedEnd, "line 3: unexpected end of input"),
            (ErrorKind::Near("|".into()), "line 3: syntax error near '|'"),
            (
                ErrorKind::Near("newline".into()),
                "line 3: syntax error near newline",
            ),
            (
                ErrorKind::BadRedirection,
                "line 3: syntax error in redirection",
            ),
            (
                ErrorKind::BadPipe,
                "line 3: syntax error in pipe redirection",
            ),
            (
                ErrorKind::BadSubstitution,
                "line 3: invalid argument to ${} operator",
            ),
            (
                ErrorKind::SubstitutionRedirection,
                "line 3: redirection not allowed in substitution",
            ),
        ];
        for (kind, text) in cases {
            assert_eq!(ParseError::new(3, kind).to_string(), text);
        }
        let too_deep = format!(
            "line 3: nested too deeply (more than {} levels)",
            super::super::MAX_DEPTH
        );
        assert_eq!(ParseError::new(3, ErrorKind::TooDeep).to_string(), too_deep);
    }

    #[test]
    fn only_end_of_input_errors_are_incomplete() {
        let incomplete = [
            ErrorKind::Unclosed('('),
            ErrorKind::UnterminatedQuote,
            ErrorKind::UnexpectedEnd,
        ];
        for kind in incomplete {
            assert!(ParseError::new(1, kind).is_incomplete());
        }
        let complete = [
            ErrorKind::Unmatched('}'),
            ErrorKind::Near(";".into()),
            ErrorKind::BadRedirection,
            ErrorKind::TooDeep,
        ];
        for kind in complete {
            assert!(!ParseError::new(1, kind).is_incomplete());
        }
    }
}
