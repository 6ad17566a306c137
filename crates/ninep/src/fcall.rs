//! 9P2000 messages (Plan 9 `Fcall`, `convM2S.c`, `convS2M.c`): one enum variant per message,
//! their encoding, and their decoding, written as nom parsers, one per field.
//!
//! Invariants: a decode is given one whole message (size field included) and the connection's
//! msize; it checks the size against msize before reading anything else, checks every count
//! and string length against what is left before allocating anything (so a decode never
//! allocates more than a small constant beyond the message's own size), refuses more than
//! MAXWELEM walk elements and trailing bytes, and never panics. An error names the message,
//! the field and the byte offset where that field starts.

use crate::dir::{DecodeError, Dir};
use crate::{MAXWELEM, Qid};
use nom::error::{ErrorKind, ParseError};
use nom::multi::{count, length_data};
use nom::number::complete::{le_u8, le_u16, le_u32, le_u64};
use nom::{IResult, Parser};

/// Smallest possible message: size[4] type[1] tag[2].
pub const HEADER: usize = 7;
/// Bytes of an Rread before its data: size[4] type[1] tag[2] count[4].
pub const RREAD_HEADER: usize = HEADER + 4;

/// The body of a 9P2000 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    Tversion {
        msize: u32,
        version: String,
    },
    Rversion {
        msize: u32,
        version: String,
    },
    Tauth {
        afid: u32,
        uname: String,
        aname: String,
    },
    Rauth {
        aqid: Qid,
    },
    Rerror {
        ename: String,
    },
    Tflush {
        oldtag: u16,
    },
    Rflush,
    Tattach {
        fid: u32,
        afid: u32,
        uname: String,
        aname: String,
    },
    Rattach {
        qid: Qid,
    },
    Twalk {
        fid: u32,
        newfid: u32,
        wnames: Vec<String>,
    },
    Rwalk {
        wqids: Vec<Qid>,
    },
    Topen {
        fid: u32,
        mode: u8,
    },
    Ropen {
        qid: Qid,
        iounit: u32,
    },
    Tcreate {
        fid: u32,
        name: String,
        perm: u32,
        mode: u8,
    },
    Rcreate {
        qid: Qid,
        iounit: u32,
    },
    Tread {
        fid: u32,
        offset: u64,
        count: u32,
    },
    Rread {
        data: Vec<u8>,
    },
    Twrite {
        fid: u32,
        offset: u64,
        data: Vec<u8>,
    },
    Rwrite {
        count: u32,
    },
    Tclunk {
        fid: u32,
    },
    Rclunk,
    Tremove {
        fid: u32,
    },
    Rremove,
    Tstat {
        fid: u32,
    },
    Rstat {
        stat: Dir,
    },
    Twstat {
        fid: u32,
        stat: Dir,
    },
    Rwstat,
}

/// A message with its tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fcall {
    pub tag: u16,
    pub msg: Msg,
}

impl Msg {
    /// The message type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Msg::Tversion { .. } => 100,
            Msg::Rversion { .. } => 101,
            Msg::Tauth { .. } => 102,
            Msg::Rauth { .. } => 103,
            Msg::Rerror { .. } => 107,
            Msg::Tflush { .. } => 108,
            Msg::Rflush => 109,
            Msg::Tattach { .. } => 104,
            Msg::Rattach { .. } => 105,
            Msg::Twalk { .. } => 110,
            Msg::Rwalk { .. } => 111,
            Msg::Topen { .. } => 112,
            Msg::Ropen { .. } => 113,
            Msg::Tcreate { .. } => 114,
            Msg::Rcreate { .. } => 115,
            Msg::Tread { .. } => 116,
            Msg::Rread { .. } => 117,
            Msg::Twrite { .. } => 118,
            Msg::Rwrite { .. } => 119,
            Msg::Tclunk { .. } => 120,
            Msg::Rclunk => 121,
            Msg::Tremove { .. } => 122,
            Msg::Rremove => 123,
            Msg::Tstat { .. } => 124,
            Msg::Rstat { .. } => 125,
            Msg::Twstat { .. } => 126,
            Msg::Rwstat => 127,
        }
    }

    /// The message's name, `Tversion`, ...
    pub fn name(&self) -> &'static str {
        type_name(self.type_byte())
    }

    /// Whether this is a request (T-message).
    pub fn is_request(&self) -> bool {
        self.type_byte().is_multiple_of(2)
    }
}

/// The name of message type `ty`, or `unknown`.
pub fn type_name(ty: u8) -> &'static str {
    match ty {
        100 => "Tversion",
        101 => "Rversion",
        102 => "Tauth",
        103 => "Rauth",
        104 => "Tattach",
        105 => "Rattach",
        106 => "Terror",
        107 => "Rerror",
        108 => "Tflush",
        109 => "Rflush",
        110 => "Twalk",
        111 => "Rwalk",
        112 => "Topen",
        113 => "Ropen",
        114 => "Tcreate",
        115 => "Rcreate",
        116 => "Tread",
        117 => "Rread",
        118 => "Twrite",
        119 => "Rwrite",
        120 => "Tclunk",
        121 => "Rclunk",
        122 => "Tremove",
        123 => "Rremove",
        124 => "Tstat",
        125 => "Rstat",
        126 => "Twstat",
        127 => "Rwstat",
        _ => "unknown",
    }
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// A string: length[2] and bytes, cut at 65535 bytes (on a character boundary).
fn put_str(out: &mut Vec<u8>, text: &str) {
    let mut end = text.len().min(u16::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    put_u16(out, end as u16);
    out.extend_from_slice(&text.as_bytes()[..end]);
}

/// stat[n]: the record's length, then the record. The length is taken from the bytes written
/// (not computed beforehand) so the two can never disagree, even for a record whose strings
/// had to be cut.
fn put_stat(out: &mut Vec<u8>, stat: &Dir) {
    let record = stat.to_bytes();
    put_u16(out, record.len().min(u16::MAX as usize) as u16);
    out.extend_from_slice(&record);
}

impl Fcall {
    pub fn new(tag: u16, msg: Msg) -> Fcall {
        Fcall { tag, msg }
    }

    /// Appends the encoded message, size field first.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        put_u32(out, 0);
        out.push(self.msg.type_byte());
        put_u16(out, self.tag);
        match &self.msg {
            Msg::Tversion { msize, version } | Msg::Rversion { msize, version } => {
                put_u32(out, *msize);
                put_str(out, version);
            }
            Msg::Tauth { afid, uname, aname } => {
                put_u32(out, *afid);
                put_str(out, uname);
                put_str(out, aname);
            }
            Msg::Rauth { aqid: qid } | Msg::Rattach { qid } => qid.encode(out),
            Msg::Rerror { ename } => put_str(out, ename),
            Msg::Tflush { oldtag } => put_u16(out, *oldtag),
            Msg::Rflush | Msg::Rclunk | Msg::Rremove | Msg::Rwstat => {}
            Msg::Tattach {
                fid,
                afid,
                uname,
                aname,
            } => {
                put_u32(out, *fid);
                put_u32(out, *afid);
                put_str(out, uname);
                put_str(out, aname);
            }
            Msg::Twalk {
                fid,
                newfid,
                wnames,
            } => {
                put_u32(out, *fid);
                put_u32(out, *newfid);
                put_u16(out, wnames.len() as u16);
                for name in wnames {
                    put_str(out, name);
                }
            }
            Msg::Rwalk { wqids } => {
                put_u16(out, wqids.len() as u16);
                for qid in wqids {
                    qid.encode(out);
                }
            }
            Msg::Topen { fid, mode } => {
                put_u32(out, *fid);
                out.push(*mode);
            }
            Msg::Ropen { qid, iounit } | Msg::Rcreate { qid, iounit } => {
                qid.encode(out);
                put_u32(out, *iounit);
            }
            Msg::Tcreate {
                fid,
                name,
                perm,
                mode,
            } => {
                put_u32(out, *fid);
                put_str(out, name);
                put_u32(out, *perm);
                out.push(*mode);
            }
            Msg::Tread { fid, offset, count } => {
                put_u32(out, *fid);
                put_u64(out, *offset);
                put_u32(out, *count);
            }
            Msg::Rread { data } => {
                put_u32(out, data.len() as u32);
                out.extend_from_slice(data);
            }
            Msg::Twrite { fid, offset, data } => {
                put_u32(out, *fid);
                put_u64(out, *offset);
                put_u32(out, data.len() as u32);
                out.extend_from_slice(data);
            }
            Msg::Rwrite { count } => put_u32(out, *count),
            Msg::Tclunk { fid } | Msg::Tremove { fid } | Msg::Tstat { fid } => put_u32(out, *fid),
            Msg::Rstat { stat } => put_stat(out, stat),
            Msg::Twstat { fid, stat } => {
                put_u32(out, *fid);
                put_stat(out, stat);
            }
        }
        let size = (out.len() - start) as u32;
        out[start..start + 4].copy_from_slice(&size.to_le_bytes());
    }

    /// The encoded message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Frames an Rread in place: `message` is [`RREAD_HEADER`] bytes of room followed by the
    /// data, and gets the header written into that room, so a server can read a file straight
    /// into its reply with no copy. None if the data are too long for a message.
    pub fn frame_rread(tag: u16, message: &mut [u8]) -> Option<()> {
        let size = u32::try_from(message.len()).ok()?;
        let count = size.checked_sub(RREAD_HEADER as u32)?;
        message[..4].copy_from_slice(&size.to_le_bytes());
        message[4] = 117;
        message[5..7].copy_from_slice(&tag.to_le_bytes());
        message[7..11].copy_from_slice(&count.to_le_bytes());
        Some(())
    }

    /// The size field of a message whose first four bytes are `prefix`.
    pub fn frame_size(prefix: [u8; 4]) -> u32 {
        u32::from_le_bytes(prefix)
    }

    /// Decodes one whole message (its size field included), refusing anything larger than
    /// `msize` or malformed.
    pub fn decode(bytes: &[u8], msize: u32) -> Result<Fcall, DecodeError> {
        let fail = |what: &'static str, field, offset, reason| DecodeError {
            what,
            field,
            offset,
            reason,
        };
        let (after_size, size) = le_u32::<_, Fault<'_>>(bytes)
            .map_err(|_| fail("message", "size", 0, "shorter than the size field"))?;
        // The size is judged before anything else is read, so a peer cannot make us look
        // further than the connection allows.
        if size > msize {
            return Err(fail("message", "size", 0, "larger than msize"));
        }
        let size = size as usize;
        if size < HEADER {
            return Err(fail("message", "size", 0, "shorter than a header"));
        }
        if size != bytes.len() {
            return Err(fail("message", "size", 0, "does not match the data"));
        }
        let header: Res<'_, (u8, u16)> = (le_u8, le_u16).parse_complete(after_size);
        let (body_bytes, (ty, tag)) =
            header.map_err(|_| fail("message", "type", 4, "shorter than a header"))?;
        let what = type_name(ty);
        if ty == 106 {
            return Err(fail(what, "type", 4, "Terror is not a legal message"));
        }
        if what == "unknown" {
            return Err(fail(what, "type", 4, "unknown message type"));
        }
        let offset_of = |rest: &[u8]| bytes.len() - rest.len();
        match body(ty, body_bytes) {
            Ok((rest, _)) if !rest.is_empty() => {
                Err(fail(what, "size", offset_of(rest), "trailing bytes"))
            }
            Ok((_, msg)) => Ok(Fcall { tag, msg }),
            Err(nom::Err::Error(fault) | nom::Err::Failure(fault)) => Err(fail(
                what,
                fault.field,
                offset_of(fault.at) + fault.within,
                fault.reason,
            )),
            // Every parser below runs in complete mode, so this cannot happen; were it to,
            // it would still mean the message ended early.
            Err(nom::Err::Incomplete(_)) => Err(fail(
                what,
                "size",
                bytes.len(),
                "past the end of the message",
            )),
        }
    }
}

/// Why a field parser stopped. Faults travel through nom as its error type and become a
/// [`DecodeError`] at the top, where the whole message is known and offsets can be computed.
#[derive(Debug)]
struct Fault<'a> {
    /// The input left where the failing field begins; the offset is the message length less
    /// this length.
    at: &'a [u8],
    /// How far past `at` the trouble lies (used for errors inside a stat record, which
    /// carry their own offsets).
    within: usize,
    /// Empty until the nearest [`field`] wrapper names it.
    field: &'static str,
    reason: &'static str,
}

impl<'a> ParseError<&'a [u8]> for Fault<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        // The only primitive parsers used here are fixed-width integers and `take`, whose
        // only way to fail on complete input is running out of bytes.
        Fault {
            at: input,
            within: 0,
            field: "",
            reason: "past the end of the message",
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a [u8], T, Fault<'a>>;

/// A failure at `at` for a reason; the enclosing [`field`] supplies the field's name.
fn refuse<'a, T>(at: &'a [u8], reason: &'static str) -> Res<'a, T> {
    Err(nom::Err::Failure(Fault {
        at,
        within: 0,
        field: "",
        reason,
    }))
}

/// Runs `parser` on complete input and, if it fails without having named a field itself,
/// names `name` and points the offset at the start of the field (so a string whose length
/// overruns the message is reported where its length is, not somewhere inside it).
fn field<'a, O>(
    name: &'static str,
    mut parser: impl Parser<&'a [u8], Output = O, Error = Fault<'a>>,
) -> impl FnMut(&'a [u8]) -> Res<'a, O> {
    move |input| match parser.parse_complete(input) {
        Ok(done) => Ok(done),
        Err(nom::Err::Error(fault) | nom::Err::Failure(fault)) if fault.field.is_empty() => {
            Err(nom::Err::Failure(Fault {
                at: input,
                within: 0,
                field: name,
                reason: fault.reason,
            }))
        }
        Err(nom::Err::Error(fault) | nom::Err::Failure(fault)) => Err(nom::Err::Failure(fault)),
        Err(nom::Err::Incomplete(_)) => Err(nom::Err::Failure(Fault {
            at: input,
            within: 0,
            field: name,
            reason: "past the end of the message",
        })),
    }
}

fn byte<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, u8> {
    field(name, le_u8)
}

fn short<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, u16> {
    field(name, le_u16)
}

fn long<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, u32> {
    field(name, le_u32)
}

fn vlong<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, u64> {
    field(name, le_u64)
}

/// qid[13]: type[1] vers[4] path[8].
fn qid<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, Qid> {
    field(
        name,
        (le_u8, le_u32, le_u64).map(|(ty, vers, path)| Qid::new(ty, vers, path)),
    )
}

/// s: length[2] then that many bytes of UTF-8. The length is checked against the bytes left
/// (by `take`) and the text is checked before it is copied, so nothing is allocated for a
/// string that is not there or not text.
fn string<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, String> {
    field(name, |input: &'a [u8]| {
        let (rest, raw) = length_data(le_u16).parse_complete(input)?;
        match std::str::from_utf8(raw) {
            Ok(text) => Ok((rest, text.to_owned())),
            Err(_) => refuse(input, "not UTF-8"),
        }
    })
}

/// count[4] data[count], for Rread and Twrite; the copy happens only once `take` has found
/// all the bytes the count claims.
fn data<'a>(input: &'a [u8]) -> Res<'a, Vec<u8>> {
    field("count", length_data(le_u32).map(<[u8]>::to_vec)).parse_complete(input)
}

/// n[2] then a count of elements of at least `least` bytes each: refuses more than
/// MAXWELEM, and more than the bytes left could hold, before anything is allocated.
fn element_count<'a>(name: &'static str, least: usize) -> impl FnMut(&'a [u8]) -> Res<'a, usize> {
    field(name, move |input: &'a [u8]| {
        let (rest, count) = le_u16(input)?;
        let count = count as usize;
        if count > MAXWELEM {
            refuse(input, "more than 16 elements")
        } else if count * least > rest.len() {
            refuse(input, "more elements than the bytes left can hold")
        } else {
            Ok((rest, count))
        }
    })
}

fn wnames(input: &[u8]) -> Res<'_, Vec<String>> {
    element_count("nwname", 2)
        .flat_map(|names| count(string("wname"), names))
        .parse_complete(input)
}

fn wqids(input: &[u8]) -> Res<'_, Vec<Qid>> {
    element_count("nwqid", Qid::WIRE_LEN)
        .flat_map(|qids| count(qid("wqid"), qids))
        .parse_complete(input)
}

/// stat[n]: n[2] and a stat record of exactly n bytes, whose own size field must agree.
fn stat(input: &[u8]) -> Res<'_, Dir> {
    field("stat", |input| {
        let (rest, record) = length_data(le_u16).parse_complete(input)?;
        match Dir::decode(record) {
            Ok((dir, [])) => Ok((rest, dir)),
            Ok(_) => refuse(input, "stat length disagrees with its record"),
            Err(error) => Err(nom::Err::Failure(Fault {
                at: input,
                within: 2 + error.offset,
                field: error.field,
                reason: error.reason,
            })),
        }
    })
    .parse_complete(input)
}

/// The body of a message of type `ty`, after size[4] type[1] tag[2].
fn body(ty: u8, input: &[u8]) -> Res<'_, Msg> {
    match ty {
        100 => (long("msize"), string("version"))
            .map(|(msize, version)| Msg::Tversion { msize, version })
            .parse_complete(input),
        101 => (long("msize"), string("version"))
            .map(|(msize, version)| Msg::Rversion { msize, version })
            .parse_complete(input),
        102 => (long("afid"), string("uname"), string("aname"))
            .map(|(afid, uname, aname)| Msg::Tauth { afid, uname, aname })
            .parse_complete(input),
        103 => qid("aqid")
            .map(|aqid| Msg::Rauth { aqid })
            .parse_complete(input),
        104 => (long("fid"), long("afid"), string("uname"), string("aname"))
            .map(|(fid, afid, uname, aname)| Msg::Tattach {
                fid,
                afid,
                uname,
                aname,
            })
            .parse_complete(input),
        105 => qid("qid")
            .map(|qid| Msg::Rattach { qid })
            .parse_complete(input),
        107 => string("ename")
            .map(|ename| Msg::Rerror { ename })
            .parse_complete(input),
        108 => short("oldtag")
            .map(|oldtag| Msg::Tflush { oldtag })
            .parse_complete(input),
        109 => Ok((input, Msg::Rflush)),
        110 => (long("fid"), long("newfid"), wnames)
            .map(|(fid, newfid, wnames)| Msg::Twalk {
                fid,
                newfid,
                wnames,
            })
            .parse_complete(input),
        111 => wqids
            .map(|wqids| Msg::Rwalk { wqids })
            .parse_complete(input),
        112 => (long("fid"), byte("mode"))
            .map(|(fid, mode)| Msg::Topen { fid, mode })
            .parse_complete(input),
        113 => (qid("qid"), long("iounit"))
            .map(|(qid, iounit)| Msg::Ropen { qid, iounit })
            .parse_complete(input),
        114 => (long("fid"), string("name"), long("perm"), byte("mode"))
            .map(|(fid, name, perm, mode)| Msg::Tcreate {
                fid,
                name,
                perm,
                mode,
            })
            .parse_complete(input),
        115 => (qid("qid"), long("iounit"))
            .map(|(qid, iounit)| Msg::Rcreate { qid, iounit })
            .parse_complete(input),
        116 => (long("fid"), vlong("offset"), long("count"))
            .map(|(fid, offset, count)| Msg::Tread { fid, offset, count })
            .parse_complete(input),
        117 => data.map(|data| Msg::Rread { data }).parse_complete(input),
        118 => (long("fid"), vlong("offset"), data)
            .map(|(fid, offset, data)| Msg::Twrite { fid, offset, data })
            .parse_complete(input),
        119 => long("count")
            .map(|count| Msg::Rwrite { count })
            .parse_complete(input),
        120 => long("fid")
            .map(|fid| Msg::Tclunk { fid })
            .parse_complete(input),
        121 => Ok((input, Msg::Rclunk)),
        122 => long("fid")
            .map(|fid| Msg::Tremove { fid })
            .parse_complete(input),
        123 => Ok((input, Msg::Rremove)),
        124 => long("fid")
            .map(|fid| Msg::Tstat { fid })
            .parse_complete(input),
        125 => stat.map(|stat| Msg::Rstat { stat }).parse_complete(input),
        126 => (long("fid"), stat)
            .map(|(fid, stat)| Msg::Twstat { fid, stat })
            .parse_complete(input),
        127 => Ok((input, Msg::Rwstat)),
        // Fcall::decode refuses unknown types (and Terror) before it gets here.
        _ => field("type", |at| refuse(at, "unknown message type")).parse_complete(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, KINDS, Rng};

    /// Inferno's largest msize, which the fuzz target uses too.
    const MSIZE: u32 = 65560;

    fn decode(bytes: &[u8]) -> Result<Fcall, DecodeError> {
        Fcall::decode(bytes, MSIZE)
    }

    /// `bytes` with its size field set to its length, for building hostile messages.
    fn sized(mut bytes: Vec<u8>) -> Vec<u8> {
        let size = bytes.len() as u32;
        bytes[..4].copy_from_slice(&size.to_le_bytes());
        bytes
    }

    fn expect_error(bytes: &[u8], what: &str, field: &str, offset: usize) -> DecodeError {
        let error = decode(bytes).expect_err("hostile message decoded");
        assert_eq!(
            (error.what, error.field, error.offset),
            (what, field, offset),
            "{error}"
        );
        error
    }

    #[test]
    fn encodes_the_manual_layout() {
        for (bytes, fcall) in testing::fixtures() {
            assert_eq!(fcall.to_bytes(), bytes, "{}", fcall.msg.name());
            assert_eq!(decode(bytes), Ok(fcall));
        }
    }

    #[test]
    fn encode_appends_after_what_is_there() {
        let (bytes, fcall) = &testing::fixtures()[0];
        let mut out = vec![0xaa];
        fcall.encode(&mut out);
        assert_eq!(&out[1..], *bytes);
        assert_eq!(Fcall::frame_size([19, 0, 0, 0]), 19);
    }

    #[test]
    fn seeded_round_trips_of_every_kind() {
        let mut rng = Rng::new(0x5eed_0001);
        for round in 0..300 {
            for kind in 0..KINDS {
                let fcall = rng.fcall(kind);
                let bytes = fcall.to_bytes();
                assert_eq!(
                    Fcall::frame_size([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize,
                    bytes.len()
                );
                assert_eq!(decode(&bytes), Ok(fcall), "round {round} kind {kind}");
            }
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        let mut messages: Vec<Vec<u8>> = testing::fixtures()
            .into_iter()
            .map(|(bytes, _)| bytes.to_vec())
            .collect();
        let mut rng = Rng::new(0x5eed_0002);
        messages.extend((0..KINDS).map(|kind| rng.fcall(kind).to_bytes()));
        for bytes in messages {
            let name = type_name(bytes[4]);
            for cut in 0..bytes.len() {
                // As cut off by a dropped connection: the size field no longer matches.
                let error = decode(&bytes[..cut]).expect_err("truncated message decoded");
                assert_eq!((error.field, error.offset), ("size", 0), "{error}");
                // As sent by a liar: the size field agrees but a field runs off the end.
                if cut >= 4 {
                    let error = decode(&sized(bytes[..cut].to_vec()))
                        .expect_err("truncated message decoded");
                    if cut >= HEADER {
                        assert_eq!(error.what, name, "{error}");
                        assert!(error.offset <= cut, "{error}");
                    } else {
                        assert_eq!(error.reason, "shorter than a header");
                    }
                }
            }
        }
    }

    #[test]
    fn size_larger_than_msize_is_refused_before_anything_else() {
        let error = Fcall::decode(&testing::TVERSION, 18).unwrap_err();
        assert_eq!(
            (error.what, error.field, error.offset),
            ("message", "size", 0)
        );
        assert_eq!(error.reason, "larger than msize");
        // Only the size field is there: the claim alone is enough to refuse.
        let error = decode(&[0xff, 0xff, 0xff, 0xff]).unwrap_err();
        assert_eq!(error.reason, "larger than msize");
        assert!(Fcall::decode(&testing::TVERSION, 19).is_ok());
    }

    #[test]
    fn size_smaller_than_a_header_is_refused() {
        for size in 0..HEADER as u8 {
            let bytes = [size, 0, 0, 0, 121, 1, 0];
            let error = expect_error(&bytes[..], "message", "size", 0);
            assert_eq!(error.reason, "shorter than a header");
        }
        for cut in 0..4 {
            let error = expect_error(&testing::RREAD[..cut], "message", "size", 0);
            assert_eq!(error.reason, "shorter than the size field");
        }
    }

    #[test]
    fn size_not_matching_the_data_is_refused() {
        let mut long = testing::RREAD.to_vec();
        long.push(0);
        let error = expect_error(&long, "message", "size", 0);
        assert_eq!(error.reason, "does not match the data");
        let mut short = testing::RREAD;
        short[0] = 15;
        expect_error(&short, "message", "size", 0);
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = testing::RREAD.to_vec();
        bytes.push(b'!');
        let error = expect_error(&sized(bytes), "Rread", "size", 16);
        assert_eq!(error.reason, "trailing bytes");
        expect_error(&[8, 0, 0, 0, 121, 1, 0, 0], "Rclunk", "size", 7);
    }

    #[test]
    fn unknown_types_are_refused() {
        for ty in [0, 1, 99, 106, 128, 200, 255] {
            let error = expect_error(&[7, 0, 0, 0, ty, 1, 0], type_name(ty), "type", 4);
            if ty == 106 {
                assert_eq!(error.what, "Terror");
                assert_eq!(error.reason, "Terror is not a legal message");
            } else {
                assert_eq!(error.reason, "unknown message type");
            }
        }
    }

    #[test]
    fn string_lengths_past_the_end_are_named() {
        let mut bytes = testing::TVERSION;
        bytes[11] = 7; // version length one more than there is
        let error = expect_error(&bytes, "Tversion", "version", 11);
        assert_eq!(error.reason, "past the end of the message");
        let mut bytes = testing::TWALK;
        bytes[22] = 0xff; // the second name claims 255 bytes
        expect_error(&bytes, "Twalk", "wname", 22);
        let mut bytes = testing::RERROR;
        bytes[8] = 1; // 275 bytes of ename
        expect_error(&bytes, "Rerror", "ename", 7);
        let mut bytes = testing::TATTACH;
        bytes[23] = 1; // aname claims 1 byte, none left
        expect_error(&bytes, "Tattach", "aname", 23);
    }

    #[test]
    fn counts_past_the_end_are_named() {
        let mut bytes = testing::RREAD;
        bytes[7] = 6;
        expect_error(&bytes, "Rread", "count", 7);
        let mut bytes = testing::TWRITE;
        bytes[19..23].copy_from_slice(&u32::MAX.to_le_bytes());
        let error = expect_error(&bytes, "Twrite", "count", 19);
        assert_eq!(error.reason, "past the end of the message");
        // Names and qids that could not fit in what is left are refused on the count.
        let mut bytes = testing::TWALK;
        bytes[15] = 3;
        expect_error(&bytes, "Twalk", "wname", 30);
        let error = expect_error(
            &sized(vec![0, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 16, 0]),
            "Twalk",
            "nwname",
            15,
        );
        assert_eq!(error.reason, "more elements than the bytes left can hold");
        let mut bytes = testing::RWALK;
        bytes[7] = 3;
        expect_error(&bytes, "Rwalk", "nwqid", 7);
    }

    #[test]
    fn seventeen_walk_elements_are_refused() {
        let mut twalk = vec![0, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 17, 0];
        for _ in 0..17 {
            twalk.extend_from_slice(&[1, 0, b'a']);
        }
        let error = expect_error(&sized(twalk), "Twalk", "nwname", 15);
        assert_eq!(error.reason, "more than 16 elements");
        let mut rwalk = vec![0, 0, 0, 0, 111, 1, 0, 17, 0];
        rwalk.extend(std::iter::repeat_n(0, 17 * Qid::WIRE_LEN));
        expect_error(&sized(rwalk), "Rwalk", "nwqid", 7);
        // Sixteen is the most that is allowed, and fine.
        let sixteen = Fcall::new(
            1,
            Msg::Twalk {
                fid: 0,
                newfid: 1,
                wnames: vec!["a".into(); MAXWELEM],
            },
        );
        assert_eq!(decode(&sixteen.to_bytes()), Ok(sixteen));
    }

    #[test]
    fn non_utf8_strings_are_named() {
        let mut bytes = testing::TVERSION;
        bytes[13] = 0xff;
        let error = expect_error(&bytes, "Tversion", "version", 11);
        assert_eq!(error.reason, "not UTF-8");
        let mut bytes = testing::TWALK;
        bytes[27] = 0xc3; // the start of a two-byte sequence, then 'd'
        expect_error(&bytes, "Twalk", "wname", 22);
        let mut bytes = testing::RERROR;
        bytes[27] = 0x80;
        expect_error(&bytes, "Rerror", "ename", 7);
        let mut bytes = testing::RSTAT;
        bytes[52] = 0xfe; // the name of the stat record
        let error = expect_error(&bytes, "Rstat", "name", 50);
        assert_eq!(error.reason, "not UTF-8");
    }

    #[test]
    fn stat_length_mismatches_are_refused() {
        // n one larger than the record, with a spare byte to cover it.
        let mut bytes = testing::RSTAT.to_vec();
        bytes[7] = 53;
        bytes.push(0);
        let error = expect_error(&sized(bytes), "Rstat", "stat", 7);
        assert_eq!(error.reason, "stat length disagrees with its record");
        // n one smaller than the record: the record runs past what n allows.
        let mut bytes = testing::RSTAT.to_vec();
        bytes[7] = 51;
        let error = expect_error(&bytes, "Rstat", "size", 9);
        assert_eq!(error.reason, "record longer than the data");
        // The record's own size disagrees with its contents: one short, the last string
        // runs out; one long, the record overruns n.
        let mut bytes = testing::RSTAT;
        bytes[9] = 49;
        expect_error(&bytes, "Rstat", "muid", 59);
        bytes[9] = 51;
        expect_error(&bytes, "Rstat", "size", 9);
        // n past the end of the message.
        let mut bytes = testing::RSTAT;
        bytes[7] = 200;
        expect_error(&bytes, "Rstat", "stat", 7);
        // A record shorter than any stat.
        let twstat = sized(vec![0, 0, 0, 0, 126, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
        expect_error(&twstat, "Twstat", "size", 13);
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = Rng::new(0x5eed_0003);
        for _ in 0..20_000 {
            let length = rng.below(80);
            let mut bytes: Vec<u8> = (0..length).map(|_| rng.next() as u8).collect();
            // Most garbage dies on the size field; make most of it get further.
            if length >= HEADER && rng.below(4) != 0 {
                bytes = sized(bytes);
                bytes[4] = 100 + rng.below(28) as u8;
            }
            if let Ok(fcall) = decode(&bytes) {
                assert_eq!(fcall.to_bytes(), bytes);
            }
        }
    }

    #[test]
    fn mutated_messages_never_panic() {
        let mut rng = Rng::new(0x5eed_0004);
        for _ in 0..200 {
            for kind in 0..KINDS {
                let mut bytes = rng.fcall(kind).to_bytes();
                for _ in 0..1 + rng.below(3) {
                    let index = HEADER.min(bytes.len() - 1) + rng.below(bytes.len() - HEADER + 1);
                    if let Some(byte) = bytes.get_mut(index) {
                        *byte = rng.next() as u8;
                    }
                }
                if let Ok(fcall) = decode(&bytes) {
                    assert_eq!(fcall.to_bytes(), bytes);
                }
            }
        }
    }

    #[test]
    fn errors_read_as_sentences() {
        let mut bytes = testing::TWALK;
        bytes[15] = 17;
        let error = decode(&bytes).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bad Twalk: field nwname at offset 15: more than 16 elements"
        );
    }

    #[test]
    fn an_rread_framed_in_place_is_the_encoded_one() {
        let mut message = vec![0u8; RREAD_HEADER];
        message.extend_from_slice(b"hello");
        Fcall::frame_rread(7, &mut message).unwrap();
        let expected = Fcall::new(
            7,
            Msg::Rread {
                data: b"hello".to_vec(),
            },
        );
        assert_eq!(message, expected.to_bytes());
        assert!(Fcall::frame_rread(7, &mut [0u8; 3]).is_none());
    }
}
