-- Schema 4: several devices of one patient. Each local change stamps the fields it changed
-- with a hybrid logical clock, so copies of a record on two devices merge field by field; and
-- the device remembers the server's version of each record, for `If-Match` on edits.
CREATE TABLE field_clocks (
    entry_id TEXT NOT NULL REFERENCES entries (id),
    field    TEXT NOT NULL,
    hlc      TEXT NOT NULL,
    PRIMARY KEY (entry_id, field)
) STRICT;

CREATE TABLE server_versions (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL CHECK (version >= 1)
) STRICT;
