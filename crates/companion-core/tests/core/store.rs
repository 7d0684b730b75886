use companion_core::domain::{NewQuestion, NewSymptom, NewTemperature};
use companion_core::store::TimelineFilter;
use companion_core::{clock, Error, NewEntry, RecordStatus, Store};
use std::fs;

const PASS: &str = "correct horse battery";

fn symptom(code: &str, severity: i64, note: &str) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: code.into(), severity, note: Some(note.into()), ..Default::default() })
}

#[test]
fn the_file_is_encrypted_and_opens_only_with_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, code) = Store::create(dir.path(), "Ada Lovelace", PASS, clock::system()).unwrap();
    assert_eq!(code.len(), 29);
    store.add(&symptom("pain", 6, "SECRET-NOTE-TEXT")).unwrap();
    store.add(&NewEntry::Question(NewQuestion { text: "SECRET-QUESTION".into() })).unwrap();
    store.lock();

    for name in ["companion.db", "keyslots.json"] {
        let bytes = fs::read(dir.path().join(name)).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"), "{name}");
        for needle in [&b"SECRET-NOTE-TEXT"[..], b"SECRET-QUESTION", b"Ada Lovelace"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{name} leaks plaintext");
        }
    }

    assert!(matches!(Store::open(dir.path(), "wrong passphrase", clock::system()), Err(Error::WrongPassphrase { .. })));
    let store = Store::open(dir.path(), PASS, clock::system()).unwrap();
    let all = store.timeline(TimelineFilter::default()).unwrap();
    assert_eq!(all.len(), 2);
    assert!(store.integrity_problems().unwrap().is_empty());
}

#[test]
fn changing_the_passphrase_rewraps_and_the_old_one_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Ada", PASS, clock::system()).unwrap();
    let db_before = fs::read(dir.path().join("companion.db")).unwrap();
    store.change_passphrase(PASS, "a new passphrase").unwrap();
    store.lock();
    assert_eq!(fs::read(dir.path().join("companion.db")).unwrap(), db_before, "database not rewritten");
    assert!(Store::open(dir.path(), PASS, clock::system()).is_err());
    Store::open(dir.path(), "a new passphrase", clock::system()).unwrap();
}

#[test]
fn the_recovery_code_sets_a_new_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (store, code) = Store::create(dir.path(), "Ada", PASS, clock::system()).unwrap();
    store.lock();
    let sloppy = code.to_lowercase().replace('-', " ");
    Store::recover(dir.path(), &sloppy, "remembered now", clock::system()).unwrap().lock();
    Store::open(dir.path(), "remembered now", clock::system()).unwrap();
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Ada", PASS, clock::system()).unwrap();
    let bad = [
        (symptom("", 3, ""), "symptom"),
        (symptom("headache", 3, ""), "symptom"),
        (symptom("pain", 11, ""), "severity"),
        (NewEntry::Temperature(NewTemperature { celsius: 45.5, ..Default::default() }), "celsius"),
        (
            NewEntry::Temperature(NewTemperature { celsius: 37.0, occurred_at: Some("2999-01-01T00:00:00Z".into()), ..Default::default() }),
            "occurred_at",
        ),
        (NewEntry::Question(NewQuestion { text: "q".repeat(5000) }), "text"),
    ];
    for (input, field) in bad {
        match store.add(&input) {
            Err(Error::Invalid(inv)) => assert_eq!(inv.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(store.timeline(TimelineFilter::default()).unwrap().is_empty());
}

#[test]
fn withdrawn_entries_are_kept_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Ada", PASS, clock::system()).unwrap();
    let e = store.add(&symptom("nausea", 4, "")).unwrap();
    let fixed = store.correct(e.id, &symptom("nausea", 5, "")).unwrap().entry;
    assert_eq!((fixed.version, fixed.status), (2, RecordStatus::Amended));
    let gone = store.withdraw(e.id).unwrap();
    assert_eq!(gone.status, RecordStatus::EnteredInError);
    assert_eq!(store.history(e.id).unwrap().len(), 3);
    assert!(matches!(store.correct(e.id, &symptom("nausea", 1, "")), Err(Error::Withdrawn)));
}

#[test]
fn a_question_is_corrected_only_when_its_text_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Ada", PASS, clock::system()).unwrap();
    let q = store.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    let asked = store.set_question_state(q.id, companion_core::QuestionState::Asked, None).unwrap();
    assert_eq!((asked.version, asked.status), (2, RecordStatus::Final), "asking it is not a correction");
    let edited = store.edit_question(q.id, "Can I travel in March?").unwrap();
    assert_eq!((edited.version, edited.status), (3, RecordStatus::Amended));
    let answered = store.set_question_state(q.id, companion_core::QuestionState::Answered, Some("Yes")).unwrap();
    assert_eq!(answered.status, RecordStatus::Amended, "its text was changed before");
}

#[test]
fn a_store_that_will_not_open_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    Store::create(dir.path(), "Ada", PASS, clock::system()).unwrap().0.lock();
    fs::remove_file(dir.path().join("keyslots.json")).unwrap();
    assert!(matches!(Store::open(dir.path(), PASS, clock::system()), Err(Error::Damaged(_))));
    assert!(matches!(Store::create(dir.path(), "Ada", PASS, clock::system()), Err(Error::Damaged(_))));
    assert!(dir.path().join("companion.db").exists());
}

#[cfg(unix)]
#[test]
fn the_diarys_folder_and_files_are_the_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("diary");
    let (mut store, _) = Store::create(&dir, "Kari Nordmann", PASS, clock::system()).unwrap();
    store.add(&NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity: 3, ..Default::default() })).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

/// A pulled page with a record this diary cannot take in (a record under an id this diary
/// holds as another kind) and a clinic answer: the bad record is skipped and leaves nothing,
/// the rest is applied, the cursor moves, and the next page is not stuck on it.
#[test]
fn a_pulled_record_that_cannot_be_taken_in_never_stops_the_sync() {
    use companion_core::store::SyncLink;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Kari Nordmann", PASS, clock::system()).unwrap();
    store
        .set_sync_link(&SyncLink {
            server: "http://127.0.0.1:9".into(),
            token: "t".into(),
            patient: "p".into(),
            device: uuid::Uuid::new_v4().to_string(),
            epoch: "e".into(),
            cursor: 0,
            last_success: None,
            problem: None,
            ca: None,
            clinic_key: None,
        })
        .unwrap();
    let symptom = store.add(&NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity: 3, ..Default::default() })).unwrap();
    let question = store.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    // The question's record, as another device of this patient would send it, but under the
    // symptom's id: a change of kind, which a merge refuses.
    let mut copy = store.replica(&question).unwrap();
    copy.id = symptom.id;
    let stamp = |origin: &str| json!([{ "system": companion_core::fhir::origin_system(), "code": origin }]);
    let bad = json!({"resourceType": "Communication", "id": symptom.id.to_string(), "meta": {"versionId": "1", "tag": stamp("patient")},
                     "extension": [companion_core::replica::extension(&copy)]});
    let answer = json!({"resourceType": "Communication", "id": "answer-1", "status": "completed", "meta": {"versionId": "1", "tag": stamp("clinic")},
                        "inResponseTo": [{"reference": format!("Communication/{}", question.id)}], "payload": [{"contentString": "Yes."}]});
    let forged = json!({"resourceType": "Communication", "id": "forged-1", "status": "completed", "meta": {"versionId": "1", "tag": stamp("carer")},
                        "inResponseTo": [{"reference": format!("Communication/{}", question.id)}], "payload": [{"contentString": "Double it."}]});
    store.apply_pulled(&[bad, answer, forged], 3).unwrap();
    assert_eq!(store.sync_link().unwrap().unwrap().cursor, 3, "the page was applied");
    let kept = store.entry(symptom.id).unwrap();
    assert!(matches!(kept.data, companion_core::EntryData::Symptom { .. }), "the symptom is as it was");
    let answers: Vec<String> = store.clinic_answers().unwrap().into_iter().map(|a| a.text).collect();
    assert_eq!(answers, ["Yes."], "only what the server stamped as the clinic's is the clinic's");
}
