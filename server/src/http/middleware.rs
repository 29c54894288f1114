//! Middleware: request logging without personal data, security headers, and JSON bodies for
//! every error response (including actix's own 404/405/413).

use std::time::Instant;

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

/// Adds the security headers to every response; API answers are never cached.
pub async fn security_headers(
    cfg: Headers,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path().to_owned();
    let https = cfg.https(&req);
    let mut res = next.call(req).await?;
    let is_error = res.status().is_client_error() || res.status().is_server_error();
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
    let api = is_error || path.starts_with("/api/") || path == "/healthz" || path == "/metrics";
    if api || !h.contains_key(header::CACHE_CONTROL) {
        set(
            h,
            header::CACHE_CONTROL,
            if api { "no-store" } else { "no-cache" },
        );
    }
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
