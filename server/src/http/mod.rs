//! The HTTP layer: routes, middleware (logging, security headers, JSON errors), body limits.
//!
//! All API routes are listed once, in [`routes`]; the app is built from that list and the
//! OpenAPI test checks the same list against `docs/api/openapi.json`.

mod admin;
mod attachments;
mod client_addr;
pub mod error;
mod handlers;
mod middleware;
mod notify;
mod static_files;

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{App, HttpRequest, Route, web};

use crate::http::error::ApiError;
use crate::service::AppState;

/// The OpenAPI document, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../docs/api/openapi.json");

/// Request body limits of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body (GET) or a small JSON body (16 KiB).
    Small,
    /// A registration with a photo.
    Register,
    /// A JSON body with an envelope (`limits.message_bytes` as base64, plus slack).
    Envelope,
    /// A JSON body with stanzas and a membership statement envelope for a share.
    Share,
    /// A streamed binary body, limited by the handler.
    Stream,
    /// An organisation's settings (texts up to 20,000 characters per language).
    AdminOrg,
}

/// One API route.
pub struct RouteDef {
    /// HTTP method.
    pub method: Method,
    /// Path pattern (actix and OpenAPI syntax).
    pub path: &'static str,
    /// Body limit class.
    pub body: Body,
    route: Route,
}

impl std::fmt::Debug for RouteDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

fn def(method: Method, path: &'static str, body: Body, route: Route) -> RouteDef {
    RouteDef {
        method,
        path,
        body,
        route,
    }
}

/// Every route of the API and the operational endpoints.
#[must_use]
pub fn routes() -> Vec<RouteDef> {
    use Body::{Envelope, Register, Share, Small, Stream};
    use handlers as h;
    let mut routes = vec![
        def(Method::GET, "/healthz", Small, web::get().to(h::healthz)),
        def(
            Method::GET,
            "/api/v1/openapi.json",
            Small,
            web::get().to(h::openapi),
        ),
        // public
        def(
            Method::GET,
            "/api/v1/orgs/{slug}",
            Small,
            web::get().to(h::org_page),
        ),
        def(
            Method::POST,
            "/api/v1/pow",
            Small,
            web::post().to(h::pow_challenge),
        ),
        // reporter
        def(
            Method::POST,
            "/api/v1/cases",
            Envelope,
            web::post().to(h::create_case),
        ),
        def(
            Method::GET,
            "/api/v1/case",
            Small,
            web::get().to(h::reporter_case),
        ),
        def(
            Method::POST,
            "/api/v1/case/messages",
            Envelope,
            web::post().to(h::reporter_message),
        ),
        def(
            Method::PUT,
            "/api/v1/case/attachments/{id}",
            Stream,
            web::put().to(attachments::reporter_upload),
        ),
        def(
            Method::GET,
            "/api/v1/case/attachments/{id}",
            Small,
            web::get().to(attachments::reporter_download),
        ),
        // advisors
        def(
            Method::POST,
            "/api/v1/advisor/register",
            Register,
            web::post().to(h::register),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/login/challenge",
            Small,
            web::post().to(h::login_challenge),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/login",
            Small,
            web::post().to(h::login),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/logout",
            Small,
            web::post().to(h::logout),
        ),
        def(
            Method::GET,
            "/api/v1/advisor/me",
            Small,
            web::get().to(h::me),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/keys",
            Small,
            web::post().to(h::publish_bundle),
        ),
        def(
            Method::GET,
            "/api/v1/advisor/notify",
            Small,
            web::get().to(notify::get),
        ),
        def(
            Method::PUT,
            "/api/v1/advisor/notify",
            Small,
            web::put().to(notify::put),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/revocations",
            Small,
            web::post().to(h::publish_revocation),
        ),
        def(
            Method::GET,
            "/api/v1/advisor/cases",
            Small,
            web::get().to(h::inbox),
        ),
        def(
            Method::GET,
            "/api/v1/advisor/cases/{id}",
            Small,
            web::get().to(h::advisor_case),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/cases/{id}/messages",
            Envelope,
            web::post().to(h::reply),
        ),
        def(
            Method::PUT,
            "/api/v1/advisor/cases/{id}/status",
            Small,
            web::put().to(h::set_status),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/cases/{id}/share",
            Share,
            web::post().to(h::share),
        ),
        def(
            Method::POST,
            "/api/v1/advisor/cases/{id}/remove",
            Envelope,
            web::post().to(h::remove),
        ),
        def(
            Method::GET,
            "/api/v1/advisor/events",
            Small,
            web::get().to(h::events),
        ),
        def(
            Method::PUT,
            "/api/v1/advisor/cases/{id}/attachments/{att}",
            Stream,
            web::put().to(attachments::advisor_upload),
        ),
        def(
            Method::GET,
            "/api/v1/advisor/cases/{id}/attachments/{att}",
            Small,
            web::get().to(attachments::advisor_download),
        ),
    ];
    routes.extend(admin::routes());
    routes
}

fn json_limit(body: Body, state: &AppState) -> usize {
    let l = &state.settings.limits;
    match body {
        Body::Small | Body::Stream => 16 * 1024,
        Body::AdminOrg => 512 * 1024,
        Body::Register => 128 * 1024,
        Body::Envelope => l.message_bytes.div_ceil(3) * 4 + 16 * 1024,
        Body::Share => {
            (l.messages_per_case as usize + l.attachments_per_case as usize) * 256
                + l.message_bytes.div_ceil(3) * 4
                + 16 * 1024
        }
    }
}

fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            ApiError::too_large("request body is too large")
        }
        E::ContentType => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send Content-Type: application/json",
        ),
        E::Deserialize(e) if e.is_data() => ApiError::bad_request(ErrorCode::InvalidRequest, e.to_string()),
        E::Deserialize(e) if e.is_eof() => {
            ApiError::bad_request(ErrorCode::InvalidJson, "request body is not complete JSON")
        }
        E::Deserialize(_) => {
            ApiError::bad_request(ErrorCode::InvalidJson, "request body is not valid JSON")
        }
        E::Payload(e) => middleware::body_read_error(e),
        _ => ApiError::bad_request(ErrorCode::InvalidBody, "cannot read the request body"),
    };
    api.into()
}

fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found("not found").into()
}

fn query_error(_err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(ErrorCode::InvalidQuery, "malformed query string").into()
}

fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(16 * 1024)
}

/// Registers every route, the middleware and the static files on an app.
pub fn configure(state: Arc<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let data = web::Data::from(Arc::clone(&state));
        cfg.app_data(data.clone())
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(payload_config());
        // One resource per path, holding all of its methods (so a wrong method is a 405).
        let mut paths: Vec<&'static str> = Vec::new();
        let defs = routes();
        for d in &defs {
            if !paths.contains(&d.path) {
                paths.push(d.path);
            }
        }
        let mut defs: Vec<Option<RouteDef>> = defs.into_iter().map(Some).collect();
        for path in paths {
            let mut limit = 0;
            let mut resource = web::resource(path);
            for slot in &mut defs {
                if slot.as_ref().is_some_and(|d| d.path == path)
                    && let Some(d) = slot.take()
                {
                    limit = limit.max(json_limit(d.body, &state));
                    resource = resource.route(d.route);
                }
            }
            cfg.service(
                resource.app_data(
                    web::JsonConfig::default()
                        .limit(limit)
                        .error_handler(json_error),
                ),
            );
        }
        static_files::configure(cfg);
    }
}

/// Builds the full application (used by `serve` and by in-process tests).
pub fn app(
    state: Arc<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let headers = middleware::Headers::new(&state.settings);
    let for_log = web::Data::from(Arc::clone(&state));
    App::new()
        .configure(configure(state))
        .wrap(actix_web::middleware::from_fn(middleware::body_timeout))
        .wrap(actix_web::middleware::from_fn(middleware::json_errors))
        .wrap(actix_web::middleware::from_fn(move |req, next| {
            let headers = headers.clone();
            async move { middleware::security_headers(headers, req, next).await }
        }))
        .wrap(actix_web::middleware::from_fn(move |req, next| {
            let state = for_log.clone();
            async move { middleware::log_requests(state, req, next).await }
        }))
}

/// The metrics listener's application: `GET /metrics` and nothing else (every other path a
/// JSON 404). Never mounted on the public listener.
pub fn metrics_app(
    state: Arc<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let headers = middleware::Headers::new(&state.settings);
    App::new()
        .app_data(web::Data::from(state))
        .service(web::resource("/metrics").route(web::get().to(handlers::metrics)))
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(ApiError::not_found("not found"))
        }))
        .wrap(actix_web::middleware::from_fn(middleware::json_errors))
        .wrap(actix_web::middleware::from_fn(move |req, next| {
            let headers = headers.clone();
            async move { middleware::security_headers(headers, req, next).await }
        }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every route of the app is in `docs/api/openapi.json` and every operation there is a
    /// route of the app.
    #[test]
    fn openapi_matches_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let served: BTreeSet<(String, String)> = routes()
            .iter()
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(routes().len(), served.len(), "a route is listed twice");
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "routes missing from openapi.json: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "openapi.json documents routes that do not exist: {extra:?}"
        );
    }
}
