//! Tests of the configuration loading (`config/mod.rs`).

use super::*;

#[cfg(test)]
mod load {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.pow.difficulty, 5);
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\n[pow]\ndifficulty = 3\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&path),
            env(&[
                ("MELDPUNT_POW__DIFFICULTY", "7"),
                ("MELDPUNT_DATABASE", "/tmp/x.db"),
            ]),
        )
        .unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.pow.difficulty, 7);
        assert_eq!(s.database, PathBuf::from("/tmp/x.db"));
    }

    #[test]
    fn errors_name_the_setting() {
        let e = Settings::load_from(None, env(&[("MELDPUNT_POW__DIFFICULTY", "many")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("pow.difficulty"), "{e}");
        let e = Settings::load_from(None, env(&[("MELDPUNT_POW__COLOUR", "1")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = Settings::load_from(None, env(&[("MELDPUNT_LISTEN", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen"), "{e}");
        let e = Settings::load_from(None, env(&[("MELDPUNT_POW__T", "0")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("pow.t"), "{e}");
    }

    /// One field of a rate-limit class, alone in the environment or the file, keeps the
    /// class's other defaults (it used to fail with "missing field `burst`").
    #[test]
    fn one_rate_limit_field_merges_with_the_defaults() {
        let d = RateLimits::default();
        let s = Settings::load_from(
            None,
            env(&[("MELDPUNT_RATE_LIMIT__CASE_GUESS__PER_MINUTE", "3")]),
        )
        .unwrap();
        assert_eq!(s.rate_limit.case_guess.per_minute, 3);
        assert_eq!(s.rate_limit.case_guess.burst, d.case_guess.burst);
        assert_eq!(
            s.rate_limit.case_guess.global_per_minute,
            d.case_guess.global_per_minute
        );
        assert_eq!(s.rate_limit.login.burst, d.login.burst);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[rate_limit.login]
burst = 50
").unwrap();
        let s = Settings::load_from(
            Some(&path),
            env(&[("MELDPUNT_RATE_LIMIT__LOGIN__PER_MINUTE", "40")]),
        )
        .unwrap();
        assert_eq!(s.rate_limit.login.burst, 50);
        assert_eq!(s.rate_limit.login.per_minute, 40);
        assert_eq!(s.rate_limit.login.global_per_minute, d.login.global_per_minute);
        let e = Settings::load_from(
            None,
            env(&[("MELDPUNT_RATE_LIMIT__LOGIN__BURTS", "4")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("rate_limit.login") && e.contains("burts"), "{e}");
    }

    #[test]
    fn metrics_settings_are_checked() {
        let e = Settings::load_from(None, env(&[("MELDPUNT_METRICS__LISTEN", "127.0.0.1:8080")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("metrics.listen"), "{e}");
        let e = Settings::load_from(None, env(&[("MELDPUNT_METRICS__LISTEN", "0.0.0.0:9464")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("metrics.token"), "{e}");
        let e = Settings::load_from(None, env(&[("MELDPUNT_METRICS__TOKEN", "short")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("metrics.token"), "{e}");
        let s = Settings::load_from(
            None,
            env(&[
                ("MELDPUNT_METRICS__LISTEN", "0.0.0.0:9464"),
                ("MELDPUNT_METRICS__TOKEN", "a-long-scrape-token-123"),
            ]),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("a-long-scrape-token-123"));
        assert!(s.metrics.token.unwrap().matches(Some(b"Bearer a-long-scrape-token-123")));
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    /// The shipped example parses and equals the defaults it documents.
    #[test]
    fn example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../meldpunt.example.toml");
        let s = Settings::load_from(Some(&path), Vec::new()).unwrap();
        let d = Settings::default();
        assert_eq!(s.listen, d.listen);
        assert_eq!(s.pow.difficulty, d.pow.difficulty);
        assert_eq!(s.limits.attachment_bytes, d.limits.attachment_bytes);
        assert_eq!(s.quota.case_bytes, d.quota.case_bytes);
        assert_eq!(s.quota.org_bytes, d.quota.org_bytes);
        assert_eq!(
            s.rate_limit.case_guess.per_minute,
            d.rate_limit.case_guess.per_minute
        );
    }
}
