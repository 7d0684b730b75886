//! An attacker with a valid credential: a second device of the patient, a carer's device. Each
//! forgery is refused, and nothing is written (the count of stored versions before and after).

use crate::carers::{call, invite, CarerDevice};
use crate::harness::{Diary, Server};
use companion_core::domain::{NewQuestion, Scope};
use companion_core::sync::block_on;
use companion_core::NewEntry;
use serde_json::{json, Value};

/// A second device of the patient: a new code from the clinic, redeemed over plain HTTP as an
/// attacker would.
fn second_device(server: &Server, patient: &str) -> String {
    let code = server.db.new_code(patient).unwrap();
    let (status, body) = block_on(async {
        let res = reqwest::Client::new().post(format!("{}/pair", server.url)).json(&json!({ "code": code })).send().await.unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    })
    .unwrap();
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn put(server: &Server, token: &str, rtype: &str, id: &str, body: &Value) -> (u16, Value) {
    call("PUT", format!("{}/fhir/{rtype}/{id}", server.url), token, Some(body.clone()))
}

fn answer(id: &str, patient: &str, question: &str, text: &str) -> Value {
    json!({"resourceType": "Communication", "id": id, "status": "completed", "subject": {"reference": format!("Patient/{patient}")},
           "inResponseTo": [{"reference": format!("Communication/{question}")}], "sent": "2026-12-01T12:00:00.000Z",
           "payload": [{"contentString": text}]})
}

fn appointment(id: &str, patient: &str, status: &str) -> Value {
    json!({"resourceType": "Appointment", "id": id, "status": status, "start": "2030-01-10T09:00:00.000Z", "end": "2030-01-10T09:30:00.000Z",
           "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}]})
}

fn observation(id: &str, patient: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final", "code": {"text": "pain"},
           "subject": {"reference": format!("Patient/{patient}")}, "effectiveDateTime": "2026-12-01T10:00:00.000Z", "valueInteger": 3})
}

/// The patient's diary with one question, synced; its id.
fn with_question(diary: &Diary) -> String {
    let mut store = diary.open();
    let q = store.add(&NewEntry::Question(NewQuestion { text: "Can I take paracetamol?".into() })).unwrap();
    drop(store);
    diary.sync();
    q.id.to_string()
}

#[test]
fn forged_clinic_answers_appointments_and_tasks_are_refused_and_the_app_shows_only_what_staff_wrote() {
    let server = Server::start();
    let staff = server.staff();
    let (patient, diary) = server.paired_diary(&server.url);
    let question = with_question(&diary);
    let mut store = diary.open();
    let invitation = invite(&mut store, "Ingrid", &[Scope::Questions, Scope::Observations], None);
    let carer = CarerDevice::join(&server.url, &invitation.code);
    drop(store);
    let (second, carer_token) = (second_device(&server, &patient), carer.token());
    let before = server.db.version_count().unwrap();
    for token in [&second, &carer_token] {
        let (status, outcome) =
            put(&server, token, "Communication", "forged-1", &answer("forged-1", &patient, &question, "Double the dose."));
        assert_eq!(status, 403, "{outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with("Communication.inResponseTo"), "{outcome}");
        assert_eq!(put(&server, token, "Appointment", "forged-2", &appointment("forged-2", &patient, "booked")).0, 403);
        let task = json!({"resourceType": "Task", "id": "forged-3", "status": "requested", "intent": "order",
                          "for": {"reference": format!("Patient/{patient}")}});
        assert_eq!(put(&server, token, "Task", "forged-3", &task).0, 403);
        // Claiming to be the clinic in meta is refused, naming the element.
        let mut obs = observation("forged-4", &patient);
        obs["meta"] = json!({"tag": [{"system": companion_core::fhir::origin_system(), "code": "clinic"}]});
        let (status, outcome) = put(&server, token, "Observation", "forged-4", &obs);
        assert_eq!((status, outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with("meta.tag")), (403, true), "{outcome}");
        obs["meta"] = json!({"source": "companion-staff:anyone"});
        assert_eq!(put(&server, token, "Observation", "forged-4", &obs).0, 403);
        // Nor may a device name a practitioner as who reported it.
        let mut obs = observation("forged-5", &patient);
        obs["performer"] = json!([{"reference": "Practitioner/dr-hansen"}]);
        let (status, outcome) = put(&server, token, "Observation", "forged-5", &obs);
        assert_eq!((status, outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with("Observation.performer[0]")), (403, true));
    }
    // A diary record smuggled on another type (to be merged into the patient's question as if
    // the patient wrote it) is refused: a record travels on its own type, and a carer's device
    // carries only the carer's own.
    let (_, stored) = call("GET", format!("{}/fhir/Communication/{question}", server.url), &staff, None);
    let record =
        stored["extension"].as_array().unwrap().iter().find(|e| e["url"].as_str().unwrap().ends_with("companion-record")).unwrap().clone();
    let smuggled = json!({"resourceType": "Provenance", "id": question, "target": [{"reference": format!("Communication/{question}")}],
        "recorded": "2026-12-01T10:00:00.000Z", "extension": [record],
        "agent": [{"who": {"reference": format!("RelatedPerson/{}", invitation.carer)}, "onBehalfOf": {"reference": format!("Patient/{patient}")}}]});
    let (status, outcome) = put(&server, &carer_token, "Provenance", &question, &smuggled);
    assert_eq!(status, 403, "{outcome}");
    assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with("Provenance.extension"), "{outcome}");
    let mut resent = stored.clone();
    resent.as_object_mut().unwrap().remove("meta");
    let (status, _) = put(&server, &carer_token, "Communication", &question, &resent);
    assert_eq!(status, 403, "nor may a carer resend the patient's own question");
    // An author named by display only is refused too.
    let mut obs = observation("forged-7", &patient);
    obs["performer"] = json!([{"display": "Dr Hansen, oncology"}]);
    assert_eq!(put(&server, &second, "Observation", "forged-7", &obs).0, 403);
    // In a bundle too.
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": answer("forged-6", &patient, &question, "Stop taking it."), "request": {"method": "PUT", "url": "Communication/forged-6"}}]});
    let (status, reply) = call("POST", format!("{}/fhir", server.url), &second, Some(bundle));
    assert_eq!((status, reply["entry"][0]["response"]["status"].as_str()), (200, Some("403")), "{reply}");
    assert_eq!(server.db.version_count().unwrap(), before, "nothing forged was stored");

    // The clinic books a visit and answers; a device cannot cancel or rewrite either.
    assert_eq!(put(&server, &staff, "Appointment", "visit-1", &appointment("visit-1", &patient, "booked")).0, 201);
    assert_eq!(put(&server, &staff, "Communication", "answer-1", &answer("answer-1", &patient, &question, "Yes, up to 4 g a day.")).0, 201);
    let before = server.db.version_count().unwrap();
    let (status, outcome) = put(&server, &second, "Appointment", "visit-1", &appointment("visit-1", &patient, "cancelled"));
    assert_eq!(status, 403, "{outcome}");
    assert_eq!(server.db.version_count().unwrap(), before);
    let (_, visit) = call("GET", format!("{}/fhir/Appointment/visit-1", server.url), &second, None);
    assert_eq!((visit["status"].as_str(), visit["meta"]["versionId"].as_str()), (Some("booked"), Some("1")));

    // Read back, every version carries the server's stamp of its writer.
    assert_eq!(companion_core::fhir::origin(&visit), Some("clinic"));
    assert!(visit["meta"]["source"].as_str().unwrap().starts_with("companion-staff:"));
    let (status, mine) = put(&server, &second, "Observation", "mine-1", &observation("mine-1", &patient));
    assert_eq!((status, companion_core::fhir::origin(&mine)), (201, Some("patient")));
    let mut by_carer = observation("carer-1", &patient);
    by_carer["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "8310-5"}]});
    by_carer["valueQuantity"] = json!({"value": 38.4, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"});
    by_carer.as_object_mut().unwrap().remove("valueInteger");
    by_carer["performer"] = json!([{"reference": format!("RelatedPerson/{}", invitation.carer)}]);
    let (status, theirs) = put(&server, &carer_token, "Observation", "carer-1", &by_carer);
    assert_eq!((status, companion_core::fhir::origin(&theirs)), (201, Some("carer")), "{theirs}");

    // The patient's app shows as the clinic's only what staff wrote.
    diary.sync();
    let store = diary.open();
    let answers: Vec<String> = store.clinic_answers().unwrap().into_iter().map(|a| a.text).collect();
    assert_eq!(answers, ["Yes, up to 4 g a day."]);
    assert_eq!(store.appointments().unwrap().len(), 1);
}

#[test]
fn references_must_name_the_credentials_own_patient_and_what_exists_there() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let (other, _) = server.paired_diary(&server.url);
    let token = diary.open().sync_link().unwrap().unwrap().token;
    let staff = server.staff();
    assert_eq!(put(&server, &staff, "Observation", "theirs-1", &observation("theirs-1", &other)).0, 201);
    assert_eq!(put(&server, &token, "Observation", "mine-1", &observation("mine-1", &patient)).0, 201);
    let before = server.db.version_count().unwrap();
    let cases: Vec<(&str, Value)> = vec![
        ("derivedFrom", json!([{"reference": "Observation/theirs-1"}])),
        ("derivedFrom", json!([{"reference": "Observation/does-not-exist"}])),
        ("focus", json!([{"reference": format!("Patient/{other}")}])),
        ("basedOn", json!([{"reference": "CarePlan/x"}])),
        ("hasMember", json!([{"reference": "urn:uuid:5b6f0d0e-4b43-4c8e-9a56-1d2c3b4a5f60"}])),
    ];
    for (element, value) in cases {
        let mut obs = observation("bad-1", &patient);
        obs[element] = value;
        let (status, outcome) = put(&server, &token, "Observation", "bad-1", &obs);
        assert_eq!(status, 422, "{element}: {outcome}");
        assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with(&format!("Observation.{element}")), "{outcome}");
    }
    let provenance = json!({"resourceType": "Provenance", "id": "prov-1", "target": [{"reference": "Observation/theirs-1"}],
        "recorded": "2026-12-01T10:00:00.000Z", "agent": [{"who": {"reference": format!("Patient/{patient}")}}]});
    assert_eq!(put(&server, &token, "Provenance", "prov-1", &provenance).0, 422);
    assert_eq!(server.db.version_count().unwrap(), before);
    // What exists for this patient may be named, also earlier in the same bundle.
    let mut ok = observation("good-1", &patient);
    ok["derivedFrom"] = json!([{"reference": "Observation/mine-1"}]);
    assert_eq!(put(&server, &token, "Observation", "good-1", &ok).0, 201);
    let mut prov = provenance.clone();
    prov["target"] = json!([{"reference": "Observation/new-1"}]);
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": prov, "request": {"method": "PUT", "url": "Provenance/prov-1"}},
        {"resource": observation("new-1", &patient), "request": {"method": "PUT", "url": "Observation/new-1"}}]});
    let (status, reply) = call("POST", format!("{}/fhir", server.url), &token, Some(bundle));
    assert_eq!((status, reply["entry"][0]["response"]["status"].as_str()), (200, Some("201 Created")), "{reply}");
    // A refused entry of a batch (another patient's id) is no target for the others.
    let before = server.db.version_count().unwrap();
    let mut pointing = observation("new-2", &patient);
    pointing["derivedFrom"] = json!([{"reference": "Observation/theirs-1"}]);
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": observation("theirs-1", &patient), "request": {"method": "PUT", "url": "Observation/theirs-1"}},
        {"resource": pointing, "request": {"method": "PUT", "url": "Observation/new-2"}}]});
    let (_, reply) = call("POST", format!("{}/fhir", server.url), &token, Some(bundle));
    let statuses: Vec<&str> = reply["entry"].as_array().unwrap().iter().map(|e| e["response"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["403", "422"], "{reply}");
    assert_eq!(server.db.version_count().unwrap(), before);
}

#[test]
fn resources_that_break_r4s_structure_are_refused_with_an_outcome() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let token = diary.open().sync_link().unwrap().unwrap().token;
    let before = server.db.version_count().unwrap();
    let mut deep = json!("x");
    for _ in 0..40 {
        deep = json!({ "extension": [deep] });
    }
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("status", json!("bogus"), 400, "Observation.status: not one of the codes"),
        ("effectiveDateTime", json!("2026-13-45T99:99:99Z"), 400, "Observation.effectiveDateTime: not a valid FHIR dateTime"),
        ("colour", json!("red"), 400, "Observation.colour: not an element"),
        ("valueInteger", json!("three"), 400, "Observation.valueInteger: must be"),
        (
            "text",
            json!({"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script></div>"}),
            400,
            "Observation.text.div",
        ),
        (
            "text",
            json!({"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onmouseover=\"x()\">a</p></div>"}),
            400,
            "Observation.text.div",
        ),
        ("extension", deep, 400, "the JSON is nested deeper than 32"),
    ];
    for (element, value, code, says) in cases {
        let mut obs = observation("bad-1", &patient);
        obs[element] = value;
        let (status, outcome) = put(&server, &token, "Observation", "bad-1", &obs);
        assert_eq!(status, code, "{element}: {outcome}");
        assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with(says), "{element}: {outcome}");
    }
    // A body in another format is 415.
    let (status, outcome) = block_on(async {
        let res = reqwest::Client::new()
            .put(format!("{}/fhir/Observation/bad-1", server.url))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(observation("bad-1", &patient).to_string())
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    })
    .unwrap();
    assert_eq!((status, outcome["resourceType"].as_str()), (415, Some("OperationOutcome")));
    assert_eq!(server.db.version_count().unwrap(), before);
}

/// A raw request, as a client that does not play by the rules sends it: (status, content
/// type, body).
pub(crate) fn raw(server: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, Value) {
    block_on(async {
        let mut req =
            reqwest::Client::new().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", server.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.body(body.to_owned()).send().await.expect("the server answers, never drops the connection");
        let status = res.status().as_u16();
        let media = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, media, res.json::<Value>().await.unwrap_or(Value::Null))
    })
    .unwrap()
}

#[test]
fn every_error_from_every_layer_is_an_operation_outcome() {
    let server = Server::start();
    let (_, diary) = server.paired_diary(&server.url);
    let token = diary.open().sync_link().unwrap().unwrap().token;
    let auth = format!("Bearer {token}");
    let json = ("content-type", "application/fhir+json");
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, String, u16);
    let cases: Vec<Case> = vec![
        ("GET", "/no/such/path", vec![], String::new(), 404),
        ("DELETE", "/fhir/Observation/x", vec![("authorization", &auth)], String::new(), 405),
        ("GET", "/fhir/Observation?_count=abc", vec![("authorization", &auth)], String::new(), 400),
        ("GET", "/fhir/Observation?_offset=99999999999999999999", vec![("authorization", &auth)], String::new(), 400),
        ("GET", "/fhir/Observation?_offset=9223372036854775807&_count=200", vec![("authorization", &auth)], String::new(), 400),
        ("GET", "/fhir/Observation?_count=1&_count=2", vec![("authorization", &auth)], String::new(), 400),
        ("GET", "/fhir/Observation?date=yesterday", vec![("authorization", &auth)], String::new(), 400),
        ("GET", "/sync/changes?since=-1", vec![("authorization", &auth)], String::new(), 400),
        ("GET", "/fhir/Spaceship/x", vec![("authorization", &auth)], String::new(), 404),
        ("GET", "/fhir/Observation/x/_history/abc", vec![("authorization", &auth)], String::new(), 400),
        ("POST", "/fhir", vec![("authorization", &auth), json], r#"{"resourceType":"Bundle","type":"batch","entry":{}}"#.into(), 400),
        ("POST", "/fhir", vec![("authorization", &auth), json], "{not json".into(), 400),
        ("POST", "/fhir", vec![("authorization", &auth), ("content-length", "99999999")], String::new(), 413),
        // One resource's body is cut off at 512 KB as it is read.
        ("PUT", "/fhir/Observation/x", vec![("authorization", &auth), json], "x".repeat(600 * 1024), 413),
        ("POST", "/pair", vec![], r#"{"code":"x"}"#.into(), 415),
        ("POST", "/pair", vec![("content-type", "application/json")], format!(r#"{{"code":"{}"}}"#, "x".repeat(20_000)), 413),
        ("POST", "/pair", vec![("content-type", "application/json")], "[]".into(), 422),
        ("GET", "/fhir/Observation", vec![("authorization", "Bearer nonsense")], String::new(), 401),
        ("GET", "/fhir/Observation", vec![], String::new(), 401),
    ];
    for (method, path, headers, body, status) in cases {
        let (got, media, outcome) = raw(&server, method, path, &headers, &body);
        assert_eq!(got, status, "{method} {path}: {outcome}");
        assert!(media.starts_with("application/fhir+json"), "{method} {path}: {media}");
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{method} {path}");
        assert!(!outcome["issue"][0]["diagnostics"].as_str().unwrap_or("").is_empty(), "{method} {path}");
    }
    // The scheme's name is case-insensitive, and the answers are not cached.
    let (status, _, _) = raw(&server, "GET", "/fhir/Observation", &[("authorization", &format!("bearer {token}"))], "");
    assert_eq!(status, 200);
    let headers = block_on(async {
        reqwest::Client::new().get(format!("{}/fhir/Observation", server.url)).bearer_auth(&token).send().await.unwrap().headers().clone()
    })
    .unwrap();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
}
