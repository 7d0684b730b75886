//! Forms on the patient page: what the clinic asked the patient to fill in (a `Task` focusing a
//! `Questionnaire`, as issue 4's devices read it), and asking for one with a due date. The
//! choice is the clinic's own forms on this server, and the instruments Companion ships, which
//! are published to the server unchanged (as `Questionnaire/companion-<id>`) the first time one
//! is asked for, so the device finds the exact form it already has.

use super::*;
use crate::db::{Stored, Write};
use axum::extract::Path;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};

/// The id a shipped instrument is published under.
fn shipped_id(instrument: &str) -> String {
    format!("companion-{instrument}")
}

/// The forms one may ask for: (value, title) with value `shipped:<id>` or `clinic:<id>`.
fn choices(clinic_forms: &[Stored]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        companion_core::instruments::all().iter().map(|i| (format!("shipped:{}", i.id), i.questionnaire.title.clone())).collect();
    for q in clinic_forms {
        let (Some(id), Some(title)) = (q.body.get("id").and_then(Value::as_str), q.body.get("title").and_then(Value::as_str)) else {
            continue;
        };
        if id.starts_with("companion-") {
            continue;
        }
        let version = q.body.get("version").and_then(Value::as_str).unwrap_or("");
        out.push((format!("clinic:{id}"), format!("{title} ({version})")));
    }
    out
}

/// The form Tasks of a patient, and the section that shows and asks for them.
pub(super) fn section(lang: Lang, patient: &str, csrf: &str, tasks: &[Stored], clinic_forms: &[Stored]) -> Markup {
    let forms: Vec<&Stored> = tasks
        .iter()
        .filter(|t| t.body.pointer("/focus/reference").and_then(Value::as_str).is_some_and(|r| r.starts_with("Questionnaire/")))
        .collect();
    let title = |t: &Stored| -> String {
        let id = t.body.pointer("/focus/reference").and_then(Value::as_str).and_then(|r| r.strip_prefix("Questionnaire/")).unwrap_or("");
        clinic_forms
            .iter()
            .find(|q| q.body.get("id").and_then(Value::as_str) == Some(id))
            .and_then(|q| q.body.get("title").and_then(Value::as_str))
            .unwrap_or(id)
            .to_owned()
    };
    html! {
        @if forms.is_empty() { p { (t(lang, "no_forms")) } } @else {
            ul.forms {
                @for f in &forms {
                    li {
                        strong { (title(f)) } " – " (t(lang, &format!("task.{}", f.body.get("status").and_then(Value::as_str).unwrap_or("requested"))))
                        @if let Some(due) = f.body.pointer("/restriction/period/end").and_then(Value::as_str) { ", " (t(lang, "form_due_at")) " " (time(due)) }
                    }
                }
            }
        }
        form.stack method="post" action={ "/care/patients/" (patient) "/forms" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="form-choice" { (t(lang, "ask_form")) }
            select id="form-choice" name="form" required {
                @for (value, label) in choices(clinic_forms) { option value=(value) { (label) } }
            }
            label for="form-due" { (t(lang, "form_due")) }
            input id="form-due" name="due" type="date";
            button type="submit" { (t(lang, "ask_button")) }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Ask {
    csrf: String,
    form: String,
    #[serde(default)]
    due: Option<String>,
}

pub(super) async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Ask>,
) -> Response {
    let peer = peer.as_deref();
    let ctx = match form_session(&state, &headers, peer, &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Due at the end of the day chosen, in Norway.
    let due = match f.due.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(day) => Some(super::clock::from_local(day.and_hms_opt(23, 59, 0).expect("a time"))),
            Err(_) => {
                return super::patient::render(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(t(ctx.lang, "form_bad").into()))
                    .await
            }
        },
    };
    let mut writes = Vec::new();
    let questionnaire = match f.form.split_once(':') {
        Some(("shipped", instrument)) => match companion_core::instruments::get(instrument) {
            Ok(i) => {
                let qid = shipped_id(i.id);
                let mut body = i.questionnaire.resource.clone();
                body["id"] = json!(qid);
                writes.push(Write::new("Questionnaire", &qid, body, None, ""));
                qid
            }
            Err(_) => return error_page(ctx.lang, StatusCode::UNPROCESSABLE_ENTITY, "form_bad"),
        },
        Some(("clinic", qid)) if crate::fhir::valid_id(qid) => qid.to_owned(),
        _ => return error_page(ctx.lang, StatusCode::UNPROCESSABLE_ENTITY, "form_bad"),
    };
    let task_id = uuid::Uuid::new_v4().to_string();
    let now = crate::db::now_text();
    let mut task = json!({
        "resourceType": "Task", "id": task_id, "status": "requested", "intent": "order",
        "code": { "text": "complete-questionnaire" },
        "focus": { "reference": format!("Questionnaire/{questionnaire}") },
        "for": { "reference": format!("Patient/{id}") },
        "authoredOn": now,
        "requester": { "reference": format!("Practitioner/{}", ctx.session.account.id), "display": ctx.session.account.name },
    });
    if let Some(d) = due {
        task["restriction"] = json!({ "period": { "end": d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) } });
    }
    writes.push(Write::new("Task", &task_id, task, Some(0), &id));
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), id.clone());
    let done = blocking(move || {
        if !db.has_relation(&who, &pid)? {
            return Err(StoreError::forbidden("a reason is needed to open this patient"));
        }
        if !writes.iter().any(|w| w.rtype == "Questionnaire") && !db.holds("Questionnaire", &questionnaire)? {
            return Err(StoreError::not_found());
        }
        for w in &writes {
            crate::structure::check(&w.rtype, &w.body)?;
        }
        db.write_all(&who, writes, true)?.into_iter().collect::<Result<Vec<_>, _>>().map(|_| ())
    })
    .await;
    match done {
        Ok(()) => Redirect::to(&format!("/care/patients/{id}")).into_response(),
        Err(e) => api_error_page(ctx.lang, e),
    }
}
