//! The care team's accounts and their sessions in the web app. An account has a name (which
//! signs in, whatever its case), a role and a password kept only as an Argon2id hash (PHC
//! string; 19 MiB, 2 passes: OWASP's minimum). A session is a random 256-bit token in a cookie,
//! stored as its SHA-256; it ends after 30 minutes without use or 12 hours after sign-in,
//! whichever comes first, or when the person signs out. Each session has its own CSRF token.

use super::*;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use companion_protocol::limits::MAX_NAME;

/// A session unused for this long has ended.
pub const IDLE_MINUTES: i64 = 30;
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_HOURS: i64 = 12;
/// A session's last use is written at most this often.
const SEEN_EVERY_SECS: i64 = 30;
pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Nurse,
    Coordinator,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "nurse" => Some(Role::Nurse),
            "coordinator" => Some(Role::Coordinator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Nurse => "nurse",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// One look at a patient's data by someone at the clinic, as the patient's app shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Access {
    pub at: String,
    pub who: String,
    /// `nurse`, `coordinator`, `admin`, or `integration` (a system with a staff token).
    pub role: String,
    /// `read` (opened a record or an alert), `history`, `search`, `worklist`, `find` (a search by
    /// name), `new-code` (a pairing code made), `register`.
    pub what: String,
}

/// A signed-in person: who, and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf: String,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor::Staff { id: self.account.id.clone() }
    }
}

fn hasher() -> Argon2<'static> {
    Argon2::default()
}

fn hash_password(password: &str) -> StoreResult<String> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).map_err(|_| StoreError::internal("randomness"))?;
    let salt = SaltString::encode_b64(&bytes).map_err(|_| StoreError::internal("salt"))?;
    Ok(hasher().hash_password(password.as_bytes(), &salt).map_err(|_| StoreError::internal("password hash"))?.to_string())
}

fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// Verified against when the name is unknown, so that an unknown name takes as long to refuse
/// as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown names").unwrap_or_default())
}

/// How a name is looked up, whatever its case (Norwegian letters too; SQLite's `lower` folds
/// only ASCII, so the key is made here, the same for both backends).
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn account_row(r: &Row) -> StoreResult<Account> {
    Ok(Account { id: r.text(0)?, name: r.text(1)?, role: Role::parse(&r.text(2)?).ok_or_else(|| StoreError::internal("role"))? })
}

impl Db {
    /// A new account that signs in to the web app.
    pub fn add_account(&self, name: &str, role: Role, password: &str) -> StoreResult<Account> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(StoreError::invalid(format!("--name must be 1 to {MAX_NAME} characters")));
        }
        let length = password.chars().count();
        if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
            return Err(StoreError::invalid(format!("the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")));
        }
        let hash = hash_password(password)?;
        let id = Uuid::new_v4().to_string();
        self.with(|c| {
            sql::write_tx(c, |tx| {
                if tx.row("SELECT 1 FROM accounts WHERE name_key = ?1", params![&name_key(name)])?.is_some() {
                    return Err(StoreError::state_conflict("--name: an account with this name exists already"));
                }
                tx.exec(
                    "INSERT INTO accounts (id, name, name_key, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![&id, name, &name_key(name), role.as_str(), &hash, &now_text()],
                )?;
                audit(tx, "admin", "add-account", None, Some(&id), None)
            })
        })?;
        Ok(Account { id, name: name.to_owned(), role })
    }

    /// The accounts that may sign in, by name.
    pub fn accounts(&self) -> StoreResult<Vec<Account>> {
        self.with(|c| {
            c.rows("SELECT id, name, role FROM accounts WHERE disabled_at IS NULL ORDER BY name_key", &[])?
                .iter()
                .map(account_row)
                .collect()
        })
    }

    /// Signs in: a new session (its token, to set as the cookie), or `None` for a wrong name or
    /// password (the same answer, after the same work). Audited either way.
    pub fn sign_in(&self, name: &str, password: &str) -> StoreResult<Option<(String, Session)>> {
        let found = self.with(|c| {
            c.row(
                "SELECT id, name, role, password_hash FROM accounts WHERE name_key = ?1 AND disabled_at IS NULL",
                params![&name_key(name)],
            )
        })?;
        let stored = found.as_ref().map(|r| r.text(3)).transpose()?;
        let ok = verify(password, stored.as_deref().unwrap_or(decoy())) && found.is_some();
        let Some(row) = found.filter(|_| ok) else {
            self.audit_event("account/unknown", "sign-in", None, None, None, "refused")?;
            return Ok(None);
        };
        let account = account_row(&row)?;
        let token = random_token("");
        let csrf = random_token("");
        let now = now_text();
        self.with(|c| {
            sql::write_tx(c, |tx| {
                tx.exec(
                    "INSERT INTO sessions (token_hash, account_id, csrf, created_at, seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![&sha256_hex(&token), &account.id, &csrf, &now],
                )?;
                audit(tx, &format!("staff/{}", account.id), "sign-in", None, None, None)
            })
        })?;
        Ok(Some((token, Session { account, csrf })))
    }

    /// The session a cookie names, if it is still open; its use is noted (`touch`) unless
    /// this is only a live view watching for changes.
    pub fn session(&self, token: &str, touch: bool) -> StoreResult<Option<Session>> {
        self.with(|c| {
            let Some(r) = c.row(
                "SELECT a.id, a.name, a.role, s.csrf, s.created_at, s.seen_at FROM sessions s JOIN accounts a ON a.id = s.account_id
                 WHERE s.token_hash = ?1 AND s.ended_at IS NULL AND a.disabled_at IS NULL",
                params![&sha256_hex(token)],
            )?
            else {
                return Ok(None);
            };
            let now = Utc::now();
            let at = |i: usize| -> StoreResult<DateTime<Utc>> {
                DateTime::parse_from_rfc3339(&r.text(i)?).map(|t| t.with_timezone(&Utc)).map_err(|_| StoreError::internal("session time"))
            };
            let (created, seen) = (at(4)?, at(5)?);
            if now - created >= Duration::hours(ABSOLUTE_HOURS) || now - seen >= Duration::minutes(IDLE_MINUTES) {
                c.exec("UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1", params![&sha256_hex(token), &now_text()])?;
                return Ok(None);
            }
            if touch && (now - seen).num_seconds() >= SEEN_EVERY_SECS {
                c.exec("UPDATE sessions SET seen_at = ?2 WHERE token_hash = ?1", params![&sha256_hex(token), &now_text()])?;
            }
            Ok(Some(Session { account: account_row(&r)?, csrf: r.text(3)? }))
        })
    }

    pub fn sign_out(&self, token: &str) -> StoreResult<()> {
        self.with(|c| {
            c.exec("UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL", params![&sha256_hex(token), &now_text()])
        })?;
        Ok(())
    }

    /// Who at the clinic has looked at a patient's data, newest first (at most 500 views): when,
    /// their name and role, and what they opened. A bearer token's holder is an integration.
    /// What the server itself did, and refused attempts, are not views.
    pub fn access_log(&self, patient: &str) -> StoreResult<Vec<Access>> {
        self.with(|c| {
            let rows = c.rows(
                "SELECT a.at, a.action, acc.name, acc.role, st.name FROM audit a
                 LEFT JOIN accounts acc ON 'staff/' || acc.id = a.actor
                 LEFT JOIN staff st ON 'staff/' || st.id = a.actor
                 WHERE a.patient_id = ?1 AND a.actor LIKE 'staff/%' AND a.outcome = 'ok'
                   AND a.action IN ('read', 'history', 'search', 'worklist', 'find', 'new-code', 'register')
                 ORDER BY a.at DESC LIMIT 5000",
                params![patient],
            )?;
            rows.iter()
                .map(|r| {
                    let (who, role) = match (r.opt_text(2)?, r.opt_text(3)?, r.opt_text(4)?) {
                        (Some(name), Some(role), _) => (name, role),
                        (_, _, Some(name)) => (name, "integration".to_owned()),
                        _ => ("?".to_owned(), "integration".to_owned()),
                    };
                    Ok(Access { at: r.text(0)?, who, role, what: r.text(1)? })
                })
                .collect::<StoreResult<Vec<_>>>()
                // The same person doing the same within one minute (a worklist refreshing, a
                // page and its search) is one look.
                .map(|mut all| {
                    all.dedup_by(|b, a| a.who == b.who && a.role == b.role && a.what == b.what && a.at.get(..16) == b.at.get(..16));
                    all.truncate(500);
                    all
                })
        })
    }

    /// Test support: makes a session look unused for longer than the idle timeout, or (with
    /// `absolute`) signed in longer ago than a session lasts.
    pub fn age_session(&self, token: &str, absolute: bool) -> StoreResult<()> {
        let old = "2000-01-01T00:00:00.000Z";
        let sql = if absolute {
            "UPDATE sessions SET created_at = ?2 WHERE token_hash = ?1"
        } else {
            "UPDATE sessions SET seen_at = ?2 WHERE token_hash = ?1"
        };
        self.with(|c| c.exec(sql, params![&sha256_hex(token), old]))?;
        Ok(())
    }
}
