//! wasm-bindgen bindings over `meldpunt-client` for the reporter's and the advisor's pages.
//!
//! This crate decides no rule of the protocol: verifying advisors and pins, choosing whom to
//! seal to, opening a case and judging its transcript and membership, sealing reports,
//! follow-ups, replies and membership statements, confirming colleagues and making file names
//! safe all happen in `meldpunt-client`. What is here converts between JS values and the core,
//! keeps keys inside WASM memory (zeroized on drop), and [`metadata`] removes Exif/GPS and text
//! chunks from images before they are encrypted (byte manipulation, not a protocol rule).
//!
//! Two calls block for a noticeable time and run in a Web Worker (`www/js/worker.js`):
//! [`derive_seed`] (Argon2id, protocol §4.3) and [`solve_pow`] (§8).
//!
//! Errors are `Error` objects whose message is a short, stable code (`not_pinned`,
//! `nobody_reachable`, ...) that the pages translate; no error carries secret material.
#![deny(missing_docs)]

mod advisor;
mod attachments;
pub mod metadata;
mod view;

pub use advisor::*;
pub use attachments::{AttachmentDecryptor, AttachmentEncryptor};

use js_sys::{Object, Uint8Array};
use meldpunt_client::advisors::{self, KeyProblem, Listed, Verified};
use meldpunt_client::body::{MessageBody, ReportBody};
use meldpunt_client::case::{self, CaseView, EnvelopeIn, OpenInput, Viewer};
use meldpunt_client::{b64, filename, seal, unb64};
use meldpunt_crypto::message::MessageHash;
use meldpunt_crypto::pickup::{PickupCode, PickupError, PickupSeed, ReporterKeys};
use meldpunt_crypto::pow;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use wasm_bindgen::prelude::*;
use zeroize::{Zeroize, Zeroizing};

use view::{code, sealed_out, secs, set};

// ---------------------------------------------------------------------------------------------
// Pins (§1.2) and advisors (§1.3), verified by the core.

/// The identity fingerprints pinned in a reporting link (`#pin=FP1,FP2`), read by the core.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Pins {
    inner: advisors::Pins,
}

#[wasm_bindgen]
impl Pins {
    /// Reads the URL fragment (`location.hash`, already percent-decoded).
    ///
    /// # Errors
    /// `bad_pin` if a listed fingerprint is malformed.
    #[wasm_bindgen(js_name = fromFragment)]
    pub fn from_fragment(fragment: &str) -> Result<Pins, JsError> {
        advisors::Pins::from_fragment(fragment)
            .map(|inner| Pins { inner })
            .map_err(|_| code("bad_pin"))
    }

    /// No pins.
    #[wasm_bindgen(js_name = none)]
    pub fn none() -> Pins {
        Pins {
            inner: advisors::Pins::none(),
        }
    }

    /// Whether the link carries pins.
    #[wasm_bindgen(getter)]
    pub fn active(&self) -> bool {
        self.inner.active()
    }

    /// Number of pinned fingerprints.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> usize {
        self.inner.list().map_or(0, <[_]>::len)
    }

    /// The fragment to carry the pins to another page (`#pin=…`), or `""`.
    #[wasm_bindgen(js_name = toFragment)]
    pub fn to_fragment(&self) -> String {
        self.inner.to_fragment()
    }
}

/// The result of checking one advisor ([`Advisors::add`]).
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct AdvisorCheck {
    /// The advisor's id as the server gave it.
    pub id: String,
    /// Whether a verified, current encryption key exists.
    pub usable: bool,
    /// Whether the identity parses and is pinned (if pins are present).
    pub trusted: bool,
    /// `""` or a key problem code of the core (`not_pinned`, `expired`, ...).
    pub problem: String,
    /// The identity fingerprint, computed by the core. Empty if the identity is malformed.
    pub fingerprint: String,
}

/// Advisors as the server lists them, each verified by the core.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Advisors {
    verified: Vec<Verified>,
    malformed: Vec<String>,
}

#[wasm_bindgen]
impl Advisors {
    /// An empty set.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Advisors {
        Advisors::default()
    }

    /// Verifies an advisor as the server lists them (`meldpunt_client::advisors::verify`).
    pub fn add(
        &mut self,
        id: &str,
        identity: &str,
        bundles: Vec<String>,
        revocations: Vec<String>,
        pins: &Pins,
        now: f64,
    ) -> AdvisorCheck {
        let listed = Listed {
            id: id.to_owned(),
            display_name: String::new(),
            identity: identity.to_owned(),
            bundles,
            revocations,
        };
        self.verified.retain(|v| v.id != id);
        self.malformed.retain(|m| m != id);
        match advisors::verify(&listed, &pins.inner, secs(now)) {
            Ok(v) => {
                let check = AdvisorCheck {
                    id: id.to_owned(),
                    usable: v.usable(),
                    trusted: true,
                    problem: v
                        .problem
                        .map(KeyProblem::code)
                        .unwrap_or_default()
                        .to_owned(),
                    fingerprint: v.fingerprint(),
                };
                self.verified.push(v);
                check
            }
            Err(p) => {
                if p == KeyProblem::BadIdentity {
                    self.malformed.push(id.to_owned());
                }
                let fingerprint = unb64(identity)
                    .ok()
                    .and_then(|b| meldpunt_crypto::keys::IdentityPublicKey::from_bytes(&b).ok())
                    .map(|k| k.fingerprint().to_display())
                    .unwrap_or_default();
                AdvisorCheck {
                    id: id.to_owned(),
                    usable: false,
                    trusted: false,
                    problem: p.code().to_owned(),
                    fingerprint,
                }
            }
        }
    }

    /// Sets the display name the server gives an advisor added before (shown, never trusted).
    pub fn named(&mut self, id: &str, display_name: &str) {
        for v in self.verified.iter_mut().filter(|v| v.id == id) {
            display_name.clone_into(&mut v.display_name);
        }
    }

    /// Whether the advisor was added and has a usable key.
    pub fn usable(&self, id: &str) -> bool {
        self.verified.iter().any(|v| v.id == id && v.usable())
    }

    /// Number of advisors whose identity verified.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.verified.len()
    }
}

impl Advisors {
    fn chosen(&self, ids: &[String]) -> Result<Vec<&Verified>, JsError> {
        ids.iter()
            .map(|id| {
                self.verified
                    .iter()
                    .find(|v| &v.id == id)
                    .ok_or_else(|| code("advisor_not_usable"))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Pickup code (§4).

/// Makes a new pickup code from the browser's CSPRNG, in display form.
#[wasm_bindgen(js_name = makePickupCode)]
pub fn make_pickup_code() -> String {
    PickupCode::generate(&mut os_rng())
        .display_form()
        .to_string()
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

/// Checks a typed pickup code locally (§4.2).
#[wasm_bindgen(js_name = checkPickupCode)]
pub fn check_pickup_code(input: &str) -> CodeCheck {
    let mut check = CodeCheck {
        ok: false,
        problem: String::new(),
        position: -1,
        found: 0,
    };
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

/// Argon2id over the code (§4.3): the 32-byte seed for [`Reporter::from_seed`]. Blocking.
///
/// # Errors
/// The [`check_pickup_code`] problem code, or `kdf`.
#[wasm_bindgen(js_name = deriveSeed)]
pub fn derive_seed(code_input: &str) -> Result<Vec<u8>, JsError> {
    let pickup = PickupCode::parse(code_input).map_err(|e| match e {
        PickupError::BadCharacter { .. } => code("bad_character"),
        PickupError::WrongLength { .. } => code("wrong_length"),
        _ => code("typo"),
    })?;
    let seed = pickup.derive_seed().map_err(|_| code("kdf"))?;
    Ok(seed.as_bytes().to_vec())
}

// ---------------------------------------------------------------------------------------------
// Proof of work (§8).

/// Solves a proof-of-work challenge (base64url). Blocking: call it in the Web Worker.
///
/// # Errors
/// `bad_challenge`, `exhausted`.
#[wasm_bindgen(js_name = solvePow)]
pub fn solve_pow(challenge: &str, progress: &js_sys::Function) -> Result<f64, JsError> {
    let bytes = unb64(challenge).map_err(|_| code("bad_challenge"))?;
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
// The reporter.

/// The reporter's keys for one case, derived from the pickup code (WASM memory only, zeroized
/// on drop). Holds the case as the core last judged it, and the hashes of the messages sealed
/// in this session (to report them missing, §5.1).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Reporter {
    keys: ReporterKeys,
    sent: Vec<MessageHash>,
    case: Option<CaseView>,
}

#[wasm_bindgen]
impl Reporter {
    /// The keys from the 32-byte seed of [`derive_seed`]; the seed array is wiped.
    ///
    /// # Errors
    /// `bad_seed` unless it is 32 bytes.
    #[wasm_bindgen(js_name = fromSeed)]
    pub fn from_seed(seed: &mut [u8]) -> Result<Reporter, JsError> {
        let bytes: Result<[u8; 32], _> = (&*seed).try_into();
        seed.zeroize();
        let mut bytes = Zeroizing::new(bytes.map_err(|_| code("bad_seed"))?);
        let seed = PickupSeed::from_bytes(*bytes);
        bytes.zeroize();
        Ok(Reporter {
            keys: ReporterKeys::from_seed(&seed),
            sent: Vec::new(),
            case: None,
        })
    }

    /// The case token, base64url.
    #[wasm_bindgen(getter, js_name = caseToken)]
    pub fn case_token(&self) -> String {
        self.keys.case_token().to_base64url().to_string()
    }

    /// The case token's hash, base64url: sent once, when the case is created.
    #[wasm_bindgen(getter, js_name = tokenHash)]
    pub fn token_hash(&self) -> String {
        b64(&self.keys.case_token().hash())
    }

    /// Signs and seals the report (`meldpunt_client::seal::seal_report`) to the `chosen`
    /// advisors (ids of `advisors`). `body` is the JSON of §6.1 (the core sets `advisors`).
    /// Returns the envelope, base64url.
    ///
    /// # Errors
    /// `bad_body`, `no_advisor`, `advisor_not_usable`, `too_large`, ...
    #[wasm_bindgen(js_name = sealReport)]
    pub fn seal_report(
        &mut self,
        org: &str,
        advisors: &Advisors,
        chosen: Vec<String>,
        body: &str,
        now: f64,
    ) -> Result<String, JsError> {
        let body = ReportBody::from_json(body).map_err(|_| code("bad_body"))?;
        let chosen = advisors.chosen(&chosen)?;
        let sealed = seal::seal_report(&mut os_rng(), &self.keys, org, &chosen, body, secs(now))
            .map_err(|e| code(e.code()))?;
        self.sent.push(sealed.message.hash());
        Ok(b64(&sealed.envelope))
    }

    /// Opens the case (`meldpunt_client::case::open` as the reporter): `org` is the
    /// organisation of the reporting link, `envelopes` the messages (base64url, server order),
    /// `advisors` the case's advisors as the server lists them (verified without pins). Returns
    /// the summary of `view.rs` (`{ok, problem, problemIndex, messages, members, warnings}`).
    #[wasm_bindgen(js_name = openCase)]
    pub fn open_case(&mut self, org: &str, envelopes: Vec<String>, advisors: &Advisors) -> JsValue {
        let envelopes: Vec<EnvelopeIn> = envelopes
            .iter()
            .map(|e| EnvelopeIn {
                envelope: unb64(e).unwrap_or_default(),
                detached: Vec::new(),
            })
            .collect();
        let me = self.keys.signing_key().public();
        let case = case::open(OpenInput {
            viewer: Viewer::Reporter(me),
            org,
            envelopes: &envelopes,
            keys: &[self.keys.reply_key()],
            listed: advisors.verified.clone(),
            listed_malformed: advisors.malformed.clone(),
            sent: &self.sent,
        });
        let summary = view::summary(&case, &me, |_, _| {});
        self.case = Some(case);
        summary
    }

    /// Signs a follow-up (`meldpunt_client::seal::seal_follow_up`) and seals it to the members
    /// of the case as last opened and the reporter. Returns `{envelope, unreachable}`
    /// (`unreachable`: fingerprints of members that could not be sealed to).
    ///
    /// # Errors
    /// `not_opened`, `bad_body`, `cannot_reply`, `nobody_reachable`, `too_large`, ...
    #[wasm_bindgen(js_name = sealFollowUp)]
    pub fn seal_follow_up(&mut self, body: &str, now: f64) -> Result<JsValue, JsError> {
        let case = self.case.as_ref().ok_or_else(|| code("not_opened"))?;
        let body = MessageBody::from_json(body).map_err(|_| code("bad_body"))?;
        let sealed = seal::seal_follow_up(&mut os_rng(), &self.keys, case, &body, secs(now))
            .map_err(|e| code(e.code()))?;
        self.sent.push(sealed.message.hash());
        Ok(sealed_out(&sealed))
    }

    /// A streaming sealer for one attachment of the report, to the `chosen` advisors.
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
        let chosen = advisors.chosen(&chosen)?;
        let to = seal::report_recipients(&self.keys, &chosen).map_err(|e| code(e.code()))?;
        AttachmentEncryptor::new(org, &to)
    }

    /// A streaming sealer for one attachment of a follow-up: to the members of the case as
    /// last opened and the reporter (`meldpunt_client::seal::follow_up_recipients`).
    ///
    /// # Errors
    /// `not_opened`, `cannot_reply`, `nobody_reachable`, ...
    #[wasm_bindgen(js_name = followUpAttachmentEncryptor)]
    pub fn follow_up_attachment_encryptor(&self) -> Result<AttachmentEncryptor, JsError> {
        let case = self.case.as_ref().ok_or_else(|| code("not_opened"))?;
        let r = seal::follow_up_recipients(&self.keys, case).map_err(|e| code(e.code()))?;
        AttachmentEncryptor::new(&case.org, &r.keys)
    }

    /// A streaming opener for an attachment of the case as last opened.
    ///
    /// # Errors
    /// `not_opened`.
    #[wasm_bindgen(js_name = attachmentDecryptor)]
    pub fn attachment_decryptor(&self) -> Result<AttachmentDecryptor, JsError> {
        let case = self.case.as_ref().ok_or_else(|| code("not_opened"))?;
        let key = DecryptionKey::from_bytes(*self.keys.reply_key().to_bytes());
        Ok(AttachmentDecryptor::new(
            vec![key],
            Vec::new(),
            case.org.clone(),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Files.

/// A new random id (16 bytes, base64url), for an attachment.
#[wasm_bindgen(js_name = makeId)]
pub fn make_id() -> String {
    let mut id = [0u8; 16];
    os_rng().fill_bytes(&mut id);
    b64(&id)
}

/// A file name safe to show and to save (`meldpunt_client::filename::safe_file_name`).
#[wasm_bindgen(js_name = safeFileName)]
pub fn safe_file_name(name: &str) -> String {
    filename::safe_file_name(name)
}

/// Removes metadata from a JPEG or PNG (see [`metadata`]). Returns `{supported, removed,
/// bytes}`.
///
/// # Errors
/// `damaged_image` for a JPEG or PNG that cannot be cleaned safely.
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
