//! `#D`: an authenticated connection as a file (Inferno `ssl(3)`, with Noise's transport
//! messages as its records). Reading gives the peer's bytes, decrypted and checked; writing
//! seals the bytes into records (of at most [`super::MAX_PLAIN`] bytes) and sends them on the
//! connection underneath. Its files are made by [`wrap`] after a handshake, never by name.
//!
//! Invariants: records are numbered, so one that is altered, dropped, replayed or reordered
//! fails to open and ends the connection; a read or write interrupted halfway keeps the
//! stream intact (bytes already read stay buffered; a write cut short ends the connection,
//! since the peer could not resynchronise).

use super::{MAX_MESSAGE, Session, TAG};
use crate::chan::Chan;
use crate::dev::{Attached, Device, dir_entry};
use crate::error::{Error, Result};
use crate::proc::Ctx;
use ninep::{Dir, ORDWR, Qid};
use parking_lot::Mutex;
use snow::StatelessTransportState;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The device; its only files are the connections [`wrap`] makes.
pub struct Ssl;

/// The connection under a `#D` file and the state of each direction.
struct SecureConn {
    raw: Arc<Chan>,
    cipher: StatelessTransportState,
    input: Mutex<Input>,
    output: Mutex<Output>,
}

/// The most plaintext a record written here carries: small enough that the peer opens one
/// while the next is sealed, large enough that the per-record costs stay small. (Records up to
/// [`super::MAX_PLAIN`] are accepted.)
const RECORD: usize = 16 * 1024;

/// Room for two largest records: one being opened, the next arriving.
const WIRE: usize = 2 * (2 + MAX_MESSAGE);

struct Input {
    nonce: u64,
    /// Bytes read from the connection; `start..end` are not yet opened.
    wire: Vec<u8>,
    start: usize,
    end: usize,
    /// The last record opened, from `taken`.
    plain: Vec<u8>,
    taken: usize,
    eof: bool,
    broken: Option<Error>,
}

struct Output {
    nonce: u64,
    wire: Vec<u8>,
    broken: bool,
}

/// Makes the file through which the authenticated connection `raw` is used.
pub fn wrap(raw: Arc<Chan>, session: Session) -> Arc<Chan> {
    let name: Arc<str> = raw.name.clone();
    let conn = SecureConn {
        raw,
        cipher: session.cipher,
        input: Mutex::new(Input {
            nonce: session.recv_nonce,
            wire: vec![0; WIRE],
            start: 0,
            end: 0,
            plain: Vec::new(),
            taken: 0,
            eof: false,
            broken: None,
        }),
        output: Mutex::new(Output {
            nonce: session.send_nonce,
            wire: Vec::new(),
            broken: false,
        }),
    };
    let devno = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    Chan::new(
        Arc::new(Ssl),
        devno,
        Qid::file(1),
        Some(Arc::new(conn)),
        name,
    )
    .opened(ORDWR)
}

impl Input {
    /// Opens the next whole record in `wire`, if there is one.
    fn open_record(&mut self, cipher: &StatelessTransportState) -> Result<bool> {
        let available = &self.wire[self.start..self.end];
        if available.len() < 2 {
            return Ok(false);
        }
        let length = u16::from_be_bytes([available[0], available[1]]) as usize;
        if length < TAG {
            return Err(Error::msg("ssl: malformed record"));
        }
        if available.len() < 2 + length {
            return Ok(false);
        }
        self.plain.resize(length - TAG, 0);
        cipher
            .read_message(self.nonce, &available[2..2 + length], &mut self.plain)
            .map_err(|_| Error::msg("ssl: record does not verify (altered, replayed or lost)"))?;
        self.nonce += 1;
        self.taken = 0;
        self.start += 2 + length;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(true)
    }
}

impl SecureConn {
    fn read(&self, ctx: &Ctx, buf: &mut [u8]) -> Result<usize> {
        let mut input = self.input.lock();
        loop {
            if input.taken < input.plain.len() {
                let count = buf.len().min(input.plain.len() - input.taken);
                let from = input.taken;
                buf[..count].copy_from_slice(&input.plain[from..from + count]);
                input.taken += count;
                return Ok(count);
            }
            if let Some(error) = &input.broken {
                return Err(error.clone());
            }
            match input.open_record(&self.cipher) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => {
                    input.broken = Some(error.clone());
                    return Err(error);
                }
            }
            if input.eof {
                if input.start == input.end {
                    return Ok(0);
                }
                let error = Error::msg("ssl: connection closed in the middle of a record");
                input.broken = Some(error.clone());
                return Err(error);
            }
            if input.end == WIRE {
                let (start, end) = (input.start, input.end);
                input.wire.copy_within(start..end, 0);
                input.end -= start;
                input.start = 0;
            }
            let end = input.end;
            match ctx.read_chan(&self.raw, &mut input.wire[end..], 0)? {
                0 => input.eof = true,
                count => input.end += count,
            }
        }
    }

    fn write(&self, ctx: &Ctx, data: &[u8]) -> Result<usize> {
        let mut output = self.output.lock();
        if output.broken {
            return Err(Error::Hungup);
        }
        let output = &mut *output;
        // Each record goes as soon as it is sealed, so the peer opens one while the next is
        // being sealed: on a large write the two ends work at the same time.
        for chunk in data.chunks(RECORD) {
            output.wire.clear();
            output.wire.resize(2 + chunk.len() + TAG, 0);
            let length = self
                .cipher
                .write_message(output.nonce, chunk, &mut output.wire[2..])
                .map_err(|error| Error::msg(format!("ssl: cannot seal: {error}")))?;
            output.wire[..2].copy_from_slice(&(length as u16).to_be_bytes());
            output.nonce += 1;
            let mut sent = 0;
            while sent < output.wire.len() {
                match ctx.write_chan(&self.raw, &output.wire[sent..], 0) {
                    Ok(0) => {
                        output.broken = true;
                        return Err(Error::Hungup);
                    }
                    Ok(count) => sent += count,
                    Err(error) => {
                        // The peer now expects records we never finished: nothing more can go.
                        output.broken = true;
                        return Err(error);
                    }
                }
            }
        }
        Ok(data.len())
    }
}

impl Device for Ssl {
    fn letter(&self) -> char {
        'D'
    }

    fn name(&self) -> &'static str {
        "ssl"
    }

    fn attach(&self, _ctx: &Ctx, _spec: &str) -> Result<Attached> {
        Err(Error::msg(
            "#D connections are made by listen, dial and mount, not by name",
        ))
    }

    fn entry(&self, _ctx: &Ctx, _dir: &Chan, _index: usize) -> Result<Option<Dir>> {
        Ok(None)
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        Ok(dir_entry(chan, chan.qid, "data", 0, &ctx.user(), 0o660))
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], _offset: u64) -> Result<usize> {
        chan.aux::<SecureConn>()
            .ok_or(Error::NotOpen)?
            .read(ctx, buf)
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        chan.aux::<SecureConn>()
            .ok_or(Error::NotOpen)?
            .write(ctx, data)
    }
}
