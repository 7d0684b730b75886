//! Reminders that must ring while the diary is locked (the idle lock is minutes; "measure again
//! in one hour" is an hour). The file beside the store holds only the times they fall due, never
//! what they are for, so it needs no key; the home screen shows what is due once unlocked.

use crate::error::{Error, Result};
use crate::paths::ALARMS_FILE;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Reminders more than this overdue are dropped rather than rung late.
const STALE_HOURS: i64 = 12;
/// At most this many are kept (a reminder per temperature; far more than a day needs).
const MAX_ALARMS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alarms {
    #[serde(default)]
    pub due: Vec<DateTime<Utc>>,
}

impl Alarms {
    /// A missing or unreadable file is no reminders.
    pub fn load(dir: &Path) -> Alarms {
        std::fs::read(dir.join(ALARMS_FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Replaces the file: whole or not at all (a temporary file renamed over it), but without
    /// waiting for the disk. The diary is what holds the reminders; this copy only lets them
    /// ring while it is locked, and one lost in a power cut is set again at the next temperature.
    pub fn save(&mut self, dir: &Path) -> Result<()> {
        self.due.sort();
        self.due.dedup();
        let keep_from = self.due.len().saturating_sub(MAX_ALARMS);
        self.due.drain(..keep_from);
        let json = serde_json::to_vec_pretty(self).map_err(|_| Error::Internal("reminders"))?;
        // Private (0600) and whole, like the key file.
        crate::keyfile::write_atomically(&dir.join(ALARMS_FILE), &json)
    }

    /// Takes out the reminders due at `now` and returns how many rang; stale ones are dropped
    /// without ringing. The file is rewritten only when something changed.
    pub fn ring(dir: &Path, now: DateTime<Utc>) -> Result<usize> {
        let mut alarms = Alarms::load(dir);
        let before = alarms.due.len();
        let stale = now - Duration::hours(STALE_HOURS);
        let rang = alarms.due.iter().filter(|t| **t <= now && **t > stale).count();
        alarms.due.retain(|t| *t > now);
        if alarms.due.len() != before {
            alarms.save(dir)?;
        }
        Ok(rang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_ring_once_when_due_and_stale_ones_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        assert_eq!(Alarms::ring(dir.path(), now).unwrap(), 0, "no file, nothing due");
        let mut a = Alarms { due: vec![now + Duration::minutes(60), now - Duration::minutes(1), now - Duration::hours(13)] };
        a.save(dir.path()).unwrap();
        assert_eq!(Alarms::ring(dir.path(), now).unwrap(), 1);
        assert_eq!(Alarms::ring(dir.path(), now).unwrap(), 0, "rung once");
        assert_eq!(Alarms::load(dir.path()).due, [now + Duration::minutes(60)]);
        assert_eq!(Alarms::ring(dir.path(), now + Duration::minutes(61)).unwrap(), 1);
        assert!(Alarms::load(dir.path()).due.is_empty());
        std::fs::write(dir.path().join(ALARMS_FILE), b"not json").unwrap();
        assert_eq!(Alarms::ring(dir.path(), now).unwrap(), 0, "a damaged file is no reminders");
    }
}
