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
use crate::admin::{self, Actor, AdminError};
use crate::adminapi::{
    AcceptInviteIn, AcceptOut, AdvisorInviteIn, AdvisorStatusOut, AuditOut, AuditQuery,
    CreateOrgIn, InstanceIn, InstanceOut, InviteOut, LinkAdvisor, LinkOut, LoginIn, LoginOut,
    MeOut, OrgListItem, OrgSettingsIn, OrgSettingsOut, PassphraseIn, SuspendedIn, TotpConfirmIn,
    TotpSetupIn,
    TotpSetupOut, fingerprint, org_suspended,
};
use crate::adminauth;
use crate::api::parse_id;
use crate::day::now_secs;
use crate::error::{ApiError, ApiResult};
use crate::limits::Class;
use crate::service::AppState;
use crate::store::admin::{AdminAccount, AdminRole, AuditScope, NewAudit, OrgChange};
use crate::store::{Id, Organisation, Store};

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

// ---------- sessions

/// A checked administrator session.
#[derive(Debug)]
pub(super) struct Session {
    account: AdminAccount,
    token_hash: [u8; 32],
    require_totp: bool,
    expires_at: i64,
}

impl Session {
    fn actor(&self) -> Actor {
        Actor(self.account.username.clone())
    }
    fn must_enable_totp(&self) -> bool {
        self.require_totp && self.account.totp_secret.is_none()
    }
    fn operator(&self) -> ApiResult<()> {
        if self.account.role == AdminRole::Operator {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the instance operator may do this",
            ))
        }
    }
    fn org_admin(&self) -> ApiResult<i64> {
        match (self.account.role, self.account.org_id) {
            (AdminRole::OrgAdmin, Some(org)) => Ok(org),
            _ => Err(ApiError::forbidden(
                "only an organisation's admin may do this",
            )),
        }
    }
}

/// The session of `Authorization: Bearer …`. With `setup_only`, a session that must still
/// enable TOTP is let through (me, totp/setup, totp/confirm, logout); otherwise it is 403
/// `totp_setup_required`.
async fn session(req: &HttpRequest, state: &State, setup_only: bool) -> ApiResult<Session> {
    state.limits.check(Class::Advisor, req, &state.metrics)?;
    let hash = super::handlers::credential(req, "Bearer")
        .and_then(adminauth::session_token_hash)
        .ok_or_else(bad_session)?;
    let found = run(state, move |s| Ok(s.admin_session(&hash)?)).await?;
    let Some(row) = found else {
        return Err(bad_session());
    };
    let a = &state.settings.admin;
    let now = now_secs();
    let idle_end = row.last_seen + i64::from(a.session_idle_secs);
    let max_end = row.created_at + i64::from(a.session_max_secs);
    if now >= idle_end || now >= max_end {
        run(state, move |s| Ok(s.delete_admin_session(&hash)?)).await?;
        return Err(bad_session());
    }
    run(state, move |s| Ok(s.touch_admin_session(&hash, now)?)).await?;
    let session = Session {
        account: row.account,
        token_hash: hash,
        require_totp: row.require_totp,
        expires_at: (now + i64::from(a.session_idle_secs)).min(max_end),
    };
    if !setup_only && session.must_enable_totp() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::TotpSetupRequired,
            "this instance requires a second factor: set up TOTP first",
        ));
    }
    Ok(session)
}

async fn org_slug(state: &State, org_id: Option<i64>) -> ApiResult<Option<String>> {
    match org_id {
        Some(id) => Ok(run(state, move |s| Ok(s.org_by_id(id)?))
            .await?
            .map(|o| o.slug)),
        None => Ok(None),
    }
}

async fn login(req: HttpRequest, state: State, body: web::Json<Strict>) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Login, &req, &state.metrics)?;
    let LoginIn {
        username,
        passphrase,
        totp,
    } = object::<LoginIn>(body)?;
    let username = username.trim().to_lowercase();
    let now = now_secs();
    state.admin.lockout.check(&username).map_err(too_many)?;
    let name = username.clone();
    let account = run(&state, move |s| {
        Ok(if adminauth::valid_username(&name) {
            s.admin_account(&name)?
        } else {
            None
        })
    })
    .await?;
    // An unknown username is checked against a dummy hash: same time, same answer.
    let hash: Zeroizing<String> = account.as_ref().map_or_else(
        || Zeroizing::new(adminauth::dummy_hash().to_owned()),
        |a| a.passphrase_hash.clone(),
    );
    let ok = argon(&state, move || {
        adminauth::verify_passphrase(passphrase.expose(), &hash)
    })
    .await?;
    let Some(account) = account.filter(|_| ok) else {
        state.admin.lockout.failure(&username);
        return Err(bad_login());
    };
    if let Some(key) = &account.totp_secret {
        // An empty field is a missing code (not a failure).
        let Some(code) = totp.filter(|c| !c.expose().trim().is_empty()) else {
            // Not a failure: the client asks for the code next.
            return Err(ApiError::unauthorized(
                ErrorCode::TotpRequired,
                "enter the current code of your authenticator app",
            ));
        };
        let used =
            match adminauth::totp_check(key, code.expose(), now_secs(), account.totp_last_step) {
                Some(step) => {
                    let id = account.id;
                    run(&state, move |s| Ok(s.use_totp_step(id, step)?)).await?
                }
                None => false,
            };
        if !used {
            state.admin.lockout.failure(&username);
            return Err(ApiError::unauthorized(
                ErrorCode::TotpRequired,
                "wrong or already used code; wait for the next code of your authenticator app",
            ));
        }
    }
    state.admin.lockout.success(&username);
    let (token, token_hash) = adminauth::new_session_token();
    let a = &state.settings.admin;
    let (idle, max) = (
        i64::from(a.session_idle_secs),
        i64::from(a.session_max_secs),
    );
    let audit = NewAudit {
        actor: account.username.clone(),
        org_id: account.org_id,
        action: "login".into(),
        detail: if account.totp_secret.is_some() {
            "logged in with passphrase and TOTP".into()
        } else {
            "logged in with passphrase".into()
        },
    };
    let id = account.id;
    let require_totp = run(&state, move |s| {
        s.create_admin_session(token_hash, id, now, idle, max, audit)?;
        Ok(s.require_totp()?)
    })
    .await?;
    let org = org_slug(&state, account.org_id).await?;
    let totp_enabled = account.totp_secret.is_some();
    Ok(HttpResponse::Ok().json(LoginOut {
        token,
        expires_at: now + idle.min(max),
        absolute_expires_at: now + max,
        role: account.role.as_str(),
        org,
        totp_enabled,
        must_enable_totp: require_totp && !totp_enabled,
    }))
}

async fn logout(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, true).await?;
    let hash = s.token_hash;
    run(&state, move |st| Ok(st.delete_admin_session(&hash)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn me(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, true).await?;
    let org = org_slug(&state, s.account.org_id).await?;
    Ok(HttpResponse::Ok().json(MeOut {
        username: s.account.username.clone(),
        role: s.account.role.as_str(),
        org,
        totp_enabled: s.account.totp_secret.is_some(),
        must_enable_totp: s.must_enable_totp(),
        require_totp: s.require_totp,
        expires_at: s.expires_at,
    }))
}

async fn totp_setup(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, true).await?;
    let TotpSetupIn { passphrase, code } = object(body)?;
    // The passphrase, and the current code if TOTP is on: a stolen session token alone must not
    // replace the second factor. Failures count towards the account's lockout.
    let username = s.account.username.clone();
    state.admin.lockout.check(&username).map_err(too_many)?;
    let hash = s.account.passphrase_hash.clone();
    let ok = argon(&state, move || {
        adminauth::verify_passphrase(passphrase.expose(), &hash)
    })
    .await?;
    if !ok {
        state.admin.lockout.failure(&username);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::BadPassphrase,
            "the current passphrase is wrong",
        ));
    }
    if let Some(current) = &s.account.totp_secret {
        let Some(code) = code.filter(|c| !c.expose().trim().is_empty()) else {
            return Err(ApiError::unauthorized(
                ErrorCode::TotpRequired,
                "enter the current code of your authenticator app",
            ));
        };
        let used = match adminauth::totp_check(
            current,
            code.expose(),
            now_secs(),
            s.account.totp_last_step,
        ) {
            Some(step) => {
                let id = s.account.id;
                run(&state, move |st| Ok(st.use_totp_step(id, step)?)).await?
            }
            None => false,
        };
        if !used {
            state.admin.lockout.failure(&username);
            return Err(ApiError::unauthorized(
                ErrorCode::TotpRequired,
                "wrong or already used code; wait for the next code of your authenticator app",
            ));
        }
    }
    let key = adminauth::new_totp_key();
    let setup = adminauth::totp_setup(&key, &s.account.username).map_err(|e| {
        tracing::error!(error = %e, "TOTP setup failed");
        ApiError::internal()
    })?;
    let id = s.account.id;
    run(&state, move |st| Ok(st.set_totp_pending(id, key)?)).await?;
    Ok(HttpResponse::Ok().json(TotpSetupOut {
        secret: setup.secret,
        otpauth_uri: setup.otpauth_uri,
        qr_svg: setup.qr_svg,
    }))
}

async fn totp_confirm(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, true).await?;
    let body: TotpConfirmIn = object(body)?;
    let Some(pending) = s.account.totp_pending.clone() else {
        return Err(ApiError::conflict(
            ErrorCode::NoTotpSetup,
            "start with POST /api/v1/admin/totp/setup",
        ));
    };
    let step = adminauth::totp_check(
        &pending,
        body.code.expose(),
        now_secs(),
        s.account.totp_last_step,
    )
    .ok_or_else(|| {
        ApiError::bad_request(ErrorCode::BadCode, "wrong or already used code; try the next one")
    })?;
    let (id, actor) = (s.account.id, s.actor());
    let org = s.account.org_id;
    run(&state, move |st| {
        st.confirm_totp(
            id,
            pending,
            step,
            NewAudit {
                actor: actor.0,
                org_id: org,
                action: "totp.enable".into(),
                detail: "TOTP second factor enabled".into(),
            },
        )
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(m) => AdminError::Conflict {
                code: ErrorCode::NoTotpSetup,
                message: m,
            },
            e => e.into(),
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn change_passphrase(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let PassphraseIn { old, new } = object(body)?;
    let username = s.account.username.clone();
    state.admin.lockout.check(&username).map_err(too_many)?;
    let hash = s.account.passphrase_hash.clone();
    let ok = argon(&state, move || {
        adminauth::verify_passphrase(old.expose(), &hash)
    })
    .await?;
    if !ok {
        state.admin.lockout.failure(&username);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::BadPassphrase,
            "the current passphrase is wrong",
        ));
    }
    let org = org_slug(&state, s.account.org_id)
        .await?
        .unwrap_or_default();
    let name = username.clone();
    let new_hash = argon(&state, move || -> Result<Zeroizing<String>, AdminError> {
        adminauth::check_strength(new.expose(), &[&name, &org]).map_err(|e| {
            AdminError::Invalid {
                code: ErrorCode::WeakPassphrase,
                message: e.0,
            }
        })?;
        adminauth::hash_passphrase(new.expose())
            .map_err(|e| AdminError::Store(crate::store::StoreError::Db(format!("argon2: {e}"))))
    })
    .await??;
    let (id, keep, org_id) = (s.account.id, s.token_hash, s.account.org_id);
    run(&state, move |st| {
        Ok(st.set_admin_passphrase(
            id,
            &new_hash,
            keep,
            NewAudit {
                actor: username,
                org_id,
                action: "passphrase.change".into(),
                detail: "passphrase changed; other sessions ended".into(),
            },
        )?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn accept_invite(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Login, &req, &state.metrics)?;
    let AcceptInviteIn {
        invite,
        username,
        passphrase,
    } = object::<AcceptInviteIn>(body)?;
    let store = Arc::clone(&state.store);
    let name = username.clone();
    let org: Organisation = argon(&state, move || {
        admin::accept_admin_invite(&*store, invite.expose(), &name, &passphrase)
    })
    .await??;
    Ok(HttpResponse::Created().json(AcceptOut {
        username,
        org: org.slug,
    }))
}

async fn audit(
    req: HttpRequest,
    state: State,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > admin::MAX_AUDIT {
        return Err(ApiError::bad_request(
            ErrorCode::BadLimit,
            format!("`limit`: 1 to {}", admin::MAX_AUDIT),
        ));
    }
    let scope = match s.account.role {
        AdminRole::Operator => match q.org {
            Some(slug) => AuditScope::Org(
                run(&state, move |st| admin::org_by_slug(st, &slug))
                    .await?
                    .id,
            ),
            None => AuditScope::All,
        },
        AdminRole::OrgAdmin => {
            let own = s.org_admin()?;
            if let Some(slug) = q.org {
                let own_slug = org_slug(&state, Some(own)).await?;
                if own_slug.as_deref() != Some(slug.as_str()) {
                    return Err(ApiError::forbidden(
                        "an organisation admin sees their own organisation's entries only",
                    ));
                }
            }
            AuditScope::Org(own)
        }
    };
    let rows = run(&state, move |st| admin::audit(st, scope, limit)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(AuditOut::from).collect::<Vec<_>>()))
}

// ---------- operator

async fn list_orgs(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    session(&req, &state, false).await?.operator()?;
    let list = run(&state, |st| {
        let mut out = Vec::new();
        for o in st.list_orgs()? {
            let x = st.org_extras(o.id)?;
            out.push(OrgListItem::of(&o, &x));
        }
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

async fn create_org(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let CreateOrgIn { slug, name } = object(body)?;
    let actor = s.actor();
    let item = run(&state, move |st| {
        let o = admin::create_org(st, &actor, &slug, &name)?;
        let x = st.org_extras(o.id)?;
        Ok(OrgListItem::of(&o, &x))
    })
    .await?;
    Ok(HttpResponse::Created().json(item))
}

async fn suspend_org(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let body: SuspendedIn = object(body)?;
    let (slug, suspended, actor) = (slug.into_inner(), body.suspended, s.actor());
    run(&state, move |st| {
        let org = admin::org_by_slug(st, &slug)?;
        admin::set_org_suspended(st, &actor, &org, suspended)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn org_admin_invite(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let (slug, actor, ttl) = (
        slug.into_inner(),
        s.actor(),
        state.settings.admin.invite_ttl_days,
    );
    let (invite, expires_at) = run(&state, move |st| {
        let org = admin::org_by_slug(st, &slug)?;
        admin::make_admin_invite(st, &actor, &org, ttl)
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

async fn branch_advisor_invite(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let (actor, ttl) = (s.actor(), state.settings.advisor.invite_ttl_days);
    let (invite, expires_at) = run(&state, move |st| {
        admin::make_advisor_invite(st, &actor, AdminRole::Operator, None, true, ttl)
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

/// The options of an advisor invite: an empty body is `{}`.
fn invite_options(body: &web::Bytes) -> ApiResult<AdvisorInviteIn> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(AdvisorInviteIn::default())
    } else {
        let v = serde_json::from_slice::<Strict>(body).map_err(|e| {
            if e.is_data() {
                ApiError::bad_request(ErrorCode::InvalidRequest, e.to_string())
            } else {
                ApiError::bad_request(ErrorCode::InvalidJson, "request body is not valid JSON")
            }
        })?;
        object_value(v.0)
    }
}

/// The operator invites an advisor of an organisation (internal, or with `external: true` an
/// external one); appointed by the branch organisation.
async fn operator_org_advisor_invite(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let opts = invite_options(&body)?;
    let (slug, actor, ttl) = (
        slug.into_inner(),
        s.actor(),
        state.settings.advisor.invite_ttl_days,
    );
    let (invite, expires_at) = run(&state, move |st| {
        let org = admin::org_by_slug(st, &slug)?;
        admin::make_advisor_invite(
            st,
            &actor,
            AdminRole::Operator,
            Some(org.id),
            opts.external,
            ttl,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

/// Mails (where notifications are on) the advisors told of an advisor event: content-free,
/// the same text as for case activity.
async fn tell_advisors(state: &State, org: Option<i64>, subject: Option<Id>) {
    if !state.notify.enabled() {
        return;
    }
    match run(state, move |st| Ok(st.event_recipients(org, subject)?)).await {
        Ok(ids) => state.notify.activity(&ids),
        Err(_) => tracing::warn!("advisor event: recipients not read, no mail"),
    }
}

/// Suspends or resumes an advisor as `scope` may, then tells the other advisors.
async fn suspend_advisor(
    state: &State,
    actor: Actor,
    id: Id,
    scope: Option<i64>,
    suspended: bool,
) -> ApiResult<()> {
    let changed = run(state, move |st| {
        let a = admin::managed_advisor(st, &id, scope)?;
        let before = st.advisor_suspended(&id)?;
        admin::set_advisor_suspended(st, &actor, &a, suspended)?;
        Ok((before != Some(suspended)).then_some(a.advisor.org_id))
    })
    .await?;
    if let Some(org) = changed {
        tell_advisors(state, org, Some(id)).await;
    }
    Ok(())
}

async fn branch_advisors(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    session(&req, &state, false).await?.operator()?;
    let list = run(&state, |st| Ok(st.advisor_statuses(None)?)).await?;
    let now = now_secs();
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|a| AdvisorStatusOut::of(a, now))
            .collect::<Vec<_>>(),
    ))
}

async fn suspend_branch_advisor(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let id: Id = parse_id(&id)?;
    let body: SuspendedIn = object(body)?;
    suspend_advisor(&state, s.actor(), id, None, body.suspended).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn instance(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    session(&req, &state, false).await?.operator()?;
    let require_totp = run(&state, |st| Ok(st.require_totp()?)).await?;
    Ok(HttpResponse::Ok().json(InstanceOut { require_totp }))
}

async fn set_instance(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let body: InstanceIn = object(body)?;
    let (on, actor) = (body.require_totp, s.actor());
    run(&state, move |st| admin::set_require_totp(st, &actor, on)).await?;
    Ok(HttpResponse::Ok().json(InstanceOut { require_totp: on }))
}

// ---------- organisation admin

async fn settings_of(state: &State, org_id: i64) -> ApiResult<OrgSettingsOut> {
    run(state, move |st| {
        let org = st
            .org_by_id(org_id)?
            .ok_or_else(|| AdminError::NotFound("no such organisation".into()))?;
        let x = st.org_extras(org_id)?;
        Ok(OrgSettingsOut::of(&org, &x))
    })
    .await
}

async fn org_settings(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let org = session(&req, &state, false).await?.org_admin()?;
    Ok(HttpResponse::Ok().json(settings_of(&state, org).await?))
}

async fn change_org(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org_id = s.org_admin()?;
    let b: OrgSettingsIn = object(body)?;
    let floor = state.settings.retention.org_admin_min_days;
    // Out-of-range values (0, over 3650) get the usual `bad_retention_days` below.
    if b.retention_days.is_some_and(|d| (1..floor).contains(&d)) {
        return Err(ApiError::bad_request(
            ErrorCode::RetentionBelowFloor,
            format!(
                "`retention_days` below {floor} can only be set by the operator \
                 (a case's deletion date is fixed when it is closed)"
            ),
        ));
    }
    let advisor_order = match b.advisor_order {
        Some(list) => {
            let mut ids = Vec::with_capacity(list.len());
            for v in &list {
                ids.push(parse_id(v).map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::BadAdvisorOrder,
                        "`advisor_order` holds advisor ids (base64url of 16 bytes)",
                    )
                })?);
            }
            Some(ids)
        }
        None => None,
    };
    let (intro_nl, intro_en) = b.intro.map_or((None, None), |t| (t.nl, t.en));
    let (conduct_nl, conduct_en) = b.code_of_conduct.map_or((None, None), |t| (t.nl, t.en));
    let change = OrgChange {
        name: b.name,
        slug: b.slug,
        intro_nl,
        intro_en,
        conduct_nl,
        conduct_en,
        categories: b.categories,
        retention_days: b.retention_days,
        languages: b.languages,
        advisor_order,
    };
    let actor = s.actor();
    let reordered = run(&state, move |st| {
        let org = st
            .org_by_id(org_id)?
            .ok_or_else(|| AdminError::NotFound("no such organisation".into()))?;
        let before = st.org_extras(org_id)?.advisor_order;
        admin::change_org(st, &actor, &org, change)?;
        Ok(st.org_extras(org_id)?.advisor_order != before)
    })
    .await?;
    if reordered {
        tell_advisors(&state, Some(org_id), None).await;
    }
    Ok(HttpResponse::Ok().json(settings_of(&state, org_id).await?))
}

/// Reads a raw body of at most `max` bytes.
async fn read_body(req: &HttpRequest, mut payload: web::Payload, max: usize) -> ApiResult<Vec<u8>> {
    let too_large = || ApiError::too_large(format!("at most {max} bytes"));
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::bad_request(ErrorCode::InvalidBody, "cannot read the request body"))?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn put_logo(
    req: HttpRequest,
    state: State,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // The media type first (415 before reading anything), then the size, then the bytes.
    admin::logo_media_type(&content_type)?;
    let bytes = read_body(&req, payload, admin::MAX_LOGO).await?;
    let actor = s.actor();
    run(&state, move |st| {
        admin::set_logo(st, &actor, org, &content_type, bytes)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_logo(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let actor = s.actor();
    run(&state, move |st| admin::delete_logo(st, &actor, org)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn org_advisors(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let org = session(&req, &state, false).await?.org_admin()?;
    let list = run(&state, move |st| {
        let x = st.org_extras(org)?;
        Ok(admin::order_advisors(
            st.advisor_statuses(Some(org))?,
            &x.advisor_order,
        ))
    })
    .await?;
    let now = now_secs();
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|a| AdvisorStatusOut::of(a, now))
            .collect::<Vec<_>>(),
    ))
}

async fn org_advisor_invite(
    req: HttpRequest,
    state: State,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let opts = invite_options(&body)?;
    let (actor, ttl) = (s.actor(), state.settings.advisor.invite_ttl_days);
    // An organisation admin invites internal advisors only (`external: true`: 403
    // `operator_only`).
    let (invite, expires_at) = run(&state, move |st| {
        admin::make_advisor_invite(
            st,
            &actor,
            AdminRole::OrgAdmin,
            Some(org),
            opts.external,
            ttl,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

async fn suspend_org_advisor(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let id: Id = parse_id(&id)?;
    let body: SuspendedIn = object(body)?;
    suspend_advisor(&state, s.actor(), id, Some(org), body.suspended).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The instance's base URL for links: `public_url`; else the scheme and `Host` of the request
/// itself. `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` are believed only from
/// `trusted_proxy` (any client can send them). Either way the scheme must be http or https and
/// the host a plain `host[:port]`, else 400 `bad_host` (set `public_url`).
fn base_url(req: &HttpRequest, state: &State) -> ApiResult<String> {
    if let Some(url) = &state.settings.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let proxy = state.settings.trusted_proxy;
    let from_proxy = proxy.is_some() && req.peer_addr().map(|a| a.ip()) == proxy;
    let (scheme, host) = if from_proxy {
        let info = req.connection_info();
        (info.scheme().to_ascii_lowercase(), info.host().to_owned())
    } else {
        let scheme = if state.settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (scheme.to_owned(), host)
    };
    if !matches!(scheme.as_str(), "http" | "https") || !valid_host_port(&host) {
        return Err(ApiError::bad_request(
            ErrorCode::BadHost,
            "cannot make the link from this request's scheme and host; set public_url",
        ));
    }
    Ok(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Whether `s` is `host` or `host:port`: a DNS name (letters, digits, `-`, dots), an IPv4
/// address or a bracketed IPv6 address; the port 1–65535 in digits.
fn valid_host_port(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(p) => ("", Some(p)),
                None => return false,
            },
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port
        && !(p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0))
    {
        return false;
    }
    if s.starts_with('[') {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

async fn org_link(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let org_id = session(&req, &state, false).await?.org_admin()?;
    let (org, advisors) = run(&state, move |st| {
        let org = st
            .org_by_id(org_id)?
            .ok_or_else(|| AdminError::NotFound("no such organisation".into()))?;
        let x = st.org_extras(org_id)?;
        Ok((org, admin::public_advisors(st, org_id, &x)?))
    })
    .await?;
    let mut pins = Vec::new();
    let mut listed = Vec::new();
    for a in &advisors {
        let Some(fp) = fingerprint(&a.advisor.identity_pk) else {
            continue;
        };
        pins.push(fp.to_pin());
        listed.push(LinkAdvisor {
            display_name: a.advisor.display_name.clone(),
            fingerprint: fp.to_display(),
            external: a.advisor.external,
        });
    }
    let path = format!("/o/{}", org.slug);
    let fragment = if pins.is_empty() {
        String::new()
    } else {
        format!("pin={}", pins.join(","))
    };
    let mut url = format!("{}{path}", base_url(&req, &state)?);
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(&fragment);
    }
    let qr_svg = adminauth::qr_svg(&url).map_err(|e| {
        tracing::error!(error = %e, "QR code failed");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok().json(LinkOut {
        url,
        path,
        fragment,
        advisors: listed,
        qr_svg,
    }))
}

// ---------- public

async fn public_logo(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Public, &req, &state.metrics)?;
    let slug = slug.into_inner();
    if slug.is_empty() || slug.len() > 64 {
        return Err(ApiError::not_found("no logo"));
    }
    let found = run(&state, move |st| {
        let org = match st.org_by_slug(&slug)? {
            Some(o) => o,
            None => match st.org_by_former_slug(&slug)? {
                Some(o) => o,
                None => return Ok(None),
            },
        };
        if st.org_extras(org.id)?.suspended {
            return Ok(Some(Err(())));
        }
        Ok(Some(Ok(st.org_logo(org.id)?)))
    })
    .await?;
    match found {
        None | Some(Ok(None)) => Err(ApiError::not_found("no logo")),
        Some(Err(())) => Err(org_suspended()),
        Some(Ok(Some((bytes, kind)))) => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, kind))
            .insert_header((header::CONTENT_DISPOSITION, "inline"))
            .body(bytes)),
    }
}
