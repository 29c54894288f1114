//! An independent reading of `docs/protocol.md` §3, written from the text with the `hpke`
//! crate (not our HPKE) and the raw primitives: it opens envelopes that `meldpunt-crypto`
//! seals, and builds envelopes that `meldpunt-crypto` opens. If the spec and the code drift
//! apart, these tests fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::recipient::{DecryptionKey, KeyId};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HAead = hpke::aead::ChaCha20Poly1305;

const C: usize = 65536;

fn stanza_info(purpose: u8, org: &[u8], key_id: &[u8]) -> Vec<u8> {
    [
        b"meldpunt/v1/stanza".as_slice(),
        &[0x01, purpose, org.len() as u8],
        org,
        key_id,
    ]
    .concat()
}

fn padme(n: u64) -> u64 {
    if n <= 2 {
        return n;
    }
    let e = 63 - u64::from(n.leading_zeros());
    let s = 64 - u64::from(e.leading_zeros());
    let mask = (1u64 << (e - s)) - 1;
    (n + mask) & !mask
}

fn hkdf32(salt: Option<&[u8]>, ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, &mut out)
        .unwrap();
    out
}

fn nonce(i: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&i.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::from(n)
}

/// Opens per the spec with the secret key `sk` (32 bytes). Returns (purpose, org, plaintext).
fn reference_open(env: &[u8], sk: &[u8; 32]) -> Option<(u8, Vec<u8>, Vec<u8>)> {
    let tsk = <Kem as hpke::Kem>::PrivateKey::from_bytes(sk).ok()?;
    let pk = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*sk));
    let my_id = KeyId::derive(pk.as_bytes());
    if &env[..5] != b"MPEV\x01" {
        return None;
    }
    let purpose = env[5];
    let org_len = usize::from(env[6]);
    let org = env[7..7 + org_len].to_vec();
    let count = usize::from(env[7 + org_len]);
    let stanzas_at = 8 + org_len;
    let salt_at = stanzas_at + 96 * count;
    let header_len = salt_at + 16 + 32;
    let header = &env[..header_len];
    let mut ck = None;
    for s in header[stanzas_at..salt_at].chunks(96) {
        if s[..16] != my_id.as_bytes()[..] {
            continue;
        }
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&s[16..48]).ok()?;
        let info = stanza_info(purpose, &org, &s[..16]);
        let Ok(k) = hpke::single_shot_open::<HAead, Kdf, Kem>(
            &OpModeR::Base,
            &tsk,
            &enc,
            &info,
            &s[48..],
            b"",
        ) else {
            continue;
        };
        let mac_key = hkdf32(None, &k, b"meldpunt/v1/header-mac");
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&mac_key).unwrap();
        mac.update(&header[..header_len - 32]);
        if mac.verify_slice(&header[header_len - 32..]).is_ok() {
            ck = Some(k);
            break;
        }
    }
    let ck = ck?;
    let key = hkdf32(Some(&Sha256::digest(header)), &ck, b"meldpunt/v1/payload");
    let aead = ChaCha20Poly1305::new(&Key::from(key));
    let payload = &env[header_len..];
    let chunks: Vec<&[u8]> = payload.chunks(C + 16).collect();
    let mut padded = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        padded.extend(
            aead.decrypt(&nonce(i as u64, last), Payload { msg: c, aad: b"" })
                .ok()?,
        );
    }
    let marker = padded.iter().rposition(|&b| b != 0)?;
    if padded[marker] != 0x80 || padme(marker as u64 + 1).max(1024) != padded.len() as u64 {
        return None;
    }
    padded.truncate(marker);
    Some((purpose, org, padded))
}

/// Seals per the spec to the X25519 public keys `pks`.
fn reference_seal(
    rng: &mut StdRng,
    purpose: u8,
    org: &[u8],
    pks: &[[u8; 32]],
    pt: &[u8],
) -> Vec<u8> {
    use rand::Rng;
    let mut ck = [0u8; 32];
    rng.fill_bytes(&mut ck);
    let mut header = [
        b"MPEV\x01".as_slice(),
        &[purpose, org.len() as u8],
        org,
        &[pks.len() as u8],
    ]
    .concat();
    for pk in pks {
        let id = KeyId::derive(pk);
        let tpk = <Kem as hpke::Kem>::PublicKey::from_bytes(pk).unwrap();
        let info = stanza_info(purpose, org, id.as_bytes());
        let (enc, wrapped) = hpke::single_shot_seal_with_rng::<HAead, Kdf, Kem>(
            &OpModeS::Base,
            &tpk,
            &info,
            &ck,
            b"",
            rng,
        )
        .unwrap();
        header.extend_from_slice(id.as_bytes());
        header.extend_from_slice(&enc.to_bytes());
        header.extend_from_slice(&wrapped);
    }
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    header.extend_from_slice(&salt);
    let mac_key = hkdf32(None, &ck, b"meldpunt/v1/header-mac");
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&mac_key).unwrap();
    mac.update(&header);
    header.extend_from_slice(&mac.finalize().into_bytes());

    let key = hkdf32(Some(&Sha256::digest(&header)), &ck, b"meldpunt/v1/payload");
    let aead = ChaCha20Poly1305::new(&Key::from(key));
    let p = padme(pt.len() as u64 + 1).max(1024) as usize;
    let mut padded = pt.to_vec();
    padded.push(0x80);
    padded.resize(p, 0);
    let chunks: Vec<&[u8]> = padded.chunks(C).collect();
    let mut env = header;
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        env.extend(
            aead.encrypt(&nonce(i as u64, last), Payload { msg: c, aad: b"" })
                .unwrap(),
        );
    }
    env
}

#[test]
fn reference_reader_opens_what_we_seal() {
    let mut rng = StdRng::seed_from_u64(1);
    let keys: Vec<DecryptionKey> = (0..3).map(|_| DecryptionKey::generate(&mut rng)).collect();
    let rs: Vec<_> = keys.iter().map(DecryptionKey::recipient).collect();
    for len in [0usize, 1, 1023, 1024, C - 1, C, C + 1, 3 * C + 7] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
        let env = envelope::seal(&mut rng, Purpose::Attachment, "org-x", &rs, &pt).unwrap();
        let mut streamed = Vec::new();
        envelope::seal_stream(
            &mut rng,
            Purpose::Attachment,
            "org-x",
            &rs,
            &pt[..],
            &mut streamed,
        )
        .unwrap();
        for e in [&env, &streamed] {
            for k in &keys {
                let (purpose, org, got) = reference_open(e, &k.to_bytes()).expect("reference open");
                assert_eq!(
                    (purpose, org.as_slice(), got.as_slice()),
                    (0x03, &b"org-x"[..], pt.as_slice())
                );
            }
        }
    }
}

#[test]
fn we_open_what_the_reference_seals() {
    let mut rng = StdRng::seed_from_u64(2);
    let keys: Vec<DecryptionKey> = (0..2).map(|_| DecryptionKey::generate(&mut rng)).collect();
    let pks: Vec<[u8; 32]> = keys.iter().map(|k| *k.recipient().public_bytes()).collect();
    for len in [0usize, 5, C - 1, C, 2 * C + 3] {
        let pt: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let env = reference_seal(&mut rng, 0x01, b"acme", &pks, &pt);
        for k in &keys {
            let opened = envelope::open(&env, &[k], &[]).unwrap();
            assert_eq!(
                (opened.purpose, opened.org.as_str()),
                (Purpose::Report, "acme")
            );
            assert_eq!(opened.plaintext.as_slice(), pt.as_slice());
            let mut out = Vec::new();
            envelope::open_stream(&env[..], &[k], &[], &mut out).unwrap();
            assert_eq!(out, pt);
        }
    }
}
