//! The server's tables, for SQLite and for PostgreSQL.

pub(super) const SQLITE_SCHEMA: &str = "
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
pub(super) const POSTGRES_SCHEMA: &str = "
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
