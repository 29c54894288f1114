//! `init` and `keys list|rotate|revoke`, and logging in with an unlocked keyring.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use meldpunt_crypto::keyring::Keyring;
use meldpunt_crypto::rng::os_rng;
use serde_json::json;
use zeroize::Zeroizing;

use crate::day::{day_string, now_secs};
use crate::client::{Api, b64, normalise_instance, unb64};
use crate::text::at;
use crate::args::InitArgs;
use crate::keyfile::{Meta, PassSource, Unlocked};

const DAY: i64 = 86_400;
/// New keys start a minute in the past, so that a slightly slow server clock accepts them.
const SKEW: i64 = 60;
const MAX_PHOTO: u64 = 512 * 1024;


/// Unlocks the keyring and logs in to its instance.
pub fn session(path: &Path, source: PassSource) -> anyhow::Result<(Unlocked, Api)> {
    let unlocked = Unlocked::open(path, source)?;
    if unlocked.meta.instance.is_empty() {
        bail!(
            "this keyring does not say which Meldpunt instance it belongs to; set it up with \
             `meldpunt advisor init`"
        );
    }
    let mut api = Api::new(&unlocked.meta.instance)?;
    let id = api.login(unlocked.keyring.identity())?;
    let mut unlocked = unlocked;
    if unlocked.meta.advisor_id.is_none() && !id.is_empty() {
        unlocked.meta.advisor_id = Some(id);
    }
    Ok((unlocked, api))
}

fn photo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12
        && bytes.get(0..4) == Some(b"RIFF")
        && bytes.get(8..12) == Some(b"WEBP")
    {
        Some("image/webp")
    } else {
        None
    }
}

pub fn init(path: &Path, source: PassSource, a: InitArgs) -> anyhow::Result<()> {
    if path.exists() {
        bail!(
            "{} already exists; it is not replaced. If it is your keyring, you are already set \
             up; otherwise choose another file with --keyring",
            path.display()
        );
    }
    let passphrase = source.new_passphrase()?;
    init_with_passphrase(path, passphrase, a)
}

/// `init` with the passphrase already chosen (also used by `meldpunt demo`).
pub fn init_with_passphrase(
    path: &Path,
    passphrase: Zeroizing<String>,
    a: InitArgs,
) -> anyhow::Result<()> {
    if path.exists() {
        bail!(
            "{} already exists; it is not replaced. If it is your keyring, you are already set \
             up; otherwise choose another file with --keyring",
            path.display()
        );
    }
    let instance = normalise_instance(&a.server)?;
    let name = match a.name {
        Some(n) if !n.trim().is_empty() => n.trim().to_owned(),
        _ => bail!("give your name as reporters will see it with --name \"Your Name\""),
    };
    let photo = match &a.photo {
        Some(p) => {
            let len = std::fs::metadata(p)
                .with_context(|| format!("cannot read the photo {}", p.display()))?
                .len();
            if len > MAX_PHOTO {
                bail!("the photo is too large (at most 512 KiB)");
            }
            let bytes = std::fs::read(p)
                .with_context(|| format!("cannot read the photo {}", p.display()))?;
            let t = photo_type(&bytes)
                .ok_or_else(|| anyhow!("the photo must be a JPEG, PNG or WebP image"))?;
            Some((bytes, t))
        }
        None => None,
    };

    let now = now_secs();
    let meta = Meta {
        instance: instance.clone(),
        advisor_id: None,
        display_name: Some(name.clone()),
        org: None,
        other: serde_json::Map::new(),
    };
    let keyring = Keyring::new(&mut os_rng(), meta.to_json(), now - SKEW, 365 * DAY)
        .map_err(|e| anyhow!("cannot make keys: {e}"))?;
    let key_id = keyring
        .current_key(now)
        .map(|e| e.key.key_id())
        .ok_or_else(|| anyhow!("cannot make keys"))?;
    let bundle = keyring
        .bundle(key_id)
        .map_err(|e| anyhow!("cannot sign the key: {e}"))?;
    let identity = keyring.identity().public();
    let mut unlocked = Unlocked::fresh(keyring, path, passphrase);
    unlocked.meta = meta;
    // Write the keyring before anything is published: a published key must never be lost.
    unlocked.create()?;

    let api = Api::new(&instance)?;
    let mut profile = json!({"display_name": name, "bio": a.bio, "languages": a.languages});
    if let Some((bytes, t)) = &photo
        && let Some(p) = profile.as_object_mut()
    {
        p.insert("photo".into(), json!(b64(bytes)));
        p.insert("photo_type".into(), json!(t));
    }
    let body = json!({
        "invite": a.invite.trim(),
        "identity": b64(&identity.to_bytes()),
        "bundle": b64(&bundle.to_bytes()),
        "profile": profile,
    });
    let registered = match api.post("/api/v1/advisor/register", &body) {
        Ok(v) => v,
        Err(e) => {
            // Nothing was published: the new keyring holds nothing of value. Remove it so that
            // `init` can simply be run again.
            let _ = std::fs::remove_file(path);
            return Err(e.context("registration failed; no keyring was kept"));
        }
    };
    unlocked.meta.advisor_id = at(&registered, "id").as_str().map(str::to_owned);
    let branch_wide = at(&registered, "branch_wide").as_bool().unwrap_or(false);
    let external = at(&registered, "external").as_bool().unwrap_or(false);
    if let Ok(mut api) = Api::new(&instance)
        && api.login(unlocked.keyring.identity()).is_ok()
        && let Ok(me) = api.get("/api/v1/advisor/me")
    {
        unlocked.meta.org = at(&me, "org").as_str().map(str::to_owned);
    }
    unlocked.save()?;

    println!("You are registered as {name} on {instance}.");
    if branch_wide {
        println!("You are a branch-wide (external) advisor: you serve every member organisation.");
    } else if let Some(org) = &unlocked.meta.org {
        println!(
            "Organisation: {org}{}",
            if external { " (external advisor)" } else { "" }
        );
    }
    if a.external && !external {
        println!(
            "Note: the invite made you an internal advisor; ask the administrator for an external invite if that is wrong."
        );
    }
    println!();
    println!(
        "Your fingerprint (compare it with the one on your organisation's posters and links):"
    );
    println!("    {}", identity.fingerprint().to_display());
    println!();
    println!("Keyring: {}", path.display());
    println!(
        "IMPORTANT: make a backup copy of this file now (for example on a USB stick kept in a \
         safe place) and remember the passphrase. Without the file and the passphrase, nobody \
         can ever read the reports sent to you."
    );
    Ok(())
}

fn day(secs: i64) -> String {
    day_string(secs)
}

fn status_of(
    e: &meldpunt_crypto::keyring::KeyringEntry,
    now: i64,
    current: Option<[u8; 16]>,
) -> &'static str {
    if e.revoked_at.is_some() {
        "revoked"
    } else if now >= e.not_after {
        "expired"
    } else if now < e.not_before {
        "not yet valid"
    } else if Some(*e.key.key_id().as_bytes()) == current {
        "current"
    } else {
        "valid (older)"
    }
}

pub fn list(path: &Path, source: PassSource) -> anyhow::Result<()> {
    let u = Unlocked::open(path, source)?;
    let now = now_secs();
    let current = u
        .keyring
        .current_key(now)
        .map(|e| *e.key.key_id().as_bytes());
    println!(
        "Fingerprint: {}",
        u.keyring.identity().public().fingerprint().to_display()
    );
    if !u.meta.instance.is_empty() {
        println!("Instance:    {}", u.meta.instance);
    }
    println!();
    println!(
        "{:<32}  {:<10}  {:<10}  {:<10}  STATUS",
        "KEY ID", "FROM", "UNTIL", "REVOKED"
    );
    for e in u.keyring.keys() {
        println!(
            "{:<32}  {:<10}  {:<10}  {:<10}  {}",
            e.key.key_id().to_hex(),
            day(e.not_before),
            day(e.not_after),
            e.revoked_at.map(day).unwrap_or_else(|| "-".into()),
            status_of(e, now, current)
        );
    }
    if current.is_none() {
        println!();
        println!(
            "You have no valid key: reporters cannot send you reports. Run `meldpunt advisor keys rotate`."
        );
    }
    Ok(())
}

/// Key ids of the bundles the server has for this advisor.
fn published(api: &Api) -> anyhow::Result<Vec<[u8; 16]>> {
    let me = api.get("/api/v1/advisor/me")?;
    let mut out = Vec::new();
    for b in at(&me, "all_bundles").as_array().into_iter().flatten() {
        let bytes = unb64("bundle", b.as_str().unwrap_or(""))?;
        if let Ok(bundle) = meldpunt_crypto::keys::KeyBundle::from_bytes(&bytes) {
            out.push(*bundle.key_id().as_bytes());
        }
    }
    Ok(out)
}

pub fn rotate(path: &Path, source: PassSource, days: u32) -> anyhow::Result<()> {
    if days == 0 || days > 3 * 365 {
        bail!("--days must be between 1 and 1095");
    }
    let (mut u, api) = session(path, source)?;
    let now = now_secs();
    let known = published(&api)?;
    // A key saved by an earlier rotation whose publishing failed is published now, instead of
    // making yet another one.
    let pending = u
        .keyring
        .keys()
        .iter()
        .rev()
        .find(|e| e.is_current(now) && !known.contains(e.key.key_id().as_bytes()))
        .map(|e| e.key.key_id());
    let bundle = match pending {
        Some(id) => u
            .keyring
            .bundle(id)
            .map_err(|e| anyhow!("cannot sign the key: {e}"))?,
        None => {
            let b = u
                .keyring
                .rotate(&mut os_rng(), now - SKEW, i64::from(days) * DAY)
                .map_err(|e| anyhow!("cannot make a new key: {e}"))?;
            // Save first: a key is published only once it is safely in the keyring file.
            u.save()?;
            b
        }
    };
    api.post(
        "/api/v1/advisor/keys",
        &json!({"bundle": b64(&bundle.to_bytes())}),
    )
    .map_err(|e| {
        e.context(
            "the new key is saved in your keyring but not yet published; run `meldpunt \
                 advisor keys rotate` again to publish it",
        )
    })?;
    println!(
        "New key {} is published, valid until {}. Your older keys stay in the keyring, so older \
         cases stay readable. Make a new backup copy of {}.",
        bundle.key_id().to_hex(),
        day(bundle.not_after()),
        path.display()
    );
    Ok(())
}

pub fn revoke(path: &Path, source: PassSource, key: &str) -> anyhow::Result<()> {
    let (mut u, api) = session(path, source)?;
    let want = key.trim().to_ascii_lowercase();
    if want.len() < 4 {
        bail!(
            "give at least the first 4 characters of the key id (see `meldpunt advisor keys list`)"
        );
    }
    let matches: Vec<_> = u
        .keyring
        .keys()
        .iter()
        .map(|e| e.key.key_id())
        .filter(|id| id.to_hex().starts_with(&want))
        .collect();
    let key_id = match matches.as_slice() {
        [one] => *one,
        [] => bail!("you have no key {key}; see `meldpunt advisor keys list`"),
        _ => bail!("{key} matches several keys; give more characters"),
    };
    let now = now_secs();
    let already = u
        .keyring
        .keys()
        .iter()
        .find(|e| e.key.key_id() == key_id)
        .and_then(|e| e.revoked_at);
    let revocation = match already {
        Some(at) => u.keyring.identity().make_revocation(key_id, at),
        None => {
            let r = u
                .keyring
                .revoke(key_id, now)
                .map_err(|e| anyhow!("cannot revoke: {e}"))?;
            u.save()?;
            r
        }
    };
    api.post(
        "/api/v1/advisor/revocations",
        &json!({"revocation": b64(&revocation.to_bytes())}),
    )
    .map_err(|e| {
        e.context("the key is marked revoked in your keyring but the server was not told; run the same command again")
    })?;
    println!(
        "Key {} is revoked: reporters will no longer use it. Cases already sent to it stay \
         readable for you.",
        key_id.to_hex()
    );
    if u.keyring.current_key(now).is_none() {
        println!(
            "You now have no valid key. Run `meldpunt advisor keys rotate` so reporters can reach you."
        );
    }
    Ok(())
}
