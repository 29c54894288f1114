//! Native counterpart of the browser test's WASM seal measurement (docs/performance.md,
//! "Reporter client"): 10 MiB through the streaming attachment sealer (`envelope::Encryptor`,
//! purpose attachment, 3 recipients) in 256 KiB pieces, as `www/js/files.js` feeds the WASM
//! `AttachmentEncryptor`. Printed, never asserted.
//!
//! `cargo run --release -p meldpunt-client-wasm --example seal_throughput`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use meldpunt_crypto::envelope::{Encryptor, Purpose};
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};

fn main() {
    let mut rng = os_rng();
    let recipients: Vec<_> = (0..3).map(|_| DecryptionKey::generate(&mut rng).recipient()).collect();
    let size = 10 * 1024 * 1024;
    let mut data = vec![0u8; size];
    rng.fill_bytes(&mut data);
    let mut best = f64::MAX;
    let mut runs = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let (mut enc, header) = Encryptor::new(&mut rng, Purpose::Attachment, "acme", &recipients).unwrap();
        let mut total = header.len();
        let mut out = Vec::with_capacity(256 * 1024 + 4096);
        for piece in data.chunks(256 * 1024) {
            out.clear();
            enc.push(piece, &mut out).unwrap();
            total += out.len();
        }
        out.clear();
        enc.finish(&mut out).unwrap();
        total += out.len();
        let secs = start.elapsed().as_secs_f64();
        assert!(total > size);
        best = best.min(secs);
        runs.push(format!("{:.1}", secs * 1000.0));
    }
    println!(
        "native seal: 10 MiB to 3 recipients in {:.1} ms = {:.0} MiB/s (runs: {} ms)",
        best * 1000.0,
        10.0 / best,
        runs.join(", ")
    );
}
