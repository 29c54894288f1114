//! The operations of the public, reporter, advisor and operational routes, in the order of
//! the server's route table. Texts are those of the hand-kept document this replaced.

use utoipa::openapi::path::HttpMethod::{self, Get, Post, Put};

use super::answers::{
    AdvisorEvents, CreatedCase, Inbox, LoginChallenge, NotifySetting, PowChallenge, Seq, Session,
    SetNotify, StatusSet, Uploaded,
};
use super::op::{Auth, Body, OCTETS, Op, inline, json, object, op};
use crate::{
    AdvisorOut, CreateCase, Login, LoginChallengeRequest, OrgPage, PostFollowUp, PostReply,
    PublishBundle, PublishRevocation, Register, Remove, SetStatus, Share,
};

const SUSPENDED: &str = "Organisation suspended (org_suspended)";
const NOTIFY_OK: &str = "The advisor's notification setting";

fn advisor(method: HttpMethod, path: &'static str, summary: &'static str) -> Op {
    op(method, path, "advisor", summary).auth(Auth::Advisor)
}

fn reporter(method: HttpMethod, path: &'static str, summary: &'static str) -> Op {
    op(method, path, "reporter", summary).auth(Auth::CaseToken)
}

/// Every operation outside `/api/v1/admin/…` and the logo.
#[must_use]
pub fn operations() -> Vec<Op> {
    vec![
        op(Get, "/healthz", "operations", "Health check").ok(200, "Healthy", object()),
        op(Get, "/api/v1/openapi.json", "operations", "This document")
            .ok(200, "OpenAPI 3.1", object()),
        // public
        op(Get, "/api/v1/orgs/{slug}", "public", "An organisation's page data with its advisors and their keys")
            .desc("Branch-wide advisors are listed under every organisation and marked external. Suspended advisors are not listed; the order follows the organisation's advisor_order. A renamed organisation is also found by its former slugs. A suspended organisation answers 410 org_suspended.")
            .ok(200, "Page data", json::<OrgPage>())
            .errors(&[404, 429])
            .error(410, SUSPENDED),
        op(Post, "/api/v1/pow", "public", "A proof-of-work challenge (protocol §8)")
            .ok(200, "Challenge", json::<PowChallenge>())
            .errors(&[429]),
        // reporter
        op(Post, "/api/v1/cases", "reporter", "Create a case (reporter, anonymous)")
            .body(json::<CreateCase>())
            .ok(201, "Created", json::<CreatedCase>())
            .errors(&[400, 404, 409, 413, 415, 429])
            .error(410, SUSPENDED),
        reporter(Get, "/api/v1/case", "The reporter's case: status, advisors, messages, attachments")
            .ok(200, "Case", Body::Json("ReporterCaseView".into()))
            .errors(&[401, 429]),
        reporter(Post, "/api/v1/case/messages", "Post a follow-up (reporter)")
            .body(json::<PostFollowUp>())
            .ok(201, "Stored", json::<Seq>())
            .errors(&[400, 401, 409, 413, 415, 429]),
        reporter(Put, "/api/v1/case/attachments/{id}", "Upload an attachment envelope (streamed)")
            .path_param("id", "attachment id chosen by the client (16 random bytes, base64url)")
            .header("Meldpunt-Pow", "<challenge base64url>.<nonce decimal> (required when PoW is enabled)")
            .body(OCTETS)
            .ok(201, "Stored", inline::<Uploaded>())
            .errors(&[400, 401, 409, 413, 415, 429]),
        reporter(Get, "/api/v1/case/attachments/{id}", "Download an attachment envelope (streamed)")
            .ok(200, "Envelope", OCTETS)
            .errors(&[401, 404, 429]),
        // advisors
        op(Post, "/api/v1/advisor/register", "advisor", "Redeem an invite: register an advisor with identity key, first bundle and profile")
            .body(json::<Register>())
            .ok(201, "Registered", json::<AdvisorOut>())
            .errors(&[400, 403, 409, 413, 415, 429]),
        op(Post, "/api/v1/advisor/login/challenge", "advisor", "A single-use login challenge")
            .body(json::<LoginChallengeRequest>())
            .ok(200, "Challenge", json::<LoginChallenge>())
            .errors(&[400, 413, 415, 429]),
        op(Post, "/api/v1/advisor/login", "advisor", "Log in with a signed challenge")
            .body(json::<Login>())
            .ok(200, "Session", json::<Session>())
            .errors(&[400, 401, 413, 415, 429]),
        advisor(Post, "/api/v1/advisor/logout", "End the session")
            .ok(204, "Ended", Body::Empty)
            .errors(&[401, 429]),
        advisor(Get, "/api/v1/advisor/me", "The advisor's own profile and keys")
            .ok(200, "Profile", json::<AdvisorOut>())
            .errors(&[401, 429]),
        advisor(Post, "/api/v1/advisor/keys", "Publish a new key bundle (rotation)")
            .body(json::<PublishBundle>())
            .ok(201, "Published", object())
            .errors(&[400, 401, 409, 413, 415, 429]),
        advisor(Get, "/api/v1/advisor/notify", "The advisor's address for activity notifications")
            .desc("Notifications are content-free e-mails (no organisation, case or count) sent when a case is filed or a reporter writes, at most one per advisor per `notify.min_interval_secs`. `instance_enabled` says whether the operator has switched notifications on (`[notify]`).")
            .ok(200, NOTIFY_OK, json::<NotifySetting>())
            .errors(&[401, 429]),
        advisor(Put, "/api/v1/advisor/notify", "Set or remove the address for activity notifications")
            .desc("`{\"email\": \"name@example.nl\"}` sets one plain address (no display name, at most 254 characters); `{\"email\": null}` removes it.")
            .body(json::<SetNotify>())
            .ok(200, NOTIFY_OK, json::<NotifySetting>())
            .errors(&[400, 401, 413, 415, 429]),
        advisor(Post, "/api/v1/advisor/revocations", "Publish a revocation of one of the advisor's keys")
            .body(json::<PublishRevocation>())
            .ok(201, "Published", object())
            .errors(&[400, 401, 409, 413, 415, 429]),
        advisor(Get, "/api/v1/advisor/cases", "Inbox: cases addressed to me, with deadlines")
            .ok(200, "Cases", inline::<Inbox>())
            .errors(&[401, 429]),
        advisor(Get, "/api/v1/advisor/cases/{id}", "A case with envelopes and my detached stanzas")
            .ok(200, "Case", Body::Json("AdvisorCaseView".into()))
            .errors(&[401, 404, 429]),
        advisor(Post, "/api/v1/advisor/cases/{id}/messages", "Post a reply")
            .body(json::<PostReply>())
            .ok(201, "Stored", json::<Seq>())
            .errors(&[400, 401, 404, 413, 415, 429]),
        advisor(Put, "/api/v1/advisor/cases/{id}/status", "Set the status")
            .body(json::<SetStatus>())
            .ok(200, "Set", inline::<StatusSet>())
            .errors(&[400, 401, 404, 413, 415, 429]),
        advisor(Post, "/api/v1/advisor/cases/{id}/share", "Share the case with another advisor of the organisation or a branch-wide one: detached stanzas (one per message and attachment) and the signed add statement, in one transaction")
            .desc("`envelope` is required. Errors: 400 for any malformed field or an envelope that is not a message of this case's organisation (bad_advisor: unknown, suspended or of another organisation; bad_stanza), 409 when the stanzas do not cover every message and attachment exactly once, 413 past the case's message limit.")
            .body(json::<Share>())
            .ok(200, "Shared; `seq` is the appended statement's", json::<Seq>())
            .errors(&[400, 401, 404, 409, 413, 415, 429]),
        advisor(Post, "/api/v1/advisor/cases/{id}/remove", "Remove an advisor from the case (or leave it): the signed remove statement is appended and the advisor taken off the case, in one transaction")
            .desc("Stored stanzas stay. Afterwards the removed advisor gets the same answer as any advisor not on the case (404). 409 `not_on_case` if that advisor is not on the case, 409 `last_advisor` if the case would be left without an advisor.")
            .body(json::<Remove>())
            .ok(200, "Removed; `seq` is the appended statement's", json::<Seq>())
            .errors(&[400, 401, 404, 409, 413, 415, 429]),
        advisor(Get, "/api/v1/advisor/events", "Advisor events: advisors of my organisation and branch-wide advisors who joined, were suspended or unsuspended, and reorderings of the organisation's advisors")
            .desc("Newest first, at most 200, kept 365 days; day granularity only. Never the caller's own events. Where notifications are on, each event also sends the content-free activity mail.")
            .ok(200, "Events", json::<AdvisorEvents>())
            .errors(&[401, 429]),
        advisor(Put, "/api/v1/advisor/cases/{id}/attachments/{att}", "Upload an attachment envelope (streamed)")
            .body(OCTETS)
            .ok(201, "Stored", inline::<Uploaded>())
            .errors(&[400, 401, 404, 409, 413, 415, 429]),
        advisor(Get, "/api/v1/advisor/cases/{id}/attachments/{att}", "Download an attachment envelope (streamed)")
            .ok(200, "Envelope", OCTETS)
            .errors(&[401, 404, 429]),
    ]
}
