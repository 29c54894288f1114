//! Message parser and transcript verification (protocol.md §5).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::message::{Message, verify_transcript_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::from_bytes(data) {
        assert_eq!(message.to_bytes(), data);
        let _ = message.hash();
        let _ = message.verify_signature();
    }
    // The input split in two as a two-message transcript.
    let mid = data.len() / 2;
    let (a, b) = data.split_at(mid);
    let _ = verify_transcript_bytes(&[a, b], &[]);
});
