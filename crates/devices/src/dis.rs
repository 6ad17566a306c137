//! `#x`: the native programs, served as files so that running a command is a lookup in the
//! caller's namespace. Bound on `/dis` at boot; a namespace without it cannot run them. Inferno
//! keeps compiled Dis modules in `/dis`; ember's programs are Rust functions, and this device
//! is how they appear there.
//!
//! Invariants: the table is fixed when the device is made; each program is a read-only file
//! (mode 0555) whose contents are a one-line note, and whose `program` is the function. A
//! program named `dir/name` (Inferno's `/dis/auth/keygen`) is served in directory `dir`;
//! names have at most one `/`.

use kernel::dev::{Attached, Device, dir_entry, read_str};
use kernel::{Chan, Ctx, Dir, Error, Program, Qid, Result};

const ROOT: u64 = 0;
/// Directories' qid paths start here; programs' are their index plus one.
const DIRS: u64 = 1 << 32;

/// The device serving native programs.
pub struct Dis {
    programs: Vec<(&'static str, Program)>,
    /// The directories, in the order their first program comes.
    dirs: Vec<&'static str>,
}

impl Dis {
    /// Serves `programs`, listed in the order given.
    pub fn new(programs: Vec<(&'static str, Program)>) -> Dis {
        let mut dirs = Vec::new();
        for (name, _) in &programs {
            if let Some((dir, _)) = name.split_once('/')
                && !dirs.contains(&dir)
            {
                dirs.push(dir);
            }
        }
        Dis { programs, dirs }
    }

    fn lookup(&self, qid: Qid) -> Option<(&'static str, Program)> {
        let index = usize::try_from(qid.path).ok()?.checked_sub(1)?;
        self.programs.get(index).copied()
    }

    fn note(name: &str) -> String {
        format!("native program {name}\n")
    }

    /// The directory a qid names: "" for the root.
    fn dir_name(&self, qid: Qid) -> Option<&'static str> {
        match qid.path {
            ROOT => Some(""),
            path if path >= DIRS => self.dirs.get((path - DIRS) as usize).copied(),
            _ => None,
        }
    }

    /// The entries of directory `dir` ("" for the root): its subdirectories, then programs.
    fn listing(&self, dir: &str) -> Vec<(String, Qid)> {
        let mut entries = Vec::new();
        if dir.is_empty() {
            for (index, name) in self.dirs.iter().enumerate() {
                entries.push((name.to_string(), Qid::dir(DIRS + index as u64)));
            }
        }
        for (index, (name, _)) in self.programs.iter().enumerate() {
            let base = match name.split_once('/') {
                Some((parent, base)) if parent == dir => base,
                None if dir.is_empty() => name,
                _ => continue,
            };
            entries.push((base.to_string(), Qid::file(index as u64 + 1)));
        }
        entries
    }

    fn entry_of(&self, ctx: &Ctx, chan: &Chan, name: &str, qid: Qid) -> Dir {
        let eve = ctx.kernel().eve();
        let length = if qid.is_dir() {
            0
        } else {
            Self::note(name).len() as u64
        };
        dir_entry(chan, qid, name, length, &eve, 0o555)
    }
}

impl Device for Dis {
    fn letter(&self) -> char {
        'x'
    }

    fn name(&self) -> &'static str {
        "dis"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(Qid::dir(ROOT)))
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let dir = self.dir_name(chan.qid).ok_or(Error::NotDir)?;
        self.listing(dir)
            .into_iter()
            .find(|(entry, _)| entry == name)
            .map(|(_, qid)| chan.walked(qid))
            .ok_or(Error::NotExist)
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let Some(name) = self.dir_name(dir.qid) else {
            return Ok(None);
        };
        Ok(self
            .listing(name)
            .into_iter()
            .nth(index)
            .map(|(name, qid)| self.entry_of(ctx, dir, &name, qid)))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        if let Some(dir) = self.dir_name(chan.qid) {
            let name = if dir.is_empty() { "#x" } else { dir };
            return Ok(self.entry_of(ctx, chan, name, chan.qid));
        }
        let (name, _) = self.lookup(chan.qid).ok_or(Error::NotExist)?;
        let base = name.rsplit('/').next().unwrap_or(name);
        Ok(self.entry_of(ctx, chan, base, chan.qid))
    }

    fn read(&self, _ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let (name, _) = self.lookup(chan.qid).ok_or(Error::NotExist)?;
        Ok(read_str(&Self::note(name), buf, offset))
    }

    fn write(&self, _ctx: &Ctx, _chan: &Chan, _data: &[u8], _offset: u64) -> Result<usize> {
        Err(Error::Perm)
    }

    fn program(&self, chan: &Chan) -> Option<Program> {
        self.lookup(chan.qid).map(|(_, program)| program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Kernel;
    use std::sync::Arc;

    fn hello(_ctx: &Ctx, _argv: &[String]) -> kernel::Exit {
        Err("hello ran".into())
    }

    #[test]
    fn serves_programs_by_name() {
        let kernel = Kernel::new("eve", "test");
        kernel
            .register(Arc::new(Dis::new(vec![("hello", hello as Program)])))
            .unwrap();
        let ctx = Ctx::new(kernel.first_proc("test", "eve"));
        let names: Vec<String> = ctx
            .read_dir("#x")
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["hello"]);
        let program = ctx.program("#x/hello").unwrap().unwrap();
        assert_eq!(program(&ctx, &[]), Err("hello ran".to_string()));
        assert_eq!(
            ctx.program("#x/missing").unwrap_err().root(),
            &Error::NotExist
        );
        assert_eq!(ctx.program("#x").unwrap_err().root(), &Error::ExecDir);
        assert_eq!(ctx.stat("#x/hello").unwrap().mode, 0o555);
    }

    #[test]
    fn serves_programs_in_directories() {
        let kernel = Kernel::new("eve", "test");
        kernel
            .register(Arc::new(Dis::new(vec![
                ("auth/keygen", hello as Program),
                ("cat", hello as Program),
                ("auth/createsignerkey", hello as Program),
            ])))
            .unwrap();
        let ctx = Ctx::new(kernel.first_proc("test", "eve"));
        let names = |path: &str| -> Vec<String> {
            ctx.read_dir(path)
                .unwrap()
                .into_iter()
                .map(|d| d.name)
                .collect()
        };
        assert_eq!(names("#x"), ["auth", "cat"]);
        assert_eq!(names("#x/auth"), ["keygen", "createsignerkey"]);
        assert!(ctx.stat("#x/auth").unwrap().mode & ninep::DMDIR != 0);
        assert_eq!(ctx.stat("#x/auth/keygen").unwrap().name, "keygen");
        assert!(ctx.program("#x/auth/keygen").unwrap().is_some());
        assert_eq!(ctx.program("#x/auth").unwrap_err().root(), &Error::ExecDir);
        assert_eq!(ctx.program("#x/cat/x").unwrap_err().root(), &Error::NotDir);
        assert_eq!(
            ctx.program("#x/keygen").unwrap_err().root(),
            &Error::NotExist
        );
    }
}
