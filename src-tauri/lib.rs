//! The app shell: Tauri commands as thin adapters over `companion_core::session::Session`.
//!
//! Each command takes the session lock, calls one core function and returns its result or an
//! [`ErrorPayload`] (stable `code`, the field at fault, never the value typed). Commands are
//! `async` so key derivation and database work run off the window's thread. Nothing here logs
//! arguments: every command is instrumented with `skip_all`.
//!
//! Every command is declared once, with its arguments and reply, in `companion_core::api`;
//! here each takes [`args::Args`] of its declaration and returns its reply. By area:
//! `session.rs` (set-up, unlock, preferences), `diary.rs` (records, check-ins, questions),
//! `care.rs` (care settings and advice), `clinic.rs` (pairing, sync rounds, carers),
//! `backup.rs`; `reminders.rs` is the notification thread.

use companion_core::session::Session;
use companion_core::{clock, paths, Error, ErrorPayload, Problem};
use std::path::Path;
use std::sync::Mutex;
use uuid::Uuid;

mod args;
mod backup;
mod care;
mod clinic;
mod diary;
mod reminders;
mod session;

/// The one piece of state the shell keeps: the session, behind a lock.
pub struct AppState {
    session: Mutex<Session>,
    /// How the last sync round ended (by the person's press or in the background), so every
    /// screen can say "offline" while the clinic cannot be reached. Kept in memory only.
    last_round: Mutex<Option<companion_core::sync::Report>>,
}

impl AppState {
    pub fn new(dir: &Path) -> AppState {
        AppState { session: Mutex::new(Session::new(dir, clock::system())), last_round: Mutex::new(None) }
    }

    pub(crate) fn remember_round(&self, report: &companion_core::sync::Report) {
        if let Ok(mut last) = self.last_round.lock() {
            *last = Some(report.clone());
        }
    }

    pub(crate) fn last_round(&self) -> Option<companion_core::sync::Report> {
        self.last_round.lock().ok().and_then(|l| l.clone())
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Session) -> companion_core::Result<T>) -> Result<T, ErrorPayload> {
        let mut session = self.session.lock().map_err(|_| ErrorPayload::from(Error::Internal("session lock")))?;
        f(&mut session).map_err(|e| {
            if e.code() == companion_core::ErrorCode::Internal {
                // The cause (SQLite, I/O) is ours to log; it never names health data.
                tracing::error!(error = %e, "command failed");
            }
            ErrorPayload::from(e)
        })
    }
}

pub(crate) fn entry_id(raw: &str) -> companion_core::Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::invalid("id", Problem::BadFormat))
}

/// The app with its state and commands, on any runtime (the tests use the mock one).
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>, dir: &Path) -> tauri::Builder<R> {
    // Exactly `companion_protocol::commands::COMMANDS`, which build.rs grants to the window
    // (checked by `contract.rs`).
    builder.manage(AppState::new(dir)).invoke_handler(tauri::generate_handler![
        session::status,
        session::touch,
        session::setup,
        session::unlock,
        session::recover,
        session::lock,
        session::change_passphrase,
        session::new_recovery_code,
        session::set_preferences,
        diary::add_entry,
        diary::add_entries,
        diary::timeline,
        diary::history,
        diary::visit_summary,
        diary::correct_entry,
        diary::withdraw_entry,
        diary::questions,
        diary::edit_question,
        diary::set_question_state,
        diary::reorder_questions,
        diary::set_next_visit,
        diary::instruments,
        diary::add_assessment,
        care::care_settings,
        care::set_ward_phone,
        care::set_schedule,
        care::set_treatments,
        care::advice_for,
        care::advice_list,
        care::access_log,
        care::acknowledge_advice,
        care::emergency_numbers,
        care::mark_plan_seen,
        care::save_summary_pdf,
        clinic::sync_status,
        clinic::pair_clinic,
        clinic::sync_now,
        clinic::carers,
        clinic::add_carer,
        clinic::remove_carer,
        clinic::invite_carer,
        clinic::share_checkin,
        clinic::join_as_carer,
        backup::create_backup,
        backup::backups,
        backup::restore_backup,
        backup::set_aside_diary,
    ])
}

/// Starts the app on the diary in the usual folder (or `COMPANION_DATA_DIR`).
pub fn run() {
    companion_core::logging::init();
    let dir = paths::default_data_dir();
    builder(tauri::Builder::default(), &dir)
        .plugin(tauri_plugin_notification::init())
        .plugin(navigation_guard())
        .setup(|app| {
            reminders::start(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the window could not be started");
}

/// The window never leaves the app: a link to anywhere else (including the `tel:` buttons on
/// advice cards, which show the number to dial) does not navigate the webview away.
fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| {
            let inside =
                url.scheme() == "tauri" || matches!(url.host_str(), Some("tauri.localhost") | Some("localhost") | Some("ipc.localhost"));
            if !inside {
                tracing::info!(scheme = url.scheme(), "navigation away from the app refused");
            }
            inside
        })
        .build()
}

#[cfg(test)]
mod contract;
#[cfg(test)]
mod tests;
