//! Pickup code and case token parsers (protocol.md §4).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::pickup::{CaseToken, PickupCode};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = core::str::from_utf8(data) {
        if let Ok(code) = PickupCode::parse(s) {
            // Canonical and display forms parse back to the same code.
            let again = PickupCode::parse(&code.display_form()).ok();
            assert_eq!(again.map(|c| c.canonical()), Some(code.canonical()));
        }
        let _ = CaseToken::from_base64url(s);
    }
});
