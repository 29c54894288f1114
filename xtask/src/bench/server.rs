//! Parts 4–6, `server`: the load generator against a release server.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::common::{MIB, Sizes, build_release_bins, release_bin, remove};
use super::table::{Row, Section, fmt_rate};
use crate::util::{Result, run};

pub(crate) fn bench_server(sizes: &Sizes, work: &Path) -> Result<Vec<Section>> {
    build_release_bins()?;
    let results = work.join("server.tsv");
    remove(&results);
    run(Command::new(release_bin("meldpunt-loadgen"))
        .arg("--spawn")
        .arg(release_bin("meldpunt"))
        .args(["--cases", &sizes.cases.to_string()])
        .args(["--reads", &sizes.reads.to_string()])
        .args(["--pow-cases", &sizes.pow_cases.to_string()])
        .args(["--raw-secs", &sizes.raw_secs.to_string()])
        .args(["--attachment-mib", &sizes.attachment_mib.to_string()])
        .args(["--concurrency", "64", "--results"])
        .arg(&results))?;
    let text = fs::read_to_string(&results)
        .map_err(|e| format!("cannot read {}: {e}", results.display()))?;
    let get = |k: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('\t'))
            .and_then(|v| v.trim().parse().ok())
    };
    let need = |k: &str| get(k).ok_or_else(|| format!("the load generator did not report {k}"));
    let mib = |kib: f64| format!("{:.1} MiB", kib / 1024.0);

    let raw1 = need("raw_single_rate")?;
    let rawb = need("raw_batch_rate")?;
    let batch = get("raw_batch").unwrap_or(64.0);
    let create = need("create_rate")?;
    let read = need("read_rate")?;
    let (c50, c99) = (need("create_p50_ms")?, need("create_p99_ms")?);
    let (r50, r99) = (need("read_p50_ms")?, need("read_p99_ms")?);
    let failed = get("create_failed").unwrap_or(0.0) + get("read_failed").unwrap_or(0.0);
    let mut rows = vec![
        Row::info(
            "raw SQLite durable insert, 4.6 KiB row, one row per transaction (= one fsync), WAL + synchronous=FULL (reference)",
            format!("{raw1:.0}/s"),
        ),
        Row::info(
            format!("raw SQLite durable insert, {batch:.0} rows per transaction (reference)"),
            format!("{rawb:.0}/s"),
        ),
        Row::info(
            format!(
                "create case, 4 KiB envelope, PoW off, 64 in flight ({:.0} cases)",
                need("create_n")?
            ),
            format!("{create:.0}/s"),
        )
        .beside(
            format!("raw 1 row/fsync {raw1:.0}/s; batched {rawb:.0}/s"),
            Some(create / raw1),
        )
        .goal("≥ 3,000/s", create >= 3000.0),
        Row::info(
            "create case: p50 / p99 latency",
            format!("{c50:.1} / {c99:.1} ms"),
        )
        .goal("p99 < 50 ms", c99 < 50.0),
        Row::info(
            format!(
                "read case (one 4 KiB message), 64 in flight ({:.0} reads)",
                need("read_n")?
            ),
            format!("{read:.0}/s"),
        ),
        Row::info(
            "read case: p50 / p99 latency",
            format!("{r50:.1} / {r99:.1} ms"),
        )
        .goal("p99 < 50 ms", r99 < 50.0),
    ];
    if failed > 0.0 {
        rows.push(Row::info("requests failed", format!("{failed:.0}")).goal("none", false));
    }
    if let (Some(rate), Some(p99)) = (get("pow_create_rate"), get("pow_create_p99_ms")) {
        rows.push(Row::info(
            format!(
                "create case with the default proof of work (Argon2id 4 MiB verified per create; {:.0} cases, solved beforehand)",
                get("pow_create_n").unwrap_or(0.0)
            ),
            format!("{rate:.0}/s, p50 {:.0} ms, p99 {p99:.0} ms", get("pow_create_p50_ms").unwrap_or(0.0)),
        ));
    }
    let load = Section {
        title: "4. Server: create and read cases, 64 concurrent clients".into(),
        note: "`meldpunt-loadgen --spawn` on a release build over loopback (one async client \
               thread, keep-alive, request bodies built beforehand), rate limits raised; every 201 \
               is sent after its transaction is committed with `synchronous=FULL`. The raw SQLite \
               rates are measured in the same run on the same disk."
            .into(),
        rows,
    };

    let idle = need("idle_rss_kib")?;
    let peak = need("load_peak_rss_kib")?;
    let mut rows = vec![
        Row::info("server RSS at idle (PoW off, before the load)", mib(idle)),
        Row::info(
            "server peak RSS during the create and read load (VmRSS sampled every 10 ms)",
            format!("{} (VmHWM {})", mib(peak), mib(need("load_hwm_kib")?)),
        )
        .goal("< 64 MiB", peak < 64.0 * 1024.0),
        Row::info("server RSS after the load", mib(need("after_rss_kib")?)),
    ];
    if let Some(pow_peak) = get("pow_load_peak_rss_kib") {
        rows.push(
            Row::info(
                "server peak RSS during the load with the default proof of work",
                format!(
                    "{} (idle {}, after {})",
                    mib(pow_peak),
                    mib(get("pow_idle_rss_kib").unwrap_or(0.0)),
                    mib(get("pow_after_rss_kib").unwrap_or(0.0))
                ),
            )
            .goal("< 64 MiB", pow_peak < 64.0 * 1024.0),
        );
    }
    let memory = Section {
        title: "5. Server memory at idle and under that load".into(),
        note: String::new(),
        rows,
    };

    let mut sections = vec![load, memory];
    if let Some(att) = get("att_bytes") {
        let att_mib = get("att_mib").unwrap_or(att / MIB);
        let up = need("att_up_peak_rss_kib")? - need("att_idle_rss_kib")?;
        let down = need("att_down_peak_rss_kib")? - need("att_down_idle_rss_kib")?;
        let limit = 16.0 * 1024.0;
        sections.push(Section {
            title: format!(
                "6. Server memory while a {att_mib:.0} MiB attachment ({att:.0} B envelope) is uploaded and downloaded"
            ),
            note: "Reporter API (`PUT`/`GET /api/v1/case/attachments/{id}`), one request at a time \
                   after the load above; peak VmRSS sampled every 10 ms minus VmRSS just before."
                .into(),
            rows: vec![
                Row::info(
                    format!("upload {att_mib:.0} MiB: peak RSS growth over idle"),
                    format!("+{} (at {})", mib(up.max(0.0)), fmt_rate(need("att_up_mib_s")?)),
                )
                .goal("constant memory: < 16 MiB", up < limit),
                Row::info(
                    format!("download {att_mib:.0} MiB: peak RSS growth over idle"),
                    format!("+{} (at {})", mib(down.max(0.0)), fmt_rate(need("att_down_mib_s")?)),
                )
                .goal("constant memory: < 16 MiB", down < limit),
            ],
        });
    }
    Ok(sections)
}
