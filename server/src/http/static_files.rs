//! The web client's files (`client-wasm/www`, set as `static_dir`), served with the same
//! security headers as everything else. Which path is which file, and what is refused, is
//! `meldpunt_web` (shared with the advisor's local app); here: the rate limit and the errors.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::client_addr::client_addr;
use crate::http::error::{ApiError, ApiResult};
use crate::service::limits::Class;
use crate::service::AppState;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(serve));
}

async fn serve(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let not_found = || ApiError::not_found("no such resource");
    if req.path().starts_with("/api/") {
        return Err(not_found());
    }
    let Some(root) = state.settings.static_dir.clone() else {
        return Err(not_found());
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::new(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this resource",
        ));
    }
    state.limits.check(Class::Public, client_addr(&req, &state.limits), &state.metrics)?;
    let file = meldpunt_web::find(root, req.path()).await?;
    Ok(file.ok_or_else(not_found)?.response())
}
