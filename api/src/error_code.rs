//! [`ErrorCode`]: the stable, machine-readable code of every error answer, the `error` field of
//! the JSON body `{"error": code, "message": text}`.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($variant:ident = $name:literal,)*) => {
        /// Every error code the server answers (`error` of an error body).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in alphabetical order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent (`snake_case`).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// Parses a code as sent.
            #[must_use]
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    BadAdvisor = "bad_advisor",
    BadAdvisorOrder = "bad_advisor_order",
    BadAdvisors = "bad_advisors",
    BadBase64 = "bad_base64",
    BadBundle = "bad_bundle",
    BadCaseToken = "bad_case_token",
    BadCategories = "bad_categories",
    BadCode = "bad_code",
    BadCodeOfConduct = "bad_code_of_conduct",
    BadEmail = "bad_email",
    BadEnvelope = "bad_envelope",
    BadHost = "bad_host",
    BadId = "bad_id",
    BadIdentity = "bad_identity",
    BadIntro = "bad_intro",
    BadInvite = "bad_invite",
    BadLanguage = "bad_language",
    BadLanguages = "bad_languages",
    BadLength = "bad_length",
    BadLimit = "bad_limit",
    BadLogin = "bad_login",
    BadLogo = "bad_logo",
    BadName = "bad_name",
    BadOrg = "bad_org",
    BadPassphrase = "bad_passphrase",
    BadPhoto = "bad_photo",
    BadPow = "bad_pow",
    BadProfile = "bad_profile",
    BadRequest = "bad_request",
    BadRetentionDays = "bad_retention_days",
    BadRevocation = "bad_revocation",
    BadSession = "bad_session",
    BadSlug = "bad_slug",
    BadStanza = "bad_stanza",
    BadText = "bad_text",
    BadUsername = "bad_username",
    CaseFull = "case_full",
    Conflict = "conflict",
    Error = "error",
    Forbidden = "forbidden",
    HeadersTooLarge = "headers_too_large",
    Internal = "internal",
    InvalidBody = "invalid_body",
    InvalidJson = "invalid_json",
    InvalidQuery = "invalid_query",
    InvalidRequest = "invalid_request",
    LastAdvisor = "last_advisor",
    LengthRequired = "length_required",
    LoginFailed = "login_failed",
    MethodNotAllowed = "method_not_allowed",
    MetricsToken = "metrics_token",
    NoTotpSetup = "no_totp_setup",
    NotFound = "not_found",
    NotOnCase = "not_on_case",
    OperatorOnly = "operator_only",
    OrgStorageFull = "org_storage_full",
    OrgSuspended = "org_suspended",
    PayloadTooLarge = "payload_too_large",
    PowExpired = "pow_expired",
    PowReplayed = "pow_replayed",
    PowRequired = "pow_required",
    RateLimited = "rate_limited",
    RequestTimeout = "request_timeout",
    RetentionBelowFloor = "retention_below_floor",
    SlugTaken = "slug_taken",
    StaleKeys = "stale_keys",
    TooLarge = "too_large",
    TooLong = "too_long",
    TooMany = "too_many",
    TooManyAttempts = "too_many_attempts",
    TotpRequired = "totp_required",
    TotpSetupRequired = "totp_setup_required",
    Unauthorized = "unauthorized",
    Unavailable = "unavailable",
    UnsupportedMediaType = "unsupported_media_type",
    UriTooLong = "uri_too_long",
    UsernameTaken = "username_taken",
    WeakPassphrase = "weak_passphrase",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn serde_name_is_as_str() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
