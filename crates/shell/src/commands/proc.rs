//! The process and time commands: `ps`, `kill`, `sleep` and `date` (Inferno `appl/cmd/ps.b`,
//! `kill.b`, `sleep.b`, `date.b`).
//!
//! `ps` and `kill` work only through `/prog` in the caller's namespace, as Inferno's do, so a
//! namespace without `#p` sees no processes; `date` reads `/dev/time`. `sleep` waits through
//! the kernel's interruptible sleep, so an interrupt or a kill ends it at once.

use super::clock::{Tm, read_micros};
use super::input::failed;
use super::{Output, fail, parse_or_usage, usage_error, warn};
use kernel::{Ctx, Exit, Program};
use ninep::OWRITE;
use std::time::Duration;

/// Longest `/prog/N/status` line read.
const STATUS_MAX: usize = 512;
/// Longest sleep accepted: a century, so the arithmetic below cannot overflow.
const MAX_SLEEP_SECONDS: f64 = 100.0 * 365.0 * 86_400.0;

/// The pids in `/prog`, in increasing order.
fn pids(ctx: &Ctx) -> kernel::Result<Vec<u32>> {
    let mut pids: Vec<u32> = ctx
        .read_dir("/prog")?
        .iter()
        .filter_map(|entry| entry.name.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    Ok(pids)
}

/// The status line of process `pid`, without its newline, or None if it has gone.
fn status_line(ctx: &Ctx, pid: u32) -> Option<String> {
    let text = ctx
        .read_file(&format!("/prog/{pid}/status"), STATUS_MAX)
        .ok()?;
    let text = String::from_utf8_lossy(&text);
    Some(text.trim_end_matches('\n').to_string())
}

/// `ps`: one line per process, `/prog/N/status` in pid order.
pub fn ps(ctx: &Ctx, argv: &[String]) -> Exit {
    let opts = parse_or_usage(ctx, argv, "", "ps")?;
    if !opts.args.is_empty() {
        return Err(usage_error(ctx, "ps"));
    }
    let pids = match pids(ctx) {
        Ok(pids) => pids,
        Err(error) => return failed(ctx, argv, format!("cannot open /prog: {error}"), &error),
    };
    let mut out = Output::stdout(ctx);
    // A process that exits between the directory read and its status read is skipped.
    for line in pids.into_iter().filter_map(|pid| status_line(ctx, pid)) {
        out.line(&line);
    }
    out.flush()
        .or_else(|error| failed(ctx, argv, format!("write error: {error}"), &error))
}

/// The module name at the end of a status line, without a `[$Sys]`-style suffix.
fn module_of(status: &str) -> &str {
    let last = status.split_whitespace().last().unwrap_or("");
    last.split('[').next().unwrap_or(last)
}

/// Whether a process whose module is `module` answers to `name`: the module itself (`Sleep`)
/// or the program's name it was made from (`sleep`).
fn name_matches(module: &str, name: &str) -> bool {
    if module == name {
        return true;
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|first| {
        let capitalised: String = first.to_uppercase().chain(chars).collect();
        capitalised == module
    })
}

/// `kill [-g] pid|name ...`: writes `kill` (or, with `-g`, `killgrp`) to each process's ctl
/// file. A name kills every process of that module; their pids are printed.
pub fn kill(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "kill [-g] pid|module ...";
    let opts = parse_or_usage(ctx, argv, "g", USAGE)?;
    if opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let message: &[u8] = if opts.has('g') { b"killgrp" } else { b"kill" };
    let mut killed = 0;
    let mut out = Output::stdout(ctx);
    for target in &opts.args {
        if target.starts_with(|first: char| first.is_ascii_digit()) {
            let Ok(pid) = target.parse::<u32>() else {
                warn(ctx, argv, format!("bad pid {target}"));
                continue;
            };
            match write_ctl(ctx, pid, message) {
                Ok(()) => killed += 1,
                Err(error) if error.is_interrupt() => return Err(error.to_string()),
                Err(error) => warn(ctx, argv, format!("cannot kill {pid}: {error}")),
            }
            continue;
        }
        let pids = match pids(ctx) {
            Ok(pids) => pids,
            Err(error) => return failed(ctx, argv, format!("cannot open /prog: {error}"), &error),
        };
        let matching: Vec<u32> = pids
            .into_iter()
            .filter(|&pid| pid != ctx.pid())
            .filter(|&pid| {
                status_line(ctx, pid).is_some_and(|line| name_matches(module_of(&line), target))
            })
            .collect();
        if matching.is_empty() {
            warn(ctx, argv, format!("cannot find {target}"));
            continue;
        }
        let mut done = Vec::new();
        for pid in matching {
            // One that exited meanwhile is not worth a word.
            if write_ctl(ctx, pid, message).is_ok() {
                done.push(pid.to_string());
            }
        }
        if !done.is_empty() {
            killed += done.len();
            out.line(&done.join(" "));
        }
    }
    let _ = out.flush();
    if killed == 0 {
        return Err("nothing killed".to_string());
    }
    Ok(())
}

fn write_ctl(ctx: &Ctx, pid: u32, message: &[u8]) -> kernel::Result<()> {
    let fd = ctx.open(&format!("/prog/{pid}/ctl"), OWRITE)?;
    let written = ctx.write_all(fd, message);
    let _ = ctx.close(fd);
    written
}

/// `sleep seconds`: waits (a fraction such as `0.5` is allowed); an interrupt ends it.
pub fn sleep(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "sleep seconds";
    let opts = parse_or_usage(ctx, argv, "", USAGE)?;
    let [seconds] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    let seconds = match seconds.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 && !seconds.starts_with('+') => value,
        _ => return fail(ctx, argv, format!("bad time {seconds}")),
    };
    let duration = Duration::from_secs_f64(seconds.min(MAX_SLEEP_SECONDS));
    ctx.sleep_for(duration).map_err(|error| error.to_string())
}

/// `date [-nu]`: the time, as `Tue Nov 24 08:16:32 UTC 2026`, or with `-n` in seconds since
/// the epoch. Always UTC: `-u` is accepted for Inferno's sake and changes nothing.
pub fn date(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "date [-nu]";
    let opts = parse_or_usage(ctx, argv, "nu", USAGE)?;
    if !opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let micros = match read_micros(ctx) {
        Ok(micros) => micros,
        Err(error) => return failed(ctx, argv, format!("cannot read /dev/time: {error}"), &error),
    };
    let seconds = micros.div_euclid(1_000_000);
    let text = if opts.has('n') {
        seconds.to_string()
    } else {
        Tm::from_epoch(seconds).text()
    };
    ctx.write_all(1, format!("{text}\n").as_bytes())
        .or_else(|error| failed(ctx, argv, format!("write error: {error}"), &error))
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("date", date as Program),
        ("kill", kill as Program),
        ("ps", ps as Program),
        ("sleep", sleep as Program),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_modules() {
        let line = "       7        1     glenda 0:00.0    release     0K Sleep";
        assert_eq!(module_of(line), "Sleep");
        assert_eq!(module_of("1 1 me 0:00.0 ready 0K Sh[$Sys]"), "Sh");
        assert!(name_matches("Sleep", "sleep"));
        assert!(name_matches("Sleep", "Sleep"));
        assert!(!name_matches("Sleep", "sh"));
        assert!(!name_matches("Sleep", ""));
    }
}
