//! Word expansion (Inferno sh's `glom`, `glomoperation`, `concat`, `bq`, `pipecmd`, `glob`):
//! variables, lists, concatenation, substitution builtins, command and process substitution,
//! then globbing of what came from unquoted text.
//!
//! Invariants: only characters written unquoted in the source can glob (a `*` from a
//! variable's value or inside quotes never does); a pattern matching nothing stays as written;
//! concatenation is pairwise for equal lengths, distributive when one side has one element,
//! and an error otherwise (or when one side is empty and the other not).

use super::context::Shell;
use super::eval::{Raise, Run, raise_kernel};
use super::value::{List, Value, texts};
use crate::syntax::{Item, Part, Redir, RedirKind, Script, VarKind, Word};
use kernel::{Chan, Ctx};
use std::sync::Arc;

/// Most bytes one value may hold: a word, a list, one command's arguments, the output a
/// command substitution collects. Counted as the text plus [`ELEM_COST`] per element, so a
/// long list of empty words is bounded too. A script that goes past it gets
/// "sh: value too large", never a host allocation of its choosing.
pub const MAX_VALUE: usize = 16 << 20;
/// What one element of a list costs in memory besides its text (the word's header, its
/// allocation and the element around it), so the bound holds for host memory too.
pub const ELEM_COST: usize = 64;

/// What a value being built by a builtin has cost so far, counted as [`MAX_VALUE`] counts
/// it, so the builtin can stop before it builds more than the shell would accept.
#[derive(Debug, Default)]
pub struct Budget {
    used: usize,
}

impl Budget {
    /// Counts one more element of `len` bytes; false once the value is too large.
    pub fn element(&mut self, len: usize) -> bool {
        self.bytes(len.saturating_add(ELEM_COST))
    }

    /// Counts `len` more bytes of text; false once the value is too large.
    pub fn bytes(&mut self, len: usize) -> bool {
        self.used = self.used.saturating_add(len);
        self.used <= MAX_VALUE
    }
}

/// The size a list of elements counts as against [`MAX_VALUE`].
fn size_of(elems: &[Elem]) -> usize {
    elems
        .iter()
        .map(|elem| elem.value.text().len() + ELEM_COST)
        .fold(0, usize::saturating_add)
}

/// A redirection of a command, evaluated.
#[derive(Clone, Debug)]
pub enum Redirection {
    /// Open `path` and put it on `fd`.
    Open {
        kind: RedirKind,
        fd: i32,
        path: String,
    },
    /// Make `fd` a copy of `to`.
    Dup { fd: i32, to: i32 },
    /// Put an already open chan (a pipe end) on `fd`.
    Chan { fd: i32, chan: Arc<Chan> },
}

/// One element of a word being expanded: its value and the byte positions of the glob
/// characters that came from unquoted text.
#[derive(Clone, Debug)]
pub struct Elem {
    value: Value,
    wild: Vec<usize>,
}

impl Elem {
    fn plain(value: Value) -> Elem {
        Elem {
            value,
            wild: Vec::new(),
        }
    }

    fn concat(&self, other: &Elem) -> Elem {
        let left = self.value.text();
        let right = other.value.text();
        let mut wild = self.wild.clone();
        wild.extend(other.wild.iter().map(|position| position + left.len()));
        Elem {
            value: Value::Word(format!("{left}{right}")),
            wild,
        }
    }
}

fn wild_positions(text: &str) -> Vec<usize> {
    text.char_indices()
        .filter(|(_, ch)| matches!(ch, '*' | '?' | '['))
        .map(|(index, _)| index)
        .collect()
}

fn apply_kind(kind: VarKind, list: List) -> List {
    match kind {
        VarKind::Value => list,
        VarKind::Count => vec![Value::word(list.len().to_string())],
        VarKind::Join => vec![Value::word(texts(&list).join(" "))],
    }
}

/// Expands and globs every element of `elems`.
pub fn glob_all(ctx: &Ctx, elems: Vec<Elem>) -> List {
    let mut out = Vec::with_capacity(elems.len());
    for elem in elems {
        if elem.wild.is_empty() {
            out.push(elem.value);
            continue;
        }
        let text = elem.value.into_text();
        let matches = super::glob::expand(ctx, &text, &elem.wild);
        if matches.is_empty() {
            out.push(Value::Word(text));
        } else {
            out.extend(matches.into_iter().map(Value::Word));
        }
    }
    out
}

impl Shell {
    /// Expands a command's items: the argument list, and the redirections in source order.
    pub fn expand_items(&mut self, ctx: &Ctx, items: &[Item]) -> Run<(List, Vec<Redirection>)> {
        let mut redirections = Vec::new();
        let mut elems = Vec::new();
        for item in items {
            match item {
                Item::Word(word) => {
                    elems.extend(self.expand_word(ctx, word, &mut redirections)?);
                    self.check_size(ctx, &elems)?;
                }
                Item::Redir(redir) => {
                    if let Some(argument) = self.expand_redir(ctx, redir, &mut redirections)? {
                        elems.push(Elem::plain(argument));
                    }
                }
            }
        }
        Ok((glob_all(ctx, elems), redirections))
    }

    /// Evaluates one redirection; a process substitution also yields the `/fd/N` argument.
    fn expand_redir(
        &mut self,
        ctx: &Ctx,
        redir: &Redir,
        redirections: &mut Vec<Redirection>,
    ) -> Run<Option<Value>> {
        match redir {
            Redir::Dup { fd, to, .. } => {
                redirections.push(Redirection::Dup {
                    fd: *fd as i32,
                    to: *to as i32,
                });
                Ok(None)
            }
            Redir::File { kind, fd, target } => {
                let mut scratch = Vec::new();
                let elems = self.expand_word(ctx, target, &mut scratch)?;
                let mut values = glob_all(ctx, elems);
                if values.len() != 1 {
                    return Err(self.fail(
                        ctx,
                        "bad redir",
                        "sh: single redirection operand required",
                    ));
                }
                let value = values.remove(0);
                if value.is_block() {
                    let number = self.process_substitution(ctx, *kind, *fd, value, redirections)?;
                    return Ok(Some(Value::word(format!("/fd/{number}"))));
                }
                redirections.push(Redirection::Open {
                    kind: *kind,
                    fd: fd.map_or(kind.default_fd() as i32, |fd| fd as i32),
                    path: value.into_text(),
                });
                Ok(None)
            }
        }
    }

    /// `<{cmd}` and `>{cmd}`: runs `cmd` with one end of a pipe on its output (or input) and
    /// keeps the other end on a new descriptor of the command, whose number it returns.
    fn process_substitution(
        &mut self,
        ctx: &Ctx,
        kind: RedirKind,
        fd: Option<u32>,
        block: Value,
        redirections: &mut Vec<Redirection>,
    ) -> Run<i32> {
        let reading = match kind {
            RedirKind::Read => true,
            RedirKind::Write => false,
            _ => return Err(self.fail(ctx, "bad redir", "sh: bad redirection")),
        };
        let [ours, theirs] = ctx.pipe_chans().map_err(|error| {
            self.fail(ctx, "no pipe", &format!("sh: cannot make pipe: {error}"))
        })?;
        let their_fd = fd.map_or(if reading { 1 } else { 0 }, |fd| fd as i32);
        let fds = self.child_fds(
            ctx,
            &[Redirection::Chan {
                fd: their_fd,
                chan: theirs,
            }],
        )?;
        self.spawn(ctx, "sh", fds, true, move |shell, ctx| {
            shell.run_list(ctx, vec![block], true)
        })?;
        let used = ctx.fds().list().last().map_or(2, |(fd, _)| *fd);
        let taken = redirections
            .iter()
            .map(|redirection| match redirection {
                Redirection::Chan { fd, .. }
                | Redirection::Dup { fd, .. }
                | Redirection::Open { fd, .. } => *fd,
            })
            .max()
            .unwrap_or(2);
        let number = used
            .max(taken)
            .max(self.keep_fds.iter().copied().max().unwrap_or(2))
            + 1;
        redirections.push(Redirection::Chan {
            fd: number,
            chan: ours,
        });
        Ok(number)
    }

    /// Expands a word into elements, not yet globbed.
    pub fn expand_word(
        &mut self,
        ctx: &Ctx,
        word: &Word,
        redirections: &mut Vec<Redirection>,
    ) -> Run<Vec<Elem>> {
        let mut parts = word.0.iter();
        let Some(first) = parts.next() else {
            return Ok(Vec::new());
        };
        let mut result = self.expand_part(ctx, first, redirections)?;
        for part in parts {
            let right = self.expand_part(ctx, part, redirections)?;
            result = self.concat(ctx, result, right)?;
        }
        Ok(result)
    }

    /// Fails with "value too large" if `elems` is over [`MAX_VALUE`].
    fn check_size(&self, ctx: &Ctx, elems: &[Elem]) -> Run<()> {
        if size_of(elems) > MAX_VALUE {
            return Err(self.value_too_large(ctx));
        }
        Ok(())
    }

    /// The "value too large" failure.
    pub fn value_too_large(&self, ctx: &Ctx) -> Raise {
        self.fail(
            ctx,
            "value too large",
            &format!("sh: value too large (more than {} MiB)", MAX_VALUE >> 20),
        )
    }

    fn concat(&self, ctx: &Ctx, left: Vec<Elem>, right: Vec<Elem>) -> Run<Vec<Elem>> {
        // What the result would cost, counted before anything is built: each side's text
        // appears once for every element of the other side it meets.
        let (left_size, right_size) = (size_of(&left) as u128, size_of(&right) as u128);
        let (left_count, right_count) = (left.len() as u128, right.len() as u128);
        let result_size = if left.len() == 1 || right.len() == 1 {
            left_size * right_count + right_size * left_count
        } else {
            left_size + right_size
        };
        if result_size > MAX_VALUE as u128 {
            return Err(self.value_too_large(ctx));
        }
        if left.is_empty() || right.is_empty() {
            if left.is_empty() && right.is_empty() {
                return Ok(Vec::new());
            }
            return Err(self.fail(ctx, "bad concatenation", "sh: null list in concatenation"));
        }
        if left.len() == 1 || right.len() == 1 {
            let mut out = Vec::with_capacity(left.len() * right.len());
            for a in &left {
                for b in &right {
                    out.push(a.concat(b));
                }
            }
            return Ok(out);
        }
        if left.len() != right.len() {
            return Err(self.fail(
                ctx,
                "bad concatenation",
                "sh: lists of differing sizes can't be concatenated",
            ));
        }
        Ok(left.iter().zip(&right).map(|(a, b)| a.concat(b)).collect())
    }

    fn expand_part(
        &mut self,
        ctx: &Ctx,
        part: &Part,
        redirections: &mut Vec<Redirection>,
    ) -> Run<Vec<Elem>> {
        Ok(match part {
            Part::Lit { text, quoted } => vec![Elem {
                value: Value::Word(text.clone()),
                wild: if *quoted {
                    Vec::new()
                } else {
                    wild_positions(text)
                },
            }],
            Part::Var { kind, name } => plain(apply_kind(*kind, self.get(name))),
            Part::Subst { kind, words } => {
                let mut argv = Vec::new();
                let mut scratch = Vec::new();
                for word in words {
                    argv.extend(self.expand_word(ctx, word, &mut scratch)?);
                }
                let argv = glob_all(ctx, argv);
                plain(apply_kind(*kind, self.run_substitution(ctx, argv)?))
            }
            Part::Indirect { kind, operand } => {
                let mut scratch = Vec::new();
                let values = glob_all(ctx, self.expand_part(ctx, operand, &mut scratch)?);
                let list = match values.as_slice() {
                    [Value::Block(script)] => {
                        let script = script.clone();
                        self.substitution_of_block(ctx, &script)?
                    }
                    [Value::Word(name)] if !name.is_empty() => self.get(name),
                    _ => return Err(self.fail(ctx, "bad $ arg", "sh: bad variable name")),
                };
                plain(apply_kind(*kind, list))
            }
            Part::List(items) => {
                let mut elems = Vec::new();
                for item in items {
                    match item {
                        Item::Word(word) => {
                            elems.extend(self.expand_word(ctx, word, redirections)?)
                        }
                        Item::Redir(redir) => {
                            if let Some(argument) = self.expand_redir(ctx, redir, redirections)? {
                                elems.push(Elem::plain(argument));
                            }
                        }
                    }
                }
                elems
            }
            Part::Block(script) => vec![Elem::plain(Value::Block(script.clone()))],
            Part::Backquote { join, command } => {
                let mut scratch = Vec::new();
                let command = glob_all(ctx, self.expand_part(ctx, command, &mut scratch)?);
                let separators = if *join {
                    None
                } else {
                    let ifs = self.get_texts("ifs").concat();
                    Some(if ifs.is_empty() {
                        " \t\n\r".to_string()
                    } else {
                        ifs
                    })
                };
                plain(self.backquote(ctx, command, separators.as_deref())?)
            }
        })
    }

    /// `${name args}` with a block operand: the block must hold one simple command.
    fn substitution_of_block(&mut self, ctx: &Ctx, script: &Script) -> Run<List> {
        use crate::syntax::{Command, Node};
        let command = match script.0.as_slice() {
            [stmt] if !stmt.background => match &stmt.node {
                Node::Pipeline(pipeline) if pipeline.rest.is_empty() => match &pipeline.first {
                    Command::Simple(items) => Some(items.clone()),
                    Command::Assign(_) => None,
                },
                _ => None,
            },
            _ => None,
        };
        let Some(items) = command else {
            return Err(self.fail(ctx, "bad $ arg", "sh: invalid argument to ${} operator"));
        };
        let (argv, redirections) = self.expand_items(ctx, &items)?;
        if !redirections.is_empty() {
            return Err(self.fail(
                ctx,
                "bad $ arg",
                "sh: redirection not allowed in substitution",
            ));
        }
        self.run_substitution(ctx, argv)
    }

    /// Calls the substitution builtin (or `subfn`) named by `argv[0]`.
    pub fn run_substitution(&mut self, ctx: &Ctx, argv: List) -> Run<List> {
        let name = match argv.first() {
            Some(Value::Word(name)) => name.clone(),
            _ => return Err(self.fail(ctx, "bad $ arg", "sh: bad builtin name")),
        };
        let body = self.get(&format!("sfn-{name}"));
        if let Some(body) = body.into_iter().next() {
            return self.run_subfn(ctx, body, argv.into_iter().skip(1).collect());
        }
        match super::builtins::substitution(self, &name) {
            Some(builtin) => builtin(self, ctx, argv),
            None => Err(self.fail(
                ctx,
                "builtin not found",
                &format!("sh: builtin {name} not found"),
            )),
        }
    }

    /// Runs a `subfn` body; its value is what it left in `$result`.
    pub fn run_subfn(&mut self, ctx: &Ctx, body: Value, args: List) -> Run<List> {
        self.push();
        self.set_local("result", Vec::new());
        let mut call = vec![body];
        call.extend(args);
        let outcome = self.run_list(ctx, call, false);
        let result = self.get("result");
        self.pop();
        outcome.map(|_| result)
    }

    /// `` `{cmd} `` and `"{cmd}`: runs `command` in a new process with its output on a pipe,
    /// and returns what it wrote, split at `separators` (or whole, if None).
    pub fn backquote(&mut self, ctx: &Ctx, command: List, separators: Option<&str>) -> Run<List> {
        let [reader, writer] = ctx.pipe_chans().map_err(|error| {
            self.fail(ctx, "no pipe", &format!("sh: cannot make pipe: {error}"))
        })?;
        let fds = self.child_fds(
            ctx,
            &[Redirection::Chan {
                fd: 1,
                chan: writer,
            }],
        )?;
        let proc = self.spawn(ctx, "sh", fds, false, move |shell, ctx| {
            shell.run_list(ctx, command, true)
        })?;
        let mut output = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            match ctx.read_chan(&reader, &mut buf, 0) {
                Ok(0) => break,
                Ok(_) if output.len() >= MAX_VALUE => {
                    proc.kill();
                    return Err(self.value_too_large(ctx));
                }
                Ok(count) => output.extend_from_slice(&buf[..count]),
                Err(error) => {
                    proc.kill();
                    return Err(raise_kernel(error));
                }
            }
        }
        drop(reader);
        self.wait_for(ctx, &[proc])?;
        let text = String::from_utf8_lossy(&output).into_owned();
        let Some(separators) = separators else {
            return Ok(vec![Value::Word(text)]);
        };
        let pieces = text
            .split(|ch| separators.contains(ch))
            .filter(|piece| !piece.is_empty());
        // Split into many short words, the same bytes cost more: count them as they come.
        let mut list = Vec::new();
        let mut size = 0usize;
        for piece in pieces {
            size += piece.len() + ELEM_COST;
            if size > MAX_VALUE {
                return Err(self.value_too_large(ctx));
            }
            list.push(Value::word(piece));
        }
        Ok(list)
    }
}

fn plain(list: List) -> Vec<Elem> {
    list.into_iter().map(Elem::plain).collect()
}
