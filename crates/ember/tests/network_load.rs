//! A load test of a remote `/net`: two embers on loopback, a gateway that serves its `/net`
//! (`listen -A ... {export /net &}`) and a laptop that mounts it and, inside one `sh -c` that
//! binds the gateway's `/net` over its own, starts 200 dialers at once to an echo service.
//! Every dialer must get its line back, and nothing may leak on the gateway: its host
//! descriptors and threads (`/proc/PID/fd`, `/proc/PID/task`) and its `#I` conversations in
//! use (a conversation nobody uses belongs to `network`) come back to what they were before,
//! within a deadline. The whole round is run twice, so anything kept per call shows as growth.
//!
//! The echo service is a thread of this test: it counts the calls it answered and how many
//! were open at once. A second test holds every answer until all 200 callers are waiting for
//! theirs, so that 200 reads are outstanding through the gateway at the same moment.

mod common;
use common::{Ember, Killed, free_port};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{ChildStdin, ChildStdout, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Dialers started at once in each round.
const DIALERS: usize = 200;
/// Rounds of dialers, each from a new laptop.
const ROUNDS: usize = 2;
/// How long the gateway may take to come back to its baseline once the calls are over.
const SETTLE: Duration = Duration::from_secs(20);
/// The most idle export workers one connection keeps (`kernel::export`'s `KEPT_WORKERS`):
/// they stay until their connection ends; the rest leave once their requests are done.
const KEPT_EXPORT_WORKERS: usize = 4;

/// Waits until a socket listens on `port`, seen in the host's socket tables rather than by
/// calling it (a call would start a session on the gateway).
fn wait_for_listener(port: u16) {
    let started = Instant::now();
    let listening = || {
        ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
            std::fs::read_to_string(table).is_ok_and(|text| {
                text.lines().skip(1).any(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    let local_port = words
                        .get(1)
                        .and_then(|local| local.rsplit_once(':'))
                        .and_then(|(_, port)| u16::from_str_radix(port, 16).ok());
                    local_port == Some(port) && words.get(3) == Some(&"0A")
                })
            })
        })
    };
    while !listening() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The echo service: answers each caller's first line with the same line, then hangs up.
/// With `hold`, callers are answered in groups of `hold`, once the whole group has sent its
/// line (or [`SETTLE`] has passed), so that many calls are open and waiting at once.
struct Echo {
    port: u16,
    answered: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Echo {
    fn start(hold: usize) -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let heard = Arc::new((Mutex::new(0usize), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (counted, highest, stopped) = (answered.clone(), peak.clone(), stop.clone());
        std::thread::spawn(move || {
            // Bounded: no more calls than the test makes, plus the wake-up at the end.
            for _ in 0..DIALERS * ROUNDS * 2 + 16 {
                let Ok((stream, _)) = listener.accept() else {
                    break;
                };
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                highest.fetch_max(now, Ordering::SeqCst);
                let (counted, open, heard) = (counted.clone(), open.clone(), heard.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(SETTLE));
                    let mut line = String::new();
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut line).is_ok() && line.ends_with('\n') {
                        let (count, changed) = &*heard;
                        let mut count = count.lock().unwrap();
                        *count += 1;
                        changed.notify_all();
                        // Each round's callers wait for the rest of their round.
                        let round_end = (*count).div_ceil(hold.max(1)) * hold;
                        let deadline = Instant::now() + SETTLE;
                        while *count < round_end && Instant::now() < deadline {
                            count = changed
                                .wait_timeout(count, deadline - Instant::now())
                                .unwrap()
                                .0;
                        }
                        drop(count);
                        if (&stream).write_all(line.as_bytes()).is_ok() {
                            counted.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Echo {
            port,
            answered,
            peak,
            stop,
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// What the gateway holds: host descriptors (by what they are), threads, and `#I`
/// conversations in use.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Holdings {
    fds: BTreeMap<String, usize>,
    threads: usize,
    conversations: usize,
}

/// The gateway's descriptors grouped by kind (`socket`, `pipe`, `anon_inode:[eventfd]`, a
/// path, ...), and its thread count.
fn host_holdings(pid: u32) -> (BTreeMap<String, usize>, usize) {
    let mut fds = BTreeMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let Ok(target) = std::fs::read_link(entry.unwrap().path()) else {
            continue;
        };
        let target = target.to_string_lossy().into_owned();
        let kind = match target.split_once(":[") {
            Some((kind, _)) if kind != "anon_inode" => kind.to_string(),
            _ => target,
        };
        *fds.entry(kind).or_default() += 1;
    }
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    (fds, threads)
}

/// The conversations in use in an `ls -l` of a `tcp` directory (a free one belongs to
/// `network`), up to the line `end`; and how many conversations it lists in all.
fn conversations_in_use(lines: &mut impl Iterator<Item = String>) -> (usize, usize) {
    let (mut in_use, mut all) = (0, 0);
    for line in lines.by_ref() {
        if line == "end" {
            return (in_use, all);
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first().is_some_and(|mode| mode.starts_with('d')) {
            all += 1;
            if words.get(3) != Some(&"network") {
                in_use += 1;
            }
        }
    }
    panic!("the listing of the gateway's conversations ended early");
}

/// The gateway's conversations as seen by a laptop that mounts it just to look: its own
/// connection is one of those in use.
fn look(gateway_port: u16) -> (usize, usize) {
    let looker = Ember::new("look", "glenda");
    let output = looker
        .command(&format!(
            "mount -A 'tcp!127.0.0.1!{gateway_port}' /n && ls -l /n/tcp && echo end"
        ))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "looking at the gateway failed");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    conversations_in_use(&mut text.lines().map(str::to_string))
}

/// The gateway's holdings once two readings 200 ms apart agree (the threads of a call that
/// just ended take a moment to go).
fn steady(
    host: &impl Fn() -> (BTreeMap<String, usize>, usize),
) -> (BTreeMap<String, usize>, usize) {
    let started = Instant::now();
    let mut last = host();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = host();
        if now == last {
            return now;
        }
        assert!(
            started.elapsed() < SETTLE,
            "the gateway never settles: {now:?}"
        );
        last = now;
    }
}

/// Waits until `current` gives `expected` (compared by `same`), failing with both after
/// [`SETTLE`].
fn settle(
    what: &str,
    expected: &Holdings,
    same: impl Fn(&Holdings, &Holdings) -> bool,
    mut current: impl FnMut() -> Holdings,
) {
    let started = Instant::now();
    loop {
        let now = current();
        if same(expected, &now) {
            return;
        }
        assert!(
            started.elapsed() < SETTLE,
            "{what}: the gateway did not come back to its baseline within {SETTLE:?}\n\
             expected {expected:?}\n     got {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A laptop that has mounted the gateway and waits for orders on its standard input: `look`
/// lists the gateway's conversations, `dial` runs the dialers, end of input ends it.
struct Laptop {
    child: Killed,
    orders: Option<ChildStdin>,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    _ember: Ember,
}

impl Laptop {
    fn start(gateway_port: u16, echo_port: u16) -> Laptop {
        let ember = Ember::new("laptop", "glenda");
        let script = format!(
            "mkdir -p /n/gw
             mount -A 'tcp!127.0.0.1!{gateway_port}' /n/gw || exit failed
             echo mounted
             while {{order = `{{read}}; ~ $#order 1}} {{
                 if {{~ $order look}} {{
                     ls -l /n/gw/tcp; echo end
                 }} {{
                     sh -c {{
                         bind /n/gw/net /net
                         for i in `{{seq {DIALERS}}} {{
                             {{dial -A 'tcp!127.0.0.1!{echo_port}' {{
                                 echo ping
                                 ~ `{{read}} ping
                             }} && echo ok}} &
                         }}
                     }} | cat
                     echo dialled
                 }}
             }}"
        );
        let mut child = ember
            .command(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let orders = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(
            lines.next().map(Result::unwrap).as_deref(),
            Some("mounted"),
            "the laptop could not mount the gateway"
        );
        Laptop {
            child: Killed(child),
            orders,
            lines,
            _ember: ember,
        }
    }

    fn order(&mut self, line: &str) {
        let orders = self.orders.as_mut().unwrap();
        orders.write_all(format!("{line}\n").as_bytes()).unwrap();
        orders.flush().unwrap();
    }

    fn next_line(&mut self) -> String {
        self.lines
            .next()
            .expect("the laptop ended early")
            .expect("reading the laptop")
    }

    /// The gateway's conversations in use and in all, through the laptop's mount.
    fn conversations(&mut self) -> (usize, usize) {
        self.order("look");
        let mut lines = std::iter::from_fn(|| Some(self.next_line()));
        conversations_in_use(&mut lines)
    }

    /// Runs the dialers; how many succeeded.
    fn dial(&mut self) -> usize {
        self.order("dial");
        let mut succeeded = 0;
        loop {
            match self.next_line().as_str() {
                "ok" => succeeded += 1,
                "dialled" => return succeeded,
                other => panic!("unexpected output from the laptop: {other}"),
            }
        }
    }

    /// Ends the laptop (end of its input) and waits for it to exit.
    fn finish(mut self) {
        drop(self.orders.take());
        let rest: Vec<String> = self.lines.by_ref().take(100).map(Result::unwrap).collect();
        assert!(rest.is_empty(), "the laptop said more: {rest:?}");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                break status;
            }
            assert!(started.elapsed() < SETTLE, "the laptop does not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "the laptop failed: {status}");
    }
}

/// Runs [`ROUNDS`] rounds of [`DIALERS`] dialers through a gateway against an echo service
/// that holds its answers until `hold` callers are waiting, checking that every call
/// succeeds and that the gateway comes back to its baseline after each.
fn dial_through_a_gateway(hold: usize) {
    let gateway = Ember::new("gateway", "glenda");
    let echo = Echo::start(hold);
    let gateway_port = free_port();
    let child = gateway
        .command(&format!(
            "listen -A -s 'tcp!127.0.0.1!{gateway_port}' {{export /net &}}"
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _gateway = Killed(child);
    wait_for_listener(gateway_port);
    let host = || host_holdings(pid);
    // The gateway's descriptors and threads now, with `conversations` counted elsewhere.
    let holdings = |conversations: usize| {
        let (fds, threads) = host();
        Holdings {
            fds,
            threads,
            conversations,
        }
    };

    // The idle gateway, after a first look: serving one opens what the gateway then keeps
    // (its root directory, once its namespace is first walked), which is not a leak.
    // Looking at its conversations means mounting it: the look's own connection is the one
    // in use besides the announcement, and when the look is over the gateway must be back
    // to the descriptors and threads it had.
    look(gateway_port);
    let (fds, threads) = steady(&host);
    let (conversations, _) = look(gateway_port);
    let idle = Holdings {
        fds,
        threads,
        conversations,
    };
    assert_eq!(
        idle.conversations, 2,
        "the announcement and the look: {idle:?}"
    );
    settle(
        "after a look",
        &idle,
        |a, b| a.fds == b.fds && a.threads == b.threads,
        || holdings(idle.conversations),
    );

    let mut largest_table = 0;
    for round in 1..=ROUNDS {
        let answered_before = echo.answered.load(Ordering::SeqCst);
        echo.peak.store(0, Ordering::SeqCst);
        let mut laptop = Laptop::start(gateway_port, echo.port);
        let (conversations, _) = laptop.conversations();
        let mounted = holdings(conversations);
        assert_eq!(mounted.conversations, idle.conversations, "{mounted:?}");

        let started = Instant::now();
        let succeeded = laptop.dial();
        let took = started.elapsed();
        let answered = echo.answered.load(Ordering::SeqCst) - answered_before;
        eprintln!(
            "round {round}: {succeeded} of {DIALERS} dialers succeeded in {took:?}; \
             the service answered {answered}, at most {} at once",
            echo.peak.load(Ordering::SeqCst)
        );
        assert_eq!(succeeded, DIALERS, "round {round}: dialers that succeeded");
        assert_eq!(
            answered, DIALERS,
            "round {round}: calls the service answered"
        );

        // With the laptop still mounted: every conversation free again and every socket
        // closed; the export's workers may stay until its connection ends.
        settle(
            &format!("round {round}, calls over"),
            &mounted,
            |a, b| {
                a.fds == b.fds
                    && a.conversations == b.conversations
                    && b.threads <= a.threads + KEPT_EXPORT_WORKERS
            },
            || {
                let (conversations, all) = laptop.conversations();
                largest_table = largest_table.max(all);
                holdings(conversations)
            },
        );
        laptop.finish();

        // With the laptop gone: everything as it was before it came.
        settle(
            &format!("round {round}, laptop gone"),
            &idle,
            |a, b| a == b,
            || holdings(idle.conversations),
        );
        let (conversations, _) = look(gateway_port);
        assert_eq!(conversations, idle.conversations, "round {round}");
        settle(
            &format!("round {round}, after a look"),
            &idle,
            |a, b| a == b,
            || holdings(conversations),
        );
    }
    // Free conversations are reused: the table never holds more than were in use at once.
    assert!(
        largest_table <= DIALERS + idle.conversations + 1,
        "the gateway has {largest_table} conversations for {DIALERS} dialers"
    );
}

#[test]
fn two_hundred_dialers_through_a_remote_net_all_succeed_and_nothing_leaks() {
    dial_through_a_gateway(0);
}

/// All 200 calls open and waiting at once: every dialer is blocked reading its answer
/// through the gateway's export before the first is answered.
#[test]
fn two_hundred_dialers_waiting_at_once_through_a_remote_net() {
    dial_through_a_gateway(DIALERS);
}
