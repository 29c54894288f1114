//! `meldpunt-benchkit`: makes the inputs of `cargo xtask bench` with the real crypto crate.
//! Deliberately small; the figures are taken by xtask (docs/performance.md).
//!
//! ```text
//! meldpunt-benchkit cli-files --dir DIR --size BYTES
//!     writes DIR/keyring.mpk (a keyring with the default Argon2id parameters, passphrase in
//!     DIR/passphrase), DIR/plain.bin (BYTES random bytes), DIR/plain.mpe (plain.bin sealed,
//!     purpose attachment, to the keyring's key, streamed) and DIR/empty.mpe (an empty
//!     attachment sealed the same way); prints {"size", "envelope", "m_kib", "t"} (the
//!     keyring's Argon2id parameters)
//! meldpunt-benchkit advisor-bundle
//!     a fresh advisor identity and signed key bundle valid from a minute ago for a day;
//!     prints {"identity", "bundle"} (base64url), for `Advisors.add` in the WASM client
//! ```
#![allow(clippy::print_stdout)]

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::KeyringParams;
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use meldpunt_tests::{b64, first_key, now, year_keyring};
use serde_json::json;

const PASSPHRASE: &str = "meldpunt benchmark keyring";

fn create(path: &Path) -> Result<BufWriter<File>> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

fn cli_files(dir: &Path, size: u64) -> Result<serde_json::Value> {
    fs::create_dir_all(dir)?;
    let mut rng = os_rng();
    let keyring = year_keyring(now())?;
    let recipient = first_key(&keyring)?.key.recipient();
    let file = keyring
        .to_file(&mut rng, PASSPHRASE, KeyringParams::DEFAULT)
        .map_err(|e| anyhow!("keyring: {e}"))?;
    create(&dir.join("keyring.mpk"))?.write_all(&file)?;
    create(&dir.join("passphrase"))?.write_all(format!("{PASSPHRASE}\n").as_bytes())?;

    // Random plaintext, 1 MiB at a time.
    let plain = dir.join("plain.bin");
    let mut w = create(&plain)?;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(block.len() as u64))?;
        let part = block.get_mut(..n).ok_or_else(|| anyhow!("block"))?;
        rng.fill_bytes(part);
        w.write_all(part)?;
        left -= n as u64;
    }
    w.flush()?;
    drop(w);

    let mut out = create(&dir.join("plain.mpe"))?;
    let reader = BufReader::with_capacity(1 << 20, File::open(&plain)?);
    let sealed = envelope::seal_stream(
        &mut rng,
        Purpose::Attachment,
        "bench",
        &[recipient],
        reader,
        &mut out,
    )
    .map_err(|e| anyhow!("seal: {e}"))?;
    out.flush()?;
    let mut empty = create(&dir.join("empty.mpe"))?;
    let e = envelope::seal(&mut rng, Purpose::Attachment, "bench", &[recipient], &[])
        .map_err(|e| anyhow!("seal: {e}"))?;
    empty.write_all(&e)?;
    empty.flush()?;
    let p = KeyringParams::DEFAULT;
    Ok(json!({"size": size, "envelope": sealed, "m_kib": p.m_kib, "t": p.t}))
}

fn advisor_bundle() -> Result<serde_json::Value> {
    let mut rng = os_rng();
    let identity = IdentityKey::generate(&mut rng);
    let key = DecryptionKey::generate(&mut rng);
    let bundle = identity
        .make_bundle(&key.recipient(), now() - 60, now() + 86_400)
        .map_err(|e| anyhow!("bundle: {e}"))?;
    Ok(json!({"identity": b64(&identity.public().to_bytes()), "bundle": b64(&bundle.to_bytes())}))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| -> Result<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
            .ok_or_else(|| anyhow!("{name} is required"))
    };
    let out = match args.first().map(String::as_str) {
        Some("cli-files") => cli_files(
            &PathBuf::from(value("--dir")?),
            value("--size")?.parse().context("--size")?,
        )?,
        Some("advisor-bundle") => advisor_bundle()?,
        _ => bail!("usage: meldpunt-benchkit cli-files --dir DIR --size BYTES | advisor-bundle"),
    };
    println!("{out}");
    Ok(())
}
