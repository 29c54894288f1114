//! Authentication of administrators (operator and organisation admins): passphrases (Argon2id,
//! minimum strength by zxcvbn), TOTP (RFC 6238: 30 s, 6 digits, HMAC-SHA-1, ±1 step, each step
//! used once), session tokens (32 random bytes, stored as SHA-256), and the per-account
//! lock-out after failed logins (memory only, like every other rate limit).
//!
//! Every secret here (passphrases, TOTP keys, tokens) lives in zeroizing buffers and prints as
//! `<redacted>`; secrets and hashes are compared in constant time.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::store::admin::SecretBytes;

/// Fewest characters of a passphrase.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// Most bytes of a passphrase (longer input is refused before hashing).
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// Lowest accepted zxcvbn score (0..=4).
pub const MIN_ZXCVBN_SCORE: u8 = 3;
/// Argon2id memory cost, KiB (OWASP: 19 MiB, 2 passes, 1 lane).
const ARGON_M_KIB: u32 = 19 * 1024;
/// Argon2id passes.
const ARGON_T: u32 = 2;
/// The TOTP issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "Meldpunt";
/// TOTP step, seconds.
pub const TOTP_STEP: u64 = 30;
/// TOTP key length, bytes (160 bits, as RFC 4226 recommends).
pub const TOTP_KEY_BYTES: usize = 20;
/// Failed logins of one account before the lock-out starts.
pub const LOCKOUT_AFTER: u32 = 5;
/// Longest lock-out, seconds.
pub const LOCKOUT_MAX_SECS: i64 = 3600;
/// Failures older than this are forgotten.
const FAILURE_MEMORY: Duration = Duration::from_secs(24 * 3600);
/// Most usernames (known or not) whose failures are remembered at once.
const MAX_TRACKED: usize = 50_000;

/// A passphrase as received: zeroized on drop, never printed.
#[derive(Clone, Default)]
pub struct Passphrase(pub Zeroizing<String>);

impl Passphrase {
    /// The text.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for Passphrase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Passphrase(Zeroizing::new(s)))
    }
}

impl From<Zeroizing<String>> for Passphrase {
    fn from(s: Zeroizing<String>) -> Self {
        Passphrase(s)
    }
}

fn argon2() -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(ARGON_M_KIB, ARGON_T, 1, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Why a passphrase is refused (the message is safe to show; it never repeats the passphrase).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WeakPassphrase(pub String);

/// Checks a new passphrase: at least [`MIN_PASSPHRASE_CHARS`] characters, at most
/// [`MAX_PASSPHRASE_BYTES`] bytes, and a zxcvbn score of at least [`MIN_ZXCVBN_SCORE`] with the
/// username and the organisation as known words.
pub fn check_strength(pass: &str, known_words: &[&str]) -> Result<(), WeakPassphrase> {
    if pass.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(WeakPassphrase(format!(
            "the passphrase is too short: use at least {MIN_PASSPHRASE_CHARS} characters (a few unrelated words work well)"
        )));
    }
    if pass.len() > MAX_PASSPHRASE_BYTES {
        return Err(WeakPassphrase(format!(
            "the passphrase is too long: at most {MAX_PASSPHRASE_BYTES} bytes"
        )));
    }
    let mut words: Vec<&str> = known_words.to_vec();
    words.extend(["meldpunt", "admin", "beheer", "operator"]);
    let entropy = zxcvbn::zxcvbn(pass, &words);
    if u8::from(entropy.score()) >= MIN_ZXCVBN_SCORE {
        return Ok(());
    }
    let hint = entropy
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    Err(WeakPassphrase(format!(
        "the passphrase is too easy to guess{hint}: use a longer one, e.g. four or more unrelated words"
    )))
}

/// Hashes a passphrase: Argon2id with a random 16-byte salt, as a PHC string.
pub fn hash_passphrase(pass: &str) -> Result<Zeroizing<String>, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut salt);
    let hash = argon2()
        .map_err(argon2::password_hash::Error::from)?
        .hash_password_with_salt(pass.as_bytes(), &salt)?;
    Ok(Zeroizing::new(hash.to_string()))
}

/// Whether `pass` matches the PHC string (constant-time comparison of the outputs).
#[must_use]
pub fn verify_passphrase(pass: &str, phc: &str) -> bool {
    if pass.len() > MAX_PASSPHRASE_BYTES {
        // Same cost as a real check, then refused.
        let _ = verify_passphrase("", dummy_hash());
        return false;
    }
    match argon2() {
        Ok(a) => a.verify_password(pass.as_bytes(), phc).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random passphrase, checked against when the username is unknown, so that an
/// unknown username costs the same Argon2id time as a known one.
#[must_use]
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = crate::service::wire::b64(&crate::service::ids::random32());
        hash_passphrase(&random)
            .map(|h| h.to_string())
            // The fixed parameters are valid, so this cannot fail; a fallback keeps the
            // unknown-user path running (and slow) all the same.
            .unwrap_or_else(|_| {
                "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                    .to_owned()
            })
    })
}

/// Checks a username: 3..=64 of `a-z`, `0-9`, `.`, `_`, `-`.
#[must_use]
pub fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

// ---------- TOTP

/// A fresh TOTP key.
#[must_use]
pub fn new_totp_key() -> SecretBytes {
    let mut key = Zeroizing::new(vec![0u8; TOTP_KEY_BYTES]);
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut key);
    SecretBytes(key)
}

fn totp(key: &SecretBytes, username: &str) -> Result<totp_rs::Totp, totp_rs::TotpError> {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(TOTP_STEP)
        .with_secret(totp_rs::Secret::new(
            key.0.as_slice().to_vec().into_boxed_slice(),
        ))
        .with_issuer(Some(TOTP_ISSUER))
        .with_account_name(username)
        .build()
}

/// What an administrator needs to add a TOTP key to an authenticator app.
pub struct TotpSetup {
    /// The key in base32 (RFC 4648, no padding), for typing in.
    pub secret: Zeroizing<String>,
    /// `otpauth://totp/Meldpunt:NAME?secret=…&issuer=Meldpunt&…`.
    pub otpauth_uri: Zeroizing<String>,
    /// The URI as a QR code (SVG).
    pub qr_svg: Zeroizing<String>,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(<redacted>)")
    }
}

/// The setup data of `key` for `username`.
pub fn totp_setup(key: &SecretBytes, username: &str) -> Result<TotpSetup, String> {
    let t = totp(key, username).map_err(|e| e.to_string())?;
    let uri = Zeroizing::new(t.to_url().map_err(|e| e.to_string())?);
    let qr_svg = Zeroizing::new(qr_svg(&uri)?);
    Ok(TotpSetup {
        secret: Zeroizing::new(t.secret().to_base32()),
        otpauth_uri: uri,
        qr_svg,
    })
}

/// The time step of a code that is valid for `key` at `now` (±1 step) and later than
/// `last_step`; `None` if the code is wrong, malformed or already used.
#[must_use]
pub fn totp_check(key: &SecretBytes, code: &str, now: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(key, "x").ok()?;
    let now = u64::try_from(now).ok()?;
    let origin = now / TOTP_STEP;
    let mut found = None;
    // Every candidate step is computed and compared (constant-time), whatever matches.
    for step in origin.saturating_sub(1)..=origin.saturating_add(1) {
        let expected = t.generate(step.saturating_mul(TOTP_STEP)).to_string();
        let ok: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        let step = i64::try_from(step).ok()?;
        if ok && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The current code of `key` (for the CLI's self-test and the tests).
#[must_use]
pub fn totp_code(key: &[u8], now: i64) -> Option<String> {
    let t = totp(&SecretBytes(Zeroizing::new(key.to_vec())), "x").ok()?;
    Some(t.generate(u64::try_from(now).ok()?).to_string())
}

/// A QR code of `data` as an SVG document.
pub fn qr_svg(data: &str) -> Result<String, String> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("cannot make a QR code: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

// ---------- session tokens

/// A new session token: the bearer value (base64url of 32 random bytes) and its SHA-256.
#[must_use]
pub fn new_session_token() -> (Zeroizing<String>, [u8; 32]) {
    let raw = Zeroizing::new(crate::service::ids::random32());
    let hash = crate::service::ids::sha256(&raw[..]);
    (Zeroizing::new(crate::service::wire::b64(&raw[..])), hash)
}

/// SHA-256 of a bearer value, if it is 32 bytes of base64url.
#[must_use]
pub fn session_token_hash(bearer: &str) -> Option<[u8; 32]> {
    let raw = Zeroizing::new(meldpunt_api::b64::unb64(bearer)?);
    (raw.len() == 32).then(|| crate::service::ids::sha256(&raw))
}

// ---------- lock-out

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Failed logins per username (known or unknown alike, so the lock-out tells nothing about
/// which usernames exist). Memory only.
#[derive(Debug, Default)]
pub struct Lockout {
    map: Mutex<HashMap<String, Failures>>,
}

/// Seconds of lock-out after `count` failures: none before [`LOCKOUT_AFTER`], then
/// 2^(count − LOCKOUT_AFTER) s, at most [`LOCKOUT_MAX_SECS`].
#[must_use]
pub fn lockout_secs(count: u32) -> i64 {
    if count < LOCKOUT_AFTER {
        return 0;
    }
    let exp = count - LOCKOUT_AFTER;
    if exp >= 12 {
        LOCKOUT_MAX_SECS
    } else {
        (1i64 << exp).min(LOCKOUT_MAX_SECS)
    }
}

fn key(username: &str) -> String {
    username.chars().take(64).collect::<String>().to_lowercase()
}

impl Lockout {
    /// `Err(seconds to wait, rounded up)` while `username` is locked out.
    pub fn check(&self, username: &str) -> Result<(), u64> {
        let Ok(map) = self.map.lock() else {
            return Err(1);
        };
        let now = Instant::now();
        match map.get(&key(username)).and_then(|f| f.locked_until) {
            Some(until) if until > now => {
                let left = until - now;
                Err(left.as_secs() + u64::from(left.subsec_nanos() > 0))
            }
            _ => Ok(()),
        }
    }

    /// Records a failure of `username`.
    pub fn failure(&self, username: &str) {
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        let now = Instant::now();
        if map.len() >= MAX_TRACKED {
            map.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || now - f.last < Duration::from_secs(3600)
            });
            if map.len() >= MAX_TRACKED
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let f = map.entry(key(username)).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now - f.last > FAILURE_MEMORY {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
        let secs = lockout_secs(f.count);
        if secs > 0 {
            f.locked_until = Some(now + Duration::from_secs(secs.unsigned_abs()));
        }
    }

    /// Forgets the failures of `username` (after a successful login).
    pub fn success(&self, username: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&key(username));
        }
    }

    /// Forgets entries that are neither locked nor recent.
    pub fn prune(&self) {
        if let Ok(mut map) = self.map.lock() {
            let now = Instant::now();
            map.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || now - f.last < FAILURE_MEMORY
            });
        }
    }
}

/// The administration side's in-memory state, shared by all workers.
#[derive(Debug)]
pub struct AdminRuntime {
    /// Failed logins per username.
    pub lockout: Lockout,
    /// Bounds concurrent Argon2id computations (each needs 19 MiB).
    pub argon_slots: tokio::sync::Semaphore,
}

impl AdminRuntime {
    /// Fresh state (computes the dummy hash once).
    #[must_use]
    pub fn new() -> Self {
        let _ = dummy_hash();
        AdminRuntime {
            lockout: Lockout::default(),
            argon_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        }
    }
}

impl Default for AdminRuntime {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength() {
        assert!(check_strength("short", &[]).is_err());
        assert!(check_strength("passwordpassword", &[]).is_err());
        assert!(check_strength("beheer123456", &["beheer"]).is_err());
        assert!(check_strength("correct horse battery staple", &[]).is_ok());
        let long = "x".repeat(MAX_PASSPHRASE_BYTES + 1);
        assert!(check_strength(&long, &[]).is_err());
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_passphrase("paarse olifant danst traag").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_passphrase("paarse olifant danst traag", &h));
        assert!(!verify_passphrase("paarse olifant danst snel", &h));
        assert!(!verify_passphrase("x", dummy_hash()));
        assert!(!verify_passphrase("x", "not a hash"));
    }

    #[test]
    fn totp_rfc6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA-1 key "12345678901234567890"; the last 6 of the 8 digits.
        let key = b"12345678901234567890";
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(totp_code(key, t).unwrap(), code, "t={t}");
        }
        let k = SecretBytes(Zeroizing::new(key.to_vec()));
        // ±1 step, and a step used before is refused.
        assert_eq!(totp_check(&k, "050471", 1_111_111_111, 0), Some(37_037_037));
        assert_eq!(
            totp_check(&k, "050471", 1_111_111_111 + 30, 0),
            Some(37_037_037)
        );
        assert_eq!(totp_check(&k, "050471", 1_111_111_111 + 60, 0), None);
        assert_eq!(totp_check(&k, "050471", 1_111_111_111, 37_037_037), None);
        assert_eq!(totp_check(&k, "05047", 1_111_111_111, 0), None);
        assert_eq!(
            totp_check(&k, "050 471", 1_111_111_111, 0),
            Some(37_037_037)
        );
    }

    #[test]
    fn setup_has_uri_and_qr() {
        let k = new_totp_key();
        let s = totp_setup(&k, "hr-anker").unwrap();
        assert!(
            s.otpauth_uri
                .starts_with("otpauth://totp/Meldpunt:hr-anker?")
        );
        assert!(s.otpauth_uri.contains(&format!("secret={}", &*s.secret)));
        assert!(s.qr_svg.contains("<svg"));
        assert_eq!(format!("{s:?}"), "TotpSetup(<redacted>)");
        assert_eq!(
            format!("{:?}", Passphrase::default()),
            "Passphrase(<redacted>)"
        );
    }

    #[test]
    fn lockout_grows() {
        assert_eq!(lockout_secs(4), 0);
        assert_eq!(lockout_secs(5), 1);
        assert_eq!(lockout_secs(6), 2);
        assert_eq!(lockout_secs(10), 32);
        assert_eq!(lockout_secs(40), LOCKOUT_MAX_SECS);
        let l = Lockout::default();
        for _ in 0..4 {
            l.failure("a");
        }
        assert!(l.check("a").is_ok());
        l.failure("a");
        assert_eq!(l.check("A"), Err(1));
        assert!(l.check("b").is_ok());
        std::thread::sleep(Duration::from_millis(1100));
        assert!(l.check("a").is_ok());
        l.failure("a");
        assert_eq!(l.check("a"), Err(2));
        l.success("a");
        assert!(l.check("a").is_ok());
    }

    #[test]
    fn usernames() {
        assert!(valid_username("hr-anker"));
        assert!(valid_username("a.b_c"));
        assert!(!valid_username("ab"));
        assert!(!valid_username("Beheer"));
        assert!(!valid_username(&"a".repeat(65)));
        assert!(!valid_username("bé"));
    }
}
