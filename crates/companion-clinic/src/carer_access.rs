//! What a carer's own device may read and write at the server, decided from the credential's
//! scopes (the patient's grant) and the resource: by category (`carer_scope`), by authorship
//! (what the carer wrote is always theirs to see), and for an alert's receipts by the record it
//! is about. Search, read and the change feed all ask [`carer_may_see`]; every write from a
//! carer's device passes [`check_carer_write`].

use crate::error::{StoreError, StoreResult};
use crate::fhir::is_shared;
use companion_core::domain::Scope;
use serde_json::Value;

/// The carer-access category of a resource, as the patient's invitation names them
/// (see `companion_core::domain::Scope`); `None` for what no carer is shown unless they wrote it
/// (alerts to the care team, provenance, consents).
pub fn carer_scope(rtype: &str, body: &Value) -> Option<Scope> {
    match rtype {
        "QuestionnaireResponse" | "Task" => Some(Scope::Checkins),
        "Communication" | "Appointment" => Some(Scope::Questions),
        "Observation" => {
            // A score is derived from a check-in; the daily wellbeing is a check-in.
            if body.get("derivedFrom").is_some() {
                return Some(Scope::Checkins);
            }
            let codes: Vec<(&str, &str)> = body
                .pointer("/code/coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| (c.get("system").and_then(Value::as_str).unwrap_or(""), c.get("code").and_then(Value::as_str).unwrap_or("")))
                .collect();
            let ours = companion_core::fhir::symptom_system();
            if codes.iter().any(|(sys, code)| *sys == ours && *code == "wellbeing") {
                Some(Scope::Checkins)
            } else if codes.iter().any(|(sys, _)| *sys == ours) || codes.iter().any(|(sys, code)| *sys == LOINC && *code == "8310-5") {
                Some(Scope::Symptoms)
            } else {
                None
            }
        }
        _ => None,
    }
}

const LOINC: &str = "http://loinc.org";

/// The references a resource names as who wrote it: performer, sender, author, and for
/// Provenance each agent.
fn authors(body: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    for key in ["performer", "sender", "author", "recorder", "source"] {
        match body.get(key) {
            Some(Value::Array(items)) => out.extend(items.iter().filter_map(|i| i.get("reference").and_then(Value::as_str))),
            Some(v) => out.extend(v.get("reference").and_then(Value::as_str)),
            None => {}
        }
    }
    if let Some(agents) = body.get("agent").and_then(Value::as_array) {
        out.extend(agents.iter().filter_map(|a| a.pointer("/who/reference").and_then(Value::as_str)));
    }
    out
}

/// Whether the carer `carer` wrote this resource.
pub fn written_by(body: &Value, carer: &str) -> bool {
    let me = format!("RelatedPerson/{carer}");
    authors(body).contains(&me.as_str())
}

/// What a carer's device may read: what they wrote, the clinic's shared forms, their own
/// `RelatedPerson`, and resources in a category the patient allowed.
pub fn carer_may_see(rtype: &str, body: &Value, carer: &str, allow: &[Scope]) -> bool {
    // The going-home plan is the carer's to follow too (who to call, what to watch for).
    let going_home = rtype == "CarePlan" && body.get("id").and_then(Value::as_str).is_some_and(|i| i.starts_with("going-home-"));
    if is_shared(rtype) || written_by(body, carer) || going_home {
        return true;
    }
    if rtype == "RelatedPerson" {
        return body.get("id").and_then(Value::as_str) == Some(carer);
    }
    // The receipts of an alert (its triage Task, the nurse's message about it): for the carer
    // who reported it, and otherwise within the scope of the record it is about.
    if let Some(scope) = triage_scope(rtype, body) {
        let me = format!("RelatedPerson/{carer}");
        let named = |key: &str| {
            let list: Vec<&Value> = match body.get(key) {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(v) => vec![v],
                None => vec![],
            };
            list.iter().any(|r| r.get("reference").and_then(Value::as_str) == Some(me.as_str()))
        };
        if named("requester") || named("recipient") {
            return true;
        }
        return scope.is_some_and(|s| allow.contains(&s));
    }
    carer_scope(rtype, body).is_some_and(|s| allow.contains(&s))
}

/// The extension the server puts on a triage Task (and the web app on a message about one):
/// the carer-access category of the record the alert is about, as `carer_scope` put it.
pub fn carer_scope_url() -> String {
    format!("{}/StructureDefinition/carer-scope", companion_core::fhir::CANONICAL_BASE)
}

/// For a triage Task or a message about one: the category a carer needs to see it (`None`
/// inside when no carer is shown it). `None` for anything else. The server's own word (the
/// extension) first, else the kind of record it names.
pub fn triage_scope(rtype: &str, body: &Value) -> Option<Option<Scope>> {
    let reference = |v: &Value| v.get("reference").and_then(Value::as_str).map(str::to_owned);
    let record = match rtype {
        "Task" => {
            let triage = body
                .pointer("/code/coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| c.get("code").and_then(Value::as_str) == Some(crate::db::triage::TRIAGE));
            if !triage {
                return None;
            }
            body.get("reasonReference").and_then(reference)
        }
        "Communication" => {
            let about: Vec<String> = body.get("about").and_then(Value::as_array).into_iter().flatten().filter_map(reference).collect();
            if !about.iter().any(|r| r.starts_with("Task/triage-")) {
                return None;
            }
            about.into_iter().find(|r| r.starts_with("Observation/") || r.starts_with("QuestionnaireResponse/"))
        }
        _ => return None,
    };
    let url = carer_scope_url();
    let stated = body
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("url").and_then(Value::as_str) == Some(url.as_str()))
        .and_then(|e| e.get("valueCode").and_then(Value::as_str));
    if let Some(code) = stated {
        return Some(Scope::parse(code));
    }
    Some(match record.as_deref().and_then(|r| r.split_once('/')).map(|(t, _)| t) {
        Some("Observation") => Some(Scope::Symptoms),
        Some("QuestionnaireResponse") => Some(Scope::Checkins),
        _ => None,
    })
}

/// What a carer's device may write: observations and questions as themselves, as allowed, each
/// with a Provenance naming them as the author on behalf of the patient. Never as the patient,
/// never a check-in instrument, never anything the clinic writes.
pub fn check_carer_write(rtype: &str, body: &Value, carer: &str, allow: &[Scope]) -> StoreResult<()> {
    let names_patient = authors(body).iter().any(|r| r.starts_with("Patient/"));
    if names_patient {
        return Err(StoreError::forbidden("a carer writes as themselves, never as the patient"));
    }
    let needed = match rtype {
        "Observation" => match carer_scope(rtype, body) {
            Some(Scope::Symptoms) => Scope::Observations,
            // The carer's own wellbeing check-in, shared by them.
            Some(Scope::Checkins) if body.get("derivedFrom").is_none() => Scope::Observations,
            _ => return Err(StoreError::forbidden("a carer may record symptoms, temperatures and their own check-in")),
        },
        "Communication" => Scope::Questions,
        // Safety advice the carer's device showed for what they logged, for the care team.
        "Flag" if allow.contains(&Scope::Observations) => return Ok(()),
        "Provenance" => {
            if !written_by(body, carer) {
                return Err(StoreError::forbidden("a carer's provenance names the carer"));
            }
            return Ok(());
        }
        _ => return Err(StoreError::forbidden(format!("a carer may not write {rtype}"))),
    };
    if !allow.contains(&needed) {
        return Err(StoreError::forbidden("the patient has not allowed this"));
    }
    if !written_by(body, carer) {
        return Err(StoreError::forbidden("a carer's records name the carer as their author"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CARER: &str = "c1";
    const ALL: &[Scope] = &[Scope::Observations, Scope::Questions, Scope::Symptoms, Scope::Checkins];

    fn symptom(by: &str) -> Value {
        json!({"resourceType": "Observation", "id": "o1", "status": "final",
               "code": {"coding": [{"system": companion_core::fhir::symptom_system(), "code": "pain"}]},
               "subject": {"reference": "Patient/p1"}, "performer": [{"reference": by}]})
    }
    fn temperature(by: &str) -> Value {
        json!({"resourceType": "Observation", "id": "o2", "status": "final",
               "code": {"coding": [{"system": LOINC, "code": "8310-5"}]},
               "subject": {"reference": "Patient/p1"}, "performer": [{"reference": by}]})
    }
    fn wellbeing(by: &str) -> Value {
        json!({"resourceType": "Observation", "id": "o3", "status": "final",
               "code": {"coding": [{"system": companion_core::fhir::symptom_system(), "code": "wellbeing"}]},
               "subject": {"reference": "Patient/p1"}, "performer": [{"reference": by}]})
    }
    fn score() -> Value {
        json!({"resourceType": "Observation", "id": "o4", "status": "final", "code": {"text": "PHQ-9"},
               "derivedFrom": [{"reference": "QuestionnaireResponse/q1"}], "performer": [{"reference": "Patient/p1"}]})
    }
    fn question(by: &str) -> Value {
        json!({"resourceType": "Communication", "id": "m1", "status": "completed", "sender": {"reference": by}})
    }
    fn triage(extra: Value) -> Value {
        let mut t = json!({"resourceType": "Task", "id": "triage-a1", "status": "requested", "intent": "order",
               "code": {"coding": [{"code": crate::db::triage::TRIAGE}]}, "reasonReference": {"reference": "Observation/o2"}});
        if let (Some(t), Some(e)) = (t.as_object_mut(), extra.as_object()) {
            t.extend(e.clone());
        }
        t
    }

    #[test]
    fn records_are_seen_by_their_category_and_only_as_the_patient_allowed() {
        let me = "RelatedPerson/c1";
        let cases: &[(&str, Value, Option<Scope>)] = &[
            ("Observation", symptom("Patient/p1"), Some(Scope::Symptoms)),
            ("Observation", temperature("Patient/p1"), Some(Scope::Symptoms)),
            ("Observation", wellbeing("Patient/p1"), Some(Scope::Checkins)),
            ("Observation", score(), Some(Scope::Checkins)),
            ("QuestionnaireResponse", json!({"id": "q1"}), Some(Scope::Checkins)),
            ("Communication", question("Patient/p1"), Some(Scope::Questions)),
            ("Appointment", json!({"id": "ap1"}), Some(Scope::Questions)),
            ("Flag", json!({"id": "f1"}), None),
            ("Provenance", json!({"id": "pv1"}), None),
            ("Consent", json!({"id": "cs1"}), None),
            ("Observation", json!({"id": "o9", "code": {"text": "lab"}}), None),
        ];
        for (rtype, body, scope) in cases {
            assert_eq!(carer_scope(rtype, body), *scope, "{rtype} {body}");
            // Seen with exactly that scope, and never without it (unless the carer wrote it).
            let only = scope.map(|s| vec![s]).unwrap_or_default();
            assert_eq!(carer_may_see(rtype, body, CARER, &only), scope.is_some(), "{rtype} with {only:?}");
            let others: Vec<Scope> = ALL.iter().copied().filter(|s| Some(*s) != *scope).collect();
            assert!(!carer_may_see(rtype, body, CARER, &others), "{rtype} with the other scopes");
        }
        // What the carer wrote is theirs to see whatever they are allowed now.
        assert!(carer_may_see("Observation", &symptom(me), CARER, &[]));
        assert!(carer_may_see("Communication", &question(me), CARER, &[]));
        assert!(!carer_may_see("Observation", &symptom("RelatedPerson/c2"), CARER, &[Scope::Questions]));
    }

    #[test]
    fn shared_resources_the_plan_and_their_own_person_are_seen_but_no_other_person() {
        for shared in ["Questionnaire", "CareTeam", "Library"] {
            assert!(carer_may_see(shared, &json!({"id": "x"}), CARER, &[]), "{shared}");
        }
        assert!(carer_may_see("CarePlan", &json!({"id": "going-home-p1"}), CARER, &[]));
        assert!(!carer_may_see("CarePlan", &json!({"id": "chemo-p1"}), CARER, ALL));
        assert!(carer_may_see("RelatedPerson", &json!({"id": "c1"}), CARER, &[]));
        assert!(!carer_may_see("RelatedPerson", &json!({"id": "c2"}), CARER, ALL));
        assert!(!carer_may_see("Patient", &json!({"id": "p1"}), CARER, ALL));
    }

    #[test]
    fn an_alerts_receipts_follow_the_record_it_is_about_or_the_carer_who_reported_it() {
        // About a temperature: with Symptoms, not with Questions.
        let task = triage(json!({}));
        assert_eq!(triage_scope("Task", &task), Some(Some(Scope::Symptoms)));
        assert!(carer_may_see("Task", &task, CARER, &[Scope::Symptoms]));
        assert!(!carer_may_see("Task", &task, CARER, &[Scope::Questions, Scope::Checkins]));
        // The server's own word wins over the kind of record.
        let stated = triage(json!({"extension": [{"url": carer_scope_url(), "valueCode": "checkins"}]}));
        assert!(carer_may_see("Task", &stated, CARER, &[Scope::Checkins]));
        assert!(!carer_may_see("Task", &stated, CARER, &[Scope::Symptoms]));
        // The carer who reported it sees it with no scope at all.
        let theirs = triage(json!({"requester": {"reference": "RelatedPerson/c1"}}));
        assert!(carer_may_see("Task", &theirs, CARER, &[]));
        let someone_elses = triage(json!({"requester": {"reference": "RelatedPerson/c2"}}));
        assert!(!carer_may_see("Task", &someone_elses, CARER, &[]));
        // A nurse's message about it, the same way.
        let note = json!({"resourceType": "Communication", "id": "n1", "status": "completed",
                          "about": [{"reference": "Task/triage-a1"}, {"reference": "Observation/o2"}]});
        assert_eq!(triage_scope("Communication", &note), Some(Some(Scope::Symptoms)));
        assert!(!carer_may_see("Communication", &note, CARER, &[Scope::Questions]));
        assert!(carer_may_see("Communication", &note, CARER, &[Scope::Symptoms]));
        // A task that is not triage is a check-in request.
        assert_eq!(triage_scope("Task", &json!({"code": {"text": "form"}})), None);
    }

    #[test]
    fn a_carer_writes_as_themselves_within_scope_and_never_as_the_patient() {
        let me = "RelatedPerson/c1";
        let forbidden = |r: StoreResult<()>| r.is_err_and(|e| e.http().status == axum::http::StatusCode::FORBIDDEN);
        // Their own observations with Observations; a symptom they may also see is not enough.
        assert!(check_carer_write("Observation", &symptom(me), CARER, &[Scope::Observations]).is_ok());
        assert!(check_carer_write("Observation", &temperature(me), CARER, &[Scope::Observations]).is_ok());
        assert!(forbidden(check_carer_write("Observation", &symptom(me), CARER, &[Scope::Symptoms])));
        // Their own wellbeing check-in, shared; never a score.
        assert!(check_carer_write("Observation", &wellbeing(me), CARER, &[Scope::Observations]).is_ok());
        assert!(forbidden(check_carer_write("Observation", &score(), CARER, ALL)));
        // Never naming the patient, or another carer, as author.
        assert!(forbidden(check_carer_write("Observation", &symptom("Patient/p1"), CARER, ALL)));
        assert!(forbidden(check_carer_write("Observation", &symptom("RelatedPerson/c2"), CARER, ALL)));
        let mut both = symptom(me);
        both["performer"] = json!([{"reference": me}, {"reference": "Patient/p1"}]);
        assert!(forbidden(check_carer_write("Observation", &both, CARER, ALL)));
        // Questions with Questions.
        assert!(check_carer_write("Communication", &question(me), CARER, &[Scope::Questions]).is_ok());
        assert!(forbidden(check_carer_write("Communication", &question(me), CARER, &[Scope::Observations])));
        // Advice for what they logged, with Observations.
        assert!(check_carer_write("Flag", &json!({"id": "f1"}), CARER, &[Scope::Observations]).is_ok());
        assert!(forbidden(check_carer_write("Flag", &json!({"id": "f1"}), CARER, &[Scope::Questions])));
        // Provenance naming the carer; nothing else.
        let prov = json!({"resourceType": "Provenance", "agent": [{"who": {"reference": me}}]});
        assert!(check_carer_write("Provenance", &prov, CARER, &[]).is_ok());
        let as_patient = json!({"resourceType": "Provenance", "agent": [{"who": {"reference": "Patient/p1"}}]});
        assert!(forbidden(check_carer_write("Provenance", &as_patient, CARER, ALL)));
        for other in ["Patient", "RelatedPerson", "Consent", "QuestionnaireResponse", "Task", "CarePlan", "Library"] {
            assert!(forbidden(check_carer_write(other, &json!({"id": "x"}), CARER, ALL)), "{other}");
        }
    }
}
