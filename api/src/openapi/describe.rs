//! Texts of the schemas that the field documentation of the wire types does not say the way
//! the API reference does (kept from the hand-written document), and the two views of a case.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{OpenApi, RefOr};

/// `(schema, property, description)`; an empty property describes the schema itself, and
/// `a.b` is property `b` of the inline object `a`.
const DESCRIPTIONS: &[(&str, &str, &str)] = &[
    ("Advisor", "photo", "data: URL"),
    ("Advisor", "fingerprint", "protocol §1.2 display form"),
    (
        "Advisor",
        "bundles",
        "currently valid signed key bundles (§1.3)",
    ),
    ("Advisor", "revocations", "revocation statements (§1.4)"),
    ("Advisor", "appointed_by", APPOINTED_BY),
    ("Advisor", "appointed_since", APPOINTED_SINCE),
    (
        "OrgPage",
        "has_logo",
        "a logo is at /api/v1/orgs/{slug}/logo",
    ),
    (
        "OrgPage",
        "intro_html",
        "intro rendered from Markdown to sanitised HTML (no raw HTML, images, scripts or event handlers; links get rel=\"noopener noreferrer nofollow\")",
    ),
    (
        "OrgPage",
        "code_of_conduct_html",
        "code of conduct as sanitised HTML",
    ),
    (
        "CreateCase",
        "token_hash",
        "SHA256(\"meldpunt/v1/case-token-hash\" || case_token), 32 bytes",
    ),
    (
        "CreateCase",
        "envelope",
        "report envelope (purpose 0x01), at most limits.message_bytes",
    ),
    (
        "Message",
        "stanzas",
        "the caller's detached stanzas (advisors only)",
    ),
    ("Register", "profile.photo", "at most 64 KiB"),
    (
        "Login",
        "signature",
        "Ed25519 over \"meldpunt/v1/login\" || 0x00 || challenge (§1.5)",
    ),
    (
        "Share",
        "",
        "Stored stanzas are only ever added: a later share never removes or replaces one; an identical one is ignored. Sharing with an advisor already on the case is allowed.",
    ),
    (
        "Share",
        "stanzas.message",
        "seq; exactly one of message/attachment",
    ),
    ("Share", "stanzas.stanza", "96-byte detached stanza (§3.6)"),
    (
        "Share",
        "envelope",
        "the signed and sealed membership statement (protocol §10.1, op add; purpose message, the case's org), appended as an advisor message in the same transaction",
    ),
    ("AdvisorStatus", "appointed_since", APPOINTED_SINCE),
    (
        "Remove",
        "advisor",
        "the advisor to remove; may be the caller (leaving the case)",
    ),
    (
        "Remove",
        "envelope",
        "the signed and sealed membership statement (protocol §10.1, op remove), appended as an advisor message in the same transaction",
    ),
    (
        "AdvisorEvent",
        "",
        "Something that happened to an advisor of the caller's organisation or to a branch-wide advisor (never to the caller). Day granularity only.",
    ),
    (
        "AdvisorEvent",
        "advisor",
        "the advisor it is about; null for reordered",
    ),
    (
        "AdvisorEvent",
        "display_name",
        "the advisor's name at the time; for reordered the advisor now shown first (empty if none)",
    ),
    (
        "AdvisorEvent",
        "org",
        "the organisation's slug; null when the advisor is branch-wide",
    ),
    ("AdvisorEvent", "appointed_by", "who appointed that advisor"),
    (
        "AdvisorCaseView",
        "",
        "A case as an advisor on it sees it: with its id, the deadlines and the caller's detached stanzas.",
    ),
    (
        "ReporterCaseView",
        "",
        "The reporter's view of the case: no id and no deadlines; messages and attachments carry no stanzas.",
    ),
];

const APPOINTED_BY: &str = "who appointed the advisor: the role of whoever made the invite the advisor registered with; `branch` = the branch organisation (the instance operator). Only the operator invites external or branch-wide advisors.";
const APPOINTED_SINCE: &str = "the day the advisor was appointed (registered), YYYY-MM-DD (UTC)";

/// Sets `text` as the description of a schema or property, whatever its shape.
fn describe(schema: &mut RefOr<Schema>, text: &str) {
    match schema {
        RefOr::Ref(r) => r.description = text.to_owned(),
        RefOr::T(Schema::Object(o)) => o.description = Some(text.to_owned()),
        RefOr::T(Schema::Array(a)) => a.description = Some(text.to_owned()),
        RefOr::T(Schema::OneOf(o)) => o.description = Some(text.to_owned()),
        RefOr::T(Schema::AllOf(o)) => o.description = Some(text.to_owned()),
        RefOr::T(Schema::AnyOf(o)) => o.description = Some(text.to_owned()),
        RefOr::T(_) => {}
    }
}

fn properties_mut(schema: &mut RefOr<Schema>) -> Option<&mut utoipa::openapi::schema::Object> {
    match schema {
        RefOr::T(Schema::Object(o)) => Some(o),
        _ => None,
    }
}

/// utoipa wraps an inlined field type in a one-item `oneOf` to give it the field's
/// description; the document keeps the plain schema with that description.
fn unwrap_one_of(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::OneOf(one)) = schema
        && one.items.len() == 1
        && let Some(RefOr::T(Schema::Object(mut inner))) = one.items.pop()
    {
        if one.description.is_some() {
            inner.description = one.description.take();
        }
        *schema = RefOr::T(Schema::Object(inner));
    }
    // A nullable field: `oneOf` null and the type, described once (by the field).
    if let RefOr::T(Schema::OneOf(one)) = schema
        && one.description.is_some()
    {
        for item in &mut one.items {
            if let RefOr::T(Schema::Object(o)) = item {
                o.description = None;
            }
        }
    }
    match schema {
        RefOr::T(Schema::Object(o)) => o.properties.values_mut().for_each(unwrap_one_of),
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                unwrap_one_of(items);
            }
        }
        RefOr::T(Schema::OneOf(o)) => o.items.iter_mut().for_each(unwrap_one_of),
        _ => {}
    }
}

/// Simplifies every schema ([`unwrap_one_of`]), also those inline in answers.
pub fn simplify(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        components.schemas.values_mut().for_each(unwrap_one_of);
    }
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    for content in response.content.values_mut() {
                        if let Some(schema) = content.schema.as_mut() {
                            unwrap_one_of(schema);
                        }
                    }
                }
            }
        }
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The property `path` (`a` or `a.b`, through arrays) of a schema.
fn property<'a>(schema: &'a mut RefOr<Schema>, path: &str) -> Option<&'a mut RefOr<Schema>> {
    let (first, rest) = match path.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let found = properties_mut(schema)?.properties.get_mut(first)?;
    match rest {
        None => Some(found),
        Some(rest) => {
            let inner = match found {
                RefOr::T(Schema::Array(a)) => match &mut a.items {
                    ArrayItems::RefOrSchema(items) => items.as_mut(),
                    ArrayItems::False => return None,
                },
                other => other,
            };
            property(inner, rest)
        }
    }
}

/// Applies [`DESCRIPTIONS`]; answers the entries that named no schema or property (the wire
/// types changed): `api/tests/openapi.rs` checks there are none.
pub fn apply(doc: &mut OpenApi) -> Vec<String> {
    let mut unused = Vec::new();
    let Some(components) = doc.components.as_mut() else {
        return unused;
    };
    for &(name, path, text) in DESCRIPTIONS {
        let target = components.schemas.get_mut(name).and_then(|schema| {
            if path.is_empty() {
                Some(schema)
            } else {
                property(schema, path)
            }
        });
        match target {
            Some(target) => describe(target, text),
            None => unused.push(format!("{name} {path}")),
        }
    }
    unused
}

/// The case view of the wire types is one record for both readers; the document names the
/// two shapes: `AdvisorCaseView` (with id and deadlines, required) and `ReporterCaseView`
/// (without them).
pub fn case_views(view: RefOr<Schema>) -> Vec<(String, RefOr<Schema>)> {
    let mut advisor = view.clone();
    let mut reporter = view;
    if let Some(o) = properties_mut(&mut advisor) {
        let required: Vec<String> = o
            .properties
            .keys()
            .filter(|k| o.required.contains(k) || *k == "id" || *k == "deadlines")
            .cloned()
            .collect();
        o.required = required;
    }
    if let Some(o) = properties_mut(&mut reporter) {
        o.properties.shift_remove("id");
        o.properties.shift_remove("deadlines");
        o.required.retain(|r| r != "id" && r != "deadlines");
    }
    vec![
        ("AdvisorCaseView".to_owned(), advisor),
        ("ReporterCaseView".to_owned(), reporter),
    ]
}
