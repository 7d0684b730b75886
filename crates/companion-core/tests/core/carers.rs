//! Carers on the patient's device: who unlocks is the author; what the patient did not share
//! stays sealed even to a copy of the file; removing a carer rotates the data key.

use companion_core::domain::{NewCheckin, NewQuestion, NewSymptom, NewTemperature, Role, Scope};
use companion_core::keyfile::{KeyFile, SlotKind};
use companion_core::store::{open_encrypted, TimelineFilter};
use companion_core::{clock, EntryData, Error, NewEntry, Problem, Store};
use std::fs;
use std::path::Path;

const PATIENT: &str = "correct horse battery";
const CARER: &str = "kari's own passphrase";
const DEFAULT: [Scope; 3] = [Scope::Observations, Scope::Questions, Scope::Symptoms];

fn symptom(severity: i64, note: &str) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: "fatigue".into(), severity, note: Some(note.into()), ..Default::default() })
}

fn checkin(wellbeing: i64, note: &str) -> NewEntry {
    NewEntry::Checkin(NewCheckin { wellbeing, note: Some(note.into()), occurred_at: None })
}

/// A diary with a patient symptom, a patient check-in and a PHQ-9, and the carer Kari.
fn diary_with_carer(dir: &Path, allow: &[Scope]) -> Store {
    let (mut store, _) = Store::create(dir, "Ada", PATIENT, clock::system()).unwrap();
    store.add(&symptom(4, "PATIENT-SYMPTOM")).unwrap();
    store.add(&checkin(3, "PATIENT-MOOD-NOTE")).unwrap();
    let phq = store.add_assessment("phq9", &answers(&[1, 1, 1, 1, 1, 1, 1, 1, 1]), None).unwrap();
    assert!(!phq.advice.is_empty(), "item 9 raises the crisis card");
    let added = store.add_carer("Kari", "daughter", CARER, allow, PATIENT, None).unwrap();
    assert!(added.new_recovery_code.is_none(), "a new diary needs no new recovery code");
    assert_eq!(added.carer.person.role, Role::Carer);
    store
}

fn answers(values: &[i64]) -> Vec<companion_core::instruments::ItemAnswer> {
    companion_core::instruments::get("phq9").unwrap().answers_from_values(values).unwrap()
}

/// Every data text in the database, read with whatever data keys `secret` reaches in `keys`.
fn raw_rows(dir: &Path, keys: &KeyFile, secret: &str) -> Vec<String> {
    let (_, ring) = keys.unlock(SlotKind::Passphrase, secret.as_bytes()).unwrap().unwrap();
    let (_, key) = keys.data_keys(&ring).into_iter().next().unwrap();
    let conn = open_encrypted(&dir.join("companion.db"), key, false).unwrap();
    let mut stmt = conn.prepare("SELECT data FROM entry_versions").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn the_carer_unlocks_as_themselves_and_sees_only_what_was_shared() {
    let dir = tempfile::tempdir().unwrap();
    diary_with_carer(dir.path(), &DEFAULT).lock();

    let mut carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    assert_eq!((carer.me().name.as_str(), carer.me().role), ("Kari", Role::Carer));
    assert_eq!(carer.me().relationship.as_deref(), Some("daughter"));
    assert!(!carer.is_owner());
    let mine = carer.add(&symptom(8, "KARI-OBSERVATION")).unwrap();
    assert_eq!(mine.author.name, "Kari");
    carer.add(&NewEntry::Question(NewQuestion { text: "Can she sleep better?".into() })).unwrap();
    let own = carer.add(&checkin(2, "KARI-OWN-WELLBEING")).unwrap();

    let seen = carer.timeline(TimelineFilter::default()).unwrap();
    let notes: Vec<String> = seen.iter().filter_map(|e| note(&e.data)).collect();
    assert!(notes.contains(&"PATIENT-SYMPTOM".to_owned()), "symptoms were shared");
    assert!(notes.contains(&"KARI-OBSERVATION".to_owned()));
    assert!(notes.contains(&"KARI-OWN-WELLBEING".to_owned()), "the carer sees their own check-in");
    assert!(!notes.contains(&"PATIENT-MOOD-NOTE".to_owned()), "check-ins were not shared");
    assert!(!seen.iter().any(|e| matches!(e.data, EntryData::Assessment { .. })), "nor the PHQ-9");
    // Not by id either, and a carer fills in no validated instrument for the patient.
    let hidden = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    let phq =
        hidden.timeline(TimelineFilter::default()).unwrap().into_iter().find(|e| matches!(e.data, EntryData::Assessment { .. })).unwrap();
    hidden.lock();
    assert!(matches!(carer.entry(phq.id), Err(Error::NotFound)));
    // A carer changes only what they wrote.
    let patients = seen.iter().find(|e| note(&e.data).as_deref() == Some("PATIENT-SYMPTOM")).unwrap().id;
    assert!(matches!(carer.withdraw(patients), Err(Error::NotPermitted)));
    assert!(carer.withdraw(mine.id).is_ok());
    assert!(matches!(carer.add_assessment("phq9", &answers(&[0; 9]), None), Err(Error::NotPermitted)));
    // A carer manages no carers and has no recovery code.
    assert!(matches!(carer.add_carer("Ola", "son", "another passphrase", &DEFAULT, CARER, None), Err(Error::NotPermitted)));
    assert!(matches!(carer.remove_carer("Kari"), Err(Error::NotPermitted)));
    assert!(carer.new_recovery_code().is_err());
    // The carer's own check-in never waits for the clinic, and says it is private.
    assert!(carer.is_private_entry(own.id).unwrap());
    assert!(own.private && !mine.private);
    // Advice the hidden PHQ-9 raised is not shown to the carer either.
    assert!(carer.advice_for(phq.id).unwrap().is_empty());
    let queued: Vec<uuid::Uuid> = carer.outbox(100).unwrap().iter().map(|q| q.ref_id).collect();
    assert!(queued.contains(&mine.id) && !queued.contains(&own.id));
    carer.lock();

    // The patient sees Kari's observation and question, labelled, but not Kari's own check-in.
    let patient = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    let all = patient.timeline(TimelineFilter::default()).unwrap();
    let kari = all.iter().find(|e| note(&e.data).as_deref() == Some("KARI-OBSERVATION")).unwrap();
    assert_eq!((kari.author.name.as_str(), kari.author.role), ("Kari", Role::Carer));
    assert!(!all.iter().any(|e| note(&e.data).as_deref() == Some("KARI-OWN-WELLBEING")));
    assert_eq!(patient.questions().unwrap().len(), 1);
    assert_eq!(patient.carers().unwrap()[0].allow, DEFAULT.to_vec());
}

#[test]
fn a_carers_copy_of_the_file_does_not_show_what_was_not_shared() {
    let dir = tempfile::tempdir().unwrap();
    let store = diary_with_carer(dir.path(), &[Scope::Observations]);
    store.lock();
    let mut carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    carer.add(&checkin(1, "KARI-PRIVATE")).unwrap();
    carer.lock();

    // With the carer's passphrase and the files, as a copy: the database opens, but the
    // patient's records are sealed under keys Kari's slot does not reach.
    let keys = KeyFile::load(dir.path()).unwrap();
    let rows = raw_rows(dir.path(), &keys, CARER);
    assert!(rows.len() >= 4);
    for row in &rows {
        for needle in ["PATIENT-SYMPTOM", "PATIENT-MOOD-NOTE", "KARI-PRIVATE", "wellbeing", "severity"] {
            assert!(!row.contains(needle), "a record is readable in the clear: {needle}");
        }
        assert!(row.contains("\"sealed\""));
    }
    let (_, ring) = keys.unlock(SlotKind::Passphrase, CARER.as_bytes()).unwrap().unwrap();
    let held: Vec<&str> = ring.names().collect();
    assert!(!held.iter().any(|n| n.starts_with("cat:")), "{held:?}");
    assert!(!held.contains(&"patient"));
    let (_, ring) = keys.unlock(SlotKind::Passphrase, PATIENT.as_bytes()).unwrap().unwrap();
    assert!(!ring.names().any(|n| n.starts_with("priv:")), "the patient cannot open the carer's own check-in");
}

#[test]
fn removing_a_carer_stops_their_passphrase_and_rotates_the_data_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = diary_with_carer(dir.path(), &DEFAULT);
    store.lock();
    let mut carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    carer.add(&symptom(8, "KARI-OBSERVATION")).unwrap();
    carer.lock();
    // Kari keeps a copy of the key file from before the removal.
    let kept = dir.path().join("kept-keyslots.json");
    fs::copy(KeyFile::path(dir.path()), &kept).unwrap();

    let mut patient = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    let before = patient.timeline(TimelineFilter::default()).unwrap();
    let removed = patient.remove_carer("kari").unwrap();
    assert_eq!(removed.name, "Kari");
    assert!(patient.carers().unwrap().is_empty());
    assert_eq!(patient.timeline(TimelineFilter::default()).unwrap(), before, "nothing changes in the diary");
    patient.lock();

    assert!(matches!(Store::open(dir.path(), CARER, clock::system()), Err(Error::WrongPassphrase { .. })));
    let patient = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    let after = patient.timeline(TimelineFilter::default()).unwrap();
    assert_eq!(after, before, "all data intact");
    assert!(after.iter().any(|e| e.author.name == "Kari"), "what Kari wrote stays, labelled");
    assert!(patient.integrity_problems().unwrap().is_empty());
    patient.lock();

    // The kept slot still unwraps a data key, but the database was rekeyed away from it.
    let old = KeyFile::load_file(&kept).unwrap();
    let (_, ring) = old.unlock(SlotKind::Passphrase, CARER.as_bytes()).unwrap().unwrap();
    let keys = old.data_keys(&ring);
    assert_eq!(keys.len(), 1);
    let err = open_encrypted(&dir.path().join("companion.db"), keys[0].1, false).unwrap_err();
    assert!(matches!(err, Error::Damaged(_)), "{err:?}");
}

/// A diary with a carer, locked, and its key file as it stands.
fn locked_with_carer(dir: &Path) -> KeyFile {
    diary_with_carer(dir, &DEFAULT).lock();
    KeyFile::load(dir).unwrap()
}

/// The patient unlocks: every record is there, and the file holds one data key again.
fn unlocks_whole_with_one_data_key(dir: &Path) {
    let patient = Store::open(dir, PATIENT, clock::system()).unwrap();
    assert_eq!(patient.timeline(TimelineFilter::default()).unwrap().len(), 3);
    patient.lock();
    let finished = KeyFile::load(dir).unwrap();
    assert_eq!(finished.keys.iter().filter(|e| e.name.starts_with("data:")).count(), 1);
}

#[test]
fn an_interrupted_rotation_opens_with_either_key_and_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let before_removal = locked_with_carer(dir.path());
    let mut patient = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    patient.remove_carer("Kari").unwrap();
    patient.lock();
    // As if the crash came after the rekey but before the old key left the file.
    let mut crashed = KeyFile::load(dir.path()).unwrap();
    let old = before_removal.keys.iter().find(|e| e.name.starts_with("data:")).unwrap().clone();
    crashed.keys.insert(0, old);
    crashed.save(dir.path()).unwrap();
    unlocks_whole_with_one_data_key(dir.path());
}

#[test]
fn a_rotation_interrupted_before_the_rekey_is_finished_at_the_next_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let before = locked_with_carer(dir.path());
    // As if the crash came after step 1 (the file holds a new data key) but before the rekey.
    let mut crashed = before.clone();
    let (_, ring) = crashed.unlock(SlotKind::Passphrase, PATIENT.as_bytes()).unwrap().unwrap();
    // Step 1 seals the new key for the patient and every carer who stays.
    let kari = companion_core::keyfile::names::shared(crashed.carers[0].person);
    crashed
        .put(
            &format!("data:{}", uuid::Uuid::new_v4()),
            &companion_core::crypto::SecretKey::random().unwrap(),
            &["patient", kari.as_str()],
            &ring,
        )
        .unwrap();
    crashed.save(dir.path()).unwrap();
    unlocks_whole_with_one_data_key(dir.path());
    // The old data key no longer opens the database: the rekey was done.
    let (_, old_ring) = before.unlock(SlotKind::Passphrase, CARER.as_bytes()).unwrap().unwrap();
    let old = before.data_keys(&old_ring);
    assert!(matches!(open_encrypted(&dir.path().join("companion.db"), old[0].1, false), Err(Error::Damaged(_))));
    assert!(Store::open(dir.path(), CARER, clock::system()).is_ok(), "the carer, still in the file, got the new key");
}

#[test]
fn adding_a_carer_checks_the_patients_passphrase_and_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Ada", PATIENT, clock::system()).unwrap();
    let field = |e: Error| match e {
        Error::Invalid(i) => (i.field, i.problem),
        other => panic!("{other:?}"),
    };
    assert!(matches!(store.add_carer("Kari", "daughter", CARER, &DEFAULT, "not my passphrase", None), Err(Error::WrongPassphrase { .. })));
    assert_eq!(field(store.add_carer("", "daughter", CARER, &DEFAULT, PATIENT, None).unwrap_err()).0, "name");
    assert_eq!(field(store.add_carer("Kari", " ", CARER, &DEFAULT, PATIENT, None).unwrap_err()), ("relationship", Problem::Required));
    assert_eq!(field(store.add_carer("Kari", "daughter", "short", &DEFAULT, PATIENT, None).unwrap_err()).0, "carer_passphrase");
    assert_eq!(field(store.add_carer("Kari", "daughter", PATIENT, &DEFAULT, PATIENT, None).unwrap_err()).0, "carer_passphrase");
    assert_eq!(field(store.add_carer("Kari", "daughter", CARER, &[], PATIENT, None).unwrap_err()), ("allow", Problem::Required));
    assert!(store.carers().unwrap().is_empty(), "nothing half-added");
    store.add_carer("Kari", "daughter", CARER, &DEFAULT, PATIENT, None).unwrap();
    assert_eq!(
        field(store.add_carer("kari", "niece", "a third passphrase", &DEFAULT, PATIENT, None).unwrap_err()),
        ("name", Problem::NotAllowed)
    );
    assert!(matches!(store.remove_carer("Nobody"), Err(Error::NotFound)));
}

#[test]
fn a_diary_from_before_carers_is_upgraded_when_the_first_carer_is_added() {
    let dir = tempfile::tempdir().unwrap();
    super::migrations::old_diary(dir.path(), companion_core::store::schema::LATEST);
    let mut patient = Store::open(dir.path(), super::migrations::PASS, clock::system()).unwrap();
    let before = patient.timeline(TimelineFilter::default()).unwrap();
    assert!(KeyFile::load(dir.path()).unwrap().is_legacy());
    let added = patient.add_carer("Kari", "daughter", CARER, &DEFAULT, super::migrations::PASS, None).unwrap();
    let code = added.new_recovery_code.expect("the old recovery code cannot be carried over");
    assert_eq!(patient.timeline(TimelineFilter::default()).unwrap(), before);
    patient.lock();

    let keys = KeyFile::load(dir.path()).unwrap();
    assert!(!keys.is_legacy());
    for row in raw_rows(dir.path(), &keys, super::migrations::PASS) {
        assert!(row.contains("\"sealed\""), "every record sealed after the upgrade");
    }
    let carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    assert!(!carer.timeline(TimelineFilter::default()).unwrap().is_empty());
    carer.lock();
    let recovered = Store::recover(dir.path(), &code, "a brand new passphrase", clock::system()).unwrap();
    assert_eq!(recovered.timeline(TimelineFilter::default()).unwrap(), before);
}

fn note(data: &EntryData) -> Option<String> {
    match data {
        EntryData::Symptom { note, .. } | EntryData::Checkin { note, .. } | EntryData::Temperature { note, .. } => note.clone(),
        _ => None,
    }
}

#[test]
fn where_patient_and_carer_rate_a_symptom_differently_is_shown_and_nothing_is_merged() {
    let dir = tempfile::tempdir().unwrap();
    let mut patient = diary_with_carer(dir.path(), &DEFAULT);
    let pain = |severity| NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity, ..Default::default() });
    patient.add(&pain(3)).unwrap();
    patient.lock();
    let mut carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    carer.add(&symptom(8, "KARI-SEES-TIRED")).unwrap();
    carer.add(&pain(4)).unwrap();
    carer.lock();

    let patient = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    let found = patient.disagreements().unwrap();
    assert_eq!(found.len(), 1, "fatigue 8 against 4 is shown; pain 4 against 3 is not");
    assert_eq!((found[0].difference, found[0].carer.author.name.as_str()), (4, "Kari"));
    assert!(matches!(found[0].patient.data, EntryData::Symptom { severity: 4, .. }));
    assert_eq!(found[0].patient.author.role, Role::Patient);
    // Both ratings stay as they were, each with its own author.
    assert_eq!(
        patient.timeline(TimelineFilter::default()).unwrap().iter().filter(|e| matches!(e.data, EntryData::Symptom { .. })).count(),
        4
    );
}

#[test]
fn the_visit_summary_keeps_patient_and_carer_apart_and_leaves_out_what_it_must() {
    let dir = tempfile::tempdir().unwrap();
    // Ada: fatigue 4 (set-up), check-in 3, PHQ-9 total 9 (set-up); Kari may not see check-ins.
    let mut patient = diary_with_carer(dir.path(), &DEFAULT);
    let ago = |days: i64| Some((chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339());
    let fatigue = |severity, days| {
        NewEntry::Symptom(NewSymptom { symptom: "fatigue".into(), severity, occurred_at: ago(days), ..Default::default() })
    };
    let temperature = |celsius, days| NewEntry::Temperature(NewTemperature { celsius, occurred_at: ago(days), ..Default::default() });
    patient.add(&fatigue(6, 3)).unwrap();
    patient.add(&fatigue(9, 20)).unwrap(); // before the period
    let wrong = patient.add(&fatigue(10, 1)).unwrap();
    patient.withdraw(wrong.id).unwrap(); // entered in error
    patient.add(&temperature(38.4, 2)).unwrap();
    patient.add(&temperature(37.1, 1)).unwrap();
    patient.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    let asked = patient.add(&NewEntry::Question(NewQuestion { text: "Is the rash normal?".into() })).unwrap();
    patient.set_question_state(asked.id, companion_core::QuestionState::Asked, None).unwrap();
    patient.lock();

    let mut carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    carer.add(&symptom(8, "KARI-SEES-TIRED")).unwrap();
    carer.add(&fatigue(7, 2)).unwrap();
    carer.add(&checkin(2, "KARI-OWN-MOOD")).unwrap(); // her own, private
    let seen_by_kari = carer.visit_summary(14).unwrap();
    carer.lock();

    let patient = Store::open(dir.path(), PATIENT, clock::system()).unwrap();
    let summary = patient.visit_summary(14).unwrap();
    let names: Vec<_> = summary.people.iter().map(|p| (p.person.name.as_str(), p.person.role)).collect();
    assert_eq!(names, [("Ada", Role::Patient), ("Kari", Role::Carer)], "the patient first, each person apart");
    let (ada, kari) = (&summary.people[0], &summary.people[1]);

    // Fatigue: Ada's 6 (3 days ago) and 4 (today); the 9 is older, the 10 was withdrawn.
    assert_eq!(ada.symptoms.len(), 1);
    let own = &ada.symptoms[0].series;
    assert_eq!((own.reports, own.peak, own.latest), (2, 6, 4));
    // Kari's 7 and 8 are hers alone, never folded into Ada's line.
    let hers = &kari.symptoms[0].series;
    assert_eq!((hers.reports, hers.peak, hers.latest), (2, 8, 8));
    let t = ada.temperature.as_ref().unwrap();
    assert_eq!((t.reports, t.peak, t.latest), (2, 38.4, 37.1), "the highest temperature is its peak");
    assert_eq!(ada.wellbeing.as_ref().map(|w| (w.reports, w.peak)), Some((1, 3)));
    assert_eq!(ada.checkins.len(), 1);
    assert_eq!((ada.checkins[0].instrument.as_str(), ada.checkins[0].latest.total), ("phq9", Some(9)));
    assert!(kari.wellbeing.is_none() && kari.checkins.is_empty(), "Kari's own check-in is private to her");
    assert!(kari.temperature.is_none());

    // Advice: every card shown in the period, the PHQ-9's crisis card and the fever among them.
    let levels: Vec<_> = summary.advice.iter().map(|a| a.level).collect();
    assert!(levels.contains(&companion_core::rules::Level::Crisis), "{levels:?}");
    assert!(!patient.advice_for(wrong.id).unwrap().is_empty(), "the withdrawn 10 raised advice");
    let shown = patient.advice_since(summary.since).unwrap();
    assert_eq!(summary.advice, shown, "all of it, newest first");
    // Withdrawing the 10 does not take back the advice it raised: it is listed, marked withdrawn.
    let of_wrong: Vec<_> = summary.advice.iter().filter(|a| a.entry_id == wrong.id).collect();
    assert!(!of_wrong.is_empty() && of_wrong.iter().all(|a| a.withdrawn), "{of_wrong:?}");
    assert!(summary.advice.iter().filter(|a| a.entry_id != wrong.id).all(|a| !a.withdrawn));
    let texts: Vec<_> = summary
        .questions
        .iter()
        .map(|q| match &q.data {
            EntryData::Question { text, .. } => text.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(texts, ["Can I travel?"], "only the questions still to ask");
    assert_eq!(summary.seen_differently.len(), 1, "Kari's 8 against Ada's 4");

    // Kari's own view has no check-ins of Ada's, no advice about them, and not her own private one.
    assert!(seen_by_kari.people.iter().all(|p| p.checkins.is_empty() && p.wellbeing.is_none()));
    assert!(seen_by_kari.advice.iter().all(|a| a.level != companion_core::rules::Level::Crisis));
    assert_eq!(seen_by_kari.people.len(), 2);

    assert!(matches!(patient.visit_summary(0), Err(Error::Invalid(ref i)) if i.field == "days"));
    assert!(matches!(patient.visit_summary(366), Err(Error::Invalid(ref i)) if i.field == "days"));
}

#[test]
fn a_carer_given_days_is_refused_after_them_and_removed_at_the_patients_next_unlock() {
    use super::advice::ManualClock;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let start = chrono::Utc::now();
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let (mut store, _) = Store::create(dir.path(), "Ada", PATIENT, clock.clone()).unwrap();
    for days in [0, 3651] {
        let err = store.add_carer("Kari", "daughter", CARER, &DEFAULT, PATIENT, Some(days)).unwrap_err();
        assert!(matches!(err, Error::Invalid(ref i) if i.field == "days"), "{err:?}");
    }
    assert!(store.carers().unwrap().is_empty(), "nothing half-added");
    let added = store.add_carer("Kari", "daughter", CARER, &DEFAULT, PATIENT, Some(2)).unwrap();
    assert_eq!(added.carer.until, Some(start + chrono::Duration::days(2)));
    store.lock();

    // Within her time Kari works as herself.
    let mut kari = Store::open(dir.path(), CARER, clock.clone()).unwrap();
    kari.add(&symptom(6, "KARI-WITHIN-HER-TIME")).unwrap();
    kari.lock();
    let kept = dir.path().join("kept-keyslots.json");
    fs::copy(KeyFile::path(dir.path()), &kept).unwrap();

    // After it, her right passphrase opens nothing, and is not counted as a wrong one.
    *clock.0.lock().unwrap() = start + chrono::Duration::days(2) + chrono::Duration::minutes(1);
    assert!(matches!(Store::open(dir.path(), CARER, clock.clone()), Err(Error::AccessEnded)));
    assert_eq!(KeyFile::load(dir.path()).unwrap().failed_attempts, 0);

    // Ada's next unlock removes her as if by hand: what she wrote stays, the data key moves on.
    let patient = Store::open(dir.path(), PATIENT, clock.clone()).unwrap();
    assert!(patient.carers().unwrap().is_empty());
    let hers = patient.timeline(TimelineFilter::default()).unwrap();
    assert!(hers.iter().any(|e| e.author.name == "Kari"), "what Kari wrote stays, labelled");
    patient.lock();
    assert!(matches!(Store::open(dir.path(), CARER, clock.clone()), Err(Error::WrongPassphrase { .. })));
    let old = KeyFile::load_file(&kept).unwrap();
    let (_, ring) = old.unlock(SlotKind::Passphrase, CARER.as_bytes()).unwrap().unwrap();
    let err = open_encrypted(&dir.path().join("companion.db"), old.data_keys(&ring)[0].1, false).unwrap_err();
    assert!(matches!(err, Error::Damaged(_)), "{err:?}");
}

#[test]
fn who_at_the_clinic_has_looked_is_the_patients_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut patient = diary_with_carer(dir.path(), &DEFAULT);
    let at = chrono::Utc::now();
    let seen = |who: &str, minutes: i64| companion_core::store::access::Access {
        at: at - chrono::Duration::minutes(minutes),
        who: who.into(),
        role: "nurse".into(),
        what: "read".into(),
    };
    // Kept newest first, whatever order the server sent.
    patient.set_access_log(vec![seen("Per", 30), seen("Kari", 5)]).unwrap();
    assert_eq!(patient.access_log().unwrap().iter().map(|a| a.who.as_str()).collect::<Vec<_>>(), ["Kari", "Per"]);
    drop(patient);
    let carer = Store::open(dir.path(), CARER, clock::system()).unwrap();
    assert!(matches!(carer.access_log(), Err(Error::NotPermitted)), "a carer on the patient's device does not see it");
}
