//! The app's commands: the one list the shell registers, its build script grants to the
//! window, and the generated TypeScript bindings type (see `companion_core::api`).
//!
//! Adding a command means adding its name here and its request and reply in
//! `companion_core::api`; the shell's tests fail until `generate_handler!` and
//! `src-tauri/capabilities/main.json` list it too, and the core's until the bindings are
//! generated again.

/// Every command the window may invoke, in the order the shell registers them.
pub const COMMANDS: &[&str] = &[
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

/// The permission `tauri-build` makes for a command: `allow-` and its name in kebab case.
pub fn permission(command: &str) -> String {
    format!("allow-{}", command.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_map_to_tauri_permissions() {
        let mut seen = std::collections::BTreeSet::new();
        for c in COMMANDS {
            assert!(seen.insert(*c), "{c} listed twice");
            assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c}");
        }
        assert_eq!(permission("set_aside_diary"), "allow-set-aside-diary");
    }
}
