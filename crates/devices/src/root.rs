//! `#/`: the root skeleton (Inferno `devroot.c`), a read-only directory of the mount points
//! the boot namespace binds devices on: `/dev`, `/prog`, `/net`, ... It exists so those names
//! are there whatever the host root tree holds.
//!
//! Invariants: read-only; a single instance; no attach specifier.

use kernel::dev::{DirTab, table_entry, table_stat};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};

const ROOT: u64 = 0;

const SKELETON: [DirTab; 12] = [
    DirTab::dir("chan", 1, 0o555),
    DirTab::dir("dev", 2, 0o555),
    DirTab::dir("dis", 3, 0o555),
    DirTab::dir("env", 4, 0o555),
    DirTab::dir("fd", 5, 0o555),
    DirTab::dir("net", 6, 0o555),
    DirTab::dir("net.alt", 7, 0o555),
    DirTab::dir("nvfs", 8, 0o555),
    DirTab::dir("prog", 9, 0o555),
    DirTab::dir("srv", 10, 0o555),
    DirTab::dir("n", 11, 0o555),
    DirTab::dir("mnt", 12, 0o555),
];

/// The root skeleton device.
pub struct Root;

impl Root {
    pub fn new() -> Root {
        Root
    }
}

impl Default for Root {
    fn default() -> Root {
        Root::new()
    }
}

impl Device for Root {
    fn letter(&self) -> char {
        '/'
    }

    fn name(&self) -> &'static str {
        "root"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(Qid::dir(ROOT)))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        if dir.qid.path != ROOT {
            return Ok(None);
        }
        Ok(table_entry(ctx, dir, &SKELETON, index, |_| 0))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        table_stat(ctx, chan, &SKELETON, |_| 0)
    }

    fn read(&self, _ctx: &Ctx, _chan: &Chan, _buf: &mut [u8], _offset: u64) -> Result<usize> {
        Err(Error::IsDir)
    }

    fn write(&self, _ctx: &Ctx, _chan: &Chan, _data: &[u8], _offset: u64) -> Result<usize> {
        Err(Error::Perm)
    }
}
