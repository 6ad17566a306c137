//! Running the syntax tree (Inferno sh's `walk`, `walkpipeline`, `runsync`, `runasync`,
//! `runexternal`, `doredirs`, `waitfor`).
//!
//! Builtins and blocks run in the shell's own process; external programs, pipeline members,
//! background commands and command substitutions each get a new process (a host thread) that
//! shares the shell's namespace and user. A command's redirections build a new descriptor
//! table for it; the shell's own table is back as it was afterwards.
//!
//! Invariants: a pipe end is only ever held by the processes meant to hold it, so readers see
//! end of file when writers finish; a pipeline's status joins its members' statuses right to
//! left with `|` when any failed; blocks nest at most [`MAX_DEPTH`] deep, so runaway recursion
//! is an error and not a stack overflow.

use super::builtins;
use super::context::Shell;
use super::expand::{Redirection, glob_all};
use super::value::{List, Value, block_text, texts};
use crate::syntax::{Command, Item, Node, Pipeline, RedirKind, Script, Stmt};
use kernel::{Chan, Ctx, Error, FdTable, Proc};
use ninep::{ORDWR, OREAD, OWRITE};
use std::sync::Arc;

/// How deep blocks may nest (function recursion included).
pub const MAX_DEPTH: usize = 200;
/// Stack a process keeps in reserve: a block is not started with less than this left, so a
/// script that nests shells in shells (`fn g { sh -c g }`) gets an error, not an overflow.
const STACK_RESERVE: usize = 1 << 20;

/// Whether the calling process's stack is too nearly used up to start another block.
fn stack_low() -> bool {
    kernel::proc::stack_left().is_some_and(|left| left < STACK_RESERVE)
}

/// Why evaluation stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raise {
    /// An exception: `raise name`, a shell error, `sh -e` after a failure. The name is
    /// Inferno's without its `fail:` prefix.
    Exception(String),
    /// `exit`: the shell process ends with this status.
    Exit(String),
}

/// A status (empty is success), or a raised exception.
pub type Run<T = String> = Result<T, Raise>;

impl Raise {
    /// The status a process ends with when this escapes it.
    pub fn status(self) -> String {
        match self {
            Raise::Exception(name) | Raise::Exit(name) => name,
        }
    }
}

/// A kernel error met by the shell itself: an interrupt or kill ends what is running.
pub fn raise_kernel(error: Error) -> Raise {
    match error.root() {
        Error::Killed => Raise::Exit("killed".into()),
        Error::Interrupted => Raise::Exception("interrupted".into()),
        _ => Raise::Exception(error.to_string()),
    }
}

impl Shell {
    /// Prints `message` (as Inferno's `Context.fail` does when verbose) and returns the
    /// exception `name` to raise.
    pub fn fail(&self, ctx: &Ctx, name: &str, message: &str) -> Raise {
        if self.flags.verbose {
            let _ = ctx.write_all(2, format!("{message}\n").as_bytes());
        }
        Raise::Exception(name.to_string())
    }

    /// Prints a diagnostic line `sh: ...`.
    pub fn diagnostic(&self, ctx: &Ctx, message: &str) {
        if self.flags.verbose {
            let _ = ctx.write_all(2, format!("sh: {message}\n").as_bytes());
        }
    }

    /// Runs every statement of `script`; the status is the last one's. `last` says nothing
    /// will run in this process afterwards, so its final command may take the process over.
    pub fn run_script(&mut self, ctx: &Ctx, script: &Script, last: bool) -> Run {
        let mut status = String::new();
        let count = script.0.len();
        for (index, stmt) in script.0.iter().enumerate() {
            status = self.run_stmt(ctx, stmt, last && index + 1 == count)?;
            if index + 1 < count {
                if self.flags.errexit && !status.is_empty() {
                    return Err(Raise::Exception(status));
                }
                self.set_status(&status);
            }
        }
        Ok(status)
    }

    fn run_stmt(&mut self, ctx: &Ctx, stmt: &Stmt, last: bool) -> Run {
        // A loop of builtins makes no system call that would notice an interrupt.
        ctx.check().map_err(raise_kernel)?;
        if stmt.background {
            return self.run_background(ctx, &stmt.node);
        }
        self.run_node(ctx, &stmt.node, last)
    }

    /// `&&`, `||` and pipelines.
    fn run_node(&mut self, ctx: &Ctx, node: &Node, last: bool) -> Run {
        match node {
            Node::Pipeline(pipeline) => self.run_pipeline(ctx, pipeline, last),
            Node::And(left, right) => {
                let status = self.run_node(ctx, left, false)?;
                if !status.is_empty() {
                    return Ok(status);
                }
                self.set_status("");
                self.run_node(ctx, right, last)
            }
            Node::Or(left, right) => {
                let status = self.run_node(ctx, left, false)?;
                if status.is_empty() {
                    return Ok(status);
                }
                self.set_status(&status);
                self.run_node(ctx, right, last)
            }
        }
    }

    /// `cmd &`: runs in a new process, not waited for; `$apid` is its pid.
    fn run_background(&mut self, ctx: &Ctx, node: &Node) -> Run {
        let node = node.clone();
        let fds = ctx.fds().keep_only(&self.keep_fds);
        let proc = self.spawn(ctx, "sh", fds, true, move |shell, ctx| {
            shell.run_node(ctx, &node, true)
        })?;
        self.set("apid", vec![Value::word(proc.pid.to_string())]);
        Ok(String::new())
    }

    /// Starts `task` in a new process with a copy of this shell and descriptor table `fds`;
    /// `copy_env` gives it its own copy of the environment.
    pub fn spawn<F>(
        &mut self,
        ctx: &Ctx,
        name: &str,
        fds: FdTable,
        copy_env: bool,
        task: F,
    ) -> Run<Arc<Proc>>
    where
        F: FnOnce(&mut Shell, &Ctx) -> Run + Send + 'static,
    {
        self.export(ctx);
        let mut child = self.child();
        // The child keeps exactly the descriptors it was given.
        child.keep_fds = fds.list().into_iter().map(|(fd, _)| fd).collect();
        ctx.spawn(name, fds, move |ctx| {
            if copy_env {
                ctx.pctl(kernel::proc::FORKENV, &[])
                    .map_err(|e| e.to_string())?;
            }
            match task(&mut child, ctx) {
                Ok(status) if status.is_empty() => Ok(()),
                Ok(status) => Err(status),
                Err(raise) => {
                    let status = raise.status();
                    if status.is_empty() {
                        Ok(())
                    } else {
                        Err(status)
                    }
                }
            }
        })
        .map_err(|error| {
            self.fail(
                ctx,
                "no process",
                &format!("sh: cannot start process: {error}"),
            )
        })
    }

    /// Waits for processes and joins their statuses as Inferno's `waitfor` does: empty if
    /// all succeeded, else the last one's, then `|` and each earlier one's, right to left.
    pub fn wait_for(&mut self, ctx: &Ctx, procs: &[Arc<Proc>]) -> Run {
        let mut statuses = Vec::with_capacity(procs.len());
        let mut interrupted = false;
        for proc in procs {
            let status = loop {
                match proc.wait_exit(ctx) {
                    Ok(status) => break status,
                    Err(error) if error.root() == &Error::Interrupted => {
                        // The interrupt meant for what is running: pass it on and wait on.
                        for proc in procs {
                            proc.interrupt();
                        }
                        interrupted = true;
                    }
                    Err(error) => {
                        for proc in procs {
                            proc.kill();
                        }
                        return Err(raise_kernel(error));
                    }
                }
            };
            if status.starts_with("broken") {
                self.diagnostic(
                    ctx,
                    &format!("{} \"{}\":{}", proc.pid, proc.module(), status),
                );
            }
            statuses.push(status);
        }
        // An interrupt ends the whole command line, loops and sequences included, not just
        // the command it reached (sh(1)): the rest is abandoned and the prompt comes back.
        if interrupted {
            return Err(Raise::Exception("interrupted".into()));
        }
        if statuses.iter().all(String::is_empty) {
            return Ok(String::new());
        }
        let mut joined = statuses.pop().unwrap_or_default();
        while let Some(status) = statuses.pop() {
            joined.push('|');
            joined.push_str(&status);
        }
        Ok(joined)
    }

    fn run_pipeline(&mut self, ctx: &Ctx, pipeline: &Pipeline, last: bool) -> Run {
        if pipeline.rest.is_empty() {
            return self.run_command(ctx, &pipeline.first, last);
        }
        let commands: Vec<&Command> = std::iter::once(&pipeline.first)
            .chain(pipeline.rest.iter().map(|(_, command)| command))
            .collect();
        let mut procs = Vec::with_capacity(commands.len());
        let mut reader: Option<(i32, Arc<Chan>)> = None;
        for (index, command) in commands.iter().enumerate() {
            let mut redirections = Vec::new();
            if let Some((fd, chan)) = reader.take() {
                redirections.push(Redirection::Chan { fd, chan });
            }
            if let Some((link, _)) = pipeline.rest.get(index) {
                let [write_end, read_end] = ctx.pipe_chans().map_err(|error| {
                    self.fail(ctx, "no pipe", &format!("sh: cannot make pipe: {error}"))
                })?;
                redirections.push(Redirection::Chan {
                    fd: link.from_fd as i32,
                    chan: write_end,
                });
                reader = Some((link.to_fd as i32, read_end));
            }
            let (argv, mut own) = match command {
                Command::Simple(items) => {
                    let (argv, redirs) = self.expand_items(ctx, items)?;
                    (Some(argv), redirs)
                }
                Command::Assign(_) => (None, Vec::new()),
            };
            redirections.append(&mut own);
            let fds = self.child_fds(ctx, &redirections)?;
            let command = (*command).clone();
            let proc = self.spawn(ctx, "sh", fds, true, move |shell, ctx| match argv {
                Some(argv) => shell.run_list(ctx, argv, true),
                None => shell.run_command(ctx, &command, true),
            })?;
            procs.push(proc);
        }
        self.wait_for(ctx, &procs)
    }

    /// A simple command or an assignment.
    fn run_command(&mut self, ctx: &Ctx, command: &Command, last: bool) -> Run {
        match command {
            Command::Assign(assign) => {
                self.assign(ctx, assign)?;
                Ok(String::new())
            }
            Command::Simple(items) => {
                let (argv, redirections) = self.expand_items(ctx, items)?;
                if redirections.is_empty() {
                    return self.run_list(ctx, argv, last);
                }
                self.with_redirections(ctx, &redirections, |shell, ctx| {
                    if argv.is_empty() {
                        Ok(String::new())
                    } else {
                        shell.run_list(ctx, argv, last)
                    }
                })
            }
        }
    }

    fn assign(&mut self, ctx: &Ctx, assign: &crate::syntax::Assign) -> Run<()> {
        let (value, redirections) = self.expand_items(ctx, &assign.value)?;
        if !redirections.is_empty() {
            return Err(self.fail(
                ctx,
                "bad assign",
                "sh: redirections not allowed in assignment",
            ));
        }
        for target in assign.targets.iter().rev() {
            let mut scratch = Vec::new();
            let names = self.expand_word(ctx, &target.word, &mut scratch)?;
            let names = glob_all(ctx, names);
            if names.is_empty() {
                return Err(self.fail(ctx, "bad assign", "sh: nil variable name"));
            }
            let mut rest = value.clone().into_iter();
            let count = names.len();
            for (index, name) in names.into_iter().enumerate() {
                let name = name.into_text();
                if name.is_empty() {
                    return Err(self.fail(ctx, "bad assign", "sh: bad variable name"));
                }
                let element: List = if index + 1 == count {
                    rest.by_ref().collect()
                } else {
                    rest.next().into_iter().collect()
                };
                if target.local {
                    self.set_local(&name, element);
                } else {
                    self.set(&name, element);
                }
            }
        }
        Ok(())
    }

    /// Runs `task` with this process's descriptors changed by `redirections`, then puts
    /// them back.
    pub fn with_redirections<T>(
        &mut self,
        ctx: &Ctx,
        redirections: &[Redirection],
        task: impl FnOnce(&mut Shell, &Ctx) -> Run<T>,
    ) -> Run<T> {
        let table = ctx.fds().fork();
        let touched = self.apply(ctx, &table, redirections)?;
        let saved = ctx.fds();
        ctx.proc.set_fds(Arc::new(table));
        let saved_keep = self.keep_fds.clone();
        for fd in touched {
            if !self.keep_fds.contains(&fd) {
                self.keep_fds.push(fd);
            }
        }
        let result = task(self, ctx);
        self.keep_fds = saved_keep;
        ctx.proc.set_fds(saved);
        result
    }

    /// A descriptor table for a child: the kept descriptors, then `redirections`.
    pub fn child_fds(&mut self, ctx: &Ctx, redirections: &[Redirection]) -> Run<FdTable> {
        let table = ctx.fds().keep_only(&self.keep_fds);
        self.apply(ctx, &table, redirections)?;
        Ok(table)
    }

    /// Applies redirections to `table` in order (Inferno `doredirs`); returns the
    /// descriptors set.
    fn apply(&mut self, ctx: &Ctx, table: &FdTable, redirections: &[Redirection]) -> Run<Vec<i32>> {
        let mut touched = Vec::new();
        for redirection in redirections {
            match redirection {
                Redirection::Chan { fd, chan } => {
                    self.install(ctx, table, *fd, chan.clone())?;
                    touched.push(*fd);
                }
                Redirection::Dup { fd, to } => {
                    let chan = table.get(*to).map_err(|error| {
                        self.fail(ctx, "bad redir", &format!("sh: cannot dup: {error}"))
                    })?;
                    self.install(ctx, table, *fd, chan)?;
                    touched.push(*fd);
                }
                Redirection::Open { kind, fd, path } => {
                    let chan = self.open_redirection(ctx, *kind, path).map_err(|error| {
                        self.fail(
                            ctx,
                            "bad redir",
                            &format!("sh: cannot open {path}: {error}"),
                        )
                    })?;
                    self.install(ctx, table, *fd, chan)?;
                    touched.push(*fd);
                }
            }
        }
        Ok(touched)
    }

    fn install(&self, ctx: &Ctx, table: &FdTable, fd: i32, chan: Arc<Chan>) -> Run<()> {
        table.install_at(fd, chan).map_err(|error| {
            self.fail(
                ctx,
                "bad redir",
                &format!("sh: bad descriptor {fd}: {error}"),
            )
        })
    }

    fn open_redirection(
        &self,
        ctx: &Ctx,
        kind: RedirKind,
        path: &str,
    ) -> kernel::Result<Arc<Chan>> {
        let missing = |error: &Error| error.root() == &Error::NotExist;
        match kind {
            RedirKind::Read => ctx.open_chan(path, OREAD),
            RedirKind::Write => match ctx.create_chan(path, OWRITE, 0o666, false) {
                Err(error) if error.root() == &Error::Perm => ctx
                    .open_chan(path, OWRITE)
                    .map_err(|e| if missing(&e) { error } else { e }),
                result => result,
            },
            RedirKind::Append | RedirKind::ReadWrite => {
                let mode = if kind == RedirKind::Append {
                    OWRITE
                } else {
                    ORDWR
                };
                let chan = match ctx.open_chan(path, mode) {
                    Err(error) if missing(&error) => ctx.create_chan(path, mode, 0o666, false)?,
                    result => result?,
                };
                if kind == RedirKind::Append {
                    let length = ctx.stat_chan(&chan).map(|dir| dir.length).unwrap_or(0);
                    *chan.offset.lock() = length;
                }
                Ok(chan)
            }
        }
    }

    /// Runs a command given as a list (Inferno `Context.run`): a block, a function, a
    /// builtin, or a program found through `$path`.
    pub fn run_list(&mut self, ctx: &Ctx, argv: List, last: bool) -> Run {
        let Some(first) = argv.first() else {
            return Ok(String::new());
        };
        if first.is_block() {
            return self.run_block(ctx, argv, last);
        }
        let name = first.text().into_owned();
        if self.flags.execprint {
            let _ = ctx.write_all(
                2,
                format!("{}\n", super::value::quoted(&argv, false)).as_bytes(),
            );
        }
        let function = self.get(&format!("fn-{name}"));
        if let Some(body) = function.into_iter().next() {
            let mut call = vec![body];
            call.extend(argv.into_iter().skip(1));
            return self.run_list(ctx, call, last);
        }
        if let Some(builtin) = builtins::builtin(self, &name) {
            return builtin(self, ctx, argv, last);
        }
        self.run_external(ctx, argv, last)
    }

    /// Runs a block with `argv[1..]` as `$*` and the block as `$0` (Inferno `runblock`).
    pub fn run_block(&mut self, ctx: &Ctx, argv: List, last: bool) -> Run {
        let mut argv = argv.into_iter();
        let Some(block) = argv.next() else {
            return Ok(String::new());
        };
        let script = match &block {
            Value::Block(script) => script.clone(),
            Value::Word(text) => self.parse_block(ctx, text)?,
        };
        if self.depth >= MAX_DEPTH || stack_low() {
            return Err(self.fail(ctx, "too deep", "sh: blocks nested too deeply"));
        }
        self.depth += 1;
        self.push();
        self.set_local("0", vec![block]);
        self.set_local("*", argv.collect());
        let result = self.run_script(ctx, &script, last);
        self.pop();
        self.depth -= 1;
        result
    }

    /// Parses the text of a block, `{...}`, into its script.
    pub fn parse_block(&self, ctx: &Ctx, text: &str) -> Run<Arc<Script>> {
        let script = crate::syntax::parse(text)
            .map_err(|error| self.fail(ctx, "parse error", &format!("sh: {error}")))?;
        // The text is `{...}`: one statement whose only word is the block.
        if let [stmt] = script.0.as_slice()
            && !stmt.background
            && let Node::Pipeline(Pipeline {
                first: Command::Simple(items),
                rest,
            }) = &stmt.node
            && rest.is_empty()
            && let [Item::Word(word)] = items.as_slice()
            && let [crate::syntax::Part::Block(body)] = word.0.as_slice()
        {
            return Ok(body.clone());
        }
        Err(self.fail(ctx, "parse error", &format!("sh: not a block: {text}")))
    }

    /// Finds and runs an external program (Inferno `runexternal`): each directory of
    /// `$path` (default `/dis .`) in turn, unless the name is already a path; a native
    /// program runs in a new process, an executable file starting `#!` runs its interpreter.
    fn run_external(&mut self, ctx: &Ctx, argv: List, last: bool) -> Run {
        let argv = texts(&argv);
        let name = argv[0].clone();
        let absolute = ["/", "#", "./", "../"]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        let dirs = if absolute {
            vec![String::new()]
        } else {
            let path = self.get_texts("path");
            if path.is_empty() {
                vec!["/dis".to_string(), ".".to_string()]
            } else {
                path
            }
        };
        let mut first_error: Option<Error> = None;
        for dir in dirs {
            let path = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            match ctx.program(&path) {
                Ok(Some(program)) => {
                    let command = name.rsplit('/').next().unwrap_or(&name).to_string();
                    self.export(ctx);
                    if last {
                        // Nothing follows in this process: run the program in it, as Inferno
                        // does for a shell's last command, rather than in a new one.
                        ctx.proc.set_name(&command);
                        ctx.pctl(kernel::proc::NEWFD, &self.keep_fds)
                            .map_err(raise_kernel)?;
                        return Ok(match program(ctx, &argv) {
                            Ok(()) => String::new(),
                            Err(status) => status,
                        });
                    }
                    let fds = ctx.fds().keep_only(&self.keep_fds);
                    let proc = match ctx.spawn(&command, fds, move |ctx| program(ctx, &argv)) {
                        Ok(proc) => proc,
                        // A full process table fails this command, as any other error would;
                        // the script goes on and may try again.
                        Err(error) => {
                            self.diagnostic(ctx, &format!("{name}: {error}"));
                            return Ok(error.to_string());
                        }
                    };
                    return self.wait_for(ctx, &[proc]);
                }
                Ok(None) => match self.script_header(ctx, &path) {
                    Some(Ok(mut interpreter)) => {
                        interpreter.push(path);
                        interpreter.extend(argv.into_iter().skip(1));
                        return self.run_external(ctx, super::value::words(interpreter), last);
                    }
                    Some(Err(status)) => return Ok(status),
                    None => {
                        first_error.get_or_insert(Error::Perm.at(&path));
                    }
                },
                Err(error) if error.is_interrupt() => return Err(raise_kernel(error)),
                Err(error) if error.root() == &Error::NotExist => {
                    first_error.get_or_insert(error);
                }
                Err(error) => {
                    first_error = Some(error);
                    break;
                }
            }
        }
        let status = first_error.unwrap_or(Error::NotExist).to_string();
        self.diagnostic(ctx, &format!("{name}: {status}"));
        Ok(status)
    }

    /// The interpreter line of an executable script, `#!prog args`; None if the file is not
    /// executable; an error status for a bad header.
    fn script_header(&self, ctx: &Ctx, path: &str) -> Option<Result<Vec<String>, String>> {
        let dir = ctx.stat(path).ok()?;
        if dir.is_dir() || dir.mode & 0o111 == 0 {
            return None;
        }
        let chan = ctx.open_chan(path, OREAD).ok()?;
        let mut header = vec![0u8; 1024];
        let count = ctx.read_chan(&chan, &mut header, 0).unwrap_or(0);
        let line = header[..count]
            .split(|&byte| byte == b'\n')
            .next()
            .unwrap_or_default();
        if !line.starts_with(b"#!") || !header[..count].contains(&b'\n') && count == header.len() {
            self.diagnostic(ctx, &format!("bad script header on {path}"));
            return Some(Err("bad header".into()));
        }
        let words: Vec<String> = String::from_utf8_lossy(&line[2..])
            .split([' ', '\t'])
            .filter(|word| !word.is_empty())
            .map(str::to_string)
            .collect();
        if words.is_empty() {
            self.diagnostic(ctx, &format!("empty header on {path}"));
            return Some(Err("bad header".into()));
        }
        Some(Ok(words))
    }

    /// The text of a value for use as a block (for builtins taking `{cmd}` arguments).
    pub fn block_of(&self, ctx: &Ctx, value: &Value) -> Run<Arc<Script>> {
        match value {
            Value::Block(script) => Ok(script.clone()),
            Value::Word(text) if text.starts_with('{') => self.parse_block(ctx, text),
            Value::Word(text) => {
                Ok(Arc::new(crate::syntax::parse(text).map_err(|error| {
                    self.fail(ctx, "parse error", &format!("sh: {error}"))
                })?))
            }
        }
    }
}

/// `{...}` text of a block value, for messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Block(script) => block_text(script),
        Value::Word(text) => text.clone(),
    }
}
