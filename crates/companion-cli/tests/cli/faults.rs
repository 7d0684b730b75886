//! What the device refuses, said for what it is: a full disk, a folder that became read-only, a
//! file-size limit. Each runs the real binary on a small file system of its own (tmpfs in a
//! user and mount namespace, so no privileges are needed), and checks that what was saved
//! before is all still there once the cause is gone.

use super::{assert_ok, PASS};
use std::path::Path;
use std::process::Command;

/// Runs `script` with `$DIR` a fresh tmpfs of `size`, `$OUT` a folder outside it, `$BIN` the
/// binary and the passphrase in the environment; returns the script's standard error.
fn on_small_disk(size: &str, script: &str) -> (std::process::ExitStatus, String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let mount = tempfile::tempdir().unwrap();
    let full = format!("mount -t tmpfs -o size={size},mode=0700 tmpfs \"$DIR\" || exit 97\nset -u\n{script}");
    let result = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &full])
        .env("DIR", mount.path())
        .env("OUT", out.path())
        .env("BIN", env!("CARGO_BIN_EXE_companion"))
        .env("COMPANION_PASSPHRASE", PASS)
        .output()
        .expect("unshare (util-linux) runs");
    assert_ne!(
        result.status.code(),
        Some(97),
        "this test needs user namespaces to mount a small file system: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    (result.status, String::from_utf8_lossy(&result.stderr).into_owned(), out)
}

const SETUP: &str = r#"
"$BIN" --data-dir "$DIR/diary" init --name "Kari Nordmann" > /dev/null || exit 90
for i in 1 2 3; do
  "$BIN" --data-dir "$DIR/diary" symptom add --symptom pain --severity "$i" --note "entry $i" > /dev/null || exit 91
done
"#;

fn count(out: &Path) -> usize {
    let list: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("list.json")).unwrap()).unwrap();
    list.as_array().unwrap().len()
}

#[test]
fn a_full_disk_is_named_and_nothing_saved_before_is_lost() {
    let script = format!(
        r#"{SETUP}
dd if=/dev/zero of="$DIR/filler" bs=4096 2> /dev/null
"$BIN" --data-dir "$DIR/diary" symptom add --symptom pain --severity 5 --note "{}" 2> "$OUT/err" && exit 92
rm "$DIR/filler"
"$BIN" --data-dir "$DIR/diary" list --json > "$OUT/list.json" || exit 93
"#,
        "n".repeat(1500)
    );
    let (status, stderr, out) = on_small_disk("4m", &script);
    assert!(status.success(), "{status}: {stderr}");
    let err = std::fs::read_to_string(out.path().join("err")).unwrap();
    assert_eq!(err.trim(), "companion: there is no room left on this device", "{err}");
    assert_eq!(count(out.path()), 3, "the three saved before are there, and no half of the fourth");
}

#[test]
fn a_read_only_folder_is_named() {
    let script = format!(
        r#"{SETUP}
mount -o remount,ro "$DIR" || exit 94
"$BIN" --data-dir "$DIR/diary" symptom add --symptom pain --severity 5 2> "$OUT/err" && exit 92
mount -o remount,rw "$DIR" || exit 95
"$BIN" --data-dir "$DIR/diary" list --json > "$OUT/list.json" || exit 93
"#
    );
    let (status, stderr, out) = on_small_disk("8m", &script);
    assert!(status.success(), "{status}: {stderr}");
    let err = std::fs::read_to_string(out.path().join("err")).unwrap();
    assert_eq!(err.trim(), "companion: Companion cannot write to its folder", "{err}");
    assert_eq!(count(out.path()), 3);
}

#[test]
fn a_file_size_limit_is_named() {
    // `ulimit -f` counts 512-byte blocks in sh; SIGXFSZ is ignored, as a shell or a service
    // manager may set it, so the write fails with EFBIG instead of killing the process.
    let script = format!(
        r#"{SETUP}
trap '' XFSZ
i=0
while [ $i -lt 200 ]; do
  ( ulimit -f 256; exec "$BIN" --data-dir "$DIR/diary" symptom add --symptom pain --severity 5 --note "{}" ) > /dev/null 2> "$OUT/err" || break
  i=$((i + 1))
done
[ $i -lt 200 ] || exit 96
echo "$i" > "$OUT/saved"
"$BIN" --data-dir "$DIR/diary" list --json > "$OUT/list.json" || exit 93
"#,
        "n".repeat(1500)
    );
    let (status, stderr, out) = on_small_disk("16m", &script);
    assert!(status.success(), "{status}: {stderr}");
    let err = std::fs::read_to_string(out.path().join("err")).unwrap();
    assert_eq!(err.trim(), "companion: the diary file has reached the largest file size this system allows", "{err}");
    let saved: usize = std::fs::read_to_string(out.path().join("saved")).unwrap().trim().parse().unwrap();
    assert_eq!(count(out.path()), 3 + saved, "every save that said it worked is there");
}

#[test]
fn a_damaged_diary_file_is_named_and_left_as_found() {
    let diary = super::Diary::new();
    assert_ok(&diary.run(&["symptom", "add", "--symptom", "pain", "--severity", "3"]));
    let db = diary.path().join("companion.db");
    std::fs::write(&db, b"").unwrap();
    let err = super::one_line_error(&diary.run(&["list"]));
    assert!(err.starts_with("companion: the diary file is damaged; restore a backup"), "{err}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "not recreated");
}
