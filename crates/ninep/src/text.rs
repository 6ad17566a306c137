//! The text form of 9P messages, qids and directory entries: Plan 9's `fcallfmt.c` (`%F`,
//! `%D`, the qid format) made exact, and a parser that reads it back. It is what traces print
//! and what the server's transcript tests are written in.
//!
//! Invariants: every message prints as one line (no control characters, no line separators)
//! and parses back to an equal value (`text.parse::<Fcall>() == Ok(fcall)`); parsing any text
//! returns a [`TextError`] naming the message, the field and the column instead of panicking.
//!
//! How values are written, which is where this departs from Plan 9 (whose output is meant
//! for eyes and loses information):
//! - Numbers are decimal, except qid paths (16 hex digits) and modes and create permissions
//!   (octal with a leading `0`). Where all ones means "none" (fids, for NOFID, and a
//!   directory entry's type, dev, atime, mtime and length, for wstat's "don't change"), that
//!   value prints `-1`, as it does in Plan 9's traces; the parser also takes it unsigned.
//! - Strings and data share one form. Text that is UTF-8 and free of control characters and
//!   line separators is quoted as Plan 9's `tokenize` reads it: `'...'`, a quote inside doubled
//!   (`'it''s'`). Anything else (binary data, a newline) is written as hex bytes in the same
//!   quotes after an `x`: `x'68690a'`. Data is never cut short.
//! - A qid is `(path vers type)`, the type as letters `d` (QTDIR), `a` (QTAPPEND), `l`
//!   (QTEXCL), `m` (QTMOUNT), `A` (QTAUTH), `t` (QTTMP), possibly none at all, or as `0x`
//!   and two hex digits when it has bits no letter names.
//! - A directory entry is `'name' 'uid' 'gid' 'muid' q QID m MODE at ATIME mt MTIME l LENGTH
//!   t TYPE d DEV`, fcallfmt's `%D` with every field.

use crate::fcall::{Fcall, Msg, type_name};
use crate::{Dir, MAXWELEM, QTAPPEND, QTAUTH, QTDIR, QTEXCL, QTMOUNT, QTTMP, Qid};
use std::fmt;
use std::str::FromStr;

/// Why a line of text is not a message: which message (or `message`, when the line names
/// none), which field, the byte column where the trouble starts, and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    pub message: &'static str,
    pub field: &'static str,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad {} text: field {} at column {}: {}",
            self.message, self.field, self.column, self.reason
        )
    }
}

impl std::error::Error for TextError {}

/// Qid type bits and the letter each prints as, in printing order.
const QID_LETTERS: [(u8, char); 6] = [
    (QTDIR, 'd'),
    (QTAPPEND, 'a'),
    (QTEXCL, 'l'),
    (QTMOUNT, 'm'),
    (QTAUTH, 'A'),
    (QTTMP, 't'),
];

/// Whether `c` may appear inside quotes. Control characters (which include NEL) and the
/// Unicode line and paragraph separators are kept out so that a message is always one line,
/// whatever splits lines; the byte-order mark is kept out because editors eat it.
fn is_plain(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A string or data in the text form: quoted when it is plain text, hex otherwise.
struct Bytes<'a>(&'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(self.0) {
            Ok(text) if text.chars().all(is_plain) => {
                f.write_str("'")?;
                for piece in text.split_inclusive('\'') {
                    f.write_str(piece)?;
                    if piece.ends_with('\'') {
                        f.write_str("'")?;
                    }
                }
                f.write_str("'")
            }
            _ => {
                f.write_str("x'")?;
                for byte in self.0 {
                    write!(f, "{byte:02x}")?;
                }
                f.write_str("'")
            }
        }
    }
}

fn quoted(text: &str) -> Bytes<'_> {
    Bytes(text.as_bytes())
}

/// A number whose all-ones value `none` means "none" and prints `-1`.
struct OrNone(u64, u64);

impl fmt::Display for OrNone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == self.1 {
            f.write_str("-1")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// A fid in the text form: NOFID prints `-1`.
fn fid_text(fid: u32) -> OrNone {
    OrNone(fid.into(), u32::MAX.into())
}

/// Octal with a leading 0 (`0644`, `020000000755`, and `0` for zero), as `%#luo` prints.
struct Octal(u32);

impl fmt::Display for Octal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("0")
        } else {
            write!(f, "0{:o}", self.0)
        }
    }
}

impl fmt::Display for Qid {
    /// `(path vers type)`: the path as 16 hex digits, the version in decimal, and the type as
    /// letters (see the module documentation), or in hex when a bit has no letter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:016x} {} ", self.path, self.vers)?;
        let named = QID_LETTERS.iter().fold(0, |bits, (bit, _)| bits | bit);
        if self.ty & !named != 0 {
            write!(f, "{:#04x}", self.ty)?;
        } else {
            for (bit, letter) in QID_LETTERS {
                if self.ty & bit != 0 {
                    write!(f, "{letter}")?;
                }
            }
        }
        f.write_str(")")
    }
}

impl fmt::Display for Dir {
    /// Plan 9's `%D` order with every field: names first, then qid, mode, times, length,
    /// server type and device.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} q {} m {} at {} mt {} l {} t {} d {}",
            quoted(&self.name),
            quoted(&self.uid),
            quoted(&self.gid),
            quoted(&self.muid),
            self.qid,
            Octal(self.mode),
            OrNone(self.atime.into(), u32::MAX.into()),
            OrNone(self.mtime.into(), u32::MAX.into()),
            OrNone(self.length, u64::MAX),
            OrNone(self.ty.into(), u16::MAX.into()),
            OrNone(self.dev.into(), u32::MAX.into()),
        )
    }
}

impl fmt::Display for Fcall {
    /// One line, fcallfmt's field names and order: `Tread tag 4 fid 1 offset 0 count 8192`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} tag {}", self.msg.name(), self.tag)?;
        match &self.msg {
            Msg::Tversion { msize, version } | Msg::Rversion { msize, version } => {
                write!(f, " msize {msize} version {}", quoted(version))
            }
            Msg::Tauth { afid, uname, aname } => write!(
                f,
                " afid {} uname {} aname {}",
                fid_text(*afid),
                quoted(uname),
                quoted(aname)
            ),
            Msg::Rauth { aqid: qid } | Msg::Rattach { qid } => write!(f, " qid {qid}"),
            Msg::Rerror { ename } => write!(f, " ename {}", quoted(ename)),
            Msg::Tflush { oldtag } => write!(f, " oldtag {oldtag}"),
            Msg::Rflush | Msg::Rclunk | Msg::Rremove | Msg::Rwstat => Ok(()),
            Msg::Tattach {
                fid,
                afid,
                uname,
                aname,
            } => write!(
                f,
                " fid {} afid {} uname {} aname {}",
                fid_text(*fid),
                fid_text(*afid),
                quoted(uname),
                quoted(aname)
            ),
            Msg::Twalk {
                fid,
                newfid,
                wnames,
            } => {
                write!(
                    f,
                    " fid {} newfid {} nwname {}",
                    fid_text(*fid),
                    fid_text(*newfid),
                    wnames.len()
                )?;
                for (index, name) in wnames.iter().enumerate() {
                    write!(f, " {index}:{}", quoted(name))?;
                }
                Ok(())
            }
            Msg::Rwalk { wqids } => {
                write!(f, " nwqid {}", wqids.len())?;
                for (index, qid) in wqids.iter().enumerate() {
                    write!(f, " {index}:{qid}")?;
                }
                Ok(())
            }
            Msg::Topen { fid, mode } => write!(f, " fid {} mode {mode}", fid_text(*fid)),
            Msg::Ropen { qid, iounit } | Msg::Rcreate { qid, iounit } => {
                write!(f, " qid {qid} iounit {iounit}")
            }
            Msg::Tcreate {
                fid,
                name,
                perm,
                mode,
            } => write!(
                f,
                " fid {} name {} perm {} mode {mode}",
                fid_text(*fid),
                quoted(name),
                Octal(*perm)
            ),
            Msg::Tread { fid, offset, count } => {
                write!(f, " fid {} offset {offset} count {count}", fid_text(*fid))
            }
            Msg::Rread { data } => write!(f, " count {} {}", data.len(), Bytes(data)),
            Msg::Twrite { fid, offset, data } => write!(
                f,
                " fid {} offset {offset} count {} {}",
                fid_text(*fid),
                data.len(),
                Bytes(data)
            ),
            Msg::Rwrite { count } => write!(f, " count {count}"),
            Msg::Tclunk { fid } | Msg::Tremove { fid } | Msg::Tstat { fid } => {
                write!(f, " fid {}", fid_text(*fid))
            }
            Msg::Rstat { stat } => write!(f, " stat {stat}"),
            Msg::Twstat { fid, stat } => write!(f, " fid {} stat {stat}", fid_text(*fid)),
        }
    }
}

/// A cursor over one line of text. Values are separated by spaces or tabs; the field being
/// read is remembered so that an error can name it.
struct Line<'a> {
    text: &'a str,
    position: usize,
    message: &'static str,
    field: &'static str,
}

type Parsed<T> = Result<T, TextError>;

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Line<'a> {
        Line {
            text,
            position: 0,
            message: "message",
            field: "type",
        }
    }

    fn fail<T>(&self, column: usize, reason: impl Into<String>) -> Parsed<T> {
        Err(TextError {
            message: self.message,
            field: self.field,
            column,
            reason: reason.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.position += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    /// Skips spaces and takes the next run of characters that are neither spaces, line
    /// endings nor `stop`.
    fn word(&mut self, stop: &[char]) -> (usize, &'a str) {
        self.skip_space();
        let start = self.position;
        let rest = self.rest();
        let end = rest
            .find(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n') || stop.contains(&c))
            .unwrap_or(rest.len());
        self.position += end;
        (start, &rest[..end])
    }

    /// Expects the keyword `key` (`fid`, `count`, ...) and makes it the field being read.
    fn key(&mut self, key: &'static str) -> Parsed<&mut Self> {
        self.field = key;
        let (start, word) = self.word(&[]);
        if word != key {
            return self.fail(start, format!("expected '{key}', found {}", shown(word)));
        }
        Ok(self)
    }

    /// Expects the literal `expected` right here (no spaces skipped).
    fn punct(&mut self, expected: char) -> Parsed<()> {
        if self.rest().starts_with(expected) {
            self.position += expected.len_utf8();
            Ok(())
        } else {
            self.fail(self.position, format!("expected '{expected}'"))
        }
    }

    /// An unsigned number of type `T` in `radix`, from a word ending at a space or `stop`.
    fn unsigned<T: TryFrom<u64>>(&mut self, radix: u32, stop: &[char]) -> Parsed<T> {
        let (start, word) = self.word(stop);
        let kind = match radix {
            8 => "an octal number",
            16 => "a hex number",
            _ => "a decimal number",
        };
        if word.is_empty() || !word.chars().all(|c| c.is_digit(radix)) {
            return self.fail(start, format!("expected {kind}, found {}", shown(word)));
        }
        match u64::from_str_radix(word, radix)
            .ok()
            .and_then(|value| T::try_from(value).ok())
        {
            Some(value) => Ok(value),
            None => self.fail(start, format!("{word} is out of range")),
        }
    }

    fn number<T: TryFrom<u64>>(&mut self) -> Parsed<T> {
        self.unsigned(10, &[])
    }

    /// A number that may be `-1`, meaning `none` (all ones), as [`OrNone`] prints it.
    fn or_none<T: TryFrom<u64>>(&mut self, none: u64) -> Parsed<T> {
        self.skip_space();
        let start = self.position;
        let rest = self.rest();
        let is_minus_one = rest
            .strip_prefix("-1")
            .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t', '\r', '\n']));
        if !is_minus_one {
            return self.number();
        }
        self.position += 2;
        match T::try_from(none) {
            Ok(value) => Ok(value),
            Err(_) => self.fail(start, "-1 is out of range"),
        }
    }

    /// A fid: a number, or `-1` for NOFID.
    fn fid(&mut self) -> Parsed<u32> {
        self.or_none(u32::MAX.into())
    }

    /// A mode or permission: octal with a leading 0.
    fn octal(&mut self) -> Parsed<u32> {
        self.skip_space();
        if !self.rest().starts_with('0') {
            let (start, word) = self.word(&[]);
            return self.fail(
                start,
                format!("expected 0 and octal digits, found {}", shown(word)),
            );
        }
        self.unsigned(8, &[])
    }

    /// A string or data: `'quoted'` with `''` for a quote, or `x'hex'`.
    fn bytes(&mut self) -> Parsed<Vec<u8>> {
        self.skip_space();
        let start = self.position;
        let rest = self.rest();
        if let Some(hex) = rest.strip_prefix("x'") {
            let Some(end) = hex.find('\'') else {
                return self.fail(start, "hex bytes without a closing quote");
            };
            let digits = &hex[..end];
            if digits.len() % 2 != 0 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return self.fail(start, "expected pairs of hex digits between the quotes");
            }
            self.position += 2 + end + 1;
            // An even number of ASCII hex digits, checked above, so no pair is short.
            let (pairs, _) = digits.as_bytes().as_chunks::<2>();
            return Ok(pairs
                .iter()
                .map(|[high, low]| (hex_value(*high) << 4) | hex_value(*low))
                .collect());
        }
        let Some(mut body) = rest.strip_prefix('\'') else {
            let (start, word) = self.word(&[]);
            return self.fail(
                start,
                format!("expected a quoted string, found {}", shown(word)),
            );
        };
        let mut text = String::new();
        let mut used = 1;
        loop {
            let Some(quote) = body.find('\'') else {
                return self.fail(start, "no closing quote");
            };
            text.push_str(&body[..quote]);
            if body[quote + 1..].starts_with('\'') {
                text.push('\'');
                used += quote + 2;
                body = &body[quote + 2..];
            } else {
                used += quote + 1;
                break;
            }
        }
        self.position += used;
        Ok(text.into_bytes())
    }

    fn string(&mut self) -> Parsed<String> {
        self.skip_space();
        let start = self.position;
        let bytes = self.bytes()?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(_) => self.fail(start, "not UTF-8"),
        }
    }

    /// Data preceded by its count (`count 5 'hello'`); the two must agree.
    fn counted_data(&mut self) -> Parsed<Vec<u8>> {
        let count: u32 = self.key("count")?.number()?;
        self.skip_space();
        let start = self.position;
        let data = self.bytes()?;
        if data.len() != count as usize {
            return self.fail(
                start,
                format!("count is {count} but the data has {} bytes", data.len()),
            );
        }
        Ok(data)
    }

    /// `(path vers type)`.
    fn qid(&mut self) -> Parsed<Qid> {
        self.skip_space();
        self.punct('(')?;
        let path = self.unsigned(16, &[')'])?;
        let vers = self.unsigned(10, &[')'])?;
        let (start, word) = self.word(&[')']);
        let ty = if let Some(hex) = word.strip_prefix("0x") {
            // from_str_radix alone would also take a sign, as in `0x+1`.
            let well_formed =
                (1..=2).contains(&hex.len()) && hex.bytes().all(|c| c.is_ascii_hexdigit());
            match u8::from_str_radix(hex, 16) {
                Ok(ty) if well_formed => ty,
                _ => return self.fail(start, format!("bad qid type {}", shown(word))),
            }
        } else {
            let mut ty = 0;
            for letter in word.chars() {
                match QID_LETTERS.iter().find(|(_, named)| *named == letter) {
                    Some((bit, _)) if ty & bit == 0 => ty |= bit,
                    _ => return self.fail(start, format!("bad qid type {}", shown(word))),
                }
            }
            ty
        };
        self.skip_space();
        self.punct(')')?;
        Ok(Qid::new(ty, vers, path))
    }

    /// An index prefix `N:` of a walk element, which must count up from 0.
    fn index(&mut self, expected: usize) -> Parsed<()> {
        let (start, word) = self.word(&[':']);
        if word != expected.to_string() {
            return self.fail(start, format!("expected element {expected}:"));
        }
        self.punct(':')
    }

    /// The elements of a walk: the count, then `0:x 1:y ...`, at most MAXWELEM of them.
    fn elements<T>(
        &mut self,
        count_key: &'static str,
        element: &'static str,
        mut read: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        self.skip_space();
        let start = self.position;
        let count: usize = self.key(count_key)?.number()?;
        if count > MAXWELEM {
            return self.fail(start, format!("{count} elements, more than {MAXWELEM}"));
        }
        let mut elements = Vec::with_capacity(count);
        for index in 0..count {
            self.field = element;
            self.index(index)?;
            elements.push(read(self)?);
        }
        Ok(elements)
    }

    /// `'name' 'uid' 'gid' 'muid' q QID m MODE at N mt N l N t N d N`.
    fn dir(&mut self) -> Parsed<Dir> {
        self.field = "name";
        let name = self.string()?;
        self.field = "uid";
        let uid = self.string()?;
        self.field = "gid";
        let gid = self.string()?;
        self.field = "muid";
        let muid = self.string()?;
        let qid = self.key("q")?.qid()?;
        let mode = self.key("m")?.octal()?;
        let atime = self.key("at")?.or_none(u32::MAX.into())?;
        let mtime = self.key("mt")?.or_none(u32::MAX.into())?;
        let length = self.key("l")?.or_none(u64::MAX)?;
        let ty = self.key("t")?.or_none(u16::MAX.into())?;
        let dev = self.key("d")?.or_none(u32::MAX.into())?;
        Ok(Dir {
            ty,
            dev,
            qid,
            mode,
            atime,
            mtime,
            length,
            name,
            uid,
            gid,
            muid,
        })
    }

    /// Only spaces (and a line ending) may follow the last field.
    fn end(&mut self) -> Parsed<()> {
        self.skip_space();
        let rest = self.rest();
        self.field = "end";
        if rest.trim_end_matches(['\r', '\n']).is_empty() {
            Ok(())
        } else if rest.starts_with(['\r', '\n']) {
            self.fail(self.position, "more than one line")
        } else {
            let (start, word) = self.word(&[]);
            self.fail(
                start,
                format!("unexpected {} after the message", shown(word)),
            )
        }
    }

    /// The message after its name and tag.
    fn msg(&mut self, ty: u8) -> Parsed<Msg> {
        Ok(match ty {
            100 | 101 => {
                let msize = self.key("msize")?.number()?;
                let version = self.key("version")?.string()?;
                if ty == 100 {
                    Msg::Tversion { msize, version }
                } else {
                    Msg::Rversion { msize, version }
                }
            }
            102 => Msg::Tauth {
                afid: self.key("afid")?.fid()?,
                uname: self.key("uname")?.string()?,
                aname: self.key("aname")?.string()?,
            },
            103 => Msg::Rauth {
                aqid: self.key("qid")?.qid()?,
            },
            104 => Msg::Tattach {
                fid: self.key("fid")?.fid()?,
                afid: self.key("afid")?.fid()?,
                uname: self.key("uname")?.string()?,
                aname: self.key("aname")?.string()?,
            },
            105 => Msg::Rattach {
                qid: self.key("qid")?.qid()?,
            },
            107 => Msg::Rerror {
                ename: self.key("ename")?.string()?,
            },
            108 => Msg::Tflush {
                oldtag: self.key("oldtag")?.number()?,
            },
            109 => Msg::Rflush,
            110 => Msg::Twalk {
                fid: self.key("fid")?.fid()?,
                newfid: self.key("newfid")?.fid()?,
                wnames: self.elements("nwname", "wname", Line::string)?,
            },
            111 => Msg::Rwalk {
                wqids: self.elements("nwqid", "wqid", Line::qid)?,
            },
            112 => Msg::Topen {
                fid: self.key("fid")?.fid()?,
                mode: self.key("mode")?.number()?,
            },
            113 | 115 => {
                let qid = self.key("qid")?.qid()?;
                let iounit = self.key("iounit")?.number()?;
                if ty == 113 {
                    Msg::Ropen { qid, iounit }
                } else {
                    Msg::Rcreate { qid, iounit }
                }
            }
            114 => Msg::Tcreate {
                fid: self.key("fid")?.fid()?,
                name: self.key("name")?.string()?,
                perm: self.key("perm")?.octal()?,
                mode: self.key("mode")?.number()?,
            },
            116 => Msg::Tread {
                fid: self.key("fid")?.fid()?,
                offset: self.key("offset")?.number()?,
                count: self.key("count")?.number()?,
            },
            117 => Msg::Rread {
                data: self.counted_data()?,
            },
            118 => Msg::Twrite {
                fid: self.key("fid")?.fid()?,
                offset: self.key("offset")?.number()?,
                data: self.counted_data()?,
            },
            119 => Msg::Rwrite {
                count: self.key("count")?.number()?,
            },
            120 => Msg::Tclunk {
                fid: self.key("fid")?.fid()?,
            },
            121 => Msg::Rclunk,
            122 => Msg::Tremove {
                fid: self.key("fid")?.fid()?,
            },
            123 => Msg::Rremove,
            124 => Msg::Tstat {
                fid: self.key("fid")?.fid()?,
            },
            125 => {
                self.key("stat")?;
                Msg::Rstat { stat: self.dir()? }
            }
            126 => {
                let fid = self.key("fid")?.fid()?;
                self.key("stat")?;
                Msg::Twstat {
                    fid,
                    stat: self.dir()?,
                }
            }
            127 => Msg::Rwstat,
            _ => return self.fail(0, "not a message type"),
        })
    }
}

/// A word for an error message, quoted, or `the end of the line` when there is none.
fn shown(word: &str) -> String {
    if word.is_empty() {
        "the end of the line".to_string()
    } else {
        format!("'{word}'")
    }
}

/// The value of an ASCII hex digit (the caller has checked it is one).
fn hex_value(digit: u8) -> u8 {
    char::from(digit).to_digit(16).unwrap_or(0) as u8
}

impl FromStr for Fcall {
    type Err = TextError;

    /// Reads one line as printed by `Display`. Spaces and tabs between values may be
    /// doubled, and a trailing line ending is ignored.
    fn from_str(text: &str) -> Result<Fcall, TextError> {
        let mut line = Line::new(text);
        let (start, name) = line.word(&[]);
        let Some(ty) = (100..=127).find(|ty| type_name(*ty) == name) else {
            return line.fail(start, format!("unknown message name {}", shown(name)));
        };
        line.message = type_name(ty);
        if ty == 106 {
            return line.fail(start, "Terror is not a legal message");
        }
        let tag = line.key("tag")?.number()?;
        let msg = line.msg(ty)?;
        line.end()?;
        Ok(Fcall { tag, msg })
    }
}

impl FromStr for Qid {
    type Err = TextError;

    /// Reads `(path vers type)`.
    fn from_str(text: &str) -> Result<Qid, TextError> {
        let mut line = Line::new(text);
        line.message = "qid";
        line.field = "qid";
        let qid = line.qid()?;
        line.end()?;
        Ok(qid)
    }
}

impl FromStr for Dir {
    type Err = TextError;

    /// Reads a directory entry as `Display` prints it.
    fn from_str(text: &str) -> Result<Dir, TextError> {
        let mut line = Line::new(text);
        line.message = "stat";
        let dir = line.dir()?;
        line.end()?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, KINDS, Rng};
    use crate::{DMDIR, NOFID, NOTAG, QTFILE};

    /// One line per message kind, as transcript files will hold them, with the message each
    /// must parse to.
    fn lines() -> Vec<(&'static str, Fcall)> {
        let qid = Qid::new;
        vec![
            (
                "Tversion tag 65535 msize 8216 version '9P2000'",
                Fcall::new(
                    NOTAG,
                    Msg::Tversion {
                        msize: 8216,
                        version: "9P2000".into(),
                    },
                ),
            ),
            (
                "Rversion tag 65535 msize 8192 version '9P2000'",
                Fcall::new(
                    NOTAG,
                    Msg::Rversion {
                        msize: 8192,
                        version: "9P2000".into(),
                    },
                ),
            ),
            (
                "Tauth tag 1 afid 5 uname 'glenda' aname ''",
                Fcall::new(
                    1,
                    Msg::Tauth {
                        afid: 5,
                        uname: "glenda".into(),
                        aname: "".into(),
                    },
                ),
            ),
            (
                "Rauth tag 1 qid (0000000000000003 0 A)",
                Fcall::new(
                    1,
                    Msg::Rauth {
                        aqid: qid(QTAUTH, 0, 3),
                    },
                ),
            ),
            (
                "Tattach tag 1 fid 0 afid -1 uname 'glenda' aname ''",
                Fcall::new(
                    1,
                    Msg::Tattach {
                        fid: 0,
                        afid: NOFID,
                        uname: "glenda".into(),
                        aname: "".into(),
                    },
                ),
            ),
            (
                "Rattach tag 1 qid (0000000000000001 0 d)",
                Fcall::new(1, Msg::Rattach { qid: Qid::dir(1) }),
            ),
            (
                "Rerror tag 5 ename 'file does not exist'",
                Fcall::new(
                    5,
                    Msg::Rerror {
                        ename: "file does not exist".into(),
                    },
                ),
            ),
            (
                "Tflush tag 6 oldtag 4",
                Fcall::new(6, Msg::Tflush { oldtag: 4 }),
            ),
            ("Rflush tag 6", Fcall::new(6, Msg::Rflush)),
            (
                "Twalk tag 2 fid 0 newfid 1 nwname 2 0:'usr' 1:'glenda'",
                Fcall::new(
                    2,
                    Msg::Twalk {
                        fid: 0,
                        newfid: 1,
                        wnames: vec!["usr".into(), "glenda".into()],
                    },
                ),
            ),
            (
                "Rwalk tag 2 nwqid 2 0:(0000000000000010 0 d) 1:(0102030405060708 3 )",
                Fcall::new(
                    2,
                    Msg::Rwalk {
                        wqids: vec![Qid::dir(0x10), qid(QTFILE, 3, 0x0102_0304_0506_0708)],
                    },
                ),
            ),
            (
                "Topen tag 3 fid 1 mode 0",
                Fcall::new(3, Msg::Topen { fid: 1, mode: 0 }),
            ),
            (
                "Ropen tag 3 qid (0000000000000002 7 ) iounit 8192",
                Fcall::new(
                    3,
                    Msg::Ropen {
                        qid: qid(QTFILE, 7, 2),
                        iounit: 8192,
                    },
                ),
            ),
            (
                "Tcreate tag 3 fid 1 name 'it''s' perm 020000000755 mode 2",
                Fcall::new(
                    3,
                    Msg::Tcreate {
                        fid: 1,
                        name: "it's".into(),
                        perm: DMDIR | 0o755,
                        mode: 2,
                    },
                ),
            ),
            (
                "Rcreate tag 3 qid (0000000000000004 0 al) iounit 0",
                Fcall::new(
                    3,
                    Msg::Rcreate {
                        qid: qid(QTAPPEND | QTEXCL, 0, 4),
                        iounit: 0,
                    },
                ),
            ),
            (
                "Tread tag 4 fid 1 offset 256 count 8192",
                Fcall::new(
                    4,
                    Msg::Tread {
                        fid: 1,
                        offset: 256,
                        count: 8192,
                    },
                ),
            ),
            (
                "Rread tag 4 count 5 'hello'",
                Fcall::new(
                    4,
                    Msg::Rread {
                        data: b"hello".to_vec(),
                    },
                ),
            ),
            (
                "Twrite tag 5 fid 1 offset 2 count 3 x'68690a'",
                Fcall::new(
                    5,
                    Msg::Twrite {
                        fid: 1,
                        offset: 2,
                        data: b"hi\n".to_vec(),
                    },
                ),
            ),
            (
                "Rwrite tag 5 count 3",
                Fcall::new(5, Msg::Rwrite { count: 3 }),
            ),
            ("Tclunk tag 7 fid 1", Fcall::new(7, Msg::Tclunk { fid: 1 })),
            ("Rclunk tag 7", Fcall::new(7, Msg::Rclunk)),
            (
                "Tremove tag 8 fid 1",
                Fcall::new(8, Msg::Tremove { fid: 1 }),
            ),
            ("Rremove tag 8", Fcall::new(8, Msg::Rremove)),
            ("Tstat tag 9 fid 1", Fcall::new(9, Msg::Tstat { fid: 1 })),
            (
                "Rstat tag 9 stat 'a' 'u' 'g' '' q (0000000000000001 0 ) m 0644 \
                 at 1000000000 mt 1000000000 l 5 t 0 d 0",
                Fcall::new(
                    9,
                    Msg::Rstat {
                        stat: testing::rstat_dir(),
                    },
                ),
            ),
            (
                "Twstat tag 10 fid 1 stat 'b' '' '' '' q (ffffffffffffffff 4294967295 0xff) \
                 m 037777777777 at -1 mt -1 l -1 t -1 d -1",
                Fcall::new(
                    10,
                    Msg::Twstat {
                        fid: 1,
                        stat: Dir {
                            name: "b".into(),
                            ..Dir::null()
                        },
                    },
                ),
            ),
            ("Rwstat tag 10", Fcall::new(10, Msg::Rwstat)),
        ]
    }

    fn parse_error(text: &str) -> TextError {
        text.parse::<Fcall>()
            .expect_err("bad text parsed as a message")
    }

    #[test]
    fn each_kind_prints_and_parses_as_documented() {
        let lines = lines();
        assert_eq!(lines.len(), KINDS, "one line per message kind");
        for (text, fcall) in lines {
            assert_eq!(fcall.to_string(), text);
            assert_eq!(text.parse::<Fcall>(), Ok(fcall), "{text}");
        }
    }

    /// docs/9p.md shows one line per message kind; they must be exactly what is printed.
    #[test]
    fn the_documented_lines_are_the_printed_ones() {
        let page = include_str!("../../../docs/9p.md");
        let (_, after) = page
            .split_once("One line for each message kind:\n\n```\n")
            .expect("docs/9p.md lists the lines");
        let (block, _) = after.split_once("```").expect("the list ends");
        let documented: Vec<&str> = block.lines().collect();
        let printed: Vec<String> = lines().iter().map(|(_, fcall)| fcall.to_string()).collect();
        assert_eq!(documented, printed);
    }

    #[test]
    fn the_manual_fixtures_read_as_text() {
        for (bytes, fcall) in testing::fixtures() {
            let text = Fcall::decode(bytes, 8216).unwrap().to_string();
            assert_eq!(text.parse::<Fcall>(), Ok(fcall));
        }
    }

    #[test]
    fn seeded_text_round_trips_of_every_kind() {
        let mut rng = Rng::new(0x5eed_0101);
        for round in 0..300 {
            for kind in 0..KINDS {
                let fcall = rng.fcall(kind);
                let text = fcall.to_string();
                assert!(
                    text.chars().all(is_plain),
                    "round {round}: {text:?} is not a single plain line"
                );
                assert_eq!(text.parse::<Fcall>(), Ok(fcall), "round {round}: {text}");
            }
        }
    }

    #[test]
    fn strings_and_data_pick_quotes_or_hex() {
        let show = |bytes: &[u8]| Bytes(bytes).to_string();
        assert_eq!(show(b""), "''");
        assert_eq!(show(b"it's"), "'it''s'");
        assert_eq!(show(b"''"), "''''''");
        assert_eq!(show(b"x'41'"), "'x''41'''");
        assert_eq!(show("日本".as_bytes()), "'日本'");
        assert_eq!(show(b"a\tb"), "x'610962'");
        assert_eq!(show(b"\xff"), "x'ff'");
        assert_eq!(show("\u{2028}".as_bytes()), "x'e280a8'");
    }

    #[test]
    fn qids_and_dirs_print_and_parse_alone() {
        for ty in 0..=u8::MAX {
            let qid = Qid::new(ty, 9, 0xabc);
            assert_eq!(qid.to_string().parse::<Qid>(), Ok(qid));
        }
        assert_eq!(Qid::dir(1).to_string(), "(0000000000000001 0 d)");
        assert_eq!(
            Qid::new(0x02, 0, 1).to_string(),
            "(0000000000000001 0 0x02)"
        );
        let dir = testing::rstat_dir();
        assert_eq!(dir.to_string().parse::<Dir>(), Ok(dir));
        assert_eq!(Dir::null().to_string().parse::<Dir>(), Ok(Dir::null()));
    }

    #[test]
    fn loose_spacing_and_line_endings_are_accepted() {
        let fcall = Fcall::new(
            4,
            Msg::Tread {
                fid: 1,
                offset: 0,
                count: 10,
            },
        );
        for text in [
            "Tread tag 4 fid 1 offset 0 count 10\n",
            "Tread tag 4 fid 1 offset 0 count 10\r\n",
            "  Tread\ttag 4  fid 1 offset 0 count 10  ",
            "Tread tag 4 fid 1 offset 00 count 10",
        ] {
            assert_eq!(text.parse::<Fcall>(), Ok(fcall.clone()), "{text:?}");
        }
        let nofid = Fcall::new(1, Msg::Tclunk { fid: NOFID });
        assert_eq!("Tclunk tag 1 fid 4294967295".parse::<Fcall>(), Ok(nofid));
        let walk = "Rwalk tag 1 nwqid 1 0:( 0000000000000001 0 d )";
        assert!(walk.parse::<Fcall>().is_ok());
    }

    #[test]
    fn bad_text_names_the_field() {
        let cases: [(&str, &str, &str, usize); 23] = [
            ("", "message", "type", 0),
            ("Tfoo tag 1", "message", "type", 0),
            ("Terror tag 1", "Terror", "type", 0),
            ("Tclunk tag", "Tclunk", "tag", 10),
            ("Tclunk tag 65536 fid 1", "Tclunk", "tag", 11),
            ("Tclunk tag 1 fid -2", "Tclunk", "fid", 17),
            ("Tclunk tag 1 fid - 1", "Tclunk", "fid", 17),
            ("Tclunk tag 1 fid 1 fid 2", "Tclunk", "end", 19),
            ("Tclunk tag 1 fid 1\nRclunk tag 1", "Tclunk", "end", 18),
            ("Tclunk tag 1 fd 1", "Tclunk", "fid", 13),
            ("Rread tag 1 count 6 'hello'", "Rread", "count", 20),
            ("Rread tag 1 count 5 'hello", "Rread", "count", 20),
            ("Rread tag 1 count 1 x'6'", "Rread", "count", 20),
            ("Rread tag 1 count 1 x'zz'", "Rread", "count", 20),
            ("Rread tag 1 count 1 hello", "Rread", "count", 20),
            ("Rerror tag 1 ename x'ff'", "Rerror", "ename", 19),
            (
                "Twalk tag 1 fid 0 newfid 1 nwname 17",
                "Twalk",
                "nwname",
                27,
            ),
            (
                "Twalk tag 1 fid 0 newfid 1 nwname 2 0:'a'",
                "Twalk",
                "wname",
                41,
            ),
            (
                "Twalk tag 1 fid 0 newfid 1 nwname 2 0:'a' 2:'b'",
                "Twalk",
                "wname",
                42,
            ),
            ("Rattach tag 1 qid (1 0 dd)", "Rattach", "qid", 23),
            ("Rattach tag 1 qid (1 0 z)", "Rattach", "qid", 23),
            (
                "Rattach tag 1 qid (10000000000000000 0 )",
                "Rattach",
                "qid",
                19,
            ),
            (
                "Tcreate tag 1 fid 1 name 'a' perm 755 mode 0",
                "Tcreate",
                "perm",
                34,
            ),
        ];
        for (text, message, field, column) in cases {
            let error = parse_error(text);
            assert_eq!(
                (error.message, error.field, error.column),
                (message, field, column),
                "{text:?}: {error}"
            );
        }
        assert_eq!(
            parse_error("Tclunk tag 1 fd 1").to_string(),
            "bad Tclunk text: field fid at column 13: expected 'fid', found 'fd'"
        );
    }

    #[test]
    fn qid_type_hex_takes_only_hex_digits() {
        for bad in ["0x+1", "0x", "0x100", "0xg", "0x-0"] {
            let text = format!("(0000000000000001 0 {bad})");
            assert!(text.parse::<Qid>().is_err(), "{text}");
        }
        assert_eq!("(1 0 0x03)".parse::<Qid>(), Ok(Qid::new(3, 0, 1)));
    }

    #[test]
    fn dirs_with_missing_fields_are_refused() {
        let full = "Rstat tag 9 stat 'a' 'u' 'g' '' q (0000000000000001 0 ) m 0644 \
                    at 1000000000 mt 1000000000 l 5 t 0 d 0";
        for (cut, _) in full.char_indices().filter(|(_, c)| *c == ' ') {
            // Every prefix ending before a space lacks at least one field of the stat.
            if cut > "Rstat tag 9".len() {
                assert!(full[..cut].parse::<Fcall>().is_err(), "{}", &full[..cut]);
            }
        }
    }

    #[test]
    fn random_text_never_panics() {
        let mut rng = Rng::new(0x5eed_0102);
        let (texts, _): (Vec<&str>, Vec<Fcall>) = lines().into_iter().unzip();
        for _ in 0..5000 {
            // Valid lines with a few characters replaced or cut short.
            let mut text: Vec<char> = texts[rng.below(texts.len())].chars().collect();
            for _ in 0..1 + rng.below(3) {
                let index = rng.below(text.len());
                text[index] = match rng.below(4) {
                    0 => '\'',
                    1 => ' ',
                    2 => char::from(b'0' + rng.below(10) as u8),
                    _ => char::from_u32(rng.below(0x300) as u32).unwrap_or('?'),
                };
            }
            text.truncate(rng.below(text.len() + 1));
            let text: String = text.into_iter().collect();
            if let Ok(fcall) = text.parse::<Fcall>() {
                assert_eq!(fcall.to_string().parse::<Fcall>(), Ok(fcall));
            }
        }
    }
}
