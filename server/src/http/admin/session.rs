//! Admin logins and sessions: login, logout, TOTP, passphrase, invites, the audit log.

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use zeroize::Zeroizing;

use crate::http::client_addr::client_addr;
use crate::service::admin::{self, Actor, AdminError};
use crate::service::admin::api::{
    AcceptInviteIn, AcceptOut, AuditOut, AuditQuery, LoginIn, LoginOut,
    MeOut, PassphraseIn, TotpConfirmIn,
    TotpSetupIn,
    TotpSetupOut,
};
use crate::service::admin::auth;
use crate::day::now_secs;
use crate::http::error::{ApiError, ApiResult};
use crate::service::limits::Class;
use crate::store::admin::{AdminAccount, AdminRole, AuditScope, NewAudit};
use crate::store::Organisation;

use crate::http::admin::common::*;

/// A checked administrator session.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) account: AdminAccount,
    pub(super) token_hash: [u8; 32],
    pub(super) require_totp: bool,
    pub(super) expires_at: i64,
}

impl Session {
    pub(super) fn actor(&self) -> Actor {
        Actor(self.account.username.clone())
    }
    pub(super) fn must_enable_totp(&self) -> bool {
        self.require_totp && self.account.totp_secret.is_none()
    }
    pub(super) fn operator(&self) -> ApiResult<()> {
        if self.account.role == AdminRole::Operator {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the instance operator may do this",
            ))
        }
    }
    pub(super) fn org_admin(&self) -> ApiResult<i64> {
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
pub(super) async fn session(req: &HttpRequest, state: &State, setup_only: bool) -> ApiResult<Session> {
    state.limits.check(Class::Advisor, client_addr(req, &state.limits), &state.metrics)?;
    let hash = crate::http::handlers::credential(req, "Bearer")
        .and_then(auth::session_token_hash)
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

pub(super) async fn org_slug(state: &State, org_id: Option<i64>) -> ApiResult<Option<String>> {
    match org_id {
        Some(id) => Ok(run(state, move |s| Ok(s.org_by_id(id)?))
            .await?
            .map(|o| o.slug)),
        None => Ok(None),
    }
}

pub(super) async fn login(req: HttpRequest, state: State, body: web::Json<Strict>) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Login, client_addr(&req, &state.limits), &state.metrics)?;
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
        Ok(if auth::valid_username(&name) {
            s.admin_account(&name)?
        } else {
            None
        })
    })
    .await?;
    // An unknown username is checked against a dummy hash: same time, same answer.
    let hash: Zeroizing<String> = account.as_ref().map_or_else(
        || Zeroizing::new(auth::dummy_hash().to_owned()),
        |a| a.passphrase_hash.clone(),
    );
    let ok = argon(&state, move || {
        auth::verify_passphrase(passphrase.expose(), &hash)
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
            match auth::totp_check(key, code.expose(), now_secs(), account.totp_last_step) {
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
    let (token, token_hash) = auth::new_session_token();
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

pub(super) async fn logout(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, true).await?;
    let hash = s.token_hash;
    run(&state, move |st| Ok(st.delete_admin_session(&hash)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn me(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
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

pub(super) async fn totp_setup(
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
        auth::verify_passphrase(passphrase.expose(), &hash)
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
        let used = match auth::totp_check(
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
    let key = auth::new_totp_key();
    let setup = auth::totp_setup(&key, &s.account.username).map_err(|e| {
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

pub(super) async fn totp_confirm(
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
    let step = auth::totp_check(
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

pub(super) async fn change_passphrase(
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
        auth::verify_passphrase(old.expose(), &hash)
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
        auth::check_strength(new.expose(), &[&name, &org]).map_err(|e| {
            AdminError::Invalid {
                code: ErrorCode::WeakPassphrase,
                message: e.0,
            }
        })?;
        auth::hash_passphrase(new.expose())
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

pub(super) async fn accept_invite(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Login, client_addr(&req, &state.limits), &state.metrics)?;
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

pub(super) async fn audit(
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
