//! Any bytes as a command APDU, as a response APDU, and sent to the virtual card: no panic.
//! Run: `cargo fuzz run apdu`.
#![no_main]

use kakunin_card::apdu::{Command, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Command::parse(data) {
        // What parses re-encodes and parses to the same command.
        let again = Command::parse(&c.to_bytes().expect("parsed commands encode")).expect("re-parses");
        assert_eq!(again, c);
    }
    let _ = Response::parse(data);
});
