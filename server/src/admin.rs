//! `meldpunt admin …`: instance administration on the database file, for the operator's shell
//! (no HTTP admin API yet). Creates organisations and one-time advisor invite codes.

use std::io::Write;

use crate::day::now_secs;
use crate::service::{normalise_invite, sha256};
use crate::store::{Category, InviteScope, OrgUpdate, Store, StoreError};

/// Admin errors.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Invalid input.
    #[error("{0}")]
    Invalid(String),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Output failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

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
        Err(AdminError::Invalid(format!(
            "slug `{slug}`: use 1 to 64 of a-z, 0-9 and '-', not at the start or end"
        )))
    }
}

/// Creates an organisation.
pub fn org_create(store: &dyn Store, slug: &str, name: &str) -> Result<(), AdminError> {
    check_slug(slug)?;
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(AdminError::Invalid("name: 1 to 200 characters".into()));
    }
    store.create_org(slug, name)?;
    let default_categories = vec![
        Category {
            id: "sexual-harassment".into(),
            nl: "Seksuele intimidatie".into(),
            en: "Sexual harassment".into(),
        },
        Category {
            id: "bullying".into(),
            nl: "Pesten".into(),
            en: "Bullying".into(),
        },
        Category {
            id: "discrimination".into(),
            nl: "Discriminatie".into(),
            en: "Discrimination".into(),
        },
        Category {
            id: "aggression".into(),
            nl: "Agressie en geweld".into(),
            en: "Aggression and violence".into(),
        },
        Category {
            id: "other".into(),
            nl: "Anders".into(),
            en: "Other".into(),
        },
    ];
    store.update_org(
        slug,
        &OrgUpdate {
            categories: Some(default_categories),
            ..OrgUpdate::default()
        },
    )?;
    writeln!(std::io::stdout(), "created organisation {slug}")?;
    Ok(())
}

/// Changes an organisation.
pub fn org_set(store: &dyn Store, slug: &str, update: &OrgUpdate) -> Result<(), AdminError> {
    if let Some(c) = &update.categories
        && (c.len() > 50 || c.iter().any(|c| c.id.is_empty() || c.id.len() > 64))
    {
        return Err(AdminError::Invalid(
            "categories: at most 50, each with an id of 1..=64 bytes".into(),
        ));
    }
    if update.retention_days.is_some_and(|d| d == 0 || d > 3650) {
        return Err(AdminError::Invalid("retention days: 1 to 3650".into()));
    }
    store.update_org(slug, update).map_err(|e| match e {
        StoreError::NotFound => AdminError::Invalid(format!("no organisation `{slug}`")),
        e => e.into(),
    })?;
    writeln!(std::io::stdout(), "updated organisation {slug}")?;
    Ok(())
}

/// Lists organisations.
pub fn org_list(store: &dyn Store) -> Result<(), AdminError> {
    let mut out = std::io::stdout();
    for o in store.list_orgs()? {
        writeln!(out, "{}\t{}", o.slug, o.name)?;
    }
    Ok(())
}

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

/// Makes an invite for an advisor of `org` (or branch-wide when `None`) and returns the code.
pub fn advisor_invite(
    store: &dyn Store,
    org: Option<&str>,
    external: bool,
    ttl_days: u32,
) -> Result<String, AdminError> {
    let org_id = match org {
        Some(slug) => Some(
            store
                .org_by_slug(slug)?
                .ok_or_else(|| AdminError::Invalid(format!("no organisation `{slug}`")))?
                .id,
        ),
        None => None,
    };
    let code = make_invite_code();
    let expires = now_secs() + i64::from(ttl_days) * 86_400;
    store.create_invite(
        sha256(normalise_invite(&code).as_bytes()),
        InviteScope {
            org_id,
            external: external || org_id.is_none(),
        },
        expires,
    )?;
    Ok(code)
}
