//! The interactive shell: a prompt with line editing (rustyline), history kept in the user's
//! home in the root tree (`$home/lib/history`), and Tab completion of command names and of
//! paths as the process's namespace sees them (never the host's).
//!
//! The interrupt key: while a line is being edited it clears the line; while a command runs,
//! ember's signal thread interrupts this shell (it is the console's target), whose wait for
//! the command passes the interrupt on, and the prompt comes back. End of file at an empty
//! prompt ends the shell.
//!
//! Invariant: the host terminal is only touched through rustyline, which restores it before
//! each command runs, so commands reading `/dev/cons` get the host's line discipline.

use super::context::Shell;
use super::eval::{Raise, Run};
use crate::syntax;
use kernel::Ctx;
use ninep::OWRITE;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History};
use rustyline::validate::Validator;
use rustyline::{Config, Editor, Helper};

/// Most history lines kept.
const HISTORY: usize = 1000;

/// Completion over the caller's namespace.
struct Completion {
    ctx: Ctx,
    /// `$path` when the line was started.
    path: Vec<String>,
    /// Functions defined when the line was started.
    functions: Vec<String>,
}

/// Characters that end a word for completion.
fn word_break(ch: char) -> bool {
    ch.is_whitespace()
        || matches!(
            ch,
            ';' | '&' | '|' | '{' | '}' | '(' | ')' | '<' | '>' | '`' | '^' | '='
        )
}

impl Completion {
    /// Names in `dir` starting with `prefix`, directories marked with a trailing `/`.
    fn names_in(&self, dir: &str, prefix: &str) -> Vec<(String, bool)> {
        let Ok(entries) = self.ctx.read_dir(dir) else {
            return Vec::new();
        };
        let mut names: Vec<(String, bool)> = entries
            .into_iter()
            .filter(|entry| entry.name.starts_with(prefix))
            .map(|entry| {
                let is_dir = entry.is_dir();
                (entry.name, is_dir)
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn commands(&self, prefix: &str) -> Vec<Pair> {
        let mut names: Vec<String> = super::builtins::names()
            .map(str::to_string)
            .chain(self.functions.iter().cloned())
            .filter(|name| name.starts_with(prefix))
            .collect();
        for dir in &self.path {
            names.extend(
                self.names_in(dir, prefix)
                    .into_iter()
                    .filter(|(_, is_dir)| !is_dir)
                    .map(|(name, _)| name),
            );
        }
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|name| Pair {
                display: name.clone(),
                replacement: format!("{} ", kernel::text::quote(&name)),
            })
            .collect()
    }

    fn paths(&self, word: &str) -> Vec<Pair> {
        self.paths_below(".", word)
    }

    /// Completions of `word`, a path relative to `base` unless it starts with `/` or `#`.
    fn paths_below(&self, base: &str, word: &str) -> Vec<Pair> {
        let (dir, prefix) = match word.rfind('/') {
            Some(0) => ("/".to_string(), &word[1..]),
            Some(index) => (word[..index].to_string(), &word[index + 1..]),
            None => (".".to_string(), word),
        };
        let dir = if dir.starts_with(['/', '#']) || base == "." {
            dir
        } else if dir == "." {
            base.to_string()
        } else {
            format!("{base}/{dir}")
        };
        let head = match word.rfind('/') {
            Some(index) => &word[..=index],
            None => "",
        };
        self.names_in(&dir, prefix)
            .into_iter()
            .map(|(name, is_dir)| {
                let full = format!("{head}{name}");
                let replacement = if is_dir {
                    format!("{}/", kernel::text::quote(&full))
                } else {
                    format!("{} ", kernel::text::quote(&full))
                };
                Pair {
                    display: if is_dir { format!("{name}/") } else { name },
                    replacement,
                }
            })
            .collect()
    }
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, ch)| word_break(*ch))
            .map_or(0, |(index, ch)| index + ch.len_utf8());
        let word = &before[start..];
        let previous = before[..start].trim_end();
        let command_position = previous.is_empty() || previous.ends_with([';', '&', '|', '{', '(']);
        let explicit = ["/", "./", "../", "#"]
            .iter()
            .any(|start| word.starts_with(start));
        let candidates = if word.is_empty() {
            // Nothing to complete: Tab inserts nothing (an indented paste stays as typed).
            Vec::new()
        } else if command_position && !word.contains('/') {
            self.commands(word)
        } else if command_position && !explicit {
            // `auth/k`: a command in a directory of $path, as well as a path from here.
            let mut found = self.paths(word);
            for dir in &self.path {
                found.extend(self.paths_below(dir, word));
            }
            found.sort_by(|a, b| a.replacement.cmp(&b.replacement));
            found.dedup_by(|a, b| a.replacement == b.replacement);
            found
        } else {
            self.paths(word)
        };
        Ok((start, candidates))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl Helper for Completion {}

/// Where the history lives in the namespace.
fn history_path(shell: &Shell, ctx: &Ctx) -> String {
    let home = shell.get_texts("home").into_iter().next();
    let home = home.unwrap_or_else(|| format!("/usr/{}", ctx.user()));
    format!("{home}/lib/history")
}

fn load_history(ctx: &Ctx, path: &str, editor: &mut Editor<Completion, DefaultHistory>) {
    let Ok(bytes) = ctx.read_file(path, 1 << 20) else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    for line in &lines[lines.len().saturating_sub(HISTORY)..] {
        let _ = editor.history_mut().add(line);
    }
}

fn append_history(ctx: &Ctx, path: &str, entry: &str) {
    let chan = match ctx.open_chan(path, OWRITE) {
        Ok(chan) => chan,
        Err(_) => {
            if let Some((dir, _)) = path.rsplit_once('/') {
                let _ = ctx.mkdir(dir, 0o775);
            }
            match ctx.create_chan(path, OWRITE, 0o600, false) {
                Ok(chan) => chan,
                Err(_) => return,
            }
        }
    };
    let length = ctx.stat_chan(&chan).map_or(0, |dir| dir.length);
    let _ = ctx.write_chan(&chan, format!("{entry}\n").as_bytes(), length);
}

/// Reads, edits and runs command lines until end of file at an empty prompt.
pub fn run(shell: &mut Shell, ctx: &Ctx) -> Run {
    let config = Config::builder()
        .max_history_size(HISTORY)
        .map_err(|error| Raise::Exception(error.to_string()))?
        .auto_add_history(false)
        .build();
    let mut editor: Editor<Completion, DefaultHistory> = Editor::with_config(config)
        .map_err(|error| Raise::Exception(format!("cannot edit lines: {error}")))?;
    let history = history_path(shell, ctx);
    editor.set_helper(Some(Completion {
        ctx: ctx.clone(),
        path: Vec::new(),
        functions: Vec::new(),
    }));
    load_history(ctx, &history, &mut editor);
    ctx.kernel().set_console_target(Some(ctx.pid()));
    let mut status = String::new();
    let mut source = String::new();
    let result = loop {
        if let Some(helper) = editor.helper_mut() {
            let path = shell.get_texts("path");
            helper.path = if path.is_empty() {
                vec!["/dis".into(), ".".into()]
            } else {
                path
            };
            helper.functions = shell
                .names()
                .into_iter()
                .filter_map(|name| name.strip_prefix("fn-").map(str::to_string))
                .collect();
        }
        let prompts = shell.get_texts("prompt");
        let prompt = if source.is_empty() {
            prompts.first().cloned().unwrap_or_else(|| "% ".into())
        } else {
            prompts.get(1).cloned().unwrap_or_default()
        };
        // An interrupt that arrived while no command ran must not hit the next one.
        let _ = ctx.check();
        // Output that did not end its line (`echo -n abc`) stays visible: the prompt, which
        // is drawn from the start of a line, goes on the next one.
        if ctx.kernel().take_console_mid_line() {
            let _ = ctx.write_all(1, b"\n");
            ctx.kernel().take_console_mid_line();
        }
        match editor.readline(&prompt) {
            Ok(line) => {
                source.push_str(&line);
                source.push('\n');
            }
            Err(ReadlineError::Interrupted) => {
                source.clear();
                continue;
            }
            Err(ReadlineError::Eof) => {
                if source.trim().is_empty() {
                    break Ok(status);
                }
                if let Err(error) = syntax::parse(&source) {
                    let _ = ctx.write_all(2, format!("sh: {error}\n").as_bytes());
                }
                source.clear();
                continue;
            }
            Err(error) => break Err(Raise::Exception(format!("console: {error}"))),
        }
        let script = match syntax::parse(&source) {
            Err(error) if error.is_incomplete() => continue,
            Err(error) => {
                let _ = ctx.write_all(2, format!("sh: {error}\n").as_bytes());
                source.clear();
                continue;
            }
            Ok(script) => script,
        };
        let entry = source.trim_end().to_string();
        source.clear();
        if script.0.is_empty() {
            continue;
        }
        let _ = editor.history_mut().add(&entry);
        append_history(ctx, &history, &entry);
        let outcome = shell.run_script(ctx, &script, false);
        let _ = ctx.check();
        status = match outcome {
            Ok(status) => status,
            Err(Raise::Exception(name)) => {
                if name == "interrupted" {
                    let _ = ctx.write_all(2, b"\n");
                }
                name
            }
            Err(raise) => break Err(raise),
        };
        shell.set_status(&status);
    };
    ctx.kernel().set_console_target(None);
    result
}
