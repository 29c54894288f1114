//! Bad input on every admin route: each gets a 4xx with a JSON `{"error", "message"}` body and
//! changes nothing (settings read before and after are equal). Also: Markdown is rendered to
//! harmless HTML, logos are checked, the CLI writes audit entries like the API, and neither the
//! database nor the log holds an address, a user agent, a passphrase or an invite code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::print_stdout)]

use meldpunt_tests::admin::*;
use meldpunt_tests::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

/// Checks a refusal: the status, the JSON body, the code; counts it.
fn refused(n: &mut usize, name: &str, r: Response, status: u16, code: &str) {
    meldpunt_tests::refused(name, r, status, code);
    *n += 1;
}

fn raw(admin: &Admin<'_>, method: reqwest::Method, path: &str, body: &str) -> Response {
    admin
        .auth(admin.server.client.request(method, admin.server.url(path)))
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap()
}

/// Everything an admin and the public can read about the organisations.
fn state(server: &Server, op: &Admin<'_>, ha: &Admin<'_>) -> Vec<Value> {
    vec![
        ha.get_ok("/api/v1/admin/org"),
        ha.get_ok("/api/v1/admin/org/advisors"),
        op.get_ok("/api/v1/admin/orgs"),
        op.get_ok("/api/v1/admin/instance"),
        op.get_ok("/api/v1/admin/branch/advisors"),
        server.org_page("alfa"),
        server.org_page("beta"),
    ]
}

#[test]
fn bad_input_changes_nothing() {
    let server = with_orgs(&[]);
    let a = Advisor::register(&server, &server.invite(Some("alfa")), "Anna Alfa");
    let b = Advisor::register(&server, &server.invite(Some("beta")), "Bram Beta");
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let invite = cli_admin_invite(&server, "alfa");
    let before = state(&server, &op, &ha);
    let audit_before = op.get_ok("/api/v1/admin/audit");
    let mut n = 0;
    use reqwest::Method as M;

    // PUT /admin/org: malformed JSON, unknown fields, wrong types, limits, collisions.
    let org = "/api/v1/admin/org";
    for (body, status, code) in [
        ("{", 400, "invalid_json"),
        ("", 400, "invalid_json"),
        ("[]", 400, "invalid_request"),
        ("null", 400, "invalid_request"),
        (r#"{"nam": "x"}"#, 400, "invalid_request"),
        (r#"{"name": 5}"#, 400, "invalid_request"),
        (r#"{"name": ""}"#, 400, "bad_name"),
        (r#"{"name": "   "}"#, 400, "bad_name"),
        (r#"{"name": "two\nlines"}"#, 400, "bad_name"),
        (r#"{"name": "bell\u0007"}"#, 400, "bad_name"),
        (r#"{"slug": "Bad Slug"}"#, 400, "bad_slug"),
        (r#"{"slug": "-x"}"#, 400, "bad_slug"),
        (r#"{"slug": ""}"#, 400, "bad_slug"),
        (r#"{"slug": "beta"}"#, 409, "slug_taken"),
        (r#"{"slug": 7}"#, 400, "invalid_request"),
        (r#"{"intro": "text"}"#, 400, "invalid_request"),
        (r#"{"intro": {"de": "Hallo"}}"#, 400, "invalid_request"),
        (r#"{"intro": {"nl": 1}}"#, 400, "invalid_request"),
        (
            r#"{"code_of_conduct": {"en": "nul\u0000"}}"#,
            400,
            "bad_code_of_conduct",
        ),
        (r#"{"categories": "bullying"}"#, 400, "invalid_request"),
        (
            r#"{"categories": [{"id": "x", "nl": "X"}]}"#,
            400,
            "invalid_request",
        ),
        (
            r#"{"categories": [{"id": "x", "nl": "X", "en": "X", "fr": "X"}]}"#,
            400,
            "invalid_request",
        ),
        (
            r#"{"categories": [{"id": "Bad", "nl": "X", "en": "X"}]}"#,
            400,
            "bad_categories",
        ),
        (
            r#"{"categories": [{"id": "", "nl": "X", "en": "X"}]}"#,
            400,
            "bad_categories",
        ),
        (
            r#"{"categories": [{"id": "x", "nl": "", "en": "X"}]}"#,
            400,
            "bad_categories",
        ),
        (
            r#"{"categories": [{"id": "x", "nl": "X", "en": "X"}, {"id": "x", "nl": "Y", "en": "Y"}]}"#,
            400,
            "bad_categories",
        ),
        (r#"{"retention_days": 0}"#, 400, "bad_retention_days"),
        (r#"{"retention_days": 3651}"#, 400, "bad_retention_days"),
        // Below the floor (30 days by default) only the operator may go: an org admin cannot
        // have closed cases deleted early by shortening retention.
        (r#"{"retention_days": 1}"#, 400, "retention_below_floor"),
        (r#"{"retention_days": 29}"#, 400, "retention_below_floor"),
        (r#"{"retention_days": -1}"#, 400, "invalid_request"),
        (r#"{"retention_days": "365"}"#, 400, "invalid_request"),
        (r#"{"retention_days": 1.5}"#, 400, "invalid_request"),
        (r#"{"retention_days": 99999999999}"#, 400, "invalid_request"),
        (r#"{"languages": ["de"]}"#, 400, "bad_languages"),
        (r#"{"languages": []}"#, 400, "bad_languages"),
        (r#"{"languages": ["nl", "nl"]}"#, 400, "bad_languages"),
        (r#"{"languages": "nl"}"#, 400, "invalid_request"),
        (r#"{"advisor_order": ["zzz"]}"#, 400, "bad_advisor_order"),
        (
            r#"{"advisor_order": ["AAAAAAAAAAAAAAAAAAAAAA"]}"#,
            400,
            "bad_advisor_order",
        ),
        (r#"{"advisor_order": {}}"#, 400, "invalid_request"),
        // A valid change together with an invalid one: nothing is written.
        (
            r#"{"name": "Nieuw", "retention_days": 0}"#,
            400,
            "bad_retention_days",
        ),
        (
            r#"{"intro": {"nl": "ok"}, "slug": "beta"}"#,
            409,
            "slug_taken",
        ),
    ] {
        refused(&mut n, body, raw(&ha, M::PUT, org, body), status, code);
    }
    let cat = |i: usize| json!({"id": format!("c{i}"), "nl": "X", "en": "X"});
    for (name, body, status, code) in [
        (
            "name too long",
            json!({"name": "n".repeat(201)}),
            400,
            "bad_name",
        ),
        (
            "slug too long",
            json!({"slug": "s".repeat(65)}),
            400,
            "bad_slug",
        ),
        (
            "intro too long",
            json!({"intro": {"en": "i".repeat(10_001)}}),
            400,
            "bad_intro",
        ),
        (
            "conduct too long",
            json!({"code_of_conduct": {"nl": "c".repeat(20_001)}}),
            400,
            "bad_code_of_conduct",
        ),
        (
            "51 categories",
            json!({"categories": (0..51).map(cat).collect::<Vec<_>>()}),
            400,
            "bad_categories",
        ),
        (
            "long label",
            json!({"categories": [{"id": "x", "nl": "l".repeat(101), "en": "X"}]}),
            400,
            "bad_categories",
        ),
        (
            "other org's advisor",
            json!({"advisor_order": [b.id]}),
            400,
            "bad_advisor_order",
        ),
        (
            "twice",
            json!({"advisor_order": [a.id, a.id]}),
            400,
            "bad_advisor_order",
        ),
        (
            "too large body",
            json!({"intro": {"nl": "x".repeat(600_000)}}),
            413,
            "payload_too_large",
        ),
    ] {
        refused(&mut n, name, ha.put(org, body), status, code);
    }
    refused(
        &mut n,
        "text/plain",
        ha.auth(server.put(org))
            .header("Content-Type", "text/plain")
            .body("{}")
            .send()
            .unwrap(),
        415,
        "unsupported_media_type",
    );

    // Logo: type, size, magic bytes; never SVG.
    let logo = "/api/v1/admin/org/logo";
    let png = [b"\x89PNG\r\n\x1a\n".to_vec(), vec![7u8; 100]].concat();
    let jpeg = [vec![0xFF, 0xD8, 0xFF, 0xE0], vec![7u8; 100]].concat();
    for (name, ct, body, status, code) in [
        (
            "svg",
            "image/svg+xml",
            b"<svg onload=alert(1)></svg>".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "gif",
            "image/gif",
            b"GIF89a....".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "text",
            "text/plain",
            png.clone(),
            415,
            "unsupported_media_type",
        ),
        ("no type", "", png.clone(), 415, "unsupported_media_type"),
        ("jpeg as png", "image/png", jpeg.clone(), 400, "bad_logo"),
        ("png as jpeg", "image/jpeg", png.clone(), 400, "bad_logo"),
        (
            "svg as png",
            "image/png",
            b"<svg></svg>".to_vec(),
            400,
            "bad_logo",
        ),
        ("empty", "image/png", Vec::new(), 400, "bad_logo"),
        (
            "too big",
            "image/png",
            [png.clone(), vec![0u8; 256 * 1024]].concat(),
            413,
            "payload_too_large",
        ),
    ] {
        refused(&mut n, name, ha.put_raw(logo, ct, body), status, code);
    }
    refused(
        &mut n,
        "no logo yet",
        server.get("/api/v1/orgs/alfa/logo").send().unwrap(),
        404,
        "not_found",
    );

    // Operator routes.
    for (method, path, body, status, code) in [
        (M::POST, "/api/v1/admin/orgs", "{", 400, "invalid_json"),
        (
            M::POST,
            "/api/v1/admin/orgs",
            r#"{"slug": "gamma"}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/orgs",
            r#"{"slug": "gamma", "name": "G", "x": 1}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/orgs",
            r#"{"slug": "Gamma", "name": "G"}"#,
            400,
            "bad_slug",
        ),
        (
            M::POST,
            "/api/v1/admin/orgs",
            r#"{"slug": "gamma", "name": ""}"#,
            400,
            "bad_name",
        ),
        (
            M::POST,
            "/api/v1/admin/orgs",
            r#"{"slug": "beta", "name": "B"}"#,
            409,
            "slug_taken",
        ),
        (
            M::PUT,
            "/api/v1/admin/orgs/beta/suspended",
            r#"{"suspended": "yes"}"#,
            400,
            "invalid_request",
        ),
        (
            M::PUT,
            "/api/v1/admin/orgs/beta/suspended",
            r#"{}"#,
            400,
            "invalid_request",
        ),
        (
            M::PUT,
            "/api/v1/admin/orgs/beta/suspended",
            r#"{"suspended": true, "why": 1}"#,
            400,
            "invalid_request",
        ),
        (
            M::PUT,
            "/api/v1/admin/orgs/nope/suspended",
            r#"{"suspended": true}"#,
            404,
            "not_found",
        ),
        (
            M::POST,
            "/api/v1/admin/orgs/nope/admin-invites",
            "",
            404,
            "not_found",
        ),
        (
            M::PUT,
            "/api/v1/admin/branch/advisors/zzz/suspended",
            r#"{"suspended": true}"#,
            404,
            "not_found",
        ),
        (
            M::PUT,
            "/api/v1/admin/branch/advisors/AAAAAAAAAAAAAAAAAAAAAA/suspended",
            r#"{"suspended": true}"#,
            404,
            "not_found",
        ),
        (
            M::PUT,
            "/api/v1/admin/instance",
            r#"{"require_totp": "yes"}"#,
            400,
            "invalid_request",
        ),
        (
            M::PUT,
            "/api/v1/admin/instance",
            r#"{"require_totp": true, "x": 1}"#,
            400,
            "invalid_request",
        ),
        (
            M::PUT,
            "/api/v1/admin/instance",
            "nope",
            400,
            "invalid_json",
        ),
        (
            M::PUT,
            "/api/v1/admin/instance",
            "[true]",
            400,
            "invalid_request",
        ),
        (M::GET, "/api/v1/admin/audit?limit=0", "", 400, "bad_limit"),
        (
            M::GET,
            "/api/v1/admin/audit?limit=501",
            "",
            400,
            "bad_limit",
        ),
        (
            M::GET,
            "/api/v1/admin/audit?limit=x",
            "",
            400,
            "invalid_query",
        ),
        (
            M::GET,
            "/api/v1/admin/audit?foo=1",
            "",
            400,
            "invalid_query",
        ),
        (M::GET, "/api/v1/admin/audit?org=nope", "", 404, "not_found"),
        (
            M::DELETE,
            "/api/v1/admin/orgs",
            "",
            405,
            "method_not_allowed",
        ),
    ] {
        refused(
            &mut n,
            &format!("{method} {path} {body}"),
            raw(&op, method.clone(), path, body),
            status,
            code,
        );
    }
    // Org-admin routes besides PUT /org.
    for (method, path, body, status, code) in [
        (
            M::PUT,
            "/api/v1/admin/org/advisors/zzz/suspended",
            r#"{"suspended": true}"#,
            404,
            "not_found",
        ),
        (
            M::PUT,
            &format!("/api/v1/admin/org/advisors/{}/suspended", a.id) as &str,
            r#"{"suspended": 1}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/org/advisor-invites",
            r#"{"external": "yes"}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/org/advisor-invites",
            r#"{"org": "beta"}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/org/advisor-invites",
            "{",
            400,
            "invalid_json",
        ),
        (
            M::POST,
            "/api/v1/admin/org/advisor-invites",
            "[]",
            400,
            "invalid_request",
        ),
        (
            M::PUT,
            &format!("/api/v1/admin/org/advisors/{}/suspended", a.id) as &str,
            "[true]",
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/totp/confirm",
            r#"{"code": "123456"}"#,
            409,
            "no_totp_setup",
        ),
        (
            M::POST,
            "/api/v1/admin/totp/confirm",
            r#"{"code": 123456}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/passphrase",
            r#"{"old": "x"}"#,
            400,
            "invalid_request",
        ),
        (
            M::POST,
            "/api/v1/admin/passphrase",
            r#"{"old": "x", "new": "y", "z": 1}"#,
            400,
            "invalid_request",
        ),
    ] {
        refused(
            &mut n,
            &format!("{method} {path} {body}"),
            raw(&ha, method.clone(), path, body),
            status,
            code,
        );
    }
    // Login and invites (no session).
    let post = |path: &str, body: &str| {
        server
            .post(path)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap()
    };
    for (path, body, status, code) in [
        ("/api/v1/admin/login", "{", 400, "invalid_json"),
        (
            "/api/v1/admin/login",
            r#"["hr-alfa", "x"]"#,
            400,
            "invalid_request",
        ),
        (
            "/api/v1/admin/login",
            r#"{"username": "hr-alfa"}"#,
            400,
            "invalid_request",
        ),
        (
            "/api/v1/admin/login",
            r#"{"username": "hr-alfa", "passphrase": 1}"#,
            400,
            "invalid_request",
        ),
        (
            "/api/v1/admin/login",
            r#"{"username": "hr-alfa", "passphrase": "x", "otp": "1"}"#,
            400,
            "invalid_request",
        ),
        (
            "/api/v1/admin/accept-invite",
            r#"{"invite": "x"}"#,
            400,
            "invalid_request",
        ),
        (
            "/api/v1/admin/accept-invite",
            &format!(r#"{{"invite": "{invite}", "username": "HR", "passphrase": "{ALFA_PASS}"}}"#)
                as &str,
            400,
            "bad_username",
        ),
        (
            "/api/v1/admin/accept-invite",
            &format!(
                r#"{{"invite": "{invite}", "username": "{}", "passphrase": "{ALFA_PASS}"}}"#,
                "u".repeat(65)
            ) as &str,
            400,
            "bad_username",
        ),
        (
            "/api/v1/admin/accept-invite",
            &format!(
                r#"{{"invite": "{invite}", "username": "hr-alfa", "passphrase": "{ALFA_PASS} 2"}}"#
            ) as &str,
            409,
            "username_taken",
        ),
        (
            "/api/v1/admin/accept-invite",
            &format!(r#"{{"invite": "{invite}", "username": "hr-alfa-2", "passphrase": "weak"}}"#)
                as &str,
            400,
            "weak_passphrase",
        ),
        (
            "/api/v1/admin/accept-invite",
            &format!(
                r#"{{"invite": "AAAA-BBBB-CCCC-DDDD-EEEE", "username": "hr-alfa-2", "passphrase": "{ALFA_PASS}"}}"#
            ) as &str,
            403,
            "bad_invite",
        ),
        (
            "/api/v1/admin/accept-invite",
            &format!(
                r#"{{"invite": "{}", "username": "hr-alfa-2", "passphrase": "{ALFA_PASS}"}}"#,
                "A".repeat(200)
            ) as &str,
            400,
            "bad_invite",
        ),
    ] {
        refused(&mut n, body, post(path, body), status, code);
    }
    println!("{n} refusals");

    // Nothing changed, and no audit entry was written by any of it.
    assert_eq!(state(&server, &op, &ha), before);
    assert_eq!(op.get_ok("/api/v1/admin/audit"), audit_before);
    // The invite survived the refused attempts (username taken, weak passphrase).
    expect(accept(&server, &invite, "hr-alfa-2", ALFA_PASS), 201, None);
}

#[test]
fn markdown_is_rendered_safely_and_changes_are_audited() {
    let server = with_orgs(&[]);
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let intro_nl = "# Welkom\n\n<script>alert('nl')</script>\n\nMeld het **hier**. [Uitleg](https://example.org/uitleg)\n\n<img src=x onerror=alert(1)>";
    let intro_en = "[click](javascript:alert(1)) [also](JAVASCRIPT:alert(2)) <a href=\"javascript:alert(3)\" onclick=\"x()\">raw</a>\n\n![tracker](https://evil.example/pixel.png)";
    let conduct_nl = "<iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>\n\n- een\n- twee\n\n<div onmouseover=\"steal()\">hover</div>";
    let conduct_en = "<svg onload=alert(1)><circle/></svg>\n\n[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n<details open ontoggle=alert(1)>x</details>";
    let v = expect(
        ha.put(
            "/api/v1/admin/org",
            json!({
                "name": "Alfa BV",
                "intro": {"nl": intro_nl, "en": intro_en},
                "code_of_conduct": {"nl": conduct_nl, "en": conduct_en},
                "retention_days": 180,
                "languages": ["nl"],
                "categories": [{"id": "pesten", "nl": "Pesten", "en": "Bullying"}],
            }),
        ),
        200,
        None,
    );
    assert_eq!(v["name"], "Alfa BV");
    assert_eq!(v["intro"]["nl"], intro_nl);
    assert_eq!(v["retention_days"], 180);
    let page = server.org_page("alfa");
    assert_eq!(page["name"], "Alfa BV");
    assert_eq!(page["languages"], json!(["nl"]));
    let htmls: Vec<String> = ["intro_html", "code_of_conduct_html"]
        .iter()
        .flat_map(|k| ["nl", "en"].map(|l| page[k][l].as_str().unwrap().to_owned()))
        .collect();
    let event = regex_free_event_handler;
    for h in &htmls {
        let lower = h.to_lowercase();
        for bad in [
            "<script",
            "javascript:",
            "<img",
            "<iframe",
            "<style",
            "<svg",
            "<div",
            "<details",
            "data:",
            "src=",
        ] {
            assert!(!lower.contains(bad), "{bad} in {h}");
        }
        assert!(!event(&lower), "event handler in {h}");
    }
    assert!(htmls[0].contains("<h3>Welkom</h3>"), "headings fit under the page's own: {}", htmls[0]);
    assert!(htmls[0].contains("<strong>hier</strong>"));
    assert!(htmls[0].contains(
        "<a href=\"https://example.org/uitleg\" rel=\"noopener noreferrer nofollow\">Uitleg</a>"
    ));
    assert!(htmls[1].contains("tracker"), "alt text stays: {}", htmls[1]);
    assert!(htmls[2].contains("<li>een</li>"));

    // A logo: stored, served with its type and nosniff, then removed.
    let png = [b"\x89PNG\r\n\x1a\n".to_vec(), vec![1u8; 2000]].concat();
    expect(
        ha.put_raw("/api/v1/admin/org/logo", "image/png", png.clone()),
        204,
        None,
    );
    assert_eq!(server.org_page("alfa")["has_logo"], true);
    let r = server.get("/api/v1/orgs/alfa/logo").send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().unwrap().to_vec(), png);
    let jpeg = [vec![0xFF, 0xD8, 0xFF, 0xE0], vec![2u8; 500]].concat();
    expect(
        ha.put_raw(
            "/api/v1/admin/org/logo",
            "image/jpeg; charset=binary",
            jpeg.clone(),
        ),
        204,
        None,
    );
    let r = server.get("/api/v1/orgs/alfa/logo").send().unwrap();
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().unwrap().to_vec(), jpeg);
    expect(ha.delete("/api/v1/admin/org/logo"), 204, None);
    expect(
        server.get("/api/v1/orgs/alfa/logo").send().unwrap(),
        404,
        Some("not_found"),
    );
    assert_eq!(ha.get_ok("/api/v1/admin/org")["has_logo"], false);

    // Invites from both roles (one-time codes, never in the audit log).
    let i1 = expect(
        op.post_empty("/api/v1/admin/orgs/beta/admin-invites"),
        201,
        None,
    );
    let i2 = expect(
        op.post_empty("/api/v1/admin/branch/advisor-invites"),
        201,
        None,
    );
    let i3 = expect(
        ha.post_empty("/api/v1/admin/org/advisor-invites"),
        201,
        None,
    );
    // Only the operator invites an external advisor (issue 11): the org admin is refused.
    ha.expect_post(
        "/api/v1/admin/org/advisor-invites",
        json!({"external": true}),
        403,
        Some("operator_only"),
    );
    let i4 = op.expect_post(
        "/api/v1/admin/orgs/alfa/advisor-invites",
        json!({"external": true}),
        201,
        None,
    );
    let codes: Vec<String> = [&i1, &i2, &i3, &i4]
        .iter()
        .map(|v| {
            assert!(v["expires_at"].as_i64().unwrap() > now());
            v["invite"].as_str().unwrap().to_owned()
        })
        .collect();
    // The operator's advisor invite works with the advisor registration.
    let adv = Advisor::register(&server, &codes[3], "Eva Extern");
    let listed = ha.get_ok("/api/v1/admin/org/advisors");
    let eva = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == adv.id.as_str())
        .unwrap();
    assert_eq!(eva["external"], true);
    assert_eq!(eva["branch_wide"], false);
    assert_eq!(eva["appointed_by"], "branch");
    assert_eq!(eva["appointed_since"].as_str().unwrap().len(), 10);

    // The CLI acts through the same functions and audits as `cli`.
    server.admin(&[
        "org",
        "set",
        "--slug",
        "beta",
        "--retention-days",
        "90",
        "--intro-en",
        "Hello",
    ]);
    server.admin(&["org", "suspend", "--slug", "beta"]);
    assert!(
        server
            .admin(&["org", "list"])
            .contains("beta\tOrganisatie beta\tsuspended")
    );
    server.admin(&["org", "resume", "--slug", "beta"]);
    server.admin(&["advisor", "suspend", &adv.id]);
    assert!(
        server
            .admin(&["advisor", "list", "--org", "alfa"])
            .contains(&format!("{}\talfa\tEva Extern", adv.id))
    );
    server.admin(&["advisor", "resume", &adv.id]);
    server.admin(&["operator", "require-totp", "on"]);
    server.admin(&["operator", "require-totp", "off"]);
    let cli_audit = server.admin(&["audit", "--org", "beta"]);
    assert!(
        cli_audit.contains("\tcli\tbeta\torg.update\tretention_days: 365 → 90"),
        "{cli_audit}"
    );
    assert!(
        cli_audit.contains("\tcli\tbeta\torg.suspend\t"),
        "{cli_audit}"
    );
    assert!(
        cli_audit.contains("\tcli\tbeta\torg.resume\t"),
        "{cli_audit}"
    );
    assert!(!cli_audit.contains("\talfa\t"), "{cli_audit}");

    // The API's audit log: every change, by whom, with details, newest first.
    let audit = op.get_ok("/api/v1/admin/audit?limit=500");
    let list = audit.as_array().unwrap();
    let ats: Vec<i64> = list.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]));
    let has = |actor: &str, action: &str, detail: &str| {
        list.iter().any(|e| {
            e["actor"] == actor
                && e["action"] == action
                && e["detail"].as_str().unwrap().contains(detail)
        })
    };
    for (actor, action, detail) in [
        (
            "hr-alfa",
            "org.update",
            "name: \"Organisatie alfa\" → \"Alfa BV\"",
        ),
        ("hr-alfa", "org.update", "retention_days: 365 → 180"),
        ("hr-alfa", "org.update", "languages: nl,en → nl"),
        ("hr-alfa", "org.update", "intro.nl: changed"),
        ("hr-alfa", "org.update", "code_of_conduct.en: changed"),
        ("hr-alfa", "org.update", "categories: 5 → 1 (pesten)"),
        ("hr-alfa", "org.logo", "logo set (image/png, 2008 bytes)"),
        ("hr-alfa", "org.logo", "logo removed"),
        ("beheer", "advisor.invite", "external advisor (appointed by branch)"),
        ("hr-alfa", "advisor.invite", "invite for an advisor (appointed by organisation)"),
        ("beheer", "org_admin.invite", ""),
        ("beheer", "advisor.invite", "branch-wide"),
        ("cli", "advisor.suspend", "Eva Extern"),
        ("cli", "advisor.resume", "Eva Extern"),
        ("cli", "instance.require_totp", "required"),
        ("cli", "org.create", "alfa"),
        ("cli", "operator.create", "beheer"),
        ("hr-alfa", "org_admin.join", "hr-alfa"),
        ("hr-alfa", "login", ""),
    ] {
        assert!(
            has(actor, action, detail),
            "no {actor} {action} {detail}: {audit}"
        );
    }
    assert!(list.iter().all(|e| e.as_object().unwrap().len() == 5));
    let text = audit.to_string();
    for secret in codes.iter().map(String::as_str).chain([
        OPERATOR_PASS,
        ALFA_PASS,
        BETA_PASS,
        UA,
        "127.0.0.1",
    ]) {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }

    // The files hold no address, no user agent, no passphrase and no invite code.
    let mut server = server;
    let mut needles: Vec<&[u8]> = vec![
        OPERATOR_PASS.as_bytes(),
        ALFA_PASS.as_bytes(),
        BETA_PASS.as_bytes(),
    ];
    needles.extend(codes.iter().map(|c| c.as_bytes()));
    let normalised: Vec<String> = codes.iter().map(|c| c.replace('-', "")).collect();
    needles.extend(normalised.iter().map(|c| c.as_bytes()));
    server.assert_no_leaks(&needles);
}

/// Whether `html` has an attribute starting with `on` inside a tag.
fn regex_free_event_handler(html: &str) -> bool {
    let mut in_tag = false;
    let bytes = html.as_bytes();
    for (i, c) in bytes.iter().enumerate() {
        match c {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b' ' | b'\t' | b'\n' | b'/' if in_tag => {
                let rest = &html[i + 1..];
                if rest.starts_with("on")
                    && rest[2..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .count()
                        > 0
                {
                    let name_len = 2 + rest[2..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .count();
                    if rest[name_len..].trim_start().starts_with('=') {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// An admin route refuses a body naming a key twice (at the top or nested), like the typed
/// routes do, instead of silently taking the last value; nothing changes.
#[test]
fn duplicate_json_keys_are_refused() {
    let server = with_orgs(&[]);
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let before = state(&server, &op, &ha);
    let mut n = 0;
    use reqwest::Method as M;
    for (admin, method, path, body) in [
        (&ha, M::PUT, "/api/v1/admin/org", r#"{"name":"Alfa","name":"Phish"}"#),
        (
            &ha,
            M::PUT,
            "/api/v1/admin/org",
            r#"{"intro":{"nl":"a","nl":"b"}}"#,
        ),
        (&op, M::PUT, "/api/v1/admin/instance", r#"{"require_totp":false,"require_totp":true}"#),
        (&op, M::POST, "/api/v1/admin/orgs", r#"{"slug":"gamma","slug":"delta","name":"G"}"#),
        (
            &op,
            M::POST,
            "/api/v1/admin/orgs/alfa/advisor-invites",
            r#"{"external":false,"external":true}"#,
        ),
    ] {
        refused(&mut n, path, raw(admin, method, path, body), 400, "invalid_request");
    }
    let r = server
        .post("/api/v1/admin/login")
        .header("Content-Type", "application/json")
        .body(format!(
            r#"{{"username":"nobody","username":"beheer","passphrase":"{OPERATOR_PASS}"}}"#
        ))
        .send()
        .unwrap();
    refused(&mut n, "login", r, 400, "invalid_request");
    assert_eq!(n, 6);
    assert_eq!(before, state(&server, &op, &ha));
}

/// `GET /admin/org/link` of `admin` with extra request headers.
fn link_with(admin: &Admin<'_>, headers: &[(&str, &str)]) -> Response {
    let mut rb = admin.auth(admin.server.get("/api/v1/admin/org/link"));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().unwrap()
}

/// Without `public_url`, the reporting link's scheme and host come from the request itself:
/// `Forwarded` / `X-Forwarded-*` from a client that is not `trusted_proxy` are ignored, and a
/// scheme other than http(s) or a host that is not `host[:port]` is refused with 400.
#[test]
fn link_ignores_forwarded_headers_from_untrusted_clients() {
    let server = with_orgs(&[]);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let own = format!("http://127.0.0.1:{}/o/alfa", server.port);
    for headers in [
        vec![("X-Forwarded-Proto", "javascript"), ("X-Forwarded-Host", "phish.example")],
        vec![("Forwarded", "proto=javascript;host=phish.example")],
        vec![("Forwarded", "proto=https;host=phish.example"), ("X-Forwarded-Host", "x.example")],
    ] {
        let v = expect(link_with(&ha, &headers), 200, None);
        let url = v["url"].as_str().unwrap();
        assert!(url.starts_with(&own), "{headers:?}: {url}");
    }
    let mut n = 0;
    for host in ["phish.example/evil", "a b", "phish.example:0", "phish.example:99999", "-x.example"] {
        let r = link_with(&ha, &[("Host", host)]);
        refused(&mut n, host, r, 400, "bad_host");
    }
    assert_eq!(n, 5);
}

/// From `trusted_proxy` the forwarded scheme and host are believed, but only http(s) and a
/// plain `host[:port]`.
#[test]
fn link_believes_only_sane_headers_from_the_trusted_proxy() {
    let server = start_with(&[], "trusted_proxy = \"127.0.0.1\"\n[pow]\nenabled = false\n");
    server.create_org("alfa");
    let invite = cli_admin_invite(&server, "alfa");
    expect(accept(&server, &invite, "hr-alfa", ALFA_PASS), 201, None);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let v = expect(
        link_with(
            &ha,
            &[("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "meldpunt.example.nl:8443")],
        ),
        200,
        None,
    );
    assert!(
        v["url"].as_str().unwrap().starts_with("https://meldpunt.example.nl:8443/o/alfa"),
        "{v}"
    );
    let mut n = 0;
    for headers in [
        vec![("X-Forwarded-Proto", "javascript"), ("X-Forwarded-Host", "phish.example")],
        vec![("Forwarded", "proto=javascript;host=phish.example")],
        vec![("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "phish.example/x?")],
        vec![("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "a@phish.example")],
    ] {
        refused(&mut n, &format!("{headers:?}"), link_with(&ha, &headers), 400, "bad_host");
    }
    assert_eq!(n, 4);
}
