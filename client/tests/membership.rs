//! Case membership (protocol §10) as a hostile server would try it: each test builds a real
//! case with real keys and hands the client core what a manipulating server would send.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use meldpunt_client::advisors::{self, Listed, Pins, Verified};
use meldpunt_client::body::{MessageBody, ReportBody};
use meldpunt_client::case::{self, CaseView, EntryKind, EnvelopeIn, OpenInput, ProblemKind, Viewer, Warning};
use meldpunt_client::colleagues::{ColleagueError, Colleagues};
use meldpunt_client::membership::Op;
use meldpunt_client::seal::{self, SealError, ShareTarget};
use meldpunt_client::b64;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::message::Message;
use meldpunt_crypto::pickup::{PickupCode, ReporterKeys};
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::os_rng;

const ORG: &str = "de-vries";
const NOW: i64 = 1_790_000_000;

struct Advisor {
    id: String,
    identity: IdentityKey,
    key: DecryptionKey,
}

impl Advisor {
    fn new(id: &str) -> Self {
        Advisor { id: id.into(), identity: IdentityKey::generate(&mut os_rng()), key: DecryptionKey::generate(&mut os_rng()) }
    }
    fn listed(&self) -> Listed {
        let bundle = self.identity.make_bundle(&self.key.recipient(), NOW - 10, NOW + 86_400).unwrap();
        Listed {
            id: self.id.clone(),
            display_name: format!("Advisor {}", self.id),
            identity: b64(&self.identity.public().to_bytes()),
            bundles: vec![b64(&bundle.to_bytes())],
            revocations: vec![],
        }
    }
    fn verified(&self) -> Verified {
        advisors::verify(&self.listed(), &Pins::none(), NOW).unwrap()
    }
}

fn reporter() -> ReporterKeys {
    PickupCode::generate(&mut os_rng()).derive_keys().unwrap()
}

fn report_body() -> ReportBody {
    ReportBody::from_json(r#"{"categories":["intimidatie"],"role":"affected","story":"Het gebeurde in het magazijn.","wishes":["talk"]}"#).unwrap()
}

fn text(t: &str) -> MessageBody {
    MessageBody { text: t.into(), attachments: vec![], contact: None }
}

/// A case on the "server": envelopes in order, with detached stanzas per advisor id.
#[derive(Default)]
struct Server {
    envelopes: Vec<Vec<u8>>,
    detached: Vec<Vec<(String, Vec<u8>)>>,
}

impl Server {
    fn push(&mut self, env: Vec<u8>) {
        self.envelopes.push(env);
        self.detached.push(Vec::new());
    }
    fn input_for(&self, viewer: &str) -> Vec<EnvelopeIn> {
        self.envelopes
            .iter()
            .zip(&self.detached)
            .map(|(e, d)| EnvelopeIn {
                envelope: e.clone(),
                detached: d.iter().filter(|(who, _)| who == viewer).map(|(_, s)| s.clone()).collect(),
            })
            .collect()
    }
}

fn open_as_advisor(server: &Server, a: &Advisor, listed: &[Listed]) -> CaseView {
    let envs = server.input_for(&a.id);
    let (listed, bad) = advisors::verify_all(listed, NOW);
    case::open(OpenInput {
        viewer: Viewer::Advisor(a.identity.public()),
        org: ORG,
        envelopes: &envs,
        keys: &[&a.key],
        listed,
        listed_malformed: bad,
        sent: &[],
    })
}

fn open_as_reporter(server: &Server, r: &ReporterKeys, listed: &[Listed]) -> CaseView {
    let envs = server.input_for("reporter");
    let (listed, bad) = advisors::verify_all(listed, NOW);
    case::open(OpenInput {
        viewer: Viewer::Reporter(r.signing_key().public()),
        org: ORG,
        envelopes: &envs,
        keys: &[r.reply_key()],
        listed,
        listed_malformed: bad,
        sent: &[],
    })
}

fn opens(env: &[u8], key: &DecryptionKey) -> bool {
    envelope::open(env, &[key], &[]).is_ok()
}

/// Reporter → A and B; A replies.
fn started(r: &ReporterKeys, a: &Advisor, b: &Advisor) -> Server {
    let mut server = Server::default();
    let sealed = seal::seal_report(&mut os_rng(), r, ORG, &[&a.verified(), &b.verified()], report_body(), NOW).unwrap();
    server.push(sealed.envelope);
    let view = open_as_advisor(&server, a, &[a.listed(), b.listed()]);
    assert!(view.ok(), "{:?}", view.problem);
    let reply = seal::seal_reply(&mut os_rng(), &a.identity, Some(a.key.recipient()), &view, &text("Dank je."), NOW).unwrap();
    server.push(reply.envelope);
    server
}

/// A reporter, advisors A and B, the server after [`started`] and the listing of A and B.
fn started_with_a_and_b() -> (ReporterKeys, Advisor, Advisor, Server, [Listed; 2]) {
    let (r, a, b) = (reporter(), Advisor::new("a"), Advisor::new("b"));
    let server = started(&r, &a, &b);
    let listed = [a.listed(), b.listed()];
    (r, a, b, server, listed)
}

/// A's statement, sealed on `view`, that removes B.
fn a_removes_b(a: &Advisor, b: &Advisor, view: &CaseView) -> seal::Sealed {
    seal::seal_remove(&mut os_rng(), &a.identity, Some(a.key.recipient()), view, &b.identity.public(), NOW).unwrap()
}

#[test]
fn a_listed_advisor_who_is_not_a_member_is_warned_about_and_never_sealed_to() {
    let (r, a, b, fake) = (reporter(), Advisor::new("a"), Advisor::new("b"), Advisor::new("fake"));
    let server = started(&r, &a, &b);
    let listed = [a.listed(), b.listed(), fake.listed()];

    // The advisor's reply and the reporter's follow-up both leave the relay's key out.
    let view = open_as_advisor(&server, &a, &listed);
    assert!(view.warnings.iter().any(|w| matches!(w, Warning::ListedNotMember { id, .. } if id == "fake")));
    let reply = seal::seal_reply(&mut os_rng(), &a.identity, Some(a.key.recipient()), &view, &text("x"), NOW).unwrap();
    assert!(!opens(&reply.envelope, &fake.key));
    assert!(opens(&reply.envelope, &b.key));

    let view = open_as_reporter(&server, &r, &listed);
    assert!(view.ok(), "{:?}", view.problem);
    assert!(view.warnings.iter().any(|w| w.code() == "listed_not_member"));
    let follow = seal::seal_follow_up(&mut os_rng(), &r, &view, &text("Nog iets."), NOW).unwrap();
    assert!(!opens(&follow.envelope, &fake.key));
    assert!(opens(&follow.envelope, &a.key) && opens(&follow.envelope, &b.key));

    // A reply the relay signs itself is not trusted by anyone.
    let mut forged = Server { envelopes: server.envelopes.clone(), detached: server.detached.clone() };
    let head = Message::from_bytes(&envelope::open(&forged.envelopes[1], &[&a.key], &[]).unwrap().plaintext).unwrap().hash();
    let msg = Message::sign_reply(&fake.identity, &head, NOW, br#"{"text":"Stuur je naam."}"#).unwrap();
    let to = [r.reply_key().recipient(), a.key.recipient(), b.key.recipient()];
    forged.push(envelope::seal(&mut os_rng(), Purpose::Message, ORG, &to, msg.as_bytes()).unwrap());
    for view in [open_as_reporter(&forged, &r, &listed), open_as_advisor(&forged, &a, &listed)] {
        assert_eq!(view.problem.map(|p| (p.kind, p.index)), Some((ProblemKind::UnknownAuthor, 2)));
        assert!(!view.entries[2].trusted);
    }
}

#[test]
fn a_share_makes_a_member_and_the_reporter_seals_follow_ups_to_them() {
    let (r, a, b, c) = (reporter(), Advisor::new("a"), Advisor::new("b"), Advisor::new("c"));
    let mut server = started(&r, &a, &b);
    let listed_before = [a.listed(), b.listed()];
    let view = open_as_advisor(&server, &a, &listed_before);

    // A confirms C by fingerprint and adds them.
    let colleagues = Colleagues::default();
    let c_listed = c.verified();
    assert!(matches!(colleagues.confirm(&a.identity.public(), &c_listed, None), Err(ColleagueError::NeedsFingerprint)));
    let wrong = b.identity.public().fingerprint().to_display();
    assert!(matches!(colleagues.confirm(&a.identity.public(), &c_listed, Some(&wrong)), Err(ColleagueError::Mismatch)));
    let confirmed = colleagues.confirm(&a.identity.public(), &c_listed, Some(&c_listed.fingerprint())).unwrap();
    let mut stanzas = Vec::new();
    for (i, env) in server.envelopes.iter().enumerate() {
        let det: Vec<&[u8]> = server.detached[i].iter().filter(|(w, _)| w == "a").map(|(_, s)| s.as_slice()).collect();
        stanzas.push(seal::share_stanza(&mut os_rng(), &[&a.key], &view, env, &det, ShareTarget::Message, &confirmed).unwrap());
    }
    let statement = seal::seal_add(&mut os_rng(), &a.identity, Some(a.key.recipient()), &view, &confirmed, NOW).unwrap();
    assert!(opens(&statement.envelope, &c.key) && opens(&statement.envelope, &b.key) && opens(&statement.envelope, r.reply_key()));
    for (i, s) in stanzas.into_iter().enumerate() {
        server.detached[i].push(("c".into(), s.to_vec()));
    }
    server.push(statement.envelope);
    let listed = [a.listed(), b.listed(), c.listed()];

    // Three follow-ups, each readable by all three advisors; C's reply is trusted by all.
    for n in 0..3 {
        let view = open_as_reporter(&server, &r, &listed);
        assert!(view.ok(), "follow-up {n}: {:?}", view.problem);
        assert_eq!(view.members.len(), 3);
        assert!(view.warnings.is_empty(), "{:?}", view.warnings);
        let f = seal::seal_follow_up(&mut os_rng(), &r, &view, &text(&format!("Aanvulling {n}")), NOW).unwrap();
        for adv in [&a, &b, &c] {
            assert!(opens(&f.envelope, &adv.key), "follow-up {n} not readable by {}", adv.id);
        }
        server.push(f.envelope);
    }
    let view = open_as_advisor(&server, &c, &listed);
    assert!(view.ok(), "{:?}", view.problem);
    assert!(matches!(view.entries[2].kind, EntryKind::Membership(s) if s.op == Op::Add && s.advisor == c.identity.public()));
    let reply = seal::seal_reply(&mut os_rng(), &c.identity, Some(c.key.recipient()), &view, &text("Ik help mee."), NOW).unwrap();
    server.push(reply.envelope);
    assert!(open_as_reporter(&server, &r, &listed).ok());
    assert!(open_as_advisor(&server, &b, &listed).ok());
}

#[test]
fn a_statement_by_a_non_member_adds_nobody() {
    let (r, a, b, x, y) = (reporter(), Advisor::new("a"), Advisor::new("b"), Advisor::new("x"), Advisor::new("y"));
    let mut server = started(&r, &a, &b);
    // X (not a member) signs "add Y", as a relay holding X's keys could.
    let view = open_as_advisor(&server, &a, &[a.listed(), b.listed()]);
    let statement = meldpunt_client::membership::Statement { op: Op::Add, advisor: y.identity.public() };
    let msg = Message::sign_membership(&x.identity, &view.head.unwrap(), NOW, &statement.to_bytes()).unwrap();
    let to = [r.reply_key().recipient(), a.key.recipient(), b.key.recipient()];
    server.push(envelope::seal(&mut os_rng(), Purpose::Message, ORG, &to, msg.as_bytes()).unwrap());
    let listed = [a.listed(), b.listed(), y.listed()];
    let view = open_as_reporter(&server, &r, &listed);
    assert_eq!(view.problem.map(|p| p.kind), Some(ProblemKind::UnknownAuthor));
    assert_eq!(view.members.len(), 2);
    let f = seal::seal_follow_up(&mut os_rng(), &r, &view, &text("x"), NOW).unwrap();
    assert!(!opens(&f.envelope, &y.key));
}

#[test]
fn removal_is_a_signed_statement_and_ends_trust() {
    let (r, a, b, mut server, listed) = started_with_a_and_b();
    let view = open_as_advisor(&server, &a, &listed);
    let rm = a_removes_b(&a, &b, &view);
    assert!(!opens(&rm.envelope, &b.key));
    server.push(rm.envelope);
    let view = open_as_reporter(&server, &r, &listed);
    assert!(view.ok());
    assert_eq!(view.members, vec![a.identity.public()]);
    assert_eq!(view.entries[2].kind.code(), "member_removed");
    let f = seal::seal_follow_up(&mut os_rng(), &r, &view, &text("x"), NOW).unwrap();
    assert!(!opens(&f.envelope, &b.key));
    // The last member cannot be removed.
    let view = open_as_advisor(&server, &a, &listed);
    assert!(matches!(
        seal::seal_remove(&mut os_rng(), &a.identity, None, &view, &a.identity.public(), NOW),
        Err(SealError::LastMember)
    ));
    // A reply B signs after the removal is not trusted.
    let msg = Message::sign_reply(&b.identity, &view.head.unwrap(), NOW, br#"{"text":"nog steeds hier"}"#).unwrap();
    server.push(envelope::seal(&mut os_rng(), Purpose::Message, ORG, &[r.reply_key().recipient()], msg.as_bytes()).unwrap());
    let view = open_as_reporter(&server, &r, &listed);
    assert_eq!(view.problem.map(|p| (p.kind, p.index)), Some((ProblemKind::UnknownAuthor, 3)));
}

#[test]
fn envelopes_of_the_wrong_purpose_or_organisation_are_refused() {
    let (r, a, _, server, listed) = started_with_a_and_b();
    let view = open_as_advisor(&server, &a, &listed);
    let head = view.head.unwrap();
    let msg = Message::sign_reply(&a.identity, &head, NOW, br#"{"text":"x"}"#).unwrap();
    let to = [r.reply_key().recipient(), a.key.recipient()];
    for (purpose, org, want) in [
        (Purpose::Attachment, ORG, ProblemKind::WrongPurpose),
        (Purpose::Report, ORG, ProblemKind::WrongPurpose),
        (Purpose::Message, "anker", ProblemKind::WrongOrg),
    ] {
        let mut s = Server { envelopes: server.envelopes.clone(), detached: server.detached.clone() };
        s.push(envelope::seal(&mut os_rng(), purpose, org, &to, msg.as_bytes()).unwrap());
        for view in [open_as_reporter(&s, &r, &listed), open_as_advisor(&s, &a, &listed)] {
            assert_eq!(view.problem.map(|p| (p.kind, p.index)), Some((want, 2)), "{purpose:?} {org}");
        }
    }
    // An attachment header of another organisation is refused before opening.
    let att = envelope::seal(&mut os_rng(), Purpose::Attachment, "anker", &to, b"file").unwrap();
    assert!(seal::check_attachment_header(ORG, &att).is_err());
    assert!(seal::check_attachment_header("anker", &att).is_ok());
}

#[test]
fn a_report_by_someone_else_is_not_the_reporters() {
    let (r, other, a, b) = (reporter(), reporter(), Advisor::new("a"), Advisor::new("b"));
    let server = started(&other, &a, &b);
    let view = open_as_reporter(&Server { envelopes: server.envelopes.clone(), detached: server.detached.clone() }, &r, &[]);
    // Not sealed to this reporter at all: unreadable. Sealed to them but signed by another:
    let sealed = seal::seal_report(&mut os_rng(), &other, ORG, &[&a.verified()], report_body(), NOW).unwrap();
    let msg = envelope::open(&sealed.envelope, &[&a.key], &[]).unwrap();
    let env = envelope::seal(&mut os_rng(), Purpose::Report, ORG, &[r.reply_key().recipient()], &msg.plaintext).unwrap();
    let mut s = Server::default();
    s.push(env);
    let view2 = open_as_reporter(&s, &r, &[a.listed()]);
    assert_eq!(view.problem.map(|p| p.kind), Some(ProblemKind::Unreadable));
    assert_eq!(view2.problem.map(|p| p.kind), Some(ProblemKind::NotMine));
    assert!(view2.members.is_empty());
    assert!(matches!(seal::seal_follow_up(&mut os_rng(), &r, &view2, &text("x"), NOW), Err(SealError::NoReport)));
}

#[test]
fn dropped_and_reordered_messages_are_named() {
    let (r, _, _, mut server, listed) = started_with_a_and_b();
    let view = open_as_reporter(&server, &r, &listed);
    let f = seal::seal_follow_up(&mut os_rng(), &r, &view, &text("1"), NOW).unwrap();
    server.push(f.envelope);
    // Drop message 1 (A's reply): the follow-up's parent is gone.
    let mut dropped = Server { envelopes: server.envelopes.clone(), detached: server.detached.clone() };
    dropped.envelopes.remove(1);
    dropped.detached.remove(1);
    assert_eq!(open_as_reporter(&dropped, &r, &listed).problem.map(|p| (p.kind, p.index)), Some((ProblemKind::Gap, 1)));
    // Swap 1 and 2.
    let mut swapped = Server { envelopes: server.envelopes.clone(), detached: server.detached.clone() };
    swapped.envelopes.swap(1, 2);
    assert_eq!(open_as_reporter(&swapped, &r, &listed).problem.map(|p| (p.kind, p.index)), Some((ProblemKind::Reordered, 1)));
    // Missing a message the reporter sent in this session.
    let envs = server.input_for("reporter");
    let view = case::open(OpenInput {
        viewer: Viewer::Reporter(r.signing_key().public()),
        org: ORG,
        envelopes: &envs[..2],
        keys: &[r.reply_key()],
        listed: advisors::verify_all(&listed, NOW).0,
        listed_malformed: vec![],
        sent: &[f.message.hash()],
    });
    assert_eq!(view.problem.map(|p| p.kind), Some(ProblemKind::MissingSent));
}

#[test]
fn a_remembered_colleague_with_a_new_identity_is_refused() {
    let (a, c) = (Advisor::new("a"), Advisor::new("c"));
    let mut colleagues = Colleagues::default();
    let confirmed = colleagues.confirm(&a.identity.public(), &c.verified(), Some(&c.verified().fingerprint())).unwrap();
    assert!(confirmed.is_new());
    colleagues.remember(&confirmed, "2026-12-03");
    let meta = colleagues.to_meta(r#"{"instance":"http://127.0.0.1:8080","display_name":"Anna"}"#);
    let again = Colleagues::from_meta(&meta);
    assert!(meta.contains("\"instance\""));
    // Remembered: no fingerprint needed.
    assert!(!again.confirm(&a.identity.public(), &c.verified(), None).unwrap().is_new());
    // The server swaps C's identity (same id): refused even with the new key's fingerprint.
    let impostor = Advisor { id: "c".into(), identity: IdentityKey::generate(&mut os_rng()), key: DecryptionKey::generate(&mut os_rng()) };
    let fp = impostor.verified().fingerprint();
    assert!(matches!(again.confirm(&a.identity.public(), &impostor.verified(), Some(&fp)), Err(ColleagueError::IdentityChanged { .. })));
    assert!(matches!(again.confirm(&a.identity.public(), &a.verified(), None), Err(ColleagueError::Yourself)));
}

#[test]
fn a_replayed_statement_changes_nothing_and_is_named() {
    let (r, a, b, mut server, listed) = started_with_a_and_b();
    // A removes B, then adds B again.
    let view = open_as_advisor(&server, &a, &listed);
    let rm = a_removes_b(&a, &b, &view);
    server.push(rm.envelope.clone());
    let view = open_as_advisor(&server, &a, &listed);
    let confirmed = Colleagues::default().confirm(&a.identity.public(), &b.verified(), Some(&b.verified().fingerprint())).unwrap();
    let add = seal::seal_add(&mut os_rng(), &a.identity, Some(a.key.recipient()), &view, &confirmed, NOW).unwrap();
    server.push(add.envelope);
    let view = open_as_reporter(&server, &r, &listed);
    assert!(view.ok(), "{:?}", view.problem);
    assert_eq!(view.members.len(), 2);
    // The server serves the removal again, after the new add: named, and B stays a member.
    server.push(rm.envelope);
    let view = open_as_reporter(&server, &r, &listed);
    assert_eq!(view.problem.map(|p| (p.kind, p.index)), Some((ProblemKind::Replayed, 4)));
    assert!(view.members.contains(&b.identity.public()));
    let f = seal::seal_follow_up(&mut os_rng(), &r, &view, &text("x"), NOW).unwrap();
    assert!(opens(&f.envelope, &b.key));
}
