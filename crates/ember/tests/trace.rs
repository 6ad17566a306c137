//! `EMBER_DEBUG=9p` traces every 9P message in text form on standard error, from both ends of
//! a connection, and writes nothing else there.

use std::process::Command;

#[test]
fn ember_debug_traces_9p_in_text_form() {
    let scratch = std::env::temp_dir().join(format!("ember-trace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ember"))
        .env("XDG_DATA_HOME", &scratch)
        .env("EMBER_DEBUG", "9p")
        .args(["-u", "glenda", "sh", "-c"])
        .arg("mkdir -p /tmp/s; echo hi > /tmp/s/f; mount {export /tmp/s} /n; cat /n/f")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stdout, "hi\n");
    for line in [
        "9p mnt -> Tversion tag 65535 msize 65560 version '9P2000'",
        "9p export <- Tversion tag 65535 msize 65560 version '9P2000'",
        "9p export -> Rversion tag 65535 msize 65560 version '9P2000'",
        "Tattach tag 0 fid 1 afid -1 uname 'glenda' aname ''",
        "Twalk tag",
        "Rread tag",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
    assert!(
        stderr.lines().all(|line| line.starts_with("9p ")),
        "only trace lines on stderr:\n{stderr}"
    );
}
