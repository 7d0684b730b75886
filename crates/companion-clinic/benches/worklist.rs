//! The care team's figures (run with `make bench`): the worklist page with 5,000 patients and
//! 2,000 open alerts (server time as a browser sees it on loopback, p50 and p99); the time from a
//! device's sync to the alert on an open worklist (the event stream's `triage` event); and the
//! receipts' round trip (a nurse closes an alert, the device's next sync shows it). SQLite, and
//! PostgreSQL too when `COMPANION_BENCH_POSTGRES` names a server.

use companion_clinic::db::{Actor, Db, Role, Write};
use companion_core::domain::NewTemperature;
use companion_core::{clock, NewEntry, Store};
use serde_json::json;
use std::time::{Duration, Instant};

const PATIENTS: usize = 5_000;
const ALERTS: usize = 2_000;
const PASS: &str = "correct horse battery";

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    run("SQLite", None);
    if let Ok(admin) = std::env::var("COMPANION_BENCH_POSTGRES") {
        let name = format!("clinic_worklist_{}", std::process::id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        run("PostgreSQL", Some(&format!("{base}/{name}")));
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn run(label: &str, database_url: Option<&str>) {
    let server_dir = tempfile::tempdir().unwrap();
    let db = Db::open_with(server_dir.path(), database_url).unwrap();
    let seeded = Instant::now();
    let mut patients = Vec::new();
    for i in 0..PATIENTS {
        patients.push(db.add_patient(&format!("Patient {i:04}")).unwrap().0);
    }
    for (i, patient) in patients.iter().take(ALERTS).enumerate() {
        let device = Actor::Device { id: format!("bench-{i}"), patient: patient.clone(), carer: None };
        let obs = uuid::Uuid::new_v4().to_string();
        let flag = uuid::Uuid::new_v4().to_string();
        let level = ["call_now", "contact_24h", "contact_team"][i % 3];
        let writes = vec![
            Write::new(
                "Observation",
                &obs,
                json!({ "resourceType": "Observation", "id": obs, "status": "final",
                        "code": { "coding": [{ "system": "http://loinc.org", "code": "8310-5" }] },
                        "subject": { "reference": format!("Patient/{patient}") },
                        "valueQuantity": { "value": 38.4, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel" } }),
                None,
                patient,
            ),
            Write::new(
                "Flag",
                &flag,
                json!({ "resourceType": "Flag", "id": flag, "status": "active",
                        "code": { "coding": [{ "system": "https://fhir.companion-diary.no/CodeSystem/rules/companion-default", "code": "fever" }], "text": level },
                        "subject": { "reference": format!("Patient/{patient}") },
                        "period": { "start": "2026-12-01T10:00:00.000Z" },
                        "extension": [{ "url": companion_core::fhir::advice_record_extension_url(), "valueReference": { "reference": format!("Observation/{obs}") } }] }),
                None,
                patient,
            ),
        ];
        for r in db.write_all(&device, writes, true).unwrap() {
            r.unwrap();
        }
    }
    let seeding = seeded.elapsed();
    db.add_account("Bench Nurse", Role::Nurse, "a long bench password").unwrap();
    let (token, session) = db.sign_in("Bench Nurse", "a long bench password").unwrap().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = companion_clinic::app(companion_clinic::AppState::new(db.clone()));
    rt.spawn(companion_clinic::serve::serve(listener, app, None, Default::default(), std::future::pending()));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie = format!("companion-session={token}");

    // The worklist page: 100 rows of 2,000 open alerts.
    let mut page = Vec::new();
    for i in 0..220 {
        let t = Instant::now();
        let res = rt.block_on(client.get(format!("{url}/care")).header("cookie", &cookie).send()).unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let body = rt.block_on(res.text()).unwrap();
        if i >= 20 {
            page.push(t.elapsed());
        }
        assert!(body.contains("Alerts: 2000"));
    }
    page.sort();
    let mut fhir = Vec::new();
    let staff = db.add_staff("Bench integration", 12).unwrap();
    for _ in 0..50 {
        let t = Instant::now();
        let res = rt
            .block_on(
                client
                    .get(format!("{url}/fhir/Task?code=triage&status=requested,accepted&_sort=priority,period&_count=100"))
                    .bearer_auth(&staff)
                    .send(),
            )
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let _ = rt.block_on(res.bytes()).unwrap();
        fhir.push(t.elapsed());
    }
    fhir.sort();

    // A device's sync to the alert on an open worklist, and the receipts back.
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Bench", PASS, clock::system()).unwrap();
    let (_, code) = db.add_patient("Bench Device").unwrap();
    companion_core::sync::block_on(companion_core::sync::pair(&mut store, &url, &code)).unwrap().unwrap();
    let mut to_worklist = Vec::new();
    let mut round_trip = Vec::new();
    for _ in 0..15 {
        let mark = db.triage_mark().unwrap();
        let mut events = rt.block_on(client.get(format!("{url}/care/events?since={mark}")).header("cookie", &cookie).send()).unwrap();
        store.save(&NewEntry::Temperature(NewTemperature { celsius: 38.6, feels_unwell: true, ..Default::default() })).unwrap();
        let start = Instant::now();
        // Every `triage` event's mark, as it arrives.
        let (tx, mut marks) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
        let reader = rt.spawn(async move {
            let mut text = String::new();
            while let Ok(Some(c)) = events.chunk().await {
                text.push_str(&String::from_utf8_lossy(&c));
                while let Some(end) = text.find("\n\n") {
                    let event: String = text.drain(..end + 2).collect();
                    if event.contains("event: triage") {
                        let mark = event.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| d.trim().parse().ok()).unwrap_or(0);
                        let _ = tx.send((mark, Instant::now()));
                    }
                }
            }
        });
        companion_core::sync::block_on(companion_core::sync::sync_once(&mut store)).unwrap().unwrap();
        // The first event that tells of this sync's alert (not an earlier one).
        let after = db.triage_mark().unwrap();
        let seen = rt.block_on(async {
            loop {
                let (m, at) = marks.recv().await.expect("the event stream ended");
                if m >= after {
                    return at;
                }
            }
        });
        reader.abort();
        to_worklist.push(seen - start);
        // The nurse closes it; the device's next sync shows the receipt.
        let (_, open) =
            db.worklist(&companion_clinic::db::triage::Filter::Patient(store.sync_link().unwrap().unwrap().patient), 1, 0).unwrap();
        let alert = &open[0];
        let t = Instant::now();
        let form = [
            ("csrf", session.csrf.as_str()),
            ("version", &alert.version.to_string()),
            ("outcome", "self_care"),
            ("message", "Drink plenty."),
        ];
        let res = rt
            .block_on(
                client
                    .post(format!("{url}/care/alerts/{}/close", alert.task))
                    .header("cookie", &cookie)
                    .header("origin", &url)
                    .form(&form)
                    .send(),
            )
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        companion_core::sync::block_on(companion_core::sync::sync_once(&mut store)).unwrap().unwrap();
        let advice = store.advice_shown(1).unwrap();
        assert!(advice.iter().any(|a| a.receipt.message.as_deref() == Some("Drink plenty.")));
        round_trip.push(t.elapsed());
    }
    to_worklist.sort();
    round_trip.sort();

    println!("Companion care team benchmark (loopback, {label} server, release)");
    println!("seeding {PATIENTS} patients and {ALERTS} alerts      {:.1} s", seeding.as_secs_f64());
    println!("worklist page (100 of {ALERTS} open)   p50 {}, p99 {}", ms(percentile(&page, 50.0)), ms(percentile(&page, 99.0)));
    println!("FHIR triage search (100 of {ALERTS})    p50 {}, p99 {}", ms(percentile(&fhir, 50.0)), ms(percentile(&fhir, 99.0)));
    println!(
        "device sync to open worklist      p50 {}, max {} (from the sync's start)",
        ms(percentile(&to_worklist, 50.0)),
        ms(*to_worklist.last().unwrap())
    );
    println!("close to receipt on the device    p50 {}, max {}", ms(percentile(&round_trip, 50.0)), ms(*round_trip.last().unwrap()));
    drop(rt);
}
