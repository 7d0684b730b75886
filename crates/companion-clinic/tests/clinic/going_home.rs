//! Going home: the clinic's signed ruleset, its contacts and a patient's plan, set with the
//! admin commands (`companion-clinic ruleset|contacts|plan`) at a real server, reaching a real
//! diary at its next sync; and what the device refuses.

use super::harness::{Server, PASS};
use chrono::{DateTime, Datelike, Duration, Utc};
use companion_clinic::db::{Actor, Write};
use companion_core::clock::Clock;
use companion_core::domain::{NewEntry, NewTemperature};
use companion_core::rules::{signed, Level, DEFAULT_RULESET};
use companion_core::Store;
use serde_json::{json, Value};
use std::process::Command;
use std::sync::{Arc, Mutex};

const BIN: &str = env!("CARGO_BIN_EXE_companion-clinic");

struct At(Mutex<DateTime<Utc>>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Runs an admin command on the test server's database: (succeeded, stdout, stderr).
fn admin(server: &Server, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(server.data_dir()).args(args);
    if let Some(url) = server.database_url() {
        cmd.arg("--database-url").arg(url);
    }
    let out = cmd.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn file(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_string_lossy().into_owned()
}

fn rules(version: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(DEFAULT_RULESET).unwrap();
    v["id"] = "oslo-cancer-ward".into();
    v["version"] = version.into();
    edit(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

/// Norway's wall time on the next weekday from Tuesday to Thursday after today.
fn next_midweek(hour: u32, minute: u32) -> DateTime<Utc> {
    let mut day = companion_core::norway::local(Utc::now()).date() + Duration::days(1);
    while !matches!(day.weekday(), chrono::Weekday::Tue | chrono::Weekday::Wed | chrono::Weekday::Thu) {
        day += Duration::days(1);
    }
    companion_core::norway::from_local(day.and_hms_opt(hour, minute, 0).unwrap())
}

/// Puts a Library on the server as if it had been published, bypassing the publish command's
/// checks (as a tampered database, or a key used outside it, would).
fn plant_library(server: &Server, signed: &signed::Signed, version: &str) {
    let rules: companion_core::rules::Ruleset = serde_json::from_str(&signed.text).unwrap();
    let mut body = signed.to_library(&rules, "2026-12-01T10:00:00Z");
    body["version"] = version.into();
    let w = Write::new("Library", signed::LIBRARY_ID, body, None, "");
    server.db.write_all(&Actor::Staff { id: "intruder".into() }, vec![w], true).unwrap().pop().unwrap().unwrap();
}

#[test]
fn the_clinics_plan_numbers_and_rules_reach_the_device_and_a_bad_ruleset_does_not() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let pinned = diary.open().sync_link().unwrap().unwrap().clinic_key.expect("the clinic's key is pinned at pairing");
    let files = tempfile::tempdir().unwrap();

    // The clinic's own rules (a lower fever threshold), contacts and plan, through the CLI.
    let lower = rules("3.0.0", |v| v["temperature"]["call_at_or_above"] = 37.8.into());
    let (ok, out, err) = admin(&server, &["ruleset", "publish", "--file", &file(files.path(), "rules.json", &lower)]);
    assert!(ok, "{out}{err}");
    let contacts = json!({"contacts": [
        {"role": "ward", "name": "Cancer ward 3", "phone": "22 11 80 80",
         "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "15:30"}]},
        {"role": "contact_nurse", "name": "Kari Contact", "phone": "22 11 80 81"},
        {"role": "out_of_hours", "name": "Legevakt", "phone": "116 117"}]});
    let (ok, out, err) = admin(&server, &["contacts", "set", "--file", &file(files.path(), "contacts.json", &contacts.to_string())]);
    assert!(ok, "{out}{err}");
    let plan = json!({"treatment": ["immunotherapy"], "schedules": [{"instrument": "esas-r", "every_days": 7}],
        "watch_for": ["New diarrhoea, cough or breathlessness: call the ward now."], "advice": ["Drink at least 2 litres a day."]});
    let (ok, out, err) =
        admin(&server, &["plan", "set", "--patient", &patient, "--file", &file(files.path(), "plan.json", &plan.to_string())]);
    assert!(ok, "{out}{err}");
    let (_, shown, _) = admin(&server, &["ruleset", "show", "--json"]);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["version"], "3.0.0");
    assert_eq!(shown["key_fingerprint"], signed::fingerprint(&pinned), "the device pinned the key the clinic signs with");
    let (_, shown, _) = admin(&server, &["plan", "show", "--patient", &patient, "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap()["plan"]["treatment"], json!(["immunotherapy"]));

    // The floors and the version are checked at the clinic too.
    let hot = rules("3.1.0", |v| v["temperature"]["call_at_or_above"] = 39.0.into());
    let (ok, _, err) = admin(&server, &["ruleset", "publish", "--file", &file(files.path(), "hot.json", &hot)]);
    assert!(!ok && err.contains("temperature.call_at_or_above"), "{err}");
    let (ok, _, err) = admin(&server, &["ruleset", "publish", "--file", &file(files.path(), "old.json", &rules("2.9.0", |_| {}))]);
    assert!(!ok && err.contains("not newer"), "{err}");
    let no_collapse = rules("3.1.0", |v| v["symptoms"].as_array_mut().unwrap().retain(|r| r["id"] != "collapse"));
    let (ok, _, err) = admin(&server, &["ruleset", "publish", "--file", &file(files.path(), "nc.json", &no_collapse)]);
    assert!(!ok && err.contains("collapse"), "{err}");

    let report = diary.sync();
    assert_eq!(report.outcome, companion_core::sync::Outcome::Done);

    // In the ward's staffed hours, then after them.
    let open = next_midweek(10, 0);
    let clock = Arc::new(At(Mutex::new(open)));
    let mut store = Store::open(diary.dir.path(), PASS, clock.clone()).unwrap();
    let status = store.ruleset_status().unwrap();
    assert_eq!((status.source, status.id.as_str(), status.version.as_str()), ("clinic", "oslo-cancer-ward", "3.0.0"));
    assert!(status.since.is_some());
    let team = store.care_team().unwrap();
    assert_eq!(team.contacts.len(), 3);
    assert_eq!(team.contacts[0].contact.hours[0].to, "15:30");
    assert!(team.contacts[0].staffed.open);
    assert_eq!(team.call_now.phone, "22 11 80 80");
    assert_eq!(store.treatments().unwrap(), vec![companion_core::treatment::Treatment::Immunotherapy]);
    assert!(store.treatments_from_clinic().unwrap());
    assert!(store.set_treatments(&[]).is_err(), "the patient does not override the clinic's plan silently");
    let plan = store.plan().unwrap().expect("the plan is on the device");
    assert!(!plan.seen, "not yet walked through");
    store.mark_plan_seen(&plan.version).unwrap();
    assert!(store.plan().unwrap().unwrap().seen);
    let esas = store.schedules().unwrap().into_iter().find(|s| s.instrument == "esas-r").expect("the plan's check-in");
    assert_eq!(esas.source, "clinic");
    assert!(matches!(esas.state, "due" | "overdue"), "{esas:?}");

    // 37.9 °C is a fever under the clinic's rules (38.0 under the shipped ones).
    let fever = store.save(&NewEntry::Temperature(NewTemperature { celsius: 37.9, ..Default::default() })).unwrap();
    let card = fever.advice.iter().find(|a| a.level == Level::CallNow).expect("a call-now card");
    assert_eq!(card.ruleset, "oslo-cancer-ward");
    assert_eq!(card.ruleset_version, "3.0.0");
    assert_eq!(card.contacts[0].number.as_deref(), Some("22 11 80 80"));
    assert_eq!(card.contacts[0].name.as_deref(), Some("Cancer ward 3"));
    assert_eq!(card.contacts[0].source, "clinic");
    assert_eq!(card.ward_staffed.as_ref().unwrap().until.as_deref(), Some("15:30"));
    *clock.0.lock().unwrap() = next_midweek(20, 0);
    let later = store.advice_shown(30).unwrap().into_iter().find(|a| a.id == card.id).unwrap();
    assert_eq!(later.contacts[0].number.as_deref(), Some("116 117"), "outside staffed hours the card calls out of hours");
    assert!(!later.ward_staffed.unwrap().open);
    drop(store);

    // A tampered ruleset (the text changed after signing) is refused; the clinic's stays.
    let key = std::fs::read(server.data_dir().join(companion_clinic::db::KEY_FILE)).unwrap();
    let good = signed::sign(&key, &rules("3.2.0", |_| {})).unwrap();
    let tampered = signed::Signed { text: good.text.replace("\"low_below\": 36.0", "\"low_below\": 35.0"), ..good.clone() };
    plant_library(&server, &tampered, "3.2.0");
    diary.sync();
    let store = diary.open();
    let status = store.ruleset_status().unwrap();
    assert_eq!(status.version, "3.0.0");
    assert_eq!(status.refused.as_ref().unwrap().reason, "bad_signature");
    drop(store);

    // Signed with the clinic's key but under a floor, or older: refused all the same.
    let hot = signed::sign(&key, &rules("3.3.0", |v| v["temperature"]["call_at_or_above"] = 39.0.into())).unwrap();
    plant_library(&server, &hot, "3.3.0");
    diary.sync();
    let status = diary.open().ruleset_status().unwrap();
    assert_eq!(status.version, "3.0.0");
    let refused = status.refused.unwrap();
    assert_eq!((refused.reason.as_str(), refused.field.as_deref()), ("invalid", Some("temperature.call_at_or_above")));
    let old = signed::sign(&key, &rules("2.5.0", |_| {})).unwrap();
    plant_library(&server, &old, "2.5.0");
    diary.sync();
    let status = diary.open().ruleset_status().unwrap();
    assert_eq!((status.version.as_str(), status.refused.unwrap().reason.as_str()), ("3.0.0", "not_newer"));

    // A newer, good one is taken; with the server gone, it stays in force.
    plant_library(&server, &good, "3.2.0");
    diary.sync();
    let status = diary.open().ruleset_status().unwrap();
    assert_eq!((status.version.as_str(), status.refused), ("3.2.0", None));
    let store = diary.open();
    assert_eq!(store.ruleset().version, "3.2.0", "the kept ruleset is in force when the diary opens");
    drop(store);

    // The key can live off the server (serve needs only its public half); another key is refused.
    let elsewhere = files.path().join("signing.key");
    std::fs::rename(server.data_dir().join(companion_clinic::db::KEY_FILE), &elsewhere).unwrap();
    let next = file(files.path(), "r4.json", &rules("4.0.0", |_| {}));
    let (ok, _, err) = admin(&server, &["ruleset", "publish", "--file", &next]);
    assert!(!ok && err.contains("not here"), "{err}");
    let other = files.path().join("other.key");
    std::fs::write(&other, signed::new_key().unwrap()).unwrap();
    let (ok, _, err) = admin(&server, &["ruleset", "publish", "--file", &next, "--signing-key", other.to_str().unwrap()]);
    assert!(!ok && err.contains("not the key devices pinned"), "{err}");
    let (ok, out, err) = admin(&server, &["ruleset", "publish", "--file", &next, "--signing-key", elsewhere.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    diary.sync();
    assert_eq!(diary.open().ruleset_status().unwrap().version, "4.0.0");
}

#[test]
fn a_nurse_makes_the_plan_from_the_template_on_the_patient_page_and_prints_the_summary() {
    use super::care::{hidden, Browser};
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    // A fever: a reason to open her record.
    let mut store = diary.open();
    store.save(&NewEntry::Temperature(NewTemperature { celsius: 38.4, ..Default::default() })).unwrap();
    drop(store);
    diary.sync();
    server.db.add_account("Kari Nurse", companion_clinic::db::Role::Nurse, "a long nurse passphrase").unwrap();
    let kari = Browser::new(&server.url);
    kari.sign_in("Kari Nurse", "a long nurse passphrase");
    let page = kari.get(&format!("/care/patients/{patient}"));
    // No plan yet: the form starts from the clinic's template.
    assert!(page.body.contains("Going-home plan") && page.body.contains("No plan yet"), "{}", page.body);
    assert!(page.body.contains(r#"name="every-esas-r" type="number" min="1" max="365" value="7""#), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let path = format!("/care/patients/{patient}/plan");
    let bad = kari.post(&path, &[("csrf", &csrf), ("every-phq9", "0")]);
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("The plan was not saved"), "{}", bad.body);
    assert_eq!(kari.post_from(&path, &[("csrf", &csrf), ("every-esas-r", "7")], Some("https://elsewhere.example")).status, 403);
    let form = [
        ("csrf", csrf.as_str()),
        ("treatment", "immunotherapy"),
        ("every-esas-r", "7"),
        ("every-temperature", "1"),
        ("for-temperature", "10"),
        ("watch_for", "New cough: call the ward now.\n\nShivering: call the ward now."),
        ("advice", "Drink at least 2 litres a day."),
    ];
    assert_eq!(kari.post(&path, &form).status, 303);
    let (plan, _, stored) = server.db.plan(&patient).unwrap().unwrap();
    assert_eq!(plan.treatment, vec![companion_core::treatment::Treatment::Immunotherapy]);
    assert_eq!(plan.watch_for.len(), 2, "empty lines are dropped");
    assert!(stored.body["meta"]["source"].as_str().unwrap().starts_with("companion-staff:"), "written as the nurse");
    assert!(companion_core::fhir::written_by_clinic(&stored.body));
    diary.sync();
    let store = diary.open();
    assert!(store.treatments().unwrap().contains(&companion_core::treatment::Treatment::Immunotherapy));
    let temperature = store.schedules().unwrap().into_iter().find(|s| s.instrument == "temperature").unwrap();
    assert_eq!((temperature.source, temperature.every_days), ("clinic", 1));
    // The summary for the visit, as the PDF the app makes.
    let pdf = kari.get(&format!("/care/patients/{patient}/summary.pdf"));
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with("%PDF-"));
}
