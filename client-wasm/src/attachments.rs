//! Attachments in pieces: [`AttachmentEncryptor`] for the reporter's and the advisor's uploads,
//! [`AttachmentDecryptor`] for opening them, with the header checked by the core first.

use meldpunt_client::seal;
use meldpunt_crypto::envelope::{Decryptor, Encryptor, EnvelopeError, Purpose};
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};
use meldpunt_crypto::rng::os_rng;
use wasm_bindgen::prelude::*;
use zeroize::{Zeroize, Zeroizing};

use crate::view::{code, envelope_problem};

/// The bytes `f` writes into a fresh buffer of `capacity` (what it returns besides is
/// dropped), or its error as a JS error code.
fn written<T>(
    capacity: usize,
    f: impl FnOnce(&mut Vec<u8>) -> Result<T, EnvelopeError>,
) -> Result<Vec<u8>, JsError> {
    let mut out = Vec::with_capacity(capacity);
    f(&mut out).map_err(|e| code(envelope_problem(&e)))?;
    Ok(out)
}

/// Encrypts one attachment in pieces: take `header()` first, then each `push`, then `finish`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct AttachmentEncryptor {
    inner: Option<Encryptor>,
    header: Option<Vec<u8>>,
}

impl AttachmentEncryptor {
    pub(crate) fn new(org: &str, to: &[RecipientKey]) -> Result<Self, JsError> {
        let (enc, header) = Encryptor::new(&mut os_rng(), Purpose::Attachment, org, to)
            .map_err(|e| code(envelope_problem(&e)))?;
        Ok(AttachmentEncryptor {
            inner: Some(enc),
            header: Some(header),
        })
    }
}

#[wasm_bindgen]
impl AttachmentEncryptor {
    /// The envelope header (only once; empty afterwards).
    pub fn header(&mut self) -> Vec<u8> {
        self.header.take().unwrap_or_default()
    }

    /// Encrypts more plaintext; returns the chunks that are ready.
    ///
    /// # Errors
    /// `finished`, or an envelope error code.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, JsError> {
        let enc = self.inner.as_mut().ok_or_else(|| code("finished"))?;
        written(data.len() + 64, |out| enc.push(data, out))
    }

    /// Pads and encrypts the rest.
    ///
    /// # Errors
    /// `finished`, or an envelope error code.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsError> {
        let enc = self.inner.take().ok_or_else(|| code("finished"))?;
        written(0, |out| enc.finish(out))
    }
}

/// Opens one attachment envelope in pieces. The header is checked by the core
/// (`check_attachment_header`: an attachment of this case's organisation) before anything is
/// released; the plaintext is authentic only once `finish` succeeds.
#[wasm_bindgen]
pub struct AttachmentDecryptor {
    keys: Vec<DecryptionKey>,
    stanzas: Vec<Vec<u8>>,
    org: String,
    pending: Zeroizing<Vec<u8>>,
    inner: Option<Decryptor>,
}

impl core::fmt::Debug for AttachmentDecryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AttachmentDecryptor")
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl AttachmentDecryptor {
    pub(crate) fn new(keys: Vec<DecryptionKey>, stanzas: Vec<Vec<u8>>, org: String) -> Self {
        AttachmentDecryptor {
            keys,
            stanzas,
            org,
            pending: Zeroizing::new(Vec::new()),
            inner: None,
        }
    }
}

#[wasm_bindgen]
impl AttachmentDecryptor {
    /// Feeds envelope bytes; returns plaintext released so far.
    ///
    /// # Errors
    /// `cannot_decrypt`, `bad_envelope` (also: not an attachment of this case).
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, JsError> {
        let mut out = Vec::new();
        if let Some(dec) = self.inner.as_mut() {
            dec.push(data, &mut out)
                .map_err(|e| code(envelope_problem(&e)))?;
            return Ok(out);
        }
        self.pending.extend_from_slice(data);
        let keys: Vec<&DecryptionKey> = self.keys.iter().collect();
        let refs: Vec<&[u8]> = self.stanzas.iter().map(Vec::as_slice).collect();
        match Decryptor::new(&self.pending, &keys, &refs) {
            Ok((mut dec, header_len)) => {
                seal::check_attachment_header(&self.org, &self.pending)
                    .map_err(|e| code(e.code()))?;
                let rest = self.pending.get(header_len..).unwrap_or_default();
                dec.push(rest, &mut out)
                    .map_err(|e| code(envelope_problem(&e)))?;
                self.pending.zeroize();
                self.inner = Some(dec);
                Ok(out)
            }
            Err(EnvelopeError::Truncated) => Ok(out),
            Err(e) => Err(code(envelope_problem(&e))),
        }
    }

    /// Ends the envelope; returns the last plaintext.
    ///
    /// # Errors
    /// `cannot_decrypt` if the envelope is incomplete, damaged or not for this case.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsError> {
        let dec = self.inner.take().ok_or_else(|| code("cannot_decrypt"))?;
        written(0, |out| dec.finish(out))
    }
}
