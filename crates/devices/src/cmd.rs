//! `#C`: host commands as files (Inferno's `cmd(3)`, `emu/port/devcmd.c`), used by `os`.
//! `bind -a '#C' /` gives `/cmd/clone` and a directory `/cmd/N` per connection, holding `ctl`
//! (`dir`, `exec`, `kill`, `killonclose`, `nice`), `data` (the command's standard input when
//! written; its standard output and error, merged, when read), `status` and `wait`.
//!
//! This is the most dangerous device there is: a host command runs outside every namespace,
//! with whatever the host lets ember's Unix user do. So:
//! - only the host owner (`eve`, the user ember runs as) may attach it, never a listener's
//!   block running as a remote caller;
//! - `nodevs` refuses it like any other device, so a sandbox can never reach it;
//! - when ember runs as the host's superuser, commands run as the host user of the same
//!   name as the ember user, else as `nobody` (as Inferno's emu does).
//!
//! Invariants:
//! - No call blocks in the host: the command's pipes are non-blocking and every wait is a
//!   loop of `poll` (or of `try_wait`) that checks for interrupts, so a Tflush, an interrupt
//!   or a kill ends it; no thread is started.
//! - A connection's command is killed and reaped when the last of its `ctl`, `data` and
//!   `wait` files is closed, so no host process outlives the files that control it.
//! - At most [`MAX_CONVS`] connections exist; they are reused once closed.

use kernel::dev::{check_open, dir_entry, read_str};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use parking_lot::Mutex;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most connections at once.
pub const MAX_CONVS: usize = 64;
/// Longest a wait sleeps in the host before looking for an interrupt again.
const POLL_ROUND: Duration = Duration::from_millis(100);
/// Longest `ctl` request.
const MAX_CTL: usize = 4096;

/// The files of `#C`, as the low bits of a qid path; the connection number is above them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CmdFile {
    Root = 0,
    Dir = 1,
    Clone = 2,
    Conv = 3,
    Ctl = 4,
    Data = 5,
    Status = 6,
    Wait = 7,
}

const FILE_BITS: u32 = 3;
const CONV_FILES: [(&str, CmdFile); 4] = [
    ("ctl", CmdFile::Ctl),
    ("data", CmdFile::Data),
    ("status", CmdFile::Status),
    ("wait", CmdFile::Wait),
];

fn pack(file: CmdFile, conv: usize) -> Qid {
    let path = file as u64 | (conv as u64) << FILE_BITS;
    match file {
        CmdFile::Root | CmdFile::Dir | CmdFile::Conv => Qid::dir(path),
        _ => Qid::file(path),
    }
}

fn unpack(qid: Qid) -> Result<(CmdFile, usize)> {
    let file = match qid.path & ((1 << FILE_BITS) - 1) {
        0 => CmdFile::Root,
        1 => CmdFile::Dir,
        2 => CmdFile::Clone,
        3 => CmdFile::Conv,
        4 => CmdFile::Ctl,
        5 => CmdFile::Data,
        6 => CmdFile::Status,
        _ => CmdFile::Wait,
    };
    Ok((file, (qid.path >> FILE_BITS) as usize))
}

/// Where a connection is in its life (the `state` word of `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Execute,
    Done,
    Close,
}

impl Phase {
    fn word(self) -> &'static str {
        match self {
            Phase::Open => "Open",
            Phase::Execute => "Execute",
            Phase::Done => "Done",
            Phase::Close => "Close",
        }
    }
}

/// One connection to a host command.
struct Conv {
    phase: Phase,
    owner: String,
    /// Open `ctl`, `data` and `wait` files.
    opens: usize,
    dir: PathBuf,
    nice: u8,
    kill_on_close: bool,
    arg0: String,
    child: Option<Child>,
    started: Instant,
    stdin: Option<Arc<OwnedFd>>,
    output: Option<Arc<OwnedFd>>,
    /// The wait line, once the command has ended.
    ended: Option<String>,
}

impl Conv {
    fn new(owner: &str, dir: &Path) -> Conv {
        Conv {
            phase: Phase::Open,
            owner: owner.to_string(),
            opens: 0,
            dir: dir.to_path_buf(),
            nice: 0,
            kill_on_close: false,
            arg0: String::new(),
            child: None,
            started: Instant::now(),
            stdin: None,
            output: None,
            ended: None,
        }
    }

    /// Records the command's end if it has ended (`pid user sys real 'status'`).
    fn reap(&mut self) -> Option<String> {
        if self.ended.is_none()
            && let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            let text = match (status.code(), status.signal()) {
                (Some(0), _) => String::new(),
                (Some(code), _) => format!("exit {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                (None, None) => "failed".to_string(),
            };
            let real = self.started.elapsed().as_millis();
            self.ended = Some(format!(
                "{} 0 0 {real} {}",
                child.id(),
                kernel::text::quote(&text)
            ));
            self.phase = Phase::Done;
        }
        self.ended.clone()
    }

    fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.reap();
    }
}

/// The host-command device.
pub struct Cmd {
    /// The host directory commands start in unless `dir` says otherwise: ember's root.
    root: PathBuf,
    convs: Mutex<Vec<Arc<Mutex<Conv>>>>,
}

impl Cmd {
    pub fn new(root: &Path) -> Cmd {
        Cmd {
            root: root.to_path_buf(),
            convs: Mutex::new(Vec::new()),
        }
    }

    fn conv(&self, index: usize) -> Result<Arc<Mutex<Conv>>> {
        self.convs.lock().get(index).cloned().ok_or(Error::NotExist)
    }

    /// A fresh connection for `owner`: a closed one reused, else a new one.
    fn clone_conv(&self, owner: &str) -> Result<usize> {
        let mut convs = self.convs.lock();
        for (index, conv) in convs.iter().enumerate() {
            let mut conv = conv.lock();
            if conv.phase == Phase::Close && conv.opens == 0 {
                *conv = Conv::new(owner, &self.root);
                conv.opens = 1;
                return Ok(index);
            }
        }
        if convs.len() >= MAX_CONVS {
            return Err(Error::msg("no free host command connections"));
        }
        let mut conv = Conv::new(owner, &self.root);
        conv.opens = 1;
        convs.push(Arc::new(Mutex::new(conv)));
        Ok(convs.len() - 1)
    }

    fn dir(&self, ctx: &Ctx, chan: &Chan, file: CmdFile, index: usize) -> Result<Dir> {
        let eve = ctx.kernel().eve();
        let qid = pack(file, index);
        let entry = |name: &str, owner: &str, perm: u32| dir_entry(chan, qid, name, 0, owner, perm);
        Ok(match file {
            CmdFile::Root => entry("#C", &eve, 0o500),
            CmdFile::Dir => entry("cmd", &eve, 0o500),
            CmdFile::Clone => entry("clone", &eve, 0o600),
            _ => {
                let owner = self.conv(index)?.lock().owner.clone();
                match file {
                    CmdFile::Conv => entry(&index.to_string(), &owner, 0o500),
                    CmdFile::Status => entry("status", &owner, 0o400),
                    CmdFile::Wait => entry("wait", &owner, 0o400),
                    CmdFile::Ctl => entry("ctl", &owner, 0o600),
                    _ => entry("data", &owner, 0o600),
                }
            }
        })
    }

    /// Carries out one `ctl` request.
    fn control(&self, ctx: &Ctx, conv: &mut Conv, words: &[String]) -> Result<()> {
        let Some((verb, args)) = words.split_first() else {
            return Err(Error::BadCtl);
        };
        match (verb.as_str(), args) {
            ("dir", [dir]) if conv.phase == Phase::Open => {
                let dir = PathBuf::from(dir);
                if !dir.is_dir() {
                    return Err(Error::msg(format!(
                        "{}: not a host directory",
                        dir.display()
                    )));
                }
                conv.dir = dir;
                Ok(())
            }
            ("nice", []) if conv.phase == Phase::Open => {
                conv.nice = 1;
                Ok(())
            }
            ("nice", [level]) if conv.phase == Phase::Open => match level.parse() {
                Ok(level @ 1..=3) => {
                    conv.nice = level;
                    Ok(())
                }
                _ => Err(Error::msg("nice: level must be 1, 2 or 3")),
            },
            ("dir" | "nice", _) if conv.phase != Phase::Open => {
                Err(Error::msg(format!("{verb}: the command has started")))
            }
            ("exec", [_, ..]) if conv.phase == Phase::Open => self.exec(ctx, conv, args),
            ("exec", [_, ..]) => Err(Error::msg("exec: a command has already run here")),
            ("kill", []) => {
                conv.kill();
                Ok(())
            }
            ("killonclose", []) => {
                conv.kill_on_close = true;
                Ok(())
            }
            _ => Err(Error::msg(format!(
                "unknown or malformed control message '{}'",
                kernel::text::quote_list(words)
            ))),
        }
    }

    /// Starts the host command `args` (name first).
    fn exec(&self, ctx: &Ctx, conv: &mut Conv, args: &[String]) -> Result<()> {
        let (output, output_write) = nix::unistd::pipe().map_err(host_error)?;
        let mut command = if conv.nice > 0 {
            let mut command = Command::new("nice");
            command
                .arg("-n")
                .arg((5 * conv.nice).to_string())
                .arg(&args[0]);
            command
        } else {
            Command::new(&args[0])
        };
        command
            .args(&args[1..])
            .current_dir(&conv.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(output_write.try_clone().map_err(host_io)?))
            .stderr(Stdio::from(output_write));
        if nix::unistd::geteuid().is_root() {
            // As emu does: never run a host command as the superuser on a caller's behalf.
            let (uid, gid) = match nix::unistd::User::from_name(&ctx.user()) {
                Ok(Some(user)) if !user.uid.is_root() => (user.uid, user.gid),
                _ => (
                    nix::unistd::Uid::from_raw(65534),
                    nix::unistd::Gid::from_raw(65534),
                ),
            };
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let mut child = command
            .spawn()
            .map_err(|error| Error::msg(format!("exec {}: {error}", args[0])))?;
        let stdin = child
            .stdin
            .take()
            .map(OwnedFd::from)
            .ok_or_else(|| Error::msg("exec: no input pipe"))?;
        for fd in [&stdin, &output] {
            fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(host_error)?;
        }
        conv.arg0 = args[0].clone();
        conv.started = Instant::now();
        conv.stdin = Some(Arc::new(stdin));
        conv.output = Some(Arc::new(output));
        conv.child = Some(child);
        conv.phase = Phase::Execute;
        Ok(())
    }

    /// Reads the command's output, waiting for some; 0 at its end.
    fn read_output(ctx: &Ctx, output: &OwnedFd, buf: &mut [u8]) -> Result<usize> {
        loop {
            match nix::unistd::read(output, buf) {
                Ok(count) => return Ok(count),
                Err(Errno::EAGAIN) => wait_ready(ctx, output, PollFlags::POLLIN)?,
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(host_error(errno)),
            }
        }
    }

    /// Writes all of `data` to the command's input.
    fn write_input(ctx: &Ctx, input: &OwnedFd, data: &[u8]) -> Result<usize> {
        let mut written = 0;
        while written < data.len() {
            match nix::unistd::write(input, &data[written..]) {
                Ok(count) => written += count,
                Err(Errno::EAGAIN) => wait_ready(ctx, input, PollFlags::POLLOUT)?,
                Err(Errno::EINTR) => {}
                Err(Errno::EPIPE) => return Err(Error::ClosedPipe),
                Err(errno) => return Err(host_error(errno)),
            }
        }
        Ok(written)
    }
}

/// Waits until `fd` is ready for `events` (or hung up), checking for interrupts each round.
fn wait_ready(ctx: &Ctx, fd: &OwnedFd, events: PollFlags) -> Result<()> {
    let round = PollTimeout::try_from(POLL_ROUND).unwrap_or(PollTimeout::ZERO);
    loop {
        ctx.check()?;
        let mut fds = [PollFd::new(fd.as_fd(), events)];
        match poll(&mut fds, round) {
            Ok(count) if count > 0 => return Ok(()),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(host_error(errno)),
        }
    }
}

fn host_error(errno: Errno) -> Error {
    Error::msg(errno.desc().to_lowercase())
}

fn host_io(error: std::io::Error) -> Error {
    Error::msg(error.to_string())
}

impl Device for Cmd {
    fn letter(&self) -> char {
        'C'
    }

    fn name(&self) -> &'static str {
        "cmd"
    }

    fn attach(&self, ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        if ctx.user() != ctx.kernel().eve() {
            return Err(Error::Perm);
        }
        Ok(Attached::root(pack(CmdFile::Root, 0)))
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let (file, index) = unpack(chan.qid)?;
        let next = match (file, name) {
            (CmdFile::Root, "cmd") => pack(CmdFile::Dir, 0),
            (CmdFile::Dir, "clone") => pack(CmdFile::Clone, 0),
            (CmdFile::Dir, name) => {
                let index: usize = name
                    .parse()
                    .ok()
                    .filter(|index: &usize| name == index.to_string())
                    .ok_or(Error::NotExist)?;
                self.conv(index)?;
                pack(CmdFile::Conv, index)
            }
            (CmdFile::Conv, name) => {
                let (_, file) = CONV_FILES
                    .iter()
                    .find(|(known, _)| *known == name)
                    .ok_or(Error::NotExist)?;
                pack(*file, index)
            }
            (CmdFile::Root, _) => return Err(Error::NotExist),
            _ => return Err(Error::NotDir),
        };
        Ok(chan.walked(next))
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let (file, conv) = unpack(dir.qid)?;
        let (file, conv) = match file {
            CmdFile::Root if index == 0 => (CmdFile::Dir, 0),
            CmdFile::Dir => {
                let count = self.convs.lock().len();
                match index {
                    index if index < count => (CmdFile::Conv, index),
                    index if index == count => (CmdFile::Clone, 0),
                    _ => return Ok(None),
                }
            }
            CmdFile::Conv => match CONV_FILES.get(index) {
                Some((_, file)) => (*file, conv),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.dir(ctx, dir, file, conv).map(Some)
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let (file, index) = unpack(chan.qid)?;
        self.dir(ctx, chan, file, index)
    }

    fn open(&self, ctx: &Ctx, mut chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let (file, index) = unpack(chan.qid)?;
        check_open(ctx, &self.dir(ctx, &chan, file, index)?, mode)?;
        match file {
            CmdFile::Clone => {
                let index = self.clone_conv(&ctx.user())?;
                let dir = chan
                    .name
                    .rsplit_once('/')
                    .map_or(".", |(dir, _)| dir)
                    .to_string();
                let name = kernel::path::join(&dir, &format!("{index}/ctl"));
                chan = chan.walked(pack(CmdFile::Ctl, index));
                chan.name = Arc::from(name);
            }
            CmdFile::Ctl | CmdFile::Data | CmdFile::Wait => {
                let conv = self.conv(index)?;
                let mut conv = conv.lock();
                if conv.phase == Phase::Close {
                    return Err(Error::NotExist);
                }
                conv.opens += 1;
            }
            _ => {}
        }
        Ok(chan.opened(mode))
    }

    fn close(&self, chan: &Chan) {
        let Ok((file, index)) = unpack(chan.qid) else {
            return;
        };
        if !matches!(file, CmdFile::Ctl | CmdFile::Data | CmdFile::Wait) {
            return;
        }
        let Ok(conv) = self.conv(index) else {
            return;
        };
        let mut conv = conv.lock();
        // Closing data opened for writing is the command's end of input.
        let writer = chan
            .mode
            .is_some_and(|mode| matches!(mode.0 & 3, ninep::OWRITE | ninep::ORDWR));
        if file == CmdFile::Data && writer {
            conv.stdin = None;
        }
        conv.opens = conv.opens.saturating_sub(1);
        if (file == CmdFile::Ctl && conv.kill_on_close) || conv.opens == 0 {
            conv.kill();
        }
        if conv.opens == 0 {
            conv.phase = Phase::Close;
            conv.stdin = None;
            conv.output = None;
            conv.child = None;
        }
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let (file, index) = unpack(chan.qid)?;
        let conv = self.conv(index)?;
        match file {
            CmdFile::Ctl => Ok(read_str(&index.to_string(), buf, offset)),
            CmdFile::Status => {
                let mut conv = conv.lock();
                conv.reap();
                let line = format!(
                    "cmd/{index} {} {} {} {}\n",
                    conv.opens,
                    conv.phase.word(),
                    conv.dir.display(),
                    if conv.arg0.is_empty() {
                        "?"
                    } else {
                        &conv.arg0
                    }
                );
                Ok(read_str(&line, buf, offset))
            }
            CmdFile::Data => {
                let output = conv.lock().output.clone();
                match output {
                    Some(output) => Cmd::read_output(ctx, &output, buf),
                    None => Ok(0),
                }
            }
            CmdFile::Wait => {
                if offset != 0 {
                    return Ok(0);
                }
                loop {
                    {
                        let mut conv = conv.lock();
                        if let Some(line) = conv.reap() {
                            return Ok(read_str(&line, buf, 0));
                        }
                        if conv.child.is_none() && conv.phase != Phase::Open {
                            return Ok(0);
                        }
                    }
                    ctx.sleep_for(Duration::from_millis(20))?;
                }
            }
            _ => Err(Error::IsDir),
        }
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let (file, index) = unpack(chan.qid)?;
        let conv = self.conv(index)?;
        match file {
            CmdFile::Ctl => {
                if data.len() > MAX_CTL {
                    return Err(Error::BadCtl);
                }
                let text = std::str::from_utf8(data).map_err(|_| Error::BadCtl)?;
                let words = kernel::text::tokenize(text.trim_end_matches('\n'));
                self.control(ctx, &mut conv.lock(), &words)?;
                Ok(data.len())
            }
            CmdFile::Data => {
                let input = conv.lock().stdin.clone();
                match input {
                    Some(input) => Cmd::write_input(ctx, &input, data),
                    None => Err(Error::ClosedPipe),
                }
            }
            _ => Err(Error::Perm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::{Kernel, MAFTER, Namespace};

    fn setup(user: &str) -> Ctx {
        let kernel = Kernel::new("eve", "test");
        kernel.register(Arc::new(crate::root::Root::new())).unwrap();
        kernel
            .register(Arc::new(Cmd::new(&std::env::temp_dir())))
            .unwrap();
        let ctx = Ctx::new(kernel.first_proc("test", user));
        let root = ctx.ns().attach(&ctx, '/', "").unwrap();
        ctx.proc.set_ns(Arc::new(Namespace::new(root)));
        ctx
    }

    #[test]
    fn only_the_host_owner_may_attach() {
        let ctx = setup("bob");
        assert_eq!(
            ctx.bind("#C", "/", MAFTER).unwrap_err().root(),
            &Error::Perm
        );
        let ctx = setup("eve");
        ctx.bind("#C", "/", MAFTER).unwrap();
        assert!(ctx.stat("/cmd/clone").is_ok());
    }

    #[test]
    fn closing_every_file_kills_the_command() {
        let ctx = setup("eve");
        ctx.bind("#C", "/", MAFTER).unwrap();
        let ctl = ctx.open_chan("/cmd/clone", ninep::ORDWR).unwrap();
        let wait = ctx.open_chan("/cmd/0/wait", ninep::OREAD).unwrap();
        ctx.write_chan(&ctl, b"exec sleep 100", 0).unwrap();
        let mut status = [0u8; 128];
        let count = ctx.read_chan(&ctl, &mut status, 0).unwrap();
        assert_eq!(&status[..count], b"0");
        let line = |ctx: &Ctx| {
            let mut buf = [0u8; 256];
            let count = ctx
                .read_chan(
                    &ctx.open_chan("/cmd/0/status", ninep::OREAD).unwrap(),
                    &mut buf,
                    0,
                )
                .unwrap();
            String::from_utf8_lossy(&buf[..count]).into_owned()
        };
        assert!(line(&ctx).contains(" Execute "), "{}", line(&ctx));
        drop((ctl, wait));
        assert!(line(&ctx).contains(" Close "), "{}", line(&ctx));
        // Bad requests are errors, not panics.
        let ctl = ctx.open_chan("/cmd/clone", ninep::ORDWR).unwrap();
        for bad in [
            "",
            "exec",
            "frob",
            "nice 9",
            "dir /no/such/dir",
            "kill extra",
        ] {
            assert!(ctx.write_chan(&ctl, bad.as_bytes(), 0).is_err(), "{bad}");
        }
    }
}
