//! Who at the clinic has looked at the patient's record, as the clinic's server reports it
//! (from its audit log) with each sync: kept in the encrypted settings, replaced whole each
//! time. Shown to the diary's owner only, never to a carer.

use super::Store;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

const ACCESS_LOG: &str = "access_log";
/// The most entries kept.
pub const MAX_ACCESS: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Access {
    pub at: chrono::DateTime<chrono::Utc>,
    pub who: String,
    pub role: String,
    pub what: String,
}

impl Store {
    /// Who at the clinic opened the record, newest first. The patient's own: a carer may not.
    pub fn access_log(&self) -> Result<Vec<Access>> {
        if !self.is_owner() || self.me().role != crate::domain::Role::Patient {
            return Err(Error::NotPermitted);
        }
        Ok(super::setting(&self.conn, ACCESS_LOG)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
    }

    /// Replaces the access log with what the server sent (bounded, with names and words
    /// trimmed to a sane length).
    pub fn set_access_log(&mut self, mut list: Vec<Access>) -> Result<()> {
        list.sort_by_key(|a| std::cmp::Reverse(a.at));
        list.truncate(MAX_ACCESS);
        for a in &mut list {
            a.who = a.who.chars().take(100).collect();
            a.role = a.role.chars().take(20).collect();
            a.what = a.what.chars().take(20).collect();
        }
        let text = serde_json::to_string(&list).map_err(|_| Error::Internal("access log"))?;
        super::set_setting(&self.conn, ACCESS_LOG, &text)
    }
}
