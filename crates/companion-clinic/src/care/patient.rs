//! The patient page: who they are, their alerts, the questions for the next visit (answer one),
//! appointments (book, move, cancel), what they and their carers recorded, trends, devices and
//! carers (end a carer's access), and for the coordinator who has opened the record. Opening a
//! patient with no alert and no appointment here asks for a reason first, which is logged
//! (Normen's "break the glass"). Every opening is audited. The forms are in `patient_actions`.

use super::*;
use crate::db::triage::Filter;
use crate::db::{Role, Stored};
use axum::extract::Path;
use axum::Extension;
use companion_core::domain::{EntryData, QuestionState, RecordStatus};
use companion_core::replica::Replica;
use serde_json::Value;

/// Records of each kind read for the page (newest first) and its trends.
const RECORDS: i64 = 150;

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    render(&state, &ctx, &id, StatusCode::OK, None).await
}

struct Data {
    overview: crate::db::Overview,
    alerts: Vec<crate::db::triage::Alert>,
    records: Vec<Stored>,
    answers: Vec<Stored>,
    visits: Vec<Stored>,
    tasks: Vec<Stored>,
    clinic_forms: Vec<Stored>,
    looked: Option<(Vec<crate::db::Access>, Vec<crate::db::Reason>)>,
    plan: Option<(companion_core::plan::Plan, chrono::DateTime<chrono::Utc>, Stored)>,
}

pub(super) async fn render(state: &AppState, ctx: &Ctx, id: &str, status: StatusCode, notice: Option<String>) -> Response {
    let lang = ctx.lang;
    if !crate::fhir::valid_id(id) {
        return error_page(lang, StatusCode::NOT_FOUND, "not_found");
    }
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), id.to_owned());
    let coordinator = matches!(ctx.role(), Role::Coordinator | Role::Admin);
    let loaded = blocking(move || {
        let Some(overview) = db.patient_overview(&pid)? else { return Ok(Err(false)) };
        if !db.has_relation(&who, &pid)? {
            db.audit_event(&who.label(), "read", None, None, Some(&pid), "needs-reason")?;
            return Ok(Err(true));
        }
        let alerts = db.worklist(&Filter::Patient(pid.clone()), 100, 0)?.1;
        let records = db.patient_resources(&pid, &["Observation", "QuestionnaireResponse", "Communication"], RECORDS)?;
        let visits = db.patient_resources(&pid, &["Appointment"], 100)?;
        let tasks = db.patient_resources(&pid, &["Task"], 100)?;
        let clinic_forms = db.patient_resources("", &["Questionnaire"], 100)?;
        let (answers, records): (Vec<Stored>, Vec<Stored>) =
            records.into_iter().partition(|s| s.body.get("inResponseTo").is_some() && companion_core::fhir::written_by_clinic(&s.body));
        let looked = if coordinator { Some((db.access_log(&pid)?, db.reasons(&pid)?)) } else { None };
        let plan = db.plan(&pid)?;
        db.audit_event(&who.label(), "read", Some("Patient"), Some(&pid), Some(&pid), "ok")?;
        Ok(Ok(Data { overview, alerts, records, answers, visits, tasks, clinic_forms, looked, plan }))
    })
    .await;
    let data = match loaded {
        Ok(Ok(d)) => d,
        Ok(Err(false)) => return error_page(lang, StatusCode::NOT_FOUND, "not_found"),
        Ok(Err(true)) => return reason_page(state, ctx, id, StatusCode::OK, None).await,
        Err(e) => return api_error_page(lang, e),
    };
    let (patient, devices, carers) = &data.overview;
    let replicas: Vec<Replica> = data.records.iter().filter_map(|s| companion_core::replica::from_resource(&s.body)).collect();
    let csrf = ctx.session.csrf.clone();
    let body = html! {
        p { a href="/care/patients" { "← " (t(lang, "patients")) } }
        h1 { (patient.name) }
        @if let Some(n) = &notice { p.notice role="alert" { (n) } }
        dl.facts { dt { (t(lang, "registered")) } dd { (time(&patient.created_at)) } }
        form.inline method="post" action={ "/care/patients/" (patient.id) "/code" } {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (t(lang, "new_code")) }
        }
        h2 { (t(lang, "alerts")) }
        @if data.alerts.is_empty() { p { (t(lang, "no_alerts")) } } @else {
            ul.alerts {
                @for a in &data.alerts {
                    li {
                        (super::worklist::level_badge(lang, a)) " "
                        a href={ "/care/alerts/" (a.task) } { (words::report(lang, &a.report)) }
                        " – " (words::reporter(lang, a)) ", " (time(&a.reported_at)) " – " (super::worklist::state_words(lang, a))
                    }
                }
            }
        }
        h2 { (t(lang, "questions")) }
        (questions(lang, &patient.id, &csrf, &replicas, &data.answers))
        h2 { (t(lang, "appointments")) }
        (appointments(lang, &patient.id, &csrf, &data.visits))
        h2 { (t(lang, "summary")) }
        (super::summary::render(lang, &patient.name, &replicas))
        h2 { (t(lang, "forms")) }
        (super::forms::section(lang, &patient.id, &csrf, &data.tasks, &data.clinic_forms))
        h2 { (t(lang, "plan_title")) }
        (super::going_home::section(lang, &patient.id, &csrf, data.plan.as_ref()))
        h2 { (t(lang, "trends")) }
        (super::trends::render(lang, &recent(&replicas)))
        h2 { (t(lang, "records")) }
        @if replicas.is_empty() { p { (t(lang, "no_records")) } } @else {
            ol.records {
                @for r in replicas.iter().take(50) {
                    li {
                        (time(&r.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))) " – "
                        (words::entry(lang, &r.data, "")) " – "
                        (super::trends::who(lang, r))
                        @if r.status == RecordStatus::EnteredInError { " (" (t(lang, "withdrawn")) ")" }
                    }
                }
            }
        }
        h2 { (t(lang, "devices")) }
        (people(lang, &patient.id, &csrf, devices, carers))
        @if let Some((access, reasons)) = &data.looked {
            h2 { (t(lang, "looked")) }
            @if access.is_empty() { p { (t(lang, "nobody")) } } @else {
                ul { @for a in access.iter().take(100) {
                    li { (time(&a.at)) " – " (a.who) " (" (t(lang, &format!("role.{}", a.role))) ") – " (a.what) }
                } }
            }
            h3 { (t(lang, "reasons")) }
            @if reasons.is_empty() { p { (t(lang, "nobody")) } } @else {
                ul { @for r in reasons { li { (time(&r.at)) " – " (r.who) ": " (r.reason) } } }
            }
        }
    };
    html_response(status, layout(lang, Some(ctx), &patient.name, body))
}

/// The last 90 days' records.
fn recent(all: &[Replica]) -> Vec<Replica> {
    let since = chrono::Utc::now() - chrono::Duration::days(90);
    all.iter().filter(|r| r.occurred_at >= since).cloned().collect()
}

fn questions(lang: Lang, patient: &str, csrf: &str, records: &[Replica], answers: &[Stored]) -> Markup {
    let open: Vec<&Replica> = records
        .iter()
        .filter(|r| r.status != RecordStatus::EnteredInError)
        .filter(|r| matches!(&r.data, EntryData::Question { state, .. } if matches!(state, QuestionState::Open | QuestionState::Asked)))
        .collect();
    let answered = |id: &str| -> Vec<String> {
        let want = format!("Communication/{id}");
        answers
            .iter()
            .filter(|a| {
                a.body
                    .get("inResponseTo")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|r| r.get("reference").and_then(Value::as_str) == Some(&want))
            })
            .filter_map(|a| a.body.pointer("/payload/0/contentString").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    html! {
        @if open.is_empty() { p { (t(lang, "no_questions")) } } @else {
            ul.questions {
                @for q in open {
                    @if let EntryData::Question { text, .. } = &q.data {
                        li {
                            p { strong { (text) } " – " (super::trends::who(lang, q)) }
                            @for a in answered(&q.id.to_string()) { p { (t(lang, "answered")) ": " (a) } }
                            form.stack method="post" action={ "/care/patients/" (patient) "/questions/" (q.id) "/answer" } {
                                input type="hidden" name="csrf" value=(csrf);
                                label for={ "answer-" (q.id) } { (t(lang, "answer")) }
                                textarea id={ "answer-" (q.id) } name="text" rows="2" maxlength=(MAX_TEXT) required {}
                                button type="submit" { (t(lang, "send_answer")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn appointments(lang: Lang, patient: &str, csrf: &str, visits: &[Stored]) -> Markup {
    let mut live: Vec<&Stored> =
        visits.iter().filter(|v| !matches!(v.body.get("status").and_then(Value::as_str), Some("cancelled" | "entered-in-error"))).collect();
    live.sort_by(|a, b| a.body.get("start").and_then(Value::as_str).cmp(&b.body.get("start").and_then(Value::as_str)));
    html! {
        @if live.is_empty() { p { (t(lang, "no_appointments")) } } @else {
            ul.visits {
                @for v in live {
                    @let id = v.body.get("id").and_then(Value::as_str).unwrap_or_default();
                    @let start = v.body.get("start").and_then(Value::as_str).unwrap_or_default();
                    li {
                        p { strong { (time(start)) } " – " (v.body.get("description").and_then(Value::as_str).unwrap_or("")) }
                        form.inline method="post" action={ "/care/patients/" (patient) "/appointments/" (id) "/move" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="version" value=(v.version);
                            label for={ "move-" (id) } { (t(lang, "move")) " " }
                            input id={ "move-" (id) } name="start" type="datetime-local" required;
                            " " button type="submit" { (t(lang, "move_button")) }
                        }
                        " "
                        form.inline method="post" action={ "/care/patients/" (patient) "/appointments/" (id) "/cancel" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="version" value=(v.version);
                            button type="submit" { (t(lang, "cancel")) }
                        }
                    }
                }
            }
        }
        h3 { (t(lang, "book")) }
        form.stack method="post" action={ "/care/patients/" (patient) "/appointments" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="book-start" { (t(lang, "start")) }
            input id="book-start" name="start" type="datetime-local" required;
            label for="book-minutes" { (t(lang, "minutes_long")) }
            input id="book-minutes" name="minutes" type="number" min="5" max="480" value="30" required;
            label for="book-what" { (t(lang, "what_for")) }
            input id="book-what" name="description" type="text" maxlength="200";
            button type="submit" { (t(lang, "book_button")) }
        }
    }
}

fn people(lang: Lang, patient: &str, csrf: &str, devices: &[crate::db::DeviceRow], carers: &[crate::db::CarerRow]) -> Markup {
    let name_of = |id: &str| carers.iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or_default();
    html! {
        ul.devices {
            @for d in devices {
                li {
                    @match &d.carer {
                        Some(c) => { (tf(lang, "device_carer", &[("name", &name_of(c))])) " " (time(&d.created_at)) }
                        None => { (t(lang, "device_patient")) " " (time(&d.created_at)) }
                    }
                    @if d.revoked_at.is_some() { " (" (t(lang, "revoked")) ")" }
                }
            }
        }
        @if carers.is_empty() { p { (t(lang, "no_carers")) } } @else {
            ul.carers {
                @for c in carers {
                    li {
                        strong { (c.name) } @if let Some(r) = &c.relationship { " (" (r) ")" }
                        " – "
                        @let scopes: Vec<&str> = c.scopes.iter().map(|s| t(lang, &format!("scope.{}", s.as_str()))).collect();
                        (tf(lang, "may_see", &[("scopes", &scopes.join(", "))]))
                        @if let Some(e) = &c.expires_at { ", " (t(lang, "until")) " " (time(e)) }
                        @if c.revoked_at.is_some() { " (" (t(lang, "revoked")) ")" } @else {
                            " "
                            form.inline method="post" action={ "/care/patients/" (patient) "/carers/" (c.id) "/revoke" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { (tf(lang, "revoke_carer", &[("name", &c.name)])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Asked before a record with no alert or visit here is opened.
pub(super) async fn reason_page(state: &AppState, ctx: &Ctx, id: &str, status: StatusCode, notice: Option<&str>) -> Response {
    let lang = ctx.lang;
    let (db, pid) = (state.db.clone(), id.to_owned());
    let name = match blocking(move || db.patient_overview(&pid)).await {
        Ok(Some((p, _, _))) => p.name,
        Ok(None) => return error_page(lang, StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return api_error_page(lang, e),
    };
    let body = html! {
        h1 { (t(lang, "reason_title")) }
        p { (tf(lang, "reason_intro", &[("name", &name)])) }
        @if let Some(key) = notice { p.notice role="alert" { (t(lang, key)) } }
        form.stack method="post" action={ "/care/patients/" (id) "/reason" } {
            input type="hidden" name="csrf" value=(ctx.session.csrf);
            label for="reason" { (t(lang, "reason")) }
            textarea id="reason" name="reason" rows="3" minlength="5" maxlength="500" required {}
            button type="submit" { (t(lang, "reason_button")) }
        }
        p { a href="/care" { (t(lang, "back")) } }
    };
    html_response(status, layout(lang, Some(ctx), t(lang, "reason_title"), body))
}
