//! Several devices of one patient (a phone and a laptop; later a carer's): how their copies of
//! a record meet. Design: `shared/guides/sync.md`, rule 4.
//!
//! - Every local change stamps the fields it changed with a hybrid logical clock (HLC): wall
//!   time in milliseconds, a counter, and the device, so stamps order edits across devices even
//!   when clocks disagree, and are kept apart from the clinical time the person entered.
//! - Each record travels to the server with a `companion-record` extension holding the record
//!   exactly as the diary keeps it, with its field stamps. The FHIR elements beside it are the
//!   clinic's view; the extension lets another Companion device rebuild the record without loss.
//! - Two copies merge field by field: free text (a question's wording, its answer; a whole
//!   symptom or temperature record) by the latest stamp; a question's state by the furthest
//!   (open < asked < answered < archived), so a stale device cannot reopen what was answered;
//!   a withdrawal (`entered-in-error`) always wins.

use crate::domain::{Author, EntryData, RecordStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const RECORD_EXTENSION: &str = "https://fhir.companion-diary.no/StructureDefinition/companion-record";

/// Field name → HLC stamp of its last change. A field never stamped sorts first ("").
pub type Clocks = BTreeMap<String, String>;

/// The next stamp after `last` at wall time `now_ms` on `device`.
pub fn tick(last: Option<&str>, now_ms: i64, device: Uuid) -> String {
    let (last_ms, last_count) = parse(last.unwrap_or(""));
    let (ms, count) = if now_ms > last_ms { (now_ms, 0) } else { (last_ms, last_count + 1) };
    format!("{ms:015}.{count:06}.{device}")
}

fn parse(stamp: &str) -> (i64, u32) {
    let mut parts = stamp.split('.');
    let ms = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let count = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (ms, count)
}

/// The fields a change touched, by name: a question's text, answer and state separately;
/// other records as a whole.
pub fn changed_fields(before: &EntryData, after: &EntryData) -> Vec<&'static str> {
    match (before, after) {
        (EntryData::Question { text: t0, state: s0, answer: a0 }, EntryData::Question { text: t1, state: s1, answer: a1 }) => {
            let mut out = Vec::new();
            if t0 != t1 {
                out.push("text");
            }
            if a0 != a1 {
                out.push("answer");
            }
            if s0 != s1 {
                out.push("state");
            }
            out
        }
        _ if before != after => vec!["record"],
        _ => Vec::new(),
    }
}

/// A record as another device holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    pub id: Uuid,
    pub status: RecordStatus,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// The device it was first entered on.
    pub device: Uuid,
    /// Who first entered it, and who made this version.
    pub author: Author,
    pub updated_by: Author,
    pub data: EntryData,
    #[serde(default)]
    pub clocks: Clocks,
    /// When this version was made on the device that made it. Absent from copies sent by
    /// builds before it; [`Replica::edited_at`] then reads the time from the field stamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Replica {
    /// When this version was made: its own time, else the wall time of its newest field
    /// stamp, never before the record was first entered and never after `now`.
    pub fn edited_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let stamped = || {
            let newest = self.clocks.values().max()?;
            DateTime::from_timestamp_millis(parse(newest).0).filter(|_| parse(newest).0 > 0)
        };
        self.updated_at.or_else(stamped).unwrap_or(self.recorded_at).max(self.recorded_at).min(now)
    }
}

/// The extension carrying a record to the other devices.
pub fn extension(replica: &Replica) -> Value {
    json!({ "url": RECORD_EXTENSION, "valueString": serde_json::to_string(replica).unwrap_or_default() })
}

/// The record in a pulled resource, if another Companion device wrote it.
pub fn from_resource(resource: &Value) -> Option<Replica> {
    resource
        .get("extension")?
        .as_array()?
        .iter()
        .find(|e| e.get("url").and_then(Value::as_str) == Some(RECORD_EXTENSION))
        .and_then(|e| e.get("valueString")?.as_str())
        .and_then(|s| serde_json::from_str::<Replica>(s).ok())
        .map(|mut copy| {
            // Read as this build reads its own records, so a copy from an older build compares equal.
            if let EntryData::Assessment { questionnaire, answers, .. } = &mut copy.data {
                crate::instruments::legacy::read_answers(questionnaire, answers);
            }
            copy
        })
}

/// What merging gives: the record's status, clinical time, content and stamps.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub status: RecordStatus,
    pub occurred_at: DateTime<Utc>,
    pub data: EntryData,
    pub clocks: Clocks,
}

fn stamp<'a>(clocks: &'a Clocks, field: &str) -> &'a str {
    clocks.get(field).map_or("", String::as_str)
}

/// Merges two copies of one record. Commutative: both devices reach the same result.
pub fn merge(local: &Merged, remote: &Merged) -> Merged {
    let mut clocks = local.clocks.clone();
    for (field, s) in &remote.clocks {
        if s.as_str() > stamp(&clocks, field) {
            clocks.insert(field.clone(), s.clone());
        }
    }
    let remote_newer = |field: &str| stamp(&remote.clocks, field) > stamp(&local.clocks, field);
    let withdrawn = local.status == RecordStatus::EnteredInError || remote.status == RecordStatus::EnteredInError;
    let (data, occurred_at) = match (&local.data, &remote.data) {
        (EntryData::Question { text: lt, state: ls, answer: la }, EntryData::Question { text: rt, state: rs, answer: ra }) => {
            let text = if remote_newer("text") { rt.clone() } else { lt.clone() };
            let answer = if remote_newer("answer") { ra.clone() } else { la.clone() };
            (EntryData::Question { text, state: (*ls).max(*rs), answer }, local.occurred_at)
        }
        _ if remote_newer("record") => (remote.data.clone(), remote.occurred_at),
        _ => (local.data.clone(), local.occurred_at),
    };
    let status = if withdrawn {
        RecordStatus::EnteredInError
    } else if local.status == RecordStatus::Amended || remote.status == RecordStatus::Amended {
        RecordStatus::Amended
    } else {
        RecordStatus::Final
    };
    Merged { status, occurred_at, data, clocks }
}

/// The FHIR type a diary record travels on.
pub fn resource_type(data: &EntryData) -> &'static str {
    match data {
        EntryData::Question { .. } => "Communication",
        EntryData::Assessment { .. } => "QuestionnaireResponse",
        _ => "Observation",
    }
}

/// Whether a record pulled from the server is one a device of this patient wrote: on its own
/// resource type and id, stamped by the server as written by a device (never the clinic's
/// staff, who write no diary records), and, from a carer's own device, entered and last changed
/// by that carer (the carer the server checked the resource names), never by the patient.
/// Its clocks are not in the future (a stamp far ahead would hold back every later edit).
pub fn fits(copy: &Replica, rtype: &str, id: &str, resource: &Value) -> bool {
    if copy.id.to_string() != id || resource_type(&copy.data) != rtype {
        return false;
    }
    let horizon = Utc::now().timestamp_millis() + 86_400_000;
    let in_time = copy.clocks.values().all(|c| c.split('.').next().and_then(|ms| ms.parse::<i64>().ok()).is_some_and(|ms| ms <= horizon));
    if !in_time {
        return false;
    }
    match crate::fhir::origin(resource) {
        Some(crate::fhir::ORIGIN_PATIENT) => true,
        Some(crate::fhir::ORIGIN_CARER) => {
            let named = ["performer", "sender", "author"]
                .iter()
                .filter_map(|k| resource.get(*k))
                .flat_map(|v| if let Value::Array(items) = v { items.clone() } else { vec![v.clone()] })
                .filter_map(|r| r.get("reference")?.as_str()?.strip_prefix("RelatedPerson/").map(str::to_owned))
                .collect::<Vec<_>>();
            [&copy.author, &copy.updated_by]
                .iter()
                .all(|a| a.role == crate::domain::Role::Carer && named.iter().any(|n| *n == a.id.to_string()))
        }
        _ => false,
    }
}

/// Checks a record another device sent, as this device would check its own input: ranges,
/// lengths, known symptom details, and for a validated instrument its answers and its score
/// recomputed by the published rules. A record that fails is not taken in.
pub fn check(copy: &Replica) -> crate::error::Result<()> {
    use crate::domain::{self, NewCheckin, NewEntry, NewSymptom, NewTemperature};
    use crate::error::{Invalid, Problem};
    let far_future = Utc::now() + chrono::Duration::days(1);
    let probe = |input: NewEntry| input.validate(far_future).map(|_| ());
    match &copy.data {
        EntryData::Symptom { symptom, other_name, severity, note, flags } => probe(NewEntry::Symptom(NewSymptom {
            symptom: symptom.code().to_owned(),
            other_name: other_name.clone(),
            severity: i64::from(*severity),
            note: note.clone(),
            flags: flags.clone(),
            occurred_at: None,
        }))?,
        EntryData::Temperature { celsius, note, feels_unwell } => probe(NewEntry::Temperature(NewTemperature {
            celsius: *celsius,
            note: note.clone(),
            feels_unwell: *feels_unwell,
            occurred_at: None,
        }))?,
        EntryData::Checkin { wellbeing, note } => {
            probe(NewEntry::Checkin(NewCheckin { wellbeing: i64::from(*wellbeing), note: note.clone(), occurred_at: None }))?
        }
        EntryData::Question { text, answer, .. } => {
            domain::question_text(text)?;
            domain::optional_text("answer", answer.as_deref(), domain::MAX_ANSWER)?;
        }
        EntryData::Assessment { instrument, answers, score, .. } => {
            let known = crate::instruments::get(instrument)?;
            let answers = known.check(answers)?;
            if known.score(&answers) != *score {
                return Err(Invalid::new("answers", Problem::Mismatch).into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::QuestionState;

    fn device(n: u8) -> Uuid {
        Uuid::from_bytes([n; 16])
    }

    fn question(text: &str, state: QuestionState, answer: Option<&str>, clocks: &[(&str, &str)]) -> Merged {
        Merged {
            status: RecordStatus::Amended,
            occurred_at: DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap().with_timezone(&Utc),
            data: EntryData::Question { text: text.into(), state, answer: answer.map(Into::into) },
            clocks: clocks.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn a_copy_from_a_build_with_the_swapped_difficulty_codes_is_read_as_meant() {
        let author = serde_json::json!({"id": Uuid::nil(), "name": "Kari", "role": "patient"});
        let data = serde_json::json!({"kind": "assessment", "instrument": "phq9", "scoring": "phq9",
            "questionnaire": "https://fhir.companion-diary.no/Questionnaire/phq9|1.0.0",
            "answers": [{"link_id": "phq9-difficulty", "value": {"type": "coding", "system": "http://loinc.org", "code": "LA6574-3", "display": "Very difficult"}}],
            "score": {"total": null, "max": 27, "band": null, "missing": [], "items": []}});
        let mut copy = serde_json::json!({"id": Uuid::nil(), "status": "final", "occurred_at": "2026-11-01T10:00:00Z",
            "recorded_at": "2026-11-01T10:00:00Z", "device": Uuid::nil(), "author": author, "updated_by": author, "clocks": {}});
        copy["data"] = data;
        let resource = json!({"extension": [{"url": RECORD_EXTENSION, "valueString": copy.to_string()}]});
        let read = from_resource(&resource).unwrap();
        let EntryData::Assessment { answers, .. } = read.data else { panic!("an assessment") };
        assert!(matches!(&answers[0].value, crate::instruments::AnswerValue::Coding { code, .. } if code == "LA6575-0"));
    }

    #[test]
    fn a_pulled_record_fits_only_its_own_resource_stamped_by_a_device_and_a_carers_is_the_carers() {
        let carer = Uuid::from_bytes([7; 16]);
        let person = |id: Uuid, role: &str| serde_json::json!({"id": id, "name": "x", "role": role});
        let copy = |who: serde_json::Value, clock: &str| -> Replica {
            serde_json::from_value(serde_json::json!({"id": Uuid::nil(), "status": "final", "occurred_at": "2026-11-01T10:00:00Z",
                "recorded_at": "2026-11-01T10:00:00Z", "device": Uuid::nil(), "author": who, "updated_by": who,
                "clocks": {"text": clock}, "data": {"kind": "question", "text": "q", "state": "open", "answer": null}}))
            .unwrap()
        };
        let now = tick(None, Utc::now().timestamp_millis(), Uuid::nil());
        let stamped = |origin: &str| {
            json!({"sender": {"reference": format!("RelatedPerson/{carer}")},
                   "meta": {"tag": [{"system": crate::fhir::origin_system(), "code": origin}]}})
        };
        let id = Uuid::nil().to_string();
        let patients = copy(person(Uuid::from_bytes([1; 16]), "patient"), &now);
        assert!(fits(&patients, "Communication", &id, &stamped("patient")));
        assert!(!fits(&patients, "Provenance", &id, &stamped("patient")), "on another type");
        assert!(!fits(&patients, "Communication", "other", &stamped("patient")), "under another id");
        assert!(!fits(&patients, "Communication", &id, &stamped("clinic")), "staff write no diary records");
        assert!(!fits(&patients, "Communication", &id, &json!({})), "nor does an unstamped copy count");
        assert!(!fits(&patients, "Communication", &id, &stamped("carer")), "a carer's device never writes as the patient");
        assert!(fits(&copy(person(carer, "carer"), &now), "Communication", &id, &stamped("carer")));
        let far = tick(None, Utc::now().timestamp_millis() + 10 * 86_400_000, Uuid::nil());
        assert!(!fits(&copy(person(carer, "carer"), &far), "Communication", &id, &stamped("carer")), "a clock from the future");
    }

    #[test]
    fn stamps_move_forward_even_when_the_wall_clock_goes_back() {
        let a = tick(None, 1_000, device(1));
        let b = tick(Some(&a), 900, device(1));
        let c = tick(Some(&b), 2_000, device(1));
        assert!(a < b && b < c, "{a} {b} {c}");
        // Another device's stamp at the same millisecond orders by counter, then device.
        let d = tick(Some(&a), 1_000, device(2));
        assert!(d > a);
    }

    #[test]
    fn concurrent_question_edits_keep_the_latest_wording_and_the_furthest_state() {
        let t1 = tick(None, 1_000, device(1));
        let t2 = tick(None, 2_000, device(2));
        // The phone rewords the question (t2); the laptop marks it asked (earlier, t1).
        let phone = question("Can I travel in March?", QuestionState::Open, None, &[("text", &t2)]);
        let laptop = question("Can I travel?", QuestionState::Asked, None, &[("state", &t1)]);
        let a = merge(&phone, &laptop);
        let b = merge(&laptop, &phone);
        assert_eq!(a, b, "both devices reach the same record");
        assert_eq!(a.data, EntryData::Question { text: "Can I travel in March?".into(), state: QuestionState::Asked, answer: None });
    }

    #[test]
    fn a_stale_device_cannot_reopen_an_answered_question() {
        let late = tick(None, 9_000, device(1));
        let early = tick(None, 1_000, device(2));
        let stale = question("Q", QuestionState::Open, None, &[("state", &late)]);
        let answered = question("Q", QuestionState::Answered, Some("Yes"), &[("state", &early), ("answer", &early)]);
        let m = merge(&stale, &answered);
        assert_eq!(m.data, EntryData::Question { text: "Q".into(), state: QuestionState::Answered, answer: Some("Yes".into()) });
    }

    #[test]
    fn a_withdrawal_wins() {
        let mut a = question("Q", QuestionState::Open, None, &[]);
        let b = question("Q2", QuestionState::Open, None, &[("text", &tick(None, 5, device(2)))]);
        a.status = RecordStatus::EnteredInError;
        assert_eq!(merge(&a, &b).status, RecordStatus::EnteredInError);
        assert_eq!(merge(&b, &a).status, RecordStatus::EnteredInError);
    }

    /// A record from device 1, entered by the patient.
    fn replica(data: EntryData) -> Replica {
        let author = Author { id: device(3), name: "Kari".into(), role: crate::domain::Role::Patient, relationship: None };
        Replica {
            id: device(4),
            status: RecordStatus::Final,
            occurred_at: Utc::now(),
            recorded_at: Utc::now(),
            device: device(1),
            author: author.clone(),
            updated_by: author,
            data,
            clocks: Clocks::new(),
            updated_at: None,
        }
    }

    #[test]
    fn a_record_another_device_sends_is_checked_like_input() {
        let mut r = replica(EntryData::Checkin { wellbeing: 6, note: None });
        assert!(check(&r).is_ok());
        r.data = EntryData::Checkin { wellbeing: 11, note: None };
        assert!(check(&r).is_err(), "out of range");
        r.data = EntryData::Question { text: " ".into(), state: QuestionState::Open, answer: None };
        assert!(check(&r).is_err(), "empty question");
    }

    #[test]
    fn the_record_round_trips_through_its_extension() {
        let r = replica(EntryData::Checkin { wellbeing: 6, note: Some("ok".into()) });
        let resource = json!({ "resourceType": "Observation", "extension": [extension(&r)] });
        assert_eq!(from_resource(&resource), Some(r));
        assert_eq!(from_resource(&json!({ "resourceType": "Observation" })), None);
    }
}
