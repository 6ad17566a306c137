//! Wall-clock time as the kernel reports it (`/dev/time`, directory entries).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, as a 9P time field holds them.
pub fn now_secs() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as u32)
}

/// Microseconds since the epoch, as `/dev/time` reads.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros() as u64)
}
