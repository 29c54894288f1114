//! Chunk-level parallelism for the payload (`docs/protocol.md` §3.4).
//!
//! Every chunk is an independent AEAD call keyed by its counter nonce, so chunks can be sealed
//! or opened on several threads and the bytes on the wire do not change. Native targets use
//! `std::thread::scope`; `wasm32` always runs on the calling thread.

use super::error::EnvelopeError;

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
mod tests {
    use crate::envelope::format::CHUNK_LEN;

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
