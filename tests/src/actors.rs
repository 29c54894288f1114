//! Advisors and reporters played with the real crypto crate: register, login, inbox and case
//! views, sealing, signed reports and membership statements.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::{Keyring, KeyringEntry};
use meldpunt_crypto::keys::{KeyBundle, Revocation};
use meldpunt_crypto::pickup::{PickupCode, ReporterKeys};
use meldpunt_crypto::recipient::RecipientKey;
use meldpunt_crypto::rng::os_rng;
use reqwest::blocking::{RequestBuilder, Response};
use serde_json::{Value, json};

use crate::http::{b64, expect, now, unb64};
use crate::server::Server;

/// A registered, logged-in advisor with its keyring in memory.
#[derive(Debug)]
pub struct Advisor {
    pub keyring: Keyring,
    pub id: String,
    pub token: String,
}

impl Advisor {
    pub fn register(server: &Server, invite: &str, name: &str) -> Advisor {
        let t = now();
        let mut rng = os_rng();
        let keyring = Keyring::new(
            &mut rng,
            zeroize::Zeroizing::new(String::new()),
            t - 60,
            365 * 86_400,
        )
        .unwrap();
        let key_id = keyring.current_key(t).unwrap().key.key_id();
        let bundle = keyring.bundle(key_id).unwrap();
        let r = server
            .post("/api/v1/advisor/register")
            .json(&json!({
                "invite": invite,
                "identity": b64(&keyring.identity().public().to_bytes()),
                "bundle": b64(&bundle.to_bytes()),
                "profile": {"display_name": name, "bio": "Vertrouwenspersoon", "languages": ["nl", "en"]},
            }))
            .send()
            .unwrap();
        let v = expect(r, 201, None);
        let id = v["id"].as_str().unwrap().to_owned();
        let mut a = Advisor {
            keyring,
            id,
            token: String::new(),
        };
        a.login(server);
        a
    }

    /// Logs in (challenge, signature); keeps the session token.
    pub fn login(&mut self, server: &Server) {
        let v = expect(self.login_response(server), 200, None);
        self.token = v["token"].as_str().unwrap().to_owned();
    }

    /// Asks for a login challenge, signs it and posts the login; returns the answer.
    pub fn login_response(&self, server: &Server) -> Response {
        self.login_with(
            server.post("/api/v1/advisor/login/challenge"),
            server.post("/api/v1/advisor/login"),
        )
    }

    /// Logs in with the requests `challenge` (`POST …/advisor/login/challenge`) and `login`
    /// (`POST …/advisor/login`), e.g. through a relay or with extra headers; returns the
    /// login's answer.
    pub fn login_with(&self, challenge: RequestBuilder, login: RequestBuilder) -> Response {
        let identity = b64(&self.keyring.identity().public().to_bytes());
        let c: Value = challenge
            .json(&json!({"identity": identity}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let challenge = unb64(c["challenge"].as_str().unwrap());
        let sig = self.keyring.identity().sign_login(&challenge);
        login
            .json(&json!({"identity": identity, "challenge": b64(&challenge), "signature": b64(&sig)}))
            .send()
            .unwrap()
    }

    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.header("Authorization", format!("Bearer {}", self.token))
    }

    /// `GET path` with the advisor's session, which must answer 200; returns the answer.
    pub fn get_ok(&self, server: &Server, path: &str) -> Value {
        expect(self.auth(server.get(path)).send().unwrap(), 200, None)
    }

    pub fn inbox(&self, server: &Server) -> Vec<Value> {
        self.get_ok(server, "/api/v1/advisor/cases")["cases"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn case(&self, server: &Server, id: &str) -> Value {
        self.get_ok(server, &format!("/api/v1/advisor/cases/{id}"))
    }

    /// Opens every message of a case view; returns the plaintexts.
    pub fn open_messages(&self, view: &Value) -> Vec<Vec<u8>> {
        let keys = self.keyring.decryption_keys();
        map_messages(view, |_, env, refs| {
            envelope::open(env, &keys, refs).unwrap().plaintext.to_vec()
        })
    }
}

/// The `id`s of a list of advisors (an organisation page's or a case view's `advisors`).
#[must_use]
pub fn ids_of(advisors: &Value) -> Vec<&str> {
    advisors
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect()
}

/// A new keyring (profile `{}`) whose first key is valid from a minute before `now` for a year.
///
/// # Errors
/// When the crypto crate cannot make it.
pub fn year_keyring(now: i64) -> anyhow::Result<Keyring> {
    Keyring::new(
        &mut os_rng(),
        zeroize::Zeroizing::new("{}".to_owned()),
        now - 60,
        365 * 86_400,
    )
    .map_err(|e| anyhow::anyhow!("keyring: {e}"))
}

/// The first key of `keyring` (the one [`year_keyring`] made).
///
/// # Errors
/// When the keyring holds no key.
pub fn first_key(keyring: &Keyring) -> anyhow::Result<&KeyringEntry> {
    keyring
        .keys()
        .first()
        .ok_or_else(|| anyhow::anyhow!("no key"))
}

/// `f` of every message of a case view: the message, its envelope and its detached stanzas.
pub fn map_messages<T>(view: &Value, mut f: impl FnMut(&Value, &[u8], &[&[u8]]) -> T) -> Vec<T> {
    view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let env = unb64(m["envelope"].as_str().unwrap());
            let detached = detached_stanzas(m);
            let refs: Vec<&[u8]> = detached.iter().map(Vec::as_slice).collect();
            f(m, &env, &refs)
        })
        .collect()
}

/// The detached stanzas of a message of a case view (none if it has none).
#[must_use]
pub fn detached_stanzas(message: &Value) -> Vec<Vec<u8>> {
    message["stanzas"]
        .as_array()
        .map(|a| a.iter().map(|s| unb64(s.as_str().unwrap())).collect())
        .unwrap_or_default()
}

/// The key bundles an advisor is listed with (not verified).
#[must_use]
pub fn bundles_of(advisor: &Value) -> Vec<KeyBundle> {
    advisor["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| KeyBundle::from_bytes(&unb64(b.as_str().unwrap())).unwrap())
        .collect()
}

/// The revocations an advisor is listed with (not verified).
#[must_use]
pub fn revocations_of(advisor: &Value) -> Vec<Revocation> {
    advisor["revocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Revocation::from_bytes(&unb64(r.as_str().unwrap())).unwrap())
        .collect()
}

/// Verified recipient keys of advisors as listed by the server (org page or case view).
pub fn recipients(advisors: &[Value], ids: Option<&[String]>) -> Vec<RecipientKey> {
    let t = now();
    let mut out = Vec::new();
    for a in advisors {
        if let Some(ids) = ids
            && !ids.iter().any(|i| a["id"] == i.as_str())
        {
            continue;
        }
        let revs = revocations_of(a);
        for bundle in bundles_of(a) {
            if let Ok(r) = bundle.verify_for_sealing(t, &revs, None) {
                out.push(r);
            }
        }
    }
    out
}

/// A reporter: the pickup code and the keys derived from it.
#[derive(Debug)]
pub struct Reporter {
    pub code: String,
    pub keys: ReporterKeys,
}

impl Default for Reporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter {
    /// A new pickup code.
    #[must_use]
    pub fn new() -> Reporter {
        let code = PickupCode::generate(&mut os_rng());
        let keys = code.derive_keys().unwrap();
        Reporter {
            code: code.display_form().to_string(),
            keys,
        }
    }

    /// Everything again from the pickup code alone.
    pub fn from_code(code: &str) -> Reporter {
        let parsed = PickupCode::parse(code).unwrap();
        Reporter {
            code: code.to_owned(),
            keys: parsed.derive_keys().unwrap(),
        }
    }

    pub fn token(&self) -> String {
        self.keys.case_token().to_base64url().to_string()
    }

    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        crate::http::with_case_token(rb, &self.token())
    }

    /// Seals and signs a report to `advisor_ids` of `org`, and creates the case.
    pub fn create_case(
        &self,
        server: &Server,
        org: &str,
        advisor_ids: &[String],
        body: &[u8],
    ) -> Response {
        let page = server.org_page(org);
        let to = self.recipients(&page["advisors"], Some(advisor_ids));
        let env = self.sealed_report(org, &to, body);
        let pow = server.pow();
        let mut req = json!({
            "org": org,
            "advisors": advisor_ids,
            "token_hash": b64(&self.keys.case_token().hash()),
            "envelope": b64(&env),
        });
        if !pow.is_null() {
            req["pow"] = pow;
        }
        server.post("/api/v1/cases").json(&req).send().unwrap()
    }

    /// The report `body` signed by the reporter at `created_at` (protocol §6).
    #[must_use]
    pub fn signed_report(&self, created_at: i64, body: &[u8]) -> meldpunt_crypto::message::Message {
        meldpunt_crypto::message::Message::sign_report(
            self.keys.signing_key(),
            &self.keys.reply_key().recipient(),
            created_at,
            body,
        )
        .unwrap()
    }

    /// The report `body`, signed now, sealed for `org` to `to` (with the reporter's own reply
    /// key among them, see [`Reporter::recipients`]).
    #[must_use]
    pub fn sealed_report(&self, org: &str, to: &[RecipientKey], body: &[u8]) -> Vec<u8> {
        seal(Purpose::Report, org, to, &self.signed_report(now(), body).to_bytes())
    }

    /// The verified keys of `advisors` (all, or those in `ids`) and the reporter's own reply key.
    #[must_use]
    pub fn recipients(&self, advisors: &Value, ids: Option<&[String]>) -> Vec<RecipientKey> {
        let mut to = recipients(advisors.as_array().unwrap(), ids);
        to.push(self.keys.reply_key().recipient());
        to
    }

    /// [`Reporter::create_case`], which must answer 201; returns the answer.
    pub fn create_case_ok(
        &self,
        server: &Server,
        org: &str,
        advisor_ids: &[String],
        body: &[u8],
    ) -> Value {
        expect(self.create_case(server, org, advisor_ids, body), 201, None)
    }

    pub fn case(&self, server: &Server) -> Value {
        expect(
            self.auth(server.get("/api/v1/case")).send().unwrap(),
            200,
            None,
        )
    }
}

/// Seals `plain` as an envelope of `purpose` for `org` to `to`.
pub fn seal(purpose: Purpose, org: &str, to: &[RecipientKey], plain: &[u8]) -> Vec<u8> {
    envelope::seal(&mut os_rng(), purpose, org, to, plain).unwrap()
}

/// A signed membership statement (protocol §10.1: `op` 1 add, 2 remove) by `from` about the
/// advisor with the base64url identity key `identity`, after the newest message of `view`
/// (which `from` must be able to open), sealed as a message of `org` to `to`.
pub fn statement(
    from: &Advisor,
    view: &Value,
    org: &str,
    op: u8,
    identity: &str,
    to: &[RecipientKey],
) -> Vec<u8> {
    let last = view["messages"].as_array().unwrap().last().unwrap();
    let env = unb64(last["envelope"].as_str().unwrap());
    let detached = detached_stanzas(last);
    let refs: Vec<&[u8]> = detached.iter().map(Vec::as_slice).collect();
    let opened = envelope::open(&env, &from.keyring.decryption_keys(), &refs).unwrap();
    // A test case whose last message is no signed message (raw bytes) gets a zero parent.
    let parent = meldpunt_crypto::message::Message::from_bytes(&opened.plaintext)
        .map(|m| m.hash())
        .unwrap_or([0u8; 32]);
    let mut body = Vec::with_capacity(38);
    body.extend_from_slice(b"MPMS");
    body.push(1);
    body.push(op);
    body.extend_from_slice(&unb64(identity));
    let m = meldpunt_crypto::message::Message::sign_membership(
        from.keyring.identity(),
        &parent,
        now(),
        &body,
    )
    .unwrap();
    seal(Purpose::Message, org, to, &m.to_bytes())
}

/// The advisor `id` as the organisation page `org` lists it.
pub fn listed(server: &Server, org: &str, id: &str) -> Value {
    server.org_page(org)["advisors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
        .clone()
}
