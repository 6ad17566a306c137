//! Serving a namespace as 9P2000 (Inferno `exportfs.c`, Plan 9 `exportfs`): the caller's live
//! namespace below one directory, on a byte stream.
//!
//! Every request runs with the exporter's identity and namespace (later binds by the exporter
//! are visible), in a pool of worker threads, so a read that blocks on one fid never delays
//! the others; a Tflush interrupts the request it names and its reply is never sent. One
//! worker at a time reads and decodes (Tversion and Tflush are answered by it on the spot);
//! it then serves the request it read while another worker reads the next.
//!
//! What a client can make the server hold is bounded, per connection and across all of them
//! (issue 11; the figures are the lead's `docs/limits.md`):
//! - Workers. A connection has serve's own thread plus [`OWN_WORKERS`] it may always start;
//!   beyond those it takes workers from the kernel-wide pool (`Limits::export_workers`), up to
//!   [`MAX_WORKERS`] in all, and only for requests that block: a reader that needs a follower
//!   first gives one of its own a moment (`POOL_DELAY`, 1 ms) to come back. A worker from the pool
//!   leaves as soon as another is idle. With no worker to be had, the connection reads no
//!   more requests until one of its own is done. Every thread goes through
//!   `Kernel::spawn_thread`; a refused one is a worker not started, never a panic.
//! - Replies. When [`MAX_UNSENT`] replies are ready but not yet written, the connection reads
//!   no more requests until they are (back-pressure): a client that does not read its
//!   replies is not read either, and its requests stay in the host's socket buffers.
//! - Buffers. A read of more than 8 KiB is read straight into a full-size reply buffer (framed
//!   in place by `ninep`), counted first in the connection's own share ([`OWN_BUFFERS`], two
//!   buffers, kept as spares for its next reads) and then in the kernel-wide pool
//!   (`Limits::export_buffers`). When both are spent the read waits for one in its worker
//!   (a Tflush ends the wait) while the connection goes on reading, and no pool worker is
//!   started meanwhile. So a connection is always served by its own share, however much the
//!   others hold.
//!
//! Invariants:
//! - A fid is a path below the exported root, as names; `..` is taken by name and never
//!   climbs above the root, and no name may hold `/`, so a client cannot walk out.
//! - Qids are remapped with a function that is one-to-one for each device instance, so the
//!   files of different devices behind one export do not share qids.
//! - Nothing the client sends is trusted: a message that cannot be decoded gets an Rerror (or,
//!   if its size field cannot be trusted, ends this connection); a panic while serving one
//!   request is answered as an Rerror; no request may allocate more than msize.
//! - Under `export -r` nothing changes the tree: write, create, remove, wstat and opens for
//!   writing, with OTRUNC or with ORCLOSE are refused with "read only file system".
//! - A Tflush retires its request before the Rflush is written, under the reply lock, so the
//!   request's reply comes before the Rflush or never, and the tag is free once the client
//!   has the Rflush.
//! - When `serve` returns, every worker it started has been joined.
//! - Error strings are Plan 9's (without the path), which Linux's client maps to errno.

use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::limits::{Budget, Grant};
use crate::namespace::{Access, Namespace, Resolved};
use crate::proc::{Ctx, Interrupt, Rendez};
use crate::transport::{Transport, read_message, trace, tracing};
use ninep::{Fcall, IOHDRSZ, Msg, NOFID, OEXEC, ORCLOSE, ORDWR, OTRUNC, OWRITE, Qid, RREAD_HEADER};
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// msize before a Tversion (Inferno's default buffer).
const DEFAULT_MSIZE: u32 = 8192 + IOHDRSZ;
/// The largest msize the server agrees to.
pub const MAX_MSIZE: u32 = 128 * 1024 + IOHDRSZ;
/// The smallest msize it agrees to.
const MIN_MSIZE: u32 = 256;
/// Worker threads per connection at most, so requests that block (reads of `listen`, `data`,
/// `event`, ...) can be this many at once; further requests wait to be read.
pub const MAX_WORKERS: usize = 512;
/// Workers a connection may always start without drawing on the kernel-wide pool
/// (`Limits::export_workers`), so that it is served however much the others hold.
pub const OWN_WORKERS: usize = 4;
/// Idle workers kept for the connection's next requests: a worker of its own share leaves
/// when this many are waiting to read; one from the pool leaves as soon as one is.
pub const KEPT_WORKERS: usize = OWN_WORKERS;
/// Replies ready but not yet written at which the connection stops reading requests: a
/// client that does not read its replies is not read either (back-pressure).
pub const MAX_UNSENT: usize = 2;
/// Reads of at most this many bytes get a buffer of their own; larger ones use full-size
/// buffers counted in the connection's share or the kernel-wide `Limits::export_buffers`.
const SMALL_READ: usize = 8192;
/// Buffer bytes a connection may always use without drawing on the pool: two full reads.
pub const OWN_BUFFERS: usize = 2 * (RREAD_HEADER + (MAX_MSIZE - IOHDRSZ) as usize);
/// Full-size buffers of its own share a connection keeps for its next reads.
const SPARE_BUFFERS: usize = 2;
/// How long a reader waits for one of the connection's workers to come back before it takes
/// one from the pool.
const POOL_DELAY: Duration = Duration::from_millis(1);
/// How often a read waiting for a buffer looks again at the shared pool.
const BUFFER_POLL: Duration = Duration::from_millis(5);
/// How often a reader held back by unwritten replies looks again (it is also woken).
const WRITE_POLL: Duration = Duration::from_millis(100);
/// Each worker's stack: serving a request does not recurse deeply, and a thousand workers
/// must fit in a 32-bit Pi's address space.
const WORKER_STACK: usize = 512 << 10;
/// Most fids one connection may hold; all connections together hold at most
/// `Limits::fids`.
const MAX_FIDS: usize = 65536;

/// How to serve.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportOptions {
    /// Refuse every write, create, remove and wstat (`export -r`).
    pub read_only: bool,
}

struct Fid {
    /// The path below the exported root.
    names: Vec<String>,
    /// The file, resolved (through any mount on it) but not opened.
    chan: Arc<Chan>,
    /// Set once opened or created.
    open: Option<Arc<Chan>>,
}

/// Whether `now`, what a fid's names lead to now, is still the file `walked` the fid was
/// walked to: another file of the same device instance is not (a mount since then is).
fn same_file(walked: &Chan, now: &Chan) -> bool {
    walked.letter() != now.letter() || walked.devno != now.devno || walked.qid.path == now.qid.path
}

/// A fid, with its slot in the kernel-wide fid budget.
type FidSlot = (Arc<Mutex<Fid>>, Grant);

struct Request {
    intr: Arc<Interrupt>,
    flushed: AtomicBool,
}

/// A read's reply, read straight into the message: [`RREAD_HEADER`] bytes of room, then the
/// data. A full-size one carries the budget it is counted in.
struct Buffer {
    bytes: Vec<u8>,
    /// The length of the reply in `bytes`.
    length: usize,
    grant: Option<Grant>,
    /// Whether `grant` is from the connection's own share (and so worth keeping as a spare).
    own: bool,
}

/// What a request is answered with.
enum Reply {
    Msg(Msg),
    Read(Buffer),
}

struct Server {
    ctx: Ctx,
    /// The exported directory, resolved once when serving starts.
    root: Resolved,
    options: ExportOptions,
    transport: Arc<dyn Transport>,
    msize: AtomicU32,
    fids: Mutex<HashMap<u32, FidSlot>>,
    inflight: Mutex<HashMap<u16, Arc<Request>>>,
    /// Serializes replies, so a flushed request's reply can never follow its Rflush.
    reply_lock: Mutex<()>,
    /// Replies ready and not yet written; the reader waits on `sent` while there are
    /// [`MAX_UNSENT`].
    unsent: Mutex<usize>,
    sent: Condvar,
    /// Held by the one worker reading requests.
    reading: Mutex<()>,
    /// Workers waiting for `reading`.
    followers: AtomicUsize,
    /// Signalled when a worker starts waiting to read.
    idle_lock: Mutex<()>,
    idle: Condvar,
    /// Workers, serve's own thread included; those started without a pool grant.
    workers: AtomicUsize,
    own_workers: AtomicUsize,
    /// Every worker thread started, joined before `serve` returns.
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// The connection's own share of buffer bytes, its spare buffers, and where reads
    /// waiting for a buffer sleep.
    own_buffers: Arc<Budget>,
    /// Requests of this connection waiting for a buffer: while there are any, the
    /// connection starts no worker from the pool (more requests would only wait too).
    buffer_waiters: AtomicUsize,
    spares: Mutex<Vec<Buffer>>,
    buffer_lock: Mutex<()>,
    buffer_freed: Rendez,
    /// Set once the connection is over; the reason, if it was an error.
    done: AtomicBool,
    outcome: Mutex<Option<Result<()>>>,
    trace: bool,
}

/// A request read, to be served.
type Job = (Fcall, Arc<Request>);

/// Serves the namespace of `ctx` below `root` on `transport` until the client hangs up.
/// Every worker thread it started has ended when it returns.
pub fn serve(
    ctx: &Ctx,
    root: &str,
    transport: Arc<dyn Transport>,
    options: ExportOptions,
) -> Result<()> {
    let root = crate::path::clean(root)?;
    let resolved = ctx.ns().resolve(ctx, &root, Access::Open)?;
    if !resolved.chan.is_dir() {
        return Err(Error::NotDir.at(&root));
    }
    let server = Arc::new(Server {
        ctx: ctx.clone(),
        root: resolved,
        options,
        transport,
        msize: AtomicU32::new(DEFAULT_MSIZE),
        fids: Mutex::new(HashMap::new()),
        inflight: Mutex::new(HashMap::new()),
        reply_lock: Mutex::new(()),
        unsent: Mutex::new(0),
        sent: Condvar::new(),
        reading: Mutex::new(()),
        followers: AtomicUsize::new(0),
        idle_lock: Mutex::new(()),
        idle: Condvar::new(),
        workers: AtomicUsize::new(0),
        own_workers: AtomicUsize::new(0),
        handles: Mutex::new(Vec::new()),
        own_buffers: Budget::new("connection buffers", OWN_BUFFERS),
        buffer_waiters: AtomicUsize::new(0),
        spares: Mutex::new(Vec::new()),
        buffer_lock: Mutex::new(()),
        buffer_freed: Rendez::new(),
        done: AtomicBool::new(false),
        outcome: Mutex::new(None),
        trace: tracing(),
    });
    // This thread is the first of the workers, and the one that stays to the end.
    server.workers.fetch_add(1, Ordering::SeqCst);
    server.work(true, false);
    // The connection is over and no worker starts any more (only a reader starts one, and
    // `done` is set): wait for the others, whose requests were ended.
    loop {
        let handles = std::mem::take(&mut *server.handles.lock());
        if handles.is_empty() {
            break;
        }
        for handle in handles {
            let _ = handle.join();
        }
    }
    server.fids.lock().clear();
    server.spares.lock().clear();
    server.outcome.lock().take().unwrap_or(Ok(()))
}

impl Server {
    /// Reads requests, answering those that need no worker (Tversion, Tflush, what cannot be
    /// decoded) on the spot, until one that does; None once the connection is over, with
    /// its outcome kept for `serve`. The caller holds `reading`.
    fn next_job(&self) -> Option<Job> {
        // A panic here would leave the other workers waiting for a reader forever.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.read_job()))
            .unwrap_or_else(|_| Err(Error::msg("internal error reading a request")));
        match read {
            Ok(job) => job,
            Err(error) => {
                *self.outcome.lock() = Some(Err(error));
                None
            }
        }
    }

    fn read_job(&self) -> Result<Option<Job>> {
        loop {
            self.wait_for_writes();
            let msize = self.msize.load(Ordering::Relaxed);
            let bytes = match read_message(self.transport.as_ref(), msize) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => return Ok(None),
                // A client that closed with replies unread resets the connection: it hung up.
                Err(error) if error.root() == &Error::msg("connection reset") => return Ok(None),
                Err(error) if error.is_interrupt() => return Err(error),
                // A size that cannot be trusted: nothing after it can be framed.
                Err(error) => return Err(error),
            };
            let fcall = match Fcall::decode(&bytes, msize) {
                Ok(fcall) => fcall,
                Err(error) => {
                    let tag = u16::from_le_bytes([bytes[5], bytes[6]]);
                    self.reply(Fcall::new(
                        tag,
                        Msg::Rerror {
                            ename: error.to_string(),
                        },
                    ));
                    continue;
                }
            };
            if self.trace {
                trace("<-", "export", &fcall);
            }
            match &fcall.msg {
                Msg::Tversion { msize, version } => {
                    let reply = self.version(*msize, version);
                    self.reply(Fcall::new(fcall.tag, reply));
                }
                Msg::Tflush { oldtag } => self.flush(fcall.tag, *oldtag),
                msg if !msg.is_request() => {
                    self.reply(Fcall::new(
                        fcall.tag,
                        Msg::Rerror {
                            ename: "unexpected reply message".into(),
                        },
                    ));
                }
                _ => {
                    let request = Arc::new(Request {
                        intr: Interrupt::new(),
                        flushed: AtomicBool::new(false),
                    });
                    {
                        let mut inflight = self.inflight.lock();
                        if inflight.contains_key(&fcall.tag) {
                            drop(inflight);
                            self.reply(Fcall::new(
                                fcall.tag,
                                Msg::Rerror {
                                    ename: "tag in use".into(),
                                },
                            ));
                            continue;
                        }
                        inflight.insert(fcall.tag, request.clone());
                    }
                    return Ok(Some((fcall, request)));
                }
            }
        }
    }

    /// Back-pressure: while [`MAX_UNSENT`] replies wait to be written (the client is not
    /// reading them), reads no more requests, so a client cannot make the server hold more
    /// replies than that plus the requests already being served.
    fn wait_for_writes(&self) {
        let mut unsent = self.unsent.lock();
        while *unsent >= MAX_UNSENT && !self.done.load(Ordering::SeqCst) {
            self.sent.wait_for(&mut unsent, WRITE_POLL);
        }
    }

    /// A worker: in turn the reader of the connection (leader) and the server of the request
    /// it read, so a request is served by the thread that read it, with no hand-over on its
    /// way; before serving, the reader makes sure another thread is waiting to read next, so a
    /// request that blocks never keeps the others from being read. Idle workers beyond
    /// `KEPT_WORKERS` leave, and one from the kernel-wide pool (`pooled`) leaves as soon as
    /// another is waiting to read; the `permanent` one (serve's own thread) stays to the end.
    fn work(self: &Arc<Server>, permanent: bool, pooled: bool) {
        loop {
            self.followers.fetch_add(1, Ordering::SeqCst);
            self.idle.notify_one();
            let reading = self.reading.lock();
            self.followers.fetch_sub(1, Ordering::SeqCst);
            if self.done.load(Ordering::SeqCst) {
                break;
            }
            let Some((fcall, request)) = self.next_job() else {
                self.done.store(true, Ordering::SeqCst);
                // The client is gone: end what is still running.
                for request in self.inflight.lock().values() {
                    request.intr.kill();
                }
                break;
            };
            if self.followers.load(Ordering::SeqCst) == 0 {
                self.start_worker();
            }
            drop(reading);
            self.serve_request(fcall, &request);
            let idle = self.followers.load(Ordering::SeqCst);
            if !permanent && (idle >= KEPT_WORKERS || (pooled && idle > 0)) {
                break;
            }
        }
        if !permanent && !pooled {
            self.own_workers.fetch_sub(1, Ordering::SeqCst);
        }
        self.workers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Starts another worker: one of the connection's own [`OWN_WORKERS`], else one from the
    /// kernel-wide pool, within [`MAX_WORKERS`] and the thread budget. When none can be had,
    /// requests wait to be read until a worker is done with its own.
    fn start_worker(self: &Arc<Server>) {
        // Only the reader starts workers, so the count cannot change under this check.
        if self.workers.load(Ordering::SeqCst) >= MAX_WORKERS {
            return;
        }
        let own = self
            .own_workers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |own| {
                (own < OWN_WORKERS).then_some(own + 1)
            })
            .is_ok();
        let short_of_buffers = self.buffer_waiters.load(Ordering::SeqCst) > 0;
        let grant = if own {
            None
        } else if short_of_buffers || self.worker_comes_back() {
            return;
        } else {
            match self.ctx.kernel().export_workers().try_take() {
                Some(grant) => Some(grant),
                None => return,
            }
        };
        let pooled = grant.is_some();
        self.workers.fetch_add(1, Ordering::SeqCst);
        let server = self.clone();
        let started = self
            .ctx
            .kernel()
            .spawn_thread("export", WORKER_STACK, move || {
                let _grant = grant;
                server.work(false, pooled);
            });
        match started {
            Ok(handle) => {
                let mut handles = self.handles.lock();
                handles.retain(|handle| !handle.is_finished());
                handles.push(handle);
            }
            Err(_) => {
                if own {
                    self.own_workers.fetch_sub(1, Ordering::SeqCst);
                }
                self.workers.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Whether one of the connection's workers comes back to read within [`POOL_DELAY`]:
    /// requests that are served at once need no worker from the pool, only those that block
    /// do, so a client pipelining quick requests does not take threads it does not need.
    fn worker_comes_back(&self) -> bool {
        let deadline = Instant::now() + POOL_DELAY;
        let mut idle = self.idle_lock.lock();
        while self.followers.load(Ordering::SeqCst) == 0 {
            if self.idle.wait_until(&mut idle, deadline).timed_out() {
                return self.followers.load(Ordering::SeqCst) > 0;
            }
        }
        true
    }

    fn serve_request(&self, fcall: Fcall, request: &Arc<Request>) {
        let ctx = self.ctx.with_interrupt(request.intr.clone());
        let tag = fcall.tag;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.handle(&ctx, fcall.msg)
        }));
        let mut reply = match outcome {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => Reply::Msg(Msg::Rerror {
                ename: error.root().to_string(),
            }),
            Err(_) => Reply::Msg(Msg::Rerror {
                ename: "internal error in the server".into(),
            }),
        };
        if let Reply::Read(buffer) = &mut reply {
            // The length is at most RREAD_HEADER plus the iounit, so it always frames.
            let _ = Fcall::frame_rread(tag, &mut buffer.bytes[..buffer.length]);
        }
        *self.unsent.lock() += 1;
        let mut read = None;
        {
            let _serial = self.reply_lock.lock();
            // A flushed request has already been retired, and its tag may serve a newer one.
            let mut inflight = self.inflight.lock();
            let current = inflight
                .get(&tag)
                .is_some_and(|entry| Arc::ptr_eq(entry, request));
            if current {
                inflight.remove(&tag);
            }
            drop(inflight);
            let wanted = current && !request.flushed.load(Ordering::SeqCst);
            match reply {
                Reply::Msg(msg) => {
                    if wanted {
                        self.send(Fcall::new(tag, msg));
                    }
                }
                Reply::Read(buffer) => {
                    if wanted {
                        self.send_read(&buffer);
                    }
                    read = Some(buffer);
                }
            }
        }
        *self.unsent.lock() -= 1;
        self.sent.notify_all();
        if let Some(buffer) = read {
            self.recycle(buffer);
        }
    }

    /// Writes an Rread framed in its buffer; the caller holds `reply_lock`.
    fn send_read(&self, buffer: &Buffer) {
        let bytes = &buffer.bytes[..buffer.length];
        if self.trace
            && let Ok(fcall) = Fcall::decode(bytes, u32::MAX)
        {
            trace("->", "export", &fcall);
        }
        let _ = self.transport.write(bytes);
    }

    fn reply(&self, fcall: Fcall) {
        let _serial = self.reply_lock.lock();
        self.send(fcall);
    }

    /// Writes a reply; the caller holds `reply_lock`.
    fn send(&self, fcall: Fcall) {
        if self.trace {
            trace("->", "export", &fcall);
        }
        let _ = self.transport.write(&fcall.to_bytes());
    }

    /// A buffer for a read of `count` bytes (at most the iounit). A large read takes a
    /// full-size buffer: a spare, or a new one counted in the connection's own share or else
    /// the kernel-wide pool; when both are spent it waits (a Tflush or the end of the
    /// connection ends the wait), while the connection goes on reading other requests.
    fn buffer(&self, ctx: &Ctx, count: usize) -> Result<Buffer> {
        if count <= SMALL_READ {
            return Ok(Buffer {
                bytes: vec![0; RREAD_HEADER + count],
                length: 0,
                grant: None,
                own: false,
            });
        }
        let full = RREAD_HEADER + self.iounit() as usize;
        let mut guard = self.buffer_lock.lock();
        loop {
            while let Some(spare) = self.spares.lock().pop() {
                if spare.bytes.len() >= RREAD_HEADER + count {
                    return Ok(spare);
                }
            }
            let own = self.own_buffers.try_take_many(full);
            let is_own = own.is_some();
            let grant = own.or_else(|| self.ctx.kernel().export_buffers().try_take_many(full));
            if let Some(grant) = grant {
                return Ok(Buffer {
                    bytes: vec![0; full],
                    length: 0,
                    grant: Some(grant),
                    own: is_own,
                });
            }
            let deadline = Instant::now() + BUFFER_POLL;
            self.buffer_waiters.fetch_add(1, Ordering::SeqCst);
            let slept = ctx.sleep_until(&self.buffer_freed, &mut guard, Some(deadline));
            self.buffer_waiters.fetch_sub(1, Ordering::SeqCst);
            slept?;
        }
    }

    /// Keeps a full-size buffer of the connection's own share for the next read, or frees it.
    fn recycle(&self, buffer: Buffer) {
        if buffer.grant.is_none() {
            return;
        }
        {
            let mut spares = self.spares.lock();
            if buffer.own && spares.len() < SPARE_BUFFERS {
                spares.push(buffer);
            } else {
                drop(spares);
                drop(buffer);
            }
        }
        let _guard = self.buffer_lock.lock();
        self.buffer_freed.wakeup();
    }

    fn version(&self, msize: u32, version: &str) -> Msg {
        // A new session: every fid and request of the old one is gone.
        {
            let _serial = self.reply_lock.lock();
            for (_, request) in self.inflight.lock().drain() {
                request.flushed.store(true, Ordering::SeqCst);
                request.intr.kill();
            }
        }
        self.fids.lock().clear();
        if msize < MIN_MSIZE {
            return Msg::Rerror {
                ename: "message size too small".into(),
            };
        }
        let msize = msize.min(MAX_MSIZE);
        self.msize.store(msize, Ordering::Relaxed);
        // 9P2000.u and 9P2000.L are answered as plain 9P2000, as Inferno does.
        let base = version.split('.').next().unwrap_or("");
        let version = if base == "9P2000" {
            "9P2000"
        } else {
            "unknown"
        };
        Msg::Rversion {
            msize,
            version: version.into(),
        }
    }

    /// Retires the request `oldtag` names before answering, so its tag is free as soon as
    /// the client has the Rflush (flush(5)); under `reply_lock`, so a reply the request had
    /// ready goes out before the Rflush or never.
    fn flush(&self, tag: u16, oldtag: u16) {
        let _serial = self.reply_lock.lock();
        if let Some(request) = self.inflight.lock().remove(&oldtag) {
            request.flushed.store(true, Ordering::SeqCst);
            request.intr.interrupt();
        }
        self.send(Fcall::new(tag, Msg::Rflush));
    }

    /// The namespace path of a fid's names.
    fn fid(&self, fid: u32) -> Result<Arc<Mutex<Fid>>> {
        self.fids
            .lock()
            .get(&fid)
            .map(|(file, _)| file.clone())
            .ok_or_else(|| Error::msg("unknown fid"))
    }

    fn new_fid(&self, fid: u32, value: Fid) -> Result<()> {
        let mut fids = self.fids.lock();
        if fid == NOFID || fids.contains_key(&fid) {
            return Err(Error::msg("fid in use"));
        }
        if fids.len() >= MAX_FIDS {
            return Err(Error::msg("too many fids"));
        }
        let grant = self
            .ctx
            .kernel()
            .fids()
            .try_take()
            .ok_or_else(|| Error::msg("too many fids"))?;
        fids.insert(fid, (Arc::new(Mutex::new(value)), grant));
        Ok(())
    }

    fn resolve(&self, ctx: &Ctx, names: &[String]) -> Result<Arc<Chan>> {
        let resolved = ctx.ns().resolve_below(ctx, &self.root, names)?;
        Ok(Arc::new(resolved.chan))
    }

    fn writable(&self) -> Result<()> {
        if self.options.read_only {
            Err(Error::ReadOnly)
        } else {
            Ok(())
        }
    }

    fn iounit(&self) -> u32 {
        self.msize.load(Ordering::Relaxed) - IOHDRSZ
    }

    fn handle(&self, ctx: &Ctx, msg: Msg) -> Result<Reply> {
        match msg {
            Msg::Tread { fid, offset, count } => {
                let chan = self.opened(fid)?;
                let count = count.min(self.iounit()) as usize;
                let mut buffer = self.buffer(ctx, count)?;
                let data = &mut buffer.bytes[RREAD_HEADER..RREAD_HEADER + count];
                let read = ctx.read_chan(&chan, data, offset)?.min(count);
                if chan.is_dir() {
                    remap_dir_qids(&mut data[..read]);
                }
                buffer.length = RREAD_HEADER + read;
                Ok(Reply::Read(buffer))
            }
            other => self.handle_msg(ctx, other).map(Reply::Msg),
        }
    }

    fn handle_msg(&self, ctx: &Ctx, msg: Msg) -> Result<Msg> {
        match msg {
            Msg::Tauth { .. } => Err(Error::msg("authentication not required")),
            Msg::Tattach { fid, afid, .. } => {
                if afid != NOFID {
                    return Err(Error::msg("authentication not required"));
                }
                let chan = self.resolve(ctx, &[])?;
                let qid = export_qid(&chan);
                self.new_fid(
                    fid,
                    Fid {
                        names: Vec::new(),
                        chan,
                        open: None,
                    },
                )?;
                Ok(Msg::Rattach { qid })
            }
            Msg::Twalk {
                fid,
                newfid,
                wnames,
            } => self.walk(ctx, fid, newfid, wnames),
            Msg::Topen { fid, mode } => {
                let entry = self.fid(fid)?;
                let mut file = entry.lock();
                if file.open.is_some() {
                    return Err(Error::msg("fid already open"));
                }
                // ORCLOSE removes the file at clunk: a change like any other.
                if mode & 3 == OWRITE || mode & 3 == ORDWR || mode & (OTRUNC | ORCLOSE) != 0 {
                    self.writable()?;
                }
                let mode = if mode & 3 == OEXEC {
                    (mode & !3) | ninep::OREAD
                } else {
                    mode
                };
                let resolved = ctx.ns().resolve_below(ctx, &self.root, &file.names)?;
                // The name is walked again (to find the union there now), but a fid is its
                // file: if the name now leads to another file of the same device (renamed
                // away, and a new one made under the name), that one is not this fid's.
                if !same_file(&file.chan, &resolved.chan) {
                    return Err(Error::NotExist);
                }
                let chan = Namespace::open_resolved(ctx, resolved, mode)?;
                let qid = export_qid(&chan);
                file.open = Some(chan);
                Ok(Msg::Ropen {
                    qid,
                    iounit: self.iounit(),
                })
            }
            Msg::Tcreate {
                fid,
                name,
                perm,
                mode,
            } => {
                self.writable()?;
                check_name(&name)?;
                let entry = self.fid(fid)?;
                let mut file = entry.lock();
                if file.open.is_some() {
                    return Err(Error::msg("fid already open"));
                }
                if !file.chan.is_dir() {
                    return Err(Error::NotDir);
                }
                let mut names = file.names.clone();
                names.push(name);
                let chan = ctx
                    .ns()
                    .create_below(ctx, &self.root, &names, mode, perm, true)?;
                let qid = export_qid(&chan);
                *file = Fid {
                    names,
                    chan: Arc::new(chan.clone_unopened()),
                    open: Some(chan),
                };
                Ok(Msg::Rcreate {
                    qid,
                    iounit: self.iounit(),
                })
            }
            Msg::Twrite { fid, offset, data } => {
                self.writable()?;
                let chan = self.opened(fid)?;
                let count = ctx.write_chan(&chan, &data, offset)?;
                Ok(Msg::Rwrite {
                    count: count as u32,
                })
            }
            Msg::Tclunk { fid } => {
                self.fids
                    .lock()
                    .remove(&fid)
                    .ok_or_else(|| Error::msg("unknown fid"))?;
                Ok(Msg::Rclunk)
            }
            Msg::Tremove { fid } => {
                // A remove clunks the fid whether or not it succeeds.
                let (entry, _grant) = self
                    .fids
                    .lock()
                    .remove(&fid)
                    .ok_or_else(|| Error::msg("unknown fid"))?;
                self.writable()?;
                let file = entry.lock();
                if file.names.is_empty() {
                    return Err(Error::Perm);
                }
                // The fid's own file, wherever it has been renamed to: never whatever file
                // has its old name now.
                let chan = file.open.clone().unwrap_or_else(|| file.chan.clone());
                chan.dev.remove(ctx, &chan)?;
                Ok(Msg::Rremove)
            }
            Msg::Tstat { fid } => {
                let entry = self.fid(fid)?;
                let file = entry.lock();
                let chan = file.open.clone().unwrap_or_else(|| file.chan.clone());
                let mut dir = chan.dev.stat(ctx, &chan)?;
                dir.qid = export_qid(&chan);
                dir.name = file.names.last().cloned().unwrap_or_else(|| "/".into());
                Ok(Msg::Rstat { stat: dir })
            }
            Msg::Twstat { fid, stat } => {
                self.writable()?;
                let entry = self.fid(fid)?;
                let mut file = entry.lock();
                if !stat.name.is_empty() {
                    check_name(&stat.name)?;
                    if file.names.is_empty() {
                        return Err(Error::Perm);
                    }
                }
                let chan = file.open.clone().unwrap_or_else(|| file.chan.clone());
                chan.dev.wstat(ctx, &chan, &stat)?;
                if !stat.name.is_empty()
                    && let Some(last) = file.names.last_mut()
                {
                    last.clone_from(&stat.name);
                }
                Ok(Msg::Rwstat)
            }
            other => Err(Error::msg(format!("unexpected {}", other.name()))),
        }
    }

    fn opened(&self, fid: u32) -> Result<Arc<Chan>> {
        let entry = self.fid(fid)?;
        let file = entry.lock();
        file.open.clone().ok_or(Error::NotOpen)
    }

    fn walk(&self, ctx: &Ctx, fid: u32, newfid: u32, wnames: Vec<String>) -> Result<Msg> {
        let entry = self.fid(fid)?;
        let (mut names, start_chan) = {
            let file = entry.lock();
            if file.open.is_some() {
                return Err(Error::msg("cannot walk an open fid"));
            }
            (file.names.clone(), file.chan.clone())
        };
        if newfid != fid && self.fids.lock().contains_key(&newfid) {
            return Err(Error::msg("fid in use"));
        }
        if !wnames.is_empty() && !start_chan.is_dir() {
            return Err(Error::NotDir);
        }
        let mut wqids = Vec::with_capacity(wnames.len());
        let mut chan = start_chan;
        for (index, name) in wnames.iter().enumerate() {
            let step = check_walk_name(name).and_then(|()| {
                let mut next = names.clone();
                if name == ".." {
                    next.pop();
                } else {
                    next.push(name.clone());
                }
                let resolved = self.resolve(ctx, &next)?;
                Ok((next, resolved))
            });
            match step {
                Ok((next, resolved)) => {
                    names = next;
                    wqids.push(export_qid(&resolved));
                    chan = resolved;
                }
                Err(error) if index == 0 => return Err(error),
                Err(_) => return Ok(Msg::Rwalk { wqids }),
            }
        }
        let walked = Fid {
            names,
            chan,
            open: None,
        };
        if newfid == fid {
            *entry.lock() = walked;
        } else {
            self.new_fid(newfid, walked)?;
        }
        Ok(Msg::Rwalk { wqids })
    }
}

fn check_walk_name(name: &str) -> Result<()> {
    if name == ".." {
        return Ok(());
    }
    check_name(name)
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::BadChar);
    }
    crate::path::valid_name(name)
}

/// A 64-bit mixing function that is one-to-one (the splitmix64 finaliser).
fn mix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// The qid path a file of device `letter`, instance `devno`, path `path` has in an export:
/// one-to-one within each device instance, and different instances land far apart.
pub fn export_path(letter: u32, devno: u64, path: u64) -> u64 {
    let salt = mix(((letter as u64) << 32) ^ devno.rotate_left(17));
    mix(path ^ salt)
}

fn export_qid(chan: &Chan) -> Qid {
    Qid::new(
        chan.qid.ty,
        chan.qid.vers,
        export_path(chan.letter() as u32, chan.devno, chan.qid.path),
    )
}

/// Rewrites the qids of packed stat records read from a directory, using each record's own
/// type and dev fields (which name its device).
fn remap_dir_qids(data: &mut [u8]) {
    let mut offset = 0;
    while offset + 2 <= data.len() {
        let size = u16::from_le_bytes([data[offset], data[offset + 1]]) as usize;
        let end = offset + 2 + size;
        if end > data.len() || size < ninep::STATFIXLEN - 2 {
            return;
        }
        let record = &mut data[offset..end];
        let ty = u16::from_le_bytes([record[2], record[3]]) as u32;
        let dev = u32::from_le_bytes([record[4], record[5], record[6], record[7]]) as u64;
        let mut path_bytes = [0u8; 8];
        path_bytes.copy_from_slice(&record[13..21]);
        let path = export_path(ty, dev, u64::from_le_bytes(path_bytes));
        record[13..21].copy_from_slice(&path.to_le_bytes());
        offset = end;
    }
}
