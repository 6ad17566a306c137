//! `#s`: a registry where processes post open chans for others to open (Plan 9 `devsrv.c`'s
//! posting, with Inferno's instances from `devsrv.c`). `#s` with no spec attaches a brand-new
//! empty directory; `#sname` attaches the named instance `name`, made on first use and shared
//! by every namespace of the kernel. Creating a file in an instance makes an empty entry;
//! writing the decimal number of one of the writer's descriptors to it posts that descriptor's
//! chan; opening the entry then returns that very chan (a pipe end, a 9P connection, ...) to
//! whoever may open it, and removing the entry unposts it. This is how a server publishes a
//! connection for others to `mount /srv/name`.
//!
//! Invariants:
//! - An entry is posted at most once; opening it never grants more than the posted chan's own
//!   open mode allows, nor more than the entry's permissions.
//! - Chans of `#s` itself cannot be posted, so an instance never holds itself alive.
//! - Everything is bounded: names, entries per instance, and named instances (named instances
//!   that hold nothing and are not attached anywhere are dropped to make room).
//! - A spec-less instance lives as long as some chan refers to it; a named one as long as the
//!   kernel's `#s` device, unless it is empty and unused.

use kernel::dev::{check_open, dir_entry};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use ninep::{DMDIR, OEXEC, ORCLOSE, ORDWR, OTRUNC};
use parking_lot::Mutex;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest entry or instance name.
pub const MAX_NAME: usize = 128;
/// Most entries in one instance.
pub const MAX_ENTRIES: usize = 1024;
/// Most named instances kept at once.
pub const MAX_NAMED: usize = 256;

/// Instance numbers (used as devno) and entry numbers, kernel-wide.
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);
static NEXT_ENTRY: AtomicU64 = AtomicU64::new(1);

/// A qid path of `#s`: the low bit tells an instance's directory from an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SrvQid {
    /// The directory of instance N.
    Dir(u64),
    /// Entry N, in whichever instance holds it.
    Entry(u64),
}

impl SrvQid {
    fn pack(self) -> Qid {
        match self {
            SrvQid::Dir(instance) => Qid::dir(instance << 1),
            SrvQid::Entry(entry) => Qid::file(entry << 1 | 1),
        }
    }

    fn unpack(qid: Qid) -> SrvQid {
        if qid.path & 1 == 0 {
            SrvQid::Dir(qid.path >> 1)
        } else {
            SrvQid::Entry(qid.path >> 1)
        }
    }
}

/// One file of an instance.
struct Entry {
    number: u64,
    name: String,
    owner: String,
    perm: u32,
    posted: Option<Arc<Chan>>,
}

/// One directory of posted chans.
struct Instance {
    number: u64,
    /// `#s` or `#sname`, as its directory's stat names it.
    title: String,
    owner: String,
    entries: Mutex<Vec<Entry>>,
}

impl Instance {
    fn new(title: String, owner: String) -> Arc<Instance> {
        Arc::new(Instance {
            number: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
            title,
            owner,
            entries: Mutex::new(Vec::new()),
        })
    }
}

/// The srv device, holding the kernel's named instances.
pub struct Srv {
    named: Mutex<HashMap<String, Arc<Instance>>>,
}

impl Srv {
    pub fn new() -> Srv {
        Srv {
            named: Mutex::new(HashMap::new()),
        }
    }

    /// The named instance `name`, made if new.
    fn named(&self, name: &str, owner: &str) -> Result<Arc<Instance>> {
        let mut named = self.named.lock();
        if let Some(instance) = named.get(name) {
            return Ok(instance.clone());
        }
        if named.len() >= MAX_NAMED {
            // Drop instances nothing refers to and nothing is posted in.
            named.retain(|_, instance| {
                Arc::strong_count(instance) > 1 || !instance.entries.lock().is_empty()
            });
            if named.len() >= MAX_NAMED {
                return Err(Error::msg("too many srv instances"));
            }
        }
        let instance = Instance::new(format!("#s{name}"), owner.to_string());
        named.insert(name.to_string(), instance.clone());
        Ok(instance)
    }
}

impl Default for Srv {
    fn default() -> Srv {
        Srv::new()
    }
}

/// Checks a name for an entry or an instance.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(Error::BadArg);
    }
    if name.contains('/') {
        return Err(Error::BadChar);
    }
    if name.len() > MAX_NAME {
        return Err(Error::msg("file name too long"));
    }
    kernel::path::valid_name(name)
}

fn instance(chan: &Chan) -> Result<&Instance> {
    chan.aux::<Instance>().ok_or(Error::NotExist)
}

fn entry_dir(chan: &Chan, entry: &Entry) -> Dir {
    dir_entry(
        chan,
        SrvQid::Entry(entry.number).pack(),
        &entry.name,
        0,
        &entry.owner,
        entry.perm,
    )
}

/// Whether a chan opened with `have` may be handed out for `want`.
fn mode_allows(have: u8, want: u8) -> bool {
    let (have, want) = (have & 3, want & 3);
    have == want || (have == ORDWR && want != OEXEC)
}

/// Parses what is written to an entry: a descriptor number, perhaps with a newline.
fn parse_fd(data: &[u8]) -> Result<i32> {
    if data.len() > 32 {
        return Err(Error::BadArg);
    }
    std::str::from_utf8(data)
        .ok()
        .map(str::trim)
        .filter(|text| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or(Error::BadArg)
}

impl Device for Srv {
    fn letter(&self) -> char {
        's'
    }

    fn name(&self) -> &'static str {
        "srv"
    }

    fn attach(&self, ctx: &Ctx, spec: &str) -> Result<Attached> {
        let instance = if spec.is_empty() {
            Instance::new("#s".to_string(), ctx.user())
        } else {
            check_name(spec).map_err(|_| Error::BadSpec)?;
            self.named(spec, &ctx.user())?
        };
        Ok(Attached {
            devno: instance.number,
            qid: SrvQid::Dir(instance.number).pack(),
            aux: Some(instance as Arc<dyn Any + Send + Sync>),
        })
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let instance = instance(chan)?;
        if !chan.is_dir() {
            return Err(Error::NotDir);
        }
        let entries = instance.entries.lock();
        let entry = entries
            .iter()
            .find(|entry| entry.name == name)
            .ok_or(Error::NotExist)?;
        Ok(chan.walked(SrvQid::Entry(entry.number).pack()))
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let instance = instance(dir)?;
        if !dir.is_dir() {
            return Ok(None);
        }
        let entries = instance.entries.lock();
        Ok(entries.get(index).map(|entry| entry_dir(dir, entry)))
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let instance = instance(chan)?;
        match SrvQid::unpack(chan.qid) {
            SrvQid::Dir(_) => Ok(dir_entry(
                chan,
                chan.qid,
                &instance.title,
                0,
                &instance.owner,
                DMDIR | 0o777,
            )),
            SrvQid::Entry(number) => {
                let entries = instance.entries.lock();
                entries
                    .iter()
                    .find(|entry| entry.number == number)
                    .map(|entry| entry_dir(chan, entry))
                    .ok_or(Error::NotExist)
            }
        }
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let instance = instance(&chan)?;
        let SrvQid::Entry(number) = SrvQid::unpack(chan.qid) else {
            check_open(ctx, &self.stat(ctx, &chan)?, mode)?;
            return Ok(chan.opened(mode));
        };
        let entries = instance.entries.lock();
        let entry = entries
            .iter()
            .find(|entry| entry.number == number)
            .ok_or(Error::NotExist)?;
        let Some(posted) = &entry.posted else {
            return Err(Error::msg("srv file not posted"));
        };
        if mode & OTRUNC != 0 {
            // What `echo 3 > /srv/name` does to an existing entry: it is already taken.
            return Err(Error::Exists);
        }
        let have = posted.mode.ok_or(Error::NotOpen)?;
        if !mode_allows(have.0, mode) {
            return Err(Error::Perm);
        }
        check_open(ctx, &entry_dir(&chan, entry), mode)?;
        Ok(posted.clone())
    }

    fn create(&self, ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        let instance = instance(dir)?;
        if !dir.is_dir() {
            return Err(Error::NotDir);
        }
        if perm & DMDIR != 0 {
            return Err(Error::Perm);
        }
        if !kernel::OpenMode(mode).writable() {
            // The chan made here exists only to post through.
            return Err(Error::Perm);
        }
        check_name(name)?;
        let mut entries = instance.entries.lock();
        if entries.iter().any(|entry| entry.name == name) {
            return Err(Error::Exists);
        }
        if entries.len() >= MAX_ENTRIES {
            return Err(Error::msg("too many srv files"));
        }
        let number = NEXT_ENTRY.fetch_add(1, Ordering::Relaxed);
        entries.push(Entry {
            number,
            name: name.to_string(),
            owner: ctx.user(),
            perm: perm & 0o777,
            posted: None,
        });
        Ok(dir
            .child(SrvQid::Entry(number).pack(), dir.aux.clone(), name)
            .opened(mode))
    }

    fn remove(&self, ctx: &Ctx, chan: &Chan) -> Result<()> {
        let instance = instance(chan)?;
        let SrvQid::Entry(number) = SrvQid::unpack(chan.qid) else {
            return Err(Error::Perm);
        };
        let removed = {
            let mut entries = instance.entries.lock();
            let position = entries
                .iter()
                .position(|entry| entry.number == number)
                .ok_or(Error::NotExist)?;
            let entry = &entries[position];
            let user = ctx.user();
            // Plan 9's rule: only the owner (or the host owner) removes a service, unless
            // it is open to all.
            if entry.owner != user && user != ctx.kernel().eve() && entry.perm & 7 != 7 {
                return Err(Error::Perm);
            }
            entries.remove(position)
        };
        // The posted chan may be the last reference to a pipe or a connection; let it go
        // outside the lock.
        drop(removed);
        Ok(())
    }

    fn wstat(&self, ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let instance = instance(chan)?;
        let SrvQid::Entry(number) = SrvQid::unpack(chan.qid) else {
            return Err(Error::Perm);
        };
        let mut entries = instance.entries.lock();
        if !dir.name.is_empty() {
            check_name(&dir.name)?;
            if entries
                .iter()
                .any(|entry| entry.name == dir.name && entry.number != number)
            {
                return Err(Error::Exists);
            }
        }
        let entry = entries
            .iter_mut()
            .find(|entry| entry.number == number)
            .ok_or(Error::NotExist)?;
        let user = ctx.user();
        if entry.owner != user && user != ctx.kernel().eve() {
            return Err(Error::Perm);
        }
        if dir.mode != !0 {
            if dir.mode & DMDIR != 0 {
                return Err(Error::Perm);
            }
            entry.perm = dir.mode & 0o777;
        }
        if !dir.name.is_empty() {
            entry.name = dir.name.clone();
        }
        Ok(())
    }

    fn close(&self, chan: &Chan) {
        // The chan that created an entry, opened with ORCLOSE, takes the entry with it.
        let remove_on_close = chan.mode.is_some_and(|mode| mode.0 & ORCLOSE != 0);
        if let (true, Ok(instance), SrvQid::Entry(number)) =
            (remove_on_close, instance(chan), SrvQid::unpack(chan.qid))
        {
            let removed = {
                let mut entries = instance.entries.lock();
                entries
                    .iter()
                    .position(|entry| entry.number == number)
                    .map(|position| entries.remove(position))
            };
            drop(removed);
        }
    }

    fn read(&self, _ctx: &Ctx, chan: &Chan, _buf: &mut [u8], _offset: u64) -> Result<usize> {
        if chan.is_dir() {
            return Err(Error::IsDir);
        }
        // Only the creating chan of an entry is ever open on `#s`, and it is for writing.
        Err(Error::BadUseFd)
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let instance = instance(chan)?;
        let SrvQid::Entry(number) = SrvQid::unpack(chan.qid) else {
            return Err(Error::IsDir);
        };
        let fd = parse_fd(data)?;
        let posted = ctx.fds().get(fd)?;
        if posted.letter() == self.letter() {
            return Err(Error::msg("cannot post a srv file in srv"));
        }
        let mode = posted.mode.ok_or(Error::NotOpen)?;
        if mode.0 & ORCLOSE != 0 {
            return Err(Error::msg("posted fd has remove-on-close"));
        }
        let mut entries = instance.entries.lock();
        let entry = entries
            .iter_mut()
            .find(|entry| entry.number == number)
            .ok_or(Error::NotExist)?;
        if entry.posted.is_some() {
            // Plan 9's answer to a second post.
            return Err(Error::BadUseFd);
        }
        entry.posted = Some(posted);
        Ok(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::Pipe;
    use kernel::memfs::MemFs;
    use kernel::{Kernel, MCREATE, MREPL};
    use ninep::{OREAD, OWRITE};

    fn kernel() -> Arc<Kernel> {
        let kernel = Kernel::new("eve", "testhost");
        kernel.register(Arc::new(Srv::new())).unwrap();
        kernel.register(Arc::new(Pipe::new())).unwrap();
        let fs = MemFs::new('T');
        kernel.register(fs.clone()).unwrap();
        fs.add("root", "srv", None);
        fs.add("root", "n", None);
        kernel
    }

    fn context(kernel: &Arc<Kernel>, user: &str) -> Ctx {
        let ctx = Ctx::new(kernel.first_proc("srv", user));
        let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
        ctx.ns().set_root(root);
        ctx
    }

    fn names(ctx: &Ctx, path: &str) -> Vec<String> {
        ctx.read_dir(path)
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect()
    }

    /// Posts `fd` as `path`.
    fn post(ctx: &Ctx, path: &str, fd: i32, perm: u32) -> Result<()> {
        let entry = ctx.create(path, OWRITE, perm)?;
        let result = ctx.write(entry, fd.to_string().as_bytes()).map(drop);
        ctx.close(entry)?;
        result
    }

    #[test]
    fn qid_paths_round_trip() {
        for qid in [SrvQid::Dir(5), SrvQid::Entry(5), SrvQid::Entry(0)] {
            assert_eq!(SrvQid::unpack(qid.pack()), qid);
        }
        assert!(SrvQid::Dir(1).pack().is_dir());
    }

    #[test]
    fn posting_a_pipe_hands_out_the_same_chan() {
        let kernel = kernel();
        let ctx = context(&kernel, "glenda");
        ctx.bind("#s", "/srv", MREPL | MCREATE).unwrap();
        let [near, far] = ctx.pipe().unwrap();
        post(&ctx, "/srv/service", far, 0o600).unwrap();
        assert_eq!(names(&ctx, "/srv"), ["service"]);
        let stat = ctx.stat("/srv/service").unwrap();
        assert_eq!((stat.uid.as_str(), stat.mode), ("glenda", 0o600));
        let opened = ctx.open("/srv/service", ORDWR).unwrap();
        assert!(Arc::ptr_eq(
            &ctx.fds().get(far).unwrap(),
            &ctx.fds().get(opened).unwrap()
        ));
        // The posted chan keeps the pipe's end open after every descriptor of it closes.
        ctx.close(far).unwrap();
        ctx.close(opened).unwrap();
        ctx.write(near, b"through srv").unwrap();
        let client = ctx.open("/srv/service", ORDWR).unwrap();
        let mut buf = [0u8; 32];
        let count = ctx.read(client, &mut buf).unwrap();
        assert_eq!(&buf[..count], b"through srv");
    }

    #[test]
    fn a_second_post_fails_and_remove_unposts() {
        let kernel = kernel();
        let ctx = context(&kernel, "glenda");
        let [near, far] = ctx.pipe().unwrap();
        let entry = ctx.create("#s/once", OWRITE, 0o666).unwrap();
        ctx.write(entry, format!("{far}\n").as_bytes()).unwrap();
        assert_eq!(
            ctx.write(entry, near.to_string().as_bytes()).unwrap_err(),
            Error::BadUseFd
        );
        // A spec-less attach is a fresh, empty directory each time.
        assert!(ctx.read_dir("#s").unwrap().is_empty());
        ctx.bind("#s", "/srv", MREPL | MCREATE).unwrap();
        let posted = ctx.create("/srv/x", OWRITE, 0o666).unwrap();
        ctx.write(posted, far.to_string().as_bytes()).unwrap();
        assert_eq!(
            ctx.create("/srv/x", OWRITE, 0o666).unwrap_err().root(),
            &Error::Exists
        );
        ctx.remove("/srv/x").unwrap();
        assert!(names(&ctx, "/srv").is_empty());
        assert_eq!(
            ctx.open("/srv/x", ORDWR).unwrap_err().root(),
            &Error::NotExist
        );
    }

    #[test]
    fn named_instances_are_shared_across_namespaces() {
        let kernel = kernel();
        let server = context(&kernel, "glenda");
        let client = context(&kernel, "glenda");
        let [near, far] = server.pipe().unwrap();
        post(&server, "#sshared/conn", far, 0o666).unwrap();
        client.bind("#sshared", "/n", MREPL).unwrap();
        let fd = client.open("/n/conn", ORDWR).unwrap();
        client.write(fd, b"hello").unwrap();
        let mut buf = [0u8; 16];
        let count = server.read(near, &mut buf).unwrap();
        assert_eq!(&buf[..count], b"hello");
        assert!(client.read_dir("#sother").unwrap().is_empty());
        assert_ne!(
            client.stat("#sshared").unwrap().dev,
            client.stat("#sother").unwrap().dev
        );
    }

    #[test]
    fn unposted_entries_and_bad_posts_are_refused() {
        let kernel = kernel();
        let ctx = context(&kernel, "glenda");
        ctx.bind("#s", "/srv", MREPL | MCREATE).unwrap();
        let entry = ctx.create("/srv/empty", OWRITE, 0o666).unwrap();
        assert_eq!(
            ctx.open("/srv/empty", OREAD).unwrap_err().root(),
            &Error::msg("srv file not posted")
        );
        assert_eq!(ctx.write(entry, b"three").unwrap_err(), Error::BadArg);
        assert_eq!(ctx.write(entry, b"-1").unwrap_err(), Error::BadArg);
        assert_eq!(ctx.write(entry, b"42").unwrap_err(), Error::BadFd);
        // Posting the entry's own chan would make the instance hold itself.
        assert_eq!(
            ctx.write(entry, entry.to_string().as_bytes()).unwrap_err(),
            Error::msg("cannot post a srv file in srv")
        );
        assert_eq!(
            ctx.create("/srv/dir", OREAD, DMDIR | 0o777)
                .unwrap_err()
                .root(),
            &Error::Perm
        );
        assert_eq!(
            ctx.create("/srv/readonly", OREAD, 0o666)
                .unwrap_err()
                .root(),
            &Error::Perm
        );
        let long = "x".repeat(MAX_NAME + 1);
        assert!(ctx.create(&format!("/srv/{long}"), OWRITE, 0o666).is_err());
        assert_eq!(
            ctx.open(&format!("#s{long}"), OREAD).unwrap_err().root(),
            &Error::BadSpec
        );
    }

    #[test]
    fn opening_checks_the_posted_mode_and_the_entry_permissions() {
        let kernel = kernel();
        let owner = context(&kernel, "glenda");
        let other = context(&kernel, "other");
        let [_near, far] = owner.pipe().unwrap();
        let read_only = owner.open("#|", OREAD).unwrap();
        post(&owner, "#smodes/private", far, 0o600).unwrap();
        post(&owner, "#smodes/dir", read_only, 0o644).unwrap();
        assert!(owner.open("#smodes/private", ORDWR).is_ok());
        assert_eq!(
            other.open("#smodes/private", OREAD).unwrap_err().root(),
            &Error::Perm
        );
        assert_eq!(
            owner.open("#smodes/dir", OWRITE).unwrap_err().root(),
            &Error::Perm
        );
        assert!(other.open("#smodes/dir", OREAD).is_ok());
        // Only the owner removes a personal service.
        assert_eq!(
            other.remove("#smodes/private").unwrap_err().root(),
            &Error::Perm
        );
        owner.remove("#smodes/private").unwrap();
    }

    #[test]
    fn entries_per_instance_are_bounded() {
        let kernel = kernel();
        let ctx = context(&kernel, "glenda");
        ctx.bind("#s", "/srv", MREPL | MCREATE).unwrap();
        for index in 0..MAX_ENTRIES {
            let fd = ctx
                .create(&format!("/srv/e{index}"), OWRITE, 0o600)
                .unwrap();
            ctx.close(fd).unwrap();
        }
        assert_eq!(
            ctx.create("/srv/onemore", OWRITE, 0o600)
                .unwrap_err()
                .root(),
            &Error::msg("too many srv files")
        );
    }

    #[test]
    fn unused_named_instances_make_room() {
        let kernel = kernel();
        let ctx = context(&kernel, "glenda");
        let kept = ctx.create("#skeep/entry", OWRITE, 0o600).unwrap();
        ctx.close(kept).unwrap();
        let held = ctx.open("#sheld", OREAD).unwrap();
        // Without pruning, the named instances would run out here.
        for index in 0..2 * MAX_NAMED {
            ctx.stat(&format!("#sname{index}")).unwrap();
        }
        // An instance holding an entry, and one still attached, survive.
        assert!(ctx.stat("#skeep/entry").is_ok());
        let held_chan = ctx.fds().get(held).unwrap();
        assert_eq!(ctx.stat("#sheld").unwrap().dev, held_chan.devno as u32);
    }
}
