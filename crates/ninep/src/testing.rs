//! Test material shared by the codec and text-form tests: a seeded generator of messages of
//! every kind, and messages written out byte by byte from the 9P2000 manual (intro(5),
//! version(5), walk(5), read(5), stat(5), error(5)), so the encoder is checked against the
//! wire layout rather than against the decoder.

use crate::{Dir, Fcall, MAXWELEM, Msg, NOFID, NOTAG, QTDIR, QTFILE, Qid};

/// A small xorshift generator: reproducible, and no dependency for the sake of tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    /// A number that is often at an edge (0, 1, all ones) and otherwise anything.
    pub fn edgy(&mut self) -> u64 {
        match self.below(5) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            _ => self.next(),
        }
    }

    pub fn u8(&mut self) -> u8 {
        self.edgy() as u8
    }

    pub fn u16(&mut self) -> u16 {
        self.edgy() as u16
    }

    pub fn u32(&mut self) -> u32 {
        self.edgy() as u32
    }

    /// A string built from pieces that stress the text form: quotes, spaces, things that look
    /// like the hex form, control characters, line separators and non-ASCII text.
    pub fn string(&mut self) -> String {
        const PIECES: [&str; 16] = [
            "usr",
            "glenda",
            "'",
            "''",
            " ",
            "x'41'",
            "\n",
            "\t",
            "\r",
            "\u{2028}",
            "日本語",
            "é",
            "-1",
            "\u{0}",
            "(",
            "\u{85}",
        ];
        let mut text = String::new();
        for _ in 0..self.below(5) {
            if self.below(3) == 0 {
                let c = char::from_u32(self.below(0x3000) as u32).unwrap_or('?');
                text.push(c);
            } else {
                text.push_str(PIECES[self.below(PIECES.len())]);
            }
        }
        text
    }

    /// Data that is sometimes text and sometimes any bytes at all.
    pub fn data(&mut self) -> Vec<u8> {
        if self.below(2) == 0 {
            self.string().into_bytes()
        } else {
            (0..self.below(40)).map(|_| self.next() as u8).collect()
        }
    }

    pub fn qid(&mut self) -> Qid {
        let ty = match self.below(3) {
            0 => QTDIR,
            1 => QTFILE,
            _ => self.u8(),
        };
        Qid::new(ty, self.u32(), self.edgy())
    }

    pub fn dir(&mut self) -> Dir {
        if self.below(8) == 0 {
            return Dir::null();
        }
        Dir {
            ty: self.u16(),
            dev: self.u32(),
            qid: self.qid(),
            mode: self.u32(),
            atime: self.u32(),
            mtime: self.u32(),
            length: self.edgy(),
            name: self.string(),
            uid: self.string(),
            gid: self.string(),
            muid: self.string(),
        }
    }

    /// A message of kind `kind` (0..KINDS, one per Msg variant) with random fields.
    pub fn fcall(&mut self, kind: usize) -> Fcall {
        let msg = match kind {
            0 => Msg::Tversion {
                msize: self.u32(),
                version: self.string(),
            },
            1 => Msg::Rversion {
                msize: self.u32(),
                version: self.string(),
            },
            2 => Msg::Tauth {
                afid: self.u32(),
                uname: self.string(),
                aname: self.string(),
            },
            3 => Msg::Rauth { aqid: self.qid() },
            4 => Msg::Rerror {
                ename: self.string(),
            },
            5 => Msg::Tflush { oldtag: self.u16() },
            6 => Msg::Rflush,
            7 => Msg::Tattach {
                fid: self.u32(),
                afid: if self.below(2) == 0 {
                    NOFID
                } else {
                    self.u32()
                },
                uname: self.string(),
                aname: self.string(),
            },
            8 => Msg::Rattach { qid: self.qid() },
            9 => Msg::Twalk {
                fid: self.u32(),
                newfid: self.u32(),
                wnames: (0..self.below(MAXWELEM + 1))
                    .map(|_| self.string())
                    .collect(),
            },
            10 => Msg::Rwalk {
                wqids: (0..self.below(MAXWELEM + 1)).map(|_| self.qid()).collect(),
            },
            11 => Msg::Topen {
                fid: self.u32(),
                mode: self.u8(),
            },
            12 => Msg::Ropen {
                qid: self.qid(),
                iounit: self.u32(),
            },
            13 => Msg::Tcreate {
                fid: self.u32(),
                name: self.string(),
                perm: self.u32(),
                mode: self.u8(),
            },
            14 => Msg::Rcreate {
                qid: self.qid(),
                iounit: self.u32(),
            },
            15 => Msg::Tread {
                fid: self.u32(),
                offset: self.edgy(),
                count: self.u32(),
            },
            16 => Msg::Rread { data: self.data() },
            17 => Msg::Twrite {
                fid: self.u32(),
                offset: self.edgy(),
                data: self.data(),
            },
            18 => Msg::Rwrite { count: self.u32() },
            19 => Msg::Tclunk { fid: self.u32() },
            20 => Msg::Rclunk,
            21 => Msg::Tremove { fid: self.u32() },
            22 => Msg::Rremove,
            23 => Msg::Tstat { fid: self.u32() },
            24 => Msg::Rstat { stat: self.dir() },
            25 => Msg::Twstat {
                fid: self.u32(),
                stat: self.dir(),
            },
            _ => Msg::Rwstat,
        };
        let tag = if self.below(4) == 0 {
            NOTAG
        } else {
            self.u16()
        };
        Fcall::new(tag, msg)
    }
}

/// How many message kinds [`Rng::fcall`] knows: one per `Msg` variant.
pub const KINDS: usize = 27;

/// Version negotiation as the manual describes it: NOTAG, msize 8216 (8192 + IOHDRSZ).
pub static TVERSION: [u8; 19] = [
    19, 0, 0, 0,   // size
    100, // type
    0xff, 0xff, // tag
    0x18, 0x20, 0, 0, // msize 8216
    6, 0, b'9', b'P', b'2', b'0', b'0', b'0', // version
];

pub static RVERSION: [u8; 19] = [
    19, 0, 0, 0, 101, 0xff, 0xff, //
    0x00, 0x20, 0, 0, // msize 8192
    6, 0, b'9', b'P', b'2', b'0', b'0', b'0',
];

pub static TWALK: [u8; 30] = [
    30, 0, 0, 0, 110, 1, 0, //
    0, 0, 0, 0, // fid
    1, 0, 0, 0, // newfid
    2, 0, // nwname
    3, 0, b'u', b's', b'r', //
    6, 0, b'g', b'l', b'e', b'n', b'd', b'a',
];

pub static RWALK: [u8; 35] = [
    35, 0, 0, 0, 111, 1, 0, //
    2, 0, // nwqid
    0x80, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, // type, vers, path
    0x00, 3, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1,
];

pub static TREAD: [u8; 23] = [
    23, 0, 0, 0, 116, 4, 0, //
    1, 0, 0, 0, // fid
    0, 1, 0, 0, 0, 0, 0, 0, // offset 256
    0, 0x20, 0, 0, // count 8192
];

pub static RREAD: [u8; 16] = [
    16, 0, 0, 0, 117, 4, 0, //
    5, 0, 0, 0, b'h', b'e', b'l', b'l', b'o',
];

pub static TWRITE: [u8; 26] = [
    26, 0, 0, 0, 118, 5, 0, //
    1, 0, 0, 0, // fid
    2, 0, 0, 0, 0, 0, 0, 0, // offset
    3, 0, 0, 0, b'h', b'i', b'\n',
];

/// An Rstat: n[2] and then the stat record of stat(5), which has its own size[2].
pub static RSTAT: [u8; 61] = [
    61, 0, 0, 0, 125, 2, 0, //
    52, 0, // n
    50, 0, // size
    0, 0, // type
    0, 0, 0, 0, // dev
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, // qid
    0xa4, 0x01, 0, 0, // mode 0644
    0x00, 0xca, 0x9a, 0x3b, // atime 1000000000
    0x00, 0xca, 0x9a, 0x3b, // mtime
    5, 0, 0, 0, 0, 0, 0, 0, // length
    1, 0, b'a', // name
    1, 0, b'u', // uid
    1, 0, b'g', // gid
    0, 0, // muid
];

pub static RERROR: [u8; 28] = [
    28, 0, 0, 0, 107, 5, 0, //
    19, 0, b'f', b'i', b'l', b'e', b' ', b'd', b'o', b'e', b's', b' ', b'n', b'o', b't', b' ',
    b'e', b'x', b'i', b's', b't',
];

pub static TATTACH: [u8; 25] = [
    25, 0, 0, 0, 104, 1, 0, //
    0, 0, 0, 0, // fid
    0xff, 0xff, 0xff, 0xff, // afid NOFID
    6, 0, b'g', b'l', b'e', b'n', b'd', b'a', // uname
    0, 0, // aname
];

/// The stat record inside [`RSTAT`].
pub fn rstat_dir() -> Dir {
    Dir {
        ty: 0,
        dev: 0,
        qid: Qid::file(1),
        mode: 0o644,
        atime: 1_000_000_000,
        mtime: 1_000_000_000,
        length: 5,
        name: "a".into(),
        uid: "u".into(),
        gid: "g".into(),
        muid: "".into(),
    }
}

/// Each fixture with the message it spells.
pub fn fixtures() -> Vec<(&'static [u8], Fcall)> {
    let version = "9P2000".to_string();
    vec![
        (
            &TVERSION[..],
            Fcall::new(
                NOTAG,
                Msg::Tversion {
                    msize: 8216,
                    version: version.clone(),
                },
            ),
        ),
        (
            &RVERSION[..],
            Fcall::new(
                NOTAG,
                Msg::Rversion {
                    msize: 8192,
                    version,
                },
            ),
        ),
        (
            &TWALK[..],
            Fcall::new(
                1,
                Msg::Twalk {
                    fid: 0,
                    newfid: 1,
                    wnames: vec!["usr".into(), "glenda".into()],
                },
            ),
        ),
        (
            &RWALK[..],
            Fcall::new(
                1,
                Msg::Rwalk {
                    wqids: vec![Qid::dir(0x10), Qid::new(QTFILE, 3, 0x0102_0304_0506_0708)],
                },
            ),
        ),
        (
            &TREAD[..],
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
            &RREAD[..],
            Fcall::new(
                4,
                Msg::Rread {
                    data: b"hello".to_vec(),
                },
            ),
        ),
        (
            &TWRITE[..],
            Fcall::new(
                5,
                Msg::Twrite {
                    fid: 1,
                    offset: 2,
                    data: b"hi\n".to_vec(),
                },
            ),
        ),
        (&RSTAT[..], Fcall::new(2, Msg::Rstat { stat: rstat_dir() })),
        (
            &RERROR[..],
            Fcall::new(
                5,
                Msg::Rerror {
                    ename: "file does not exist".into(),
                },
            ),
        ),
        (
            &TATTACH[..],
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
    ]
}
