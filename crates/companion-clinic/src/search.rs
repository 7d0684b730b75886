//! FHIR search as a care team's client uses it: `patient`, `_lastUpdated`, `date`, `code`,
//! `url`/`version` (Questionnaire), `status` (Task), `_sort` (Task also by `priority`, most
//! urgent first, and `period`, the response target, soonest first), `_count` (0: the total only), `_offset`,
//! `_summary=count`. A parameter given twice where it may not be, or with a value that cannot
//! be read, is refused (400). An unknown parameter is refused under `Prefer: handling=strict`
//! and otherwise ignored and left out of the self link, as R4 says.
//!
//! The matching runs over one patient's resources of one type in memory: a diary holds
//! thousands, not millions (see `make bench`).

use crate::db::Stored;
use crate::error::{StoreError, StoreResult};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;

pub const MAX_PAGE: i64 = 200;
pub const MAX_OFFSET: i64 = 1_000_000;
/// A parameter repeated at most this often, and codes in one `code` at most.
const MAX_REPEATS: usize = 8;
const MAX_TOKENS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

/// A date parameter: a prefix and the range its value stands for, [start, end).
#[derive(Debug, Clone, PartialEq)]
struct DateParam {
    prefix: Prefix,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    Date,
    LastUpdated,
    /// A Task's priority, most urgent first (stat, asap, urgent, routine).
    Priority,
    /// A Task's `restriction.period.end`: its response target, soonest first.
    Period,
}

#[derive(Debug, Clone, Default)]
pub struct Search {
    pub patient: Option<String>,
    pub count: Option<i64>,
    pub offset: i64,
    pub summary_count: bool,
    sort: Vec<(SortKey, bool)>,
    last_updated: Vec<DateParam>,
    date: Vec<DateParam>,
    /// Each inner list is one `code` parameter: any of its tokens (a comma-separated list).
    code: Vec<Vec<(Option<String>, Option<String>)>>,
    url: Option<String>,
    version: Option<String>,
    /// Each inner list is one `status` parameter: any of its values.
    status: Vec<Vec<String>>,
    /// The parameters understood, as given, for the self link.
    pub used: Vec<(String, String)>,
}

/// The search parameters each type supports besides `_lastUpdated`, `_sort`, `_count`,
/// `_offset` and `_summary` (for the CapabilityStatement too).
pub fn params_of(rtype: &str) -> &'static [(&'static str, &'static str)] {
    match rtype {
        "Observation" | "Flag" => &[("patient", "reference"), ("date", "date"), ("code", "token")],
        "Appointment" | "Consent" => &[("patient", "reference"), ("date", "date")],
        "Task" => &[("patient", "reference"), ("code", "token"), ("status", "token")],
        "Questionnaire" => &[("url", "uri"), ("version", "token"), ("date", "date")],
        _ => &[("patient", "reference")],
    }
}

fn bad(name: &str, why: &str) -> StoreError {
    StoreError::invalid(format!("search parameter {name}: {why}"))
}

/// Reads a search's parameters. `strict` is `Prefer: handling=strict`.
pub fn parse(rtype: &str, pairs: &[(String, String)], strict: bool) -> StoreResult<Search> {
    let mut s = Search::default();
    let supported = params_of(rtype);
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        let once = |seen: &mut Vec<&str>, n: &'static str| -> StoreResult<()> {
            if seen.contains(&n) {
                return Err(bad(n, "may be given only once"));
            }
            seen.push(n);
            Ok(())
        };
        let known = supported.iter().any(|(n, _)| n == name);
        match name.as_str() {
            "_count" => {
                once(&mut seen, "_count")?;
                let n: i64 = value.parse().map_err(|_| bad("_count", "must be a whole number"))?;
                if n < 0 {
                    return Err(bad("_count", "must not be negative"));
                }
                s.count = Some(n.min(MAX_PAGE));
            }
            "_offset" => {
                once(&mut seen, "_offset")?;
                let n: i64 = value.parse().map_err(|_| bad("_offset", "must be a whole number"))?;
                if !(0..=MAX_OFFSET).contains(&n) {
                    return Err(bad("_offset", &format!("must be from 0 to {MAX_OFFSET}")));
                }
                s.offset = n;
            }
            "_summary" if value == "count" => {
                once(&mut seen, "_summary")?;
                s.summary_count = true;
            }
            "_summary" if strict => return Err(bad("_summary", "only _summary=count is supported")),
            "_summary" => continue,
            "_sort" => {
                once(&mut seen, "_sort")?;
                if value.split(',').count() > 2 {
                    return Err(bad("_sort", "sorts by at most two keys"));
                }
                for key in value.split(',') {
                    let (desc, key) = key.strip_prefix('-').map_or((false, key), |k| (true, k));
                    let key = match key {
                        "date" if supported.iter().any(|(n, _)| *n == "date") => SortKey::Date,
                        "_lastUpdated" => SortKey::LastUpdated,
                        "priority" if rtype == "Task" => SortKey::Priority,
                        "period" if rtype == "Task" => SortKey::Period,
                        _ if rtype == "Task" => return Err(bad("_sort", "sorts by priority, period or _lastUpdated")),
                        _ => return Err(bad("_sort", "sorts by date or _lastUpdated")),
                    };
                    s.sort.push((key, desc));
                }
            }
            "_lastUpdated" if s.last_updated.len() < MAX_REPEATS => s.last_updated.push(date_param("_lastUpdated", value)?),
            "_lastUpdated" => return Err(bad(name, &format!("at most {MAX_REPEATS} times"))),
            "patient" if known => {
                once(&mut seen, "patient")?;
                let id = value.trim_start_matches("Patient/");
                if !crate::fhir::valid_id(id) {
                    return Err(bad("patient", "must be a patient id"));
                }
                s.patient = Some(id.to_owned());
            }
            "date" if known && s.date.len() < MAX_REPEATS => s.date.push(date_param("date", value)?),
            "date" if known => return Err(bad(name, &format!("at most {MAX_REPEATS} times"))),
            "code" if known => {
                if s.code.len() >= MAX_REPEATS || value.split(',').count() > MAX_TOKENS {
                    return Err(bad("code", &format!("at most {MAX_REPEATS} times, each with at most {MAX_TOKENS} codes")));
                }
                let tokens = value
                    .split(',')
                    .map(|t| match t.split_once('|') {
                        Some((sys, code)) => (Some(sys.to_owned()), (!code.is_empty()).then(|| code.to_owned())),
                        None => (None, Some(t.to_owned())),
                    })
                    .collect();
                s.code.push(tokens);
            }
            "status" if known => {
                if s.status.len() >= MAX_REPEATS || value.split(',').count() > MAX_TOKENS {
                    return Err(bad("status", &format!("at most {MAX_REPEATS} times, each with at most {MAX_TOKENS} codes")));
                }
                s.status.push(value.split(',').map(str::to_owned).collect());
            }
            "url" if known => {
                once(&mut seen, "url")?;
                s.url = Some(value.clone());
            }
            "version" if known => {
                once(&mut seen, "version")?;
                s.version = Some(value.clone());
            }
            // How the answer is written, not what it holds.
            "_format" | "_pretty" => continue,
            _ if strict => return Err(bad(name, &format!("is not supported for {rtype} (Prefer: handling=strict)"))),
            _ => continue,
        }
        s.used.push((name.clone(), value.clone()));
    }
    Ok(s)
}

fn date_param(name: &str, value: &str) -> StoreResult<DateParam> {
    let (prefix, rest) = match value.get(..2) {
        Some("eq") => (Prefix::Eq, &value[2..]),
        Some("ne") => (Prefix::Ne, &value[2..]),
        Some("gt") => (Prefix::Gt, &value[2..]),
        Some("lt") => (Prefix::Lt, &value[2..]),
        Some("ge") => (Prefix::Ge, &value[2..]),
        Some("le") => (Prefix::Le, &value[2..]),
        Some("sa") => (Prefix::Sa, &value[2..]),
        Some("eb") => (Prefix::Eb, &value[2..]),
        Some("ap") => (Prefix::Ap, &value[2..]),
        _ => (Prefix::Eq, value),
    };
    let (start, end) = range(rest).ok_or_else(|| bad(name, "must be a FHIR date or dateTime, with an optional prefix such as ge"))?;
    Ok(DateParam { prefix, start, end })
}

/// The range a date, dateTime or instant stands for: a year, a month, a day, or the instant
/// to its given precision.
fn range(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let day = |y: i32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y, m, d).map(|d| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")))
    };
    match text.len() {
        4 => {
            let y: i32 = text.parse().ok()?;
            Some((day(y, 1, 1)?, day(y + 1, 1, 1)?))
        }
        7 => {
            let y: i32 = text.get(..4)?.parse().ok()?;
            let m: u32 = text.get(5..7)?.parse().ok()?;
            (text.as_bytes()[4] == b'-').then_some(())?;
            let next = if m == 12 { day(y + 1, 1, 1)? } else { day(y, m + 1, 1)? };
            Some((day(y, m, 1)?, next))
        }
        10 => {
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            let start = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?);
            Some((start, start + Duration::days(1)))
        }
        _ => {
            let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
            let precision = if text.contains('.') { Duration::milliseconds(1) } else { Duration::seconds(1) };
            Some((t, t + precision))
        }
    }
}

fn matches(p: &DateParam, (start, end): (DateTime<Utc>, DateTime<Utc>)) -> bool {
    match p.prefix {
        Prefix::Eq => start >= p.start && end <= p.end,
        Prefix::Ne => !(start >= p.start && end <= p.end),
        Prefix::Gt => end > p.end,
        Prefix::Lt => start < p.start,
        Prefix::Ge => end > p.start,
        Prefix::Le => start < p.end,
        Prefix::Sa => start >= p.end,
        Prefix::Eb => end <= p.start,
        Prefix::Ap => start < p.end && end > p.start,
    }
}

/// The clinical date of a resource, as its type's `date` parameter means it.
fn clinical_date(body: &Value) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let period = |p: &Value| {
        let start = p.get("start").and_then(Value::as_str).and_then(range).map(|r| r.0);
        let end = p.get("end").and_then(Value::as_str).and_then(range).map(|r| r.1);
        match (start, end) {
            (None, None) => None,
            (s, e) => Some((s.unwrap_or(DateTime::<Utc>::MIN_UTC), e.unwrap_or(DateTime::<Utc>::MAX_UTC))),
        }
    };
    match body.get("resourceType").and_then(Value::as_str)? {
        "Observation" => {
            text("effectiveDateTime").or(text("effectiveInstant")).and_then(range).or_else(|| body.get("effectivePeriod").and_then(period))
        }
        "Appointment" => text("start").and_then(range),
        "Flag" => body.get("period").and_then(period),
        "Consent" => text("dateTime").and_then(range),
        "Questionnaire" => text("date").and_then(range),
        _ => None,
    }
}

fn codings(body: &Value) -> impl Iterator<Item = (Option<&str>, Option<&str>)> {
    body.pointer("/code/coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| (c.get("system").and_then(Value::as_str), c.get("code").and_then(Value::as_str)))
}

fn token_matches((system, code): &(Option<String>, Option<String>), (s, c): (Option<&str>, Option<&str>)) -> bool {
    let system_ok = match system.as_deref() {
        None => true,
        // `|code`: a code with no system.
        Some("") => s.is_none(),
        Some(want) => s == Some(want),
    };
    system_ok && code.as_deref().is_none_or(|want| c == Some(want))
}

impl Search {
    fn keeps(&self, s: &Stored) -> bool {
        let updated = range(&s.last_updated);
        if !self.last_updated.iter().all(|p| updated.is_some_and(|u| matches(p, u))) {
            return false;
        }
        if !self.date.is_empty() {
            let Some(d) = clinical_date(&s.body) else { return false };
            if !self.date.iter().all(|p| matches(p, d)) {
                return false;
            }
        }
        if !self.code.iter().all(|any| any.iter().any(|t| codings(&s.body).any(|c| token_matches(t, c)))) {
            return false;
        }
        let status = s.body.get("status").and_then(Value::as_str).unwrap_or_default();
        if !self.status.iter().all(|any| any.iter().any(|v| v == status)) {
            return false;
        }
        if self.url.as_ref().is_some_and(|u| s.body.get("url").and_then(Value::as_str) != Some(u.as_str())) {
            return false;
        }
        if self.version.as_ref().is_some_and(|v| s.body.get("version").and_then(Value::as_str) != Some(v.as_str())) {
            return false;
        }
        true
    }

    /// Whether this is a search of the clinic's triage worklist (`code=triage`), which staff may
    /// make across every patient.
    pub fn is_triage(&self) -> bool {
        self.code.iter().any(|any| any.iter().any(|(_, c)| c.as_deref() == Some(crate::db::triage::TRIAGE)))
    }

    /// The matches (newest change first unless sorted otherwise): the total, and the page asked for.
    pub fn apply(&self, rows: Vec<Stored>) -> (i64, Vec<Stored>) {
        let mut kept: Vec<Stored> = rows.into_iter().filter(|s| self.keeps(s)).collect();
        if !self.sort.is_empty() {
            // Each resource's sort keys, worked out once.
            let mut keyed: Vec<(Vec<Option<String>>, Stored)> = kept
                .into_iter()
                .map(|s| {
                    let keys = self
                        .sort
                        .iter()
                        .map(|(k, _)| match k {
                            SortKey::Date => clinical_date(&s.body).map(|r| r.0.to_rfc3339()),
                            SortKey::LastUpdated => Some(s.last_updated.clone()),
                            SortKey::Priority => Some(
                                match s.body.get("priority").and_then(Value::as_str) {
                                    Some("stat") => "0",
                                    Some("asap") => "1",
                                    Some("urgent") => "2",
                                    _ => "3",
                                }
                                .to_owned(),
                            ),
                            SortKey::Period => {
                                s.body.pointer("/restriction/period/end").and_then(Value::as_str).and_then(range).map(|r| r.0.to_rfc3339())
                            }
                        })
                        .collect();
                    (keys, s)
                })
                .collect();
            keyed.sort_by(|(a, _), (b, _)| {
                for (i, (_, desc)) in self.sort.iter().enumerate() {
                    let o = a[i].cmp(&b[i]);
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            kept = keyed.into_iter().map(|(_, s)| s).collect();
        }
        let total = kept.len() as i64;
        if self.summary_count {
            return (total, Vec::new());
        }
        let count = self.count.unwrap_or(50) as usize;
        (total, kept.into_iter().skip(self.offset as usize).take(count).collect())
    }

    pub fn page_size(&self) -> i64 {
        if self.summary_count {
            0
        } else {
            self.count.unwrap_or(50)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(q: &str) -> Vec<(String, String)> {
        q.split('&').filter_map(|p| p.split_once('=')).map(|(a, b)| (a.to_owned(), b.to_owned())).collect()
    }

    fn obs(id: &str, at: &str, code: &str, updated: &str) -> Stored {
        Stored {
            version: 1,
            last_updated: updated.into(),
            patient_id: "p".into(),
            body: json!({"resourceType": "Observation", "id": id, "effectiveDateTime": at,
                         "code": {"coding": [{"system": "http://loinc.org", "code": code}]}}),
        }
    }

    fn ids(s: &Search, rows: Vec<Stored>) -> Vec<String> {
        s.apply(rows).1.iter().map(|r| r.body["id"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn dates_codes_and_sorting() {
        let rows = || {
            vec![
                obs("a", "2026-11-01T10:00:00Z", "8310-5", "2026-12-01T10:00:00.000Z"),
                obs("b", "2026-11-15T10:00:00Z", "x", "2026-12-01T09:00:00.000Z"),
                obs("c", "2026-12-02T10:00:00Z", "8310-5", "2026-12-01T11:00:00.000Z"),
            ]
        };
        let s = parse("Observation", &pairs("date=ge2026-11-10&date=lt2026-12"), false).unwrap();
        assert_eq!(ids(&s, rows()), ["b"]);
        let s = parse("Observation", &pairs("code=http://loinc.org|8310-5&_sort=-date"), false).unwrap();
        assert_eq!(ids(&s, rows()), ["c", "a"]);
        let s = parse("Observation", &pairs("code=8310-5,x&_sort=_lastUpdated"), false).unwrap();
        assert_eq!(ids(&s, rows()), ["b", "a", "c"]);
        let s = parse("Observation", &pairs("_lastUpdated=gt2026-12-01T10:00:00Z"), false).unwrap();
        assert_eq!(ids(&s, rows()), ["c"]);
        let s = parse("Observation", &pairs("date=2026-11"), false).unwrap();
        assert_eq!(ids(&s, rows()), ["a", "b"]);
        let s = parse("Observation", &pairs("_count=0"), false).unwrap();
        let (total, page) = s.apply(rows());
        assert_eq!((total, page.len()), (3, 0));
        let s = parse("Observation", &pairs("_summary=count"), false).unwrap();
        assert_eq!(s.apply(rows()).0, 3);
    }

    #[test]
    fn repeated_unknown_and_unreadable_parameters() {
        assert_eq!(parse("Observation", &pairs("_count=1&_count=2"), false).unwrap_err().http().status, 400);
        assert_eq!(parse("Observation", &pairs("_offset=99999999999999999999"), false).unwrap_err().http().status, 400);
        assert_eq!(parse("Observation", &pairs("_count=-1"), false).unwrap_err().http().status, 400);
        assert_eq!(parse("Observation", &pairs("date=soon"), false).unwrap_err().http().status, 400);
        assert_eq!(parse("Observation", &pairs("_sort=status"), false).unwrap_err().http().status, 400);
        let lenient = parse("Observation", &pairs("status=final&_count=5"), false).unwrap();
        assert_eq!(lenient.used, vec![("_count".to_owned(), "5".to_owned())], "an unknown parameter is left out of the self link");
        assert_eq!(parse("Observation", &pairs("status=final"), true).unwrap_err().http().status, 400);
        assert_eq!(parse("Communication", &pairs("date=2026"), true).unwrap_err().http().status, 400, "Communication has no date here");
        assert_eq!(parse("Observation", &pairs("_count=100000"), false).unwrap().count, Some(MAX_PAGE));
    }
}
