//! Part 3, `wasm`: the WASM client's attachment sealer under Node.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::common::{Sizes, build_release_bins, output, release_bin};
use super::crypto::{Criterion, read_criterion};
use super::table::{Row, Section, fmt_rate, median, mibs};
use crate::client::build_wasm;
use crate::util::Result;

/// Seals random bytes through the WASM client's `AttachmentEncryptor` (as `www/js/files.js`
/// does: 256 KiB pieces) to one advisor and the reporter's own key. Arguments: the package
/// directory, the advisor JSON of `meldpunt-benchkit advisor-bundle`, then `MIBxRUNS`…
pub(crate) const WASM_SCRIPT: &str = r#"'use strict';
pub(crate) const [pkg, advisor, ...sizes] = process.argv.slice(2);
pub(crate) const m = require(pkg);
pub(crate) const { identity, bundle } = JSON.parse(advisor);
pub(crate) const set = new m.Advisors();
pub(crate) const check = set.add('bench', identity, [bundle], [], m.Pins.none(), Date.now() / 1000);
if (!check.usable) throw new Error(`advisor not usable: ${check.problem}`);
pub(crate) const seed = new Uint8Array(32);
crypto.getRandomValues(seed);
pub(crate) const reporter = m.Reporter.fromSeed(seed);
pub(crate) const PIECE = 256 * 1024;
function seal(data) {
  const enc = reporter.attachmentEncryptor('bench', set, ['bench']);
  let out = enc.header().length;
  for (let at = 0; at < data.length; at += PIECE) out += enc.push(data.subarray(at, at + PIECE)).length;
  out += enc.finish().length;
  enc.free();
  if (out <= data.length) throw new Error('short envelope');
}
// Warm-up: let V8 compile the module with its optimising tier before anything is timed.
seal(new Uint8Array(16 * 1024 * 1024));
for (const arg of sizes) {
  const [mib, runs] = arg.split('x').map(Number);
  const size = mib * 1024 * 1024;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const ms = [];
  for (let r = 0; r <= runs; r++) { // the first run of each size is not counted
    const start = process.hrtime.bigint();
    seal(data);
    const took = Number(process.hrtime.bigint() - start) / 1e6;
    if (r > 0) ms.push(took);
  }
  console.log(`wasm-seal ${mib} ${ms.join(' ')}`);
}
reporter.free();
"#;

pub(crate) fn bench_wasm(
    sizes: &Sizes,
    work: &Path,
    crypto: Option<&Criterion>,
) -> Result<Section> {
    build_release_bins()?;
    let pkg = work.join("wasm-node");
    build_wasm("nodejs", &pkg, &[])?;
    let advisor = output(Command::new(release_bin("meldpunt-benchkit")).arg("advisor-bundle"))?;
    let script = work.join("wasm-seal.cjs");
    fs::write(&script, WASM_SCRIPT)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let node_version = output(Command::new("node").arg("--version"))?
        .trim()
        .to_owned();
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .arg(pkg.join("meldpunt_client_wasm.js"))
        .arg(advisor.trim());
    for (mib, runs) in sizes.wasm {
        cmd.arg(format!("{mib}x{runs}"));
    }
    let out = output(&mut cmd)?;
    // The native figure: this run's criterion results, else the last ones on disk.
    let on_disk = if crypto.is_none() {
        read_criterion(None).ok()
    } else {
        None
    };
    let native = crypto.or(on_disk.as_ref());
    let mut rows = Vec::new();
    for line in out.lines() {
        let mut it = line.split_whitespace();
        if it.next() != Some("wasm-seal") {
            continue;
        }
        let mib: u64 = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let ms: Vec<f64> = it.filter_map(|t| t.parse().ok()).collect();
        let rate = mibs((mib << 20) as f64, median(&ms) / 1000.0);
        let label = format!("{mib}MiB");
        let row = Row::info(
            format!(
                "WASM `AttachmentEncryptor` under Node {node_version}, {mib} MiB, 256 KiB pieces"
            ),
            format!("{} (median of {})", fmt_rate(rate), ms.len()),
        );
        let reference = native.and_then(|c| c.get("seal_stream_1t", &label));
        rows.push(match reference {
            Some(n) => row.beside(
                format!(
                    "native `seal_stream` 1 thread {}{}",
                    fmt_rate(n),
                    if native.is_some_and(|c| !c.fresh) {
                        " (earlier criterion run)"
                    } else {
                        ""
                    }
                ),
                Some(rate / n),
            ),
            None => row.beside("native: not measured at this size", None),
        });
    }
    if rows.is_empty() {
        return Err(format!("no figures from the Node script:\n{out}"));
    }
    Ok(Section {
        title: "3. WASM seal throughput under Node beside native".into(),
        note: "The `wasm-release` build of client-wasm through `wasm-bindgen --target nodejs`; \
               the page's streaming attachment sealer (2 recipients: one advisor and the \
               reporter's own key; each piece copied into WASM memory and the ciphertext copied \
               out). WASM is single-threaded, so the reference is the crypto part's \
               single-threaded streaming seal (1 recipient). No goal."
            .into(),
        rows,
    })
}
