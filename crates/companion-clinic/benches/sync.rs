//! Sync figures (run with `make bench`): 10,000 entries from a device to an empty server (wall
//! time, requests, bytes sent), the server's ingest rate, and an incremental sync when nothing
//! changed. Server on loopback; SQLite, and PostgreSQL too when `COMPANION_BENCH_POSTGRES`
//! names a server (an admin URL; `make bench` starts one), in a fresh database.

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use companion_clinic::db::Db;
use companion_core::domain::NewSymptom;
use companion_core::{clock, NewEntry, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ENTRIES: usize = 10_000;
const PASS: &str = "correct horse battery";

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

async fn count(req: Request, next: Next) -> Response {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    let len = req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    BYTES.fetch_add(len, Ordering::Relaxed);
    next.run(req).await
}

fn main() {
    run("SQLite", None);
    if let Ok(admin) = std::env::var("COMPANION_BENCH_POSTGRES") {
        let name = format!("clinic_bench_{}", std::process::id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        run("PostgreSQL", Some(&format!("{base}/{name}")));
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
    }
}

fn run(label: &str, database_url: Option<&str>) {
    let server_dir = tempfile::tempdir().unwrap();
    let db = Db::open_with(server_dir.path(), database_url).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = companion_clinic::app(companion_clinic::AppState::new(db.clone())).layer(middleware::from_fn(count));
    rt.spawn(companion_clinic::serve::serve(listener, app, None, Default::default(), std::future::pending()));

    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::create(dir.path(), "Bench", PASS, clock::system()).unwrap();
    for i in 0..ENTRIES {
        store
            .add(&NewEntry::Symptom(NewSymptom {
                symptom: ["pain", "tiredness", "nausea"][i % 3].into(),
                severity: (i % 7) as i64,
                note: (i % 4 == 0).then(|| "worse in the evening".into()),
                ..Default::default()
            }))
            .unwrap();
    }
    let (_, code) = db.add_patient("Bench").unwrap();
    companion_core::sync::block_on(companion_core::sync::pair(&mut store, &url, &code)).unwrap().unwrap();
    let (r0, b0) = (REQUESTS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));

    let t = Instant::now();
    let report = companion_core::sync::block_on(companion_core::sync::sync_once(&mut store)).unwrap().unwrap();
    let full = t.elapsed();
    assert_eq!((report.sent, report.pending), (ENTRIES, 0));
    let requests = REQUESTS.load(Ordering::Relaxed) - r0;
    let bytes = BYTES.load(Ordering::Relaxed) - b0;
    // Each entry is an Observation and its Provenance.
    let resources = ENTRIES * 2;

    let mut idle = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = companion_core::sync::block_on(companion_core::sync::sync_once(&mut store)).unwrap().unwrap();
        idle.push(t.elapsed());
        assert_eq!(r.sent, 0);
    }
    idle.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);

    println!("Companion sync benchmark (loopback, {label} server, release)");
    println!(
        "first sync of {ENTRIES} entries    {:.2} s, {requests} requests, {:.1} MiB sent",
        full.as_secs_f64(),
        bytes as f64 / 1_048_576.0
    );
    println!("server ingest ({label})  {:.0} resources/s ({resources} resources)", resources as f64 / full.as_secs_f64());
    println!("incremental sync, no changes   median {}, max {} (2 requests)", ms(idle[idle.len() / 2]), ms(*idle.last().unwrap()));
    drop(rt);
}
