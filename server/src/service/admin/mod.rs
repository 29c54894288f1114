//! Administration: what the operator and organisation admins do, shared by the HTTP admin API
//! (`http/admin.rs`) and the `meldpunt admin …` CLI, so both validate the same way and write the
//! same audit entries (the CLI as actor `cli`).
//!
//! Nothing here reads cases: every answer is configuration only, identical whether or not any
//! report was ever made. Each change is validated completely first and then written in one
//! transaction with its audit entries, so a refused request changes nothing.

mod accounts;
pub mod api;
pub mod auth;
mod types;
mod validate;

pub use accounts::*;
pub use types::*;
pub use validate::*;

use meldpunt_api::ErrorCode;
use std::io::Write;


use crate::service::wire::b64;
use crate::day::now_secs;
use crate::service::{normalise_invite, sha256};
use crate::store::admin::{
    AdminRole, OrgChange,
};
use crate::store::{
    AdvisorKeys, Appointer, Category, Id, InviteScope, OrgUpdate, Organisation, Store, StoreError,
};

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

pub use crate::service::orgs::{order_advisors, public_advisors};

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
