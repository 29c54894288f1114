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

use js_sys::{Array, Object, Uint8Array};
use meldpunt_client::advisors::{self, Pins};
use meldpunt_client::body::MessageBody;
use meldpunt_client::case::{self, CaseView, EnvelopeIn, OpenInput, Viewer};
use meldpunt_client::colleagues::{ColleagueError, Colleagues, Confirmed};
use meldpunt_client::seal::{self, ShareTarget};
use meldpunt_client::{b64, unb64 as core_unb64};
use meldpunt_crypto::keyring::{Keyring, KeyringEntry, KeyringError};
use meldpunt_crypto::keys::{IdentityKey, IdentityPublicKey, KeyBundle};
use meldpunt_crypto::message::MessageHash;
use meldpunt_crypto::recipient::{DecryptionKey, KeyId};
use meldpunt_crypto::rng::os_rng;
use wasm_bindgen::prelude::*;
use zeroize::{Zeroize, Zeroizing};

use crate::attachments::AttachmentDecryptor;
use crate::view::{self, code, get_list, get_str, get_strings, get_u32, secs, set};

fn unb64(s: &str) -> Result<Vec<u8>, JsError> {
    core_unb64(s).map_err(|_| code("bad_base64"))
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
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| code("bad_parts"))?;
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
    let meta = bytes
        .get(r.at..)
        .filter(|m| m.len() == meta_len)
        .ok_or_else(|| code("bad_parts"))?;
    let meta = core::str::from_utf8(meta).map_err(|_| code("bad_parts"))?;
    Ok(Keyring::from_parts(
        identity,
        keys,
        Zeroizing::new(meta.to_owned()),
    ))
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
pub fn rotate_keyring(
    file: &[u8],
    passphrase: &str,
    now: f64,
    validity_days: f64,
) -> Result<JsValue, JsError> {
    let params = Keyring::file_params(file).map_err(keyring_problem)?;
    let mut keyring = Keyring::from_file(file, passphrase).map_err(keyring_problem)?;
    let validity = (validity_days.floor() as i64).saturating_mul(86_400);
    let bundle = keyring
        .rotate(&mut os_rng(), secs(now), validity)
        .map_err(keyring_problem)?;
    let new_file = keyring
        .to_file(&mut os_rng(), passphrase, params)
        .map_err(keyring_problem)?;
    let parts = to_parts(&keyring)?;
    let out = Object::new();
    set(&out, "file", Uint8Array::from(new_file.as_slice()));
    set(&out, "bundle", b64(&bundle.to_bytes()));
    set(&out, "keyId", bundle.key_id().to_hex());
    set(&out, "parts", Uint8Array::from(parts.as_slice()));
    Ok(out.into())
}

/// Writes the keyring file again with new application metadata (`meta`, UTF-8 JSON, e.g. with
/// a colleague the core remembered): checks the passphrase by decrypting `file`, keeps its keys
/// and Argon2id cost. Blocking: call it in the Web Worker. Returns the new file's bytes.
///
/// # Errors
/// The errors of [`unlock_keyring`]; `wrong_identity` if `identity` (base64url) is not the
/// file's.
#[wasm_bindgen(js_name = rewriteKeyring)]
pub fn rewrite_keyring(
    file: &[u8],
    passphrase: &str,
    identity: &str,
    meta: &str,
) -> Result<Vec<u8>, JsError> {
    let params = Keyring::file_params(file).map_err(keyring_problem)?;
    let mut keyring = Keyring::from_file(file, passphrase).map_err(keyring_problem)?;
    if b64(&keyring.identity().public().to_bytes()) != identity {
        return Err(code("wrong_identity"));
    }
    keyring.set_meta(Zeroizing::new(meta.to_owned()));
    keyring
        .to_file(&mut os_rng(), passphrase, params)
        .map_err(keyring_problem)
}

// ---------------------------------------------------------------------------------------------
// Colleagues (confirmed by the core, remembered in the keyring's meta).

fn colleague_problem(e: &ColleagueError) -> &'static str {
    match e {
        ColleagueError::NeedsFingerprint => "needs_fingerprint",
        ColleagueError::BadFingerprint => "bad_fingerprint",
        ColleagueError::Mismatch => "fingerprint_mismatch",
        ColleagueError::IdentityChanged { .. } => "identity_changed",
        ColleagueError::NoKey => "no_key",
        ColleagueError::Yourself => "yourself",
    }
}

/// A colleague the core confirmed (remembered in the keyring, or by the fingerprint typed).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Colleague {
    inner: Confirmed,
}

#[wasm_bindgen]
impl Colleague {
    /// The identity fingerprint in display form, computed by the core.
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.verified().fingerprint()
    }

    /// The server's id of the colleague.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.verified().id.clone()
    }

    /// Whether the fingerprint was typed now (not yet remembered in the keyring).
    #[wasm_bindgen(getter, js_name = isNew)]
    pub fn is_new(&self) -> bool {
        self.inner.is_new()
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
// A case as the server sends it (`GET /api/v1/advisor/cases/{id}`): only what the core reads.

#[derive(Debug)]
struct Source {
    seq: u32,
    envelope: Vec<u8>,
    stanzas: Vec<Vec<u8>>,
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
        f.debug_struct("AdvisorKeyring")
            .field("keyring", &self.keyring)
            .finish_non_exhaustive()
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
        Ok(AdvisorKeyring {
            keyring: result?,
            sent: Vec::new(),
        })
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

    /// Opens a case as `GET /api/v1/advisor/cases/{id}` returns it, with the core
    /// (`meldpunt_client::case::open` as this advisor; the organisation must be the one the
    /// server names for the case, every envelope is checked against it).
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
        let me = self.keyring.identity().public();
        let listed: Vec<_> = get_list(&view, "advisors")
            .iter()
            .map(view::listed)
            .collect();
        let (listed, malformed) = advisors::verify_all(&listed, secs(now));
        let messages = get_list(&view, "messages");
        let mut sources = Vec::with_capacity(messages.len());
        let mut envelopes = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            let envelope = unb64(&get_str(m, "envelope")).unwrap_or_default();
            let stanzas: Vec<Vec<u8>> = get_strings(m, "stanzas")
                .iter()
                .filter_map(|s| unb64(s).ok())
                .collect();
            envelopes.push(EnvelopeIn {
                envelope: envelope.clone(),
                detached: stanzas.clone(),
            });
            let seq = get_u32(m, "seq").unwrap_or(u32::try_from(i).unwrap_or(u32::MAX));
            sources.push(Source {
                seq,
                envelope,
                stanzas,
            });
        }
        let sent: Vec<MessageHash> = self
            .sent
            .iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, h)| *h)
            .collect();
        let keys = self.keyring.decryption_keys();
        let case = case::open(OpenInput {
            viewer: Viewer::Advisor(me),
            org: &org,
            envelopes: &envelopes,
            keys: &keys,
            listed,
            listed_malformed: malformed,
            sent: &sent,
        });
        let seqs: Vec<u32> = sources.iter().map(|s| s.seq).collect();
        let summary = view::summary(&case, &me, |i, item| {
            set(item, "seq", f64::from(seqs.get(i).copied().unwrap_or(0)))
        });
        let can_reply = case.is_member(&me) && case.reporter.is_some() && case.head.is_some();
        let _ = js_sys::Reflect::set(
            &summary,
            &JsValue::from_str("canReply"),
            &JsValue::from_bool(can_reply),
        );
        let _ = js_sys::Reflect::set(
            &summary,
            &JsValue::from_str("amMember"),
            &JsValue::from_bool(case.is_member(&me)),
        );
        Ok(OpenedCase {
            id,
            case,
            sources,
            summary,
        })
    }

    fn own(&self, now: f64) -> Option<meldpunt_crypto::recipient::RecipientKey> {
        self.keyring
            .current_key(secs(now))
            .map(|e| e.key.recipient())
    }

    /// Seals a reply (`meldpunt_client::seal::seal_reply`) with the JSON `body` of §6 to the
    /// reporter, the other members and this advisor. Returns `{envelope, unreachable}`.
    ///
    /// # Errors
    /// `bad_body`, `cannot_reply`, `not_member`, `too_large`, ...
    #[wasm_bindgen(js_name = sealReply)]
    pub fn seal_reply(
        &mut self,
        case: &OpenedCase,
        body: &str,
        now: f64,
    ) -> Result<JsValue, JsError> {
        let body = MessageBody::from_json(body).map_err(|_| code("bad_body"))?;
        let own = self.own(now);
        let sealed = seal::seal_reply(
            &mut os_rng(),
            self.keyring.identity(),
            own,
            &case.case,
            &body,
            secs(now),
        )
        .map_err(|e| code(e.code()))?;
        self.sent.push((case.id.clone(), sealed.message.hash()));
        Ok(view::sealed_out(&sealed))
    }

    /// Confirms a colleague (`meldpunt_client::colleagues::Colleagues::confirm`) as the
    /// organisation page lists them (`{id, display_name, identity, bundles, revocations}`):
    /// remembered in this keyring, or by `typed` (the fingerprint they read out to you).
    ///
    /// # Errors
    /// `bad_identity`, `needs_fingerprint`, `bad_fingerprint`, `fingerprint_mismatch`,
    /// `identity_changed`, `no_key`, `yourself`.
    #[wasm_bindgen(js_name = confirmColleague)]
    pub fn confirm_colleague(
        &self,
        listed: JsValue,
        typed: Option<String>,
        now: f64,
    ) -> Result<Colleague, JsError> {
        let listed = view::listed(&listed);
        let verified =
            advisors::verify(&listed, &Pins::none(), secs(now)).map_err(|p| code(p.code()))?;
        let me = self.keyring.identity().public();
        Colleagues::from_meta(self.keyring.meta())
            .confirm(&me, &verified, typed.as_deref())
            .map(|inner| Colleague { inner })
            .map_err(|e| code(colleague_problem(&e)))
    }

    /// Remembers a confirmed colleague in this keyring's meta (in memory: offer the file for
    /// download with [`rewrite_keyring`]). `day` is `YYYY-MM-DD`. Returns the new meta.
    pub fn remember(&mut self, colleague: &Colleague, day: &str) -> String {
        let mut colleagues = Colleagues::from_meta(self.keyring.meta());
        colleagues.remember(&colleague.inner, day);
        let meta = colleagues.to_meta(self.keyring.meta());
        self.keyring.set_meta(Zeroizing::new(meta.clone()));
        meta
    }

    /// Detached stanzas (`meldpunt_client::seal::share_stanza`) that give `colleague` every
    /// message of the case: `[{message: seq, stanza}]`.
    ///
    /// # Errors
    /// `cannot_decrypt`, `bad_envelope`.
    #[wasm_bindgen(js_name = shareMessages)]
    pub fn share_messages(
        &self,
        case: &OpenedCase,
        colleague: &Colleague,
    ) -> Result<Array, JsError> {
        let keys = self.keyring.decryption_keys();
        let out = Array::new();
        for s in &case.sources {
            let refs: Vec<&[u8]> = s.stanzas.iter().map(Vec::as_slice).collect();
            let stanza = seal::share_stanza(
                &mut os_rng(),
                &keys,
                &case.case,
                &s.envelope,
                &refs,
                ShareTarget::Message,
                &colleague.inner,
            )
            .map_err(|e| code(e.code()))?;
            let item = Object::new();
            set(&item, "message", f64::from(s.seq));
            set(&item, "stanza", b64(&stanza));
            out.push(&item);
        }
        Ok(out)
    }

    /// A detached stanza that gives `colleague` an attachment (`header`: the start of its
    /// envelope; `stanzas`: this advisor's detached stanzas for it). Base64url.
    ///
    /// # Errors
    /// `cannot_decrypt`, `bad_envelope` (not an attachment of this case).
    #[wasm_bindgen(js_name = shareAttachment)]
    pub fn share_attachment(
        &self,
        case: &OpenedCase,
        header: &[u8],
        stanzas: Vec<String>,
        colleague: &Colleague,
    ) -> Result<String, JsError> {
        let stanzas: Vec<Vec<u8>> = stanzas.iter().filter_map(|s| unb64(s).ok()).collect();
        let refs: Vec<&[u8]> = stanzas.iter().map(Vec::as_slice).collect();
        let keys = self.keyring.decryption_keys();
        let stanza = seal::share_stanza(
            &mut os_rng(),
            &keys,
            &case.case,
            header,
            &refs,
            ShareTarget::Attachment,
            &colleague.inner,
        )
        .map_err(|e| code(e.code()))?;
        Ok(b64(&stanza))
    }

    /// The signed statement that adds `colleague` (`meldpunt_client::seal::seal_add`), base64url.
    ///
    /// # Errors
    /// `cannot_reply`, `not_member`, `already_member`, ...
    #[wasm_bindgen(js_name = sealAdd)]
    pub fn seal_add(
        &mut self,
        case: &OpenedCase,
        colleague: &Colleague,
        now: f64,
    ) -> Result<String, JsError> {
        let own = self.own(now);
        let sealed = seal::seal_add(
            &mut os_rng(),
            self.keyring.identity(),
            own,
            &case.case,
            &colleague.inner,
            secs(now),
        )
        .map_err(|e| code(e.code()))?;
        self.sent.push((case.id.clone(), sealed.message.hash()));
        Ok(b64(&sealed.envelope))
    }

    /// The signed statement that removes the member with this fingerprint (possibly this
    /// advisor) (`meldpunt_client::seal::seal_remove`). Returns `{envelope, advisor}`, where
    /// `advisor` is the server's id of that member.
    ///
    /// # Errors
    /// `not_a_member`, `last_member`, `not_member`, `cannot_reply`, ...
    #[wasm_bindgen(js_name = sealRemove)]
    pub fn seal_remove(
        &mut self,
        case: &OpenedCase,
        fingerprint: &str,
        now: f64,
    ) -> Result<JsValue, JsError> {
        let advisor = case
            .case
            .members
            .iter()
            .find(|m| m.fingerprint().to_display() == fingerprint)
            .copied()
            .ok_or_else(|| code("not_a_member"))?;
        let me = self.keyring.identity().public();
        let own = self.own(now);
        let sealed = seal::seal_remove(
            &mut os_rng(),
            self.keyring.identity(),
            own,
            &case.case,
            &advisor,
            secs(now),
        )
        .map_err(|e| code(e.code()))?;
        if advisor != me {
            self.sent.push((case.id.clone(), sealed.message.hash()));
        }
        let out = Object::new();
        set(&out, "envelope", b64(&sealed.envelope));
        set(
            &out,
            "advisor",
            case.case.member_id(&advisor).unwrap_or_default().to_owned(),
        );
        Ok(out.into())
    }

    /// A streaming opener for one attachment of `case`, with this advisor's detached stanzas.
    #[wasm_bindgen(js_name = attachmentDecryptor)]
    pub fn attachment_decryptor(
        &self,
        case: &OpenedCase,
        stanzas: Vec<String>,
    ) -> AttachmentDecryptor {
        AttachmentDecryptor::new(
            self.keyring
                .keys()
                .iter()
                .map(|e| copy_key(&e.key))
                .collect(),
            stanzas.iter().filter_map(|s| unb64(s).ok()).collect(),
            case.case.org.clone(),
        )
    }
}

/// A case opened with [`AdvisorKeyring::open_case`]: the core's judgement and the message
/// envelopes for sharing. Holds no secret key.
#[wasm_bindgen]
#[derive(Debug)]
pub struct OpenedCase {
    id: String,
    case: CaseView,
    sources: Vec<Source>,
    summary: JsValue,
}

#[wasm_bindgen]
impl OpenedCase {
    /// What the page shows: the summary of the core's case view (see `view.rs`), plus `seq` per
    /// message, `canReply` and `amMember`.
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

// ---------------------------------------------------------------------------------------------
// The poster's QR code.

/// A QR code (error correction level M) of `text` as an SVG document, black on white with a
/// quiet zone, at least `size` pixels wide. Drawn here: nothing is loaded from elsewhere.
///
/// # Errors
/// `too_long` if the text does not fit in a QR code.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str, size: u32) -> Result<String, JsError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| code("too_long"))?;
    Ok(qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(size, size)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}
