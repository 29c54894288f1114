//! JSON wire types of `/api/v1/admin/…` (see `docs/api/openapi.json`) and the mapping of
//! [`AdminError`] to HTTP answers. Requests deny unknown fields.

use meldpunt_api::ErrorCode;
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::service::admin::types::AdminError;
use crate::service::admin::auth::Passphrase;
use crate::service::wire::{Texts, b64};
use crate::service::error::{Kind, ServiceError};
use crate::store::admin::OrgExtras;
use crate::store::admin::{AdvisorStatus, AuditRow};
use crate::store::{Category, Organisation};

pub use crate::service::orgs::org_suspended;

impl From<AdminError> for ServiceError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid {
                code: ErrorCode::UnsupportedMediaType,
                message,
            } => ServiceError::new(
                Kind::UnsupportedMediaType,
                ErrorCode::UnsupportedMediaType,
                message,
            ),
            AdminError::Invalid {
                code: ErrorCode::TooLarge,
                message,
            } => ServiceError::too_large(message),
            AdminError::Invalid { code, message } => ServiceError::bad_request(code, message),
            AdminError::NotFound(message) => ServiceError::not_found(message),
            AdminError::Forbidden { code, message } => {
                ServiceError::new(Kind::Forbidden, code, message)
            }
            AdminError::Conflict { code, message } => ServiceError::conflict(code, message),
            AdminError::Store(e) => match e {
                crate::store::StoreError::Busy => ServiceError::storage_busy(),
                e => e.into(),
            },
            AdminError::Io(_) => ServiceError::internal(),
        }
    }
}

/// Serialises a zeroizing secret as a plain JSON string.
fn secret<S: Serializer>(value: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value)
}

// ---------- requests

/// `POST /api/v1/admin/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    /// Username.
    pub username: String,
    /// Passphrase.
    pub passphrase: Passphrase,
    /// The current TOTP code, when the account has TOTP.
    #[serde(default)]
    pub totp: Option<Passphrase>,
}

/// `POST /api/v1/admin/totp/setup`: a session alone cannot (re-)key the second factor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpSetupIn {
    /// The account's passphrase.
    pub passphrase: Passphrase,
    /// The current code of the key in use, when TOTP is already enabled.
    #[serde(default)]
    pub code: Option<Passphrase>,
}

/// `POST /api/v1/admin/totp/confirm`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmIn {
    /// The current code of the new key.
    pub code: Passphrase,
}

impl std::fmt::Debug for TotpConfirmIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpConfirmIn(<redacted>)")
    }
}

/// `POST /api/v1/admin/passphrase`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassphraseIn {
    /// The current passphrase.
    pub old: Passphrase,
    /// The new passphrase.
    pub new: Passphrase,
}

/// `POST /api/v1/admin/accept-invite`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteIn {
    /// The invite code (printed as `<redacted>`).
    pub invite: Passphrase,
    /// The new account's username.
    pub username: String,
    /// Its passphrase.
    pub passphrase: Passphrase,
}

/// `POST /api/v1/admin/orgs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgIn {
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// `PUT …/suspended`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspendedIn {
    /// Suspend (`true`) or resume (`false`).
    pub suspended: bool,
}

/// `PUT /api/v1/admin/instance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceIn {
    /// Every administrator must have TOTP.
    pub require_totp: bool,
}

/// Both languages of a text, each optional in a change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextsIn {
    /// Dutch (Markdown).
    #[serde(default)]
    pub nl: Option<String>,
    /// English (Markdown).
    #[serde(default)]
    pub en: Option<String>,
}

/// `PUT /api/v1/admin/org`: any subset of the settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsIn {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// URL slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// Introduction (Markdown).
    #[serde(default)]
    pub intro: Option<TextsIn>,
    /// Code of conduct (Markdown).
    #[serde(default)]
    pub code_of_conduct: Option<TextsIn>,
    /// Report categories (replaces the list).
    #[serde(default)]
    pub categories: Option<Vec<Category>>,
    /// Days a closed case is kept.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Languages of the reporting pages.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    /// Advisor ids in the order the public page shows them.
    #[serde(default)]
    pub advisor_order: Option<Vec<String>>,
}

/// Optional body of `POST /api/v1/admin/org/advisor-invites`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisorInviteIn {
    /// The advisor is external (not employed by the organisation).
    #[serde(default)]
    pub external: bool,
}

/// Query of `GET /api/v1/admin/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Most entries (1..=500, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only this organisation's entries (operator); an org admin may only name their own.
    #[serde(default)]
    pub org: Option<String>,
}

// ---------- responses

/// `POST /api/v1/admin/login`.
#[derive(Serialize)]
pub struct LoginOut {
    /// Bearer token.
    #[serde(serialize_with = "secret")]
    pub token: Zeroizing<String>,
    /// When the session ends if unused (idle limit), Unix seconds.
    pub expires_at: i64,
    /// When the session ends at the latest, Unix seconds.
    pub absolute_expires_at: i64,
    /// `operator` or `org_admin`.
    pub role: &'static str,
    /// The org admin's organisation slug.
    pub org: Option<String>,
    /// TOTP is set up.
    pub totp_enabled: bool,
    /// TOTP is required and not set up: only me, totp/setup, totp/confirm and logout work.
    pub must_enable_totp: bool,
}

impl std::fmt::Debug for LoginOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOut")
            .field("token", &"<redacted>")
            .field("role", &self.role)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// `GET /api/v1/admin/me`.
#[derive(Debug, Serialize)]
pub struct MeOut {
    /// Username.
    pub username: String,
    /// `operator` or `org_admin`.
    pub role: &'static str,
    /// The org admin's organisation slug.
    pub org: Option<String>,
    /// TOTP is set up.
    pub totp_enabled: bool,
    /// TOTP is required and not set up.
    pub must_enable_totp: bool,
    /// The instance requires TOTP of every administrator.
    pub require_totp: bool,
    /// When the session ends if unused, Unix seconds.
    pub expires_at: i64,
}

/// `POST /api/v1/admin/totp/setup`.
#[derive(Serialize)]
pub struct TotpSetupOut {
    /// Base32 key.
    #[serde(serialize_with = "secret")]
    pub secret: Zeroizing<String>,
    /// `otpauth://` URI.
    #[serde(serialize_with = "secret")]
    pub otpauth_uri: Zeroizing<String>,
    /// The URI as a QR code (SVG).
    #[serde(serialize_with = "secret")]
    pub qr_svg: Zeroizing<String>,
}

impl std::fmt::Debug for TotpSetupOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetupOut(<redacted>)")
    }
}

/// A one-time invite code.
#[derive(Serialize)]
pub struct InviteOut {
    /// The code.
    #[serde(serialize_with = "secret")]
    pub invite: Zeroizing<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for InviteOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteOut")
            .field("invite", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `POST /api/v1/admin/accept-invite`.
#[derive(Debug, Serialize)]
pub struct AcceptOut {
    /// The new account.
    pub username: String,
    /// Its organisation's slug.
    pub org: String,
}

/// An organisation in the operator's list (no counts of any kind).
#[derive(Debug, Serialize)]
pub struct OrgListItem {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Suspended.
    pub suspended: bool,
    /// A logo is stored.
    pub has_logo: bool,
}

impl OrgListItem {
    /// From the stored organisation.
    #[must_use]
    pub fn of(o: &Organisation, x: &OrgExtras) -> Self {
        OrgListItem {
            slug: o.slug.clone(),
            name: o.name.clone(),
            suspended: x.suspended,
            has_logo: x.has_logo,
        }
    }
}

/// `GET /api/v1/admin/org`.
#[derive(Debug, Serialize)]
pub struct OrgSettingsOut {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// A logo is stored.
    pub has_logo: bool,
    /// Suspended by the operator.
    pub suspended: bool,
    /// Introduction (Markdown).
    pub intro: Texts,
    /// Code of conduct (Markdown).
    pub code_of_conduct: Texts,
    /// Categories.
    pub categories: Vec<Category>,
    /// Days a closed case is kept.
    pub retention_days: u32,
    /// Languages.
    pub languages: Vec<String>,
    /// Advisor ids in public-page order.
    pub advisor_order: Vec<String>,
}

impl OrgSettingsOut {
    /// From the stored organisation.
    #[must_use]
    pub fn of(o: &Organisation, x: &OrgExtras) -> Self {
        OrgSettingsOut {
            slug: o.slug.clone(),
            name: o.name.clone(),
            has_logo: x.has_logo,
            suspended: x.suspended,
            intro: Texts {
                nl: o.intro_nl.clone(),
                en: o.intro_en.clone(),
            },
            code_of_conduct: Texts {
                nl: o.conduct_nl.clone(),
                en: o.conduct_en.clone(),
            },
            categories: o.categories.clone(),
            retention_days: o.retention_days,
            languages: o.languages.clone(),
            advisor_order: x.advisor_order.iter().map(|id| b64(id)).collect(),
        }
    }
}

/// One key of an advisor (as the admin pages show it).
#[derive(Debug, Serialize)]
pub struct KeyOut {
    /// Key id, hex (as `meldpunt advisor keys list` shows it).
    pub key_id: String,
    /// Valid from, Unix seconds.
    pub not_before: i64,
    /// Valid until (exclusive), Unix seconds.
    pub not_after: i64,
    /// Revoked at, Unix seconds.
    pub revoked_at: Option<i64>,
    /// Valid now and not revoked.
    pub current: bool,
}

/// An advisor's status (no case data of any kind).
#[derive(Debug, Serialize)]
pub struct AdvisorStatusOut {
    /// Id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// External advisor.
    pub external: bool,
    /// Branch-wide (serves every organisation; managed by the operator).
    pub branch_wide: bool,
    /// Suspended.
    pub suspended: bool,
    /// Identity fingerprint, display form (8 groups of 4).
    pub fingerprint: String,
    /// Reporters can choose this advisor now: not suspended and with a current key.
    pub offered: bool,
    /// Listed on the public page (not suspended).
    pub listed: bool,
    /// All published keys.
    pub keys: Vec<KeyOut>,
    /// Who appointed the advisor: `organisation` or `branch` (the operator).
    pub appointed_by: crate::store::Appointer,
    /// The day the advisor was appointed (registered), `YYYY-MM-DD`.
    pub appointed_since: String,
}

/// The display fingerprint of an identity key.
#[must_use]
pub fn fingerprint(identity: &[u8; 32]) -> Option<meldpunt_crypto::keys::Fingerprint> {
    meldpunt_crypto::keys::IdentityPublicKey::from_bytes(identity)
        .ok()
        .map(|pk| pk.fingerprint())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AdvisorStatusOut {
    /// From the stored advisor, as of `now`.
    #[must_use]
    pub fn of(s: &AdvisorStatus, now: i64) -> Self {
        let k = &s.keys;
        let keys: Vec<KeyOut> = k
            .bundles
            .iter()
            .map(|b| {
                let revoked_at = k
                    .revocations
                    .iter()
                    .find(|r| r.key_id == b.key_id)
                    .map(|r| r.revoked_at);
                KeyOut {
                    key_id: hex(&b.key_id),
                    not_before: b.not_before,
                    not_after: b.not_after,
                    revoked_at,
                    current: k.has_valid_key(&b.key_id, now),
                }
            })
            .collect();
        let current = keys.iter().any(|k| k.current);
        AdvisorStatusOut {
            id: b64(&k.advisor.id),
            display_name: k.advisor.display_name.clone(),
            external: k.advisor.external,
            branch_wide: k.advisor.org_id.is_none(),
            suspended: s.suspended,
            fingerprint: fingerprint(&k.advisor.identity_pk)
                .map(|f| f.to_display())
                .unwrap_or_default(),
            offered: !s.suspended && current,
            listed: !s.suspended,
            keys,
            appointed_by: k.advisor.appointed_by,
            appointed_since: k.advisor.appointed_on.to_string(),
        }
    }
}

/// An advisor pinned in the reporting link.
#[derive(Debug, Serialize)]
pub struct LinkAdvisor {
    /// Display name.
    pub display_name: String,
    /// Fingerprint, display form.
    pub fingerprint: String,
    /// External advisor.
    pub external: bool,
}

/// `GET /api/v1/admin/org/link`.
#[derive(Debug, Serialize)]
pub struct LinkOut {
    /// The whole link, with the pins in the fragment.
    pub url: String,
    /// `/o/SLUG`.
    pub path: String,
    /// `pin=FP1,FP2` (empty when no advisor is listed).
    pub fragment: String,
    /// The pinned advisors, in public-page order.
    pub advisors: Vec<LinkAdvisor>,
    /// QR code of `url` (SVG).
    pub qr_svg: String,
}

/// One audit entry.
#[derive(Debug, Serialize)]
pub struct AuditOut {
    /// Unix seconds.
    pub at: i64,
    /// `cli` or a username.
    pub actor: String,
    /// Organisation slug, if any.
    pub org: Option<String>,
    /// What happened.
    pub action: String,
    /// Details.
    pub detail: String,
}

impl From<AuditRow> for AuditOut {
    fn from(r: AuditRow) -> Self {
        AuditOut {
            at: r.at,
            actor: r.actor,
            org: r.org,
            action: r.action,
            detail: r.detail,
        }
    }
}

/// `GET/PUT /api/v1/admin/instance`.
#[derive(Debug, Serialize)]
pub struct InstanceOut {
    /// Every administrator must have TOTP.
    pub require_totp: bool,
}
