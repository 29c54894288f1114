//! Storage of the administration side: admin accounts and sessions, org-admin invites, the
//! audit log, the instance's `require_totp`, and the organisation and advisor settings an
//! administrator manages (suspension, logo, advisor order, former slugs).
//!
//! Nothing here reads or writes cases: an administrator's view never depends on whether a case
//! exists. Every change is written together with its audit entries in one transaction, so a
//! refused change leaves neither a partial setting nor an audit line behind.

use zeroize::Zeroizing;

use super::error::StoreResult;
use super::types::{AdvisorKeys, Category, Id, InviteScope, Organisation};

/// The two kinds of administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRole {
    /// The instance operator (branch organisation): organisations, branch-wide advisors,
    /// instance settings.
    Operator,
    /// An organisation's administrator (employer): that organisation's settings only.
    OrgAdmin,
}

impl AdminRole {
    /// The stored and API name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::Operator => "operator",
            AdminRole::OrgAdmin => "org_admin",
        }
    }
    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(AdminRole::Operator),
            "org_admin" => Some(AdminRole::OrgAdmin),
            _ => None,
        }
    }
}

/// Secret bytes (a TOTP key): zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

/// An administrator account.
#[derive(Clone)]
pub struct AdminAccount {
    /// Row id.
    pub id: i64,
    /// Login name (`a-z0-9._-`, 3..=64).
    pub username: String,
    /// Role.
    pub role: AdminRole,
    /// The organisation of an org admin; `None` for the operator.
    pub org_id: Option<i64>,
    /// Argon2id PHC string of the passphrase.
    pub passphrase_hash: Zeroizing<String>,
    /// The confirmed TOTP key; `None`: no second factor yet.
    pub totp_secret: Option<SecretBytes>,
    /// A TOTP key set up but not yet confirmed.
    pub totp_pending: Option<SecretBytes>,
    /// The last TOTP time step accepted (a code of this step or earlier is refused).
    pub totp_last_step: i64,
}

impl std::fmt::Debug for AdminAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccount")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("org_id", &self.org_id)
            .field("passphrase_hash", &"<redacted>")
            .field("totp_enabled", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

/// An administrator session as found by its token hash.
#[derive(Debug, Clone)]
pub struct AdminSessionRow {
    /// The account.
    pub account: AdminAccount,
    /// When the session was opened (Unix seconds).
    pub created_at: i64,
    /// When it was last used.
    pub last_seen: i64,
    /// The instance's `require_totp`.
    pub require_totp: bool,
}

/// One audit entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// `cli` or the administrator's username.
    pub actor: String,
    /// The organisation concerned (its row id), if any.
    pub org_id: Option<i64>,
    /// What happened, e.g. `org.update`.
    pub action: String,
    /// Which setting, old and new short values; never a passphrase, secret or invite code.
    pub detail: String,
}

/// One audit entry as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Unix seconds.
    pub at: i64,
    /// `cli` or a username.
    pub actor: String,
    /// The organisation's current slug, if any.
    pub org: Option<String>,
    /// What happened.
    pub action: String,
    /// Details.
    pub detail: String,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    /// Every entry of the instance.
    All,
    /// The entries of one organisation.
    Org(i64),
}

/// The settings of an organisation that only the administration side uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgExtras {
    /// Suspended: no public page, no new cases.
    pub suspended: bool,
    /// A logo is stored.
    pub has_logo: bool,
    /// Advisors in the order the public page shows them (others follow).
    pub advisor_order: Vec<Id>,
}

/// A change of an organisation's settings (`None`: unchanged). Validated before it gets here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgChange {
    /// Display name.
    pub name: Option<String>,
    /// New slug (the old one stays an alias for reading).
    pub slug: Option<String>,
    /// Introduction, Dutch (Markdown).
    pub intro_nl: Option<String>,
    /// Introduction, English.
    pub intro_en: Option<String>,
    /// Code of conduct, Dutch (Markdown).
    pub conduct_nl: Option<String>,
    /// Code of conduct, English.
    pub conduct_en: Option<String>,
    /// Categories.
    pub categories: Option<Vec<Category>>,
    /// Retention of closed cases, days.
    pub retention_days: Option<u32>,
    /// Languages of the reporting pages.
    pub languages: Option<Vec<String>>,
    /// Order of advisors on the public page.
    pub advisor_order: Option<Vec<Id>>,
}

impl OrgChange {
    /// Whether nothing is to change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == OrgChange::default()
    }
}

/// An advisor as the administration side lists it.
#[derive(Debug, Clone)]
pub struct AdvisorStatus {
    /// Profile and keys.
    pub keys: AdvisorKeys,
    /// Suspended: not listed to reporters, cannot log in.
    pub suspended: bool,
}

/// Storage of the administration side (implemented by every [`super::Store`]).
pub trait AdminStore {
    // --- instance
    /// Whether every administrator must have TOTP.
    fn require_totp(&self) -> StoreResult<bool>;
    /// Sets `require_totp`, with its audit entry.
    fn set_require_totp(&self, on: bool, audit: NewAudit) -> StoreResult<()>;

    // --- organisations
    /// Suspension, logo and advisor order of an organisation.
    fn org_extras(&self, org_id: i64) -> StoreResult<OrgExtras>;
    /// The organisation that formerly had `slug` (renamed since).
    fn org_by_former_slug(&self, slug: &str) -> StoreResult<Option<Organisation>>;
    /// Creates an organisation with the given categories. `Conflict` if the slug is used or
    /// was used by another organisation.
    fn create_org_audited(
        &self,
        slug: &str,
        name: &str,
        categories: &[Category],
        audit: NewAudit,
    ) -> StoreResult<i64>;
    /// Applies a change with its audit entries. `Conflict` if a new slug is taken.
    fn change_org(&self, org_id: i64, change: &OrgChange, audit: Vec<NewAudit>) -> StoreResult<()>;
    /// Suspends or resumes an organisation.
    fn set_org_suspended(&self, org_id: i64, suspended: bool, audit: NewAudit) -> StoreResult<()>;
    /// Stores (`Some`) or removes (`None`) the logo (bytes, media type).
    fn set_org_logo(
        &self,
        org_id: i64,
        logo: Option<(Vec<u8>, String)>,
        audit: NewAudit,
    ) -> StoreResult<()>;
    /// The logo (bytes, media type).
    fn org_logo(&self, org_id: i64) -> StoreResult<Option<(Vec<u8>, String)>>;

    // --- advisors
    /// Whether the advisor is suspended (`None`: no such advisor).
    fn advisor_suspended(&self, id: &Id) -> StoreResult<Option<bool>>;
    /// Suspends (ending the advisor's sessions) or resumes an advisor.
    fn set_advisor_suspended(&self, id: &Id, suspended: bool, audit: NewAudit) -> StoreResult<()>;
    /// An organisation's own advisors and all branch-wide ones (`Some(org)`), or the
    /// branch-wide ones only (`None`), suspended ones included.
    fn advisor_statuses(&self, org_id: Option<i64>) -> StoreResult<Vec<AdvisorStatus>>;
    /// Stores an advisor invite with its audit entry.
    fn create_advisor_invite_audited(
        &self,
        code_hash: [u8; 32],
        scope: InviteScope,
        expires_at: i64,
        audit: NewAudit,
    ) -> StoreResult<()>;

    // --- accounts
    /// Creates an account. `Conflict` if the username is taken.
    fn create_admin_account(
        &self,
        username: &str,
        role: AdminRole,
        org_id: Option<i64>,
        passphrase_hash: &str,
        audit: NewAudit,
    ) -> StoreResult<i64>;
    /// An account by username.
    fn admin_account(&self, username: &str) -> StoreResult<Option<AdminAccount>>;
    /// Stores an org-admin invite with its audit entry.
    fn create_admin_invite(
        &self,
        code_hash: [u8; 32],
        org_id: i64,
        expires_at: i64,
        audit: NewAudit,
    ) -> StoreResult<()>;
    /// Redeems an org-admin invite and creates the account, atomically; returns the
    /// organisation's row id. `NotFound`: unknown, used or expired invite; `Conflict`:
    /// username taken (the invite stays valid).
    fn accept_admin_invite(
        &self,
        code_hash: [u8; 32],
        now: i64,
        username: &str,
        passphrase_hash: &str,
    ) -> StoreResult<i64>;
    /// Replaces the passphrase hash and ends every other session of the account.
    fn set_admin_passphrase(
        &self,
        account_id: i64,
        passphrase_hash: &str,
        keep_session: [u8; 32],
        audit: NewAudit,
    ) -> StoreResult<()>;
    /// Stores a TOTP key awaiting confirmation.
    fn set_totp_pending(&self, account_id: i64, secret: SecretBytes) -> StoreResult<()>;
    /// Makes the pending key (which must equal `secret`) the account's TOTP key, with `step`
    /// as the last step used. `Conflict` if the pending key changed meanwhile.
    fn confirm_totp(
        &self,
        account_id: i64,
        secret: SecretBytes,
        step: i64,
        audit: NewAudit,
    ) -> StoreResult<()>;
    /// Removes the account's TOTP key (confirmed and pending) and ends all its sessions, with
    /// the audit entry; for an admin who lost their device. `NotFound`: no such account.
    fn reset_admin_totp(&self, account_id: i64, audit: NewAudit) -> StoreResult<()>;
    /// Records `step` as used if it is later than the last step used; `false`: a replay.
    fn use_totp_step(&self, account_id: i64, step: i64) -> StoreResult<bool>;

    // --- sessions
    /// Opens a session (and forgets sessions whose absolute lifetime `max_secs` or idle time
    /// `idle_secs` has passed).
    fn create_admin_session(
        &self,
        token_hash: [u8; 32],
        account_id: i64,
        now: i64,
        idle_secs: i64,
        max_secs: i64,
        audit: NewAudit,
    ) -> StoreResult<()>;
    /// The session of a token hash (expiry is checked by the caller).
    fn admin_session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<AdminSessionRow>>;
    /// Records a use of a session.
    fn touch_admin_session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<()>;
    /// Ends a session.
    fn delete_admin_session(&self, token_hash: &[u8; 32]) -> StoreResult<()>;

    // --- audit
    /// The newest `limit` audit entries of `scope`, newest first.
    fn audit_log(&self, scope: AuditScope, limit: u32) -> StoreResult<Vec<AuditRow>>;
}
