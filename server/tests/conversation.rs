//! The whole conversation against the real server process, driven by the real crypto crate:
//! report to two advisors, both decrypt, one replies (signed), the reporter comes back with the
//! pickup code alone, verifies the transcript and follows up; the status walks through every
//! state; a third advisor is added by sharing (re-wrapped stanzas). Afterwards neither the
//! database nor the log holds an address, the User-Agent or any plaintext.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use meldpunt_tests::*;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityPublicKey;
use meldpunt_crypto::message::{Message, verify_transcript_bytes};
use meldpunt_crypto::rng::os_rng;
use serde_json::json;

const REPORT: &[u8] =
    b"{\"story\":\"GEHEIM-VERHAAL-8d1f: de teamleider maakte opmerkingen\",\"lang\":\"nl\"}";
const REPLY: &[u8] = b"{\"text\":\"GEHEIM-ANTWOORD-4a2b: dank voor je melding\"}";
const FOLLOW_UP: &[u8] = b"{\"text\":\"GEHEIM-VERVOLG-9c3e: het gebeurde opnieuw\"}";

#[test]
fn full_conversation() {
    // Default proof of work (protocol §8 defaults) on every anonymous write.
    let mut server = Server::start();
    server.create_org("acme");
    let mut a1 = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    let mut a2 = Advisor::register(&server, &server.invite(Some("acme")), "Bram Jansen");
    let mut a3 = Advisor::register(&server, &server.invite(Some("acme")), "Chris Bakker");

    // The reporter seals a report to a1 and a2 and creates the case.
    let reporter = Reporter::new();
    let code = reporter.code.clone();
    let created = reporter.create_case(&server, "acme", &[a1.id.clone(), a2.id.clone()], REPORT);
    let created = expect(created, 201, None);
    assert_eq!(created["status"], "new");
    drop(reporter);

    // Both advisors log in (again) and decrypt.
    a1.login(&server);
    a2.login(&server);
    let inbox1 = a1.inbox(&server);
    assert_eq!(inbox1.len(), 1);
    assert!(a3.inbox(&server).is_empty());
    let case_id = inbox1[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(inbox1[0]["status"], "new");
    assert_eq!(inbox1[0]["deadlines"]["ack_overdue"], false);
    assert!(inbox1[0]["deadlines"]["ack_due"].as_str().unwrap().len() == 10);
    let mut report_hash = [0u8; 32];
    for a in [&a1, &a2] {
        let view = a.case(&server, &case_id);
        let plain = a.open_messages(&view);
        let m = Message::from_bytes(&plain[0]).unwrap();
        assert_eq!(m.body(), REPORT);
        report_hash = m.hash();
    }

    // a1 acknowledges and replies, signed with the identity key, sealed to the reporter's
    // reply key (from inside the report) and the other advisor.
    let status = |a: &Advisor, s: &str| {
        let r = a
            .auth(server.put(&format!("/api/v1/advisor/cases/{case_id}/status")))
            .json(&json!({"status": s}))
            .send()
            .unwrap();
        expect(r, 200, None);
    };
    status(&a1, "acknowledged");
    let view = a1.case(&server, &case_id);
    let report = Message::from_bytes(&a1.open_messages(&view)[0]).unwrap();
    let reply_to = report.reply_key().unwrap();
    let mut to = recipients(view["advisors"].as_array().unwrap(), Some(&[a2.id.clone()]));
    to.push(reply_to);
    let reply = Message::sign_reply(a1.keyring.identity(), &report_hash, now(), REPLY).unwrap();
    let env = seal(Purpose::Message, "acme", &to, &reply.to_bytes());
    let r = a1
        .auth(server.post(&format!("/api/v1/advisor/cases/{case_id}/messages")))
        .json(&json!({"envelope": b64(&env)}))
        .send()
        .unwrap();
    assert_eq!(expect(r, 201, None)["seq"], 1);
    status(&a2, "in_progress");

    // The reporter comes back with nothing but the pickup code.
    let reporter = Reporter::from_code(&code);
    let view = reporter.case(&server);
    assert_eq!(view["status"], "in_progress");
    assert!(view.get("id").is_none());
    let keys = [reporter.keys.reply_key()];
    let plains: Vec<Vec<u8>> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            envelope::open(&unb64(m["envelope"].as_str().unwrap()), &keys, &[])
                .unwrap()
                .plaintext
                .to_vec()
        })
        .collect();
    let trusted: Vec<IdentityPublicKey> = view["advisors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| IdentityPublicKey::from_bytes(&unb64(a["identity"].as_str().unwrap())).unwrap())
        .collect();
    let transcript = verify_transcript_bytes(&plains, &trusted).unwrap();
    assert_eq!(transcript.messages()[1].body(), REPLY);
    assert_eq!(
        transcript.messages()[1].author_bytes(),
        a1.keyring.identity().public().to_bytes()
    );

    // Follow-up (with proof of work), sealed to every advisor on the case.
    let follow = Message::sign_follow_up(
        reporter.keys.signing_key(),
        &transcript.head().unwrap(),
        now(),
        FOLLOW_UP,
    )
    .unwrap();
    let to = reporter.recipients(&view["advisors"], None);
    let env = seal(Purpose::Message, "acme", &to, &follow.to_bytes());
    let r = reporter
        .auth(server.post("/api/v1/case/messages"))
        .json(&json!({"envelope": b64(&env), "pow": server.pow()}))
        .send()
        .unwrap();
    assert_eq!(expect(r, 201, None)["seq"], 2);
    let view = a2.case(&server, &case_id);
    let plain = a2.open_messages(&view);
    assert_eq!(Message::from_bytes(&plain[2]).unwrap().body(), FOLLOW_UP);

    // a2 shares the case with a3: one re-wrapped stanza per message.
    let a3_key = recipients(&[listed(&server, "acme", &a3.id)], None)[0];
    let stanzas: Vec<_> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let env = unb64(m["envelope"].as_str().unwrap());
            let st = envelope::rewrap(
                &env,
                &a2.keyring.decryption_keys(),
                &[],
                &a3_key,
                &mut os_rng(),
            )
            .unwrap();
            json!({"message": m["seq"], "stanza": b64(&st)})
        })
        .collect();
    let mut to = recipients(view["advisors"].as_array().unwrap(), None);
    to.push(a3_key);
    let a3_identity = listed(&server, "acme", &a3.id)["identity"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = statement(&a2, &view, "acme", 1, &a3_identity, &to);
    let r = a2
        .auth(server.post(&format!("/api/v1/advisor/cases/{case_id}/share")))
        .json(&json!({"advisor": a3.id, "stanzas": stanzas, "envelope": b64(&added)}))
        .send()
        .unwrap();
    assert_eq!(expect(r, 200, None)["seq"], 3);
    a3.login(&server);
    assert_eq!(a3.inbox(&server).len(), 1);
    let plain = a3.open_messages(&a3.case(&server, &case_id));
    assert_eq!(Message::from_bytes(&plain[0]).unwrap().body(), REPORT);
    assert_eq!(Message::from_bytes(&plain[2]).unwrap().body(), FOLLOW_UP);

    // Back to new and on to closed: every state.
    status(&a3, "new");
    assert_eq!(reporter.case(&server)["status"], "new");
    status(&a1, "closed");
    assert_eq!(reporter.case(&server)["status"], "closed");
    let inbox = a1.inbox(&server);
    assert_eq!(inbox[0]["status"], "closed");
    assert_eq!(inbox[0]["messages"], 4);
    assert_eq!(inbox[0]["deadlines"]["feedback_overdue"], false);

    // Key rotation and revocation by the advisor.
    let t = now();
    let bundle = a1.keyring.rotate(&mut os_rng(), t - 10, 86_400).unwrap();
    let r = a1
        .auth(server.post("/api/v1/advisor/keys"))
        .json(&json!({"bundle": b64(&bundle.to_bytes())}))
        .send()
        .unwrap();
    expect(r, 201, None);
    let old = a1.keyring.keys()[0].key.key_id();
    let rev = a1.keyring.revoke(old, t).unwrap();
    let r = a1
        .auth(server.post("/api/v1/advisor/revocations"))
        .json(&json!({"revocation": b64(&rev.to_bytes())}))
        .send()
        .unwrap();
    expect(r, 201, None);
    let a1_page = listed(&server, "acme", &a1.id);
    assert_eq!(a1_page["bundles"].as_array().unwrap().len(), 1);
    assert_eq!(a1_page["revocations"].as_array().unwrap().len(), 1);
    assert_eq!(recipients(&[a1_page], None)[0].key_id(), bundle.key_id());

    // Not on the public listener; on the metrics listener nothing counts cases or messages.
    expect(server.get("/metrics").send().unwrap(), 404, Some("not_found"));
    let metrics = server.metrics();
    assert!(!metrics.contains("meldpunt_cases_created_total"), "{metrics}");
    assert!(!metrics.contains("meldpunt_messages_posted_total"), "{metrics}");
    assert!(!metrics.contains("acme"));

    server.assert_no_leaks(&[REPORT, REPLY, FOLLOW_UP, b"GEHEIM", code.as_bytes()]);
}
