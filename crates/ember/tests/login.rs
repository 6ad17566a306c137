//! A fresh user's first minutes (issue 12, findings 5 and 6): the home is made at login with
//! the right modes, a root missing its skeleton gets it back, and mounting under `/n` needs
//! no `mkdir`, for root and for an unprivileged user alike.

mod common;

use common::{Ember, Killed, free_port, run, wait_for_port};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn login_makes_the_home_and_the_skeleton() {
    let scratch = std::env::temp_dir().join(format!("ember-login-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let root = scratch.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let ember = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ember"));
        command.args(["-r", root.to_str().unwrap(), "-u", "newbie"]);
        command
    };
    // An empty directory as the root: the skeleton appears, and the home with it.
    let (stdout, stderr, ok) = run(ember().args([
        "sh",
        "-c",
        "echo $user $home; cd; pwd; echo x > /tmp/t; cat /tmp/t",
    ]));
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "newbie /usr/newbie\n/usr/newbie\nx\n");
    for dir in ["tmp", "usr", "n", "mnt", "dis", "keydb"] {
        assert!(root.join(dir).is_dir(), "{dir} missing");
    }
    assert_eq!(mode(&root.join("tmp")), 0o1777);
    let home = root.join("usr/newbie");
    assert_eq!(mode(&home), 0o700);
    for dir in ["lib", "tmp", "keyring"] {
        assert!(home.join(dir).is_dir(), "{dir} missing from the home");
    }
    assert_eq!(mode(&home.join("keyring")), 0o700);
    // Pieces removed since are put back at the next start; what the user made stays.
    std::fs::write(home.join("lib/profile"), "# mine\n").unwrap();
    std::fs::remove_dir_all(root.join("tmp")).unwrap();
    std::fs::remove_dir_all(home.join("keyring")).unwrap();
    let (_, stderr, ok) = run(ember().args(["sh", "-c", "echo y > /tmp/t"]));
    assert!(ok, "{stderr}");
    assert!(home.join("keyring").is_dir());
    assert_eq!(
        std::fs::read_to_string(home.join("lib/profile")).unwrap(),
        "# mine\n"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// `mount -A 'tcp!127.0.0.1!PORT' /n/anything` on a fresh root: as root, and as `nobody`
/// with a copy of the binary it may run.
#[test]
fn mounting_under_n_needs_no_mkdir() {
    let server = Ember::new("login-server", "glenda");
    let port = free_port();
    let _listener = Killed(
        server
            .command(&format!(
                "listen -A -s 'tcp!127.0.0.1!{port}' {{export /lib &}}"
            ))
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let script = format!("mount -A 'tcp!127.0.0.1!{port}' /n/anything; ls /n/anything/ndb/local");
    let client = Ember::new("login-client", "glenda");
    let (stdout, stderr, ok) = run(&mut client.command(&script));
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "/n/anything/ndb/local\n");

    if !nix::unistd::getuid().is_root() {
        return;
    }
    // As an unprivileged user, with a root of its own made on first use.
    let scratch = std::env::temp_dir().join(format!("ember-nobody-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let binary = scratch.join("ember");
    std::fs::copy(env!("CARGO_BIN_EXE_ember"), &binary).unwrap();
    std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (stdout, stderr, ok) = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&binary)
        .args(["sh", "-c", &format!("{script}; echo $home")])
        .env("XDG_DATA_HOME", scratch.join("data"))
        .env("HOME", &scratch)
        .env_remove("EMBER_ROOT"));
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("/n/anything/ndb/local\n/usr/"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
