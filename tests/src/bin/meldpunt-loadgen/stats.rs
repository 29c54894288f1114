//! Figures of the load generator: the `--results` lines, server memory from `/proc`, latency
//! percentiles, and the concurrent runner that times the requests.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Figures for `--results`, in the order measured.
pub static RESULTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

pub fn record(key: &str, value: impl std::fmt::Display) {
    if let Ok(mut r) = RESULTS.lock() {
        r.push((key.to_owned(), value.to_string()));
    }
}

/// One field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
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
pub struct RssSampler {
    pid: Option<u32>,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(pid: Option<u32>) -> RssSampler {
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
    pub fn reset(&self) -> u64 {
        let now = self.pid.and_then(|p| status_kib(p, "VmRSS")).unwrap_or(0);
        self.peak.store(now, Ordering::Relaxed);
        now
    }

    /// Largest `VmRSS` seen since the last reset (and now), in KiB.
    pub fn peak(&self) -> u64 {
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

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub struct Stats {
    pub key: String,
    pub label: String,
    pub ok: usize,
    pub failed: usize,
    pub wall: Duration,
    pub latencies: Vec<Duration>,
    pub extra: String,
}

impl Stats {
    /// The figures of a run of [`run_concurrent`] (wall time, latencies, failures).
    pub fn of(key: String, label: String, run: (Duration, Vec<Duration>, usize), extra: String) -> Stats {
        let (wall, latencies, failed) = run;
        Stats {
            key,
            label,
            ok: latencies.len(),
            failed,
            wall,
            latencies,
            extra,
        }
    }

    pub fn print(&self) {
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
pub type Outcome = std::result::Result<Duration, String>;

/// Runs jobs `0..n` with `concurrency` in flight on the current (single-threaded) runtime.
pub async fn run_concurrent<F, Fut>(n: usize, concurrency: usize, job: F) -> (Duration, Vec<Duration>, usize)
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
        tasks.push(tokio::task::spawn_local(async move {
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
pub fn memory(pid: Option<u32>) -> String {
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

