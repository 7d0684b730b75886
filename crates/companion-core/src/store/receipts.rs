//! The clinic's receipts for advice the device sent: "Sent" when the server took the `Flag`,
//! then what the clinic's triage `Task` for it says (received, taken, closed with an outcome)
//! and the nurse's message about it (a `Communication`). Only what the server stamped as the
//! clinic's counts, so nothing a device or carer wrote can say the clinic acted. Nothing here
//! is claimed before it arrived: every field stays empty until the server's word is in.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// The code system of the outcome of a triage (`Task.statusReason`).
pub const OUTCOME_SYSTEM: &str = "https://fhir.companion-diary.no/CodeSystem/triage-outcome";

#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Receipt {
    /// When the clinic's server took the advice from this device.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the clinic received it: its triage task was opened.
    pub received_at: Option<DateTime<Utc>>,
    /// When a nurse took it, and who (their name as the clinic gives it).
    pub taken_at: Option<DateTime<Utc>>,
    pub taken_by: Option<String>,
    /// When it was closed, and how (`self_care`, `called`, `referred`, `emergency`,
    /// `no_action`); `no_answer` while open: the nurse tried to call and could not reach you.
    pub closed_at: Option<DateTime<Utc>>,
    #[ts(type = "'self_care' | 'called' | 'referred' | 'emergency' | 'no_action' | 'no_answer' | null")]
    pub outcome: Option<String>,
    /// The nurse's message, and when it was sent.
    pub message: Option<String>,
    pub message_at: Option<DateTime<Utc>>,
}

fn instant(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// The receipt of one piece of advice, from what this device pulled.
pub(super) fn receipt(conn: &Connection, advice: Uuid, sent_at: Option<DateTime<Utc>>) -> rusqlite::Result<Receipt> {
    let mut r = Receipt { sent_at, ..Receipt::default() };
    let task_id = format!("triage-{advice}");
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM remote WHERE type = 'Task' AND id = ?1")?
        .query_row([&task_id], |row| row.get(0))
        .optional()?;
    let Some(task) = body.and_then(|b| serde_json::from_str::<Value>(&b).ok()).filter(crate::fhir::written_by_clinic) else {
        return Ok(r);
    };
    if task.pointer("/focus/reference").and_then(Value::as_str) != Some(format!("Flag/{advice}").as_str()) {
        return Ok(r);
    }
    let status = task.get("status").and_then(Value::as_str).unwrap_or_default();
    if matches!(status, "cancelled" | "entered-in-error" | "rejected") {
        return Ok(r);
    }
    r.received_at = instant(task.get("authoredOn")).or_else(|| instant(task.pointer("/meta/lastUpdated")));
    r.taken_at = instant(task.pointer("/executionPeriod/start"));
    r.taken_by = r.taken_at.and(task.pointer("/owner/display").and_then(Value::as_str).map(str::to_owned));
    let outcome = task
        .pointer("/statusReason/coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("system").and_then(Value::as_str) == Some(OUTCOME_SYSTEM))
        .and_then(|c| c.get("code").and_then(Value::as_str))
        .map(str::to_owned);
    if status == "completed" {
        r.closed_at = instant(task.pointer("/executionPeriod/end")).or_else(|| instant(task.pointer("/meta/lastUpdated")));
        r.outcome = outcome;
    } else if outcome.as_deref() == Some("no_answer") {
        r.outcome = outcome;
    }
    // The newest message about this task.
    let about = format!("Task/{task_id}");
    let mut stmt = conn.prepare_cached("SELECT body FROM remote WHERE type = 'Communication' AND instr(body, ?1) > 0")?;
    let bodies = stmt.query_map(params![&about], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    let newest = bodies
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .filter(crate::fhir::written_by_clinic)
        .filter(|c| c.get("status").and_then(Value::as_str) != Some("entered-in-error"))
        .filter(|c| {
            c.get("about")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|a| a.get("reference").and_then(Value::as_str) == Some(&about))
        })
        .filter_map(|c| {
            let text = c.get("payload")?.as_array()?.iter().filter_map(|p| p.get("contentString")?.as_str()).collect::<Vec<_>>().join("\n");
            (!text.trim().is_empty()).then(|| (instant(c.get("sent")), text))
        })
        .max_by_key(|(at, _)| *at);
    if let Some((at, text)) = newest {
        r.message = Some(text);
        r.message_at = at;
    }
    Ok(r)
}
