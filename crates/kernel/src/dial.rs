//! Dialing and announcing through the caller's namespace (Inferno `appl/lib/dial.b`, Plan 9
//! `dial(2)`): `/net/cs` translates the address, `/net/<proto>/clone` makes the connection.
//!
//! Invariant: nothing here touches a host socket. Every connection is made by opening files
//! of the caller's own namespace, so a process that has bound another machine's `/net` over
//! its own dials from that machine, name lookups included.

use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::proc::Ctx;
use ninep::ORDWR;
use std::sync::Arc;

/// Longest answer read from the connection server.
const MAX_CS_ANSWER: usize = 64 * 1024;

/// A connection, or an announcement (which has no data file yet).
pub struct Connection {
    /// The conversation's data file, once connected or accepted.
    pub data: Option<Arc<Chan>>,
    /// The conversation's ctl file (kept open: closing it may end the conversation).
    pub ctl: Arc<Chan>,
    /// The conversation's directory, e.g. `/net/tcp/4`.
    pub dir: String,
}

/// Completes an address with a default network and service (Inferno `netmkaddr`): one
/// field `host` becomes `net!host!service`, two fields get the service appended.
pub fn netmkaddr(addr: &str, net: &str, service: &str) -> String {
    match addr.matches('!').count() {
        0 if service.is_empty() => format!("{net}!{addr}"),
        0 => format!("{net}!{addr}!{service}"),
        1 if !service.is_empty() => format!("{addr}!{service}"),
        _ => addr.to_string(),
    }
}

/// The network directory and the address within it: `/net.alt/tcp!x!y` gives
/// (`/net.alt`, `tcp!x!y`); without a directory, `/net`.
fn split_netdir(addr: &str) -> (String, String) {
    if let Some(rest) = addr.strip_prefix('/')
        && let Some(slash) = rest.find('/')
    {
        let netdir = format!("/{}", &rest[..slash]);
        return (netdir, rest[slash + 1..].to_string());
    }
    ("/net".to_string(), addr.to_string())
}

/// Asks the connection server `netdir/cs` to translate `addr`; each answer is a clone file
/// (rewritten to `netdir`) and the address to give its conversation. Without a connection
/// server, the address is used as it is.
fn translate(ctx: &Ctx, netdir: &str, addr: &str) -> Result<Vec<(String, String)>> {
    let mut parts = addr.splitn(2, '!');
    let proto = parts.next().unwrap_or_default().to_string();
    let rest = parts.next().unwrap_or_default().to_string();
    if proto.is_empty() || rest.is_empty() {
        return Err(Error::msg(format!("bad network address {addr}")));
    }
    let cs = match ctx.open_chan(&format!("{netdir}/cs"), ORDWR) {
        Ok(cs) => cs,
        Err(error) if error.root() == &Error::NotExist => {
            return Ok(vec![(format!("{netdir}/{proto}/clone"), rest)]);
        }
        Err(error) => return Err(error),
    };
    ctx.write_chan(&cs, addr.as_bytes(), 0)?;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let count = ctx.read_chan(&cs, &mut buf, answer.len() as u64)?;
        if count == 0 || answer.len() + count > MAX_CS_ANSWER {
            break;
        }
        answer.extend_from_slice(&buf[..count]);
    }
    let text = String::from_utf8_lossy(&answer);
    let mut candidates = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(clone), address) = (words.next(), words.next()) else {
            continue;
        };
        // The clone path's first element names the network directory in use.
        let clone = match clone
            .strip_prefix('/')
            .and_then(|c| c.find('/').map(|i| &c[i..]))
        {
            Some(tail) => format!("{netdir}{tail}"),
            None => clone.to_string(),
        };
        candidates.push((clone, address.unwrap_or_default().to_string()));
    }
    if candidates.is_empty() {
        return Err(Error::msg(format!("cs: no translation for {addr}")));
    }
    Ok(candidates)
}

/// Opens a clone file: the conversation's ctl, and its directory.
fn clone_conversation(ctx: &Ctx, clone: &str) -> Result<(Arc<Chan>, String)> {
    let ctl = ctx.open_chan(clone, ORDWR)?;
    let mut buf = [0u8; 32];
    let count = ctx.read_chan(&ctl, &mut buf, 0)?;
    let number = std::str::from_utf8(&buf[..count])
        .ok()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::msg(format!("{clone}: bad conversation number")))?
        .to_string();
    let dir = match clone.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{number}"),
        None => number,
    };
    Ok((ctl, dir))
}

/// Connects to `addr` (`proto!host!service`), optionally from `local`, trying each address
/// the connection server gives until one answers.
pub fn dial(ctx: &Ctx, addr: &str, local: Option<&str>) -> Result<Connection> {
    first_that_works(ctx, addr, "no route to the address", |clone, address| {
        let (ctl, dir) = clone_conversation(ctx, clone)?;
        let request = match local {
            Some(local) => format!("connect {address} {local}"),
            None => format!("connect {address}"),
        };
        ctx.write_chan(&ctl, request.as_bytes(), 0)?;
        let data = ctx.open_chan(&format!("{dir}/data"), ORDWR)?;
        Ok(Connection {
            data: Some(data),
            ctl,
            dir,
        })
    })
}

/// Announces `addr` (`proto!*!port`), ready to listen.
pub fn announce(ctx: &Ctx, addr: &str) -> Result<Connection> {
    first_that_works(ctx, addr, "cannot announce", |clone, address| {
        let (ctl, dir) = clone_conversation(ctx, clone)?;
        ctx.write_chan(&ctl, format!("announce {address}").as_bytes(), 0)?;
        Ok(Connection {
            data: None,
            ctl,
            dir,
        })
    })
}

/// Tries `attempt` on each (clone file, address) the connection server gives for `addr`,
/// in order, until one succeeds; an interrupt ends the tries, and otherwise the last
/// failure is the error (`none` if there was nothing to try).
fn first_that_works(
    ctx: &Ctx,
    addr: &str,
    none: &str,
    attempt: impl Fn(&str, &str) -> Result<Connection>,
) -> Result<Connection> {
    let (netdir, addr) = split_netdir(addr);
    let mut last_error = None;
    for (clone, address) in translate(ctx, &netdir, &addr)? {
        match attempt(&clone, &address) {
            Ok(connection) => return Ok(connection),
            Err(error) if error.is_interrupt() => return Err(error),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| Error::msg(none)))
}

/// Waits for a call on an announced connection; the new conversation's ctl and directory.
pub fn listen(ctx: &Ctx, announced: &Connection) -> Result<Connection> {
    let path = format!("{}/listen", announced.dir);
    let ctl = ctx.open_chan(&path, ORDWR)?;
    let mut buf = [0u8; 32];
    let count = ctx.read_chan(&ctl, &mut buf, 0)?;
    let number = std::str::from_utf8(&buf[..count])
        .ok()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::msg(format!("{path}: bad conversation number")))?
        .to_string();
    let dir = match announced.dir.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{number}"),
        None => number,
    };
    Ok(Connection {
        data: None,
        ctl,
        dir,
    })
}

/// Accepts a call: opens its data file.
pub fn accept(ctx: &Ctx, call: &mut Connection) -> Result<Arc<Chan>> {
    let data = ctx.open_chan(&format!("{}/data", call.dir), ORDWR)?;
    call.data = Some(data.clone());
    Ok(data)
}

/// A file of a conversation's directory, as one trimmed line (`local`, `remote`, `status`).
pub fn conversation_file(ctx: &Ctx, dir: &str, name: &str) -> Result<String> {
    let bytes = ctx.read_file(&format!("{dir}/{name}"), 4096)?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_completed() {
        assert_eq!(netmkaddr("gateway", "tcp", "styx"), "tcp!gateway!styx");
        assert_eq!(netmkaddr("tcp!gateway", "net", "styx"), "tcp!gateway!styx");
        assert_eq!(
            netmkaddr("tcp!gateway!5546", "net", "styx"),
            "tcp!gateway!5546"
        );
        assert_eq!(netmkaddr("gateway", "tcp", ""), "tcp!gateway");
    }

    #[test]
    fn network_directories() {
        assert_eq!(
            split_netdir("/net.alt/tcp!x!1"),
            ("/net.alt".to_string(), "tcp!x!1".to_string())
        );
        assert_eq!(
            split_netdir("tcp!x!1"),
            ("/net".to_string(), "tcp!x!1".to_string())
        );
    }
}
