//! What FHIR clients rely on: search parameters, create, vread and history, the patient, the
//! clinic's forms, the CapabilityStatement; and a database from the first release, migrated.

use crate::carers::call;
use crate::harness::Server;
use companion_core::sync::block_on;
use serde_json::{json, Value};

fn obs(id: &str, patient: &str, at: &str, code: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
           "subject": {"reference": format!("Patient/{patient}")}, "effectiveDateTime": at, "valueInteger": 1})
}

fn ids(page: &Value) -> Vec<String> {
    page["entry"].as_array().into_iter().flatten().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn search_reads_dates_codes_sorting_and_counts_and_links_are_absolute() {
    let server = Server::start();
    let staff = server.staff();
    let (patient, _) = server.paired_diary(&server.url);
    for (id, at, code) in
        [("a", "2026-11-01T10:00:00Z", "8310-5"), ("b", "2026-11-15T10:00:00Z", "x"), ("c", "2026-12-02T10:00:00Z", "8310-5")]
    {
        assert_eq!(call("PUT", format!("{}/fhir/Observation/{id}", server.url), &staff, Some(obs(id, &patient, at, code))).0, 201);
    }
    let get = |q: &str| call("GET", format!("{}/fhir/Observation?patient={patient}&{q}", server.url), &staff, None);
    assert_eq!(ids(&get("date=ge2026-11-10&date=lt2026-12").1), ["b"]);
    assert_eq!(ids(&get("code=http://loinc.org|8310-5&_sort=-date").1), ["c", "a"]);
    assert_eq!(ids(&get("_sort=date").1), ["a", "b", "c"]);
    let (_, page) = get("_lastUpdated=ge2000-01-01&_count=0");
    assert_eq!((page["total"].as_i64(), page.get("entry")), (Some(3), None));
    assert_eq!(get("_summary=count").1["total"], 3);
    // Paging links are absolute, and an ignored parameter is left out of them.
    let (_, page) = get("_count=1&colour=red&_sort=date");
    let next = page["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"].as_str().unwrap().to_owned();
    assert!(next.starts_with(&format!("{}/fhir/Observation?", server.url)) && !next.contains("colour"), "{next}");
    assert_eq!(page["entry"][0]["fullUrl"], format!("{}/fhir/Observation/a", server.url));
    let (_, second) = call("GET", next, &staff, None);
    assert_eq!(ids(&second), ["b"]);
    // Under Prefer: handling=strict an unknown parameter is refused.
    let (status, _) = block_on(async {
        let res = reqwest::Client::new()
            .get(format!("{}/fhir/Observation?patient={patient}&colour=red", server.url))
            .bearer_auth(&staff)
            .header("prefer", "handling=strict")
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), ())
    })
    .unwrap();
    assert_eq!(status, 400);
}

#[test]
fn staff_create_with_server_ids_and_every_version_can_be_read_back() {
    let server = Server::start();
    let staff = server.staff();
    let (patient, diary) = server.paired_diary(&server.url);
    let device = diary.open().sync_link().unwrap().unwrap().token;
    let mut body = obs("x", &patient, "2026-11-01T10:00:00Z", "8310-5");
    body.as_object_mut().unwrap().remove("id");
    let created = block_on(async {
        reqwest::Client::new().post(format!("{}/fhir/Observation", server.url)).bearer_auth(&staff).json(&body).send().await.unwrap()
    })
    .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id = location.split('/').nth(3).unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{location}");
    // Devices make their own ids.
    assert_eq!(call("POST", format!("{}/fhir/Observation", server.url), &device, Some(body.clone())).0, 403);
    let mut v2 = obs(&id, &patient, "2026-11-01T10:00:00Z", "8310-5");
    v2["valueInteger"] = json!(2);
    assert_eq!(call("PUT", format!("{}/fhir/Observation/{id}", server.url), &staff, Some(v2)).0, 200);
    let (status, v1) = call("GET", format!("{}{location}", server.url), &device, None);
    assert_eq!((status, v1["valueInteger"].as_i64(), v1["meta"]["versionId"].as_str()), (200, Some(1), Some("1")));
    let (status, history) = call("GET", format!("{}/fhir/Observation/{id}/_history", server.url), &device, None);
    assert_eq!((status, history["type"].as_str(), history["total"].as_i64()), (200, Some("history"), Some(2)));
    assert_eq!(history["entry"][0]["resource"]["meta"]["versionId"], "2", "newest first");
    // Paged like a search, so every version can be reached.
    let (_, first) = call("GET", format!("{}/fhir/Observation/{id}/_history?_count=1", server.url), &device, None);
    assert_eq!((first["entry"].as_array().unwrap().len(), first["total"].as_i64()), (1, Some(2)));
    let next = first["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"].as_str().unwrap().to_owned();
    let (_, second) = call("GET", next, &device, None);
    assert_eq!(second["entry"][0]["resource"]["meta"]["versionId"], "1");
    assert_eq!(call("GET", format!("{}/fhir/Observation/{id}/_history?_count=x", server.url), &device, None).0, 400);
    assert_eq!(call("GET", format!("{}/fhir/Observation/{id}/_history/3", server.url), &device, None).0, 404);
    // Another patient's device sees none of it.
    let (_, other) = server.paired_diary(&server.url);
    let other = other.open().sync_link().unwrap().unwrap().token;
    assert_eq!(call("GET", format!("{}{location}", server.url), &other, None).0, 404);
    assert_eq!(call("GET", format!("{}/fhir/Observation/{id}/_history", server.url), &other, None).0, 404);
}

#[test]
fn the_patient_the_clinics_forms_and_the_capability_statement() {
    let server = Server::start();
    let staff = server.staff();
    let (patient, diary) = server.paired_diary(&server.url);
    let (other, _) = server.paired_diary(&server.url);
    let device = diary.open().sync_link().unwrap().unwrap().token;
    let (status, me) = call("GET", format!("{}/fhir/Patient/{patient}", server.url), &device, None);
    assert_eq!((status, me["name"][0]["text"].as_str()), (200, Some("Kari Nordmann")));
    assert_eq!(call("GET", format!("{}/fhir/Patient/{other}", server.url), &device, None).0, 404);
    assert_eq!(call("GET", format!("{}/fhir/Patient/{other}", server.url), &staff, None).0, 200);
    let mut form: Value = serde_json::from_str(include_str!("../../../../assets/instruments/gad7.json")).unwrap();
    form["id"] = "gad7-clinic".into();
    assert_eq!(call("PUT", format!("{}/fhir/Questionnaire/gad7-clinic", server.url), &staff, Some(form.clone())).0, 201);
    let url = form["url"].as_str().unwrap();
    let (status, all) = call("GET", format!("{}/fhir/Questionnaire", server.url), &device, None);
    assert_eq!((status, ids(&all)), (200, vec!["gad7-clinic".to_owned()]));
    let (_, by_url) = call("GET", format!("{}/fhir/Questionnaire?url={url}", server.url), &device, None);
    assert_eq!(ids(&by_url), ["gad7-clinic"]);
    let (_, none) = call("GET", format!("{}/fhir/Questionnaire?url=http://example.org/other", server.url), &device, None);
    assert_eq!(none["total"], 0);

    let (status, cs) = call("GET", format!("{}/fhir/metadata", server.url), "", None);
    assert_eq!(status, 200);
    let rest = &cs["rest"][0];
    let obs = rest["resource"].as_array().unwrap().iter().find(|r| r["type"] == "Observation").unwrap();
    let interactions: Vec<&str> = obs["interaction"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(interactions, ["read", "vread", "update", "create", "history-instance", "search-type"]);
    let params: Vec<&str> = obs["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(params, ["patient", "date", "code", "_lastUpdated"]);
    assert!(rest["documentation"].as_str().unwrap().contains("CodeSystem/origin"));
}

/// A released database, from its fixture: on SQLite the file; on PostgreSQL the tables as that
/// release had them (the first release's, then what each later one added), then its rows.
fn released(version: u32) -> (tempfile::TempDir, crate::harness::TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::harness::TestDb::new();
    let (rows, added) = match version {
        1 => (include_str!("fixtures/clinic-v1.sql"), &[][..]),
        2 => (include_str!("fixtures/clinic-v2.sql"), &[companion_clinic::db::V2_TABLES][..]),
        3 => (include_str!("fixtures/clinic-v3.sql"), &[companion_clinic::db::V2_TABLES, companion_clinic::db::V3_TABLES][..]),
        _ => unreachable!("a fixture per released version"),
    };
    match &database.url {
        Some(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            client.batch_execute(companion_clinic::db::first_release_schema(true)).unwrap();
            for ddl in added {
                client.batch_execute(ddl).unwrap();
            }
            client.batch_execute(rows).unwrap();
        }
        None => {
            let file = format!("{}/tests/clinic/fixtures/clinic-v{version}.db", env!("CARGO_MANIFEST_DIR"));
            std::fs::copy(file, dir.path().join("clinic.db")).unwrap();
        }
    }
    (dir, database)
}

#[test]
fn a_database_from_the_first_release_is_migrated_and_every_version_stamped_with_its_writer() {
    let (dir, database) = released(1);
    let db = companion_clinic::db::Db::open_with(dir.path(), database.url.as_deref()).unwrap();
    let staff = db.staff_tokens().unwrap();
    assert_eq!(staff.len(), 2);
    assert!(staff.iter().all(|s| s.expires_at.is_some()), "tokens from before get the default life from now");
    let actor = companion_clinic::db::Actor::Staff { id: staff[0].id.clone() };
    let read = |rtype: &str, id: &str| db.read(&actor, rtype, id).unwrap().unwrap().body;
    // The clinic's answer and visit were written with a staff token; the "answer" a second
    // device forged before this release was not, and is no longer the clinic's.
    assert_eq!(companion_core::fhir::origin(&read("Communication", "ans-1")), Some("clinic"));
    assert_eq!(companion_core::fhir::origin(&read("Appointment", "visit-1")), Some("clinic"));
    let forged = read("Communication", "forged-1");
    assert_eq!(companion_core::fhir::origin(&forged), Some("patient"));
    assert!(forged["meta"]["source"].as_str().unwrap().starts_with("companion-device:"), "the device's own meta.source is replaced");
    // The stamped versions are in the change feed again, for devices that pulled them unstamped.
    let device =
        companion_clinic::db::Actor::Device { id: "d".into(), patient: "3f81e5a5-32cf-4dfa-bb3b-8f296b0daac7".into(), carer: None };
    let feed = db.changes(&device, "3f81e5a5-32cf-4dfa-bb3b-8f296b0daac7", 0, 200).unwrap();
    let fed_again = feed.rows.iter().filter(|(_, r)| r["id"] == "ans-1").count();
    assert_eq!(fed_again, 2, "once as written, once stamped");
    assert!(feed.rows.iter().rev().find(|(_, r)| r["id"] == "ans-1").is_some_and(|(_, r)| companion_core::fhir::written_by_clinic(r)));
    // Opening again changes nothing.
    drop(db);
    let db = companion_clinic::db::Db::open_with(dir.path(), database.url.as_deref()).unwrap();
    assert_eq!(db.staff_tokens().unwrap().len(), 2);
}

#[test]
fn a_database_from_the_second_release_is_migrated_and_its_codes_pair_safely() {
    let (dir, database) = released(2);
    let db = companion_clinic::db::Db::open_with(dir.path(), database.url.as_deref()).unwrap();
    assert_eq!(db.staff_tokens().unwrap().len(), 2, "the staff tokens are as they were");
    let actor = companion_clinic::db::Actor::Staff { id: db.staff_tokens().unwrap()[0].id.clone() };
    let answer = db.read(&actor, "Communication", "ans-1").unwrap().unwrap().body;
    assert_eq!(companion_core::fhir::origin(&answer), Some("clinic"), "stamps are kept");
    // The unused code of that release pairs, safe to retry; a code used then stays used.
    let key = "a-retry-key-of-the-device-0123456789";
    let first = db.pair("ABCD-EFGH-JKMN", false, Some(key)).unwrap();
    let again = db.pair("abcd efgh jkmn", false, Some(key)).unwrap();
    assert_eq!((&first.device, &first.token), (&again.device, &again.token), "a retry gets the same credential");
    assert!(db.pair("ABCD-EFGH-JKMN", false, Some("another-device-key-0123456789")).is_err(), "another key is refused");
    assert!(db.pair("ABCD-EFGH-JKMN", false, None).is_err(), "so is no key");
    assert!(matches!(db.actor(&first.token), Ok(companion_clinic::db::Actor::Device { .. })));
    drop(db);
    let db = companion_clinic::db::Db::open_with(dir.path(), database.url.as_deref()).unwrap();
    assert_eq!(db.staff_tokens().unwrap().len(), 2, "opening again changes nothing");
}

#[test]
fn a_database_from_the_third_release_gets_a_triage_task_for_each_alert_it_holds() {
    let (dir, database) = released(3);
    let db = companion_clinic::db::Db::open_with(dir.path(), database.url.as_deref()).unwrap();
    // The fever's Flag stored before the worklist is on it, once, with the default target.
    let (total, open) = db.worklist(&companion_clinic::db::triage::Filter::Open, 10, 0).unwrap();
    assert_eq!(total, 1);
    let alert = &open[0];
    assert_eq!(
        (alert.flag.as_str(), alert.priority.as_str(), alert.status.as_str()),
        ("a442da69-52b5-4de3-9002-f98557ef9956", "stat", "requested")
    );
    assert_eq!((alert.patient_name.as_str(), alert.reporter.role.as_str()), ("Kari Nordmann", "patient"));
    let actor = companion_clinic::db::Actor::Staff { id: "t".into() };
    let task = db.read(&actor, "Task", &alert.task).unwrap().unwrap().body;
    assert_eq!(task["focus"]["reference"], "Flag/a442da69-52b5-4de3-9002-f98557ef9956");
    assert!(companion_core::fhir::written_by_clinic(&task));
    // Nothing else changed: the code of that release still pairs; opening again adds nothing.
    assert!(db.pair("ABCD-EFGH-JKMN", false, Some("a-retry-key-of-the-device-0123456789")).is_ok());
    drop(db);
    let db = companion_clinic::db::Db::open_with(dir.path(), database.url.as_deref()).unwrap();
    assert_eq!(db.worklist(&companion_clinic::db::triage::Filter::Open, 10, 0).unwrap().0, 1);
    assert_eq!(db.targets().unwrap()[0].1.text(), "1h");
}
