//! Host sockets for `#I` (Inferno `emu/port/ipif-posix.c`): one non-blocking socket per
//! conversation, and every wait on it (connect, accept, receive, send on a full buffer) made
//! interruptible.
//!
//! Sockets are IPv6 sockets with `IPV6_V6ONLY` off wherever the host has IPv6, so one socket
//! reaches both families: IPv4 addresses travel as v4-mapped IPv6 addresses (`::ffff:a.b.c.d`),
//! which is also how Inferno keeps every address internally, and come back out as plain IPv4.
//! A host without IPv6 gets IPv4 sockets and refuses IPv6 addresses.
//!
//! Invariants:
//! - No call blocks in the host: sockets are `O_NONBLOCK`, and a wait is a loop of `poll` with
//!   a [`POLL_ROUND`] timeout that calls `ctx.check()` (and the conversation's own liveness
//!   check) every round, so an interrupt, a kill or a hangup ends it within one round.
//! - Sends use `MSG_NOSIGNAL`: a closed peer is an error, never a SIGPIPE for all of ember.
//! - The descriptor is closed only when the last `Arc<Socket>` goes, so an operation in
//!   progress never finds its descriptor number reused under it.

use kernel::{Ctx, Error, Result};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    self, AddressFamily, Backlog, MsgFlags, Shutdown, SockFlag, SockType, SockaddrStorage, sockopt,
};
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// Longest a wait sleeps in the host before looking for an interrupt again.
pub const POLL_ROUND: Duration = Duration::from_millis(100);

/// How many calls may wait to be accepted on an announced tcp conversation.
const BACKLOG: i32 = 128;

/// Which transport a socket carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// One host socket.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    /// True for a dual-stack IPv6 socket, false for an IPv4-only one.
    inet6: bool,
    transport: Transport,
}

/// What a wait is for.
#[derive(Clone, Copy)]
enum Ready {
    Read,
    Write,
}

impl Socket {
    /// A fresh, unbound socket: dual-stack IPv6 if the host has it, else IPv4.
    pub fn new(transport: Transport) -> Result<Socket> {
        let kind = match transport {
            Transport::Tcp => SockType::Stream,
            Transport::Udp => SockType::Datagram,
        };
        let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
        let socket = match socket::socket(AddressFamily::Inet6, kind, flags, None) {
            Ok(fd) => {
                // Without this the socket would only reach IPv6 peers; if the host refuses,
                // the socket still works for IPv6.
                let _ = socket::setsockopt(&fd, sockopt::Ipv6V6Only, &false);
                Socket {
                    fd,
                    inet6: true,
                    transport,
                }
            }
            Err(Errno::EAFNOSUPPORT) => Socket {
                fd: socket::socket(AddressFamily::Inet, kind, flags, None).map_err(os_error)?,
                inet6: false,
                transport,
            },
            Err(errno) => return Err(os_error(errno)),
        };
        // As Inferno: small writes go out at once; datagrams may be broadcast.
        match transport {
            Transport::Tcp => {
                let _ = socket::setsockopt(&socket.fd, sockopt::TcpNoDelay, &true);
            }
            Transport::Udp => {
                let _ = socket::setsockopt(&socket.fd, sockopt::Broadcast, &true);
            }
        }
        Ok(socket)
    }

    /// Gives the socket local address `addr` (port 0: the host picks one).
    pub fn bind(&self, addr: SocketAddr) -> Result<()> {
        if self.transport == Transport::Tcp {
            // A restarted server can announce its port again at once, as in Inferno.
            let _ = socket::setsockopt(&self.fd, sockopt::ReuseAddr, &true);
        }
        let host = self.host_addr(addr)?;
        socket::bind(self.fd.as_raw_fd(), &host).map_err(os_error)
    }

    /// Starts accepting calls (tcp).
    pub fn listen(&self) -> Result<()> {
        let backlog = Backlog::new(BACKLOG).unwrap_or(Backlog::MAXCONN);
        socket::listen(&self.fd, backlog).map_err(os_error)
    }

    /// Connects to `addr`, waiting for the handshake. `alive` is asked every round whether
    /// the conversation still wants the answer.
    pub fn connect(
        &self,
        ctx: &Ctx,
        addr: SocketAddr,
        alive: &dyn Fn() -> Result<()>,
    ) -> Result<()> {
        let host = self.host_addr(addr)?;
        match socket::connect(self.fd.as_raw_fd(), &host) {
            Ok(()) => return Ok(()),
            Err(Errno::EINPROGRESS | Errno::EAGAIN | Errno::EINTR) => {}
            Err(errno) => return Err(os_error(errno)),
        }
        self.wait(ctx, Ready::Write, alive)?;
        match socket::getsockopt(&self.fd, sockopt::SocketError) {
            Ok(0) => Ok(()),
            Ok(code) => Err(os_error(Errno::from_raw(code))),
            Err(errno) => Err(os_error(errno)),
        }
    }

    /// Waits for a call on a listening socket and returns its socket and the caller's address.
    pub fn accept(
        &self,
        ctx: &Ctx,
        alive: &dyn Fn() -> Result<()>,
    ) -> Result<(Socket, SocketAddr)> {
        // std's listener accepts without unsafe code; it shares this socket's open file (and
        // so its non-blocking mode) through a duplicate descriptor.
        let listener = std::net::TcpListener::from(self.fd.try_clone().map_err(io_error)?);
        loop {
            match listener.accept() {
                Ok((stream, remote)) => {
                    stream.set_nonblocking(true).map_err(io_error)?;
                    let _ = stream.set_nodelay(true);
                    let call = Socket {
                        fd: OwnedFd::from(stream),
                        inet6: self.inet6,
                        transport: self.transport,
                    };
                    return Ok((call, unmap(remote)));
                }
                // A caller that gave up before being accepted is not an error for the listener.
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::WouldBlock
                            | ErrorKind::Interrupted
                            | ErrorKind::ConnectionAborted
                    ) => {}
                Err(error) => return Err(io_error(error)),
            }
            self.wait(ctx, Ready::Read, alive)?;
        }
    }

    /// The local address, v4-mapped addresses shown as IPv4.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        let storage: SockaddrStorage =
            socket::getsockname(self.fd.as_raw_fd()).map_err(os_error)?;
        from_host(&storage).ok_or_else(|| Error::msg("not an internet address"))
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        let storage: SockaddrStorage =
            socket::getpeername(self.fd.as_raw_fd()).map_err(os_error)?;
        from_host(&storage).ok_or_else(|| Error::msg("not an internet address"))
    }

    /// Receives what the host has (waiting for something): a stream's next bytes, or one
    /// datagram. 0 is end of stream.
    pub fn recv(&self, ctx: &Ctx, buf: &mut [u8], alive: &dyn Fn() -> Result<()>) -> Result<usize> {
        loop {
            match socket::recv(self.fd.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
                Ok(count) => return Ok(count),
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(errno) => return Err(os_error(errno)),
            }
            self.wait(ctx, Ready::Read, alive)?;
        }
    }

    /// Receives one datagram and the address it came from.
    pub fn recv_from(
        &self,
        ctx: &Ctx,
        buf: &mut [u8],
        alive: &dyn Fn() -> Result<()>,
    ) -> Result<(usize, Option<SocketAddr>)> {
        loop {
            match socket::recvfrom::<SockaddrStorage>(self.fd.as_raw_fd(), buf) {
                Ok((count, from)) => return Ok((count, from.as_ref().and_then(from_host))),
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(errno) => return Err(os_error(errno)),
            }
            self.wait(ctx, Ready::Read, alive)?;
        }
    }

    /// Sends `data`, to `to` or to the connected peer. A stream sends all of it, waiting for
    /// room as needed; if a wait is ended part way, the count already sent is returned. A
    /// datagram socket sends `data` as one datagram.
    pub fn send(
        &self,
        ctx: &Ctx,
        data: &[u8],
        to: Option<SocketAddr>,
        alive: &dyn Fn() -> Result<()>,
    ) -> Result<usize> {
        let to = to.map(|addr| self.host_addr(addr)).transpose()?;
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
        let mut sent = 0;
        loop {
            let rest = &data[sent..];
            let result = match &to {
                Some(host) => socket::sendto(self.fd.as_raw_fd(), rest, host, flags),
                None => socket::send(self.fd.as_raw_fd(), rest, flags),
            };
            match result {
                Ok(count) => {
                    sent += count;
                    if self.transport == Transport::Udp || sent >= data.len() {
                        return Ok(sent);
                    }
                }
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(errno) if sent > 0 && errno != Errno::EMSGSIZE => return Ok(sent),
                Err(errno) => return Err(os_error(errno)),
            }
            if let Err(error) = self.wait(ctx, Ready::Write, alive) {
                return if sent > 0 { Ok(sent) } else { Err(error) };
            }
        }
    }

    /// Abortive close (tcp `hangup`): once the last reference goes the peer gets a reset
    /// rather than an orderly end, and local readers see end of stream at once.
    pub fn hangup(&self) {
        let abort = nix::libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        let _ = socket::setsockopt(&self.fd, sockopt::Linger, &abort);
        let _ = socket::shutdown(self.fd.as_raw_fd(), Shutdown::Read);
    }

    /// Turns on keepalive probes, starting after `idle` without traffic (host default if none).
    pub fn keepalive(&self, idle: Option<Duration>) -> Result<()> {
        socket::setsockopt(&self.fd, sockopt::KeepAlive, &true).map_err(os_error)?;
        if let Some(idle) = idle {
            let seconds = u32::try_from(idle.as_secs().max(1)).unwrap_or(u32::MAX);
            socket::setsockopt(&self.fd, sockopt::TcpKeepIdle, &seconds).map_err(os_error)?;
        }
        Ok(())
    }

    /// The host form of `addr` for this socket's family.
    fn host_addr(&self, addr: SocketAddr) -> Result<SockaddrStorage> {
        if self.inet6 {
            let ip = match addr.ip() {
                IpAddr::V4(ip) => ip.to_ipv6_mapped(),
                IpAddr::V6(ip) => ip,
            };
            let scope = match addr {
                SocketAddr::V6(v6) => v6.scope_id(),
                SocketAddr::V4(_) => 0,
            };
            let v6 = SocketAddrV6::new(ip, addr.port(), 0, scope);
            return Ok(SockaddrStorage::from(v6));
        }
        let ip = match addr.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(ip) => ip
                .to_ipv4_mapped()
                .or_else(|| ip.is_unspecified().then_some(Ipv4Addr::UNSPECIFIED))
                .ok_or_else(|| Error::msg("address family not supported"))?,
        };
        let v4 = SocketAddrV4::new(ip, addr.port());
        Ok(SockaddrStorage::from(v4))
    }

    /// Waits until the socket is ready for `ready`, the call is interrupted or the process
    /// killed, or `alive` says the conversation has gone.
    fn wait(&self, ctx: &Ctx, ready: Ready, alive: &dyn Fn() -> Result<()>) -> Result<()> {
        let _state = ctx.proc.enter_state("release");
        let events = match ready {
            Ready::Read => PollFlags::POLLIN,
            Ready::Write => PollFlags::POLLOUT,
        };
        let round = PollTimeout::try_from(POLL_ROUND).unwrap_or(PollTimeout::ZERO);
        loop {
            ctx.check()?;
            alive()?;
            let mut fds = [PollFd::new(self.fd.as_fd(), events)];
            match poll(&mut fds, round) {
                // Errors and hang-ups count as ready: the next call reports them.
                Ok(count) if count > 0 => return Ok(()),
                Ok(_) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(os_error(errno)),
            }
        }
    }
}

/// A host address as a std one, v4-mapped IPv6 addresses turned back into IPv4.
fn from_host(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    storage
        .as_sockaddr_in6()
        .map(|v6| unmap(SocketAddr::V6(SocketAddrV6::from(*v6))))
}

/// `addr` with a v4-mapped IPv6 address written as IPv4.
pub fn unmap(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

/// The unspecified address, as Inferno prints it when nothing is set (`::!0`).
pub fn unspecified(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
}

/// A host error reported through std.
fn io_error(error: std::io::Error) -> Error {
    match error.raw_os_error() {
        Some(code) => os_error(Errno::from_raw(code)),
        None => Error::Msg(error.to_string()),
    }
}

/// A host error in Plan 9's words where Plan 9 has words for it, else the host's, in lower
/// case as Plan 9 errors are.
pub fn os_error(errno: Errno) -> Error {
    let words = match errno {
        Errno::ECONNREFUSED => "connection refused",
        Errno::ETIMEDOUT => "connection timed out",
        Errno::ECONNRESET => "connection reset",
        Errno::ECONNABORTED => "connection aborted",
        Errno::EPIPE | Errno::ESHUTDOWN => return Error::Hungup,
        Errno::EACCES | Errno::EPERM => return Error::Perm,
        Errno::EADDRINUSE => "address in use",
        Errno::EADDRNOTAVAIL => "address not available",
        Errno::ENETUNREACH => "network unreachable",
        Errno::EHOSTUNREACH => "host unreachable",
        Errno::ENETDOWN => "network is down",
        Errno::EHOSTDOWN => "host is down",
        Errno::ENOTCONN | Errno::EDESTADDRREQ => "not connected",
        Errno::EISCONN => "already connected",
        Errno::EAFNOSUPPORT => "address family not supported",
        Errno::EMSGSIZE => "message too long",
        Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM => "no free sockets",
        Errno::EINVAL => "bad arg in system call",
        other => {
            let desc = other.desc();
            let mut words: String = desc.chars().take(1).flat_map(char::to_lowercase).collect();
            words.push_str(&desc[desc.chars().next().map_or(0, char::len_utf8)..]);
            return Error::Msg(words);
        }
    };
    Error::msg(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_come_back_as_ipv4() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:80".parse().unwrap();
        assert_eq!(unmap(mapped), "127.0.0.1:80".parse().unwrap());
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(unmap(v6), v6);
    }

    #[test]
    fn host_errors_read_like_plan9() {
        assert_eq!(
            os_error(Errno::ECONNREFUSED).to_string(),
            "connection refused"
        );
        assert_eq!(
            os_error(Errno::ETIMEDOUT).to_string(),
            "connection timed out"
        );
        assert_eq!(os_error(Errno::EPIPE), Error::Hungup);
        // Anything else: the host's words, starting in lower case.
        let other = os_error(Errno::ENOPROTOOPT).to_string();
        assert!(other.starts_with(|ch: char| ch.is_lowercase()), "{other}");
    }
}
