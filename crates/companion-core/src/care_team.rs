//! The clinic's care team: who to call (the ward or 24-hour line, the contact nurse, the cancer
//! coordinator in the municipality, the GP, the out-of-hours doctor), their numbers, and when
//! each line is staffed, in Norway's time. The clinic sets it (`companion-clinic contacts set`);
//! it travels as a FHIR `CareTeam` whose members are contained `PractitionerRole`s (R4 puts
//! `telecom` and `availableTime` there), and the device keeps it offline. Which line to call at
//! a moment is decided here, so the app, the CLI and every "call now" card agree.

use crate::norway;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// The id of the clinic's `CareTeam`, one for the whole clinic.
pub const CARE_TEAM_ID: &str = "companion-care-team";
/// Roles, in the order a list shows them.
pub const ROLES: &[&str] = &["ward", "contact_nurse", "coordinator", "gp", "out_of_hours", "emergency"];
pub const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MAX_CONTACTS: usize = 20;
const MAX_HOURS: usize = 14;
use crate::limits::MAX_NAME;

/// One line to call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct CareContact {
    #[ts(type = "'ward' | 'contact_nurse' | 'coordinator' | 'gp' | 'out_of_hours' | 'emergency'")]
    pub role: String,
    pub name: String,
    pub phone: String,
    /// When it is staffed; none means always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<Hours>,
}

/// Days and a span of the day (Norway's time), `from` before `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    pub days: Vec<String>,
    pub from: String,
    pub to: String,
}

/// Why a contacts file was refused: the element (`contacts[1].hours[0].to`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refused {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{} {}", self.field, self.reason)
        }
    }
}

pub(crate) fn refused(field: impl Into<String>, reason: impl Into<String>) -> Refused {
    Refused { field: field.into(), reason: reason.into() }
}

/// A phone number as the cards show it: digits, spaces, `+`, `-` and brackets, 3 to 20 long.
pub fn phone_ok(n: &str) -> bool {
    let digits = n.chars().filter(char::is_ascii_digit).count();
    digits >= 3 && n.chars().count() <= 20 && n.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
}

fn time(raw: &str) -> Option<NaiveTime> {
    // "08:00", or FHIR's "08:00:00".
    NaiveTime::parse_from_str(raw, "%H:%M").or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S")).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    contacts: Vec<CareContact>,
}

/// Reads and checks `{"contacts": [...]}` as the clinic writes it.
pub fn parse(json: &str) -> Result<Vec<CareContact>, Refused> {
    let file: File = serde_json::from_str(json).map_err(|e| refused("", format!("the file cannot be read ({e})")))?;
    check(file.contacts)
}

/// Checks a list of contacts: known roles, names, numbers, days and times, at most one ward.
pub fn check(contacts: Vec<CareContact>) -> Result<Vec<CareContact>, Refused> {
    if contacts.len() > MAX_CONTACTS {
        return Err(refused("contacts", format!("may hold at most {MAX_CONTACTS}")));
    }
    let mut out = Vec::new();
    for (i, mut c) in contacts.into_iter().enumerate() {
        let at = |what: &str| format!("contacts[{i}].{what}");
        if !ROLES.contains(&c.role.as_str()) {
            return Err(refused(at("role"), format!("must be one of {}", ROLES.join(", "))));
        }
        c.name = c.name.trim().to_owned();
        if c.name.is_empty() || c.name.chars().count() > MAX_NAME {
            return Err(refused(at("name"), format!("must be 1 to {MAX_NAME} characters")));
        }
        c.phone = c.phone.trim().to_owned();
        if !phone_ok(&c.phone) {
            return Err(refused(at("phone"), "must be a phone number (digits, spaces, + - and brackets, 3 to 20 long)"));
        }
        if c.hours.len() > MAX_HOURS {
            return Err(refused(at("hours"), format!("may hold at most {MAX_HOURS} spans")));
        }
        for (j, h) in c.hours.iter_mut().enumerate() {
            let at = |what: &str| format!("contacts[{i}].hours[{j}].{what}");
            if h.days.is_empty() || h.days.iter().any(|d| !DAYS.contains(&d.as_str())) {
                return Err(refused(at("days"), format!("must list days from {}", DAYS.join(", "))));
            }
            h.days.sort_by_key(|d| DAYS.iter().position(|x| x == d));
            h.days.dedup();
            let (Some(from), Some(to)) = (time(&h.from), time(&h.to)) else {
                return Err(refused(at("from"), "and to must be times of day as HH:MM"));
            };
            if from >= to {
                return Err(refused(at("to"), "must be after from (a line staffed overnight is two spans, to 24:00 is 23:59)"));
            }
            h.from = from.format("%H:%M").to_string();
            h.to = to.format("%H:%M").to_string();
        }
        if c.role == "ward" && out.iter().any(|o: &CareContact| o.role == "ward") {
            return Err(refused(at("role"), "ward is given twice: the cards call one ward"));
        }
        out.push(c);
    }
    out.sort_by_key(|c| ROLES.iter().position(|r| *r == c.role));
    Ok(out)
}

/// Whether a line is staffed at an instant, and until when, or when it opens next.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Staffed {
    pub open: bool,
    /// Open now: when it closes today (Norway's time, `HH:MM`); none when always staffed.
    pub until: Option<String>,
    /// Closed now: the next opening, as a day (`mon`…) and a time.
    pub opens_day: Option<String>,
    pub opens_at: Option<String>,
}

impl CareContact {
    pub fn staffed(&self, now: DateTime<Utc>) -> Staffed {
        if self.hours.is_empty() {
            return Staffed { open: true, until: None, opens_day: None, opens_at: None };
        }
        let wall = norway::local(now);
        let day = |d: chrono::Weekday| DAYS[d.num_days_from_monday() as usize];
        let today = day(wall.weekday());
        let spans = |d: &str| {
            let mut s: Vec<(NaiveTime, NaiveTime)> =
                self.hours.iter().filter(|h| h.days.iter().any(|x| x == d)).filter_map(|h| Some((time(&h.from)?, time(&h.to)?))).collect();
            s.sort();
            s
        };
        let t = wall.time();
        if let Some((_, to)) = spans(today).into_iter().find(|(from, to)| *from <= t && t < *to) {
            return Staffed { open: true, until: Some(to.format("%H:%M").to_string()), opens_day: None, opens_at: None };
        }
        for ahead in 0..8 {
            let date = wall.date() + Duration::days(ahead);
            let d = day(date.weekday());
            if let Some((from, _)) = spans(d).into_iter().find(|(from, _)| ahead > 0 || *from > t) {
                return Staffed {
                    open: false,
                    until: None,
                    opens_day: Some(d.to_owned()),
                    opens_at: Some(from.format("%H:%M").to_string()),
                };
            }
        }
        Staffed { open: false, until: None, opens_day: None, opens_at: None }
    }
}

/// Who to call now when the card says "call now": the ward while it is staffed, otherwise the
/// clinic's out-of-hours line, otherwise the ruleset's out-of-hours number (116 117).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CallNow {
    pub role: String,
    pub name: Option<String>,
    pub phone: String,
    /// `clinic` (the care team), `patient` (a number the patient typed) or `ruleset`.
    #[ts(type = "'clinic' | 'patient' | 'ruleset'")]
    pub source: &'static str,
    /// The ward, and whether it is staffed now (the card says "open until 15:30" or "closed
    /// now"); none when the clinic gave no ward.
    pub ward: Option<Staffed>,
}

/// The line to call now, from the clinic's contacts, the number the patient typed for the ward
/// (used only while the clinic gave none) and the ruleset's out-of-hours number.
pub fn call_now(team: &[CareContact], own_ward: Option<&str>, out_of_hours: &str, now: DateTime<Utc>) -> CallNow {
    let fallback = || {
        let ooh = team.iter().find(|c| c.role == "out_of_hours" && c.staffed(now).open);
        match ooh {
            Some(c) => (c.role.clone(), Some(c.name.clone()), c.phone.clone(), "clinic"),
            None => ("out_of_hours".to_owned(), None, out_of_hours.to_owned(), "ruleset"),
        }
    };
    let (role, name, phone, source, ward) = match team.iter().find(|c| c.role == "ward") {
        Some(w) => {
            let staffed = w.staffed(now);
            if staffed.open {
                (w.role.clone(), Some(w.name.clone()), w.phone.clone(), "clinic", Some(staffed))
            } else {
                let (r, n, p, s) = fallback();
                (r, n, p, s, Some(staffed))
            }
        }
        None => match own_ward {
            Some(p) => ("ward".to_owned(), None, p.to_owned(), "patient", None),
            None => {
                let (r, n, p, s) = fallback();
                (r, n, p, s, None)
            }
        },
    };
    CallNow { role, name, phone, source, ward }
}

fn role_system() -> String {
    format!("{}/CodeSystem/care-team-role", crate::fhir::CANONICAL_BASE)
}

/// The clinic's contacts as a FHIR `CareTeam`: each a participant whose member is a contained
/// `PractitionerRole` with the role, the number and the staffed hours; the ward's number is
/// also the team's own `telecom`.
pub fn to_fhir(team: &[CareContact], name: &str) -> Value {
    let system = role_system();
    let mut contained = Vec::new();
    let mut participants = Vec::new();
    for (i, c) in team.iter().enumerate() {
        let id = format!("c{}", i + 1);
        let available: Vec<Value> = if c.hours.is_empty() {
            vec![json!({ "daysOfWeek": DAYS, "allDay": true })]
        } else {
            c.hours
                .iter()
                .map(|h| json!({ "daysOfWeek": h.days, "availableStartTime": format!("{}:00", h.from), "availableEndTime": format!("{}:00", h.to) }))
                .collect()
        };
        let role = json!({ "coding": [{ "system": system, "code": c.role }] });
        contained.push(json!({
            "resourceType": "PractitionerRole",
            "id": id,
            "active": true,
            "code": [{ "coding": [{ "system": system, "code": c.role }], "text": c.name }],
            "telecom": [{ "system": "phone", "value": c.phone, "use": "work" }],
            "availableTime": available,
        }));
        participants.push(json!({ "role": [role], "member": { "reference": format!("#{id}"), "display": c.name } }));
    }
    let mut team_json = json!({
        "resourceType": "CareTeam",
        "id": CARE_TEAM_ID,
        "status": "active",
        "name": name,
        "contained": contained,
        "participant": participants,
    });
    if let Some(w) = team.iter().find(|c| c.role == "ward") {
        team_json["telecom"] = json!([{ "system": "phone", "value": w.phone, "use": "work" }]);
    }
    team_json
}

/// Reads the contacts back from a `CareTeam` as [`to_fhir`] writes it (an integration's too,
/// when it keeps to that shape). What does not fit is left out and the rest checked as a file.
pub fn from_fhir(team: &Value) -> Vec<CareContact> {
    let system = role_system();
    let contained: Vec<&Value> = team.get("contained").and_then(Value::as_array).into_iter().flatten().collect();
    let mut out = Vec::new();
    for p in team.get("participant").and_then(Value::as_array).into_iter().flatten() {
        let Some(id) = p.pointer("/member/reference").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) else { continue };
        let Some(role) = contained.iter().find(|c| c.get("id").and_then(Value::as_str) == Some(id)) else { continue };
        let code = role
            .get("code")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| c.get("coding").and_then(Value::as_array).into_iter().flatten())
            .find(|c| c.get("system").and_then(Value::as_str) == Some(system.as_str()))
            .and_then(|c| c.get("code").and_then(Value::as_str));
        let phone = role
            .get("telecom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|t| t.get("system").and_then(Value::as_str) == Some("phone"))
            .and_then(|t| t.get("value").and_then(Value::as_str));
        let name = p.pointer("/member/display").and_then(Value::as_str);
        let (Some(code), Some(phone), Some(name)) = (code, phone, name) else { continue };
        let mut hours = Vec::new();
        let mut always = false;
        // An entry this cannot read drops the contact: never "always staffed" by mistake.
        let mut unreadable = false;
        for a in role.get("availableTime").and_then(Value::as_array).into_iter().flatten() {
            let days: Vec<String> =
                a.get("daysOfWeek").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
            if a.get("allDay").and_then(Value::as_bool) == Some(true) {
                if days.len() == DAYS.len() {
                    always = true;
                } else {
                    hours.push(Hours { days, from: "00:00".into(), to: "23:59".into() });
                }
                continue;
            }
            match (a.get("availableStartTime").and_then(Value::as_str), a.get("availableEndTime").and_then(Value::as_str)) {
                (Some(from), Some(to)) => hours.push(Hours { days, from: from.to_owned(), to: to.to_owned() }),
                _ => unreadable = true,
            }
        }
        if unreadable || (!always && hours.is_empty() && role.get("availableTime").is_some()) {
            continue;
        }
        if always {
            hours.clear();
        }
        out.push(CareContact { role: code.to_owned(), name: name.to_owned(), phone: phone.to_owned(), hours });
    }
    // One contact the device would refuse (a hand-made CareTeam) leaves out that contact only.
    out.into_iter().filter_map(|c| check(vec![c]).ok().and_then(|mut v| v.pop())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const FILE: &str = r#"{"contacts": [
        {"role": "ward", "name": "Cancer ward 3", "phone": "22 11 80 80",
         "hours": [{"days": ["mon","tue","wed","thu","fri"], "from": "08:00", "to": "15:30"}]},
        {"role": "contact_nurse", "name": "Kari, contact nurse", "phone": "22 11 80 81",
         "hours": [{"days": ["tue","thu"], "from": "09:00", "to": "14:00"}]},
        {"role": "out_of_hours", "name": "Legevakt", "phone": "116 117"}
    ]}"#;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        // Norway's wall time in winter (UTC+1).
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(1)
    }

    #[test]
    fn staffed_hours_in_norway_time() {
        let team = parse(FILE).unwrap();
        let ward = &team[0];
        // Tuesday 1 December 2026, 10:00 in Norway.
        let s = ward.staffed(at(2026, 12, 1, 10, 0));
        assert!(s.open);
        assert_eq!(s.until.as_deref(), Some("15:30"));
        let s = ward.staffed(at(2026, 12, 1, 15, 30));
        assert!(!s.open);
        assert_eq!((s.opens_day.as_deref(), s.opens_at.as_deref()), (Some("wed"), Some("08:00")));
        // Saturday: next opening Monday.
        let s = ward.staffed(at(2026, 12, 5, 12, 0));
        assert_eq!((s.open, s.opens_day.as_deref()), (false, Some("mon")));
        // Early on a weekday: today at 08:00.
        let s = ward.staffed(at(2026, 12, 1, 6, 0));
        assert_eq!((s.open, s.opens_day.as_deref(), s.opens_at.as_deref()), (false, Some("tue"), Some("08:00")));
        assert!(team[2].staffed(at(2026, 12, 5, 3, 0)).open, "no hours: always staffed");
    }

    #[test]
    fn call_now_picks_the_ward_in_hours_and_out_of_hours_outside() {
        let team = parse(FILE).unwrap();
        let open = call_now(&team, Some("12 34 56 78"), "116 117", at(2026, 12, 1, 10, 0));
        assert_eq!((open.phone.as_str(), open.source), ("22 11 80 80", "clinic"));
        let closed = call_now(&team, Some("12 34 56 78"), "116 117", at(2026, 12, 1, 20, 0));
        assert_eq!((closed.role.as_str(), closed.phone.as_str(), closed.source), ("out_of_hours", "116 117", "clinic"));
        assert!(!closed.ward.unwrap().open);
        // No clinic contacts: the number the patient typed, marked as theirs.
        let own = call_now(&[], Some("12 34 56 78"), "116 117", at(2026, 12, 1, 10, 0));
        assert_eq!((own.phone.as_str(), own.source), ("12 34 56 78", "patient"));
        let none = call_now(&[], None, "116 117", at(2026, 12, 1, 10, 0));
        assert_eq!((none.phone.as_str(), none.source), ("116 117", "ruleset"));
    }

    #[test]
    fn bad_files_are_refused_naming_the_element() {
        let field = |j: &str| parse(j).unwrap_err().field;
        assert_eq!(field(r#"{"contacts":[{"role":"surgeon","name":"x","phone":"123"}]}"#), "contacts[0].role");
        assert_eq!(field(r#"{"contacts":[{"role":"gp","name":" ","phone":"123"}]}"#), "contacts[0].name");
        assert_eq!(field(r#"{"contacts":[{"role":"gp","name":"x","phone":"call me"}]}"#), "contacts[0].phone");
        let hours = |h: &str| format!(r#"{{"contacts":[{{"role":"gp","name":"x","phone":"123","hours":[{h}]}}]}}"#);
        assert_eq!(field(&hours(r#"{"days":["monday"],"from":"08:00","to":"10:00"}"#)), "contacts[0].hours[0].days");
        assert_eq!(field(&hours(r#"{"days":["mon"],"from":"8am","to":"10:00"}"#)), "contacts[0].hours[0].from");
        assert_eq!(field(&hours(r#"{"days":["mon"],"from":"22:00","to":"08:00"}"#)), "contacts[0].hours[0].to");
        assert_eq!(field(r#"{"contacts":[{"role":"gp","name":"x","phone":"123","fax":"1"}]}"#), "");
        let two = r#"{"contacts":[{"role":"ward","name":"a","phone":"123"},{"role":"ward","name":"b","phone":"456"}]}"#;
        assert_eq!(field(two), "contacts[1].role");
    }

    #[test]
    fn the_care_team_goes_through_fhir_unchanged() {
        let team = parse(FILE).unwrap();
        let fhir = to_fhir(&team, "Cancer clinic");
        assert_eq!(fhir["resourceType"], "CareTeam");
        assert_eq!(fhir["contained"][0]["availableTime"][0]["availableEndTime"], "15:30:00");
        assert_eq!(fhir["contained"][2]["availableTime"][0]["allDay"], true);
        assert_eq!(from_fhir(&fhir), team);
        // An integration's weekday-only allDay is weekdays, not always; an unreadable span drops
        // the contact rather than making it always open.
        let mut weekdays = fhir.clone();
        weekdays["contained"][0]["availableTime"] = json!([{ "daysOfWeek": ["mon", "tue", "wed", "thu", "fri"], "allDay": true }]);
        let ward = from_fhir(&weekdays).into_iter().find(|c| c.role == "ward").unwrap();
        assert!(!ward.staffed(at(2026, 12, 5, 12, 0)).open, "closed on Saturday");
        let mut broken = fhir.clone();
        broken["contained"][0]["availableTime"] = json!([{ "daysOfWeek": ["mon"], "availableStartTime": "08:00:00" }]);
        assert!(from_fhir(&broken).iter().all(|c| c.role != "ward"));
    }
}
