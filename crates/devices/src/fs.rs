//! `#U`: host files below the root directory (Inferno `devfs-posix.c`).
//!
//! Every host access resolves a relative path from one directory descriptor opened on the root
//! at start, with Linux's `openat2(RESOLVE_BENEATH)`: no `..`, absolute path or symbolic link
//! can lead outside the root, and a link that tries is refused with "permission denied". The
//! kernel never passes `..` or `.` to a device, and names with `/` are refused here too.
//! Host errors become Plan 9's words ("permission denied", "file does not exist", ...).
//!
//! Invariants: a chan's aux holds its path relative to the root as clean names; an opened
//! directory reads a listing taken when it was opened, so reads by offset are stable.

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
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What a `#U` chan refers to.
struct HostFile {
    /// Path below the root: names joined with `/`, empty for the root itself.
    rel: String,
    /// The open host file, once opened.
    file: Option<File>,
    /// An opened directory's entries, taken at open.
    listing: Vec<Dir>,
}

impl HostFile {
    fn at(rel: String) -> Arc<HostFile> {
        Arc::new(HostFile {
            rel,
            file: None,
            listing: Vec::new(),
        })
    }

    fn name(&self) -> &str {
        self.rel
            .rsplit('/')
            .next()
            .filter(|name| !name.is_empty())
            .unwrap_or("/")
    }

    fn parent(&self) -> &str {
        self.rel.rsplit_once('/').map_or("", |(parent, _)| parent)
    }
}

/// The host file tree device.
pub struct HostFs {
    root: OwnedFd,
    root_path: PathBuf,
    names: Mutex<HashMap<(bool, u32), String>>,
}

/// Maps a host errno to Plan 9's words.
pub fn host_error(errno: Errno) -> Error {
    match errno {
        Errno::ENOENT => Error::NotExist,
        Errno::EACCES | Errno::EPERM | Errno::EXDEV | Errno::ELOOP | Errno::EROFS => Error::Perm,
        Errno::EEXIST => Error::Exists,
        Errno::ENOTDIR => Error::NotDir,
        Errno::EISDIR => Error::IsDir,
        Errno::ENOTEMPTY => Error::NotEmpty,
        Errno::EINTR => Error::Interrupted,
        Errno::EIO => Error::Io,
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
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .mode(Mode::from_bits_truncate(mode))
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        loop {
            match openat2(&self.root, path, how) {
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                result => return result.map_err(host_error),
            }
        }
    }

    fn stat_rel(&self, rel: &str) -> Result<FileStat> {
        let fd = self.open_rel(rel, OFlag::O_PATH, 0)?;
        fstat(&fd).map_err(host_error)
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

    /// Entries of directory `rel`, resolving symbolic links that stay below the root and
    /// leaving out those that do not, and names that are not UTF-8.
    fn listing(&self, chan: &Chan, rel: &str, fd: OwnedFd) -> Result<Vec<Dir>> {
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
                match self.stat_rel(&join(rel, name)) {
                    Ok(target) => stat = target,
                    Err(_) => continue,
                }
            }
            entries.push(self.dir_of(chan, &stat, name));
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn open_flags(mode: u8, dir: bool) -> Result<OFlag> {
        if dir {
            if mode & 3 != ninep::OREAD && mode & 3 != OEXEC || mode & OTRUNC != 0 {
                return Err(Error::IsDir);
            }
            return Ok(OFlag::O_RDONLY | OFlag::O_DIRECTORY);
        }
        let mut flags = match mode & 3 {
            OWRITE => OFlag::O_WRONLY,
            ORDWR => OFlag::O_RDWR,
            _ => OFlag::O_RDONLY,
        };
        if mode & OTRUNC != 0 {
            flags |= OFlag::O_TRUNC;
        }
        Ok(flags)
    }

    fn opened(
        &self,
        chan: Chan,
        rel: String,
        fd: OwnedFd,
        dir: bool,
        mode: u8,
    ) -> Result<Arc<Chan>> {
        let listing = if dir {
            self.listing(&chan, &rel, fd.try_clone().map_err(io_error)?)?
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
        let stat = self.stat_rel("")?;
        Ok(Attached {
            devno: 0,
            qid: Self::qid(&stat),
            aux: Some(HostFile::at(String::new())),
        })
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        check_name(name)?;
        let host = Self::host(chan)?;
        if !chan.is_dir() {
            return Err(Error::NotDir);
        }
        let rel = join(&host.rel, name);
        let stat = self.stat_rel(&rel)?;
        Ok(chan.walked_with(Self::qid(&stat), Some(HostFile::at(rel))))
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        Ok(Self::host(dir)?.listing.get(index).cloned())
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let host = Self::host(chan)?;
        let stat = match &host.file {
            Some(file) => fstat(file).map_err(host_error)?,
            None => self.stat_rel(&host.rel)?,
        };
        Ok(self.dir_of(chan, &stat, host.name()))
    }

    fn open(&self, _ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let rel = Self::host(&chan)?.rel.clone();
        let flags = Self::open_flags(mode, chan.is_dir())?;
        let fd = self.open_rel(&rel, flags, 0)?;
        self.opened(chan, rel, fd, flags.contains(OFlag::O_DIRECTORY), mode)
    }

    fn create(&self, _ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        check_name(name)?;
        let parent = Self::host(dir)?;
        if !dir.is_dir() {
            return Err(Error::NotDir);
        }
        let parent_stat = self.stat_rel(&parent.rel)?;
        let rel = join(&parent.rel, name);
        let child = dir.child(dir.qid, None, name);
        if perm & DMDIR != 0 {
            // Plan 9: a new directory's permissions are limited by its parent's.
            let bits = perm & (!0o777 | (parent_stat.st_mode & 0o777)) & 0o777;
            let parent_fd = self.open_rel(&parent.rel, OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?;
            mkdirat(&parent_fd, name, Mode::from_bits_truncate(bits)).map_err(host_error)?;
            let flags = Self::open_flags(mode, true)?;
            let fd = self.open_rel(&rel, flags, 0)?;
            return self.opened(child, rel, fd, true, mode);
        }
        let bits = perm & (!0o666 | (parent_stat.st_mode & 0o666)) & 0o777;
        let flags = Self::open_flags(mode, false)? | OFlag::O_CREAT | OFlag::O_EXCL;
        let fd = self.open_rel(&rel, flags, bits)?;
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
        let host = Self::host(chan)?;
        if host.rel.is_empty() {
            return Err(Error::Perm);
        }
        let parent = self.open_rel(host.parent(), OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?;
        let flag = if chan.is_dir() {
            UnlinkatFlags::RemoveDir
        } else {
            UnlinkatFlags::NoRemoveDir
        };
        unlinkat(&parent, host.name(), flag).map_err(host_error)
    }

    fn wstat(&self, _ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let host = Self::host(chan)?;
        if host.rel.is_empty() && (!dir.name.is_empty() || dir.length != !0) {
            return Err(Error::Perm);
        }
        let current = self.stat_rel(&host.rel)?;
        let parent = self.open_rel(host.parent(), OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?;
        if dir.mode != !0 {
            if (dir.mode & DMDIR != 0) != is_dir(&current) {
                return Err(Error::msg("can't change directory bit"));
            }
            let name: &OsStr = if host.rel.is_empty() {
                OsStr::new(".")
            } else {
                OsStr::from_bytes(host.name().as_bytes())
            };
            fchmodat(
                &parent,
                name,
                Mode::from_bits_truncate(dir.mode & 0o777),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(host_error)?;
        }
        if dir.length != !0 {
            if is_dir(&current) {
                return Err(Error::IsDir);
            }
            let fd = self.open_rel(&host.rel, OFlag::O_WRONLY, 0)?;
            let length =
                libc::off_t::try_from(dir.length).map_err(|_| Error::msg("file too large"))?;
            ftruncate(&fd, length).map_err(host_error)?;
        }
        if dir.mtime != !0 {
            let name: &OsStr = if host.rel.is_empty() {
                OsStr::new(".")
            } else {
                OsStr::from_bytes(host.name().as_bytes())
            };
            let mtime = TimeSpec::from_duration(Duration::from_secs(u64::from(dir.mtime)));
            utimensat(
                &parent,
                name,
                &TimeSpec::UTIME_OMIT,
                &mtime,
                UtimensatFlags::FollowSymlink,
            )
            .map_err(host_error)?;
        }
        if !dir.name.is_empty() && dir.name != host.name() {
            check_name(&dir.name)?;
            if fstatat(&parent, dir.name.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW).is_ok() {
                return Err(Error::Exists);
            }
            nix::fcntl::renameat(&parent, host.name(), &parent, dir.name.as_str())
                .map_err(host_error)?;
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
        let host = Self::host(chan)?;
        let parent = self.open_rel(host.parent(), OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?;
        unlinkat(parent.as_fd(), host.name(), UnlinkatFlags::NoRemoveDir).map_err(host_error)
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
}
