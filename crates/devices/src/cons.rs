//! `#c`: the console and the kernel's small files (Inferno `devcons.c`): `cons`, `consctl`,
//! `drivers`, `hostowner`, `hoststdin`, `hoststdout`, `hoststderr`, `msec`, `notquiterandom`,
//! `null`, `random`, `sysctl`, `sysname`, `time`, `user`.
//!
//! Console input comes from the host's standard input through one reader thread that reads
//! only when some process is waiting, so a waiting read stays interruptible and nothing is
//! taken from the terminal that no one asked for. When standard input is a terminal the host's
//! line discipline edits lines (erase, kill, end of file) and a read returns at most one line;
//! `rawon` on `consctl` turns that off until `rawoff` or the last close of `consctl`. When it
//! is not a terminal, bytes pass as they come.
//!
//! Invariants: no read blocks except through `Ctx::sleep`; the terminal is restored to how
//! ember found it by `rawoff`, the last close of `consctl`, and [`restore_terminal`].

use kernel::dev::{DirTab, fixed_number, read_str, table_entry, table_stat};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Rendez, Result};
use nix::sys::termios::{self, LocalFlags, SetArg, Termios};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

/// Files of `#c`, by qid path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
enum File {
    Root = 0,
    Cons,
    Consctl,
    Drivers,
    Hostowner,
    Hoststdin,
    Hoststdout,
    Hoststderr,
    Msec,
    Notquiterandom,
    Null,
    Random,
    Sysctl,
    Sysname,
    Time,
    User,
}

impl File {
    const ALL: [File; 15] = [
        File::Cons,
        File::Consctl,
        File::Drivers,
        File::Hostowner,
        File::Hoststdin,
        File::Hoststdout,
        File::Hoststderr,
        File::Msec,
        File::Notquiterandom,
        File::Null,
        File::Random,
        File::Sysctl,
        File::Sysname,
        File::Time,
        File::User,
    ];

    fn of(qid: Qid) -> File {
        File::ALL
            .iter()
            .copied()
            .find(|file| *file as u64 == qid.path)
            .unwrap_or(File::Root)
    }
}

const TABLE: [DirTab; 15] = [
    DirTab::file("cons", File::Cons as u64, 0o660),
    DirTab::file("consctl", File::Consctl as u64, 0o220),
    DirTab::file("drivers", File::Drivers as u64, 0o444),
    DirTab::file("hostowner", File::Hostowner as u64, 0o664),
    DirTab::file("hoststdin", File::Hoststdin as u64, 0o440),
    DirTab::file("hoststdout", File::Hoststdout as u64, 0o220),
    DirTab::file("hoststderr", File::Hoststderr as u64, 0o220),
    DirTab::file("msec", File::Msec as u64, 0o444),
    DirTab::file("notquiterandom", File::Notquiterandom as u64, 0o444),
    DirTab::file("null", File::Null as u64, 0o666),
    DirTab::file("random", File::Random as u64, 0o444),
    DirTab::file("sysctl", File::Sysctl as u64, 0o644),
    DirTab::file("sysname", File::Sysname as u64, 0o664),
    DirTab::file("time", File::Time as u64, 0o664),
    DirTab::file("user", File::User as u64, 0o666),
];

/// Longest system name accepted on `sysname`.
const MAX_SYSNAME: usize = 64;

/// What `sysctl` reads.
pub const VERSION: &str = concat!("ember ", env!("CARGO_PKG_VERSION"));

#[derive(Default)]
struct Input {
    queue: VecDeque<u8>,
    /// A zero-length read from a terminal (the user typed the end-of-file key): one reader
    /// gets end of file, later reads wait for more.
    eof_once: bool,
    /// Standard input is finished for good.
    closed: bool,
    /// A process is waiting and the reader thread has been asked for more.
    wanted: bool,
    /// Processes waiting in [`HostInput::read`].
    waiting: usize,
    reader_started: bool,
}

/// The host's standard input, read on demand.
struct HostInput {
    state: Mutex<Input>,
    arrived: Rendez,
    request: Condvar,
}

impl HostInput {
    fn get() -> &'static HostInput {
        static INPUT: OnceLock<HostInput> = OnceLock::new();
        INPUT.get_or_init(|| HostInput {
            state: Mutex::new(Input::default()),
            arrived: Rendez::new(),
            request: Condvar::new(),
        })
    }

    /// Reads what is queued: one line at most when `by_line`, else as much as fits.
    fn read(&'static self, ctx: &Ctx, buf: &mut [u8], by_line: bool) -> Result<usize> {
        let mut state = self.state.lock();
        loop {
            if !state.queue.is_empty() {
                let mut count = state.queue.len().min(buf.len());
                if by_line && let Some(newline) = state.queue.iter().position(|&b| b == b'\n') {
                    count = count.min(newline + 1);
                }
                for (slot, byte) in buf.iter_mut().zip(state.queue.drain(..count)) {
                    *slot = byte;
                }
                return Ok(count);
            }
            if state.eof_once {
                state.eof_once = false;
                return Ok(0);
            }
            if state.closed {
                return Ok(0);
            }
            if !state.reader_started {
                state.reader_started = true;
                let started = ctx
                    .kernel()
                    .spawn_thread("cons-reader", 64 << 10, move || self.reader());
                if started.is_err() {
                    state.closed = true;
                    return Err(Error::msg("cannot read the console"));
                }
            }
            state.wanted = true;
            self.request.notify_one();
            state.waiting += 1;
            let slept = ctx.sleep(&self.arrived, &mut state);
            state.waiting -= 1;
            if let Err(error) = slept {
                // Nobody wants input any more: the reader thread must not take the next
                // line typed, which belongs to whoever reads the terminal next (the shell).
                if state.waiting == 0 {
                    state.wanted = false;
                }
                return Err(error);
            }
        }
    }

    /// The reader thread: one host read per request.
    fn reader(&self) {
        let mut buf = vec![0u8; 8192];
        let terminal = stdin_is_terminal();
        loop {
            {
                let mut state = self.state.lock();
                while !state.wanted {
                    self.request.wait(&mut state);
                }
            }
            if !self.input_ready() {
                continue;
            }
            let result = std::io::stdin().lock().read(&mut buf);
            let mut state = self.state.lock();
            state.wanted = false;
            match result {
                Ok(0) if terminal => state.eof_once = true,
                Ok(0) => state.closed = true,
                Ok(count) => state.queue.extend(&buf[..count]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => state.closed = true,
            }
            self.arrived.wakeup();
            if state.closed {
                return;
            }
        }
    }
}

impl HostInput {
    /// Waits until standard input has something to read (a whole line, on a terminal in its
    /// usual mode) while somebody still wants it; false if the request was given up first.
    fn input_ready(&self) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let stdin = std::io::stdin();
        loop {
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(50u16)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => {
                    if !self.state.lock().wanted {
                        return false;
                    }
                }
                // Readable, hung up or in error: the read says which.
                _ => return self.state.lock().wanted,
            }
        }
    }
}

fn stdin_is_terminal() -> bool {
    nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
}

/// The terminal settings found at start, to put back.
fn saved_terminal() -> &'static Mutex<Option<Termios>> {
    static SAVED: OnceLock<Mutex<Option<Termios>>> = OnceLock::new();
    SAVED.get_or_init(|| Mutex::new(None))
}

fn set_raw(raw: bool) -> Result<()> {
    if !stdin_is_terminal() {
        return Ok(());
    }
    let stdin = std::io::stdin();
    let mut saved = saved_terminal().lock();
    if raw {
        let current = termios::tcgetattr(&stdin).map_err(|e| Error::msg(e.desc()))?;
        if saved.is_none() {
            *saved = Some(current.clone());
        }
        let mut changed = current;
        changed
            .local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO);
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &changed).map_err(|e| Error::msg(e.desc()))
    } else if let Some(original) = saved.take() {
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &original).map_err(|e| Error::msg(e.desc()))
    } else {
        Ok(())
    }
}

/// Puts the terminal back as ember found it (on exit).
pub fn restore_terminal() {
    let _ = set_raw(false);
}

fn write_host(mut out: impl Write, data: &[u8]) -> Result<usize> {
    out.write_all(data)
        .and_then(|()| out.flush())
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::BrokenPipe => Error::ClosedPipe,
            _ => Error::msg(error.to_string()),
        })?;
    Ok(data.len())
}

/// The console device.
pub struct Cons {
    consctl_opens: Mutex<usize>,
    raw: Mutex<bool>,
}

impl Cons {
    pub fn new() -> Cons {
        Cons {
            consctl_opens: Mutex::new(0),
            raw: Mutex::new(false),
        }
    }

    fn random(buf: &mut [u8]) -> Result<usize> {
        static URANDOM: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
        let source = URANDOM
            .get_or_init(|| std::fs::File::open("/dev/urandom").ok().map(Mutex::new))
            .as_ref()
            .ok_or(Error::msg("no source of random bytes"))?;
        source
            .lock()
            .read_exact(buf)
            .map_err(|error| Error::msg(error.to_string()))?;
        Ok(buf.len())
    }

    fn text(&self, ctx: &Ctx, file: File) -> Option<String> {
        let kernel = ctx.kernel();
        Some(match file {
            File::Drivers => kernel
                .devices()
                .iter()
                .map(|device| format!("#{} {}\n", device.letter(), device.name()))
                .collect(),
            File::Hostowner => kernel.eve(),
            File::Msec => fixed_number(kernel.booted.elapsed().as_millis() as i64),
            File::Sysctl => format!("{VERSION}\n"),
            File::Sysname => kernel.sysname(),
            File::Time => kernel::time::now_micros().to_string(),
            File::User => ctx.user(),
            _ => return None,
        })
    }
}

impl Default for Cons {
    fn default() -> Cons {
        Cons::new()
    }
}

fn one_line(data: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(data).map_err(|_| Error::BadArg)?;
    Ok(text.trim_end_matches('\n').to_string())
}

impl Device for Cons {
    fn letter(&self) -> char {
        'c'
    }

    fn name(&self) -> &'static str {
        "cons"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(Qid::dir(File::Root as u64)))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        if File::of(dir.qid) != File::Root {
            return Ok(None);
        }
        Ok(table_entry(ctx, dir, &TABLE, index, |_| 0))
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        table_stat(ctx, chan, &TABLE, |_| 0)
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let dir = self.stat(ctx, &chan)?;
        kernel::dev::check_open(ctx, &dir, mode)?;
        if File::of(chan.qid) == File::Consctl {
            *self.consctl_opens.lock() += 1;
        }
        Ok(chan.opened(mode))
    }

    fn close(&self, chan: &Chan) {
        if File::of(chan.qid) == File::Consctl {
            let mut opens = self.consctl_opens.lock();
            *opens = opens.saturating_sub(1);
            if *opens == 0 && std::mem::take(&mut *self.raw.lock()) {
                let _ = set_raw(false);
            }
        }
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let file = File::of(chan.qid);
        match file {
            File::Cons => {
                let by_line = stdin_is_terminal() && !*self.raw.lock();
                HostInput::get().read(ctx, buf, by_line)
            }
            File::Hoststdin => HostInput::get().read(ctx, buf, false),
            File::Null => Ok(0),
            File::Random | File::Notquiterandom => Cons::random(buf),
            File::Consctl | File::Hoststdout | File::Hoststderr => Err(Error::Perm),
            File::Root => Err(Error::IsDir),
            _ => {
                let text = self.text(ctx, file).unwrap_or_default();
                Ok(read_str(&text, buf, offset))
            }
        }
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let kernel = ctx.kernel();
        match File::of(chan.qid) {
            File::Cons | File::Hoststdout => {
                kernel.note_console_output(data);
                write_host(std::io::stdout().lock(), data)
            }
            File::Hoststderr => {
                kernel.note_console_output(data);
                write_host(std::io::stderr().lock(), data)
            }
            File::Null => Ok(data.len()),
            File::Consctl => {
                match one_line(data)?.trim() {
                    "rawon" => {
                        set_raw(true)?;
                        *self.raw.lock() = true;
                    }
                    "rawoff" => {
                        set_raw(false)?;
                        *self.raw.lock() = false;
                    }
                    other => return Err(Error::msg(format!("unknown control message '{other}'"))),
                }
                Ok(data.len())
            }
            File::Sysname => {
                let name = one_line(data)?;
                if name.is_empty() || name.len() > MAX_SYSNAME {
                    return Err(Error::BadArg);
                }
                kernel.set_sysname(&name);
                Ok(data.len())
            }
            File::User => {
                if ctx.user() != kernel.eve() {
                    return Err(Error::Perm);
                }
                let user = one_line(data)?;
                if user.is_empty() || user.len() > 64 || user.contains(char::is_whitespace) {
                    return Err(Error::BadArg);
                }
                ctx.proc.set_user(&user);
                Ok(data.len())
            }
            File::Hostowner => {
                if ctx.user() != kernel.eve() {
                    return Err(Error::Perm);
                }
                let owner = one_line(data)?;
                if owner.is_empty() || owner.len() > 64 {
                    return Err(Error::BadArg);
                }
                kernel.set_eve(&owner);
                Ok(data.len())
            }
            File::Sysctl => {
                let words = kernel::text::tokenize(&one_line(data)?);
                match words.first().map(String::as_str) {
                    Some("halt") => {
                        let code = words
                            .get(1)
                            .and_then(|word| word.parse::<i32>().ok())
                            .unwrap_or(0);
                        restore_terminal();
                        std::process::exit(code);
                    }
                    Some(verb) => Err(Error::msg(format!("unknown control message '{verb}'"))),
                    None => Err(Error::BadCtl),
                }
            }
            _ => Err(Error::Perm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Kernel;
    use ninep::{OREAD, OWRITE};

    fn context() -> Ctx {
        let kernel = Kernel::new("eve", "testhost");
        kernel.register(Arc::new(Cons::new())).unwrap();
        kernel.register(Arc::new(crate::root::Root::new())).unwrap();
        Ctx::new(kernel.first_proc("test", "eve"))
    }

    fn cat(ctx: &Ctx, path: &str) -> String {
        String::from_utf8(ctx.read_file(path, 4096).unwrap()).unwrap()
    }

    #[test]
    fn lists_its_files() {
        let ctx = context();
        let names: Vec<String> = ctx
            .read_dir("#c")
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        assert_eq!(names.len(), 15);
        assert!(names.contains(&"consctl".to_string()));
    }

    #[test]
    fn small_files_read_as_inferno() {
        let ctx = context();
        assert_eq!(cat(&ctx, "#c/user"), "eve");
        assert_eq!(cat(&ctx, "#c/sysname"), "testhost");
        assert_eq!(cat(&ctx, "#c/drivers"), "#c cons\n#/ root\n");
        assert_eq!(cat(&ctx, "#c/msec").len(), 12);
        assert!(cat(&ctx, "#c/time").parse::<u64>().unwrap() > 1_600_000_000_000_000);
        assert_eq!(cat(&ctx, "#c/null"), "");
        assert!(cat(&ctx, "#c/sysctl").starts_with("ember "));
    }

    #[test]
    fn random_fills_the_buffer() {
        let ctx = context();
        let fd = ctx.open("#c/random", OREAD).unwrap();
        let mut first = [0u8; 32];
        let mut second = [0u8; 32];
        assert_eq!(ctx.read(fd, &mut first).unwrap(), 32);
        assert_eq!(ctx.read(fd, &mut second).unwrap(), 32);
        assert_ne!(first, second);
    }

    #[test]
    fn writes_check_their_input() {
        let ctx = context();
        let fd = ctx.open("#c/sysname", OWRITE).unwrap();
        ctx.write(fd, b"newname\n").unwrap();
        assert_eq!(cat(&ctx, "#c/sysname"), "newname");
        assert_eq!(ctx.write(fd, b"").unwrap_err(), Error::BadArg);
        let fd = ctx.open("#c/consctl", OWRITE).unwrap();
        assert_eq!(
            ctx.write(fd, b"bogus").unwrap_err().to_string(),
            "unknown control message 'bogus'"
        );
        let fd = ctx.open("#c/user", OWRITE).unwrap();
        ctx.write(fd, b"glenda").unwrap();
        assert_eq!(cat(&ctx, "#c/user"), "glenda");
        // Only the host owner may change users.
        assert_eq!(ctx.write(fd, b"eve").unwrap_err(), Error::Perm);
        assert!(ctx.open("#c/random", OWRITE).is_err());
    }
}
