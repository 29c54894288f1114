//! Attachments: streamed in and out in chunks, never held whole in memory.
//!
//! Upload (`PUT`, `Content-Type: application/octet-stream`): the body is read until the
//! envelope header is complete, the header is checked (purpose, organisation, recipients),
//! the proof of work (reporters; header `Meldpunt-Pow: <challenge>.<nonce>`) is checked, and
//! then the body is stored in 256 KiB chunk rows as it arrives. The attachment becomes visible
//! only when the last chunk is in and every limit holds; a failed or abandoned upload is
//! deleted.

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use super::handlers::{advisor_auth, reporter_auth};
use crate::api;
use crate::day::Day;
use crate::error::{ApiError, ApiResult};
use crate::pow::PowSolution;
use crate::service::AppState;
use crate::store::{CaseInfo, Id, Sender, Store};
use crate::verify::{self, Purpose};

/// Size of a stored chunk row.
pub const STORE_CHUNK: usize = 256 * 1024;

type State = web::Data<AppState>;

fn upload_id(raw: &str) -> ApiResult<Id> {
    api::unb64_exact("attachment id", raw).map_err(|_| {
        ApiError::bad_request(ErrorCode::BadId, "attachment ids are 16 random bytes, base64url")
    })
}

fn pow_header(req: &HttpRequest) -> ApiResult<Option<PowSolution>> {
    let Some(v) = req.headers().get("meldpunt-pow") else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(ErrorCode::BadPow, "Meldpunt-Pow must be `<challenge>.<nonce>`");
    let v = v.to_str().map_err(|_| bad())?;
    let (challenge, nonce) = v.trim().split_once('.').ok_or_else(bad)?;
    let nonce = nonce.parse::<u64>().map_err(|_| bad())?;
    if challenge.len() > 200 {
        return Err(bad());
    }
    Ok(Some(PowSolution {
        challenge: challenge.to_owned(),
        nonce,
    }))
}

pub(super) async fn reporter_upload(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let case = reporter_auth(&req, &state).await?;
    let id = upload_id(&path)?;
    let pow = pow_header(&req)?;
    upload(
        &req,
        state.into_inner(),
        case,
        id,
        Sender::Reporter,
        Some(pow),
        payload,
    )
    .await
}

pub(super) async fn advisor_upload(
    req: HttpRequest,
    state: State,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let (case, att) = path.into_inner();
    let case = state.advisor_case(&me, &case).await?;
    let id = upload_id(&att)?;
    upload(
        &req,
        state.into_inner(),
        case,
        id,
        Sender::Advisor,
        None,
        payload,
    )
    .await
}

pub(super) async fn reporter_download(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let case = reporter_auth(&req, &state).await?;
    let id = api::parse_id(&path)?;
    download(state.into_inner(), case.id, id).await
}

pub(super) async fn advisor_download(
    req: HttpRequest,
    state: State,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let me = advisor_auth(&req, &state).await?;
    let (case, att) = path.into_inner();
    let case = state.advisor_case(&me, &case).await?;
    let id = api::parse_id(&att)?;
    download(state.into_inner(), case.id, id).await
}

/// Deletes an unfinished upload when the handler ends early (error or dropped connection).
struct UploadGuard {
    store: Arc<dyn Store>,
    case: Id,
    id: Id,
    armed: bool,
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if self.armed {
            let store = Arc::clone(&self.store);
            let (case, id) = (self.case, self.id);
            std::thread::spawn(move || {
                if let Err(e) = store.abort_attachment(&case, &id) {
                    tracing::error!(error = %e, "cannot remove an unfinished upload");
                }
            });
        }
    }
}

async fn upload(
    req: &HttpRequest,
    state: Arc<AppState>,
    case: CaseInfo,
    id: Id,
    sender: Sender,
    pow: Option<Option<PowSolution>>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let max = state.settings.limits.attachment_bytes;
    let too_large = || ApiError::too_large(format!("an attachment is at most {max} bytes"));
    if let Some(len) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return Err(too_large());
    }
    let ct_ok = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"));
    if !ct_ok {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send Content-Type: application/octet-stream",
        ));
    }
    let read_err = |e: actix_web::error::PayloadError| super::middleware::body_read_error(&e);

    // 1. The header.
    let mut buf = BytesMut::with_capacity(STORE_CHUNK);
    let mut ended = false;
    while verify::header_incomplete(&buf) && buf.len() <= verify::MAX_HEADER_LEN {
        match payload.next().await {
            Some(chunk) => buf.extend_from_slice(&chunk.map_err(read_err)?),
            None => {
                ended = true;
                break;
            }
        }
        if buf.len() as u64 > max {
            return Err(too_large());
        }
    }
    let info = verify::envelope_header(&buf)?;
    verify::check_header(&info, Purpose::Attachment, &case.org_slug)?;

    // 2. The proof of work (anonymous uploads only).
    if let Some(pow) = pow {
        state.check_pow(pow).await?;
    }

    // 3. The body, chunk by chunk.
    let max_count = state.settings.limits.attachments_per_case;
    let case_id = case.id;
    state
        .db(move |s| s.begin_attachment(&case_id, &id, sender, Day::today(), max_count))
        .await?;
    let mut guard = UploadGuard {
        store: Arc::clone(&state.store),
        case: case_id,
        id,
        armed: true,
    };
    let mut total = buf.len() as u64;
    let mut seq: u32 = 0;
    loop {
        while buf.len() >= STORE_CHUNK {
            let chunk: Bytes = buf.split_to(STORE_CHUNK).freeze();
            state
                .db(move |s| s.append_attachment_chunk(&case_id, &id, seq, &chunk))
                .await?;
            seq += 1;
        }
        if ended {
            break;
        }
        match payload.next().await {
            Some(chunk) => {
                let chunk = chunk.map_err(read_err)?;
                total += chunk.len() as u64;
                if total > max {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            None => ended = true,
        }
    }
    if !buf.is_empty() {
        let chunk: Bytes = buf.split().freeze();
        state
            .db(move |s| s.append_attachment_chunk(&case_id, &id, seq, &chunk))
            .await?;
        seq += 1;
    }
    verify::check_payload_len(total - info.header_len as u64)?;
    let case_max = state.settings.limits.case_attachment_bytes;
    state
        .db(move |s| s.finish_attachment(&case_id, &id, total, seq, case_max))
        .await?;
    guard.armed = false;
    Ok(HttpResponse::Created().json(json!({"id": api::b64(&id), "size": total})))
}

async fn download(state: Arc<AppState>, case: Id, id: Id) -> ApiResult<HttpResponse> {
    let info = state
        .db(move |s| s.attachment(&case, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("not found"))?;
    let chunks = info.chunks;
    let store = Arc::clone(&state.store);
    let stream = futures_util::stream::unfold(Some(0u32), move |next| {
        let store = Arc::clone(&store);
        async move {
            let seq = next?;
            if seq >= chunks {
                return None;
            }
            let r = web::block(move || store.attachment_chunk(&case, &id, seq)).await;
            match r {
                Ok(Ok(Some(bytes))) => Some((Ok(Bytes::from(bytes)), Some(seq + 1))),
                _ => {
                    tracing::error!("attachment chunk missing while streaming");
                    Some((Err(ApiError::internal()), None))
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .no_chunking(info.size)
        .streaming(stream))
}
