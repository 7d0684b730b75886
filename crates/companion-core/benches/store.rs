//! The diary's speed as a person feels it, printed as figures (run with `make bench`):
//! unlocking, saving one entry (median and 99th percentile), and loading a year of entries
//! (about 2,000) into the timeline, and the summary for the visit over the whole year; saving and
//! loading again on plain SQLite with the same schema and code, so the cost of encryption is a
//! ratio; and making and restoring a backup of that year.

use chrono::{Duration as Days, Utc};
use companion_core::domain::{NewQuestion, NewSymptom, NewTemperature};
use companion_core::store::{self, TimelineFilter};
use companion_core::{clock, NewEntry, Store};
use std::time::{Duration, Instant};

const PASS: &str = "correct horse battery";
const SAVES: usize = 1000;
const YEAR: usize = 2000;
const LOADS: usize = 30;

fn entry(i: usize) -> NewEntry {
    // Spread over the past year, oldest first, a realistic mix of kinds.
    let at = (Utc::now() - Days::minutes(((YEAR - i) * 262) as i64)).to_rfc3339();
    match i % 4 {
        0 | 1 => NewEntry::Symptom(NewSymptom {
            symptom: ["pain", "tiredness", "nausea", "sleep-problems"][i % 4].into(),
            severity: (i % 11) as i64,
            note: (i % 3 == 0).then(|| "worse in the evening, took paracetamol at six".into()),
            occurred_at: Some(at),
            ..Default::default()
        }),
        2 => NewEntry::Temperature(NewTemperature { celsius: 36.5 + (i % 20) as f64 / 10.0, occurred_at: Some(at), ..Default::default() }),
        _ => NewEntry::Question(NewQuestion { text: format!("Question number {i} for the next visit?") }),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

struct Figures {
    save_p50: Duration,
    save_p99: Duration,
    load_p50: Duration,
    summary_p50: Duration,
    entries: usize,
}

/// Saves, fills up to a year, and loads the timeline: the same on either kind of store.
fn measure(store: &mut Store) -> Figures {
    let mut saves = Vec::with_capacity(SAVES);
    for i in 0..SAVES {
        let input = entry(i);
        let t = Instant::now();
        store.add(&input).unwrap();
        saves.push(t.elapsed());
    }
    for i in SAVES..YEAR {
        store.add(&entry(i)).unwrap();
    }
    let mut loads = Vec::with_capacity(LOADS);
    let mut entries = 0;
    for _ in 0..LOADS {
        let t = Instant::now();
        entries = store.timeline(TimelineFilter::default()).unwrap().len();
        loads.push(t.elapsed());
    }
    let mut summaries = Vec::with_capacity(LOADS);
    for _ in 0..LOADS {
        let t = Instant::now();
        let summary = store.visit_summary(365).unwrap();
        summaries.push(t.elapsed());
        assert!(!summary.people.is_empty());
    }
    saves.sort();
    loads.sort();
    summaries.sort();
    Figures {
        save_p50: percentile(&saves, 0.5),
        save_p99: percentile(&saves, 0.99),
        load_p50: percentile(&loads, 0.5),
        summary_p50: percentile(&summaries, 0.5),
        entries,
    }
}

/// The advice of the year listed (every card says who to call now), before and with the clinic's
/// care team kept; and the summary of the year as a PDF.
struct GoingHome {
    advice: usize,
    advice_p50: Duration,
    advice_team_p50: Duration,
    pdf_p50: Duration,
    pdf_bytes: usize,
}

fn going_home(store: &mut Store) -> GoingHome {
    let time = |store: &Store, f: &dyn Fn(&Store) -> usize| {
        let mut runs: Vec<Duration> = (0..LOADS)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f(store));
                t.elapsed()
            })
            .collect();
        runs.sort();
        percentile(&runs, 0.5)
    };
    let list = |s: &Store| s.advice_shown(365).unwrap().len();
    let advice = list(store);
    let advice_p50 = time(store, &list);
    let team = companion_core::care_team::parse(
        r#"{"contacts": [{"role": "ward", "name": "Cancer ward 3", "phone": "22 11 80 80",
            "hours": [{"days": ["mon","tue","wed","thu","fri"], "from": "08:00", "to": "15:30"}]},
            {"role": "out_of_hours", "name": "Legevakt", "phone": "116 117"}]}"#,
    )
    .unwrap();
    let mut fhir = companion_core::care_team::to_fhir(&team, "Care team");
    fhir["meta"] = serde_json::json!({ "versionId": "1", "tag": [{ "system": companion_core::fhir::origin_system(), "code": "clinic" }] });
    store.keep_remote(&fhir).unwrap();
    let advice_team_p50 = time(store, &list);
    let pdf_bytes = store.summary_pdf(365, companion_core::prefs::Language::En).unwrap().len();
    let pdf_p50 = time(store, &|s: &Store| s.summary_pdf(365, companion_core::prefs::Language::En).unwrap().len());
    GoingHome { advice, advice_p50, advice_team_p50, pdf_p50, pdf_bytes }
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::create(dir.path(), "Bench", PASS, clock::system()).unwrap();
    store.lock();

    let mut unlocks = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let s = Store::open(dir.path(), PASS, clock::system()).unwrap();
        unlocks.push(t.elapsed());
        s.lock();
    }
    unlocks.sort();

    let mut encrypted = Store::open(dir.path(), PASS, clock::system()).unwrap();
    let enc = measure(&mut encrypted);
    // A backup of the year, and its restore (which includes one unlock and the integrity checks).
    let files = tempfile::tempdir().unwrap();
    let (mut makes, mut restores, mut size) = (Vec::new(), Vec::new(), 0);
    for i in 0..5 {
        let file = files.path().join(format!("{i}.companion-backup"));
        let t = Instant::now();
        size = encrypted.backup_to(&file).unwrap().bytes;
        makes.push(t.elapsed());
        let target = files.path().join(format!("restored-{i}"));
        let t = Instant::now();
        store::backup::restore(&file, &target, PASS, clock::system()).unwrap().lock();
        restores.push(t.elapsed());
    }
    makes.sort();
    restores.sort();
    let going_home = going_home(&mut encrypted);
    encrypted.lock();

    let plain_dir = tempfile::tempdir().unwrap();
    let mut plain = store::plain_for_benchmark(plain_dir.path(), clock::system()).unwrap();
    let pla = measure(&mut plain);

    println!("Companion store benchmark ({} saves, timeline of {} entries, {} loads)", SAVES, enc.entries, LOADS);
    println!("unlock (Argon2id 19 MiB t=2 + open)   median {}  max {}", ms(percentile(&unlocks, 0.5)), ms(*unlocks.last().unwrap()));
    println!("                         SQLCipher        plain SQLite     ratio");
    println!(
        "save one entry  p50      {:<16} {:<16} {:.2}",
        ms(enc.save_p50),
        ms(pla.save_p50),
        enc.save_p50.as_secs_f64() / pla.save_p50.as_secs_f64()
    );
    println!(
        "save one entry  p99      {:<16} {:<16} {:.2}",
        ms(enc.save_p99),
        ms(pla.save_p99),
        enc.save_p99.as_secs_f64() / pla.save_p99.as_secs_f64()
    );
    println!(
        "timeline load   p50      {:<16} {:<16} {:.2}",
        ms(enc.load_p50),
        ms(pla.load_p50),
        enc.load_p50.as_secs_f64() / pla.load_p50.as_secs_f64()
    );
    println!(
        "visit summary (365 d) p50 {:<15} {:<16} {:.2}",
        ms(enc.summary_p50),
        ms(pla.summary_p50),
        enc.summary_p50.as_secs_f64() / pla.summary_p50.as_secs_f64()
    );
    println!(
        "advice list ({} cards)  p50 {} without the clinic's care team, {} with it",
        going_home.advice,
        ms(going_home.advice_p50),
        ms(going_home.advice_team_p50)
    );
    println!("summary for the visit (365 d) as a PDF  p50 {}  ({} KB)", ms(going_home.pdf_p50), going_home.pdf_bytes / 1024);
    println!(
        "backup of {} entries ({} KB): make median {}, restore median {} (with unlock)",
        enc.entries,
        size / 1024,
        ms(percentile(&makes, 0.5)),
        ms(percentile(&restores, 0.5))
    );
}
