//! The payload AEAD of the STREAM construction (`docs/protocol.md` §3.4) and the chunk engine
//! that runs it over a reader, on the calling thread or on worker threads.

use std::io::{ErrorKind, Read};

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use zeroize::Zeroizing;

use super::parallel::PARALLEL_MIN_BYTES;
use super::error::EnvelopeError;
use super::format::{CHUNK_LEN, TAG_LEN};
use super::key::{ContentKey, payload_key};

/// The payload AEAD, stateless: every call names its chunk counter, so chunks can be sealed
/// or opened in any order and on any thread.
pub(crate) struct ChunkAead(ChaCha20Poly1305);

/// `nonce_i = i as 11-byte big-endian || last_flag`.
fn nonce(counter: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    for (n, c) in nonce.iter_mut().skip(3).zip(counter.to_be_bytes()) {
        *n = c;
    }
    if let Some(flag) = nonce.last_mut() {
        *flag = u8::from(last);
    }
    Nonce::from(nonce)
}

impl ChunkAead {
    pub(crate) fn new(ck: &ContentKey, header_bytes: &[u8]) -> Self {
        let key = payload_key(ck, header_bytes);
        ChunkAead(ChaCha20Poly1305::new(&Key::from(*key)))
    }

    /// Encrypts chunk `index` from `buf`'s input to its output and returns the tag. The
    /// counter `u64::MAX` is refused (the stream would overflow after it).
    pub(crate) fn seal(
        &self,
        index: u64,
        last: bool,
        buf: InOutBuf<'_, '_, u8>,
    ) -> Result<[u8; TAG_LEN], EnvelopeError> {
        if index == u64::MAX {
            return Err(EnvelopeError::TooLarge);
        }
        let tag = self
            .0
            .encrypt_inout_detached(&nonce(index, last), b"", buf)
            .map_err(|_| EnvelopeError::TooLarge)?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_slice());
        Ok(out)
    }

    /// Authenticates and decrypts chunk `index` from `buf`'s input to its output. Nothing is
    /// written if the tag does not verify.
    pub(crate) fn open(
        &self,
        index: u64,
        last: bool,
        buf: InOutBuf<'_, '_, u8>,
        tag: &[u8],
    ) -> Result<(), EnvelopeError> {
        if index == u64::MAX {
            return Err(EnvelopeError::Decrypt);
        }
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| EnvelopeError::Decrypt)?;
        self.0
            .decrypt_inout_detached(&nonce(index, last), b"", buf, &Tag::from(tag))
            .map_err(|_| EnvelopeError::Decrypt)
    }

    /// `chunk` is a body followed by a `TAG_LEN`-byte slot: encrypts the body in place and
    /// writes the tag into the slot.
    pub(crate) fn seal_in_place(
        &self,
        index: u64,
        last: bool,
        chunk: &mut [u8],
    ) -> Result<(), EnvelopeError> {
        let (body, tag_slot) = split_tag(chunk).ok_or(EnvelopeError::TooLarge)?;
        let tag = self.seal(index, last, body.into())?;
        tag_slot.copy_from_slice(&tag);
        Ok(())
    }

    /// `chunk` is an encrypted chunk as on the wire (a non-empty body and its tag): decrypts
    /// the body in place.
    pub(crate) fn open_in_place(
        &self,
        index: u64,
        last: bool,
        chunk: &mut [u8],
    ) -> Result<(), EnvelopeError> {
        let (body, tag) = split_tag(chunk)
            .filter(|(body, _)| !body.is_empty())
            .ok_or(EnvelopeError::Decrypt)?;
        self.open(index, last, body.into(), tag)
    }
}

/// The payload AEAD with its chunk counter, for the push-style APIs.
pub(crate) struct PayloadCipher {
    aead: ChunkAead,
    counter: u64,
}

impl PayloadCipher {
    pub(crate) fn new(ck: &ContentKey, header_bytes: &[u8]) -> Self {
        PayloadCipher {
            aead: ChunkAead::new(ck, header_bytes),
            counter: 0,
        }
    }

    /// The counter would overflow after `u64::MAX` chunks (2^80 bytes): refuse before that.
    fn advance(&mut self) -> Result<(), EnvelopeError> {
        self.counter = self.counter.checked_add(1).ok_or(EnvelopeError::TooLarge)?;
        Ok(())
    }

    pub(crate) fn seal_chunk(
        &mut self,
        buf: &mut [u8],
        last: bool,
    ) -> Result<[u8; TAG_LEN], EnvelopeError> {
        let tag = self.aead.seal(self.counter, last, buf.into())?;
        self.advance()?;
        Ok(tag)
    }

    pub(crate) fn open_chunk(
        &mut self,
        buf: &mut [u8],
        tag: &[u8],
        last: bool,
    ) -> Result<(), EnvelopeError> {
        self.aead.open(self.counter, last, buf.into(), tag)?;
        self.advance().map_err(|_| EnvelopeError::Decrypt)
    }
}

/// Reads until `buf` is full or the reader is at its end; returns the bytes read.
pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, EnvelopeError> {
    let mut filled = 0;
    while let Some(spare) = buf.get_mut(filled..) {
        if spare.is_empty() {
            break;
        }
        match reader.read(spare) {
            Ok(0) => break,
            Ok(n) => filled += n.min(spare.len()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(EnvelopeError::Io(e)),
        }
    }
    Ok(filled)
}

// ---------------------------------------------------------------------------------------------
// Chunk engine for the streaming APIs
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    Seal,
    Open,
}

fn process_chunk(
    aead: &ChunkAead,
    direction: Direction,
    index: u64,
    last: bool,
    chunk: &mut [u8],
) -> Result<(), EnvelopeError> {
    match direction {
        Direction::Seal => aead.seal_in_place(index, last, chunk),
        Direction::Open => aead.open_in_place(index, last, chunk),
    }
}

/// Chunks read ahead before deciding to start worker threads: a payload of at most this many
/// chunks (256 KiB) is processed on the calling thread.
const INLINE_CHUNKS: usize = PARALLEL_MIN_BYTES / CHUNK_LEN;

/// Most chunk buffers the parallel streaming engine holds (2 MiB).
#[cfg(not(target_arch = "wasm32"))]
const MAX_STREAM_BUFFERS: usize = 32;

/// One chunk: its counter, last flag, length on the wire and buffer (`buf_len` bytes, only
/// `..len` used).
struct Job {
    index: u64,
    last: bool,
    len: usize,
    buf: Zeroizing<Vec<u8>>,
    result: Result<(), EnvelopeError>,
}

impl Job {
    fn process(&mut self, aead: &ChunkAead, direction: Direction) {
        self.result = match self.buf.get_mut(..self.len) {
            Some(chunk) => process_chunk(aead, direction, self.index, self.last, chunk),
            None => Err(direction_error(direction)),
        };
    }
}

fn direction_error(direction: Direction) -> EnvelopeError {
    match direction {
        Direction::Seal => EnvelopeError::TooLarge,
        Direction::Open => EnvelopeError::Decrypt,
    }
}

/// Runs the chunks that `produce` reads (into `buf_len`-byte buffers) through the AEAD and
/// hands each, in order, to `consume`. `produce` returns the chunk length and last flag, or
/// `None` after the last chunk. Stops at the first error.
///
/// With `threads > 1` and more than [`INLINE_CHUNKS`] chunks, the AEAD runs on `threads`
/// worker threads while the calling thread produces and consumes; otherwise everything runs
/// on the calling thread with one buffer.
pub(crate) fn run_stream(
    aead: &ChunkAead,
    direction: Direction,
    threads: usize,
    buf_len: usize,
    mut produce: impl FnMut(&mut [u8]) -> Result<Option<(usize, bool)>, EnvelopeError>,
    mut consume: impl FnMut(&[u8]) -> Result<(), EnvelopeError>,
) -> Result<(), EnvelopeError> {
    let mut index: u64 = 0;
    if threads <= 1 {
        let mut buf = Zeroizing::new(vec![0u8; buf_len]);
        while let Some((len, last)) = produce(&mut buf)? {
            let chunk = buf
                .get_mut(..len)
                .ok_or_else(|| direction_error(direction))?;
            process_chunk(aead, direction, index, last, chunk)?;
            consume(chunk)?;
            if last {
                break;
            }
            index = index.saturating_add(1);
        }
        return Ok(());
    }

    // Read ahead up to INLINE_CHUNKS chunks: a short payload is not worth the threads.
    let mut staged = Vec::with_capacity(INLINE_CHUNKS);
    let mut finished = false;
    while staged.len() < INLINE_CHUNKS {
        let mut buf = Zeroizing::new(vec![0u8; buf_len]);
        let Some((len, last)) = produce(&mut buf)? else {
            finished = true;
            break;
        };
        staged.push(Job {
            index,
            last,
            len,
            buf,
            result: Ok(()),
        });
        index = index.saturating_add(1);
        if last {
            finished = true;
            break;
        }
    }
    if !finished {
        #[cfg(not(target_arch = "wasm32"))]
        return run_parallel(
            aead, direction, threads, buf_len, staged, index, produce, consume,
        );
    }
    for mut job in staged {
        job.process(aead, direction);
        job.result?;
        consume(job.buf.get(..job.len).unwrap_or_default())?;
        if job.last {
            return Ok(());
        }
    }
    // Only reached when `finished` is false on wasm32, where `threads` is always 1.
    Err(direction_error(direction))
}

/// The parallel half of [`run_stream`]: `staged` chunks (counters from 0) are already read,
/// `index` is the next counter.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::too_many_arguments)]
fn run_parallel(
    aead: &ChunkAead,
    direction: Direction,
    threads: usize,
    buf_len: usize,
    staged: Vec<Job>,
    mut index: u64,
    mut produce: impl FnMut(&mut [u8]) -> Result<Option<(usize, bool)>, EnvelopeError>,
    mut consume: impl FnMut(&[u8]) -> Result<(), EnvelopeError>,
) -> Result<(), EnvelopeError> {
    use std::collections::BTreeMap;
    use std::sync::mpsc;
    use std::sync::{Mutex, PoisonError};

    fn stopped() -> EnvelopeError {
        EnvelopeError::Io(std::io::Error::other("envelope worker thread stopped"))
    }

    let max_buffers = (2 * threads).clamp(INLINE_CHUNKS, MAX_STREAM_BUFFERS);
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let (done_tx, done_rx) = mpsc::channel::<Job>();
    let job_rx = Mutex::new(job_rx);
    let job_rx = &job_rx;

    std::thread::scope(move |s| {
        let worker = |done_tx: mpsc::Sender<Job>| {
            move || {
                loop {
                    // The lock is held while waiting, so idle workers queue on the mutex.
                    let next = job_rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(mut job) = next else { return };
                    let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        job.process(aead, direction);
                    }));
                    if processed.is_err() {
                        job.result = Err(stopped());
                    }
                    if done_tx.send(job).is_err() {
                        return;
                    }
                }
            }
        };
        let spawned = (0..threads)
            .filter(|_| {
                std::thread::Builder::new()
                    .spawn_scoped(s, worker(done_tx.clone()))
                    .is_ok()
            })
            .count();
        // Only the workers hold senders now: if they all stop, `recv` below fails.
        drop(done_tx);
        if spawned == 0 {
            return Err(stopped());
        }

        let mut allocated = staged.len();
        let mut in_flight = 0usize;
        for job in staged {
            job_tx.send(job).map_err(|_| stopped())?;
            in_flight += 1;
        }
        let mut free: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut finished_out_of_order: BTreeMap<u64, Job> = BTreeMap::new();
        let mut next_out: u64 = 0;
        let mut produced_all = false;
        loop {
            // Keep every buffer busy.
            while !produced_all {
                let mut buf = match free.pop() {
                    Some(buf) => buf,
                    None if allocated < max_buffers => {
                        allocated += 1;
                        Zeroizing::new(vec![0u8; buf_len])
                    }
                    None => break,
                };
                let Some((len, last)) = produce(&mut buf)? else {
                    produced_all = true;
                    break;
                };
                job_tx
                    .send(Job {
                        index,
                        last,
                        len,
                        buf,
                        result: Ok(()),
                    })
                    .map_err(|_| stopped())?;
                in_flight += 1;
                index = index.saturating_add(1);
                produced_all = last;
            }
            if in_flight == 0 {
                // Every chunk produced has been consumed.
                return if produced_all { Ok(()) } else { Err(stopped()) };
            }
            let job = done_rx.recv().map_err(|_| stopped())?;
            in_flight -= 1;
            finished_out_of_order.insert(job.index, job);
            while let Some(job) = finished_out_of_order.remove(&next_out) {
                job.result?;
                consume(job.buf.get(..job.len).unwrap_or_default())?;
                next_out = next_out.saturating_add(1);
                free.push(job.buf);
            }
        }
        // Returning drops `job_tx`: the workers see the channel close and stop, and the
        // scope joins them.
    })
}

/// Splits a chunk as on the wire into its body and its `TAG_LEN`-byte tag (or tag slot);
/// `None` if it is shorter than a tag.
pub(crate) fn split_tag(chunk: &mut [u8]) -> Option<(&mut [u8], &mut [u8])> {
    let body_len = chunk.len().checked_sub(TAG_LEN)?;
    Some(chunk.split_at_mut(body_len))
}
