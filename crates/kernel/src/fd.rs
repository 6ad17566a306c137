//! File descriptor tables (Plan 9 `Fgrp`): small integers naming opened chans, shared by the
//! processes of a group or copied (FORKFD) or started afresh (NEWFD).
//!
//! Invariant: the table never grows past [`MAX_FDS`], so no input can make it use unbounded
//! memory; closing the last descriptor of a chan closes the chan.

use crate::chan::Chan;
use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::sync::Arc;

/// The most descriptors a table may hold.
pub const MAX_FDS: usize = 4096;

/// A table of open descriptors.
#[derive(Default)]
pub struct FdTable {
    slots: Mutex<Vec<Option<Arc<Chan>>>>,
}

impl FdTable {
    pub fn new() -> FdTable {
        FdTable::default()
    }

    /// The chan behind `fd`.
    pub fn get(&self, fd: i32) -> Result<Arc<Chan>> {
        let slots = self.slots.lock();
        usize::try_from(fd)
            .ok()
            .and_then(|index| slots.get(index))
            .and_then(|slot| slot.clone())
            .ok_or(Error::BadFd)
    }

    /// Installs `chan` at the lowest free descriptor.
    pub fn install(&self, chan: Arc<Chan>) -> Result<i32> {
        let mut slots = self.slots.lock();
        let index = match slots.iter().position(Option::is_none) {
            Some(index) => index,
            None if slots.len() < MAX_FDS => {
                slots.push(None);
                slots.len() - 1
            }
            None => return Err(Error::NoFd),
        };
        slots[index] = Some(chan);
        Ok(index as i32)
    }

    /// Installs `chan` at exactly `fd`, closing whatever was there (Plan 9 `dup(old, new)`).
    pub fn install_at(&self, fd: i32, chan: Arc<Chan>) -> Result<()> {
        let index = usize::try_from(fd)
            .ok()
            .filter(|index| *index < MAX_FDS)
            .ok_or(Error::BadFd)?;
        let previous = {
            let mut slots = self.slots.lock();
            if slots.len() <= index {
                slots.resize(index + 1, None);
            }
            slots[index].replace(chan)
        };
        // The previous chan may be closed here, outside the lock, since a device's close can
        // take time (a pipe wakes its readers, a 9P file sends a clunk).
        drop(previous);
        Ok(())
    }

    /// Closes `fd`.
    pub fn close(&self, fd: i32) -> Result<()> {
        let previous = {
            let mut slots = self.slots.lock();
            usize::try_from(fd)
                .ok()
                .and_then(|index| slots.get_mut(index))
                .and_then(Option::take)
                .ok_or(Error::BadFd)?
        };
        drop(previous);
        Ok(())
    }

    /// A copy sharing every chan (FORKFD).
    pub fn fork(&self) -> FdTable {
        FdTable {
            slots: Mutex::new(self.slots.lock().clone()),
        }
    }

    /// A table holding only the descriptors in `keep`, at the same numbers (NEWFD).
    pub fn keep_only(&self, keep: &[i32]) -> FdTable {
        let slots = self.slots.lock();
        let mut kept: Vec<Option<Arc<Chan>>> = Vec::new();
        for &fd in keep {
            if let Some(chan) = usize::try_from(fd)
                .ok()
                .and_then(|index| slots.get(index))
                .and_then(|slot| slot.clone())
            {
                let index = fd as usize;
                if kept.len() <= index {
                    kept.resize(index + 1, None);
                }
                kept[index] = Some(chan);
            }
        }
        FdTable {
            slots: Mutex::new(kept),
        }
    }

    /// Every open descriptor, in order.
    pub fn list(&self) -> Vec<(i32, Arc<Chan>)> {
        self.slots
            .lock()
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| slot.clone().map(|chan| (index as i32, chan)))
            .collect()
    }

    /// Closes every descriptor (when the last process using the table exits).
    pub fn clear(&self) {
        let slots = std::mem::take(&mut *self.slots.lock());
        drop(slots);
    }
}
