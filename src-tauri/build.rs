//! Generates the app's command permissions and reads its capabilities from `src-tauri/capabilities`.

/// Every command the shell registers. Each gets an `allow-…` permission; the window's
/// capability grants exactly these and nothing from the core plugins beyond the defaults it names.
const COMMANDS: &[&str] = &[
    "status",
    "touch",
    "setup",
    "unlock",
    "recover",
    "lock",
    "change_passphrase",
    "new_recovery_code",
    "set_preferences",
    "add_entry",
    "add_entries",
    "timeline",
    "history",
    "visit_summary",
    "correct_entry",
    "withdraw_entry",
    "questions",
    "edit_question",
    "set_question_state",
    "reorder_questions",
    "set_next_visit",
    "instruments",
    "add_assessment",
    "care_settings",
    "set_ward_phone",
    "set_schedule",
    "set_treatments",
    "advice_for",
    "advice_list",
    "access_log",
    "acknowledge_advice",
    "emergency_numbers",
    "mark_plan_seen",
    "save_summary_pdf",
    "sync_status",
    "pair_clinic",
    "sync_now",
    "carers",
    "add_carer",
    "remove_carer",
    "invite_carer",
    "share_checkin",
    "join_as_carer",
    "create_backup",
    "backups",
    "restore_backup",
    "set_aside_diary",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
