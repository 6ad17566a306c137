//! `#p`: the kernel's processes as files (Inferno `devprog.c`), bound on `/prog`. One
//! directory per live process, named by pid, holding `ctl`, `fd`, `ns`, `nsgrp`, `pgrp`,
//! `status` and `wait`, owned by the process's user:
//! - `status`: [`kernel::Proc::status_line`] and a newline (what `ps` prints);
//! - `ns`: the namespace in Inferno's text form, as it was when the file was opened;
//! - `fd`: the current directory, then one [`crate::dup::fd_line`] per open descriptor;
//! - `nsgrp`, `pgrp`: namespace and process group ids in the 12-byte numeric form;
//! - `wait`: each read returns one exit record `pid "Module":status` of a child that exited
//!   while the file was open, waiting for one if need be;
//! - `ctl`: `kill`, `killgrp`, and Inferno's `restricted` and `exceptions` (accepted, no-ops).
//!
//! Invariants:
//! - A process that has exited is gone: it leaves the listing, and chans still open on its
//!   files fail with "process exited".
//! - Processes are host threads; the only way to stop one is [`kernel::Proc::kill`], which
//!   makes its current and later blocking calls fail.
//! - Every `open_wait` made by opening `wait` is matched by one `close_wait` when that chan
//!   closes.

use crate::dup::{decimal_width, fd_line_padded};
use kernel::dev::{check_open, dir_entry, fixed_number, read_str};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Proc, Qid, Result};
use ninep::DMDIR;
use std::sync::Arc;

/// Longest control message accepted.
const MAX_CTL: usize = 256;

/// The files of a process directory, in listing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProgFile {
    Ctl = 1,
    Fd,
    Ns,
    Nsgrp,
    Pgrp,
    Status,
    Wait,
}

impl ProgFile {
    const ALL: [ProgFile; 7] = [
        ProgFile::Ctl,
        ProgFile::Fd,
        ProgFile::Ns,
        ProgFile::Nsgrp,
        ProgFile::Pgrp,
        ProgFile::Status,
        ProgFile::Wait,
    ];

    fn name(self) -> &'static str {
        match self {
            ProgFile::Ctl => "ctl",
            ProgFile::Fd => "fd",
            ProgFile::Ns => "ns",
            ProgFile::Nsgrp => "nsgrp",
            ProgFile::Pgrp => "pgrp",
            ProgFile::Status => "status",
            ProgFile::Wait => "wait",
        }
    }

    fn perm(self) -> u32 {
        match self {
            ProgFile::Ctl => 0o200,
            ProgFile::Fd | ProgFile::Ns | ProgFile::Wait => 0o400,
            ProgFile::Nsgrp | ProgFile::Pgrp | ProgFile::Status => 0o444,
        }
    }

    fn from_code(code: u64) -> Option<ProgFile> {
        ProgFile::ALL
            .iter()
            .copied()
            .find(|file| *file as u64 == code)
    }
}

/// A file of `#p`: qid path 0 is the root; `pid << 4` a process directory; `pid << 4 | file`
/// one of its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProgQid {
    Root,
    Proc(u32),
    File(u32, ProgFile),
}

const SHIFT: u32 = 4;

impl ProgQid {
    fn pack(self) -> Qid {
        match self {
            ProgQid::Root => Qid::dir(0),
            ProgQid::Proc(pid) => Qid::dir(u64::from(pid) << SHIFT),
            ProgQid::File(pid, file) => Qid::file(u64::from(pid) << SHIFT | file as u64),
        }
    }

    fn unpack(qid: Qid) -> Option<ProgQid> {
        if qid.path == 0 {
            return Some(ProgQid::Root);
        }
        let pid = u32::try_from(qid.path >> SHIFT).ok()?;
        match qid.path & ((1 << SHIFT) - 1) {
            0 => Some(ProgQid::Proc(pid)),
            code => ProgFile::from_code(code).map(|file| ProgQid::File(pid, file)),
        }
    }
}

/// Parses a directory name as a pid, written as the listing writes it.
fn parse_pid(name: &str) -> Option<u32> {
    let canonical = !name.is_empty()
        && name.len() <= 10
        && name.bytes().all(|byte| byte.is_ascii_digit())
        && !name.starts_with('0');
    name.parse().ok().filter(|_| canonical)
}

/// The live process `pid`; one that has exited counts as gone.
fn live(ctx: &Ctx, pid: u32) -> Result<Arc<Proc>> {
    ctx.kernel()
        .proc(pid)
        .filter(|proc| proc.exit_status().is_none())
        .ok_or(Error::ProcDied)
}

/// What an open chan of `#p` remembers.
enum OpenState {
    /// `ns`: the namespace text when opened.
    Ns(String),
    /// `fd`: the text made by the read at offset 0.
    Fd(String),
    /// `wait`: the process whose wait queue this open holds.
    Wait(Arc<Proc>),
}

/// A directory listing of the root, taken when a directory read starts.
struct Listing(Vec<(u32, String)>);

/// The ctl verbs (Plan 9 `Cmdtab`): verb, number of words with the verb, usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Kill,
    Killgrp,
    Restricted,
    Exceptions,
}

const CTL_TABLE: [(Verb, &str, usize, &str); 4] = [
    (Verb::Kill, "kill", 1, "kill"),
    (Verb::Killgrp, "killgrp", 1, "killgrp"),
    (Verb::Restricted, "restricted", 1, "restricted"),
    (
        Verb::Exceptions,
        "exceptions",
        2,
        "exceptions notifyleader|propagate",
    ),
];

/// Parses one control message against [`CTL_TABLE`].
fn parse_ctl(data: &[u8]) -> Result<(Verb, Vec<String>)> {
    if data.len() > MAX_CTL {
        return Err(Error::msg("control message too long"));
    }
    let text = std::str::from_utf8(data).map_err(|_| Error::BadCtl)?;
    let words = kernel::text::tokenize(text);
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
    if *verb == Verb::Exceptions && !matches!(words[1].as_str(), "notifyleader" | "propagate") {
        return Err(Error::msg(format!(
            "unknown exceptions mode '{}'; usage: {usage}",
            words[1]
        )));
    }
    Ok((*verb, words))
}

/// The `fd` file of `proc`: its current directory, then one line per descriptor.
fn fd_text(proc: &Proc) -> String {
    let descriptors = proc.fds().list();
    let width = descriptors
        .iter()
        .map(|(_, chan)| decimal_width(chan.qid.vers))
        .max()
        .unwrap_or(1);
    let mut text = proc.ns().dot_name();
    text.push('\n');
    for (fd, chan) in &descriptors {
        text.push_str(&fd_line_padded(*fd, chan, width));
    }
    text
}

/// The process device.
pub struct ProgDevice;

impl ProgDevice {
    pub fn new() -> ProgDevice {
        ProgDevice
    }
}

impl Default for ProgDevice {
    fn default() -> ProgDevice {
        ProgDevice::new()
    }
}

fn qid_of(chan: &Chan) -> Result<ProgQid> {
    ProgQid::unpack(chan.qid).ok_or(Error::NotExist)
}

fn proc_dir(chan: &Chan, pid: u32, user: &str) -> Dir {
    dir_entry(
        chan,
        ProgQid::Proc(pid).pack(),
        &pid.to_string(),
        0,
        user,
        DMDIR | 0o555,
    )
}

fn file_dir(chan: &Chan, pid: u32, file: ProgFile, user: &str) -> Dir {
    dir_entry(
        chan,
        ProgQid::File(pid, file).pack(),
        file.name(),
        0,
        user,
        file.perm(),
    )
}

impl Device for ProgDevice {
    fn letter(&self) -> char {
        'p'
    }

    fn name(&self) -> &'static str {
        "prog"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(ProgQid::Root.pack()))
    }

    fn walk(&self, ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        match qid_of(chan)? {
            ProgQid::Root => {
                let pid = parse_pid(name).ok_or(Error::NotExist)?;
                live(ctx, pid).map_err(|_| Error::NotExist)?;
                Ok(chan.walked(ProgQid::Proc(pid).pack()))
            }
            ProgQid::Proc(pid) => {
                live(ctx, pid)?;
                let file = ProgFile::ALL
                    .iter()
                    .copied()
                    .find(|file| file.name() == name)
                    .ok_or(Error::NotExist)?;
                Ok(chan.walked(ProgQid::File(pid, file).pack()))
            }
            ProgQid::File(..) => Err(Error::NotDir),
        }
    }

    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        match qid_of(dir)? {
            ProgQid::Root => {
                let mut state = dir.open_state.lock();
                let current = state
                    .as_ref()
                    .and_then(|state| state.downcast_ref::<Listing>());
                if index == 0 || current.is_none() {
                    let procs = ctx
                        .kernel()
                        .procs()
                        .into_iter()
                        .filter(|proc| proc.exit_status().is_none())
                        .map(|proc| (proc.pid, proc.user()))
                        .collect();
                    *state = Some(Box::new(Listing(procs)));
                }
                let Some(Listing(procs)) = state
                    .as_ref()
                    .and_then(|state| state.downcast_ref::<Listing>())
                else {
                    return Ok(None);
                };
                Ok(procs
                    .get(index)
                    .map(|(pid, user)| proc_dir(dir, *pid, user)))
            }
            ProgQid::Proc(pid) => {
                let proc = live(ctx, pid)?;
                let user = proc.user();
                Ok(ProgFile::ALL
                    .get(index)
                    .map(|file| file_dir(dir, pid, *file, &user)))
            }
            ProgQid::File(..) => Ok(None),
        }
    }

    fn stat(&self, ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        match qid_of(chan)? {
            ProgQid::Root => {
                let eve = ctx.kernel().eve();
                Ok(dir_entry(chan, chan.qid, "#p", 0, &eve, DMDIR | 0o555))
            }
            ProgQid::Proc(pid) => Ok(proc_dir(chan, pid, &live(ctx, pid)?.user())),
            ProgQid::File(pid, file) => Ok(file_dir(chan, pid, file, &live(ctx, pid)?.user())),
        }
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let dir = self.stat(ctx, &chan)?;
        check_open(ctx, &dir, mode)?;
        if let ProgQid::File(pid, file) = qid_of(&chan)? {
            let proc = live(ctx, pid)?;
            match file {
                ProgFile::Ns => {
                    *chan.open_state.lock() = Some(Box::new(OpenState::Ns(proc.ns().describe())));
                }
                ProgFile::Wait => {
                    proc.open_wait();
                    *chan.open_state.lock() = Some(Box::new(OpenState::Wait(proc)));
                }
                _ => {}
            }
        }
        Ok(chan.opened(mode))
    }

    fn close(&self, chan: &Chan) {
        let state = chan.open_state.lock().take();
        if let Some(state) = state
            && let Ok(state) = state.downcast::<OpenState>()
            && let OpenState::Wait(proc) = *state
        {
            proc.close_wait();
        }
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let ProgQid::File(pid, file) = qid_of(chan)? else {
            return Err(Error::IsDir);
        };
        let proc = live(ctx, pid)?;
        match file {
            ProgFile::Status => {
                let mut line = proc.status_line();
                line.push('\n');
                Ok(read_str(&line, buf, offset))
            }
            ProgFile::Nsgrp => Ok(read_str(&fixed_number(proc.ns().id as i64), buf, offset)),
            ProgFile::Pgrp => Ok(read_str(
                &fixed_number(i64::from(proc.group())),
                buf,
                offset,
            )),
            ProgFile::Ns => {
                let state = chan.open_state.lock();
                match state.as_ref().and_then(|state| state.downcast_ref()) {
                    Some(OpenState::Ns(text)) => Ok(read_str(text, buf, offset)),
                    _ => Err(Error::NotOpen),
                }
            }
            ProgFile::Fd => {
                let mut state = chan.open_state.lock();
                let have = matches!(
                    state.as_ref().and_then(|state| state.downcast_ref()),
                    Some(OpenState::Fd(_))
                );
                if offset == 0 || !have {
                    *state = Some(Box::new(OpenState::Fd(fd_text(&proc))));
                }
                match state.as_ref().and_then(|state| state.downcast_ref()) {
                    Some(OpenState::Fd(text)) => Ok(read_str(text, buf, offset)),
                    _ => Err(Error::NotOpen),
                }
            }
            ProgFile::Wait => {
                let waited = {
                    let state = chan.open_state.lock();
                    match state.as_ref().and_then(|state| state.downcast_ref()) {
                        Some(OpenState::Wait(proc)) => proc.clone(),
                        _ => return Err(Error::NotOpen),
                    }
                };
                // Not holding the chan's state while blocked, so the chan can be used (and
                // closed) by others meanwhile.
                let record = waited.read_wait(ctx)?;
                let count = record.len().min(buf.len());
                buf[..count].copy_from_slice(&record.as_bytes()[..count]);
                Ok(count)
            }
            ProgFile::Ctl => Err(Error::Perm),
        }
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let ProgQid::File(pid, file) = qid_of(chan)? else {
            return Err(Error::IsDir);
        };
        if file != ProgFile::Ctl {
            return Err(Error::Perm);
        }
        let target = live(ctx, pid)?;
        let (verb, _) = parse_ctl(data)?;
        match verb {
            Verb::Kill => target.kill(),
            Verb::Killgrp => {
                let group = target.group();
                for proc in ctx.kernel().procs() {
                    if proc.group() == group && proc.pid != ctx.pid() {
                        proc.kill();
                    }
                }
            }
            // Dis's memory limits and exception propagation have no meaning for host
            // threads; the verbs are accepted so Inferno scripts run unchanged.
            Verb::Restricted | Verb::Exceptions => {}
        }
        Ok(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dup::{Dup, fd_line};
    use crate::pipe::Pipe;
    use kernel::memfs::MemFs;
    use kernel::{FdTable, Kernel, MREPL};
    use ninep::{OREAD, OWRITE};
    use std::time::Duration;

    fn context() -> (Arc<Kernel>, Ctx) {
        let kernel = Kernel::new("test", "testhost");
        kernel.register(Arc::new(ProgDevice::new())).unwrap();
        kernel.register(Arc::new(Dup::new())).unwrap();
        kernel.register(Arc::new(Pipe::new())).unwrap();
        let fs = MemFs::new('T');
        kernel.register(fs.clone()).unwrap();
        for dir in ["prog", "fd", "dev", "usr/glenda"] {
            fs.add("root", dir, None);
        }
        fs.add("root", "file", Some("contents"));
        let ctx = Ctx::new(kernel.first_proc("sh", "glenda"));
        let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
        ctx.ns().set_root(root);
        ctx.bind("#p", "/prog", MREPL).unwrap();
        (kernel, ctx)
    }

    fn cat(ctx: &Ctx, path: &str) -> Result<String> {
        Ok(String::from_utf8(ctx.read_file(path, 1 << 20)?).unwrap())
    }

    /// Reads one wait record through `fd`.
    fn read_record(ctx: &Ctx, fd: i32) -> String {
        let mut buf = [0u8; 256];
        let count = ctx.read(fd, &mut buf).unwrap();
        String::from_utf8(buf[..count].to_vec()).unwrap()
    }

    fn eventually(condition: impl Fn() -> bool) {
        for _ in 0..500 {
            if condition() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("condition never held");
    }

    #[test]
    fn qids_and_names_round_trip() {
        for qid in [
            ProgQid::Root,
            ProgQid::Proc(1),
            ProgQid::Proc(u32::MAX),
            ProgQid::File(7, ProgFile::Ctl),
            ProgQid::File(7, ProgFile::Wait),
        ] {
            assert_eq!(ProgQid::unpack(qid.pack()), Some(qid));
        }
        assert_eq!(ProgQid::unpack(Qid::file(0x1f)), None);
        assert_eq!(parse_pid("12"), Some(12));
        for bad in ["", "0", "012", "-1", "1x", "99999999999"] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lists_live_processes_and_their_files() {
        let (kernel, ctx) = context();
        let other = kernel.first_proc("other", "rob");
        let names: Vec<String> = ctx
            .read_dir("/prog")
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect();
        assert_eq!(names, [ctx.pid().to_string(), other.pid.to_string()]);
        let files = ctx.read_dir(&format!("/prog/{}", other.pid)).unwrap();
        let listed: Vec<(&str, u32, &str)> = files
            .iter()
            .map(|dir| (dir.name.as_str(), dir.mode, dir.uid.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("ctl", 0o200, "rob"),
                ("fd", 0o400, "rob"),
                ("ns", 0o400, "rob"),
                ("nsgrp", 0o444, "rob"),
                ("pgrp", 0o444, "rob"),
                ("status", 0o444, "rob"),
                ("wait", 0o400, "rob"),
            ]
        );
        // Another user's private files are closed to us; status is not.
        assert_eq!(
            ctx.open(&format!("/prog/{}/fd", other.pid), OREAD)
                .unwrap_err()
                .root(),
            &Error::Perm
        );
        assert!(cat(&ctx, &format!("/prog/{}/status", other.pid)).is_ok());
        assert_eq!(
            ctx.open("/prog/9999", OREAD).unwrap_err().root(),
            &Error::NotExist
        );
    }

    #[test]
    fn status_line_fields() {
        let (_, ctx) = context();
        let status = cat(&ctx, &format!("/prog/{}/status", ctx.pid())).unwrap();
        assert!(status.ends_with('\n'));
        assert_eq!(status, format!("{}\n", ctx.proc.status_line()));
        let fields: Vec<&str> = status.split_whitespace().collect();
        assert_eq!(fields[0], ctx.pid().to_string());
        assert_eq!(fields[1], ctx.proc.group().to_string());
        assert_eq!(fields[2], "glenda");
        assert_eq!(fields[4], "ready");
        assert_eq!(fields[5], "0K");
        assert_eq!(fields[6], "Sh");
        assert_eq!(&status[..8], &format!("{:>8}", ctx.pid()));
    }

    #[test]
    fn ns_is_a_snapshot_in_inferno_form() {
        let (_, ctx) = context();
        ctx.chdir("/usr/glenda").unwrap();
        let path = format!("/prog/{}/ns", ctx.pid());
        let fd = ctx.open(&path, OREAD).unwrap();
        let expected = "bind '#p' /prog\ncd /usr/glenda\n";
        assert_eq!(ctx.ns().describe(), expected);
        // A bind made after the open is not in what the open reads.
        ctx.bind("#d", "/fd", MREPL).unwrap();
        let mut buf = [0u8; 10];
        let count = ctx.read(fd, &mut buf).unwrap();
        let mut text = String::from_utf8(buf[..count].to_vec()).unwrap();
        let mut rest = [0u8; 256];
        let count = ctx.read(fd, &mut rest).unwrap();
        text.push_str(std::str::from_utf8(&rest[..count]).unwrap());
        assert_eq!(text, expected);
        assert_eq!(
            cat(&ctx, &path).unwrap(),
            "bind '#p' /prog\nbind '#d' /fd\ncd /usr/glenda\n"
        );
    }

    #[test]
    fn fd_lists_the_current_directory_then_each_descriptor() {
        let (_, ctx) = context();
        let file = ctx.open("/file", OREAD).unwrap();
        let [left, right] = ctx.pipe().unwrap();
        let mut buf = [0u8; 3];
        ctx.read(file, &mut buf).unwrap();
        let text = cat(&ctx, &format!("/prog/{}/fd", ctx.pid())).unwrap();
        let mut expected = "/\n".to_string();
        for fd in [file, left, right] {
            expected.push_str(&fd_line(fd, &ctx.fds().get(fd).unwrap()));
        }
        assert_eq!(text, expected);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("  0 r T "), "{:?}", lines[1]);
        assert!(lines[1].ends_with("        3 /file"), "{:?}", lines[1]);
        assert!(lines[2].starts_with("  1 rw | "), "{:?}", lines[2]);
        assert!(lines[3].ends_with(" #|/data1"), "{:?}", lines[3]);
    }

    #[test]
    fn nsgrp_and_pgrp_are_fixed_width_numbers() {
        let (_, ctx) = context();
        let nsgrp = cat(&ctx, &format!("/prog/{}/nsgrp", ctx.pid())).unwrap();
        assert_eq!(nsgrp, format!("{:>11} ", ctx.ns().id));
        let pgrp = cat(&ctx, &format!("/prog/{}/pgrp", ctx.pid())).unwrap();
        assert_eq!(pgrp, format!("{:>11} ", ctx.proc.group()));
        assert_eq!(pgrp.len(), 12);
    }

    #[test]
    fn wait_returns_a_childs_exit_record() {
        let (_, ctx) = context();
        let wait = ctx
            .open(&format!("/prog/{}/wait", ctx.pid()), OREAD)
            .unwrap();
        let child = ctx
            .spawn("child", FdTable::new(), |_| Err("fail:oops".to_string()))
            .unwrap();
        assert_eq!(
            read_record(&ctx, wait),
            format!("{} \"Child\":fail:oops", child.pid)
        );
        let good = ctx.spawn("good", FdTable::new(), |_| Ok(())).unwrap();
        assert_eq!(read_record(&ctx, wait), format!("{} \"Good\":", good.pid));
        ctx.close(wait).unwrap();
    }

    #[test]
    fn kill_through_ctl_ends_a_sleeping_child() {
        let (kernel, ctx) = context();
        let wait = ctx
            .open(&format!("/prog/{}/wait", ctx.pid()), OREAD)
            .unwrap();
        let child = ctx
            .spawn("sleeper", FdTable::new(), |ctx| {
                ctx.sleep_for(Duration::from_secs(60))
                    .map_err(|error| error.to_string())
            })
            .unwrap();
        let ctl = ctx
            .open(&format!("/prog/{}/ctl", child.pid), OWRITE)
            .unwrap();
        ctx.write(ctl, b"kill").unwrap();
        assert_eq!(
            read_record(&ctx, wait),
            format!("{} \"Sleeper\":killed", child.pid)
        );
        // Gone from the listing, and the open ctl now fails.
        eventually(|| kernel.proc(child.pid).is_none());
        assert_eq!(ctx.write(ctl, b"kill").unwrap_err(), Error::ProcDied);
        assert!(
            !ctx.read_dir("/prog")
                .unwrap()
                .iter()
                .any(|dir| dir.name == child.pid.to_string())
        );
    }

    #[test]
    fn killgrp_spares_the_writer() {
        let (_, ctx) = context();
        let wait = ctx
            .open(&format!("/prog/{}/wait", ctx.pid()), OREAD)
            .unwrap();
        let mut children = Vec::new();
        for _ in 0..2 {
            children.push(
                ctx.spawn("sleeper", FdTable::new(), |ctx| {
                    ctx.sleep_for(Duration::from_secs(60))
                        .map_err(|error| error.to_string())
                })
                .unwrap(),
            );
        }
        assert!(
            children
                .iter()
                .all(|child| child.group() == ctx.proc.group())
        );
        let ctl = ctx
            .open(&format!("/prog/{}/ctl", children[0].pid), OWRITE)
            .unwrap();
        ctx.write(ctl, b"killgrp\n").unwrap();
        let mut records = vec![read_record(&ctx, wait), read_record(&ctx, wait)];
        records.sort();
        let mut expected: Vec<String> = children
            .iter()
            .map(|child| format!("{} \"Sleeper\":killed", child.pid))
            .collect();
        expected.sort();
        assert_eq!(records, expected);
        assert!(!ctx.proc.intr.is_killed());
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn ctl_verbs_are_checked() {
        let (_, ctx) = context();
        let ctl = ctx
            .open(&format!("/prog/{}/ctl", ctx.pid()), OWRITE)
            .unwrap();
        assert_eq!(ctx.write(ctl, b"restricted").unwrap(), 10);
        assert!(ctx.write(ctl, b"exceptions propagate").is_ok());
        assert!(ctx.write(ctl, b"exceptions notifyleader\n").is_ok());
        assert_eq!(
            ctx.write(ctl, b"foo").unwrap_err(),
            Error::msg("unknown control message 'foo'")
        );
        assert_eq!(
            ctx.write(ctl, b"kill now").unwrap_err(),
            Error::msg("usage: kill")
        );
        assert_eq!(
            ctx.write(ctl, b"exceptions sometimes").unwrap_err(),
            Error::msg(
                "unknown exceptions mode 'sometimes'; usage: exceptions notifyleader|propagate"
            )
        );
        assert_eq!(ctx.write(ctl, b"").unwrap_err(), Error::BadCtl);
        assert_eq!(ctx.write(ctl, &[0xff, 0xfe]).unwrap_err(), Error::BadCtl);
        assert!(ctx.write(ctl, &vec![b'k'; MAX_CTL + 1]).is_err());
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn files_of_an_exited_process_fail() {
        let (kernel, ctx) = context();
        let (sender, receiver) = std::sync::mpsc::channel::<()>();
        let child = ctx
            .spawn("brief", FdTable::new(), move |_| {
                let _ = receiver.recv();
                Ok(())
            })
            .unwrap();
        let status = ctx
            .open(&format!("/prog/{}/status", child.pid), OREAD)
            .unwrap();
        sender.send(()).unwrap();
        child.wait_exit(&ctx).unwrap();
        let mut buf = [0u8; 128];
        assert_eq!(ctx.read(status, &mut buf).unwrap_err(), Error::ProcDied);
        eventually(|| kernel.proc(child.pid).is_none());
        assert_eq!(
            ctx.open(&format!("/prog/{}/status", child.pid), OREAD)
                .unwrap_err()
                .root(),
            &Error::NotExist
        );
    }

    #[test]
    fn a_blocked_wait_read_is_interruptible_and_closing_releases_the_queue() {
        let (kernel, ctx) = context();
        let path = format!("/prog/{}/wait", ctx.pid());
        let reader = Ctx::new(kernel.first_proc("reader", "glenda"));
        let chan = ctx.open_chan(&path, OREAD).unwrap();
        let proc = reader.proc.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            reader.read_chan(&chan, &mut buf, 0)
        });
        eventually(|| proc.state() == "release");
        proc.interrupt();
        assert_eq!(handle.join().unwrap(), Err(Error::Interrupted));
        // With the only open gone, exits are no longer recorded: a new open starts empty.
        let child = ctx.spawn("early", FdTable::new(), |_| Ok(())).unwrap();
        child.wait_exit(&ctx).unwrap();
        let wait = ctx.open(&path, OREAD).unwrap();
        let late = ctx.spawn("late", FdTable::new(), |_| Ok(())).unwrap();
        assert_eq!(read_record(&ctx, wait), format!("{} \"Late\":", late.pid));
    }
}
