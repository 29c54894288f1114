//! The envelope's error type (`docs/protocol.md` §3).

/// Envelope errors. Structural errors are distinct; every decryption failure is
/// [`EnvelopeError::Decrypt`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The input ends inside the header.
    #[error("envelope: header is truncated")]
    Truncated,
    /// Not an envelope.
    #[error("envelope: bad magic")]
    BadMagic,
    /// An envelope version this build does not read.
    #[error("envelope: unsupported version {0}")]
    UnsupportedVersion(u8),
    /// Unknown purpose byte.
    #[error("envelope: unknown purpose {0:#04x}")]
    BadPurpose(u8),
    /// The organisation id is empty, longer than 64 bytes, or not UTF-8.
    #[error("envelope: organisation id must be 1..=64 bytes of UTF-8")]
    BadOrg,
    /// The stanza count is 0 or above 32.
    #[error("envelope: stanza count {0} is outside 1..=32")]
    BadStanzaCount(u8),
    /// A stanza is not exactly 96 bytes.
    #[error("envelope: a stanza must be 96 bytes")]
    BadStanza,
    /// Sealing to no recipient.
    #[error("envelope: at least one recipient is required")]
    NoRecipients,
    /// Sealing to more than 32 recipients.
    #[error("envelope: at most 32 recipients")]
    TooManyRecipients,
    /// The same recipient key twice.
    #[error("envelope: duplicate recipient key")]
    DuplicateRecipient,
    /// A recipient key is a low-order point (its DH output is all zero).
    #[error("envelope: unusable recipient key")]
    InvalidRecipientKey,
    /// The plaintext is too large to pad (never happens below 2^63 bytes).
    #[error("envelope: plaintext too large")]
    TooLarge,
    /// Decryption failed: no stanza opened with the given keys, or the envelope is damaged,
    /// truncated, extended or forged. Deliberately says no more.
    #[error("envelope: cannot decrypt (not addressed to these keys, or damaged)")]
    Decrypt,
    /// Reading the input or writing the output failed.
    #[error("envelope: I/O error: {0}")]
    Io(#[from] std::io::Error),
}
