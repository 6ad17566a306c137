//! `#Gsim`: a simulated 54-line chip (the BCM2835's count) that behaves as hardware does, for
//! machines without GPIO and for tests. It plays both sides of the pins: ember's, through the
//! [`Backend`] calls, and the outside world's, through [`Backend::drive`] (`sim N 0|1|off` on
//! `ctl`).
//!
//! Invariants, the rules of the simulated wire:
//! - an output reads back what it drives, whatever the outside world does;
//! - an input (and a line ember has not taken) reads what the outside world drives, and when
//!   nothing drives it, its pull: up reads 1, down and off read 0 (a floating input is taken to
//!   read 0, where real hardware would read noise);
//! - an edge is reported when the level of an input with edge detection changes, in a
//!   direction it asked for, stamped with the monotonic clock at the change. A change of
//!   configuration that moves the level (a new pull on an undriven input) is a change too;
//!   becoming an input is not.
//! - A released line goes back to an input with no pull; what the outside world drives stays.

use super::backend::{
    Backend, BackendError, Direction, EdgeEvent, EdgeKind, EventSink, LineConfig, Offset, Pull,
    monotonic_ns,
};
use parking_lot::Mutex;

/// Lines of the simulated chip: as many as the BCM2835 (Raspberry Pi 1 to 3) has.
pub const SIM_LINES: u32 = 54;

#[derive(Clone, Copy, Debug, Default)]
struct SimLine {
    /// Set while ember holds the line.
    config: Option<LineConfig>,
    /// What the outside world drives, if anything.
    driven: Option<bool>,
}

impl SimLine {
    fn level(&self) -> bool {
        let config = self.config.unwrap_or_default();
        match config.direction {
            Direction::Output => config.value,
            Direction::Input => self.driven.unwrap_or(config.pull == Pull::Up),
        }
    }

    /// The configuration, while ember holds the line as an input.
    fn watching(&self) -> Option<LineConfig> {
        self.config
            .filter(|config| config.direction == Direction::Input)
    }
}

/// The simulated chip.
pub struct SimChip {
    lines: Mutex<Vec<SimLine>>,
    sink: EventSink,
}

impl SimChip {
    pub fn new(sink: EventSink) -> SimChip {
        SimChip {
            lines: Mutex::new(vec![SimLine::default(); SIM_LINES as usize]),
            sink,
        }
    }

    /// Applies `change` to line `offset` and reports the edge it made, if any.
    fn change(
        &self,
        offset: Offset,
        change: impl FnOnce(&mut SimLine),
    ) -> Result<(), BackendError> {
        let mut lines = self.lines.lock();
        let line = lines
            .get_mut(offset as usize)
            .ok_or_else(|| BackendError::Host(format!("no line {offset}")))?;
        let before = (line.watching(), line.level());
        change(line);
        let after = (line.watching(), line.level());
        if let ((Some(_), old), (Some(config), new)) = (before, after)
            && old != new
        {
            let kind = if new {
                EdgeKind::Rising
            } else {
                EdgeKind::Falling
            };
            if config.edge.wants(kind) {
                (self.sink)(EdgeEvent {
                    offset,
                    kind,
                    timestamp_ns: monotonic_ns(),
                });
            }
        }
        Ok(())
    }
}

impl Backend for SimChip {
    fn name(&self) -> String {
        "sim".to_string()
    }

    fn label(&self) -> String {
        "ember simulated chip".to_string()
    }

    fn line_count(&self) -> u32 {
        SIM_LINES
    }

    fn request(&self, offset: Offset, config: &LineConfig) -> Result<(), BackendError> {
        self.change(offset, |line| line.config = Some(*config))
    }

    fn release(&self, offset: Offset) {
        let _ = self.change(offset, |line| line.config = None);
    }

    fn get(&self, offset: Offset) -> Result<bool, BackendError> {
        self.lines
            .lock()
            .get(offset as usize)
            .map(SimLine::level)
            .ok_or_else(|| BackendError::Host(format!("no line {offset}")))
    }

    fn set(&self, offset: Offset, level: bool) -> Result<(), BackendError> {
        let mut lines = self.lines.lock();
        match lines
            .get_mut(offset as usize)
            .and_then(|line| line.config.as_mut())
        {
            Some(config) if config.direction == Direction::Output => {
                config.value = level;
                Ok(())
            }
            _ => Err(BackendError::Host(format!(
                "line {offset} is not an output"
            ))),
        }
    }

    fn drive(&self, offset: Offset, level: Option<bool>) -> Result<(), BackendError> {
        self.change(offset, |line| line.driven = level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpio::backend::Edge;
    use std::sync::Arc;

    fn chip() -> (SimChip, Arc<Mutex<Vec<EdgeEvent>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink_seen = seen.clone();
        let chip = SimChip::new(Arc::new(move |event| sink_seen.lock().push(event)));
        (chip, seen)
    }

    fn input(pull: Pull, edge: Edge) -> LineConfig {
        LineConfig {
            pull,
            edge,
            ..LineConfig::default()
        }
    }

    #[test]
    fn inputs_float_to_their_pull_and_follow_the_outside_world() {
        let (chip, _) = chip();
        assert!(!chip.get(4).unwrap());
        chip.request(4, &input(Pull::Up, Edge::None)).unwrap();
        assert!(chip.get(4).unwrap());
        chip.drive(4, Some(false)).unwrap();
        assert!(!chip.get(4).unwrap());
        chip.drive(4, None).unwrap();
        assert!(chip.get(4).unwrap());
        chip.request(4, &input(Pull::Down, Edge::None)).unwrap();
        assert!(!chip.get(4).unwrap());
    }

    #[test]
    fn outputs_read_back_what_they_drive() {
        let (chip, _) = chip();
        let output = LineConfig {
            direction: Direction::Output,
            ..LineConfig::default()
        };
        assert!(chip.set(17, true).is_err());
        chip.request(17, &output).unwrap();
        chip.drive(17, Some(true)).unwrap();
        assert!(!chip.get(17).unwrap());
        chip.set(17, true).unwrap();
        assert!(chip.get(17).unwrap());
        chip.release(17);
        assert!(
            chip.get(17).unwrap(),
            "released, it reads the outside world"
        );
        assert!(chip.set(17, false).is_err());
    }

    #[test]
    fn edges_fire_in_the_directions_asked_for() {
        let (chip, seen) = chip();
        chip.request(5, &input(Pull::Off, Edge::Rising)).unwrap();
        chip.drive(5, Some(true)).unwrap();
        chip.drive(5, Some(false)).unwrap();
        chip.drive(5, Some(false)).unwrap();
        chip.request(5, &input(Pull::Off, Edge::Both)).unwrap();
        chip.drive(5, Some(true)).unwrap();
        chip.drive(5, None).unwrap();
        // A pull change moves an undriven input.
        chip.request(5, &input(Pull::Up, Edge::Both)).unwrap();
        let kinds: Vec<(Offset, EdgeKind)> = seen
            .lock()
            .iter()
            .map(|event| (event.offset, event.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (5, EdgeKind::Rising),
                (5, EdgeKind::Rising),
                (5, EdgeKind::Falling),
                (5, EdgeKind::Rising)
            ]
        );
        let stamps: Vec<u64> = seen.lock().iter().map(|event| event.timestamp_ns).collect();
        assert!(stamps.windows(2).all(|pair| pair[0] <= pair[1]));
        assert!(stamps[0] > 0);
    }

    #[test]
    fn lines_without_edge_detection_are_silent() {
        let (chip, seen) = chip();
        chip.drive(6, Some(true)).unwrap();
        chip.request(6, &input(Pull::Off, Edge::None)).unwrap();
        chip.drive(6, Some(false)).unwrap();
        assert!(seen.lock().is_empty());
        assert!(chip.drive(SIM_LINES, Some(true)).is_err());
        assert!(chip.get(SIM_LINES).is_err());
    }
}
