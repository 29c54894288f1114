//! What the admin handlers share: blocking-pool runners, the strict JSON body, and errors.

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::Value;

use crate::service::admin::AdminError;
use crate::http::error::{ApiError, ApiResult};
use crate::service::AppState;
use crate::store::Store;

/// The shared state, as handlers take it.
pub(super) type State = web::Data<AppState>;

/// Runs admin work on the blocking pool.
pub(super) async fn run<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(&dyn Store) -> Result<T, AdminError> + Send + 'static,
) -> ApiResult<T> {
    let store = Arc::clone(&state.store);
    web::block(move || f(&*store))
        .await?
        .map_err(ApiError::from)
}

/// Runs Argon2id work (hashing, verifying) on the blocking pool, a few at a time.
pub(super) async fn argon<T: Send + 'static>(
    state: &State,
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    let _slot = state
        .admin
        .argon_slots
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable())?;
    Ok(web::block(f).await?)
}

/// A JSON request body as `T`: it must be an object (serde would also take an array for a
/// struct), with no unknown fields (`T` denies them). The value's strings move into `T`, so a
/// passphrase is not left behind in the value.
pub(super) fn object<T: serde::de::DeserializeOwned>(body: web::Json<Strict>) -> ApiResult<T> {
    object_value(body.into_inner().0)
}

/// A JSON value read with the rule the typed routes get from serde: an object may not name
/// a key twice (at any depth). `serde_json::Value` alone would keep the last one silently.
pub(crate) struct Strict(pub Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

pub(super) fn object_value<T: serde::de::DeserializeOwned>(v: Value) -> ApiResult<T> {
    if !v.is_object() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidRequest,
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(ErrorCode::InvalidRequest, e.to_string()))
}

pub(super) fn bad_login() -> ApiError {
    ApiError::unauthorized(ErrorCode::BadLogin, "wrong username or passphrase")
}

pub(super) fn too_many(wait: u64) -> ApiError {
    let secs = wait.max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyAttempts,
        format!("too many failed logins for this account; try again in {secs} s"),
    )
    .with_retry_after(secs)
}

pub(super) fn bad_session() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::BadSession,
        "missing, unknown or expired session; log in again",
    )
}

