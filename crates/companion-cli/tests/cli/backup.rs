//! `companion backup`: the patient's own copy, restored into an empty folder only, refused whole
//! when damaged.

use super::{assert_ok, PASS};
use std::path::Path;

#[test]
fn a_backup_restores_into_an_empty_folder_and_a_damaged_one_is_refused() {
    let diary = super::Diary::new();
    for severity in ["2", "4"] {
        assert_ok(&diary.run(&["symptom", "add", "--symptom", "pain", "--severity", severity]));
    }
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("kari.companion-backup");
    let made = diary.run(&["backup", "create", "--to", file.to_str().unwrap()]);
    assert_ok(&made);
    assert!(String::from_utf8_lossy(&made.stdout).starts_with("Backup of 2 records written to"));
    let again = super::one_line_error(&diary.run(&["backup", "create", "--to", file.to_str().unwrap()]));
    assert!(again.contains("--to"), "an existing file is never overwritten: {again}");

    let target = tempfile::tempdir().unwrap();
    let restore = |dir: &Path, from: &Path| {
        super::companion(dir).env("COMPANION_PASSPHRASE", PASS).args(["backup", "restore", "--from"]).arg(from).output().unwrap()
    };
    assert_ok(&restore(target.path(), &file));
    let list = |dir: &Path| super::companion(dir).env("COMPANION_PASSPHRASE", PASS).args(["list", "--json"]).output().unwrap().stdout;
    assert_eq!(list(target.path()), list(diary.path()), "the same records, ids and all");

    let nowhere = tempfile::tempdir().unwrap();
    let missing = super::one_line_error(&restore(nowhere.path(), &files.path().join("no-such.companion-backup")));
    assert!(missing.starts_with("companion: --from: there is no file at"), "{missing}");
    // Into a diary: refused, the diary untouched.
    let err = super::one_line_error(&restore(diary.path(), &file));
    assert!(err.contains("already exists"), "{err}");
    // Damaged: refused whole, nothing written.
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    let damaged = files.path().join("damaged.companion-backup");
    std::fs::write(&damaged, bytes).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let err = super::one_line_error(&restore(empty.path(), &damaged));
    assert_eq!(err, "companion: the backup file is damaged or is not a Companion backup; nothing was restored");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);

    // A diary that will not open is set aside, whole, and the backup restored in its place.
    std::fs::write(diary.path().join("companion.db"), b"").unwrap();
    assert!(super::one_line_error(&diary.run(&["list"])).contains("damaged"));
    let aside = diary.run(&["backup", "set-aside"]);
    assert_ok(&aside);
    assert!(String::from_utf8_lossy(&aside.stdout).contains("set-aside-"));
    assert_ok(&restore(diary.path(), &file));
    assert_eq!(list(diary.path()), list(target.path()));
}
