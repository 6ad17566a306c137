//! Authenticated connections between real embers on loopback: peers certified by the same
//! signer get in and learn each other's names; every other caller is refused with a clear
//! error on both sides, the listener's block never runs for it (a marker file records each
//! run), and the listener goes on serving good callers. The bytes on the wire, recorded by a
//! relay, carry none of the plaintext.

mod common;

use common::{Ember, Killed, eventually, free_port, run, wait_for_port, write_private};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// The text of the shared file, which must never cross the wire in the clear.
const SECRET: &str = "the fridge door code is 4711";

/// Keyrings made by one signer (and one from another signer), as text.
struct Keys {
    glenda: String,
    gateway: String,
    bootes: String,
    foreign: String,
    short_lived: String,
}

fn make_keys() -> Keys {
    let ca = Ember::new("ca", "ca");
    let script = "auth/createsignerkey ca
        auth/keygen -o /tmp/glenda glenda
        auth/keygen -o /tmp/gateway gateway
        auth/keygen -o /tmp/bootes -e 30d bootes
        auth/keygen -e 1s -o /tmp/short glenda
        auth/createsignerkey -f /tmp/elsewhere elsewhere
        auth/keygen -s /tmp/elsewhere -o /tmp/foreign glenda";
    let (_, stderr, ok) = run(&mut ca.command(script));
    assert!(ok, "{stderr}");
    let read = |name: &str| std::fs::read_to_string(ca.root().join("tmp").join(name)).unwrap();
    Keys {
        glenda: read("glenda"),
        gateway: read("gateway"),
        bootes: read("bootes"),
        foreign: read("foreign"),
        short_lived: read("short"),
    }
}

/// Puts `keyring` where `user`'s commands look for it in `ember`.
fn install(ember: &Ember, user: &str, keyring: &str) {
    let dir = ember.root().join("usr").join(user).join("keyring");
    std::fs::create_dir_all(&dir).unwrap();
    write_private(&dir.join("default"), keyring);
}

/// A listening ember, user gateway, exporting /tmp/share; each run of its block appends the
/// caller's `$user` and `/dev/user` to /tmp/ran.
struct Gateway {
    ember: Ember,
    port: u16,
    log: Arc<Mutex<String>>,
    _child: Killed,
}

impl Gateway {
    fn start(keys: &Keys, name: &str) -> Gateway {
        let ember = Ember::new(name, "gateway");
        install(&ember, "gateway", &keys.gateway);
        let share = ember.root().join("tmp/share");
        std::fs::create_dir_all(&share).unwrap();
        std::fs::write(share.join("secret"), format!("{SECRET}\n")).unwrap();
        let port = free_port();
        let script = format!(
            "listen -s 'tcp!127.0.0.1!{port}' {{echo $user `{{cat /dev/user}} >> /tmp/ran; export /tmp/share &}}"
        );
        let mut child = ember
            .command(&script)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(count) = stderr.read(&mut buf) {
                if count == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..count]));
            }
        });
        wait_for_port(port);
        Gateway {
            ember,
            port,
            log,
            _child: Killed(child),
        }
    }

    /// Who the block ran for, one line per run.
    fn ran(&self) -> String {
        std::fs::read_to_string(self.ember.root().join("tmp/ran")).unwrap_or_default()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_log(&self, text: &str) {
        eventually(&format!("the listener to log {text:?}"), || {
            self.log().contains(text)
        });
    }
}

/// A client ember for `user` with `keyring`, mounting the gateway at `port` and reading the
/// secret: (stdout, stderr, success).
fn mount_and_read(
    name: &str,
    user: &str,
    keyring: Option<&str>,
    port: u16,
    flags: &str,
) -> (String, String, bool) {
    let client = Ember::new(name, user);
    if let Some(keyring) = keyring {
        install(&client, user, keyring);
    }
    run(&mut client.command(&format!(
        "mount {flags} 'tcp!127.0.0.1!{port}' /n && cat /n/secret"
    )))
}

#[test]
fn peers_of_one_signer_mount_each_other_and_learn_names() {
    let keys = make_keys();
    let gateway = Gateway::start(&keys, "gw-good");
    let (stdout, stderr, ok) =
        mount_and_read("glenda", "glenda", Some(&keys.glenda), gateway.port, "");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
    // The block ran as the caller's certified name: $user and /dev/user.
    assert_eq!(gateway.ran(), "glenda glenda\n");
    // A second certified user, through -k with a keyring by name.
    let client = Ember::new("bootes", "bootes");
    let dir = client.root().join("usr/bootes/keyring");
    std::fs::create_dir_all(&dir).unwrap();
    write_private(&dir.join("gateway"), &keys.bootes);
    let script = format!(
        "mount -c -k gateway 'tcp!127.0.0.1!{}' /n && echo from bootes > /n/note && cat /n/note",
        gateway.port
    );
    let (stdout, stderr, ok) = run(&mut client.command(&script));
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "from bootes\n");
    assert_eq!(gateway.ran(), "glenda glenda\nbootes bootes\n");
    // And dial, the other way of calling, authenticates too.
    let client = Ember::new("dialer", "glenda");
    install(&client, "glenda", &keys.glenda);
    let talker = Gateway::start_with(&keys, "gw-talk", "", "{echo hello $user}");
    let script = format!(
        "dial 'tcp!127.0.0.1!{}' {{cat > /tmp/heard}}; cat /tmp/heard",
        talker.port
    );
    let (stdout, stderr, ok) = run(&mut client.command(&script));
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "hello glenda\n");
}

impl Gateway {
    /// A gateway whose block is `block` instead of the export.
    fn start_with(keys: &Keys, name: &str, prelude: &str, block: &str) -> Gateway {
        let ember = Ember::new(name, "gateway");
        install(&ember, "gateway", &keys.gateway);
        let port = free_port();
        let script = format!("{prelude}\nlisten -s 'tcp!127.0.0.1!{port}' {block}");
        let child = ember
            .command(&script)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port);
        Gateway {
            ember,
            port,
            log: Arc::new(Mutex::new(String::new())),
            _child: Killed(child),
        }
    }
}

/// Each bad caller is refused on both sides, its block never runs, and a good caller still
/// gets in afterwards.
#[test]
fn bad_callers_are_refused_and_the_listener_keeps_serving() {
    let keys = make_keys();
    let gateway = Gateway::start(&keys, "gw-bad");
    let tampered = keys.glenda.replace("user glenda", "user eve");
    let glenda_secret = keys
        .glenda
        .lines()
        .find(|l| l.starts_with("secret "))
        .unwrap();
    let bootes_secret = keys
        .bootes
        .lines()
        .find(|l| l.starts_with("secret "))
        .unwrap();
    let wrong_key = keys.glenda.replace(glenda_secret, bootes_secret);
    // Let the short-lived certificate expire.
    std::thread::sleep(Duration::from_millis(1100));
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "foreign",
            &keys.foreign,
            "certificate of gateway is from signer ca, not elsewhere",
            "the caller refused us",
        ),
        (
            "expired",
            &keys.short_lived,
            "the listener refused us: certificate of glenda expired",
            "certificate of glenda expired",
        ),
        (
            "tampered",
            &tampered,
            "the listener refused us: certificate of eve has a bad signature",
            "certificate of eve has a bad signature",
        ),
        (
            "wrongkey",
            &wrong_key,
            "the listener refused us: certificate of glenda is for another key",
            "certificate of glenda is for another key than the one presented",
        ),
    ];
    for (name, keyring, client_says, listener_says) in cases {
        let (stdout, stderr, ok) = mount_and_read(name, "glenda", Some(keyring), gateway.port, "");
        assert!(!ok, "{name}: let in: {stdout}");
        assert!(
            stderr.contains("authentication failed: ") && stderr.contains(client_says),
            "{name}: {stderr}"
        );
        gateway.wait_for_log(listener_says);
        assert_eq!(gateway.ran(), "", "{name}: the block ran");
    }
    // A plaintext 9P client.
    let (_, stderr, ok) = mount_and_read("plain", "glenda", None, gateway.port, "-A");
    assert!(!ok);
    assert!(stderr.contains("authentication required"), "{stderr}");
    gateway.wait_for_log("speaks 9P without authentication");
    // No keyring at all: the client says which file and how to make one.
    let (_, stderr, ok) = mount_and_read("nokeys", "glenda", None, gateway.port, "");
    assert!(!ok);
    assert!(
        stderr.contains("no keyring /usr/glenda/keyring/default: make one with auth/keygen"),
        "{stderr}"
    );
    assert_eq!(gateway.ran(), "");
    // The listener still serves a good caller.
    let (stdout, stderr, ok) =
        mount_and_read("good", "glenda", Some(&keys.glenda), gateway.port, "");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
    assert_eq!(gateway.ran(), "glenda glenda\n");
}

/// Copies bytes both ways between each caller and `target`, keeping what went each way.
struct Relay {
    port: u16,
    to_server: Arc<Mutex<Vec<u8>>>,
    to_client: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let to_server = Arc::new(Mutex::new(Vec::new()));
        let to_client = Arc::new(Mutex::new(Vec::new()));
        let (up, down) = (to_server.clone(), to_client.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    up.clone(),
                );
                pump(server, client, down.clone());
            }
        });
        Relay {
            port,
            to_server,
            to_client,
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, record: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(count) = from.read(&mut buf) {
            if count == 0 {
                break;
            }
            record.lock().unwrap().extend_from_slice(&buf[..count]);
            if to.write_all(&buf[..count]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn the_wire_carries_no_plaintext_and_replays_are_refused() {
    let keys = make_keys();
    let gateway = Gateway::start(&keys, "gw-wire");
    let relay = Relay::start(gateway.port);
    let (stdout, stderr, ok) = mount_and_read("wire", "glenda", Some(&keys.glenda), relay.port, "");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
    let (up, down) = (
        relay.to_server.lock().unwrap().clone(),
        relay.to_client.lock().unwrap().clone(),
    );
    assert!(down.len() > SECRET.len(), "nothing recorded");
    for (direction, bytes) in [("to the server", &up), ("to the client", &down)] {
        assert!(!contains(bytes, SECRET.as_bytes()), "plaintext {direction}");
        assert!(!contains(bytes, b"secret"), "a file name {direction}");
        assert!(!contains(bytes, b"9P2000"), "a 9P version {direction}");
    }
    // Control: the same read without authentication does show the secret on the wire, so
    // the recording works.
    let open = Ember::new("gw-open", "gateway");
    let share = open.root().join("tmp/share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("secret"), format!("{SECRET}\n")).unwrap();
    let port = free_port();
    let _open = Killed(
        open.command(&format!(
            "listen -A -s 'tcp!127.0.0.1!{port}' {{export /tmp/share &}}"
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    wait_for_port(port);
    let plain = Relay::start(port);
    let (stdout, stderr, ok) = mount_and_read("wire-open", "glenda", None, plain.port, "-A");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
    assert!(contains(
        &plain.to_client.lock().unwrap(),
        SECRET.as_bytes()
    ));

    // Replaying the good caller's bytes, without its key, gets nowhere.
    let mut replay = TcpStream::connect(("127.0.0.1", gateway.port)).unwrap();
    replay.write_all(&up).unwrap();
    replay
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = replay.read_to_end(&mut answer);
    gateway.wait_for_log("the caller's handshake does not verify (replayed or altered)");
    assert!(!contains(&answer, SECRET.as_bytes()));
    // Cut short: the preamble and part of a message, then a hang-up.
    let mut short = TcpStream::connect(("127.0.0.1", gateway.port)).unwrap();
    short.write_all(&up[..20]).unwrap();
    drop(short);
    gateway.wait_for_log("the caller hung up during the handshake");
    assert_eq!(gateway.ran(), "glenda glenda\n");
}

/// A caller that says nothing does not hold up others, and is dropped after the handshake's
/// time limit.
#[test]
fn a_stalled_caller_blocks_nobody_and_is_dropped() {
    let keys = make_keys();
    let gateway = Gateway::start(&keys, "gw-stall");
    let mut stalled = TcpStream::connect(("127.0.0.1", gateway.port)).unwrap();
    let (stdout, stderr, ok) = mount_and_read(
        "after-stall",
        "glenda",
        Some(&keys.glenda),
        gateway.port,
        "",
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout, format!("{SECRET}\n"));
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(stalled.read(&mut buf).unwrap(), 0, "not hung up");
    gateway.wait_for_log("the handshake timed out");
}

/// The block runs with the caller's rights: ember's device files are checked against the
/// process's user, so a caller cannot kill the gateway's own processes or become someone else.
#[test]
fn a_callers_block_has_the_callers_rights() {
    let keys = make_keys();
    let block = "{
        @{echo kill > /prog/$victim/ctl} && echo ESCAPED kill >> /tmp/ran
        @{echo gateway > /dev/user} && echo ESCAPED user >> /tmp/ran
        cat /prog/$victim/status > /dev/null && echo victim lives >> /tmp/ran
        echo user `{cat /dev/user} >> /tmp/ran
        echo done
    }";
    let gateway = Gateway::start_with(&keys, "gw-rights", "sleep 1000 & victim=$apid", block);
    let client = Ember::new("rights", "glenda");
    install(&client, "glenda", &keys.glenda);
    let script = format!(
        "dial 'tcp!127.0.0.1!{}' {{cat > /tmp/heard}}; cat /tmp/heard",
        gateway.port
    );
    let (stdout, stderr, ok) = run(&mut client.command(&script));
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "done\n");
    assert_eq!(gateway.ran(), "victim lives\nuser glenda\n");
}

/// The server shapes what each user sees: `{bind /usr/$user/pub /pub; export /pub &}` gives
/// each caller their own directory, and a later caller does not change an earlier one's view.
#[test]
fn each_caller_sees_their_own_tree() {
    let keys = make_keys();
    let gateway = Ember::new("gw-views", "gateway");
    install(&gateway, "gateway", &keys.gateway);
    for user in ["glenda", "bootes"] {
        let dir = gateway.root().join("usr").join(user).join("pub");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{user}-file")), "mine\n").unwrap();
    }
    std::fs::create_dir_all(gateway.root().join("pub")).unwrap();
    let port = free_port();
    let _listener = Killed(
        gateway
            .command(&format!(
                "listen -s 'tcp!127.0.0.1!{port}' {{bind /usr/$user/pub /pub; export /pub &}}"
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let glenda = Ember::new("views-glenda", "glenda");
    install(&glenda, "glenda", &keys.glenda);
    let mut first = glenda
        .command(&format!(
            "mount 'tcp!127.0.0.1!{port}' /n; ls /n; read; ls /n"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = first.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"glenda-file\n") {
        assert_eq!(
            stdout.read(&mut byte).unwrap(),
            1,
            "glenda's client ended early"
        );
        seen.push(byte[0]);
    }
    let bootes = Ember::new("views-bootes", "bootes");
    install(&bootes, "bootes", &keys.bootes);
    let (listing, stderr, ok) =
        run(&mut bootes.command(&format!("mount 'tcp!127.0.0.1!{port}' /n; ls /n")));
    assert!(ok, "{stderr}");
    assert_eq!(listing, "/n/bootes-file\n");
    first.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(first.wait().unwrap().success());
    assert_eq!(rest, "go\n/n/glenda-file\n");
}
