//! The HTTP API: `fn app(state) -> Router`. FHIR R4 REST under `/fhir`, pairing under `/pair`,
//! the devices' change feed under `/sync/changes`. Every response names the data epoch.

use crate::db::{Actor, Db, Invite, Stored, Write};
use crate::error::{ApiError, ApiResult};
use crate::fhir;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use companion_core::domain::Scope;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const EPOCH_HEADER: &str = "x-companion-epoch";
const FHIR_JSON: &str = "application/fhir+json";
const MAX_PAGE: i64 = 200;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/pair", post(pair))
        .route("/carers", post(invite))
        .route("/carers/{id}/revoke", post(revoke_carer))
        .route("/fhir/metadata", get(metadata))
        .route("/fhir", post(bundle))
        .route("/fhir/{rtype}", get(search))
        .route("/fhir/{rtype}/{id}", get(read).put(update))
        .route("/sync/changes", get(changes))
        .layer(middleware::from_fn_with_state(state.clone(), with_epoch))
        .layer(DefaultBodyLimit::max(8 * 1024 * 1024))
        .with_state(state)
}

async fn with_epoch(State(state): State<AppState>, req: axum::extract::Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&state.db.epoch()) {
        res.headers_mut().insert(EPOCH_HEADER, v);
    }
    res
}

fn fhir_json(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, FHIR_JSON)], body.to_string()).into_response()
}

async fn actor(state: &AppState, headers: &HeaderMap) -> ApiResult<Actor> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?
        .trim()
        .to_owned();
    let db = state.db.clone();
    blocking(move || db.actor(&token)).await
}

/// Runs blocking database work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ApiError::internal("worker"))?
}

#[derive(Deserialize)]
struct PairRequest {
    code: String,
    /// `carer` when a carer's new diary redeems an invitation.
    #[serde(default, rename = "as")]
    as_role: Option<String>,
}

async fn pair(State(state): State<AppState>, Json(req): Json<PairRequest>) -> ApiResult<Response> {
    let db = state.db.clone();
    let as_carer = req.as_role.as_deref() == Some("carer");
    let p = blocking(move || db.pair(&req.code, as_carer)).await?;
    tracing::info!(carer = p.carer.is_some(), "device paired");
    let mut body =
        json!({ "device": p.device, "token": p.token, "patient": p.patient, "patient_name": p.patient_name, "epoch": state.db.epoch() });
    if let Some((person, allow, until)) = p.carer {
        body["carer"] = json!({ "person": person, "allow": allow, "expires_at": until });
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct InviteRequest {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    relationship: Option<String>,
    allow: Vec<String>,
    #[serde(default)]
    days: Option<i64>,
}

/// The patient's device invites a carer: `{code, carer, expires_at}`.
async fn invite(State(state): State<AppState>, headers: HeaderMap, Json(req): Json<InviteRequest>) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    let name = req.name.trim().to_owned();
    // The relationship is optional (RelatedPerson.relationship is 0..*); blank means not given.
    let relationship = req.relationship.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::unprocessable("name is required (at most 100 characters)"));
    }
    if relationship.as_ref().is_some_and(|r| r.chars().count() > 50) {
        return Err(ApiError::unprocessable("relationship: at most 50 characters"));
    }
    let allow = req
        .allow
        .iter()
        .map(|s| Scope::parse(s).ok_or_else(|| ApiError::invalid("allow: observations, questions, symptoms, checkins")))
        .collect::<ApiResult<Vec<_>>>()?;
    let allow = Scope::normalise("allow", allow).map_err(|_| ApiError::unprocessable("allow needs at least one scope"))?;
    if req.days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(ApiError::invalid("days must be between 1 and 3650"));
    }
    let invite = Invite { carer: req.id, name, relationship, allow, days: req.days };
    let db = state.db.clone();
    let (code, carer, until) = blocking(move || db.invite(&who, invite)).await?;
    tracing::info!("carer invited");
    Ok(Json(json!({ "code": code, "carer": carer, "expires_at": until })).into_response())
}

async fn revoke_carer(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    let db = state.db.clone();
    blocking(move || db.revoke_carer(&who, &id)).await?;
    tracing::info!("carer access ended");
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn metadata() -> Response {
    fhir_json(StatusCode::OK, &fhir::capability_statement())
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("W/\"{version}\"")).expect("ascii")
}

fn parse_if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().map_err(|_| ApiError::invalid("If-Match is not readable"))?;
    let inner = text.trim().trim_start_matches("W/").trim_matches('"');
    inner.parse().map(Some).map_err(|_| ApiError::invalid("If-Match must be W/\"<version>\""))
}

fn stored_response(status: StatusCode, s: &Stored, rtype: &str, id: &str) -> Response {
    let mut res = fhir_json(status, &s.body);
    res.headers_mut().insert(header::ETAG, etag(s.version));
    if let Ok(loc) = HeaderValue::from_str(&format!("/fhir/{rtype}/{id}/_history/{}", s.version)) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

async fn read(State(state): State<AppState>, headers: HeaderMap, Path((rtype, id)): Path<(String, String)>) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    let db = state.db.clone();
    let (rt, i) = (rtype.clone(), id.clone());
    let found = blocking(move || db.read(&who.clone(), &rt, &i).map(|f| (who, f))).await?;
    match found {
        // Another patient's record is reported as absent: its existence is not disclosed.
        (Actor::Device { patient, .. }, Some(s)) if s.patient_id != patient && !s.patient_id.is_empty() => Err(ApiError::not_found()),
        // Nor is what a carer was not given.
        (who, Some(s)) if !who.may_see(&rtype, &s.body) => Err(ApiError::not_found()),
        (_, Some(s)) => Ok(stored_response(StatusCode::OK, &s, &rtype, &id)),
        (_, None) => Err(ApiError::not_found()),
    }
}

fn scope(actor: &Actor) -> Option<&str> {
    match actor {
        Actor::Device { patient, .. } => Some(patient.as_str()),
        Actor::Staff { .. } => None,
    }
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((rtype, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    let resource: Value = serde_json::from_slice(&body).map_err(|_| ApiError::invalid("the body is not JSON"))?;
    let patient = fhir::check(&rtype, &id, &resource, scope(&who))?;
    if let Some(c) = who.carer() {
        fhir::check_carer_write(&rtype, &resource, &c.id, &c.allow)?;
    }
    let if_match = parse_if_match(&headers)?;
    let db = state.db.clone();
    let write = Write { rtype: rtype.clone(), id: id.clone(), body: resource, if_match, patient };
    let mut results = blocking(move || {
        if !fhir::is_shared(&write.rtype) && !db.patient_exists(&write.patient)? {
            return Err(ApiError::unprocessable("the referenced patient does not exist"));
        }
        db.write_all(&who, vec![write], false)
    })
    .await?;
    let written = results.pop().ok_or_else(|| ApiError::internal("write"))??;
    let status = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(stored_response(status, &written.stored, &rtype, &id))
}

#[derive(Deserialize)]
struct SearchQuery {
    patient: Option<String>,
    #[serde(rename = "_count")]
    count: Option<i64>,
    #[serde(rename = "_offset")]
    offset: Option<i64>,
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(rtype): Path<String>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    if !fhir::TYPES.iter().any(|(t, _)| *t == rtype) {
        return Err(ApiError::invalid(format!("resource type {rtype} is not searchable here")));
    }
    let patient = q
        .patient
        .map(|p| p.trim_start_matches("Patient/").to_owned())
        .or_else(|| scope(&who).map(str::to_owned))
        .ok_or_else(|| ApiError::invalid("search needs patient=<id>"))?;
    if scope(&who).is_some_and(|s| s != patient) {
        return Err(ApiError::forbidden("a device may search only its own patient"));
    }
    let count = q.count.unwrap_or(50).clamp(1, MAX_PAGE);
    let offset = q.offset.unwrap_or(0).max(0);
    let db = state.db.clone();
    let (rt, p) = (rtype.clone(), patient.clone());
    let (total, rows) = blocking(move || db.search(&who, &rt, &p, offset, count)).await?;
    let link = |off: i64| format!("/fhir/{rtype}?patient={patient}&_count={count}&_offset={off}");
    let mut links = vec![json!({ "relation": "self", "url": link(offset) })];
    if offset + count < total {
        links.push(json!({ "relation": "next", "url": link(offset + count) }));
    }
    if offset > 0 {
        links.push(json!({ "relation": "previous", "url": link((offset - count).max(0)) }));
    }
    let entries: Vec<Value> = rows
        .iter()
        .map(|s| {
            let id = s.body.get("id").and_then(Value::as_str).unwrap_or_default();
            json!({ "fullUrl": format!("/fhir/{rtype}/{id}"), "resource": s.body, "search": { "mode": "match" } })
        })
        .collect();
    Ok(fhir_json(
        StatusCode::OK,
        &json!({ "resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries }),
    ))
}

/// `batch` (each entry on its own) and `transaction` (all or nothing) bundles of `PUT`s.
async fn bundle(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    let bundle: Value = serde_json::from_slice(&body).map_err(|_| ApiError::invalid("the body is not JSON"))?;
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(ApiError::invalid("expected a Bundle"));
    }
    let atomic = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => true,
        Some("batch") => false,
        _ => return Err(ApiError::invalid("Bundle.type must be batch or transaction")),
    };
    let entries = bundle.get("entry").and_then(Value::as_array).cloned().unwrap_or_default();
    // Check every entry first; a checked entry becomes a write, a refused one an outcome.
    let mut checked: Vec<ApiResult<Write>> = Vec::new();
    for e in &entries {
        checked.push((|| {
            let req = e.get("request").ok_or_else(|| ApiError::invalid("entry.request is required"))?;
            if req.get("method").and_then(Value::as_str) != Some("PUT") {
                return Err(ApiError::invalid("only PUT entries are accepted"));
            }
            let url = req.get("url").and_then(Value::as_str).unwrap_or_default();
            let (rtype, id) = url.split_once('/').ok_or_else(|| ApiError::invalid("entry.request.url must be Type/id"))?;
            let resource = e.get("resource").cloned().ok_or_else(|| ApiError::invalid("entry.resource is required"))?;
            let patient = fhir::check(rtype, id, &resource, scope(&who))?;
            if let Some(c) = who.carer() {
                fhir::check_carer_write(rtype, &resource, &c.id, &c.allow)?;
            }
            let if_match = req
                .get("ifMatch")
                .and_then(Value::as_str)
                .map(|m| m.trim_start_matches("W/").trim_matches('"').parse::<i64>())
                .transpose()
                .map_err(|_| ApiError::invalid("ifMatch must be W/\"<version>\""))?;
            Ok(Write { rtype: rtype.to_owned(), id: id.to_owned(), body: resource, if_match, patient })
        })());
    }
    let urls: Vec<String> = entries
        .iter()
        .map(|e| e.get("request").and_then(|r| r.get("url")).and_then(Value::as_str).unwrap_or_default().to_owned())
        .collect();
    let db = state.db.clone();
    let (slots, results) = blocking(move || {
        // Every patient referred to must be registered.
        let mut known: HashMap<String, bool> = HashMap::new();
        for c in checked.iter_mut() {
            if let Some(w) = c.as_ref().ok().filter(|w| !fhir::is_shared(&w.rtype)) {
                let exists = match known.get(&w.patient) {
                    Some(e) => *e,
                    None => *known.entry(w.patient.clone()).or_insert(db.patient_exists(&w.patient)?),
                };
                if !exists {
                    *c = Err(ApiError::unprocessable("the referenced patient does not exist"));
                }
            }
        }
        if atomic {
            if let Some(Err(e)) = checked.iter().find(|c| c.is_err()) {
                return Err(e.clone());
            }
        }
        let mut slots: Vec<Result<usize, ApiError>> = Vec::new();
        let mut writes = Vec::new();
        for c in checked {
            match c {
                Ok(w) => {
                    slots.push(Ok(writes.len()));
                    writes.push(w);
                }
                Err(e) => slots.push(Err(e)),
            }
        }
        Ok((slots, db.write_all(&who, writes, atomic)?))
    })
    .await?;
    let out: Vec<Value> = slots
        .into_iter()
        .zip(urls)
        .map(|(slot, url)| match slot.and_then(|i| results[i].clone()) {
            Ok(w) => json!({
                "resource": w.stored.body,
                "response": {
                    "status": if w.created { "201 Created" } else { "200 OK" },
                    "location": format!("{url}/_history/{}", w.stored.version),
                    "etag": format!("W/\"{}\"", w.stored.version),
                    "lastModified": w.stored.last_updated,
                }
            }),
            Err(err) => json!({ "response": { "status": err.status.as_u16().to_string(), "outcome": err.outcome() } }),
        })
        .collect();
    let kind = if atomic { "transaction-response" } else { "batch-response" };
    Ok(fhir_json(StatusCode::OK, &json!({ "resourceType": "Bundle", "type": kind, "entry": out })))
}

async fn changes(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let who = actor(&state, &headers).await?;
    let Some(patient) = scope(&who).map(str::to_owned) else {
        return Err(ApiError::forbidden("the change feed is for paired devices"));
    };
    // A carer's device hears what the patient allows it now.
    let allow = who.carer().map(|c| c.allow.clone());
    let since: i64 = q.get("since").map(|s| s.parse()).transpose().map_err(|_| ApiError::invalid("since must be a number"))?.unwrap_or(0);
    let count: i64 = q.get("_count").and_then(|c| c.parse().ok()).unwrap_or(100).clamp(1, MAX_PAGE);
    let db = state.db.clone();
    let crate::db::Feed { rows, last: next, more } = blocking(move || db.changes(&who, &patient, since, count)).await?;
    let resources: Vec<Value> = rows.into_iter().map(|(_, r)| r).collect();
    let mut body = json!({ "epoch": state.db.epoch(), "next": next, "more": more, "resources": resources });
    if let Some(allow) = allow {
        body["allow"] = json!(allow);
    }
    Ok(Json(body).into_response())
}
