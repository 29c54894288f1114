//! The reporter commands (report, follow-up), the hostile relay and the forged bundles.


use anyhow::{Context, Result, anyhow, bail};
use meldpunt_client::advisors::{self, Pins};
use meldpunt_client::body::{AttachmentRef, MessageBody, ReportBody, Role};
use meldpunt_client::case::Viewer;
use meldpunt_client::seal;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::pickup::{PickupSeed, ReporterKeys};
use meldpunt_crypto::pow;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use meldpunt_tests::{b64, now};
use serde_json::{Value, json};

use crate::Args;
use crate::advisor::*;
use crate::api::*;


/// A solved proof of work as the API takes it, or null when the server has it disabled.
pub fn solve_pow(api: &Api) -> Result<Value> {
    let c = api.post("/api/v1/pow", &json!({}))?;
    if at(&c, "enabled").as_bool() == Some(false) {
        return Ok(Value::Null);
    }
    let bytes = unb64(at(&c, "challenge"))?;
    let nonce = pow::solve(&bytes, |_| {}).map_err(|e| anyhow!("pow: {e:?}"))?;
    Ok(json!({"challenge": at(&c, "challenge"), "nonce": nonce}))
}

pub fn report(args: &Args) -> Result<Value> {
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

pub fn follow_up(args: &Args) -> Result<Value> {
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
pub fn relay(args: &Args) -> Result<Value> {
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

pub fn forge(args: &Args) -> Result<Value> {
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
