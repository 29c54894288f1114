//! Every JSON request body of `/api/v1` (`meldpunt_server::api`): arbitrary bytes through
//! `serde_json` deserialisation, as actix-web's `web::Json` does it, and, when they parse, the
//! handler's validation that needs no database, in the handler's order (`src/service.rs`).
//! Nothing may panic.
//!
//! The first input byte selects the body type (modulo the number of types); the rest is the
//! body. Not reached from here: `check_text` and `check_languages` of a registration
//! (private in `service.rs`), and everything after the first database read.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use meldpunt_server::api::{self, unb64, unb64_exact};
use meldpunt_server::config::{PowSettings, Settings};
use meldpunt_server::pow::{PowGate, PowSolution};
use meldpunt_server::service::{MAX_PHOTO, normalise_invite};
use meldpunt_server::store::Id;
use meldpunt_server::verify::{self, Purpose};
use serde::de::DeserializeOwned;

/// The organisation a reporter's case belongs to (route context the handler would have).
const ORG: &str = "acme";
/// The identity of the logged-in advisor (route context).
const IDENTITY: [u8; 32] = [9u8; 32];

static SETTINGS: LazyLock<Settings> = LazyLock::new(Settings::default);
/// PoW enabled with a fixed key: structural checks and the MAC run, Argon2id never (a fuzzer
/// cannot forge the MAC).
static POW: LazyLock<PowGate> = LazyLock::new(|| {
    PowGate::new(
        [3u8; 32],
        PowSettings {
            enabled: true,
            ..PowSettings::default()
        },
    )
});

fn parse<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    // What `web::Json<T>` does with the body bytes.
    serde_json::from_slice(body).ok()
}

fn pow(solution: Option<&PowSolution>) {
    assert!(POW.check(solution).is_err(), "a forged proof of work passed");
}

fn create_case(r: api::CreateCase) {
    if r.org.is_empty() || r.org.len() > 64 || r.advisors.is_empty() || r.advisors.len() > 32 {
        return;
    }
    let mut ids: Vec<Id> = Vec::new();
    for a in &r.advisors {
        let Ok(id) = unb64_exact::<16>("advisors", a) else {
            return;
        };
        if ids.contains(&id) {
            return;
        }
        ids.push(id);
    }
    if unb64_exact::<32>("token_hash", &r.token_hash).is_err() {
        return;
    }
    let Ok(envelope) = unb64("envelope", &r.envelope, SETTINGS.limits.message_bytes) else {
        return;
    };
    if let Ok(info) = verify::envelope(&envelope, Purpose::Report, &r.org) {
        assert_eq!(info.org, r.org);
        assert!(!info.key_ids.is_empty() && info.key_ids.len() <= 32);
        assert!(info.header_len <= envelope.len());
    }
    pow(r.pow.as_ref());
}

fn envelope_for(field_value: &str, purpose: Purpose) {
    if let Ok(envelope) = unb64("envelope", field_value, SETTINGS.limits.message_bytes) {
        let _ = verify::envelope(&envelope, purpose, ORG);
    }
}

fn share(r: api::Share) {
    if unb64_exact::<16>("advisor", &r.advisor).is_err() {
        return;
    }
    let limit = SETTINGS.limits.messages_per_case as usize
        + SETTINGS.limits.attachments_per_case as usize;
    if r.stanzas.len() > limit {
        return;
    }
    for s in &r.stanzas {
        let Ok(stanza) = unb64("stanza", &s.stanza, verify::STANZA_LEN) else {
            return;
        };
        let Ok(key_id) = verify::detached_stanza(&stanza) else {
            return;
        };
        assert_eq!(key_id[..], stanza[..16]);
        match (s.message, &s.attachment) {
            (Some(_), None) => {}
            (None, Some(a)) => {
                let _ = unb64_exact::<16>("attachment", a);
            }
            _ => return,
        }
    }
}

fn register(r: api::Register) {
    if r.invite.is_empty() || r.invite.len() > 128 {
        return;
    }
    let Ok(identity) = unb64("identity", &r.identity, 64).and_then(|b| verify::identity(&b))
    else {
        return;
    };
    let Ok(bundle) = unb64("bundle", &r.bundle, 256) else {
        return;
    };
    if verify::bundle(&bundle, &identity, api::now()).is_err() {
        return;
    }
    if let (Some(photo), Some(t)) = (&r.profile.photo, &r.profile.photo_type)
        && matches!(t.as_str(), "image/jpeg" | "image/png" | "image/webp")
    {
        let _ = unb64("photo", photo, MAX_PHOTO);
    }
    let code = normalise_invite(&r.invite);
    assert!(code.len() <= r.invite.len());
}

fn identity_of(value: &str) -> Option<[u8; 32]> {
    unb64("identity", value, 64)
        .and_then(|b| verify::identity(&b))
        .ok()
}

fn login(r: api::Login) {
    let Some(identity) = identity_of(&r.identity) else {
        return;
    };
    let Ok(challenge) = unb64_exact::<32>("challenge", &r.challenge) else {
        return;
    };
    let Ok(signature) = unb64("signature", &r.signature, 64) else {
        return;
    };
    // No secret key here: a fuzzer cannot produce a valid signature over a random challenge
    // for a key it does not hold, except by finding a forgery.
    let _ = verify::login_signature(&identity, &challenge, &signature);
}

/// Number of body types.
const TYPES: u8 = 11;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % TYPES {
        0 => {
            if let Some(r) = parse::<api::CreateCase>(body) {
                create_case(r);
            }
        }
        1 => {
            if let Some(r) = parse::<api::PostFollowUp>(body) {
                envelope_for(&r.envelope, Purpose::Message);
                pow(r.pow.as_ref());
            }
        }
        2 => {
            if let Some(r) = parse::<api::PostReply>(body) {
                envelope_for(&r.envelope, Purpose::Message);
            }
        }
        3 => {
            if let Some(r) = parse::<api::SetStatus>(body) {
                // The answer echoes the status; it must serialise back to one of the names.
                let v = serde_json::to_value(r.status).unwrap();
                assert!(v.is_string());
            }
        }
        4 => {
            if let Some(r) = parse::<api::Share>(body) {
                share(r);
            }
        }
        5 => {
            if let Some(r) = parse::<api::Register>(body) {
                register(r);
            }
        }
        6 => {
            if let Some(r) = parse::<api::LoginChallengeRequest>(body) {
                let _ = identity_of(&r.identity);
            }
        }
        7 => {
            if let Some(r) = parse::<api::Login>(body) {
                login(r);
            }
        }
        8 => {
            if let Some(r) = parse::<api::PublishBundle>(body)
                && let Ok(b) = unb64("bundle", &r.bundle, 256)
            {
                let _ = verify::bundle(&b, &IDENTITY, api::now());
            }
        }
        9 => {
            if let Some(r) = parse::<api::PublishRevocation>(body)
                && let Ok(b) = unb64("revocation", &r.revocation, 256)
            {
                let _ = verify::revocation(&b, &IDENTITY);
            }
        }
        _ => {
            // A bare proof of work (part of the reporter's bodies), and the ProfileIn and
            // ShareStanza parts on their own.
            if let Some(s) = parse::<PowSolution>(body) {
                pow(Some(&s));
            }
            let _ = parse::<api::ProfileIn>(body);
            let _ = parse::<api::ShareStanza>(body);
        }
    }
});
