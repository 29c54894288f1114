//! Helpers of the admin tests: a server started with extra environment variables, operator
//! accounts made with the real CLI (passphrase on a file descriptor), org admins made through
//! invites, and an authenticated admin client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

use reqwest::blocking::{RequestBuilder, Response};
use serde_json::{Value, json};

use crate::cli::{meldpunt_bin, run_with_stdin};
use crate::http::expect;
use crate::server::{DEFAULT_EXTRA, Server};

/// Passphrases strong enough for the zxcvbn check.
pub const OPERATOR_PASS: &str = "purple tractor sings quietly 42";
pub const ALFA_PASS: &str = "lantern orchard whistles blue 17";
pub const BETA_PASS: &str = "copper giraffe borrows maps 93";

/// Starts a server (no PoW, generous rate limits) with extra `MELDPUNT_*` variables.
pub fn start(env: &[(&str, &str)]) -> Server {
    start_with(env, "[pow]\nenabled = false\n")
}

/// Like [`start`] with extra top-of-file configuration (no metrics listener).
#[must_use]
pub fn start_with(env: &[(&str, &str)], top: &str) -> Server {
    let mut server = Server::prepare(
        &format!("metrics = {{ enabled = false }}\n{top}"),
        DEFAULT_EXTRA,
        false,
    );
    server.spawn_with_env(env);
    server
}

/// Runs `meldpunt admin ARGS` with `stdin` on standard input; returns (success, stdout, stderr).
pub fn cli(server: &Server, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut cmd = Command::new(meldpunt_bin());
    cmd.arg("--config").arg(&server.config).arg("admin").args(args);
    let out = run_with_stdin(cmd, stdin.as_bytes());
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `meldpunt admin operator create --username USERNAME --passphrase-fd 0` with `stdin` on
/// standard input; returns (success, stdout, stderr).
pub fn operator_create(server: &Server, username: &str, stdin: &str) -> (bool, String, String) {
    cli(
        server,
        &[
            "operator",
            "create",
            "--username",
            username,
            "--passphrase-fd",
            "0",
        ],
        stdin,
    )
}

/// Creates an operator with the CLI, the passphrase on file descriptor 0.
pub fn create_operator(server: &Server, username: &str, pass: &str) {
    let (ok, _, err) = operator_create(server, username, &format!("{pass}\n"));
    assert!(ok, "operator create: {err}");
}

/// An org-admin invite made with the CLI.
pub fn cli_admin_invite(server: &Server, org: &str) -> String {
    server
        .admin(&["org-admin", "invite", "--org", org])
        .trim()
        .to_owned()
}

/// Redeems an invite through the API.
pub fn accept(server: &Server, invite: &str, username: &str, pass: &str) -> Response {
    server
        .post("/api/v1/admin/accept-invite")
        .json(&json!({"invite": invite, "username": username, "passphrase": pass}))
        .send()
        .unwrap()
}

/// A login request.
pub fn login(server: &Server, username: &str, pass: &str, totp: Option<&str>) -> Response {
    let mut body = json!({"username": username, "passphrase": pass});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    server
        .post("/api/v1/admin/login")
        .json(&body)
        .send()
        .unwrap()
}

/// A logged-in administrator.
#[derive(Debug)]
pub struct Admin<'a> {
    pub server: &'a Server,
    pub token: String,
    pub username: String,
}

impl<'a> Admin<'a> {
    pub fn login(server: &'a Server, username: &str, pass: &str) -> Admin<'a> {
        let v = expect(login(server, username, pass, None), 200, None);
        Admin {
            server,
            token: v["token"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
        }
    }
    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.header("Authorization", format!("Bearer {}", self.token))
    }
    pub fn get(&self, path: &str) -> Response {
        self.auth(self.server.get(path)).send().unwrap()
    }
    pub fn get_ok(&self, path: &str) -> Value {
        expect(self.get(path), 200, None)
    }
    pub fn post(&self, path: &str, body: Value) -> Response {
        self.auth(self.server.post(path))
            .json(&body)
            .send()
            .unwrap()
    }
    /// [`Admin::post`], whose answer must have `status` (and the error `code`); returns it.
    pub fn expect_post(&self, path: &str, body: Value, status: u16, code: Option<&str>) -> Value {
        expect(self.post(path, body), status, code)
    }
    pub fn post_empty(&self, path: &str) -> Response {
        self.auth(self.server.post(path)).send().unwrap()
    }
    pub fn put(&self, path: &str, body: Value) -> Response {
        self.auth(self.server.put(path)).json(&body).send().unwrap()
    }
    pub fn put_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.auth(self.server.put(path))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .unwrap()
    }
    pub fn delete(&self, path: &str) -> Response {
        self.auth(self.server.client.delete(self.server.url(path)))
            .send()
            .unwrap()
    }
}

/// A server with organisations `alfa` and `beta`, the operator `beheer`, and the org admins
/// `hr-alfa` and `hr-beta` (made through invites).
pub fn with_orgs(env: &[(&str, &str)]) -> Server {
    let server = start(env);
    server.create_org("alfa");
    server.create_org("beta");
    create_operator(&server, "beheer", OPERATOR_PASS);
    for (org, user, pass) in [
        ("alfa", "hr-alfa", ALFA_PASS),
        ("beta", "hr-beta", BETA_PASS),
    ] {
        let invite = cli_admin_invite(&server, org);
        let v = expect(accept(&server, &invite, user, pass), 201, None);
        assert_eq!(v["org"], org);
        assert_eq!(v["username"], user);
    }
    server
}

/// The current TOTP code of a base32 key at `at` (Unix seconds): RFC 6238 with SHA-1, six
/// digits and 30-second steps, as the server's `[admin]` TOTP (made with `totp-rs` here too, so
/// the tests need none of the server's internals).
#[must_use]
pub fn totp_at(secret_b32: &str, at: i64) -> String {
    let key = base32_decode(secret_b32);
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(totp_rs::Secret::new(key.into_boxed_slice()))
        .build()
        .unwrap();
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// RFC 4648 base32 without padding.
#[must_use]
pub fn base32_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = A.iter().position(|a| *a == c).unwrap() as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from(bits >> n).unwrap());
            bits &= (1 << n) - 1;
        }
    }
    out
}
