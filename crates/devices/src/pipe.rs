//! `#|`: pipes (Inferno `devpipe.c`). Every attach makes a new pipe, a directory holding two
//! cross-connected files, `data` and `data1`: what is written on one is read on the other.
//! `Ctx::pipe` is an attach followed by opening both ends.
//!
//! A pipe keeps message boundaries: each write becomes one block (a write larger than
//! [`MAX_BLOCK`] becomes several), and a read returns bytes from at most one block, leaving
//! what did not fit for the next read; a zero-length write is delivered as a zero-length read.
//!
//! Invariants:
//! - The pipe's state lives in the chans' aux, so the pipe lasts exactly as long as some chan
//!   (a descriptor, a bind, a walk in progress) refers to it.
//! - Each direction holds at most [`QUEUE_LIMIT`] bytes plus one block, and at most
//!   [`MAX_BLOCKS`] blocks: a writer that finds the queue over either limit sleeps until the
//!   reader has drained it to half.
//! - Opens are counted per end. When the last open of an end closes, the other end's reader
//!   sees end of file once the data already queued for it is read, the data queued for the
//!   closed end is thrown away, and writes towards it fail with "write on closed pipe".
//!   An end that has never been opened is not closed: writes towards it queue, as in
//!   Inferno, so a writer may open its end before the reader opens the other.
//! - Every wait is a `Ctx::sleep`, so kills and interrupts end it.

use kernel::dev::{check_open, dir_entry};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Rendez, Result};
use parking_lot::Mutex;
use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest block one write puts in the queue; longer writes are split.
pub const MAX_BLOCK: usize = 128 * 1024;
/// A writer sleeps while more than this many bytes wait in its direction.
pub const QUEUE_LIMIT: usize = 32 * 1024;
/// A writer also sleeps while this many blocks wait (zero-length writes carry no bytes).
pub const MAX_BLOCKS: usize = 1024;

/// Pipe numbers, kernel-wide: each attach takes the next, as its device instance number.
static NEXT_PIPE: AtomicU64 = AtomicU64::new(1);

/// The files of one pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PipeFile {
    Dir,
    /// `data` (end 0) or `data1` (end 1).
    End(usize),
}

impl PipeFile {
    const NAMES: [&'static str; 2] = ["data", "data1"];

    fn name(self) -> &'static str {
        match self {
            PipeFile::Dir => "#|",
            PipeFile::End(end) => PipeFile::NAMES[end],
        }
    }
}

/// A qid path of `#|`: the pipe number above two bits naming the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PipeQid {
    pipe: u64,
    file: PipeFile,
}

impl PipeQid {
    fn pack(self) -> Qid {
        match self.file {
            PipeFile::Dir => Qid::dir(self.pipe << 2),
            PipeFile::End(end) => Qid::file(self.pipe << 2 | (end as u64 + 1)),
        }
    }

    fn unpack(qid: Qid) -> Option<PipeQid> {
        let file = match qid.path & 3 {
            0 => PipeFile::Dir,
            1 => PipeFile::End(0),
            2 => PipeFile::End(1),
            _ => return None,
        };
        Some(PipeQid {
            pipe: qid.path >> 2,
            file,
        })
    }
}

/// One write's bytes, and how much of them has been read.
struct Block {
    data: Vec<u8>,
    start: usize,
}

/// One end of a pipe: how often it is open, and the blocks waiting to be read from it.
#[derive(Default)]
struct End {
    opens: usize,
    /// Set when the last open closed: the other end's reader then sees end of file.
    hungup: bool,
    queue: VecDeque<Block>,
    /// Unread bytes in `queue`.
    queued: usize,
}

impl End {
    fn full(&self) -> bool {
        self.queued > QUEUE_LIMIT || self.queue.len() >= MAX_BLOCKS
    }

    fn drained(&self) -> bool {
        self.queued <= QUEUE_LIMIT / 2 && self.queue.len() <= MAX_BLOCKS / 2
    }
}

/// One pipe, shared by every chan of it through aux.
struct PipeState {
    number: u64,
    owner: String,
    ends: Mutex<[End; 2]>,
    /// `readable[i]`: data or end of file has arrived for end i's readers.
    readable: [Rendez; 2],
    /// `writable[i]`: end i's queue has drained, or end i has closed.
    writable: [Rendez; 2],
}

/// The pipe device.
pub struct Pipe;

impl Pipe {
    pub fn new() -> Pipe {
        Pipe
    }
}

impl Default for Pipe {
    fn default() -> Pipe {
        Pipe::new()
    }
}

fn state(chan: &Chan) -> Result<&PipeState> {
    chan.aux::<PipeState>().ok_or(Error::NotExist)
}

fn file_of(chan: &Chan) -> Result<PipeFile> {
    PipeQid::unpack(chan.qid)
        .map(|qid| qid.file)
        .ok_or(Error::NotExist)
}

fn entry_for(chan: &Chan, pipe: &PipeState, file: PipeFile) -> Dir {
    let qid = PipeQid {
        pipe: pipe.number,
        file,
    }
    .pack();
    match file {
        PipeFile::Dir => dir_entry(chan, qid, file.name(), 0, &pipe.owner, 0o555),
        PipeFile::End(end) => {
            let queued = pipe.ends.lock()[end].queued as u64;
            dir_entry(chan, qid, file.name(), queued, &pipe.owner, 0o660)
        }
    }
}

impl Device for Pipe {
    fn letter(&self) -> char {
        '|'
    }

    fn name(&self) -> &'static str {
        "pipe"
    }

    fn attach(&self, ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        let number = NEXT_PIPE.fetch_add(1, Ordering::Relaxed);
        let pipe = PipeState {
            number,
            owner: ctx.user(),
            ends: Mutex::new([End::default(), End::default()]),
            readable: [Rendez::new(), Rendez::new()],
            writable: [Rendez::new(), Rendez::new()],
        };
        Ok(Attached {
            devno: number,
            qid: PipeQid {
                pipe: number,
                file: PipeFile::Dir,
            }
            .pack(),
            aux: Some(Arc::new(pipe) as Arc<dyn Any + Send + Sync>),
        })
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let pipe = state(chan)?;
        if file_of(chan)? != PipeFile::Dir {
            return Err(Error::NotDir);
        }
        let end = PipeFile::NAMES
            .iter()
            .position(|known| *known == name)
            .ok_or(Error::NotExist)?;
        let mut walked = chan.walked(
            PipeQid {
                pipe: pipe.number,
                file: PipeFile::End(end),
            }
            .pack(),
        );
        // Name resolution renames what it walks, but `Ctx::pipe` walks the device directly;
        // naming the end here makes its descriptors read `#|/data` as in Inferno.
        walked.name = Arc::from(kernel::path::join(&chan.name, name));
        Ok(walked)
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let pipe = state(dir)?;
        if file_of(dir)? != PipeFile::Dir || index >= 2 {
            return Ok(None);
        }
        Ok(Some(entry_for(dir, pipe, PipeFile::End(index))))
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        Ok(entry_for(chan, state(chan)?, file_of(chan)?))
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let pipe = state(&chan)?;
        let file = file_of(&chan)?;
        check_open(ctx, &entry_for(&chan, pipe, file), mode)?;
        if let PipeFile::End(end) = file {
            let mut ends = pipe.ends.lock();
            ends[end].opens += 1;
            // A reopened end is live again: the far reader waits for it instead of seeing
            // end of file.
            ends[end].hungup = false;
        }
        Ok(chan.opened(mode))
    }

    fn close(&self, chan: &Chan) {
        let (Ok(pipe), Ok(PipeFile::End(end))) = (state(chan), file_of(chan)) else {
            return;
        };
        let discarded = {
            let mut ends = pipe.ends.lock();
            let this = &mut ends[end];
            this.opens = this.opens.saturating_sub(1);
            if this.opens > 0 {
                return;
            }
            this.hungup = true;
            this.queued = 0;
            std::mem::take(&mut this.queue)
        };
        // The far reader sees end of file; writers towards this end see it closed.
        pipe.readable[1 - end].wakeup();
        pipe.writable[end].wakeup();
        drop(discarded);
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], _offset: u64) -> Result<usize> {
        let pipe = state(chan)?;
        let PipeFile::End(end) = file_of(chan)? else {
            return Err(Error::IsDir);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let mut ends = pipe.ends.lock();
        loop {
            let this = &mut ends[end];
            if let Some(block) = this.queue.front_mut() {
                let unread = &block.data[block.start..];
                let count = unread.len().min(buf.len());
                buf[..count].copy_from_slice(&unread[..count]);
                block.start += count;
                if block.start == block.data.len() {
                    this.queue.pop_front();
                }
                this.queued -= count;
                if this.drained() {
                    pipe.writable[end].wakeup();
                }
                return Ok(count);
            }
            if ends[1 - end].hungup {
                return Ok(0);
            }
            ctx.sleep(&pipe.readable[end], &mut ends)?;
        }
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let pipe = state(chan)?;
        let PipeFile::End(end) = file_of(chan)? else {
            return Err(Error::IsDir);
        };
        let far = 1 - end;
        let mut ends = pipe.ends.lock();
        let mut written = 0;
        // A zero-length write still makes one (empty) block, so the reader sees it.
        let blocks: Vec<&[u8]> = if data.is_empty() {
            vec![data]
        } else {
            data.chunks(MAX_BLOCK).collect()
        };
        for block in blocks {
            let waited = if ends[far].full() {
                loop {
                    if ends[far].hungup || ends[far].drained() {
                        break Ok(());
                    }
                    if let Err(error) = ctx.sleep(&pipe.writable[far], &mut ends) {
                        break Err(error);
                    }
                }
            } else {
                Ok(())
            };
            let waited = waited.and_then(|()| {
                if ends[far].hungup {
                    Err(Error::ClosedPipe)
                } else {
                    Ok(())
                }
            });
            if let Err(error) = waited {
                // What was already queued stays queued; the caller learns how much.
                return if written > 0 { Ok(written) } else { Err(error) };
            }
            let target = &mut ends[far];
            target.queue.push_back(Block {
                data: block.to_vec(),
                start: 0,
            });
            target.queued += block.len();
            written += block.len();
            pipe.readable[far].wakeup();
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Kernel;
    use ninep::{ORDWR, OREAD, OWRITE};
    use std::thread;
    use std::time::Duration;

    fn kernel() -> Arc<Kernel> {
        let kernel = Kernel::new("test", "testhost");
        kernel.register(Arc::new(Pipe::new())).unwrap();
        kernel
    }

    fn context(kernel: &Arc<Kernel>, name: &str) -> Ctx {
        Ctx::new(kernel.first_proc(name, "test"))
    }

    fn read_string(ctx: &Ctx, chan: &Chan, size: usize) -> Result<String> {
        let mut buf = vec![0u8; size];
        let count = ctx.read_chan(chan, &mut buf, 0)?;
        Ok(String::from_utf8(buf[..count].to_vec()).unwrap())
    }

    /// Waits until `condition` holds, for at most five seconds.
    fn eventually(condition: impl Fn() -> bool) {
        for _ in 0..500 {
            if condition() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("condition never held");
    }

    #[test]
    fn qid_paths_round_trip() {
        for file in [PipeFile::Dir, PipeFile::End(0), PipeFile::End(1)] {
            let qid = PipeQid { pipe: 77, file };
            assert_eq!(PipeQid::unpack(qid.pack()), Some(qid));
        }
        assert_eq!(PipeQid::unpack(Qid::file(3)), None);
    }

    #[test]
    fn each_attach_is_a_new_pipe_listing_both_ends() {
        let kernel = kernel();
        let ctx = context(&kernel, "lister");
        let first = ctx.open_chan("#|", OREAD).unwrap();
        let second = ctx.open_chan("#|", OREAD).unwrap();
        assert_ne!(first.devno, second.devno);
        let names: Vec<String> = ctx
            .read_dir("#|")
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        assert_eq!(names, ["data", "data1"]);
        assert_eq!(
            ctx.open("#|/data2", OREAD).unwrap_err().root(),
            &Error::NotExist
        );
        assert_eq!(ctx.open("#|x", OREAD).unwrap_err().root(), &Error::BadSpec);
    }

    #[test]
    fn ends_are_cross_connected_and_keep_message_boundaries() {
        let kernel = kernel();
        let ctx = context(&kernel, "boundaries");
        let [zero, one] = ctx.pipe_chans().unwrap();
        ctx.write_chan(&zero, b"first", 0).unwrap();
        ctx.write_chan(&zero, b"second", 0).unwrap();
        ctx.write_chan(&one, b"back", 0).unwrap();
        assert_eq!(ctx.stat_chan(&one).unwrap().length, 11);
        assert_eq!(read_string(&ctx, &one, 100).unwrap(), "first");
        // A short buffer takes the front of the block and leaves the rest.
        assert_eq!(read_string(&ctx, &one, 3).unwrap(), "sec");
        assert_eq!(read_string(&ctx, &one, 100).unwrap(), "ond");
        assert_eq!(read_string(&ctx, &zero, 100).unwrap(), "back");
        // A zero-length write is a zero-length read, and the next message follows.
        assert_eq!(ctx.write_chan(&zero, b"", 0).unwrap(), 0);
        ctx.write_chan(&zero, b"after", 0).unwrap();
        assert_eq!(read_string(&ctx, &one, 100).unwrap(), "");
        assert_eq!(read_string(&ctx, &one, 100).unwrap(), "after");
        assert_eq!(ctx.stat_chan(&one).unwrap().length, 0);
    }

    #[test]
    fn large_writes_are_split_into_blocks() {
        let kernel = kernel();
        let writer = context(&kernel, "writer");
        let reader = context(&kernel, "reader");
        let [zero, one] = writer.pipe_chans().unwrap();
        let data: Vec<u8> = (0..MAX_BLOCK + 10).map(|index| index as u8).collect();
        let expected = data.clone();
        let handle = thread::spawn(move || writer.write_chan(&zero, &data, 0));
        let mut buf = vec![0u8; 2 * MAX_BLOCK];
        let first = reader.read_chan(&one, &mut buf, 0).unwrap();
        assert_eq!(first, MAX_BLOCK);
        assert_eq!(buf[..first], expected[..MAX_BLOCK]);
        let second = reader.read_chan(&one, &mut buf, 0).unwrap();
        assert_eq!(buf[..second], expected[MAX_BLOCK..]);
        assert_eq!(handle.join().unwrap().unwrap(), MAX_BLOCK + 10);
    }

    #[test]
    fn blocked_read_is_woken_by_a_write() {
        let kernel = kernel();
        let reader = context(&kernel, "reader");
        let writer = context(&kernel, "writer");
        let [zero, one] = reader.pipe_chans().unwrap();
        let proc = reader.proc.clone();
        let handle = thread::spawn(move || read_string(&reader, &one, 100));
        eventually(|| proc.state() == "release");
        writer.write_chan(&zero, b"wake up", 0).unwrap();
        assert_eq!(handle.join().unwrap().unwrap(), "wake up");
    }

    #[test]
    fn reads_see_end_of_file_after_the_writer_closes() {
        let kernel = kernel();
        let reader = context(&kernel, "reader");
        let [zero, one] = reader.pipe_chans().unwrap();
        reader.write_chan(&zero, b"last words", 0).unwrap();
        let proc = reader.proc.clone();
        let handle = thread::spawn(move || {
            let first = read_string(&reader, &one, 100)?;
            let second = read_string(&reader, &one, 100)?;
            Ok::<_, Error>((first, second))
        });
        eventually(|| proc.state() == "release");
        drop(zero);
        let (first, second) = handle.join().unwrap().unwrap();
        assert_eq!(first, "last words");
        assert_eq!(second, "");
    }

    #[test]
    fn writing_towards_a_closed_end_fails() {
        let kernel = kernel();
        let ctx = context(&kernel, "closed");
        let [zero, one] = ctx.pipe_chans().unwrap();
        drop(one);
        assert_eq!(ctx.write_chan(&zero, b"nobody", 0), Err(Error::ClosedPipe));
        // Through descriptors, as a program sees it.
        let [left, right] = ctx.pipe().unwrap();
        ctx.close(right).unwrap();
        assert_eq!(ctx.write(left, b"x").unwrap_err(), Error::ClosedPipe);
    }

    #[test]
    fn writes_towards_an_end_not_yet_opened_wait_for_it() {
        let kernel = kernel();
        let ctx = context(&kernel, "early");
        let root = ctx.ns().attach(&ctx, '|', "").unwrap();
        let data = root.dev.walk(&ctx, &root, "data").unwrap();
        let writer = root.dev.open(&ctx, data, ninep::OWRITE).unwrap();
        assert_eq!(ctx.write_chan(&writer, b"early", 0), Ok(5));
        let data1 = root.dev.walk(&ctx, &root, "data1").unwrap();
        let reader = root.dev.open(&ctx, data1, ninep::OREAD).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(ctx.read_chan(&reader, &mut buf, 0), Ok(5));
        assert_eq!(&buf[..5], b"early");
    }

    #[test]
    fn the_pipe_lives_while_a_chan_refers_to_it() {
        let kernel = kernel();
        let ctx = context(&kernel, "lives");
        let [zero, one] = ctx.pipe_chans().unwrap();
        // A second open of the same end keeps it alive after the first closes.
        let again = one.dev.open(&ctx, one.clone_unopened(), ORDWR).unwrap();
        drop(one);
        ctx.write_chan(&zero, b"still there", 0).unwrap();
        assert_eq!(read_string(&ctx, &again, 100).unwrap(), "still there");
    }

    #[test]
    fn writers_wait_while_the_queue_is_over_its_limit() {
        let kernel = kernel();
        let writer = context(&kernel, "writer");
        let reader = context(&kernel, "reader");
        let [zero, one] = writer.pipe_chans().unwrap();
        // One write may take the queue over the limit; it is not refused.
        let big = vec![7u8; QUEUE_LIMIT + 1];
        assert_eq!(writer.write_chan(&zero, &big, 0).unwrap(), QUEUE_LIMIT + 1);
        let proc = writer.proc.clone();
        let handle = thread::spawn(move || writer.write_chan(&zero, b"more", 0));
        eventually(|| proc.state() == "release");
        thread::sleep(Duration::from_millis(50));
        assert!(
            !handle.is_finished(),
            "writer should wait for the queue to drain"
        );
        assert_eq!(
            reader.stat_chan(&one).unwrap().length,
            QUEUE_LIMIT as u64 + 1
        );
        // Draining to half lets it go on.
        let mut buf = vec![0u8; QUEUE_LIMIT / 2 + 1];
        assert_eq!(
            reader.read_chan(&one, &mut buf, 0).unwrap(),
            QUEUE_LIMIT / 2 + 1
        );
        assert_eq!(handle.join().unwrap().unwrap(), 4);
        let mut rest = vec![0u8; QUEUE_LIMIT];
        assert_eq!(
            reader.read_chan(&one, &mut rest, 0).unwrap(),
            QUEUE_LIMIT / 2
        );
        assert_eq!(read_string(&reader, &one, 100).unwrap(), "more");
    }

    #[test]
    fn a_blocked_writer_learns_the_reader_went_away() {
        let kernel = kernel();
        let writer = context(&kernel, "writer");
        let [zero, one] = writer.pipe_chans().unwrap();
        writer
            .write_chan(&zero, &vec![0u8; QUEUE_LIMIT + 1], 0)
            .unwrap();
        let proc = writer.proc.clone();
        let handle = thread::spawn(move || writer.write_chan(&zero, b"more", 0));
        eventually(|| proc.state() == "release");
        drop(one);
        assert_eq!(handle.join().unwrap(), Err(Error::ClosedPipe));
    }

    #[test]
    fn interrupt_ends_a_blocked_read() {
        let kernel = kernel();
        let reader = context(&kernel, "reader");
        let [_zero, one] = reader.pipe_chans().unwrap();
        let proc = reader.proc.clone();
        let handle = thread::spawn(move || read_string(&reader, &one, 100));
        eventually(|| proc.state() == "release");
        proc.interrupt();
        assert_eq!(handle.join().unwrap(), Err(Error::Interrupted));
    }

    #[test]
    fn zero_length_writes_cannot_fill_memory() {
        let kernel = kernel();
        let writer = context(&kernel, "writer");
        let [zero, one] = writer.pipe_chans().unwrap();
        for _ in 0..MAX_BLOCKS {
            writer.write_chan(&zero, b"", 0).unwrap();
        }
        let proc = writer.proc.clone();
        let handle = thread::spawn(move || writer.write_chan(&zero, b"", 0));
        eventually(|| proc.state() == "release");
        proc.kill();
        assert_eq!(handle.join().unwrap(), Err(Error::Killed));
        drop(one);
    }

    #[test]
    fn open_modes_are_checked() {
        let kernel = kernel();
        let ctx = context(&kernel, "modes");
        assert_eq!(ctx.open("#|", OWRITE).unwrap_err().root(), &Error::IsDir);
        let stranger = Ctx::new(kernel.first_proc("stranger", "other"));
        let root = ctx.ns().attach(&ctx, '|', "").unwrap();
        let data = root.dev.walk(&ctx, &root, "data").unwrap();
        assert_eq!(
            root.dev.open(&stranger, data, OREAD).unwrap_err(),
            Error::Perm
        );
    }
}
