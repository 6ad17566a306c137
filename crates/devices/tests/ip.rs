//! `#I` through the kernel's system calls, over real loopback sockets only (127.0.0.1 and
//! ::1): the tree, every ctl request, listen and data, udp with and without headers, the
//! errors, interrupts and kills of blocked calls, and the `cs` and `dns` files.
//!
//! Each test builds its own kernel with an in-memory root (`#T`) holding `/net` and
//! `/lib/ndb`, and `#I` bound after `/net`, as ember's boot does. Ports are always picked by
//! the host (port 0), so tests run in parallel.

use devices::ip::{HEADER_LEN, HEADER4_LEN, Ip};
use kernel::memfs::MemFs;
use kernel::sys::Whence;
use kernel::{Chan, Ctx, Error, FdTable, Kernel, MAFTER, MREPL, Result};
use ninep::{ORDWR, OREAD, OWRITE};
use std::net::{Ipv6Addr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

static NDB_INFERNO: &str = "# test services\n\
    tcp=myservice port=7777\n\
    tcp=multi\n\
    \tport=7778\n";
static NDB_COMMON: &str = "udp=mydns port=5353\n";

/// A kernel whose first process has `/net` (with `#I` after it) and `/lib/ndb`.
fn setup() -> (Arc<MemFs>, Ctx) {
    let kernel = Kernel::new("test", "testhost");
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    kernel.register(Arc::new(Ip::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("test", "test"));
    fs.add("root", "net", None);
    fs.add("root", "lib/ndb/inferno", Some(NDB_INFERNO));
    fs.add("root", "lib/ndb/common", Some(NDB_COMMON));
    let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root);
    ctx.bind("#I", "/net", MAFTER).unwrap();
    (fs, ctx)
}

/// Another process of the same user sharing `ctx`'s namespace, for a second thread.
fn sibling(ctx: &Ctx, name: &str) -> Ctx {
    let proc = ctx.kernel().new_proc(
        Some(&ctx.proc),
        name,
        ctx.ns(),
        Arc::new(FdTable::new()),
        ctx.env(),
        &ctx.user(),
    );
    Ctx::new(proc)
}

/// Waits until `condition` holds, for at most ten seconds.
fn eventually(condition: impl Fn() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("condition never held");
}

fn open(ctx: &Ctx, path: &str, mode: u8) -> Arc<Chan> {
    ctx.open_chan(path, mode)
        .unwrap_or_else(|error| panic!("open {path}: {error}"))
}

fn cat(ctx: &Ctx, path: &str) -> String {
    String::from_utf8(ctx.read_file(path, 1 << 16).unwrap()).unwrap()
}

fn read_text(ctx: &Ctx, chan: &Chan) -> Result<String> {
    let mut buf = vec![0u8; 8192];
    let count = ctx.read_chan(chan, &mut buf, 0)?;
    Ok(String::from_utf8_lossy(&buf[..count]).into_owned())
}

fn ctl(ctx: &Ctx, chan: &Chan, request: &str) -> Result<usize> {
    ctx.write_chan(chan, request.as_bytes(), 0)
}

/// The text of the error, without the path it was reported against.
fn error_text(error: Error) -> String {
    error.root().to_string()
}

fn names(ctx: &Ctx, path: &str) -> Vec<String> {
    ctx.read_dir(path)
        .unwrap()
        .into_iter()
        .map(|dir| dir.name)
        .collect()
}

/// Reads exactly `count` bytes from a stream.
fn read_exactly(ctx: &Ctx, data: &Chan, count: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = vec![0u8; count];
    while got.len() < count {
        let n = ctx
            .read_chan(data, &mut buf[..count - got.len()], 0)
            .unwrap();
        assert!(n > 0, "end of stream after {} of {count} bytes", got.len());
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// A conversation: its ctl and directory.
struct Conversation {
    ctl: Arc<Chan>,
    dir: String,
}

impl Conversation {
    fn new(ctx: &Ctx, proto: &str) -> Conversation {
        let ctl = open(ctx, &format!("/net/{proto}/clone"), ORDWR);
        let number = read_text(ctx, &ctl).unwrap();
        Conversation {
            ctl,
            dir: format!("/net/{proto}/{number}"),
        }
    }

    fn file(&self, ctx: &Ctx, name: &str) -> String {
        cat(ctx, &format!("{}/{name}", self.dir))
    }

    fn data(&self, ctx: &Ctx) -> Arc<Chan> {
        open(ctx, &format!("{}/data", self.dir), ORDWR)
    }

    /// The port of the `local` file.
    fn local_port(&self, ctx: &Ctx) -> u16 {
        let local = self.file(ctx, "local");
        local.trim().rsplit('!').next().unwrap().parse().unwrap()
    }
}

/// An announced tcp conversation on `addr` (`127.0.0.1!0`, ...), and its port.
fn announce(ctx: &Ctx, addr: &str) -> (Conversation, u16) {
    let conv = Conversation::new(ctx, "tcp");
    ctl(ctx, &conv.ctl, &format!("announce {addr}")).unwrap();
    let port = conv.local_port(ctx);
    assert_ne!(port, 0);
    (conv, port)
}

/// A port on 127.0.0.1 that nobody listens on (the host gave it out and it was let go).
fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A connected pair of tcp conversations on `host`: (client, its data, server, its data).
fn connected_pair(ctx: &Ctx, host: &str) -> (Conversation, Arc<Chan>, Conversation, Arc<Chan>) {
    let (announced, port) = announce(ctx, &format!("{host}!0"));
    let listener = sibling(ctx, "listener");
    let accepting = thread::spawn(move || {
        let ctl = open(&listener, &format!("{}/listen", announced.dir), ORDWR);
        let number = read_text(&listener, &ctl).unwrap();
        let call = Conversation {
            ctl,
            dir: format!("/net/tcp/{number}"),
        };
        let data = call.data(&listener);
        (call, data, announced)
    });
    let client = Conversation::new(ctx, "tcp");
    ctl(ctx, &client.ctl, &format!("connect {host}!{port}")).unwrap();
    let client_data = client.data(ctx);
    let (server, server_data, _announced) = accepting.join().unwrap();
    (client, client_data, server, server_data)
}

#[test]
fn the_tree_holds_tcp_udp_cs_dns_and_itself() {
    let (_, ctx) = setup();
    assert_eq!(names(&ctx, "/net"), ["tcp", "udp", "cs", "dns", "net"]);
    // `net` is the root itself, so an exported /net can be bound as `/n/gw/net`.
    assert_eq!(names(&ctx, "/net/net"), ["tcp", "udp", "cs", "dns", "net"]);
    assert_eq!(
        ctx.stat("/net/net/tcp").unwrap().qid,
        ctx.stat("/net/tcp").unwrap().qid
    );
    assert_eq!(names(&ctx, "/net/tcp"), ["clone"]);
    assert_eq!(names(&ctx, "/net/udp"), ["clone"]);
    assert_eq!(ctx.stat("/net/tcp/clone").unwrap().mode, 0o666);
    assert_eq!(ctx.stat("/net/cs").unwrap().mode, 0o666);
    assert_eq!(ctx.stat("/net/dns").unwrap().mode, 0o666);
    assert_eq!(ctx.stat("/net/tcp").unwrap().mode, ninep::DMDIR | 0o555);
    assert_eq!(
        ctx.open_chan("/net/tcp/0", OREAD).unwrap_err().root(),
        &Error::NotExist
    );
    // Every attach (spec empty or 0) is the same stack.
    let conv = ctx.open_chan("#I0/tcp/clone", ORDWR).unwrap();
    assert_eq!(names(&ctx, "/net/tcp"), ["0", "clone"]);
    drop(conv);
    assert_eq!(
        ctx.open_chan("#I1", OREAD).unwrap_err().root(),
        &Error::BadSpec
    );
    assert_eq!(
        ctx.open_chan("/net/il/clone", OREAD).unwrap_err().root(),
        &Error::NotExist
    );
}

#[test]
fn clone_opens_the_ctl_of_the_first_free_conversation() {
    let (_, ctx) = setup();
    let first = open(&ctx, "/net/tcp/clone", ORDWR);
    assert_eq!(read_text(&ctx, &first).unwrap(), "0");
    assert_eq!(&*first.name, "/net/tcp/0/ctl");
    let second = open(&ctx, "/net/tcp/clone", ORDWR);
    assert_eq!(read_text(&ctx, &second).unwrap(), "1");
    assert_eq!(names(&ctx, "/net/tcp"), ["0", "1", "clone"]);
    assert_eq!(
        names(&ctx, "/net/tcp/0"),
        ["ctl", "data", "listen", "local", "remote", "status"]
    );
    assert_eq!(cat(&ctx, "/net/tcp/0/status"), "Closed\n");
    assert_eq!(cat(&ctx, "/net/tcp/0/local"), "::!0\n");
    assert_eq!(cat(&ctx, "/net/tcp/0/remote"), "::!0\n");
    let ctl = ctx.stat("/net/tcp/0/ctl").unwrap();
    assert_eq!((ctl.uid.as_str(), ctl.mode), ("test", 0o660));
    let status = ctx.stat("/net/tcp/0/status").unwrap();
    assert_eq!((status.uid.as_str(), status.mode), ("test", 0o444));
    // The number of a conversation let go is handed out again.
    drop(first);
    assert_eq!(ctx.stat("/net/tcp/0/ctl").unwrap().uid, "network");
    let again = open(&ctx, "/net/tcp/clone", ORDWR);
    assert_eq!(read_text(&ctx, &again).unwrap(), "0");
    // udp has its own numbers.
    let udp = open(&ctx, "/net/udp/clone", ORDWR);
    assert_eq!(read_text(&ctx, &udp).unwrap(), "0");
}

#[test]
fn a_conversation_lives_while_its_ctl_or_data_is_open() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "tcp");
    let data = conv.data(&ctx);
    drop(conv.ctl);
    // Conversation 0 is still in use through its data file.
    let other = open(&ctx, "/net/tcp/clone", ORDWR);
    assert_eq!(read_text(&ctx, &other).unwrap(), "1");
    drop(data);
    let reused = open(&ctx, "/net/tcp/clone", ORDWR);
    assert_eq!(read_text(&ctx, &reused).unwrap(), "0");
}

#[test]
fn tcp_announce_listen_connect_and_talk() {
    let (_, ctx) = setup();
    let (announced, port) = announce(&ctx, "127.0.0.1!0");
    assert_eq!(announced.file(&ctx, "status"), "Announced\n");
    assert_eq!(announced.file(&ctx, "local"), format!("127.0.0.1!{port}\n"));
    let listener = sibling(&ctx, "listener");
    let dir = announced.dir.clone();
    let server = thread::spawn(move || {
        let ctl = open(&listener, &format!("{dir}/listen"), ORDWR);
        let number = read_text(&listener, &ctl).unwrap();
        assert_eq!(&*ctl.name, format!("/net/tcp/{number}/ctl"));
        let call = Conversation {
            ctl,
            dir: format!("/net/tcp/{number}"),
        };
        assert_eq!(call.file(&listener, "status"), "Established\n");
        let data = call.data(&listener);
        assert_eq!(read_exactly(&listener, &data, 5), b"hello");
        listener.write_chan(&data, b"world", 0).unwrap();
        let remote = call.file(&listener, "remote");
        let local = call.file(&listener, "local");
        // The client closes: end of stream.
        assert_eq!(read_text(&listener, &data).unwrap(), "");
        (remote, local)
    });
    let client = Conversation::new(&ctx, "tcp");
    assert_eq!(
        ctl(&ctx, &client.ctl, &format!("connect 127.0.0.1!{port}\n")).unwrap(),
        format!("connect 127.0.0.1!{port}\n").len()
    );
    assert_eq!(client.file(&ctx, "status"), "Established\n");
    assert_eq!(client.file(&ctx, "remote"), format!("127.0.0.1!{port}\n"));
    let client_local = client.file(&ctx, "local");
    assert!(client_local.starts_with("127.0.0.1!"), "{client_local}");
    let data = client.data(&ctx);
    assert_eq!(ctx.write_chan(&data, b"hello", 0).unwrap(), 5);
    assert_eq!(read_exactly(&ctx, &data, 5), b"world");
    drop(data);
    drop(client.ctl);
    let (server_remote, server_local) = server.join().unwrap();
    assert_eq!(server_remote, client_local);
    assert_eq!(server_local, format!("127.0.0.1!{port}\n"));
}

#[test]
fn announce_star_listens_on_every_address() {
    let (_, ctx) = setup();
    let (announced, port) = announce(&ctx, "*!0");
    assert_eq!(announced.file(&ctx, "local"), format!("::!{port}\n"));
    // Both families reach a `*` announcement.
    for host in ["127.0.0.1", "::1"] {
        let listener = sibling(&ctx, "listener");
        let dir = announced.dir.clone();
        let server = thread::spawn(move || {
            let ctl = open(&listener, &format!("{dir}/listen"), ORDWR);
            let number = read_text(&listener, &ctl).unwrap();
            cat(&listener, &format!("/net/tcp/{number}/remote"))
        });
        let client = Conversation::new(&ctx, "tcp");
        ctl(&ctx, &client.ctl, &format!("connect {host}!{port}")).unwrap();
        let remote = server.join().unwrap();
        assert!(remote.starts_with(&format!("{host}!")), "{remote}");
    }
    // A bare port is the same as `*!port`.
    let conv = Conversation::new(&ctx, "tcp");
    ctl(&ctx, &conv.ctl, "announce 0").unwrap();
    assert!(conv.file(&ctx, "local").starts_with("::!"));
}

#[test]
fn ipv6_loopback_carries_tcp_and_udp() {
    let (_, ctx) = setup();
    let (announced, port) = announce(&ctx, "::1!0");
    assert_eq!(announced.file(&ctx, "local"), format!("::1!{port}\n"));
    drop(announced);
    let (client, client_data, server, server_data) = connected_pair(&ctx, "::1");
    assert_eq!(
        client.file(&ctx, "remote"),
        format!("::1!{}\n", server.local_port(&ctx))
    );
    assert!(server.file(&ctx, "remote").starts_with("::1!"));
    ctx.write_chan(&client_data, b"over six", 0).unwrap();
    assert_eq!(read_exactly(&ctx, &server_data, 8), b"over six");

    let peer = UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    let udp = Conversation::new(&ctx, "udp");
    ctl(&ctx, &udp.ctl, &format!("connect ::1!{peer_port}")).unwrap();
    let data = udp.data(&ctx);
    ctx.write_chan(&data, b"datagram", 0).unwrap();
    let mut buf = [0u8; 64];
    let (count, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..count], b"datagram");
    assert_eq!(udp.file(&ctx, "local"), format!("::1!{}\n", from.port()));
}

#[test]
fn connect_to_a_port_nobody_listens_on_is_refused() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "tcp");
    let port = unused_port();
    let error = ctl(&ctx, &conv.ctl, &format!("connect 127.0.0.1!{port}")).unwrap_err();
    assert_eq!(error.to_string(), "connection refused");
    assert_eq!(conv.file(&ctx, "status"), "Closed\n");
    // The conversation can try again, and this time someone answers.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    ctl(&ctx, &conv.ctl, &format!("connect 127.0.0.1!{port}")).unwrap();
    assert_eq!(conv.file(&ctx, "status"), "Established\n");
}

#[test]
fn connect_can_choose_the_local_port() {
    let (_, ctx) = setup();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let local_port = unused_port();
    let conv = Conversation::new(&ctx, "tcp");
    ctl(
        &ctx,
        &conv.ctl,
        &format!("connect 127.0.0.1!{port} {local_port}"),
    )
    .unwrap();
    let (_stream, from) = server.accept().unwrap();
    assert_eq!(from.port(), local_port);
    assert_eq!(conv.local_port(&ctx), local_port);
}

#[test]
fn ctl_errors_name_the_problem() {
    let (_, ctx) = setup();
    let tcp = Conversation::new(&ctx, "tcp");
    let udp = Conversation::new(&ctx, "udp");
    let error =
        |conv: &Conversation, request: &str| error_text(ctl(&ctx, &conv.ctl, request).unwrap_err());
    assert_eq!(
        error(&tcp, "frobnicate now"),
        "unknown control request: frobnicate"
    );
    assert_eq!(error(&tcp, ""), "short control request");
    assert_eq!(
        error(&tcp, "connect"),
        "bad args to connect: usage: connect addr!port [localport]"
    );
    assert_eq!(
        error(&tcp, "announce 1 2"),
        "bad args to announce: usage: announce [addr!]port"
    );
    assert_eq!(
        error(&tcp, "connect localhost!80"),
        "invalid IP address: localhost"
    );
    assert_eq!(
        error(&tcp, "connect 127.0.0.1"),
        "malformed address: 127.0.0.1"
    );
    assert_eq!(
        error(&tcp, "connect 127.0.0.1!www"),
        "non-numeric port number: www"
    );
    assert_eq!(
        error(&tcp, "headers"),
        "unknown control request: headers is for udp only"
    );
    assert_eq!(
        error(&udp, "hangup"),
        "unknown control request: hangup is for tcp only"
    );
    assert_eq!(
        error(&udp, "keepalive"),
        "unknown control request: keepalive is for tcp only"
    );
    // Accepted and ignored, as hosted Inferno does.
    for request in ["ttl 64", "tos 0", "ignoreadvice"] {
        ctl(&ctx, &tcp.ctl, request).unwrap();
    }
    // A conversation in use takes no second connect or announce.
    let (_announced, port) = announce(&ctx, "127.0.0.1!0");
    ctl(&ctx, &tcp.ctl, &format!("connect 127.0.0.1!{port}")).unwrap();
    assert_eq!(
        error(&tcp, &format!("connect 127.0.0.1!{port}")),
        "connection in use"
    );
    assert_eq!(error(&tcp, "announce 0"), "connection in use");
    ctl(&ctx, &tcp.ctl, "keepalive").unwrap();
    ctl(&ctx, &tcp.ctl, "keepalive 30000").unwrap();
    assert_eq!(error(&tcp, "keepalive soon"), "bad keepalive time: soon");
    // Files that are not ctl refuse writes.
    assert_eq!(
        ctx.open_chan(&format!("{}/status", tcp.dir), OWRITE)
            .unwrap_err()
            .root(),
        &Error::Perm
    );
}

#[test]
fn bind_sets_the_local_address() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "udp");
    ctl(&ctx, &conv.ctl, "bind 127.0.0.1!0").unwrap();
    let local = conv.file(&ctx, "local");
    assert!(local.starts_with("127.0.0.1!"), "{local}");
    assert_ne!(conv.local_port(&ctx), 0);
    assert_eq!(conv.file(&ctx, "status"), "Closed\n");
    // Binding again takes the new address.
    ctl(&ctx, &conv.ctl, "bind ::1!0").unwrap();
    assert!(conv.file(&ctx, "local").starts_with("::1!"));
}

#[test]
fn listen_needs_an_announced_conversation() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "tcp");
    let error = ctx
        .open_chan(&format!("{}/listen", conv.dir), ORDWR)
        .unwrap_err();
    assert_eq!(error_text(error), "not announced");
    let udp = Conversation::new(&ctx, "udp");
    ctl(&ctx, &udp.ctl, "announce 127.0.0.1!0").unwrap();
    assert_eq!(udp.file(&ctx, "status"), "Announced\n");
    let error = ctx
        .open_chan(&format!("{}/listen", udp.dir), ORDWR)
        .unwrap_err();
    assert_eq!(
        error_text(error),
        "udp conversations have no calls to listen for"
    );
}

#[test]
fn data_after_hangup_is_io_on_hungup_channel() {
    let (_, ctx) = setup();
    let (client, client_data, _server, server_data) = connected_pair(&ctx, "127.0.0.1");
    ctx.write_chan(&client_data, b"before", 0).unwrap();
    assert_eq!(read_exactly(&ctx, &server_data, 6), b"before");
    ctl(&ctx, &client.ctl, "hangup").unwrap();
    assert_eq!(client.file(&ctx, "status"), "Closed\n");
    let mut buf = [0u8; 16];
    assert_eq!(ctx.read_chan(&client_data, &mut buf, 0), Err(Error::Hungup));
    assert_eq!(
        ctx.write_chan(&client_data, b"after", 0),
        Err(Error::Hungup)
    );
    assert_eq!(
        error_text(ctl(&ctx, &client.ctl, "keepalive").unwrap_err()),
        "not connected"
    );
    // The far end sees the connection end (abortively: a reset, or at least end of stream).
    match ctx.read_chan(&server_data, &mut buf, 0) {
        Ok(0) => {}
        Err(error) => assert_eq!(error.to_string(), "connection reset"),
        Ok(count) => panic!("read {count} bytes after hangup"),
    }
}

#[test]
fn an_interrupt_ends_a_blocked_listen_open() {
    let (_, ctx) = setup();
    let (announced, port) = announce(&ctx, "127.0.0.1!0");
    let listener = sibling(&ctx, "listener");
    let proc = listener.proc.clone();
    let path = format!("{}/listen", announced.dir);
    let waiting = thread::spawn(move || listener.open_chan(&path, ORDWR).map(drop));
    eventually(|| proc.state() == "release");
    proc.interrupt();
    let error = waiting.join().unwrap().unwrap_err();
    assert_eq!(error.root(), &Error::Interrupted);
    // The announcement still takes calls.
    let caller = thread::spawn(move || TcpStream::connect(("127.0.0.1", port)).unwrap());
    let call = open(&ctx, &format!("{}/listen", announced.dir), ORDWR);
    let number = read_text(&ctx, &call).unwrap();
    assert_eq!(
        cat(&ctx, &format!("/net/tcp/{number}/status")),
        "Established\n"
    );
    drop(caller.join().unwrap());
}

#[test]
fn a_hangup_or_close_of_the_announcement_ends_its_listeners() {
    let (_, ctx) = setup();
    for ending in ["hangup", "close"] {
        let (announced, _port) = announce(&ctx, "127.0.0.1!0");
        let listener = sibling(&ctx, "listener");
        let proc = listener.proc.clone();
        let path = format!("{}/listen", announced.dir);
        let waiting = thread::spawn(move || listener.open_chan(&path, ORDWR).map(drop));
        eventually(|| proc.state() == "release");
        if ending == "hangup" {
            ctl(&ctx, &announced.ctl, "hangup").unwrap();
        } else {
            drop(announced);
        }
        let error = waiting.join().unwrap().unwrap_err();
        assert_eq!(error.root(), &Error::Hungup, "after {ending}");
    }
}

#[test]
fn a_kill_ends_a_blocked_data_read() {
    let (_, ctx) = setup();
    let (_client, client_data, _server, _server_data) = connected_pair(&ctx, "127.0.0.1");
    let reader = sibling(&ctx, "reader");
    let proc = reader.proc.clone();
    let reading = thread::spawn(move || read_text(&reader, &client_data));
    eventually(|| proc.state() == "release");
    thread::sleep(Duration::from_millis(50));
    assert!(!reading.is_finished(), "the read should wait for data");
    proc.kill();
    assert_eq!(reading.join().unwrap(), Err(Error::Killed));
}

#[test]
fn an_interrupt_ends_a_blocked_data_read_once() {
    let (_, ctx) = setup();
    let (_client, client_data, _server, server_data) = connected_pair(&ctx, "127.0.0.1");
    let reader = sibling(&ctx, "reader");
    let proc = reader.proc.clone();
    let data = client_data.clone();
    let (first_sender, first_read) = std::sync::mpsc::channel();
    let reading = thread::spawn(move || {
        first_sender.send(read_text(&reader, &data)).unwrap();
        // Interrupted once, the process reads on normally.
        read_text(&reader, &data)
    });
    eventually(|| proc.state() == "release");
    proc.interrupt();
    let first = first_read.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first, Err(Error::Interrupted));
    eventually(|| proc.state() == "release");
    ctx.write_chan(&server_data, b"later", 0).unwrap();
    let second = reading.join().unwrap();
    assert_eq!(second.unwrap(), "later");
}

#[test]
fn a_kill_ends_a_write_blocked_on_a_full_socket() {
    let (_, ctx) = setup();
    let (_client, client_data, _server, _server_data) = connected_pair(&ctx, "127.0.0.1");
    let writer = sibling(&ctx, "writer");
    let proc = writer.proc.clone();
    let writing = thread::spawn(move || {
        // Nobody reads the far end, so the host's buffers fill and a write waits.
        let block = vec![b'x'; 1 << 20];
        let mut total = 0usize;
        loop {
            match writer.write_chan(&client_data, &block, 0) {
                Ok(count) => total += count,
                Err(error) => return (total, error),
            }
        }
    });
    eventually(|| proc.state() == "release");
    thread::sleep(Duration::from_millis(50));
    assert!(!writing.is_finished(), "the write should wait for room");
    proc.kill();
    let (total, error) = writing.join().unwrap();
    assert!(total > 0);
    assert_eq!(error, Error::Killed);
}

#[test]
fn an_interrupt_ends_a_connect_that_gets_no_answer() {
    use nix::sys::socket::{
        AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, bind, listen, socket,
    };
    use std::os::fd::AsRawFd;
    // A listener whose queue holds one call: calls after that get no answer at all.
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).unwrap();
    listen(&fd, Backlog::new(0).unwrap()).unwrap();
    let port = nix::sys::socket::getsockname::<SockaddrIn>(fd.as_raw_fd())
        .unwrap()
        .port();
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..8 {
        match TcpStream::connect_timeout(&target, Duration::from_millis(300)) {
            Ok(stream) => fillers.push(stream),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(
        full,
        "the host answered every call; cannot make a connect wait"
    );
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "tcp");
    let caller = sibling(&ctx, "caller");
    let proc = caller.proc.clone();
    let ctl_chan = conv.ctl.clone();
    let connecting =
        thread::spawn(move || ctl(&caller, &ctl_chan, &format!("connect 127.0.0.1!{port}")));
    eventually(|| proc.state() == "release");
    assert_eq!(conv.file(&ctx, "status"), "Connecting\n");
    proc.interrupt();
    assert_eq!(connecting.join().unwrap(), Err(Error::Interrupted));
    assert_eq!(conv.file(&ctx, "status"), "Closed\n");
    drop(fillers);
}

#[test]
fn udp_without_headers_talks_to_the_connected_remote() {
    let (_, ctx) = setup();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    let conv = Conversation::new(&ctx, "udp");
    ctl(&ctx, &conv.ctl, &format!("connect 127.0.0.1!{peer_port}")).unwrap();
    assert_eq!(conv.file(&ctx, "status"), "Established\n");
    assert_eq!(
        conv.file(&ctx, "remote"),
        format!("127.0.0.1!{peer_port}\n")
    );
    let data = conv.data(&ctx);
    assert_eq!(ctx.write_chan(&data, b"ping", 0).unwrap(), 4);
    let mut buf = [0u8; 64];
    let (count, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..count], b"ping");
    assert_eq!(
        conv.file(&ctx, "local"),
        format!("127.0.0.1!{}\n", from.port())
    );
    // Datagrams keep their boundaries.
    peer.send_to(b"pong", from).unwrap();
    peer.send_to(b"again", from).unwrap();
    assert_eq!(read_text(&ctx, &data).unwrap(), "pong");
    assert_eq!(read_text(&ctx, &data).unwrap(), "again");
}

#[test]
fn udp_with_headers_reads_and_writes_the_52_byte_header() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "udp");
    ctl(&ctx, &conv.ctl, "headers").unwrap();
    ctl(&ctx, &conv.ctl, "announce 127.0.0.1!0").unwrap();
    let port = conv.local_port(&ctx);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    peer.send_to(b"hi", ("127.0.0.1", port)).unwrap();
    let data = conv.data(&ctx);
    let mut buf = [0u8; 256];
    let count = ctx.read_chan(&data, &mut buf, 0).unwrap();
    assert_eq!(count, HEADER_LEN + 2);
    let v4_mapped_loopback = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
    assert_eq!(buf[0..16], v4_mapped_loopback, "raddr");
    assert_eq!(buf[16..32], v4_mapped_loopback, "laddr");
    assert_eq!(buf[32..48], v4_mapped_loopback, "ifcaddr");
    assert_eq!(buf[48..50], peer_port.to_be_bytes(), "rport");
    assert_eq!(buf[50..52], port.to_be_bytes(), "lport");
    assert_eq!(&buf[52..54], b"hi");
    // A reply goes where its header says.
    let mut reply = buf[..HEADER_LEN].to_vec();
    reply.extend_from_slice(b"back");
    assert_eq!(ctx.write_chan(&data, &reply, 0).unwrap(), HEADER_LEN + 4);
    let mut got = [0u8; 64];
    let (count, from) = peer.recv_from(&mut got).unwrap();
    assert_eq!(&got[..count], b"back");
    assert_eq!(from.port(), port);
    // Too short for a header.
    assert_eq!(ctx.write_chan(&data, b"short", 0), Err(Error::ShortIo));
    assert_eq!(ctx.read_chan(&data, &mut got[..10], 0), Err(Error::ShortIo));
}

#[test]
fn udp_headers4_carry_ipv4_addresses_in_12_bytes() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "udp");
    ctl(&ctx, &conv.ctl, "headers4").unwrap();
    ctl(&ctx, &conv.ctl, "announce 127.0.0.1!0").unwrap();
    let port = conv.local_port(&ctx);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    peer.send_to(b"four", ("127.0.0.1", port)).unwrap();
    let data = conv.data(&ctx);
    let mut buf = [0u8; 64];
    let count = ctx.read_chan(&data, &mut buf, 0).unwrap();
    assert_eq!(count, HEADER4_LEN + 4);
    assert_eq!(buf[0..4], [127, 0, 0, 1]);
    assert_eq!(buf[4..8], [127, 0, 0, 1]);
    assert_eq!(buf[8..10], peer_port.to_be_bytes());
    assert_eq!(buf[10..12], port.to_be_bytes());
    assert_eq!(&buf[12..16], b"four");
}

#[test]
fn conversation_files_belong_to_the_opener() {
    let (_, ctx) = setup();
    let conv = Conversation::new(&ctx, "tcp");
    let stranger = Ctx::new(ctx.kernel().new_proc(
        Some(&ctx.proc),
        "stranger",
        ctx.ns(),
        Arc::new(FdTable::new()),
        ctx.env(),
        "stranger",
    ));
    for file in ["ctl", "data", "listen"] {
        let error = stranger
            .open_chan(&format!("{}/{file}", conv.dir), ORDWR)
            .unwrap_err();
        assert_eq!(error.root(), &Error::Perm, "{file}");
    }
    assert_eq!(conv.file(&stranger, "status"), "Closed\n");
    // The owner may share the conversation.
    let mut dir = ninep::Dir::null();
    dir.mode = 0o666;
    ctx.wstat(&format!("{}/ctl", conv.dir), &dir).unwrap();
    assert!(
        stranger
            .open_chan(&format!("{}/data", conv.dir), ORDWR)
            .is_ok()
    );
    assert_eq!(
        stranger
            .wstat(&format!("{}/ctl", conv.dir), &dir)
            .unwrap_err()
            .root(),
        &Error::Perm
    );
}

/// Writes `request` to a fresh open of `file` and reads every answer.
fn query(ctx: &Ctx, file: &str, request: &str) -> Result<Vec<String>> {
    let chan = open(ctx, file, ORDWR);
    ctx.write_chan(&chan, request.as_bytes(), 0)?;
    let mut answers = Vec::new();
    loop {
        let answer = read_text(ctx, &chan)?;
        if answer.is_empty() {
            return Ok(answers);
        }
        answers.push(answer);
    }
}

fn cs(ctx: &Ctx, request: &str) -> Result<Vec<String>> {
    query(ctx, "/net/cs", request)
}

#[test]
fn cs_translates_addresses_and_services() {
    let (_, ctx) = setup();
    assert_eq!(
        cs(&ctx, "tcp!127.0.0.1!myservice").unwrap(),
        ["/net/tcp/clone 127.0.0.1!7777\n"]
    );
    // A service named on a continuation line of its entry.
    assert_eq!(
        cs(&ctx, "tcp!127.0.0.1!multi").unwrap(),
        ["/net/tcp/clone 127.0.0.1!7778\n"]
    );
    assert_eq!(
        cs(&ctx, "net!127.0.0.1!80\n").unwrap(),
        ["/net/tcp/clone 127.0.0.1!80\n"]
    );
    assert_eq!(cs(&ctx, "tcp!::1!9").unwrap(), ["/net/tcp/clone ::1!9\n"]);
    assert_eq!(
        cs(&ctx, "udp!127.0.0.1!mydns").unwrap(),
        ["/net/udp/clone 127.0.0.1!5353\n"]
    );
    // Announcing: no address part.
    assert_eq!(
        cs(&ctx, "tcp!*!myservice").unwrap(),
        ["/net/tcp/clone 7777\n"]
    );
    // styx is known without the database; localhost without the resolver.
    assert_eq!(
        cs(&ctx, "tcp!localhost!styx").unwrap(),
        [
            "/net/tcp/clone 127.0.0.1!6666\n",
            "/net/tcp/clone ::1!6666\n"
        ]
    );
}

#[test]
fn cs_errors_come_back_on_the_write() {
    let (_, ctx) = setup();
    let error = |request: &str| error_text(cs(&ctx, request).unwrap_err());
    assert_eq!(
        error("tcp!127.0.0.1!nosuchservice"),
        "cs: can't translate service"
    );
    // The host's /etc/services is not consulted: only the namespace's database.
    assert_eq!(error("tcp!127.0.0.1!ssh"), "cs: can't translate service");
    assert_eq!(error("tcp!127.0.0.1!99999"), "cs: can't translate service");
    assert_eq!(error("tcp!nosuchhost.invalid!80"), "cs: unknown host");
    assert_eq!(error("tcp!bad host!80"), "cs: unknown host");
    assert_eq!(error("tcp"), "bad format request");
    assert_eq!(error("tcp!a!b!c"), "bad format request");
    assert_eq!(error("tcp!127.0.0.1"), "bad format request");
    assert_eq!(error("il!127.0.0.1!80"), "cs: network unavailable: il");
    // After a failed request there is nothing to read.
    let chan = open(&ctx, "/net/cs", ORDWR);
    ctx.write_chan(&chan, b"tcp!127.0.0.1!80", 0).unwrap();
    assert!(ctx.write_chan(&chan, b"tcp!127.0.0.1!nosuch", 0).is_err());
    assert_eq!(read_text(&ctx, &chan).unwrap(), "");
}

#[test]
fn cs_reads_services_through_the_callers_namespace() {
    let (fs, ctx) = setup();
    fs.add("other", "inferno", Some("tcp=myservice port=1234\n"));
    let child = sibling(&ctx, "child");
    child.pctl(kernel::proc::FORKNS, &[]).unwrap();
    child.bind("#Tother", "/lib/ndb", MREPL).unwrap();
    assert_eq!(
        cs(&child, "tcp!127.0.0.1!myservice").unwrap(),
        ["/net/tcp/clone 127.0.0.1!1234\n"]
    );
    assert_eq!(
        cs(&ctx, "tcp!127.0.0.1!myservice").unwrap(),
        ["/net/tcp/clone 127.0.0.1!7777\n"]
    );
}

#[test]
fn cs_answers_clients_that_seek_and_clients_that_do_not() {
    let (_, ctx) = setup();
    for seek in [true, false] {
        let fd = ctx.open("/net/cs", ORDWR).unwrap();
        ctx.write(fd, b"tcp!localhost!7").unwrap();
        if seek {
            ctx.seek(fd, 0, Whence::Start).unwrap();
        }
        let mut buf = [0u8; 256];
        let count = ctx.read(fd, &mut buf).unwrap();
        assert_eq!(&buf[..count], b"/net/tcp/clone 127.0.0.1!7\n");
        let count = ctx.read(fd, &mut buf).unwrap();
        assert_eq!(&buf[..count], b"/net/tcp/clone ::1!7\n");
        assert_eq!(ctx.read(fd, &mut buf).unwrap(), 0);
        ctx.close(fd).unwrap();
    }
}

#[test]
fn cs_general_queries_return_database_entries() {
    let (_, ctx) = setup();
    assert_eq!(
        cs(&ctx, "!tcp=multi").unwrap(),
        ["tcp=multi\n", "port=7778\n"]
    );
    assert_eq!(
        cs(&ctx, "!port=7777 tcp=*").unwrap(),
        ["tcp=myservice port=7777\n"]
    );
    assert_eq!(error_text(cs(&ctx, "!tcp=none").unwrap_err()), "no match");
}

#[test]
fn dns_answers_localhost_without_the_resolver() {
    let (_, ctx) = setup();
    let dns = |request: &str| query(&ctx, "/net/dns", request);
    assert_eq!(dns("localhost ip").unwrap(), ["localhost ip 127.0.0.1\n"]);
    assert_eq!(dns("localhost ipv6").unwrap(), ["localhost ipv6 ::1\n"]);
    assert_eq!(dns("localhost aaaa").unwrap(), ["localhost aaaa ::1\n"]);
    assert_eq!(dns("127.0.0.1 ip").unwrap(), ["127.0.0.1 ip 127.0.0.1\n"]);
    let error = |request: &str| error_text(dns(request).unwrap_err());
    assert_eq!(error("nosuchhost.invalid ip"), "dns: name does not exist");
    assert_eq!(error("127.0.0.1 ipv6"), "dns: resource does not exist");
    assert_eq!(error("localhost"), "dns: bad request: usage: name ip|ipv6");
    assert_eq!(error("localhost mx"), "dns: unsupported type: mx");
}

#[test]
fn a_dialled_call_uses_cs_and_clone_like_dial() {
    // The steps Inferno's dial(2) takes, all through files of the namespace.
    let (_, ctx) = setup();
    let (announced, port) = announce(&ctx, "127.0.0.1!0");
    let listener = sibling(&ctx, "listener");
    let dir = announced.dir.clone();
    let server = thread::spawn(move || {
        let ctl = open(&listener, &format!("{dir}/listen"), ORDWR);
        let number = read_text(&listener, &ctl).unwrap();
        let data = open(&listener, &format!("/net/tcp/{number}/data"), ORDWR);
        listener.write_chan(&data, b"welcome", 0).unwrap();
        drop(ctl);
        data
    });
    let answers = cs(&ctx, &format!("tcp!localhost!{port}")).unwrap();
    let (clone, address) = answers[0].trim().split_once(' ').unwrap();
    let ctl_chan = open(&ctx, clone, ORDWR);
    let number = read_text(&ctx, &ctl_chan).unwrap();
    ctl(&ctx, &ctl_chan, &format!("connect {address}")).unwrap();
    let data = open(&ctx, &format!("/net/tcp/{number}/data"), ORDWR);
    assert_eq!(read_exactly(&ctx, &data, 7), b"welcome");
    drop(server.join().unwrap());
}
