//! Processes (Inferno `Prog` with its `Osenv`): host threads, each with a pid, a process group,
//! a user, and shared or private namespace, descriptor table and environment; the calling
//! context [`Ctx`] every kernel and device call takes; interruptible sleeps; exit statuses and
//! wait records; `pctl`.
//!
//! Invariants:
//! - A process sees the kernel only through its `Ctx`; there is no implicit current process.
//! - Every blocking wait inside the kernel goes through [`Ctx::sleep`], so a kill or an
//!   interrupt (and later a 9P Tflush) ends it with an error instead of leaving a thread stuck.
//! - A process's descriptors, namespace and environment are released when it exits, so the
//!   far end of a pipe sees end of file as soon as the last writer is gone.
//! - Status: empty is success; a panic in a process becomes its status, never the kernel's.

use crate::Kernel;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::fd::FdTable;
use crate::limits;
use crate::namespace::Namespace;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How a program ends: `Ok` is success (empty status), `Err(status)` a failure.
pub type Exit = std::result::Result<(), String>;

/// A native program, as served from `/dis`: it runs in the calling process's context with its
/// arguments (`argv[0]` first).
pub type Program = fn(&Ctx, &[String]) -> Exit;

/// pctl flags (Inferno `sys.m`).
pub const NEWFD: u32 = 1;
pub const FORKFD: u32 = 2;
pub const NEWNS: u32 = 4;
pub const FORKNS: u32 = 8;
pub const NEWPGRP: u32 = 16;
pub const NODEVS: u32 = 32;
pub const NEWENV: u32 = 64;
pub const FORKENV: u32 = 128;

/// The pctl flag names, as the shell's `pctl` builtin takes them.
pub const PCTL_NAMES: [(&str, u32); 8] = [
    ("newfd", NEWFD),
    ("forkfd", FORKFD),
    ("newns", NEWNS),
    ("forkns", FORKNS),
    ("newpgrp", NEWPGRP),
    ("nodevs", NODEVS),
    ("newenv", NEWENV),
    ("forkenv", FORKENV),
];

/// Longest wait between checks for a kill that raced with going to sleep.
const BACKSTOP: Duration = Duration::from_millis(250);
/// Wait records kept for a reader of `/prog/N/wait` before the oldest are dropped.
const MAX_WAIT_RECORDS: usize = 256;
/// Stack reserved for each process's thread.
const STACK_SIZE: usize = limits::PROC_STACK;

const NONE: u8 = 0;
const INTERRUPTED: u8 = 1;
const KILLED: u8 = 2;

/// A rendezvous point: where a process sleeps until woken (Plan 9 `Rendez`).
#[derive(Default)]
pub struct Rendez {
    cond: Arc<Condvar>,
}

impl Rendez {
    pub fn new() -> Rendez {
        Rendez::default()
    }

    /// Wakes every sleeper.
    pub fn wakeup(&self) {
        self.cond.notify_all();
    }

    /// The condition variable, for kernel waits that must not be interrupted.
    pub(crate) fn condvar(&self) -> &Condvar {
        &self.cond
    }
}

/// The cancellation state of a process, or of one request served for another machine: an
/// interrupt ends the current blocking call once; a kill ends every call from then on.
#[derive(Default)]
pub struct Interrupt {
    state: AtomicU8,
    sleeping_on: Mutex<Option<Arc<Condvar>>>,
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt::default())
    }

    /// Interrupts the current (or next) blocking call.
    pub fn interrupt(&self) {
        let _ = self
            .state
            .compare_exchange(NONE, INTERRUPTED, Ordering::SeqCst, Ordering::SeqCst);
        self.wake();
    }

    /// Makes every blocking call fail from now on.
    pub fn kill(&self) {
        self.state.store(KILLED, Ordering::SeqCst);
        self.wake();
    }

    pub fn is_killed(&self) -> bool {
        self.state.load(Ordering::SeqCst) == KILLED
    }

    /// Whether an interrupt or a kill is waiting to be seen (without consuming it).
    pub fn pending(&self) -> bool {
        self.state.load(Ordering::SeqCst) != NONE
    }

    /// Fails if killed, or (once) if interrupted.
    pub fn check(&self) -> Result<()> {
        match self.state.load(Ordering::SeqCst) {
            KILLED => Err(Error::Killed),
            INTERRUPTED => {
                let _ = self.state.compare_exchange(
                    INTERRUPTED,
                    NONE,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                Err(Error::Interrupted)
            }
            _ => Ok(()),
        }
    }

    fn wake(&self) {
        if let Some(cond) = self.sleeping_on.lock().as_ref() {
            cond.notify_all();
        }
    }
}

thread_local! {
    /// Where this thread's stack began and how big it is, for [`stack_left`].
    static STACK: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

/// The address of a local of the caller's frame: how deep the stack is now.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(std::ptr::addr_of!(marker)) as usize
}

/// Records that the calling thread's stack starts about here and holds `size` bytes.
fn mark_stack(size: usize) {
    STACK.with(|stack| stack.set(Some((stack_position(), size))));
}

/// Bytes of stack the calling process has left, if it runs on a process thread. Code that
/// recurses on what a user wrote (the shell's blocks, `sh` inside `sh`) stops with an error
/// well before this reaches zero, so no script can overflow a stack and abort ember.
pub fn stack_left() -> Option<usize> {
    let (top, size) = STACK.with(|stack| stack.get())?;
    // Stacks grow down on every architecture ember runs on.
    let used = top.saturating_sub(stack_position());
    Some(size.saturating_sub(used))
}

/// The calling context of every kernel and device operation: which process asks, and what
/// cancels the call.
#[derive(Clone)]
pub struct Ctx {
    pub proc: Arc<Proc>,
    pub intr: Arc<Interrupt>,
}

impl Ctx {
    /// The context of `proc` itself.
    pub fn new(proc: Arc<Proc>) -> Ctx {
        let intr = proc.intr.clone();
        Ctx { proc, intr }
    }

    /// The same process, cancelled by `intr` instead of its own (one request of an export).
    pub fn with_interrupt(&self, intr: Arc<Interrupt>) -> Ctx {
        Ctx {
            proc: self.proc.clone(),
            intr,
        }
    }

    pub fn kernel(&self) -> &Arc<Kernel> {
        &self.proc.kernel
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid
    }

    pub fn user(&self) -> String {
        self.proc.user()
    }

    pub fn ns(&self) -> Arc<Namespace> {
        self.proc.ns()
    }

    pub fn fds(&self) -> Arc<FdTable> {
        self.proc.fds()
    }

    pub fn env(&self) -> Arc<Env> {
        self.proc.env()
    }

    /// Fails if the call has been interrupted or the process killed.
    pub fn check(&self) -> Result<()> {
        self.intr.check()?;
        if !Arc::ptr_eq(&self.intr, &self.proc.intr) && self.proc.intr.is_killed() {
            return Err(Error::Killed);
        }
        Ok(())
    }

    /// Sleeps on `rendez`, releasing `guard` meanwhile, until woken (the caller re-checks its
    /// condition), interrupted or killed.
    pub fn sleep<T>(&self, rendez: &Rendez, guard: &mut MutexGuard<'_, T>) -> Result<()> {
        self.sleep_until(rendez, guard, None).map(|_| ())
    }

    /// Like [`Ctx::sleep`] with a deadline; returns true if the deadline passed.
    pub fn sleep_until<T>(
        &self,
        rendez: &Rendez,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> Result<bool> {
        self.check()?;
        *self.intr.sleeping_on.lock() = Some(rendez.cond.clone());
        let _state = self.proc.enter_state("release");
        let wait = match deadline {
            Some(deadline) => deadline
                .saturating_duration_since(Instant::now())
                .min(BACKSTOP),
            None => BACKSTOP,
        };
        // A kill between check() and here notified nobody; the backstop bounds that delay.
        let result = self.check();
        if result.is_ok() {
            rendez.cond.wait_for(guard, wait);
        }
        *self.intr.sleeping_on.lock() = None;
        self.check()?;
        result?;
        Ok(deadline.is_some_and(|deadline| Instant::now() >= deadline))
    }

    /// Sleeps for `duration`, or until interrupted.
    pub fn sleep_for(&self, duration: Duration) -> Result<()> {
        let deadline = Instant::now() + duration;
        let rendez = Rendez::new();
        let lock = Mutex::new(());
        let mut guard = lock.lock();
        while !self.sleep_until(&rendez, &mut guard, Some(deadline))? {}
        Ok(())
    }

    /// Starts `body` as a new process, a child of this one, sharing its namespace, environment
    /// and user, with descriptor table `fds`.
    pub fn spawn<F>(&self, name: &str, fds: FdTable, body: F) -> Result<Arc<Proc>>
    where
        F: FnOnce(&Ctx) -> Exit + Send + 'static,
    {
        let (ns, env, user) = {
            let inner = self.proc.inner.lock();
            (inner.ns.clone(), inner.env.clone(), inner.user.clone())
        };
        let child =
            self.kernel()
                .try_new_proc(Some(&self.proc), name, ns, Arc::new(fds), env, &user)?;
        let running = child.clone();
        let thread = self
            .kernel()
            .spawn_thread(name, STACK_SIZE, move || running.run(body));
        if let Err(error) = thread {
            child.finish(format!("cannot start process: {error}"));
            return Err(limits::no_free_processes());
        }
        Ok(child)
    }
}

struct Inner {
    ns: Arc<Namespace>,
    fds: Arc<FdTable>,
    env: Arc<Env>,
    user: String,
    /// The program running, as `ps` shows it.
    name: String,
    /// Inferno's state word: `ready` running, `release` blocked in the kernel.
    state: &'static str,
}

#[derive(Default)]
struct WaitQueue {
    opens: usize,
    records: VecDeque<String>,
}

/// A process.
pub struct Proc {
    pub pid: u32,
    /// The pid of the process that started this one (0 for the first).
    pub parent: u32,
    kernel: Arc<Kernel>,
    group: AtomicU32,
    inner: Mutex<Inner>,
    pub intr: Arc<Interrupt>,
    exit: Mutex<Option<String>>,
    exited: Rendez,
    waits: Mutex<WaitQueue>,
    wait_rendez: Rendez,
    pub started: Instant,
    tid: AtomicI32,
    /// A service process (the server behind a mount): it does not keep ember running.
    daemon: AtomicBool,
}

/// Restores a process's state word when dropped.
pub struct StateGuard<'a> {
    proc: &'a Proc,
    previous: &'static str,
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        self.proc.inner.lock().state = self.previous;
    }
}

impl Proc {
    pub(crate) fn new(
        kernel: Arc<Kernel>,
        pid: u32,
        parent: Option<&Proc>,
        name: &str,
        groups: (Arc<Namespace>, Arc<FdTable>, Arc<Env>),
        user: &str,
    ) -> Proc {
        let (ns, fds, env) = groups;
        Proc {
            pid,
            parent: parent.map_or(0, |parent| parent.pid),
            group: AtomicU32::new(parent.map_or(pid, |parent| parent.group())),
            kernel,
            inner: Mutex::new(Inner {
                ns,
                fds,
                env,
                user: user.to_string(),
                name: name.to_string(),
                state: "ready",
            }),
            intr: Interrupt::new(),
            exit: Mutex::new(None),
            exited: Rendez::new(),
            waits: Mutex::new(WaitQueue::default()),
            wait_rendez: Rendez::new(),
            started: Instant::now(),
            tid: AtomicI32::new(0),
            daemon: AtomicBool::new(parent.is_some_and(|parent| parent.is_daemon())),
        }
    }

    pub fn kernel(&self) -> &Arc<Kernel> {
        &self.kernel
    }

    pub fn ns(&self) -> Arc<Namespace> {
        self.inner.lock().ns.clone()
    }

    pub fn fds(&self) -> Arc<FdTable> {
        self.inner.lock().fds.clone()
    }

    pub fn env(&self) -> Arc<Env> {
        self.inner.lock().env.clone()
    }

    pub fn user(&self) -> String {
        self.inner.lock().user.clone()
    }

    pub fn set_user(&self, user: &str) {
        self.inner.lock().user = user.to_string();
    }

    /// The program name `ps` shows.
    pub fn name(&self) -> String {
        self.inner.lock().name.clone()
    }

    pub fn set_name(&self, name: &str) {
        self.inner.lock().name = name.to_string();
    }

    /// Replaces the namespace (as a process that joins another's group would).
    pub fn set_ns(&self, ns: Arc<Namespace>) {
        self.inner.lock().ns = ns;
    }

    /// Replaces the descriptor table.
    pub fn set_fds(&self, fds: Arc<FdTable>) {
        let previous = std::mem::replace(&mut self.inner.lock().fds, fds);
        drop(previous);
    }

    pub fn set_env(&self, env: Arc<Env>) {
        self.inner.lock().env = env;
    }

    /// Marks the process (and the children it starts from now on) as a service that does not
    /// keep ember running, such as the server behind `mount {export /}`: otherwise a mount in
    /// a namespace that its own server shares would keep both alive for ever.
    pub fn set_daemon(&self) {
        self.daemon.store(true, Ordering::Relaxed);
    }

    pub fn is_daemon(&self) -> bool {
        self.daemon.load(Ordering::Relaxed)
    }

    /// The process group (for `killgrp`).
    pub fn group(&self) -> u32 {
        self.group.load(Ordering::Relaxed)
    }

    /// Inferno's state word.
    pub fn state(&self) -> &'static str {
        if self.exit.lock().is_some() {
            return "exiting";
        }
        self.inner.lock().state
    }

    /// Sets the state word until the guard is dropped.
    pub fn enter_state(&self, state: &'static str) -> StateGuard<'_> {
        let previous = std::mem::replace(&mut self.inner.lock().state, state);
        StateGuard {
            proc: self,
            previous,
        }
    }

    /// Changes which groups the process belongs to (Inferno `Sys_pctl`). `keep` lists the
    /// descriptors NEWFD keeps (and FORKFD closes in its copy). Returns the pid.
    pub fn pctl(&self, flags: u32, keep: &[i32]) -> Result<u32> {
        let mut released = None;
        {
            let mut inner = self.inner.lock();
            if flags & NEWFD != 0 {
                let fresh = Arc::new(inner.fds.keep_only(keep));
                released = Some(std::mem::replace(&mut inner.fds, fresh));
            } else if flags & FORKFD != 0 {
                let copy = inner.fds.fork();
                for &fd in keep {
                    let _ = copy.close(fd);
                }
                released = Some(std::mem::replace(&mut inner.fds, Arc::new(copy)));
            }
            if flags & NEWNS != 0 {
                inner.ns = Arc::new(inner.ns.renew());
            } else if flags & FORKNS != 0 {
                inner.ns = Arc::new(inner.ns.fork());
            }
            if flags & NODEVS != 0 {
                inner.ns.set_nodevs();
            }
            if flags & NEWENV != 0 {
                inner.env = Arc::new(Env::new());
            } else if flags & FORKENV != 0 {
                inner.env = Arc::new(inner.env.fork());
            }
        }
        drop(released);
        if flags & NEWPGRP != 0 {
            self.group.store(self.pid, Ordering::Relaxed);
        }
        Ok(self.pid)
    }

    /// Kills the process: its current and every later blocking call fails.
    pub fn kill(&self) {
        self.intr.kill();
    }

    /// Interrupts the process's current blocking call (the console's interrupt key).
    pub fn interrupt(&self) {
        self.intr.interrupt();
    }

    /// The exit status, once exited.
    pub fn exit_status(&self) -> Option<String> {
        self.exit.lock().clone()
    }

    /// Waits for the process to exit and returns its status; the waiter can be interrupted.
    pub fn wait_exit(&self, ctx: &Ctx) -> Result<String> {
        let mut exit = self.exit.lock();
        loop {
            if let Some(status) = exit.as_ref() {
                return Ok(status.clone());
            }
            ctx.sleep(&self.exited, &mut exit)?;
        }
    }

    /// Waits for exit without any way to be interrupted (the kernel's own use).
    pub fn wait_exit_uninterruptibly(&self) -> String {
        let mut exit = self.exit.lock();
        loop {
            if let Some(status) = exit.as_ref() {
                return status.clone();
            }
            self.exited.cond.wait_for(&mut exit, BACKSTOP);
        }
    }

    /// Someone opened `/prog/N/wait`: collect records of children exiting from now on.
    pub fn open_wait(&self) {
        self.waits.lock().opens += 1;
    }

    pub fn close_wait(&self) {
        let mut waits = self.waits.lock();
        waits.opens = waits.opens.saturating_sub(1);
        if waits.opens == 0 {
            waits.records.clear();
        }
    }

    /// The next wait record, `pid "name":status`, blocking until a child exits.
    pub fn read_wait(&self, ctx: &Ctx) -> Result<String> {
        let mut waits = self.waits.lock();
        loop {
            if let Some(record) = waits.records.pop_front() {
                return Ok(record);
            }
            ctx.sleep(&self.wait_rendez, &mut waits)?;
        }
    }

    fn post_wait(&self, record: String) {
        let mut waits = self.waits.lock();
        if waits.opens == 0 {
            return;
        }
        if waits.records.len() >= MAX_WAIT_RECORDS {
            waits.records.pop_front();
        }
        waits.records.push_back(record);
        self.wait_rendez.wakeup();
    }

    /// CPU time used by the process's thread, from the host.
    pub fn cpu_time(&self) -> Duration {
        let tid = self.tid.load(Ordering::Relaxed);
        if tid == 0 {
            return Duration::ZERO;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
            return Duration::ZERO;
        };
        // Fields after the command name, which is in parentheses and may hold anything.
        let Some(after) = stat.rfind(')').map(|index| &stat[index + 1..]) else {
            return Duration::ZERO;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&index| {
                fields
                    .get(index)
                    .and_then(|field| field.parse::<u64>().ok())
            })
            .sum();
        // Linux reports in USER_HZ, which is 100 on every architecture ember runs on.
        Duration::from_millis(ticks * 10)
    }

    /// The module name Inferno would show: the program's name, capitalised (`Sh`, `Sleep`).
    pub fn module(&self) -> String {
        let name = self.name();
        let mut module: String = name.chars().take(1).flat_map(char::to_uppercase).collect();
        module.extend(name.chars().skip(1));
        module
    }

    /// One line of `/prog/N/status`, in Inferno's format.
    pub fn status_line(&self) -> String {
        let cpu = self.cpu_time();
        let minutes = cpu.as_secs() / 60;
        let seconds = cpu.as_secs() % 60;
        let tenths = cpu.subsec_millis() / 100;
        format!(
            "{:>8} {:>8} {:>10} {}:{:02}.{} {:>10} {:>5}K {}",
            self.pid,
            self.group(),
            self.user(),
            minutes,
            seconds,
            tenths,
            self.state(),
            0,
            self.module()
        )
    }

    /// Runs `body` as this process, on the current thread, then exits.
    pub fn run<F>(self: Arc<Self>, body: F)
    where
        F: FnOnce(&Ctx) -> Exit,
    {
        mark_stack(STACK_SIZE);
        self.tid
            .store(nix::unistd::gettid().as_raw(), Ordering::Relaxed);
        let ctx = Ctx::new(self.clone());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&ctx)));
        let status = match outcome {
            Ok(Ok(())) => String::new(),
            Ok(Err(status)) => status,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|text| text.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                format!("broken: {text}")
            }
        };
        let status = if self.intr.is_killed() && !status.is_empty() {
            "killed".to_string()
        } else {
            status
        };
        self.finish(status);
    }

    /// Records the exit: releases the process's groups, tells the parent and any waiter,
    /// and leaves the process table.
    pub fn finish(&self, status: String) {
        // Descriptors and environment go now, so a pipe's far end sees end of file; the
        // namespace is shared by its group and stays with the record of the process.
        let (fds, env) = {
            let mut inner = self.inner.lock();
            (
                std::mem::replace(&mut inner.fds, Arc::new(FdTable::new())),
                std::mem::replace(&mut inner.env, Arc::new(Env::new())),
            )
        };
        drop((fds, env));
        let record = format!("{} \"{}\":{}", self.pid, self.module(), status);
        if let Some(parent) = self.kernel.proc(self.parent) {
            parent.post_wait(record);
        }
        *self.exit.lock() = Some(status);
        self.exited.wakeup();
        self.kernel.remove_proc(self.pid);
    }
}
