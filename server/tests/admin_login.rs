//! Administrator logins against the real binary: passphrase strength, TOTP setup and use
//! (wrong and replayed codes refused), `require_totp`, session expiry (idle and absolute, set
//! through `MELDPUNT_ADMIN__*` variables), and the per-account lock-out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::time::Duration;

use meldpunt_tests::admin::*;
use meldpunt_tests::{expect, now};
use serde_json::json;

#[test]
fn weak_passphrases_are_refused() {
    let server = start(&[]);
    server.create_org("alfa");
    // CLI: too short, too guessable.
    for weak in ["short", "password1234", "beheerbeheer", "aaaaaaaaaaaaaaaa"] {
        let (ok, _, err) = operator_create(&server, "beheer", &format!("{weak}\n"));
        assert!(!ok, "{weak} accepted");
        assert!(err.contains("passphrase"), "{err}");
    }
    // The passphrase never goes on the command line: there is no such flag.
    let (ok, _, err) = cli(
        &server,
        &[
            "operator",
            "create",
            "--username",
            "beheer",
            "--passphrase",
            OPERATOR_PASS,
        ],
        "",
    );
    assert!(!ok && err.contains("--passphrase"), "{err}");
    create_operator(&server, "beheer", OPERATOR_PASS);
    // A taken username.
    let (ok, _, err) = operator_create(&server, "beheer", &format!("{OPERATOR_PASS} 2\n"));
    assert!(!ok && err.contains("taken"), "{err}");

    // API: accepting an invite with a weak passphrase; the invite stays usable.
    let invite = cli_admin_invite(&server, "alfa");
    for weak in ["kort", "welkom123456", "password1234", "qwertyuiopasdf"] {
        let v = expect(
            accept(&server, &invite, "hr-alfa", weak),
            400,
            Some("weak_passphrase"),
        );
        assert!(!v["message"].as_str().unwrap().contains(weak), "{v}");
    }
    expect(accept(&server, &invite, "hr-alfa", ALFA_PASS), 201, None);
    // Used up.
    expect(
        accept(&server, &invite, "hr-other", ALFA_PASS),
        403,
        Some("bad_invite"),
    );

    // Changing to a weak passphrase; a wrong current passphrase.
    let hr = Admin::login(&server, "hr-alfa", ALFA_PASS);
    hr.expect_post(
        "/api/v1/admin/passphrase",
        json!({"old": ALFA_PASS, "new": "abcdefghijkl"}),
        400,
        Some("weak_passphrase"),
    );
    hr.expect_post(
        "/api/v1/admin/passphrase",
        json!({"old": "not it at all, no", "new": BETA_PASS}),
        403,
        Some("bad_passphrase"),
    );
    // A real change ends the other sessions, keeps this one.
    let other = Admin::login(&server, "hr-alfa", ALFA_PASS);
    hr.expect_post(
        "/api/v1/admin/passphrase",
        json!({"old": ALFA_PASS, "new": BETA_PASS}),
        204,
        None,
    );
    expect(hr.get("/api/v1/admin/me"), 200, None);
    expect(other.get("/api/v1/admin/me"), 401, Some("bad_session"));
    expect(
        login(&server, "hr-alfa", ALFA_PASS, None),
        401,
        Some("bad_login"),
    );
    Admin::login(&server, "hr-alfa", BETA_PASS);
}

#[test]
fn totp_setup_login_replay_and_require_totp() {
    let server = with_orgs(&[]);
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);
    let me = op.get_ok("/api/v1/admin/me");
    assert_eq!(me["role"], "operator");
    assert_eq!(me["totp_enabled"], false);
    assert_eq!(me["require_totp"], false);

    // Confirm without setup; setup; a wrong code; the right one.
    op.expect_post(
        "/api/v1/admin/totp/confirm",
        json!({"code": "123456"}),
        409,
        Some("no_totp_setup"),
    );
    let setup = op.expect_post("/api/v1/admin/totp/setup", json!({"passphrase": OPERATOR_PASS}), 200, None);
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert_eq!(base32_decode(&secret).len(), 20);
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Meldpunt:beheer?"), "{uri}");
    assert!(
        uri.contains(&format!("secret={secret}")) && uri.contains("issuer=Meldpunt"),
        "{uri}"
    );
    assert!(
        setup["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || setup["qr_svg"].as_str().unwrap().contains("<svg")
    );
    let t0 = now();
    let wrong = if totp_at(&secret, t0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    op.expect_post("/api/v1/admin/totp/confirm", json!({"code": wrong}), 400, Some("bad_code"));
    op.expect_post("/api/v1/admin/totp/confirm", json!({"code": "abc"}), 400, Some("bad_code"));
    op.expect_post("/api/v1/admin/totp/confirm", json!({"code": totp_at(&secret, t0)}), 204, None);
    assert_eq!(op.get_ok("/api/v1/admin/me")["totp_enabled"], true);

    // Login now needs the code: missing, wrong, replayed (the step used to confirm).
    expect(
        login(&server, "beheer", OPERATOR_PASS, None),
        401,
        Some("totp_required"),
    );
    expect(
        login(&server, "beheer", OPERATOR_PASS, Some(wrong)),
        401,
        Some("totp_required"),
    );
    expect(
        login(&server, "beheer", OPERATOR_PASS, Some(&totp_at(&secret, t0))),
        401,
        Some("totp_required"),
    );
    // The wrong passphrase with a right code is still a bad login.
    expect(
        login(&server, "beheer", "wrong passphrase here", Some(&totp_at(&secret, t0 + 30))),
        401,
        Some("bad_login"),
    );
    // The next step's code works once.
    let next = totp_at(&secret, t0 + 30);
    let v = expect(
        login(&server, "beheer", OPERATOR_PASS, Some(&next)),
        200,
        None,
    );
    assert_eq!(v["role"], "operator");
    assert_eq!(v["totp_enabled"], true);
    assert!(v["org"].is_null());
    expect(
        login(&server, "beheer", OPERATOR_PASS, Some(&next)),
        401,
        Some("totp_required"),
    );

    // require_totp: the org admin without TOTP may only set it up.
    assert_eq!(
        expect(
            op.put("/api/v1/admin/instance", json!({"require_totp": true})),
            200,
            None
        )["require_totp"],
        true
    );
    let v = expect(login(&server, "hr-alfa", ALFA_PASS, None), 200, None);
    assert_eq!(v["must_enable_totp"], true);
    assert_eq!(v["org"], "alfa");
    assert_eq!(v["role"], "org_admin");
    let hr = Admin {
        server: &server,
        token: v["token"].as_str().unwrap().to_owned(),
        username: "hr-alfa".into(),
    };
    for path in [
        "/api/v1/admin/org",
        "/api/v1/admin/org/advisors",
        "/api/v1/admin/org/link",
        "/api/v1/admin/audit",
    ] {
        expect(hr.get(path), 403, Some("totp_setup_required"));
    }
    expect(
        hr.put("/api/v1/admin/org", json!({"name": "Nope"})),
        403,
        Some("totp_setup_required"),
    );
    hr.expect_post(
        "/api/v1/admin/passphrase",
        json!({"old": ALFA_PASS, "new": BETA_PASS}),
        403,
        Some("totp_setup_required"),
    );
    let me = hr.get_ok("/api/v1/admin/me");
    assert_eq!(me["must_enable_totp"], true);
    assert_eq!(me["require_totp"], true);
    let setup = hr.expect_post("/api/v1/admin/totp/setup", json!({"passphrase": ALFA_PASS}), 200, None);
    let secret2 = setup["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret2, secret);
    let t1 = now();
    hr.expect_post(
        "/api/v1/admin/totp/confirm",
        json!({"code": totp_at(&secret2, t1)}),
        204,
        None,
    );
    assert_eq!(hr.get_ok("/api/v1/admin/org")["slug"], "alfa");
    assert_eq!(hr.get_ok("/api/v1/admin/me")["must_enable_totp"], false);

    // The other org admin is held until they set it up too; turning it off (CLI) frees them.
    let v = expect(login(&server, "hr-beta", BETA_PASS, None), 200, None);
    assert_eq!(v["must_enable_totp"], true);
    let (ok, out, err) = cli(&server, &["operator", "require-totp", "off"], "");
    assert!(ok, "{err}");
    assert!(out.contains("optional"));
    let hb = Admin::login(&server, "hr-beta", BETA_PASS);
    assert_eq!(hb.get_ok("/api/v1/admin/me")["require_totp"], false);
    expect(hb.get("/api/v1/admin/org"), 200, None);
    // Audit entries for all of it, none with a secret.
    // (The operator's session from before TOTP was enabled is still valid.)
    let audit = op.get_ok("/api/v1/admin/audit");
    let text = audit.to_string();
    for action in [
        "totp.enable",
        "instance.require_totp",
        "login",
        "org_admin.join",
        "operator.create",
    ] {
        assert!(
            text.contains(&format!("\"action\":\"{action}\"")),
            "{action}: {text}"
        );
    }
    assert!(!text.contains(&secret) && !text.contains(&secret2));

    // A lost phone: the operator removes hr-alfa's TOTP on the server machine. Their session
    // ends, the passphrase alone logs in again, and the audit log says so.
    let (ok, _, err) = cli(&server, &["operator", "reset-totp", "--username", "nobody"], "");
    assert!(!ok && err.contains("nobody"), "{err}");
    let (ok, out, err) = cli(&server, &["operator", "reset-totp", "--username", "hr-alfa"], "");
    assert!(ok, "{err}");
    assert!(out.contains("TOTP removed for hr-alfa"), "{out}");
    expect(hr.get("/api/v1/admin/me"), 401, Some("bad_session"));
    let again = expect(login(&server, "hr-alfa", ALFA_PASS, None), 200, None);
    assert_eq!(again["totp_enabled"], false);
    let alfa = Admin {
        server: &server,
        token: again["token"].as_str().unwrap().to_owned(),
        username: "hr-alfa".into(),
    };
    let audit = alfa.get_ok("/api/v1/admin/audit").to_string();
    assert!(audit.contains("\"action\":\"account.totp_reset\""), "{audit}");
}

#[test]
fn sessions_expire_idle_and_absolute() {
    let server = with_orgs(&[
        ("MELDPUNT_ADMIN__SESSION_IDLE_SECS", "2"),
        ("MELDPUNT_ADMIN__SESSION_MAX_SECS", "5"),
    ]);
    // Idle: unused for more than 2 s.
    let a = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let me = a.get_ok("/api/v1/admin/me");
    assert!(me["expires_at"].as_i64().unwrap() <= now() + 2);
    std::thread::sleep(Duration::from_millis(3100));
    expect(a.get("/api/v1/admin/me"), 401, Some("bad_session"));

    // Absolute: used every second, still over after 5 s.
    let b = Admin::login(&server, "hr-beta", BETA_PASS);
    let start = std::time::Instant::now();
    let mut statuses = Vec::new();
    while start.elapsed() < Duration::from_millis(6500) {
        statuses.push((
            start.elapsed().as_millis(),
            b.get("/api/v1/admin/me").status().as_u16(),
        ));
        std::thread::sleep(Duration::from_millis(700));
    }
    assert!(
        statuses.iter().take(3).all(|(_, s)| *s == 200),
        "{statuses:?}"
    );
    assert_eq!(statuses.last().unwrap().1, 401, "{statuses:?}");
    // Once over, it stays over.
    assert!(
        statuses
            .iter()
            .skip_while(|(_, s)| *s == 200)
            .all(|(_, s)| *s == 401),
        "{statuses:?}"
    );

    // Logout ends a session at once; garbage tokens are 401.
    let c = Admin::login(&server, "hr-alfa", ALFA_PASS);
    expect(c.post_empty("/api/v1/admin/logout"), 204, None);
    expect(c.get("/api/v1/admin/me"), 401, Some("bad_session"));
    for bad in ["", "x", "Bearer", &"A".repeat(43), &"A".repeat(500)] {
        let r = server
            .get("/api/v1/admin/me")
            .header("Authorization", format!("Bearer {bad}"))
            .send()
            .unwrap();
        expect(r, 401, Some("bad_session"));
    }
    expect(
        server.get("/api/v1/admin/me").send().unwrap(),
        401,
        Some("bad_session"),
    );
}

#[test]
fn failed_logins_lock_out_one_account() {
    let server = with_orgs(&[]);
    // Five failures: 401 each.
    for _ in 0..5 {
        expect(
            login(&server, "hr-alfa", "not the passphrase", None),
            401,
            Some("bad_login"),
        );
    }
    // Now even the right passphrase is refused for a while, with retry_after.
    let r = login(&server, "hr-alfa", ALFA_PASS, None);
    let header: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let v = expect(r, 429, Some("too_many_attempts"));
    let wait = v["retry_after"].as_u64().unwrap();
    assert!((1..=2).contains(&wait) && header == wait, "{v}");
    // Another account is not affected.
    Admin::login(&server, "hr-beta", BETA_PASS);
    Admin::login(&server, "beheer", OPERATOR_PASS);
    // After the wait, one more failure locks for 2 s.
    std::thread::sleep(Duration::from_millis(wait * 1000 + 300));
    expect(
        login(&server, "hr-alfa", "still not it", None),
        401,
        Some("bad_login"),
    );
    let v = expect(
        login(&server, "hr-alfa", ALFA_PASS, None),
        429,
        Some("too_many_attempts"),
    );
    assert!(v["retry_after"].as_u64().unwrap() >= 1, "{v}");
    std::thread::sleep(Duration::from_millis(
        v["retry_after"].as_u64().unwrap() * 1000 + 300,
    ));
    // The right passphrase works again and clears the count.
    Admin::login(&server, "hr-alfa", ALFA_PASS);
    expect(
        login(&server, "hr-alfa", "wrong again, once", None),
        401,
        Some("bad_login"),
    );
    Admin::login(&server, "hr-alfa", ALFA_PASS);

    // Unknown usernames: the same answers and the same lock-out (nothing tells them apart).
    for _ in 0..5 {
        let v = expect(
            login(&server, "nobody-here", "whatever it is", None),
            401,
            Some("bad_login"),
        );
        assert_eq!(v["message"], "wrong username or passphrase");
    }
    expect(
        login(&server, "nobody-here", "whatever it is", None),
        429,
        Some("too_many_attempts"),
    );
    // Malformed usernames are bad logins too.
    expect(
        login(&server, "NO SUCH USER!", "x", None),
        401,
        Some("bad_login"),
    );
}

/// A session token alone cannot (re-)key TOTP: setup needs the passphrase, and once TOTP is on
/// also a current code of the key in use; a refusal leaves the old key working.
#[test]
fn totp_rekey_needs_passphrase_and_current_code() {
    let server = with_orgs(&[]);
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);
    let setup = "/api/v1/admin/totp/setup";
    expect(op.post(setup, json!({})), 400, Some("invalid_request"));
    expect(
        op.post(setup, json!({"passphrase": ALFA_PASS})),
        403,
        Some("bad_passphrase"),
    );
    let v = expect(
        op.post(setup, json!({"passphrase": OPERATOR_PASS})),
        200,
        None,
    );
    let secret = v["secret"].as_str().unwrap().to_owned();
    let t0 = now();
    op.expect_post("/api/v1/admin/totp/confirm", json!({"code": totp_at(&secret, t0)}), 204, None);

    // TOTP is on: the passphrase alone, or with a wrong code, does not start a new key.
    expect(
        op.post(setup, json!({"passphrase": OPERATOR_PASS})),
        401,
        Some("totp_required"),
    );
    let now_code = totp_at(&secret, t0 + 30);
    let wrong = if now_code == "000000" { "111111" } else { "000000" };
    expect(
        op.post(setup, json!({"passphrase": OPERATOR_PASS, "code": wrong})),
        401,
        Some("totp_required"),
    );
    // The code already used for the confirmation is not taken again.
    expect(
        op.post(
            setup,
            json!({"passphrase": OPERATOR_PASS, "code": totp_at(&secret, t0)}),
        ),
        401,
        Some("totp_required"),
    );
    let me = op.get_ok("/api/v1/admin/me");
    assert_eq!(me["totp_enabled"], true);

    // Passphrase and a current code: a new key is offered.
    let v = expect(
        op.post(setup, json!({"passphrase": OPERATOR_PASS, "code": now_code})),
        200,
        None,
    );
    assert_ne!(v["secret"].as_str().unwrap(), secret);
}
