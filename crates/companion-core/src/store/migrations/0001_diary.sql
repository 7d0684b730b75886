-- Schema 1: the offline diary.
-- Clinical records are append-only: an entry is a row in `entries` plus one row per version in
-- `entry_versions`; corrections and withdrawals add versions. Triggers refuse deletes and
-- rewrites, so no code path can erase a record.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    role         TEXT NOT NULL CHECK (role IN ('patient', 'carer')),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    relationship TEXT,
    created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE entries (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('symptom', 'temperature', 'checkin', 'question')),
    author_id       TEXT NOT NULL REFERENCES people (id),
    device_id       TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    current_version INTEGER NOT NULL CHECK (current_version >= 1)
) STRICT;

CREATE TABLE entry_versions (
    entry_id    TEXT NOT NULL REFERENCES entries (id),
    version     INTEGER NOT NULL CHECK (version >= 1),
    status      TEXT NOT NULL CHECK (status IN ('final', 'amended', 'entered-in-error')),
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES people (id),
    device_id   TEXT NOT NULL,
    data        TEXT NOT NULL CHECK (json_valid(data)),
    PRIMARY KEY (entry_id, version)
) STRICT;

CREATE INDEX entry_versions_occurred ON entry_versions (occurred_at);
CREATE INDEX entries_kind ON entries (kind);

-- The order of questions on the visit list. Not a clinical record: reordering is a preference.
CREATE TABLE question_order (
    entry_id TEXT PRIMARY KEY REFERENCES entries (id),
    position INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'clinical records are never deleted'); END;

CREATE TRIGGER entries_fixed_columns BEFORE UPDATE OF id, kind, author_id, device_id, recorded_at ON entries
BEGIN SELECT RAISE(ABORT, 'an entry''s identity never changes'); END;

CREATE TRIGGER entries_version_forward BEFORE UPDATE OF current_version ON entries
WHEN NEW.current_version <> OLD.current_version + 1
BEGIN SELECT RAISE(ABORT, 'versions only move forward by one'); END;

CREATE TRIGGER entry_versions_no_delete BEFORE DELETE ON entry_versions
BEGIN SELECT RAISE(ABORT, 'clinical records are never deleted'); END;

CREATE TRIGGER entry_versions_no_update BEFORE UPDATE ON entry_versions
BEGIN SELECT RAISE(ABORT, 'a recorded version is never rewritten'); END;
