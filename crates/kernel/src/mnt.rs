//! The mount driver, `#M` (Plan 9 `devmnt.c`): a 9P2000 client presented as a device, so a
//! tree served by any 9P server, over any stream, can be mounted in a namespace.
//!
//! One `Session` per connection: a version exchange, then one reader thread matching replies
//! to requests by tag, so many processes can have requests outstanding at once. Each chan
//! holds its own fid; opening or creating first clones it (a walk of no names), so the
//! unopened chan stays usable. A caller interrupted while waiting sends a Tflush for its
//! request. When the server hangs up, every pending and later request fails with "i/o on
//! hungup channel" instead of waiting.
//!
//! Invariants: replies are read with the negotiated msize as their bound; a reply whose tag
//! is unknown is dropped; a session is torn down (its reader stopped, its connection closed)
//! when the last chan of it goes; `#M` cannot be attached by name.

use crate::chan::{Chan, DirCursor};
use crate::dev::{Attached, Device};
use crate::error::{Error, Result};
use crate::proc::{Ctx, Interrupt, Rendez};
use crate::transport::{Transport, read_exact, read_message, trace, tracing};
use ninep::{Dir, Fcall, HEADER, IOHDRSZ, Msg, NOFID, NOTAG};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The msize a mount proposes.
pub const MSIZE: u32 = 65536 + IOHDRSZ;
/// How long an interrupted request waits for the server to acknowledge its flush.
const FLUSH_WAIT: Duration = Duration::from_secs(10);
/// How long the end of a session waits for its reader to stop.
const READER_STOP_WAIT: Duration = Duration::from_millis(500);

/// How many bytes left over from an earlier session on the same connection `attach` skips
/// while it looks for the answer to Tversion.
const STALE_BYTES: usize = 16 * MSIZE as usize;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
struct Tags {
    next: u16,
    /// Requests waiting for replies, and the replies once read.
    waiting: HashMap<u16, Option<Fcall>>,
    /// Tags whose replies nobody waits for (clunks, flushed requests).
    discard: HashSet<u16>,
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
    reader_intr: Arc<Interrupt>,
    /// Set by the reader as it stops.
    reader_stopped: Mutex<bool>,
    reader_gone: parking_lot::Condvar,
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
        self.reader_intr.kill();
        self.transport.hang_up();
        self.replied.wakeup();
        // The connection may outlive the session (a serial line mounted again): wait, briefly,
        // for the reader to stop so it cannot take bytes meant for the next session.
        let mut stopped = self.reader_stopped.lock();
        if !*stopped {
            let _ = self.reader_gone.wait_for(&mut stopped, READER_STOP_WAIT);
        }
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
            return Err(error);
        }
        let mut tags = self.tags.lock();
        let reply = loop {
            if let Some(Some(_)) = tags.waiting.get(&tag) {
                break tags.waiting.remove(&tag).flatten();
            }
            if self.hungup.load(Ordering::SeqCst) {
                tags.waiting.remove(&tag);
                return Err(Error::Hungup);
            }
            if let Err(error) = ctx.sleep(&self.replied, &mut tags) {
                drop(tags);
                self.flush(tag);
                return Err(error);
            }
        };
        drop(tags);
        match reply.map(|fcall| fcall.msg) {
            Some(Msg::Rerror { ename }) => Err(Error::parse(&ename)),
            Some(reply) if reply.type_byte() == expected => Ok(reply),
            Some(reply) => Err(Error::msg(format!("9P: unexpected {} reply", reply.name()))),
            None => Err(Error::Hungup),
        }
    }

    /// Tells the server to forget request `oldtag` (Plan 9 `mntflush`): its reply, if it
    /// comes, is dropped; the tag is free again once Rflush or that reply arrives.
    fn flush(&self, oldtag: u16) {
        {
            let mut tags = self.tags.lock();
            match tags.waiting.remove(&oldtag) {
                // Already answered: nothing to flush.
                Some(Some(_)) | None => return,
                Some(None) => {
                    tags.discard.insert(oldtag);
                }
            }
        }
        let Ok(tag) = self.alloc_tag(false) else {
            return;
        };
        if self
            .write(&Fcall::new(tag, Msg::Tflush { oldtag }))
            .is_err()
        {
            self.tags.lock().waiting.remove(&tag);
            return;
        }
        let deadline = Instant::now() + FLUSH_WAIT;
        let mut tags = self.tags.lock();
        while !matches!(tags.waiting.get(&tag), Some(Some(_)))
            && !self.hungup.load(Ordering::SeqCst)
            && Instant::now() < deadline
        {
            self.replied_wait(&mut tags);
        }
        tags.waiting.remove(&tag);
    }

    fn replied_wait(&self, tags: &mut parking_lot::MutexGuard<'_, Tags>) {
        // The reader wakes everyone on each reply; the timeout bounds a lost wakeup.
        let _ = self
            .replied
            .condvar()
            .wait_for(tags, Duration::from_millis(100));
    }

    /// The reader: matches each reply to its request until the connection ends.
    fn read_replies(self: Arc<Session>) {
        while let Ok(Some(bytes)) = read_message(self.transport.as_ref(), self.msize) {
            let Ok(fcall) = Fcall::decode(&bytes, self.msize) else {
                // A reply that cannot be understood: the stream cannot be trusted.
                break;
            };
            if self.trace {
                trace("<-", &format!("mnt{}", self.id), &fcall);
            }
            let mut tags = self.tags.lock();
            if tags.discard.remove(&fcall.tag) {
                continue;
            }
            if let Some(slot) = tags.waiting.get_mut(&fcall.tag) {
                *slot = Some(fcall);
                drop(tags);
                self.replied.wakeup();
            }
        }
        self.hungup.store(true, Ordering::SeqCst);
        self.replied.wakeup();
        *self.reader_stopped.lock() = true;
        self.reader_gone.notify_all();
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
    let reader_proc = ctx.kernel().kproc("mnt", ctx.ns());
    let reader_intr = reader_proc.intr.clone();
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
        reader_intr,
        reader_stopped: Mutex::new(false),
        reader_gone: parking_lot::Condvar::new(),
        trace,
    });
    let reader = session.clone();
    std::thread::Builder::new()
        .name("mnt-reader".into())
        .stack_size(256 << 10)
        .spawn(move || reader.read_replies())
        .map_err(|error| Error::msg(format!("cannot start the 9P reader: {error}")))?;
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
