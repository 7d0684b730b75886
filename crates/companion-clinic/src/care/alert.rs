//! One alert: what was reported, by whom, when it is due, and what has been done; and the three
//! things a nurse does with it. Each step is a new version of the triage `Task`, written with
//! the version the page showed (`If-Match`), so two nurses never overwrite each other; a message
//! to the patient is a `Communication` about the Task, in the same transaction.

use super::*;
use crate::db::triage::{outcome_system, Alert, Outcome};
use crate::db::{Stored, Write};
use axum::extract::Path;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(task): Path<String>,
) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    show(&state, &ctx, &task, StatusCode::OK, None).await
}

async fn show(state: &AppState, ctx: &Ctx, task: &str, status: StatusCode, notice: Option<String>) -> Response {
    let lang = ctx.lang;
    if !crate::fhir::valid_id(task) {
        return error_page(lang, StatusCode::NOT_FOUND, "not_found");
    }
    let (db, who, id) = (state.db.clone(), ctx.session.actor(), task.to_owned());
    let found = blocking(move || {
        let Some((alert, stored)) = db.alert(&who, &id)? else { return Ok(None) };
        let messages = db.messages_about(&alert.patient, &id)?;
        Ok(Some((alert, stored, messages)))
    })
    .await;
    let (alert, stored, messages) = match found {
        Ok(Some(x)) => x,
        Ok(None) => return error_page(lang, StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return api_error_page(lang, e),
    };
    let me = format!("Practitioner/{}", ctx.session.account.id);
    let open = alert.status != "completed";
    let mine = alert.owner.as_deref() == Some(me.as_str());
    let (overdue, due) = if open { due_words(lang, &alert.due_at) } else { (false, String::new()) };
    let title = format!("{}: {}", t(lang, "alert"), alert.patient_name);
    let body = html! {
        p { a href="/care" { "← " (t(lang, "back")) } }
        h1 { (title) }
        @if let Some(n) = &notice { p.notice role="alert" { (n) } }
        dl.facts {
            dt { (t(lang, "col.patient")) } dd { a href={ "/care/patients/" (alert.patient) } { (alert.patient_name) } }
            dt { (t(lang, "col.level")) } dd { (super::worklist::level_badge(lang, &alert)) }
            dt { (t(lang, "col.what")) } dd { (words::report(lang, &alert.report)) }
            dt { (t(lang, "col.who")) } dd { (words::reporter(lang, &alert)) }
            dt { (t(lang, "reported")) } dd { (time(&alert.reported_at)) }
            dt { (t(lang, "received")) } dd { (time(&alert.received_at)) }
            dt { (t(lang, "due")) } dd {
                (time(&alert.due_at))
                @if open { " – " @if overdue { strong.overdue { "⚠ " (due) } } @else { (due) } }
            }
            dt { (t(lang, "col.state")) } dd { (super::worklist::state_words(lang, &alert)) }
        }
        h2 { (t(lang, "steps")) }
        ol.steps { @for (at, text) in steps(lang, &stored.body, &messages) { li { (time(&at)) " – " (text) } } }
        @if open {
            @if alert.owner.is_none() {
                form method="post" action={ "/care/alerts/" (alert.task) "/take" } {
                    (hidden(ctx, &alert))
                    button type="submit" { (t(lang, "take")) }
                }
            } @else if !mine {
                p { (tf(lang, "taken_by_other", &[("who", alert.owner_name.as_deref().unwrap_or("?"))])) }
            }
            form.stack method="post" action={ "/care/alerts/" (alert.task) "/close" } {
                (hidden(ctx, &alert))
                fieldset {
                    legend { (t(lang, "close_legend")) }
                    @for o in Outcome::ALL {
                        div.choice {
                            input type="radio" name="outcome" id={ "o-" (o.code()) } value=(o.code()) required;
                            label for={ "o-" (o.code()) } { (t(lang, &format!("outcome.{}", o.code()))) }
                        }
                    }
                }
                label for="message" { (t(lang, "message")) }
                p.hint id="message-hint" { (t(lang, "message_hint")) }
                textarea id="message" name="message" rows="3" maxlength=(MAX_TEXT) aria-describedby="message-hint" {}
                button type="submit" { (t(lang, "close")) }
            }
        }
        form.stack method="post" action={ "/care/alerts/" (alert.task) "/note" } {
            (hidden(ctx, &alert))
            label for="note" { (t(lang, "note")) }
            textarea id="note" name="note" rows="3" maxlength=(MAX_TEXT) required {}
            button type="submit" { (t(lang, "save_note")) }
        }
    };
    html_response(status, layout(lang, Some(ctx), &title, body))
}

fn hidden(ctx: &Ctx, a: &Alert) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(ctx.session.csrf);
        input type="hidden" name="version" value=(a.version);
    }
}

/// What has been done, oldest first, from the Task and the messages about it.
fn steps(lang: Lang, task: &Value, messages: &[Stored]) -> Vec<(String, String)> {
    let text = |p: &str| task.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let owner = text("/owner/display").unwrap_or_default();
    let mut out = Vec::new();
    if let Some(at) = text("/authoredOn") {
        out.push((at, t(lang, "step.received").to_owned()));
    }
    if let Some(at) = text("/executionPeriod/start") {
        out.push((at, tf(lang, "step.taken", &[("who", &owner)])));
    }
    let closed_at = text("/executionPeriod/end");
    let mut closer = owner.clone();
    for n in task.get("note").and_then(Value::as_array).into_iter().flatten() {
        let who = n.pointer("/authorReference/display").and_then(Value::as_str).unwrap_or_default();
        let at = n.get("time").and_then(Value::as_str).unwrap_or_default().to_owned();
        if closed_at.as_deref() == Some(at.as_str()) {
            // The note made with the closing says who closed it.
            closer = who.to_owned();
            continue;
        }
        let body = n.get("text").and_then(Value::as_str).unwrap_or_default();
        out.push((at, format!("{}: {body}", tf(lang, "step.note", &[("who", who)]))));
    }
    if let Some(at) = closed_at {
        let code = task.pointer("/statusReason/coding/0/code").and_then(Value::as_str).unwrap_or_default();
        out.push((at, tf(lang, "step.closed", &[("who", &closer), ("outcome", words::outcome(lang, code))])));
    }
    for m in messages {
        let at = m.body.get("sent").and_then(Value::as_str).unwrap_or_default().to_owned();
        let body = m.body.pointer("/payload/0/contentString").and_then(Value::as_str).unwrap_or_default();
        out.push((at, format!("{}: {body}", t(lang, "step.message"))));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[derive(Deserialize)]
pub(super) struct Step {
    csrf: String,
    version: i64,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// What a nurse does with an alert: `POST /care/alerts/{task}/{take|note|close}`.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum Action {
    Take,
    Note,
    Close,
}

fn now() -> String {
    crate::db::now_text()
}

pub(super) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path((task, action)): Path<(String, Action)>,
    axum::Form(f): axum::Form<Step>,
) -> Response {
    let peer = peer.as_deref();
    let ctx = match form_session(&state, &headers, peer, &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let too_long = |s: &Option<String>| s.as_ref().is_some_and(|s| s.chars().count() > MAX_TEXT);
    if too_long(&f.note) || too_long(&f.message) {
        let n = MAX_TEXT.to_string();
        return show(&state, &ctx, &task, StatusCode::UNPROCESSABLE_ENTITY, Some(tf(lang, "too_long", &[("n", &n)]))).await;
    }
    let outcome = match action {
        Action::Close => match f.outcome.as_deref().and_then(Outcome::parse) {
            Some(o) => Some(o),
            None => return show(&state, &ctx, &task, StatusCode::UNPROCESSABLE_ENTITY, Some(t(lang, "choose_outcome").into())).await,
        },
        _ => None,
    };
    let (db, who, id) = (state.db.clone(), ctx.session.actor(), task.clone());
    let account = ctx.session.account.clone();
    let written = blocking(move || {
        let Some((alert, stored)) = db.alert(&who, &id)? else { return Err(StoreError::not_found()) };
        let me = json!({ "reference": format!("Practitioner/{}", account.id), "display": account.name });
        let mut body = stored.body.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("meta");
        }
        let at = now();
        let take_it = |body: &mut Value| {
            if body.get("owner").is_none() {
                body["owner"] = me.clone();
            }
            if body.get("status").and_then(Value::as_str) == Some("requested") {
                body["status"] = json!("accepted");
            }
            if body.pointer("/executionPeriod/start").is_none() {
                body["executionPeriod"] = json!({ "start": at });
            }
        };
        let mut writes = Vec::new();
        // What the page offered must still be so: nobody takes a taken alert or closes a closed
        // one (the version check catches the rest).
        let stale = match action {
            Action::Take => alert.owner.is_some() || alert.status != "requested",
            Action::Close => alert.status == "completed",
            Action::Note => false,
        };
        if stale {
            return Err(StoreError::conflict(stored.version));
        }
        match action {
            Action::Take => take_it(&mut body),
            Action::Note => {
                let text = f.note.as_deref().map(str::trim).unwrap_or_default();
                if text.is_empty() {
                    return Ok(None);
                }
                let note = json!({ "authorReference": me, "time": at, "text": text });
                match body.get_mut("note").and_then(Value::as_array_mut) {
                    Some(list) => list.push(note),
                    None => body["note"] = json!([note]),
                }
            }
            Action::Close => {
                let o = outcome.expect("checked above");
                take_it(&mut body);
                body["statusReason"] = json!({
                    "coding": [{ "system": outcome_system(), "code": o.code(), "display": o.display() }],
                    "text": o.display(),
                });
                if o.closes() {
                    body["status"] = json!("completed");
                    body["executionPeriod"]["end"] = json!(at);
                }
                // Who closed it (or tried to call), which may not be who took it.
                let note = json!({ "authorReference": me, "time": at, "text": o.display() });
                match body.get_mut("note").and_then(Value::as_array_mut) {
                    Some(list) => list.push(note),
                    None => body["note"] = json!([note]),
                }
                if let Some(text) = f.message.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                    // A carer on the patient's own device is unknown to the server: the patient's
                    // device shows the message to them there.
                    let carer = alert.reporter.carer.clone().filter(|c| db.holds("RelatedPerson", c).unwrap_or(false));
                    writes.push(message(&alert, carer.as_deref(), &body, &me, text, &at));
                }
            }
        }
        body["lastModified"] = json!(at);
        crate::structure::check("Task", &body)?;
        writes.insert(0, Write::new("Task", &id, body, Some(f.version), &alert.patient));
        for w in &writes {
            crate::structure::check(&w.rtype, &w.body)?;
        }
        let results = db.write_all(&who, writes, true)?;
        results.into_iter().collect::<Result<Vec<_>, _>>().map(Some)
    })
    .await;
    match written {
        Ok(_) => Redirect::to(&format!("/care/alerts/{task}")).into_response(),
        Err(e) if e.status == StatusCode::PRECONDITION_FAILED || e.status == StatusCode::CONFLICT => {
            show(&state, &ctx, &task, StatusCode::CONFLICT, Some(t(lang, "conflict").into())).await
        }
        Err(e) => api_error_page(lang, e),
    }
}

/// The nurse's message to the patient (and to the carer who reported it), about the Task and
/// the record it concerns.
fn message(alert: &Alert, carer: Option<&str>, task: &Value, me: &Value, text: &str, at: &str) -> Write {
    let id = uuid::Uuid::new_v4().to_string();
    let mut about = vec![json!({ "reference": format!("Task/{}", alert.task) })];
    if let Some(r) = task.pointer("/reasonReference/reference").and_then(Value::as_str) {
        about.push(json!({ "reference": r }));
    }
    let mut recipient = vec![json!({ "reference": format!("Patient/{}", alert.patient) })];
    if let Some(c) = carer {
        recipient.push(json!({ "reference": format!("RelatedPerson/{c}") }));
    }
    let mut body = json!({
        "resourceType": "Communication",
        "id": id,
        "status": "completed",
        "subject": { "reference": format!("Patient/{}", alert.patient) },
        "about": about,
        "recipient": recipient,
        "sender": me,
        "sent": at,
        "payload": [{ "contentString": text }],
    });
    // Seen by the same carers as the alert's receipt.
    if let Some(scope) = task.get("extension").cloned() {
        body["extension"] = scope;
    }
    Write::new("Communication", &id, body, Some(0), &alert.patient)
}
