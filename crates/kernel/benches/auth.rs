//! The cost of authentication inside one process, printed against baselines measured in the
//! same run:
//!
//! 1. a whole handshake (caller and listener on two threads over an in-memory connection,
//!    certificates checked), against the same two threads exchanging the same number of
//!    messages with no cryptography;
//! 2. the keyring's X25519 and Ed25519 work alone: one certificate check.
//!
//! Run with `cargo bench -p kernel --bench auth` (or `scripts/bench auth`). Figures are
//! medians of several rounds.

use kernel::auth::{self, Keyring, SignerKey};
use kernel::transport::Transport;
use kernel::transport::memory::pair;
use std::time::{Duration, Instant};

const ROUNDS: usize = 9;
const HANDSHAKES: usize = 50;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

fn per_op(total: Duration, count: usize) -> f64 {
    total.as_secs_f64() * 1e6 / count as f64
}

/// HANDSHAKES handshakes, each on a fresh connection: µs per handshake.
fn handshakes(caller: &Keyring, listener: &Keyring) -> f64 {
    let started = Instant::now();
    for _ in 0..HANDSHAKES {
        let (near, far) = pair();
        let keys = listener.clone();
        let server = std::thread::spawn(move || auth::listener(&far, &keys, auth::now()).unwrap());
        auth::caller(&near, caller, auth::now()).unwrap();
        server.join().unwrap();
    }
    per_op(started.elapsed(), HANDSHAKES)
}

/// The same traffic shape with no cryptography: three messages one way and back, then one
/// each way, with a thread per connection.
fn bare_exchanges() -> f64 {
    let started = Instant::now();
    for _ in 0..HANDSHAKES {
        let (near, far) = pair();
        let server = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for size in [45, 300, 20] {
                let mut got = 0;
                while got < size {
                    got += far.read(&mut buf[..size - got]).unwrap();
                }
                far.write(&buf[..size.min(300)]).unwrap();
            }
        });
        let mut buf = [0u8; 512];
        for size in [45, 300, 20] {
            near.write(&buf[..size]).unwrap();
            let expect = size.min(300);
            let mut got = 0;
            while got < expect {
                got += near.read(&mut buf[..expect - got]).unwrap();
            }
        }
        server.join().unwrap();
    }
    per_op(started.elapsed(), HANDSHAKES)
}

/// Two ends of a finished Noise session, made in one thread.
fn session_pair() -> (snow::StatelessTransportState, snow::StatelessTransportState) {
    let params: snow::params::NoiseParams = auth::PARAMS.parse().unwrap();
    let keys = |_| {
        snow::Builder::new(params.clone())
            .generate_keypair()
            .unwrap()
    };
    let (a, b) = (keys(0), keys(1));
    let mut initiator = snow::Builder::new(params.clone())
        .local_private_key(&a.private)
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut responder = snow::Builder::new(params.clone())
        .local_private_key(&b.private)
        .unwrap()
        .build_responder()
        .unwrap();
    let (mut message, mut payload) = (vec![0u8; 1024], vec![0u8; 1024]);
    for turn in 0..3 {
        let (from, to) = if turn % 2 == 0 {
            (&mut initiator, &mut responder)
        } else {
            (&mut responder, &mut initiator)
        };
        let length = from.write_message(&[], &mut message).unwrap();
        to.read_message(&message[..length], &mut payload).unwrap();
    }
    (
        initiator.into_stateless_transport_mode().unwrap(),
        responder.into_stateless_transport_mode().unwrap(),
    )
}

/// MiB/s sealing and then opening largest records, against copying the same bytes.
fn records() -> (f64, f64, f64) {
    const RECORDS: u64 = 2048;
    let (sender, receiver) = session_pair();
    let plain = vec![7u8; auth::MAX_PLAIN];
    let mut sealed = vec![0u8; auth::MAX_PLAIN + 16];
    let mut opened = vec![0u8; auth::MAX_PLAIN + 16];
    let mib = (RECORDS as usize * auth::MAX_PLAIN) as f64 / f64::from(1 << 20);
    let started = Instant::now();
    for nonce in 0..RECORDS {
        let length = sender.write_message(nonce, &plain, &mut sealed).unwrap();
        std::hint::black_box(&sealed[..length]);
    }
    let seal = mib / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for nonce in 0..RECORDS {
        let length = sender.write_message(nonce, &plain, &mut sealed).unwrap();
        receiver
            .read_message(nonce, &sealed[..length], &mut opened)
            .unwrap();
    }
    let both = mib / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..RECORDS {
        sealed[..plain.len()].copy_from_slice(std::hint::black_box(&plain));
        std::hint::black_box(&sealed);
    }
    let copy = mib / started.elapsed().as_secs_f64();
    (seal, both, copy)
}

fn main() {
    let signer = SignerKey::generate("bench").unwrap();
    let expires = auth::now() + 3600;
    let glenda = Keyring::generate(&signer, "glenda", expires).unwrap();
    let gateway = Keyring::generate(&signer, "gateway", expires).unwrap();
    let handshake = median((0..ROUNDS).map(|_| handshakes(&glenda, &gateway)).collect());
    let bare = median((0..ROUNDS).map(|_| bare_exchanges()).collect());
    let check = median(
        (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..HANDSHAKES {
                    glenda.check(auth::now()).unwrap();
                }
                per_op(started.elapsed(), HANDSHAKES)
            })
            .collect(),
    );
    println!("handshake (both sides, in one process):  {handshake:9.1} µs");
    println!("bare exchange of the same messages:      {bare:9.1} µs");
    println!(
        "ratio handshake / bare:                  {:9.2}x",
        handshake / bare
    );
    println!(
        "cost of the cryptography per handshake:  {:9.1} µs",
        handshake - bare
    );
    println!("one certificate check (Ed25519, X25519): {check:9.1} µs");
    let rounds: Vec<(f64, f64, f64)> = (0..ROUNDS).map(|_| records()).collect();
    let seal = median(rounds.iter().map(|r| r.0).collect());
    let both = median(rounds.iter().map(|r| r.1).collect());
    let copy = median(rounds.iter().map(|r| r.2).collect());
    println!("records sealed (ChaCha20-Poly1305):      {seal:9.0} MiB/s");
    println!("records sealed and opened, one thread:   {both:9.0} MiB/s");
    println!("memcpy of the same bytes (baseline):     {copy:9.0} MiB/s");
    println!(
        "ratio sealing / memcpy:                  {:9.3}x",
        seal / copy
    );
}
