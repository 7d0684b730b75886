//! SQLCipher's own logging stays off: opening with a wrong key, a wrong passphrase or a damaged
//! file puts nothing on standard error. The attempts run in a child process (this test binary
//! again) so its standard error can be read whole.

use companion_core::crypto::SecretKey;
use companion_core::store::open_encrypted;
use companion_core::{clock, Error, Store};
use std::path::Path;
use std::process::Command;

const PASS: &str = "correct horse battery";
const CHILD_DIR: &str = "COMPANION_TEST_STDERR_DIR";

/// The child: the test below, run again by itself with `CHILD_DIR` set (so there is no
/// separate test that could pass without its parent), opens the diary in ways that fail.
fn failing_opens(dir: &Path) {
    // The wrong data key reaches SQLCipher itself (a wrong passphrase stops at the key slot).
    let wrong = SecretKey::random().unwrap();
    assert!(matches!(open_encrypted(&dir.join("companion.db"), &wrong, false), Err(Error::Damaged(_))));
    assert!(matches!(Store::open(dir, "not the passphrase", clock::system()), Err(Error::WrongPassphrase { .. })));
    // A file that is not a database at all.
    std::fs::write(dir.join("garbage.db"), vec![0x5a; 8192]).unwrap();
    assert!(open_encrypted(&dir.join("garbage.db"), &wrong, false).is_err());
    println!("child done");
}

#[test]
fn nothing_reaches_standard_error() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        return failing_opens(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Kari", PASS, clock::system()).unwrap();
    store.add(&companion_core::NewEntry::Question(companion_core::domain::NewQuestion { text: "Q".into() })).unwrap();
    store.lock();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stderr::nothing_reaches_standard_error", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("child done"), "child failed: {stdout}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "something was written to standard error");
}
