//! Built-in TLS: a self-signed certificate made here (rcgen), `[tls] cert/key`, and `/healthz`
//! over HTTPS with a client that trusts exactly that certificate. HSTS is sent over TLS; a
//! client that does not trust the certificate and a plain-HTTP request both fail. Broken
//! `[tls]` files stop the start with a message that names the setting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meldpunt_tests::{KillOnDrop, free_port};

#[test]
fn healthz_over_https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = cert.pem();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();

    let port = free_port();
    let db = dir.path().join("meldpunt.db");
    let config = dir.path().join("meldpunt.toml");
    let log = dir.path().join("server.log");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\nworkers = 1\nmetrics = {{ enabled = false }}\n\
             [tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            db.display(),
            cert_path.display(),
            key_path.display()
        ),
    )
    .unwrap();
    let logf = std::fs::File::create(&log).unwrap();
    let _server = KillOnDrop(
        Command::new(meldpunt_tests::meldpunt_bin())
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env_remove("RUST_LOG")
            .stdout(Stdio::from(logf.try_clone().unwrap()))
            .stderr(Stdio::from(logf))
            .spawn()
            .unwrap(),
    );

    let trusting = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/healthz");
    let deadline = Instant::now() + Duration::from_secs(30);
    let r = loop {
        match trusting.get(&url).send() {
            Ok(r) => break r,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "no HTTPS answer: {e}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    assert_eq!(r.status(), 200);
    let hsts = r
        .headers()
        .get("strict-transport-security")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(hsts.contains("max-age="), "no HSTS over TLS");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["status"], "ok");

    // A client that trusts only the public roots refuses the self-signed certificate.
    let public = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let e = public.get(&url).send().unwrap_err();
    assert!(e.is_connect() || e.is_request(), "{e}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let r = plain.get(format!("http://127.0.0.1:{port}/healthz")).send();
    assert!(r.is_err() || !r.unwrap().status().is_success());
}

#[test]
fn broken_tls_files_stop_the_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let db = dir.path().join("m.db");
    let run = |tls: &str| {
        let config = dir.path().join("m.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{}\"\ndatabase = \"{}\"\nmetrics = {{ enabled = false }}\n[tls]\n{tls}\n",
                free_port(),
                db.display()
            ),
        )
        .unwrap();
        let out = Command::new(meldpunt_tests::meldpunt_bin())
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&format!(
        "cert = \"{}\"\nkey = \"{}\"",
        cert.display(),
        key.display()
    ));
    assert!(e.contains("tls.cert"), "{e}");
    let e = run(&format!(
        "cert = \"{}\"\nkey = \"{}\"",
        dir.path().join("missing.pem").display(),
        key.display()
    ));
    assert!(e.contains("tls.cert") && e.contains("cannot read"), "{e}");
}
