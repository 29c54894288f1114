//! `Debug` of every secret type shows none of its secret bytes: not in hex, not as a decimal
//! array, not in base32 or base64url.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use meldpunt_crypto::keyring::Keyring;
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::pickup::{CaseToken, PickupCode, PickupSeed, ReporterKeys};
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::os_rng;
use zeroize::Zeroizing;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base32(bytes: &[u8], alphabet: &[u8; 32]) -> String {
    let mut out = String::new();
    let mut acc: u32 = 0;
    let mut n = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        n += 8;
        while n >= 5 {
            n -= 5;
            out.push(char::from(alphabet[((acc >> n) & 31) as usize]));
        }
    }
    if n > 0 {
        out.push(char::from(alphabet[((acc << (5 - n)) & 31) as usize]));
    }
    out
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut v = [0u8; 3];
        v[..chunk.len()].copy_from_slice(chunk);
        let n = (u32::from(v[0]) << 16) | (u32::from(v[1]) << 8) | u32::from(v[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Asserts that `shown` contains no 4-byte window of `secret` in any of the encodings, and
/// not the whole secret in upper-case hex either.
fn assert_redacted(what: &str, shown: &str, secret: &[u8]) {
    assert!(
        secret.len() >= 8,
        "{what}: secret too short for a meaningful check"
    );
    let lower = shown.to_lowercase();
    for w in secret.windows(4) {
        assert!(!lower.contains(&hex(w)), "{what}: hex of secret in {shown}");
        let dec = w.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
        assert!(
            !shown.contains(&dec),
            "{what}: decimal bytes of secret in {shown}"
        );
    }
    for w in secret.windows(5) {
        let crock = base32(w, b"0123456789ABCDEFGHJKMNPQRSTVWXYZ");
        let rfc = base32(w, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        assert!(
            !shown.to_uppercase().contains(&crock),
            "{what}: Crockford base32 of secret in {shown}"
        );
        assert!(
            !shown.to_uppercase().contains(&rfc),
            "{what}: base32 of secret in {shown}"
        );
    }
    for w in secret.windows(6) {
        assert!(
            !shown.contains(&b64url(w)),
            "{what}: base64url of secret in {shown}"
        );
    }
}

#[test]
fn identity_key() {
    let key = IdentityKey::generate(&mut os_rng());
    let shown = format!("{key:?} {key:#?}");
    assert_redacted("IdentityKey", &shown, key.to_seed().as_ref());
}

#[test]
fn decryption_key() {
    let key = DecryptionKey::generate(&mut os_rng());
    let shown = format!("{key:?} {key:#?}");
    assert_redacted("DecryptionKey", &shown, key.to_bytes().as_ref());
}

#[test]
fn pickup_code() {
    let code = PickupCode::generate(&mut os_rng());
    let shown = format!("{code:?} {code:#?}");
    let canonical = code.canonical();
    for w in canonical.as_bytes().windows(4) {
        assert!(
            !shown.contains(std::str::from_utf8(w).unwrap()),
            "code in {shown}"
        );
    }
    assert!(!shown.contains(code.display_form().as_str()));
    let seed = code.derive_seed().unwrap();
    let seed_shown = format!("{seed:?}");
    assert_redacted("PickupSeed", &seed_shown, seed.as_bytes());
    let seed2 = PickupSeed::from_bytes(*seed.as_bytes());
    assert_eq!(format!("{seed2:?}"), seed_shown);
}

#[test]
fn case_token_and_reporter_keys() {
    let code = PickupCode::generate(&mut os_rng());
    let keys: ReporterKeys = code.derive_keys().unwrap();
    let token: &CaseToken = keys.case_token();
    let shown = format!("{token:?} {token:#?}");
    assert_redacted("CaseToken", &shown, token.as_bytes());
    assert!(!shown.contains(token.to_base64url().as_str()));
    let shown = format!("{keys:?} {keys:#?}");
    assert_redacted("ReporterKeys/token", &shown, keys.case_token().as_bytes());
    assert_redacted(
        "ReporterKeys/reply",
        &shown,
        keys.reply_key().to_bytes().as_ref(),
    );
    assert_redacted(
        "ReporterKeys/signing",
        &shown,
        keys.signing_key().to_seed().as_ref(),
    );
}

#[test]
fn keyring() {
    let mut rng = os_rng();
    let mut ring = Keyring::new(
        &mut rng,
        Zeroizing::new(r#"{"display_name":"Vertrouwenspersoon Geheim"}"#.to_owned()),
        0,
        1000,
    )
    .unwrap();
    ring.rotate(&mut rng, 10, 1000).unwrap();
    let shown = format!("{ring:?} {ring:#?}");
    assert_redacted(
        "Keyring/identity",
        &shown,
        ring.identity().to_seed().as_ref(),
    );
    for key in ring.decryption_keys() {
        assert_redacted("Keyring/key", &shown, key.to_bytes().as_ref());
    }
    assert!(!shown.contains("Geheim"), "keyring metadata in {shown}");
    for entry in ring.keys() {
        let shown = format!("{entry:?}");
        assert_redacted("KeyringEntry", &shown, entry.key.to_bytes().as_ref());
    }
}
