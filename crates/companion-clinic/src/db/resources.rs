//! FHIR resources: reading, writing a batch (every version kept, a change sequence for the
//! devices' feed, an audit row), search and the change feed.

use super::*;

impl Db {
    pub fn read(&self, actor: &Actor, rtype: &str, id: &str) -> ApiResult<Option<Stored>> {
        self.with(|c| {
            let found = read_in(c, rtype, id)?;
            if let Some(s) = &found {
                audit(c, &actor.label(), "read", Some(rtype), Some(id), Some(&s.patient_id))?;
            }
            Ok(found)
        })
    }

    /// Writes a batch of resources; with `atomic`, all or none. Each result is the stored
    /// version and whether it was created.
    pub fn write_all(&self, actor: &Actor, items: Vec<Write>, atomic: bool) -> ApiResult<Vec<ApiResult<Written>>> {
        let out = self.with(|c| {
            sql::write_tx(c, |tx| {
                // One transaction (one fsync) for the whole bundle. In a batch a refused entry
                // is reported and the others go on; in a transaction it undoes them all.
                let mut out = Vec::new();
                for item in items {
                    let written = write_one(tx, actor, item)?;
                    if atomic {
                        out.push(Ok(written?));
                    } else {
                        out.push(written);
                    }
                }
                Ok(out)
            })
        })?;
        self.note_high_water()?;
        Ok(out)
    }

    /// Resources of one type for a patient, newest first, a page at a time.
    pub fn search(&self, actor: &Actor, rtype: &str, patient: &str, offset: i64, count: i64) -> ApiResult<(i64, Vec<Stored>)> {
        if actor.carer().is_some() {
            // A carer's view is filtered by content, so it is filtered here and then paged.
            return self.with(|c| {
                let rows = c.rows(
                    "SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND patient_id = ?2
                     ORDER BY last_updated DESC, id",
                    params![rtype, patient],
                )?;
                let visible: Vec<Stored> = rows
                    .iter()
                    .map(stored_row)
                    .collect::<ApiResult<Vec<_>>>()?
                    .into_iter()
                    .filter(|s| actor.may_see(rtype, &s.body))
                    .collect();
                audit(c, &actor.label(), "search", Some(rtype), None, Some(patient))?;
                let total = visible.len() as i64;
                Ok((total, visible.into_iter().skip(offset as usize).take(count as usize).collect()))
            });
        }
        self.with(|c| {
            let total = c.one("SELECT count(*) FROM resources WHERE type = ?1 AND patient_id = ?2", params![rtype, patient])?.int(0)?;
            let rows = c.rows(
                "SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND patient_id = ?2
                 ORDER BY last_updated DESC, id LIMIT ?3 OFFSET ?4",
                params![rtype, patient, count, offset],
            )?;
            let rows = rows.iter().map(stored_row).collect::<ApiResult<Vec<_>>>()?;
            audit(c, &actor.label(), "search", Some(rtype), None, Some(patient))?;
            Ok((total, rows))
        })
    }

    /// The change feed of one patient after a cursor: (seq, current body) in order, with what a
    /// carer may not see left out; and the last sequence number looked at, so the cursor moves
    /// past what was left out.
    pub fn changes(&self, actor: &Actor, patient: &str, since: i64, count: i64) -> ApiResult<Feed> {
        self.with(|c| {
            let rows = c.rows(
                "SELECT c.seq, h.body, c.type FROM changes c JOIN history h ON h.type = c.type AND h.id = c.id AND h.version = c.version
                 WHERE c.patient_id = ?1 AND c.seq > ?2 ORDER BY c.seq LIMIT ?3",
                params![patient, since, count],
            )?;
            let more = rows.len() as i64 == count;
            let mut last = since;
            let mut out = Vec::new();
            for r in &rows {
                let (seq, body) = (r.int(0)?, serde_json::from_str(&r.text(1)?).unwrap_or(Value::Null));
                last = seq;
                if actor.may_see(&r.text(2)?, &body) {
                    out.push((seq, body));
                }
            }
            audit(c, &actor.label(), "changes", None, None, Some(patient))?;
            Ok(Feed { rows: out, last, more })
        })
    }

    pub fn audit_count(&self) -> ApiResult<i64> {
        self.with(|c| c.one("SELECT count(*) FROM audit", &[])?.int(0))
    }
}

/// A page of the change feed: (seq, body) of what the caller may see, the last sequence number
/// looked at (the cursor moves past what was left out), and whether more may follow.
pub struct Feed {
    pub rows: Vec<(i64, Value)>,
    pub last: i64,
    pub more: bool,
}

/// One resource to write.
pub struct Write {
    pub rtype: String,
    pub id: String,
    pub body: Value,
    pub if_match: Option<i64>,
    pub patient: String,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub created: bool,
    pub stored: Stored,
}

fn stored_row(r: &Row) -> ApiResult<Stored> {
    Ok(Stored {
        version: r.int(0)?,
        last_updated: r.text(1)?,
        body: serde_json::from_str(&r.text(2)?).unwrap_or(Value::Null),
        patient_id: r.text(3)?,
    })
}

pub(super) fn read_in(conn: &mut dyn Sql, rtype: &str, id: &str) -> ApiResult<Option<Stored>> {
    conn.row("SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND id = ?2", params![rtype, id])?
        .as_ref()
        .map(stored_row)
        .transpose()
}

/// Content without server metadata, to tell a repeated upload from a change.
fn content(body: &Value) -> Value {
    let mut v = body.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("meta");
    }
    v
}

/// Writes one resource. The outer error is the database failing (the whole transaction is
/// abandoned); the inner one is this resource refused, decided before anything is written, so
/// a refused entry of a batch leaves no trace without needing a savepoint.
pub(super) fn write_one(tx: &mut dyn Sql, actor: &Actor, w: Write) -> ApiResult<ApiResult<Written>> {
    let current = read_in(tx, &w.rtype, &w.id)?;
    if w.rtype == "Flag" && !matches!(actor, Actor::Staff { .. }) {
        if let Err(e) = fhir::check_flag_write(current.as_ref().map(|c| &c.body), &w.body, &w.patient, actor.carer().map(|c| c.id.as_str()))
        {
            return Ok(Err(e));
        }
    }
    if let Some(cur) = &current {
        if cur.patient_id != w.patient {
            // A resource id belongs to one patient for ever.
            return Ok(Err(ApiError::forbidden("this resource belongs to another patient")));
        }
        // A carer changes only what they wrote. A Flag names no author (R4 allows none that is
        // a RelatedPerson); what a carer's device may do to one is held by `check_flag_write`.
        if let Some(carer) = actor.carer() {
            let same = content(&cur.body) == content(&w.body);
            if !same && w.rtype != "Flag" && !fhir::written_by(&cur.body, &carer.id) {
                return Ok(Err(ApiError::forbidden("a carer changes only what they wrote")));
            }
        }
        if let Some(expected) = w.if_match {
            if expected != cur.version {
                return Ok(Err(ApiError::conflict(cur.version)));
            }
        }
        // The same content again (a retry, a duplicate delivery): nothing new.
        if content(&cur.body) == content(&w.body) {
            return Ok(Ok(Written { created: false, stored: cur.clone() }));
        }
    } else if w.if_match.is_some_and(|v| v != 0) {
        return Ok(Err(ApiError::conflict(0)));
    }
    let version = current.as_ref().map_or(1, |c| c.version + 1);
    let last_updated = now_text();
    let mut body = w.body;
    // The server owns versionId and lastUpdated; where a resource came from (meta.source) and
    // the profiles it claims stay.
    let (source, profile) = (body.pointer("/meta/source").cloned(), body.pointer("/meta/profile").cloned());
    body["meta"] = serde_json::json!({ "versionId": version.to_string(), "lastUpdated": last_updated });
    if let Some(source) = source {
        body["meta"]["source"] = source;
    }
    if let Some(profile) = profile {
        body["meta"]["profile"] = profile;
    }
    let text = body.to_string();
    let action = if current.is_some() { "update" } else { "create" };
    if tx.kind() == Kind::Postgres {
        // One round trip for the four rows (PostgreSQL's data-modifying WITH).
        tx.exec(
            "WITH r AS (INSERT INTO resources (type, id, version, patient_id, last_updated, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                  ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated, body = excluded.body),
                  h AS (INSERT INTO history (type, id, version, body, last_updated) VALUES (?1, ?2, ?3, ?6, ?5)),
                  c AS (INSERT INTO changes (patient_id, type, id, version) VALUES (?4, ?1, ?2, ?3))
             INSERT INTO audit (at, actor, action, type, id, patient_id) VALUES (?5, ?7, ?8, ?1, ?2, ?4)",
            params![&w.rtype, &w.id, version, &w.patient, &last_updated, &text, &actor.label(), action],
        )?;
        return Ok(Ok(Written { created: current.is_none(), stored: Stored { version, last_updated, body, patient_id: w.patient } }));
    }
    tx.exec(
        "INSERT INTO resources (type, id, version, patient_id, last_updated, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated, body = excluded.body",
        params![&w.rtype, &w.id, version, &w.patient, &last_updated, &text],
    )?;
    tx.exec(
        "INSERT INTO history (type, id, version, body, last_updated) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&w.rtype, &w.id, version, &text, &last_updated],
    )?;
    tx.exec("INSERT INTO changes (patient_id, type, id, version) VALUES (?1, ?2, ?3, ?4)", params![&w.patient, &w.rtype, &w.id, version])?;
    audit(tx, &actor.label(), action, Some(&w.rtype), Some(&w.id), Some(&w.patient))?;
    Ok(Ok(Written { created: current.is_none(), stored: Stored { version, last_updated, body, patient_id: w.patient } }))
}
