//! `export` over an in-memory tree: flushes of blocked reads, and hostile input (malformed
//! sizes, unknown types, strings past the end, too many walk elements, unknown and reused
//! fids, reads larger than msize, garbage). The server must answer Rerror or close that one
//! connection, never panic, hang or grow, and other connections must keep working.

use kernel::dev::{Attached, Device, dir_entry};
use kernel::export::{ExportOptions, serve};
use kernel::memfs::MemFs;
use kernel::transport::{Transport, memory};
use kernel::{Chan, Ctx, Dir, Kernel, Qid, Rendez};
use ninep::{Fcall, Msg, NOFID, NOTAG};
use std::sync::Arc;
use std::time::Duration;

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
        Ok(dir_entry(
            chan,
            chan.qid,
            if chan.qid.path == 0 { "#B" } else { "wait" },
            0,
            &ctx.user(),
            0o777,
        ))
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

fn kernel_with_tree() -> Ctx {
    kernel_with_limits(kernel::Limits::default()).1
}

/// A client end connected to a fresh server thread exporting `/share`.
struct Client {
    end: memory::End,
    server: std::thread::JoinHandle<kernel::Result<()>>,
}

impl Client {
    fn connect(ctx: &Ctx) -> Client {
        Client::connect_with(ctx, ExportOptions::default()).0
    }

    /// Connects to a server with `options`; also returns the server's end of the stream, so
    /// a test can see when the server has let go of it.
    fn connect_with(ctx: &Ctx, options: ExportOptions) -> (Client, Arc<dyn Transport>) {
        let (ours, theirs) = memory::pair();
        let theirs: Arc<dyn Transport> = Arc::new(theirs);
        let ctx = ctx.clone();
        let transport = theirs.clone();
        let server = std::thread::spawn(move || serve(&ctx, "/share", transport, options));
        (Client { end: ours, server }, theirs)
    }

    fn send_raw(&self, bytes: &[u8]) {
        self.end.write(bytes).unwrap();
    }

    fn send(&self, tag: u16, msg: Msg) {
        self.send_raw(&Fcall::new(tag, msg).to_bytes());
    }

    fn recv(&self) -> Option<Fcall> {
        let bytes = kernel::transport::read_message(&self.end, 1 << 20).ok()??;
        Some(Fcall::decode(&bytes, 1 << 20).unwrap())
    }

    fn rpc(&self, tag: u16, msg: Msg) -> Msg {
        self.send(tag, msg);
        let reply = self.recv().expect("a reply");
        assert_eq!(reply.tag, tag);
        reply.msg
    }

    fn start(&self) {
        let reply = self.rpc(
            NOTAG,
            Msg::Tversion {
                msize: 8192 + 24,
                version: "9P2000".into(),
            },
        );
        assert!(matches!(reply, Msg::Rversion { .. }), "{reply:?}");
        let reply = self.rpc(
            1,
            Msg::Tattach {
                fid: 0,
                afid: NOFID,
                uname: "glenda".into(),
                aname: String::new(),
            },
        );
        assert!(matches!(reply, Msg::Rattach { .. }), "{reply:?}");
    }

    /// Opens fid 1 on `block/wait` (whose reads block) and fid 2 on `hello`.
    fn open_block_and_hello(&self) {
        for (tag, fid, names) in [(2, 1, vec!["block", "wait"]), (3, 2, vec!["hello"])] {
            let reply = self.rpc(
                tag,
                Msg::Twalk {
                    fid: 0,
                    newfid: fid,
                    wnames: names.into_iter().map(String::from).collect(),
                },
            );
            assert!(matches!(reply, Msg::Rwalk { .. }), "{reply:?}");
            assert!(matches!(
                self.rpc(tag, Msg::Topen { fid, mode: 0 }),
                Msg::Ropen { .. }
            ));
        }
    }

    fn hang_up(self) -> kernel::Result<()> {
        self.end.hang_up();
        self.server.join().expect("the server must not panic")
    }
}

fn error_text(msg: Msg) -> String {
    match msg {
        Msg::Rerror { ename } => ename,
        other => panic!("expected Rerror, got {other:?}"),
    }
}

#[test]
fn bodies_that_lie_get_rerror_and_the_session_goes_on() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    // A Twalk whose name length runs past the end of the message.
    let mut lying = Fcall::new(
        7,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["hello".into()],
        },
    )
    .to_bytes();
    let name_length_at = 4 + 1 + 2 + 4 + 4 + 2;
    lying[name_length_at] = 200;
    client.send_raw(&lying);
    let reply = client.recv().unwrap();
    assert_eq!(reply.tag, 7);
    assert!(error_text(reply.msg).contains("wname"));
    // Unknown message types, including Terror.
    for ty in [0u8, 106, 99, 200, 255] {
        client.send_raw(&[7, 0, 0, 0, ty, 9, 0]);
        let reply = client.recv().unwrap();
        assert_eq!(reply.tag, 9);
        assert!(error_text(reply.msg).contains("type"));
    }
    // A reply message sent as a request.
    let reply = client.rpc(10, Msg::Rclunk);
    assert_eq!(error_text(reply), "unexpected reply message");
    // More than 16 names in a walk.
    let mut many = Fcall::new(
        11,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["x".into(); 16],
        },
    )
    .to_bytes();
    many[15] = 17;
    many.extend_from_slice(&[1, 0, b'x']);
    let size = many.len() as u32;
    many[..4].copy_from_slice(&size.to_le_bytes());
    client.send_raw(&many);
    let reply = client.recv().unwrap();
    assert!(error_text(reply.msg).contains("nwname"));
    // Still serving.
    let reply = client.rpc(
        12,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["hello".into()],
        },
    );
    assert!(
        matches!(reply, Msg::Rwalk { ref wqids } if wqids.len() == 1),
        "{reply:?}"
    );
    client.hang_up().unwrap();
}

#[test]
fn unknown_and_reused_fids() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    assert_eq!(
        error_text(client.rpc(2, Msg::Tstat { fid: 99 })),
        "unknown fid"
    );
    assert_eq!(
        error_text(client.rpc(3, Msg::Tclunk { fid: 99 })),
        "unknown fid"
    );
    let reused = client.rpc(
        4,
        Msg::Tattach {
            fid: 0,
            afid: NOFID,
            uname: "x".into(),
            aname: String::new(),
        },
    );
    assert_eq!(error_text(reused), "fid in use");
    let walk_onto_existing = client.rpc(
        5,
        Msg::Twalk {
            fid: 0,
            newfid: 0,
            wnames: vec!["dir".into()],
        },
    );
    assert!(matches!(walk_onto_existing, Msg::Rwalk { .. }));
    let clone_onto_used = client.rpc(
        6,
        Msg::Twalk {
            fid: 0,
            newfid: 0,
            wnames: Vec::new(),
        },
    );
    assert!(matches!(clone_onto_used, Msg::Rwalk { .. }));
    assert_eq!(
        error_text(client.rpc(
            7,
            Msg::Tread {
                fid: 0,
                offset: 0,
                count: 10
            }
        )),
        "file not open"
    );
    client.hang_up().unwrap();
}

#[test]
fn walks_never_leave_the_exported_tree() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    // `..` at the root stays at the root.
    let reply = client.rpc(
        2,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["..".into(), "..".into(), "hello".into()],
        },
    );
    assert!(
        matches!(reply, Msg::Rwalk { ref wqids } if wqids.len() == 3),
        "{reply:?}"
    );
    // Names with slashes, empty names and `.` are refused.
    for bad in ["../share", "a/b", "", "."] {
        let reply = client.rpc(
            3,
            Msg::Twalk {
                fid: 0,
                newfid: 2,
                wnames: vec![bad.into()],
            },
        );
        assert_eq!(error_text(reply), "bad character in file name", "{bad:?}");
    }
    // A partial walk returns the qids it managed and makes no fid.
    let reply = client.rpc(
        4,
        Msg::Twalk {
            fid: 0,
            newfid: 3,
            wnames: vec!["dir".into(), "missing".into(), "deeper".into()],
        },
    );
    assert!(
        matches!(reply, Msg::Rwalk { ref wqids } if wqids.len() == 1),
        "{reply:?}"
    );
    assert_eq!(
        error_text(client.rpc(5, Msg::Tstat { fid: 3 })),
        "unknown fid"
    );
    client.hang_up().unwrap();
}

#[test]
fn reads_are_capped_at_msize() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    client.rpc(
        2,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["hello".into()],
        },
    );
    client.rpc(3, Msg::Topen { fid: 1, mode: 0 });
    let reply = client.rpc(
        4,
        Msg::Tread {
            fid: 1,
            offset: 0,
            count: u32::MAX,
        },
    );
    assert!(matches!(reply, Msg::Rread { ref data } if data == b"hello, world\n"));
    client.hang_up().unwrap();
}

#[test]
fn a_bad_size_closes_only_that_connection() {
    let ctx = kernel_with_tree();
    let good = Client::connect(&ctx);
    good.start();
    for garbage in [
        vec![0xff, 0xff, 0xff, 0x7f, 1, 2, 3],
        vec![3, 0, 0, 0],
        vec![6, 0, 0, 0, 100, 0],
    ] {
        let bad = Client::connect(&ctx);
        bad.send_raw(&garbage);
        // The server gives up on this stream: the reader sees the end of it.
        let outcome = bad.server.join().expect("no panic");
        assert!(outcome.is_err());
    }
    let reply = good.rpc(
        9,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["hello".into()],
        },
    );
    assert!(matches!(reply, Msg::Rwalk { .. }));
    good.hang_up().unwrap();
}

#[test]
fn seeded_garbage_never_panics_or_hangs() {
    let ctx = kernel_with_tree();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200 {
        let client = Client::connect(&ctx);
        client.start();
        // Valid framing, random bodies: every message gets some reply.
        for round in 0..20u16 {
            let length = (next() % 60) as usize;
            let mut body: Vec<u8> = (0..length).map(|_| next() as u8).collect();
            let ty = 100 + (next() % 28) as u8;
            let mut message = Vec::new();
            message.extend_from_slice(&((7 + body.len()) as u32).to_le_bytes());
            message.push(ty);
            message.extend_from_slice(&(round + 100).to_le_bytes());
            message.append(&mut body);
            client.send_raw(&message);
        }
        // The connection still answers a well-formed request afterwards, or has been
        // closed cleanly.
        client.send(999, Msg::Tstat { fid: 0 });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while let Some(reply) = client.recv() {
            if reply.tag == 999 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no answer");
        }
        let _ = client.hang_up();
    }
}

#[test]
fn flush_ends_a_blocked_read_and_others_go_on_meanwhile() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    client.open_block_and_hello();
    // This read blocks; the next request on another fid is answered anyway.
    client.send(
        10,
        Msg::Tread {
            fid: 1,
            offset: 0,
            count: 100,
        },
    );
    let reply = client.rpc(
        11,
        Msg::Tread {
            fid: 2,
            offset: 0,
            count: 100,
        },
    );
    assert!(matches!(reply, Msg::Rread { ref data } if data == b"hello, world\n"));
    // Flushing the blocked read: Rflush, and never an Rread for tag 10.
    let reply = client.rpc(12, Msg::Tflush { oldtag: 10 });
    assert_eq!(reply, Msg::Rflush);
    let reply = client.rpc(13, Msg::Tclunk { fid: 2 });
    assert_eq!(reply, Msg::Rclunk);
    // A flush of a tag not in flight is answered too.
    assert_eq!(client.rpc(14, Msg::Tflush { oldtag: 77 }), Msg::Rflush);
    client.hang_up().unwrap();
}

#[test]
fn hanging_up_ends_blocked_requests() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    client.rpc(
        2,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["block".into(), "wait".into()],
        },
    );
    client.rpc(3, Msg::Topen { fid: 1, mode: 0 });
    client.send(
        4,
        Msg::Tread {
            fid: 1,
            offset: 0,
            count: 100,
        },
    );
    std::thread::sleep(Duration::from_millis(50));
    // The server returns once the client is gone, though a read was still blocked.
    client.hang_up().unwrap();
}

#[test]
fn qids_of_different_devices_differ() {
    // The root of the in-memory tree and the root of the blocking device both have qid path
    // 0 on their own devices; through one export they must not collide.
    let ctx = kernel_with_tree();
    let (ours, theirs) = memory::pair();
    let server_ctx = ctx.clone();
    let server = std::thread::spawn(move || {
        serve(&server_ctx, "/", Arc::new(theirs), ExportOptions::default())
    });
    let client = Client { end: ours, server };
    client.rpc(
        NOTAG,
        Msg::Tversion {
            msize: 8216,
            version: "9P2000".into(),
        },
    );
    let Msg::Rattach { qid: root } = client.rpc(
        1,
        Msg::Tattach {
            fid: 0,
            afid: NOFID,
            uname: "glenda".into(),
            aname: String::new(),
        },
    ) else {
        panic!("no attach")
    };
    let Msg::Rwalk { wqids } = client.rpc(
        2,
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec!["share".into(), "block".into()],
        },
    ) else {
        panic!("no walk")
    };
    assert_eq!(ctx.stat("/").unwrap().qid.path, 0);
    assert_eq!(ctx.stat("/share/block").unwrap().qid.path, 0);
    assert_ne!(root.path, wqids[1].path);
    client.hang_up().unwrap();
}

/// Hundreds of blocked reads at once (one fid, many tags, as many processes reading a mounted
/// device would send): a read of another file is still answered, each blocked read can still
/// be flushed, and the connection ends cleanly.
#[test]
fn hundreds_of_blocked_reads_leave_the_connection_usable() {
    // With too few workers the server stops reading and this would hang: fail instead.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        const BLOCKED: u16 = 300;
        let ctx = kernel_with_tree();
        let client = Client::connect(&ctx);
        client.start();
        client.open_block_and_hello();
        for tag in 100..100 + BLOCKED {
            client.send(
                tag,
                Msg::Tread {
                    fid: 1,
                    offset: 0,
                    count: 10,
                },
            );
        }
        let reply = client.rpc(
            5000,
            Msg::Tread {
                fid: 2,
                offset: 0,
                count: 100,
            },
        );
        assert!(matches!(reply, Msg::Rread { ref data } if data == b"hello, world\n"));
        for tag in 100..100 + BLOCKED {
            assert_eq!(
                client.rpc(6000 + tag, Msg::Tflush { oldtag: tag }),
                Msg::Rflush
            );
        }
        client.hang_up().unwrap();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the export stopped answering with hundreds of reads blocked")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the client failed (its panic is above)")
        }
    }
}

/// Issue 11, finding 2: under `export -r` nothing a client sends may change the tree, and
/// opening with ORCLOSE (which removes the file at clunk) is a change.
#[test]
fn issue_11_read_only_refuses_every_change() {
    let ctx = kernel_with_tree();
    let options = ExportOptions { read_only: true };
    let (client, _) = Client::connect_with(&ctx, options);
    client.start();
    let walk = |tag, newfid, name: &str| {
        let reply = client.rpc(
            tag,
            Msg::Twalk {
                fid: 0,
                newfid,
                wnames: vec![name.into()],
            },
        );
        assert!(matches!(reply, Msg::Rwalk { .. }), "{reply:?}");
    };
    let read_only = "read only file system";
    walk(2, 1, "hello");
    for mode in [
        ninep::OREAD | ninep::ORCLOSE,
        ninep::OREAD | ninep::OTRUNC,
        ninep::OWRITE,
        ninep::ORDWR,
        ninep::OEXEC | ninep::ORCLOSE,
    ] {
        let reply = client.rpc(3, Msg::Topen { fid: 1, mode });
        assert_eq!(error_text(reply), read_only, "mode {mode:#x}");
    }
    // Opened for reading, the fid still cannot write.
    assert!(matches!(
        client.rpc(4, Msg::Topen { fid: 1, mode: 0 }),
        Msg::Ropen { .. }
    ));
    let write = Msg::Twrite {
        fid: 1,
        offset: 0,
        data: b"gone".to_vec(),
    };
    assert_eq!(error_text(client.rpc(5, write)), read_only);
    assert_eq!(client.rpc(6, Msg::Tclunk { fid: 1 }), Msg::Rclunk);
    let create = Msg::Tcreate {
        fid: 0,
        name: "new".into(),
        perm: 0o666,
        mode: ninep::ORCLOSE,
    };
    assert_eq!(error_text(client.rpc(7, create)), read_only);
    walk(8, 2, "hello");
    let stat = Dir {
        name: "renamed".into(),
        ..Dir::default()
    };
    let wstat = Msg::Twstat { fid: 2, stat };
    assert_eq!(error_text(client.rpc(9, wstat)), read_only);
    assert_eq!(
        error_text(client.rpc(10, Msg::Tremove { fid: 2 })),
        read_only
    );
    client.hang_up().unwrap();
    assert_eq!(
        ctx.read_file("/share/hello", 100).unwrap(),
        b"hello, world\n".to_vec()
    );
    assert!(ctx.stat("/share/new").is_err());
    assert!(ctx.stat("/share/renamed").is_err());
}

/// Issue 11, finding 9: once Rflush is sent the tag is free (flush(5)), so a client that
/// reuses it at once must never be told "tag in use".
#[test]
fn issue_11_a_tag_is_free_once_rflush_is_sent() {
    let ctx = kernel_with_tree();
    let client = Client::connect(&ctx);
    client.start();
    client.open_block_and_hello();
    for _ in 0..300 {
        client.send(
            10,
            Msg::Tread {
                fid: 1,
                offset: 0,
                count: 10,
            },
        );
        assert_eq!(client.rpc(11, Msg::Tflush { oldtag: 10 }), Msg::Rflush);
        let reply = client.rpc(10, Msg::Tstat { fid: 2 });
        assert!(matches!(reply, Msg::Rstat { .. }), "{reply:?}");
    }
    client.hang_up().unwrap();
}

/// Issue 11, finding 10: when `serve` returns, every worker it started has ended (none still
/// holds the connection).
#[test]
fn issue_11_no_worker_outlives_serve() {
    let ctx = kernel_with_tree();
    for round in 0..40 {
        let (client, transport) = Client::connect_with(&ctx, ExportOptions::default());
        client.start();
        client.open_block_and_hello();
        for tag in 100..116 {
            client.send(
                tag,
                Msg::Tread {
                    fid: 1,
                    offset: 0,
                    count: 10,
                },
            );
        }
        let reply = client.rpc(
            5,
            Msg::Tread {
                fid: 2,
                offset: 0,
                count: 100,
            },
        );
        assert!(matches!(reply, Msg::Rread { .. }), "{reply:?}");
        client.hang_up().unwrap();
        assert_eq!(
            Arc::strong_count(&transport),
            1,
            "round {round}: a worker still holds the connection after serve returned"
        );
    }
}

/// Issue 11, finding 3: however much of the kernel-wide pools other connections hold, each
/// connection has a share of its own: a few blocked reads and a full-size read are still
/// served with both pools empty.
#[test]
fn issue_11_a_connection_is_served_with_the_pools_spent() {
    let (kernel, ctx) = kernel_with_limits(kernel::Limits {
        export_workers: 0,
        export_buffers: 0,
        ..kernel::Limits::default()
    });
    let client = Client::connect(&ctx);
    client.rpc(
        NOTAG,
        Msg::Tversion {
            msize: 128 * 1024 + 24,
            version: "9P2000".into(),
        },
    );
    client.rpc(
        1,
        Msg::Tattach {
            fid: 0,
            afid: NOFID,
            uname: "glenda".into(),
            aname: String::new(),
        },
    );
    client.open_block_and_hello();
    for tag in 100..103 {
        client.send(
            tag,
            Msg::Tread {
                fid: 1,
                offset: 0,
                count: 10,
            },
        );
    }
    for tag in [200, 201] {
        let reply = client.rpc(
            tag,
            Msg::Tread {
                fid: 2,
                offset: 0,
                count: 128 * 1024,
            },
        );
        assert!(
            matches!(reply, Msg::Rread { ref data } if data == b"hello, world\n"),
            "{reply:?}"
        );
    }
    for tag in 100..103 {
        assert_eq!(client.rpc(300, Msg::Tflush { oldtag: tag }), Msg::Rflush);
    }
    client.hang_up().unwrap();
    assert_eq!(kernel.export_workers().used(), 0);
    assert_eq!(kernel.export_buffers().used(), 0);
    assert_eq!(kernel.threads_in_use(), 0);
}

/// Issue 11: when the kernel has no thread to give, a connection is served by serve's own
/// thread alone, one request at a time, and nothing panics.
#[test]
fn issue_11_refused_threads_leave_the_connection_served() {
    let (kernel, ctx) = kernel_with_limits(kernel::Limits {
        threads: 0,
        ..kernel::Limits::default()
    });
    let client = Client::connect(&ctx);
    client.start();
    client.open_block_and_hello();
    for tag in 10..20 {
        let reply = client.rpc(
            tag,
            Msg::Tread {
                fid: 2,
                offset: 0,
                count: 100,
            },
        );
        assert!(matches!(reply, Msg::Rread { .. }), "{reply:?}");
    }
    client.hang_up().unwrap();
    assert_eq!(kernel.threads_in_use(), 0);
}

/// A kernel that keeps `limits`, with `/share` (`hello`, `dir/inner`, and `block` on the
/// blocking device) to export.
fn kernel_with_limits(limits: kernel::Limits) -> (Arc<Kernel>, Ctx) {
    let kernel = Kernel::with_limits("glenda", "test", limits);
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    kernel.register(Arc::new(Blocking)).unwrap();
    let ctx = Ctx::new(kernel.first_proc("exporter", "glenda"));
    let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root);
    fs.add("root", "share/hello", Some("hello, world\n"));
    fs.add("root", "share/dir/inner", Some("inner\n"));
    fs.add("root", "share/block", None);
    ctx.bind("#B", "/share/block", kernel::MREPL).unwrap();
    (kernel, ctx)
}

/// Fids are counted kernel-wide, across connections: past the budget a walk or attach gets
/// "too many fids", and clunking gives the slots back (a fid flood from many connections
/// cannot take the host's memory).
#[test]
fn issue_11_fids_of_all_connections_share_one_budget() {
    let (kernel, ctx) = kernel_with_limits(kernel::Limits {
        fids: 4,
        ..kernel::Limits::default()
    });
    let first = Client::connect(&ctx);
    first.start();
    let second = Client::connect(&ctx);
    second.start();
    let walk = |client: &Client, tag: u16, newfid: u32| {
        client.rpc(
            tag,
            Msg::Twalk {
                fid: 0,
                newfid,
                wnames: vec!["hello".into()],
            },
        )
    };
    assert!(matches!(walk(&first, 2, 1), Msg::Rwalk { .. }));
    assert!(matches!(walk(&second, 2, 1), Msg::Rwalk { .. }));
    assert_eq!(kernel.fids().used(), 4);
    assert_eq!(error_text(walk(&first, 3, 2)), "too many fids");
    assert_eq!(error_text(walk(&second, 3, 2)), "too many fids");
    assert!(matches!(first.rpc(4, Msg::Tclunk { fid: 1 }), Msg::Rclunk));
    assert!(matches!(walk(&second, 5, 2), Msg::Rwalk { .. }));
    drop(first);
    drop(second);
    eventually_zero(|| kernel.fids().used());
}

fn eventually_zero(count: impl Fn() -> usize) {
    let started = std::time::Instant::now();
    while count() != 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
