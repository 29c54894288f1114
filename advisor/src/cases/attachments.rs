//! `meldpunt advisor attachments` (a case's attachments, decrypted, into a folder) and
//! `decrypt` (one envelope file sealed to you, without contacting the server).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use meldpunt_client::body::{MessageBody, ReportBody};
use meldpunt_client::case::EntryKind;
use meldpunt_client::filename::safe_file_name;
use meldpunt_client::seal;
use meldpunt_crypto::envelope::{self, MAX_HEADER_LEN, Purpose};

use crate::client::Api;
use crate::judge::{self, Judged, detached};
use crate::keyfile::{PassSource, Unlocked, new_private_file};
use crate::keys::session;
use crate::text::{at, clean, s};

use crate::cases::common::resolve_case;

/// Links `tmp` to a free name in `dir` (never replacing a file) and removes `tmp`.
fn place(tmp: &Path, dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    for n in 0..1000u32 {
        let candidate = if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match fs::hard_link(tmp, &candidate) {
            Ok(()) => {
                let _ = fs::remove_file(tmp);
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                let _ = fs::remove_file(tmp);
                bail!("cannot save {name} in {}: {e}", dir.display());
            }
        }
    }
    let _ = fs::remove_file(tmp);
    bail!(
        "cannot find a free file name for {name} in {}",
        dir.display()
    )
}

/// The attachment names in the trusted messages of the case, by attachment id.
fn attachment_names(case: &Judged) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for e in case
        .view
        .entries
        .iter()
        .filter(|e| e.trusted && e.problem.is_none())
    {
        let Some(m) = &e.message else { continue };
        let text = String::from_utf8_lossy(m.body());
        let list = match e.kind {
            EntryKind::Report => ReportBody::from_json(&text)
                .map(|b| b.attachments)
                .unwrap_or_default(),
            EntryKind::FollowUp | EntryKind::Reply => MessageBody::from_json(&text)
                .map(|b| b.attachments)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for a in list {
            names.insert(a.id, a.name);
        }
    }
    names
}

/// Downloads an attachment and returns a reader that yields the whole envelope, after
/// checking its header through the core (purpose attachment, the case's organisation).
fn attachment_reader(api: &Api, case: &Judged, att: &str) -> anyhow::Result<impl Read> {
    let resp = api.get_stream(&format!(
        "/api/v1/advisor/cases/{}/attachments/{att}",
        case.id
    ))?;
    let mut resp = resp;
    let mut head = Vec::with_capacity(MAX_HEADER_LEN);
    (&mut resp)
        .take(MAX_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .context("the attachment download broke off")?;
    seal::check_attachment_header(&case.view.org, &head).map_err(|_| {
        anyhow!(
            "attachment {} is not an attachment of this case (wrong kind of envelope or another \
             organisation's); it was not opened",
            clean(att)
        )
    })?;
    Ok(std::io::Cursor::new(head).chain(resp))
}

pub fn attachments(path: &Path, source: PassSource, case: &str, out: &Path) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let case = judge::load(&api, &u.keyring, &id)?;
    let list = at(&case.raw, "attachments")
        .as_array()
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        println!("This case has no attachments.");
        return Ok(());
    }
    for w in case.warning_lines() {
        eprintln!("{w}");
    }
    fs::create_dir_all(out).with_context(|| format!("cannot make the folder {}", out.display()))?;
    let names = attachment_names(&case);
    let keys = u.keyring.decryption_keys();
    let mut failures = 0usize;
    for (i, a) in list.iter().enumerate() {
        let att = s(a, "id");
        let name = names
            .get(att)
            .map_or_else(|| format!("attachment-{}", i + 1), |n| safe_file_name(n));
        let det = detached(a)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let reader = match attachment_reader(&api, &case, att) {
            Ok(r) => r,
            Err(e) => {
                failures += 1;
                eprintln!("Could not save attachment {} ({name}): {e}", i + 1);
                continue;
            }
        };
        let size = at(a, "size").as_u64().unwrap_or(0);
        let pb = indicatif::ProgressBar::new(size);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes}")
        {
            pb.set_style(style);
        }
        pb.set_message(name.clone());
        let tmp = out.join(format!(".meldpunt-{}-{i}.part", std::process::id()));
        let file = new_private_file()
            .open(&tmp)
            .with_context(|| format!("cannot write in {}", out.display()))?;
        let writer = std::io::BufWriter::new(file);
        let result = envelope::open_stream(pb.wrap_read(reader), &keys, &refs, writer);
        pb.finish_and_clear();
        match result {
            Ok(info) if info.purpose == Purpose::Attachment && info.org == case.view.org => {
                let placed = place(&tmp, out, &name)?;
                println!("Saved {} ({} bytes)", placed.display(), info.plaintext_len);
            }
            Ok(_) | Err(_) => {
                // Plaintext released before the end is not authentic: discard it.
                let _ = fs::remove_file(&tmp);
                failures += 1;
                eprintln!(
                    "Could not decrypt attachment {} ({name}): it was not sealed to you, or it is damaged.",
                    i + 1
                );
            }
        }
    }
    if failures > 0 {
        bail!("{failures} attachment(s) could not be saved");
    }
    Ok(())
}

/// `decrypt --in FILE --out FILE`: opens an attachment envelope file with the keyring's keys
/// (no server involved), streaming chunk by chunk on every core, so memory stays constant
/// whatever the size. The plaintext goes to a temporary file next to `out` and is linked to
/// `out` only once the whole envelope has verified; an existing `out` is never replaced.
pub fn decrypt(path: &Path, source: PassSource, input: &Path, out: &Path) -> anyhow::Result<()> {
    // Refuse early, before asking for the passphrase (checked again when linking).
    if out.symlink_metadata().is_ok() {
        bail!(
            "{} already exists; it is not replaced. Choose another file name",
            out.display()
        );
    }
    let file = fs::File::open(input).with_context(|| format!("cannot read {}", input.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let u = Unlocked::open(path, source)?;
    let keys = u.keyring.decryption_keys();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".meldpunt-{}-decrypt.part", std::process::id()));
    let part = new_private_file()
        .open(&tmp)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let pb = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes}") {
        pb.set_style(style);
    }
    let mut writer = std::io::BufWriter::with_capacity(1 << 18, part);
    let result = envelope::open_stream(pb.wrap_read(file), &keys, &[], &mut writer)
        .map_err(|e| anyhow!("{e}"))
        .and_then(|info| {
            writer.flush()?;
            Ok(info)
        });
    pb.finish_and_clear();
    drop(writer);
    let info = match result {
        Ok(info) if info.purpose == Purpose::Attachment => info,
        Ok(_) => {
            let _ = fs::remove_file(&tmp);
            bail!(
                "{} is not an attachment envelope; nothing was written",
                input.display()
            );
        }
        Err(e) => {
            // Plaintext released before the end is not authentic: discard it.
            let _ = fs::remove_file(&tmp);
            bail!(
                "cannot decrypt {}: it was not sealed to a key in your keyring, or it is damaged \
                 ({e}); nothing was written",
                input.display()
            );
        }
    };
    let linked = fs::hard_link(&tmp, out);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            println!("Saved {} ({} bytes)", out.display(), info.plaintext_len);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; it is not replaced", out.display())
        }
        Err(e) => bail!("cannot save {}: {e}", out.display()),
    }
}
