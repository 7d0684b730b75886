//! Versioned migrations of the server's database, for SQLite and PostgreSQL alike. Version 1
//! is the schema in `schema.rs` as first released; the version reached is `meta.schema_version`.
//! Each migration runs in one write transaction (under PostgreSQL's advisory lock, so two
//! servers starting together migrate once). A fixture of each released version lives in
//! `tests/clinic/fixtures/` and is opened by the test suite.

use super::*;

/// The version this build's schema is at.
pub const LATEST: i64 = 4;

pub(super) fn migrate(c: &mut dyn Sql) -> StoreResult<()> {
    loop {
        let done = sql::write_tx(c, |tx| {
            let version = match tx.row("SELECT value FROM meta WHERE key = 'schema_version'", &[])? {
                Some(r) => r.text(0)?.parse::<i64>().map_err(|_| StoreError::internal("schema version"))?,
                None => 1,
            };
            if version > LATEST {
                tracing::error!(version, "the database is from a newer server");
                return Err(StoreError::internal("the database was written by a newer companion-clinic"));
            }
            if version == LATEST {
                return Ok(true);
            }
            match version + 1 {
                2 => to_2(tx)?,
                3 => to_3(tx)?,
                4 => to_4(tx)?,
                _ => unreachable!("every version up to LATEST has a migration"),
            }
            tx.exec(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![&(version + 1).to_string()],
            )?;
            tracing::info!(version = version + 1, "database migrated");
            Ok(false)
        })?;
        if done {
            return Ok(());
        }
    }
}

/// The tables version 2 added to, for building that release's database from its fixture.
pub const V2_TABLES: &str = "ALTER TABLE staff ADD COLUMN salt TEXT;
     ALTER TABLE staff ADD COLUMN expires_at TEXT;
     ALTER TABLE staff ADD COLUMN last_used_at TEXT;
     ALTER TABLE staff ADD COLUMN revoked_at TEXT;
     ALTER TABLE audit ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok';";

/// Version 4: the care team's web app. Staff accounts that sign in with a password (Argon2id)
/// and a role, their sessions, the reasons given to open a patient with no alert or visit here
/// (Normen's "break the glass"), and the triage index: one row per triage `Task` (the FHIR
/// resource stays the record; the row is what the worklist sorts and counts, and is rewritten
/// in the same transaction as every version of the Task). Alerts stored before get their
/// triage Task here, received when their Flag was stored.
fn to_4(tx: &mut dyn Sql) -> StoreResult<()> {
    let (strict, int) = if tx.kind() == Kind::Sqlite { (" STRICT", "INTEGER") } else { ("", "BIGINT") };
    tx.batch(&format!(
        "CREATE TABLE accounts (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL, disabled_at TEXT){strict};
         CREATE UNIQUE INDEX accounts_name ON accounts (name_key);
         CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts (id), csrf TEXT NOT NULL,
            created_at TEXT NOT NULL, seen_at TEXT NOT NULL, ended_at TEXT){strict};
         CREATE TABLE triage (
            task_id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, flag_id TEXT NOT NULL, level TEXT NOT NULL,
            priority TEXT NOT NULL, rank {int} NOT NULL, status TEXT NOT NULL, reported_at TEXT NOT NULL,
            received_at TEXT NOT NULL, due_at TEXT NOT NULL, owner TEXT, owner_name TEXT, taken_at TEXT,
            closed_at TEXT, outcome TEXT, reporter TEXT NOT NULL, report TEXT NOT NULL, record_ref TEXT){strict};
         CREATE INDEX triage_worklist ON triage (status, rank, due_at);
         CREATE INDEX triage_patient ON triage (patient_id, received_at);
         CREATE INDEX triage_record ON triage (record_ref);
         CREATE INDEX changes_type ON changes (type, seq);
         CREATE TABLE access_reasons (
            at TEXT NOT NULL, actor TEXT NOT NULL, patient_id TEXT NOT NULL REFERENCES patients (id), reason TEXT NOT NULL){strict};
         CREATE INDEX access_reasons_patient ON access_reasons (patient_id, at);"
    ))?;
    let opened = super::triage::open_existing(tx)?;
    tracing::info!(opened, "alerts stored before the worklist given their triage tasks");
    Ok(())
}

/// Version 3: a redeemed code remembers the hash of the device's retry key and the device it
/// made, so a lost reply can be asked for again (`pairing.rs`). Codes redeemed before keep
/// neither, and stay used.
fn to_3(tx: &mut dyn Sql) -> StoreResult<()> {
    tx.batch(V3_TABLES)
}

/// What version 3 added to the tables, for building that release's database from its fixture.
pub const V3_TABLES: &str = "ALTER TABLE pairing_codes ADD COLUMN used_key TEXT;
     ALTER TABLE pairing_codes ADD COLUMN used_device TEXT;
     ALTER TABLE invitations ADD COLUMN used_key TEXT;
     ALTER TABLE invitations ADD COLUMN used_device TEXT;";

/// Version 2: staff tokens expire, can be revoked and are salted; audit rows have an outcome;
/// every stored version carries the server's stamp of who wrote it.
fn to_2(tx: &mut dyn Sql) -> StoreResult<()> {
    tx.batch(V2_TABLES)?;
    // Tokens from before had no end: they get the default, from now.
    let until = (Utc::now() + Duration::hours(super::STAFF_HOURS)).to_rfc3339_opts(SecondsFormat::Millis, true);
    tx.exec("UPDATE staff SET expires_at = ?1", params![&until])?;
    stamp_history(tx)
}

/// Stamps every stored version with who wrote it, from the audit log: the n-th create or
/// update of a resource made version n. A version the log does not account for keeps no
/// stamp, and so is never shown as the clinic's.
fn stamp_history(tx: &mut dyn Sql) -> StoreResult<()> {
    let carers: std::collections::HashSet<String> =
        tx.rows("SELECT device_id FROM carer_devices", &[])?.iter().map(|r| r.text(0)).collect::<StoreResult<_>>()?;
    let mut writers: std::collections::HashMap<(String, String), Vec<String>> = std::collections::HashMap::new();
    for r in tx.rows("SELECT type, id, actor FROM audit WHERE action IN ('create', 'update') AND type IS NOT NULL ORDER BY at", &[])? {
        writers.entry((r.text(0)?, r.text(1)?)).or_default().push(r.text(2)?);
    }
    let rows = tx.rows(
        "SELECT h.type, h.id, h.version, h.body, r.version, r.patient_id FROM history h JOIN resources r ON r.type = h.type AND r.id = h.id",
        &[],
    )?;
    let mut stamped = 0usize;
    for r in rows {
        let (rtype, id, version, current) = (r.text(0)?, r.text(1)?, r.int(2)?, r.int(4)?);
        let Some(label) = writers.get(&(rtype.clone(), id.clone())).and_then(|w| w.get((version - 1) as usize)) else { continue };
        let actor = match label.split_once('/') {
            Some(("staff", s)) => Actor::Staff { id: s.to_owned() },
            Some(("device", d)) => Actor::Device {
                id: d.to_owned(),
                patient: String::new(),
                carer: carers.contains(d).then(|| CarerAccess { id: String::new(), allow: Vec::new() }),
            },
            _ => continue,
        };
        let mut body: Value = serde_json::from_str(&r.text(3)?).map_err(|_| StoreError::internal("stored body"))?;
        let last_updated = body.pointer("/meta/lastUpdated").and_then(Value::as_str).unwrap_or_default().to_owned();
        crate::origin::stamp(&mut body, &actor, version, &last_updated);
        let text = body.to_string();
        tx.exec("UPDATE history SET body = ?4 WHERE type = ?1 AND id = ?2 AND version = ?3", params![&rtype, &id, version, &text])?;
        if version == current {
            tx.exec("UPDATE resources SET body = ?3 WHERE type = ?1 AND id = ?2", params![&rtype, &id, &text])?;
            // In the change feed again, so a device that pulled the unstamped copy (whatever
            // its own schema) gets the stamped one at its next sync.
            tx.exec(
                "INSERT INTO changes (patient_id, type, id, version) VALUES (?1, ?2, ?3, ?4)",
                params![&r.text(5)?, &rtype, &id, version],
            )?;
        }
        stamped += 1;
    }
    tracing::info!(stamped, "stored versions stamped with their writer");
    Ok(())
}
