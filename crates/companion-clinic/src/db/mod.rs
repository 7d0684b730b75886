//! The server's store: embedded SQLite (WAL, `synchronous=FULL`) by default, PostgreSQL when
//! given a database URL (see `sql`). Patients, pairing codes and credentials (only their SHA-256
//! hashes), FHIR resources with every version, a per-change sequence for the devices' change
//! feed, and the audit log (who, what, when; never content).

use crate::error::{StoreError, StoreResult};
use crate::fhir;
use crate::params;
use crate::sql::{self, Kind, Pool, Row, Sql};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use companion_core::domain::Scope;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

mod accounts;
mod carers;
mod going_home;
mod migrate;
mod pairing;
mod patients;
mod resources;
mod schema;
mod staff;
mod targets;
pub mod triage;

use carers::parse_scopes;
pub use carers::CARER_ACCESS_SYSTEM;
pub use going_home::{Published, KEY_FILE};
pub use migrate::{LATEST as SCHEMA_VERSION, V2_TABLES, V3_TABLES};
pub use pairing::{valid_key as valid_retry_key, RETRY_MINUTES};
use resources::{read_in, write_one};
pub use resources::{Feed, Write, Written, HISTORY_PAGE};
use schema::{POSTGRES_SCHEMA, SQLITE_SCHEMA};
use serde_json::json;

/// The tables of the first release (schema version 1), for building that release's database
/// from a fixture in tests.
pub fn first_release_schema(postgres: bool) -> &'static str {
    if postgres {
        POSTGRES_SCHEMA
    } else {
        SQLITE_SCHEMA
    }
}
pub use accounts::{Access, Account, Role, Session, ABSOLUTE_HOURS, IDLE_MINUTES, MAX_PASSWORD, MIN_PASSWORD};
pub use patients::{CarerRow, DeviceRow, Overview, PatientRow, Reason, REASON_HOURS};
pub use staff::{StaffToken, STAFF_HOURS};

/// PostgreSQL connections per server process.
const PG_CONNECTIONS: u32 = 4;

pub const PAIRING_HOURS: i64 = companion_protocol::limits::INVITATION_HOURS;

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

    /// The patient a device acts for; `None` for staff, who act for any.
    pub fn patient(&self) -> Option<&str> {
        match self {
            Actor::Device { patient, .. } => Some(patient.as_str()),
            Actor::Staff { .. } => None,
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
    Sqlite(Pool<sql::SqliteManager>),
    /// The connections, and the URL for `pg_dump`.
    Postgres(Pool<sql::PgManager>, String),
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

/// The server's folder is its own (0700) whatever the umask.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
        restrict(dir, 0o700)?;
    }
    Ok(())
}

/// Creates a file 0600 if it is not there (SQLite takes an empty file as a new database).
fn private_file(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(path)?;
    }
    restrict(path, 0o600)
}

fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    let _ = (path, mode);
    Ok(())
}

pub fn sha256_hex(secret: &str) -> String {
    companion_core::crypto::sha256_hex(secret.as_bytes())
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
    use companion_protocol::codes::{grouped, CROCKFORD};
    // 64 random bits make 13 characters; the first 12 (60 bits) are the code.
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("system randomness");
    grouped(&CROCKFORD.encode(&bytes)[..12])
}

/// A code as typed, as every part of Companion reads it (the device hashes it the same way).
pub use companion_core::sync::normalise_code;

impl Db {
    /// The embedded SQLite database in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Db> {
        Db::open_with(dir, None)
    }

    /// SQLite in `dir`, or the PostgreSQL database at `database_url`; `dir` holds the high-water
    /// mark either way.
    pub fn open_with(dir: &Path, database_url: Option<&str>) -> anyhow::Result<Db> {
        private_dir(dir)?;
        let backend = match database_url {
            None => {
                let path = dir.join("clinic.db");
                private_file(&path)?;
                // One connection: SQLite has one writer, and a write holds it for the transaction.
                let pool = sql::pool(sql::SqliteManager { path }, 1)?;
                sql::lease(&pool)?.execute_batch(SQLITE_SCHEMA)?;
                Backend::Sqlite(pool)
            }
            Some(url) => {
                anyhow::ensure!(
                    url.starts_with("postgres://") || url.starts_with("postgresql://"),
                    "--database-url must be a postgres:// URL"
                );
                let pool = sql::pool(sql::PgManager { url: url.to_owned() }, PG_CONNECTIONS)
                    .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
                // Two servers starting at once must not both create the tables.
                sql::write_tx(&mut *sql::lease(&pool)?, |c| c.batch(POSTGRES_SCHEMA)).map_err(anyhow::Error::new)?;
                Backend::Postgres(pool, url.to_owned())
            }
        };
        let mut db = Db { backend: Arc::new(backend), dir: dir.to_owned(), epoch: Arc::new(String::new()) };
        db.with(migrate::migrate).map_err(anyhow::Error::new)?;
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
        db.epoch = Arc::new(epoch.map_err(anyhow::Error::new)?);
        db.note_high_water().map_err(anyhow::Error::new)?;
        // SQLite makes its -wal and -shm files with the database file's mode; older servers
        // left them to the umask.
        for name in ["clinic.db", "clinic.db-wal", "clinic.db-shm", HIGH_WATER] {
            if dir.join(name).exists() {
                restrict(&dir.join(name), 0o600)?;
            }
        }
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
    fn with<T>(&self, f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>) -> StoreResult<T> {
        match &*self.backend {
            Backend::Sqlite(pool) => f(&mut *sql::lease(pool)?),
            Backend::Postgres(pool, _) => f(&mut *sql::lease(pool)?),
        }
    }

    fn note_high_water(&self) -> StoreResult<()> {
        let seq = self.with(|c| c.one("SELECT coalesce(max(seq), 0) FROM changes", &[])?.int(0))?;
        companion_core::files::write_atomically(&self.dir.join(HIGH_WATER), format!("{} {seq}\n", self.epoch).as_bytes())
            .map_err(|_| StoreError::internal("high-water file"))?;
        Ok(())
    }

    /// A consistent copy of the database, for backups: SQLite's `VACUUM INTO`, or for
    /// PostgreSQL an archive from `pg_dump` (restored with `pg_restore --clean`).
    pub fn backup_to(&self, path: &Path) -> StoreResult<()> {
        match &*self.backend {
            Backend::Sqlite(_) => {
                self.with(|c| c.exec("VACUUM INTO ?1", params![&*path.to_string_lossy()]).map(|_| ()))?;
                restrict(path, 0o600).map_err(|_| StoreError::internal("backup file mode"))
            }
            Backend::Postgres(_, url) => {
                let out = std::process::Command::new("pg_dump")
                    .args(["--format=custom", "--dbname", url, "--file"])
                    .arg(path)
                    .output()
                    .map_err(|_| StoreError::internal("pg_dump could not be started"))?;
                if !out.status.success() {
                    tracing::error!(status = ?out.status.code(), "pg_dump failed");
                    return Err(StoreError::internal("pg_dump failed"));
                }
                restrict(path, 0o600).map_err(|_| StoreError::internal("backup file mode"))
            }
        }
    }

    pub fn epoch(&self) -> String {
        self.epoch.as_str().to_owned()
    }

    pub fn add_patient(&self, name: &str) -> StoreResult<(String, String)> {
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

    /// Revokes every device of a patient (theirs and their carers'), and voids the patient's
    /// unused pairing codes and open carer invitations with them.
    pub fn revoke_devices(&self, patient: &str) -> StoreResult<usize> {
        let now = now_text();
        let n = self.with(|c| {
            sql::write_tx(c, |tx| {
                let n =
                    tx.exec("UPDATE devices SET revoked_at = ?2 WHERE patient_id = ?1 AND revoked_at IS NULL", params![patient, &now])?;
                tx.exec(
                    "UPDATE pairing_codes SET expires_at = ?2 WHERE patient_id = ?1 AND used_at IS NULL AND expires_at > ?2",
                    params![patient, &now],
                )?;
                tx.exec(
                    "UPDATE invitations SET expires_at = ?2 WHERE used_at IS NULL AND expires_at > ?2
                     AND carer_id IN (SELECT id FROM carers WHERE patient_id = ?1)",
                    params![patient, &now],
                )?;
                audit(tx, "admin", "revoke-devices", None, None, Some(patient))?;
                Ok(n)
            })
        })?;
        Ok(n as usize)
    }

    /// A new pairing code for a patient already registered (a second device, a new phone).
    pub fn new_code(&self, patient: &str) -> StoreResult<String> {
        if !self.patient_exists(patient)? {
            return Err(StoreError::not_found());
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

    /// Test support: makes the redemptions of a patient's codes look longer ago than a retry
    /// may come.
    pub fn age_redemptions_for(&self, patient: &str) -> StoreResult<()> {
        self.with(|c| {
            c.exec(
                "UPDATE pairing_codes SET used_at = '2000-01-01T00:00:00.000Z' WHERE patient_id = ?1 AND used_at IS NOT NULL",
                params![patient],
            )
        })?;
        Ok(())
    }

    /// Test support: makes a pairing code look old.
    pub fn expire_codes_for(&self, patient: &str) -> StoreResult<()> {
        self.with(|c| c.exec("UPDATE pairing_codes SET expires_at = '2000-01-01T00:00:00.000Z' WHERE patient_id = ?1", params![patient]))?;
        Ok(())
    }

    pub fn actor(&self, token: &str) -> StoreResult<Actor> {
        let hash = sha256_hex(token);
        self.with(|c| {
            if let Some(row) = c.row(
                "SELECT d.id, d.patient_id, d.revoked_at, c.id, c.scopes, c.expires_at, c.revoked_at
                 FROM devices d LEFT JOIN carer_devices cd ON cd.device_id = d.id LEFT JOIN carers c ON c.id = cd.carer_id
                 WHERE d.token_hash = ?1",
                params![&hash],
            )? {
                if row.opt_text(2)?.is_some() {
                    return Err(StoreError::revoked());
                }
                let carer = match row.opt_text(3)? {
                    None => None,
                    Some(id) => {
                        // A carer removed by the patient, or whose time ran out, is turned away
                        // like a revoked device.
                        let expired = row.opt_text(5)?.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).is_some_and(|t| t < Utc::now());
                        if row.opt_text(6)?.is_some() || expired {
                            return Err(StoreError::revoked());
                        }
                        Some(CarerAccess { id, allow: parse_scopes(&row.text(4)?) })
                    }
                };
                return Ok(Actor::Device { id: row.text(0)?, patient: row.text(1)?, carer });
            }
            staff::actor(c, token)
        })
    }

    /// The `Patient` resource of a registered patient, for the caller's own patient (a device)
    /// or any (staff).
    pub fn patient_resource(&self, actor: &Actor, id: &str) -> StoreResult<Option<Value>> {
        if let Actor::Device { patient, .. } = actor {
            if patient != id {
                self.audit_event(&actor.label(), "read", Some("Patient"), None, Some(patient), "refused")?;
                return Ok(None);
            }
        }
        self.with(|c| {
            let Some(row) = c.row("SELECT name, created_at FROM patients WHERE id = ?1", params![id])? else { return Ok(None) };
            audit(c, &actor.label(), "read", Some("Patient"), Some(id), Some(id))?;
            Ok(Some(serde_json::json!({
                "resourceType": "Patient",
                "id": id,
                "meta": { "versionId": "1", "lastUpdated": row.text(1)?,
                          "tag": [{ "system": companion_core::fhir::origin_system(), "code": companion_core::fhir::ORIGIN_CLINIC }] },
                "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{id}") }],
                "active": true,
                "name": [{ "text": row.text(0)? }],
            })))
        })
    }

    pub fn patient_exists(&self, id: &str) -> StoreResult<bool> {
        self.with(|c| Ok(c.one("SELECT count(*) FROM patients WHERE id = ?1", params![id])?.int(0)? > 0))
    }
}

fn audit(conn: &mut dyn Sql, actor: &str, action: &str, rtype: Option<&str>, id: Option<&str>, patient: Option<&str>) -> StoreResult<()> {
    audit_as(conn, actor, action, rtype, id, patient, "ok")
}

/// An audit row: who (the acting credential), what, about which patient, and the outcome
/// (`ok`, `refused`). Never content.
fn audit_as(
    conn: &mut dyn Sql,
    actor: &str,
    action: &str,
    rtype: Option<&str>,
    id: Option<&str>,
    patient: Option<&str>,
    outcome: &str,
) -> StoreResult<()> {
    conn.exec(
        "INSERT INTO audit (at, actor, action, type, id, patient_id, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![&now_text(), actor, action, rtype, id, patient, outcome],
    )?;
    Ok(())
}
