//! The server as a process: killed in the middle of a sync and started again; restored from an
//! older backup. Nothing a device reported as sent may be lost.

use crate::harness::{Diary, TestDb};
use companion_core::domain::NewSymptom;
use companion_core::sync::Outcome;
use companion_core::NewEntry;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_companion-clinic");

pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) address: String,
}

impl Process {
    pub(crate) fn start(dir: &Path, db: &TestDb, listen: &str) -> Process {
        Process::start_with(dir, db, listen, &[])
    }

    pub(crate) fn start_with(dir: &Path, db: &TestDb, listen: &str, extra: &[&str]) -> Process {
        let mut child = command(dir, db)
            .args(["serve", "--listen", listen])
            .args(extra)
            .env("COMPANION_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("listening on ").expect("the server says where it listens");
        let address = address.trim_end_matches(" (https)").to_owned();
        Process { child, address }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

/// `companion-clinic --data-dir DIR [--database-url URL]`.
pub(crate) fn command(dir: &Path, db: &TestDb) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(dir);
    if let Some(url) = &db.url {
        cmd.args(["--database-url", url]);
    }
    cmd
}

pub(crate) fn admin(dir: &Path, db: &TestDb, args: &[&str]) -> Value {
    let out = command(dir, db).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn add(diary: &Diary, n: usize, from: usize) {
    let mut store = diary.open();
    for i in from..from + n {
        store
            .add(&NewEntry::Symptom(NewSymptom {
                symptom: "nausea".into(),
                severity: (i % 10) as i64,
                note: Some(format!("{i}")),
                ..Default::default()
            }))
            .unwrap();
    }
}

fn observations(url: &str, token: &str, patient: &str) -> Vec<Value> {
    observations_with(&reqwest::Client::new(), url, token, patient)
}

fn observations_with(client: &reqwest::Client, url: &str, token: &str, patient: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = format!("/fhir/Observation?patient={patient}&_count=200");
    loop {
        let page: Value = companion_core::sync::block_on(async {
            client.get(format!("{url}{path}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
        })
        .unwrap();
        out.extend(page["entry"].as_array().into_iter().flatten().map(|e| e["resource"].clone()));
        match page["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") {
            Some(next) => path = next["url"].as_str().unwrap().strip_prefix(url).expect("an absolute link").to_owned(),
            None => return out,
        }
    }
}

fn sync_until_done(diary: &Diary) -> usize {
    for round in 1..60 {
        let r = diary.sync();
        if r.outcome == Outcome::Done && r.pending == 0 {
            return round;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("sync never finished");
}

fn pair(diary: &Diary, url: &str, code: &str) {
    let mut store = diary.open();
    companion_core::sync::block_on(companion_core::sync::pair(&mut store, url, code)).unwrap().unwrap();
}

#[test]
fn a_server_killed_mid_sync_and_restarted_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    let server = Process::start(dir.path(), &db, "127.0.0.1:0");
    let url = server.url();
    let p = admin(dir.path(), &db, &["patient", "add", "--name", "Kari", "--json"]);
    let staff = admin(dir.path(), &db, &["staff", "add", "--name", "Nurse", "--json"])["token"].as_str().unwrap().to_owned();
    let patient = p["patient"].as_str().unwrap().to_owned();
    let diary = Diary::new();
    pair(&diary, &url, p["code"].as_str().unwrap());
    add(&diary, 1500, 0);

    let syncing = std::thread::spawn({
        let dir = diary.dir.path().to_owned();
        move || {
            let store_dir = dir;
            let mut store = companion_core::Store::open(&store_dir, crate::harness::PASS, companion_core::clock::system()).unwrap();
            companion_core::sync::block_on(companion_core::sync::sync_once(&mut store)).unwrap().unwrap()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let address = server.address.clone();
    server.kill();
    let first = syncing.join().unwrap();
    assert!(matches!(first.outcome, Outcome::Later { .. }), "the round was cut short: {first:?}");
    let server = Process::start(dir.path(), &db, &address);
    sync_until_done(&diary);
    let held = observations(&server.url(), &staff, &patient);
    let mut ids: Vec<&str> = held.iter().map(|o| o["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((held.len(), ids.len()), (1500, 1500), "none lost, none twice");
    server.kill();
}

#[test]
fn a_server_restored_from_an_older_backup_gets_everything_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    let server = Process::start(dir.path(), &db, "127.0.0.1:0");
    let p = admin(dir.path(), &db, &["patient", "add", "--name", "Kari", "--json"]);
    let staff = admin(dir.path(), &db, &["staff", "add", "--name", "Nurse", "--json"])["token"].as_str().unwrap().to_owned();
    let patient = p["patient"].as_str().unwrap().to_owned();
    let diary = Diary::new();
    pair(&diary, &server.url(), p["code"].as_str().unwrap());
    add(&diary, 10, 0);
    sync_until_done(&diary);
    let backup = dir.path().join("backup.db");
    admin(dir.path(), &db, &["backup", "create", "--to", backup.to_str().unwrap()]);
    add(&diary, 10, 10);
    sync_until_done(&diary);
    assert_eq!(observations(&server.url(), &staff, &patient).len(), 20);

    // The clinic restores last night's backup: the ten newest records are gone from the server.
    let address = server.address.clone();
    server.kill();
    if let Some(url) = &db.url {
        let out =
            Command::new("pg_restore").args(["--clean", "--if-exists", "--single-transaction", "-d", url]).arg(&backup).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        for f in ["clinic.db-wal", "clinic.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        std::fs::copy(&backup, dir.path().join("clinic.db")).unwrap();
    }
    let server = Process::start(dir.path(), &db, &address);
    assert_eq!(observations(&server.url(), &staff, &patient).len(), 10);

    let report = diary.sync();
    assert!(report.epoch_changed, "the device noticed the restore");
    sync_until_done(&diary);
    let held = observations(&server.url(), &staff, &patient);
    assert_eq!(held.len(), 20, "everything is back, once");
    server.kill();
}

#[test]
fn over_https_the_device_trusts_the_clinic_authority_and_nothing_else() {
    // The clinic's own certificate authority, and a server certificate for localhost from it.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Test clinic CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();

    let db = TestDb::new();
    let server = Process::start_with(
        dir.path(),
        &db,
        "127.0.0.1:0",
        &["--tls-cert", cert_file.to_str().unwrap(), "--tls-key", key_file.to_str().unwrap()],
    );
    let port = server.address.rsplit_once(':').unwrap().1.to_owned();
    let url = format!("https://localhost:{port}");
    let p = admin(dir.path(), &db, &["patient", "add", "--name", "Kari", "--json"]);
    let staff = admin(dir.path(), &db, &["staff", "add", "--name", "Nurse", "--json"])["token"].as_str().unwrap().to_owned();
    let (patient, code) = (p["patient"].as_str().unwrap().to_owned(), p["code"].as_str().unwrap().to_owned());
    let diary = Diary::new();

    // A certificate from an authority the device does not trust: refused, and said so.
    let mut store = diary.open();
    let err = companion_core::sync::block_on(companion_core::sync::pair(&mut store, &url, &code)).unwrap().unwrap_err();
    assert!(
        matches!(&err, companion_core::Error::Invalid(i) if i.field == "server" && i.problem == companion_core::Problem::Untrusted),
        "{err:?}"
    );
    assert!(store.sync_link().unwrap().is_none(), "nothing kept from a refused pairing");
    // Plain http to anything but this machine is refused before a byte is sent.
    let err =
        companion_core::sync::block_on(companion_core::sync::pair(&mut store, "http://clinic.example:8080", &code)).unwrap().unwrap_err();
    assert!(
        matches!(&err, companion_core::Error::Invalid(i) if i.field == "server" && i.problem == companion_core::Problem::NotAllowed),
        "{err:?}"
    );

    // With the clinic's authority trusted: paired (the code was not used up above), and synced.
    let pem = ca.pem();
    companion_core::sync::block_on(companion_core::sync::pair_with(&mut store, &url, &code, Some(&pem))).unwrap().unwrap();
    drop(store);
    add(&diary, 5, 0);
    sync_until_done(&diary);
    let client = reqwest::Client::builder().tls_certs_merge([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()]).build().unwrap();
    assert_eq!(observations_with(&client, &url, &staff, &patient).len(), 5);
    // Over HTTPS the server asks browsers to stay on HTTPS.
    let res = companion_core::sync::block_on(client.get(format!("{url}/fhir/metadata")).send()).unwrap().unwrap();
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000");
    server.kill();
}
