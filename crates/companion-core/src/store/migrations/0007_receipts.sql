-- Schema 7: when the clinic's server took each piece of advice from this device (its `Flag`),
-- so the card can say "Sent" before the clinic's own receipt (the triage Task) comes back. Kept
-- beside the advice, which is never rewritten; the first time stands.
CREATE TABLE advice_sent (
    advice_id   TEXT PRIMARY KEY REFERENCES advice (id),
    sent_at     TEXT NOT NULL
) STRICT;

CREATE TRIGGER advice_sent_no_delete BEFORE DELETE ON advice_sent
BEGIN SELECT RAISE(ABORT, 'when advice was sent is a record and is never deleted'); END;

CREATE TRIGGER advice_sent_no_update BEFORE UPDATE ON advice_sent
BEGIN SELECT RAISE(ABORT, 'when advice was sent is never rewritten'); END;
