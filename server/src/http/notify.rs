//! `GET`/`PUT /api/v1/advisor/notify`: the advisor's own address for content-free activity
//! notifications (`crate::notify`).

use meldpunt_api::ErrorCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::handlers::advisor_auth;
use crate::error::{ApiError, ApiResult};
use crate::service::AppState;

/// `{"email": "name@example.nl"}` sets the address, `{"email": null}` removes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetNotify {
    /// Required, possibly null (`{}` is refused).
    #[serde(deserialize_with = "nullable")]
    email: Option<String>,
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

fn answer(state: &AppState, email: Option<String>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "email": email,
        "instance_enabled": state.notify.enabled(),
    }))
}

pub(super) async fn get(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let id = me.advisor.id;
    let email = state.db(move |s| s.notify_email(&id)).await?;
    Ok(answer(&state, email))
}

pub(super) async fn put(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SetNotify>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let email = match &body.email {
        Some(e) => Some(
            crate::notify::check_address(e)
                .map_err(|why| ApiError::bad_request(ErrorCode::BadEmail, why))?,
        ),
        None => None,
    };
    let id = me.advisor.id;
    let stored = email.clone();
    state
        .db(move |s| s.set_notify_email(&id, stored.as_deref()))
        .await?;
    Ok(answer(&state, email))
}
