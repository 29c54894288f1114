//! `meldpunt advisor app`: serves a folder of pages on 127.0.0.1 and relays `/api/*` to the real
//! server process: JSON both ways, a logged-in advisor request, a streamed attachment upload and
//! download; cookies are not passed on; paths outside the folder are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use meldpunt_crypto::rng::{Rng, os_rng};

#[test]
fn app_serves_pages_and_relays_the_api() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = Advisor::register(&server, &server.invite(Some("acme")), "Anna");

    // A keyring made by the CLI holds the instance address.
    let keyring = server.dir.path().join("anna.mpk");
    let pass = "app passphrase for the test";
    let invite = server.invite(Some("acme"));
    let server_url = server.url("");
    let init = advisor_cli_with(
        &keyring,
        pass,
        "",
        &["init", "--server", &server_url, "--invite", &invite, "--name", "Bram"],
    );
    assert!(init.status.success(), "{}", output_text(&init));

    let www = tempfile::tempdir().unwrap();
    std::fs::create_dir(www.path().join("advisor")).unwrap();
    std::fs::write(
        www.path().join("advisor/index.html"),
        "<!DOCTYPE html><title>Advisor</title>ADVISOR-PAGE",
    )
    .unwrap();
    std::fs::write(www.path().join(".secret"), "hidden").unwrap();
    std::fs::write(server.dir.path().join("outside.txt"), "outside").unwrap();

    let mut child = advisor_command(&keyring, &["app", "--no-open", "--www"])
        .arg(www.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{pass}\n").as_bytes())
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let app = KillOnDrop(child);
    let url = line.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/advisor/"),
        "{url}"
    );
    let base = url.trim_end_matches("/advisor/").to_owned();
    let client = reqwest::blocking::Client::new();

    // Pages.
    let r = client.get(&url).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(r.text().unwrap().contains("ADVISOR-PAGE"));
    for bad in [
        "/.secret",
        "/advisor/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/nope.html",
    ] {
        let r = client.get(format!("{base}{bad}")).send().unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }

    // Public JSON, relayed unchanged.
    let direct = server.org_page("acme");
    let relayed: serde_json::Value = client
        .get(format!("{base}/api/v1/orgs/acme"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(direct, relayed);

    // The app's own headers on relayed answers; another Host (DNS rebinding) is refused; only
    // instance API paths are relayed.
    let r = client.get(format!("{base}/api/v1/orgs/acme")).send().unwrap();
    for (name, want) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(r.headers()[name].to_str().unwrap(), want, "{name}");
    }
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let port = base.rsplit(':').next().unwrap().to_owned();
    for host in [format!("rebind.example:{port}"), "127.0.0.1:1".to_owned()] {
        let r = client.get(&url).header("Host", &host).send().unwrap();
        assert_eq!(r.status(), 421, "{host}");
    }
    let r = client.get(&url).header("Host", format!("localhost:{port}")).send().unwrap();
    assert_eq!(r.status(), 200);
    for bad in ["/api/healthz", "/api/v1/%2e%2e/healthz", "/api/v1//orgs/acme"] {
        let r = client.get(format!("{base}{bad}")).send().unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }

    // Login through the relay; the cookie the page might carry is not passed on (the server
    // would not care, but nothing identifying leaves this computer).
    let r = a1.login_with(
        client
            .post(format!("{base}/api/v1/advisor/login/challenge"))
            .header("Cookie", "tracker=COOKIE-CANARY"),
        client.post(format!("{base}/api/v1/advisor/login")),
    );
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none());
    let token = r.json::<serde_json::Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer_get = |path: &str| -> serde_json::Value {
        client
            .get(format!("{base}{path}"))
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let me: serde_json::Value = bearer_get("/api/v1/advisor/me");
    assert_eq!(me["id"], a1.id.as_str());

    // Errors come back as they are.
    let r = client
        .get(format!("{base}/api/v1/advisor/me"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);

    // A 3 MiB attachment up (streamed through the relay) and down again.
    let reporter = Reporter::new();
    reporter.create_case_ok(&server, "acme", std::slice::from_ref(&a1.id), b"{\"story\":\"x\"}");
    let mut file = vec![0u8; 3 << 20];
    os_rng().fill_bytes(&mut file);
    let page = server.org_page("acme");
    let to = recipients(
        page["advisors"].as_array().unwrap(),
        Some(std::slice::from_ref(&a1.id)),
    );
    let sealed = seal(Purpose::Attachment, "acme", &to, &file);
    let att = b64(&[5u8; 16]);
    let pow = server.pow();
    let r = client
        .put(format!("{base}/api/v1/case/attachments/{att}"))
        .header("Authorization", format!("CaseToken {}", reporter.token()))
        .attachment(&pow, sealed.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    let inbox: serde_json::Value = bearer_get("/api/v1/advisor/cases");
    let case = inbox["cases"][0]["id"].as_str().unwrap().to_owned();
    let down = client
        .get(format!(
            "{base}/api/v1/advisor/cases/{case}/attachments/{att}"
        ))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .unwrap();
    assert_eq!(down.status(), 200);
    assert_eq!(down.bytes().unwrap().as_ref(), sealed.as_slice());

    drop(app);
    // The relay added nothing identifying: the server's log and database hold no cookie.
    let log = server.logs();
    assert!(!log.contains("COOKIE-CANARY"));
}
