//! The interactive shell through a real pseudo-terminal (tmux): completion of a path as the
//! namespace sees it, history recall (also across sessions), the interrupt key ending
//! `sleep 100` without ending ember, and end of file at an empty prompt ending it.
//!
//! Needs tmux (`scripts/setup` installs it). Each test uses its own tmux server socket.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Terminal {
    socket: String,
}

impl Terminal {
    fn start(name: &str, scratch: &Path) -> Terminal {
        let terminal = Terminal {
            socket: format!("ember-{name}-{}", std::process::id()),
        };
        let command = format!(
            "env XDG_DATA_HOME={dir} HOME={dir} {ember} -u glenda",
            dir = scratch.display(),
            ember = env!("CARGO_BIN_EXE_ember")
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
        // The screen capture drops trailing blanks: the prompt shows as `%`.
        terminal.wait_for("%");
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

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "0", key]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// Waits until the screen holds `text` (counting occurrences: `times`), or fails with
    /// the screen.
    fn wait_for_times(&self, text: &str, times: usize) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= times {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "waited for {text:?} x{times}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_for_times(text, 1)
    }

    /// Lines of the screen that are exactly `text`.
    fn lines_equal(&self, text: &str) -> usize {
        self.screen().lines().filter(|line| *line == text).count()
    }

    /// Waits until a line of the screen is exactly `text` (output, not a command echoed).
    fn wait_for_line(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.lines().any(|line| line == text) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "waited for the line {text:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether ember is still running in the pane.
    fn alive(&self) -> bool {
        let dead = self.tmux(&["list-panes", "-t", "0", "-F", "#{pane_dead}"]);
        !dead.is_empty() && dead.trim() == "0"
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ember-tty-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn completes_paths_of_the_namespace() {
    let dir = scratch("complete");
    let terminal = Terminal::start("complete", &dir);
    // /n/sysname exists only in this namespace, after the bind: not on the host.
    terminal.keys(&["bind -b '#c' /n", "Enter"]);
    terminal.keys(&["cat /n/sysn", "Tab"]);
    terminal.wait_for("cat /n/sysname");
    terminal.keys(&["C-u"]);
    // Command names complete from /dis.
    terminal.keys(&["unmou", "Tab"]);
    terminal.wait_for("% unmount");
    // $prompt sets the prompt.
    terminal.keys(&["C-u", "prompt=('ember> ' '')", "Enter"]);
    terminal.wait_for("ember>");
    terminal.keys(&["C-d"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recalls_history_within_and_across_sessions() {
    let dir = scratch("history");
    {
        let terminal = Terminal::start("history1", &dir);
        terminal.keys(&["echo remembered-line", "Enter"]);
        terminal.wait_for_times("remembered-line", 2);
        terminal.keys(&["Up", "Enter"]);
        terminal.wait_for_times("remembered-line", 4);
        terminal.keys(&["C-d"]);
        let started = Instant::now();
        while terminal.alive() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let terminal = Terminal::start("history2", &dir);
    terminal.keys(&["Up"]);
    terminal.wait_for("% echo remembered-line");
    terminal.keys(&["Enter"]);
    terminal.wait_for_times("remembered-line", 2);
    terminal.keys(&["C-d"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interrupt_ends_the_command_not_ember() {
    let dir = scratch("interrupt");
    let terminal = Terminal::start("interrupt", &dir);
    terminal.keys(&["sleep 100", "Enter"]);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    terminal.keys(&["C-c"]);
    terminal.keys(&["echo back at the prompt", "Enter"]);
    terminal.wait_for_times("back at the prompt", 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the interrupt took too long"
    );
    assert!(terminal.alive(), "ember ended");
    // End of file at an empty prompt ends ember.
    terminal.keys(&["C-d"]);
    let started = Instant::now();
    while terminal.alive() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ember did not end at C-d"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12, finding 1: the interrupt key ends the whole command line, a loop or a `;`
/// sequence, not just the command it reached, and the prompt comes back.
#[test]
fn interrupt_ends_loops_and_sequences() {
    let dir = scratch("interrupt-loop");
    let terminal = Terminal::start("interrupt-loop", &dir);
    terminal.keys(&["while {} {sleep 1; echo tick}", "Enter"]);
    terminal.wait_for_line("tick");
    terminal.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(1500));
    let ticks = terminal.lines_equal("tick");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        terminal.lines_equal("tick"),
        ticks,
        "the loop goes on:\n{}",
        terminal.screen()
    );
    terminal.keys(&["sleep 3; echo after-the-sleep", "Enter"]);
    std::thread::sleep(Duration::from_millis(500));
    terminal.keys(&["C-c"]);
    terminal.keys(&["echo prompt-is-back", "Enter"]);
    terminal.wait_for_line("prompt-is-back");
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(
        terminal.lines_equal("after-the-sleep"),
        0,
        "the sequence went on:\n{}",
        terminal.screen()
    );
    assert!(terminal.alive());
    terminal.keys(&["C-d"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12, finding 2: ten lines typed while a command runs all run, in order; after the
/// interrupt ends a program reading the console, the next line typed is not swallowed.
#[test]
fn nothing_typed_is_lost() {
    let dir = scratch("typeahead");
    let terminal = Terminal::start("typeahead", &dir);
    terminal.keys(&["sleep 2", "Enter"]);
    for line in 1..=10 {
        terminal.keys(&[&format!("echo typed-{line}-done"), "Enter"]);
    }
    let screen = terminal.wait_for_line("typed-10-done");
    let outputs: Vec<usize> = screen
        .lines()
        .filter(|line| line.starts_with("typed-"))
        .map(|line| {
            line["typed-".len()..]
                .trim_end_matches("-done")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(outputs, (1..=10).collect::<Vec<_>>(), "{screen}");
    // A console reader interrupted: the next line goes to the shell.
    terminal.keys(&["read", "Enter"]);
    std::thread::sleep(Duration::from_millis(500));
    terminal.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    terminal.keys(&["echo not-swallowed", "Enter"]);
    terminal.wait_for_line("not-swallowed");
    terminal.keys(&["C-d"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12, findings 3 and 4: output without a final newline stays visible under the next
/// prompt; Tab on an empty word inserts nothing; commands in /dis subdirectories complete.
#[test]
fn the_prompt_keeps_output_and_tab_is_harmless() {
    let dir = scratch("prompt");
    let terminal = Terminal::start("prompt", &dir);
    terminal.keys(&["echo -n abc-no-newline", "Enter"]);
    terminal.keys(&["echo next", "Enter"]);
    let screen = terminal.wait_for_line("next");
    assert!(
        screen.lines().any(|line| line == "abc-no-newline"),
        "{screen}"
    );
    terminal.keys(&["Tab", "Tab", "echo tabbed", "Enter"]);
    terminal.wait_for_line("tabbed");
    assert_eq!(
        terminal.lines_equal("% echo tabbed"),
        1,
        "{}",
        terminal.screen()
    );
    terminal.keys(&["auth/k", "Tab"]);
    terminal.wait_for("% auth/keygen");
    terminal.keys(&["C-u", "C-d"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12, finding 7: end of file with a background job still running says what ember
/// waits for, and the interrupt key then ends ember.
#[test]
fn end_of_file_says_what_it_waits_for() {
    let dir = scratch("eof-wait");
    let terminal = Terminal::start("eof-wait", &dir);
    terminal.keys(&["sleep 100 &", "Enter"]);
    terminal.keys(&["C-d"]);
    terminal.wait_for("sleep to end (the interrupt key ends ember now)");
    assert!(terminal.alive());
    terminal.keys(&["C-c"]);
    let started = Instant::now();
    while terminal.alive() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ember did not end at the interrupt"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
