//! Administration: what the operator and organisation admins do, shared by the HTTP admin API
//! (`http/admin.rs`) and the `meldpunt admin …` CLI, so both validate the same way and write the
//! same audit entries (the CLI as actor `cli`).
//!
//! Nothing here reads cases: every answer is configuration only, identical whether or not any
//! report was ever made. Each change is validated completely first and then written in one
//! transaction with its audit entries, so a refused request changes nothing.

use meldpunt_api::ErrorCode;
use std::io::Write;

use zeroize::Zeroizing;

use crate::adminauth::{self, Passphrase};
use crate::api::b64;
use crate::day::now_secs;
use crate::service::{normalise_invite, sha256};
use crate::store::admin::{
    AdminRole, AdvisorStatus, AuditRow, AuditScope, NewAudit, OrgChange, OrgExtras,
};
use crate::store::{
    AdvisorKeys, Appointer, Category, Id, InviteScope, OrgUpdate, Organisation, Store, StoreError,
};

/// Most characters of an organisation's name.
pub const MAX_NAME: usize = 200;
/// Most characters of an introduction text (per language).
pub const MAX_INTRO: usize = 10_000;
/// Most characters of a code of conduct (per language).
pub const MAX_CONDUCT: usize = 20_000;
/// Most categories.
pub const MAX_CATEGORIES: usize = 50;
/// Most characters of a category label.
pub const MAX_CATEGORY_LABEL: usize = 100;
/// Retention of closed cases, days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;
/// Languages the reporting pages exist in.
pub const LANGUAGES: [&str; 2] = ["nl", "en"];
/// Largest logo, bytes.
pub const MAX_LOGO: usize = 256 * 1024;
/// Most audit entries per request.
pub const MAX_AUDIT: u32 = 500;

/// Admin errors. Each maps to one HTTP status and a stable code (see [`AdminError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Invalid input (400), with a field-specific code such as `bad_slug`.
    #[error("{message}")]
    Invalid {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
    /// Unknown, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// Not allowed (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
    /// Conflicts with the current state (409), e.g. `slug_taken`.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Output failure (CLI).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn invalid(code: ErrorCode, message: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        code,
        message: message.into(),
    }
}

/// Who makes a change, as the audit log names them: `cli` or a username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The operator's shell.
    #[must_use]
    pub fn cli() -> Self {
        Actor("cli".into())
    }
    fn audit(&self, org_id: Option<i64>, action: &str, detail: impl Into<String>) -> NewAudit {
        NewAudit {
            actor: self.0.clone(),
            org_id,
            action: action.into(),
            detail: detail.into(),
        }
    }
}

// ---------- validation

/// Checks a slug: 1..=64 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
pub fn check_slug(slug: &str) -> Result<(), AdminError> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            ErrorCode::BadSlug,
            format!(
                "slug `{}`: use 1 to 64 of a-z, 0-9 and '-', not at the start or end",
                slug.chars().take(80).collect::<String>()
            ),
        ))
    }
}

/// A text field: `\r\n` becomes `\n`; at most `max` characters; no control characters other
/// than newline and tab.
fn clean_text(
    code: ErrorCode,
    field: &str,
    value: &str,
    max: usize,
) -> Result<String, AdminError> {
    let value = value.replace("\r\n", "\n");
    if value.chars().count() > max {
        return Err(invalid(
            code,
            format!("`{field}` is longer than {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            code,
            format!("`{field}` contains control characters"),
        ));
    }
    Ok(value)
}

fn check_name(name: &str) -> Result<String, AdminError> {
    let name = clean_text(ErrorCode::BadName, "name", name, MAX_NAME)?;
    if name.trim().is_empty() || name.contains('\n') || name.contains('\t') {
        return Err(invalid(
            ErrorCode::BadName,
            format!("`name`: 1 to {MAX_NAME} characters on one line"),
        ));
    }
    Ok(name.trim().to_owned())
}

fn check_categories(list: &[Category]) -> Result<Vec<Category>, AdminError> {
    if list.len() > MAX_CATEGORIES {
        return Err(invalid(
            ErrorCode::BadCategories,
            format!("at most {MAX_CATEGORIES} categories"),
        ));
    }
    let mut out: Vec<Category> = Vec::with_capacity(list.len());
    for c in list {
        let id_ok = !c.id.is_empty()
            && c.id.len() <= 64
            && c.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(invalid(
                ErrorCode::BadCategories,
                "each category `id` is 1 to 64 of a-z, 0-9 and '-'",
            ));
        }
        if out.iter().any(|o| o.id == c.id) {
            return Err(invalid(
                ErrorCode::BadCategories,
                format!("category `{}` is listed twice", c.id),
            ));
        }
        let mut labels = [String::new(), String::new()];
        for (slot, (lang, label)) in labels.iter_mut().zip([("nl", &c.nl), ("en", &c.en)]) {
            let l = clean_text(
                ErrorCode::BadCategories,
                &format!("categories.{lang}"),
                label,
                MAX_CATEGORY_LABEL,
            )?;
            if l.trim().is_empty() || l.contains('\n') {
                return Err(invalid(
                    ErrorCode::BadCategories,
                    format!(
                        "each category needs a one-line `{lang}` label of 1 to {MAX_CATEGORY_LABEL} characters"
                    ),
                ));
            }
            *slot = l.trim().to_owned();
        }
        let [nl, en] = labels;
        out.push(Category {
            id: c.id.clone(),
            nl,
            en,
        });
    }
    Ok(out)
}

fn check_languages(list: &[String]) -> Result<Vec<String>, AdminError> {
    let mut out: Vec<String> = Vec::new();
    for l in list {
        if !LANGUAGES.contains(&l.as_str()) {
            return Err(invalid(ErrorCode::BadLanguages, "languages: `nl` and/or `en`"));
        }
        if out.contains(l) {
            return Err(invalid(ErrorCode::BadLanguages, "a language is listed twice"));
        }
        out.push(l.clone());
    }
    if out.is_empty() {
        return Err(invalid(ErrorCode::BadLanguages, "at least one language"));
    }
    Ok(out)
}

/// Default report categories of a new organisation.
#[must_use]
pub fn default_categories() -> Vec<Category> {
    [
        (
            "sexual-harassment",
            "Seksuele intimidatie",
            "Sexual harassment",
        ),
        ("bullying", "Pesten", "Bullying"),
        ("discrimination", "Discriminatie", "Discrimination"),
        (
            "aggression",
            "Agressie en geweld",
            "Aggression and violence",
        ),
        ("other", "Anders", "Other"),
    ]
    .into_iter()
    .map(|(id, nl, en)| Category {
        id: id.into(),
        nl: nl.into(),
        en: en.into(),
    })
    .collect()
}

/// A short value for the audit log, or how it changed when it is long.
fn short(old: &str, new: &str) -> String {
    let fits = |s: &str| s.chars().count() <= 60 && !s.contains('\n');
    if fits(old) && fits(new) {
        format!("{old:?} → {new:?}")
    } else {
        format!(
            "changed ({} → {} characters)",
            old.chars().count(),
            new.chars().count()
        )
    }
}

// ---------- organisations

/// An organisation by slug, or 404.
pub fn org_by_slug(store: &dyn Store, slug: &str) -> Result<Organisation, AdminError> {
    if slug.is_empty() || slug.len() > 64 {
        return Err(AdminError::NotFound("no such organisation".into()));
    }
    store
        .org_by_slug(slug)?
        .ok_or_else(|| AdminError::NotFound(format!("no organisation `{slug}`")))
}

/// Creates an organisation with the default categories.
pub fn create_org(
    store: &dyn Store,
    actor: &Actor,
    slug: &str,
    name: &str,
) -> Result<Organisation, AdminError> {
    check_slug(slug)?;
    let name = check_name(name)?;
    store
        .create_org_audited(
            slug,
            &name,
            &default_categories(),
            actor.audit(
                None,
                "org.create",
                format!("organisation {slug:?} ({name:?}) created"),
            ),
        )
        .map_err(|e| match e {
            StoreError::Conflict(_) => AdminError::Conflict {
                code: ErrorCode::SlugTaken,
                message: format!("the slug `{slug}` is taken"),
            },
            e => e.into(),
        })?;
    org_by_slug(store, slug)
}

/// Validates `change` against `org` and writes it with one audit entry per changed setting.
/// Returns whether anything changed.
pub fn change_org(
    store: &dyn Store,
    actor: &Actor,
    org: &Organisation,
    change: OrgChange,
) -> Result<bool, AdminError> {
    let extras = store.org_extras(org.id)?;
    let mut c = OrgChange::default();
    let mut audit = Vec::new();
    let mut note =
        |action: &str, detail: String| audit.push(actor.audit(Some(org.id), action, detail));
    if let Some(name) = change.name {
        let name = check_name(&name)?;
        if name != org.name {
            note("org.update", format!("name: {}", short(&org.name, &name)));
            c.name = Some(name);
        }
    }
    if let Some(slug) = change.slug {
        check_slug(&slug)?;
        if slug != org.slug {
            note("org.update", format!("slug: {}", short(&org.slug, &slug)));
            c.slug = Some(slug);
        }
    }
    for (field, code, max, value, old, slot) in [
        (
            "intro.nl",
            ErrorCode::BadIntro,
            MAX_INTRO,
            change.intro_nl,
            &org.intro_nl,
            &mut c.intro_nl,
        ),
        (
            "intro.en",
            ErrorCode::BadIntro,
            MAX_INTRO,
            change.intro_en,
            &org.intro_en,
            &mut c.intro_en,
        ),
        (
            "code_of_conduct.nl",
            ErrorCode::BadCodeOfConduct,
            MAX_CONDUCT,
            change.conduct_nl,
            &org.conduct_nl,
            &mut c.conduct_nl,
        ),
        (
            "code_of_conduct.en",
            ErrorCode::BadCodeOfConduct,
            MAX_CONDUCT,
            change.conduct_en,
            &org.conduct_en,
            &mut c.conduct_en,
        ),
    ] {
        if let Some(v) = value {
            let v = clean_text(code, field, &v, max)?;
            if &v != old {
                note("org.update", format!("{field}: {}", short(old, &v)));
                *slot = Some(v);
            }
        }
    }
    if let Some(list) = change.categories {
        let list = check_categories(&list)?;
        if list != org.categories {
            let ids = |l: &[Category]| {
                l.iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            note(
                "org.update",
                format!(
                    "categories: {} → {} ({})",
                    org.categories.len(),
                    list.len(),
                    ids(&list).chars().take(200).collect::<String>()
                ),
            );
            c.categories = Some(list);
        }
    }
    if let Some(days) = change.retention_days {
        if !RETENTION_DAYS.contains(&days) {
            return Err(invalid(
                ErrorCode::BadRetentionDays,
                format!(
                    "`retention_days`: {} to {}",
                    RETENTION_DAYS.start(),
                    RETENTION_DAYS.end()
                ),
            ));
        }
        if days != org.retention_days {
            note(
                "org.update",
                format!("retention_days: {} → {days}", org.retention_days),
            );
            c.retention_days = Some(days);
        }
    }
    if let Some(langs) = change.languages {
        let langs = check_languages(&langs)?;
        if langs != org.languages {
            note(
                "org.update",
                format!(
                    "languages: {} → {}",
                    org.languages.join(","),
                    langs.join(",")
                ),
            );
            c.languages = Some(langs);
        }
    }
    if let Some(order) = change.advisor_order {
        let known: Vec<Id> = store
            .advisor_statuses(Some(org.id))?
            .iter()
            .map(|a| a.keys.advisor.id)
            .collect();
        if order.len() > known.len() {
            return Err(invalid(
                ErrorCode::BadAdvisorOrder,
                "`advisor_order` lists more advisors than there are",
            ));
        }
        for (i, id) in order.iter().enumerate() {
            if !known.contains(id) {
                return Err(invalid(
                    ErrorCode::BadAdvisorOrder,
                    "`advisor_order` names an advisor who is not an advisor of this organisation",
                ));
            }
            if order.iter().skip(i + 1).any(|o| o == id) {
                return Err(invalid(
                    ErrorCode::BadAdvisorOrder,
                    "`advisor_order` lists an advisor twice",
                ));
            }
        }
        if order != extras.advisor_order {
            note(
                "org.update",
                format!("advisor_order: {} advisors", order.len()),
            );
            c.advisor_order = Some(order);
        }
    }
    if c.is_empty() {
        return Ok(false);
    }
    let new_slug = c.slug.clone();
    store.change_org(org.id, &c, audit).map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Conflict {
            code: ErrorCode::SlugTaken,
            message: format!("the slug `{}` is taken", new_slug.unwrap_or_default()),
        },
        e => e.into(),
    })?;
    Ok(true)
}

/// Suspends or resumes an organisation.
pub fn set_org_suspended(
    store: &dyn Store,
    actor: &Actor,
    org: &Organisation,
    suspended: bool,
) -> Result<(), AdminError> {
    let (action, what) = if suspended {
        ("org.suspend", "suspended")
    } else {
        ("org.resume", "resumed")
    };
    store.set_org_suspended(
        org.id,
        suspended,
        actor.audit(
            Some(org.id),
            action,
            format!("organisation {:?} {what}", org.slug),
        ),
    )?;
    Ok(())
}

/// Checks a logo upload (media type, size and magic bytes; no SVG) and stores it.
pub fn set_logo(
    store: &dyn Store,
    actor: &Actor,
    org_id: i64,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<(), AdminError> {
    let kind = logo_type(content_type, &bytes)?;
    let detail = format!("logo set ({kind}, {} bytes)", bytes.len());
    store.set_org_logo(
        org_id,
        Some((bytes, kind.to_owned())),
        actor.audit(Some(org_id), "org.logo", detail),
    )?;
    Ok(())
}

/// The media type of a logo upload from its `Content-Type`: PNG or JPEG only.
pub fn logo_media_type(content_type: &str) -> Result<&'static str, AdminError> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "image/png" => Ok("image/png"),
        "image/jpeg" => Ok("image/jpeg"),
        _ => Err(AdminError::Invalid {
            code: ErrorCode::UnsupportedMediaType,
            message: "a logo is image/png or image/jpeg (no SVG)".into(),
        }),
    }
}

/// The media type of a logo upload, after checking it (type, size, magic bytes).
pub fn logo_type(content_type: &str, bytes: &[u8]) -> Result<&'static str, AdminError> {
    let kind = logo_media_type(content_type)?;
    if bytes.is_empty() {
        return Err(invalid(ErrorCode::BadLogo, "the logo is empty"));
    }
    if bytes.len() > MAX_LOGO {
        return Err(invalid(
            ErrorCode::TooLarge,
            format!("a logo is at most {MAX_LOGO} bytes"),
        ));
    }
    let magic_ok = match kind {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
    };
    if !magic_ok {
        return Err(invalid(
            ErrorCode::BadLogo,
            format!("the file is not a {kind} image"),
        ));
    }
    Ok(kind)
}

/// Removes the logo.
pub fn delete_logo(store: &dyn Store, actor: &Actor, org_id: i64) -> Result<(), AdminError> {
    store.set_org_logo(
        org_id,
        None,
        actor.audit(Some(org_id), "org.logo", "logo removed"),
    )?;
    Ok(())
}

// ---------- advisors

/// The advisors a reporter of `org` is offered, in the organisation's order: its own and the
/// branch-wide ones, without suspended advisors. Those named in `advisor_order` come first,
/// in that order; the rest keep the default order (own, then branch-wide, by name).
pub fn public_advisors(
    store: &dyn Store,
    org_id: i64,
    extras: &OrgExtras,
) -> Result<Vec<AdvisorKeys>, StoreError> {
    let all = store.advisor_statuses(Some(org_id))?;
    Ok(order_advisors(all, &extras.advisor_order)
        .into_iter()
        .filter(|a| !a.suspended)
        .map(|a| a.keys)
        .collect())
}

/// `all` in the order of `order` first, the rest after in their given order.
#[must_use]
pub fn order_advisors(mut all: Vec<AdvisorStatus>, order: &[Id]) -> Vec<AdvisorStatus> {
    let mut out = Vec::with_capacity(all.len());
    for id in order {
        if let Some(pos) = all.iter().position(|a| &a.keys.advisor.id == id) {
            out.push(all.remove(pos));
        }
    }
    out.append(&mut all);
    out
}

/// An advisor by id, as `scope` may manage it: `Some(org)` an advisor of that organisation
/// (branch-wide advisors: 403), `None` a branch-wide advisor. Anything else: 404.
pub fn managed_advisor(
    store: &dyn Store,
    id: &Id,
    scope: Option<i64>,
) -> Result<AdvisorKeys, AdminError> {
    let not_found = || AdminError::NotFound("no such advisor".into());
    let a = store.advisor(id)?.ok_or_else(not_found)?;
    match (scope, a.advisor.org_id) {
        (None, None) => Ok(a),
        (Some(org), Some(own)) if org == own => Ok(a),
        (Some(_), None) => Err(AdminError::Forbidden {
            code: ErrorCode::Forbidden,
            message: "branch-wide advisors are suspended by the operator".into(),
        }),
        _ => Err(not_found()),
    }
}

/// Suspends or resumes an advisor (`scope` as in [`managed_advisor`]; the CLI passes the
/// advisor's own scope).
pub fn set_advisor_suspended(
    store: &dyn Store,
    actor: &Actor,
    advisor: &AdvisorKeys,
    suspended: bool,
) -> Result<(), AdminError> {
    let (action, what) = if suspended {
        ("advisor.suspend", "suspended")
    } else {
        ("advisor.resume", "resumed")
    };
    let a = &advisor.advisor;
    store.set_advisor_suspended(
        &a.id,
        suspended,
        actor.audit(
            a.org_id,
            action,
            format!("advisor {:?} ({}) {what}", a.display_name, b64(&a.id)),
        ),
    )?;
    Ok(())
}

/// Makes an advisor invite for `org_id` (branch-wide when `None`); returns the code and its
/// expiry. The code is what `meldpunt advisor init` and `POST /api/v1/advisor/register` take.
///
/// Who appoints is an authority: `by` is the role of whoever makes the invite, and becomes the
/// advisor's `appointed_by` (the operator appoints as the branch organisation). Only the
/// operator may invite an external or a branch-wide advisor: an organisation admin who asks
/// for one gets 403 `operator_only`, and nothing is written.
pub fn make_advisor_invite(
    store: &dyn Store,
    actor: &Actor,
    by: AdminRole,
    org_id: Option<i64>,
    external: bool,
    ttl_days: u32,
) -> Result<(String, i64), AdminError> {
    if by == AdminRole::OrgAdmin && (external || org_id.is_none()) {
        return Err(operator_only());
    }
    let code = make_invite_code();
    let expires = now_secs() + i64::from(ttl_days) * 86_400;
    let external = external || org_id.is_none();
    let appointed_by = match by {
        AdminRole::Operator => Appointer::Branch,
        AdminRole::OrgAdmin => Appointer::Organisation,
    };
    let detail = match (org_id, external) {
        (None, _) => "invite for a branch-wide advisor".to_owned(),
        (Some(_), true) => "invite for an external advisor".to_owned(),
        (Some(_), false) => "invite for an advisor".to_owned(),
    };
    store.create_advisor_invite_audited(
        sha256(normalise_invite(&code).as_bytes()),
        InviteScope {
            org_id,
            external,
            appointed_by,
        },
        expires,
        actor.audit(
            org_id,
            "advisor.invite",
            format!("{detail} (appointed by {})", appointed_by.as_str()),
        ),
    )?;
    Ok((code, expires))
}

/// 403 `operator_only`: only the operator (branch organisation) may do this.
#[must_use]
pub fn operator_only() -> AdminError {
    AdminError::Forbidden {
        code: ErrorCode::OperatorOnly,
        message: "only the operator (branch organisation) may invite or mark an external or branch-wide advisor; an organisation admin invites internal advisors only".into(),
    }
}

// ---------- accounts

fn check_username(name: &str) -> Result<(), AdminError> {
    if adminauth::valid_username(name) {
        Ok(())
    } else {
        Err(invalid(
            ErrorCode::BadUsername,
            "a username is 3 to 64 of a-z, 0-9, '.', '_' and '-'",
        ))
    }
}

fn strong(pass: &Passphrase, words: &[&str]) -> Result<Zeroizing<String>, AdminError> {
    adminauth::check_strength(pass.expose(), words).map_err(|e| invalid(ErrorCode::WeakPassphrase, e.0))?;
    adminauth::hash_passphrase(pass.expose())
        .map_err(|e| AdminError::Store(StoreError::Db(format!("argon2: {e}"))))
}

fn username_taken(username: &str) -> impl Fn(StoreError) -> AdminError + '_ {
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
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new invite code: 20 symbols (100 bits) in groups of 4.
#[must_use]
pub fn make_invite_code() -> String {
    let bytes = crate::service::random32();
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

// ---------- the CLI's original entry points (kept for `demo` and scripts)

/// Creates an organisation (actor `cli`) and says so on standard output.
pub fn org_create(store: &dyn Store, slug: &str, name: &str) -> Result<(), AdminError> {
    create_org(store, &Actor::cli(), slug, name)?;
    writeln!(std::io::stdout(), "created organisation {slug}")?;
    Ok(())
}

/// Changes an organisation (actor `cli`) and says so on standard output.
pub fn org_set(store: &dyn Store, slug: &str, update: &OrgUpdate) -> Result<(), AdminError> {
    let org = org_by_slug(store, slug)?;
    let u = update.clone();
    change_org(
        store,
        &Actor::cli(),
        &org,
        OrgChange {
            name: u.name,
            intro_nl: u.intro_nl,
            intro_en: u.intro_en,
            conduct_nl: u.conduct_nl,
            conduct_en: u.conduct_en,
            categories: u.categories,
            retention_days: u.retention_days,
            languages: u.languages,
            ..OrgChange::default()
        },
    )?;
    writeln!(std::io::stdout(), "updated organisation {slug}")?;
    Ok(())
}

/// Lists organisations on standard output (`slug<TAB>name`, then `<TAB>suspended` if so).
pub fn org_list(store: &dyn Store) -> Result<(), AdminError> {
    let mut out = std::io::stdout();
    for o in store.list_orgs()? {
        let extras = store.org_extras(o.id)?;
        let mark = if extras.suspended { "\tsuspended" } else { "" };
        writeln!(out, "{}\t{}{mark}", o.slug, o.name)?;
    }
    Ok(())
}

/// Makes an advisor invite (actor `cli`) for the organisation `org` (branch-wide when `None`)
/// and returns the code. The CLI is the operator's: its invites appoint as the branch
/// organisation.
pub fn advisor_invite(
    store: &dyn Store,
    org: Option<&str>,
    external: bool,
    ttl_days: u32,
) -> Result<String, AdminError> {
    advisor_invite_by(store, AdminRole::Operator, org, external, ttl_days)
}

/// [`advisor_invite`] made as `by` (the demo seeds an organisation's own advisor as its
/// admin would).
pub fn advisor_invite_by(
    store: &dyn Store,
    by: AdminRole,
    org: Option<&str>,
    external: bool,
    ttl_days: u32,
) -> Result<String, AdminError> {
    let org_id = match org {
        Some(slug) => Some(org_by_slug(store, slug)?.id),
        None => None,
    };
    make_advisor_invite(store, &Actor::cli(), by, org_id, external, ttl_days).map(|(code, _)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logo_checks() {
        let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
        assert_eq!(logo_type("image/png", &png).unwrap(), "image/png");
        assert!(logo_type("image/jpeg", &png).is_err());
        assert!(logo_type("image/svg+xml", b"<svg/>").is_err());
        assert_eq!(
            logo_type("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
            "image/jpeg"
        );
        assert!(logo_type("image/png", &vec![0u8; MAX_LOGO + 1]).is_err());
    }

    #[test]
    fn categories_checked() {
        let c = |id: &str, nl: &str| Category {
            id: id.into(),
            nl: nl.into(),
            en: "x".into(),
        };
        assert!(check_categories(&[c("a", "A")]).is_ok());
        assert!(check_categories(&[c("A", "A")]).is_err());
        assert!(check_categories(&[c("a", "")]).is_err());
        assert!(check_categories(&[c("a", "A"), c("a", "B")]).is_err());
        assert!(check_categories(&[c("a", &"x".repeat(101))]).is_err());
    }

    #[test]
    fn audit_values() {
        assert_eq!(short("a", "b"), "\"a\" → \"b\"");
        assert_eq!(short("a", &"x".repeat(70)), "changed (1 → 70 characters)");
    }
}
