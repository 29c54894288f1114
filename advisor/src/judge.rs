//! A case as the advisor's device judges it: the server's answer goes into `meldpunt-client`
//! (`case::open` with the advisor as viewer and the case's organisation as the expected one),
//! and only what the core decides is used: who the members are, which messages are trusted,
//! whom a new message is sealed to, and what to warn about. No rule of the protocol is
//! decided in this file; it only fetches, converts and words the core's findings.

use anyhow::{anyhow, bail};
use meldpunt_client::advisors::{self, Listed};
use meldpunt_client::case::{
    self, CaseView, EnvelopeIn, OpenInput, Problem, ProblemKind, Viewer, Warning,
};
use meldpunt_client::unb64;
use meldpunt_crypto::keyring::Keyring;
use meldpunt_crypto::keys::IdentityPublicKey;
use serde_json::Value;

use crate::client::Api;
use crate::day::now_secs;
use crate::text::{at, clean, s};

/// The detached stanzas the server lists for one message or attachment.
pub fn detached(v: &Value) -> anyhow::Result<Vec<Vec<u8>>> {
    at(v, "stanzas")
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            x.as_str()
                .and_then(|t| unb64(t).ok())
                .ok_or_else(|| anyhow!("the server sent a malformed stanza"))
        })
        .collect()
}

/// One advisor entry of a server list, read tolerantly: an entry that does not even have the
/// right shape becomes one with only its id (so that the core reports it as not a member).
fn listed_of(v: &Value) -> Listed {
    serde_json::from_value::<Listed>(v.clone()).unwrap_or_else(|_| Listed {
        id: s(v, "id").to_owned(),
        ..Listed::default()
    })
}

/// The advisors of a server list (`advisors` of a case view or an organisation page).
pub fn listed_in(v: &Value) -> Vec<Listed> {
    at(v, "advisors")
        .as_array()
        .into_iter()
        .flatten()
        .map(listed_of)
        .collect()
}

/// A case fetched from the server and judged by the core.
#[derive(Debug)]
pub struct Judged {
    /// The case id.
    pub id: String,
    /// The server's answer, for what the core does not judge (status, dates, attachments).
    pub raw: Value,
    /// The envelopes as handed to the core, in server order.
    pub envelopes: Vec<EnvelopeIn>,
    /// What the core decided.
    pub view: CaseView,
    /// The advisor's own identity.
    pub me: IdentityPublicKey,
}

/// Fetches case `id` and opens it through the core as `keyring`'s advisor.
pub fn load(api: &Api, keyring: &Keyring, id: &str) -> anyhow::Result<Judged> {
    let raw = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let org = s(&raw, "org").to_owned();
    if org.is_empty() {
        bail!("the server did not say which organisation case {id} belongs to");
    }
    let mut envelopes = Vec::new();
    for m in at(&raw, "messages").as_array().into_iter().flatten() {
        let envelope = at(m, "envelope")
            .as_str()
            .and_then(|t| unb64(t).ok())
            .ok_or_else(|| anyhow!("the server sent a malformed message envelope"))?;
        envelopes.push(EnvelopeIn {
            envelope,
            detached: detached(m)?,
        });
    }
    let (listed, listed_malformed) = advisors::verify_all(&listed_in(&raw), now_secs());
    let keys = keyring.decryption_keys();
    let me = keyring.identity().public();
    let view = case::open(OpenInput {
        viewer: Viewer::Advisor(me),
        org: &org,
        envelopes: &envelopes,
        keys: &keys,
        listed,
        listed_malformed,
        sent: &[],
    });
    Ok(Judged {
        id: id.to_owned(),
        raw,
        envelopes,
        view,
        me,
    })
}

impl Judged {
    /// `appointed by … since …` as the server says, for a listed advisor (informational).
    pub fn appointed(&self, id: &str) -> String {
        let Some(a) = at(&self.raw, "advisors")
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| s(a, "id") == id)
        else {
            return String::new();
        };
        let by = match s(a, "appointed_by") {
            "organisation" => "the organisation",
            "branch" => "the branch organisation",
            "" => return String::new(),
            _ => "(unknown)",
        };
        let since = clean(s(a, "appointed_since"));
        if since.is_empty() {
            format!(", appointed by {by}")
        } else {
            format!(", appointed by {by} since {since}")
        }
    }

    /// How to name an identity: a member by the server's display name (plus "(you)"), anyone
    /// else only by fingerprint: the server's name for a non-member is never shown as theirs.
    pub fn name_of(&self, identity: &IdentityPublicKey) -> String {
        let you = if *identity == self.me { " (you)" } else { "" };
        match self.view.member_name(identity) {
            Some(n) => format!("{}{you}", clean(n)),
            None if *identity == self.me => "you".to_owned(),
            None => format!(
                "someone who is not a member of this case (fingerprint {})",
                identity.fingerprint().to_display()
            ),
        }
    }

    /// The server's display name for a listed advisor (only ever shown next to a warning or
    /// their fingerprint), or their id.
    fn listed_name(&self, id: &str) -> String {
        self.view
            .listed
            .iter()
            .find(|l| l.id == id)
            .map(|l| clean(&l.display_name))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("advisor {}", clean(id)))
    }

    /// One line per warning of the core about the server's list.
    pub fn warning_lines(&self) -> Vec<String> {
        self.view
            .warnings
            .iter()
            .map(|w| match w {
                Warning::ListedNotMember { id, fingerprint } => {
                    let name = self.listed_name(id);
                    let fp = if fingerprint.is_empty() { "malformed identity key".to_owned() } else { format!("fingerprint {fingerprint}") };
                    format!(
                        "Warning: the server lists {name} ({fp}) who is not a member of this case: never sealed to, \
                         and their messages are not trusted. Nobody in the signed conversation added them."
                    )
                }
                Warning::MemberNotListed { fingerprint } => format!(
                    "Warning: a member of this case (fingerprint {fingerprint}) is not listed by the server: new \
                     messages cannot be sealed to them."
                ),
                Warning::MemberWithoutKey { id, fingerprint, problem } => {
                    let name = self.listed_name(id);
                    format!(
                        "Warning: member {name} (fingerprint {fingerprint}) has no key that verifies now ({problem}): \
                         they cannot read new messages until they publish one."
                    )
                }
            })
            .collect()
    }

    /// Refuses unless the transcript has no problem (warnings about the server's list are
    /// shown by the caller; they never widen whom anything is sealed to).
    pub fn require_ok(&self, what: &str) -> anyhow::Result<()> {
        match self.view.problem {
            None => Ok(()),
            Some(p) => bail!("cannot {what}: {}; nothing was sent", problem_text(p)),
        }
    }

    /// The server's id for the advisor with this identity, if they are a member and listed.
    pub fn member_id(&self, identity: &IdentityPublicKey) -> Option<&str> {
        self.view.member_id(identity)
    }
}

/// The core's problem in words.
pub fn problem_text(p: Problem) -> String {
    let n = p.index + 1;
    match p.kind {
        ProblemKind::Forged => {
            format!("message {n} has a signature that does not verify: it may be forged")
        }
        ProblemKind::Malformed => format!("message {n} is damaged or not where it should be"),
        ProblemKind::NotMine => "the report is not the reporter's own".to_owned(),
        ProblemKind::UnknownAuthor => format!(
            "message {n} is signed by someone who is not a member of this case at that point (not added by a \
             signed statement of a member)"
        ),
        ProblemKind::Gap => format!("a message before message {n} is missing"),
        ProblemKind::Reordered => format!("message {n} is out of order"),
        ProblemKind::Replayed => {
            format!("message {n} is an earlier message served again by the server (ignored)")
        }
        ProblemKind::WrongPurpose => format!(
            "message {n} is not a message of a case (the server put another kind of envelope in its place)"
        ),
        ProblemKind::WrongOrg => {
            format!("message {n} was sealed for another organisation than this case's")
        }
        ProblemKind::Unreadable => format!(
            "message {n} cannot be decrypted with your keys (it was not sealed to you, or it is damaged)"
        ),
        ProblemKind::MissingSent => "a message you sent is missing".to_owned(),
    }
}
