//! What devices do besides FHIR REST: redeem a pairing code or a carer's invitation, invite
//! and remove carers, and read the change feed.

use super::{blocking, AppState, Caller};
use crate::db::Invite;
use crate::error::{ApiError, ApiResult};
use crate::serve::Peer;
use crate::throttle::{self, Verdict};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use companion_core::domain::Scope;
use companion_protocol::limits;
use companion_protocol::wire::{self, ClinicKeyReply, InviteReply, InviteRequest, PairReply, PairRequest};
use serde_json::Value;
use std::collections::HashMap;

/// Redeems a code. Failures are throttled per source address and per code prefix (a growing
/// delay, then 429), and audited.
pub(super) async fn pair(
    State(state): State<AppState>,
    peer: Option<Extension<Peer>>,
    Json(req): Json<PairRequest>,
) -> ApiResult<Response> {
    if req.code.len() > limits::MAX_CODE {
        return Err(ApiError::invalid(format!("code: at most {} characters", limits::MAX_CODE)));
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
    let as_carer = req.as_carer();
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
    let body = PairReply {
        device: p.device,
        token: p.token,
        patient: p.patient,
        patient_name: p.patient_name,
        epoch: state.db.epoch(),
        clinic_key,
        carer: p.carer.map(|(person, allow, expires_at)| wire::CarerGrant {
            person,
            allow: allow.iter().map(|s| s.as_str().to_owned()).collect(),
            expires_at,
        }),
    };
    Ok(Json(body).into_response())
}

/// The patient's device invites a carer: `{code, carer, expires_at}`.
pub(super) async fn invite(State(state): State<AppState>, Caller(who): Caller, Json(req): Json<InviteRequest>) -> ApiResult<Response> {
    let name = req.name.trim().to_owned();
    // The relationship is optional (RelatedPerson.relationship is 0..*); blank means not given.
    let relationship = req.relationship.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if name.is_empty() || name.chars().count() > limits::MAX_NAME {
        return Err(ApiError::unprocessable(format!("name is required (at most {} characters)", limits::MAX_NAME)));
    }
    if relationship.as_ref().is_some_and(|r| r.chars().count() > limits::MAX_RELATIONSHIP) {
        return Err(ApiError::unprocessable(format!("relationship: at most {} characters", limits::MAX_RELATIONSHIP)));
    }
    let allow = req
        .allow
        .iter()
        .map(|s| Scope::parse(s).ok_or_else(|| ApiError::invalid("allow: observations, questions, symptoms, checkins")))
        .collect::<ApiResult<Vec<_>>>()?;
    let allow = Scope::normalise("allow", allow).map_err(|_| ApiError::unprocessable("allow needs at least one scope"))?;
    if req.days.is_some_and(|d| !limits::CARER_DAYS.contains(&d)) {
        let (min, max) = (limits::CARER_DAYS.start(), limits::CARER_DAYS.end());
        return Err(ApiError::invalid(format!("days must be between {min} and {max}")));
    }
    let invite = Invite { carer: req.id, name, relationship, allow, days: req.days };
    let db = state.db.clone();
    let (code, carer, until) = blocking(move || db.invite(&who, invite)).await?;
    tracing::info!("carer invited");
    Ok(Json(InviteReply { code, carer, expires_at: until }).into_response())
}

pub(super) async fn revoke_carer(State(state): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let db = state.db.clone();
    blocking(move || db.revoke_carer(&who, &id)).await?;
    tracing::info!("carer access ended");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn changes(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
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
    let page = wire::ChangesPage {
        epoch: state.db.epoch(),
        next,
        more,
        resources,
        allow: allow.map(|a| a.iter().map(|s| s.as_str().to_owned()).collect()),
    };
    Ok(Json(page).into_response())
}

/// Who at the clinic has looked at the patient's data: for the patient's own devices, never a
/// carer's (Norway's patient record law gives the patient the right to know).
pub(super) async fn access(State(state): State<AppState>, Caller(who): Caller) -> ApiResult<Response> {
    let (Some(patient), None) = (who.patient().map(str::to_owned), who.carer()) else {
        return Err(ApiError::forbidden("who has looked is shown to the patient's own devices"));
    };
    let db = state.db.clone();
    let access = blocking(move || db.access_log(&patient)).await?;
    Ok(Json(wire::AccessReply { access }).into_response())
}

/// The clinic's ruleset key, for a device paired before the clinic had one (it pins it then,
/// over its own authenticated connection). 404 until the clinic has a key.
pub(super) async fn clinic_key(State(state): State<AppState>, _: Caller) -> ApiResult<Response> {
    let db = state.db.clone();
    match blocking(move || db.clinic_key()).await? {
        Some(clinic_key) => Ok(Json(ClinicKeyReply { clinic_key }).into_response()),
        None => Err(ApiError::not_found()),
    }
}
