//! Issue 11, through the real binary: host files (`#U`) against a hostile or unlucky caller.
//! A 9P fid renamed and then reused, a keyring others can read, a symbolic link leading out of
//! a jail, the host running out of descriptors, and host paths in the environment.

mod common;

use common::{Ember, free_port, run};
use ninep::{Dir, Fcall, Msg, NOFID};
use std::io::{Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

/// A 9P client speaking raw messages to `ember export` on its standard input and output.
struct Client {
    input: ChildStdin,
    output: ChildStdout,
    tag: u16,
}

impl Client {
    fn rpc(&mut self, msg: Msg) -> Msg {
        self.tag += 1;
        let request = Fcall::new(self.tag, msg);
        self.input.write_all(&request.to_bytes()).unwrap();
        self.input.flush().unwrap();
        let mut prefix = [0u8; 4];
        self.output.read_exact(&mut prefix).unwrap();
        let size = u32::from_le_bytes(prefix) as usize;
        let mut message = prefix.to_vec();
        message.resize(size, 0);
        self.output.read_exact(&mut message[4..]).unwrap();
        let reply = Fcall::decode(&message, 1 << 20).unwrap();
        assert_eq!(reply.tag, self.tag);
        reply.msg
    }

    fn ok(&mut self, msg: Msg) -> Msg {
        match self.rpc(msg) {
            Msg::Rerror { ename } => panic!("{ename}"),
            reply => reply,
        }
    }
}

/// `ember export /tmp/share` on a pipe, its `a` holding "the first a", attached as fid 0:
/// the share's host directory, the exporting ember, and a client of it.
fn export_share(ember: &Ember) -> (std::path::PathBuf, std::process::Child, Client) {
    let share = ember.root().join("tmp/share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("a"), "the first a\n").unwrap();
    let mut child = ember
        .command("export /tmp/share")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut client = Client {
        input: child.stdin.take().unwrap(),
        output: child.stdout.take().unwrap(),
        tag: 0,
    };
    client.ok(Msg::Tversion {
        msize: 8192,
        version: "9P2000".into(),
    });
    client.ok(Msg::Tattach {
        fid: 0,
        afid: NOFID,
        uname: "glenda".into(),
        aname: String::new(),
    });
    (share, child, client)
}

/// Issue 11, finding 8: after Twstat renamed `a` to `b` and a new `a` was made, a Twstat on
/// the same fid truncated and chmodded the new `a`, and Tstat described it.
#[test]
fn issue11_a_renamed_fid_stays_on_its_file() {
    let ember = Ember::new("rename-fid", "glenda");
    let (share, mut child, mut client) = export_share(&ember);
    client.ok(Msg::Twalk {
        fid: 0,
        newfid: 1,
        wnames: vec!["a".into()],
    });
    let rename = Dir {
        name: "b".into(),
        ..Dir::null()
    };
    client.ok(Msg::Twstat {
        fid: 1,
        stat: rename,
    });
    // Someone makes a new `a` meanwhile.
    std::fs::write(share.join("a"), "the second a\n").unwrap();
    let change = Dir {
        length: 3,
        mode: 0o600,
        ..Dir::null()
    };
    client.ok(Msg::Twstat {
        fid: 1,
        stat: change,
    });
    let Msg::Rstat { stat } = client.ok(Msg::Tstat { fid: 1 }) else {
        panic!("not an Rstat");
    };
    assert_eq!((stat.name.as_str(), stat.length), ("b", 3));
    client.ok(Msg::Topen { fid: 1, mode: 0 });
    let Msg::Rread { data } = client.ok(Msg::Tread {
        fid: 1,
        offset: 0,
        count: 100,
    }) else {
        panic!("not an Rread");
    };
    assert_eq!(data, b"the");
    drop(client);
    let _ = child.wait();
    assert_eq!(
        std::fs::read_to_string(share.join("a")).unwrap(),
        "the second a\n"
    );
    assert_eq!(std::fs::read_to_string(share.join("b")).unwrap(), "the");
    use std::os::unix::fs::PermissionsExt;
    let mode = |name: &str| {
        std::fs::metadata(share.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("b"), 0o600);
    assert_ne!(mode("a"), 0o600);
}

/// Issue 11, finding 8, through another fid: a fid walked to `a` before another renamed it
/// never opens or removes the new file named `a`.
#[test]
fn issue11_another_fid_of_a_renamed_file_stays_on_it() {
    let ember = Ember::new("rename-other-fid", "glenda");
    let (share, mut child, mut client) = export_share(&ember);
    for newfid in [1, 2, 3] {
        client.ok(Msg::Twalk {
            fid: 0,
            newfid,
            wnames: vec!["a".into()],
        });
    }
    client.ok(Msg::Twstat {
        fid: 1,
        stat: Dir {
            name: "b".into(),
            ..Dir::null()
        },
    });
    std::fs::write(share.join("a"), "the second a\n").unwrap();
    // Fid 2 still names `a`, which is another file now: it is not fid 2's to open.
    let reply = client.rpc(Msg::Topen { fid: 2, mode: 0 });
    assert!(matches!(reply, Msg::Rerror { .. }), "{reply:?}");
    // Nor to remove: the new `a` stays (#U finds the name holds another file; it cannot tell
    // where fid 3's own file went, so that one stays too).
    let reply = client.rpc(Msg::Tremove { fid: 3 });
    assert!(matches!(reply, Msg::Rerror { .. }), "{reply:?}");
    drop(client);
    let _ = child.wait();
    assert_eq!(
        std::fs::read_to_string(share.join("a")).unwrap(),
        "the second a\n"
    );
    assert_eq!(
        std::fs::read_to_string(share.join("b")).unwrap(),
        "the first a\n"
    );
}

/// Issue 11, finding 10 (contract section 7): a keyring others can read was used; now mount
/// and dial refuse it and say how to fix its mode, before calling anyone.
#[test]
fn issue11_a_keyring_open_to_others_is_refused() {
    let ember = Ember::new("keyring-mode", "glenda");
    let port = free_port();
    let script = format!(
        "auth/createsignerkey ca
        auth/keygen glenda
        chmod 644 /usr/glenda/keyring/default
        mount 'tcp!127.0.0.1!{port}' /n
        dial 'tcp!127.0.0.1!{port}' {{echo hi}}
        chmod 600 /usr/glenda/keyring/default
        dial 'tcp!127.0.0.1!{port}' {{echo hi}}"
    );
    let (_, stderr, _) = run(&mut ember.command(&script));
    let refusal = "keyring /usr/glenda/keyring/default is open to group or others (mode 0644): \
                   make it private with chmod 600 /usr/glenda/keyring/default";
    assert!(stderr.contains(&format!("mount: {refusal}")), "{stderr}");
    assert!(stderr.contains(&format!("dial: {refusal}")), "{stderr}");
    // Once private, the keyring is used: the call itself fails (nobody listens).
    assert_eq!(stderr.matches(refusal).count(), 2, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.last().unwrap().contains("dial"), "{stderr}");
    // What auth/keygen and auth/createsignerkey write is private, so never refused.
    use std::os::unix::fs::PermissionsExt;
    for file in ["keydb/signerkey", "usr/glenda/keyring/default"] {
        let mode = std::fs::metadata(ember.root().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

/// Issue 11, finding 10: a relative link already in a directory used as a jail led out of it
/// (`ROOT/tmp/jail/x` → `../../lib`), both with `bind /tmp/jail /` and after `pctl newns`
/// from `cd /tmp/jail`. A link that stays in its directory still works.
#[test]
fn issue11_a_link_cannot_lead_out_of_a_jail() {
    let ember = Ember::new("jail-link", "glenda");
    let jail = ember.root().join("tmp/jail");
    std::fs::create_dir_all(jail.join("sub")).unwrap();
    std::fs::create_dir_all(jail.join("dis")).unwrap();
    std::fs::write(jail.join("sub/file"), "inside\n").unwrap();
    std::os::unix::fs::symlink("../../lib", jail.join("x")).unwrap();
    std::os::unix::fs::symlink("sub/file", jail.join("near")).unwrap();
    let script = "
        sh -c {
            bind /dis /tmp/jail/dis
            bind /tmp/jail /
            pctl nodevs
            cat /x/ndb/local && echo ESCAPED bind
            cat /near
            ls /x && echo ESCAPED ls
        }
        cd /tmp/jail
        sh -c {
            pctl newns
            '#x/cat' /x/ndb/local && echo ESCAPED newns
            '#x/cat' x/ndb/local && echo ESCAPED newns-relative
            '#x/cat' near
        }
        echo done";
    let (stdout, stderr, _) = run(&mut ember.command(script));
    assert!(!stdout.contains("ESCAPED"), "{stdout}\n{stderr}");
    assert!(!stdout.contains("ip="), "{stdout}");
    assert_eq!(stdout, "inside\ninside\ndone\n", "{stderr}");
    assert_eq!(
        stderr.matches("'/x' permission denied").count(),
        4,
        "{stderr}"
    );
}

/// Issue 11, finding 10: with the host out of descriptors, opening a file said "file does not
/// exist". It says "too many open files", and ember goes on once descriptors are free again.
#[test]
fn issue11_running_out_of_descriptors_says_so() {
    let ember = Ember::new("emfile", "glenda");
    let script = "
        for i in `{seq 1 100} {sleep 2 < /lib/ndb/local &}
        cat /lib/ndb/common > /dev/null
        sleep 4
        cat /lib/ndb/local > /dev/null && echo alive";
    let mut command = Command::new("prlimit");
    let ember_command = ember.command(script);
    command
        .arg("--nofile=64")
        .arg(ember_command.get_program())
        .args(ember_command.get_args())
        .envs(ember_command.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let (stdout, stderr, _) = run(&mut command);
    assert_eq!(stdout, "alive\n", "{stderr}");
    assert!(
        stderr.contains("cat: cannot open /lib/ndb/common: '/lib' too many open files"),
        "{stderr}"
    );
    assert!(stderr.contains("too many open files"), "{stderr}");
    assert!(!stderr.contains("file does not exist"), "{stderr}");
}

/// Issue 11, finding 10: `$emuroot` (and `$emuwdir`) gave a contained process the host path
/// of the root. No variable holds a host path now.
#[test]
fn issue11_the_environment_holds_no_host_path() {
    let ember = Ember::new("emuroot", "glenda");
    let script = "
        sh -c {
            bind /dis /tmp/jail/dis
            bind /tmp/jail /
            pctl nodevs
            bind '#e' /env
            echo emuroot $emuroot
            for v in /env/* {echo $v; cat $v; echo}
        }";
    std::fs::create_dir_all(ember.root().join("tmp/jail/dis")).unwrap();
    std::fs::create_dir_all(ember.root().join("tmp/jail/env")).unwrap();
    let (stdout, stderr, _) = run(&mut ember.command(script));
    assert!(stdout.starts_with("emuroot /\n"), "{stdout}\n{stderr}");
    assert!(stdout.contains("/env/emuroot\n/\n"), "{stdout}");
    let host_root = ember.root().canonicalize().unwrap();
    let scratch = ember.scratch.canonicalize().unwrap();
    let host_dir = std::env::current_dir().unwrap();
    for secret in [&host_root, &scratch, &host_dir] {
        assert!(!stdout.contains(secret.to_str().unwrap()), "{stdout}");
    }
    // From outside the jail too: the whole environment.
    let (stdout, _, _) = run(&mut ember.command("for v in /env/* {echo $v; cat $v; echo}"));
    assert!(stdout.contains("/env/emuroot\n/\n"), "{stdout}");
    assert!(!stdout.contains("emuwdir"), "{stdout}");
    for secret in [&host_root, &scratch, &host_dir] {
        assert!(!stdout.contains(secret.to_str().unwrap()), "{stdout}");
    }
}
