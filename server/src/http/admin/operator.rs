//! Routes of the instance operator: organisations, their admins and advisors, branch-wide advisors, instance settings.

use meldpunt_api::ErrorCode;

use actix_web::{HttpRequest, HttpResponse, web};
use zeroize::Zeroizing;

use crate::service::admin::{self, Actor};
use crate::service::admin::api::{
    AdvisorInviteIn, AdvisorStatusOut,
    CreateOrgIn, InstanceIn, InstanceOut, InviteOut, OrgListItem, SuspendedIn,
};
use crate::service::wire::parse_id;
use crate::day::now_secs;
use crate::http::error::{ApiError, ApiResult};
use crate::store::admin::AdminRole;
use crate::store::Id;

use crate::http::admin::common::*;
use crate::http::admin::session::*;

pub(super) async fn list_orgs(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    session(&req, &state, false).await?.operator()?;
    let list = run(&state, |st| {
        let mut out = Vec::new();
        for o in st.list_orgs()? {
            let x = st.org_extras(o.id)?;
            out.push(OrgListItem::of(&o, &x));
        }
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

pub(super) async fn create_org(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let CreateOrgIn { slug, name } = object(body)?;
    let actor = s.actor();
    let item = run(&state, move |st| {
        let o = admin::create_org(st, &actor, &slug, &name)?;
        let x = st.org_extras(o.id)?;
        Ok(OrgListItem::of(&o, &x))
    })
    .await?;
    Ok(HttpResponse::Created().json(item))
}

pub(super) async fn suspend_org(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let body: SuspendedIn = object(body)?;
    let (slug, suspended, actor) = (slug.into_inner(), body.suspended, s.actor());
    run(&state, move |st| {
        let org = admin::org_by_slug(st, &slug)?;
        admin::set_org_suspended(st, &actor, &org, suspended)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn org_admin_invite(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let (slug, actor, ttl) = (
        slug.into_inner(),
        s.actor(),
        state.settings.admin.invite_ttl_days,
    );
    let (invite, expires_at) = run(&state, move |st| {
        let org = admin::org_by_slug(st, &slug)?;
        admin::make_admin_invite(st, &actor, &org, ttl)
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

pub(super) async fn branch_advisor_invite(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let (actor, ttl) = (s.actor(), state.settings.advisor.invite_ttl_days);
    let (invite, expires_at) = run(&state, move |st| {
        admin::make_advisor_invite(st, &actor, AdminRole::Operator, None, true, ttl)
    })
    .await?;
    Ok(HttpResponse::Created().json(InviteOut {
        invite: Zeroizing::new(invite),
        expires_at,
    }))
}

/// The options of an advisor invite: an empty body is `{}`.
pub(super) fn invite_options(body: &web::Bytes) -> ApiResult<AdvisorInviteIn> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(AdvisorInviteIn::default())
    } else {
        let v = serde_json::from_slice::<Strict>(body).map_err(|e| {
            if e.is_data() {
                ApiError::bad_request(ErrorCode::InvalidRequest, e.to_string())
            } else {
                ApiError::bad_request(ErrorCode::InvalidJson, "request body is not valid JSON")
            }
        })?;
        object_value(v.0)
    }
}

/// The operator invites an advisor of an organisation (internal, or with `external: true` an
/// external one); appointed by the branch organisation.
pub(super) async fn operator_org_advisor_invite(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let opts = invite_options(&body)?;
    let (slug, actor, ttl) = (
        slug.into_inner(),
        s.actor(),
        state.settings.advisor.invite_ttl_days,
    );
    let (invite, expires_at) = run(&state, move |st| {
        let org = admin::org_by_slug(st, &slug)?;
        admin::make_advisor_invite(
            st,
            &actor,
            AdminRole::Operator,
            Some(org.id),
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

/// Mails (where notifications are on) the advisors told of an advisor event: content-free,
/// the same text as for case activity.
pub(super) async fn tell_advisors(state: &State, org: Option<i64>, subject: Option<Id>) {
    if !state.notify.enabled() {
        return;
    }
    match run(state, move |st| Ok(st.event_recipients(org, subject)?)).await {
        Ok(ids) => state.notify.activity(&ids),
        Err(_) => tracing::warn!("advisor event: recipients not read, no mail"),
    }
}

/// Suspends or resumes an advisor as `scope` may, then tells the other advisors.
pub(super) async fn suspend_advisor(
    state: &State,
    actor: Actor,
    id: Id,
    scope: Option<i64>,
    suspended: bool,
) -> ApiResult<()> {
    let changed = run(state, move |st| {
        let a = admin::managed_advisor(st, &id, scope)?;
        let before = st.advisor_suspended(&id)?;
        admin::set_advisor_suspended(st, &actor, &a, suspended)?;
        Ok((before != Some(suspended)).then_some(a.advisor.org_id))
    })
    .await?;
    if let Some(org) = changed {
        tell_advisors(state, org, Some(id)).await;
    }
    Ok(())
}

pub(super) async fn branch_advisors(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    session(&req, &state, false).await?.operator()?;
    let list = run(&state, |st| Ok(st.advisor_statuses(None)?)).await?;
    let now = now_secs();
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|a| AdvisorStatusOut::of(a, now))
            .collect::<Vec<_>>(),
    ))
}

pub(super) async fn suspend_branch_advisor(
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let id: Id = parse_id(&id)?;
    let body: SuspendedIn = object(body)?;
    suspend_advisor(&state, s.actor(), id, None, body.suspended).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn instance(req: HttpRequest, state: State) -> ApiResult<HttpResponse> {
    session(&req, &state, false).await?.operator()?;
    let require_totp = run(&state, |st| Ok(st.require_totp()?)).await?;
    Ok(HttpResponse::Ok().json(InstanceOut { require_totp }))
}

pub(super) async fn set_instance(
    req: HttpRequest,
    state: State,
    body: web::Json<Strict>,
) -> ApiResult<HttpResponse> {
    let s = session(&req, &state, false).await?;
    s.operator()?;
    let body: InstanceIn = object(body)?;
    let (on, actor) = (body.require_totp, s.actor());
    run(&state, move |st| admin::set_require_totp(st, &actor, on)).await?;
    Ok(HttpResponse::Ok().json(InstanceOut { require_totp: on }))
}
