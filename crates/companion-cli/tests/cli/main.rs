//! The `companion` binary as a script or a support person uses it: real processes, a real store
//! in a temporary folder.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

mod backup;
mod faults;
mod going_home;
mod safety;

const PASS: &str = "correct horse battery";

/// The binary on `dir`, with no secrets from the environment except those a test sets.
fn companion(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_companion"));
    c.arg("--data-dir").arg(dir);
    for var in ["COMPANION_PASSPHRASE", "COMPANION_NEW_PASSPHRASE", "COMPANION_RECOVERY_CODE", "COMPANION_CARER_PASSPHRASE"] {
        c.env_remove(var);
    }
    c
}

struct Diary {
    dir: tempfile::TempDir,
}

impl Diary {
    fn new() -> Diary {
        let d = Diary { dir: tempfile::tempdir().unwrap() };
        let out = d.run(&["init", "--name", "Kari Nordmann"]);
        assert_ok(&out);
        d
    }

    fn cmd(&self, pass: &str) -> Command {
        let mut c = companion(self.dir.path());
        c.env("COMPANION_PASSPHRASE", pass);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(PASS).args(args).output().unwrap()
    }

    fn list(&self) -> Vec<Value> {
        let out = self.run(&["list", "--json"]);
        assert_ok(&out);
        serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn assert_ok(out: &Output) {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Non-zero, and exactly one line on standard error; returns that line.
fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure, got: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    err.trim().to_owned()
}

#[test]
fn init_prints_the_recovery_code_once_and_refuses_a_second_init() {
    let dir = tempfile::tempdir().unwrap();
    let out = companion(dir.path()).args(["init", "--name", "Kari"]).env("COMPANION_PASSPHRASE", PASS).output().unwrap();
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let code = text.lines().find(|l| l.len() == 29 && l.matches('-').count() == 5).expect("a recovery code");
    assert!(code.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));

    let again = companion(dir.path()).args(["init", "--name", "Kari"]).env("COMPANION_PASSPHRASE", PASS).output().unwrap();
    assert!(one_line_error(&again).contains("already exists"));
}

#[test]
fn a_short_passphrase_is_refused_at_init_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = companion(dir.path()).args(["init", "--name", "Kari"]).env("COMPANION_PASSPHRASE", "short").output().unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("passphrase") && line.contains("at least 8"), "{line}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn entries_are_listed_newest_first_with_their_fields() {
    let d = Diary::new();
    assert_ok(&d.run(&["symptom", "add", "--symptom", "pain", "--severity", "6", "--note", "left hip", "--at", "2026-01-01T08:00:00Z"]));
    assert_ok(&d.run(&["temperature", "add", "--celsius", "38.4", "--at", "2026-01-02T08:00:00+01:00"]));
    assert_ok(&d.run(&[
        "symptom",
        "add",
        "--symptom",
        "other",
        "--other-name",
        "hiccups",
        "--severity",
        "2",
        "--at",
        "2026-01-03T08:00:00Z",
    ]));
    assert_ok(&d.run(&["checkin", "add", "--wellbeing", "7"]));
    assert_ok(&d.run(&["question", "add", "--text", "Can I travel in March?"]));

    let list = d.list();
    assert_eq!(list.len(), 5);
    let kinds: Vec<&str> = list.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["question", "checkin", "symptom", "temperature", "symptom"]);
    for e in &list {
        for key in ["id", "kind", "author", "occurred_at", "recorded_at", "status", "device"] {
            assert!(!e[key].is_null(), "{key} missing in {e}");
        }
        assert_eq!(e["author"]["name"], "Kari Nordmann");
        assert_eq!(e["author"]["role"], "patient");
        assert_eq!(e["status"], "final");
    }
    let pain = &list[4];
    assert_eq!(pain["symptom"], "pain");
    assert_eq!(pain["severity"], 6);
    assert_eq!(pain["note"], "left hip");
    assert_eq!(pain["occurred_at"], "2026-01-01T08:00:00Z");
    assert_eq!(list[3]["celsius"], 38.4);
    assert_eq!(list[3]["occurred_at"], "2026-01-02T07:00:00Z");
    assert_eq!(list[2]["other_name"], "hiccups");
    assert_eq!(list[0]["text"], "Can I travel in March?");
    assert_eq!(list[0]["state"], "open");

    let text = d.run(&["list"]);
    assert_ok(&text);
    assert_eq!(String::from_utf8(text.stdout).unwrap().lines().count(), 5);
}

#[test]
fn every_bad_input_is_refused_with_one_line_naming_the_flag_and_nothing_is_written() {
    let d = Diary::new();
    assert_ok(&d.run(&["symptom", "add", "--symptom", "nausea", "--severity", "3"]));
    let before = d.list();
    let long = "x".repeat(2001);
    let long_question = "x".repeat(1001);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["symptom", "add", "--symptom", "", "--severity", "3"], "--symptom"),
        (vec!["symptom", "add", "--symptom", "headache-ish", "--severity", "3"], "--symptom"),
        (vec!["symptom", "add", "--symptom", "other", "--severity", "3"], "--other-name"),
        (vec!["symptom", "add", "--symptom", "pain", "--severity", "11"], "--severity"),
        (vec!["symptom", "add", "--symptom", "pain", "--severity", "-1"], "--severity"),
        (vec!["symptom", "add", "--symptom", "pain", "--severity", "six"], "--severity"),
        (vec!["symptom", "add", "--symptom", "pain", "--severity", "3", "--at", "2099-01-01T00:00:00Z"], "--at"),
        (vec!["symptom", "add", "--symptom", "pain", "--severity", "3", "--at", "yesterday"], "--at"),
        (vec!["symptom", "add", "--symptom", "pain", "--severity", "3", "--note", &long], "--note"),
        (vec!["temperature", "add", "--celsius", "29.9"], "--celsius"),
        (vec!["temperature", "add", "--celsius", "45.1"], "--celsius"),
        (vec!["temperature", "add", "--celsius", "NaN"], "--celsius"),
        (vec!["checkin", "add", "--wellbeing", "12"], "--wellbeing"),
        (vec!["question", "add", "--text", "   "], "--text"),
        (vec!["question", "add", "--text", &long_question], "--text"),
        (vec!["symptom", "add", "--severity", "3"], "--symptom"),
    ];
    for (args, flag) in cases {
        let line = one_line_error(&d.run(&args));
        assert!(line.contains(flag), "{args:?}: {line}");
    }
    assert_eq!(d.list(), before, "a refused input changed the store");
}

#[test]
fn a_wrong_passphrase_fails_with_one_line_and_then_waits() {
    let d = Diary::new();
    let first = d.cmd("not the passphrase").args(["list"]).output().unwrap();
    assert!(one_line_error(&first).contains("wrong passphrase"));
    for _ in 0..3 {
        let _ = d.cmd("not the passphrase").args(["list"]).output().unwrap();
    }
    // After several failures even the right passphrase has to wait, across processes.
    let line = one_line_error(&d.run(&["list"]));
    assert!(line.contains("seconds"), "{line}");
}

#[test]
fn a_missing_diary_is_reported_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = companion(dir.path())
        .args(["symptom", "add", "--symptom", "pain", "--severity", "3"])
        .env("COMPANION_PASSPHRASE", PASS)
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("no diary"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn export_is_a_fhir_collection_bundle() {
    let d = Diary::new();
    assert_ok(&d.run(&["symptom", "add", "--symptom", "pain", "--severity", "6"]));
    assert_ok(&d.run(&["temperature", "add", "--celsius", "38,4"]));
    assert_ok(&d.run(&["question", "add", "--text", "Can I travel?"]));
    let out = d.run(&["export", "--format", "fhir"]);
    assert_ok(&out);
    let bundle: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let resources: Vec<&Value> = bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    let of = |t: &str| resources.iter().filter(|r| r["resourceType"] == t).count();
    assert_eq!(of("Patient"), 1);
    assert_eq!(of("Observation"), 2);
    assert_eq!(of("Communication"), 1);
    let temp = resources.iter().find(|r| r["code"]["coding"][0]["code"] == "8310-5").expect("a body temperature");
    assert_eq!(temp["valueQuantity"]["value"], 38.4);
    assert_eq!(temp["valueQuantity"]["code"], "Cel");
    assert_eq!(temp["valueQuantity"]["system"], "http://unitsofmeasure.org");
}

#[test]
fn withdraw_keeps_the_entry_marked_entered_in_error() {
    let d = Diary::new();
    let out = d.run(&["symptom", "add", "--symptom", "cough", "--severity", "4"]);
    assert_ok(&out);
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_ok(&d.run(&["withdraw", &id]));
    let list = d.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "entered-in-error");
    assert_eq!(list[0]["severity"], 4);
    let history = d.run(&["history", &id]);
    assert_ok(&history);
    assert_eq!(serde_json::from_slice::<Value>(&history.stdout).unwrap().as_array().unwrap().len(), 2);
}

#[test]
fn questions_can_be_edited_answered_and_the_visit_dated() {
    let d = Diary::new();
    let id = |out: Output| String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let a = id(d.run(&["question", "add", "--text", "Can I travel?"]));
    let b = id(d.run(&["question", "add", "--text", "Is the rash normal?"]));
    assert_ok(&d.run(&["question", "reorder", &b, &a]));
    assert_ok(&d.run(&["question", "edit", &a, "--text", "Can I travel in March?"]));
    assert_ok(&d.run(&["question", "mark", &b, "--state", "answered", "--answer", "Yes, use the cream"]));
    assert_ok(&d.run(&["question", "next-visit", "2026-12-03"]));
    let out = d.run(&["question", "list", "--json"]);
    assert_ok(&out);
    let qs: Value = serde_json::from_slice(&out.stdout).unwrap();
    let q = |id: &str| qs.as_array().unwrap().iter().find(|q| q["id"] == id).unwrap().clone();
    assert_eq!(q(&a)["text"], "Can I travel in March?");
    assert_eq!(q(&b)["state"], "answered");
    assert_eq!(q(&b)["answer"], "Yes, use the cream");
    let text = String::from_utf8(d.run(&["question", "list"]).stdout).unwrap();
    assert!(text.contains("next visit: 2026-12-03"), "{text}");
    let bad = one_line_error(&d.run(&["question", "mark", &a, "--state", "forgotten"]));
    assert!(bad.contains("state"), "{bad}");
}

#[test]
fn recovery_code_sets_a_new_passphrase_and_change_replaces_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = || companion(dir.path());
    let init = base().args(["init", "--name", "Kari"]).env("COMPANION_PASSPHRASE", PASS).output().unwrap();
    assert_ok(&init);
    let text = String::from_utf8(init.stdout).unwrap();
    let code = text.lines().last().unwrap().to_owned();

    let recovered = base()
        .arg("recover")
        .env("COMPANION_RECOVERY_CODE", code.to_lowercase().replace('-', " "))
        .env("COMPANION_NEW_PASSPHRASE", "a brand new one")
        .output()
        .unwrap();
    assert_ok(&recovered);
    let old = base().arg("list").env("COMPANION_PASSPHRASE", PASS).output().unwrap();
    assert!(one_line_error(&old).contains("wrong passphrase"));
    let changed = base()
        .args(["passphrase", "change"])
        .env("COMPANION_PASSPHRASE", "a brand new one")
        .env("COMPANION_NEW_PASSPHRASE", "third time lucky")
        .output()
        .unwrap();
    assert_ok(&changed);
    assert_ok(&base().arg("list").env("COMPANION_PASSPHRASE", "third time lucky").output().unwrap());
    let bad_code = base()
        .arg("recover")
        .env("COMPANION_RECOVERY_CODE", "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        .env("COMPANION_NEW_PASSPHRASE", "whatever it is")
        .output()
        .unwrap();
    one_line_error(&bad_code);
}

#[test]
fn without_a_passphrase_and_no_terminal_it_says_what_to_set() {
    let d = Diary::new();
    let out = companion(d.path()).arg("list").stdin(std::process::Stdio::null()).output().unwrap();
    assert!(one_line_error(&out).contains("COMPANION_PASSPHRASE"));
}

#[test]
fn instruments_are_listed() {
    let d = Diary::new();
    let out = d.run(&["instruments", "list", "--json"]);
    assert_ok(&out);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["phq9", "phq2", "gad7", "gad2", "esas-r"]);
}

#[test]
fn an_instrument_check_in_prints_total_band_and_alerts() {
    let d = Diary::new();
    let json = |args: &[&str]| -> Value {
        let out = d.run(args);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let phq = json(&["checkin", "add", "--instrument", "phq9", "--answers", "1,0,2,1,0,0,1,0,0", "--json"]);
    assert_eq!((phq["total"].as_u64(), phq["band"].as_str()), (Some(5), Some("mild")));
    assert_eq!(phq["alerts"].as_array().unwrap().len(), 0);

    let crisis = json(&["checkin", "add", "--instrument", "phq9", "--answers", "0,0,0,0,0,0,0,0,1", "--json"]);
    assert_eq!(crisis["total"], 1);
    assert_eq!(crisis["alerts"][0]["level"], "crisis");
    assert_eq!(crisis["alerts"][0]["rule"], "phq9-item9");
    assert_eq!(crisis["alerts"][0]["ruleset_version"], "2.0.0");
    // The app's name for it too, the same list.
    assert_eq!(crisis["advice"], crisis["alerts"]);

    let gad = json(&["checkin", "add", "--instrument", "gad7", "--answers", "3,3,3,3,3,0,0", "--json"]);
    assert_eq!((gad["total"].as_u64(), gad["band"].as_str()), (Some(15), Some("severe")));
    let screen = json(&["checkin", "add", "--instrument", "gad2", "--answers", "2,1", "--json"]);
    assert_eq!((screen["positive"].as_bool(), screen["next"].as_str()), (Some(true), Some("gad7")));
    let esas = json(&["checkin", "add", "--instrument", "esas-r", "--answers", "0,1,3,4,6,7,10,4,2", "--json"]);
    assert_eq!(esas["total"], 37);
    let rules: Vec<&str> = esas["alerts"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap()).collect();
    // Shortness of breath 7 and depression 10: two ambers in one form make a call now.
    assert_eq!(rules, ["two-or-more-contact-24h", "esas-item-severe", "esas-mood"]);

    let text = d.run(&["checkin", "add", "--instrument", "phq2", "--answers", "1,1"]);
    assert_ok(&text);
    assert!(String::from_utf8(text.stdout).unwrap().contains("2 of 6, negative"));
    assert_eq!(d.list().len(), 6);
}

#[test]
fn wrong_answers_are_refused_and_nothing_is_stored() {
    let d = Diary::new();
    for (instrument, answers) in [
        ("phq9", "1,0,2"),
        ("phq9", "1,0,2,1,0,0,1,0,4"),
        ("phq9", "1,0,2,1,0,0,1,0,x"),
        ("gad7", "1,1,1,1,1,1,1,1,1"),
        ("gad7", "1,1,1,1,1,1,1,4"),
        ("phq2", "1,1,1"),
        ("esas-r", "0,0,0,0,0,0,0,0,11"),
        ("esas-r", "0,0,0,0,0,0,0,0,-1"),
    ] {
        let line = one_line_error(&d.run(&["checkin", "add", "--instrument", instrument, "--answers", answers]));
        assert!(line.contains("--answers"), "{instrument} {answers}: {line}");
    }
    let line = one_line_error(&d.run(&["checkin", "add", "--instrument", "bdi", "--answers", "1"]));
    assert!(line.contains("--instrument"), "{line}");
    assert!(d.list().is_empty());
}

#[test]
fn a_fever_prints_call_now_advice_without_claiming_the_clinic_knows() {
    let d = Diary::new();
    let out = d.run(&["temperature", "add", "--celsius", "38.5"]);
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[call_now] (fever) Call the cancer ward now."), "{text}");
    assert!(text.contains("has not told the clinic"), "{text}");
    assert_ok(&d.run(&["ward-phone", "22 11 80 80"]));
    let out = d.run(&["temperature", "add", "--celsius", "39.1", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["alerts"][0]["contacts"][0]["number"], "22 11 80 80");
    let calm = d.run(&["temperature", "add", "--celsius", "36.8"]);
    assert!(!String::from_utf8(calm.stdout).unwrap().contains("ADVICE"));
    let low = d.run(&["temperature", "add", "--celsius", "35.5", "--unwell"]);
    assert!(String::from_utf8(low.stdout).unwrap().contains("[call_now]"));
    let blood = d.run(&["symptom", "add", "--symptom", "diarrhoea", "--severity", "3", "--flag", "blood"]);
    assert!(String::from_utf8(blood.stdout).unwrap().contains("[call_now]"));
    let bad = one_line_error(&d.run(&["symptom", "add", "--symptom", "pain", "--severity", "3", "--flag", "blood"]));
    assert!(bad.contains("--flag "), "{bad}");
}

#[test]
fn schedules_are_set_and_listed() {
    let d = Diary::new();
    assert_ok(&d.run(&["schedule", "set", "--instrument", "esas-r", "--every-days", "7"]));
    let out = d.run(&["schedule", "list", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v[0]["instrument"].as_str(), v[0]["state"].as_str()), (Some("esas-r"), Some("due")));
    let bad = one_line_error(&d.run(&["schedule", "set", "--instrument", "esas-r", "--every-days", "0"]));
    assert!(bad.contains("--every-days"), "{bad}");
}

#[test]
fn a_carer_added_on_this_device_writes_as_themselves_and_stops_working_when_removed() {
    const KARI: &str = "kari's own passphrase";
    let d = Diary::new();
    assert_ok(&d.run(&["checkin", "add", "--wellbeing", "3", "--note", "PATIENT-MOOD"]));
    assert_ok(&d.run(&["symptom", "add", "--symptom", "tiredness", "--severity", "4"]));

    // Bad input is named, and no carer is half-added.
    let bad = d
        .cmd(PASS)
        .env("COMPANION_CARER_PASSPHRASE", KARI)
        .args(["carer", "add", "--name", "Kari", "--relationship", "daughter", "--allow", "everything"])
        .output()
        .unwrap();
    assert!(one_line_error(&bad).contains("--allow"));
    let short = d
        .cmd(PASS)
        .env("COMPANION_CARER_PASSPHRASE", "short")
        .args(["carer", "add", "--name", "Kari", "--relationship", "daughter"])
        .output()
        .unwrap();
    assert!(one_line_error(&short).contains("COMPANION_CARER_PASSPHRASE"));
    let never = d
        .cmd(PASS)
        .env("COMPANION_CARER_PASSPHRASE", KARI)
        .args(["carer", "add", "--name", "Kari", "--relationship", "daughter", "--days", "0"])
        .output()
        .unwrap();
    assert!(one_line_error(&never).contains("--days"));
    let add = d
        .cmd(PASS)
        .env("COMPANION_CARER_PASSPHRASE", KARI)
        .args(["carer", "add", "--name", "Kari", "--relationship", "daughter", "--days", "30"])
        .output()
        .unwrap();
    assert_ok(&add);
    assert!(String::from_utf8_lossy(&add.stdout).contains("Their access ends by itself on"));
    assert!(String::from_utf8_lossy(&add.stdout).contains("observations,questions,symptoms"));
    let list = d.run(&["carer", "list", "--json"]);
    assert_ok(&list);
    let carers: Value = serde_json::from_slice(&list.stdout).unwrap();
    let here = &carers["on_this_device"][0];
    assert_eq!((here["name"].as_str(), here["relationship"].as_str()), (Some("Kari"), Some("daughter")));
    assert!(here["until"].is_string(), "{here}");
    // The app's carers reply, under its names, with the old one kept.
    assert_eq!(carers["carers"], carers["on_this_device"]);
    assert_eq!((carers["owner"].as_bool(), carers["me"]["role"].as_str()), (Some(true), Some("patient")));

    // With Kari's passphrase, Kari is the author, and she does not see the check-in.
    let logged = d.cmd(KARI).args(["symptom", "add", "--symptom", "tiredness", "--severity", "8", "--json"]).output().unwrap();
    assert_ok(&logged);
    let kari_list = d.cmd(KARI).args(["list", "--json"]).output().unwrap();
    assert_ok(&kari_list);
    let seen: Value = serde_json::from_slice(&kari_list.stdout).unwrap();
    assert_eq!(seen.as_array().unwrap().len(), 2, "two symptoms, no check-in: {seen}");
    assert!(!String::from_utf8_lossy(&kari_list.stdout).contains("PATIENT-MOOD"));
    let refused = d.cmd(KARI).args(["carer", "remove", "--name", "Kari"]).output().unwrap();
    assert!(one_line_error(&refused).contains("not been given access"));

    // The patient sees who entered what.
    let all = d.list();
    let by_kari = all.iter().find(|e| e["severity"] == 8).unwrap();
    assert_eq!((by_kari["author"]["name"].as_str(), by_kari["author"]["role"].as_str()), (Some("Kari"), Some("carer")));
    assert_eq!(by_kari["author"]["relationship"], "daughter");
    let text = d.run(&["list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("(entered by Kari, daughter)"));

    // The summary for the visit keeps Kari's rating apart from the patient's own.
    let summary = d.run(&["summary", "--days", "7"]);
    assert_ok(&summary);
    let text = String::from_utf8_lossy(&summary.stdout);
    let (own, hers) = text.split_once("Reported by Kari (daughter), a carer").expect(&text);
    assert!(own.contains("Reported by") && own.contains("the patient") && own.contains("worst 4/10") && !own.contains("8/10"), "{text}");
    assert!(hers.contains("Tiredness") && hers.contains("worst 8/10") && !hers.contains("Wellbeing"), "{text}");
    assert!(text.contains("Seen differently:\n  Tiredness: Kari (daughter) 8/10"), "{text}");
    let json: Value = serde_json::from_slice(&d.run(&["summary", "--json"]).stdout).unwrap();
    assert_eq!(json["people"].as_array().unwrap().len(), 2);
    let kari_sees = d.cmd(KARI).args(["summary"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&kari_sees.stdout).contains("Wellbeing"), "the check-in was not shared with Kari");
    assert!(one_line_error(&d.run(&["summary", "--days", "400"])).contains("--days"));

    let removed = d.run(&["carer", "remove", "--name", "Kari"]);
    assert_ok(&removed);
    let after = d.cmd(KARI).args(["list"]).output().unwrap();
    assert!(one_line_error(&after).contains("wrong passphrase"));
    assert_eq!(d.list().len(), 3, "everything kept");
    assert_eq!(String::from_utf8_lossy(&d.run(&["carer", "list"]).stdout).trim(), "No carers.");
}
