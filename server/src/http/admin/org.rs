//! Routes of an organisation's admin: settings, logo, advisors, the reporting link.

use meldpunt_api::ErrorCode;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use zeroize::Zeroizing;

use crate::service::admin::{self, AdminError};
use crate::service::admin::api::{
    AdvisorStatusOut, InviteOut, LinkAdvisor, LinkOut, OrgSettingsIn, OrgSettingsOut, SuspendedIn, fingerprint,
};
use crate::service::admin::auth;
use crate::service::wire::parse_id;
use crate::day::now_secs;
use crate::http::error::{ApiError, ApiResult};
use crate::store::admin::{AdminRole, OrgChange};
use crate::store::Id;

use crate::http::admin::common::*;
use crate::http::admin::operator::*;
use crate::http::admin::session::*;

pub(super) async fn settings_of(state: &State, org_id: i64) -> ApiResult<OrgSettingsOut> {
    run(state, move |st| {
        let org = st
            .org_by_id(org_id)?
            .ok_or_else(|| AdminError::NotFound("no such organisation".into()))?;
        let x = st.org_extras(org_id)?;
        Ok(OrgSettingsOut::of(&org, &x))
    })
    .await
}

pub(super) async fn org_settings(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let org = session(&req, &state, false).await?.org_admin()?;
    Ok(HttpResponse::Ok().json(settings_of(&state, org).await?))
}

pub(super) async fn change_org(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org_id = s.org_admin()?;
    let b: OrgSettingsIn = object(body)?;
    let floor = state.settings.retention.org_admin_min_days;
    // Out-of-range values (0, over 3650) get the usual `bad_retention_days` below.
    if b.retention_days.is_some_and(|d| (1..floor).contains(&d)) {
        return Err(ApiError::bad_request(
            ErrorCode::RetentionBelowFloor,
            format!(
                "`retention_days` below {floor} can only be set by the operator \
                 (a case's deletion date is fixed when it is closed)"
            ),
        ));
    }
    let advisor_order = match b.advisor_order {
        Some(list) => {
            let mut ids = Vec::with_capacity(list.len());
            for v in &list {
                ids.push(parse_id(v).map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::BadAdvisorOrder,
                        "`advisor_order` holds advisor ids (base64url of 16 bytes)",
                    )
                })?);
            }
            Some(ids)
        }
        None => None,
    };
    let (intro_nl, intro_en) = b.intro.map_or((None, None), |t| (t.nl, t.en));
    let (conduct_nl, conduct_en) = b.code_of_conduct.map_or((None, None), |t| (t.nl, t.en));
    let change = OrgChange {
        name: b.name,
        slug: b.slug,
        intro_nl,
        intro_en,
        conduct_nl,
        conduct_en,
        categories: b.categories,
        retention_days: b.retention_days,
        languages: b.languages,
        advisor_order,
    };
    let actor = s.actor();
    let reordered = run(&state, move |st| {
        let org = st
            .org_by_id(org_id)?
            .ok_or_else(|| AdminError::NotFound("no such organisation".into()))?;
        let before = st.org_extras(org_id)?.advisor_order;
        admin::change_org(st, &actor, &org, change)?;
        Ok(st.org_extras(org_id)?.advisor_order != before)
    })
    .await?;
    if reordered {
        tell_advisors(&state, Some(org_id), None).await;
    }
    Ok(HttpResponse::Ok().json(settings_of(&state, org_id).await?))
}

/// Reads a raw body of at most `max` bytes.
pub(super) async fn read_body(req: &HttpRequest, mut payload: web::Payload, max: usize) -> ApiResult<Vec<u8>> {
    let too_large = || ApiError::too_large(format!("at most {max} bytes"));
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::bad_request(ErrorCode::InvalidBody, "cannot read the request body"))?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) async fn put_logo(
    req: HttpRequest,
    state: State,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // The media type first (415 before reading anything), then the size, then the bytes.
    admin::logo_media_type(&content_type)?;
    let bytes = read_body(&req, payload, admin::MAX_LOGO).await?;
    let actor = s.actor();
    run(&state, move |st| {
        admin::set_logo(st, &actor, org, &content_type, bytes)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn delete_logo(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let actor = s.actor();
    run(&state, move |st| admin::delete_logo(st, &actor, org)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn org_advisors(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let org = session(&req, &state, false).await?.org_admin()?;
    let list = run(&state, move |st| {
        let x = st.org_extras(org)?;
        Ok(admin::order_advisors(
            st.advisor_statuses(Some(org))?,
            &x.advisor_order,
        ))
    })
    .await?;
    let now = now_secs();
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|a| AdvisorStatusOut::of(a, now))
            .collect::<Vec<_>>(),
    ))
}

pub(super) async fn org_advisor_invite(
    req: HttpRequest,
    state: State,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let opts = invite_options(&body)?;
    let (actor, ttl) = (s.actor(), state.settings.advisor.invite_ttl_days);
    // An organisation admin invites internal advisors only (`external: true`: 403
    // `operator_only`).
    let (invite, expires_at) = run(&state, move |st| {
        admin::make_advisor_invite(
            st,
            &actor,
            AdminRole::OrgAdmin,
            Some(org),
            opts.external,
            ttl,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

pub(super) async fn suspend_org_advisor(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    let org = s.org_admin()?;
    let id: Id = parse_id(&id)?;
    let body: SuspendedIn = object(body)?;
    suspend_advisor(&state, s.actor(), id, Some(org), body.suspended).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The instance's base URL for links: `public_url`; else the scheme and `Host` of the request
/// itself. `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` are believed only from
/// `trusted_proxy` (any client can send them). Either way the scheme must be http or https and
/// the host a plain `host[:port]`, else 400 `bad_host` (set `public_url`).
pub(super) fn base_url(req: &HttpRequest, state: &State) -> ApiResult<String> {
    if let Some(url) = &state.settings.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let proxy = state.settings.trusted_proxy;
    let from_proxy = proxy.is_some() && req.peer_addr().map(|a| a.ip()) == proxy;
    let (scheme, host) = if from_proxy {
        let info = req.connection_info();
        (info.scheme().to_ascii_lowercase(), info.host().to_owned())
    } else {
        let scheme = if state.settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (scheme.to_owned(), host)
    };
    if !matches!(scheme.as_str(), "http" | "https") || !valid_host_port(&host) {
        return Err(ApiError::bad_request(
            ErrorCode::BadHost,
            "cannot make the link from this request's scheme and host; set public_url",
        ));
    }
    Ok(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Whether `s` is `host` or `host:port`: a DNS name (letters, digits, `-`, dots), an IPv4
/// address or a bracketed IPv6 address; the port 1–65535 in digits.
pub(super) fn valid_host_port(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(p) => ("", Some(p)),
                None => return false,
            },
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port
        && !(p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0))
    {
        return false;
    }
    if s.starts_with('[') {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

pub(super) async fn org_link(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let org_id = session(&req, &state, false).await?.org_admin()?;
    let (org, advisors) = run(&state, move |st| {
        let org = st
            .org_by_id(org_id)?
            .ok_or_else(|| AdminError::NotFound("no such organisation".into()))?;
        let x = st.org_extras(org_id)?;
        Ok((org, admin::public_advisors(st, org_id, &x)?))
    })
    .await?;
    let mut pins = Vec::new();
    let mut listed = Vec::new();
    for a in &advisors {
        let Some(fp) = fingerprint(&a.advisor.identity_pk) else {
            continue;
        };
        pins.push(fp.to_pin());
        listed.push(LinkAdvisor {
            display_name: a.advisor.display_name.clone(),
            fingerprint: fp.to_display(),
            external: a.advisor.external,
        });
    }
    let path = format!("/o/{}", org.slug);
    let fragment = if pins.is_empty() {
        String::new()
    } else {
        format!("pin={}", pins.join(","))
    };
    let mut url = format!("{}{path}", base_url(&req, &state)?);
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(&fragment);
    }
    let qr_svg = auth::qr_svg(&url).map_err(|e| {
        tracing::error!(error = %e, "QR code failed");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok().json(LinkOut {
        url,
        path,
        fragment,
        advisors: listed,
        qr_svg,
    }))
}
