//! The measured phases against one server: a bench advisor, case creation (with solved
//! challenges when the proof of work is on), case reads, and an attachment's upload and download.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use base64ct::{Base64UrlUnpadded, Encoding};
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use meldpunt_tests::{b64, now};
use serde_json::{Value, json};

use crate::stats::{RssSampler, Stats, memory, mib, record, run_concurrent, status_kib};

pub fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()?)
}

/// Registers a bench advisor and returns (advisor id, its decryption key).
/// Sends `req` and reads the whole answer: its status, its body and the time from the send to
/// the last byte.
async fn timed(req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>, Duration), String> {
    let s = Instant::now();
    let r = req.send().await.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    let d = s.elapsed();
    Ok((status, body.to_vec(), d))
}

pub async fn setup_advisor(http: &reqwest::Client, url: &str, invite: &str) -> Result<(String, DecryptionKey)> {
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

/// Fetches and solves `n` challenges on all cores; returns the solutions and the time taken.
pub async fn solve_challenges(http: &reqwest::Client, url: &str, n: usize) -> Result<(Vec<Value>, Duration)> {
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
                    let bytes = Base64UrlUnpadded::decode_vec(challenge).map_err(|e| anyhow!("challenge: {e}"))?;
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
pub async fn bench_server(
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
            let req = h
                .post(format!("{u}/api/v1/cases"))
                .header("Content-Type", "application/json")
                .body(body);
            let (status, text, d) = timed(req).await?;
            if status != 201 {
                return Err(format!("create: {status} {}", String::from_utf8_lossy(&text)));
            }
            Ok(d)
        }
    })
    .await;
    let create_peak = sampler.peak();
    let what = format!("create case, 4 KiB envelope, {label}");
    Stats::of(format!("{prefix}create"), what, (wall, lat, failed), extra).print();

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
            let req = h.get(format!("{u}/api/v1/case")).header("Authorization", a);
            let (status, _, d) = timed(req).await?;
            if status != 200 {
                return Err(format!("read: {status}"));
            }
            Ok(d)
        }
    })
    .await;
    let read_peak = sampler.peak();
    let what = format!("read case (one 4 KiB message), {label}");
    Stats::of(format!("{prefix}read"), what, (wall, lat, failed), format!("{concurrency} in flight")).print();
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
pub async fn bench_attachment(
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
    let env = bytes::Bytes::from(envelope::seal(
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
    tokio::time::sleep(Duration::from_millis(500)).await;
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
