//! A process killed with SIGKILL in the middle of a burst of writes loses nothing it reported as
//! saved, and leaves a database that passes the integrity check. The writer is this same test
//! binary, started again as a child running the ignored `crash::writer` test.

use companion_core::domain::NewSymptom;
use companion_core::store::TimelineFilter;
use companion_core::{clock, NewEntry, Store};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use uuid::Uuid;

const PASS: &str = "correct horse battery";
const WRITER_DIR: &str = "COMPANION_TEST_CRASH_WRITER_DIR";

fn symptom(i: i64) -> NewEntry {
    NewEntry::Symptom(NewSymptom { symptom: "pain".into(), severity: i % 11, note: Some(format!("burst write {i}")), ..Default::default() })
}

/// The child: writes as fast as it can and prints `id version` after each write returns, until
/// it is killed. It is the test below, run again by itself with `WRITER_DIR` set, so there is no
/// separate test that could pass without its parent.
fn writer(dir: &Path) -> ! {
    let mut store = Store::open(dir, PASS, clock::system()).unwrap();
    let mut out = std::io::stdout().lock();
    let mut last = None;
    for i in 0.. {
        // Every fifth action corrects the previous entry: a second kind of transaction.
        let entry = match last {
            Some(id) if i % 5 == 0 => store.correct(id, &symptom(i)).unwrap().entry,
            _ => store.add(&symptom(i)).unwrap(),
        };
        last = Some(entry.id);
        writeln!(out, "saved {} {}", entry.id, entry.version).unwrap();
        out.flush().unwrap();
    }
    unreachable!("writes until killed")
}

#[test]
fn sigkill_in_a_burst_of_writes_loses_nothing_reported() {
    if let Ok(dir) = std::env::var(WRITER_DIR) {
        writer(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    Store::create(dir.path(), "Kari", PASS, clock::system()).unwrap().0.lock();
    let mut reported: HashMap<Uuid, u32> = HashMap::new();

    // Kill at a different point each round.
    for (round, kill_after) in [40usize, 150, 7].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash::sigkill_in_a_burst_of_writes_loses_nothing_reported", "--nocapture", "--test-threads=1"])
            .env(WRITER_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        let mut record = |line: &str| {
            if let Some(rest) = line.strip_prefix("saved ") {
                let (id, version) = rest.split_once(' ').unwrap();
                let version: u32 = version.parse().unwrap();
                let slot = reported.entry(Uuid::parse_str(id).unwrap()).or_default();
                *slot = (*slot).max(version);
                true
            } else {
                false
            }
        };
        for line in lines.by_ref() {
            if record(&line.unwrap()) {
                seen += 1;
                if seen == kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flush, no checkpoint.
                               // Whatever the child printed before it died was reported as saved too.
        for line in lines {
            record(&line.unwrap());
        }
        let status = child.wait().unwrap();
        assert!(!status.success(), "round {round}: the writer was expected to die");

        let store = Store::open(dir.path(), PASS, clock::system()).unwrap();
        assert!(store.integrity_problems().unwrap().is_empty(), "round {round}");
        for (id, version) in &reported {
            let entry = store.entry(*id).unwrap_or_else(|e| panic!("round {round}: reported write {id} lost: {e}"));
            assert!(entry.version >= *version, "round {round}: {id} back at version {}", entry.version);
        }
        assert!(store.timeline(TimelineFilter::default()).unwrap().len() >= reported.len());
        store.lock();
    }
    assert!(reported.len() > 150);
}
