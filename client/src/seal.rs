//! Sealing messages of a case to exactly its members (`docs/protocol.md` §6.1, §10.3).

use meldpunt_crypto::envelope::{self, EnvelopeError, Header, Purpose};
use meldpunt_crypto::keys::{IdentityKey, IdentityPublicKey};
use meldpunt_crypto::message::Message;
use meldpunt_crypto::pickup::ReporterKeys;
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};
use meldpunt_crypto::rng::CryptoRng;

use crate::advisors::Verified;
use crate::b64;
use crate::body::{MessageBody, ReportBody};
use crate::case::CaseView;
use crate::colleagues::Confirmed;
use crate::membership::{Op, Statement};

/// Why a message cannot be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// No advisor chosen.
    #[error("choose at least one advisor")]
    NoAdvisor,
    /// A chosen advisor has no verified current key.
    #[error("advisor {0} has no valid key")]
    AdvisorNotUsable(String),
    /// The case's report is not readable and correctly signed: its members are unknown.
    #[error("the report of this case cannot be verified, so it is unknown whom to send to")]
    NoReport,
    /// The sender is not a member of the case.
    #[error("you are not a member of this case")]
    NotMember,
    /// The advisor to add is a member already.
    #[error("that advisor is already on this case")]
    AlreadyMember,
    /// The advisor to remove is not a member.
    #[error("that advisor is not on this case")]
    NotAMember,
    /// Removing the last member.
    #[error("the last advisor of a case cannot be removed")]
    LastMember,
    /// No member at all can be reached.
    #[error("no advisor of this case has a valid key")]
    NobodyReachable,
    /// A body or message too large.
    #[error("too large")]
    TooLarge,
    /// An envelope to re-wrap is not of this case (purpose or organisation).
    #[error("not a message or attachment of this case")]
    NotOfThisCase,
    /// The envelope layer.
    #[error("envelope: {0}")]
    Envelope(EnvelopeError),
}

impl SealError {
    /// A short stable code the pages translate.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            SealError::NoAdvisor => "no_advisor",
            SealError::AdvisorNotUsable(_) => "advisor_not_usable",
            SealError::NoReport => "cannot_reply",
            SealError::NotMember => "not_member",
            SealError::AlreadyMember => "already_member",
            SealError::NotAMember => "not_a_member",
            SealError::LastMember => "last_member",
            SealError::NobodyReachable => "nobody_reachable",
            SealError::TooLarge => "too_large",
            SealError::NotOfThisCase => "bad_envelope",
            SealError::Envelope(EnvelopeError::TooManyRecipients) => "too_many_recipients",
            SealError::Envelope(EnvelopeError::Decrypt) => "cannot_decrypt",
            SealError::Envelope(_) => "bad_envelope",
        }
    }
}

/// A sealed message.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The envelope.
    pub envelope: Vec<u8>,
    /// The signed message inside (its hash is what the sender remembers, §5.1).
    pub message: Message,
    /// Members that could not be sealed to (the caller shows them).
    pub unreachable: Vec<IdentityPublicKey>,
}

fn seal_message<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    to: &[RecipientKey],
    message: Message,
    unreachable: Vec<IdentityPublicKey>,
) -> Result<Sealed, SealError> {
    let envelope = envelope::seal(rng, purpose, org, to, message.as_bytes()).map_err(SealError::Envelope)?;
    Ok(Sealed { envelope, message, unreachable })
}

/// The recipients of a new report and of its attachments: the chosen advisors' current keys
/// and the reporter's own reply key.
///
/// # Errors
/// [`SealError::NoAdvisor`], [`SealError::AdvisorNotUsable`].
pub fn report_recipients(keys: &ReporterKeys, chosen: &[&Verified]) -> Result<Vec<RecipientKey>, SealError> {
    if chosen.is_empty() {
        return Err(SealError::NoAdvisor);
    }
    let mut to = Vec::with_capacity(chosen.len() + 1);
    for c in chosen {
        let r = c.recipient.ok_or_else(|| SealError::AdvisorNotUsable(c.id.clone()))?;
        if !to.iter().any(|k: &RecipientKey| k.key_id() == r.key_id()) {
            to.push(r);
        }
    }
    to.push(keys.reply_key().recipient());
    Ok(to)
}

/// Signs and seals a report (§5 kind 1, §6.1): `body.advisors` is set to the identities of
/// `chosen` (verified advisors the reporter picked, pins applied), and the envelope goes to
/// their current keys and the reporter's reply key.
///
/// # Errors
/// See [`report_recipients`]; [`SealError::TooLarge`].
pub fn seal_report<R: CryptoRng + ?Sized>(
    rng: &mut R,
    keys: &ReporterKeys,
    org: &str,
    chosen: &[&Verified],
    mut body: ReportBody,
    now: i64,
) -> Result<Sealed, SealError> {
    let to = report_recipients(keys, chosen)?;
    let mut identities: Vec<IdentityPublicKey> = Vec::new();
    for c in chosen {
        if !identities.contains(&c.identity) {
            identities.push(c.identity);
        }
    }
    body.advisors = identities.iter().map(|i| b64(&i.to_bytes())).collect();
    let json = serde_json::to_vec(&body).map_err(|_| SealError::TooLarge)?;
    let message = Message::sign_report(keys.signing_key(), &keys.reply_key().recipient(), now, &json)
        .map_err(|_| SealError::TooLarge)?;
    seal_message(rng, Purpose::Report, org, &to, message, Vec::new())
}

/// The recipients of a reporter's follow-up or attachment: every member's current key and the
/// reporter's own reply key (§10.3).
///
/// # Errors
/// [`SealError::NoReport`] if the case's report was not verified; [`SealError::NobodyReachable`].
pub fn follow_up_recipients(keys: &ReporterKeys, case: &CaseView) -> Result<crate::case::Recipients, SealError> {
    if case.reporter != Some(keys.signing_key().public()) || case.reply_key.is_none() {
        return Err(SealError::NoReport);
    }
    let r = case.recipients(None, &[]);
    if r.keys.len() < 2 {
        return Err(SealError::NobodyReachable);
    }
    Ok(r)
}

/// Signs a follow-up (kind 2, parent = the newest readable message) and seals it to the
/// members and the reporter.
///
/// # Errors
/// See [`follow_up_recipients`]; [`SealError::TooLarge`].
pub fn seal_follow_up<R: CryptoRng + ?Sized>(
    rng: &mut R,
    keys: &ReporterKeys,
    case: &CaseView,
    body: &MessageBody,
    now: i64,
) -> Result<Sealed, SealError> {
    let r = follow_up_recipients(keys, case)?;
    let head = case.head.ok_or(SealError::NoReport)?;
    let json = serde_json::to_vec(body).map_err(|_| SealError::TooLarge)?;
    let message = Message::sign_follow_up(keys.signing_key(), &head, now, &json).map_err(|_| SealError::TooLarge)?;
    seal_message(rng, Purpose::Message, &case.org, &r.keys, message, r.unreachable)
}

fn advisor_preconditions(identity: &IdentityKey, case: &CaseView) -> Result<[u8; 32], SealError> {
    if case.reporter.is_none() || case.reply_key.is_none() {
        return Err(SealError::NoReport);
    }
    if !case.is_member(&identity.public()) {
        return Err(SealError::NotMember);
    }
    case.head.ok_or(SealError::NoReport)
}

/// Signs a reply (kind 3) by a member and seals it to the reporter, the other members and
/// `own` (the sender's current key, to read it back).
///
/// # Errors
/// [`SealError::NoReport`], [`SealError::NotMember`], [`SealError::TooLarge`].
pub fn seal_reply<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &IdentityKey,
    own: Option<RecipientKey>,
    case: &CaseView,
    body: &MessageBody,
    now: i64,
) -> Result<Sealed, SealError> {
    let head = advisor_preconditions(identity, case)?;
    let me = identity.public();
    let r = case.recipients(Some(&me), own.as_slice());
    let json = serde_json::to_vec(body).map_err(|_| SealError::TooLarge)?;
    let message = Message::sign_reply(identity, &head, now, &json).map_err(|_| SealError::TooLarge)?;
    seal_message(rng, Purpose::Message, &case.org, &r.keys, message, r.unreachable)
}

/// Signs and seals the statement that adds a confirmed colleague (§10.3): to the reporter,
/// every member, the colleague and `own`.
///
/// # Errors
/// [`SealError::NoReport`], [`SealError::NotMember`], [`SealError::AlreadyMember`].
pub fn seal_add<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &IdentityKey,
    own: Option<RecipientKey>,
    case: &CaseView,
    colleague: &Confirmed,
    now: i64,
) -> Result<Sealed, SealError> {
    let head = advisor_preconditions(identity, case)?;
    if case.is_member(&colleague.identity()) {
        return Err(SealError::AlreadyMember);
    }
    let me = identity.public();
    let mut extra = vec![colleague.recipient()];
    extra.extend(own);
    let r = case.recipients(Some(&me), &extra);
    let statement = Statement { op: Op::Add, advisor: colleague.identity() };
    let message =
        Message::sign_membership(identity, &head, now, &statement.to_bytes()).map_err(|_| SealError::TooLarge)?;
    seal_message(rng, Purpose::Message, &case.org, &r.keys, message, r.unreachable)
}

/// Signs and seals the statement that removes `advisor` (a member; possibly the sender, who
/// then leaves the case) (§10.3): to the reporter and the remaining members (and `own` unless
/// the sender leaves).
///
/// # Errors
/// [`SealError::NoReport`], [`SealError::NotMember`], [`SealError::NotAMember`],
/// [`SealError::LastMember`].
pub fn seal_remove<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &IdentityKey,
    own: Option<RecipientKey>,
    case: &CaseView,
    advisor: &IdentityPublicKey,
    now: i64,
) -> Result<Sealed, SealError> {
    let head = advisor_preconditions(identity, case)?;
    if !case.is_member(advisor) {
        return Err(SealError::NotAMember);
    }
    if case.members.len() <= 1 {
        return Err(SealError::LastMember);
    }
    let me = identity.public();
    let mut remaining = case.clone();
    remaining.members.retain(|m| m != advisor && *m != me);
    let extra: Vec<RecipientKey> = if *advisor == me { Vec::new() } else { own.into_iter().collect() };
    let r = remaining.recipients(None, &extra);
    let statement = Statement { op: Op::Remove, advisor: *advisor };
    let message =
        Message::sign_membership(identity, &head, now, &statement.to_bytes()).map_err(|_| SealError::TooLarge)?;
    seal_message(rng, Purpose::Message, &case.org, &r.keys, message, r.unreachable)
}

/// What an envelope to re-wrap is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareTarget {
    /// A message (the report or a later one).
    Message,
    /// An attachment.
    Attachment,
}

/// A detached stanza (§3.6) that gives a confirmed colleague one envelope of `case`: the
/// envelope (or at least its header) must be of the case's organisation and of the expected
/// purpose (report or message for [`ShareTarget::Message`], attachment otherwise).
///
/// # Errors
/// [`SealError::NotOfThisCase`], [`SealError::Envelope`] (`Decrypt` if it does not open).
pub fn share_stanza<R: CryptoRng + ?Sized>(
    rng: &mut R,
    keys: &[&DecryptionKey],
    case: &CaseView,
    envelope_or_header: &[u8],
    detached: &[&[u8]],
    target: ShareTarget,
    colleague: &Confirmed,
) -> Result<[u8; 96], SealError> {
    let (header, _) = Header::parse(envelope_or_header).map_err(SealError::Envelope)?;
    let purpose_ok = match target {
        ShareTarget::Message => matches!(header.purpose(), Purpose::Report | Purpose::Message),
        ShareTarget::Attachment => header.purpose() == Purpose::Attachment,
    };
    if !purpose_ok || header.org() != case.org {
        return Err(SealError::NotOfThisCase);
    }
    envelope::rewrap(envelope_or_header, keys, detached, &colleague.recipient(), rng).map_err(SealError::Envelope)
}

/// Checks that an attachment envelope's header is of this case before opening it: purpose
/// attachment and the case's organisation.
///
/// # Errors
/// [`SealError::NotOfThisCase`], or the header does not parse.
pub fn check_attachment_header(case_org: &str, header_bytes: &[u8]) -> Result<(), SealError> {
    let (header, _) = Header::parse(header_bytes).map_err(SealError::Envelope)?;
    if header.purpose() != Purpose::Attachment || header.org() != case_org {
        return Err(SealError::NotOfThisCase);
    }
    Ok(())
}
