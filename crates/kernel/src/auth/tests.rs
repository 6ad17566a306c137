//! The handshake between two threads over an in-memory connection: who is let in, who is
//! refused, and what each side says.

use super::*;
use crate::transport::memory::{End, pair};
use parking_lot::Mutex;

const NOW: u64 = 1_800_000_000;

fn keyring(signer: &SignerKey, user: &str) -> Keyring {
    Keyring::generate(signer, user, NOW + 3600).unwrap()
}

/// Runs the caller with `caller_keys` against the listener with `listener_keys`.
fn run(caller_keys: Keyring, listener_keys: Keyring) -> (Result<Session>, Result<Session>) {
    let (near, far) = pair();
    let listener = std::thread::spawn(move || listener(&far, &listener_keys, NOW));
    let caller = caller(&near, &caller_keys, NOW);
    drop(near);
    (caller, listener.join().unwrap())
}

fn error_of(result: Result<Session>) -> String {
    match result {
        Ok(session) => panic!("{} was let in", session.peer_name()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn peers_of_one_signer_learn_each_others_names() {
    let signer = SignerKey::generate("ca").unwrap();
    let (caller, listener) = run(keyring(&signer, "glenda"), keyring(&signer, "gateway"));
    let (caller, listener) = (caller.unwrap(), listener.unwrap());
    assert_eq!(caller.peer_name(), "gateway");
    assert_eq!(listener.peer_name(), "glenda");
    // Each side's first record opens on the other.
    let mut sealed = vec![0u8; 64];
    let length = caller
        .cipher
        .write_message(caller.send_nonce, b"Tversion", &mut sealed)
        .unwrap();
    let mut plain = vec![0u8; 64];
    let length = listener
        .cipher
        .read_message(listener.recv_nonce, &sealed[..length], &mut plain)
        .unwrap();
    assert_eq!(&plain[..length], b"Tversion");
}

#[test]
fn another_signers_caller_is_refused_on_both_sides() {
    let ours = SignerKey::generate("ca").unwrap();
    let theirs = SignerKey::generate("elsewhere").unwrap();
    let (caller, listener) = run(keyring(&theirs, "eve"), keyring(&ours, "gateway"));
    // The caller refuses first: the listener's certificate is not from its signer.
    let caller = error_of(caller);
    assert!(
        caller.starts_with(
            "authentication failed: certificate of gateway is from signer ca, not elsewhere"
        ),
        "{caller}"
    );
    let listener = error_of(listener);
    assert!(
        listener.contains("the caller refused us: certificate of gateway is from signer ca"),
        "{listener}"
    );
}

#[test]
fn a_signer_with_the_same_name_is_still_another_signer() {
    let ours = SignerKey::generate("ca").unwrap();
    let impostor = SignerKey::generate("ca").unwrap();
    let (caller, listener) = run(keyring(&impostor, "eve"), keyring(&ours, "gateway"));
    assert!(error_of(caller).contains("certificate of gateway has a bad signature"));
    assert!(error_of(listener).contains("the caller refused us"));
}

#[test]
fn an_expired_certificate_is_refused() {
    let signer = SignerKey::generate("ca").unwrap();
    let expired = Keyring::generate(&signer, "glenda", NOW - 1).unwrap();
    let (caller, listener) = run(expired, keyring(&signer, "gateway"));
    let listener = error_of(listener);
    assert!(
        listener.starts_with("authentication failed: certificate of glenda expired 1 s ago"),
        "{listener}"
    );
    let caller = error_of(caller);
    assert!(
        caller.contains("the listener refused us: certificate of glenda expired"),
        "{caller}"
    );
}

#[test]
fn a_tampered_certificate_is_refused() {
    let signer = SignerKey::generate("ca").unwrap();
    let mut tampered = keyring(&signer, "glenda");
    tampered.certificate.user = "bootes".into();
    let (caller, listener) = run(tampered, keyring(&signer, "gateway"));
    assert!(error_of(listener).contains("certificate of bootes has a bad signature"));
    assert!(error_of(caller).contains("the listener refused us"));
}

#[test]
fn a_certificate_for_another_key_is_refused() {
    let signer = SignerKey::generate("ca").unwrap();
    let mut stolen = keyring(&signer, "glenda");
    stolen.secret = keyring(&signer, "eve").secret;
    let (caller, listener) = run(stolen, keyring(&signer, "gateway"));
    let listener = error_of(listener);
    assert!(
        listener.contains("certificate of glenda is for another key than the one presented"),
        "{listener}"
    );
    assert!(error_of(caller).contains("the listener refused us"));
}

/// A transport that keeps a copy of everything written on it.
struct Recording {
    end: End,
    written: Mutex<Vec<u8>>,
}

impl Transport for Recording {
    fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.end.read(buf)
    }

    fn write(&self, data: &[u8]) -> Result<()> {
        self.written.lock().extend_from_slice(data);
        self.end.write(data)
    }
}

#[test]
fn a_replayed_handshake_is_refused() {
    let signer = SignerKey::generate("ca").unwrap();
    let gateway = keyring(&signer, "gateway");
    let (near, far) = pair();
    let recording = Recording {
        end: near,
        written: Mutex::new(Vec::new()),
    };
    let listener_keys = keyring(&signer, "gateway");
    let first = std::thread::spawn(move || listener(&far, &listener_keys, NOW));
    caller(&recording, &keyring(&signer, "glenda"), NOW).unwrap();
    first.join().unwrap().unwrap();
    // Everything the caller sent, sent again to a new listener by someone without the key.
    let replay = recording.written.lock().clone();
    let (near, far) = pair();
    let second = std::thread::spawn(move || listener(&far, &gateway, NOW));
    near.write(&replay).unwrap();
    let error = error_of(second.join().unwrap());
    assert!(
        error.contains("the caller's handshake does not verify (replayed or altered)"),
        "{error}"
    );
}

#[test]
fn a_truncated_handshake_is_refused() {
    let signer = SignerKey::generate("ca").unwrap();
    for cut in [
        0,
        5,
        PREAMBLE.len(),
        PREAMBLE.len() + 1,
        PREAMBLE.len() + 10,
    ] {
        let gateway = keyring(&signer, "gateway");
        let (near, far) = pair();
        let listener = std::thread::spawn(move || listener(&far, &gateway, NOW));
        // The caller's first flight, cut short, then a hang-up.
        let hello = {
            let (probe, other) = pair();
            let glenda = keyring(&signer, "glenda");
            let prober = std::thread::spawn(move || caller(&probe, &glenda, NOW));
            let mut bytes = vec![0u8; PREAMBLE.len() + 2 + 32];
            assert!(read_exact(&other, &mut bytes).unwrap());
            drop(other);
            let _ = prober.join().unwrap();
            bytes
        };
        near.write(&hello[..cut]).unwrap();
        drop(near);
        let error = error_of(listener.join().unwrap());
        assert!(error.contains("hung up"), "cut at {cut}: {error}");
    }
}

#[test]
fn a_plaintext_9p_client_is_told_to_authenticate() {
    let signer = SignerKey::generate("ca").unwrap();
    let gateway = keyring(&signer, "gateway");
    let (near, far) = pair();
    let listener = std::thread::spawn(move || listener(&far, &gateway, NOW));
    let version = ninep::Fcall::new(
        ninep::NOTAG,
        ninep::Msg::Tversion {
            msize: 8192,
            version: "9P2000".into(),
        },
    );
    near.write(&version.to_bytes()).unwrap();
    let error = error_of(listener.join().unwrap());
    assert!(
        error.contains("speaks 9P without authentication"),
        "{error}"
    );
    let reply = crate::transport::read_message(&near, 8192)
        .unwrap()
        .unwrap();
    let reply = ninep::Fcall::decode(&reply, 8192).unwrap();
    assert_eq!(reply.tag, ninep::NOTAG);
    assert_eq!(
        reply.msg,
        ninep::Msg::Rerror {
            ename: "authentication required".into()
        }
    );
}

#[test]
fn a_caller_meeting_a_plaintext_listener_is_told_so() {
    let signer = SignerKey::generate("ca").unwrap();
    let (near, far) = pair();
    // A plaintext listener reads a size it cannot accept, and hangs up.
    let plain = std::thread::spawn(move || {
        let mut size = [0u8; 4];
        let _ = read_exact(&far, &mut size);
        drop(far);
    });
    let error = error_of(caller(&near, &keyring(&signer, "glenda"), NOW));
    plain.join().unwrap();
    assert!(error.contains("without authentication, -A"), "{error}");
}

#[test]
fn keyring_paths_follow_inferno() {
    assert_eq!(keyring_path("glenda", None), "/usr/glenda/keyring/default");
    assert_eq!(keyring_path("glenda", Some("gw")), "/usr/glenda/keyring/gw");
    assert_eq!(keyring_path("glenda", Some("/tmp/k")), "/tmp/k");
    assert_eq!(keyring_path("glenda", Some("./k")), "./k");
}
