//! The server's store: embedded SQLite (WAL, `synchronous=FULL`) by default, PostgreSQL when
//! given a database URL (see `sql`). Patients, pairing codes and credentials (only their SHA-256
//! hashes), FHIR resources with every version, a per-change sequence for the devices' change
//! feed, and the audit log (who, what, when; never content).

use crate::error::{ApiError, ApiResult};
use crate::fhir;
use crate::params;
use crate::sql::{self, Kind, Pg, Pool, Row, Sql};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use companion_core::domain::Scope;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS patients (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS pairing_codes (
    code_hash TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (id),
    expires_at TEXT NOT NULL, used_at TEXT) STRICT;
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (id), token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT) STRICT;
CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS resources (
    type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, patient_id TEXT NOT NULL,
    last_updated TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, id)) STRICT;
CREATE INDEX IF NOT EXISTS resources_patient ON resources (patient_id, type);
CREATE TABLE IF NOT EXISTS history (
    type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    last_updated TEXT NOT NULL, PRIMARY KEY (type, id, version)) STRICT;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, patient_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    version INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS changes_patient ON changes (patient_id, seq);
CREATE TABLE IF NOT EXISTS audit (
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, type TEXT, id TEXT, patient_id TEXT) STRICT;
CREATE TABLE IF NOT EXISTS carers (
    id TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (id), scopes TEXT NOT NULL,
    expires_at TEXT, revoked_at TEXT, created_at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS invitations (
    code_hash TEXT PRIMARY KEY, carer_id TEXT NOT NULL REFERENCES carers (id),
    expires_at TEXT NOT NULL, used_at TEXT) STRICT;
CREATE TABLE IF NOT EXISTS carer_devices (
    device_id TEXT PRIMARY KEY REFERENCES devices (id), carer_id TEXT NOT NULL REFERENCES carers (id)) STRICT;
";

/// The same tables for PostgreSQL. Times stay ISO 8601 text and bodies JSON text, so both
/// backends return byte-identical resources.
const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patients (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pairing_codes (
    code_hash TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (id),
    expires_at TEXT NOT NULL, used_at TEXT);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (id), token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    type TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, patient_id TEXT NOT NULL,
    last_updated TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, id));
CREATE INDEX IF NOT EXISTS resources_patient ON resources (patient_id, type);
CREATE TABLE IF NOT EXISTS history (
    type TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL,
    last_updated TEXT NOT NULL, PRIMARY KEY (type, id, version));
CREATE TABLE IF NOT EXISTS changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, patient_id TEXT NOT NULL, type TEXT NOT NULL,
    id TEXT NOT NULL, version BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_patient ON changes (patient_id, seq);
CREATE TABLE IF NOT EXISTS audit (
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, type TEXT, id TEXT, patient_id TEXT);
CREATE TABLE IF NOT EXISTS carers (
    id TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (id), scopes TEXT NOT NULL,
    expires_at TEXT, revoked_at TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invitations (
    code_hash TEXT PRIMARY KEY, carer_id TEXT NOT NULL REFERENCES carers (id),
    expires_at TEXT NOT NULL, used_at TEXT);
CREATE TABLE IF NOT EXISTS carer_devices (
    device_id TEXT PRIMARY KEY REFERENCES devices (id), carer_id TEXT NOT NULL REFERENCES carers (id));
";

/// PostgreSQL connections per server process.
const PG_CONNECTIONS: usize = 4;

pub const PAIRING_HOURS: i64 = 72;

/// Who is calling: a paired device (scoped to one patient; a carer's device also to what the
/// patient allowed) or a member of staff.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    Device { id: String, patient: String, carer: Option<CarerAccess> },
    Staff { id: String },
}

/// A carer's device: the carer (`RelatedPerson` id) and what they may see and do.
#[derive(Debug, Clone, PartialEq)]
pub struct CarerAccess {
    pub id: String,
    pub allow: Vec<Scope>,
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Device { id, .. } => format!("device/{id}"),
            Actor::Staff { id } => format!("staff/{id}"),
        }
    }

    pub fn carer(&self) -> Option<&CarerAccess> {
        match self {
            Actor::Device { carer, .. } => carer.as_ref(),
            Actor::Staff { .. } => None,
        }
    }

    /// Whether this caller may see a stored resource (staff and the patient's devices see all
    /// of the patient; a carer what [`fhir::carer_may_see`] allows).
    pub fn may_see(&self, rtype: &str, body: &Value) -> bool {
        match self.carer() {
            Some(c) => fhir::carer_may_see(rtype, body, &c.id, &c.allow),
            None => true,
        }
    }
}

/// An invitation the patient made for a carer.
#[derive(Debug, Clone)]
pub struct Invite {
    /// The carer's id, when the patient's device already knows them (a carer on the shared
    /// device); new otherwise.
    pub carer: Option<String>,
    pub name: String,
    pub relationship: Option<String>,
    pub allow: Vec<Scope>,
    /// Access ends by itself after this many days.
    pub days: Option<i64>,
}

/// What redeeming a code gave.
#[derive(Debug, Clone)]
pub struct Paired {
    pub device: String,
    pub token: String,
    pub patient: String,
    /// For a carer's device: the carer's `RelatedPerson`, and the patient's name to show.
    pub carer: Option<(Value, Vec<Scope>, Option<String>)>,
    pub patient_name: String,
}

/// One stored resource version.
#[derive(Debug, Clone)]
pub struct Stored {
    pub version: i64,
    pub last_updated: String,
    pub body: Value,
    pub patient_id: String,
}

enum Backend {
    Sqlite(Pool<rusqlite::Connection>),
    /// The connections, and the URL for `pg_dump`.
    Postgres(Pool<Pg>, String),
}

#[derive(Clone)]
pub struct Db {
    backend: Arc<Backend>,
    dir: std::path::PathBuf,
    /// Fixed when the database is opened (a restore is noticed then).
    epoch: Arc<String>,
}

/// Beside the database, outside it: the epoch and the highest change sequence this data
/// directory has served. A database file older than that (a restore from backup) gets a new
/// epoch when it is opened, so devices send again what the server no longer has.
const HIGH_WATER: &str = "clinic.highwater";

pub fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn sha256_hex(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A random token: 32 bytes, base64url.
pub fn random_token(prefix: &str) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("system randomness");
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A pairing code a person can type: 12 characters of Crockford base32 in groups of four.
pub fn pairing_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 12];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("system randomness");
    let chars: String = bytes.iter().map(|b| ALPHABET[(*b as usize) % 32] as char).collect();
    format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
}

pub fn normalise_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

impl Db {
    /// The embedded SQLite database in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Db> {
        Db::open_with(dir, None)
    }

    /// SQLite in `dir`, or the PostgreSQL database at `database_url`; `dir` holds the high-water
    /// mark either way.
    pub fn open_with(dir: &Path, database_url: Option<&str>) -> anyhow::Result<Db> {
        std::fs::create_dir_all(dir)?;
        let backend = match database_url {
            None => {
                let conn = rusqlite::Connection::open(dir.join("clinic.db"))?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
                conn.execute_batch(SQLITE_SCHEMA)?;
                Backend::Sqlite(Pool::new(vec![conn]))
            }
            Some(url) => {
                anyhow::ensure!(
                    url.starts_with("postgres://") || url.starts_with("postgresql://"),
                    "--database-url must be a postgres:// URL"
                );
                let mut conns = Vec::new();
                for _ in 0..PG_CONNECTIONS {
                    conns.push(Pg::connect(url).map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?);
                }
                // Two servers starting at once must not both create the tables.
                sql::write_tx(&mut conns[0], |c| c.batch(POSTGRES_SCHEMA)).map_err(|e| anyhow::anyhow!(e.message))?;
                Backend::Postgres(Pool::new(conns), url.to_owned())
            }
        };
        let mut db = Db { backend: Arc::new(backend), dir: dir.to_owned(), epoch: Arc::new(String::new()) };
        let epoch = db.with(|c| {
            sql::write_tx(c, |c| {
                // The data epoch: new for every fresh database, so a restore from backup (an
                // older database) or a new server is noticed by devices.
                c.exec(
                    "INSERT INTO meta (key, value) VALUES ('epoch', ?1) ON CONFLICT (key) DO NOTHING",
                    params![&Uuid::new_v4().to_string()],
                )?;
                let epoch = c.one("SELECT value FROM meta WHERE key = 'epoch'", &[])?.text(0)?;
                let seq = c.one("SELECT coalesce(max(seq), 0) FROM changes", &[])?.int(0)?;
                if let Ok(text) = std::fs::read_to_string(dir.join(HIGH_WATER)) {
                    let mut parts = text.split_whitespace();
                    let seen_epoch = parts.next().unwrap_or("");
                    let seen_seq = parts.next().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
                    if seen_epoch == epoch && seen_seq > seq {
                        tracing::warn!(
                            served = seen_seq,
                            found = seq,
                            "the database is older than what was served: restored from backup; new epoch"
                        );
                        let fresh = Uuid::new_v4().to_string();
                        c.exec("UPDATE meta SET value = ?1 WHERE key = 'epoch'", params![&fresh])?;
                        return Ok(fresh);
                    }
                }
                Ok(epoch)
            })
        });
        db.epoch = Arc::new(epoch.map_err(|e| anyhow::anyhow!(e.message))?);
        db.note_high_water().map_err(|e| anyhow::anyhow!(e.message))?;
        Ok(db)
    }

    /// Which backend this is.
    pub fn kind(&self) -> Kind {
        match *self.backend {
            Backend::Sqlite(_) => Kind::Sqlite,
            Backend::Postgres(..) => Kind::Postgres,
        }
    }

    /// Runs `f` on a connection of the pool.
    fn with<T>(&self, f: impl FnOnce(&mut dyn Sql) -> ApiResult<T>) -> ApiResult<T> {
        match &*self.backend {
            Backend::Sqlite(pool) => f(&mut *pool.get()?),
            Backend::Postgres(pool, _) => f(&mut *pool.get()?),
        }
    }

    fn note_high_water(&self) -> ApiResult<()> {
        let seq = self.with(|c| c.one("SELECT coalesce(max(seq), 0) FROM changes", &[])?.int(0))?;
        let tmp = self.dir.join(format!("{HIGH_WATER}.tmp"));
        std::fs::write(&tmp, format!("{} {seq}\n", self.epoch)).map_err(|_| ApiError::internal("high-water file"))?;
        std::fs::rename(&tmp, self.dir.join(HIGH_WATER)).map_err(|_| ApiError::internal("high-water file"))?;
        Ok(())
    }

    /// A consistent copy of the database, for backups: SQLite's `VACUUM INTO`, or for
    /// PostgreSQL an archive from `pg_dump` (restored with `pg_restore --clean`).
    pub fn backup_to(&self, path: &Path) -> ApiResult<()> {
        match &*self.backend {
            Backend::Sqlite(_) => self.with(|c| c.exec("VACUUM INTO ?1", params![&*path.to_string_lossy()]).map(|_| ())),
            Backend::Postgres(_, url) => {
                let out = std::process::Command::new("pg_dump")
                    .args(["--format=custom", "--dbname", url, "--file"])
                    .arg(path)
                    .output()
                    .map_err(|_| ApiError::internal("pg_dump could not be started"))?;
                if !out.status.success() {
                    tracing::error!(status = ?out.status.code(), "pg_dump failed");
                    return Err(ApiError::internal("pg_dump failed"));
                }
                Ok(())
            }
        }
    }

    pub fn epoch(&self) -> String {
        self.epoch.as_str().to_owned()
    }

    pub fn add_patient(&self, name: &str) -> ApiResult<(String, String)> {
        let id = Uuid::new_v4().to_string();
        let code = pairing_code();
        let expires = (Utc::now() + Duration::hours(PAIRING_HOURS)).to_rfc3339_opts(SecondsFormat::Millis, true);
        self.with(|c| {
            sql::write_tx(c, |c| {
                c.exec("INSERT INTO patients (id, name, created_at) VALUES (?1, ?2, ?3)", params![&id, name, &now_text()])?;
                c.exec(
                    "INSERT INTO pairing_codes (code_hash, patient_id, expires_at) VALUES (?1, ?2, ?3)",
                    params![&sha256_hex(&normalise_code(&code)), &id, &expires],
                )
            })
        })?;
        Ok((id, code))
    }

    pub fn add_staff(&self, name: &str) -> ApiResult<String> {
        let token = random_token("s_");
        self.with(|c| {
            c.exec(
                "INSERT INTO staff (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![&Uuid::new_v4().to_string(), name, &sha256_hex(&token), &now_text()],
            )
        })?;
        Ok(token)
    }

    pub fn revoke_devices(&self, patient: &str) -> ApiResult<usize> {
        let n = self.with(|c| {
            c.exec("UPDATE devices SET revoked_at = ?2 WHERE patient_id = ?1 AND revoked_at IS NULL", params![patient, &now_text()])
        })?;
        Ok(n as usize)
    }

    /// Redeems a code: single use, unexpired. A pairing code (from the clinic) pairs one of the
    /// patient's own devices; an invitation (from the patient) a carer's. `as_carer` says which
    /// the device expects; the other kind is refused without being used up.
    pub fn pair(&self, code: &str, as_carer: bool) -> ApiResult<Paired> {
        let hash = sha256_hex(&normalise_code(code));
        self.with(|c| {
            sql::write_tx(c, |tx| {
                let (table, who) =
                    match tx.row("SELECT patient_id, expires_at, used_at FROM pairing_codes WHERE code_hash = ?1", params![&hash])? {
                        Some(_) if as_carer => {
                            return Err(ApiError::forbidden("this code pairs the patient's own device, not a carer's"));
                        }
                        Some(row) => ("pairing_codes", row),
                        None => match tx.row(
                            "SELECT c.patient_id, i.expires_at, i.used_at, c.id FROM invitations i JOIN carers c ON c.id = i.carer_id
                         WHERE i.code_hash = ?1 AND c.revoked_at IS NULL",
                            params![&hash],
                        )? {
                            Some(_) if !as_carer => {
                                return Err(ApiError::forbidden("this is a carer's invitation: it joins a new diary"));
                            }
                            Some(row) => ("invitations", row),
                            None => return Err(ApiError::forbidden("the pairing code is not valid")),
                        },
                    };
                let (patient, expires, used) = (who.text(0)?, who.text(1)?, who.opt_text(2)?);
                if used.is_some() {
                    return Err(ApiError::forbidden("the pairing code has already been used"));
                }
                let expires = DateTime::parse_from_rfc3339(&expires).map_err(|_| ApiError::internal("expiry"))?;
                if expires < Utc::now() {
                    return Err(ApiError::forbidden("the pairing code has expired"));
                }
                let device = Uuid::new_v4().to_string();
                let token = random_token("d_");
                tx.exec(&format!("UPDATE {table} SET used_at = ?2 WHERE code_hash = ?1"), params![&hash, &now_text()])?;
                tx.exec(
                    "INSERT INTO devices (id, patient_id, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![&device, &patient, &sha256_hex(&token), &now_text()],
                )?;
                let mut carer = None;
                if table == "invitations" {
                    let carer_id = who.text(3)?;
                    tx.exec("INSERT INTO carer_devices (device_id, carer_id) VALUES (?1, ?2)", params![&device, &carer_id])?;
                    let person = read_in(tx, "RelatedPerson", &carer_id)?.ok_or_else(|| ApiError::internal("carer resource"))?;
                    let row = tx.one("SELECT scopes, expires_at FROM carers WHERE id = ?1", params![&carer_id])?;
                    carer = Some((person.body, parse_scopes(&row.text(0)?), row.opt_text(1)?));
                }
                let patient_name = tx.one("SELECT name FROM patients WHERE id = ?1", params![&patient])?.text(0)?;
                audit(tx, &format!("device/{device}"), if carer.is_some() { "pair-carer" } else { "pair" }, None, None, Some(&patient))?;
                Ok(Paired { device, token, patient, carer, patient_name })
            })
        })
    }

    /// The patient (from one of their own devices) invites a carer: the carer's
    /// `RelatedPerson`, a `Consent` naming what they may see and until when, and a one-time
    /// code for the carer's own device. Inviting a carer again replaces what they may see.
    pub fn invite(&self, actor: &Actor, invite: Invite) -> ApiResult<(String, String, Option<String>)> {
        let Actor::Device { patient, carer: None, .. } = actor else {
            return Err(ApiError::forbidden("only the patient's own device invites a carer"));
        };
        let id = invite.carer.clone().unwrap_or_else(|| Uuid::new_v4().to_string());
        if !fhir::valid_id(&id) {
            return Err(ApiError::invalid("the carer id is not a valid FHIR id"));
        }
        let now = Utc::now();
        let access_until = invite.days.map(|d| (now + Duration::days(d)).to_rfc3339_opts(SecondsFormat::Millis, true));
        let code = pairing_code();
        let code_expires = (now + Duration::hours(PAIRING_HOURS)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let scopes: Vec<&str> = invite.allow.iter().map(|s| s.as_str()).collect();
        let scopes = scopes.join(",");
        let mut person = serde_json::json!({
            "resourceType": "RelatedPerson",
            "id": id,
            "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{id}") }],
            "active": true,
            "patient": { "reference": format!("Patient/{patient}") },
            "name": [{ "text": invite.name }],
        });
        if let Some(relationship) = &invite.relationship {
            person["relationship"] = serde_json::json!([{ "text": relationship }]);
        }
        let consent = consent_body(&id, patient, &invite.allow, &now_text(), access_until.as_deref(), "active");
        self.with(|c| {
            sql::write_tx(c, |tx| {
                if let Some(row) = tx.row("SELECT patient_id FROM carers WHERE id = ?1", params![&id])? {
                    if row.text(0)? != *patient {
                        return Err(ApiError::forbidden("this carer belongs to another patient"));
                    }
                    tx.exec(
                        "UPDATE carers SET scopes = ?2, expires_at = ?3, revoked_at = NULL WHERE id = ?1",
                        params![&id, &scopes, access_until.as_deref()],
                    )?;
                } else {
                    tx.exec(
                        "INSERT INTO carers (id, patient_id, scopes, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![&id, patient, &scopes, access_until.as_deref(), &now_text()],
                    )?;
                }
                tx.exec(
                    "INSERT INTO invitations (code_hash, carer_id, expires_at) VALUES (?1, ?2, ?3)",
                    params![&sha256_hex(&normalise_code(&code)), &id, &code_expires],
                )?;
                for (rtype, body) in [("RelatedPerson", person.clone()), ("Consent", consent.clone())] {
                    let id = body["id"].as_str().unwrap_or_default().to_owned();
                    write_one(tx, actor, Write { rtype: rtype.into(), id, body, if_match: None, patient: patient.clone() })??;
                }
                Ok(())
            })
        })?;
        self.note_high_water()?;
        Ok((code, id, access_until))
    }

    /// Ends a carer's access (the patient removed them, or staff did): their devices get 401
    /// at once; what they wrote stays. The Consent becomes inactive.
    pub fn revoke_carer(&self, actor: &Actor, carer: &str) -> ApiResult<()> {
        let own_patient = match actor {
            Actor::Device { patient, carer: None, .. } => Some(patient.clone()),
            Actor::Staff { .. } => None,
            _ => return Err(ApiError::forbidden("only the patient or the clinic ends a carer's access")),
        };
        self.with(|c| {
            sql::write_tx(c, |tx| {
                let Some(row) = tx.row("SELECT patient_id, scopes, expires_at FROM carers WHERE id = ?1", params![carer])? else {
                    return Err(ApiError::not_found());
                };
                let patient = row.text(0)?;
                if own_patient.as_ref().is_some_and(|p| *p != patient) {
                    return Err(ApiError::not_found());
                }
                tx.exec("UPDATE carers SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![carer, &now_text()])?;
                let consent =
                    consent_body(carer, &patient, &parse_scopes(&row.text(1)?), &now_text(), row.opt_text(2)?.as_deref(), "inactive");
                let id = consent["id"].as_str().unwrap_or_default().to_owned();
                write_one(tx, actor, Write { rtype: "Consent".into(), id, body: consent, if_match: None, patient: patient.clone() })??;
                audit(tx, &actor.label(), "revoke-carer", Some("RelatedPerson"), Some(carer), Some(&patient))?;
                Ok(())
            })
        })?;
        self.note_high_water()
    }

    /// Test support: makes a carer's access look expired.
    pub fn expire_carer(&self, carer: &str) -> ApiResult<()> {
        self.with(|c| c.exec("UPDATE carers SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1", params![carer]).map(|_| ()))
    }

    /// A new pairing code for a patient already registered (a second device, a new phone).
    pub fn new_code(&self, patient: &str) -> ApiResult<String> {
        if !self.patient_exists(patient)? {
            return Err(ApiError::not_found());
        }
        let code = pairing_code();
        let expires = (Utc::now() + Duration::hours(PAIRING_HOURS)).to_rfc3339_opts(SecondsFormat::Millis, true);
        self.with(|c| {
            c.exec(
                "INSERT INTO pairing_codes (code_hash, patient_id, expires_at) VALUES (?1, ?2, ?3)",
                params![&sha256_hex(&normalise_code(&code)), patient, &expires],
            )
        })?;
        Ok(code)
    }

    /// Test support: makes a pairing code look old.
    pub fn expire_codes_for(&self, patient: &str) -> ApiResult<()> {
        self.with(|c| c.exec("UPDATE pairing_codes SET expires_at = '2000-01-01T00:00:00.000Z' WHERE patient_id = ?1", params![patient]))?;
        Ok(())
    }

    pub fn actor(&self, token: &str) -> ApiResult<Actor> {
        let hash = sha256_hex(token);
        self.with(|c| {
            if let Some(row) = c.row(
                "SELECT d.id, d.patient_id, d.revoked_at, c.id, c.scopes, c.expires_at, c.revoked_at
                 FROM devices d LEFT JOIN carer_devices cd ON cd.device_id = d.id LEFT JOIN carers c ON c.id = cd.carer_id
                 WHERE d.token_hash = ?1",
                params![&hash],
            )? {
                if row.opt_text(2)?.is_some() {
                    return Err(ApiError::revoked());
                }
                let carer = match row.opt_text(3)? {
                    None => None,
                    Some(id) => {
                        // A carer removed by the patient, or whose time ran out, is turned away
                        // like a revoked device.
                        let expired = row.opt_text(5)?.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).is_some_and(|t| t < Utc::now());
                        if row.opt_text(6)?.is_some() || expired {
                            return Err(ApiError::revoked());
                        }
                        Some(CarerAccess { id, allow: parse_scopes(&row.text(4)?) })
                    }
                };
                return Ok(Actor::Device { id: row.text(0)?, patient: row.text(1)?, carer });
            }
            match c.row("SELECT id FROM staff WHERE token_hash = ?1", params![&hash])? {
                Some(row) => Ok(Actor::Staff { id: row.text(0)? }),
                None => Err(ApiError::unauthorized("unknown credential")),
            }
        })
    }

    pub fn patient_exists(&self, id: &str) -> ApiResult<bool> {
        self.with(|c| Ok(c.one("SELECT count(*) FROM patients WHERE id = ?1", params![id])?.int(0)? > 0))
    }

    pub fn read(&self, actor: &Actor, rtype: &str, id: &str) -> ApiResult<Option<Stored>> {
        self.with(|c| {
            let found = read_in(c, rtype, id)?;
            if let Some(s) = &found {
                audit(c, &actor.label(), "read", Some(rtype), Some(id), Some(&s.patient_id))?;
            }
            Ok(found)
        })
    }

    /// Writes a batch of resources; with `atomic`, all or none. Each result is the stored
    /// version and whether it was created.
    pub fn write_all(&self, actor: &Actor, items: Vec<Write>, atomic: bool) -> ApiResult<Vec<ApiResult<Written>>> {
        let out = self.with(|c| {
            sql::write_tx(c, |tx| {
                // One transaction (one fsync) for the whole bundle. In a batch a refused entry
                // is reported and the others go on; in a transaction it undoes them all.
                let mut out = Vec::new();
                for item in items {
                    let written = write_one(tx, actor, item)?;
                    if atomic {
                        out.push(Ok(written?));
                    } else {
                        out.push(written);
                    }
                }
                Ok(out)
            })
        })?;
        self.note_high_water()?;
        Ok(out)
    }

    /// Resources of one type for a patient, newest first, a page at a time.
    pub fn search(&self, actor: &Actor, rtype: &str, patient: &str, offset: i64, count: i64) -> ApiResult<(i64, Vec<Stored>)> {
        if actor.carer().is_some() {
            // A carer's view is filtered by content, so it is filtered here and then paged.
            return self.with(|c| {
                let rows = c.rows(
                    "SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND patient_id = ?2
                     ORDER BY last_updated DESC, id",
                    params![rtype, patient],
                )?;
                let visible: Vec<Stored> = rows
                    .iter()
                    .map(stored_row)
                    .collect::<ApiResult<Vec<_>>>()?
                    .into_iter()
                    .filter(|s| actor.may_see(rtype, &s.body))
                    .collect();
                audit(c, &actor.label(), "search", Some(rtype), None, Some(patient))?;
                let total = visible.len() as i64;
                Ok((total, visible.into_iter().skip(offset as usize).take(count as usize).collect()))
            });
        }
        self.with(|c| {
            let total = c.one("SELECT count(*) FROM resources WHERE type = ?1 AND patient_id = ?2", params![rtype, patient])?.int(0)?;
            let rows = c.rows(
                "SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND patient_id = ?2
                 ORDER BY last_updated DESC, id LIMIT ?3 OFFSET ?4",
                params![rtype, patient, count, offset],
            )?;
            let rows = rows.iter().map(stored_row).collect::<ApiResult<Vec<_>>>()?;
            audit(c, &actor.label(), "search", Some(rtype), None, Some(patient))?;
            Ok((total, rows))
        })
    }

    /// The change feed of one patient after a cursor: (seq, current body) in order, with what a
    /// carer may not see left out; and the last sequence number looked at, so the cursor moves
    /// past what was left out.
    pub fn changes(&self, actor: &Actor, patient: &str, since: i64, count: i64) -> ApiResult<Feed> {
        self.with(|c| {
            let rows = c.rows(
                "SELECT c.seq, h.body, c.type FROM changes c JOIN history h ON h.type = c.type AND h.id = c.id AND h.version = c.version
                 WHERE c.patient_id = ?1 AND c.seq > ?2 ORDER BY c.seq LIMIT ?3",
                params![patient, since, count],
            )?;
            let more = rows.len() as i64 == count;
            let mut last = since;
            let mut out = Vec::new();
            for r in &rows {
                let (seq, body) = (r.int(0)?, serde_json::from_str(&r.text(1)?).unwrap_or(Value::Null));
                last = seq;
                if actor.may_see(&r.text(2)?, &body) {
                    out.push((seq, body));
                }
            }
            audit(c, &actor.label(), "changes", None, None, Some(patient))?;
            Ok(Feed { rows: out, last, more })
        })
    }

    pub fn audit_count(&self) -> ApiResult<i64> {
        self.with(|c| c.one("SELECT count(*) FROM audit", &[])?.int(0))
    }
}

/// A page of the change feed: (seq, body) of what the caller may see, the last sequence number
/// looked at (the cursor moves past what was left out), and whether more may follow.
pub struct Feed {
    pub rows: Vec<(i64, Value)>,
    pub last: i64,
    pub more: bool,
}

/// One resource to write.
pub struct Write {
    pub rtype: String,
    pub id: String,
    pub body: Value,
    pub if_match: Option<i64>,
    pub patient: String,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub created: bool,
    pub stored: Stored,
}

fn stored_row(r: &Row) -> ApiResult<Stored> {
    Ok(Stored {
        version: r.int(0)?,
        last_updated: r.text(1)?,
        body: serde_json::from_str(&r.text(2)?).unwrap_or(Value::Null),
        patient_id: r.text(3)?,
    })
}

fn read_in(conn: &mut dyn Sql, rtype: &str, id: &str) -> ApiResult<Option<Stored>> {
    conn.row("SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND id = ?2", params![rtype, id])?
        .as_ref()
        .map(stored_row)
        .transpose()
}

/// Content without server metadata, to tell a repeated upload from a change.
fn content(body: &Value) -> Value {
    let mut v = body.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("meta");
    }
    v
}

/// Writes one resource. The outer error is the database failing (the whole transaction is
/// abandoned); the inner one is this resource refused, decided before anything is written, so
/// a refused entry of a batch leaves no trace without needing a savepoint.
fn write_one(tx: &mut dyn Sql, actor: &Actor, w: Write) -> ApiResult<ApiResult<Written>> {
    let current = read_in(tx, &w.rtype, &w.id)?;
    if w.rtype == "Flag" && !matches!(actor, Actor::Staff { .. }) {
        if let Err(e) = fhir::check_flag_write(current.as_ref().map(|c| &c.body), &w.body, &w.patient, actor.carer().map(|c| c.id.as_str()))
        {
            return Ok(Err(e));
        }
    }
    if let Some(cur) = &current {
        if cur.patient_id != w.patient {
            // A resource id belongs to one patient for ever.
            return Ok(Err(ApiError::forbidden("this resource belongs to another patient")));
        }
        // A carer changes only what they wrote. A Flag names no author (R4 allows none that is
        // a RelatedPerson); what a carer's device may do to one is held by `check_flag_write`.
        if let Some(carer) = actor.carer() {
            let same = content(&cur.body) == content(&w.body);
            if !same && w.rtype != "Flag" && !fhir::written_by(&cur.body, &carer.id) {
                return Ok(Err(ApiError::forbidden("a carer changes only what they wrote")));
            }
        }
        if let Some(expected) = w.if_match {
            if expected != cur.version {
                return Ok(Err(ApiError::conflict(cur.version)));
            }
        }
        // The same content again (a retry, a duplicate delivery): nothing new.
        if content(&cur.body) == content(&w.body) {
            return Ok(Ok(Written { created: false, stored: cur.clone() }));
        }
    } else if w.if_match.is_some_and(|v| v != 0) {
        return Ok(Err(ApiError::conflict(0)));
    }
    let version = current.as_ref().map_or(1, |c| c.version + 1);
    let last_updated = now_text();
    let mut body = w.body;
    // The server owns versionId and lastUpdated; where a resource came from (meta.source) and
    // the profiles it claims stay.
    let (source, profile) = (body.pointer("/meta/source").cloned(), body.pointer("/meta/profile").cloned());
    body["meta"] = serde_json::json!({ "versionId": version.to_string(), "lastUpdated": last_updated });
    if let Some(source) = source {
        body["meta"]["source"] = source;
    }
    if let Some(profile) = profile {
        body["meta"]["profile"] = profile;
    }
    let text = body.to_string();
    let action = if current.is_some() { "update" } else { "create" };
    if tx.kind() == Kind::Postgres {
        // One round trip for the four rows (PostgreSQL's data-modifying WITH).
        tx.exec(
            "WITH r AS (INSERT INTO resources (type, id, version, patient_id, last_updated, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                  ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated, body = excluded.body),
                  h AS (INSERT INTO history (type, id, version, body, last_updated) VALUES (?1, ?2, ?3, ?6, ?5)),
                  c AS (INSERT INTO changes (patient_id, type, id, version) VALUES (?4, ?1, ?2, ?3))
             INSERT INTO audit (at, actor, action, type, id, patient_id) VALUES (?5, ?7, ?8, ?1, ?2, ?4)",
            params![&w.rtype, &w.id, version, &w.patient, &last_updated, &text, &actor.label(), action],
        )?;
        return Ok(Ok(Written { created: current.is_none(), stored: Stored { version, last_updated, body, patient_id: w.patient } }));
    }
    tx.exec(
        "INSERT INTO resources (type, id, version, patient_id, last_updated, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated, body = excluded.body",
        params![&w.rtype, &w.id, version, &w.patient, &last_updated, &text],
    )?;
    tx.exec(
        "INSERT INTO history (type, id, version, body, last_updated) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&w.rtype, &w.id, version, &text, &last_updated],
    )?;
    tx.exec("INSERT INTO changes (patient_id, type, id, version) VALUES (?1, ?2, ?3, ?4)", params![&w.patient, &w.rtype, &w.id, version])?;
    audit(tx, &actor.label(), action, Some(&w.rtype), Some(&w.id), Some(&w.patient))?;
    Ok(Ok(Written { created: current.is_none(), stored: Stored { version, last_updated, body, patient_id: w.patient } }))
}

fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

/// The Consent of a carer: what the patient permits them to see, from when, until when.
fn consent_body(carer: &str, patient: &str, allow: &[Scope], at: &str, until: Option<&str>, status: &str) -> Value {
    let codes: Vec<Value> =
        allow.iter().map(|s| serde_json::json!({ "coding": [{ "system": CARER_ACCESS_SYSTEM, "code": s.as_str() }] })).collect();
    let mut period = serde_json::json!({ "start": at });
    if let Some(end) = until {
        period["end"] = serde_json::json!(end);
    }
    serde_json::json!({
        "resourceType": "Consent",
        "id": format!("carer-{carer}"),
        "status": status,
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": "http://loinc.org", "code": "59284-0" }] }],
        "patient": { "reference": format!("Patient/{patient}") },
        "dateTime": at,
        "performer": [{ "reference": format!("Patient/{patient}") }],
        "policyRule": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN" }] },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [{
                "role": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP" }] },
                "reference": { "reference": format!("RelatedPerson/{carer}") },
            }],
            "code": codes,
        },
    })
}

/// Our code system for what a carer may see or do (observations, questions, symptoms, checkins).
pub const CARER_ACCESS_SYSTEM: &str = "https://fhir.companion-diary.no/CodeSystem/carer-access";

fn audit(conn: &mut dyn Sql, actor: &str, action: &str, rtype: Option<&str>, id: Option<&str>, patient: Option<&str>) -> ApiResult<()> {
    conn.exec(
        "INSERT INTO audit (at, actor, action, type, id, patient_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![&now_text(), actor, action, rtype, id, patient],
    )?;
    Ok(())
}
