//! The testkit's view of the server: a blocking client for one base URL that fails on any
//! error status, advisor login, and reading fields of (hostile) answers.


use anyhow::{Context, Result, anyhow, bail};
use base64ct::{Base64UrlUnpadded, Encoding};
use meldpunt_crypto::keyring::Keyring;
use meldpunt_tests::b64;
use serde_json::{Value, json};

use crate::PASSPHRASE;


/// A field of a server answer (`null` if absent): every answer is hostile input.
pub fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(key).unwrap_or(&NULL)
}

pub fn unb64(v: &Value) -> Result<Vec<u8>> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("expected a base64url string, got {v}"))?;
    Base64UrlUnpadded::decode_vec(s).map_err(|e| anyhow!("base64url: {e}"))
}

pub struct Api {
    pub base: String,
    pub http: reqwest::blocking::Client,
    token: Option<String>,
}

impl Api {
    pub fn new(base: &str) -> Result<Self> {
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::blocking::Client::builder().build()?,
            token: None,
        })
    }
    pub fn send(&self, req: reqwest::blocking::RequestBuilder) -> Result<reqwest::blocking::Response> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send()?;
        if !res.status().is_success() {
            let status = res.status();
            bail!("{status}: {}", res.text().unwrap_or_default());
        }
        Ok(res)
    }
    pub fn get(&self, path: &str) -> Result<Value> {
        Ok(self
            .send(self.http.get(format!("{}{path}", self.base)))?
            .json()?)
    }
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        Ok(self
            .send(self.http.get(format!("{}{path}", self.base)))?
            .bytes()?
            .to_vec())
    }
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self
            .send(self.http.post(format!("{}{path}", self.base)).json(body))?
            .json()?)
    }

    pub fn login(&mut self, keyring: &Keyring) -> Result<()> {
        let identity = b64(&keyring.identity().public().to_bytes());
        let c = self.post(
            "/api/v1/advisor/login/challenge",
            &json!({"identity": identity}),
        )?;
        let challenge = unb64(at(&c, "challenge"))?;
        let signature = keyring.identity().sign_login(&challenge);
        let r = self.post(
            "/api/v1/advisor/login",
            &json!({"identity": identity, "challenge": b64(&challenge), "signature": b64(&signature)}),
        )?;
        self.token = Some(
            at(&r, "token")
                .as_str()
                .ok_or_else(|| anyhow!("no token"))?
                .to_owned(),
        );
        Ok(())
    }
}

pub fn load_keyring(path: &str) -> Result<Keyring> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    Keyring::from_file(&bytes, PASSPHRASE).map_err(|e| anyhow!("keyring: {e}"))
}

