//! Case membership and who appoints advisors (issue 11), against the real server process and a
//! real SQLite file:
//! - a share carries the signed add statement, which the server appends as an advisor message
//!   in the same transaction; stored stanzas are only ever added (a re-share never replaces a
//!   colleague's stanzas, an identical one is not stored twice);
//! - remove: `not_on_case`, `last_advisor`, leaving, and the removed advisor sees what any
//!   advisor not on the case sees;
//! - an org admin invites internal advisors only (`operator_only`), the operator may invite
//!   external ones; `appointed_by` / `appointed_since` on the public page, the case views and
//!   the admin listing;
//! - advisor events (joined, suspended, unsuspended, reordered) reach the other advisors of the
//!   organisation and the branch-wide ones, never the subject, at day granularity;
//! - malformed bodies of the new routes are 4xx with a JSON error, never 5xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use meldpunt_tests::admin::*;
use meldpunt_tests::*;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::message::Message;
use meldpunt_crypto::recipient::RecipientKey;
use meldpunt_crypto::rng::os_rng;
use serde_json::{Value, json};

/// `YYYY-MM-DD`.
fn is_day(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The one current recipient key of an advisor as the organisation page lists it.
fn key_of(server: &Server, org: &str, id: &str) -> RecipientKey {
    recipients(&[listed(server, org, id)], None)[0]
}

fn identity_of(server: &Server, org: &str, id: &str) -> String {
    listed(server, org, id)["identity"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One re-wrapped stanza per message of `view` for `to`, made by `from`.
fn stanzas_for(from: &Advisor, view: &Value, to: &RecipientKey) -> Vec<Value> {
    let keys = from.keyring.decryption_keys();
    map_messages(view, |m, env, refs| {
        let st = envelope::rewrap(env, &keys, refs, to, &mut os_rng()).unwrap();
        json!({"message": m["seq"], "stanza": b64(&st)})
    })
}

/// A membership statement (`op` 1 add, 2 remove) by `from` about the advisor `about` of
/// `alfa`, after the newest message of `view`, sealed to the members of `view`, `extra` and
/// the reporter's `reply` key.
fn member_statement(
    server: &Server,
    from: &Advisor,
    view: &Value,
    op: u8,
    about: &str,
    extra: &[RecipientKey],
    reply: RecipientKey,
) -> Vec<u8> {
    let mut to = recipients(view["advisors"].as_array().unwrap(), None);
    to.extend_from_slice(extra);
    to.push(reply);
    statement(from, view, "alfa", op, &identity_of(server, "alfa", about), &to)
}

/// `POST /api/v1/advisor/cases/{case}/{action}` (`share` or `remove`) as `from`.
fn membership_post(
    server: &Server,
    from: &Advisor,
    case: &str,
    action: &str,
    body: &Value,
) -> reqwest::blocking::Response {
    from.auth(server.post(&format!("/api/v1/advisor/cases/{case}/{action}")))
        .json(body)
        .send()
        .unwrap()
}

fn share(server: &Server, from: &Advisor, case: &str, body: &Value) -> reqwest::blocking::Response {
    membership_post(server, from, case, "share", body)
}

fn remove(
    server: &Server,
    from: &Advisor,
    case: &str,
    body: &Value,
) -> reqwest::blocking::Response {
    membership_post(server, from, case, "remove", body)
}

/// `GET /api/v1/advisor/cases/{case}` as `who` must answer 404 `not_found`; its body.
fn case_not_found(server: &Server, who: &Advisor, case: &str) -> Value {
    expect(
        who.auth(server.get(&format!("/api/v1/advisor/cases/{case}")))
            .send()
            .unwrap(),
        404,
        Some("not_found"),
    )
}

/// The reporter's follow-up `message`, sealed to the members `rv` (the reporter's view) lists and
/// to the reporter's own reply key; must answer 201.
fn follow_up(server: &Server, reporter: &Reporter, rv: &Value, message: &[u8]) -> Value {
    let mut to = recipients(rv["advisors"].as_array().unwrap(), None);
    to.push(reporter.keys.reply_key().recipient());
    let env = seal(Purpose::Message, "alfa", &to, message);
    let r = reporter
        .auth(server.post("/api/v1/case/messages"))
        .json(&json!({"envelope": b64(&env)}))
        .send()
        .unwrap();
    expect(r, 201, None)
}

/// `from` shares `case` with `to` (stanzas and the signed statement); must answer 200.
fn share_ok(
    server: &Server,
    from: &Advisor,
    case: &str,
    to: &str,
    stanzas: &[Value],
    statement: &[u8],
) -> Value {
    let body = json!({"advisor": to, "stanzas": stanzas, "envelope": b64(statement)});
    expect(share(server, from, case, &body), 200, None)
}

/// `from` removes `who` from `case` with the signed statement; must answer 200.
fn remove_ok(server: &Server, from: &Advisor, case: &str, who: &str, statement: &[u8]) -> Value {
    let body = json!({"advisor": who, "envelope": b64(statement)});
    expect(remove(server, from, case, &body), 200, None)
}

fn events(server: &Server, a: &Advisor) -> Vec<Value> {
    let v = a.get_ok(server, "/api/v1/advisor/events");
    v["events"].as_array().unwrap().clone()
}

fn has_event(list: &[Value], kind: &str, advisor: Option<&str>) -> bool {
    list.iter().any(|e| {
        e["kind"] == kind
            && match advisor {
                Some(id) => e["advisor"] == id,
                None => e["advisor"].is_null(),
            }
    })
}

/// The messages' stanzas of `view` (message `seq` → stanzas).
fn stanzas_of(view: &Value, seq: usize) -> Vec<String> {
    view["messages"][seq]["stanzas"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn share_appends_statement_and_only_adds_stanzas_remove_and_leave() {
    let server = start(&[]);
    server.create_org("alfa");
    server.create_org("beta");
    let mut a1 = Advisor::register(&server, &server.invite(Some("alfa")), "Anna");
    let mut a2 = Advisor::register(&server, &server.invite(Some("alfa")), "Bram");
    let mut a3 = Advisor::register(&server, &server.invite(Some("alfa")), "Chris");
    let outsider = Advisor::register(&server, &server.invite(Some("alfa")), "Dana");
    let reporter = Reporter::new();
    let created = reporter.create_case_ok(
        &server,
        "alfa",
        std::slice::from_ref(&a1.id),
        b"{\"story\":\"x\"}",
    );
    // The answer to a new case: status and day, no id.
    assert_eq!(created["status"], "new");
    assert!(is_day(&created["created"]));
    assert!(created.get("id").is_none());
    a1.login(&server);
    let case = a1.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    let k2 = key_of(&server, "alfa", &a2.id);
    let k3 = key_of(&server, "alfa", &a3.id);
    let reply_key = reporter.keys.reply_key().recipient();

    // --- bad shares: 4xx with a JSON error, nothing written
    let view = a1.case(&server, &case);
    let st = stanzas_for(&a1, &view, &k2);
    let mut to = recipients(view["advisors"].as_array().unwrap(), None);
    to.push(k2);
    to.push(reply_key);
    let added2 = statement(
        &a1,
        &view,
        "alfa",
        1,
        &identity_of(&server, "alfa", &a2.id),
        &to,
    );
    expect(
        share(
            &server,
            &a1,
            &case,
            &json!({"advisor": a2.id, "stanzas": st}),
        ),
        400,
        Some("invalid_request"),
    );
    let beta_env = seal(Purpose::Message, "beta", &to, b"x");
    let report_env = seal(Purpose::Report, "alfa", &to, b"x");
    for (body, status, code) in [
        (
            json!({"advisor": a2.id, "stanzas": st, "envelope": b64(&beta_env)}),
            400,
            "bad_envelope",
        ),
        (
            json!({"advisor": a2.id, "stanzas": st, "envelope": b64(&report_env)}),
            400,
            "bad_envelope",
        ),
        (
            json!({"advisor": a2.id, "stanzas": st, "envelope": "***"}),
            400,
            "bad_base64",
        ),
        (
            json!({"advisor": a2.id, "stanzas": st, "envelope": ""}),
            400,
            "bad_envelope",
        ),
        (
            json!({"advisor": a2.id, "stanzas": st, "envelope": 7}),
            400,
            "invalid_request",
        ),
        (
            json!({"advisor": a2.id, "stanzas": st, "envelope": b64(&added2), "x": 1}),
            400,
            "invalid_request",
        ),
        (
            json!({"advisor": "n*pe", "stanzas": st, "envelope": b64(&added2)}),
            400,
            "bad_base64",
        ),
        (
            json!({"advisor": b64(&[1u8; 16]), "stanzas": st, "envelope": b64(&added2)}),
            400,
            "bad_advisor",
        ),
        (
            json!({"advisor": a2.id, "stanzas": [], "envelope": b64(&added2)}),
            409,
            "conflict",
        ),
        (json!([1, 2, 3]), 400, "invalid_request"),
        (
            json!({"advisor": a2.id, "stanzas": {}, "envelope": b64(&added2)}),
            400,
            "invalid_request",
        ),
    ] {
        let r = share(&server, &a1, &case, &body);
        assert!(r.status().as_u16() < 500);
        expect(r, status, Some(code));
    }
    let r = a1
        .auth(server.post(&format!("/api/v1/advisor/cases/{case}/share")))
        .header("Content-Type", "application/json")
        .body("{\"advisor\": ")
        .send()
        .unwrap();
    expect(r, 400, Some("invalid_json"));
    let r = share(
        &server,
        &a1,
        &case,
        &json!({"advisor": a2.id, "stanzas": st, "envelope": "A".repeat(4 << 20)}),
    );
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(
        a1.case(&server, &case)["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(a2.inbox(&server).is_empty());

    // --- a1 shares with a2: the statement is appended with the seq answered.
    let v = share_ok(&server, &a1, &case, &a2.id, &st, &added2);
    assert_eq!(v, json!({"seq": 1}));
    let view = a1.case(&server, &case);
    let msgs = view["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["seq"], 1);
    assert_eq!(msgs[1]["sender"], "advisor");
    assert_eq!(unb64(msgs[1]["envelope"].as_str().unwrap()), added2);
    let on: Vec<&str> = ids_of(&view["advisors"]);
    assert!(on.contains(&a1.id.as_str()) && on.contains(&a2.id.as_str()));
    for a in view["advisors"].as_array().unwrap() {
        assert_eq!(
            a["appointed_by"], "branch",
            "CLI invites are the operator's"
        );
        assert!(is_day(&a["appointed_since"]));
    }
    a2.login(&server);
    let v2 = a2.case(&server, &case);
    let plain = a2.open_messages(&v2);
    assert_eq!(plain.len(), 2);
    let first_stanzas_a2 = stanzas_of(&v2, 0);
    assert_eq!(first_stanzas_a2.len(), 1);

    // --- a2 shares with a3 (stanzas for the report and the statement).
    let st3 = stanzas_for(&a2, &v2, &k3);
    let added3 = member_statement(&server, &a2, &v2, 1, &a3.id, &[k3], reply_key);
    let v = share_ok(&server, &a2, &case, &a3.id, &st3, &added3);
    assert_eq!(v["seq"], 2);
    // The first shared-in advisor still has its detached stanzas and reads everything.
    let v2 = a2.case(&server, &case);
    assert_eq!(stanzas_of(&v2, 0), first_stanzas_a2);
    assert_eq!(a2.open_messages(&v2).len(), 3);
    a3.login(&server);
    let v3 = a3.case(&server, &case);
    assert_eq!(a3.open_messages(&v3).len(), 3);

    // --- a3 shares with a2 again (already on the case): stanzas are added, never replaced.
    let again = stanzas_for(&a3, &v3, &k2);
    let readd = member_statement(&server, &a3, &v3, 1, &a2.id, &[], reply_key);
    let v = share_ok(&server, &a3, &case, &a2.id, &again, &readd);
    assert_eq!(v["seq"], 3);
    let v2 = a2.case(&server, &case);
    let now0 = stanzas_of(&v2, 0);
    assert_eq!(
        now0.len(),
        2,
        "the new stanza is added beside the first one"
    );
    assert!(
        now0.contains(&first_stanzas_a2[0]),
        "the first stanza stays"
    );
    assert_eq!(a2.open_messages(&v2).len(), 4);
    // An identical stanza is not stored twice.
    let mut same = again.clone();
    let v3 = a3.case(&server, &case);
    same.push(stanzas_for(&a3, &v3, &k2)[3].clone());
    let readd2 = member_statement(&server, &a3, &v3, 1, &a2.id, &[], reply_key);
    share_ok(&server, &a3, &case, &a2.id, &same, &readd2);
    let v2 = a2.case(&server, &case);
    assert_eq!(stanzas_of(&v2, 0).len(), 2);
    assert_eq!(v2["messages"].as_array().unwrap().len(), 5);

    // --- the reporter's view: no id, no deadlines, no stanzas; appointed_* on the advisors.
    let rv = reporter.case(&server);
    assert!(rv.get("id").is_none());
    assert!(rv.get("deadlines").is_none());
    assert_eq!(rv["messages"].as_array().unwrap().len(), 5);
    assert!(
        rv["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.get("stanzas").is_none())
    );
    for a in rv["advisors"].as_array().unwrap() {
        assert!(a["appointed_by"] == "branch" || a["appointed_by"] == "organisation");
        assert!(is_day(&a["appointed_since"]));
    }
    // The reporter's follow-up sealed to the three members is taken.
    let parent = Message::from_bytes(a1.open_messages(&a1.case(&server, &case)).last().unwrap())
        .unwrap()
        .hash();
    let follow = Message::sign_follow_up(
        reporter.keys.signing_key(),
        &parent,
        now(),
        b"{\"text\":\"f\"}",
    )
    .unwrap();
    assert_eq!(follow_up(&server, &reporter, &rv, &follow.to_bytes())["seq"], 5);

    // --- remove
    let view = a1.case(&server, &case);
    let rm_out = member_statement(&server, &a1, &view, 2, &outsider.id, &[], reply_key);
    expect(
        remove(
            &server,
            &a1,
            &case,
            &json!({"advisor": outsider.id, "envelope": b64(&rm_out)}),
        ),
        409,
        Some("not_on_case"),
    );
    expect(
        remove(
            &server,
            &a1,
            &case,
            &json!({"advisor": b64(&[7u8; 16]), "envelope": b64(&rm_out)}),
        ),
        409,
        Some("not_on_case"),
    );
    for (body, status, code) in [
        (json!({"advisor": a3.id}), 400, "invalid_request"),
        (json!({"envelope": b64(&rm_out)}), 400, "invalid_request"),
        (
            json!({"advisor": a3.id, "envelope": b64(&beta_env)}),
            400,
            "bad_envelope",
        ),
        (
            json!({"advisor": a3.id, "envelope": "!"}),
            400,
            "bad_base64",
        ),
        (
            json!({"advisor": "x", "envelope": b64(&rm_out)}),
            400,
            "bad_base64",
        ),
        (
            json!({"advisor": a3.id, "envelope": b64(&rm_out), "stanzas": []}),
            400,
            "invalid_request",
        ),
        (json!("remove"), 400, "invalid_request"),
    ] {
        let r = remove(&server, &a1, &case, &body);
        assert!(r.status().as_u16() < 500);
        expect(r, status, Some(code));
    }
    assert_eq!(
        a1.case(&server, &case)["messages"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // a2 leaves.
    let view2 = a2.case(&server, &case);
    let leave = member_statement(&server, &a2, &view2, 2, &a2.id, &[], reply_key);
    let v = remove_ok(&server, &a2, &case, &a2.id, &leave);
    assert_eq!(v, json!({"seq": 6}));
    // a2 now gets what any advisor not on the case gets.
    let gone = case_not_found(&server, &a2, &case);
    let never = case_not_found(&server, &outsider, &case);
    assert_eq!(gone, never);
    assert!(a2.inbox(&server).is_empty());
    expect(
        remove(
            &server,
            &a2,
            &case,
            &json!({"advisor": a2.id, "envelope": b64(&leave)}),
        ),
        404,
        Some("not_found"),
    );

    // a1 removes a3; then a1 is the last advisor and cannot leave.
    let view = a1.case(&server, &case);
    let mut to = recipients(view["advisors"].as_array().unwrap(), None);
    to.retain(|k| *k != k3);
    to.push(reply_key);
    let rm3 = statement(
        &a1,
        &view,
        "alfa",
        2,
        &identity_of(&server, "alfa", &a3.id),
        &to,
    );
    assert_eq!(
        remove_ok(&server, &a1, &case, &a3.id, &rm3)["seq"],
        7
    );
    case_not_found(&server, &a3, &case);
    let view = a1.case(&server, &case);
    assert_eq!(view["advisors"].as_array().unwrap().len(), 1);
    let last = member_statement(&server, &a1, &view, 2, &a1.id, &[], reply_key);
    expect(
        remove(
            &server,
            &a1,
            &case,
            &json!({"advisor": a1.id, "envelope": b64(&last)}),
        ),
        409,
        Some("last_advisor"),
    );
    let view = a1.case(&server, &case);
    assert_eq!(view["messages"].as_array().unwrap().len(), 8);
    assert_eq!(a1.open_messages(&view).len(), 8);
    // The reporter's next follow-up, sealed to the one member left, is taken.
    let rv = reporter.case(&server);
    assert_eq!(rv["advisors"].as_array().unwrap().len(), 1);
    assert_eq!(follow_up(&server, &reporter, &rv, &follow.to_bytes())["seq"], 8);

    // A shared-in advisor may share on; removed advisors may be shared in again.
    let view = a1.case(&server, &case);
    let st = stanzas_for(&a1, &view, &k2);
    let back = member_statement(&server, &a1, &view, 1, &a2.id, &[k2], reply_key);
    assert_eq!(
        share_ok(&server, &a1, &case, &a2.id, &st, &back)["seq"],
        9
    );
    let v2 = a2.case(&server, &case);
    // The stanzas a2 had before leaving are still stored, beside the new ones.
    assert!(stanzas_of(&v2, 0).contains(&first_stanzas_a2[0]));
    assert_eq!(a2.open_messages(&v2).len(), 10);
}

#[test]
fn appointment_authority_and_advisor_events() {
    let server = with_orgs(&[]);
    let ha = Admin::login(&server, "hr-alfa", ALFA_PASS);
    let hb = Admin::login(&server, "hr-beta", BETA_PASS);
    let op = Admin::login(&server, "beheer", OPERATOR_PASS);

    // An org admin may not invite an external or branch-wide advisor, by any body.
    ha.expect_post(
        "/api/v1/admin/org/advisor-invites",
        json!({"external": true}),
        403,
        Some("operator_only"),
    );
    for body in [
        json!({"branch_wide": true}),
        json!({"appointed_by": "branch"}),
        json!({"external": "true"}),
        json!([true]),
    ] {
        let r = ha.post("/api/v1/admin/org/advisor-invites", body);
        assert!((400..500).contains(&r.status().as_u16()));
        expect(r, 400, Some("invalid_request"));
    }
    for path in [
        "/api/v1/admin/orgs/alfa/advisor-invites",
        "/api/v1/admin/branch/advisor-invites",
    ] {
        let r = ha.post(path, json!({"external": true}));
        assert_eq!(r.status().as_u16(), 403);
        expect(r, 403, None);
    }
    // Unknown organisation for the operator: 404; malformed: 400.
    op.expect_post("/api/v1/admin/orgs/nope/advisor-invites", json!({}), 404, None);
    op.expect_post(
        "/api/v1/admin/orgs/alfa/advisor-invites",
        json!({"external": 1}),
        400,
        Some("invalid_request"),
    );

    // Internal advisor by the org admin; external one by the operator; branch-wide by the CLI.
    let code = ha.expect_post("/api/v1/admin/org/advisor-invites", json!({}), 201, None)["invite"]
        .as_str()
        .unwrap()
        .to_owned();
    let intern = Advisor::register(&server, &code, "Iris Intern");
    let code = op.expect_post(
        "/api/v1/admin/orgs/alfa/advisor-invites",
        json!({"external": true}),
        201,
        None,
    )["invite"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut extern_ = Advisor::register(&server, &code, "Erik Extern");
    let code = expect(
        op.post_empty("/api/v1/admin/branch/advisor-invites"),
        201,
        None,
    )["invite"]
        .as_str()
        .unwrap()
        .to_owned();
    let branch = Advisor::register(&server, &code, "Bea Branche");
    let code = expect(
        hb.post_empty("/api/v1/admin/org/advisor-invites"),
        201,
        None,
    )["invite"]
        .as_str()
        .unwrap()
        .to_owned();
    let beta = Advisor::register(&server, &code, "Bert Beta");

    let i = listed(&server, "alfa", &intern.id);
    assert_eq!(i["appointed_by"], "organisation");
    assert_eq!(i["external"], false);
    assert!(is_day(&i["appointed_since"]));
    let e = listed(&server, "alfa", &extern_.id);
    assert_eq!(e["appointed_by"], "branch");
    assert_eq!(e["external"], true);
    assert_eq!(e["branch_wide"], false);
    let b = listed(&server, "beta", &branch.id);
    assert_eq!(b["appointed_by"], "branch");
    assert_eq!(b["branch_wide"], true);
    assert_eq!(
        listed(&server, "beta", &beta.id)["appointed_by"],
        "organisation"
    );
    // The admin listing says the same.
    let list = ha.get_ok("/api/v1/admin/org/advisors");
    for a in list.as_array().unwrap() {
        let want = if a["id"] == intern.id.as_str() {
            "organisation"
        } else {
            "branch"
        };
        assert_eq!(a["appointed_by"], want, "{a}");
        assert!(is_day(&a["appointed_since"]));
    }

    // Joined: the other advisors of the organisation and the branch-wide ones, never the
    // subject; another organisation's advisors only hear of branch-wide advisors.
    let ev = events(&server, &intern);
    assert!(has_event(&ev, "joined", Some(&extern_.id)));
    assert!(has_event(&ev, "joined", Some(&branch.id)));
    assert!(!has_event(&ev, "joined", Some(&intern.id)));
    assert!(!has_event(&ev, "joined", Some(&beta.id)));
    let joined = ev
        .iter()
        .find(|e| e["advisor"] == extern_.id.as_str())
        .unwrap();
    let mut keys: Vec<&str> = joined
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "advisor",
            "appointed_by",
            "day",
            "display_name",
            "kind",
            "org"
        ]
    );
    assert_eq!(joined["display_name"], "Erik Extern");
    assert_eq!(joined["org"], "alfa");
    assert_eq!(joined["appointed_by"], "branch");
    assert!(is_day(&joined["day"]));
    let bj = ev
        .iter()
        .find(|e| e["advisor"] == branch.id.as_str())
        .unwrap();
    assert!(bj["org"].is_null());
    let ev = events(&server, &branch);
    assert!(has_event(&ev, "joined", Some(&intern.id)));
    assert!(has_event(&ev, "joined", Some(&extern_.id)));
    assert!(has_event(&ev, "joined", Some(&beta.id)));
    assert!(!has_event(&ev, "joined", Some(&branch.id)));
    let ev = events(&server, &beta);
    assert!(has_event(&ev, "joined", Some(&branch.id)));
    assert!(!has_event(&ev, "joined", Some(&intern.id)));
    assert!(!has_event(&ev, "joined", Some(&extern_.id)));

    // Suspended and unsuspended (by the org admin), reordered.
    let sus = |admin: &Admin, id: &str, on: bool| {
        let r = admin.put(
            &format!("/api/v1/admin/org/advisors/{id}/suspended"),
            json!({"suspended": on}),
        );
        assert_eq!(r.status().as_u16(), 204);
    };
    sus(&ha, &intern.id, true);
    sus(&ha, &intern.id, true); // no change: no second event
    let ev = events(&server, &extern_);
    assert_eq!(
        ev.iter()
            .filter(|e| e["kind"] == "suspended" && e["advisor"] == intern.id.as_str())
            .count(),
        1
    );
    assert!(has_event(
        &events(&server, &branch),
        "suspended",
        Some(&intern.id)
    ));
    assert!(!has_event(
        &events(&server, &beta),
        "suspended",
        Some(&intern.id)
    ));
    sus(&ha, &intern.id, false);
    let r = ha.put(
        "/api/v1/admin/org",
        json!({"advisor_order": [extern_.id, intern.id]}),
    );
    assert_eq!(r.status().as_u16(), 200);
    let ev = events(&server, &extern_);
    assert!(has_event(&ev, "unsuspended", Some(&intern.id)));
    let re = ev.iter().find(|e| e["kind"] == "reordered").unwrap();
    assert!(re["advisor"].is_null());
    assert_eq!(re["display_name"], "Erik Extern");
    assert_eq!(re["org"], "alfa");
    // Newest first.
    assert_eq!(ev[0]["kind"], "reordered");
    assert!(has_event(&events(&server, &branch), "reordered", None));
    assert!(!has_event(&events(&server, &beta), "reordered", None));
    // The subject never hears of its own suspension.
    let mut intern = intern;
    intern.login(&server);
    let ev = events(&server, &intern);
    assert!(!has_event(&ev, "suspended", Some(&intern.id)));
    assert!(!has_event(&ev, "unsuspended", Some(&intern.id)));
    assert!(has_event(&ev, "reordered", None));
    // Operator suspends the external advisor: told to the others.
    let r = op.put(
        &format!("/api/v1/admin/branch/advisors/{}/suspended", branch.id),
        json!({"suspended": true}),
    );
    assert_eq!(r.status().as_u16(), 204);
    assert!(has_event(
        &events(&server, &beta),
        "suspended",
        Some(&branch.id)
    ));
    assert!(has_event(
        &events(&server, &intern),
        "suspended",
        Some(&branch.id)
    ));
    extern_.login(&server);
    assert!(has_event(
        &events(&server, &extern_),
        "suspended",
        Some(&branch.id)
    ));

    // The events route needs an advisor session.
    expect(
        server.get("/api/v1/advisor/events").send().unwrap(),
        401,
        None,
    );
    let r = server
        .get("/api/v1/advisor/events")
        .header("Authorization", "Bearer nonsense")
        .send()
        .unwrap();
    expect(r, 401, None);
}
