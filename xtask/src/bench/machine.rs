//! The machine, date and commit a report was measured on.

use std::fs;
use std::process::Command;
use std::time::Duration;

use super::common::MIB;
use crate::util::root;

pub(crate) struct Machine {
    nproc: usize,
    cpu: String,
    load_start: String,
    mem: String,
    rustc: String,
    date: String,
    commit: String,
}

impl Machine {
    pub(crate) fn now() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_else(|| "?".into());
        let mem = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                let kib: f64 = m.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
                Some(format!("{:.0} GiB", kib / MIB))
            })
            .unwrap_or_else(|| "?".into());
        let rustc = Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            cpu,
            load_start: loadavg(),
            mem,
            rustc,
            date: utc_now(),
            commit: git_commit(),
        }
    }

    pub(crate) fn describe(&self, command: &str, took: Duration) -> String {
        format!(
            "Measured {} (UTC) at commit `{}` with `{command}` ({:.1} min).\n\
             Machine: `nproc` = {}, CPU `{}`, {} memory, {}; load average at the start {}, at the \
             end {}.\n",
            self.date,
            self.commit,
            took.as_secs_f64() / 60.0,
            self.nproc,
            self.cpu,
            self.mem,
            self.rustc,
            self.load_start,
            loadavg()
        )
    }
}

pub(crate) fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `YYYY-MM-DD HH:MM` in UTC, from the system clock.
pub(crate) fn utc_now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The checked-out commit as `SHA12 (branch)`, from `git rev-parse` (worktrees included);
/// `?` where git or the repository is not there.
pub(crate) fn git_commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let Some(sha) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "?".into();
    };
    match git(&["symbolic-ref", "--short", "-q", "HEAD"]) {
        Some(branch) => format!("{sha} ({})", branch.rsplit('/').next().unwrap_or(&branch)),
        None => sha,
    }
}

#[cfg(test)]
mod tests {
    use super::{git_commit, utc_now};

    #[test]
    fn the_date_is_minutes_in_utc() {
        let d = utc_now();
        assert_eq!(d.len(), 16, "{d}");
        for (i, c) in d.chars().enumerate() {
            match i {
                4 | 7 => assert_eq!(c, '-', "{d}"),
                10 => assert_eq!(c, ' ', "{d}"),
                13 => assert_eq!(c, ':', "{d}"),
                _ => assert!(c.is_ascii_digit(), "{d}"),
            }
        }
        assert!(d.as_str() >= "2024-01-01 00:00", "{d}");
    }

    #[test]
    fn the_commit_is_a_short_sha_from_git() {
        let c = git_commit();
        // `?` only where git or the repository is missing.
        if c != "?" {
            let sha = c.split(' ').next().unwrap_or_default();
            assert_eq!(sha.len(), 12, "{c}");
            assert!(sha.chars().all(|ch| ch.is_ascii_hexdigit()), "{c}");
        }
    }
}
