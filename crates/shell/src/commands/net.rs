//! `listen`, `dial` and `myip`: serving and calling over the network (Inferno
//! `appl/cmd/listen.b`, `dial.b`). Every connection is made through the caller's `/net`
//! (`kernel::dial`), so a process that has bound another machine's `/net` listens and dials
//! from there.
//!
//! A call runs the command block with the connection on descriptors 0 and 1 and `$net` naming
//! the conversation directory, as Inferno does: a dialler's in its own shell, a listener's in
//! a new process for each call, which the listener waits for before taking the next call, so
//! servers write `{export /net &}`.
//!
//! Connections are authenticated and encrypted (`kernel::auth`) unless `-A` is given: the
//! caller's keyring is `-k keyfile` or `/usr/$user/keyring/default`. A listener accepts calls
//! in one thread and runs each handshake in its own, within the kernel's budget of handshakes
//! (`kernel::auth::Admissions`), so callers that stall hold up nobody. The block runs only for
//! a caller whose handshake succeeded, in a process of its own whose user, `$user` and `$net`
//! are the caller's and whose environment is a copy: the listener keeps its own identity.
//!
//! A listener survives running out of anything (conversations, host descriptors, threads,
//! processes): a call it cannot serve is dropped, accepting pauses briefly when it fails, and
//! only the end of its announcement ends it.

use super::{Opts, fail, parse_or_usage, usage_error, warn};
use crate::sh::context::Shell;
use crate::sh::eval::Raise;
use crate::sh::value::Value;
use kernel::auth::{self, Keyring, Role};
use kernel::dial::{self, Connection};
use kernel::{Chan, Ctx, Exit, Interrupt, Program, Rendez};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most calls a listener holds at once between accepting them and running its block
/// (handshakes in progress included); beyond it, new callers wait in the host's backlog.
const MAX_PENDING: usize = 256;

/// The first pause of a listener that cannot accept calls (no free conversations, sockets or
/// descriptors); each failure in a row doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest pause between two tries to accept a call.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The keyring a command's `-A` and `-k` choose: None with `-A`.
pub fn keyring_of(ctx: &Ctx, opts: &Opts) -> Result<Option<Keyring>, String> {
    if opts.has('A') {
        return Ok(None);
    }
    auth::load_keyring(ctx, opts.value('k'))
        .map(|(_, keyring)| Some(keyring))
        .map_err(|error| error.to_string())
}

/// Authenticates the connection `data` we dialled, when there is a keyring: the file to use
/// in its place.
pub fn secure_call(
    ctx: &Ctx,
    data: Arc<Chan>,
    keyring: Option<&Keyring>,
) -> kernel::Result<Arc<Chan>> {
    match keyring {
        None => Ok(data),
        Some(keyring) => {
            let session = auth::handshake(ctx, &data, Role::Caller, keyring)?;
            Ok(auth::wrap(data, session))
        }
    }
}

/// Whether `addr` only reaches this machine (where running without authentication is safe).
fn loopback(addr: &str) -> bool {
    let host = addr.split('!').nth(1).unwrap_or("");
    matches!(host, "127.0.0.1" | "::1" | "localhost") || host.starts_with("127.")
}

/// Runs `block` in `shell` with `data` as descriptors 0 and 1 and `$net` set to `dir`, then
/// puts the descriptors back (a dialler's call, in the dialler's own process).
fn run_on_connection(
    shell: &mut Shell,
    ctx: &Ctx,
    block: &[Value],
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
    let outcome = shell.run_list(ctx, block.to_vec(), false);
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
    status_of(outcome)
}

/// A block's outcome as a program's.
fn status_of(outcome: Result<String, Raise>) -> Exit {
    match outcome {
        Ok(status) if status.is_empty() => Ok(()),
        Ok(status) => Err(status),
        Err(Raise::Exception(name) | Raise::Exit(name)) => Err(name),
    }
}

/// Runs a listener's block for one call in a new process and waits for it: the connection on
/// its descriptors 0 and 1 (2 is the listener's), `$net` set to `dir`, and for a caller
/// authenticated as `peer` its user and `$user` the peer's; its environment is a copy, so
/// neither the caller's name nor anything the block sets reaches the listener or the next
/// call. The block's outcome, or an error when no process could be had (nothing ran, and the
/// call is dropped). If the listener is killed or interrupted while waiting, the block's
/// process is killed too.
fn run_call(
    ctx: &Ctx,
    shell: &Shell,
    block: &[Value],
    data: Arc<Chan>,
    dir: &str,
    peer: Option<&str>,
) -> kernel::Result<Exit> {
    let fds = ctx.fds_keeping(&[2]);
    for fd in [0, 1] {
        fds.install_at(fd, data.clone())?;
    }
    drop(data);
    let mut child = shell.child();
    child.keep_fds = vec![0, 1, 2];
    let (block, dir, peer) = (block.to_vec(), dir.to_string(), peer.map(str::to_string));
    let running = ctx.spawn("sh", fds, move |ctx| {
        ctx.pctl(kernel::proc::FORKENV, &[])
            .map_err(|e| e.to_string())?;
        if let Some(peer) = &peer {
            ctx.proc.set_user(peer);
        }
        child.set("net", vec![Value::word(&dir)]);
        child.set("user", peer.iter().map(Value::word).collect());
        status_of(child.run_list(ctx, block, false))
    })?;
    Ok(match running.wait_exit(ctx) {
        Ok(status) if status.is_empty() => Ok(()),
        Ok(status) => Err(status),
        Err(error) => {
            running.kill();
            Err(error.to_string())
        }
    })
}

/// The block argument of `listen` and `dial`, parsed once.
fn block_argument(ctx: &Ctx, shell: &Shell, words: &[String]) -> Result<Vec<Value>, String> {
    // `{block} [arg ...]`, or a plain command and its arguments (Inferno's `listen addr
    // export /`), run as sh runs a command line's words.
    let Some((first, args)) = words.split_first() else {
        return Err("no command".into());
    };
    let command = if first.starts_with('{') {
        shell
            .parse_block(ctx, first)
            .map(Value::Block)
            .map_err(|raise| raise.status())?
    } else {
        Value::word(first.as_str())
    };
    let mut list = vec![command];
    list.extend(args.iter().map(|arg| Value::word(arg.as_str())));
    Ok(list)
}

/// A call ready for the listener's block, or the end of listening.
enum Ready {
    Call {
        call: Connection,
        data: Arc<Chan>,
        remote: String,
        peer: Option<String>,
    },
    Ended(String),
}

/// Calls between the accepting thread (and the handshakes it starts) and the listener.
#[derive(Default)]
struct Calls {
    state: Mutex<CallState>,
    changed: Rendez,
}

#[derive(Default)]
struct CallState {
    ready: VecDeque<Ready>,
    /// Calls accepted and not yet taken by the listener.
    pending: usize,
}

impl Calls {
    fn push(&self, ready: Ready) {
        self.state.lock().ready.push_back(ready);
        self.changed.wakeup();
    }

    /// One call fewer in flight (it failed, or the listener took it).
    fn done(&self) {
        let mut state = self.state.lock();
        state.pending = state.pending.saturating_sub(1);
        drop(state);
        self.changed.wakeup();
    }
}

/// Stops the accepting thread (and the handshakes it started) when the listener ends.
struct StopOnDrop(Arc<Interrupt>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.kill();
    }
}

/// Whether a failure to accept a call means the announcement itself is gone (hung up, or its
/// conversation no longer exists), so waiting for calls is pointless.
fn announcement_lost(error: &kernel::Error) -> bool {
    matches!(
        error.root(),
        kernel::Error::Hungup | kernel::Error::NotExist
    ) || error.text().contains("not announced")
}

/// The caller's address without its port (`10.0.0.5!40312` gives `10.0.0.5`).
fn host_of(remote: &str) -> &str {
    remote.rsplit_once('!').map_or(remote, |(host, _)| host)
}

/// Accepts calls on `announced` until killed, handing each to the listener through `calls`,
/// after a handshake when there is a keyring. A call that cannot be accepted (no free
/// conversations, sockets or descriptors) makes it pause, from [`FIRST_BACKOFF`] doubling up
/// to [`MAX_BACKOFF`], and try again; only the loss of the announcement ends it.
fn accept_calls(
    ctx: Ctx,
    argv: Vec<String>,
    announced: Connection,
    keyring: Option<Arc<Keyring>>,
    calls: Arc<Calls>,
    verbose: bool,
) {
    let mut backoff: Option<Duration> = None;
    loop {
        {
            let mut state = calls.state.lock();
            while state.pending >= MAX_PENDING {
                if ctx.sleep(&calls.changed, &mut state).is_err() {
                    return;
                }
            }
        }
        let accepted = dial::listen(&ctx, &announced).and_then(|mut call| {
            let data = dial::accept(&ctx, &mut call)?;
            Ok((call, data))
        });
        let (call, data) = match accepted {
            Ok(accepted) => {
                if backoff.take().is_some() {
                    warn(
                        &ctx,
                        &argv,
                        format!("accepting calls on {} again", announced.dir),
                    );
                }
                accepted
            }
            Err(_) if ctx.intr.is_killed() => return,
            Err(error) if announcement_lost(&error) => {
                calls.push(Ready::Ended(format!(
                    "listen on {}: {error}",
                    announced.dir
                )));
                return;
            }
            Err(error) => {
                let pause = match backoff {
                    None => {
                        warn(
                            &ctx,
                            &argv,
                            format!(
                                "cannot accept calls on {}: {error} (trying again)",
                                announced.dir
                            ),
                        );
                        FIRST_BACKOFF
                    }
                    Some(pause) => (pause * 2).min(MAX_BACKOFF),
                };
                backoff = Some(pause);
                if ctx.sleep_for(pause).is_err() {
                    return;
                }
                continue;
            }
        };
        let _ = ctx.write_chan(&call.ctl, b"keepalive", 0);
        let remote = dial::conversation_file(&ctx, &call.dir, "remote").unwrap_or_default();
        if verbose {
            warn(&ctx, &argv, format!("call from {remote} on {}", call.dir));
        }
        let Some(keyring) = keyring.clone() else {
            calls.state.lock().pending += 1;
            calls.push(Ready::Call {
                call,
                data,
                remote,
                peer: None,
            });
            continue;
        };
        // A place among the handshakes in progress: a newcomer never waits behind stalled
        // callers, it takes the place of the oldest one (see `auth::Admissions`).
        let admission = match ctx.kernel().handshakes().admit(host_of(&remote)) {
            Ok(admission) => admission,
            Err(error) => {
                warn(&ctx, &argv, format!("call from {remote}: {error}"));
                continue;
            }
        };
        calls.state.lock().pending += 1;
        let (hctx, hargv, hcalls) = (ctx.clone(), argv.clone(), calls.clone());
        let hremote = remote.clone();
        let started = ctx.kernel().spawn_thread("auth", 256 << 10, move || {
            let outcome = auth::admitted_handshake(&hctx, &data, &keyring, &admission);
            drop(admission);
            match outcome {
                Ok(session) => {
                    let peer = session.peer_name().to_string();
                    if verbose {
                        warn(&hctx, &hargv, format!("{hremote} is {peer}"));
                    }
                    hcalls.push(Ready::Call {
                        call,
                        data: auth::wrap(data, session),
                        remote: hremote,
                        peer: Some(peer),
                    });
                }
                Err(error) => {
                    warn(&hctx, &hargv, format!("call from {hremote}: {error}"));
                    hcalls.done();
                }
            }
        });
        if let Err(error) = started {
            warn(&ctx, &argv, format!("call from {remote}: {error}"));
            calls.done();
        }
    }
}

fn serve_calls(
    ctx: &Ctx,
    argv: &[String],
    announced: Connection,
    block_words: Vec<String>,
    keyring: Option<Keyring>,
    verbose: bool,
) -> Exit {
    let shell = Shell::new(ctx);
    let block = match block_argument(ctx, &shell, &block_words) {
        Ok(block) => block,
        Err(reason) => return fail(ctx, argv, reason),
    };
    let calls = Arc::new(Calls::default());
    let stop = StopOnDrop(Interrupt::new());
    let acceptor = ctx.with_interrupt(stop.0.clone());
    let (acceptor_argv, acceptor_calls) = (argv.to_vec(), calls.clone());
    let started = ctx.kernel().spawn_thread("listen", 256 << 10, move || {
        accept_calls(
            acceptor,
            acceptor_argv,
            announced,
            keyring.map(Arc::new),
            acceptor_calls,
            verbose,
        );
    });
    if let Err(error) = started {
        return fail(ctx, argv, format!("cannot start: {error}"));
    }
    let mut dropped = Dropped::default();
    loop {
        let ready = {
            let mut state = calls.state.lock();
            loop {
                if let Some(ready) = state.ready.pop_front() {
                    break ready;
                }
                if let Err(error) = ctx.sleep(&calls.changed, &mut state) {
                    return Err(error.to_string());
                }
            }
        };
        let (call, data, remote, peer) = match ready {
            Ready::Call {
                call,
                data,
                remote,
                peer,
            } => (call, data, remote, peer),
            Ready::Ended(reason) => return fail(ctx, argv, reason),
        };
        calls.done();
        match run_call(ctx, &shell, &block, data, &call.dir, peer.as_deref()) {
            Err(error) => dropped.note(ctx, argv, &remote, &error),
            Ok(outcome) => {
                dropped.report(ctx, argv);
                match outcome {
                    // The listener itself was killed while its block ran.
                    Err(_) if ctx.intr.is_killed() => {
                        return Err(kernel::Error::Killed.to_string());
                    }
                    Err(status) if verbose => warn(ctx, argv, format!("{}: {status}", call.dir)),
                    _ => {}
                }
            }
        }
    }
}

/// How often a listener reports calls it dropped for want of processes or threads.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Calls dropped because their block could not be started (out of processes or threads),
/// reported at most once every [`REPORT_EVERY`], so running out does not flood the log.
#[derive(Default)]
struct Dropped {
    unreported: usize,
    last_report: Option<Instant>,
}

impl Dropped {
    fn due(&self) -> bool {
        self.last_report
            .is_none_or(|reported| reported.elapsed() >= REPORT_EVERY)
    }

    fn note(&mut self, ctx: &Ctx, argv: &[String], remote: &str, error: &kernel::Error) {
        self.unreported += 1;
        if self.due() {
            let others = match self.unreported - 1 {
                0 => String::new(),
                count => format!(" ({count} more calls dropped)"),
            };
            warn(
                ctx,
                argv,
                format!("call from {remote}: cannot run the block: {error}{others}"),
            );
            self.unreported = 0;
            self.last_report = Some(Instant::now());
        }
    }

    /// Reports the calls not yet reported, if it is time.
    fn report(&mut self, ctx: &Ctx, argv: &[String]) {
        if self.unreported > 0 && self.due() {
            warn(
                ctx,
                argv,
                format!(
                    "{} more calls dropped for want of resources",
                    self.unreported
                ),
            );
            self.unreported = 0;
            self.last_report = Some(Instant::now());
        }
    }
}

/// `listen [-Asv] [-k keyfile] addr {command}`: announces `addr` and, for each call, runs
/// `command` with the connection on descriptors 0 and 1 and `$net` set. Returns once the
/// announcement is made, serving in a new process, unless `-s`.
pub fn listen(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "listen [-Asv] [-k keyfile] addr {command} | command [arg ...]";
    let opts = parse_or_usage(ctx, argv, "Asvk:t", USAGE)?;
    let [addr, block @ ..] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    if block.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let keyring = match keyring_of(ctx, &opts) {
        Ok(keyring) => keyring,
        Err(reason) => return fail(ctx, argv, reason),
    };
    // A listener's own certificate must be good: every caller would refuse it.
    if let Some(keyring) = &keyring
        && let Err(problem) = keyring.check(auth::now())
    {
        return fail(
            ctx,
            argv,
            format!("{problem}: make a new keyring with auth/keygen"),
        );
    }
    if keyring.is_none() && !loopback(addr) {
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
    let block = block.to_vec();
    if opts.has('s') {
        return serve_calls(ctx, argv, announced, block, keyring, verbose);
    }
    let argv = argv.to_vec();
    let fds = ctx.fds_keeping(&[0, 1, 2]);
    ctx.spawn("listen", fds, move |ctx| {
        serve_calls(ctx, &argv, announced, block, keyring, verbose)
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
    const USAGE: &str = "dial [-A] [-k keyfile] addr {command} | command [arg ...]";
    let opts = parse_or_usage(ctx, argv, "Ak:", USAGE)?;
    let [addr, block @ ..] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    if block.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let keyring = match keyring_of(ctx, &opts) {
        Ok(keyring) => keyring,
        Err(reason) => return fail(ctx, argv, reason),
    };
    // `$net` is this call's: the block sees it, the environment the caller shares does not.
    ctx.pctl(kernel::proc::FORKENV, &[])
        .map_err(|error| error.to_string())?;
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
    let data = match secure_call(ctx, data, keyring.as_ref()) {
        Ok(data) => data,
        Err(error) if error.is_interrupt() => return Err(error.to_string()),
        Err(error) => return fail(ctx, argv, format!("{addr}: {error}")),
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
