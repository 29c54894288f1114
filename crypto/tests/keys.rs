//! Identity keys, fingerprints, key bundles and revocations (protocol.md §1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use meldpunt_crypto::keys::{
    Fingerprint, IdentityKey, IdentityPublicKey, KeyBundle, KeyError, Revocation,
};
use meldpunt_crypto::recipient::{DecryptionKey, KeyId, RecipientKey};
use meldpunt_crypto::rng::os_rng;
use proptest::prelude::*;

const NOW: i64 = 1_750_000_000;
const YEAR: i64 = 365 * 24 * 3600;

fn setup() -> (IdentityKey, DecryptionKey, KeyBundle) {
    let mut rng = os_rng();
    let identity = IdentityKey::generate(&mut rng);
    let key = DecryptionKey::generate(&mut rng);
    let bundle = identity
        .make_bundle(&key.recipient(), NOW - 10, NOW + YEAR)
        .unwrap();
    (identity, key, bundle)
}

/// Re-signs arbitrary bundle bytes with `identity` (to build bundles that are signed but
/// otherwise wrong).
fn resign(identity: &IdentityKey, mut bytes: Vec<u8>) -> KeyBundle {
    // Build the signature the same way the crate does, via a throwaway bundle of the same
    // fields: we cannot reach the private signer, so use ed25519-dalek through the seed.
    let seed = identity.to_seed();
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let mut msg = b"meldpunt/v1/key-bundle\x00".to_vec();
    msg.extend_from_slice(&bytes[..101]);
    use ed25519_dalek::Signer;
    let sig = sk.sign(&msg).to_bytes();
    bytes[101..].copy_from_slice(&sig);
    KeyBundle::from_bytes(&bytes).unwrap()
}

#[test]
fn bundle_round_trip_and_verifies() {
    let (identity, key, bundle) = setup();
    let bytes = bundle.to_bytes();
    assert_eq!(bytes.len(), 165);
    assert_eq!(&bytes[..4], b"MPKB");
    assert_eq!(bytes[4], 1);
    let parsed = KeyBundle::from_bytes(&bytes).unwrap();
    assert_eq!(parsed, bundle);
    assert_eq!(parsed.identity(), identity.public());
    assert_eq!(parsed.key_id(), key.key_id());
    assert_eq!(parsed.recipient(), key.recipient());
    assert_eq!(parsed.not_before(), NOW - 10);
    assert_eq!(parsed.not_after(), NOW + YEAR);
    let recipient = parsed.verify_for_sealing(NOW, &[], None).unwrap();
    assert_eq!(recipient, key.recipient());
    // deterministic signatures: signing again yields the same bytes
    let again = identity
        .make_bundle(&key.recipient(), NOW - 10, NOW + YEAR)
        .unwrap();
    assert_eq!(again.to_bytes(), bytes);
}

#[test]
fn expired_bundle_refused() {
    let (_, _, bundle) = setup();
    assert_eq!(
        bundle.verify_for_sealing(NOW + YEAR, &[], None),
        Err(KeyError::Expired {
            not_after: NOW + YEAR
        })
    );
    assert!(bundle.verify_for_sealing(NOW + YEAR - 1, &[], None).is_ok());
}

#[test]
fn not_yet_valid_bundle_refused() {
    let (_, _, bundle) = setup();
    assert_eq!(
        bundle.verify_for_sealing(NOW - 11, &[], None),
        Err(KeyError::NotYetValid {
            not_before: NOW - 10
        })
    );
    assert!(bundle.verify_for_sealing(NOW - 10, &[], None).is_ok());
}

#[test]
fn empty_validity_cannot_be_made_or_parsed() {
    let (identity, key, bundle) = setup();
    assert_eq!(
        identity.make_bundle(&key.recipient(), NOW, NOW).err(),
        Some(KeyError::InvalidDates)
    );
    let mut bytes = bundle.to_bytes();
    bytes[93..101].copy_from_slice(&(NOW - 10).to_be_bytes());
    assert_eq!(
        KeyBundle::from_bytes(&bytes).err(),
        Some(KeyError::InvalidDates)
    );
}

#[test]
fn revoked_bundle_refused() {
    let (identity, key, bundle) = setup();
    let revocation = identity.make_revocation(key.key_id(), NOW);
    let parsed = Revocation::from_bytes(&revocation.to_bytes()).unwrap();
    assert_eq!(parsed, revocation);
    assert_eq!(parsed.key_id(), key.key_id());
    assert_eq!(parsed.revoked_at(), NOW);
    assert_eq!(parsed.identity(), identity.public());
    parsed.verify().unwrap();
    assert_eq!(
        bundle.verify_for_sealing(NOW, &[parsed], None),
        Err(KeyError::Revoked { revoked_at: NOW })
    );
}

#[test]
fn revocation_by_another_identity_or_forged_is_ignored() {
    let (_, key, bundle) = setup();
    let other = IdentityKey::generate(&mut os_rng());
    let foreign = Revocation::make(&other, key.key_id(), NOW);
    assert!(bundle.verify_for_sealing(NOW, &[foreign], None).is_ok());

    let (identity, _, _) = setup();
    let _ = identity;
    // A revocation claiming the bundle's identity but with a broken signature.
    let (identity2, key2, bundle2) = setup();
    let mut bytes = identity2.make_revocation(key2.key_id(), NOW).to_bytes();
    bytes[124] ^= 1;
    let forged = Revocation::from_bytes(&bytes).unwrap();
    assert_eq!(forged.verify(), Err(KeyError::BadSignature));
    assert!(bundle2.verify_for_sealing(NOW, &[forged], None).is_ok());
    // A revocation of a different key id does not matter.
    let unrelated = identity2.make_revocation(KeyId([9; 16]), NOW);
    assert!(bundle2.verify_for_sealing(NOW, &[unrelated], None).is_ok());
}

#[test]
fn wrong_key_id_bundle_refused() {
    let (identity, _, bundle) = setup();
    let mut bytes = bundle.to_bytes();
    bytes[37] ^= 0x80;
    let tampered = resign(&identity, bytes);
    assert_eq!(tampered.verify_signature(), Ok(()));
    assert_eq!(
        tampered.verify_for_sealing(NOW, &[], None),
        Err(KeyError::KeyIdMismatch)
    );
}

#[test]
fn badly_signed_bundle_refused() {
    let (_, _, bundle) = setup();
    for at in [5usize, 40, 60, 90, 100, 101, 130, 164] {
        let mut bytes = bundle.to_bytes();
        bytes[at] ^= 0x01;
        match KeyBundle::from_bytes(&bytes) {
            Ok(b) => assert_eq!(
                b.verify_for_sealing(NOW, &[], None),
                Err(KeyError::BadSignature),
                "flip at {at}"
            ),
            Err(e) => assert!(
                matches!(e, KeyError::InvalidIdentityKey | KeyError::InvalidDates),
                "flip at {at}: {e:?}"
            ),
        }
    }
    // Signed by another identity but claiming this one.
    let (identity, key, _) = setup();
    let other = IdentityKey::generate(&mut os_rng());
    let theirs = other
        .make_bundle(&key.recipient(), NOW - 10, NOW + YEAR)
        .unwrap();
    let mut bytes = theirs.to_bytes();
    bytes[5..37].copy_from_slice(&identity.public().to_bytes());
    let mixed = KeyBundle::from_bytes(&bytes).unwrap();
    assert_eq!(
        mixed.verify_for_sealing(NOW, &[], None),
        Err(KeyError::BadSignature)
    );
}

#[test]
fn unpinned_bundle_refused() {
    let (identity, _, bundle) = setup();
    let other = IdentityKey::generate(&mut os_rng()).public().fingerprint();
    let mine = identity.public().fingerprint();
    assert_eq!(
        bundle.verify_for_sealing(NOW, &[], Some(&[other])),
        Err(KeyError::NotPinned)
    );
    assert_eq!(
        bundle.verify_for_sealing(NOW, &[], Some(&[])),
        Err(KeyError::NotPinned)
    );
    assert!(
        bundle
            .verify_for_sealing(NOW, &[], Some(&[other, mine]))
            .is_ok()
    );
    // Pins as they come from a URL fragment.
    let pin = Fingerprint::parse(&mine.to_pin()).unwrap();
    assert!(bundle.verify_for_sealing(NOW, &[], Some(&[pin])).is_ok());
}

#[test]
fn low_order_bundle_refused() {
    let identity = IdentityKey::generate(&mut os_rng());
    // Known low-order points of Curve25519 (and non-canonical encodings).
    let mut points: Vec<[u8; 32]> = vec![[0u8; 32]];
    let mut one = [0u8; 32];
    one[0] = 1;
    points.push(one);
    points.push(
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
            .unwrap()
            .try_into()
            .unwrap(),
    );
    points.push(
        hex::decode("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")
            .unwrap()
            .try_into()
            .unwrap(),
    );
    points.push(
        hex::decode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
            .unwrap()
            .try_into()
            .unwrap(),
    );
    for p in points {
        let bundle = identity
            .make_bundle(&RecipientKey::new(p), NOW - 1, NOW + 1)
            .unwrap();
        assert_eq!(
            bundle.verify_for_sealing(NOW, &[], None),
            Err(KeyError::LowOrderKey)
        );
    }
}

#[test]
fn structural_errors_are_distinct() {
    let (_, _, bundle) = setup();
    let bytes = bundle.to_bytes();
    assert_eq!(
        KeyBundle::from_bytes(&bytes[..164]).err(),
        Some(KeyError::WrongLength {
            expected: 165,
            found: 164
        })
    );
    let mut b = bytes.clone();
    b[0] = b'X';
    assert_eq!(
        KeyBundle::from_bytes(&b).err(),
        Some(KeyError::BadMagic("key bundle"))
    );
    let mut b = bytes.clone();
    b[4] = 2;
    assert_eq!(
        KeyBundle::from_bytes(&b).err(),
        Some(KeyError::UnsupportedVersion(2))
    );
    let mut long = bytes.clone();
    long.push(0);
    assert!(KeyBundle::from_bytes(&long).is_err());
}

#[test]
fn fingerprint_forms() {
    let identity = IdentityKey::from_seed(&[1u8; 32]);
    let fp = identity.public().fingerprint();
    let display = fp.to_display();
    let groups: Vec<&str> = display.split(' ').collect();
    assert_eq!(groups.len(), 8);
    assert!(groups.iter().all(|g| g.len() == 4));
    assert_eq!(display.replace(' ', ""), fp.to_pin());
    assert_eq!(format!("{fp}"), display);
    assert_eq!(Fingerprint::parse(&display).unwrap(), fp);
    let sloppy = fp
        .to_pin()
        .to_lowercase()
        .replace('0', "o")
        .replace('1', "l");
    assert_eq!(Fingerprint::parse(&sloppy).unwrap(), fp);
    assert_eq!(Fingerprint::parse("ABC"), Err(KeyError::BadFingerprint));
    assert_eq!(
        Fingerprint::parse(&format!("{}U", &fp.to_pin()[..31])),
        Err(KeyError::BadFingerprint)
    );
    assert_eq!(
        Fingerprint::parse(&format!("{}0", fp.to_pin())),
        Err(KeyError::BadFingerprint)
    );
    // Independent check of §1.2.
    use sha2::Digest;
    let d = sha2::Sha256::new()
        .chain_update(b"meldpunt/v1/fingerprint")
        .chain_update(identity.public().to_bytes())
        .finalize();
    assert_eq!(fp.as_bytes()[..], d[..20]);
    assert_ne!(
        fp,
        IdentityKey::from_seed(&[2u8; 32]).public().fingerprint()
    );
}

#[test]
fn login_signature() {
    let identity = IdentityKey::generate(&mut os_rng());
    let challenge = [7u8; 32];
    let sig = identity.sign_login(&challenge);
    let public = IdentityPublicKey::from_bytes(&identity.public().to_bytes()).unwrap();
    public.verify_login(&challenge, &sig).unwrap();
    assert_eq!(
        public.verify_login(&[8u8; 32], &sig),
        Err(KeyError::BadSignature)
    );
    assert_eq!(
        public.verify_login(&challenge, &sig[..63]),
        Err(KeyError::BadSignature)
    );
    let other = IdentityKey::generate(&mut os_rng()).public();
    assert_eq!(
        other.verify_login(&challenge, &sig),
        Err(KeyError::BadSignature)
    );
    // Domain separation: a login signature is not a signature over the raw challenge.
    let seed = identity.to_seed();
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    use ed25519_dalek::Signer;
    let raw = sk.sign(&challenge).to_bytes();
    assert!(public.verify_login(&challenge, &raw).is_err());
}

#[test]
fn identity_key_seed_round_trip_and_weak_keys() {
    let identity = IdentityKey::generate(&mut os_rng());
    let again = IdentityKey::from_seed(&identity.to_seed());
    assert_eq!(again.public(), identity.public());
    assert_eq!(
        IdentityPublicKey::from_bytes(&[0u8; 31]),
        Err(KeyError::WrongLength {
            expected: 32,
            found: 31
        })
    );
    // The identity point (small order) is refused.
    let mut ident = [0u8; 32];
    ident[0] = 1;
    assert_eq!(
        IdentityPublicKey::from_bytes(&ident),
        Err(KeyError::InvalidIdentityKey)
    );
}

proptest! {
    #[test]
    fn bundle_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = KeyBundle::from_bytes(&bytes);
    }

    #[test]
    fn bundle_parser_on_bundle_sized_input(bytes in proptest::collection::vec(any::<u8>(), 165)) {
        let mut bytes = bytes;
        bytes[..5].copy_from_slice(b"MPKB\x01");
        if let Ok(b) = KeyBundle::from_bytes(&bytes) {
            prop_assert!(b.verify_for_sealing(0, &[], None).is_err());
        }
    }

    #[test]
    fn revocation_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Revocation::from_bytes(&bytes);
    }

    #[test]
    fn revocation_parser_on_sized_input(bytes in proptest::collection::vec(any::<u8>(), 125)) {
        let mut bytes = bytes;
        bytes[..5].copy_from_slice(b"MPRV\x01");
        if let Ok(r) = Revocation::from_bytes(&bytes) {
            prop_assert!(r.verify().is_err());
        }
    }

    #[test]
    fn fingerprint_parser_never_panics(s in "\\PC{0,80}") {
        let _ = Fingerprint::parse(&s);
    }

    #[test]
    fn fingerprint_round_trips(raw in proptest::array::uniform20(any::<u8>())) {
        let fp = Fingerprint::from_raw(raw);
        prop_assert_eq!(Fingerprint::parse(&fp.to_pin()).unwrap(), fp);
        prop_assert_eq!(Fingerprint::parse(&fp.to_display()).unwrap(), fp);
    }
}
