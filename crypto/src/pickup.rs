//! The reporter's pickup code and what is derived from it (`docs/protocol.md` §4).
//!
//! [`PickupCode::generate`] makes a code in the reporter's browser; [`PickupCode::parse`]
//! normalises what the reporter typed and catches every single-character typo and every
//! adjacent transposition before any request; [`PickupCode::derive_keys`] runs Argon2id and
//! HKDF to get the reply key, the signing key and the [`CaseToken`]. The Argon2id step is
//! blocking (about 19 MiB, two passes): WASM callers run it in a Web Worker.

use base64ct::{Base64UrlUnpadded, Encoding};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::keys::{IdentityKey, crockford_symbol, crockford_value};
use crate::recipient::DecryptionKey;
use crate::rng::CryptoRng;

/// Number of data symbols.
pub const DATA_SYMBOLS: usize = 18;
/// Number of symbols in a code (data + 2 check symbols).
pub const CODE_SYMBOLS: usize = 20;

/// Argon2id salt of the pickup code, §4.3.
const ARGON_SALT: &[u8] = b"meldpunt/v1/pickup-code";
/// Argon2id memory in KiB, §4.3.
pub const ARGON_M_KIB: u32 = 19456;
/// Argon2id passes, §4.3.
pub const ARGON_T: u32 = 2;

const INFO_REPLY: &[u8] = b"meldpunt/v1/reporter-x25519";
const INFO_SIGNING: &[u8] = b"meldpunt/v1/reporter-ed25519";
const INFO_TOKEN: &[u8] = b"meldpunt/v1/case-token";
const TOKEN_HASH_LABEL: &[u8] = b"meldpunt/v1/case-token-hash";

/// Errors of parsing a pickup code or a case token, and of the derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PickupError {
    /// A character outside the alphabet (after normalisation). `position` counts characters
    /// of the input from 0, separators included. The character itself is not reported.
    #[error("character {position} is not allowed in a pickup code")]
    BadCharacter {
        /// Index (in characters) of the first bad character in the input.
        position: usize,
    },
    /// Not exactly 20 symbols after removing separators.
    #[error("a pickup code has 20 characters, this has {found}")]
    WrongLength {
        /// Number of symbols found (saturates at 21 for long input).
        found: usize,
    },
    /// The check symbols do not match: a typo.
    #[error("the pickup code contains a typo")]
    CheckFailed,
    /// A case token is malformed.
    #[error("malformed case token")]
    BadToken,
    /// The key derivation failed (cannot happen with the fixed parameters).
    #[error("key derivation failed")]
    Kdf,
}

// ---------------------------------------------------------------------------------------------
// GF(32) = GF(2)[x]/(x^5 + x^2 + 1).

/// Multiplies two elements of GF(32), branch-free.
fn gf32_mul(a: u8, b: u8) -> u8 {
    let mut a = a & 0x1f;
    let b = b & 0x1f;
    let mut r = 0u8;
    for i in 0..5 {
        // mask = 0xff if bit i of b is set.
        let mask = 0u8.wrapping_sub((b >> i) & 1);
        r ^= a & mask;
        // a *= x, reduce by x^5 + x^2 + 1 (0b100101).
        let carry = 0u8.wrapping_sub((a >> 4) & 1);
        a = ((a << 1) & 0x1f) ^ (0x05 & carry);
    }
    r
}

/// The two check symbols of 18 data symbols, §4.1.
fn check_symbols(data: &[u8]) -> (u8, u8) {
    let mut c0 = 0u8;
    let mut c1 = 0u8;
    let mut alpha_pow = 0x02u8; // α^1
    for &d in data.iter().take(DATA_SYMBOLS) {
        c0 ^= d;
        c1 ^= gf32_mul(alpha_pow, d);
        alpha_pow = gf32_mul(alpha_pow, 0x02);
    }
    (c0, c1)
}

// ---------------------------------------------------------------------------------------------
// The code.

/// A pickup code: 20 Crockford base32 symbols (18 data + 2 check). Zeroized on drop, no
/// `Clone`, redacted `Debug`, no `Display` (use [`PickupCode::display_form`] on purpose).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PickupCode {
    /// Symbol values 0..=31.
    symbols: [u8; CODE_SYMBOLS],
}

impl PickupCode {
    /// Generates a new code: 18 uniformly random symbols (90 bits) and the check symbols.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut random = Zeroizing::new([0u8; DATA_SYMBOLS]);
        rng.fill_bytes(random.as_mut());
        let mut symbols = [0u8; CODE_SYMBOLS];
        for (s, r) in symbols.iter_mut().zip(random.iter()) {
            // 256 is a multiple of 32, so the low 5 bits are uniform.
            *s = r & 0x1f;
        }
        let (c0, c1) = check_symbols(&symbols);
        if let Some(s) = symbols.get_mut(DATA_SYMBOLS) {
            *s = c0;
        }
        if let Some(s) = symbols.get_mut(DATA_SYMBOLS + 1) {
            *s = c1;
        }
        PickupCode { symbols }
    }

    /// Parses what the reporter typed (§4.2): spaces, hyphens, tabs and newlines are removed,
    /// case is ignored, `O` reads as `0`, `I` and `L` as `1`.
    ///
    /// # Errors
    /// [`PickupError::BadCharacter`] (checked first, over the whole input),
    /// [`PickupError::WrongLength`], then [`PickupError::CheckFailed`].
    pub fn parse(input: &str) -> Result<Self, PickupError> {
        let mut code = PickupCode {
            symbols: [0u8; CODE_SYMBOLS],
        };
        let mut n = 0usize;
        for (position, c) in input.chars().enumerate() {
            if matches!(c, ' ' | '-' | '\t' | '\n' | '\r') {
                continue;
            }
            let v = crockford_value(c).ok_or(PickupError::BadCharacter { position })?;
            if let Some(slot) = code.symbols.get_mut(n) {
                *slot = v;
            }
            n = n.saturating_add(1).min(CODE_SYMBOLS + 1);
        }
        if n != CODE_SYMBOLS {
            return Err(PickupError::WrongLength { found: n });
        }
        let (c0, c1) = check_symbols(&code.symbols);
        let expected = [c0, c1];
        let found = code.symbols.get(DATA_SYMBOLS..).unwrap_or(&[]);
        if !bool::from(expected.as_slice().ct_eq(found)) {
            return Err(PickupError::CheckFailed);
        }
        Ok(code)
    }

    /// The canonical form: 20 symbols without separators (the Argon2id password).
    #[must_use]
    pub fn canonical(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(CODE_SYMBOLS));
        for &v in &self.symbols {
            s.push(symbol(v));
        }
        s
    }

    /// The display form, 5 groups of 4 separated by hyphens: `ABCD-EFGH-JKMN-PQRS-TVWX`.
    #[must_use]
    pub fn display_form(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(CODE_SYMBOLS + 4));
        for (i, &v) in self.symbols.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            s.push(symbol(v));
        }
        s
    }

    /// The blocking Argon2id step (§4.3): about 19 MiB and two passes. Run it in a Web Worker
    /// in the browser.
    ///
    /// # Errors
    /// [`PickupError::Kdf`] (not expected with the fixed parameters).
    pub fn derive_seed(&self) -> Result<PickupSeed, PickupError> {
        let params =
            argon2::Params::new(ARGON_M_KIB, ARGON_T, 1, Some(32)).map_err(|_| PickupError::Kdf)?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut seed = PickupSeed([0u8; 32]);
        let password = self.canonical();
        argon
            .hash_password_into(password.as_bytes(), ARGON_SALT, &mut seed.0)
            .map_err(|_| PickupError::Kdf)?;
        Ok(seed)
    }

    /// Derives the reporter's keys and case token: [`PickupCode::derive_seed`] then
    /// [`ReporterKeys::from_seed`]. Blocking.
    ///
    /// # Errors
    /// [`PickupError::Kdf`] (not expected).
    pub fn derive_keys(&self) -> Result<ReporterKeys, PickupError> {
        Ok(ReporterKeys::from_seed(&self.derive_seed()?))
    }
}

fn symbol(v: u8) -> char {
    crockford_symbol(v)
}

debug_redacted!(PickupCode);

/// The 32-byte Argon2id output of a pickup code (§4.3). Zeroized on drop, redacted `Debug`.
/// It can cross from a Web Worker to the page as bytes ([`PickupSeed::from_bytes`]).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PickupSeed([u8; 32]);

impl PickupSeed {
    /// Wraps 32 seed bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PickupSeed(bytes)
    }

    /// The seed bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

debug_redacted!(PickupSeed);

// ---------------------------------------------------------------------------------------------
// Derived keys.

/// Everything a reporter derives from the pickup code: the X25519 reply key, the Ed25519
/// signing key and the case token. All zeroized on drop; redacted `Debug`.
pub struct ReporterKeys {
    reply: DecryptionKey,
    signing: IdentityKey,
    token: CaseToken,
}

impl ReporterKeys {
    /// HKDF step of §4.3 from the Argon2id seed.
    #[must_use]
    pub fn from_seed(seed: &PickupSeed) -> Self {
        let hk = Hkdf::<Sha256>::new(None, &seed.0);
        let mut reply = Zeroizing::new([0u8; 32]);
        let mut signing = Zeroizing::new([0u8; 32]);
        let mut token = CaseToken([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: these cannot fail.
        let _ = hk.expand(INFO_REPLY, reply.as_mut());
        let _ = hk.expand(INFO_SIGNING, signing.as_mut());
        let _ = hk.expand(INFO_TOKEN, &mut token.0);
        ReporterKeys {
            reply: DecryptionKey::from_bytes(*reply),
            signing: IdentityKey::from_seed(&signing),
            token,
        }
    }

    /// The reporter's X25519 reply key (advisors seal replies to its public half).
    #[must_use]
    pub fn reply_key(&self) -> &DecryptionKey {
        &self.reply
    }

    /// The reporter's Ed25519 signing key (signs reports and follow-ups, §5).
    #[must_use]
    pub fn signing_key(&self) -> &IdentityKey {
        &self.signing
    }

    /// The case token (the reporter's credential towards the server).
    #[must_use]
    pub fn case_token(&self) -> &CaseToken {
        &self.token
    }
}

debug_fields!(ReporterKeys(k) { reply_key_id: k.reply.key_id() } ..);

/// The 32-byte case token (§4.3). Zeroized on drop, no `Clone`, redacted `Debug`; equality
/// is constant-time.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct CaseToken([u8; 32]);

impl CaseToken {
    /// Wraps 32 bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        CaseToken(bytes)
    }

    /// The token bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex (64 characters).
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = Zeroizing::new(String::with_capacity(64));
        for &b in &self.0 {
            s.push(char::from(
                HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
            ));
            s.push(char::from(
                HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0'),
            ));
        }
        s
    }

    /// Base64url without padding (43 characters), as sent in the HTTP API.
    #[must_use]
    pub fn to_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64UrlUnpadded::encode_string(&self.0))
    }

    /// Parses base64url without padding (constant-time decoding).
    ///
    /// # Errors
    /// [`PickupError::BadToken`] unless it is exactly 32 bytes of canonical base64url.
    pub fn from_base64url(s: &str) -> Result<Self, PickupError> {
        if s.len() != 43 {
            return Err(PickupError::BadToken);
        }
        let mut token = CaseToken([0u8; 32]);
        let decoded =
            Base64UrlUnpadded::decode(s, &mut token.0).map_err(|_| PickupError::BadToken)?;
        if decoded.len() != 32 {
            return Err(PickupError::BadToken);
        }
        Ok(token)
    }

    /// `token_hash = SHA256("meldpunt/v1/case-token-hash" || case_token)`, what the server
    /// stores.
    #[must_use]
    pub fn hash(&self) -> [u8; 32] {
        let digest = Sha256::new()
            .chain_update(TOKEN_HASH_LABEL)
            .chain_update(self.0)
            .finalize();
        let mut out = [0u8; 32];
        out.copy_from_slice(&digest);
        out
    }
}

ct_eq_by_bytes!(CaseToken);

debug_redacted!(CaseToken);

/// Constant-time equality of two token hashes (for the server).
#[must_use]
pub fn token_hash_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn gf32_alpha_is_primitive() {
        let mut x = 1u8;
        for i in 1..=31 {
            x = gf32_mul(x, 2);
            assert_eq!(x == 1, i == 31, "order of alpha at {i}");
        }
        // x^5 = x^2 + 1
        assert_eq!(gf32_mul(0x10, 0x02), 0x05);
    }

    #[test]
    fn gf32_mul_matches_slow() {
        fn slow(a: u8, b: u8) -> u8 {
            let mut p: u16 = 0;
            for i in 0..5 {
                if (b >> i) & 1 == 1 {
                    p ^= u16::from(a) << i;
                }
            }
            for bit in (5..10).rev() {
                if (p >> bit) & 1 == 1 {
                    p ^= 0b100101 << (bit - 5);
                }
            }
            u8::try_from(p).unwrap()
        }
        for a in 0..32 {
            for b in 0..32 {
                assert_eq!(gf32_mul(a, b), slow(a, b));
            }
        }
    }
}
