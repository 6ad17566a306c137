//! `export` and `mount`: serving a namespace as 9P and mounting a 9P server (Inferno
//! `appl/cmd/export.b`, `mount.b`).
//!
//! `export` serves on descriptors 0 and 1 (or on a file), so it can sit behind a pipe, a
//! posted `/srv` entry, a serial line, or the host's stdin and stdout when it is ember's first
//! process. `mount` takes a `{command}` (run with a pipe as its standard input and output, in
//! the caller's namespace), or a file that opens to a connection.

use super::{fail, parse_or_usage, usage_error};
use kernel::export::{ExportOptions, serve};
use kernel::transport::ChanTransport;
use kernel::{Ctx, Exit, FdTable, MAFTER, MBEFORE, MCREATE, MREPL, Program};
use ninep::ORDWR;
use std::sync::Arc;

/// `export [-a] [-r] dir [file]`: serves the namespace below `dir` as 9P on descriptors 0 and
/// 1, or on `file`; `-a` serves in a new process and returns at once; `-r` refuses every
/// change.
pub fn export(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "export [-a] [-r] dir [file]";
    let opts = parse_or_usage(ctx, argv, "ar", USAGE)?;
    let (dir, file) = match opts.args.as_slice() {
        [dir] => (dir.clone(), None),
        [dir, file] => (dir.clone(), Some(file.clone())),
        _ => return Err(usage_error(ctx, USAGE)),
    };
    let options = ExportOptions {
        read_only: opts.has('r'),
    };
    let (input, output) = match &file {
        Some(file) => match ctx.open_chan(file, ORDWR) {
            Ok(chan) => (chan.clone(), chan),
            Err(error) => return fail(ctx, argv, format!("cannot open {file}: {error}")),
        },
        None => match (ctx.fds().get(0), ctx.fds().get(1)) {
            (Ok(input), Ok(output)) => (input, output),
            _ => return fail(ctx, argv, "no connection on descriptors 0 and 1"),
        },
    };
    let run = move |ctx: &Ctx| -> Exit {
        let transport = Arc::new(ChanTransport::new(ctx.clone(), input, output));
        serve(ctx, &dir, transport, options).map_err(|error| {
            let _ = ctx.write_all(2, format!("export: {error}\n").as_bytes());
            error.root().to_string()
        })
    };
    if opts.has('a') {
        // Inferno serves an asynchronous export from a kernel process: it does not keep ember
        // running by itself.
        let fds = ctx.fds_keeping(&[2]);
        return match ctx.spawn("export", fds, run) {
            Ok(server) => {
                server.set_daemon();
                Ok(())
            }
            Err(error) => fail(ctx, argv, format!("cannot start: {error}")),
        };
    }
    run(ctx)
}

/// `mount [-abcA] [-k keyfile] src old [spec]`: mounts the 9P server reached through `src`
/// onto `old`: a `{command}` run with a pipe as its standard input and output, a file that
/// opens to a connection (a pipe end, `/srv/name`, a serial line), or a network address
/// (`tcp!host!port`, completed as `net!host!styx`), dialled through the caller's `/net`.
pub fn mount(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "mount [-a|-b] [-cA] [-k keyfile] src old [spec]";
    let opts = parse_or_usage(ctx, argv, "abcAk:", USAGE)?;
    let (src, old, spec) = match opts.args.as_slice() {
        [src, old] => (src, old, ""),
        [src, old, spec] => (src, old, spec.as_str()),
        _ => return Err(usage_error(ctx, USAGE)),
    };
    if opts.has('a') && opts.has('b') {
        return Err(usage_error(ctx, USAGE));
    }
    let mut flags = if opts.has('a') {
        MAFTER
    } else if opts.has('b') {
        MBEFORE
    } else {
        MREPL
    };
    if opts.has('c') {
        flags |= MCREATE;
    }
    let connection = if src.starts_with('{') {
        match serve_block(ctx, src) {
            Ok(chan) => chan,
            Err(error) => return fail(ctx, argv, format!("cannot run {src}: {error}")),
        }
    } else {
        match ctx.open_chan(src, ORDWR) {
            Ok(chan) => chan,
            // An address (it has a `!`, or is a bare name of no file): dial it through our
            // own /net.
            Err(error)
                if src.contains('!')
                    || (!src.contains('/') && error.root() == &kernel::Error::NotExist) =>
            {
                let keyring = match super::net::keyring_of(ctx, &opts) {
                    Ok(keyring) => keyring,
                    Err(reason) => return fail(ctx, argv, reason),
                };
                let addr = kernel::dial::netmkaddr(src, "net", "styx");
                let data = match kernel::dial::dial(ctx, &addr, None) {
                    Ok(connection) => match connection.data {
                        Some(data) => data,
                        None => return fail(ctx, argv, format!("cannot dial {addr}")),
                    },
                    Err(error) => return fail(ctx, argv, format!("cannot dial {addr}: {error}")),
                };
                match super::net::secure_call(ctx, data, keyring.as_ref()) {
                    Ok(data) => data,
                    Err(error) if error.is_interrupt() => return Err(error.to_string()),
                    Err(error) => return fail(ctx, argv, format!("{addr}: {error}")),
                }
            }
            Err(error) => return fail(ctx, argv, format!("cannot open {src}: {error}")),
        }
    };
    ctx.mount(connection, old, flags, spec)
        .map(drop)
        .or_else(|error| fail(ctx, argv, format!("cannot mount {src} on {old}: {error}")))
}

/// Runs `block` in a new process sharing the caller's namespace, with one end of a pipe as
/// its descriptors 0 and 1; returns the other end.
fn serve_block(ctx: &Ctx, block: &str) -> kernel::Result<Arc<kernel::Chan>> {
    let [ours, theirs] = ctx.pipe_chans()?;
    let fds = FdTable::new();
    fds.install_at(0, theirs.clone())?;
    fds.install_at(1, theirs)?;
    if let Ok(stderr) = ctx.fds().get(2) {
        fds.install_at(2, stderr)?;
    }
    let argv: Vec<String> = ["sh", "-n", "-c", block]
        .iter()
        .map(|word| word.to_string())
        .collect();
    let server = ctx.spawn("sh", fds, move |ctx| crate::sh::main(ctx, &argv))?;
    // The server lives as long as the mount; it must not keep ember running by itself.
    server.set_daemon();
    Ok(ours)
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![("export", export as Program), ("mount", mount as Program)]
}
