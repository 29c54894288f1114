//! An independent reading of `docs/protocol.md` §5 and §10, written from the text with the raw
//! primitives (ed25519-dalek, sha2), not with `meldpunt-crypto`'s message code: it builds
//! reports and membership statements byte by byte that the client core must accept and
//! apply, and reads the statements the core writes. If the spec and the code drift apart,
//! these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use meldpunt_client::advisors::{self, Listed, Pins};
use meldpunt_client::case::{self, EnvelopeIn, OpenInput, Viewer};
use meldpunt_client::colleagues::Colleagues;
use meldpunt_client::{b64, seal};
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::os_rng;
use sha2::{Digest, Sha256};

const ORG: &str = "anker";
const NOW: i64 = 1_790_000_000;

/// §5: message bytes, signed.
fn message(sk: &SigningKey, kind: u8, parent: [u8; 32], reply_pk: [u8; 32], body: &[u8]) -> Vec<u8> {
    let mut m = vec![0x01, kind];
    m.extend_from_slice(&parent);
    m.extend_from_slice(&NOW.to_be_bytes());
    m.extend_from_slice(sk.verifying_key().as_bytes());
    m.extend_from_slice(&reply_pk);
    m.extend_from_slice(&(body.len() as u32).to_be_bytes());
    m.extend_from_slice(body);
    let signed = [b"meldpunt/v1/message".as_slice(), &[0x00], &m].concat();
    m.extend_from_slice(&sk.sign(&signed).to_bytes());
    m
}

fn msg_hash(m: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update(b"meldpunt/v1/message-hash").chain_update(m).finalize().into()
}

/// §10.1.
fn statement(op: u8, identity: &[u8; 32]) -> Vec<u8> {
    [b"MPMS".as_slice(), &[0x01, op], identity].concat()
}

struct Adv {
    sk: SigningKey,
    key: DecryptionKey,
}

impl Adv {
    fn new() -> Self {
        let id = IdentityKey::generate(&mut os_rng());
        Adv { sk: SigningKey::from_bytes(&id.to_seed()), key: DecryptionKey::generate(&mut os_rng()) }
    }
    fn listed(&self, id: &str) -> Listed {
        let identity = IdentityKey::from_seed(&self.sk.to_bytes());
        let bundle = identity.make_bundle(&self.key.recipient(), NOW - 1, NOW + 1000).unwrap();
        Listed {
            id: id.into(),
            display_name: id.into(),
            identity: b64(self.sk.verifying_key().as_bytes()),
            bundles: vec![b64(&bundle.to_bytes())],
            revocations: vec![],
        }
    }
}

#[test]
fn statements_written_from_the_spec_are_applied_by_the_core() {
    let reporter = SigningKey::from_bytes(&[7u8; 32]);
    let reply = DecryptionKey::generate(&mut os_rng());
    let (a, b, c) = (Adv::new(), Adv::new(), Adv::new());
    let body = format!(r#"{{"story":"x","advisors":["{}"]}}"#, b64(a.sk.verifying_key().as_bytes()));
    let m0 = message(&reporter, 0x01, [0; 32], *reply.recipient().public_bytes(), body.as_bytes());
    let m1 = message(&a.sk, 0x04, msg_hash(&m0), [0; 32], &statement(0x01, b.sk.verifying_key().as_bytes()));
    let m2 = message(&b.sk, 0x04, msg_hash(&m1), [0; 32], &statement(0x01, c.sk.verifying_key().as_bytes()));
    let m3 = message(&b.sk, 0x04, msg_hash(&m2), [0; 32], &statement(0x02, a.sk.verifying_key().as_bytes()));
    let m4 = message(&a.sk, 0x03, msg_hash(&m3), [0; 32], br#"{"text":"na verwijdering"}"#);
    let to = [reply.recipient(), a.key.recipient(), b.key.recipient(), c.key.recipient()];
    let envs: Vec<EnvelopeIn> = [(Purpose::Report, &m0), (Purpose::Message, &m1), (Purpose::Message, &m2), (Purpose::Message, &m3), (Purpose::Message, &m4)]
        .iter()
        .map(|(p, m)| EnvelopeIn { envelope: envelope::seal(&mut os_rng(), *p, ORG, &to, m).unwrap(), detached: vec![] })
        .collect();
    let (listed, _) = advisors::verify_all(&[a.listed("a"), b.listed("b"), c.listed("c")], NOW);
    let open = |n: usize| {
        case::open(OpenInput {
            viewer: Viewer::Advisor(IdentityKey::from_seed(&c.sk.to_bytes()).public()),
            org: ORG,
            envelopes: &envs[..n],
            keys: &[&c.key],
            listed: listed.clone(),
            listed_malformed: vec![],
            sent: &[],
        })
    };
    let view = open(4);
    assert!(view.ok(), "{:?}", view.problem);
    let members: Vec<[u8; 32]> = view.members.iter().map(|m| m.to_bytes()).collect();
    assert_eq!(members, vec![b.sk.verifying_key().to_bytes(), c.sk.verifying_key().to_bytes()]);
    // A's reply after A was removed: unknown author at index 4.
    let view = open(5);
    assert_eq!(view.problem.map(|p| (p.kind.code(), p.index)), Some(("unknown_author", 4)));

    // A malformed statement (bad op) is malformed and changes nothing.
    let bad = message(&a.sk, 0x04, msg_hash(&m0), [0; 32], &statement(0x03, b.sk.verifying_key().as_bytes()));
    let envs2 = vec![
        envs[0].clone(),
        EnvelopeIn { envelope: envelope::seal(&mut os_rng(), Purpose::Message, ORG, &to, &bad).unwrap(), detached: vec![] },
    ];
    let view = case::open(OpenInput {
        viewer: Viewer::Advisor(IdentityKey::from_seed(&a.sk.to_bytes()).public()),
        org: ORG,
        envelopes: &envs2,
        keys: &[&a.key],
        listed,
        listed_malformed: vec![],
        sent: &[],
    });
    assert_eq!(view.problem.map(|p| (p.kind.code(), p.index)), Some(("malformed", 1)));
    assert_eq!(view.members.len(), 1);
}

#[test]
fn statements_the_core_writes_read_as_the_spec_says() {
    let reporter = meldpunt_crypto::pickup::PickupCode::generate(&mut os_rng()).derive_keys().unwrap();
    let (a, b) = (Adv::new(), Adv::new());
    let a_id = IdentityKey::from_seed(&a.sk.to_bytes());
    let va = advisors::verify(&a.listed("a"), &Pins::none(), NOW).unwrap();
    let body = meldpunt_client::body::ReportBody::from_json(r#"{"story":"x"}"#).unwrap();
    let report = seal::seal_report(&mut os_rng(), &reporter, ORG, &[&va], body, NOW).unwrap();
    let envs = vec![EnvelopeIn { envelope: report.envelope, detached: vec![] }];
    let (listed, _) = advisors::verify_all(&[a.listed("a"), b.listed("b")], NOW);
    let view = case::open(OpenInput {
        viewer: Viewer::Advisor(a_id.public()),
        org: ORG,
        envelopes: &envs,
        keys: &[&a.key],
        listed,
        listed_malformed: vec![],
        sent: &[],
    });
    let vb = view.listed.iter().find(|l| l.id == "b").unwrap().clone();
    let confirmed = Colleagues::default().confirm(&a_id.public(), &vb, Some(&vb.fingerprint())).unwrap();
    let sealed = seal::seal_add(&mut os_rng(), &a_id, Some(a.key.recipient()), &view, &confirmed, NOW).unwrap();

    // Read it with nothing but the text of §3, §5 and §10.1.
    let opened = envelope::open(&sealed.envelope, &[&b.key], &[]).unwrap();
    assert_eq!(opened.purpose, Purpose::Message);
    assert_eq!(opened.org, ORG);
    let m = &opened.plaintext[..];
    assert_eq!(m[0], 0x01);
    assert_eq!(m[1], 0x04, "kind 4");
    assert_eq!(&m[2..34], &view.head.unwrap(), "parent = head");
    assert_eq!(&m[42..74], a.sk.verifying_key().as_bytes(), "author");
    assert_eq!(&m[74..106], &[0u8; 32], "no reply key");
    let body_len = u32::from_be_bytes(m[106..110].try_into().unwrap()) as usize;
    assert_eq!(body_len, 38);
    let body = &m[110..110 + body_len];
    assert_eq!(&body[..6], b"MPMS\x01\x01");
    assert_eq!(&body[6..], b.sk.verifying_key().as_bytes());
    let (signed, sig) = m.split_at(m.len() - 64);
    let vk = VerifyingKey::from_bytes(a.sk.verifying_key().as_bytes()).unwrap();
    vk.verify(&[b"meldpunt/v1/message".as_slice(), &[0x00], signed].concat(), &ed25519_dalek::Signature::from_slice(sig).unwrap())
        .unwrap();
    // Sealed to the reporter, A and B (§10.3).
    assert!(envelope::open(&sealed.envelope, &[reporter.reply_key()], &[]).is_ok());
    assert!(envelope::open(&sealed.envelope, &[&a.key], &[]).is_ok());
}
