//! `listen`, `dial` and `myip`: serving and calling over the network (Inferno
//! `appl/cmd/listen.b`, `dial.b`). Every connection is made through the caller's `/net`
//! (`kernel::dial`), so a process that has bound another machine's `/net` listens and dials
//! from there.
//!
//! A call runs the command block in the listener's (or dialler's) own shell, with the
//! connection on descriptors 0 and 1 and `$net` naming the conversation directory, as
//! Inferno does; the block runs to completion before the next call is taken, so servers write
//! `{export /net &}`. Until connections are authenticated, `listen`, `dial` and the mounting
//! of an address insist on `-A` and say so.

use super::{fail, parse_or_usage, usage_error, warn};
use crate::sh::context::Shell;
use crate::sh::eval::Raise;
use crate::sh::value::Value;
use kernel::dial::{self, Connection};
use kernel::{Chan, Ctx, Exit, Program};
use std::sync::Arc;

/// The message given when `-A` is missing.
pub const NEED_NO_AUTH: &str = "authentication is not available yet: give -A to connect without it";

/// Whether `addr` only reaches this machine (where running without authentication is safe).
fn loopback(addr: &str) -> bool {
    let host = addr.split('!').nth(1).unwrap_or("");
    matches!(host, "127.0.0.1" | "::1" | "localhost") || host.starts_with("127.")
}

/// Runs `block` in `shell` with `data` as descriptors 0 and 1 and `$net` set to `dir`, then
/// puts the descriptors back.
fn run_on_connection(
    shell: &mut Shell,
    ctx: &Ctx,
    block: &Value,
    data: Arc<Chan>,
    dir: &str,
) -> Exit {
    let fds = ctx.fds();
    let saved = [fds.get(0).ok(), fds.get(1).ok()];
    for fd in [0, 1] {
        fds.install_at(fd, data.clone())
            .map_err(|e| e.to_string())?;
    }
    shell.set("net", vec![Value::word(dir)]);
    shell.set("user", Vec::new());
    let outcome = shell.run_list(ctx, vec![block.clone()], false);
    for (fd, chan) in [0, 1].into_iter().zip(saved) {
        match chan {
            Some(chan) => {
                let _ = fds.install_at(fd, chan);
            }
            None => {
                let _ = fds.close(fd);
            }
        }
    }
    match outcome {
        Ok(status) if status.is_empty() => Ok(()),
        Ok(status) => Err(status),
        Err(Raise::Exception(name) | Raise::Exit(name)) => Err(name),
    }
}

/// The block argument of `listen` and `dial`, parsed once.
fn block_argument(ctx: &Ctx, shell: &Shell, text: &str) -> Result<Value, String> {
    if !text.starts_with('{') {
        return Err("the command must be a {block}".into());
    }
    shell
        .parse_block(ctx, text)
        .map(Value::Block)
        .map_err(|raise| raise.status())
}

fn serve_calls(
    ctx: &Ctx,
    argv: &[String],
    announced: Connection,
    block_text: String,
    verbose: bool,
) -> Exit {
    let mut shell = Shell::new(ctx);
    let block = match block_argument(ctx, &shell, &block_text) {
        Ok(block) => block,
        Err(reason) => return fail(ctx, argv, reason),
    };
    loop {
        let mut call = match dial::listen(ctx, &announced) {
            Ok(call) => call,
            Err(error) if error.is_interrupt() => return Err(error.to_string()),
            Err(error) => return fail(ctx, argv, format!("listen on {}: {error}", announced.dir)),
        };
        let data = match dial::accept(ctx, &mut call) {
            Ok(data) => data,
            Err(error) => {
                warn(ctx, argv, format!("accept {}: {error}", call.dir));
                continue;
            }
        };
        let _ = ctx.write_chan(&call.ctl, b"keepalive", 0);
        if verbose {
            let remote = dial::conversation_file(ctx, &call.dir, "remote").unwrap_or_default();
            warn(ctx, argv, format!("call from {remote} on {}", call.dir));
        }
        if let Err(status) = run_on_connection(&mut shell, ctx, &block, data, &call.dir)
            && verbose
        {
            warn(ctx, argv, format!("{}: {status}", call.dir));
        }
    }
}

/// `listen [-Asv] [-k keyfile] addr {command}`: announces `addr` and, for each call, runs
/// `command` with the connection on descriptors 0 and 1 and `$net` set. Returns once the
/// announcement is made, serving in a new process, unless `-s`.
pub fn listen(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "listen [-Asv] [-k keyfile] addr {command}";
    let opts = parse_or_usage(ctx, argv, "Asvk:t", USAGE)?;
    let [addr, block] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    if !opts.has('A') {
        return fail(ctx, argv, NEED_NO_AUTH);
    }
    if !loopback(addr) {
        warn(
            ctx,
            argv,
            format!("calls to {addr} are not authenticated (-A)"),
        );
    }
    let announced = match dial::announce(ctx, addr) {
        Ok(announced) => announced,
        Err(error) => return fail(ctx, argv, format!("cannot announce {addr}: {error}")),
    };
    let verbose = opts.has('v');
    let block = block.clone();
    if opts.has('s') {
        return serve_calls(ctx, argv, announced, block, verbose);
    }
    let argv = argv.to_vec();
    let fds = ctx.fds_keeping(&[0, 1, 2]);
    ctx.spawn("listen", fds, move |ctx| {
        serve_calls(ctx, &argv, announced, block, verbose)
    })
    .map(drop)
    .or_else(|error| fail(ctx, &argv_of("listen"), format!("cannot start: {error}")))
}

fn argv_of(name: &str) -> Vec<String> {
    vec![name.to_string()]
}

/// `dial [-A] [-k keyfile] addr {command}`: connects to `addr` and runs `command` with the
/// connection on descriptors 0 and 1 and `$net` set.
pub fn dial_command(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "dial [-A] [-k keyfile] addr {command}";
    let opts = parse_or_usage(ctx, argv, "Ak:", USAGE)?;
    let [addr, block] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    if !opts.has('A') {
        return fail(ctx, argv, NEED_NO_AUTH);
    }
    let mut shell = Shell::new(ctx);
    let block = match block_argument(ctx, &shell, block) {
        Ok(block) => block,
        Err(reason) => return fail(ctx, argv, reason),
    };
    let connection = match dial::dial(ctx, &dial::netmkaddr(addr, "net", ""), None) {
        Ok(connection) => connection,
        Err(error) => return fail(ctx, argv, format!("cannot dial {addr}: {error}")),
    };
    let Some(data) = connection.data.clone() else {
        return fail(ctx, argv, "no data file");
    };
    run_on_connection(&mut shell, ctx, &block, data, &connection.dir)
}

/// `myip [addr]`: asks a service (by default `$myip`, else the `myip=` entry of
/// `/lib/ndb/local`) for the address it sees us from, and prints it.
pub fn myip(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "myip [addr]";
    let opts = parse_or_usage(ctx, argv, "", USAGE)?;
    let addr = match opts.args.as_slice() {
        [addr] => addr.clone(),
        [] => match default_service(ctx) {
            Some(addr) => addr,
            None => {
                return fail(
                    ctx,
                    argv,
                    "no service to ask: give an address, set $myip, or add myip=addr to /lib/ndb/local",
                );
            }
        },
        _ => return Err(usage_error(ctx, USAGE)),
    };
    let connection = match dial::dial(ctx, &dial::netmkaddr(&addr, "tcp", ""), None) {
        Ok(connection) => connection,
        Err(error) => return fail(ctx, argv, format!("cannot dial {addr}: {error}")),
    };
    let Some(data) = connection.data.clone() else {
        return fail(ctx, argv, "no data file");
    };
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    while answer.len() < 4096 {
        match ctx.read_chan(&data, &mut buf, 0) {
            Ok(0) => break,
            Ok(count) => answer.extend_from_slice(&buf[..count]),
            Err(error) => return fail(ctx, argv, format!("reading from {addr}: {error}")),
        }
        if answer.contains(&b'\n') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return fail(ctx, argv, format!("{addr} gave no address"));
    }
    // The service prints what `remote` holds: `ip!port`. The address is the part before.
    let ip = line.rsplit_once('!').map_or(line, |(ip, _)| ip);
    ctx.write_all(1, format!("{ip}\n").as_bytes())
        .map_err(|error| error.to_string())
}

fn default_service(ctx: &Ctx) -> Option<String> {
    if let Some(value) = ctx.env().get("myip") {
        let words = kernel::text::tokenize(&String::from_utf8_lossy(&value));
        if let Some(first) = words.into_iter().next() {
            return Some(first);
        }
    }
    let ndb = ctx.read_file("/lib/ndb/local", 1 << 20).ok()?;
    String::from_utf8_lossy(&ndb)
        .split_whitespace()
        .find_map(|word| word.strip_prefix("myip=").map(str::to_string))
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("dial", dial_command as Program),
        ("listen", listen as Program),
        ("myip", myip as Program),
    ]
}
