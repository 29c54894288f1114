//! Envelope header parser and `open` with a fixed key (protocol.md §3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::envelope;
use meldpunt_crypto::recipient::DecryptionKey;

fuzz_target!(|data: &[u8]| {
    let _ = envelope::Header::parse(data);
    let key = DecryptionKey::from_bytes([7u8; 32]);
    // The tail of the input also serves as a detached stanza.
    let detached = data.get(data.len().saturating_sub(96)..).unwrap_or(&[]);
    let _ = envelope::open(data, &[&key], &[detached]);
});
