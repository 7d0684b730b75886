-- Schema 6: the clinic server now stamps who wrote every record it holds (meta.tag, in
-- Companion's origin code system), and only what it stamped as written by the clinic's staff
-- is shown as "from the clinic". What this diary kept from the clinic before is judged again:
-- the next sync pulls the patient's records from the start (the cursor goes back to 0), and
-- until then what carries no stamp is not shown as the clinic's.
UPDATE settings SET value = json_set(value, '$.cursor', 0) WHERE key = 'sync_link' AND json_valid(value);
