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
//!     logs in, opens every case addressed to the advisor through the client core and prints
//!     {"cases": [{"id", "org", "status", "transcript" ("ok" or "CODE at message N"),
//!                 "warnings": [{"code", "id", "fingerprint"}], "members": [fingerprint],
//!                 "messages": [{"kind", "body", "trusted"}],
//!                 "attachments": [{"id", "file", "size", "name" (safe file name)}]}]}
//! meldpunt-testkit reply --server URL --keyring FILE --case ID --text TEXT [--sign-with FILE]
//!     posts a signed reply after the newest message, sealed by the core to the members only;
//!     prints {"seq"}. With --sign-with, the reply is signed by that other keyring's identity
//!     (someone who is not a member, for the tests of protocol §6.1 and §10) while FILE's
//!     advisor reads the case and posts it.
//! meldpunt-testkit share --server URL --keyring FILE --case ID --advisor ID --fingerprint FP
//!     confirms the colleague by fingerprint (required), makes detached stanzas for every
//!     message and attachment, signs the add statement and posts the share; prints {"seq"}
//! meldpunt-testkit remove --server URL --keyring FILE --case ID --advisor ID
//!     signs the remove statement (the own id: leave the case); prints {"seq"}
//! meldpunt-testkit report --server URL --org SLUG --advisors ID,ID --story TEXT
//!                         [--attachment FILE [--attachment-name NAME]]
//!     a reporter's report sealed by the core (`advisors` in the body); prints {"seed", "attachment"}
//! meldpunt-testkit follow-up --server URL --seed SEED --text TEXT
//!     a reporter's follow-up sealed by the core to the case's members; prints {"seq"}
//! meldpunt-testkit relay --upstream URL [--listen 127.0.0.1:0]
//!     the hostile relay (`meldpunt_tests::relay`): prints {"listening": "http://127.0.0.1:PORT"}
//!     and forwards until killed; control with POST /__relay/mode, GET /__relay/identity,
//!     GET /__relay/log
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
use meldpunt_client::advisors::{self, Listed, Pins};
use meldpunt_client::body::{AttachmentRef, MessageBody, ReportBody, Role};
use meldpunt_client::case::{self, CaseView, EnvelopeIn, OpenInput, Viewer, Warning};
use meldpunt_client::colleagues::Colleagues;
use meldpunt_client::filename::safe_file_name;
use meldpunt_client::seal::{self, ShareTarget};
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::{Keyring, KeyringParams};
use meldpunt_crypto::message::Message;
use meldpunt_crypto::pickup::{PickupSeed, ReporterKeys};
use meldpunt_crypto::pow;
use meldpunt_crypto::recipient::DecryptionKey;
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

/// A field of a server answer (`null` if absent): every answer is hostile input.
fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(key).unwrap_or(&NULL)
}

fn unb64(v: &Value) -> Result<Vec<u8>> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("expected a base64url string, got {v}"))?;
    URL_SAFE_NO_PAD.decode(s).context("base64url")
}

struct Args(HashMap<String, String>);

impl Args {
    fn parse(list: &[String]) -> Result<Self> {
        let mut map = HashMap::new();
        let mut it = list.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| anyhow!("unexpected argument {flag}"))?;
            let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Args(map))
    }
    fn get(&self, name: &str) -> Result<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("--{name} is required"))
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
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::blocking::Client::builder().build()?,
            token: None,
        })
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
        Ok(self
            .send(self.http.get(format!("{}{path}", self.base)))?
            .json()?)
    }
    fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        Ok(self
            .send(self.http.get(format!("{}{path}", self.base)))?
            .bytes()?
            .to_vec())
    }
    fn post(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self
            .send(self.http.post(format!("{}{path}", self.base)).json(body))?
            .json()?)
    }

    fn login(&mut self, keyring: &Keyring) -> Result<()> {
        let identity = b64(&keyring.identity().public().to_bytes());
        let c = self.post(
            "/api/v1/advisor/login/challenge",
            &json!({"identity": identity}),
        )?;
        let challenge = unb64(at(&c, "challenge"))?;
        let signature = keyring.identity().sign_login(&challenge);
        let r = self.post(
            "/api/v1/advisor/login",
            &json!({"identity": identity, "challenge": b64(&challenge), "signature": b64(&signature)}),
        )?;
        self.token = Some(
            at(&r, "token")
                .as_str()
                .ok_or_else(|| anyhow!("no token"))?
                .to_owned(),
        );
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
    let keyring = Keyring::new(
        &mut rng,
        Zeroizing::new("{}".to_owned()),
        now - 60,
        365 * 86_400,
    )
    .map_err(|e| anyhow!("keyring: {e}"))?;
    let key_id = keyring
        .keys()
        .first()
        .ok_or_else(|| anyhow!("no key"))?
        .key
        .key_id();
    let bundle = keyring.bundle(key_id).map_err(|e| anyhow!("bundle: {e}"))?;
    let languages: Vec<&str> = args.opt("languages").unwrap_or("nl").split(',').collect();
    let mut profile = json!({
        "display_name": args.get("name")?,
        "bio": args.opt("bio").unwrap_or(""),
        "languages": languages,
    });
    if let Some(photo) = args.opt("photo") {
        let bytes = std::fs::read(photo).with_context(|| format!("reading {photo}"))?;
        let t = if photo.ends_with(".png") {
            "image/png"
        } else {
            "image/jpeg"
        };
        if let Some(p) = profile.as_object_mut() {
            p.insert("photo".into(), json!(b64(&bytes)));
            p.insert("photo_type".into(), json!(t));
        }
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
    let file = keyring
        .to_file(&mut rng, PASSPHRASE, KeyringParams::MINIMUM)
        .map_err(|e| anyhow!("keyring: {e}"))?;
    std::fs::write(args.get("keyring")?, file)?;
    let fp = keyring.identity().public().fingerprint();
    Ok(json!({
        "id": at(&out, "id"),
        "identity": b64(&keyring.identity().public().to_bytes()),
        "fingerprint": fp.to_display(),
        "pin": fp.to_pin(),
    }))
}

fn detached(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| unb64(s).ok()).collect())
        .unwrap_or_default()
}

fn listed_in(v: &Value) -> Vec<Listed> {
    at(v, "advisors")
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            serde_json::from_value::<Listed>(a.clone()).unwrap_or_else(|_| Listed {
                id: at(a, "id").as_str().unwrap_or_default().to_owned(),
                ..Listed::default()
            })
        })
        .collect()
}

fn envelopes_in(view: &Value) -> Result<Vec<EnvelopeIn>> {
    at(view, "messages")
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            Ok(EnvelopeIn {
                envelope: unb64(at(m, "envelope"))?,
                detached: detached(at(m, "stanzas")),
            })
        })
        .collect()
}

/// A case opened and judged by the client core, as an advisor or as the reporter.
fn judge(
    viewer: Viewer,
    keys: &[&DecryptionKey],
    view: &Value,
    envelopes: &[EnvelopeIn],
) -> Result<CaseView> {
    let org = at(view, "org")
        .as_str()
        .ok_or_else(|| anyhow!("case without org"))?;
    let (listed, listed_malformed) = advisors::verify_all(&listed_in(view), now());
    Ok(case::open(OpenInput {
        viewer,
        org,
        envelopes,
        keys,
        listed,
        listed_malformed,
        sent: &[],
    }))
}

fn advisor_case(
    api: &Api,
    keyring: &Keyring,
    id: &str,
) -> Result<(Value, Vec<EnvelopeIn>, CaseView)> {
    let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let envelopes = envelopes_in(&view)?;
    let judged = judge(
        Viewer::Advisor(keyring.identity().public()),
        &keyring.decryption_keys(),
        &view,
        &envelopes,
    )?;
    Ok((view, envelopes, judged))
}

fn transcript_code(case: &CaseView) -> String {
    case.problem.map_or_else(
        || "ok".to_owned(),
        |p| format!("{} at message {}", p.kind.code(), p.index),
    )
}

fn warnings_json(case: &CaseView) -> Value {
    Value::Array(
        case.warnings
            .iter()
            .map(|w| match w {
                Warning::ListedNotMember { id, fingerprint }
                | Warning::MemberWithoutKey {
                    id, fingerprint, ..
                } => {
                    json!({"code": w.code(), "id": id, "fingerprint": fingerprint})
                }
                Warning::MemberNotListed { fingerprint } => {
                    json!({"code": w.code(), "fingerprint": fingerprint})
                }
            })
            .collect(),
    )
}

fn read(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let mut api = Api::new(args.get("server")?)?;
    api.login(&keyring)?;
    let inbox = api.get("/api/v1/advisor/cases")?;
    let mut cases = Vec::new();
    for summary in at(&inbox, "cases").as_array().into_iter().flatten() {
        let id = at(summary, "id")
            .as_str()
            .ok_or_else(|| anyhow!("case without id"))?;
        let (view, _, judged) = advisor_case(&api, &keyring, id)?;
        let messages: Vec<Value> = judged
            .entries
            .iter()
            .filter_map(|e| {
                let m = e.message.as_ref()?;
                let body = serde_json::from_slice::<Value>(m.body())
                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(m.body())));
                Some(json!({"kind": e.kind.code(), "body": body, "trusted": e.trusted && e.problem.is_none()}))
            })
            .collect();
        let names: HashMap<String, String> = messages
            .iter()
            .flat_map(|m| {
                at(at(m, "body"), "attachments")
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|a| {
                Some((
                    at(&a, "id").as_str()?.to_owned(),
                    at(&a, "name").as_str()?.to_owned(),
                ))
            })
            .collect();
        let mut attachments = Vec::new();
        for a in at(&view, "attachments").as_array().into_iter().flatten() {
            let att = at(a, "id")
                .as_str()
                .ok_or_else(|| anyhow!("attachment without id"))?;
            let env = api.get_bytes(&format!("/api/v1/advisor/cases/{id}/attachments/{att}"))?;
            seal::check_attachment_header(&judged.org, &env)
                .map_err(|e| anyhow!("attachment {att}: {e}"))?;
            let stanzas = detached(at(a, "stanzas"));
            let refs: Vec<&[u8]> = stanzas.iter().map(Vec::as_slice).collect();
            let opened = keyring
                .open(&env, &refs)
                .map_err(|e| anyhow!("attachment {att}: {e}"))?;
            if opened.purpose != Purpose::Attachment || opened.org != judged.org {
                bail!("attachment {att} is not an attachment of this case");
            }
            let file = match args.opt("attachments") {
                Some(dir) => {
                    let path = PathBuf::from(dir).join(format!("{att}.bin"));
                    std::fs::write(&path, opened.plaintext.as_slice())?;
                    json!(path.to_string_lossy())
                }
                None => Value::Null,
            };
            let name = names.get(att).map(|n| safe_file_name(n));
            attachments.push(
                json!({"id": att, "size": opened.plaintext.len(), "file": file, "name": name}),
            );
        }
        let members: Vec<String> = judged
            .members
            .iter()
            .map(|m| m.fingerprint().to_display())
            .collect();
        cases.push(json!({
            "id": id,
            "org": at(&view, "org"),
            "status": at(&view, "status"),
            "transcript": transcript_code(&judged),
            "warnings": warnings_json(&judged),
            "members": members,
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
    let (_, _, judged) = advisor_case(&api, &keyring, id)?;
    if let Some(p) = judged.problem {
        bail!("transcript: {} at message {}", p.kind.code(), p.index);
    }
    let now = now();
    let body = MessageBody {
        text: args.get("text")?.to_owned(),
        attachments: Vec::new(),
        contact: None,
    };
    let own = keyring.current_key(now).map(|k| k.key.recipient());
    let envelope = match args.opt("sign-with").map(load_keyring).transpose()? {
        // Through the core: to the reporter, the members and this advisor.
        None => {
            seal::seal_reply(&mut os_rng(), keyring.identity(), own, &judged, &body, now)
                .map_err(|e| anyhow!("{e}"))?
                .envelope
        }
        // A reply signed by someone who is not a member (protocol §6.1, §10.2 tests), sealed
        // to the same recipients the core would choose.
        Some(other) => {
            let head = judged.head.ok_or_else(|| anyhow!("empty case"))?;
            let json = serde_json::to_vec(&body)?;
            let message = Message::sign_reply(other.identity(), &head, now, &json)
                .map_err(|e| anyhow!("{e}"))?;
            let to = judged.recipients(None, own.as_slice());
            envelope::seal(
                &mut os_rng(),
                Purpose::Message,
                &judged.org,
                &to.keys,
                message.as_bytes(),
            )
            .map_err(|e| anyhow!("{e}"))?
        }
    };
    api.post(
        &format!("/api/v1/advisor/cases/{id}/messages"),
        &json!({"envelope": b64(&envelope)}),
    )
}

/// `share --case ID --advisor ID --fingerprint FP`: adds a colleague confirmed by fingerprint.
fn share(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let mut api = Api::new(args.get("server")?)?;
    api.login(&keyring)?;
    let id = args.get("case")?;
    let (view, envelopes, judged) = advisor_case(&api, &keyring, id)?;
    if let Some(p) = judged.problem {
        bail!("transcript: {} at message {}", p.kind.code(), p.index);
    }
    let page = api.get(&format!("/api/v1/orgs/{}", judged.org))?;
    let who = args.get("advisor")?;
    let listed = listed_in(&page)
        .into_iter()
        .find(|l| l.id == who)
        .ok_or_else(|| anyhow!("no advisor {who}"))?;
    let candidate = advisors::verify(&listed, &Pins::none(), now())
        .map_err(|p| anyhow!("advisor {who}: {}", p.code()))?;
    let confirmed = Colleagues::default()
        .confirm(
            &keyring.identity().public(),
            &candidate,
            Some(args.get("fingerprint")?),
        )
        .map_err(|e| anyhow!("{e}"))?;
    let keys = keyring.decryption_keys();
    let mut stanzas = Vec::new();
    for (m, e) in at(&view, "messages")
        .as_array()
        .into_iter()
        .flatten()
        .zip(&envelopes)
    {
        let refs: Vec<&[u8]> = e.detached.iter().map(Vec::as_slice).collect();
        let st = seal::share_stanza(
            &mut os_rng(),
            &keys,
            &judged,
            &e.envelope,
            &refs,
            ShareTarget::Message,
            &confirmed,
        )
        .map_err(|err| anyhow!("message {}: {err}", at(m, "seq")))?;
        stanzas.push(json!({"message": at(m, "seq"), "stanza": b64(&st)}));
    }
    for a in at(&view, "attachments").as_array().into_iter().flatten() {
        let att = at(a, "id")
            .as_str()
            .ok_or_else(|| anyhow!("attachment without id"))?;
        let env = api.get_bytes(&format!("/api/v1/advisor/cases/{id}/attachments/{att}"))?;
        let det = detached(at(a, "stanzas"));
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let st = seal::share_stanza(
            &mut os_rng(),
            &keys,
            &judged,
            &env,
            &refs,
            ShareTarget::Attachment,
            &confirmed,
        )
        .map_err(|err| anyhow!("attachment {att}: {err}"))?;
        stanzas.push(json!({"attachment": att, "stanza": b64(&st)}));
    }
    let own = keyring.current_key(now()).map(|k| k.key.recipient());
    let sealed = seal::seal_add(
        &mut os_rng(),
        keyring.identity(),
        own,
        &judged,
        &confirmed,
        now(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    api.post(
        &format!("/api/v1/advisor/cases/{id}/share"),
        &json!({"advisor": who, "stanzas": stanzas, "envelope": b64(&sealed.envelope)}),
    )
}

/// `remove --case ID --advisor ID` (this advisor's own id: leave the case).
fn remove(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let mut api = Api::new(args.get("server")?)?;
    api.login(&keyring)?;
    let id = args.get("case")?;
    let (_, _, judged) = advisor_case(&api, &keyring, id)?;
    let who = args.get("advisor")?;
    let target = judged
        .members
        .iter()
        .copied()
        .find(|m| judged.member_id(m) == Some(who))
        .ok_or_else(|| anyhow!("{who} is not a member of case {id}"))?;
    let me = keyring.identity().public();
    let own = if target == me {
        None
    } else {
        keyring.current_key(now()).map(|k| k.key.recipient())
    };
    let sealed = seal::seal_remove(
        &mut os_rng(),
        keyring.identity(),
        own,
        &judged,
        &target,
        now(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    api.post(
        &format!("/api/v1/advisor/cases/{id}/remove"),
        &json!({"advisor": who, "envelope": b64(&sealed.envelope)}),
    )
}

/// A solved proof of work as the API takes it, or null when the server has it disabled.
fn solve_pow(api: &Api) -> Result<Value> {
    let c = api.post("/api/v1/pow", &json!({}))?;
    if at(&c, "enabled").as_bool() == Some(false) {
        return Ok(Value::Null);
    }
    let bytes = unb64(at(&c, "challenge"))?;
    let nonce = pow::solve(&bytes, |_| {}).map_err(|e| anyhow!("pow: {e:?}"))?;
    Ok(json!({"challenge": at(&c, "challenge"), "nonce": nonce}))
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
    let listed = listed_in(&page);
    let mut verified = Vec::new();
    for id in &chosen {
        let l = listed
            .iter()
            .find(|l| l.id == *id)
            .ok_or_else(|| anyhow!("no advisor {id} at {org}"))?;
        verified.push(
            advisors::verify(l, &Pins::none(), now)
                .map_err(|p| anyhow!("advisor {id}: {}", p.code()))?,
        );
    }
    let chosen_refs: Vec<&advisors::Verified> = verified.iter().collect();
    let attachment = match args.opt("attachment") {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
            let mut id = [0u8; 16];
            os_rng().fill_bytes(&mut id);
            let name = match args.opt("attachment-name") {
                Some(n) => n.to_owned(),
                None => std::path::Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            Some((b64(&id), name, bytes))
        }
        None => None,
    };
    let attachments: Vec<AttachmentRef> = attachment
        .iter()
        .map(|(id, name, bytes)| AttachmentRef {
            id: id.clone(),
            name: name.clone(),
            media_type: "application/octet-stream".into(),
            size: bytes.len() as u64,
        })
        .collect();
    let body = ReportBody {
        categories: vec!["other".into()],
        role: Some(Role::Witness),
        when: Some("2025-01".into()),
        place: Some(args.opt("where").unwrap_or("Kantine").to_owned()),
        story: args.get("story")?.to_owned(),
        wishes: vec!["advice".into()],
        contact: None,
        lang: Some("nl".into()),
        attachments,
        advisors: Vec::new(),
    };
    let sealed = seal::seal_report(&mut os_rng(), &keys, org, &chosen_refs, body, now)
        .map_err(|e| anyhow!("{e}"))?;
    let pow = solve_pow(&api)?;
    api.post(
        "/api/v1/cases",
        &json!({
            "org": org,
            "advisors": chosen,
            "token_hash": b64(&keys.case_token().hash()),
            "envelope": b64(&sealed.envelope),
            "pow": pow,
        }),
    )?;
    if let Some((id, _, bytes)) = &attachment {
        let recipients =
            seal::report_recipients(&keys, &chosen_refs).map_err(|e| anyhow!("{e}"))?;
        let sealed = envelope::seal(&mut os_rng(), Purpose::Attachment, org, &recipients, bytes)
            .map_err(|e| anyhow!("{e}"))?;
        let pow = solve_pow(&api)?;
        let mut req = api
            .http
            .put(format!("{}/api/v1/case/attachments/{id}", api.base))
            .header(
                "Authorization",
                format!("CaseToken {}", keys.case_token().to_base64url().as_str()),
            )
            .header("Content-Type", "application/octet-stream")
            .body(sealed);
        if !pow.is_null() {
            req = req.header(
                "Meldpunt-Pow",
                format!(
                    "{}.{}",
                    at(&pow, "challenge").as_str().unwrap_or_default(),
                    at(&pow, "nonce")
                ),
            );
        }
        api.send(req)?;
    }
    Ok(json!({"seed": b64(&seed), "attachment": attachment.map(|(id, _, _)| id)}))
}

fn follow_up(args: &Args) -> Result<Value> {
    let api = Api::new(args.get("server")?)?;
    let seed: [u8; 32] = unb64(&json!(args.get("seed")?))?
        .try_into()
        .map_err(|_| anyhow!("a seed is 32 bytes"))?;
    let keys = ReporterKeys::from_seed(&PickupSeed::from_bytes(seed));
    let auth = format!("CaseToken {}", keys.case_token().to_base64url().as_str());
    let view: Value = api
        .send(
            api.http
                .get(format!("{}/api/v1/case", api.base))
                .header("Authorization", &auth),
        )?
        .json()?;
    let envelopes = envelopes_in(&view)?;
    let judged = judge(
        Viewer::Reporter(keys.signing_key().public()),
        &[keys.reply_key()],
        &view,
        &envelopes,
    )?;
    if let Some(p) = judged.problem {
        bail!("transcript: {} at message {}", p.kind.code(), p.index);
    }
    let body = MessageBody {
        text: args.get("text")?.to_owned(),
        attachments: Vec::new(),
        contact: None,
    };
    let sealed = seal::seal_follow_up(&mut os_rng(), &keys, &judged, &body, now())
        .map_err(|e| anyhow!("{e}"))?;
    let pow = solve_pow(&api)?;
    let res: Value = api
        .send(
            api.http
                .post(format!("{}/api/v1/case/messages", api.base))
                .header("Authorization", &auth)
                .json(&json!({"envelope": b64(&sealed.envelope), "pow": pow})),
        )?
        .json()?;
    Ok(res)
}

/// `relay --upstream URL --listen 127.0.0.1:0`: runs the hostile relay until killed.
fn relay(args: &Args) -> Result<Value> {
    let running = meldpunt_tests::relay::start(
        args.get("upstream")?,
        args.opt("listen").unwrap_or("127.0.0.1:0"),
    )?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", json!({"listening": running.url}))?;
        out.flush()?;
    }
    loop {
        std::thread::park();
    }
}

fn forge(args: &Args) -> Result<Value> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let identity = keyring.identity();
    let now = now();
    let mut rng = os_rng();
    let year = 365 * 86_400;
    let mut signed = |not_before: i64, not_after: i64| -> Result<Vec<u8>> {
        let fresh = DecryptionKey::generate(&mut rng).recipient();
        Ok(identity
            .make_bundle(&fresh, not_before, not_after)
            .map_err(|e| anyhow!("bundle: {e}"))?
            .to_bytes())
    };
    let expired = signed(now - 2 * year, now - year)?;
    let not_yet_valid = signed(now + year, now + 2 * year)?;
    let current = keyring
        .current_key(now)
        .ok_or_else(|| anyhow!("no current key"))?;
    let real = keyring
        .bundle(current.key.key_id())
        .map_err(|e| anyhow!("bundle: {e}"))?
        .to_bytes();
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
    let revoked = identity
        .make_bundle(&fresh, now - 30, now + year)
        .map_err(|e| anyhow!("bundle: {e}"))?;
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
            "share" => share(&args),
            "remove" => remove(&args),
            "relay" => relay(&args),
            other => Err(anyhow!("unknown command {other}")),
        }),
        None => Err(anyhow!(
            "usage: meldpunt-testkit register|read|reply|share|remove|report|follow-up|forge|relay ..."
        )),
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
