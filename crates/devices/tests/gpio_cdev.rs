//! The character-device backend of `#G` against real Linux GPIO: the kernel's `gpio-sim`
//! (a simulated chip behind a real `/dev/gpiochipN`, driven from configfs and sysfs with the
//! `gpiosim` crate). The checks need the `gpio-sim` module and configfs, and usually root.
//!
//! Its own harness, so that a machine without `gpio-sim` reports every check as skipped,
//! saying why, instead of passing them: `cargo test -p devices --test gpio_cdev`. The closing
//! line is `gpio-sim: N passed, N failed, N skipped`; the exit status is non-zero only if a
//! check ran and failed.

use devices::gpio::cdev::{CONSUMER, CdevChip};
use devices::gpio::{
    Backend, BackendError, Direction, Edge, EdgeEvent, EdgeKind, EventSink, Gpio, LineConfig, Pull,
    monotonic_ns,
};
use gpiosim::{Bank, Level};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Check = fn(&gpiosim::Chip) -> Result<(), String>;

const CHECKS: [(&str, Check); 9] = [
    (
        "an_output_drives_the_line_and_reads_back",
        an_output_drives_the_line,
    ),
    (
        "an_input_follows_its_pull_and_the_world",
        an_input_follows_the_world,
    ),
    (
        "edges_carry_kernel_timestamps",
        edges_carry_kernel_timestamps,
    ),
    (
        "a_line_held_elsewhere_is_busy_by_name",
        a_line_held_elsewhere_is_busy,
    ),
    (
        "release_frees_a_watched_line_at_once",
        release_frees_a_watched_line,
    ),
    ("reconfiguring_keeps_the_line", reconfiguring_keeps_the_line),
    ("reading_a_line_does_not_keep_it", reading_does_not_keep_it),
    (
        "closing_the_chip_releases_every_line",
        closing_releases_everything,
    ),
    ("the_device_over_the_chip", the_device_over_the_chip),
];

fn main() {
    let sim = gpiosim::builder()
        .with_name(format!("ember-test-{}", std::process::id()))
        .with_bank(&Bank::new(16, "ember-test"))
        .live();
    let sim = match sim {
        Ok(sim) => sim,
        Err(error) => {
            println!(
                "gpio-sim is not available on this machine ({error}); the {} checks of the \
                 character-device backend were skipped, not passed (they need the gpio-sim \
                 module, configfs at /sys/kernel/config, and root)",
                CHECKS.len()
            );
            println!("gpio-sim: 0 passed, 0 failed, {} skipped", CHECKS.len());
            return;
        }
    };
    let chip = &sim.chips()[0];
    println!("gpio-sim chip {}", chip.dev_path().display());
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (name, check) in CHECKS {
        if !filter.is_empty() && !filter.iter().any(|word| name.contains(word.as_str())) {
            skipped += 1;
            continue;
        }
        match check(chip) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(problem) => {
                println!("test {name} ... FAILED: {problem}");
                failed += 1;
            }
        }
    }
    println!("gpio-sim: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// The backend on the simulated chip, with its edges going to the returned receiver.
fn open(chip: &gpiosim::Chip) -> Result<(CdevChip, Receiver<EdgeEvent>), String> {
    let (sender, receiver) = channel();
    let sender = Mutex::new(sender);
    let sink: EventSink = Arc::new(move |event| {
        let _ = sender.lock().unwrap().send(event);
    });
    Ok((CdevChip::open(chip.dev_path(), sink)?, receiver))
}

fn check(condition: bool, what: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

fn level(chip: &gpiosim::Chip, offset: u32) -> Result<Level, String> {
    chip.get_level(offset).map_err(|error| error.to_string())
}

fn pull(chip: &gpiosim::Chip, offset: u32, level: Level) -> Result<(), String> {
    chip.set_pull(offset, level)
        .map_err(|error| error.to_string())
}

fn output(value: bool) -> LineConfig {
    LineConfig {
        direction: Direction::Output,
        value,
        ..LineConfig::default()
    }
}

fn input(pull: Pull, edge: Edge) -> LineConfig {
    LineConfig {
        direction: Direction::Input,
        pull,
        edge,
        value: false,
    }
}

fn line_info(path: &Path, offset: u32) -> Result<gpiocdev::line::Info, String> {
    gpiocdev::Chip::from_path(path)
        .and_then(|chip| chip.line_info(offset))
        .map_err(|error| error.to_string())
}

fn an_output_drives_the_line(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    backend
        .request(3, &output(true))
        .map_err(|e| e.to_string())?;
    check(level(chip, 3)? == Level::High, "line 3 not driven high")?;
    check(backend.get(3) == Ok(true), "line 3 does not read back 1")?;
    backend.set(3, false).map_err(|e| e.to_string())?;
    check(level(chip, 3)? == Level::Low, "line 3 not driven low")?;
    check(backend.get(3) == Ok(false), "line 3 does not read back 0")
}

fn an_input_follows_the_world(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    // gpio-sim takes a requested bias as the pull of its simulated wire.
    backend
        .request(4, &input(Pull::Up, Edge::None))
        .map_err(|e| e.to_string())?;
    check(backend.get(4) == Ok(true), "pull-up input does not read 1")?;
    pull(chip, 4, Level::Low)?;
    check(
        backend.get(4) == Ok(false),
        "input does not follow the world",
    )?;
    check(
        backend.set(4, true).is_err(),
        "setting an input should fail",
    )
}

fn edges_carry_kernel_timestamps(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, events) = open(chip)?;
    pull(chip, 5, Level::Low)?;
    backend
        .request(5, &input(Pull::Down, Edge::Both))
        .map_err(|e| e.to_string())?;
    let before = monotonic_ns();
    pull(chip, 5, Level::High)?;
    let rising = events
        .recv_timeout(Duration::from_secs(2))
        .map_err(|_| "no rising edge within 2 s".to_string())?;
    let after = monotonic_ns();
    check(
        rising.offset == 5 && rising.kind == EdgeKind::Rising,
        "not a rising edge on 5",
    )?;
    check(
        (before..=after).contains(&rising.timestamp_ns),
        "timestamp is not on the monotonic clock between the pull and its report",
    )?;
    pull(chip, 5, Level::Low)?;
    let falling = events
        .recv_timeout(Duration::from_secs(2))
        .map_err(|_| "no falling edge within 2 s".to_string())?;
    check(falling.kind == EdgeKind::Falling, "not a falling edge")?;
    check(
        falling.timestamp_ns > rising.timestamp_ns,
        "timestamps out of order",
    )?;
    // Only rising now: a fall is not reported.
    backend
        .request(5, &input(Pull::Down, Edge::Rising))
        .map_err(|e| e.to_string())?;
    pull(chip, 5, Level::High)?;
    pull(chip, 5, Level::Low)?;
    let next = events
        .recv_timeout(Duration::from_secs(2))
        .map_err(|_| "no edge after reconfiguring".to_string())?;
    check(
        next.kind == EdgeKind::Rising,
        "reconfigured edge is not rising",
    )?;
    check(
        events.recv_timeout(Duration::from_millis(200)).is_err(),
        "a falling edge was reported with edge rising",
    )
}

fn a_line_held_elsewhere_is_busy(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    let _other = gpiocdev::Request::builder()
        .on_chip(chip.dev_path())
        .with_consumer("other-program")
        .with_line(6)
        .as_input()
        .request()
        .map_err(|e| e.to_string())?;
    match backend.request(6, &output(false)) {
        Err(BackendError::Busy { consumer }) if consumer == "other-program" => {}
        other => return Err(format!("expected busy by other-program, got {other:?}")),
    }
    match backend.get(6) {
        Err(BackendError::Busy { .. }) => Ok(()),
        other => Err(format!("reading a held line: expected busy, got {other:?}")),
    }
}

fn release_frees_a_watched_line(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    for _ in 0..20 {
        backend
            .request(7, &input(Pull::Off, Edge::Both))
            .map_err(|e| e.to_string())?;
        backend.release(7);
        // The line must be free now: another program gets it at once.
        gpiocdev::Request::builder()
            .on_chip(chip.dev_path())
            .with_consumer("next")
            .with_line(7)
            .as_input()
            .request()
            .map_err(|e| format!("line 7 still held after release: {e}"))?;
    }
    Ok(())
}

fn reconfiguring_keeps_the_line(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    backend
        .request(8, &input(Pull::Up, Edge::Rising))
        .map_err(|e| e.to_string())?;
    backend
        .request(8, &output(true))
        .map_err(|e| e.to_string())?;
    let info = line_info(chip.dev_path(), 8)?;
    check(
        info.used && info.consumer == CONSUMER,
        "line 8 not held by ember",
    )?;
    check(
        info.direction == gpiocdev::line::Direction::Output,
        "line 8 not an output",
    )?;
    check(level(chip, 8)? == Level::High, "line 8 not high")
}

fn reading_does_not_keep_it(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    pull(chip, 9, Level::High)?;
    check(backend.get(9) == Ok(true), "line 9 does not read 1")?;
    check(!line_info(chip.dev_path(), 9)?.used, "a read kept line 9")
}

fn closing_releases_everything(chip: &gpiosim::Chip) -> Result<(), String> {
    let (backend, _) = open(chip)?;
    backend
        .request(10, &output(true))
        .map_err(|e| e.to_string())?;
    backend
        .request(11, &input(Pull::Off, Edge::Both))
        .map_err(|e| e.to_string())?;
    drop(backend);
    for offset in [10, 11] {
        check(
            !line_info(chip.dev_path(), offset)?.used,
            &format!("line {offset} still held after the chip closed"),
        )?;
    }
    Ok(())
}

fn the_device_over_the_chip(chip: &gpiosim::Chip) -> Result<(), String> {
    use kernel::{Ctx, Kernel};
    let name = chip
        .dev_path()
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or("chip path has no name")?
        .to_string();
    let kernel = Kernel::new("glenda", "test");
    kernel
        .register(Arc::new(Gpio::new(Some(name))))
        .map_err(|e| e.to_string())?;
    let ctx = Ctx::new(kernel.first_proc("test", "glenda"));
    let ctl = ctx
        .open_chan("#G/gpio/ctl", ninep::OWRITE)
        .map_err(|e| e.to_string())?;
    ctx.write_chan(&ctl, b"function 12 out\nset 12 1\nedge 13 rising", 0)
        .map_err(|e| e.to_string())?;
    check(level(chip, 12)? == Level::High, "line 12 not high")?;
    pull(chip, 13, Level::High)?;
    let event = ctx
        .open_chan("#G/gpio/event", ninep::OREAD)
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let count = ctx
        .read_chan(&event, &mut buf, 0)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&buf[..count]).into_owned();
    check(
        text.starts_with("13 rising "),
        &format!("event read {text:?}"),
    )?;
    drop((ctl, event));
    check(
        !line_info(chip.dev_path(), 12)?.used,
        "line 12 still held after the last chan went",
    )
}
