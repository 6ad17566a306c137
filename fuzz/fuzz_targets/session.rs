//! A whole 9P session against `export`: arbitrary bytes are the client's side of the
//! connection to a server exporting an in-memory tree. The server may answer anything, or
//! hang up on a stream it cannot frame, but it must not panic, and it must finish, threads and
//! all, once the client's side ends.

#![no_main]

use kernel::export::{ExportOptions, serve};
use kernel::memfs::MemFs;
use kernel::transport::{Transport, memory};
use kernel::{Ctx, Kernel};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Threads of this process now.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count())
}

fuzz_target!(|data: &[u8]| {
    let before = threads();
    let kernel = Kernel::new("fuzz", "fuzz");
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    let ctx = Ctx::new(kernel.first_proc("fuzz", "fuzz"));
    let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root);
    fs.add("root", "share/file", Some("some bytes"));
    fs.add("root", "share/dir/inner", Some("more"));
    let (client, server) = memory::pair();
    let server_ctx = ctx.clone();
    let handle = std::thread::spawn(move || {
        let _ = serve(&server_ctx, "/share", Arc::new(server), ExportOptions::default());
    });
    // Whatever the bytes are, send them and hang up: the server reads to the end, answering
    // what it can, and must then return.
    let _ = client.write(data);
    client.hang_up();
    handle.join().expect("the server must not panic");
    // serve returns once its workers have counted themselves out; each then still has to
    // leave its thread. Wait for that, so the leak checker does not take a thread on its
    // way out for a leak, and so a worker that never ends is found.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while threads() > before {
        assert!(
            std::time::Instant::now() < deadline,
            "export left {} threads running",
            threads() - before
        );
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    // The process leaves the kernel's table, so nothing keeps the kernel alive.
    ctx.proc.finish(String::new());
});
