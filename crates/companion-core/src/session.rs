//! The app's session: at most one unlocked store, locked again after a chosen idle time.
//!
//! The app shell holds one `Session` and calls it from its commands; the idle lock is enforced
//! here, on every call, so it holds even when the window's own timer did not fire (a suspended
//! laptop, a hidden window).

use crate::clock::SharedClock;
use crate::domain::Author;
use crate::error::{Error, Result};
use crate::prefs::Preferences;
use crate::store::{self, Presence, RecoveryCode, Store};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub struct Session {
    dir: PathBuf,
    clock: SharedClock,
    prefs: Preferences,
    store: Option<Store>,
    last_activity: DateTime<Utc>,
}

/// What the UI needs to know to choose its first screen.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Status {
    /// `new` (no diary yet), `locked` or `unlocked`.
    #[ts(type = "'new' | 'locked' | 'unlocked'")]
    pub state: &'static str,
    /// Seconds before another unlock attempt is allowed.
    pub wait_secs: u64,
    /// Who is signed in, when unlocked.
    pub person: Option<Author>,
    pub preferences: Preferences,
}

impl Session {
    pub fn new(dir: &Path, clock: SharedClock) -> Session {
        let now = clock.now();
        Session { dir: dir.to_owned(), prefs: Preferences::load(dir), clock, store: None, last_activity: now }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where things stand. A damaged store is an error here, so the UI can say what is wrong.
    pub fn status(&mut self) -> Result<Status> {
        self.expire_if_idle();
        let state = match (&self.store, store::presence(&self.dir)?) {
            (Some(_), _) => "unlocked",
            (None, Presence::Present) => "locked",
            (None, Presence::Missing) => "new",
        };
        let wait_secs = if state == "locked" { Store::wait_secs(&self.dir, &self.clock)? } else { 0 };
        Ok(Status { state, wait_secs, person: self.store.as_ref().map(|s| s.me().clone()), preferences: self.prefs.clone() })
    }

    pub fn setup(&mut self, name: &str, passphrase: &str) -> Result<RecoveryCode> {
        let (store, code) = Store::create(&self.dir, name, passphrase, self.clock.clone()).map_err(|e| self.explain(e))?;
        self.unlocked(store);
        Ok(code)
    }

    pub fn unlock(&mut self, passphrase: &str) -> Result<Author> {
        self.lock();
        let store = Store::open(&self.dir, passphrase, self.clock.clone()).map_err(|e| self.explain(e))?;
        Ok(self.unlocked(store))
    }

    pub fn recover(&mut self, code: &str, new_passphrase: &str) -> Result<Author> {
        self.lock();
        let store = Store::recover(&self.dir, code, new_passphrase, self.clock.clone()).map_err(|e| self.explain(e))?;
        Ok(self.unlocked(store))
    }

    /// Restores a backup into this session's folder (which holds no diary) and unlocks it.
    pub fn restore(&mut self, from: &Path, passphrase: &str) -> Result<Author> {
        self.lock();
        let store = store::backup::restore(from, &self.dir, passphrase, self.clock.clone()).map_err(|e| self.explain(e))?;
        Ok(self.unlocked(store))
    }

    /// Moves a diary that will not open aside (kept whole, in a folder of its own), so this
    /// folder can take a backup; returns where it went.
    pub fn set_aside(&mut self) -> Result<PathBuf> {
        self.lock();
        store::backup::set_aside(&self.dir, self.clock.now()).map_err(|e| self.explain(e))
    }

    /// Takes a store opened elsewhere (a carer's diary just joined) as this session's.
    pub fn adopt(&mut self, store: Store) -> Author {
        self.lock();
        self.unlocked(store)
    }

    fn unlocked(&mut self, store: Store) -> Author {
        let me = store.me().clone();
        self.store = Some(store);
        self.last_activity = self.clock.now();
        me
    }

    /// Locks now: the store is closed and its key wiped.
    pub fn lock(&mut self) {
        if let Some(store) = self.store.take() {
            store.lock();
            tracing::info!("locked");
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.store.is_some()
    }

    pub fn preferences(&self) -> &Preferences {
        &self.prefs
    }

    pub fn set_preferences(&mut self, prefs: Preferences) -> Result<Preferences> {
        prefs.save(&self.dir)?;
        self.prefs = prefs;
        Ok(self.prefs.clone())
    }

    /// The person is still there (typing, scrolling): counts as activity unless the idle time
    /// has already run out. Returns whether the diary is still unlocked.
    pub fn touch(&mut self) -> bool {
        self.expire_if_idle();
        if self.store.is_some() {
            self.last_activity = self.clock.now();
        }
        self.store.is_some()
    }

    /// Runs `f` on the unlocked store, or fails with [`Error::Locked`]. Counts as activity.
    pub fn with_store<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.expire_if_idle();
        let store = self.store.as_mut().ok_or(Error::Locked)?;
        self.last_activity = self.clock.now();
        f(store).map_err(|e| store.explain(e))
    }

    /// An error from the folder, with its cause named (see [`crate::fault`]).
    pub fn explain(&self, err: Error) -> Error {
        crate::fault::explain(err, &self.dir)
    }

    /// Reads from the unlocked store without counting as activity: for background work such as
    /// reminders, which must never keep the diary open.
    pub fn peek_store<T>(&mut self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.expire_if_idle();
        let store = self.store.as_ref().ok_or(Error::Locked)?;
        f(store).map_err(|e| store.explain(e))
    }

    /// Like [`Session::peek_store`], with the store writable (background sync).
    pub fn peek_store_mut<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.expire_if_idle();
        let store = self.store.as_mut().ok_or(Error::Locked)?;
        f(store).map_err(|e| store.explain(e))
    }

    fn expire_if_idle(&mut self) {
        let idle = Duration::minutes(self.prefs.idle_lock_minutes as i64);
        if self.store.is_some() && self.clock.now() - self.last_activity >= idle {
            tracing::info!("idle lock");
            self.lock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use std::sync::{Arc, Mutex};

    struct ManualClock(Mutex<DateTime<Utc>>);
    impl Clock for ManualClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }
    impl ManualClock {
        fn advance(&self, minutes: i64) {
            *self.0.lock().unwrap() += Duration::minutes(minutes);
        }
    }

    #[test]
    fn locks_itself_after_the_idle_time_and_touch_keeps_it_open() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
        let mut session = Session::new(dir.path(), clock.clone());
        assert_eq!(session.status().unwrap().state, "new");
        session.setup("Kari", "correct horse").unwrap();
        assert_eq!(session.status().unwrap().state, "unlocked");

        clock.advance(4);
        assert!(session.touch(), "4 minutes of 5 is not idle yet");
        clock.advance(4);
        assert!(session.with_store(|s| s.timeline(Default::default())).is_ok());
        clock.advance(5);
        assert_eq!(session.status().unwrap().state, "locked");
        assert!(matches!(session.with_store(|s| s.timeline(Default::default())), Err(Error::Locked)));
        assert!(!session.touch());

        session.unlock("correct horse").unwrap();
        let prefs = Preferences { idle_lock_minutes: 1, ..session.preferences().clone() };
        session.set_preferences(prefs).unwrap();
        clock.advance(1);
        assert_eq!(session.status().unwrap().state, "locked");
        // The choice survives a restart.
        assert_eq!(Session::new(dir.path(), clock.clone()).preferences().idle_lock_minutes, 1);
    }
}
