-- Schema 5: safety advice that misses no one. Each piece of advice names the problems it is
-- about (a symptom, each ESAS-r item at 7 or more), so "two ambers make a call now" counts
-- distinct problems; advice raised before this schema has none and counts once per record.
-- "I understand" on a card is recorded (when, by whom, on which device) and never changed.
ALTER TABLE advice ADD COLUMN problems TEXT CHECK (problems IS NULL OR json_valid(problems));

CREATE TABLE advice_acks (
    advice_id       TEXT PRIMARY KEY REFERENCES advice (id),
    acknowledged_at TEXT NOT NULL,
    person_id       TEXT NOT NULL REFERENCES people (id),
    device_id       TEXT NOT NULL
) STRICT;

CREATE TRIGGER advice_acks_no_delete BEFORE DELETE ON advice_acks
BEGIN SELECT RAISE(ABORT, 'an acknowledgement is a record and is never deleted'); END;

CREATE TRIGGER advice_acks_no_update BEFORE UPDATE ON advice_acks
BEGIN SELECT RAISE(ABORT, 'an acknowledgement is never rewritten'); END;
