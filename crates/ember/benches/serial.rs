//! Serial line benchmark (issue 8): the round trip of a small read through a 9P mount whose
//! connection is a serial line (two pseudo-terminals joined by a relay thread, as `socat pty
//! pty` joins them, each end opened through `#t`), against the same mount over an ember pipe,
//! measured in the same run. A one-byte echo over the bare line (no 9P) separates the line's
//! own latency from 9P's.
//!
//! Run with `cargo bench -p ember --bench serial` (or `scripts/bench serial`).

use devices::eia::Eia;
use devices::fs::HostFs;
use devices::pipe::Pipe;
use kernel::export::{ExportOptions, serve};
use kernel::mnt::MountDriver;
use kernel::namespace::Access;
use kernel::transport::ChanTransport;
use kernel::{Chan, Ctx, Kernel, MREPL};
use ninep::{ORDWR, OREAD};
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::pty::openpty;
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

const ROUNDS: usize = 7;
const READS: usize = 2_000;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two pseudo-terminals whose masters a thread relays to each other: a serial line whose
/// ends are the slaves.
struct Line {
    ends: [String; 2],
    stop: Arc<AtomicBool>,
    _slaves: [OwnedFd; 2],
}

impl Line {
    fn new() -> Line {
        let one = openpty(None, None).unwrap();
        let two = openpty(None, None).unwrap();
        let mut ends = Vec::new();
        for pair in [&one, &two] {
            let mut settings = tcgetattr(pair.slave.as_fd()).unwrap();
            cfmakeraw(&mut settings);
            tcsetattr(pair.slave.as_fd(), SetArg::TCSANOW, &settings).unwrap();
            let flags = OFlag::from_bits_truncate(fcntl(&pair.master, FcntlArg::F_GETFL).unwrap());
            fcntl(&pair.master, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).unwrap();
            fcntl(&pair.master, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).unwrap();
            let path =
                std::fs::read_link(format!("/proc/self/fd/{}", pair.slave.as_raw_fd())).unwrap();
            ends.push(format!("#t*{}", path.display()));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let running = stop.clone();
        let masters = [one.master, two.master];
        std::thread::spawn(move || relay(&masters, &running));
        Line {
            ends: [ends[0].clone(), ends[1].clone()],
            stop,
            _slaves: [one.slave, two.slave],
        }
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn relay(masters: &[OwnedFd; 2], stop: &AtomicBool) {
    let mut buf = [0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [
            PollFd::new(masters[0].as_fd(), PollFlags::POLLIN),
            PollFd::new(masters[1].as_fd(), PollFlags::POLLIN),
        ];
        if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) == 0 {
            continue;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| {
                fd.revents()
                    .is_some_and(|events| events.contains(PollFlags::POLLIN))
            })
            .collect();
        for (from, ready) in ready.into_iter().enumerate() {
            if !ready {
                continue;
            }
            let Ok(count) = nix::unistd::read(&masters[from], &mut buf) else {
                continue;
            };
            let mut data = &buf[..count];
            while !data.is_empty() {
                match nix::unistd::write(&masters[1 - from], data) {
                    Ok(written) => data = &data[written..],
                    Err(_) => std::thread::yield_now(),
                }
            }
        }
    }
}

fn kernel(dir: &std::path::Path) -> Ctx {
    let kernel = Kernel::new("bench", "bench");
    kernel
        .register(Arc::new(HostFs::new(dir).unwrap()))
        .unwrap();
    kernel.register(Arc::new(Pipe::new())).unwrap();
    kernel.register(Arc::new(MountDriver::new())).unwrap();
    kernel.register(Arc::new(Eia::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("bench", "bench"));
    let root = ctx.ns().attach(&ctx, 'U', "").unwrap();
    ctx.ns().set_root(root);
    ctx
}

/// Serves `/share` on `server_end` in a thread, and mounts the other end on `mount_point`.
fn export_and_mount(ctx: &Ctx, server_end: Arc<Chan>, client_end: Arc<Chan>, mount_point: &str) {
    let server_ctx = ctx.clone();
    std::thread::spawn(move || {
        let transport = Arc::new(ChanTransport::new(
            server_ctx.clone(),
            server_end.clone(),
            server_end,
        ));
        let _ = serve(&server_ctx, "/share", transport, ExportOptions::default());
    });
    let target = ctx
        .ns()
        .resolve(ctx, mount_point, Access::Mount)
        .unwrap()
        .chan;
    let reader = Ctx::new(ctx.kernel().kproc("mnt", ctx.ns()));
    let transport = Arc::new(ChanTransport::new(
        reader,
        client_end.clone(),
        client_end.clone(),
    ));
    let mounted = kernel::mnt::attach(ctx, transport, Some(client_end), mount_point, "").unwrap();
    ctx.ns()
        .mount_chan(mounted, None, target, MREPL, "")
        .unwrap();
}

/// Microseconds per one-byte read of a small file through the mount at `dir`.
fn read_time(ctx: &Ctx, dir: &str) -> f64 {
    let chan = ctx.open_chan(&format!("{dir}/small"), OREAD).unwrap();
    let mut byte = [0u8; 1];
    let started = Instant::now();
    for _ in 0..READS {
        assert_eq!(ctx.read_chan(&chan, &mut byte, 0).unwrap(), 1);
    }
    started.elapsed().as_secs_f64() * 1e6 / READS as f64
}

/// Microseconds per one-byte round trip over the bare line, echoed by a thread.
fn echo_time(ctx: &Ctx, line: &Line) -> f64 {
    let near = ctx
        .open_chan(&format!("{}/data", line.ends[0]), ORDWR)
        .unwrap();
    let far = ctx
        .open_chan(&format!("{}/data", line.ends[1]), ORDWR)
        .unwrap();
    let echo_ctx = ctx.clone();
    let echo = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        for _ in 0..READS {
            echo_ctx.read_chan(&far, &mut byte, 0).unwrap();
            echo_ctx.write_chan(&far, &byte, 0).unwrap();
        }
    });
    let mut byte = [7u8; 1];
    let started = Instant::now();
    for _ in 0..READS {
        ctx.write_chan(&near, &byte, 0).unwrap();
        ctx.read_chan(&near, &mut byte, 0).unwrap();
    }
    let elapsed = started.elapsed();
    echo.join().unwrap();
    elapsed.as_secs_f64() * 1e6 / READS as f64
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ember-bench-serial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["share", "pipe", "serial"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("share/small"), b"x").unwrap();
    let _scratch = Scratch(dir.clone());
    let ctx = kernel(&dir);

    let [client_end, server_end] = ctx.pipe_chans().unwrap();
    export_and_mount(&ctx, server_end, client_end, "/pipe");

    let line = Line::new();
    let server_end = ctx
        .open_chan(&format!("{}/data", line.ends[0]), ORDWR)
        .unwrap();
    let client_end = ctx
        .open_chan(&format!("{}/data", line.ends[1]), ORDWR)
        .unwrap();
    export_and_mount(&ctx, server_end, client_end, "/serial");

    let (mut piped, mut serial) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        piped.push(read_time(&ctx, "/pipe"));
        serial.push(read_time(&ctx, "/serial"));
    }
    let (piped, serial) = (median(piped), median(serial));
    // The echo needs the line to itself: a second line, so the mount's reader keeps its own.
    let bare = Line::new();
    let echo = median((0..ROUNDS).map(|_| echo_time(&ctx, &bare)).collect());
    println!("small read through mount over a pipe:        {piped:>8.1} us");
    println!("small read through mount over a serial line: {serial:>8.1} us");
    println!(
        "ratio serial line / pipe:                    {:>8.2}x",
        serial / piped
    );
    println!("one-byte echo over the bare serial line:     {echo:>8.1} us");
    println!(
        "ratio 9P read over the line / bare echo:     {:>8.2}x",
        serial / echo
    );
}
