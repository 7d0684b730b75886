-- Schema 2: validated check-ins ("assessment" records), the safety advice shown, and schedules.
-- SQLite cannot change a CHECK constraint in place, so `entries` is rebuilt (foreign keys are
-- off for the step and checked before it commits; see schema.rs) and its triggers recreated.

CREATE TABLE entries_v2 (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('symptom', 'temperature', 'checkin', 'question', 'assessment')),
    author_id       TEXT NOT NULL REFERENCES people (id),
    device_id       TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    current_version INTEGER NOT NULL CHECK (current_version >= 1)
) STRICT;
INSERT INTO entries_v2 (id, kind, author_id, device_id, recorded_at, current_version)
    SELECT id, kind, author_id, device_id, recorded_at, current_version FROM entries;
DROP TABLE entries;
ALTER TABLE entries_v2 RENAME TO entries;
CREATE INDEX entries_kind ON entries (kind);

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'clinical records are never deleted'); END;

CREATE TRIGGER entries_fixed_columns BEFORE UPDATE OF id, kind, author_id, device_id, recorded_at ON entries
BEGIN SELECT RAISE(ABORT, 'an entry''s identity never changes'); END;

CREATE TRIGGER entries_version_forward BEFORE UPDATE OF current_version ON entries
WHEN NEW.current_version <> OLD.current_version + 1
BEGIN SELECT RAISE(ABORT, 'versions only move forward by one'); END;

-- Every piece of safety advice shown: which rule of which ruleset version, raised by which
-- record, when. Kept for sync; never changed or deleted.
CREATE TABLE advice (
    id              TEXT PRIMARY KEY,
    entry_id        TEXT NOT NULL REFERENCES entries (id),
    entry_version   INTEGER NOT NULL,
    rule            TEXT NOT NULL,
    ruleset         TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('recheck', 'contact_team', 'contact_24h', 'call_now', 'crisis', 'emergency')),
    raised_at       TEXT NOT NULL,
    device_id       TEXT NOT NULL
) STRICT;
CREATE INDEX advice_raised ON advice (raised_at);
CREATE INDEX advice_entry ON advice (entry_id);

CREATE TRIGGER advice_no_delete BEFORE DELETE ON advice
BEGIN SELECT RAISE(ABORT, 'advice shown is a record and is never deleted'); END;

CREATE TRIGGER advice_no_update BEFORE UPDATE ON advice
BEGIN SELECT RAISE(ABORT, 'advice shown is never rewritten'); END;

-- How often each check-in is due. A preference, not a clinical record.
CREATE TABLE schedules (
    instrument TEXT PRIMARY KEY,
    every_days INTEGER NOT NULL CHECK (every_days BETWEEN 1 AND 365),
    since      TEXT NOT NULL
) STRICT;
