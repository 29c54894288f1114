//! Load generator for a running Meldpunt server: create-case throughput and p50/p99 latency
//! with 4 KiB envelopes, case-read latency, server memory (VmRSS/VmHWM), and the raw SQLite
//! durable-insert rate of this machine measured in the same run for comparison (one insert
//! per fsynced transaction, and batched). Talks only to the URL it is given (loopback in
//! practice).
//!
//! ```text
//! meldpunt-loadgen --url http://127.0.0.1:8080 --org acme --invite XXXX-XXXX-… [--pid N]  # an existing server
//! meldpunt-loadgen --spawn target/release/meldpunt                                        # two temporary servers
//! ```
//!
//! With `--spawn` it starts the given binary twice on a free loopback port with a temporary
//! database — once with the proof of work off, once with the default (skipped with
//! `--pow-cases 0`) — with rate and attachment limits raised, and stops each afterwards.
//! Numbers are printed, never asserted; `--results FILE` also writes them as `key<TAB>value`
//! lines for `cargo xtask bench`.
//!
//! Server memory: `VmRSS` is sampled from `/proc/PID/status` every 10 ms during each phase
//! (peak), and read at idle before the load and after it. With the proof of work off, one
//! attachment of `--attachment-mib` MiB is then uploaded and downloaded (reporter API) while
//! the server's memory is sampled: the peak growth over idle shows whether attachments stream.
//!
//! The client is one thread running an async HTTP client (reqwest on the actix/tokio
//! runtime) with `--concurrency` requests in flight over keep-alive connections, so that it
//! leaves the CPU to the server. With the proof of work on, all challenges are fetched and
//! solved first (on all cores, timed separately), then the creates are sent as fast as
//! without it: the figure is the server's rate with PoW verification, not the clients'.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
    /// Process id of the server given with --url, for its memory figures.
    #[arg(long)]
    pid: Option<u32>,
    /// Start this `meldpunt` binary (PoW off, then default PoW) instead of using --url.
    #[arg(long)]
    spawn: Option<PathBuf>,
    /// Cases to create with the proof of work off (or with --url).
    #[arg(long, default_value_t = 20_000)]
    cases: usize,
    /// Cases to create with the default proof of work (each needs a solved challenge).
    #[arg(long, default_value_t = 300)]
    pow_cases: usize,
    /// Case reads per run.
    #[arg(long, default_value_t = 20_000)]
    reads: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds for each raw SQLite measurement.
    #[arg(long, default_value_t = 3)]
    raw_secs: u64,
    /// Rows per transaction in the batched raw SQLite measurement.
    #[arg(long, default_value_t = 64)]
    raw_batch: usize,
    /// Size of the attachment uploaded and downloaded with the proof of work off (0: none).
    #[arg(long, default_value_t = 100)]
    attachment_mib: usize,
    /// Also write every figure to this file as `key<TAB>value` lines.
    #[arg(long)]
    results: Option<PathBuf>,
}

/// Figures for `--results`, in the order measured.
static RESULTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn record(key: &str, value: impl std::fmt::Display) {
    if let Ok(mut r) = RESULTS.lock() {
        r.push((key.to_owned(), value.to_string()));
    }
}

/// One field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.trim_start_matches(field)
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Samples a process's `VmRSS` every 10 ms on a thread and keeps the largest value since the
/// last [`RssSampler::reset`].
struct RssSampler {
    pid: Option<u32>,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: Option<u32>) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = pid.map(|pid| {
            let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = status_kib(pid, "VmRSS") {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        });
        RssSampler { pid, peak, stop, thread }
    }

    /// Current `VmRSS` in KiB; starts a new peak from it.
    fn reset(&self) -> u64 {
        let now = self.pid.and_then(|p| status_kib(p, "VmRSS")).unwrap_or(0);
        self.peak.store(now, Ordering::Relaxed);
        now
    }

    /// Largest `VmRSS` seen since the last reset (and now), in KiB.
    fn peak(&self) -> u64 {
        let now = self.pid.and_then(|p| status_kib(p, "VmRSS")).unwrap_or(0);
        self.peak.fetch_max(now, Ordering::Relaxed).max(now)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
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

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()?)
}

/// Registers a bench advisor and returns (advisor id, its decryption key).
async fn setup_advisor(http: &reqwest::Client, url: &str, invite: &str) -> Result<(String, DecryptionKey)> {
    let mut rng = os_rng();
    let identity = IdentityKey::generate(&mut rng);
    let key = DecryptionKey::generate(&mut rng);
    let bundle = identity.make_bundle(&key.recipient(), now() - 60, now() + 86_400)?;
    let r = http
        .post(format!("{url}/api/v1/advisor/register"))
        .json(&json!({
            "invite": invite,
            "identity": b64(&identity.public().to_bytes()),
            "bundle": b64(&bundle.to_bytes()),
            "profile": {"display_name": "Bench"},
        }))
        .send()
        .await?;
    if r.status().as_u16() != 201 {
        bail!("register: {} {}", r.status(), r.text().await?);
    }
    let v: Value = r.json().await?;
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Stats {
    key: String,
    label: String,
    ok: usize,
    failed: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    extra: String,
}

impl Stats {
    fn print(&self) {
        let mut l = self.latencies.clone();
        l.sort();
        let failed = if self.failed > 0 {
            format!("; **{} failed**", self.failed)
        } else {
            String::new()
        };
        let rate = self.ok as f64 / self.wall.as_secs_f64();
        let (p50, p99) = (ms(percentile(&l, 0.5)), ms(percentile(&l, 0.99)));
        println!(
            "| {} | {} | {rate:.0}/s | {p50:.2} ms | {p99:.2} ms | {}{} |",
            self.label, self.ok, self.extra, failed,
        );
        let k = &self.key;
        record(&format!("{k}_n"), self.ok);
        record(&format!("{k}_failed"), self.failed);
        record(&format!("{k}_rate"), format!("{rate:.1}"));
        record(&format!("{k}_p50_ms"), format!("{p50:.2}"));
        record(&format!("{k}_p99_ms"), format!("{p99:.2}"));
    }
}

/// Outcome of one request: its latency, or an error to count (the first few are printed).
type Outcome = std::result::Result<Duration, String>;

/// Runs jobs `0..n` with `concurrency` in flight on the current (single-threaded) runtime.
async fn run_concurrent<F, Fut>(n: usize, concurrency: usize, job: F) -> (Duration, Vec<Duration>, usize)
where
    F: Fn(usize) -> Fut + 'static,
    Fut: std::future::Future<Output = Outcome> + 'static,
{
    let job = std::rc::Rc::new(job);
    let next = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let printed = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let job = std::rc::Rc::clone(&job);
        let next = std::rc::Rc::clone(&next);
        let printed = std::rc::Rc::clone(&printed);
        tasks.push(actix_web::rt::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0usize;
            loop {
                let i = next.get();
                if i >= n {
                    return (lat, failed);
                }
                next.set(i + 1);
                match job(i).await {
                    Ok(d) => lat.push(d),
                    Err(e) => {
                        if printed.get() < 3 {
                            printed.set(printed.get() + 1);
                            eprintln!("request failed: {e}");
                        }
                        failed += 1;
                    }
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok((lat, f)) => {
                all.extend(lat);
                failed += f;
            }
            Err(_) => failed += 1,
        }
    }
    (started.elapsed(), all, failed)
}

/// `VmRSS` and `VmHWM` of a process, as printed.
fn memory(pid: Option<u32>) -> String {
    let Some(pid) = pid else {
        return "n/a (no --pid)".into();
    };
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return "n/a".into();
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.trim_start_matches(name).trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

/// Fetches and solves `n` challenges on all cores; returns the solutions and the time taken.
async fn solve_challenges(http: &reqwest::Client, url: &str, n: usize) -> Result<(Vec<Value>, Duration)> {
    let started = Instant::now();
    let mut challenges = Vec::with_capacity(n);
    for _ in 0..n {
        let c: Value = http.post(format!("{url}/api/v1/pow")).send().await?.json().await?;
        challenges.push(
            c["challenge"]
                .as_str()
                .ok_or_else(|| anyhow!("no challenge"))?
                .to_owned(),
        );
    }
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let challenges = Arc::new(challenges);
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let challenges = Arc::clone(&challenges);
            let next = Arc::clone(&next);
            std::thread::spawn(move || -> Result<Vec<(usize, Value)>> {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(challenge) = challenges.get(i) else {
                        return Ok(out);
                    };
                    let bytes = URL_SAFE_NO_PAD.decode(challenge)?;
                    let nonce = meldpunt_crypto::pow::solve(&bytes, |_| {})?;
                    out.push((i, json!({"challenge": challenge, "nonce": nonce})));
                }
            })
        })
        .collect();
    let mut solved = vec![Value::Null; n];
    for h in handles {
        for (i, v) in h.join().map_err(|_| anyhow!("solver panicked"))?? {
            solved[i] = v;
        }
    }
    Ok((solved, started.elapsed()))
}

#[allow(clippy::too_many_arguments)]
async fn bench_server(
    url: &str,
    org: &str,
    invite: &str,
    label: &str,
    cases: usize,
    reads: usize,
    concurrency: usize,
    pid: Option<u32>,
    prefix: &str,
    attachment_mib: usize,
) -> Result<()> {
    let http = client()?;
    let (advisor, key) = setup_advisor(&http, url, invite).await?;
    let sampler = RssSampler::start(pid);
    let idle = sampler.reset();
    println!("| server memory at idle, {label} | | | | | {} |", memory(pid));
    record(&format!("{prefix}idle_rss_kib"), idle);
    // One 4 KiB report envelope (4 KiB plaintext, padded and sealed to the advisor).
    let mut plain = vec![0u8; 4096];
    os_rng().fill_bytes(&mut plain);
    let env = envelope::seal(&mut os_rng(), Purpose::Report, org, &[key.recipient()], &plain)?;
    let env_len = env.len();
    let env_b64 = b64(&env);
    let pow_on = {
        let c: Value = http.post(format!("{url}/api/v1/pow")).send().await?.json().await?;
        c["enabled"].as_bool().unwrap_or(true)
    };
    let tokens: Vec<[u8; 32]> = (0..cases)
        .map(|_| {
            let mut t = [0u8; 32];
            os_rng().fill_bytes(&mut t);
            t
        })
        .collect();
    // Request bodies are built before the clock starts: the client's work is the HTTP only.
    let mut extra = format!("envelope {env_len} B, {concurrency} in flight");
    let pows = if pow_on {
        let (pows, took) = solve_challenges(&http, url, cases).await?;
        extra.push_str(&format!(
            "; {cases} challenges solved beforehand in {:.1} s on all cores",
            took.as_secs_f64()
        ));
        pows
    } else {
        Vec::new()
    };
    let bodies: Vec<Vec<u8>> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let token = meldpunt_crypto::pickup::CaseToken::from_bytes(*t);
            let mut body = json!({"org": org, "advisors": [advisor], "token_hash": b64(&token.hash()), "envelope": env_b64});
            if let Some(p) = pows.get(i) {
                body["pow"] = p.clone();
            }
            serde_json::to_vec(&body).unwrap_or_default()
        })
        .collect();
    let bodies = std::rc::Rc::new(bodies);
    // A fresh connection pool: connections left idle while solving were closed by the server.
    let http = client()?;
    sampler.reset();
    let (h, u) = (http.clone(), url.to_owned());
    let (wall, lat, failed) = run_concurrent(cases, concurrency, move |i| {
        let (h, u, bodies) = (h.clone(), u.clone(), std::rc::Rc::clone(&bodies));
        async move {
            let body = bodies.get(i).cloned().unwrap_or_default();
            let s = Instant::now();
            let r = h
                .post(format!("{u}/api/v1/cases"))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.bytes().await.map_err(|e| e.to_string())?;
            let d = s.elapsed();
            if status != 201 {
                return Err(format!("create: {status} {}", String::from_utf8_lossy(&text)));
            }
            Ok(d)
        }
    })
    .await;
    let create_peak = sampler.peak();
    Stats {
        key: format!("{prefix}create"),
        label: format!("create case, 4 KiB envelope, {label}"),
        ok: lat.len(),
        failed,
        wall,
        latencies: lat,
        extra,
    }
    .print();

    let auth: Vec<String> = tokens
        .iter()
        .map(|t| {
            let token = meldpunt_crypto::pickup::CaseToken::from_bytes(*t);
            format!("CaseToken {}", token.to_base64url().as_str())
        })
        .collect();
    let first_auth = auth.first().cloned();
    let auth = std::rc::Rc::new(auth);
    let (h, u) = (http.clone(), url.to_owned());
    let (wall, lat, failed) = run_concurrent(reads, concurrency, move |i| {
        let (h, u, auth) = (h.clone(), u.clone(), std::rc::Rc::clone(&auth));
        async move {
            let a = auth.get(i % auth.len().max(1)).cloned().unwrap_or_default();
            let s = Instant::now();
            let r = h
                .get(format!("{u}/api/v1/case"))
                .header("Authorization", a)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let _ = r.bytes().await.map_err(|e| e.to_string())?;
            let d = s.elapsed();
            if status != 200 {
                return Err(format!("read: {status}"));
            }
            Ok(d)
        }
    })
    .await;
    let read_peak = sampler.peak();
    Stats {
        key: format!("{prefix}read"),
        label: format!("read case (one 4 KiB message), {label}"),
        ok: lat.len(),
        failed,
        wall,
        latencies: lat,
        extra: format!("{concurrency} in flight"),
    }
    .print();
    let peak = create_peak.max(read_peak);
    let hwm = pid.and_then(|p| status_kib(p, "VmHWM")).unwrap_or(0);
    println!(
        "| server memory under load, {label} | | | | | peak VmRSS sampled {} (creates {}, reads {}); VmHWM {} |",
        mib(peak),
        mib(create_peak),
        mib(read_peak),
        mib(hwm)
    );
    println!("| server memory after load, {label} | | | | | {} |", memory(pid));
    record(&format!("{prefix}load_peak_rss_kib"), peak);
    record(&format!("{prefix}load_hwm_kib"), hwm);
    record(&format!("{prefix}after_rss_kib"), sampler.reset());
    if attachment_mib > 0 && !pow_on {
        let auth = first_auth.ok_or_else(|| anyhow!("an attachment needs a case: use --cases 1 or more"))?;
        bench_attachment(&http, url, org, &key, &auth, attachment_mib, &sampler, label).await?;
    }
    Ok(())
}

/// Uploads and downloads one attachment of `size_mib` MiB to a case (reporter API), sampling
/// the server's memory: peak growth over idle during each.
#[allow(clippy::too_many_arguments)]
async fn bench_attachment(
    http: &reqwest::Client,
    url: &str,
    org: &str,
    key: &DecryptionKey,
    auth: &str,
    size_mib: usize,
    sampler: &RssSampler,
    label: &str,
) -> Result<()> {
    let mut plain = vec![0u8; size_mib << 20];
    os_rng().fill_bytes(&mut plain);
    let env = actix_web::web::Bytes::from(envelope::seal(
        &mut os_rng(),
        Purpose::Attachment,
        org,
        &[key.recipient()],
        &plain,
    )?);
    drop(plain);
    let mut id = [0u8; 16];
    os_rng().fill_bytes(&mut id);
    let path = format!("{url}/api/v1/case/attachments/{}", b64(&id));
    // Let the server settle after the load (freed memory, idle connections) before idle.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let idle = sampler.reset();
    let started = Instant::now();
    let r = http
        .put(&path)
        .header("Authorization", auth)
        .header("Content-Type", "application/octet-stream")
        .body(env.clone())
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    let up = started.elapsed();
    if status != 201 {
        bail!("attachment upload: {status} {text}");
    }
    let up_peak = sampler.peak();
    let down_idle = sampler.reset();
    let started = Instant::now();
    let mut r = http.get(&path).header("Authorization", auth).send().await?;
    if r.status().as_u16() != 200 {
        bail!("attachment download: {}", r.status());
    }
    let mut at = 0usize;
    while let Some(chunk) = r.chunk().await? {
        let end = at + chunk.len();
        if env.get(at..end) != Some(&chunk[..]) {
            bail!("attachment download: bytes differ at {at}");
        }
        at = end;
    }
    let down = started.elapsed();
    if at != env.len() {
        bail!("attachment download: {at} of {} bytes", env.len());
    }
    let down_peak = sampler.peak();
    let mibs = |d: Duration| env.len() as f64 / (1 << 20) as f64 / d.as_secs_f64();
    println!(
        "| attachment upload, {} B envelope, {label} | 1 | {:.0} MiB/s | | | VmRSS idle {}, peak {} (+{}) |",
        env.len(),
        mibs(up),
        mib(idle),
        mib(up_peak),
        mib(up_peak.saturating_sub(idle))
    );
    println!(
        "| attachment download, same, {label} | 1 | {:.0} MiB/s | | | VmRSS idle {}, peak {} (+{}) |",
        mibs(down),
        mib(down_idle),
        mib(down_peak),
        mib(down_peak.saturating_sub(down_idle))
    );
    record("att_mib", size_mib);
    record("att_bytes", env.len());
    record("att_idle_rss_kib", idle);
    record("att_up_peak_rss_kib", up_peak);
    record("att_up_mib_s", format!("{:.1}", mibs(up)));
    record("att_down_idle_rss_kib", down_idle);
    record("att_down_peak_rss_kib", down_peak);
    record("att_down_mib_s", format!("{:.1}", mibs(down)));
    Ok(())
}

/// Durable inserts of 4.6 KiB rows into a fresh SQLite file with the server's settings
/// (WAL, synchronous=FULL): one row per transaction, then `batch` rows per transaction.
fn sqlite_insert_rate(dir: &Path, secs: u64, batch: usize) -> Result<()> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")?;
    let mut blob = vec![0u8; 4096 + 600];
    os_rng().fill_bytes(&mut blob);
    let limit = Duration::from_secs(secs);

    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < limit {
        conn.prepare_cached("INSERT INTO t (data) VALUES (?1)")?
            .execute([&blob])?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    record("raw_single_rate", format!("{rate:.1}"));
    println!(
        "| raw SQLite insert, 4.6 KiB row, one row per transaction (= per fsync), WAL + synchronous=FULL | {n} | {rate:.0}/s | | | {rate:.0} commits/s |"
    );

    let started = Instant::now();
    let (mut n, mut commits) = (0u64, 0u64);
    while started.elapsed() < limit {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for _ in 0..batch {
            conn.prepare_cached("INSERT INTO t (data) VALUES (?1)")?
                .execute([&blob])?;
        }
        conn.execute_batch("COMMIT")?;
        n += batch as u64;
        commits += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    record("raw_batch", batch);
    record("raw_batch_rate", format!("{:.1}", n as f64 / secs));
    record("raw_batch_commits", format!("{:.1}", commits as f64 / secs));
    println!(
        "| raw SQLite insert, 4.6 KiB row, {batch} rows per transaction, WAL + synchronous=FULL | {n} | {:.0}/s | | | {:.0} commits/s |",
        n as f64 / secs,
        commits as f64 / secs
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
        "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\nlog = \"warn\"\nmetrics = {{ enabled = false }}\n[pow]\nenabled = {pow}\n",
        sub.join("m.db").display()
    );
    // Room for the attachment phase (the defaults are 25 MiB per attachment, 100 per case).
    cfg.push_str("[limits]\nattachment_bytes = 1073741824\ncase_attachment_bytes = 1073741824\n[quota]\ncase_bytes = 4294967296\norg_bytes = 1099511627776\n");
    for class in ["public", "create", "case", "case_guess", "login", "advisor"] {
        cfg.push_str(&format!("[rate_limit.{class}]\nper_minute = 10000000\nburst = 1000000\nglobal_per_minute = 10000000\n"));
    }
    let cfg_path = sub.join("m.toml");
    std::fs::write(&cfg_path, cfg)?;
    // The server reads every MELDPUNT_* variable as a setting: the configuration here is the
    // file alone (and an unknown one, e.g. MELDPUNT_BENCH_QUICK of xtask, would be refused).
    let server = || {
        let mut c = Command::new(bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MELDPUNT_") {
                c.env_remove(k);
            }
        }
        c
    };
    let admin = |args: &[&str]| -> Result<String> {
        let out = server()
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
    let child = server()
        .arg("--config")
        .arg(&cfg_path)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start server")?;
    let spawned = Spawned { child };
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if up {
            break;
        }
        if Instant::now() > deadline {
            bail!("server did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((spawned, url, invite))
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    format!("nproc {nproc}, CPU `{cpu}`, loadavg {}", loadavg())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = std::env::temp_dir().join(format!("meldpunt-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    println!("machine: {}", machine());
    println!();
    println!("| what | n | throughput | p50 | p99 | note |");
    println!("|---|---|---|---|---|---|");
    let result = (|| -> Result<()> {
        if let Some(bin) = &args.spawn {
            for pow in [false, true] {
                if pow && args.pow_cases == 0 {
                    continue;
                }
                let (server, url, invite) = spawn(bin, &tmp, pow)?;
                let (label, n, prefix) = if pow {
                    ("default PoW", args.pow_cases, "pow_")
                } else {
                    ("PoW off", args.cases, "")
                };
                let pid = Some(server.child.id());
                actix_web::rt::System::new().block_on(bench_server(
                    &url,
                    "bench",
                    &invite,
                    label,
                    n,
                    args.reads,
                    args.concurrency,
                    pid,
                    prefix,
                    args.attachment_mib,
                ))?;
                drop(server);
            }
        } else if let Some(url) = &args.url {
            let invite = args
                .invite
                .as_deref()
                .ok_or_else(|| anyhow!("--invite is needed with --url"))?;
            actix_web::rt::System::new().block_on(bench_server(
                url.trim_end_matches('/'),
                &args.org,
                invite,
                "as configured",
                args.cases,
                args.reads,
                args.concurrency,
                args.pid,
                "",
                args.attachment_mib,
            ))?;
        }
        sqlite_insert_rate(&tmp, args.raw_secs, args.raw_batch)
    })();
    println!();
    println!("loadavg at the end: {}", loadavg());
    let _ = std::fs::remove_dir_all(&tmp);
    if let Some(path) = &args.results {
        let lines: String = RESULTS
            .lock()
            .map(|r| r.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect())
            .unwrap_or_default();
        std::fs::write(path, lines).with_context(|| format!("cannot write {}", path.display()))?;
    }
    result
}
