-- Schema 5: safety advice that misses no one. Each piece of advice names the problems it is
-- about (a symptom, each ESAS-r item at 7 or more), so "two ambers make a call now" counts
-- distinct problems; advice raised before this schema has none and counts once per record.
-- "I understand" on a card is recorded (when, by whom, on which device), once per person, and
-- never changed.
ALTER TABLE advice ADD COLUMN problems TEXT CHECK (problems IS NULL OR json_valid(problems));

CREATE TABLE advice_acks (
    advice_id       TEXT NOT NULL REFERENCES advice (id),
    person_id       TEXT NOT NULL REFERENCES people (id),
    acknowledged_at TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    PRIMARY KEY (advice_id, person_id)
) STRICT;

CREATE TRIGGER advice_acks_no_delete BEFORE DELETE ON advice_acks
BEGIN SELECT RAISE(ABORT, 'an acknowledgement is a record and is never deleted'); END;

CREATE TRIGGER advice_acks_no_update BEFORE UPDATE ON advice_acks
BEGIN SELECT RAISE(ABORT, 'an acknowledgement is never rewritten'); END;

-- PHQ-9 and GAD-7 1.0.0 had the difficulty question's last two LOINC codes swapped; those
-- responses are now read by what was chosen, and go to the clinic again with the right codes.
DELETE FROM outbox WHERE state = 'pending' AND item = 'entry' AND ref_id IN (
    SELECT e.id FROM entries e JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
    WHERE e.kind = 'assessment' AND json_extract(v.data, '$.instrument') IN ('phq9', 'gad7'));
INSERT INTO outbox (item, ref_id, queued_at)
    SELECT 'entry', e.id, v.recorded_at FROM entries e
    JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
    WHERE e.kind = 'assessment' AND json_extract(v.data, '$.instrument') IN ('phq9', 'gad7')
    ORDER BY e.recorded_at;
