//! The handshake against arbitrary bytes from the other side. The first byte picks the side
//! under test: the listener (fed bytes after the real preamble, or raw, so the fuzzer reaches
//! both the Noise messages and the plaintext check) or the caller. Either must end with an
//! error, never a panic or a hang, once the other side's bytes run out.

#![no_main]

use kernel::auth::{self, Keyring, SignerKey};
use kernel::transport::{Transport, memory};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keyring() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| {
        let signer = SignerKey::generate("fuzz").unwrap();
        Keyring::generate(&signer, "fuzz", u64::MAX).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (near, far) = memory::pair();
    let handle = std::thread::spawn(move || match choice % 3 {
        0 => auth::listener(&far, keyring(), auth::now()).map(drop),
        1 => auth::caller(&far, keyring(), auth::now()).map(drop),
        _ => auth::listener(&far, keyring(), auth::now()).map(drop),
    });
    if choice % 3 == 2 {
        let _ = near.write(auth::PREAMBLE);
    }
    let _ = near.write(rest);
    near.hang_up();
    let outcome = handle.join().expect("the handshake must not panic");
    assert!(outcome.is_err(), "random bytes were let in");
});
