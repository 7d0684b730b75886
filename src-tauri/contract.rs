//! The command list is declared once (`companion_protocol::commands::COMMANDS`); the two places
//! that must still name each command, `generate_handler!` (which needs the functions) and the
//! window's capability file (which `tauri-build` reads), are checked against it here.

use std::collections::BTreeSet;

/// The commands `generate_handler![…]` registers in this source: the last segment of each path.
fn registered(source: &str) -> Vec<String> {
    let Some(start) = source.find("generate_handler![") else { return Vec::new() };
    let body = &source[start + "generate_handler![".len()..];
    let body = &body[..body.find(']').unwrap_or(body.len())];
    body.split(',').map(|p| p.trim()).filter(|p| !p.is_empty()).map(|p| p.rsplit("::").next().unwrap_or(p).to_owned()).collect()
}

/// The `allow-…` permissions a capability file grants (anything else it grants is reported).
fn granted(capability: &str) -> Result<Vec<String>, String> {
    let v: serde_json::Value = serde_json::from_str(capability).map_err(|e| format!("capability file: {e}"))?;
    let list = v.get("permissions").and_then(|p| p.as_array()).ok_or("capability file: no permissions")?;
    list.iter().map(|p| p.as_str().map(str::to_owned).ok_or_else(|| format!("capability file: {p} is not a plain permission"))).collect()
}

/// What differs between the declared commands and the handler and capability file.
fn mismatches(commands: &[&str], handler_source: &str, capability: &str) -> Vec<String> {
    let mut out = Vec::new();
    let declared: BTreeSet<String> = commands.iter().map(|c| c.to_string()).collect();
    let handled: BTreeSet<String> = registered(handler_source).into_iter().collect();
    for c in declared.difference(&handled) {
        out.push(format!("{c}: declared but not in generate_handler!"));
    }
    for c in handled.difference(&declared) {
        out.push(format!("{c}: in generate_handler! but not declared in companion_protocol::commands"));
    }
    match granted(capability) {
        Err(e) => out.push(e),
        Ok(granted) => {
            let want: BTreeSet<String> = commands.iter().map(|c| companion_protocol::commands::permission(c)).collect();
            let have: BTreeSet<String> = granted.into_iter().collect();
            for p in want.difference(&have) {
                out.push(format!("{p}: not granted to the window"));
            }
            for p in have.difference(&want) {
                out.push(format!("{p}: granted to the window but no declared command needs it"));
            }
        }
    }
    out
}

const LIB: &str = include_str!("lib.rs");
const CAPABILITY: &str = include_str!("capabilities/main.json");

#[test]
fn the_handler_and_the_capability_list_exactly_the_declared_commands() {
    let problems = mismatches(companion_protocol::commands::COMMANDS, LIB, CAPABILITY);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_check_catches_a_command_missing_or_extra_anywhere() {
    let commands = companion_protocol::commands::COMMANDS;
    // One command left out of the handler, one unknown added.
    let handler = LIB.replacen("        care::mark_plan_seen,\n", "        care::mark_plan_seen_twice,\n", 1);
    assert_ne!(handler, LIB, "the handler list moved: update this test");
    let problems = mismatches(commands, &handler, CAPABILITY);
    assert!(problems.iter().any(|p| p == "mark_plan_seen: declared but not in generate_handler!"), "{problems:?}");
    assert!(problems.iter().any(|p| p.starts_with("mark_plan_seen_twice: in generate_handler!")), "{problems:?}");
    // A permission dropped from the window, and one granted beyond the list.
    let capability = CAPABILITY.replacen("\"allow-sync-now\"", "\"allow-sync-later\"", 1);
    let problems = mismatches(commands, LIB, &capability);
    assert!(problems.contains(&"allow-sync-now: not granted to the window".to_owned()), "{problems:?}");
    assert!(problems.contains(&"allow-sync-later: granted to the window but no declared command needs it".to_owned()), "{problems:?}");
    let with_fs = CAPABILITY.replacen("\"allow-status\",", "\"allow-status\",\n    \"fs:default\",", 1);
    assert!(mismatches(commands, LIB, &with_fs).iter().any(|p| p.starts_with("fs:default")));
    // A command declared that nothing registers or grants.
    let more: Vec<&str> = commands.iter().copied().chain(["export_everything"]).collect();
    assert_eq!(mismatches(&more, LIB, CAPABILITY).len(), 2);
}

#[test]
fn every_declared_command_is_dispatched_to_a_handler_reading_its_own_arguments() {
    use tauri::test::{mock_builder, mock_context, noop_assets};
    let dir = tempfile::tempdir().unwrap();
    let app = crate::builder(mock_builder(), dir.path()).build(mock_context(noop_assets())).unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    for name in companion_protocol::commands::COMMANDS {
        // Empty arguments: each either answers, refuses them, or refuses for the state it is in
        // (no diary yet); none may be unknown or read another command's arguments.
        let answer = super::tests::call(&w, name, serde_json::json!({}));
        let text = match &answer {
            Ok(_) => continue,
            Err(e) => e.to_string(),
        };
        assert!(!text.contains("not found"), "{name}: {text}");
        assert!(!text.contains("reads the arguments of"), "{name}: {text}");
    }
    // And one that is not declared is not there.
    let unknown = super::tests::call(&w, "export_everything", serde_json::json!({})).unwrap_err().to_string();
    assert!(unknown.contains("not found"), "{unknown}");
}

/// A handler that reads another command's arguments.
mod slip {
    use crate::args::{Args, Reply};
    use companion_core::api::args::Touch;

    #[tauri::command]
    pub async fn slipped(_a: Args<Touch>) -> Reply<Touch> {
        Ok(true)
    }
}

#[test]
fn a_handler_reading_another_commands_arguments_is_refused() {
    use tauri::test::{mock_builder, mock_context, noop_assets};
    let app = mock_builder().invoke_handler(tauri::generate_handler![slip::slipped]).build(mock_context(noop_assets())).unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    let refused = super::tests::call(&w, "slipped", serde_json::json!({})).unwrap_err().to_string();
    assert!(refused.contains("command `slipped` reads the arguments of `touch`"), "{refused}");
}
