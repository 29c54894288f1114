//! The server process harness: starts the real `meldpunt` binary on a free loopback port with
//! its own SQLite file in a temporary directory, stops and restarts it, reads its log, and runs
//! `meldpunt admin …` against its configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

use crate::cli::meldpunt_bin;
use crate::http::unb64;

/// A User-Agent no log or database may ever contain.
pub const UA: &str = "MeldpuntTestAgent/9.1 (ua-canary-5f2c7e)";

/// A `meldpunt serve` process with its configuration, database and log in a temporary
/// directory; stopped when dropped.
#[derive(Debug)]
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

/// A free loopback port (bound once and released).
#[must_use]
pub fn free_port() -> u16 {
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

/// [`DEFAULT_EXTRA`] with a proof of work that costs almost nothing (difficulty 1, 64 KiB).
#[must_use]
pub fn cheap_pow_sections() -> String {
    format!("[pow]\ndifficulty = 1\nm_kib = 64\nt = 1\n{DEFAULT_EXTRA}")
}

impl Server {
    /// Writes a config (`top` goes before any section, `sections` after) and starts the server.
    #[must_use]
    pub fn start_with(top: &str, sections: &str) -> Server {
        let mut server = Self::prepare(top, sections, true);
        server.spawn();
        server
    }

    /// Writes the configuration (`top` before any section, `sections` after; with `metrics`
    /// a `[metrics]` listener on a free port of its own, a test's own `[metrics]` section
    /// keeping it) and creates the database and instance key as an operator would, without
    /// starting the server ([`Server::spawn`] does).
    #[must_use]
    pub fn prepare(top: &str, sections: &str, metrics: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("meldpunt.db");
        let rest = format!("{top}\n{sections}\n");
        let (rest, metrics_port) = if metrics {
            let metrics_port = free_port();
            let metrics_listen = format!("listen = \"127.0.0.1:{metrics_port}\"");
            let rest = if rest.contains("[metrics]\n") {
                rest.replace("[metrics]\n", &format!("[metrics]\n{metrics_listen}\n"))
            } else {
                format!("{rest}\n[metrics]\n{metrics_listen}\n")
            };
            (rest, metrics_port)
        } else {
            (rest, 0)
        };
        let server = Self::configured(dir, db, &rest, metrics_port, Duration::from_secs(120));
        server.admin(&["org", "list"]);
        server
    }

    /// A server (not started, its database not created) on the database `db`, with its
    /// configuration (`listen` on a free port, `database`, `workers = 2`, then `rest`) and log
    /// in `dir`, `metrics_port` as configured in `rest`, and a client with `timeout`.
    #[must_use]
    pub fn configured(
        dir: tempfile::TempDir,
        db: PathBuf,
        rest: &str,
        metrics_port: u16,
        timeout: Duration,
    ) -> Server {
        let port = free_port();
        let log = dir.path().join("server.log");
        let config = dir.path().join("meldpunt.toml");
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\nworkers = 2\n{rest}",
            db.display()
        );
        std::fs::write(&config, text).unwrap();
        Server {
            dir,
            child: None,
            port,
            metrics_port,
            db,
            log,
            config,
            client: Client::builder()
                .user_agent(UA)
                .timeout(timeout)
                .build()
                .unwrap(),
        }
    }

    /// A server with [`DEFAULT_EXTRA`].
    #[must_use]
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
        let child = Command::new(meldpunt_bin())
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

    /// `meldpunt --config CONFIG ARGS…`, run to its end.
    pub fn command(&self, args: &[&str]) -> std::process::Output {
        Command::new(meldpunt_bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    /// `meldpunt --config CONFIG admin ARGS…`, which must succeed; returns its output.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = self.command(&[&["admin"], args].concat());
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

