//! 9P2000: qids, directory entries (stat), mode and open-mode bits, and every message, with
//! their wire encodings and a one-line text form for traces and transcripts. Descends from
//! Plan 9's `fcall.h`/`convD2M.c`/`fcallfmt.c` and Inferno's `styx.h`.
//!
//! Invariants: this crate depends on no other workspace crate and does no I/O; every decode is
//! bounded by the bytes it is given, checks each length before using it, and never panics,
//! returning a [`DecodeError`] that names the field and offset instead; every message's text
//! parses back to the same message, and bad text is a [`TextError`], never a panic.

mod dir;
mod fcall;
mod mode;
#[cfg(test)]
mod testing;
mod text;

pub use dir::{DecodeError, Dir, STATFIXLEN};
pub use fcall::{Fcall, HEADER, Msg, RREAD_HEADER, type_name};
pub use mode::{mode_string, perm_allows};
pub use text::TextError;

/// Qid type bits (the high byte of a directory entry's mode, shifted down).
pub const QTDIR: u8 = 0x80;
pub const QTAPPEND: u8 = 0x40;
pub const QTEXCL: u8 = 0x20;
pub const QTMOUNT: u8 = 0x10;
pub const QTAUTH: u8 = 0x08;
pub const QTTMP: u8 = 0x04;
pub const QTFILE: u8 = 0x00;

/// Directory entry mode bits.
pub const DMDIR: u32 = 0x8000_0000;
pub const DMAPPEND: u32 = 0x4000_0000;
pub const DMEXCL: u32 = 0x2000_0000;
pub const DMMOUNT: u32 = 0x1000_0000;
pub const DMAUTH: u32 = 0x0800_0000;
pub const DMTMP: u32 = 0x0400_0000;
pub const DMREAD: u32 = 0x4;
pub const DMWRITE: u32 = 0x2;
pub const DMEXEC: u32 = 0x1;

/// Open modes, as in Topen/Tcreate.
pub const OREAD: u8 = 0;
pub const OWRITE: u8 = 1;
pub const ORDWR: u8 = 2;
pub const OEXEC: u8 = 3;
pub const OTRUNC: u8 = 0x10;
pub const ORCLOSE: u8 = 0x40;

/// Tags and fids with special meaning.
pub const NOTAG: u16 = 0xFFFF;
pub const NOFID: u32 = 0xFFFF_FFFF;
/// Room for the header of an Rread or Twrite; data per message is msize - IOHDRSZ.
pub const IOHDRSZ: u32 = 24;
/// Most names a single Twalk may carry.
pub const MAXWELEM: usize = 16;
/// Longest file name element Inferno accepts.
pub const NAMEMAX: usize = 256;

/// A server's unique identification of a file (Plan 9 `Qid`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Qid {
    /// QTDIR, QTAPPEND, ... bits.
    pub ty: u8,
    /// Version, bumped when the file changes (0 when the server does not track it).
    pub vers: u32,
    /// Unique within the server.
    pub path: u64,
}

impl Qid {
    pub const fn new(ty: u8, vers: u32, path: u64) -> Qid {
        Qid { ty, vers, path }
    }

    /// A directory qid with version 0.
    pub const fn dir(path: u64) -> Qid {
        Qid {
            ty: QTDIR,
            vers: 0,
            path,
        }
    }

    /// A plain-file qid with version 0.
    pub const fn file(path: u64) -> Qid {
        Qid {
            ty: QTFILE,
            vers: 0,
            path,
        }
    }

    pub const fn is_dir(&self) -> bool {
        self.ty & QTDIR != 0
    }

    /// Size of a qid on the wire.
    pub const WIRE_LEN: usize = 13;

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.ty);
        out.extend_from_slice(&self.vers.to_le_bytes());
        out.extend_from_slice(&self.path.to_le_bytes());
    }
}
