//! Chunk-level parallelism for the payload (`docs/protocol.md` §3.4).
//!
//! Every chunk is an independent AEAD call keyed by its counter nonce, so chunks can be sealed
//! or opened on several threads and the bytes on the wire do not change. Native targets use
//! `std::thread::scope`; `wasm32` always runs on the calling thread.

use super::EnvelopeError;

/// Payloads (padded plaintext) below this size are processed on the calling thread: spawning
/// threads costs more than it saves.
pub(crate) const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// Upper bound on worker threads, whatever is asked for or available.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const MAX_THREADS: usize = 64;

/// The number of threads to use for a request of `requested` (`0` = one per available core).
/// Always 1 on `wasm32`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn resolve_threads(requested: usize) -> usize {
    use std::sync::OnceLock;
    // `available_parallelism` reads cgroup files on Linux: ask once.
    static AVAILABLE: OnceLock<usize> = OnceLock::new();
    let n = if requested == 0 {
        *AVAILABLE.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    } else {
        requested
    };
    n.clamp(1, MAX_THREADS)
}

/// The number of threads to use for a request of `requested`. Always 1 on `wasm32`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn resolve_threads(_requested: usize) -> usize {
    1
}

/// Threads for a buffer of `len` bytes in `stride`-byte chunks.
pub(crate) fn threads_for(requested: usize, len: usize, stride: usize) -> usize {
    if len < PARALLEL_MIN_BYTES {
        return 1;
    }
    resolve_threads(requested).min(len.div_ceil(stride.max(1)))
}

/// Calls `f(i, chunk)` for every `stride`-byte chunk of `buf` (the last may be shorter), on up
/// to `threads` threads (the calling thread included). Chunks are handed out one at a time, so
/// a thread that is descheduled on a busy machine does not hold up the others. Stops at the
/// first error and returns it.
pub(crate) fn for_each_chunk<F>(
    buf: &mut [u8],
    stride: usize,
    threads: usize,
    f: F,
) -> Result<(), EnvelopeError>
where
    F: Fn(usize, &mut [u8]) -> Result<(), EnvelopeError> + Sync,
{
    #[cfg(not(target_arch = "wasm32"))]
    if threads > 1 {
        return for_each_chunk_threaded(buf, stride, threads, &f);
    }
    let _ = threads;
    buf.chunks_mut(stride)
        .enumerate()
        .try_for_each(|(i, chunk)| f(i, chunk))
}

#[cfg(not(target_arch = "wasm32"))]
fn for_each_chunk_threaded<F>(
    buf: &mut [u8],
    stride: usize,
    threads: usize,
    f: &F,
) -> Result<(), EnvelopeError>
where
    F: Fn(usize, &mut [u8]) -> Result<(), EnvelopeError> + Sync,
{
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Mutex, PoisonError};

    let work = Mutex::new(buf.chunks_mut(stride).enumerate());
    let failed = AtomicBool::new(false);
    let worker = || -> Result<(), EnvelopeError> {
        while !failed.load(Ordering::Relaxed) {
            let next = work.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((i, chunk)) = next else {
                return Ok(());
            };
            if let Err(e) = f(i, chunk) {
                failed.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    };
    std::thread::scope(|s| {
        // If the OS refuses a thread, carry on with fewer.
        let handles: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(s, worker).ok())
            .collect();
        let mut result = worker();
        for handle in handles {
            let r = handle
                .join()
                .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
            result = result.and(r);
        }
        result
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
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

    #[test]
    fn thread_counts_resolve_sensibly() {
        assert_eq!(super::threads_for(8, 1 << 10, CHUNK_LEN), 1);
        assert_eq!(
            super::threads_for(8, super::PARALLEL_MIN_BYTES, CHUNK_LEN),
            4
        );
        assert_eq!(super::threads_for(1, 64 << 20, CHUNK_LEN), 1);
        assert!(super::threads_for(0, 64 << 20, CHUNK_LEN) >= 1);
        assert_eq!(super::resolve_threads(1000), super::MAX_THREADS);
    }
}
