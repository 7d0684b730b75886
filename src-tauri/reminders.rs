//! Desktop notifications while the app runs: a check-in that falls due (while unlocked), and a
//! "measure your temperature again" reminder, which rings even when the diary has locked itself
//! (its time is kept outside the diary, see `companion_core::alarms`). The texts name nothing:
//! a notification can show on a locked screen, and what is due is health data. The home screen
//! says what it is once unlocked. The same thread runs the background sync.

use crate::AppState;
use std::collections::HashSet;
use std::time::Duration;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// Every few minutes while the diary is open: send what waits, fetch what the clinic wrote.
/// Failures wait for the next turn; the settings screen shows where things stand.
fn background_sync(app: &AppHandle) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if now < NEXT.load(Ordering::Relaxed) {
        return;
    }
    let state = app.state::<AppState>();
    let diary = crate::clinic::SessionDiary(&state);
    let paired = companion_core::sync::Diary::with(&diary, |st| Ok(st.sync_link()?.is_some()));
    if !matches!(paired, Ok(true)) {
        return;
    }
    // The session is not held while the round waits on the network.
    let round = companion_core::sync::block_on(companion_core::sync::sync_with(&diary)).map(|r| r.ok());
    if let Ok(Some(report)) = &round {
        state.remember_round(report);
    }
    let wait = match round {
        Ok(Some(r)) => match r.outcome {
            companion_core::sync::Outcome::Later { retry_after_secs, .. } => retry_after_secs,
            _ => 300,
        },
        _ => 300,
    };
    NEXT.store(now + wait, Ordering::Relaxed);
}

/// The notifications' two texts, in the person's language (the preference, else the system's).
fn texts(dir: &std::path::Path) -> (&'static str, &'static str) {
    use companion_core::prefs::{Language, Preferences};
    let system_nb = || {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .is_some_and(|v| ["nb", "no", "nn"].iter().any(|p| v.starts_with(p)))
    };
    match Preferences::load(dir).language {
        Some(Language::Nb) => ("Et skjema skal fylles ut.", "En påminnelse fra Companion venter."),
        Some(Language::Nn) => ("Eit skjema skal fyllast ut.", "Ei påminning frå Companion ventar."),
        None if system_nb() => ("Et skjema skal fylles ut.", "En påminnelse fra Companion venter."),
        _ => ("A check-in is due.", "A reminder from Companion is due."),
    }
}

fn notify(app: &AppHandle, body: &str) {
    let shown = app.notification().builder().title("Companion").body(body).show();
    if shown.is_err() {
        tracing::info!("no notification service; the home screen still shows what is due");
    }
}

pub fn start(app: AppHandle) {
    std::thread::spawn(move || {
        let mut told: HashSet<(String, String)> = HashSet::new();
        loop {
            let (due, rang, dir) = {
                let state = app.state::<AppState>();
                let Ok(mut session) = state.session.lock() else { return };
                let dir = session.dir().to_owned();
                // Under the session lock, as saves rewrite the same file under it.
                let rang = companion_core::alarms::Alarms::ring(&dir, chrono::Utc::now());
                let due = if session.is_unlocked() { session.peek_store(|st| st.schedules()).unwrap_or_default() } else { Vec::new() };
                (due, rang, dir)
            };
            let (check_in, reminder) = texts(&dir);
            let fresh = due
                .into_iter()
                .filter(|s| s.state != "upcoming")
                .filter(|s| told.insert((s.instrument.clone(), s.due_at.to_rfc3339())))
                .count();
            background_sync(&app);
            if fresh > 0 {
                notify(&app, check_in);
            }
            match rang {
                Ok(0) => {}
                Ok(_) => notify(&app, reminder),
                Err(e) => tracing::warn!(error = %e, "the reminder file could not be written"),
            }
            std::thread::sleep(Duration::from_secs(30));
        }
    });
}
