//! STREAM payload (`docs/protocol.md` §3.4) and the streaming / push-style APIs.

use std::io::{ErrorKind, Read, Write};

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use zeroize::Zeroizing;

use super::padding::{PadStripper, Sink, WriteSink, padded_len};
use super::parallel::{PARALLEL_MIN_BYTES, resolve_threads};
use super::{
    CHUNK_LEN, ContentKey, ENCRYPTED_CHUNK_LEN, EnvelopeError, Header, MAX_HEADER_LEN, Purpose,
    TAG_LEN, build_header, payload_key, recover,
};
use crate::recipient::{DecryptionKey, KeyId, RecipientKey};
use crate::rng::CryptoRng;

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
        let body_len = chunk
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(EnvelopeError::TooLarge)?;
        let (body, tag_slot) = chunk.split_at_mut(body_len);
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
        let body_len = chunk
            .len()
            .checked_sub(TAG_LEN)
            .filter(|&n| n > 0)
            .ok_or(EnvelopeError::Decrypt)?;
        let (body, tag) = chunk.split_at_mut(body_len);
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
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, EnvelopeError> {
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
// Sealing
// ---------------------------------------------------------------------------------------------

/// Push-style streaming sealer: [`Encryptor::new`] gives the header bytes, [`push`] takes
/// plaintext in pieces of any size and appends ciphertext, [`finish`] pads and writes the last
/// chunk. Holds at most one chunk (64 KiB) of plaintext, zeroized on drop.
///
/// [`push`]: Encryptor::push
/// [`finish`]: Encryptor::finish
pub struct Encryptor {
    cipher: PayloadCipher,
    /// `CHUNK_LEN + TAG_LEN` bytes; `buf[..filled]` is pending plaintext.
    buf: Zeroizing<Vec<u8>>,
    filled: usize,
    plaintext_len: u64,
    poisoned: bool,
}

impl core::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encryptor")
            .field("plaintext_len", &self.plaintext_len)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    /// Starts an envelope to `recipients` (1..=32 distinct keys). Returns the sealer and the
    /// header bytes, which come first on the wire.
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        purpose: Purpose,
        org: &str,
        recipients: &[RecipientKey],
    ) -> Result<(Self, Vec<u8>), EnvelopeError> {
        let (_, header_bytes, ck) = build_header(rng, purpose, org, recipients)?;
        let cipher = PayloadCipher::new(&ck, &header_bytes);
        let enc = Encryptor {
            cipher,
            buf: Zeroizing::new(vec![0u8; ENCRYPTED_CHUNK_LEN]),
            filled: 0,
            plaintext_len: 0,
            poisoned: false,
        };
        Ok((enc, header_bytes))
    }

    /// Encrypts `buf[..filled]` in place as one chunk and hands it with its tag to `sink`.
    fn emit_chunk(&mut self, last: bool, sink: &mut impl Sink) -> Result<(), EnvelopeError> {
        let (body, rest) = self.buf.split_at_mut(self.filled.min(CHUNK_LEN));
        let tag = self.cipher.seal_chunk(body, last)?;
        let tag_slot = rest.get_mut(..TAG_LEN).ok_or(EnvelopeError::TooLarge)?;
        tag_slot.copy_from_slice(&tag);
        let chunk = self
            .buf
            .get(..self.filled + TAG_LEN)
            .ok_or(EnvelopeError::TooLarge)?;
        sink.put(chunk)?;
        self.filled = 0;
        Ok(())
    }

    fn guard<T>(&mut self, result: Result<T, EnvelopeError>) -> Result<T, EnvelopeError> {
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    fn push_into(&mut self, mut data: &[u8], sink: &mut impl Sink) -> Result<(), EnvelopeError> {
        if self.poisoned {
            return Err(EnvelopeError::TooLarge);
        }
        while !data.is_empty() {
            let spare = self.buf.get_mut(self.filled..CHUNK_LEN).unwrap_or_default();
            let take = spare.len().min(data.len());
            let (head, tail) = data.split_at(take);
            spare
                .get_mut(..take)
                .unwrap_or_default()
                .copy_from_slice(head);
            data = tail;
            self.filled += take;
            self.plaintext_len = self.plaintext_len.saturating_add(take as u64);
            // A chunk of plaintext only is never the last: at least the 0x80 marker follows.
            if self.filled == CHUNK_LEN {
                let r = self.emit_chunk(false, sink);
                self.guard(r)?;
            }
        }
        Ok(())
    }

    fn finish_into(mut self, sink: &mut impl Sink) -> Result<u64, EnvelopeError> {
        if self.poisoned {
            return Err(EnvelopeError::TooLarge);
        }
        let padded = padded_len(self.plaintext_len).ok_or(EnvelopeError::TooLarge)?;
        let mut padding_left = padded - self.plaintext_len; // >= 1
        let mut marker = true;
        loop {
            let spare = self.buf.get_mut(self.filled..CHUNK_LEN).unwrap_or_default();
            let take = usize::try_from(padding_left)
                .unwrap_or(usize::MAX)
                .min(spare.len());
            let pad = spare.get_mut(..take).unwrap_or_default();
            pad.fill(0);
            if take > 0 && marker {
                if let Some(first) = pad.first_mut() {
                    *first = 0x80;
                }
                marker = false;
            }
            self.filled += take;
            padding_left -= take as u64;
            let last = padding_left == 0;
            self.emit_chunk(last, sink)?;
            if last {
                return Ok(self.plaintext_len);
            }
        }
    }

    /// Encrypts more plaintext, appending whole encrypted chunks to `out` as they fill.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        self.push_into(data, out)
    }

    /// Pads, encrypts the remaining chunk(s) and appends them to `out`. Returns the plaintext
    /// length.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<u64, EnvelopeError> {
        self.finish_into(out)
    }
}

/// Seals everything `reader` yields to `recipients` and writes the envelope to `writer`, in
/// constant memory. Returns the number of bytes written.
///
/// On native targets, once the input exceeds 256 KiB the chunks are encrypted on one thread per
/// available core while this thread reads and writes; at most two 64 KiB chunks per thread
/// (capped at 32 chunks, 2 MiB) are held at any time. On `wasm32` it holds one chunk.
pub fn seal_stream<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    reader: impl Read,
    writer: impl Write,
) -> Result<u64, EnvelopeError> {
    seal_stream_with_threads(rng, purpose, org, recipients, reader, writer, 0)
}

/// [`seal_stream`] on at most `threads` worker threads: `0` means one per available core, `1`
/// encrypts on the calling thread with a single 64 KiB buffer. Ignored on `wasm32`.
pub fn seal_stream_with_threads<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    reader: impl Read,
    mut writer: impl Write,
    threads: usize,
) -> Result<u64, EnvelopeError> {
    let (_, header, ck) = build_header(rng, purpose, org, recipients)?;
    let aead = ChunkAead::new(&ck, &header);
    drop(ck);
    writer.write_all(&header)?;
    let mut written = header.len() as u64;
    let mut source = SealSource {
        reader,
        plaintext_len: 0,
        padding_left: None,
        marker_written: false,
    };
    run_stream(
        &aead,
        Direction::Seal,
        resolve_threads(threads),
        ENCRYPTED_CHUNK_LEN,
        |buf| source.fill(buf),
        |chunk| {
            writer.write_all(chunk)?;
            written = written.saturating_add(chunk.len() as u64);
            Ok(())
        },
    )?;
    writer.flush()?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------------------------

/// What a streaming open found.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StreamOpened {
    /// What the envelope carries.
    pub purpose: Purpose,
    /// The organisation id.
    pub org: String,
    /// The key id of the key that opened it.
    pub key_id: KeyId,
    /// Whether a detached stanza opened it.
    pub via_detached: bool,
    /// Plaintext bytes written.
    pub plaintext_len: u64,
}

/// Push-style streaming opener. [`Decryptor::new`] reads the header from the start of the
/// envelope; then [`push`] the rest of the bytes (starting at the returned header length) in
/// pieces of any size, and call [`finish`] at the end.
///
/// Plaintext is released chunk by chunk as each chunk authenticates, but the envelope as a
/// whole is only authentic once [`finish`] returns `Ok`: until then the output may be a
/// truncated prefix. Callers must discard everything if any step fails. Holds at most one
/// chunk, zeroized on drop; trailing padding is counted, never buffered.
///
/// [`push`]: Decryptor::push
/// [`finish`]: Decryptor::finish
pub struct Decryptor {
    header: Header,
    cipher: PayloadCipher,
    /// `ENCRYPTED_CHUNK_LEN + 1` bytes: a full chunk plus one byte of look-ahead, which shows
    /// that the chunk is not the last.
    buf: Zeroizing<Vec<u8>>,
    filled: usize,
    stripper: PadStripper,
    key_id: KeyId,
    via_detached: bool,
    poisoned: bool,
}

impl core::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decryptor")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

const LOOKAHEAD_BUF: usize = ENCRYPTED_CHUNK_LEN + 1;

impl Decryptor {
    /// Parses the header at the start of `bytes` and recovers the content key with `keys`
    /// (header stanzas first, then `detached`). Returns the decryptor and the header length:
    /// push the envelope's bytes from that offset on. [`EnvelopeError::Truncated`] means
    /// `bytes` ends inside the header (it is at most [`MAX_HEADER_LEN`] bytes).
    pub fn new(
        bytes: &[u8],
        keys: &[&DecryptionKey],
        detached: &[&[u8]],
    ) -> Result<(Self, usize), EnvelopeError> {
        let (header, header_len) = Header::parse(bytes)?;
        let header_bytes = bytes.get(..header_len).ok_or(EnvelopeError::Truncated)?;
        let recovered = recover(&header, header_bytes, keys, detached)?;
        let cipher = PayloadCipher::new(&recovered.ck, header_bytes);
        let dec = Decryptor {
            header,
            cipher,
            buf: Zeroizing::new(vec![0u8; LOOKAHEAD_BUF]),
            filled: 0,
            stripper: PadStripper::default(),
            key_id: recovered.key_id,
            via_detached: recovered.via_detached,
            poisoned: false,
        };
        Ok((dec, header_len))
    }

    /// The parsed header.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Decrypts the chunk in `buf[..len]` and passes its plaintext on.
    fn open_chunk(
        &mut self,
        len: usize,
        last: bool,
        sink: &mut impl Sink,
    ) -> Result<(), EnvelopeError> {
        let body_len = len
            .checked_sub(TAG_LEN)
            .filter(|&n| n > 0)
            .ok_or(EnvelopeError::Decrypt)?;
        let chunk = self.buf.get_mut(..len).ok_or(EnvelopeError::Decrypt)?;
        let (body, tag) = chunk.split_at_mut(body_len);
        self.cipher.open_chunk(body, tag, last)?;
        self.stripper.feed(body, sink)
    }

    /// Handles a full buffer: a whole chunk plus one more byte, so the chunk is not the last.
    fn open_full(&mut self, sink: &mut impl Sink) -> Result<(), EnvelopeError> {
        self.open_chunk(ENCRYPTED_CHUNK_LEN, false, sink)?;
        self.buf.copy_within(ENCRYPTED_CHUNK_LEN..LOOKAHEAD_BUF, 0);
        self.filled = LOOKAHEAD_BUF - ENCRYPTED_CHUNK_LEN;
        Ok(())
    }

    fn push_into(&mut self, mut data: &[u8], sink: &mut impl Sink) -> Result<(), EnvelopeError> {
        if self.poisoned {
            return Err(EnvelopeError::Decrypt);
        }
        while !data.is_empty() {
            let spare = self.buf.get_mut(self.filled..).unwrap_or_default();
            let take = spare.len().min(data.len());
            let (head, tail) = data.split_at(take);
            spare
                .get_mut(..take)
                .unwrap_or_default()
                .copy_from_slice(head);
            data = tail;
            self.filled += take;
            if self.filled == LOOKAHEAD_BUF {
                let r = self.open_full(sink);
                if r.is_err() {
                    self.poisoned = true;
                }
                r?;
            }
        }
        Ok(())
    }

    fn finish_into(mut self, sink: &mut impl Sink) -> Result<StreamOpened, EnvelopeError> {
        if self.poisoned {
            return Err(EnvelopeError::Decrypt);
        }
        // What is left is the last chunk: 1..=C bytes of plaintext plus the tag.
        self.open_chunk(self.filled, true, sink)?;
        let plaintext_len = self.stripper.finish()?;
        Ok(StreamOpened {
            purpose: self.header.purpose,
            org: core::mem::take(&mut self.header.org),
            key_id: self.key_id,
            via_detached: self.via_detached,
            plaintext_len,
        })
    }

    /// Decrypts more envelope bytes, appending released plaintext to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        self.push_into(data, out)
    }

    /// Ends the envelope: opens the last chunk, checks the padding, and appends the rest of the
    /// plaintext to `out`.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<StreamOpened, EnvelopeError> {
        self.finish_into(out)
    }
}

/// Opens an envelope from `reader` and writes the plaintext to `writer`, in constant memory.
///
/// Plaintext is written as each 64 KiB chunk authenticates; the envelope is authentic only if
/// this returns `Ok`. On an error, discard whatever was written.
///
/// On native targets, once the payload exceeds 256 KiB the chunks are decrypted on one thread
/// per available core while this thread reads and writes (in order); at most two chunks per
/// thread (capped at 32 chunks, 2 MiB) are held at any time. On `wasm32` it holds one chunk.
pub fn open_stream(
    reader: impl Read,
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    writer: impl Write,
) -> Result<StreamOpened, EnvelopeError> {
    open_stream_with_threads(reader, keys, detached, writer, 0)
}

/// [`open_stream`] on at most `threads` worker threads: `0` means one per available core, `1`
/// decrypts on the calling thread with a single buffer of one chunk. Ignored on `wasm32`.
pub fn open_stream_with_threads(
    mut reader: impl Read,
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    mut writer: impl Write,
    threads: usize,
) -> Result<StreamOpened, EnvelopeError> {
    let mut head = vec![0u8; MAX_HEADER_LEN];
    let n = read_full(&mut reader, &mut head)?;
    head.truncate(n);
    let (header, header_len) = Header::parse(&head)?;
    let header_bytes = head.get(..header_len).ok_or(EnvelopeError::Truncated)?;
    let recovered = recover(&header, header_bytes, keys, detached)?;
    let aead = ChunkAead::new(&recovered.ck, header_bytes);
    drop(recovered.ck);
    let mut source = OpenSource {
        // What the header read took beyond the header is the start of the payload.
        prefix: head,
        prefix_pos: header_len,
        reader,
        reader_eof: n < MAX_HEADER_LEN,
        carry: None,
        done: false,
    };
    let mut stripper = PadStripper::default();
    let mut sink = WriteSink(&mut writer);
    run_stream(
        &aead,
        Direction::Open,
        resolve_threads(threads),
        LOOKAHEAD_BUF,
        |buf| source.fill(buf),
        |chunk| {
            let body_len = chunk.len().saturating_sub(TAG_LEN);
            stripper.feed(chunk.get(..body_len).unwrap_or_default(), &mut sink)
        },
    )?;
    let plaintext_len = stripper.finish()?;
    writer.flush()?;
    Ok(StreamOpened {
        purpose: header.purpose,
        org: header.org,
        key_id: recovered.key_id,
        via_detached: recovered.via_detached,
        plaintext_len,
    })
}

// ---------------------------------------------------------------------------------------------
// Chunk engine for the streaming APIs
// ---------------------------------------------------------------------------------------------

/// Plaintext from a reader, cut into chunk bodies and padded at the end.
struct SealSource<R> {
    reader: R,
    plaintext_len: u64,
    /// Padding still to emit, once the end of the input has been seen.
    padding_left: Option<u64>,
    marker_written: bool,
}

impl<R: Read> SealSource<R> {
    /// Reads the next chunk body into `buf` (`ENCRYPTED_CHUNK_LEN` bytes: the body, then room
    /// for the tag). Returns the chunk length on the wire (body and tag) and whether it is the
    /// last chunk, or `None` after the last chunk.
    fn fill(&mut self, buf: &mut [u8]) -> Result<Option<(usize, bool)>, EnvelopeError> {
        let body = buf.get_mut(..CHUNK_LEN).ok_or(EnvelopeError::TooLarge)?;
        let mut filled = 0;
        if self.padding_left.is_none() {
            filled = read_full(&mut self.reader, body)?;
            self.plaintext_len = self.plaintext_len.saturating_add(filled as u64);
            if filled < CHUNK_LEN {
                let padded = padded_len(self.plaintext_len).ok_or(EnvelopeError::TooLarge)?;
                self.padding_left = Some(padded - self.plaintext_len);
            }
        }
        // A chunk of plaintext only is never the last: at least the 0x80 marker follows.
        let Some(padding_left) = self.padding_left.as_mut() else {
            return Ok(Some((CHUNK_LEN + TAG_LEN, false)));
        };
        if *padding_left == 0 {
            return Ok(None);
        }
        let spare = body.get_mut(filled..).unwrap_or_default();
        let take = usize::try_from(*padding_left)
            .unwrap_or(usize::MAX)
            .min(spare.len());
        let pad = spare.get_mut(..take).unwrap_or_default();
        pad.fill(0);
        if !self.marker_written
            && let Some(first) = pad.first_mut()
        {
            *first = 0x80;
            self.marker_written = true;
        }
        *padding_left -= take as u64;
        Ok(Some((filled + take + TAG_LEN, *padding_left == 0)))
    }
}

/// Encrypted chunks from a reader, after the bytes that the header read took beyond the
/// header.
struct OpenSource<R> {
    prefix: Vec<u8>,
    prefix_pos: usize,
    reader: R,
    reader_eof: bool,
    /// The look-ahead byte of the previous buffer: the first byte of the next chunk.
    carry: Option<u8>,
    done: bool,
}

impl<R: Read> OpenSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, EnvelopeError> {
        let rest = self.prefix.get(self.prefix_pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        let (head, tail) = buf.split_at_mut(n);
        head.copy_from_slice(rest.get(..n).unwrap_or_default());
        self.prefix_pos += n;
        if tail.is_empty() || self.reader_eof {
            return Ok(n);
        }
        let m = read_full(&mut self.reader, tail)?;
        self.reader_eof = m < tail.len();
        Ok(n + m)
    }

    /// Reads the next chunk into `buf` (`LOOKAHEAD_BUF` bytes: a whole chunk and one more byte,
    /// which shows that it is not the last). Returns the chunk length and whether it is the
    /// last chunk, or `None` after the last chunk.
    fn fill(&mut self, buf: &mut [u8]) -> Result<Option<(usize, bool)>, EnvelopeError> {
        if self.done {
            return Ok(None);
        }
        let mut filled = 0;
        if let (Some(c), Some(first)) = (self.carry.take(), buf.first_mut()) {
            *first = c;
            filled = 1;
        }
        filled += self.read(buf.get_mut(filled..).unwrap_or_default())?;
        if filled == LOOKAHEAD_BUF {
            self.carry = buf.get(ENCRYPTED_CHUNK_LEN).copied();
            Ok(Some((ENCRYPTED_CHUNK_LEN, false)))
        } else {
            // What is left is the last chunk: 1..=C bytes of plaintext plus the tag (checked
            // when it is opened).
            self.done = true;
            Ok(Some((filled, true)))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
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
fn run_stream(
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
