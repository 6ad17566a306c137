//! `#U`: host files below the root directory (Inferno `devfs-posix.c`).
//!
//! Host names are resolved with Linux's `openat2(RESOLVE_BENEATH)`, never by a host path: a
//! walk resolves one name from a descriptor of the directory being walked, so a symbolic
//! link is followed only if it stays below that directory, and whatever is bound or used as
//! a root (`bind /tmp/jail /`, `pctl newns`) cannot be left through a link inside it. Later
//! operations resolve the chan's path from a descriptor of the root, which can only reach
//! what the walk reached. A link that leads out is refused with "permission denied". The
//! kernel never passes `..` or `.` to a device, and names with `/` are refused here too.
//! Host errors become Plan 9's words ("permission denied", "file does not exist", ...).
//!
//! Invariants:
//! - A chan's aux holds its path relative to the root as clean names, shared by the chans of
//!   one walk (a chan and its opened copy) and changed when a wstat renames the file, so a
//!   chan keeps referring to its file after a rename.
//! - A chan acts only on the host file it was walked to: every operation by name first checks
//!   that the file found there has the chan's qid path (inode and device), so if the file was
//!   renamed or removed behind the chan's back and another took its name, the chan answers
//!   "file does not exist" rather than reach the other.
//! - An opened directory reads a listing taken when it was opened, so reads by offset are
//!   stable.

use kernel::dev::{Attached, Device};
use kernel::{Chan, Ctx, Dir, Error, Qid, Result};
use ninep::{DMDIR, OEXEC, ORCLOSE, ORDWR, OTRUNC, OWRITE, QTDIR};
use nix::dir::Dir as HostDir;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::{
    FchmodatFlags, FileStat, Mode, UtimensatFlags, fchmodat, fstat, fstatat, mkdirat, utimensat,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Group, Uid, UnlinkatFlags, User, ftruncate, unlinkat};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What a `#U` chan refers to.
struct HostFile {
    /// Path below the root: names joined with `/`, empty for the root itself. Shared with the
    /// chan's opened copy and updated by a rename.
    rel: Arc<Mutex<String>>,
    /// The open host file, once opened.
    file: Option<File>,
    /// An opened directory's entries, taken at open.
    listing: Vec<Dir>,
}

impl HostFile {
    fn at(rel: String) -> Arc<HostFile> {
        Arc::new(HostFile {
            rel: Arc::new(Mutex::new(rel)),
            file: None,
            listing: Vec::new(),
        })
    }

    /// The path below the root now.
    fn rel(&self) -> String {
        self.rel.lock().clone()
    }
}

/// The last name of `rel` ("/" for the root).
fn base(rel: &str) -> &str {
    rel.rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("/")
}

/// The directory holding `rel`, as a path below the root.
fn parent_rel(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The host file tree device.
pub struct HostFs {
    root: OwnedFd,
    root_path: PathBuf,
    names: Mutex<HashMap<(bool, u32), String>>,
}

/// Maps a host errno to Plan 9's words: the kernel's strings where Plan 9 has one (those
/// Linux's 9P client knows among them), else a short lower-case description. Nothing the host
/// says is reported as "file does not exist" unless the file is missing.
pub fn host_error(errno: Errno) -> Error {
    match errno {
        Errno::ENOENT => Error::NotExist,
        // EXDEV is what RESOLVE_BENEATH answers for a link or name that leads out.
        Errno::EACCES | Errno::EPERM | Errno::EXDEV => Error::Perm,
        Errno::EROFS => Error::ReadOnly,
        Errno::EEXIST => Error::Exists,
        Errno::ENOTDIR => Error::NotDir,
        Errno::EISDIR => Error::IsDir,
        Errno::ENOTEMPTY => Error::NotEmpty,
        Errno::EINTR => Error::Interrupted,
        Errno::EIO => Error::Io,
        Errno::EMFILE | Errno::ENFILE => Error::TooManyFiles,
        Errno::ENOMEM => Error::NoMemory,
        Errno::ENOSPC => Error::Full,
        Errno::EDQUOT => Error::msg("disk quota exceeded"),
        Errno::EFBIG => Error::msg("file too big"),
        Errno::ELOOP => Error::msg("too many levels of symbolic links"),
        Errno::ENAMETOOLONG => Error::msg("file name too long"),
        Errno::EBUSY | Errno::ETXTBSY => Error::msg("file in use"),
        Errno::EMLINK => Error::msg("too many links"),
        Errno::EINVAL => Error::BadArg,
        Errno::ENOSYS => Error::msg("host kernel lacks openat2 (Linux 5.6 or later is needed)"),
        other => Error::msg(other.desc().to_lowercase()),
    }
}

fn io_error(error: std::io::Error) -> Error {
    error
        .raw_os_error()
        .map(|code| host_error(Errno::from_raw(code)))
        .unwrap_or_else(|| Error::msg(error.to_string()))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::BadChar);
    }
    kernel::path::valid_name(name)
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

fn is_dir(stat: &FileStat) -> bool {
    stat.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// Opens `path` below directory `dir` and never outside it: `..`, absolute names and
/// symbolic links that lead out of `dir` are refused (EXDEV, "permission denied").
fn open_beneath(dir: &OwnedFd, path: &str, flags: OFlag, mode: u32) -> Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .mode(Mode::from_bits_truncate(mode))
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    loop {
        match openat2(dir, path, how) {
            Err(Errno::EAGAIN | Errno::EINTR) => continue,
            result => return result.map_err(host_error),
        }
    }
}

impl HostFs {
    /// Serves the host directory `root`.
    pub fn new(root: &Path) -> Result<HostFs> {
        let fd = nix::fcntl::open(
            root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(host_error)?;
        Ok(HostFs {
            root: fd,
            root_path: root.to_path_buf(),
            names: Mutex::new(HashMap::new()),
        })
    }

    /// The host directory served.
    pub fn root_path(&self) -> &Path {
        &self.root_path
    }

    /// Opens `rel` below the root, never leaving it.
    fn open_rel(&self, rel: &str, flags: OFlag, mode: u32) -> Result<OwnedFd> {
        let path = if rel.is_empty() { "." } else { rel };
        open_beneath(&self.root, path, flags, mode)
    }

    /// Opens the file `chan` was walked to, by its path below the root, with `flags` (which
    /// must not create or truncate): "file does not exist" if another file has its name now.
    fn open_chan(&self, chan: &Chan, flags: OFlag) -> Result<(OwnedFd, FileStat)> {
        let rel = Self::host(chan)?.rel();
        let fd = self.open_rel(&rel, flags, 0)?;
        let stat = fstat(&fd).map_err(host_error)?;
        if Self::qid(&stat).path != chan.qid.path {
            return Err(Error::NotExist);
        }
        Ok((fd, stat))
    }

    /// The host stat of the file `chan` was walked to.
    fn stat_chan(&self, chan: &Chan) -> Result<FileStat> {
        self.open_chan(chan, OFlag::O_PATH).map(|(_, stat)| stat)
    }

    /// The directory holding the file `chan` was walked to, and the file's name in it, after
    /// checking that the name still leads to that file.
    fn parent_of(&self, chan: &Chan) -> Result<(OwnedFd, String)> {
        let rel = Self::host(chan)?.rel();
        if rel.is_empty() {
            return Err(Error::Perm);
        }
        let parent = self.open_rel(parent_rel(&rel), OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?;
        let name = base(&rel).to_string();
        let fd = open_beneath(&parent, &name, OFlag::O_PATH, 0)?;
        let stat = fstat(&fd).map_err(host_error)?;
        if Self::qid(&stat).path != chan.qid.path {
            return Err(Error::NotExist);
        }
        Ok((parent, name))
    }

    fn user_name(&self, group: bool, id: u32) -> String {
        let mut names = self.names.lock();
        names
            .entry((group, id))
            .or_insert_with(|| {
                let found = if group {
                    Group::from_gid(Gid::from_raw(id))
                        .ok()
                        .flatten()
                        .map(|g| g.name)
                } else {
                    User::from_uid(Uid::from_raw(id))
                        .ok()
                        .flatten()
                        .map(|u| u.name)
                };
                found.unwrap_or_else(|| id.to_string())
            })
            .clone()
    }

    // The casts matter on hosts where these fields are narrower than 64 bits.
    #[allow(clippy::unnecessary_cast)]
    fn qid(stat: &FileStat) -> Qid {
        let path = (stat.st_ino as u64) ^ (stat.st_dev as u64).rotate_left(48);
        let ty = if is_dir(stat) { QTDIR } else { 0 };
        Qid::new(ty, stat.st_mtime as u32 ^ stat.st_mtime_nsec as u32, path)
    }

    fn dir_of(&self, chan: &Chan, stat: &FileStat, name: &str) -> Dir {
        let dir = is_dir(stat);
        let uid = self.user_name(false, stat.st_uid);
        Dir {
            ty: chan.letter() as u16,
            dev: chan.devno as u32,
            qid: Self::qid(stat),
            mode: (stat.st_mode & 0o777) | if dir { DMDIR } else { 0 },
            atime: stat.st_atime as u32,
            mtime: stat.st_mtime as u32,
            length: if dir { 0 } else { stat.st_size as u64 },
            name: name.to_string(),
            gid: self.user_name(true, stat.st_gid),
            muid: uid.clone(),
            uid,
        }
    }

    fn host(chan: &Chan) -> Result<&HostFile> {
        chan.aux::<HostFile>().ok_or(Error::NotExist)
    }

    /// Entries of the directory open on `fd`, resolving symbolic links that stay below that
    /// directory (those a walk follows) and leaving out the others, and names that are not
    /// UTF-8.
    fn listing(&self, chan: &Chan, fd: OwnedFd) -> Result<Vec<Dir>> {
        let dup = fd.try_clone().map_err(io_error)?;
        let mut dir = HostDir::from_fd(dup).map_err(host_error)?;
        let mut entries = Vec::new();
        for entry in dir.iter() {
            let Ok(entry) = entry else { continue };
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            if name == "." || name == ".." || check_name(name).is_err() {
                continue;
            }
            let Ok(mut stat) = fstatat(&fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            if stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
                let target = open_beneath(&fd, name, OFlag::O_PATH, 0)
                    .and_then(|target| fstat(&target).map_err(host_error));
                match target {
                    Ok(target) => stat = target,
                    Err(_) => continue,
                }
            }
            entries.push(self.dir_of(chan, &stat, name));
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Host open flags for a 9P open mode. Truncation is left out: it is done once the file
    /// opened is known to be the chan's (see [`HostFs::open`]).
    fn open_flags(mode: u8, dir: bool) -> Result<OFlag> {
        if dir {
            if mode & 3 != ninep::OREAD && mode & 3 != OEXEC || mode & OTRUNC != 0 {
                return Err(Error::IsDir);
            }
            return Ok(OFlag::O_RDONLY | OFlag::O_DIRECTORY);
        }
        Ok(match mode & 3 {
            OWRITE => OFlag::O_WRONLY,
            ORDWR => OFlag::O_RDWR,
            _ => OFlag::O_RDONLY,
        })
    }

    /// The open chan for `chan`, whose file is open on `fd`; `rel` is the path cell it shares
    /// with the chan it was opened from.
    fn opened(
        &self,
        chan: Chan,
        rel: Arc<Mutex<String>>,
        fd: OwnedFd,
        dir: bool,
        mode: u8,
    ) -> Result<Arc<Chan>> {
        let listing = if dir {
            self.listing(&chan, fd.try_clone().map_err(io_error)?)?
        } else {
            Vec::new()
        };
        let stat = fstat(&fd).map_err(host_error)?;
        let host = HostFile {
            rel,
            file: Some(File::from(fd)),
            listing,
        };
        let chan = chan.walked_with(Self::qid(&stat), Some(Arc::new(host)));
        Ok(chan.opened(mode))
    }
}

impl Device for HostFs {
    fn letter(&self) -> char {
        'U'
    }

    fn name(&self) -> &'static str {
        "fs"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        let fd = self.open_rel("", OFlag::O_PATH, 0)?;
        let stat = fstat(&fd).map_err(host_error)?;
        Ok(Attached {
            devno: 0,
            qid: Self::qid(&stat),
            aux: Some(HostFile::at(String::new())),
        })
    }

    /// Resolves `name` from the directory being walked, so that a symbolic link there is
    /// followed only if its target is below that directory.
    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        check_name(name)?;
        if !chan.is_dir() {
            return Err(Error::NotDir);
        }
        let (dir, _) = self.open_chan(chan, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        let fd = open_beneath(&dir, name, OFlag::O_PATH, 0)?;
        let stat = fstat(&fd).map_err(host_error)?;
        let rel = join(&Self::host(chan)?.rel(), name);
        Ok(chan.walked_with(Self::qid(&stat), Some(HostFile::at(rel))))
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        Ok(Self::host(dir)?.listing.get(index).cloned())
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let host = Self::host(chan)?;
        let stat = match &host.file {
            Some(file) => fstat(file).map_err(host_error)?,
            None => self.stat_chan(chan)?,
        };
        Ok(self.dir_of(chan, &stat, base(&host.rel())))
    }

    fn open(&self, _ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let rel = Self::host(&chan)?.rel.clone();
        let flags = Self::open_flags(mode, chan.is_dir())?;
        let (fd, _) = self.open_chan(&chan, flags)?;
        if mode & OTRUNC != 0 {
            ftruncate(&fd, 0).map_err(host_error)?;
        }
        self.opened(chan, rel, fd, flags.contains(OFlag::O_DIRECTORY), mode)
    }

    /// Creates `name` in the directory `dir` was walked to, resolved from that directory.
    fn create(&self, _ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        check_name(name)?;
        if !dir.is_dir() {
            return Err(Error::NotDir);
        }
        let (parent, parent_stat) = self.open_chan(dir, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        let rel = Arc::new(Mutex::new(join(&Self::host(dir)?.rel(), name)));
        let child = dir.child(dir.qid, None, name);
        if perm & DMDIR != 0 {
            // Plan 9: a new directory's permissions are limited by its parent's.
            let bits = perm & (!0o777 | (parent_stat.st_mode & 0o777)) & 0o777;
            mkdirat(&parent, name, Mode::from_bits_truncate(bits)).map_err(host_error)?;
            let flags = Self::open_flags(mode, true)?;
            let fd = open_beneath(&parent, name, flags, 0)?;
            return self.opened(child, rel, fd, true, mode);
        }
        let bits = perm & (!0o666 | (parent_stat.st_mode & 0o666)) & 0o777;
        let flags = Self::open_flags(mode, false)? | OFlag::O_CREAT | OFlag::O_EXCL;
        let fd = open_beneath(&parent, name, flags, bits)?;
        self.opened(child, rel, fd, false, mode)
    }

    fn read(&self, _ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let file = Self::host(chan)?.file.as_ref().ok_or(Error::NotOpen)?;
        loop {
            match file.read_at(buf, offset) {
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                result => return result.map_err(io_error),
            }
        }
    }

    fn write(&self, _ctx: &Ctx, chan: &Chan, data: &[u8], offset: u64) -> Result<usize> {
        let file = Self::host(chan)?.file.as_ref().ok_or(Error::NotOpen)?;
        loop {
            match file.write_at(data, offset) {
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                result => return result.map_err(io_error),
            }
        }
    }

    fn remove(&self, _ctx: &Ctx, chan: &Chan) -> Result<()> {
        let (parent, name) = self.parent_of(chan)?;
        let flag = if chan.is_dir() {
            UnlinkatFlags::RemoveDir
        } else {
            UnlinkatFlags::NoRemoveDir
        };
        unlinkat(&parent, name.as_str(), flag).map_err(host_error)
    }

    fn wstat(&self, _ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let host = Self::host(chan)?;
        let root = host.rel().is_empty();
        if root && (!dir.name.is_empty() || dir.length != !0) {
            return Err(Error::Perm);
        }
        let current = self.stat_chan(chan)?;
        // The file by name in its directory (the root: "." in itself).
        let (parent, name) = if root {
            (
                self.open_rel("", OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?,
                ".".to_string(),
            )
        } else {
            self.parent_of(chan)?
        };
        if dir.mode != !0 {
            if (dir.mode & DMDIR != 0) != is_dir(&current) {
                return Err(Error::msg("can't change directory bit"));
            }
            fchmodat(
                &parent,
                name.as_str(),
                Mode::from_bits_truncate(dir.mode & 0o777),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(host_error)?;
        }
        if dir.length != !0 {
            if is_dir(&current) {
                return Err(Error::IsDir);
            }
            let (fd, _) = self.open_chan(chan, OFlag::O_WRONLY)?;
            let length =
                libc::off_t::try_from(dir.length).map_err(|_| Error::msg("file too big"))?;
            ftruncate(&fd, length).map_err(host_error)?;
        }
        if dir.mtime != !0 {
            let mtime = TimeSpec::from_duration(Duration::from_secs(u64::from(dir.mtime)));
            utimensat(
                &parent,
                name.as_str(),
                &TimeSpec::UTIME_OMIT,
                &mtime,
                UtimensatFlags::FollowSymlink,
            )
            .map_err(host_error)?;
        }
        if !dir.name.is_empty() && dir.name != name {
            check_name(&dir.name)?;
            if fstatat(&parent, dir.name.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW).is_ok() {
                return Err(Error::Exists);
            }
            // Hold the name while renaming, so the chan's path and the host's agree.
            let mut rel = host.rel.lock();
            nix::fcntl::renameat(&parent, name.as_str(), &parent, dir.name.as_str())
                .map_err(host_error)?;
            *rel = join(parent_rel(&rel), &dir.name);
        }
        Ok(())
    }

    fn close(&self, chan: &Chan) {
        if chan.mode.is_some_and(|mode| mode.0 & ORCLOSE != 0) {
            let _ = self.remove_quietly(chan);
        }
    }
}

impl HostFs {
    fn remove_quietly(&self, chan: &Chan) -> Result<()> {
        let (parent, name) = self.parent_of(chan)?;
        unlinkat(parent.as_fd(), name.as_str(), UnlinkatFlags::NoRemoveDir).map_err(host_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Kernel;
    use ninep::{OREAD, OWRITE};

    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn setup(tag: &str) -> (Scratch, Ctx) {
        let base = std::env::temp_dir().join(format!("ember-fs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::write(root.join("lib/profile"), "hello\n").unwrap();
        std::fs::write(base.join("secret"), "outside\n").unwrap();
        let kernel = Kernel::new("eve", "test");
        kernel
            .register(Arc::new(HostFs::new(&root).unwrap()))
            .unwrap();
        (Scratch(base), Ctx::new(kernel.first_proc("test", "eve")))
    }

    fn cat(ctx: &Ctx, path: &str) -> Result<String> {
        Ok(String::from_utf8(ctx.read_file(path, 4096)?).unwrap())
    }

    #[test]
    fn reads_and_lists_host_files() {
        let (_scratch, ctx) = setup("read");
        assert_eq!(cat(&ctx, "#U/lib/profile").unwrap(), "hello\n");
        let names: Vec<String> = ctx
            .read_dir("#U")
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["lib"]);
        let dir = ctx.stat("#U/lib/profile").unwrap();
        assert_eq!(dir.length, 6);
        assert_eq!(dir.name, "profile");
    }

    #[test]
    fn creates_writes_and_removes() {
        let (scratch, ctx) = setup("create");
        ctx.mkdir("#U/tmp", 0o777).unwrap();
        let fd = ctx.create("#U/tmp/note", OWRITE, 0o644).unwrap();
        ctx.write(fd, b"written").unwrap();
        ctx.close(fd).unwrap();
        assert_eq!(
            std::fs::read_to_string(scratch.0.join("root/tmp/note")).unwrap(),
            "written"
        );
        assert_eq!(ctx.remove("#U/tmp").unwrap_err().root(), &Error::NotEmpty);
        ctx.remove("#U/tmp/note").unwrap();
        ctx.remove("#U/tmp").unwrap();
        assert_eq!(ctx.stat("#U/tmp").unwrap_err().root(), &Error::NotExist);
    }

    #[test]
    fn symlinks_cannot_escape() {
        let (scratch, ctx) = setup("links");
        let root = scratch.0.join("root");
        std::os::unix::fs::symlink(scratch.0.join("secret"), root.join("absolute")).unwrap();
        std::os::unix::fs::symlink("../secret", root.join("relative")).unwrap();
        std::os::unix::fs::symlink("lib/profile", root.join("inside")).unwrap();
        assert_eq!(cat(&ctx, "#U/absolute").unwrap_err().root(), &Error::Perm);
        assert_eq!(cat(&ctx, "#U/relative").unwrap_err().root(), &Error::Perm);
        assert_eq!(cat(&ctx, "#U/inside").unwrap(), "hello\n");
        assert_eq!(
            cat(&ctx, "#U/../secret").unwrap_err().root(),
            &Error::NotExist
        );
        let names: Vec<String> = ctx
            .read_dir("#U")
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["inside", "lib"]);
    }

    #[test]
    fn rename_and_truncate_through_wstat() {
        let (_scratch, ctx) = setup("wstat");
        ctx.wstat(
            "#U/lib/profile",
            &Dir {
                name: "renamed".into(),
                ..Dir::null()
            },
        )
        .unwrap();
        assert_eq!(cat(&ctx, "#U/lib/renamed").unwrap(), "hello\n");
        ctx.wstat(
            "#U/lib/renamed",
            &Dir {
                length: 2,
                ..Dir::null()
            },
        )
        .unwrap();
        assert_eq!(cat(&ctx, "#U/lib/renamed").unwrap(), "he");
        let fd = ctx.open("#U/lib/renamed", OREAD).unwrap();
        assert_eq!(ctx.write(fd, b"x").unwrap_err(), Error::BadUseFd);
    }

    fn resolve(ctx: &Ctx, path: &str) -> Chan {
        ctx.ns()
            .resolve(ctx, path, kernel::namespace::Access::Open)
            .unwrap()
            .chan
    }

    /// Issue 11, finding 8: after a wstat renamed `a` to `b` and a new `a` was made, the same
    /// chan truncated and chmodded the new `a`. The chan follows its file to `b`.
    #[test]
    fn issue11_a_renamed_chan_acts_on_the_renamed_file() {
        let (scratch, ctx) = setup("rename-fid");
        let lib = scratch.0.join("root/lib");
        std::fs::write(lib.join("a"), "first\n").unwrap();
        let chan = resolve(&ctx, "#U/lib/a");
        let rename = Dir {
            name: "b".into(),
            ..Dir::null()
        };
        chan.dev.wstat(&ctx, &chan, &rename).unwrap();
        std::fs::write(lib.join("a"), "second\n").unwrap();
        let truncate = Dir {
            length: 1,
            mode: 0o600,
            ..Dir::null()
        };
        chan.dev.wstat(&ctx, &chan, &truncate).unwrap();
        assert_eq!(std::fs::read_to_string(lib.join("a")).unwrap(), "second\n");
        assert_eq!(std::fs::read_to_string(lib.join("b")).unwrap(), "f");
        let mode = |name: &str| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(lib.join(name))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("b"), 0o600);
        assert_ne!(mode("a"), 0o600);
        let stat = chan.dev.stat(&ctx, &chan).unwrap();
        assert_eq!((stat.name.as_str(), stat.length), ("b", 1));
        // Opening it opens b, and so does the opened copy's own wstat.
        let opened = chan
            .dev
            .open(&ctx, chan.clone_unopened(), ninep::OREAD)
            .unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(opened.dev.read(&ctx, &opened, &mut buf, 0).unwrap(), 1);
    }

    /// A chan whose file was renamed or removed behind its back never reaches the file that
    /// took its name: it answers "file does not exist".
    #[test]
    fn issue11_a_chan_never_reaches_another_file_of_its_name() {
        let (scratch, ctx) = setup("identity");
        let lib = scratch.0.join("root/lib");
        let chan = resolve(&ctx, "#U/lib/profile");
        std::fs::rename(lib.join("profile"), lib.join("moved")).unwrap();
        std::fs::write(lib.join("profile"), "impostor\n").unwrap();
        let dev = chan.dev.clone();
        assert_eq!(dev.stat(&ctx, &chan).unwrap_err(), Error::NotExist);
        let truncate = Dir {
            length: 0,
            ..Dir::null()
        };
        assert_eq!(
            dev.wstat(&ctx, &chan, &truncate).unwrap_err(),
            Error::NotExist
        );
        let open = dev.open(&ctx, chan.clone_unopened(), ninep::OWRITE | ninep::OTRUNC);
        assert_eq!(open.unwrap_err(), Error::NotExist);
        assert_eq!(dev.remove(&ctx, &chan).unwrap_err(), Error::NotExist);
        assert_eq!(
            std::fs::read_to_string(lib.join("profile")).unwrap(),
            "impostor\n"
        );
    }

    /// Issue 11, finding 10: a relative link in a directory used as a jail (`ROOT/tmp/jail/x`
    /// → `../../lib`) stayed below the root and so was followed out of the jail. A walk now
    /// follows a link only if it stays below the directory walked from.
    #[test]
    fn issue11_links_stay_below_the_directory_walked() {
        let (scratch, ctx) = setup("jail-links");
        let jail = scratch.0.join("root/tmp/jail");
        std::fs::create_dir_all(jail.join("sub")).unwrap();
        std::fs::write(jail.join("sub/file"), "inside\n").unwrap();
        std::os::unix::fs::symlink("../../lib", jail.join("x")).unwrap();
        std::os::unix::fs::symlink("sub/file", jail.join("near")).unwrap();
        std::os::unix::fs::symlink("../near", jail.join("sub/up")).unwrap();
        assert_eq!(
            cat(&ctx, "#U/tmp/jail/x/profile").unwrap_err().root(),
            &Error::Perm
        );
        assert_eq!(cat(&ctx, "#U/tmp/jail/near").unwrap(), "inside\n");
        // A link up and back within the jail leaves the directory it is in: refused too.
        assert_eq!(
            cat(&ctx, "#U/tmp/jail/sub/up").unwrap_err().root(),
            &Error::Perm
        );
        let names: Vec<String> = ctx
            .read_dir("#U/tmp/jail")
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["near", "sub"]);
        // Bound as the root, the jail's link leads nowhere either.
        ctx.ns().set_root(resolve(&ctx, "#U/tmp/jail"));
        assert_eq!(cat(&ctx, "/x/profile").unwrap_err().root(), &Error::Perm);
        assert_eq!(cat(&ctx, "/near").unwrap(), "inside\n");
    }

    /// Issue 11, finding 10: EMFILE read as "file does not exist".
    #[test]
    fn issue11_host_errors_keep_their_meaning() {
        let cases = [
            (Errno::EMFILE, "too many open files"),
            (Errno::ENFILE, "too many open files"),
            (Errno::ENOMEM, "out of memory"),
            (Errno::ENOSPC, "file system is full"),
            (Errno::EDQUOT, "disk quota exceeded"),
            (Errno::ELOOP, "too many levels of symbolic links"),
            (Errno::ENAMETOOLONG, "file name too long"),
            (Errno::EROFS, "read only file system"),
            (Errno::EXDEV, "permission denied"),
            (Errno::ENOENT, "file does not exist"),
        ];
        for (errno, words) in cases {
            assert_eq!(host_error(errno).to_string(), words, "{errno}");
        }
    }
}
