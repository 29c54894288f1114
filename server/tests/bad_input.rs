//! Malformed, oversized, forged, replayed and unauthenticated requests across all routes: each
//! gets its 4xx with a JSON `{"error", "message"}` body; none gets a 5xx, none kills a worker.
//! One test per route family, each on a server of its own ([`Fixture`]), so that a failure
//! names what broke.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::print_stdout)]

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use meldpunt_crypto::pow::{Challenge, PowParams};
use meldpunt_crypto::rng::{Rng, os_rng};
use reqwest::blocking::Response;
use serde_json::{Value, json};

struct Table {
    count: usize,
}

impl Table {
    /// Checks a refusal ([`refused`]), also that it is never cached; counts it.
    fn check(&mut self, name: &str, r: Response, status: u16, code: &str) {
        let cache = r
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        refused(name, r, status, code);
        assert_eq!(cache, "no-store", "{name}");
        self.count += 1;
    }
}

fn db_pow_key(server: &Server) -> [u8; 32] {
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    let key: Vec<u8> = conn
        .query_row("SELECT pow_key FROM instance", [], |r| r.get(0))
        .unwrap();
    key.try_into().unwrap()
}

/// A server (PoW difficulty 1, small limits) with organisations `acme` and `beta`, advisors
/// Anna (`a`) and Bob (`b`) in `acme`, a case of `reporter` to Anna, and envelopes to reuse.
struct Fixture {
    server: Server,
    a: Advisor,
    b: Advisor,
    reporter: Reporter,
    case_id: String,
    to_all: Vec<meldpunt_crypto::recipient::RecipientKey>,
    report_env: Vec<u8>,
    msg_env: Vec<u8>,
    att_msg_env: Vec<u8>,
    beta_env: Vec<u8>,
    nope_env: Vec<u8>,
    b_only_env: Vec<u8>,
}

impl Fixture {
    fn start() -> Fixture {
        let server = Server::start_with(
            "",
            &format!(
                "[pow]\ndifficulty = 1\n[limits]\nmessage_bytes = 65536\nattachment_bytes = 1048576\ncase_attachment_bytes = 2097152\n{DEFAULT_EXTRA}"
            ),
        );
        server.create_org("acme");
        server.create_org("beta");
        let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
        let b = Advisor::register(&server, &server.invite(Some("acme")), "Bob");
        let reporter = Reporter::new();
        reporter.create_case_ok(&server, "acme", std::slice::from_ref(&a.id), b"{}");
        let case_id = a.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
        let page = server.org_page("acme");
        let to_all = recipients(page["advisors"].as_array().unwrap(), None);
        let to_a = recipients(
            page["advisors"].as_array().unwrap(),
            Some(std::slice::from_ref(&a.id)),
        );
        let report_env = seal(Purpose::Report, "acme", &to_a, b"report");
        let msg_env = seal(Purpose::Message, "acme", &to_all, b"message");
        let att_msg_env = seal(Purpose::Message, "acme", &to_all, b"not an attachment");
        let beta_env = seal(Purpose::Report, "beta", &to_a, b"report");
        let nope_env = seal(Purpose::Report, "nope", &to_a, b"report");
        let b_only_env = seal(
            Purpose::Report,
            "acme",
            &recipients(
                page["advisors"].as_array().unwrap(),
                Some(std::slice::from_ref(&b.id)),
            ),
            b"r",
        );
        Fixture {
            server,
            a,
            b,
            reporter,
            case_id,
            to_all,
            report_env,
            msg_env,
            att_msg_env,
            beta_env,
            nope_env,
            b_only_env,
        }
    }

    /// Checks that `t` made at least `min` checks, that the server is alive, and that it
    /// never answered (or logged) a 5xx or a panic.
    fn finish(mut self, t: &Table, min: usize) {
        println!(
            "{} malformed requests answered with their 4xx and a JSON error",
            t.count
        );
        assert!(t.count >= min, "only {} cases", t.count);
        // The server is alive and never answered 5xx.
        expect(self.server.get("/healthz").send().unwrap(), 200, None);
        self.server.stop();
        let logs = self.server.logs();
        assert!(!logs.contains("status=5"), "a 5xx was logged:\n{logs}");
        assert!(!logs.contains("panicked"), "{logs}");
    }
}

/// A fresh token hash (base64url of 32 random bytes).
fn fresh_hash() -> String {
    let mut h = [0u8; 32];
    os_rng().fill_bytes(&mut h);
    b64(&h)
}

/// `POST /api/v1/cases` for `acme` with `env` to `advisors`, a fresh token hash and `pow`
/// (none if null).
fn post_case(server: &Server, pow: Value, env: &[u8], advisors: Value) -> Response {
    let mut body = json!({"org": "acme", "advisors": advisors, "token_hash": fresh_hash(), "envelope": b64(env)});
    if !pow.is_null() {
        body["pow"] = pow;
    }
    server.post("/api/v1/cases").json(&body).send().unwrap()
}

/// `POST /api/v1/cases` with `body` as JSON text.
fn raw(server: &Server, body: &str) -> Response {
    server
        .post("/api/v1/cases")
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap()
}

/// A keyring of an advisor not registered yet, and its current bundle.
fn other_keyring() -> (meldpunt_crypto::keyring::Keyring, Vec<u8>) {
    let kr = meldpunt_crypto::keyring::Keyring::new(
        &mut os_rng(),
        zeroize::Zeroizing::new(String::new()),
        now() - 10,
        86_400,
    )
    .unwrap();
    let good_bundle = kr
        .bundle(kr.current_key(now()).unwrap().key.key_id())
        .unwrap()
        .to_bytes();
    (kr, good_bundle)
}

/// Malformed requests against the JSON shape of a case creation: broken, mistyped, unknown or missing fields, wrong content type, oversized bodies.
#[test]
fn create_case_json_shape() {
    let fx = Fixture::start();
    let Fixture { server, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- create case: JSON shape
    t.check("broken json", raw(server, "{\"org\": "), 400, "invalid_json");
    t.check("not json", raw(server, "hello"), 400, "invalid_json");
    t.check(
        "wrong type",
        raw(server, "{\"org\": 1, \"advisors\": [], \"token_hash\": \"\", \"envelope\": \"\"}"),
        400,
        "invalid_request",
    );
    t.check(
        "unknown field",
        raw(server, 
            &json!({"org": "acme", "advisors": [], "token_hash": "", "envelope": "", "ip": "x"})
                .to_string(),
        ),
        400,
        "invalid_request",
    );
    t.check(
        "missing field",
        raw(server, "{\"org\": \"acme\"}"),
        400,
        "invalid_request",
    );
    t.check("array body", raw(server, "[]"), 400, "invalid_request");
    t.check("null body", raw(server, "null"), 400, "invalid_request");
    t.check(
        "no content type",
        server.post("/api/v1/cases").body("{}").send().unwrap(),
        415,
        "unsupported_media_type",
    );
    t.check(
        "oversized body",
        raw(server, &format!("{{\"org\": \"{}\"}}", "a".repeat(200_000))),
        413,
        "payload_too_large",
    );

    fx.finish(&t, 9);
}

/// Malformed requests against the values of a case creation: base64, lengths, envelopes (garbage, truncated, padding, organisation, purpose), advisors, limits.
#[test]
fn create_case_values() {
    let fx = Fixture::start();
    let Fixture { server, a, report_env, msg_env, beta_env, nope_env, b_only_env, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- create case: values
    t.check("bad base64 envelope", server.post("/api/v1/cases").json(&json!({"org": "acme", "advisors": [a.id], "token_hash": fresh_hash(), "envelope": "!!!"})).send().unwrap(), 400, "bad_base64");
    t.check("short token hash", server.post("/api/v1/cases").json(&json!({"org": "acme", "advisors": [a.id], "token_hash": b64(&[1u8; 16]), "envelope": b64(report_env)})).send().unwrap(), 400, "bad_length");
    t.check("padded base64 token hash", server.post("/api/v1/cases").json(&json!({"org": "acme", "advisors": [a.id], "token_hash": format!("{}=", fresh_hash()), "envelope": b64(report_env)})).send().unwrap(), 400, "bad_base64");
    t.check(
        "garbage envelope",
        post_case(server, 
            Value::Null,
            b"definitely not an envelope",
            json!([a.id]),
        ),
        400,
        "bad_envelope",
    );
    t.check(
        "truncated envelope",
        post_case(server, Value::Null, &report_env[..100], json!([a.id])),
        400,
        "bad_envelope",
    );
    // A payload must be the STREAM of a canonically padded plaintext (§3.3, §3.4): one byte
    // short of the smallest padded length, or one byte past it, is no envelope any reader opens.
    t.check(
        "payload one byte short of the padding minimum",
        post_case(server, 
            Value::Null,
            &report_env[..report_env.len() - 1],
            json!([a.id]),
        ),
        400,
        "bad_envelope",
    );
    t.check(
        "payload one byte past a padded length",
        post_case(server, 
            Value::Null,
            &[report_env.as_slice(), &[0]].concat(),
            json!([a.id]),
        ),
        400,
        "bad_envelope",
    );
    t.check("unknown organisation", server.post("/api/v1/cases").json(&json!({"org": "nope", "advisors": [a.id], "token_hash": fresh_hash(), "envelope": b64(nope_env)})).send().unwrap(), 404, "not_found");
    t.check(
        "envelope for other org",
        post_case(server, Value::Null, beta_env, json!([a.id])),
        400,
        "bad_envelope",
    );
    t.check(
        "message purpose as report",
        post_case(server, Value::Null, msg_env, json!([a.id])),
        400,
        "bad_envelope",
    );
    t.check(
        "no advisors",
        post_case(server, Value::Null, report_env, json!([])),
        400,
        "bad_advisors",
    );
    t.check(
        "33 advisors",
        post_case(server, Value::Null, report_env, json!(vec![a.id.clone(); 33])),
        400,
        "bad_advisors",
    );
    t.check(
        "duplicate advisor",
        post_case(server, Value::Null, report_env, json!([a.id, a.id])),
        400,
        "bad_advisors",
    );
    t.check(
        "unknown advisor",
        post_case(server, Value::Null, report_env, json!([b64(&[3u8; 16])])),
        400,
        "bad_advisors",
    );
    t.check(
        "advisor id bad length",
        post_case(server, Value::Null, report_env, json!([b64(&[3u8; 5])])),
        400,
        "bad_length",
    );
    t.check(
        "not sealed to addressed advisor",
        post_case(server, server.pow(), b_only_env, json!([a.id])),
        409,
        "stale_keys",
    );
    t.check(
        "envelope over message limit",
        post_case(server, Value::Null, &vec![0u8; 70_000], json!([a.id])),
        413,
        "payload_too_large",
    );

    fx.finish(&t, 17);
}

/// Malformed requests against the proof of work of a case creation: missing, malformed, forged, made with the stored key, wrong nonce, replayed; a duplicate token hash.
#[test]
fn create_case_proof_of_work() {
    let fx = Fixture::start();
    let Fixture { server, a, reporter, report_env, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- proof of work
    t.check(
        "missing pow",
        post_case(server, Value::Null, report_env, json!([a.id])),
        400,
        "pow_required",
    );
    t.check(
        "pow bad base64",
        post_case(server, 
            json!({"challenge": "%%%", "nonce": 1}),
            report_env,
            json!([a.id]),
        ),
        400,
        "bad_pow",
    );
    t.check(
        "pow wrong length",
        post_case(server, 
            json!({"challenge": b64(&[0u8; 10]), "nonce": 1}),
            report_env,
            json!([a.id]),
        ),
        400,
        "bad_pow",
    );
    t.check(
        "pow forged mac",
        post_case(server, 
            json!({"challenge": b64(&[0u8; 65]), "nonce": 1}),
            report_env,
            json!([a.id]),
        ),
        400,
        "bad_pow",
    );
    t.check(
        "pow negative nonce",
        post_case(server, 
            json!({"challenge": b64(&[0u8; 65]), "nonce": -1}),
            report_env,
            json!([a.id]),
        ),
        400,
        "invalid_request",
    );
    let key = db_pow_key(server);
    let expired = Challenge::make(
        &mut os_rng(),
        &key,
        now() - 5,
        PowParams {
            m_kib: 4096,
            t: 1,
            difficulty: 1,
        },
    );
    let nonce = meldpunt_crypto::pow::solve(expired.as_bytes(), |_| {}).unwrap();
    // The challenge key is drawn per process and never stored: a challenge made with the key
    // in the database is not the server's (expiry itself is covered by the unit tests in
    // `src/pow.rs`, which hold the key).
    t.check(
        "pow made with the stored instance key",
        post_case(server, 
            json!({"challenge": b64(expired.as_bytes()), "nonce": nonce}),
            report_env,
            json!([a.id]),
        ),
        400,
        "bad_pow",
    );
    let pow = server.pow();
    let challenge = unb64(pow["challenge"].as_str().unwrap());
    let wrong = (0u64..)
        .find(|n| !meldpunt_crypto::pow::verify_solution(&challenge, *n))
        .unwrap();
    t.check(
        "pow wrong nonce",
        post_case(server, 
            json!({"challenge": pow["challenge"], "nonce": wrong}),
            report_env,
            json!([a.id]),
        ),
        400,
        "bad_pow",
    );
    let pow = server.pow();
    expect(
        post_case(server, pow.clone(), report_env, json!([a.id])),
        201,
        None,
    );
    t.check(
        "pow replayed",
        post_case(server, pow, report_env, json!([a.id])),
        400,
        "pow_replayed",
    );
    let dup = json!({"org": "acme", "advisors": [a.id], "token_hash": b64(&reporter.keys.case_token().hash()), "envelope": b64(report_env), "pow": server.pow()});
    t.check(
        "duplicate token hash",
        server.post("/api/v1/cases").json(&dup).send().unwrap(),
        409,
        "conflict",
    );

    fx.finish(&t, 9);
}

/// Malformed requests against the reporter routes: missing, malformed, wrong or misplaced case tokens; malformed follow-ups.
#[test]
fn reporter_case_token_and_follow_up() {
    let fx = Fixture::start();
    let Fixture { server, reporter, report_env, msg_env, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- reporter routes
    t.check(
        "no case token",
        server.get("/api/v1/case").send().unwrap(),
        401,
        "bad_case_token",
    );
    t.check(
        "wrong auth scheme",
        server
            .get("/api/v1/case")
            .header("Authorization", format!("Bearer {}", reporter.token()))
            .send()
            .unwrap(),
        401,
        "bad_case_token",
    );
    t.check(
        "case token bad base64",
        server
            .get("/api/v1/case")
            .header("Authorization", "CaseToken ***")
            .send()
            .unwrap(),
        401,
        "bad_case_token",
    );
    t.check(
        "wrong case token",
        server
            .get("/api/v1/case")
            .header("Authorization", format!("CaseToken {}", b64(&[5u8; 32])))
            .send()
            .unwrap(),
        401,
        "bad_case_token",
    );
    t.check(
        "token in query is ignored",
        server
            .get(&format!("/api/v1/case?token={}", reporter.token()))
            .send()
            .unwrap(),
        401,
        "bad_case_token",
    );
    t.check(
        "follow-up wrong token",
        server
            .post("/api/v1/case/messages")
            .header("Authorization", format!("CaseToken {}", b64(&[6u8; 32])))
            .json(&json!({"envelope": b64(msg_env)}))
            .send()
            .unwrap(),
        401,
        "bad_case_token",
    );
    t.check(
        "follow-up broken json",
        reporter
            .auth(server.post("/api/v1/case/messages"))
            .header("Content-Type", "application/json")
            .body("{\"envelope\"")
            .send()
            .unwrap(),
        400,
        "invalid_json",
    );
    t.check(
        "follow-up report purpose",
        reporter
            .auth(server.post("/api/v1/case/messages"))
            .json(&json!({"envelope": b64(report_env), "pow": server.pow()}))
            .send()
            .unwrap(),
        400,
        "bad_envelope",
    );
    t.check(
        "follow-up without pow",
        reporter
            .auth(server.post("/api/v1/case/messages"))
            .json(&json!({"envelope": b64(msg_env)}))
            .send()
            .unwrap(),
        400,
        "pow_required",
    );

    fx.finish(&t, 9);
}

/// Malformed requests against the reporter's attachments: bad ids, content types, envelopes, sizes, proof of work headers, unknown ids.
#[test]
fn reporter_attachments() {
    let fx = Fixture::start();
    let Fixture { server, reporter, to_all, att_msg_env, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- reporter routes: attachments
    let put = |id: &str| reporter.auth(server.put(&format!("/api/v1/case/attachments/{id}")));
    let att_id = b64(&[8u8; 16]);
    t.check(
        "attachment bad id",
        put("abc")
            .header("Content-Type", "application/octet-stream")
            .body(vec![1u8; 10])
            .send()
            .unwrap(),
        400,
        "bad_id",
    );
    t.check(
        "attachment wrong content type",
        put(&att_id)
            .header("Content-Type", "text/plain")
            .body("hello")
            .send()
            .unwrap(),
        415,
        "unsupported_media_type",
    );
    t.check(
        "attachment garbage",
        put(&att_id)
            .header("Content-Type", "application/octet-stream")
            .body(vec![1u8; 5000])
            .send()
            .unwrap(),
        400,
        "bad_envelope",
    );
    t.check(
        "attachment too large",
        put(&att_id)
            .header("Content-Type", "application/octet-stream")
            .body(vec![0u8; 2 << 20])
            .send()
            .unwrap(),
        413,
        "payload_too_large",
    );
    t.check(
        "attachment message purpose",
        put(&att_id)
            .header("Content-Type", "application/octet-stream")
            .body(att_msg_env.clone())
            .send()
            .unwrap(),
        400,
        "bad_envelope",
    );
    let att_env = seal(Purpose::Attachment, "acme", to_all, b"attachment");
    let pow = server.pow();
    t.check(
        "attachment payload one byte short",
        put(&att_id)
            .attachment(&pow, att_env[..att_env.len() - 1].to_vec())
            .send()
            .unwrap(),
        400,
        "bad_envelope",
    );
    t.check(
        "attachment bad pow header",
        put(&att_id)
            .header("Content-Type", "application/octet-stream")
            .header("Meldpunt-Pow", "nonsense")
            .body(att_msg_env.clone())
            .send()
            .unwrap(),
        400,
        "bad_pow",
    );
    t.check(
        "attachment unknown",
        reporter
            .auth(server.get(&format!("/api/v1/case/attachments/{att_id}")))
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    t.check(
        "attachment id garbage",
        reporter
            .auth(server.get("/api/v1/case/attachments/..%2F.."))
            .send()
            .unwrap(),
        404,
        "not_found",
    );

    fx.finish(&t, 9);
}

/// Malformed requests against public routes and routing: unknown organisations, overlong slugs, unknown routes and methods, static paths.
#[test]
fn public_routes() {
    let fx = Fixture::start();
    let Fixture { server, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- public, routing
    t.check(
        "unknown org page",
        server.get("/api/v1/orgs/nope").send().unwrap(),
        404,
        "not_found",
    );
    t.check(
        "overlong slug",
        server
            .get(&format!("/api/v1/orgs/{}", "x".repeat(70)))
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    t.check(
        "no such route",
        server.get("/api/v1/nothing").send().unwrap(),
        404,
        "not_found",
    );
    t.check(
        "wrong method",
        server
            .client
            .delete(server.url("/api/v1/cases"))
            .send()
            .unwrap(),
        405,
        "method_not_allowed",
    );
    t.check(
        "wrong method on pow",
        server.get("/api/v1/pow").send().unwrap(),
        405,
        "method_not_allowed",
    );
    t.check(
        "static path without static_dir",
        server.get("/o/acme").send().unwrap(),
        404,
        "not_found",
    );

    fx.finish(&t, 6);
}

/// Malformed requests against advisor login: bad identities, forged signatures, single-use and unknown challenges, missing, garbage and expired sessions.
#[test]
fn advisor_login_and_sessions() {
    let fx = Fixture::start();
    let Fixture { server, a, b, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- advisor login
    let identity = b64(&a.keyring.identity().public().to_bytes());
    let challenge = |id: &str| {
        server
            .post("/api/v1/advisor/login/challenge")
            .json(&json!({"identity": id}))
            .send()
            .unwrap()
    };
    t.check("challenge bad base64", challenge("@@"), 400, "bad_base64");
    t.check(
        "challenge short key",
        challenge(&b64(&[1u8; 16])),
        400,
        "bad_identity",
    );
    let c = unb64(
        expect(challenge(&identity), 200, None)["challenge"]
            .as_str()
            .unwrap(),
    );
    let forged = b.keyring.identity().sign_login(&c);
    let login = |c: &[u8], sig: &[u8]| {
        server
            .post("/api/v1/advisor/login")
            .json(&json!({"identity": identity, "challenge": b64(c), "signature": b64(sig)}))
            .send()
            .unwrap()
    };
    t.check(
        "forged login signature",
        login(&c, &forged),
        401,
        "login_failed",
    );
    t.check(
        "challenge is single-use",
        login(&c, &a.keyring.identity().sign_login(&c)),
        401,
        "login_failed",
    );
    let unknown = [4u8; 32];
    t.check(
        "unknown challenge",
        login(&unknown, &a.keyring.identity().sign_login(&unknown)),
        401,
        "login_failed",
    );
    t.check(
        "inbox without session",
        server.get("/api/v1/advisor/cases").send().unwrap(),
        401,
        "bad_session",
    );
    t.check(
        "inbox garbage session",
        server
            .get("/api/v1/advisor/cases")
            .header("Authorization", "Bearer xyz")
            .send()
            .unwrap(),
        401,
        "bad_session",
    );
    let mut expiring = Advisor {
        keyring: meldpunt_crypto::keyring::Keyring::from_parts(
            meldpunt_crypto::keys::IdentityKey::from_seed(&a.keyring.identity().to_seed()),
            Vec::new(),
            zeroize::Zeroizing::new(String::new()),
        ),
        id: a.id.clone(),
        token: String::new(),
    };
    expiring.login(server);
    {
        let conn = rusqlite::Connection::open(&server.db).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        conn.execute(
            "UPDATE sessions SET expires_at = 1 WHERE rowid = (SELECT max(rowid) FROM sessions)",
            [],
        )
        .unwrap();
    }
    let r = expiring
        .auth(server.get("/api/v1/advisor/cases"))
        .send()
        .unwrap();
    t.check("expired session", r, 401, "bad_session");

    fx.finish(&t, 8);
}

/// Malformed requests against advisor registration: unknown and reused invites, forged or foreign bundles, bad profiles.
#[test]
fn advisor_registration() {
    let fx = Fixture::start();
    let Fixture { server, a, .. } = &fx;
    let mut t = Table { count: 0 };

    // --- registration
    let register = |invite: &str, identity: &[u8], bundle: &[u8], profile: Value| {
        server.post("/api/v1/advisor/register").json(&json!({"invite": invite, "identity": b64(identity), "bundle": b64(bundle), "profile": profile})).send().unwrap()
    };
    let (kr, good_bundle) = other_keyring();
    let pk = kr.identity().public().to_bytes();
    let mut forged_bundle = good_bundle.clone();
    forged_bundle[120] ^= 1;
    let invite = server.invite(Some("acme"));
    let profile = json!({"display_name": "Nieuw"});
    t.check(
        "unknown invite",
        register("AAAA-BBBB", &pk, &good_bundle, profile.clone()),
        403,
        "bad_invite",
    );
    t.check(
        "forged bundle",
        register(&invite, &pk, &forged_bundle, profile.clone()),
        400,
        "bad_bundle",
    );
    t.check(
        "bundle of another identity",
        register(
            &invite,
            &a.keyring.identity().public().to_bytes(),
            &good_bundle,
            profile.clone(),
        ),
        400,
        "bad_bundle",
    );
    t.check(
        "empty display name",
        register(&invite, &pk, &good_bundle, json!({"display_name": "  "})),
        400,
        "bad_profile",
    );
    t.check(
        "photo without type",
        register(
            &invite,
            &pk,
            &good_bundle,
            json!({"display_name": "N", "photo": b64(b"png")}),
        ),
        400,
        "bad_photo",
    );
    t.check(
        "profile unknown field",
        register(
            &invite,
            &pk,
            &good_bundle,
            json!({"display_name": "N", "email": "x@y"}),
        ),
        400,
        "invalid_request",
    );
    expect(
        register(&invite, &pk, &good_bundle, profile.clone()),
        201,
        None,
    );
    t.check(
        "invite used twice",
        register(&invite, &pk, &good_bundle, profile.clone()),
        403,
        "bad_invite",
    );

    fx.finish(&t, 7);
}

/// Malformed requests against the advisor case routes: bad status, replies for another organisation, bad shares, unknown cases, forged rotations and revocations.
#[test]
fn advisor_case_routes() {
    let fx = Fixture::start();
    let Fixture { server, a, b, case_id, to_all, msg_env, .. } = &fx;
    let mut t = Table { count: 0 };

    let (kr, good_bundle) = other_keyring();
    // --- advisor case routes
    let p = format!("/api/v1/advisor/cases/{case_id}");
    t.check(
        "bad status",
        a.auth(server.put(&format!("{p}/status")))
            .json(&json!({"status": "done"}))
            .send()
            .unwrap(),
        400,
        "invalid_request",
    );
    t.check(
        "reply for other org",
        a.auth(server.post(&format!("{p}/messages")))
            .json(&json!({"envelope": b64(&seal(Purpose::Message, "beta", to_all, b"x"))}))
            .send()
            .unwrap(),
        400,
        "bad_envelope",
    );
    t.check(
        "share short stanza",
        a.auth(server.post(&format!("{p}/share")))
            .json(&json!({"advisor": b.id, "stanzas": [{"message": 0, "stanza": b64(&[0u8; 10])}], "envelope": b64(msg_env)}))
            .send()
            .unwrap(),
        400,
        "bad_stanza",
    );
    t.check(
        "share stanza for wrong key",
        a.auth(server.post(&format!("{p}/share")))
            .json(&json!({"advisor": b.id, "stanzas": [{"message": 0, "stanza": b64(&[0u8; 96])}], "envelope": b64(msg_env)}))
            .send()
            .unwrap(),
        400,
        "bad_stanza",
    );
    t.check(
        "share without stanzas",
        a.auth(server.post(&format!("{p}/share")))
            .json(&json!({"advisor": b.id, "stanzas": [], "envelope": b64(msg_env)}))
            .send()
            .unwrap(),
        409,
        "conflict",
    );
    t.check(
        "unknown case id",
        a.auth(server.get("/api/v1/advisor/cases/not-an-id"))
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    let mut forged_rot = kr
        .bundle(kr.current_key(now()).unwrap().key.key_id())
        .unwrap()
        .to_bytes();
    forged_rot[150] ^= 1;
    t.check(
        "rotation with forged bundle",
        a.auth(server.post("/api/v1/advisor/keys"))
            .json(&json!({"bundle": b64(&forged_rot)}))
            .send()
            .unwrap(),
        400,
        "bad_bundle",
    );
    t.check(
        "rotation with another's bundle",
        a.auth(server.post("/api/v1/advisor/keys"))
            .json(&json!({"bundle": b64(&good_bundle)}))
            .send()
            .unwrap(),
        400,
        "bad_bundle",
    );
    let rev_other = a
        .keyring
        .identity()
        .make_revocation(meldpunt_crypto::recipient::KeyId([1u8; 16]), now());
    t.check(
        "revoke unknown key",
        a.auth(server.post("/api/v1/advisor/revocations"))
            .json(&json!({"revocation": b64(&rev_other.to_bytes())}))
            .send()
            .unwrap(),
        400,
        "bad_revocation",
    );
    t.check(
        "revocation garbage",
        a.auth(server.post("/api/v1/advisor/revocations"))
            .json(&json!({"revocation": b64(&[0u8; 125])}))
            .send()
            .unwrap(),
        400,
        "bad_revocation",
    );

    fx.finish(&t, 10);
}

#[test]
fn case_token_guessing_is_rate_limited() {
    let mut server = Server::start_with(
        "[pow]\nenabled = false\n",
        "[rate_limit.case_guess]\nper_minute = 5\nburst = 5\nglobal_per_minute = 1000\n",
    );
    server.create_org("acme");
    let a = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
    let reporter = Reporter::new();
    reporter.create_case_ok(&server, "acme", std::slice::from_ref(&a.id), b"{}");
    let mut limited = 0;
    for i in 0..20u8 {
        let r = guess_case_token(&server.client, &server.url(""), i);
        match r.status().as_u16() {
            401 => assert!(limited == 0, "a guess got through after the limit engaged"),
            429 => {
                let v = expect(r, 429, Some("rate_limited"));
                assert_eq!(v["message"], "too many requests; try again later");
                limited += 1;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(limited >= 14, "only {limited} of 20 guesses were refused");
    // While shut out, even the right token is refused: a lucky guess cannot be confirmed.
    expect(
        reporter.auth(server.get("/api/v1/case")).send().unwrap(),
        429,
        Some("rate_limited"),
    );
    let metrics = server.metrics();
    assert!(metrics.contains("meldpunt_case_token_failures_total"));
    server.assert_no_leaks(&[]);
}
