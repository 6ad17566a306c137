//! `file2chan file {read} {write} [{close}]`: a file served by shell blocks (Inferno's
//! `sh-file2chan(1)`, made simpler). The file appears in a `#f` directory (see
//! `kernel::file2chan`), and a new process, whose pid goes in `$apid`, serves it: for each
//! read it runs the read block, whose standard output is the file's contents; for each write
//! it runs the write block with the data written in `$data` (as text, without a trailing
//! newline); when an open is closed, the close block. Requests are served one at a time, in
//! a copy of the shell made by `file2chan`, so variables the blocks set stay set for the next
//! request.
//!
//! The read block runs for a read at offset 0 (or the first read of an open); later reads of
//! the same open continue that output, so `cat` sees one consistent copy and then end of
//! file. A block that fails (a non-empty status, or a `raise`) fails the client's request with
//! that status as the error. `$fid` tells the opens apart; `$offset` and `$count` describe a
//! read, `$offset` and `$data` a write. A client that gives up (interrupted, or flushed over
//! 9P) interrupts the block serving it. Removing the file or killing the server process ends
//! the service; so does `exit` in a block.

use super::super::context::Shell;
use super::super::eval::{Raise, Run, raise_kernel};
use super::super::expand::Redirection;
use super::super::value::{List, Value};
use super::usage;
use kernel::file2chan::{Fid, Request, Requests};
use kernel::{Ctx, Error};
use std::collections::HashMap;
use std::time::Duration;

/// The most a read block's output may hold.
pub const MAX_OUTPUT: usize = 1 << 20;
/// How long output still held by a block's background commands is waited for.
const OUTPUT_WAIT: Duration = Duration::from_secs(1);

const USAGE: &str = "file2chan file {read} {write} [{close}]";

struct Blocks {
    read: Value,
    write: Value,
    close: Option<Value>,
}

/// The builtin: makes the file and starts its server.
pub fn file2chan(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if !(4..=5).contains(&argv.len()) || !argv[2..].iter().all(Value::is_block) {
        return Err(usage(shell, ctx, USAGE));
    }
    let path = argv[1].text().into_owned();
    let blocks = Blocks {
        read: argv[2].clone(),
        write: argv[3].clone(),
        close: argv.get(4).cloned(),
    };
    let requests = kernel::file2chan::channel(ctx, &path)
        .map_err(|error| shell.fail(ctx, "bad file2chan", &format!("file2chan: {error}")))?;
    let fds = ctx.fds().keep_only(&shell.keep_fds);
    let server = shell.spawn(ctx, "file2chan", fds, true, move |shell, ctx| {
        serve(shell, ctx, &requests, &blocks)
    })?;
    // Like a server behind a mount, it does not keep ember running by itself.
    server.set_daemon();
    shell.set("apid", vec![Value::word(server.pid.to_string())]);
    Ok(String::new())
}

/// The server loop: one request at a time until the file goes or the process is killed.
fn serve(shell: &mut Shell, ctx: &Ctx, requests: &Requests, blocks: &Blocks) -> Run {
    let mut outputs: HashMap<Fid, Vec<u8>> = HashMap::new();
    loop {
        let request = match requests.next(ctx) {
            Ok(request) => request,
            // The file was removed.
            Err(Error::Hungup) => return Ok(String::new()),
            Err(error) => return Err(raise_kernel(error)),
        };
        let exit = match request {
            Request::Read(read) => {
                let kept = (read.offset > 0)
                    .then(|| outputs.get(&read.fid).cloned())
                    .flatten();
                let (output, exit) = match kept {
                    Some(output) => (Ok(output), None),
                    None => {
                        let work = ctx.with_interrupt(read.interrupt());
                        let vars = [
                            ("fid", read.fid.to_string()),
                            ("offset", read.offset.to_string()),
                            ("count", read.count.to_string()),
                        ];
                        let (output, outcome) = with_vars(shell, &vars, |shell| {
                            capture(shell, &work, vec![blocks.read.clone()])
                        })?;
                        let (result, exit) = answer(outcome);
                        let output = result.and_then(|()| {
                            if output.len() > MAX_OUTPUT {
                                Err(Error::msg("file2chan: read block output too large"))
                            } else {
                                Ok(output)
                            }
                        });
                        (output, exit)
                    }
                };
                let reply = output.map(|output| {
                    let start = usize::try_from(read.offset)
                        .unwrap_or(usize::MAX)
                        .min(output.len());
                    let end = start + (output.len() - start).min(read.count);
                    let data = output[start..end].to_vec();
                    outputs.insert(read.fid, output);
                    data
                });
                read.reply(reply);
                exit
            }
            Request::Write(write) => {
                let work = ctx.with_interrupt(write.interrupt());
                let vars = [
                    ("fid", write.fid.to_string()),
                    ("offset", write.offset.to_string()),
                    ("data", data_text(&write.data)),
                ];
                let outcome = with_vars(shell, &vars, |shell| {
                    Ok(shell.run_list(&work, vec![blocks.write.clone()], false))
                })?;
                let (result, exit) = answer(outcome);
                let count = write.data.len();
                write.reply(result.map(|()| count));
                exit
            }
            Request::Close { fid } => {
                outputs.remove(&fid);
                match &blocks.close {
                    Some(close) => {
                        let vars = [("fid", fid.to_string())];
                        let outcome = with_vars(shell, &vars, |shell| {
                            Ok(shell.run_list(ctx, vec![close.clone()], false))
                        })?;
                        answer(outcome).1
                    }
                    None => None,
                }
            }
        };
        if let Some(status) = exit {
            return Err(Raise::Exit(status));
        }
    }
}

/// Written bytes as `$data`: text (invalid UTF-8 replaced), without one trailing newline, as
/// `echo` adds.
fn data_text(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

/// A block's outcome as the answer to a client (an empty status is success, anything else
/// the error), and the status the server ends with if the block ran `exit` or was killed.
fn answer(outcome: Run) -> (kernel::Result<()>, Option<String>) {
    match outcome {
        Ok(status) if status.is_empty() => (Ok(()), None),
        Ok(status) | Err(Raise::Exception(status)) => (Err(Error::Msg(status)), None),
        Err(Raise::Exit(status)) => (
            Err(Error::msg("file2chan: the server exited")),
            Some(status),
        ),
    }
}

/// Runs `task` with `vars` set in a scope of their own.
fn with_vars<T>(
    shell: &mut Shell,
    vars: &[(&str, String)],
    task: impl FnOnce(&mut Shell) -> Result<T, Raise>,
) -> Result<T, Raise> {
    shell.push();
    for (name, value) in vars {
        shell.set_local(name, vec![Value::word(value.clone())]);
    }
    let result = task(shell);
    shell.pop();
    result
}

/// Runs `command` in this process with its standard output on a pipe, and returns what it
/// wrote with how it ended. A reader thread drains the pipe meanwhile, so a block may write
/// more than a pipe holds.
fn capture(shell: &mut Shell, ctx: &Ctx, command: List) -> Result<(Vec<u8>, Run), Raise> {
    let [reader, writer] = ctx.pipe_chans().map_err(raise_kernel)?;
    let collector = ctx.kernel().kproc("file2chan", ctx.ns());
    let collector_ctx = Ctx::new(collector.clone());
    let (sender, receiver) = std::sync::mpsc::channel();
    ctx.kernel()
        .spawn_thread("file2chan-read", 256 << 10, move || {
            let mut output = Vec::new();
            let mut buf = vec![0u8; 8192];
            while let Ok(count) = collector_ctx.read_chan(&reader, &mut buf, 0) {
                if count == 0 {
                    break;
                }
                // Past the limit the rest is drained and dropped, so the block never stalls.
                if output.len() <= MAX_OUTPUT {
                    output.extend_from_slice(&buf[..count]);
                }
            }
            let _ = sender.send(output);
        })
        .map_err(|error| {
            shell.fail(
                ctx,
                "no process",
                &format!("file2chan: cannot start a reader: {error}"),
            )
        })?;
    let redirections = [Redirection::Chan {
        fd: 1,
        chan: writer,
    }];
    let outcome = shell.with_redirections(ctx, &redirections, |shell, ctx| {
        Ok(shell.run_list(ctx, command, false))
    });
    drop(redirections);
    let output = match receiver.recv_timeout(OUTPUT_WAIT) {
        Ok(output) => output,
        Err(_) => {
            // A background command still holds the pipe: take what came.
            collector.kill();
            receiver.recv().unwrap_or_default()
        }
    };
    Ok((output, outcome?))
}
