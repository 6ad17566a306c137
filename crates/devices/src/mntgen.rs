//! `#N`: mount points made on demand (Plan 9's `mntgen(4)`), bound on `/n` and `/mnt` at
//! boot. Any name walked to in its root is an empty directory to mount or bind on, so
//! `mount 'tcp!gw!5546' /n/gw` works with no `mkdir` first; reading the root lists the names
//! that have something mounted on them in the reader's namespace.
//!
//! Invariants:
//! - The device keeps no state: a name's qid path is a hash of the name, so walking any number
//!   of names costs nothing that lasts, and the same name is always the same mount point.
//! - Each attach spec is its own instance (`#N` for `/n`, `#Nmnt` for `/mnt`), so the same
//!   name under the two is two mount points.
//! - Nothing can be created, written or removed here; the directories below the root are
//!   empty and hold nothing but what is mounted on them.

use kernel::dev::dir_entry;
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use std::hash::{DefaultHasher, Hash, Hasher};

/// The qid path of the root; every name's path has its top bit set, so none is 0.
const ROOT: u64 = 0;
const NAME_BIT: u64 = 1 << 63;

/// A stable, well-spread number for `text` (SipHash with fixed keys).
fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// The mount-point generator.
#[derive(Default)]
pub struct MntGen;

impl MntGen {
    pub fn new() -> MntGen {
        MntGen
    }
}

impl Device for MntGen {
    fn letter(&self) -> char {
        'N'
    }

    fn name(&self) -> &'static str {
        "mntgen"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.chars().all(|ch| ch.is_ascii_alphanumeric()) {
            return Err(Error::BadSpec);
        }
        Ok(Attached {
            devno: if spec.is_empty() { 0 } else { hash(spec) },
            qid: Qid::dir(ROOT),
            aux: None,
        })
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        if dir.qid.path != ROOT {
            return Ok(None);
        }
        let mounted = ctx.ns().mounted_on('N', dir.devno);
        Ok(mounted.get(index).map(|(path, name)| {
            dir_entry(dir, Qid::dir(*path), name, 0, &ctx.kernel().eve(), 0o555)
        }))
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        if chan.qid.path != ROOT {
            return Err(Error::NotExist);
        }
        Ok(chan.walked(Qid::dir(hash(name) | NAME_BIT)))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let name = if chan.qid.path == ROOT {
            "#N".to_string()
        } else {
            chan.name.rsplit('/').next().unwrap_or_default().to_string()
        };
        Ok(dir_entry(
            chan,
            chan.qid,
            &name,
            0,
            &ctx.kernel().eve(),
            0o555,
        ))
    }

    fn read(&self, _ctx: &Ctx, _chan: &Chan, _buf: &mut [u8], _offset: u64) -> Result<usize> {
        Err(Error::IsDir)
    }

    fn write(&self, _ctx: &Ctx, _chan: &Chan, _data: &[u8], _offset: u64) -> Result<usize> {
        Err(Error::IsDir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::{Kernel, MREPL, Namespace};
    use std::sync::Arc;

    fn setup() -> Ctx {
        let kernel = Kernel::new("eve", "test");
        kernel.register(Arc::new(MntGen::new())).unwrap();
        kernel.register(kernel::memfs::MemFs::new('Z')).unwrap();
        let ctx = Ctx::new(kernel.first_proc("test", "eve"));
        let root = ctx.ns().attach(&ctx, 'N', "").unwrap();
        ctx.proc.set_ns(Arc::new(Namespace::new(root)));
        ctx
    }

    #[test]
    fn any_name_is_an_empty_directory_to_mount_on() {
        let ctx = setup();
        assert!(ctx.stat("/anything").unwrap().mode & ninep::DMDIR != 0);
        assert_eq!(ctx.read_dir("/anything").unwrap(), Vec::new());
        assert!(ctx.stat("/anything/below").is_err());
        assert_eq!(ctx.read_dir("/").unwrap(), Vec::new());
        ctx.bind("#Z", "/gw", MREPL).unwrap();
        let names: Vec<String> = ctx
            .read_dir("/")
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        assert_eq!(names, ["gw"]);
        assert!(ctx.create("/new", ninep::OWRITE, 0o666).is_err());
    }

    #[test]
    fn specs_are_separate_instances() {
        let ctx = setup();
        let plain = ctx.ns().attach(&ctx, 'N', "").unwrap();
        let mnt = ctx.ns().attach(&ctx, 'N', "mnt").unwrap();
        assert_ne!(plain.devno, mnt.devno);
        assert_eq!(
            ctx.ns().attach(&ctx, 'N', "a/b").unwrap_err(),
            Error::BadSpec
        );
    }
}
