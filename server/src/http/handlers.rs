//! Thin handlers: rate limit, extract, call the service, answer.

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::http::client_addr::client_addr;
use crate::service::wire;
use crate::http::error::{ApiError, ApiResult};
use crate::service::limits::Class;
use crate::service::AppState;
use crate::store::{AdvisorKeys, CaseInfo};

type State = web::Data<AppState>;

fn arc(state: &State) -> Arc<AppState> {
    state.clone().into_inner()
}

/// The credential of `Authorization: <scheme> <value>`.
pub(super) fn credential<'a>(req: &'a HttpRequest, scheme: &str) -> Option<&'a str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (s, rest) = value.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The case of the request's `Authorization: CaseToken …`, after the rate limits.
pub(super) async fn reporter_auth(req: &HttpRequest, state: &State) -> ApiResult<CaseInfo> {
    let ip = state.limits.check_address(Class::Case, client_addr(req, &state.limits), &state.metrics)?;
    let case = state.case_by_token(credential(req, "CaseToken"), ip).await?;
    state.limits.charge_global(Class::Case, &state.metrics)?;
    Ok(case)
}

/// The advisor of the request's `Authorization: Bearer …`, after the rate limits.
pub(super) async fn advisor_auth(req: &HttpRequest, state: &State) -> ApiResult<AdvisorKeys> {
    state.limits.check(Class::Advisor, client_addr(req, &state.limits), &state.metrics)?;
    Ok(state.session(credential(req, "Bearer")).await?)
}

pub(super) async fn healthz(state: State) -> ApiResult<HttpResponse> {
    state.health().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

/// `GET /metrics` on the metrics listener only (never routed on the public one). With
/// `metrics.token` set, the request needs `Authorization: Bearer <token>` (compared in constant
/// time; the header is never logged).
pub(super) async fn metrics(state: State, req: HttpRequest) -> ApiResult<HttpResponse> {
    if !state.settings.metrics.enabled {
        return Err(ApiError::not_found("no such resource"));
    }
    if let Some(token) = &state.settings.metrics.token {
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .map(actix_web::http::header::HeaderValue::as_bytes);
        if !token.matches(header) {
            return Err(ApiError::unauthorized(
                ErrorCode::MetricsToken,
                "a valid metrics bearer token is required",
            ));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render()))
}

pub(super) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(super::OPENAPI)
}

pub(super) async fn org_page(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Public, client_addr(&req, &state.limits), &state.metrics)?;
    Ok(HttpResponse::Ok().json(state.org_page(slug.into_inner()).await?))
}

pub(super) async fn pow_challenge(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Public, client_addr(&req, &state.limits), &state.metrics)?;
    state.metrics.inc(&state.metrics.pow_issued);
    // Under creation pressure the challenge costs more instead of creation being refused
    // (protocol §8); clients do whatever difficulty the challenge says.
    let extra = if state.limits.create_pressure() {
        state.settings.pow.pressure_difficulty
    } else {
        0
    };
    Ok(HttpResponse::Ok().json(state.pow.issue_with(extra)))
}

pub(super) async fn create_case(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::CreateCase>,
) -> ApiResult<HttpResponse> {
    // The address's quota (and shut-out) only: the global creation quota is taken once the
    // request has passed its checks and its proof of work (`AppState::create_case`).
    let ip = state.limits.check_address(Class::Create, client_addr(&req, &state.limits), &state.metrics)?;
    let day = arc(&state).create_case(body.into_inner(), ip).await?;
    Ok(HttpResponse::Created().json(json!({"status": "new", "created": day.to_string()})))
}

pub(super) async fn reporter_case(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let case = reporter_auth(&req, &state).await?;
    Ok(HttpResponse::Ok().json(state.reporter_view(case).await?))
}

pub(super) async fn reporter_message(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::PostFollowUp>,
) -> ApiResult<HttpResponse> {
    let case = reporter_auth(&req, &state).await?;
    let seq = arc(&state).follow_up(case, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(json!({"seq": seq})))
}

pub(super) async fn register(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::Register>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Login, client_addr(&req, &state.limits), &state.metrics)?;
    Ok(HttpResponse::Created().json(state.register(body.into_inner()).await?))
}

pub(super) async fn login_challenge(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::LoginChallengeRequest>,
) -> ApiResult<HttpResponse> {
    // Per address only: anonymous challenge requests (cheap, bounded in memory) must not use
    // up the global login quota, which would lock advisors out of `POST /login`.
    state.limits.check_address(Class::Login, client_addr(&req, &state.limits), &state.metrics)?;
    let (challenge, expires_at) = state.login_challenge(&body)?;
    Ok(HttpResponse::Ok()
        .json(json!({"challenge": wire::b64(&challenge), "expires_at": expires_at})))
}

pub(super) async fn login(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::Login>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Login, client_addr(&req, &state.limits), &state.metrics)?;
    let (token, expires_at, id) = state.login(body.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"token": token, "expires_at": expires_at, "advisor": wire::b64(&id)})))
}

pub(super) async fn logout(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    advisor_auth(&req, &state).await?;
    if let Some(token) = credential(&req, "Bearer") {
        state.logout(token).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn me(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let org = state.org_slug(me.advisor.org_id).await?;
    let mut out = serde_json::to_value(wire::advisor_out(&me, wire::now()))
        .map_err(|_| ApiError::internal())?;
    if let Some(obj) = out.as_object_mut() {
        obj.insert("org".into(), json!(org));
        obj.insert(
            "all_bundles".into(),
            json!(
                me.bundles
                    .iter()
                    .map(|b| wire::b64(&b.bytes))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(HttpResponse::Ok().json(out))
}

pub(super) async fn publish_bundle(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::PublishBundle>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    state.publish_bundle(&me, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(json!({"published": true})))
}

pub(super) async fn publish_revocation(
    req: HttpRequest,
    state: State,
    body: web::Json<wire::PublishRevocation>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    state.publish_revocation(&me, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(json!({"revoked": true})))
}

pub(super) async fn inbox(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    Ok(HttpResponse::Ok().json(json!({"cases": state.inbox(&me).await?})))
}

pub(super) async fn advisor_case(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let case = state.advisor_case(&me, &id).await?;
    Ok(HttpResponse::Ok().json(state.advisor_view(&me, case).await?))
}

pub(super) async fn reply(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<wire::PostReply>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let case = state.advisor_case(&me, &id).await?;
    let seq = state.reply(case, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(json!({"seq": seq})))
}

pub(super) async fn set_status(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<wire::SetStatus>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let case = state.advisor_case(&me, &id).await?;
    state.set_status(case, body.status.into()).await?;
    Ok(HttpResponse::Ok().json(json!({"status": body.status})))
}

pub(super) async fn share(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<wire::Share>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let case = state.advisor_case(&me, &id).await?;
    let seq = state.share(case, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"seq": seq})))
}

pub(super) async fn remove(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<wire::Remove>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let case = state.advisor_case(&me, &id).await?;
    let seq = state.remove(case, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"seq": seq})))
}

pub(super) async fn events(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    Ok(HttpResponse::Ok().json(json!({"events": state.events(&me).await?})))
}
