//! The device interface (Plan 9 `Dev`): the one trait every file server inside the kernel
//! implements, from `#c` to the 9P mount driver.
//!
//! A device has a tiny required core: `attach`, the directory generator `entry`, `stat`, `read`
//! and `write`. The rest is provided: `walk` by scanning `entry`, `open` with the usual permission
//! check, `dirread` by packing `entry`'s entries as stat records, and `create`/`remove`/`wstat`
//! refusing with "permission denied". Small devices come out tiny, as `devenv.c` does.
//!
//! Invariants: no device ever sees a 9P message; the kernel never asks a device to walk `..`
//! or `.` (names are cleaned lexically before resolution); the calling context comes first.

use crate::chan::{Aux, Chan, DirCursor};
use crate::error::{Error, Result};
use crate::proc::{Ctx, Program};
use ninep::{DMDIR, Dir, OREAD, OTRUNC, Qid};
use std::sync::Arc;

/// What an attach produces: the root of a device instance.
pub struct Attached {
    pub devno: u64,
    pub qid: Qid,
    pub aux: Aux,
}

impl Attached {
    /// The root of the device's only instance.
    pub fn root(qid: Qid) -> Attached {
        Attached {
            devno: 0,
            qid,
            aux: None,
        }
    }
}

/// A file server inside the kernel, named by one letter (`#c`, `#U`, ...).
pub trait Device: Send + Sync + 'static {
    /// The letter after `#`.
    fn letter(&self) -> char;

    /// The name listed in `/dev/drivers`.
    fn name(&self) -> &'static str;

    /// Attaches the root of the tree named by `spec` (the text after the letter).
    fn attach(&self, ctx: &Ctx, spec: &str) -> Result<Attached>;

    /// The `index`th entry of directory `dir`, or None past the last one.
    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>>;

    /// The directory entry describing `chan` itself.
    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir>;

    /// Reads from an open file (never a directory: the kernel routes those to `dirread`).
    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize>;

    /// Writes to an open file.
    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], offset: u64) -> Result<usize>;

    /// Walks one name (never `.` or `..`) from directory `chan`. The kernel names the result.
    fn walk(&self, ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        if !chan.is_dir() {
            return Err(Error::NotDir);
        }
        let mut index = 0;
        while let Some(entry) = self.entry(ctx, chan, index)? {
            if entry.name == name {
                return Ok(chan.walked(entry.qid));
            }
            index += 1;
        }
        Err(Error::NotExist)
    }

    /// Opens `chan` with `mode`; the default checks the mode against `stat`.
    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let dir = self.stat(ctx, &chan)?;
        check_open(ctx, &dir, mode)?;
        Ok(chan.opened(mode))
    }

    /// Creates `name` in directory `dir` and opens it with `mode`.
    fn create(&self, ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        let _ = (ctx, dir, name, perm, mode);
        Err(Error::Perm)
    }

    /// Removes the file `chan` names.
    fn remove(&self, ctx: &Ctx, chan: &Chan) -> Result<()> {
        let _ = (ctx, chan);
        Err(Error::Perm)
    }

    /// Changes the file's attributes; fields of `dir` equal to [`Dir::null`]'s are unchanged.
    fn wstat(&self, ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let _ = (ctx, chan, dir);
        Err(Error::Perm)
    }

    /// Called once when the last reference to an opened chan goes.
    fn close(&self, chan: &Chan) {
        let _ = chan;
    }

    /// Reads directory `chan` as packed stat records, from `entry`.
    fn dirread(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let mut cursor = chan.dir_cursor.lock();
        if offset == 0 {
            *cursor = DirCursor::default();
        } else if offset != cursor.offset {
            return Err(Error::DirSeek);
        }
        let mut out = Vec::with_capacity(buf.len().min(8192));
        let mut index = cursor.index;
        while let Some(entry) = self.entry(ctx, chan, index)? {
            if out.len() + entry.encoded_len() > buf.len() {
                if out.is_empty() {
                    return Err(Error::ShortIo);
                }
                break;
            }
            entry.encode(&mut out);
            index += 1;
        }
        buf[..out.len()].copy_from_slice(&out);
        cursor.offset = offset + out.len() as u64;
        cursor.index = index;
        Ok(out.len())
    }

    /// The native program behind an executable file, for devices that serve programs.
    fn program(&self, chan: &Chan) -> Option<Program> {
        let _ = chan;
        None
    }
}

/// Checks that `dir` may be opened with `mode` by the caller: directories only for reading,
/// and the permission bits for the caller's user.
pub fn check_open(ctx: &Ctx, dir: &Dir, mode: u8) -> Result<()> {
    if dir.mode & DMDIR != 0 && (mode & 3 != OREAD || mode & OTRUNC != 0) {
        return Err(Error::IsDir);
    }
    let user = ctx.user();
    if ninep::perm_allows(dir.mode, mode, dir.uid == user, dir.gid == user) {
        Ok(())
    } else {
        Err(Error::Perm)
    }
}

/// A directory entry for a file of `chan`'s device instance (Plan 9 `devdir`).
pub fn dir_entry(chan: &Chan, qid: Qid, name: &str, length: u64, owner: &str, perm: u32) -> Dir {
    let mode = if qid.is_dir() { perm | DMDIR } else { perm };
    let now = crate::time::now_secs();
    Dir {
        ty: chan.letter() as u16,
        dev: chan.devno as u32,
        qid,
        mode,
        atime: now,
        mtime: now,
        length,
        name: name.to_string(),
        uid: owner.to_string(),
        gid: owner.to_string(),
        muid: owner.to_string(),
    }
}

/// One row of a static directory table (Plan 9 `Dirtab`).
#[derive(Clone, Copy, Debug)]
pub struct DirTab {
    pub name: &'static str,
    pub qid: Qid,
    pub perm: u32,
}

impl DirTab {
    pub const fn file(name: &'static str, path: u64, perm: u32) -> DirTab {
        DirTab {
            name,
            qid: Qid::file(path),
            perm,
        }
    }

    pub const fn dir(name: &'static str, path: u64, perm: u32) -> DirTab {
        DirTab {
            name,
            qid: Qid::dir(path),
            perm,
        }
    }
}

/// `entry` for a one-level device whose root lists `table`.
pub fn table_entry(
    ctx: &Ctx,
    dir: &Chan,
    table: &[DirTab],
    index: usize,
    length: impl Fn(&DirTab) -> u64,
) -> Option<Dir> {
    table.get(index).map(|row| {
        dir_entry(
            dir,
            row.qid,
            row.name,
            length(row),
            &ctx.kernel().eve(),
            row.perm,
        )
    })
}

/// `stat` for a one-level device whose root is qid path `root_path` and whose files are in
/// `table`.
pub fn table_stat(
    ctx: &Ctx,
    chan: &Chan,
    table: &[DirTab],
    length: impl Fn(&DirTab) -> u64,
) -> Result<Dir> {
    let eve = ctx.kernel().eve();
    if chan.is_dir() && !table.iter().any(|row| row.qid.path == chan.qid.path) {
        let name = format!("#{}", chan.letter());
        return Ok(dir_entry(chan, chan.qid, &name, 0, &eve, 0o555));
    }
    table
        .iter()
        .find(|row| row.qid.path == chan.qid.path)
        .map(|row| dir_entry(chan, row.qid, row.name, length(row), &eve, row.perm))
        .ok_or(Error::NotExist)
}

/// Reads `text` at `offset` into `buf` (Plan 9 `readstr`).
pub fn read_str(text: &str, buf: &mut [u8], offset: u64) -> usize {
    read_bytes(text.as_bytes(), buf, offset)
}

/// Reads `data` at `offset` into `buf` (Plan 9 `readbuf`).
pub fn read_bytes(data: &[u8], buf: &mut [u8], offset: u64) -> usize {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let count = (data.len() - start).min(buf.len());
    buf[..count].copy_from_slice(&data[start..start + count]);
    count
}

/// A decimal number in Plan 9's fixed-width numeric file form: right-aligned in 11 columns
/// followed by a blank.
pub fn fixed_number(value: i64) -> String {
    format!("{value:>11} ")
}
