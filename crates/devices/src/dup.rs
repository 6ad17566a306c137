//! `#d`: the caller's open descriptors as files (Inferno `devdup.c`), bound on `/fd`. For each
//! open descriptor N the directory lists `N`, whose open returns the very chan behind N (so
//! `/fd/0` shares descriptor 0's offset), and `Nctl`, which reads one line describing it in the
//! format of `/prog/N/fd` ([`fd_line`], also used by `#p`).
//!
//! Invariants: the listing is always the calling process's own table, read at the time of the
//! call; opening `N` never widens access (the mode asked for must be one the descriptor
//! allows); nothing here keeps a descriptor's chan alive beyond the call that looked at it.

use kernel::dev::{check_open, dir_entry, read_str};
use kernel::fd::MAX_FDS;
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use ninep::{OEXEC, ORDWR, OREAD, OWRITE};
use std::sync::Arc;

/// One line of `/prog/N/fd` and `/fd/Nctl`, newline included, in Inferno's format
/// `%3d %.2s %C %4ld (%.16llux %*lud %.2ux) %5ld %8lld %s`: descriptor, open mode (`r`, `w`,
/// `rw`), device letter, device instance, qid path, version and type, iounit (0: ember keeps
/// none), offset, and the name the chan was reached by.
pub fn fd_line(fd: i32, chan: &Chan) -> String {
    fd_line_padded(fd, chan, 0)
}

/// [`fd_line`] with the qid version right-aligned in `version_width` columns (0: as wide as
/// its own digits), so that a listing of many descriptors lines up as Inferno's does.
pub fn fd_line_padded(fd: i32, chan: &Chan, version_width: usize) -> String {
    let width = if version_width == 0 {
        decimal_width(chan.qid.vers)
    } else {
        version_width
    };
    let mode = chan.mode.map_or("", |mode| mode.letters());
    let offset = *chan.offset.lock();
    format!(
        "{fd:>3} {mode:.2} {letter} {devno:>4} ({path:016x} {vers:>width$} {ty:02x}) {iounit:>5} {offset:>8} {name}\n",
        letter = chan.letter(),
        devno = chan.devno,
        path = chan.qid.path,
        vers = chan.qid.vers,
        ty = chan.qid.ty,
        iounit = 0,
        name = chan.name,
    )
}

/// How many decimal digits `value` has.
pub fn decimal_width(value: u32) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// A file of `#d`: qid path 0 is the directory, `2N+1` is `N`, `2N+2` is `Nctl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DupFile {
    Root,
    Fd(i32),
    Ctl(i32),
}

impl DupFile {
    fn pack(self) -> Qid {
        match self {
            DupFile::Root => Qid::dir(0),
            DupFile::Fd(fd) => Qid::file(2 * fd as u64 + 1),
            DupFile::Ctl(fd) => Qid::file(2 * fd as u64 + 2),
        }
    }

    fn unpack(qid: Qid) -> Option<DupFile> {
        if qid.path == 0 {
            return Some(DupFile::Root);
        }
        let twice = qid.path - 1;
        let fd = i32::try_from(twice / 2)
            .ok()
            .filter(|fd| (*fd as usize) < MAX_FDS)?;
        Some(if twice & 1 == 0 {
            DupFile::Fd(fd)
        } else {
            DupFile::Ctl(fd)
        })
    }

    /// `N` or `Nctl`, N written as the listing writes it (no sign, no leading zeros).
    fn parse(name: &str) -> Option<DupFile> {
        let (digits, ctl) = match name.strip_suffix("ctl") {
            Some(digits) => (digits, true),
            None => (name, false),
        };
        let canonical = !digits.is_empty()
            && digits.len() <= 4
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        let fd: i32 = digits.parse().ok().filter(|_| canonical)?;
        if fd as usize >= MAX_FDS {
            return None;
        }
        Some(if ctl {
            DupFile::Ctl(fd)
        } else {
            DupFile::Fd(fd)
        })
    }

    fn name(self) -> String {
        match self {
            DupFile::Root => "#d".to_string(),
            DupFile::Fd(fd) => fd.to_string(),
            DupFile::Ctl(fd) => format!("{fd}ctl"),
        }
    }
}

/// The permission bits of `N`: the owner may do what the descriptor was opened for.
fn fd_perm(mode: u8) -> u32 {
    match mode & 3 {
        OREAD => 0o400,
        OWRITE => 0o200,
        ORDWR => 0o600,
        _ => 0o100,
    }
}

/// Whether a descriptor opened with `have` may be opened again with `want` (Plan 9's
/// `fdtochan` rule: the same mode, or anything but exec from a read-write descriptor).
fn mode_allows(have: u8, want: u8) -> bool {
    let (have, want) = (have & 3, want & 3);
    have == want || (have == ORDWR && want != OEXEC)
}

/// The listing of a `#d` directory, taken when a directory read starts.
struct Listing(Vec<(i32, u8)>);

/// The dup device.
pub struct Dup;

impl Dup {
    pub fn new() -> Dup {
        Dup
    }
}

impl Default for Dup {
    fn default() -> Dup {
        Dup::new()
    }
}

fn entry_for(ctx: &Ctx, chan: &Chan, file: DupFile, mode: u8) -> Dir {
    let perm = match file {
        DupFile::Root => 0o555,
        DupFile::Fd(_) => fd_perm(mode),
        DupFile::Ctl(_) => 0o444,
    };
    dir_entry(chan, file.pack(), &file.name(), 0, &ctx.user(), perm)
}

fn file_of(chan: &Chan) -> Result<DupFile> {
    DupFile::unpack(chan.qid).ok_or(Error::NotExist)
}

/// The open mode of descriptor `fd` of the caller.
fn fd_mode(ctx: &Ctx, fd: i32) -> Result<u8> {
    let chan = ctx.fds().get(fd)?;
    chan.mode.map(|mode| mode.0).ok_or(Error::NotOpen)
}

impl Device for Dup {
    fn letter(&self) -> char {
        'd'
    }

    fn name(&self) -> &'static str {
        "dup"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(DupFile::Root.pack()))
    }

    fn walk(&self, ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        if file_of(chan)? != DupFile::Root {
            return Err(Error::NotDir);
        }
        let file = DupFile::parse(name).ok_or(Error::NotExist)?;
        let (DupFile::Fd(fd) | DupFile::Ctl(fd)) = file else {
            return Err(Error::NotExist);
        };
        fd_mode(ctx, fd).map_err(|_| Error::NotExist)?;
        Ok(chan.walked(file.pack()))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        if file_of(dir)? != DupFile::Root {
            return Ok(None);
        }
        let mut state = dir.open_state.lock();
        let current = state
            .as_ref()
            .and_then(|state| state.downcast_ref::<Listing>());
        if index == 0 || current.is_none() {
            let listing = ctx
                .fds()
                .list()
                .into_iter()
                .map(|(fd, chan)| (fd, chan.mode.map_or(OREAD, |mode| mode.0)))
                .collect();
            *state = Some(Box::new(Listing(listing)));
        }
        let Some(Listing(listing)) = state
            .as_ref()
            .and_then(|state| state.downcast_ref::<Listing>())
        else {
            return Ok(None);
        };
        Ok(listing.get(index / 2).map(|&(fd, mode)| {
            let file = if index.is_multiple_of(2) {
                DupFile::Fd(fd)
            } else {
                DupFile::Ctl(fd)
            };
            entry_for(ctx, dir, file, mode)
        }))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let file = file_of(chan)?;
        let mode = match file {
            DupFile::Root => OREAD,
            DupFile::Fd(fd) | DupFile::Ctl(fd) => fd_mode(ctx, fd).map_err(|_| Error::NotExist)?,
        };
        Ok(entry_for(ctx, chan, file, mode))
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        match file_of(&chan)? {
            DupFile::Fd(fd) => {
                let target = ctx.fds().get(fd)?;
                let have = target.mode.ok_or(Error::NotOpen)?;
                if !mode_allows(have.0, mode) {
                    return Err(Error::Perm);
                }
                Ok(target)
            }
            file => {
                let dir = self.stat(ctx, &chan)?;
                check_open(ctx, &dir, mode)?;
                if let DupFile::Ctl(fd) = file {
                    ctx.fds().get(fd)?;
                }
                Ok(chan.opened(mode))
            }
        }
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        match file_of(chan)? {
            DupFile::Ctl(fd) => {
                let target = ctx.fds().get(fd)?;
                Ok(read_str(&fd_line(fd, &target), buf, offset))
            }
            DupFile::Root => Err(Error::IsDir),
            // Opening `N` hands out the descriptor's own chan, so no `#d` chan of this kind
            // is ever open.
            DupFile::Fd(_) => Err(Error::NotOpen),
        }
    }

    fn write(&self, _ctx: &Ctx, _chan: &Chan, _data: &[u8], _offset: u64) -> Result<usize> {
        Err(Error::Perm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::Pipe;
    use kernel::memfs::MemFs;
    use kernel::{Kernel, MREPL};

    fn context() -> Ctx {
        let kernel = Kernel::new("test", "testhost");
        kernel.register(Arc::new(Dup::new())).unwrap();
        kernel.register(Arc::new(Pipe::new())).unwrap();
        let fs = MemFs::new('T');
        kernel.register(fs.clone()).unwrap();
        fs.add("root", "fd", None);
        fs.add("root", "file", Some("0123456789"));
        let ctx = Ctx::new(kernel.first_proc("dup", "test"));
        let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
        ctx.ns().set_root(root);
        ctx.bind("#d", "/fd", MREPL).unwrap();
        ctx
    }

    fn cat(ctx: &Ctx, path: &str) -> String {
        String::from_utf8(ctx.read_file(path, 1 << 16).unwrap()).unwrap()
    }

    #[test]
    fn qid_paths_and_names_round_trip() {
        for file in [
            DupFile::Root,
            DupFile::Fd(0),
            DupFile::Ctl(0),
            DupFile::Fd(4095),
        ] {
            assert_eq!(DupFile::unpack(file.pack()), Some(file));
        }
        assert_eq!(DupFile::parse("12ctl"), Some(DupFile::Ctl(12)));
        assert_eq!(DupFile::parse("0"), Some(DupFile::Fd(0)));
        for bad in [
            "", "ctl", "01", "-1", "+1", "99999", "4096", "1x", "1ctlctl",
        ] {
            assert_eq!(DupFile::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lists_n_and_nctl_for_each_open_descriptor() {
        let ctx = context();
        let read = ctx.open("/file", OREAD).unwrap();
        let both = ctx.open("/file", ORDWR).unwrap();
        let write = ctx.open("/file", OWRITE).unwrap();
        assert_eq!((read, both, write), (0, 1, 2));
        let entries = ctx.read_dir("/fd").unwrap();
        let listed: Vec<(String, u32)> = entries
            .iter()
            .map(|dir| (dir.name.clone(), dir.mode))
            .collect();
        assert_eq!(
            listed,
            [
                ("0".to_string(), 0o400),
                ("0ctl".to_string(), 0o444),
                ("1".to_string(), 0o600),
                ("1ctl".to_string(), 0o444),
                ("2".to_string(), 0o200),
                ("2ctl".to_string(), 0o444),
                // The directory being read is itself descriptor 3.
                ("3".to_string(), 0o400),
                ("3ctl".to_string(), 0o444),
            ]
        );
        assert!(entries.iter().all(|dir| dir.uid == "test"));
        ctx.close(both).unwrap();
        let names: Vec<String> = ctx
            .read_dir("/fd")
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        // Descriptor 1 is now the directory itself.
        assert_eq!(names, ["0", "0ctl", "1", "1ctl", "2", "2ctl"]);
        ctx.close(2).unwrap();
        assert_eq!(ctx.stat("/fd/1").unwrap_err().root(), &Error::NotExist);
    }

    #[test]
    fn opening_n_returns_the_descriptors_own_chan() {
        let ctx = context();
        let fd = ctx.open("/file", ORDWR).unwrap();
        let mut buf = [0u8; 4];
        ctx.read(fd, &mut buf).unwrap();
        let again = ctx.open(&format!("/fd/{fd}"), OREAD).unwrap();
        assert!(Arc::ptr_eq(
            &ctx.fds().get(fd).unwrap(),
            &ctx.fds().get(again).unwrap()
        ));
        // The offset is shared.
        ctx.read(again, &mut buf).unwrap();
        assert_eq!(&buf, b"4567");
        ctx.read(fd, &mut buf[..2]).unwrap();
        assert_eq!(&buf[..2], b"89");
    }

    #[test]
    fn opening_n_refuses_modes_the_descriptor_lacks() {
        let ctx = context();
        let fd = ctx.open("/file", OREAD).unwrap();
        let path = format!("/fd/{fd}");
        assert_eq!(ctx.open(&path, OWRITE).unwrap_err().root(), &Error::Perm);
        assert_eq!(ctx.open(&path, ORDWR).unwrap_err().root(), &Error::Perm);
        assert!(ctx.open(&path, OREAD).is_ok());
        assert_eq!(
            ctx.open(&format!("/fd/{fd}ctl"), OWRITE)
                .unwrap_err()
                .root(),
            &Error::Perm
        );
        assert_eq!(
            ctx.open("/fd/77", OREAD).unwrap_err().root(),
            &Error::NotExist
        );
    }

    #[test]
    fn ctl_reads_the_inferno_fd_line() {
        let ctx = context();
        let fd = ctx.open("/file", ORDWR).unwrap();
        let mut buf = [0u8; 3];
        ctx.read(fd, &mut buf).unwrap();
        let chan = ctx.fds().get(fd).unwrap();
        let expected = format!(
            "  0 rw T {:>4} ({:016x} 0 00)     0        3 /file\n",
            chan.devno, chan.qid.path
        );
        assert_eq!(cat(&ctx, "/fd/0ctl"), expected);
        assert_eq!(fd_line(fd, &chan), expected);
        let [left, _right] = ctx.pipe().unwrap();
        let pipe = ctx.fds().get(left).unwrap();
        assert_eq!(
            fd_line(left, &pipe),
            format!(
                "  1 rw | {:>4} ({:016x} 0 00)     0        0 #|/data\n",
                pipe.devno, pipe.qid.path
            )
        );
    }

    #[test]
    fn version_column_is_padded_when_asked() {
        let ctx = context();
        let fd = ctx.open("/file", OREAD).unwrap();
        let chan = ctx.fds().get(fd).unwrap();
        assert!(fd_line_padded(fd, &chan, 3).contains(&format!("{:016x}   0 00)", chan.qid.path)));
        assert_eq!(decimal_width(0), 1);
        assert_eq!(decimal_width(10), 2);
        assert_eq!(decimal_width(u32::MAX), 10);
    }
}
