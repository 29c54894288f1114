//! wasm-bindgen bindings over `meldpunt-crypto` for the reporter's pages.
//!
//! This crate holds no cryptography of its own: it turns the crypto crate's API into JS
//! functions and classes, converts base64url and JS values, and keeps the reporter's keys
//! inside WASM memory. The one piece of real work here is [`metadata`] (removing Exif/GPS and
//! text chunks from images before they are encrypted), which is pure byte manipulation.
//!
//! The pages (`www/`) fetch; this crate verifies, signs, seals and opens. Two calls block for a
//! noticeable time and run in a Web Worker (`www/js/worker.js`): [`derive_seed`] (Argon2id,
//! protocol §4.3) and [`solve_pow`] (§8). Everything else is fast enough for the page itself.
//!
//! Errors are `Error` objects whose message is a short, stable code (`not_pinned`,
//! `stale_keys`, ...) that the pages translate; no error carries secret material.
#![deny(missing_docs)]

pub mod metadata;
mod advisor;

use base64ct::{Base64UrlUnpadded, Encoding};
use js_sys::{Array, Object, Reflect, Uint8Array};
use meldpunt_crypto::envelope::{self, Decryptor, Encryptor, EnvelopeError, Purpose};
use meldpunt_crypto::keys::{Fingerprint, IdentityPublicKey, KeyBundle, KeyError, Revocation};
use meldpunt_crypto::message::{self, Message, MessageHash, MessageKind, TranscriptError};
use meldpunt_crypto::pickup::{PickupCode, PickupError, PickupSeed, ReporterKeys};
use meldpunt_crypto::pow;
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};
use meldpunt_crypto::rng::{Rng, os_rng};
use wasm_bindgen::prelude::*;
use zeroize::Zeroize;

// ---------------------------------------------------------------------------------------------
// Small conversions.

fn code(c: &str) -> JsError {
    JsError::new(c)
}

fn b64_decode(s: &str) -> Result<Vec<u8>, JsError> {
    Base64UrlUnpadded::decode_vec(s).map_err(|_| code("bad_base64"))
}

fn b64_encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Seconds since the epoch from JS (`Date.now() / 1000`).
fn secs(now: f64) -> i64 {
    now.floor() as i64
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
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

// ---------------------------------------------------------------------------------------------
// Pins (§1.2) and advisors' key bundles (§1.3).

/// The identity fingerprints pinned in a reporting link (`#pin=FP1,FP2`). Without a `pin`
/// parameter nothing is pinned; with one, every advisor whose fingerprint is not listed is
/// refused.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Pins {
    pins: Option<Vec<Fingerprint>>,
}

#[wasm_bindgen]
impl Pins {
    /// Reads the URL fragment (`location.hash`, already percent-decoded), e.g.
    /// `#pin=7K3M9QWE…,ABCD…`. Other `&`-separated parameters are ignored.
    ///
    /// # Errors
    /// `bad_pin` if a listed fingerprint is malformed (the link is damaged: refuse to go on).
    #[wasm_bindgen(js_name = fromFragment)]
    pub fn from_fragment(fragment: &str) -> Result<Pins, JsError> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let mut pins: Option<Vec<Fingerprint>> = None;
        for param in fragment.split('&') {
            let Some(list) = param.strip_prefix("pin=") else { continue };
            let all = pins.get_or_insert_with(Vec::new);
            for fp in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                all.push(Fingerprint::parse(fp).map_err(|_| code("bad_pin"))?);
            }
        }
        Ok(Pins { pins })
    }

    /// No pins: every advisor whose bundles verify is accepted.
    #[wasm_bindgen(js_name = none)]
    pub fn none() -> Pins {
        Pins { pins: None }
    }

    /// Whether the link carries pins.
    #[wasm_bindgen(getter)]
    pub fn active(&self) -> bool {
        self.pins.is_some()
    }

    /// Number of pinned fingerprints.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> usize {
        self.pins.as_ref().map_or(0, Vec::len)
    }

    /// The fragment to carry the pins to another page (`#pin=…`), or `""`.
    #[wasm_bindgen(js_name = toFragment)]
    pub fn to_fragment(&self) -> String {
        match &self.pins {
            Some(p) => format!("#pin={}", p.iter().map(Fingerprint::to_pin).collect::<Vec<_>>().join(",")),
            None => String::new(),
        }
    }
}

/// The result of checking one advisor ([`Advisors::add`]).
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct AdvisorCheck {
    /// The advisor's id as the server gave it.
    pub id: String,
    /// Whether a verified, current encryption key exists: reports can be sealed to them.
    pub usable: bool,
    /// Whether their identity is trusted for signed replies (parses, and pinned if pins are
    /// present).
    pub trusted: bool,
    /// Why not usable: `""`, `bad_identity`, `not_pinned`, `no_key`, or the first bundle
    /// problem (`bad_signature`, `expired`, `not_yet_valid`, `revoked`, `key_id_mismatch`,
    /// `wrong_identity`, `bad_key`, `malformed`).
    pub problem: String,
    /// The identity fingerprint in display form (8 groups of 4), computed here, never taken
    /// from the server. Empty if the identity key is malformed.
    pub fingerprint: String,
}

#[derive(Debug)]
struct AdvisorEntry {
    id: String,
    identity: IdentityPublicKey,
    recipient: Option<RecipientKey>,
    /// The link carries pins and this identity is one of them (§1.2): trusted for replies even
    /// if the report did not name it.
    pinned: bool,
}

/// The advisors of an organisation or a case, each verified once: identity (and pin), and the
/// newest key bundle that passes every check of §1.3.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Advisors {
    entries: Vec<AdvisorEntry>,
}

#[wasm_bindgen]
impl Advisors {
    /// An empty set.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Advisors {
        Advisors::default()
    }

    /// Verifies an advisor as the server lists them: `identity` (base64url Ed25519 key),
    /// `bundles` and `revocations` (base64url). Refused outright if pins are present and the
    /// fingerprint is not pinned. Otherwise trusted for replies, and usable for sealing if a
    /// bundle signed by this identity verifies at `now` (Unix seconds); of several, the one
    /// with the latest `not_before` is used.
    pub fn add(
        &mut self,
        id: &str,
        identity: &str,
        bundles: Vec<String>,
        revocations: Vec<String>,
        pins: &Pins,
        now: f64,
    ) -> AdvisorCheck {
        let mut check = AdvisorCheck {
            id: id.to_owned(),
            usable: false,
            trusted: false,
            problem: String::new(),
            fingerprint: String::new(),
        };
        let Some(identity) = b64_decode(identity).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok()) else {
            check.problem = "bad_identity".into();
            return check;
        };
        let fingerprint = identity.fingerprint();
        check.fingerprint = fingerprint.to_display();
        if let Some(pins) = &pins.pins
            && !fingerprint.is_in(pins)
        {
            check.problem = "not_pinned".into();
            return check;
        }
        check.trusted = true;
        let revocations: Vec<Revocation> = revocations
            .iter()
            .filter_map(|r| b64_decode(r).ok().and_then(|b| Revocation::from_bytes(&b).ok()))
            .collect();
        let mut best: Option<(i64, RecipientKey)> = None;
        let mut first_problem: Option<&'static str> = None;
        for b in &bundles {
            let Some(bundle) = b64_decode(b).ok().and_then(|b| KeyBundle::from_bytes(&b).ok()) else {
                first_problem.get_or_insert("malformed");
                continue;
            };
            if bundle.identity() != identity {
                first_problem.get_or_insert("wrong_identity");
                continue;
            }
            match bundle.verify_for_sealing(secs(now), &revocations, pins.pins.as_deref()) {
                Ok(recipient) => {
                    if best.as_ref().is_none_or(|(nb, _)| bundle.not_before() > *nb) {
                        best = Some((bundle.not_before(), recipient));
                    }
                }
                Err(e) => {
                    first_problem.get_or_insert(key_problem(e));
                }
            }
        }
        let recipient = best.map(|(_, r)| r);
        check.usable = recipient.is_some();
        if recipient.is_none() {
            check.problem = first_problem.unwrap_or("no_key").into();
        }
        self.entries.retain(|e| e.id != id);
        self.entries.push(AdvisorEntry { id: id.to_owned(), identity, recipient, pinned: pins.pins.is_some() });
        check
    }

    /// Whether the advisor was added and has a usable key.
    pub fn usable(&self, id: &str) -> bool {
        self.entries.iter().any(|e| e.id == id && e.recipient.is_some())
    }

    /// Number of trusted advisors.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.entries.len()
    }
}

impl Advisors {
    /// The current keys of `chosen` (each must be usable), in the given order.
    fn recipients(&self, chosen: &[String]) -> Result<Vec<RecipientKey>, JsError> {
        if chosen.is_empty() {
            return Err(code("no_advisor"));
        }
        chosen
            .iter()
            .map(|id| {
                self.entries
                    .iter()
                    .find(|e| &e.id == id)
                    .and_then(|e| e.recipient)
                    .ok_or_else(|| code("advisor_not_usable"))
            })
            .collect()
    }

    fn id_of(&self, author: &[u8; 32]) -> Option<&str> {
        self.entries.iter().find(|e| &e.identity.to_bytes() == author).map(|e| e.id.as_str())
    }

    fn identity_of(&self, id: &str) -> Option<IdentityPublicKey> {
        self.entries.iter().find(|e| e.id == id).map(|e| e.identity)
    }

    fn pinned(&self) -> impl Iterator<Item = IdentityPublicKey> + '_ {
        self.entries.iter().filter(|e| e.pinned).map(|e| e.identity)
    }
}

/// The `advisors` field of a report body (§6): the identity keys (base64url) of the advisors
/// the reporter chose. Entries that do not decode to an identity key are skipped; a missing
/// field or a body that is not a JSON object gives an empty list (nobody is trusted from it).
fn chosen_in_body(body: &[u8]) -> Vec<IdentityPublicKey> {
    let Ok(text) = std::str::from_utf8(body) else { return Vec::new() };
    let Ok(value) = js_sys::JSON::parse(text) else { return Vec::new() };
    if !value.is_object() {
        return Vec::new();
    }
    let list = Reflect::get(&value, &JsValue::from_str("advisors")).unwrap_or(JsValue::UNDEFINED);
    if !Array::is_array(&list) {
        return Vec::new();
    }
    Array::from(&list)
        .iter()
        .filter_map(|v| v.as_string())
        .filter_map(|s| b64_decode(&s).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok()))
        .collect()
}

/// Sets `advisors` in a report body (a JSON object) to the chosen identities.
fn with_chosen(body: &str, chosen: &[IdentityPublicKey]) -> Result<String, JsError> {
    let value = js_sys::JSON::parse(body).map_err(|_| code("bad_body"))?;
    if !value.is_object() || Array::is_array(&value) {
        return Err(code("bad_body"));
    }
    let list: Array = chosen.iter().map(|i| JsValue::from_str(&b64_encode(&i.to_bytes()))).collect();
    Reflect::set(&value, &JsValue::from_str("advisors"), &list).map_err(|_| code("bad_body"))?;
    js_sys::JSON::stringify(&value).map(String::from).map_err(|_| code("bad_body"))
}

// ---------------------------------------------------------------------------------------------
// Pickup code (§4).

/// Makes a new pickup code from the browser's CSPRNG, in display form
/// (`ABCD-EFGH-JKMN-PQRS-TVWX`).
#[wasm_bindgen(js_name = makePickupCode)]
pub fn make_pickup_code() -> String {
    let code = PickupCode::generate(&mut os_rng());
    code.display_form().to_string()
}

/// The result of [`check_pickup_code`].
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct CodeCheck {
    /// Whether the code is well-formed and passes both check symbols.
    pub ok: bool,
    /// `""`, `bad_character`, `wrong_length` or `typo`.
    pub problem: String,
    /// For `bad_character`: the position (from 0, separators included); otherwise -1.
    pub position: i32,
    /// For `wrong_length`: how many symbols were found.
    pub found: u32,
}

/// Checks a typed pickup code locally (§4.2): catches every single-character typo and every
/// swap of neighbours before any request is made.
#[wasm_bindgen(js_name = checkPickupCode)]
pub fn check_pickup_code(input: &str) -> CodeCheck {
    let mut check = CodeCheck { ok: false, problem: String::new(), position: -1, found: 0 };
    match PickupCode::parse(input) {
        Ok(_) => check.ok = true,
        Err(PickupError::BadCharacter { position }) => {
            check.problem = "bad_character".into();
            check.position = i32::try_from(position).unwrap_or(i32::MAX);
        }
        Err(PickupError::WrongLength { found }) => {
            check.problem = "wrong_length".into();
            check.found = u32::try_from(found).unwrap_or(u32::MAX);
        }
        Err(_) => check.problem = "typo".into(),
    }
    check
}

/// Argon2id over the code (§4.3): the 32-byte seed the reporter's keys come from. Blocking
/// (about 19 MiB, two passes): call it in the Web Worker, then pass the seed to
/// [`Reporter::from_seed`], which wipes it.
///
/// # Errors
/// The [`check_pickup_code`] problem code, or `kdf`.
#[wasm_bindgen(js_name = deriveSeed)]
pub fn derive_seed(code_input: &str) -> Result<Vec<u8>, JsError> {
    let code = PickupCode::parse(code_input).map_err(|e| match e {
        PickupError::BadCharacter { .. } => code("bad_character"),
        PickupError::WrongLength { .. } => code("wrong_length"),
        _ => code("typo"),
    })?;
    let seed = code.derive_seed().map_err(|_| code_err_kdf())?;
    Ok(seed.as_bytes().to_vec())
}

fn code_err_kdf() -> JsError {
    code("kdf")
}

// ---------------------------------------------------------------------------------------------
// Proof of work (§8).

/// Solves a proof-of-work challenge (base64url, 65 bytes). `progress` is called with the
/// number of attempts after each one. Blocking: call it in the Web Worker. The nonce is
/// returned as a number (exact below 2^53, far beyond any allowed difficulty).
///
/// # Errors
/// `bad_challenge` (malformed, or asks for more work than the client allows), `exhausted`.
#[wasm_bindgen(js_name = solvePow)]
pub fn solve_pow(challenge: &str, progress: &js_sys::Function) -> Result<f64, JsError> {
    let bytes = b64_decode(challenge).map_err(|_| code("bad_challenge"))?;
    let nonce = pow::solve(&bytes, |n| {
        let _ = progress.call1(&JsValue::NULL, &JsValue::from_f64(n as f64));
    })
    .map_err(|e| match e {
        pow::PowError::Exhausted => code("exhausted"),
        _ => code("bad_challenge"),
    })?;
    Ok(nonce as f64)
}

// ---------------------------------------------------------------------------------------------
// The reporter: keys from the code, sealing (§3, §5) and reading the transcript (§5.1).

/// The reporter's keys for one case, derived from the pickup code. Lives in WASM memory,
/// zeroized on drop (call `free()` when leaving the mailbox). Remembers the hashes of the
/// messages it sealed, to report them missing (§5.1) when the case is read again.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Reporter {
    keys: ReporterKeys,
    head: Option<MessageHash>,
    sent: Vec<MessageHash>,
    /// The identities named in the report's `advisors` field (§6), once the report was sealed
    /// or read back: the only advisors follow-ups go to, and (with pinned ones) the only
    /// signers of replies that are trusted.
    chosen: Option<Vec<IdentityPublicKey>>,
}

#[wasm_bindgen]
impl Reporter {
    /// The keys from the 32-byte seed of [`derive_seed`]. The seed array is overwritten with
    /// zeros.
    ///
    /// # Errors
    /// `bad_seed` unless it is 32 bytes.
    #[wasm_bindgen(js_name = fromSeed)]
    pub fn from_seed(seed: &mut [u8]) -> Result<Reporter, JsError> {
        let mut bytes: [u8; 32] = seed.try_into().map_err(|_| code("bad_seed"))?;
        seed.zeroize();
        let seed = PickupSeed::from_bytes(bytes);
        bytes.zeroize();
        Ok(Reporter { keys: ReporterKeys::from_seed(&seed), head: None, sent: Vec::new(), chosen: None })
    }

    /// The case token, base64url: the value of `Authorization: CaseToken …`.
    #[wasm_bindgen(getter, js_name = caseToken)]
    pub fn case_token(&self) -> String {
        self.keys.case_token().to_base64url().to_string()
    }

    /// `SHA256("meldpunt/v1/case-token-hash" || case_token)`, base64url: sent once, when the
    /// case is created.
    #[wasm_bindgen(getter, js_name = tokenHash)]
    pub fn token_hash(&self) -> String {
        b64_encode(&self.keys.case_token().hash())
    }

    fn recipients(&self, advisors: &Advisors, chosen: &[String]) -> Result<Vec<RecipientKey>, JsError> {
        let mut r = advisors.recipients(chosen)?;
        // The reporter's own key too, so that the report and follow-ups can be read back and
        // the transcript verified.
        r.push(self.keys.reply_key().recipient());
        Ok(r)
    }

    fn seal(&mut self, purpose: Purpose, org: &str, recipients: &[RecipientKey], message: &Message) -> Result<String, JsError> {
        let sealed = envelope::seal(&mut os_rng(), purpose, org, recipients, message.as_bytes())
            .map_err(|e| code(envelope_problem(&e)))?;
        let hash = message.hash();
        self.sent.push(hash);
        self.head = Some(hash);
        Ok(b64_encode(&sealed))
    }

    /// Signs the report (§5, kind 1, carrying the reply key) with the UTF-8 JSON `body` (§6)
    /// and seals it (purpose report) to the `chosen` advisors' current keys and the reporter's
    /// own key. Returns the envelope, base64url.
    ///
    /// The body's `advisors` field is set here to the identity keys of the `chosen` advisors
    /// (whatever the page put there): it is what the mailbox trusts replies from later.
    ///
    /// # Errors
    /// `no_advisor`, `advisor_not_usable`, `bad_body` (not a JSON object), `too_large`, ...
    #[wasm_bindgen(js_name = sealReport)]
    pub fn seal_report(
        &mut self,
        org: &str,
        advisors: &Advisors,
        chosen: Vec<String>,
        body: &str,
        now: f64,
    ) -> Result<String, JsError> {
        let recipients = self.recipients(advisors, &chosen)?;
        let identities: Vec<IdentityPublicKey> =
            chosen.iter().filter_map(|id| advisors.identity_of(id)).collect();
        let body = with_chosen(body, &identities)?;
        let message = Message::sign_report(
            self.keys.signing_key(),
            &self.keys.reply_key().recipient(),
            secs(now),
            body.as_bytes(),
        )
        .map_err(|_| code("too_large"))?;
        let sealed = self.seal(Purpose::Report, org, &recipients, &message)?;
        self.chosen = Some(identities);
        Ok(sealed)
    }

    /// The ids (as the server lists them in `advisors`) of the advisors the report named in
    /// its `advisors` field and that have a usable key now: the recipients of a follow-up.
    /// Empty before the case was read with [`Reporter::open_case`].
    #[wasm_bindgen(js_name = chosenAdvisors)]
    pub fn chosen_advisors(&self, advisors: &Advisors) -> Vec<String> {
        let Some(chosen) = &self.chosen else { return Vec::new() };
        advisors
            .entries
            .iter()
            .filter(|e| e.recipient.is_some() && chosen.contains(&e.identity))
            .map(|e| e.id.clone())
            .collect()
    }

    /// Signs a follow-up (kind 2) after the newest message read with [`Reporter::open_case`]
    /// and seals it (purpose message) to the `chosen` advisors and the reporter's own key.
    /// Every one of them must be named in the report's `advisors` field (§6).
    ///
    /// # Errors
    /// `not_opened` before the case was read; `advisor_not_chosen`; the sealing errors of
    /// `sealReport`.
    #[wasm_bindgen(js_name = sealFollowUp)]
    pub fn seal_follow_up(
        &mut self,
        org: &str,
        advisors: &Advisors,
        chosen: Vec<String>,
        body: &str,
        now: f64,
    ) -> Result<String, JsError> {
        let parent = self.head.ok_or_else(|| code("not_opened"))?;
        let named = self.chosen.as_deref().unwrap_or_default();
        if chosen.iter().any(|id| advisors.identity_of(id).is_none_or(|i| !named.contains(&i))) {
            return Err(code("advisor_not_chosen"));
        }
        let recipients = self.recipients(advisors, &chosen)?;
        let message = Message::sign_follow_up(self.keys.signing_key(), &parent, secs(now), body.as_bytes())
            .map_err(|_| code("too_large"))?;
        self.seal(Purpose::Message, org, &recipients, &message)
    }

    /// Opens every message envelope of the case (base64url, in server order) with the
    /// reporter's key and verifies the transcript (§5.1).
    ///
    /// Replies are trusted only from the identities the report itself names in its `advisors`
    /// field (§6), plus advisors pinned by the link (`advisors` added with active pins). The
    /// server's list of the case's advisors (`advisors`) only supplies names and ids for those;
    /// it can add no one. The report counts only if it is signed by this reporter's own key.
    ///
    /// Returns `{ok, problem, problemIndex, messages: [{index, kind, createdAt, body, author,
    /// authorId, signatureOk, parentKnown, mine, trusted}]}`: `problem` is `""`, `unreadable`,
    /// `forged`, `unknown_author`, `gap`, `reordered`, `malformed` or `missing_sent`; `kind` is
    /// `report`, `follow_up`, `reply` or `unreadable`; `author` is the signer's fingerprint;
    /// `trusted` is whether the signer is the reporter (report, follow-up) or a chosen or
    /// pinned advisor (reply); `authorId` is set only for a trusted reply.
    #[wasm_bindgen(js_name = openCase)]
    pub fn open_case(&mut self, envelopes: Vec<String>, advisors: &Advisors) -> JsValue {
        let keys = [self.keys.reply_key()];
        let opened: Vec<Option<Message>> = envelopes
            .iter()
            .map(|env| {
                b64_decode(env)
                    .ok()
                    .and_then(|bytes| envelope::open(&bytes, &keys, &[]).ok())
                    .and_then(|o| Message::from_bytes(&o.plaintext).ok())
            })
            .collect();
        // Who the reporter chose: from the report itself, if it is first, readable and signed
        // by this reporter's key (the server cannot forge that); else what was known before.
        let me = self.keys.signing_key().public().to_bytes();
        if let Some(Some(report)) = opened.first()
            && report.kind() == MessageKind::Report
            && report.author_bytes() == me
            && report.verify_signature()
        {
            self.chosen = Some(chosen_in_body(report.body()));
        }
        let mut trusted: Vec<IdentityPublicKey> = self.chosen.clone().unwrap_or_default();
        for pinned in advisors.pinned() {
            if !trusted.contains(&pinned) {
                trusted.push(pinned);
            }
        }

        let out = Array::new();
        let mut readable: Vec<(usize, Message)> = Vec::new();
        for (index, message) in opened.into_iter().enumerate() {
            let item = Object::new();
            set(&item, "index", index as f64);
            let Some(message) = message else {
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
            set(&item, "author", fingerprint);
            let is_trusted = match message.kind() {
                MessageKind::Reply | MessageKind::Membership => trusted.iter().any(|t| t.to_bytes() == author),
                MessageKind::Report | MessageKind::FollowUp => author == me,
            };
            set(&item, "trusted", is_trusted);
            let author_id = if is_trusted && message.kind() == MessageKind::Reply {
                advisors.id_of(&author).unwrap_or_default()
            } else {
                ""
            };
            set(&item, "authorId", author_id);
            set(&item, "signatureOk", message.verify_signature());
            let parent = message.parent();
            let parent_known = if readable.is_empty() && index == 0 {
                parent == [0u8; 32]
            } else {
                readable.iter().any(|(_, m)| m.hash() == parent)
            };
            set(&item, "parentKnown", parent_known);
            set(&item, "mine", self.sent.contains(&message.hash()));
            out.push(&item);
            readable.push((index, message));
        }

        let result = Object::new();
        let mut problem = "";
        let mut problem_index: i64 = -1;
        if let Some(first_unreadable) = (0..envelopes.len()).find(|i| !readable.iter().any(|(j, _)| j == i)) {
            problem = "unreadable";
            problem_index = first_unreadable as i64;
        }
        let messages: Vec<Message> = readable.iter().map(|(_, m)| m.clone()).collect();
        match message::verify_transcript(&messages, &trusted) {
            Ok(transcript) => {
                if let Err(TranscriptError::MissingSent { .. }) = transcript.check_sent(&self.sent)
                    && problem.is_empty()
                {
                    problem = "missing_sent";
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
                    TranscriptError::MissingSent { .. } => ("missing_sent", 0),
                    _ => ("malformed", 0),
                };
                // Verification problems outrank unreadable envelopes (which also show as gaps).
                problem = p;
                problem_index = readable.get(i).map_or(i as i64, |(j, _)| *j as i64);
            }
        }
        // The next follow-up answers the newest message that could be read.
        self.head = readable.last().map(|(_, m)| m.hash()).or(self.head);
        set(&result, "ok", problem.is_empty());
        set(&result, "problem", problem);
        set(&result, "problemIndex", problem_index as f64);
        set(&result, "messages", out);
        result.into()
    }

    /// A streaming sealer for one attachment (purpose attachment) to the `chosen` advisors and
    /// the reporter's own key.
    ///
    /// # Errors
    /// `no_advisor`, `advisor_not_usable`, ...
    #[wasm_bindgen(js_name = attachmentEncryptor)]
    pub fn attachment_encryptor(
        &self,
        org: &str,
        advisors: &Advisors,
        chosen: Vec<String>,
    ) -> Result<AttachmentEncryptor, JsError> {
        let recipients = self.recipients(advisors, &chosen)?;
        let (enc, header) = Encryptor::new(&mut os_rng(), Purpose::Attachment, org, &recipients)
            .map_err(|e| code(envelope_problem(&e)))?;
        Ok(AttachmentEncryptor { inner: Some(enc), header: Some(header) })
    }

    /// A streaming opener for an attachment of this case.
    #[wasm_bindgen(js_name = attachmentDecryptor)]
    pub fn attachment_decryptor(&self) -> AttachmentDecryptor {
        let key = DecryptionKey::from_bytes(*self.keys.reply_key().to_bytes());
        AttachmentDecryptor { key, pending: Vec::new(), inner: None }
    }
}

/// Encrypts one attachment in pieces (the crypto crate's `envelope::Encryptor`): take
/// `header()` first, then the output of each `push`, then of `finish`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct AttachmentEncryptor {
    inner: Option<Encryptor>,
    header: Option<Vec<u8>>,
}

#[wasm_bindgen]
impl AttachmentEncryptor {
    /// The envelope header (only once; empty afterwards).
    pub fn header(&mut self) -> Vec<u8> {
        self.header.take().unwrap_or_default()
    }

    /// Encrypts more plaintext; returns the whole 64 KiB chunks that are ready.
    ///
    /// # Errors
    /// `finished`, or an envelope error code.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, JsError> {
        let enc = self.inner.as_mut().ok_or_else(|| code("finished"))?;
        let mut out = Vec::with_capacity(data.len() + 64);
        enc.push(data, &mut out).map_err(|e| code(envelope_problem(&e)))?;
        Ok(out)
    }

    /// Pads and encrypts the rest.
    ///
    /// # Errors
    /// `finished`, or an envelope error code.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsError> {
        let enc = self.inner.take().ok_or_else(|| code("finished"))?;
        let mut out = Vec::new();
        enc.finish(&mut out).map_err(|e| code(envelope_problem(&e)))?;
        Ok(out)
    }
}

/// Opens one attachment envelope in pieces (the crypto crate's `envelope::Decryptor`). The
/// plaintext is authentic only once `finish` succeeds: discard the pieces on any error.
#[wasm_bindgen]
#[derive(Debug)]
pub struct AttachmentDecryptor {
    key: DecryptionKey,
    pending: Vec<u8>,
    inner: Option<Decryptor>,
}

#[wasm_bindgen]
impl AttachmentDecryptor {
    /// Feeds envelope bytes; returns plaintext released so far.
    ///
    /// # Errors
    /// `cannot_decrypt`, `bad_envelope`.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, JsError> {
        let mut out = Vec::new();
        if let Some(dec) = self.inner.as_mut() {
            dec.push(data, &mut out).map_err(|e| code(envelope_problem(&e)))?;
            return Ok(out);
        }
        self.pending.extend_from_slice(data);
        match Decryptor::new(&self.pending, &[&self.key], &[]) {
            Ok((mut dec, header_len)) => {
                let rest = self.pending.get(header_len..).unwrap_or_default();
                dec.push(rest, &mut out).map_err(|e| code(envelope_problem(&e)))?;
                self.pending = Vec::new();
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
    /// `cannot_decrypt` if the envelope is incomplete, damaged or not for this case.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsError> {
        let dec = self.inner.take().ok_or_else(|| code("cannot_decrypt"))?;
        let mut out = Vec::new();
        dec.finish(&mut out).map_err(|e| code(envelope_problem(&e)))?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Files.

/// A new random id (16 bytes, base64url), for an attachment.
#[wasm_bindgen(js_name = makeId)]
pub fn make_id() -> String {
    let mut id = [0u8; 16];
    os_rng().fill_bytes(&mut id);
    b64_encode(&id)
}

/// Removes metadata from a JPEG or PNG (see [`metadata`]). Returns `{supported, removed,
/// bytes}`: for other files `supported` is false and `bytes` is the input unchanged.
///
/// # Errors
/// `damaged_image` for a JPEG or PNG that cannot be cleaned safely (do not attach it).
#[wasm_bindgen(js_name = stripMetadata)]
pub fn strip_metadata(bytes: &[u8]) -> Result<JsValue, JsError> {
    let result = Object::new();
    match metadata::strip(bytes).map_err(|_| code("damaged_image"))? {
        metadata::Stripped::Cleaned { bytes, removed } => {
            set(&result, "supported", true);
            set(&result, "removed", removed as f64);
            set(&result, "bytes", Uint8Array::from(bytes.as_slice()));
        }
        metadata::Stripped::Unsupported => {
            set(&result, "supported", false);
            set(&result, "removed", 0.0);
            set(&result, "bytes", Uint8Array::from(bytes));
        }
    }
    Ok(result.into())
}
