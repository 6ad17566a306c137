//! Authentication and encryption of connections (Inferno's `auth(2)` and `ssl(3)` with
//! today's algorithms): a mutual handshake that proves each side holds a key certified by the
//! signer both trust, then an encrypted, authenticated stream.
//!
//! The handshake is Noise `XX_25519_ChaChaPoly_BLAKE2s` (the `snow` crate). On the wire:
//!
//! ```text
//! caller -> listener   "ember-auth 1\n"                     (so plaintext 9P is recognised)
//! caller -> listener   frame(-> e)
//! listener -> caller   frame(<- e, ee, s, es; payload: the listener's certificate)
//! caller -> listener   frame(-> s, se; payload: the caller's certificate, or nothing)
//! both ways            record("ok" | "refused: reason")     (each side's verdict)
//! both ways            records of the connection's bytes
//! ```
//!
//! A frame is a two-byte big-endian length and a Noise message; a record is a frame whose
//! message is a Noise transport message, numbered from 0 in each direction. The prologue names
//! the protocol and its version, so both sides agree on every parameter or the handshake fails:
//! nothing is negotiated. A certificate is accepted when its signer is ours, its signature
//! verifies with the signer's key, it has not expired, and it certifies the very Noise static
//! key the peer proved it holds.
//!
//! Invariants: a connection is handed over only after both verdicts are "ok"; the listener's
//! command never sees a connection that failed; every wait is bounded by
//! [`HANDSHAKE_TIMEOUT`] and by the caller's interrupts; a listener's handshakes in progress
//! are bounded kernel-wide ([`Admissions`]), and a newcomer never waits behind stalled ones.

mod admission;
mod keys;
mod secure;

pub use admission::{Admission, Admissions, no_free_handshakes};
pub use keys::{Certificate, Keyring, SignerKey, check_name, check_private, parse_expiry};
pub use secure::{Ssl, wrap};

use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::proc::{Ctx, Interrupt};
use crate::transport::{ChanTransport, Transport, read_exact};
use snow::StatelessTransportState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Noise protocol, the only one spoken.
pub const PARAMS: &str = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
/// What both sides mix into the handshake: the protocol's name and version.
const PROLOGUE: &[u8] = b"ember-auth 1 Noise_XX_25519_ChaChaPoly_BLAKE2s";
/// The caller's first bytes.
pub const PREAMBLE: &[u8] = b"ember-auth 1\n";
/// How long a handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest Noise message, and so the largest frame body.
const MAX_MESSAGE: usize = 65535;
/// Noise's authentication tag on every transport message.
const TAG: usize = 16;
/// Most plaintext bytes in one record.
pub const MAX_PLAIN: usize = MAX_MESSAGE - TAG;
/// Longest verdict.
const MAX_VERDICT: usize = 512;
/// A 9P Tversion's type byte: what a plaintext client sends first.
const TVERSION: u8 = 100;

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The one who dialled (`dial`, `mount`).
    Caller,
    /// The one who answered (`listen`).
    Listener,
}

/// An authenticated connection's state: who the peer is, and the keys of the stream.
pub struct Session {
    /// The peer's certificate, checked.
    pub peer: Certificate,
    cipher: StatelessTransportState,
    /// The number of the next record each way (0 went to the verdicts).
    send_nonce: u64,
    recv_nonce: u64,
}

impl Session {
    /// The peer's certified name.
    pub fn peer_name(&self) -> &str {
        &self.peer.user
    }
}

/// The error of a failed handshake, in the words the contract gives.
fn failed(reason: impl std::fmt::Display) -> Error {
    Error::msg(format!("authentication failed: {reason}"))
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Where a keyring is: `keyfile` if it starts with `/`, `./` or `#`, else
/// `/usr/$user/keyring/keyfile`; without one, `/usr/$user/keyring/default` (Inferno's rule).
pub fn keyring_path(user: &str, keyfile: Option<&str>) -> String {
    match keyfile {
        Some(file)
            if ["/", "./", "#"]
                .iter()
                .any(|prefix| file.starts_with(prefix)) =>
        {
            file.to_string()
        }
        Some(file) => format!("/usr/{user}/keyring/{file}"),
        None => format!("/usr/{user}/keyring/default"),
    }
}

/// Reads and parses the caller's keyring (see [`keyring_path`]). A missing one gives an error
/// naming the file and saying how to make it; one open to group or others, one saying how to
/// make it private.
pub fn load_keyring(ctx: &Ctx, keyfile: Option<&str>) -> Result<(String, Keyring)> {
    let path = keyring_path(&ctx.user(), keyfile);
    check_private(ctx, "keyring", &path)?;
    let text = match ctx.read_file(&path, 64 * 1024) {
        Ok(text) => text,
        Err(error) if error.root() == &Error::NotExist => {
            return Err(Error::msg(format!(
                "no keyring {path}: make one with auth/keygen"
            )));
        }
        Err(error) => return Err(Error::msg(format!("cannot read keyring {path}: {error}"))),
    };
    let text =
        String::from_utf8(text).map_err(|_| Error::msg(format!("keyring {path}: not text")))?;
    let keyring = Keyring::parse(&text)
        .map_err(|problem| Error::msg(format!("keyring {path}: {problem}")))?;
    Ok((path, keyring))
}

/// Runs the handshake on connection `raw` as `role`, within [`HANDSHAKE_TIMEOUT`]; an interrupt
/// or kill of `ctx` ends it too. On success the connection is ready for [`wrap`].
pub fn handshake(ctx: &Ctx, raw: &Arc<Chan>, role: Role, keyring: &Keyring) -> Result<Session> {
    run_handshake(ctx, raw, role, keyring, None)
}

/// The listener's side of the handshake with a caller, holding `admission` (a place among
/// the kernel's handshakes in progress, [`Admissions`]): as [`handshake`], and ended at once
/// when a newer caller takes the place.
pub fn admitted_handshake(
    ctx: &Ctx,
    raw: &Arc<Chan>,
    keyring: &Keyring,
    admission: &Admission,
) -> Result<Session> {
    run_handshake(ctx, raw, Role::Listener, keyring, Some(admission))
}

fn run_handshake(
    ctx: &Ctx,
    raw: &Arc<Chan>,
    role: Role,
    keyring: &Keyring,
    admission: Option<&Admission>,
) -> Result<Session> {
    let intr = admission.map_or_else(Interrupt::new, Admission::interrupt);
    let transport = ChanTransport::new(ctx.with_interrupt(intr.clone()), raw.clone(), raw.clone());
    let (done, finished) = crossbeam_channel::bounded::<()>(0);
    let parent = ctx.intr.clone();
    let timed_out = Arc::new(AtomicBool::new(false));
    let expired = timed_out.clone();
    // The watchdog ends the handshake at its time limit or when the caller is interrupted.
    ctx.kernel()
        .spawn_thread("auth-watchdog", 64 << 10, move || {
            let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
            loop {
                match finished.recv_timeout(Duration::from_millis(100)) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                if parent.pending() {
                    intr.kill();
                    return;
                }
                if Instant::now() >= deadline {
                    expired.store(true, Ordering::SeqCst);
                    intr.kill();
                    return;
                }
            }
        })
        .map_err(|error| Error::msg(format!("cannot start the handshake: {error}")))?;
    let result = match role {
        Role::Caller => caller(&transport, keyring, now()),
        Role::Listener => listener(&transport, keyring, now()),
    };
    drop(done);
    match result {
        Err(_) if timed_out.load(Ordering::SeqCst) => Err(failed("the handshake timed out")),
        Err(_) if admission.is_some_and(Admission::was_dropped) => Err(failed(format!(
            "the handshake was dropped for a newer caller ({} handshakes in progress)",
            ctx.kernel().handshakes().max()
        ))),
        Err(error) if ctx.intr.pending() => {
            ctx.check()?;
            Err(error)
        }
        result => result,
    }
}

fn builder(keyring: &Keyring) -> Result<snow::Builder<'_>> {
    let params = PARAMS
        .parse()
        .map_err(|_| Error::msg("bad Noise parameters"))?;
    snow::Builder::new(params)
        .prologue(PROLOGUE)
        .and_then(|builder| builder.local_private_key(&keyring.secret))
        .map_err(|error| Error::msg(format!("cannot start the handshake: {error}")))
}

/// Sends one frame.
fn write_frame(transport: &dyn Transport, message: &[u8]) -> Result<()> {
    let mut frame = Vec::with_capacity(2 + message.len());
    frame.extend_from_slice(&(message.len() as u16).to_be_bytes());
    frame.extend_from_slice(message);
    transport.write(&frame)
}

/// Reads one frame; None at the end of the stream before it.
fn read_frame(transport: &dyn Transport) -> Result<Option<Vec<u8>>> {
    let mut length = [0u8; 2];
    if !read_exact(transport, &mut length)? {
        return Ok(None);
    }
    let mut message = vec![0u8; u16::from_be_bytes(length) as usize];
    if !read_exact(transport, &mut message)? {
        return Err(Error::msg("connection closed in the middle of a message"));
    }
    Ok(Some(message))
}

/// Decides on the peer's certificate (`payload`) given the static key it proved it holds.
fn judge(
    keyring: &Keyring,
    payload: &[u8],
    remote: Option<&[u8]>,
    now: u64,
) -> Result<Certificate, String> {
    if payload.is_empty() {
        return Err("no certificate".into());
    }
    let text = std::str::from_utf8(payload).map_err(|_| "certificate is not text".to_string())?;
    let certificate =
        Certificate::parse(text).map_err(|problem| format!("bad certificate: {problem}"))?;
    let ours = &keyring.certificate.signer;
    certificate.verify(ours, &keyring.signer_key, now)?;
    if remote != Some(certificate.public.as_slice()) {
        return Err(format!(
            "certificate of {} is for another key than the one presented",
            certificate.user
        ));
    }
    Ok(certificate)
}

fn verdict_text(verdict: &Result<Certificate, String>) -> String {
    match verdict {
        Ok(_) => "ok".into(),
        Err(reason) => format!("refused: {reason}"),
    }
}

/// Sends our verdict (record 0) and reads the peer's.
fn exchange_verdicts(
    transport: &dyn Transport,
    cipher: &StatelessTransportState,
    ours: &str,
    peer: &str,
) -> Result<std::result::Result<(), String>> {
    let mut message = vec![0u8; ours.len() + TAG];
    let length = cipher
        .write_message(0, ours.as_bytes(), &mut message)
        .map_err(|error| failed(format!("cannot seal the verdict: {error}")))?;
    write_frame(transport, &message[..length])
        .map_err(|error| failed(format!("cannot send: {error}")))?;
    let frame = match read_frame(transport) {
        Ok(Some(frame)) => frame,
        Ok(None) => return Err(failed(format!("the {peer} hung up during the handshake"))),
        Err(error) => {
            return Err(failed(format!(
                "the {peer} hung up during the handshake: {error}"
            )));
        }
    };
    if frame.len() > MAX_VERDICT + TAG {
        return Err(failed(format!("the {peer}'s verdict is too long")));
    }
    let mut plain = vec![0u8; frame.len()];
    let length = cipher
        .read_message(0, &frame, &mut plain)
        .map_err(|_| failed(format!("the {peer}'s verdict does not verify")))?;
    let text = String::from_utf8_lossy(&plain[..length]).into_owned();
    match text.strip_prefix("refused: ") {
        _ if text == "ok" => Ok(Ok(())),
        Some(reason) => Ok(Err(reason.to_string())),
        None => Err(failed(format!("the {peer} sent a bad verdict"))),
    }
}

/// Reads a handshake frame, with errors that say where the handshake stopped.
fn expect_frame(transport: &dyn Transport, peer: &str) -> Result<Vec<u8>> {
    match read_frame(transport) {
        Ok(Some(frame)) => Ok(frame),
        Ok(None) => Err(failed(format!("the {peer} hung up during the handshake"))),
        Err(error) if error.is_interrupt() || error == Error::Killed => Err(error),
        Err(error) => Err(failed(format!(
            "the {peer} hung up during the handshake: {error}"
        ))),
    }
}

/// The caller's side of the handshake.
pub fn caller(transport: &dyn Transport, keyring: &Keyring, now: u64) -> Result<Session> {
    let mut state = builder(keyring)?.build_initiator().map_err(failed)?;
    let mut message = vec![0u8; MAX_MESSAGE];
    let mut payload = vec![0u8; MAX_MESSAGE];
    let length = state.write_message(&[], &mut message).map_err(failed)?;
    let mut hello = PREAMBLE.to_vec();
    hello.extend_from_slice(&(length as u16).to_be_bytes());
    hello.extend_from_slice(&message[..length]);
    transport
        .write(&hello)
        .map_err(|error| failed(format!("cannot send: {error}")))?;
    let frame = expect_frame(transport, "listener").map_err(|error| {
        if error.text().contains("hung up") {
            failed("the listener hung up at once (is it listening without authentication, -A?)")
        } else {
            error
        }
    })?;
    let length = state
        .read_message(&frame, &mut payload)
        .map_err(|_| failed("the listener's handshake does not verify"))?;
    let verdict = judge(keyring, &payload[..length], state.get_remote_static(), now);
    let certificate = match &verdict {
        Ok(_) => keyring.certificate.to_text(),
        // Nothing about us goes to a listener we refuse.
        Err(_) => String::new(),
    };
    let length = state
        .write_message(certificate.as_bytes(), &mut message)
        .map_err(failed)?;
    write_frame(transport, &message[..length])
        .map_err(|error| failed(format!("cannot send: {error}")))?;
    let cipher = state.into_stateless_transport_mode().map_err(failed)?;
    let theirs = exchange_verdicts(transport, &cipher, &verdict_text(&verdict), "listener")?;
    let peer = verdict.map_err(failed)?;
    theirs.map_err(|reason| failed(format!("the listener refused us: {reason}")))?;
    Ok(Session {
        peer,
        cipher,
        send_nonce: 1,
        recv_nonce: 1,
    })
}

/// The listener's side of the handshake. A plaintext 9P client gets a 9P error saying that
/// authentication is required.
pub fn listener(transport: &dyn Transport, keyring: &Keyring, now: u64) -> Result<Session> {
    let mut preamble = [0u8; PREAMBLE.len()];
    match read_exact(transport, &mut preamble) {
        Ok(true) => {}
        Ok(false) => return Err(failed("the caller hung up before the handshake")),
        Err(error) if error.is_interrupt() || error == Error::Killed => return Err(error),
        Err(error) => {
            return Err(failed(format!(
                "the caller hung up before the handshake: {error}"
            )));
        }
    }
    if preamble != PREAMBLE {
        if preamble[4] == TVERSION {
            let tag = u16::from_le_bytes([preamble[5], preamble[6]]);
            let reply = ninep::Fcall::new(
                tag,
                ninep::Msg::Rerror {
                    ename: "authentication required".into(),
                },
            );
            let _ = transport.write(&reply.to_bytes());
            return Err(failed(
                "the caller speaks 9P without authentication (it needs a keyring, or both sides -A)",
            ));
        }
        return Err(failed("the caller did not start an ember handshake"));
    }
    let mut state = builder(keyring)?.build_responder().map_err(failed)?;
    let mut message = vec![0u8; MAX_MESSAGE];
    let mut payload = vec![0u8; MAX_MESSAGE];
    let frame = expect_frame(transport, "caller")?;
    state
        .read_message(&frame, &mut payload)
        .map_err(|_| failed("the caller's first handshake message is malformed"))?;
    let length = state
        .write_message(keyring.certificate.to_text().as_bytes(), &mut message)
        .map_err(failed)?;
    write_frame(transport, &message[..length])
        .map_err(|error| failed(format!("cannot send: {error}")))?;
    let frame = expect_frame(transport, "caller")?;
    let length = state
        .read_message(&frame, &mut payload)
        .map_err(|_| failed("the caller's handshake does not verify (replayed or altered)"))?;
    let verdict = judge(keyring, &payload[..length], state.get_remote_static(), now);
    let cipher = state.into_stateless_transport_mode().map_err(failed)?;
    let theirs = exchange_verdicts(transport, &cipher, &verdict_text(&verdict), "caller")?;
    // A caller that refused us sent no certificate: its reason is the one worth giving.
    theirs.map_err(|reason| failed(format!("the caller refused us: {reason}")))?;
    let peer = verdict.map_err(failed)?;
    Ok(Session {
        peer,
        cipher,
        send_nonce: 1,
        recv_nonce: 1,
    })
}

#[cfg(test)]
mod tests;
