//! Envelope throughput beside raw ChaCha20-Poly1305, in the same run.
//!
//! `cargo bench -p meldpunt-crypto --bench throughput` (results in `docs/performance.md`).
//! Throughput counts plaintext bytes. For each size (1 KiB, 1 MiB, 64 MiB):
//!
//! - `raw_aead`: `ChaCha20Poly1305::encrypt_inout_detached` in place over one preallocated
//!   buffer of the size, in 64 KiB chunks, on one thread: the single-core ceiling.
//! - `seal_into` / `open_into`: the in-memory API with one reused output buffer, on every core
//!   (`threads = 0`); `*_1t` the same forced onto one thread (`*_with_threads(.., 1)`).
//! - `seal_stream` / `open_stream`: the streaming API from a slice into `io::sink()`, on every
//!   core; `*_1t` on one thread.
//! - `seal` / `open`: the allocating wrappers (a fresh output buffer each time, and for `open`
//!   the zeroizing drop of the plaintext), on every core.
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
use zeroize::Zeroizing;

const SIZES: &[(usize, &str)] = &[(1 << 10, "1KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];

/// Thread counts: `0` = one per available core, `1` = the calling thread only.
const THREADS: &[(usize, &str)] = &[(0, ""), (1, "_1t")];

fn throughput(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(42);
    let key = DecryptionKey::generate(&mut rng);
    let recipients = [key.recipient()];
    let aead = ChaCha20Poly1305::new(&Key::from([7u8; 32]));
    eprintln!(
        "available_parallelism = {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    for &(size, label) in SIZES {
        let mut group = c.benchmark_group(format!("crypto/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.sample_size(10);
        if size >= 64 << 20 {
            group
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3));
        } else {
            group
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(1));
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

        for &(threads, suffix) in THREADS {
            let mut out = Vec::new();
            group.bench_function(BenchmarkId::new(format!("seal_into{suffix}"), label), |b| {
                b.iter(|| {
                    envelope::seal_into_with_threads(
                        &mut rng,
                        Purpose::Attachment,
                        "bench",
                        &recipients,
                        black_box(&plaintext),
                        &mut out,
                        threads,
                    )
                    .unwrap();
                    black_box(out.as_slice());
                });
            });

            let mut opened = Zeroizing::new(Vec::new());
            group.bench_function(BenchmarkId::new(format!("open_into{suffix}"), label), |b| {
                b.iter(|| {
                    black_box(
                        envelope::open_into_with_threads(
                            black_box(&sealed),
                            &[&key],
                            &[],
                            &mut opened,
                            threads,
                        )
                        .unwrap(),
                    )
                });
            });

            group.bench_function(
                BenchmarkId::new(format!("seal_stream{suffix}"), label),
                |b| {
                    b.iter(|| {
                        envelope::seal_stream_with_threads(
                            &mut rng,
                            Purpose::Attachment,
                            "bench",
                            &recipients,
                            black_box(&plaintext[..]),
                            io::sink(),
                            threads,
                        )
                        .unwrap()
                    });
                },
            );

            group.bench_function(
                BenchmarkId::new(format!("open_stream{suffix}"), label),
                |b| {
                    b.iter(|| {
                        envelope::open_stream_with_threads(
                            black_box(&sealed[..]),
                            &[&key],
                            &[],
                            io::sink(),
                            threads,
                        )
                        .unwrap()
                    });
                },
            );
        }

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

        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
