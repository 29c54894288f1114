//! Which proxy is believed for the client address, and the security headers on every answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use meldpunt_tests::*;

const GUESS_LIMIT: &str =
    "[rate_limit.case_guess]\nper_minute = 3\nburst = 3\nglobal_per_minute = 100000\n";

/// Sends one wrong case token as if from `forwarded` (via X-Forwarded-For) and returns the status.
fn guess(server: &Server, forwarded: &str) -> u16 {
    server
        .get("/api/v1/case")
        .header("X-Forwarded-For", forwarded)
        .header("Authorization", format!("CaseToken {}", b64(&[0x5a; 32])))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn forwarded_for_is_believed_only_from_the_trusted_proxy() {
    // The test client connects from 127.0.0.1, configured as the trusted proxy: each forwarded
    // address gets its own quota.
    let mut server = Server::start_with("trusted_proxy = \"127.0.0.1\"\n", GUESS_LIMIT);
    let first: Vec<u16> = (0..6).map(|_| guess(&server, "198.51.100.7")).collect();
    assert!(first.contains(&429), "the first client was never limited: {first:?}");
    // A different client behind the same proxy is not affected by the first one's guesses.
    assert_eq!(guess(&server, "198.51.100.8"), 401);
    // Only the right-most entry counts: a client cannot prepend a fresh address to escape.
    assert_eq!(guess(&server, "203.0.113.99, 198.51.100.7"), 429);
    server.assert_no_leaks(&[b"198.51.100.7", b"198.51.100.8", b"203.0.113.99"]);
}

#[test]
fn forwarded_for_header_lines_are_one_list() {
    // A proxy that appends its own `X-Forwarded-For` line (instead of extending the client's)
    // must still be believed: the client's own line cannot pick the rate-limit key.
    let mut server = Server::start_with("trusted_proxy = \"127.0.0.1\"\n", GUESS_LIMIT);
    let first: Vec<u16> = (0..6).map(|_| guess(&server, "198.51.100.7")).collect();
    assert!(first.contains(&429), "the first client was never limited: {first:?}");
    let status = server
        .get("/api/v1/case")
        .header("X-Forwarded-For", "203.0.113.99")
        .header("X-Forwarded-For", "198.51.100.7")
        .header("Authorization", format!("CaseToken {}", b64(&[0x5a; 32])))
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 429, "the client's own header line chose the rate-limit key");
    server.assert_no_leaks(&[b"198.51.100.7", b"203.0.113.99"]);
}

#[test]
fn forwarded_for_is_ignored_without_a_trusted_proxy() {
    let mut server = Server::start_with("", GUESS_LIMIT);
    // Every request claims a new address; all count against the real peer, 127.0.0.1.
    let statuses: Vec<u16> = (0..6u8).map(|i| guess(&server, &format!("198.51.100.{i}"))).collect();
    assert!(statuses.contains(&429), "X-Forwarded-For from an untrusted peer was believed: {statuses:?}");
    server.assert_no_leaks(&[b"198.51.100.1"]);
}

#[test]
fn security_headers_on_api_answers() {
    let mut server = Server::start_with("hsts = true\n", DEFAULT_EXTRA);
    for path in ["/healthz", "/api/v1/orgs/nope", "/api/v1/openapi.json", "/no/such/route"] {
        let r = server.get(path).send().unwrap();
        let h = r.headers();
        let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(get("content-security-policy").contains("default-src 'none'"), "{path}");
        assert!(!get("content-security-policy").contains("unsafe-inline"), "{path}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert!(get("strict-transport-security").contains("max-age="), "{path}");
        assert!(h.get("set-cookie").is_none(), "{path}");
        if path.starts_with("/api/") || path == "/no/such/route" {
            assert!(get("cache-control").contains("no-store"), "{path}");
        }
    }
    server.assert_no_leaks(&[]);

    // Without `hsts = true` (plain HTTP behind nothing), no HSTS header is sent.
    let mut plain = Server::start();
    let r = plain.get("/healthz").send().unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    plain.assert_no_leaks(&[]);
}

#[test]
fn pages_and_assets_are_never_stored_in_the_browser_cache() {
    // The design: nothing outlives the tab. A page or asset left in the disk cache shows later
    // that this device visited the reporting service, so every answer is `no-store`.
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("o")).unwrap();
    for (name, body) in [
        ("index.html", "<!doctype html><title>home</title>"),
        ("o/index.html", "<!doctype html><title>report</title>"),
        ("app.js", "export {};"),
        ("style.css", "body{}"),
        ("client_bg.wasm", "\0asm"),
    ] {
        std::fs::write(site.path().join(name), body).unwrap();
    }
    let top = format!("static_dir = \"{}\"\n", site.path().display());
    let mut server = Server::start_with(&top, DEFAULT_EXTRA);
    for path in [
        "/",
        "/o/acme",
        "/app.js",
        "/style.css",
        "/client_bg.wasm",
        "/healthz",
        "/nope.js",
    ] {
        let r = server.get(path).send().unwrap();
        let cache = r
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert_eq!(cache, "no-store", "{path} ({})", r.status());
    }
    server.assert_no_leaks(&[]);
}

#[test]
fn hsts_when_the_trusted_proxy_says_https() {
    let mut server = Server::start_with("trusted_proxy = \"127.0.0.1\"\n", DEFAULT_EXTRA);
    let hsts = |proto: Option<&str>| {
        let mut rb = server.get("/healthz");
        if let Some(p) = proto {
            rb = rb.header("X-Forwarded-Proto", p);
        }
        rb.send()
            .unwrap()
            .headers()
            .get("strict-transport-security")
            .is_some()
    };
    assert!(hsts(Some("https")));
    assert!(!hsts(Some("http")));
    assert!(!hsts(None));
    server.assert_no_leaks(&[]);

    // From a peer that is not the trusted proxy, the header is not believed.
    let mut untrusted = Server::start_with("trusted_proxy = \"192.0.2.1\"\n", DEFAULT_EXTRA);
    let r = untrusted
        .get("/healthz")
        .header("X-Forwarded-Proto", "https")
        .send()
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    untrusted.assert_no_leaks(&[]);
}
