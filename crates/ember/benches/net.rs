//! Network benchmarks through the real binary, on loopback, printed as ratios against
//! baselines measured in the same run:
//!
//! 1. bulk TCP through a remote `/net`: a laptop ember mounts a gateway ember's `/net`
//!    (`listen -A ... {export /net &}`), binds it over its own inside `sh -c` and streams
//!    256 MiB to a sink through it with `dial`; against a host program writing to the sink
//!    directly, against the same `dial` through the laptop's own `/net`, and against the same
//!    `dial` to a `socat` relay in place of the gateway (target: at least the relay's
//!    throughput);
//! 2. 9P read throughput between two embers over loopback TCP: one serves a directory
//!    (`listen -A ... {export /tmp &}`), the other mounts it and reads a 256 MiB file; against
//!    raw TCP between two host threads in 64 KiB writes (target: at least half; Inferno's emu
//!    reaches about 87 MB/s over loopback with 8 KiB messages).
//!
//! Each figure is the median of `NET_RUNS` (default 5) transfers. A sink's figure runs from the
//! first byte it receives to end of stream; a reader's from the line `start` the laptop prints
//! just before reading to the line `end` just after. The embers move the bytes with `cat`,
//! 64 KiB a read and a write (a mount's iounit). Needs `socat` (`scripts/bench net` installs
//! it).
//!
//! Run with `cargo bench -p ember --bench net [bulk|9p]` (or `scripts/bench net`, which also
//! runs it with every process on one CPU: on a virtual machine a wake-up across CPUs costs
//! more than anything else in a 9P round trip).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const FILE_SIZE: usize = 256 << 20;
const CHUNK: usize = 64 << 10;
/// Inferno's emu reading through a 9P mount over loopback TCP.
const INFERNO_EMU_MBS: f64 = 87.0;
/// Longest any one transfer may take.
const LIMIT: Duration = Duration::from_secs(120);

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

fn mbs(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / took.as_secs_f64() / 1e6
}

/// A scratch directory holding the root every ember of the benchmark serves as `/` (`-r`),
/// with the 256 MiB file in its `/tmp/big`.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("ember-bench-net-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let scratch = Scratch(dir);
        // Unpack the built-in root once, then share it.
        let status = Command::new(ember())
            .env("XDG_DATA_HOME", &scratch.0)
            .args(["sh", "-c", "echo -n"])
            .status()
            .unwrap();
        assert!(status.success());
        let data: Vec<u8> = (0..FILE_SIZE).map(|i| (i * 7) as u8).collect();
        std::fs::write(scratch.root().join("tmp/big"), data).unwrap();
        scratch
    }

    fn root(&self) -> PathBuf {
        self.0.join("ember/root")
    }

    /// `ember -r root -u glenda sh -c script`.
    fn ember(&self, script: &str) -> Command {
        let mut command = Command::new(ember());
        command
            .env("XDG_DATA_HOME", &self.0)
            .env("HOME", &self.0)
            .env_remove("EMBER_DEBUG")
            .arg("-r")
            .arg(self.root())
            .args(["-u", "glenda", "sh", "-c", script]);
        command
    }
}

fn ember() -> &'static str {
    env!("CARGO_BIN_EXE_ember")
}

/// A process ended when the benchmark no longer needs it.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A service that reads each caller to end of stream and reports how many bytes came and
/// how long they took from the first (callers that send nothing are not reported).
struct Sink {
    port: u16,
    results: Receiver<(usize, Duration)>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (report, results) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let report = report.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 1 << 20];
                    let mut total = 0;
                    let mut first = None;
                    loop {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(count) => {
                                first.get_or_insert_with(Instant::now);
                                total += count;
                            }
                        }
                    }
                    // A caller that sent nothing is a probe (of the relay, say), not a run.
                    if let Some(first) = first {
                        let _ = report.send((total, first.elapsed()));
                    }
                });
            }
        });
        Sink { port, results }
    }

    /// The next caller's bytes and time; it must have sent the whole file.
    fn next(&self, what: &str) -> Duration {
        let (bytes, took) = self
            .results
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("{what}: the sink heard nothing"));
        assert_eq!(bytes, FILE_SIZE, "{what}: bytes received");
        took
    }
}

/// Runs an ember that sends the file to the sink and waits for both; the throughput.
fn send_to_sink(scratch: &Scratch, sink: &Sink, what: &str, script: &str) -> f64 {
    let output = scratch.ember(script).output().unwrap();
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    mbs(FILE_SIZE, sink.next(what))
}

/// A host program writing the file to the sink in 64 KiB writes.
fn direct_socket(sink: &Sink, data: &[u8]) -> f64 {
    let mut stream = TcpStream::connect(("127.0.0.1", sink.port)).unwrap();
    for chunk in data.chunks(CHUNK) {
        stream.write_all(chunk).unwrap();
    }
    drop(stream);
    mbs(FILE_SIZE, sink.next("direct socket"))
}

/// Raw TCP between two host threads: 64 KiB writes, 64 KiB reads.
fn raw_tcp(data: &[u8]) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0;
        let mut first = None;
        loop {
            let count = stream.read(&mut buf).unwrap();
            if count == 0 {
                break;
            }
            first.get_or_insert_with(Instant::now);
            total += count;
        }
        assert_eq!(total, FILE_SIZE);
        first.unwrap().elapsed()
    });
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    for chunk in data.chunks(CHUNK) {
        stream.write_all(chunk).unwrap();
    }
    drop(stream);
    mbs(FILE_SIZE, reader.join().unwrap())
}

/// Runs a laptop ember that prints `start`, reads, and prints `end`; the throughput between
/// the two lines.
fn timed_read(scratch: &Scratch, what: &str, script: &str) -> f64 {
    let mut child = scratch
        .ember(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut started = None;
    let mut took = None;
    for line in lines.by_ref() {
        match line.unwrap().as_str() {
            "start" => started = Some(Instant::now()),
            "end" => took = started.map(|started| started.elapsed()),
            _ => {}
        }
    }
    let output = child.wait_with_output().unwrap();
    let took = took.unwrap_or_else(|| {
        panic!(
            "{what}: no start and end: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    mbs(FILE_SIZE, took)
}

/// Starts `ember sh -c script` as a server on `port` and waits until it answers.
fn server(scratch: &Scratch, port: u16, script: &str) -> Killed {
    let child = scratch
        .ember(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Killed(child);
    wait_for_port(port);
    child
}

fn socat_relay(port: u16, to: u16) -> Killed {
    let child = Command::new("socat")
        .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"))
        .arg(format!("TCP:127.0.0.1:{to}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is needed (scripts/bench net installs it)");
    let child = Killed(child);
    wait_for_port(port);
    child
}

fn row(name: &str, figure: f64) {
    println!("{name:<52} {figure:>8.0} MB/s");
}

fn ratio(name: &str, figure: f64, note: &str) {
    println!("ratio {name:<46} {figure:>8.2}x{note}");
}

fn bulk_tcp(scratch: &Scratch, data: &[u8], runs: usize) {
    let sink = Sink::start();
    let gateway_port = free_port();
    let _gateway = server(
        scratch,
        gateway_port,
        &format!("listen -A -s 'tcp!127.0.0.1!{gateway_port}' {{export /net &}}"),
    );
    let relay_port = free_port();
    let _relay = socat_relay(relay_port, sink.port);
    let dial = |port: u16| format!("dial -A 'tcp!127.0.0.1!{port}' {{cat /tmp/big}}");
    let through_gateway = format!(
        "mount -A 'tcp!127.0.0.1!{gateway_port}' /n
         sh -c {{bind /n/net /net; {}}}",
        dial(sink.port)
    );
    let mut figures: Vec<(&str, Vec<f64>)> = vec![
        ("host program -> sink (direct socket)", vec![]),
        ("ember dial, its own /net", vec![]),
        ("ember dial -> socat relay -> sink", vec![]),
        ("ember dial through the gateway's /net", vec![]),
    ];
    for _ in 0..runs {
        let samples = [
            direct_socket(&sink, data),
            send_to_sink(scratch, &sink, "own /net", &dial(sink.port)),
            send_to_sink(scratch, &sink, "relay", &dial(relay_port)),
            send_to_sink(scratch, &sink, "gateway", &through_gateway),
        ];
        for ((_, figure), sample) in figures.iter_mut().zip(samples) {
            figure.push(sample);
        }
    }
    let medians: Vec<f64> = figures
        .iter()
        .map(|(_, samples)| median(samples.clone()))
        .collect();
    println!("bulk TCP, 256 MiB, loopback, median of {runs}:");
    for ((name, _), figure) in figures.iter().zip(&medians) {
        row(name, *figure);
    }
    let target = "  (target at least 1x)";
    ratio(
        "gateway's /net / socat relay",
        medians[3] / medians[2],
        target,
    );
    ratio("gateway's /net / own /net", medians[3] / medians[1], "");
    ratio(
        "gateway's /net / direct socket",
        medians[3] / medians[0],
        "",
    );
}

fn ninep_read(scratch: &Scratch, data: &[u8], runs: usize) {
    let server_port = free_port();
    let _server = server(
        scratch,
        server_port,
        &format!("listen -A -s 'tcp!127.0.0.1!{server_port}' {{export /tmp &}}"),
    );
    let read = format!(
        "mount -A 'tcp!127.0.0.1!{server_port}' /n
         echo start; cat /n/big > /dev/null; echo end"
    );
    let mut raw = vec![];
    let mut through = vec![];
    for _ in 0..runs {
        raw.push(raw_tcp(data));
        through.push(timed_read(scratch, "9P read", &read));
    }
    let (raw, through) = (median(raw), median(through));
    println!("9P read between two embers, 256 MiB, loopback TCP, median of {runs}:");
    row("raw TCP, two host threads, 64 KiB writes and reads", raw);
    row("9P read: cat /n/big > /dev/null (64 KiB Treads)", through);
    let target = "  (target at least 0.5x)";
    ratio("9P read / raw TCP", through / raw, target);
    ratio(
        "9P read / Inferno emu (87 MB/s)",
        through / INFERNO_EMU_MBS,
        "",
    );
}

fn main() {
    let runs: usize = std::env::var("NET_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5)
        .max(1);
    let what = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let scratch = Scratch::new();
    let data = std::fs::read(scratch.root().join("tmp/big")).unwrap();
    if what.as_deref().is_none_or(|what| what == "bulk") {
        bulk_tcp(&scratch, &data, runs);
    }
    if what.as_deref().is_none_or(|what| what == "9p") {
        ninep_read(&scratch, &data, runs);
    }
}
