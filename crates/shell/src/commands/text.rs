//! The text filters: `wc`, `grep`, `sort`, `uniq`, `head`, `tail`, `tee`, `tr` and `read`
//! (Plan 9 `wc.c`, `grep/`, `sort.c`, `uniq.c`, `tail.c`, `tee.c`, `tr.c`, `read.c`; Inferno's
//! `appl/cmd` versions of the same, and its `head.b`).
//!
//! Invariants: every filter streams its input through [`Input`], holding at most one line
//! (at most [`MAX_LINE`] bytes) at a time, except `sort` and `tail -N`, which must keep lines
//! and refuse to hold more than [`MAX_HELD`] bytes. Bytes that are not UTF-8 pass through
//! untouched. Output goes through [`Output`], whose write errors end the command.

use super::input::{Input, MAX_HELD, MAX_LINE, Opened, Trouble, each_file, failed};
use super::{Output, fail, parse_or_usage, usage_error, warn};
use kernel::sys::Whence;
use kernel::{Ctx, Error, Exit, Program};
use ninep::OWRITE;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// The status for the outcome of [`each_file`].
fn trouble_status(trouble: Trouble) -> String {
    match trouble {
        Trouble::Some => "errors".to_string(),
        Trouble::Stop(status) => status,
    }
}

/// Flushes `out`, turning a write error into the command's failure.
fn finish(ctx: &Ctx, argv: &[String], out: &mut Output, outcome: Result<(), Trouble>) -> Exit {
    if let Err(error) = out.flush() {
        return failed(ctx, argv, format!("write error: {error}"), &error);
    }
    outcome.map_err(trouble_status)
}

/// Rewrites a leading `-5` (and, if `plus` allows, `+5`) into `-n 5` / `-n +5`, the old
/// forms `head` and `tail` still accept.
fn numeric_flag(argv: &[String], plus: bool) -> Vec<String> {
    let mut words = argv.to_vec();
    if let Some(first) = argv.get(1) {
        let digits = first
            .strip_prefix('-')
            .or_else(|| first.strip_prefix('+').filter(|_| plus));
        if digits
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        {
            let value = if first.starts_with('+') {
                first.clone()
            } else {
                first[1..].to_string()
            };
            words.splice(1..2, ["-n".to_string(), value]);
        }
    }
    words
}

// ---------------------------------------------------------------------------------------------
// wc

/// What `wc` counts in one input.
#[derive(Clone, Copy, Default)]
struct Counts {
    lines: u64,
    words: u64,
    runes: u64,
    broken: u64,
    bytes: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.lines += other.lines;
        self.words += other.words;
        self.runes += other.runes;
        self.broken += other.broken;
        self.bytes += other.bytes;
    }
}

/// Counts lines, words (runs of anything but blank, tab and newline), runes, bytes that are
/// not part of a well-formed UTF-8 sequence, and bytes (Plan 9 `wc`'s state machine).
#[derive(Default)]
struct Counter {
    counts: Counts,
    in_word: bool,
    /// Continuation bytes still expected by the current UTF-8 sequence.
    expecting: u8,
}

impl Counter {
    fn feed(&mut self, data: &[u8]) {
        self.counts.bytes += data.len() as u64;
        for &byte in data {
            if self.expecting > 0 {
                if (0x80..=0xbf).contains(&byte) {
                    self.expecting -= 1;
                    continue;
                }
                // The sequence broke off; this byte starts afresh.
                self.expecting = 0;
                self.counts.broken += 1;
            }
            self.counts.runes += 1;
            match byte {
                b' ' | b'\t' => self.in_word = false,
                b'\n' => {
                    self.in_word = false;
                    self.counts.lines += 1;
                }
                _ => {
                    if !self.in_word {
                        self.in_word = true;
                        self.counts.words += 1;
                    }
                    match byte {
                        0x00..=0x7f => {}
                        0xc0..=0xdf => self.expecting = 1,
                        0xe0..=0xef => self.expecting = 2,
                        0xf0..=0xf7 => self.expecting = 3,
                        _ => self.counts.broken += 1,
                    }
                }
            }
        }
    }

    fn end(mut self) -> Counts {
        if self.expecting > 0 {
            self.counts.broken += 1;
        }
        self.counts
    }
}

/// `wc [-lwrbc] [file ...]`: counts lines, words, runes, broken UTF-8 and bytes (default
/// lines, words and bytes), each in a column seven wide, with a total for several files.
pub fn wc(ctx: &Ctx, argv: &[String]) -> Exit {
    let opts = parse_or_usage(ctx, argv, "lwrbc", "wc [-lwrbc] [file ...]")?;
    let mut shown: Vec<char> = "lwrbc".chars().filter(|&flag| opts.has(flag)).collect();
    if shown.is_empty() {
        shown = vec!['l', 'w', 'c'];
    }
    let report = |counts: &Counts, name: Option<&str>| {
        let mut fields: Vec<String> = shown
            .iter()
            .map(|flag| {
                let value = match flag {
                    'l' => counts.lines,
                    'w' => counts.words,
                    'r' => counts.runes,
                    'b' => counts.broken,
                    _ => counts.bytes,
                };
                format!("{value:>7}")
            })
            .collect();
        if let Some(name) = name {
            fields.push(name.to_string());
        }
        fields.join(" ")
    };
    let mut out = Output::stdout(ctx);
    let mut total = Counts::default();
    let outcome = each_file(ctx, argv, &opts.args, |name, fd| {
        let mut counter = Counter::default();
        let mut input = Input::new(ctx, fd);
        while let Some(chunk) = input.chunk()? {
            counter.feed(chunk);
            let used = chunk.len();
            input.consume(used);
        }
        let counts = counter.end();
        total += counts;
        let name = (!opts.args.is_empty()).then_some(name);
        out.line(&report(&counts, name));
        Ok(())
    });
    if opts.args.len() > 1 {
        out.line(&report(&total, Some("total")));
    }
    finish(ctx, argv, &mut out, outcome)
}

// ---------------------------------------------------------------------------------------------
// grep

/// `grep [-chiLlnsv] [-e pattern | -f file] [pattern] [file ...]`: prints lines that match a
/// regular expression. Fails with `no matches` if no line matched.
pub fn grep(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "grep [-chiLlnsv] [-e pattern] [-f patternfile] [file ...]";
    let opts = parse_or_usage(ctx, argv, "chiLlnsve:f:", USAGE)?;
    let mut files = opts.args.clone();
    let pattern = if let Some(pattern) = opts.value('e') {
        pattern.to_string()
    } else if let Some(file) = opts.value('f') {
        match ctx.read_file(file, MAX_LINE) {
            Ok(text) => String::from_utf8_lossy(&text)
                .trim_end_matches('\n')
                .to_string(),
            Err(error) => return failed(ctx, argv, format!("cannot open {file}: {error}"), &error),
        }
    } else if files.is_empty() {
        return Err(usage_error(ctx, USAGE));
    } else {
        files.remove(0)
    };
    // As in Plan 9, a newline in the pattern separates alternatives.
    let alternatives: Vec<String> = pattern
        .split('\n')
        .map(|part| format!("(?:{part})"))
        .collect();
    let regex = match regex_lite::RegexBuilder::new(&alternatives.join("|"))
        .case_insensitive(opts.has('i'))
        .build()
    {
        Ok(regex) => regex,
        Err(error) => {
            let first = error.to_string();
            let first = first
                .lines()
                .last()
                .unwrap_or("bad pattern")
                .trim()
                .to_string();
            warn(
                ctx,
                argv,
                format!("bad regular expression {pattern}: {first}"),
            );
            return Err("bad regular expression".to_string());
        }
    };
    let invert = opts.has('v');
    let quiet = opts.has('s');
    let counting = opts.has('c');
    let list_matching = opts.has('l');
    let list_other = opts.has('L');
    let numbered = opts.has('n');
    let labelled = files.len() > 1 && !opts.has('h');
    let mut out = Output::stdout(ctx);
    let mut matched_any = false;
    let outcome = each_file(ctx, argv, &files, |name, fd| {
        let name = if name == "-" { "stdin" } else { name };
        let mut input = Input::new(ctx, fd);
        let mut line = Vec::new();
        let mut number = 0u64;
        let mut count = 0u64;
        while input.line(&mut line)? {
            number += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let hit = match std::str::from_utf8(text) {
                Ok(text) => regex.is_match(text),
                Err(_) => regex.is_match(&String::from_utf8_lossy(text)),
            };
            if hit == invert {
                continue;
            }
            count += 1;
            matched_any = true;
            if quiet || list_matching {
                // The answer for this file is known.
                break;
            }
            if counting || list_other {
                continue;
            }
            if labelled {
                out.text(&format!("{name}:"));
            }
            if numbered {
                out.text(&format!("{number}: "));
            }
            out.bytes(text);
            out.bytes(b"\n");
        }
        if quiet {
            return Ok(());
        }
        if counting && !list_matching && !list_other {
            if labelled {
                out.text(&format!("{name}:"));
            }
            out.line(&count.to_string());
        }
        if (list_matching && count > 0) || (list_other && count == 0) {
            out.line(name);
        }
        Ok(())
    });
    finish(ctx, argv, &mut out, outcome)?;
    if matched_any {
        Ok(())
    } else {
        Err("no matches".to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// sort

/// How `sort` compares lines.
struct SortKeys {
    numeric: bool,
    fold: bool,
    reverse: bool,
    separator: Option<char>,
    /// First and last field of the key, counted from 1; None is the whole line.
    fields: Option<(usize, Option<usize>)>,
}

impl SortKeys {
    /// The part of `line` the comparison looks at.
    fn key<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        let Some((first, last)) = self.fields else {
            return line;
        };
        let spans = self.field_spans(line);
        let Some(&(start, _)) = spans.get(first - 1) else {
            return &[];
        };
        let end = match last {
            Some(last) => spans
                .get(last.max(first) - 1)
                .map_or(line.len(), |&(_, end)| end),
            None => line.len(),
        };
        &line[start..end]
    }

    /// Where each field of `line` starts and ends: between separators if one was given, else
    /// runs of non-blanks.
    fn field_spans(&self, line: &[u8]) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        match self.separator {
            Some(separator) => {
                let mut encoded = [0u8; 4];
                let separator = separator.encode_utf8(&mut encoded).as_bytes();
                let mut start = 0;
                let mut index = 0;
                while index + separator.len() <= line.len() {
                    if &line[index..index + separator.len()] == separator {
                        spans.push((start, index));
                        index += separator.len();
                        start = index;
                    } else {
                        index += 1;
                    }
                }
                spans.push((start, line.len()));
            }
            None => {
                let mut index = 0;
                while index < line.len() {
                    while index < line.len() && is_blank(line[index]) {
                        index += 1;
                    }
                    let start = index;
                    while index < line.len() && !is_blank(line[index]) {
                        index += 1;
                    }
                    if start < index {
                        spans.push((start, index));
                    }
                }
            }
        }
        spans
    }

    /// Compares two lines by their keys only.
    fn compare_keys(&self, a: &[u8], b: &[u8]) -> Ordering {
        let (a, b) = (self.key(a), self.key(b));
        let order = if self.numeric {
            leading_number(a).total_cmp(&leading_number(b))
        } else if self.fold {
            a.iter()
                .map(u8::to_ascii_lowercase)
                .cmp(b.iter().map(u8::to_ascii_lowercase))
        } else {
            a.cmp(b)
        };
        if self.reverse { order.reverse() } else { order }
    }

    /// Compares two lines: by key, then (as Plan 9's sort does) by the whole line.
    fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        self.compare_keys(a, b).then_with(|| {
            let order = a.cmp(b);
            if self.reverse { order.reverse() } else { order }
        })
    }
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// The number at the start of `text` (after blanks): sign, digits, fraction. None is 0.
fn leading_number(text: &[u8]) -> f64 {
    let text = &text[text.iter().take_while(|&&byte| is_blank(byte)).count()..];
    let mut end = 0;
    if matches!(text.first(), Some(b'-' | b'+')) {
        end = 1;
    }
    end += text[end..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if text.get(end) == Some(&b'.') {
        end += 1;
        end += text[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    std::str::from_utf8(&text[..end])
        .ok()
        .and_then(|number| number.parse().ok())
        .unwrap_or(0.0)
}

/// Parses `-k first[,last]`.
fn parse_fields(text: &str) -> Option<(usize, Option<usize>)> {
    let (first, last) = match text.split_once(',') {
        Some((first, last)) => (first, Some(last)),
        None => (text, None),
    };
    let first: usize = first.parse().ok().filter(|&field| field > 0)?;
    let last = match last {
        Some(last) => Some(last.parse().ok().filter(|&field| field > 0)?),
        None => None,
    };
    Some((first, last))
}

/// `sort [-fnru] [-t c] [-k first[,last]] [file ...]`: sorts lines (bytewise, or numerically
/// with `-n`), `-u` keeping one of each run of equal keys. Holds its input in memory, at most
/// 64 MiB of it.
pub fn sort(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "sort [-fnru] [-t c] [-k first[,last]] [file ...]";
    let opts = parse_or_usage(ctx, argv, "fnrubt:k:", USAGE)?;
    let separator = match opts.value('t') {
        None => None,
        Some(text) => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(separator), None) => Some(separator),
                _ => return Err(usage_error(ctx, USAGE)),
            }
        }
    };
    let fields = match opts.value('k') {
        None => None,
        Some(text) => match parse_fields(text) {
            Some(fields) => Some(fields),
            None => return Err(usage_error(ctx, USAGE)),
        },
    };
    let keys = SortKeys {
        numeric: opts.has('n'),
        fold: opts.has('f'),
        reverse: opts.has('r'),
        separator,
        fields,
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut held = 0usize;
    let mut too_large = false;
    let outcome = each_file(ctx, argv, &opts.args, |_, fd| {
        let mut input = Input::new(ctx, fd);
        let mut line = Vec::new();
        while !too_large && input.line(&mut line)? {
            held += line.len() + std::mem::size_of::<Vec<u8>>();
            if held > MAX_HELD {
                too_large = true;
                break;
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            lines.push(std::mem::take(&mut line));
        }
        Ok(())
    });
    if too_large {
        return fail(ctx, argv, "input too large (more than 64 MiB)");
    }
    if let Err(Trouble::Stop(status)) = outcome {
        return Err(status);
    }
    lines.sort_by(|a, b| keys.compare(a, b));
    if opts.has('u') {
        lines.dedup_by(|later, earlier| keys.compare_keys(earlier, later) == Ordering::Equal);
    }
    let mut out = Output::stdout(ctx);
    for line in &lines {
        out.bytes(line);
        out.bytes(b"\n");
    }
    finish(ctx, argv, &mut out, outcome)
}

// ---------------------------------------------------------------------------------------------
// uniq

/// `uniq [-cdu] [file]`: copies its input dropping lines equal to the one before; `-u` only
/// lines that were not repeated, `-d` one copy of each that was, `-c` with counts.
pub fn uniq(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "uniq [-cdu] [file]";
    let opts = parse_or_usage(ctx, argv, "cdu", USAGE)?;
    if opts.args.len() > 1 {
        return Err(usage_error(ctx, USAGE));
    }
    let (unique_only, repeated_only, counted) = (opts.has('u'), opts.has('d'), opts.has('c'));
    let mut out = Output::stdout(ctx);
    let mut emit = |line: &[u8], count: u64| {
        let shown = match (unique_only, repeated_only) {
            (false, false) => true,
            (unique, repeated) => (unique && count == 1) || (repeated && count > 1),
        };
        if shown {
            if counted {
                out.text(&format!("{count:>4} "));
            }
            out.bytes(line);
            out.bytes(b"\n");
        }
    };
    let outcome = each_file(ctx, argv, &opts.args, |_, fd| {
        let mut input = Input::new(ctx, fd);
        let mut previous: Option<Vec<u8>> = None;
        let mut count = 0;
        let mut line = Vec::new();
        while input.line(&mut line)? {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            match &previous {
                Some(seen) if *seen == line => count += 1,
                _ => {
                    if let Some(seen) = previous.take() {
                        emit(&seen, count);
                    }
                    previous = Some(std::mem::take(&mut line));
                    count = 1;
                }
            }
        }
        if let Some(seen) = previous {
            emit(&seen, count);
        }
        Ok(())
    });
    finish(ctx, argv, &mut out, outcome)
}

// ---------------------------------------------------------------------------------------------
// head and tail

/// Parses a line count, or prints the usage.
fn line_count(ctx: &Ctx, text: &str, usage: &str) -> Result<u64, String> {
    text.parse::<u64>().map_err(|_| usage_error(ctx, usage))
}

/// `head [-n lines | -lines] [file ...]`: the first lines (default 10) of each file.
pub fn head(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "head [-n lines] [file ...]";
    let argv_numeric = numeric_flag(argv, false);
    let opts = parse_or_usage(ctx, &argv_numeric, "n:", USAGE)?;
    let wanted = match opts.value('n') {
        Some(text) => line_count(ctx, text, USAGE)?,
        None => 10,
    };
    let mut out = Output::stdout(ctx);
    let outcome = each_file(ctx, argv, &opts.args, |_, fd| {
        let mut input = Input::new(ctx, fd);
        let mut lines = 0;
        while lines < wanted {
            let Some(chunk) = input.chunk()? else { break };
            let mut used = chunk.len();
            for (index, &byte) in chunk.iter().enumerate() {
                if byte == b'\n' {
                    lines += 1;
                    if lines == wanted {
                        used = index + 1;
                        break;
                    }
                }
            }
            out.bytes(&chunk[..used]);
            input.consume(used);
        }
        Ok(())
    });
    finish(ctx, argv, &mut out, outcome)
}

/// Where `tail` starts.
#[derive(Clone, Copy)]
enum TailFrom {
    /// This many lines before the end.
    End(u64),
    /// At this line, counting from 1.
    Start(u64),
}

/// `tail [-n [+]lines | -lines | +lines] [file]`: the last lines (default 10) of a file, or
/// with `+N` everything from line N on.
pub fn tail(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "tail [-n [+]lines] [file]";
    let argv_numeric = numeric_flag(argv, true);
    let opts = parse_or_usage(ctx, &argv_numeric, "n:", USAGE)?;
    if opts.args.len() > 1 {
        return Err(usage_error(ctx, USAGE));
    }
    let from = match opts.value('n') {
        None => TailFrom::End(10),
        Some(text) => match text.strip_prefix('+') {
            Some(start) => TailFrom::Start(line_count(ctx, start, USAGE)?.max(1)),
            None => TailFrom::End(line_count(ctx, text, USAGE)?),
        },
    };
    let mut out = Output::stdout(ctx);
    let mut too_large = false;
    let outcome = each_file(ctx, argv, &opts.args, |_, fd| {
        let mut input = Input::new(ctx, fd);
        match from {
            TailFrom::Start(first) => {
                let mut line = 1;
                while let Some(chunk) = input.chunk()? {
                    let mut skipped = 0;
                    while line < first && skipped < chunk.len() {
                        if chunk[skipped] == b'\n' {
                            line += 1;
                        }
                        skipped += 1;
                    }
                    out.bytes(&chunk[skipped..]);
                    let used = chunk.len();
                    input.consume(used);
                }
            }
            TailFrom::End(0) => {}
            TailFrom::End(wanted) => {
                let mut kept: VecDeque<Vec<u8>> = VecDeque::new();
                let mut held = 0;
                let mut line = Vec::new();
                // A line longer than MAX_LINE arrives in pieces; only newlines end lines here.
                let mut open_line = false;
                while input.line(&mut line)? {
                    let ends_line = line.last() == Some(&b'\n');
                    held += line.len();
                    if open_line {
                        if let Some(last) = kept.back_mut() {
                            last.extend_from_slice(&line);
                        }
                    } else {
                        kept.push_back(std::mem::take(&mut line));
                        if kept.len() as u64 > wanted {
                            held -= kept.pop_front().map_or(0, |gone| gone.len());
                        }
                    }
                    open_line = !ends_line;
                    if held > MAX_HELD {
                        too_large = true;
                        return Ok(());
                    }
                }
                for line in kept {
                    out.bytes(&line);
                }
            }
        }
        Ok(())
    });
    if too_large {
        return fail(ctx, argv, "lines too long to hold (more than 64 MiB)");
    }
    finish(ctx, argv, &mut out, outcome)
}

// ---------------------------------------------------------------------------------------------
// tee

/// `tee [-ai] file ...`: copies standard input to standard output and into each file
/// (appending with `-a`). `-i` is accepted for Plan 9's sake; interrupts still stop it.
pub fn tee(ctx: &Ctx, argv: &[String]) -> Exit {
    let opts = parse_or_usage(ctx, argv, "ai", "tee [-ai] file ...")?;
    let mut troubled = false;
    let mut outputs: Vec<(String, i32)> = Vec::new();
    for file in &opts.args {
        let opened = if opts.has('a') {
            ctx.open(file, OWRITE)
                .and_then(|fd| ctx.seek(fd, 0, Whence::End).map(|_| fd))
                .or_else(|error| match error.root() {
                    Error::NotExist => ctx.create(file, OWRITE, 0o666),
                    _ => Err(error),
                })
        } else {
            ctx.create(file, OWRITE, 0o666)
        };
        match opened {
            Ok(fd) => outputs.push((file.clone(), fd)),
            Err(error) if error.is_interrupt() => return Err(error.to_string()),
            Err(error) => {
                warn(ctx, argv, format!("cannot open {file}: {error}"));
                troubled = true;
            }
        }
    }
    let mut buffer = vec![0u8; 8192];
    let mut stdout_ok = true;
    let status = loop {
        let count = match ctx.read(0, &mut buffer) {
            Ok(0) => break None,
            Ok(count) => count,
            Err(error) if error.is_interrupt() => break Some(error.to_string()),
            Err(error) => {
                warn(ctx, argv, format!("error reading standard input: {error}"));
                break Some("errors".to_string());
            }
        };
        let data = &buffer[..count];
        if stdout_ok && let Err(error) = ctx.write_all(1, data) {
            warn(
                ctx,
                argv,
                format!("write error on standard output: {error}"),
            );
            stdout_ok = false;
            troubled = true;
        }
        outputs.retain(|(file, fd)| match ctx.write_all(*fd, data) {
            Ok(()) => true,
            Err(error) => {
                warn(ctx, argv, format!("write error on {file}: {error}"));
                troubled = true;
                let _ = ctx.close(*fd);
                false
            }
        });
    };
    for (_, fd) in outputs {
        let _ = ctx.close(fd);
    }
    match status {
        Some(status) => Err(status),
        None if troubled => Err("errors".to_string()),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// tr

/// Expands a `tr` set: ranges `a-z`, and escapes `\n`, `\t`, `\\`, `\-` and octal `\012`.
fn expand_set(text: &str) -> Result<Vec<char>, String> {
    let mut atoms: Vec<(char, bool)> = Vec::new(); // (char, escaped)
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            atoms.push((ch, false));
            continue;
        }
        let mut octal = String::new();
        while octal.len() < 3 && chars.peek().is_some_and(|next| ('0'..='7').contains(next)) {
            octal.extend(chars.next());
        }
        let escaped = if !octal.is_empty() {
            let code = u32::from_str_radix(&octal, 8).map_err(|_| "bad escape".to_string())?;
            char::from_u32(code).ok_or("bad escape")?
        } else {
            match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some(other) => other,
                None => '\\',
            }
        };
        atoms.push((escaped, true));
    }
    let mut set = Vec::new();
    let mut index = 0;
    while index < atoms.len() {
        let (low, _) = atoms[index];
        let is_range = index + 2 < atoms.len() && atoms[index + 1] == ('-', false);
        if is_range {
            let (high, _) = atoms[index + 2];
            if high < low {
                return Err(format!("bad range {low}-{high}"));
            }
            set.extend(low..=high);
            index += 3;
        } else {
            set.push(low);
            index += 1;
        }
    }
    Ok(set)
}

/// What `tr` does to each character.
struct Translation {
    /// Set 1, sorted and without repeats, for membership and complement positions.
    sorted: Vec<char>,
    /// Set 1 in the order given, for mapping.
    from: Vec<char>,
    to: Vec<char>,
    complement: bool,
    delete: bool,
    squeeze: Option<Vec<char>>,
}

impl Translation {
    fn in_set1(&self, ch: char) -> bool {
        self.sorted.binary_search(&ch).is_ok() != self.complement
    }

    /// Writes `ch`, unless it repeats the last character written and is to be squeezed.
    fn emit(&self, out: &mut Output, ch: char, last_out: &mut Option<char>) {
        if let Some(squeezed) = &self.squeeze
            && *last_out == Some(ch)
            && squeezed.binary_search(&ch).is_ok()
        {
            return;
        }
        *last_out = Some(ch);
        let mut encoded = [0u8; 4];
        out.bytes(ch.encode_utf8(&mut encoded).as_bytes());
    }

    /// The character `ch` becomes, or None if it is deleted.
    fn map(&self, ch: char) -> Option<char> {
        if !self.in_set1(ch) {
            return Some(ch);
        }
        if self.delete {
            return None;
        }
        let Some(&last) = self.to.last() else {
            return Some(ch);
        };
        let position = if self.complement {
            // The complement counts every character not in set 1, in order.
            let below = self.sorted.partition_point(|&member| member < ch);
            ch as usize - below
        } else {
            self.from
                .iter()
                .position(|&member| member == ch)
                .unwrap_or(0)
        };
        Some(self.to.get(position).copied().unwrap_or(last))
    }
}

/// `tr [-cds] [set1 [set2]]`: copies standard input, replacing characters of set 1 by the
/// corresponding ones of set 2 (its last repeated as needed), deleting them with `-d`,
/// squeezing runs of a repeated set-2 character with `-s`; `-c` complements set 1.
pub fn tr(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "tr [-cds] [set1 [set2]]";
    let opts = parse_or_usage(ctx, argv, "cds", USAGE)?;
    if opts.args.len() > 2 {
        return Err(usage_error(ctx, USAGE));
    }
    let mut sets = Vec::new();
    for text in &opts.args {
        match expand_set(text) {
            Ok(set) => sets.push(set),
            Err(message) => return fail(ctx, argv, message),
        }
    }
    let from = sets.first().cloned().unwrap_or_default();
    let to = sets.get(1).cloned().unwrap_or_default();
    let (delete, squeeze) = (opts.has('d'), opts.has('s'));
    if sets.len() == 1 && !delete && !squeeze {
        return Err(usage_error(ctx, USAGE));
    }
    let mut sorted = from.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let squeeze_set = squeeze.then(|| {
        let mut set = if sets.len() == 2 || delete {
            to.clone()
        } else {
            from.clone()
        };
        set.sort_unstable();
        set.dedup();
        set
    });
    let translation = Translation {
        sorted,
        from,
        to: if delete { Vec::new() } else { to },
        complement: opts.has('c'),
        delete,
        squeeze: squeeze_set,
    };
    let mut out = Output::stdout(ctx);
    let mut input = Input::new(ctx, 0);
    let mut pending: Vec<u8> = Vec::new();
    let mut last_out: Option<char> = None;
    let outcome = loop {
        let chunk = match input.chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        };
        pending.extend_from_slice(chunk);
        let used = chunk.len();
        input.consume(used);
        let mut rest: &[u8] = &pending;
        while !rest.is_empty() {
            let (valid, after, bad) = match std::str::from_utf8(rest) {
                Ok(text) => (text, &[][..], None),
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    let text = std::str::from_utf8(valid).unwrap_or_default();
                    (text, after, Some(error.error_len()))
                }
            };
            for ch in valid.chars().filter_map(|ch| translation.map(ch)) {
                translation.emit(&mut out, ch, &mut last_out);
            }
            match bad {
                None => rest = after,
                // An incomplete sequence at the end: wait for more bytes.
                Some(None) => break,
                // Bytes that are not UTF-8 pass through as they are.
                Some(Some(length)) => {
                    out.bytes(&after[..length]);
                    last_out = None;
                    rest = &after[length..];
                }
            }
        }
        pending = rest.to_vec();
    };
    out.bytes(&pending);
    if let Err(error) = out.flush() {
        return failed(ctx, argv, format!("write error: {error}"), &error);
    }
    outcome.or_else(|error| {
        failed(
            ctx,
            argv,
            format!("error reading standard input: {error}"),
            &error,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// read

/// `read [-m] [-n lines] [-c bytes] [file ...]`: copies one line (or `lines` lines, or with
/// `-m` all of them, or `bytes` bytes) to standard output, reading a byte at a time so that
/// nothing after them is consumed. Fails with `eof` if there was nothing to read.
pub fn read(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "read [-m] [-n nlines] [-c nbytes] [file ...]";
    let opts = parse_or_usage(ctx, argv, "mn:c:", USAGE)?;
    let number = |flag: char| -> Result<Option<u64>, String> {
        match opts.value(flag) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| usage_error(ctx, USAGE)),
        }
    };
    let lines = number('n')?.unwrap_or(1);
    let bytes = number('c')?;
    let all = opts.has('m');
    let mut at_eof = false;
    let inputs = if opts.args.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.args.clone()
    };
    for name in &inputs {
        let opened = match Opened::open(ctx, name) {
            Ok(opened) => opened,
            Err(error) => return failed(ctx, argv, format!("cannot open {name}: {error}"), &error),
        };
        let copied = match bytes {
            Some(count) => copy_bytes(ctx, opened.fd, count),
            None => copy_lines(ctx, opened.fd, if all { u64::MAX } else { lines.max(1) }),
        };
        match copied {
            Ok(got_any) => at_eof |= !got_any,
            Err(error) => {
                return failed(ctx, argv, format!("error reading {name}: {error}"), &error);
            }
        }
    }
    if at_eof {
        Err("eof".to_string())
    } else {
        Ok(())
    }
}

/// Copies up to `count` lines, a byte at a time. False if the first read found nothing.
fn copy_lines(ctx: &Ctx, fd: i32, count: u64) -> kernel::Result<bool> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    for copied in 0..count {
        line.clear();
        loop {
            if ctx.read(fd, &mut byte)? == 0 {
                if !line.is_empty() {
                    ctx.write_all(1, &line)?;
                }
                return Ok(copied > 0 || !line.is_empty());
            }
            line.push(byte[0]);
            // Long lines go out in pieces rather than grow without bound.
            if byte[0] == b'\n' || line.len() >= MAX_LINE {
                ctx.write_all(1, &line)?;
                if byte[0] == b'\n' {
                    break;
                }
                line.clear();
            }
        }
    }
    Ok(true)
}

/// Copies up to `count` bytes. False if there was nothing to read.
fn copy_bytes(ctx: &Ctx, fd: i32, count: u64) -> kernel::Result<bool> {
    let mut buffer = vec![0u8; 8192];
    let mut copied = 0u64;
    while copied < count {
        let want = buffer.len().min((count - copied) as usize);
        let got = ctx.read(fd, &mut buffer[..want])?;
        if got == 0 {
            break;
        }
        ctx.write_all(1, &buffer[..got])?;
        copied += got as u64;
    }
    Ok(copied > 0 || count == 0)
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("grep", grep as Program),
        ("head", head as Program),
        ("read", read as Program),
        ("sort", sort as Program),
        ("tail", tail as Program),
        ("tee", tee as Program),
        ("tr", tr as Program),
        ("uniq", uniq as Program),
        ("wc", wc as Program),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(text: &[u8]) -> (u64, u64, u64, u64, u64) {
        let mut counter = Counter::default();
        for piece in text.chunks(3) {
            counter.feed(piece);
        }
        let c = counter.end();
        (c.lines, c.words, c.runes, c.broken, c.bytes)
    }

    #[test]
    fn wc_counts_like_plan9() {
        assert_eq!(counts(b"hello world\n"), (1, 2, 12, 0, 12));
        assert_eq!(counts("h\u{e9}llo\tw\n\n".as_bytes()), (2, 2, 9, 0, 10));
        assert_eq!(counts(b"\xff x"), (0, 2, 3, 1, 3));
        assert_eq!(counts(b"a\xc3"), (0, 1, 2, 1, 2));
    }

    #[test]
    fn sort_keys() {
        let keys = SortKeys {
            numeric: true,
            fold: false,
            reverse: false,
            separator: Some(':'),
            fields: Some((2, Some(2))),
        };
        assert_eq!(keys.key(b"a:10:x"), b"10");
        assert_eq!(keys.compare(b"a:9:x", b"b:10:y"), Ordering::Less);
        let blanks = SortKeys {
            numeric: false,
            fold: false,
            reverse: false,
            separator: None,
            fields: Some((2, None)),
        };
        assert_eq!(blanks.key(b"  one  two three"), b"two three");
        assert_eq!(leading_number(b" -3.5kg"), -3.5);
        assert_eq!(leading_number(b"x"), 0.0);
        assert_eq!(parse_fields("2,3"), Some((2, Some(3))));
        assert_eq!(parse_fields("0"), None);
    }

    #[test]
    fn tr_sets() {
        assert_eq!(expand_set("a-e").unwrap(), vec!['a', 'b', 'c', 'd', 'e']);
        assert_eq!(expand_set("-a-").unwrap(), vec!['-', 'a', '-']);
        assert_eq!(expand_set("\\n\\012\\-").unwrap(), vec!['\n', '\n', '-']);
        assert!(expand_set("z-a").is_err());
        let translation = Translation {
            sorted: vec!['a', 'b', 'c'],
            from: vec!['a', 'b', 'c'],
            to: vec!['x', 'y'],
            complement: false,
            delete: false,
            squeeze: None,
        };
        assert_eq!(translation.map('a'), Some('x'));
        assert_eq!(translation.map('c'), Some('y'));
        assert_eq!(translation.map('d'), Some('d'));
    }

    #[test]
    fn old_count_flags() {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            numeric_flag(&words(&["head", "-5", "f"]), false),
            words(&["head", "-n", "5", "f"])
        );
        assert_eq!(
            numeric_flag(&words(&["tail", "+5"]), true),
            words(&["tail", "-n", "+5"])
        );
        assert_eq!(
            numeric_flag(&words(&["head", "+5"]), false),
            words(&["head", "+5"])
        );
    }
}
