//! Part 7, `browser`: the reporter browser test's measurements.

use std::path::Path;
use std::process::Command;

use std::fs;

use super::common::{build_release_bins, output, release_bin, target_dir};
use super::table::{Row, Section};
use crate::client::{build_client, build_wasm};
use crate::setup;
use crate::util::{Result, root};

pub(crate) fn bench_browser(work: &Path) -> Result<Section> {
    build_release_bins()?;
    // The web build exactly as `cargo xtask build-client` makes it when the target directory is
    // the default one (its paths are fixed); the same steps otherwise.
    let www = root().join("client-wasm").join("www");
    if target_dir() == root().join("target") {
        build_client()?;
    } else {
        build_wasm(
            "web",
            &www.join("pkg"),
            &["--remove-name-section", "--remove-producers-section"],
        )?;
    }
    setup::ensure_chromium()?;
    let browser = root().join("tests").join("browser");
    setup::ensure_npm_packages(&browser)?;
    let out = output(
        Command::new("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=tap",
                "--test-name-pattern=measurements",
                "reporter.test.js",
            ])
            .current_dir(&browser)
            .env("TEST_MELDPUNT_BIN", release_bin("meldpunt"))
            .env("TEST_MELDPUNT_TESTKIT", release_bin("meldpunt-testkit"))
            .env("TEST_MELDPUNT_WWW", &www)
            .env("SCREENSHOT_DIR", work.join("browser-artifacts"))
            .env("CHROMIUM", "/usr/bin/chromium"),
    )?;
    // Node's TAP reporter prints console.log lines as comments, `#` escaped as `\#`.
    let _ = fs::write(work.join("browser.log"), &out);
    let find = |needle: &str| out.lines().find(|l| l.contains(needle)).map(str::to_owned);
    let mut rows = Vec::new();
    let page = find("report page load:").ok_or_else(|| format!("no page-load line in:\n{out}"))?;
    let bytes: f64 = word_after(&page, "responses, ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("cannot read the byte count in `{page}`"))?;
    let responses = word_after(&page, "load: ").unwrap_or("?");
    let wasm_bytes = out
        .lines()
        .find(|l| l.trim_end().ends_with(".wasm"))
        .and_then(|l| {
            l.trim_start_matches(['#', ' ', '\\'])
                .split_whitespace()
                .next()
        })
        .unwrap_or("?");
    rows.push(
        Row::info(
            format!("bytes to load the report page (`/o/{{slug}}`, {responses} responses, headers included; the `.wasm` {wasm_bytes} B)"),
            format!("{bytes:.0} B ({:.1} KiB)", bytes / 1024.0),
        )
        .goal("≤ 400 KiB (the reporter client's aim)", bytes <= 400.0 * 1024.0),
    );
    let send = find("send → code, nothing held")
        .ok_or_else(|| format!("no send → code line in:\n{out}"))?;
    let wall = word_after(&send, "wall ").unwrap_or("?");
    let measures = send.split("measures ms: ").nth(1).unwrap_or("").trim();
    let total = serde_json::from_str::<serde_json::Value>(measures)
        .ok()
        .and_then(|m| m.get("total")?.as_f64());
    rows.push(Row::info(
        format!("send → pickup code shown, one report with a small JPEG (test server: PoW difficulty 2, m 64 KiB); phases in ms: `{measures}`"),
        format!(
            "{} ms (page's `meldpunt:total`); {wall} ms from the click to the code on screen",
            total.map_or_else(|| "?".into(), |t| format!("{t:.0}"))
        ),
    ));
    if let Some(seal) = find("WASM seal (Chromium") {
        let rate = word_after(&seal, " = ").unwrap_or("?");
        rows.push(Row::info(
            "WASM seal in Chromium's main thread, 10 MiB to 3 recipients",
            format!("{rate} MiB/s"),
        ));
    }
    Ok(Section {
        title: "7. Reporter page in headless Chromium".into(),
        note:
            "`node --test --test-name-pattern=measurements reporter.test.js` (tests/browser) with \
               the release server and the `build-client` WASM build; Debian's Chromium, loopback, \
               no TLS, no compression, fresh browser context."
                .into(),
        rows,
    })
}

/// The first word after the first `marker` in `line`.
fn word_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.split(marker).nth(1)?.split_whitespace().next()
}
