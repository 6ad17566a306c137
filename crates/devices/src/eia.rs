//! `#t`: serial lines (Inferno `deveia-posix.c`, man eia(3)), over the host's ttys.
//!
//! `#t` is a one-level directory with three files per serial port of the host: `eiaN` (the
//! data), `eiaNctl` (settings, written as Inferno's ctl verbs: `b115200 l8 pn s1`) and
//! `eiaNstatus` (Inferno's status line). The ports are the host's `/dev/ttyS*` that have a
//! UART behind them, then `/dev/ttyAMA*`, `/dev/ttyUSB*` and `/dev/ttyACM*`, numbered from 0
//! in that order. `#t*` reaches any other tty by its host path, a pseudo-terminal most often:
//! `#t*/dev/pts/3` (or `#t*/tmp/link`, through a symbolic link) is a directory holding `data`,
//! `ctl` and `status` for that line. Only serial lines and pseudo-terminal slaves are ever
//! opened: a path that names anything else (a regular file, another character device, the
//! console) is not there, and the kernel's list of tty drivers decides before any open.
//!
//! Each open of any of a line's files opens the host tty afresh (non-blocking, never as a
//! controlling terminal) and puts it in raw mode with the line's settings: the last ones
//! written to its ctl file, which persist across closes as in Inferno, or at first 9600 baud,
//! 8 bits, no parity. Reads wait through `poll` in short rounds that check for interrupts, so
//! a kill or a flush always ends them. A line that goes away (a pseudo-terminal whose other
//! end closed, a USB adapter pulled out) makes reads and writes fail with "i/o on hungup
//! channel", which is how a 9P mount over the line sees its end; opening the line again once
//! it is back gives a working line.
//!
//! Invariants:
//! - No host file is opened unless `fstat` of the very file about to be opened (held by an
//!   `O_PATH` handle, which runs no driver code) shows a character device of a serial or
//!   pseudo-terminal-slave driver (`/proc/tty/drivers`); the open is then checked again with
//!   `fstat` and `isatty`.
//! - No read or write blocks in the host: every wait is a `poll` of at most [`POLL_ROUND`].
//! - A ctl write is parsed whole before anything is changed: a bad verb changes nothing.
//! - `unsafe` only for the ioctls termios has no wrapper for (modem lines, error counters,
//!   output queue), each with its `Safety` note.

use kernel::dev::{check_open, dir_entry, fixed_number, read_str};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{Mode, SFlag, fstat, major, minor};
use nix::sys::termios::{
    self, BaudRate, ControlFlags, FlushArg, InputFlags, LocalFlags, OutputFlags, SetArg,
    SpecialCharacterIndices, Termios,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest a read or write waits in the host before checking for an interrupt.
pub const POLL_ROUND: Duration = Duration::from_millis(100);
/// The longest ctl message accepted.
pub const MAX_CTL: usize = 1024;
/// The longest break `kN` sends, in milliseconds.
pub const MAX_BREAK_MS: u32 = 5000;
/// How long a settings change waits for the output queue to drain before applying anyway.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// The spec that selects host paths.
const HOST_SPEC: &str = "*";

/// Host serial port families, in the order they are numbered.
const FAMILIES: [&str; 4] = ["ttyS", "ttyAMA", "ttyUSB", "ttyACM"];

/// Baud rates the ctl file accepts, and what termios calls them.
const BAUDS: [(u32, BaudRate); 31] = [
    (0, BaudRate::B0),
    (50, BaudRate::B50),
    (75, BaudRate::B75),
    (110, BaudRate::B110),
    (134, BaudRate::B134),
    (150, BaudRate::B150),
    (200, BaudRate::B200),
    (300, BaudRate::B300),
    (600, BaudRate::B600),
    (1200, BaudRate::B1200),
    (1800, BaudRate::B1800),
    (2400, BaudRate::B2400),
    (4800, BaudRate::B4800),
    (9600, BaudRate::B9600),
    (19200, BaudRate::B19200),
    (38400, BaudRate::B38400),
    (57600, BaudRate::B57600),
    (115200, BaudRate::B115200),
    (230400, BaudRate::B230400),
    (460800, BaudRate::B460800),
    (500000, BaudRate::B500000),
    (576000, BaudRate::B576000),
    (921600, BaudRate::B921600),
    (1000000, BaudRate::B1000000),
    (1152000, BaudRate::B1152000),
    (1500000, BaudRate::B1500000),
    (2000000, BaudRate::B2000000),
    (2500000, BaudRate::B2500000),
    (3000000, BaudRate::B3000000),
    (3500000, BaudRate::B3500000),
    (4000000, BaudRate::B4000000),
];

/// The files of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineFile {
    Data,
    Ctl,
    Status,
}

impl LineFile {
    const ALL: [LineFile; 3] = [LineFile::Data, LineFile::Ctl, LineFile::Status];

    /// The name inside a host line's directory.
    fn name(self) -> &'static str {
        match self {
            LineFile::Data => "data",
            LineFile::Ctl => "ctl",
            LineFile::Status => "status",
        }
    }

    /// The suffix after `eiaN` in the root.
    fn suffix(self) -> &'static str {
        match self {
            LineFile::Data => "",
            LineFile::Ctl => "ctl",
            LineFile::Status => "status",
        }
    }

    fn perm(self) -> u32 {
        match self {
            LineFile::Status => 0o444,
            _ => 0o660,
        }
    }
}

/// A qid path of `#t`: three bits of kind below a host number (a device number for lines, an
/// identity from inode and file system numbers for host directories).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EiaQid {
    Root,
    HostDir(u64),
    LineDir(u64),
    File(u64, LineFile),
}

impl EiaQid {
    fn pack(self) -> Qid {
        let tagged = |number: u64, kind: u64| (number & (u64::MAX >> 3)) << 3 | kind;
        match self {
            EiaQid::Root => Qid::dir(0),
            EiaQid::HostDir(file_id) => Qid::dir(tagged(file_id, 1)),
            EiaQid::LineDir(rdev) => Qid::dir(tagged(rdev, 2)),
            EiaQid::File(rdev, LineFile::Data) => Qid::file(tagged(rdev, 3)),
            EiaQid::File(rdev, LineFile::Ctl) => Qid::file(tagged(rdev, 4)),
            EiaQid::File(rdev, LineFile::Status) => Qid::file(tagged(rdev, 5)),
        }
    }
}

/// A host tty that may be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    /// The path it is opened by.
    host: PathBuf,
    /// Its device number, checked again at each open.
    rdev: u64,
    /// `Some(N)` for the port `eiaN` of the root, None for one named by host path.
    port: Option<usize>,
}

/// What a chan of `#t` names.
enum Node {
    Root,
    /// A directory of the host, on the way to a line named by path (`#t*/dev/pts`).
    HostDir {
        path: PathBuf,
        file_id: u64,
    },
    /// A line named by host path, as a directory of its three files.
    LineDir(Line),
    /// One file of a line, not yet opened.
    File(Line, LineFile),
    /// One file of a line, opened.
    Open(Arc<OpenLine>),
}

fn node(chan: &Chan) -> Result<&Node> {
    chan.aux::<Node>().ok_or(Error::NotExist)
}

/// What is kept about a line between opens (Inferno's `Eia`): its settings and modem lines.
#[derive(Default)]
struct LineState {
    opens: usize,
    /// The settings last written to ctl.
    saved: Option<Termios>,
    dtr: Option<bool>,
    rts: Option<bool>,
}

type Lines = Arc<Mutex<HashMap<u64, LineState>>>;

/// One open of a line's file: its own host descriptor.
struct OpenLine {
    line: Line,
    file: LineFile,
    fd: OwnedFd,
    lines: Lines,
    /// Whether this open still counts in the line's `opens` (a dead line's opens do not).
    counted: AtomicBool,
}

impl OpenLine {
    /// The line died under this open: it no longer counts as open.
    fn hung_up(&self) -> Error {
        self.uncount();
        Error::Hungup
    }

    fn uncount(&self) {
        if self.counted.swap(false, Ordering::SeqCst) {
            let mut lines = self.lines.lock();
            if let Some(state) = lines.get_mut(&self.line.rdev) {
                state.opens = state.opens.saturating_sub(1);
            }
        }
    }
}

impl Drop for OpenLine {
    fn drop(&mut self) {
        self.uncount();
    }
}

/// The serial line device.
pub struct Eia {
    lines: Lines,
}

impl Eia {
    pub fn new() -> Eia {
        Eia {
            lines: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl Default for Eia {
    fn default() -> Eia {
        Eia::new()
    }
}

fn host_error(what: &str, errno: Errno) -> Error {
    match errno {
        Errno::ENOENT | Errno::ENXIO | Errno::ENODEV => Error::NotExist,
        Errno::EACCES | Errno::EPERM => Error::Perm,
        Errno::EIO => Error::Hungup,
        _ => Error::msg(format!("eia: {what}: {}", errno.desc())),
    }
}

// ---- which host files are serial lines

/// A tty driver's range of device numbers, from `/proc/tty/drivers`.
struct DriverRange {
    major: u64,
    minors: std::ops::RangeInclusive<u64>,
}

/// The device numbers of serial lines and pseudo-terminal slaves. Consoles, virtual
/// terminals, `/dev/tty` and pseudo-terminal masters are not among them.
fn line_drivers() -> &'static [DriverRange] {
    static DRIVERS: std::sync::OnceLock<Vec<DriverRange>> = std::sync::OnceLock::new();
    DRIVERS.get_or_init(|| match std::fs::read_to_string("/proc/tty/drivers") {
        Ok(text) => parse_drivers(&text),
        // Without /proc, Linux's fixed numbers: ttyS, pts, ttyUSB, ttyACM, ttyAMA.
        Err(_) => vec![
            DriverRange {
                major: 4,
                minors: 64..=255,
            },
            DriverRange {
                major: 136,
                minors: 0..=(1 << 20),
            },
            DriverRange {
                major: 188,
                minors: 0..=511,
            },
            DriverRange {
                major: 166,
                minors: 0..=255,
            },
            DriverRange {
                major: 204,
                minors: 64..=79,
            },
        ],
    })
}

/// Parses `/proc/tty/drivers` (`name path major minors type`), keeping the serial and
/// pty:slave drivers. The pty slaves' major numbers come one line per major.
fn parse_drivers(text: &str) -> Vec<DriverRange> {
    let mut ranges = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [.., major, minors, kind] = fields.as_slice() else {
            continue;
        };
        if *kind != "serial" && *kind != "pty:slave" {
            continue;
        }
        let Ok(major) = major.parse::<u64>() else {
            continue;
        };
        let parsed = match minors.split_once('-') {
            Some((low, high)) => low.parse().ok().zip(high.parse().ok()),
            None => minors.parse().ok().map(|minor| (minor, minor)),
        };
        if let Some((low, high)) = parsed {
            ranges.push(DriverRange {
                major,
                minors: low..=high,
            });
        }
    }
    ranges
}

/// A host number as 64 bits: `ino_t` is narrower on 32-bit hosts (a Pi's armv7).
fn wide(number: impl Into<u64>) -> u64 {
    number.into()
}

fn is_line_device(rdev: u64) -> bool {
    let (major, minor) = (major(rdev), minor(rdev));
    line_drivers()
        .iter()
        .any(|range| range.major == major && range.minors.contains(&minor))
}

/// What a host path is, as far as `#t` cares.
enum HostKind {
    /// A directory, with an identity made of its inode and file system numbers.
    Dir(u64),
    /// A serial line or pseudo-terminal slave, with its device number.
    Line(u64),
}

fn host_kind(path: &Path) -> Option<HostKind> {
    let stat = nix::sys::stat::stat(path).ok()?;
    let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
    if kind == SFlag::S_IFDIR {
        // Inode numbers repeat across file systems: mix in the file system's number.
        Some(HostKind::Dir(
            wide(stat.st_ino) ^ wide(stat.st_dev).rotate_left(40),
        ))
    } else if kind == SFlag::S_IFCHR && is_line_device(wide(stat.st_rdev)) {
        Some(HostKind::Line(wide(stat.st_rdev)))
    } else {
        None
    }
}

/// Whether a `ttyS` port has a UART behind it: Linux makes nodes for ports that may not
/// exist, and says so with type 0 in sysfs. Without sysfs, every port counts.
fn uart_present(name: &str) -> bool {
    match std::fs::read_to_string(format!("/sys/class/tty/{name}/type")) {
        Ok(text) => text.trim() != "0",
        Err(_) => true,
    }
}

/// The host's serial ports, in `eiaN` order.
fn host_ports() -> Vec<Line> {
    let Ok(entries) = std::fs::read_dir("/dev") else {
        return Vec::new();
    };
    let mut found: Vec<(usize, u64, String)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        for (family_index, family) in FAMILIES.iter().enumerate() {
            let Some(number) = name.strip_prefix(family) else {
                continue;
            };
            if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
                continue;
            }
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            found.push((family_index, number, name.clone()));
        }
    }
    found.sort();
    found
        .into_iter()
        .filter(|(family, _, name)| *family != 0 || uart_present(name))
        .filter_map(|(_, _, name)| {
            let host = Path::new("/dev").join(&name);
            match host_kind(&host) {
                Some(HostKind::Line(rdev)) => Some((host, rdev)),
                _ => None,
            }
        })
        .enumerate()
        .map(|(port, (host, rdev))| Line {
            host,
            rdev,
            port: Some(port),
        })
        .collect()
}

/// Splits a root name `eiaN`, `eiaNctl` or `eiaNstatus`.
fn parse_port_name(name: &str) -> Option<(usize, LineFile)> {
    let rest = name.strip_prefix("eia")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits > 1 && rest.starts_with('0')) {
        return None;
    }
    let port = rest[..digits].parse().ok()?;
    let file = LineFile::ALL
        .into_iter()
        .find(|file| file.suffix() == &rest[digits..])?;
    Some((port, file))
}

/// Opens a line's host tty, making sure the file opened is the line's device.
fn open_host(line: &Line) -> Result<OwnedFd> {
    let path_fd = nix::fcntl::open(&line.host, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|errno| host_error("open", errno))?;
    check_device(&path_fd, line.rdev)?;
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    // Reopening the descriptor just checked, rather than the path, leaves no moment in which
    // the path could be switched to another file.
    let reopened = format!("/proc/self/fd/{}", path_fd.as_raw_fd());
    let fd = match nix::fcntl::open(reopened.as_str(), flags, Mode::empty()) {
        Err(Errno::ENOENT) => nix::fcntl::open(&line.host, flags, Mode::empty()),
        result => result,
    }
    .map_err(|errno| host_error("open", errno))?;
    check_device(&fd, line.rdev)?;
    if !nix::unistd::isatty(&fd).unwrap_or(false) {
        return Err(Error::NotExist);
    }
    Ok(fd)
}

fn check_device(fd: &OwnedFd, rdev: u64) -> Result<()> {
    let stat = fstat(fd).map_err(|errno| host_error("stat", errno))?;
    let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
    let found = wide(stat.st_rdev);
    if kind != SFlag::S_IFCHR || found != rdev || !is_line_device(found) {
        return Err(Error::NotExist);
    }
    Ok(())
}

// ---- settings

/// Inferno's settings for a line opened for the first time: raw, 9600 baud, 8 bits, no
/// parity, one stop bit, reads returning as soon as one byte is there.
fn raw_defaults(termios: &mut Termios) {
    termios.input_flags = InputFlags::IGNPAR;
    termios.output_flags = OutputFlags::empty();
    termios.local_flags = LocalFlags::empty();
    termios
        .control_flags
        .remove(ControlFlags::CSIZE | ControlFlags::PARENB | ControlFlags::PARODD);
    termios.control_flags.remove(ControlFlags::CSTOPB);
    termios
        .control_flags
        .insert(ControlFlags::CS8 | ControlFlags::CREAD);
    let _ = termios::cfsetspeed(termios, BaudRate::B9600);
    termios.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    termios.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
}

/// Whether two settings are the same as far as the line is concerned (the speeds are in the
/// control flags).
fn same_settings(one: &Termios, other: &Termios) -> bool {
    let (vmin, vtime) = (
        SpecialCharacterIndices::VMIN as usize,
        SpecialCharacterIndices::VTIME as usize,
    );
    one.input_flags == other.input_flags
        && one.output_flags == other.output_flags
        && one.control_flags == other.control_flags
        && one.local_flags == other.local_flags
        && one.control_chars[vmin] == other.control_chars[vmin]
        && one.control_chars[vtime] == other.control_chars[vtime]
}

fn baud_of(termios: &Termios) -> Option<u32> {
    let code = termios.control_flags.bits() & libc::CBAUD;
    BAUDS
        .iter()
        .find(|(_, rate)| *rate as libc::tcflag_t == code)
        .map(|(number, _)| *number)
}

fn bits_of(termios: &Termios) -> u32 {
    match termios.control_flags & ControlFlags::CSIZE {
        ControlFlags::CS5 => 5,
        ControlFlags::CS6 => 6,
        ControlFlags::CS7 => 7,
        _ => 8,
    }
}

fn parity_of(termios: &Termios) -> char {
    let flags = termios.control_flags;
    if !flags.contains(ControlFlags::PARENB) {
        'n'
    } else if flags.contains(ControlFlags::PARODD) {
        'o'
    } else {
        'e'
    }
}

/// One ctl verb, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Baud(BaudRate),
    Bits(u32),
    Stop(u32),
    Parity(char),
    XonXoff(bool),
    CtsFlow(bool),
    /// `cN`: hang up when DCD drops (termios without CLOCAL).
    Carrier(bool),
    Hangup,
    FlushOutput,
    Break(u32),
    Dtr(bool),
    Rts(bool),
    /// `i`: the FIFO of a real UART, which the host manages; accepted and ignored.
    Fifo,
}

/// Parses a ctl message: blank-separated verbs, each a letter (either case) and its argument.
fn parse_ctl(text: &str) -> Result<Vec<Verb>> {
    let mut verbs = Vec::new();
    for token in text.split_whitespace() {
        verbs.push(parse_verb(token)?);
    }
    Ok(verbs)
}

fn parse_verb(token: &str) -> Result<Verb> {
    let bad = |why: &str| Error::msg(format!("eia: bad ctl verb '{token}': {why}"));
    if token.eq_ignore_ascii_case("break") {
        return Ok(Verb::Break(0));
    }
    let mut chars = token.chars();
    let letter = chars
        .next()
        .ok_or_else(|| bad("empty"))?
        .to_ascii_lowercase();
    let argument = chars.as_str();
    let number = || -> Result<u32> {
        if argument.is_empty() || !argument.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(bad("expected a number"));
        }
        argument.parse().map_err(|_| bad("number too large"))
    };
    let flag = || -> Result<bool> { number().map(|value| value != 0) };
    Ok(match letter {
        'b' => {
            let rate = number()?;
            let (_, baud) = BAUDS
                .iter()
                .find(|(number, _)| *number == rate)
                .ok_or_else(|| bad("unsupported baud rate"))?;
            Verb::Baud(*baud)
        }
        'l' => match number()? {
            bits @ 5..=8 => Verb::Bits(bits),
            _ => return Err(bad("bits must be 5, 6, 7 or 8")),
        },
        's' => match number()? {
            stop @ 1..=2 => Verb::Stop(stop),
            _ => return Err(bad("stop bits must be 1 or 2")),
        },
        'p' => match argument.to_ascii_lowercase().as_str() {
            parity @ ("n" | "e" | "o") => Verb::Parity(parity.chars().next().unwrap_or('n')),
            _ => return Err(bad("parity must be pn, pe or po")),
        },
        'x' => Verb::XonXoff(flag()?),
        'm' => Verb::CtsFlow(flag()?),
        'c' => Verb::Carrier(flag()?),
        'd' => Verb::Dtr(flag()?),
        'r' => Verb::Rts(flag()?),
        'h' if argument.is_empty() => Verb::Hangup,
        'f' if argument.is_empty() => Verb::FlushOutput,
        'i' => Verb::Fifo,
        'k' if argument.is_empty() => Verb::Break(0),
        'k' => Verb::Break(number()?.min(MAX_BREAK_MS)),
        'e' | 'n' | 'q' => {
            return Err(Error::msg(format!(
                "eia: ctl verb '{token}' is not available on a host serial line"
            )));
        }
        _ => {
            return Err(Error::msg(format!("eia: unknown ctl verb '{token}'")));
        }
    })
}

/// Applies the verbs that are settings to `termios`; true if any was.
fn apply_settings(termios: &mut Termios, verbs: &[Verb]) -> bool {
    let mut changed = false;
    for verb in verbs {
        let flags = &mut termios.control_flags;
        match *verb {
            Verb::Bits(bits) => {
                flags.remove(ControlFlags::CSIZE);
                flags.insert(match bits {
                    5 => ControlFlags::CS5,
                    6 => ControlFlags::CS6,
                    7 => ControlFlags::CS7,
                    _ => ControlFlags::CS8,
                });
            }
            Verb::Stop(stop) => flags.set(ControlFlags::CSTOPB, stop == 2),
            Verb::Parity(parity) => {
                flags.set(ControlFlags::PARENB, parity != 'n');
                flags.set(ControlFlags::PARODD, parity == 'o');
            }
            Verb::CtsFlow(on) => flags.set(ControlFlags::CRTSCTS, on),
            Verb::Carrier(on) => flags.set(ControlFlags::CLOCAL, !on),
            Verb::XonXoff(on) => termios
                .input_flags
                .set(InputFlags::IXON | InputFlags::IXOFF, on),
            Verb::Baud(baud) => {
                let _ = termios::cfsetspeed(termios, baud);
            }
            Verb::Hangup => {
                let _ = termios::cfsetospeed(termios, BaudRate::B0);
            }
            _ => continue,
        }
        changed = true;
    }
    changed
}

// ---- the ioctls termios does not wrap

mod host {
    //! Modem lines, error counters and the output queue, through ioctls of `tty_ioctl(4)`.
    #![allow(unsafe_code)]

    use std::os::fd::{AsRawFd, BorrowedFd};

    /// `struct serial_icounter_struct` of `<linux/serial.h>`.
    #[repr(C)]
    #[derive(Default)]
    struct Counters {
        cts: libc::c_int,
        dsr: libc::c_int,
        rng: libc::c_int,
        dcd: libc::c_int,
        rx: libc::c_int,
        tx: libc::c_int,
        frame: libc::c_int,
        overrun: libc::c_int,
        parity: libc::c_int,
        brk: libc::c_int,
        buf_overrun: libc::c_int,
        reserved: [libc::c_int; 9],
    }

    /// Sets (or clears) the modem lines in `bits` (TIOCM_DTR, TIOCM_RTS).
    pub fn set_modem_lines(fd: BorrowedFd<'_>, bits: libc::c_int, on: bool) -> nix::Result<()> {
        let request = if on { libc::TIOCMBIS } else { libc::TIOCMBIC };
        // Safety: TIOCMBIS and TIOCMBIC read one int through the pointer, which points to a
        // live local for the whole call; the descriptor is borrowed, so open.
        let result = unsafe { libc::ioctl(fd.as_raw_fd(), request, &bits as *const libc::c_int) };
        nix::errno::Errno::result(result).map(drop)
    }

    /// The modem lines' state, or None where there are none (a pseudo-terminal).
    pub fn modem_lines(fd: BorrowedFd<'_>) -> Option<libc::c_int> {
        let mut bits: libc::c_int = 0;
        // Safety: TIOCMGET writes one int through the pointer, to a live local.
        let result = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCMGET, &mut bits) };
        (result >= 0).then_some(bits)
    }

    /// Framing and overrun errors counted by the driver, or zeros where it counts none.
    pub fn error_counts(fd: BorrowedFd<'_>) -> (i64, i64) {
        let mut counters = Counters::default();
        // Safety: TIOCGICOUNT fills a `struct serial_icounter_struct`, which `Counters`
        // reproduces field for field with `repr(C)`; it lives for the whole call.
        let result = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::TIOCGICOUNT,
                &mut counters as *mut Counters,
            )
        };
        if result < 0 {
            return (0, 0);
        }
        (
            i64::from(counters.frame),
            i64::from(counters.overrun) + i64::from(counters.buf_overrun),
        )
    }

    /// Bytes written but not yet sent, or None if the driver cannot tell.
    pub fn output_queued(fd: BorrowedFd<'_>) -> Option<libc::c_int> {
        let mut queued: libc::c_int = 0;
        // Safety: TIOCOUTQ writes one int through the pointer, to a live local.
        let result = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        (result >= 0).then_some(queued)
    }
}

// ---- waiting in the host

/// Waits at most one [`POLL_ROUND`] for `events` on `fd`; "i/o on hungup channel" if the line
/// hung up with nothing left to read.
fn wait_for(ctx: &Ctx, open: &OpenLine, events: PollFlags) -> Result<()> {
    ctx.check()?;
    let mut fds = [PollFd::new(open.fd.as_fd(), events)];
    match poll(&mut fds, PollTimeout::from(POLL_ROUND.as_millis() as u16)) {
        Ok(0) | Err(Errno::EINTR) => Ok(()),
        Ok(_) => {
            let revents = fds[0].revents().unwrap_or(PollFlags::empty());
            let dead = PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
            if revents.intersects(dead) && !revents.intersects(events) {
                return Err(open.hung_up());
            }
            Ok(())
        }
        Err(errno) => Err(host_error("poll", errno)),
    }
}

fn read_line(ctx: &Ctx, open: &OpenLine, buf: &mut [u8]) -> Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        ctx.check()?;
        match nix::unistd::read(&open.fd, buf) {
            // A tty in raw mode with VMIN 1 reads nothing only once it has hung up.
            Ok(0) => return Err(open.hung_up()),
            Ok(count) => return Ok(count),
            Err(Errno::EAGAIN) => wait_for(ctx, open, PollFlags::POLLIN)?,
            Err(Errno::EINTR) => {}
            Err(Errno::EIO) => return Err(open.hung_up()),
            Err(errno) => return Err(host_error("read", errno)),
        }
    }
}

fn write_line(ctx: &Ctx, open: &OpenLine, data: &[u8]) -> Result<usize> {
    let mut done = 0;
    while done < data.len() {
        ctx.check()?;
        match nix::unistd::write(&open.fd, &data[done..]) {
            Ok(count) => done += count,
            Err(Errno::EAGAIN) => wait_for(ctx, open, PollFlags::POLLOUT)?,
            Err(Errno::EINTR) => {}
            Err(Errno::EIO) => return Err(open.hung_up()),
            Err(errno) => return Err(host_error("write", errno)),
        }
    }
    Ok(done)
}

/// Waits, interruptibly and for at most [`DRAIN_LIMIT`], until the output queue is empty,
/// so new settings do not garble bytes still being sent (Inferno's TCSADRAIN, without
/// blocking in the host).
fn drain(ctx: &Ctx, open: &OpenLine) -> Result<()> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    while host::output_queued(open.fd.as_fd()).is_some_and(|queued| queued > 0)
        && Instant::now() < deadline
    {
        ctx.sleep_for(Duration::from_millis(5))?;
    }
    Ok(())
}

impl Eia {
    /// Puts a freshly opened line in raw mode with its kept settings (or Inferno's first
    /// ones), and its modem lines as last set.
    fn configure(&self, line: &Line, fd: &OwnedFd) -> Result<()> {
        let (saved, dtr, rts) = {
            let lines = self.lines.lock();
            let state = lines.get(&line.rdev);
            (
                state.and_then(|state| state.saved.clone()),
                state.and_then(|state| state.dtr),
                state.and_then(|state| state.rts),
            )
        };
        let current = termios::tcgetattr(fd).map_err(|errno| host_error("tcgetattr", errno))?;
        let termios = match saved {
            Some(saved) => saved,
            None => {
                let mut termios = current.clone();
                raw_defaults(&mut termios);
                termios
            }
        };
        // Setting a UART reprograms it, even to the same values: not while others use it.
        if !same_settings(&current, &termios) {
            termios::tcsetattr(fd, SetArg::TCSANOW, &termios)
                .map_err(|errno| host_error("tcsetattr", errno))?;
        }
        // As Inferno does, a failure to restore a modem line is not an error.
        if let Some(on) = dtr {
            let _ = host::set_modem_lines(fd.as_fd(), libc::TIOCM_DTR, on);
        }
        if let Some(on) = rts {
            let _ = host::set_modem_lines(fd.as_fd(), libc::TIOCM_RTS, on);
        }
        Ok(())
    }

    fn write_ctl(&self, ctx: &Ctx, open: &OpenLine, data: &[u8]) -> Result<usize> {
        if data.len() > MAX_CTL {
            return Err(Error::msg("eia: ctl message too long"));
        }
        let text = std::str::from_utf8(data).map_err(|_| Error::BadArg)?;
        let verbs = parse_ctl(text)?;
        let fd = open.fd.as_fd();
        let mut termios = termios::tcgetattr(fd).map_err(|errno| host_error("tcgetattr", errno))?;
        if apply_settings(&mut termios, &verbs) {
            drain(ctx, open)?;
            termios::tcsetattr(fd, SetArg::TCSANOW, &termios)
                .map_err(|errno| host_error("tcsetattr", errno))?;
            // Keep what the driver really took, for the next open.
            let applied = termios::tcgetattr(fd).unwrap_or(termios);
            self.lines.lock().entry(open.line.rdev).or_default().saved = Some(applied);
        }
        for verb in &verbs {
            match *verb {
                Verb::FlushOutput => termios::tcflush(fd, FlushArg::TCOFLUSH)
                    .map_err(|errno| host_error("flush", errno))?,
                // Inferno ignores a break the driver cannot send.
                Verb::Break(ms) => {
                    let _ = termios::tcsendbreak(fd, ms as libc::c_int);
                }
                Verb::Dtr(on) | Verb::Rts(on) => {
                    let (bit, name) = if matches!(verb, Verb::Dtr(_)) {
                        (libc::TIOCM_DTR, "DTR")
                    } else {
                        (libc::TIOCM_RTS, "RTS")
                    };
                    host::set_modem_lines(fd, bit, on)
                        .map_err(|errno| host_error(&format!("set {name}"), errno))?;
                    let mut lines = self.lines.lock();
                    let state = lines.entry(open.line.rdev).or_default();
                    if bit == libc::TIOCM_DTR {
                        state.dtr = Some(on);
                    } else {
                        state.rts = Some(on);
                    }
                }
                _ => {}
            }
        }
        Ok(data.len())
    }

    /// The status line: Inferno's `opens N ferr N oerr N baud N`, then the settings, then the
    /// modem lines where there are any.
    fn status(&self, open: &OpenLine) -> Result<String> {
        let fd = open.fd.as_fd();
        let termios = termios::tcgetattr(fd).map_err(|errno| host_error("tcgetattr", errno))?;
        let opens = self
            .lines
            .lock()
            .get(&open.line.rdev)
            .map_or(0, |state| state.opens);
        let (frame, overrun) = host::error_counts(fd);
        let baud = baud_of(&termios).map_or_else(|| "unknown".to_string(), |baud| baud.to_string());
        let flags = termios.control_flags;
        let mut text = format!(
            "opens {} ferr {frame} oerr {overrun} baud {baud} bits {} stop {} parity {} \
             xonxoff {} crtscts {} clocal {}",
            opens.saturating_sub(1),
            bits_of(&termios),
            if flags.contains(ControlFlags::CSTOPB) {
                2
            } else {
                1
            },
            parity_of(&termios),
            u8::from(termios.input_flags.contains(InputFlags::IXON)),
            u8::from(flags.contains(ControlFlags::CRTSCTS)),
            u8::from(flags.contains(ControlFlags::CLOCAL)),
        );
        if let Some(bits) = host::modem_lines(fd) {
            for (name, bit) in [
                ("dtr", libc::TIOCM_DTR),
                ("rts", libc::TIOCM_RTS),
                ("cts", libc::TIOCM_CTS),
                ("dsr", libc::TIOCM_DSR),
                ("dcd", libc::TIOCM_CAR),
                ("ri", libc::TIOCM_RNG),
            ] {
                text.push_str(&format!(" {name} {}", u8::from(bits & bit != 0)));
            }
        }
        text.push('\n');
        Ok(text)
    }

    /// Every entry of directory `dir`: a port's three files for each port of the root, the
    /// lines (and nothing else) of a host directory, a line's three files.
    fn listing(&self, ctx: &Ctx, dir: &Chan) -> Result<Vec<Dir>> {
        let eve = ctx.kernel().eve();
        Ok(match node(dir)? {
            Node::Root => host_ports()
                .iter()
                .flat_map(|line| LineFile::ALL.map(|file| file_dir(dir, line, file, &eve)))
                .collect(),
            Node::HostDir { path, .. } => {
                let Ok(entries) = std::fs::read_dir(path) else {
                    return Ok(Vec::new());
                };
                let mut names: Vec<String> = entries
                    .flatten()
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                names
                    .into_iter()
                    .filter_map(|name| match host_kind(&path.join(&name)) {
                        Some(HostKind::Line(rdev)) => Some(Self::entry_dir(
                            dir,
                            EiaQid::LineDir(rdev),
                            &name,
                            &eve,
                            0o555,
                        )),
                        _ => None,
                    })
                    .collect()
            }
            Node::LineDir(line) => LineFile::ALL
                .iter()
                .map(|file| file_dir(dir, line, *file, &eve))
                .collect(),
            Node::File(..) | Node::Open(_) => Vec::new(),
        })
    }

    fn entry_dir(chan: &Chan, qid: EiaQid, name: &str, owner: &str, perm: u32) -> Dir {
        dir_entry(chan, qid.pack(), name, 0, owner, perm)
    }

    /// The directory entry of a node (for stat).
    fn node_dir(&self, ctx: &Ctx, chan: &Chan, node: &Node) -> Result<Dir> {
        let eve = ctx.kernel().eve();
        Ok(match node {
            Node::Root => Self::entry_dir(chan, EiaQid::Root, "#t", &eve, 0o555),
            Node::HostDir { path, file_id } => {
                let name = path.file_name().map_or_else(
                    || "#t*".to_string(),
                    |name| name.to_string_lossy().into_owned(),
                );
                Self::entry_dir(chan, EiaQid::HostDir(*file_id), &name, &eve, 0o555)
            }
            Node::LineDir(line) => Self::entry_dir(
                chan,
                EiaQid::LineDir(line.rdev),
                &line_name(line),
                &eve,
                0o555,
            ),
            Node::File(line, file) => file_dir(chan, line, *file, &eve),
            Node::Open(open) => file_dir(chan, &open.line, open.file, &eve),
        })
    }
}

/// The name of a line's directory (host form) or its port name (`eiaN`).
fn line_name(line: &Line) -> String {
    match line.port {
        Some(port) => format!("eia{port}"),
        None => line
            .host
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
    }
}

fn file_dir(chan: &Chan, line: &Line, file: LineFile, owner: &str) -> Dir {
    let name = match line.port {
        Some(port) => format!("eia{port}{}", file.suffix()),
        None => file.name().to_string(),
    };
    dir_entry(
        chan,
        EiaQid::File(line.rdev, file).pack(),
        &name,
        0,
        owner,
        file.perm(),
    )
}

impl Device for Eia {
    fn letter(&self) -> char {
        't'
    }

    fn name(&self) -> &'static str {
        "eia"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        let node = match spec {
            "" => Node::Root,
            HOST_SPEC => {
                let file_id = match host_kind(Path::new("/")) {
                    Some(HostKind::Dir(file_id)) => file_id,
                    _ => 0,
                };
                Node::HostDir {
                    path: PathBuf::from("/"),
                    file_id,
                }
            }
            _ => return Err(Error::BadSpec),
        };
        let qid = match &node {
            Node::HostDir { file_id, .. } => EiaQid::HostDir(*file_id).pack(),
            _ => EiaQid::Root.pack(),
        };
        Ok(Attached {
            devno: u64::from(spec == HOST_SPEC),
            qid,
            aux: Some(Arc::new(node)),
        })
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let next = match node(chan)? {
            Node::Root => {
                let (port, file) = parse_port_name(name).ok_or(Error::NotExist)?;
                let line = host_ports().into_iter().nth(port).ok_or(Error::NotExist)?;
                Node::File(line, file)
            }
            Node::HostDir { path, .. } => {
                let host = path.join(name);
                match host_kind(&host).ok_or(Error::NotExist)? {
                    HostKind::Dir(file_id) => Node::HostDir {
                        path: host,
                        file_id,
                    },
                    HostKind::Line(rdev) => Node::LineDir(Line {
                        host,
                        rdev,
                        port: None,
                    }),
                }
            }
            Node::LineDir(line) => {
                let file = LineFile::ALL
                    .into_iter()
                    .find(|file| file.name() == name)
                    .ok_or(Error::NotExist)?;
                Node::File(line.clone(), file)
            }
            Node::File(..) | Node::Open(_) => return Err(Error::NotDir),
        };
        let qid = match &next {
            Node::HostDir { file_id, .. } => EiaQid::HostDir(*file_id),
            Node::LineDir(line) => EiaQid::LineDir(line.rdev),
            Node::File(line, file) => EiaQid::File(line.rdev, *file),
            _ => return Err(Error::NotExist),
        };
        Ok(chan.walked_with(qid.pack(), Some(Arc::new(next))))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        // A listing looks at the host, so it is made once per directory read and kept with
        // the open chan for the entries after the first.
        let mut state = dir.open_state.lock();
        let kept = state
            .as_ref()
            .is_some_and(|state| state.downcast_ref::<Vec<Dir>>().is_some());
        if index == 0 || !kept {
            *state = Some(Box::new(self.listing(ctx, dir)?));
        }
        Ok(state
            .as_ref()
            .and_then(|state| state.downcast_ref::<Vec<Dir>>())
            .and_then(|listing| listing.get(index).cloned()))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let node = node(chan)?;
        self.node_dir(ctx, chan, node)
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let dir = self.stat(ctx, &chan)?;
        // A write of the shell's `>` asks to truncate: a line has nothing to truncate.
        check_open(ctx, &dir, mode & !ninep::OTRUNC)?;
        let Node::File(line, file) = node(&chan)? else {
            return Ok(chan.opened(mode));
        };
        let (line, file) = (line.clone(), *file);
        let fd = open_host(&line)?;
        self.configure(&line, &fd)?;
        self.lines.lock().entry(line.rdev).or_default().opens += 1;
        let open = OpenLine {
            line,
            file,
            fd,
            lines: self.lines.clone(),
            counted: AtomicBool::new(true),
        };
        let qid = chan.qid;
        Ok(chan
            .walked_with(qid, Some(Arc::new(Node::Open(Arc::new(open)))))
            .opened(mode))
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let Node::Open(open) = node(chan)? else {
            return Err(Error::NotOpen);
        };
        match open.file {
            LineFile::Data => read_line(ctx, open, buf),
            LineFile::Ctl => Ok(match open.line.port {
                Some(port) => read_str(&fixed_number(port as i64), buf, offset),
                None => read_str(&format!("{}\n", open.line.host.display()), buf, offset),
            }),
            LineFile::Status => Ok(read_str(&self.status(open)?, buf, offset)),
        }
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let Node::Open(open) = node(chan)? else {
            return Err(Error::NotOpen);
        };
        match open.file {
            LineFile::Data => write_line(ctx, open, data),
            LineFile::Ctl => self.write_ctl(ctx, open, data),
            LineFile::Status => Err(Error::Perm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Kernel;
    use ninep::{ORDWR, OREAD, OWRITE};
    use nix::pty::openpty;
    use std::os::fd::AsFd;

    fn context() -> Ctx {
        let kernel = Kernel::new("glenda", "test");
        kernel.register(Arc::new(Eia::new())).unwrap();
        Ctx::new(kernel.first_proc("test", "glenda"))
    }

    /// A pseudo-terminal pair: the master, and the `#t*` path of the slave's line.
    struct Pty {
        master: OwnedFd,
        _slave: OwnedFd,
        line: String,
    }

    fn pty() -> Pty {
        let pair = openpty(None, None).unwrap();
        let name = std::fs::read_link(format!("/proc/self/fd/{}", pair.slave.as_raw_fd()))
            .unwrap()
            .display()
            .to_string();
        Pty {
            master: pair.master,
            _slave: pair.slave,
            line: format!("#t*{name}"),
        }
    }

    fn read_text(ctx: &Ctx, chan: &Chan) -> String {
        let mut buf = vec![0u8; 512];
        let count = ctx.read_chan(chan, &mut buf, 0).unwrap();
        String::from_utf8_lossy(&buf[..count]).into_owned()
    }

    #[test]
    fn qids_are_distinct_per_kind() {
        let qids = [
            EiaQid::Root,
            EiaQid::HostDir(7),
            EiaQid::LineDir(7),
            EiaQid::File(7, LineFile::Data),
            EiaQid::File(7, LineFile::Ctl),
            EiaQid::File(7, LineFile::Status),
        ]
        .map(|qid| qid.pack());
        for (index, qid) in qids.iter().enumerate() {
            assert!(qids[index + 1..].iter().all(|other| other.path != qid.path));
        }
    }

    #[test]
    fn port_names() {
        assert_eq!(parse_port_name("eia0"), Some((0, LineFile::Data)));
        assert_eq!(parse_port_name("eia12ctl"), Some((12, LineFile::Ctl)));
        assert_eq!(parse_port_name("eia3status"), Some((3, LineFile::Status)));
        for bad in [
            "eia", "eia01", "eiactl", "eia0stat", "eia0ctlx", "tty0", "eia-1",
        ] {
            assert_eq!(parse_port_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn ctl_verbs_parse_or_name_the_bad_one() {
        assert_eq!(
            parse_ctl("b115200 L7 pe s2 x1 m0 d1 r0 c1 f k k250 break i h").unwrap(),
            [
                Verb::Baud(BaudRate::B115200),
                Verb::Bits(7),
                Verb::Parity('e'),
                Verb::Stop(2),
                Verb::XonXoff(true),
                Verb::CtsFlow(false),
                Verb::Dtr(true),
                Verb::Rts(false),
                Verb::Carrier(true),
                Verb::FlushOutput,
                Verb::Break(0),
                Verb::Break(250),
                Verb::Break(0),
                Verb::Fifo,
                Verb::Hangup,
            ]
        );
        assert_eq!(parse_ctl("\n").unwrap(), []);
        for (bad, words) in [
            ("b9601", "unsupported baud rate"),
            ("l9", "bits must be"),
            ("s3", "stop bits"),
            ("px", "parity"),
            ("b", "expected a number"),
            ("d", "expected a number"),
            ("bfast", "expected a number"),
            ("z1", "unknown ctl verb 'z1'"),
            ("n1", "not available"),
            ("b99999999999999", "too large"),
        ] {
            let error = parse_ctl(&format!("b9600 {bad}")).unwrap_err().to_string();
            assert!(error.contains(words), "{bad}: {error}");
            assert!(error.contains(bad), "{bad}: {error}");
        }
    }

    #[test]
    fn drivers_file_keeps_serial_and_pty_slaves() {
        let text = "/dev/tty             /dev/tty        5       0 system:/dev/tty\n\
                    serial               /dev/ttyS       4 64-111 serial\n\
                    pty_slave            /dev/pts      136 0-1048575 pty:slave\n\
                    pty_master           /dev/ptm      128 0-1048575 pty:master\n\
                    unknown              /dev/tty        4 1-63 console\n\
                    usbserial            /dev/ttyUSB   188 0-511 serial\n\
                    garbage\n";
        let ranges = parse_drivers(text);
        let found: Vec<(u64, u64, u64)> = ranges
            .iter()
            .map(|range| (range.major, *range.minors.start(), *range.minors.end()))
            .collect();
        assert_eq!(found, [(4, 64, 111), (136, 0, 1048575), (188, 0, 511)]);
    }

    #[test]
    fn only_ttys_are_reachable_by_host_path() {
        let ctx = context();
        for path in [
            "#t*/etc/passwd",
            "#t*/dev/null",
            "#t*/dev/tty",
            "#t*/dev/ptmx",
            "#t*/proc/self/status",
            "#t*/nonexistent",
        ] {
            let error = ctx.open_chan(path, OREAD).unwrap_err();
            assert_eq!(error.root(), &Error::NotExist, "{path}");
        }
        assert_eq!(
            ctx.open_chan("#tbad/x", OREAD).unwrap_err().root(),
            &Error::BadSpec
        );
        // A directory of the host lists its lines only, nothing else.
        let pty = pty();
        let pts = ctx.read_dir("#t*/dev/pts").unwrap();
        assert!(
            pts.iter()
                .all(|dir| dir.name.bytes().all(|b| b.is_ascii_digit()))
        );
        let slave_name = pty.line.rsplit('/').next().unwrap();
        assert!(pts.iter().any(|dir| dir.name == slave_name));
        let names: Vec<String> = ctx
            .read_dir(&pty.line)
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        assert_eq!(names, ["data", "ctl", "status"]);
    }

    #[test]
    fn data_goes_both_ways_in_raw_mode() {
        let ctx = context();
        let pty = pty();
        let data = ctx.open_chan(&format!("{}/data", pty.line), ORDWR).unwrap();
        // Raw: no echo, no newline translation, ^C and ^D are bytes like any other.
        let bytes = b"hello\r\n\x03\x04\x00\xff";
        assert_eq!(ctx.write_chan(&data, bytes, 0).unwrap(), bytes.len());
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while got.len() < bytes.len() {
            let count = nix::unistd::read(&pty.master, &mut buf).unwrap();
            got.extend_from_slice(&buf[..count]);
        }
        assert_eq!(got, bytes);
        nix::unistd::write(&pty.master, bytes).unwrap();
        let mut got = Vec::new();
        while got.len() < bytes.len() {
            let count = ctx.read_chan(&data, &mut buf, 0).unwrap();
            got.extend_from_slice(&buf[..count]);
        }
        assert_eq!(got, bytes);
    }

    #[test]
    fn ctl_settings_reach_the_tty_and_persist() {
        let ctx = context();
        let pty = pty();
        let ctl = ctx.open_chan(&format!("{}/ctl", pty.line), OWRITE).unwrap();
        ctx.write_chan(&ctl, b"b19200 l7 pe s2 x1", 0).unwrap();
        let settings = termios::tcgetattr(pty.master.as_fd()).unwrap();
        assert_eq!(baud_of(&settings), Some(19200));
        // Linux's pseudo-terminals always keep 8 bits and no parity (pty_set_termios).
        assert_eq!((bits_of(&settings), parity_of(&settings)), (8, 'n'));
        assert!(settings.control_flags.contains(ControlFlags::CSTOPB));
        assert!(settings.input_flags.contains(InputFlags::IXON));
        let status = ctx
            .open_chan(&format!("{}/status", pty.line), OREAD)
            .unwrap();
        assert_eq!(
            read_text(&ctx, &status),
            "opens 1 ferr 0 oerr 0 baud 19200 bits 8 stop 2 parity n xonxoff 1 crtscts 0 clocal 0\n"
        );
        // A bad verb anywhere changes nothing.
        let error = ctx.write_chan(&ctl, b"b9600 l9", 0).unwrap_err();
        assert!(error.to_string().contains("'l9'"));
        assert_eq!(
            baud_of(&termios::tcgetattr(pty.master.as_fd()).unwrap()),
            Some(19200)
        );
        // Closed and opened again, the line keeps its settings even if the host changed them.
        drop((ctl, status));
        let mut changed = termios::tcgetattr(pty.master.as_fd()).unwrap();
        termios::cfsetspeed(&mut changed, BaudRate::B300).unwrap();
        termios::tcsetattr(pty.master.as_fd(), SetArg::TCSANOW, &changed).unwrap();
        let _data = ctx.open_chan(&format!("{}/data", pty.line), OREAD).unwrap();
        assert_eq!(
            baud_of(&termios::tcgetattr(pty.master.as_fd()).unwrap()),
            Some(19200)
        );
        // A pseudo-terminal has no modem lines.
        let ctl = ctx.open_chan(&format!("{}/ctl", pty.line), ORDWR).unwrap();
        assert!(ctx.write_chan(&ctl, b"d1", 0).is_err());
        assert!(read_text(&ctx, &ctl).starts_with("/dev/pts/"));
    }

    #[test]
    fn a_read_ends_with_an_interrupt_and_a_hangup() {
        let ctx = context();
        let pty = pty();
        let data = ctx.open_chan(&format!("{}/data", pty.line), ORDWR).unwrap();
        let reader_ctx = Ctx::new(ctx.kernel().first_proc("reader", "glenda"));
        let reader_proc = reader_ctx.proc.clone();
        let chan = data.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            reader_ctx.read_chan(&chan, &mut buf, 0)
        });
        std::thread::sleep(Duration::from_millis(150));
        reader_proc.interrupt();
        assert_eq!(reader.join().unwrap().unwrap_err(), Error::Interrupted);
        // The other end goes: a waiting read fails within a poll round or two.
        let reader_ctx = Ctx::new(ctx.kernel().first_proc("reader", "glenda"));
        let chan = data.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            let started = Instant::now();
            (reader_ctx.read_chan(&chan, &mut buf, 0), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(150));
        let Pty { master, _slave, .. } = pty;
        drop(master);
        let (result, waited) = reader.join().unwrap();
        assert_eq!(result.unwrap_err(), Error::Hungup);
        assert!(waited < Duration::from_secs(2), "{waited:?}");
        assert_eq!(ctx.write_chan(&data, b"x", 0).unwrap_err(), Error::Hungup);
        drop(_slave);
    }

    #[test]
    fn opens_are_counted_for_status() {
        let ctx = context();
        let pty = pty();
        let first = ctx.open_chan(&format!("{}/data", pty.line), OREAD).unwrap();
        let second = ctx
            .open_chan(&format!("{}/data", pty.line), OWRITE)
            .unwrap();
        let status = ctx
            .open_chan(&format!("{}/status", pty.line), OREAD)
            .unwrap();
        assert!(read_text(&ctx, &status).starts_with("opens 2 ferr 0 oerr 0 baud 9600 bits 8"));
        drop((first, second));
        assert!(read_text(&ctx, &status).starts_with("opens 0 "));
    }
}
