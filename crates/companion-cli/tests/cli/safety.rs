//! The safety commands exactly as the issue's acceptance checks write them: treatment, the new
//! symptoms and details, `alerts` with `level` and `rule`, PHQ-9's item 9 in the JSON, the
//! difficulty question as a tenth value, and `advice list` / `advice ack`.

use super::{assert_ok, one_line_error, Diary};
use serde_json::Value;

fn json(d: &Diary, args: &[&str]) -> Value {
    let out = d.run(args);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn alerts(v: &Value) -> Vec<(String, String)> {
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["level"].as_str().unwrap().to_owned(), a["rule"].as_str().unwrap().to_owned()))
        .collect()
}

fn one(level: &str, rule: &str) -> Vec<(String, String)> {
    vec![(level.to_owned(), rule.to_owned())]
}

#[test]
fn feeling_unwell_at_37_2_is_call_now_and_a_slight_rise_sets_a_reminder() {
    let d = Diary::new();
    let v = json(&d, &["temperature", "add", "--celsius", "37.2", "--unwell", "--json"]);
    assert_eq!(alerts(&v), one("call_now", "temperature-unwell"));
    let v = json(&d, &["temperature", "add", "--celsius", "37,6", "--json"]);
    assert_eq!(alerts(&v), one("recheck", "temperature-recheck"));
    assert!(v["alerts"][0]["follow_up_at"].is_string(), "{v}");
    assert_eq!(v["advice"], v["alerts"], "the app's name for the same list");
    let text = d.run(&["temperature", "add", "--celsius", "37.7"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Call at once if you feel unwell or start shivering"), "{text}");
    assert!(text.contains("38.0 °C"), "the ruleset's threshold: {text}");
}

#[test]
fn shivering_collapse_and_severe_breathlessness() {
    let d = Diary::new();
    let v = json(&d, &["symptom", "add", "--symptom", "shivering", "--severity", "3", "--json"]);
    assert_eq!(alerts(&v), one("call_now", "shivering"));
    let v = json(&d, &["symptom", "add", "--symptom", "collapse", "--severity", "5", "--json"]);
    assert_eq!(alerts(&v), one("emergency", "collapse"));
    assert_eq!(v["alerts"][0]["contacts"][0]["number"], "113");
    let v = json(&d, &["symptom", "add", "--symptom", "shortness-of-breath", "--severity", "6", "--flag", "severe", "--json"]);
    assert_eq!(alerts(&v), one("emergency", "breathless-severe"));
    let text = String::from_utf8(d.run(&["symptom", "add", "--symptom", "chest-pain", "--severity", "2"]).stdout).unwrap();
    assert!(text.contains("Call 113 now."), "{text}");
    let v = json(&d, &["symptom", "add", "--symptom", "cough", "--severity", "2", "--flag", "blood", "--json"]);
    assert_eq!(alerts(&v), one("call_now", "cough-blood"));
    let bad = one_line_error(&d.run(&["symptom", "add", "--symptom", "cough", "--severity", "2", "--flag", "severe"]));
    assert!(bad.contains("--flag"), "{bad}");
}

#[test]
fn the_treatment_changes_what_a_symptom_means() {
    let d = Diary::new();
    let v = json(&d, &["treatment", "show", "--json"]);
    assert_eq!(v["treatments"], serde_json::json!([]));
    let v = json(&d, &["symptom", "add", "--symptom", "diarrhoea", "--severity", "2", "--json"]);
    assert_eq!(alerts(&v), []);
    assert_ok(&d.run(&["treatment", "set", "--on", "immunotherapy,chemotherapy"]));
    let v = json(&d, &["treatment", "show", "--json"]);
    assert_eq!(v["treatments"], serde_json::json!(["chemotherapy", "immunotherapy"]));
    let v = json(&d, &["symptom", "add", "--symptom", "diarrhoea", "--severity", "2", "--json"]);
    assert_eq!(alerts(&v), one("call_now", "immunotherapy-diarrhoea"));
    let v = json(&d, &["symptom", "add", "--symptom", "cough", "--severity", "1", "--json"]);
    assert_eq!(alerts(&v), one("call_now", "immunotherapy-cough"));
    assert_ok(&d.run(&["treatment", "set", "--none"]));
    let text = String::from_utf8(d.run(&["treatment", "show"]).stdout).unwrap();
    assert_eq!(text.trim(), "no treatment set");
    let bad = one_line_error(&d.run(&["treatment", "set", "--on", "surgery"]));
    assert!(bad.contains("--on"), "{bad}");
    let bad = one_line_error(&d.run(&["treatment", "set"]));
    assert!(bad.contains("--on") || bad.contains("--none"), "{bad}");
}

#[test]
fn item9_is_printed_beside_the_total_and_the_difficulty_question_is_a_tenth_value() {
    let d = Diary::new();
    let v = json(&d, &["checkin", "add", "--instrument", "phq9", "--answers", "1,0,2,1,0,0,1,0,1,2", "--json"]);
    assert_eq!((v["total"].as_u64(), v["item9"].as_u64()), (Some(6), Some(1)));
    assert_eq!(alerts(&v), one("crisis", "phq9-item9"));
    let v = json(&d, &["checkin", "add", "--instrument", "phq9", "--answers", "0,0,0,0,0,0,0,0,0", "--json"]);
    assert_eq!(v["item9"], 0);
    let v = json(&d, &["checkin", "add", "--instrument", "gad7", "--answers", "1,1,1,1,1,1,1,3", "--json"]);
    assert_eq!(v["total"], 7);
    assert!(v.get("item9").is_none(), "only PHQ-9 has item 9");
    let text = String::from_utf8(d.run(&["checkin", "add", "--instrument", "phq9", "--answers", "1,1,1,1,1,1,1,1,2"]).stdout).unwrap();
    assert!(text.contains("thoughts of being better off dead or of hurting yourself: More than half the days"), "{text}");
    // The export carries the difficulty answer with LOINC's code for what was chosen.
    let export = json(&d, &["export", "--format", "fhir"]);
    let found: Vec<&Value> = export["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["item"].as_array())
        .flatten()
        .filter(|i| i["linkId"].as_str().is_some_and(|l| l.ends_with("-difficulty")))
        .collect();
    let codes: Vec<(&str, &str)> = found
        .iter()
        .map(|i| (i["answer"][0]["valueCoding"]["code"].as_str().unwrap(), i["answer"][0]["valueCoding"]["display"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("LA6575-0", "Very difficult")), "{codes:?}");
    assert!(codes.contains(&("LA6574-3", "Extremely difficult")), "{codes:?}");
    let list = json(&d, &["list", "--json"]);
    let listed = String::from_utf8(d.run(&["list"]).stdout).unwrap();
    assert!(listed.contains("question 9, thoughts of self-harm: Several days"), "{listed}");
    assert_eq!(list.as_array().unwrap().len(), 4);
}

#[test]
fn esas_r_records_who_completed_it() {
    let d = Diary::new();
    let v = json(&d, &["checkin", "add", "--instrument", "esas-r", "--answers", "1,1,1,1,1,1,1,1,1", "--json"]);
    assert_eq!(v["completed_by"], "patient");
    let v = json(
        &d,
        &["checkin", "add", "--instrument", "esas-r", "--answers", "1,1,1,1,1,1,1,1,1", "--completed-by", "caregiver-assisted", "--json"],
    );
    assert_eq!(v["completed_by"], "caregiver-assisted");
    let bad = one_line_error(&d.run(&[
        "checkin",
        "add",
        "--instrument",
        "esas-r",
        "--answers",
        "1,1,1,1,1,1,1,1,1",
        "--completed-by",
        "family-caregiver",
    ]));
    assert!(bad.contains("--completed-by"), "{bad}");
    let export = json(&d, &["export", "--format", "fhir"]);
    let qr: Vec<&Value> = export["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "QuestionnaireResponse")
        .collect();
    assert_eq!(qr.len(), 2, "the refused one is not stored");
    for r in qr {
        assert!(r["author"]["reference"].is_string());
        let by = r["item"].as_array().unwrap().iter().find(|i| i["linkId"] == "esas-completed-by").unwrap();
        assert!(by["answer"][0]["valueCoding"]["display"].is_string(), "{by}");
    }
}

#[test]
fn advice_is_listed_with_its_record_and_acknowledged() {
    let d = Diary::new();
    let fever = json(&d, &["temperature", "add", "--celsius", "38.4", "--json"]);
    let id = fever["alerts"][0]["id"].as_str().unwrap().to_owned();
    let entry = fever["entry"]["id"].as_str().unwrap().to_owned();
    let list = json(&d, &["advice", "list", "--json"]);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!((list[0]["entry_id"].as_str(), list[0]["withdrawn"].as_bool()), (Some(entry.as_str()), Some(false)));
    assert!(list[0]["acknowledged_at"].is_null());
    let out = d.run(&["advice", "ack", &id]);
    assert_ok(&out);
    assert_ok(&d.run(&["withdraw", &entry]));
    let list = json(&d, &["advice", "list", "--json"]);
    assert!(list[0]["acknowledged_at"].is_string());
    assert_eq!(list[0]["acknowledged_by"]["name"], "Kari Nordmann");
    assert_eq!(list[0]["withdrawn"], true, "still listed, marked withdrawn");
    let text = String::from_utf8(d.run(&["advice", "list"]).stdout).unwrap();
    assert!(text.contains("call_now") && text.contains("withdrawn") && text.contains("understood"), "{text}");
    let summary = json(&d, &["summary", "--json"]);
    assert_eq!(summary["advice"][0]["withdrawn"], true, "the summary keeps advice about a withdrawn record");
    let bad = one_line_error(&d.run(&["advice", "ack", "not-an-id"]));
    assert!(bad.contains("id"), "{bad}");
    let bad = one_line_error(&d.run(&["advice", "list", "--days", "0"]));
    assert!(bad.contains("--days"), "{bad}");
}
