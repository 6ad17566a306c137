//! The native programs served on `/dis` (Inferno's `appl/cmd/*.b`), and the conventions they
//! share: Plan 9-style flag parsing, buffered output, error reporting.
//!
//! Conventions every command keeps:
//! - `argv[0]` is the command's name; flags come first, clustered (`-ld`), `--` ends them;
//! - a bad flag prints `usage: ...` on descriptor 2 and fails with status `usage`;
//! - an error about a file names the command and the file, `cat: can't open x: '/x' file
//!   does not exist`, and the command goes on with the other files, failing at the end;
//! - output goes through [`Output`], which writes in large pieces and reports write errors.

use kernel::{Ctx, Exit, Program};

mod auth;
mod basic;
mod clock;
mod fs;
mod input;
mod man;
mod net;
pub(crate) mod ns;
mod os;
mod proc;
pub(crate) mod remote;
mod text;
mod tools;

pub use basic::programs as basic_programs;

/// Every program of this module (all but `sh`).
pub fn programs() -> Vec<(&'static str, Program)> {
    let mut programs = basic_programs();
    programs.extend(auth::programs());
    programs.extend(fs::programs());
    programs.extend(man::programs());
    programs.extend(net::programs());
    programs.extend(ns::programs());
    programs.extend(os::programs());
    programs.extend(proc::programs());
    programs.extend(remote::programs());
    programs.extend(text::programs());
    programs.extend(tools::programs());
    programs
}

/// The flags and operands of a command line.
#[derive(Debug, Default)]
pub struct Opts {
    flags: Vec<(char, Option<String>)>,
    /// The operands after the flags.
    pub args: Vec<String>,
}

impl Opts {
    /// Parses `argv[1..]` against `spec`: each letter is a flag, a letter followed by `:`
    /// takes a value (attached, `-n5`, or the next word, `-n 5`). Returns the offending
    /// letter for an unknown flag or a missing value.
    pub fn parse(argv: &[String], spec: &str) -> Result<Opts, char> {
        let mut opts = Opts::default();
        let mut index = 1;
        while index < argv.len() {
            let word = &argv[index];
            if word == "--" {
                index += 1;
                break;
            }
            if !word.starts_with('-') || word == "-" {
                break;
            }
            for (position, letter) in word[1..].char_indices() {
                let Some(at) = spec.find(letter).filter(|_| letter != ':') else {
                    return Err(letter);
                };
                if spec[at + letter.len_utf8()..].starts_with(':') {
                    let rest = &word[1 + position + letter.len_utf8()..];
                    let value = if rest.is_empty() {
                        index += 1;
                        argv.get(index).cloned().ok_or(letter)?
                    } else {
                        rest.to_string()
                    };
                    opts.flags.push((letter, Some(value)));
                    break;
                }
                opts.flags.push((letter, None));
            }
            index += 1;
        }
        opts.args = argv.get(index..).unwrap_or_default().to_vec();
        Ok(opts)
    }

    /// Whether flag `letter` was given.
    pub fn has(&self, letter: char) -> bool {
        self.flags.iter().any(|(flag, _)| *flag == letter)
    }

    /// The last value given with flag `letter`.
    pub fn value(&self, letter: char) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(flag, _)| *flag == letter)
            .and_then(|(_, value)| value.as_deref())
    }
}

/// Parses flags or prints `usage: <usage>` and returns the status to fail with.
pub fn parse_or_usage(ctx: &Ctx, argv: &[String], spec: &str, usage: &str) -> Result<Opts, String> {
    Opts::parse(argv, spec).map_err(|_| usage_error(ctx, usage))
}

/// Prints `usage: <text>` on descriptor 2; the status to fail with.
pub fn usage_error(ctx: &Ctx, text: &str) -> String {
    let _ = ctx.write_all(2, format!("usage: {text}\n").as_bytes());
    "usage".to_string()
}

/// Prints `<command>: <message>` on descriptor 2.
pub fn warn(ctx: &Ctx, argv: &[String], message: impl std::fmt::Display) {
    let name = argv.first().map_or("?", String::as_str);
    let _ = ctx.write_all(2, format!("{name}: {message}\n").as_bytes());
}

/// Prints `<command>: <message>` on descriptor 2 and returns it as the failure status.
pub fn fail(ctx: &Ctx, argv: &[String], message: impl std::fmt::Display) -> Exit {
    warn(ctx, argv, &message);
    Err(message.to_string())
}

/// Buffered output on a descriptor.
pub struct Output<'a> {
    ctx: &'a Ctx,
    fd: i32,
    buffer: Vec<u8>,
    error: Option<kernel::Error>,
}

impl<'a> Output<'a> {
    const LIMIT: usize = 8192;

    pub fn new(ctx: &'a Ctx, fd: i32) -> Output<'a> {
        Output {
            ctx,
            fd,
            buffer: Vec::with_capacity(Self::LIMIT),
            error: None,
        }
    }

    /// Standard output.
    pub fn stdout(ctx: &'a Ctx) -> Output<'a> {
        Output::new(ctx, 1)
    }

    pub fn bytes(&mut self, data: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.buffer.len() + data.len() > Self::LIMIT {
            self.flush_buffer();
        }
        if data.len() >= Self::LIMIT {
            if let Err(error) = self.ctx.write_all(self.fd, data) {
                self.error = Some(error);
            }
        } else {
            self.buffer.extend_from_slice(data);
        }
    }

    pub fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    pub fn line(&mut self, text: &str) {
        self.bytes(text.as_bytes());
        self.bytes(b"\n");
    }

    fn flush_buffer(&mut self) {
        if !self.buffer.is_empty()
            && self.error.is_none()
            && let Err(error) = self.ctx.write_all(self.fd, &self.buffer)
        {
            self.error = Some(error);
        }
        self.buffer.clear();
    }

    /// Writes what is buffered; the first write error, if any.
    pub fn flush(&mut self) -> Result<(), kernel::Error> {
        self.flush_buffer();
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl Drop for Output<'_> {
    fn drop(&mut self) {
        self.flush_buffer();
    }
}

/// The size of the reads `copy` makes.
pub const COPY_BUFFER: usize = 64 * 1024;

/// Copies everything from descriptor `from` to `out` (what `cat` does for each file).
pub fn copy(ctx: &Ctx, from: i32, out: &mut Output) -> Result<(), kernel::Error> {
    // As large as a mount's iounit, so a file read through 9P takes one round trip per 64 KiB
    // rather than per 8 KiB (Inferno's ATOMICIO).
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        let count = ctx.read(from, &mut buf)?;
        if count == 0 {
            return out.flush();
        }
        out.flush()?;
        ctx.write_all(out.fd, &buf[..count])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn flags_cluster_and_take_values() {
        let opts = Opts::parse(&argv(&["ls", "-ld", "-n5", "-n", "7", "x", "-y"]), "ldn:").unwrap();
        assert!(opts.has('l') && opts.has('d') && !opts.has('p'));
        assert_eq!(opts.value('n'), Some("7"));
        assert_eq!(opts.args, argv(&["x", "-y"]));
        assert_eq!(Opts::parse(&argv(&["ls", "-z"]), "l").unwrap_err(), 'z');
        assert_eq!(Opts::parse(&argv(&["head", "-n"]), "n:").unwrap_err(), 'n');
        let opts = Opts::parse(&argv(&["rm", "--", "-r"]), "r").unwrap();
        assert!(!opts.has('r'));
        assert_eq!(opts.args, argv(&["-r"]));
        assert_eq!(
            Opts::parse(&argv(&["cat", "-"]), "").unwrap().args,
            argv(&["-"])
        );
    }
}
