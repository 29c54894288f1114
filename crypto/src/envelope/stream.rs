//! STREAM payload (`docs/protocol.md` §3.4) and the streaming / push-style APIs.

use std::io::{ErrorKind, Read, Write};

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use zeroize::Zeroizing;

use super::padding::{PadStripper, Sink, WriteSink, padded_len};
use super::{
    CHUNK_LEN, ContentKey, ENCRYPTED_CHUNK_LEN, EnvelopeError, Header, MAX_HEADER_LEN, Purpose,
    TAG_LEN, build_header, payload_key, recover,
};
use crate::recipient::{DecryptionKey, KeyId, RecipientKey};
use crate::rng::CryptoRng;

/// The payload AEAD with its chunk counter.
pub(crate) struct PayloadCipher {
    aead: ChaCha20Poly1305,
    counter: u64,
}

impl PayloadCipher {
    pub(crate) fn new(ck: &ContentKey, header_bytes: &[u8]) -> Self {
        let key = payload_key(ck, header_bytes);
        PayloadCipher {
            aead: ChaCha20Poly1305::new(&Key::from(*key)),
            counter: 0,
        }
    }

    /// `nonce_i = i as 11-byte big-endian || last_flag`.
    fn nonce(&self, last: bool) -> Nonce {
        let mut nonce = [0u8; 12];
        for (n, c) in nonce.iter_mut().skip(3).zip(self.counter.to_be_bytes()) {
            *n = c;
        }
        if let Some(flag) = nonce.last_mut() {
            *flag = u8::from(last);
        }
        Nonce::from(nonce)
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
        if self.counter == u64::MAX {
            return Err(EnvelopeError::TooLarge);
        }
        let tag = self
            .aead
            .encrypt_inout_detached(&self.nonce(last), b"", buf.into())
            .map_err(|_| EnvelopeError::TooLarge)?;
        self.advance()?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_slice());
        Ok(out)
    }

    pub(crate) fn open_chunk(
        &mut self,
        buf: &mut [u8],
        tag: &[u8],
        last: bool,
    ) -> Result<(), EnvelopeError> {
        if self.counter == u64::MAX {
            return Err(EnvelopeError::Decrypt);
        }
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| EnvelopeError::Decrypt)?;
        self.aead
            .decrypt_inout_detached(&self.nonce(last), b"", buf.into(), &Tag::from(tag))
            .map_err(|_| EnvelopeError::Decrypt)?;
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

/// Counts what it writes.
struct CountingSink<W> {
    inner: WriteSink<W>,
    written: u64,
}

impl<W: Write> Sink for CountingSink<W> {
    fn put(&mut self, data: &[u8]) -> Result<(), EnvelopeError> {
        self.inner.put(data)?;
        self.written = self.written.saturating_add(data.len() as u64);
        Ok(())
    }
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

    /// Fills the chunk buffer from `reader`; returns `true` at the end of the input.
    fn fill_from(&mut self, reader: &mut impl Read) -> Result<bool, EnvelopeError> {
        let spare = self.buf.get_mut(self.filled..CHUNK_LEN).unwrap_or_default();
        let want = spare.len();
        let n = read_full(reader, spare)?;
        self.filled += n;
        self.plaintext_len = self.plaintext_len.saturating_add(n as u64);
        Ok(n < want)
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
/// constant memory (one 64 KiB chunk). Returns the number of bytes written.
pub fn seal_stream<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    mut reader: impl Read,
    writer: impl Write,
) -> Result<u64, EnvelopeError> {
    let (mut enc, header) = Encryptor::new(rng, purpose, org, recipients)?;
    let mut sink = CountingSink {
        inner: WriteSink(writer),
        written: 0,
    };
    sink.put(&header)?;
    loop {
        let eof = enc.fill_from(&mut reader)?;
        if enc.filled == CHUNK_LEN {
            enc.emit_chunk(false, &mut sink)?;
        }
        if eof {
            break;
        }
    }
    enc.finish_into(&mut sink)?;
    sink.inner.0.flush()?;
    Ok(sink.written)
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

    /// Fills the buffer from `reader`; returns `true` at the end of the input.
    fn fill_from(&mut self, reader: &mut impl Read) -> Result<bool, EnvelopeError> {
        let spare = self.buf.get_mut(self.filled..).unwrap_or_default();
        let want = spare.len();
        let n = read_full(reader, spare)?;
        self.filled += n;
        Ok(n < want)
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
pub fn open_stream(
    mut reader: impl Read,
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    writer: impl Write,
) -> Result<StreamOpened, EnvelopeError> {
    let mut head = vec![0u8; MAX_HEADER_LEN];
    let n = read_full(&mut reader, &mut head)?;
    let head = head.get(..n).unwrap_or_default();
    let (mut dec, header_len) = Decryptor::new(head, keys, detached)?;
    let mut sink = WriteSink(writer);
    dec.push_into(head.get(header_len..).unwrap_or_default(), &mut sink)?;
    if n == MAX_HEADER_LEN {
        loop {
            let eof = dec.fill_from(&mut reader)?;
            if dec.filled == LOOKAHEAD_BUF {
                dec.open_full(&mut sink)?;
            }
            if eof {
                break;
            }
        }
    }
    let opened = dec.finish_into(&mut sink)?;
    sink.0.flush()?;
    Ok(opened)
}
