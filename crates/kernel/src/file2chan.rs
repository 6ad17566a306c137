//! User-level file servers (Inferno's `sys->file2chan`, the server half of its `#s`): a file
//! in the namespace whose reads and writes are answered by a program rather than a device,
//! and the device `#f` whose directories hold such files.
//!
//! `#f` is Inferno's `#s` under another letter (ember's `#s` posts chans, as Plan 9's does):
//! each attach without a spec makes a brand-new empty directory owned by the caller, and
//! `#fname` attaches the named directory `name`, made on first use and shared by every
//! namespace of the kernel. Nothing can be created in a directory by `create`: files appear
//! only through [`file2chan`] (or [`channel`]), which is given a path whose directory is such a
//! directory, or a union holding one, as after `bind -a '#f' /dev`:
//!
//! ```ignore
//! let temp = file2chan(ctx, "/dev/temp", TextFile::new(
//!     move |_ctx| Ok(format!("{}\n", sensor.lock().celsius)),
//!     move |_ctx, command| fridge.lock().command(command),
//! ))?;
//! // /dev/temp exists, for this namespace and any that exports it, until `temp` is dropped.
//! ```
//!
//! Two ways to serve a file: a [`Handler`], called in the client's own thread with the
//! client's context (so a client's interrupt, or a 9P Tflush, ends a handler's wait), and the
//! queue of [`channel`], where requests wait for a server loop to take them one at a time and
//! answer each (Inferno's `FileIO` channels; the shell's `file2chan` is built on it).
//!
//! Invariants:
//! - Each open of a file gets a fid, unique in the kernel, that every request made through
//!   that open carries; its last close is reported to the handler once.
//! - A file lasts as long as the [`ServedFile`] (or [`Requests`]) that made it: dropping that
//!   removes it, after which opens fail and open chans of it read "i/o on hungup channel".
//!   Removing it (`rm`, by its owner) tells the handler, so a server loop ends.
//! - A client never waits for an answer that cannot come: when the server goes, every queued
//!   and every later request fails; a request the server drops unanswered fails.
//! - Everything is bounded: files per directory, named directories, queued requests.

use crate::chan::Chan;
use crate::dev::{Attached, Device, check_open, dir_entry};
use crate::error::{Error, Result};
use crate::namespace::Access;
use crate::proc::{Ctx, Interrupt, Rendez};
use ninep::{DMDIR, Dir, Qid};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The device's letter.
pub const LETTER: char = 'f';
/// Most files in one directory.
pub const MAX_FILES: usize = 1024;
/// Most named directories kept at once.
pub const MAX_NAMED: usize = 256;
/// Most requests waiting in one [`channel`] queue for the server to take them.
pub const MAX_QUEUED: usize = 256;
/// The permissions a new file gets (Inferno's): only its owner may open it, until `chmod`.
pub const DEFAULT_PERM: u32 = 0o600;

/// The identity of one open of a served file, carried by every request made through it.
pub type Fid = u64;

static NEXT_DIR: AtomicU64 = AtomicU64::new(1);
static NEXT_FILE: AtomicU64 = AtomicU64::new(1);
static NEXT_FID: AtomicU64 = AtomicU64::new(1);

/// What answers the requests made of a served file. Every method runs in the client's
/// thread, with the client's context: a handler that waits should wait through `ctx` so the
/// client's interrupts end the wait.
pub trait Handler: Send + Sync + 'static {
    /// A client opens the file with `mode`; an error refuses the open.
    fn open(&self, ctx: &Ctx, fid: Fid, mode: u8) -> Result<()> {
        let _ = (ctx, fid, mode);
        Ok(())
    }

    /// A client reads at most `count` bytes at `offset`; longer answers are cut to `count`.
    fn read(&self, ctx: &Ctx, fid: Fid, offset: u64, count: usize) -> Result<Vec<u8>>;

    /// A client writes `data` at `offset`; the answer is how many bytes were taken.
    fn write(&self, ctx: &Ctx, fid: Fid, offset: u64, data: &[u8]) -> Result<usize>;

    /// The open `fid` was closed (its last reference went).
    fn close(&self, fid: Fid) {
        let _ = fid;
    }

    /// The file was removed: no request will come any more.
    fn removed(&self) {}
}

/// A qid path of `#f`: the low bit tells a directory from a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileQid {
    Dir(u64),
    File(u64),
}

impl FileQid {
    fn pack(self) -> Qid {
        match self {
            FileQid::Dir(number) => Qid::dir(number << 1),
            FileQid::File(number) => Qid::file(number << 1 | 1),
        }
    }
}

/// One served file.
struct File {
    number: u64,
    name: String,
    owner: String,
    perm: Mutex<u32>,
    handler: Arc<dyn Handler>,
    removed: AtomicBool,
}

/// One directory of served files.
struct Directory {
    number: u64,
    /// `#f` or `#fname`, as its stat names it.
    title: String,
    owner: String,
    files: Mutex<Vec<Arc<File>>>,
}

impl Directory {
    fn new(title: String, owner: String) -> Arc<Directory> {
        Arc::new(Directory {
            number: NEXT_DIR.fetch_add(1, Ordering::Relaxed),
            title,
            owner,
            files: Mutex::new(Vec::new()),
        })
    }

    /// Takes `file` out of the directory (once) and tells its handler.
    fn remove(&self, file: &File) {
        if file.removed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.files.lock().retain(|held| held.number != file.number);
        file.handler.removed();
    }
}

/// The device-private state of a chan of `#f`.
struct Node {
    dir: Arc<Directory>,
    /// The file, for a chan naming one.
    file: Option<Arc<File>>,
    /// The open's fid, for an opened file.
    fid: Option<Fid>,
}

fn node(chan: &Chan) -> Result<&Node> {
    chan.aux::<Node>().ok_or(Error::NotExist)
}

/// The file a chan names, unless removed.
fn live_file(chan: &Chan) -> Result<(&Node, &Arc<File>)> {
    let node = node(chan)?;
    let file = node.file.as_ref().ok_or(Error::IsDir)?;
    if file.removed.load(Ordering::SeqCst) {
        return Err(Error::Hungup);
    }
    Ok((node, file))
}

fn file_dir(chan: &Chan, file: &File) -> Dir {
    dir_entry(
        chan,
        FileQid::File(file.number).pack(),
        &file.name,
        0,
        &file.owner,
        *file.perm.lock(),
    )
}

/// Checks the name of a served file or of a named directory.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(Error::BadArg);
    }
    if name.contains('/') {
        return Err(Error::BadChar);
    }
    crate::path::valid_name(name)
}

/// The file2chan device, `#f`, holding the kernel's named directories.
#[derive(Default)]
pub struct FileChanDevice {
    named: Mutex<HashMap<String, Arc<Directory>>>,
}

impl FileChanDevice {
    pub fn new() -> FileChanDevice {
        FileChanDevice::default()
    }

    fn named(&self, name: &str, owner: &str) -> Result<Arc<Directory>> {
        let mut named = self.named.lock();
        if let Some(dir) = named.get(name) {
            return Ok(dir.clone());
        }
        if named.len() >= MAX_NAMED {
            // Forget directories nothing refers to and nothing is served in.
            named.retain(|_, dir| Arc::strong_count(dir) > 1 || !dir.files.lock().is_empty());
            if named.len() >= MAX_NAMED {
                return Err(Error::msg("too many file2chan directories"));
            }
        }
        let dir = Directory::new(format!("#{LETTER}{name}"), owner.to_string());
        named.insert(name.to_string(), dir.clone());
        Ok(dir)
    }
}

impl Device for FileChanDevice {
    fn letter(&self) -> char {
        LETTER
    }

    fn name(&self) -> &'static str {
        "file2chan"
    }

    fn attach(&self, ctx: &Ctx, spec: &str) -> Result<Attached> {
        let dir = if spec.is_empty() {
            Directory::new(format!("#{LETTER}"), ctx.user())
        } else {
            check_name(spec).map_err(|_| Error::BadSpec)?;
            self.named(spec, &ctx.user())?
        };
        Ok(Attached {
            devno: dir.number,
            qid: FileQid::Dir(dir.number).pack(),
            aux: Some(Arc::new(Node {
                dir,
                file: None,
                fid: None,
            })),
        })
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let node = node(chan)?;
        if node.file.is_some() {
            return Err(Error::NotDir);
        }
        let file = node
            .dir
            .files
            .lock()
            .iter()
            .find(|file| file.name == name)
            .cloned()
            .ok_or(Error::NotExist)?;
        let qid = FileQid::File(file.number).pack();
        Ok(chan.walked_with(
            qid,
            Some(Arc::new(Node {
                dir: node.dir.clone(),
                file: Some(file),
                fid: None,
            })),
        ))
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let node = node(dir)?;
        if node.file.is_some() {
            return Ok(None);
        }
        let files = node.dir.files.lock();
        Ok(files.get(index).map(|file| file_dir(dir, file)))
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let node = node(chan)?;
        match &node.file {
            None => Ok(dir_entry(
                chan,
                chan.qid,
                &node.dir.title,
                0,
                &node.dir.owner,
                DMDIR | 0o555,
            )),
            Some(file) if file.removed.load(Ordering::SeqCst) => Err(Error::NotExist),
            Some(file) => Ok(file_dir(chan, file)),
        }
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        check_open(ctx, &self.stat(ctx, &chan)?, mode)?;
        let node = node(&chan)?;
        let Some(file) = node.file.clone() else {
            return Ok(chan.opened(mode));
        };
        let fid = NEXT_FID.fetch_add(1, Ordering::Relaxed);
        file.handler.open(ctx, fid, mode)?;
        let opened = Node {
            dir: node.dir.clone(),
            file: Some(file),
            fid: Some(fid),
        };
        let qid = chan.qid;
        Ok(chan.walked_with(qid, Some(Arc::new(opened))).opened(mode))
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let (node, file) = live_file(chan)?;
        let fid = node.fid.ok_or(Error::NotOpen)?;
        let data = file.handler.read(ctx, fid, offset, buf.len())?;
        let count = data.len().min(buf.len());
        buf[..count].copy_from_slice(&data[..count]);
        Ok(count)
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], offset: u64) -> Result<usize> {
        let (node, file) = live_file(chan)?;
        let fid = node.fid.ok_or(Error::NotOpen)?;
        let count = file.handler.write(ctx, fid, offset, data)?;
        Ok(count.min(data.len()))
    }

    fn close(&self, chan: &Chan) {
        if let Ok(node) = node(chan)
            && let (Some(file), Some(fid)) = (&node.file, node.fid)
        {
            file.handler.close(fid);
        }
    }

    fn remove(&self, ctx: &Ctx, chan: &Chan) -> Result<()> {
        let (node, file) = live_file(chan).map_err(|_| Error::NotExist)?;
        let user = ctx.user();
        if file.owner != user && user != ctx.kernel().eve() {
            return Err(Error::Perm);
        }
        node.dir.remove(file);
        Ok(())
    }

    fn wstat(&self, ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let (_, file) = live_file(chan).map_err(|_| Error::Perm)?;
        let null = Dir::null();
        let user = ctx.user();
        if file.owner != user && user != ctx.kernel().eve() {
            return Err(Error::Perm);
        }
        if (!dir.name.is_empty() && dir.name != file.name)
            || dir.length != null.length
            || (!dir.uid.is_empty() && dir.uid != file.owner)
        {
            return Err(Error::Perm);
        }
        if dir.mode != null.mode {
            if dir.mode & DMDIR != 0 {
                return Err(Error::Perm);
            }
            *file.perm.lock() = dir.mode & 0o777;
        }
        Ok(())
    }
}

/// A file made by [`file2chan`]: it stays in its directory until this is dropped.
pub struct ServedFile {
    dir: Arc<Directory>,
    file: Arc<File>,
}

impl ServedFile {
    /// The file's name in its directory.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// Whether the file has been removed (by its owner, with `rm`).
    pub fn is_removed(&self) -> bool {
        self.file.removed.load(Ordering::SeqCst)
    }
}

impl Drop for ServedFile {
    fn drop(&mut self) {
        self.dir.remove(&self.file);
    }
}

/// Splits a path into its directory and its last name.
fn split(path: &str) -> Result<(String, String)> {
    let clean = crate::path::clean(path)?;
    let parsed = crate::path::parse(&clean)?;
    let Some(name) = parsed.names.last().cloned() else {
        return Err(Error::Exists.at(path));
    };
    let dir = match clean.rfind('/') {
        Some(0) => "/".to_string(),
        Some(slash) => clean[..slash].to_string(),
        None => ".".to_string(),
    };
    Ok((dir, name))
}

/// The `#f` directory at `path`: the file there, or the first `#f` member of a union there.
fn find_directory(ctx: &Ctx, path: &str) -> Result<Arc<Directory>> {
    let resolved = ctx.ns().resolve(ctx, path, Access::Open)?;
    let members = resolved
        .union
        .iter()
        .flat_map(|union| union.mounts.iter().map(|mount| mount.to.clone()));
    std::iter::once(Arc::new(resolved.chan))
        .chain(members)
        .find_map(|chan| {
            let node = chan.aux::<Node>()?;
            (chan.letter() == LETTER && node.file.is_none()).then(|| node.dir.clone())
        })
        .ok_or_else(|| {
            Error::msg(format!(
                "'{path}' is not a file2chan directory (bind -a '#{LETTER}' there first)"
            ))
        })
}

/// Makes `path` a file whose requests `handler` answers (Inferno `sys->file2chan`). The
/// directory part of `path` must be a `#f` directory or a union holding one, belonging to the
/// caller; the file starts with permissions [`DEFAULT_PERM`] and the caller as owner, and
/// lasts until the returned [`ServedFile`] is dropped.
pub fn file2chan(ctx: &Ctx, path: &str, handler: impl Handler) -> Result<ServedFile> {
    file2chan_with(ctx, path, Arc::new(handler))
}

/// [`file2chan`] with a shared handler.
pub fn file2chan_with(ctx: &Ctx, path: &str, handler: Arc<dyn Handler>) -> Result<ServedFile> {
    ctx.check()?;
    let (dir_path, name) = split(path)?;
    check_name(&name).map_err(|error| error.at(path))?;
    let dir = find_directory(ctx, &dir_path)?;
    let user = ctx.user();
    if dir.owner != user && user != ctx.kernel().eve() {
        return Err(Error::Perm.at(path));
    }
    // A name another member of a union already answers would never be reached.
    if ctx.stat(path).is_ok() {
        return Err(Error::Exists.at(path));
    }
    let mut files = dir.files.lock();
    if files.iter().any(|file| file.name == name) {
        return Err(Error::Exists.at(path));
    }
    if files.len() >= MAX_FILES {
        return Err(Error::msg("too many files in a file2chan directory"));
    }
    let file = Arc::new(File {
        number: NEXT_FILE.fetch_add(1, Ordering::Relaxed),
        name,
        owner: user,
        perm: Mutex::new(DEFAULT_PERM),
        handler,
        removed: AtomicBool::new(false),
    });
    files.push(file.clone());
    drop(files);
    Ok(ServedFile { dir, file })
}

// ---- a text file from two closures

type ReadText = dyn Fn(&Ctx) -> Result<String> + Send + Sync;
type WriteText = dyn Fn(&Ctx, &str) -> Result<()> + Send + Sync;

/// A [`Handler`] for the usual shape of a device file: reading gives a text made afresh for
/// each read from offset 0 (later offsets continue the same text, so `cat` sees one
/// consistent copy), and each write is one command, given as text without its trailing
/// newline. Writes that are not UTF-8 fail with "bad arg in system call".
pub struct TextFile {
    read: Box<ReadText>,
    write: Box<WriteText>,
    snapshots: Mutex<HashMap<Fid, Arc<String>>>,
}

impl TextFile {
    pub fn new(
        read: impl Fn(&Ctx) -> Result<String> + Send + Sync + 'static,
        write: impl Fn(&Ctx, &str) -> Result<()> + Send + Sync + 'static,
    ) -> TextFile {
        TextFile {
            read: Box::new(read),
            write: Box::new(write),
            snapshots: Mutex::new(HashMap::new()),
        }
    }

    /// A file that can only be read.
    pub fn read_only(read: impl Fn(&Ctx) -> Result<String> + Send + Sync + 'static) -> TextFile {
        TextFile::new(read, |_ctx, _text| Err(Error::Perm))
    }
}

impl Handler for TextFile {
    fn read(&self, ctx: &Ctx, fid: Fid, offset: u64, count: usize) -> Result<Vec<u8>> {
        let snapshot = self.snapshots.lock().get(&fid).cloned();
        let text = match snapshot {
            Some(text) if offset > 0 => text,
            _ => {
                let text = Arc::new((self.read)(ctx)?);
                self.snapshots.lock().insert(fid, text.clone());
                text
            }
        };
        let mut buf = vec![0u8; count.min(text.len())];
        let read = crate::dev::read_str(&text, &mut buf, offset);
        buf.truncate(read);
        Ok(buf)
    }

    fn write(&self, ctx: &Ctx, _fid: Fid, _offset: u64, data: &[u8]) -> Result<usize> {
        let text = std::str::from_utf8(data).map_err(|_| Error::BadArg)?;
        (self.write)(ctx, text.strip_suffix('\n').unwrap_or(text))?;
        Ok(data.len())
    }

    fn close(&self, fid: Fid) {
        self.snapshots.lock().remove(&fid);
    }
}

// ---- requests on a queue, for a server loop

/// Where one request's answer goes.
struct Slot<T> {
    answer: Mutex<SlotState<T>>,
    answered: Rendez,
    /// Interrupted when the client gives up waiting, so a server working on the request
    /// under [`ReadRequest::interrupt`] stops.
    intr: Arc<Interrupt>,
}

struct SlotState<T> {
    answer: Option<Result<T>>,
    abandoned: bool,
}

impl<T> Slot<T> {
    fn new() -> Arc<Slot<T>> {
        Arc::new(Slot {
            answer: Mutex::new(SlotState {
                answer: None,
                abandoned: false,
            }),
            answered: Rendez::new(),
            intr: Interrupt::new(),
        })
    }
}

/// The answer to one request: given once; a request dropped unanswered fails.
struct Reply<T> {
    slot: Option<Arc<Slot<T>>>,
}

impl<T> Reply<T> {
    fn send(mut self, answer: Result<T>) {
        if let Some(slot) = self.slot.take() {
            let mut state = slot.answer.lock();
            if !state.abandoned {
                state.answer = Some(answer);
            }
            drop(state);
            slot.answered.wakeup();
        }
    }

    fn abandoned(&self) -> bool {
        self.slot
            .as_ref()
            .is_none_or(|slot| slot.answer.lock().abandoned)
    }

    fn interrupt(&self) -> Arc<Interrupt> {
        self.slot
            .as_ref()
            .map_or_else(Interrupt::new, |slot| slot.intr.clone())
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let mut state = slot.answer.lock();
            if state.answer.is_none() {
                state.answer = Some(Err(Error::msg("file2chan: the server gave no reply")));
            }
            drop(state);
            slot.answered.wakeup();
        }
    }
}

/// A client's read, waiting for the server's answer.
pub struct ReadRequest {
    pub fid: Fid,
    pub offset: u64,
    /// The most bytes the client takes; a longer answer is cut.
    pub count: usize,
    reply: Reply<Vec<u8>>,
}

impl ReadRequest {
    /// Answers the read with `data` (cut to `count`) or an error.
    pub fn reply(self, answer: Result<Vec<u8>>) {
        self.reply.send(answer);
    }

    /// Whether the client stopped waiting (it was interrupted, or its request flushed).
    pub fn abandoned(&self) -> bool {
        self.reply.abandoned()
    }

    /// Interrupted when the client stops waiting: serve the request with
    /// `ctx.with_interrupt(request.interrupt())` and the work stops with it.
    pub fn interrupt(&self) -> Arc<Interrupt> {
        self.reply.interrupt()
    }
}

/// A client's write, waiting for the server's answer.
pub struct WriteRequest {
    pub fid: Fid,
    pub offset: u64,
    pub data: Vec<u8>,
    reply: Reply<usize>,
}

impl WriteRequest {
    /// Answers the write with the count of bytes taken, or an error.
    pub fn reply(self, answer: Result<usize>) {
        self.reply.send(answer);
    }

    pub fn abandoned(&self) -> bool {
        self.reply.abandoned()
    }

    pub fn interrupt(&self) -> Arc<Interrupt> {
        self.reply.interrupt()
    }
}

/// One request made of a file served by [`channel`].
pub enum Request {
    Read(ReadRequest),
    Write(WriteRequest),
    /// The open `fid` was closed; no answer is due.
    Close {
        fid: Fid,
    },
}

#[derive(Default)]
struct QueueState {
    requests: VecDeque<Request>,
    /// The server is gone, or the file removed: nothing will be answered any more.
    closed: bool,
}

/// The handler behind [`channel`]: requests wait in a queue for the server.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    arrived: Rendez,
}

impl Queue {
    /// Queues the request `make` builds and waits, interruptibly, for its answer.
    fn call<T>(&self, ctx: &Ctx, make: impl FnOnce(Reply<T>) -> Request) -> Result<T> {
        let slot = Slot::new();
        {
            let mut state = self.state.lock();
            if state.closed {
                return Err(Error::Hungup);
            }
            if state.requests.len() >= MAX_QUEUED {
                return Err(Error::msg("file2chan: too many requests waiting"));
            }
            state.requests.push_back(make(Reply {
                slot: Some(slot.clone()),
            }));
        }
        self.arrived.wakeup();
        let mut answer = slot.answer.lock();
        loop {
            if let Some(answer) = answer.answer.take() {
                return answer;
            }
            if let Err(error) = ctx.sleep(&slot.answered, &mut answer) {
                answer.abandoned = true;
                drop(answer);
                slot.intr.interrupt();
                return Err(error);
            }
        }
    }

    /// Closes the queue: queued requests fail, later ones are refused.
    fn close(&self) {
        let pending = {
            let mut state = self.state.lock();
            state.closed = true;
            std::mem::take(&mut state.requests)
        };
        for request in pending {
            match request {
                Request::Read(read) => read.reply(Err(Error::Hungup)),
                Request::Write(write) => write.reply(Err(Error::Hungup)),
                Request::Close { .. } => {}
            }
        }
        self.arrived.wakeup();
    }
}

impl Handler for Queue {
    fn read(&self, ctx: &Ctx, fid: Fid, offset: u64, count: usize) -> Result<Vec<u8>> {
        let mut data = self.call(ctx, |reply| {
            Request::Read(ReadRequest {
                fid,
                offset,
                count,
                reply,
            })
        })?;
        data.truncate(count);
        Ok(data)
    }

    fn write(&self, ctx: &Ctx, fid: Fid, offset: u64, data: &[u8]) -> Result<usize> {
        let data = data.to_vec();
        self.call(ctx, |reply| {
            Request::Write(WriteRequest {
                fid,
                offset,
                data,
                reply,
            })
        })
    }

    fn close(&self, fid: Fid) {
        let mut state = self.state.lock();
        // A close is only news; when the queue is full or closed it is dropped.
        if !state.closed && state.requests.len() < MAX_QUEUED {
            state.requests.push_back(Request::Close { fid });
            drop(state);
            self.arrived.wakeup();
        }
    }

    fn removed(&self) {
        self.close();
    }
}

/// The server's end of a file made by [`channel`] (Inferno's `FileIO`): the requests, in
/// the order clients made them. Dropping it removes the file and fails what is pending.
pub struct Requests {
    queue: Arc<Queue>,
    file: ServedFile,
}

impl Requests {
    /// The next request, waiting for one (interruptibly). "i/o on hungup channel" once the
    /// file has been removed. Requests whose clients stopped waiting are skipped.
    pub fn next(&self, ctx: &Ctx) -> Result<Request> {
        let mut state = self.queue.state.lock();
        loop {
            while let Some(request) = state.requests.pop_front() {
                let abandoned = match &request {
                    Request::Read(read) => read.abandoned(),
                    Request::Write(write) => write.abandoned(),
                    Request::Close { .. } => false,
                };
                if !abandoned {
                    return Ok(request);
                }
            }
            if state.closed {
                return Err(Error::Hungup);
            }
            ctx.sleep(&self.queue.arrived, &mut state)?;
        }
    }

    /// The file being served.
    pub fn file(&self) -> &ServedFile {
        &self.file
    }
}

impl Drop for Requests {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// Makes `path` a file whose requests wait for a server to take them with
/// [`Requests::next`] and answer them: [`file2chan`] for a server loop.
pub fn channel(ctx: &Ctx, path: &str) -> Result<Requests> {
    let queue = Arc::new(Queue::default());
    let file = file2chan_with(ctx, path, queue.clone())?;
    Ok(Requests { queue, file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;
    use crate::memfs::MemFs;
    use ninep::{ORDWR, OREAD, OWRITE};
    use std::time::Duration;

    fn kernel() -> (Arc<Kernel>, Ctx) {
        let kernel = Kernel::new("glenda", "test");
        kernel.register(Arc::new(FileChanDevice::new())).unwrap();
        let memfs = MemFs::new('T');
        memfs.add("", "dev/cons", Some("console"));
        kernel.register(memfs).unwrap();
        let ctx = Ctx::new(kernel.first_proc("test", "glenda"));
        let root = ctx.ns().attach(&ctx, 'T', "").unwrap();
        ctx.ns().set_root(root);
        ctx.bind("#f", "/dev", crate::MAFTER).unwrap();
        (kernel, ctx)
    }

    fn read_all(ctx: &Ctx, path: &str) -> Result<String> {
        Ok(String::from_utf8(ctx.read_file(path, 1 << 20)?).unwrap())
    }

    fn write(ctx: &Ctx, path: &str, text: &str) -> Result<usize> {
        let chan = ctx.open_chan(path, OWRITE)?;
        ctx.write_chan(&chan, text.as_bytes(), 0)
    }

    /// The fridge of the talk, as a device written in Rust: the temperature moves half a
    /// degree towards the target at each reading.
    struct Fridge {
        celsius: f64,
        target: f64,
    }

    impl Fridge {
        fn command(&mut self, command: &str) -> Result<()> {
            match command.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["target", degrees] => {
                    self.target = degrees.parse().map_err(|_| Error::BadArg)?;
                    Ok(())
                }
                _ => Err(Error::msg(format!("unknown command '{command}'"))),
            }
        }

        fn reading(&mut self) -> String {
            let step = (self.target - self.celsius).clamp(-0.5, 0.5);
            self.celsius += step;
            format!("{:.1}\n", self.celsius)
        }
    }

    #[test]
    fn regression_issue_8_fridge_in_a_few_lines_of_rust() {
        let (_kernel, ctx) = kernel();
        let fridge = Arc::new(Mutex::new(Fridge {
            celsius: 5.0,
            target: 5.0,
        }));
        let (sensor, thermostat) = (fridge.clone(), fridge.clone());
        let temp = file2chan(
            &ctx,
            "/dev/temp",
            TextFile::new(
                move |_ctx| Ok(sensor.lock().reading()),
                move |_ctx, command| thermostat.lock().command(command),
            ),
        )
        .unwrap();
        assert_eq!(read_all(&ctx, "/dev/temp").unwrap(), "5.0\n");
        assert_eq!(write(&ctx, "/dev/temp", "target 4\n").unwrap(), 9);
        assert_eq!(read_all(&ctx, "/dev/temp").unwrap(), "4.5\n");
        assert_eq!(read_all(&ctx, "/dev/temp").unwrap(), "4.0\n");
        assert_eq!(
            write(&ctx, "/dev/temp", "defrost").unwrap_err().to_string(),
            "unknown command 'defrost'"
        );
        // The union still has the other member's files; the listing shows both.
        let names: Vec<String> = ctx
            .read_dir("/dev")
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        assert_eq!(names, ["cons", "temp"]);
        let dir = ctx.stat("/dev/temp").unwrap();
        assert_eq!((dir.mode, dir.uid.as_str()), (0o600, "glenda"));
        drop(temp);
        assert_eq!(ctx.stat("/dev/temp").unwrap_err().root(), &Error::NotExist);
    }

    #[test]
    fn needs_a_file2chan_directory_and_a_free_name() {
        let (_kernel, ctx) = kernel();
        ctx.mkdir("/tmp", 0o777).ok();
        let error = file2chan(&ctx, "/n/x", TextFile::read_only(|_| Ok(String::new())));
        assert!(error.is_err());
        let error = file2chan(&ctx, "/tmp/x", TextFile::read_only(|_| Ok(String::new())))
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("not a file2chan directory"),
            "{error}"
        );
        let error = file2chan(
            &ctx,
            "/dev/cons",
            TextFile::read_only(|_| Ok(String::new())),
        )
        .err()
        .unwrap();
        assert_eq!(error.root(), &Error::Exists);
        assert!(ctx.create("/dev/new", OWRITE, 0o666).is_err());
        let _one = file2chan(&ctx, "/dev/one", TextFile::read_only(|_| Ok("1".into()))).unwrap();
        let again = file2chan(&ctx, "/dev/one", TextFile::read_only(|_| Ok("2".into())));
        assert_eq!(again.err().unwrap().root(), &Error::Exists);
        // Directly on the device, as well.
        let _two = file2chan(
            &ctx,
            "#fshared/two",
            TextFile::read_only(|_| Ok("2".into())),
        )
        .unwrap();
        assert_eq!(read_all(&ctx, "#fshared/two").unwrap(), "2");
    }

    #[test]
    fn each_open_has_its_own_fid_and_its_close_is_reported() {
        let (_kernel, ctx) = kernel();
        let requests = channel(&ctx, "/dev/fids").unwrap();
        let server_ctx = ctx.clone();
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                match requests.next(&server_ctx) {
                    Ok(Request::Read(read)) => {
                        let text = format!("{}\n", read.fid);
                        let data =
                            text.as_bytes()[(read.offset as usize).min(text.len())..].to_vec();
                        read.reply(Ok(data));
                    }
                    Ok(Request::Write(write)) => {
                        seen.push(format!("write {}", String::from_utf8_lossy(&write.data)));
                        let count = write.data.len();
                        write.reply(Ok(count));
                    }
                    Ok(Request::Close { fid }) => {
                        seen.push(format!("close {fid}"));
                        if seen.len() == 3 {
                            return seen;
                        }
                    }
                    Err(error) => panic!("{error}"),
                }
            }
        });
        let first = ctx.open_chan("/dev/fids", ORDWR).unwrap();
        let second = ctx.open_chan("/dev/fids", OREAD).unwrap();
        let mut buf = [0u8; 32];
        let count = ctx.read_chan(&first, &mut buf, 0).unwrap();
        let fid_one: u64 = std::str::from_utf8(&buf[..count])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let count = ctx.read_chan(&second, &mut buf, 0).unwrap();
        let fid_two: u64 = std::str::from_utf8(&buf[..count])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_ne!(fid_one, fid_two);
        assert_eq!(ctx.write_chan(&first, b"hello", 0).unwrap(), 5);
        drop(second);
        drop(first);
        let seen = server.join().unwrap();
        assert_eq!(
            seen,
            [
                "write hello".to_string(),
                format!("close {fid_two}"),
                format!("close {fid_one}")
            ]
        );
    }

    #[test]
    fn an_interrupted_client_stops_waiting_and_the_server_sees_it() {
        let (kernel, ctx) = kernel();
        let requests = channel(&ctx, "/dev/slow").unwrap();
        let chan = ctx.open_chan("/dev/slow", OREAD).unwrap();
        let client = Ctx::new(kernel.first_proc("client", "glenda"));
        let client_proc = client.proc.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            client.read_chan(&chan, &mut buf, 0)
        });
        let Request::Read(read) = requests.next(&ctx).unwrap() else {
            panic!("not a read");
        };
        let work = ctx.with_interrupt(read.interrupt());
        client_proc.interrupt();
        // The server's own wait on behalf of the client ends too.
        let slept = work.sleep_for(Duration::from_secs(10));
        assert_eq!(slept.unwrap_err(), Error::Interrupted);
        assert!(read.abandoned());
        read.reply(Ok(b"late".to_vec()));
        assert_eq!(reader.join().unwrap().unwrap_err(), Error::Interrupted);
    }

    #[test]
    fn when_the_server_goes_pending_and_later_requests_fail() {
        let (kernel, ctx) = kernel();
        let requests = channel(&ctx, "/dev/gone").unwrap();
        requests.file().name().to_string();
        let chan = ctx.open_chan("/dev/gone", OREAD).unwrap();
        let client = Ctx::new(kernel.first_proc("client", "glenda"));
        let pending_chan = chan.clone();
        let pending = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            client.read_chan(&pending_chan, &mut buf, 0)
        });
        // Let the read queue up, then the server goes without answering.
        for _ in 0..200 {
            if !requests.queue.state.lock().requests.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(requests);
        assert_eq!(pending.join().unwrap().unwrap_err(), Error::Hungup);
        let mut buf = [0u8; 8];
        assert_eq!(
            ctx.read_chan(&chan, &mut buf, 0).unwrap_err(),
            Error::Hungup
        );
        assert!(ctx.open_chan("/dev/gone", OREAD).is_err());
    }

    #[test]
    fn removing_the_file_ends_the_server_loop() {
        let (_kernel, ctx) = kernel();
        let requests = channel(&ctx, "/dev/rm").unwrap();
        ctx.remove("/dev/rm").unwrap();
        assert!(requests.file().is_removed());
        assert_eq!(requests.next(&ctx).err().unwrap(), Error::Hungup);
    }

    #[test]
    fn owner_changes_the_mode_others_may_not() {
        let (kernel, ctx) = kernel();
        let _file = file2chan(&ctx, "/dev/mode", TextFile::read_only(|_| Ok("x".into()))).unwrap();
        let mut dir = Dir::null();
        dir.mode = 0o644;
        ctx.wstat("/dev/mode", &dir).unwrap();
        assert_eq!(ctx.stat("/dev/mode").unwrap().mode, 0o644);
        let other = Ctx::new(kernel.first_proc("other", "bob"));
        other.proc.set_ns(ctx.ns());
        assert_eq!(read_all(&other, "/dev/mode").unwrap(), "x");
        assert_eq!(
            other.wstat("/dev/mode", &dir).unwrap_err().root(),
            &Error::Perm
        );
        assert_eq!(other.remove("/dev/mode").unwrap_err().root(), &Error::Perm);
        assert!(write(&other, "/dev/mode", "y").is_err());
    }
}
