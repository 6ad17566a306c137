//! The ember kernel: channels, the [`Device`] trait, per-process namespaces, processes and the
//! system calls programs make (Inferno's `emu/port` without Dis).
//!
//! Invariants:
//! - The kernel knows no concrete device: devices are registered by the binary, and named by
//!   letter (`#c`), as Inferno's emu configuration does.
//! - No 9P bytes are built or parsed here except through the `ninep` crate.
//! - Every operation takes the caller's [`Ctx`]; there is no implicit current process.

pub mod auth;
pub mod chan;
pub mod dev;
pub mod dial;
pub mod env;
pub mod error;
pub mod export;
pub mod fd;
pub mod file2chan;
pub mod limits;
pub mod memfs;
pub mod mnt;
pub mod namespace;
pub mod path;
pub mod proc;
pub mod sys;
pub mod text;
pub mod time;
pub mod transport;

pub use chan::{Aux, Chan, OpenMode};
pub use dev::{Attached, Device, DirTab};
pub use env::Env;
pub use error::{Error, Result};
pub use fd::FdTable;
pub use limits::{Budget, Grant, Limits};
pub use namespace::{Access, MAFTER, MBEFORE, MCACHE, MCREATE, MREPL, Namespace};
pub use ninep::{Dir, Qid};
pub use proc::{Ctx, Exit, Interrupt, Proc, Program, Rendez};

use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The kernel: its devices and its processes.
pub struct Kernel {
    devices: RwLock<Vec<Arc<dyn Device>>>,
    procs: Mutex<BTreeMap<u32, Arc<Proc>>>,
    procs_changed: Condvar,
    next_pid: AtomicU32,
    eve: RwLock<String>,
    sysname: RwLock<String>,
    console_target: Mutex<Option<u32>>,
    /// Output to the host terminal has been written since its last newline.
    console_mid_line: std::sync::atomic::AtomicBool,
    /// The limits this kernel keeps (`docs/limits.md`).
    pub limits: Limits,
    /// Host threads in use, of every kind.
    threads: Arc<Budget>,
    /// Export workers beyond each connection's own, shared by all connections.
    export_workers: Arc<Budget>,
    /// Export read-buffer bytes beyond each connection's own, shared by all connections.
    export_buffers: Arc<Budget>,
    fids: Arc<Budget>,
    /// Callers' handshakes in progress on listeners.
    handshakes: Arc<auth::Admissions>,
    /// When the kernel started.
    pub booted: Instant,
}

impl Kernel {
    /// A kernel with no devices and no processes. `eve` is the host owner's name.
    pub fn new(eve: &str, sysname: &str) -> Arc<Kernel> {
        Kernel::with_limits(eve, sysname, Limits::default())
    }

    /// A kernel with no devices and no processes that keeps `limits`.
    pub fn with_limits(eve: &str, sysname: &str, limits: Limits) -> Arc<Kernel> {
        Arc::new(Kernel {
            threads: Budget::new("threads", limits.threads),
            export_workers: Budget::new("export workers", limits.export_workers),
            export_buffers: Budget::new("export buffers", limits.export_buffers),
            fids: Budget::new("fids", limits.fids),
            handshakes: auth::Admissions::new(limits.handshakes),
            limits,
            devices: RwLock::new(Vec::new()),
            procs: Mutex::new(BTreeMap::new()),
            procs_changed: Condvar::new(),
            next_pid: AtomicU32::new(1),
            eve: RwLock::new(eve.to_string()),
            sysname: RwLock::new(sysname.to_string()),
            console_target: Mutex::new(None),
            console_mid_line: std::sync::atomic::AtomicBool::new(false),
            booted: Instant::now(),
        })
    }

    /// The handshakes in progress on the kernel's listeners, and their budget.
    pub fn handshakes(&self) -> &Arc<auth::Admissions> {
        &self.handshakes
    }

    /// Adds a device to the table; a second device with the same letter is refused.
    pub fn register(&self, device: Arc<dyn Device>) -> Result<()> {
        let mut devices = self.devices.write();
        if devices
            .iter()
            .any(|known| known.letter() == device.letter())
        {
            return Err(Error::msg(format!(
                "device #{} registered twice",
                device.letter()
            )));
        }
        devices.push(device);
        Ok(())
    }

    pub fn device(&self, letter: char) -> Option<Arc<dyn Device>> {
        self.devices
            .read()
            .iter()
            .find(|device| device.letter() == letter)
            .cloned()
    }

    /// Every device, in registration order (`/dev/drivers`).
    pub fn devices(&self) -> Vec<Arc<dyn Device>> {
        self.devices.read().clone()
    }

    /// The host owner (Inferno's `eve`).
    pub fn eve(&self) -> String {
        self.eve.read().clone()
    }

    pub fn set_eve(&self, eve: &str) {
        *self.eve.write() = eve.to_string();
    }

    pub fn sysname(&self) -> String {
        self.sysname.read().clone()
    }

    pub fn set_sysname(&self, name: &str) {
        *self.sysname.write() = name.to_string();
    }

    /// A new process record, not yet running, in the process table.
    pub fn new_proc(
        self: &Arc<Kernel>,
        parent: Option<&Proc>,
        name: &str,
        ns: Arc<Namespace>,
        fds: Arc<FdTable>,
        env: Arc<Env>,
        user: &str,
    ) -> Arc<Proc> {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let proc = Arc::new(Proc::new(
            self.clone(),
            pid,
            parent,
            name,
            (ns, fds, env),
            user,
        ));
        self.procs.lock().insert(pid, proc.clone());
        proc
    }

    /// A new process record, as [`Kernel::new_proc`], unless the process table is full
    /// ([`Limits::procs`]): then "no free processes".
    pub fn try_new_proc(
        self: &Arc<Kernel>,
        parent: Option<&Proc>,
        name: &str,
        ns: Arc<Namespace>,
        fds: Arc<FdTable>,
        env: Arc<Env>,
        user: &str,
    ) -> Result<Arc<Proc>> {
        if self.procs.lock().len() >= self.limits.procs {
            return Err(limits::no_free_processes());
        }
        Ok(self.new_proc(parent, name, ns, fds, env, user))
    }

    /// The first process: an empty namespace with no root yet, no descriptors, an empty
    /// environment. Boot code attaches `#/`, builds the namespace, then runs it.
    pub fn first_proc(self: &Arc<Kernel>, name: &str, user: &str) -> Arc<Proc> {
        self.new_proc(
            None,
            name,
            Arc::new(Namespace::unrooted()),
            Arc::new(FdTable::new()),
            Arc::new(Env::new()),
            user,
        )
    }

    /// A kernel process (Plan 9 `kproc`): a context for the kernel's own threads, such as the
    /// reader of a 9P connection. It is not in the process table, so `ps` does not show it
    /// and ember does not wait for it to exit. Its namespace is `ns`.
    pub fn kproc(self: &Arc<Kernel>, name: &str, ns: Arc<Namespace>) -> Arc<Proc> {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let user = self.eve();
        Arc::new(Proc::new(
            self.clone(),
            pid,
            None,
            name,
            (ns, Arc::new(FdTable::new()), Arc::new(Env::new())),
            &user,
        ))
    }

    pub fn proc(&self, pid: u32) -> Option<Arc<Proc>> {
        self.procs.lock().get(&pid).cloned()
    }

    /// Every live process, in pid order.
    pub fn procs(&self) -> Vec<Arc<Proc>> {
        self.procs.lock().values().cloned().collect()
    }

    pub(crate) fn remove_proc(&self, pid: u32) {
        self.procs.lock().remove(&pid);
        self.procs_changed.notify_all();
    }

    /// Names the process the console's interrupt key interrupts (an interactive shell), or
    /// none.
    pub fn set_console_target(&self, pid: Option<u32>) {
        *self.console_target.lock() = pid;
    }

    /// The console device wrote `data` to the host terminal.
    pub fn note_console_output(&self, data: &[u8]) {
        if let Some(&last) = data.last() {
            self.console_mid_line
                .store(last != b'\n', Ordering::Relaxed);
        }
    }

    /// Whether the terminal's cursor is after output that did not end its line (so a prompt
    /// drawn at the start of the line would erase it); the caller is about to move to a new
    /// line, so the answer is reset.
    pub fn take_console_mid_line(&self) -> bool {
        self.console_mid_line.swap(false, Ordering::Relaxed)
    }

    /// The interrupt key was pressed: interrupts the console's target process. False if there
    /// is none alive, in which case the caller decides (ember then exits, as a host program
    /// does).
    pub fn console_interrupt(&self) -> bool {
        let target = *self.console_target.lock();
        match target.and_then(|pid| self.proc(pid)) {
            Some(proc) => {
                proc.interrupt();
                true
            }
            None => false,
        }
    }

    /// Blocks until no process is left but services (how emu decides to exit).
    pub fn wait_all(&self) {
        let mut procs = self.procs.lock();
        while procs.values().any(|proc| !proc.is_daemon()) {
            self.procs_changed
                .wait_for(&mut procs, Duration::from_millis(500));
        }
    }
}
