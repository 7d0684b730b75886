//! FHIR resources: reading, writing a batch (every version kept, a change sequence for the
//! devices' feed, an audit row), search and the change feed.

use super::*;
use std::collections::HashSet;

impl Db {
    /// A resource as the caller may see it: another patient's, or what a carer was not given,
    /// is absent (its existence is not disclosed) and the attempt is audited as refused.
    pub fn read(&self, actor: &Actor, rtype: &str, id: &str) -> StoreResult<Option<Stored>> {
        self.with(|c| {
            let Some(s) = read_in(c, rtype, id)? else { return Ok(None) };
            if !visible(actor, rtype, &s.patient_id, &s.body) {
                audit_as(c, &actor.label(), "read", Some(rtype), Some(id), actor.patient(), "refused")?;
                return Ok(None);
            }
            audit(c, &actor.label(), "read", Some(rtype), Some(id), Some(&s.patient_id))?;
            Ok(Some(s))
        })
    }

    /// A page of a resource's versions the caller may see, newest first (`page` = offset and
    /// count, at most `HISTORY_PAGE`), and how many there are in all; `version` picks one
    /// (vread).
    pub fn history(&self, actor: &Actor, rtype: &str, id: &str, version: Option<i64>, page: (i64, i64)) -> StoreResult<(i64, Vec<Stored>)> {
        self.with(|c| {
            let Some(current) = read_in(c, rtype, id)? else { return Ok((0, Vec::new())) };
            let rows = match version {
                Some(v) => c.rows(
                    "SELECT version, last_updated, body, type FROM history WHERE type = ?1 AND id = ?2 AND version = ?3",
                    params![rtype, id, v],
                )?,
                None => c.rows(
                    "SELECT version, last_updated, body, type FROM history WHERE type = ?1 AND id = ?2 ORDER BY version DESC LIMIT ?3 OFFSET ?4",
                    params![rtype, id, page.1.clamp(1, HISTORY_PAGE), page.0.max(0)],
                )?,
            };
            let mut all = rows.iter().map(stored_row).collect::<StoreResult<Vec<_>>>()?;
            for s in &mut all {
                s.patient_id.clone_from(&current.patient_id);
            }
            let seen: Vec<Stored> = all.into_iter().filter(|s| visible(actor, rtype, &s.patient_id, &s.body)).collect();
            if seen.is_empty() {
                audit_as(c, &actor.label(), "history", Some(rtype), Some(id), actor.patient(), "refused")?;
                return Ok((0, seen));
            }
            audit(c, &actor.label(), "history", Some(rtype), Some(id), Some(&current.patient_id))?;
            Ok((current.version, seen))
        })
    }

    /// Writes a batch of resources; with `atomic`, all or none. Each result is the stored
    /// version and whether it was created.
    pub fn write_all(&self, actor: &Actor, items: Vec<Write>, atomic: bool) -> StoreResult<Vec<StoreResult<Written>>> {
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

    /// A search over one patient's resources of one type (or the clinic's shared forms, with
    /// `patient` empty): the total and the page. Audited when it found something.
    pub fn search(&self, actor: &Actor, rtype: &str, patient: &str, q: &crate::search::Search) -> StoreResult<(i64, Vec<Stored>)> {
        // `*`: every patient's (staff only; the triage worklist).
        let all = patient == "*" && matches!(actor, Actor::Staff { .. });
        let rows = self.with(|c| {
            if all {
                // Only triage Tasks (the index names them), most urgent first, bounded.
                c.rows(
                    "SELECT r.version, r.last_updated, r.body, r.patient_id FROM triage t JOIN resources r ON r.type = ?1 AND r.id = t.task_id
                     ORDER BY t.rank, t.due_at, t.task_id LIMIT 5000",
                    params![rtype],
                )
            } else {
                c.rows(
                    "SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND patient_id = ?2
                     ORDER BY last_updated DESC, id",
                    params![rtype, patient],
                )
            }
        })?;
        // Matched and sorted with the connection given back, so a search holds up no one.
        let rows: Vec<Stored> =
            rows.iter().map(stored_row).collect::<StoreResult<Vec<_>>>()?.into_iter().filter(|s| actor.may_see(rtype, &s.body)).collect();
        let (total, page) = q.apply(rows);
        if all {
            // Each patient whose records the page shows, once.
            let mut shown: Vec<&str> = page.iter().map(|s| s.patient_id.as_str()).collect();
            shown.sort_unstable();
            shown.dedup();
            self.with(|c| {
                sql::write_tx(c, |tx| shown.iter().try_for_each(|p| audit(tx, &actor.label(), "search", Some(rtype), None, Some(p))))
            })?;
        } else if total > 0 {
            self.with(|c| audit(c, &actor.label(), "search", Some(rtype), None, Some(patient).filter(|p| !p.is_empty())))?;
        }
        Ok((total, page))
    }

    /// The change feed of one patient after a cursor: (seq, current body) in order, with what a
    /// carer may not see left out; and the last sequence number looked at, so the cursor moves
    /// past what was left out.
    pub fn changes(&self, actor: &Actor, patient: &str, since: i64, count: i64) -> StoreResult<Feed> {
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
            if !out.is_empty() {
                audit(c, &actor.label(), "changes", None, None, Some(patient))?;
            }
            Ok(Feed { rows: out, last, more })
        })
    }

    /// Every stored version of every resource, for "nothing was written" checks.
    pub fn version_count(&self) -> StoreResult<i64> {
        self.with(|c| c.one("SELECT count(*) FROM history", &[])?.int(0))
    }

    pub fn audit_count(&self) -> StoreResult<i64> {
        self.with(|c| c.one("SELECT count(*) FROM audit", &[])?.int(0))
    }

    /// Audit rows with an outcome, for tests and reports: (actor, action, type, id, patient, outcome).
    #[allow(clippy::type_complexity)]
    pub fn audit_rows(&self) -> StoreResult<Vec<(String, String, Option<String>, Option<String>, Option<String>, String)>> {
        self.with(|c| {
            c.rows("SELECT actor, action, type, id, patient_id, outcome FROM audit ORDER BY at", &[])?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?, r.opt_text(2)?, r.opt_text(3)?, r.opt_text(4)?, r.text(5)?)))
                .collect()
        })
    }

    /// One audit row from outside a write (a refused credential, a refused pairing code).
    pub fn audit_event(
        &self,
        actor: &str,
        action: &str,
        rtype: Option<&str>,
        id: Option<&str>,
        patient: Option<&str>,
        outcome: &str,
    ) -> StoreResult<()> {
        self.with(|c| audit_as(c, actor, action, rtype, id, patient, outcome))
    }

    /// Refused entries of a bundle, each by the `Type/id` it named (ids that are not FHIR ids
    /// are not copied into the log).
    pub fn audit_refusals(&self, actor: &str, patient: Option<&str>, urls: &[String]) -> StoreResult<()> {
        self.with(|c| {
            sql::write_tx(c, |tx| {
                for url in urls {
                    let (t, i) = url.split_once('/').unwrap_or(("", ""));
                    let t = fhir::TYPES.iter().find(|(k, _)| *k == t).map(|(k, _)| *k);
                    let i = Some(i).filter(|i| fhir::valid_id(i));
                    audit_as(tx, actor, "write", t, i, patient, "refused")?;
                }
                Ok(())
            })
        })
    }
}

/// Versions in one page of `_history` at most.
pub const HISTORY_PAGE: i64 = 100;

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
    /// `Type/id` of the other resources of the same bundle, which references may name.
    pub siblings: Arc<HashSet<String>>,
}

impl Write {
    pub fn new(rtype: &str, id: &str, body: Value, if_match: Option<i64>, patient: &str) -> Write {
        Write { rtype: rtype.into(), id: id.into(), body, if_match, patient: patient.into(), siblings: Arc::default() }
    }
}

/// References inside a body point to this patient and to resources that exist for them (or in
/// the same bundle); a device may refer to nothing else. Staff may also name what this server
/// does not hold (a practitioner in the hospital's own registry). Extensions are checked by
/// their own rules (an acknowledgement names who pressed it).
fn check_references(tx: &mut dyn Sql, actor: &Actor, w: &Write) -> StoreResult<StoreResult<()>> {
    let staff = matches!(actor, Actor::Staff { .. });
    for (path, reference) in crate::origin::references(&w.rtype, &w.body) {
        // An extension's references are held by its own rules (an acknowledgement names who
        // pressed it, who may be a carer the server has not heard of), but never to another
        // patient's records.
        let in_extension = path.contains(".extension") || path.contains(".modifierExtension");
        let target = reference.split("/_history/").next().unwrap_or_default();
        let missing = || StoreError::unprocessable(format!("{path}: {target} does not exist for this patient"));
        match target.split_once('/') {
            Some(("Patient", id)) => {
                if id != w.patient {
                    return Ok(Err(StoreError::unprocessable(format!("{path}: refers to another patient than the resource's"))));
                }
            }
            Some((t, id)) if fhir::TYPES.iter().any(|(known, _)| *known == t) && fhir::valid_id(id) => {
                match tx.row("SELECT patient_id FROM resources WHERE type = ?1 AND id = ?2", params![t, id])? {
                    Some(row) => {
                        let owner = row.text(0)?;
                        if owner != w.patient && !owner.is_empty() {
                            return Ok(Err(missing()));
                        }
                    }
                    // Not stored yet: a resource of the same bundle, or (in an extension) a
                    // carer on the patient's device.
                    None if w.siblings.contains(target) || in_extension => {}
                    None => return Ok(Err(missing())),
                }
            }
            _ if staff || in_extension => {}
            _ => return Ok(Err(StoreError::unprocessable(format!("{path}: refers to something this server does not hold")))),
        }
    }
    Ok(Ok(()))
}

#[derive(Debug, Clone)]
pub struct Written {
    pub created: bool,
    pub stored: Stored,
}

pub(super) fn stored_row(r: &Row) -> StoreResult<Stored> {
    Ok(Stored {
        version: r.int(0)?,
        last_updated: r.text(1)?,
        body: serde_json::from_str(&r.text(2)?).unwrap_or(Value::Null),
        patient_id: r.text(3)?,
    })
}

pub(super) fn read_in(conn: &mut dyn Sql, rtype: &str, id: &str) -> StoreResult<Option<Stored>> {
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
pub(super) fn write_one(tx: &mut dyn Sql, actor: &Actor, w: Write) -> StoreResult<StoreResult<Written>> {
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
            return Ok(Err(StoreError::forbidden("this resource belongs to another patient")));
        }
        // Nothing the clinic's staff wrote is changed by a device.
        if companion_core::fhir::written_by_clinic(&cur.body)
            && !matches!(actor, Actor::Staff { .. })
            && !fhir::SERVER_WRITTEN.contains(&w.rtype.as_str())
        {
            return Ok(Err(StoreError::forbidden(format!("{} was written by the clinic's staff and is changed only by them", w.rtype))));
        }
        // A carer changes only what they wrote. A Flag names no author (R4 allows none that is
        // a RelatedPerson); what a carer's device may do to one is held by `check_flag_write`.
        if let Some(carer) = actor.carer() {
            let same = content(&cur.body) == content(&w.body);
            if !same && w.rtype != "Flag" && !fhir::written_by(&cur.body, &carer.id) {
                return Ok(Err(StoreError::forbidden("a carer changes only what they wrote")));
            }
        }
        if let Some(expected) = w.if_match {
            if expected != cur.version {
                return Ok(Err(StoreError::conflict(cur.version)));
            }
        }
        // The same content again (a retry, a duplicate delivery): nothing new.
        if content(&cur.body) == content(&w.body) {
            return Ok(Ok(Written { created: false, stored: cur.clone() }));
        }
    } else if w.if_match.is_some_and(|v| v != 0) {
        return Ok(Err(StoreError::conflict(0)));
    }
    if let Err(e) = check_references(tx, actor, &w)? {
        return Ok(Err(e));
    }
    if let Err(e) = check_alert(tx, actor, &w, current.as_ref())? {
        return Ok(Err(e));
    }
    let version = current.as_ref().map_or(1, |c| c.version + 1);
    let last_updated = now_text();
    let mut body = w.body;
    crate::origin::stamp(&mut body, actor, version, &last_updated);
    let action = if current.is_some() { "update" } else { "create" };
    insert_version(tx, &w.rtype, &w.id, &w.patient, version, &body, &actor.label(), action)?;
    // An alert from a device is received by the clinic with its triage Task, in this
    // transaction; every version of a triage Task updates the worklist's index with it.
    match w.rtype.as_str() {
        "Flag" if current.is_none() => {
            if let Actor::Device { carer, .. } = actor {
                super::triage::open_for_flag(tx, &body, &w.patient, carer.as_ref().map(|c| c.id.as_str()), Utc::now())?;
            }
        }
        "Task" => super::triage::index_task(tx, &body)?,
        "Observation" | "QuestionnaireResponse" if current.is_none() => {
            super::triage::record_arrived(tx, &w.rtype, &w.id, &body, &w.patient)?
        }
        _ => {}
    }
    Ok(Ok(Written { created: current.is_none(), stored: Stored { version, last_updated, body, patient_id: w.patient } }))
}

/// What an alert may say about itself: a carer's Flag is about the carer's own record (else a
/// carer could make the clinic see, and answer them about, a record they were not given); a
/// triage Task stays a triage Task of the same Flag and patient, whoever writes it.
fn check_alert(tx: &mut dyn Sql, actor: &Actor, w: &Write, current: Option<&Stored>) -> StoreResult<StoreResult<()>> {
    if w.rtype == "Flag" {
        let Some(carer) = actor.carer() else { return Ok(Ok(())) };
        let url = companion_core::fhir::advice_record_extension_url();
        let named = w
            .body
            .get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(url.as_str()))
            .and_then(|e| e.pointer("/valueReference/reference").and_then(Value::as_str));
        let Some((rtype, id)) = named.and_then(|r| r.split_once('/')) else { return Ok(Ok(())) };
        let theirs = read_in(tx, rtype, id)?.is_some_and(|s| s.patient_id == w.patient && fhir::written_by(&s.body, &carer.id));
        if !theirs {
            return Ok(Err(StoreError::forbidden("Flag.extension(advice-record): a carer's advice is about a record the carer entered")));
        }
    }
    if w.rtype == "Task" {
        if let Some(cur) = current.filter(|c| fhir::triage_scope("Task", &c.body).is_some()) {
            let same = |p: &str| cur.body.pointer(p) == w.body.pointer(p);
            if fhir::triage_scope("Task", &w.body).is_none() || !same("/focus") || !same("/for") {
                return Ok(Err(StoreError::unprocessable("Task: a triage task keeps its code, focus and patient")));
            }
        }
    }
    Ok(Ok(()))
}

/// Stores one version: the current row, its history, the change feed and the audit row.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_version(
    tx: &mut dyn Sql,
    rtype: &str,
    id: &str,
    patient: &str,
    version: i64,
    body: &Value,
    actor: &str,
    action: &str,
) -> StoreResult<()> {
    let text = body.to_string();
    let last_updated = body.pointer("/meta/lastUpdated").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(now_text);
    if tx.kind() == Kind::Postgres {
        // One round trip for the four rows (PostgreSQL's data-modifying WITH).
        tx.exec(
            "WITH r AS (INSERT INTO resources (type, id, version, patient_id, last_updated, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                  ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated, body = excluded.body),
                  h AS (INSERT INTO history (type, id, version, body, last_updated) VALUES (?1, ?2, ?3, ?6, ?5)),
                  c AS (INSERT INTO changes (patient_id, type, id, version) VALUES (?4, ?1, ?2, ?3))
             INSERT INTO audit (at, actor, action, type, id, patient_id) VALUES (?5, ?7, ?8, ?1, ?2, ?4)",
            params![rtype, id, version, patient, &last_updated, &text, actor, action],
        )?;
        return Ok(());
    }
    tx.exec(
        "INSERT INTO resources (type, id, version, patient_id, last_updated, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated, body = excluded.body",
        params![rtype, id, version, patient, &last_updated, &text],
    )?;
    tx.exec(
        "INSERT INTO history (type, id, version, body, last_updated) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![rtype, id, version, &text, &last_updated],
    )?;
    tx.exec("INSERT INTO changes (patient_id, type, id, version) VALUES (?1, ?2, ?3, ?4)", params![patient, rtype, id, version])?;
    audit(tx, actor, action, Some(rtype), Some(id), Some(patient))?;
    Ok(())
}

/// Whether a caller may see a stored version: staff all; a device its own patient's (and the
/// clinic's shared forms); a carer what the patient allowed.
fn visible(actor: &Actor, rtype: &str, patient: &str, body: &Value) -> bool {
    match actor {
        Actor::Staff { .. } => true,
        Actor::Device { patient: own, .. } => (patient == own || patient.is_empty()) && actor.may_see(rtype, body),
    }
}
