//! Test harness: starts the real `meldpunt` binary on a free loopback port with its own SQLite
//! file in a temporary directory, and plays reporters and advisors with the real crypto crate.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keyring::Keyring;
use meldpunt_crypto::keys::{KeyBundle, Revocation};
use meldpunt_crypto::pickup::{PickupCode, ReporterKeys};
use meldpunt_crypto::recipient::RecipientKey;
use meldpunt_crypto::rng::os_rng;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

/// A User-Agent no log or database may ever contain.
pub const UA: &str = "MeldpuntTestAgent/9.1 (ua-canary-5f2c7e)";

pub fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}
pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub port: u16,
    /// Port of the separate metrics listener (`[metrics] listen`).
    pub metrics_port: u16,
    pub db: PathBuf,
    pub log: PathBuf,
    pub config: PathBuf,
    pub client: Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Settings for tests: generous rate limits unless a test sets its own.
pub const DEFAULT_EXTRA: &str = r#"
[rate_limit.public]
per_minute = 100000
burst = 10000
global_per_minute = 1000000
[rate_limit.create]
per_minute = 100000
burst = 10000
global_per_minute = 1000000
[rate_limit.case]
per_minute = 100000
burst = 10000
global_per_minute = 1000000
[rate_limit.case_guess]
per_minute = 100000
burst = 10000
global_per_minute = 1000000
[rate_limit.login]
per_minute = 100000
burst = 10000
global_per_minute = 1000000
[rate_limit.advisor]
per_minute = 100000
burst = 10000
global_per_minute = 1000000
"#;

impl Server {
    /// Writes a config (`top` goes before any section, `sections` after) and starts the server.
    pub fn start_with(top: &str, sections: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let metrics_port = free_port();
        let db = dir.path().join("meldpunt.db");
        let log = dir.path().join("server.log");
        let config = dir.path().join("meldpunt.toml");
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\nworkers = 2\n{top}\n{sections}\n",
            db.display()
        );
        // Every server gets its own metrics port; a test's own `[metrics]` section keeps it.
        let metrics_listen = format!("listen = \"127.0.0.1:{metrics_port}\"");
        let text = if text.contains("[metrics]\n") {
            text.replace("[metrics]\n", &format!("[metrics]\n{metrics_listen}\n"))
        } else {
            format!("{text}\n[metrics]\n{metrics_listen}\n")
        };
        std::fs::write(&config, text).unwrap();
        let client = Client::builder()
            .user_agent(UA)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let mut server = Server {
            dir,
            child: None,
            port,
            metrics_port,
            db,
            log,
            config,
            client,
        };
        // Create the database (and instance key) before the server starts, as an operator would.
        server.admin(&["org", "list"]);
        server.spawn();
        server
    }

    pub fn start() -> Server {
        Self::start_with("", DEFAULT_EXTRA)
    }

    /// Starts the server process (again, e.g. after [`Server::stop`]) and waits until it answers.
    pub fn spawn(&mut self) {
        self.spawn_with_env(&[]);
    }

    /// Like [`Server::spawn`] with extra environment variables for the server process.
    pub fn spawn_with_env(&mut self, env: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(meldpunt_tests::meldpunt_bin())
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = self.client.get(self.url("/healthz")).send()
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A URL on the metrics listener.
    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.metrics_port)
    }

    /// `GET /metrics` on the metrics listener (no token).
    pub fn metrics(&self) -> String {
        let r = self.client.get(self.metrics_url("/metrics")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.text().unwrap()
    }

    pub fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(meldpunt_tests::meldpunt_bin())
            .arg("--config")
            .arg(&self.config)
            .arg("admin")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn create_org(&self, slug: &str) {
        self.admin(&[
            "org",
            "create",
            "--slug",
            slug,
            "--name",
            &format!("Organisatie {slug}"),
        ]);
    }

    pub fn invite(&self, org: Option<&str>) -> String {
        let out = match org {
            Some(o) => self.admin(&["advisor", "invite", "--org", o]),
            None => self.admin(&["advisor", "invite", "--branch"]),
        };
        out.trim().to_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// A field of /proc/PID/status in KiB (VmHWM, VmRSS).
    pub fn proc_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server and checks that the database files and the log hold none of `needles`,
    /// no loopback address and no User-Agent.
    pub fn assert_no_leaks(&mut self, plaintexts: &[&[u8]]) {
        self.stop();
        let mut files = vec![self.log.clone()];
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", self.db.display()));
            if p.exists() {
                files.push(p);
            }
        }
        let mut needles: Vec<&[u8]> = vec![
            b"127.0.0.1",
            UA.as_bytes(),
            b"ua-canary-5f2c7e",
            b"MeldpuntTestAgent",
        ];
        needles.extend_from_slice(plaintexts);
        for f in &files {
            let mut bytes = Vec::new();
            std::fs::File::open(f)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            for n in &needles {
                assert!(
                    !bytes.windows(n.len()).any(|w| w == *n),
                    "{} contains {:?}",
                    f.display(),
                    String::from_utf8_lossy(n)
                );
            }
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.client.put(self.url(path))
    }

    pub fn pow(&self) -> Value {
        let c: Value = self.post("/api/v1/pow").send().unwrap().json().unwrap();
        let challenge = c["challenge"].as_str().unwrap().to_owned();
        if !c["enabled"].as_bool().unwrap() {
            return Value::Null;
        }
        let nonce = meldpunt_crypto::pow::solve(&unb64(&challenge), |_| {}).unwrap();
        json!({"challenge": challenge, "nonce": nonce})
    }

    pub fn org_page(&self, slug: &str) -> Value {
        let r = self.get(&format!("/api/v1/orgs/{slug}")).send().unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Asserts status and JSON error code; returns the body.
pub fn expect(r: Response, status: u16, code: Option<&str>) -> Value {
    let got = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().unwrap();
    assert_eq!(got, status, "body: {text}");
    if status >= 400 {
        assert!(
            ct.starts_with("application/json"),
            "content-type {ct} for {text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["error"].is_string() && v["message"].is_string(), "{text}");
        if let Some(code) = code {
            assert_eq!(v["error"], code, "{text}");
        }
        v
    } else if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

pub struct Advisor {
    pub keyring: Keyring,
    pub id: String,
    pub token: String,
}

impl Advisor {
    pub fn register(server: &Server, invite: &str, name: &str) -> Advisor {
        let t = now();
        let mut rng = os_rng();
        let keyring = Keyring::new(
            &mut rng,
            zeroize::Zeroizing::new(String::new()),
            t - 60,
            365 * 86_400,
        )
        .unwrap();
        let key_id = keyring.current_key(t).unwrap().key.key_id();
        let bundle = keyring.bundle(key_id).unwrap();
        let r = server
            .post("/api/v1/advisor/register")
            .json(&json!({
                "invite": invite,
                "identity": b64(&keyring.identity().public().to_bytes()),
                "bundle": b64(&bundle.to_bytes()),
                "profile": {"display_name": name, "bio": "Vertrouwenspersoon", "languages": ["nl", "en"]},
            }))
            .send()
            .unwrap();
        let v = expect(r, 201, None);
        let id = v["id"].as_str().unwrap().to_owned();
        let mut a = Advisor {
            keyring,
            id,
            token: String::new(),
        };
        a.login(server);
        a
    }

    pub fn login(&mut self, server: &Server) {
        let identity = b64(&self.keyring.identity().public().to_bytes());
        let c: Value = server
            .post("/api/v1/advisor/login/challenge")
            .json(&json!({"identity": identity}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let challenge = unb64(c["challenge"].as_str().unwrap());
        let sig = self.keyring.identity().sign_login(&challenge);
        let r = server
            .post("/api/v1/advisor/login")
            .json(&json!({"identity": identity, "challenge": b64(&challenge), "signature": b64(&sig)}))
            .send()
            .unwrap();
        let v = expect(r, 200, None);
        self.token = v["token"].as_str().unwrap().to_owned();
    }

    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.header("Authorization", format!("Bearer {}", self.token))
    }

    pub fn inbox(&self, server: &Server) -> Vec<Value> {
        let v = expect(
            self.auth(server.get("/api/v1/advisor/cases"))
                .send()
                .unwrap(),
            200,
            None,
        );
        v["cases"].as_array().unwrap().clone()
    }

    pub fn case(&self, server: &Server, id: &str) -> Value {
        expect(
            self.auth(server.get(&format!("/api/v1/advisor/cases/{id}")))
                .send()
                .unwrap(),
            200,
            None,
        )
    }

    /// Opens every message of a case view; returns the plaintexts.
    pub fn open_messages(&self, view: &Value) -> Vec<Vec<u8>> {
        let keys = self.keyring.decryption_keys();
        view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let env = unb64(m["envelope"].as_str().unwrap());
                let detached: Vec<Vec<u8>> = m["stanzas"]
                    .as_array()
                    .map(|a| a.iter().map(|s| unb64(s.as_str().unwrap())).collect())
                    .unwrap_or_default();
                let refs: Vec<&[u8]> = detached.iter().map(Vec::as_slice).collect();
                envelope::open(&env, &keys, &refs)
                    .unwrap()
                    .plaintext
                    .to_vec()
            })
            .collect()
    }
}

/// Verified recipient keys of advisors as listed by the server (org page or case view).
pub fn recipients(advisors: &[Value], ids: Option<&[String]>) -> Vec<RecipientKey> {
    let t = now();
    let mut out = Vec::new();
    for a in advisors {
        if let Some(ids) = ids
            && !ids.iter().any(|i| a["id"] == i.as_str())
        {
            continue;
        }
        let revs: Vec<Revocation> = a["revocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Revocation::from_bytes(&unb64(r.as_str().unwrap())).unwrap())
            .collect();
        for b in a["bundles"].as_array().unwrap() {
            let bundle = KeyBundle::from_bytes(&unb64(b.as_str().unwrap())).unwrap();
            if let Ok(r) = bundle.verify_for_sealing(t, &revs, None) {
                out.push(r);
            }
        }
    }
    out
}

pub struct Reporter {
    pub code: String,
    pub keys: ReporterKeys,
}

impl Reporter {
    pub fn new() -> Reporter {
        let code = PickupCode::generate(&mut os_rng());
        let keys = code.derive_keys().unwrap();
        Reporter {
            code: code.display_form().to_string(),
            keys,
        }
    }

    /// Everything again from the pickup code alone.
    pub fn from_code(code: &str) -> Reporter {
        let parsed = PickupCode::parse(code).unwrap();
        Reporter {
            code: code.to_owned(),
            keys: parsed.derive_keys().unwrap(),
        }
    }

    pub fn token(&self) -> String {
        self.keys.case_token().to_base64url().to_string()
    }

    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.header("Authorization", format!("CaseToken {}", self.token()))
    }

    /// Seals and signs a report to `advisor_ids` of `org`, and creates the case.
    pub fn create_case(
        &self,
        server: &Server,
        org: &str,
        advisor_ids: &[String],
        body: &[u8],
    ) -> Response {
        let page = server.org_page(org);
        let mut to = recipients(page["advisors"].as_array().unwrap(), Some(advisor_ids));
        to.push(self.keys.reply_key().recipient());
        let msg = meldpunt_crypto::message::Message::sign_report(
            self.keys.signing_key(),
            &self.keys.reply_key().recipient(),
            now(),
            body,
        )
        .unwrap();
        let env =
            envelope::seal(&mut os_rng(), Purpose::Report, org, &to, &msg.to_bytes()).unwrap();
        let pow = server.pow();
        let mut req = json!({
            "org": org,
            "advisors": advisor_ids,
            "token_hash": b64(&self.keys.case_token().hash()),
            "envelope": b64(&env),
        });
        if !pow.is_null() {
            req["pow"] = pow;
        }
        server.post("/api/v1/cases").json(&req).send().unwrap()
    }

    pub fn case(&self, server: &Server) -> Value {
        expect(
            self.auth(server.get("/api/v1/case")).send().unwrap(),
            200,
            None,
        )
    }
}

/// Seals `plain` as an envelope of `purpose` for `org` to `to`.
pub fn seal(purpose: Purpose, org: &str, to: &[RecipientKey], plain: &[u8]) -> Vec<u8> {
    envelope::seal(&mut os_rng(), purpose, org, to, plain).unwrap()
}

/// A signed membership statement (protocol §10.1: `op` 1 add, 2 remove) by `from` about the
/// advisor with the base64url identity key `identity`, after the newest message of `view`
/// (which `from` must be able to open), sealed as a message of `org` to `to`.
pub fn statement(
    from: &Advisor,
    view: &Value,
    org: &str,
    op: u8,
    identity: &str,
    to: &[RecipientKey],
) -> Vec<u8> {
    let last = view["messages"].as_array().unwrap().last().unwrap();
    let env = unb64(last["envelope"].as_str().unwrap());
    let detached: Vec<Vec<u8>> = last["stanzas"]
        .as_array()
        .map(|a| a.iter().map(|s| unb64(s.as_str().unwrap())).collect())
        .unwrap_or_default();
    let refs: Vec<&[u8]> = detached.iter().map(Vec::as_slice).collect();
    let opened = envelope::open(&env, &from.keyring.decryption_keys(), &refs).unwrap();
    // A test case whose last message is no signed message (raw bytes) gets a zero parent.
    let parent = meldpunt_crypto::message::Message::from_bytes(&opened.plaintext)
        .map(|m| m.hash())
        .unwrap_or([0u8; 32]);
    let mut body = Vec::with_capacity(38);
    body.extend_from_slice(b"MPMS");
    body.push(1);
    body.push(op);
    body.extend_from_slice(&unb64(identity));
    let m = meldpunt_crypto::message::Message::sign_membership(
        from.keyring.identity(),
        &parent,
        now(),
        &body,
    )
    .unwrap();
    seal(Purpose::Message, org, to, &m.to_bytes())
}

/// The advisor `id` as the organisation page `org` lists it.
pub fn listed(server: &Server, org: &str, id: &str) -> Value {
    server.org_page(org)["advisors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
        .clone()
}
