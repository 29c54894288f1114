//! Schemas of the string kinds the wire types carry as plain `String`s: ids, base64url bytes,
//! days. Used with `#[schema(schema_with = ...)]` on the fields of the wire types.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat};
use utoipa::openapi::{KnownFormat, RefOr, Type};

/// The pattern of an id: 16 bytes, base64url without padding.
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{22}$";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// An id: 16 random bytes, base64url.
#[must_use]
pub fn id() -> Schema {
    string()
        .pattern(Some(ID_PATTERN))
        .description(Some("16 bytes, base64url"))
        .into()
}

/// An id, or `null`.
#[must_use]
pub fn id_or_null() -> Schema {
    OneOfBuilder::new()
        .item(id())
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// A list of ids.
#[must_use]
pub fn ids() -> Schema {
    ArrayBuilder::new().items(RefOr::T(id())).into()
}

/// The advisors a report is addressed to: 1 to 32 ids.
#[must_use]
pub fn addressed_advisors() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(id()))
        .min_items(Some(1))
        .max_items(Some(32))
        .into()
}

/// Bytes, base64url without padding.
#[must_use]
pub fn b64() -> Schema {
    string()
        .content_encoding("base64url")
        .description(Some("base64url without padding"))
        .into()
}

/// A list of byte strings, each base64url without padding.
#[must_use]
pub fn b64_list() -> Schema {
    ArrayBuilder::new().items(RefOr::T(b64())).into()
}

/// A calendar day, `YYYY-MM-DD` (UTC).
#[must_use]
pub fn day() -> Schema {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .description(Some(
            "YYYY-MM-DD (UTC); dates are kept at day granularity only",
        ))
        .into()
}

/// The media type of an advisor's photo.
#[must_use]
pub fn photo_type() -> Schema {
    string()
        .enum_values(Some(["image/jpeg", "image/png", "image/webp"]))
        .into()
}

/// The status of a case just created: always `new`.
#[must_use]
pub fn status_new() -> Schema {
    string().enum_values(Some(["new"])).into()
}
