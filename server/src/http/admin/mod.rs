//! `/api/v1/admin/…`: the operator's and organisation admins' API, and the public logo.
//!
//! Every route checks the session and the role on the server. An organisation admin's
//! organisation is always the session's, never taken from the URL or the body. No route
//! returns case data, counts, or anything that depends on whether cases exist.


use actix_web::http::Method;
use actix_web::web;

use super::{Body, RouteDef, def};

mod common;
mod operator;
mod org;
mod public;
mod session;

use operator::*;
use org::*;
use public::*;
use session::*;


/// The admin routes (added to [`super::routes`]).
pub(super) fn routes() -> Vec<RouteDef> {
    use Body::{AdminOrg, Small, Stream};
    vec![
        def(
            Method::GET,
            "/api/v1/orgs/{slug}/logo",
            Small,
            web::get().to(public_logo),
        ),
        // login and own account (both roles)
        def(
            Method::POST,
            "/api/v1/admin/login",
            Small,
            web::post().to(login),
        ),
        def(
            Method::POST,
            "/api/v1/admin/logout",
            Small,
            web::post().to(logout),
        ),
        def(Method::GET, "/api/v1/admin/me", Small, web::get().to(me)),
        def(
            Method::POST,
            "/api/v1/admin/totp/setup",
            Small,
            web::post().to(totp_setup),
        ),
        def(
            Method::POST,
            "/api/v1/admin/totp/confirm",
            Small,
            web::post().to(totp_confirm),
        ),
        def(
            Method::POST,
            "/api/v1/admin/passphrase",
            Small,
            web::post().to(change_passphrase),
        ),
        def(
            Method::POST,
            "/api/v1/admin/accept-invite",
            Small,
            web::post().to(accept_invite),
        ),
        def(
            Method::GET,
            "/api/v1/admin/audit",
            Small,
            web::get().to(audit),
        ),
        // operator
        def(
            Method::GET,
            "/api/v1/admin/orgs",
            Small,
            web::get().to(list_orgs),
        ),
        def(
            Method::POST,
            "/api/v1/admin/orgs",
            Small,
            web::post().to(create_org),
        ),
        def(
            Method::PUT,
            "/api/v1/admin/orgs/{slug}/suspended",
            Small,
            web::put().to(suspend_org),
        ),
        def(
            Method::POST,
            "/api/v1/admin/orgs/{slug}/admin-invites",
            Small,
            web::post().to(org_admin_invite),
        ),
        def(
            Method::POST,
            "/api/v1/admin/orgs/{slug}/advisor-invites",
            Small,
            web::post().to(operator_org_advisor_invite),
        ),
        def(
            Method::POST,
            "/api/v1/admin/branch/advisor-invites",
            Small,
            web::post().to(branch_advisor_invite),
        ),
        def(
            Method::GET,
            "/api/v1/admin/branch/advisors",
            Small,
            web::get().to(branch_advisors),
        ),
        def(
            Method::PUT,
            "/api/v1/admin/branch/advisors/{id}/suspended",
            Small,
            web::put().to(suspend_branch_advisor),
        ),
        def(
            Method::GET,
            "/api/v1/admin/instance",
            Small,
            web::get().to(instance),
        ),
        def(
            Method::PUT,
            "/api/v1/admin/instance",
            Small,
            web::put().to(set_instance),
        ),
        // organisation admin
        def(
            Method::GET,
            "/api/v1/admin/org",
            Small,
            web::get().to(org_settings),
        ),
        def(
            Method::PUT,
            "/api/v1/admin/org",
            AdminOrg,
            web::put().to(change_org),
        ),
        def(
            Method::PUT,
            "/api/v1/admin/org/logo",
            Stream,
            web::put().to(put_logo),
        ),
        def(
            Method::DELETE,
            "/api/v1/admin/org/logo",
            Small,
            web::delete().to(delete_logo),
        ),
        def(
            Method::GET,
            "/api/v1/admin/org/advisors",
            Small,
            web::get().to(org_advisors),
        ),
        def(
            Method::POST,
            "/api/v1/admin/org/advisor-invites",
            Small,
            web::post().to(org_advisor_invite),
        ),
        def(
            Method::PUT,
            "/api/v1/admin/org/advisors/{id}/suspended",
            Small,
            web::put().to(suspend_org_advisor),
        ),
        def(
            Method::GET,
            "/api/v1/admin/org/link",
            Small,
            web::get().to(org_link),
        ),
    ]
}
