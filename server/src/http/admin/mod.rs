//! `/api/v1/admin/…`: the operator's and organisation admins' API, and the public logo.
//!
//! Every route checks the session and the role on the server. An organisation admin's
//! organisation is always the session's, never taken from the URL or the body. No route
//! returns case data, counts, or anything that depends on whether cases exist.

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{Body, RouteDef, def};
use crate::service::admin::{self, Actor, AdminError};
use crate::service::admin::api::{
    AcceptInviteIn, AcceptOut, AdvisorInviteIn, AdvisorStatusOut, AuditOut, AuditQuery,
    CreateOrgIn, InstanceIn, InstanceOut, InviteOut, LinkAdvisor, LinkOut, LoginIn, LoginOut,
    MeOut, OrgListItem, OrgSettingsIn, OrgSettingsOut, PassphraseIn, SuspendedIn, TotpConfirmIn,
    TotpSetupIn,
    TotpSetupOut, fingerprint, org_suspended,
};
use crate::service::admin::auth;
use crate::service::wire::parse_id;
use crate::day::now_secs;
use crate::http::error::{ApiError, ApiResult};
use crate::service::limits::Class;
use crate::service::AppState;
use crate::store::admin::{AdminAccount, AdminRole, AuditScope, NewAudit, OrgChange};
use crate::store::{Id, Organisation, Store};

mod operator;
mod org;
mod public;
mod session;

use operator::*;
use org::*;
use public::*;
use session::*;

type State = web::Data<AppState>;

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

/// Runs admin work on the blocking pool.
async fn run<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(&dyn Store) -> Result<T, AdminError> + Send + 'static,
) -> ApiResult<T> {
    let store = Arc::clone(&state.store);
    web::block(move || f(&*store))
        .await?
        .map_err(ApiError::from)
}

/// Runs Argon2id work (hashing, verifying) on the blocking pool, a few at a time.
async fn argon<T: Send + 'static>(
    state: &State,
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    let _slot = state
        .admin
        .argon_slots
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable())?;
    Ok(web::block(f).await?)
}

/// A JSON request body as `T`: it must be an object (serde would also take an array for a
/// struct), with no unknown fields (`T` denies them). The value's strings move into `T`, so a
/// passphrase is not left behind in the value.
fn object<T: serde::de::DeserializeOwned>(body: web::Json<Strict>) -> ApiResult<T> {
    object_value(body.into_inner().0)
}

/// A JSON value read with the rule the typed routes get from serde: an object may not name
/// a key twice (at any depth). `serde_json::Value` alone would keep the last one silently.
pub(crate) struct Strict(pub Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

fn object_value<T: serde::de::DeserializeOwned>(v: Value) -> ApiResult<T> {
    if !v.is_object() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidRequest,
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(ErrorCode::InvalidRequest, e.to_string()))
}

fn bad_login() -> ApiError {
    ApiError::unauthorized(ErrorCode::BadLogin, "wrong username or passphrase")
}

fn too_many(wait: u64) -> ApiError {
    let secs = wait.max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyAttempts,
        format!("too many failed logins for this account; try again in {secs} s"),
    )
    .with_retry_after(secs)
}

fn bad_session() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::BadSession,
        "missing, unknown or expired session; log in again",
    )
}

