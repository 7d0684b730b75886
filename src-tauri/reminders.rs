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
    let diary = crate::SessionDiary(&state);
    let paired = companion_core::sync::Diary::with(&diary, |st| Ok(st.sync_link()?.is_some()));
    if !matches!(paired, Ok(true)) {
        return;
    }
    // The session is not held while the round waits on the network.
    let round = companion_core::sync::block_on(companion_core::sync::sync_with(&diary)).map(|r| r.ok());
    let wait = match round {
        Ok(Some(r)) => match r.outcome {
            companion_core::sync::Outcome::Later { retry_after_secs } => retry_after_secs,
            _ => 300,
        },
        _ => 300,
    };
    NEXT.store(now + wait, Ordering::Relaxed);
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
            let (due, dir) = {
                let state = app.state::<AppState>();
                let Ok(mut session) = state.session.lock() else { return };
                let dir = session.dir().to_owned();
                if session.is_unlocked() {
                    (session.peek_store(|st| st.schedules()).unwrap_or_default(), dir)
                } else {
                    (Vec::new(), dir)
                }
            };
            let fresh = due
                .into_iter()
                .filter(|s| s.state != "upcoming")
                .filter(|s| told.insert((s.instrument.clone(), s.due_at.to_rfc3339())))
                .count();
            background_sync(&app);
            if fresh > 0 {
                notify(&app, "A check-in is due.");
            }
            match companion_core::alarms::Alarms::ring(&dir, chrono::Utc::now()) {
                Ok(0) => {}
                Ok(_) => notify(&app, "A reminder from Companion is due."),
                Err(e) => tracing::warn!(error = %e, "the reminder file could not be read"),
            }
            std::thread::sleep(Duration::from_secs(30));
        }
    });
}
