//! Fuzz target for the text form of 9P messages (`crates/ninep/src/text.rs`).
//!
//! Any bytes, decoded as lossy UTF-8, must parse as a message or fail with an error, never a
//! panic. What parses must print as text that parses back to the same message, and must
//! encode to bytes that decode back to it (so a transcript line always describes a message
//! that can travel on the wire).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ninep::Fcall;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let fcall = match source.parse::<Fcall>() {
        Ok(fcall) => fcall,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let text = fcall.to_string();
    match text.parse::<Fcall>() {
        Ok(again) => assert!(
            again == fcall,
            "{text:?} parses as {again:?}, not {fcall:?}"
        ),
        Err(error) => panic!("{source:?} printed as {text:?} does not parse: {error}"),
    }
    let bytes = fcall.to_bytes();
    match Fcall::decode(&bytes, u32::MAX) {
        Ok(again) => assert!(again == fcall, "{text:?} decodes as {again:?}"),
        Err(error) => panic!("{text:?} encodes as {bytes:?}, which does not decode: {error}"),
    }
});
