//! Advisor keyring and keyring file (protocol.md §7), rotation and revocation (§1.3, §1.4).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use meldpunt_crypto::keyring::{Keyring, KeyringError, KeyringParams};
use meldpunt_crypto::keys::KeyError;
use meldpunt_crypto::rng::os_rng;
use proptest::prelude::*;
use zeroize::Zeroizing;

const NOW: i64 = 1_750_000_000;
const YEAR: i64 = 365 * 24 * 3600;
const PASS: &str = "correct horse battery staple";

/// A fresh keyring and its file under [`PASS`] with `params`.
fn new_ring_file(params: KeyringParams) -> (Keyring, Vec<u8>) {
    let mut rng = os_rng();
    let ring = Keyring::new(&mut rng, meta("{}"), NOW, YEAR).unwrap();
    let file = ring.to_file(&mut rng, PASS, params).unwrap();
    (ring, file)
}

fn meta(s: &str) -> Zeroizing<String> {
    Zeroizing::new(s.to_owned())
}

#[test]
fn rotation_keeps_old_keys_and_publishes_bundles() {
    let mut rng = os_rng();
    let mut ring = Keyring::new(&mut rng, meta("{}"), NOW, YEAR).unwrap();
    let first = ring.current_key(NOW).unwrap().key.key_id();
    let first_bundle = ring.bundle(first).unwrap();
    assert_eq!(
        first_bundle
            .verify_for_sealing(NOW, &[], None)
            .unwrap()
            .key_id(),
        first
    );
    assert_eq!(first_bundle.identity(), ring.identity().public());

    let b2 = ring.rotate(&mut rng, NOW + 100, YEAR).unwrap();
    let b3 = ring.rotate(&mut rng, NOW + 200, YEAR).unwrap();
    assert_eq!(ring.keys().len(), 3);
    assert_eq!(ring.decryption_keys().len(), 3);
    assert_eq!(
        ring.current_key(NOW + 300).unwrap().key.key_id(),
        b3.key_id()
    );
    assert_eq!(
        ring.current_key(NOW + 150).unwrap().key.key_id(),
        b2.key_id()
    );
    assert!(
        b3.verify_for_sealing(
            NOW + 300,
            &[],
            Some(&[ring.identity().public().fingerprint()])
        )
        .is_ok()
    );
    assert_eq!(b3.not_before(), NOW + 200);
    assert_eq!(b3.not_after(), NOW + 200 + YEAR);
    assert!(ring.decryption_keys().iter().any(|k| k.key_id() == first));

    // Revoke the newest: the one before becomes current again; the bundle is refused.
    let revocation = ring.revoke(b3.key_id(), NOW + 400).unwrap();
    assert_eq!(
        ring.current_key(NOW + 500).unwrap().key.key_id(),
        b2.key_id()
    );
    assert_eq!(
        b3.verify_for_sealing(NOW + 500, &[revocation], None),
        Err(KeyError::Revoked {
            revoked_at: NOW + 400
        })
    );
    assert_eq!(ring.keys()[2].revoked_at, Some(NOW + 400));
    assert_eq!(ring.decryption_keys().len(), 3);
    assert_eq!(
        ring.revoke(meldpunt_crypto::recipient::KeyId([0; 16]), NOW)
            .err(),
        Some(KeyringError::UnknownKey)
    );
    assert_eq!(
        ring.rotate(&mut rng, NOW, 0).err(),
        Some(KeyringError::InvalidValidity)
    );
    assert_eq!(
        ring.rotate(&mut rng, i64::MAX - 1, YEAR).err(),
        Some(KeyringError::InvalidValidity)
    );
    // Nothing current after everything expired.
    assert!(ring.current_key(NOW + 10 * YEAR).is_none());
}

#[test]
fn file_round_trip() {
    let mut rng = os_rng();
    let mut ring = Keyring::new(&mut rng, meta(r#"{"name":"Anna"}"#), NOW, YEAR).unwrap();
    ring.rotate(&mut rng, NOW + 1, YEAR).unwrap();
    let id = ring.keys()[0].key.key_id();
    ring.revoke(id, NOW + 2).unwrap();
    let file = ring
        .to_file(&mut rng, PASS, KeyringParams::MINIMUM)
        .unwrap();
    assert_eq!(&file[..5], b"MPKF\x01");
    assert_eq!(Keyring::file_params(&file).unwrap(), KeyringParams::MINIMUM);
    let back = Keyring::from_file(&file, PASS).unwrap();
    assert_eq!(back.meta(), r#"{"name":"Anna"}"#);
    assert_eq!(back.identity().public(), ring.identity().public());
    assert_eq!(back.keys().len(), 2);
    for (a, b) in back.keys().iter().zip(ring.keys()) {
        assert_eq!(a.key.to_bytes().as_ref(), b.key.to_bytes().as_ref());
        assert_eq!(
            (a.not_before, a.not_after, a.revoked_at),
            (b.not_before, b.not_after, b.revoked_at)
        );
    }
    // A fresh salt and nonce every time.
    let again = ring
        .to_file(&mut rng, PASS, KeyringParams::MINIMUM)
        .unwrap();
    assert_ne!(file, again);
    assert_eq!(file.len(), again.len());
}

#[test]
fn wrong_passphrase() {
    let (_, file) = new_ring_file(KeyringParams::MINIMUM);
    assert_eq!(
        Keyring::from_file(&file, "wrong").err(),
        Some(KeyringError::WrongPassphraseOrCorrupted)
    );
    assert_eq!(
        Keyring::from_file(&file, "").err(),
        Some(KeyringError::WrongPassphraseOrCorrupted)
    );
}

#[test]
fn every_bit_flip_fails_cleanly() {
    let (_, file) = new_ring_file(KeyringParams::MINIMUM);
    let bits = file.len() * 8;
    let check = |range: std::ops::Range<usize>| {
        for bit in range {
            let mut f = file.clone();
            f[bit / 8] ^= 1 << (bit % 8);
            let err = Keyring::from_file(&f, PASS).err();
            assert!(
                matches!(
                    err,
                    Some(
                        KeyringError::BadFormat
                            | KeyringError::UnsupportedVersion(_)
                            | KeyringError::BadParams
                            | KeyringError::WrongPassphraseOrCorrupted
                    )
                ),
                "bit {bit}: {err:?}"
            );
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| check(0..bits / 2));
        s.spawn(|| check(bits / 2..bits));
    });
    // Truncations too.
    for len in 0..file.len() {
        assert!(Keyring::from_file(&file[..len], PASS).is_err());
    }
}

#[test]
fn distinct_errors_and_hostile_params() {
    let (ring, file) = new_ring_file(KeyringParams::MINIMUM);
    let mut rng = os_rng();
    let mut bad = file.clone();
    bad[0] = b'X';
    assert_eq!(
        Keyring::from_file(&bad, PASS).err(),
        Some(KeyringError::BadFormat)
    );
    let mut bad = file.clone();
    bad[4] = 2;
    assert_eq!(
        Keyring::from_file(&bad, PASS).err(),
        Some(KeyringError::UnsupportedVersion(2))
    );
    let set = |m: u32, t: u32, p: u32| {
        let mut f = file.clone();
        f[5..9].copy_from_slice(&m.to_be_bytes());
        f[9..13].copy_from_slice(&t.to_be_bytes());
        f[13..17].copy_from_slice(&p.to_be_bytes());
        f
    };
    for (m, t, p) in [
        (19455, 2, 1),
        (1_048_577, 2, 1),
        (u32::MAX, 2, 1),
        (19456, 1, 1),
        (19456, 17, 1),
        (19456, u32::MAX, 1),
        (19456, 2, 0),
        (19456, 2, 2),
        (0, 0, 0),
    ] {
        assert_eq!(
            Keyring::from_file(&set(m, t, p), PASS).err(),
            Some(KeyringError::BadParams),
            "{m} {t} {p}"
        );
    }
    // Writers refuse the same.
    for params in [
        KeyringParams {
            m_kib: 1024,
            t: 3,
            p: 1,
        },
        KeyringParams {
            m_kib: 65536,
            t: 1,
            p: 1,
        },
        KeyringParams {
            m_kib: 65536,
            t: 3,
            p: 4,
        },
    ] {
        assert_eq!(
            ring.to_file(&mut rng, PASS, params).err(),
            Some(KeyringError::BadParams)
        );
    }
    assert_eq!(
        KeyringParams::default(),
        KeyringParams {
            m_kib: 65536,
            t: 3,
            p: 1
        }
    );
    assert_eq!(
        Keyring::from_file(&[], PASS).err(),
        Some(KeyringError::BadFormat)
    );
}

#[test]
fn default_params_round_trip() {
    let (ring, file) = new_ring_file(KeyringParams::DEFAULT);
    let back = Keyring::from_file(&file, PASS).unwrap();
    assert_eq!(back.identity().public(), ring.identity().public());
}

fn header_with(m: u32, t: u32, p: u32) -> Vec<u8> {
    let mut h = b"MPKF\x01".to_vec();
    h.extend_from_slice(&m.to_be_bytes());
    h.extend_from_slice(&t.to_be_bytes());
    h.extend_from_slice(&p.to_be_bytes());
    h
}

proptest! {
    #[test]
    fn from_file_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Keyring::from_file(&bytes, PASS);
    }

    /// Hostile headers are refused before any Argon2 work (the cheap rejection path).
    #[test]
    fn from_file_refuses_hostile_params(
        m in any::<u32>(), t in any::<u32>(), p in any::<u32>(),
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let params = KeyringParams { m_kib: m, t, p };
        prop_assume!(!params.in_bounds());
        let mut f = header_with(m, t, p);
        f.extend_from_slice(&rest);
        let err = Keyring::from_file(&f, PASS).err();
        prop_assert!(matches!(err, Some(KeyringError::BadParams | KeyringError::BadFormat)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    /// Valid minimal header, random ciphertext: decryption fails cleanly.
    #[test]
    fn from_file_random_ciphertext(rest in proptest::collection::vec(any::<u8>(), 44..200)) {
        let mut f = header_with(19456, 2, 1);
        f.extend_from_slice(&rest);
        prop_assert_eq!(Keyring::from_file(&f, PASS).err(), Some(KeyringError::WrongPassphraseOrCorrupted));
    }
}

mod with_envelopes {
    use super::*;
    use meldpunt_crypto::envelope::{self, EnvelopeError, Purpose};

    #[test]
    fn envelope_to_first_key_opens_after_two_rotations() {
        let mut rng = os_rng();
        let mut ring = Keyring::new(&mut rng, meta("{}"), NOW, YEAR).unwrap();
        let first = ring.bundle(ring.keys()[0].key.key_id()).unwrap();
        let recipient = first.verify_for_sealing(NOW, &[], None).unwrap();
        let sealed =
            envelope::seal(&mut rng, Purpose::Report, "acme", &[recipient], b"old case").unwrap();

        ring.rotate(&mut rng, NOW + 100, YEAR).unwrap();
        let third = ring.rotate(&mut rng, NOW + 200, YEAR).unwrap();
        ring.revoke(first.key_id(), NOW + 300).unwrap();

        // Through a file round trip too.
        let file = ring
            .to_file(&mut rng, PASS, KeyringParams::MINIMUM)
            .unwrap();
        let ring = Keyring::from_file(&file, PASS).unwrap();
        let opened = ring.open(&sealed, &[]).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"old case");
        assert_eq!(opened.key_id, first.key_id());

        let new_recipient = third.verify_for_sealing(NOW + 400, &[], None).unwrap();
        let sealed =
            envelope::seal(&mut rng, Purpose::Message, "acme", &[new_recipient], b"new").unwrap();
        assert_eq!(
            ring.open(&sealed, &[]).unwrap().plaintext.as_slice(),
            b"new"
        );

        // Another advisor's keyring cannot open it.
        let other = Keyring::new(&mut rng, meta("{}"), NOW, YEAR).unwrap();
        assert!(matches!(
            other.open(&sealed, &[]),
            Err(EnvelopeError::Decrypt)
        ));
    }

    proptest! {
        #[test]
        fn envelope_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = envelope::Header::parse(&bytes);
            let key = meldpunt_crypto::recipient::DecryptionKey::from_bytes([7; 32]);
            let _ = envelope::open(&bytes, &[&key], &[&bytes]);
        }

        #[test]
        fn envelope_parsers_on_plausible_headers(
            purpose in 0u8..5, org_len in 0u8..70, count in 0u8..4,
            rest in proptest::collection::vec(any::<u8>(), 0..500),
        ) {
            let mut bytes = b"MPEV\x01".to_vec();
            bytes.extend_from_slice(&[purpose, org_len]);
            bytes.extend(std::iter::repeat_n(b'a', usize::from(org_len)));
            bytes.push(count);
            bytes.extend_from_slice(&rest);
            let _ = envelope::Header::parse(&bytes);
            let key = meldpunt_crypto::recipient::DecryptionKey::from_bytes([7; 32]);
            let _ = envelope::open(&bytes, &[&key], &[]);
        }
    }
}
