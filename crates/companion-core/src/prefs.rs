//! Preferences that must be readable before the diary is unlocked: the language of the unlock
//! screen and how soon the app locks itself. They hold no health data, so they live in a plain
//! JSON file beside the store.

use crate::error::{Invalid, Problem, Result};
use crate::keyfile::write_atomically;
use crate::paths::PREFS_FILE;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 5;
pub const MAX_IDLE_LOCK_MINUTES: u32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Nb,
    /// Nynorsk, for the app's own text (instrument texts come only from official sources).
    Nn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Preferences {
    /// None until the person chooses; the UI then follows the system language.
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default = "default_idle")]
    pub idle_lock_minutes: u32,
}

fn default_idle() -> u32 {
    DEFAULT_IDLE_LOCK_MINUTES
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { language: None, idle_lock_minutes: DEFAULT_IDLE_LOCK_MINUTES }
    }
}

impl Preferences {
    /// Reads the preferences; a missing or unreadable file gives the defaults (nothing in it is
    /// worth refusing to start over).
    pub fn load(dir: &Path) -> Preferences {
        std::fs::read(dir.join(PREFS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Preferences>(&b).ok())
            .filter(|p| p.validate().is_ok())
            .unwrap_or_default()
    }

    pub fn validate(&self) -> std::result::Result<(), Invalid> {
        if !(1..=MAX_IDLE_LOCK_MINUTES).contains(&self.idle_lock_minutes) {
            return Err(Invalid::new("idle_lock_minutes", Problem::OutOfRange { min: 1.0, max: MAX_IDLE_LOCK_MINUTES as f64 }));
        }
        Ok(())
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        self.validate()?;
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(|_| crate::Error::Internal("preferences"))?;
        write_atomically(&dir.join(PREFS_FILE), &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Preferences::load(dir.path()), Preferences::default());
        let p = Preferences { language: Some(Language::Nb), idle_lock_minutes: 10 };
        p.save(dir.path()).unwrap();
        assert_eq!(Preferences::load(dir.path()), p);
        let bad = Preferences { language: None, idle_lock_minutes: 0 };
        assert_eq!(bad.save(dir.path()).unwrap_err().to_string(), "idle_lock_minutes must be between 1 and 60");
        assert_eq!(Preferences::load(dir.path()), p, "a refused save leaves the file alone");
    }
}
