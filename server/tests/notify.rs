//! Advisor notifications against a tiny SMTP sink written here (std::net, on 127.0.0.1:0):
//! a report and a follow-up give the advisor with an address exactly one mail (batched), with
//! no organisation name or slug, no case id, no report text and no token in headers or body;
//! the advisor without an address gets none; with notifications off (the default) the sink
//! sees no connection at all. The address is set through the API and `meldpunt advisor notify`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use serde_json::{Value, json};

const REPORT: &[u8] = b"{\"story\":\"GEHEIM-MELDING-77aa: het gebeurde in de kantine\"}";
const FOLLOW: &[u8] = b"{\"text\":\"GEHEIM-VERVOLG-77bb\"}";
const ORG_NAME: &str = "Bouwbedrijf Zwaluw";

/// One received mail.
#[derive(Debug, Clone)]
struct Mail {
    from: String,
    rcpt: Vec<String>,
    data: String,
}

/// A minimal SMTP server: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. Counts connections.
struct Sink {
    port: u16,
    connections: Arc<AtomicUsize>,
    mails: Arc<Mutex<Vec<Mail>>>,
}

fn session(stream: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO") {
            w.write_all(b"250 sink.test\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].to_owned();
            w.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            rcpt.push(cmd[8..].to_owned());
            w.write_all(b"250 OK\r\n")?;
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(&line);
            }
            mails.lock().unwrap().push(Mail {
                from: std::mem::take(&mut from),
                rcpt: std::mem::take(&mut rcpt),
                data,
            });
            w.write_all(b"250 OK queued\r\n")?;
        } else if upper == "RSET" || upper == "NOOP" {
            w.write_all(b"250 OK\r\n")?;
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            w.write_all(b"502 not implemented\r\n")?;
        }
    }
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let mails = Arc::new(Mutex::new(Vec::new()));
        let (c, m) = (Arc::clone(&connections), Arc::clone(&mails));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    let _ = session(stream, &m);
                });
            }
        });
        Sink {
            port,
            connections,
            mails,
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until `n` mails arrived (bounded).
    fn wait_for(&self, n: usize, max: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + max;
        while Instant::now() < deadline {
            if self.mails().len() >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.mails()
    }
}

fn sections(extra: &str) -> String {
    format!("{DEFAULT_EXTRA}\n[pow]\nenabled = false\n{extra}")
}

fn set_notify(server: &Server, a: &Advisor, body: &Value, status: u16) -> Value {
    let r = a
        .auth(server.put("/api/v1/advisor/notify"))
        .json(body)
        .send()
        .unwrap();
    expect(r, status, None)
}

/// Files a report from a new reporter to `advisors` and a follow-up; returns the reporter.
fn report_and_follow_up(server: &Server, advisors: &[String]) -> Reporter {
    let reporter = Reporter::new();
    reporter.create_case_ok(server, "zwaluw", advisors, REPORT);
    let view = reporter.case(server);
    let to = reporter.recipients(&view["advisors"], None);
    let env = seal(Purpose::Message, "zwaluw", &to, FOLLOW);
    let r = reporter
        .auth(server.post("/api/v1/case/messages"))
        .json(&json!({"envelope": b64(&env)}))
        .send()
        .unwrap();
    expect(r, 201, None);
    reporter
}

#[test]
fn one_content_free_mail_per_burst_and_nothing_when_off() {
    let sink = Sink::start();
    let notify = format!(
        "[notify]\nenabled = true\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\ntls = \"none\"\n\
         from = \"Meldpunt <meldpunt@meldpunt.test>\"\nbase_url = \"https://meldpunt.test/\"\n\
         delay_secs = 1\nmin_interval_secs = 900\n",
        sink.port
    );
    let mut server = Server::start_with("", &sections(&notify));
    server.admin(&["org", "create", "--slug", "zwaluw", "--name", ORG_NAME]);
    let anna = Advisor::register(&server, &server.invite(Some("zwaluw")), "Anna");
    let bram = Advisor::register(&server, &server.invite(Some("zwaluw")), "Bram");

    // The setting: off, then bad input is refused, then set.
    let v = anna.get_ok(&server, "/api/v1/advisor/notify");
    assert_eq!(v, json!({"email": null, "instance_enabled": true}));
    for bad in [
        json!({"email": "Anna <anna@example.nl>"}),
        json!({"email": "anna@example.nl\r\nBcc: eve@example.nl"}),
        json!({"email": "niet-een-adres"}),
        json!({"email": 5}),
        json!({}),
        json!({"email": "anna@example.nl", "extra": 1}),
    ] {
        set_notify(&server, &anna, &bad, 400);
    }
    let r = server
        .put("/api/v1/advisor/notify")
        .json(&json!({"email": "anna@example.nl"}))
        .send()
        .unwrap();
    expect(r, 401, None);
    let v = set_notify(&server, &anna, &json!({"email": "anna@example.nl"}), 200);
    assert_eq!(v["email"], "anna@example.nl");

    // A report to both, and a follow-up right after it: one mail, to Anna only.
    let reporter = report_and_follow_up(&server, &[anna.id.clone(), bram.id.clone()]);
    let mails = sink.wait_for(1, Duration::from_secs(30));
    // Longer than the delay: a second mail would have come by now.
    std::thread::sleep(Duration::from_secs(3));
    let mails_after = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails_after.len(), 1, "{mails_after:?}");
    let mail = &mails[0];
    assert_eq!(mail.rcpt, vec!["<anna@example.nl>".to_owned()]);
    assert!(
        mail.from.contains("meldpunt@meldpunt.test"),
        "{}",
        mail.from
    );
    let data = &mail.data;
    assert!(data.contains("Subject: "), "{data}");
    assert!(data.contains("Nieuwe activiteit"), "{data}");
    assert!(
        data.contains("There is new activity in your Meldpunt inbox"),
        "{data}"
    );
    assert!(data.contains("https://meldpunt.test/advisor/"), "{data}");
    let case_id = anna.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    let lower = data.to_lowercase();
    for needle in [
        ORG_NAME.to_lowercase(),
        "zwaluw".to_owned(),
        case_id.to_lowercase(),
        "geheim".to_owned(),
        reporter.token().to_lowercase(),
        "bram".to_owned(),
    ] {
        assert!(
            !lower.contains(&needle),
            "the mail contains {needle:?}:\n{data}"
        );
    }
    // No count: the text is the same whatever happened (checked by a second burst below).
    let body_of = |d: &str| {
        d.split("\r\n\r\n")
            .skip(1)
            .collect::<Vec<_>>()
            .join("\r\n\r\n")
    };
    let first_body = body_of(data);
    // Mails sent move with every report: not exported; failures (health) are.
    let metrics = server.metrics();
    assert!(
        !metrics.contains("meldpunt_notify_mails_sent_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("meldpunt_notify_mail_failures_total 0"),
        "{metrics}"
    );

    // Bram switches on through the CLI-equivalent API; Anna switches off. A new report: one
    // mail, to Bram, with the same body.
    set_notify(&server, &bram, &json!({"email": "bram@example.nl"}), 200);
    let v = set_notify(&server, &anna, &json!({"email": null}), 200);
    assert_eq!(v["email"], Value::Null);
    report_and_follow_up(&server, &[anna.id.clone(), bram.id.clone()]);
    let mails = sink.wait_for(2, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.mails().len(), 2, "{mails:?}");
    assert_eq!(mails[1].rcpt, vec!["<bram@example.nl>".to_owned()]);
    assert_eq!(body_of(&mails[1].data), first_body);

    // Neither the log nor the database files hold the report; the log holds no address.
    let log = server.logs();
    assert!(
        !log.contains("anna@example.nl") && !log.contains("bram@example.nl"),
        "{log}"
    );
    server.assert_no_leaks(&[REPORT, FOLLOW, b"GEHEIM"]);

    // Off by default: the same sink, a server without [notify], an advisor with an address.
    let before = sink.connections.load(Ordering::SeqCst);
    let mut off = Server::start_with("", &sections(""));
    off.admin(&["org", "create", "--slug", "zwaluw", "--name", ORG_NAME]);
    let cora = Advisor::register(&off, &off.invite(Some("zwaluw")), "Cora");
    let v = set_notify(&off, &cora, &json!({"email": "cora@example.nl"}), 200);
    assert_eq!(v["instance_enabled"], false);
    report_and_follow_up(&off, std::slice::from_ref(&cora.id));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.connections.load(Ordering::SeqCst), before);
    assert_eq!(sink.mails().len(), 2);

    // `meldpunt advisor notify`: set, show, off, through the advisor's own CLI.
    let keyring = off.dir.path().join("dora.mpk");
    let invite = off.invite(Some("zwaluw"));
    let url = off.url("");
    let out = advisor_cli(
        &keyring,
        &[
            "init", "--server", &url, "--invite", &invite, "--name", "Dora",
        ],
    );
    assert!(out.contains("fingerprint"), "{out}");
    let out = advisor_cli(&keyring, &["notify", "--email", "dora@example.nl"]);
    assert!(out.contains("Notifications go to dora@example.nl"), "{out}");
    assert!(out.contains("does not send notifications"), "{out}");
    let out = advisor_cli(&keyring, &["notify"]);
    assert!(out.contains("Notifications go to dora@example.nl"), "{out}");
    let out = advisor_cli(&keyring, &["notify", "--off"]);
    assert!(out.contains("Notifications are off."), "{out}");
    let out = advisor_cli(&keyring, &["notify"]);
    assert!(out.contains("Notifications are off."), "{out}");
    off.assert_no_leaks(&[REPORT, FOLLOW]);
}

/// `meldpunt advisor --keyring K --passphrase-fd 0 ARGS…`, passphrase on standard input.
fn advisor_cli(keyring: &std::path::Path, args: &[&str]) -> String {
    let out = advisor_cli_with(keyring, "correct horse battery staple 42", "", args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "advisor {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `tls = "none"` sends mail in clear text: the server refuses to start with it for any host
/// but this machine, and says which setting is wrong. (Loopback with `tls = "none"` starts: the
/// mail test above runs that way.)
#[test]
fn plain_smtp_to_another_host_is_refused_at_startup() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("meldpunt.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndatabase = \"{}\"\nworkers = 1\n\
             [notify]\nenabled = true\nsmtp_host = \"smtp.example.nl\"\nsmtp_port = 25\n\
             tls = \"none\"\nfrom = \"Meldpunt <meldpunt@meldpunt.test>\"\n\
             base_url = \"https://meldpunt.test/\"\n",
            dir.path().join("meldpunt.db").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(meldpunt_bin())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env_remove("RUST_LOG")
        .env_remove("MELDPUNT_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started with tls = \"none\" to smtp.example.nl");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("notify.tls"), "{text}");
    assert!(text.contains("smtp.example.nl"), "{text}");
    assert!(!dir.path().join("meldpunt.db").exists(), "{text}");
}
