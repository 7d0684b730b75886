//! Carers with their own device: the patient's invitation, what the server lets them see and
//! write, and the end of their access.

use crate::harness::{Proxy, Server, PASS};
use companion_core::domain::{NewCheckin, NewQuestion, NewSymptom, Role, Scope};
use companion_core::store::TimelineFilter;
use companion_core::sync::{self, block_on, Outcome};
use companion_core::{clock, EntryData, NewEntry, Store};
use serde_json::{json, Value};

const CARER_PASS: &str = "kari's own passphrase";

fn symptom(severity: i64, note: &str) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: "fatigue".into(), severity, note: Some(note.into()), ..Default::default() })
}

fn checkin(wellbeing: i64, note: &str) -> NewEntry {
    NewEntry::Checkin(NewCheckin { wellbeing, note: Some(note.into()), occurred_at: None })
}

/// A carer's own diary, joined through an invitation.
pub(crate) struct CarerDevice {
    dir: tempfile::TempDir,
}

impl CarerDevice {
    pub(crate) fn join(server: &str, code: &str) -> CarerDevice {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = block_on(sync::join_as_carer(dir.path(), server, code, CARER_PASS, None, clock::system())).unwrap().unwrap();
        store.lock();
        CarerDevice { dir }
    }
    pub(crate) fn open(&self) -> Store {
        Store::open(self.dir.path(), CARER_PASS, clock::system()).unwrap()
    }
    pub(crate) fn sync(&self) -> sync::Report {
        block_on(sync::sync_once(&mut self.open())).unwrap().unwrap()
    }
    pub(crate) fn token(&self) -> String {
        self.open().sync_link().unwrap().unwrap().token
    }
}

pub(crate) fn invite(store: &mut Store, name: &str, allow: &[Scope], days: Option<i64>) -> sync::Invitation {
    block_on(sync::invite_carer(store, name, Some("daughter"), allow, days)).unwrap().unwrap()
}

pub(crate) fn call(method: &str, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url).bearer_auth(token);
        if let Some(b) = body {
            req = req.header("content-type", "application/fhir+json").body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    })
    .unwrap()
}

fn search(server: &Server, token: &str, rtype: &str, patient: &str) -> Vec<Value> {
    let (status, page) = call("GET", format!("{}/fhir/{rtype}?patient={patient}&_count=200", server.url), token, None);
    assert_eq!(status, 200, "{page}");
    page["entry"].as_array().cloned().unwrap_or_default().into_iter().map(|e| e["resource"].clone()).collect()
}

fn notes(store: &Store) -> Vec<String> {
    store
        .timeline(TimelineFilter::default())
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.data {
            EntryData::Symptom { note, .. } | EntryData::Checkin { note, .. } => note,
            EntryData::Question { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

#[test]
fn a_carer_device_gets_only_what_the_patient_allowed_and_never_sends_the_carers_own_checkin() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let mut store = diary.open();
    store.add(&symptom(4, "PATIENT-SYMPTOM")).unwrap();
    store.add(&checkin(3, "PATIENT-MOOD")).unwrap();
    let phq = companion_core::instruments::get("phq9").unwrap();
    store.add_assessment("phq9", &phq.answers_from_values(&[2, 2, 2, 1, 1, 1, 1, 1, 0]).unwrap(), None).unwrap();
    store.add(&NewEntry::Question(NewQuestion { text: "PATIENT-QUESTION".into() })).unwrap();
    let invitation = invite(&mut store, "Kari", &[Scope::Observations, Scope::Questions, Scope::Symptoms], None);
    drop(store);
    assert_eq!(diary.sync().outcome, Outcome::Done);

    let proxy = Proxy::start(&server.url);
    let carer = CarerDevice::join(&proxy.url, &invitation.code);
    let first = carer.sync();
    assert_eq!(first.outcome, Outcome::Done);
    let kari = carer.open();
    assert_eq!((kari.me().name.as_str(), kari.me().role), ("Kari", Role::Carer));
    assert_eq!(kari.me().id.to_string(), invitation.carer);
    assert_eq!(kari.patient().unwrap().name, "Kari Nordmann");
    let seen = notes(&kari);
    assert!(seen.contains(&"PATIENT-SYMPTOM".into()) && seen.contains(&"PATIENT-QUESTION".into()), "{seen:?}");
    assert!(!seen.contains(&"PATIENT-MOOD".into()), "check-ins were not allowed");
    assert!(!kari.timeline(TimelineFilter::default()).unwrap().iter().any(|e| matches!(e.data, EntryData::Assessment { .. })));
    drop(kari);

    // The server itself holds the line: search, read by id, and the change feed.
    let token = carer.token();
    assert!(search(&server, &token, "QuestionnaireResponse", &patient).is_empty());
    let observations = search(&server, &token, "Observation", &patient);
    assert!(!observations.is_empty());
    assert!(observations.iter().all(|o| o.get("derivedFrom").is_none() && !o.to_string().contains("wellbeing")), "no scores, no check-in");
    let staff = server.staff();
    let response = &search(&server, &staff, "QuestionnaireResponse", &patient)[0];
    let (status, _) = call("GET", format!("{}/fhir/QuestionnaireResponse/{}", server.url, response["id"].as_str().unwrap()), &token, None);
    assert_eq!(status, 404);
    let (_, feed) = call("GET", format!("{}/sync/changes?since=0&_count=200", server.url), &token, None);
    assert!(feed["resources"].as_array().unwrap().iter().all(|r| r["resourceType"] != "QuestionnaireResponse"));
    assert!(!feed.to_string().contains("PATIENT-MOOD"));

    // Kari logs what she sees, and her own wellbeing, which is hers alone.
    let mut kari = carer.open();
    let observed = kari.add(&symptom(8, "KARI-OBSERVATION")).unwrap();
    kari.add(&checkin(2, "KARI-PRIVATE-WELLBEING")).unwrap();
    drop(kari);
    let before = proxy.bodies.lock().unwrap().len();
    let round = carer.sync();
    assert_eq!((round.outcome, round.pending), (Outcome::Done, 0));
    let sent = proxy.bodies.lock().unwrap()[before..].to_vec();
    assert!(sent.iter().any(|b| String::from_utf8_lossy(b).contains("KARI-OBSERVATION")));
    for body in proxy.bodies.lock().unwrap().iter() {
        assert!(!String::from_utf8_lossy(body).contains("KARI-PRIVATE-WELLBEING"), "the carer's own check-in was sent");
    }
    let at_server = search(&server, &staff, "Observation", &patient);
    assert!(!serde_json::to_string(&at_server).unwrap().contains("KARI-PRIVATE-WELLBEING"));
    let theirs = at_server.iter().find(|o| o["id"] == observed.id.to_string()).unwrap();
    assert_eq!(theirs["performer"][0]["reference"], format!("RelatedPerson/{}", invitation.carer));
    let provenance = search(&server, &staff, "Provenance", &patient);
    let by_kari = provenance.iter().find(|p| p["target"][0]["reference"] == format!("Observation/{}", observed.id)).unwrap();
    assert_eq!(by_kari["agent"][0]["who"]["reference"], format!("RelatedPerson/{}", invitation.carer));
    assert_eq!(by_kari["agent"][0]["onBehalfOf"]["reference"], format!("Patient/{patient}"));
    // Kari's fatigue at 8 raised advice on her device; her "I understand" reaches the clinic on
    // its Flag, naming her, and a Flag naming the patient from her device is refused.
    let mut kari = carer.open();
    let advice = kari.advice_for(observed.id).unwrap();
    assert_eq!(advice.len(), 1);
    kari.acknowledge_advice(&[advice[0].id]).unwrap();
    drop(kari);
    let round = carer.sync();
    assert_eq!((round.outcome, round.sent, round.refused, round.pending), (Outcome::Done, 1, 0, 0));
    let (status, flag) = call("GET", format!("{}/fhir/Flag/{}", server.url, advice[0].id), &staff, None);
    assert_eq!(status, 200);
    assert_eq!(flag["extension"][1]["extension"][1]["valueReference"]["reference"], format!("RelatedPerson/{}", invitation.carer));
    let mut forged = flag.clone();
    forged["extension"][1]["extension"][1]["valueReference"]["reference"] = json!(format!("Patient/{patient}"));
    let (status, _) = call("PUT", format!("{}/fhir/Flag/{}", server.url, advice[0].id), &token, Some(forged));
    assert_eq!(status, 403, "a carer's device names the carer, never the patient");
    let mut changed = flag.clone();
    changed["code"]["text"] = json!("recheck");
    let (status, _) = call("PUT", format!("{}/fhir/Flag/{}", server.url, advice[0].id), &token, Some(changed));
    assert_eq!(status, 403, "advice shown is never changed");
    let (status, _) = call("PUT", format!("{}/fhir/Flag/{}", server.url, advice[0].id), &token, Some(flag.clone()));
    assert_eq!(status, 200, "the same again is a retry, not a change");

    let consent = &search(&server, &staff, "Consent", &patient)[0];
    assert_eq!(consent["status"], "active");
    let codes: Vec<&str> =
        consent["provision"]["code"].as_array().unwrap().iter().map(|c| c["coding"][0]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["observations", "questions", "symptoms"]);

    // The patient's device receives Kari's observation, labelled as hers.
    diary.sync();
    let mut store = diary.open();
    let got = store.entry(observed.id).unwrap();
    assert_eq!((got.author.name.as_str(), got.author.role, got.author.relationship.as_deref()), ("Kari", Role::Carer, Some("daughter")));
    let kari_before = call("GET", format!("{}/fhir/RelatedPerson/{}", server.url, invitation.carer), &staff, None).1;

    // Nora helps on the patient's own device only: her entry goes up with her RelatedPerson.
    store.add_carer("Nora", "neighbour", "nora's own passphrase", &[Scope::Observations], PASS, None).unwrap();
    drop(store);
    let mut nora = Store::open(diary.dir.path(), "nora's own passphrase", clock::system()).unwrap();
    let hers = nora.add(&symptom(5, "NORA-OBSERVATION")).unwrap();
    let nora_id = nora.me().id;
    drop(nora);
    assert_eq!(diary.sync().outcome, Outcome::Done);
    let (status, person) = call("GET", format!("{}/fhir/RelatedPerson/{nora_id}", server.url), &staff, None);
    assert_eq!((status, person["name"][0]["text"].as_str()), (200, Some("Nora")));
    assert_eq!(person["patient"]["reference"], format!("Patient/{patient}"));
    let (_, obs) = call("GET", format!("{}/fhir/Observation/{}", server.url, hers.id), &staff, None);
    assert_eq!(obs["performer"][0]["reference"], format!("RelatedPerson/{nora_id}"));
    // Kari's, written by the server from the invitation, is unchanged by the patient's rounds.
    let kari_after = call("GET", format!("{}/fhir/RelatedPerson/{}", server.url, invitation.carer), &staff, None).1;
    assert_eq!(kari_after["meta"]["versionId"], kari_before["meta"]["versionId"]);
}

#[test]
fn a_carer_cannot_write_as_the_patient_nor_beyond_what_was_allowed() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let mut store = diary.open();
    let question = store.add(&NewEntry::Question(NewQuestion { text: "Mine".into() })).unwrap();
    let invitation = invite(&mut store, "Kari", &[Scope::Questions], None);
    drop(store);
    diary.sync();
    let carer = CarerDevice::join(&server.url, &invitation.code);
    let token = carer.token();
    let me = format!("RelatedPerson/{}", invitation.carer);
    let obs = |performer: &str| {
        json!({"resourceType": "Observation", "id": "c-1", "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}],
               "code": {"coding": [{"system": companion_core::fhir::symptom_system(), "code": "fatigue"}]},
               "subject": {"reference": format!("Patient/{patient}")}, "performer": [{"reference": performer}], "valueInteger": 9})
    };
    let put = |rtype: &str, id: &str, body: Value| call("PUT", format!("{}/fhir/{rtype}/{id}", server.url), &token, Some(body)).0;
    assert_eq!(put("Observation", "c-1", obs(&format!("Patient/{patient}"))), 403, "never as the patient");
    assert_eq!(put("Observation", "c-1", obs(&me)), 403, "observations were not allowed");
    let qr = json!({"resourceType": "QuestionnaireResponse", "id": "c-2", "status": "completed",
                    "subject": {"reference": format!("Patient/{patient}")}, "author": {"reference": me}});
    assert_eq!(put("QuestionnaireResponse", "c-2", qr), 403);
    // The patient's own question is not the carer's to change, even with questions allowed.
    let (_, theirs) = call("GET", format!("{}/fhir/Communication/{}", server.url, question.id), &token, None);
    let mut changed = theirs.clone();
    changed["payload"] = json!([{ "contentString": "Changed by the carer" }]);
    assert_eq!(put("Communication", &question.id.to_string(), changed), 403);
    let provenance = json!({"resourceType": "Provenance", "id": "c-3", "target": [{"reference": "Communication/x"}],
                            "recorded": "2026-11-22T10:00:00Z",
                            "agent": [{"who": {"reference": format!("Patient/{patient}")}}]});
    assert_eq!(put("Provenance", "c-3", provenance), 403);
    // Nor does a carer invite carers, or write who may see what.
    let (status, _) =
        call("POST", format!("{}/carers", server.url), &token, Some(json!({"name": "Ola", "relationship": "son", "allow": ["checkins"]})));
    assert_eq!(status, 403);
    // What was allowed goes through: a question of their own.
    let mut kari = carer.open();
    kari.add(&NewEntry::Question(NewQuestion { text: "Kari asks".into() })).unwrap();
    drop(kari);
    let round = carer.sync();
    assert_eq!((round.outcome, round.sent, round.quarantined), (Outcome::Done, 1, 0));
    let staff = server.staff();
    let sent = search(&server, &staff, "Communication", &patient);
    assert!(sent.iter().any(|c| c["sender"]["reference"] == me));

    // Invited again, Kari keeps her identity; removed, her own device is turned away.
    let mut store = diary.open();
    let again = invite(&mut store, "kari", &[Scope::Questions, Scope::Observations], None);
    assert_eq!(again.carer, invitation.carer);
    assert_eq!(store.invited_carers().unwrap().len(), 1);
    drop(store);
    // Her device follows what she may do now at its next round.
    assert_eq!(carer.open().allowed(), vec![Scope::Questions]);
    assert_eq!(carer.sync().outcome, Outcome::Done);
    assert_eq!(carer.open().allowed(), vec![Scope::Observations, Scope::Questions]);
    let mut store = diary.open();
    let removed = store.remove_carer("Kari").unwrap();
    assert_eq!(removed.id.to_string(), invitation.carer);
    assert!(store.invited_carers().unwrap().is_empty());
    drop(store);
    assert_eq!(diary.sync().outcome, Outcome::Done);
    assert!(diary.open().carers_to_revoke().unwrap().is_empty(), "the server confirmed");
    assert_eq!(carer.sync().outcome, Outcome::Revoked);
}

#[test]
fn a_removed_or_expired_carer_is_turned_away_and_nothing_they_synced_is_lost() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let mut store = diary.open();
    // Kari is a carer on the patient's own device too, and gets an invitation for her phone.
    store.add_carer("Kari", "daughter", "shared device pass", &[Scope::Observations, Scope::Symptoms], PASS, None).unwrap();
    let kari_invite = invite(&mut store, "Kari", &[Scope::Observations, Scope::Symptoms], Some(30));
    assert_eq!(kari_invite.carer, store.carer_named("Kari").unwrap().person.id.to_string(), "one identity on both devices");
    let ola_invite = invite(&mut store, "Ola", &[Scope::Observations], Some(1));
    drop(store);
    diary.sync();

    let kari = CarerDevice::join(&server.url, &kari_invite.code);
    let mut k = kari.open();
    let observed = k.add(&symptom(7, "KARI-SYNCED")).unwrap();
    drop(k);
    assert_eq!(kari.sync().outcome, Outcome::Done);
    let ola = CarerDevice::join(&server.url, &ola_invite.code);
    assert_eq!(ola.sync().outcome, Outcome::Done);
    // A used invitation does not work twice.
    let again = block_on(sync::join_as_carer(
        tempfile::tempdir().unwrap().path(),
        &server.url,
        &kari_invite.code,
        CARER_PASS,
        None,
        clock::system(),
    ))
    .unwrap();
    assert!(again.is_err());

    // The patient removes Kari on the shared device; the next round ends her access at the clinic.
    let mut store = diary.open();
    store.remove_carer("Kari").unwrap();
    drop(store);
    assert_eq!(diary.sync().outcome, Outcome::Done);
    let ended = kari.sync();
    assert_eq!(ended.outcome, Outcome::Revoked);
    assert_eq!(kari.open().sync_link().unwrap().unwrap().problem.as_deref(), Some("revoked"));
    let (status, _) = call("GET", format!("{}/fhir/Observation?patient={patient}", server.url), &kari.token(), None);
    assert_eq!(status, 401);
    // Ola's time runs out.
    server.db.expire_carer(&ola_invite.carer).unwrap();
    assert_eq!(ola.sync().outcome, Outcome::Revoked);

    // Nothing Kari sent is lost, and her Consent is now inactive.
    let staff = server.staff();
    let observations = search(&server, &staff, "Observation", &patient);
    assert!(observations.iter().any(|o| o["id"] == observed.id.to_string()));
    let consents = search(&server, &staff, "Consent", &patient);
    let hers = consents
        .iter()
        .find(|c| c["provision"]["actor"][0]["reference"]["reference"] == format!("RelatedPerson/{}", kari_invite.carer))
        .unwrap();
    assert_eq!(hers["status"], "inactive");
    // And the patient's device still holds it, with her name.
    diary.sync();
    assert_eq!(diary.open().entry(observed.id).unwrap().author.name, "Kari");
}
