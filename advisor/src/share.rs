//! `share`, `remove` and `events`: adding a colleague to a case (after confirming their
//! fingerprint, or because the keyring remembers them), removing a member or leaving a case,
//! and the organisation's advisor events. Whom to trust and whom to seal to is decided by
//! `meldpunt-client` (`colleagues`, `seal::share_stanza`, `seal::seal_add`,
//! `seal::seal_remove`); this file fetches, asks and posts.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use meldpunt_client::advisors::{self, Pins};
use meldpunt_client::colleagues::{ColleagueError, Colleagues, Confirmed};
use meldpunt_client::seal::{self, ShareTarget};
use meldpunt_crypto::envelope::MAX_HEADER_LEN;
use meldpunt_crypto::rng::os_rng;
use serde_json::{Value, json};

use crate::cases::common::{own_key, resolve_case};
use crate::client::{Api, b64};
use crate::day::{day_string, now_secs};
use crate::judge::{self, Judged, detached, listed_in};
use crate::text::{at, clean, s};
use crate::keyfile::{Meta, PassSource, Unlocked};
use crate::keys::session;

fn short(id: &str) -> String {
    crate::text::short_id(id)
}

/// Asks for the colleague's fingerprint on the terminal.
fn prompt_fingerprint(name: &str) -> anyhow::Result<String> {
    eprintln!(
        "To share with {name}, confirm who they are: ask {name} for their fingerprint in person or by \
         phone (they see it with `meldpunt advisor keys list`), never from an e-mail or this server."
    );
    eprint!("Fingerprint of {name}: ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(256)
        .read_line(&mut line)
        .context("cannot read the fingerprint")?;
    Ok(line.trim().to_owned())
}

/// Confirms the colleague through the core, asking for the fingerprint on a terminal when the
/// keyring does not remember them.
fn confirm(
    colleagues: &Colleagues,
    me: &meldpunt_crypto::keys::IdentityPublicKey,
    candidate: &meldpunt_client::advisors::Verified,
    typed: Option<&str>,
) -> anyhow::Result<Confirmed> {
    let name = clean(&candidate.display_name);
    let explain = |e: ColleagueError| -> anyhow::Error {
        match e {
            ColleagueError::NeedsFingerprint => anyhow!(
                "{name} is not a colleague you confirmed before: give their fingerprint with --fingerprint \
                 (ask them for it in person or by phone). Nothing was shared"
            ),
            ColleagueError::Mismatch => anyhow!(
                "the fingerprint you gave is not the one of the key the server gives for {name} (the server \
                 gives {}): nothing was shared. Check the fingerprint with {name} again",
                candidate.fingerprint()
            ),
            ColleagueError::IdentityChanged { remembered } => anyhow!(
                "the server now gives a different identity key for {name} than the one you confirmed earlier \
                 (you confirmed fingerprint {remembered}; the server gives {}). An advisor's identity never \
                 changes, so this key is not theirs: nothing was shared. Ask {name} in person",
                candidate.fingerprint()
            ),
            other => anyhow!("cannot share with {name}: {other}; nothing was shared"),
        }
    };
    match colleagues.confirm(me, candidate, typed) {
        Err(ColleagueError::NeedsFingerprint)
            if typed.is_none() && std::io::stdin().is_terminal() =>
        {
            let typed = prompt_fingerprint(&name)?;
            colleagues
                .confirm(me, candidate, Some(&typed))
                .map_err(explain)
        }
        other => other.map_err(explain),
    }
}

/// Remembers a newly confirmed colleague in the keyring (rewritten atomically).
fn remember(u: &mut Unlocked, colleagues: &mut Colleagues, c: &Confirmed) -> anyhow::Result<()> {
    colleagues.remember(c, &day_string(now_secs()));
    let meta = colleagues.to_meta(&u.meta.to_json());
    u.meta = serde_json::from_str::<Meta>(&meta).context("cannot update the keyring")?;
    u.save()
}

/// The first `MAX_HEADER_LEN` bytes of an attachment envelope (all a stanza needs).
fn attachment_head(api: &Api, case: &str, att: &str) -> anyhow::Result<Vec<u8>> {
    let resp = api.get_stream(&format!("/api/v1/advisor/cases/{case}/attachments/{att}"))?;
    let mut head = Vec::with_capacity(MAX_HEADER_LEN);
    resp.take(MAX_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .context("the attachment download broke off")?;
    Ok(head)
}

/// Detached stanzas for the colleague, one per message and attachment of the case; each
/// envelope is checked by the core (purpose, organisation) before it is re-wrapped.
fn stanzas(
    api: &Api,
    u: &Unlocked,
    case: &Judged,
    colleague: &Confirmed,
) -> anyhow::Result<Vec<Value>> {
    let keys = u.keyring.decryption_keys();
    let messages = at(&case.raw, "messages")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let atts = at(&case.raw, "attachments")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pb = indicatif::ProgressBar::new((messages.len() + atts.len()) as u64);
    let mut out = Vec::new();
    for (m, e) in messages.iter().zip(&case.envelopes) {
        let refs: Vec<&[u8]> = e.detached.iter().map(Vec::as_slice).collect();
        let st = seal::share_stanza(&mut os_rng(), &keys, &case.view, &e.envelope, &refs, ShareTarget::Message, colleague)
            .map_err(|err| {
                anyhow!(
                    "cannot share: message {} of the case cannot be re-wrapped ({err}); nothing was shared",
                    at(m, "seq").as_u64().unwrap_or(0) + 1
                )
            })?;
        out.push(json!({"message": at(m, "seq"), "stanza": b64(&st)}));
        pb.inc(1);
    }
    for a in &atts {
        let att = s(a, "id");
        let head = attachment_head(api, &case.id, att)?;
        let det = detached(a)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let st = seal::share_stanza(
            &mut os_rng(),
            &keys,
            &case.view,
            &head,
            &refs,
            ShareTarget::Attachment,
            colleague,
        )
        .map_err(|err| {
            anyhow!(
                "cannot share: attachment {} cannot be re-wrapped ({err}); nothing was shared",
                clean(att)
            )
        })?;
        out.push(json!({"attachment": att, "stanza": b64(&st)}));
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}

pub fn share(
    path: &Path,
    source: PassSource,
    case: &str,
    advisor: &str,
    fingerprint: Option<&str>,
) -> anyhow::Result<()> {
    let (mut u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let case = judge::load(&api, &u.keyring, &id)?;
    case.require_ok("share")?;
    for w in case.warning_lines() {
        eprintln!("{w}");
    }
    // The colleague's keys as the server gives them (organisation page), verified by the core.
    let page = api.get(&format!("/api/v1/orgs/{}", case.view.org))?;
    let listed = listed_in(&page);
    let entry = listed
        .iter()
        .find(|l| l.id == advisor.trim())
        .ok_or_else(|| {
            anyhow!(
                "there is no advisor with id {} for organisation {}",
                clean(advisor),
                case.view.org
            )
        })?;
    let candidate = advisors::verify(entry, &Pins::none(), now_secs()).map_err(|p| {
        anyhow!(
            "the server gives advisor {} an unusable identity ({}); nothing was shared",
            clean(advisor),
            p.code()
        )
    })?;
    let me = u.keyring.identity().public();
    let mut colleagues = Colleagues::from_meta(u.keyring.meta());
    let confirmed = confirm(&colleagues, &me, &candidate, fingerprint)?;
    if case.view.is_member(&confirmed.identity()) {
        bail!(
            "{} is already a member of this case; nothing was sent",
            case.name_of(&confirmed.identity())
        );
    }
    if confirmed.is_new() {
        remember(&mut u, &mut colleagues, &confirmed)?;
        eprintln!(
            "Confirmed {} (fingerprint {}); your keyring remembers them from now on.",
            clean(&candidate.display_name),
            candidate.fingerprint()
        );
    }
    let stanzas = stanzas(&api, &u, &case, &confirmed)?;
    let sealed = seal::seal_add(
        &mut os_rng(),
        u.keyring.identity(),
        own_key(&u),
        &case.view,
        &confirmed,
        now_secs(),
    )
    .map_err(|e| anyhow!("cannot share: {e}; nothing was shared"))?;
    api.post(
        &format!("/api/v1/advisor/cases/{id}/share"),
        &json!({"advisor": candidate.id, "stanzas": stanzas, "envelope": b64(&sealed.envelope)}),
    )?;
    println!(
        "Shared case {} with {} (fingerprint {}). The signed statement that adds them is now part of the \
         conversation; the reporter's later messages reach them too.",
        short(&id),
        clean(&candidate.display_name),
        candidate.fingerprint()
    );
    Ok(())
}

pub fn remove(path: &Path, source: PassSource, case: &str, advisor: &str) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let case = judge::load(&api, &u.keyring, &id)?;
    case.require_ok("remove an advisor")?;
    let me = u.keyring.identity().public();
    let advisor = advisor.trim();
    let own_id = u.meta.advisor_id.clone().unwrap_or_default();
    let target = if advisor == "me" || (!own_id.is_empty() && advisor == own_id) {
        me
    } else {
        case.view
            .members
            .iter()
            .copied()
            .find(|m| case.view.member_id(m) == Some(advisor))
            .ok_or_else(|| {
                anyhow!(
                    "advisor {} is not a member of this case; nothing was sent",
                    clean(advisor)
                )
            })?
    };
    let server_id = case
        .member_id(&target)
        .map(str::to_owned)
        .or_else(|| (target == me && !own_id.is_empty()).then_some(own_id))
        .ok_or_else(|| anyhow!("the server does not list that member; nothing was sent"))?;
    let own = if target == me { None } else { own_key(&u) };
    let sealed = seal::seal_remove(
        &mut os_rng(),
        u.keyring.identity(),
        own,
        &case.view,
        &target,
        now_secs(),
    )
    .map_err(|e| anyhow!("cannot remove: {e}; nothing was sent"))?;
    api.post(
        &format!("/api/v1/advisor/cases/{id}/remove"),
        &json!({"advisor": server_id, "envelope": b64(&sealed.envelope)}),
    )?;
    if target == me {
        println!(
            "You left case {}. The signed statement is now part of the conversation.",
            short(&id)
        );
    } else {
        println!(
            "Removed {} from case {}. The signed statement is now part of the conversation; later messages are \
             not sealed to them.",
            case.name_of(&target),
            short(&id)
        );
    }
    Ok(())
}

pub fn events(path: &Path, source: PassSource) -> anyhow::Result<()> {
    let (_u, api) = session(path, source)?;
    let v = api.get("/api/v1/advisor/events")?;
    let list = at(&v, "events").as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("No advisor events.");
        return Ok(());
    }
    println!("Changes to the advisors of your organisation(s), as the server reports them:");
    for e in &list {
        let day = clean(s(e, "day"));
        let name = clean(s(e, "display_name"));
        let org = match s(e, "org") {
            "" => " (branch-wide)".to_owned(),
            o => format!(" at {}", clean(o)),
        };
        let by = match s(e, "appointed_by") {
            "organisation" => ", appointed by the organisation",
            "branch" => ", appointed by the branch organisation",
            _ => "",
        };
        let who = format!("{name} ({}){org}{by}", clean(s(e, "advisor")));
        match s(e, "kind") {
            "joined" => println!("  {day}  joined: {who}"),
            "suspended" => println!("  {day}  suspended: {who}"),
            "unsuspended" => println!("  {day}  reinstated: {who}"),
            "reordered" if name.is_empty() => {
                println!("  {day}  the order reporters see changed{org}")
            }
            "reordered" => {
                println!("  {day}  the order reporters see changed{org}: now first {name}")
            }
            other => println!("  {day}  {}: {who}", clean(other)),
        }
    }
    println!(
        "If you did not expect a change, ask your colleagues and the organisation. Before you share a case \
         with a new advisor, confirm their fingerprint in person."
    );
    Ok(())
}
