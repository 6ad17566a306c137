//! `#x`: the native programs, served as files so that running a command is a lookup in the
//! caller's namespace. Bound on `/dis` at boot; a namespace without it cannot run them. Inferno
//! keeps compiled Dis modules in `/dis`; ember's programs are Rust functions, and this device
//! is how they appear there.
//!
//! Invariants: the table is fixed when the device is made; each program is a read-only file
//! (mode 0555) whose contents are a one-line note, and whose `program` is the function.

use kernel::dev::{Attached, Device, dir_entry, read_str};
use kernel::{Chan, Ctx, Dir, Error, Program, Qid, Result};

const ROOT: u64 = 0;

/// The device serving native programs.
pub struct Dis {
    programs: Vec<(&'static str, Program)>,
}

impl Dis {
    /// Serves `programs`, listed in the order given.
    pub fn new(programs: Vec<(&'static str, Program)>) -> Dis {
        Dis { programs }
    }

    fn lookup(&self, qid: Qid) -> Option<(&'static str, Program)> {
        let index = usize::try_from(qid.path).ok()?.checked_sub(1)?;
        self.programs.get(index).copied()
    }

    fn note(name: &str) -> String {
        format!("native program {name}\n")
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
        if chan.qid.path != ROOT {
            return Err(Error::NotDir);
        }
        self.programs
            .iter()
            .position(|(program, _)| *program == name)
            .map(|index| chan.walked(Qid::file(index as u64 + 1)))
            .ok_or(Error::NotExist)
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        if dir.qid.path != ROOT {
            return Ok(None);
        }
        let eve = ctx.kernel().eve();
        Ok(self.programs.get(index).map(|(name, _)| {
            let qid = Qid::file(index as u64 + 1);
            dir_entry(dir, qid, name, Self::note(name).len() as u64, &eve, 0o555)
        }))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let eve = ctx.kernel().eve();
        if chan.qid.path == ROOT {
            return Ok(dir_entry(chan, chan.qid, "#x", 0, &eve, 0o555));
        }
        let (name, _) = self.lookup(chan.qid).ok_or(Error::NotExist)?;
        Ok(dir_entry(
            chan,
            chan.qid,
            name,
            Self::note(name).len() as u64,
            &eve,
            0o555,
        ))
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
}
