//! `os [-d dir] [-n] [-N level] [-m mountpoint] cmd [arg ...]`: runs a command of the host
//! (Inferno's `appl/cmd/os.b`) through `#C` (`docs/devices/cmd.md`), binding it after `/` if
//! `/cmd` is not there yet, in a copy of the namespace so the caller does not keep it. The
//! command's standard output and error come back on ours; our
//! standard input goes to it; its exit status becomes ours.
//!
//! Under `nodevs` (a sandbox) `#C` cannot be attached, so `os` fails with `mount/attach
//! disallowed`; only the host owner may attach it at all.

use super::{fail, parse_or_usage, usage_error};
use kernel::{Chan, Ctx, Exit, MAFTER, Program};
use ninep::{ORDWR, OREAD, OWRITE};
use std::sync::Arc;

/// `os`.
pub fn os(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "os [-d dir] [-n] [-N level] [-m mountpoint] cmd [arg ...]";
    // Flags end at the command: `os ls -l` passes -l to ls.
    let mut end = 1;
    while let Some(word) = argv.get(end) {
        if word == "--" || !word.starts_with('-') || word.len() == 1 {
            break;
        }
        if word.ends_with(['d', 'N', 'm']) {
            end += 1;
        }
        end += 1;
    }
    let end = end.min(argv.len());
    let opts = parse_or_usage(ctx, &argv[..end], "d:nN:m:", USAGE)?;
    let command = match argv.get(end) {
        Some(word) if word == "--" => &argv[end + 1..],
        _ => &argv[end..],
    };
    if command.is_empty() || !opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let mount = opts.value('m').unwrap_or("/cmd").trim_end_matches('/');
    let mount = if mount.is_empty() { "/cmd" } else { mount };
    if opts.value('m').is_none() && ctx.stat("/cmd/clone").is_err() {
        // In a copy of the namespace: the shell that ran os does not keep /cmd, so a sandbox
        // made from it later (`pctl nodevs`) has no host commands left over.
        let bound = ctx
            .pctl(kernel::proc::FORKNS, &[])
            .and_then(|_| ctx.bind("#C", "/", MAFTER));
        if let Err(error) = bound {
            return fail(ctx, argv, format!("cannot bind #C: {error}"));
        }
    }
    let nice = match opts.value('N') {
        Some(level) => match level.parse::<u8>() {
            Ok(level @ 1..=3) => Some(level),
            _ => return fail(ctx, argv, format!("bad nice level {level}: 1, 2 or 3")),
        },
        None if opts.has('n') => Some(1),
        None => None,
    };
    run(ctx, argv, mount, opts.value('d'), nice, command)
}

/// Opens a connection under `mount`, starts `command` and relays until it ends.
fn run(
    ctx: &Ctx,
    argv: &[String],
    mount: &str,
    dir: Option<&str>,
    nice: Option<u8>,
    command: &[String],
) -> Exit {
    let step = |what: &str, error: kernel::Error| fail(ctx, argv, format!("{what}: {error}"));
    let ctl = match ctx.open_chan(&format!("{mount}/clone"), ORDWR) {
        Ok(ctl) => ctl,
        Err(error) => return step(&format!("cannot open {mount}/clone"), error),
    };
    let mut number = [0u8; 32];
    let count = match ctx.read_chan(&ctl, &mut number, 0) {
        Ok(count) => count,
        Err(error) => return step("cannot read the connection's number", error),
    };
    let conv = format!(
        "{mount}/{}",
        String::from_utf8_lossy(&number[..count]).trim()
    );
    // The wait file must be open before the command starts.
    let wait = match ctx.open_chan(&format!("{conv}/wait"), OREAD) {
        Ok(wait) => wait,
        Err(error) => return step(&format!("cannot open {conv}/wait"), error),
    };
    let mut requests = Vec::new();
    if let Some(dir) = dir {
        requests.push(format!("dir {}", kernel::text::quote(dir)));
    }
    if let Some(level) = nice {
        requests.push(format!("nice {level}"));
    }
    requests.push(format!("exec {}", kernel::text::quote_list(command)));
    for request in requests {
        if let Err(error) = ctx.write_chan(&ctl, request.as_bytes(), 0) {
            return fail(ctx, argv, format!("{}: {error}", command[0]));
        }
    }
    let (input, output) = match (
        ctx.open_chan(&format!("{conv}/data"), OWRITE),
        ctx.open_chan(&format!("{conv}/data"), OREAD),
    ) {
        (Ok(input), Ok(output)) => (input, output),
        (Err(error), _) | (_, Err(error)) => {
            return step(&format!("cannot open {conv}/data"), error);
        }
    };
    let feeder = ctx.spawn("os-input", ctx.fds_keeping(&[0]), move |ctx| {
        feed(ctx, &input);
        Ok(())
    });
    let relayed = relay(ctx, &output);
    let status = wait_line(ctx, &wait);
    if let Ok(feeder) = feeder {
        feeder.kill();
    }
    if let Err(error) = relayed {
        return step("write error", error);
    }
    match status {
        Ok(status) if status.is_empty() => Ok(()),
        Ok(status) => Err(status),
        Err(error) => step("wait", error),
    }
}

/// Copies our standard input to the command's until either ends.
fn feed(ctx: &Ctx, input: &Arc<Chan>) {
    let mut buf = vec![0u8; 8192];
    while let Ok(count) = ctx.read(0, &mut buf) {
        if count == 0 || ctx.write_chan(input, &buf[..count], 0).is_err() {
            break;
        }
    }
}

/// Copies the command's output to ours until its end.
fn relay(ctx: &Ctx, output: &Arc<Chan>) -> kernel::Result<()> {
    let mut buf = vec![0u8; 8192];
    loop {
        let count = ctx.read_chan(output, &mut buf, 0)?;
        if count == 0 {
            return Ok(());
        }
        ctx.write_all(1, &buf[..count])?;
    }
}

/// The exit status from the wait line: its fifth field, unquoted.
fn wait_line(ctx: &Ctx, wait: &Arc<Chan>) -> kernel::Result<String> {
    let mut buf = vec![0u8; 512];
    let count = ctx.read_chan(wait, &mut buf, 0)?;
    let fields = kernel::text::tokenize(&String::from_utf8_lossy(&buf[..count]));
    Ok(fields.get(4).cloned().unwrap_or_default())
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![("os", os as Program)]
}
