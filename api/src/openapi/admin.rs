//! Schemas of the admin API (`/api/v1/admin/…`). Its wire types still live in the server
//! (`server/src/adminapi.rs`: secrets there are `Zeroizing`, the role a `&str`); these records
//! mirror them field by field for the document only. When the admin wire types move into this
//! crate, derive `ToSchema` on them and delete this module.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Appointer, Category, Texts};

/// An administrator's role.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    /// The instance operator (the branch organisation).
    Operator,
    /// An organisation's admin.
    OrgAdmin,
}

/// `POST /api/v1/admin/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminLogin {
    username: String,
    passphrase: String,
    /// the current 6-digit code, when the account has TOTP
    #[serde(default)]
    #[schema(nullable = false)]
    totp: Option<String>,
}

/// The answer to `POST /api/v1/admin/login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminSession {
    /// bearer token
    token: String,
    /// Unix seconds; the idle limit, renewed by every request
    expires_at: i64,
    /// Unix seconds; the session's end at the latest
    absolute_expires_at: i64,
    #[schema(inline)]
    role: AdminRole,
    /// the org admin's organisation slug
    #[schema(required = true)]
    org: Option<String>,
    totp_enabled: bool,
    /// TOTP is required and not set up: only me, totp/setup, totp/confirm and logout work (others: 403 totp_setup_required)
    must_enable_totp: bool,
}

/// `GET /api/v1/admin/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminMe {
    username: String,
    #[schema(inline)]
    role: AdminRole,
    #[schema(required = true)]
    org: Option<String>,
    totp_enabled: bool,
    must_enable_totp: bool,
    require_totp: bool,
    expires_at: i64,
}

/// The answer to `POST /api/v1/admin/totp/setup`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSetup {
    /// base32 (RFC 4648, no padding), 160 bits
    secret: String,
    /// otpauth://totp/Meldpunt:USERNAME?secret=…&issuer=Meldpunt&algorithm=SHA1&digits=6&period=30
    otpauth_uri: String,
    /// QR code of otpauth_uri, an SVG document
    qr_svg: String,
}

/// `POST /api/v1/admin/totp/setup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpSetupRequest {
    passphrase: String,
    /// the current code of the key in use; required when TOTP is enabled
    #[serde(default)]
    #[schema(nullable = false)]
    code: Option<String>,
}

/// `POST /api/v1/admin/totp/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    code: String,
}

/// `POST /api/v1/admin/passphrase`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassphraseChange {
    old: String,
    /// at least 12 characters and zxcvbn score ≥ 3, else 400 weak_passphrase
    new: String,
}

/// `POST /api/v1/admin/accept-invite`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    invite: String,
    #[schema(pattern = "^[a-z0-9._-]{3,64}$")]
    username: String,
    passphrase: String,
}

/// The answer to `POST /api/v1/admin/accept-invite`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedInvite {
    username: String,
    org: String,
}

/// A one-time invite code.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invite {
    /// one-time code, Crockford base32 in groups
    invite: String,
    expires_at: i64,
}

/// An organisation in the operator's list (no counts of any kind).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrg {
    slug: String,
    name: String,
    suspended: bool,
    has_logo: bool,
}

/// `POST /api/v1/admin/orgs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")]
    slug: String,
    #[schema(max_length = 200)]
    name: String,
}

/// `PUT …/suspended`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Suspended {
    suspended: bool,
}

/// `GET`/`PUT /api/v1/admin/instance`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    require_totp: bool,
}

/// Both languages of a text, each optional in a change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextsIn {
    #[serde(default)]
    #[schema(nullable = false)]
    nl: Option<String>,
    #[serde(default)]
    #[schema(nullable = false)]
    en: Option<String>,
}

/// A language of the reporting pages.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Dutch.
    Nl,
    /// English.
    En,
}

/// `GET /api/v1/admin/org`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgSettings {
    slug: String,
    name: String,
    has_logo: bool,
    suspended: bool,
    intro: Texts,
    code_of_conduct: Texts,
    categories: Vec<Category>,
    retention_days: u32,
    #[schema(inline)]
    languages: Vec<Language>,
    advisor_order: Vec<String>,
}

/// Any subset; everything is checked before anything is written. Field errors: bad_name, bad_slug (409 slug_taken), bad_intro (≤ 10,000 characters per language), bad_code_of_conduct (≤ 20,000), bad_categories (≤ 50; id 1..64 of a-z0-9-, unique; nl/en 1..100 characters), bad_retention_days (1..3650), bad_languages (nl and/or en), bad_advisor_order (ids of this organisation's or branch-wide advisors, no repeats). Texts are Markdown; the public page gets them rendered as sanitised HTML.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsChange {
    #[serde(default)]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default)]
    #[schema(nullable = false)]
    slug: Option<String>,
    #[serde(default)]
    #[schema(nullable = false)]
    intro: Option<TextsIn>,
    #[serde(default)]
    #[schema(nullable = false)]
    code_of_conduct: Option<TextsIn>,
    #[serde(default)]
    #[schema(nullable = false)]
    categories: Option<Vec<Category>>,
    #[serde(default)]
    #[schema(nullable = false)]
    retention_days: Option<u32>,
    #[serde(default)]
    #[schema(nullable = false)]
    languages: Option<Vec<String>>,
    #[serde(default)]
    #[schema(nullable = false)]
    advisor_order: Option<Vec<String>>,
}

/// One key of an advisor (as the admin pages show it).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorKeyStatus {
    /// hex, as `meldpunt advisor keys list` shows it
    key_id: String,
    not_before: i64,
    not_after: i64,
    #[schema(required = true)]
    revoked_at: Option<i64>,
    current: bool,
}

/// An advisor as administrators see them: no case data of any kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorStatus {
    id: String,
    display_name: String,
    external: bool,
    branch_wide: bool,
    suspended: bool,
    /// display form, 8 groups of 4
    fingerprint: String,
    /// reporters can choose this advisor now: not suspended and with a current key
    offered: bool,
    /// shown on the public page (not suspended)
    listed: bool,
    keys: Vec<AdvisorKeyStatus>,
    /// who appointed the advisor: the role of whoever made the invite the advisor registered with; `branch` = the branch organisation (the instance operator). Only the operator invites external or branch-wide advisors.
    #[schema(inline)]
    appointed_by: Appointer,
    /// the day the advisor was appointed (registered), YYYY-MM-DD (UTC)
    #[schema(schema_with = super::kinds::day)]
    appointed_since: String,
}

/// Optional body of the advisor invites.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisorInviteOptions {
    #[serde(default)]
    #[schema(default = false)]
    external: bool,
}

/// An advisor pinned in the reporting link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkAdvisor {
    display_name: String,
    fingerprint: String,
    external: bool,
}

/// `GET /api/v1/admin/org/link`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportingLink {
    /// absolute: public_url (or the request's scheme and host) + path + '#' + fragment
    url: String,
    /// /o/SLUG
    path: String,
    /// pin=FP1,FP2 (pin form of the listed advisors' fingerprints; empty if none)
    fragment: String,
    #[schema(inline)]
    advisors: Vec<LinkAdvisor>,
    /// QR code of url, an SVG document
    qr_svg: String,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Unix seconds
    at: i64,
    /// username, or `cli`
    actor: String,
    #[schema(required = true)]
    org: Option<String>,
    action: String,
    detail: String,
}
