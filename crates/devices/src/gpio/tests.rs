//! Tests of `#G` above the backend: the files, the verbs, and the request and release logic,
//! against a mock chip that logs every call and can be told to refuse.

use super::*;
use kernel::Kernel;
use ninep::{OREAD, OWRITE};
use std::collections::BTreeSet;
use std::time::Duration;

/// What the tests see of the mock: the calls it got, the lines it was told to refuse, and the
/// sink of the chip open now.
#[derive(Default)]
struct Probe {
    log: Mutex<Vec<String>>,
    /// Lines another program holds, with its name.
    busy: Mutex<BTreeMap<Offset, String>>,
    /// Lines whose chip refuses edge detection.
    no_edges: Mutex<BTreeSet<Offset>>,
    sink: Mutex<Option<EventSink>>,
}

impl Probe {
    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock())
    }

    fn fire(&self, offset: Offset, kind: EdgeKind, timestamp_ns: u64) {
        let sink = self.sink.lock().clone().expect("no chip is open");
        sink(EdgeEvent {
            offset,
            kind,
            timestamp_ns,
        });
    }
}

/// A chip of 32 lines that does what it is told, keeps what it holds, and logs it.
struct Mock {
    probe: Arc<Probe>,
    held: Mutex<BTreeMap<Offset, LineConfig>>,
}

fn describe(config: &LineConfig) -> String {
    format!(
        "{} {} {} {}",
        direction_word(config.direction),
        pull_word(config.pull),
        edge_word(config.edge),
        u8::from(config.value)
    )
}

impl Backend for Mock {
    fn name(&self) -> String {
        "mock".into()
    }

    fn label(&self) -> String {
        "mock chip".into()
    }

    fn line_count(&self) -> u32 {
        32
    }

    fn request(
        &self,
        offset: Offset,
        config: &LineConfig,
    ) -> std::result::Result<(), BackendError> {
        if let Some(consumer) = self.probe.busy.lock().get(&offset) {
            return Err(BackendError::Busy {
                consumer: consumer.clone(),
            });
        }
        if config.edge != Edge::None && self.probe.no_edges.lock().contains(&offset) {
            return Err(BackendError::Unsupported("no edge detection here".into()));
        }
        let mut held = self.held.lock();
        let verb = if held.contains_key(&offset) {
            "reconfigure"
        } else {
            "request"
        };
        self.probe
            .log
            .lock()
            .push(format!("{verb} {offset} {}", describe(config)));
        held.insert(offset, *config);
        Ok(())
    }

    fn release(&self, offset: Offset) {
        let what = if self.held.lock().remove(&offset).is_some() {
            "release"
        } else {
            "release of a line not held"
        };
        self.probe.log.lock().push(format!("{what} {offset}"));
    }

    fn get(&self, offset: Offset) -> std::result::Result<bool, BackendError> {
        match self.held.lock().get(&offset) {
            Some(config) => Ok(config.direction == Direction::Output && config.value),
            None => {
                self.probe.log.lock().push(format!("peek {offset}"));
                Ok(false)
            }
        }
    }

    fn set(&self, offset: Offset, level: bool) -> std::result::Result<(), BackendError> {
        let mut held = self.held.lock();
        let config = held
            .get_mut(&offset)
            .filter(|config| config.direction == Direction::Output)
            .ok_or_else(|| BackendError::Host("set of a line that is not an output".into()))?;
        config.value = level;
        self.probe
            .log
            .lock()
            .push(format!("set {offset} {}", u8::from(level)));
        Ok(())
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let left = self.held.lock().len();
        self.probe
            .log
            .lock()
            .push(format!("closed with {left} held"));
    }
}

fn setup() -> (Arc<Kernel>, Ctx, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    let opened = probe.clone();
    let open = move |name: &str, sink: EventSink| {
        if name != "mock" {
            return Err(format!("no GPIO chip named '{name}'"));
        }
        opened.log.lock().push("open".into());
        *opened.sink.lock() = Some(sink);
        Ok(Box::new(Mock {
            probe: opened.clone(),
            held: Mutex::new(BTreeMap::new()),
        }) as Box<dyn Backend>)
    };
    let gpio = Gpio::with_backends(
        Some("mock".into()),
        |spec| Ok(spec.to_string()),
        Box::new(open),
    );
    let kernel = Kernel::new("glenda", "testhost");
    kernel.register(Arc::new(gpio)).unwrap();
    kernel.register(Arc::new(crate::pipe::Pipe::new())).unwrap();
    let ctx = Ctx::new(kernel.first_proc("gpio", "glenda"));
    (kernel, ctx, probe)
}

fn write(ctx: &Ctx, chan: &Chan, text: &str) -> Result<usize> {
    ctx.write_chan(chan, text.as_bytes(), 0)
}

fn read_text(ctx: &Ctx, path: &str) -> String {
    String::from_utf8(ctx.read_file(path, 1 << 16).unwrap()).unwrap()
}

fn error_text(result: Result<usize>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn qid_paths_round_trip() {
    for file in [
        GpioFile::Root,
        GpioFile::Dir,
        GpioFile::Ctl,
        GpioFile::Event,
        GpioFile::Pin(0),
        GpioFile::Pin(53),
        GpioFile::Pin(Offset::MAX),
    ] {
        assert_eq!(GpioFile::unpack(file.pack()), Some(file));
    }
    assert_eq!(GpioFile::unpack(Qid::file(9)), None);
    assert_eq!(GpioFile::unpack(Qid::file(1 << 8 | 2)), None);
}

#[test]
fn the_tree_lists_ctl_event_and_one_file_per_line() {
    let (_kernel, ctx, _probe) = setup();
    let top: Vec<String> = ctx
        .read_dir("#G")
        .unwrap()
        .into_iter()
        .map(|dir| dir.name)
        .collect();
    assert_eq!(top, ["gpio"]);
    let names: Vec<String> = ctx
        .read_dir("#G/gpio")
        .unwrap()
        .into_iter()
        .map(|dir| dir.name)
        .collect();
    assert_eq!(names.len(), 2 + 32);
    assert_eq!(names[..4], ["ctl", "event", "0", "1"]);
    assert_eq!(names.last().unwrap(), "31");
    for missing in ["32", "017", "-1", "x", ""] {
        assert!(ctx.stat(&format!("#G/gpio/{missing}x")).is_err());
        if !missing.is_empty() {
            assert_eq!(
                ctx.stat(&format!("#G/gpio/{missing}")).unwrap_err().root(),
                &Error::NotExist,
                "{missing}"
            );
        }
    }
    assert_eq!(ctx.stat("#G/gpio/17").unwrap().mode, 0o664);
    assert_eq!(ctx.stat("#G/gpio/event").unwrap().mode, 0o444);
}

#[test]
fn configuring_holds_a_line_once_and_reconfigures_it_in_place() {
    let (_kernel, ctx, probe) = setup();
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    assert_eq!(probe.take_log(), ["open"]);
    write(&ctx, &ctl, "function 17 out\n").unwrap();
    write(&ctx, &ctl, "set 17 1").unwrap();
    write(&ctx, &ctl, "pull 17 up").unwrap();
    // The same configuration again asks nothing of the chip.
    write(&ctx, &ctl, "function 17 out").unwrap();
    assert_eq!(
        probe.take_log(),
        [
            "request 17 out off none 0",
            "set 17 1",
            "reconfigure 17 out up none 1"
        ]
    );
    assert_eq!(read_text(&ctx, "#G/gpio/ctl"), "17 out up 1 none\n");
    assert_eq!(read_text(&ctx, "#G/gpio/17"), "1\n");
}

#[test]
fn release_gives_a_line_back_and_reading_does_not_keep_it() {
    let (_kernel, ctx, probe) = setup();
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    write(&ctx, &ctl, "edge 4 falling").unwrap();
    write(&ctx, &ctl, "release 4").unwrap();
    write(&ctx, &ctl, "release 4").unwrap();
    assert_eq!(read_text(&ctx, "#G/gpio/5"), "0\n");
    assert_eq!(
        probe.take_log(),
        ["open", "request 4 in off falling 0", "release 4", "peek 5"]
    );
    assert_eq!(read_text(&ctx, "#G/gpio/ctl"), "");
}

#[test]
fn the_last_reference_to_a_chip_releases_every_line() {
    let (_kernel, ctx, probe) = setup();
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    write(&ctx, &ctl, "function 3 out\nfunction 4 in").unwrap();
    // A second attach, by name, is the same chip: no second open.
    let again = ctx.open_chan("#Gmock/gpio/ctl", OREAD).unwrap();
    assert_eq!(again.devno, ctl.devno);
    drop(ctl);
    assert!(
        !probe
            .take_log()
            .iter()
            .any(|line| line.starts_with("release"))
    );
    drop(again);
    assert_eq!(
        probe.take_log(),
        ["release 3", "release 4", "closed with 0 held"]
    );
    // The next attach opens the chip afresh, holding nothing.
    assert_eq!(read_text(&ctx, "#G/gpio/ctl"), "");
    assert_eq!(probe.take_log(), ["open", "closed with 0 held"]);
}

#[test]
fn a_bind_keeps_the_chip_and_its_lines() {
    let (_kernel, ctx, probe) = setup();
    let ns = ctx.ns();
    ns.set_root(ns.attach(&ctx, '|', "").unwrap());
    ctx.bind("#G", "/", kernel::MREPL).unwrap();
    let ctl = ctx.open_chan("/gpio/ctl", OWRITE).unwrap();
    write(&ctx, &ctl, "function 9 out").unwrap();
    drop(ctl);
    assert_eq!(read_text(&ctx, "/gpio/ctl"), "9 out off 0 none\n");
    assert_eq!(probe.take_log(), ["open", "request 9 out off none 0"]);
}

#[test]
fn a_busy_line_is_refused_by_name_and_left_alone() {
    let (_kernel, ctx, probe) = setup();
    probe.busy.lock().insert(9, "gpioset".into());
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    assert_eq!(
        error_text(write(&ctx, &ctl, "function 9 out")),
        "pin 9: line busy (held by 'gpioset')"
    );
    probe.busy.lock().insert(9, String::new());
    assert_eq!(
        error_text(write(&ctx, &ctl, "pullup 9")),
        "pin 9: line busy (held by another program)"
    );
    assert_eq!(read_text(&ctx, "#G/gpio/ctl"), "");
    assert_eq!(probe.take_log(), ["open"]);
}

#[test]
fn a_refused_change_keeps_the_old_configuration() {
    let (_kernel, ctx, probe) = setup();
    probe.no_edges.lock().insert(10);
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    write(&ctx, &ctl, "pulldown 10").unwrap();
    assert_eq!(
        error_text(write(&ctx, &ctl, "edge 10 both")),
        "pin 10: not supported: no edge detection here"
    );
    assert_eq!(read_text(&ctx, "#G/gpio/ctl"), "10 in down 0 none\n");
}

#[test]
fn verbs_and_their_errors() {
    let (_kernel, ctx, _probe) = setup();
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    let cases = [
        ("blink 17", "unknown control message 'blink'"),
        ("function 17", "usage: function N in|out"),
        ("function 99 out", "no pin 99: pins are 0 to 31"),
        (
            "function 4294967296 out",
            "no pin 4294967296: pins are 0 to 31",
        ),
        ("set x 1", "bad pin 'x': pins are 0 to 31"),
        (
            "function 17 sideways",
            "unknown function 'sideways'; usage: function N in|out",
        ),
        (
            "function 17 alt0",
            "function alt0 is not supported: Linux's GPIO interface offers only in and out",
        ),
        ("set 17 2", "bad level '2'; usage: set N 0|1"),
        (
            "set 17 1",
            "pin 17 is not an output (make it one with 'function 17 out')",
        ),
        (
            "pull 17 sideways",
            "unknown pull 'sideways'; usage: pull N up|down|off",
        ),
        (
            "edge 17 up",
            "unknown edge 'up'; usage: edge N rising|falling|both|none",
        ),
        ("sim 17 1", "sim: only the simulated chip (#Gsim) has 'sim'"),
        ("sim 17 2", "bad level '2'; usage: sim N 0|1|off"),
    ];
    for (message, expected) in cases {
        assert_eq!(
            error_text(write(&ctx, &ctl, message)),
            expected,
            "{message}"
        );
    }
    assert_eq!(write(&ctx, &ctl, ""), Err(Error::BadCtl));
    assert_eq!(write(&ctx, &ctl, "\n \n"), Err(Error::BadCtl));
    assert_eq!(ctx.write_chan(&ctl, &[0xff, 0xfe], 0), Err(Error::BadCtl));
    assert!(ctx.write_chan(&ctl, &vec![b' '; MAX_CTL + 1], 0).is_err());
    // An output refuses edges; becoming an output drops them.
    write(&ctx, &ctl, "edge 6 both\nfunction 6 out").unwrap();
    assert_eq!(read_text(&ctx, "#G/gpio/ctl"), "6 out off 0 none\n");
    assert_eq!(
        error_text(write(&ctx, &ctl, "edge 6 rising")),
        "pin 6 is an output: edge detection needs an input"
    );
    write(&ctx, &ctl, "edge 6 none").unwrap();
    // A message of several lines stops at the first bad one.
    assert!(write(&ctx, &ctl, "pullup 7\nbogus\npullup 8").is_err());
    let listing = read_text(&ctx, "#G/gpio/ctl");
    assert!(listing.contains("7 in up 0 none\n") && !listing.contains("\n8 "));
}

#[test]
fn inferno_verbs_are_aliases() {
    let (_kernel, ctx, probe) = setup();
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    write(
        &ctx,
        &ctl,
        "pullup 1\npulldown 2\nfloat 3\nfunction 4 output\nfunction 5 input",
    )
    .unwrap();
    assert_eq!(
        read_text(&ctx, "#G/gpio/ctl"),
        "1 in up 0 none\n2 in down 0 none\n3 in off 0 none\n4 out off 0 none\n5 in off 0 none\n"
    );
    assert_eq!(probe.take_log().len(), 6);
}

#[test]
fn pin_files_read_levels_and_drive_outputs_only() {
    let (_kernel, ctx, _probe) = setup();
    let ctl = ctx.open_chan("#G/gpio/ctl", OWRITE).unwrap();
    let pin = ctx.open_chan("#G/gpio/12", ninep::ORDWR).unwrap();
    assert_eq!(
        error_text(write(&ctx, &pin, "1")),
        "pin 12 is not an output (make it one with 'function 12 out')"
    );
    write(&ctx, &ctl, "function 12 out").unwrap();
    assert_eq!(write(&ctx, &pin, "1\n"), Ok(2));
    assert_eq!(read_text(&ctx, "#G/gpio/12"), "1\n");
    assert_eq!(
        error_text(write(&ctx, &pin, "high")),
        "bad level 'high': write 0 or 1"
    );
    assert!(write(&ctx, &pin, "").is_err());
    let mut buf = [0u8; 1];
    assert_eq!(ctx.read_chan(&pin, &mut buf, 1), Ok(1));
    assert_eq!(&buf, b"\n");
    assert_eq!(ctx.read_chan(&pin, &mut buf, 2), Ok(0));
    let event = ctx.open_chan("#G/gpio/event", OREAD).unwrap();
    assert_eq!(ctx.write_chan(&event, b"x", 0), Err(Error::BadUseFd));
    assert_eq!(
        ctx.open("#G/gpio/event", OWRITE).unwrap_err().root(),
        &Error::Perm
    );
}

#[test]
fn event_reads_return_whole_lines_and_keep_the_rest_of_a_cut_one() {
    let (_kernel, ctx, probe) = setup();
    let event = ctx.open_chan("#G/gpio/event", OREAD).unwrap();
    probe.fire(17, EdgeKind::Rising, 1_000);
    probe.fire(4, EdgeKind::Falling, 2_500);
    let mut buf = [0u8; 100];
    let count = ctx.read_chan(&event, &mut buf, 0).unwrap();
    assert_eq!(&buf[..count], b"17 rising 1000\n4 falling 2500\n");
    // A buffer shorter than a line: the rest comes with the next reads, byte by byte.
    probe.fire(3, EdgeKind::Rising, 7);
    probe.fire(5, EdgeKind::Rising, 8);
    let mut text = Vec::new();
    let mut one = [0u8; 1];
    while text.last() != Some(&b'\n') {
        assert_eq!(ctx.read_chan(&event, &mut one, 0), Ok(1));
        text.push(one[0]);
    }
    assert_eq!(text, b"3 rising 7\n");
    // A line that does not fit whole waits for the next read.
    let mut small = [0u8; 14];
    probe.fire(6, EdgeKind::Falling, 9);
    let count = ctx.read_chan(&event, &mut small, 0).unwrap();
    assert_eq!(&small[..count], b"5 rising 8\n");
    let count = ctx.read_chan(&event, &mut small, 0).unwrap();
    assert_eq!(&small[..count], b"6 falling 9\n");
}

#[test]
fn the_event_queue_is_bounded() {
    let (_kernel, ctx, probe) = setup();
    let event = ctx.open_chan("#G/gpio/event", OREAD).unwrap();
    for index in 0..(EVENT_QUEUE as u64 + 10) {
        probe.fire(1, EdgeKind::Rising, index);
    }
    let mut buf = vec![0u8; 1 << 16];
    let count = ctx.read_chan(&event, &mut buf, 0).unwrap();
    let text = String::from_utf8_lossy(&buf[..count]);
    assert_eq!(text.lines().count(), EVENT_QUEUE);
    assert_eq!(text.lines().next(), Some("1 rising 10"));
}

#[test]
fn a_blocked_event_read_wakes_for_an_edge_and_ends_on_interrupt() {
    let (_kernel, ctx, probe) = setup();
    let event = ctx.open_chan("#G/gpio/event", OREAD).unwrap();
    let reader = ctx.clone();
    let chan = event.clone();
    let handle = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        reader
            .read_chan(&chan, &mut buf, 0)
            .map(|count| String::from_utf8_lossy(&buf[..count]).into_owned())
    });
    wait_for_release(&ctx);
    probe.fire(2, EdgeKind::Falling, 42);
    assert_eq!(handle.join().unwrap().unwrap(), "2 falling 42\n");
    let reader = ctx.clone();
    let handle = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        reader.read_chan(&event, &mut buf, 0)
    });
    wait_for_release(&ctx);
    ctx.proc.interrupt();
    assert_eq!(handle.join().unwrap(), Err(Error::Interrupted));
}

/// Waits until the process is blocked in the kernel.
fn wait_for_release(ctx: &Ctx) {
    for _ in 0..500 {
        if ctx.proc.state() == "release" {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the reader never blocked");
}

#[test]
fn attach_errors_name_the_chip() {
    let (_kernel, ctx, _probe) = setup();
    assert_eq!(
        ctx.open("#Gnothing", OREAD).unwrap_err().root().to_string(),
        "no GPIO chip named 'nothing'"
    );
}

#[test]
fn the_simulated_chip_through_the_device() {
    let kernel = Kernel::new("glenda", "testhost");
    kernel.register(Arc::new(Gpio::new(None))).unwrap();
    let ctx = Ctx::new(kernel.first_proc("gpio", "glenda"));
    let ctl = ctx.open_chan("#Gsim/gpio/ctl", OWRITE).unwrap();
    assert_eq!(ctx.read_dir("#Gsim/gpio").unwrap().len(), 2 + 54);
    write(
        &ctx,
        &ctl,
        "function 17 out\nset 17 1\npullup 4\nedge 5 both\nsim 5 1",
    )
    .unwrap();
    assert_eq!(read_text(&ctx, "#Gsim/gpio/17"), "1\n");
    assert_eq!(read_text(&ctx, "#Gsim/gpio/4"), "1\n");
    assert_eq!(read_text(&ctx, "#Gsim/gpio/5"), "1\n");
    let event = ctx.open_chan("#Gsim/gpio/event", OREAD).unwrap();
    let mut buf = [0u8; 64];
    let count = ctx.read_chan(&event, &mut buf, 0).unwrap();
    let text = String::from_utf8_lossy(&buf[..count]);
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(words[..2], ["5", "rising"]);
    assert!(words[2].parse::<u64>().unwrap() > 0);
    assert_eq!(
        read_text(&ctx, "#Gsim/gpio/ctl"),
        "4 in up 1 none\n5 in off 1 both\n17 out off 1 none\n"
    );
    assert_eq!(
        error_text(write(&ctx, &ctl, "function 54 out")),
        "no pin 54: pins are 0 to 53"
    );
}
