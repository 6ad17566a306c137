//! The file commands: `ls`, `mkdir`, `rm`, `mv`, `cp`, `chmod` and `touch` (Inferno
//! `appl/cmd/ls.b`, `mkdir.b`, `rm.b`, `mv.b`, `cp.b`, `chmod.b`, `touch.b`; Plan 9's of the
//! same names where Inferno has no equivalent flag).
//!
//! Everything goes through the caller's namespace (`ctx`), never the host: a file is whatever
//! the name reaches after binds and mounts. Each command does all its operands, reports each
//! failure as `cmd: name: error` (the kernel's error already quotes the path it failed on),
//! and fails at the end with status `errors`. Walks of a tree (`rm -r`, `cp -r`) stop at
//! [`MAX_DEPTH`] levels, because a bind can make a directory contain itself.

use super::clock::{file_time, now_seconds};
use super::input::failed;
use super::{Output, parse_or_usage, usage_error, warn};
use kernel::{Ctx, Dir, Error, Exit, Program};
use ninep::{DMAPPEND, DMDIR, DMEXCL, DMTMP, OREAD, OWRITE, mode_string};

/// Deepest tree `rm -r`, `cp -r` and `mv` of a directory walk.
const MAX_DEPTH: usize = 256;

/// The status of a command some of whose operands failed.
fn errors() -> Exit {
    Err("errors".to_string())
}

/// Splits a path into its directory and its last element: `a/b` is (`a`, `b`), `b` is (`.`,
/// `b`), `/b` is (`/`, `b`). Trailing slashes are ignored.
fn split_path(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return ("/".to_string(), String::new());
    }
    match trimmed.rfind('/') {
        None => (".".to_string(), trimmed.to_string()),
        Some(0) => ("/".to_string(), trimmed[1..].to_string()),
        Some(slash) => (
            trimmed[..slash].trim_end_matches('/').to_string(),
            trimmed[slash + 1..].to_string(),
        ),
    }
}

/// Whether two entries are the same file: same device, instance and qid path.
fn same_file(a: &Dir, b: &Dir) -> bool {
    a.ty == b.ty && a.dev == b.dev && a.qid.path == b.qid.path
}

// ---------------------------------------------------------------------------------------------
// ls

/// What `ls` was asked to show.
#[derive(Default)]
struct LsFlags {
    directory_itself: bool,
    long: bool,
    epoch_times: bool,
    muid: bool,
    no_sort: bool,
    last_element: bool,
    qid: bool,
    reverse: bool,
    size: bool,
    by_time: bool,
    access_time: bool,
    classify: bool,
    temporary: bool,
}

/// One line to print: the entry and the name it is shown by.
struct Listed {
    dir: Dir,
    shown: String,
}

/// Column widths of one batch of lines (Inferno's `dowidths`).
#[derive(Default)]
struct Widths {
    dev: usize,
    uid: usize,
    gid: usize,
    length: usize,
    size: usize,
    muid: usize,
    vers: usize,
}

/// `ls [-delmnpqrstuFT] [file ...]`: lists files and the contents of directories.
pub fn ls(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "ls [-cdeklmnpqrstuFT] [file ...]";
    let opts = parse_or_usage(ctx, argv, "cdeklmnpqrstuFT", USAGE)?;
    let mut flags = LsFlags {
        directory_itself: opts.has('d'),
        long: opts.has('l'),
        epoch_times: opts.has('e'),
        muid: opts.has('m'),
        no_sort: opts.has('n'),
        last_element: opts.has('p'),
        qid: opts.has('q'),
        reverse: opts.has('r'),
        size: opts.has('s') || opts.has('k'),
        by_time: opts.has('t'),
        access_time: opts.has('u'),
        classify: opts.has('F'),
        temporary: opts.has('T'),
    };
    let operands = if opts.args.is_empty() {
        flags.last_element = true;
        vec![".".to_string()]
    } else {
        opts.args.clone()
    };
    let now = if flags.long { now_seconds(ctx) } else { 0 };
    let mut out = Output::stdout(ctx);
    let mut files: Vec<Listed> = Vec::new();
    let mut troubled = false;
    for operand in &operands {
        let dir = match ctx.stat(operand) {
            Ok(dir) => dir,
            Err(error) if error.is_interrupt() => return Err(error.to_string()),
            Err(error) => {
                warn(ctx, argv, format!("{operand}: {error}"));
                troubled = true;
                continue;
            }
        };
        if flags.directory_itself || !dir.is_dir() {
            let shown = if flags.last_element {
                let (_, base) = split_path(operand);
                if base.is_empty() {
                    operand.clone()
                } else {
                    base
                }
            } else {
                operand.clone()
            };
            files.push(Listed { dir, shown });
            continue;
        }
        // Files named before a directory are printed before its contents.
        print_batch(&mut out, &flags, now, std::mem::take(&mut files));
        let entries = match ctx.read_dir(operand) {
            Ok(entries) => entries,
            Err(error) if error.is_interrupt() => return Err(error.to_string()),
            Err(error) => {
                warn(ctx, argv, format!("{operand}: {error}"));
                troubled = true;
                continue;
            }
        };
        // A union directory lists a name once, from the first member that has it.
        let mut seen = std::collections::HashSet::new();
        let batch = entries
            .into_iter()
            .filter(|entry| seen.insert(entry.name.clone()))
            .map(|dir| {
                let shown = if flags.last_element {
                    dir.name.clone()
                } else {
                    kernel::path::join(operand, &dir.name)
                };
                Listed { dir, shown }
            })
            .collect();
        print_batch(&mut out, &flags, now, batch);
    }
    print_batch(&mut out, &flags, now, files);
    if let Err(error) = out.flush() {
        return failed(ctx, argv, format!("write error: {error}"), &error);
    }
    if troubled { errors() } else { Ok(()) }
}

/// Sorts a batch as the flags say and prints it.
fn print_batch(out: &mut Output, flags: &LsFlags, now: i64, mut batch: Vec<Listed>) {
    if batch.is_empty() {
        return;
    }
    if !flags.no_sort {
        if flags.by_time {
            let time = |listed: &Listed| {
                if flags.access_time {
                    listed.dir.atime
                } else {
                    listed.dir.mtime
                }
            };
            // Newest first; equal times by name.
            batch.sort_by(|a, b| time(b).cmp(&time(a)).then_with(|| a.shown.cmp(&b.shown)));
        } else {
            batch.sort_by(|a, b| a.shown.cmp(&b.shown));
        }
        if flags.reverse {
            batch.reverse();
        }
    }
    let mut widths = Widths::default();
    for listed in &batch {
        let dir = &listed.dir;
        widths.dev = widths.dev.max(dir.dev.to_string().len());
        widths.uid = widths.uid.max(dir.uid.len());
        widths.gid = widths.gid.max(dir.gid.len());
        widths.length = widths.length.max(dir.length.to_string().len());
        widths.size = widths.size.max(dir.length.div_ceil(1024).to_string().len());
        widths.muid = widths.muid.max(dir.muid.len() + 2);
        widths.vers = widths.vers.max(dir.qid.vers.to_string().len());
    }
    for listed in &batch {
        out.line(&ls_line(flags, now, &widths, listed));
    }
}

/// One line of `ls` output.
fn ls_line(flags: &LsFlags, now: i64, widths: &Widths, listed: &Listed) -> String {
    let dir = &listed.dir;
    let mut line = String::new();
    if flags.size {
        line.push_str(&format!(
            "{:>width$} ",
            dir.length.div_ceil(1024),
            width = widths.size
        ));
    }
    if flags.muid {
        let muid = format!("[{}]", dir.muid);
        line.push_str(&format!("{muid:<width$} ", width = widths.muid));
    }
    if flags.qid {
        line.push_str(&format!(
            "({:016x} {:>width$} {:02x}) ",
            dir.qid.path,
            dir.qid.vers,
            dir.qid.ty,
            width = widths.vers
        ));
    }
    if flags.temporary {
        line.push_str(if dir.mode & DMTMP != 0 { "t " } else { "- " });
    }
    let mut name = listed.shown.clone();
    if flags.classify {
        if dir.is_dir() {
            name.push('/');
        } else if dir.mode & 0o111 != 0 {
            name.push('*');
        }
    }
    if !flags.long {
        line.push_str(&name);
        return line;
    }
    let time = if flags.access_time {
        dir.atime
    } else {
        dir.mtime
    };
    let time = if flags.epoch_times {
        time.to_string()
    } else {
        file_time(now, i64::from(time))
    };
    let letter = char::from_u32(u32::from(dir.ty))
        .filter(|letter| !letter.is_control())
        .unwrap_or('?');
    line.push_str(&format!(
        "{} {} {:>dev$} {:<uid$} {:<gid$} {:>length$} {} {}",
        mode_string(dir.mode),
        letter,
        dir.dev,
        dir.uid,
        dir.gid,
        dir.length,
        time,
        name,
        dev = widths.dev,
        uid = widths.uid,
        gid = widths.gid,
        length = widths.length,
    ));
    line
}

// ---------------------------------------------------------------------------------------------
// mkdir

/// `mkdir [-p] dir ...`: makes directories; `-p` makes missing parents too and accepts
/// directories that already exist.
pub fn mkdir(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "mkdir [-p] directory ...";
    let opts = parse_or_usage(ctx, argv, "p", USAGE)?;
    if opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let mut troubled = false;
    for dir in &opts.args {
        let made = if opts.has('p') {
            make_parents(ctx, dir, 0)
        } else {
            ctx.mkdir(dir, 0o777)
        };
        if let Err(error) = made {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, format!("cannot make directory {dir}: {error}"));
            troubled = true;
        }
    }
    if troubled { errors() } else { Ok(()) }
}

/// Makes `dir` and whatever parents it lacks.
fn make_parents(ctx: &Ctx, dir: &str, depth: usize) -> kernel::Result<()> {
    match ctx.stat(dir) {
        Ok(found) if found.is_dir() => return Ok(()),
        Ok(_) => return Err(Error::NotDir.at(dir)),
        Err(error) if error.is_interrupt() => return Err(error),
        Err(_) => {}
    }
    let (parent, base) = split_path(dir);
    if depth < MAX_DEPTH && !base.is_empty() && parent != "." && parent != "/" {
        make_parents(ctx, &parent, depth + 1)?;
    }
    match ctx.mkdir(dir, 0o777) {
        // Someone else made it meanwhile: as good.
        Err(error) if matches!(error.root(), Error::Exists) => Ok(()),
        made => made,
    }
}

// ---------------------------------------------------------------------------------------------
// rm

/// `rm [-fr] file ...`: removes files; `-r` empties directories first, `-f` keeps quiet
/// about what could not be removed.
pub fn rm(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "rm [-fr] file ...";
    let opts = parse_or_usage(ctx, argv, "fr", USAGE)?;
    if opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let quiet = opts.has('f');
    let mut troubled = false;
    for file in &opts.args {
        let removed = if opts.has('r') {
            remove_tree(ctx, argv, file, quiet, 0)
        } else {
            ctx.remove(file)
        };
        if let Err(error) = removed {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            if !quiet {
                warn(ctx, argv, format!("{file}: {error}"));
                troubled = true;
            }
        }
    }
    if troubled { errors() } else { Ok(()) }
}

/// Removes `path`, and first everything in it if it is a directory. Errors inside are
/// reported as they happen (unless `quiet`); the error returned is the one for `path`.
fn remove_tree(
    ctx: &Ctx,
    argv: &[String],
    path: &str,
    quiet: bool,
    depth: usize,
) -> kernel::Result<()> {
    // As Plan 9's rm: try the remove first, and look inside only if that fails.
    let first = match ctx.remove(path) {
        Ok(()) => return Ok(()),
        Err(error) => error,
    };
    if first.is_interrupt() {
        return Err(first);
    }
    match ctx.stat(path) {
        Ok(dir) if dir.is_dir() => {}
        _ => return Err(first),
    }
    if depth >= MAX_DEPTH {
        return Err(Error::msg("directory tree too deep").at(path));
    }
    for entry in ctx.read_dir(path)? {
        let child = kernel::path::join(path, &entry.name);
        if let Err(error) = remove_tree(ctx, argv, &child, quiet, depth + 1) {
            if error.is_interrupt() {
                return Err(error);
            }
            if !quiet {
                warn(ctx, argv, format!("{child}: {error}"));
            }
        }
    }
    ctx.remove(path)
}

// ---------------------------------------------------------------------------------------------
// cp and mv

/// The destination of each source: `target` itself, or `target/<last element>` when the
/// target is a directory. More than one source needs a directory.
fn destinations(ctx: &Ctx, sources: &[String], target: &str) -> Result<Vec<String>, Error> {
    let target_is_dir = ctx.stat(target).is_ok_and(|dir| dir.is_dir());
    if sources.len() > 1 && !target_is_dir {
        return Err(Error::NotDir.at(target));
    }
    Ok(sources
        .iter()
        .map(|source| {
            if target_is_dir {
                kernel::path::join(target, &split_path(source).1)
            } else {
                target.to_string()
            }
        })
        .collect())
}

/// `cp [-r] from to`, `cp [-r] from ... dir`: copies files (and with `-r`, directories).
pub fn cp(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "cp [-r] from to | cp [-r] from ... directory";
    let opts = parse_or_usage(ctx, argv, "r", USAGE)?;
    let Some((target, sources)) = opts.args.split_last().filter(|(_, rest)| !rest.is_empty())
    else {
        return Err(usage_error(ctx, USAGE));
    };
    let destinations = match destinations(ctx, sources, target) {
        Ok(destinations) => destinations,
        Err(error) => return failed(ctx, argv, format!("{target}: {error}"), &error),
    };
    let mut troubled = false;
    for (source, destination) in sources.iter().zip(&destinations) {
        if let Err(error) = copy_path(ctx, argv, source, destination, opts.has('r'), 0) {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, error);
            troubled = true;
        }
    }
    if troubled { errors() } else { Ok(()) }
}

/// Why a copy failed, already worded as `from: error` or `to: error`.
type CopyResult = Result<(), Error>;

/// Copies `from` to `to`; a directory (with `recursive`) is made and filled in turn. Errors
/// on files inside a directory are reported and the rest are still copied.
fn copy_path(
    ctx: &Ctx,
    argv: &[String],
    from: &str,
    to: &str,
    recursive: bool,
    depth: usize,
) -> CopyResult {
    let source = ctx.stat(from).map_err(|error| labelled(from, error))?;
    if let Ok(existing) = ctx.stat(to)
        && same_file(&source, &existing)
    {
        return Err(Error::msg(format!("{from} and {to} are the same file")));
    }
    if !source.is_dir() {
        return copy_file(ctx, from, to, source.mode & 0o777);
    }
    if !recursive {
        return Err(labelled(from, Error::IsDir));
    }
    if depth == 0 && inside(from, to) {
        return Err(Error::msg(format!("cannot copy {from} into itself")));
    }
    if depth >= MAX_DEPTH {
        return Err(labelled(from, Error::msg("directory tree too deep")));
    }
    match ctx.stat(to) {
        Ok(existing) if existing.is_dir() => {}
        Ok(_) => return Err(labelled(to, Error::NotDir)),
        Err(error) if error.is_interrupt() => return Err(error),
        Err(_) => ctx
            .mkdir(to, source.mode & 0o777 | 0o700)
            .map_err(|error| labelled(to, error))?,
    }
    let entries = ctx.read_dir(from).map_err(|error| labelled(from, error))?;
    let mut first_error = None;
    for entry in entries {
        let child_from = kernel::path::join(from, &entry.name);
        let child_to = kernel::path::join(to, &entry.name);
        if let Err(error) = copy_path(ctx, argv, &child_from, &child_to, true, depth + 1) {
            if error.is_interrupt() {
                return Err(error);
            }
            warn(ctx, argv, &error);
            first_error.get_or_insert(Error::msg(format!("{from}: not everything copied")));
        }
    }
    // Only now can the directory's own permissions (perhaps read-only) be set.
    let mut change = Dir::null();
    change.mode = source.mode & 0o777 | DMDIR;
    let _ = ctx.wstat(to, &change);
    first_error.map_or(Ok(()), Err)
}

/// Whether `path` names something below `dir`, judging by the names alone (a bind can still
/// hide it, which the depth limit then catches).
fn inside(dir: &str, path: &str) -> bool {
    match (kernel::path::clean(dir), kernel::path::clean(path)) {
        (Ok(dir), Ok(path)) => {
            let dir = if dir.ends_with('/') { dir } else { dir + "/" };
            path.starts_with(&dir)
        }
        _ => false,
    }
}

/// `name: error`; an interrupt stays as it is, to end the command.
fn labelled(name: &str, error: Error) -> Error {
    if error.is_interrupt() {
        return error;
    }
    Error::msg(format!("{name}: {error}"))
}

/// Copies one file's contents into `to` (made, or truncated if it exists) with `perm`.
fn copy_file(ctx: &Ctx, from: &str, to: &str, perm: u32) -> CopyResult {
    let input = ctx
        .open(from, OREAD)
        .map_err(|error| labelled(from, error))?;
    let output = match ctx.create(to, OWRITE, perm) {
        Ok(fd) => fd,
        Err(error) => {
            let _ = ctx.close(input);
            return Err(labelled(to, error));
        }
    };
    let mut buffer = vec![0u8; 64 * 1024];
    let result = loop {
        let count = match ctx.read(input, &mut buffer) {
            Ok(0) => break Ok(()),
            Ok(count) => count,
            Err(error) => break Err(labelled(from, error)),
        };
        if let Err(error) = ctx.write_all(output, &buffer[..count]) {
            break Err(labelled(to, error));
        }
    };
    let _ = ctx.close(input);
    let _ = ctx.close(output);
    result
}

/// `mv from to`, `mv from ... dir`: renames within a directory, otherwise copies and
/// removes the original.
pub fn mv(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "mv from to | mv from ... directory";
    let opts = parse_or_usage(ctx, argv, "", USAGE)?;
    let Some((target, sources)) = opts.args.split_last().filter(|(_, rest)| !rest.is_empty())
    else {
        return Err(usage_error(ctx, USAGE));
    };
    let destinations = match destinations(ctx, sources, target) {
        Ok(destinations) => destinations,
        Err(error) => return failed(ctx, argv, format!("{target}: {error}"), &error),
    };
    let mut troubled = false;
    for (source, destination) in sources.iter().zip(&destinations) {
        if let Err(error) = move_path(ctx, argv, source, destination) {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, error);
            troubled = true;
        }
    }
    if troubled { errors() } else { Ok(()) }
}

/// Moves one file or directory.
fn move_path(ctx: &Ctx, argv: &[String], from: &str, to: &str) -> CopyResult {
    let source = ctx.stat(from).map_err(|error| labelled(from, error))?;
    let (from_parent, _) = split_path(from);
    let (to_parent, to_name) = split_path(to);
    if to_name.is_empty() {
        return Err(labelled(to, Error::BadArg));
    }
    match ctx.stat(to) {
        Ok(existing) if same_file(&source, &existing) => {
            return Err(Error::msg(format!("{from} and {to} are the same file")));
        }
        Ok(existing) if existing.is_dir() => return Err(labelled(to, Error::IsDir)),
        // An existing file is replaced, as Plan 9's mv does.
        Ok(_) => ctx.remove(to).map_err(|error| labelled(to, error))?,
        Err(error) if error.is_interrupt() => return Err(error),
        Err(_) => {}
    }
    let same_directory = match (ctx.stat(&from_parent), ctx.stat(&to_parent)) {
        (Ok(a), Ok(b)) => same_file(&a, &b),
        (_, Err(error)) => return Err(labelled(&to_parent, error)),
        _ => false,
    };
    if same_directory {
        let mut change = Dir::null();
        change.name = to_name;
        return ctx
            .wstat(from, &change)
            .map_err(|error| labelled(from, error));
    }
    copy_path(ctx, argv, from, to, true, 0)?;
    remove_tree(ctx, argv, from, false, 0).map_err(|error| labelled(from, error))
}

// ---------------------------------------------------------------------------------------------
// chmod

/// A mode change: absolute bits, or Plan 9's `[ugoa][+-=][rwxal]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ModeChange {
    Absolute(u32),
    Symbolic { who: u32, op: char, bits: u32 },
}

impl ModeChange {
    fn parse(text: &str) -> Option<ModeChange> {
        if !text.is_empty() && text.bytes().all(|byte| (b'0'..=b'7').contains(&byte)) {
            let bits = u32::from_str_radix(text, 8).ok()?;
            return (bits <= 0o777).then_some(ModeChange::Absolute(bits));
        }
        let op_at = text.find(['+', '-', '='])?;
        let (who_text, rest) = text.split_at(op_at);
        let op = rest.chars().next()?;
        let mut who = 0;
        for letter in who_text.chars() {
            who |= match letter {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                'a' => 0o777,
                _ => return None,
            };
        }
        if who == 0 {
            who = 0o777;
        }
        let mut bits = 0;
        for letter in rest[1..].chars() {
            bits |= match letter {
                'r' => 0o444 & who,
                'w' => 0o222 & who,
                'x' => 0o111 & who,
                'a' => DMAPPEND,
                'l' => DMEXCL,
                _ => return None,
            };
        }
        Some(ModeChange::Symbolic { who, op, bits })
    }

    /// The new mode for a file whose mode is `old`.
    fn apply(self, old: u32) -> u32 {
        match self {
            ModeChange::Absolute(bits) => (old & !0o777) | bits,
            ModeChange::Symbolic { op: '+', bits, .. } => old | bits,
            ModeChange::Symbolic { op: '-', bits, .. } => old & !bits,
            ModeChange::Symbolic { who, bits, .. } => (old & !(who | DMAPPEND | DMEXCL)) | bits,
        }
    }
}

/// `chmod mode file ...`: changes permissions, in octal (`644`) or as `[ugoa][+-=][rwxal]`.
pub fn chmod(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "chmod 0777 file ... | chmod [ugoa][+-=][rwxal] file ...";
    let opts = parse_or_usage(ctx, argv, "", USAGE)?;
    let Some((mode, files)) = opts
        .args
        .split_first()
        .filter(|(_, files)| !files.is_empty())
    else {
        return Err(usage_error(ctx, USAGE));
    };
    let Some(change) = ModeChange::parse(mode) else {
        warn(ctx, argv, format!("bad mode {mode}"));
        return Err(usage_error(ctx, USAGE));
    };
    let mut troubled = false;
    for file in files {
        let changed = ctx.stat(file).and_then(|dir| {
            let mut new = Dir::null();
            new.mode = change.apply(dir.mode);
            ctx.wstat(file, &new)
        });
        if let Err(error) = changed {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, format!("{file}: {error}"));
            troubled = true;
        }
    }
    if troubled { errors() } else { Ok(()) }
}

// ---------------------------------------------------------------------------------------------
// touch

/// `touch [-c] [-t time] file ...`: sets each file's modification time to now (or `time`,
/// seconds since the epoch), making the file if it is missing unless `-c`.
pub fn touch(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "touch [-c] [-t time] file ...";
    let opts = parse_or_usage(ctx, argv, "ct:", USAGE)?;
    if opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let time = match opts.value('t') {
        Some(text) => match text.parse::<u32>() {
            Ok(time) => time,
            Err(_) => {
                warn(ctx, argv, format!("bad time {text}"));
                return Err(usage_error(ctx, USAGE));
            }
        },
        None => u32::try_from(now_seconds(ctx)).unwrap_or(u32::MAX),
    };
    let mut change = Dir::null();
    change.mtime = time;
    let mut troubled = false;
    for file in &opts.args {
        let wstat_error = match ctx.wstat(file, &change) {
            Ok(()) => continue,
            Err(error) => error,
        };
        if wstat_error.is_interrupt() {
            return Err(wstat_error.to_string());
        }
        let outcome = if opts.has('c') {
            Err(format!("cannot wstat: {wstat_error}"))
        } else {
            match ctx.create_chan(file, OREAD, 0o666, true) {
                Ok(chan) => {
                    drop(chan);
                    // The new file has the current time already; an explicit one is set.
                    if opts.value('t').is_some() {
                        let _ = ctx.wstat(file, &change);
                    }
                    Ok(())
                }
                Err(error) => Err(format!("cannot create: {error}")),
            }
        };
        if let Err(message) = outcome {
            warn(ctx, argv, format!("{file}: {message}"));
            troubled = true;
        }
    }
    if troubled { errors() } else { Ok(()) }
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("chmod", chmod as Program),
        ("cp", cp as Program),
        ("ls", ls as Program),
        ("mkdir", mkdir as Program),
        ("mv", mv as Program),
        ("rm", rm as Program),
        ("touch", touch as Program),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_directory_and_name() {
        let split = |path: &str| {
            let (dir, name) = split_path(path);
            (dir, name)
        };
        assert_eq!(split("a/b"), ("a".into(), "b".into()));
        assert_eq!(split("b"), (".".into(), "b".into()));
        assert_eq!(split("/b"), ("/".into(), "b".into()));
        assert_eq!(split("/a/b/"), ("/a".into(), "b".into()));
        assert_eq!(split("/"), ("/".into(), "".into()));
    }

    #[test]
    fn mode_changes() {
        let parse = |text| ModeChange::parse(text).unwrap();
        assert_eq!(parse("644").apply(DMDIR | 0o777), DMDIR | 0o644);
        assert_eq!(parse("+x").apply(0o644), 0o755);
        assert_eq!(parse("go-w").apply(0o666), 0o644);
        assert_eq!(parse("u=r").apply(0o766), 0o466);
        assert_eq!(parse("+a").apply(0o644), DMAPPEND | 0o644);
        assert_eq!(parse("+l").apply(0o600), DMEXCL | 0o600);
        for bad in ["", "8", "1000", "z+r", "u+q", "u"] {
            assert_eq!(ModeChange::parse(bad), None, "{bad}");
        }
    }
}
