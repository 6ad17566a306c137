//! The mount driver against `export`, over an in-memory connection: files read and written
//! through a mount, many requests at once, a Tflush sent when a waiting caller is interrupted,
//! and a hung-up server failing pending and later calls instead of hanging.

use kernel::dev::{Attached, Device, dir_entry};
use kernel::export::{ExportOptions, serve};
use kernel::memfs::MemFs;
use kernel::mnt::MountDriver;
use kernel::namespace::Access;
use kernel::transport::{Transport, memory};
use kernel::{Chan, Ctx, Dir, Error, Kernel, MREPL, Qid, Rendez};
use ninep::{Fcall, ORDWR, OREAD};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A device whose one file, `wait`, blocks every read until the reader is interrupted.
struct Blocking;

impl Device for Blocking {
    fn letter(&self) -> char {
        'B'
    }
    fn name(&self) -> &'static str {
        "blocking"
    }
    fn attach(&self, _ctx: &Ctx, _spec: &str) -> kernel::Result<Attached> {
        Ok(Attached::root(Qid::dir(0)))
    }
    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> kernel::Result<Option<Dir>> {
        Ok((dir.qid.path == 0 && index == 0)
            .then(|| dir_entry(dir, Qid::file(1), "wait", 0, &ctx.user(), 0o666)))
    }
    fn stat(&self, ctx: &Ctx, chan: &Chan) -> kernel::Result<Dir> {
        let name = if chan.qid.path == 0 { "#B" } else { "wait" };
        Ok(dir_entry(chan, chan.qid, name, 0, &ctx.user(), 0o777))
    }
    fn read(
        &self,
        ctx: &Ctx,
        _chan: &Chan,
        _buf: &mut [u8],
        _offset: u64,
    ) -> kernel::Result<usize> {
        let rendez = Rendez::new();
        let lock = parking_lot::Mutex::new(());
        let mut guard = lock.lock();
        loop {
            ctx.sleep(&rendez, &mut guard)?;
        }
    }
    fn write(&self, _ctx: &Ctx, _chan: &Chan, data: &[u8], _offset: u64) -> kernel::Result<usize> {
        Ok(data.len())
    }
}

/// A client transport that remembers the name of every message it sends.
struct Recording {
    inner: memory::End,
    sent: Mutex<Vec<String>>,
}

impl Transport for Recording {
    fn read(&self, buf: &mut [u8]) -> kernel::Result<usize> {
        self.inner.read(buf)
    }
    fn read_for(&self, ctx: &Ctx, buf: &mut [u8]) -> kernel::Result<usize> {
        self.inner.read_for(ctx, buf)
    }
    fn write(&self, data: &[u8]) -> kernel::Result<()> {
        if let Ok(fcall) = Fcall::decode(data, 1 << 20) {
            self.sent.lock().push(fcall.msg.name().to_string());
        }
        self.inner.write(data)
    }
}

struct Setup {
    ctx: Ctx,
    recording: Arc<Recording>,
}

/// One kernel: an in-memory tree exported on one end of a connection, and mounted from the
/// other end on `/n`.
fn setup() -> Setup {
    let kernel = Kernel::new("glenda", "test");
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    kernel.register(Arc::new(Blocking)).unwrap();
    kernel.register(Arc::new(MountDriver::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("test", "glenda"));
    let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root);
    fs.add("root", "share/hello", Some("hello, world\n"));
    fs.add("root", "share/block", None);
    fs.add("root", "n", None);
    ctx.bind("#B", "/share/block", MREPL).unwrap();
    let (client, server) = memory::pair();
    let server_ctx = ctx.clone();
    std::thread::spawn(move || {
        let _ = serve(
            &server_ctx,
            "/share",
            Arc::new(server),
            ExportOptions::default(),
        );
    });
    let recording = Arc::new(Recording {
        inner: client,
        sent: Mutex::new(Vec::new()),
    });
    let root = kernel::mnt::attach(&ctx, recording.clone(), None, "test", "").unwrap();
    let target = ctx.ns().resolve(&ctx, "/n", Access::Mount).unwrap().chan;
    ctx.ns().mount_chan(root, None, target, MREPL, "").unwrap();
    Setup { ctx, recording }
}

fn cat(ctx: &Ctx, path: &str) -> kernel::Result<String> {
    Ok(String::from_utf8(ctx.read_file(path, 1 << 20)?).unwrap())
}

#[test]
fn files_through_a_mount() {
    let Setup { ctx, .. } = setup();
    assert_eq!(cat(&ctx, "/n/hello").unwrap(), "hello, world\n");
    let names: Vec<String> = ctx
        .read_dir("/n")
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["hello", "block"]);
    let dir = ctx.stat("/n/hello").unwrap();
    assert_eq!((dir.ty, dir.length), ('M' as u16, 13));
    // A write larger than one message goes in pieces.
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    // The mount was made without MCREATE: no creates through it.
    let refused = ctx.create("/n/big", ninep::OWRITE, 0o644).unwrap_err();
    assert_eq!(refused.root(), &Error::NoCreate);
    let fd = ctx.create("/share/big", ninep::OWRITE, 0o666).unwrap();
    ctx.close(fd).unwrap();
    let fd = ctx.open("/n/big", ninep::OWRITE | ninep::OTRUNC).unwrap();
    ctx.write_all(fd, &big).unwrap();
    ctx.close(fd).unwrap();
    assert_eq!(ctx.read_file("/n/big", 1 << 20).unwrap(), big);
    assert_eq!(ctx.read_file("/share/big", 1 << 20).unwrap(), big);
    ctx.remove("/n/big").unwrap();
    assert_eq!(ctx.stat("/share/big").unwrap_err().root(), &Error::NotExist);
    // Errors from the server arrive as the kernel's own.
    assert_eq!(
        cat(&ctx, "/n/missing").unwrap_err().root(),
        &Error::NotExist
    );
}

#[test]
fn an_interrupted_caller_flushes_its_request() {
    let Setup { ctx, recording } = setup();
    let reader = ctx
        .spawn("reader", kernel::FdTable::new(), |ctx| {
            let fd = ctx
                .open("/n/block/wait", OREAD)
                .map_err(|e| e.to_string())?;
            let mut buf = [0u8; 10];
            ctx.read(fd, &mut buf).map(drop).map_err(|e| e.to_string())
        })
        .unwrap();
    let started = Instant::now();
    while !recording.sent.lock().iter().any(|name| name == "Tread") {
        assert!(started.elapsed() < Duration::from_secs(5), "no Tread sent");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(20));
    reader.interrupt();
    let status = reader.wait_exit(&ctx).unwrap();
    assert_eq!(status, "interrupted");
    assert!(recording.sent.lock().iter().any(|name| name == "Tflush"));
    // The connection is still good.
    assert_eq!(cat(&ctx, "/n/hello").unwrap(), "hello, world\n");
}

#[test]
fn many_callers_at_once() {
    let Setup { ctx, .. } = setup();
    let mut readers = Vec::new();
    for _ in 0..16 {
        readers.push(
            ctx.spawn("reader", kernel::FdTable::new(), |ctx| {
                for _ in 0..20 {
                    let text = ctx.read_file("/n/hello", 100).map_err(|e| e.to_string())?;
                    if text != b"hello, world\n" {
                        return Err("wrong data".into());
                    }
                }
                Ok(())
            })
            .unwrap(),
        );
    }
    for reader in readers {
        assert_eq!(reader.wait_exit(&ctx).unwrap(), "");
    }
}

#[test]
fn a_hung_up_server_fails_calls_instead_of_hanging() {
    let Setup { ctx, recording } = setup();
    let chan = ctx.open_chan("/n/block/wait", ORDWR).unwrap();
    let blocked = {
        let ctx = ctx.clone();
        let chan = chan.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 10];
            ctx.read_chan(&chan, &mut buf, 0)
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    recording.inner.hang_up();
    assert_eq!(blocked.join().unwrap(), Err(Error::Hungup));
    assert_eq!(cat(&ctx, "/n/hello").unwrap_err().root(), &Error::Hungup);
    let mut buf = [0u8; 1];
    assert_eq!(ctx.read_chan(&chan, &mut buf, 0), Err(Error::Hungup));
}

#[test]
fn unmount_by_connection_name() {
    let Setup { ctx, .. } = setup();
    assert!(ctx.ns().describe().contains("mount test /n"));
    ctx.unmount(None, "/n").unwrap();
    assert!(ctx.read_dir("/n").unwrap().is_empty());
}

/// A connection that outlived an earlier session (a serial line mounted again) may still
/// carry that session's last bytes, the first of them cut mid-message: a new mount skips
/// them, whole replies at a time, and finds the answer to its Tversion.
#[test]
fn a_new_session_skips_what_an_old_one_left_on_the_line() {
    let kernel = Kernel::new("glenda", "test");
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    kernel.register(Arc::new(MountDriver::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("test", "glenda"));
    fs.add("root", "hello", Some("hello, world\n"));
    let (client, server) = memory::pair();
    let mut stale = vec![0x00, 0x78, 0x03];
    // A whole Rclunk.
    stale.extend([7, 0, 0, 0, 121, 5, 0]);
    // A whole Rread whose data looks like an Rversion naming another protocol: a search that
    // went byte by byte through it would stop there.
    let fake = Fcall::new(
        ninep::NOTAG,
        ninep::Msg::Rversion {
            msize: 8192,
            version: "9P2000.bogus".into(),
        },
    )
    .to_bytes();
    stale.extend(Fcall::new(9, ninep::Msg::Rread { data: fake }).to_bytes());
    server.write(&stale).unwrap();
    let server_ctx = ctx.clone();
    let root_chan = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root_chan);
    std::thread::spawn(move || {
        let _ = serve(&server_ctx, "/", Arc::new(server), ExportOptions::default());
    });
    fs.add("root", "n", None);
    let root = kernel::mnt::attach(&ctx, Arc::new(client), None, "test", "").unwrap();
    let target = ctx.ns().resolve(&ctx, "/n", Access::Mount).unwrap().chan;
    ctx.ns().mount_chan(root, None, target, MREPL, "").unwrap();
    assert_eq!(cat(&ctx, "/n/hello").unwrap(), "hello, world\n");
}

/// Bytes that never frame as the answer to Tversion end the search with an error, after a
/// bounded number of them.
#[test]
fn a_line_of_noise_fails_the_mount() {
    let kernel = Kernel::new("glenda", "test");
    kernel.register(Arc::new(MountDriver::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("test", "glenda"));
    let (client, server) = memory::pair();
    let noise: Vec<u8> = (0..2 << 20u32).map(|i| (i * 7 + 3) as u8 | 0x80).collect();
    server.write(&noise).unwrap();
    let error = kernel::mnt::attach(&ctx, Arc::new(client), None, "test", "").unwrap_err();
    assert!(
        error.to_string().contains("no answer to Tversion"),
        "{error}"
    );
    drop(server);
}

/// Replies are read by the processes waiting for them: whichever of two blocked readers is
/// reading for both, interrupting it leaves the connection readable for the other and for
/// new callers.
#[test]
fn an_interrupted_reader_leaves_the_connection_to_the_others() {
    let Setup { ctx, recording } = setup();
    let blocked = |name: &str| {
        ctx.spawn(name, kernel::FdTable::new(), |ctx| {
            let fd = ctx
                .open("/n/block/wait", OREAD)
                .map_err(|e| e.to_string())?;
            let mut buf = [0u8; 10];
            ctx.read(fd, &mut buf).map(drop).map_err(|e| e.to_string())
        })
        .unwrap()
    };
    let first = blocked("first");
    let second = blocked("second");
    let started = Instant::now();
    while recording
        .sent
        .lock()
        .iter()
        .filter(|name| *name == "Tread")
        .count()
        < 2
    {
        assert!(started.elapsed() < Duration::from_secs(5), "no Treads sent");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(20));
    first.interrupt();
    assert_eq!(first.wait_exit(&ctx).unwrap(), "interrupted");
    for _ in 0..3 {
        assert_eq!(cat(&ctx, "/n/hello").unwrap(), "hello, world\n");
    }
    second.interrupt();
    assert_eq!(second.wait_exit(&ctx).unwrap(), "interrupted");
    assert_eq!(cat(&ctx, "/n/hello").unwrap(), "hello, world\n");
    let flushes = recording
        .sent
        .lock()
        .iter()
        .filter(|name| *name == "Tflush")
        .count();
    assert_eq!(flushes, 2);
}
