//! The keyring file on disk: passphrase input (prompt without echo, or a file descriptor),
//! unlocking with a progress spinner, atomic rewrites, and the meta JSON.

use std::fs::{self, File, OpenOptions};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use meldpunt_crypto::keyring::{Keyring, KeyringError, KeyringParams};
use meldpunt_crypto::rng::os_rng;
use serde::{Deserialize, Serialize};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// What the CLI stores next to the keys, encrypted with them (protocol §7 `meta`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    /// Base URL of the Meldpunt instance, e.g. `https://meldpunt.example.nl`.
    #[serde(default)]
    pub instance: String,
    /// The advisor id the instance gave at registration (base64url).
    #[serde(default)]
    pub advisor_id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Organisation slug (none for branch-wide advisors).
    #[serde(default)]
    pub org: Option<String>,
    /// Every other key (`colleagues`, keys of later versions): kept as it was when the file is
    /// rewritten (protocol §7).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Meta {
    pub fn parse(keyring: &Keyring) -> Meta {
        serde_json::from_str(keyring.meta()).unwrap_or_default()
    }

    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(self).unwrap_or_else(|_| "{}".into()))
    }
}

/// Where the passphrase comes from.
#[derive(Debug, Clone, Copy)]
pub enum PassSource {
    /// Ask on the terminal, without echo.
    Prompt,
    /// Read one line from this file descriptor (e.g. a pipe).
    Fd(u32),
}

fn read_fd_line(fd: u32) -> anyhow::Result<Zeroizing<String>> {
    // No unsafe code: open the descriptor through /proc (Linux) or /dev/fd.
    let path = if Path::new("/proc/self/fd").exists() {
        format!("/proc/self/fd/{fd}")
    } else {
        format!("/dev/fd/{fd}")
    };
    let mut file = File::open(&path)
        .with_context(|| format!("cannot read the passphrase from file descriptor {fd}"))?;
    // One byte at a time: whatever follows the first line (e.g. a reply on standard input)
    // stays unread for the command.
    let mut bytes = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    while bytes.len() < 4096 {
        match file.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => bytes.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => bail!("cannot read the passphrase from file descriptor {fd}: {e}"),
        }
    }
    let mut line = Zeroizing::new(
        String::from_utf8(bytes.to_vec())
            .map_err(|_| anyhow!("the passphrase on file descriptor {fd} is not valid UTF-8"))?,
    );
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(line)
}

fn prompt(text: &str) -> anyhow::Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "cannot ask for the passphrase: no terminal. Run this in a terminal, or pass it on a \
             file descriptor with --passphrase-fd"
        );
    }
    let p = rpassword::prompt_password(text).context("cannot read the passphrase")?;
    Ok(Zeroizing::new(p))
}

impl PassSource {
    /// The passphrase of an existing keyring.
    pub fn unlock_passphrase(self) -> anyhow::Result<Zeroizing<String>> {
        match self {
            PassSource::Fd(fd) => read_fd_line(fd),
            PassSource::Prompt => prompt("Keyring passphrase: "),
        }
    }

    /// A new secret line for something else than a keyring (an admin passphrase): from the
    /// descriptor, or asked twice at a prompt after `intro`. No strength check here.
    pub fn new_secret(self, intro: &str) -> anyhow::Result<Zeroizing<String>> {
        match self {
            PassSource::Fd(fd) => read_fd_line(fd),
            PassSource::Prompt => {
                eprintln!("{intro}");
                let a = prompt("New passphrase: ")?;
                let b = prompt("Repeat the passphrase: ")?;
                if *a != *b {
                    bail!("the two passphrases differ; nothing was written");
                }
                Ok(a)
            }
        }
    }

    /// A new passphrase (asked twice at a prompt).
    pub fn new_passphrase(self) -> anyhow::Result<Zeroizing<String>> {
        let p = match self {
            PassSource::Fd(fd) => read_fd_line(fd)?,
            PassSource::Prompt => {
                eprintln!(
                    "Choose a passphrase for your keyring: at least 12 characters. A few unrelated \
                     words work well. Without it, nobody (not even the administrator) can open \
                     your keyring."
                );
                let a = prompt("New passphrase: ")?;
                let b = prompt("Repeat the passphrase: ")?;
                if *a != *b {
                    bail!("the two passphrases differ; nothing was written");
                }
                a
            }
        };
        if p.chars().count() < 12 {
            bail!("the passphrase is too short: use at least 12 characters");
        }
        Ok(p)
    }
}

fn spinner(msg: &'static str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn explain(err: KeyringError, path: &Path) -> anyhow::Error {
    let p = path.display();
    match err {
        KeyringError::WrongPassphraseOrCorrupted => anyhow!(
            "cannot open the keyring {p}: the passphrase is wrong, or the file is damaged. \
             Check the passphrase and try again; if it is right, restore the keyring from your \
             backup copy. Nothing was changed."
        ),
        // The four errors of protocol §7, each with its own message.
        KeyringError::BadFormat => anyhow!(
            "{p} is not a Meldpunt keyring (another kind of file, or its structure is broken). \
             Check that you chose the right file; if you did, restore the keyring from your \
             backup copy. Nothing was changed."
        ),
        KeyringError::UnsupportedVersion(v) => anyhow!(
            "{p} is a Meldpunt keyring of a version this program does not know ({v}). Use a \
             newer version of meldpunt to open it. Nothing was changed."
        ),
        KeyringError::BadParams => anyhow!(
            "{p} asks for password-hashing parameters outside the allowed bounds (protocol §7), \
             so it was not opened: the file is damaged or was not made by Meldpunt. Restore the \
             keyring from your backup copy. Nothing was changed."
        ),
        other => anyhow!("cannot open the keyring {p}: {other}"),
    }
}

/// Options that create a new file readable by its owner only (`0600` on Unix, whatever the
/// umask): keyrings and decrypted exports. Fails if the file exists.
pub(crate) fn new_private_file() -> OpenOptions {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts
}

/// An unlocked keyring with its file and passphrase (kept for rewriting it). `Debug` shows no
/// secret: the keyring redacts its keys, the passphrase is a `SecretString`.
#[derive(Debug)]
pub struct Unlocked {
    pub keyring: Keyring,
    pub meta: Meta,
    pub path: PathBuf,
    passphrase: SecretString,
    params: KeyringParams,
}

impl Unlocked {
    /// Reads and decrypts `path`.
    pub fn open(path: &Path, source: PassSource) -> anyhow::Result<Unlocked> {
        let bytes = fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow!(
                "there is no keyring file at {}. Give the right file with --keyring, or set up \
                 this device with `meldpunt advisor init`",
                path.display()
            ),
            _ => anyhow!("cannot read the keyring file {}: {e}", path.display()),
        })?;
        // Check the structure before asking for anything.
        let params = Keyring::file_params(&bytes).map_err(|e| explain(e, path))?;
        let passphrase = source.unlock_passphrase()?;
        let pb = spinner("Unlocking the keyring…");
        let result = Keyring::from_file(&bytes, &passphrase);
        pb.finish_and_clear();
        let keyring = result.map_err(|e| explain(e, path))?;
        let meta = Meta::parse(&keyring);
        Ok(Unlocked {
            keyring,
            meta,
            path: path.to_owned(),
            passphrase: SecretString::from(passphrase.as_str()),
            params,
        })
    }

    /// A new keyring that is not on disk yet.
    pub fn fresh(keyring: Keyring, path: &Path, passphrase: Zeroizing<String>) -> Unlocked {
        Unlocked {
            meta: Meta::parse(&keyring),
            keyring,
            path: path.to_owned(),
            passphrase: SecretString::from(passphrase.as_str()),
            params: KeyringParams::DEFAULT,
        }
    }

    fn encrypt(&mut self) -> anyhow::Result<Vec<u8>> {
        self.keyring.set_meta(self.meta.to_json());
        let pb = spinner("Encrypting the keyring…");
        let bytes = self
            .keyring
            .to_file(&mut os_rng(), self.passphrase.expose_secret(), self.params)
            .map_err(|e| anyhow!("cannot encrypt the keyring: {e}"));
        pb.finish_and_clear();
        bytes
    }

    /// Writes a new file; refuses to replace an existing one.
    pub fn create(&mut self) -> anyhow::Result<()> {
        let bytes = self.encrypt()?;
        let mut f = new_private_file()
            .open(&self.path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => anyhow!(
                    "{} already exists; it is not replaced. Choose another file name",
                    self.path.display()
                ),
                _ => anyhow!("cannot create {}: {e}", self.path.display()),
            })?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        sync_dir(&self.path);
        Ok(())
    }

    /// Replaces the file atomically: a temporary file in the same folder, fsync, rename. On any
    /// failure the old file stays as it was.
    pub fn save(&mut self) -> anyhow::Result<()> {
        let bytes = self.encrypt()?;
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "keyring".into());
        let mut tmp = None;
        for i in 0..100u32 {
            let candidate = dir.join(format!(".{name}.tmp{}-{i}", std::process::id()));
            match new_private_file().open(&candidate)
            {
                Ok(f) => {
                    tmp = Some((candidate, f));
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => bail!(
                    "cannot write a new keyring file next to {}: {e}; the old file is unchanged",
                    self.path.display()
                ),
            }
        }
        let Some((tmp_path, mut f)) = tmp else {
            bail!("cannot write a temporary keyring file in {}", dir.display());
        };
        let written = f
            .write_all(&bytes)
            .and_then(|()| f.sync_all())
            .and_then(|()| {
                // Keep the permissions of the old file.
                if let Ok(m) = fs::metadata(&self.path) {
                    fs::set_permissions(&tmp_path, m.permissions())?;
                }
                fs::rename(&tmp_path, &self.path)
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp_path);
            bail!(
                "cannot save the keyring to {}: {e}; the old file is unchanged",
                self.path.display()
            );
        }
        sync_dir(&self.path);
        Ok(())
    }
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}
