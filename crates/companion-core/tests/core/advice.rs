//! Safety advice as the patient meets it: raised the moment a record is saved, recorded with
//! its rule and ruleset version, in the same transaction; check-ins scored and scheduled.

use chrono::{DateTime, Duration, Utc};
use companion_core::domain::{NewSymptom, NewTemperature};
use companion_core::rules::Level;
use companion_core::store::TimelineFilter;
use companion_core::{instruments, Clock, Error, NewEntry, Store};
use std::sync::{Arc, Mutex};

const PASS: &str = "correct horse battery";

pub(crate) struct ManualClock(pub(crate) Mutex<DateTime<Utc>>);
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn diary() -> (tempfile::TempDir, Store, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
    let (store, _) = Store::create(dir.path(), "Kari", PASS, clock.clone()).unwrap();
    (dir, store, clock)
}

fn temperature(celsius: f64) -> NewEntry {
    NewEntry::Temperature(NewTemperature { celsius, ..Default::default() })
}

fn symptom(code: &str, severity: i64, flags: &[&str]) -> NewEntry {
    NewEntry::Symptom(NewSymptom {
        symptom: code.into(),
        severity,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        ..Default::default()
    })
}

#[test]
fn a_fever_raises_call_now_with_the_wards_number_and_is_recorded() {
    let (_dir, mut store, _) = diary();
    let saved = store.save(&temperature(38.5)).unwrap();
    assert_eq!(saved.advice.len(), 1);
    let a = &saved.advice[0];
    assert_eq!((a.rule.as_str(), a.level), ("fever", Level::CallNow));
    assert_eq!((a.ruleset.as_str(), a.ruleset_version.as_str()), ("companion-default", "1.0.0"));
    assert_eq!(a.contacts[0].role, "ward");
    assert_eq!(a.contacts[0].number, None, "not set yet");
    assert_eq!(a.contacts[1].number.as_deref(), Some("116 117"));
    assert_eq!(store.advice_for(saved.entry.id).unwrap(), saved.advice);

    assert!(matches!(store.set_ward_phone(Some("call me")), Err(Error::Invalid(i)) if i.field == "ward_phone"));
    store.set_ward_phone(Some("+47 22 93 40 00")).unwrap();
    let again = store.save(&temperature(39.0)).unwrap();
    assert_eq!(again.advice[0].contacts[0].number.as_deref(), Some("+47 22 93 40 00"));
    assert!(store.save(&temperature(37.0)).unwrap().advice.is_empty());
}

#[test]
fn two_contact_within_24_hours_make_a_call_now_and_old_ones_do_not() {
    let (_dir, mut store, clock) = diary();
    let first = store.save(&symptom("pain", 7, &[])).unwrap();
    assert_eq!(first.advice[0].level, Level::Contact24h);
    *clock.0.lock().unwrap() += Duration::hours(25);
    let second = store.save(&symptom("tiredness", 8, &[])).unwrap();
    assert_eq!(second.advice.len(), 1, "the first is outside the window");
    *clock.0.lock().unwrap() += Duration::hours(2);
    let third = store.save(&symptom("nausea", 9, &[])).unwrap();
    assert_eq!(third.advice[0].level, Level::CallNow);
    assert_eq!(third.advice[0].rule, "two-or-more-contact-24h");
    // A withdrawn entry's advice no longer counts.
    store.withdraw(third.entry.id).unwrap();
    store.withdraw(second.entry.id).unwrap();
    let fourth = store.save(&symptom("cough", 7, &[])).unwrap();
    assert_eq!(fourth.advice.len(), 1);
    assert_eq!(fourth.advice[0].level, Level::Contact24h);
}

#[test]
fn call_now_symptoms_and_emergencies() {
    let (_dir, mut store, _) = diary();
    let chest = store.save(&symptom("chest-pain", 2, &[])).unwrap();
    assert_eq!(chest.advice[0].level, Level::Emergency);
    assert_eq!(chest.advice[0].contacts[0].number.as_deref(), Some("113"));
    let blood = store.save(&symptom("diarrhoea", 2, &["blood"])).unwrap();
    assert_eq!(blood.advice[0].level, Level::CallNow);
}

#[test]
fn phq9_item_9_raises_the_crisis_card_with_the_numbers_to_call() {
    let (_dir, mut store, _) = diary();
    let phq = instruments::get("phq9").unwrap();
    let answers = phq.answers_from_values(&[0, 0, 0, 0, 0, 0, 0, 0, 2]).unwrap();
    let saved = store.add_assessment("phq9", &answers, None).unwrap();
    let crisis = &saved.advice[0];
    assert_eq!((crisis.rule.as_str(), crisis.level), ("phq9-item9", Level::Crisis));
    let numbers: Vec<_> = crisis.contacts.iter().map(|c| c.number.clone().unwrap()).collect();
    assert_eq!(numbers, ["113", "116 117", "116 123"]);
}

#[test]
fn bad_answers_are_refused_and_nothing_is_stored() {
    let (_dir, mut store, _) = diary();
    let esas = instruments::get("esas-r").unwrap();
    let answers = esas.answers_from_values(&[0, 0, 0, 0, 0, 0, 0, 0, 11]).unwrap();
    assert!(matches!(store.add_assessment("esas-r", &answers, None), Err(Error::Invalid(i)) if i.field == "answers"));
    assert!(store.add_assessment("bdi-ii", &[], None).is_err());
    assert!(store.timeline(TimelineFilter::default()).unwrap().is_empty());
    assert!(store.advice_since(Utc::now() - Duration::days(1)).unwrap().is_empty());
}

#[test]
fn schedules_fall_due_and_a_check_in_resets_them() {
    let (_dir, mut store, clock) = diary();
    let s = store.set_schedule("esas-r", Some(7)).unwrap();
    assert_eq!((s[0].instrument.as_str(), s[0].state), ("esas-r", "due"));
    let esas = instruments::get("esas-r").unwrap();
    store.add_assessment("esas-r", &esas.answers_from_values(&[1; 9]).unwrap(), None).unwrap();
    assert_eq!(store.schedules().unwrap()[0].state, "upcoming");
    *clock.0.lock().unwrap() += Duration::days(7);
    assert_eq!(store.schedules().unwrap()[0].state, "due");
    *clock.0.lock().unwrap() += Duration::days(3);
    assert_eq!(store.schedules().unwrap()[0].state, "overdue");
    assert!(matches!(store.set_schedule("esas-r", Some(0)), Err(Error::Invalid(i)) if i.field == "every_days"));
    assert!(store.set_schedule("esas-r", None).unwrap().is_empty());
}
