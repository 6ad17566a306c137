//! Fuzz target for the shell's syntax module (`crates/shell/src/syntax`).
//!
//! Any bytes, decoded as lossy UTF-8, must parse or fail without panicking, overflowing the
//! stack or hanging, both whole (`parse`) and a line at a time (`parse_lines`); and whatever
//! parses must print to text that parses back to the same tree (the printer's contract, which
//! Inferno relies on whenever a block is used as a value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shell::syntax::{parse, parse_lines, print};

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    if let Ok(script) = parse(&source) {
        let text = print(&script);
        match parse(&text) {
            Ok(again) => assert!(
                again == script,
                "{source:?} printed as {text:?} parses differently"
            ),
            Err(error) => panic!("{source:?} printed as {text:?} does not parse: {error}"),
        }
    }
    for line in parse_lines(&source) {
        if let Err(error) = line {
            // Errors must render; the message is what a user sees.
            assert!(!error.to_string().is_empty());
        }
    }
});
