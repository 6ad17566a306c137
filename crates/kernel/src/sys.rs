//! The system calls programs make (Inferno's `Sys` module): open, read, write, bind, pctl, ...
//! as methods on the caller's [`Ctx`]. Descriptor calls go through the process's [`FdTable`];
//! the `_chan` forms work on chans directly, for kernel code such as `export`.
//!
//! Invariants: every call first checks for a kill or interrupt; a directory is read only as
//! packed stat records, and only from its start or from where the last read stopped; an
//! opened union directory reads its members in turn.

use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::fd::FdTable;
use crate::namespace::{Access, open_chan};
use crate::proc::{Ctx, Program};
use ninep::{DMDIR, Dir, ORDWR, OREAD};
use std::sync::Arc;

/// Largest count a single read or write moves (Inferno reads in 8 KiB; this bounds buffers
/// that a caller's count would size).
pub const MAX_IO: usize = 1 << 20;

/// Where a seek counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    Start,
    Current,
    End,
}

impl Ctx {
    /// Opens `path` and returns the new descriptor.
    pub fn open(&self, path: &str, mode: u8) -> Result<i32> {
        let chan = self.open_chan(path, mode)?;
        self.fds().install(chan)
    }

    /// Opens `path` as a chan.
    pub fn open_chan(&self, path: &str, mode: u8) -> Result<Arc<Chan>> {
        self.check()?;
        self.ns().open(self, path, mode)
    }

    /// Creates (or truncates) `path`; `perm` with DMDIR makes a directory.
    pub fn create(&self, path: &str, mode: u8, perm: u32) -> Result<i32> {
        let chan = self.create_chan(path, mode, perm, false)?;
        self.fds().install(chan)
    }

    /// Creates `path` as a chan; `exclusive` fails if it exists (Plan 9 OEXCL).
    pub fn create_chan(
        &self,
        path: &str,
        mode: u8,
        perm: u32,
        exclusive: bool,
    ) -> Result<Arc<Chan>> {
        self.check()?;
        self.ns().create(self, path, mode, perm, exclusive)
    }

    /// Makes directory `path`.
    pub fn mkdir(&self, path: &str, perm: u32) -> Result<()> {
        self.create_chan(path, OREAD, DMDIR | (perm & 0o777), true)
            .map(drop)
    }

    pub fn close(&self, fd: i32) -> Result<()> {
        self.fds().close(fd)
    }

    /// Reads at the descriptor's offset and advances it.
    pub fn read(&self, fd: i32, buf: &mut [u8]) -> Result<usize> {
        let chan = self.fds().get(fd)?;
        let offset = *chan.offset.lock();
        let count = self.read_chan(&chan, buf, offset)?;
        *chan.offset.lock() = offset + count as u64;
        Ok(count)
    }

    /// Reads at `offset`, leaving the descriptor's offset alone.
    pub fn pread(&self, fd: i32, buf: &mut [u8], offset: u64) -> Result<usize> {
        let chan = self.fds().get(fd)?;
        self.read_chan(&chan, buf, offset)
    }

    /// Reads from an opened chan at `offset`.
    pub fn read_chan(&self, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.check()?;
        let mode = chan.mode.ok_or(Error::NotOpen)?;
        if !mode.readable() {
            return Err(Error::BadUseFd);
        }
        let limit = buf.len().min(MAX_IO);
        let buf = &mut buf[..limit];
        if chan.is_dir() {
            let mut union = chan.union.lock();
            if let Some(union) = union.as_mut() {
                if offset == 0 {
                    union.rewind();
                }
                return union.read(self, buf);
            }
            drop(union);
            return chan.dev.dirread(self, chan, buf, offset);
        }
        chan.dev.read(self, chan, buf, offset)
    }

    /// Writes at the descriptor's offset and advances it.
    pub fn write(&self, fd: i32, data: &[u8]) -> Result<usize> {
        let chan = self.fds().get(fd)?;
        let offset = *chan.offset.lock();
        let count = self.write_chan(&chan, data, offset)?;
        *chan.offset.lock() = offset + count as u64;
        Ok(count)
    }

    /// Writes at `offset`.
    pub fn pwrite(&self, fd: i32, data: &[u8], offset: u64) -> Result<usize> {
        let chan = self.fds().get(fd)?;
        self.write_chan(&chan, data, offset)
    }

    /// Writes all of `data`, in pieces of at most [`MAX_IO`].
    pub fn write_all(&self, fd: i32, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let piece = &data[..data.len().min(MAX_IO)];
            let count = self.write(fd, piece)?;
            if count == 0 {
                return Err(Error::Io);
            }
            data = &data[count..];
        }
        Ok(())
    }

    /// Writes to an opened chan at `offset`.
    pub fn write_chan(&self, chan: &Chan, data: &[u8], offset: u64) -> Result<usize> {
        self.check()?;
        let mode = chan.mode.ok_or(Error::NotOpen)?;
        if !mode.writable() {
            return Err(Error::BadUseFd);
        }
        if chan.is_dir() {
            return Err(Error::IsDir);
        }
        let data = &data[..data.len().min(MAX_IO)];
        chan.dev.write(self, chan, data, offset)
    }

    /// Moves the descriptor's offset. Directories may only go back to their start.
    pub fn seek(&self, fd: i32, offset: i64, whence: Whence) -> Result<u64> {
        let chan = self.fds().get(fd)?;
        let base = match whence {
            Whence::Start => 0,
            Whence::Current => *chan.offset.lock() as i64,
            Whence::End => self.stat_chan(&chan)?.length as i64,
        };
        let target = base.checked_add(offset).ok_or(Error::BadArg)?;
        if target < 0 {
            return Err(Error::NegativeOffset);
        }
        if chan.is_dir() {
            if target != 0 {
                return Err(Error::DirSeek);
            }
            if let Some(union) = chan.union.lock().as_mut() {
                union.rewind();
            }
        }
        *chan.offset.lock() = target as u64;
        Ok(target as u64)
    }

    /// Makes `new` (or the lowest free descriptor, if `new` is negative) refer to `old`'s
    /// chan.
    pub fn dup(&self, old: i32, new: i32) -> Result<i32> {
        let fds = self.fds();
        let chan = fds.get(old)?;
        if new < 0 {
            return fds.install(chan);
        }
        if new != old {
            fds.install_at(new, chan)?;
        }
        Ok(new)
    }

    /// The name the descriptor's chan was reached by.
    pub fn fd2path(&self, fd: i32) -> Result<String> {
        Ok(self.fds().get(fd)?.name.to_string())
    }

    /// The directory entry for `path`, named by its last element.
    pub fn stat(&self, path: &str) -> Result<Dir> {
        self.check()?;
        let resolved = self.ns().resolve(self, path, Access::Open)?;
        let chan = resolved.chan;
        let mut dir = chan.dev.stat(self, &chan).map_err(|error| error.at(path))?;
        rename_for_path(&mut dir, &chan);
        Ok(dir)
    }

    /// The directory entry for an open descriptor.
    pub fn fstat(&self, fd: i32) -> Result<Dir> {
        let chan = self.fds().get(fd)?;
        self.stat_chan(&chan)
    }

    /// The directory entry for a chan, named by its last element.
    pub fn stat_chan(&self, chan: &Chan) -> Result<Dir> {
        self.check()?;
        let mut dir = chan.dev.stat(self, chan)?;
        rename_for_path(&mut dir, chan);
        Ok(dir)
    }

    /// Changes attributes of `path`.
    pub fn wstat(&self, path: &str, dir: &Dir) -> Result<()> {
        self.check()?;
        let chan = self.ns().resolve(self, path, Access::Open)?.chan;
        chan.dev
            .wstat(self, &chan, dir)
            .map_err(|error| error.at(path))
    }

    /// Changes attributes of an open descriptor's file.
    pub fn fwstat(&self, fd: i32, dir: &Dir) -> Result<()> {
        self.check()?;
        let chan = self.fds().get(fd)?;
        chan.dev.wstat(self, &chan, dir)
    }

    /// Removes `path`.
    pub fn remove(&self, path: &str) -> Result<()> {
        self.check()?;
        let chan = self.ns().resolve(self, path, Access::Open)?.chan;
        chan.dev.remove(self, &chan).map_err(|error| error.at(path))
    }

    /// Reads the next entries of an open directory; an empty list is the end.
    pub fn dirread(&self, fd: i32) -> Result<Vec<Dir>> {
        let mut buf = vec![0u8; 16 * 1024];
        let count = self.read(fd, &mut buf)?;
        Ok(Dir::decode_all(&buf[..count])?)
    }

    /// Every entry of directory `path`.
    pub fn read_dir(&self, path: &str) -> Result<Vec<Dir>> {
        let fd = self.open(path, OREAD)?;
        let mut entries = Vec::new();
        let result = loop {
            match self.dirread(fd) {
                Ok(batch) if batch.is_empty() => break Ok(entries),
                Ok(mut batch) => entries.append(&mut batch),
                Err(error) => break Err(error),
            }
        };
        let _ = self.close(fd);
        result
    }

    /// The whole contents of `path` (at most `limit` bytes).
    pub fn read_file(&self, path: &str, limit: usize) -> Result<Vec<u8>> {
        let chan = self.open_chan(path, OREAD)?;
        let mut data = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            let count = self.read_chan(&chan, &mut buf, data.len() as u64)?;
            if count == 0 || data.len() >= limit {
                break;
            }
            data.extend_from_slice(&buf[..count.min(limit - data.len())]);
        }
        Ok(data)
    }

    /// Changes the current directory.
    pub fn chdir(&self, path: &str) -> Result<()> {
        self.check()?;
        self.ns().chdir(self, path)
    }

    /// The current directory's name.
    pub fn getwd(&self) -> String {
        self.ns().dot_name()
    }

    /// Binds `new` onto `old` (Inferno `sys->bind`).
    pub fn bind(&self, new: &str, old: &str, flags: u32) -> Result<u64> {
        self.check()?;
        self.ns().bind(self, new, old, flags)
    }

    /// Mounts the 9P server on connection `conn` onto `old` with `flags`, attaching `aname`
    /// (Inferno `sys->mount`). Returns the mount id.
    pub fn mount(&self, conn: Arc<Chan>, old: &str, flags: u32, aname: &str) -> Result<u64> {
        self.check()?;
        let ns = self.ns();
        let target = ns.resolve(self, old, Access::Mount)?.chan;
        let reader = Ctx::new(self.kernel().kproc("mnt", ns.clone()));
        let transport = Arc::new(crate::transport::ChanTransport::new(
            reader,
            conn.clone(),
            conn.clone(),
        ));
        let name = conn.name.to_string();
        let root = crate::mnt::attach(self, transport, Some(conn), &name, aname)?;
        ns.mount_chan(root, None, target, flags, aname)
    }

    /// Undoes a bind or mount on `old` (all of them, or just `name`'s).
    pub fn unmount(&self, name: Option<&str>, old: &str) -> Result<()> {
        self.check()?;
        self.ns().unmount(self, name, old)
    }

    /// A new pipe: two descriptors, each end readable and writable.
    pub fn pipe(&self) -> Result<[i32; 2]> {
        let [end0, end1] = self.pipe_chans()?;
        let fds = self.fds();
        let first = fds.install(end0)?;
        match fds.install(end1) {
            Ok(second) => Ok([first, second]),
            Err(error) => {
                let _ = fds.close(first);
                Err(error)
            }
        }
    }

    /// A new pipe as two chans (the `#|` device's `data` and `data1`).
    pub fn pipe_chans(&self) -> Result<[Arc<Chan>; 2]> {
        self.check()?;
        let ns = self.ns();
        let root = ns.attach(self, '|', "")?;
        let end0 = root.dev.walk(self, &root, "data")?;
        let end1 = root.dev.walk(self, &root, "data1")?;
        Ok([open_chan(self, end0, ORDWR)?, open_chan(self, end1, ORDWR)?])
    }

    /// Changes the process's groups (Inferno `sys->pctl`).
    pub fn pctl(&self, flags: u32, keep: &[i32]) -> Result<u32> {
        self.check()?;
        self.proc.pctl(flags, keep)
    }

    /// The native program behind `path`, if it names one (a file served from `/dis`).
    pub fn program(&self, path: &str) -> Result<Option<Program>> {
        self.check()?;
        let chan = self.ns().resolve(self, path, Access::Open)?.chan;
        if chan.is_dir() {
            return Err(Error::ExecDir.at(path));
        }
        Ok(chan.dev.program(&chan))
    }

    /// A descriptor table holding this process's descriptors `keep`, for a child.
    pub fn fds_keeping(&self, keep: &[i32]) -> FdTable {
        self.fds().keep_only(keep)
    }
}

/// A mounted root's own entry names it by the device (`#c`); stat through a path reports the
/// name it was reached by, as Plan 9 does.
fn rename_for_path(dir: &mut Dir, chan: &Chan) {
    if chan.name.as_ref() == "/" {
        dir.name = "/".to_string();
    } else if !chan.name.starts_with('#') || chan.name.contains('/') {
        dir.name = chan.base_name().to_string();
    }
}
