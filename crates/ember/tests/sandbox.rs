//! The sandbox recipe of docs/sandbox.md, attacked from inside: after `nsbuild /lib/ns/jail`
//! (cd to the jail, `new`, the commands and console bound in, `nodev`), a process can use what
//! the jail holds and nothing else, whatever directory it started in: not the network, not
//! the host's files, not other processes, not a new server. Each attempt runs in a subshell that prints ESCAPED if it succeeds; the test also
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

/// Where the contained process starts: every directory the old recipe leaked through, and
/// others. The recipe must hold from each.
const STARTS: [&str; 7] = ["/", "/tmp", "/net", "/prog", "/dev", "/lib/ndb", "/srv"];

#[test]
fn nothing_outside_the_jail_is_reachable_from_any_starting_directory() {
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
        ("sysname", "echo pwned > '#c/sysname'".to_string()),
        ("programs", "ls '#x'".to_string()),
        ("gpio", "ls '#Gsim'".to_string()),
        ("serial", "ls '#t'".to_string()),
        ("file2chan", "ls '#f'".to_string()),
        ("ssl", "ls '#D'".to_string()),
        ("mount-driver", "ls '#M'".to_string()),
        // Names relative to where the process started (issue 11, finding 1): from /tmp the
        // host's files, from /net the network, from /prog other processes.
        ("relative-file", "cat private".to_string()),
        ("relative-cs", "cat cs".to_string()),
        ("relative-clone", "cat tcp/clone".to_string()),
        ("relative-kill", "echo kill > $victim/ctl".to_string()),
        ("relative-ns", "cat $victim/ns".to_string()),
        ("relative-fd", "cat $victim/fd".to_string()),
        ("relative-ndb", "cat local".to_string()),
        ("relative-user", "cat user".to_string()),
        ("relative-srv", "cat registry".to_string()),
        ("relative-dot", "cat ./private ./cs ./local".to_string()),
    ];
    let mut tries = String::new();
    for (name, attempt) in &attempts {
        tries.push_str(&format!(
            "            @{{{attempt}}} && echo ESCAPED $start {name}\n"
        ));
    }
    let starts = STARTS.join(" ");
    // The recipe of docs/sandbox.md, word for word, from each starting directory.
    let script = format!(
        "mkdir -p /tmp/jail/dis /tmp/jail/dev /tmp/jail/work
        touch /tmp/jail/dev/cons /tmp/jail/dev/null
        jail = /tmp/jail
        sleep 1000 & victim=$apid
        echo 2 > /srv/registry
        for start in {starts} {{
            cd $start
            sh -c {{
                nsbuild /lib/ns/jail
                echo inside $start `{{pwd}}
                ls /
                echo scratch > /work/made
                {tries}
            }}
        }}
        cd /
        sysname=`{{cat /dev/sysname}}
        ~ $sysname pwned && echo sysname changed
        cat /prog/$victim/status > /dev/null && echo victim lives
        kill $victim
        dial -A tcp!127.0.0.1!{port} {{echo hi}} && echo outside dials"
    );
    let (stdout, stderr, ok) = run(&mut ember.command(&script));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains("ESCAPED"), "{stdout}\n{stderr}");
    let mut expected = String::new();
    for start in STARTS {
        expected.push_str(&format!("inside {start} /\n/dev\n/dis\n/work\n"));
    }
    expected.push_str("victim lives\noutside dials\n");
    assert_eq!(stdout, expected, "{stderr}");
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
        "cat: cannot open private: '/private' file does not exist",
        "cat: cannot open cs: '/cs' file does not exist",
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
    // The jail's own directory was usable.
    assert_eq!(
        std::fs::read_to_string(root.join("tmp/jail/work/made")).unwrap(),
        "scratch\n"
    );
}

/// A namespace file that fails part way stops there: nsbuild fails, and `sh -e` never runs
/// the command it was meant to contain in a half-built jail.
#[test]
fn a_failing_namespace_file_leaves_nothing_running() {
    let ember = Ember::new("sandbox-fail", "glenda");
    let script = "
        mkdir -p /tmp/nojail
        jail = /tmp/nojail
        sh -e -c {nsbuild /lib/ns/jail; echo RAN UNCONTAINED}
        echo status $status
        unset = ()
        echo 'cd $nowhere' > /tmp/ns.bad
        sh -e -c {nsbuild /tmp/ns.bad; echo RAN UNCONTAINED}
        echo '. /tmp/ns.loop' > /tmp/ns.loop
        sh -e -c {nsbuild /tmp/ns.loop; echo RAN UNCONTAINED}
        echo 'chroot /' > /tmp/ns.verb
        sh -e -c {nsbuild /tmp/ns.verb; echo RAN UNCONTAINED}
        echo done";
    let (stdout, stderr, ok) = run(&mut ember.command(script));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains("RAN UNCONTAINED"), "{stdout}\n{stderr}");
    for expected in [
        "nsbuild: /lib/ns/jail:6: bind failed",
        "nsbuild: /tmp/ns.bad:1: $nowhere is not set",
        "nsbuild: /tmp/ns.loop:1: includes nested more than 8 deep",
        "nsbuild: /tmp/ns.verb:1: invalid namespace command chroot",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
}
