//! What devices do besides FHIR REST: redeem a pairing code or a carer's invitation, invite
//! and remove carers, and read the change feed.

use super::{blocking, caller, AppState};
use crate::db::{Actor, Invite};
use crate::error::{ApiError, ApiResult};
use crate::serve::Peer;
use crate::throttle::{self, Verdict};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use companion_core::domain::Scope;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
pub(super) struct PairRequest {
    code: String,
    /// `carer` when a carer's new diary redeems an invitation.
    #[serde(default, rename = "as")]
    as_role: Option<String>,
    /// The device's retry key: the same key within a few minutes gets the same credential.
    #[serde(default)]
    key: Option<String>,
}

/// Redeems a code. Failures are throttled per source address and per code prefix (a growing
/// delay, then 429), and audited.
pub(super) async fn pair(
    State(state): State<AppState>,
    peer: Option<Extension<Peer>>,
    Json(req): Json<PairRequest>,
) -> ApiResult<Response> {
    if req.code.len() > 64 {
        return Err(ApiError::invalid("code: at most 64 characters"));
    }
    if req.key.as_deref().is_some_and(|k| !crate::db::valid_retry_key(k)) {
        return Err(ApiError::invalid("key: 22 to 128 characters of base64url"));
    }
    let keys = vec![throttle::address_key(peer.map(|p| p.addr.ip())), throttle::prefix_key(&req.code)];
    // The attempt takes its place before the code is looked at, so a burst at once cannot all
    // slip under the limit; a success gives it back.
    if let Verdict::Wait(secs) = state.throttle.attempt(throttle::Kind::Pair, &keys) {
        return Err(ApiError::throttled(secs));
    }
    let db = state.db.clone();
    let as_carer = req.as_role.as_deref() == Some("carer");
    let who = keys[0].replacen("ip:", "address/", 1);
    let p = match blocking(move || db.pair(&req.code, as_carer, req.key.as_deref())).await {
        Ok(p) => {
            state.throttle.succeeded(throttle::Kind::Pair, &keys);
            p
        }
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            let delay = state.throttle.delay(throttle::Kind::Pair, &keys);
            let db = state.db.clone();
            let _ = blocking(move || db.audit_event(&who, "pair", None, None, None, "refused")).await;
            tokio::time::sleep(delay).await;
            return Err(e);
        }
        Err(e) => {
            // The other kind of code (409): not a guess, so not throttled; audited all the same.
            state.throttle.succeeded(throttle::Kind::Pair, &keys);
            if e.status == StatusCode::CONFLICT {
                let db = state.db.clone();
                let _ = blocking(move || db.audit_event(&who, "pair", None, None, None, "wrong-kind")).await;
            }
            return Err(e);
        }
    };
    tracing::info!(carer = p.carer.is_some(), "device paired");
    let db = state.db.clone();
    // The key the clinic signs its rulesets with: the device pins it now, over this connection.
    let clinic_key = blocking(move || db.clinic_key()).await?;
    let mut body = json!({ "device": p.device, "token": p.token, "patient": p.patient, "patient_name": p.patient_name,
        "epoch": state.db.epoch(), "clinic_key": clinic_key });
    if let Some((person, allow, until)) = p.carer {
        body["carer"] = json!({ "person": person, "allow": allow, "expires_at": until });
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
pub(super) struct InviteRequest {
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
pub(super) async fn invite(
    State(state): State<AppState>,
    actor: Option<Extension<Actor>>,
    Json(req): Json<InviteRequest>,
) -> ApiResult<Response> {
    let who = caller(actor)?;
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

pub(super) async fn revoke_carer(
    State(state): State<AppState>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let who = caller(actor)?;
    let db = state.db.clone();
    blocking(move || db.revoke_carer(&who, &id)).await?;
    tracing::info!("carer access ended");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn changes(
    State(state): State<AppState>,
    actor: Option<Extension<Actor>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let who = caller(actor)?;
    let Some(patient) = who.patient().map(str::to_owned) else {
        return Err(ApiError::forbidden("the change feed is for paired devices"));
    };
    // A carer's device hears what the patient allows it now.
    let allow = who.carer().map(|c| c.allow.clone());
    let since: i64 = q.get("since").map(|s| s.parse()).transpose().map_err(|_| ApiError::invalid("since must be a number"))?.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::invalid("since must not be negative"));
    }
    let count: i64 = q
        .get("_count")
        .map(|c| c.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::invalid("_count must be a number"))?
        .unwrap_or(100)
        .clamp(1, crate::search::MAX_PAGE);
    let db = state.db.clone();
    let crate::db::Feed { rows, last: next, more } = blocking(move || db.changes(&who, &patient, since, count)).await?;
    let resources: Vec<Value> = rows.into_iter().map(|(_, r)| r).collect();
    let mut body = json!({ "epoch": state.db.epoch(), "next": next, "more": more, "resources": resources });
    if let Some(allow) = allow {
        body["allow"] = json!(allow);
    }
    Ok(Json(body).into_response())
}

/// Who at the clinic has looked at the patient's data: for the patient's own devices, never a
/// carer's (Norway's patient record law gives the patient the right to know).
pub(super) async fn access(State(state): State<AppState>, actor: Option<Extension<Actor>>) -> ApiResult<Response> {
    let who = caller(actor)?;
    let (Some(patient), None) = (who.patient().map(str::to_owned), who.carer()) else {
        return Err(ApiError::forbidden("who has looked is shown to the patient's own devices"));
    };
    let db = state.db.clone();
    let access = blocking(move || db.access_log(&patient)).await?;
    Ok(Json(json!({ "access": access })).into_response())
}

/// The clinic's ruleset key, for a device paired before the clinic had one (it pins it then,
/// over its own authenticated connection). 404 until the clinic has a key.
pub(super) async fn clinic_key(State(state): State<AppState>, actor: Option<Extension<Actor>>) -> ApiResult<Response> {
    caller(actor)?;
    let db = state.db.clone();
    match blocking(move || db.clinic_key()).await? {
        Some(key) => Ok(Json(json!({ "clinic_key": key })).into_response()),
        None => Err(ApiError::not_found()),
    }
}
