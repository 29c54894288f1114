//! Revocation parser (protocol.md §1.4).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::keys::Revocation;

fuzz_target!(|data: &[u8]| {
    if let Ok(revocation) = Revocation::from_bytes(data) {
        assert_eq!(revocation.to_bytes(), data);
        let _ = revocation.verify();
    }
});
