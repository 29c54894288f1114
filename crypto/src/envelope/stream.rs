//! STREAM payload (`docs/protocol.md` §3.4) and the streaming / push-style APIs.

use std::io::{Read, Write};

use zeroize::Zeroizing;

use super::chunk::{ChunkAead, Direction, PayloadCipher, read_full, run_stream, split_tag};
use super::padding::{PadStripper, Sink, WriteSink, padded_len};
use super::parallel::resolve_threads;
use super::error::EnvelopeError;
use super::format::{CHUNK_LEN, ENCRYPTED_CHUNK_LEN, Purpose, TAG_LEN};
use super::header::{Header, MAX_HEADER_LEN};
use super::key::{build_header, recover};
use crate::recipient::{DecryptionKey, KeyId, RecipientKey};
use crate::rng::CryptoRng;

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

debug_fields!(Encryptor(e) { plaintext_len: e.plaintext_len } ..);

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
            let take = fill_from(spare, &mut data);
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

debug_fields!(Decryptor(d) { key_id: d.key_id } ..);

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
        let chunk = self.buf.get_mut(..len).ok_or(EnvelopeError::Decrypt)?;
        let (body, tag) = split_tag(chunk)
            .filter(|(body, _)| !body.is_empty())
            .ok_or(EnvelopeError::Decrypt)?;
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
            let take = fill_from(spare, &mut data);
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

/// Copies as much of `data` as fits into `spare`, advances `data` past it and returns how
/// many bytes were taken.
fn fill_from(spare: &mut [u8], data: &mut &[u8]) -> usize {
    let take = spare.len().min(data.len());
    let (head, tail) = data.split_at(take);
    spare
        .get_mut(..take)
        .unwrap_or_default()
        .copy_from_slice(head);
    *data = tail;
    take
}
