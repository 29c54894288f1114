//! Envelope v1 (`docs/protocol.md` §3): round trips through every API, tamper detection,
//! detached stanzas, robustness on arbitrary input, and Padmé properties.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use meldpunt_crypto::envelope::{
    self, CHUNK_LEN, Decryptor, ENCRYPTED_CHUNK_LEN, Encryptor, EnvelopeError, Header,
    MAX_HEADER_LEN, Purpose, STANZA_LEN, padded_len, padme,
};
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};
use meldpunt_crypto::rng::Rng;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const ORG: &str = "acme-bv";

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn keys(rng: &mut StdRng, n: usize) -> Vec<DecryptionKey> {
    (0..n).map(|_| DecryptionKey::generate(rng)).collect()
}

fn recipients(keys: &[DecryptionKey]) -> Vec<RecipientKey> {
    keys.iter().map(DecryptionKey::recipient).collect()
}

fn random_bytes(rng: &mut StdRng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill_bytes(&mut v);
    v
}

/// One key, `len` random bytes from the RNG seeded with `seed`, and their envelope to it.
fn one_key_random(seed: u64, len: usize) -> (Vec<DecryptionKey>, Vec<u8>, Vec<u8>) {
    let mut rng = rng(seed);
    let ks = keys(&mut rng, 1);
    let pt = random_bytes(&mut rng, len);
    let env = seal_small(&mut rng, &recipients(&ks), &pt);
    (ks, pt, env)
}

/// `env` with bit `bit` (counted from its start) flipped.
fn flip_bit(env: &[u8], bit: usize) -> Vec<u8> {
    let mut bad = env.to_vec();
    bad[bit / 8] ^= 1 << (bit % 8);
    bad
}

fn seal_small(rng: &mut StdRng, r: &[RecipientKey], pt: &[u8]) -> Vec<u8> {
    envelope::seal(rng, Purpose::Message, ORG, r, pt).unwrap()
}

fn seal_streaming(rng: &mut StdRng, r: &[RecipientKey], pt: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let written = envelope::seal_stream(rng, Purpose::Message, ORG, r, pt, &mut out).unwrap();
    assert_eq!(written, out.len() as u64);
    out
}

fn seal_push(rng: &mut StdRng, r: &[RecipientKey], pt: &[u8], piece: usize) -> Vec<u8> {
    let (mut enc, mut out) = Encryptor::new(rng, Purpose::Message, ORG, r).unwrap();
    for p in pt.chunks(piece.max(1)) {
        enc.push(p, &mut out).unwrap();
    }
    assert_eq!(enc.finish(&mut out).unwrap(), pt.len() as u64);
    out
}

fn open_small(env: &[u8], k: &[&DecryptionKey], d: &[&[u8]]) -> Result<Vec<u8>, EnvelopeError> {
    envelope::open(env, k, d).map(|o| o.plaintext.to_vec())
}

fn open_streaming(env: &[u8], k: &[&DecryptionKey], d: &[&[u8]]) -> Result<Vec<u8>, EnvelopeError> {
    let mut out = Vec::new();
    let info = envelope::open_stream(env, k, d, &mut out)?;
    assert_eq!(info.plaintext_len, out.len() as u64);
    Ok(out)
}

fn open_push(
    env: &[u8],
    k: &[&DecryptionKey],
    d: &[&[u8]],
    piece: usize,
) -> Result<Vec<u8>, EnvelopeError> {
    let head = &env[..env.len().min(MAX_HEADER_LEN)];
    let (mut dec, header_len) = Decryptor::new(head, k, d)?;
    let mut out = Vec::new();
    for p in env[header_len..].chunks(piece.max(1)) {
        dec.push(p, &mut out)?;
    }
    let info = dec.finish(&mut out)?;
    assert_eq!(info.plaintext_len, out.len() as u64);
    Ok(out)
}

/// Every opening path must reject `env` for `key`.
fn assert_rejected(env: &[u8], key: &DecryptionKey, what: &str) {
    assert!(
        open_small(env, &[key], &[]).is_err(),
        "open accepted: {what}"
    );
    assert!(
        open_streaming(env, &[key], &[]).is_err(),
        "open_stream accepted: {what}"
    );
    assert!(
        open_push(env, &[key], &[], 10_000).is_err(),
        "Decryptor accepted: {what}"
    );
}

const SIZES: &[usize] = &[
    0,
    1,
    1023,
    1024,
    63_487,
    63_488, // padded to exactly one full chunk
    CHUNK_LEN - 1,
    CHUNK_LEN,
    CHUNK_LEN + 1,
    2 * CHUNK_LEN,
    10 * 1024 * 1024,
];

fn round_trip_all_apis(n_recipients: usize, seed: u64) {
    let mut rng = rng(seed);
    let ks = keys(&mut rng, n_recipients);
    let rs = recipients(&ks);
    for &size in SIZES {
        let pt = random_bytes(&mut rng, size);
        let sealed = [
            seal_small(&mut rng, &rs, &pt),
            seal_streaming(&mut rng, &rs, &pt),
            seal_push(&mut rng, &rs, &pt, 10_007),
        ];
        let expected_len = envelope::sealed_len(size as u64, ORG.len(), n_recipients).unwrap();
        for env in &sealed {
            assert_eq!(env.len() as u64, expected_len, "size {size}");
            for (i, k) in ks.iter().enumerate() {
                // Large envelopes: every recipient through the small API, the first through all.
                let opened = envelope::open(env, &[k], &[]).unwrap();
                assert_eq!(
                    opened.plaintext.as_slice(),
                    pt.as_slice(),
                    "size {size} recipient {i}"
                );
                assert_eq!(opened.key_id, k.key_id());
                assert_eq!(
                    (opened.purpose, opened.org.as_str(), opened.via_detached),
                    (Purpose::Message, ORG, false)
                );
                if i == 0 || size <= 2 * CHUNK_LEN {
                    assert_eq!(
                        open_streaming(env, &[k], &[]).unwrap(),
                        pt,
                        "size {size} recipient {i}"
                    );
                    assert_eq!(
                        open_push(env, &[k], &[], 65_599).unwrap(),
                        pt,
                        "size {size} recipient {i}"
                    );
                }
            }
        }
    }
}

#[test]
fn round_trips_one_recipient() {
    round_trip_all_apis(1, 1);
}

#[test]
fn round_trips_five_recipients() {
    round_trip_all_apis(5, 2);
}

#[test]
fn push_apis_with_tiny_and_odd_pieces() {
    let mut rng = rng(3);
    let ks = keys(&mut rng, 2);
    let rs = recipients(&ks);
    let pt = random_bytes(&mut rng, 3 * CHUNK_LEN + 5);
    for piece in [
        1usize,
        16,
        17,
        4097,
        CHUNK_LEN,
        ENCRYPTED_CHUNK_LEN,
        ENCRYPTED_CHUNK_LEN + 1,
        1 << 20,
    ] {
        let small = &pt[..if piece < 64 { 3000 } else { pt.len() }];
        let env = seal_push(&mut rng, &rs, small, piece);
        assert_eq!(
            open_push(&env, &[&ks[1]], &[], piece).unwrap(),
            small,
            "piece {piece}"
        );
    }
}

#[test]
fn plaintexts_that_look_like_padding_round_trip() {
    let mut rng = rng(4);
    let ks = keys(&mut rng, 1);
    let rs = recipients(&ks);
    let mut cases: Vec<Vec<u8>> = vec![
        vec![0u8; 200 * 1024],
        vec![0x80; 3],
        vec![0x80],
        vec![0],
        b"end\x80".to_vec(),
        b"end\x80\x00\x00".to_vec(),
    ];
    let mut long = vec![0u8; 3 * CHUNK_LEN];
    long.push(0x80);
    long.extend(vec![0u8; CHUNK_LEN + 3]);
    cases.push(long);
    let mut zero_tail = random_bytes(&mut rng, 1000);
    zero_tail.extend(vec![0u8; 2 * CHUNK_LEN]);
    cases.push(zero_tail);
    for pt in &cases {
        let env = seal_streaming(&mut rng, &rs, pt);
        assert_eq!(&open_small(&env, &[&ks[0]], &[]).unwrap(), pt);
        assert_eq!(&open_streaming(&env, &[&ks[0]], &[]).unwrap(), pt);
        assert_eq!(&open_push(&env, &[&ks[0]], &[], 1000).unwrap(), pt);
    }
}

#[test]
fn decryptor_releases_plaintext_progressively() {
    let (ks, pt, env) = one_key_random(5, 1 << 20);
    let (mut dec, header_len) = Decryptor::new(&env, &[&ks[0]], &[]).unwrap();
    let mut out = Vec::new();
    let mut released = Vec::new();
    for p in env[header_len..].chunks(100_000) {
        dec.push(p, &mut out).unwrap();
        released.push(out.len());
    }
    // Output follows input one chunk behind: no buffering of the whole envelope.
    assert!(released[0] > 0 && released.windows(2).all(|w| w[1] > w[0]));
    dec.finish(&mut out).unwrap();
    assert_eq!(out, pt);
}

#[test]
fn header_parse_and_accessors() {
    let mut rng = rng(6);
    let ks = keys(&mut rng, 3);
    let rs = recipients(&ks);
    let env = envelope::seal(&mut rng, Purpose::Attachment, ORG, &rs, b"x").unwrap();
    let (header, len) = Header::parse(&env).unwrap();
    assert_eq!(len, header.len());
    assert_eq!(header.purpose(), Purpose::Attachment);
    assert_eq!(header.org(), ORG);
    assert_eq!(
        header.stanza_key_ids().collect::<Vec<_>>(),
        rs.iter().map(RecipientKey::key_id).collect::<Vec<_>>()
    );
    assert_eq!(header.to_bytes(), env[..len]);
    assert_eq!(Header::parse(&env[..len]).unwrap(), (header.clone(), len));
    for cut in 0..len {
        assert!(
            matches!(Header::parse(&env[..cut]), Err(EnvelopeError::Truncated)),
            "cut {cut}"
        );
    }
    for p in [Purpose::Report, Purpose::Message, Purpose::Attachment] {
        assert_eq!(Purpose::from_byte(p.to_byte()), Some(p));
        let e = envelope::seal(&mut rng, p, "o", &rs[..1], b"").unwrap();
        assert_eq!(envelope::open(&e, &[&ks[0]], &[]).unwrap().purpose, p);
    }
}

#[test]
fn malformed_headers_get_distinct_errors() {
    let mut rng = rng(7);
    let ks = keys(&mut rng, 1);
    let env = seal_small(&mut rng, &recipients(&ks), b"x");
    let with = |i: usize, b: u8| {
        let mut e = env.clone();
        e[i] = b;
        envelope::open(&e, &[&ks[0]], &[]).unwrap_err()
    };
    assert!(matches!(with(0, b'X'), EnvelopeError::BadMagic));
    assert!(matches!(with(4, 2), EnvelopeError::UnsupportedVersion(2)));
    assert!(matches!(with(5, 0), EnvelopeError::BadPurpose(0)));
    assert!(matches!(with(5, 4), EnvelopeError::BadPurpose(4)));
    assert!(matches!(with(6, 0), EnvelopeError::BadOrg));
    assert!(matches!(with(6, 65), EnvelopeError::BadOrg));
    assert!(matches!(with(7, 0xff), EnvelopeError::BadOrg)); // not UTF-8
    let count_at = 7 + ORG.len();
    assert!(matches!(
        with(count_at, 0),
        EnvelopeError::BadStanzaCount(0)
    ));
    assert!(matches!(
        with(count_at, 33),
        EnvelopeError::BadStanzaCount(33)
    ));
    assert!(matches!(
        envelope::open(&[], &[&ks[0]], &[]),
        Err(EnvelopeError::Truncated)
    ));
}

#[test]
fn sealing_checks_recipients_and_org() {
    let mut rng = rng(8);
    let ks = keys(&mut rng, 33);
    let rs = recipients(&ks);
    let seal = |rng: &mut StdRng, org: &str, r: &[RecipientKey]| {
        envelope::seal(rng, Purpose::Report, org, r, b"x")
    };
    assert!(matches!(
        seal(&mut rng, ORG, &[]),
        Err(EnvelopeError::NoRecipients)
    ));
    assert!(matches!(
        seal(&mut rng, ORG, &rs),
        Err(EnvelopeError::TooManyRecipients)
    ));
    assert!(seal(&mut rng, ORG, &rs[..32]).is_ok());
    assert!(matches!(
        seal(&mut rng, ORG, &[rs[0], rs[1], rs[0]]),
        Err(EnvelopeError::DuplicateRecipient)
    ));
    assert!(matches!(
        seal(&mut rng, "", &rs[..1]),
        Err(EnvelopeError::BadOrg)
    ));
    assert!(matches!(
        seal(&mut rng, &"o".repeat(65), &rs[..1]),
        Err(EnvelopeError::BadOrg)
    ));
    assert!(seal(&mut rng, &"o".repeat(64), &rs[..1]).is_ok());
    let low_order = RecipientKey::new([0u8; 32]);
    assert!(matches!(
        seal(&mut rng, ORG, &[rs[0], low_order]),
        Err(EnvelopeError::InvalidRecipientKey)
    ));
    let mut sink = Vec::new();
    assert!(
        envelope::seal_stream(&mut rng, Purpose::Report, ORG, &[], &b"x"[..], &mut sink).is_err()
    );
    assert!(Encryptor::new(&mut rng, Purpose::Report, ORG, &rs).is_err());
}

#[test]
fn every_header_bit_flip_fails() {
    let mut rng = rng(9);
    let ks = keys(&mut rng, 2);
    let env = seal_small(&mut rng, &recipients(&ks), b"a short report");
    let (_, header_len) = Header::parse(&env).unwrap();
    for bit in 0..header_len * 8 {
        let bad = flip_bit(&env, bit);
        // Either key: a flip in the other recipient's stanza must also be caught.
        assert!(
            open_small(&bad, &[&ks[0]], &[]).is_err(),
            "header bit {bit}"
        );
        assert!(
            open_small(&bad, &[&ks[1]], &[]).is_err(),
            "header bit {bit}"
        );
    }
    // Streaming paths, on a sample of header bits.
    for bit in (0..header_len * 8).step_by(13) {
        let bad = flip_bit(&env, bit);
        assert_rejected(&bad, &ks[0], &format!("header bit {bit}"));
    }
}

#[test]
fn every_payload_bit_flip_of_a_small_envelope_fails() {
    let mut rng = rng(10);
    let ks = keys(&mut rng, 1);
    let env = seal_small(&mut rng, &recipients(&ks), b"payload");
    let (_, header_len) = Header::parse(&env).unwrap();
    for bit in header_len * 8..env.len() * 8 {
        let bad = flip_bit(&env, bit);
        assert!(
            open_small(&bad, &[&ks[0]], &[]).is_err(),
            "payload bit {bit}"
        );
    }
}

#[test]
fn chunk_bit_flips_fail() {
    let (ks, _, env) = one_key_random(11, 3 * CHUNK_LEN + 1234);
    let (_, header_len) = Header::parse(&env).unwrap();
    let payload_len = env.len() - header_len;
    let mut offsets = Vec::new();
    for start in (0..payload_len).step_by(ENCRYPTED_CHUNK_LEN) {
        let end = (start + ENCRYPTED_CHUNK_LEN).min(payload_len) - 1;
        offsets.extend([start, (start + end) / 2, end]);
    }
    assert_eq!(offsets.len(), 12);
    for off in offsets {
        for bit in 0..8 {
            let mut bad = env.clone();
            bad[header_len + off] ^= 1 << bit;
            assert_rejected(&bad, &ks[0], &format!("payload byte {off} bit {bit}"));
        }
    }
}

#[test]
fn chunk_removal_reordering_truncation_and_appending_fail() {
    let mut rng = rng(12);
    let ks = keys(&mut rng, 1);
    let pt = random_bytes(&mut rng, 3 * CHUNK_LEN + 99);
    let env = seal_small(&mut rng, &recipients(&ks), &pt);
    let (_, h) = Header::parse(&env).unwrap();
    let header = &env[..h];
    let chunks: Vec<&[u8]> = env[h..].chunks(ENCRYPTED_CHUNK_LEN).collect();
    assert_eq!(chunks.len(), 4);
    let join = |parts: &[&[u8]]| -> Vec<u8> {
        let mut v = header.to_vec();
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    };
    // Removing any one chunk.
    for i in 0..chunks.len() {
        let mut parts = chunks.clone();
        parts.remove(i);
        assert_rejected(&join(&parts), &ks[0], &format!("chunk {i} removed"));
    }
    // Swapping any two chunks.
    for i in 0..chunks.len() {
        for j in i + 1..chunks.len() {
            let mut parts = chunks.clone();
            parts.swap(i, j);
            assert_rejected(
                &join(&parts),
                &ks[0],
                &format!("chunks {i} and {j} swapped"),
            );
        }
    }
    // Truncating at every chunk boundary (including right after the header), and mid-chunk.
    for n in 0..chunks.len() {
        assert_rejected(
            &join(&chunks[..n]),
            &ks[0],
            &format!("truncated to {n} chunks"),
        );
    }
    for cut in [1usize, 15, 16, 17, 1000] {
        assert_rejected(&env[..env.len() - cut], &ks[0], &format!("{cut} bytes cut"));
    }
    // Appending bytes: one byte, a tag's worth, a duplicate of the last chunk, a whole chunk.
    for extra in [&[0u8][..], &[0u8; 16], &[0u8; 17], chunks[3], chunks[0]] {
        let mut bad = env.clone();
        bad.extend_from_slice(extra);
        assert_rejected(&bad, &ks[0], &format!("{} bytes appended", extra.len()));
    }
    // Dropping the last chunk's flag by re-using a full-size chunk: a single-chunk envelope
    // whose only chunk is full (63 488 bytes pad to exactly 64 KiB) followed by its copy.
    let full = seal_small(&mut rng, &recipients(&ks), &vec![7u8; 63_488]);
    assert_eq!(full.len() - h, ENCRYPTED_CHUNK_LEN);
    let mut doubled = full.clone();
    doubled.extend_from_slice(&full[h..]);
    assert_rejected(&doubled, &ks[0], "full last chunk repeated");
    assert_eq!(
        open_streaming(&full, &[&ks[0]], &[]).unwrap(),
        vec![7u8; 63_488]
    );
}

#[test]
fn wrong_keys_fail() {
    let mut rng = rng(13);
    let ks = keys(&mut rng, 3);
    let env = seal_small(&mut rng, &recipients(&ks[..2]), b"for two");
    assert_rejected(&env, &ks[2], "wrong key");
    assert!(matches!(
        envelope::open(&env, &[], &[]),
        Err(EnvelopeError::Decrypt)
    ));
    // A key with a matching key id but another secret is not possible to build; a stanza whose
    // key id we rewrite to ours is: the HPKE info then no longer matches, so it fails.
    let (header, _) = Header::parse(&env).unwrap();
    let mut forged = env.clone();
    let first_stanza = 7 + ORG.len() + 1;
    forged[first_stanza..first_stanza + 16].copy_from_slice(ks[2].key_id().as_bytes());
    assert_eq!(header.stanzas().len(), 2);
    assert_rejected(&forged, &ks[2], "stanza relabelled");
    // With a wrong key and a right key, the right one opens.
    let opened = envelope::open(&env, &[&ks[2], &ks[1]], &[]).unwrap();
    assert_eq!(opened.key_id, ks[1].key_id());
}

#[test]
fn stanza_swapped_between_envelopes_fails() {
    let mut rng = rng(14);
    let ks = keys(&mut rng, 1);
    let rs = recipients(&ks);
    let a = seal_small(&mut rng, &rs, b"envelope a");
    let b = seal_small(&mut rng, &rs, b"envelope b");
    let at = 7 + ORG.len() + 1;
    let mut mixed = a.clone();
    mixed[at..at + STANZA_LEN].copy_from_slice(&b[at..at + STANZA_LEN]);
    assert_rejected(&mixed, &ks[0], "stanza from another envelope");
}

#[test]
fn detached_stanzas_share_access() {
    let mut rng = rng(15);
    let ks = keys(&mut rng, 4);
    let (advisor, third, fourth, outsider) = (&ks[0], &ks[1], &ks[2], &ks[3]);
    let pt = random_bytes(&mut rng, CHUNK_LEN + 10);
    let env = envelope::seal(&mut rng, Purpose::Report, ORG, &[advisor.recipient()], &pt).unwrap();
    assert_rejected(&env, third, "no access before the re-wrap");

    let (_, h) = Header::parse(&env).unwrap();
    // From the whole envelope or from the header alone.
    let detached = envelope::rewrap(&env, &[advisor], &[], &third.recipient(), &mut rng).unwrap();
    let detached_h =
        envelope::rewrap(&env[..h], &[advisor], &[], &third.recipient(), &mut rng).unwrap();
    for d in [&detached[..], &detached_h[..]] {
        let opened = envelope::open(&env, &[third], &[d]).unwrap();
        assert_eq!(opened.plaintext.as_slice(), pt.as_slice());
        assert_eq!(
            (opened.key_id, opened.via_detached, opened.purpose),
            (third.key_id(), true, Purpose::Report)
        );
        assert_eq!(open_streaming(&env, &[third], &[d]).unwrap(), pt);
        assert_eq!(open_push(&env, &[third], &[d], 5000).unwrap(), pt);
    }
    // The header is unchanged, and the original recipient still opens it.
    assert!(
        !envelope::open(&env, &[advisor], &[&detached])
            .unwrap()
            .via_detached
    );
    // The third party can pass it on through their detached stanza.
    let onward =
        envelope::rewrap(&env, &[third], &[&detached], &fourth.recipient(), &mut rng).unwrap();
    assert_eq!(
        envelope::open(&env, &[fourth], &[&onward])
            .unwrap()
            .plaintext
            .as_slice(),
        pt.as_slice()
    );
    // Someone without access cannot re-wrap.
    assert!(envelope::rewrap(&env, &[outsider], &[], &outsider.recipient(), &mut rng).is_err());
    // A stanza for another key does not help the outsider.
    assert!(envelope::open(&env, &[outsider], &[&detached]).is_err());
}

#[test]
fn forged_detached_stanzas_do_not_open() {
    let mut rng = rng(16);
    let ks = keys(&mut rng, 2);
    let (advisor, third) = (&ks[0], &ks[1]);
    let env = envelope::seal(
        &mut rng,
        Purpose::Report,
        ORG,
        &[advisor.recipient()],
        b"case",
    )
    .unwrap();
    let other = envelope::seal(
        &mut rng,
        Purpose::Report,
        ORG,
        &[advisor.recipient()],
        b"other",
    )
    .unwrap();
    let good = envelope::rewrap(&env, &[advisor], &[], &third.recipient(), &mut rng).unwrap();

    let mut garbage = random_bytes(&mut rng, STANZA_LEN);
    let mut forged = vec![garbage.clone()];
    garbage[..16].copy_from_slice(third.key_id().as_bytes());
    forged.push(garbage);
    // A genuine detached stanza, but for another envelope.
    forged.push(
        envelope::rewrap(&other, &[advisor], &[], &third.recipient(), &mut rng)
            .unwrap()
            .to_vec(),
    );
    // A stanza for the right key made with another content key and the right info:
    // what a server could try. It fails the header MAC.
    let (_, h) = Header::parse(&env).unwrap();
    let mut fake_env =
        envelope::seal(&mut rng, Purpose::Report, ORG, &[third.recipient()], b"x").unwrap();
    fake_env.truncate(h);
    let at = 7 + ORG.len() + 1;
    forged.push(fake_env[at..at + STANZA_LEN].to_vec());
    // Wrong lengths are ignored.
    forged.push(good[..95].to_vec());
    forged.push([&good[..], &[0u8]].concat());
    for (i, f) in forged.iter().enumerate() {
        assert!(
            envelope::open(&env, &[third], &[f]).is_err(),
            "forged detached stanza {i}"
        );
        assert!(
            open_streaming(&env, &[third], &[f]).is_err(),
            "forged detached stanza {i}"
        );
    }
    // A forged stanza before the genuine one does not block it.
    let opened = envelope::open(&env, &[third], &[&forged[1], &good]).unwrap();
    assert_eq!(opened.plaintext.as_slice(), b"case");
    // Every bit of the genuine detached stanza matters.
    for bit in 0..STANZA_LEN * 8 {
        let mut bad = good;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            envelope::open(&env, &[third], &[&bad]).is_err(),
            "detached bit {bit}"
        );
    }
}

#[test]
fn opened_debug_hides_plaintext() {
    let mut rng = rng(17);
    let ks = keys(&mut rng, 1);
    let env = seal_small(&mut rng, &recipients(&ks), b"very secret words");
    let opened = envelope::open(&env, &[&ks[0]], &[]).unwrap();
    let shown = format!("{opened:?}");
    assert!(!shown.contains("secret") && shown.contains("plaintext_len: 17"));
}

// --- Padmé ---------------------------------------------------------------------------------

#[test]
fn padme_exhaustive_small() {
    let mut prev = 0;
    for len in 0..300_000u64 {
        let p = padded_len(len).unwrap();
        assert!(p > len && p >= 1024 && p >= prev, "len {len}");
        assert!(len < 1024 || (p - len) * 100 <= len * 12, "len {len}: {p}");
        assert_eq!(padme(p), Some(p), "padded sizes are fixed points");
        prev = p;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn padme_properties(len in 0u64..(1 << 60)) {
        let p = padded_len(len).unwrap();
        prop_assert!(p > len);
        prop_assert!(p >= 1024);
        prop_assert!(padded_len(len + 1).unwrap() >= p);
        prop_assert!(len < 1024 || (p - len) as u128 * 100 <= len as u128 * 12);
        prop_assert_eq!(padme(p), Some(p));
    }

    #[test]
    fn header_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        let _ = Header::parse(&bytes);
    }

    #[test]
    fn header_parse_of_plausible_bytes_never_panics(
        purpose in 0u8..5, org_len in 0u8..70, count in 0u8..35,
        rest in proptest::collection::vec(any::<u8>(), 0..4000),
    ) {
        let mut bytes = b"MPEV\x01".to_vec();
        bytes.extend([purpose, org_len]);
        bytes.extend(std::iter::repeat_n(b'a', usize::from(org_len)));
        bytes.push(count);
        bytes.extend(rest);
        if let Ok((h, n)) = Header::parse(&bytes) {
            prop_assert_eq!(h.to_bytes(), bytes[..n].to_vec());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn open_never_panics_on_arbitrary_or_mutated_input(
        junk in proptest::collection::vec(any::<u8>(), 0..3000),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        let ks = keys(&mut rng, 1);
        prop_assert!(envelope::open(&junk, &[&ks[0]], &[&junk]).is_err());
        prop_assert!(open_streaming(&junk, &[&ks[0]], &[&junk]).is_err());
        let mut env = seal_small(&mut rng, &recipients(&ks), &junk);
        for (at, x) in &flips {
            let i = at % env.len();
            env[i] ^= x;
        }
        env.truncate(env.len() - cut % 40);
        let intact = flips.iter().all(|(_, x)| *x == 0) && cut % 40 == 0;
        let a = envelope::open(&env, &[&ks[0]], &[]).map(|o| o.plaintext.to_vec());
        let b = open_streaming(&env, &[&ks[0]], &[]);
        let c = open_push(&env, &[&ks[0]], &[], 777);
        if intact {
            prop_assert_eq!(a.unwrap(), junk.clone());
        } else {
            prop_assert!(a.is_err() && b.is_err() && c.is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_arbitrary(
        len in 0usize..200 * 1024,
        zero_tail in 0usize..3000,
        n in 1usize..6,
        piece in 1usize..100_000,
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        let ks = keys(&mut rng, n);
        let rs = recipients(&ks);
        let mut pt = random_bytes(&mut rng, len);
        pt.extend(std::iter::repeat_n(0u8, zero_tail));
        let env = if seed % 2 == 0 { seal_small(&mut rng, &rs, &pt) } else { seal_push(&mut rng, &rs, &pt, piece) };
        let k = &ks[(seed as usize) % n];
        prop_assert_eq!(open_small(&env, &[k], &[]).unwrap(), pt.clone());
        prop_assert_eq!(open_streaming(&env, &[k], &[]).unwrap(), pt.clone());
        prop_assert_eq!(open_push(&env, &[k], &[], piece).unwrap(), pt);
    }
}
