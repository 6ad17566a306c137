//! GPIO across two ember processes and at a terminal, through the real binary:
//!
//! - two embers, each on its own root, wired back to back through host pipes: the first runs
//!   `export -a /dev` on its console with the simulated chip (`-G sim`), the second mounts its
//!   own console (`mount /dev/cons`), so every 9P message crosses a host pipe. The second
//!   drives a pin of the first's chip and the first sees the level change; a read of `event`
//!   blocked across the connection is killed (the server's read must end on the Tflush, or the
//!   next edge would be swallowed by it), and the next read gets the first's edge;
//! - the interrupt key (Ctrl-C) at an interactive prompt ends a read of `event` blocked
//!   through `mount {export /dev}`, and the shell goes on.
//!
//! The second needs tmux (`scripts/setup` installs it). `EMBER_RUNNER`, if set, is a command
//! that every ember is run through (`scripts/cross test` runs an aarch64 build under
//! `qemu-aarch64-static` this way).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

fn ember() -> &'static str {
    env!("CARGO_BIN_EXE_ember")
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("ember-gpio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The words that start ember: `EMBER_RUNNER`'s, then the binary.
fn ember_words() -> Vec<String> {
    let mut words: Vec<String> = std::env::var("EMBER_RUNNER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    words.push(ember().to_string());
    words
}

/// ember with its built-in root unpacked under `scratch`.
fn command(scratch: &Path) -> Command {
    let words = ember_words();
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]);
    command
        .env_remove("EMBER_ROOT")
        .env_remove("EMBER_DEBUG")
        .env("XDG_DATA_HOME", scratch)
        .env("HOME", scratch)
        .current_dir(scratch);
    command
}

/// Unpacks the root under `scratch` and puts `script` in its `/tmp/script`.
fn root_with_script(scratch: &Path, script: &str) {
    let status = command(scratch).args(["echo", "-n"]).status().unwrap();
    assert!(status.success());
    std::fs::write(scratch.join("ember/root/tmp/script"), script).unwrap();
}

/// Waits for `child` to exit, killing it after [`LIMIT`]; returns its exit code and stderr.
fn finish(mut child: Child, name: &str) -> (i32, String) {
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = reader.join().unwrap();
    eprintln!("--- {name} (exit {code}):\n{text}");
    (code, text)
}

const SERVER_SCRIPT: &str = "\
echo edge 4 rising > /dev/gpio/ctl
export -a /dev
n=0
while {! ~ `{cat /dev/gpio/17} 1} {
	sleep 0.05
	n=`{echo $n x}
	if {~ $#n 400} {echo first: pin 17 never went high >[1=2]; exit timeout}
}
echo first: pin 17 went high >[1=2]
sleep 0.3
echo sim 4 1 > /dev/gpio/ctl
echo first: drove pin 4 high >[1=2]
# Serve until the second is done with the pins (it drives 17 low again).
n=0
while {~ `{cat /dev/gpio/17} 1} {
	sleep 0.05
	n=`{echo $n x}
	if {~ $#n 400} {echo first: pin 17 never went low >[1=2]; exit timeout}
}
echo first: done >[1=2]
";

const CLIENT_SCRIPT: &str = "\
mkdir -p /tmp/pi
mount /dev/cons /tmp/pi
ls /tmp/pi/gpio/ctl >[1=2]
read < /tmp/pi/gpio/event > /tmp/lost &
reader=$apid
sleep 0.3
kill $reader
sleep 0.2
test -e /prog/$reader || echo second: blocked reader killed >[1=2]
echo function 17 out > /tmp/pi/gpio/ctl
echo 1 > /tmp/pi/gpio/17
(pin kind stamp) = `{read < /tmp/pi/gpio/event}
echo second: event $pin $kind >[1=2]
test $stamp -gt 0 && echo second: stamped >[1=2]
echo 0 > /tmp/pi/gpio/17
";

#[test]
fn two_embers_share_a_chip_over_9p_through_host_pipes() {
    let first_dir = Scratch::new("first");
    let second_dir = Scratch::new("second");
    root_with_script(&first_dir.0, SERVER_SCRIPT);
    root_with_script(&second_dir.0, CLIENT_SCRIPT);
    let mut first = command(&first_dir.0)
        .args(["-u", "glenda", "-G", "sim", "sh", "/tmp/script"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let to_first = first.stdin.take().unwrap();
    let from_first = first.stdout.take().unwrap();
    let second = command(&second_dir.0)
        .args(["-u", "glenda", "sh", "/tmp/script"])
        .stdin(Stdio::from(from_first))
        .stdout(Stdio::from(to_first))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (second_code, second_err) = finish(second, "second");
    let (first_code, first_err) = finish(first, "first");
    assert!(second_err.contains("/tmp/pi/gpio/ctl"), "no mount");
    assert!(second_err.contains("second: blocked reader killed"));
    assert!(first_err.contains("first: pin 17 went high"));
    assert!(first_err.contains("first: drove pin 4 high"));
    assert!(second_err.contains("second: event 4 rising\n"));
    assert!(second_err.contains("second: stamped"));
    assert_eq!(second_code, 0);
    assert_eq!(first_code, 0);
}

/// An ember in a tmux terminal of its own.
struct Terminal {
    socket: String,
}

impl Terminal {
    fn start(scratch: &Path) -> Terminal {
        let terminal = Terminal {
            socket: format!("ember-gpio-{}", std::process::id()),
        };
        let command = format!(
            "env XDG_DATA_HOME={dir} HOME={dir} {ember} -u glenda -G sim",
            dir = scratch.display(),
            ember = ember_words().join(" ")
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &terminal.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
            ])
            .args(["-x", "120", "-y", "40", &command])
            .status()
            .expect("tmux must be installed (scripts/setup)");
        assert!(status.success());
        terminal.wait_for("%", 1);
        terminal
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// Types `text` and Enter at the prompt (typing ahead of the line editor loses keys).
    fn line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }

    /// Types a command and waits for the prompt to come back after it.
    fn command(&self, text: &str) {
        let prompts = self.screen().matches('%').count();
        self.line(text);
        self.wait_for("%", prompts + 1);
    }

    fn wait_for(&self, text: &str, times: usize) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= times {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited for {text:?} x{times}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

#[test]
fn the_interrupt_key_ends_an_event_read_blocked_through_a_mount() {
    let scratch = Scratch::new("terminal");
    let terminal = Terminal::start(&scratch.0);
    terminal
        .command("mkdir -p /tmp/pi; mount {export /dev} /tmp/pi; echo edge 4 both > /dev/gpio/ctl");
    terminal.line("read < /tmp/pi/gpio/event");
    // Blocked: give it a moment, then the interrupt key.
    std::thread::sleep(Duration::from_millis(500));
    let screen = terminal.wait_for("%", 1);
    assert!(
        !screen.contains("status interrupted"),
        "the read did not block:\n{screen}"
    );
    terminal.tmux(&["send-keys", "-t", "0", "C-c"]);
    // The interrupt ends the whole command line; its status is the next line's $status.
    terminal.wait_for("%", 3);
    terminal.line("echo status $status");
    terminal.wait_for("status interrupted", 1);
    // The shell goes on, and the export still serves: the next edge reaches the next reader.
    terminal.line(
        "{sleep 0.3; echo sim 4 1 > /dev/gpio/ctl} & read < /tmp/pi/gpio/event | grep -c rising",
    );
    terminal.wait_for("\n1\n", 1);
}
