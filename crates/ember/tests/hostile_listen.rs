//! Listeners under hostile and heavy load (issue 11, findings 5 to 7), on loopback only: good
//! authenticated callers arriving at once, a listener run out of descriptors by idle calls,
//! and hundreds of callers that start a handshake and stall. After each, the listener must
//! still be running, still announced, and serving a good caller.
//!
//! `cargo test -p ember --test hostile_listen -- --ignored --nocapture` (what
//! `scripts/hostile-listen` runs) measures how long a good caller takes behind stalled ones,
//! against a good caller alone, over several runs.

mod common;

use common::{Ember, Killed, free_port, run};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "only for certified callers";

/// Keyrings from one signer: (gateway's, glenda's).
fn make_keys() -> (String, String) {
    let ca = Ember::new("hl-ca", "ca");
    let script = "auth/createsignerkey ca
        auth/keygen -o /tmp/gateway gateway
        auth/keygen -o /tmp/glenda glenda";
    let (_, stderr, ok) = run(&mut ca.command(script));
    assert!(ok, "{stderr}");
    let read = |name: &str| std::fs::read_to_string(ca.root().join("tmp").join(name)).unwrap();
    (read("gateway"), read("glenda"))
}

fn install(ember: &Ember, user: &str, keyring: &str) {
    let dir = ember.root().join("usr").join(user).join("keyring");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("default"), keyring).unwrap();
    // Private, as a keyring must be (others' read access gets it refused).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("default"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Whether a socket is in the LISTEN state on `port`, from the host's socket tables (calling
/// it would be a call).
fn announced(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let local_port = words
                    .get(1)
                    .and_then(|local| local.rsplit_once(':'))
                    .and_then(|(_, port)| u16::from_str_radix(port, 16).ok());
                local_port == Some(port) && words.get(3) == Some(&"0A")
            })
        })
    })
}

fn wait_until(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < limit, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A listening ember serving `/tmp/share` (which holds `secret`), its standard error kept.
struct Listener {
    ember: Ember,
    port: u16,
    log: Arc<Mutex<String>>,
    child: Killed,
}

impl Listener {
    /// `listen -s flags 'tcp!127.0.0.1!port' block`, under `ulimit -n nofile` if given.
    fn start(
        name: &str,
        keyring: Option<&str>,
        flags: &str,
        block: &str,
        nofile: Option<u32>,
    ) -> Listener {
        let ember = Ember::new(name, "gateway");
        if let Some(keyring) = keyring {
            install(&ember, "gateway", keyring);
        }
        let share = ember.root().join("tmp/share");
        std::fs::create_dir_all(&share).unwrap();
        std::fs::write(share.join("secret"), format!("{SECRET}\n")).unwrap();
        let port = free_port();
        let script = format!("listen -s {flags} 'tcp!127.0.0.1!{port}' {block}");
        let mut command = ember.command(&script);
        if let Some(nofile) = nofile {
            command = under_ulimit(&command, nofile);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(count) = stderr.read(&mut buf) {
                if count == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..count]));
            }
        });
        wait_until(
            &format!("a listener on {port}"),
            Duration::from_secs(10),
            || announced(port),
        );
        Listener {
            ember,
            port,
            log,
            child: Killed(child),
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The listener is still running and still announced.
    fn assert_alive(&mut self) {
        let exited = self.child.0.try_wait().unwrap();
        assert!(
            exited.is_none(),
            "the listener exited ({exited:?}): {}",
            self.log()
        );
        assert!(announced(self.port), "the port is closed: {}", self.log());
    }

    /// Who each block ran for: `$user` and `/dev/user`, one line per call.
    fn ran(&self) -> String {
        std::fs::read_to_string(self.ember.root().join("tmp/ran")).unwrap_or_default()
    }
}

/// `command` run by `sh` after `ulimit -n nofile`.
fn under_ulimit(command: &Command, nofile: u32) -> Command {
    let mut wrapped = Command::new("sh");
    wrapped
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    wrapped
}

/// Waits for `child`, killing it after `limit`: (stdout, stderr, success).
fn finish(mut child: Child, limit: Duration) -> (String, String, bool) {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

/// A good caller: mounts the listener and reads the secret, started now.
fn mount_and_read(client: &Ember, port: u16, flags: &str) -> Child {
    client
        .command(&format!(
            "mount {flags} 'tcp!127.0.0.1!{port}' /n && cat /n/secret"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn assert_served(client: &Ember, port: u16, flags: &str) {
    let (stdout, stderr, ok) = finish(mount_and_read(client, port, flags), Duration::from_secs(20));
    assert!(ok, "not served: {stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
}

/// Finding 5: ten certified callers mounting at once (within half a second) are all served, each block runs as its
/// caller while the listener keeps its own identity (it went on accepting as `gateway`), and
/// an eleventh is served afterwards.
#[test]
fn finding5_ten_good_callers_at_once_and_an_eleventh() {
    let (gateway_keys, glenda_keys) = make_keys();
    // A block that takes a moment, as one that builds a namespace for its caller would: other
    // calls arrive and are accepted while it runs.
    let block = "{echo $user `{cat /dev/user} >> /tmp/ran; sleep 0.2; export /tmp/share &}";
    let mut listener = Listener::start("hl-five", Some(&gateway_keys), "", block, None);
    let client = Ember::new("hl-five-client", "glenda");
    install(&client, "glenda", &glenda_keys);
    // Within half a second, so that calls arrive while earlier callers' blocks run.
    let callers: Vec<Child> = (0..10)
        .map(|_| {
            let caller = mount_and_read(&client, listener.port, "");
            std::thread::sleep(Duration::from_millis(50));
            caller
        })
        .collect();
    for (index, caller) in callers.into_iter().enumerate() {
        let (stdout, stderr, ok) = finish(caller, Duration::from_secs(30));
        assert!(
            ok,
            "caller {index} not served: {stderr}\nlistener: {}",
            listener.log()
        );
        assert_eq!(stdout, format!("{SECRET}\n"));
    }
    listener.assert_alive();
    assert_served(&client, listener.port, "");
    listener.assert_alive();
    assert_eq!(listener.ran(), "glenda glenda\n".repeat(11));
    assert!(
        !listener.log().contains("permission denied"),
        "{}",
        listener.log()
    );
}

/// Finding 7's last part (and 5's): the caller's name is set only in the environment of the
/// block's process; the listener's, which the shell that started it shares, keeps its own
/// `$user`, and the listener's own user is unchanged.
#[test]
fn finding7_the_callers_name_stays_in_the_blocks_environment() {
    let (gateway_keys, glenda_keys) = make_keys();
    let server = Ember::new("hl-env", "gateway");
    install(&server, "gateway", &gateway_keys);
    let port = free_port();
    // The listener serves in the background, sharing this shell's environment group; once
    // told, the shell prints what that group and /dev/user hold.
    let script = format!(
        "user=gateway
         listen 'tcp!127.0.0.1!{port}' {{echo $user `{{cat /dev/user}} > /tmp/ran}}
         read > /dev/null
         echo env `{{cat /env/user}} user `{{cat /dev/user}}
         kill listen > /dev/null"
    );
    let mut shell = server
        .command(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(
        &format!("a listener on {port}"),
        Duration::from_secs(10),
        || announced(port),
    );
    let client = Ember::new("hl-env-client", "glenda");
    install(&client, "glenda", &glenda_keys);
    let (_, stderr, ok) =
        run(&mut client.command(&format!("dial 'tcp!127.0.0.1!{port}' {{cat > /dev/null}}")));
    assert!(ok, "{stderr}");
    let ran = server.root().join("tmp/ran");
    wait_until("the block to run", Duration::from_secs(10), || {
        std::fs::read_to_string(&ran).is_ok_and(|text| text.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "glenda glenda\n");
    shell.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let (stdout, stderr, _) = finish(shell, Duration::from_secs(10));
    assert_eq!(stdout, "env gateway user gateway\n", "{stderr}");
}

/// Finding 6: idle calls take every descriptor the listener's host process may have (it runs
/// under `ulimit -n 256`); the listener keeps its port, says it is waiting, and serves again
/// once they hang up.
#[test]
fn finding6_running_out_of_descriptors_is_survived() {
    const IDLE: usize = 300;
    let mut listener = Listener::start("hl-six", None, "-A", "{export /tmp/share &}", Some(256));
    // Callers beyond the host's backlog wait unanswered (the host refusing them) until the
    // listener takes some: keep calling until the listener runs out, or IDLE are connected.
    let mut idle = Vec::new();
    let started = Instant::now();
    while idle.len() < IDLE
        && !listener.log().contains("no free sockets")
        && started.elapsed() < Duration::from_secs(20)
    {
        let address = ([127, 0, 0, 1], listener.port).into();
        if let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
            idle.push(stream);
        }
    }
    wait_until(
        "the listener to run out of descriptors",
        Duration::from_secs(20),
        || listener.log().contains("no free sockets"),
    );
    std::thread::sleep(Duration::from_millis(500));
    listener.assert_alive();
    assert!(
        listener.log().contains("cannot accept calls"),
        "{}",
        listener.log()
    );
    drop(idle);
    let client = Ember::new("hl-six-client", "glenda");
    assert_served(&client, listener.port, "-A");
    listener.assert_alive();
    assert!(listener.log().contains("again"), "{}", listener.log());
}

/// Opens `count` calls that each send the start of a handshake (the preamble and part of the
/// first message) and then wait.
fn stall(port: u16, count: usize) -> Vec<TcpStream> {
    let mut partial = b"ember-auth 1\n".to_vec();
    partial.extend_from_slice(&[0, 32, 1, 2, 3, 4]);
    let mut stalled = Vec::new();
    for _ in 0..count {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        if stream.write_all(&partial).is_ok() {
            stalled.push(stream);
        }
    }
    stalled
}

/// How long a good caller (a whole `ember` mounting and reading) takes.
fn time_good_caller(client: &Ember, port: u16) -> Duration {
    let started = Instant::now();
    let (stdout, stderr, ok) = finish(mount_and_read(client, port, ""), Duration::from_secs(30));
    let took = started.elapsed();
    assert!(ok, "not served: {stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
    took
}

/// Finding 7: three hundred callers stall part way into their handshakes; a good caller is
/// served at once all the same (the bound is generous, for a loaded machine: the figure is
/// measured by the ignored test below), and the stalled ones are dropped.
#[test]
fn finding7_stalled_handshakes_do_not_delay_a_good_caller() {
    let (gateway_keys, glenda_keys) = make_keys();
    let mut listener = Listener::start(
        "hl-seven",
        Some(&gateway_keys),
        "",
        "{export /tmp/share &}",
        None,
    );
    let client = Ember::new("hl-seven-client", "glenda");
    install(&client, "glenda", &glenda_keys);
    let stalled = stall(listener.port, 300);
    assert!(stalled.len() >= 250, "only {} stalled calls", stalled.len());
    let took = time_good_caller(&client, listener.port);
    assert!(
        took < Duration::from_secs(3),
        "a good caller behind {} stalled ones took {took:?}",
        stalled.len()
    );
    listener.assert_alive();
    assert!(
        listener.log().contains("dropped for a newer caller"),
        "{}",
        listener.log()
    );
    drop(stalled);
    assert_served(&client, listener.port, "");
    listener.assert_alive();
}

/// The figures for `docs/perf.md`: a good caller's time alone and behind 300 stalled callers,
/// over several runs (median, and the worst).
#[test]
#[ignore]
fn measure_a_good_caller_behind_stalled_handshakes() {
    const RUNS: usize = 7;
    let (gateway_keys, glenda_keys) = make_keys();
    let listener = Listener::start(
        "hl-measure",
        Some(&gateway_keys),
        "",
        "{export /tmp/share &}",
        None,
    );
    let client = Ember::new("hl-measure-client", "glenda");
    install(&client, "glenda", &glenda_keys);
    let median = |mut times: Vec<Duration>| {
        times.sort();
        (times[times.len() / 2], times[times.len() - 1])
    };
    let alone: Vec<Duration> = (0..RUNS)
        .map(|_| time_good_caller(&client, listener.port))
        .collect();
    let mut behind = Vec::new();
    for _ in 0..RUNS {
        let stalled = stall(listener.port, 300);
        behind.push(time_good_caller(&client, listener.port));
        drop(stalled);
        std::thread::sleep(Duration::from_millis(300));
    }
    let (alone, alone_worst) = median(alone);
    let (behind, behind_worst) = median(behind);
    println!(
        "good caller alone: median {alone:?} (worst {alone_worst:?}); behind 300 stalled \
         handshakes: median {behind:?} (worst {behind_worst:?}); {RUNS} runs each"
    );
}

/// A call from `source` (a loopback address: all of 127/8 is this machine) that sends the
/// start of a handshake and waits.
fn stalled_from(source: [u8; 4], port: u16) -> Option<TcpStream> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    use std::os::fd::AsRawFd;
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .ok()?;
    let [a, b, c, d] = source;
    bind(fd.as_raw_fd(), &SockaddrIn::new(a, b, c, d, 0)).ok()?;
    connect(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port)).ok()?;
    let mut stream = TcpStream::from(fd);
    let mut partial = b"ember-auth 1\n".to_vec();
    partial.extend_from_slice(&[0, 32, 1, 2, 3, 4]);
    stream.write_all(&partial).ok()?;
    Some(stream)
}

/// What a flood does: one thread opening stalled calls from `source` as fast as it can
/// (keeping the newest 500 open) while good callers from 127.0.0.1 come one after another.
/// Prints the flood's rate, and the good callers' times and failures.
fn measure_during_flood(source: [u8; 4], label: &str) {
    const RUNS: usize = 7;
    let (gateway_keys, glenda_keys) = make_keys();
    let listener = Listener::start(
        "hl-flood",
        Some(&gateway_keys),
        "",
        "{export /tmp/share &}",
        None,
    );
    let client = Ember::new("hl-flood-client", "glenda");
    install(&client, "glenda", &glenda_keys);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (port, stopped) = (listener.port, stop.clone());
    let flood = std::thread::spawn(move || {
        let mut open = std::collections::VecDeque::new();
        let mut opened = 0usize;
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
            if let Some(stream) = stalled_from(source, port) {
                opened += 1;
                open.push_back(stream);
                if open.len() > 500 {
                    open.pop_front();
                }
            }
        }
        opened
    });
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for _ in 0..RUNS {
        let begun = Instant::now();
        let (stdout, stderr, ok) =
            finish(mount_and_read(&client, port, ""), Duration::from_secs(30));
        if ok && stdout == format!("{SECRET}\n") {
            times.push(begun.elapsed());
        } else {
            failures.push(stderr.trim().to_string());
        }
    }
    let elapsed = started.elapsed() + Duration::from_secs(1);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let opened = flood.join().unwrap();
    times.sort();
    println!(
        "flood from {label}: {:.0} stalled calls/s; good callers served {} of {RUNS}, median {:?} \
         (worst {:?}); failures: {failures:?}",
        opened as f64 / elapsed.as_secs_f64(),
        times.len(),
        times.get(times.len() / 2),
        times.last()
    );
}

/// A flood of stalled callers from another address than the good caller's: they only ever
/// take each other's places.
#[test]
#[ignore]
fn measure_a_good_caller_during_a_flood_from_another_address() {
    measure_during_flood([127, 0, 0, 2], "another address");
}

/// A flood from the good caller's own address: a good caller is dropped if 64 stalled calls
/// come in while its handshake runs.
#[test]
#[ignore]
fn measure_a_good_caller_during_a_flood_from_its_own_address() {
    measure_during_flood([127, 0, 0, 1], "the good caller's own address");
}
