//! Transcript tests of `export` (9fans/go srv9p's habit): each `tests/transcripts/*.9p` file
//! is a conversation in 9P's text form. Lines starting `T ` are sent to a server exporting
//! `/share` of an in-memory tree; lines starting `R ` are the replies expected, in order. In
//! an expected line, a word `*` (or a word containing `*`) matches any word there, for values
//! that change from run to run (qid paths, times). Lines starting `#` are comments.
//!
//! The tree: `/share/hello` ("hello, world\n"), `/share/dir/inner` ("inner\n"), and
//! `/share/block/wait`, a file whose reads block until flushed.
//!
//! Every protocol bug found becomes a new transcript.

use kernel::dev::{Attached, Device, dir_entry};
use kernel::export::{ExportOptions, serve};
use kernel::memfs::MemFs;
use kernel::transport::{Transport, memory, read_message};
use kernel::{Chan, Ctx, Dir, Kernel, Qid, Rendez};
use ninep::Fcall;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// A device whose one file, `wait`, blocks every read until the reader is interrupted.
struct Blocking;

impl Device for Blocking {
    fn letter(&self) -> char {
        'B'
    }
    fn name(&self) -> &'static str {
        "blocking"
    }
    fn attach(&self, _ctx: &Ctx, _spec: &str) -> kernel::Result<Attached> {
        Ok(Attached::root(Qid::dir(0)))
    }
    fn entry(&self, ctx: &Ctx, dir: &Chan, index: usize) -> kernel::Result<Option<Dir>> {
        Ok((dir.qid.path == 0 && index == 0)
            .then(|| dir_entry(dir, Qid::file(1), "wait", 0, &ctx.user(), 0o666)))
    }
    fn stat(&self, ctx: &Ctx, chan: &Chan) -> kernel::Result<Dir> {
        let name = if chan.qid.path == 0 { "#B" } else { "wait" };
        Ok(dir_entry(chan, chan.qid, name, 0, &ctx.user(), 0o777))
    }
    fn read(
        &self,
        ctx: &Ctx,
        _chan: &Chan,
        _buf: &mut [u8],
        _offset: u64,
    ) -> kernel::Result<usize> {
        let rendez = Rendez::new();
        let lock = parking_lot::Mutex::new(());
        let mut guard = lock.lock();
        loop {
            ctx.sleep(&rendez, &mut guard)?;
        }
    }
    fn write(&self, _ctx: &Ctx, _chan: &Chan, data: &[u8], _offset: u64) -> kernel::Result<usize> {
        Ok(data.len())
    }
}

fn server_context() -> Ctx {
    let kernel = Kernel::new("glenda", "test");
    let fs = MemFs::new('T');
    kernel.register(fs.clone()).unwrap();
    kernel.register(Arc::new(Blocking)).unwrap();
    let ctx = Ctx::new(kernel.first_proc("exporter", "glenda"));
    let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
    ctx.ns().set_root(root);
    fs.add("root", "share/hello", Some("hello, world\n"));
    fs.add("root", "share/dir/inner", Some("inner\n"));
    fs.add("root", "share/block", None);
    ctx.bind("#B", "/share/block", kernel::MREPL).unwrap();
    ctx
}

/// Whether `actual` matches `expected`, where `*` in an expected word matches any run of
/// characters.
fn word_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split('*').collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let mut rest = actual;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            let Some(after) = rest.strip_prefix(part) else {
                return false;
            };
            rest = after;
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(position) = rest.find(part) else {
                return false;
            };
            rest = &rest[position + part.len()..];
        }
    }
    true
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let expected: Vec<&str> = expected.split_whitespace().collect();
    let actual: Vec<&str> = actual.split_whitespace().collect();
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(&actual)
            .all(|(e, a)| word_matches(e, a))
}

fn run_transcript(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let ctx = server_context();
    let (client, server_end) = memory::pair();
    let server_ctx = ctx.clone();
    std::thread::spawn(move || {
        let _ = serve(
            &server_ctx,
            "/share",
            Arc::new(server_end),
            ExportOptions::default(),
        );
    });
    // Replies are read on their own thread so a missing one is a timeout, not a hang.
    let client = Arc::new(client);
    let (replies, incoming) = mpsc::channel::<Fcall>();
    let reader = client.clone();
    std::thread::spawn(move || {
        while let Ok(Some(bytes)) = read_message(reader.as_ref(), 1 << 20) {
            match Fcall::decode(&bytes, 1 << 20) {
                Ok(fcall) => {
                    if replies.send(fcall).is_err() {
                        break;
                    }
                }
                Err(error) => panic!("undecodable reply: {error}"),
            }
        }
    });
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = format!("{}:{}", path.display(), number + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(request) = line.strip_prefix("T ") {
            let fcall: Fcall = request
                .parse()
                .map_err(|error| format!("{at}: cannot parse request: {error}"))?;
            client
                .write(&fcall.to_bytes())
                .map_err(|error| format!("{at}: send: {error}"))?;
        } else if let Some(expected) = line.strip_prefix("R ") {
            let reply = incoming
                .recv_timeout(Duration::from_secs(5))
                .map_err(|_| format!("{at}: no reply; expected {expected}"))?;
            let actual = reply.to_string();
            if !line_matches(expected, &actual) {
                return Err(format!("{at}:\n  expected {expected}\n  got      {actual}"));
            }
        } else {
            return Err(format!("{at}: a line must start with T, R or #"));
        }
    }
    // Nothing more may come: a reply to a flushed request, say.
    if let Ok(extra) = incoming.recv_timeout(Duration::from_millis(100)) {
        return Err(format!(
            "{}: unexpected reply at the end: {extra}",
            path.display()
        ));
    }
    client.hang_up();
    Ok(())
}

fn transcripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/transcripts exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "9p"))
        .collect();
    files.sort();
    files
}

#[test]
fn transcripts_replay() {
    let files = transcripts();
    assert!(!files.is_empty());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| run_transcript(path).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn wildcards_match_words() {
    assert!(word_matches("*", "anything"));
    assert!(word_matches("(*", "(0102"));
    assert!(word_matches("0:(*", "0:(0000"));
    assert!(!word_matches("(*", "x0102"));
    assert!(word_matches("a*c", "abbbc"));
    assert!(!line_matches("Rread tag 1 count 5", "Rread tag 1 count 6"));
}
