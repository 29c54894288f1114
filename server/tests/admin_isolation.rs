//! Administrators are separated by role and organisation, and see configuration only:
//! - the admin of A can never read or change B, through any route, with B's slugs or ids;
//! - operator-only routes refuse org admins and org-admin routes refuse the operator;
//! - no admin GET route answers differently after reports were made (to an organisation's own
//!   advisor and to the branch-wide one), statuses changed and replies written;
//! - suspension (organisation, advisor) and advisor order act on the public side, and renaming
//!   an organisation leaves its cases readable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use meldpunt_tests::admin::*;
use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use serde_json::{Value, json};

/// Every admin GET route.
const GETS: &[&str] = &[
    "/api/v1/admin/me",
    "/api/v1/admin/audit",
    "/api/v1/admin/orgs",
    "/api/v1/admin/branch/advisors",
    "/api/v1/admin/instance",
    "/api/v1/admin/org",
    "/api/v1/admin/org/advisors",
    "/api/v1/admin/org/link",
];

/// Status and body of every admin GET route, minus the session's own expiry time.
fn snapshot(admin: &Admin<'_>) -> Vec<(String, u16, Value)> {
    GETS.iter()
        .map(|p| {
            let r = admin.get(p);
            let status = r.status().as_u16();
            let mut v: Value = r.json().unwrap();
            if p.ends_with("/me") {
                v.as_object_mut().unwrap().remove("expires_at");
            }
            ((*p).to_owned(), status, v)
        })
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn admins_see_configuration_only_and_only_their_own() {
    let server = with_orgs(&[]);
    let mut a = Advisor::register(&server, &server.invite(Some("alfa")), "Anna Alfa");
    let b = Advisor::register(&server, &server.invite(Some("beta")), "Bram Beta");
    let mut x = Advisor::register(&server, &server.invite(None), "Xander Branche");
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let hb = Admin::login(&server, "hr-beta", BETA_PASS);

    // --- what each sees
    let orgs = op.get_ok("/api/v1/admin/orgs");
    assert_eq!(
        orgs,
        json!([
            {"slug": "alfa", "name": "Organisatie alfa", "suspended": false, "has_logo": false},
            {"slug": "beta", "name": "Organisatie beta", "suspended": false, "has_logo": false},
        ])
    );
    assert_eq!(
        ids(&op.get_ok("/api/v1/admin/branch/advisors")),
        vec![x.id.clone()]
    );
    let own = ha.get_ok("/api/v1/admin/org/advisors");
    assert_eq!(ids(&own), vec![a.id.clone(), x.id.clone()]);
    assert_eq!(own[0]["branch_wide"], false);
    assert_eq!(own[1]["branch_wide"], true);
    assert_eq!(own[0]["offered"], true);
    let fp = own[0]["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 39);
    assert_eq!(fp.split(' ').count(), 8);
    let key = &own[0]["keys"][0];
    assert_eq!(key["current"], true);
    assert!(key["revoked_at"].is_null());
    assert_eq!(key["key_id"].as_str().unwrap().len(), 32);
    assert_eq!(
        ids(&hb.get_ok("/api/v1/admin/org/advisors")),
        vec![b.id.clone(), x.id.clone()]
    );
    assert_eq!(ha.get_ok("/api/v1/admin/org")["slug"], "alfa");
    assert_eq!(hb.get_ok("/api/v1/admin/org")["slug"], "beta");
    let link = ha.get_ok("/api/v1/admin/org/link");
    assert_eq!(link["path"], "/o/alfa");
    let pins: Vec<String> = own
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap().replace(' ', ""))
        .collect();
    assert_eq!(link["fragment"], format!("pin={}", pins.join(",")));
    assert_eq!(
        link["url"],
        format!(
            "http://127.0.0.1:{}/o/alfa#pin={}",
            server.port,
            pins.join(",")
        )
    );
    assert!(link["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(link["advisors"].as_array().unwrap().len(), 2);
    // The org admin's audit holds only alfa's entries; the operator's holds everything.
    let audit_a = ha.get_ok("/api/v1/admin/audit");
    assert!(!audit_a.as_array().unwrap().is_empty());
    assert!(
        audit_a
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["org"] == "alfa"),
        "{audit_a}"
    );
    let audit_op = op.get_ok("/api/v1/admin/audit");
    let orgs_in: Vec<&Value> = audit_op
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["org"])
        .collect();
    assert!(orgs_in.contains(&&json!("alfa")) && orgs_in.contains(&&json!("beta")));
    assert!(orgs_in.contains(&&Value::Null));

    // --- roles: operator-only routes refuse org admins, org-admin routes refuse the operator
    let suspend = json!({"suspended": true});
    for who in [&ha, &hb] {
        let tries = [
            who.get("/api/v1/admin/orgs"),
            who.post(
                "/api/v1/admin/orgs",
                json!({"slug": "gamma", "name": "Gamma"}),
            ),
            who.put("/api/v1/admin/orgs/beta/suspended", suspend.clone()),
            who.put("/api/v1/admin/orgs/alfa/suspended", suspend.clone()),
            who.post_empty("/api/v1/admin/orgs/beta/admin-invites"),
            who.post_empty("/api/v1/admin/orgs/alfa/admin-invites"),
            who.post_empty("/api/v1/admin/branch/advisor-invites"),
            who.get("/api/v1/admin/branch/advisors"),
            who.put(
                &format!("/api/v1/admin/branch/advisors/{}/suspended", x.id),
                suspend.clone(),
            ),
            who.get("/api/v1/admin/instance"),
            who.put("/api/v1/admin/instance", json!({"require_totp": true})),
        ];
        for r in tries {
            expect(r, 403, Some("forbidden"));
        }
    }
    let png = b"\x89PNG\r\n\x1a\nrest-of-png".to_vec();
    let tries = [
        op.get("/api/v1/admin/org"),
        op.put("/api/v1/admin/org", json!({"name": "Overgenomen"})),
        op.put_raw("/api/v1/admin/org/logo", "image/png", png.clone()),
        op.delete("/api/v1/admin/org/logo"),
        op.get("/api/v1/admin/org/advisors"),
        op.post_empty("/api/v1/admin/org/advisor-invites"),
        op.put(
            &format!("/api/v1/admin/org/advisors/{}/suspended", a.id),
            suspend.clone(),
        ),
        op.get("/api/v1/admin/org/link"),
    ];
    for r in tries {
        expect(r, 403, Some("forbidden"));
    }
    // The operator suspends branch-wide advisors here, not organisations' own.
    expect(
        op.put(
            &format!("/api/v1/admin/branch/advisors/{}/suspended", a.id),
            suspend.clone(),
        ),
        404,
        Some("not_found"),
    );

    // --- the admin of alfa against beta, with beta's slug and ids everywhere
    let beta_before = hb.get_ok("/api/v1/admin/org");
    let beta_page_before = server.org_page("beta");
    expect(
        ha.put(
            &format!("/api/v1/admin/org/advisors/{}/suspended", b.id),
            suspend.clone(),
        ),
        404,
        Some("not_found"),
    );
    expect(
        ha.put(
            &format!("/api/v1/admin/org/advisors/{}/suspended", x.id),
            suspend.clone(),
        ),
        403,
        Some("forbidden"),
    );
    expect(
        ha.put("/api/v1/admin/org", json!({"advisor_order": [b.id]})),
        400,
        Some("bad_advisor_order"),
    );
    expect(
        ha.put("/api/v1/admin/org", json!({"slug": "beta"})),
        409,
        Some("slug_taken"),
    );
    expect(
        ha.put("/api/v1/admin/org", json!({"org": "beta", "name": "x"})),
        400,
        Some("invalid_request"),
    );
    expect(
        ha.get("/api/v1/admin/audit?org=beta"),
        403,
        Some("forbidden"),
    );
    expect(
        ha.get("/api/v1/admin/audit?org=gamma"),
        403,
        Some("forbidden"),
    );
    expect(ha.get("/api/v1/admin/audit?org=alfa"), 200, None);
    // Routes with a slug or id in the path that exist for the operator only, or not at all.
    for path in [
        "/api/v1/admin/org/beta",
        "/api/v1/admin/orgs/beta",
        "/api/v1/admin/org/beta/advisors",
    ] {
        let r = ha.get(path);
        assert!(matches!(r.status().as_u16(), 404 | 405), "{path}");
    }
    assert_eq!(hb.get_ok("/api/v1/admin/org"), beta_before);
    assert_eq!(server.org_page("beta"), beta_page_before);

    // --- no session: 401 everywhere
    for p in GETS {
        expect(server.get(p).send().unwrap(), 401, Some("bad_session"));
    }
    expect(
        server
            .put("/api/v1/admin/org")
            .json(&json!({"name": "x"}))
            .send()
            .unwrap(),
        401,
        Some("bad_session"),
    );

    // --- nothing an admin sees depends on reports
    let admins = [&op, &ha, &hb];
    let before: Vec<_> = admins.iter().map(|a| snapshot(a)).collect();
    // Reports: to alfa's own advisor, to the branch-wide advisor from alfa, to both from beta.
    let r1 = Reporter::new();
    r1.create_case_ok(&server, "alfa", std::slice::from_ref(&a.id), b"{\"a\":1}");
    let r2 = Reporter::new();
    r2.create_case_ok(&server, "alfa", std::slice::from_ref(&x.id), b"{\"x\":1}");
    let r3 = Reporter::new();
    r3.create_case_ok(&server, "beta", &[b.id.clone(), x.id.clone()], b"{\"b\":1}");
    // Statuses, a reply and a follow-up.
    let case_x = x.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    expect(
        x.auth(server.put(&format!("/api/v1/advisor/cases/{case_x}/status")))
            .json(&json!({"status": "acknowledged"}))
            .send()
            .unwrap(),
        200,
        None,
    );
    let view = x.case(&server, &case_x);
    let to = recipients(view["advisors"].as_array().unwrap(), None);
    let env = seal(
        Purpose::Message,
        view["org"].as_str().unwrap(),
        &to,
        b"reply",
    );
    expect(
        x.auth(server.post(&format!("/api/v1/advisor/cases/{case_x}/messages")))
            .json(&json!({"envelope": b64(&env)}))
            .send()
            .unwrap(),
        201,
        None,
    );
    let case_a = a.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    expect(
        a.auth(server.put(&format!("/api/v1/advisor/cases/{case_a}/status")))
            .json(&json!({"status": "closed"}))
            .send()
            .unwrap(),
        200,
        None,
    );
    let after: Vec<_> = admins.iter().map(|a| snapshot(a)).collect();
    for (who, (b, a)) in ["operator", "hr-alfa", "hr-beta"]
        .iter()
        .zip(before.iter().zip(&after))
    {
        for (rb, ra) in b.iter().zip(a) {
            assert_eq!(rb, ra, "{who}: {} changed after reports were made", rb.0);
        }
    }

    // --- suspension and order act on the public side
    // alfa's admin orders the branch-wide advisor first.
    let v = expect(
        ha.put("/api/v1/admin/org", json!({"advisor_order": [x.id, a.id]})),
        200,
        None,
    );
    assert_eq!(v["advisor_order"], json!([x.id, a.id]));
    assert_eq!(
        ids(&server.org_page("alfa")["advisors"]),
        vec![x.id.clone(), a.id.clone()]
    );
    assert_eq!(
        ids(&server.org_page("beta")["advisors"]),
        vec![b.id.clone(), x.id.clone()]
    );
    let link = ha.get_ok("/api/v1/admin/org/link");
    assert_eq!(link["advisors"][0]["display_name"], "Xander Branche");
    // alfa's admin suspends their own advisor: gone from the page, cannot be chosen or log in.
    expect(
        ha.put(
            &format!("/api/v1/admin/org/advisors/{}/suspended", a.id),
            suspend.clone(),
        ),
        204,
        None,
    );
    assert_eq!(
        ids(&server.org_page("alfa")["advisors"]),
        vec![x.id.clone()]
    );
    let st = ha.get_ok("/api/v1/admin/org/advisors");
    assert_eq!(st[1]["id"], a.id.as_str());
    assert_eq!(st[1]["suspended"], true);
    assert_eq!(st[1]["offered"], false);
    expect(
        a.auth(server.get("/api/v1/advisor/cases")).send().unwrap(),
        401,
        Some("bad_session"),
    );
    expect(
        a.login_response(&server),
        403,
        Some("advisor_suspended"),
    );
    let r4 = Reporter::new();
    r4.create_case_ok(&server, "alfa", std::slice::from_ref(&x.id), b"{}");
    // (create_case seals to the advisors the page lists; ask for a by id directly.)
    let env = seal(
        Purpose::Report,
        "alfa",
        &recipients(
            server.org_page("alfa")["advisors"].as_array().unwrap(),
            None,
        ),
        b"x",
    );
    expect(
        server
            .post("/api/v1/cases")
            .json(&json!({"org": "alfa", "advisors": [a.id], "token_hash": b64(&[7u8; 32]), "envelope": b64(&env)}))
            .send()
            .unwrap(),
        400,
        Some("bad_advisors"),
    );
    // Resumed: back, and can log in again.
    expect(
        ha.put(
            &format!("/api/v1/admin/org/advisors/{}/suspended", a.id),
            json!({"suspended": false}),
        ),
        204,
        None,
    );
    a.login(&server);
    assert_eq!(a.inbox(&server).len(), 1);
    assert_eq!(
        ids(&server.org_page("alfa")["advisors"]),
        vec![x.id.clone(), a.id.clone()]
    );

    // The operator suspends the branch-wide advisor: gone from every page.
    expect(
        op.put(
            &format!("/api/v1/admin/branch/advisors/{}/suspended", x.id),
            suspend.clone(),
        ),
        204,
        None,
    );
    assert_eq!(
        ids(&server.org_page("alfa")["advisors"]),
        vec![a.id.clone()]
    );
    assert_eq!(
        ids(&server.org_page("beta")["advisors"]),
        vec![b.id.clone()]
    );
    assert_eq!(
        op.get_ok("/api/v1/admin/branch/advisors")[0]["suspended"],
        true
    );
    expect(
        op.put(
            &format!("/api/v1/admin/branch/advisors/{}/suspended", x.id),
            json!({"suspended": false}),
        ),
        204,
        None,
    );
    x.login(&server);

    // The operator suspends beta: page and new reports refused; existing cases stay readable.
    expect(
        op.put("/api/v1/admin/orgs/beta/suspended", suspend.clone()),
        204,
        None,
    );
    expect(
        server.get("/api/v1/orgs/beta").send().unwrap(),
        410,
        Some("org_suspended"),
    );
    let env = seal(
        Purpose::Report,
        "beta",
        &recipients(beta_page_before["advisors"].as_array().unwrap(), None),
        b"x",
    );
    expect(
        server
            .post("/api/v1/cases")
            .json(&json!({"org": "beta", "advisors": [b.id], "token_hash": b64(&[8u8; 32]), "envelope": b64(&env)}))
            .send()
            .unwrap(),
        410,
        Some("org_suspended"),
    );
    assert_eq!(r3.case(&server)["org"], "beta");
    assert_eq!(b.inbox(&server).len(), 1);
    assert_eq!(op.get_ok("/api/v1/admin/orgs")[1]["suspended"], true);
    assert_eq!(hb.get_ok("/api/v1/admin/org")["suspended"], true);
    expect(
        op.put(
            "/api/v1/admin/orgs/beta/suspended",
            json!({"suspended": false}),
        ),
        204,
        None,
    );
    server.org_page("beta");
    expect(
        op.put("/api/v1/admin/orgs/gamma/suspended", suspend),
        404,
        Some("not_found"),
    );

    // Every change above is in the audit log under the right actor.
    let audit = op.get_ok("/api/v1/admin/audit");
    for (actor, org, action, detail) in [
        ("hr-alfa", json!("alfa"), "advisor.suspend", "Anna Alfa"),
        ("hr-alfa", json!("alfa"), "advisor.resume", "Anna Alfa"),
        ("beheer", Value::Null, "advisor.suspend", "Xander Branche"),
        ("beheer", json!("beta"), "org.suspend", "beta"),
        ("beheer", json!("beta"), "org.resume", "beta"),
        (
            "hr-alfa",
            json!("alfa"),
            "org.update",
            "advisor_order: 2 advisors",
        ),
    ] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["actor"] == actor
                && e["org"] == org
                && e["action"] == action
                && e["detail"].as_str().unwrap().contains(detail)),
            "{actor} {org} {action} {detail} not in {audit}"
        );
    }
    let audit_b = hb.get_ok("/api/v1/admin/audit").to_string();
    assert!(
        !audit_b.contains("hr-alfa") && !audit_b.contains("\"org\":\"alfa\""),
        "{audit_b}"
    );
}

#[test]
fn renaming_keeps_cases_readable_and_old_links_working() {
    let server = with_orgs(&[]);
    let a = Advisor::register(&server, &server.invite(Some("alfa")), "Anna Alfa");
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let r1 = Reporter::new();
    r1.create_case_ok(&server, "alfa", std::slice::from_ref(&a.id), b"{\"v\":1}");

    let v = expect(
        ha.put("/api/v1/admin/org", json!({"slug": "alfa-bv"})),
        200,
        None,
    );
    assert_eq!(v["slug"], "alfa-bv");
    assert_eq!(ha.get_ok("/api/v1/admin/org/link")["path"], "/o/alfa-bv");
    // The old slug still finds the page (current slug in it); another org cannot take it.
    assert_eq!(server.org_page("alfa")["slug"], "alfa-bv");
    expect(
        Admin::login(&server, "beheer", OPERATOR_PASS).post(
            "/api/v1/admin/orgs",
            json!({"slug": "alfa", "name": "Imposter"}),
        ),
        409,
        Some("slug_taken"),
    );
    // The existing case keeps the slug its envelopes were sealed for: both sides open it.
    let view = r1.case(&server);
    assert_eq!(view["org"], "alfa");
    let case_id = a.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    let av = a.case(&server, &case_id);
    assert_eq!(av["org"], "alfa");
    assert_eq!(a.open_messages(&av).len(), 1);
    // A follow-up sealed for that slug is accepted.
    let to = recipients(view["advisors"].as_array().unwrap(), None);
    let env = seal(Purpose::Message, "alfa", &to, b"follow-up");
    expect(
        r1.auth(server.post("/api/v1/case/messages"))
            .json(&json!({"envelope": b64(&env)}))
            .send()
            .unwrap(),
        201,
        None,
    );
    // New reports use the new slug.
    let r2 = Reporter::new();
    r2.create_case_ok(&server, "alfa-bv", std::slice::from_ref(&a.id), b"{\"v\":2}");
    assert_eq!(r2.case(&server)["org"], "alfa-bv");
    // Taking the old slug back works.
    expect(
        ha.put("/api/v1/admin/org", json!({"slug": "alfa"})),
        200,
        None,
    );
    assert_eq!(server.org_page("alfa-bv")["slug"], "alfa");
    assert_eq!(r2.case(&server)["org"], "alfa-bv");
}
