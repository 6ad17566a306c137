//! `nsbuild [file]`: builds the shell's namespace from a namespace(6) description (Inferno's
//! `nsbuild(1)` over `newns(2)`, `appl/lib/newns.b`).
//!
//! Each line is one operation: `bind [-abci] new old`, `mount [-abciA] [-k keyfile] src old
//! [spec]`, `unmount [-i] [name] old`, `cd dir`, `fork`, `new`, `nodev`, `. file`; blank lines
//! and lines whose first word starts with `#` are skipped; `$name` in a word is the variable's
//! value (up to `/`, `.` or `$`). `bind`, `mount` and `unmount` are the commands of those
//! names, so they take the same flags and say the same things when they fail.
//!
//! Unlike Inferno's, which runs as a separate process and so cannot make `new` or `fork` stick,
//! this is a builtin: every operation, `new` included, changes the namespace of the shell that
//! runs it, and so of every command it runs next. That is how a contained process is made:
//! `cd` to the jail, `new` makes it the whole tree, `nodev` keeps devices out.
//!
//! Invariants:
//! - The first failing line stops the build (unless its command has `-i`) and nsbuild fails
//!   with the file and line, so a sandbox is never started half built.
//! - An unset variable is an error, not an empty word (Inferno drops such a line silently,
//!   which could leave a sandbox wider than written).
//! - Files are read whole but bounded ([`MAX_FILE`]); `.` includes nest at most
//!   [`MAX_INCLUDES`] deep, so a file that includes itself fails instead of looping.

use super::super::context::Shell;
use super::super::eval::Run;
use super::super::value::texts;
use super::usage;
use crate::commands::{ns, remote};
use kernel::proc::{FORKENV, FORKNS, NEWNS, NODEVS};
use kernel::text::tokenize;
use kernel::{Ctx, Program};

/// Largest namespace file read.
pub const MAX_FILE: usize = 64 << 10;
/// How deep `.` includes may nest.
pub const MAX_INCLUDES: usize = 8;

/// `nsbuild [file]`: the file defaults to `namespace` in the current directory, else
/// `/lib/namespace` (as `newns(2)` looks for it).
pub fn nsbuild(shell: &mut Shell, ctx: &Ctx, argv: super::List, _last: bool) -> Run {
    let args = texts(&argv[1..]);
    let file = match args.as_slice() {
        [] if ctx.stat("namespace").is_ok() => "namespace".to_string(),
        [] => "/lib/namespace".to_string(),
        [file] => file.clone(),
        _ => return Err(usage(shell, ctx, "nsbuild [file]")),
    };
    match build(shell, ctx, &file, 0) {
        Ok(()) => Ok(String::new()),
        Err(message) => Err(shell.fail(ctx, "nsbuild failed", &format!("nsbuild: {message}"))),
    }
}

/// Carries out every line of `file`; the error names the file and line that failed.
fn build(shell: &mut Shell, ctx: &Ctx, file: &str, depth: usize) -> Result<(), String> {
    let bytes = ctx
        .read_file(file, MAX_FILE + 1)
        .map_err(|error| format!("cannot open {file}: {error}"))?;
    if bytes.len() > MAX_FILE {
        return Err(format!("{file}: longer than {MAX_FILE} bytes"));
    }
    let text = String::from_utf8_lossy(&bytes);
    for (index, line) in text.lines().enumerate() {
        let words = tokenize(line);
        if words.first().is_none_or(|first| first.starts_with('#')) {
            continue;
        }
        let words = words
            .iter()
            .map(|word| expand(shell, word))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| format!("{file}:{}: {message}", index + 1))?;
        match words.as_slice() {
            // An include's own errors already name its file and line.
            [dot, included] if dot == "." => {
                if depth + 1 >= MAX_INCLUDES {
                    return Err(format!(
                        "{file}:{}: includes nested more than {MAX_INCLUDES} deep",
                        index + 1
                    ));
                }
                build(shell, ctx, included, depth + 1)?;
            }
            _ => operation(shell, ctx, &words)
                .map_err(|message| format!("{file}:{}: {message}", index + 1))?,
        }
    }
    Ok(())
}

/// Replaces each `$name` in `word` by the variable's value, its elements joined by spaces.
fn expand(shell: &Shell, word: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let end = after.find(['/', '.', '$']).unwrap_or(after.len());
        let name = &after[..end];
        if name.is_empty() {
            out.push('$');
        } else {
            let value = shell.get(name);
            if value.is_empty() {
                return Err(format!("${name} is not set"));
            }
            out.push_str(&texts(&value).join(" "));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One line's operation (all but `.`, which [`build`] follows itself).
fn operation(shell: &mut Shell, ctx: &Ctx, words: &[String]) -> Result<(), String> {
    let args = &words[1..];
    match (words[0].as_str(), args) {
        (".", _) => Err(". needs one file name".to_string()),
        ("new", []) => {
            pctl(ctx, NEWNS | FORKENV)?;
            // The shell's variables go to the new environment, as `pctl forkenv` does.
            for name in shell.names() {
                let value = shell.get(&name);
                shell.set(&name, value);
            }
            Ok(())
        }
        ("fork", []) => pctl(ctx, FORKNS),
        ("nodev", []) => pctl(ctx, NODEVS),
        ("new" | "fork" | "nodev", _) => Err(format!("{} takes no arguments", words[0])),
        ("cd", [dir]) => ctx.chdir(dir).map_err(|error| format!("cd {dir}: {error}")),
        ("cd", _) => Err("cd: must have one argument".to_string()),
        ("bind", _) => command(ctx, ns::bind, words),
        ("mount", _) => command(ctx, remote::mount, words),
        ("unmount", _) => command(ctx, ns::unmount, words),
        (other, _) => Err(format!("invalid namespace command {other}")),
    }
}

fn pctl(ctx: &Ctx, flags: u32) -> Result<(), String> {
    ctx.pctl(flags, &[])
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// Runs `bind`, `mount` or `unmount` in the shell's own process, without the `-i` that only
/// nsbuild understands; with `-i` a failure is ignored.
fn command(ctx: &Ctx, program: Program, words: &[String]) -> Result<(), String> {
    let (argv, ignore) = without_ignore(words);
    match program(ctx, &argv) {
        Err(status) if !ignore => Err(format!("{} failed: {status}", words[0])),
        _ => Ok(()),
    }
}

/// Takes `i` out of the leading flag words; true if it was there. A `-k` consumes the next
/// word as its value.
fn without_ignore(words: &[String]) -> (Vec<String>, bool) {
    let mut out = vec![words[0].clone()];
    let mut ignore = false;
    let mut rest = words[1..].iter();
    while let Some(word) = rest.next() {
        if word == "--" || !word.starts_with('-') || word.len() == 1 {
            out.push(word.clone());
            out.extend(rest.cloned());
            break;
        }
        ignore |= word.contains('i');
        let flags: String = word.chars().filter(|&ch| ch != 'i').collect();
        let takes_value = flags.ends_with('k');
        if flags != "-" {
            out.push(flags);
        }
        if takes_value && let Some(value) = rest.next() {
            out.push(value.clone());
        }
    }
    (out, ignore)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
    }

    #[test]
    fn ignore_is_taken_out_of_the_flags() {
        assert_eq!(
            without_ignore(&words("bind -ia /x /y")),
            (words("bind -a /x /y"), true)
        );
        assert_eq!(
            without_ignore(&words("unmount -i /y")),
            (words("unmount /y"), true)
        );
        assert_eq!(
            without_ignore(&words("mount -k -i tcp!a!b /n")),
            (words("mount -k -i tcp!a!b /n"), false)
        );
        assert_eq!(
            without_ignore(&words("bind -b /x /y")),
            (words("bind -b /x /y"), false)
        );
    }
}
