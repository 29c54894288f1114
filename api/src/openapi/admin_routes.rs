//! The operations of the admin API (`/api/v1/admin/…`) and the public logo, in the order of
//! the server's admin route table. Texts are those of the hand-kept document this replaced.

use utoipa::openapi::Type;
use utoipa::openapi::path::HttpMethod::{Delete, Get, Post, Put};
use utoipa::openapi::schema::ObjectBuilder;

use super::admin::{
    AcceptInvite, AcceptedInvite, AdminLogin, AdminMe, AdminOrg, AdminSession,
    AdvisorInviteOptions, AdvisorStatus, AuditEntry, CreateOrg, Instance, Invite, OrgSettings,
    OrgSettingsChange, PassphraseChange, ReportingLink, Suspended, TotpConfirm, TotpSetup,
    TotpSetupRequest,
};
use super::op::{Auth::Admin, Body, IMAGE, Op, array_of, json, op};

const BODY_ERRORS: &[u16] = &[400, 401, 403, 413, 415, 429];
const GET_ERRORS: &[u16] = &[401, 403, 429];

fn admin(
    method: utoipa::openapi::path::HttpMethod,
    path: &'static str,
    summary: &'static str,
) -> Op {
    op(method, path, "admin", summary).auth(Admin)
}

/// `PUT …/suspended`: suspend or resume an organisation or an advisor.
fn suspend(path: &'static str, summary: &'static str, description: &'static str) -> Op {
    admin(Put, path, summary)
        .desc(description)
        .body(json::<Suspended>())
        .ok(204, "Done", Body::Empty)
        .errors(&[400, 401, 403, 404, 413, 415, 429])
}

/// Every admin operation and the public logo.
#[must_use]
pub fn operations() -> Vec<Op> {
    vec![
        op(Get, "/api/v1/orgs/{slug}/logo", "public", "The organisation's logo")
            .ok(200, "PNG or JPEG", IMAGE)
            .errors(&[404, 429])
            .error(410, "Organisation suspended"),
        op(Post, "/api/v1/admin/login", "admin", "Log in with username, passphrase and (if enabled) a TOTP code")
            .desc("401 bad_login for a wrong username or passphrase (unknown usernames take the same Argon2id time); 401 totp_required when the passphrase is right but the TOTP code is missing or wrong (only a wrong code counts as a failure). After 5 failures of one account, each further failure locks it for 2^(n-5) s (at most 1 h): 429 too_many_attempts with retry_after. Also rate limited per address (rate_limit.login).")
            .body(json::<AdminLogin>())
            .ok(200, "Session", json::<AdminSession>())
            .errors(&[400, 401, 413, 415, 429]),
        admin(Post, "/api/v1/admin/logout", "End the session")
            .ok(204, "Ended", Body::Empty)
            .errors(&[401, 429]),
        admin(Get, "/api/v1/admin/me", "The logged-in administrator")
            .ok(200, "Account", json::<AdminMe>())
            .errors(&[401, 429]),
        admin(Post, "/api/v1/admin/totp/setup", "Start TOTP setup: a new key, its otpauth URI and QR code")
            .desc("The key takes effect only after /totp/confirm with a valid code. A session alone cannot start it: 403 bad_passphrase for a wrong passphrase; when TOTP is already on, 401 totp_required without a current (unused) code of the key in use. Both failures count as failed logins.")
            .body(json::<TotpSetupRequest>())
            .ok(200, "Setup data", json::<TotpSetup>())
            .errors(BODY_ERRORS),
        admin(Post, "/api/v1/admin/totp/confirm", "Confirm TOTP setup with the first code")
            .desc("400 bad_code for a wrong or already used code; 409 no_totp_setup without a setup.")
            .body(json::<TotpConfirm>())
            .ok(204, "TOTP enabled", Body::Empty)
            .errors(&[400, 401, 409, 413, 415, 429]),
        admin(Post, "/api/v1/admin/passphrase", "Change the own passphrase (ends the other sessions)")
            .desc("403 bad_passphrase for a wrong current passphrase (counts as a failed login); 400 weak_passphrase.")
            .body(json::<PassphraseChange>())
            .ok(204, "Changed", Body::Empty)
            .errors(BODY_ERRORS),
        op(Post, "/api/v1/admin/accept-invite", "admin", "Redeem an org-admin invite: create the account")
            .desc("No session needed. 403 bad_invite (unknown, used or expired), 409 username_taken, 400 bad_username / weak_passphrase. Rate limited per address.")
            .body(json::<AcceptInvite>())
            .ok(201, "Account created", json::<AcceptedInvite>())
            .errors(&[400, 403, 409, 413, 415, 429]),
        admin(Get, "/api/v1/admin/audit", "The audit log, newest first")
            .desc("Operator: every entry of the instance (or one organisation's with ?org=SLUG). Organisation admin: their organisation's entries only (another ?org is 403). Entries never hold addresses, user agents, passphrases, secrets or invite codes, nor anything about reports.")
            .query(
                "limit",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(500))
                    .default(Some(100.into()))
                    .into(),
            )
            .query("org", ObjectBuilder::new().schema_type(Type::String).into())
            .ok(200, "Entries", array_of::<AuditEntry>())
            .errors(&[400, 401, 403, 404, 429]),
        admin(Get, "/api/v1/admin/orgs", "All organisations (operator; no counts)")
            .ok(200, "Organisations", array_of::<AdminOrg>())
            .errors(GET_ERRORS),
        admin(Post, "/api/v1/admin/orgs", "Create an organisation (operator)")
            .desc("409 slug_taken (also for a former slug of another organisation).")
            .body(json::<CreateOrg>())
            .ok(201, "Created", json::<AdminOrg>())
            .errors(&[400, 401, 403, 409, 413, 415, 429]),
        suspend("/api/v1/admin/orgs/{slug}/suspended", "Suspend or resume an organisation (operator)", "A suspended organisation's public page, logo and case creation answer 410 org_suspended; existing cases stay readable."),
        admin(Post, "/api/v1/admin/orgs/{slug}/admin-invites", "One-time invite for an organisation admin (operator)")
            .ok(201, "Invite", json::<Invite>())
            .errors(&[401, 403, 404, 429]),
        admin(Post, "/api/v1/admin/orgs/{slug}/advisor-invites", "One-time invite for an advisor of an organisation, internal or external (operator; appointed by the branch organisation)")
            .desc("Optional body {\"external\": true} for an external advisor. Only the operator may invite external or branch-wide advisors.")
            .path_param("slug", "the organisation")
            .optional_body(json::<AdvisorInviteOptions>())
            .ok(201, "Invite", json::<Invite>())
            .errors(&[400, 401, 403, 404, 413, 415, 429]),
        admin(Post, "/api/v1/admin/branch/advisor-invites", "One-time invite for a branch-wide advisor (operator)")
            .desc("The code is what `meldpunt advisor init` and /api/v1/advisor/register take.")
            .ok(201, "Invite", json::<Invite>())
            .errors(GET_ERRORS),
        admin(Get, "/api/v1/admin/branch/advisors", "Branch-wide advisors (operator)")
            .ok(200, "Advisors", array_of::<AdvisorStatus>())
            .errors(GET_ERRORS),
        suspend("/api/v1/admin/branch/advisors/{id}/suspended", "Suspend or resume a branch-wide advisor (operator)", "A suspended advisor is not offered to reporters, cannot be chosen or added to a case, and cannot log in (their sessions end)."),
        admin(Get, "/api/v1/admin/instance", "Instance settings (operator)")
            .ok(200, "Settings", json::<Instance>())
            .errors(GET_ERRORS),
        admin(Put, "/api/v1/admin/instance", "Change instance settings (operator)")
            .body(json::<Instance>())
            .ok(200, "Settings", json::<Instance>())
            .errors(BODY_ERRORS),
        admin(Get, "/api/v1/admin/org", "The own organisation's settings (org admin)")
            .ok(200, "Settings", json::<OrgSettings>())
            .errors(GET_ERRORS),
        admin(Put, "/api/v1/admin/org", "Change the own organisation's settings (org admin)")
            .body(json::<OrgSettingsChange>())
            .ok(200, "The new settings", json::<OrgSettings>())
            .errors(&[400, 401, 403, 409, 413, 415, 429]),
        admin(Put, "/api/v1/admin/org/logo", "Upload the logo (org admin)")
            .desc("Raw body, Content-Type image/png or image/jpeg (no SVG), at most 256 KiB; the magic bytes must match the type.")
            .body(IMAGE)
            .ok(204, "Stored", Body::Empty)
            .errors(BODY_ERRORS),
        admin(Delete, "/api/v1/admin/org/logo", "Remove the logo (org admin)")
            .ok(204, "Removed", Body::Empty)
            .errors(GET_ERRORS),
        admin(Get, "/api/v1/admin/org/advisors", "The organisation's advisors and the branch-wide ones (org admin)")
            .ok(200, "Advisors in public-page order", array_of::<AdvisorStatus>())
            .errors(GET_ERRORS),
        admin(Post, "/api/v1/admin/org/advisor-invites", "One-time invite for an internal advisor of the own organisation (org admin; appointed by the organisation)")
            .desc("Optional body {\"external\": false}. `external: true` is refused with 403 `operator_only`: only the operator (branch organisation) may invite or mark an external or branch-wide advisor.")
            .optional_body(json::<AdvisorInviteOptions>())
            .ok(201, "Invite", json::<Invite>())
            .errors(BODY_ERRORS),
        suspend("/api/v1/admin/org/advisors/{id}/suspended", "Suspend or resume an advisor of the own organisation (org admin)", "Branch-wide advisors: 403 (the operator suspends them). Advisors of other organisations: 404."),
        admin(Get, "/api/v1/admin/org/link", "The reporting link with pinned fingerprints, and its QR code (org admin)")
            .ok(200, "Link", json::<ReportingLink>())
            .errors(&[400, 401, 403, 429]),
    ]
}
