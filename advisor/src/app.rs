//! `meldpunt advisor app`: serves the advisor web pages from this program on 127.0.0.1 (so the
//! server cannot change the code that sees the advisor's keys) and relays `/api/*` to the
//! instance. The relay streams bodies both ways, forwards only the headers the API needs (no
//! cookies, no User-Agent, no forwarding headers) and adds nothing that identifies the advisor.

use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt;

use crate::client::normalise_instance;
use crate::keyfile::{PassSource, Unlocked};

/// Request headers passed on to the instance.
const REQUEST_HEADERS: [&str; 5] = [
    "content-type",
    "content-length",
    "authorization",
    "accept",
    "meldpunt-pow",
];
/// Response headers passed back.
const RESPONSE_HEADERS: [&str; 4] = [
    "content-type",
    "content-length",
    "cache-control",
    "retry-after",
];

struct Relay {
    instance: String,
    www: PathBuf,
    client: reqwest::Client,
}

fn default_www() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.join("www"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../client-wasm/www"));
    candidates.into_iter().find(|p| p.is_dir())
}

pub fn run(
    keyring: &Path,
    source: PassSource,
    www: Option<PathBuf>,
    server: Option<String>,
    no_open: bool,
) -> anyhow::Result<()> {
    let instance = match server {
        Some(s) => normalise_instance(&s)?,
        None => {
            let u = Unlocked::open(keyring, source)?;
            if u.meta.instance.is_empty() {
                bail!("this keyring does not name an instance; give one with --server");
            }
            u.meta.instance.clone()
        }
    };
    let www = match www {
        Some(w) => w,
        None => default_www().ok_or_else(|| {
            anyhow!("cannot find the advisor web pages; give their folder with --www")
        })?,
    };
    let www = www
        .canonicalize()
        .with_context(|| format!("cannot open the folder {}", www.display()))?;
    if !www.is_dir() {
        bail!("{} is not a folder", www.display());
    }
    actix_web::rt::System::new().block_on(serve(instance, www, no_open))
}

async fn serve(instance: String, www: PathBuf, no_open: bool) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot set up the relay")?;
    let start = if www.join("advisor/index.html").is_file() {
        "/advisor/"
    } else {
        "/"
    };
    let data = web::Data::new(Relay {
        instance,
        www,
        client,
    });
    // Bound first, so that every request can be checked against the app's own address.
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).context("cannot listen on 127.0.0.1")?;
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .context("cannot listen on 127.0.0.1")?;
    let server = HttpServer::new(move || {
        App::new()
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                // DNS rebinding: a page of another site that points its name at 127.0.0.1 sends
                // its own Host; only the app's own address is answered.
                let host_ok = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|h| own_host(h, port));
                let fut = if host_ok { Some(srv.call(req)) } else { None };
                async move {
                    let Some(fut) = fut else {
                        return Err(actix_web::error::InternalError::from_response(
                            "host",
                            with_security_headers(json_error(
                                StatusCode::MISDIRECTED_REQUEST,
                                "bad_host",
                                "this app answers only on its own address (127.0.0.1 or localhost)",
                            )),
                        )
                        .into());
                    };
                    let mut res = fut.await?;
                    meldpunt_web::set_security_headers(res.headers_mut());
                    Ok(res)
                }
            })
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(usize::MAX))
            .service(web::resource("/api/{tail:.*}").to(relay))
            .default_service(web::to(static_file))
    })
    .workers(1)
    .listen(listener)
    .context("cannot listen on 127.0.0.1")?;
    let url = format!("http://127.0.0.1:{port}{start}");
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{url}");
        let _ = out.flush();
    }
    eprintln!("The advisor pages are at {url} (only on this computer). Press Ctrl-C to stop.");
    if !no_open {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("xdg-open").is_file()))
            .unwrap_or(false);
        if found {
            let _ = std::process::Command::new("xdg-open")
                .arg(&url)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
        }
    }
    server.run().await.context("the local server stopped")
}

/// Whether a `Host` header names this app: `127.0.0.1:PORT` or `localhost:PORT`.
fn own_host(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    p.parse::<u16>().is_ok_and(|p| p == port)
        && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

/// The app's own headers on every answer, whatever the instance sent: the server's (CSP, no
/// sniffing, no framing, no referrer, nothing cached; `meldpunt_web`), without HSTS.
fn with_security_headers(mut r: HttpResponse) -> HttpResponse {
    meldpunt_web::set_security_headers(r.headers_mut());
    r
}

/// Whether an API path may be relayed: `/api/v1/` and plain path segments only (no `..`,
/// no empty or encoded segments), so the relay is not a general proxy to the instance.
fn relayable(path: &str) -> bool {
    path.strip_prefix("/api/v1/").is_some_and(|rest| {
        !rest.is_empty()
            && rest.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
            })
    })
}

fn json_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"error": code, "message": message}))
}

async fn relay(req: HttpRequest, mut body: web::Payload, st: web::Data<Relay>) -> HttpResponse {
    // Only the path (and query) of the request, to the configured instance: an absolute URL
    // in the request line does not choose the host.
    if !relayable(req.uri().path()) {
        return json_error(StatusCode::NOT_FOUND, "not_found", "not an instance API path");
    }
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", st.instance);
    let Ok(method) = reqwest::Method::from_bytes(req.method().as_str().as_bytes()) else {
        return json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        );
    };
    let mut rb = st.client.request(method.clone(), url);
    for name in REQUEST_HEADERS {
        if let Some(v) = req.headers().get(name)
            && let Ok(v) = v.to_str()
        {
            rb = rb.header(name, v);
        }
    }
    if !matches!(method, reqwest::Method::GET | reqwest::Method::HEAD) {
        // The payload is not `Send`; a local task feeds it through a channel.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
        actix_web::rt::spawn(async move {
            while let Some(chunk) = body.next().await {
                let item = chunk.map_err(|e| std::io::Error::other(e.to_string()));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        rb = rb.body(reqwest::Body::wrap_stream(stream));
    }
    let resp = match rb.send().await {
        Ok(r) => r,
        Err(_) => {
            return json_error(
                StatusCode::BAD_GATEWAY,
                "relay",
                "cannot reach the Meldpunt instance",
            );
        }
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HttpResponse::build(status);
    for name in RESPONSE_HEADERS {
        if let Some(v) = resp.headers().get(name)
            && let Ok(v) = HeaderValue::from_bytes(v.as_bytes())
        {
            out.insert_header((name, v));
        }
    }
    out.insert_header((header::REFERRER_POLICY, "no-referrer"));
    out.streaming(resp.bytes_stream())
}

/// The advisor pages, as the server serves them (`meldpunt_web`).
async fn static_file(req: HttpRequest, st: web::Data<Relay>) -> HttpResponse {
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD
    {
        return json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        );
    }
    match meldpunt_web::find(st.www.clone(), req.path()).await {
        Ok(Some(file)) => file.response(),
        _ => json_error(StatusCode::NOT_FOUND, "not_found", "not found"),
    }
}
