//! Damaged files: each is reported for what it is, and left exactly as it was found.

use companion_core::domain::NewSymptom;
use companion_core::keyfile::KeyFile;
use companion_core::store::TimelineFilter;
use companion_core::{clock, Error, ErrorCode, ErrorPayload, NewEntry, Store};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const PASS: &str = "correct horse battery";

fn symptom(i: i64) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity: i % 10, note: Some("n".repeat(1500)), ..Default::default() })
}

/// A locked diary with enough records to span many pages.
fn diary(dir: &Path) {
    let (mut store, _) = Store::create(dir, "Kari Nordmann", PASS, clock::system()).unwrap();
    for i in 0..200 {
        store.add(&symptom(i)).unwrap();
    }
    store.lock();
}

/// Every file in the folder, byte for byte.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap()))
        .collect()
}

fn open(dir: &Path) -> companion_core::Result<Store> {
    Store::open(dir, PASS, clock::system())
}

#[test]
fn an_empty_database_file_is_reported_and_never_recreated() {
    let dir = tempfile::tempdir().unwrap();
    diary(dir.path());
    fs::write(dir.path().join("companion.db"), b"").unwrap();
    let before = snapshot(dir.path());
    assert!(matches!(open(dir.path()), Err(Error::Corrupt)));
    assert!(matches!(Store::create(dir.path(), "Kari", PASS, clock::system()), Err(Error::AlreadyInitialised)));
    assert_eq!(snapshot(dir.path()), before, "every byte as found");
    let payload = ErrorPayload::from(Error::Corrupt);
    assert_eq!(payload.code, ErrorCode::Corrupt);
    assert!(payload.message.starts_with("the diary file is damaged"), "{}", payload.message);
}

#[test]
fn damage_inside_the_database_is_named_and_left_as_found() {
    let source = tempfile::tempdir().unwrap();
    diary(source.path());
    let len = fs::metadata(source.path().join("companion.db")).unwrap().len();
    let damages: [(&str, Damage); 4] = [
        ("a flipped byte in a middle page", Box::new(move |db: &Path| flip(db, len as usize / 2 + 100))),
        ("a flipped byte in the first page", Box::new(|db: &Path| flip(db, 200))),
        ("a file cut short by one page", Box::new(move |db: &Path| cut(db, len - 4096))),
        ("a file cut in half", Box::new(move |db: &Path| cut(db, len / 2))),
    ];
    for (what, damage) in damages {
        let dir = tempfile::tempdir().unwrap();
        for f in ["companion.db", "keyslots.json"] {
            fs::copy(source.path().join(f), dir.path().join(f)).unwrap();
        }
        damage(&dir.path().join("companion.db"));
        let before = snapshot(dir.path());
        let outcome = open(dir.path()).and_then(|mut s| {
            s.timeline(TimelineFilter::default())?;
            s.add(&symptom(1)).map(|_| ())
        });
        assert!(matches!(outcome, Err(Error::Corrupt)), "{what}: {outcome:?}");
        assert_eq!(snapshot(dir.path()), before, "{what}: left as found");
        let keys = KeyFile::load(dir.path()).unwrap();
        assert_eq!(keys.failed_attempts, 0, "{what}: the passphrase was right");
    }
}

/// Something that happens to a database file.
type Damage = Box<dyn Fn(&Path)>;

fn flip(db: &Path, at: usize) {
    let mut bytes = fs::read(db).unwrap();
    bytes[at] ^= 0x40;
    fs::write(db, bytes).unwrap();
}

fn cut(db: &Path, len: u64) {
    fs::OpenOptions::new().write(true).open(db).unwrap().set_len(len).unwrap();
}

/// A character of the patient's passphrase slot changed, as a disk or a sync tool might.
fn damage_passphrase_slot(dir: &Path) {
    let path = dir.join("keyslots.json");
    let mut file: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let slot = file["slots"].as_array_mut().unwrap().iter_mut().find(|s| s["kind"] == "passphrase").unwrap();
    let sealed = slot["sealed"].as_str().unwrap().to_owned();
    let swapped = if sealed.starts_with('A') { sealed.replacen('A', "B", 1) } else { format!("A{}", &sealed[1..]) };
    slot["sealed"] = swapped.into();
    fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
}

#[test]
fn a_damaged_passphrase_slot_is_not_a_wrong_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (store, code) = Store::create(dir.path(), "Kari Nordmann", PASS, clock::system()).unwrap();
    store.lock();
    damage_passphrase_slot(dir.path());
    for _ in 0..5 {
        assert!(matches!(open(dir.path()), Err(Error::KeysDamaged)));
    }
    assert_eq!(KeyFile::load(dir.path()).unwrap().failed_attempts, 0, "no attempt counted");
    assert_eq!(ErrorPayload::from(Error::KeysDamaged).code, ErrorCode::KeysDamaged);
    // The recovery code's slot is whole: it opens, and sets a new passphrase slot.
    Store::recover(dir.path(), &code, "a new passphrase", clock::system()).unwrap().lock();
    Store::open(dir.path(), "a new passphrase", clock::system()).unwrap();
}

#[test]
fn a_key_file_from_before_checksums_still_counts_wrong_passphrases_and_gains_them() {
    let dir = tempfile::tempdir().unwrap();
    Store::create(dir.path(), "Kari Nordmann", PASS, clock::system()).unwrap().0.lock();
    let path = dir.path().join("keyslots.json");
    let mut file: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    for slot in file["slots"].as_array_mut().unwrap() {
        slot.as_object_mut().unwrap().remove("check").expect("slots carry a checksum");
    }
    fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    assert!(matches!(open_with(dir.path(), "not the passphrase"), Err(Error::WrongPassphrase { .. })));
    assert_eq!(KeyFile::load(dir.path()).unwrap().failed_attempts, 1);
    open(dir.path()).unwrap().lock();
    assert!(KeyFile::load(dir.path()).unwrap().slots.iter().all(|s| s.check.is_some()), "checksums added on unlock");
}

fn open_with(dir: &Path, pass: &str) -> companion_core::Result<Store> {
    Store::open(dir, pass, clock::system())
}

#[test]
fn a_wrong_passphrase_is_still_a_wrong_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    Store::create(dir.path(), "Kari Nordmann", PASS, clock::system()).unwrap().0.lock();
    assert!(matches!(open_with(dir.path(), "not the passphrase"), Err(Error::WrongPassphrase { .. })));
    assert_eq!(KeyFile::load(dir.path()).unwrap().failed_attempts, 1);
}

/// With a patient and a carer on one device, the carer's slot damaged: the patient's wrong
/// passphrases still count (a damaged slot never lifts the delay for the whole ones), the file
/// is still said to be damaged, and a later save does not hide the damage.
#[test]
fn a_damaged_slot_beside_whole_ones_keeps_the_delay_and_stays_damaged() {
    use companion_core::domain::Scope;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Kari Nordmann", PASS, clock::system()).unwrap();
    store.add_carer("Ola Nordmann", "son", "ola's own passphrase", &[Scope::Symptoms], PASS, None).unwrap();
    store.lock();
    let path = dir.path().join("keyslots.json");
    let mut file: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let carer = file["slots"].as_array_mut().unwrap().iter_mut().filter(|s| s["kind"] == "passphrase").nth(1).unwrap();
    let sealed = carer["sealed"].as_str().unwrap().to_owned();
    carer["sealed"] = format!("{}{}", if sealed.starts_with('A') { 'B' } else { 'A' }, &sealed[1..]).into();
    fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();

    assert!(matches!(open_with(dir.path(), "not the passphrase"), Err(Error::KeysDamaged)));
    assert_eq!(KeyFile::load(dir.path()).unwrap().failed_attempts, 1, "counted: the patient's slot is whole");
    let mut store = open(dir.path()).unwrap();
    store.change_passphrase(PASS, "another passphrase").unwrap();
    store.lock();
    let keys = KeyFile::load(dir.path()).unwrap();
    assert_eq!(keys.slots.iter().filter(|s| s.is_damaged()).count(), 1, "saving again does not hide the damage");
}
