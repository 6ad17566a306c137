//! Small tools on bytes, numbers and names: `cmp`, `xd`, `seq`, `basename` and `test`
//! (Plan 9 `cmp.c`, `xd.c`, `seq.c`, `basename.c`, `test.c`; Inferno's `cmp.b` and `xd.b`).
//!
//! Invariants: `cmp` and `xd` stream their inputs; `seq` writes as it counts and stops at the
//! first write error or interrupt; `test` never fails with a usage error for a well-formed
//! expression: its status is the answer, empty for true and `false` for false.

use super::input::{Input, Opened, failed};
use super::{Output, fail, parse_or_usage, usage_error, warn};
use kernel::sys::Whence;
use kernel::{Ctx, Exit, Program};
use ninep::{DMAPPEND, DMEXCL, DMTMP, OEXEC, OREAD, OWRITE, perm_allows};

// ---------------------------------------------------------------------------------------------
// cmp

/// A number as C's `strtoll` with base 0 reads it: `0x1f`, `017`, `15`.
fn parse_offset(text: &str) -> Option<u64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if text.len() > 1 && text.starts_with('0') {
        u64::from_str_radix(&text[1..], 8).ok()
    } else {
        text.parse().ok()
    }
}

/// `cmp [-lLs] file1 file2 [offset1 [offset2]]`: compares two files byte by byte. Silent and
/// successful if they are the same; otherwise says where they first differ (`-l`: every
/// differing byte; `-L`: with its line; `-s`: nothing) and fails with `differ`, or `EOF` if
/// one is a prefix of the other.
pub fn cmp(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "cmp [-lLs] file1 file2 [offset1 [offset2]]";
    let opts = parse_or_usage(ctx, argv, "lLs", USAGE)?;
    if !(2..=4).contains(&opts.args.len()) {
        return Err(usage_error(ctx, USAGE));
    }
    let (every, lines, silent) = (opts.has('l'), opts.has('L'), opts.has('s'));
    let names = [&opts.args[0], &opts.args[1]];
    let mut opened = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let file = match Opened::open(ctx, name) {
            Ok(file) => file,
            Err(error) => return failed(ctx, argv, format!("cannot open {name}: {error}"), &error),
        };
        if let Some(text) = opts.args.get(2 + index) {
            let Some(offset) = parse_offset(text) else {
                return Err(usage_error(ctx, USAGE));
            };
            if let Err(error) = ctx.seek(file.fd, offset as i64, Whence::Start) {
                return failed(ctx, argv, format!("cannot seek {name}: {error}"), &error);
            }
        }
        opened.push(file);
    }
    let mut inputs = [Input::new(ctx, opened[0].fd), Input::new(ctx, opened[1].fd)];
    let mut out = Output::stdout(ctx);
    let mut position: u64 = 1;
    let mut line: u64 = 1;
    let mut differed = false;
    loop {
        let mut chunks = [Vec::new(), Vec::new()];
        for (index, input) in inputs.iter_mut().enumerate() {
            match input.chunk() {
                Ok(Some(chunk)) => chunks[index] = chunk.to_vec(),
                Ok(None) => {}
                Err(error) => {
                    let name = names[index];
                    return failed(ctx, argv, format!("error reading {name}: {error}"), &error);
                }
            }
        }
        let common = chunks[0].len().min(chunks[1].len());
        if common == 0 {
            if chunks[0].len() != chunks[1].len() {
                let shorter = if chunks[0].is_empty() {
                    names[0]
                } else {
                    names[1]
                };
                if !silent {
                    out.line(&format!("EOF on {shorter} after {} bytes", position - 1));
                }
                let _ = out.flush();
                return Err("EOF".to_string());
            }
            break;
        }
        for (index, (&a, &b)) in chunks[0].iter().zip(&chunks[1]).enumerate() {
            if a != b {
                if !every {
                    if !silent {
                        let mut text = format!(
                            "{} {} differ: char {}",
                            names[0],
                            names[1],
                            position + index as u64
                        );
                        if lines {
                            text.push_str(&format!(" line {line}"));
                        }
                        out.line(&text);
                    }
                    let _ = out.flush();
                    return Err("differ".to_string());
                }
                differed = true;
                if !silent {
                    out.line(&format!(
                        "{:>6} 0x{a:02x} 0x{b:02x}",
                        position + index as u64
                    ));
                }
            }
            if a == b'\n' {
                line += 1;
            }
        }
        inputs[0].consume(common);
        inputs[1].consume(common);
        position += common as u64;
    }
    if let Err(error) = out.flush() {
        return failed(ctx, argv, format!("write error: {error}"), &error);
    }
    if differed {
        Err("differ".to_string())
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// xd

/// One way of showing each line of 16 bytes.
#[derive(Clone, Copy)]
struct DumpFormat {
    /// Bytes per number: 1, 2, 4 or 8; 1 for characters.
    width: usize,
    /// 8, 10 or 16; 0 for characters (`-c`).
    base: u32,
}

impl DumpFormat {
    /// Digits a number of this width and base is padded to (Plan 9's `dfmt`).
    fn digits(self) -> usize {
        match (self.width, self.base) {
            (1, 8) | (1, 10) => 3,
            (1, _) => 2,
            (2, 8) => 6,
            (2, 10) => 5,
            (2, _) => 4,
            (4, 8) => 11,
            (4, 10) => 10,
            (4, _) => 8,
            (_, 8) => 22,
            (_, 10) => 20,
            _ => 16,
        }
    }
}

/// Formats `value` in `base`, padded with `pad` to `width`.
fn in_base(value: u64, base: u32, width: usize, pad: char) -> String {
    let digits = match base {
        8 => format!("{value:o}"),
        10 => format!("{value}"),
        _ => format!("{value:x}"),
    };
    let mut text: String = std::iter::repeat_n(pad, width.saturating_sub(digits.len())).collect();
    text.push_str(&digits);
    text
}

/// The options of `xd`, parsed as Plan 9's does: each `-` word is a format such as `-4x`,
/// `-1o`, `-b`, `-c`, or one of `-r`, `-s`, `-u`, `-a[odx]`.
struct DumpOptions {
    formats: Vec<DumpFormat>,
    address_base: u32,
    repeats: bool,
    swap: bool,
    unbuffered: bool,
    files: Vec<String>,
}

fn parse_dump_options(argv: &[String]) -> Option<DumpOptions> {
    let mut options = DumpOptions {
        formats: Vec::new(),
        address_base: 16,
        repeats: false,
        swap: false,
        unbuffered: false,
        files: Vec::new(),
    };
    let base_of = |letter: char| match letter {
        'o' => Some(8),
        'd' => Some(10),
        'x' => Some(16),
        _ => None,
    };
    let mut index = 1;
    while index < argv.len() {
        let word = &argv[index];
        if word == "--" {
            index += 1;
            break;
        }
        let Some(letters) = word.strip_prefix('-').filter(|rest| !rest.is_empty()) else {
            break;
        };
        index += 1;
        match letters {
            "r" => options.repeats = true,
            "s" => options.swap = true,
            "u" => options.unbuffered = true,
            "c" => options.formats.push(DumpFormat { width: 1, base: 0 }),
            _ if letters.starts_with('a') => {
                let mut rest = letters[1..].chars();
                options.address_base = base_of(rest.next()?)?;
                if rest.next().is_some() {
                    return None;
                }
            }
            _ => {
                let mut format = DumpFormat { width: 4, base: 16 };
                for letter in letters.chars() {
                    match letter {
                        'b' | '1' => format.width = 1,
                        'w' | '2' => format.width = 2,
                        'l' | '4' => format.width = 4,
                        'v' | '8' => format.width = 8,
                        _ => format.base = base_of(letter)?,
                    }
                }
                options.formats.push(format);
            }
        }
    }
    if options.formats.is_empty() {
        options.formats.push(DumpFormat { width: 4, base: 16 });
    }
    options.files = argv[index..].to_vec();
    Some(options)
}

/// `xd [-u] [-r] [-s] [-a{odx}] [-c|{b1w2l4v8}{odx}] ... [file ...]`: a hex dump. Each line
/// shows 16 bytes after their address, by default as four 4-byte big-endian hex words; each
/// format given adds a line per 16 bytes. The last line is the length.
pub fn xd(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "xd [-u] [-r] [-s] [-a{odx}] [-c|{b1w2l4v8}{odx}] ... [file ...]";
    let Some(options) = parse_dump_options(argv) else {
        return Err(usage_error(ctx, USAGE));
    };
    let stdin = vec!["-".to_string()];
    let files = if options.files.is_empty() {
        &stdin
    } else {
        &options.files
    };
    let mut out = Output::stdout(ctx);
    let mut troubled = false;
    for file in files {
        let opened = match Opened::open(ctx, file) {
            Ok(opened) => opened,
            Err(error) if error.is_interrupt() => return Err(error.to_string()),
            Err(error) => {
                warn(ctx, argv, format!("cannot open {file}: {error}"));
                troubled = true;
                continue;
            }
        };
        if files.len() > 1 {
            out.line(file);
        }
        if let Err(error) = dump(ctx, &options, opened.fd, &mut out) {
            if error.is_interrupt() {
                return Err(error.to_string());
            }
            warn(ctx, argv, format!("error reading {file}: {error}"));
            troubled = true;
        }
    }
    if let Err(error) = out.flush() {
        return failed(ctx, argv, format!("write error: {error}"), &error);
    }
    if troubled {
        Err("errors".to_string())
    } else {
        Ok(())
    }
}

/// Dumps one input.
fn dump(ctx: &Ctx, options: &DumpOptions, fd: i32, out: &mut Output) -> kernel::Result<()> {
    let mut input = Input::new(ctx, fd);
    let mut address: u64 = 0;
    let mut previous: Option<[u8; 16]> = None;
    let mut starred = false;
    loop {
        let mut data = [0u8; 16];
        let mut count = 0;
        while count < 16 {
            let Some(chunk) = input.chunk()? else { break };
            let take = chunk.len().min(16 - count);
            data[count..count + take].copy_from_slice(&chunk[..take]);
            input.consume(take);
            count += take;
        }
        if count == 0 {
            break;
        }
        if options.swap {
            for word in data.chunks_mut(4) {
                word.reverse();
            }
        }
        if count == 16 && options.repeats {
            if previous == Some(data) {
                address += 16;
                if !starred {
                    out.line("*");
                    starred = true;
                }
                continue;
            }
            previous = Some(data);
            starred = false;
        }
        for (index, format) in options.formats.iter().enumerate() {
            let pad = if index == 0 { '0' } else { ' ' };
            let mut line = in_base(address, options.address_base, 7, pad);
            line.push(' ');
            line.push_str(&dump_line(*format, &data, count));
            out.line(&line);
        }
        if options.unbuffered {
            out.flush()?;
        }
        address += count as u64;
        if count < 16 {
            break;
        }
    }
    let mut last = in_base(address, options.address_base, 7, '0');
    last.push(' ');
    out.line(&last);
    Ok(())
}

/// The numbers (or characters) of one line: the first `count` bytes of `data`, the rest of
/// a partial last number being zeros.
fn dump_line(format: DumpFormat, data: &[u8; 16], count: usize) -> String {
    let mut line = String::new();
    if format.base == 0 {
        for &byte in &data[..count] {
            match byte {
                b'\t' => line.push_str(" \\t"),
                b'\r' => line.push_str(" \\r"),
                b'\n' => line.push_str(" \\n"),
                0x08 => line.push_str(" \\b"),
                0x20..=0x7e => {
                    line.push_str("  ");
                    line.push(byte as char);
                }
                _ => line.push_str(&format!(" {byte:02x}")),
            }
        }
        return line;
    }
    let mut offset = 0;
    while offset < count {
        let value = data[offset..offset + format.width]
            .iter()
            .fold(0u64, |value, &byte| (value << 8) | u64::from(byte));
        line.push(' ');
        line.push_str(&in_base(value, format.base, format.digits(), '0'));
        offset += format.width;
    }
    line
}

// ---------------------------------------------------------------------------------------------
// seq

/// One piece of a printf-style format for one floating-point value.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Number {
        left: bool,
        plus: bool,
        space: bool,
        zero: bool,
        alternate: bool,
        width: usize,
        precision: Option<usize>,
        conversion: char,
    },
}

/// Parses a format such as `%05.2f` (conversions `e f g E G d`; `%%` is a percent sign).
fn parse_format(format: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            text.push(ch);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            text.push('%');
            continue;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        let (mut left, mut plus, mut space, mut zero, mut alternate) =
            (false, false, false, false, false);
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => left = true,
                '+' => plus = true,
                ' ' => space = true,
                '0' => zero = true,
                '#' => alternate = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut digits = String::new();
            while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                digits.push(digit);
            }
            digits.parse::<usize>().ok().map(|value| value.min(1000))
        };
        let width = number(&mut chars).unwrap_or(0);
        let precision = if chars.next_if_eq(&'.').is_some() {
            Some(number(&mut chars).unwrap_or(0))
        } else {
            None
        };
        let conversion = chars.next().ok_or("format ends in %")?;
        if !"efgEGd".contains(conversion) {
            return Err(format!("bad conversion %{conversion}"));
        }
        pieces.push(Piece::Number {
            left,
            plus,
            space,
            zero,
            alternate,
            width,
            precision,
            conversion,
        });
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// `value` in C's `%e` form: `1.500000e+00`.
fn exponent_form(value: f64, precision: usize, upper: bool) -> String {
    let text = format!("{value:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    let letter = if upper { 'E' } else { 'e' };
    format!("{mantissa}{letter}{sign}{:02}", exponent.abs())
}

/// `value` in C's `%g` form: the shorter of `%f` and `%e` at `precision` significant digits,
/// without trailing zeros unless `alternate`.
fn general_form(value: f64, precision: usize, upper: bool, alternate: bool) -> String {
    let precision = precision.max(1);
    if value == 0.0 {
        return if alternate {
            format!("{:.*}", precision - 1, 0.0)
        } else {
            "0".to_string()
        };
    }
    let probe = format!("{value:.prec$e}", prec = precision - 1);
    let exponent: i64 = probe
        .split_once('e')
        .and_then(|(_, exponent)| exponent.parse().ok())
        .unwrap_or(0);
    let mut text = if exponent < -4 || exponent >= precision as i64 {
        exponent_form(value, precision - 1, upper)
    } else {
        let decimals = (precision as i64 - 1 - exponent).max(0) as usize;
        format!("{value:.decimals$}")
    };
    if !alternate {
        let (mantissa, tail) = match text.find(['e', 'E']) {
            Some(at) => (text[..at].to_string(), text[at..].to_string()),
            None => (text.clone(), String::new()),
        };
        let mantissa = if mantissa.contains('.') {
            mantissa
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            mantissa
        };
        text = mantissa + &tail;
    }
    text
}

/// Renders the pieces for `value`.
fn render(pieces: &[Piece], value: f64) -> String {
    let mut text = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(literal) => text.push_str(literal),
            &Piece::Number {
                left,
                plus,
                space,
                zero,
                alternate,
                width,
                precision,
                conversion,
            } => {
                let magnitude = value.abs();
                let digits = match conversion {
                    'f' => format!("{magnitude:.*}", precision.unwrap_or(6)),
                    'e' | 'E' => {
                        exponent_form(magnitude, precision.unwrap_or(6), conversion == 'E')
                    }
                    'd' => format!("{}", magnitude.round()),
                    _ => general_form(
                        magnitude,
                        precision.unwrap_or(6),
                        conversion == 'G',
                        alternate,
                    ),
                };
                let sign = if value.is_sign_negative() && value != 0.0 {
                    "-"
                } else if plus {
                    "+"
                } else if space {
                    " "
                } else {
                    ""
                };
                let length = sign.len() + digits.len();
                let fill = width.saturating_sub(length);
                if left {
                    text.push_str(sign);
                    text.push_str(&digits);
                    text.extend(std::iter::repeat_n(' ', fill));
                } else if zero {
                    text.push_str(sign);
                    text.extend(std::iter::repeat_n('0', fill));
                    text.push_str(&digits);
                } else {
                    text.extend(std::iter::repeat_n(' ', fill));
                    text.push_str(sign);
                    text.push_str(&digits);
                }
            }
        }
    }
    text
}

/// `seq [-w] [-f format] [first [increment]] last`: the numbers from `first` (default 1) to
/// `last` by `increment` (default 1), one a line, in `%g` or the given printf format; `-w`
/// pads them with zeros to one width.
pub fn seq(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "seq [-w] [-f format] [first [incr]] last";
    // Negative operands (`seq -5 5`) are numbers, not flags: the flags end at the first
    // word that is not one.
    let mut end = 1;
    while let Some(word) = argv.get(end) {
        if word == "--" || !word.starts_with('-') || word.len() == 1 || word.parse::<f64>().is_ok()
        {
            break;
        }
        // `-f format` takes the next word as its value.
        if word.ends_with('f') && !word[1..word.len() - 1].contains('f') {
            end += 1;
        }
        end += 1;
    }
    let opts = parse_or_usage(ctx, &argv[..end.min(argv.len())], "wf:", USAGE)?;
    let operands = &argv[end.min(argv.len())..];
    let operands = match operands.first() {
        Some(first) if first == "--" => &operands[1..],
        _ => operands,
    };
    if !opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let mut numbers = Vec::new();
    for text in operands {
        match text.parse::<f64>() {
            Ok(number) if number.is_finite() => numbers.push(number),
            _ => return fail(ctx, argv, format!("bad number {text}")),
        }
    }
    let (first, increment, last) = match numbers.as_slice() {
        [last] => (1.0, 1.0, *last),
        [first, last] => (*first, 1.0, *last),
        [first, increment, last] => (*first, *increment, *last),
        _ => return Err(usage_error(ctx, USAGE)),
    };
    if increment == 0.0 {
        return fail(ctx, argv, "zero increment");
    }
    let value_at = |step: u64| first + step as f64 * increment;
    // A step that overshoots `last` by rounding error alone (0.1 0.1 0.3) still counts.
    let slack = increment.abs() * 1e-9;
    let in_range = |value: f64| {
        if increment > 0.0 {
            value <= last + slack
        } else {
            value >= last - slack
        }
    };
    let equal_width = opts.has('w');
    let pieces = match opts.value('f') {
        Some(format) => match parse_format(format) {
            Ok(pieces) => pieces,
            Err(message) => return fail(ctx, argv, format!("bad format {format}: {message}")),
        },
        None if equal_width => match fixed_width_format(ctx, &value_at, &in_range)? {
            Some(pieces) => pieces,
            None => parse_format("%g").unwrap_or_default(),
        },
        None => parse_format("%g").unwrap_or_default(),
    };
    // Without -f or -w, numbers are written with as many decimals as the operands have, so
    // every integer is exact (`seq 999999 1000001`); operands with an exponent get %g.
    let decimals = if opts.value('f').is_none() && !equal_width {
        operands
            .iter()
            .map(|text| plain_decimals(text))
            .try_fold(0, |most, decimals| decimals.map(|count| most.max(count)))
    } else {
        None
    };
    let mut out = Output::stdout(ctx);
    let mut step = 0u64;
    let mut previous = None;
    loop {
        let value = value_at(step);
        // Past 2^53 a step may round to no change at all: stop rather than repeat for ever.
        if !in_range(value) || previous == Some(value) {
            break;
        }
        previous = Some(value);
        let mut text = match decimals {
            Some(decimals) => plain_number(value, decimals),
            None => render(&pieces, value),
        };
        if equal_width {
            // As Plan 9's seq: leading blanks of the padded number become zeros.
            let blanks = text.len() - text.trim_start_matches(' ').len();
            text.replace_range(..blanks, &"0".repeat(blanks));
        }
        out.line(&text);
        step += 1;
        // Now and then, see whether the reader has gone or we were interrupted.
        if step.is_multiple_of(1024)
            && let Err(error) = ctx.check().and_then(|()| out.flush())
        {
            return failed(ctx, argv, format!("write error: {error}"), &error);
        }
    }
    out.flush()
        .or_else(|error| failed(ctx, argv, format!("write error: {error}"), &error))
}

/// How many decimals a number written without an exponent has; None for `1e6`, `inf`, ...
fn plain_decimals(text: &str) -> Option<usize> {
    let digits = text.trim_start_matches(['-', '+']);
    if digits.is_empty()
        || !digits
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'.')
    {
        return None;
    }
    Some(
        digits
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len()),
    )
}

/// `value` with at most `decimals` decimals and no trailing zeros (`1.5`, `2`, `1000000`).
fn plain_number(value: f64, decimals: usize) -> String {
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.truncate(text.trim_end_matches('0').trim_end_matches('.').len());
    }
    if text == "-0" {
        text = "0".to_string();
    }
    text
}

/// The `%W.Pf` format that gives every value the same width, as Plan 9's `seq -w` builds it
/// from the `%g` forms of all the values; None if one of them needs an exponent.
fn fixed_width_format(
    ctx: &Ctx,
    value_at: &dyn Fn(u64) -> f64,
    in_range: &dyn Fn(f64) -> bool,
) -> Result<Option<Vec<Piece>>, String> {
    let (mut width, mut precision) = (0, 0);
    let mut step = 0u64;
    loop {
        let value = value_at(step);
        if !in_range(value) {
            break;
        }
        let text = general_form(value.abs(), 6, false, false);
        if text.contains('e') {
            return Ok(None);
        }
        let sign = usize::from(value.is_sign_negative() && value != 0.0);
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        width = width.max(whole.len() + sign);
        precision = precision.max(fraction.len());
        step += 1;
        if step.is_multiple_of(4096) {
            ctx.check().map_err(|error| error.to_string())?;
        }
    }
    if precision > 0 {
        width += precision + 1;
    }
    Ok(Some(vec![Piece::Number {
        left: false,
        plus: false,
        space: false,
        zero: false,
        alternate: false,
        width,
        precision: Some(precision),
        conversion: 'f',
    }]))
}

// ---------------------------------------------------------------------------------------------
// basename

/// `basename [-d] string [suffix]`: the last element of a path, without `suffix` if it ends
/// with it; with `-d`, everything before the last element instead.
pub fn basename(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "basename [-d] string [suffix]";
    let opts = parse_or_usage(ctx, argv, "d", USAGE)?;
    let (path, suffix) = match opts.args.as_slice() {
        [path] => (path, None),
        [path, suffix] if !opts.has('d') => (path, Some(suffix)),
        _ => return Err(usage_error(ctx, USAGE)),
    };
    let slash = path.rfind('/');
    let text = if opts.has('d') {
        match slash {
            Some(slash) => &path[..slash],
            None => ".",
        }
    } else {
        let base = slash.map_or(path.as_str(), |slash| &path[slash + 1..]);
        match suffix {
            Some(suffix) => base.strip_suffix(suffix.as_str()).unwrap_or(base),
            None => base,
        }
    };
    ctx.write_all(1, format!("{text}\n").as_bytes())
        .or_else(|error| failed(ctx, argv, format!("write error: {error}"), &error))
}

// ---------------------------------------------------------------------------------------------
// test

/// A recursive-descent evaluator of `test`'s expressions over its arguments.
struct TestParser<'a> {
    ctx: &'a Ctx,
    words: &'a [String],
    next: usize,
}

const UNARY: &[&str] = &[
    "-e", "-f", "-d", "-r", "-w", "-x", "-s", "-z", "-n", "-A", "-L", "-T",
];
const BINARY: &[&str] = &[
    "=", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot",
];

impl TestParser<'_> {
    fn peek(&self) -> Option<&str> {
        self.words.get(self.next).map(String::as_str)
    }

    fn take(&mut self) -> Result<&str, String> {
        let word = self
            .words
            .get(self.next)
            .ok_or_else(|| "argument expected".to_string())?;
        self.next += 1;
        Ok(word)
    }

    /// expression: conjunction { -o conjunction }
    fn expression(&mut self) -> Result<bool, String> {
        let mut value = self.conjunction()?;
        while self.peek() == Some("-o") {
            self.next += 1;
            value |= self.conjunction()?;
        }
        Ok(value)
    }

    /// conjunction: negation { -a negation }
    fn conjunction(&mut self) -> Result<bool, String> {
        let mut value = self.negation()?;
        while self.peek() == Some("-a") {
            self.next += 1;
            value &= self.negation()?;
        }
        Ok(value)
    }

    /// negation: ! negation | primary
    fn negation(&mut self) -> Result<bool, String> {
        if self.peek() == Some("!") && self.words.len() > self.next + 1 {
            self.next += 1;
            return Ok(!self.negation()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<bool, String> {
        let word = self.take()?.to_string();
        // A binary operator after this word makes it an operand, whatever it looks like.
        if let Some(operator) = self.peek().filter(|op| BINARY.contains(op))
            && self.words.len() > self.next + 1
        {
            let operator = operator.to_string();
            self.next += 1;
            let right = self.take()?.to_string();
            return self.binary(&word, &operator, &right);
        }
        if word == "(" {
            let value = self.expression()?;
            if self.take()? != ")" {
                return Err("missing )".to_string());
            }
            return Ok(value);
        }
        if UNARY.contains(&word.as_str()) && self.peek().is_some() {
            let operand = self.take()?.to_string();
            return Ok(self.unary(&word, &operand));
        }
        Ok(!word.is_empty())
    }

    fn unary(&self, operator: &str, operand: &str) -> bool {
        match operator {
            "-z" => return operand.is_empty(),
            "-n" => return !operand.is_empty(),
            _ => {}
        }
        let Ok(dir) = self.ctx.stat(operand) else {
            return false;
        };
        let user = self.ctx.user();
        let (owner, group) = (dir.uid == user, dir.gid == user);
        match operator {
            "-e" => true,
            "-f" => !dir.is_dir(),
            "-d" => dir.is_dir(),
            "-s" => dir.length > 0,
            "-r" => perm_allows(dir.mode, OREAD, owner, group),
            "-w" => perm_allows(dir.mode, OWRITE, owner, group),
            "-x" => perm_allows(dir.mode, OEXEC, owner, group),
            "-A" => dir.mode & DMAPPEND != 0,
            "-L" => dir.mode & DMEXCL != 0,
            "-T" => dir.mode & DMTMP != 0,
            _ => false,
        }
    }

    fn binary(&self, left: &str, operator: &str, right: &str) -> Result<bool, String> {
        match operator {
            "=" => return Ok(left == right),
            "!=" => return Ok(left != right),
            "-nt" | "-ot" => {
                let time = |name: &str| self.ctx.stat(name).ok().map(|dir| dir.mtime);
                return Ok(match (time(left), time(right)) {
                    (Some(a), Some(b)) if operator == "-nt" => a > b,
                    (Some(a), Some(b)) => a < b,
                    _ => false,
                });
            }
            _ => {}
        }
        let number = |text: &str| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("bad number {text}"))
        };
        let (a, b) = (number(left)?, number(right)?);
        Ok(match operator {
            "-eq" => a == b,
            "-ne" => a != b,
            "-lt" => a < b,
            "-le" => a <= b,
            "-gt" => a > b,
            _ => a >= b,
        })
    }
}

/// `test expression`: succeeds if the expression is true, fails with `false` otherwise.
/// Primaries: `-e -f -d -r -w -x -s -A -L -T file`, `-z -n string`, `s1 = s2`, `s1 != s2`,
/// `n1 -eq -ne -lt -le -gt -ge n2`, `f1 -nt -ot f2`, a lone string (true if not empty);
/// combined with `!`, `-a`, `-o` and parentheses.
pub fn test(ctx: &Ctx, argv: &[String]) -> Exit {
    let words = argv.get(1..).unwrap_or_default();
    if words.is_empty() {
        return Err("false".to_string());
    }
    let mut parser = TestParser {
        ctx,
        words,
        next: 0,
    };
    let answer = parser.expression().and_then(|value| match parser.peek() {
        None => Ok(value),
        Some(extra) => Err(format!("unexpected {extra}")),
    });
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err("false".to_string()),
        Err(message) => {
            warn(ctx, argv, &message);
            Err("syntax error".to_string())
        }
    }
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("basename", basename as Program),
        ("cmp", cmp as Program),
        ("seq", seq as Program),
        ("test", test as Program),
        ("xd", xd as Program),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_forms() {
        let show = |format: &str, value: f64| render(&parse_format(format).unwrap(), value);
        assert_eq!(show("%g", 1.0), "1");
        assert_eq!(show("%g", 0.1), "0.1");
        assert_eq!(show("%g", 1e6), "1e+06");
        assert_eq!(show("%g", 123456.0), "123456");
        assert_eq!(show("%g", 0.0001), "0.0001");
        assert_eq!(show("%g", 0.00001), "1e-05");
        assert_eq!(show("%g", -2.5), "-2.5");
        assert_eq!(show("%05.1f", 4.56), "004.6");
        assert_eq!(show("%-4gx", 7.0), "7   x");
        assert_eq!(show("%e", 1234.5), "1.234500e+03");
        assert_eq!(show("n=%d%%", 4.0), "n=4%");
        assert!(parse_format("%q").is_err());
        assert!(parse_format("%").is_err());
    }

    #[test]
    fn dump_lines() {
        let mut data = [0u8; 16];
        data[..6].copy_from_slice(b"hello\n");
        let words = DumpFormat { width: 4, base: 16 };
        assert_eq!(dump_line(words, &data, 6), " 68656c6c 6f0a0000");
        let bytes = DumpFormat { width: 1, base: 16 };
        assert_eq!(dump_line(bytes, &data, 3), " 68 65 6c");
        let chars = DumpFormat { width: 1, base: 0 };
        assert_eq!(dump_line(chars, &data, 6), "  h  e  l  l  o \\n");
        assert_eq!(in_base(22, 16, 7, '0'), "0000016");
        assert_eq!(in_base(8, 8, 7, ' '), "     10");
    }

    #[test]
    fn offsets_read_like_strtoll() {
        assert_eq!(parse_offset("0x10"), Some(16));
        assert_eq!(parse_offset("010"), Some(8));
        assert_eq!(parse_offset("10"), Some(10));
        assert_eq!(parse_offset("0"), Some(0));
        assert_eq!(parse_offset("x"), None);
    }
}
