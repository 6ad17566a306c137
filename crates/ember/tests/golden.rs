//! Golden-output tests: every `tests/golden/**/*.t` file is a script run through the real
//! `ember` binary, with the output it must give.
//!
//! A test file is the script, then sections that each start with a line `-- name --`:
//! - `-- setup --`: a bash script run on the host first, with `$ROOT` the test's root tree
//!   (to make host files, symbolic links, ...);
//! - `-- args --`: ember's arguments, if not `-u glenda sh /tmp/golden.sh` (the script),
//!   split at blanks with `'...'` quoting; `$ROOT` is replaced;
//! - `-- stdin --`: what ember reads on its standard input (default: nothing);
//! - `-- stdout --`, `-- stderr --`: the expected output (stderr absent means empty);
//! - `-- status --`: the expected exit code (default 0).
//!
//! Each test gets a fresh root, unpacked by the binary from its built-in copy, and runs as
//! user `glenda` with a 60-second limit. `GOLDEN_FILTER=text` runs only tests whose path
//! contains `text`; `GOLDEN_UPDATE=1` rewrites the expected sections with what happened (read
//! the diff before committing it).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECTIONS: [&str; 6] = ["setup", "args", "stdin", "stdout", "stderr", "status"];
const LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Clone)]
struct Case {
    script: String,
    setup: Option<String>,
    args: Option<String>,
    stdin: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    status: Option<String>,
}

fn parse_case(text: &str) -> Case {
    let mut case = Case::default();
    let mut current: Option<&str> = None;
    let mut body = String::new();
    let finish = |name: Option<&str>, body: &mut String, case: &mut Case| {
        let text = std::mem::take(body);
        match name {
            None => case.script = text,
            Some("setup") => case.setup = Some(text),
            Some("args") => case.args = Some(text),
            Some("stdin") => case.stdin = Some(text),
            Some("stdout") => case.stdout = Some(text),
            Some("stderr") => case.stderr = Some(text),
            Some("status") => case.status = Some(text),
            Some(_) => {}
        }
    };
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let section = trimmed
            .strip_prefix("-- ")
            .and_then(|rest| rest.strip_suffix(" --"))
            .filter(|name| SECTIONS.contains(name));
        if let Some(name) = section {
            finish(current, &mut body, &mut case);
            current = Some(SECTIONS.iter().find(|s| **s == name).copied().unwrap());
        } else {
            body.push_str(line);
        }
    }
    finish(current, &mut body, &mut case);
    case
}

fn render(case: &Case) -> String {
    let mut text = case.script.clone();
    let parts = [
        ("setup", &case.setup),
        ("args", &case.args),
        ("stdin", &case.stdin),
        ("stdout", &case.stdout),
        ("stderr", &case.stderr),
        ("status", &case.status),
    ];
    for (name, value) in parts {
        if let Some(value) = value {
            text.push_str(&format!("-- {name} --\n{value}"));
        }
    }
    text
}

struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
}

fn ember() -> &'static str {
    env!("CARGO_BIN_EXE_ember")
}

fn run_with_limit(mut command: Command, stdin: &str) -> Result<Outcome, String> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|error| format!("spawn: {error}"))?;
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader_out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = out.read_to_end(&mut text);
        text
    });
    let reader_err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = err.read_to_end(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&reader_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&reader_err.join().unwrap()).into_owned();
    Ok(Outcome {
        stdout,
        stderr,
        status: status.code().unwrap_or(128 + 9),
    })
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

fn run_case(path: &Path, case: &Case) -> Result<Outcome, String> {
    let scratch = std::env::temp_dir().join(format!(
        "ember-golden-{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let result = run_in(path, case, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn base_command(scratch: &Path) -> Command {
    let mut command = Command::new(ember());
    command
        .env_remove("EMBER_ROOT")
        .env_remove("EMBER_DEBUG")
        .env("XDG_DATA_HOME", scratch)
        .env("HOME", scratch)
        .current_dir(scratch);
    command
}

fn run_in(_path: &Path, case: &Case, scratch: &Path) -> Result<Outcome, String> {
    // First run unpacks the built-in root.
    let mut unpack = base_command(scratch);
    unpack.args(["echo", "-n"]);
    let unpacked = run_with_limit(unpack, "")?;
    if unpacked.status != 0 {
        return Err(format!("unpacking the root failed: {}", unpacked.stderr));
    }
    let root = scratch.join("ember/root");
    std::fs::write(root.join("tmp/golden.sh"), &case.script).map_err(|e| e.to_string())?;
    let root_text = root.display().to_string();
    if let Some(setup) = &case.setup {
        let mut command = Command::new("bash");
        command
            .args(["-euc", setup])
            .env("ROOT", &root)
            .current_dir(scratch);
        let outcome = run_with_limit(command, "")?;
        if outcome.status != 0 {
            return Err(format!(
                "setup failed ({}): {}{}",
                outcome.status, outcome.stdout, outcome.stderr
            ));
        }
    }
    let mut command = base_command(scratch);
    match &case.args {
        Some(args) => {
            let args = args.replace("$ROOT", &root_text);
            command.args(kernel::text::tokenize(&args));
        }
        None => {
            command.args(["-u", "glenda", "sh", "/tmp/golden.sh"]);
        }
    }
    let mut outcome = run_with_limit(command, case.stdin.as_deref().unwrap_or(""))?;
    outcome.stdout = outcome.stdout.replace(&root_text, "$ROOT");
    outcome.stderr = outcome.stderr.replace(&root_text, "$ROOT");
    Ok(outcome)
}

fn diff(expected: &str, actual: &str) -> String {
    let mut text = String::new();
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    for index in 0..expected.len().max(actual.len()) {
        match (expected.get(index), actual.get(index)) {
            (Some(e), Some(a)) if e == a => text.push_str(&format!("   {e}\n")),
            (e, a) => {
                if let Some(e) = e {
                    text.push_str(&format!(" - {e}\n"));
                }
                if let Some(a) = a {
                    text.push_str(&format!(" + {a}\n"));
                }
            }
        }
    }
    text
}

fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case = parse_case(&text);
    let outcome = run_case(path, &case)?;
    let expected_status: i32 = case
        .status
        .as_deref()
        .map(|s| s.trim().parse().unwrap_or(-1))
        .unwrap_or(0);
    let expected_stdout = case.stdout.clone().unwrap_or_default();
    let expected_stderr = case.stderr.clone().unwrap_or_default();
    if std::env::var_os("GOLDEN_UPDATE").is_some() {
        let mut updated = case.clone();
        updated.stdout =
            Some(outcome.stdout.clone()).filter(|s| !s.is_empty() || case.stdout.is_some());
        updated.stderr = Some(outcome.stderr.clone()).filter(|s| !s.is_empty());
        updated.status = (outcome.status != 0).then(|| format!("{}\n", outcome.status));
        std::fs::write(path, render(&updated)).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut problems = String::new();
    if outcome.stdout != expected_stdout {
        problems.push_str(&format!(
            "stdout differs:\n{}",
            diff(&expected_stdout, &outcome.stdout)
        ));
    }
    if outcome.stderr != expected_stderr {
        problems.push_str(&format!(
            "stderr differs:\n{}",
            diff(&expected_stderr, &outcome.stderr)
        ));
    }
    if outcome.status != expected_status {
        problems.push_str(&format!(
            "exit status {} (expected {expected_status})\n",
            outcome.status
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn golden_files() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden");
    let mut files = Vec::new();
    let mut pending = vec![base];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "t") {
                files.push(path);
            }
        }
    }
    files.sort();
    let filter = std::env::var("GOLDEN_FILTER").unwrap_or_default();
    files.retain(|path| path.display().to_string().contains(&filter));
    files
}

#[test]
fn golden() {
    let files = golden_files();
    assert!(!files.is_empty(), "no golden tests found");
    let queue = Mutex::new(files.clone());
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(path) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(problem) = check(&path) {
                        failures.lock().unwrap().push((path, problem));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    for (path, problem) in &failures {
        eprintln!("FAIL {}\n{problem}", path.display());
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden tests failed",
        failures.len(),
        files.len()
    );
}
