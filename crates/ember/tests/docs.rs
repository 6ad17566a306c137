//! Every example in README.md and docs/ runs as written (issue 12): a fenced block whose
//! lines start with the prompt `% ` is an example. Its commands run, in order, in a fresh
//! ember (its own new root, as the user `glenda`, with the simulated GPIO chip so the GPIO
//! pages run anywhere); where the block shows output (the lines that are not commands), the
//! output must be exactly that, standard error included. A block that shows none must end
//! with an empty status.
//!
//! A block that cannot run here says why, on the line before its fence:
//! `<!-- not run: reason -->` (a second machine, a person pressing a button). Blocks
//! without the prompt are synopses, file contents or host commands, and are not run.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest an example may take.
const LIMIT: Duration = Duration::from_secs(20);

/// One example block.
#[derive(Debug, PartialEq, Eq)]
struct Example {
    /// `file:line` of the block's first line.
    place: String,
    commands: Vec<String>,
    /// The output the block shows.
    output: Vec<String>,
}

/// The examples of one page, and the blocks it says are not run (with their reasons).
fn examples(place: &str, text: &str) -> (Vec<Example>, Vec<String>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        if !lines[index].starts_with("```") {
            index += 1;
            continue;
        }
        let start = index;
        let mut end = start + 1;
        while end < lines.len() && !lines[end].starts_with("```") {
            end += 1;
        }
        let block = &lines[start + 1..end.min(lines.len())];
        index = end + 1;
        if !block.iter().any(|line| line.starts_with("% ")) {
            continue;
        }
        let here = format!("{place}:{}", start + 1);
        if let Some(reason) = start
            .checked_sub(1)
            .and_then(|before| lines[before].trim().strip_prefix("<!-- not run:"))
        {
            skipped.push(format!("{here}: {}", reason.trim_end_matches("-->").trim()));
            continue;
        }
        let mut example = Example {
            place: here,
            commands: Vec::new(),
            output: Vec::new(),
        };
        for line in block {
            match line.strip_prefix("% ") {
                Some(command) => example.commands.push(command.to_string()),
                None => example.output.push(line.to_string()),
            }
        }
        found.push(example);
    }
    (found, skipped)
}

/// Runs an example in a fresh ember; None if it did what the page says, else why not.
fn run(ember: &Path, example: &Example) -> Option<String> {
    let scratch = std::env::temp_dir().join(format!(
        "ember-doc-{}-{}",
        std::process::id(),
        example.place.replace(['/', ':', '.'], "-")
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    // Each command ends its line, as it does when typed at the prompt.
    let script = example.commands.join("\n") + "\n";
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = Command::new(ember)
        .args(["-u", "glenda", "-G", "sim", "sh", "-c", &script])
        .env("XDG_DATA_HOME", &scratch)
        .env("HOME", &scratch)
        .env_remove("EMBER_ROOT")
        .env_remove("EMBER_DEBUG")
        .stdin(Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let collector = std::thread::spawn(move || {
        let mut output = String::new();
        let _ = (&reader).read_to_string(&mut output);
        output
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = collector.join().unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    let shown: Vec<&str> = output.lines().map(str::trim_end).collect();
    let expected: Vec<&str> = example.output.iter().map(|line| line.trim_end()).collect();
    let problem = match status {
        None => Some(format!("did not end within {LIMIT:?}")),
        Some(_) if !expected.is_empty() && shown != expected => {
            Some("printed something else".to_string())
        }
        Some(status) if expected.is_empty() && !status.success() => {
            Some(format!("failed ({status})"))
        }
        Some(_) => None,
    };
    problem.map(|problem| {
        format!(
            "{}: {problem}\n  ran:\n    {}\n  expected:\n    {}\n  got:\n    {}",
            example.place,
            example.commands.join("\n    "),
            expected.join("\n    "),
            shown.join("\n    ")
        )
    })
}

/// README.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pages = vec![top.join("README.md")];
    let mut dirs = vec![top.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

#[test]
fn every_example_in_the_docs_runs_as_written() {
    let ember = PathBuf::from(env!("CARGO_BIN_EXE_ember"));
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut not_run = Vec::new();
    for page in pages() {
        let place = page
            .strip_prefix(&top)
            .unwrap_or(&page)
            .display()
            .to_string();
        let (found, skipped) = examples(&place, &std::fs::read_to_string(&page).unwrap());
        not_run.extend(skipped);
        for example in found {
            ran += 1;
            failures.extend(run(&ember, &example));
        }
    }
    eprintln!(
        "docs: {} passed, {} failed; not run here:\n  {}",
        ran - failures.len(),
        failures.len(),
        not_run.join("\n  ")
    );
    assert!(ran > 40, "only {ran} examples found");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// The harness itself: a page whose example is wrong fails, one that is right passes.
#[test]
fn a_broken_example_fails_the_harness() {
    let ember = PathBuf::from(env!("CARGO_BIN_EXE_ember"));
    let page = "# page\n\n```\n% echo hello\nhello\n```\n\n```\n% echo hello\ngoodbye\n```\n\n\
                ```\n% cat /no/such/file\n```\n\n<!-- not run: needs a second machine -->\n\
                ```\n% mount tcp!gateway!5546 /n/gw\n```\n";
    let (found, skipped) = examples("test.md", page);
    assert_eq!(found.len(), 3);
    assert_eq!(skipped, ["test.md:18: needs a second machine"]);
    assert_eq!(run(&ember, &found[0]), None);
    assert!(
        run(&ember, &found[1])
            .unwrap()
            .contains("printed something else")
    );
    assert!(run(&ember, &found[2]).unwrap().contains("failed"));
}
