//! What `/metrics` reveals, and who can read it: never served on the public listener, only on
//! its own (loopback) listener, optionally behind a bearer token; no exported number moves
//! because a report was filed, answered or followed up. Also: a single `[rate_limit]` field set
//! through the environment merges with the defaults (the server starts, the value applies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use serde_json::json;

fn no_pow() -> String {
    format!("{DEFAULT_EXTRA}\n[pow]\nenabled = false\n")
}

/// Every sample line of the exposition: name (with labels) → value.
fn samples(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// Counters that would move because one report was filed, answered or deleted.
const DROPPED: [&str; 14] = [
    "meldpunt_pow_challenges_issued_total",
    "meldpunt_cases_created_total",
    "meldpunt_messages_posted_total",
    "meldpunt_attachments_stored_total",
    "meldpunt_attachment_bytes_total",
    "meldpunt_advisor_logins_total",
    "meldpunt_notify_mails_sent_total",
    "meldpunt_retention_deleted_cases_total",
    "meldpunt_retention_deleted_messages_total",
    "meldpunt_retention_deleted_attachments_total",
    "meldpunt_retention_deleted_stanzas_total",
    "meldpunt_retention_deleted_sessions_total",
    "meldpunt_retention_deleted_invites_total",
    "meldpunt_vacuum_pages_freed_total",
];

#[test]
fn public_listener_never_serves_metrics() {
    let server = Server::start_with("", &no_pow());
    for path in ["/metrics", "/metrics/", "/api/v1/metrics"] {
        let v = expect(server.get(path).send().unwrap(), 404, Some("not_found"));
        assert!(v["message"].is_string(), "{v}");
    }
    // The metrics listener answers, and serves nothing else.
    assert!(server.metrics().contains("meldpunt_http_responses_total"));
    for path in ["/api/v1/orgs/acme", "/healthz"] {
        let r = server.client.get(server.metrics_url(path)).send().unwrap();
        expect(r, 404, Some("not_found"));
    }
}

#[test]
fn filing_and_answering_a_case_moves_no_exported_number() {
    let server = Server::start_with("", &no_pow());
    server.create_org("acme");
    let mut a = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
    let before = server.metrics();
    for name in DROPPED {
        assert!(!before.contains(name), "{name} is exported:\n{before}");
    }
    let before = samples(&before);

    // A report, a follow-up, an advisor login and a read of the inbox.
    let reporter = Reporter::new();
    reporter.create_case_ok(&server, "acme", std::slice::from_ref(&a.id), b"{}");
    let view = reporter.case(&server);
    let to = recipients(view["advisors"].as_array().unwrap(), None);
    let env = seal(Purpose::Message, "acme", &to, b"follow-up");
    expect(
        reporter
            .auth(server.post("/api/v1/case/messages"))
            .json(&json!({"envelope": b64(&env)}))
            .send()
            .unwrap(),
        201,
        None,
    );
    a.login(&server);
    let inbox = a.inbox(&server);
    assert_eq!(inbox.len(), 1);

    let after = server.metrics();
    for name in DROPPED {
        assert!(!after.contains(name), "{name} is exported:\n{after}");
    }
    let after = samples(&after);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, value) in &after {
        // HTTP status classes count every request (page loads included): health, not cases.
        if name.starts_with("meldpunt_http_responses_total") {
            continue;
        }
        assert_eq!(before[name], *value, "{name} moved with one report");
    }
}

#[test]
fn metrics_token_is_required_when_set() {
    let token = "scrape-token-4c1d9e7f2a";
    let server = Server::start_with(
        "",
        &format!("{}\n[metrics]\ntoken = \"{token}\"\n", no_pow()),
    );
    let url = server.metrics_url("/metrics");
    expect(
        server.client.get(&url).send().unwrap(),
        401,
        Some("metrics_token"),
    );
    for wrong in [
        format!("Bearer {token}x"),
        format!("Bearer {}", &token[..token.len() - 1]),
        format!("bearer {token}"),
        token.to_owned(),
    ] {
        let r = server
            .client
            .get(&url)
            .header("Authorization", wrong)
            .send()
            .unwrap();
        expect(r, 401, Some("metrics_token"));
    }
    let r = server
        .client
        .get(&url)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().unwrap().contains("meldpunt_http_responses_total"));
    // Still never on the public listener, token or not.
    let r = server
        .get("/metrics")
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .unwrap();
    expect(r, 404, Some("not_found"));
    assert!(!server.logs().contains(token));
}

#[test]
fn metrics_can_be_switched_off() {
    let server = Server::start_with("", &format!("{}\n[metrics]\nenabled = false\n", no_pow()));
    expect(server.get("/metrics").send().unwrap(), 404, Some("not_found"));
    assert!(
        server
            .client
            .get(server.metrics_url("/metrics"))
            .send()
            .is_err(),
        "a metrics listener is open"
    );
}

/// `MELDPUNT_RATE_LIMIT__CASE_GUESS__PER_MINUTE` alone (the example in
/// `meldpunt.example.toml`) used to stop startup with "missing field `burst`".
#[test]
fn one_rate_limit_field_from_the_environment_starts_and_applies() {
    let mut server = Server::start_with("", "[pow]\nenabled = false\n");
    server.stop();
    server.spawn_with_env(&[
        ("MELDPUNT_RATE_LIMIT__CASE_GUESS__PER_MINUTE", "1"),
        ("MELDPUNT_RATE_LIMIT__CASE_GUESS__BURST", "2"),
    ]);
    // Burst 2: two failed guesses answered 401, then the address is shut out (429).
    let mut statuses = Vec::new();
    for i in 0..4u8 {
        let r = guess_case_token(&server.client, &server.url(""), i);
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429, 429]);
    server.stop();
    server.spawn_with_env(&[("MELDPUNT_RATE_LIMIT__CASE_GUESS__PER_MINUTE", "7")]);
    expect(server.get("/healthz").send().unwrap(), 200, None);
}
