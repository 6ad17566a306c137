//! Two embers on loopback: one listens and exports a directory, the other mounts it by
//! address, reads and writes through it, and sees the server going away as an error within
//! seconds, never a hang.

mod common;
use common::{Ember, Killed, free_port, run, wait_for_port};
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn start_server(server: &Ember, port: u16, share: &Path) -> Killed {
    // Its root is unpacked (Ember::new): make the shared directory in it.
    std::fs::create_dir_all(server.root().join(share)).unwrap();
    std::fs::write(
        server.root().join(share).join("hello"),
        "hello from the server\n",
    )
    .unwrap();
    let script = format!(
        "listen -A -s 'tcp!127.0.0.1!{port}' {{export /{} &}}",
        share.display()
    );
    let child = server
        .command(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(port);
    Killed(child)
}

#[test]
fn mount_another_ember_over_tcp() {
    let server = Ember::new("server", "glenda");
    let client = Ember::new("client", "glenda");
    let port = free_port();
    let _listener = start_server(&server, port, Path::new("tmp/share"));
    let script = format!(
        "mount -Ac 'tcp!127.0.0.1!{port}' /n
         cat /n/hello
         echo written by the client > /n/note
         ls /n
         ns | grep mount"
    );
    let (stdout, stderr, ok) = run(&mut client.command(&script));
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        format!("hello from the server\n/n/hello\n/n/note\nmount -c tcp!127.0.0.1!{port} /n\n"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(server.root().join("tmp/share/note")).unwrap(),
        "written by the client\n"
    );
}

#[test]
fn a_server_that_goes_away_is_an_error_within_seconds() {
    let server = Ember::new("gone", "glenda");
    let client = Ember::new("gone-client", "glenda");
    let port = free_port();
    let listener = start_server(&server, port, Path::new("tmp/share"));
    let script = format!(
        "mount -A 'tcp!127.0.0.1!{port}' /n
         cat /n/hello
         echo mounted >[1=2]
         read < /dev/cons
         cat /n/hello
         echo status $status"
    );
    let mut child = client
        .command(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the client has mounted, then take the server away.
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("mounted") {
        assert_eq!(stderr.read(&mut byte).unwrap(), 1, "client ended early");
        seen.push(byte[0]);
    }
    drop(listener);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "took too long");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(stdout.starts_with("hello from the server\n"), "{stdout}");
    assert!(stdout.contains("status errors"), "{stdout}");
    assert!(rest.contains("hungup"), "{rest}");
}

#[test]
fn without_a_keyring_the_error_says_how_to_make_one() {
    let client = Ember::new("nokeys", "glenda");
    for script in [
        "mount 'tcp!127.0.0.1!1' /n",
        "listen 'tcp!127.0.0.1!0' {echo}",
        "dial 'tcp!127.0.0.1!1' {echo}",
    ] {
        let (_, stderr, ok) = run(&mut client.command(script));
        assert!(!ok, "{script}");
        assert!(
            stderr.contains("no keyring /usr/glenda/keyring/default: make one with auth/keygen"),
            "{script}: {stderr}"
        );
    }
}
