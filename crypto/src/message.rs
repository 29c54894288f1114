//! Signed messages and transcript verification (`docs/protocol.md` §5).
//!
//! Every report, follow-up and reply is a [`Message`] signed by its author and then sealed in
//! an envelope. [`verify_transcript`] checks a whole case as the server delivered it and names
//! the first message that is forged, from an unknown author, missing its parent (a gap) or
//! out of order.

use sha2::{Digest, Sha256};

use crate::keys::{IdentityKey, IdentityPublicKey};
use crate::recipient::RecipientKey;

const SIGN_LABEL: &[u8] = b"meldpunt/v1/message";
const HASH_LABEL: &[u8] = b"meldpunt/v1/message-hash";
const VERSION: u8 = 0x01;

/// Largest body (16 MiB).
pub const MAX_BODY_LEN: usize = 16 * 1024 * 1024;
/// Bytes before the body.
const HEADER_LEN: usize = 110;
/// Bytes of a message with an empty body.
const MIN_LEN: usize = HEADER_LEN + 64;

/// The hash of a message, `SHA256("meldpunt/v1/message-hash" || message)`.
pub type MessageHash = [u8; 32];

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageKind {
    /// The first message of a case, from the reporter.
    Report = 0x01,
    /// A later message from the reporter.
    FollowUp = 0x02,
    /// A message from an advisor.
    Reply = 0x03,
    /// A membership statement from an advisor on the case (§10): adds or removes an advisor.
    Membership = 0x04,
}

impl MessageKind {
    /// Parses the kind byte.
    #[must_use]
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(MessageKind::Report),
            0x02 => Some(MessageKind::FollowUp),
            0x03 => Some(MessageKind::Reply),
            0x04 => Some(MessageKind::Membership),
            _ => None,
        }
    }

    /// The kind byte.
    #[must_use]
    pub fn to_byte(self) -> u8 {
        self as u8
    }
}

/// Errors of building or parsing one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Shorter than the fixed fields, or the body length disagrees with the bytes.
    #[error("message length does not match its fields")]
    BadLength,
    /// Unknown version byte.
    #[error("unsupported message version {0}")]
    UnsupportedVersion(u8),
    /// Unknown kind byte.
    #[error("unknown message kind {0}")]
    UnknownKind(u8),
    /// The body is larger than 16 MiB.
    #[error("message body too large")]
    BodyTooLarge,
    /// A report with a non-zero parent or a zero reply key, or another kind with a reply key.
    #[error("message fields do not fit its kind")]
    InconsistentFields,
}

/// Errors of [`verify_transcript`]; `index` is the position in the list as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranscriptError {
    /// The list is empty.
    #[error("empty transcript")]
    Empty,
    /// The message could not be parsed, or is not where its kind allows (a non-report first,
    /// a second report).
    #[error("message {index} is malformed")]
    Malformed {
        /// Position of the message.
        index: usize,
    },
    /// The signature does not verify under the stated author key.
    #[error("message {index} has a forged signature")]
    Forged {
        /// Position of the message.
        index: usize,
    },
    /// The author is neither the reporter of the case nor a trusted advisor.
    #[error("message {index} is from an unknown author")]
    UnknownAuthor {
        /// Position of the message.
        index: usize,
    },
    /// The parent is not in the list: a message is missing.
    #[error("a message before message {index} is missing")]
    Gap {
        /// Position of the message whose parent is missing.
        index: usize,
    },
    /// The parent comes later in the list.
    #[error("message {index} is out of order")]
    Reordered {
        /// Position of the message whose parent comes after it.
        index: usize,
    },
    /// A message this client sent itself is not in the list.
    #[error("sent message {sent_index} is missing from the transcript")]
    MissingSent {
        /// Position in the list of sent hashes.
        sent_index: usize,
    },
}

/// One signed message (§5). Holds the exact wire bytes, so [`Message::hash`] and
/// [`Message::to_bytes`] reproduce what was signed.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    bytes: Vec<u8>,
    kind: MessageKind,
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| bytes.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

impl Message {
    fn sign(
        author: &IdentityKey,
        kind: MessageKind,
        parent: &MessageHash,
        created_at: i64,
        reply_pk: &[u8; 32],
        body: &[u8],
    ) -> Result<Self, MessageError> {
        if body.len() > MAX_BODY_LEN {
            return Err(MessageError::BodyTooLarge);
        }
        let body_len = u32::try_from(body.len()).map_err(|_| MessageError::BodyTooLarge)?;
        let mut bytes = Vec::with_capacity(MIN_LEN + body.len());
        bytes.push(VERSION);
        bytes.push(kind.to_byte());
        bytes.extend_from_slice(parent);
        bytes.extend_from_slice(&created_at.to_be_bytes());
        bytes.extend_from_slice(&author.public().to_bytes());
        bytes.extend_from_slice(reply_pk);
        bytes.extend_from_slice(&body_len.to_be_bytes());
        bytes.extend_from_slice(body);
        let signature = author.sign_labelled(SIGN_LABEL, &bytes);
        bytes.extend_from_slice(&signature);
        Ok(Message { bytes, kind })
    }

    /// The reporter's first message: kind 1, zero parent, carrying the reply key.
    ///
    /// # Errors
    /// [`MessageError::BodyTooLarge`].
    pub fn sign_report(
        signing_key: &IdentityKey,
        reply_pk: &RecipientKey,
        created_at: i64,
        body: &[u8],
    ) -> Result<Self, MessageError> {
        Self::sign(
            signing_key,
            MessageKind::Report,
            &[0u8; 32],
            created_at,
            reply_pk.public_bytes(),
            body,
        )
    }

    /// A reporter follow-up (kind 2) after the message with hash `parent`.
    ///
    /// # Errors
    /// [`MessageError::BodyTooLarge`].
    pub fn sign_follow_up(
        signing_key: &IdentityKey,
        parent: &MessageHash,
        created_at: i64,
        body: &[u8],
    ) -> Result<Self, MessageError> {
        Self::sign(
            signing_key,
            MessageKind::FollowUp,
            parent,
            created_at,
            &[0u8; 32],
            body,
        )
    }

    /// An advisor reply (kind 3) after the message with hash `parent`.
    ///
    /// # Errors
    /// [`MessageError::BodyTooLarge`].
    pub fn sign_reply(
        identity_key: &IdentityKey,
        parent: &MessageHash,
        created_at: i64,
        body: &[u8],
    ) -> Result<Self, MessageError> {
        Self::sign(
            identity_key,
            MessageKind::Reply,
            parent,
            created_at,
            &[0u8; 32],
            body,
        )
    }

    /// An advisor's membership statement (kind 4, §10) after the message with hash `parent`;
    /// `body` is the 38-byte statement of §10.1.
    ///
    /// # Errors
    /// [`MessageError::BodyTooLarge`].
    pub fn sign_membership(
        identity_key: &IdentityKey,
        parent: &MessageHash,
        created_at: i64,
        body: &[u8],
    ) -> Result<Self, MessageError> {
        Self::sign(
            identity_key,
            MessageKind::Membership,
            parent,
            created_at,
            &[0u8; 32],
            body,
        )
    }

    /// Parses a message (structure only; the signature is checked by [`verify_transcript`]
    /// or [`Message::verify_signature`]). Checks version, kind, the body length against the
    /// remaining bytes and the 16 MiB limit, and that parent and reply key fit the kind.
    ///
    /// # Errors
    /// A [`MessageError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() < MIN_LEN {
            return Err(MessageError::BadLength);
        }
        let [version, kind_byte] = field::<2>(bytes, 0);
        if version != VERSION {
            return Err(MessageError::UnsupportedVersion(version));
        }
        let kind = MessageKind::from_byte(kind_byte).ok_or(MessageError::UnknownKind(kind_byte))?;
        let body_len = usize::try_from(u32::from_be_bytes(field::<4>(bytes, 106)))
            .map_err(|_| MessageError::BodyTooLarge)?;
        if body_len > MAX_BODY_LEN {
            return Err(MessageError::BodyTooLarge);
        }
        if bytes.len() - MIN_LEN != body_len {
            return Err(MessageError::BadLength);
        }
        let parent = field::<32>(bytes, 2);
        let reply = field::<32>(bytes, 74);
        let consistent = match kind {
            MessageKind::Report => parent == [0u8; 32] && reply != [0u8; 32],
            MessageKind::FollowUp | MessageKind::Reply | MessageKind::Membership => {
                reply == [0u8; 32]
            }
        };
        if !consistent {
            return Err(MessageError::InconsistentFields);
        }
        Ok(Message {
            bytes: bytes.to_vec(),
            kind,
        })
    }

    /// The wire bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The wire bytes, borrowed.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `msg_hash` (§5), over all bytes including the signature.
    #[must_use]
    pub fn hash(&self) -> MessageHash {
        let digest = Sha256::new()
            .chain_update(HASH_LABEL)
            .chain_update(&self.bytes)
            .finalize();
        let mut out = [0u8; 32];
        out.copy_from_slice(&digest);
        out
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// Hash of the newest message the author had seen (zero for a report).
    #[must_use]
    pub fn parent(&self) -> MessageHash {
        field::<32>(&self.bytes, 2)
    }

    /// Creation time claimed by the author (Unix seconds).
    #[must_use]
    pub fn created_at(&self) -> i64 {
        i64::from_be_bytes(field::<8>(&self.bytes, 34))
    }

    /// The author's Ed25519 public key bytes (not yet checked to be a valid point).
    #[must_use]
    pub fn author_bytes(&self) -> [u8; 32] {
        field::<32>(&self.bytes, 42)
    }

    /// The author's key, if it is a valid point.
    #[must_use]
    pub fn author(&self) -> Option<IdentityPublicKey> {
        IdentityPublicKey::from_bytes(&self.author_bytes()).ok()
    }

    /// The reporter's reply key (reports only).
    #[must_use]
    pub fn reply_key(&self) -> Option<RecipientKey> {
        match self.kind {
            MessageKind::Report => Some(RecipientKey::new(field::<32>(&self.bytes, 74))),
            MessageKind::FollowUp | MessageKind::Reply | MessageKind::Membership => None,
        }
    }

    /// The body (application JSON, §6).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        let end = self.bytes.len().saturating_sub(64);
        self.bytes.get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// Verifies the signature (strictly) under the stated author key.
    #[must_use]
    pub fn verify_signature(&self) -> bool {
        let split = self.bytes.len().saturating_sub(64);
        let (Some(signed), Some(signature)) = (self.bytes.get(..split), self.bytes.get(split..))
        else {
            return false;
        };
        self.author().is_some_and(|author| {
            author
                .verify_labelled(SIGN_LABEL, signed, signature)
                .is_ok()
        })
    }
}

debug_fields!(Message(m) {
    kind: m.kind,
    created_at: m.created_at(),
    body_len: m.body().len(),
} ..);

/// A verified transcript: the messages in server order with their hashes, the reporter's
/// signing key and reply key.
#[derive(Debug, Clone)]
pub struct Transcript {
    messages: Vec<Message>,
    hashes: Vec<MessageHash>,
    reporter: IdentityPublicKey,
    reply_key: RecipientKey,
}

impl Transcript {
    /// The messages, in the order given.
    #[must_use]
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The hashes of the messages, in the same order.
    #[must_use]
    pub fn hashes(&self) -> &[MessageHash] {
        &self.hashes
    }

    /// The hash of the last message (the `parent` for the next one).
    #[must_use]
    pub fn head(&self) -> Option<MessageHash> {
        self.hashes.last().copied()
    }

    /// The reporter's signing key (author of the report).
    #[must_use]
    pub fn reporter(&self) -> IdentityPublicKey {
        self.reporter
    }

    /// The reporter's reply key, from the report.
    #[must_use]
    pub fn reply_key(&self) -> RecipientKey {
        self.reply_key
    }

    /// Checks that every hash in `sent` (messages this client sent itself) is in the
    /// transcript (§5.1, last paragraph).
    ///
    /// # Errors
    /// [`TranscriptError::MissingSent`] naming the first missing one.
    pub fn check_sent(&self, sent: &[MessageHash]) -> Result<(), TranscriptError> {
        check_sent_present(&self.hashes, sent)
    }
}

/// Checks that every hash in `sent` occurs in `hashes`.
///
/// # Errors
/// [`TranscriptError::MissingSent`] naming the first missing one.
pub fn check_sent_present(
    hashes: &[MessageHash],
    sent: &[MessageHash],
) -> Result<(), TranscriptError> {
    for (sent_index, h) in sent.iter().enumerate() {
        if !hashes.contains(h) {
            return Err(TranscriptError::MissingSent { sent_index });
        }
    }
    Ok(())
}

/// Verifies a transcript given as wire bytes: parses each message ([`TranscriptError::Malformed`]
/// on failure) and then runs [`verify_transcript`].
///
/// # Errors
/// The first [`TranscriptError`].
pub fn verify_transcript_bytes<B: AsRef<[u8]>>(
    messages: &[B],
    trusted_advisors: &[IdentityPublicKey],
) -> Result<Transcript, TranscriptError> {
    let parsed = messages
        .iter()
        .enumerate()
        .map(|(index, m)| {
            Message::from_bytes(m.as_ref()).map_err(|_| TranscriptError::Malformed { index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    verify_transcript(&parsed, trusted_advisors)
}

/// Verifies a transcript in server order (§5.1). For each message in turn: the signature
/// (else `Forged`); that the first is a report and no later one is (else `Malformed`); that a
/// follow-up is by the reporter and a reply by a trusted advisor (else `UnknownAuthor`); and
/// that its parent is an earlier message (`Reordered` if it is a later one, `Gap` if it is
/// not in the list). Messages sharing a parent are fine.
///
/// # Errors
/// The [`TranscriptError`] of the first message that fails.
pub fn verify_transcript(
    messages: &[Message],
    trusted_advisors: &[IdentityPublicKey],
) -> Result<Transcript, TranscriptError> {
    let first = messages.first().ok_or(TranscriptError::Empty)?;
    let hashes: Vec<MessageHash> = messages.iter().map(Message::hash).collect();
    let reporter_bytes = first.author_bytes();
    let mut reporter = None;
    let mut reply_key = None;
    for (index, message) in messages.iter().enumerate() {
        if !message.verify_signature() {
            return Err(TranscriptError::Forged { index });
        }
        match (index, message.kind()) {
            (0, MessageKind::Report) => {
                reporter = message.author();
                reply_key = message.reply_key();
            }
            (0, _) | (_, MessageKind::Report) => return Err(TranscriptError::Malformed { index }),
            (_, MessageKind::FollowUp) => {
                if message.author_bytes() != reporter_bytes {
                    return Err(TranscriptError::UnknownAuthor { index });
                }
            }
            (_, MessageKind::Reply | MessageKind::Membership) => {
                let author = message.author_bytes();
                if !trusted_advisors.iter().any(|a| a.to_bytes() == author) {
                    return Err(TranscriptError::UnknownAuthor { index });
                }
            }
        }
        if index == 0 {
            if message.parent() != [0u8; 32] {
                return Err(TranscriptError::Malformed { index });
            }
            continue;
        }
        let parent = message.parent();
        match hashes.iter().position(|h| *h == parent) {
            Some(j) if j < index => {}
            Some(_) => return Err(TranscriptError::Reordered { index }),
            None => return Err(TranscriptError::Gap { index }),
        }
    }
    let (Some(reporter), Some(reply_key)) = (reporter, reply_key) else {
        return Err(TranscriptError::Malformed { index: 0 });
    };
    Ok(Transcript {
        messages: messages.to_vec(),
        hashes,
        reporter,
        reply_key,
    })
}
