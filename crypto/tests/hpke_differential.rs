//! Differential tests against the independent `hpke` crate (0.15) on random inputs, in both
//! directions, including exports; and rejection of low-order public keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use meldpunt_crypto::hpke as ours;
use proptest::prelude::*;
use x25519_dalek::{PublicKey, StaticSecret};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

fn their_keys(
    ikm: &[u8],
) -> (
    <Kem as hpke::Kem>::PrivateKey,
    <Kem as hpke::Kem>::PublicKey,
) {
    Kem::derive_keypair(ikm)
}

fn clamp(mut sk: [u8; 32]) -> [u8; 32] {
    sk[0] &= 248;
    sk[31] &= 127;
    sk[31] |= 64;
    sk
}

fn rng_from(seed: u64) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// The inputs of one session in both directions: `ikm`, `info`, messages `(aad, plaintext)`,
/// an exporter context and length, and the sender's RNG seed.
type Session = (Vec<u8>, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>, Vec<u8>, usize, u64);

fn session() -> impl Strategy<Value = Session> {
    use proptest::collection::vec;
    (
        vec(any::<u8>(), 32..33),
        vec(any::<u8>(), 0..100),
        vec((vec(any::<u8>(), 0..40), vec(any::<u8>(), 0..300)), 1..5),
        vec(any::<u8>(), 0..40),
        0usize..200,
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn derive_key_pair_agrees(ikm in proptest::collection::vec(any::<u8>(), 0..80)) {
        let (sk, pk) = ours::derive_key_pair(&ikm);
        let (tsk, tpk) = their_keys(&ikm);
        // The `hpke` crate stores the clamped scalar; the RFC's `sk` is the unclamped output.
        prop_assert_eq!(clamp(sk.to_bytes()).to_vec(), tsk.to_bytes().to_vec());
        prop_assert_eq!(pk.to_bytes().to_vec(), tpk.to_bytes().to_vec());
    }

    #[test]
    fn ours_seal_theirs_open(
        (ikm, info, msgs, exporter_ctx, export_len, seed) in session(),
    ) {
        let (sk_r, pk_r) = ours::derive_key_pair(&ikm);
        let (tsk, _) = their_keys(&ikm);
        let (enc, mut s) = ours::setup_base_s(&mut rng_from(seed), &pk_r, &info).unwrap();
        let tenc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc).unwrap();
        let mut r = hpke::setup_receiver::<Aead, Kdf, Kem>(&OpModeR::Base, &tsk, &tenc, &info).unwrap();
        for (aad, pt) in &msgs {
            let ct = s.seal(aad, pt).unwrap();
            prop_assert_eq!(r.open(&ct, aad).unwrap(), pt.clone());
        }
        let mut theirs = vec![0u8; export_len];
        r.export(&exporter_ctx, &mut theirs).unwrap();
        prop_assert_eq!(s.export(&exporter_ctx, export_len).unwrap().to_vec(), theirs);
        drop(sk_r);
    }

    #[test]
    fn theirs_seal_ours_open(
        (ikm, info, msgs, exporter_ctx, export_len, seed) in session(),
    ) {
        let (sk_r, _) = ours::derive_key_pair(&ikm);
        let (_, tpk) = their_keys(&ikm);
        let (tenc, mut s) = hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(&OpModeS::Base, &tpk, &info, &mut rng_from(seed)).unwrap();
        let enc: [u8; 32] = tenc.to_bytes().as_slice().try_into().unwrap();
        let mut r = ours::setup_base_r(&enc, &sk_r, &info).unwrap();
        for (aad, pt) in &msgs {
            let ct = s.seal(pt, aad).unwrap();
            prop_assert_eq!(r.open(aad, &ct).unwrap().to_vec(), pt.clone());
        }
        let mut theirs = vec![0u8; export_len];
        s.export(&exporter_ctx, &mut theirs).unwrap();
        prop_assert_eq!(r.export(&exporter_ctx, export_len).unwrap().to_vec(), theirs);
    }

    #[test]
    fn single_shot_both_ways(
        ikm in proptest::collection::vec(any::<u8>(), 32..33),
        info in proptest::collection::vec(any::<u8>(), 0..64),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        pt in proptest::collection::vec(any::<u8>(), 0..1000),
        seed in any::<u64>(),
    ) {
        let (sk_r, pk_r) = ours::derive_key_pair(&ikm);
        let (tsk, tpk) = their_keys(&ikm);
        let (enc, ct) = ours::seal(&mut rng_from(seed), &pk_r, &info, &aad, &pt).unwrap();
        let tenc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc).unwrap();
        prop_assert_eq!(hpke::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, &tsk, &tenc, &info, &ct, &aad).unwrap(), pt.clone());

        let (tenc, tct) = hpke::single_shot_seal_with_rng::<Aead, Kdf, Kem>(&OpModeS::Base, &tpk, &info, &pt, &aad, &mut rng_from(seed ^ 1)).unwrap();
        let enc: [u8; 32] = tenc.to_bytes().as_slice().try_into().unwrap();
        prop_assert_eq!(ours::open(&enc, &sk_r, &info, &aad, &tct).unwrap().to_vec(), pt);
    }
}

/// Low-order points of Curve25519 (Montgomery u-coordinates), including the non-canonical
/// encodings that reduce to them. Every X25519 output with them is all zero.
fn low_order_points() -> Vec<[u8; 32]> {
    let hex_points = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    hex_points
        .iter()
        .map(|h| hex::decode(h).unwrap().try_into().unwrap())
        .collect()
}

#[test]
fn low_order_public_key_is_rejected_by_sender() {
    let mut rng = rng_from(7);
    for p in low_order_points() {
        let pk = PublicKey::from(p);
        assert_eq!(
            ours::setup_base_s(&mut rng, &pk, b"info").err(),
            Some(ours::HpkeError::ZeroSharedSecret),
            "{p:02x?}"
        );
        assert!(ours::seal(&mut rng, &pk, b"", b"", b"x").is_err());
        let sk_e = StaticSecret::from([0x11; 32]);
        assert_eq!(
            ours::encap_deterministic(&pk, &sk_e).err(),
            Some(ours::HpkeError::ZeroSharedSecret)
        );
    }
}

#[test]
fn low_order_enc_is_rejected_by_receiver() {
    let (sk_r, _) = ours::derive_key_pair(b"recipient");
    for p in low_order_points() {
        assert_eq!(
            ours::setup_base_r(&p, &sk_r, b"info").err(),
            Some(ours::HpkeError::ZeroSharedSecret)
        );
        assert_eq!(
            ours::decap(&p, &sk_r).err(),
            Some(ours::HpkeError::ZeroSharedSecret)
        );
    }
}

#[test]
fn the_reference_also_rejects_the_zero_point() {
    // Sanity check that both implementations agree on this input.
    let zero = <Kem as hpke::Kem>::PublicKey::from_bytes(&[0u8; 32]).unwrap();
    assert!(
        hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(
            &OpModeS::Base,
            &zero,
            b"info",
            &mut rng_from(1)
        )
        .is_err()
    );
}

#[test]
fn tampered_ciphertext_and_wrong_info_fail() {
    let (sk_r, pk_r) = ours::derive_key_pair(b"k");
    let (enc, ct) = ours::seal(&mut rng_from(3), &pk_r, b"info", b"aad", b"hello").unwrap();
    assert!(ours::open(&enc, &sk_r, b"info", b"aad", &ct).is_ok());
    assert!(ours::open(&enc, &sk_r, b"other", b"aad", &ct).is_err());
    assert!(ours::open(&enc, &sk_r, b"info", b"aad", &ct[..15]).is_err());
    for i in 0..ct.len() * 8 {
        let mut bad = ct.clone();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(ours::open(&enc, &sk_r, b"info", b"aad", &bad).is_err());
    }
}
