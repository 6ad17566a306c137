//! Fuzz target for the 9P2000 decoder (`crates/ninep/src/fcall.rs`).
//!
//! Any bytes, taken as one message on a connection with Inferno's largest msize (65560), must
//! decode or fail without panicking. What decodes must encode back to exactly the same bytes
//! (there is one encoding per message, so a decoder that accepts anything else is accepting
//! a malformed message), and must print as one line of text that parses back to the same
//! message (the contract the transcript tests rely on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ninep::Fcall;

const MSIZE: u32 = 65560;

fuzz_target!(|data: &[u8]| {
    let fcall = match Fcall::decode(data, MSIZE) {
        Ok(fcall) => fcall,
        Err(error) => {
            // Errors must render; they end up in Rerror-free logs and test failures.
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let bytes = fcall.to_bytes();
    assert!(
        bytes == data,
        "{fcall:?} re-encodes as {bytes:?}, not {data:?}"
    );
    let text = fcall.to_string();
    assert!(!text.contains(['\n', '\r']), "{text:?} is not one line");
    match text.parse::<Fcall>() {
        Ok(again) => assert!(
            again == fcall,
            "{text:?} parses as {again:?}, not {fcall:?}"
        ),
        Err(error) => panic!("{fcall:?} prints as {text:?}, which does not parse: {error}"),
    }
});
