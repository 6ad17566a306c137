//! 9P benchmarks, printed as ratios against baselines measured in the same run:
//!
//! 1. reading a 256 MiB host file through `mount {export ...}` (the mount driver, a 9P
//!    connection over an ember pipe, the export server), against reading it directly and
//!    against copying the same bytes through a raw ember pipe (target: at least half the raw
//!    pipe's throughput; Inferno's emu reaches about 87 MB/s over loopback with 8 KiB
//!    messages);
//! 2. the round trip of a small stat through the mount, against a one-byte ping-pong over two
//!    raw ember pipes (target: within 2x).
//!
//! Run with `cargo bench -p ember --bench ninep` (or `scripts/bench 9p`).

use devices::fs::HostFs;
use devices::pipe::Pipe;
use kernel::export::{ExportOptions, serve};
use kernel::mnt::MountDriver;
use kernel::namespace::Access;
use kernel::transport::ChanTransport;
use kernel::{Ctx, Kernel, MREPL};
use ninep::OREAD;
use std::sync::Arc;
use std::time::Instant;

const FILE_SIZE: usize = 256 << 20;
const CHUNK: usize = 64 << 10;
const ROUNDS: usize = 5;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

struct Setup {
    ctx: Ctx,
    _scratch: Scratch,
}

struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup() -> Setup {
    let dir = std::env::temp_dir().join(format!("ember-bench-9p-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("share")).unwrap();
    std::fs::create_dir_all(dir.join("n")).unwrap();
    let data: Vec<u8> = (0..FILE_SIZE).map(|i| (i * 7) as u8).collect();
    std::fs::write(dir.join("share/big"), &data).unwrap();
    std::fs::write(dir.join("share/small"), b"x").unwrap();
    let kernel = Kernel::new("bench", "bench");
    kernel
        .register(Arc::new(HostFs::new(&dir).unwrap()))
        .unwrap();
    kernel.register(Arc::new(Pipe::new())).unwrap();
    kernel.register(Arc::new(MountDriver::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("bench", "bench"));
    let root = ctx.ns().attach(&ctx, 'U', "").unwrap();
    ctx.ns().set_root(root);
    // The server: export /share on one end of a pipe, in its own thread.
    let [client_end, server_end] = ctx.pipe_chans().unwrap();
    let server_ctx = ctx.clone();
    std::thread::spawn(move || {
        let transport = Arc::new(ChanTransport::new(
            server_ctx.clone(),
            server_end.clone(),
            server_end,
        ));
        let _ = serve(&server_ctx, "/share", transport, ExportOptions::default());
    });
    let target = ctx.ns().resolve(&ctx, "/n", Access::Mount).unwrap().chan;
    let reader = Ctx::new(ctx.kernel().kproc("mnt", ctx.ns()));
    let transport = Arc::new(ChanTransport::new(
        reader,
        client_end.clone(),
        client_end.clone(),
    ));
    let mounted = kernel::mnt::attach(&ctx, transport, Some(client_end), "bench", "").unwrap();
    ctx.ns()
        .mount_chan(mounted, None, target, MREPL, "")
        .unwrap();
    Setup {
        ctx,
        _scratch: Scratch(dir),
    }
}

/// MB/s reading `path` to its end in 64 KiB reads.
fn read_rate(ctx: &Ctx, path: &str) -> f64 {
    let chan = ctx.open_chan(path, OREAD).unwrap();
    let mut buf = vec![0u8; CHUNK];
    let started = Instant::now();
    let mut offset = 0u64;
    loop {
        let count = ctx.read_chan(&chan, &mut buf, offset).unwrap();
        if count == 0 {
            break;
        }
        offset += count as u64;
    }
    assert_eq!(offset as usize, FILE_SIZE);
    FILE_SIZE as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// MB/s copying the same bytes through a raw pipe, 64 KiB a write, one writer thread.
fn pipe_rate(ctx: &Ctx) -> f64 {
    let [writer, reader] = ctx.pipe_chans().unwrap();
    let writer_ctx = ctx.clone();
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        let block = vec![7u8; CHUNK];
        for _ in 0..FILE_SIZE / CHUNK {
            writer_ctx.write_chan(&writer, &block, 0).unwrap();
        }
    });
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0;
    while total < FILE_SIZE {
        total += ctx.read_chan(&reader, &mut buf, 0).unwrap();
    }
    sender.join().unwrap();
    FILE_SIZE as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// Microseconds per stat of a small file through the mount.
fn stat_time(ctx: &Ctx, iterations: usize) -> f64 {
    let chan = ctx.open_chan("/n/small", OREAD).unwrap();
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(ctx.stat_chan(&chan).unwrap());
    }
    started.elapsed().as_secs_f64() * 1e6 / iterations as f64
}

/// Microseconds per one-byte round trip over two raw pipes and an echoing thread.
fn ping_pong_time(ctx: &Ctx, iterations: usize) -> f64 {
    let [there, echo_in] = ctx.pipe_chans().unwrap();
    let [back, echo_out] = ctx.pipe_chans().unwrap();
    let echo_ctx = ctx.clone();
    let echo = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        for _ in 0..iterations {
            echo_ctx.read_chan(&echo_in, &mut byte, 0).unwrap();
            echo_ctx.write_chan(&echo_out, &byte, 0).unwrap();
        }
    });
    let mut byte = [1u8; 1];
    let started = Instant::now();
    for _ in 0..iterations {
        ctx.write_chan(&there, &byte, 0).unwrap();
        ctx.read_chan(&back, &mut byte, 0).unwrap();
    }
    let elapsed = started.elapsed();
    echo.join().unwrap();
    elapsed.as_secs_f64() * 1e6 / iterations as f64
}

fn main() {
    let Setup { ctx, _scratch } = setup();
    let (mut through, mut direct, mut piped) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        through.push(read_rate(&ctx, "/n/big"));
        direct.push(read_rate(&ctx, "/share/big"));
        piped.push(pipe_rate(&ctx));
    }
    let (through, direct, piped) = (median(through), median(direct), median(piped));
    println!("read 256 MiB through mount {{export}}:     {through:>8.0} MB/s");
    println!("read 256 MiB directly (#U):              {direct:>8.0} MB/s");
    println!("copy 256 MiB through a raw pipe:         {piped:>8.0} MB/s");
    println!(
        "ratio mount / raw pipe:                  {:>8.2}x (target >= 0.5x)",
        through / piped
    );
    println!(
        "ratio mount / direct:                    {:>8.2}x",
        through / direct
    );
    println!(
        "ratio mount / Inferno emu (87 MB/s):     {:>8.1}x",
        through / 87.0
    );
    let (mut stats, mut pings) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        stats.push(stat_time(&ctx, 5_000));
        pings.push(ping_pong_time(&ctx, 5_000));
    }
    let (stat, ping) = (median(stats), median(pings));
    println!("stat through the mount:                  {stat:>8.1} us");
    println!("one-byte ping-pong over raw pipes:       {ping:>8.1} us");
    println!(
        "ratio stat / ping-pong:                  {:>8.2}x (target <= 2x)",
        stat / ping
    );
}
