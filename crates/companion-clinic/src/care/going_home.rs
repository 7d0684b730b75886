//! The going-home plan on the patient page: what is in force, and a form to make or adjust it,
//! starting from the clinic's template (ESAS-r weekly, PHQ-9 every two weeks, the temperature
//! daily for the first ten days, the commonest warning signs and self-care advice). Saved as a
//! new version of the patient's `CarePlan`, as the signed-in person, after the same relation
//! check as the page; the core checks it as the device will. And the summary for the visit as
//! the same PDF the app and the CLI make.

use super::*;
use axum::extract::Path;
use axum::Extension;
use chrono::{DateTime, Utc};
use companion_core::plan::{Plan, PlanSchedule, TEMPERATURE};
use companion_core::treatment::Treatment;

/// Check-ins a plan can ask for: the shipped instruments, and the temperature.
fn checkins() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        companion_core::instruments::all().iter().map(|i| (i.id.to_owned(), i.questionnaire.title.clone())).collect();
    out.push((TEMPERATURE.to_owned(), String::new()));
    out
}

fn template(lang: Lang) -> Plan {
    let every = |instrument: &str, every_days, for_days| PlanSchedule { instrument: instrument.into(), every_days, for_days };
    Plan {
        treatment: Vec::new(),
        schedules: vec![every("esas-r", 7, None), every("phq9", 14, None), every(TEMPERATURE, 1, Some(10))],
        watch_for: ["template_watch_fever", "template_watch_gut", "template_watch_breath"].iter().map(|k| t(lang, k).to_owned()).collect(),
        advice: ["template_advice_drink", "template_advice_mouth"].iter().map(|k| t(lang, k).to_owned()).collect(),
    }
}

/// The plan in force (if any) and the form that makes the next one.
pub(super) fn section(lang: Lang, patient: &str, csrf: &str, plan: Option<&(Plan, DateTime<Utc>, crate::db::Stored)>) -> Markup {
    let shown = plan.map(|p| p.0.clone()).unwrap_or_else(|| template(lang));
    let name = |id: &str, title: &str| if id == TEMPERATURE { t(lang, "temperature").to_owned() } else { title.to_owned() };
    html! {
        @match plan {
            Some((p, since, _)) => {
                p { (t(lang, "plan_since")) " " (time(&since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))) }
                ul.plan {
                    @if !p.treatment.is_empty() {
                        li { (t(lang, "plan_treatment")) ": "
                            (p.treatment.iter().map(|x| words::app_text(lang, &format!("treatment.{}", x.as_str())).unwrap_or(x.as_str())).collect::<Vec<_>>().join(", ")) }
                    }
                    @for s in &p.schedules {
                        @let title = checkins().into_iter().find(|(id, _)| *id == s.instrument).map(|(id, t)| name(&id, &t)).unwrap_or_default();
                        li { (title) " " (tf(lang, "plan_every_days", &[("days", &s.every_days.to_string())]))
                            @if let Some(d) = s.for_days { ", " (tf(lang, "plan_for_days", &[("days", &d.to_string())])) } }
                    }
                    @for w in &p.watch_for { li { (w) } }
                    @for a in &p.advice { li { (a) } }
                }
            }
            None => { p { (t(lang, "plan_none")) } }
        }
        form.stack method="post" action={ "/care/patients/" (patient) "/plan" } {
            input type="hidden" name="csrf" value=(csrf);
            fieldset {
                legend { (t(lang, "plan_treatment")) }
                @for x in Treatment::ALL {
                    label.check {
                        input type="checkbox" name="treatment" value=(x.as_str()) checked[shown.treatment.contains(&x)];
                        " " (words::app_text(lang, &format!("treatment.{}", x.as_str())).unwrap_or(x.as_str()))
                    }
                }
            }
            fieldset {
                legend { (t(lang, "plan_checkins")) }
                @for (id, title) in checkins() {
                    @let s = shown.schedules.iter().find(|s| s.instrument == id);
                    p.checkin { strong { (name(&id, &title)) } }
                    label for={ "every-" (id) } { (t(lang, "plan_every")) }
                    input id={ "every-" (id) } name={ "every-" (id) } type="number" min="1" max="365" value=[s.map(|s| s.every_days)];
                    label for={ "for-" (id) } { (t(lang, "plan_for")) }
                    input id={ "for-" (id) } name={ "for-" (id) } type="number" min="1" max="365" value=[s.and_then(|s| s.for_days)];
                }
            }
            label for="plan-watch" { (t(lang, "plan_watch")) }
            textarea id="plan-watch" name="watch_for" rows="5" { (shown.watch_for.join("\n")) }
            label for="plan-advice" { (t(lang, "plan_advice")) }
            textarea id="plan-advice" name="advice" rows="4" { (shown.advice.join("\n")) }
            button type="submit" { (t(lang, "plan_save")) }
        }
        p { a href={ "/care/patients/" (patient) "/summary.pdf" } { (t(lang, "summary_pdf")) } }
    }
}

/// The plan form as posted (repeated `treatment`, `every-<id>`, `for-<id>`, the texts).
fn plan_of(pairs: &[(String, String)]) -> Result<Plan, String> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let mut plan = Plan::default();
    for (_, v) in pairs.iter().filter(|(n, _)| n == "treatment") {
        plan.treatment.push(Treatment::parse(v).ok_or("treatment")?);
    }
    plan.treatment = Treatment::normalise(plan.treatment);
    for (id, _) in checkins() {
        let Some(every) = get(&format!("every-{id}")) else { continue };
        let every_days = every.parse().map_err(|_| format!("every-{id}"))?;
        let for_days = get(&format!("for-{id}")).map(|d| d.parse().map_err(|_| format!("for-{id}"))).transpose()?;
        plan.schedules.push(PlanSchedule { instrument: id, every_days, for_days });
    }
    let lines = |k: &str| get(k).map(|v| v.lines().map(str::to_owned).collect()).unwrap_or_default();
    plan.watch_for = lines("watch_for");
    plan.advice = lines("advice");
    companion_core::plan::check(plan).map_err(|e| e.to_string())
}

pub(super) async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.clone()).unwrap_or_default();
    let ctx = match form_session(&state, &headers, peer.as_deref(), &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let plan = match plan_of(&pairs) {
        Ok(p) => p,
        Err(field) => {
            let notice = format!("{}: {field}", t(ctx.lang, "plan_bad"));
            return super::patient::render(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(notice)).await;
        }
    };
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), id.clone());
    let saved = blocking(move || {
        if !db.has_relation(&who, &pid)? {
            return Err(StoreError::forbidden("a reason is needed to open this patient"));
        }
        db.set_plan(&who, &pid, plan).map_err(|e| StoreError::unprocessable(e.to_string()))
    })
    .await;
    match saved {
        Ok(_) => Redirect::to(&format!("/care/patients/{id}")).into_response(),
        Err(e) => api_error_page(ctx.lang, e),
    }
}

/// The summary for the visit as the PDF the app makes, from the records the server holds.
pub(super) async fn pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !crate::fhir::valid_id(&id) {
        return error_page(ctx.lang, StatusCode::NOT_FOUND, "not_found");
    }
    let (db, who, pid, lang) = (state.db.clone(), ctx.session.actor(), id.clone(), ctx.lang);
    let made = blocking(move || {
        let Some((patient, _, _)) = db.patient_overview(&pid)? else { return Err(StoreError::not_found()) };
        if !db.has_relation(&who, &pid)? {
            return Err(StoreError::forbidden("a reason is needed to open this patient"));
        }
        let records = db.patient_resources(&pid, &["Observation", "QuestionnaireResponse", "Communication"], 500)?;
        db.audit_event(&who.label(), "read", Some("Patient"), Some(&pid), Some(&pid), "ok")?;
        let replicas: Vec<_> = records.iter().filter_map(|s| companion_core::replica::from_resource(&s.body)).collect();
        // The fever line of the rules the clinic published (the shipped ones before it has).
        let fever =
            db.ruleset()?.map(|p| p.rules).unwrap_or_else(companion_core::rules::Ruleset::default_rules).temperature.call_at_or_above;
        Ok(super::summary::pdf(lang, &patient.name, &replicas, fever))
    })
    .await;
    match made {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/pdf"));
            h.insert(axum::http::header::CONTENT_DISPOSITION, axum::http::HeaderValue::from_static("inline; filename=\"summary.pdf\""));
            res
        }
        Err(e) if e.status == StatusCode::FORBIDDEN => super::patient::reason_page(&state, &ctx, &id, StatusCode::OK, None).await,
        Err(e) => api_error_page(ctx.lang, e),
    }
}
