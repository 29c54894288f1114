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
//! The client is one thread running an async HTTP client (reqwest on a single-threaded tokio
//! runtime) with `--concurrency` requests in flight over keep-alive connections, so that it
//! leaves the CPU to the server. With the proof of work on, all challenges are fetched and
//! solved first (on all cores, timed separately), then the creates are sent as fast as
//! without it: the figure is the server's rate with PoW verification, not the clients'.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

mod bench;
mod spawn;
mod stats;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Parser;

use crate::bench::bench_server;
use crate::spawn::{spawn, sqlite_insert_rate};
use crate::stats::RESULTS;

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


/// Runs `f` to completion on a single-threaded runtime, its tasks on this thread.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    #[allow(clippy::expect_used)]
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    tokio::task::LocalSet::new().block_on(&rt, f)
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
                block_on(bench_server(
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
            block_on(bench_server(
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

