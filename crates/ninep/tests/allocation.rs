//! Decoding allocates in proportion to the message, never to what the message claims: a
//! Twrite that says 4 GiB follow in a 23-byte message fails before allocating anything. A
//! counting allocator (this test binary's global allocator, so nothing else is affected)
//! measures the bytes allocated by the current thread while a decode runs.
//!
//! The bound for a decode that succeeds is the message's own size plus the fixed vectors a
//! message may hold (at most MAXWELEM names or qids), since a `Vec<String>` of 16 empty names
//! takes more memory than their 32 bytes of wire.

use ninep::{Dir, Fcall, MAXWELEM, Msg, Qid};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Const-initialised and without destructors, so reading them never allocates (which
    // would recurse into the allocator).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATED.try_with(|total| total.set(total.get() + bytes));
        }
    });
}

// Safety: every call is passed straight to the system allocator with the caller's own
// arguments; the only addition is bookkeeping in thread-local cells, which allocates nothing.
// This is a test binary's instrument, not code that ships.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // Safety: the caller upholds GlobalAlloc::alloc's contract, which System shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Safety: `ptr` came from System through `alloc`/`realloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        // Safety: as for dealloc; the caller upholds realloc's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Decodes `bytes` and returns the result with the bytes allocated while doing so.
fn measured(bytes: &[u8]) -> (bool, usize) {
    ALLOCATED.with(|total| total.set(0));
    COUNTING.with(|counting| counting.set(true));
    let decoded = Fcall::decode(bytes, u32::MAX);
    COUNTING.with(|counting| counting.set(false));
    let ok = decoded.is_ok();
    drop(decoded);
    (ok, ALLOCATED.with(Cell::get))
}

fn sized(mut bytes: Vec<u8>) -> Vec<u8> {
    let size = bytes.len() as u32;
    bytes[..4].copy_from_slice(&size.to_le_bytes());
    bytes
}

fn bound(bytes: &[u8]) -> usize {
    bytes.len() + MAXWELEM * std::mem::size_of::<String>()
}

#[test]
fn a_twrite_claiming_4_gib_allocates_nothing() {
    let mut twrite = vec![0, 0, 0, 0, 118, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    twrite.extend_from_slice(&u32::MAX.to_le_bytes());
    let twrite = sized(twrite);
    assert_eq!(twrite.len(), 23);
    assert_eq!(measured(&twrite), (false, 0));
}

#[test]
fn lying_lengths_allocate_nothing() {
    let cases = [
        // Rread claiming 4 GiB.
        sized(vec![0, 0, 0, 0, 117, 1, 0, 0xff, 0xff, 0xff, 0xff, b'x']),
        // Rerror whose ename claims 65535 bytes.
        sized(vec![0, 0, 0, 0, 107, 1, 0, 0xff, 0xff, b'x']),
        // Twalk claiming 16 names with room for none.
        sized(vec![0, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 16, 0]),
        // Rwalk claiming 16 qids with room for one.
        sized([vec![0, 0, 0, 0, 111, 1, 0, 16, 0], vec![0; 13]].concat()),
        // Rstat whose n claims 65535 bytes.
        sized(vec![0, 0, 0, 0, 125, 1, 0, 0xff, 0xff, 0, 0]),
    ];
    for bytes in cases {
        assert_eq!(measured(&bytes), (false, 0), "{bytes:?}");
    }
}

#[test]
fn decoding_allocates_no_more_than_the_message_holds() {
    let long = "n".repeat(4000);
    let messages = [
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec![String::new(); MAXWELEM],
        },
        Msg::Twalk {
            fid: 0,
            newfid: 1,
            wnames: vec![long.clone(); MAXWELEM],
        },
        Msg::Rwalk {
            wqids: vec![Qid::dir(1); MAXWELEM],
        },
        Msg::Rread {
            data: vec![7; 8192],
        },
        Msg::Twrite {
            fid: 1,
            offset: 0,
            data: vec![7; 65000],
        },
        Msg::Rerror {
            ename: long.clone(),
        },
        Msg::Rstat {
            stat: Dir {
                name: long.clone(),
                uid: long.clone(),
                gid: long.clone(),
                muid: long,
                ..Dir::default()
            },
        },
    ];
    for msg in messages {
        let bytes = Fcall::new(1, msg).to_bytes();
        let (ok, allocated) = measured(&bytes);
        assert!(ok);
        // The instrument works: the decoded message's own storage is seen.
        assert!(allocated > 0);
        assert!(
            allocated <= bound(&bytes),
            "{allocated} > {}",
            bound(&bytes)
        );
        // Every truncation (with an honest size field) fails within the same bound.
        for cut in 7..bytes.len() {
            let cut = sized(bytes[..cut].to_vec());
            let (ok, allocated) = measured(&cut);
            assert!(!ok);
            assert!(allocated <= bound(&cut));
        }
    }
}
