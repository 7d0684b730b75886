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
    assert_eq!((a.ruleset.as_str(), a.ruleset_version.as_str()), ("companion-default", "2.0.0"));
    assert_eq!(a.contacts[0].role, "ward");
    assert_eq!(a.contacts[0].number, None, "not set yet");
    assert_eq!(a.contacts[1].number.as_deref(), Some("116 117"));
    // Without the ward's number, the emergency number is offered as well.
    assert_eq!((a.contacts[2].role.as_str(), a.contacts[2].number.as_deref()), ("emergency", Some("113")));
    assert_eq!(store.advice_for(saved.entry.id).unwrap(), saved.advice);

    assert!(matches!(store.set_ward_phone(Some("call me")), Err(Error::Invalid(i)) if i.field == "ward_phone"));
    store.set_ward_phone(Some("+47 22 93 40 00")).unwrap();
    let again = store.save(&temperature(39.0)).unwrap();
    assert_eq!(again.advice[0].contacts[0].number.as_deref(), Some("+47 22 93 40 00"));
    assert_eq!(again.advice[0].contacts.len(), 2, "the ward and the out-of-hours doctor");
    assert!(store.save(&temperature(37.0)).unwrap().advice.is_empty());
}

#[test]
fn several_symptoms_saved_together_are_one_write_and_count_together() {
    let (_dir, mut store, _) = diary();
    // Two that each need contact within 24 hours, logged in one form: together, call now.
    let saved = store.save_all(&[symptom("pain", 7, &[]), symptom("tiredness", 3, &[]), symptom("nausea", 8, &[])]).unwrap();
    assert_eq!(saved.len(), 3);
    assert_eq!(saved[0].advice[0].level, Level::Contact24h);
    // No ward's number yet: the out-of-hours doctor is offered beside it.
    let roles: Vec<_> = saved[0].advice[0].contacts.iter().map(|c| (c.role.as_str(), c.number.clone())).collect();
    assert_eq!(roles, [("ward", None), ("out_of_hours", Some("116 117".to_string()))]);
    assert!(saved[1].advice.is_empty());
    assert!(saved[2].advice.iter().any(|a| a.rule == "two-or-more-contact-24h" && a.level == Level::CallNow));
    assert_eq!(store.timeline(TimelineFilter::default()).unwrap().len(), 3);

    // One refused: nothing of the form is written, and the error names the field.
    let bad = store.save_all(&[symptom("cough", 2, &[]), symptom("pain", 11, &[])]);
    assert!(matches!(bad, Err(Error::Invalid(i)) if i.field == "severity"));
    let empty = store.save_all(&[]);
    assert!(matches!(empty, Err(Error::Invalid(i)) if i.field == "entries"));
    let many: Vec<NewEntry> = (0..21).map(|_| symptom("cough", 1, &[])).collect();
    assert!(matches!(store.save_all(&many), Err(Error::Invalid(i)) if i.field == "entries"));
    assert_eq!(store.timeline(TimelineFilter::default()).unwrap().len(), 3, "nothing half-written");
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

/// The cases in `fixtures/advice-cases.json`: records saved in order on a real diary, by the
/// patient or by the carer Ingrid on the patient's device, and the advice each raised.
#[test]
fn every_case_in_the_fixture_raises_exactly_the_advice_it_lists() {
    use companion_core::domain::Scope;
    use companion_core::instruments::{AnswerValue, ItemAnswer};
    use companion_core::treatment::Treatment;
    use serde_json::Value;

    const CARER: &str = "ingrid keeps watch";
    let cases: Value = serde_json::from_str(include_str!("fixtures/advice-cases.json")).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (dir, mut patient, clock) = diary();
        let treatments: Vec<Treatment> =
            case["treatments"].as_array().into_iter().flatten().map(|t| Treatment::parse(t.as_str().unwrap()).unwrap()).collect();
        patient.set_treatments(&treatments).unwrap();
        patient.add_carer("Ingrid", "daughter", CARER, &[Scope::Observations, Scope::Questions, Scope::Symptoms], PASS, None).unwrap();
        // Whoever is signed in now: the patient, or Ingrid.
        let mut by_carer = false;
        let mut store = patient;
        let mut saved: Vec<uuid::Uuid> = Vec::new();
        for (i, r) in case["records"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name}, record {i}");
            if let Some(h) = r["after_hours"].as_i64() {
                *clock.0.lock().unwrap() += Duration::hours(h);
            }
            let want_carer = r["by"].as_str() == Some("carer");
            if want_carer != by_carer {
                store.lock();
                store = Store::open(dir.path(), if want_carer { CARER } else { PASS }, clock.clone()).unwrap();
                by_carer = want_carer;
            }
            if let Some(n) = r["withdraw"].as_u64() {
                store.withdraw(saved[n as usize]).unwrap();
                saved.push(uuid::Uuid::nil());
                continue;
            }
            // A correction of an earlier record of the case, with the content given.
            let correct = r["correct"].as_u64().map(|n| saved[n as usize]);
            let save = |store: &mut Store, input: NewEntry| match correct {
                Some(id) => store.correct(id, &input),
                None => store.save(&input),
            };
            let result = if let Some(c) = r["temperature"].as_f64() {
                let input = NewTemperature { celsius: c, feels_unwell: r["unwell"].as_bool().unwrap_or(false), ..Default::default() };
                save(&mut store, NewEntry::Temperature(input))
            } else if let Some(code) = r["symptom"].as_str() {
                let flags: Vec<&str> = r["flags"].as_array().into_iter().flatten().map(|f| f.as_str().unwrap()).collect();
                let mut input = symptom(code, r["severity"].as_i64().unwrap(), &flags);
                if let (NewEntry::Symptom(s), Some(other)) = (&mut input, r["other_name"].as_str()) {
                    s.other_name = Some(other.into());
                }
                save(&mut store, input)
            } else {
                let id = r["instrument"].as_str().unwrap();
                let values: Vec<i64> = r["answers"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
                let mut answers = instruments::get(id).unwrap().answers_from_values(&values).unwrap();
                if let Some(other) = r["other"].as_array() {
                    let value = AnswerValue::String { value: other[0].as_str().unwrap().into() };
                    answers.push(ItemAnswer { link_id: "esas-other-name".into(), value });
                    answers.push(ItemAnswer {
                        link_id: "esas-other".into(),
                        value: AnswerValue::Integer { value: other[1].as_i64().unwrap() },
                    });
                }
                store.add_assessment(id, &answers, None)
            };
            let result = result.unwrap_or_else(|e| panic!("{at}: {e}"));
            let got: Vec<String> = result.advice.iter().map(|a| format!("{}:{}", a.level.as_str(), a.rule)).collect();
            let want: Vec<String> = r["expect"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_owned()).collect();
            assert_eq!(got, want, "{at}");
            assert_eq!(result.entry.author.name, if by_carer { "Ingrid" } else { "Kari" }, "{at}");
            saved.push(result.entry.id);
        }
        store.lock();
    }
}

#[test]
fn an_acknowledgement_is_recorded_once_with_who_and_when_and_goes_to_the_clinic_again() {
    let (_dir, mut store, clock) = diary();
    let saved = store.save(&temperature(38.6)).unwrap();
    let id = saved.advice[0].id;
    assert_eq!(saved.advice[0].acknowledged_at, None);
    let (pending, _) = store.outbox_counts().unwrap();
    *clock.0.lock().unwrap() += Duration::seconds(30);
    let acked = store.acknowledge_advice(&[id]).unwrap();
    let first = acked[0].acknowledged_at.unwrap();
    assert_eq!(acked[0].acknowledged_by.as_ref().unwrap().name, "Kari");
    assert_eq!(store.outbox_counts().unwrap().0, pending, "the Flag is queued again (one row per item)");
    *clock.0.lock().unwrap() += Duration::minutes(5);
    let again = store.acknowledge_advice(&[id]).unwrap();
    assert_eq!(again[0].acknowledged_at, Some(first), "the first acknowledgement stands");
    assert!(matches!(store.acknowledge_advice(&[uuid::Uuid::new_v4()]), Err(Error::NotFound)));
    let listed = store.advice_shown(1).unwrap();
    assert_eq!(listed[0].acknowledged_at, Some(first));
    assert!(matches!(store.advice_shown(0), Err(Error::Invalid(i)) if i.field == "days"));
}

#[test]
fn measure_again_sets_a_reminder_in_an_hour_that_a_new_temperature_ends() {
    let (dir, mut store, clock) = diary();
    let saved = store.save(&temperature(37.6)).unwrap();
    let a = &saved.advice[0];
    assert_eq!(a.level, Level::Recheck);
    assert_eq!(a.follow_up_at, Some(a.raised_at + Duration::minutes(60)));
    assert_eq!(a.fever_from, Some(38.0), "the card names the ruleset's threshold");
    let r = store.rechecks().unwrap();
    assert_eq!((r.len(), r[0].state), (1, "upcoming"));
    // The reminder is kept outside the diary too, so it rings while the diary is locked.
    assert_eq!(companion_core::alarms::Alarms::load(dir.path()).due, [r[0].due_at]);
    *clock.0.lock().unwrap() += Duration::minutes(61);
    assert_eq!(store.rechecks().unwrap()[0].state, "due");
    store.save(&temperature(37.3)).unwrap();
    assert!(store.rechecks().unwrap().is_empty(), "measured again");
    assert!(companion_core::alarms::Alarms::load(dir.path()).due.is_empty());
    // A correction that takes the reading out of the range ends its reminder too.
    let second = store.save(&temperature(37.8)).unwrap();
    assert_eq!(store.rechecks().unwrap().len(), 1);
    store.correct(second.entry.id, &temperature(37.0)).unwrap();
    assert!(store.rechecks().unwrap().is_empty());
}

#[test]
fn a_corrected_amber_no_longer_counts_towards_a_call_now() {
    let (_dir, mut store, _) = diary();
    let pain = store.save(&symptom("pain", 8, &[])).unwrap();
    store.correct(pain.entry.id, &symptom("pain", 3, &[])).unwrap();
    let nausea = store.save(&symptom("nausea", 8, &[])).unwrap();
    assert_eq!(nausea.advice.iter().map(|a| a.level).collect::<Vec<_>>(), [Level::Contact24h]);
}

#[test]
fn treatments_are_the_owners_to_set() {
    use companion_core::treatment::Treatment;
    let (dir, mut store, clock) = diary();
    assert!(store.treatments().unwrap().is_empty());
    let set = store.set_treatments(&[Treatment::Immunotherapy, Treatment::Chemotherapy, Treatment::Immunotherapy]).unwrap();
    assert_eq!(set, [Treatment::Chemotherapy, Treatment::Immunotherapy]);
    let scopes = [companion_core::domain::Scope::Observations];
    store.add_carer("Ingrid", "daughter", "ingrid keeps watch", &scopes, PASS, None).unwrap();
    store.lock();
    let mut carer = Store::open(dir.path(), "ingrid keeps watch", clock).unwrap();
    assert!(matches!(carer.set_treatments(&[]), Err(Error::NotPermitted)));
    assert_eq!(carer.treatments().unwrap().len(), 2, "the carer's advice follows the patient's treatment");
    let saved = carer.save(&symptom("cough", 1, &[])).unwrap();
    assert_eq!(saved.advice[0].rule, "immunotherapy-cough");
}

#[test]
fn a_call_now_from_two_ambers_names_none_of_what_the_reader_may_not_see() {
    use companion_core::domain::Scope;
    let (dir, mut patient, clock) = diary();
    // Kari's ESAS-r with depression at 8: sealed under the check-ins key Ingrid is not given.
    let esas = instruments::get("esas-r").unwrap();
    patient.add_assessment("esas-r", &esas.answers_from_values(&[0, 0, 0, 0, 0, 0, 8, 0, 0]).unwrap(), None).unwrap();
    patient.add_carer("Ingrid", "daughter", "ingrid keeps watch", &[Scope::Observations, Scope::Symptoms], PASS, None).unwrap();
    patient.lock();
    let mut carer = Store::open(dir.path(), "ingrid keeps watch", clock).unwrap();
    let saved = carer.save(&symptom("pain", 7, &[])).unwrap();
    // Two ambers about different problems: the call-now fires, but says nothing of Kari's form.
    assert_eq!(saved.advice[0].rule, "two-or-more-contact-24h");
    for a in carer.advice_shown(1).unwrap() {
        assert!(!a.problems.iter().any(|p| p == "depression"), "{a:?}");
    }
    assert!(carer.advice_shown(1).unwrap().iter().all(|a| a.entry_id == saved.entry.id), "advice about the form stays hidden");
}

#[test]
fn each_person_acknowledges_for_themselves() {
    use companion_core::domain::Scope;
    let (dir, mut patient, clock) = diary();
    patient.add_carer("Ingrid", "daughter", "ingrid keeps watch", &[Scope::Observations, Scope::Symptoms], PASS, None).unwrap();
    let fever = patient.save(&temperature(38.9)).unwrap();
    let id = fever.advice[0].id;
    patient.lock();
    let mut carer = Store::open(dir.path(), "ingrid keeps watch", clock.clone()).unwrap();
    carer.acknowledge_advice(&[id]).unwrap();
    carer.lock();
    *clock.0.lock().unwrap() += Duration::minutes(2);
    let mut patient = Store::open(dir.path(), PASS, clock).unwrap();
    let both = patient.acknowledge_advice(&[id]).unwrap();
    let who: Vec<&str> = both[0].acknowledgements.iter().map(|a| a.by.name.as_str()).collect();
    assert_eq!(who, ["Ingrid", "Kari"], "the carer's does not stand for the patient's");
    assert_eq!(both[0].acknowledged_by.as_ref().unwrap().name, "Ingrid", "the first one");
}

#[test]
fn a_reading_taken_before_the_advice_does_not_end_measure_again_and_a_withdrawal_does() {
    let (dir, mut store, clock) = diary();
    let raised = store.save(&temperature(37.7)).unwrap();
    assert_eq!(store.rechecks().unwrap().len(), 1);
    // Logged now, taken an hour ago: not a measurement after the advice.
    let earlier = (*clock.0.lock().unwrap() - Duration::hours(1)).to_rfc3339();
    store.save(&NewEntry::Temperature(NewTemperature { celsius: 37.0, occurred_at: Some(earlier), ..Default::default() })).unwrap();
    assert_eq!(store.rechecks().unwrap().len(), 1, "still to measure again");
    assert_eq!(companion_core::alarms::Alarms::load(dir.path()).due.len(), 1, "and it still rings");
    store.withdraw(raised.entry.id).unwrap();
    assert!(store.rechecks().unwrap().is_empty());
    assert!(companion_core::alarms::Alarms::load(dir.path()).due.is_empty(), "a withdrawn reading rings nothing");
}
