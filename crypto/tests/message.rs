//! Messages and transcripts (protocol.md §5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::message::{
    Message, MessageError, MessageKind, TranscriptError, check_sent_present, verify_transcript,
    verify_transcript_bytes,
};
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::os_rng;
use proptest::prelude::*;

struct Case {
    reporter: IdentityKey,
    reply: DecryptionKey,
    advisor: IdentityKey,
    advisor2: IdentityKey,
}

fn case() -> Case {
    let mut rng = os_rng();
    Case {
        reporter: IdentityKey::generate(&mut rng),
        reply: DecryptionKey::generate(&mut rng),
        advisor: IdentityKey::generate(&mut rng),
        advisor2: IdentityKey::generate(&mut rng),
    }
}

/// report ← reply ← follow-up ← reply2
fn conversation(c: &Case) -> Vec<Message> {
    let m0 =
        Message::sign_report(&c.reporter, &c.reply.recipient(), 100, br#"{"story":"x"}"#).unwrap();
    let m1 = Message::sign_reply(&c.advisor, &m0.hash(), 200, br#"{"text":"hi"}"#).unwrap();
    let m2 = Message::sign_follow_up(&c.reporter, &m1.hash(), 300, br#"{"text":"ok"}"#).unwrap();
    let m3 = Message::sign_reply(&c.advisor2, &m2.hash(), 400, b"{}").unwrap();
    vec![m0, m1, m2, m3]
}

#[test]
fn valid_transcript_verifies() {
    let c = case();
    let msgs = conversation(&c);
    let trusted = [c.advisor.public(), c.advisor2.public()];
    let t = verify_transcript(&msgs, &trusted).unwrap();
    assert_eq!(t.messages().len(), 4);
    assert_eq!(t.reporter(), c.reporter.public());
    assert_eq!(t.reply_key(), c.reply.recipient());
    assert_eq!(t.head(), Some(msgs[3].hash()));
    t.check_sent(&[msgs[0].hash(), msgs[2].hash()]).unwrap();
    assert_eq!(
        t.check_sent(&[msgs[0].hash(), [9u8; 32]]),
        Err(TranscriptError::MissingSent { sent_index: 1 })
    );
    let raw: Vec<Vec<u8>> = msgs.iter().map(Message::to_bytes).collect();
    verify_transcript_bytes(&raw, &trusted).unwrap();
}

#[test]
fn round_trip_and_accessors() {
    let c = case();
    let msgs = conversation(&c);
    for m in &msgs {
        let parsed = Message::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(&parsed, m);
        assert_eq!(parsed.hash(), m.hash());
        assert!(parsed.verify_signature());
    }
    assert_eq!(msgs[0].kind(), MessageKind::Report);
    assert_eq!(msgs[0].parent(), [0u8; 32]);
    assert_eq!(msgs[0].reply_key(), Some(c.reply.recipient()));
    assert_eq!(msgs[0].body(), br#"{"story":"x"}"#);
    assert_eq!(msgs[0].created_at(), 100);
    assert_eq!(msgs[1].kind(), MessageKind::Reply);
    assert_eq!(msgs[1].author(), Some(c.advisor.public()));
    assert_eq!(msgs[1].reply_key(), None);
    assert_eq!(msgs[2].kind(), MessageKind::FollowUp);
    assert_eq!(msgs[2].parent(), msgs[1].hash());
    // Layout check of §5.
    let b = msgs[0].to_bytes();
    assert_eq!(b[0], 1);
    assert_eq!(b[1], 1);
    assert_eq!(&b[42..74], &c.reporter.public().to_bytes());
    assert_eq!(&b[74..106], c.reply.recipient().public_bytes());
    assert_eq!(u32::from_be_bytes(b[106..110].try_into().unwrap()), 13);
    assert_eq!(b.len(), 110 + 13 + 64);
}

#[test]
fn forged_signature_detected() {
    let c = case();
    let msgs = conversation(&c);
    let trusted = [c.advisor.public(), c.advisor2.public()];
    let mut raw: Vec<Vec<u8>> = msgs.iter().map(Message::to_bytes).collect();
    // Server changes the body of the reply.
    let body_at = 110;
    raw[1][body_at] ^= 0x20;
    assert_eq!(
        verify_transcript_bytes(&raw, &trusted).err(),
        Some(TranscriptError::Forged { index: 1 })
    );
    // Server flips a signature bit of the report.
    let mut raw: Vec<Vec<u8>> = msgs.iter().map(Message::to_bytes).collect();
    let last = raw[0].len() - 1;
    raw[0][last] ^= 1;
    assert_eq!(
        verify_transcript_bytes(&raw, &trusted).err(),
        Some(TranscriptError::Forged { index: 0 })
    );
    // Server substitutes its own key as author of a reply, signature from the real advisor.
    let mut raw: Vec<Vec<u8>> = msgs.iter().map(Message::to_bytes).collect();
    let server = IdentityKey::generate(&mut os_rng());
    raw[3][42..74].copy_from_slice(&server.public().to_bytes());
    assert_eq!(
        verify_transcript_bytes(&raw, &trusted).err(),
        Some(TranscriptError::Forged { index: 3 })
    );
}

#[test]
fn unknown_author_detected() {
    let c = case();
    let msgs = conversation(&c);
    // advisor2 not trusted
    assert_eq!(
        verify_transcript(&msgs, &[c.advisor.public()]).err(),
        Some(TranscriptError::UnknownAuthor { index: 3 })
    );
    // A follow-up by someone other than the reporter (validly self-signed).
    let intruder = IdentityKey::generate(&mut os_rng());
    let fake = Message::sign_follow_up(&intruder, &msgs[1].hash(), 250, b"{}").unwrap();
    let list = vec![msgs[0].clone(), msgs[1].clone(), fake];
    assert_eq!(
        verify_transcript(&list, &[c.advisor.public()]).err(),
        Some(TranscriptError::UnknownAuthor { index: 2 })
    );
    // The server poses as an advisor.
    let server = IdentityKey::generate(&mut os_rng());
    let fake_reply = Message::sign_reply(&server, &msgs[0].hash(), 150, b"{}").unwrap();
    assert_eq!(
        verify_transcript(&[msgs[0].clone(), fake_reply], &[c.advisor.public()]).err(),
        Some(TranscriptError::UnknownAuthor { index: 1 })
    );
}

#[test]
fn gap_detected() {
    let c = case();
    let msgs = conversation(&c);
    let trusted = [c.advisor.public(), c.advisor2.public()];
    let dropped = vec![msgs[0].clone(), msgs[2].clone(), msgs[3].clone()];
    assert_eq!(
        verify_transcript(&dropped, &trusted).err(),
        Some(TranscriptError::Gap { index: 1 })
    );
    // Dropping the last message is not visible in the list, but the sender's own record is.
    let truncated = &msgs[..3];
    let t = verify_transcript(truncated, &trusted).unwrap();
    assert_eq!(
        t.check_sent(&[msgs[3].hash()]),
        Err(TranscriptError::MissingSent { sent_index: 0 })
    );
    assert!(check_sent_present(t.hashes(), &[msgs[1].hash()]).is_ok());
}

#[test]
fn reorder_detected() {
    let c = case();
    let msgs = conversation(&c);
    let trusted = [c.advisor.public(), c.advisor2.public()];
    let swapped = vec![
        msgs[0].clone(),
        msgs[2].clone(),
        msgs[1].clone(),
        msgs[3].clone(),
    ];
    assert_eq!(
        verify_transcript(&swapped, &trusted).err(),
        Some(TranscriptError::Reordered { index: 1 })
    );
    // The report not first.
    let first_moved = vec![msgs[1].clone(), msgs[0].clone()];
    assert_eq!(
        verify_transcript(&first_moved, &trusted).err(),
        Some(TranscriptError::Malformed { index: 0 })
    );
}

#[test]
fn shared_parent_is_fine() {
    let c = case();
    let m0 = Message::sign_report(&c.reporter, &c.reply.recipient(), 1, b"{}").unwrap();
    // The reporter and an advisor write at the same time, both after m0.
    let a = Message::sign_follow_up(&c.reporter, &m0.hash(), 2, b"{\"a\":1}").unwrap();
    let b = Message::sign_reply(&c.advisor, &m0.hash(), 2, b"{\"b\":1}").unwrap();
    let d = Message::sign_reply(&c.advisor, &b.hash(), 3, b"{}").unwrap();
    let t = verify_transcript(
        &[m0.clone(), a.clone(), b.clone(), d.clone()],
        &[c.advisor.public()],
    )
    .unwrap();
    assert_eq!(t.messages().len(), 4);
    // Either order of the two siblings is fine.
    verify_transcript(&[m0, b, a, d], &[c.advisor.public()]).unwrap();
}

#[test]
fn malformed_and_structure() {
    let c = case();
    let msgs = conversation(&c);
    assert_eq!(
        verify_transcript(&[], &[]).err(),
        Some(TranscriptError::Empty)
    );
    let mut raw: Vec<Vec<u8>> = msgs.iter().map(Message::to_bytes).collect();
    raw[2].truncate(100);
    assert_eq!(
        verify_transcript_bytes(&raw, &[c.advisor.public()]).err(),
        Some(TranscriptError::Malformed { index: 2 })
    );
    let good = msgs[1].to_bytes();
    let mut b = good.clone();
    b[0] = 2;
    assert_eq!(
        Message::from_bytes(&b).err(),
        Some(MessageError::UnsupportedVersion(2))
    );
    let mut b = good.clone();
    b[1] = 5;
    assert_eq!(
        Message::from_bytes(&b).err(),
        Some(MessageError::UnknownKind(5))
    );
    // Kind 4 (membership statement, §10) parses; it carries no reply key.
    let mut b = good.clone();
    b[1] = 4;
    assert_eq!(
        Message::from_bytes(&b).map(|m| m.kind()),
        Ok(meldpunt_crypto::message::MessageKind::Membership)
    );
    let mut b = good.clone();
    b.push(0);
    assert_eq!(Message::from_bytes(&b).err(), Some(MessageError::BadLength));
    let mut b = good.clone();
    b[106..110].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Message::from_bytes(&b).err(),
        Some(MessageError::BodyTooLarge)
    );
    let mut b = good.clone();
    b[80] = 1; // reply key on a reply
    assert_eq!(
        Message::from_bytes(&b).err(),
        Some(MessageError::InconsistentFields)
    );
    let mut b = msgs[0].to_bytes();
    b[5] = 1; // parent on a report
    assert_eq!(
        Message::from_bytes(&b).err(),
        Some(MessageError::InconsistentFields)
    );
    // A second report later in the list.
    let again = Message::sign_report(&c.reporter, &c.reply.recipient(), 5, b"{}").unwrap();
    assert_eq!(
        verify_transcript(&[msgs[0].clone(), again], &[]).err(),
        Some(TranscriptError::Malformed { index: 1 })
    );
    assert_eq!(
        Message::sign_reply(&c.advisor, &[0; 32], 0, &vec![0u8; 16 * 1024 * 1024 + 1]).err(),
        Some(MessageError::BodyTooLarge)
    );
}

proptest! {
    #[test]
    fn message_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Message::from_bytes(&bytes);
    }

    #[test]
    fn message_parser_on_plausible_input(
        kind in 0u8..5,
        body in proptest::collection::vec(any::<u8>(), 0..64),
        len_delta in -3i64..3,
        rest in proptest::collection::vec(any::<u8>(), 172),
    ) {
        let mut bytes = vec![1u8, kind];
        bytes.extend_from_slice(&rest[..104]);
        let len = (body.len() as i64 + len_delta).max(0) as u32;
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&rest[104..168]);
        if let Ok(m) = Message::from_bytes(&bytes) {
            prop_assert!(!m.verify_signature());
            let _ = verify_transcript(&[m], &[]);
        }
    }
}
