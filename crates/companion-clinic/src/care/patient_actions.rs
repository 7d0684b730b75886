//! The forms of the patient page, each one write as the signed-in member of staff: a reason to
//! open the record, an answer to a question (a `Communication` `inResponseTo` it), booking,
//! moving and cancelling an appointment (`Appointment` versions, with the version the page
//! showed), and ending a carer's access.

use super::*;
use crate::db::Write;
use axum::extract::Path;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub(super) struct Form {
    csrf: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    minutes: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    version: Option<i64>,
}

fn back(patient: &str) -> Response {
    Redirect::to(&format!("/care/patients/{patient}")).into_response()
}

pub(super) async fn reason(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Form>,
) -> Response {
    let ctx = match form_session(&state, &headers, peer.as_deref(), &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), id.clone());
    let text = f.reason.unwrap_or_default();
    match blocking(move || {
        if !db.patient_exists(&pid)? {
            return Err(StoreError::not_found());
        }
        db.give_reason(&who, &pid, &text)
    })
    .await
    {
        Ok(()) => back(&id),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            super::patient::reason_page(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some("reason_bad")).await
        }
        Err(e) => api_error_page(ctx.lang, e),
    }
}

/// Writes as the signed-in person, after checking that they may open this patient.
async fn write(state: &AppState, ctx: &Ctx, patient: &str, writes: Vec<Write>) -> Result<(), ApiError> {
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), patient.to_owned());
    blocking(move || {
        if !db.has_relation(&who, &pid)? {
            return Err(StoreError::forbidden("a reason is needed to open this patient"));
        }
        for w in &writes {
            crate::structure::check(&w.rtype, &w.body)?;
        }
        db.write_all(&who, writes, true)?.into_iter().collect::<Result<Vec<_>, _>>().map(|_| ())
    })
    .await
}

fn me(ctx: &Ctx) -> Value {
    json!({ "reference": format!("Practitioner/{}", ctx.session.account.id), "display": ctx.session.account.name })
}

pub(super) async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path((id, question)): Path<(String, String)>,
    axum::Form(f): axum::Form<Form>,
) -> Response {
    let ctx = match form_session(&state, &headers, peer.as_deref(), &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let text = f.text.unwrap_or_default().trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_TEXT || !crate::fhir::valid_id(&question) {
        let n = MAX_TEXT.to_string();
        return super::patient::render(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(tf(ctx.lang, "too_long", &[("n", &n)])))
            .await;
    }
    let answer_id = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "resourceType": "Communication", "id": answer_id, "status": "completed",
        "subject": { "reference": format!("Patient/{id}") },
        "inResponseTo": [{ "reference": format!("Communication/{question}") }],
        "recipient": [{ "reference": format!("Patient/{id}") }],
        "sender": me(&ctx),
        "sent": crate::db::now_text(),
        "payload": [{ "contentString": text }],
    });
    match write(&state, &ctx, &id, vec![Write::new("Communication", &answer_id, body, Some(0), &id)]).await {
        Ok(()) => back(&id),
        Err(e) => api_error_page(ctx.lang, e),
    }
}

/// A time typed in the form (`YYYY-MM-DDTHH:MM`, Norwegian time), as UTC text.
fn typed_start(text: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    let wall = chrono::NaiveDateTime::parse_from_str(text?.trim(), "%Y-%m-%dT%H:%M").ok()?;
    Some(super::clock::from_local(wall))
}

fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) async fn book(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Form>,
) -> Response {
    let ctx = match form_session(&state, &headers, peer.as_deref(), &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let minutes = f.minutes.as_deref().and_then(|m| m.trim().parse::<i64>().ok()).filter(|m| (5..=480).contains(m));
    let description = f.description.unwrap_or_default().trim().chars().take(200).collect::<String>();
    let (Some(start), Some(minutes)) = (typed_start(f.start.as_deref()), minutes) else {
        return super::patient::render(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(t(ctx.lang, "appointment_bad").into()))
            .await;
    };
    let visit = uuid::Uuid::new_v4().to_string();
    let mut body = json!({
        "resourceType": "Appointment", "id": visit, "status": "booked",
        "start": instant(start), "end": instant(start + chrono::Duration::minutes(minutes)),
        "participant": [{ "actor": { "reference": format!("Patient/{id}") }, "status": "accepted" }],
    });
    if !description.is_empty() {
        body["description"] = json!(description);
    }
    match write(&state, &ctx, &id, vec![Write::new("Appointment", &visit, body, Some(0), &id)]).await {
        Ok(()) => back(&id),
        Err(e) => api_error_page(ctx.lang, e),
    }
}

/// What is done to a booked appointment: `POST .../appointments/{visit}/{move|cancel}`.
#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Change {
    Move,
    Cancel,
}

/// Moves or cancels a booked appointment: a new version of it, from the version the page showed.
pub(super) async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path((id, visit, what)): Path<(String, String, Change)>,
    axum::Form(f): axum::Form<Form>,
) -> Response {
    let cancel = what == Change::Cancel;
    let ctx = match form_session(&state, &headers, peer.as_deref(), &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (db, who, vid) = (state.db.clone(), ctx.session.actor(), visit.clone());
    let current = match blocking(move || db.read(&who, "Appointment", &vid)).await {
        Ok(Some(s)) if s.patient_id == id => s,
        Ok(_) => return error_page(ctx.lang, StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return api_error_page(ctx.lang, e),
    };
    let mut body = current.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("meta");
    }
    if cancel {
        body["status"] = json!("cancelled");
    } else {
        let Some(start) = typed_start(f.start.as_deref()) else {
            return super::patient::render(
                &state,
                &ctx,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(t(ctx.lang, "appointment_bad").into()),
            )
            .await;
        };
        let old = |k: &str| body.get(k).and_then(Value::as_str).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        let length = match (old("start"), old("end")) {
            (Some(s), Some(e)) => e - s,
            _ => chrono::Duration::minutes(30),
        };
        body["start"] = json!(instant(start));
        body["end"] = json!(instant(start + length));
    }
    match write(&state, &ctx, &id, vec![Write::new("Appointment", &visit, body, f.version.or(Some(current.version)), &id)]).await {
        Ok(()) => back(&id),
        Err(e) if e.status == StatusCode::PRECONDITION_FAILED || e.status == StatusCode::CONFLICT => {
            super::patient::render(&state, &ctx, &id, StatusCode::CONFLICT, Some(t(ctx.lang, "conflict").into())).await
        }
        Err(e) => api_error_page(ctx.lang, e),
    }
}

pub(super) async fn revoke_carer(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path((id, carer)): Path<(String, String)>,
    axum::Form(f): axum::Form<Form>,
) -> Response {
    let ctx = match form_session(&state, &headers, peer.as_deref(), &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), id.clone());
    let done = blocking(move || {
        let Some((_, _, carers)) = db.patient_overview(&pid)? else { return Err(StoreError::not_found()) };
        if !carers.iter().any(|c| c.id == carer) {
            return Err(StoreError::not_found());
        }
        if !db.has_relation(&who, &pid)? {
            return Err(StoreError::forbidden("a reason is needed to open this patient"));
        }
        db.revoke_carer(&who, &carer)
    })
    .await;
    match done {
        Ok(()) => back(&id),
        Err(e) => api_error_page(ctx.lang, e),
    }
}
