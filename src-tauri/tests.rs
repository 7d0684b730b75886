//! The shell end to end without a window: the real core behind the real IPC dispatch.

use super::*;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;

pub(super) fn call(webview: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, body: Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

/// The shell end to end without a window: the real core behind the real IPC dispatch.
#[test]
fn commands_reach_the_core_and_errors_cross_as_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let app = builder(mock_builder(), dir.path()).build(mock_context(noop_assets())).unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

    assert_eq!(call(&w, "status", json!({})).unwrap()["state"], "new");
    let short = call(&w, "setup", json!({"name": "Kari", "passphrase": "short"})).unwrap_err();
    assert_eq!(short["code"], "invalid");
    assert_eq!(short["field"], "passphrase");
    assert_eq!(short["problem"]["kind"], "too_short");

    let set = call(&w, "setup", json!({"name": "Kari", "passphrase": "correct horse"})).unwrap();
    assert_eq!(set["recovery_code"].as_str().unwrap().len(), 29);

    let bad = call(&w, "add_entry", json!({"entry": {"kind": "symptom", "symptom": "pain", "severity": 11}})).unwrap_err();
    assert_eq!(bad["field"], "severity");
    assert_eq!(bad["problem"], json!({"kind": "out_of_range", "min": 0.0, "max": 10.0}));
    let added = call(&w, "add_entry", json!({"entry": {"kind": "symptom", "symptom": "pain", "severity": 6}})).unwrap();
    assert_eq!(added["entry"]["author"]["name"], "Kari");
    assert_eq!(added["advice"], json!([]));
    let fever = call(&w, "add_entry", json!({"entry": {"kind": "temperature", "celsius": 38.6}})).unwrap();
    assert_eq!(fever["advice"][0]["level"], "call_now");
    assert_eq!(fever["advice"][0]["fever_from"], 38.0);
    let acked = call(&w, "acknowledge_advice", json!({"ids": [fever["advice"][0]["id"]]})).unwrap();
    assert_eq!(acked[0]["acknowledged_by"]["name"], "Kari");
    let shown = call(&w, "advice_list", json!({"days": 1})).unwrap();
    assert!(shown[0]["acknowledged_at"].is_string());
    assert_eq!(call(&w, "advice_list", json!({"days": 0})).unwrap_err()["field"], "days");
    let care = call(&w, "set_treatments", json!({"treatments": ["immunotherapy"]})).unwrap();
    assert_eq!((care["treatments"].clone(), care["may_set_treatments"].clone()), (json!(["immunotherapy"]), json!(true)));
    let cough = call(&w, "add_entry", json!({"entry": {"kind": "symptom", "symptom": "cough", "severity": 1}})).unwrap();
    assert_eq!(cough["advice"][0]["rule"], "immunotherapy-cough");
    let bad = call(&w, "set_treatments", json!({"treatments": ["surgery"]})).unwrap_err();
    assert!(bad.is_string() || bad.get("code").is_some(), "{bad}");
    let raised = call(&w, "add_entry", json!({"entry": {"kind": "temperature", "celsius": 37.6}})).unwrap();
    assert!(raised["advice"][0]["follow_up_at"].is_string());
    assert_eq!(call(&w, "care_settings", json!({})).unwrap()["rechecks"].as_array().unwrap().len(), 1);
    let phq = call(&w, "instruments", json!({})).unwrap();
    let phq9 = &phq.as_array().unwrap()[0];
    assert_eq!(phq9["id"], "phq9");
    assert_eq!(phq9["questionnaire"]["items"][0]["items"].as_array().unwrap().len(), 9);
    let answers: Vec<Value> = (1..=9)
        .map(|i| {
            json!({"link_id": format!("phq9-{i}"), "value": {"type": "coding", "system": "http://loinc.org",
            "code": if i == 9 { "LA6569-3" } else { "LA6568-5" }}})
        })
        .collect();
    let saved = call(&w, "add_assessment", json!({"instrument": "phq9", "answers": answers})).unwrap();
    assert_eq!(saved["entry"]["score"]["total"], 1);
    assert_eq!(saved["advice"][0]["level"], "crisis");
    let bad = call(
        &w,
        "add_assessment",
        json!({"instrument": "phq9", "answers": [{"link_id": "phq9-1",
        "value": {"type": "integer", "value": 7}}]}),
    )
    .unwrap_err();
    assert_eq!(bad["field"], "answers");
    let list = call(&w, "timeline", json!({"kind": "symptom"})).unwrap();
    let ward = call(&w, "set_ward_phone", json!({"number": "22 11 80 80"})).unwrap();
    assert_eq!(ward["ward_phone"], "22 11 80 80");
    assert_eq!(list.as_array().unwrap().len(), 2, "the pain and the cough");
    let none = call(&w, "timeline", json!({"kind": "question"})).unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);

    let both = call(
        &w,
        "add_entries",
        json!({"entries": [
        {"kind": "symptom", "symptom": "nausea", "severity": 3},
        {"kind": "symptom", "symptom": "tiredness", "severity": 5, "note": "after the walk"}]}),
    )
    .unwrap();
    assert_eq!(both.as_array().unwrap().len(), 2);
    assert_eq!(both[1]["entry"]["symptom"], "tiredness");
    let half = call(
        &w,
        "add_entries",
        json!({"entries": [
        {"kind": "symptom", "symptom": "nausea", "severity": 3}, {"kind": "symptom", "symptom": "pain", "severity": 11}]}),
    )
    .unwrap_err();
    assert_eq!((half["code"].clone(), half["field"].clone()), (json!("invalid"), json!("severity")));
    assert_eq!(call(&w, "timeline", json!({"kind": "symptom"})).unwrap().as_array().unwrap().len(), 4, "nothing of the refused form");

    call(&w, "lock", json!({})).unwrap();
    assert_eq!(call(&w, "timeline", json!({})).unwrap_err()["code"], "locked");
    // The numbers that answer at once are there without unlocking.
    let numbers = call(&w, "emergency_numbers", json!({})).unwrap();
    assert_eq!(
        (numbers["emergency"].clone(), numbers["out_of_hours"].clone(), numbers["helpline"].clone()),
        (json!("113"), json!("116 117"), json!("116 123"))
    );
    let wrong = call(&w, "unlock", json!({"passphrase": "not it at all"})).unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase");
    assert!(!wrong.to_string().contains("not it at all"));
    call(&w, "unlock", json!({"passphrase": "correct horse"})).unwrap();
    assert_eq!(call(&w, "withdraw_entry", json!({"id": "nope"})).unwrap_err()["field"], "id");
}

/// A backup made in Settings and restored on a device with no diary, through the real IPC.
#[test]
fn a_backup_is_made_listed_and_restored_by_file_name_only() {
    let (dir, other, backups) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Only this test reads the backups folder.
    std::env::set_var(companion_core::paths::BACKUP_DIR_ENV, backups.path());
    let app = builder(mock_builder(), dir.path()).build(mock_context(noop_assets())).unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    call(&w, "setup", json!({"name": "Kari", "passphrase": "correct horse"})).unwrap();
    call(&w, "add_entry", json!({"entry": {"kind": "symptom", "symptom": "pain", "severity": 6}})).unwrap();
    let made = call(&w, "create_backup", json!({})).unwrap();
    assert_eq!(made["records"], 1);
    let listed = call(&w, "backups", json!({})).unwrap();
    let name = listed["backups"][0]["file"].as_str().unwrap().to_owned();
    assert!(name.ends_with(".companion-backup") && !name.contains('/'), "only the name crosses: {name}");

    let app = builder(mock_builder(), other.path()).build(mock_context(noop_assets())).unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    for escape in ["../../etc/passwd", "/etc/hostname", "x/../y.companion-backup"] {
        assert_eq!(call(&w, "restore_backup", json!({"file": escape, "passphrase": "correct horse"})).unwrap_err()["field"], "file");
    }
    let wrong = call(&w, "restore_backup", json!({"file": name, "passphrase": "not it at all"})).unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase");
    assert_eq!(call(&w, "status", json!({})).unwrap()["state"], "new", "nothing restored");
    let me = call(&w, "restore_backup", json!({"file": name, "passphrase": "correct horse"})).unwrap();
    assert_eq!(me["name"], "Kari");
    assert_eq!(call(&w, "timeline", json!({})).unwrap().as_array().unwrap().len(), 1);
    let again = call(&w, "restore_backup", json!({"file": name, "passphrase": "correct horse"})).unwrap_err();
    assert_eq!(again["code"], "already_initialised");
    // Damaged: said so; set aside, whole; restored in its place.
    call(&w, "lock", json!({})).unwrap();
    std::fs::write(other.path().join("companion.db"), b"").unwrap();
    assert_eq!(call(&w, "unlock", json!({"passphrase": "correct horse"})).unwrap_err()["code"], "corrupt");
    let aside = call(&w, "set_aside_diary", json!({})).unwrap();
    assert!(std::path::Path::new(aside.as_str().unwrap()).join("keyslots.json").exists());
    assert_eq!(call(&w, "status", json!({})).unwrap()["state"], "new");
    call(&w, "restore_backup", json!({"file": name, "passphrase": "correct horse"})).unwrap();
    assert_eq!(call(&w, "timeline", json!({})).unwrap().as_array().unwrap().len(), 1);
}
