//! `sh [-ilexn] [-c command] [file [arg ...]]`: Inferno's shell (`appl/cmd/sh/sh.b`).
//!
//! - `value`: lists of strings and blocks;
//! - `context`: variables, scopes, flags, export to `/env`;
//! - `expand`, `glob`: words to lists;
//! - `eval`: statements, pipelines, redirections, processes;
//! - `builtins`: the shell's builtins and `std`'s.
//!
//! A shell forks its namespace when it starts unless given `-n` (so binds made in
//! `sh -c {...}` stay there), and always gets its own descriptor table and environment copy.
//! Reading a script from a file or a pipe never prompts; a line that does not parse is
//! reported with its line number and ends a non-interactive shell.

pub mod builtins;
pub mod context;
pub mod eval;
pub mod expand;
pub mod glob;
pub mod interactive;
pub mod value;

use crate::syntax;
use context::Shell;
use eval::{Raise, Run, raise_kernel};
use kernel::{Ctx, Exit};
use value::{List, Value, words};

const USAGE: &str = "sh [-ilexn] [-c command] [file [arg...]]";
/// Largest script file read whole.
const MAX_SCRIPT: usize = 16 << 20;
/// Longest line accepted from a stream.
const MAX_LINE: usize = 1 << 20;

/// Options from the command line.
#[derive(Debug, Default)]
struct Options {
    interactive: bool,
    login: bool,
    keep_namespace: bool,
    errexit: bool,
    execprint: bool,
    command: Option<String>,
    args: Vec<String>,
}

fn parse_options(argv: &[String]) -> Result<Options, ()> {
    let mut options = Options {
        login: argv.first().is_some_and(|name| name.starts_with('-')),
        ..Options::default()
    };
    let mut index = 1;
    'words: while index < argv.len() && argv[index].starts_with('-') && argv[index].len() > 1 {
        let word = &argv[index];
        if word == "--" {
            index += 1;
            break;
        }
        for (position, letter) in word.char_indices().skip(1) {
            match letter {
                'i' => options.interactive = true,
                'l' => options.login = true,
                'n' => options.keep_namespace = true,
                'e' => options.errexit = true,
                'x' => options.execprint = true,
                'v' => {}
                'c' => {
                    let rest = &word[position + 1..];
                    let command = if !rest.is_empty() {
                        rest.to_string()
                    } else {
                        index += 1;
                        argv.get(index).cloned().ok_or(())?
                    };
                    options.command = Some(command);
                    index += 1;
                    continue 'words;
                }
                _ => return Err(()),
            }
        }
        index += 1;
    }
    options.args = argv.get(index..).unwrap_or_default().to_vec();
    Ok(options)
}

/// The `sh` program.
pub fn main(ctx: &Ctx, argv: &[String]) -> Exit {
    let Ok(options) = parse_options(argv) else {
        let _ = ctx.write_all(2, format!("usage: {USAGE}\n").as_bytes());
        return Err("usage".into());
    };
    let mut flags = kernel::proc::FORKFD | kernel::proc::FORKENV;
    if !options.keep_namespace {
        flags |= kernel::proc::FORKNS;
    }
    ctx.pctl(flags, &[]).map_err(|error| error.to_string())?;
    let mut shell = Shell::new(ctx);
    shell.flags.errexit = options.errexit;
    shell.flags.execprint = options.execprint;
    shell.flags.interactive = options.interactive;
    let outcome = run_shell(&mut shell, ctx, options);
    let status = match outcome {
        Ok(status) => status,
        Err(raise) => raise.status(),
    };
    if status.is_empty() {
        Ok(())
    } else {
        Err(status)
    }
}

fn run_shell(shell: &mut Shell, ctx: &Ctx, options: Options) -> Run {
    if let Some(command) = &options.command {
        // The newline ends a comment on the command's last line before the closing brace.
        let block = shell.parse_block(ctx, &format!("{{{command}\n}}"))?;
        let mut call: List = vec![Value::Block(block)];
        call.extend(words(options.args.clone()));
        let status = shell.run_list(ctx, call, !options.interactive)?;
        if !options.interactive {
            return Ok(status);
        }
        shell.set_status(&status);
    }
    if options.login {
        let _ = run_script_file(shell, ctx, "/lib/sh/profile", Vec::new(), false);
    }
    match options.args.split_first() {
        None => {
            if is_console(ctx) {
                shell.flags.interactive = true;
                return interactive::run(shell, ctx);
            }
            run_stream(shell, ctx, 0, "stdin")
        }
        Some((script, rest)) => run_script_file(shell, ctx, script, words(rest.to_vec()), true),
    }
}

/// Whether descriptor 0 is the console, and the console a terminal.
fn is_console(ctx: &Ctx) -> bool {
    use std::io::IsTerminal;
    let (Ok(input), Ok(console)) = (ctx.fstat(0), ctx.stat("/dev/cons")) else {
        return false;
    };
    input.ty == console.ty && input.qid.path == console.qid.path && std::io::stdin().is_terminal()
}

/// Runs the script at `path` with `$0` its path and `$*` `args` (Inferno `runscript`). A
/// script that cannot be opened is an error only if `report`.
pub fn run_script_file(shell: &mut Shell, ctx: &Ctx, path: &str, args: List, report: bool) -> Run {
    let source = match ctx.read_file(path, MAX_SCRIPT + 1) {
        // A script cut short could run half a command: refuse it whole.
        Ok(bytes) if bytes.len() > MAX_SCRIPT => {
            return Err(shell.fail(
                ctx,
                "script too long",
                &format!(
                    "sh: {path}: script too long (more than {} MiB)",
                    MAX_SCRIPT >> 20
                ),
            ));
        }
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) if error.is_interrupt() => return Err(raise_kernel(error)),
        Err(error) => {
            if !report {
                return Ok(String::new());
            }
            return Err(shell.fail(
                ctx,
                "bad script path",
                &format!("sh: cannot open {path}: {error}"),
            ));
        }
    };
    shell.push();
    shell.set_local("0", vec![Value::word(path)]);
    shell.set_local("*", args);
    let result = run_source(shell, ctx, &source);
    shell.pop();
    result
}

/// Runs a whole script text line by line, as Inferno reads a file.
fn run_source(shell: &mut Shell, ctx: &Ctx, source: &str) -> Run {
    let mut status = String::new();
    for line in syntax::parse_lines(source) {
        match line {
            Err(error) => {
                let _ = ctx.write_all(2, format!("sh: {error}\n").as_bytes());
                return Err(Raise::Exception("parse error".into()));
            }
            Ok(script) => {
                status = shell.run_script(ctx, &script, false)?;
                shell.set_status(&status);
                if shell.flags.errexit && !status.is_empty() {
                    break;
                }
            }
        }
    }
    Ok(status)
}

/// Reads one line from `fd`, a byte at a time so that nothing after it is taken from
/// commands that read the same input. None at end of file.
fn read_line(ctx: &Ctx, fd: i32) -> Run<Option<String>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match ctx.read(fd, &mut byte) {
            Ok(0) => break,
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' || line.len() >= MAX_LINE {
                    break;
                }
            }
            Err(error) => return Err(raise_kernel(error)),
        }
    }
    if line.is_empty() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// Reads and runs commands from a descriptor until its end: a script on a pipe, or the
/// console, with prompts when interactive (Inferno `runfile`).
fn run_stream(shell: &mut Shell, ctx: &Ctx, fd: i32, name: &str) -> Run {
    shell.push();
    shell.set_local("0", vec![Value::word(name)]);
    let mut status = String::new();
    let mut source = String::new();
    let mut line_number = 0usize;
    let mut first_line = 1usize;
    let result = loop {
        let interactive = shell.flags.interactive;
        if interactive {
            let prompt = shell.get_texts("prompt");
            let text = if source.is_empty() {
                prompt.first().cloned().unwrap_or_else(|| "; ".into())
            } else {
                prompt.get(1).cloned().unwrap_or_default()
            };
            let _ = ctx.write_all(2, text.as_bytes());
        }
        let line = match read_line(ctx, fd) {
            Ok(line) => line,
            Err(Raise::Exception(name)) if interactive && name == "interrupted" => {
                source.clear();
                let _ = ctx.write_all(2, b"\n");
                continue;
            }
            Err(raise) => break Err(raise),
        };
        let Some(line) = line else {
            if !source.trim().is_empty()
                && let Err(error) = syntax::parse(&source)
            {
                let _ = ctx.write_all(
                    2,
                    format!(
                        "sh: line {}: {}\n",
                        error.line() + first_line - 1,
                        error.kind()
                    )
                    .as_bytes(),
                );
                if !interactive {
                    break Err(Raise::Exception("parse error".into()));
                }
            }

            break Ok(status.clone());
        };
        line_number += 1;
        if source.len() > MAX_SCRIPT {
            let _ = ctx.write_all(2, b"sh: command too long\n");
            break Err(Raise::Exception("parse error".into()));
        }
        if source.is_empty() {
            first_line = line_number;
        }
        source.push_str(&line);
        let script = match syntax::parse(&source) {
            Err(error) if error.is_incomplete() => continue,
            Err(error) => {
                let _ = ctx.write_all(
                    2,
                    format!(
                        "sh: line {}: {}\n",
                        error.line() + first_line - 1,
                        error.kind()
                    )
                    .as_bytes(),
                );
                source.clear();
                if interactive {
                    continue;
                }
                break Err(Raise::Exception("parse error".into()));
            }
            Ok(script) => script,
        };
        source.clear();
        let outcome = shell.run_script(ctx, &script, false);
        status = match outcome {
            Ok(status) => status,
            Err(Raise::Exception(name)) if interactive => name,
            Err(raise) => break Err(raise),
        };
        shell.set_status(&status);
        if shell.flags.errexit && !status.is_empty() {
            break Ok(status.clone());
        }
    };
    shell.pop();
    result
}
