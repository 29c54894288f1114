//! Admin accounts (operators, organisation admins, invites, TOTP policy) and invite codes.

use meldpunt_api::ErrorCode;
use zeroize::Zeroizing;

use crate::day::now_secs;
use crate::service::admin::auth::{self, Passphrase};
use crate::service::admin::types::*;
use crate::service::ids::{normalise_invite, sha256};
use crate::store::admin::{AdminRole, AuditRow, AuditScope};
use crate::store::{
    Organisation, Store, StoreError,
};

pub(super) fn check_username(name: &str) -> Result<(), AdminError> {
    if auth::valid_username(name) {
        Ok(())
    } else {
        Err(invalid(
            ErrorCode::BadUsername,
            "a username is 3 to 64 of a-z, 0-9, '.', '_' and '-'",
        ))
    }
}

pub(super) fn strong(pass: &Passphrase, words: &[&str]) -> Result<Zeroizing<String>, AdminError> {
    auth::check_strength(pass.expose(), words).map_err(|e| invalid(ErrorCode::WeakPassphrase, e.0))?;
    auth::hash_passphrase(pass.expose())
        .map_err(|e| AdminError::Store(StoreError::Db(format!("argon2: {e}"))))
}

pub(super) fn username_taken(username: &str) -> impl Fn(StoreError) -> AdminError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => AdminError::Conflict {
            code: ErrorCode::UsernameTaken,
            message: format!("the username `{username}` is taken"),
        },
        e => e.into(),
    }
}

/// Creates an operator account (CLI only).
pub fn create_operator(
    store: &dyn Store,
    actor: &Actor,
    username: &str,
    passphrase: &Passphrase,
) -> Result<(), AdminError> {
    check_username(username)?;
    let hash = strong(passphrase, &[username])?;
    store
        .create_admin_account(
            username,
            AdminRole::Operator,
            None,
            &hash,
            actor.audit(
                None,
                "operator.create",
                format!("operator `{username}` created"),
            ),
        )
        .map_err(username_taken(username))?;
    Ok(())
}

/// Makes a one-time invite for an administrator of `org`; returns the code and its expiry.
pub fn make_admin_invite(
    store: &dyn Store,
    actor: &Actor,
    org: &Organisation,
    ttl_days: u32,
) -> Result<(String, i64), AdminError> {
    let code = make_invite_code();
    let expires = now_secs() + i64::from(ttl_days) * 86_400;
    store.create_admin_invite(
        sha256(normalise_invite(&code).as_bytes()),
        org.id,
        expires,
        actor.audit(
            Some(org.id),
            "org_admin.invite",
            "invite for an organisation admin",
        ),
    )?;
    Ok((code, expires))
}

/// Redeems an org-admin invite: a new account with `username` and `passphrase`. Returns the
/// organisation. The username and passphrase are checked before the invite is looked at.
pub fn accept_admin_invite(
    store: &dyn Store,
    invite: &str,
    username: &str,
    passphrase: &Passphrase,
) -> Result<Organisation, AdminError> {
    if invite.is_empty() || invite.len() > 128 {
        return Err(invalid(ErrorCode::BadInvite, "malformed invite code"));
    }
    check_username(username)?;
    let hash = strong(passphrase, &[username])?;
    let code_hash = sha256(normalise_invite(invite).as_bytes());
    let org_id = store
        .accept_admin_invite(code_hash, now_secs(), username, &hash)
        .map_err(|e| match e {
            StoreError::NotFound => AdminError::Forbidden {
                code: ErrorCode::BadInvite,
                message: "unknown, used or expired invite".into(),
            },
            e => username_taken(username)(e),
        })?;
    store
        .org_by_id(org_id)?
        .ok_or_else(|| AdminError::NotFound("no such organisation".into()))
}

/// Sets the instance's `require_totp`.
pub fn set_require_totp(store: &dyn Store, actor: &Actor, on: bool) -> Result<(), AdminError> {
    let detail = if on {
        "TOTP required for every admin"
    } else {
        "TOTP optional"
    };
    store.set_require_totp(on, actor.audit(None, "instance.require_totp", detail))?;
    Ok(())
}

/// Removes an admin's TOTP key and ends their sessions (a lost device). Their next login
/// needs only the passphrase; if the instance requires TOTP they must set it up again first.
pub fn reset_totp(store: &dyn Store, actor: &Actor, username: &str) -> Result<(), AdminError> {
    let account = store
        .admin_account(username)?
        .ok_or_else(|| AdminError::NotFound(format!("no admin login `{username}`")))?;
    store.reset_admin_totp(
        account.id,
        actor.audit(
            account.org_id,
            "account.totp_reset",
            format!("TOTP removed for {username}"),
        ),
    )?;
    Ok(())
}

/// The newest audit entries of `scope` (at most [`MAX_AUDIT`]).
pub fn audit(
    store: &dyn Store,
    scope: AuditScope,
    limit: u32,
) -> Result<Vec<AuditRow>, AdminError> {
    Ok(store.audit_log(scope, limit.clamp(1, MAX_AUDIT))?)
}

// ---------- invite codes

/// Crockford base32 alphabet.
pub(super) const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new invite code: 20 symbols (100 bits) in groups of 4.
#[must_use]
pub fn make_invite_code() -> String {
    let bytes = crate::service::ids::random32();
    let mut out = String::new();
    for (i, b) in bytes.iter().take(20).enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(
            ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'0'),
        ));
    }
    out
}
