//! Middleware: request logging without personal data, security headers, JSON bodies for
//! every error response (including actix's own 404/405/413), and a minimum rate for request
//! bodies (slowloris).

use meldpunt_api::ErrorCode;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::HttpMessage;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::Bytes;
use futures_util::Stream;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::config::Settings;
use crate::error::ApiError;
use crate::service::AppState;

/// Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; form-action 'self'; \
base-uri 'none'; frame-ancestors 'none'";

/// Permissions-Policy: the pages need none of these features.
pub const PERMISSIONS: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), \
magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=(), browsing-topics=()";

/// Logs route pattern, status and latency, nothing else: no address, no user agent, no path
/// parameters (ids, slugs), no query, no body.
pub async fn log_requests(
    state: web::Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    state.metrics.response(status);
    // A log line carries its exact time. For the reporter's routes that time is metadata the
    // database deliberately does not keep (it stores days): when a case was filed, when its
    // reporter came back. Those requests are counted in the metrics and logged only when
    // they fail on the server's side.
    if status >= 500 || !is_reporter_route(&route) {
        tracing::info!(
            target: "meldpunt::http",
            method = %method,
            route = %route,
            status,
            latency_ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        );
    }
    Ok(res)
}

/// Routes a reporter's browser calls (the public organisation page, proof of work, creating
/// and reading a case, its messages and attachments) and the static pages.
fn is_reporter_route(route: &str) -> bool {
    route == "/api/v1/cases"
        || route == "/api/v1/case"
        || route.starts_with("/api/v1/case/")
        || route == "/api/v1/pow"
        || route.starts_with("/api/v1/orgs/")
        || !route.starts_with("/api/")
}

/// Header values prepared once.
#[derive(Debug, Clone)]
pub struct Headers {
    /// Always: built-in TLS, or `hsts = true` (clients reach the server over HTTPS).
    hsts: bool,
    /// Also on requests from this proxy that say `X-Forwarded-Proto: https`.
    proxy: Option<std::net::IpAddr>,
}

impl Headers {
    /// From the settings.
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        Headers {
            hsts: settings.hsts || settings.tls.is_some(),
            proxy: settings.trusted_proxy,
        }
    }

    /// Whether this request reached us over HTTPS as far as we can trust: built-in TLS or
    /// `hsts = true`, or the trusted proxy says so.
    fn https(&self, req: &ServiceRequest) -> bool {
        self.hsts
            || (self.proxy.is_some()
                && req.peer_addr().map(|a| a.ip()) == self.proxy
                && req
                    .headers()
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
    }
}

/// Adds the security headers to every response; nothing is ever cached.
pub async fn security_headers(
    cfg: Headers,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let https = cfg.https(&req);
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let set = |h: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS,
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    if https {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    // Nothing outlives the tab (design): no answer, page or asset may be kept in the disk
    // cache, where it would show later that this device visited the reporting service.
    set(h, header::CACHE_CONTROL, "no-store");
    Ok(res)
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

/// Gives every error response a JSON body `{"error", "message"}`: handler errors already have
/// one; actix's own (no route, wrong method, extractor failures without a handler) get one here.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // (The request must not be cloned before routing: the router needs it exclusively.)
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // Only middleware fails this way (handler errors are already responses); the
            // dispatcher renders the returned error with `ApiError`'s JSON body.
            let status = e.as_response_error().status_code();
            let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
            return Err(ApiError::new(status, code_for(status), reason).into());
        }
    };
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(res);
    }
    let message = match status {
        StatusCode::NOT_FOUND => "no such resource".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this resource".to_owned(),
        s => s.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let api = ApiError::new(status, code_for(status), message);
    let (req, old) = res.into_parts();
    let mut new = api.to_response();
    // Keep headers such as `Allow` on a 405.
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, new))
}

/// Time a request body may take before [`BODY_MIN_RATE`] applies.
pub const BODY_GRACE: Duration = Duration::from_secs(20);
/// Bytes per second a request body must average after [`BODY_GRACE`]: the body of a request
/// that has sent `n` bytes must go on within `BODY_GRACE + n / BODY_MIN_RATE` seconds of its
/// start (as Apache's `mod_reqtimeout body=20,MinRate=500`).
pub const BODY_MIN_RATE: u64 = 500;

/// Fails the request body of a client that sends it too slowly (slowloris: a byte now and
/// then, or part of the announced length and then nothing). actix's own timeouts cover only
/// the request head (`client_request_timeout`) and idle keep-alive, not a body being read.
/// The handler then answers 408 and actix closes the connection (its body was not read).
pub async fn body_timeout(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        let inner = req.take_payload();
        let body = SlowBody {
            inner,
            started: Instant::now(),
            received: 0,
            timer: Box::pin(sleep(BODY_GRACE)),
            failed: false,
        };
        let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(body);
        req.set_payload(Payload::from(boxed));
    }
    next.call(req).await
}

/// A request body with a deadline that grows with what has arrived.
struct SlowBody {
    inner: Payload,
    started: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    failed: bool,
}

impl Stream for SlowBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received = this.received.saturating_add(chunk.len() as u64);
                let allowed =
                    BODY_GRACE.saturating_add(Duration::from_secs(this.received / BODY_MIN_RATE));
                let deadline = this.started.checked_add(allowed).unwrap_or(this.started);
                this.timer
                    .as_mut()
                    .reset(actix_web::rt::time::Instant::from_std(deadline));
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.failed = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "request body arrived too slowly",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// The answer to a request body that cannot be read: 408 if it came too slowly
/// ([`body_timeout`]), else 400.
#[must_use]
pub fn body_read_error(e: &PayloadError) -> ApiError {
    match e {
        PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTimeout,
            "the request body arrived too slowly",
        ),
        _ => ApiError::bad_request(ErrorCode::InvalidBody, "cannot read the request body"),
    }
}
