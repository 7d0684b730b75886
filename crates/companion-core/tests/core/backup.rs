//! The patient's own backup: it restores exactly, opens with the same passphrases, is refused
//! whole when damaged, and never overwrites a diary.

use companion_core::domain::{NewQuestion, NewSymptom, NewTemperature, Scope};
use companion_core::store::{backup, SyncLink, TimelineFilter};
use companion_core::{clock, Error, NewEntry, Store};
use std::fs;
use std::path::Path;

const PASS: &str = "correct horse battery";
const CARER: &str = "ola's own passphrase";

fn symptom(severity: i64) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity, note: Some("left hip".into()), ..Default::default() })
}

/// Everything a person or the sync sees of a diary, comparable.
fn everything(store: &Store) -> serde_json::Value {
    let timeline = store.timeline(TimelineFilter::default()).unwrap();
    let histories: Vec<_> = timeline.iter().map(|e| store.history(e.id).unwrap()).collect();
    serde_json::json!({
        "me": store.me(), "patient": store.patient().unwrap(), "store": store.store_id(), "device": store.device_id(),
        "timeline": timeline, "histories": histories,
        "advice": store.advice_shown(365).unwrap(),
        "outbox": store.outbox_counts().unwrap(), "refused": store.quarantined().unwrap(),
        "link": store.sync_link().unwrap().map(|l| (l.server, l.token, l.cursor)),
        "carers": store.carers().unwrap(),
    })
}

/// A diary with some of everything: records corrected and withdrawn, advice, a carer's entry,
/// a link to a clinic and records waiting to be sent.
fn diary(dir: &Path) -> (serde_json::Value, String) {
    let (mut store, code) = Store::create(dir, "Kari Nordmann", PASS, clock::system()).unwrap();
    store.add_carer("Ola Nordmann", "son", CARER, &[Scope::Symptoms, Scope::Observations], PASS, None).unwrap();
    store
        .set_sync_link(&SyncLink {
            server: "https://clinic.example".into(),
            token: "d_token".into(),
            patient: "p".into(),
            device: uuid::Uuid::new_v4().to_string(),
            epoch: "e".into(),
            cursor: 7,
            last_success: None,
            problem: None,
            ca: None,
            clinic_key: None,
        })
        .unwrap();
    let first = store.add(&symptom(3)).unwrap();
    store.correct(first.id, &symptom(5)).unwrap();
    let gone = store.add(&symptom(2)).unwrap();
    store.withdraw(gone.id).unwrap();
    let fever = store.save(&NewEntry::Temperature(NewTemperature { celsius: 38.6, ..Default::default() })).unwrap();
    store.acknowledge_advice(&[fever.advice[0].id]).unwrap();
    store.add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    store.lock();
    let mut carer = Store::open(dir, CARER, clock::system()).unwrap();
    carer.add(&symptom(6)).unwrap();
    carer.lock();
    let store = Store::open(dir, PASS, clock::system()).unwrap();
    (everything(&store), code.to_string())
}

#[test]
fn a_backup_restores_exactly_and_opens_with_the_same_passphrases() {
    let (source, target, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (before, code) = diary(source.path());
    let file = files.path().join("kari.companion-backup");
    let info = Store::open(source.path(), PASS, clock::system()).unwrap().backup_to(&file).unwrap();
    assert_eq!(info.records, 5);
    assert_eq!(backup::inspect(&file).unwrap().created_at, info.created_at);
    let bytes = fs::read(&file).unwrap();
    for secret in [&b"left hip"[..], b"Kari Nordmann", b"Can I travel", b"d_token"] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret), "the backup is encrypted");
    }
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&file).unwrap().permissions()) & 0o777, 0o600);

    let restored = backup::restore(&file, &target.path().join("diary"), PASS, clock::system()).unwrap();
    let mut after = everything(&restored);
    assert_ne!(after["device"], before["device"], "the restored diary is a device of its own");
    after["device"] = before["device"].clone();
    assert_eq!(after, before, "ids, versions, authors, advice, outbox and link as they were");
    assert!(restored.integrity_problems().unwrap().is_empty());
    restored.lock();
    let dir = target.path().join("diary");
    assert!(!dir.join("companion.db.init").exists());
    // The carer's passphrase and the patient's recovery code open it as they opened the diary.
    assert_eq!(Store::open(&dir, CARER, clock::system()).unwrap().me().name, "Ola Nordmann");
    Store::recover(&dir, &code, "a new passphrase", clock::system()).unwrap();
}

#[test]
fn a_damaged_backup_is_refused_whole_and_leaves_nothing() {
    let (source, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    diary(source.path());
    let file = files.path().join("b.companion-backup");
    Store::open(source.path(), PASS, clock::system()).unwrap().backup_to(&file).unwrap();
    let good = fs::read(&file).unwrap();
    let n = good.len();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("cut short", good[..n - 4096].to_vec()),
        ("cut to the header", good[..200].to_vec()),
        ("empty", Vec::new()),
        ("not a backup", b"{\"hello\": 1}".to_vec()),
    ];
    for (what, at) in [("a byte in the header", 60), ("a byte in the database", n / 2), ("a byte in the checksum", n - 3)] {
        let mut b = good.clone();
        b[at] ^= 0x01;
        cases.push((what, b));
    }
    for (what, bytes) in cases {
        let damaged = files.path().join("damaged.companion-backup");
        fs::write(&damaged, &bytes).unwrap();
        let target = tempfile::tempdir().unwrap();
        let result = backup::restore(&damaged, target.path(), PASS, clock::system());
        assert!(matches!(result, Err(Error::BackupDamaged)), "{what}: {result:?}");
        assert_eq!(fs::read_dir(target.path()).unwrap().count(), 0, "{what}: nothing restored");
    }
    // A wrong passphrase restores nothing either, and costs no attempt anywhere.
    let target = tempfile::tempdir().unwrap();
    assert!(matches!(backup::restore(&file, target.path(), "not the passphrase", clock::system()), Err(Error::WrongPassphrase { .. })));
    assert_eq!(fs::read_dir(target.path()).unwrap().count(), 0);
}

#[test]
fn restoring_never_overwrites_a_diary_and_a_backup_never_overwrites_a_file() {
    let (source, other, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    diary(source.path());
    let file = files.path().join("b.companion-backup");
    let store = Store::open(source.path(), PASS, clock::system()).unwrap();
    store.backup_to(&file).unwrap();
    assert!(matches!(store.backup_to(&file), Err(Error::Invalid(i)) if i.field == "to"), "an existing file is kept");
    drop(store);
    Store::create(other.path(), "Someone Else", PASS, clock::system()).unwrap().0.lock();
    let snapshot = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().to_string_lossy().into(), fs::read(e.path()).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = snapshot(other.path());
    assert!(matches!(backup::restore(&file, other.path(), PASS, clock::system()), Err(Error::AlreadyInitialised)));
    assert_eq!(snapshot(other.path()), before, "the diary there is untouched");
}

#[test]
fn only_the_diarys_owner_makes_a_backup() {
    let (source, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    diary(source.path());
    let carer = Store::open(source.path(), CARER, clock::system()).unwrap();
    assert!(matches!(carer.backup_to(&files.path().join("b.companion-backup")), Err(Error::NotPermitted)));
}

#[test]
fn a_diary_that_will_not_open_is_set_aside_whole_and_a_backup_takes_its_place() {
    let (dir, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (before, _) = diary(dir.path());
    let file = files.path().join("b.companion-backup");
    Store::open(dir.path(), PASS, clock::system()).unwrap().backup_to(&file).unwrap();
    fs::write(dir.path().join("companion.db"), b"").unwrap();
    let keys = fs::read(dir.path().join("keyslots.json")).unwrap();
    assert!(matches!(Store::open(dir.path(), PASS, clock::system()), Err(Error::Corrupt)));
    assert!(matches!(backup::restore(&file, dir.path(), PASS, clock::system()), Err(Error::AlreadyInitialised)));

    let aside = backup::set_aside(dir.path(), chrono::Utc::now()).unwrap();
    assert_eq!(fs::read(aside.join("keyslots.json")).unwrap(), keys, "kept byte for byte");
    assert_eq!(fs::read(aside.join("companion.db")).unwrap(), b"");
    let restored = backup::restore(&file, dir.path(), PASS, clock::system()).unwrap();
    assert_eq!(everything(&restored)["timeline"], before["timeline"]);
    drop(restored);
    assert!(aside.join("keyslots.json").exists(), "the damaged diary is still there");
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(backup::set_aside(empty.path(), chrono::Utc::now()), Err(Error::NotInitialised)));
    assert_eq!(fs::read_dir(empty.path()).unwrap().count(), 0);
}
