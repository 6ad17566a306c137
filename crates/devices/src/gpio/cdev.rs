//! The Linux GPIO character device (`/dev/gpiochipN`, uAPI v2) as a [`Backend`], through the
//! `gpiocdev` crate: what Inferno's rpi `devgpio.c` does with the BCM2835's registers, done the
//! way Linux lets an ordinary program do it.
//!
//! Each line ember takes is its own line request (its own file descriptor), so lines are taken
//! and given back one at a time, and a line another program holds fails alone, with the name
//! that program gave (`line busy (held by 'gpioset')`). A change of configuration of a line
//! already held reconfigures its request in place, so the line is never let go in between.
//! Reading a line ember does not hold takes it "as is" for the read and gives it back at once.
//!
//! Edges are read by one watcher thread per chip, which polls the requests of the lines with
//! edge detection and a wake-up pipe, and hands each event, with the kernel's timestamp
//! (`CLOCK_MONOTONIC`), to the sink. The thread never blocks anything else: readers of `event`
//! wait in the device, interruptibly.
//!
//! Invariant: when [`Backend::release`] returns, the line is free for anyone to request: the
//! watcher has let go of its copy of the request (the releaser waits for it to say so, a matter
//! of a poll wake-up). No `unsafe`: the crate owns every ioctl.

use super::backend::{
    Backend, BackendError, Direction, Edge, EdgeEvent, EdgeKind, EventSink, LineConfig, Offset,
    Pull,
};
use gpiocdev::line::{Bias, EdgeDetection, Value};
use gpiocdev::request::{Config, Request};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The name ember gives its line requests (what `gpioinfo` shows as the consumer).
pub const CONSUMER: &str = "ember";

/// Longest a release waits for the watcher to let go of the request.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Finds the chip `spec` names: empty for the host's first chip, else a device name
/// (`gpiochip0`) or a chip label (`pinctrl-bcm2711`). Returns its path.
pub fn find_chip(spec: &str) -> Result<PathBuf, String> {
    let chips = host_chips();
    if spec.is_empty() {
        return chips
            .into_iter()
            .next()
            .ok_or_else(|| "no GPIO chip on this host (-G sim gives a simulated one)".to_string());
    }
    let simple = spec
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | ':'));
    if !simple || spec.starts_with('.') {
        return Err(format!("bad GPIO chip name '{spec}'"));
    }
    let by_name = Path::new("/dev").join(spec);
    if let Ok(path) = gpiocdev::chip::is_chip(&by_name) {
        return Ok(path);
    }
    for path in chips {
        let label = gpiocdev::Chip::from_path(&path)
            .and_then(|chip| chip.info())
            .map(|info| info.label);
        if label.as_deref() == Ok(spec) {
            return Ok(path);
        }
    }
    Err(format!("no GPIO chip named '{spec}'"))
}

/// The host's GPIO chips, in number order. Only `/dev/gpiochip*` is looked at (as udev names
/// them), which keeps this cheap enough for every boot.
pub fn host_chips() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/dev") else {
        return Vec::new();
    };
    let mut chips: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("gpiochip"))
        .filter_map(|entry| gpiocdev::chip::is_chip(entry.path()).ok())
        .collect();
    chips.sort_by(|a, b| gpiocdev::chip::path_compare(a, b));
    chips.dedup();
    chips
}

/// Whether this host has a GPIO chip at all.
pub fn host_has_chip() -> bool {
    !host_chips().is_empty()
}

/// A line ember holds: its request, and whether the watcher should poll it.
struct Held {
    request: Arc<Request>,
    watched: bool,
}

/// What the chip and its watcher share.
struct Shared {
    held: Mutex<BTreeMap<Offset, Held>>,
    /// Bumped by every change to which requests are watched; the watcher copies it into
    /// `seen` once it has dropped its old copies and taken new ones.
    generation: Mutex<Generations>,
    caught_up: Condvar,
    /// The watcher's wake-up: a byte written here ends its poll.
    wake_write: OwnedFd,
}

#[derive(Default)]
struct Generations {
    wanted: u64,
    seen: u64,
    closing: bool,
}

impl Shared {
    /// Tells the watcher to look again, and waits until it has.
    fn resync(&self) {
        let mut generation = self.generation.lock();
        generation.wanted += 1;
        let wanted = generation.wanted;
        let _ = nix::unistd::write(&self.wake_write, b"w");
        let deadline = std::time::Instant::now() + RELEASE_WAIT;
        while generation.seen < wanted && !generation.closing {
            if self
                .caught_up
                .wait_until(&mut generation, deadline)
                .timed_out()
            {
                break;
            }
        }
    }
}

/// One GPIO chip of the host.
pub struct CdevChip {
    path: PathBuf,
    name: String,
    label: String,
    lines: u32,
    shared: Arc<Shared>,
    watcher: Option<JoinHandle<()>>,
}

impl CdevChip {
    /// Opens the chip at `path`; edges go to `sink`.
    pub fn open(path: &Path, sink: EventSink) -> Result<CdevChip, String> {
        let chip = gpiocdev::Chip::from_path(path).map_err(|error| describe_open(path, &error))?;
        let info = chip.info().map_err(|error| describe_open(path, &error))?;
        let (wake_read, wake_write) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)
                .map_err(|error| format!("gpio: cannot make a pipe: {}", error.desc()))?;
        let shared = Arc::new(Shared {
            held: Mutex::new(BTreeMap::new()),
            generation: Mutex::new(Generations::default()),
            caught_up: Condvar::new(),
            wake_write,
        });
        let watching = shared.clone();
        let watcher = std::thread::Builder::new()
            .name(format!("gpio {}", info.name).chars().take(15).collect())
            .stack_size(128 << 10)
            .spawn(move || watch(&watching, &wake_read, &sink))
            .map_err(|error| format!("gpio: cannot start the edge watcher: {error}"))?;
        Ok(CdevChip {
            path: path.to_path_buf(),
            name: info.name,
            label: info.label,
            lines: info.num_lines,
            shared,
            watcher: Some(watcher),
        })
    }

    /// Who holds line `offset`, as the kernel reports it.
    fn consumer(&self, offset: Offset) -> String {
        gpiocdev::Chip::from_path(&self.path)
            .and_then(|chip| chip.line_info(offset))
            .map(|info| info.consumer)
            .unwrap_or_default()
    }

    fn refusal(&self, offset: Offset, error: &gpiocdev::Error) -> BackendError {
        match errno_of(error) {
            Some(libc::EBUSY) => BackendError::Busy {
                consumer: self.consumer(offset),
            },
            // 524 is the kernel's own ENOTSUPP, which some drivers let escape.
            Some(libc::EINVAL | libc::EOPNOTSUPP | 524) => {
                BackendError::Unsupported(format!("the chip refused this configuration ({error})"))
            }
            Some(libc::EPERM | libc::EACCES) => {
                BackendError::Host(format!("{}: permission denied", self.path.display()))
            }
            _ => BackendError::Host(error.to_string()),
        }
    }

    fn config(&self, offset: Offset, line: &LineConfig) -> Config {
        let mut config = Config::default();
        config.on_chip(&self.path).with_line(offset);
        match line.direction {
            Direction::Input => config.as_input(),
            Direction::Output => config.as_output(Value::from(line.value)),
        };
        config.with_bias(match line.pull {
            Pull::Off => Bias::Disabled,
            Pull::Up => Bias::PullUp,
            Pull::Down => Bias::PullDown,
        });
        config.with_edge_detection(match line.edge {
            Edge::None => None,
            Edge::Rising => Some(EdgeDetection::RisingEdge),
            Edge::Falling => Some(EdgeDetection::FallingEdge),
            Edge::Both => Some(EdgeDetection::BothEdges),
        });
        config
    }
}

/// The errno behind a failed call, if there is one.
fn errno_of(error: &gpiocdev::Error) -> Option<i32> {
    match error {
        gpiocdev::Error::Os(errno) => Some(errno.0),
        gpiocdev::Error::Uapi(_, gpiocdev_uapi::Error::Os(errno)) => Some(errno.0),
        _ => None,
    }
}

fn describe_open(path: &Path, error: &gpiocdev::Error) -> String {
    match errno_of(error) {
        Some(libc::EACCES | libc::EPERM) => format!(
            "{}: permission denied (is the user in the group that owns it, 'gpio' on Raspberry Pi OS?)",
            path.display()
        ),
        Some(libc::ENOENT) => format!("{}: file does not exist", path.display()),
        _ => format!("{}: {error}", path.display()),
    }
}

impl Drop for CdevChip {
    fn drop(&mut self) {
        self.shared.generation.lock().closing = true;
        let _ = nix::unistd::write(&self.shared.wake_write, b"q");
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        // The requests go with `shared`, which releases every line.
    }
}

impl Backend for CdevChip {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn label(&self) -> String {
        self.label.clone()
    }

    fn line_count(&self) -> u32 {
        self.lines
    }

    fn request(&self, offset: Offset, line: &LineConfig) -> Result<(), BackendError> {
        let config = self.config(offset, line);
        let watched = line.edge != Edge::None;
        let mut held = self.shared.held.lock();
        let was_watched = match held.get_mut(&offset) {
            Some(existing) => {
                existing
                    .request
                    .reconfigure(&config)
                    .map_err(|error| self.refusal(offset, &error))?;
                std::mem::replace(&mut existing.watched, watched)
            }
            None => {
                let request = Request::from_config(config)
                    .with_consumer(CONSUMER)
                    .request()
                    .map_err(|error| self.refusal(offset, &error))?;
                held.insert(
                    offset,
                    Held {
                        request: Arc::new(request),
                        watched,
                    },
                );
                false
            }
        };
        drop(held);
        if watched || was_watched {
            self.shared.resync();
        }
        Ok(())
    }

    fn release(&self, offset: Offset) {
        let removed = self.shared.held.lock().remove(&offset);
        if let Some(removed) = removed {
            if removed.watched {
                // The watcher may be polling this request: wait until it has let go, so that
                // dropping ours below really frees the line.
                self.shared.resync();
            }
            drop(removed);
        }
    }

    fn get(&self, offset: Offset) -> Result<bool, BackendError> {
        let request = self
            .shared
            .held
            .lock()
            .get(&offset)
            .map(|held| held.request.clone());
        match request {
            Some(request) => request
                .value(offset)
                .map(bool::from)
                .map_err(|error| self.refusal(offset, &error)),
            None => {
                let request = Request::builder()
                    .on_chip(&self.path)
                    .with_consumer(CONSUMER)
                    .with_line(offset)
                    .as_is()
                    .request()
                    .map_err(|error| self.refusal(offset, &error))?;
                request
                    .value(offset)
                    .map(bool::from)
                    .map_err(|error| self.refusal(offset, &error))
            }
        }
    }

    fn set(&self, offset: Offset, level: bool) -> Result<(), BackendError> {
        let held = self.shared.held.lock();
        let request = held
            .get(&offset)
            .ok_or_else(|| BackendError::Host(format!("line {offset} is not held")))?;
        request
            .request
            .set_value(offset, Value::from(level))
            .map_err(|error| self.refusal(offset, &error))
    }
}

/// The watcher thread: polls the watched requests and the wake-up pipe, and passes every edge
/// to the sink, until the chip closes.
fn watch(shared: &Shared, wake_read: &OwnedFd, sink: &EventSink) {
    loop {
        let watched: Vec<(Offset, Arc<Request>)> = {
            let held = shared.held.lock();
            let mut generation = shared.generation.lock();
            if generation.closing {
                return;
            }
            generation.seen = generation.wanted;
            shared.caught_up.notify_all();
            held.iter()
                .filter(|(_, line)| line.watched)
                .map(|(offset, line)| (*offset, line.request.clone()))
                .collect()
        };
        let mut fds = vec![PollFd::new(wake_read.as_fd(), PollFlags::POLLIN)];
        fds.extend(
            watched
                .iter()
                .map(|(_, request)| PollFd::new(request.as_fd(), PollFlags::POLLIN)),
        );
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|events| !events.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            let mut drain = [0u8; 64];
            while matches!(nix::unistd::read(wake_read, &mut drain), Ok(count) if count > 0) {}
        }
        for ((_, request), ready) in watched.iter().zip(&ready[1..]) {
            if !*ready {
                continue;
            }
            let mut delivered = 0;
            while request.has_edge_event().unwrap_or(false) {
                delivered += 1;
                match request.read_edge_event() {
                    Ok(event) => sink(EdgeEvent {
                        offset: event.offset,
                        kind: match event.kind {
                            gpiocdev::line::EdgeKind::Rising => EdgeKind::Rising,
                            gpiocdev::line::EdgeKind::Falling => EdgeKind::Falling,
                        },
                        timestamp_ns: event.timestamp_ns,
                    }),
                    Err(_) => break,
                }
            }
            if delivered == 0 {
                // Ready with nothing to read (an error or hang-up on the request): do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // `watched` drops here, before the next generation is acknowledged.
    }
}
