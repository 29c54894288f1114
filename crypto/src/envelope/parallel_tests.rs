//! End-to-end tests of chunk-level parallelism (`parallel.rs`): every API and thread count
//! gives and opens the same bytes. Kept out of `parallel.rs` so that the module the envelope
//! uses does not import the envelope back.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use zeroize::Zeroizing;

use crate::envelope::{
    self, CHUNK_LEN, ENCRYPTED_CHUNK_LEN, Encryptor, EnvelopeError, Purpose, sealed_len,
};
use crate::recipient::DecryptionKey;
use crate::rng::Rng;

const ORG: &str = "acme";

/// Sizes around the chunk size, the parallel threshold and multi-chunk padding
/// (`padded_len(8 MiB)` ends in four chunks of padding only).
const SIZES: &[usize] = &[
    0,
    1,
    1023,
    CHUNK_LEN - 1,
    CHUNK_LEN,
    CHUNK_LEN + 1,
    4 * CHUNK_LEN - 1,
    4 * CHUNK_LEN,
    4 * CHUNK_LEN + 1,
    1 << 20,
    (1 << 20) + 17,
    8 << 20,
];

fn plaintext(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    StdRng::seed_from_u64(len as u64).fill_bytes(&mut v);
    v
}

#[test]
fn every_api_and_thread_count_gives_the_same_bytes() {
    let key = DecryptionKey::generate(&mut StdRng::seed_from_u64(1));
    let recipients = [key.recipient()];
    let mut reused = Vec::new();
    for &len in SIZES {
        let pt = plaintext(len);
        let rng = || StdRng::seed_from_u64(7);
        let reference =
            envelope::seal(&mut rng(), Purpose::Attachment, ORG, &recipients, &pt).unwrap();
        assert_eq!(
            reference.len() as u64,
            sealed_len(len as u64, ORG.len(), 1).unwrap()
        );
        for threads in [1, 2, 3, 8] {
            envelope::seal_into_with_threads(
                &mut rng(),
                Purpose::Attachment,
                ORG,
                &recipients,
                &pt,
                &mut reused,
                threads,
            )
            .unwrap();
            assert!(
                reused == reference,
                "seal_into, {len} bytes, {threads} threads"
            );
            let mut streamed = Vec::new();
            let n = envelope::seal_stream_with_threads(
                &mut rng(),
                Purpose::Attachment,
                ORG,
                &recipients,
                &pt[..],
                &mut streamed,
                threads,
            )
            .unwrap();
            assert_eq!(n, streamed.len() as u64);
            assert!(
                streamed == reference,
                "seal_stream, {len} bytes, {threads} threads"
            );
        }
        let (mut enc, mut pushed) =
            Encryptor::new(&mut rng(), Purpose::Attachment, ORG, &recipients).unwrap();
        enc.push(&pt, &mut pushed).unwrap();
        enc.finish(&mut pushed).unwrap();
        assert!(pushed == reference, "Encryptor, {len} bytes");
    }
}

#[test]
fn every_api_and_thread_count_opens() {
    let mut rng = StdRng::seed_from_u64(2);
    let key = DecryptionKey::generate(&mut rng);
    let recipients = [key.recipient()];
    // One buffer for every size: it grows and shrinks.
    let mut reused = Zeroizing::new(Vec::new());
    for &len in SIZES.iter().chain(SIZES.iter().rev()) {
        let pt = plaintext(len);
        let sealed = envelope::seal(&mut rng, Purpose::Message, ORG, &recipients, &pt).unwrap();
        assert!(
            envelope::open(&sealed, &[&key], &[])
                .unwrap()
                .plaintext
                .as_slice()
                == pt
        );
        for threads in [1, 2, 3, 8] {
            let info =
                envelope::open_into_with_threads(&sealed, &[&key], &[], &mut reused, threads)
                    .unwrap();
            assert_eq!(info.plaintext_len, len as u64);
            assert_eq!((info.purpose, info.org.as_str()), (Purpose::Message, ORG));
            assert!(
                reused.as_slice() == pt,
                "open_into, {len} bytes, {threads} threads"
            );
            let mut out = Vec::new();
            let info = envelope::open_stream_with_threads(
                &sealed[..],
                &[&key],
                &[],
                &mut out,
                threads,
            )
            .unwrap();
            assert_eq!(info.plaintext_len, len as u64);
            assert!(out == pt, "open_stream, {len} bytes, {threads} threads");
        }
    }
}

#[test]
fn damage_anywhere_fails_with_every_thread_count() {
    let mut rng = StdRng::seed_from_u64(3);
    let key = DecryptionKey::generate(&mut rng);
    let pt = plaintext(20 * CHUNK_LEN + 5);
    let sealed =
        envelope::seal(&mut rng, Purpose::Report, ORG, &[key.recipient()], &pt).unwrap();
    let (_, header_len) = envelope::Header::parse(&sealed).unwrap();
    // 21 chunks: padded_len(20 C + 5) = 20.5 C.
    assert_eq!(
        sealed.len() - header_len,
        20 * ENCRYPTED_CHUNK_LEN + CHUNK_LEN / 2 + 16
    );
    let mut damaged = Vec::new();
    for chunk in [0, 7, 19, 20] {
        let mut d = sealed.clone();
        d[header_len + chunk * ENCRYPTED_CHUNK_LEN + 100] ^= 1;
        damaged.push(d);
    }
    // Truncated at a chunk boundary, a chunk dropped, two chunks swapped, extended.
    damaged.push(sealed[..header_len + 20 * ENCRYPTED_CHUNK_LEN].to_vec());
    let mut dropped = sealed[..header_len + 3 * ENCRYPTED_CHUNK_LEN].to_vec();
    dropped.extend_from_slice(&sealed[header_len + 4 * ENCRYPTED_CHUNK_LEN..]);
    damaged.push(dropped);
    let mut swapped = sealed.clone();
    let (a, b) = (
        header_len + 2 * ENCRYPTED_CHUNK_LEN,
        header_len + 5 * ENCRYPTED_CHUNK_LEN,
    );
    let chunk_a = sealed[a..a + ENCRYPTED_CHUNK_LEN].to_vec();
    swapped.copy_within(b..b + ENCRYPTED_CHUNK_LEN, a);
    swapped[b..b + ENCRYPTED_CHUNK_LEN].copy_from_slice(&chunk_a);
    damaged.push(swapped);
    let mut extended = sealed.clone();
    extended.push(0);
    damaged.push(extended);

    for (n, d) in damaged.iter().enumerate() {
        for threads in [1, 2, 3] {
            let mut out = Zeroizing::new(vec![0xAA; 3]);
            assert!(matches!(
                envelope::open_into_with_threads(d, &[&key], &[], &mut out, threads),
                Err(EnvelopeError::Decrypt)
            ));
            assert!(out.is_empty(), "case {n}: open_into left plaintext behind");
            let mut out = Vec::new();
            assert!(matches!(
                envelope::open_stream_with_threads(&d[..], &[&key], &[], &mut out, threads),
                Err(EnvelopeError::Decrypt)
            ));
            // Only whole chunks before the damage were released, in order.
            assert!(
                pt.starts_with(&out),
                "case {n}: released bytes out of order"
            );
        }
    }
}
