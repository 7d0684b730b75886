//! The HTTP API: `fn app(state) -> Router`. FHIR R4 REST under `/fhir` (`rest`, `bundle`),
//! pairing, carers and the devices' change feed (`devices`). Every response names the data
//! epoch, is not cached, and every error is an `OperationOutcome`, from whichever layer it
//! comes. Credentials are checked before a body is read; bodies are limited by their declared
//! length before they are read, and anonymous requests get only a small one.

use crate::db::{Actor, Db};
use crate::error::{ApiError, ApiResult, IssueCode, StoreResult};
use crate::serve::Peer;
use crate::throttle::{self, Throttle, Verdict};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

mod bundle;
mod devices;
mod rest;

use companion_protocol::wire;
pub use wire::EPOCH_HEADER;
const FHIR_JSON: &str = "application/fhir+json";
/// The largest body of an authenticated request.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// The largest body of a single resource's `PUT` or `POST` (its JSON, with room for spacing).
pub const MAX_RESOURCE_BODY: usize = 512 * 1024;
/// The largest form the care team's pages post.
pub const MAX_FORM_BODY: usize = 64 * 1024;
/// The largest body of an anonymous one (redeeming a code).
pub const MAX_ANONYMOUS_BODY: usize = 16 * 1024;
/// A body that stops arriving for this long ends the request, unless the server is told
/// otherwise.
const BODY_IDLE: Duration = Duration::from_secs(10);
/// A request, body and answer, takes at most this long.
const REQUEST_DEADLINE: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub throttle: Arc<Throttle>,
    /// The server's address as clients see it (`https://clinic.example.no`), for absolute
    /// URLs; without it, the request's Host.
    pub public_url: Option<Arc<str>>,
    /// A request body that stops arriving for this long ends the request (`--idle-timeout`).
    pub body_idle: Duration,
    /// What the care team's open worklists watch.
    pub watch: Arc<crate::care::Watch>,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState { db, throttle: Arc::default(), public_url: None, body_idle: BODY_IDLE, watch: Arc::default() }
    }
}

pub fn app(state: AppState) -> Router {
    let authenticated = Router::new()
        .route(wire::CARERS, post(devices::invite))
        .route(wire::REVOKE_CARER, post(devices::revoke_carer))
        .route(wire::CHANGES, get(devices::changes))
        .route(wire::ACCESS, get(devices::access))
        .route(wire::CLINIC_KEY, get(devices::clinic_key))
        .route("/fhir", post(bundle::bundle))
        // One resource is at most 256 KB of JSON (`fhir::MAX_RESOURCE_BYTES`); only bundles
        // get the larger limit.
        .route("/fhir/{rtype}", get(rest::search).post(rest::create).layer(DefaultBodyLimit::max(MAX_RESOURCE_BODY)))
        .route("/fhir/{rtype}/{id}", get(rest::read).put(rest::update).layer(DefaultBodyLimit::max(MAX_RESOURCE_BODY)))
        .route("/fhir/{rtype}/{id}/_history", get(rest::history))
        .route("/fhir/{rtype}/{id}/_history/{vid}", get(rest::vread))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    let anonymous = Router::new()
        .route(wire::PAIR, post(devices::pair))
        .route("/fhir/metadata", get(rest::metadata))
        .layer(DefaultBodyLimit::max(MAX_ANONYMOUS_BODY));
    Router::new()
        .merge(authenticated)
        .merge(anonymous)
        .merge(crate::care::router(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, IssueCode::NotSupported, "this method is not supported on this path")
        })
        .layer(middleware::from_fn(declared_length))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(state.body_idle))
        // However slowly it trickles in, a request is over after this long.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_DEADLINE))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            // Never the panic's message: it could quote what was sent.
            tracing::error!("a request handler panicked");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, IssueCode::Exception, "the server could not complete the request")
                .into_response()
        }))
        .layer(middleware::from_fn(as_outcome))
        .layer(middleware::from_fn_with_state(state.clone(), headers))
        .with_state(state)
}

/// No such path: a page of the care team's app under `/care`, an `OperationOutcome` elsewhere.
async fn not_found(uri: axum::http::Uri, headers: HeaderMap) -> Response {
    if uri.path() == "/care" || uri.path().starts_with("/care/") {
        return crate::care::not_found(&headers);
    }
    ApiError::new(StatusCode::NOT_FOUND, IssueCode::NotFound, "no such path on this server").into_response()
}

/// Refuses a body whose declared length is over the limit before reading any of it.
async fn declared_length(req: Request, next: Next) -> Response {
    let limit = if req.headers().contains_key(header::AUTHORIZATION) {
        MAX_BODY
    } else if req.uri().path().starts_with("/care/") {
        // The care team's forms: a message of 2,000 characters of any script fits.
        MAX_FORM_BODY
    } else {
        MAX_ANONYMOUS_BODY
    };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(|v| v.trim().parse::<u64>());
    match declared {
        Some(Ok(n)) if n > limit as u64 => ApiError::too_large().into_response(),
        Some(Err(_)) => ApiError::invalid("Content-Length is not a number").into_response(),
        _ => next.run(req).await,
    }
}

/// Any error response that is not yet an `OperationOutcome` (axum's own rejections: a body
/// too large, a missing content type, a path or query that does not parse) becomes one, with
/// the status kept.
async fn as_outcome(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    // The care team's pages answer errors as pages of their own.
    let (is_fhir, is_page) = {
        let kind = res.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
        (kind.starts_with(FHIR_JSON.as_bytes()), kind.starts_with(b"text/html"))
    };
    if status.as_u16() < 400 || is_fhir || is_page {
        return res;
    }
    let text = match axum::body::to_bytes(res.into_body(), 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let (code, fallback) = match status.as_u16() {
        408 => (IssueCode::Timeout, "the request took too long to arrive"),
        413 => (IssueCode::TooCostly, "the request is too large"),
        415 => (IssueCode::NotSupported, "the body must be application/fhir+json or application/json"),
        s if s >= 500 => (IssueCode::Exception, "the server could not complete the request"),
        _ => (IssueCode::Invalid, "the request could not be read"),
    };
    // axum's texts describe the request (which header, which parameter), never stored data.
    let message = if status.as_u16() >= 500 || text.trim().is_empty() { fallback.to_owned() } else { text.trim().to_owned() };
    ApiError::new(status, code, message).into_response()
}

/// The epoch, and what keeps health data out of caches and away from MIME sniffing; HSTS on
/// HTTPS.
async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let tls = req.extensions().get::<Peer>().is_some_and(|p| p.tls);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&state.db.epoch()) {
        h.insert(EPOCH_HEADER, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if tls {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    res
}

/// The bearer token of a request: the scheme's name in any case (RFC 9110).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Checks the credential before anything reads the body, and hands the caller to the route.
/// An unknown credential counts towards its source address's throttle, is audited, and is
/// answered a little later each time; past the limit the answer is 429. A valid credential is
/// never held back by others' failures from the same address (a hospital's network shares one):
/// tokens are 256-bit, so the throttle is against load, not guessing.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer(req.headers()) else {
        return ApiError::unauthorized("a bearer token is required").into_response();
    };
    let peer = req.extensions().get::<Peer>().map(|p| p.addr.ip());
    let keys = vec![throttle::address_key(peer)];
    let db = state.db.clone();
    match blocking(move || db.actor(&token)).await {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(e) if e.code == IssueCode::Login => {
            if let Verdict::Wait(secs) = state.throttle.check(throttle::Kind::Auth, &keys) {
                return ApiError::throttled(secs).into_response();
            }
            let delay = state.throttle.failed(throttle::Kind::Auth, &keys);
            let db = state.db.clone();
            let who = keys[0].replacen("ip:", "address/", 1);
            let _ = blocking(move || db.audit_event(&who, "authenticate", None, None, None, "refused")).await;
            tokio::time::sleep(delay).await;
            e.into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The caller, as `authenticate` found them: an extractor, so a route says in its signature
/// that it serves an authenticated caller, and who.
pub(crate) struct Caller(pub Actor);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> ApiResult<Caller> {
        parts.extensions.get::<Actor>().cloned().map(Caller).ok_or_else(|| ApiError::unauthorized("a bearer token is required"))
    }
}

/// Runs blocking database work off the async workers; what the store refuses becomes its HTTP
/// answer here.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> StoreResult<T> + Send + 'static) -> ApiResult<T> {
    Ok(tokio::task::spawn_blocking(f).await.map_err(|_| ApiError::internal("worker"))??)
}

pub(crate) fn fhir_json(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, FHIR_JSON)], body.to_string()).into_response()
}

/// A FHIR JSON body: the content type checked (415), the JSON read (400), nesting bounded.
pub(crate) fn fhir_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != FHIR_JSON && essence != "application/json" {
        return Err(ApiError::unsupported_media());
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| ApiError::invalid("the body is not JSON"))?;
    if crate::structure::depth(&value) > crate::structure::MAX_DEPTH {
        return Err(ApiError::invalid(format!("the JSON is nested deeper than {} levels", crate::structure::MAX_DEPTH)));
    }
    Ok(value)
}

/// Where this server is, as the client reached it, for absolute URLs.
pub fn base_url(state: &AppState, headers: &HeaderMap, peer: Option<&Peer>) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.len() <= 255 && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let scheme = if peer.is_some_and(|p| p.tls) { "https" } else { "http" };
    format!("{scheme}://{host}")
}
