//! RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, base
//! mode. Every value in `tests/data/rfc9180-a2-base-x25519-sha256-chacha20poly1305.json` is
//! reproduced, one test per category.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use meldpunt_crypto::hpke;
use serde_json::Value;
use x25519_dalek::{PublicKey, StaticSecret};

const VECTORS: &str = include_str!("data/rfc9180-a2-base-x25519-sha256-chacha20poly1305.json");

fn v() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn hx(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("missing {field}")),
    )
    .unwrap()
}

fn arr32(v: &Value, field: &str) -> [u8; 32] {
    hx(v, field).try_into().unwrap()
}

/// The recipient's key pair and the sender/receiver contexts from the vector's fixed ephemeral
/// key.
fn contexts(v: &Value) -> (hpke::SenderContext, hpke::ReceiverContext) {
    let info = hx(v, "info");
    let sk_e = StaticSecret::from(arr32(v, "skEm"));
    let sk_r = StaticSecret::from(arr32(v, "skRm"));
    let pk_r = PublicKey::from(arr32(v, "pkRm"));
    let (enc, sender) = hpke::setup_base_s_deterministic(&pk_r, &sk_e, &info).unwrap();
    assert_eq!(enc.to_vec(), hx(v, "enc"));
    let receiver = hpke::setup_base_r(&enc, &sk_r, &info).unwrap();
    (sender, receiver)
}

#[test]
fn suite_ids_match() {
    let v = v();
    assert_eq!(v["mode"], 0);
    assert_eq!(v["kem_id"].as_u64(), Some(u64::from(hpke::KEM_ID)));
    assert_eq!(v["kdf_id"].as_u64(), Some(u64::from(hpke::KDF_ID)));
    assert_eq!(v["aead_id"].as_u64(), Some(u64::from(hpke::AEAD_ID)));
}

#[test]
fn derive_key_pair_matches() {
    let v = v();
    for (ikm, sk, pk) in [("ikmE", "skEm", "pkEm"), ("ikmR", "skRm", "pkRm")] {
        let (secret, public) = hpke::derive_key_pair(&hx(&v, ikm));
        assert_eq!(secret.to_bytes().to_vec(), hx(&v, sk), "{sk}");
        assert_eq!(public.to_bytes().to_vec(), hx(&v, pk), "{pk}");
    }
}

#[test]
fn encap_and_decap_match() {
    let v = v();
    let sk_e = StaticSecret::from(arr32(&v, "skEm"));
    let pk_r = PublicKey::from(arr32(&v, "pkRm"));
    let (enc, shared) = hpke::encap_deterministic(&pk_r, &sk_e).unwrap();
    assert_eq!(enc.to_vec(), hx(&v, "enc"));
    assert_eq!(shared.as_bytes().to_vec(), hx(&v, "shared_secret"));

    let sk_r = StaticSecret::from(arr32(&v, "skRm"));
    let shared_r = hpke::decap(&enc, &sk_r).unwrap();
    assert_eq!(shared_r.as_bytes().to_vec(), hx(&v, "shared_secret"));
}

#[test]
fn key_schedule_matches() {
    let v = v();
    let (s, r) = contexts(&v);
    for (key, nonce, exp) in [
        (s.key(), s.base_nonce().as_slice(), s.exporter_secret()),
        (r.key(), r.base_nonce().as_slice(), r.exporter_secret()),
    ] {
        assert_eq!(key.to_vec(), hx(&v, "key"));
        assert_eq!(nonce.to_vec(), hx(&v, "base_nonce"));
        assert_eq!(exp.to_vec(), hx(&v, "exporter_secret"));
    }
}

#[test]
fn all_encryptions_match() {
    let v = v();
    let (mut s, mut r) = contexts(&v);
    let encryptions = v["encryptions"].as_array().unwrap();
    assert_eq!(encryptions.len(), 6);
    let last = encryptions
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .max()
        .unwrap();
    let mut checked = 0;
    for seq in 0..=last {
        assert_eq!(s.sequence_number(), seq);
        assert_eq!(r.sequence_number(), seq);
        let vector = encryptions
            .iter()
            .find(|e| e["sequence_number"].as_u64() == Some(seq));
        let (aad, pt) = match vector {
            Some(e) => (hx(e, "aad"), hx(e, "pt")),
            None => (format!("Count-{seq}").into_bytes(), b"filler".to_vec()),
        };
        let nonce = s.current_nonce();
        assert_eq!(nonce, r.current_nonce());
        let ct = s.seal(&aad, &pt).unwrap();
        if let Some(e) = vector {
            assert_eq!(nonce.to_vec(), hx(e, "nonce"), "nonce at seq {seq}");
            assert_eq!(ct, hx(e, "ct"), "ct at seq {seq}");
            checked += 1;
        }
        // A wrong aad does not open and does not advance the receiver.
        assert_eq!(
            r.open(b"wrong", &ct).err(),
            Some(hpke::HpkeError::OpenError)
        );
        assert_eq!(r.open(&aad, &ct).unwrap().as_slice(), pt.as_slice());
    }
    assert_eq!(checked, 6);
}

#[test]
fn all_exports_match() {
    let v = v();
    let (s, r) = contexts(&v);
    let exports = v["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 3);
    for e in exports {
        let ctx = hx(e, "exporter_context");
        let len = usize::try_from(e["L"].as_u64().unwrap()).unwrap();
        let want = hx(e, "exported_value");
        assert_eq!(s.export(&ctx, len).unwrap().as_slice(), want.as_slice());
        assert_eq!(r.export(&ctx, len).unwrap().as_slice(), want.as_slice());
        let mut out = vec![0u8; len];
        r.export_into(&ctx, &mut out).unwrap();
        assert_eq!(out, want);
    }
}

#[test]
fn single_shot_open_of_first_vector() {
    let v = v();
    let e = &v["encryptions"][0];
    let sk_r = StaticSecret::from(arr32(&v, "skRm"));
    let pt = hpke::open(
        &arr32(&v, "enc"),
        &sk_r,
        &hx(&v, "info"),
        &hx(e, "aad"),
        &hx(e, "ct"),
    )
    .unwrap();
    assert_eq!(pt.as_slice(), hx(e, "pt").as_slice());
}
