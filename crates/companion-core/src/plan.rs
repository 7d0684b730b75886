//! The clinic's going-home plan for one patient: the treatment they are on, the check-ins the
//! clinic asks for and how often, what to watch for and self-care advice, in the clinic's words.
//! The clinic sets it (`companion-clinic plan set`, or the care team's patient page); it travels
//! as a FHIR `CarePlan` the server stamps as the clinic's, and the device takes from it the
//! diary's treatment and the check-in schedules while it is in force.

use crate::care_team::{refused, Refused};
use crate::treatment::Treatment;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const MAX_TEXTS: usize = 30;
const MAX_TEXT: usize = 500;
/// A check-in of the body temperature (not an instrument: a temperature reading counts).
pub const TEMPERATURE: &str = "temperature";
const LOINC_TEMPERATURE: &str = "8310-5";

/// A plan as the clinic writes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default)]
    pub treatment: Vec<Treatment>,
    #[serde(default)]
    pub schedules: Vec<PlanSchedule>,
    #[serde(default)]
    pub watch_for: Vec<String>,
    #[serde(default)]
    pub advice: Vec<String>,
}

/// A check-in the plan asks for: an instrument (`esas-r`, `phq-9`, ...) or `temperature`, every
/// so many days, for the first `for_days` days of the plan or for as long as it is in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct PlanSchedule {
    pub instrument: String,
    pub every_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub for_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    treatment: Vec<String>,
    #[serde(default)]
    schedules: Vec<PlanSchedule>,
    #[serde(default)]
    watch_for: Vec<String>,
    #[serde(default)]
    advice: Vec<String>,
}

/// Reads and checks a plan file: known treatments and instruments, days in range, texts given.
pub fn parse(json: &str) -> Result<Plan, Refused> {
    let f: File = serde_json::from_str(json).map_err(|e| refused("", format!("the file cannot be read ({e})")))?;
    let mut treatment = Vec::new();
    for (i, t) in f.treatment.iter().enumerate() {
        let known = Treatment::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        treatment.push(Treatment::parse(t).ok_or_else(|| refused(format!("treatment[{i}]"), format!("must be one of {known}")))?);
    }
    let plan = Plan { treatment: Treatment::normalise(treatment), schedules: f.schedules, watch_for: f.watch_for, advice: f.advice };
    check(plan)
}

/// Checks a plan however it was made (a file, the web form, a pulled `CarePlan`).
pub fn check(mut plan: Plan) -> Result<Plan, Refused> {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in plan.schedules.iter_mut().enumerate() {
        let at = |what: &str| format!("schedules[{i}].{what}");
        if s.instrument != TEMPERATURE {
            // `PHQ-9` as people write it, `phq9` as the app names it.
            s.instrument = crate::instruments::get(&s.instrument)
                .or_else(|_| crate::instruments::get(&s.instrument.replace("-", "")))
                .map_err(|_| refused(at("instrument"), "is not an instrument this app ships, nor temperature"))?
                .id
                .to_owned();
        }
        if !seen.insert(s.instrument.clone()) {
            return Err(refused(at("instrument"), "is scheduled twice"));
        }
        if !(1..=365).contains(&s.every_days) {
            return Err(refused(at("every_days"), "must be between 1 and 365"));
        }
        if s.for_days.is_some_and(|d| !(1..=365).contains(&d)) {
            return Err(refused(at("for_days"), "must be between 1 and 365"));
        }
    }
    for (name, list) in [("watch_for", &mut plan.watch_for), ("advice", &mut plan.advice)] {
        list.iter_mut().for_each(|t| *t = t.trim().to_owned());
        list.retain(|t| !t.is_empty());
        if list.len() > MAX_TEXTS {
            return Err(refused(name, format!("may hold at most {MAX_TEXTS} texts")));
        }
        if let Some(i) = list.iter().position(|t| t.chars().count() > MAX_TEXT) {
            return Err(refused(format!("{name}[{i}]"), format!("must be at most {MAX_TEXT} characters")));
        }
    }
    Ok(plan)
}

/// The id of a patient's going-home `CarePlan` (one per patient; a new plan is a new version).
pub fn care_plan_id(patient: &str) -> String {
    format!("going-home-{patient}")
}

fn system(name: &str) -> String {
    format!("{}/CodeSystem/{name}", crate::fhir::CANONICAL_BASE)
}

pub fn treatment_extension_url() -> String {
    format!("{}/StructureDefinition/treatment", crate::fhir::CANONICAL_BASE)
}

/// The plan as a FHIR `CarePlan` for a patient, in force from `start`.
pub fn to_fhir(plan: &Plan, patient: &str, start: DateTime<Utc>) -> Value {
    let activity_system = system("plan-activity");
    let mut activity = Vec::new();
    for s in &plan.schedules {
        let mut repeat = json!({ "frequency": 1, "period": s.every_days, "periodUnit": "d" });
        if let Some(d) = s.for_days {
            repeat["boundsDuration"] = json!({ "value": d, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d" });
        }
        let mut detail = json!({
            "status": "scheduled",
            "scheduledTiming": { "repeat": repeat },
        });
        if s.instrument == TEMPERATURE {
            detail["code"] = json!({ "coding": [
                { "system": activity_system, "code": "check-in" },
                { "system": "http://loinc.org", "code": LOINC_TEMPERATURE, "display": "Body temperature" }] });
        } else if let Ok(i) = crate::instruments::get(&s.instrument) {
            detail["kind"] = json!("Task");
            detail["code"] =
                json!({ "coding": [{ "system": activity_system, "code": "check-in" }, { "system": system("check-in"), "code": i.id }] });
            detail["instantiatesCanonical"] = json!([i.questionnaire.canonical()]);
        }
        activity.push(json!({ "detail": detail }));
    }
    for (code, list) in [("watch-for", &plan.watch_for), ("self-care", &plan.advice)] {
        for text in list {
            activity.push(json!({ "detail": {
                "code": { "coding": [{ "system": activity_system, "code": code }] },
                "status": "in-progress",
                "description": text,
            }}));
        }
    }
    let extension: Vec<Value> =
        plan.treatment.iter().map(|t| json!({ "url": treatment_extension_url(), "valueCode": t.as_str() })).collect();
    let mut out = json!({
        "resourceType": "CarePlan",
        "id": care_plan_id(patient),
        "status": "active",
        "intent": "plan",
        "category": [{ "coding": [{ "system": system("plan-kind"), "code": "going-home" }] }],
        "title": "Going home",
        "subject": { "reference": format!("Patient/{patient}") },
        "period": { "start": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) },
        "created": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    if !extension.is_empty() {
        out["extension"] = json!(extension);
    }
    if !activity.is_empty() {
        out["activity"] = json!(activity);
    }
    out
}

/// A plan read back from a `CarePlan` as [`to_fhir`] writes it, with when it came into force.
/// `None` for a CarePlan that is not an active going-home plan.
pub fn from_fhir(care_plan: &Value) -> Option<(Plan, DateTime<Utc>)> {
    let going_home = care_plan
        .pointer("/category/0/coding")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c.get("code").and_then(Value::as_str) == Some("going-home")));
    if care_plan.get("status").and_then(Value::as_str) != Some("active") || !going_home {
        return None;
    }
    let start = care_plan
        .pointer("/period/start")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))?;
    let url = treatment_extension_url();
    let treatment = care_plan
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("url").and_then(Value::as_str) == Some(url.as_str()))
        .filter_map(|e| e.get("valueCode").and_then(Value::as_str).and_then(Treatment::parse))
        .collect();
    let (activity_system, checkin_system) = (system("plan-activity"), system("check-in"));
    let mut plan = Plan { treatment: Treatment::normalise(treatment), ..Plan::default() };
    for a in care_plan.get("activity").and_then(Value::as_array).into_iter().flatten() {
        let Some(detail) = a.get("detail") else { continue };
        let codings: Vec<(&str, &str)> = detail
            .pointer("/code/coding")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| (c.get("system").and_then(Value::as_str).unwrap_or(""), c.get("code").and_then(Value::as_str).unwrap_or("")))
            .collect();
        let kind = codings.iter().find(|(s, _)| *s == activity_system).map(|(_, c)| *c);
        let text = || detail.get("description").and_then(Value::as_str).map(str::to_owned);
        match kind {
            Some("watch-for") => plan.watch_for.extend(text()),
            Some("self-care") => plan.advice.extend(text()),
            Some("check-in") => {
                let instrument = if codings.iter().any(|(s, c)| *s == "http://loinc.org" && *c == LOINC_TEMPERATURE) {
                    Some(TEMPERATURE.to_owned())
                } else {
                    codings.iter().find(|(s, _)| *s == checkin_system).map(|(_, c)| c.to_string())
                };
                let repeat = detail.pointer("/scheduledTiming/repeat");
                let every = repeat
                    .and_then(|r| r.get("period"))
                    .and_then(Value::as_f64)
                    .filter(|_| repeat.and_then(|r| r.get("periodUnit")).and_then(Value::as_str) == Some("d"));
                let for_days = repeat.and_then(|r| r.pointer("/boundsDuration/value")).and_then(Value::as_f64).map(|d| d as u32);
                if let (Some(instrument), Some(every)) = (instrument, every) {
                    plan.schedules.push(PlanSchedule { instrument, every_days: every as u32, for_days });
                }
            }
            _ => {}
        }
    }
    // What this build cannot follow is left out rather than refusing the whole plan.
    plan.schedules.retain(|s| check(Plan { schedules: vec![s.clone()], ..Plan::default() }).is_ok());
    check(plan).ok().map(|p| (p, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const FILE: &str = r#"{"treatment": ["immunotherapy"],
        "schedules": [{"instrument": "esas-r", "every_days": 7}, {"instrument": "PHQ-9", "every_days": 14},
                      {"instrument": "temperature", "every_days": 1, "for_days": 10}],
        "watch_for": ["New diarrhoea, cough or breathlessness: call the ward now."],
        "advice": ["Drink at least 2 litres a day."]}"#;

    #[test]
    fn a_plan_goes_through_fhir_unchanged() {
        let plan = parse(FILE).unwrap();
        assert_eq!(plan.schedules[1].instrument, "phq9");
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let fhir = to_fhir(&plan, "p1", start);
        assert_eq!(fhir["id"], "going-home-p1");
        assert_eq!(fhir["subject"]["reference"], "Patient/p1");
        assert_eq!(from_fhir(&fhir), Some((plan, start)));
        let mut revoked = fhir.clone();
        revoked["status"] = "revoked".into();
        assert_eq!(from_fhir(&revoked), None);
    }

    #[test]
    fn bad_plans_are_refused_naming_the_element() {
        let field = |j: &str| parse(j).unwrap_err().field;
        assert_eq!(field(r#"{"treatment": ["surgery"]}"#), "treatment[0]");
        assert_eq!(field(r#"{"schedules": [{"instrument": "qlq-c30", "every_days": 7}]}"#), "schedules[0].instrument");
        assert_eq!(field(r#"{"schedules": [{"instrument": "esas-r", "every_days": 0}]}"#), "schedules[0].every_days");
        assert_eq!(
            field(r#"{"schedules": [{"instrument": "esas-r", "every_days": 7}, {"instrument": "esas-r", "every_days": 3}]}"#),
            "schedules[1].instrument"
        );
        assert_eq!(field(&format!(r#"{{"advice": ["{}"]}}"#, "x".repeat(501))), "advice[0]");
        assert_eq!(field(r#"{"colour": "red"}"#), "");
    }
}
