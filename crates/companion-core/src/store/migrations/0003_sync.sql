-- Schema 3: sync with the clinic. The outbox holds what waits to be sent; a row is written in
-- the same transaction as the record (or advice) it names. Records that were saved before this
-- schema are queued too, so pairing later sends the whole diary.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    item        TEXT NOT NULL CHECK (item IN ('entry', 'advice')),
    ref_id      TEXT NOT NULL,
    queued_at   TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'quarantined')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error  TEXT
) STRICT;
CREATE INDEX outbox_state ON outbox (state, seq);

INSERT INTO outbox (item, ref_id, queued_at)
    SELECT 'entry', id, recorded_at FROM entries ORDER BY recorded_at;
INSERT INTO outbox (item, ref_id, queued_at)
    SELECT 'advice', id, raised_at FROM advice ORDER BY raised_at;

-- What the clinic wrote and the device pulled (appointments, answers, questionnaires), as FHIR.
CREATE TABLE remote (
    type        TEXT NOT NULL,
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL CHECK (json_valid(body)),
    received_at TEXT NOT NULL,
    PRIMARY KEY (type, id)
) STRICT;
