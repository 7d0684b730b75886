//! Safety advice: a versioned ruleset (data, shipped in `assets/rules/`, later sent by the clinic)
//! and the engine ([`engine`]) that evaluates it when something is saved. Works with no network.
//!
//! Levels, most urgent first: `emergency` (call 113), `crisis` (mental-health crisis numbers),
//! `call_now` (call the cancer ward now), `contact_24h` (contact the ward within 24 hours),
//! `contact_team` (tell the care team), `recheck` (measure again in an hour). As in the UKONS
//! 24-hour triage tool, two or more `contact_24h` about different problems within the window
//! make a `call_now`. Advice never claims the clinic has been told; that needs the server's
//! receipt.
//!
//! What is data and what is not: thresholds, symptom rules (which may be limited to a treatment),
//! the aggregation window and the numbers to call are the ruleset's. Feeling unwell is a reason
//! to call now at any temperature, and PHQ-9 item 9's crisis threshold is 1: neither is a setting,
//! and a ruleset that moves the threshold is refused when it is loaded.

pub mod engine;
pub mod signed;

use crate::domain::SymptomCode;
use crate::treatment::Treatment;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use engine::{problem_key, Context, Raised};

/// The default ruleset, from the clinical guide.
pub const DEFAULT_RULESET: &str = include_str!("../../../../assets/rules/default.json");

/// PHQ-9 item 9 ("thoughts that you would be better off dead or of hurting yourself") at this
/// answer or more shows the crisis card, whatever the total. Fixed: not a clinic setting.
pub const PHQ9_ITEM9_CRISIS_FROM: u32 = 1;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    // Declared least urgent first so that `Ord` puts the most urgent last (`max`).
    Recheck,
    ContactTeam,
    #[serde(rename = "contact_24h")]
    #[strum(serialize = "contact_24h")]
    Contact24h,
    CallNow,
    Crisis,
    Emergency,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Level> {
        raw.parse().ok()
    }
}

/// The numbers on the cards. The cancer ward's own number is the patient's setting (later the
/// clinic's plan); these are the national ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    pub emergency: String,
    pub out_of_hours: String,
    pub helpline: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct TemperatureRules {
    /// Fever: call now at this temperature or more, however the person feels.
    pub call_at_or_above: f64,
    /// From here up to the fever threshold, feeling well: measure again.
    pub recheck_from: f64,
    /// Below this, feeling unwell is named as a low temperature (feeling unwell is a reason to
    /// call at any temperature).
    pub low_below: f64,
    /// When the reminder to measure again falls due.
    #[serde(default = "default_recheck_minutes")]
    pub recheck_after_minutes: i64,
}

fn default_recheck_minutes() -> i64 {
    60
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymptomRule {
    pub id: String,
    /// A symptom code, or `*` for any.
    pub symptom: String,
    #[serde(default)]
    pub flag: Option<String>,
    #[serde(default)]
    pub min_severity: Option<u8>,
    /// Applies only while the patient is on this treatment.
    #[serde(default)]
    pub treatment: Option<Treatment>,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregation {
    pub window_hours: i64,
    /// How many different problems with `contact_24h` advice in the window make a `call_now`.
    pub contact_24h_for_call_now: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentRules {
    /// Must be [`PHQ9_ITEM9_CRISIS_FROM`]; kept in the file so a reviewer sees it.
    pub phq9_item9_crisis_from: u32,
    pub phq9_contact_team_from: u32,
    pub gad7_contact_team_from: u32,
    /// An ESAS-r item (the "other problem" too) at this or more is a `contact_24h`, exactly like
    /// a symptom at 7 or more.
    pub esas_item_contact_24h_from: u32,
    pub esas_mood_contact_team_from: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ruleset {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub source: Option<String>,
    pub contacts: Contacts,
    pub temperature: TemperatureRules,
    pub symptoms: Vec<SymptomRule>,
    pub aggregation: Aggregation,
    pub instruments: InstrumentRules,
}

/// Why a ruleset was refused: the element at fault (`instruments.phq9_item9_crisis_from`,
/// `symptoms[3].flag`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesetError {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RulesetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "the ruleset is refused: {}", self.reason)
        } else {
            write!(f, "the ruleset is refused: {} {}", self.field, self.reason)
        }
    }
}

/// The highest fever threshold a clinic may set: a fever rule must exist and mean a fever.
pub const FEVER_FLOOR: f64 = 38.5;
/// Norway's medical emergency number: no ruleset changes it.
pub const EMERGENCY: &str = "113";

pub(crate) fn refused(field: impl Into<String>, reason: impl Into<String>) -> RulesetError {
    RulesetError { field: field.into(), reason: reason.into() }
}

impl Ruleset {
    /// Reads and checks a ruleset: thresholds in order and in range, known symptoms and details,
    /// unique rule ids, numbers to call, and PHQ-9 item 9's crisis threshold at exactly 1.
    pub fn load(json: &str) -> Result<Ruleset, RulesetError> {
        let r: Ruleset = serde_json::from_str(json).map_err(|e| refused("", format!("it cannot be read ({e})")))?;
        r.check()?;
        Ok(r)
    }

    fn check(&self) -> Result<(), RulesetError> {
        if self.id.trim().is_empty() || self.version.trim().is_empty() {
            return Err(refused("id", "and version must be given"));
        }
        for (name, n) in
            [("emergency", &self.contacts.emergency), ("out_of_hours", &self.contacts.out_of_hours), ("helpline", &self.contacts.helpline)]
        {
            let digits = n.chars().filter(char::is_ascii_digit).count();
            if digits < 3 || !n.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
                return Err(refused(format!("contacts.{name}"), "must be a phone number"));
            }
        }
        let t = &self.temperature;
        let sane = |c: f64| c.is_finite() && (crate::domain::MIN_CELSIUS..=crate::domain::MAX_CELSIUS).contains(&c);
        if !(sane(t.low_below) && sane(t.recheck_from) && sane(t.call_at_or_above)) {
            return Err(refused("temperature", "thresholds must be temperatures the diary accepts"));
        }
        if !(t.low_below < t.recheck_from && t.recheck_from <= t.call_at_or_above) {
            return Err(refused("temperature", "thresholds are out of order (low_below < recheck_from <= call_at_or_above)"));
        }
        if !(5..=240).contains(&t.recheck_after_minutes) {
            return Err(refused("temperature.recheck_after_minutes", "must be between 5 and 240"));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, s) in self.symptoms.iter().enumerate() {
            let at = |what: &str| format!("symptoms[{i}].{what}");
            if !ids.insert(s.id.as_str()) || s.id.trim().is_empty() || engine::RESERVED_RULES.contains(&s.id.as_str()) {
                return Err(refused(at("id"), "must be given, unique and not one of the engine's own rule ids"));
            }
            let code = if s.symptom == "*" {
                None
            } else {
                Some(SymptomCode::parse(&s.symptom).map_err(|_| refused(at("symptom"), "is not a known symptom"))?)
            };
            if let Some(flag) = &s.flag {
                let code = code.ok_or_else(|| refused(at("flag"), "needs a symptom"))?;
                if !code.flags().contains(&flag.as_str()) {
                    return Err(refused(at("flag"), "is not a detail of that symptom"));
                }
            }
            if s.min_severity.is_some_and(|m| m > 10) {
                return Err(refused(at("min_severity"), "must be between 0 and 10"));
            }
        }
        let a = &self.aggregation;
        if !(1..=168).contains(&a.window_hours) || a.contact_24h_for_call_now < 2 {
            return Err(refused("aggregation", "needs a window of 1 to 168 hours and at least 2 problems"));
        }
        self.check_floors()?;
        let i = &self.instruments;
        if i.phq9_item9_crisis_from != PHQ9_ITEM9_CRISIS_FROM {
            return Err(refused(
                "instruments.phq9_item9_crisis_from",
                "is fixed at 1: PHQ-9 item 9 answered 'Several days' or more always shows the crisis card",
            ));
        }
        let checks = [
            ("phq9_contact_team_from", i.phq9_contact_team_from, 27),
            ("gad7_contact_team_from", i.gad7_contact_team_from, 21),
            ("esas_item_contact_24h_from", i.esas_item_contact_24h_from, 10),
            ("esas_mood_contact_team_from", i.esas_mood_contact_team_from, 10),
        ];
        for (name, v, max) in checks {
            if !(1..=max).contains(&v) {
                return Err(refused(format!("instruments.{name}"), format!("must be between 1 and {max}")));
            }
        }
        Ok(())
    }

    /// The floors a clinic's ruleset may not go below: a fever rule that means a fever (at
    /// most [`FEVER_FLOOR`]), a version made of numbers (so a newer one can be told), and every
    /// emergency rule of the shipped defaults kept at emergency (the same symptom and detail).
    /// PHQ-9 item 9's threshold is checked with the instruments.
    fn check_floors(&self) -> Result<(), RulesetError> {
        if self.temperature.call_at_or_above > FEVER_FLOOR {
            return Err(refused("temperature.call_at_or_above", format!("must be at most {FEVER_FLOOR}: a fever rule must exist")));
        }
        if self.contacts.emergency.replace(' ', "") != EMERGENCY {
            return Err(refused("contacts.emergency", format!("must be {EMERGENCY}, Norway's emergency number")));
        }
        if signed::compare_versions(&self.version, &self.version).is_none() {
            return Err(refused("version", "must be numbers separated by dots (3.1.0)"));
        }
        let shipped: Ruleset = serde_json::from_str(DEFAULT_RULESET).map_err(|_| refused("", "the shipped rules cannot be read"))?;
        for rule in shipped.symptoms.iter().filter(|r| r.level == Level::Emergency) {
            let kept = self.symptoms.iter().any(|r| {
                r.symptom == rule.symptom
                    && r.flag == rule.flag
                    && r.level == Level::Emergency
                    && r.treatment.is_none()
                    && r.min_severity.is_none_or(|m| m <= 1)
            });
            if !kept {
                return Err(refused(
                    "symptoms",
                    format!(
                        "must keep the emergency rule for {}{} at emergency: emergency rules cannot be turned off",
                        rule.symptom,
                        rule.flag.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn default_rules() -> Ruleset {
        Ruleset::load(DEFAULT_RULESET).expect("the shipped ruleset is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Ruleset, RulesetError> {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULESET).unwrap();
        edit(&mut v);
        Ruleset::load(&v.to_string())
    }

    #[test]
    fn the_shipped_ruleset_loads() {
        let r = Ruleset::default_rules();
        assert_eq!((r.id.as_str(), r.version.as_str()), ("companion-default", "2.0.0"));
        assert_eq!(r.contacts.emergency, "113");
    }

    #[test]
    fn phq9_item9_threshold_is_fixed_at_one() {
        for moved in [0, 2, 3] {
            let e = with(|v| v["instruments"]["phq9_item9_crisis_from"] = moved.into()).unwrap_err();
            assert_eq!(e.field, "instruments.phq9_item9_crisis_from");
            assert!(e.to_string().contains("fixed at 1"), "{e}");
        }
        let e = with(|v| {
            v["instruments"].as_object_mut().unwrap().remove("phq9_item9_crisis_from");
        })
        .unwrap_err();
        assert!(e.to_string().contains("phq9_item9_crisis_from"), "{e}");
    }

    #[test]
    fn broken_rulesets_are_refused_naming_the_element() {
        let field = |r: Result<Ruleset, RulesetError>| r.unwrap_err().field;
        assert_eq!(field(with(|v| v["temperature"]["recheck_from"] = 38.5.into())), "temperature");
        assert_eq!(field(with(|v| v["temperature"]["call_at_or_above"] = 50.0.into())), "temperature");
        assert_eq!(field(with(|v| v["temperature"]["recheck_after_minutes"] = 0.into())), "temperature.recheck_after_minutes");
        assert_eq!(field(with(|v| v["symptoms"][0]["symptom"] = "headache-ish".into())), "symptoms[0].symptom");
        assert_eq!(field(with(|v| v["symptoms"][0]["flag"] = "blood".into())), "symptoms[0].flag");
        assert_eq!(field(with(|v| v["symptoms"][1]["id"] = "chest-pain".into())), "symptoms[1].id");
        assert_eq!(field(with(|v| v["symptoms"][0]["id"] = "two-or-more-contact-24h".into())), "symptoms[0].id");
        assert_eq!(field(with(|v| v["symptoms"][0]["min_severity"] = 11.into())), "symptoms[0].min_severity");
        assert_eq!(field(with(|v| v["contacts"]["helpline"] = "call us".into())), "contacts.helpline");
        assert_eq!(field(with(|v| v["aggregation"]["contact_24h_for_call_now"] = 1.into())), "aggregation");
        assert_eq!(field(with(|v| v["instruments"]["esas_item_contact_24h_from"] = 11.into())), "instruments.esas_item_contact_24h_from");
        assert_eq!(field(with(|v| v["symptoms"][0]["treatment"] = "surgery".into())), "");
        assert!(with(|v| v["temperature"]["colour"] = "red".into()).is_err(), "unknown elements are refused");
    }

    #[test]
    fn a_clinic_cannot_go_below_the_floors() {
        let e = with(|v| v["temperature"]["call_at_or_above"] = 39.0.into()).unwrap_err();
        assert_eq!(e.field, "temperature.call_at_or_above");
        let e = with(|v| v["symptoms"].as_array_mut().unwrap().retain(|r| r["id"] != "collapse")).unwrap_err();
        assert!(e.to_string().contains("collapse"), "{e}");
        let e = with(|v| v["symptoms"][0]["level"] = "call_now".into()).unwrap_err();
        assert!(e.to_string().contains("chest-pain"), "{e}");
        let e = with(|v| v["symptoms"][0]["treatment"] = "immunotherapy".into()).unwrap_err();
        assert_eq!(e.field, "symptoms");
        assert_eq!(with(|v| v["version"] = "3.0-beta".into()).unwrap_err().field, "version");
        assert_eq!(with(|v| v["contacts"]["emergency"] = "22 11 80 80".into()).unwrap_err().field, "contacts.emergency");
        // Stricter is allowed: a lower fever threshold, a renamed emergency rule.
        assert!(with(|v| {
            v["temperature"]["call_at_or_above"] = 37.8.into();
            v["temperature"]["recheck_from"] = 37.5.into();
            v["symptoms"][0]["id"] = "brystsmerter".into();
        })
        .is_ok());
    }
}
