//! Namespace benchmarks, printed as ratios against baselines measured in the same run:
//!
//! 1. resolving a 5-element path with 10,000 mount points in the namespace, against the same
//!    walk with 10 (the target is a flat cost: within 1.2x);
//! 2. spawning a process that forks its namespace, binds one directory and exits, waited for,
//!    against a bare host thread spawned and joined (the target is under 50 µs each; Inferno's
//!    emu takes about 1.5 ms for `sh -c`).
//!
//! Run with `cargo bench -p kernel` (or `scripts/bench`). Each figure is the median of
//! several rounds, so one noisy round on a shared machine does not decide it.

use kernel::memfs::MemFs;
use kernel::namespace::Access;
use kernel::{Ctx, FdTable, Kernel, MREPL};
use std::time::{Duration, Instant};

const ROUNDS: usize = 9;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

/// A context whose namespace has `mounts` mount points besides the path walked.
fn namespace_with(mounts: usize) -> Ctx {
    let kernel = Kernel::new("bench", "bench");
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    let ctx = Ctx::new(kernel.first_proc("bench", "bench"));
    let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root);
    fs.add("root", "a/b/c/d/e", Some("leaf"));
    fs.add("root", "n", None);
    fs.add("other", "x", Some("x"));
    for index in 0..mounts {
        fs.add("many", &format!("d{index}"), None);
    }
    for index in 0..mounts {
        ctx.bind("#Tother", &format!("#Tmany/d{index}"), MREPL)
            .unwrap();
    }
    // One union on the way, as a real namespace has at `/`.
    ctx.bind("#Tother", "/n", MREPL).unwrap();
    ctx
}

/// Nanoseconds per resolution of the 5-element path.
fn walk_cost(ctx: &Ctx, iterations: usize) -> f64 {
    let ns = ctx.ns();
    let started = Instant::now();
    for _ in 0..iterations {
        let resolved = ns.resolve(ctx, "/a/b/c/d/e", Access::Open).unwrap();
        std::hint::black_box(resolved.chan.qid);
    }
    started.elapsed().as_nanos() as f64 / iterations as f64
}

fn spawn_cost(ctx: &Ctx, iterations: usize) -> f64 {
    let started = Instant::now();
    for _ in 0..iterations {
        let child = ctx
            .spawn("bench", FdTable::new(), |ctx| {
                ctx.pctl(kernel::proc::FORKNS, &[])
                    .map_err(|e| e.to_string())?;
                ctx.bind("#Tother", "/n", MREPL)
                    .map_err(|e| e.to_string())?;
                Ok(())
            })
            .unwrap();
        let status = child.wait_exit(ctx).unwrap();
        assert!(status.is_empty(), "{status}");
    }
    started.elapsed().as_nanos() as f64 / iterations as f64
}

fn thread_cost(iterations: usize) -> f64 {
    let started = Instant::now();
    for _ in 0..iterations {
        std::thread::spawn(|| std::hint::black_box(1))
            .join()
            .unwrap();
    }
    started.elapsed().as_nanos() as f64 / iterations as f64
}

fn main() {
    let few = namespace_with(10);
    let many = namespace_with(10_000);
    assert_eq!(many.ns().mount_point_count(), 10_001);
    let (mut small, mut large) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        small.push(walk_cost(&few, 20_000));
        large.push(walk_cost(&many, 20_000));
    }
    let (small, large) = (median(small), median(large));
    println!("walk of a 5-element path, 10 mounts:      {small:>9.0} ns");
    println!("walk of a 5-element path, 10,000 mounts:  {large:>9.0} ns");
    println!(
        "ratio 10,000 / 10 mounts:                 {:>9.2}x (target <= 1.2x)",
        large / small
    );

    let (mut spawns, mut threads) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        spawns.push(spawn_cost(&few, 500));
        threads.push(thread_cost(500));
    }
    let (spawn, thread) = (median(spawns), median(threads));
    println!(
        "process: fork namespace, bind, exit:      {:>9.1} us",
        spawn / 1000.0
    );
    println!(
        "bare host thread spawn and join:          {:>9.1} us",
        thread / 1000.0
    );
    println!(
        "ratio process / bare thread:              {:>9.2}x",
        spawn / thread
    );
    println!(
        "ratio Inferno emu sh -c (1.5 ms) / this:   {:>9.1}x (target: under 50 us each)",
        Duration::from_micros(1500).as_nanos() as f64 / spawn
    );
}
