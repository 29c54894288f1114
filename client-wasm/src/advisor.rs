//! wasm-bindgen bindings for the confidential advisor's pages (`www/advisor/`).
//!
//! The advisor's keyring file is opened in the browser tab, never uploaded:
//!
//! 1. [`keyring_file_info`] checks the file (magic, version, Argon2id bounds) without the
//!    passphrase, so a wrong file is refused before any slow work.
//! 2. [`unlock_keyring`] runs Argon2id and decrypts the file. It blocks for seconds, so the
//!    pages call it in a Web Worker (`www/js/advisor-worker.js`); it returns the keyring's
//!    secrets in an internal byte form that the page hands at once to
//!    [`AdvisorKeyring::from_parts`], which wipes the array it was given.
//! 3. The [`AdvisorKeyring`] lives in WASM memory (zeroized on drop; the page calls `free()`
//!    when it locks) and signs the login challenge, opens cases and attachments, seals
//!    replies and re-wraps content keys for a colleague.
//!
//! [`rotate_keyring`] (also in the worker) adds a new encryption key and writes the new
//! keyring file. [`qr_svg`] draws a QR code as SVG for the poster page.
//!
//! Errors are `Error` objects whose message is a short, stable code (`wrong_passphrase`,
//! `not_keyring`, ...) that the pages translate; no error carries secret material.

use base64ct::{Base64UrlUnpadded, Encoding};
use js_sys::{Array, Object, Reflect, Uint8Array};
use meldpunt_crypto::envelope::{self, Decryptor, EnvelopeError, Header, Purpose};
use meldpunt_crypto::keyring::{Keyring, KeyringEntry, KeyringError};
use meldpunt_crypto::keys::{IdentityKey, IdentityPublicKey, KeyBundle, KeyError, Revocation};
use meldpunt_crypto::message::{self, Message, MessageHash, MessageKind, TranscriptError};
use meldpunt_crypto::recipient::{DecryptionKey, KeyId, RecipientKey};
use meldpunt_crypto::rng::os_rng;
use wasm_bindgen::prelude::*;
use zeroize::{Zeroize, Zeroizing};

// ---------------------------------------------------------------------------------------------
// Small conversions (kept local so that this module depends on nothing private in lib.rs).

fn code(c: &str) -> JsError {
    JsError::new(c)
}

fn unb64(s: &str) -> Result<Vec<u8>, JsError> {
    Base64UrlUnpadded::decode_vec(s).map_err(|_| code("bad_base64"))
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn secs(now: f64) -> i64 {
    now.floor() as i64
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_str(obj: &JsValue, key: &str) -> String {
    get(obj, key).as_string().unwrap_or_default()
}

fn get_list(obj: &JsValue, key: &str) -> Vec<JsValue> {
    let v = get(obj, key);
    if Array::is_array(&v) { Array::from(&v).iter().collect() } else { Vec::new() }
}

fn get_strings(obj: &JsValue, key: &str) -> Vec<String> {
    get_list(obj, key).iter().filter_map(JsValue::as_string).collect()
}

fn keyring_problem(e: KeyringError) -> JsError {
    code(match e {
        KeyringError::BadFormat => "not_keyring",
        KeyringError::UnsupportedVersion(_) => "keyring_version",
        KeyringError::BadParams => "keyring_params",
        KeyringError::WrongPassphraseOrCorrupted => "wrong_passphrase",
        KeyringError::Kdf => "kdf",
        KeyringError::InvalidValidity => "invalid_validity",
        _ => "keyring_error",
    })
}

fn envelope_problem(e: &EnvelopeError) -> &'static str {
    match e {
        EnvelopeError::NoRecipients => "no_recipients",
        EnvelopeError::TooManyRecipients => "too_many_recipients",
        EnvelopeError::DuplicateRecipient => "duplicate_recipient",
        EnvelopeError::Decrypt => "cannot_decrypt",
        EnvelopeError::TooLarge => "too_large",
        _ => "bad_envelope",
    }
}

fn key_problem(e: KeyError) -> &'static str {
    match e {
        KeyError::BadSignature => "bad_signature",
        KeyError::KeyIdMismatch => "key_id_mismatch",
        KeyError::NotYetValid { .. } => "not_yet_valid",
        KeyError::Expired { .. } => "expired",
        KeyError::Revoked { .. } => "revoked",
        KeyError::LowOrderKey => "bad_key",
        KeyError::NotPinned => "not_pinned",
        KeyError::InvalidIdentityKey => "bad_identity",
        _ => "malformed",
    }
}

fn copy_key(key: &DecryptionKey) -> DecryptionKey {
    DecryptionKey::from_bytes(*key.to_bytes())
}

// ---------------------------------------------------------------------------------------------
// The keyring's secrets between the worker and the page.
//
// Internal to this build (worker and page load the same module): `0x01 || identity_seed[32]
// || key_count:u16 || (x25519_secret[32] || not_before:i64 || not_after:i64 ||
// revoked_at:i64)* || meta_len:u32 || meta`, the plaintext layout of protocol §7.

const PARTS_VERSION: u8 = 0x01;
const PARTS_KEY_LEN: usize = 56;

fn to_parts(keyring: &Keyring) -> Result<Zeroizing<Vec<u8>>, JsError> {
    let count = u16::try_from(keyring.keys().len()).map_err(|_| code("keyring_error"))?;
    let meta_len = u32::try_from(keyring.meta().len()).map_err(|_| code("keyring_error"))?;
    let mut out = Zeroizing::new(Vec::with_capacity(
        1 + 32 + 2 + keyring.keys().len() * PARTS_KEY_LEN + 4 + keyring.meta().len(),
    ));
    out.push(PARTS_VERSION);
    out.extend_from_slice(keyring.identity().to_seed().as_ref());
    out.extend_from_slice(&count.to_be_bytes());
    for e in keyring.keys() {
        out.extend_from_slice(e.key.to_bytes().as_ref());
        out.extend_from_slice(&e.not_before.to_be_bytes());
        out.extend_from_slice(&e.not_after.to_be_bytes());
        out.extend_from_slice(&e.revoked_at.unwrap_or(0).to_be_bytes());
    }
    out.extend_from_slice(&meta_len.to_be_bytes());
    out.extend_from_slice(keyring.meta().as_bytes());
    Ok(out)
}

struct PartsReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl PartsReader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], JsError> {
        let end = self.at.checked_add(N).ok_or_else(|| code("bad_parts"))?;
        let slice = self.bytes.get(self.at..end).ok_or_else(|| code("bad_parts"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.at = end;
        Ok(out)
    }
}

fn from_parts(bytes: &[u8]) -> Result<Keyring, JsError> {
    let mut r = PartsReader { bytes, at: 0 };
    if r.take::<1>()?[0] != PARTS_VERSION {
        return Err(code("bad_parts"));
    }
    let seed = Zeroizing::new(r.take::<32>()?);
    let identity = IdentityKey::from_seed(&seed);
    let count = usize::from(u16::from_be_bytes(r.take()?));
    let mut keys = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let secret = Zeroizing::new(r.take::<32>()?);
        let not_before = i64::from_be_bytes(r.take()?);
        let not_after = i64::from_be_bytes(r.take()?);
        let revoked_at = i64::from_be_bytes(r.take()?);
        keys.push(KeyringEntry {
            key: DecryptionKey::from_bytes(*secret),
            not_before,
            not_after,
            revoked_at: (revoked_at != 0).then_some(revoked_at),
        });
    }
    let meta_len = usize::try_from(u32::from_be_bytes(r.take()?)).map_err(|_| code("bad_parts"))?;
    let meta = bytes.get(r.at..).filter(|m| m.len() == meta_len).ok_or_else(|| code("bad_parts"))?;
    let meta = core::str::from_utf8(meta).map_err(|_| code("bad_parts"))?;
    Ok(Keyring::from_parts(identity, keys, Zeroizing::new(meta.to_owned())))
}

// ---------------------------------------------------------------------------------------------
// Opening and rotating the keyring file (protocol §7).

/// Checks a keyring file without the passphrase (cheap): returns `{mKib, t}`, the Argon2id
/// cost the unlock will take.
///
/// # Errors
/// `not_keyring`, `keyring_version`, `keyring_params`.
#[wasm_bindgen(js_name = keyringFileInfo)]
pub fn keyring_file_info(file: &[u8]) -> Result<JsValue, JsError> {
    let params = Keyring::file_params(file).map_err(keyring_problem)?;
    let out = Object::new();
    set(&out, "mKib", f64::from(params.m_kib));
    set(&out, "t", f64::from(params.t));
    Ok(out.into())
}

/// Decrypts a keyring file with the passphrase (Argon2id: blocking, call it in the Web
/// Worker). Returns the keyring's secrets for [`AdvisorKeyring::from_parts`].
///
/// # Errors
/// `not_keyring`, `keyring_version`, `keyring_params`, `wrong_passphrase` (or a damaged
/// file: indistinguishable by design), `kdf`.
#[wasm_bindgen(js_name = unlockKeyring)]
pub fn unlock_keyring(file: &[u8], passphrase: &str) -> Result<Vec<u8>, JsError> {
    let keyring = Keyring::from_file(file, passphrase).map_err(keyring_problem)?;
    let parts = to_parts(&keyring)?;
    Ok(parts.to_vec())
}

/// Rotates the keyring in a file (blocking, call it in the Web Worker): checks the
/// passphrase by decrypting `file`, adds a new encryption key valid from `now` for
/// `validity_days`, and writes the new file with the same passphrase and Argon2id cost.
/// Old keys stay, so old cases stay readable. Returns `{file, bundle, parts, keyId}`: the new
/// file's bytes, the new key's signed bundle (base64url) to publish, and the new secrets for
/// [`AdvisorKeyring::from_parts`].
///
/// # Errors
/// The errors of [`unlock_keyring`], `invalid_validity`.
#[wasm_bindgen(js_name = rotateKeyring)]
pub fn rotate_keyring(file: &[u8], passphrase: &str, now: f64, validity_days: f64) -> Result<JsValue, JsError> {
    let params = Keyring::file_params(file).map_err(keyring_problem)?;
    let mut keyring = Keyring::from_file(file, passphrase).map_err(keyring_problem)?;
    let validity = (validity_days.floor() as i64).saturating_mul(86_400);
    let bundle = keyring.rotate(&mut os_rng(), secs(now), validity).map_err(keyring_problem)?;
    let new_file = keyring.to_file(&mut os_rng(), passphrase, params).map_err(keyring_problem)?;
    let parts = to_parts(&keyring)?;
    let out = Object::new();
    set(&out, "file", Uint8Array::from(new_file.as_slice()));
    set(&out, "bundle", b64(&bundle.to_bytes()));
    set(&out, "keyId", bundle.key_id().to_hex());
    set(&out, "parts", Uint8Array::from(parts.as_slice()));
    Ok(out.into())
}

// ---------------------------------------------------------------------------------------------
// Colleagues: other advisors, verified from what the server lists.

/// Verifies an advisor as the server lists them (identity, bundles, revocations). Returns the
/// identity, the fingerprint computed here, and the newest bundle that passes every check of
/// protocol §1.3 at `now`, if any.
struct Verified {
    identity: IdentityPublicKey,
    recipient: Option<RecipientKey>,
    /// Key ids of every bundle that is correctly signed by this identity (current or not).
    signed_key_ids: Vec<KeyId>,
    problem: &'static str,
}

fn verify_advisor(identity: &str, bundles: &[String], revocations: &[String], now: i64) -> Option<Verified> {
    let identity = unb64(identity).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok())?;
    let revocations: Vec<Revocation> = revocations
        .iter()
        .filter_map(|r| unb64(r).ok().and_then(|b| Revocation::from_bytes(&b).ok()))
        .collect();
    let mut best: Option<(i64, RecipientKey)> = None;
    let mut problem: Option<&'static str> = None;
    let mut signed_key_ids = Vec::new();
    for b in bundles {
        let Some(bundle) = unb64(b).ok().and_then(|b| KeyBundle::from_bytes(&b).ok()) else {
            problem.get_or_insert("malformed");
            continue;
        };
        if bundle.identity() != identity {
            problem.get_or_insert("wrong_identity");
            continue;
        }
        if bundle.verify_signature().is_ok() {
            signed_key_ids.push(bundle.key_id());
        }
        match bundle.verify_for_sealing(now, &revocations, None) {
            Ok(r) => {
                if best.as_ref().is_none_or(|(nb, _)| bundle.not_before() > *nb) {
                    best = Some((bundle.not_before(), r));
                }
            }
            Err(e) => {
                problem.get_or_insert(key_problem(e));
            }
        }
    }
    let recipient = best.map(|(_, r)| r);
    let problem = if recipient.is_some() { "" } else { problem.unwrap_or("no_key") };
    Some(Verified { identity, recipient, signed_key_ids, problem })
}

/// Another advisor to share a case with: identity and current encryption key verified here.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Colleague {
    identity: IdentityPublicKey,
    recipient: RecipientKey,
}

#[wasm_bindgen]
impl Colleague {
    /// Verifies an advisor as `GET /api/v1/orgs/{slug}` lists them.
    ///
    /// # Errors
    /// `bad_identity`, or why no key can be used (`no_key`, `expired`, `revoked`,
    /// `bad_signature`, ...).
    pub fn verify(identity: &str, bundles: Vec<String>, revocations: Vec<String>, now: f64) -> Result<Colleague, JsError> {
        let v = verify_advisor(identity, &bundles, &revocations, secs(now)).ok_or_else(|| code("bad_identity"))?;
        let recipient = v.recipient.ok_or_else(|| code(v.problem))?;
        Ok(Colleague { identity: v.identity, recipient })
    }

    /// The identity fingerprint in display form, computed here.
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.identity.fingerprint().to_display()
    }
}

/// The identity fingerprint (display form) of a base64url identity key, or `""`.
#[wasm_bindgen(js_name = fingerprintOf)]
pub fn fingerprint_of(identity: &str) -> String {
    unb64(identity)
        .ok()
        .and_then(|b| IdentityPublicKey::from_bytes(&b).ok())
        .map(|k| k.fingerprint().to_display())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The unlocked keyring.

/// The advisor's unlocked keyring, in WASM memory only (zeroized on drop: call `free()` to
/// lock). Remembers the hashes of the replies it sealed in this session, per case, to report
/// them missing (§5.1) if the server drops one.
#[wasm_bindgen]
pub struct AdvisorKeyring {
    keyring: Keyring,
    sent: Vec<(String, MessageHash)>,
}

impl core::fmt::Debug for AdvisorKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdvisorKeyring").field("keyring", &self.keyring).finish_non_exhaustive()
    }
}

#[wasm_bindgen]
impl AdvisorKeyring {
    /// The keyring from the secrets [`unlock_keyring`] or [`rotate_keyring`] returned. The
    /// array is overwritten with zeros.
    ///
    /// # Errors
    /// `bad_parts`.
    #[wasm_bindgen(js_name = fromParts)]
    pub fn from_parts(parts: &mut [u8]) -> Result<AdvisorKeyring, JsError> {
        let result = from_parts(parts);
        parts.zeroize();
        Ok(AdvisorKeyring { keyring: result?, sent: Vec::new() })
    }

    /// Replaces the keys with those of a rotated keyring ([`rotate_keyring`]), keeping what
    /// this session remembers. The array is overwritten with zeros.
    ///
    /// # Errors
    /// `bad_parts`, `wrong_identity` (the parts are another advisor's).
    #[wasm_bindgen(js_name = replaceParts)]
    pub fn replace_parts(&mut self, parts: &mut [u8]) -> Result<(), JsError> {
        let result = from_parts(parts);
        parts.zeroize();
        let keyring = result?;
        if keyring.identity().public() != self.keyring.identity().public() {
            return Err(code("wrong_identity"));
        }
        self.keyring = keyring;
        Ok(())
    }

    /// The identity public key, base64url (for login).
    #[wasm_bindgen(getter)]
    pub fn identity(&self) -> String {
        b64(&self.keyring.identity().public().to_bytes())
    }

    /// The identity fingerprint in display form (8 groups of 4).
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.keyring.identity().public().fingerprint().to_display()
    }

    /// The identity fingerprint in pin form (for `#pin=`).
    #[wasm_bindgen(getter)]
    pub fn pin(&self) -> String {
        self.keyring.identity().public().fingerprint().to_pin()
    }

    /// The keyring's application metadata (UTF-8 JSON; may be `{}`).
    #[wasm_bindgen(getter)]
    pub fn meta(&self) -> String {
        self.keyring.meta().to_owned()
    }

    /// The encryption keys, oldest first: `[{keyId, notBefore, notAfter, revokedAt, current,
    /// published}]`; `published` if a bundle of this identity for the key is in `published`
    /// (base64url bundles, e.g. `all_bundles` of `/advisor/me`).
    pub fn keys(&self, now: f64, published: Vec<String>) -> Array {
        let me = self.keyring.identity().public();
        let published: Vec<KeyId> = published
            .iter()
            .filter_map(|b| unb64(b).ok().and_then(|b| KeyBundle::from_bytes(&b).ok()))
            .filter(|b| b.identity() == me && b.verify_signature().is_ok())
            .map(|b| b.key_id())
            .collect();
        let out = Array::new();
        for e in self.keyring.keys() {
            let item = Object::new();
            let id = e.key.key_id();
            set(&item, "keyId", id.to_hex());
            set(&item, "notBefore", e.not_before as f64);
            set(&item, "notAfter", e.not_after as f64);
            set(&item, "revokedAt", e.revoked_at.unwrap_or(0) as f64);
            set(&item, "current", e.is_current(secs(now)));
            set(&item, "published", published.contains(&id));
            out.push(&item);
        }
        out
    }

    /// Answers a login challenge (base64url) with the identity key (§1.5); base64url.
    ///
    /// # Errors
    /// `bad_base64`.
    #[wasm_bindgen(js_name = signLogin)]
    pub fn sign_login(&self, challenge: &str) -> Result<String, JsError> {
        let challenge = unb64(challenge)?;
        Ok(b64(&self.keyring.identity().sign_login(&challenge)))
    }

    /// Opens a case as `GET /api/v1/advisor/cases/{id}` returns it: every message with the
    /// keyring (old keys and detached stanzas too), the transcript verified (§5.1) against
    /// the identities of the advisors on the case and this advisor's own.
    ///
    /// # Errors
    /// `bad_case` if the object lacks an id or organisation.
    #[wasm_bindgen(js_name = openCase)]
    pub fn open_case(&self, view: JsValue, now: f64) -> Result<OpenedCase, JsError> {
        let id = get_str(&view, "id");
        let org = get_str(&view, "org");
        if id.is_empty() || org.is_empty() {
            return Err(code("bad_case"));
        }
        let now = secs(now);
        let me = self.keyring.identity().public();

        // Advisors on the case.
        let mut advisors = Vec::new();
        let advisor_list = Array::new();
        for a in get_list(&view, "advisors") {
            let aid = get_str(&a, "id");
            let Some(v) = verify_advisor(&get_str(&a, "identity"), &get_strings(&a, "bundles"), &get_strings(&a, "revocations"), now) else {
                continue;
            };
            advisors.push(CaseAdvisor { id: aid, identity: v.identity, recipient: v.recipient, signed_key_ids: v.signed_key_ids });
            let _ = v.problem;
        }

        // Messages.
        let keys = self.keyring.decryption_keys();
        let out = Array::new();
        let mut readable: Vec<(usize, Message)> = Vec::new();
        let mut headers = Vec::new();
        let mut report_key_ids: Vec<KeyId> = Vec::new();
        let messages = get_list(&view, "messages");
        for (index, m) in messages.iter().enumerate() {
            let item = Object::new();
            let seq = get(m, "seq").as_f64().unwrap_or(index as f64);
            set(&item, "index", index as f64);
            set(&item, "seq", seq);
            set(&item, "sender", get_str(m, "sender"));
            set(&item, "created", get_str(m, "created"));
            let env = unb64(&get_str(m, "envelope")).unwrap_or_default();
            let stanzas: Vec<Vec<u8>> = get_strings(m, "stanzas").iter().filter_map(|s| unb64(s).ok()).collect();
            let refs: Vec<&[u8]> = stanzas.iter().map(Vec::as_slice).collect();
            if let Ok((header, len)) = Header::parse(&env) {
                if index == 0 {
                    report_key_ids = header.stanza_key_ids().collect();
                }
                headers.push(ShareSource { seq: seq as u32, header: env.get(..len).unwrap_or_default().to_vec(), stanzas: stanzas.clone() });
            }
            let want = if index == 0 { Purpose::Report } else { Purpose::Message };
            let opened = envelope::open(&env, &keys, &refs)
                .ok()
                .filter(|o| o.purpose == want && o.org == org)
                .and_then(|o| Message::from_bytes(&o.plaintext).ok());
            let Some(message) = opened else {
                set(&item, "kind", "unreadable");
                out.push(&item);
                continue;
            };
            let kind = match message.kind() {
                MessageKind::Report => "report",
                MessageKind::FollowUp => "follow_up",
                MessageKind::Reply => "reply",
                MessageKind::Membership => "membership",
            };
            set(&item, "kind", kind);
            set(&item, "createdAt", message.created_at() as f64);
            set(&item, "body", String::from_utf8_lossy(message.body()).into_owned());
            let author = message.author_bytes();
            let fingerprint = message.author().map(|a| a.fingerprint().to_display()).unwrap_or_default();
            set(&item, "author", if message.kind() == MessageKind::Reply { fingerprint } else { String::new() });
            let author_id = advisors.iter().find(|a| a.identity.to_bytes() == author).map(|a| a.id.clone()).unwrap_or_default();
            set(&item, "authorId", author_id);
            set(&item, "mine", author == me.to_bytes());
            set(&item, "signatureOk", message.verify_signature());
            let parent = message.parent();
            let parent_known = if index == 0 { parent == [0u8; 32] } else { readable.iter().any(|(_, r)| r.hash() == parent) };
            set(&item, "parentKnown", parent_known);
            out.push(&item);
            readable.push((index, message));
        }

        // The transcript.
        let mut trusted: Vec<IdentityPublicKey> = advisors.iter().map(|a| a.identity).collect();
        trusted.push(me);
        let mut problem = "";
        let mut problem_index: i64 = -1;
        if let Some(first) = (0..messages.len()).find(|i| !readable.iter().any(|(j, _)| j == i)) {
            problem = "unreadable";
            problem_index = first as i64;
        }
        let list: Vec<Message> = readable.iter().map(|(_, m)| m.clone()).collect();
        let sent: Vec<MessageHash> = self.sent.iter().filter(|(c, _)| *c == id).map(|(_, h)| *h).collect();
        match message::verify_transcript(&list, &trusted) {
            Ok(t) => {
                if t.check_sent(&sent).is_err() && problem.is_empty() {
                    problem = "missing_sent";
                    problem_index = messages.len() as i64;
                }
            }
            Err(e) => {
                let (p, i) = match e {
                    TranscriptError::Empty => ("unreadable", 0),
                    TranscriptError::Malformed { index } => ("malformed", index),
                    TranscriptError::Forged { index } => ("forged", index),
                    TranscriptError::UnknownAuthor { index } => ("unknown_author", index),
                    TranscriptError::Gap { index } => ("gap", index),
                    TranscriptError::Reordered { index } => ("reordered", index),
                    _ => ("malformed", 0),
                };
                problem = p;
                problem_index = readable.get(i).map_or(i as i64, |(j, _)| *j as i64);
            }
        }

        // The reporter's reply key, from a readable, correctly signed report.
        let reply_key = readable
            .first()
            .filter(|(i, m)| *i == 0 && m.kind() == MessageKind::Report && m.verify_signature())
            .and_then(|(_, m)| m.reply_key());
        let head = readable.last().map(|(_, m)| m.hash());

        for a in &advisors {
            let item = Object::new();
            set(&item, "id", a.id.clone());
            set(&item, "fingerprint", a.identity.fingerprint().to_display());
            set(&item, "usable", a.recipient.is_some());
            set(&item, "addressed", a.signed_key_ids.iter().any(|k| report_key_ids.contains(k)));
            set(&item, "me", a.identity == me);
            advisor_list.push(&item);
        }

        let summary = Object::new();
        set(&summary, "ok", problem.is_empty());
        set(&summary, "problem", problem);
        set(&summary, "problemIndex", problem_index as f64);
        set(&summary, "messages", out);
        set(&summary, "advisors", advisor_list);
        set(&summary, "canReply", reply_key.is_some() && head.is_some());
        Ok(OpenedCase { id, org, advisors, reply_key, head, sources: headers, summary: summary.into() })
    }

    /// Seals a reply (§5 kind 3, signed with the identity key, parent = the newest readable
    /// message) with the UTF-8 JSON `body` (§6) to the reporter's reply key, the current keys
    /// of the advisors on the case and this advisor's current key. Returns the envelope,
    /// base64url.
    ///
    /// # Errors
    /// `cannot_reply` (no readable report), `no_key` (this keyring has no current key),
    /// `too_large`, `too_many_recipients`.
    #[wasm_bindgen(js_name = sealReply)]
    pub fn seal_reply(&mut self, case: &OpenedCase, body: &str, now: f64) -> Result<String, JsError> {
        let (Some(reply_key), Some(head)) = (case.reply_key, case.head) else {
            return Err(code("cannot_reply"));
        };
        let now = secs(now);
        let mine = self.keyring.current_key(now).ok_or_else(|| code("no_key"))?.key.recipient();
        let mut recipients: Vec<RecipientKey> = vec![reply_key, mine];
        for a in &case.advisors {
            if let Some(r) = a.recipient
                && !recipients.iter().any(|x| x.key_id() == r.key_id())
            {
                recipients.push(r);
            }
        }
        let message = Message::sign_reply(self.keyring.identity(), &head, now, body.as_bytes()).map_err(|_| code("too_large"))?;
        let sealed = envelope::seal(&mut os_rng(), Purpose::Message, &case.org, &recipients, message.as_bytes())
            .map_err(|e| code(envelope_problem(&e)))?;
        self.sent.push((case.id.clone(), message.hash()));
        Ok(b64(&sealed))
    }

    /// Detached stanzas (§3.6) that give `colleague` every message of the case:
    /// `[{message: seq, stanza}]` (base64url stanzas), ready for `POST …/share`.
    ///
    /// # Errors
    /// `cannot_decrypt` if a message cannot be opened with this keyring.
    #[wasm_bindgen(js_name = shareMessages)]
    pub fn share_messages(&self, case: &OpenedCase, colleague: &Colleague) -> Result<Array, JsError> {
        let keys = self.keyring.decryption_keys();
        let out = Array::new();
        for s in &case.sources {
            let refs: Vec<&[u8]> = s.stanzas.iter().map(Vec::as_slice).collect();
            let stanza = envelope::rewrap(&s.header, &keys, &refs, &colleague.recipient, &mut os_rng())
                .map_err(|e| code(envelope_problem(&e)))?;
            let item = Object::new();
            set(&item, "message", f64::from(s.seq));
            set(&item, "stanza", b64(&stanza));
            out.push(&item);
        }
        Ok(out)
    }

    /// A detached stanza that gives `colleague` an attachment: `header` is the start of the
    /// attachment's envelope (at least its header; at most 3192 bytes are read), `stanzas`
    /// this advisor's detached stanzas for it. Returns the stanza, base64url.
    ///
    /// # Errors
    /// `cannot_decrypt`, `bad_envelope` (too short or not an attachment of this case).
    #[wasm_bindgen(js_name = shareAttachment)]
    pub fn share_attachment(&self, case: &OpenedCase, header: &[u8], stanzas: Vec<String>, colleague: &Colleague) -> Result<String, JsError> {
        let (h, _) = Header::parse(header).map_err(|e| code(envelope_problem(&e)))?;
        if h.purpose() != Purpose::Attachment || h.org() != case.org {
            return Err(code("bad_envelope"));
        }
        let stanzas: Vec<Vec<u8>> = stanzas.iter().filter_map(|s| unb64(s).ok()).collect();
        let refs: Vec<&[u8]> = stanzas.iter().map(Vec::as_slice).collect();
        let stanza = envelope::rewrap(header, &self.keyring.decryption_keys(), &refs, &colleague.recipient, &mut os_rng())
            .map_err(|e| code(envelope_problem(&e)))?;
        Ok(b64(&stanza))
    }

    /// A streaming opener for one attachment of `case`, with this advisor's detached stanzas
    /// for it (base64url).
    #[wasm_bindgen(js_name = attachmentDecryptor)]
    pub fn attachment_decryptor(&self, case: &OpenedCase, stanzas: Vec<String>) -> AdvisorAttachmentDecryptor {
        AdvisorAttachmentDecryptor {
            keys: self.keyring.keys().iter().map(|e| copy_key(&e.key)).collect(),
            stanzas: stanzas.iter().filter_map(|s| unb64(s).ok()).collect(),
            org: case.org.clone(),
            pending: Zeroizing::new(Vec::new()),
            inner: None,
        }
    }
}

#[derive(Debug)]
struct CaseAdvisor {
    id: String,
    identity: IdentityPublicKey,
    recipient: Option<RecipientKey>,
    signed_key_ids: Vec<KeyId>,
}

#[derive(Debug)]
struct ShareSource {
    seq: u32,
    header: Vec<u8>,
    stanzas: Vec<Vec<u8>>,
}

/// A case opened with [`AdvisorKeyring::open_case`]: what the page shows (`summary`) and what
/// replying and sharing need (the reporter's reply key, the transcript head, the advisors'
/// verified keys, the message headers). Holds no secret key.
#[wasm_bindgen]
#[derive(Debug)]
pub struct OpenedCase {
    id: String,
    org: String,
    advisors: Vec<CaseAdvisor>,
    reply_key: Option<RecipientKey>,
    head: Option<MessageHash>,
    sources: Vec<ShareSource>,
    summary: JsValue,
}

#[wasm_bindgen]
impl OpenedCase {
    /// `{ok, problem, problemIndex, canReply, messages: [{index, seq, sender, created, kind,
    /// createdAt, body, author, authorId, mine, signatureOk, parentKnown}], advisors: [{id,
    /// fingerprint, usable, addressed, me}]}`. `problem` is `""`, `unreadable`, `forged`,
    /// `unknown_author`, `gap`, `reordered`, `malformed` or `missing_sent`; `kind` is
    /// `report`, `follow_up`, `reply` or `unreadable`; `author` is the fingerprint of a reply's
    /// signer; `addressed` means the reporter sealed the report to one of that advisor's keys.
    #[wasm_bindgen(getter)]
    pub fn summary(&self) -> JsValue {
        self.summary.clone()
    }

    /// The case id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.id.clone()
    }
}

/// Opens one attachment envelope in pieces (the crypto crate's `envelope::Decryptor`) with
/// every key of the keyring and the advisor's detached stanzas. The plaintext is authentic
/// only once `finish` succeeds: discard the pieces on any error.
#[wasm_bindgen]
pub struct AdvisorAttachmentDecryptor {
    keys: Vec<DecryptionKey>,
    stanzas: Vec<Vec<u8>>,
    org: String,
    pending: Zeroizing<Vec<u8>>,
    inner: Option<Decryptor>,
}

impl core::fmt::Debug for AdvisorAttachmentDecryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdvisorAttachmentDecryptor").field("org", &self.org).finish_non_exhaustive()
    }
}

#[wasm_bindgen]
impl AdvisorAttachmentDecryptor {
    /// Feeds envelope bytes; returns plaintext released so far.
    ///
    /// # Errors
    /// `cannot_decrypt`, `bad_envelope` (also: not an attachment of this case).
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, JsError> {
        let mut out = Vec::new();
        if let Some(dec) = self.inner.as_mut() {
            dec.push(data, &mut out).map_err(|e| code(envelope_problem(&e)))?;
            return Ok(out);
        }
        self.pending.extend_from_slice(data);
        let keys: Vec<&DecryptionKey> = self.keys.iter().collect();
        let refs: Vec<&[u8]> = self.stanzas.iter().map(Vec::as_slice).collect();
        match Decryptor::new(&self.pending, &keys, &refs) {
            Ok((mut dec, header_len)) => {
                if dec.header().purpose() != Purpose::Attachment || dec.header().org() != self.org {
                    return Err(code("bad_envelope"));
                }
                let rest = self.pending.get(header_len..).unwrap_or_default();
                dec.push(rest, &mut out).map_err(|e| code(envelope_problem(&e)))?;
                self.pending.zeroize();
                self.inner = Some(dec);
                Ok(out)
            }
            Err(EnvelopeError::Truncated) => Ok(out),
            Err(e) => Err(code(envelope_problem(&e))),
        }
    }

    /// Ends the envelope; returns the last plaintext.
    ///
    /// # Errors
    /// `cannot_decrypt` if the envelope is incomplete or damaged.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsError> {
        let dec = self.inner.take().ok_or_else(|| code("cannot_decrypt"))?;
        let mut out = Vec::new();
        dec.finish(&mut out).map_err(|e| code(envelope_problem(&e)))?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// The poster's QR code.

/// A QR code (error correction level M) of `text` as an SVG document, black on white with a
/// quiet zone, at least `size` pixels wide. Drawn here: nothing is loaded from elsewhere.
///
/// # Errors
/// `too_long` if the text does not fit in a QR code.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str, size: u32) -> Result<String, JsError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|_| code("too_long"))?;
    Ok(qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(size, size)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}
