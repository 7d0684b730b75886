//! Where the diary lives on disk. The app and the CLI must agree on this.

use std::path::PathBuf;

/// The app's bundle identifier (as in `tauri.conf.json`); the data folder is named after it,
/// which is also where Tauri's own `app_data_dir` would point.
pub const APP_IDENTIFIER: &str = "no.companion.diary";

/// Environment variable that overrides the data folder for the app and the CLI alike.
pub const DATA_DIR_ENV: &str = "COMPANION_DATA_DIR";

/// The folder the app uses: `$COMPANION_DATA_DIR` if set, else the platform's data directory
/// (`~/.local/share/no.companion.diary` on Linux).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join(APP_IDENTIFIER)
}

/// The encrypted database.
pub const DB_FILE: &str = "companion.db";
/// The key-slot file: wrapped data keys and the failed-attempt counter. Holds no health data.
pub const KEY_FILE: &str = "keyslots.json";
/// Preferences readable before unlock (language, idle lock). Holds no health data.
pub const PREFS_FILE: &str = "preferences.json";
/// When reminders fall due, so they can be sent while the diary is locked. Holds times only,
/// never what a reminder is for.
pub const ALARMS_FILE: &str = "reminders.json";
/// A pairing code on its way to the clinic: the code's hash and the retry key sent with it, so
/// a retry after a lost reply gets the same credential. Removed once paired; holds no health
/// data.
pub const PAIRING_FILE: &str = "pairing.json";

/// Environment variable that overrides where the app writes and looks for backups.
pub const BACKUP_DIR_ENV: &str = "COMPANION_BACKUP_DIR";

/// Where the app puts the patient's backups: `$COMPANION_BACKUP_DIR`, else the person's
/// Documents folder (where they find it to copy elsewhere), else their home folder. Never the
/// data folder: a backup kept beside the diary is lost with it.
pub fn backup_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BACKUP_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::document_dir().or_else(dirs::home_dir).unwrap_or_else(|| PathBuf::from(".")).join("Companion backups")
}
