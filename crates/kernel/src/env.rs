//! Environment groups (Plan 9 `Egrp`): named byte strings shared by the processes of a group,
//! copied by FORKENV and started empty by NEWENV. `#e` serves them as files.
//!
//! Invariants: names are valid file names of at most [`MAX_NAME`] bytes; every variable has a
//! qid path unique in the kernel, so a variable removed and made again is a new file.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest variable name, as Inferno's devenv allows.
pub const MAX_NAME: usize = 127;
/// Largest value a variable may hold.
pub const MAX_VALUE: usize = 1 << 20;

static NEXT_PATH: AtomicU64 = AtomicU64::new(1);

/// One variable.
#[derive(Clone, Debug)]
pub struct Var {
    pub value: Vec<u8>,
    /// Qid path for `#e`.
    pub path: u64,
    /// Bumped on every change.
    pub vers: u32,
}

/// An environment group.
#[derive(Default)]
pub struct Env {
    vars: Mutex<BTreeMap<String, Var>>,
}

impl Env {
    pub fn new() -> Env {
        Env::default()
    }

    /// A copy (FORKENV).
    pub fn fork(&self) -> Env {
        Env {
            vars: Mutex::new(self.vars.lock().clone()),
        }
    }

    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.vars.lock().get(name).map(|var| var.value.clone())
    }

    /// The variable with all its bookkeeping.
    pub fn var(&self, name: &str) -> Option<Var> {
        self.vars.lock().get(name).cloned()
    }

    /// Sets `name` to `value`, creating it if needed.
    pub fn set(&self, name: &str, value: &[u8]) -> Result<()> {
        check_name(name)?;
        if value.len() > MAX_VALUE {
            return Err(Error::msg("environment variable too large"));
        }
        let mut vars = self.vars.lock();
        match vars.get_mut(name) {
            Some(var) => {
                var.value = value.to_vec();
                var.vers = var.vers.wrapping_add(1);
            }
            None => {
                vars.insert(
                    name.to_string(),
                    Var {
                        value: value.to_vec(),
                        path: NEXT_PATH.fetch_add(1, Ordering::Relaxed),
                        vers: 0,
                    },
                );
            }
        }
        Ok(())
    }

    /// Writes `data` at `offset` into `name`'s value, extending it (how `#e` writes).
    pub fn write_at(&self, name: &str, data: &[u8], offset: u64) -> Result<()> {
        let mut vars = self.vars.lock();
        let var = vars.get_mut(name).ok_or(Error::NotExist)?;
        let offset = usize::try_from(offset).map_err(|_| Error::BadArg)?;
        let end = offset.checked_add(data.len()).ok_or(Error::BadArg)?;
        if end > MAX_VALUE {
            return Err(Error::msg("environment variable too large"));
        }
        if var.value.len() < end {
            var.value.resize(end, 0);
        }
        var.value[offset..end].copy_from_slice(data);
        var.vers = var.vers.wrapping_add(1);
        Ok(())
    }

    /// Empties `name`'s value (open with OTRUNC).
    pub fn truncate(&self, name: &str) -> Result<()> {
        let mut vars = self.vars.lock();
        let var = vars.get_mut(name).ok_or(Error::NotExist)?;
        var.value.clear();
        var.vers = var.vers.wrapping_add(1);
        Ok(())
    }

    pub fn remove(&self, name: &str) -> Result<()> {
        self.vars
            .lock()
            .remove(name)
            .map(|_| ())
            .ok_or(Error::NotExist)
    }

    /// All names and variables, in name order.
    pub fn list(&self) -> Vec<(String, Var)> {
        self.vars
            .lock()
            .iter()
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect()
    }

    /// The name of the variable with qid path `path`.
    pub fn name_of(&self, path: u64) -> Option<String> {
        self.vars
            .lock()
            .iter()
            .find(|(_, var)| var.path == path)
            .map(|(name, _)| name.clone())
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::BadArg);
    }
    if name.len() > MAX_NAME {
        return Err(Error::msg("environment variable name too long"));
    }
    crate::path::valid_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_fork() {
        let env = Env::new();
        env.set("x", b"1").unwrap();
        let copy = env.fork();
        env.set("x", b"2").unwrap();
        assert_eq!(copy.get("x").unwrap(), b"1");
        assert_eq!(env.get("x").unwrap(), b"2");
        assert!(env.set("a/b", b"").is_err());
        assert!(env.set(&"n".repeat(200), b"").is_err());
    }

    #[test]
    fn write_at_extends() {
        let env = Env::new();
        env.set("v", b"abc").unwrap();
        env.write_at("v", b"XY", 2).unwrap();
        assert_eq!(env.get("v").unwrap(), b"abXY");
        assert!(env.write_at("v", b"x", u64::MAX).is_err());
    }
}
