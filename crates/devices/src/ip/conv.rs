//! Conversations of `#I` (Inferno `devip.c`'s `Conv` and `Proto`): the per-protocol table of
//! conversations, their life cycle, the ctl requests and the data path.
//!
//! Invariants:
//! - A conversation is in use while some open of its `ctl` or `data` exists (`opens > 0`).
//!   When the last one closes its socket is closed and it returns to `Closed`, owned by
//!   `network`, ready to be handed out again by `clone`. Each new use bumps `generation`, so
//!   a wait that began in an earlier use (a `listen` open) notices and gives up.
//! - A protocol never has more than [`MAX_CONVS`] conversations; numbers are never reused
//!   for anything but the same slot.
//! - Lock order: a protocol's table, then a conversation's state. Nothing blocks while
//!   holding either: waits hold only an `Arc` of the socket.
//! - ctl text is parsed against one table ([`VERBS`]) into a [`Ctl`] before anything acts.

use super::socket::{Socket, Transport, unmap, unspecified};
use kernel::text::tokenize;
use kernel::{Ctx, Error, Result};
use parking_lot::Mutex;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Most conversations one protocol may have (Inferno's `MAXCONV`).
pub const MAX_CONVS: usize = 4096;

/// The owner of files that belong to no user, as in Inferno.
pub const NETWORK: &str = "network";

/// Length of a udp `headers` header: `raddr[16] laddr[16] ifcaddr[16] rport[2] lport[2]`.
pub const HEADER_LEN: usize = 52;
/// Length of a udp `oldheaders` header: `raddr[16] laddr[16] rport[2] lport[2]`.
pub const OLD_HEADER_LEN: usize = 36;
/// Length of a udp `headers4` header: `raddr[4] laddr[4] rport[2] lport[2]`.
pub const HEADER4_LEN: usize = 12;

/// The protocols of `#I`, in directory order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::Tcp, Protocol::Udp];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(index: usize) -> Option<Protocol> {
        Protocol::ALL.get(index).copied()
    }

    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|proto| proto.name() == name)
    }

    fn transport(self) -> Transport {
        match self {
            Protocol::Tcp => Transport::Tcp,
            Protocol::Udp => Transport::Udp,
        }
    }
}

/// A conversation's state, as `status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Connecting,
    Announced,
    Established,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Closed => "Closed",
            State::Connecting => "Connecting",
            State::Announced => "Announced",
            State::Established => "Established",
        }
    }
}

/// How udp data carries addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Headers {
    /// Plain datagrams to and from the connected remote.
    None,
    /// 52-byte header with IPv6-format addresses (`headers`).
    V6,
    /// 36-byte header without the interface address (`oldheaders`).
    Old,
    /// 12-byte header with IPv4 addresses (`headers4`).
    V4,
}

impl Headers {
    pub fn len(self) -> usize {
        match self {
            Headers::None => 0,
            Headers::V6 => HEADER_LEN,
            Headers::Old => OLD_HEADER_LEN,
            Headers::V4 => HEADER4_LEN,
        }
    }

    /// Lays out a header for a datagram from `remote` received on `local`.
    fn encode(self, remote: SocketAddr, local: SocketAddr, out: &mut [u8]) {
        let out = &mut out[..self.len()];
        out.fill(0);
        match self {
            Headers::None => {}
            Headers::V6 | Headers::Old => {
                out[0..16].copy_from_slice(&ipv6_bytes(remote.ip()));
                out[16..32].copy_from_slice(&ipv6_bytes(local.ip()));
                let ports = if self == Headers::V6 {
                    // Hosted, the interface address is the local address (as Inferno).
                    out[32..48].copy_from_slice(&ipv6_bytes(local.ip()));
                    48
                } else {
                    32
                };
                out[ports..ports + 2].copy_from_slice(&remote.port().to_be_bytes());
                out[ports + 2..ports + 4].copy_from_slice(&local.port().to_be_bytes());
            }
            Headers::V4 => {
                // A datagram from an IPv6 peer has no IPv4 form; its address stays zero.
                if let IpAddr::V4(ip) = unmap(remote).ip() {
                    out[0..4].copy_from_slice(&ip.octets());
                }
                if let IpAddr::V4(ip) = unmap(local).ip() {
                    out[4..8].copy_from_slice(&ip.octets());
                }
                out[8..10].copy_from_slice(&remote.port().to_be_bytes());
                out[10..12].copy_from_slice(&local.port().to_be_bytes());
            }
        }
    }

    /// The destination a header names.
    fn destination(self, header: &[u8]) -> SocketAddr {
        let port_at = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
        match self {
            Headers::V4 => {
                let ip = std::net::Ipv4Addr::new(header[0], header[1], header[2], header[3]);
                SocketAddr::new(IpAddr::V4(ip), port_at(8))
            }
            _ => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&header[0..16]);
                let ip = IpAddr::V6(std::net::Ipv6Addr::from(octets));
                let port = if self == Headers::V6 { 48 } else { 32 };
                unmap(SocketAddr::new(ip, port_at(port)))
            }
        }
    }
}

/// An address in Inferno's 16-byte form: IPv4 as v4-mapped IPv6.
fn ipv6_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// `ip!port` as `local` and `remote` print it: IPv4 dotted, IPv6 in colon form.
pub fn endpoint(addr: Option<SocketAddr>) -> String {
    let addr = unmap(addr.unwrap_or_else(|| unspecified(0)));
    format!("{}!{}", addr.ip(), addr.port())
}

/// One row of the ctl table (Plan 9 `Cmdtab`).
pub struct Verb {
    pub name: &'static str,
    pub usage: &'static str,
    min_args: usize,
    max_args: usize,
    /// The only protocol the verb applies to, if it is not for both.
    only: Option<Protocol>,
}

const fn verb(
    name: &'static str,
    usage: &'static str,
    args: (usize, usize),
    only: Option<Protocol>,
) -> Verb {
    Verb {
        name,
        usage,
        min_args: args.0,
        max_args: args.1,
        only,
    }
}

/// Every ctl request `#I` understands.
pub const VERBS: &[Verb] = &[
    verb("connect", "connect addr!port [localport]", (1, 2), None),
    verb("announce", "announce [addr!]port", (1, 1), None),
    verb("bind", "bind [addr!]port", (1, 1), None),
    verb("hangup", "hangup", (0, 0), Some(Protocol::Tcp)),
    verb("keepalive", "keepalive [ms]", (0, 1), Some(Protocol::Tcp)),
    verb("headers", "headers", (0, 0), Some(Protocol::Udp)),
    verb("oldheaders", "oldheaders", (0, 0), Some(Protocol::Udp)),
    verb("headers4", "headers4", (0, 0), Some(Protocol::Udp)),
    verb("ttl", "ttl n", (1, 1), None),
    verb("tos", "tos n", (1, 1), None),
    verb("ignoreadvice", "ignoreadvice", (0, 0), None),
];

/// A parsed ctl request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ctl {
    Connect {
        remote: SocketAddr,
        local_port: Option<u16>,
    },
    Announce(SocketAddr),
    Bind(SocketAddr),
    Hangup,
    Keepalive(Option<Duration>),
    Headers(Headers),
    /// Accepted and ignored (`ttl`, `tos`, `ignoreadvice`).
    Ignored,
}

impl Ctl {
    /// Parses one ctl message for a conversation of `proto`.
    pub fn parse(proto: Protocol, text: &str) -> Result<Ctl> {
        let words = tokenize(text);
        let Some(name) = words.first() else {
            return Err(Error::msg("short control request"));
        };
        let verb = VERBS
            .iter()
            .find(|verb| verb.name == name)
            .ok_or_else(|| Error::msg(format!("unknown control request: {name}")))?;
        if let Some(only) = verb.only
            && only != proto
        {
            return Err(Error::msg(format!(
                "unknown control request: {name} is for {} only",
                only.name()
            )));
        }
        let args = &words[1..];
        if args.len() < verb.min_args || args.len() > verb.max_args {
            return Err(Error::msg(format!(
                "bad args to {name}: usage: {}",
                verb.usage
            )));
        }
        Ok(match verb.name {
            "connect" => Ctl::Connect {
                remote: parse_remote(&args[0])?,
                local_port: args.get(1).map(|port| parse_port(port)).transpose()?,
            },
            "announce" => Ctl::Announce(parse_local(&args[0])?),
            "bind" => Ctl::Bind(parse_local(&args[0])?),
            "hangup" => Ctl::Hangup,
            "keepalive" => Ctl::Keepalive(
                args.first()
                    .map(|ms| {
                        ms.parse::<u64>()
                            .map(Duration::from_millis)
                            .map_err(|_| Error::msg(format!("bad keepalive time: {ms}")))
                    })
                    .transpose()?,
            ),
            "headers" => Ctl::Headers(Headers::V6),
            "oldheaders" => Ctl::Headers(Headers::Old),
            "headers4" => Ctl::Headers(Headers::V4),
            _ => Ctl::Ignored,
        })
    }
}

/// An IP address as Plan 9 writes it: IPv4 dotted or IPv6 colon form.
fn parse_ip(text: &str) -> Result<IpAddr> {
    text.parse::<IpAddr>()
        .map_err(|_| Error::msg(format!("invalid IP address: {text}")))
}

/// A port number.
fn parse_port(text: &str) -> Result<u16> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Error::msg(format!("non-numeric port number: {text}")));
    }
    text.parse::<u16>()
        .map_err(|_| Error::msg(format!("port number out of range: {text}")))
}

/// A remote address `ip!port`, with Plan 9's optional `!r` (restricted) suffix ignored.
fn parse_remote(text: &str) -> Result<SocketAddr> {
    let mut fields = text.split('!');
    let (Some(ip), Some(port)) = (fields.next(), fields.next()) else {
        return Err(Error::msg(format!("malformed address: {text}")));
    };
    match fields.next() {
        None | Some("r") if fields.next().is_none() => {}
        _ => return Err(Error::msg(format!("malformed address: {text}"))),
    }
    Ok(SocketAddr::new(parse_ip(ip)?, parse_port(port)?))
}

/// A local address `[ip!]port`: no ip or `*` is any address; port `*` or 0 lets the host pick.
fn parse_local(text: &str) -> Result<SocketAddr> {
    let text = text.strip_suffix("!r").unwrap_or(text);
    let (ip, port) = match text.split_once('!') {
        Some((ip, port)) => (ip, port),
        None => ("*", text),
    };
    let ip = match ip {
        "*" => unspecified(0).ip(),
        ip => parse_ip(ip)?,
    };
    let port = match port {
        "*" => 0,
        port => parse_port(port)?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// The changing part of a conversation.
struct Inner {
    /// Opens of `ctl` and `data`.
    opens: usize,
    /// Bumped each time the conversation is taken into use or released.
    generation: u64,
    owner: String,
    perm: u32,
    state: State,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    /// None after `hangup` (and while closed).
    socket: Option<Arc<Socket>>,
    /// Whether the socket has been given a local address by `bind`, `announce` or `connect`.
    bound: bool,
    headers: Headers,
}

/// One conversation (`N/` under a protocol directory).
pub struct Conv {
    pub proto: Protocol,
    pub index: usize,
    inner: Mutex<Inner>,
    /// Serialises writes to `data`, so concurrent writers' bytes do not interleave.
    write_lock: Mutex<()>,
}

/// What `stat` needs of a conversation.
pub struct ConvInfo {
    pub owner: String,
    pub perm: u32,
}

impl Conv {
    fn new(proto: Protocol, index: usize) -> Conv {
        Conv {
            proto,
            index,
            inner: Mutex::new(Inner {
                opens: 0,
                generation: 0,
                owner: NETWORK.to_string(),
                perm: 0o660,
                state: State::Closed,
                local: None,
                remote: None,
                socket: None,
                bound: false,
                headers: Headers::None,
            }),
            write_lock: Mutex::new(()),
        }
    }

    pub fn info(&self) -> ConvInfo {
        let inner = self.inner.lock();
        ConvInfo {
            owner: inner.owner.clone(),
            perm: inner.perm,
        }
    }

    pub fn state(&self) -> State {
        self.inner.lock().state
    }

    pub fn local_text(&self) -> String {
        endpoint(self.inner.lock().local) + "\n"
    }

    pub fn remote_text(&self) -> String {
        endpoint(self.inner.lock().remote) + "\n"
    }

    pub fn status_text(&self) -> String {
        format!("{}\n", self.state().word())
    }

    /// Takes a free conversation into use for `user`, with `socket`.
    fn claim(inner: &mut Inner, user: &str, socket: Socket, state: State) {
        inner.opens = 1;
        inner.generation += 1;
        inner.owner = user.to_string();
        inner.perm = 0o660;
        inner.state = state;
        inner.local = socket.local_addr().ok();
        inner.remote = if state == State::Established {
            socket.peer_addr().ok()
        } else {
            None
        };
        inner.bound = state != State::Closed;
        inner.socket = Some(Arc::new(socket));
        inner.headers = Headers::None;
    }

    /// An open of `ctl` or `data` by path. A conversation nobody uses is claimed for the
    /// opener with a fresh socket; otherwise `check` decides (the permission check).
    pub fn open(&self, user: &str, check: impl FnOnce(&ConvInfo) -> Result<()>) -> Result<()> {
        let mut inner = self.inner.lock();
        if inner.opens == 0 {
            let socket = Socket::new(self.proto.transport())?;
            Conv::claim(&mut inner, user, socket, State::Closed);
            return Ok(());
        }
        check(&ConvInfo {
            owner: inner.owner.clone(),
            perm: inner.perm,
        })?;
        inner.opens += 1;
        Ok(())
    }

    /// The last-but-one close does nothing; the last releases the conversation.
    pub fn close(&self) {
        let released = {
            let mut inner = self.inner.lock();
            inner.opens = inner.opens.saturating_sub(1);
            if inner.opens > 0 {
                return;
            }
            inner.generation += 1;
            inner.owner = NETWORK.to_string();
            inner.perm = 0o660;
            inner.state = State::Closed;
            inner.local = None;
            inner.remote = None;
            inner.bound = false;
            inner.headers = Headers::None;
            inner.socket.take()
        };
        drop(released);
    }

    /// Changes owner and permissions (wstat of `ctl` or `data`).
    pub fn set_owner(&self, owner: Option<&str>, perm: Option<u32>) {
        let mut inner = self.inner.lock();
        if let Some(owner) = owner {
            inner.owner = owner.to_string();
        }
        if let Some(perm) = perm {
            inner.perm = perm & 0o777;
        }
    }

    /// Fails once the use of the conversation that began at `generation` is over, or its
    /// socket has been hung up.
    fn alive(&self, generation: u64) -> Result<()> {
        let inner = self.inner.lock();
        if inner.generation != generation || inner.socket.is_none() {
            Err(Error::Hungup)
        } else {
            Ok(())
        }
    }

    /// The socket to use, and the generation it belongs to.
    fn socket(&self) -> Result<(Arc<Socket>, u64, Headers)> {
        let inner = self.inner.lock();
        let socket = inner.socket.clone().ok_or(Error::Hungup)?;
        Ok((socket, inner.generation, inner.headers))
    }

    /// Acts on one ctl message.
    pub fn ctl(&self, ctx: &Ctx, text: &str) -> Result<()> {
        match Ctl::parse(self.proto, text)? {
            Ctl::Connect { remote, local_port } => self.connect(ctx, remote, local_port),
            Ctl::Announce(local) => self.announce(local),
            Ctl::Bind(local) => {
                let mut inner = self.inner.lock();
                self.bind_locked(&mut inner, local)
            }
            Ctl::Hangup => {
                let socket = {
                    let mut inner = self.inner.lock();
                    inner.state = State::Closed;
                    inner.socket.take()
                };
                if let Some(socket) = socket {
                    socket.hangup();
                }
                Ok(())
            }
            Ctl::Keepalive(idle) => {
                let (socket, _, _) = self.socket().map_err(|_| Error::msg("not connected"))?;
                socket.keepalive(idle)
            }
            Ctl::Headers(headers) => {
                self.inner.lock().headers = headers;
                Ok(())
            }
            Ctl::Ignored => Ok(()),
        }
    }

    /// Binds the conversation's socket to `local`. A socket bound before is replaced by a
    /// fresh one, since a host socket takes only one local address.
    fn bind_locked(&self, inner: &mut Inner, local: SocketAddr) -> Result<()> {
        if inner.socket.is_none() {
            return Err(Error::Hungup);
        }
        if inner.bound {
            // The old socket closes (once no wait holds it) before the new one binds.
            inner.socket = Some(Arc::new(Socket::new(self.proto.transport())?));
        }
        let socket = inner.socket.clone().ok_or(Error::Hungup)?;
        socket.bind(local)?;
        inner.bound = true;
        inner.local = socket.local_addr().ok();
        Ok(())
    }

    fn announce(&self, local: SocketAddr) -> Result<()> {
        let mut inner = self.inner.lock();
        if inner.state != State::Closed {
            return Err(Error::msg("connection in use"));
        }
        self.bind_locked(&mut inner, local)?;
        if self.proto == Protocol::Tcp {
            let socket = inner.socket.clone().ok_or(Error::Hungup)?;
            socket.listen()?;
        }
        inner.remote = None;
        inner.state = State::Announced;
        Ok(())
    }

    /// Connects inside the ctl write, as hosted Inferno does; the conversation's lock is not
    /// held while waiting.
    fn connect(&self, ctx: &Ctx, remote: SocketAddr, local_port: Option<u16>) -> Result<()> {
        let (socket, generation) = {
            let mut inner = self.inner.lock();
            if inner.state != State::Closed {
                return Err(Error::msg("connection in use"));
            }
            if let Some(port) = local_port {
                self.bind_locked(&mut inner, unspecified(port))?;
            }
            let socket = inner.socket.clone().ok_or(Error::Hungup)?;
            inner.remote = Some(remote);
            inner.state = State::Connecting;
            (socket, inner.generation)
        };
        let result = socket.connect(ctx, remote, &|| self.alive(generation));
        let mut inner = self.inner.lock();
        if inner.generation != generation {
            return result.and(Err(Error::Hungup));
        }
        match result {
            Ok(()) => {
                inner.state = State::Established;
                inner.bound = true;
                inner.local = socket.local_addr().ok();
                inner.remote = socket.peer_addr().ok().or(Some(remote));
                Ok(())
            }
            Err(error) => {
                // A host socket that failed to connect cannot be used again; the next
                // connect gets a fresh one.
                inner.state = State::Closed;
                if inner.socket.is_some() {
                    inner.socket = Some(Arc::new(Socket::new(self.proto.transport())?));
                    inner.bound = false;
                    inner.local = None;
                }
                Err(error)
            }
        }
    }

    /// Waits for a call on an announced tcp conversation (opening `listen`), returning the
    /// call's socket.
    pub fn accept(&self, ctx: &Ctx) -> Result<Socket> {
        let (socket, generation) = {
            let inner = self.inner.lock();
            if inner.state != State::Announced {
                return Err(Error::msg("not announced"));
            }
            if self.proto != Protocol::Tcp {
                return Err(Error::msg("udp conversations have no calls to listen for"));
            }
            (inner.socket.clone().ok_or(Error::Hungup)?, inner.generation)
        };
        let alive = || {
            self.alive(generation)?;
            if self.state() != State::Announced {
                return Err(Error::Hungup);
            }
            Ok(())
        };
        // A hangup or close shuts the listening socket, which the host may report as an
        // error of its own; the conversation's end is the better answer.
        let (call, _remote) = socket
            .accept(ctx, &alive)
            .map_err(|error| alive().err().unwrap_or(error))?;
        Ok(call)
    }

    /// Reads `data`: the next bytes of the stream, or the next datagram (behind its header in
    /// header mode).
    pub fn read(&self, ctx: &Ctx, buf: &mut [u8]) -> Result<usize> {
        let (socket, generation, headers) = self.socket()?;
        let alive = || self.alive(generation);
        if headers == Headers::None {
            return socket.recv(ctx, buf, &alive);
        }
        let header_len = headers.len();
        if buf.len() < header_len {
            return Err(Error::ShortIo);
        }
        let (header, body) = buf.split_at_mut(header_len);
        let (count, from) = socket.recv_from(ctx, body, &alive)?;
        let local = socket.local_addr().unwrap_or_else(|_| unspecified(0));
        headers.encode(from.unwrap_or_else(|| unspecified(0)), local, header);
        Ok(header_len + count)
    }

    /// Writes `data`: stream bytes, or one datagram (to the address in its header, in header
    /// mode).
    pub fn write(&self, ctx: &Ctx, data: &[u8]) -> Result<usize> {
        let (socket, generation, headers) = self.socket()?;
        let alive = || self.alive(generation);
        let _serial = loop {
            if let Some(guard) = self.write_lock.try_lock_for(super::socket::POLL_ROUND) {
                break guard;
            }
            ctx.check()?;
            alive()?;
        };
        if headers == Headers::None {
            return socket.send(ctx, data, None, &alive);
        }
        let header_len = headers.len();
        if data.len() < header_len {
            return Err(Error::ShortIo);
        }
        let to = headers.destination(&data[..header_len]);
        let sent = socket.send(ctx, &data[header_len..], Some(to), &alive)?;
        Ok(header_len + sent)
    }
}

/// The conversations of one protocol (Inferno `Proto`).
pub struct Proto {
    pub kind: Protocol,
    convs: Mutex<Vec<Arc<Conv>>>,
}

impl Proto {
    pub fn new(kind: Protocol) -> Proto {
        Proto {
            kind,
            convs: Mutex::new(Vec::new()),
        }
    }

    /// How many conversations exist (in use or not): the directory lists them all.
    pub fn count(&self) -> usize {
        self.convs.lock().len()
    }

    pub fn conv(&self, index: usize) -> Option<Arc<Conv>> {
        self.convs.lock().get(index).cloned()
    }

    /// Takes the first free conversation (or a new one) into use for `user` (Inferno
    /// `protoclone`). `call` is an accepted call's socket; without one a fresh socket is made.
    pub fn clone_conv(&self, user: &str, call: Option<Socket>) -> Result<Arc<Conv>> {
        let (socket, state) = match call {
            Some(socket) => (socket, State::Established),
            None => (Socket::new(self.kind.transport())?, State::Closed),
        };
        let mut convs = self.convs.lock();
        for conv in convs.iter() {
            let mut inner = conv.inner.lock();
            if inner.opens == 0 {
                Conv::claim(&mut inner, user, socket, state);
                return Ok(conv.clone());
            }
        }
        if convs.len() >= MAX_CONVS {
            return Err(Error::msg("no free conversations"));
        }
        let conv = Arc::new(Conv::new(self.kind, convs.len()));
        Conv::claim(&mut conv.inner.lock(), user, socket, state);
        convs.push(conv.clone());
        Ok(conv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctl_requests_parse_against_the_table() {
        assert_eq!(
            Ctl::parse(Protocol::Tcp, "connect 127.0.0.1!80\n").unwrap(),
            Ctl::Connect {
                remote: "127.0.0.1:80".parse().unwrap(),
                local_port: None
            }
        );
        assert_eq!(
            Ctl::parse(Protocol::Tcp, "connect ::1!80!r 7000").unwrap(),
            Ctl::Connect {
                remote: "[::1]:80".parse().unwrap(),
                local_port: Some(7000)
            }
        );
        assert_eq!(
            Ctl::parse(Protocol::Tcp, "announce *!6666").unwrap(),
            Ctl::Announce("[::]:6666".parse().unwrap())
        );
        assert_eq!(
            Ctl::parse(Protocol::Tcp, "announce 6666").unwrap(),
            Ctl::Announce("[::]:6666".parse().unwrap())
        );
        assert_eq!(
            Ctl::parse(Protocol::Udp, "bind 127.0.0.1!0").unwrap(),
            Ctl::Bind("127.0.0.1:0".parse().unwrap())
        );
        assert_eq!(
            Ctl::parse(Protocol::Tcp, "keepalive 5000").unwrap(),
            Ctl::Keepalive(Some(Duration::from_secs(5)))
        );
        assert_eq!(Ctl::parse(Protocol::Tcp, "ttl 5").unwrap(), Ctl::Ignored);
        assert_eq!(
            Ctl::parse(Protocol::Udp, "headers").unwrap(),
            Ctl::Headers(Headers::V6)
        );
    }

    #[test]
    fn bad_ctl_requests_say_what_is_wrong() {
        let error = |proto, text| Ctl::parse(proto, text).unwrap_err().to_string();
        assert_eq!(error(Protocol::Tcp, ""), "short control request");
        assert_eq!(
            error(Protocol::Tcp, "frob 1"),
            "unknown control request: frob"
        );
        assert_eq!(
            error(Protocol::Udp, "hangup"),
            "unknown control request: hangup is for tcp only"
        );
        assert_eq!(
            error(Protocol::Tcp, "headers"),
            "unknown control request: headers is for udp only"
        );
        assert_eq!(
            error(Protocol::Tcp, "connect"),
            "bad args to connect: usage: connect addr!port [localport]"
        );
        assert_eq!(
            error(Protocol::Tcp, "connect 1.2.3.4"),
            "malformed address: 1.2.3.4"
        );
        assert_eq!(
            error(Protocol::Tcp, "connect nonsense!80"),
            "invalid IP address: nonsense"
        );
        assert_eq!(
            error(Protocol::Tcp, "connect 1.2.3.4!http"),
            "non-numeric port number: http"
        );
        assert_eq!(
            error(Protocol::Tcp, "announce 70000"),
            "port number out of range: 70000"
        );
    }

    #[test]
    fn endpoints_print_like_inferno() {
        assert_eq!(endpoint(None), "::!0");
        assert_eq!(
            endpoint(Some("127.0.0.1:80".parse().unwrap())),
            "127.0.0.1!80"
        );
        assert_eq!(
            endpoint(Some("[::ffff:10.0.0.1]:7".parse().unwrap())),
            "10.0.0.1!7"
        );
        assert_eq!(endpoint(Some("[::1]:6666".parse().unwrap())), "::1!6666");
    }

    #[test]
    fn headers_round_trip_their_addresses() {
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:53".parse().unwrap();
        for headers in [Headers::V6, Headers::Old, Headers::V4] {
            let mut header = vec![0u8; headers.len()];
            headers.encode(remote, local, &mut header);
            assert_eq!(headers.destination(&header), remote, "{headers:?}");
        }
        let mut header = [0u8; HEADER_LEN];
        Headers::V6.encode(remote, local, &mut header);
        assert_eq!(header[10..16], [0xff, 0xff, 10, 1, 2, 3]);
        assert_eq!(header[48..52], [0x13, 0x88, 0, 53]);
    }
}
