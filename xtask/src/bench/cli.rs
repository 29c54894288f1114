//! Part 2, `cli`: `meldpunt advisor decrypt` beside `rage -d`, whole processes.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::common::{Sizes, build_release_bins, output, release_bin, remove, target_dir};
use super::table::{Row, Section, fmt_rate, median, mibs};
use crate::util::{Result, cargo, run};

/// The pinned `rage` (age in Rust) used as the CLI's reference.
pub(crate) const RAGE_VERSION: &str = "0.12.1";

/// `rage` and `rage-keygen` of the pinned version, installed under
/// `$CARGO_HOME/meldpunt-tools/rage-VERSION` (like wasm-bindgen in setup.rs).
pub(crate) fn ensure_rage() -> Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(target_dir);
    let tools = cargo_home
        .join("meldpunt-tools")
        .join(format!("rage-{RAGE_VERSION}"));
    let bin = tools.join("bin");
    let version = Command::new(bin.join("rage"))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.contains(RAGE_VERSION) {
        run(cargo()
            .args([
                "install",
                "--locked",
                "rage",
                "--version",
                RAGE_VERSION,
                "--root",
            ])
            .arg(&tools))?;
    }
    Ok(bin)
}

/// Runs a whole process, timed from spawn to exit, sampling its peak RSS (`VmHWM`).
pub(crate) fn time_process(cmd: &mut Command) -> Result<(f64, u64)> {
    let shown = format!("{cmd:?}").replace('"', "");
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let pid = child.id();
    let hwm = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (hwm, stop) = (Arc::clone(&hwm), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kib) = status_kib(pid, "VmHWM") {
                    hwm.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let status = child.wait();
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    match status {
        Ok(s) if s.success() => Ok((secs, hwm.load(Ordering::Relaxed))),
        Ok(s) => Err(format!("{shown} failed ({s}): {}", err.trim())),
        Err(e) => Err(format!("{shown}: {e}")),
    }
}

pub(crate) fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.get(field.len()..)?
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether two files have the same bytes.
pub(crate) fn same_file(a: &Path, b: &Path) -> Result<bool> {
    let open = |p: &Path| File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if na != nb || ba.get(..na) != bb.get(..nb) {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

pub(crate) fn read_full(f: &mut File, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(n)
}

pub(crate) fn bench_cli(sizes: &Sizes, work: &Path) -> Result<Section> {
    build_release_bins()?;
    let rage_bin = ensure_rage()?;
    let (rage, keygen) = (rage_bin.join("rage"), rage_bin.join("rage-keygen"));
    let meldpunt = release_bin("meldpunt");
    let dir = work.join("cli");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let size = sizes.cli_mib << 20;

    // Inputs: a keyring (default Argon2id parameters), the plaintext, its envelope, an empty
    // envelope (meldpunt-benchkit, with the crypto crate), and an age file of the same plaintext.
    let made = output(
        Command::new(release_bin("meldpunt-benchkit"))
            .args(["cli-files", "--dir"])
            .arg(&dir)
            .args(["--size", &size.to_string()]),
    )?;
    let made: serde_json::Value = serde_json::from_str(made.trim()).unwrap_or_default();
    let argon = format!(
        "Argon2id m = {} MiB, t = {}",
        made.get("m_kib")
            .and_then(serde_json::Value::as_f64)
            .map_or(0.0, |m| m / 1024.0),
        made.get("t")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0)
    );
    let key = dir.join("age-key.txt");
    output(Command::new(&keygen).arg("-o").arg(&key))?;
    let key_text =
        fs::read_to_string(&key).map_err(|e| format!("cannot read {}: {e}", key.display()))?;
    let recipient = key_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key:"))
        .map(str::trim)
        .ok_or("rage-keygen wrote no public key")?
        .to_owned();
    let plain = dir.join("plain.bin");
    let aged = dir.join("plain.age");
    output(
        Command::new(&rage)
            .args(["-r", &recipient, "-o"])
            .arg(&aged)
            .arg(&plain),
    )?;

    let out = dir.join("out.bin");
    let passphrase = dir.join("passphrase");
    let cli = |input: &str, out: &Path| -> Result<Command> {
        let stdin =
            File::open(&passphrase).map_err(|e| format!("cannot read the passphrase file: {e}"))?;
        let mut c = Command::new(&meldpunt);
        c.arg("advisor")
            .arg("--keyring")
            .arg(dir.join("keyring.mpk"))
            .args(["--passphrase-fd", "0", "decrypt", "--in"])
            .arg(dir.join(input))
            .arg("--out")
            .arg(out)
            .stdin(Stdio::from(stdin))
            .env_remove("MELDPUNT_KEYRING");
        Ok(c)
    };
    let rage_cmd = |out: &Path| {
        let mut c = Command::new(&rage);
        c.args(["-d", "-i"]).arg(&key).arg("-o").arg(out).arg(&aged);
        c
    };

    // A first untimed round checks the outputs (and warms the page cache).
    remove(&out);
    time_process(&mut cli("plain.mpe", &out)?)?;
    if !same_file(&out, &plain)? {
        return Err("meldpunt advisor decrypt wrote something else than the plaintext".into());
    }
    remove(&out);
    time_process(&mut rage_cmd(&out))?;
    if !same_file(&out, &plain)? {
        return Err("rage -d wrote something else than the plaintext".into());
    }
    remove(&out);
    let empty_out = dir.join("empty.out");

    let (mut t_cli, mut t_rage, mut t_unlock) = (Vec::new(), Vec::new(), Vec::new());
    let (mut hwm_cli, mut hwm_rage, mut hwm_unlock) = (0u64, 0u64, 0u64);
    for i in 0..sizes.cli_runs {
        eprintln!("cli round {}/{}", i + 1, sizes.cli_runs);
        remove(&out);
        let (t, h) = time_process(&mut cli("plain.mpe", &out)?)?;
        t_cli.push(t);
        hwm_cli = hwm_cli.max(h);
        remove(&out);
        let (t, h) = time_process(&mut rage_cmd(&out))?;
        t_rage.push(t);
        hwm_rage = hwm_rage.max(h);
        remove(&out);
        remove(&empty_out);
        let (t, h) = time_process(&mut cli("empty.mpe", &empty_out)?)?;
        t_unlock.push(t);
        hwm_unlock = hwm_unlock.max(h);
        remove(&empty_out);
    }
    let _ = fs::remove_dir_all(&dir);
    // Best of the runs: on a shared machine a whole process is only ever slowed down by the
    // rest, and the unlock is subtracted from the decryption, so the least disturbed runs are
    // the ones to compare. Medians are shown beside.
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (cli_s, rage_s, unlock_s) = (best(&t_cli), best(&t_rage), best(&t_unlock));
    let bytes = size as f64;
    let cli_rate = mibs(bytes, cli_s);
    let rage_rate = mibs(bytes, rage_s);
    let net = cli_s - unlock_s;
    let net_rate = mibs(bytes, net);
    let ms = |s: f64| format!("{:.0} ms", s * 1000.0);
    let med = |v: &[f64]| format!("median {:.0} ms", median(v) * 1000.0);
    let growth = hwm_cli.saturating_sub(hwm_unlock);
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let rows = vec![
        Row::info(
            format!(
                "`rage -d` {RAGE_VERSION}, {} MiB (reference)",
                sizes.cli_mib
            ),
            format!("{} ({}; {})", fmt_rate(rage_rate), ms(rage_s), med(&t_rage)),
        ),
        Row::info(
            format!(
                "`meldpunt advisor decrypt`, {} MiB, whole process incl. keyring unlock",
                sizes.cli_mib
            ),
            format!("{} ({}; {})", fmt_rate(cli_rate), ms(cli_s), med(&t_cli)),
        )
        .beside(
            format!("rage {}", fmt_rate(rage_rate)),
            Some(cli_rate / rage_rate),
        )
        .goal("≥ 1.0× rage", cli_rate >= rage_rate),
        Row::info(
            format!(
                "keyring unlock alone: the same command on an empty envelope ({argon}, and process start)"
            ),
            format!("{} ({})", ms(unlock_s), med(&t_unlock)),
        ),
        if net > 0.0 {
            Row::info(
                format!(
                    "`meldpunt advisor decrypt`, {} MiB, unlock subtracted",
                    sizes.cli_mib
                ),
                format!("{} ({})", fmt_rate(net_rate), ms(net)),
            )
            .beside(
                format!("rage {}", fmt_rate(rage_rate)),
                Some(net_rate / rage_rate),
            )
            .goal("≥ 1.0× rage", net_rate >= rage_rate)
        } else {
            Row::info(
                format!(
                    "`meldpunt advisor decrypt`, {} MiB, unlock subtracted",
                    sizes.cli_mib
                ),
                "not measurable: the unlock run took as long as the whole decryption (machine too busy, or the file too small)",
            )
        },
        Row::info(
            format!(
                "peak RSS (`VmHWM`): CLI decrypt of {} MiB / CLI on the empty envelope / rage",
                sizes.cli_mib
            ),
            format!("{} / {} / {}", mib(hwm_cli), mib(hwm_unlock), mib(hwm_rage)),
        )
        .goal(
            "constant memory: growth over the empty envelope < 16 MiB",
            growth < 16 * 1024,
        ),
    ];
    Ok(Section {
        title: format!(
            "2. Advisor CLI: decrypting a {} MiB attachment beside rage",
            sizes.cli_mib
        ),
        note: format!(
            "Whole processes, file to file, page cache warm, best of {} interleaved runs; the \
             CLI reads its passphrase with `--passphrase-fd 0`. Inputs from `meldpunt-benchkit \
             cli-files` (an attachment envelope sealed to a keyring with the default Argon2id \
             parameters) and `rage -r` of the same random plaintext; both outputs compared with it.",
            sizes.cli_runs
        ),
        rows,
    })
}
