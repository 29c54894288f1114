//! `cargo xtask bench [crypto|cli|wasm|server|browser]`: every performance figure of
//! docs/performance.md in one run on one machine, each beside its reference and its goal.
//!
//! Without an argument every part runs and the section between `<!-- bench:begin -->` and
//! `<!-- bench:end -->` of docs/performance.md is rewritten (table, machine, date, commit,
//! command). With a part name only that part runs, and the table is printed and written to
//! `target/bench/report.md`. `MELDPUNT_BENCH_QUICK=1` runs small sizes and short loads to check
//! the tooling; its figures never go into docs/performance.md.
//!
//! Parts:
//! - `crypto`: the criterion bench `throughput` (crypto crate), read back from
//!   `target/criterion/**/new/{benchmark,estimates}.json`: seal/open beside raw
//!   ChaCha20-Poly1305 of the same size.
//! - `cli`: `meldpunt advisor decrypt` of a 256 MiB attachment envelope beside `rage -d` of an
//!   age file of the same plaintext, whole processes, file to file; the keyring unlock is timed
//!   alone with an empty envelope.
//! - `wasm`: the WASM client's `AttachmentEncryptor` under Node (1 MiB, 64 MiB) beside the
//!   native single-threaded streaming seal of the `crypto` part.
//! - `server`: `meldpunt-loadgen --spawn` (create/read throughput and latency with 64 in
//!   flight, raw SQLite inserts, server RSS at idle, under load and after, and during a 100 MiB
//!   attachment upload and download).
//! - `browser`: the reporter browser test's `measurements` test in headless Chromium (bytes to
//!   load the report page, send → code).
//!
//! One module per part (`crypto`, `cli`, `wasm`, `server`, `browser`), beside the table
//! (`table`), the docs/performance.md writer (`doc`), the machine description (`machine`) and
//! what the parts share (`common`). Criterion's and the browser test's JSON is read with
//! `serde_json`, the date comes from `time`, the commit from `git rev-parse`.

mod browser;
mod cli;
mod common;
mod crypto;
mod doc;
mod machine;
mod server;
mod table;
mod wasm;

use std::fs;
use std::time::Instant;

use self::common::{Sizes, target_dir};
use self::crypto::Criterion;
use self::machine::Machine;
use self::table::render;
use crate::util::Result;

const PARTS: [&str; 5] = ["crypto", "cli", "wasm", "server", "browser"];

pub fn bench(args: &[String]) -> Result {
    let sizes = Sizes::from_env();
    let which: Vec<&str> = match args.first().map(String::as_str) {
        None | Some("all") => PARTS.to_vec(),
        Some(p) if PARTS.contains(&p) && args.len() == 1 => vec![p],
        Some(other) => {
            return Err(format!(
                "unknown bench part `{other}`: cargo xtask bench [{}]",
                PARTS.join("|")
            ));
        }
    };
    let everything = which.len() == PARTS.len();
    let started = Instant::now();
    let machine = Machine::now();
    let work = target_dir().join("bench");
    fs::create_dir_all(&work).map_err(|e| format!("cannot make {}: {e}", work.display()))?;

    let mut sections = Vec::new();
    let mut failures = Vec::new();
    let mut crypto: Option<Criterion> = None;
    for part in &which {
        eprintln!(
            "\n==== bench {part}{} ====",
            if sizes.quick { " (quick)" } else { "" }
        );
        let result = match *part {
            "crypto" => crypto::bench_crypto(&sizes, started).map(|(sec, c)| {
                crypto = Some(c);
                vec![sec]
            }),
            "cli" => cli::bench_cli(&sizes, &work).map(|s| vec![s]),
            "wasm" => wasm::bench_wasm(&sizes, &work, crypto.as_ref()).map(|s| vec![s]),
            "server" => server::bench_server(&sizes, &work),
            "browser" => browser::bench_browser(&work).map(|s| vec![s]),
            _ => Ok(Vec::new()),
        };
        match result {
            Ok(mut s) => sections.append(&mut s),
            Err(e) => {
                eprintln!("xtask bench {part}: FAILED: {e}");
                failures.push(format!("{part}: {e}"));
            }
        }
    }

    let command = if sizes.quick {
        format!(
            "MELDPUNT_BENCH_QUICK=1 cargo xtask bench {}",
            args.join(" ")
        )
    } else {
        format!("cargo xtask bench {}", args.join(" "))
    };
    let report = format!(
        "{}\n{}\n{}",
        machine.describe(command.trim_end(), started.elapsed()),
        render(&sections),
        if failures.is_empty() {
            String::new()
        } else {
            format!("\nFAILED parts: {}\n", failures.join("; "))
        }
    );
    let out = work.join("report.md");
    fs::write(&out, &report).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("\n{report}\n(written to {})", out.display());
    if !failures.is_empty() {
        return Err(format!(
            "{} part(s) failed: {}",
            failures.len(),
            failures.join("; ")
        ));
    }
    if everything && !sizes.quick {
        doc::write_doc(&report)?;
    } else if everything {
        eprintln!("(quick run: docs/performance.md is left as it is)");
    }
    Ok(())
}
