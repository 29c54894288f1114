//! Key bundle parser and sealing checks (protocol.md §1.3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::keys::{Fingerprint, KeyBundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = KeyBundle::from_bytes(data) {
        assert_eq!(bundle.to_bytes(), data);
        let pin = Fingerprint::from_raw([0u8; 20]);
        let _ = bundle.verify_for_sealing(0, &[], Some(&[pin]));
        let _ = bundle.verify_for_sealing(bundle.not_before(), &[], None);
    }
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = Fingerprint::parse(s);
    }
});
