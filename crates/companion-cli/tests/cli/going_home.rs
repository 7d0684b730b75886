//! `companion summary --pdf`, `care-team`, `ruleset show` and `plan show` on a diary with no
//! clinic yet (the clinic's side is in the clinic's suite, `going_home.rs`).

use super::{assert_ok, one_line_error, Diary};
use serde_json::Value;
use std::process::Command;

fn pdftotext(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-").output().expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_summary_prints_as_a_pdf_with_what_was_reported_the_advice_and_the_questions() {
    let d = Diary::new();
    assert_ok(&d.run(&["symptom", "add", "--symptom", "pain", "--severity", "6"]));
    assert_ok(&d.run(&["symptom", "add", "--symptom", "pain", "--severity", "4"]));
    assert_ok(&d.run(&["temperature", "add", "--celsius", "38.6"]));
    assert_ok(&d.run(&["question", "add", "--text", "Can I take paracetamol with my chemotherapy?"]));
    let pdf = d.path().join("summary.pdf");
    let out = d.run(&["summary", "--days", "14", "--pdf", pdf.to_str().unwrap()]);
    assert_ok(&out);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf);
    for want in [
        "Summary for the visit",
        "Kari Nordmann",
        "Pain",
        "Can I take paracetamol with my chemotherapy?",
        "Call the cancer ward now",
        "38.6",
    ] {
        assert!(text.contains(want), "{want:?} is not in the PDF:\n{text}");
    }
    // Rendered for a look, as the e2e suite keeps its screenshots.
    let png = d.path().join("summary");
    let shown = Command::new("pdftoppm").args(["-png", "-r", "60", "-f", "1", "-l", "1"]).arg(&pdf).arg(&png).output().unwrap();
    assert!(shown.status.success());
    let page = std::fs::read_dir(d.path()).unwrap().filter_map(|e| e.ok()).find(|e| e.file_name().to_string_lossy().ends_with(".png"));
    assert!(page.is_some_and(|p| p.metadata().unwrap().len() > 1000));
    // Never over a file that is there.
    let again = one_line_error(&d.run(&["summary", "--pdf", pdf.to_str().unwrap()]));
    assert!(again.contains("summary.pdf"), "{again}");
}

#[test]
fn before_the_clinic_sends_anything_the_shipped_rules_and_the_patients_own_number_apply() {
    let d = Diary::new();
    assert_ok(&d.run(&["ward-phone", "12 34 56 78"]));
    let out = d.run(&["care-team", "--json"]);
    assert_ok(&out);
    let team: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(team["contacts"], serde_json::json!([]));
    assert_eq!(team["call_now"]["phone"], "12 34 56 78");
    assert_eq!(team["call_now"]["source"], "patient", "a number the patient typed is never the clinic's");
    let text = String::from_utf8(d.run(&["care-team"]).stdout).unwrap();
    assert!(text.contains("not from the clinic"), "{text}");
    let rules: Value = serde_json::from_slice(&d.run(&["ruleset", "show", "--json"]).stdout).unwrap();
    assert_eq!((rules["source"].as_str(), rules["id"].as_str()), (Some("shipped"), Some("companion-default")));
    let plan: Value = serde_json::from_slice(&d.run(&["plan", "show", "--json"]).stdout).unwrap();
    assert_eq!(plan["plan"], Value::Null);
    let treatment: Value = serde_json::from_slice(&d.run(&["treatment", "show", "--json"]).stdout).unwrap();
    assert_eq!(treatment["set_by"], "patient");
    let out = d.run(&["temperature", "add", "--celsius", "38.5", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["alerts"][0]["contacts"][0]["source"], "patient");
}
