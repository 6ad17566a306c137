//! `echo` and `cat` (Inferno `appl/cmd/echo.b`, `cat.b`).

use super::{Output, fail, parse_or_usage, warn};
use kernel::{Ctx, Exit, Program};
use ninep::OREAD;

/// `echo [-n] [arg ...]`: the arguments, separated by blanks, and a newline unless `-n`.
pub fn echo(ctx: &Ctx, argv: &[String]) -> Exit {
    let (newline, words) = match argv.get(1).map(String::as_str) {
        Some("-n") => (false, &argv[2..]),
        _ => (true, argv.get(1..).unwrap_or_default()),
    };
    let mut text = words.join(" ");
    if newline {
        text.push('\n');
    }
    ctx.write_all(1, text.as_bytes())
        .or_else(|error| fail(ctx, argv, format!("write error: {error}")))
}

/// `cat [file ...]`: each file (or standard input, also named `-`) in turn.
pub fn cat(ctx: &Ctx, argv: &[String]) -> Exit {
    let opts = parse_or_usage(ctx, argv, "", "cat [file ...]")?;
    let files = if opts.args.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.args
    };
    let mut out = Output::stdout(ctx);
    let mut failed = false;
    for file in &files {
        let (fd, opened) = if file == "-" {
            (0, false)
        } else {
            match ctx.open(file, OREAD) {
                Ok(fd) => (fd, true),
                Err(error) => {
                    warn(ctx, argv, format!("cannot open {file}: {error}"));
                    failed = true;
                    continue;
                }
            }
        };
        let copied = super::copy(ctx, fd, &mut out);
        if opened {
            let _ = ctx.close(fd);
        }
        if let Err(error) = copied {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, format!("error reading {file}: {error}"));
            failed = true;
        }
    }
    if failed {
        Err("errors".to_string())
    } else {
        Ok(())
    }
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![("cat", cat as Program), ("echo", echo as Program)]
}
