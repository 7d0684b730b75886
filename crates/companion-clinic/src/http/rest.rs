//! FHIR REST on one resource type: read, vread, history, update (PUT with the client's id),
//! create (POST, staff only, the server picks the id), search, and the CapabilityStatement.

use super::{base_url, blocking, fhir_body, fhir_json, AppState, Caller};
use crate::db::{Actor, Stored, Write};
use crate::error::{ApiError, ApiResult, IssueCode, StoreError, StoreResult};
use crate::serve::Peer;
use crate::{fhir, origin, search, structure};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use companion_protocol::wire;
use serde_json::{json, Value};

fn known_type(rtype: &str) -> ApiResult<()> {
    if fhir::TYPES.iter().any(|(t, _)| *t == rtype) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, IssueCode::NotSupported, format!("this server has no resource type {rtype}")))
    }
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&wire::etag(version)).expect("ascii")
}

fn parse_if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().map_err(|_| ApiError::invalid("If-Match is not readable"))?;
    wire::etag_version(text).map(Some).ok_or_else(|| ApiError::invalid("If-Match must be W/\"<version>\""))
}

pub(super) fn stored_response(status: StatusCode, s: &Stored, rtype: &str, id: &str) -> Response {
    let mut res = fhir_json(status, &s.body);
    res.headers_mut().insert(header::ETAG, etag(s.version));
    if let Ok(v) = HeaderValue::from_str(&s.last_updated) {
        res.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    if let Ok(loc) = HeaderValue::from_str(&format!("/fhir/{rtype}/{id}/_history/{}", s.version)) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// Checks a resource about to be written, in the order a writer can fix it: the type, id and
/// patient; R4's structure; who it says wrote it; what a carer may write.
pub(super) fn prepare(who: &Actor, rtype: &str, id: &str, resource: Value, if_match: Option<i64>) -> StoreResult<Write> {
    if fhir::PUBLISHED.contains(&rtype) {
        return Err(StoreError::forbidden(
            "the clinic's ruleset is published with companion-clinic ruleset publish, which checks and signs it",
        ));
    }
    let patient = fhir::check(rtype, id, &resource, who.patient())?;
    structure::check(rtype, &resource)?;
    origin::check_claims(rtype, &resource, who, &patient)?;
    if let Some(c) = who.carer() {
        fhir::check_carer_write(rtype, &resource, &c.id, &c.allow)?;
    }
    Ok(Write::new(rtype, id, resource, if_match, &patient))
}

pub(super) async fn metadata() -> Response {
    fhir_json(StatusCode::OK, &fhir::capability_statement())
}

pub(super) async fn read(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((rtype, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let db = state.db.clone();
    if rtype == "Patient" {
        let found = blocking(move || db.patient_resource(&who, &id)).await?;
        return found.map(|p| fhir_json(StatusCode::OK, &p)).ok_or_else(ApiError::not_found);
    }
    known_type(&rtype)?;
    let (rt, i) = (rtype.clone(), id.clone());
    match blocking(move || db.read(&who, &rt, &i)).await? {
        Some(s) => Ok(stored_response(StatusCode::OK, &s, &rtype, &id)),
        None => Err(ApiError::not_found()),
    }
}

pub(super) async fn vread(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((rtype, id, vid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    known_type(&rtype)?;
    let version: i64 = vid.parse().map_err(|_| ApiError::invalid("the version must be a number"))?;
    let db = state.db.clone();
    let (rt, i) = (rtype.clone(), id.clone());
    let (_, versions) = blocking(move || db.history(&who, &rt, &i, Some(version), (0, 1))).await?;
    let s = versions.into_iter().next().ok_or_else(ApiError::not_found)?;
    Ok(stored_response(StatusCode::OK, &s, &rtype, &id))
}

pub(super) async fn history(
    State(state): State<AppState>,
    Caller(who): Caller,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    Path((rtype, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    known_type(&rtype)?;
    // Paged like a search: `_count` (at most 100) and `_offset`, newest first.
    let number = |name: &str, default: i64, max: i64| -> ApiResult<i64> {
        let given: Vec<&String> = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        match given.as_slice() {
            [] => Ok(default),
            [v] => v
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n))
                .ok_or_else(|| ApiError::invalid(format!("search parameter {name}: must be a whole number from 0 to {max}"))),
            _ => Err(ApiError::invalid(format!("search parameter {name}: may be given only once"))),
        }
    };
    let count = number("_count", crate::db::HISTORY_PAGE, crate::db::HISTORY_PAGE)?.max(1);
    let offset = number("_offset", 0, crate::search::MAX_OFFSET)?;
    let db = state.db.clone();
    let (rt, i) = (rtype.clone(), id.clone());
    let (total, versions) = blocking(move || db.history(&who, &rt, &i, None, (offset, count))).await?;
    if versions.is_empty() && offset == 0 {
        return Err(ApiError::not_found());
    }
    let base = base_url(&state, &headers, peer.as_deref());
    let entries: Vec<Value> = versions
        .iter()
        .map(|s| {
            json!({
                "fullUrl": format!("{base}/fhir/{rtype}/{id}"),
                "resource": s.body,
                "request": { "method": if s.version == 1 { "POST" } else { "PUT" }, "url": format!("{rtype}/{id}") },
                "response": { "status": if s.version == 1 { "201" } else { "200" }, "etag": wire::etag(s.version), "lastModified": s.last_updated },
            })
        })
        .collect();
    let link = |off: i64| format!("{base}/fhir/{rtype}/{id}/_history?_count={count}&_offset={off}");
    let mut links = vec![json!({ "relation": "self", "url": link(offset) })];
    if offset + count < total {
        links.push(json!({ "relation": "next", "url": link(offset + count) }));
    }
    let mut bundle = json!({ "resourceType": "Bundle", "type": "history", "total": total, "link": links });
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    Ok(fhir_json(StatusCode::OK, &bundle))
}

async fn write(state: &AppState, who: Actor, write: Write) -> ApiResult<Response> {
    let db = state.db.clone();
    let (rtype, id) = (write.rtype.clone(), write.id.clone());
    let mut results = blocking(move || {
        if !fhir::is_shared(&write.rtype) && !db.patient_exists(&write.patient)? {
            return Err(StoreError::unprocessable("the referenced patient does not exist"));
        }
        db.write_all(&who, vec![write], false)
    })
    .await?;
    let written = results.pop().ok_or_else(|| ApiError::internal("write"))??;
    let status = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(stored_response(status, &written.stored, &rtype, &id))
}

/// A refused write is audited as refused, with what it was and for whom.
async fn audited<T>(state: &AppState, who: &Actor, rtype: &str, id: &str, r: ApiResult<T>) -> ApiResult<T> {
    if let Err(e) = &r {
        if e.status.as_u16() != 412 && e.status.as_u16() < 500 {
            // Only what names a known type and a valid id goes into the log, never free text.
            let rt = fhir::TYPES.iter().find(|(t, _)| *t == rtype).map(|(t, _)| t.to_string());
            let i = Some(id.to_owned()).filter(|i| fhir::valid_id(i));
            let (db, label, p) = (state.db.clone(), who.label(), who.patient().map(str::to_owned));
            let _ = blocking(move || db.audit_event(&label, "write", rt.as_deref(), i.as_deref(), p.as_deref(), "refused")).await;
        }
    }
    r
}

pub(super) async fn update(
    State(state): State<AppState>,
    Caller(who): Caller,
    headers: HeaderMap,
    Path((rtype, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let result = async {
        let resource = fhir_body(&headers, &body)?;
        let w = prepare(&who, &rtype, &id, resource, parse_if_match(&headers)?)?;
        write(&state, who.clone(), w).await
    }
    .await;
    audited(&state, &who, &rtype, &id, result).await
}

/// `POST [type]`: staff create a resource and the server picks its id (devices make their own
/// ids and PUT, so a retry lands on the same record).
pub(super) async fn create(
    State(state): State<AppState>,
    Caller(who): Caller,
    headers: HeaderMap,
    Path(rtype): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let id = uuid::Uuid::new_v4().to_string();
    let result = async {
        if !matches!(who, Actor::Staff { .. }) {
            return Err(ApiError::forbidden("devices create records with PUT and an id of their own"));
        }
        known_type(&rtype)?;
        let mut resource = fhir_body(&headers, &body)?;
        if resource.get("id").is_some() {
            return Err(ApiError::invalid(format!("{rtype}.id: the server assigns the id of a created resource")));
        }
        if let Some(o) = resource.as_object_mut() {
            o.insert("id".into(), json!(id));
        }
        let w = prepare(&who, &rtype, &id, resource, Some(0))?;
        write(&state, who.clone(), w).await
    }
    .await;
    audited(&state, &who, &rtype, &id, result).await
}

pub(super) async fn search(
    State(state): State<AppState>,
    Caller(who): Caller,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    Path(rtype): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    known_type(&rtype)?;
    let strict = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .any(|p| p.trim().eq_ignore_ascii_case("handling=strict"));
    let q = search::parse(&rtype, &pairs, strict)?;
    let patient = if fhir::is_shared(&rtype) {
        // The clinic's forms belong to no patient; every paired device may list them.
        String::new()
    } else if rtype == "Task" && q.patient.is_none() && q.is_triage() && matches!(who, Actor::Staff { .. }) {
        // The triage worklist, across every patient, for the care team's integrations.
        "*".to_owned()
    } else {
        let p =
            q.patient.clone().or_else(|| who.patient().map(str::to_owned)).ok_or_else(|| ApiError::invalid("search needs patient=<id>"))?;
        if who.patient().is_some_and(|s| s != p) {
            return Err(ApiError::forbidden("a device may search only its own patient"));
        }
        p
    };
    let db = state.db.clone();
    let (rt, qq) = (rtype.clone(), q.clone());
    let (total, rows) = blocking(move || db.search(&who, &rt, &patient, &qq)).await?;
    let base = base_url(&state, &headers, peer.as_deref());
    let page = q.page_size();
    let link = |off: i64| {
        let mut params: Vec<(String, String)> = q.used.iter().filter(|(n, _)| n != "_offset").cloned().collect();
        if off > 0 {
            params.push(("_offset".into(), off.to_string()));
        }
        let query: Vec<String> = params.iter().map(|(n, v)| format!("{}={}", enc(n), enc(v))).collect();
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{base}/fhir/{rtype}{sep}{}", query.join("&"))
    };
    let mut links = vec![json!({ "relation": "self", "url": link(q.offset) })];
    if page > 0 && q.offset + page < total {
        links.push(json!({ "relation": "next", "url": link(q.offset + page) }));
    }
    if page > 0 && q.offset > 0 {
        links.push(json!({ "relation": "previous", "url": link((q.offset - page).max(0)) }));
    }
    let entries: Vec<Value> = rows
        .iter()
        .map(|s| {
            let id = s.body.get("id").and_then(Value::as_str).unwrap_or_default();
            json!({ "fullUrl": format!("{base}/fhir/{rtype}/{id}"), "resource": s.body, "search": { "mode": "match" } })
        })
        .collect();
    let mut bundle = json!({ "resourceType": "Bundle", "type": "searchset", "total": total, "link": links });
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    Ok(fhir_json(StatusCode::OK, &bundle))
}

/// Percent-encodes a query part.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
