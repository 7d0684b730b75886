//! The store's side of sync: the outbox (written in the same transaction as each record), the
//! link to the clinic (in the encrypted settings), and what was pulled from the clinic. The HTTP
//! side is [`crate::sync`].

use super::{ts, Store};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

const LINK: &str = "sync_link";

/// The pairing with a clinic server. Kept in the encrypted store: the token is a credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLink {
    pub server: String,
    pub token: String,
    /// This patient's id on the server.
    pub patient: String,
    pub device: String,
    pub epoch: String,
    /// The last change-feed sequence applied.
    pub cursor: i64,
    pub last_success: Option<DateTime<Utc>>,
    /// Set when the server said the credential no longer works.
    #[serde(default)]
    pub problem: Option<String>,
    /// The clinic's own certificate authority (PEM), trusted besides the system's roots.
    #[serde(default)]
    pub ca: Option<String>,
    /// The clinic's public key for its rulesets (Ed25519, base64), pinned at pairing.
    #[serde(default)]
    pub clinic_key: Option<String>,
}

/// One queued item.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub seq: i64,
    pub item: String,
    pub ref_id: Uuid,
    pub attempts: i64,
}

/// A record the server refused, kept aside with why.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Quarantined {
    pub item: String,
    pub ref_id: Uuid,
    pub status: Option<i64>,
    pub reason: Option<String>,
}

/// Queues a record (or a piece of advice) for upload, inside the caller's transaction.
///
/// One pending row per record is enough, since the upload sends the record's current version.
/// A row already pending is replaced by a new one: a sync round in flight (which does not hold
/// the store while it waits on the network) then clears only the row it read, and this change
/// is still sent.
pub(super) fn queue(tx: &Transaction, item: &str, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    tx.execute("DELETE FROM outbox WHERE item = ?1 AND ref_id = ?2 AND state = 'pending'", params![item, id.to_string()])?;
    tx.execute("INSERT INTO outbox (item, ref_id, queued_at) VALUES (?1, ?2, ?3)", params![item, id.to_string(), ts(now)])?;
    Ok(())
}

impl Store {
    pub fn sync_link(&self) -> Result<Option<SyncLink>> {
        Ok(super::setting(&self.conn, LINK)?.and_then(|r| serde_json::from_str(&r).ok()))
    }

    pub fn set_sync_link(&mut self, link: &SyncLink) -> Result<()> {
        let text = serde_json::to_string(link).map_err(|_| Error::Internal("sync link"))?;
        super::set_setting(&self.conn, LINK, &text)
    }

    /// The oldest pending items, up to `limit`.
    pub fn outbox(&self, limit: usize) -> Result<Vec<Queued>> {
        let mut stmt = self.conn.prepare("SELECT seq, item, ref_id, attempts FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(Queued {
                seq: r.get(0)?,
                item: r.get(1)?,
                ref_id: Uuid::parse_str(&r.get::<_, String>(2)?).unwrap_or_default(),
                attempts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// (pending, quarantined)
    pub fn outbox_counts(&self) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'quarantined'), 0) FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    pub fn quarantined(&self) -> Result<Vec<Quarantined>> {
        let mut stmt =
            self.conn.prepare("SELECT item, ref_id, last_status, last_error FROM outbox WHERE state = 'quarantined' ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok(Quarantined {
                item: r.get(0)?,
                ref_id: Uuid::parse_str(&r.get::<_, String>(1)?).unwrap_or_default(),
                status: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The server has these: they leave the outbox.
    pub fn outbox_sent(&mut self, seqs: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for s in seqs {
            tx.execute("DELETE FROM outbox WHERE seq = ?1", [s])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The server refused this one (400/422): set aside with the reason; the rest go on.
    pub fn outbox_quarantine(&mut self, seq: i64, status: u16, reason: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET state = 'quarantined', attempts = attempts + 1, last_status = ?2, last_error = ?3 WHERE seq = ?1",
            params![seq, status, reason],
        )?;
        Ok(())
    }

    /// The server took these pieces of advice (their `Flag`): "Sent", from the first time.
    pub fn note_advice_sent(&mut self, ids: &[Uuid]) -> Result<()> {
        let now = ts(self.now());
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(
                "INSERT INTO advice_sent (advice_id, sent_at) SELECT id, ?2 FROM advice WHERE id = ?1 ON CONFLICT (advice_id) DO NOTHING",
                params![id.to_string(), &now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A failure worth retrying later (network, 429, 5xx).
    pub fn outbox_retry_later(&mut self, seqs: &[i64], status: Option<u16>) -> Result<()> {
        let tx = self.conn.transaction()?;
        for s in seqs {
            tx.execute("UPDATE outbox SET attempts = attempts + 1, last_status = ?2 WHERE seq = ?1", params![s, status])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// After the server lost data (a new epoch): everything is queued again; uploads are
    /// idempotent, so what the server still has is not duplicated.
    pub fn requeue_everything(&mut self) -> Result<()> {
        let now = self.now();
        let tx = self.conn.unchecked_transaction()?;
        let entries: Vec<String> =
            tx.prepare("SELECT id FROM entries ORDER BY recorded_at")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let advice: Vec<String> =
            tx.prepare("SELECT id FROM advice ORDER BY raised_at")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for id in entries {
            queue(&tx, "entry", Uuid::parse_str(&id).unwrap_or_default(), now)?;
        }
        for id in advice {
            queue(&tx, "advice", Uuid::parse_str(&id).unwrap_or_default(), now)?;
        }
        // The versions the old server gave mean nothing to the new one.
        tx.execute("DELETE FROM server_versions", [])?;
        tx.commit()?;
        Ok(())
    }

    /// Applies one pulled page and moves the cursor, in one transaction. Records from this
    /// patient's other devices are taken in (added, or merged with the copy here); our own
    /// coming back change nothing; what the clinic wrote is kept as it came.
    pub fn apply_pulled(&mut self, resources: &[Value], cursor: i64) -> Result<usize> {
        let now = ts(self.now());
        let mut link = self.sync_link()?.ok_or(Error::Internal("not paired"))?;
        let tx = self.conn.unchecked_transaction()?;
        let mut kept = 0;
        for r in resources {
            let (Some(rtype), Some(id)) = (r.get("resourceType").and_then(Value::as_str), r.get("id").and_then(Value::as_str)) else {
                continue;
            };
            let version: i64 = r.pointer("/meta/versionId").and_then(Value::as_str).and_then(|v| v.parse().ok()).unwrap_or(1);
            if let Some(copy) = crate::replica::from_resource(r) {
                if !crate::replica::fits(&copy, rtype, id, r) {
                    // Not a diary record as a device of this patient writes one (on another
                    // type, under another id, or naming an author its writer is not).
                    tracing::warn!(rtype, "a record that does not fit its resource was left out");
                    continue;
                }
                if let Err(e) = crate::replica::check(&copy) {
                    // Another device sent something this one would refuse as input: kept out.
                    tracing::warn!(code = ?e.code(), "a record from another device was refused");
                    continue;
                }
                // In a savepoint, so a record refused half-way leaves nothing of itself.
                tx.execute_batch("SAVEPOINT absorb")?;
                match self.absorb_in(&tx, &copy, Some(version)) {
                    Ok(absorbed) => {
                        tx.execute_batch("RELEASE absorb")?;
                        kept += usize::from(absorbed.changed);
                    }
                    // The store failing stops the page (it is pulled again); a record that
                    // cannot be taken in never does, or one bad record would stop every sync.
                    Err(e @ (Error::Db(_) | Error::Io(_))) => return Err(e),
                    Err(e) => {
                        tx.execute_batch("ROLLBACK TO absorb; RELEASE absorb")?;
                        tracing::warn!(code = ?e.code(), "a record from another device could not be taken in");
                    }
                }
                continue;
            }
            // Only what the server stamped as written by the clinic's staff is kept as the
            // clinic's. Anything else (a device's record that is not a diary record, or a
            // forged "answer") is not; a copy kept before the server stamped records is
            // judged again here.
            if !crate::fhir::written_by_clinic(r) {
                tx.execute("DELETE FROM remote WHERE type = ?1 AND id = ?2", params![rtype, id])?;
                continue;
            }
            tx.execute(
                "INSERT INTO remote (type, id, version, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, body = excluded.body, received_at = excluded.received_at
                 WHERE excluded.version >= remote.version",
                params![rtype, id, version, r.to_string(), now],
            )?;
            kept += 1;
        }
        link.cursor = cursor;
        let text = serde_json::to_string(&link).map_err(|_| Error::Internal("sync link"))?;
        tx.execute("UPDATE settings SET value = ?2 WHERE key = ?1", params![LINK, text])?;
        tx.commit()?;
        self.care_changed();
        Ok(kept)
    }

    /// What the clinic sent, of one resource type: only what the server stamped as written by
    /// its staff.
    pub fn remote(&self, rtype: &str) -> Result<Vec<Value>> {
        let mut stmt = self.conn.prepare("SELECT body FROM remote WHERE type = ?1 ORDER BY received_at, id")?;
        let rows = stmt.query_map([rtype], |r| r.get::<_, String>(0))?;
        Ok(rows
            .filter_map(|r| r.ok())
            .filter_map(|b| serde_json::from_str::<Value>(&b).ok())
            .filter(crate::fhir::written_by_clinic)
            .collect())
    }
}

/// A visit the clinic booked (a pulled `Appointment`).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Appointment {
    pub id: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// FHIR Appointment.status: booked, pending, proposed, arrived, ...
    pub status: String,
    pub description: Option<String>,
}

/// The clinic's answer to one of the patient's questions (a pulled `Communication` with
/// `inResponseTo` the question).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ClinicAnswer {
    pub id: String,
    pub question: Uuid,
    pub text: String,
    pub sent: Option<DateTime<Utc>>,
}

fn instant(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

impl Store {
    /// The clinic's visits not yet over and not called off, soonest first.
    pub fn appointments(&self) -> Result<Vec<Appointment>> {
        let now = self.now();
        let mut out: Vec<Appointment> = self
            .remote("Appointment")?
            .iter()
            .filter_map(|a| {
                let status = a.get("status").and_then(Value::as_str)?.to_owned();
                let start = instant(a.get("start"))?;
                let end = instant(a.get("end"));
                Some(Appointment {
                    id: a.get("id").and_then(Value::as_str)?.to_owned(),
                    start,
                    end,
                    status,
                    description: a.get("description").and_then(Value::as_str).map(str::to_owned),
                })
            })
            .filter(|a| !matches!(a.status.as_str(), "cancelled" | "noshow" | "entered-in-error" | "fulfilled"))
            .filter(|a| a.end.unwrap_or(a.start + chrono::Duration::hours(2)) >= now)
            .collect();
        out.sort_by_key(|a| a.start);
        Ok(out)
    }

    /// The clinic's answers to this diary's questions, oldest first.
    pub fn clinic_answers(&self) -> Result<Vec<ClinicAnswer>> {
        Ok(self
            .remote("Communication")?
            .iter()
            .filter(|c| c.get("status").and_then(Value::as_str) != Some("entered-in-error"))
            .filter_map(|c| {
                let question = c
                    .get("inResponseTo")?
                    .as_array()?
                    .iter()
                    .filter_map(|r| r.get("reference")?.as_str()?.strip_prefix("Communication/"))
                    .find_map(|id| Uuid::parse_str(id).ok())?;
                let text =
                    c.get("payload")?.as_array()?.iter().filter_map(|p| p.get("contentString")?.as_str()).collect::<Vec<_>>().join("\n");
                (!text.trim().is_empty()).then(|| ClinicAnswer {
                    id: c.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    question,
                    text,
                    sent: instant(c.get("sent")),
                })
            })
            .collect())
    }
}

impl Store {
    /// The instruments on this device: the shipped ones, then the forms the clinic sent
    /// (licensed translations) that are the same instrument answered the same way. A form that
    /// is not is left out (and logged by its instrument, never its content).
    pub fn instruments(&self) -> Result<Vec<crate::instruments::Instrument>> {
        let mut out: Vec<crate::instruments::Instrument> = crate::instruments::all().to_vec();
        for q in self.remote("Questionnaire")? {
            let url = q.get("url").and_then(Value::as_str).unwrap_or_default();
            let Some(base) = crate::instruments::all().iter().find(|i| i.questionnaire.url == url) else { continue };
            match base.translation(&q.to_string()) {
                Ok(variant) => out.push(variant),
                Err(why) => tracing::warn!(instrument = base.id, reason = %why.0, "a form from the clinic was not accepted"),
            }
        }
        Ok(out)
    }

    /// One instrument, in the form named by `questionnaire` (`url|version`), or as shipped.
    pub fn instrument(&self, id: &str, questionnaire: Option<&str>) -> Result<crate::instruments::Instrument> {
        let base = crate::instruments::get(id)?;
        let Some(wanted) = questionnaire.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(base.clone()) };
        self.instruments()?
            .into_iter()
            .find(|i| i.id == base.id && i.questionnaire.canonical() == wanted)
            .ok_or_else(|| crate::error::Invalid::new("questionnaire", crate::error::Problem::Unknown).into())
    }

    /// Questionnaires the clinic assigned (by a `Task` with `focus` on one) that this device has
    /// not fetched yet: their ids.
    pub fn assigned_questionnaires_missing(&self) -> Result<Vec<String>> {
        let have: std::collections::HashSet<String> =
            self.remote("Questionnaire")?.iter().filter_map(|q| q.get("id").and_then(Value::as_str).map(str::to_owned)).collect();
        let mut out: Vec<String> = self
            .remote("Task")?
            .iter()
            .filter(|t| !matches!(t.get("status").and_then(Value::as_str), Some("cancelled" | "entered-in-error" | "rejected")))
            .filter_map(|t| t.pointer("/focus/reference")?.as_str()?.strip_prefix("Questionnaire/").map(str::to_owned))
            .filter(|id| !have.contains(id))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Keeps the clinic's current copy of a resource read by id (its care team), whatever its
    /// version: a server restored from a backup may number it lower than the copy here.
    pub fn replace_remote(&mut self, resource: &Value) -> Result<()> {
        let (Some(rtype), Some(id)) = (resource.get("resourceType").and_then(Value::as_str), resource.get("id").and_then(Value::as_str))
        else {
            return Err(Error::Internal("a resource without type or id"));
        };
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM remote WHERE type = ?1 AND id = ?2", params![rtype, id])?;
        tx.commit()?;
        self.keep_remote(resource)
    }

    /// Keeps a resource the clinic provides (a Questionnaire fetched by id).
    pub fn keep_remote(&mut self, resource: &Value) -> Result<()> {
        let (Some(rtype), Some(id)) = (resource.get("resourceType").and_then(Value::as_str), resource.get("id").and_then(Value::as_str))
        else {
            return Err(Error::Internal("a resource without type or id"));
        };
        if !crate::fhir::written_by_clinic(resource) {
            return Err(Error::Internal("a resource the clinic server did not stamp as the clinic's"));
        }
        let version: i64 = resource.pointer("/meta/versionId").and_then(Value::as_str).and_then(|v| v.parse().ok()).unwrap_or(1);
        self.conn.execute(
            "INSERT INTO remote (type, id, version, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, body = excluded.body, received_at = excluded.received_at
             WHERE excluded.version >= remote.version",
            params![rtype, id, version, resource.to_string(), ts(self.now())],
        )?;
        self.care_changed();
        Ok(())
    }
}

/// A form the clinic asked the patient to fill in (a pulled `Task`), not yet done.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Assignment {
    pub task: String,
    /// The instrument it is a form of (`esas-r`, ...).
    pub instrument: String,
    /// The clinic's form, `url|version`.
    pub questionnaire: String,
    pub title: String,
    pub due: Option<DateTime<Utc>>,
}

impl Store {
    /// What the clinic asked for and has not been done since it asked: a check-in of the same
    /// instrument recorded after the task was written counts as done.
    pub fn assigned(&self) -> Result<Vec<Assignment>> {
        let forms = self.instruments()?;
        let by_id: std::collections::HashMap<String, &crate::instruments::Instrument> = self
            .remote("Questionnaire")?
            .iter()
            .filter_map(|q| {
                let id = q.get("id")?.as_str()?.to_owned();
                let canonical = format!("{}|{}", q.get("url")?.as_str()?, q.get("version")?.as_str()?);
                Some((id, forms.iter().find(|f| f.questionnaire.canonical() == canonical)?))
            })
            .collect();
        let mut out = Vec::new();
        for t in self.remote("Task")? {
            if !matches!(t.get("status").and_then(Value::as_str), Some("requested" | "received" | "accepted" | "ready" | "in-progress")) {
                continue;
            }
            let Some(form) = t
                .pointer("/focus/reference")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("Questionnaire/"))
                .and_then(|id| by_id.get(id))
            else {
                continue;
            };
            let asked = instant(t.get("authoredOn")).or_else(|| instant(t.pointer("/meta/lastUpdated")));
            let done = self.assessments(form.id)?.iter().any(|e| asked.is_none_or(|a| e.recorded_at >= a));
            if !done {
                out.push(Assignment {
                    task: t.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    instrument: form.id.to_owned(),
                    questionnaire: form.questionnaire.canonical(),
                    title: form.questionnaire.title.clone(),
                    due: instant(t.pointer("/restriction/period/end")),
                });
            }
        }
        out.sort_by(|a, b| a.due.cmp(&b.due).then(a.task.cmp(&b.task)));
        Ok(out)
    }
}
