//! Schema migrations from every earlier version: a diary written by any earlier schema opens
//! with this build, is migrated in place, and keeps every record.

use companion_core::crypto::SecretKey;
use companion_core::keyfile::{KeyFile, Slot, SlotKind};
use companion_core::store::{open_encrypted, schema, TimelineFilter};
use companion_core::{clock, EntryData, RecordStatus, Store};
use std::path::Path;
use uuid::Uuid;

pub const PASS: &str = "correct horse battery";
const STORE_ID: &str = "11111111-1111-4111-8111-111111111111";
const PATIENT_ID: &str = "33333333-3333-4333-8333-333333333333";

/// What each schema added to the diary; a diary at version N holds fixtures 1..=N.
fn fixture(version: u32) -> &'static str {
    match version {
        1 => include_str!("fixtures/schema-1.sql"),
        2 => include_str!("fixtures/schema-2.sql"),
        3 => include_str!("fixtures/schema-3.sql"),
        4 => include_str!("fixtures/schema-4.sql"),
        5 => include_str!("fixtures/schema-5.sql"),
        6 => include_str!("fixtures/schema-6.sql"),
        7 => include_str!("fixtures/schema-7.sql"),
        v => panic!("schema {v} has no fixture: add tests/core/fixtures/schema-{v}.sql when adding migration {v}"),
    }
}

/// Records in a diary written at `version`.
fn records(version: u32) -> usize {
    if version >= 2 {
        6
    } else {
        4
    }
}

/// Writes an old diary into `dir`: the database at `version` with its fixture, and a key file
/// whose passphrase slot opens it.
pub fn old_diary(dir: &Path, version: u32) {
    let key = SecretKey::random().unwrap();
    let mut conn = open_encrypted(&dir.join("companion.db"), &key, true).unwrap();
    // Each fixture is written at its own schema, as the build of that schema wrote its rows.
    for v in 1..=version {
        schema::migrate_to(&mut conn, v).unwrap();
        conn.execute_batch(&format!("BEGIN; {} COMMIT;", fixture(v))).unwrap();
    }
    assert_eq!(schema::version(&conn).unwrap(), version);
    drop(conn);
    let store_id = Uuid::parse_str(STORE_ID).unwrap();
    // A key file as builds before carers wrote it (format 1: the slot wraps the data key).
    let mut keys = KeyFile::legacy(store_id);
    let person = Uuid::parse_str(PATIENT_ID).unwrap();
    keys.slots.push(Slot::new(store_id, SlotKind::Passphrase, person, "", &key, PASS.as_bytes(), chrono::Utc::now()).unwrap());
    keys.save(dir).unwrap();
}

#[test]
fn every_earlier_schema_opens_migrated_with_all_its_records() {
    for version in 1..=schema::LATEST {
        let dir = tempfile::tempdir().unwrap();
        old_diary(dir.path(), version);
        let mut store = Store::open(dir.path(), PASS, clock::system()).unwrap();
        assert!(store.integrity_problems().unwrap().is_empty(), "schema {version}");

        let all = store.timeline(TimelineFilter::default()).unwrap();
        assert_eq!(all.len(), records(version), "schema {version}");
        let pain = all.iter().find(|e| matches!(e.data, EntryData::Symptom { .. })).unwrap();
        assert_eq!((pain.version, pain.status), (2, RecordStatus::Amended));
        assert!(matches!(pain.data, EntryData::Symptom { severity: 6, .. }));
        assert_eq!(store.history(pain.id).unwrap().len(), 2);
        let temp = all.iter().find(|e| matches!(e.data, EntryData::Temperature { .. })).unwrap();
        assert_eq!(temp.status, RecordStatus::EnteredInError);
        assert_eq!(store.me().name, "Kari Nordmann");
        assert_eq!(store.next_visit().unwrap().unwrap().to_string(), "2026-02-01");

        // And it takes new writes at the latest schema.
        let q = store.questions().unwrap();
        assert_eq!(q.len(), 1);
        store.add(&companion_core::NewEntry::Question(companion_core::domain::NewQuestion { text: "New one".into() })).unwrap();
        let temp = temp.clone();
        store.lock();
        let store = Store::open(dir.path(), PASS, clock::system()).unwrap();
        assert_eq!(store.timeline(TimelineFilter::default()).unwrap().len(), records(version) + 1);
        let (pending, quarantined) = store.outbox_counts().unwrap();
        if version < 3 {
            // Migrating to schema 3 queued the whole diary (records and advice) for the clinic.
            let advice = if version >= 2 { 1 } else { 0 };
            assert_eq!((pending, quarantined), ((records(version) + advice + 1) as i64, 0), "schema {version}");
        } else {
            // The new question, and the PHQ-9 answered on the 1.0.0 form, queued again by
            // migration 5 so the clinic gets its difficulty answer with the right code.
            assert_eq!((pending, quarantined), (2, 1), "schema {version}");
            let link = store.sync_link().unwrap().unwrap();
            // Migration 6 sends the cursor back, so what the clinic sent is judged again by the
            // server's stamp at the next sync; until then the unstamped appointment of schema 3
            // is not shown as the clinic's, and the stamped one of schema 6 is.
            assert_eq!((link.cursor, link.epoch.as_str()), (0, "e1"));
            let appointments: Vec<String> =
                store.remote("Appointment").unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
            assert_eq!(appointments, if version >= 6 { vec!["visit-6".to_owned()] } else { vec![] }, "schema {version}");
            assert_eq!(store.quarantined().unwrap()[0].status, Some(422));
        }
        if version >= 4 {
            let q = Uuid::parse_str("44444444-4444-4444-8444-000000000004").unwrap();
            assert_eq!(store.server_version(q).unwrap(), Some(2));
            assert!(store.field_clocks(q).unwrap().contains_key("text"));
        }
        if version >= 5 {
            let advice = store.advice_for(temp.id).unwrap();
            assert_eq!(advice[0].acknowledged_by.as_ref().map(|p| p.name.as_str()), Some("Kari Nordmann"));
            assert_eq!(advice[0].acknowledgements.len(), 1);
            // Schema 7: when it was sent, and the clinic's receipt it had pulled.
            let r = &advice[0].receipt;
            if version >= 7 {
                assert!(r.sent_at.is_some() && r.received_at.is_some() && r.closed_at.is_some(), "{r:?}");
                assert_eq!((r.taken_by.as_deref(), r.outcome.as_deref()), (Some("Kari Nurse"), Some("called")));
            } else {
                assert_eq!(r, &companion_core::store::receipts::Receipt::default(), "nothing claimed for advice from before");
            }
        }
        if version >= 2 {
            // The PHQ-9 answered on the 1.0.0 form reads as the person chose: "Very difficult"
            // with LOINC's code for it, never rewritten on disk.
            let phq = store.assessments("phq9").unwrap();
            let EntryData::Assessment { answers, score, .. } = &phq[0].data else { unreachable!() };
            let difficulty = answers.iter().find(|a| a.link_id == "phq9-difficulty").unwrap();
            assert!(matches!(&difficulty.value, companion_core::instruments::AnswerValue::Coding { code, .. } if code == "LA6575-0"));
            assert_eq!(score.item("phq9-9"), Some(1));
        }
        if version >= 2 {
            let advice = store.advice_for(temp.id).unwrap();
            assert_eq!((advice[0].rule.as_str(), advice[0].level), ("fever", companion_core::rules::Level::CallNow));
            assert!(advice[0].problems.is_empty(), "advice from before schema 5 names no problems");
            assert!(advice[0].withdrawn, "the fixture's temperature was withdrawn; its advice is still listed");
            assert_eq!(store.schedules().unwrap()[0].instrument, "esas-r");
            let phq2 = store.assessments("phq2").unwrap();
            assert!(matches!(&phq2[0].data, EntryData::Assessment { score, .. } if score.positive == Some(true)));
        }
    }
}

/// Schema text of a database, for comparing how it was reached.
fn schema_sql(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn stepwise_migration_from_any_version_equals_a_fresh_schema() {
    let fresh_dir = tempfile::tempdir().unwrap();
    let key = SecretKey::random().unwrap();
    let mut fresh = open_encrypted(&fresh_dir.path().join("db"), &key, true).unwrap();
    schema::migrate(&mut fresh).unwrap();
    let expected = schema_sql(&fresh);
    for start in 0..=schema::LATEST {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_encrypted(&dir.path().join("db"), &key, true).unwrap();
        schema::migrate_to(&mut conn, start).unwrap();
        schema::migrate(&mut conn).unwrap();
        assert_eq!(schema::version(&conn).unwrap(), schema::LATEST);
        assert_eq!(schema_sql(&conn), expected, "from schema {start}");
    }
}

#[test]
fn a_diary_from_a_newer_build_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    old_diary(dir.path(), schema::LATEST);
    {
        let key_dir = dir.path();
        // Pretend a newer build wrote it: bump user_version through a fresh unlock of the raw file.
        let keys = KeyFile::load(key_dir).unwrap();
        let key = keys.slots[0].open(keys.store_id, PASS.as_bytes()).unwrap().unwrap();
        let conn = open_encrypted(&key_dir.join("companion.db"), &key, false).unwrap();
        conn.pragma_update(None, "user_version", schema::LATEST + 1).unwrap();
    }
    let before = std::fs::read(dir.path().join("companion.db")).unwrap();
    let err = Store::open(dir.path(), PASS, clock::system()).unwrap_err();
    assert!(matches!(err, companion_core::Error::TooNew), "{err:?}");
    assert_eq!(std::fs::read(dir.path().join("companion.db")).unwrap(), before);
}
