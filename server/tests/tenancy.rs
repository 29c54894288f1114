//! Tenancy: an advisor of organisation A cannot list, read or write anything of organisation
//! B; a branch-wide advisor appears under every organisation (marked external) and sees only
//! the cases addressed to them. Every attempt is a 403/404 that does not reveal existence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use serde_json::json;

#[test]
fn organisations_and_branch_advisors_are_separated() {
    let server = Server::start_with("[pow]\nenabled = false\n", DEFAULT_EXTRA);
    server.create_org("alfa");
    server.create_org("beta");
    let a = Advisor::register(&server, &server.invite(Some("alfa")), "Advisor Alfa");
    let b = Advisor::register(&server, &server.invite(Some("beta")), "Advisor Beta");
    let x = Advisor::register(&server, &server.invite(None), "Branche Extern");

    // Public pages: own advisors plus the branch-wide one, marked external.
    for (slug, own) in [("alfa", &a), ("beta", &b)] {
        let page = server.org_page(slug);
        let ids: Vec<&str> = ids_of(&page["advisors"]);
        assert_eq!(ids, vec![own.id.as_str(), x.id.as_str()]);
        let xa = &page["advisors"][1];
        assert_eq!(xa["external"], true);
        assert_eq!(xa["branch_wide"], true);
        assert_eq!(page["advisors"][0]["external"], false);
    }

    // Case A: alfa, to a. Case B: beta, to b and x. Case X: alfa, to x only.
    let ra = Reporter::new();
    ra.create_case_ok(&server, "alfa", std::slice::from_ref(&a.id), b"{\"story\":\"a\"}");
    let rb = Reporter::new();
    rb.create_case_ok(&server, "beta", &[b.id.clone(), x.id.clone()], b"{\"story\":\"b\"}");
    let rx = Reporter::new();
    rx.create_case_ok(&server, "alfa", std::slice::from_ref(&x.id), b"{\"story\":\"x\"}");
    // A reporter cannot address an advisor of another organisation.
    let rz = Reporter::new();
    expect(
        rz.create_case(&server, "alfa", std::slice::from_ref(&b.id), b"{}"),
        400,
        Some("bad_advisors"),
    );

    let case_a = a.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(a.inbox(&server).len(), 1);
    assert_eq!(b.inbox(&server).len(), 1);
    let case_b = b.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    let x_cases: Vec<String> = x
        .inbox(&server)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(x_cases.len(), 2);
    assert!(x_cases.contains(&case_b) && !x_cases.contains(&case_a));

    // Every route of case A as b and as x, and of case B as a: 404, same body as for a
    // case that does not exist at all.
    let nonexistent = b64(&[9u8; 16]);
    let env = seal(
        Purpose::Message,
        "alfa",
        &recipients(
            server.org_page("alfa")["advisors"].as_array().unwrap(),
            None,
        ),
        b"x",
    );
    for (who, case) in [
        (&b, &case_a),
        (&x, &case_a),
        (&a, &case_b),
        (&a, &nonexistent),
    ] {
        let p = format!("/api/v1/advisor/cases/{case}");
        let tries = [
            who.auth(server.get(&p)).send().unwrap(),
            who.auth(server.post(&format!("{p}/messages")))
                .json(&json!({"envelope": b64(&env)}))
                .send()
                .unwrap(),
            who.auth(server.put(&format!("{p}/status")))
                .json(&json!({"status": "closed"}))
                .send()
                .unwrap(),
            who.auth(server.post(&format!("{p}/share")))
                .json(&json!({"advisor": who.id, "stanzas": [], "envelope": b64(&env)}))
                .send()
                .unwrap(),
            who.auth(server.post(&format!("{p}/remove")))
                .json(&json!({"advisor": who.id, "envelope": b64(&env)}))
                .send()
                .unwrap(),
            who.auth(server.get(&format!("{p}/attachments/{}", b64(&[1u8; 16]))))
                .send()
                .unwrap(),
            who.auth(server.put(&format!("{p}/attachments/{}", b64(&[1u8; 16]))))
                .header("Content-Type", "application/octet-stream")
                .body(vec![0u8; 100])
                .send()
                .unwrap(),
        ];
        for r in tries {
            let v = expect(r, 404, Some("not_found"));
            assert_eq!(v["message"], "not found");
        }
    }

    // a cannot pull b (another organisation) into case A; the branch advisor may be added.
    let r = a
        .auth(server.post(&format!("/api/v1/advisor/cases/{case_a}/share")))
        .json(&json!({"advisor": b.id, "stanzas": [], "envelope": b64(&env)}))
        .send()
        .unwrap();
    expect(r, 400, Some("bad_advisor"));
    assert_eq!(a.case(&server, &case_a)["status"], "new");
    assert_eq!(b.inbox(&server).len(), 1);

    // Reporters only see their own case.
    assert_eq!(ra.case(&server)["org"], "alfa");
    assert_eq!(rb.case(&server)["org"], "beta");
    assert_eq!(ra.case(&server)["messages"].as_array().unwrap().len(), 1);

    // The organisation-less admin view does not exist over HTTP; unknown orgs are 404.
    expect(
        server.get("/api/v1/orgs/gamma").send().unwrap(),
        404,
        Some("not_found"),
    );
}
