//! Validation of admin input: slugs, names, texts, categories, languages.

use meldpunt_api::ErrorCode;

use crate::service::admin::types::*;
use crate::store::Category;

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
pub(super) fn clean_text(
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

pub(super) fn check_name(name: &str) -> Result<String, AdminError> {
    let name = clean_text(ErrorCode::BadName, "name", name, MAX_NAME)?;
    if name.trim().is_empty() || name.contains('\n') || name.contains('\t') {
        return Err(invalid(
            ErrorCode::BadName,
            format!("`name`: 1 to {MAX_NAME} characters on one line"),
        ));
    }
    Ok(name.trim().to_owned())
}

pub(super) fn check_categories(list: &[Category]) -> Result<Vec<Category>, AdminError> {
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

pub(super) fn check_languages(list: &[String]) -> Result<Vec<String>, AdminError> {
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
pub(super) fn short(old: &str, new: &str) -> String {
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
