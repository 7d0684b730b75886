//! Sync end to end: nothing lost, nothing twice, whatever the network does.

use crate::harness::{Fault, Proxy, Server};
use companion_core::domain::{NewQuestion, NewSymptom, NewTemperature};
use companion_core::store::TimelineFilter;
use companion_core::sync::Outcome;
use companion_core::NewEntry;
use serde_json::Value;

fn symptom(i: i64) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity: i % 7, note: Some(format!("entry {i}")), ..Default::default() })
}

fn staff_get(server: &Server, token: &str, path: &str) -> Value {
    let url = format!("{}{path}", server.url);
    companion_core::sync::block_on(async {
        reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap()
    })
    .unwrap()
}

/// Every resource of a type the server holds for a patient, following the paging links.
fn all_of(server: &Server, token: &str, rtype: &str, patient: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = format!("/fhir/{rtype}?patient={patient}&_count=7");
    loop {
        let page = staff_get(server, token, &path);
        assert_eq!(page["type"], "searchset");
        out.extend(page["entry"].as_array().into_iter().flatten().map(|e| e["resource"].clone()));
        match page["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") {
            // Paging links are absolute (R4: Bundle.link.url is a uri the client follows).
            Some(next) => path = next["url"].as_str().unwrap().strip_prefix(&server.url).expect("an absolute link").to_owned(),
            None => break,
        }
    }
    out
}

#[test]
fn a_diary_syncs_once_and_a_second_round_changes_nothing() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let mut store = diary.open();
    for i in 0..12 {
        store.add(&symptom(i)).unwrap();
    }
    let fever = store.save(&NewEntry::Temperature(NewTemperature { celsius: 38.7, ..Default::default() })).unwrap();
    assert_eq!(fever.advice.len(), 1);
    let phq = companion_core::instruments::get("phq9").unwrap();
    store.add_assessment("phq9", &phq.answers_from_values(&[1, 1, 1, 1, 1, 1, 1, 1, 0]).unwrap(), None).unwrap();
    store.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    drop(store);

    let first = diary.sync();
    assert_eq!(first.outcome, Outcome::Done);
    assert_eq!((first.sent, first.pending, first.quarantined), (16, 0, 0));
    let again = diary.sync();
    assert_eq!((again.outcome, again.sent, again.received), (Outcome::Done, 0, 0));
    // Where sync stands, as the app's Settings and `companion sync --status --json` both show it.
    let status = serde_json::to_value(companion_core::api::SyncStatus::of(&diary.open(), None).unwrap()).unwrap();
    assert_eq!((status["paired"].as_bool(), status["pending"].as_i64(), status["quarantined"].as_i64()), (Some(true), Some(0), Some(0)));
    assert_eq!(status["patient"].as_str(), Some(patient.as_str()));
    assert!(status["last_success"].as_str().is_some_and(|t| t.ends_with('Z')), "{status}");
    assert!(status["problem"].is_null() && status["carer_of"].is_null(), "{status}");

    let staff = server.staff();
    let observations = all_of(&server, &staff, "Observation", &patient);
    // 12 symptoms + 1 temperature + 1 PHQ-9 score.
    assert_eq!(observations.len(), 14, "paging returned every one, once");
    assert!(observations.iter().all(|o| o["meta"]["versionId"] == "1"));
    assert_eq!(all_of(&server, &staff, "QuestionnaireResponse", &patient).len(), 1);
    assert_eq!(all_of(&server, &staff, "Communication", &patient).len(), 1);
    let flags = all_of(&server, &staff, "Flag", &patient);
    assert_eq!(flags[0]["code"]["coding"][0]["code"], "fever");
    assert_eq!(flags[0]["code"]["coding"][0]["version"], "2.0.0");
    let provenance = all_of(&server, &staff, "Provenance", &patient);
    assert_eq!(provenance.len(), 15, "one per record version");
    assert!(provenance.iter().all(|p| p["agent"][1]["who"]["display"] == "Companion app"));

    // "I understand" on the fever card reaches the clinic with its Flag: when, and who.
    // The Flag names the record it is about (so the worklist says what was reported), and has
    // no acknowledgement yet.
    let ext = flags[0]["extension"].as_array().unwrap();
    assert_eq!(ext.len(), 1, "not acknowledged yet");
    assert_eq!(ext[0]["url"], companion_core::fhir::advice_record_extension_url());
    assert_eq!(ext[0]["valueReference"]["reference"], format!("Observation/{}", fever.entry.id));
    let mut store = diary.open();
    store.acknowledge_advice(&[fever.advice[0].id]).unwrap();
    drop(store);
    assert_eq!(diary.sync().sent, 1);
    let flag = staff_get(&server, &staff, &format!("/fhir/Flag/{}", fever.advice[0].id));
    let ack = &flag["extension"][1];
    assert_eq!(ack["url"], companion_core::fhir::acknowledged_extension_url());
    assert!(ack["extension"][0]["valueDateTime"].is_string(), "{ack}");
    assert_eq!(ack["extension"][1]["valueReference"]["reference"], format!("Patient/{patient}"));
    assert_eq!(flag["meta"]["versionId"], "2");

    // A withdrawal is a new version, marked entered-in-error; still one resource.
    let mut store = diary.open();
    let first_entry = store.timeline(TimelineFilter::default()).unwrap().last().unwrap().id;
    store.withdraw(first_entry).unwrap();
    drop(store);
    assert_eq!(diary.sync().sent, 1);
    let withdrawn = staff_get(&server, &staff, &format!("/fhir/Observation/{first_entry}"));
    assert_eq!((withdrawn["status"].as_str(), withdrawn["meta"]["versionId"].as_str()), (Some("entered-in-error"), Some("2")));
    assert_eq!(all_of(&server, &staff, "Observation", &patient).len(), 14);
}

#[test]
fn faults_between_device_and_server_lose_nothing_and_duplicate_nothing() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    let (patient, diary) = server.paired_diary(&proxy.url);
    let mut store = diary.open();
    for i in 0..120 {
        store.add(&symptom(i)).unwrap();
    }
    drop(store);
    proxy.then(&[
        Fault::ResetAfterForward, // the epoch check lands, its answer breaks
        Fault::Pass,
        Fault::ResetAfterForward, // a batch lands, its answer breaks
        Fault::ServerError,
        Fault::Pass,
        Fault::TooMany,
        Fault::Pass,
        Fault::Duplicate, // a batch delivered twice
        Fault::Drop,
        Fault::Pass,
        Fault::Slow,
    ]);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let report = diary.sync();
        if report.outcome == Outcome::Done && report.pending == 0 {
            break;
        }
        assert!(matches!(report.outcome, Outcome::Later { .. }), "{report:?}");
        assert!(rounds < 30, "never converged");
    }
    assert!(rounds > 3, "the faults were met");
    let staff = server.staff();
    let held = all_of(&server, &staff, "Observation", &patient);
    let mut ids: Vec<&str> = held.iter().map(|o| o["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((held.len(), ids.len()), (120, 120), "none lost, none twice");
    assert!(held.iter().all(|o| o["meta"]["versionId"] == "1"), "a repeated upload made no new version");
    let store = diary.open();
    assert_eq!(store.outbox_counts().unwrap(), (0, 0));
    assert!(*proxy.forwarded.lock().unwrap() > rounds);
}

#[test]
fn a_refused_record_is_quarantined_and_the_rest_still_sync() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    let (patient, diary) = server.paired_diary(&proxy.url);
    let mut store = diary.open();
    let first = store.add(&symptom(0)).unwrap();
    for i in 1..5 {
        store.add(&symptom(i)).unwrap();
    }
    drop(store);
    // The epoch check passes; the batch arrives with its first record broken.
    proxy.then(&[Fault::Pass, Fault::BreakFirstResource]);
    let report = diary.sync();
    assert_eq!(report.outcome, Outcome::Done);
    assert_eq!((report.sent, report.refused, report.quarantined, report.pending), (4, 1, 1, 0));
    let store = diary.open();
    let q = store.quarantined().unwrap();
    assert_eq!((q[0].ref_id, q[0].status), (first.id, Some(422)));
    assert_eq!(q[0].reason.as_deref(), Some("Observation.status is required"));
    drop(store);
    let staff = server.staff();
    assert_eq!(all_of(&server, &staff, "Observation", &patient).len(), 4);
    // Later rounds leave it aside and say so; nothing else is held up.
    let later = diary.sync();
    assert_eq!((later.outcome, later.quarantined, later.pending), (Outcome::Done, 1, 0));
}

#[test]
fn what_the_clinic_writes_comes_back_to_the_device() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let mut store = diary.open();
    let q = store.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    drop(store);
    assert_eq!(diary.sync().sent, 1);
    let staff = server.staff();
    let soon = chrono::Utc::now() + chrono::Duration::days(10);
    let (start, end) = (soon.format("%Y-%m-%dT09:00:00Z").to_string(), soon.format("%Y-%m-%dT09:30:00Z").to_string());
    let put = |path: &str, body: Value| {
        let url = format!("{}{path}", server.url);
        companion_core::sync::block_on(async {
            reqwest::Client::new().put(url).bearer_auth(&staff).json(&body).send().await.unwrap().status().as_u16()
        })
        .unwrap()
    };
    assert_eq!(
        put(
            "/fhir/Appointment/appt-1",
            serde_json::json!({
                "resourceType": "Appointment", "id": "appt-1", "status": "booked", "start": start, "end": end,
                "participant": [{ "actor": { "reference": format!("Patient/{patient}") }, "status": "accepted" }]
            })
        ),
        201
    );
    assert_eq!(
        put(
            "/fhir/Communication/answer-1",
            serde_json::json!({
                "resourceType": "Communication", "id": "answer-1", "status": "completed",
                "subject": { "reference": format!("Patient/{patient}") },
                "inResponseTo": [{ "reference": format!("Communication/{}", q.id) }],
                "payload": [{ "contentString": "Yes, after the next cycle." }]
            })
        ),
        201
    );
    let report = diary.sync();
    assert_eq!((report.outcome, report.received), (Outcome::Done, 2));
    let store = diary.open();
    assert_eq!(store.remote("Appointment").unwrap()[0]["start"], start.as_str());
    // What the app shows: the next visit, and the answer under its question.
    let visits = store.appointments().unwrap();
    assert_eq!((visits.len(), visits[0].start.format("%Y-%m-%dT%H:%M:%SZ").to_string()), (1, start.clone()));
    let answers = store.clinic_answers().unwrap();
    assert_eq!((answers[0].question, answers[0].text.as_str()), (q.id, "Yes, after the next cycle."));
    drop(store);
    // A visit with a start and no end is not valid FHIR (app-2): refused.
    let half = serde_json::json!({
        "resourceType": "Appointment", "id": "appt-2", "status": "booked", "start": start,
        "participant": [{ "actor": { "reference": format!("Patient/{patient}") }, "status": "accepted" }]
    });
    assert_eq!(put("/fhir/Appointment/appt-2", half), 422);
    // The clinic calls the visit off: it no longer shows.
    let mut cancelled = serde_json::json!({
        "resourceType": "Appointment", "id": "appt-1", "status": "cancelled", "start": start, "end": end,
        "participant": [{ "actor": { "reference": format!("Patient/{patient}") }, "status": "declined" }]
    });
    assert_eq!(put("/fhir/Appointment/appt-1", cancelled.take()), 200);
    assert_eq!(diary.sync().received, 1);
    assert!(diary.open().appointments().unwrap().is_empty());
    // Nothing new: nothing received twice.
    assert_eq!(diary.sync().received, 0);
}

/// What a diary holds, comparable across devices: (id, status, content) of every record.
fn holdings(diary: &crate::harness::Diary) -> Vec<(String, String, String)> {
    let store = diary.open();
    let mut all: Vec<_> = store
        .timeline(TimelineFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| (e.id.to_string(), e.status.as_str().to_owned(), serde_json::to_string(&e.data).unwrap()))
        .collect();
    all.sort();
    all
}

#[test]
fn two_devices_of_one_patient_converge_including_concurrent_question_edits() {
    use companion_core::QuestionState;
    let server = Server::start();
    let staff = server.staff();
    let (patient, phone) = server.paired_diary(&server.url);
    let laptop = crate::harness::Diary::new();
    let code = server.db.new_code(&patient).unwrap();
    companion_core::sync::block_on(companion_core::sync::pair(&mut laptop.open(), &server.url, &code)).unwrap().unwrap();

    // Each device logs on its own, offline from the other.
    let question = {
        let mut s = phone.open();
        for i in 0..3 {
            s.add(&symptom(i)).unwrap();
        }
        s.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap().id
    };
    {
        let mut s = laptop.open();
        s.add(&NewEntry::Temperature(NewTemperature { celsius: 37.2, ..Default::default() })).unwrap();
        let withdrawn = s.add(&symptom(9)).unwrap().id;
        s.withdraw(withdrawn).unwrap();
        let answers = companion_core::instruments::get("phq9").unwrap().answers_from_values(&[1, 0, 2, 1, 0, 0, 1, 0, 0]).unwrap();
        s.add_assessment("phq9", &answers, None).unwrap();
    }
    phone.sync();
    laptop.sync();
    let r = phone.sync();
    assert!(r.received >= 2, "the phone took in the laptop's records: {r:?}");
    assert_eq!(holdings(&phone), holdings(&laptop));
    assert_eq!(holdings(&phone).len(), 7, "the PHQ-9, its answers and score checked again, came across too");

    // Both edit the same question before either syncs: the laptop marks it asked, then the
    // phone rewords it.
    laptop.open().set_question_state(question, QuestionState::Asked, None).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    phone.open().edit_question(question, "Can I travel in March?").unwrap();
    laptop.sync();
    let r = phone.sync();
    assert_eq!(r.merged, 1, "the phone's edit met the laptop's (412) and was merged: {r:?}");
    laptop.sync();
    let expected = companion_core::EntryData::Question { text: "Can I travel in March?".into(), state: QuestionState::Asked, answer: None };
    assert_eq!(phone.open().entry(question).unwrap().data, expected);
    assert_eq!(laptop.open().entry(question).unwrap().data, expected);

    // A stale device cannot reopen what was answered: the phone records the answer, the laptop
    // (not yet synced) reopens the question.
    phone.open().set_question_state(question, QuestionState::Answered, Some("Yes, with a letter from the doctor")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    laptop.open().set_question_state(question, QuestionState::Open, None).unwrap();
    phone.sync();
    laptop.sync();
    phone.sync();
    let expected = companion_core::EntryData::Question {
        text: "Can I travel in March?".into(),
        state: QuestionState::Answered,
        answer: Some("Yes, with a letter from the doctor".into()),
    };
    assert_eq!(phone.open().entry(question).unwrap().data, expected);
    assert_eq!(holdings(&phone), holdings(&laptop));

    // The server holds each record once, in the state both devices hold.
    let observations = all_of(&server, &staff, "Observation", &patient);
    assert_eq!(observations.len(), 6, "3 symptoms, 1 temperature, 1 withdrawn symptom, 1 PHQ-9 score; none twice");
    let comms = all_of(&server, &staff, "Communication", &patient);
    assert_eq!(comms.len(), 1);
    assert_eq!(comms[0]["payload"][0]["contentString"], "Can I travel in March?");
    assert_eq!(comms[0]["status"], "completed");
    // Both devices are done: nothing waits.
    assert_eq!(phone.sync().pending + laptop.sync().pending, 0);
}

/// A diary shared between the person and a sync round, as in the app.
struct Shared(std::sync::Arc<std::sync::Mutex<companion_core::Store>>);

impl companion_core::sync::Diary for Shared {
    fn with<T>(&self, f: impl FnOnce(&mut companion_core::Store) -> companion_core::Result<T>) -> companion_core::Result<T> {
        f(&mut self.0.lock().unwrap())
    }
}

#[test]
fn a_round_waiting_on_the_server_leaves_the_diary_free_and_loses_nothing_saved_meanwhile() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    let staff = server.staff();
    let (patient, diary) = server.paired_diary(&proxy.url);
    let shared = std::sync::Arc::new(std::sync::Mutex::new(diary.open()));
    let first = shared.lock().unwrap().add(&symptom(0)).unwrap().id;
    for i in 1..3 {
        shared.lock().unwrap().add(&symptom(i)).unwrap();
    }
    // The epoch check passes; the upload is held at the "network".
    proxy.then(&[Fault::Pass, Fault::Hold]);
    let round = std::thread::spawn({
        let shared = Shared(shared.clone());
        move || companion_core::sync::block_on(companion_core::sync::sync_with(&shared)).unwrap().unwrap()
    });
    proxy.wait_until_holding();
    // Meanwhile the person saves a record, and corrects one that is on its way: the diary is
    // not held by the waiting round.
    {
        let mut store = shared.try_lock().expect("the round does not hold the diary while it waits");
        store.add(&symptom(99)).unwrap();
        store.correct(first, &symptom(5)).unwrap();
    }
    proxy.release();
    let report = round.join().unwrap();
    assert_eq!((report.outcome.clone(), report.pending), (Outcome::Done, 0), "{report:?}");
    let held = all_of(&server, &staff, "Observation", &patient);
    assert_eq!(held.len(), 4, "the record saved during the round went too");
    let corrected = held.iter().find(|o| o["id"] == first.to_string()).unwrap();
    assert_eq!(
        (corrected["valueInteger"].as_i64(), corrected["status"].as_str()),
        (Some(5), Some("amended")),
        "the correction was not lost"
    );
}

#[test]
fn a_form_the_clinic_assigns_reaches_the_device_and_its_answers_are_pinned_to_it() {
    let server = Server::start();
    let staff = server.staff();
    let (patient, diary) = server.paired_diary(&server.url);
    let put = |token: &str, path: &str, body: &Value| {
        let url = format!("{}{path}", server.url);
        companion_core::sync::block_on(async {
            reqwest::Client::new().put(url).bearer_auth(token).json(body).send().await.unwrap().status().as_u16()
        })
        .unwrap()
    };
    // The clinic's form of ESAS-r: the shipped one under another version and language (a
    // stand-in for a licensed translation; no wording here is a translation).
    let mut form: Value = serde_json::from_str(include_str!("../../../../assets/instruments/esas-r.json")).unwrap();
    form["id"] = "esas-r-clinic".into();
    form["version"] = "1.0.0-clinic".into();
    form["language"] = "nb".into();
    assert_eq!(put(&staff, "/fhir/Questionnaire/esas-r-clinic", &form), 201);
    // A form that changes how an item is answered is not the same instrument.
    let mut changed = form.clone();
    changed["id"] = "esas-r-changed".into();
    changed["version"] = "9".into();
    changed["item"][0]["item"][0]["type"] = "string".into();
    assert_eq!(put(&staff, "/fhir/Questionnaire/esas-r-changed", &changed), 201);
    for (id, q) in [("task-1", "esas-r-clinic"), ("task-2", "esas-r-changed")] {
        let task = serde_json::json!({
            "resourceType": "Task", "id": id, "status": "requested", "intent": "order",
            "code": { "text": "complete-questionnaire" },
            "focus": { "reference": format!("Questionnaire/{q}") },
            "for": { "reference": format!("Patient/{patient}") },
        });
        assert_eq!(put(&staff, &format!("/fhir/Task/{id}"), &task), 201);
    }
    // Only staff write forms.
    let device_token = diary.open().sync_link().unwrap().unwrap().token;
    let mut mine = form.clone();
    mine["id"] = "mine".into();
    assert_eq!(put(&device_token, "/fhir/Questionnaire/mine", &mine), 403);

    let report = diary.sync();
    assert_eq!(report.outcome, Outcome::Done);
    let mut store = diary.open();
    let forms: Vec<String> =
        store.instruments().unwrap().iter().filter(|i| i.id == "esas-r").map(|i| i.questionnaire.canonical()).collect();
    let clinic_form = "https://fhir.companion-diary.no/Questionnaire/esas-r|1.0.0-clinic";
    assert_eq!(forms.len(), 2, "the shipped form and the clinic's; the changed one is refused: {forms:?}");
    assert_eq!(forms[1], clinic_form);

    // What the clinic asked for shows as due: the valid form only.
    let asked = store.assigned().unwrap();
    assert_eq!(asked.iter().map(|a| (a.task.as_str(), a.questionnaire.as_str())).collect::<Vec<_>>(), vec![("task-1", clinic_form)]);
    let esas = companion_core::instruments::get("esas-r").unwrap();
    let answers = esas.answers_from_values(&[0, 1, 3, 4, 6, 7, 10, 4, 2]).unwrap();
    let saved = store.add_assessment_with("esas-r", Some(clinic_form), &answers, None).unwrap();
    assert!(matches!(&saved.entry.data, companion_core::EntryData::Assessment { questionnaire, score, .. }
        if questionnaire == clinic_form && score.total == Some(37)));
    assert!(store.add_assessment_with("esas-r", Some("https://fhir.companion-diary.no/Questionnaire/esas-r|9"), &answers, None).is_err());
    assert!(store.assigned().unwrap().is_empty(), "done once filled in");
    drop(store);
    assert_eq!(diary.sync().sent, 1 + saved.advice.len());
    let responses = all_of(&server, &staff, "QuestionnaireResponse", &patient);
    assert_eq!(responses[0]["questionnaire"], clinic_form);
}

/// A record pulled from another device keeps the author its record names (the patient's
/// other set-up, under another name; a carer on the first device) and the time of its edit,
/// never the identity signed in where it arrives or the time of the pull.
#[test]
fn a_pulled_record_keeps_its_author_and_the_time_of_its_edit() {
    use companion_core::domain::{Role, Scope};
    let server = Server::start();
    let (patient, phone) = server.paired_diary(&server.url);
    let laptop = tempfile::tempdir().unwrap();
    let pass = crate::harness::PASS;
    let (mut store, _) = companion_core::Store::create(laptop.path(), "Kari N.", pass, companion_core::clock::system()).unwrap();
    let code = server.db.new_code(&patient).unwrap();
    companion_core::sync::block_on(companion_core::sync::pair(&mut store, &server.url, &code)).unwrap().unwrap();
    store.lock();

    let carer_pass = "ola's own passphrase";
    let (mine, corrected, carers) = {
        let mut s = phone.open();
        s.add_carer("Ola Nordmann", "son", carer_pass, &[Scope::Symptoms, Scope::Observations], pass, None).unwrap();
        let mine = s.add(&symptom(1)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let corrected = s.add(&symptom(2)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let corrected = s.correct(corrected.id, &symptom(4)).unwrap().entry;
        s.lock();
        let mut c = companion_core::Store::open(phone.dir.path(), carer_pass, companion_core::clock::system()).unwrap();
        let carers = c.add(&symptom(5)).unwrap();
        c.lock();
        (mine, corrected, carers)
    };
    phone.sync();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let open_laptop = || companion_core::Store::open(laptop.path(), pass, companion_core::clock::system()).unwrap();
    let mut s = open_laptop();
    let r = companion_core::sync::block_on(companion_core::sync::sync_once(&mut s)).unwrap().unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    let pulled = |id| s.entry(id).unwrap();
    for original in [&mine, &corrected, &carers] {
        let here = pulled(original.id);
        assert_eq!(here.author, original.author, "the author the record names");
        assert_eq!(here.updated_by, original.updated_by);
        assert_eq!(here.updated_at, original.updated_at, "the time of the edit, not of the pull");
        assert_eq!(here.recorded_at, original.recorded_at);
    }
    assert_eq!(pulled(mine.id).author.name, "Kari Nordmann");
    assert_eq!(pulled(carers.id).author.role, Role::Carer);
    assert_eq!(s.me().name, "Kari N.", "the laptop's own identity is unchanged");
    assert_eq!(s.patient().unwrap().name, "Kari N.", "and it is still the diary's patient");
    // What the laptop writes itself is its own.
    let own = s.add(&symptom(3)).unwrap();
    assert_eq!(own.author.name, "Kari N.");
    // The visit summary keeps the patient's series in one, whichever device entered them.
    let summary = s.visit_summary(7).unwrap();
    let patients: Vec<_> = summary.people.iter().filter(|p| p.person.role == Role::Patient).collect();
    assert_eq!(patients.len(), 1, "one patient");
    assert_eq!(summary.people.len(), 2, "the patient and the carer");
    // A pulled record corrected here goes back to the clinic as the patient's.
    let fixed = s.correct(mine.id, &symptom(6)).unwrap().entry;
    assert_eq!(fixed.author, mine.author, "still first entered on the phone");
    let r = companion_core::sync::block_on(companion_core::sync::sync_once(&mut s)).unwrap().unwrap();
    assert_eq!((r.outcome, r.quarantined, r.pending), (Outcome::Done, 0, 0), "{:?}", s.quarantined());
}
