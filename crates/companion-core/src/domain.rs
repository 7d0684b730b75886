//! The diary's records and the rules for what may be written into them.
//!
//! Raw input arrives as [`NewEntry`] (what the UI form or the CLI flags held) and is turned into
//! [`EntryData`] by [`NewEntry::validate`], which refuses bad input with the field's name. Nothing
//! reaches the store without passing through here.

use crate::error::{Invalid, Problem};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::symptom::SymptomCode;

pub use crate::limits::{FUTURE_TOLERANCE_MINUTES, MAX_ANSWER, MAX_CELSIUS, MAX_NAME, MAX_NOTE, MAX_QUESTION, MAX_RATING, MIN_CELSIUS};
pub use crate::role::Role;

/// The kinds of record in the diary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum EntryKind {
    Symptom,
    Temperature,
    Checkin,
    Question,
    /// A completed validated instrument (PHQ-9, GAD-7, ESAS-r, ...).
    Assessment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] =
        [EntryKind::Symptom, EntryKind::Temperature, EntryKind::Checkin, EntryKind::Question, EntryKind::Assessment];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.trim().parse().map_err(|_| Invalid::new("kind", Problem::Unknown))
    }
}

/// Where a question for the visit stands. Ordered: a later state is "further".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum QuestionState {
    Open,
    Asked,
    Answered,
    Archived,
}

impl QuestionState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.trim().parse().map_err(|_| Invalid::new("state", Problem::Unknown))
    }
}

/// A record's own status, as in FHIR: the first version is `final`, a correction `amended`, a
/// withdrawal `entered-in-error`. Records are never erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum RecordStatus {
    Final,
    Amended,
    EnteredInError,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

/// What the patient lets a carer do: log their own observations, see and add questions, see
/// the patient's symptoms and temperatures, see the patient's check-ins.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Scope {
    Observations,
    Questions,
    Symptoms,
    Checkins,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Observations, Scope::Questions, Scope::Symptoms, Scope::Checkins];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Scope> {
        s.trim().parse().ok()
    }

    /// Reads a comma-separated list (`observations,questions`), sorted and without repeats.
    pub fn parse_list(field: &'static str, raw: &str) -> Result<Vec<Scope>, Invalid> {
        let mut out = Vec::new();
        for part in raw.split(',').filter(|p| !p.trim().is_empty()) {
            out.push(Scope::parse(part).ok_or(Invalid::new(field, Problem::Unknown))?);
        }
        Scope::normalise(field, out)
    }

    /// Sorts and de-duplicates; an empty list is refused (a carer who may do nothing).
    pub fn normalise(field: &'static str, mut scopes: Vec<Scope>) -> Result<Vec<Scope>, Invalid> {
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(Invalid::new(field, Problem::Required));
        }
        Ok(scopes)
    }
}

/// Who entered a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Author {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub relationship: Option<String>,
}

/// The content of a record, by kind. Stored as JSON in the record's version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EntryData {
    Symptom {
        symptom: SymptomCode,
        /// The person's own name for it, when `symptom` is `other`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        other_name: Option<String>,
        severity: u8,
        #[serde(default)]
        note: Option<String>,
        /// Details from [`SymptomCode::flags`], e.g. `blood` for diarrhoea.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        flags: Vec<String>,
    },
    Temperature {
        celsius: f64,
        #[serde(default)]
        note: Option<String>,
        /// "I feel unwell", which makes a low temperature a reason to call.
        #[serde(default)]
        feels_unwell: bool,
    },
    Checkin {
        wellbeing: u8,
        #[serde(default)]
        note: Option<String>,
    },
    Question {
        text: String,
        state: QuestionState,
        #[serde(default)]
        answer: Option<String>,
    },
    Assessment {
        /// The instrument's id (`phq9`, `esas-r`, ...).
        instrument: String,
        scoring: crate::instruments::Scoring,
        /// The Questionnaire answered, pinned: `url|version`.
        questionnaire: String,
        answers: Vec<crate::instruments::ItemAnswer>,
        /// The score as computed when it was saved.
        score: crate::instruments::Score,
    },
}

impl EntryData {
    pub fn kind(&self) -> EntryKind {
        match self {
            EntryData::Symptom { .. } => EntryKind::Symptom,
            EntryData::Temperature { .. } => EntryKind::Temperature,
            EntryData::Checkin { .. } => EntryKind::Checkin,
            EntryData::Question { .. } => EntryKind::Question,
            EntryData::Assessment { .. } => EntryKind::Assessment,
        }
    }
}

/// One record as the timeline shows it: its latest version, with who and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Entry {
    pub id: Uuid,
    /// 1 for the original, +1 for every correction, state change or withdrawal.
    pub version: u32,
    pub status: RecordStatus,
    /// When it happened (for a question: when it was written down).
    pub occurred_at: DateTime<Utc>,
    /// When it was first recorded.
    pub recorded_at: DateTime<Utc>,
    /// When the latest version was recorded (equal to `recorded_at` for version 1).
    pub updated_at: DateTime<Utc>,
    /// Who first entered it.
    pub author: Author,
    /// Who made the latest version.
    pub updated_by: Author,
    /// The device it was first entered on.
    pub device: Uuid,
    /// A carer's own check-in that they have not shared: seen by them alone, never sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
    #[serde(flatten)]
    pub data: EntryData,
}

impl Entry {
    pub fn kind(&self) -> EntryKind {
        self.data.kind()
    }
}

/// A new symptom as typed: strings and wide integers, so that every mistake can be named.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct NewSymptom {
    pub symptom: String,
    #[serde(default)]
    pub other_name: Option<String>,
    pub severity: i64,
    #[serde(default)]
    pub note: Option<String>,
    /// RFC 3339; none means now.
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// Details from [`SymptomCode::flags`].
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct NewTemperature {
    pub celsius: f64,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub feels_unwell: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct NewCheckin {
    pub wellbeing: i64,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct NewQuestion {
    pub text: String,
}

/// Raw input for a new record, or for a correction of one.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NewEntry {
    Symptom(NewSymptom),
    Temperature(NewTemperature),
    Checkin(NewCheckin),
    Question(NewQuestion),
}

impl NewEntry {
    pub fn kind(&self) -> EntryKind {
        match self {
            NewEntry::Symptom(_) => EntryKind::Symptom,
            NewEntry::Temperature(_) => EntryKind::Temperature,
            NewEntry::Checkin(_) => EntryKind::Checkin,
            NewEntry::Question(_) => EntryKind::Question,
        }
    }

    /// Checks every field and returns the record's content and when it happened.
    /// The first problem found is returned; nothing is written by this function.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(EntryData, DateTime<Utc>), Invalid> {
        match self {
            NewEntry::Symptom(s) => {
                let symptom = SymptomCode::parse(&s.symptom)?;
                let other_name = if symptom == SymptomCode::Other {
                    Some(required_text("other_name", s.other_name.as_deref(), MAX_NAME)?)
                } else {
                    None
                };
                let severity = rating("severity", s.severity)?;
                let note = optional_text("note", s.note.as_deref(), MAX_NOTE)?;
                let at = occurred_at(s.occurred_at.as_deref(), now)?;
                let mut flags: Vec<String> = Vec::new();
                for flag in &s.flags {
                    let flag = flag.trim();
                    if !symptom.flags().contains(&flag) {
                        return Err(Invalid::new("flags", Problem::Unknown));
                    }
                    if !flags.iter().any(|f| f == flag) {
                        flags.push(flag.to_owned());
                    }
                }
                Ok((EntryData::Symptom { symptom, other_name, severity, note, flags }, at))
            }
            NewEntry::Temperature(t) => {
                if !t.celsius.is_finite() || t.celsius < MIN_CELSIUS || t.celsius > MAX_CELSIUS {
                    return Err(Invalid::new("celsius", Problem::OutOfRange { min: MIN_CELSIUS, max: MAX_CELSIUS }));
                }
                let note = optional_text("note", t.note.as_deref(), MAX_NOTE)?;
                let at = occurred_at(t.occurred_at.as_deref(), now)?;
                // To a tenth of a degree, as thermometers show it: what is shown is what the
                // rules see (37.96 is 38.0, a fever).
                let celsius = (t.celsius * 10.0).round() / 10.0;
                Ok((EntryData::Temperature { celsius, note, feels_unwell: t.feels_unwell }, at))
            }
            NewEntry::Checkin(c) => {
                let wellbeing = rating("wellbeing", c.wellbeing)?;
                let note = optional_text("note", c.note.as_deref(), MAX_NOTE)?;
                let at = occurred_at(c.occurred_at.as_deref(), now)?;
                Ok((EntryData::Checkin { wellbeing, note }, at))
            }
            NewEntry::Question(q) => {
                let text = question_text(&q.text)?;
                Ok((EntryData::Question { text, state: QuestionState::Open, answer: None }, now))
            }
        }
    }
}

/// A 0–10 rating.
fn rating(field: &'static str, value: i64) -> Result<u8, Invalid> {
    if (0..=MAX_RATING).contains(&value) {
        Ok(value as u8)
    } else {
        Err(Invalid::new(field, Problem::OutOfRange { min: 0.0, max: MAX_RATING as f64 }))
    }
}

/// Text that must be there: trimmed, not empty, not too long.
pub fn required_text(field: &'static str, raw: Option<&str>, max: usize) -> Result<String, Invalid> {
    match optional_text(field, raw, max)? {
        Some(text) => Ok(text),
        None => Err(Invalid::new(field, Problem::Required)),
    }
}

/// Text that may be left out: trimmed; empty becomes none.
pub fn optional_text(field: &'static str, raw: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max {
        return Err(Invalid::new(field, Problem::TooLong { max }));
    }
    Ok(Some(text.to_owned()))
}

pub fn question_text(raw: &str) -> Result<String, Invalid> {
    required_text("text", Some(raw), MAX_QUESTION)
}

/// When something happened: RFC 3339 (any offset), not in the future beyond the tolerance,
/// not before 1900. None means now.
pub fn occurred_at(raw: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(now);
    };
    let at = DateTime::parse_from_rfc3339(raw).map_err(|_| Invalid::new("occurred_at", Problem::BadFormat))?.with_timezone(&Utc);
    check_time(at, now)
}

pub fn check_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    if at > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        return Err(Invalid::new("occurred_at", Problem::InFuture));
    }
    let earliest = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).single().expect("valid date");
    if at < earliest {
        return Err(Invalid::new("occurred_at", Problem::TooOld));
    }
    Ok(at)
}

/// A person's name (the patient at set-up; a carer later).
pub fn person_name(raw: &str) -> Result<String, Invalid> {
    required_text("name", Some(raw), MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn symptom(code: &str, severity: i64) -> NewEntry {
        NewEntry::Symptom(NewSymptom { symptom: code.into(), severity, ..Default::default() })
    }

    fn field_of(e: NewEntry) -> (&'static str, Problem) {
        let err = e.validate(now()).unwrap_err();
        (err.field, err.problem)
    }

    #[test]
    fn symptoms_are_checked() {
        assert!(symptom("pain", 0).validate(now()).is_ok());
        assert!(symptom("pain", 10).validate(now()).is_ok());
        assert_eq!(field_of(symptom("", 3)), ("symptom", Problem::Required));
        assert_eq!(field_of(symptom("   ", 3)), ("symptom", Problem::Required));
        assert_eq!(field_of(symptom("headache", 3)), ("symptom", Problem::Unknown));
        assert_eq!(field_of(symptom("pain", 11)).0, "severity");
        assert_eq!(field_of(symptom("pain", -1)).0, "severity");
        assert_eq!(field_of(symptom("other", 3)), ("other_name", Problem::Required));
        let other = NewEntry::Symptom(NewSymptom {
            symptom: "other".into(),
            other_name: Some("  hiccups ".into()),
            severity: 2,
            ..Default::default()
        });
        let (data, _) = other.validate(now()).unwrap();
        assert!(matches!(data, EntryData::Symptom { other_name: Some(ref n), .. } if n == "hiccups"));
    }

    #[test]
    fn symptom_flags_must_belong_to_the_symptom() {
        let with = |code: &str, flags: &[&str]| {
            NewEntry::Symptom(NewSymptom {
                symptom: code.into(),
                severity: 3,
                flags: flags.iter().map(|f| f.to_string()).collect(),
                ..Default::default()
            })
        };
        let (data, _) = with("diarrhoea", &["blood", "blood", "over-24-hours"]).validate(now()).unwrap();
        assert!(matches!(data, EntryData::Symptom { ref flags, .. } if flags == &["blood", "over-24-hours"]));
        assert_eq!(field_of(with("pain", &["blood"])), ("flags", Problem::Unknown));
    }

    #[test]
    fn notes_have_a_sane_length() {
        let long = "x".repeat(MAX_NOTE + 1);
        let e = NewEntry::Temperature(NewTemperature { celsius: 37.0, note: Some(long), ..Default::default() });
        assert_eq!(field_of(e), ("note", Problem::TooLong { max: MAX_NOTE }));
        let ok = NewEntry::Temperature(NewTemperature { celsius: 37.0, note: Some("æøå".repeat(MAX_NOTE / 3)), ..Default::default() });
        assert!(ok.validate(now()).is_ok(), "length counts characters, not bytes");
    }

    #[test]
    fn temperatures_are_kept_to_a_tenth_of_a_degree_as_shown() {
        for (typed, kept) in [(37.96, 38.0), (37.94, 37.9), (38.0, 38.0), (36.06, 36.1), (37.5, 37.5)] {
            let e = NewEntry::Temperature(NewTemperature { celsius: typed, ..Default::default() });
            let (data, _) = e.validate(now()).unwrap();
            assert!(matches!(data, EntryData::Temperature { celsius, .. } if celsius == kept), "{typed}");
        }
    }

    #[test]
    fn temperatures_are_checked_at_the_edges() {
        for (c, ok) in [(30.0, true), (45.0, true), (29.9, false), (45.1, false), (f64::NAN, false), (f64::INFINITY, false)] {
            let e = NewEntry::Temperature(NewTemperature { celsius: c, ..Default::default() });
            assert_eq!(e.validate(now()).is_ok(), ok, "{c}");
        }
    }

    #[test]
    fn times_must_be_readable_and_not_in_the_future() {
        let at = |s: &str| occurred_at(Some(s), now());
        assert_eq!(at("2026-11-22T12:04:00Z").unwrap(), now() + Duration::minutes(4));
        assert_eq!(at("2026-11-22T12:06:00Z").unwrap_err().problem, Problem::InFuture);
        assert_eq!(at("2026-11-22T13:30:00+01:00").unwrap_err().problem, Problem::InFuture);
        assert!(at("2026-11-22T13:00:00+01:00").is_ok());
        assert_eq!(at("yesterday").unwrap_err().problem, Problem::BadFormat);
        assert_eq!(at("1899-12-31T23:00:00Z").unwrap_err().problem, Problem::TooOld);
        assert_eq!(occurred_at(None, now()).unwrap(), now());
        assert_eq!(occurred_at(Some(""), now()).unwrap(), now());
    }

    #[test]
    fn questions_are_checked() {
        let q = |t: &str| NewEntry::Question(NewQuestion { text: t.into() });
        assert_eq!(field_of(q("  ")), ("text", Problem::Required));
        assert_eq!(field_of(q(&"a".repeat(MAX_QUESTION + 1))).1, Problem::TooLong { max: MAX_QUESTION });
        assert!(q("Can I travel in December?").validate(now()).is_ok());
    }

    #[test]
    fn entry_json_has_the_documented_shape() {
        let author = Author { id: Uuid::nil(), name: "Ada".into(), role: Role::Patient, relationship: None };
        let e = Entry {
            id: Uuid::nil(),
            version: 1,
            status: RecordStatus::Final,
            occurred_at: now(),
            recorded_at: now(),
            updated_at: now(),
            author: author.clone(),
            updated_by: author,
            device: Uuid::nil(),
            private: false,
            data: EntryData::Symptom { symptom: SymptomCode::Pain, other_name: None, severity: 6, note: None, flags: vec![] },
        };
        let v = serde_json::to_value(&e).unwrap();
        for key in ["id", "kind", "author", "occurred_at", "status", "symptom", "severity"] {
            assert!(v.get(key).is_some(), "{key} missing from {v}");
        }
        assert_eq!(v["kind"], "symptom");
        assert_eq!(v["status"], "final");
        let back: Entry = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
