//! Errors. [`StoreError`] is what the store and the checks on the write path refuse, in their
//! own terms (no HTTP); [`ApiError`] is a FHIR `OperationOutcome` with its status, and
//! `From<StoreError> for ApiError` is the one place one becomes the other. Messages describe the
//! request, never the health data in it; internal causes are logged here and not returned.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// FHIR's issue-type codes (`OperationOutcome.issue.code`) this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum IssueCode {
    Invalid,
    Structure,
    Required,
    NotSupported,
    Throttled,
    Conflict,
    Login,
    /// A credential whose access was revoked or ended (with [`ACCESS_HEADER`]).
    Suppressed,
    Forbidden,
    NotFound,
    TooCostly,
    Timeout,
    Exception,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the store refuses, and the checks before it (`fhir`, `structure`, `origin`, carers'
/// access): the kind of refusal and a message naming the element or rule, never a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The request does not say what it must, or says it wrongly.
    #[error("{0}")]
    Invalid(String),
    /// A resource that does not follow FHIR R4's structure.
    #[error("{0}")]
    Structure(String),
    /// Well-formed, but a required element or business rule is not met.
    #[error("{0}")]
    Unprocessable(String),
    /// No credential, or one that is not known.
    #[error("{0}")]
    Unauthorized(String),
    /// A device or carer whose access the clinic ended.
    #[error("this device's access has been revoked")]
    Revoked,
    #[error("{0}")]
    Forbidden(String),
    #[error("no such resource")]
    NotFound,
    /// The version named is not the current one, which is this.
    #[error("the resource has changed since that version")]
    VersionConflict { current: i64 },
    /// A request that conflicts with the state of what it names (not a version conflict).
    #[error("{0}")]
    StateConflict(String),
    #[error("the request is too large")]
    TooLarge,
    /// Ours to fix; what failed is logged, never returned.
    #[error("the server could not complete the request")]
    Internal(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn invalid(message: impl Into<String>) -> StoreError {
        StoreError::Invalid(message.into())
    }
    pub fn structure(message: impl Into<String>) -> StoreError {
        StoreError::Structure(message.into())
    }
    pub fn unprocessable(message: impl Into<String>) -> StoreError {
        StoreError::Unprocessable(message.into())
    }
    pub fn unauthorized(message: impl Into<String>) -> StoreError {
        StoreError::Unauthorized(message.into())
    }
    pub fn revoked() -> StoreError {
        StoreError::Revoked
    }
    pub fn forbidden(message: impl Into<String>) -> StoreError {
        StoreError::Forbidden(message.into())
    }
    pub fn not_found() -> StoreError {
        StoreError::NotFound
    }
    pub fn conflict(current: i64) -> StoreError {
        StoreError::VersionConflict { current }
    }
    pub fn state_conflict(message: impl Into<String>) -> StoreError {
        StoreError::StateConflict(message.into())
    }
    pub fn too_large() -> StoreError {
        StoreError::TooLarge
    }
    pub fn internal(what: &'static str) -> StoreError {
        tracing::error!(what, "internal error");
        StoreError::Internal(what)
    }
}

#[cfg(test)]
impl StoreError {
    /// How the HTTP layer answers it: what the checks' tests compare.
    pub fn http(&self) -> ApiError {
        ApiError::from(self.clone())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        tracing::error!(error = %e, "database error");
        StoreError::internal("database")
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        // The code and kind only: a PostgreSQL message can quote a row's values.
        let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
        tracing::error!(code = %code, closed = e.is_closed(), "database error");
        StoreError::internal("database")
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An error answered over HTTP: the status, the issue code and the message of the
/// `OperationOutcome`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: IssueCode,
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

/// The one place a refusal gets its HTTP status and issue code.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let message = e.to_string();
        let (status, code) = match &e {
            StoreError::Invalid(_) => (StatusCode::BAD_REQUEST, IssueCode::Invalid),
            StoreError::Structure(_) => (StatusCode::BAD_REQUEST, IssueCode::Structure),
            StoreError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, IssueCode::Required),
            StoreError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, IssueCode::Login),
            StoreError::Revoked => (StatusCode::UNAUTHORIZED, IssueCode::Suppressed),
            StoreError::Forbidden(_) => (StatusCode::FORBIDDEN, IssueCode::Forbidden),
            StoreError::NotFound => (StatusCode::NOT_FOUND, IssueCode::NotFound),
            StoreError::VersionConflict { .. } => (StatusCode::PRECONDITION_FAILED, IssueCode::Conflict),
            StoreError::StateConflict(_) => (StatusCode::CONFLICT, IssueCode::Conflict),
            StoreError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, IssueCode::TooCostly),
            StoreError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, IssueCode::Exception),
        };
        let mut api = ApiError::new(status, code, message);
        if let StoreError::VersionConflict { current } = e {
            api.current_version = Some(current);
        }
        api
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: IssueCode, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), current_version: None, retry_after: None }
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        StoreError::invalid(message).into()
    }
    /// A body in a format other than FHIR JSON.
    pub fn unsupported_media() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IssueCode::NotSupported,
            "the body must be application/fhir+json or application/json",
        )
    }
    /// Too many failed attempts from one place: wait `retry_after` seconds.
    pub fn throttled(retry_after: u64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, IssueCode::Throttled, "too many failed attempts; try again later");
        e.retry_after = Some(retry_after);
        e
    }
    pub fn state_conflict(message: impl Into<String>) -> ApiError {
        StoreError::state_conflict(message).into()
    }
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        StoreError::unprocessable(message).into()
    }
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        StoreError::unauthorized(message).into()
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        StoreError::forbidden(message).into()
    }
    pub fn not_found() -> ApiError {
        StoreError::not_found().into()
    }
    pub fn too_large() -> ApiError {
        StoreError::too_large().into()
    }
    pub fn internal(what: &'static str) -> ApiError {
        StoreError::internal(what).into()
    }

    pub fn outcome(&self) -> serde_json::Value {
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": self.code.as_str(), "diagnostics": self.message }],
        })
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
        if self.code == IssueCode::Suppressed {
            res.headers_mut().insert(ACCESS_HEADER, axum::http::HeaderValue::from_static(ACCESS_REVOKED));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_one_status_and_issue_code() {
        let cases = [
            (StoreError::invalid("x"), 400, "invalid"),
            (StoreError::structure("x"), 400, "structure"),
            (StoreError::unprocessable("x"), 422, "required"),
            (StoreError::unauthorized("x"), 401, "login"),
            (StoreError::revoked(), 401, "suppressed"),
            (StoreError::forbidden("x"), 403, "forbidden"),
            (StoreError::not_found(), 404, "not-found"),
            (StoreError::conflict(7), 412, "conflict"),
            (StoreError::state_conflict("x"), 409, "conflict"),
            (StoreError::too_large(), 413, "too-costly"),
            (StoreError::Internal("test"), 500, "exception"),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e.clone());
            assert_eq!((api.status.as_u16(), api.code.as_str()), (status, code), "{e:?}");
            assert_eq!(api.outcome()["issue"][0]["code"], code);
        }
        assert_eq!(ApiError::from(StoreError::conflict(7)).current_version, Some(7));
        // Only a revoked credential is marked as such, so a device can say so.
        let marked = |e: StoreError| ApiError::from(e).into_response().headers().get(ACCESS_HEADER).is_some();
        assert!(marked(StoreError::revoked()));
        assert!(!marked(StoreError::unauthorized("unknown")));
        // Internal causes never reach the message.
        assert_eq!(ApiError::from(StoreError::Internal("database")).message, "the server could not complete the request");
    }
}
