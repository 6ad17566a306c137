//! What `#G` asks of a GPIO chip: the [`Backend`] trait and the values it speaks in. A backend
//! is one chip with a fixed number of lines; it holds a line only between [`Backend::request`]
//! and [`Backend::release`], and reports edges through the [`EventSink`] it was made with.
//!
//! Two backends implement it: the Linux GPIO character device ([`super::cdev`], the hardware
//! registers of Inferno's rpi `devgpio.c` as Linux offers them) and a simulated chip
//! ([`super::sim`]). The device above them keeps the bookkeeping of which line is configured how;
//! a backend only does what it is told, and says no with a [`BackendError`].

use std::fmt;
use std::sync::Arc;

/// A line's number on its chip (Linux calls it the offset; the Pi's BCM number).
pub type Offset = u32;

/// Whether a line reads the outside world or drives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    #[default]
    Input,
    Output,
}

/// The bias resistor of a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pull {
    /// Floating: nothing pulls the line either way.
    #[default]
    Off,
    Up,
    Down,
}

/// Which changes of an input's level are reported as events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Edge {
    #[default]
    None,
    Rising,
    Falling,
    Both,
}

impl Edge {
    /// Whether a change of level in direction `kind` is reported.
    pub fn wants(self, kind: EdgeKind) -> bool {
        matches!(
            (self, kind),
            (Edge::Both, _) | (Edge::Rising, EdgeKind::Rising) | (Edge::Falling, EdgeKind::Falling)
        )
    }
}

/// The direction of one change of level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    Rising,
    Falling,
}

/// Everything a request sets on a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineConfig {
    pub direction: Direction,
    pub pull: Pull,
    pub edge: Edge,
    /// The level an output drives (kept while an input, for when it becomes an output).
    pub value: bool,
}

/// One edge seen on a line, stamped by whoever saw it with the host's monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeEvent {
    pub offset: Offset,
    pub kind: EdgeKind,
    /// Nanoseconds of `CLOCK_MONOTONIC`.
    pub timestamp_ns: u64,
}

/// Where a backend delivers the edges it sees. It may be called from any thread, with the
/// backend's own locks held: it must not call back into the backend.
pub type EventSink = Arc<dyn Fn(EdgeEvent) + Send + Sync>;

/// Why a backend refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendError {
    /// Someone else (another program, another ember) holds the line; `consumer` is the name
    /// they gave, if the host says.
    Busy { consumer: String },
    /// The chip or the host cannot do this.
    Unsupported(String),
    /// `sim` on a chip that is not simulated.
    NotSimulated,
    /// Any other failure, in the host's words.
    Host(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Busy { consumer } if consumer.is_empty() => {
                f.write_str("line busy (held by another program)")
            }
            BackendError::Busy { consumer } => write!(f, "line busy (held by '{consumer}')"),
            BackendError::Unsupported(what) => write!(f, "not supported: {what}"),
            BackendError::NotSimulated => f.write_str("only the simulated chip (#Gsim) has 'sim'"),
            BackendError::Host(text) => f.write_str(text),
        }
    }
}

/// One GPIO chip.
pub trait Backend: Send + Sync {
    /// The chip's name as `#G` attaches it (`sim`, `gpiochip0`).
    fn name(&self) -> String;

    /// What the chip calls itself (`pinctrl-bcm2711`, `gpio-sim`), for diagnostics.
    fn label(&self) -> String;

    /// The number of lines; offsets run from 0 to one less.
    fn line_count(&self) -> u32;

    /// Takes line `offset` for ember with `config`, or changes the configuration of a line
    /// already taken. On failure nothing changed.
    fn request(&self, offset: Offset, config: &LineConfig) -> Result<(), BackendError>;

    /// Gives a line taken with `request` back to the host (nothing if it was not taken).
    fn release(&self, offset: Offset);

    /// The level of a line: of a taken line as configured, of any other line as it is, without
    /// keeping it.
    fn get(&self, offset: Offset) -> Result<bool, BackendError>;

    /// Drives a taken output line.
    fn set(&self, offset: Offset, level: bool) -> Result<(), BackendError>;

    /// The simulated outside world drives the line to `level`, or lets go of it (`None`).
    fn drive(&self, offset: Offset, level: Option<bool>) -> Result<(), BackendError> {
        let _ = (offset, level);
        Err(BackendError::NotSimulated)
    }
}

/// Now, on the host's monotonic clock, in nanoseconds (the clock Linux stamps edges with).
pub fn monotonic_ns() -> u64 {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|now| {
            (now.tv_sec() as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(now.tv_nsec() as u64)
        })
        .unwrap_or(0)
}
