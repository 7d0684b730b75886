//! What the server accepts: which resource types, which elements must be there, and that every
//! resource is about the patient the caller may write for. A refused resource stores nothing.

use crate::error::{StoreError, StoreResult};
use serde_json::Value;

/// Largest resource accepted, in bytes of JSON.
pub const MAX_RESOURCE_BYTES: usize = 256 * 1024;

/// Types the server stores, and the element that names the patient.
pub const TYPES: &[(&str, &str)] = &[
    ("Observation", "subject"),
    ("QuestionnaireResponse", "subject"),
    ("Communication", "subject"),
    ("Flag", "subject"),
    ("Task", "for"),
    ("Appointment", "participant"),
    ("Provenance", "agent"),
    ("Questionnaire", ""),
    ("RelatedPerson", "patient"),
    ("Consent", "patient"),
    ("CarePlan", "subject"),
    ("CareTeam", ""),
    ("Library", ""),
];

/// Types only the server writes (from an invitation): what the patient let a carer see, as
/// `Consent`. A carer's `RelatedPerson` is written by the server from an invitation, or by the
/// patient's own device for a carer on that device; never by a carer's device.
pub const SERVER_WRITTEN: &[&str] = &["Consent"];

/// Resources that belong to no patient: the clinic's own forms (a licensed translation of an
/// instrument), written by staff and readable by every paired device. Stored with an empty
/// patient id.
pub const SHARED: &[&str] = &["Questionnaire", "CareTeam", "Library"];

/// Types written only by the server's own commands, never through the API: the clinic's signed
/// ruleset (`companion-clinic ruleset publish`, which checks the floors and signs it).
pub const PUBLISHED: &[&str] = &["Library"];

pub fn is_shared(rtype: &str) -> bool {
    SHARED.contains(&rtype)
}

fn required(rtype: &str) -> &'static [&'static str] {
    match rtype {
        "Observation" => &["status", "code", "subject"],
        "QuestionnaireResponse" => &["status", "subject"],
        "Communication" => &["status", "subject"],
        "Flag" => &["status", "code", "subject"],
        "Task" => &["status", "intent", "for"],
        "Appointment" => &["status", "participant"],
        "Provenance" => &["target", "recorded", "agent"],
        "Questionnaire" => &["status", "url", "item"],
        "RelatedPerson" => &["patient"],
        "Consent" => &["status", "scope", "category", "patient"],
        "CarePlan" => &["status", "intent", "subject"],
        "Library" => &["status", "type", "content"],
        "CareTeam" => &["participant"],
        _ => &[],
    }
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The patient ids a resource references through its patient element(s).
fn patients_referenced(rtype: &str, body: &Value) -> Vec<String> {
    let element = TYPES.iter().find(|(t, _)| *t == rtype).map(|(_, e)| *e).unwrap_or("subject");
    let mut refs = Vec::new();
    let mut push = |v: &Value| {
        if let Some(r) = v.get("reference").and_then(Value::as_str) {
            refs.push(r.to_owned());
        }
    };
    match body.get(element) {
        Some(Value::Array(items)) => {
            for item in items {
                // Appointment.participant[].actor; Provenance.agent[].who, and the patient a
                // carer acted for in .onBehalfOf.
                push(item.get("actor").or_else(|| item.get("who")).unwrap_or(item));
                if let Some(v) = item.get("onBehalfOf") {
                    push(v);
                }
            }
        }
        Some(v) => push(v),
        None => {}
    }
    refs.into_iter().filter_map(|r| r.strip_prefix("Patient/").map(str::to_owned)).collect()
}

/// Checks a resource about to be written and returns the patient it belongs to.
/// `scope` is the patient a device may write for (None for staff, who may write for any).
pub fn check(rtype: &str, id: &str, body: &Value, scope: Option<&str>) -> StoreResult<String> {
    if !TYPES.iter().any(|(t, _)| *t == rtype) {
        return Err(StoreError::invalid(format!("resource type {rtype} is not accepted here")));
    }
    if !valid_id(id) {
        return Err(StoreError::invalid("the id is not a valid FHIR id"));
    }
    let Some(obj) = body.as_object() else { return Err(StoreError::invalid("the body is not a JSON object")) };
    if obj.get("resourceType").and_then(Value::as_str) != Some(rtype) {
        return Err(StoreError::invalid("resourceType does not match the URL"));
    }
    if obj.get("id").and_then(Value::as_str) != Some(id) {
        return Err(StoreError::invalid("id does not match the URL"));
    }
    if body.to_string().len() > MAX_RESOURCE_BYTES {
        return Err(StoreError::too_large());
    }
    for element in required(rtype) {
        if obj.get(*element).is_none_or(|v| v.is_null()) {
            return Err(StoreError::unprocessable(format!("{rtype}.{element} is required")));
        }
    }
    // app-2: an Appointment has both a start and an end, or neither.
    if rtype == "Appointment" && obj.get("start").is_some() != obj.get("end").is_some() {
        return Err(StoreError::unprocessable("Appointment.start and Appointment.end go together"));
    }
    if SERVER_WRITTEN.contains(&rtype) && scope.is_some() {
        return Err(StoreError::forbidden("carers and what they may see are recorded by the server, from an invitation"));
    }
    if is_shared(rtype) {
        // One CareTeam and one ruleset for the clinic: a patient's own would be shown to all.
        let one = match rtype {
            "CareTeam" => Some(companion_core::care_team::CARE_TEAM_ID),
            "Library" => Some(companion_core::rules::signed::LIBRARY_ID),
            _ => None,
        };
        if one.is_some_and(|only| id != only) {
            return Err(StoreError::unprocessable(format!("the clinic has one {rtype}, {}", one.unwrap_or_default())));
        }
        if scope.is_some() {
            return Err(StoreError::forbidden(format!("only the clinic's staff may write a {rtype}")));
        }
        return Ok(String::new());
    }
    let patients = patients_referenced(rtype, body);
    let Some(patient) = patients.first().cloned() else {
        return Err(StoreError::unprocessable(format!("{rtype} must reference its patient as Patient/<id>")));
    };
    if patients.iter().any(|p| p != &patient) {
        return Err(StoreError::unprocessable("a resource may reference only one patient"));
    }
    if let Some(scope) = scope {
        if patient != scope {
            return Err(StoreError::forbidden("a device may write only for its own patient"));
        }
    }
    Ok(patient)
}

pub use crate::carer_access::{carer_may_see, carer_scope, carer_scope_url, check_carer_write, triage_scope, written_by};

/// The extension a device adds to a `Flag` when someone pressed "I understand" on the card.
fn acknowledged_url() -> String {
    companion_core::fhir::acknowledged_extension_url()
}

/// A Flag records advice shown on a device; it is never changed after, except that an
/// acknowledgement may be added ("I understand", once per person). Each acknowledgement names
/// who pressed it, and a device may only name its own: a carer's device the carer, the
/// patient's device the patient or a carer on that device. Staff are not held to this (the
/// care team's own handling of Flags comes with its own rules).
pub fn check_flag_write(stored: Option<&Value>, new: &Value, patient: &str, carer: Option<&str>) -> StoreResult<()> {
    let url = acknowledged_url();
    let acks = |v: &Value| -> Vec<Value> {
        v.get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|e| e.get("url").and_then(Value::as_str) == Some(url.as_str()))
            .cloned()
            .collect()
    };
    // The record the advice is about: named by newer devices, so a Flag stored before may
    // gain it; once named it is never changed.
    let record_url = companion_core::fhir::advice_record_extension_url();
    let record = |v: &Value| -> Option<Value> {
        v.get("extension")
            .and_then(Value::as_array)?
            .iter()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(record_url.as_str()))
            .cloned()
    };
    if let Some(old) = stored.and_then(record) {
        if record(new).as_ref() != Some(&old) {
            return Err(StoreError::forbidden("a Flag records advice shown and is not changed; only an acknowledgement may be added"));
        }
    }
    let without_acks = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("meta");
            let rest: Vec<Value> = o
                .get("extension")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|e| {
                    let u = e.get("url").and_then(Value::as_str);
                    u != Some(url.as_str()) && u != Some(record_url.as_str())
                })
                .cloned()
                .collect();
            if rest.is_empty() {
                o.remove("extension");
            } else {
                o.insert("extension".into(), Value::Array(rest));
            }
        }
        v
    };
    let new_acks = acks(new);
    if let Some(old) = stored {
        if without_acks(old) != without_acks(new) {
            return Err(StoreError::forbidden("a Flag records advice shown and is not changed; only an acknowledgement may be added"));
        }
        let old_acks = acks(old);
        if old_acks.iter().any(|a| !new_acks.contains(a)) {
            return Err(StoreError::forbidden("an acknowledgement on a Flag is never changed or taken away"));
        }
    }
    let fresh = new_acks.iter().filter(|a| stored.is_none_or(|old| !acks(old).contains(a)));
    for ack in fresh {
        let part = |name: &str| {
            ack.get("extension")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|e| e.get("url").and_then(Value::as_str) == Some(name))
                .cloned()
        };
        let at = part("at").and_then(|e| e.get("valueDateTime").and_then(Value::as_str).map(str::to_owned));
        if at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).is_none() {
            return Err(StoreError::unprocessable("Flag.extension(advice-acknowledged).at must be a dateTime"));
        }
        let by =
            part("by").and_then(|e| e.pointer("/valueReference/reference").and_then(Value::as_str).map(str::to_owned)).unwrap_or_default();
        let allowed = match carer {
            Some(me) => by == format!("RelatedPerson/{me}"),
            None => by == format!("Patient/{patient}") || by.strip_prefix("RelatedPerson/").is_some_and(valid_id),
        };
        if !allowed {
            return Err(StoreError::forbidden("Flag.extension(advice-acknowledged).by must name who is signed in on this device"));
        }
    }
    Ok(())
}

/// What this server does, exactly: the CapabilityStatement at `/fhir/metadata`.
pub fn capability_statement() -> Value {
    let search_params = |rtype: &str| -> Vec<Value> {
        let mut p: Vec<Value> =
            crate::search::params_of(rtype).iter().map(|(name, kind)| serde_json::json!({ "name": name, "type": kind })).collect();
        p.push(serde_json::json!({ "name": "_lastUpdated", "type": "date" }));
        p
    };
    let mut resources: Vec<Value> = TYPES
        .iter()
        .map(|(t, _)| {
            serde_json::json!({
                "type": t,
                "interaction": [{ "code": "read" }, { "code": "vread" }, { "code": "update" }, { "code": "create" },
                                { "code": "history-instance" }, { "code": "search-type" }],
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": false,
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchParam": search_params(t),
            })
        })
        .collect();
    resources.push(serde_json::json!({ "type": "Patient", "interaction": [{ "code": "read" }] }));
    serde_json::json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "software": { "name": "companion-clinic", "version": env!("CARGO_PKG_VERSION") },
        // cpb-14: an instance's statement describes the implementation.
        "implementation": { "description": "Companion clinic server: synced patient diaries" },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/json"],
        "rest": [{
            "mode": "server",
            "documentation": concat!(
                "Every stored version carries the server's stamp of who wrote it, decided from the credential: ",
                "meta.tag in https://fhir.companion-diary.no/CodeSystem/origin (clinic: the clinic's staff; patient: one of ",
                "the patient's own devices; carer: a carer's own device) and meta.source naming the credential ",
                "(companion-staff:<id>, companion-device:<id>). From a device, an origin tag other than its own, meta.security, ",
                "or a meta.source that is not a device's is refused (403). Appointment, Task, Questionnaire, Consent and a ",
                "Communication with inResponseTo are written only by staff (Consent also by the server from an ",
                "invitation). Search: _count (0: the total only; at most 200), _offset, ",
                "_sort (date, _lastUpdated, - for descending), _summary=count; unknown parameters are ignored and left ",
                "out of the self link, or refused under Prefer: handling=strict. Contained resources are not accepted."
            ),
            "security": {
                "cors": false,
                "description": concat!(
                    "Bearer tokens: a paired device (one patient; a carer's device only what the patient allowed) or ",
                    "staff (all patients; tokens expire, 12 hours by default, and can be revoked). Failed credentials ",
                    "and pairing codes are throttled per source address (429 with Retry-After)."
                ),
            },
            "resource": resources,
            "interaction": [{ "code": "batch" }, { "code": "transaction" }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(patient: &str) -> Value {
        json!({"resourceType": "Observation", "id": "a-1", "status": "final", "code": {"text": "x"},
               "subject": {"reference": format!("Patient/{patient}")}})
    }

    fn flag(acks: &[(&str, &str)]) -> Value {
        let mut f = json!({"resourceType": "Flag", "id": "f-1", "status": "active", "code": {"text": "call_now"},
                          "subject": {"reference": "Patient/p1"}, "period": {"start": "2026-12-01T10:00:00.000Z"}});
        if !acks.is_empty() {
            f["extension"] = acks
                .iter()
                .map(|(at, by)| {
                    json!({"url": acknowledged_url(), "extension": [
                    {"url": "at", "valueDateTime": at}, {"url": "by", "valueReference": {"reference": by}}]})
                })
                .collect();
        }
        f
    }

    #[test]
    fn a_flag_only_gains_acknowledgements_each_naming_who_is_signed_in() {
        let at = "2026-12-01T10:01:00.000Z";
        let none = flag(&[]);
        let mine = flag(&[(at, "Patient/p1")]);
        assert!(check_flag_write(None, &none, "p1", None).is_ok());
        assert!(check_flag_write(Some(&none), &mine, "p1", None).is_ok(), "the patient's device adds the patient's");
        assert!(check_flag_write(Some(&none), &flag(&[(at, "RelatedPerson/c-1")]), "p1", None).is_ok(), "or a carer on it");
        assert_eq!(check_flag_write(Some(&none), &flag(&[(at, "Patient/p2")]), "p1", None).unwrap_err().http().status, 403);
        assert_eq!(check_flag_write(Some(&mine), &none, "p1", None).unwrap_err().http().status, 403, "never taken away");
        let mut changed = mine.clone();
        changed["code"]["text"] = "contact_team".into();
        assert_eq!(check_flag_write(Some(&mine), &changed, "p1", None).unwrap_err().http().status, 403, "never changed");
        // A carer's device names the carer, never the patient.
        assert!(check_flag_write(Some(&none), &flag(&[(at, "RelatedPerson/c-1")]), "p1", Some("c-1")).is_ok());
        assert_eq!(check_flag_write(Some(&none), &mine, "p1", Some("c-1")).unwrap_err().http().status, 403);
        assert_eq!(check_flag_write(None, &mine, "p1", Some("c-1")).unwrap_err().http().status, 403, "not at creation either");
        assert_eq!(check_flag_write(Some(&none), &flag(&[("soon", "Patient/p1")]), "p1", None).unwrap_err().http().status, 422);
        let both = flag(&[(at, "Patient/p1"), (at, "RelatedPerson/c-1")]);
        assert!(check_flag_write(Some(&mine), &both, "p1", Some("c-1")).is_ok(), "each adds their own");
    }

    #[test]
    fn resources_are_checked_before_anything_is_stored() {
        assert_eq!(check("Observation", "a-1", &obs("p1"), Some("p1")).unwrap(), "p1");
        assert_eq!(check("Observation", "a-1", &obs("p2"), Some("p1")).unwrap_err().http().status, 403);
        assert_eq!(check("Observation", "a-2", &obs("p1"), None).unwrap_err().http().status, 400);
        assert_eq!(check("Patient", "a-1", &obs("p1"), None).unwrap_err().http().status, 400);
        let mut missing = obs("p1");
        missing.as_object_mut().unwrap().remove("status");
        let e = check("Observation", "a-1", &missing, None).unwrap_err();
        assert_eq!((e.http().status.as_u16(), e.http().message.as_str()), (422, "Observation.status is required"));
        let mut big = obs("p1");
        big["note"] = json!([{ "text": "x".repeat(MAX_RESOURCE_BYTES) }]);
        assert_eq!(check("Observation", "a-1", &big, None).unwrap_err().http().status, 413);
        assert!(!valid_id("has space"));
    }
}
