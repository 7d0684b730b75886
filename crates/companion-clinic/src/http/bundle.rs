//! `batch` (each entry on its own) and `transaction` (all or nothing) bundles of `PUT`s.

use super::rest::prepare;
use super::{blocking, fhir_body, fhir_json, AppState, Caller};
use crate::db::{Actor, Write};
use crate::error::{ApiError, ApiResult, IssueCode, StoreError, StoreResult};
use crate::fhir;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use companion_protocol::wire;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Entries in one bundle at most.
pub const MAX_ENTRIES: usize = 1000;

fn entry(who: &Actor, e: &Value) -> StoreResult<Write> {
    let req = e.get("request").ok_or_else(|| StoreError::invalid("entry.request is required"))?;
    if req.get("method").and_then(Value::as_str) != Some("PUT") {
        return Err(StoreError::invalid("only PUT entries are accepted"));
    }
    let url = req.get("url").and_then(Value::as_str).unwrap_or_default();
    let (rtype, id) = url.split_once('/').ok_or_else(|| StoreError::invalid("entry.request.url must be Type/id"))?;
    let resource = e.get("resource").cloned().ok_or_else(|| StoreError::invalid("entry.resource is required"))?;
    let if_match = req
        .get("ifMatch")
        .and_then(Value::as_str)
        .map(|m| wire::etag_version(m).ok_or_else(|| StoreError::invalid("ifMatch must be W/\"<version>\"")))
        .transpose()?;
    prepare(who, rtype, id, resource, if_match)
}

pub(super) async fn bundle(
    State(state): State<AppState>,
    Caller(who): Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let bundle = fhir_body(&headers, &body)?;
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(ApiError::invalid("expected a Bundle"));
    }
    let atomic = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => true,
        Some("batch") => false,
        _ => return Err(ApiError::invalid("Bundle.type must be batch or transaction")),
    };
    let entries = match bundle.get("entry") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(ApiError::invalid("Bundle.entry must be an array")),
    };
    if entries.len() > MAX_ENTRIES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            IssueCode::TooCostly,
            format!("a bundle holds at most {MAX_ENTRIES} entries"),
        ));
    }
    // Check every entry first; a checked entry becomes a write, a refused one an outcome.
    let mut checked: Vec<StoreResult<Write>> = entries.iter().map(|e| entry(&who, e)).collect();
    let siblings: Arc<HashSet<String>> =
        Arc::new(checked.iter().filter_map(|c| c.as_ref().ok()).map(|w| format!("{}/{}", w.rtype, w.id)).collect());
    for w in checked.iter_mut().flatten() {
        w.siblings = siblings.clone();
    }
    let urls: Vec<String> = entries
        .iter()
        .map(|e| e.get("request").and_then(|r| r.get("url")).and_then(Value::as_str).unwrap_or_default().to_owned())
        .collect();
    let db = state.db.clone();
    let actor = who.clone();
    let outcome = blocking(move || {
        // Every patient referred to must be registered.
        let mut known: HashMap<String, bool> = HashMap::new();
        for c in checked.iter_mut() {
            if let Some(w) = c.as_ref().ok().filter(|w| !fhir::is_shared(&w.rtype)) {
                let exists = match known.get(&w.patient) {
                    Some(e) => *e,
                    None => *known.entry(w.patient.clone()).or_insert(db.patient_exists(&w.patient)?),
                };
                if !exists {
                    *c = Err(StoreError::unprocessable("the referenced patient does not exist"));
                }
            }
        }
        if atomic {
            if let Some(Err(e)) = checked.iter().find(|c| c.is_err()) {
                return Err(e.clone());
            }
        }
        let mut slots: Vec<Result<usize, StoreError>> = Vec::new();
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
        Ok((slots, db.write_all(&actor, writes, atomic)?))
    })
    .await;
    let (slots, results) = match outcome {
        Ok(x) => x,
        Err(e) => {
            if e.status.as_u16() < 500 {
                audit_refused(&state, &who, urls).await;
            }
            return Err(e);
        }
    };
    let mut refused = Vec::new();
    let out: Vec<Value> = slots
        .into_iter()
        .zip(urls)
        .map(|(slot, url)| match slot.and_then(|i| results[i].clone()) {
            Ok(w) => json!({
                "resource": w.stored.body,
                "response": {
                    "status": if w.created { "201 Created" } else { "200 OK" },
                    "location": format!("{url}/_history/{}", w.stored.version),
                    "etag": wire::etag(w.stored.version),
                    "lastModified": w.stored.last_updated,
                }
            }),
            Err(err) => {
                let err = ApiError::from(err);
                if err.status.as_u16() != 412 {
                    refused.push(url);
                }
                json!({ "response": { "status": err.status.as_u16().to_string(), "outcome": err.outcome() } })
            }
        })
        .collect();
    audit_refused(&state, &who, refused).await;
    let kind = if atomic { "transaction-response" } else { "batch-response" };
    Ok(fhir_json(StatusCode::OK, &json!({ "resourceType": "Bundle", "type": kind, "entry": out })))
}

/// Refused entries are audited as refused: what they named and for whom.
async fn audit_refused(state: &AppState, who: &Actor, urls: Vec<String>) {
    if urls.is_empty() {
        return;
    }
    let (db, label, patient) = (state.db.clone(), who.label(), who.patient().map(str::to_owned));
    let _ = blocking(move || db.audit_refusals(&label, patient.as_deref(), &urls)).await;
}
