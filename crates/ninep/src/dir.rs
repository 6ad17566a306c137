//! Directory entries: Plan 9's `Dir` and its machine form, the stat record
//! (`convD2M.c`, `convM2D.c`). Directory reads return whole stat records packed end to end.

use crate::Qid;
use nom::Parser;
use nom::bytes::complete::take;
use nom::number::complete::{le_u8, le_u16, le_u32, le_u64};

/// Bytes of a stat record without its four strings' contents: size[2] type[2] dev[4] qid[13]
/// mode[4] atime[4] mtime[4] length[8] and four 2-byte string lengths.
pub const STATFIXLEN: usize = 2 + 2 + 4 + Qid::WIRE_LEN + 4 + 4 + 4 + 8 + 4 * 2;

/// A directory entry (Plan 9 `Dir`): what stat returns and what a directory read lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dir {
    /// Server type (for kernel use: the device letter).
    pub ty: u16,
    /// Server subtype (device instance).
    pub dev: u32,
    pub qid: Qid,
    /// Permissions and DMDIR/DMAPPEND/... bits.
    pub mode: u32,
    pub atime: u32,
    pub mtime: u32,
    pub length: u64,
    pub name: String,
    pub uid: String,
    pub gid: String,
    /// Last modifier.
    pub muid: String,
}

/// Why bytes could not be decoded: the structure, the field and the byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub what: &'static str,
    pub field: &'static str,
    pub offset: usize,
    pub reason: &'static str,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bad {}: field {} at offset {}: {}",
            self.what, self.field, self.offset, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

type Res<'a, T> = nom::IResult<&'a [u8], T>;

fn string(input: &[u8]) -> Res<'_, &[u8]> {
    let (rest, len) = le_u16(input)?;
    // Complete mode: a short record is an error, not a request for more input.
    take(len as usize).parse_complete(rest)
}

/// The longest prefix of `text` that fits a 9P string (65535 bytes) and ends on a character
/// boundary, so a cut string is still UTF-8 and decodes again.
fn wire_str(text: &str) -> &[u8] {
    let mut end = text.len().min(u16::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text.as_bytes()[..end]
}

impl Dir {
    /// A Dir whose every field means "don't change" in a wstat (Plan 9 `nulldir`).
    pub fn null() -> Dir {
        Dir {
            ty: !0,
            dev: !0,
            qid: Qid::new(!0, !0, !0),
            mode: !0,
            atime: !0,
            mtime: !0,
            length: !0,
            name: String::new(),
            uid: String::new(),
            gid: String::new(),
            muid: String::new(),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.mode & crate::DMDIR != 0
    }

    /// Length of the encoded record, including its own 2-byte size field.
    pub fn encoded_len(&self) -> usize {
        STATFIXLEN + self.name.len() + self.uid.len() + self.gid.len() + self.muid.len()
    }

    /// Appends the stat record. Strings longer than 65535 bytes are cut (on a character
    /// boundary), since the wire cannot carry them.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let strings = [&self.name, &self.uid, &self.gid, &self.muid].map(|field| wire_str(field));
        let total = STATFIXLEN + strings.iter().map(|s| s.len()).sum::<usize>();
        // The size field counts the bytes after itself; a record too large to describe is
        // clipped to the largest size that fits, which a reader then rejects cleanly.
        let size = (total - 2).min(u16::MAX as usize) as u16;
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&self.ty.to_le_bytes());
        out.extend_from_slice(&self.dev.to_le_bytes());
        self.qid.encode(out);
        out.extend_from_slice(&self.mode.to_le_bytes());
        out.extend_from_slice(&self.atime.to_le_bytes());
        out.extend_from_slice(&self.mtime.to_le_bytes());
        out.extend_from_slice(&self.length.to_le_bytes());
        for s in strings {
            out.extend_from_slice(&(s.len() as u16).to_le_bytes());
            out.extend_from_slice(s);
        }
    }

    /// The encoded record as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    /// Decodes one stat record from the front of `bytes`, returning it and the bytes after it.
    pub fn decode(bytes: &[u8]) -> Result<(Dir, &[u8]), DecodeError> {
        Self::decode_at(bytes, 0)
    }

    fn decode_at(bytes: &[u8], base: usize) -> Result<(Dir, &[u8]), DecodeError> {
        let fail = |field: &'static str, offset: usize, reason: &'static str| DecodeError {
            what: "stat",
            field,
            offset: base + offset,
            reason,
        };
        if bytes.len() < 2 {
            return Err(fail("size", 0, "short record"));
        }
        let size = u16::from_le_bytes([bytes[0], bytes[1]]) as usize;
        if size + 2 > bytes.len() {
            return Err(fail("size", 0, "record longer than the data"));
        }
        if size + 2 < STATFIXLEN {
            return Err(fail("size", 0, "record shorter than a stat"));
        }
        let record = &bytes[2..2 + size];
        let rest = &bytes[2 + size..];
        let fixed: Res<'_, _> = (
            le_u16, le_u32, le_u8, le_u32, le_u64, le_u32, le_u32, le_u32, le_u64,
        )
            .parse_complete(record);
        let (after, (ty, dev, qty, qvers, qpath, mode, atime, mtime, length)) =
            fixed.map_err(|_| fail("type", 2, "short record"))?;
        let mut cursor = after;
        let mut strings: [String; 4] = Default::default();
        let names = ["name", "uid", "gid", "muid"];
        for (slot, field) in strings.iter_mut().zip(names) {
            let offset = 2 + (record.len() - cursor.len());
            let (next, raw) = string(cursor).map_err(|_| fail(field, offset, "short string"))?;
            // Checked before it is copied, so nothing is allocated for bytes that are not text.
            *slot = std::str::from_utf8(raw)
                .map_err(|_| fail(field, offset, "not UTF-8"))?
                .to_owned();
            cursor = next;
        }
        if !cursor.is_empty() {
            return Err(fail("size", 0, "trailing bytes in record"));
        }
        let [name, uid, gid, muid] = strings;
        let dir = Dir {
            ty,
            dev,
            qid: Qid::new(qty, qvers, qpath),
            mode,
            atime,
            mtime,
            length,
            name,
            uid,
            gid,
            muid,
        };
        Ok((dir, rest))
    }

    /// Decodes a directory read: whole stat records packed end to end.
    pub fn decode_all(mut bytes: &[u8]) -> Result<Vec<Dir>, DecodeError> {
        let mut dirs = Vec::new();
        let total = bytes.len();
        while !bytes.is_empty() {
            let (dir, rest) = Self::decode_at(bytes, total - bytes.len())?;
            dirs.push(dir);
            bytes = rest;
        }
        Ok(dirs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dir {
        Dir {
            ty: 'U' as u16,
            dev: 3,
            qid: Qid::new(crate::QTDIR, 7, 0x1234_5678_9abc),
            mode: crate::DMDIR | 0o755,
            atime: 1,
            mtime: 2,
            length: 0,
            name: "usr".into(),
            uid: "glenda".into(),
            gid: "glenda".into(),
            muid: "".into(),
        }
    }

    /// A stat record written out by hand from stat(5), so the encoder is checked against the
    /// wire layout rather than against the decoder.
    static SAMPLE_BYTES: [u8; 64] = [
        62, 0, // size
        b'U', 0, // type
        3, 0, 0, 0, // dev
        0x80, 7, 0, 0, 0, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, 0, 0, // qid
        0xed, 0x01, 0, 0x80, // mode
        1, 0, 0, 0, // atime
        2, 0, 0, 0, // mtime
        0, 0, 0, 0, 0, 0, 0, 0, // length
        3, 0, b'u', b's', b'r', // name
        6, 0, b'g', b'l', b'e', b'n', b'd', b'a', // uid
        6, 0, b'g', b'l', b'e', b'n', b'd', b'a', // gid
        0, 0, // muid
    ];

    #[test]
    fn encodes_the_wire_layout() {
        assert_eq!(sample().to_bytes(), SAMPLE_BYTES);
        assert_eq!(sample().encoded_len(), SAMPLE_BYTES.len());
    }

    #[test]
    fn decodes_what_it_encodes() {
        let (dir, rest) = Dir::decode(&SAMPLE_BYTES).unwrap();
        assert!(rest.is_empty());
        assert_eq!(dir, sample());
    }

    #[test]
    fn decode_all_reads_packed_records() {
        let mut bytes = sample().to_bytes();
        let mut second = sample();
        second.name = "tmp".into();
        second.encode(&mut bytes);
        let dirs = Dir::decode_all(&bytes).unwrap();
        assert_eq!(dirs.len(), 2);
        assert_eq!(dirs[1].name, "tmp");
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for cut in 0..SAMPLE_BYTES.len() {
            assert!(Dir::decode(&SAMPLE_BYTES[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn lying_string_length_is_named() {
        let mut bytes = SAMPLE_BYTES;
        bytes[41] = 200; // name length far beyond the record
        let err = Dir::decode(&bytes).unwrap_err();
        assert_eq!(err.field, "name");
        assert_eq!(err.offset, 41);
    }

    #[test]
    fn seeded_random_bytes_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let mut bytes = SAMPLE_BYTES;
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let index = (state % bytes.len() as u64) as usize;
                bytes[index] = (state >> 32) as u8;
            }
            let _ = Dir::decode_all(&bytes);
        }
    }
}
