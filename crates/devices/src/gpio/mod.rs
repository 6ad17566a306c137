//! `#G`: general-purpose I/O pins (Inferno rpi's and 9front's `devgpio.c`), over a [`Backend`]:
//! the host's Linux GPIO character device, or a simulated chip. `#G` attaches the host's first
//! chip (or the default set with ember's `-G`), `#Gsim` the simulated chip, `#Gname` a chip by
//! device name or label. The tree is one directory, `gpio`, holding `ctl`, `event` and one file
//! per line, named by its offset (`17`): bound after `/dev` it gives `/dev/gpio/17`.
//!
//! - `ctl`: write verbs, one per line (`CTL_TABLE`): `function N in|out`, `set N 0|1`,
//!   `pull N up|down|off` (Inferno's `pullup N`, `pulldown N`, `float N`), `edge N
//!   rising|falling|both|none`, `release N`, and on the simulated chip `sim N 0|1|off`. Read:
//!   one line per configured pin, `N function pull level edge`.
//! - `N`: read `0\n` or `1\n`; write `0` or `1` to an output.
//! - `event`: a read waits for an edge and returns lines `N rising|falling nanoseconds`.
//!
//! Invariants:
//! - One chip, one state: every attach of the same chip in a kernel shares one [`Chip`], so the
//!   processes of an ember share its lines, as the processes of a Plan 9 machine share its
//!   hardware. Another program (or another ember) that asks for a line this one holds gets
//!   "line busy" from the host, and so do we.
//! - A line is held (requested from the host) from the first verb that configures it until
//!   `release N`, or until nothing refers to the chip any more (no bind, no open file), when
//!   every line is given back. Reading a line that is not held holds it only for the read.
//! - A failed verb leaves the line as it was.
//! - Edges wait in one queue per chip, at most [`EVENT_QUEUE`] of them (the oldest go first);
//!   each is read once. Readers wait only through `Ctx::sleep`, so a kill, an interrupt or a
//!   9P Tflush ends the wait.

mod backend;
pub mod cdev;
pub mod sim;

pub use backend::{
    Backend, BackendError, Direction, Edge, EdgeEvent, EdgeKind, EventSink, LineConfig, Offset,
    Pull, monotonic_ns,
};

use kernel::dev::{dir_entry, read_str};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Rendez, Result};
use parking_lot::Mutex;
use std::any::Any;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// Most edges that wait to be read; past it the oldest are dropped.
pub const EVENT_QUEUE: usize = 1024;
/// Longest write `ctl` takes.
const MAX_CTL: usize = 8192;

/// Chip instance numbers, kernel-wide, as the device number of their chans.
static NEXT_CHIP: AtomicU64 = AtomicU64::new(1);

/// The files of `#G`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GpioFile {
    /// `#G` itself, holding `gpio`.
    Root,
    /// `gpio`.
    Dir,
    Ctl,
    Event,
    /// One line, by offset.
    Pin(Offset),
}

impl GpioFile {
    /// Qid path: the line's offset above eight bits naming the kind of file.
    fn pack(self) -> Qid {
        match self {
            GpioFile::Root => Qid::dir(0),
            GpioFile::Dir => Qid::dir(1),
            GpioFile::Ctl => Qid::file(2),
            GpioFile::Event => Qid::file(3),
            GpioFile::Pin(offset) => Qid::file(u64::from(offset) << 8 | 4),
        }
    }

    fn unpack(qid: Qid) -> Option<GpioFile> {
        let offset = Offset::try_from(qid.path >> 8).ok()?;
        match (qid.path & 0xff, offset) {
            (0, 0) => Some(GpioFile::Root),
            (1, 0) => Some(GpioFile::Dir),
            (2, 0) => Some(GpioFile::Ctl),
            (3, 0) => Some(GpioFile::Event),
            (4, offset) => Some(GpioFile::Pin(offset)),
            _ => None,
        }
    }
}

/// The edges a chip has seen and no one has read yet.
#[derive(Default)]
struct Events {
    queue: Mutex<VecDeque<EdgeEvent>>,
    ready: Rendez,
}

impl Events {
    fn push(&self, event: EdgeEvent) {
        let mut queue = self.queue.lock();
        if queue.len() >= EVENT_QUEUE {
            queue.pop_front();
        }
        queue.push_back(event);
        self.ready.wakeup();
    }
}

/// One attached chip: its backend, the lines ember holds on it and how, and its edges.
/// Shared by every chan of every attach of the chip, and gone with the last of them.
struct Chip {
    number: u64,
    backend: Box<dyn Backend>,
    /// The lines held, with the configuration each was given.
    held: Mutex<BTreeMap<Offset, LineConfig>>,
    events: Arc<Events>,
}

impl Drop for Chip {
    fn drop(&mut self) {
        for offset in std::mem::take(&mut *self.held.lock()).into_keys() {
            self.backend.release(offset);
        }
    }
}

/// The verbs of `ctl` (Plan 9 `Cmdtab`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Function,
    Set,
    Pull,
    PullUp,
    PullDown,
    Float,
    Edge,
    Release,
    Sim,
}

/// Verb, its word, the number of words with it, and its usage.
const CTL_TABLE: [(Verb, &str, usize, &str); 9] = [
    (Verb::Function, "function", 3, "function N in|out"),
    (Verb::Set, "set", 3, "set N 0|1"),
    (Verb::Pull, "pull", 3, "pull N up|down|off"),
    (Verb::PullUp, "pullup", 2, "pullup N"),
    (Verb::PullDown, "pulldown", 2, "pulldown N"),
    (Verb::Float, "float", 2, "float N"),
    (Verb::Edge, "edge", 3, "edge N rising|falling|both|none"),
    (Verb::Release, "release", 2, "release N"),
    (Verb::Sim, "sim", 3, "sim N 0|1|off"),
];

/// One parsed control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Function(Offset, Direction),
    Set(Offset, bool),
    Pull(Offset, Pull),
    Edge(Offset, Edge),
    Release(Offset),
    Sim(Offset, Option<bool>),
}

/// Parses a pin number against a chip of `lines` lines.
fn parse_pin(word: &str, lines: u32) -> Result<Offset> {
    let range = if lines == 0 {
        "the chip has no pins".to_string()
    } else {
        format!("pins are 0 to {}", lines - 1)
    };
    let digits = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        let shown: String = word.chars().take(20).collect();
        return Err(Error::msg(format!("bad pin '{shown}': {range}")));
    }
    match word.parse::<Offset>() {
        Ok(offset) if offset < lines => Ok(offset),
        _ => {
            let shown: String = word.chars().take(20).collect();
            Err(Error::msg(format!("no pin {shown}: {range}")))
        }
    }
}

/// Parses `0` or `1`.
fn parse_level(word: &str) -> Option<bool> {
    match word {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

/// Parses one line of a `ctl` write against [`CTL_TABLE`], for a chip of `lines` lines.
fn parse_command(line: &str, lines: u32) -> Result<Command> {
    let words = kernel::text::tokenize(line);
    let Some(first) = words.first() else {
        return Err(Error::BadCtl);
    };
    let (verb, _, count, usage) = CTL_TABLE
        .iter()
        .find(|(_, name, _, _)| name == first)
        .ok_or_else(|| Error::msg(format!("unknown control message '{first}'")))?;
    if words.len() != *count {
        return Err(Error::msg(format!("usage: {usage}")));
    }
    let pin = parse_pin(&words[1], lines)?;
    let argument = words.get(2).map(String::as_str).unwrap_or("");
    let bad = |what: &str| Error::msg(format!("{what} '{argument}'; usage: {usage}"));
    let command = match verb {
        Verb::Function => Command::Function(
            pin,
            match argument {
                "in" | "input" => Direction::Input,
                "out" | "output" => Direction::Output,
                "alt0" | "alt1" | "alt2" | "alt3" | "alt4" | "alt5" | "pulse" => {
                    return Err(Error::msg(format!(
                        "function {argument} is not supported: Linux's GPIO interface offers only in and out"
                    )));
                }
                _ => return Err(bad("unknown function")),
            },
        ),
        Verb::Set => Command::Set(pin, parse_level(argument).ok_or_else(|| bad("bad level"))?),
        Verb::Pull => Command::Pull(
            pin,
            match argument {
                "up" => Pull::Up,
                "down" => Pull::Down,
                "off" | "none" | "float" => Pull::Off,
                _ => return Err(bad("unknown pull")),
            },
        ),
        Verb::PullUp => Command::Pull(pin, Pull::Up),
        Verb::PullDown => Command::Pull(pin, Pull::Down),
        Verb::Float => Command::Pull(pin, Pull::Off),
        Verb::Edge => Command::Edge(
            pin,
            match argument {
                "rising" => Edge::Rising,
                "falling" => Edge::Falling,
                "both" => Edge::Both,
                "none" => Edge::None,
                _ => return Err(bad("unknown edge")),
            },
        ),
        Verb::Release => Command::Release(pin),
        Verb::Sim => Command::Sim(
            pin,
            match argument {
                "off" => None,
                level => Some(parse_level(level).ok_or_else(|| bad("bad level"))?),
            },
        ),
    };
    Ok(command)
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Input => "in",
        Direction::Output => "out",
    }
}

fn pull_word(pull: Pull) -> &'static str {
    match pull {
        Pull::Off => "off",
        Pull::Up => "up",
        Pull::Down => "down",
    }
}

fn edge_word(edge: Edge) -> &'static str {
    match edge {
        Edge::None => "none",
        Edge::Rising => "rising",
        Edge::Falling => "falling",
        Edge::Both => "both",
    }
}

/// One line of `event`.
fn event_line(event: &EdgeEvent) -> String {
    let kind = match event.kind {
        EdgeKind::Rising => "rising",
        EdgeKind::Falling => "falling",
    };
    format!("{} {kind} {}\n", event.offset, event.timestamp_ns)
}

fn not_an_output(pin: Offset) -> Error {
    Error::msg(format!(
        "pin {pin} is not an output (make it one with 'function {pin} out')"
    ))
}

impl Chip {
    fn backend_error(pin: Offset, error: BackendError) -> Error {
        match error {
            BackendError::NotSimulated => Error::msg(format!("sim: {error}")),
            error => Error::msg(format!("pin {pin}: {error}")),
        }
    }

    /// Changes the configuration of `pin` with `change`, starting from what it has (or from
    /// an input with no pull and no edges), and holds the line with it.
    fn configure(&self, pin: Offset, change: impl FnOnce(&mut LineConfig)) -> Result<()> {
        let mut held = self.held.lock();
        let old = held.get(&pin).copied();
        let mut new = old.unwrap_or_default();
        change(&mut new);
        if old == Some(new) {
            return Ok(());
        }
        self.backend
            .request(pin, &new)
            .map_err(|error| Chip::backend_error(pin, error))?;
        held.insert(pin, new);
        Ok(())
    }

    fn apply(&self, command: Command) -> Result<()> {
        match command {
            Command::Function(pin, direction) => self.configure(pin, |config| {
                config.direction = direction;
                // Linux refuses edge detection on an output; becoming one turns it off.
                if direction == Direction::Output {
                    config.edge = Edge::None;
                }
            }),
            Command::Set(pin, level) => self.set(pin, level),
            Command::Pull(pin, pull) => self.configure(pin, |config| config.pull = pull),
            Command::Edge(pin, edge) => {
                let output = self
                    .held
                    .lock()
                    .get(&pin)
                    .is_some_and(|config| config.direction == Direction::Output);
                if output && edge != Edge::None {
                    return Err(Error::msg(format!(
                        "pin {pin} is an output: edge detection needs an input"
                    )));
                }
                self.configure(pin, |config| config.edge = edge)
            }
            Command::Release(pin) => {
                let mut held = self.held.lock();
                if held.remove(&pin).is_some() {
                    self.backend.release(pin);
                }
                Ok(())
            }
            Command::Sim(pin, level) => self
                .backend
                .drive(pin, level)
                .map_err(|error| Chip::backend_error(pin, error)),
        }
    }

    /// Drives output `pin` to `level`.
    fn set(&self, pin: Offset, level: bool) -> Result<()> {
        let mut held = self.held.lock();
        match held.get_mut(&pin) {
            Some(config) if config.direction == Direction::Output => {
                self.backend
                    .set(pin, level)
                    .map_err(|error| Chip::backend_error(pin, error))?;
                config.value = level;
                Ok(())
            }
            _ => Err(not_an_output(pin)),
        }
    }

    fn level(&self, pin: Offset) -> Result<bool> {
        self.backend
            .get(pin)
            .map_err(|error| Chip::backend_error(pin, error))
    }

    /// What reading `ctl` gives: one line per held pin.
    fn ctl_text(&self) -> String {
        let held: Vec<(Offset, LineConfig)> = self
            .held
            .lock()
            .iter()
            .map(|(pin, config)| (*pin, *config))
            .collect();
        let mut text = String::new();
        for (pin, config) in held {
            let level = match self.backend.get(pin) {
                Ok(true) => "1",
                Ok(false) => "0",
                Err(_) => "?",
            };
            text.push_str(&format!(
                "{pin} {} {} {level} {}\n",
                direction_word(config.direction),
                pull_word(config.pull),
                edge_word(config.edge)
            ));
        }
        text
    }

    fn write_ctl(&self, data: &[u8]) -> Result<usize> {
        if data.len() > MAX_CTL {
            return Err(Error::msg("control message too long"));
        }
        let text = std::str::from_utf8(data).map_err(|_| Error::BadCtl)?;
        let lines = self.backend.line_count();
        let mut any = false;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            any = true;
            self.apply(parse_command(line, lines)?)?;
        }
        if !any {
            return Err(Error::BadCtl);
        }
        Ok(data.len())
    }

    fn write_pin(&self, pin: Offset, data: &[u8]) -> Result<usize> {
        let text = std::str::from_utf8(data).unwrap_or("?").trim();
        let level = parse_level(text).ok_or_else(|| {
            let shown: String = text.chars().take(20).collect();
            Error::msg(format!("bad level '{shown}': write 0 or 1"))
        })?;
        self.set(pin, level)?;
        Ok(data.len())
    }

    /// Reads edges into `buf`, waiting for the first. Whole lines where they fit; a line
    /// longer than the space left is cut, and its rest kept in `chan` for the next read.
    fn read_events(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let leftover = chan
            .open_state
            .lock()
            .take()
            .and_then(|state| state.downcast::<Vec<u8>>().ok());
        let mut out = match leftover {
            Some(rest) => *rest,
            None => {
                let mut queue = self.events.queue.lock();
                while queue.is_empty() {
                    ctx.sleep(&self.events.ready, &mut queue)?;
                }
                let mut out = Vec::new();
                while let Some(event) = queue.front() {
                    let line = event_line(event);
                    if !out.is_empty() && out.len() + line.len() > buf.len() {
                        break;
                    }
                    out.extend_from_slice(line.as_bytes());
                    queue.pop_front();
                    if out.len() >= buf.len() {
                        break;
                    }
                }
                out
            }
        };
        let count = out.len().min(buf.len());
        buf[..count].copy_from_slice(&out[..count]);
        if count < out.len() {
            let rest = out.split_off(count);
            *chan.open_state.lock() = Some(Box::new(rest));
        }
        Ok(count)
    }
}

/// Makes the backend for a resolved chip name, with the sink its edges go to.
pub type Opener =
    dyn Fn(&str, EventSink) -> std::result::Result<Box<dyn Backend>, String> + Send + Sync;

/// Turns an attach spec into the chip's name (what tells two attaches are the same chip).
pub type Resolver = fn(&str) -> std::result::Result<String, String>;

/// The GPIO device.
pub struct Gpio {
    /// What an empty spec attaches (ember's `-G`); none means the host's first chip.
    default_spec: Option<String>,
    resolve: Resolver,
    open: Box<Opener>,
    /// Chips attached now, by resolved name.
    chips: Mutex<HashMap<String, Weak<Chip>>>,
}

/// The spec of the simulated chip.
pub const SIM_SPEC: &str = "sim";

fn resolve_host(spec: &str) -> std::result::Result<String, String> {
    if spec == SIM_SPEC {
        return Ok(SIM_SPEC.to_string());
    }
    cdev::find_chip(spec).map(|path| path.display().to_string())
}

fn open_host(name: &str, sink: EventSink) -> std::result::Result<Box<dyn Backend>, String> {
    if name == SIM_SPEC {
        return Ok(Box::new(sim::SimChip::new(sink)));
    }
    Ok(Box::new(cdev::CdevChip::open(Path::new(name), sink)?))
}

/// Checks that `spec` names a chip that can be opened (for ember's `-G`, before it boots).
pub fn probe(spec: &str) -> std::result::Result<(), String> {
    let name = resolve_host(spec)?;
    open_host(&name, Arc::new(|_| {})).map(drop)
}

/// Whether the host has a GPIO chip (boot binds `#G` only then, unless `-G` asks).
pub fn host_has_chip() -> bool {
    cdev::host_has_chip()
}

impl Gpio {
    /// The device over the host's chips and the simulated one; an empty spec attaches
    /// `default_spec`, or the host's first chip.
    pub fn new(default_spec: Option<String>) -> Gpio {
        Gpio::with_backends(default_spec, resolve_host, Box::new(open_host))
    }

    /// The device over other backends (tests: a mock chip).
    pub fn with_backends(
        default_spec: Option<String>,
        resolve: Resolver,
        open: Box<Opener>,
    ) -> Gpio {
        Gpio {
            default_spec,
            resolve,
            open,
            chips: Mutex::new(HashMap::new()),
        }
    }

    /// The chip `name` names, shared with every other attach of it.
    fn chip(&self, name: &str) -> Result<Arc<Chip>> {
        let mut chips = self.chips.lock();
        if let Some(chip) = chips.get(name).and_then(Weak::upgrade) {
            return Ok(chip);
        }
        chips.retain(|_, chip| chip.strong_count() > 0);
        let events = Arc::new(Events::default());
        let sink_events = events.clone();
        let sink: EventSink = Arc::new(move |event| sink_events.push(event));
        let backend = (self.open)(name, sink).map_err(Error::msg)?;
        let chip = Arc::new(Chip {
            number: NEXT_CHIP.fetch_add(1, Ordering::Relaxed),
            backend,
            held: Mutex::new(BTreeMap::new()),
            events,
        });
        chips.insert(name.to_string(), Arc::downgrade(&chip));
        Ok(chip)
    }
}

fn chip_of(chan: &Chan) -> Result<&Arc<Chip>> {
    chan.aux::<Arc<Chip>>().ok_or(Error::NotExist)
}

fn file_of(chan: &Chan) -> Result<GpioFile> {
    GpioFile::unpack(chan.qid).ok_or(Error::NotExist)
}

fn entry_for(ctx: &Ctx, chan: &Chan, file: GpioFile) -> Dir {
    let eve = ctx.kernel().eve();
    let (name, perm) = match file {
        GpioFile::Root => ("#G".to_string(), 0o555),
        GpioFile::Dir => ("gpio".to_string(), 0o555),
        GpioFile::Ctl => ("ctl".to_string(), 0o664),
        GpioFile::Event => ("event".to_string(), 0o444),
        GpioFile::Pin(offset) => (offset.to_string(), 0o664),
    };
    dir_entry(chan, file.pack(), &name, 0, &eve, perm)
}

impl Device for Gpio {
    fn letter(&self) -> char {
        'G'
    }

    fn name(&self) -> &'static str {
        "gpio"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        let spec = if spec.is_empty() {
            self.default_spec.as_deref().unwrap_or("")
        } else {
            spec
        };
        let name = (self.resolve)(spec).map_err(Error::msg)?;
        let chip = self.chip(&name)?;
        Ok(Attached {
            devno: chip.number,
            qid: GpioFile::Root.pack(),
            aux: Some(Arc::new(chip) as Arc<dyn Any + Send + Sync>),
        })
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let chip = chip_of(chan)?;
        let file = match (file_of(chan)?, name) {
            (GpioFile::Root, "gpio") => GpioFile::Dir,
            (GpioFile::Dir, "ctl") => GpioFile::Ctl,
            (GpioFile::Dir, "event") => GpioFile::Event,
            (GpioFile::Dir, pin) => {
                let canonical = !pin.is_empty()
                    && pin.bytes().all(|b| b.is_ascii_digit())
                    && (pin == "0" || !pin.starts_with('0'));
                match pin.parse::<Offset>() {
                    Ok(offset) if canonical && offset < chip.backend.line_count() => {
                        GpioFile::Pin(offset)
                    }
                    _ => return Err(Error::NotExist),
                }
            }
            (GpioFile::Root, _) => return Err(Error::NotExist),
            _ => return Err(Error::NotDir),
        };
        Ok(chan.walked(file.pack()))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let chip = chip_of(dir)?;
        let file = match (file_of(dir)?, index) {
            (GpioFile::Root, 0) => GpioFile::Dir,
            (GpioFile::Dir, 0) => GpioFile::Ctl,
            (GpioFile::Dir, 1) => GpioFile::Event,
            (GpioFile::Dir, index) => match Offset::try_from(index - 2) {
                Ok(offset) if offset < chip.backend.line_count() => GpioFile::Pin(offset),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(entry_for(ctx, dir, file)))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        chip_of(chan)?;
        Ok(entry_for(ctx, chan, file_of(chan)?))
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let chip = chip_of(chan)?;
        match file_of(chan)? {
            GpioFile::Root | GpioFile::Dir => Err(Error::IsDir),
            GpioFile::Ctl => Ok(read_str(&chip.ctl_text(), buf, offset)),
            GpioFile::Event => chip.read_events(ctx, chan, buf),
            GpioFile::Pin(pin) => {
                if offset >= 2 {
                    return Ok(0);
                }
                let text = if chip.level(pin)? { "1\n" } else { "0\n" };
                Ok(read_str(text, buf, offset))
            }
        }
    }

    fn write(&self, _ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let chip = chip_of(chan)?;
        match file_of(chan)? {
            GpioFile::Root | GpioFile::Dir => Err(Error::IsDir),
            GpioFile::Ctl => chip.write_ctl(data),
            GpioFile::Event => Err(Error::Perm),
            GpioFile::Pin(pin) => chip.write_pin(pin, data),
        }
    }
}

#[cfg(test)]
mod tests;
