//! Opening a case: envelopes, transcript, membership (`docs/protocol.md` §3, §5.1, §10).
//!
//! [`open`] takes what the server sent (the envelopes in server order with the viewer's
//! detached stanzas, and the advisors it lists for the case) and decides, without trusting
//! any of it:
//!
//! - which envelopes open with the viewer's keys **and** have the expected purpose (report for
//!   the first message, message for the others) and organisation;
//! - whether the transcript verifies (§5.1), with the first problem ranked and located;
//! - who the **members** of the case are (§10.2): the advisors named in the reporter's signed
//!   report plus those added, minus those removed, by membership statements signed by an
//!   advisor who was a member at that point of the transcript. Only members' replies are
//!   trusted, and only members are ever sealed to;
//! - which advisors the server lists that are not members, and which members it does not list
//!   ([`Warning`]).

use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityPublicKey;
use meldpunt_crypto::message::{Message, MessageHash, MessageKind};
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};

use crate::advisors::Verified;
use crate::body::chosen_in_report;
use crate::membership::{Op, Statement};

/// Who is opening the case.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    /// The reporter, with the signing key derived from the pickup code: the report must be
    /// signed by it, or the case is not theirs.
    Reporter(IdentityPublicKey),
    /// An advisor, with their identity key.
    Advisor(IdentityPublicKey),
}

/// One envelope as the server sent it.
#[derive(Debug, Clone, Default)]
pub struct EnvelopeIn {
    /// The envelope bytes.
    pub envelope: Vec<u8>,
    /// The viewer's detached stanzas for it (§3.6).
    pub detached: Vec<Vec<u8>>,
}

/// What the transcript or an envelope got wrong (ranked: see [`open`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A message's signature does not verify.
    Forged,
    /// A message does not parse, or is not where its kind allows.
    Malformed,
    /// The first message is not a report signed by this reporter's key (reporter only): the
    /// server sent someone else's case, or a forged one.
    NotMine,
    /// Signed by someone who was not a member of the case at that point (§10.2).
    UnknownAuthor,
    /// A message is missing (a parent is not in the list).
    Gap,
    /// A message comes before its parent.
    Reordered,
    /// A message is served again: its hash equals that of an earlier message in the list (a
    /// replayed membership statement would otherwise undo a later one).
    Replayed,
    /// An envelope opened, but is not a report/message (a swapped attachment, or a message in
    /// the report's place).
    WrongPurpose,
    /// An envelope opened, but was sealed for another organisation.
    WrongOrg,
    /// An envelope does not open with the viewer's keys.
    Unreadable,
    /// A message the viewer sent in this session is not in the list.
    MissingSent,
}

impl ProblemKind {
    /// A short stable code the pages translate.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Forged => "forged",
            ProblemKind::Malformed => "malformed",
            ProblemKind::NotMine => "not_mine",
            ProblemKind::UnknownAuthor => "unknown_author",
            ProblemKind::Gap => "gap",
            ProblemKind::Reordered => "reordered",
            ProblemKind::Replayed => "replayed",
            ProblemKind::WrongPurpose => "wrong_purpose",
            ProblemKind::WrongOrg => "wrong_org",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::MissingSent => "missing_sent",
        }
    }
}

/// A problem and the index (server order) of the message it is about; for
/// [`ProblemKind::MissingSent`] the index is the number of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    /// What.
    pub kind: ProblemKind,
    /// Where.
    pub index: usize,
}

/// What a readable message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// The report.
    Report,
    /// A reporter's follow-up.
    FollowUp,
    /// An advisor's reply.
    Reply,
    /// A membership statement.
    Membership(Statement),
    /// The envelope could not be opened or the message not parsed.
    Unreadable,
}

impl EntryKind {
    /// `report`, `follow_up`, `reply`, `member_added`, `member_removed` or `unreadable`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            EntryKind::Report => "report",
            EntryKind::FollowUp => "follow_up",
            EntryKind::Reply => "reply",
            EntryKind::Membership(Statement { op: Op::Add, .. }) => "member_added",
            EntryKind::Membership(Statement { op: Op::Remove, .. }) => "member_removed",
            EntryKind::Unreadable => "unreadable",
        }
    }
}

/// One message of the case, in server order.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Position in the server's list.
    pub index: usize,
    /// What it is.
    pub kind: EntryKind,
    /// The message, if it opened and parsed.
    pub message: Option<Message>,
    /// The signer (report, follow-up: the reporter's signing key; reply, statement: an advisor).
    pub author: Option<IdentityPublicKey>,
    /// Whether the signature verifies and the signer had the right to write it at this point
    /// (the reporter for kinds 1–2, a member for kinds 3–4).
    pub trusted: bool,
    /// Whether the parent is an earlier message in the list (or zero, for the report).
    pub parent_known: bool,
    /// Whether the viewer wrote it (the reporter's own key, or the advisor's own identity).
    pub mine: bool,
    /// What is wrong with this message, if anything.
    pub problem: Option<ProblemKind>,
}

/// Something the server says that the transcript does not back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The server lists this advisor on the case, but no signed statement makes them a member:
    /// they are never sealed to, and their replies are not trusted.
    ListedNotMember {
        /// The server's id.
        id: String,
        /// Fingerprint, display form.
        fingerprint: String,
    },
    /// A member the server does not list: later messages cannot be sealed to them.
    MemberNotListed {
        /// Fingerprint, display form.
        fingerprint: String,
    },
    /// A member the server lists without a key that verifies now: they cannot read later
    /// messages until they publish one.
    MemberWithoutKey {
        /// The server's id.
        id: String,
        /// Fingerprint, display form.
        fingerprint: String,
        /// Why (a [`crate::advisors::KeyProblem`] code).
        problem: &'static str,
    },
}

impl Warning {
    /// `listed_not_member`, `member_not_listed` or `member_without_key`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Warning::ListedNotMember { .. } => "listed_not_member",
            Warning::MemberNotListed { .. } => "member_not_listed",
            Warning::MemberWithoutKey { .. } => "member_without_key",
        }
    }

    /// The fingerprint the warning is about.
    #[must_use]
    pub fn fingerprint(&self) -> &str {
        match self {
            Warning::ListedNotMember { fingerprint, .. }
            | Warning::MemberNotListed { fingerprint }
            | Warning::MemberWithoutKey { fingerprint, .. } => fingerprint,
        }
    }
}

/// A case as this client judges it.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The organisation every envelope must be sealed for.
    pub org: String,
    /// Every message, in server order.
    pub entries: Vec<Entry>,
    /// The first problem by rank, if any.
    pub problem: Option<Problem>,
    /// The members now (§10.2), in the order they became members.
    pub members: Vec<IdentityPublicKey>,
    /// Members as each was when the report was read: the advisors the reporter chose.
    pub chosen: Vec<IdentityPublicKey>,
    /// The advisors the server lists for the case, verified (names and keys; never trust).
    pub listed: Vec<Verified>,
    /// Ids of listed advisors whose identity key does not even parse.
    pub listed_malformed: Vec<String>,
    /// Warnings about the server's list.
    pub warnings: Vec<Warning>,
    /// The reporter's signing key, from a readable, correctly signed report.
    pub reporter: Option<IdentityPublicKey>,
    /// The reporter's reply key, from that report.
    pub reply_key: Option<RecipientKey>,
    /// The hash of the newest readable message: the parent of the next one.
    pub head: Option<MessageHash>,
    /// The hashes of the readable messages, in order.
    pub hashes: Vec<MessageHash>,
}

/// Everything [`open`] needs.
#[derive(Debug)]
pub struct OpenInput<'a> {
    /// Who opens.
    pub viewer: Viewer,
    /// The organisation the envelopes must be for: for the reporter the organisation of the
    /// link, for an advisor the organisation the server says the case belongs to.
    pub org: &'a str,
    /// The envelopes, in server order.
    pub envelopes: &'a [EnvelopeIn],
    /// The viewer's decryption keys.
    pub keys: &'a [&'a DecryptionKey],
    /// The advisors the server lists for the case, verified with [`crate::advisors::verify_all`].
    pub listed: Vec<Verified>,
    /// Ids of listed advisors whose identity did not parse.
    pub listed_malformed: Vec<String>,
    /// Hashes of messages the viewer sent in this session.
    pub sent: &'a [MessageHash],
}

fn rank(kind: ProblemKind) -> u8 {
    match kind {
        ProblemKind::Forged
        | ProblemKind::Malformed
        | ProblemKind::NotMine
        | ProblemKind::UnknownAuthor
        | ProblemKind::Gap
        | ProblemKind::Reordered
        | ProblemKind::Replayed
        | ProblemKind::WrongPurpose
        | ProblemKind::WrongOrg => 0,
        ProblemKind::Unreadable => 1,
        ProblemKind::MissingSent => 2,
    }
}

/// Opens and judges a case.
///
/// Ranking of [`CaseView::problem`]: the first (in server order) of forged, malformed, not
/// the reporter's own, unknown author, gap, reordered, wrong purpose and wrong organisation;
/// else the first unreadable envelope; else a missing sent message. A gap right after an
/// unreadable envelope is reported as that unreadable envelope (the missing parent is most
/// likely the message that could not be opened).
#[must_use]
pub fn open(input: OpenInput<'_>) -> CaseView {
    let OpenInput { viewer, org, envelopes, keys, listed, listed_malformed, sent } = input;
    let me = match viewer {
        Viewer::Reporter(k) | Viewer::Advisor(k) => k,
    };

    // 1. Open every envelope with the expected purpose and organisation.
    let mut entries: Vec<Entry> = Vec::with_capacity(envelopes.len());
    for (index, e) in envelopes.iter().enumerate() {
        let want = if index == 0 { Purpose::Report } else { Purpose::Message };
        let detached: Vec<&[u8]> = e.detached.iter().map(Vec::as_slice).collect();
        let mut entry = Entry {
            index,
            kind: EntryKind::Unreadable,
            message: None,
            author: None,
            trusted: false,
            parent_known: false,
            mine: false,
            problem: None,
        };
        match envelope::open(&e.envelope, keys, &detached) {
            Err(_) => entry.problem = Some(ProblemKind::Unreadable),
            Ok(o) if o.purpose != want => entry.problem = Some(ProblemKind::WrongPurpose),
            Ok(o) if o.org != org => entry.problem = Some(ProblemKind::WrongOrg),
            Ok(o) => match Message::from_bytes(&o.plaintext) {
                Ok(m) => entry.message = Some(m),
                Err(_) => entry.problem = Some(ProblemKind::Malformed),
            },
        }
        entries.push(entry);
    }

    // 2. Walk the transcript (§5.1 with the membership rules of §10.2).
    let readable_hashes: Vec<(usize, MessageHash)> = entries
        .iter()
        .filter_map(|e| e.message.as_ref().map(|m| (e.index, m.hash())))
        .collect();
    let mut members: Vec<IdentityPublicKey> = Vec::new();
    let mut chosen: Vec<IdentityPublicKey> = Vec::new();
    let mut reporter: Option<IdentityPublicKey> = None;
    let mut reply_key: Option<RecipientKey> = None;
    let mut seen_unreadable = false;
    for entry in &mut entries {
        let Some(message) = entry.message.clone() else {
            seen_unreadable = true;
            continue;
        };
        let index = entry.index;
        entry.author = message.author();
        entry.mine = sent.contains(&message.hash()) || message.author_bytes() == me.to_bytes();
        let signature_ok = message.verify_signature();
        entry.kind = match message.kind() {
            MessageKind::Report => EntryKind::Report,
            MessageKind::FollowUp => EntryKind::FollowUp,
            MessageKind::Reply => EntryKind::Reply,
            MessageKind::Membership => match Statement::from_bytes(message.body()) {
                Ok(s) => EntryKind::Membership(s),
                Err(_) => {
                    entry.problem = Some(ProblemKind::Malformed);
                    continue;
                }
            },
        };
        // Parent.
        let parent = message.parent();
        entry.parent_known = if index == 0 {
            parent == [0u8; 32]
        } else {
            readable_hashes.iter().any(|(j, h)| *j < index && *h == parent)
        };
        let parent_problem = if index == 0 || entry.parent_known {
            None
        } else if readable_hashes.iter().any(|(j, h)| *j > index && *h == parent) {
            Some(ProblemKind::Reordered)
        } else if seen_unreadable {
            Some(ProblemKind::Unreadable)
        } else {
            Some(ProblemKind::Gap)
        };
        let author = message.author_bytes();
        let is_member = members.iter().any(|m| m.to_bytes() == author);
        let replayed = readable_hashes
            .iter()
            .any(|(j, h)| *j < index && *h == message.hash());
        let problem = if !signature_ok {
            Some(ProblemKind::Forged)
        } else if replayed {
            Some(ProblemKind::Replayed)
        } else {
            match (index, message.kind()) {
                (0, MessageKind::Report) => match viewer {
                    Viewer::Reporter(mine) if mine.to_bytes() != author => Some(ProblemKind::NotMine),
                    _ => None,
                },
                (0, _) | (_, MessageKind::Report) => Some(ProblemKind::Malformed),
                // Without a valid report nobody's authority is known: the report's own
                // problem is what to report, and nothing later is trusted.
                (_, _) if reporter.is_none() => None,
                (_, MessageKind::FollowUp) => {
                    (reporter.is_none_or(|r| r.to_bytes() != author)).then_some(ProblemKind::UnknownAuthor)
                }
                (_, MessageKind::Reply | MessageKind::Membership) => (!is_member).then_some(ProblemKind::UnknownAuthor),
            }
        }
        .or(parent_problem);
        entry.problem = problem;
        entry.trusted = signature_ok
            && match entry.kind {
                EntryKind::Report => index == 0 && problem != Some(ProblemKind::NotMine),
                EntryKind::FollowUp => reporter.is_some_and(|r| r.to_bytes() == author),
                EntryKind::Reply | EntryKind::Membership(_) => is_member,
                EntryKind::Unreadable => false,
            };
        // State changes only from a message that is in order and trusted.
        if problem.is_some() {
            continue;
        }
        match entry.kind {
            EntryKind::Report => {
                reporter = message.author();
                reply_key = message.reply_key();
                chosen = chosen_in_report(message.body());
                members = chosen.clone();
            }
            EntryKind::Membership(s) if entry.trusted => match s.op {
                Op::Add => {
                    if !members.contains(&s.advisor) {
                        members.push(s.advisor);
                    }
                }
                Op::Remove => members.retain(|m| *m != s.advisor),
            },
            _ => {}
        }
    }

    // 3. The first problem by rank.
    let mut problem: Option<Problem> = entries
        .iter()
        .filter_map(|e| e.problem.map(|kind| Problem { kind, index: e.index }))
        .min_by_key(|p| (rank(p.kind), p.index));
    let hashes: Vec<MessageHash> = readable_hashes.iter().map(|(_, h)| *h).collect();
    if problem.is_none() && sent.iter().any(|h| !hashes.contains(h)) {
        problem = Some(Problem { kind: ProblemKind::MissingSent, index: entries.len() });
    }
    let head = hashes.last().copied();

    // 4. The server's list against the members.
    let mut warnings = Vec::new();
    for l in &listed {
        if !members.contains(&l.identity) {
            warnings.push(Warning::ListedNotMember { id: l.id.clone(), fingerprint: l.fingerprint() });
        }
    }
    for id in &listed_malformed {
        warnings.push(Warning::ListedNotMember { id: id.clone(), fingerprint: String::new() });
    }
    for m in &members {
        match listed.iter().find(|l| l.identity == *m && l.usable()).or_else(|| listed.iter().find(|l| l.identity == *m)) {
            None => warnings.push(Warning::MemberNotListed { fingerprint: m.fingerprint().to_display() }),
            Some(l) if !l.usable() => warnings.push(Warning::MemberWithoutKey {
                id: l.id.clone(),
                fingerprint: l.fingerprint(),
                problem: l.problem.map_or("no_key", crate::advisors::KeyProblem::code),
            }),
            Some(_) => {}
        }
    }

    CaseView {
        org: org.to_owned(),
        entries,
        problem,
        members,
        chosen,
        listed,
        listed_malformed,
        warnings,
        reporter,
        reply_key,
        head,
        hashes,
    }
}

/// The keys a new message of the case goes to.
#[derive(Debug, Clone, Default)]
pub struct Recipients {
    /// The keys, without duplicates.
    pub keys: Vec<RecipientKey>,
    /// Members that cannot be sealed to (not listed, or no key that verifies now).
    pub unreachable: Vec<IdentityPublicKey>,
}

impl Recipients {
    fn push(&mut self, key: RecipientKey) {
        if !self.keys.iter().any(|k| k.key_id() == key.key_id()) {
            self.keys.push(key);
        }
    }
}

impl CaseView {
    /// Whether the case opened without any problem.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }

    /// Whether `identity` is a member now.
    #[must_use]
    pub fn is_member(&self, identity: &IdentityPublicKey) -> bool {
        self.members.contains(identity)
    }

    /// The verified listing of a member with a usable key, if the server lists one.
    #[must_use]
    pub fn member_key(&self, identity: &IdentityPublicKey) -> Option<RecipientKey> {
        if !self.is_member(identity) {
            return None;
        }
        self.listed.iter().find(|l| l.identity == *identity).and_then(|l| l.recipient)
    }

    /// The recipients of a new message (§10.3): the reporter's reply key (if known), the
    /// current key of every member except `except`, plus `extra` (already verified keys, such
    /// as the sender's own, or a colleague being added). Never a key of a non-member from the
    /// server's list.
    #[must_use]
    pub fn recipients(&self, except: Option<&IdentityPublicKey>, extra: &[RecipientKey]) -> Recipients {
        let mut r = Recipients::default();
        if let Some(k) = self.reply_key {
            r.push(k);
        }
        for m in &self.members {
            if Some(m) == except {
                continue;
            }
            match self.member_key(m) {
                Some(k) => r.push(k),
                None => r.unreachable.push(*m),
            }
        }
        for k in extra {
            r.push(*k);
        }
        r
    }

    /// The display name the server gives a member (only for members; never for others).
    #[must_use]
    pub fn member_name(&self, identity: &IdentityPublicKey) -> Option<&str> {
        if !self.is_member(identity) {
            return None;
        }
        self.listed.iter().find(|l| l.identity == *identity).map(|l| l.display_name.as_str())
    }

    /// The server's id for a member (to address API calls; never for others).
    #[must_use]
    pub fn member_id(&self, identity: &IdentityPublicKey) -> Option<&str> {
        if !self.is_member(identity) {
            return None;
        }
        self.listed.iter().find(|l| l.identity == *identity).map(|l| l.id.as_str())
    }
}
