//! Who may see and write what, over real HTTP.

use crate::harness::{Diary, Server};
use companion_core::domain::NewSymptom;
use companion_core::sync::Outcome;
use companion_core::NewEntry;
use serde_json::{json, Value};

fn request(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    companion_core::sync::block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    })
    .unwrap()
}

fn token_of(diary: &Diary) -> (String, String) {
    let link = diary.open().sync_link().unwrap().unwrap();
    (link.token, link.patient)
}

fn observation(id: &str, patient: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final", "code": {"text": "x"},
           "subject": {"reference": format!("Patient/{patient}")}})
}

#[test]
fn a_device_sees_and_writes_only_its_own_patient() {
    let server = Server::start();
    let (_, a) = server.paired_diary(&server.url);
    let (_, b) = server.paired_diary(&server.url);
    let (token_a, patient_a) = token_of(&a);
    let (token_b, patient_b) = token_of(&b);
    let mut store = b.open();
    let entry = store.add(&NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity: 3, ..Default::default() })).unwrap();
    drop(store);
    assert_eq!(b.sync().outcome, Outcome::Done);
    let url = |p: &str| format!("{}{p}", server.url);

    let (status, body) = request("GET", &url(&format!("/fhir/Observation/{}", entry.id)), &token_a, None);
    assert_eq!(status, 404, "B's record does not exist for A");
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(request("GET", &url(&format!("/fhir/Observation/{}", entry.id)), &token_b, None).0, 200);
    let (status, body) = request("PUT", &url("/fhir/Observation/x-1"), &token_a, Some(observation("x-1", &patient_b)));
    assert_eq!((status, body["issue"][0]["code"].as_str()), (403, Some("forbidden")));
    // Taking over B's record id with A's patient is refused too.
    let (status, _) =
        request("PUT", &url(&format!("/fhir/Observation/{}", entry.id)), &token_a, Some(observation(&entry.id.to_string(), &patient_a)));
    assert_eq!(status, 403);
    assert_eq!(request("GET", &url(&format!("/fhir/Observation?patient={patient_b}")), &token_a, None).0, 403);
    assert_eq!(request("GET", &url("/fhir/Observation"), "not-a-token", None).0, 401);
    // Bad input: refused whole, with an OperationOutcome.
    let mut missing = observation("x-2", &patient_a);
    missing.as_object_mut().unwrap().remove("status");
    let (status, body) = request("PUT", &url("/fhir/Observation/x-2"), &token_a, Some(missing));
    assert_eq!((status, body["issue"][0]["diagnostics"].as_str()), (422, Some("Observation.status is required")));
    assert_eq!(request("GET", &url("/fhir/Observation/x-2"), &token_a, None).0, 404, "nothing of it was stored");
    // Versioned update: a stale If-Match is a 412.
    assert_eq!(request("PUT", &url("/fhir/Observation/x-3"), &token_a, Some(observation("x-3", &patient_a))).0, 201);
    let stale = companion_core::sync::block_on(async {
        reqwest::Client::new()
            .put(url("/fhir/Observation/x-3"))
            .bearer_auth(&token_a)
            .header("If-Match", "W/\"7\"")
            .json(&json!({"resourceType": "Observation", "id": "x-3", "status": "amended", "code": {"text": "x"},
                          "subject": {"reference": format!("Patient/{patient_a}")}}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
    .unwrap();
    assert_eq!(stale, 412);
    assert!(server.db.audit_count().unwrap() > 5, "reads and writes are audited");
}

#[test]
fn pairing_codes_are_single_use_and_expire_and_revoked_devices_are_told() {
    let server = Server::start();
    let (patient, code) = server.db.add_patient("Kari").unwrap();
    let first = Diary::new();
    let mut store = first.open();
    companion_core::sync::block_on(companion_core::sync::pair(&mut store, &server.url, &code.to_lowercase())).unwrap().unwrap();
    let second = Diary::new();
    let mut other = second.open();
    let used = companion_core::sync::block_on(companion_core::sync::pair(&mut other, &server.url, &code)).unwrap();
    assert!(matches!(used, Err(companion_core::Error::Invalid(i)) if i.field == "code"), "a used code is refused");
    let fresh = server.db.new_code(&patient).unwrap();
    server.db.expire_codes_for(&patient).unwrap();
    let expired = companion_core::sync::block_on(companion_core::sync::pair(&mut other, &server.url, &fresh)).unwrap();
    assert!(expired.is_err(), "an expired code is refused");
    assert!(companion_core::sync::check_server("http://clinic.example.org").is_err(), "plain http only to loopback");
    drop(store);
    drop(other);

    assert_eq!(first.sync().outcome, Outcome::Done);
    server.db.revoke_devices(&patient).unwrap();
    let (token, _) = token_of(&first);
    let (status, _) = request("GET", &format!("{}/fhir/Observation", server.url), &token, None);
    assert_eq!(status, 401);
    let report = first.sync();
    assert_eq!(report.outcome, Outcome::Revoked);
    assert_eq!(first.open().sync_link().unwrap().unwrap().problem.as_deref(), Some("revoked"));
}

#[test]
fn the_capability_statement_says_what_is_supported() {
    let server = Server::start();
    let (status, body) = request("GET", &format!("{}/fhir/metadata", server.url), "", None);
    assert_eq!(status, 200);
    assert_eq!((body["resourceType"].as_str(), body["fhirVersion"].as_str()), (Some("CapabilityStatement"), Some("4.0.1")));
}
