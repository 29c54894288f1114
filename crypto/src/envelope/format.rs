//! Wire constants of the envelope (`docs/protocol.md` §3): chunk sizes and the purpose byte.

/// Plaintext bytes per payload chunk (`C`).
pub const CHUNK_LEN: usize = 65536;
/// AEAD tag length.
pub const TAG_LEN: usize = 16;
/// Bytes of a non-last chunk on the wire.
pub const ENCRYPTED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;

/// What an envelope carries (§3.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Purpose {
    /// `0x01`: the first message of a case.
    Report,
    /// `0x02`: a follow-up or a reply.
    Message,
    /// `0x03`: an attachment.
    Attachment,
}

impl Purpose {
    /// The wire byte.
    #[must_use]
    pub fn to_byte(self) -> u8 {
        match self {
            Purpose::Report => 0x01,
            Purpose::Message => 0x02,
            Purpose::Attachment => 0x03,
        }
    }

    /// Parses the wire byte.
    #[must_use]
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(Purpose::Report),
            0x02 => Some(Purpose::Message),
            0x03 => Some(Purpose::Attachment),
            _ => None,
        }
    }
}
