//! Keyring file reader (protocol.md §7) with a fixed passphrase.
//!
//! Every input that passes the header checks costs an Argon2id run of at least 19 MiB and two
//! passes (and up to 1 GiB × 16 passes for a hostile but in-bounds header), so the target
//! returns early unless the header parses with the *minimum* parameters. That keeps the
//! fuzzer on the cheap rejection paths and on the AEAD/plaintext path at ~20 execs/s.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::keyring::{Keyring, KeyringParams};

fuzz_target!(|data: &[u8]| {
    match Keyring::file_params(data) {
        Ok(params) if params == KeyringParams::MINIMUM => {
            let _ = Keyring::from_file(data, "fuzz passphrase");
        }
        // Header refused: from_file must refuse it the same way, without Argon2 work.
        Err(_) => assert!(Keyring::from_file(data, "fuzz passphrase").is_err()),
        Ok(_) => {}
    }
});
