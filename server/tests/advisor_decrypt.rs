//! `meldpunt advisor decrypt --in FILE --out FILE`: the real CLI process, offline, with a
//! keyring and envelopes made with the crypto crate. The plaintext comes out whole, an existing
//! file is never replaced, and a damaged or foreign envelope leaves nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::path::Path;
use std::process::Output;

use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::{Keyring, KeyringParams};
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use zeroize::Zeroizing;

const PASS: &str = "correct horse battery staple 42";

fn decrypt(keyring: &Path, input: &Path, out: &Path) -> Output {
    let mut cmd = meldpunt_tests::advisor_command(keyring, &["decrypt", "--in"]);
    cmd.arg(input).arg("--out").arg(out);
    meldpunt_tests::run_with_stdin(cmd, format!("{PASS}\n").as_bytes())
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect()
}

#[test]
fn decrypts_an_attachment_file_and_never_replaces_or_leaves_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = os_rng();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let keyring = Keyring::new(&mut rng, Zeroizing::new("{}".into()), now - 60, 86_400).unwrap();
    let me = keyring.keys()[0].key.recipient();
    let keyring_path = dir.path().join("keyring.mpk");
    std::fs::write(
        &keyring_path,
        keyring
            .to_file(&mut rng, PASS, KeyringParams::MINIMUM)
            .unwrap(),
    )
    .unwrap();

    // Several chunks and a partial one, so that the streaming path is exercised.
    let mut plain = vec![0u8; 3 * 65536 + 1234];
    rng.fill_bytes(&mut plain);
    let sealed = envelope::seal(&mut rng, Purpose::Attachment, "acme", &[me], &plain).unwrap();
    let input = dir.path().join("photo.jpg.mpe");
    std::fs::write(&input, &sealed).unwrap();

    let out = dir.path().join("photo.jpg");
    let r = decrypt(&keyring_path, &input, &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), plain);
    assert!(String::from_utf8_lossy(&r.stdout).contains(&format!("{} bytes", plain.len())));

    // An existing file is never replaced.
    std::fs::write(&out, b"keep me").unwrap();
    let r = decrypt(&keyring_path, &input, &out);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");

    // A damaged envelope (last chunk altered): an error, and no plaintext anywhere.
    let mut damaged = sealed.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let bad = dir.path().join("damaged.mpe");
    std::fs::write(&bad, &damaged).unwrap();
    let bad_out = dir.path().join("damaged.out");
    let r = decrypt(&keyring_path, &bad, &bad_out);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot decrypt"));
    assert!(!bad_out.exists());

    // Sealed to someone else.
    let other = DecryptionKey::generate(&mut rng).recipient();
    let foreign = envelope::seal(&mut rng, Purpose::Attachment, "acme", &[other], &plain).unwrap();
    let foreign_in = dir.path().join("foreign.mpe");
    std::fs::write(&foreign_in, foreign).unwrap();
    let r = decrypt(&keyring_path, &foreign_in, &dir.path().join("foreign.out"));
    assert!(!r.status.success());
    assert!(!dir.path().join("foreign.out").exists());

    // Not an attachment (a report envelope carries a signed message, not a file).
    let report = envelope::seal(&mut rng, Purpose::Report, "acme", &[me], b"{}").unwrap();
    let report_in = dir.path().join("report.mpe");
    std::fs::write(&report_in, report).unwrap();
    let r = decrypt(&keyring_path, &report_in, &dir.path().join("report.out"));
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("not an attachment"));
    assert!(!dir.path().join("report.out").exists());

    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}
