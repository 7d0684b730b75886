//! Errors as FHIR `OperationOutcome`s with the right status. Messages describe the request,
//! never the health data in it; internal causes are logged here and not returned.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// FHIR issue-type code: invalid, required, forbidden, login, not-found, conflict, exception, ...
    pub code: &'static str,
    pub message: String,
    /// For 412: the version the server holds.
    pub current_version: Option<i64>,
    /// For 429: seconds to wait.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), current_version: None, retry_after: None }
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }
    /// A resource that does not follow FHIR R4's structure.
    pub fn structure(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "structure", message)
    }
    /// A body in a format other than FHIR JSON.
    pub fn unsupported_media() -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not-supported", "the body must be application/fhir+json or application/json")
    }
    /// Too many failed attempts from one place: wait `retry_after` seconds.
    pub fn throttled(retry_after: u64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "throttled", "too many failed attempts; try again later");
        e.retry_after = Some(retry_after);
        e
    }
    /// A request that conflicts with the state of what it names (not a version conflict).
    pub fn state_conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "required", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "login", message)
    }
    /// A device whose access the clinic revoked: 401, marked as revoked.
    pub fn revoked() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "suppressed", "this device's access has been revoked")
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
    }
    pub fn conflict(current: i64) -> ApiError {
        let mut e = ApiError::new(StatusCode::PRECONDITION_FAILED, "conflict", "the resource has changed since that version");
        e.current_version = Some(current);
        e
    }
    pub fn too_large() -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-costly", "the request is too large")
    }
    pub fn internal(what: &'static str) -> ApiError {
        tracing::error!(what, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "exception", "the server could not complete the request")
    }

    pub fn outcome(&self) -> serde_json::Value {
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": self.code, "diagnostics": self.message }],
        })
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> ApiError {
        tracing::error!(error = %e, "database error");
        ApiError::internal("database")
    }
}

impl From<postgres::Error> for ApiError {
    fn from(e: postgres::Error) -> ApiError {
        // The code and kind only: a PostgreSQL message can quote a row's values.
        let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
        tracing::error!(code = %code, closed = e.is_closed(), "database error");
        ApiError::internal("database")
    }
}

/// Tells a device that its credential was revoked (not merely unknown), so it can say so.
pub use companion_protocol::wire::{ACCESS_HEADER, ACCESS_REVOKED};

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, [(header::CONTENT_TYPE, "application/fhir+json")], self.outcome().to_string()).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        if self.code == "suppressed" {
            res.headers_mut().insert(ACCESS_HEADER, axum::http::HeaderValue::from_static(ACCESS_REVOKED));
        }
        res
    }
}
