//! The instance's advisor API over HTTP: login by signed challenge, the session token in memory
//! only, and plain-language errors.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use meldpunt_crypto::keys::IdentityKey;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use secrecy::{ExposeSecret, SecretString};

use crate::text::at;

pub use meldpunt_client::b64;

/// Decodes a base64url field the server sent.
pub fn unb64(field: &str, s: &str) -> anyhow::Result<Vec<u8>> {
    meldpunt_client::unb64(s).map_err(|_| anyhow!("the server sent a malformed `{field}`"))
}

/// A connection to one instance (the session token is redacted in `Debug`).
#[derive(Debug)]
pub struct Api {
    base: String,
    client: Client,
    token: Option<SecretString>,
}

/// Normalises an instance URL (`https://host[:port]`, no trailing slash).
pub fn normalise_instance(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        anyhow!("`{url}` is not a web address; give it like https://meldpunt.example.nl")
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" if matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => {}
        _ => bail!(
            "the instance address must start with https:// (plain http only for this computer)"
        ),
    }
    Ok(url.to_owned())
}

fn describe(status: reqwest::StatusCode, body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let msg = at(&v, "message").as_str().unwrap_or("").to_owned();
    let code = at(&v, "error").as_str().unwrap_or("");
    match (status.as_u16(), code) {
        (401, _) => {
            "the server did not accept the login (is this keyring registered on this instance?)"
                .into()
        }
        (403, "bad_invite") => {
            "the invite code is unknown, already used or expired; ask for a new one".into()
        }
        (404, _) => "not found: no such case for you on this instance".into(),
        (429, _) => "the server is busy with too many requests; wait a minute and try again".into(),
        (s, _) if s >= 500 => format!("the server had a problem ({s}); try again later"),
        _ if !msg.is_empty() => format!("the server refused: {msg}"),
        (s, _) => format!("the server refused the request ({s})"),
    }
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Api> {
        let client = Client::builder()
            .timeout(Duration::from_secs(300))
            .connect_timeout(Duration::from_secs(20))
            .build()
            .context("cannot set up the connection")?;
        Ok(Api {
            base: normalise_instance(base)?,
            client,
            token: None,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => rb.header("Authorization", format!("Bearer {}", t.expose_secret())),
            None => rb,
        }
    }

    /// Sends and checks the status; returns the response for the caller to read.
    pub fn send(&self, rb: RequestBuilder) -> anyhow::Result<Response> {
        let r = self.auth(rb).send().map_err(|e| {
            anyhow!(
                "cannot reach the Meldpunt server at {}: {}",
                self.base,
                if e.is_timeout() {
                    "it did not answer in time".to_owned()
                } else {
                    "check the address and your internet connection".to_owned()
                }
            )
        })?;
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status();
        let body = r.text().unwrap_or_default();
        bail!("{}", describe(status, &body))
    }

    fn json(&self, rb: RequestBuilder) -> anyhow::Result<Value> {
        let r = self.send(rb)?;
        let text = r.text().context("the server's answer broke off")?;
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).context("the server's answer is not valid JSON")
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.json(self.client.get(self.url(path)))
    }

    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.json(self.client.post(self.url(path)).json(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.json(self.client.put(self.url(path)).json(body))
    }

    /// A raw GET (attachment downloads), streamed by the caller.
    pub fn get_stream(&self, path: &str) -> anyhow::Result<Response> {
        self.send(self.client.get(self.url(path)))
    }

    /// Logs in by signing the server's challenge (§1.5). Returns the advisor id.
    pub fn login(&mut self, identity: &IdentityKey) -> anyhow::Result<String> {
        let id = b64(&identity.public().to_bytes());
        let c = self.post("/api/v1/advisor/login/challenge", &json!({"identity": id}))?;
        let challenge = unb64("challenge", at(&c, "challenge").as_str().unwrap_or(""))?;
        if challenge.len() != 32 {
            bail!("the server sent a malformed login challenge");
        }
        let sig = identity.sign_login(&challenge);
        let v = self.post(
            "/api/v1/advisor/login",
            &json!({"identity": id, "challenge": b64(&challenge), "signature": b64(&sig)}),
        )?;
        let token = at(&v, "token")
            .as_str()
            .ok_or_else(|| anyhow!("the server did not send a session"))?;
        self.token = Some(SecretString::from(token));
        Ok(at(&v, "advisor").as_str().unwrap_or("").to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_session_token() -> anyhow::Result<()> {
        let mut api = Api::new("https://meldpunt.example.nl/")?;
        api.token = Some(SecretString::from("TOKEN-CANARY"));
        let shown = format!("{api:?}");
        assert!(shown.contains("https://meldpunt.example.nl"), "{shown}");
        assert!(!shown.contains("TOKEN-CANARY"), "{shown}");
        Ok(())
    }
}
