//! The typed syntax tree of `sh`, the tree the evaluator walks.
//!
//! Ancestor: the `Node` adt of Inferno's `appl/cmd/sh/sh.y` (`n_SEQ`, `n_PIPE`, `n_ADJ`,
//! `n_CONCAT`, `n_VAR`, ...), a binary tree in which a command line, a word list and a
//! concatenation are all chains of the same node type. Here each level has its own type, so
//! the evaluator matches on what can actually occur: a [`Script`] holds [`Stmt`]s, a statement
//! holds a [`Node`] (`&&`, `||` or a [`Pipeline`]), a pipeline holds [`Command`]s, a command
//! holds [`Item`]s (words and redirections, in source order), and a [`Word`] is a
//! concatenation of [`Part`]s.
//!
//! Invariants the parser keeps (and the printer relies on to round-trip):
//! - every `Vec` that stands for something written in the source is non-empty where the
//!   syntax requires something (a command has at least one item, a word at least one part,
//!   an assignment at least one target, a `${...}` call at least one word);
//! - an unquoted [`Part::Lit`] is non-empty and holds no blank and none of
//!   ``# ; & | ^ $ ` ' { } ( ) < > " =``; a quoted one may hold anything;
//! - `$` applied to a literal is always [`Part::Var`] and `$` applied to a braced block is
//!   always [`Part::Subst`]; [`Part::Indirect`] covers every other operand;
//! - the right operand of [`Node::And`] is a pipeline and the right operand of [`Node::Or`]
//!   is never an `Or` (Inferno's precedence: `&&` binds tighter than `||`, both associate to
//!   the left).
//!
//! No source positions are stored, so two parses of equivalent text compare equal; this is
//! what makes `parse(print(ast)) == ast` checkable.

use std::sync::Arc;

/// A sequence of statements: a whole script, one line of it, or the body of a braced block.
///
/// Inferno: a chain of `n_SEQ` nodes. Empty statements (`;;`, blank lines) leave no trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script(pub Vec<Stmt>);

/// One statement, ended by `;`, `&` or a newline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub node: Node,
    /// Ended by `&`: run without waiting and put the process id in `$apid` (Inferno's
    /// `n_NOWAIT`). Applies to the whole node, so `a && b &` backgrounds both.
    pub background: bool,
}

/// What a statement runs.
///
/// Inferno lowers `a && b` to the command `and {a} {b}` while parsing (so it only works once
/// `std` is loaded). We keep `&&` and `||` as nodes so the printer gives back what was written
/// and the evaluator may run them directly; [`Node::lower`] produces Inferno's form for an
/// evaluator that prefers to call the `and` and `or` builtins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Pipeline(Pipeline),
    /// `left && right`: run `right` only if `left` succeeded.
    And(Box<Node>, Box<Node>),
    /// `left || right`: run `right` only if `left` failed.
    Or(Box<Node>, Box<Node>),
}

/// Commands joined by pipes: `a | b |[2] c`. A single command is a pipeline of one.
///
/// Inferno: a left-nested chain of `n_PIPE` nodes, each carrying its own descriptors, which is
/// why every link here has its own [`PipeLink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub first: Command,
    /// Each later command with the link that feeds it from the command before.
    pub rest: Vec<(PipeLink, Command)>,
}

/// The descriptors a pipe connects, already resolved to numbers.
///
/// `|` is `{from: 1, to: 0}`; `|[n]` is `{from: n, to: 0}`; `|[n=m]` is `{from: n, to: m}`.
/// This follows `walkpipeline` in sh.y, not the manual page, which has the two numbers of
/// `|[n=m]` the other way round. The odd forms resolve as sh.y does: `|[]` and `|[=]` are `|`,
/// `|[n=]` is `|[n]`, and `|[=m]` writes on `m` and reads on 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PipeLink {
    /// The descriptor the left command writes on.
    pub from_fd: u32,
    /// The descriptor the right command reads from.
    pub to_fd: u32,
}

impl Default for PipeLink {
    fn default() -> Self {
        PipeLink {
            from_fd: 1,
            to_fd: 0,
        }
    }
}

/// One command of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Words and redirections in source order, e.g. `>out echo $x >[2=1]`. May be
    /// redirections only (`>file` truncates `file`). The first word, once expanded, names what
    /// to run: a builtin, a braced block, or an external command.
    Simple(Vec<Item>),
    /// `name = value`, `name := value`, `(a b) = value`, `a = b := value`.
    Assign(Assign),
}

/// An assignment statement.
///
/// Unlike rc there is no `name=value command` environment prefix: everything after `=` is the
/// value, so `x = a b c` gives `x` a three-element list and `x=1 echo` gives `x` the list
/// `(1 echo)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assign {
    /// The assigned-to words, leftmost first. `a = b := c` has two targets; Inferno evaluates
    /// the rightmost assignment first and gives every target the same value.
    pub targets: Vec<Target>,
    /// The value, possibly empty (`x =` assigns the empty list). Items rather than words
    /// because the grammar admits redirections here; Inferno rejects them when the assignment
    /// runs ("redirections not allowed in assignment"), and so should the evaluator.
    pub value: Vec<Item>,
}

/// One left-hand side of an assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Usually a plain name or a list of names (`(a b c)`, destructuring: each name takes
    /// one element and the last takes the rest). Any word is accepted by the syntax; the
    /// evaluator expands it and uses the resulting strings as names, as Inferno does, so
    /// `$p = 1` assigns to the variable whose name is the value of `p`.
    pub word: Word,
    /// `:=`: create the variable in the innermost block scope, rather than `=`, which assigns
    /// in the innermost scope that already defines it (else the outermost).
    pub local: bool,
}

/// An element of a simple command, of an assignment value or of a `( ... )` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Word(Word),
    Redir(Redir),
}

/// A redirection.
///
/// Process substitution is not separate syntax: `<{cmd}` is a [`Redir::File`] whose target
/// is a braced block (so are `< {cmd}` and `<$x` when `$x` holds a block). As Inferno's
/// `glomoperation` does, the evaluator runs the block with a pipe on its standard output (for
/// `<`) or input (for `>`) and puts `/fd/N` into the argument list *at the position of the
/// redirection*, which is why items keep their order. [`Redir::process_substitution`] spots
/// the literal form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redir {
    /// `<f`, `>f`, `>>f`, `<>f`, optionally with a descriptor: `>[2]f`.
    File {
        kind: RedirKind,
        /// `None` when no number was written (`>f` and `>[]f`): descriptor 0 for reading
        /// kinds and 1 for writing ones, except in a process substitution, where the default
        /// belongs to the substituted command (see [`RedirKind::default_fd`]).
        fd: Option<u32>,
        target: Word,
    },
    /// `>[fd=to]` or `<[fd=to]`: make `fd` a copy of the already open `to` (sys-dup(2)).
    ///
    /// Inferno also parses `>[fd=]` and `>[=to]` but fails whenever they run ("invalid
    /// dup"); there is no close syntax, so we reject both when parsing.
    Dup { kind: RedirKind, fd: u32, to: u32 },
}

/// The operator of a redirection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedirKind {
    /// `<`: open for reading.
    Read,
    /// `>`: create (truncate) for writing.
    Write,
    /// `>>`: open for writing at the end, creating if needed (not atomic).
    Append,
    /// `<>`: open for reading and writing, creating if needed.
    ReadWrite,
}

/// A word: one or more parts joined by `^`, written or free (see the free-caret rule in
/// `lexer.rs`).
///
/// `-$flags` and `-^$flags` both parse to `[Lit "-", Var flags]`. Adjacent parts are never
/// merged, because a quoted and an unquoted literal differ for globbing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word(pub Vec<Part>);

/// One operand of `^`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text. `quoted` is true for `'...'` text (with `''` already turned into `'`).
    /// The evaluator globs only unquoted literals: in Inferno, `*`, `?` and `[` are special
    /// only where they came from unquoted text, and a pattern that matches nothing stays as
    /// written.
    Lit { text: String, quoted: bool },
    /// `$name`, `$#name`, `$"name`. `name` may be anything: `$1`, `$*`, and `$'odd name'` all
    /// land here. A name made only of digits (not starting with 0) indexes `$*`.
    Var { kind: VarKind, name: String },
    /// `${name arg ...}`, `$#{...}`, `$"{...}`: call the substitution builtin named by the
    /// first word. The manual requires "a simple command with no redirections" and sh.y
    /// checks that when it runs; we check it when parsing, so `words` is never empty.
    Subst { kind: VarKind, words: Vec<Word> },
    /// `$` applied to anything else: `$$x` (the variable named by the value of `x`),
    /// `$(a)`, `` $`{cmd} ``. The operand must expand to one string (a name) or one block (a
    /// substitution builtin call); anything else is Inferno's "bad $ arg".
    Indirect { kind: VarKind, operand: Box<Part> },
    /// `(a b c)`: the concatenation of the items' values. Lists do not nest in meaning, only
    /// in syntax: the evaluator flattens. Redirections inside a list belong to the command
    /// the list appears in, as in sh.y (`cat (<{ls} <{ps})` is how two process substitutions
    /// are grouped).
    List(Vec<Item>),
    /// `{...}`: a braced block, a value. As the first word of a command it runs; anywhere
    /// else it stands for its canonical text (see `print.rs`).
    Block(Arc<Script>),
    /// `` `cmd `` (`join` false: output split at `$ifs`) and `"cmd` (`join` true: output as
    /// one string). The operand is nearly always a block, `` `{ls} ``; sh.y allows any
    /// word-like operand and runs its value as a command line, so `` `ls `` runs `ls`.
    Backquote { join: bool, command: Box<Part> },
}

/// What `$` yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarKind {
    /// `$x`: the list itself.
    Value,
    /// `$#x`: the number of elements, as one string.
    Count,
    /// `$"x`: the elements joined with single spaces, as one string.
    Join,
}

impl Script {
    /// Wrap a node as the only statement of a script, as Inferno does when it turns an
    /// operand of `&&` into a block.
    pub fn of(node: Node) -> Script {
        Script(vec![Stmt {
            node,
            background: false,
        }])
    }
}

impl Node {
    /// A single simple command with the given items.
    pub fn simple(items: Vec<Item>) -> Node {
        Node::Pipeline(Pipeline {
            first: Command::Simple(items),
            rest: Vec::new(),
        })
    }

    /// Inferno's lowering of `&&` and `||`: `a && b` becomes the simple command
    /// `and {a} {b}` and `a || b` becomes `or {a} {b}`, applied all the way down. A pipeline
    /// comes back unchanged.
    pub fn lower(self) -> Node {
        let (builtin, left, right) = match self {
            Node::Pipeline(_) => return self,
            Node::And(left, right) => ("and", left, right),
            Node::Or(left, right) => ("or", left, right),
        };
        let block = |node: Box<Node>| {
            Item::Word(Word(vec![Part::Block(Arc::new(Script::of(node.lower())))]))
        };
        Node::simple(vec![
            Item::Word(Word::lit(builtin)),
            block(left),
            block(right),
        ])
    }
}

impl Word {
    /// An unquoted literal word. The text should obey the unquoted-literal invariant.
    pub fn lit(text: &str) -> Word {
        Word(vec![Part::Lit {
            text: text.to_string(),
            quoted: false,
        }])
    }

    /// A quoted literal word, `'text'`.
    pub fn quoted(text: &str) -> Word {
        Word(vec![Part::Lit {
            text: text.to_string(),
            quoted: true,
        }])
    }

    /// The block, if this word is exactly one braced block.
    pub fn as_block(&self) -> Option<&Script> {
        match self.0.as_slice() {
            [Part::Block(script)] => Some(script.as_ref()),
            _ => None,
        }
    }

    /// The text, if this word is literal throughout (quoted or not) and so needs no
    /// expansion apart from globbing.
    pub fn as_literal(&self) -> Option<String> {
        let mut text = String::new();
        for part in &self.0 {
            match part {
                Part::Lit { text: piece, .. } => text.push_str(piece),
                _ => return None,
            }
        }
        Some(text)
    }
}

impl Redir {
    /// The block of a literal process substitution: a file redirection whose target is
    /// exactly one braced block, such as `<{cmd}`, `>{cmd}` or `<[3]{cmd}`. The evaluator must
    /// also treat a target that *expands* to a block this way; this helper only saves it the
    /// expansion in the common case. (sh.y refuses `>>{cmd}` when it runs: "bad redirection".)
    pub fn process_substitution(&self) -> Option<&Script> {
        match self {
            Redir::File { target, .. } => target.as_block(),
            Redir::Dup { .. } => None,
        }
    }
}

impl RedirKind {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            RedirKind::Read => "<",
            RedirKind::Write => ">",
            RedirKind::Append => ">>",
            RedirKind::ReadWrite => "<>",
        }
    }

    /// The descriptor redirected when none is written: 1 for `>` and `>>`, 0 for `<` and
    /// `<>` (sh.y `doredirs`). In a process substitution the substituted command's end is
    /// the other way round (`<{ls}` gives `ls` a pipe on descriptor 1).
    pub fn default_fd(self) -> u32 {
        match self {
            RedirKind::Write | RedirKind::Append => 1,
            RedirKind::Read | RedirKind::ReadWrite => 0,
        }
    }
}

impl VarKind {
    /// The operator as written: `$`, `$#` or `$"`.
    pub fn symbol(self) -> &'static str {
        match self {
            VarKind::Value => "$",
            VarKind::Count => "$#",
            VarKind::Join => "$\"",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_turns_and_or_into_builtin_calls() {
        let a = Node::simple(vec![Item::Word(Word::lit("a"))]);
        let b = Node::simple(vec![Item::Word(Word::lit("b"))]);
        let c = Node::simple(vec![Item::Word(Word::lit("c"))]);
        let tree = Node::Or(
            Box::new(Node::And(Box::new(a.clone()), Box::new(b.clone()))),
            Box::new(c.clone()),
        );
        let block = |node: Node| Item::Word(Word(vec![Part::Block(Arc::new(Script::of(node)))]));
        let and = Node::simple(vec![Item::Word(Word::lit("and")), block(a), block(b)]);
        let expected = Node::simple(vec![
            Item::Word(Word::lit("or")),
            block(and),
            block(c.clone()),
        ]);
        assert_eq!(tree.lower(), expected);
        assert_eq!(c.clone().lower(), c);
    }

    #[test]
    fn word_helpers() {
        let word = Word(vec![
            Part::Lit {
                text: "a".into(),
                quoted: false,
            },
            Part::Lit {
                text: "b c".into(),
                quoted: true,
            },
        ]);
        assert_eq!(word.as_literal().as_deref(), Some("ab c"));
        assert_eq!(word.as_block(), None);
        let block = Word(vec![Part::Block(Arc::new(Script::default()))]);
        assert_eq!(block.as_block(), Some(&Script::default()));
        assert_eq!(block.as_literal(), None);
    }

    #[test]
    fn process_substitution_needs_a_bare_block() {
        let body = Script::of(Node::simple(vec![Item::Word(Word::lit("ls"))]));
        let target = Word(vec![Part::Block(Arc::new(body.clone()))]);
        let plain = Redir::File {
            kind: RedirKind::Read,
            fd: None,
            target: target.clone(),
        };
        assert_eq!(plain.process_substitution(), Some(&body));
        let numbered = Redir::File {
            kind: RedirKind::Read,
            fd: Some(3),
            target,
        };
        assert_eq!(numbered.process_substitution(), Some(&body));
        let joined = Word(vec![
            Part::Block(Arc::new(body)),
            Part::Lit {
                text: "x".into(),
                quoted: false,
            },
        ]);
        let concatenated = Redir::File {
            kind: RedirKind::Read,
            fd: None,
            target: joined,
        };
        assert_eq!(concatenated.process_substitution(), None);
        let file = Redir::File {
            kind: RedirKind::Write,
            fd: None,
            target: Word::lit("f"),
        };
        assert_eq!(file.process_substitution(), None);
        assert_eq!(
            Redir::Dup {
                kind: RedirKind::Write,
                fd: 2,
                to: 1
            }
            .process_substitution(),
            None
        );
    }

    #[test]
    fn default_descriptors() {
        assert_eq!(RedirKind::Read.default_fd(), 0);
        assert_eq!(RedirKind::ReadWrite.default_fd(), 0);
        assert_eq!(RedirKind::Write.default_fd(), 1);
        assert_eq!(RedirKind::Append.default_fd(), 1);
        assert_eq!(
            PipeLink::default(),
            PipeLink {
                from_fd: 1,
                to_fd: 0
            }
        );
    }
}
