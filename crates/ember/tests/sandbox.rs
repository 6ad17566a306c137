//! The sandbox recipe of docs/sandbox.md, attacked from inside: after building a jail with
//! binds, making it the root and `pctl nodevs`, a process can use what the jail holds and
//! nothing else: not the network, not the host's files, not other processes, not a new
//! server. Each attempt runs in a subshell that prints ESCAPED if it succeeds; the test also
//! checks from outside that nothing happened (no connection reached the host's listener, the
//! victim process lives, the private file is unchanged).

mod common;

use common::{Ember, run};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A host listener that counts the connections it gets.
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            if connection.is_ok() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (port, count)
}

/// The jail: the commands, one working directory and the console, made the root.
const RECIPE: &str = "
    bind /dis /tmp/jail/dis
    bind -c /tmp/work /tmp/jail/work
    bind /dev/cons /tmp/jail/dev/cons
    bind /tmp/jail /
    pctl nodevs
";

#[test]
fn nothing_outside_the_jail_is_reachable() {
    let ember = Ember::new("sandbox", "glenda");
    let root = ember.root();
    std::fs::write(root.join("tmp/private"), "host secret\n").unwrap();
    let (port, connections) = counting_listener();
    let attempts = [
        // The network.
        ("net-cs", "cat /net/cs".to_string()),
        ("dial", format!("dial -A tcp!127.0.0.1!{port} {{echo hi}}")),
        ("mount-net", format!("mount -A tcp!127.0.0.1!{port} /work")),
        ("ip-device", "ls '#I'".to_string()),
        ("bind-ip", "bind '#I' /work".to_string()),
        // The host's files.
        ("host-file", "cat /tmp/private".to_string()),
        ("host-device", "cat '#U/tmp/private'".to_string()),
        ("bind-host", "bind '#U' /work".to_string()),
        ("climb", "cat ../../../../tmp/private".to_string()),
        ("climb-cd", "cd ../../..; cat tmp/private".to_string()),
        ("climb-work", "cat /work/../../tmp/private".to_string()),
        ("root-device", "ls '#/'".to_string()),
        // Other processes.
        ("prog", "ls /prog".to_string()),
        ("prog-kill", "echo kill > '#p/'^$victim^'/ctl'".to_string()),
        ("prog-ns", "cat '#p/'^$victim^'/ns'".to_string()),
        // Servers and devices not in the jail.
        ("srv", "mount /srv/registry /work".to_string()),
        ("srv-named", "bind '#sregistry' /work".to_string()),
        ("console", "cat '#c/user'".to_string()),
        ("programs", "ls '#x'".to_string()),
        ("gpio", "ls '#Gsim'".to_string()),
        ("serial", "ls '#t'".to_string()),
        ("file2chan", "ls '#f'".to_string()),
        ("ssl", "ls '#D'".to_string()),
        ("mount-driver", "ls '#M'".to_string()),
    ];
    let mut tries = String::new();
    for (name, attempt) in &attempts {
        tries.push_str(&format!("    @{{{attempt}}} && echo ESCAPED {name}\n"));
    }
    let script = format!(
        "mkdir -p /tmp/jail/dis /tmp/jail/work /tmp/jail/dev /tmp/work
        echo work file > /tmp/work/file
        touch /tmp/jail/dev/cons
        sleep 1000 & victim=$apid
        echo 2 > /srv/registry
        sh -c {{
            {RECIPE}
            echo inside `{{cat /work/file}}
            ls /
            echo scratch > /work/made
            {tries}
            echo done
        }}
        cat /prog/$victim/status > /dev/null && echo victim lives
        kill $victim
        dial -A tcp!127.0.0.1!{port} {{echo hi}} && echo outside dials"
    );
    let (stdout, stderr, ok) = run(&mut ember.command(&script));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains("ESCAPED"), "{stdout}\n{stderr}");
    assert_eq!(
        stdout, "inside work file\n/dev\n/dis\n/work\ndone\nvictim lives\noutside dials\n",
        "{stderr}"
    );
    // Each attempt failed for the reason it should.
    for expected in [
        "cat: cannot open /net/cs: '/net' file does not exist",
        "dial: cannot dial tcp!127.0.0.1!",
        "ls: #I: '#I' mount/attach disallowed",
        "cat: cannot open /tmp/private: '/tmp' file does not exist",
        "'#U/tmp/private' mount/attach disallowed",
        "ls: /prog: '/prog' file does not exist",
        "'#p/",
        "mount: cannot open /srv/registry: '/srv' file does not exist",
        "'#sregistry' mount/attach disallowed",
        "'#c/user' mount/attach disallowed",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    // Only the one connection made from outside reached the host.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::fs::read_to_string(root.join("tmp/private")).unwrap(),
        "host secret\n"
    );
    // The work directory was usable.
    assert_eq!(
        std::fs::read_to_string(root.join("tmp/work/made")).unwrap(),
        "scratch\n"
    );
}
