//! Who wrote it is decided by the server, from the credential, never by the body.
//!
//! - Every stored version carries the server's stamp: `meta.tag` in our origin code system
//!   (`clinic`, `patient`, `carer`) and `meta.source` rewritten to the writing credential
//!   (`companion-staff:<id>`, `companion-device:<id>`). A writer's own `meta.tag` origin,
//!   `meta.security` or a `meta.source` that is not a device's are refused (403).
//! - Kinds the clinic owns (appointments, tasks, forms, consents, an answer to a question) are
//!   written by staff only, and nothing staff wrote is changed by a device.
//! - Who a body names as its author (performer, sender, author, Provenance.agent, ...) is
//!   checked against the credential: the patient's device writes as the patient or one of
//!   their carers, a carer's device as that carer.

use crate::db::Actor;
use crate::error::{StoreError, StoreResult};
use companion_core::fhir::{origin_system, ORIGIN_CARER, ORIGIN_CLINIC, ORIGIN_PATIENT};
use serde_json::{json, Value};

/// The origin code a credential's writes are stamped with.
pub fn code(actor: &Actor) -> &'static str {
    match actor {
        Actor::Staff { .. } => ORIGIN_CLINIC,
        Actor::Device { carer: Some(_), .. } => ORIGIN_CARER,
        Actor::Device { carer: None, .. } => ORIGIN_PATIENT,
    }
}

fn display(code: &str) -> &'static str {
    match code {
        ORIGIN_CLINIC => "Written by the clinic's staff",
        ORIGIN_CARER => "Written on a carer's own device",
        _ => "Written on one of the patient's devices",
    }
}

/// `meta.source` as the server writes it: the credential that wrote this version.
pub fn source(actor: &Actor) -> String {
    match actor {
        Actor::Staff { id } => format!("companion-staff:{id}"),
        Actor::Device { id, .. } => format!("companion-device:{id}"),
    }
}

/// The server's `meta` for a version it stores: version, time, the writer's stamp, and what
/// the writer may keep of its own (profiles, other tags, staff's security labels).
pub fn stamp(body: &mut Value, actor: &Actor, version: i64, last_updated: &str) {
    let system = origin_system();
    let old = body.get("meta").cloned().unwrap_or(Value::Null);
    let mut tags: Vec<Value> = old
        .get("tag")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("system").and_then(Value::as_str) != Some(system.as_str()))
        .cloned()
        .collect();
    let code = code(actor);
    tags.push(json!({ "system": system, "code": code, "display": display(code) }));
    let mut meta = json!({ "versionId": version.to_string(), "lastUpdated": last_updated, "source": source(actor), "tag": tags });
    if let Some(profile) = old.get("profile") {
        meta["profile"] = profile.clone();
    }
    if let (Actor::Staff { .. }, Some(security)) = (actor, old.get("security")) {
        meta["security"] = security.clone();
    }
    body["meta"] = meta;
}

/// The stamp of what the server itself writes for the clinic (the triage Task it opens when an
/// alert arrives): the clinic's origin, and `companion-clinic` as its source.
pub fn stamp_server(body: &mut Value, version: i64, last_updated: &str) {
    let system = origin_system();
    body["meta"] = json!({
        "versionId": version.to_string(),
        "lastUpdated": last_updated,
        "source": "companion-clinic",
        "tag": [{ "system": system, "code": ORIGIN_CLINIC, "display": "Written by the clinic's server" }],
    });
}

/// Types only the clinic's staff write.
pub const CLINIC_OWNED: &[&str] = &["Appointment", "Task", "Questionnaire", "CarePlan", "CareTeam", "Library"];

/// Whether a resource is of a kind the clinic owns: the types above, and a `Communication` that
/// answers a question (`inResponseTo`).
pub fn clinic_owned(rtype: &str, body: &Value) -> Option<String> {
    if CLINIC_OWNED.contains(&rtype) {
        return Some(format!("{rtype} is written only by the clinic's staff"));
    }
    if rtype == "Communication" && body.get("inResponseTo").is_some() {
        return Some("Communication.inResponseTo: an answer to a question is written only by the clinic's staff".into());
    }
    None
}

/// The elements (besides `Provenance.agent`) that say who wrote a resource.
const AUTHOR_ELEMENTS: &[&str] = &["performer", "sender", "author", "recorder", "source", "requester", "owner", "asserter", "informant"];

/// The values of an element, whether it holds one or an array.
fn items<'a>(body: &'a Value, key: &str) -> Vec<&'a Value> {
    match body.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

/// The elements that say who wrote a resource, as (element, reference) pairs.
pub fn author_claims<'a>(rtype: &str, body: &'a Value) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    for key in AUTHOR_ELEMENTS {
        for (i, item) in items(body, key).into_iter().enumerate() {
            // Observation.performer is 0..*, Communication.sender 0..1: name the element as sent.
            let path = if body.get(key).is_some_and(Value::is_array) { format!("{rtype}.{key}[{i}]") } else { format!("{rtype}.{key}") };
            if let Some(r) = item.get("reference").and_then(Value::as_str) {
                out.push((path, r));
            }
        }
    }
    for (i, agent) in body.get("agent").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for part in ["who", "onBehalfOf"] {
            if let Some(r) = agent.get(part).and_then(|w| w.get("reference")).and_then(Value::as_str) {
                out.push((format!("{rtype}.agent[{i}].{part}"), r));
            }
        }
    }
    out
}

/// Checks what a body claims about who wrote it against the credential. Staff may name anyone
/// (a nurse records for a colleague); devices only as the sections above say.
pub fn check_claims(rtype: &str, body: &Value, actor: &Actor, patient: &str) -> StoreResult<()> {
    let Actor::Device { carer, .. } = actor else { return Ok(()) };
    if let Some(source) = body.pointer("/meta/source") {
        if !source.as_str().is_some_and(|s| s.starts_with("companion-device:")) {
            return Err(StoreError::forbidden("meta.source: where a record came from is set by the server"));
        }
    }
    if body.pointer("/meta/security").is_some() {
        return Err(StoreError::forbidden("meta.security: security labels are set by the clinic"));
    }
    let system = origin_system();
    let claimed = body
        .pointer("/meta/tag")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("system").and_then(Value::as_str) == Some(system.as_str()))
        .any(|t| t.get("code").and_then(Value::as_str) != Some(code(actor)));
    if claimed {
        return Err(StoreError::forbidden("meta.tag: who wrote a record is stamped by the server"));
    }
    if let Some(why) = clinic_owned(rtype, body) {
        return Err(StoreError::forbidden(why));
    }
    // An author named only by display or identifier says nothing the server can check.
    for key in AUTHOR_ELEMENTS {
        if items(body, key).iter().any(|i| i.get("reference").and_then(Value::as_str).is_none()) {
            return Err(StoreError::forbidden(format!("{rtype}.{key}: a device names who wrote it by reference")));
        }
    }
    if body.get("note").and_then(Value::as_array).into_iter().flatten().any(|n| n.get("authorString").is_some()) {
        return Err(StoreError::forbidden(format!("{rtype}.note.authorString: a device names who wrote it by reference")));
    }
    // A diary record carried for the patient's other devices travels on its own type and id,
    // and from a carer's device is the carer's own.
    if let Some(copy) = companion_core::replica::from_resource(body) {
        let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
        if copy.id.to_string() != id || companion_core::replica::resource_type(&copy.data) != rtype {
            return Err(StoreError::forbidden(format!("{rtype}.extension: the diary record does not belong to this resource")));
        }
        if let Some(c) = carer {
            let theirs = |a: &companion_core::domain::Author| a.role == companion_core::domain::Role::Carer && a.id.to_string() == c.id;
            if !theirs(&copy.author) || !theirs(&copy.updated_by) {
                return Err(StoreError::forbidden(format!("{rtype}.extension: a carer's device carries only the carer's own records")));
            }
        }
    }
    let own = format!("Patient/{patient}");
    for (path, reference) in author_claims(rtype, body) {
        let allowed = match carer {
            // A carer writes as themselves, on the patient's behalf.
            Some(c) => reference == format!("RelatedPerson/{}", c.id) || (path.ends_with(".onBehalfOf") && reference == own),
            // The patient's device writes as the patient or one of their carers (a carer on
            // the shared device); that the carer exists is checked with the other references.
            None => reference == own || reference.strip_prefix("RelatedPerson/").is_some_and(crate::fhir::valid_id),
        };
        if !allowed {
            let who = if carer.is_some() { "the carer signed in on it" } else { "the patient or one of their carers" };
            return Err(StoreError::forbidden(format!("{path}: a device writes only as {who}")));
        }
    }
    Ok(())
}

/// Every literal reference in a body, with the element it sits in.
pub fn references(rtype: &str, body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![(rtype.to_owned(), body)];
    while let Some((path, v)) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, child) in o {
                    if k == "reference" {
                        if let Some(r) = child.as_str() {
                            out.push((path.clone(), r.to_owned()));
                        }
                    } else if k != "meta" {
                        stack.push((format!("{path}.{k}"), child));
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter().enumerate().map(|(i, c)| (format!("{path}[{i}]"), c))),
            _ => {}
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::CarerAccess;

    fn device() -> Actor {
        Actor::Device { id: "d1".into(), patient: "p1".into(), carer: None }
    }
    fn carer() -> Actor {
        Actor::Device { id: "d2".into(), patient: "p1".into(), carer: Some(CarerAccess { id: "c1".into(), allow: vec![] }) }
    }

    #[test]
    fn the_stamp_replaces_what_the_writer_said() {
        let mut body = json!({"resourceType": "Observation", "meta": {"source": "companion-clinic", "profile": ["x"],
            "security": [{"code": "R"}], "tag": [{"system": origin_system(), "code": "clinic"}, {"system": "other", "code": "y"}]}});
        stamp(&mut body, &device(), 2, "2026-12-01T10:00:00.000Z");
        assert_eq!(companion_core::fhir::origin(&body), Some("patient"));
        assert_eq!(body["meta"]["source"], "companion-device:d1");
        assert_eq!(body["meta"]["profile"], json!(["x"]));
        assert!(body["meta"].get("security").is_none(), "a device's security labels are not kept");
        assert_eq!(body["meta"]["tag"].as_array().unwrap().len(), 2);
        stamp(&mut body, &Actor::Staff { id: "s1".into() }, 3, "2026-12-01T10:00:00.000Z");
        assert!(companion_core::fhir::written_by_clinic(&body));
    }

    #[test]
    fn devices_write_only_as_themselves_and_never_what_the_clinic_owns() {
        let answer = json!({"resourceType": "Communication", "inResponseTo": [{"reference": "Communication/q"}]});
        assert_eq!(check_claims("Communication", &answer, &carer(), "p1").unwrap_err().http().status, 403);
        assert_eq!(check_claims("Appointment", &json!({}), &device(), "p1").unwrap_err().http().status, 403);
        assert!(check_claims("Appointment", &json!({}), &Actor::Staff { id: "s".into() }, "p1").is_ok());
        let by = |r: &str| json!({"performer": [{"reference": r}]});
        assert!(check_claims("Observation", &by("Patient/p1"), &device(), "p1").is_ok());
        assert!(check_claims("Observation", &by("RelatedPerson/c9"), &device(), "p1").is_ok());
        let e = check_claims("Observation", &by("Practitioner/dr"), &device(), "p1").unwrap_err();
        assert_eq!((e.http().status.as_u16(), e.http().message.starts_with("Observation.performer[0]:")), (403, true));
        assert_eq!(check_claims("Observation", &by("Patient/p1"), &carer(), "p1").unwrap_err().http().status, 403);
        assert!(check_claims("Observation", &by("RelatedPerson/c1"), &carer(), "p1").is_ok());
        let forged = json!({"meta": {"tag": [{"system": origin_system(), "code": "clinic"}]}});
        assert!(check_claims("Observation", &forged, &device(), "p1").unwrap_err().http().message.starts_with("meta.tag"));
        let source = json!({"meta": {"source": "companion-staff:s1"}});
        assert!(check_claims("Observation", &source, &device(), "p1").unwrap_err().http().message.starts_with("meta.source"));
        let prov = json!({"agent": [{"who": {"reference": "RelatedPerson/c1"}, "onBehalfOf": {"reference": "Patient/p1"}}]});
        assert!(check_claims("Provenance", &prov, &carer(), "p1").is_ok());
    }

    #[test]
    fn references_are_found_with_their_element() {
        let body = json!({"subject": {"reference": "Patient/p1"}, "derivedFrom": [{"reference": "QuestionnaireResponse/q"}],
            "extension": [{"valueReference": {"reference": "RelatedPerson/c"}}]});
        let refs = references("Observation", &body);
        assert!(refs.contains(&("Observation.derivedFrom[0]".into(), "QuestionnaireResponse/q".into())));
        assert!(refs.contains(&("Observation.extension[0].valueReference".into(), "RelatedPerson/c".into())));
        assert_eq!(refs.len(), 3);
    }
}
