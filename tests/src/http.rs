//! The HTTP and encoding helpers of the tests: answers checked for status and error code,
//! base64url (RFC 4648 §5, no padding) and the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use base64ct::{Base64UrlUnpadded, Encoding};
use meldpunt_crypto::rng::{Rng, os_rng};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::blocking::Response;
use serde_json::Value;

/// Base64url without padding.
#[must_use]
pub fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

/// Decodes base64url without padding; panics on anything else.
#[must_use]
pub fn unb64(s: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

/// Unix seconds now.
#[must_use]
pub fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The UTC calendar day `days` from today, as `YYYY-MM-DD`.
#[must_use]
pub fn day_from_today(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The status, the content type and the body of an answer.
fn status_type_text(r: Response) -> (u16, String, String) {
    let got = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (got, ct, r.text().unwrap())
}

/// Asserts status and JSON error code; returns the body.
pub fn expect(r: Response, status: u16, code: Option<&str>) -> Value {
    let (got, ct, text) = status_type_text(r);
    assert_eq!(got, status, "body: {text}");
    if status >= 400 {
        assert!(
            ct.starts_with("application/json"),
            "content-type {ct} for {text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["error"].is_string() && v["message"].is_string(), "{text}");
        if let Some(code) = code {
            assert_eq!(v["error"], code, "{text}");
        }
        v
    } else if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}


/// Checks a refusal named `name`: the status, a JSON body with the error `code` and a
/// non-empty message; returns the body.
pub fn refused(name: &str, r: Response, status: u16, code: &str) -> Value {
    let (got, ct, text) = status_type_text(r);
    assert_eq!(got, status, "{name}: {text}");
    assert!(
        ct.starts_with("application/json"),
        "{name}: content-type {ct}"
    );
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: not JSON: {text}"));
    assert_eq!(v["error"], code, "{name}: {text}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{name}"
    );
    v
}

/// `GET {base}/api/v1/case` with a random case token whose first byte is `first` (a guess).
pub fn guess_case_token(client: &Client, base: &str, first: u8) -> Response {
    let mut guess = [0u8; 32];
    os_rng().fill_bytes(&mut guess);
    guess[0] = first;
    with_case_token(client.get(format!("{base}/api/v1/case")), &b64(&guess))
        .send()
        .unwrap()
}

/// `rb` with `Authorization: CaseToken TOKEN`.
pub fn with_case_token(rb: RequestBuilder, token: &str) -> RequestBuilder {
    rb.header("Authorization", format!("CaseToken {token}"))
}

/// Attachment uploads (`PUT …/attachments/ID`) on a request.
pub trait AttachmentUpload {
    /// The request as an upload of `body` (`application/octet-stream`) with the solved proof
    /// of work `pow` ([`crate::Server::pow`]) in the `Meldpunt-Pow` header.
    #[must_use]
    fn attachment(self, pow: &Value, body: Vec<u8>) -> Self;
}

impl AttachmentUpload for RequestBuilder {
    fn attachment(self, pow: &Value, body: Vec<u8>) -> Self {
        self.header("Content-Type", "application/octet-stream")
            .header(
                "Meldpunt-Pow",
                format!("{}.{}", pow["challenge"].as_str().unwrap(), pow["nonce"]),
            )
            .body(body)
    }
}
