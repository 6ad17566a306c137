//! The namespace commands: `bind`, `unmount`, `ns`, `cd` and `pwd` (Inferno `appl/cmd/bind.b`,
//! `unmount.b`, `ns.b`, `cd.b`, `pwd.b`).
//!
//! These run as processes that share the namespace of the shell that started them (Inferno's
//! rule, kept by the kernel), so a bind or a change of directory made here is the shell's.
//! `ns` only reads `/prog/<pid>/ns`: the kernel writes the lines, this reformats them.

use super::input::failed;
use super::{Output, fail, parse_or_usage, usage_error};
use kernel::text::{quote, tokenize};
use kernel::{Ctx, Exit, MAFTER, MBEFORE, MCACHE, MCREATE, MREPL, Program};

/// `bind [-a|-b] [-cCq] new old`: makes `old` show `new` (replacing it, or in a union before
/// or after what is there); `-c` lets files be created there; `-q` keeps quiet on failure.
pub fn bind(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "bind [-a|-b] [-cq] new old";
    let opts = parse_or_usage(ctx, argv, "abcCq", USAGE)?;
    if opts.args.len() != 2 || (opts.has('a') && opts.has('b')) {
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
    if opts.has('C') {
        flags |= MCACHE;
    }
    let (new, old) = (&opts.args[0], &opts.args[1]);
    match ctx.bind(new, old, flags) {
        Ok(_) => Ok(()),
        // -q: the status still says what happened, only the message is left out.
        Err(error) if opts.has('q') => Err(error.root().to_string()),
        Err(error) => failed(
            ctx,
            argv,
            format!("cannot bind {new} onto {old}: {error}"),
            &error,
        ),
    }
}

/// `unmount [name] old`: undoes every bind and mount on `old`, or just the one of `name`.
pub fn unmount(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "unmount [name] old";
    let opts = parse_or_usage(ctx, argv, "", USAGE)?;
    let (name, old) = match opts.args.as_slice() {
        [old] => (None, old),
        [name, old] => (Some(name.as_str()), old),
        _ => return Err(usage_error(ctx, USAGE)),
    };
    ctx.unmount(name, old)
        .or_else(|error| failed(ctx, argv, format!("cannot unmount {old}: {error}"), &error))
}

/// `ns [-r] [pid]`: the namespace of a process (default this one) as the commands that would
/// build it. Network mounts show the address dialled unless `-r` asks for the raw file.
pub fn ns(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "ns [-r] [pid]";
    let opts = parse_or_usage(ctx, argv, "r", USAGE)?;
    let pid = match opts.args.as_slice() {
        [] => ctx.pid(),
        [pid] => match pid.parse::<u32>() {
            Ok(pid) => pid,
            Err(_) => return Err(usage_error(ctx, USAGE)),
        },
        _ => return Err(usage_error(ctx, USAGE)),
    };
    let path = format!("/prog/{pid}/ns");
    let text = match ctx.read_file(&path, super::input::MAX_HELD) {
        Ok(text) => text,
        Err(error) => return failed(ctx, argv, format!("cannot open {path}: {error}"), &error),
    };
    let mut out = Output::stdout(ctx);
    for line in String::from_utf8_lossy(&text).lines() {
        if let Some(line) = ns_line(ctx, line, opts.has('r')) {
            out.line(&line);
        }
    }
    out.flush()
        .or_else(|error| failed(ctx, argv, format!("write error: {error}"), &error))
}

/// One line of `/prog/N/ns` as `ns` prints it: names requoted, the `#/` or `#U` in front of a
/// longer source dropped (they are the root's own files), a network data file shown as the
/// address it is connected to.
fn ns_line(ctx: &Ctx, line: &str, raw: bool) -> Option<String> {
    let words = tokenize(line);
    let (command, rest) = words.split_first()?;
    if command == "cd" {
        return Some(format!("cd {}", quote(rest.first()?)));
    }
    let (flags, rest) = match rest.first() {
        Some(flag) if flag.starts_with('-') => (format!("{flag} "), &rest[1..]),
        _ => (String::new(), rest),
    };
    let [source, target, extra @ ..] = rest else {
        return None;
    };
    let mut source = source.clone();
    if source.len() >= 3 && (source.starts_with("#/") || source.starts_with("#U")) {
        source.drain(..2);
    }
    if command == "mount" && !raw {
        source = network_address(ctx, &source).unwrap_or(source);
    }
    let mut text = format!("{command} {flags}{} {}", quote(&source), quote(target));
    for word in extra {
        text.push(' ');
        text.push_str(&quote(word));
    }
    Some(text)
}

/// `tcp!10.0.0.1!6666` for `/net/tcp/3/data`, read from the conversation's `remote` file.
fn network_address(ctx: &Ctx, source: &str) -> Option<String> {
    let parts: Vec<&str> = source.strip_prefix('/')?.split('/').collect();
    let [net, proto, conversation, "data"] = parts.as_slice() else {
        return None;
    };
    if *net != "net" && *net != "net.alt" {
        return None;
    }
    let remote = ctx
        .read_file(&format!("/{net}/{proto}/{conversation}/remote"), 256)
        .ok()?;
    let remote = String::from_utf8_lossy(&remote).trim_end().to_string();
    if remote.is_empty() {
        return None;
    }
    let proto = if *net == "net" {
        proto.to_string()
    } else {
        format!("/{net}/{proto}")
    };
    Some(format!("{proto}!{remote}"))
}

/// `cd [dir]`: changes the current directory of the namespace (default `$home`).
pub fn cd(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "cd [directory]";
    let opts = parse_or_usage(ctx, argv, "", USAGE)?;
    let dir = match opts.args.as_slice() {
        [dir] => dir.clone(),
        [] => match ctx.read_file("/env/home", 4096) {
            Ok(home) if !home.is_empty() => {
                // A list variable's elements are separated by NULs in /env; the first is it.
                let home = home.split(|&byte| byte == 0).next().unwrap_or_default();
                String::from_utf8_lossy(home).into_owned()
            }
            _ => return fail(ctx, argv, "no home directory"),
        },
        _ => return Err(usage_error(ctx, USAGE)),
    };
    ctx.chdir(&dir)
        .or_else(|error| failed(ctx, argv, format!("{dir}: {error}"), &error))
}

/// `pwd`: the name of the current directory.
pub fn pwd(ctx: &Ctx, argv: &[String]) -> Exit {
    let opts = parse_or_usage(ctx, argv, "", "pwd")?;
    if !opts.args.is_empty() {
        return Err(usage_error(ctx, "pwd"));
    }
    ctx.write_all(1, format!("{}\n", ctx.getwd()).as_bytes())
        .or_else(|error| failed(ctx, argv, format!("write error: {error}"), &error))
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("bind", bind as Program),
        ("cd", cd as Program),
        ("ns", ns as Program),
        ("pwd", pwd as Program),
        ("unmount", unmount as Program),
    ]
}
