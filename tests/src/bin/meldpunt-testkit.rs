//! `meldpunt-testkit`: plays confidential advisors against a running server, so that the
//! browser tests (`tests/browser`) can prove end-to-end behaviour with the real API and the
//! real crypto crate. Deliberately small; the real advisor tools live elsewhere.
//!
//! ```text
//! meldpunt-testkit register --server URL --invite CODE --name NAME --keyring FILE
//!                           [--bio TEXT] [--languages nl,en]
//!     registers a new advisor (fresh identity and encryption key); prints
//!     {"id", "identity", "fingerprint", "pin"}
//! meldpunt-testkit read --server URL --keyring FILE [--attachments DIR]
//!     logs in, opens every case addressed to the advisor and prints
//!     {"cases": [{"id", "status", "transcript", "messages": [{"kind", "body"}],
//!                 "attachments": [{"id", "file", "size"}]}]}
//! meldpunt-testkit reply --server URL --keyring FILE --case ID --text TEXT [--sign-with FILE]
//!     posts a signed reply after the newest message; prints {"seq"}. With --sign-with, the
//!     reply is signed by that other keyring's identity (an advisor the reporter did not
//!     choose, for the tests of protocol §6) while FILE's advisor reads the case and posts it.
//! meldpunt-testkit forge --keyring FILE [--server URL]
//!     plays a server that alters an advisor's key bundles (no request is made); prints
//!     {"expired", "not_yet_valid", "swapped_key", "bad_signature", "revoked", "revocation"}:
//!     base64url bundles for fresh keys that are NOT in the keyring (so a report sealed to one
//!     of them cannot be read by the advisor), except that `swapped_key` and `bad_signature`
//!     are the advisor's real current bundle with the key replaced or the signature damaged.
//!     `expired` and `not_yet_valid` are properly signed by the advisor's identity (a replayed
//!     old bundle, a bundle for later); `revoked` is properly signed, valid now, newer than the
//!     real one, and `revocation` is the advisor's signed revocation of it.
//! ```
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::{Keyring, KeyringParams};
use meldpunt_crypto::keys::{IdentityPublicKey, KeyBundle};
use meldpunt_crypto::message::{self, Message, MessageKind};
use meldpunt_crypto::pickup::{PickupSeed, ReporterKeys};
use meldpunt_crypto::pow;
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};
use meldpunt_crypto::rng::{Rng, os_rng};
use serde_json::{Value, json};
use zeroize::Zeroizing;

const PASSPHRASE: &str = "meldpunt-testkit";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(v: &Value) -> Result<Vec<u8>> {
    let s = v.as_str().ok_or_else(|| anyhow!("expected a base64url string, got {v}"))?;
    URL_SAFE_NO_PAD.decode(s).context("base64url")
}

struct Args(HashMap<String, String>);

impl Args {
    fn parse(list: &[String]) -> Result<Self> {
        let mut map = HashMap::new();
        let mut it = list.iter();
        while let Some(flag) = it.next() {
            let name = flag.strip_prefix("--").ok_or_else(|| anyhow!("unexpected argument {flag}"))?;
            let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Args(map))
    }
    fn get(&self, name: &str) -> Result<&str> {
        self.0.get(name).map(String::as_str).ok_or_else(|| anyhow!("--{name} is required"))
    }
    fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

struct Api {
    base: String,
    http: reqwest::blocking::Client,
    token: Option<String>,
}

impl Api {
    fn new(base: &str) -> Result<Self> {
        Ok(Api { base: base.trim_end_matches('/').to_owned(), http: reqwest::blocking::Client::builder().build()?, token: None })
    }
    fn send(&self, req: reqwest::blocking::RequestBuilder) -> Result<reqwest::blocking::Response> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send()?;
        if !res.status().is_success() {
            let status = res.status();
            bail!("{status}: {}", res.text().unwrap_or_default());
        }
        Ok(res)
    }
    fn get(&self, path: &str) -> Result<Value> {
        Ok(self.send(self.http.get(format!("{}{path}", self.base)))?.json()?)
    }
    fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        Ok(self.send(self.http.get(format!("{}{path}", self.base)))?.bytes()?.to_vec())
    }
    fn post(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self.send(self.http.post(format!("{}{path}", self.base)).json(body))?.json()?)
    }

    fn login(&mut self, keyring: &Keyring) -> Result<()> {
        let identity = b64(&keyring.identity().public().to_bytes());
        let c = self.post("/api/v1/advisor/login/challenge", &json!({"identity": identity}))?;
        let challenge = unb64(&c["challenge"])?;
        let signature = keyring.identity().sign_login(&challenge);
        let r = self.post(
            "/api/v1/advisor/login",
            &json!({"identity": identity, "challenge": b64(&challenge), "signature": b64(&signature)}),
        )?;
        self.token = Some(r["token"].as_str().ok_or_else(|| anyhow!("no token"))?.to_owned());
        Ok(())
    }
}

fn load_keyring(path: &str) -> Result<Keyring> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    Keyring::from_file(&bytes, PASSPHRASE).map_err(|e| anyhow!("keyring: {e}"))
}

fn register(args: &Args) -> Result<Value> {
    let mut rng = os_rng();
    let now = now();
    let keyring = Keyring::new(&mut rng, Zeroizing::new("{}".to_owned()), now - 60, 365 * 86_400)
        .map_err(|e| anyhow!("keyring: {e}"))?;
    let key_id = keyring.keys().first().ok_or_else(|| anyhow!("no key"))?.key.key_id();
    let bundle = keyring.bundle(key_id).map_err(|e| anyhow!("bundle: {e}"))?;
    let languages: Vec<&str> = args.opt("languages").unwrap_or("nl").split(',').collect();
    let mut profile = json!({
        "display_name": args.get("name")?,
        "bio": args.opt("bio").unwrap_or(""),
        "languages": languages,
    });
    if let Some(photo) = args.opt("photo") {
        let bytes = std::fs::read(photo).with_context(|| format!("reading {photo}"))?;
        let t = if photo.ends_with(".png") { "image/png" } else { "image/jpeg" };
        profile["photo"] = json!(b64(&bytes));
        profile["photo_type"] = json!(t);
    }
    let api = Api::new(args.get("server")?)?;
    let out = api.post(
        "/api/v1/advisor/register",
        &json!({
            "invite": args.get("invite")?,
            "identity": b64(&keyring.identity().public().to_bytes()),
            "bundle": b64(&bundle.to_bytes()),
            "profile": profile,
        }),
    )?;
    let file = keyring.to_file(&mut rng, PASSPHRASE, KeyringParams::MINIMUM).map_err(|e| anyhow!("keyring: {e}"))?;
    std::fs::write(args.get("keyring")?, file)?;
    let fp = keyring.identity().public().fingerprint();
    Ok(json!({
        "id": out["id"],
        "identity": b64(&keyring.identity().public().to_bytes()),
        "fingerprint": fp.to_display(),
        "pin": fp.to_pin(),
    }))
}

/// A case's messages opened with the keyring and the transcript verified.
struct Opened {
    messages: Vec<Message>,
    transcript: Result<message::Transcript, message::TranscriptError>,
}

fn detached(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().map(|a| a.iter().filter_map(|s| unb64(s).ok()).collect()).unwrap_or_default()
}

fn open_case(keyring: &Keyring, view: &Value) -> Result<Opened> {
    let mut messages = Vec::new();
    for m in view["messages"].as_array().into_iter().flatten() {
        let env = unb64(&m["envelope"])?;
        let stanzas = detached(&m["stanzas"]);
        let refs: Vec<&[u8]> = stanzas.iter().map(Vec::as_slice).collect();
        let opened = keyring.open(&env, &refs).map_err(|e| anyhow!("message {}: {e}", m["seq"]))?;
        messages.push(Message::from_bytes(&opened.plaintext).map_err(|e| anyhow!("message: {e}"))?);
    }
    let advisors: Vec<IdentityPublicKey> = view["advisors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| unb64(&a["identity"]).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok()))
        .collect();
    let transcript = message::verify_transcript(&messages, &advisors);
    Ok(Opened { messages, transcript })
}

fn read(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let mut api = Api::new(args.get("server")?)?;
    api.login(&keyring)?;
    let inbox = api.get("/api/v1/advisor/cases")?;
    let mut cases = Vec::new();
    for summary in inbox["cases"].as_array().into_iter().flatten() {
        let id = summary["id"].as_str().ok_or_else(|| anyhow!("case without id"))?;
        let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
        let opened = open_case(&keyring, &view)?;
        let messages: Vec<Value> = opened
            .messages
            .iter()
            .map(|m| {
                let kind = match m.kind() {
                    MessageKind::Report => "report",
                    MessageKind::FollowUp => "follow_up",
                    MessageKind::Reply => "reply",
                    MessageKind::Membership => "membership",
                };
                let body = serde_json::from_slice::<Value>(m.body())
                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(m.body())));
                json!({"kind": kind, "body": body})
            })
            .collect();
        let mut attachments = Vec::new();
        for a in view["attachments"].as_array().into_iter().flatten() {
            let att = a["id"].as_str().ok_or_else(|| anyhow!("attachment without id"))?;
            let env = api.get_bytes(&format!("/api/v1/advisor/cases/{id}/attachments/{att}"))?;
            let stanzas = detached(&a["stanzas"]);
            let refs: Vec<&[u8]> = stanzas.iter().map(Vec::as_slice).collect();
            let opened = keyring.open(&env, &refs).map_err(|e| anyhow!("attachment {att}: {e}"))?;
            if opened.purpose != Purpose::Attachment {
                bail!("attachment {att} has purpose {:?}", opened.purpose);
            }
            let file = match args.opt("attachments") {
                Some(dir) => {
                    let path = PathBuf::from(dir).join(format!("{att}.bin"));
                    std::fs::write(&path, opened.plaintext.as_slice())?;
                    json!(path.to_string_lossy())
                }
                None => Value::Null,
            };
            attachments.push(json!({"id": att, "size": opened.plaintext.len(), "file": file}));
        }
        let transcript = match &opened.transcript {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        cases.push(json!({
            "id": id,
            "org": view["org"],
            "status": view["status"],
            "transcript": transcript,
            "messages": messages,
            "attachments": attachments,
        }));
    }
    Ok(json!({"cases": cases}))
}

fn reply(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let mut api = Api::new(args.get("server")?)?;
    api.login(&keyring)?;
    let id = args.get("case")?;
    let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let org = view["org"].as_str().ok_or_else(|| anyhow!("case without org"))?.to_owned();
    let opened = open_case(&keyring, &view)?;
    let transcript = opened.transcript.map_err(|e| anyhow!("transcript: {e}"))?;
    let head = transcript.head().ok_or_else(|| anyhow!("empty case"))?;
    let now = now();
    let body = json!({"text": args.get("text")?, "attachments": []}).to_string();
    let other = args.opt("sign-with").map(load_keyring).transpose()?;
    let signer = other.as_ref().unwrap_or(&keyring);
    let message = Message::sign_reply(signer.identity(), &head, now, body.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    // The reporter, and every advisor on the case (this one included) at their current key.
    let mut recipients: Vec<RecipientKey> = vec![transcript.reply_key()];
    for a in view["advisors"].as_array().into_iter().flatten() {
        let newest = a["bundles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| unb64(b).ok().and_then(|b| KeyBundle::from_bytes(&b).ok()))
            .filter_map(|b| b.verify_for_sealing(now, &[], None).ok().map(|r| (b.not_before(), r)))
            .max_by_key(|(nb, _)| *nb);
        if let Some((_, r)) = newest
            && !recipients.contains(&r)
        {
            recipients.push(r);
        }
    }
    let sealed = envelope::seal(&mut os_rng(), Purpose::Message, &org, &recipients, message.as_bytes())
        .map_err(|e| anyhow!("{e}"))?;
    api.post(&format!("/api/v1/advisor/cases/{id}/messages"), &json!({"envelope": b64(&sealed)}))
}

/// The newest bundle of an advisor (as the API lists them) that verifies for sealing now.
fn current_key(advisor: &Value, now: i64) -> Option<RecipientKey> {
    let identity = unb64(&advisor["identity"]).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok())?;
    advisor["bundles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| unb64(b).ok().and_then(|b| KeyBundle::from_bytes(&b).ok()))
        .filter(|b| b.identity() == identity)
        .filter_map(|b| b.verify_for_sealing(now, &[], None).ok().map(|r| (b.not_before(), r)))
        .max_by_key(|(nb, _)| *nb)
        .map(|(_, r)| r)
}

/// A solved proof of work as the API takes it, or null when the server has it disabled.
fn solve_pow(api: &Api) -> Result<Value> {
    let c = api.post("/api/v1/pow", &json!({}))?;
    if c["enabled"] == json!(false) {
        return Ok(Value::Null);
    }
    let bytes = unb64(&c["challenge"])?;
    let nonce = pow::solve(&bytes, |_| {}).map_err(|e| anyhow!("pow: {e:?}"))?;
    Ok(json!({"challenge": c["challenge"], "nonce": nonce}))
}

fn report(args: &Args) -> Result<Value> {
    let api = Api::new(args.get("server")?)?;
    let org = args.get("org")?;
    let page = api.get(&format!("/api/v1/orgs/{org}"))?;
    let now = now();
    let chosen: Vec<&str> = args.get("advisors")?.split(',').collect();
    let mut seed = [0u8; 32];
    os_rng().fill_bytes(&mut seed);
    let keys = ReporterKeys::from_seed(&PickupSeed::from_bytes(seed));
    let mut recipients = Vec::new();
    for id in &chosen {
        let advisor = page["advisors"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["id"].as_str() == Some(id))
            .ok_or_else(|| anyhow!("no advisor {id} at {org}"))?;
        recipients.push(current_key(advisor, now).ok_or_else(|| anyhow!("advisor {id} has no usable key"))?);
    }
    recipients.push(keys.reply_key().recipient());
    let attachment = match args.opt("attachment") {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
            let mut id = [0u8; 16];
            os_rng().fill_bytes(&mut id);
            let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Some((b64(&id), name, bytes))
        }
        None => None,
    };
    let attachments: Vec<Value> = attachment
        .iter()
        .map(|(id, name, bytes)| json!({"id": id, "name": name, "type": "application/octet-stream", "size": bytes.len()}))
        .collect();
    let body = json!({
        "categories": ["other"],
        "role": "witness",
        "when": "2025-01",
        "where": args.opt("where").unwrap_or("Kantine"),
        "story": args.get("story")?,
        "wishes": ["advice"],
        "lang": "nl",
        "attachments": attachments,
    })
    .to_string();
    let message = Message::sign_report(keys.signing_key(), &keys.reply_key().recipient(), now, body.as_bytes())
        .map_err(|e| anyhow!("{e}"))?;
    let sealed = envelope::seal(&mut os_rng(), Purpose::Report, org, &recipients, message.as_bytes())
        .map_err(|e| anyhow!("{e}"))?;
    let pow = solve_pow(&api)?;
    api.post(
        "/api/v1/cases",
        &json!({
            "org": org,
            "advisors": chosen,
            "token_hash": b64(&keys.case_token().hash()),
            "envelope": b64(&sealed),
            "pow": pow,
        }),
    )?;
    if let Some((id, _, bytes)) = &attachment {
        let sealed = envelope::seal(&mut os_rng(), Purpose::Attachment, org, &recipients, bytes)
            .map_err(|e| anyhow!("{e}"))?;
        let pow = solve_pow(&api)?;
        let mut req = api
            .http
            .put(format!("{}/api/v1/case/attachments/{id}", api.base))
            .header("Authorization", format!("CaseToken {}", keys.case_token().to_base64url().as_str()))
            .header("Content-Type", "application/octet-stream")
            .body(sealed);
        if !pow.is_null() {
            req = req.header("Meldpunt-Pow", format!("{}.{}", pow["challenge"].as_str().unwrap_or_default(), pow["nonce"]));
        }
        api.send(req)?;
    }
    Ok(json!({"seed": b64(&seed), "attachment": attachment.map(|(id, _, _)| id)}))
}

fn follow_up(args: &Args) -> Result<Value> {
    let api = Api::new(args.get("server")?)?;
    let seed: [u8; 32] = unb64(&json!(args.get("seed")?))?.try_into().map_err(|_| anyhow!("a seed is 32 bytes"))?;
    let keys = ReporterKeys::from_seed(&PickupSeed::from_bytes(seed));
    let auth = format!("CaseToken {}", keys.case_token().to_base64url().as_str());
    let view: Value = api.send(api.http.get(format!("{}/api/v1/case", api.base)).header("Authorization", &auth))?.json()?;
    let org = view["org"].as_str().ok_or_else(|| anyhow!("case without org"))?.to_owned();
    let mut messages = Vec::new();
    for m in view["messages"].as_array().into_iter().flatten() {
        let opened = envelope::open(&unb64(&m["envelope"])?, &[keys.reply_key()], &[]).map_err(|e| anyhow!("message: {e}"))?;
        messages.push(Message::from_bytes(&opened.plaintext).map_err(|e| anyhow!("message: {e}"))?);
    }
    let now = now();
    let advisors: Vec<&Value> = view["advisors"].as_array().into_iter().flatten().collect();
    let trusted: Vec<IdentityPublicKey> = advisors
        .iter()
        .filter_map(|a| unb64(&a["identity"]).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok()))
        .collect();
    let transcript = message::verify_transcript(&messages, &trusted).map_err(|e| anyhow!("transcript: {e}"))?;
    let head = transcript.head().ok_or_else(|| anyhow!("empty case"))?;
    let mut recipients: Vec<RecipientKey> = advisors.iter().filter_map(|a| current_key(a, now)).collect();
    recipients.push(keys.reply_key().recipient());
    let body = json!({"text": args.get("text")?, "attachments": []}).to_string();
    let message = Message::sign_follow_up(keys.signing_key(), &head, now, body.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    let sealed = envelope::seal(&mut os_rng(), Purpose::Message, &org, &recipients, message.as_bytes())
        .map_err(|e| anyhow!("{e}"))?;
    let pow = solve_pow(&api)?;
    let res: Value = api
        .send(
            api.http
                .post(format!("{}/api/v1/case/messages", api.base))
                .header("Authorization", &auth)
                .json(&json!({"envelope": b64(&sealed), "pow": pow})),
        )?
        .json()?;
    Ok(res)
}

fn forge(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let identity = keyring.identity();
    let now = now();
    let mut rng = os_rng();
    let year = 365 * 86_400;
    let mut signed = |not_before: i64, not_after: i64| -> Result<Vec<u8>> {
        let fresh = DecryptionKey::generate(&mut rng).recipient();
        Ok(identity.make_bundle(&fresh, not_before, not_after).map_err(|e| anyhow!("bundle: {e}"))?.to_bytes())
    };
    let expired = signed(now - 2 * year, now - year)?;
    let not_yet_valid = signed(now + year, now + 2 * year)?;
    let current = keyring.current_key(now).ok_or_else(|| anyhow!("no current key"))?;
    let real = keyring.bundle(current.key.key_id()).map_err(|e| anyhow!("bundle: {e}"))?.to_bytes();
    // Layout (protocol §1.3): magic 4, version 1, identity 32, key id 16, X25519 key 32 at
    // offset 53, dates 16, signature 64 at offset 101.
    let mut swapped_key = real.clone();
    let attacker = DecryptionKey::generate(&mut os_rng()).recipient();
    swapped_key
        .get_mut(53..85)
        .ok_or_else(|| anyhow!("short bundle"))?
        .copy_from_slice(attacker.public_bytes());
    let mut bad_signature = real;
    if let Some(b) = bad_signature.get_mut(130) {
        *b ^= 0x01;
    }
    let fresh = DecryptionKey::generate(&mut os_rng()).recipient();
    let revoked = identity.make_bundle(&fresh, now - 30, now + year).map_err(|e| anyhow!("bundle: {e}"))?;
    let revocation = identity.make_revocation(fresh.key_id(), now - 10);
    Ok(json!({
        "expired": b64(&expired),
        "not_yet_valid": b64(&not_yet_valid),
        "swapped_key": b64(&swapped_key),
        "bad_signature": b64(&bad_signature),
        "revoked": b64(&revoked.to_bytes()),
        "revocation": b64(&revocation.to_bytes()),
    }))
}

fn main() -> std::process::ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let result = match all.split_first() {
        Some((cmd, rest)) => Args::parse(rest).and_then(|args| match cmd.as_str() {
            "register" => register(&args),
            "read" => read(&args),
            "reply" => reply(&args),
            "report" => report(&args),
            "follow-up" => follow_up(&args),
            "forge" => forge(&args),
            other => Err(anyhow!("unknown command {other}")),
        }),
        None => Err(anyhow!("usage: meldpunt-testkit register|read|reply|report|follow-up|forge --server URL ...")),
    };
    match result {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("meldpunt-testkit: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
