//! The connection server and the resolver of `#I`: the files `cs` and `dns` (Inferno's
//! `appl/cmd/ndb/cs.b` and `dns.b`, which ember keeps in the device so that binding another
//! machine's `/net` brings its name service along).
//!
//! A client writes one request and then reads the answers, one per read, each a line ending
//! in a newline; after the last a read returns 0. Each open has its own answers; a new
//! write replaces them. Errors come back on the write.
//!
//! Invariants:
//! - Service names come only from the network database files [`NDB_FILES`], read through
//!   the caller's namespace, plus `styx` (6666), which is always known. Host files such as
//!   `/etc/services` are never consulted: they are outside the namespace.
//! - Host names go to the host's resolver on a helper thread; the caller waits in rounds that
//!   check for an interrupt, so a slow resolver never holds a process past a kill.
//! - `localhost` is answered without the resolver, and names under `invalid` fail without
//!   it (RFC 6761), so neither ever leaves the machine.

use super::conv::Protocol;
use super::socket::{POLL_ROUND, unmap};
use kernel::text::tokenize;
use kernel::{Ctx, Error, Result};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError};

/// The network database files that name services, searched in order.
pub const NDB_FILES: [&str; 2] = ["/lib/ndb/inferno", "/lib/ndb/common"];
/// The one service every ember knows without a database.
pub const STYX_PORT: u16 = 6666;
/// Most of one database file that is read.
const NDB_LIMIT: usize = 1 << 20;
/// Longest request either file takes.
const MAX_REQUEST: usize = 1024;
/// Longest host name the resolver is asked about (RFC 1035).
const MAX_HOST_NAME: usize = 253;

/// The answers waiting to be read from one open of `cs` or `dns`.
#[derive(Debug, Default)]
pub struct Answers {
    lines: VecDeque<Vec<u8>>,
}

impl Answers {
    /// Replaces the answers with `lines`.
    pub fn set(&mut self, lines: Vec<String>) {
        self.lines = lines.into_iter().map(String::into_bytes).collect();
    }

    /// Reads the next answer (or what fits of it; the rest stays for the next read). The
    /// offset is ignored, as Inferno's cs does, so clients that seek to 0 and clients that
    /// read on from where the write left them both work.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let Some(line) = self.lines.front_mut() else {
            return 0;
        };
        let count = line.len().min(buf.len());
        buf[..count].copy_from_slice(&line[..count]);
        line.drain(..count);
        if line.is_empty() {
            self.lines.pop_front();
        }
        count
    }
}

/// The text of a request, or "bad format request".
pub fn request_text(data: &[u8]) -> Result<&str> {
    if data.len() > MAX_REQUEST {
        return Err(Error::msg("bad format request"));
    }
    std::str::from_utf8(data).map_err(|_| Error::msg("bad format request"))
}

/// Translates a `cs` request: `proto!host!service` (`net` meaning tcp), or `!attr=value ...`
/// for the database entry holding those pairs. Answers are `/net/proto/clone ip!port` lines,
/// one per address of the host, or `/net/proto/clone port` for host `*`.
pub fn cs_query(ctx: &Ctx, request: &str) -> Result<Vec<String>> {
    let request = request.trim_end_matches(['\n', '\r']);
    if request == "refresh" {
        // The database is read afresh for every request; nothing to do.
        return Ok(Vec::new());
    }
    if let Some(query) = request.strip_prefix('!') {
        return entry_query(ctx, query);
    }
    let fields: Vec<&str> = request
        .split(['!', '\n'])
        .filter(|field| !field.is_empty())
        .collect();
    if fields.len() < 2 {
        return Err(Error::msg("bad format request"));
    }
    let network = if fields[0] == "net" { "tcp" } else { fields[0] };
    let proto = Protocol::from_name(network)
        .ok_or_else(|| Error::msg(format!("cs: network unavailable: {network}")))?;
    let [_, host, service] = fields[..] else {
        return Err(Error::msg("bad format request"));
    };
    let port = service_port(ctx, proto, service)?;
    let clone = format!("/net/{}/clone", proto.name());
    if host == "*" {
        return Ok(vec![format!("{clone} {port}\n")]);
    }
    let addrs = lookup(ctx, host)?;
    if addrs.is_empty() {
        return Err(Error::msg("cs: unknown host"));
    }
    Ok(addrs
        .into_iter()
        .map(|ip| format!("{clone} {ip}!{port}\n"))
        .collect())
}

/// Answers a `dns` request `name type`: type `ip` (IPv4) or `ipv6` (also `a`, `aaaa`), with
/// lines `name type address`.
pub fn dns_query(ctx: &Ctx, request: &str) -> Result<Vec<String>> {
    let words = tokenize(request);
    let [name, kind] = &words[..] else {
        return Err(Error::msg("dns: bad request: usage: name ip|ipv6"));
    };
    let want_v6 = match kind.to_ascii_lowercase().as_str() {
        "ip" | "a" => false,
        "ipv6" | "aaaa" => true,
        _ => return Err(Error::msg(format!("dns: unsupported type: {kind}"))),
    };
    let addrs = lookup(ctx, name)?;
    if addrs.is_empty() {
        return Err(Error::msg("dns: name does not exist"));
    }
    let lines: Vec<String> = addrs
        .into_iter()
        .filter(|ip| ip.is_ipv6() == want_v6)
        .map(|ip| format!("{name} {kind} {ip}\n"))
        .collect();
    if lines.is_empty() {
        return Err(Error::msg("dns: resource does not exist"));
    }
    Ok(lines)
}

/// The port number of `service` for `proto`: a number as is, else from the database.
fn service_port(ctx: &Ctx, proto: Protocol, service: &str) -> Result<u16> {
    let cannot = || Error::msg("cs: can't translate service");
    if service.bytes().all(|byte| byte.is_ascii_digit()) {
        return service.parse().map_err(|_| cannot());
    }
    for path in NDB_FILES {
        let Ok(data) = ctx.read_file(path, NDB_LIMIT) else {
            continue;
        };
        let text = String::from_utf8_lossy(&data);
        for entry in parse_ndb(&text) {
            let named = entry
                .pairs()
                .any(|(attr, value)| attr == proto.name() && value == service);
            if !named {
                continue;
            }
            if let Some((_, port)) = entry.pairs().find(|(attr, _)| *attr == "port") {
                return port.parse().map_err(|_| cannot());
            }
        }
    }
    if service == "styx" && proto == Protocol::Tcp {
        return Ok(STYX_PORT);
    }
    Err(cannot())
}

/// A `!attr=value ...` query: the lines of the first database entry holding the first pair
/// and, for each further pair, that attribute with that value (`*` matching any value).
fn entry_query(ctx: &Ctx, query: &str) -> Result<Vec<String>> {
    let wanted = parse_tuple(query);
    let Some((first_attr, first_value)) = wanted.first() else {
        return Err(Error::msg("bad query"));
    };
    for path in NDB_FILES {
        let Ok(data) = ctx.read_file(path, NDB_LIMIT) else {
            continue;
        };
        let text = String::from_utf8_lossy(&data);
        for entry in parse_ndb(&text) {
            let has = |attr: &str, value: &str| {
                entry
                    .pairs()
                    .any(|(a, v)| a == attr && (value == "*" || v == value))
            };
            if has(first_attr, first_value) && wanted[1..].iter().all(|(a, v)| has(a, v)) {
                return Ok(entry.lines.iter().map(|line| tuple_text(line)).collect());
            }
        }
    }
    Err(Error::msg("no match"))
}

/// One database entry: a line starting in the first column and the indented lines after it.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    lines: Vec<Vec<(String, String)>>,
}

impl Entry {
    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines
            .iter()
            .flatten()
            .map(|(attr, value)| (attr.as_str(), value.as_str()))
    }
}

/// Parses ndb(6) text into entries.
fn parse_ndb(text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines() {
        let continued = line.starts_with([' ', '\t']);
        let tuple = parse_tuple(line);
        if tuple.is_empty() {
            continue;
        }
        match entries.last_mut() {
            Some(entry) if continued => entry.lines.push(tuple),
            _ => entries.push(Entry { lines: vec![tuple] }),
        }
    }
    entries
}

/// Parses one line of `attr=value` pairs (a value may be `"quoted"`; `#` starts a comment).
fn parse_tuple(line: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|ch| ch.is_whitespace()).is_some() {}
        match chars.peek() {
            None | Some('#') => return pairs,
            Some(_) => {}
        }
        let mut attr = String::new();
        while let Some(ch) = chars.next_if(|ch| !ch.is_whitespace() && *ch != '=') {
            attr.push(ch);
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                for ch in chars.by_ref() {
                    if ch == '"' {
                        break;
                    }
                    value.push(ch);
                }
            } else {
                while let Some(ch) = chars.next_if(|ch| !ch.is_whitespace() && *ch != '#') {
                    value.push(ch);
                }
            }
        }
        if !attr.is_empty() {
            pairs.push((attr, value));
        }
    }
}

/// One tuple as text, quoting values that need it.
fn tuple_text(pairs: &[(String, String)]) -> String {
    let words: Vec<String> = pairs
        .iter()
        .map(|(attr, value)| {
            if value.is_empty() || value.contains([' ', '\t', '#', '=']) {
                format!("{attr}=\"{value}\"")
            } else {
                format!("{attr}={value}")
            }
        })
        .collect();
    words.join(" ") + "\n"
}

/// The addresses of `host`: an IP literal itself, `localhost` the loopback addresses, other
/// names what the host's resolver says, without duplicates. Empty for an unknown host.
pub fn lookup(ctx: &Ctx, host: &str) -> Result<Vec<IpAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Ok(vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]);
    }
    let plausible = !name.is_empty()
        && name.len() <= MAX_HOST_NAME
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
    if !plausible || name == "invalid" || name.ends_with(".invalid") {
        return Ok(Vec::new());
    }
    let (sender, receiver) = mpsc::channel();
    ctx.kernel()
        .spawn_thread("resolver", 256 << 10, move || {
            let found: Vec<SocketAddr> = (name.as_str(), 0)
                .to_socket_addrs()
                .map(Iterator::collect)
                .unwrap_or_default();
            // The asker may have given up; then nobody hears the answer.
            let _ = sender.send(found);
        })
        .map_err(|error| Error::msg(format!("cs: cannot start the resolver: {error}")))?;
    let _state = ctx.proc.enter_state("release");
    let found = loop {
        ctx.check()?;
        match receiver.recv_timeout(POLL_ROUND) {
            Ok(found) => break found,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Vec::new(),
        }
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    for addr in found {
        let ip = unmap(addr).ip();
        if !addrs.contains(&ip) {
            addrs.push(ip);
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    static NDB: &str = "# services\n\
        tcp=styx port=6666\n\
        tcp=web port=80 # a comment\n\
        sys=gateway\n\
        \tip=10.0.0.1 dom=\"gate way\"\n\
        udp=dns port=53\n";

    #[test]
    fn ndb_entries_span_indented_lines() {
        let entries = parse_ndb(NDB);
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[1].lines,
            [vec![
                ("tcp".to_string(), "web".to_string()),
                ("port".to_string(), "80".to_string())
            ]]
        );
        let gateway: Vec<(&str, &str)> = entries[2].pairs().collect();
        assert_eq!(
            gateway,
            [("sys", "gateway"), ("ip", "10.0.0.1"), ("dom", "gate way")]
        );
        assert_eq!(
            tuple_text(&entries[2].lines[1]),
            "ip=10.0.0.1 dom=\"gate way\"\n"
        );
    }

    #[test]
    fn answers_are_read_one_per_read() {
        let mut answers = Answers::default();
        answers.set(vec!["first\n".to_string(), "second\n".to_string()]);
        let mut small = [0u8; 3];
        assert_eq!(answers.read(&mut small), 3);
        assert_eq!(&small, b"fir");
        let mut buf = [0u8; 64];
        let count = answers.read(&mut buf);
        assert_eq!(&buf[..count], b"st\n");
        let count = answers.read(&mut buf);
        assert_eq!(&buf[..count], b"second\n");
        assert_eq!(answers.read(&mut buf), 0);
    }
}
