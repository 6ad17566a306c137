//! Resource limits: how much of the host one ember may use, and the budgets that keep any one
//! process or peer from using all of it (Inferno's `conf`, and the pool limits of emu's
//! `alloc.c`). `docs/limits.md` lists each limit with what a caller sees when it is hit.
//!
//! Invariants:
//! - Every host thread ember starts goes through [`Kernel::spawn_thread`], which takes a
//!   grant from the kernel-wide thread budget first; failing to get one, or the host refusing
//!   the thread, is an error string for the caller, never a panic or an abort.
//! - A [`Grant`] is returned to its budget when dropped, so nothing can leak a slot by
//!   returning early or panicking.
//! - The limits are sized for a Raspberry Pi (a 32-bit one included) and are met long before
//!   the host's own (`vm.max_map_count`, `RLIMIT_NPROC`, a 3 GiB address space).

use crate::Kernel;
use crate::error::{Error, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The limits of one kernel. `Limits::default()` is what the binary uses.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Live processes (the process table), services included.
    pub procs: usize,
    /// Host threads of every kind: processes, export workers, handshakes, listeners'
    /// acceptors and every other kernel thread.
    pub threads: usize,
    /// Export worker threads shared by all connections, beyond the few each connection is
    /// always allowed (`kernel::export`).
    pub export_workers: usize,
    /// Bytes of read buffers (replies being read or waiting to be written) shared by all
    /// export connections, beyond each connection's own small share.
    pub export_buffers: usize,
    /// Fids of all export connections together (each costs about 640 bytes with its path).
    pub fids: usize,
    /// Callers' handshakes in progress on all listeners together (`auth::Admissions`):
    /// beyond it a newcomer takes the place of the oldest handshake of the busiest address.
    pub handshakes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            procs: 1000,
            threads: 2000,
            export_workers: 1024,
            export_buffers: 64 << 20,
            fids: 128 << 10,
            handshakes: 64,
        }
    }
}

/// Stack of a process's thread. Pages are only used as touched; the shell bounds its own
/// nesting so it never needs more (see `shell::sh`).
pub const PROC_STACK: usize = 4 << 20;

/// A counted resource with a maximum (a pool of slots).
#[derive(Debug)]
pub struct Budget {
    name: &'static str,
    used: AtomicUsize,
    max: usize,
}

impl Budget {
    pub fn new(name: &'static str, max: usize) -> Arc<Budget> {
        Arc::new(Budget {
            name,
            used: AtomicUsize::new(0),
            max,
        })
    }

    /// Takes one slot, or none if all `max` are in use.
    pub fn try_take(self: &Arc<Budget>) -> Option<Grant> {
        self.try_take_many(1)
    }

    /// Takes `amount` slots at once (bytes, for a budget of memory), or none if fewer are
    /// free.
    pub fn try_take_many(self: &Arc<Budget>, amount: usize) -> Option<Grant> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used.checked_add(amount)? <= self.max).then_some(used + amount)
            })
            .ok()
            .map(|_| Grant {
                budget: self.clone(),
                amount,
            })
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// One slot of a [`Budget`], given back when dropped.
#[derive(Debug)]
pub struct Grant {
    budget: Arc<Budget>,
    amount: usize,
}

impl Grant {
    /// How many slots it holds.
    pub fn amount(&self) -> usize {
        self.amount
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.amount, Ordering::AcqRel);
    }
}

impl Kernel {
    /// Starts a host thread for the kernel (a process, an export worker, a handshake, ...)
    /// with a stack of `stack` bytes, within the thread budget. Fails with "no free threads"
    /// when the budget is spent or the host refuses, so the caller can refuse its own request
    /// and go on.
    pub fn spawn_thread<F>(
        &self,
        name: &str,
        stack: usize,
        body: F,
    ) -> Result<std::thread::JoinHandle<()>>
    where
        F: FnOnce() + Send + 'static,
    {
        let grant = self.threads.try_take().ok_or_else(no_free_threads)?;
        std::thread::Builder::new()
            .name(name.chars().take(15).collect())
            .stack_size(stack)
            .spawn(move || {
                let _grant = grant;
                body()
            })
            .map_err(|_| no_free_threads())
    }

    /// Host threads ember has now (for `docs/limits.md`'s figures and for tests).
    pub fn threads_in_use(&self) -> usize {
        self.threads.used()
    }

    /// The export workers all connections share ([`Limits::export_workers`]).
    pub fn export_workers(&self) -> &Arc<Budget> {
        &self.export_workers
    }

    /// The read-buffer bytes all export connections share ([`Limits::export_buffers`]).
    pub fn export_buffers(&self) -> &Arc<Budget> {
        &self.export_buffers
    }

    /// The fids all export connections share ([`Limits::fids`]).
    pub fn fids(&self) -> &Arc<Budget> {
        &self.fids
    }
}

/// What a caller sees when no thread can be had.
pub fn no_free_threads() -> Error {
    Error::msg("no free threads")
}

/// What a caller sees when the process table is full.
pub fn no_free_processes() -> Error {
    Error::msg("no free processes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_gives_back_what_is_dropped() {
        let budget = Budget::new("test", 2);
        let first = budget.try_take().unwrap();
        let _second = budget.try_take().unwrap();
        assert!(budget.try_take().is_none());
        drop(first);
        assert_eq!(budget.used(), 1);
        assert!(budget.try_take().is_some());
        let bytes = Budget::new("bytes", 100);
        let most = bytes.try_take_many(90).unwrap();
        assert!(bytes.try_take_many(11).is_none());
        assert!(bytes.try_take_many(usize::MAX).is_none());
        drop(most);
        assert_eq!(bytes.try_take_many(100).unwrap().amount(), 100);
        assert_eq!(bytes.used(), 0);
    }

    #[test]
    fn threads_beyond_the_budget_are_refused_with_an_error() {
        let kernel = Kernel::with_limits(
            "test",
            "test",
            Limits {
                threads: 2,
                ..Limits::default()
            },
        );
        let (release, wait) = crossbeam_channel::bounded::<()>(0);
        let mut held = Vec::new();
        for _ in 0..2 {
            let wait = wait.clone();
            held.push(
                kernel
                    .spawn_thread("held", 64 << 10, move || {
                        let _ = wait.recv();
                    })
                    .unwrap(),
            );
        }
        let refused = kernel.spawn_thread("extra", 64 << 10, || {});
        assert_eq!(refused.unwrap_err().to_string(), "no free threads");
        drop(release);
        for thread in held {
            thread.join().unwrap();
        }
        assert_eq!(kernel.threads_in_use(), 0);
        assert!(kernel.spawn_thread("again", 64 << 10, || {}).is_ok());
    }
}
