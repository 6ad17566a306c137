//! `#e`: the caller's environment group as a directory of files (Inferno `devenv.c`), bound on
//! `/env` with `-c`. Each variable is a file whose contents are its value: creating a file
//! makes an empty variable, writing stores bytes at the offset, opening with OTRUNC empties
//! it, removing deletes it. The directory lists the variables in name order.
//!
//! Invariants:
//! - Every operation acts on the environment of the process making it, at the time it makes
//!   it (so FORKENV and NEWENV take effect at once, as in Inferno).
//! - A chan names its variable by name (aux) and by qid path: if the variable has been
//!   removed, or removed and made again, operations on the old chan fail with "file does not
//!   exist" rather than reach another variable.
//! - Names are bounded by [`kernel::env::MAX_NAME`], values by [`kernel::env::MAX_VALUE`], and
//!   the number of variables made through `#e` by [`MAX_VARS`].

use kernel::dev::{check_open, dir_entry, read_bytes};
use kernel::env::Var;
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use ninep::{DMDIR, OEXEC, OTRUNC, QTFILE};
use std::any::Any;
use std::sync::Arc;

/// Most variables an environment may hold for `#e` to create another.
pub const MAX_VARS: usize = 4096;

/// A file of `#e`: the directory (qid path 0) or a variable (its [`Var::path`], never 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EnvFile {
    Root,
    Var { path: u64, vers: u32 },
}

impl EnvFile {
    fn pack(self) -> Qid {
        match self {
            EnvFile::Root => Qid::dir(0),
            EnvFile::Var { path, vers } => Qid::new(QTFILE, vers, path),
        }
    }

    fn unpack(qid: Qid) -> EnvFile {
        if qid.is_dir() {
            EnvFile::Root
        } else {
            EnvFile::Var {
                path: qid.path,
                vers: qid.vers,
            }
        }
    }

    fn of(var: &Var) -> EnvFile {
        EnvFile::Var {
            path: var.path,
            vers: var.vers,
        }
    }
}

/// What a variable's chan carries: the variable's name.
struct VarName(String);

/// One row of a directory listing, taken when a directory read starts.
struct Row {
    name: String,
    file: EnvFile,
    length: u64,
}

struct Listing(Vec<Row>);

/// The environment device.
pub struct EnvDevice;

impl EnvDevice {
    pub fn new() -> EnvDevice {
        EnvDevice
    }
}

impl Default for EnvDevice {
    fn default() -> EnvDevice {
        EnvDevice::new()
    }
}

/// The variable `chan` names, if it is still the same variable.
fn variable(ctx: &Ctx, chan: &Chan) -> Result<(String, Var)> {
    let EnvFile::Var { path, .. } = EnvFile::unpack(chan.qid) else {
        return Err(Error::IsDir);
    };
    let name = chan.aux::<VarName>().ok_or(Error::NotExist)?;
    let var = ctx
        .env()
        .var(&name.0)
        .filter(|var| var.path == path)
        .ok_or(Error::NotExist)?;
    Ok((name.0.clone(), var))
}

fn var_entry(ctx: &Ctx, chan: &Chan, name: &str, var: &Var) -> Dir {
    dir_entry(
        chan,
        EnvFile::of(var).pack(),
        name,
        var.value.len() as u64,
        &ctx.user(),
        0o666,
    )
}

fn aux_name(name: &str) -> Option<Arc<dyn Any + Send + Sync>> {
    Some(Arc::new(VarName(name.to_string())))
}

impl Device for EnvDevice {
    fn letter(&self) -> char {
        'e'
    }

    fn name(&self) -> &'static str {
        "env"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(EnvFile::Root.pack()))
    }

    fn walk(&self, ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        if EnvFile::unpack(chan.qid) != EnvFile::Root {
            return Err(Error::NotDir);
        }
        let var = ctx.env().var(name).ok_or(Error::NotExist)?;
        Ok(chan.walked_with(EnvFile::of(&var).pack(), aux_name(name)))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        if EnvFile::unpack(dir.qid) != EnvFile::Root {
            return Ok(None);
        }
        let mut state = dir.open_state.lock();
        let current = state
            .as_ref()
            .and_then(|state| state.downcast_ref::<Listing>());
        if index == 0 || current.is_none() {
            let rows = ctx
                .env()
                .list()
                .into_iter()
                .map(|(name, var)| Row {
                    file: EnvFile::of(&var),
                    length: var.value.len() as u64,
                    name,
                })
                .collect();
            *state = Some(Box::new(Listing(rows)));
        }
        let Some(Listing(rows)) = state
            .as_ref()
            .and_then(|state| state.downcast_ref::<Listing>())
        else {
            return Ok(None);
        };
        Ok(rows.get(index).map(|row| {
            dir_entry(
                dir,
                row.file.pack(),
                &row.name,
                row.length,
                &ctx.user(),
                0o666,
            )
        }))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        match EnvFile::unpack(chan.qid) {
            EnvFile::Root => Ok(dir_entry(
                chan,
                chan.qid,
                "#e",
                0,
                &ctx.user(),
                DMDIR | 0o775,
            )),
            EnvFile::Var { .. } => {
                let (name, var) = variable(ctx, chan)?;
                Ok(var_entry(ctx, chan, &name, &var))
            }
        }
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let dir = self.stat(ctx, &chan)?;
        check_open(ctx, &dir, mode)?;
        if mode & OTRUNC != 0 {
            let (name, _) = variable(ctx, &chan)?;
            ctx.env().truncate(&name)?;
        }
        Ok(chan.opened(mode))
    }

    fn create(&self, ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        if EnvFile::unpack(dir.qid) != EnvFile::Root {
            return Err(Error::NotDir);
        }
        if perm & DMDIR != 0 || mode & 3 == OEXEC {
            return Err(Error::Perm);
        }
        let env = ctx.env();
        if env.var(name).is_some() {
            return Err(Error::Exists);
        }
        if env.list().len() >= MAX_VARS {
            return Err(Error::msg("too many environment variables"));
        }
        env.set(name, b"")?;
        let var = env.var(name).ok_or(Error::NotExist)?;
        Ok(dir
            .child(EnvFile::of(&var).pack(), aux_name(name), name)
            .opened(mode))
    }

    fn remove(&self, ctx: &Ctx, chan: &Chan) -> Result<()> {
        if EnvFile::unpack(chan.qid) == EnvFile::Root {
            return Err(Error::Perm);
        }
        let (name, _) = variable(ctx, chan)?;
        ctx.env().remove(&name)
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let (_, var) = variable(ctx, chan)?;
        Ok(read_bytes(&var.value, buf, offset))
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], offset: u64) -> Result<usize> {
        let (name, _) = variable(ctx, chan)?;
        ctx.env().write_at(&name, data, offset)?;
        Ok(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::memfs::MemFs;
    use kernel::proc::{FORKENV, NEWENV};
    use kernel::{Kernel, MCREATE, MREPL};
    use ninep::{ORDWR, OREAD, OWRITE};

    fn context() -> Ctx {
        let kernel = Kernel::new("test", "testhost");
        kernel.register(Arc::new(EnvDevice::new())).unwrap();
        let fs = MemFs::new('T');
        kernel.register(fs.clone()).unwrap();
        fs.add("root", "env", None);
        let ctx = Ctx::new(kernel.first_proc("env", "glenda"));
        let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
        ctx.ns().set_root(root);
        ctx.bind("#e", "/env", MREPL | MCREATE).unwrap();
        ctx
    }

    fn cat(ctx: &Ctx, path: &str) -> Result<String> {
        Ok(String::from_utf8(ctx.read_file(path, 1 << 16)?).unwrap())
    }

    fn put(ctx: &Ctx, path: &str, value: &str) {
        let fd = ctx.create(path, OWRITE, 0o666).unwrap();
        ctx.write(fd, value.as_bytes()).unwrap();
        ctx.close(fd).unwrap();
    }

    #[test]
    fn lists_variables_in_name_order_with_their_qids() {
        let ctx = context();
        ctx.env().set("zebra", b"stripes").unwrap();
        ctx.env().set("apple", b"red").unwrap();
        let entries = ctx.read_dir("/env").unwrap();
        let names: Vec<&str> = entries.iter().map(|dir| dir.name.as_str()).collect();
        assert_eq!(names, ["apple", "zebra"]);
        let apple = ctx.env().var("apple").unwrap();
        assert_eq!(entries[0].qid, Qid::new(QTFILE, apple.vers, apple.path));
        assert_eq!(
            (entries[0].length, entries[0].mode, entries[0].uid.as_str()),
            (3, 0o666, "glenda")
        );
        assert_eq!(entries[1].length, 7);
    }

    #[test]
    fn create_write_read_truncate_remove() {
        let ctx = context();
        put(&ctx, "/env/greeting", "hello");
        assert_eq!(ctx.env().get("greeting").unwrap(), b"hello");
        assert_eq!(cat(&ctx, "/env/greeting").unwrap(), "hello");
        // Writes land at the offset.
        let fd = ctx.open("/env/greeting", OWRITE).unwrap();
        ctx.pwrite(fd, b"J", 0).unwrap();
        ctx.pwrite(fd, b"!", 5).unwrap();
        ctx.close(fd).unwrap();
        assert_eq!(cat(&ctx, "/env/greeting").unwrap(), "Jello!");
        let stat = ctx.stat("/env/greeting").unwrap();
        assert_eq!(stat.length, 6);
        assert_eq!(stat.qid.vers, ctx.env().var("greeting").unwrap().vers);
        // Creating an existing variable truncates it, as create(2) does.
        put(&ctx, "/env/greeting", "hi");
        assert_eq!(cat(&ctx, "/env/greeting").unwrap(), "hi");
        let fd = ctx.open("/env/greeting", OWRITE | OTRUNC).unwrap();
        ctx.close(fd).unwrap();
        assert_eq!(ctx.env().get("greeting").unwrap(), b"");
        ctx.remove("/env/greeting").unwrap();
        assert!(ctx.env().get("greeting").is_none());
        assert_eq!(
            ctx.open("/env/greeting", OREAD).unwrap_err().root(),
            &Error::NotExist
        );
    }

    #[test]
    fn bad_creates_are_refused() {
        let ctx = context();
        assert_eq!(
            ctx.create("/env/dir", OREAD, DMDIR | 0o777)
                .unwrap_err()
                .root(),
            &Error::Perm
        );
        let long = "n".repeat(kernel::env::MAX_NAME + 1);
        assert!(ctx.create(&format!("/env/{long}"), OWRITE, 0o666).is_err());
        assert!(ctx.env().list().is_empty());
        assert_eq!(
            ctx.open("#efoo", OREAD).unwrap_err().root(),
            &Error::BadSpec
        );
        assert_eq!(ctx.remove("/env").unwrap_err().root(), &Error::Perm);
    }

    #[test]
    fn an_open_chan_does_not_reach_a_new_variable_of_the_same_name() {
        let ctx = context();
        put(&ctx, "/env/v", "old");
        let fd = ctx.open("/env/v", ORDWR).unwrap();
        ctx.env().remove("v").unwrap();
        ctx.env().set("v", b"new").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(ctx.read(fd, &mut buf).unwrap_err(), Error::NotExist);
        assert_eq!(ctx.write(fd, b"x").unwrap_err(), Error::NotExist);
        assert_eq!(ctx.fstat(fd).unwrap_err(), Error::NotExist);
        assert_eq!(ctx.env().get("v").unwrap(), b"new");
    }

    #[test]
    fn each_process_sees_its_own_environment_group() {
        let ctx = context();
        put(&ctx, "/env/shared", "before");
        ctx.pctl(FORKENV, &[]).unwrap();
        put(&ctx, "/env/shared", "after");
        assert_eq!(cat(&ctx, "/env/shared").unwrap(), "after");
        ctx.pctl(NEWENV, &[]).unwrap();
        assert!(ctx.read_dir("/env").unwrap().is_empty());
        assert_eq!(
            cat(&ctx, "/env/shared").unwrap_err().root(),
            &Error::NotExist
        );
    }

    #[test]
    fn values_stay_bounded() {
        let ctx = context();
        put(&ctx, "/env/big", "");
        let fd = ctx.open("/env/big", OWRITE).unwrap();
        assert!(ctx.pwrite(fd, b"x", kernel::env::MAX_VALUE as u64).is_err());
        assert!(ctx.pwrite(fd, b"x", u64::MAX).is_err());
        assert_eq!(ctx.env().get("big").unwrap(), b"");
    }
}
