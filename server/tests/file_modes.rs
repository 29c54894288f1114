//! Files holding data are owner-only (`0600`) under the usual umask 022: the database and
//! SQLite's `-wal` and `-shm`, a backup, a restored database, and an advisor's keyring.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::print_stdout)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use meldpunt_tests::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `meldpunt ARGS…` under umask 022 (as a shell started by a service manager usually has).
fn meldpunt_022(args: &[&str], stdin: &str) -> String {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 022 && exec \"$@\"")
        .arg("sh")
        .arg(meldpunt_bin())
        .args(args)
        .env_remove("MELDPUNT_CONFIG")
        .env_remove("MELDPUNT_DATABASE")
        .env_remove("MELDPUNT_KEYRING");
    let out = run_with_stdin(cmd, stdin.as_bytes());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

#[test]
fn data_files_are_owner_only() {
    // The harness starts the server with this process's umask: it must let 0644 through, or
    // the test would prove nothing.
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = probe_dir.path().join("probe");
    std::fs::File::create(&probe).unwrap();
    assert_eq!(
        mode(&probe) & 0o044,
        0o044,
        "run the tests under umask 022 (files must be group/other readable by default)"
    );

    let server = Server::start();
    server.create_org("acme");
    let _anna = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
    let db = server.db.clone();
    let wal = db.with_file_name("meldpunt.db-wal");
    let shm = db.with_file_name("meldpunt.db-shm");
    for f in [&db, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }

    // A backup, made while the server runs.
    let backup = server.dir.path().join("backup.db");
    let config = server.config.to_str().unwrap().to_owned();
    meldpunt_022(
        &["--config", &config, "backup", "--to", backup.to_str().unwrap()],
        "",
    );
    assert_eq!(mode(&backup), 0o600);

    // A restore of that backup made readable by others keeps the database owner-only.
    std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = restored_dir.path().join("restored.db");
    let restore_config = restored_dir.path().join("meldpunt.toml");
    std::fs::write(
        &restore_config,
        format!("database = \"{}\"\n", restored.display()),
    )
    .unwrap();
    meldpunt_022(
        &[
            "--config",
            restore_config.to_str().unwrap(),
            "restore",
            "--from",
            backup.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(mode(&restored), 0o600);

    // A keyring made by `meldpunt advisor init`.
    let keyring = server.dir.path().join("bram.mpk");
    meldpunt_022(
        &[
            "advisor",
            "--keyring",
            keyring.to_str().unwrap(),
            "--passphrase-fd",
            "0",
            "init",
            "--server",
            &server.url(""),
            "--invite",
            &server.invite(Some("acme")),
            "--name",
            "Bram",
        ],
        "file modes passphrase for the test\n",
    );
    assert_eq!(mode(&keyring), 0o600);
}
