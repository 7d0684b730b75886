//! Staff credentials: bearer tokens for the care team's FHIR clients and integrations. Each
//! expires (12 hours unless asked otherwise), can be listed and revoked, and is stored only as
//! an HMAC-SHA256 under a random salt of its own: a copy of the database gives no token.
//! A token is `s1.<staff id>.<secret>`, so the row is found by id and the secret compared in
//! constant time. Tokens made before salting (plain SHA-256) still work until they expire,
//! 12 hours after the upgrade.

use super::*;
use companion_protocol::limits::MAX_NAME;

/// How long a new staff token is valid unless `--hours` says otherwise.
pub const STAFF_HOURS: i64 = 12;
/// The longest a staff token may be valid.
pub const MAX_STAFF_HOURS: i64 = 24 * 30;
/// Last use is written at most this often per token.
const LAST_USED_EVERY_SECS: i64 = 60;

/// A staff credential as `staff list` shows it: never the token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffToken {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (text.len() % 2 == 0).then_some(())?;
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn keyed(salt: &[u8], secret: &str) -> ring::hmac::Tag {
    ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, salt), secret.as_bytes())
}

impl Db {
    /// A new staff token, valid for `hours`; shown once.
    pub fn add_staff(&self, name: &str, hours: i64) -> StoreResult<String> {
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(StoreError::invalid(format!("--name must be 1 to {MAX_NAME} characters")));
        }
        if !(1..=MAX_STAFF_HOURS).contains(&hours) {
            return Err(StoreError::invalid(format!("--hours must be from 1 to {MAX_STAFF_HOURS}")));
        }
        let id = Uuid::new_v4().to_string();
        let secret = random_token("");
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt).map_err(|_| StoreError::internal("randomness"))?;
        let now = Utc::now();
        let expires = (now + Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let created = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.with(|c| {
            c.exec(
                "INSERT INTO staff (id, name, token_hash, created_at, salt, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![&id, name, &hex(keyed(&salt, &secret).as_ref()), &created, &hex(&salt), &expires],
            )
        })?;
        Ok(format!("s1.{id}.{secret}"))
    }

    /// Every staff credential, newest first.
    pub fn staff_tokens(&self) -> StoreResult<Vec<StaffToken>> {
        self.with(|c| {
            c.rows("SELECT id, name, created_at, expires_at, last_used_at, revoked_at FROM staff ORDER BY created_at DESC, id", &[])?
                .iter()
                .map(|r| {
                    Ok(StaffToken {
                        id: r.text(0)?,
                        name: r.text(1)?,
                        created_at: r.text(2)?,
                        expires_at: r.opt_text(3)?,
                        last_used_at: r.opt_text(4)?,
                        revoked_at: r.opt_text(5)?,
                    })
                })
                .collect()
        })
    }

    /// Test support: makes every staff token look expired.
    pub fn expire_staff_tokens(&self) -> StoreResult<()> {
        self.with(|c| c.exec("UPDATE staff SET expires_at = '2000-01-01T00:00:00.000Z'", &[]).map(|_| ()))
    }

    /// Revokes the staff tokens with this id, or all with this name; how many.
    pub fn revoke_staff(&self, id: Option<&str>, name: Option<&str>) -> StoreResult<usize> {
        let now = now_text();
        self.with(|c| {
            sql::write_tx(c, |tx| {
                let n = match (id, name) {
                    (Some(id), _) => tx.exec("UPDATE staff SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, &now])?,
                    (None, Some(name)) => {
                        tx.exec("UPDATE staff SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL", params![name, &now])?
                    }
                    (None, None) => return Err(StoreError::invalid("--id or --name is needed")),
                };
                audit(tx, "admin", "revoke-staff", None, id, None)?;
                Ok(n as usize)
            })
        })
    }
}

/// The staff member a token belongs to, if it is valid now.
pub(super) fn actor(c: &mut dyn Sql, token: &str) -> StoreResult<Actor> {
    let unknown = || StoreError::unauthorized("unknown credential");
    let row = match token.strip_prefix("s1.").and_then(|rest| rest.split_once('.')) {
        Some((id, secret)) => {
            let Some(row) = c.row(
                "SELECT id, salt, token_hash, expires_at, revoked_at, last_used_at FROM staff WHERE id = ?1 AND salt IS NOT NULL",
                params![id],
            )?
            else {
                return Err(unknown());
            };
            let salt = unhex(&row.text(1)?).ok_or_else(|| StoreError::internal("staff salt"))?;
            let stored = unhex(&row.text(2)?).ok_or_else(|| StoreError::internal("staff hash"))?;
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &salt);
            if ring::hmac::verify(&key, secret.as_bytes(), &stored).is_err() {
                return Err(unknown());
            }
            row
        }
        None => c
            .row(
                "SELECT id, salt, token_hash, expires_at, revoked_at, last_used_at FROM staff WHERE token_hash = ?1 AND salt IS NULL",
                params![&sha256_hex(token)],
            )?
            .ok_or_else(unknown)?,
    };
    if row.opt_text(4)?.is_some() {
        return Err(StoreError::unauthorized("this staff credential has been revoked"));
    }
    let now = Utc::now();
    let expired = row.opt_text(3)?.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).is_none_or(|t| t < now);
    if expired {
        return Err(StoreError::unauthorized("this staff credential has expired"));
    }
    let id = row.text(0)?;
    let stale = row
        .opt_text(5)?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .is_none_or(|t| (now - t.with_timezone(&Utc)).num_seconds() >= LAST_USED_EVERY_SECS);
    if stale {
        c.exec("UPDATE staff SET last_used_at = ?2 WHERE id = ?1", params![&id, &now_text()])?;
    }
    Ok(Actor::Staff { id })
}
