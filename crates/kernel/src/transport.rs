//! Byte streams that carry 9P: a pipe end, the console, a posted connection, later a network
//! connection or a serial line. Both 9P adapters, `export` and the mount driver, read and write
//! whole messages through a [`Transport`], so neither cares what the stream is.
//!
//! Invariant: a message is read only after its size field has been checked against the
//! connection's msize, so a peer cannot make us allocate more than msize bytes at a time.

use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::proc::Ctx;
use ninep::HEADER;
use parking_lot::Mutex;
use std::sync::Arc;

/// A stream carrying 9P messages.
pub trait Transport: Send + Sync {
    /// Reads some bytes; 0 is the end of the stream.
    fn read(&self, buf: &mut [u8]) -> Result<usize>;

    /// Reads some bytes for the process of `ctx`, whose interrupt ends the read (the mount
    /// driver reads replies in the threads of the processes waiting for them). Transports
    /// that are not chans read as [`Transport::read`] does.
    fn read_for(&self, ctx: &Ctx, buf: &mut [u8]) -> Result<usize> {
        let _ = ctx;
        self.read(buf)
    }

    /// Writes all of `data`.
    fn write(&self, data: &[u8]) -> Result<()>;

    /// Stops a read in progress and every later one: the session on this transport is over,
    /// though the connection under it may stay up (a serial line, a pipe kept open).
    fn hang_up(&self) {}
}

/// A transport over chans: messages are read from `input` and written to `output` (the same
/// chan for a pipe end or a connection; descriptors 0 and 1 for `export` on the console).
pub struct ChanTransport {
    ctx: Ctx,
    input: Arc<Chan>,
    output: Arc<Chan>,
    write_lock: Mutex<()>,
}

impl ChanTransport {
    pub fn new(ctx: Ctx, input: Arc<Chan>, output: Arc<Chan>) -> ChanTransport {
        ChanTransport {
            ctx,
            input,
            output,
            write_lock: Mutex::new(()),
        }
    }

    /// The chan messages are read from.
    pub fn input(&self) -> &Arc<Chan> {
        &self.input
    }
}

impl Transport for ChanTransport {
    fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.read_for(&self.ctx, buf)
    }

    fn read_for(&self, ctx: &Ctx, buf: &mut [u8]) -> Result<usize> {
        let offset = *self.input.offset.lock();
        let count = ctx.read_chan(&self.input, buf, offset)?;
        *self.input.offset.lock() = offset + count as u64;
        Ok(count)
    }

    fn write(&self, mut data: &[u8]) -> Result<()> {
        let _serial = self.write_lock.lock();
        while !data.is_empty() {
            let offset = *self.output.offset.lock();
            let count = self.ctx.write_chan(&self.output, data, offset)?;
            if count == 0 {
                return Err(Error::Hungup);
            }
            *self.output.offset.lock() = offset + count as u64;
            data = &data[count..];
        }
        Ok(())
    }

    fn hang_up(&self) {
        self.ctx.intr.kill();
    }
}

pub(crate) fn read_exact(transport: &dyn Transport, buf: &mut [u8]) -> Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        let count = transport.read(&mut buf[filled..])?;
        if count == 0 {
            if filled == 0 {
                return Ok(false);
            }
            return Err(Error::msg("connection closed in the middle of a message"));
        }
        filled += count;
    }
    Ok(true)
}

/// Reads one whole message, size field included; None at a clean end of stream. A size
/// below the header or above `msize` is an error: the stream cannot be trusted after it.
pub fn read_message(transport: &dyn Transport, msize: u32) -> Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; 4];
    if !read_exact(transport, &mut prefix)? {
        return Ok(None);
    }
    let size = u32::from_le_bytes(prefix);
    if (size as usize) < HEADER || size > msize {
        return Err(Error::msg(format!(
            "bad 9P message size {size} (msize {msize})"
        )));
    }
    let mut message = vec![0u8; size as usize];
    message[..4].copy_from_slice(&prefix);
    if !read_exact(transport, &mut message[4..])? {
        return Err(Error::msg("connection closed in the middle of a message"));
    }
    Ok(Some(message))
}

/// Whether `EMBER_DEBUG` asks for 9P traces (`EMBER_DEBUG=9p`).
pub fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| {
        std::env::var("EMBER_DEBUG")
            .map(|value| value.split(',').any(|word| word.trim() == "9p"))
            .unwrap_or(false)
    })
}

/// Prints one traced message on the host's standard error.
pub fn trace(direction: &str, who: &str, fcall: &ninep::Fcall) {
    eprintln!("9p {who} {direction} {fcall}");
}

/// An in-memory pair of connected transports, for tests and benchmarks.
pub mod memory {
    use super::Transport;
    use crate::error::{Error, Result};
    use crate::proc::{Ctx, Rendez};
    use parking_lot::{Mutex, MutexGuard};
    use std::collections::VecDeque;
    use std::sync::Arc;

    #[derive(Default)]
    struct Queue {
        bytes: VecDeque<u8>,
        closed: bool,
    }

    #[derive(Default)]
    struct Direction {
        queue: Mutex<Queue>,
        ready: Rendez,
    }

    /// One end of an in-memory connection.
    pub struct End {
        incoming: Arc<Direction>,
        outgoing: Arc<Direction>,
    }

    /// Two connected ends.
    pub fn pair() -> (End, End) {
        let (a, b) = (
            Arc::new(Direction::default()),
            Arc::new(Direction::default()),
        );
        (
            End {
                incoming: a.clone(),
                outgoing: b.clone(),
            },
            End {
                incoming: b,
                outgoing: a,
            },
        )
    }

    impl End {
        /// Closes this end: the other side reads end of file.
        ///
        /// Each direction is closed under its own lock, released before the other is taken:
        /// the two ends take the same two locks, so holding one while taking the other
        /// deadlocks when both ends hang up at once. The incoming direction is closed first,
        /// so a peer that answers our end of file (a server ending its requests) finds us
        /// gone, and a reader here sees the hang-up rather than that answer.
        pub fn hang_up(&self) {
            for direction in [&self.incoming, &self.outgoing] {
                direction.queue.lock().closed = true;
                direction.ready.wakeup();
            }
        }

        /// Takes what has come, waiting with `wait` until something has.
        fn take(
            &self,
            buf: &mut [u8],
            mut wait: impl FnMut(&mut MutexGuard<'_, Queue>) -> Result<()>,
        ) -> Result<usize> {
            let mut queue = self.incoming.queue.lock();
            loop {
                if !queue.bytes.is_empty() {
                    let count = buf.len().min(queue.bytes.len());
                    for (slot, byte) in buf.iter_mut().zip(queue.bytes.drain(..count)) {
                        *slot = byte;
                    }
                    return Ok(count);
                }
                if queue.closed {
                    return Ok(0);
                }
                wait(&mut queue)?;
            }
        }
    }

    impl Drop for End {
        fn drop(&mut self) {
            self.hang_up();
        }
    }

    impl Transport for End {
        fn read(&self, buf: &mut [u8]) -> Result<usize> {
            self.take(buf, |queue| {
                self.incoming.ready.condvar().wait(queue);
                Ok(())
            })
        }

        fn read_for(&self, ctx: &Ctx, buf: &mut [u8]) -> Result<usize> {
            self.take(buf, |queue| ctx.sleep(&self.incoming.ready, queue))
        }

        fn write(&self, data: &[u8]) -> Result<()> {
            let mut queue = self.outgoing.queue.lock();
            if queue.closed {
                return Err(Error::Hungup);
            }
            queue.bytes.extend(data);
            self.outgoing.ready.wakeup();
            Ok(())
        }

        fn hang_up(&self) {
            End::hang_up(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Transport;
    use super::memory;
    use std::sync::{Arc, Barrier, mpsc};
    use std::time::Duration;

    /// Issue 11, finding 10: both ends of an in-memory connection hanging up at the same moment
    /// took the same two locks in opposite orders and deadlocked (the `session` fuzz target
    /// hung on it). Two threads hang up the two ends of many connections in step.
    #[test]
    fn issue11_both_ends_hang_up_at_once() {
        const ROUNDS: usize = 100_000;
        let (left, right): (Vec<_>, Vec<_>) = (0..ROUNDS).map(|_| memory::pair()).unzip();
        let start = Arc::new(Barrier::new(2));
        let (done_tx, done_rx) = mpsc::channel();
        for ends in [left, right] {
            let (start, done_tx) = (start.clone(), done_tx.clone());
            std::thread::spawn(move || {
                start.wait();
                for end in &ends {
                    end.hang_up();
                }
                // Dropping hangs up again, as a finished server's end does.
                drop(ends);
                let _ = done_tx.send(());
            });
        }
        for _ in 0..2 {
            assert!(
                done_rx.recv_timeout(Duration::from_secs(60)).is_ok(),
                "hanging up both ends at once deadlocked"
            );
        }
    }

    #[test]
    fn a_hung_up_end_reads_end_of_file_and_refuses_writes() {
        let (a, b) = memory::pair();
        a.write(b"left").unwrap();
        b.hang_up();
        let mut buf = [0u8; 8];
        assert_eq!(a.read(&mut buf).unwrap(), 0);
        assert!(a.write(b"more").is_err());
        assert_eq!(b.read(&mut buf).unwrap(), 4);
        assert_eq!(b.read(&mut buf).unwrap(), 0);
    }
}
