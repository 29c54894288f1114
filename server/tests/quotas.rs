//! Quotas nobody can burn: proof-of-work challenges are used up by any attempt and do not
//! survive a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use serde_json::{Value, json};

/// `sections()` with three failed token guesses per minute per address.
fn guess_limited() -> String {
    let generous = "[rate_limit.case_guess]\nper_minute = 100000\nburst = 10000\n";
    let s = sections();
    assert!(s.contains(generous));
    s.replace(generous, "[rate_limit.case_guess]\nper_minute = 3\nburst = 3\n")
}

/// [`sections`] with the `[rate_limit.CLASS]` quota small: burst 5, 20 a minute in all.
fn small_global_quota(class: &str) -> String {
    let generous = format!(
        "[rate_limit.{class}]\nper_minute = 100000\nburst = 10000\nglobal_per_minute = 1000000\n"
    );
    let s = sections();
    assert!(s.contains(&generous));
    s.replace(
        &generous,
        &format!("[rate_limit.{class}]\nper_minute = 5\nburst = 5\nglobal_per_minute = 20\n"),
    )
}

/// Posts 3000-byte follow-ups to `r`'s case until one is refused; returns how many were taken
/// and the refusal (`never`: the message if ten were taken).
fn fill_up(server: &Server, r: &Reporter, never: &str) -> (usize, reqwest::blocking::Response) {
    let mut posted = 0;
    loop {
        let resp = follow_up(server, "acme", r, 3000);
        if resp.status() != 201 {
            return (posted, resp);
        }
        posted += 1;
        assert!(posted < 10, "{never}");
    }
}

/// `POST /api/v1/cases` for `acme` from the address `from` (`X-Forwarded-For`): `r`'s case
/// with `env` to `ids`, with a solved proof of work.
fn create_from(
    server: &Server,
    from: impl AsRef<str>,
    ids: &[String],
    r: &Reporter,
    env: &[u8],
) -> reqwest::blocking::Response {
    server
        .post("/api/v1/cases")
        .header("X-Forwarded-For", from.as_ref())
        .json(&json!({
            "org": "acme",
            "advisors": ids,
            "token_hash": b64(&r.keys.case_token().hash()),
            "envelope": b64(env),
            "pow": server.pow(),
        }))
        .send()
        .unwrap()
}

fn sections() -> String {
    cheap_pow_sections()
}

/// A server with one organisation and one advisor; returns the advisor's id.
fn setup() -> (Server, String) {
    setup_with(&sections())
}

fn setup_with(sections: &str) -> (Server, String) {
    let server = Server::start_with("", sections);
    server.create_org("acme");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    (server, a.id)
}

/// Creates a case for a new reporter with the given proof of work; the answer.
fn create(server: &Server, advisor: &str, pow: &Value) -> reqwest::blocking::Response {
    create_for(server, advisor, &Reporter::new(), pow)
}

/// Creates a case with `r`'s token; the answer.
fn create_for(
    server: &Server,
    advisor: &str,
    r: &Reporter,
    pow: &Value,
) -> reqwest::blocking::Response {
    let page = server.org_page("acme");
    let ids = [advisor.to_owned()];
    let to = r.recipients(&page["advisors"], Some(&ids));
    let env = r.sealed_report("acme", &to, b"{\"a\":1}");
    let req = json!({
        "org": "acme",
        "advisors": ids,
        "token_hash": b64(&r.keys.case_token().hash()),
        "envelope": b64(&env),
        "pow": pow,
    });
    server.post("/api/v1/cases").json(&req).send().unwrap()
}

/// A fresh challenge and a nonce that does not solve it.
fn wrong_nonce(server: &Server) -> (Value, Value) {
    let right = server.pow();
    let challenge = unb64(right["challenge"].as_str().unwrap());
    let wrong = (0u64..)
        .find(|n| !meldpunt_crypto::pow::verify_solution(&challenge, *n))
        .unwrap();
    let wrong = json!({"challenge": right["challenge"], "nonce": wrong});
    (wrong, right)
}

#[test]
fn challenges_do_not_survive_a_restart() {
    let (mut server, advisor) = setup();
    let used = server.pow();
    let unused = server.pow();
    expect(create(&server, &advisor, &used), 201, None);
    expect(create(&server, &advisor, &used), 400, Some("pow_replayed"));
    server.stop();
    server.spawn();
    // The used-challenge memory is gone with the process; the challenge must be refused anyway.
    expect(create(&server, &advisor, &used), 400, Some("bad_pow"));
    // So is a challenge issued (and solved) before the restart but never used.
    expect(create(&server, &advisor, &unused), 400, Some("bad_pow"));
    // A challenge of the new process works.
    expect(create(&server, &advisor, &server.pow()), 201, None);
}

#[test]
fn a_wrong_nonce_uses_the_challenge_up() {
    let (server, advisor) = setup();
    let (wrong, right) = wrong_nonce(&server);
    expect(create(&server, &advisor, &wrong), 400, Some("bad_pow"));
    // Retrying the same challenge (even with the right nonce) costs the server no Argon2id.
    expect(create(&server, &advisor, &wrong), 400, Some("pow_replayed"));
    expect(create(&server, &advisor, &right), 400, Some("pow_replayed"));
    expect(create(&server, &advisor, &server.pow()), 201, None);
}

#[test]
fn creating_with_an_existing_token_is_a_guess() {
    let (server, advisor) = setup_with(&guess_limited());
    let victim = Reporter::new();
    expect(create_for(&server, &advisor, &victim, &server.pow()), 201, None);
    // Creating again with the same token tells that the token exists: a guessing oracle,
    // counted against the address like a failed lookup, and shut out after the quota.
    let statuses: Vec<u16> = (0..6)
        .map(|_| {
            create_for(&server, &advisor, &victim, &server.pow())
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(statuses[0], 409, "{statuses:?}");
    assert!(
        statuses.contains(&429),
        "creates with an existing token were never limited: {statuses:?}"
    );
    // The shut-out covers the case routes and creation for that address.
    expect(
        server
            .get("/api/v1/case")
            .header("Authorization", format!("CaseToken {}", b64(&[0x5a; 32])))
            .send()
            .unwrap(),
        429,
        Some("rate_limited"),
    );
    expect(create(&server, &advisor, &server.pow()), 429, Some("rate_limited"));
}

#[test]
fn wrong_tokens_from_many_addresses_do_not_shut_out_a_correct_one() {
    // A small global case quota (burst 5): wrong tokens from ten addresses, one each, must not
    // use it up for a correct token from yet another address.
    let mut server = Server::start_with(
        "trusted_proxy = \"127.0.0.1\"\n",
        &small_global_quota("case"),
    );
    server.create_org("acme");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    let r = Reporter::new();
    expect(create_for(&server, &a.id, &r, &server.pow()), 201, None);
    for i in 0..10u8 {
        let status = server
            .get("/api/v1/case")
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .header("Authorization", format!("CaseToken {}", b64(&[0x5a; 32])))
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 401, "wrong token {i}");
    }
    expect(
        r.auth(server.get("/api/v1/case"))
            .header("X-Forwarded-For", "203.0.113.50")
            .send()
            .unwrap(),
        200,
        None,
    );
    server.assert_no_leaks(&[b"198.51.100.3", b"203.0.113.50"]);
}

#[test]
fn login_challenges_from_many_addresses_do_not_lock_out_a_login() {
    // A small global login quota (burst 5): challenge requests from ten addresses, one each,
    // must not lock an advisor out of logging in.
    let mut server = Server::start_with(
        "trusted_proxy = \"127.0.0.1\"\n",
        &small_global_quota("login"),
    );
    server.create_org("acme");
    let mut a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    let identity = b64(&a.keyring.identity().public().to_bytes());
    for i in 0..10u8 {
        let r = server
            .post("/api/v1/advisor/login/challenge")
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .json(&json!({"identity": identity}))
            .send()
            .unwrap();
        expect(r, 200, None);
    }
    // From the advisor's own address (the proxy's, no X-Forwarded-For): challenge and login.
    a.login(&server);
    server.assert_no_leaks(&[b"198.51.100.3"]);
}

/// Posts a follow-up of `len` random-ish bytes for `r` in `org`; the answer.
fn follow_up(server: &Server, org: &str, r: &Reporter, len: usize) -> reqwest::blocking::Response {
    let view = r.case(server);
    let to = recipients(view["advisors"].as_array().unwrap(), None);
    let env = seal(Purpose::Message, org, &to, &vec![0x42; len]);
    r.auth(server.post("/api/v1/case/messages"))
        .json(&json!({"envelope": b64(&env), "pow": server.pow()}))
        .send()
        .unwrap()
}

#[test]
fn storage_quota_per_case_and_per_organisation() {
    let quota = "[quota]\ncase_bytes = 16384\norg_bytes = 24576\n";
    let server = Server::start_with("", &format!("{quota}{}", sections()));
    server.create_org("acme");
    server.create_org("beta");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    let b = Advisor::register(&server, &server.invite(Some("beta")), "Bert Jansen");

    // The case fills up: 413 case_full, and nothing of the refused write is stored.
    let r1 = Reporter::new();
    expect(create_for(&server, &a.id, &r1, &server.pow()), 201, None);
    let (posted, refused) = fill_up(&server, &r1, "the case never filled up");
    assert!(posted >= 2, "only {posted} follow-ups fitted");
    let before = r1.case(&server);
    expect(refused, 413, Some("case_full"));
    let after = r1.case(&server);
    assert_eq!(after["messages"].as_array().unwrap().len(), posted + 1);
    assert_eq!(after["messages"], before["messages"]);
    // An attachment does not fit either; the listing stays empty.
    let to = recipients(after["advisors"].as_array().unwrap(), None);
    let sealed = seal(Purpose::Attachment, "acme", &to, &[7u8; 6000]);
    let pow = server.pow();
    let resp = r1
        .auth(server.put(&format!("/api/v1/case/attachments/{}", b64(&[9u8; 16]))))
        .attachment(&pow, sealed)
        .send()
        .unwrap();
    expect(resp, 413, Some("case_full"));
    assert_eq!(r1.case(&server)["attachments"], json!([]));
    assert_eq!(r1.case(&server)["messages"], before["messages"]);

    // A second case of the same organisation fills the organisation's quota.
    let r2 = Reporter::new();
    expect(create_for(&server, &a.id, &r2, &server.pow()), 201, None);
    let (_posted2, refused) = fill_up(&server, &r2, "the organisation never filled up");
    let before = r2.case(&server);
    expect(refused, 413, Some("org_storage_full"));
    assert_eq!(r2.case(&server)["messages"], before["messages"]);
    assert!(
        before["messages"].as_array().unwrap().len() < after["messages"].as_array().unwrap().len(),
        "the second case hit its own quota, not the organisation's"
    );

    // Another organisation is not affected.
    let r3 = Reporter::new();
    expect(r3.create_case(&server, "beta", std::slice::from_ref(&b.id), b"{\"b\":1}"), 201, None);
    expect(follow_up(&server, "beta", &r3, 3000), 201, None);
}

#[test]
fn creates_without_pow_from_many_addresses_do_not_use_up_creation() {
    // A small global creation quota (burst 5): creates without a proof of work from twenty
    // addresses, one each, must not use it up for a valid create from yet another address.
    let generous = "[rate_limit.create]\nper_minute = 100000\nburst = 10000\nglobal_per_minute = 1000000\n";
    let s = sections();
    assert!(s.contains(generous));
    let s = s.replace(
        generous,
        "[rate_limit.create]\nper_minute = 5\nburst = 5\nglobal_per_minute = 20\n",
    );
    let server = Server::start_with("trusted_proxy = \"127.0.0.1\"\n", &s);
    server.create_org("acme");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    for i in 0..20u8 {
        let status = server
            .post("/api/v1/cases")
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .json(&json!({
                "org": "acme",
                "advisors": [a.id],
                "token_hash": b64(&[i; 32]),
                "envelope": b64(b"junk"),
            }))
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 400, "junk create {i}");
    }
    let page = server.org_page("acme");
    let r = Reporter::new();
    let ids = [a.id.clone()];
    let to = r.recipients(&page["advisors"], Some(&ids));
    let env = r.sealed_report("acme", &to, b"{\"a\":1}");
    // Creates that pass the checks but carry no valid PoW do not take the global quota either.
    for i in 20..30u8 {
        let status = server
            .post("/api/v1/cases")
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .json(&json!({
                "org": "acme",
                "advisors": ids,
                "token_hash": b64(&[i; 32]),
                "envelope": b64(&env),
            }))
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 400, "create without pow {i}");
    }
    let resp = create_from(&server, "203.0.113.50", &ids, &r, &env);
    expect(resp, 201, None);
}

#[test]
fn wrong_guesses_from_a_shared_address_do_not_shut_out_its_clients() {
    // An onion service: every visitor arrives from 127.0.0.1 (the proxy drops
    // X-Forwarded-For), which is declared shared. Three failed guesses per address allowed.
    let s = format!("[rate_limit]\nshared_addresses = [\"127.0.0.1\"]\n{}", guess_limited());
    let server = Server::start_with("trusted_proxy = \"127.0.0.1\"\n", &s);
    server.create_org("acme");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    let r = Reporter::new();
    expect(create_for(&server, &a.id, &r, &server.pow()), 201, None);
    let guess = |xff: Option<&str>| {
        let mut rb = server
            .get("/api/v1/case")
            .header("Authorization", format!("CaseToken {}", b64(&[0x5a; 32])));
        if let Some(x) = xff {
            rb = rb.header("X-Forwarded-For", x);
        }
        rb.send().unwrap().status().as_u16()
    };
    for i in 0..5 {
        assert_eq!(guess(None), 401, "wrong guess {i} from the shared address");
    }
    // Another visitor of the onion service still gets in with a correct token.
    expect(r.auth(server.get("/api/v1/case")).send().unwrap(), 200, None);
    expect(create(&server, &a.id, &server.pow()), 201, None);
    // An address that is not shared is still shut out after its guesses.
    let statuses: Vec<u16> = (0..5).map(|_| guess(Some("198.51.100.7"))).collect();
    assert_eq!(statuses[..3], [401, 401, 401], "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    expect(
        r.auth(server.get("/api/v1/case"))
            .header("X-Forwarded-For", "198.51.100.7")
            .send()
            .unwrap(),
        429,
        Some("rate_limited"),
    );
}

#[test]
fn challenges_get_harder_while_creation_is_under_pressure() {
    // Global creation quota burst 5: past half of it, challenges are 2 bits harder.
    let generous = "[rate_limit.create]\nper_minute = 100000\nburst = 10000\nglobal_per_minute = 1000000\n";
    let s = sections();
    assert!(s.contains(generous));
    let s = s
        .replace(
            generous,
            "[rate_limit.create]\nper_minute = 5\nburst = 5\nglobal_per_minute = 20\n",
        )
        .replace("[pow]\ndifficulty = 1\n", "[pow]\ndifficulty = 1\npressure_difficulty = 2\n");
    let server = Server::start_with("trusted_proxy = \"127.0.0.1\"\n", &s);
    server.create_org("acme");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna de Vries");
    let difficulty = || {
        let c: Value = server.post("/api/v1/pow").send().unwrap().json().unwrap();
        c["difficulty"].as_u64().unwrap()
    };
    assert_eq!(difficulty(), 1);
    let create_from = |i: u8| {
        let r = Reporter::new();
        let page = server.org_page("acme");
        let ids = [a.id.clone()];
        let to = r.recipients(&page["advisors"], Some(&ids));
        let env = r.sealed_report("acme", &to, b"{\"a\":1}");
        create_from(&server, format!("198.51.100.{i}"), &ids, &r, &env)
    };
    expect(create_from(1), 201, None);
    assert_eq!(difficulty(), 1, "one create is no pressure");
    expect(create_from(2), 201, None);
    expect(create_from(3), 201, None);
    assert_eq!(difficulty(), 3, "past half the global quota");
    // The harder challenge is solved and accepted like any other.
    expect(create_from(4), 201, None);
}
