//! Envelope throughput beside raw ChaCha20-Poly1305, in the same run.
//!
//! `cargo bench -p meldpunt-crypto --bench throughput` (results in `docs/performance.md`).
//!
//! - `raw_aead`: `ChaCha20Poly1305::encrypt_inout_detached` (the in-place detached encryption
//!   behind the deprecated `encrypt_in_place_detached`) over one preallocated buffer of the same
//!   size, in 64 KiB chunks: the ceiling for the envelope.
//! - `seal` / `open`: the in-memory API (`envelope::seal` / `envelope::open`), including the
//!   HPKE stanza, the output allocation and the padding.
//! - `seal_stream` / `open_stream`: the streaming API from a slice to `io::sink()`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::io;
use std::time::Duration;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meldpunt_crypto::envelope::{self, CHUNK_LEN, Purpose};
use meldpunt_crypto::recipient::DecryptionKey;
use rand::SeedableRng;
use rand::rngs::StdRng;

const SIZES: &[(usize, &str)] = &[(1 << 10, "1KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];

fn throughput(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(42);
    let key = DecryptionKey::generate(&mut rng);
    let recipients = [key.recipient()];
    let aead = ChaCha20Poly1305::new(&Key::from([7u8; 32]));

    for &(size, label) in SIZES {
        let mut group = c.benchmark_group(format!("crypto/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 64 << 20 {
            group
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(6));
        } else {
            group
                .sample_size(20)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
        }

        let plaintext = vec![0x5au8; size];
        let sealed = envelope::seal(
            &mut rng,
            Purpose::Attachment,
            "bench",
            &recipients,
            &plaintext,
        )
        .unwrap();

        let mut buf = plaintext.clone();
        group.bench_function(BenchmarkId::new("raw_aead", label), |b| {
            b.iter(|| {
                for (i, chunk) in buf.chunks_mut(CHUNK_LEN).enumerate() {
                    let mut nonce = [0u8; 12];
                    nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
                    let tag = aead
                        .encrypt_inout_detached(&Nonce::from(nonce), b"", chunk.into())
                        .unwrap();
                    black_box(tag);
                }
            });
        });

        group.bench_function(BenchmarkId::new("seal", label), |b| {
            b.iter(|| {
                black_box(
                    envelope::seal(
                        &mut rng,
                        Purpose::Attachment,
                        "bench",
                        &recipients,
                        black_box(&plaintext),
                    )
                    .unwrap(),
                )
            });
        });

        group.bench_function(BenchmarkId::new("open", label), |b| {
            b.iter(|| black_box(envelope::open(black_box(&sealed), &[&key], &[]).unwrap()));
        });

        group.bench_function(BenchmarkId::new("seal_stream", label), |b| {
            b.iter(|| {
                envelope::seal_stream(
                    &mut rng,
                    Purpose::Attachment,
                    "bench",
                    &recipients,
                    black_box(&plaintext[..]),
                    io::sink(),
                )
                .unwrap()
            });
        });

        group.bench_function(BenchmarkId::new("open_stream", label), |b| {
            b.iter(|| {
                envelope::open_stream(black_box(&sealed[..]), &[&key], &[], io::sink()).unwrap()
            });
        });

        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
