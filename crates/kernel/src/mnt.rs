//! The mount driver, `#M` (Plan 9 `devmnt.c`): a 9P2000 client presented as a device, so a
//! tree served by any 9P server, over any stream, can be mounted in a namespace.
//!
//! One `Session` per connection: a version exchange, then requests matched to replies by tag,
//! so many processes can have requests outstanding at once. There is no reader thread: as in
//! Plan 9's `mountio`, a process waiting for a reply reads the connection itself when nobody
//! else is, hands each reply that is not its own to the process waiting for it, and gives
//! the reader's role up when its own has come; so a reply reaches the process that asked
//! without a thread in between. Each chan holds its own fid; opening or creating first
//! clones it (a walk of no names), so the unopened chan stays usable. A caller interrupted
//! while waiting (or while reading for everyone) sends a Tflush for its request and returns
//! at once. When the server hangs up, every pending and later request fails with "i/o on
//! hungup channel" instead of waiting.
//!
//! Invariants: replies are read with the negotiated msize as their bound; bytes of a reply
//! not yet whole stay in the session for the next reader, so an interrupted reader loses
//! nothing; a reply whose tag is unknown is dropped; a flushed request's tag is reused only
//! after its reply or its Rflush; nothing reads the connection once the last chan of a
//! session goes (a serial line can be mounted again); `#M` cannot be attached by name.

use crate::chan::{Chan, DirCursor};
use crate::dev::{Attached, Device};
use crate::error::{Error, Result};
use crate::proc::{Ctx, Rendez};
use crate::transport::{Transport, read_exact, trace, tracing};
use ninep::{Dir, Fcall, HEADER, IOHDRSZ, Msg, NOFID, NOTAG};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The msize a mount proposes.
pub const MSIZE: u32 = 65536 + IOHDRSZ;

/// How many bytes left over from an earlier session on the same connection `attach` skips
/// while it looks for the answer to Tversion.
const STALE_BYTES: usize = 16 * MSIZE as usize;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
struct Tags {
    next: u16,
    /// Requests waiting for replies, and the replies once read.
    waiting: HashMap<u16, Option<Fcall>>,
    /// Tags whose replies nobody waits for (clunks, flushed requests, flushes).
    discard: HashSet<u16>,
    /// Tflushes sent, by tag, and the tag each flushes.
    flushes: HashMap<u16, u16>,
    /// A process is reading replies for everyone.
    reading: bool,
}

/// Bytes read from the connection and not yet delivered as replies.
#[derive(Default)]
struct Input {
    buf: Vec<u8>,
    start: usize,
}

/// One 9P connection.
pub struct Session {
    id: u64,
    transport: Arc<dyn Transport>,
    /// The connection's chan, if it is one (for `unmount` by name and for `ns`).
    connection: Option<Arc<Chan>>,
    /// What `ns` calls the connection.
    name: String,
    msize: u32,
    tags: Mutex<Tags>,
    replied: Rendez,
    next_fid: AtomicU32,
    hungup: AtomicBool,
    /// Held by the process reading replies.
    input: Mutex<Input>,
    trace: bool,
}

/// Keeps a session alive; the last one to go shuts it down.
struct SessionRef(Arc<Session>);

impl Drop for SessionRef {
    fn drop(&mut self) {
        self.0.shut_down();
    }
}

/// A chan's file on the server.
struct MntFile {
    session: Arc<SessionRef>,
    fid: u32,
    iounit: u32,
    clunked: AtomicBool,
}

impl Drop for MntFile {
    fn drop(&mut self) {
        if !self.clunked.load(Ordering::SeqCst) {
            self.session
                .0
                .send_and_forget(Msg::Tclunk { fid: self.fid });
        }
    }
}

impl Session {
    fn shut_down(&self) {
        self.hungup.store(true, Ordering::SeqCst);
        self.transport.hang_up();
        self.replied.wakeup();
    }

    fn alloc_fid(&self) -> u32 {
        loop {
            let fid = self.next_fid.fetch_add(1, Ordering::Relaxed);
            if fid != NOFID {
                return fid;
            }
        }
    }

    /// A free tag, registered as waiting (or as discarded).
    fn alloc_tag(&self, discard: bool) -> Result<u16> {
        let mut tags = self.tags.lock();
        for _ in 0..=u16::MAX as usize {
            let tag = tags.next;
            tags.next = tags.next.wrapping_add(1);
            if tag == NOTAG || tags.waiting.contains_key(&tag) || tags.discard.contains(&tag) {
                continue;
            }
            if discard {
                tags.discard.insert(tag);
            } else {
                tags.waiting.insert(tag, None);
            }
            return Ok(tag);
        }
        Err(Error::msg("too many outstanding 9P requests"))
    }

    fn write(&self, fcall: &Fcall) -> Result<()> {
        if self.trace {
            trace("->", &format!("mnt{}", self.id), fcall);
        }
        self.transport.write(&fcall.to_bytes()).inspect_err(|_| {
            self.hungup.store(true, Ordering::SeqCst);
            self.replied.wakeup();
        })
    }

    /// Sends a request whose reply does not matter (a clunk).
    fn send_and_forget(&self, msg: Msg) {
        if self.hungup.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(tag) = self.alloc_tag(true) {
            let _ = self.write(&Fcall::new(tag, msg));
        }
    }

    /// Sends `msg` and waits for its reply; an Rerror becomes the error it names.
    fn rpc(&self, ctx: &Ctx, msg: Msg) -> Result<Msg> {
        if self.hungup.load(Ordering::SeqCst) {
            return Err(Error::Hungup);
        }
        let expected = msg.type_byte() + 1;
        let tag = self.alloc_tag(false)?;
        if let Err(error) = self.write(&Fcall::new(tag, msg)) {
            self.tags.lock().waiting.remove(&tag);
            // A connection that cannot be written is hung up, whatever the host called it.
            return Err(if error.is_interrupt() {
                error
            } else {
                Error::Hungup
            });
        }
        let reply = match self.wait(ctx, tag) {
            Ok(reply) => reply,
            Err(error) if error.is_interrupt() => {
                self.flush(tag);
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        match reply.msg {
            Msg::Rerror { ename } => Err(Error::parse(&ename)),
            reply if reply.type_byte() == expected => Ok(reply),
            reply => Err(Error::msg(format!("9P: unexpected {} reply", reply.name()))),
        }
    }

    /// Waits for the reply to `tag`, reading the connection whenever nobody else is.
    fn wait(&self, ctx: &Ctx, tag: u16) -> Result<Fcall> {
        let mut tags = self.tags.lock();
        loop {
            if let Some(Some(_)) = tags.waiting.get(&tag)
                && let Some(Some(reply)) = tags.waiting.remove(&tag)
            {
                return Ok(reply);
            }
            if self.hungup.load(Ordering::SeqCst) {
                tags.waiting.remove(&tag);
                return Err(Error::Hungup);
            }
            if tags.reading {
                ctx.sleep(&self.replied, &mut tags)?;
                continue;
            }
            tags.reading = true;
            drop(tags);
            let outcome = self.read_replies(ctx);
            tags = self.tags.lock();
            tags.reading = false;
            // Those whose replies came, and one to read next if others still wait.
            self.replied.wakeup();
            if let Err(error) = outcome {
                if error.is_interrupt() {
                    return Err(error);
                }
                // A connection that ended or cannot be framed any more.
                self.hungup.store(true, Ordering::SeqCst);
                tags.waiting.remove(&tag);
                return Err(Error::Hungup);
            }
        }
    }

    /// Reads until at least one whole reply has been delivered (Plan 9 `mntrpcread`); the
    /// caller has the reader's role. A reply cut short by an interrupt stays in `input`.
    fn read_replies(&self, ctx: &Ctx) -> Result<()> {
        let mut input = self.input.lock();
        let input = &mut *input;
        loop {
            let mut delivered = false;
            while input.buf.len() - input.start >= 4 {
                let at = input.start;
                let size = u32::from_le_bytes([
                    input.buf[at],
                    input.buf[at + 1],
                    input.buf[at + 2],
                    input.buf[at + 3],
                ]);
                if (size as usize) < HEADER || size > self.msize {
                    return Err(Error::msg(format!(
                        "bad 9P message size {size} (msize {})",
                        self.msize
                    )));
                }
                let end = at + size as usize;
                if input.buf.len() < end {
                    break;
                }
                let fcall = Fcall::decode(&input.buf[at..end], self.msize)
                    .map_err(|error| Error::msg(format!("9P: {error}")))?;
                input.start = end;
                self.deliver(fcall);
                delivered = true;
            }
            if input.start == input.buf.len() {
                input.buf.clear();
                input.start = 0;
            }
            if delivered {
                return Ok(());
            }
            if input.start > 0 {
                input.buf.drain(..input.start);
                input.start = 0;
            }
            let have = input.buf.len();
            input.buf.resize(have + self.msize as usize, 0);
            let outcome = self.transport.read_for(ctx, &mut input.buf[have..]);
            input.buf.truncate(have + *outcome.as_ref().unwrap_or(&0));
            match outcome? {
                0 if have == 0 => return Err(Error::Hungup),
                0 => return Err(Error::msg("connection closed in the middle of a message")),
                _ => {}
            }
        }
    }

    /// Hands a reply to the request waiting for it.
    fn deliver(&self, fcall: Fcall) {
        if self.trace {
            trace("<-", &format!("mnt{}", self.id), &fcall);
        }
        let mut tags = self.tags.lock();
        // A flushed request's tag is free once its reply or the Rflush is in.
        if let Some(oldtag) = tags.flushes.remove(&fcall.tag) {
            tags.discard.remove(&oldtag);
        }
        if tags.discard.remove(&fcall.tag) {
            return;
        }
        if let Some(slot) = tags.waiting.get_mut(&fcall.tag) {
            *slot = Some(fcall);
        }
    }

    /// Tells the server to forget request `oldtag` (Plan 9 `mntflush`), without waiting: its
    /// reply, if it comes, is dropped, and its tag stays in use until that reply or the
    /// Rflush is read.
    fn flush(&self, oldtag: u16) {
        let mut tags = self.tags.lock();
        match tags.waiting.remove(&oldtag) {
            // Already answered: nothing to flush.
            Some(Some(_)) | None => return,
            Some(None) => {
                tags.discard.insert(oldtag);
            }
        }
        drop(tags);
        let Ok(tag) = self.alloc_tag(true) else {
            return;
        };
        self.tags.lock().flushes.insert(tag, oldtag);
        if self
            .write(&Fcall::new(tag, Msg::Tflush { oldtag }))
            .is_err()
        {
            let mut tags = self.tags.lock();
            tags.flushes.remove(&tag);
            tags.discard.remove(&tag);
        }
    }
}

/// The mount driver device.
#[derive(Default)]
pub struct MountDriver;

impl MountDriver {
    pub fn new() -> MountDriver {
        MountDriver
    }
}

fn file(chan: &Chan) -> Result<&MntFile> {
    chan.aux::<MntFile>().ok_or(Error::Hungup)
}

/// The connection under a chan of `#M`, if it is one (for `unmount` by name).
pub fn connection_of(chan: &Chan) -> Option<Arc<Chan>> {
    chan.aux::<MntFile>()
        .and_then(|file| file.session.0.connection.clone())
}

/// Reads the answer to Tversion. A connection that outlived an earlier session (a serial
/// line, a pipe kept open) may still carry that session's last replies, and the last one may
/// have been cut short when its reader stopped: whole replies are skipped, and where the
/// bytes do not frame as a reply the search moves on by one byte. Reads are exact, so nothing
/// after the answer is consumed.
fn version_reply(transport: &dyn Transport) -> Result<Fcall> {
    const RVERSION: u8 = 101;
    const RERROR: u8 = 107;
    let mut buf = vec![0u8; HEADER];
    if !read_exact(transport, &mut buf)? {
        return Err(Error::Hungup);
    }
    let mut skipped = 0;
    loop {
        let size = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let kind = buf[4];
        let tag = u16::from_le_bytes([buf[5], buf[6]]);
        // R-messages have odd types from Rversion to Rwstat, and Rerror is the only 107.
        let framed = (HEADER as u32..=MSIZE).contains(&size)
            && kind % 2 == 1
            && (RVERSION..=127).contains(&kind);
        if framed {
            let mut message = buf.clone();
            message.resize(size as usize, 0);
            if !read_exact(transport, &mut message[HEADER..])? {
                return Err(Error::Hungup);
            }
            if tag == NOTAG
                && (kind == RVERSION || kind == RERROR)
                && let Ok(reply) = Fcall::decode(&message, MSIZE)
            {
                return Ok(reply);
            }
            skipped += message.len();
            if skipped > STALE_BYTES {
                break;
            }
            if !read_exact(transport, &mut buf)? {
                return Err(Error::Hungup);
            }
            continue;
        }
        skipped += 1;
        if skipped > STALE_BYTES {
            break;
        }
        buf.remove(0);
        let mut next = [0u8; 1];
        if !read_exact(transport, &mut next)? {
            return Err(Error::Hungup);
        }
        buf.push(next[0]);
    }
    Err(Error::msg(
        "9P: no answer to Tversion (the connection carries something else)",
    ))
}

/// Starts a 9P session on `transport` and attaches `aname`: the root of the served tree, a
/// chan of `#M` named `name` (Plan 9 `mntattach`).
pub fn attach(
    ctx: &Ctx,
    transport: Arc<dyn Transport>,
    connection: Option<Arc<Chan>>,
    name: &str,
    aname: &str,
) -> Result<Chan> {
    let device = ctx
        .kernel()
        .device('M')
        .ok_or_else(|| Error::msg("no mount driver"))?;
    let trace = tracing();
    // Version: the only request made before the reader runs.
    let version = Fcall::new(
        NOTAG,
        Msg::Tversion {
            msize: MSIZE,
            version: "9P2000".into(),
        },
    );
    if trace {
        crate::transport::trace("->", "mnt", &version);
    }
    transport.write(&version.to_bytes())?;
    let reply = version_reply(transport.as_ref())?;
    if trace {
        crate::transport::trace("<-", "mnt", &reply);
    }
    let msize = match reply.msg {
        Msg::Rversion { msize, version } if version == "9P2000" => {
            if !(256..=MSIZE).contains(&msize) {
                return Err(Error::msg(format!(
                    "9P: server's msize {msize} is unusable"
                )));
            }
            msize
        }
        Msg::Rversion { version, .. } => {
            return Err(Error::msg(format!(
                "9P: server speaks {version}, not 9P2000"
            )));
        }
        Msg::Rerror { ename } => return Err(Error::msg(format!("9P: version: {ename}"))),
        other => {
            return Err(Error::msg(format!(
                "9P: unexpected {} to Tversion",
                other.name()
            )));
        }
    };
    let session = Arc::new(Session {
        id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
        transport,
        connection,
        name: name.to_string(),
        msize,
        tags: Mutex::new(Tags::default()),
        replied: Rendez::new(),
        next_fid: AtomicU32::new(1),
        hungup: AtomicBool::new(false),
        input: Mutex::new(Input::default()),
        trace,
    });
    let holder = Arc::new(SessionRef(session.clone()));
    let fid = session.alloc_fid();
    let user = ctx.user();
    let reply = session.rpc(
        ctx,
        Msg::Tattach {
            fid,
            afid: NOFID,
            uname: user,
            aname: aname.to_string(),
        },
    )?;
    let Msg::Rattach { qid } = reply else {
        return Err(Error::msg("9P: bad attach reply"));
    };
    let root = MntFile {
        session: holder,
        fid,
        iounit: msize - IOHDRSZ,
        clunked: AtomicBool::new(false),
    };
    Ok(Chan::new(
        device,
        session.id,
        qid,
        Some(Arc::new(root)),
        Arc::from(name),
    ))
}

impl MountDriver {
    /// A new fid for the same file (a walk of no names).
    fn clone_fid(&self, ctx: &Ctx, chan: &Chan) -> Result<MntFile> {
        let file = file(chan)?;
        let session = &file.session.0;
        let newfid = session.alloc_fid();
        session.rpc(
            ctx,
            Msg::Twalk {
                fid: file.fid,
                newfid,
                wnames: Vec::new(),
            },
        )?;
        Ok(MntFile {
            session: file.session.clone(),
            fid: newfid,
            iounit: file.iounit,
            clunked: AtomicBool::new(false),
        })
    }

    fn iounit(session: &Session, offered: u32) -> u32 {
        let limit = session.msize - IOHDRSZ;
        if offered == 0 || offered > limit {
            limit
        } else {
            offered
        }
    }
}

impl Device for MountDriver {
    fn letter(&self) -> char {
        'M'
    }

    fn name(&self) -> &'static str {
        "mnt"
    }

    fn attach(&self, _ctx: &Ctx, _spec: &str) -> Result<Attached> {
        Err(Error::NoAttach)
    }

    fn entry(&self, _ctx: &Ctx, _dir: &Chan, _index: usize) -> Result<Option<Dir>> {
        Ok(None)
    }

    fn walk(&self, ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let file = file(chan)?;
        let session = &file.session.0;
        let newfid = session.alloc_fid();
        let reply = session.rpc(
            ctx,
            Msg::Twalk {
                fid: file.fid,
                newfid,
                wnames: vec![name.to_string()],
            },
        )?;
        let Msg::Rwalk { wqids } = reply else {
            return Err(Error::msg("9P: bad walk reply"));
        };
        let [qid] = wqids.as_slice() else {
            // Only a whole walk makes newfid, so there is nothing to clunk.
            return Err(Error::NotExist);
        };
        let walked = MntFile {
            session: file.session.clone(),
            fid: newfid,
            iounit: file.iounit,
            clunked: AtomicBool::new(false),
        };
        Ok(chan.walked_with(*qid, Some(Arc::new(walked))))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let file = file(chan)?;
        match file.session.0.rpc(ctx, Msg::Tstat { fid: file.fid })? {
            Msg::Rstat { mut stat } => {
                stat.ty = 'M' as u16;
                stat.dev = chan.devno as u32;
                Ok(stat)
            }
            _ => Err(Error::msg("9P: bad stat reply")),
        }
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let opened = self.clone_fid(ctx, &chan)?;
        let session = opened.session.0.clone();
        let reply = session.rpc(
            ctx,
            Msg::Topen {
                fid: opened.fid,
                mode,
            },
        )?;
        let Msg::Ropen { qid, iounit } = reply else {
            return Err(Error::msg("9P: bad open reply"));
        };
        let mut opened = opened;
        opened.iounit = Self::iounit(&session, iounit);
        let mut chan = chan.walked_with(qid, Some(Arc::new(opened)));
        *chan.dir_cursor.get_mut() = DirCursor::default();
        Ok(chan.opened(mode))
    }

    fn create(&self, ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        let made = self.clone_fid(ctx, dir)?;
        let session = made.session.0.clone();
        let reply = session.rpc(
            ctx,
            Msg::Tcreate {
                fid: made.fid,
                name: name.to_string(),
                perm,
                mode,
            },
        )?;
        let Msg::Rcreate { qid, iounit } = reply else {
            return Err(Error::msg("9P: bad create reply"));
        };
        let mut made = made;
        made.iounit = Self::iounit(&session, iounit);
        Ok(dir.child(qid, Some(Arc::new(made)), name).opened(mode))
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let file = file(chan)?;
        let session = &file.session.0;
        let mut done = 0;
        while done < buf.len() {
            let want = (buf.len() - done).min(file.iounit as usize) as u32;
            let reply = session.rpc(
                ctx,
                Msg::Tread {
                    fid: file.fid,
                    offset: offset + done as u64,
                    count: want,
                },
            )?;
            let Msg::Rread { data } = reply else {
                return Err(Error::msg("9P: bad read reply"));
            };
            let count = data.len().min(buf.len() - done);
            buf[done..done + count].copy_from_slice(&data[..count]);
            done += count;
            if count < want as usize {
                break;
            }
        }
        Ok(done)
    }

    fn dirread(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        // Directory reads pass the server's stat records through, one request at a time, so
        // records are never split.
        let file = file(chan)?;
        let want = buf.len().min(file.iounit as usize) as u32;
        let reply = file.session.0.rpc(
            ctx,
            Msg::Tread {
                fid: file.fid,
                offset,
                count: want,
            },
        )?;
        let Msg::Rread { data } = reply else {
            return Err(Error::msg("9P: bad read reply"));
        };
        let count = data.len().min(buf.len());
        buf[..count].copy_from_slice(&data[..count]);
        fix_dir_records(&mut buf[..count], chan.devno as u32);
        Ok(count)
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], offset: u64) -> Result<usize> {
        let file = file(chan)?;
        let session = &file.session.0;
        let mut done = 0;
        // A zero-length write is still one message (it means something to some servers).
        loop {
            let piece = &data[done..(done + file.iounit as usize).min(data.len())];
            let reply = session.rpc(
                ctx,
                Msg::Twrite {
                    fid: file.fid,
                    offset: offset + done as u64,
                    data: piece.to_vec(),
                },
            )?;
            let Msg::Rwrite { count } = reply else {
                return Err(Error::msg("9P: bad write reply"));
            };
            let count = (count as usize).min(piece.len());
            done += count;
            if count < piece.len() || done >= data.len() {
                return Ok(done);
            }
        }
    }

    fn remove(&self, ctx: &Ctx, chan: &Chan) -> Result<()> {
        let file = file(chan)?;
        // The server clunks the fid whatever happens.
        file.clunked.store(true, Ordering::SeqCst);
        file.session.0.rpc(ctx, Msg::Tremove { fid: file.fid })?;
        Ok(())
    }

    fn wstat(&self, ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let file = file(chan)?;
        file.session.0.rpc(
            ctx,
            Msg::Twstat {
                fid: file.fid,
                stat: dir.clone(),
            },
        )?;
        Ok(())
    }
}

impl Session {
    /// What `ns` shows as the source of this mount.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Marks each stat record of a directory read as a file of this mount (Plan 9
/// `mntdirfix`): type `M`, dev the session.
fn fix_dir_records(data: &mut [u8], devno: u32) {
    let mut offset = 0;
    while offset + 8 <= data.len() {
        let size = u16::from_le_bytes([data[offset], data[offset + 1]]) as usize;
        if offset + 2 + size > data.len() || size < 6 {
            return;
        }
        data[offset + 2..offset + 4].copy_from_slice(&('M' as u16).to_le_bytes());
        data[offset + 4..offset + 8].copy_from_slice(&devno.to_le_bytes());
        offset += 2 + size;
    }
}

/// What `ns` shows for a chan of `#M`: the name of its connection.
pub fn mount_source(chan: &Chan) -> Option<String> {
    chan.aux::<MntFile>()
        .map(|file| file.session.0.name().to_string())
}
