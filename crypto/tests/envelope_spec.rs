//! An independent reading of `docs/protocol.md` §3, written from the text with the `hpke`
//! crate (not our HPKE) and the raw primitives: it opens envelopes that `meldpunt-crypto`
//! seals, and builds envelopes that `meldpunt-crypto` opens. The same for §5 and §10.1: a
//! membership statement (message kind 4) written byte by byte and signed with ed25519-dalek,
//! sealed by the reference writer, is opened and parsed by `meldpunt-crypto`, and one signed
//! and sealed by `meldpunt-crypto` is opened and read field by field here. If the spec and the
//! code drift apart, these tests fail.
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
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::message::{Message, MessageHash, MessageKind};
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

/// §10.1: `"MPMS" || 0x01 || op || identity_pk[32]`.
fn reference_statement(op: u8, identity: &[u8; 32]) -> Vec<u8> {
    [b"MPMS".as_slice(), &[0x01, op], identity].concat()
}

/// §5: a signed message, written from the byte layout.
fn reference_message(
    sk: &ed25519_dalek::SigningKey,
    kind: u8,
    parent: [u8; 32],
    created_at: i64,
    body: &[u8],
) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let mut m = vec![0x01, kind];
    m.extend_from_slice(&parent);
    m.extend_from_slice(&created_at.to_be_bytes());
    m.extend_from_slice(sk.verifying_key().as_bytes());
    m.extend_from_slice(&[0u8; 32]);
    m.extend_from_slice(&(body.len() as u32).to_be_bytes());
    m.extend_from_slice(body);
    let sig = sk.sign(&[b"meldpunt/v1/message".as_slice(), &[0x00], &m].concat());
    m.extend_from_slice(&sig.to_bytes());
    m
}

fn reference_msg_hash(m: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"meldpunt/v1/message-hash")
        .chain_update(m)
        .finalize()
        .into()
}

#[test]
fn membership_statement_written_from_the_spec_opens_and_parses() {
    let mut rng = StdRng::seed_from_u64(3);
    let advisor = DecryptionKey::generate(&mut rng);
    let pk = *advisor.recipient().public_bytes();
    let mut seed = [0u8; 32];
    rand::Rng::fill_bytes(&mut rng, &mut seed);
    let author = ed25519_dalek::SigningKey::from_bytes(&seed);
    let added = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let parent = [0x5au8; 32];
    for op in [0x01u8, 0x02] {
        let body = reference_statement(op, added.as_bytes());
        assert_eq!(body.len(), 38);
        let msg = reference_message(&author, 0x04, parent, 1_790_000_000, &body);
        let env = reference_seal(&mut rng, 0x02, b"acme", &[pk], &msg);
        let opened = envelope::open(&env, &[&advisor], &[]).unwrap();
        assert_eq!(
            (opened.purpose, opened.org.as_str()),
            (Purpose::Message, "acme")
        );
        let m = Message::from_bytes(&opened.plaintext).unwrap();
        assert_eq!(m.kind(), MessageKind::Membership);
        assert!(m.verify_signature());
        assert_eq!(m.author_bytes(), *author.verifying_key().as_bytes());
        assert_eq!(m.parent(), parent);
        assert_eq!(m.created_at(), 1_790_000_000);
        assert_eq!(m.body(), body.as_slice());
        assert_eq!(m.hash(), reference_msg_hash(&msg));
    }
    // §5: a kind 4 message with a non-zero reply key is rejected.
    let body = reference_statement(0x01, added.as_bytes());
    let mut bad = reference_message(&author, 0x04, parent, 1, &body);
    bad[74] = 1;
    assert!(Message::from_bytes(&bad).is_err());
}

#[test]
fn membership_statement_we_sign_reads_as_the_spec_says() {
    use ed25519_dalek::Verifier;
    let mut rng = StdRng::seed_from_u64(4);
    let advisor = DecryptionKey::generate(&mut rng);
    let identity = IdentityKey::generate(&mut rng);
    let added = IdentityKey::generate(&mut rng).public();
    let parent: MessageHash = [0x11; 32];
    let body = [b"MPMS".as_slice(), &[0x01, 0x02], &added.to_bytes()].concat();
    let msg = Message::sign_membership(&identity, &parent, 1_800_000_000, &body).unwrap();
    let env = envelope::seal(
        &mut rng,
        Purpose::Message,
        "acme",
        &[advisor.recipient()],
        msg.as_bytes(),
    )
    .unwrap();
    let (purpose, org, m) = reference_open(&env, &advisor.to_bytes()).expect("reference open");
    assert_eq!((purpose, org.as_slice()), (0x02, &b"acme"[..]));
    // 0x01 || kind || parent[32] || created_at:i64 || author_pk[32] || reply_pk[32]
    // || body_len:u32 || body || signature[64]
    assert_eq!(m.len(), 110 + 38 + 64);
    assert_eq!(&m[..2], &[0x01, 0x04]);
    assert_eq!(&m[2..34], &[0x11; 32]);
    assert_eq!(
        i64::from_be_bytes(m[34..42].try_into().unwrap()),
        1_800_000_000
    );
    assert_eq!(&m[42..74], &identity.public().to_bytes());
    assert_eq!(&m[74..106], &[0u8; 32]);
    assert_eq!(u32::from_be_bytes(m[106..110].try_into().unwrap()), 38);
    assert_eq!(&m[110..148], body.as_slice());
    assert_eq!(&m[110..114], b"MPMS");
    assert_eq!((m[114], m[115]), (0x01, 0x02));
    assert_eq!(&m[116..148], &added.to_bytes());
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&m[42..74].try_into().unwrap()).unwrap();
    let sig = ed25519_dalek::Signature::from_bytes(&m[148..212].try_into().unwrap());
    vk.verify(
        &[b"meldpunt/v1/message".as_slice(), &[0x00], &m[..148]].concat(),
        &sig,
    )
    .unwrap();
    assert_eq!(reference_msg_hash(&m), msg.hash());
}

/// §3.3/§3.4 from the text: the payload of an `L`-byte plaintext is `P + 16 * ceil(P / C)`
/// with `P = max(1024, padme(L + 1))`, and no other length is the payload of any envelope.
/// Every length up to a little over three chunks is checked against that set.
#[test]
fn payload_lengths_are_exactly_those_of_padded_plaintexts() {
    let limit = 3 * (C as u64 + 16) + 5000;
    let mut possible = std::collections::BTreeSet::new();
    for l in 0..limit {
        let p = padme(l + 1).max(1024);
        let payload = p + 16 * p.div_ceil(C as u64);
        if payload > limit {
            break;
        }
        possible.insert(payload);
    }
    assert!(
        possible.contains(&1040),
        "the smallest payload is 1024 + 16"
    );
    for len in 0..=limit {
        assert_eq!(
            envelope::is_payload_len(len),
            possible.contains(&len),
            "payload length {len}"
        );
    }
    // Far out, where a sealed length is computed rather than enumerated.
    for l in [1u64 << 20, (1 << 30) + 7, 100 << 20] {
        let p = padme(l + 1).max(1024);
        let payload = p + 16 * p.div_ceil(C as u64);
        assert!(envelope::is_payload_len(payload), "{l}");
        assert!(!envelope::is_payload_len(payload - 1), "{l} - 1");
        assert!(!envelope::is_payload_len(payload + 1), "{l} + 1");
    }
    assert!(!envelope::is_payload_len(u64::MAX));
}
