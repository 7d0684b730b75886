//! What the care team's patient pages read: finding a patient, their devices and carers, their
//! records, and whether a member of staff has a reason on record to open them (Normen: access
//! only with a work-related need; "break the glass" is logged and shown to the coordinator).

use super::*;

/// How long a reason given to open a patient's record lasts.
pub const REASON_HOURS: i64 = 12;
/// An alert or a visit this recent (or ahead) is a work-related reason in itself.
const RELATION_DAYS: i64 = 30;

#[derive(Debug, Clone, serde::Serialize)]
pub struct PatientRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub open_alerts: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The carer whose own device it is.
    pub carer: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CarerRow {
    pub id: String,
    pub name: String,
    pub relationship: Option<String>,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A patient with their devices and carers.
pub type Overview = (PatientRow, Vec<DeviceRow>, Vec<CarerRow>);

/// A reason someone gave to open a patient's record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reason {
    pub at: String,
    pub who: String,
    pub reason: String,
}

impl Db {
    /// Patients whose name contains `query` (any case), by name; at most `limit`.
    pub fn find_patients(&self, query: &str, limit: i64) -> StoreResult<Vec<PatientRow>> {
        // Matched here, not by SQL's `lower` (SQLite folds only ASCII: "Øyvind" would not be
        // found by "øyvind"); the names are short and read once.
        let want = query.trim().to_lowercase();
        let names = self.with(|c| c.rows("SELECT id, name FROM patients", &[]))?;
        let mut hits: Vec<(String, String)> = names
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<StoreResult<Vec<_>>>()?
            .into_iter()
            .filter(|(_, name)| name.to_lowercase().contains(&want))
            .collect();
        hits.sort_by(|a, b| a.1.to_lowercase().cmp(&b.1.to_lowercase()).then(a.0.cmp(&b.0)));
        hits.truncate(limit.max(0) as usize);
        self.with(|c| {
            hits.iter()
                .map(|(id, _)| {
                    let r = c.one(
                        "SELECT p.id, p.name, p.created_at,
                                (SELECT count(*) FROM triage t WHERE t.patient_id = p.id AND t.status IN ('requested', 'accepted'))
                         FROM patients p WHERE p.id = ?1",
                        params![id],
                    )?;
                    Ok(PatientRow { id: r.text(0)?, name: r.text(1)?, created_at: r.text(2)?, open_alerts: r.int(3)? })
                })
                .collect()
        })
    }

    /// A patient's name and registration, devices and carers.
    pub fn patient_overview(&self, id: &str) -> StoreResult<Option<Overview>> {
        self.with(|c| {
            let Some(p) = c.row("SELECT id, name, created_at FROM patients WHERE id = ?1", params![id])? else { return Ok(None) };
            let row = PatientRow { id: p.text(0)?, name: p.text(1)?, created_at: p.text(2)?, open_alerts: 0 };
            let devices = c
                .rows(
                    "SELECT d.id, d.created_at, d.revoked_at, cd.carer_id FROM devices d LEFT JOIN carer_devices cd ON cd.device_id = d.id
                     WHERE d.patient_id = ?1 ORDER BY d.created_at",
                    params![id],
                )?
                .iter()
                .map(|r| Ok(DeviceRow { id: r.text(0)?, created_at: r.text(1)?, revoked_at: r.opt_text(2)?, carer: r.opt_text(3)? }))
                .collect::<StoreResult<Vec<_>>>()?;
            let mut carers = Vec::new();
            for r in
                c.rows("SELECT id, scopes, expires_at, revoked_at FROM carers WHERE patient_id = ?1 ORDER BY created_at", params![id])?
            {
                let carer = r.text(0)?;
                let person = read_in(c, "RelatedPerson", &carer)?.map(|s| s.body);
                let name = person.as_ref().and_then(|b| b.pointer("/name/0/text").and_then(Value::as_str)).unwrap_or("?").to_owned();
                let relationship =
                    person.as_ref().and_then(|b| b.pointer("/relationship/0/text").and_then(Value::as_str)).map(str::to_owned);
                carers.push(CarerRow {
                    id: carer,
                    name,
                    relationship,
                    scopes: parse_scopes(&r.text(1)?),
                    expires_at: r.opt_text(2)?,
                    revoked_at: r.opt_text(3)?,
                });
            }
            Ok(Some((row, devices, carers)))
        })
    }

    /// The patient's stored resources of these types, newest change first, at most `limit`.
    pub fn patient_resources(&self, patient: &str, types: &[&str], limit: i64) -> StoreResult<Vec<Stored>> {
        let mut out = Vec::new();
        for t in types {
            let rows = self.with(|c| {
                c.rows(
                    "SELECT version, last_updated, body, patient_id FROM resources WHERE type = ?1 AND patient_id = ?2
                     ORDER BY last_updated DESC, id LIMIT ?3",
                    params![*t, patient, limit],
                )
            })?;
            out.extend(rows.iter().map(resources::stored_row).collect::<StoreResult<Vec<_>>>()?);
        }
        out.sort_by(|a, b| b.last_updated.cmp(&a.last_updated));
        Ok(out)
    }

    /// Whether this member of staff may open the patient without giving a reason: an alert or
    /// a visit with this clinic in the last 30 days (or a visit ahead), or a reason they gave in
    /// the last 12 hours.
    pub fn has_relation(&self, actor: &Actor, patient: &str) -> StoreResult<bool> {
        let since = (Utc::now() - Duration::days(RELATION_DAYS)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let reason_since = (Utc::now() - Duration::hours(REASON_HOURS)).to_rfc3339_opts(SecondsFormat::Millis, true);
        self.with(|c| {
            let alert = c.one(
                "SELECT count(*) FROM triage WHERE patient_id = ?1 AND (status IN ('requested', 'accepted') OR received_at >= ?2)",
                params![patient, &since],
            )?;
            if alert.int(0)? > 0 {
                return Ok(true);
            }
            let reason = c.one(
                "SELECT count(*) FROM access_reasons WHERE patient_id = ?1 AND actor = ?2 AND at >= ?3",
                params![patient, &actor.label(), &reason_since],
            )?;
            if reason.int(0)? > 0 {
                return Ok(true);
            }
            let visits = c.rows("SELECT body FROM resources WHERE type = 'Appointment' AND patient_id = ?1", params![patient])?;
            for v in visits {
                let body: Value = serde_json::from_str(&v.text(0)?).unwrap_or(Value::Null);
                let live = !matches!(body.get("status").and_then(Value::as_str), Some("cancelled" | "entered-in-error"));
                if live && body.get("start").and_then(Value::as_str).is_some_and(|s| s >= since.as_str()) {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Records why a member of staff opened a patient they have no alert or visit with.
    pub fn give_reason(&self, actor: &Actor, patient: &str, reason: &str) -> StoreResult<()> {
        let reason = reason.trim();
        if reason.chars().count() < 5 || reason.chars().count() > 500 {
            return Err(StoreError::invalid("reason: 5 to 500 characters"));
        }
        self.with(|c| {
            sql::write_tx(c, |tx| {
                tx.exec(
                    "INSERT INTO access_reasons (at, actor, patient_id, reason) VALUES (?1, ?2, ?3, ?4)",
                    params![&now_text(), &actor.label(), patient, reason],
                )?;
                audit(tx, &actor.label(), "reason", None, None, Some(patient))
            })
        })
    }

    /// The reasons given to open a patient, newest first, with who gave them.
    pub fn reasons(&self, patient: &str) -> StoreResult<Vec<Reason>> {
        self.with(|c| {
            c.rows(
                "SELECT r.at, coalesce(a.name, r.actor), r.reason FROM access_reasons r LEFT JOIN accounts a ON 'staff/' || a.id = r.actor
                 WHERE r.patient_id = ?1 ORDER BY r.at DESC LIMIT 200",
                params![patient],
            )?
            .iter()
            .map(|r| Ok(Reason { at: r.text(0)?, who: r.text(1)?, reason: r.text(2)? }))
            .collect()
        })
    }
}
