//! Public routes of organisation data (logo).


use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::client_addr::client_addr;
use crate::service::admin::api::org_suspended;
use crate::http::error::{ApiError, ApiResult};
use crate::service::limits::Class;

use crate::http::admin::common::*;

pub(super) async fn public_logo(
    req: HttpRequest,
    state: State,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.limits.check(Class::Public, client_addr(&req, &state.limits), &state.metrics)?;
    let slug = slug.into_inner();
    if slug.is_empty() || slug.len() > 64 {
        return Err(ApiError::not_found("no logo"));
    }
    let found = run(&state, move |st| {
        let org = match st.org_by_slug(&slug)? {
            Some(o) => o,
            None => match st.org_by_former_slug(&slug)? {
                Some(o) => o,
                None => return Ok(None),
            },
        };
        if st.org_extras(org.id)?.suspended {
            return Ok(Some(Err(())));
        }
        Ok(Some(Ok(st.org_logo(org.id)?)))
    })
    .await?;
    match found {
        None | Some(Ok(None)) => Err(ApiError::not_found("no logo")),
        Some(Err(())) => Err(org_suspended().into()),
        Some(Ok(Some((bytes, kind)))) => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, kind))
            .insert_header((header::CONTENT_DISPOSITION, "inline"))
            .body(bytes)),
    }
}
