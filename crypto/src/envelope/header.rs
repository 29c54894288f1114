//! Envelope header and stanzas (`docs/protocol.md` §3.1).

use crate::recipient::KeyId;

use super::error::EnvelopeError;
use super::format::Purpose;

/// Magic bytes at the start of every envelope.
pub const MAGIC: &[u8; 4] = b"MPEV";
/// The envelope format version this module reads and writes.
pub const VERSION: u8 = 0x01;
/// Length of a stanza (`key_id[16] || enc[32] || wrapped_key[48]`).
pub const STANZA_LEN: usize = 96;
/// Most recipients (stanzas) an envelope may have.
pub const MAX_RECIPIENTS: usize = 32;
/// Longest organisation id in bytes.
pub const MAX_ORG_LEN: usize = 64;
/// Length of the payload salt.
pub const SALT_LEN: usize = 16;
/// Length of the header MAC.
pub const MAC_LEN: usize = 32;
/// Longest possible header.
pub const MAX_HEADER_LEN: usize =
    MAGIC.len() + 3 + MAX_ORG_LEN + 1 + MAX_RECIPIENTS * STANZA_LEN + SALT_LEN + MAC_LEN;

/// One recipient stanza: the content key wrapped with HPKE to one X25519 key. Public data.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stanza {
    pub(crate) key_id: KeyId,
    pub(crate) enc: [u8; 32],
    pub(crate) wrapped_key: [u8; 48],
}

impl Stanza {
    /// The recipient key id this stanza is addressed to.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The 96-byte wire form (also the form of a detached stanza, §3.6).
    #[must_use]
    pub fn to_bytes(&self) -> [u8; STANZA_LEN] {
        let mut out = [0u8; STANZA_LEN];
        let (id, rest) = out.split_at_mut(16);
        let (enc, wrapped) = rest.split_at_mut(32);
        id.copy_from_slice(self.key_id.as_bytes());
        enc.copy_from_slice(&self.enc);
        wrapped.copy_from_slice(&self.wrapped_key);
        out
    }

    /// Parses exactly 96 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let bytes: &[u8; STANZA_LEN] = bytes.try_into().map_err(|_| EnvelopeError::BadStanza)?;
        let (id, rest) = bytes.split_at(16);
        let (enc, wrapped) = rest.split_at(32);
        Ok(Stanza {
            key_id: KeyId(id.try_into().map_err(|_| EnvelopeError::BadStanza)?),
            enc: enc.try_into().map_err(|_| EnvelopeError::BadStanza)?,
            wrapped_key: wrapped.try_into().map_err(|_| EnvelopeError::BadStanza)?,
        })
    }
}

debug_fields!(Stanza(s) { key_id: s.key_id } ..);

/// A parsed envelope header. All of it is public (the server sees it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Header {
    pub(crate) purpose: Purpose,
    pub(crate) org: String,
    pub(crate) stanzas: Vec<Stanza>,
    pub(crate) payload_salt: [u8; SALT_LEN],
    pub(crate) mac: [u8; MAC_LEN],
}

/// A cursor that never panics.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EnvelopeError> {
        if self.rest.len() < n {
            return Err(EnvelopeError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, EnvelopeError> {
        self.take(1)?
            .first()
            .copied()
            .ok_or(EnvelopeError::Truncated)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EnvelopeError> {
        self.take(N)?
            .try_into()
            .map_err(|_| EnvelopeError::Truncated)
    }
}

impl Header {
    /// Parses the header at the start of `bytes` (an envelope, or a header alone) and returns
    /// it with its length in bytes; the payload starts there. Fails with
    /// [`EnvelopeError::Truncated`] if `bytes` ends inside the header (a streaming reader can
    /// then wait for more bytes, up to [`MAX_HEADER_LEN`]).
    pub fn parse(bytes: &[u8]) -> Result<(Header, usize), EnvelopeError> {
        let mut r = Reader { rest: bytes };
        if r.array::<4>()? != *MAGIC {
            return Err(EnvelopeError::BadMagic);
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        let purpose_byte = r.u8()?;
        let purpose =
            Purpose::from_byte(purpose_byte).ok_or(EnvelopeError::BadPurpose(purpose_byte))?;
        let org_len = usize::from(r.u8()?);
        if org_len == 0 || org_len > MAX_ORG_LEN {
            return Err(EnvelopeError::BadOrg);
        }
        let org = core::str::from_utf8(r.take(org_len)?).map_err(|_| EnvelopeError::BadOrg)?;
        let count = r.u8()?;
        if count == 0 || usize::from(count) > MAX_RECIPIENTS {
            return Err(EnvelopeError::BadStanzaCount(count));
        }
        let mut stanzas = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            stanzas.push(Stanza::from_bytes(r.take(STANZA_LEN)?)?);
        }
        let payload_salt = r.array::<SALT_LEN>()?;
        let mac = r.array::<MAC_LEN>()?;
        let len = bytes.len() - r.rest.len();
        Ok((
            Header {
                purpose,
                org: org.to_owned(),
                stanzas,
                payload_salt,
                mac,
            },
            len,
        ))
    }

    /// The header bytes without the MAC (what the MAC covers).
    pub(crate) fn unauthenticated_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.purpose.to_byte());
        // `org` is 1..=64 bytes by construction (parse and seal check it).
        out.push(u8::try_from(self.org.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.org.as_bytes());
        out.push(u8::try_from(self.stanzas.len()).unwrap_or(u8::MAX));
        for s in &self.stanzas {
            out.extend_from_slice(&s.to_bytes());
        }
        out.extend_from_slice(&self.payload_salt);
        out
    }

    /// The wire form; `Header::parse(&h.to_bytes())` gives `h` back.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.unauthenticated_bytes();
        out.extend_from_slice(&self.mac);
        out
    }

    /// Length of the wire form.
    #[must_use]
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        MAGIC.len() + 3 + self.org.len() + 1 + self.stanzas.len() * STANZA_LEN + SALT_LEN + MAC_LEN
    }

    /// What the envelope carries.
    #[must_use]
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The organisation id.
    #[must_use]
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The stanzas, in header order.
    #[must_use]
    pub fn stanzas(&self) -> &[Stanza] {
        &self.stanzas
    }

    /// The key ids the envelope is addressed to, in header order (may repeat if a sender
    /// made several stanzas for one key).
    pub fn stanza_key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.stanzas.iter().map(|s| s.key_id)
    }

    /// The payload salt.
    #[must_use]
    pub fn payload_salt(&self) -> &[u8; SALT_LEN] {
        &self.payload_salt
    }
}
