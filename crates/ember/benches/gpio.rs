//! Edge latency of `#G` on the simulated chip: from the moment `sim 17 1` is written to `ctl`
//! until a reader blocked on `event` has the line `17 rising nanoseconds` (target: within 10 ms,
//! for the issue that asked for it). Printed as medians, 99th percentiles and maxima, and as
//! ratios against a baseline measured in the same run: a reader blocked on an ember pipe woken
//! by a one-byte write, the same sleep and wake-up without GPIO.
//!
//! 1. in one kernel: a thread blocked in a read of `#Gsim/gpio/event`; the writer notes the
//!    monotonic clock, writes `sim 17 0|1`, and the reader notes it again on waking;
//! 2. the same read through `mount {export}` (9P over an ember pipe, as `scripts/bench 9p`);
//! 3. through the real binary: `ember -G sim` runs `cat /dev/gpio/event` (and the same through
//!    `mount {export /dev}`) while a loop of its shell writes `sim 17 1` and `sim 17 0`; this
//!    process reads each line from ember's standard output and compares its arrival with the
//!    line's timestamp, which the simulated chip took at the write (same clock).
//!
//! Run with `cargo bench -p ember --bench gpio` (or `scripts/bench gpio`).

use devices::gpio::{Gpio, monotonic_ns};
use devices::pipe::Pipe;
use kernel::export::{ExportOptions, serve};
use kernel::mnt::MountDriver;
use kernel::namespace::Access;
use kernel::transport::ChanTransport;
use kernel::{Ctx, Kernel, MREPL};
use ninep::{OREAD, OWRITE};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::Duration;

const EDGES: usize = 2_000;
const BINARY_EDGES: usize = 300;
const TARGET_US: f64 = 10_000.0;

/// Median, 99th percentile and maximum of `samples`, in microseconds.
struct Summary {
    median: f64,
    p99: f64,
    max: f64,
}

fn summary(mut samples: Vec<f64>) -> Summary {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction).round() as usize];
    Summary {
        median: at(0.5),
        p99: at(0.99),
        max: at(1.0),
    }
}

fn print(name: &str, summary: &Summary) {
    println!(
        "{name:<44} median {:>8.1} us   p99 {:>8.1} us   max {:>8.1} us",
        summary.median, summary.p99, summary.max
    );
}

/// A kernel with the GPIO device (simulated chip), pipes, and `#Gsim` mounted on `/srv` through
/// `export` over a pipe, as `mount {export '#Gsim'} /srv` would.
fn setup() -> Ctx {
    let kernel = Kernel::new("bench", "bench");
    kernel.register(Arc::new(Gpio::new(None))).unwrap();
    kernel.register(Arc::new(Pipe::new())).unwrap();
    kernel.register(Arc::new(MountDriver::new())).unwrap();
    kernel
        .register(Arc::new(devices::root::Root::new()))
        .unwrap();
    let ctx = Ctx::new(kernel.first_proc("bench", "bench"));
    let ns = ctx.ns();
    ns.set_root(ns.attach(&ctx, '/', "").unwrap());
    ctx.bind("#Gsim", "/dev", MREPL).unwrap();
    let [client_end, server_end] = ctx.pipe_chans().unwrap();
    let server_ctx = ctx.clone();
    std::thread::spawn(move || {
        let transport = Arc::new(ChanTransport::new(
            server_ctx.clone(),
            server_end.clone(),
            server_end,
        ));
        let _ = serve(&server_ctx, "/dev", transport, ExportOptions::default());
    });
    let target = ns.resolve(&ctx, "/srv", Access::Mount).unwrap().chan;
    let reader = Ctx::new(ctx.kernel().kproc("mnt", ns.clone()));
    let transport = Arc::new(ChanTransport::new(
        reader,
        client_end.clone(),
        client_end.clone(),
    ));
    let mounted = kernel::mnt::attach(&ctx, transport, Some(client_end), "bench", "").unwrap();
    ns.mount_chan(mounted, None, target, MREPL, "").unwrap();
    ctx
}

/// Microseconds from writing `sim 17 0|1` to a reader of `event_path` waking with the edge.
fn edge_latencies(ctx: &Ctx, event_path: &str) -> Vec<f64> {
    let ctl = ctx.open_chan("/dev/gpio/ctl", OWRITE).unwrap();
    ctx.write_chan(&ctl, b"edge 17 both\nsim 17 0", 0).unwrap();
    let event = ctx.open_chan(event_path, OREAD).unwrap();
    // Drain what is queued (the setting-up may have made an edge).
    let (ready, go) = channel::<()>();
    let (woke, done) = channel::<u64>();
    let reader_ctx = ctx.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 128];
        for _ in 0..EDGES {
            ready.send(()).unwrap();
            let count = reader_ctx.read_chan(&event, &mut buf, 0).unwrap();
            let now = monotonic_ns();
            assert!(buf[..count].starts_with(b"17 "));
            woke.send(now).unwrap();
        }
    });
    let mut samples = Vec::with_capacity(EDGES);
    for index in 0..EDGES {
        go.recv().unwrap();
        // Let the reader get to its sleep, so the figure is a wake-up, not a queue read.
        std::thread::sleep(Duration::from_micros(200));
        let message = if index % 2 == 0 {
            "sim 17 1"
        } else {
            "sim 17 0"
        };
        let before = monotonic_ns();
        ctx.write_chan(&ctl, message.as_bytes(), 0).unwrap();
        let after = done.recv().unwrap();
        samples.push((after - before) as f64 / 1e3);
    }
    reader.join().unwrap();
    ctx.write_chan(&ctl, b"edge 17 none", 0).unwrap();
    samples
}

/// Microseconds from a one-byte write on an ember pipe to its blocked reader waking.
fn pipe_latencies(ctx: &Ctx) -> Vec<f64> {
    let [writer, reader_end] = ctx.pipe_chans().unwrap();
    let (ready, go) = channel::<()>();
    let (woke, done) = channel::<u64>();
    let reader_ctx = ctx.clone();
    let reader = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        for _ in 0..EDGES {
            ready.send(()).unwrap();
            reader_ctx.read_chan(&reader_end, &mut byte, 0).unwrap();
            woke.send(monotonic_ns()).unwrap();
        }
    });
    let mut samples = Vec::with_capacity(EDGES);
    for _ in 0..EDGES {
        go.recv().unwrap();
        std::thread::sleep(Duration::from_micros(200));
        let before = monotonic_ns();
        ctx.write_chan(&writer, b"x", 0).unwrap();
        let after = done.recv().unwrap();
        samples.push((after - before) as f64 / 1e3);
    }
    reader.join().unwrap();
    samples
}

/// Through the real binary: microseconds from each edge's timestamp to its line arriving here
/// from `cat` of `event_path` inside `ember -G sim`.
fn binary_latencies(event_path: &str) -> Vec<f64> {
    let scratch = std::env::temp_dir().join(format!("ember-bench-gpio-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let script = format!(
        "mkdir -p /tmp/pi\n\
         mount {{export /dev}} /tmp/pi\n\
         echo edge 17 both > /dev/gpio/ctl\n\
         cat {event_path} &\n\
         sleep 0.5\n\
         for i in `{{seq {half}}} {{\n\
         \techo sim 17 1 > /dev/gpio/ctl\n\
         \tsleep 0.005\n\
         \techo sim 17 0 > /dev/gpio/ctl\n\
         \tsleep 0.005\n\
         }}\n\
         sleep 0.5\n\
         kill Cat > /dev/null\n",
        half = BINARY_EDGES / 2
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_ember"))
        .args(["-G", "sim", "sh", "-c", &script])
        .env("XDG_DATA_HOME", &scratch)
        .env("HOME", &scratch)
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut samples = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(line) = line else { break };
        let now = monotonic_ns();
        let stamp: Option<u64> = line
            .split_whitespace()
            .nth(2)
            .and_then(|word| word.parse().ok());
        if let Some(stamp) = stamp {
            samples.push(now.saturating_sub(stamp) as f64 / 1e3);
        }
    }
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        samples.len() >= BINARY_EDGES * 9 / 10,
        "only {} of {BINARY_EDGES} edges arrived",
        samples.len()
    );
    samples
}

fn main() {
    let ctx = setup();
    let pipe = summary(pipe_latencies(&ctx));
    let device = summary(edge_latencies(&ctx, "/dev/gpio/event"));
    let mounted = summary(edge_latencies(&ctx, "/srv/gpio/event"));
    print("pipe write -> blocked reader (baseline)", &pipe);
    print("sim 17 1 -> blocked event reader", &device);
    print("sim 17 1 -> event reader through mount", &mounted);
    println!(
        "ratio event / pipe (median):                 {:>8.2}x",
        device.median / pipe.median
    );
    println!(
        "ratio mount / pipe (median):                 {:>8.2}x",
        mounted.median / pipe.median
    );
    let binary = summary(binary_latencies("/dev/gpio/event"));
    let binary_mounted = summary(binary_latencies("/tmp/pi/gpio/event"));
    print("ember -G sim: edge -> line out of cat", &binary);
    print(
        "ember -G sim: same, through mount {export}",
        &binary_mounted,
    );
    let worst = [&device, &mounted, &binary, &binary_mounted]
        .iter()
        .map(|summary| summary.max)
        .fold(0.0, f64::max);
    println!(
        "one edge within 10 ms: {} (slowest of all {:.1} us, target {TARGET_US:.0} us)",
        if worst <= TARGET_US { "yes" } else { "NO" },
        worst
    );
}
