//! The recursive-descent parser of `sh`: tokens in, a [`Script`] out.
//!
//! Ancestor: the yacc grammar in Inferno's `appl/cmd/sh/sh.y`. Its rules, in the form
//! implemented here (`[x]` optional, `{x}` repeated, `nl` a run of newlines):
//!
//! ```text
//! script   = { stmt (';' | '&' | newline) }          empty statements are skipped
//! stmt     = or
//! or       = and { '||' [nl] and }                    && binds tighter than ||
//! and      = pipeline { '&&' [nl] pipeline }
//! pipeline = command { '|' [nl] command }             '|' may carry [n] or [n=m]
//! command  = { redir } word '=' assign                only without leading redirections
//!          | { redir } word { word | redir }
//!          | redir { redir }
//! assign   = word ('=' | ':=') assign | [ word { word | redir } ]
//! redir    = ('<' | '>' | '>>' | '<>') ['[n]'] word | ('<' | '>' ...) '[n=m]'
//! word     = comword { '^' [nl] comword }             free carets come from the lexer
//! comword  = WORD | '$' comword | '$#' comword | '$"' comword | '`' comword | '"' comword
//!          | '(' [nl] { (word | redir) [nl] } ')' | '{' script '}'
//! ```
//!
//! Where this parser and sh.y part ways, it is to refuse at parse time what sh.y accepts but
//! can never run, or to refuse an empty command that sh.y silently accepts:
//! - sh.y lets either side of `|`, `&&` and `||` be empty (`a &&` is `and {a} {}`, and `| b`
//!   reads from a closed pipe) and lets `&` follow nothing; we report a syntax error there,
//!   and, since the right side is required, allow newlines after `&&` and `||` as sh.y does
//!   after `|`. A line ending in one of the three is therefore incomplete, not complete.
//! - `>f x=1` (a redirection before an assignment) always fails in sh.y ("assignment in
//!   invalid context"); here it is a syntax error near `=`.
//! - `${...}` must hold one simple command of words (the manual's rule, checked by sh.y only
//!   when the substitution runs).
//! - `>[n=]` and `>[=m]` always fail in sh.y ("invalid dup"); here they are syntax errors.
//! - sh.y's list rule cannot start with a redirection (`(>f a)`); we accept one anywhere in a
//!   list, since it is harmless and the printer may produce it from a built tree.
//!
//! Invariants: every construct that recurses (`{`, `(`, `$`, `` ` ``, `"`, `&&`, `||`) counts
//! towards [`MAX_DEPTH`], so no input overflows the stack; every other repetition is a loop;
//! the parser reads each token once, so time is linear in the input.

use std::sync::Arc;

use super::MAX_DEPTH;

/// Stack the parser leaves unused on a process's thread: enough for what runs after it
/// gives up (the error's report).
const STACK_RESERVE: usize = 256 << 10;
use super::ast::{
    Assign, Command, Item, Node, Part, PipeLink, Pipeline, Redir, Script, Stmt, Target, VarKind,
    Word,
};
use super::error::{ErrorKind, ParseError};
use super::lexer::{Lexer, Token};

/// Internal results carry the error boxed: a small `Err` keeps the stack frames on the
/// recursive path small in debug builds, where every temporary gets its own slot.
type Parsed<T> = Result<T, Box<ParseError>>;

/// Where a statement list stops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// At the end of the input: a whole script.
    Input,
    /// At a `}`, which the caller consumes: a block body.
    Brace,
    /// At the first newline after a statement, or the end of input: one line of a script, as
    /// Inferno's interactive loop reads them.
    Line,
}

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The lookahead token; [`Token::Invalid`] after the lexer failed.
    token: Token,
    /// The line `token` starts on.
    line: usize,
    /// Nesting of recursive constructs, checked against [`MAX_DEPTH`].
    depth: usize,
    /// The `{` and `(` still open, with their lines, for "unmatched" errors.
    open: Vec<(char, usize)>,
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Parser<'a> {
        Parser {
            lexer: Lexer::new(source),
            token: Token::Invalid,
            line: 1,
            depth: 0,
            open: Vec::new(),
        }
    }

    /// Move to the next token.
    fn advance(&mut self) -> Parsed<()> {
        match self.lexer.next_token() {
            Ok((token, line)) => {
                self.token = token;
                self.line = line;
                Ok(())
            }
            Err(error) => {
                self.token = Token::Invalid;
                self.line = self.lexer.line();
                // Running out of input in a redirection's brackets inside a block is best
                // reported as the block left open.
                match (error.kind(), self.open.last()) {
                    (ErrorKind::UnexpectedEnd, Some(&(bracket, line))) => Err(Box::new(
                        ParseError::new(line, ErrorKind::Unclosed(bracket)),
                    )),
                    _ => Err(Box::new(error)),
                }
            }
        }
    }

    /// Take the lookahead (to move its contents into the tree) and advance.
    fn take(&mut self) -> Parsed<Token> {
        let token = std::mem::replace(&mut self.token, Token::Invalid);
        self.advance()?;
        Ok(token)
    }

    fn skip_newlines(&mut self) -> Parsed<()> {
        while self.token == Token::Newline {
            self.advance()?;
        }
        Ok(())
    }

    /// One more level of nesting.
    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        // Deep enough by count, or by what is left of the stack of a process that is already
        // deep in shells inside shells.
        let stack_low = kernel::proc::stack_left().is_some_and(|left| left < STACK_RESERVE);
        if self.depth > MAX_DEPTH || stack_low {
            return Err(Box::new(ParseError::new(self.line, ErrorKind::TooDeep)));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// The error for a lookahead that cannot come here.
    fn unexpected(&self) -> Box<ParseError> {
        let innermost = self.open.last().copied();
        let kind = match (&self.token, innermost) {
            (Token::Eof, Some((bracket, line))) => {
                return Box::new(ParseError::new(line, ErrorKind::Unclosed(bracket)));
            }
            (Token::Eof, None) => ErrorKind::UnexpectedEnd,
            (Token::RightBrace, open) if !matches!(open, Some(('{', _))) => {
                ErrorKind::Unmatched('}')
            }
            (Token::RightParen, open) if !matches!(open, Some(('(', _))) => {
                ErrorKind::Unmatched(')')
            }
            (token, _) => ErrorKind::Near(token.describe()),
        };
        Box::new(ParseError::new(self.line, kind))
    }

    /// `script`: statements up to `end`. For [`End::Brace`] the `}` is left as the lookahead;
    /// for [`End::Line`] so is the newline, so that nothing past the line is read.
    ///
    /// This function and the others on the path from one `{` to the next (`statement`,
    /// `pipeline`, `command`, `word`, `comword`, `block`) keep few locals and push what they
    /// build into their caller's vector, leaving the assembly of tree nodes to helpers that
    /// run after the recursion has returned: a debug build gives every local and temporary
    /// its own stack slot, and [`MAX_DEPTH`] levels must fit a 2 MiB thread stack.
    fn statements(&mut self, end: End) -> Parsed<Script> {
        let mut stmts = Vec::new();
        while self.skip_empty(end, !stmts.is_empty())? {
            self.statement(&mut stmts)?;
            self.terminator(end, &mut stmts)?;
        }
        Ok(Script(stmts))
    }

    /// Skip empty statements; false when the statement list has ended.
    fn skip_empty(&mut self, end: End, any: bool) -> Parsed<bool> {
        loop {
            match self.token {
                Token::Semicolon => self.advance()?,
                Token::Newline if end == End::Line && any => return Ok(false),
                Token::Newline => self.advance()?,
                Token::Eof if end == End::Brace => return Err(self.unexpected()),
                Token::Eof => return Ok(false),
                Token::RightBrace if end == End::Brace => return Ok(false),
                _ => return Ok(true),
            }
        }
    }

    /// What ends a statement; `&` marks the statement just pushed as background.
    fn terminator(&mut self, end: End, stmts: &mut [Stmt]) -> Parsed<()> {
        match self.token {
            Token::Semicolon => self.advance(),
            Token::Ampersand => {
                if let Some(stmt) = stmts.last_mut() {
                    stmt.background = true;
                }
                self.advance()
            }
            Token::Newline | Token::Eof => Ok(()),
            Token::RightBrace if end == End::Brace => Ok(()),
            _ => Err(self.unexpected()),
        }
    }

    /// `or` and `and`: pipelines joined by `&&` and `||`, pushed as one statement. Every
    /// operator of a statement adds a level to the tree (sh.y nests a block per operator), so
    /// each counts towards the depth until the statement ends.
    fn statement(&mut self, stmts: &mut Vec<Stmt>) -> Parsed<()> {
        let depth = self.depth;
        // Each pipeline with whether `||` (rather than `&&`) came before it.
        let mut chain = Vec::new();
        let mut or = false;
        loop {
            self.pipeline(&mut chain, or)?;
            match self.and_or()? {
                Some(next) => or = next,
                None => break,
            }
        }
        self.depth = depth;
        push_statement(stmts, chain);
        Ok(())
    }

    /// Step over `&&` or `||` if the lookahead is one: `Some(true)` for `||`.
    fn and_or(&mut self) -> Parsed<Option<bool>> {
        let or = match self.token {
            Token::AndAnd => false,
            Token::OrOr => true,
            _ => return Ok(None),
        };
        self.operator()?;
        Ok(Some(or))
    }

    /// Step over `&&` or `||` and the newlines allowed after it.
    fn operator(&mut self) -> Parsed<()> {
        self.advance()?;
        self.enter()?;
        self.skip_newlines()
    }

    /// Commands joined by `|`, pushed onto `chain` with `or`.
    fn pipeline(&mut self, chain: &mut Vec<(bool, Pipeline)>, or: bool) -> Parsed<()> {
        let mut stages = Vec::new();
        let mut link = PipeLink::default();
        loop {
            self.command(&mut stages, link)?;
            match self.pipe()? {
                Some(next) => link = next,
                None => break,
            }
        }
        push_pipeline(chain, or, stages);
        Ok(())
    }

    /// Step over a `|` and the newlines after it, if the lookahead is one.
    fn pipe(&mut self) -> Parsed<Option<PipeLink>> {
        let Token::Pipe(link) = self.token else {
            return Ok(None);
        };
        self.advance()?;
        self.skip_newlines()?;
        Ok(Some(link))
    }

    /// One command, pushed onto `stages` with the link that feeds it.
    fn command(&mut self, stages: &mut Vec<(PipeLink, Command)>, link: PipeLink) -> Parsed<()> {
        let mut items = Vec::new();
        self.redirections(&mut items)?;
        if !self.token.starts_word() {
            return self.redirections_only(stages, link, items);
        }
        self.word_item(&mut items)?;
        if let Some(local) = self.assign_operator(&items) {
            return self.assignment(stages, link, items, local);
        }
        self.items(&mut items)?;
        push_command(stages, link, Ok(items));
        Ok(())
    }

    /// Leading redirections of a command.
    fn redirections(&mut self, items: &mut Vec<Item>) -> Parsed<()> {
        while self.token.starts_redirection() {
            self.redirection_item(items)?;
        }
        Ok(())
    }

    /// A command of redirections only, which must have at least one.
    fn redirections_only(
        &self,
        stages: &mut Vec<(PipeLink, Command)>,
        link: PipeLink,
        items: Vec<Item>,
    ) -> Parsed<()> {
        if items.is_empty() {
            return Err(self.unexpected());
        }
        push_command(stages, link, Ok(items));
        Ok(())
    }

    /// `Some(local)` if the lookahead makes the one word read so far an assignment target,
    /// which it can only be at the start of a command.
    fn assign_operator(&self, items: &[Item]) -> Option<bool> {
        match (&self.token, items) {
            (Token::Assign { local }, [Item::Word(_)]) => Some(*local),
            _ => None,
        }
    }

    /// Words and redirections, as many as there are.
    fn items(&mut self, items: &mut Vec<Item>) -> Parsed<()> {
        loop {
            if self.token.starts_word() {
                self.word_item(items)?;
            } else if self.token.starts_redirection() {
                self.redirection_item(items)?;
            } else {
                return Ok(());
            }
        }
    }

    fn word_item(&mut self, items: &mut Vec<Item>) -> Parsed<()> {
        let word = self.word()?;
        items.push(Item::Word(word));
        Ok(())
    }

    fn redirection_item(&mut self, items: &mut Vec<Item>) -> Parsed<()> {
        let redir = self.redirection()?;
        items.push(Item::Redir(redir));
        Ok(())
    }

    /// `assign`, pushed onto `stages`: `first` holds the first target and the lookahead is
    /// its `=` or `:=`.
    fn assignment(
        &mut self,
        stages: &mut Vec<(PipeLink, Command)>,
        link: PipeLink,
        first: Vec<Item>,
        local: bool,
    ) -> Parsed<()> {
        let mut targets = Vec::new();
        push_target(&mut targets, first, local);
        self.advance()?;
        let mut value = Vec::new();
        while self.token.starts_word() {
            self.word_item(&mut value)?;
            if let Token::Assign { local } = self.token {
                push_target(&mut targets, std::mem::take(&mut value), local);
                self.advance()?;
                continue;
            }
            self.items(&mut value)?;
            break;
        }
        push_command(stages, link, Err(Assign { targets, value }));
        Ok(())
    }

    fn redirection(&mut self) -> Parsed<Redir> {
        match self.take()? {
            Token::Redir { kind, fd } => {
                if !self.token.starts_word() {
                    return Err(self.unexpected());
                }
                Ok(Redir::File {
                    kind,
                    fd,
                    target: self.word()?,
                })
            }
            Token::Dup { kind, fd, to } => Ok(Redir::Dup { kind, fd, to }),
            _ => unreachable!("redirection() is called only on a redirection token"),
        }
    }

    fn word(&mut self) -> Parsed<Word> {
        let mut parts = Vec::new();
        self.comword(&mut parts)?;
        while self.caret()? {
            self.comword(&mut parts)?;
        }
        Ok(Word(parts))
    }

    /// Step over a `^` and the newlines after it, if the lookahead is one, and check that a
    /// word follows.
    fn caret(&mut self) -> Parsed<bool> {
        if self.token != Token::Caret {
            return Ok(false);
        }
        self.advance()?;
        self.skip_newlines()?;
        if !self.token.starts_word() {
            return Err(self.unexpected());
        }
        Ok(true)
    }

    /// `comword`: one operand of `^`, pushed onto `parts`.
    fn comword(&mut self, parts: &mut Vec<Part>) -> Parsed<()> {
        match self.token {
            Token::Word { .. } => self.literal(parts),
            Token::Dollar(kind) => self.dollar(kind, parts),
            Token::Backquote { join } => self.backquote(join, parts),
            Token::LeftParen => self.list(parts),
            Token::LeftBrace => self.block(parts),
            _ => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, parts: &mut Vec<Part>) -> Parsed<()> {
        if let Token::Word { text, quoted } = self.take()? {
            parts.push(Part::Lit { text, quoted });
        }
        Ok(())
    }

    /// `$`, `$#` or `$"` and its operand.
    fn dollar(&mut self, kind: VarKind, parts: &mut Vec<Part>) -> Parsed<()> {
        let line = self.line;
        let operand = self.operand()?;
        push_dollar(parts, kind, operand, line)
    }

    fn backquote(&mut self, join: bool, parts: &mut Vec<Part>) -> Parsed<()> {
        let command = self.operand()?;
        parts.push(Part::Backquote { join, command });
        Ok(())
    }

    /// Step over an operator (`$`, `` ` ``, ...) and parse what it applies to. Blanks may come
    /// between them, newlines may not.
    fn operand(&mut self) -> Parsed<Box<Part>> {
        self.advance()?;
        self.enter()?;
        if !self.token.starts_word() {
            return Err(self.unexpected());
        }
        let mut operand = Vec::with_capacity(1);
        self.comword(&mut operand)?;
        self.leave();
        Ok(Box::new(operand.pop().expect("comword pushes one part")))
    }

    /// `( ... )`, whose items may be separated by newlines.
    fn list(&mut self, parts: &mut Vec<Part>) -> Parsed<()> {
        self.open_bracket('(')?;
        let mut items = Vec::new();
        while self.list_goes_on()? {
            self.items(&mut items)?;
        }
        self.close_bracket()?;
        parts.push(Part::List(items));
        Ok(())
    }

    /// Skip newlines in a list; false at its `)`.
    fn list_goes_on(&mut self) -> Parsed<bool> {
        self.skip_newlines()?;
        match self.token {
            Token::RightParen => Ok(false),
            ref token if token.starts_word() || token.starts_redirection() => Ok(true),
            _ => Err(self.unexpected()),
        }
    }

    /// `{ ... }`.
    fn block(&mut self, parts: &mut Vec<Part>) -> Parsed<()> {
        self.open_bracket('{')?;
        let body = self.statements(End::Brace)?;
        self.close_bracket()?;
        parts.push(Part::Block(Arc::new(body)));
        Ok(())
    }

    fn open_bracket(&mut self, bracket: char) -> Parsed<()> {
        self.open.push((bracket, self.line));
        self.advance()?;
        self.enter()
    }

    /// Step over the `}` or `)` that is the lookahead.
    fn close_bracket(&mut self) -> Parsed<()> {
        self.open.pop();
        self.leave();
        self.advance()
    }

    /// After an error, skip to the end of the line, as sh.y's `error end` rule does.
    fn recover(&mut self) {
        while !matches!(self.token, Token::Newline | Token::Eof) {
            // A lexer error leaves `Invalid` and the loop goes on; the lexer always moves.
            let _ = self.advance();
        }
    }
}

/// Build the tree of one statement from its pipelines, each with whether `||` came before
/// it: `&&` binds tighter than `||`, and both associate to the left.
fn push_statement(stmts: &mut Vec<Stmt>, chain: Vec<(bool, Pipeline)>) {
    let mut alternatives: Option<Node> = None;
    let mut current: Option<Node> = None;
    for (or, pipeline) in chain {
        let right = Node::Pipeline(pipeline);
        current = Some(match current {
            None => right,
            Some(left) if or => {
                alternatives = Some(match alternatives {
                    Some(before) => Node::Or(Box::new(before), Box::new(left)),
                    None => left,
                });
                right
            }
            Some(left) => Node::And(Box::new(left), Box::new(right)),
        });
    }
    let Some(last) = current else { return };
    let node = match alternatives {
        Some(before) => Node::Or(Box::new(before), Box::new(last)),
        None => last,
    };
    stmts.push(Stmt {
        node,
        background: false,
    });
}

/// Append a pipeline built from its commands, each with the link that feeds it (the first
/// command's link is unused).
fn push_pipeline(chain: &mut Vec<(bool, Pipeline)>, or: bool, stages: Vec<(PipeLink, Command)>) {
    let mut stages = stages.into_iter();
    if let Some((_, first)) = stages.next() {
        chain.push((
            or,
            Pipeline {
                first,
                rest: stages.collect(),
            },
        ));
    }
}

/// Append a command: a simple command's items, or an assignment.
fn push_command(
    stages: &mut Vec<(PipeLink, Command)>,
    link: PipeLink,
    command: Result<Vec<Item>, Assign>,
) {
    let command = match command {
        Ok(items) => Command::Simple(items),
        Err(assign) => Command::Assign(assign),
    };
    stages.push((link, command));
}

/// Append an assignment target: the single word in `items`.
fn push_target(targets: &mut Vec<Target>, items: Vec<Item>, local: bool) {
    if let Some(Item::Word(word)) = items.into_iter().next() {
        targets.push(Target { word, local });
    }
}

/// Append the part for `$` applied to `operand`: a variable for a literal, a substitution
/// call for a block, and an indirection for anything else.
fn push_dollar(
    parts: &mut Vec<Part>,
    kind: VarKind,
    operand: Box<Part>,
    line: usize,
) -> Parsed<()> {
    parts.push(match *operand {
        Part::Lit { text, .. } => Part::Var { kind, name: text },
        Part::Block(script) => Part::Subst {
            kind,
            words: call(Arc::unwrap_or_clone(script), line)?,
        },
        _ => Part::Indirect { kind, operand },
    });
    Ok(())
}

/// The words of a `${...}` body, which must be one simple command with no redirections.
fn call(script: Script, line: usize) -> Parsed<Vec<Word>> {
    let bad = || Box::new(ParseError::new(line, ErrorKind::BadSubstitution));
    let mut stmts = script.0;
    let stmt = match stmts.pop() {
        Some(stmt) if stmts.is_empty() && !stmt.background => stmt,
        _ => return Err(bad()),
    };
    let items = match stmt.node {
        Node::Pipeline(Pipeline {
            first: Command::Simple(items),
            rest,
        }) if rest.is_empty() => items,
        _ => return Err(bad()),
    };
    items
        .into_iter()
        .map(|item| match item {
            Item::Word(word) => Ok(word),
            Item::Redir(_) => Err(Box::new(ParseError::new(
                line,
                ErrorKind::SubstitutionRedirection,
            ))),
        })
        .collect()
}

/// Parse a whole script.
pub(crate) fn parse_script(source: &str) -> Result<Script, ParseError> {
    let mut parser = Parser::new(source);
    parser
        .advance()
        .and_then(|()| parser.statements(End::Input))
        .map_err(|error| *error)
}

/// The lines of a script, parsed one at a time: the iterator behind [`super::parse_lines`].
///
/// Inferno's sh reads a script a line at a time (sh.y's start rule is one `line` and then a
/// newline) and runs each before parsing the next, so a syntax error on line 10 is found only
/// after lines 1 to 9 have run, and after an error it skips to the end of the line and goes on
/// (`error end`). This iterator gives the evaluator the same: each item is the statements of
/// one line, where a line goes on through open braces, parentheses, quotes, and newlines after
/// `|`, `^`, `&&` and `||`. Blank lines yield nothing.
pub struct Lines<'a> {
    parser: Parser<'a>,
    started: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(source: &'a str) -> Lines<'a> {
        Lines {
            parser: Parser::new(source),
            started: false,
        }
    }
}

impl std::fmt::Debug for Lines<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines")
            .field("line", &self.parser.line)
            .finish_non_exhaustive()
    }
}

impl Iterator for Lines<'_> {
    type Item = Result<Script, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let parser = &mut self.parser;
        if !self.started {
            self.started = true;
            if let Err(error) = parser.advance() {
                parser.recover();
                return Some(Err(*error));
            }
        }
        if parser.token == Token::Eof {
            return None;
        }
        parser.depth = 0;
        parser.open.clear();
        match parser.statements(End::Line) {
            // Only blank lines were left.
            Ok(script) if script.0.is_empty() => None,
            Ok(script) => Some(Ok(script)),
            Err(error) => {
                parser.recover();
                Some(Err(*error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ast::RedirKind;
    use super::*;

    fn parse(source: &str) -> Script {
        parse_script(source).unwrap_or_else(|e| panic!("{source:?}: {e}"))
    }

    fn error(source: &str) -> ParseError {
        match parse_script(source) {
            Ok(script) => panic!("{source:?} parsed as {script:?}"),
            Err(error) => error,
        }
    }

    fn lit(text: &str) -> Part {
        Part::Lit {
            text: text.into(),
            quoted: false,
        }
    }

    fn quoted(text: &str) -> Part {
        Part::Lit {
            text: text.into(),
            quoted: true,
        }
    }

    fn var(name: &str) -> Part {
        Part::Var {
            kind: VarKind::Value,
            name: name.into(),
        }
    }

    fn word(parts: Vec<Part>) -> Item {
        Item::Word(Word(parts))
    }

    fn w(text: &str) -> Item {
        Item::Word(Word::lit(text))
    }

    fn simple(items: Vec<Item>) -> Node {
        Node::simple(items)
    }

    fn stmt(node: Node) -> Stmt {
        Stmt {
            node,
            background: false,
        }
    }

    /// The only command of a one-statement script.
    fn only_command(source: &str) -> Command {
        let script = parse(source);
        assert_eq!(script.0.len(), 1, "{source:?}");
        match &script.0[0].node {
            Node::Pipeline(Pipeline { first, rest }) if rest.is_empty() => first.clone(),
            other => panic!("{source:?} gave {other:?}"),
        }
    }

    fn only_items(source: &str) -> Vec<Item> {
        match only_command(source) {
            Command::Simple(items) => items,
            other => panic!("{source:?} gave {other:?}"),
        }
    }

    fn only_word(source: &str) -> Vec<Part> {
        match only_items(&format!("x {source}")).as_slice() {
            [_, Item::Word(Word(parts))] => parts.clone(),
            other => panic!("{source:?} gave {other:?}"),
        }
    }

    #[test]
    fn statements_and_separators() {
        let script = parse("a; b & c\nd\n\n;;e&");
        let expected = Script(vec![
            stmt(simple(vec![w("a")])),
            Stmt {
                node: simple(vec![w("b")]),
                background: true,
            },
            stmt(simple(vec![w("c")])),
            stmt(simple(vec![w("d")])),
            Stmt {
                node: simple(vec![w("e")]),
                background: true,
            },
        ]);
        assert_eq!(script, expected);
        assert_eq!(parse(""), Script::default());
        assert_eq!(parse("\n # comment only\n;\n"), Script::default());
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let [a, b, c, d] = ["a", "b", "c", "d"].map(|name| Box::new(simple(vec![w(name)])));
        assert_eq!(
            parse("a || b && c || d").0[0].node,
            Node::Or(
                Box::new(Node::Or(
                    a.clone(),
                    Box::new(Node::And(b.clone(), c.clone()))
                )),
                d.clone()
            )
        );
        assert_eq!(
            parse("a && b && c").0[0].node,
            Node::And(Box::new(Node::And(a.clone(), b.clone())), c)
        );
        // Newlines may follow the operator; the whole and/or goes to the background.
        let script = parse("a &&\n\n b &");
        assert_eq!(
            script.0,
            vec![Stmt {
                node: Node::And(a, b),
                background: true
            }]
        );
    }

    #[test]
    fn pipelines_with_descriptors() {
        let script = parse("a | b |[2] c |[3=4]\n d");
        let Node::Pipeline(pipeline) = &script.0[0].node else {
            panic!()
        };
        assert_eq!(pipeline.first, Command::Simple(vec![w("a")]));
        let links: Vec<PipeLink> = pipeline.rest.iter().map(|(link, _)| *link).collect();
        assert_eq!(
            links,
            vec![
                PipeLink {
                    from_fd: 1,
                    to_fd: 0
                },
                PipeLink {
                    from_fd: 2,
                    to_fd: 0
                },
                PipeLink {
                    from_fd: 3,
                    to_fd: 4
                }
            ]
        );
        assert_eq!(pipeline.rest[2].1, Command::Simple(vec![w("d")]));
    }

    #[test]
    fn redirections_anywhere_among_words() {
        let file = |kind, fd, name: &str| {
            Item::Redir(Redir::File {
                kind,
                fd,
                target: Word::lit(name),
            })
        };
        assert_eq!(
            only_items(">out echo <in hi >>[2]log <>rw >[1=2] <[0=3]"),
            vec![
                file(RedirKind::Write, None, "out"),
                w("echo"),
                file(RedirKind::Read, None, "in"),
                w("hi"),
                file(RedirKind::Append, Some(2), "log"),
                file(RedirKind::ReadWrite, None, "rw"),
                Item::Redir(Redir::Dup {
                    kind: RedirKind::Write,
                    fd: 1,
                    to: 2
                }),
                Item::Redir(Redir::Dup {
                    kind: RedirKind::Read,
                    fd: 0,
                    to: 3
                }),
            ]
        );
        // A redirection alone is a command; blanks may separate the operator and its file.
        assert_eq!(only_items("> f"), vec![file(RedirKind::Write, None, "f")]);
        assert_eq!(
            only_items("<[2=1]"),
            vec![Item::Redir(Redir::Dup {
                kind: RedirKind::Read,
                fd: 2,
                to: 1
            })]
        );
    }

    #[test]
    fn process_substitution_is_a_redirection_to_a_block() {
        let items = only_items("diff <{ls a} >{wc}");
        let ls = Script::of(simple(vec![w("ls"), w("a")]));
        let Item::Redir(redir) = &items[1] else {
            panic!()
        };
        assert_eq!(redir.process_substitution(), Some(&ls));
        assert_eq!(
            items[2],
            Item::Redir(Redir::File {
                kind: RedirKind::Write,
                fd: None,
                target: Word(vec![Part::Block(Arc::new(Script::of(simple(vec![w(
                    "wc"
                )]))))])
            })
        );
    }

    #[test]
    fn assignments() {
        let target = |text: &str, local| Target {
            word: Word::lit(text),
            local,
        };
        assert_eq!(
            only_command("x=1"),
            Command::Assign(Assign {
                targets: vec![target("x", false)],
                value: vec![w("1")]
            })
        );
        assert_eq!(
            only_command("x := a b c"),
            Command::Assign(Assign {
                targets: vec![target("x", true)],
                value: vec![w("a"), w("b"), w("c")]
            })
        );
        // Not an environment prefix: the rest of the command is the value.
        assert_eq!(
            only_command("x=1 echo"),
            Command::Assign(Assign {
                targets: vec![target("x", false)],
                value: vec![w("1"), w("echo")]
            })
        );
        assert_eq!(
            only_command("x="),
            Command::Assign(Assign {
                targets: vec![target("x", false)],
                value: vec![]
            })
        );
        assert_eq!(
            only_command("a = b := c"),
            Command::Assign(Assign {
                targets: vec![target("a", false), target("b", true)],
                value: vec![w("c")]
            })
        );
        let names = Word(vec![Part::List(vec![w("a"), w("b"), w("c")])]);
        assert_eq!(
            only_command("(a b c) = 1 2 3 4"),
            Command::Assign(Assign {
                targets: vec![Target {
                    word: names,
                    local: false
                }],
                value: vec![w("1"), w("2"), w("3"), w("4")]
            })
        );
        // Indirect target, block value, and the value ending at a separator.
        let script = parse("$p = {echo}; y=");
        assert_eq!(script.0.len(), 2);
        assert_eq!(
            script.0[0].node,
            Node::Pipeline(Pipeline {
                first: Command::Assign(Assign {
                    targets: vec![Target {
                        word: Word(vec![var("p")]),
                        local: false
                    }],
                    value: vec![word(vec![Part::Block(Arc::new(Script::of(simple(vec![
                        w("echo")
                    ]))))])]
                }),
                rest: vec![]
            })
        );
        // Redirections in the value are syntax, rejected only when run (as in sh.y).
        assert!(
            matches!(only_command("x = a >f"), Command::Assign(Assign { value, .. }) if value.len() == 2)
        );
    }

    #[test]
    fn words_quotes_and_carets() {
        assert_eq!(only_word("'it''s'"), vec![quoted("it's")]);
        assert_eq!(only_word("a'b'$c"), vec![lit("a"), quoted("b"), var("c")]);
        assert_eq!(only_word("-$flags"), vec![lit("-"), var("flags")]);
        assert_eq!(only_word("$stem.b"), vec![var("stem"), lit(".b")]);
        assert_eq!(only_word("a ^ b^\n\nc"), vec![lit("a"), lit("b"), lit("c")]);
        assert_eq!(only_word("*.b"), vec![lit("*.b")]);
        assert_eq!(only_word("'*.b'"), vec![quoted("*.b")]);
        assert_eq!(
            only_items("x a{b}"),
            vec![
                w("x"),
                w("a"),
                word(vec![Part::Block(Arc::new(Script::of(simple(vec![w(
                    "b"
                )]))))])
            ]
        );
    }

    #[test]
    fn dollar_forms() {
        let count = |name: &str| Part::Var {
            kind: VarKind::Count,
            name: name.into(),
        };
        let join = |name: &str| Part::Var {
            kind: VarKind::Join,
            name: name.into(),
        };
        assert_eq!(only_word("$x"), vec![var("x")]);
        assert_eq!(only_word("$#x"), vec![count("x")]);
        assert_eq!(only_word("$\"x"), vec![join("x")]);
        assert_eq!(only_word("$*"), vec![var("*")]);
        assert_eq!(only_word("$12"), vec![var("12")]);
        assert_eq!(only_word("$'odd name'"), vec![var("odd name")]);
        assert_eq!(only_word("$ a-b"), vec![var("a-b")]);
        assert_eq!(
            only_word("$$x"),
            vec![Part::Indirect {
                kind: VarKind::Value,
                operand: Box::new(var("x"))
            }]
        );
        assert_eq!(
            only_word("$#(a)"),
            vec![Part::Indirect {
                kind: VarKind::Count,
                operand: Box::new(Part::List(vec![w("a")]))
            }]
        );
    }

    #[test]
    fn substitution_calls() {
        assert_eq!(
            only_word("${hd $list}"),
            vec![Part::Subst {
                kind: VarKind::Value,
                words: vec![Word::lit("hd"), Word(vec![var("list")])]
            }]
        );
        assert_eq!(
            only_word("$#{split ' ' $x}"),
            vec![Part::Subst {
                kind: VarKind::Count,
                words: vec![Word::lit("split"), Word::quoted(" "), Word(vec![var("x")])]
            }]
        );
        // Newlines and a trailing `;` leave one command, as in sh.y.
        assert_eq!(
            only_word("${\n loaded ;\n}"),
            vec![Part::Subst {
                kind: VarKind::Value,
                words: vec![Word::lit("loaded")]
            }]
        );
        for bad in [
            "${}",
            "${a; b}",
            "${a | b}",
            "${a &}",
            "${a && b}",
            "${x = 1}",
        ] {
            let e = error(&format!("echo\n{bad}"));
            assert_eq!(
                (e.kind(), e.line()),
                (&ErrorKind::BadSubstitution, 2),
                "{bad}"
            );
        }
        assert_eq!(
            error("echo ${a >f}").kind(),
            &ErrorKind::SubstitutionRedirection
        );
    }

    #[test]
    fn command_substitution() {
        let ls = Script::of(simple(vec![w("ls")]));
        assert_eq!(
            only_word("`{ls}"),
            vec![Part::Backquote {
                join: false,
                command: Box::new(Part::Block(Arc::new(ls.clone())))
            }]
        );
        assert_eq!(
            only_word("\"{ls}"),
            vec![Part::Backquote {
                join: true,
                command: Box::new(Part::Block(Arc::new(ls)))
            }]
        );
        assert_eq!(
            only_word("`ls"),
            vec![Part::Backquote {
                join: false,
                command: Box::new(lit("ls"))
            }]
        );
        assert_eq!(
            only_word("a`{ls}"),
            vec![
                lit("a"),
                Part::Backquote {
                    join: false,
                    command: Box::new(Part::Block(Arc::new(Script::of(simple(vec![w("ls")])))))
                }
            ]
        );
    }

    #[test]
    fn lists_span_lines_and_nest_in_syntax() {
        assert_eq!(
            only_word("(a\n  (b c)\n\n d >f\n)"),
            vec![Part::List(vec![
                w("a"),
                word(vec![Part::List(vec![w("b"), w("c")])]),
                w("d"),
                Item::Redir(Redir::File {
                    kind: RedirKind::Write,
                    fd: None,
                    target: Word::lit("f")
                }),
            ])]
        );
        assert_eq!(only_word("()"), vec![Part::List(vec![])]);
        assert_eq!(
            only_word("(a)^(b c)"),
            vec![Part::List(vec![w("a")]), Part::List(vec![w("b"), w("c")])]
        );
    }

    #[test]
    fn blocks_hold_scripts() {
        let items = only_items("{a\n b; c &\n}");
        let body = Script(vec![
            stmt(simple(vec![w("a")])),
            stmt(simple(vec![w("b")])),
            Stmt {
                node: simple(vec![w("c")]),
                background: true,
            },
        ]);
        assert_eq!(items, vec![word(vec![Part::Block(Arc::new(body))])]);
        assert_eq!(
            only_items("{}"),
            vec![word(vec![Part::Block(Arc::new(Script::default()))])]
        );
    }

    #[test]
    fn comments() {
        assert_eq!(parse("echo a#b c\necho d # e"), parse("echo a\necho d"));
        assert_eq!(
            only_items("echo '#c'"),
            vec![w("echo"), Item::Word(Word::quoted("#c"))]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("a\nb\n{c\n", 3, ErrorKind::Unclosed('{')),
            ("a\n(b\n", 2, ErrorKind::Unclosed('(')),
            ("a\n'b\nc", 2, ErrorKind::UnterminatedQuote),
            ("a |", 1, ErrorKind::UnexpectedEnd),
            ("| a", 1, ErrorKind::Near("|".into())),
            ("a | | b", 1, ErrorKind::Near("|".into())),
            ("a\n&& b", 2, ErrorKind::Near("&&".into())),
            ("&", 1, ErrorKind::Near("&".into())),
            ("a\n}", 2, ErrorKind::Unmatched('}')),
            ("a )", 1, ErrorKind::Unmatched(')')),
            ("(a }", 1, ErrorKind::Unmatched('}')),
            ("{a )}", 1, ErrorKind::Unmatched(')')),
            ("{a |}", 1, ErrorKind::Near("}".into())),
            ("echo >\n", 1, ErrorKind::Near("newline".into())),
            ("echo a=b", 1, ErrorKind::Near("=".into())),
            (">f x=1", 1, ErrorKind::Near("=".into())),
            ("x = >f", 1, ErrorKind::Near(">".into())),
            ("a ^ ; b", 1, ErrorKind::Near(";".into())),
            ("^a", 1, ErrorKind::Near("^".into())),
            ("echo $\n", 1, ErrorKind::Near("newline".into())),
            ("echo (a; b)", 1, ErrorKind::Near(";".into())),
            ("\n\necho >[x] f", 3, ErrorKind::BadRedirection),
            ("a |[2=x] b", 1, ErrorKind::BadPipe),
        ];
        for (source, line, kind) in cases {
            let e = error(source);
            assert_eq!((e.line(), e.kind()), (line, &kind), "{source:?}");
        }
        assert_eq!(error("a\nb\n{c\n").to_string(), "line 3: unmatched '{'");
        assert_eq!(
            error("a | | b").to_string(),
            "line 1: syntax error near '|'"
        );
    }

    #[test]
    fn incomplete_input_is_told_apart() {
        let incomplete = [
            "{",
            "{a\n",
            "echo (a\nb",
            "'abc\n",
            "a |",
            "a |\n",
            "a &&\n",
            "a ||",
            "a ^\n",
            "x = `{ls",
            "$",
            ">[2",
            "{ >[",
            "a`",
        ];
        for source in incomplete {
            let e = error(source);
            assert!(e.is_incomplete(), "{source:?}: {e}");
        }
        let complete = ["}", "echo >\n", "a | |", "{a )", "echo >[x]", "${a;b}", "&"];
        for source in complete {
            let e = error(source);
            assert!(!e.is_incomplete(), "{source:?}: {e}");
        }
        // An unfinished redirection inside a block reports the block.
        assert_eq!(error("{\n>[2").kind(), &ErrorKind::Unclosed('{'));
    }

    #[test]
    fn nesting_limit() {
        let deep = |depth: usize, open: &str, close: &str| {
            format!("{}{}", open.repeat(depth), close.repeat(depth))
        };
        // The deepest tree accepted survives everything done to trees, on a test thread's
        // 2 MiB stack (in a debug build when run that way).
        let deepest = parse(&deep(MAX_DEPTH, "{a; ", "}"));
        let text = deepest.to_string();
        assert_eq!(parse(&text), deepest.clone());
        assert!(format!("{deepest:?}").len() > MAX_DEPTH);
        drop(deepest);
        assert_eq!(
            error(&deep(MAX_DEPTH + 1, "{", "}")).kind(),
            &ErrorKind::TooDeep
        );
        assert!(parse_script(&deep(MAX_DEPTH, "(", ")")).is_ok());
        assert_eq!(
            error(&deep(MAX_DEPTH + 1, "(", ")")).kind(),
            &ErrorKind::TooDeep
        );
        assert_eq!(
            error(&format!("echo {}x", "$".repeat(MAX_DEPTH + 1))).kind(),
            &ErrorKind::TooDeep
        );
        assert_eq!(
            error(&format!("echo {}{{x}}", "`".repeat(MAX_DEPTH + 1))).kind(),
            &ErrorKind::TooDeep
        );
        assert!(parse_script(&vec!["a"; MAX_DEPTH + 1].join(" && ")).is_ok());
        assert_eq!(
            error(&vec!["a"; MAX_DEPTH + 2].join(" || ")).kind(),
            &ErrorKind::TooDeep
        );
        // Unclosed nesting past the limit is "too deep", not "incomplete": no continuation helps.
        assert!(!error(&"{".repeat(MAX_DEPTH + 1)).is_incomplete());
        // Long flat sequences are loops, not recursion.
        let long = "a ".repeat(100_000)
            + &"; b".repeat(100_000)
            + &" | c".repeat(50_000)
            + &"^d".repeat(50_000);
        assert!(parse_script(&long).is_ok());
    }

    #[test]
    fn lines_are_parsed_one_at_a_time() {
        let source = "a; b\n\n{c\nd}\ne |\n f\necho >[x] g\nh )\ni\n";
        let lines: Vec<Result<Script, ParseError>> = Lines::new(source).collect();
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert_eq!(lines[0], Ok(parse("a; b")));
        assert_eq!(lines[1], Ok(parse("{c\nd}")));
        assert_eq!(lines[2], Ok(parse("e | f")));
        assert_eq!(lines[3].as_ref().map_err(ParseError::line), Err(7));
        assert_eq!(
            lines[4].as_ref().map_err(|e| e.kind().clone()),
            Err(ErrorKind::Unmatched(')'))
        );
        assert_eq!(lines[5], Ok(parse("i")));
        // Together the lines make the script.
        let joined: Vec<Stmt> = Lines::new("a; b\n{c\nd}\ne | f")
            .flat_map(|line| line.unwrap().0)
            .collect();
        assert_eq!(Script(joined), parse("a; b\n{c\nd}\ne | f"));
        assert_eq!(Lines::new("").count(), 0);
        assert_eq!(Lines::new("\n\n# c\n").count(), 0);
        // An error stops at its line, even when it is the first token.
        let lines: Vec<_> = Lines::new(">[x]\na").collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].is_err());
        assert_eq!(lines[1], Ok(parse("a")));
        // An unterminated quote swallows the rest, as in sh.y.
        let lines: Vec<_> = Lines::new("a\n'b\nc").collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].as_ref().is_err_and(ParseError::is_incomplete));
    }
}
