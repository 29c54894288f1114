//! Part 1, `crypto`: the criterion bench `throughput`, read back from criterion's JSON.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use serde::Deserialize;

use super::common::{Sizes, target_dir};
use super::table::{Row, Section, fmt_rate, mibs};
use crate::util::{Result, cargo, run};

/// Criterion medians, in MiB/s of plaintext: (function id, size label) → MiB/s.
#[derive(Debug, Default)]
pub(crate) struct Criterion {
    pub(crate) rows: Vec<(String, String, f64)>,
    pub(crate) fresh: bool,
}

impl Criterion {
    pub(crate) fn get(&self, function: &str, size: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|(f, s, _)| f == function && s == size)
            .map(|r| r.2)
    }
}

pub(crate) const CRYPTO_SIZES: [&str; 3] = ["1KiB", "1MiB", "64MiB"];
pub(crate) const CRYPTO_APIS: [(&str, &str); 10] = [
    ("seal_into", "`seal_into`, all cores"),
    ("open_into", "`open_into`, all cores"),
    ("seal_stream", "`seal_stream`, all cores"),
    ("open_stream", "`open_stream`, all cores (the CLI's path)"),
    ("seal_into_1t", "`seal_into`, 1 thread"),
    ("open_into_1t", "`open_into`, 1 thread"),
    ("seal_stream_1t", "`seal_stream`, 1 thread"),
    ("open_stream_1t", "`open_stream`, 1 thread"),
    ("seal", "`seal` (fresh output buffer)"),
    ("open", "`open` (fresh buffer, wiped on drop)"),
];

pub(crate) fn bench_crypto(sizes: &Sizes, started: Instant) -> Result<(Section, Criterion)> {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "--package",
        "meldpunt-crypto",
        "--bench",
        "throughput",
    ]);
    if sizes.quick {
        cmd.args([
            "--",
            "crypto/(1KiB|1MiB)/(raw_aead|seal_into|open_into|seal_stream_1t)/",
        ]);
    }
    run(&mut cmd)?;
    let since = SystemTime::now() - started.elapsed();
    let c = read_criterion(Some(since))?;
    Ok((crypto_section(&c), c))
}

/// Reads every `new/benchmark.json` + `new/estimates.json` under target/criterion/crypto_*
/// (only those written since `since`, if given).
pub(crate) fn read_criterion(since: Option<SystemTime>) -> Result<Criterion> {
    let dir = target_dir().join("criterion");
    let mut files = Vec::new();
    find_files(&dir, "benchmark.json", &mut files);
    let mut c = Criterion {
        rows: Vec::new(),
        fresh: since.is_some(),
    };
    for bench in files {
        let Some(new) = bench.parent().filter(|p| p.ends_with("new")) else {
            continue;
        };
        let estimates = new.join("estimates.json");
        if let Some(since) = since {
            let fresh = fs::metadata(&estimates)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            if !fresh {
                continue;
            }
        }
        let (Ok(b), Ok(e)) = (fs::read_to_string(&bench), fs::read_to_string(&estimates)) else {
            continue;
        };
        if let Some(row) = parse_result(&b, &e) {
            c.rows.push(row);
        }
    }
    if c.rows.is_empty() {
        return Err(format!(
            "no criterion results for the crypto bench under {}",
            dir.display()
        ));
    }
    Ok(c)
}

pub(crate) fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_files(&p, name, out);
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
}

/// The part of criterion's `new/benchmark.json` that names a result.
#[derive(Debug, Deserialize)]
pub(crate) struct Benchmark {
    pub(crate) group_id: String,
    #[serde(default)]
    pub(crate) function_id: Option<String>,
    #[serde(default)]
    pub(crate) throughput: Option<Throughput>,
}

/// `{"Bytes": n}` (other throughput kinds leave `bytes` empty).
#[derive(Debug, Deserialize)]
pub(crate) struct Throughput {
    #[serde(rename = "Bytes", default)]
    pub(crate) bytes: Option<f64>,
}

/// The part of criterion's `new/estimates.json` that is read: the median, in nanoseconds.
#[derive(Debug, Deserialize)]
pub(crate) struct Estimates {
    pub(crate) median: Estimate,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Estimate {
    pub(crate) point_estimate: f64,
}

/// One result of the crypto bench from the text of its `benchmark.json` and `estimates.json`:
/// (function id, size label, MiB/s of plaintext at the median). `None` for another group, a
/// result without a byte throughput, or JSON that does not parse.
pub(crate) fn parse_result(benchmark: &str, estimates: &str) -> Option<(String, String, f64)> {
    let b: Benchmark = serde_json::from_str(benchmark).ok()?;
    let e: Estimates = serde_json::from_str(estimates).ok()?;
    let size = b.group_id.strip_prefix("crypto/")?;
    let bytes = b.throughput?.bytes?;
    let ns = e.median.point_estimate;
    Some((
        b.function_id.unwrap_or_default(),
        size.to_owned(),
        mibs(bytes, ns / 1e9),
    ))
}

pub(crate) fn crypto_section(c: &Criterion) -> Section {
    let mut rows = Vec::new();
    let raw: Vec<Option<f64>> = CRYPTO_SIZES.iter().map(|s| c.get("raw_aead", s)).collect();
    for (i, id) in CRYPTO_SIZES.iter().enumerate() {
        let Some(r) = raw.get(i).copied().flatten() else {
            continue;
        };
        let size = id.replace("KiB", " KiB").replace("MiB", " MiB");
        rows.push(Row::info(
            format!("raw ChaCha20-Poly1305, {size}, 1 thread (reference)"),
            fmt_rate(r),
        ));
        for (api, label) in CRYPTO_APIS {
            let Some(v) = c.get(api, id) else {
                continue;
            };
            let ratio = v / r;
            let row = Row::info(format!("{label}, {size}"), fmt_rate(v))
                .beside(format!("raw AEAD {}", fmt_rate(r)), Some(ratio));
            rows.push(if *id == "1KiB" {
                row
            } else {
                row.goal("≥ 0.9× raw AEAD", ratio >= 0.9)
            });
        }
    }
    Section {
        title: "1. Crypto: envelope seal and open beside raw ChaCha20-Poly1305".into(),
        note: "Criterion median of `cargo bench -p meldpunt-crypto --bench throughput` \
               (crypto/benches/throughput.rs), plaintext bytes per second; the reference is \
               ChaCha20-Poly1305 from the same crate over a buffer of the same size on one thread. \
               One recipient. No goal at 1 KiB (the fixed HPKE stanza dominates)."
            .into(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_result;

    const BENCHMARK: &str = include_str!("testdata/benchmark.json");
    const ESTIMATES: &str = include_str!("testdata/estimates.json");

    #[test]
    fn a_criterion_result_is_read_from_its_json() {
        let (function, size, mib_s) = parse_result(BENCHMARK, ESTIMATES).unwrap();
        assert_eq!(function, "seal_into");
        assert_eq!(size, "1MiB");
        // 1 MiB at a median of 500 µs: 2000 MiB/s.
        assert!((mib_s - 2000.0).abs() < 1e-9, "{mib_s}");
    }

    #[test]
    fn other_groups_and_broken_json_are_skipped() {
        let other = BENCHMARK.replace("crypto/1MiB", "hpke/1MiB");
        assert_eq!(parse_result(&other, ESTIMATES), None);
        let elements = BENCHMARK.replace("\"Bytes\"", "\"Elements\"");
        assert_eq!(parse_result(&elements, ESTIMATES), None);
        assert_eq!(parse_result("{", ESTIMATES), None);
        assert_eq!(parse_result(BENCHMARK, "{\"mean\": {}}"), None);
    }
}
