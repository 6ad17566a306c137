//! `man`: prints manual pages (Inferno `appl/cmd/man.b`, in its plainest form).
//!
//! A page is the file `/man/<section>/<title>`, printed as it is: ember's pages are plain text
//! (the `docs/commands/*.md` files copied into the root tree), so there is no formatter.
//! Sections are the directories of `/man`, searched in numeric order (1, 2, ...) and then by
//! name, so a title that is both a command and a device finds the command first.

use super::input::{Opened, failed};
use super::{Output, copy, fail, parse_or_usage, usage_error, warn};
use kernel::{Ctx, Exit, Program};

const MAN: &str = "/man";

/// The sections of `/man`, in search order.
fn sections(ctx: &Ctx) -> kernel::Result<Vec<String>> {
    let mut names: Vec<String> = ctx
        .read_dir(MAN)?
        .into_iter()
        .filter(|entry| entry.is_dir())
        .map(|entry| entry.name)
        .collect();
    names.sort_by(|a, b| {
        let number = |name: &str| name.parse::<u64>().ok();
        match (number(a), number(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(b),
        }
    });
    names.dedup();
    Ok(names)
}

/// `man [-w] [section] title ...`, `man -l [section ...]`: prints the page for each title
/// (with `-w`, only its file name); `-l` lists the pages there are, as `title(section)`.
pub fn man(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "man [-w] [section] title ... | man -l [section ...]";
    let opts = parse_or_usage(ctx, argv, "lw", USAGE)?;
    let all_sections = match sections(ctx) {
        Ok(sections) => sections,
        Err(error) => return failed(ctx, argv, format!("cannot read {MAN}: {error}"), &error),
    };
    let mut out = Output::stdout(ctx);
    if opts.has('l') {
        let chosen = if opts.args.is_empty() {
            all_sections
        } else {
            opts.args.clone()
        };
        let mut troubled = false;
        for section in &chosen {
            let mut titles: Vec<String> = match ctx.read_dir(&format!("{MAN}/{section}")) {
                Ok(entries) => entries
                    .into_iter()
                    .filter(|entry| !entry.is_dir())
                    .map(|entry| entry.name)
                    .collect(),
                Err(error) => {
                    warn(ctx, argv, format!("no section {section}: {error}"));
                    troubled = true;
                    continue;
                }
            };
            titles.sort();
            titles.dedup();
            for title in titles {
                out.line(&format!("{title}({section})"));
            }
        }
        if let Err(error) = out.flush() {
            return failed(ctx, argv, format!("write error: {error}"), &error);
        }
        return if troubled {
            Err("errors".to_string())
        } else {
            Ok(())
        };
    }
    // A first operand naming a section, followed by at least one title, is the section.
    let (search, titles) = match opts.args.split_first() {
        None => return Err(usage_error(ctx, USAGE)),
        Some((first, rest)) if !rest.is_empty() && all_sections.contains(first) => {
            (vec![first.clone()], rest)
        }
        // A number where a section goes is one, even when ember has no such section.
        Some((first, rest))
            if !rest.is_empty()
                && !first.is_empty()
                && first.bytes().all(|b| b.is_ascii_digit()) =>
        {
            return fail(ctx, argv, format!("no section {first}"));
        }
        Some(_) => (all_sections, &opts.args[..]),
    };
    let mut missing = false;
    for title in titles {
        let found = search.iter().find_map(|section| {
            let path = format!("{MAN}/{section}/{title}");
            match ctx.stat(&path) {
                Ok(dir) if !dir.is_dir() => Some(path),
                _ => None,
            }
        });
        let Some(path) = found else {
            let _ = out.flush();
            warn(ctx, argv, format!("no manual page for {title}"));
            missing = true;
            continue;
        };
        if opts.has('w') {
            out.line(&path);
            continue;
        }
        let copied = Opened::open(ctx, &path).and_then(|page| copy(ctx, page.fd, &mut out));
        if let Err(error) = copied {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, format!("cannot print {path}: {error}"));
            missing = true;
        }
    }
    if let Err(error) = out.flush() {
        return failed(ctx, argv, format!("write error: {error}"), &error);
    }
    if missing {
        Err("no entry".to_string())
    } else {
        Ok(())
    }
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![("man", man as Program)]
}
