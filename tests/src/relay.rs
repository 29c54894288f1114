//! The hostile relay: a man in the middle between Meldpunt clients and a real server, playing
//! the server the threat model worries about. It forwards every request and answer, changes
//! the answers according to its mode, and tries to open every envelope and detached stanza it
//! sees with the keys it holds: a client that never seals to the relay makes `opened` stay 0.
//!
//! Modes (`POST /__relay/mode {"mode": M, ...}`):
//!
//! - `none`: forward unchanged;
//! - `add_advisor`: put the relay's own advisor (a fresh identity, a validly self-signed
//!   current bundle, "Onafhankelijk extern vertrouwenspersoon", appointed by the branch) first
//!   into every advisor list of organisation pages and of both case views;
//! - `swap_keys`: replace every listed advisor's bundles by one bundle of the relay's key,
//!   signed by the relay's identity (so they must not verify);
//! - `drop_advisor` (`advisor`: an id): remove that advisor from every list;
//! - `drop_message` (`index`): remove that message from case views;
//! - `reorder` (`a`, `b`; default the last two): swap two messages of case views;
//! - `replay` (`index`; default the last): append a copy of that message to case views;
//! - `odd_ids`: in the advisor's inbox, give every case an id that is no case id (non-ASCII,
//!   with a character cut at byte 8: [`ODD_ID`] followed by a number) and put terminal escape
//!   sequences into its organisation; requests naming an odd id are forwarded with the real one.
//!
//! `GET /__relay/identity` → `{id, identity, fingerprint}` of the relay's advisor;
//! `GET /__relay/log` → `{forwarded, envelopes_seen, opened}`.

use std::io::Read;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use base64ct::{Base64UrlUnpadded, Encoding};
use meldpunt_crypto::envelope::{self, MAX_HEADER_LEN};
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::recipient::DecryptionKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use serde_json::{Value, json};

use crate::{b64, day_from_today, now};

/// Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1), plus
/// the ones the HTTP libraries set themselves.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// An upstream answer: status, headers (minus hop-by-hop), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// The largest body the relay handles (attachments included).
const MAX_BODY: u64 = 64 << 20;
/// How many envelope headers the relay remembers to try detached stanzas against.
const MAX_REMEMBERED: usize = 4096;

/// The relay advisor's display name.
pub const RELAY_NAME: &str = "Onafhankelijk extern vertrouwenspersoon";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    None,
    AddAdvisor,
    SwapKeys,
    DropAdvisor(String),
    DropMessage(usize),
    Reorder(Option<(usize, usize)>),
    Replay(Option<usize>),
    OddIds,
}

/// The start of the ids that mode `odd_ids` puts into the inbox: seven ASCII letters, then
/// two-byte characters, so that byte 8 falls inside a character.
pub const ODD_ID: &str = "abcdefgéééé";

#[derive(Debug, Default)]
struct Log {
    forwarded: u64,
    envelopes_seen: u64,
    opened: u64,
    /// Headers of envelopes seen (to try detached stanzas against).
    headers: Vec<Vec<u8>>,
}

/// The relay's state.
pub struct Relay {
    upstream: String,
    http: reqwest::blocking::Client,
    mode: Mutex<Mode>,
    log: Mutex<Log>,
    /// `odd_ids`: (odd id, real id) pairs handed out.
    odd: Mutex<Vec<(String, String)>>,
    identity: IdentityKey,
    key: DecryptionKey,
    id: String,
    bundle: String,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

fn unb64(v: &Value) -> Option<Vec<u8>> {
    v.as_str()
        .and_then(|s| Base64UrlUnpadded::decode_vec(s).ok())
}

/// What kind of answer a path is, for the manipulations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Org,
    CaseView,
    Other,
}

fn page_of(method: &str, path: &str) -> Page {
    if method != "GET" {
        return Page::Other;
    }
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        ["", "api", "v1", "orgs", _] => Page::Org,
        ["", "api", "v1", "case"] | ["", "api", "v1", "advisor", "cases", _] => Page::CaseView,
        _ => Page::Other,
    }
}

impl Relay {
    /// A relay for `upstream` (`http://127.0.0.1:PORT`), with a fresh advisor identity.
    ///
    /// # Errors
    /// If the HTTP client cannot be set up or the bundle cannot be made.
    pub fn new(upstream: &str) -> Result<Self> {
        let identity = IdentityKey::generate(&mut os_rng());
        let key = DecryptionKey::generate(&mut os_rng());
        let t = now();
        let bundle = identity
            .make_bundle(&key.recipient(), t - 3600, t + 365 * 86_400)
            .map_err(|e| anyhow!("bundle: {e}"))?;
        let mut id = [0u8; 16];
        os_rng().fill_bytes(&mut id);
        Ok(Relay {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("http client")?,
            mode: Mutex::new(Mode::None),
            odd: Mutex::new(Vec::new()),
            log: Mutex::new(Log::default()),
            identity,
            key,
            id: b64(&id),
            bundle: b64(&bundle.to_bytes()),
        })
    }

    fn advisor_json(&self) -> Value {
        let pk = self.identity.public();
        json!({
            "id": self.id,
            "display_name": RELAY_NAME,
            "bio": "Onafhankelijk, extern en vertrouwelijk.",
            "external": true,
            "branch_wide": true,
            "languages": ["nl", "en"],
            "identity": b64(&pk.to_bytes()),
            "fingerprint": pk.fingerprint().to_display(),
            "bundles": [self.bundle],
            "revocations": [],
            "appointed_by": "branch",
            "appointed_since": day_from_today(0),
        })
    }

    /// `{id, identity, fingerprint}` of the relay's advisor.
    #[must_use]
    pub fn identity_json(&self) -> Value {
        let pk = self.identity.public();
        json!({"id": self.id, "identity": b64(&pk.to_bytes()), "fingerprint": pk.fingerprint().to_display()})
    }

    /// `{forwarded, envelopes_seen, opened}`.
    #[must_use]
    pub fn log_json(&self) -> Value {
        let log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        json!({"forwarded": log.forwarded, "envelopes_seen": log.envelopes_seen, "opened": log.opened})
    }

    fn set_mode(&self, v: &Value) -> Result<()> {
        let index = |k: &str| v[k].as_u64().and_then(|n| usize::try_from(n).ok());
        let mode = match v["mode"].as_str().unwrap_or("") {
            "none" => Mode::None,
            "add_advisor" => Mode::AddAdvisor,
            "swap_keys" => Mode::SwapKeys,
            "drop_advisor" => Mode::DropAdvisor(
                v["advisor"]
                    .as_str()
                    .ok_or_else(|| anyhow!("drop_advisor needs `advisor`"))?
                    .to_owned(),
            ),
            "drop_message" => Mode::DropMessage(
                index("index").ok_or_else(|| anyhow!("drop_message needs `index`"))?,
            ),
            "reorder" => Mode::Reorder(index("a").zip(index("b"))),
            "replay" => Mode::Replay(index("index")),
            "odd_ids" => Mode::OddIds,
            other => return Err(anyhow!("unknown mode {other:?}")),
        };
        *self
            .mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = mode;
        Ok(())
    }

    /// Whether the relay's key opens an envelope header (with these detached stanzas).
    fn opens(&self, header: &[u8], detached: &[&[u8]]) -> bool {
        envelope::rewrap(
            header,
            &[&self.key],
            detached,
            &self.key.recipient(),
            &mut os_rng(),
        )
        .is_ok()
    }

    /// Counts one envelope or stanza seen, and whether it opened; remembers a header.
    fn record(&self, opened: bool, header: Option<&[u8]>) {
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.envelopes_seen += 1;
        log.opened += u64::from(opened);
        if let Some(head) = header
            && log.headers.len() < MAX_REMEMBERED
            && !log.headers.iter().any(|h| h.as_slice() == head)
        {
            log.headers.push(head.to_vec());
        }
    }

    /// Counts an envelope (or its first bytes) and tries to open it with the relay's key.
    fn try_envelope(&self, bytes: &[u8]) {
        let head = bytes
            .get(..MAX_HEADER_LEN.min(bytes.len()))
            .unwrap_or(bytes);
        if envelope::Header::parse(head).is_err() {
            return;
        }
        self.record(self.opens(head, &[]), Some(head));
    }

    /// Counts a detached stanza and tries it against every envelope header seen so far.
    fn try_stanza(&self, stanza: &[u8]) {
        let headers = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .headers
            .clone();
        let opened = headers.iter().any(|h| self.opens(h, &[stanza]));
        self.record(opened, None);
    }

    /// Looks for envelopes and stanzas in a JSON value (any `envelope` field, any `stanza`
    /// field, any `stanzas` array).
    fn scan_json(&self, v: &Value) {
        let mut stanzas = Vec::new();
        self.scan_envelopes(v, &mut stanzas);
        for s in stanzas {
            self.try_stanza(&s);
        }
    }

    fn scan_envelopes(&self, v: &Value, stanzas: &mut Vec<Vec<u8>>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match (k.as_str(), x) {
                        ("envelope", _) => {
                            if let Some(b) = unb64(x) {
                                self.try_envelope(&b);
                            }
                        }
                        ("stanza", _) => stanzas.extend(unb64(x)),
                        ("stanzas", Value::Array(list)) => {
                            for s in list {
                                match s {
                                    Value::String(_) => stanzas.extend(unb64(s)),
                                    other => self.scan_envelopes(other, stanzas),
                                }
                            }
                        }
                        _ => self.scan_envelopes(x, stanzas),
                    }
                }
            }
            Value::Array(list) => {
                for x in list {
                    self.scan_envelopes(x, stanzas);
                }
            }
            _ => {}
        }
    }

    fn scan_body(&self, content_type: &str, body: &[u8]) {
        if body.is_empty() {
            return;
        }
        if content_type.starts_with("application/json") {
            if let Ok(v) = serde_json::from_slice::<Value>(body) {
                self.scan_json(&v);
            }
        } else {
            // Attachment uploads and downloads are raw envelopes.
            self.try_envelope(body);
        }
    }

    fn manipulate(&self, page: Page, v: &mut Value) {
        let mode = self
            .mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if page == Page::Other {
            return;
        }
        if let Some(list) = v.get_mut("advisors").and_then(Value::as_array_mut) {
            match &mode {
                Mode::AddAdvisor => list.insert(0, self.advisor_json()),
                Mode::SwapKeys => {
                    let t = now();
                    for a in list.iter_mut() {
                        if let Ok(b) =
                            self.identity
                                .make_bundle(&self.key.recipient(), t - 3600, t + 86_400)
                        {
                            a["bundles"] = json!([b64(&b.to_bytes())]);
                        }
                    }
                }
                Mode::DropAdvisor(id) => list.retain(|a| a["id"].as_str() != Some(id.as_str())),
                _ => {}
            }
        }
        if page != Page::CaseView {
            return;
        }
        if let Some(list) = v.get_mut("messages").and_then(Value::as_array_mut) {
            let n = list.len();
            match mode {
                Mode::DropMessage(i) if i < n => {
                    list.remove(i);
                }
                Mode::Reorder(pair) => {
                    let (a, b) = pair.unwrap_or((n.saturating_sub(2), n.saturating_sub(1)));
                    if a < n && b < n {
                        list.swap(a, b);
                    }
                }
                Mode::Replay(i) => {
                    if let Some(m) = list.get(i.unwrap_or(n.saturating_sub(1))).cloned() {
                        list.push(m);
                    }
                }
                _ => {}
            }
        }
    }

    fn control(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        match (method, path) {
            ("POST", "/__relay/mode") => match serde_json::from_slice::<Value>(body)
                .map_err(anyhow::Error::from)
                .and_then(|v| self.set_mode(&v))
            {
                Ok(()) => (200, json!({"ok": true})),
                Err(e) => (400, json!({"error": e.to_string()})),
            },
            ("GET", "/__relay/identity") => (200, self.identity_json()),
            ("GET", "/__relay/log") => (200, self.log_json()),
            _ => (404, json!({"error": "no such relay endpoint"})),
        }
    }

    fn handle(&self, mut req: tiny_http::Request) {
        let method = req.method().as_str().to_owned();
        let url = req.url().to_owned();
        let mut body = Vec::new();
        if req
            .as_reader()
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .is_err()
        {
            let _ =
                req.respond(tiny_http::Response::from_string("bad request").with_status_code(400));
            return;
        }
        if url.starts_with("/__relay/") {
            let (status, v) = self.control(&method, url.split('?').next().unwrap_or(&url), &body);
            let _ = req.respond(json_response(status, &v));
            return;
        }
        let content_type = header(&req, "content-type");
        self.scan_body(&content_type, &body);
        let url = self.real_ids(&url);
        let answer = self.forward(&req, &method, &url, body);
        let response = match answer {
            Ok((status, headers, mut bytes)) => {
                let ct = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                self.scan_body(&ct, &bytes);
                let page = page_of(&method, &url);
                if page != Page::Other
                    && (200..300).contains(&status)
                    && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
                {
                    self.manipulate(page, &mut v);
                    bytes = v.to_string().into_bytes();
                }
                if method == "GET"
                    && url.split('?').next() == Some("/api/v1/advisor/cases")
                    && (200..300).contains(&status)
                    && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
                    && self.odd_inbox(&mut v)
                {
                    bytes = v.to_string().into_bytes();
                }
                let mut r = tiny_http::Response::from_data(bytes).with_status_code(status);
                for (k, v) in headers {
                    if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                        r.add_header(h);
                    }
                }
                r
            }
            Err(e) => {
                tiny_http::Response::from_string(format!("relay: {e:#}")).with_status_code(502)
            }
        };
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .forwarded += 1;
        let _ = req.respond(response);
    }

    /// Mode `odd_ids`: replaces the inbox's case ids by odd ones. Whether it did.
    fn odd_inbox(&self, v: &mut Value) -> bool {
        let on = matches!(
            *self
                .mode
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            Mode::OddIds
        );
        let Some(list) = v
            .get_mut("cases")
            .and_then(Value::as_array_mut)
            .filter(|_| on)
        else {
            return false;
        };
        let mut odd = self
            .odd
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for c in list.iter_mut() {
            let real = c["id"].as_str().unwrap_or("").to_owned();
            let fake = match odd.iter().find(|(_, r)| *r == real) {
                Some((f, _)) => f.clone(),
                None => {
                    let f = format!("{ODD_ID}{}", odd.len());
                    odd.push((f.clone(), real));
                    f
                }
            };
            c["id"] = json!(fake);
            c["org"] = json!(format!(
                "\u{1b}]0;pwned\u{7}\u{1b}[2J{}",
                c["org"].as_str().unwrap_or("")
            ));
        }
        true
    }

    /// A request URL with every odd id handed out (raw or percent-encoded) put back.
    fn real_ids(&self, url: &str) -> String {
        let mut url = url.to_owned();
        for (fake, real) in self
            .odd
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let encoded: String = fake
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            url = url.replace(&encoded, real).replace(fake.as_str(), real);
        }
        url
    }

    fn forward(
        &self,
        req: &tiny_http::Request,
        method: &str,
        url: &str,
        body: Vec<u8>,
    ) -> Result<Answer> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).context("method")?;
        let mut out = self.http.request(m, format!("{}{url}", self.upstream));
        for h in req.headers() {
            let name = h.field.as_str().as_str().to_ascii_lowercase();
            if !HOP_BY_HOP.contains(&name.as_str()) {
                out = out.header(name, h.value.as_str());
            }
        }
        let res = out.body(body).send().context("upstream")?;
        let status = res.status().as_u16();
        let headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_owned(), v.to_owned()))
            })
            .collect();
        let mut bytes = Vec::new();
        res.take(MAX_BODY)
            .read_to_end(&mut bytes)
            .context("upstream body")?;
        Ok((status, headers, bytes))
    }
}

fn header(req: &tiny_http::Request, name: &str) -> String {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_owned())
        .unwrap_or_default()
}

fn json_response(status: u16, v: &Value) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut r = tiny_http::Response::from_data(v.to_string().into_bytes()).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"content-type"[..], &b"application/json"[..]) {
        r.add_header(h);
    }
    r
}

/// A relay running on its own threads.
#[derive(Debug)]
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The relay's state (mode, log, identity).
    pub relay: Arc<Relay>,
}

impl Running {
    /// Sets the mode as `POST /__relay/mode` would.
    ///
    /// # Errors
    /// An unknown mode or a missing parameter.
    pub fn set_mode(&self, v: &Value) -> Result<()> {
        self.relay.set_mode(v)
    }
}

/// Starts a relay for `upstream` on `listen` (`127.0.0.1:0` for any free port); requests are
/// handled on a thread each.
///
/// # Errors
/// If the address cannot be bound.
pub fn start(upstream: &str, listen: &str) -> Result<Running> {
    let relay = Arc::new(Relay::new(upstream)?);
    let server =
        tiny_http::Server::http(listen).map_err(|e| anyhow!("cannot listen on {listen}: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| anyhow!("no port"))?;
    let url = format!("http://127.0.0.1:{port}");
    let r = Arc::clone(&relay);
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let r = Arc::clone(&r);
            std::thread::spawn(move || r.handle(req));
        }
    });
    Ok(Running { url, relay })
}
