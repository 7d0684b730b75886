//! Safety advice: a versioned ruleset (data, shipped in `assets/rules/`, later sent by the clinic)
//! and the engine that evaluates it when something is saved. Works with no network.
//!
//! Levels, most urgent first: `emergency` (call 113), `crisis` (mental-health crisis numbers),
//! `call_now` (call the cancer ward now), `contact_24h` (contact the ward within 24 hours),
//! `contact_team` (tell the care team), `recheck` (measure again in an hour). As in the UKONS
//! 24-hour triage tool, two or more `contact_24h` within the window make a `call_now`.
//! Advice never claims the clinic has been told; that needs the server's receipt (later).

use crate::domain::{EntryData, SymptomCode};
use crate::error::{Error, Result};
use crate::instruments::{Score, Scoring, ESAS_ITEMS};
use serde::{Deserialize, Serialize};

/// The default ruleset, from the clinical guide.
pub const DEFAULT_RULESET: &str = include_str!("../../../assets/rules/default.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    // Declared least urgent first so that `Ord` puts the most urgent last (`max`).
    Recheck,
    ContactTeam,
    #[serde(rename = "contact_24h")]
    Contact24h,
    CallNow,
    Crisis,
    Emergency,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Recheck => "recheck",
            Level::ContactTeam => "contact_team",
            Level::Contact24h => "contact_24h",
            Level::CallNow => "call_now",
            Level::Crisis => "crisis",
            Level::Emergency => "emergency",
        }
    }

    pub fn parse(raw: &str) -> Option<Level> {
        [Level::Recheck, Level::ContactTeam, Level::Contact24h, Level::CallNow, Level::Crisis, Level::Emergency]
            .into_iter()
            .find(|l| l.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contacts {
    pub emergency: String,
    pub out_of_hours: String,
    pub helpline: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureRules {
    pub call_at_or_above: f64,
    pub recheck_from: f64,
    pub low_below: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymptomRule {
    pub id: String,
    /// A symptom code, or `*` for any.
    pub symptom: String,
    #[serde(default)]
    pub flag: Option<String>,
    #[serde(default)]
    pub min_severity: Option<u8>,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregation {
    pub window_hours: i64,
    pub contact_24h_for_call_now: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentRules {
    pub phq9_item9_crisis_from: u32,
    pub phq9_contact_team_from: u32,
    pub gad7_contact_team_from: u32,
    pub esas_item_contact_team_from: u32,
    pub esas_mood_contact_team_from: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// One piece of advice raised by a rule: which rule of which ruleset, and how urgent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raised {
    pub rule: String,
    pub level: Level,
}

impl Ruleset {
    /// Reads and checks a ruleset. Thresholds must make sense; symptoms must be known ones.
    pub fn load(json: &str) -> Result<Ruleset> {
        let r: Ruleset = serde_json::from_str(json).map_err(|_| Error::Internal("the ruleset cannot be read"))?;
        let t = &r.temperature;
        if !(t.low_below < t.recheck_from && t.recheck_from <= t.call_at_or_above) {
            return Err(Error::Internal("the ruleset's temperature thresholds are out of order"));
        }
        for s in &r.symptoms {
            if s.symptom != "*" && SymptomCode::parse(&s.symptom).is_err() {
                return Err(Error::Internal("the ruleset names an unknown symptom"));
            }
            if let Some(flag) = &s.flag {
                let code = SymptomCode::parse(&s.symptom).map_err(|_| Error::Internal("a flag needs a symptom"))?;
                if !code.flags().contains(&flag.as_str()) {
                    return Err(Error::Internal("the ruleset names an unknown symptom flag"));
                }
            }
        }
        Ok(r)
    }

    pub fn default_rules() -> Ruleset {
        Ruleset::load(DEFAULT_RULESET).expect("the shipped ruleset is valid")
    }

    /// The advice a new record raises on its own (aggregation over time is the store's job).
    pub fn evaluate(&self, data: &EntryData) -> Vec<Raised> {
        let mut out = Vec::new();
        let mut raise = |rule: &str, level| out.push(Raised { rule: rule.to_owned(), level });
        match data {
            EntryData::Temperature { celsius, feels_unwell, .. } => {
                let t = &self.temperature;
                if *celsius >= t.call_at_or_above {
                    raise("fever", Level::CallNow);
                } else if *celsius >= t.recheck_from {
                    raise("temperature-recheck", Level::Recheck);
                } else if *celsius < t.low_below && *feels_unwell {
                    raise("low-temperature-unwell", Level::CallNow);
                }
            }
            EntryData::Symptom { symptom, severity, flags, .. } => {
                // The most urgent matching rule only: one card per entry.
                let best = self
                    .symptoms
                    .iter()
                    .filter(|r| r.symptom == "*" || r.symptom == symptom.code())
                    .filter(|r| r.flag.as_ref().is_none_or(|f| flags.contains(f)))
                    .filter(|r| r.min_severity.is_none_or(|m| *severity >= m))
                    .max_by_key(|r| r.level);
                if let Some(r) = best {
                    raise(&r.id, r.level);
                }
            }
            EntryData::Assessment { score, scoring, .. } => self.evaluate_score(*scoring, score, &mut raise),
            EntryData::Checkin { .. } | EntryData::Question { .. } => {}
        }
        out
    }

    fn evaluate_score(&self, scoring: Scoring, score: &Score, raise: &mut impl FnMut(&str, Level)) {
        let r = &self.instruments;
        match scoring {
            Scoring::Phq9 => {
                // Item 9 raises the crisis card whatever the total, even when other items are missing.
                if score.item("phq9-9").is_some_and(|v| v >= r.phq9_item9_crisis_from) {
                    raise("phq9-item9", Level::Crisis);
                }
                if score.total.is_some_and(|t| t >= r.phq9_contact_team_from) {
                    raise("phq9-total", Level::ContactTeam);
                }
            }
            Scoring::Gad7 => {
                if score.total.is_some_and(|t| t >= r.gad7_contact_team_from) {
                    raise("gad7-total", Level::ContactTeam);
                }
            }
            Scoring::EsasR => {
                let any_severe = ESAS_ITEMS
                    .iter()
                    .any(|c| score.item(&format!("esas-{c}")).is_some_and(|v| v >= r.esas_item_contact_team_from));
                if any_severe {
                    raise("esas-item-severe", Level::ContactTeam);
                }
                let mood = ["esas-depression", "esas-anxiety"]
                    .iter()
                    .any(|l| score.item(l).is_some_and(|v| v >= r.esas_mood_contact_team_from));
                if mood {
                    raise("esas-mood", Level::ContactTeam);
                }
            }
            Scoring::Phq2 | Scoring::Gad2 => {}
        }
    }

    /// UKONS-style aggregation: with `recent` contact-within-24-hours advice already raised in the
    /// window, do the new ones make a call-now?
    pub fn aggregate(&self, recent_contact_24h: usize, new: &[Raised]) -> Option<Raised> {
        let new_ambers = new.iter().filter(|r| r.level == Level::Contact24h).count();
        let already_urgent = new.iter().any(|r| r.level >= Level::CallNow);
        (new_ambers > 0 && !already_urgent && recent_contact_24h + new_ambers >= self.aggregation.contact_24h_for_call_now)
            .then(|| Raised { rule: "two-or-more-contact-24h".into(), level: Level::CallNow })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments;

    fn temp(celsius: f64, feels_unwell: bool) -> EntryData {
        EntryData::Temperature { celsius, note: None, feels_unwell }
    }

    fn symptom(code: &str, severity: u8, flags: &[&str]) -> EntryData {
        EntryData::Symptom {
            symptom: SymptomCode::parse(code).unwrap(),
            other_name: None,
            severity,
            note: None,
            flags: flags.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn levels(data: &EntryData) -> Vec<(String, Level)> {
        Ruleset::default_rules().evaluate(data).into_iter().map(|r| (r.rule, r.level)).collect()
    }

    fn assessment(id: &str, values: &[i64]) -> EntryData {
        let i = instruments::get(id).unwrap();
        let answers = i.answers_from_values(values).unwrap();
        EntryData::Assessment {
            instrument: id.into(),
            scoring: i.scoring,
            questionnaire: i.questionnaire.canonical(),
            score: i.score(&answers),
            answers,
        }
    }

    #[test]
    fn temperature_edges() {
        assert_eq!(levels(&temp(38.0, false)), [("fever".into(), Level::CallNow)]);
        assert_eq!(levels(&temp(37.99, false)), [("temperature-recheck".into(), Level::Recheck)]);
        assert_eq!(levels(&temp(37.5, false)), [("temperature-recheck".into(), Level::Recheck)]);
        assert!(levels(&temp(37.4, true)).is_empty());
        assert!(levels(&temp(36.0, true)).is_empty());
        assert_eq!(levels(&temp(35.9, true)), [("low-temperature-unwell".into(), Level::CallNow)]);
        assert!(levels(&temp(35.9, false)).is_empty());
    }

    #[test]
    fn call_now_symptoms_from_the_guide() {
        assert_eq!(levels(&symptom("chest-pain", 1, &[])), [("chest-pain".into(), Level::Emergency)]);
        assert_eq!(levels(&symptom("vomiting", 3, &["cannot-keep-fluids"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("diarrhoea", 2, &["blood"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("diarrhoea", 7, &[]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("shortness-of-breath", 5, &["at-rest"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("sore-mouth", 5, &["cannot-eat-or-drink"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("bleeding", 2, &["heavy"]))[0].1, Level::Emergency);
        assert_eq!(levels(&symptom("pain", 7, &[]))[0].1, Level::Contact24h);
        assert_eq!(levels(&symptom("pain", 6, &[])), []);
        assert_eq!(levels(&symptom("vomiting", 4, &[]))[0].1, Level::Contact24h);
        assert_eq!(levels(&symptom("nausea", 3, &[])), []);
    }

    #[test]
    fn phq9_item9_raises_the_crisis_card_whatever_the_total() {
        let l = levels(&assessment("phq9", &[0, 0, 0, 0, 0, 0, 0, 0, 1]));
        assert_eq!(l, [("phq9-item9".into(), Level::Crisis)]);
        let l = levels(&assessment("phq9", &[3, 3, 3, 3, 0, 0, 0, 0, 0]));
        assert_eq!(l, [("phq9-total".into(), Level::ContactTeam)]);
        assert!(levels(&assessment("phq9", &[1, 1, 1, 1, 1, 1, 1, 2, 0])).is_empty(), "9 is below the cut-off");
    }

    #[test]
    fn esas_severe_items_and_mood() {
        assert_eq!(levels(&assessment("esas-r", &[7, 0, 0, 0, 0, 0, 0, 0, 0])), [("esas-item-severe".into(), Level::ContactTeam)]);
        assert_eq!(levels(&assessment("esas-r", &[6, 6, 6, 6, 6, 6, 3, 3, 6])), []);
        assert_eq!(levels(&assessment("esas-r", &[0, 0, 0, 0, 0, 0, 0, 4, 0])), [("esas-mood".into(), Level::ContactTeam)]);
        assert_eq!(levels(&assessment("gad7", &[2, 2, 2, 2, 2, 0, 0])), [("gad7-total".into(), Level::ContactTeam)]);
    }

    #[test]
    fn two_ambers_in_the_window_make_a_call_now() {
        let r = Ruleset::default_rules();
        let amber = [Raised { rule: "any-severe".into(), level: Level::Contact24h }];
        assert_eq!(r.aggregate(0, &amber), None);
        assert_eq!(r.aggregate(1, &amber).unwrap().level, Level::CallNow);
        assert_eq!(r.aggregate(3, &[]), None, "nothing new, nothing raised");
    }

    #[test]
    fn broken_rulesets_are_refused() {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULESET).unwrap();
        v["temperature"]["recheck_from"] = 38.5.into();
        assert!(Ruleset::load(&v.to_string()).is_err());
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_RULESET).unwrap();
        v["symptoms"][0]["symptom"] = "headache-ish".into();
        assert!(Ruleset::load(&v.to_string()).is_err());
    }
}
