//! The advisor commands: register, read, reply, share and remove.


use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use meldpunt_client::advisors::{self, Listed, Pins};
use meldpunt_client::body::MessageBody;
use meldpunt_client::case::{self, CaseView, EnvelopeIn, OpenInput, Viewer, Warning};
use meldpunt_client::colleagues::Colleagues;
use meldpunt_client::filename::safe_file_name;
use meldpunt_client::seal::{self, ShareTarget};
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::{Keyring, KeyringParams};
use meldpunt_crypto::message::Message;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::os_rng;
use meldpunt_tests::{b64, first_key, now, year_keyring};
use serde_json::{Value, json};

use crate::api::*;
use crate::{Args, PASSPHRASE};

pub fn register(args: &Args) -> Result<Value> {
    let mut rng = os_rng();
    let now = now();
    let keyring = year_keyring(now)?;
    let key_id = first_key(&keyring)?.key.key_id();
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

pub fn detached(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| unb64(s).ok()).collect())
        .unwrap_or_default()
}

pub fn listed_in(v: &Value) -> Vec<Listed> {
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

pub fn envelopes_in(view: &Value) -> Result<Vec<EnvelopeIn>> {
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
pub fn judge(
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

pub fn advisor_case(
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

/// [`advisor_case`] of a case whose transcript is sound (else an error naming the problem).
pub fn sound_case(
    api: &Api,
    keyring: &Keyring,
    id: &str,
) -> Result<(Value, Vec<EnvelopeIn>, CaseView)> {
    let (view, envelopes, judged) = advisor_case(api, keyring, id)?;
    if let Some(p) = &judged.problem {
        bail!("transcript: {} at message {}", p.kind.code(), p.index);
    }
    Ok((view, envelopes, judged))
}

/// The keyring of `--keyring` and a client of `--server` logged in with it.
pub fn logged_in(args: &Args) -> Result<(Keyring, Api)> {
    let keyring = load_keyring(args.get("keyring")?)?;
    let mut api = Api::new(args.get("server")?)?;
    api.login(&keyring)?;
    Ok((keyring, api))
}

pub fn transcript_code(case: &CaseView) -> String {
    case.problem.map_or_else(
        || "ok".to_owned(),
        |p| format!("{} at message {}", p.kind.code(), p.index),
    )
}

pub fn warnings_json(case: &CaseView) -> Value {
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

pub fn read(args: &Args) -> Result<Value> {
    let (keyring, api) = logged_in(args)?;
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

pub fn reply(args: &Args) -> Result<Value> {
    let (keyring, api) = logged_in(args)?;
    let id = args.get("case")?;
    let (_, _, judged) = sound_case(&api, &keyring, id)?;
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
pub fn share(args: &Args) -> Result<Value> {
    let (keyring, api) = logged_in(args)?;
    let id = args.get("case")?;
    let (view, envelopes, judged) = sound_case(&api, &keyring, id)?;
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
pub fn remove(args: &Args) -> Result<Value> {
    let (keyring, api) = logged_in(args)?;
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
