//! FHIR R4 (4.0.1) mapping of the diary, as designed in `shared/guides/sync.md`.
//!
//! Symptoms and the daily check-in are `Observation`s (category `survey`, our own code system),
//! temperature is a body-temperature `Observation` (LOINC 8310-5, UCUM `Cel`), questions for the
//! visit are `Communication`s from the patient. Record ids are the FHIR ids; withdrawn records are
//! exported with status `entered-in-error`, as FHIR expects, never left out.

use crate::domain::{Author, Entry, EntryData, QuestionState, RecordStatus, Role};
use crate::error::Result;
use crate::instruments::{AnswerValue, ItemAnswer, Scoring};
use crate::store::{Store, TimelineFilter};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// Base of Companion's own canonical URLs (code systems, later questionnaires).
pub const CANONICAL_BASE: &str = "https://fhir.companion-diary.no";

/// The code system of the clinic server's stamp on every stored version (`meta.tag`): who wrote
/// it, decided by the server from the credential, never by the writer.
pub fn origin_system() -> String {
    format!("{CANONICAL_BASE}/CodeSystem/origin")
}

/// Who the server says wrote a resource: `clinic` (the clinic's staff), `patient` (one of the
/// patient's own devices) or `carer` (a carer's own device); `None` when it carries no stamp.
pub fn origin(resource: &Value) -> Option<&str> {
    let system = origin_system();
    resource
        .pointer("/meta/tag")?
        .as_array()?
        .iter()
        .find(|t| t.get("system").and_then(Value::as_str) == Some(system.as_str()))?
        .get("code")?
        .as_str()
}

/// Whether the server stamped this as written by the clinic's staff: the only thing the app
/// shows as "from the clinic".
pub fn written_by_clinic(resource: &Value) -> bool {
    origin(resource) == Some(ORIGIN_CLINIC)
}

pub const ORIGIN_CLINIC: &str = "clinic";
pub const ORIGIN_PATIENT: &str = "patient";
pub const ORIGIN_CARER: &str = "carer";

/// Our code system for the symptom list and the daily check-in.
pub fn symptom_system() -> String {
    format!("{CANONICAL_BASE}/CodeSystem/symptom")
}

pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const BODY_TEMPERATURE_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/bodytemp";
/// Identifiers that are URIs: our record ids as `urn:uuid:`.
pub const URI_SYSTEM: &str = "urn:ietf:rfc:3986";

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

fn reference(author: &Author) -> Value {
    json!({ "reference": urn(author.id), "display": author.name })
}

fn identifier(id: Uuid) -> Value {
    json!([{ "system": URI_SYSTEM, "value": urn(id) }])
}

fn notes(note: &Option<String>) -> Option<Value> {
    note.as_ref().map(|n| json!([{ "text": n }]))
}

fn meta(entry: &Entry) -> Value {
    json!({ "versionId": entry.version.to_string(), "lastUpdated": instant(entry.updated_at) })
}

/// A person as a FHIR resource: the patient, or (later) a carer as `RelatedPerson`.
pub fn person(author: &Author, patient: &Author) -> Value {
    match author.role {
        Role::Patient => json!({
            "resourceType": "Patient",
            "id": author.id.to_string(),
            "identifier": identifier(author.id),
            "name": [{ "text": author.name }],
        }),
        Role::Carer => {
            let mut v = json!({
                "resourceType": "RelatedPerson",
                "id": author.id.to_string(),
                "identifier": identifier(author.id),
                "patient": { "reference": urn(patient.id) },
                "name": [{ "text": author.name }],
            });
            if let Some(rel) = &author.relationship {
                v["relationship"] = json!([{ "text": rel }]);
            }
            v
        }
    }
}

/// A carer as the server keeps them: a `RelatedPerson` of the patient (`Patient/<id>` on the
/// server), active, the same as the server writes from an invitation, so sending it again
/// changes nothing.
pub fn related_person(carer: &Author, server_patient: &str) -> Value {
    let mut v = person(carer, carer);
    v["patient"] = json!({ "reference": format!("Patient/{server_patient}") });
    v["active"] = json!(true);
    v
}

/// One diary record as a FHIR resource.
pub fn resource(entry: &Entry, patient: &Author) -> Value {
    let subject = json!({ "reference": urn(patient.id) });
    let mut r = match &entry.data {
        EntryData::Symptom { symptom, other_name, severity, note, .. } => {
            let text = other_name.clone().unwrap_or_else(|| symptom.display().to_owned());
            let mut o = observation(entry, "survey", "Survey", &subject);
            o["code"] = json!({
                "coding": [{ "system": symptom_system(), "code": symptom.code(), "display": symptom.display() }],
                "text": text,
            });
            o["valueInteger"] = json!(severity);
            with_note(o, note)
        }
        EntryData::Temperature { celsius, note, .. } => {
            let mut o = observation(entry, "vital-signs", "Vital Signs", &subject);
            o["meta"]["profile"] = json!([BODY_TEMPERATURE_PROFILE]);
            o["code"] = json!({
                "coding": [{ "system": LOINC, "code": "8310-5", "display": "Body temperature" }],
                "text": "Body temperature",
            });
            o["valueQuantity"] = json!({ "value": celsius, "unit": "Cel", "system": UCUM, "code": "Cel" });
            with_note(o, note)
        }
        EntryData::Checkin { wellbeing, note } => {
            let mut o = observation(entry, "survey", "Survey", &subject);
            o["code"] = json!({
                "coding": [{ "system": symptom_system(), "code": "wellbeing", "display": "Wellbeing today (0-10)" }],
                "text": "Wellbeing today",
            });
            o["valueInteger"] = json!(wellbeing);
            with_note(o, note)
        }
        EntryData::Question { text, state, answer } => {
            let mut c = json!({
                "resourceType": "Communication",
                "id": entry.id.to_string(),
                "meta": meta(entry),
                "identifier": identifier(entry.id),
                "status": communication_status(entry.status, *state, answer.is_some()),
                "subject": subject,
                "sender": reference(&entry.author),
                "payload": [{ "contentString": text }],
            });
            if *state >= QuestionState::Asked && *state != QuestionState::Archived || answer.is_some() {
                c["sent"] = json!(instant(entry.recorded_at));
            }
            with_note(c, answer)
        }
        EntryData::Assessment { questionnaire, answers, .. } => {
            json!({
                "resourceType": "QuestionnaireResponse",
                "id": entry.id.to_string(),
                "meta": meta(entry),
                "identifier": { "system": URI_SYSTEM, "value": urn(entry.id) },
                "questionnaire": questionnaire,
                "status": if entry.status == RecordStatus::EnteredInError { "entered-in-error" } else { "completed" },
                "subject": subject,
                "authored": instant(entry.occurred_at),
                "author": reference(&entry.author),
                "source": reference(&entry.author),
                "item": response_items(instrument_of(entry), answers),
            })
        }
    };
    if r.get("note").is_some_and(Value::is_null) {
        r.as_object_mut().expect("object").remove("note");
    }
    r
}

fn observation(entry: &Entry, category: &str, display: &str, subject: &Value) -> Value {
    json!({
        "resourceType": "Observation",
        "id": entry.id.to_string(),
        "meta": meta(entry),
        "identifier": identifier(entry.id),
        "status": entry.status.as_str(),
        "category": [{ "coding": [{ "system": OBSERVATION_CATEGORY, "code": category, "display": display }] }],
        "subject": subject,
        "effectiveDateTime": instant(entry.occurred_at),
        "issued": instant(entry.recorded_at),
        "performer": [reference(&entry.author)],
    })
}

fn with_note(mut resource: Value, note: &Option<String>) -> Value {
    if let Some(n) = notes(note) {
        resource["note"] = n;
    }
    resource
}

/// Communication.status (a required binding): a question not yet taken to the visit is in
/// `preparation`; one asked or answered is `completed`; one archived unasked is `stopped`.
fn communication_status(status: RecordStatus, state: QuestionState, answered: bool) -> &'static str {
    if status == RecordStatus::EnteredInError {
        return "entered-in-error";
    }
    match state {
        QuestionState::Open => "preparation",
        QuestionState::Asked | QuestionState::Answered => "completed",
        QuestionState::Archived if answered => "completed",
        QuestionState::Archived => "stopped",
    }
}

fn instrument_of(entry: &Entry) -> Option<&'static crate::instruments::Instrument> {
    match &entry.data {
        EntryData::Assessment { instrument, .. } => crate::instruments::get(instrument).ok(),
        _ => None,
    }
}

fn answer_value(v: &AnswerValue) -> Value {
    match v {
        AnswerValue::Coding { system, code, display } => {
            let mut c = json!({ "code": code });
            if let Some(s) = system {
                c["system"] = json!(s);
            }
            if let Some(d) = display {
                c["display"] = json!(d);
            }
            json!({ "valueCoding": c })
        }
        AnswerValue::Integer { value } => json!({ "valueInteger": value }),
        AnswerValue::Boolean { value } => json!({ "valueBoolean": value }),
        AnswerValue::String { value } => json!({ "valueString": value }),
    }
}

/// The response's items, nested as the Questionnaire's groups are (QuestionnaireResponse rules).
fn response_items(instrument: Option<&crate::instruments::Instrument>, answers: &[ItemAnswer]) -> Value {
    fn walk(items: &[crate::instruments::questionnaire::Item], answers: &[ItemAnswer]) -> Vec<Value> {
        let mut out = Vec::new();
        for item in items {
            let mut v = json!({ "linkId": item.link_id });
            if let Some(t) = &item.text {
                v["text"] = json!(t);
            }
            if item.item_type == crate::instruments::ItemType::Group {
                let children = walk(&item.items, answers);
                if children.is_empty() {
                    continue;
                }
                v["item"] = json!(children);
            } else if let Some(a) = answers.iter().find(|a| a.link_id == item.link_id) {
                v["answer"] = json!([answer_value(&a.value)]);
            } else {
                continue;
            }
            out.push(v);
        }
        out
    }
    match instrument {
        Some(i) => json!(walk(&i.questionnaire.items, answers)),
        // An instrument this build does not know: flat, still every answer.
        None => json!(answers.iter().map(|a| json!({ "linkId": a.link_id, "answer": [answer_value(&a.value)] })).collect::<Vec<_>>()),
    }
}

/// The score of a completed check-in as an `Observation` derived from its response, with the
/// LOINC total codes where they exist (PHQ-9 44261-6, GAD-7 70274-6, PHQ-2 55758-7) and our
/// own codes otherwise. Its id is derived from the response's, so it is stable across exports.
pub fn score_observation(entry: &Entry, patient: &Author) -> Option<Value> {
    let EntryData::Assessment { instrument, scoring, score, .. } = &entry.data else { return None };
    let own = format!("{CANONICAL_BASE}/CodeSystem/score");
    let (system, code, display) = match scoring {
        Scoring::Phq9 => (LOINC.to_owned(), "44261-6".to_owned(), "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
        Scoring::Gad7 => (LOINC.to_owned(), "70274-6".to_owned(), "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
        Scoring::Phq2 => (LOINC.to_owned(), "55758-7".to_owned(), "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]"),
        Scoring::Gad2 => (own.clone(), "gad2-total".to_owned(), "GAD-2 total score"),
        Scoring::EsasR => (own.clone(), "esas-r-total".to_owned(), "ESAS-r total symptom distress score"),
    };
    if score.total.is_none() && *scoring != Scoring::EsasR {
        return None;
    }
    let mut o = observation(entry, "survey", "Survey", &json!({ "reference": urn(patient.id) }));
    o["id"] = json!(score_id(entry.id).to_string());
    o["identifier"] = identifier(score_id(entry.id));
    o["code"] = json!({ "coding": [{ "system": system, "code": code, "display": display }], "text": format!("{instrument} score") });
    o["derivedFrom"] = json!([{ "reference": urn(entry.id) }]);
    if let Some(t) = score.total {
        o["valueInteger"] = json!(t);
    }
    if let Some(b) = &score.band {
        o["interpretation"] = json!([{ "text": b }]);
    }
    if *scoring == Scoring::EsasR {
        let components: Vec<Value> = score
            .items
            .iter()
            .filter_map(|i| {
                let v = i.value?;
                Some(json!({ "code": { "coding": [{ "system": own, "code": i.link_id }], "text": i.link_id }, "valueInteger": v }))
            })
            .collect();
        if !components.is_empty() {
            o["component"] = json!(components);
        }
    }
    Some(o)
}

fn score_id(response: Uuid) -> Uuid {
    Uuid::from_u128(response.as_u128() ^ 0x5c07e)
}

/// The whole diary as a FHIR `Bundle` of type `collection`.
pub fn export_bundle(store: &Store) -> Result<Value> {
    let patient = store.patient()?;
    let entries = store.timeline(TimelineFilter::default())?;
    let mut people: Vec<Author> = vec![patient.clone()];
    for e in &entries {
        for a in [&e.author, &e.updated_by] {
            if !people.iter().any(|p| p.id == a.id) {
                people.push(a.clone());
            }
        }
    }
    let mut out: Vec<Value> = people.iter().map(|p| json!({ "fullUrl": urn(p.id), "resource": person(p, &patient) })).collect();
    for e in &entries {
        out.push(json!({ "fullUrl": urn(e.id), "resource": resource(e, &patient) }));
        if let Some(score) = score_observation(e, &patient) {
            out.push(json!({ "fullUrl": urn(score_id(e.id)), "resource": score }));
        }
    }
    Ok(json!({
        "resourceType": "Bundle",
        "id": Uuid::new_v4().to_string(),
        "type": "collection",
        "timestamp": instant(store.now()),
        "entry": out,
    }))
}

/// Replaces the export's `urn:uuid:` references with server references: the patient becomes
/// `Patient/<id on the server>`, a record becomes `<Type>/<id>`.
fn rewrite_references(v: &mut Value, map: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "reference" {
                    if let Some(new) = child.as_str().and_then(map) {
                        *child = json!(new);
                    }
                } else {
                    rewrite_references(child, map);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_references(i, map)),
        _ => {}
    }
}

fn stable_id(seed: &str) -> Uuid {
    let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    // Shape it as a version 4, variant 1 UUID.
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

fn source(device: Uuid) -> String {
    format!("companion-device:{device}")
}

/// Sets meta.source, keeping the rest of meta (a profile) but not the local version details.
fn with_source(resource: &mut Value, device: Uuid) {
    let profile = resource.pointer("/meta/profile").cloned();
    resource["meta"] = json!({ "source": source(device) });
    if let Some(p) = profile {
        resource["meta"]["profile"] = p;
    }
}

/// A record as the clinic server receives it: its resource, its score (for a check-in) and a
/// `Provenance` naming who entered it and on which device, all with server references.
/// Returns `(type, id, resource)`.
pub fn outbound_entry(
    entry: &Entry,
    copy: &crate::replica::Replica,
    local_patient: &Author,
    server_patient: &str,
    device: Uuid,
) -> Vec<(String, String, Value)> {
    let local = urn(local_patient.id);
    let own = urn(entry.id);
    let main_type = record_type(entry.data.kind());
    // A carer is a RelatedPerson under the id the diary knows them by (the server has it when
    // the patient invited them).
    let carers: Vec<Uuid> = [&entry.author, &entry.updated_by].iter().filter(|a| a.role == Role::Carer).map(|a| a.id).collect();
    // The patient is the server's patient under whichever identity of theirs a device of theirs
    // entered the record with (each device was set up under its own).
    let patients: Vec<String> =
        [&entry.author, &entry.updated_by].iter().filter(|a| a.role == Role::Patient).map(|a| urn(a.id)).chain([local.clone()]).collect();
    let map = |r: &str| -> Option<String> {
        if patients.iter().any(|p| p == r) {
            Some(format!("Patient/{server_patient}"))
        } else if r == own {
            Some(format!("{main_type}/{}", entry.id))
        } else {
            carers.iter().find(|c| urn(**c) == r).map(|c| format!("RelatedPerson/{c}"))
        }
    };
    // Who made this version: the patient, or a carer on the patient's behalf.
    let by = match entry.updated_by.role {
        Role::Patient => format!("Patient/{server_patient}"),
        Role::Carer => format!("RelatedPerson/{}", entry.updated_by.id),
    };
    let mut author_agent = json!({
        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author" }] },
        "who": { "reference": by, "display": entry.updated_by.name },
    });
    if entry.updated_by.role == Role::Carer {
        author_agent["onBehalfOf"] = json!({ "reference": format!("Patient/{server_patient}") });
    }
    let mut out = Vec::new();
    let mut main = resource(entry, local_patient);
    rewrite_references(&mut main, &map);
    with_source(&mut main, device);
    // The record exactly as the diary keeps it, for this patient's other devices.
    match main.get_mut("extension").and_then(Value::as_array_mut) {
        Some(list) => list.push(crate::replica::extension(copy)),
        None => main["extension"] = json!([crate::replica::extension(copy)]),
    }
    out.push((main_type.to_owned(), entry.id.to_string(), main));
    if let Some(mut score) = score_observation(entry, local_patient) {
        rewrite_references(&mut score, &map);
        with_source(&mut score, device);
        let id = score["id"].as_str().unwrap_or_default().to_owned();
        out.push(("Observation".into(), id, score));
    }
    // One Provenance per version made on each device (two devices may each make a version 2).
    let pid = stable_id(&format!("provenance|{}|{}|{}", entry.id, entry.version, device));
    out.push((
        "Provenance".into(),
        pid.to_string(),
        json!({
            "resourceType": "Provenance",
            "id": pid.to_string(),
            "meta": { "source": source(device) },
            "target": [{ "reference": format!("{main_type}/{}", entry.id) }],
            "recorded": instant(entry.updated_at),
            "activity": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                "code": if entry.version == 1 { "CREATE" } else { "UPDATE" },
            }] },
            "agent": [
                author_agent,
                {
                    "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "assembler" }] },
                    "who": { "identifier": { "system": URI_SYSTEM, "value": urn(entry.device) }, "display": "Companion app" },
                    "onBehalfOf": { "reference": format!("Patient/{server_patient}") },
                },
            ],
        }),
    ));
    out
}

/// The extension on a `Flag` that records "I understand" on the card: when, and by whom.
pub fn acknowledged_extension_url() -> String {
    format!("{CANONICAL_BASE}/StructureDefinition/advice-acknowledged")
}

/// The extension on a `Flag` naming the record the advice is about.
pub fn advice_record_extension_url() -> String {
    format!("{CANONICAL_BASE}/StructureDefinition/advice-record")
}

/// The resource type a record of this kind is sent as.
pub fn record_type(kind: crate::domain::EntryKind) -> &'static str {
    match kind {
        crate::domain::EntryKind::Question => "Communication",
        crate::domain::EntryKind::Assessment => "QuestionnaireResponse",
        _ => "Observation",
    }
}

/// Safety advice shown on the device, as a `Flag` for the care team's triage, with the rule and
/// the ruleset version in its code, and once someone pressed "I understand", when and who.
pub fn outbound_advice(advice: &crate::store::Advice, server_patient: &str, device: Uuid) -> (String, String, Value) {
    let mut flag = json!({
        "resourceType": "Flag",
        "id": advice.id.to_string(),
        "meta": { "source": source(device) },
        "status": "active",
        "category": [{ "text": "Safety advice shown to the patient" }],
        "code": {
            "coding": [{
                "system": format!("{CANONICAL_BASE}/CodeSystem/rules/{}", advice.ruleset),
                "version": advice.ruleset_version,
                "code": advice.rule,
            }],
            "text": advice.level.as_str(),
        },
        "subject": { "reference": format!("Patient/{server_patient}") },
        "period": { "start": instant(advice.raised_at) },
    });
    // The record it is about, so the clinic sees what was reported (the server holds the record:
    // it is sent before its advice).
    let mut extensions = vec![json!({
        "url": advice_record_extension_url(),
        "valueReference": { "reference": format!("{}/{}", record_type(advice.record_kind), advice.entry_id) },
    })];
    let acks: Vec<Value> = advice
        .acknowledgements
        .iter()
        .map(|a| {
            let who = match a.by.role {
                Role::Patient => format!("Patient/{server_patient}"),
                Role::Carer => format!("RelatedPerson/{}", a.by.id),
            };
            json!({
                "url": acknowledged_extension_url(),
                "extension": [
                    { "url": "at", "valueDateTime": instant(a.at) },
                    { "url": "by", "valueReference": { "reference": who, "display": a.by.name } },
                ],
            })
        })
        .collect();
    extensions.extend(acks);
    flag["extension"] = json!(extensions);
    ("Flag".into(), advice.id.to_string(), flag)
}
