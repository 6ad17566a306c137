//! What the tests that run several embers share: a private root for each, killing the
//! servers they start, and loopback ports.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One ember with its own scratch directory (and so its own unpacked root).
pub struct Ember {
    pub scratch: PathBuf,
    user: String,
}

impl Ember {
    pub fn new(name: &str, user: &str) -> Ember {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        let scratch =
            std::env::temp_dir().join(format!("ember-test-{name}-{}-{serial}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();
        let ember = Ember {
            scratch,
            user: user.to_string(),
        };
        // Unpack its root.
        let (_, stderr, ok) = run(&mut ember.command("echo -n"));
        assert!(ok, "{stderr}");
        ember
    }

    /// `ember -u user sh -c script`.
    pub fn command(&self, script: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ember"));
        command
            .env("XDG_DATA_HOME", &self.scratch)
            .env("HOME", &self.scratch)
            .env_remove("EMBER_DEBUG")
            .args(["-u", &self.user, "sh", "-c", script]);
        command
    }

    /// The host directory of its root.
    pub fn root(&self) -> PathBuf {
        self.scratch.join("ember/root")
    }
}

impl Drop for Ember {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command to its end: (stdout, stderr, success).
pub fn run(command: &mut Command) -> (String, String, bool) {
    let output = command.output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

/// Writes a secret file (a keyring) readable by its owner only, as ember requires.
pub fn write_private(path: &std::path::Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    // An existing file keeps its mode through open: make it private.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// Waits, up to a generous limit, until `condition` holds.
pub fn eventually(what: &str, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
