//! The rule engine: what one saved record raises, and the UKONS-style aggregation of ambers over
//! time. It knows nothing of storage; the store passes it the treatments and the problems that
//! already had `contact_24h` advice in the window.

use super::{Level, Ruleset, PHQ9_ITEM9_CRISIS_FROM};
use crate::domain::{EntryData, SymptomCode};
use crate::instruments::{AnswerValue, ItemAnswer, Score, Scoring, ESAS_ITEMS};
use crate::treatment::Treatment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Rule ids the engine raises itself; a ruleset's symptom rules may not use them.
pub const RESERVED_RULES: &[&str] = &[
    "fever",
    "temperature-unwell",
    "low-temperature-unwell",
    "temperature-recheck",
    "low-temperature-recheck",
    "phq9-item9",
    "phq9-total",
    "gad7-total",
    "esas-item-severe",
    "esas-mood",
    "two-or-more-contact-24h",
];

/// What the engine needs to know besides the record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The treatments the patient is on (the patient's setting; later the clinic's plan).
    pub treatments: &'a [Treatment],
}

/// One piece of advice raised by a rule: which rule of the ruleset, how urgent, and which
/// problems it is about (the symptom, or each ESAS-r item at 7 or more), so ambers are counted
/// per distinct problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raised {
    pub rule: String,
    pub level: Level,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl Raised {
    fn new(rule: &str, level: Level, problems: Vec<String>) -> Raised {
        Raised { rule: rule.to_owned(), level, problems }
    }
}

/// The problem a symptom is about, for counting ambers: its code, or for "other" its own name
/// (case and spacing do not matter), so the same symptom logged twice, or by the patient and a
/// carer, is one problem.
pub fn problem_key(symptom: SymptomCode, other_name: Option<&str>) -> String {
    match (symptom, other_name) {
        // An "other" named like a listed symptom ("Constipation" as ESAS-r's other problem) is
        // that symptom.
        (SymptomCode::Other, Some(name)) => match SymptomCode::parse(name) {
            Ok(listed) if listed != SymptomCode::Other => listed.code().to_owned(),
            _ => format!("other:{}", name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()),
        },
        (s, _) => s.code().to_owned(),
    }
}

/// The listed symptom a symptom is: itself, or for "other" the one its name names, if any.
fn listed(symptom: SymptomCode, other_name: Option<&str>) -> SymptomCode {
    match (symptom, other_name.map(SymptomCode::parse)) {
        (SymptomCode::Other, Some(Ok(named))) => named,
        (s, _) => s,
    }
}

/// The listed symptom an ESAS-r item rates, where there is one.
fn esas_symptom(item: &str) -> Option<SymptomCode> {
    match item {
        "pain" => Some(SymptomCode::Pain),
        "tiredness" => Some(SymptomCode::Tiredness),
        "nausea" => Some(SymptomCode::Nausea),
        "appetite" => Some(SymptomCode::PoorAppetite),
        "breath" => Some(SymptomCode::ShortnessOfBreath),
        _ => None,
    }
}

/// The problem an ESAS-r item is about: the symptom list's code where there is one, so ESAS-r
/// pain and a logged pain are one problem.
fn esas_problem(item: &str) -> String {
    esas_symptom(item).map_or_else(|| item.to_owned(), |s| s.code().to_owned())
}

fn integer(answers: &[ItemAnswer], link: &str) -> Option<i64> {
    answers.iter().find(|a| a.link_id == link).and_then(|a| match a.value {
        AnswerValue::Integer { value } => Some(value),
        _ => None,
    })
}

fn string<'a>(answers: &'a [ItemAnswer], link: &str) -> Option<&'a str> {
    answers.iter().find(|a| a.link_id == link).and_then(|a| match &a.value {
        AnswerValue::String { value } => Some(value.as_str()),
        _ => None,
    })
}

impl Ruleset {
    /// The advice a new record raises on its own (aggregation over time is [`Ruleset::aggregate`]).
    pub fn evaluate(&self, data: &EntryData, ctx: &Context) -> Vec<Raised> {
        match data {
            EntryData::Temperature { celsius, feels_unwell, .. } => self.evaluate_temperature(*celsius, *feels_unwell),
            EntryData::Symptom { symptom, other_name, severity, flags, .. } => {
                // "Other" named like a listed symptom ("chills") is that symptom, rules and all.
                let code = listed(*symptom, other_name.as_deref());
                let problem = problem_key(*symptom, other_name.as_deref());
                self.symptom_rule(code, *severity, flags, ctx).map(|r| Raised::new(&r.id, r.level, vec![problem])).into_iter().collect()
            }
            EntryData::Assessment { score, scoring, answers, .. } => self.evaluate_score(*scoring, score, answers, ctx),
            EntryData::Checkin { .. } | EntryData::Question { .. } => Vec::new(),
        }
    }

    /// The most urgent symptom rule that applies (the first in the file among equals): one card
    /// per symptom.
    fn symptom_rule(&self, symptom: SymptomCode, severity: u8, flags: &[String], ctx: &Context) -> Option<&super::SymptomRule> {
        let mut best: Option<&super::SymptomRule> = None;
        for r in &self.symptoms {
            let applies = (r.symptom == "*" || r.symptom == symptom.code())
                && r.flag.as_ref().is_none_or(|f| flags.contains(f))
                && r.min_severity.is_none_or(|m| severity >= m)
                && r.treatment.is_none_or(|t| ctx.treatments.contains(&t));
            if applies && best.is_none_or(|b| r.level > b.level) {
                best = Some(r);
            }
        }
        best
    }

    fn evaluate_temperature(&self, celsius: f64, feels_unwell: bool) -> Vec<Raised> {
        let t = &self.temperature;
        let problems = || vec!["temperature".to_owned()];
        let raised = if celsius >= t.call_at_or_above {
            Raised::new("fever", Level::CallNow, problems())
        } else if feels_unwell && celsius < t.low_below {
            Raised::new("low-temperature-unwell", Level::CallNow, problems())
        } else if feels_unwell {
            // After cancer treatment, feeling unwell is a reason to call at any temperature.
            Raised::new("temperature-unwell", Level::CallNow, problems())
        } else if celsius >= t.recheck_from {
            Raised::new("temperature-recheck", Level::Recheck, problems())
        } else if celsius < t.low_below {
            // Low and feeling well: measure again, as for a slight rise (UKONS and the NHS
            // acute-oncology cards count a low temperature too).
            Raised::new("low-temperature-recheck", Level::Recheck, problems())
        } else {
            return Vec::new();
        };
        vec![raised]
    }

    fn evaluate_score(&self, scoring: Scoring, score: &Score, answers: &[ItemAnswer], ctx: &Context) -> Vec<Raised> {
        let r = &self.instruments;
        let mut out = Vec::new();
        match scoring {
            Scoring::Phq9 => {
                // Item 9 raises the crisis card whatever the total, even when other items are missing.
                if score.item("phq9-9").is_some_and(|v| v >= PHQ9_ITEM9_CRISIS_FROM) {
                    out.push(Raised::new("phq9-item9", Level::Crisis, vec!["phq9-item9".into()]));
                }
                if score.total.is_some_and(|t| t >= r.phq9_contact_team_from) {
                    out.push(Raised::new("phq9-total", Level::ContactTeam, vec!["depression".into()]));
                }
            }
            Scoring::Gad7 => {
                if score.total.is_some_and(|t| t >= r.gad7_contact_team_from) {
                    out.push(Raised::new("gad7-total", Level::ContactTeam, vec!["anxiety".into()]));
                }
            }
            Scoring::EsasR => {
                let from = r.esas_item_contact_24h_from;
                // Each item as the symptom it names where there is one, so the symptom rules
                // apply to it (on immunotherapy, breathlessness at any rating is call now), and
                // at the form's own threshold otherwise; the "other problem" with the name the
                // person gave it.
                let mut items: Vec<(Option<SymptomCode>, String, u32)> = ESAS_ITEMS
                    .iter()
                    .filter_map(|c| score.item(&format!("esas-{c}")).map(|v| (esas_symptom(c), esas_problem(c), v)))
                    .collect();
                if let Some(v) = integer(answers, "esas-other").and_then(|v| u32::try_from(v).ok()) {
                    let name = string(answers, "esas-other-name").unwrap_or("esas-other");
                    let code = listed(SymptomCode::Other, Some(name));
                    items.push(((code != SymptomCode::Other).then_some(code), problem_key(SymptomCode::Other, Some(name)), v));
                }
                let mut severe: BTreeSet<String> = BTreeSet::new();
                for (code, problem, v) in items {
                    let rating = u8::try_from(v).unwrap_or(u8::MAX);
                    match code.and_then(|c| self.symptom_rule(c, rating, &[], ctx)) {
                        Some(rule) if rule.level > Level::Contact24h => out.push(Raised::new(&rule.id, rule.level, vec![problem])),
                        Some(rule) if rule.level == Level::Contact24h => {
                            severe.insert(problem);
                        }
                        _ if v >= from => {
                            severe.insert(problem);
                        }
                        _ => {}
                    }
                }
                if !severe.is_empty() {
                    out.push(Raised::new("esas-item-severe", Level::Contact24h, severe.into_iter().collect()));
                }
                let mood: Vec<String> = ["depression", "anxiety"]
                    .into_iter()
                    .filter(|l| score.item(&format!("esas-{l}")).is_some_and(|v| v >= r.esas_mood_contact_team_from))
                    .map(str::to_owned)
                    .collect();
                if !mood.is_empty() {
                    out.push(Raised::new("esas-mood", Level::ContactTeam, mood));
                }
            }
            Scoring::Phq2 | Scoring::Gad2 => {}
        }
        out
    }

    /// UKONS-style aggregation: `recent` are the problems that already had `contact_24h` advice
    /// within the window (from records still standing). When the new record adds an amber and
    /// the distinct problems reach the ruleset's count, it is a `call_now`. The same problem
    /// twice is one amber; a record that is already urgent needs nothing more.
    pub fn aggregate(&self, recent: &BTreeSet<String>, new: &[Raised]) -> Option<Raised> {
        let new_ambers: BTreeSet<&String> = new.iter().filter(|r| r.level == Level::Contact24h).flat_map(|r| &r.problems).collect();
        let already_urgent = new.iter().any(|r| r.level >= Level::CallNow);
        if new_ambers.is_empty() || already_urgent {
            return None;
        }
        let count = recent.iter().chain(new_ambers.iter().copied()).collect::<BTreeSet<_>>().len();
        // The call-now names only this record's problems: the others may be in records whoever
        // is signed in cannot read (a carer, a check-in not shared), and must not be told here.
        (count >= self.aggregation.contact_24h_for_call_now)
            .then(|| Raised::new("two-or-more-contact-24h", Level::CallNow, new_ambers.into_iter().cloned().collect()))
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

    fn levels_on(data: &EntryData, treatments: &[Treatment]) -> Vec<(String, Level)> {
        Ruleset::default_rules().evaluate(data, &Context { treatments }).into_iter().map(|r| (r.rule, r.level)).collect()
    }

    fn levels(data: &EntryData) -> Vec<(String, Level)> {
        levels_on(data, &[])
    }

    fn one(rule: &str, level: Level) -> Vec<(String, Level)> {
        vec![(rule.to_owned(), level)]
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
    fn fever_is_call_now_from_the_threshold_however_the_person_feels() {
        assert_eq!(levels(&temp(38.0, false)), one("fever", Level::CallNow));
        assert_eq!(levels(&temp(38.0, true)), one("fever", Level::CallNow));
        assert_eq!(levels(&temp(41.5, false)), one("fever", Level::CallNow));
    }

    #[test]
    fn feeling_unwell_is_call_now_at_every_temperature() {
        assert_eq!(levels(&temp(35.9, true)), one("low-temperature-unwell", Level::CallNow));
        assert_eq!(levels(&temp(30.0, true)), one("low-temperature-unwell", Level::CallNow));
        assert_eq!(levels(&temp(36.0, true)), one("temperature-unwell", Level::CallNow));
        assert_eq!(levels(&temp(37.2, true)), one("temperature-unwell", Level::CallNow));
        assert_eq!(levels(&temp(37.5, true)), one("temperature-unwell", Level::CallNow));
        assert_eq!(levels(&temp(37.99, true)), one("temperature-unwell", Level::CallNow));
    }

    #[test]
    fn slightly_raised_and_well_is_measure_again_and_below_it_nothing() {
        assert_eq!(levels(&temp(37.5, false)), one("temperature-recheck", Level::Recheck));
        assert_eq!(levels(&temp(37.99, false)), one("temperature-recheck", Level::Recheck));
        assert!(levels(&temp(37.49, false)).is_empty());
        assert!(levels(&temp(36.0, false)).is_empty());
        assert_eq!(levels(&temp(35.9, false)), one("low-temperature-recheck", Level::Recheck), "low and well: measure again");
        assert_eq!(levels(&temp(30.0, false)), one("low-temperature-recheck", Level::Recheck));
    }

    #[test]
    fn shivering_is_call_now_above_nothing() {
        assert!(levels(&symptom("shivering", 0, &[])).is_empty());
        assert_eq!(levels(&symptom("shivering", 1, &[])), one("shivering", Level::CallNow));
        assert_eq!(levels(&symptom("shivering", 10, &[])), one("shivering", Level::CallNow));
    }

    #[test]
    fn emergencies() {
        assert_eq!(levels(&symptom("chest-pain", 1, &[])), one("chest-pain", Level::Emergency));
        assert_eq!(levels(&symptom("collapse", 0, &[])), one("collapse", Level::Emergency));
        assert_eq!(levels(&symptom("collapse", 10, &[])), one("collapse", Level::Emergency));
        assert_eq!(levels(&symptom("shortness-of-breath", 2, &["severe"])), one("breathless-severe", Level::Emergency));
        assert_eq!(levels(&symptom("shortness-of-breath", 2, &["at-rest", "severe"])), one("breathless-severe", Level::Emergency));
        assert_eq!(levels(&symptom("bleeding", 2, &["heavy"])), one("bleeding-heavy", Level::Emergency));
    }

    #[test]
    fn call_now_symptoms_from_the_guide() {
        assert_eq!(levels(&symptom("shortness-of-breath", 5, &["at-rest"])), one("breathless-at-rest", Level::CallNow));
        assert_eq!(levels(&symptom("vomiting", 3, &["cannot-keep-fluids"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("vomiting", 3, &["not-controlled"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("diarrhoea", 2, &["blood"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("diarrhoea", 1, &["over-24-hours"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("diarrhoea", 7, &[])), one("diarrhoea-severe", Level::CallNow));
        assert_eq!(levels(&symptom("diarrhoea", 6, &[])), one("diarrhoea-moderate", Level::Contact24h));
        assert_eq!(levels(&symptom("sore-mouth", 5, &["cannot-eat-or-drink"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("pain", 3, &["not-controlled"]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("bleeding", 1, &[]))[0].1, Level::CallNow);
        assert_eq!(levels(&symptom("pain", 7, &[])), one("any-severe", Level::Contact24h));
        assert_eq!(levels(&symptom("pain", 6, &[])), []);
        assert_eq!(levels(&symptom("vomiting", 4, &[])), one("vomiting-moderate", Level::Contact24h));
        assert_eq!(levels(&symptom("vomiting", 3, &[])), []);
        assert_eq!(levels(&symptom("nausea", 3, &[])), []);
    }

    #[test]
    fn cough_has_rules_of_its_own() {
        assert_eq!(levels(&symptom("cough", 1, &["blood"])), one("cough-blood", Level::CallNow));
        assert_eq!(levels(&symptom("cough", 7, &[])), one("cough-severe", Level::Contact24h));
        assert_eq!(levels(&symptom("cough", 6, &[])), []);
    }

    #[test]
    fn immunotherapy_makes_any_new_diarrhoea_cough_or_breathlessness_call_now() {
        let immuno = [Treatment::Immunotherapy];
        let chemo = [Treatment::Chemotherapy, Treatment::Radiotherapy];
        for (code, rule) in [
            ("diarrhoea", "immunotherapy-diarrhoea"),
            ("cough", "immunotherapy-cough"),
            ("shortness-of-breath", "immunotherapy-breathless"),
        ] {
            assert_eq!(levels_on(&symptom(code, 1, &[]), &immuno), one(rule, Level::CallNow), "{code}");
            assert!(levels_on(&symptom(code, 0, &[]), &immuno).is_empty(), "{code} at 0 is none");
            assert!(levels_on(&symptom(code, 1, &[]), &chemo).is_empty(), "{code} without immunotherapy");
            assert!(levels(&symptom(code, 1, &[])).is_empty(), "{code} with no treatment set");
        }
        // Both at once: one call-now card, and an emergency still wins.
        let both = [Treatment::Chemotherapy, Treatment::Immunotherapy];
        assert_eq!(levels_on(&symptom("diarrhoea", 8, &[]), &both), one("diarrhoea-severe", Level::CallNow));
        assert_eq!(levels_on(&symptom("shortness-of-breath", 3, &["severe"]), &immuno), one("breathless-severe", Level::Emergency));
        assert_eq!(levels_on(&symptom("pain", 3, &[]), &immuno), []);
    }

    #[test]
    fn phq9_item9_raises_the_crisis_card_whatever_the_total() {
        assert_eq!(levels(&assessment("phq9", &[0, 0, 0, 0, 0, 0, 0, 0, 1])), one("phq9-item9", Level::Crisis));
        assert_eq!(levels(&assessment("phq9", &[3, 3, 3, 3, 3, 3, 3, 3, 3]))[0], ("phq9-item9".into(), Level::Crisis));
        assert!(levels(&assessment("phq9", &[3, 3, 3, 0, 0, 0, 0, 0, 0])).is_empty(), "9 is below the cut-off");
        assert_eq!(levels(&assessment("phq9", &[3, 3, 3, 1, 0, 0, 0, 0, 0])), one("phq9-total", Level::ContactTeam));
        assert!(levels(&assessment("phq9", &[1, 1, 1, 1, 1, 1, 1, 2, 0])).is_empty());
    }

    #[test]
    fn gad7_from_ten() {
        assert_eq!(levels(&assessment("gad7", &[2, 2, 2, 2, 2, 0, 0])), one("gad7-total", Level::ContactTeam));
        assert!(levels(&assessment("gad7", &[2, 2, 2, 2, 1, 0, 0])).is_empty());
    }

    #[test]
    fn esas_items_at_seven_are_ambers_about_their_problems_and_mood_from_four() {
        let r = Ruleset::default_rules();
        let raised = r.evaluate(&assessment("esas-r", &[7, 0, 0, 0, 8, 0, 0, 0, 0]), &Context::default());
        assert_eq!(raised, [Raised::new("esas-item-severe", Level::Contact24h, vec!["pain".into(), "poor-appetite".into()])]);
        assert!(levels(&assessment("esas-r", &[6, 6, 6, 6, 6, 6, 3, 3, 6])).is_empty());
        assert_eq!(levels(&assessment("esas-r", &[0, 0, 0, 0, 0, 0, 0, 4, 0])), one("esas-mood", Level::ContactTeam));
        assert_eq!(levels(&assessment("esas-r", &[0, 0, 0, 0, 0, 0, 3, 3, 0])), []);
        let both = levels(&assessment("esas-r", &[0, 0, 0, 0, 0, 0, 7, 0, 0]));
        assert_eq!(both, [("esas-item-severe".into(), Level::Contact24h), ("esas-mood".into(), Level::ContactTeam)]);
    }

    #[test]
    fn the_esas_other_problem_counts_with_its_own_name() {
        let esas = instruments::get("esas-r").unwrap();
        let mut answers = esas.answers_from_values(&[0; 9]).unwrap();
        answers.push(ItemAnswer { link_id: "esas-other-name".into(), value: AnswerValue::String { value: " Hiccups ".into() } });
        answers.push(ItemAnswer { link_id: "esas-other".into(), value: AnswerValue::Integer { value: 7 } });
        let data = EntryData::Assessment {
            instrument: "esas-r".into(),
            scoring: Scoring::EsasR,
            questionnaire: esas.questionnaire.canonical(),
            score: esas.score(&answers),
            answers: answers.clone(),
        };
        let raised = Ruleset::default_rules().evaluate(&data, &Context::default());
        assert_eq!(raised, [Raised::new("esas-item-severe", Level::Contact24h, vec!["other:hiccups".into()])]);
        answers.last_mut().unwrap().value = AnswerValue::Integer { value: 6 };
        let data = EntryData::Assessment {
            instrument: "esas-r".into(),
            scoring: Scoring::EsasR,
            questionnaire: esas.questionnaire.canonical(),
            score: esas.score(&answers),
            answers,
        };
        assert!(Ruleset::default_rules().evaluate(&data, &Context::default()).is_empty());
    }

    #[test]
    fn an_other_symptom_named_like_a_listed_one_gets_its_rules() {
        let other = |name: &str, severity: u8| EntryData::Symptom {
            symptom: SymptomCode::Other,
            other_name: Some(name.into()),
            severity,
            note: None,
            flags: vec![],
        };
        assert_eq!(levels(&other("chills", 5)), one("shivering", Level::CallNow));
        assert_eq!(levels(&other("Chest pain", 6)), one("chest-pain", Level::Emergency));
        assert_eq!(levels(&other("hiccups", 6)), []);
        assert_eq!(levels(&other("hiccups", 7)), one("any-severe", Level::Contact24h));
    }

    #[test]
    fn esas_items_get_the_rules_of_the_symptom_they_rate() {
        let immuno = [Treatment::Immunotherapy];
        // Shortness of breath rated 5 on immunotherapy is call now, as when it is logged.
        let l = levels_on(&assessment("esas-r", &[0, 0, 0, 0, 0, 5, 0, 0, 0]), &immuno);
        assert_eq!(l, one("immunotherapy-breathless", Level::CallNow));
        assert!(levels(&assessment("esas-r", &[0, 0, 0, 0, 0, 5, 0, 0, 0])).is_empty());
        // Wellbeing, drowsiness and the feelings are the form's own: amber from its threshold.
        assert_eq!(levels(&assessment("esas-r", &[0, 0, 7, 0, 0, 0, 0, 0, 0])), one("esas-item-severe", Level::Contact24h));
        assert!(levels(&assessment("esas-r", &[0, 0, 6, 0, 0, 0, 0, 0, 0])).is_empty());
        // The "other problem" named like a listed symptom is that symptom.
        let esas = instruments::get("esas-r").unwrap();
        let mut answers = esas.answers_from_values(&[0; 9]).unwrap();
        answers.push(ItemAnswer { link_id: "esas-other-name".into(), value: AnswerValue::String { value: "Shivering".into() } });
        answers.push(ItemAnswer { link_id: "esas-other".into(), value: AnswerValue::Integer { value: 3 } });
        let data = EntryData::Assessment {
            instrument: "esas-r".into(),
            scoring: Scoring::EsasR,
            questionnaire: esas.questionnaire.canonical(),
            score: esas.score(&answers),
            answers,
        };
        assert_eq!(levels(&data), one("shivering", Level::CallNow));
    }

    #[test]
    fn ambers_are_counted_per_distinct_problem() {
        let r = Ruleset::default_rules();
        let amber = |p: &[&str]| vec![Raised::new("any-severe", Level::Contact24h, p.iter().map(|s| s.to_string()).collect())];
        let recent = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(r.aggregate(&recent(&[]), &amber(&["pain"])), None);
        assert_eq!(r.aggregate(&recent(&["pain"]), &amber(&["pain"])), None, "the same problem twice is one amber");
        let call = r.aggregate(&recent(&["pain", "record:x"]), &amber(&["nausea"])).unwrap();
        assert_eq!((call.rule.as_str(), call.level), ("two-or-more-contact-24h", Level::CallNow));
        assert_eq!(call.problems, ["nausea"], "only this record's problems: the others may not be the reader's to see");
        assert_eq!(r.aggregate(&recent(&[]), &amber(&["pain", "nausea"])).unwrap().level, Level::CallNow, "one ESAS-r, two items");
        assert_eq!(r.aggregate(&recent(&["pain", "nausea"]), &[]), None, "nothing new, nothing raised");
        let team = vec![Raised::new("esas-mood", Level::ContactTeam, vec!["anxiety".into()])];
        assert_eq!(r.aggregate(&recent(&["pain"]), &team), None, "only ambers count");
        let urgent = vec![Raised::new("fever", Level::CallNow, vec![]), amber(&["nausea"]).remove(0)];
        assert_eq!(r.aggregate(&recent(&["pain"]), &urgent), None, "already a call-now");
    }

    #[test]
    fn problem_keys_ignore_case_and_spacing_of_other_names() {
        assert_eq!(problem_key(SymptomCode::Other, Some("  Hot   Flushes ")), "other:hot flushes");
        assert_eq!(problem_key(SymptomCode::Pain, None), "pain");
        assert_eq!(problem_key(SymptomCode::Other, Some("Constipation")), "constipation", "a listed symptom by name");
        assert_eq!(listed(SymptomCode::Other, Some("chills")), SymptomCode::Shivering);
        assert_eq!(listed(SymptomCode::Other, Some("hiccups")), SymptomCode::Other);
        assert_eq!(esas_problem("breath"), "shortness-of-breath");
    }
}
