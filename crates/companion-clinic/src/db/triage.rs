//! Triage: every alert a device raises (its `Flag`) gets a triage `Task` in the same
//! transaction (`focus` the Flag, `priority` by level, `restriction.period.end` the response
//! target from the clinic's settings). The Task is the record, in FHIR; the `triage` table is
//! its index for the worklist and the workload figures, rewritten with every version of the
//! Task, whoever wrote it (the web app or a FHIR client with a staff credential).
//!
//! A Task moves `requested` → `accepted` (taken: `owner`, `executionPeriod.start`) →
//! `completed` (closed: `executionPeriod.end`, the outcome as `statusReason`). "Could not reach
//! the patient" is recorded and leaves it open. Devices pull the Task with their change feed:
//! that is the patient's receipt.

use super::targets::targets_in;
pub use super::targets::{Target, TARGETS};
use super::*;
use companion_core::fhir::CANONICAL_BASE;
use companion_core::rules::Level;
use serde::Serialize;

pub const TRIAGE: &str = "triage";

pub fn task_system() -> String {
    format!("{CANONICAL_BASE}/CodeSystem/task")
}

pub fn outcome_system() -> String {
    format!("{CANONICAL_BASE}/CodeSystem/triage-outcome")
}

/// The extension on a device's `Flag` naming the record the advice is about.
fn record_url() -> String {
    companion_core::fhir::advice_record_extension_url()
}

/// How an alert was handled (after eSMART's categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    SelfCare,
    Called,
    Referred,
    Emergency,
    NoAction,
    /// Could not reach the patient: recorded, and the alert stays open to try again.
    NoAnswer,
}

impl Outcome {
    pub const ALL: [Outcome; 6] =
        [Outcome::SelfCare, Outcome::Called, Outcome::Referred, Outcome::Emergency, Outcome::NoAction, Outcome::NoAnswer];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::SelfCare => "self_care",
            Outcome::Called => "called",
            Outcome::Referred => "referred",
            Outcome::Emergency => "emergency",
            Outcome::NoAction => "no_action",
            Outcome::NoAnswer => "no_answer",
        }
    }

    /// In English, for FHIR's `display` (the web app and the app translate the code).
    pub fn display(self) -> &'static str {
        match self {
            Outcome::SelfCare => "Self-care advice given",
            Outcome::Called => "Called the patient",
            Outcome::Referred => "Referred to the acute oncology service or the ward",
            Outcome::Emergency => "Emergency services",
            Outcome::NoAction => "No action needed",
            Outcome::NoAnswer => "Could not reach the patient, try again",
        }
    }

    pub fn parse(code: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.code() == code)
    }

    pub fn closes(self) -> bool {
        self != Outcome::NoAnswer
    }
}

/// The triage priority of an advice level, its sort rank, and the target that applies; `None`
/// for "measure again", which is the patient's to do, not an alert.
pub fn priority(level: Level) -> Option<(&'static str, i64, &'static str)> {
    match level {
        Level::Emergency | Level::Crisis | Level::CallNow => Some(("stat", 0, "call_now")),
        Level::Contact24h => Some(("asap", 1, "contact_24h")),
        Level::ContactTeam => Some(("routine", 3, "tell_team")),
        Level::Recheck => None,
    }
}

fn rank_of(priority: &str) -> i64 {
    match priority {
        "stat" => 0,
        "asap" => 1,
        "urgent" => 2,
        _ => 3,
    }
}

/// Who reported what raised an alert: the patient, or a carer by name.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Reporter {
    /// `patient` or `carer`.
    pub role: String,
    pub name: String,
    /// The carer's `RelatedPerson` id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carer: Option<String>,
}

/// What the alert is about: the rule, its level, and the record as the diary keeps it (when the
/// server holds it), for the worklist to say in words.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Report {
    pub rule: String,
    pub level: String,
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub record: Option<companion_core::domain::EntryData>,
}

/// One alert as the worklist shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub task: String,
    pub version: i64,
    pub patient: String,
    pub patient_name: String,
    pub flag: String,
    pub level: String,
    pub priority: String,
    pub status: String,
    pub reported_at: String,
    pub received_at: String,
    pub due_at: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub taken_at: Option<String>,
    pub closed_at: Option<String>,
    pub outcome: Option<String>,
    pub reporter: Reporter,
    pub report: Report,
}

/// Which alerts a list shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Open,
    Mine(String),
    Unassigned,
    Level(String),
    ClosedToday,
    Patient(String),
}

const ALERT_SELECT: &str = "SELECT t.task_id, r.version, t.patient_id, p.name, t.flag_id, t.level, t.priority, t.status,
    t.reported_at, t.received_at, t.due_at, t.owner, t.owner_name, t.taken_at, t.closed_at, t.outcome, t.reporter, t.report
    FROM triage t JOIN patients p ON p.id = t.patient_id JOIN resources r ON r.type = 'Task' AND r.id = t.task_id";

fn alert_row(r: &Row) -> StoreResult<Alert> {
    Ok(Alert {
        task: r.text(0)?,
        version: r.int(1)?,
        patient: r.text(2)?,
        patient_name: r.text(3)?,
        flag: r.text(4)?,
        level: r.text(5)?,
        priority: r.text(6)?,
        status: r.text(7)?,
        reported_at: r.text(8)?,
        received_at: r.text(9)?,
        due_at: r.text(10)?,
        owner: r.opt_text(11)?,
        owner_name: r.opt_text(12)?,
        taken_at: r.opt_text(13)?,
        closed_at: r.opt_text(14)?,
        outcome: r.opt_text(15)?,
        reporter: serde_json::from_str(&r.text(16)?).map_err(|_| StoreError::internal("triage reporter"))?,
        report: serde_json::from_str(&r.text(17)?).map_err(|_| StoreError::internal("triage report"))?,
    })
}

/// The id of the triage Task of a Flag: `triage-<flag id>` (a device's advice ids are UUIDs,
/// which is how the device finds its receipt), or for a longer id one of fixed length.
pub fn task_id(flag: &str) -> String {
    let plain = format!("triage-{flag}");
    if fhir::valid_id(&plain) {
        plain
    } else {
        format!("triage-h{}", &sha256_hex(flag)[..40])
    }
}

fn is_triage(body: &Value) -> bool {
    body.pointer("/code/coding").and_then(Value::as_array).into_iter().flatten().any(|c| {
        c.get("code").and_then(Value::as_str) == Some(TRIAGE) && c.get("system").and_then(Value::as_str) == Some(task_system().as_str())
    })
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Db {
    /// A page of alerts (most urgent, then most overdue, first; closed ones newest closed
    /// first) and how many match.
    pub fn worklist(&self, filter: &Filter, limit: i64, offset: i64) -> StoreResult<(i64, Vec<Alert>)> {
        // Today as the clinic's day: from midnight in Norway.
        let midnight = crate::care::clock::local(Utc::now()).date().and_hms_opt(0, 0, 0).expect("midnight");
        let today = ts(crate::care::clock::from_local(midnight));
        let (condition, order, arg): (&str, &str, String) = match filter {
            Filter::Open => ("t.status IN ('requested', 'accepted')", "t.rank, t.due_at, t.task_id", String::new()),
            Filter::Mine(me) => ("t.status IN ('requested', 'accepted') AND t.owner = ?1", "t.rank, t.due_at, t.task_id", me.clone()),
            Filter::Unassigned => ("t.status = 'requested' AND t.owner IS NULL", "t.rank, t.due_at, t.task_id", String::new()),
            Filter::Level(p) => ("t.status IN ('requested', 'accepted') AND t.priority = ?1", "t.due_at, t.task_id", p.clone()),
            Filter::ClosedToday => ("t.status = 'completed' AND t.closed_at >= ?1", "t.closed_at DESC, t.task_id", today),
            Filter::Patient(p) => ("t.patient_id = ?1", "t.received_at DESC, t.task_id", p.clone()),
        };
        let uses_arg = condition.contains("?1");
        self.with(|c| {
            let args: Vec<sql::P> = if uses_arg { vec![sql::P::T(&arg)] } else { Vec::new() };
            let total = c.one(&format!("SELECT count(*) FROM triage t WHERE {condition}"), &args)?.int(0)?;
            let mut page_args = args.clone();
            page_args.push(sql::P::I(limit));
            page_args.push(sql::P::I(offset));
            let (l, o) = if uses_arg { ("?2", "?3") } else { ("?1", "?2") };
            let rows = c.rows(&format!("{ALERT_SELECT} WHERE {condition} ORDER BY {order} LIMIT {l} OFFSET {o}"), &page_args)?;
            Ok((total, rows.iter().map(alert_row).collect::<StoreResult<Vec<_>>>()?))
        })
    }

    /// One alert and its Task, for a member of staff (audited as a read of the patient's data).
    pub fn alert(&self, actor: &Actor, task: &str) -> StoreResult<Option<(Alert, Stored)>> {
        self.with(|c| {
            let Some(row) = c.row(&format!("{ALERT_SELECT} WHERE t.task_id = ?1"), params![task])? else { return Ok(None) };
            let alert = alert_row(&row)?;
            let stored = read_in(c, "Task", task)?.ok_or_else(|| StoreError::internal("triage task"))?;
            audit(c, &actor.label(), "read", Some("Task"), Some(task), Some(&alert.patient))?;
            Ok(Some((alert, stored)))
        })
    }

    /// The messages to the patient about a Task (`Communication.about`), oldest first.
    pub fn messages_about(&self, patient: &str, task: &str) -> StoreResult<Vec<Stored>> {
        let want = format!("Task/{task}");
        let rows = self.with(|c| {
            c.rows(
                "SELECT version, last_updated, body, patient_id FROM resources WHERE type = 'Communication' AND patient_id = ?1
                 ORDER BY last_updated DESC, id LIMIT 500",
                params![patient],
            )
        })?;
        Ok(rows
            .iter()
            .map(resources::stored_row)
            .collect::<StoreResult<Vec<_>>>()?
            .into_iter()
            // Only what the clinic wrote: a device may name the Task too, and is not a colleague.
            .filter(|s| companion_core::fhir::written_by_clinic(&s.body))
            .filter(|s| {
                s.body
                    .get("about")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|a| a.get("reference").and_then(Value::as_str) == Some(&want))
            })
            .collect())
    }

    /// Whether the server holds a resource.
    pub fn holds(&self, rtype: &str, id: &str) -> StoreResult<bool> {
        self.with(|c| Ok(read_in(c, rtype, id)?.is_some()))
    }

    /// Audits that a page showed these patients' data to a member of staff: one row each.
    pub fn audit_shown<'a>(&self, actor: &Actor, what: &str, patients: impl Iterator<Item = &'a str>) -> StoreResult<()> {
        let mut shown: Vec<&str> = patients.collect();
        shown.sort_unstable();
        shown.dedup();
        if shown.is_empty() {
            return Ok(());
        }
        // One statement for the page (on PostgreSQL a round trip per row would cost more than
        // the page itself).
        let (label, at) = (actor.label(), now_text());
        let rows: Vec<String> = (0..shown.len()).map(|i| format!("(?1, ?2, ?3, NULL, NULL, ?{}, 'ok')", i + 4)).collect();
        let mut args: Vec<sql::P> = vec![sql::P::T(&at), sql::P::T(&label), sql::P::T(what)];
        args.extend(shown.iter().map(|p| sql::P::T(p)));
        let statement = format!("INSERT INTO audit (at, actor, action, type, id, patient_id, outcome) VALUES {}", rows.join(", "));
        self.with(|c| c.exec(&statement, &args).map(|_| ()))
    }

    /// The highest change sequence of any Task: what an open worklist watches.
    pub fn triage_mark(&self) -> StoreResult<i64> {
        self.with(|c| c.one("SELECT coalesce(max(seq), 0) FROM changes WHERE type = 'Task'", &[])?.int(0))
    }
}

/// Gives every alert stored before the worklist its triage Task, received when its Flag was
/// stored; in the migration to schema 4, once. How many.
pub(super) fn open_existing(tx: &mut dyn Sql) -> StoreResult<usize> {
    let mut n = 0;
    for r in tx.rows("SELECT body, patient_id, last_updated FROM resources WHERE type = 'Flag'", &[])? {
        let body: Value = serde_json::from_str(&r.text(0)?).map_err(|_| StoreError::internal("stored flag"))?;
        let received = DateTime::parse_from_rfc3339(&r.text(2)?).map(|t| t.with_timezone(&Utc)).unwrap_or_else(|_| Utc::now());
        n += usize::from(open_for_flag(tx, &body, &r.text(1)?, None, received)?);
    }
    Ok(n)
}

/// One alert's times, for the workload figures.
#[derive(Debug, Clone)]
pub struct Timing {
    pub patient: String,
    pub priority: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub taken_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Db {
    /// The alerts received since `since`, and every alert still open.
    pub fn timings(&self, since: DateTime<Utc>) -> StoreResult<Vec<Timing>> {
        let at = |t: Option<String>| t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc));
        self.with(|c| {
            c.rows(
                "SELECT patient_id, priority, status, received_at, due_at, taken_at, closed_at FROM triage
                 WHERE received_at >= ?1 OR status IN ('requested', 'accepted')",
                params![&ts(since)],
            )?
            .iter()
            .map(|r| {
                Ok(Timing {
                    patient: r.text(0)?,
                    priority: r.text(1)?,
                    status: r.text(2)?,
                    received_at: at(Some(r.text(3)?)).ok_or_else(|| StoreError::internal("triage time"))?,
                    due_at: at(Some(r.text(4)?)).ok_or_else(|| StoreError::internal("triage time"))?,
                    taken_at: at(r.opt_text(5)?),
                    closed_at: at(r.opt_text(6)?),
                })
            })
            .collect()
        })
    }
}

/// Opens the triage Task for a Flag a device just stored, in the caller's transaction; whether
/// one was made (not for "measure again", nor a Flag whose level this server does not know).
/// `carer` is the carer whose own device sent it.
pub(super) fn open_for_flag(tx: &mut dyn Sql, flag: &Value, patient: &str, carer: Option<&str>, now: DateTime<Utc>) -> StoreResult<bool> {
    let Some(flag_id) = flag.get("id").and_then(Value::as_str) else { return Ok(false) };
    let level_text = flag.pointer("/code/text").and_then(Value::as_str).unwrap_or_default();
    let Some((prio, rank, target_key)) = Level::parse(level_text).and_then(priority) else { return Ok(false) };
    let task = task_id(flag_id);
    if read_in(tx, "Task", &task)?.is_some() {
        return Ok(false);
    }
    let rule = flag.pointer("/code/coding/0/code").and_then(Value::as_str).unwrap_or_default().to_owned();
    let reported_at = flag.pointer("/period/start").and_then(Value::as_str).unwrap_or_default().to_owned();
    // The record the advice is about, as the server holds it: what it was, and who entered it.
    let record_ref = flag
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("url").and_then(Value::as_str) == Some(record_url().as_str()))
        .and_then(|e| e.pointer("/valueReference/reference"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let record = match record_ref.as_deref().and_then(|r| r.split_once('/')) {
        Some((t, i)) if fhir::valid_id(i) => read_in(tx, t, i)?.filter(|s| s.patient_id == patient),
        _ => None,
    };
    let replica = record.as_ref().and_then(|s| companion_core::replica::from_resource(&s.body));
    let reporter = reporter_of(tx, replica.as_ref(), carer, patient)?;
    let report = Report { rule: rule.clone(), level: level_text.to_owned(), problems: Vec::new(), record: replica.map(|r| r.data) };
    let targets = targets_in(tx)?;
    let target = targets.iter().find(|(k, _)| *k == target_key).map(|(_, t)| *t).unwrap_or(Target::Minutes(60));
    let due = target.due(now);
    // A carer on the patient's own device may be unknown to the server: then named only.
    let requester = match &reporter.carer {
        Some(c) if read_in(tx, "RelatedPerson", c)?.is_some() => {
            json!({ "reference": format!("RelatedPerson/{c}"), "display": reporter.name })
        }
        Some(_) => json!({ "display": reporter.name }),
        None => json!({ "reference": format!("Patient/{patient}"), "display": reporter.name }),
    };
    let mut body = json!({
        "resourceType": "Task",
        "id": task,
        "status": "requested",
        "intent": "order",
        "priority": prio,
        "code": { "coding": [{ "system": task_system(), "code": TRIAGE, "display": "Triage an alert from the patient's device" }], "text": "Triage" },
        "description": format!("Alert {level_text} ({rule})"),
        "focus": { "reference": format!("Flag/{flag_id}") },
        "for": { "reference": format!("Patient/{patient}") },
        "requester": requester,
        "authoredOn": ts(now),
        "lastModified": ts(now),
        "restriction": { "period": { "start": ts(now), "end": ts(due) } },
    });
    if let Some(r) = &record_ref {
        body["reasonReference"] = json!({ "reference": r });
    }
    // Which carers may see the receipt: those who may see the record it is about.
    if let (Some(stored), Some((rtype, _))) = (&record, record_ref.as_deref().and_then(|r| r.split_once('/'))) {
        let scope = fhir::carer_scope(rtype, &stored.body).map_or("none", |s| s.as_str());
        body["extension"] = json!([{ "url": fhir::carer_scope_url(), "valueCode": scope }]);
    }
    let version = 1;
    crate::origin::stamp_server(&mut body, version, &ts(now));
    resources::insert_version(tx, "Task", &task, patient, version, &body, "server", "create")?;
    let reporter_text = serde_json::to_string(&reporter).map_err(|_| StoreError::internal("reporter"))?;
    let report_text = serde_json::to_string(&report).map_err(|_| StoreError::internal("report"))?;
    tx.exec(
        "INSERT INTO triage (task_id, patient_id, flag_id, level, priority, rank, status, reported_at, received_at, due_at, reporter, report,
         record_ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'requested', ?7, ?8, ?9, ?10, ?11, ?12)",
        params![&task, patient, flag_id, level_text, prio, rank, &reported_at, &ts(now), &ts(due), &reporter_text, &report_text, record_ref.as_deref()],
    )?;
    Ok(true)
}

/// Who entered the record (a carer on the patient's device is named by the record), else the
/// carer whose own device sent the alert, else the patient.
fn reporter_of(
    tx: &mut dyn Sql,
    replica: Option<&companion_core::replica::Replica>,
    carer: Option<&str>,
    patient: &str,
) -> StoreResult<Reporter> {
    Ok(match (replica, carer) {
        (Some(copy), _) if copy.author.role == companion_core::domain::Role::Carer => {
            Reporter { role: "carer".into(), name: copy.author.name.clone(), carer: Some(copy.author.id.to_string()) }
        }
        (_, Some(c)) => {
            let name = read_in(tx, "RelatedPerson", c)?
                .and_then(|s| s.body.pointer("/name/0/text").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            Reporter { role: "carer".into(), name, carer: Some(c.to_owned()) }
        }
        _ => {
            let name = tx.row("SELECT name FROM patients WHERE id = ?1", params![patient])?.map(|r| r.text(0)).transpose()?;
            Reporter { role: "patient".into(), name: name.unwrap_or_default(), carer: None }
        }
    })
}

/// A record that arrived after the alert about it (an older device sent the advice first, or a
/// batch ended between them): the worklist's words and reporter are filled in from it.
pub(super) fn record_arrived(tx: &mut dyn Sql, rtype: &str, id: &str, body: &Value, patient: &str) -> StoreResult<()> {
    let reference = format!("{rtype}/{id}");
    let rows =
        tx.rows("SELECT task_id, report, reporter FROM triage WHERE record_ref = ?1 AND patient_id = ?2", params![&reference, patient])?;
    let Some(copy) = companion_core::replica::from_resource(body) else { return Ok(()) };
    for r in rows {
        let mut report: Report = serde_json::from_str(&r.text(1)?).map_err(|_| StoreError::internal("triage report"))?;
        if report.record.is_some() {
            continue;
        }
        report.record = Some(copy.data.clone());
        let old: Reporter = serde_json::from_str(&r.text(2)?).map_err(|_| StoreError::internal("triage reporter"))?;
        let reporter = if old.role == "patient" { reporter_of(tx, Some(&copy), None, patient)? } else { old };
        tx.exec(
            "UPDATE triage SET report = ?2, reporter = ?3 WHERE task_id = ?1",
            params![
                &r.text(0)?,
                &serde_json::to_string(&report).map_err(|_| StoreError::internal("report"))?,
                &serde_json::to_string(&reporter).map_err(|_| StoreError::internal("reporter"))?
            ],
        )?;
    }
    Ok(())
}

/// Rewrites the triage row of a Task version just stored (by the web app or a FHIR client), in
/// the same transaction. A Task that is not a triage Task, or has no row, is left alone.
pub(super) fn index_task(tx: &mut dyn Sql, body: &Value) -> StoreResult<()> {
    if !is_triage(body) {
        return Ok(());
    }
    let Some(id) = body.get("id").and_then(Value::as_str) else { return Ok(()) };
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let status = text("/status").unwrap_or_else(|| "requested".into());
    let priority = text("/priority").unwrap_or_else(|| "routine".into());
    let owner = text("/owner/reference");
    let owner_name = text("/owner/display");
    let outcome = body
        .pointer("/statusReason/coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("system").and_then(Value::as_str) == Some(outcome_system().as_str()))
        .and_then(|c| c.get("code").and_then(Value::as_str))
        .map(str::to_owned);
    let due = text("/restriction/period/end");
    tx.exec(
        "UPDATE triage SET status = ?2, priority = ?3, rank = ?4, owner = ?5, owner_name = ?6, taken_at = ?7, closed_at = ?8,
         outcome = ?9, due_at = coalesce(?10, due_at) WHERE task_id = ?1",
        params![
            id,
            &status,
            &priority,
            rank_of(&priority),
            owner.as_deref(),
            owner_name.as_deref(),
            text("/executionPeriod/start").as_deref(),
            // Closed by a client that gave no end: when it said so.
            text("/executionPeriod/end").or_else(|| (status == "completed").then(|| text("/meta/lastUpdated")).flatten()).as_deref(),
            outcome.as_deref(),
            due.as_deref()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_priorities() {
        assert_eq!(priority(Level::Emergency).map(|p| p.0), Some("stat"));
        assert_eq!(priority(Level::Crisis).map(|p| p.0), Some("stat"));
        assert_eq!(priority(Level::CallNow).map(|p| p.0), Some("stat"));
        assert_eq!(priority(Level::Contact24h).map(|p| p.0), Some("asap"));
        assert_eq!(priority(Level::ContactTeam).map(|p| p.0), Some("routine"));
        assert_eq!(priority(Level::Recheck), None);
        assert!(Outcome::ALL.iter().all(|o| Outcome::parse(o.code()) == Some(*o)));
        assert!(!Outcome::NoAnswer.closes() && Outcome::Called.closes());
    }
}
