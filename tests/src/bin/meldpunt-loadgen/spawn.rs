//! A temporary server for `--spawn` (generous limits, a configuration of its own), and the raw
//! SQLite durable-insert rate of this machine for comparison.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use meldpunt_crypto::rng::{Rng, os_rng};
use meldpunt_tests::free_port;

use crate::stats::record;


/// Durable inserts of 4.6 KiB rows into a fresh SQLite file with the server's settings
/// (WAL, synchronous=FULL): one row per transaction, then `batch` rows per transaction.
pub fn sqlite_insert_rate(dir: &Path, secs: u64, batch: usize) -> Result<()> {
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

pub struct Spawned {
    pub child: Child,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(bin: &Path, dir: &Path, pow: bool) -> Result<(Spawned, String, String)> {
    let port = free_port();
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
