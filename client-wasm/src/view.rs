//! Conversions between the core's types and JS values, shared by the reporter's and the
//! advisor's bindings. Nothing here decides anything: it copies what `meldpunt_client` judged.

use js_sys::{Array, Object, Reflect};
use meldpunt_client::advisors::Listed;
use meldpunt_client::{b64, seal};
use meldpunt_client::case::{CaseView, Entry, EntryKind, Warning};
use meldpunt_crypto::envelope::EnvelopeError;
use meldpunt_crypto::keys::IdentityPublicKey;
use wasm_bindgen::prelude::*;

/// An `Error` whose message is a stable code.
pub(crate) fn code(c: &str) -> JsError {
    JsError::new(c)
}

/// Seconds since the epoch from JS (`Date.now() / 1000`).
pub(crate) fn secs(now: f64) -> i64 {
    now.floor() as i64
}

pub(crate) fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn get_str(obj: &JsValue, key: &str) -> String {
    get(obj, key).as_string().unwrap_or_default()
}

pub(crate) fn get_list(obj: &JsValue, key: &str) -> Vec<JsValue> {
    let v = get(obj, key);
    if Array::is_array(&v) {
        Array::from(&v).iter().collect()
    } else {
        Vec::new()
    }
}

pub(crate) fn get_strings(obj: &JsValue, key: &str) -> Vec<String> {
    get_list(obj, key)
        .iter()
        .filter_map(JsValue::as_string)
        .collect()
}

pub(crate) fn get_u32(obj: &JsValue, key: &str) -> Option<u32> {
    get(obj, key)
        .as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX))
        .map(|n| n as u32)
}

/// An advisor as the server lists them (`AdvisorOut`), into the core's input type; fields of
/// the wrong type are empty (the core then refuses the advisor).
pub(crate) fn listed(obj: &JsValue) -> Listed {
    Listed {
        id: get_str(obj, "id"),
        display_name: get_str(obj, "display_name"),
        identity: get_str(obj, "identity"),
        bundles: get_strings(obj, "bundles"),
        revocations: get_strings(obj, "revocations"),
    }
}

pub(crate) fn envelope_problem(e: &EnvelopeError) -> &'static str {
    match e {
        EnvelopeError::NoRecipients => "no_recipients",
        EnvelopeError::TooManyRecipients => "too_many_recipients",
        EnvelopeError::DuplicateRecipient => "duplicate_recipient",
        EnvelopeError::Decrypt => "cannot_decrypt",
        EnvelopeError::TooLarge => "too_large",
        _ => "bad_envelope",
    }
}

/// The name and id the server gives a listed identity (informational; for display only).
fn listed_name(case: &CaseView, identity: &IdentityPublicKey) -> (String, String) {
    case.listed
        .iter()
        .find(|l| l.identity == *identity)
        .map(|l| (l.display_name.clone(), l.id.clone()))
        .unwrap_or_default()
}

fn person(case: &CaseView, identity: &IdentityPublicKey, me: &IdentityPublicKey) -> Object {
    let o = Object::new();
    let (name, id) = listed_name(case, identity);
    set(&o, "fingerprint", identity.fingerprint().to_display());
    set(&o, "name", name);
    set(&o, "id", id);
    set(&o, "me", identity == me);
    set(&o, "member", case.is_member(identity));
    set(&o, "usable", case.member_key(identity).is_some());
    o
}

fn entry(case: &CaseView, e: &Entry, me: &IdentityPublicKey) -> Object {
    let item = Object::new();
    set(&item, "index", e.index as f64);
    set(&item, "kind", e.kind.code());
    set(
        &item,
        "problem",
        e.problem.map(|p| p.code()).unwrap_or_default(),
    );
    set(&item, "trusted", e.trusted);
    set(&item, "parentKnown", e.parent_known);
    set(&item, "mine", e.mine);
    if let Some(m) = &e.message {
        set(&item, "createdAt", m.created_at() as f64);
        set(&item, "signatureOk", m.verify_signature());
        if !matches!(e.kind, EntryKind::Membership(_)) {
            set(
                &item,
                "body",
                String::from_utf8_lossy(m.body()).into_owned(),
            );
        }
    }
    if let Some(author) = &e.author {
        set(&item, "author", author.fingerprint().to_display());
        // A name only for a signer the core trusts here: nobody else is named by the server.
        let (name, id) = if e.trusted {
            listed_name(case, author)
        } else {
            Default::default()
        };
        set(&item, "authorName", name);
        set(&item, "authorId", id);
    }
    if let EntryKind::Membership(s) = e.kind {
        set(&item, "subject", person(case, &s.advisor, me));
    }
    item
}

fn warning(case: &CaseView, w: &Warning) -> Object {
    let o = Object::new();
    set(&o, "code", w.code());
    set(&o, "fingerprint", w.fingerprint().to_owned());
    let id = match w {
        Warning::ListedNotMember { id, .. } | Warning::MemberWithoutKey { id, .. } => id.clone(),
        Warning::MemberNotListed { .. } => String::new(),
    };
    let name = case
        .listed
        .iter()
        .find(|l| !id.is_empty() && l.id == id)
        .map(|l| l.display_name.clone())
        .unwrap_or_default();
    set(&o, "id", id);
    set(&o, "name", name);
    if let Warning::MemberWithoutKey { problem, .. } = w {
        set(&o, "keyProblem", *problem);
    }
    o
}

/// `{ok, problem, problemIndex, messages: [{index, kind, problem, trusted, parentKnown, mine,
/// createdAt, signatureOk, body, author, authorName, authorId, subject}], members: [{fingerprint,
/// name, id, me, member, usable}], listed: [...same], warnings: [{code, fingerprint, id, name,
/// keyProblem}], canWrite}`. `extra(index, item)` adds caller fields to each message.
pub(crate) fn summary(
    case: &CaseView,
    me: &IdentityPublicKey,
    extra: impl Fn(usize, &Object),
) -> JsValue {
    let out = Object::new();
    set(&out, "ok", case.ok());
    set(
        &out,
        "problem",
        case.problem.map(|p| p.kind.code()).unwrap_or_default(),
    );
    set(
        &out,
        "problemIndex",
        case.problem.map_or(-1.0, |p| p.index as f64),
    );
    let messages = Array::new();
    for e in &case.entries {
        let item = entry(case, e, me);
        extra(e.index, &item);
        messages.push(&item);
    }
    set(&out, "messages", messages);
    let members: Array = case
        .members
        .iter()
        .map(|m| JsValue::from(person(case, m, me)))
        .collect();
    set(&out, "members", members);
    let listed: Array = case
        .listed
        .iter()
        .map(|l| JsValue::from(person(case, &l.identity, me)))
        .collect();
    set(&out, "listed", listed);
    let warnings: Array = case
        .warnings
        .iter()
        .map(|w| JsValue::from(warning(case, w)))
        .collect();
    set(&out, "warnings", warnings);
    set(
        &out,
        "canWrite",
        case.reporter.is_some() && case.reply_key.is_some() && case.head.is_some(),
    );
    out.into()
}

/// The JS answer of a sealing: the envelope (base64url) and the fingerprints of the advisors
/// that could not be reached.
pub(crate) fn sealed_out(sealed: &seal::Sealed) -> JsValue {
    let out = Object::new();
    set(&out, "envelope", b64(&sealed.envelope));
    let unreachable: js_sys::Array = sealed
        .unreachable
        .iter()
        .map(|k| JsValue::from_str(&k.fingerprint().to_display()))
        .collect();
    set(&out, "unreachable", unreachable);
    out.into()
}
