//! Load generator for a running Meldpunt server: create-case throughput and p50/p99 latency
//! with 4 KiB envelopes, case-read latency, and the raw SQLite durable-insert rate of this
//! machine for comparison. Talks only to the URL it is given (loopback in practice).
//!
//! ```text
//! meldpunt-loadgen --url http://127.0.0.1:8080 --org acme --invite XXXX-XXXX-…   # an existing server
//! meldpunt-loadgen --spawn target/release/meldpunt                               # two temporary servers
//! ```
//!
//! With `--spawn` it starts the given binary twice on a free loopback port with a temporary
//! database — once with the proof of work off, once with the default — with rate limits
//! raised, and stops each afterwards. Numbers are printed, never asserted.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Parser;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(about = "Meldpunt server load generator")]
struct Args {
    /// Base URL of a running server.
    #[arg(long, conflicts_with = "spawn", required_unless_present = "spawn")]
    url: Option<String>,
    /// Organisation slug (with --url).
    #[arg(long, default_value = "bench")]
    org: String,
    /// An advisor invite code for the organisation (with --url).
    #[arg(long)]
    invite: Option<String>,
    /// Start this `meldpunt` binary (PoW off, then default PoW) instead of using --url.
    #[arg(long)]
    spawn: Option<PathBuf>,
    /// Cases to create per run.
    #[arg(long, default_value_t = 400)]
    cases: usize,
    /// Cases to create per run with PoW on (each needs a solved challenge).
    #[arg(long, default_value_t = 60)]
    pow_cases: usize,
    /// Case reads per run.
    #[arg(long, default_value_t = 1000)]
    reads: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn client() -> Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// Registers a bench advisor and returns (advisor id, its decryption key).
fn setup_advisor(url: &str, invite: &str) -> Result<(String, DecryptionKey)> {
    let mut rng = os_rng();
    let identity = IdentityKey::generate(&mut rng);
    let key = DecryptionKey::generate(&mut rng);
    let bundle = identity.make_bundle(&key.recipient(), now() - 60, now() + 86_400)?;
    let r = client()?
        .post(format!("{url}/api/v1/advisor/register"))
        .json(&json!({
            "invite": invite,
            "identity": b64(&identity.public().to_bytes()),
            "bundle": b64(&bundle.to_bytes()),
            "profile": {"display_name": "Bench"},
        }))
        .send()?;
    if r.status().as_u16() != 201 {
        bail!("register: {} {}", r.status(), r.text()?);
    }
    let v: Value = r.json()?;
    Ok((
        v["id"].as_str().ok_or_else(|| anyhow!("no id"))?.to_owned(),
        key,
    ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Stats {
    label: String,
    count: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    extra: String,
}

impl Stats {
    fn print(&self) {
        let mut l = self.latencies.clone();
        l.sort();
        println!(
            "| {} | {} | {:.1}/s | {:.2} ms | {:.2} ms | {} |",
            self.label,
            self.count,
            self.count as f64 / self.wall.as_secs_f64(),
            percentile(&l, 0.5).as_secs_f64() * 1000.0,
            percentile(&l, 0.99).as_secs_f64() * 1000.0,
            self.extra
        );
    }
}

/// Runs `n` jobs on `concurrency` threads; each job returns the latency to record.
fn run_parallel(
    n: usize,
    concurrency: usize,
    job: impl Fn(usize) -> Result<Duration> + Send + Sync + 'static,
) -> Result<(Duration, Vec<Duration>)> {
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..concurrency.max(1) {
        let job = Arc::clone(&job);
        let next = Arc::clone(&next);
        handles.push(std::thread::spawn(move || -> Result<Vec<Duration>> {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok(out);
                }
                out.push(job(i)?);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for h in handles {
        all.extend(h.join().map_err(|_| anyhow!("worker panicked"))??);
    }
    Ok((started.elapsed(), all))
}

fn bench_server(
    url: &str,
    org: &str,
    invite: &str,
    label: &str,
    cases: usize,
    reads: usize,
    concurrency: usize,
) -> Result<()> {
    let (advisor, key) = setup_advisor(url, invite)?;
    // One 4 KiB report envelope (4 KiB plaintext, padded and sealed to the advisor).
    let mut plain = vec![0u8; 4096];
    os_rng().fill_bytes(&mut plain);
    let env = envelope::seal(
        &mut os_rng(),
        Purpose::Report,
        org,
        &[key.recipient()],
        &plain,
    )?;
    let env_b64 = Arc::new(b64(&env));
    let pow_on = {
        let c: Value = client()?.post(format!("{url}/api/v1/pow")).send()?.json()?;
        c["enabled"].as_bool().unwrap_or(true)
    };
    let tokens: Arc<Vec<[u8; 32]>> = Arc::new(
        (0..cases)
            .map(|_| {
                let mut t = [0u8; 32];
                os_rng().fill_bytes(&mut t);
                t
            })
            .collect(),
    );
    let solve_time = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let (url_c, org_c, adv_c, tok_c, st_c) = (
        url.to_owned(),
        org.to_owned(),
        advisor.clone(),
        Arc::clone(&tokens),
        Arc::clone(&solve_time),
    );
    let http = client()?;
    let (wall, lat) = run_parallel(cases, concurrency, move |i| {
        let token = meldpunt_crypto::pickup::CaseToken::from_bytes(tok_c[i]);
        let mut body = json!({"org": org_c, "advisors": [adv_c], "token_hash": b64(&token.hash()), "envelope": *env_b64});
        if pow_on {
            let s = Instant::now();
            let c: Value = http.post(format!("{url_c}/api/v1/pow")).send()?.json()?;
            let challenge = c["challenge"]
                .as_str()
                .ok_or_else(|| anyhow!("no challenge"))?
                .to_owned();
            let bytes = URL_SAFE_NO_PAD.decode(&challenge)?;
            let nonce = meldpunt_crypto::pow::solve(&bytes, |_| {})?;
            if let Ok(mut t) = st_c.lock() {
                *t += s.elapsed();
            }
            body["pow"] = json!({"challenge": challenge, "nonce": nonce});
        }
        let s = Instant::now();
        let r = http
            .post(format!("{url_c}/api/v1/cases"))
            .json(&body)
            .send()?;
        let d = s.elapsed();
        if r.status().as_u16() != 201 {
            bail!("create: {} {}", r.status(), r.text()?);
        }
        Ok(d)
    })?;
    let solving = solve_time.lock().map(|t| *t).unwrap_or_default();
    Stats {
        label: format!("create case, 4 KiB envelope, {label}"),
        count: cases,
        wall,
        latencies: lat,
        extra: if pow_on {
            format!(
                "client PoW solving {:.0} ms/case (included in throughput, not in latency)",
                solving.as_secs_f64() * 1000.0 / cases.max(1) as f64
            )
        } else {
            String::new()
        },
    }
    .print();

    let http = client()?;
    let url_c = url.to_owned();
    let tok_c = Arc::clone(&tokens);
    let (wall, lat) = run_parallel(reads, concurrency, move |i| {
        let token = meldpunt_crypto::pickup::CaseToken::from_bytes(tok_c[i % tok_c.len()]);
        let s = Instant::now();
        let r = http
            .get(format!("{url_c}/api/v1/case"))
            .header(
                "Authorization",
                format!("CaseToken {}", token.to_base64url().as_str()),
            )
            .send()?;
        let status = r.status().as_u16();
        let _ = r.bytes()?;
        let d = s.elapsed();
        if status != 200 {
            bail!("read: {status}");
        }
        Ok(d)
    })?;
    Stats {
        label: format!("read case, {label}"),
        count: reads,
        wall,
        latencies: lat,
        extra: String::new(),
    }
    .print();
    Ok(())
}

/// Durable single-row inserts into a fresh SQLite file with the server's settings.
fn sqlite_insert_rate(dir: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")?;
    let mut blob = vec![0u8; 4096 + 600];
    os_rng().fill_bytes(&mut blob);
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        conn.execute("INSERT INTO t (data) VALUES (?1)", [&blob])?;
        n += 1;
    }
    println!(
        "| raw SQLite insert, 4.6 KiB row, own transaction, WAL + synchronous=FULL | {n} | {:.0}/s | | | |",
        n as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Spawned {
    child: Child,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(bin: &Path, dir: &Path, pow: bool) -> Result<(Spawned, String, String)> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let sub = dir.join(if pow { "pow" } else { "nopow" });
    std::fs::create_dir_all(&sub)?;
    let mut cfg = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\nlog = \"warn\"\n[pow]\nenabled = {pow}\n",
        sub.join("m.db").display()
    );
    for class in ["public", "create", "case", "case_guess", "login", "advisor"] {
        cfg.push_str(&format!("[rate_limit.{class}]\nper_minute = 10000000\nburst = 1000000\nglobal_per_minute = 10000000\n"));
    }
    let cfg_path = sub.join("m.toml");
    std::fs::write(&cfg_path, cfg)?;
    let admin = |args: &[&str]| -> Result<String> {
        let out = Command::new(bin)
            .arg("--config")
            .arg(&cfg_path)
            .arg("admin")
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!("admin {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8(out.stdout)?)
    };
    admin(&["org", "create", "--slug", "bench", "--name", "Bench"])?;
    let invite = admin(&["advisor", "invite", "--org", "bench"])?
        .trim()
        .to_owned();
    let child = Command::new(bin)
        .arg("--config")
        .arg(&cfg_path)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start server")?;
    let spawned = Spawned { child };
    let url = format!("http://127.0.0.1:{port}");
    let http = client()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while http
        .get(format!("{url}/healthz"))
        .send()
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        if Instant::now() > deadline {
            bail!("server did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((spawned, url, invite))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = std::env::temp_dir().join(format!("meldpunt-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    println!("| what | n | throughput | p50 | p99 | note |");
    println!("|---|---|---|---|---|---|");
    let result = (|| -> Result<()> {
        if let Some(bin) = &args.spawn {
            for pow in [false, true] {
                let (server, url, invite) = spawn(bin, &tmp, pow)?;
                let (label, n) = if pow {
                    ("default PoW", args.pow_cases)
                } else {
                    ("PoW off", args.cases)
                };
                bench_server(
                    &url,
                    "bench",
                    &invite,
                    label,
                    n,
                    args.reads,
                    args.concurrency,
                )?;
                drop(server);
            }
        } else if let Some(url) = &args.url {
            let invite = args
                .invite
                .as_deref()
                .ok_or_else(|| anyhow!("--invite is needed with --url"))?;
            bench_server(
                url.trim_end_matches('/'),
                &args.org,
                invite,
                "as configured",
                args.cases,
                args.reads,
                args.concurrency,
            )?;
        }
        sqlite_insert_rate(&tmp)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}
