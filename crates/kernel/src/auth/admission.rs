//! Which callers' handshakes a listener works on at once (no Plan 9 ancestor: Inferno's
//! listener ran each `auth->server` in its own thread without a bound). Every listener of the
//! kernel shares one budget of handshakes in progress, [`Limits::handshakes`].
//!
//! A caller never waits behind stalled ones: when the budget is spent, a newcomer takes the
//! place of the oldest handshake of the address that holds the most places, which is dropped
//! at once. An attacker with many sockets from one address therefore only ever displaces its
//! own; one with many addresses must keep opening connections faster than a good caller
//! finishes its handshake (a few round trips) to keep it out, and a burst of stalled calls
//! is gone as soon as that many newer callers have come.
//!
//! Invariants:
//! - At most `Limits::handshakes` admissions hold a place; a place is given back when its
//!   [`Admission`] is dropped or when it is taken over, never both.
//! - A dropped handshake's interrupt is killed, so its thread ends within one poll round.
//!
//! [`Limits::handshakes`]: crate::limits::Limits::handshakes

use crate::error::{Error, Result};
use crate::limits::{Budget, Grant};
use crate::proc::Interrupt;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The handshakes in progress on the kernel's listeners.
pub struct Admissions {
    budget: Arc<Budget>,
    places: Mutex<Vec<Place>>,
    next: AtomicU64,
}

/// One handshake's place: who holds it, and how to end it.
struct Place {
    serial: u64,
    host: String,
    intr: Arc<Interrupt>,
    dropped: Arc<AtomicBool>,
    grant: Grant,
}

/// A handshake's right to run, held while it does.
pub struct Admission {
    serial: u64,
    admissions: Arc<Admissions>,
    intr: Arc<Interrupt>,
    dropped: Arc<AtomicBool>,
}

impl Admissions {
    pub fn new(max: usize) -> Arc<Admissions> {
        Arc::new(Admissions {
            budget: Budget::new("handshakes", max),
            places: Mutex::new(Vec::new()),
            next: AtomicU64::new(0),
        })
    }

    /// A place for the handshake of a caller from `host` (its address without the port):
    /// a free one, or the place of the oldest handshake of the address that holds the most,
    /// which is ended. Fails only when the budget is zero.
    pub fn admit(self: &Arc<Admissions>, host: &str) -> Result<Admission> {
        let mut places = self.places.lock();
        let grant = match self.budget.try_take() {
            Some(grant) => grant,
            None => {
                let victim = victim(&places).ok_or_else(no_free_handshakes)?;
                let place = places.remove(victim);
                place.dropped.store(true, Ordering::SeqCst);
                place.intr.kill();
                place.grant
            }
        };
        let serial = self.next.fetch_add(1, Ordering::Relaxed);
        let (intr, dropped) = (Interrupt::new(), Arc::new(AtomicBool::new(false)));
        places.push(Place {
            serial,
            host: host.to_string(),
            intr: intr.clone(),
            dropped: dropped.clone(),
            grant,
        });
        Ok(Admission {
            serial,
            admissions: self.clone(),
            intr,
            dropped,
        })
    }

    /// Handshakes in progress now.
    pub fn in_progress(&self) -> usize {
        self.places.lock().len()
    }

    pub fn max(&self) -> usize {
        self.budget.max()
    }
}

/// The index of the place to take over: the oldest of the address holding the most places
/// (of two such addresses, the one whose oldest is older).
fn victim(places: &[Place]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None; // (count, index of its oldest)
    for (index, place) in places.iter().enumerate() {
        let mut count = 0;
        let mut oldest = index;
        for (other_index, other) in places.iter().enumerate() {
            if other.host == place.host {
                count += 1;
                if other.serial < places[oldest].serial {
                    oldest = other_index;
                }
            }
        }
        let better = match best {
            None => true,
            Some((best_count, best_index)) => {
                count > best_count
                    || (count == best_count && places[oldest].serial < places[best_index].serial)
            }
        };
        if better {
            best = Some((count, oldest));
        }
    }
    best.map(|(_, index)| index)
}

impl Admission {
    /// What ends the handshake: killed when its place is taken over.
    pub fn interrupt(&self) -> Arc<Interrupt> {
        self.intr.clone()
    }

    /// Whether a newer caller took this handshake's place.
    pub fn was_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut places = self.admissions.places.lock();
        if let Some(index) = places.iter().position(|place| place.serial == self.serial) {
            places.swap_remove(index);
        }
    }
}

/// What a caller sees when no handshake can be started at all.
pub fn no_free_handshakes() -> Error {
    Error::msg("no free handshakes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newcomer_takes_the_place_of_the_oldest_of_the_busiest_address() {
        let admissions = Admissions::new(3);
        let first = admissions.admit("10.0.0.1").unwrap();
        let second = admissions.admit("10.0.0.2").unwrap();
        let third = admissions.admit("10.0.0.2").unwrap();
        assert_eq!(admissions.in_progress(), 3);
        // Full: 10.0.0.2 holds two places, so its oldest goes, not the older 10.0.0.1.
        let fourth = admissions.admit("10.0.0.3").unwrap();
        assert!(second.was_dropped() && second.interrupt().is_killed());
        assert!(!first.was_dropped() && !third.was_dropped());
        assert_eq!(admissions.in_progress(), 3);
        // A tie: the oldest of all goes.
        let _fifth = admissions.admit("10.0.0.4").unwrap();
        assert!(first.was_dropped());
        assert!(!third.was_dropped() && !fourth.was_dropped());
        // A place taken over is not given back twice.
        drop((first, second));
        assert_eq!(admissions.in_progress(), 3);
        drop(third);
        assert_eq!(admissions.in_progress(), 2);
        let _sixth = admissions.admit("10.0.0.1").unwrap();
        assert!(!fourth.was_dropped());
    }

    #[test]
    fn no_budget_is_a_refusal() {
        let admissions = Admissions::new(0);
        let refused = admissions.admit("10.0.0.1").err().unwrap();
        assert_eq!(refused.to_string(), "no free handshakes");
    }
}
