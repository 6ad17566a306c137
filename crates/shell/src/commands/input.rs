//! Reading helpers the commands share: operands opened as inputs (`-` is standard input), a
//! buffered reader that hands out lines, and the loop over a command's file operands (Plan 9's
//! `Biobuf` and the `for(i=0; i<argc; i++) open...` idiom every filter repeats).
//!
//! Invariants: nothing here reads a file whole; a line is never longer than [`MAX_LINE`] bytes
//! (a longer one comes back in pieces), so no input can make a command's memory grow without
//! bound; an interrupt or a kill always ends the loop with that status.

use super::warn;
use kernel::{Ctx, Error, Exit};
use ninep::OREAD;

/// Longest line handed out in one piece.
pub const MAX_LINE: usize = 1 << 20;
/// Most input a command that must hold all of it (`sort`, `tail`) keeps in memory.
pub const MAX_HELD: usize = 64 << 20;

/// An input operand, open for reading; closed when dropped unless it is standard input.
pub struct Opened<'a> {
    ctx: &'a Ctx,
    pub fd: i32,
    owned: bool,
}

impl<'a> Opened<'a> {
    /// Opens `name` for reading; `-` is descriptor 0.
    pub fn open(ctx: &'a Ctx, name: &str) -> kernel::Result<Opened<'a>> {
        if name == "-" {
            return Ok(Opened::stdin(ctx));
        }
        let fd = ctx.open(name, OREAD)?;
        Ok(Opened {
            ctx,
            fd,
            owned: true,
        })
    }

    pub fn stdin(ctx: &'a Ctx) -> Opened<'a> {
        Opened {
            ctx,
            fd: 0,
            owned: false,
        }
    }
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.ctx.close(self.fd);
        }
    }
}

/// A buffered reader on a descriptor.
pub struct Input<'a> {
    ctx: &'a Ctx,
    fd: i32,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl<'a> Input<'a> {
    const SIZE: usize = 8192;

    pub fn new(ctx: &'a Ctx, fd: i32) -> Input<'a> {
        Input {
            ctx,
            fd,
            buffer: vec![0; Self::SIZE],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// Refills the buffer if it is empty; false at end of file.
    fn fill(&mut self) -> kernel::Result<bool> {
        if self.start < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        let count = self.ctx.read(self.fd, &mut self.buffer)?;
        self.start = 0;
        self.end = count;
        if count == 0 {
            self.eof = true;
        }
        Ok(count > 0)
    }

    /// The next buffered bytes, or None at end of file; `consume` says how many were used.
    pub fn chunk(&mut self) -> kernel::Result<Option<&[u8]>> {
        if !self.fill()? {
            return Ok(None);
        }
        Ok(Some(&self.buffer[self.start..self.end]))
    }

    pub fn consume(&mut self, count: usize) {
        self.start = (self.start + count).min(self.end);
    }

    /// Replaces `line` with the next line, newline included (the last line of a file may
    /// lack it). False at end of file. A line longer than [`MAX_LINE`] comes in pieces.
    pub fn line(&mut self, line: &mut Vec<u8>) -> kernel::Result<bool> {
        line.clear();
        while line.len() < MAX_LINE {
            let Some(chunk) = self.chunk()? else {
                return Ok(!line.is_empty());
            };
            let room = MAX_LINE - line.len();
            let window = &chunk[..chunk.len().min(room)];
            match window.iter().position(|&byte| byte == b'\n') {
                Some(index) => {
                    line.extend_from_slice(&window[..=index]);
                    self.consume(index + 1);
                    return Ok(true);
                }
                None => {
                    let taken = window.len();
                    line.extend_from_slice(window);
                    self.consume(taken);
                }
            }
        }
        Ok(true)
    }
}

/// What went wrong while going through a command's files.
pub enum Trouble {
    /// Some file could not be opened or read; the others were done.
    Some,
    /// An interrupt or kill: stop with this status.
    Stop(String),
}

/// Runs `each` on every operand in turn (standard input if there are none), each opened as
/// an [`Opened`]. Open errors are reported as `cmd: cannot open f: error`, read errors as
/// `cmd: error reading f: error`, and the other files are still done.
pub fn each_file<F>(
    ctx: &Ctx,
    argv: &[String],
    files: &[String],
    mut each: F,
) -> Result<(), Trouble>
where
    F: FnMut(&str, i32) -> kernel::Result<()>,
{
    let stdin = ["-".to_string()];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let mut troubled = false;
    for file in files {
        let opened = match Opened::open(ctx, file) {
            Ok(opened) => opened,
            Err(error) => {
                if error.is_interrupt() {
                    return Err(Trouble::Stop(error.to_string()));
                }
                warn(ctx, argv, format!("cannot open {file}: {error}"));
                troubled = true;
                continue;
            }
        };
        if let Err(error) = each(file, opened.fd) {
            if error.is_interrupt() {
                return Err(Trouble::Stop(error.to_string()));
            }
            warn(ctx, argv, format!("error reading {file}: {error}"));
            troubled = true;
        }
    }
    if troubled { Err(Trouble::Some) } else { Ok(()) }
}

/// Prints `cmd: message` and fails with the short form of `error` (`file does not exist`,
/// `interrupted`, ...), for commands whose one operation failed. An interrupt, and a reader
/// that went away (`write on closed pipe`, as when `seq | head` has seen enough), end the
/// command without a word.
pub fn failed(ctx: &Ctx, argv: &[String], message: impl std::fmt::Display, error: &Error) -> Exit {
    if !error.is_interrupt() && error.root() != &Error::ClosedPipe {
        warn(ctx, argv, message);
    }
    Err(error.root().to_string())
}
