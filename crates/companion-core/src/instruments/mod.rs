//! Validated instruments: the shipped Questionnaires, checking answers against them, and
//! scoring by the published rules (see the clinical guide).
//!
//! PHQ-9: items 1–9 scored 0–3, total 0–27; 0–4 minimal, 5–9 mild, 10–14 moderate,
//! 15–19 moderately severe, 20–27 severe. PHQ-2: items 1–2, 0–6, 3 or more is positive.
//! GAD-7: 0–21; 0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe. GAD-2: 3 or more positive.
//! ESAS-r: nine items 0–10, each 0 none, 1–3 mild, 4–6 moderate, 7–10 severe; total 0–90,
//! physical (first six) 0–60, emotional (depression + anxiety) 0–20.
//! A scored item left unanswered means no total (and no band): the result lists what is missing.

pub mod legacy;
pub mod questionnaire;
mod response;

use crate::error::{Error, Invalid, Problem, Result};
use crate::role::Role;
pub use questionnaire::{AnswerValue, ItemAnswer, ItemType, Questionnaire, Unsupported};
pub use response::{CompletedBy, Item9, COMPLETED_BY};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// How an instrument is scored. The Questionnaire says what is asked; this says what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Scoring {
    Phq9,
    Phq2,
    Gad7,
    Gad2,
    EsasR,
}

/// A band of a total or an item: inclusive bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Band {
    pub code: String,
    pub min: u32,
    pub max: u32,
}

fn bands(spec: &[(&str, u32, u32)]) -> Vec<Band> {
    spec.iter().map(|(code, min, max)| Band { code: (*code).into(), min: *min, max: *max }).collect()
}

/// One shipped instrument.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Instrument {
    /// Stable id used by the CLI, the UI and schedules: `phq9`, `phq2`, `gad7`, `gad2`, `esas-r`.
    pub id: &'static str,
    pub scoring: Scoring,
    /// The scored items, in order (the CLI's positional `--answers` follow this order).
    pub scored_items: Vec<String>,
    pub max_total: u32,
    /// Bands of the total (empty for ESAS-r, whose items are banded instead).
    pub bands: Vec<Band>,
    /// For a short screen: the full form to go on to when it is positive.
    pub full_form: Option<&'static str>,
    pub questionnaire: Questionnaire,
}

const SHIPPED: &[(&str, Scoring, &str)] = &[
    ("phq9", Scoring::Phq9, include_str!("../../../../assets/instruments/phq9.json")),
    ("phq2", Scoring::Phq2, include_str!("../../../../assets/instruments/phq2.json")),
    ("gad7", Scoring::Gad7, include_str!("../../../../assets/instruments/gad7.json")),
    ("gad2", Scoring::Gad2, include_str!("../../../../assets/instruments/gad2.json")),
    ("esas-r", Scoring::EsasR, include_str!("../../../../assets/instruments/esas-r.json")),
];

/// The ESAS-r items, in the form's order, with their short codes.
pub const ESAS_ITEMS: [&str; 9] = ["pain", "tiredness", "drowsiness", "nausea", "appetite", "breath", "depression", "anxiety", "wellbeing"];

impl Instrument {
    fn new(id: &'static str, scoring: Scoring, json: &str) -> std::result::Result<Instrument, Unsupported> {
        let questionnaire = Questionnaire::load(json)?;
        let (scored_items, max_total, bands, full_form): (Vec<String>, u32, Vec<Band>, Option<&'static str>) = match scoring {
            Scoring::Phq9 => (
                (1..=9).map(|i| format!("phq9-{i}")).collect(),
                27,
                bands(&[("minimal", 0, 4), ("mild", 5, 9), ("moderate", 10, 14), ("moderately-severe", 15, 19), ("severe", 20, 27)]),
                None,
            ),
            Scoring::Phq2 => (vec!["phq9-1".into(), "phq9-2".into()], 6, bands(&[("negative", 0, 2), ("positive", 3, 6)]), Some("phq9")),
            Scoring::Gad7 => (
                (1..=7).map(|i| format!("gad7-{i}")).collect(),
                21,
                bands(&[("minimal", 0, 4), ("mild", 5, 9), ("moderate", 10, 14), ("severe", 15, 21)]),
                None,
            ),
            Scoring::Gad2 => (vec!["gad7-1".into(), "gad7-2".into()], 6, bands(&[("negative", 0, 2), ("positive", 3, 6)]), Some("gad7")),
            Scoring::EsasR => (ESAS_ITEMS.iter().map(|c| format!("esas-{c}")).collect(), 90, Vec::new(), None),
        };
        for link in &scored_items {
            if questionnaire.find(link).is_none() {
                return Err(Unsupported(format!("{id}: scored item {link} is missing")));
            }
        }
        Ok(Instrument { id, scoring, scored_items, max_total, bands, full_form, questionnaire })
    }

    /// Another form of this instrument that a clinic sent (a licensed translation): accepted
    /// only when it is the same instrument (the same canonical url) with the same scored items,
    /// each with the same answers (codes and scores, or range), so the published scoring applies
    /// unchanged. Anything else is refused, naming what differs.
    pub fn translation(&self, json: &str) -> std::result::Result<Instrument, Unsupported> {
        let q = Questionnaire::load(json)?;
        if q.url != self.questionnaire.url {
            return Err(Unsupported(format!("{}: a different instrument ({})", self.id, q.url)));
        }
        if q.version == self.questionnaire.version && q.language == self.questionnaire.language {
            return Err(Unsupported(format!("{}: the same form as the one shipped", self.id)));
        }
        let shape = |i: &questionnaire::Item| {
            (i.item_type, i.min, i.max, i.options.iter().map(|o| (o.code.clone(), o.ordinal.map(|x| x.to_bits()))).collect::<Vec<_>>())
        };
        for link in &self.scored_items {
            let (Some(ours), Some(theirs)) = (self.questionnaire.find(link), q.find(link)) else {
                return Err(Unsupported(format!("{}: scored item {link} is missing", self.id)));
            };
            if shape(ours) != shape(theirs) {
                return Err(Unsupported(format!("{}: item {link} is answered differently", self.id)));
            }
        }
        let mut variant = Instrument::new(self.id, self.scoring, json)?;
        variant.full_form = self.full_form;
        Ok(variant)
    }

    /// Per-item bands (ESAS-r).
    pub fn item_bands() -> Vec<Band> {
        bands(&[("none", 0, 0), ("mild", 1, 3), ("moderate", 4, 6), ("severe", 7, 10)])
    }

    /// The unscored question that may follow the scored ones in `--answers`: PHQ-9's and
    /// GAD-7's "how difficult have these problems made it".
    pub fn difficulty_item(&self) -> Option<&questionnaire::Item> {
        self.questionnaire.find(&format!("{}-difficulty", self.id))
    }

    /// Turns positional values (the CLI's `--answers 1,0,2,…`) into answers: for a choice, the
    /// option with that ordinal value; for an integer, the number itself. One more value may
    /// follow the scored ones for the difficulty question (0 to 3, its options in order).
    pub fn answers_from_values(&self, values: &[i64]) -> Result<Vec<ItemAnswer>> {
        let scored = self.scored_items.len();
        let difficulty = self.difficulty_item();
        let with_difficulty = difficulty.is_some() && values.len() == scored + 1;
        if values.len() != scored && !with_difficulty {
            let optional = usize::from(difficulty.is_some());
            return Err(Invalid::new("answers", Problem::WrongCount { expected: scored, optional }).into());
        }
        let mut out = self
            .scored_items
            .iter()
            .zip(values)
            .map(|(link, &v)| {
                let item = self.questionnaire.find(link).expect("checked at load");
                let value = match item.item_type {
                    ItemType::Choice => {
                        let opt = item.options.iter().find(|o| o.ordinal == Some(v as f64)).ok_or_else(|| {
                            let max = item.options.iter().filter_map(|o| o.ordinal).fold(0.0, f64::max);
                            Invalid::new("answers", Problem::OutOfRange { min: 0.0, max })
                        })?;
                        AnswerValue::Coding { system: opt.system.clone(), code: opt.code.clone(), display: opt.display.clone() }
                    }
                    _ => AnswerValue::Integer { value: v },
                };
                Ok(ItemAnswer { link_id: link.clone(), value })
            })
            .collect::<Result<Vec<_>>>()?;
        if let (true, Some(item)) = (with_difficulty, difficulty) {
            let v = values[scored];
            let opt = usize::try_from(v).ok().and_then(|i| item.options.get(i)).ok_or_else(|| {
                Invalid::new("answers", Problem::OutOfRange { min: 0.0, max: item.options.len().saturating_sub(1) as f64 })
            })?;
            let value = AnswerValue::Coding { system: opt.system.clone(), code: opt.code.clone(), display: opt.display.clone() };
            out.push(ItemAnswer { link_id: item.link_id.clone(), value });
        }
        Ok(out)
    }

    /// Answers with the form's "Completed by" set from who is signed in: a carer is a family
    /// caregiver; the patient filled it in themselves unless they said a carer helped. A claim
    /// the person may not make is refused (`completed_by`). A form without the item (a clinic's
    /// own) is left as it is.
    pub fn with_completed_by(&self, mut answers: Vec<ItemAnswer>, role: Role) -> Result<Vec<ItemAnswer>> {
        let Some(item) = self.questionnaire.find(COMPLETED_BY) else { return Ok(answers) };
        let allowed = CompletedBy::allowed_for(role);
        let chosen = match answers.iter().find(|a| a.link_id == COMPLETED_BY) {
            Some(_) => CompletedBy::of(&answers).filter(|c| allowed.contains(c)),
            None => Some(allowed[0]),
        }
        .ok_or(Invalid::new("completed_by", Problem::NotAllowed))?;
        let Some(opt) = item.options.iter().find(|o| o.code == chosen.code()) else { return Ok(answers) };
        answers.retain(|a| a.link_id != COMPLETED_BY);
        let value = AnswerValue::Coding { system: opt.system.clone(), code: opt.code.clone(), display: opt.display.clone() };
        answers.push(ItemAnswer { link_id: COMPLETED_BY.to_owned(), value });
        Ok(answers)
    }

    /// Checks answers against the Questionnaire: known items, shown (enableWhen), values of the
    /// right type, options that exist, integers within range, required items present.
    /// Returns them in the Questionnaire's order.
    pub fn check(&self, answers: &[ItemAnswer]) -> Result<Vec<ItemAnswer>> {
        let bad = |problem| Error::from(Invalid::new("answers", problem));
        let mut by_id: BTreeMap<String, AnswerValue> = BTreeMap::new();
        for a in answers {
            let item = self.questionnaire.find(&a.link_id).ok_or_else(|| bad(Problem::Unknown))?;
            let fits = match (&item.item_type, &a.value) {
                (ItemType::Choice, AnswerValue::Coding { code, system, .. }) => {
                    item.options.iter().any(|o| &o.code == code && (system.is_none() || &o.system == system))
                }
                (ItemType::Integer, AnswerValue::Integer { value }) => {
                    if item.min.is_some_and(|m| *value < m) || item.max.is_some_and(|m| *value > m) {
                        return Err(bad(Problem::OutOfRange {
                            min: item.min.unwrap_or(i64::MIN) as f64,
                            max: item.max.unwrap_or(i64::MAX) as f64,
                        }));
                    }
                    true
                }
                (ItemType::Boolean, AnswerValue::Boolean { .. }) => true,
                (ItemType::String | ItemType::Text, AnswerValue::String { value }) => {
                    if value.chars().count() > crate::limits::MAX_NOTE {
                        return Err(bad(Problem::TooLong { max: crate::limits::MAX_NOTE }));
                    }
                    !value.trim().is_empty()
                }
                _ => false,
            };
            if !fits {
                return Err(bad(Problem::Unknown));
            }
            if by_id.insert(a.link_id.clone(), a.value.clone()).is_some() {
                return Err(bad(Problem::NotAllowed));
            }
        }
        let mut out = Vec::new();
        for item in self.questionnaire.flat() {
            let enabled = self.questionnaire.enabled(item, &by_id);
            match by_id.get(&item.link_id) {
                Some(_) if !enabled => return Err(bad(Problem::NotAllowed)),
                Some(v) => out.push(ItemAnswer { link_id: item.link_id.clone(), value: v.clone() }),
                None if enabled && item.required => return Err(bad(Problem::Required)),
                None => {}
            }
        }
        Ok(out)
    }

    /// The score, by the published rules.
    pub fn score(&self, answers: &[ItemAnswer]) -> Score {
        let by_id: BTreeMap<&str, &AnswerValue> = answers.iter().map(|a| (a.link_id.as_str(), &a.value)).collect();
        let value_of = |link: &str| -> Option<u32> {
            match by_id.get(link)? {
                AnswerValue::Integer { value } => u32::try_from(*value).ok(),
                AnswerValue::Coding { code, .. } => {
                    let item = self.questionnaire.find(link)?;
                    item.options.iter().find(|o| &o.code == code)?.ordinal.map(|o| o as u32)
                }
                _ => None,
            }
        };
        let values: Vec<Option<u32>> = self.scored_items.iter().map(|l| value_of(l)).collect();
        let missing: Vec<String> = self.scored_items.iter().zip(&values).filter(|(_, v)| v.is_none()).map(|(l, _)| l.clone()).collect();
        let sum = |vs: &[Option<u32>]| -> Option<u32> { vs.iter().copied().sum() };
        let total = sum(&values);
        let band_of = |bands: &[Band], v: u32| bands.iter().find(|b| b.min <= v && v <= b.max).map(|b| b.code.clone());
        let band = total.and_then(|t| band_of(&self.bands, t));
        let positive = matches!(self.scoring, Scoring::Phq2 | Scoring::Gad2).then(|| total.map(|t| t >= 3)).flatten();
        let item_bands = Instrument::item_bands();
        let items = self
            .scored_items
            .iter()
            .zip(&values)
            .map(|(link, v)| ItemScore {
                link_id: link.clone(),
                value: *v,
                band: match self.scoring {
                    Scoring::EsasR => v.and_then(|v| band_of(&item_bands, v)),
                    _ => None,
                },
            })
            .collect();
        let subscores = match self.scoring {
            Scoring::EsasR => vec![
                SubScore { code: "physical".into(), total: sum(&values[..6]), max: 60 },
                SubScore { code: "emotional".into(), total: sum(&values[6..8]), max: 20 },
            ],
            _ => Vec::new(),
        };
        Score {
            total,
            max: self.max_total,
            band,
            positive,
            next: if positive == Some(true) { self.full_form.map(str::to_owned) } else { None },
            missing,
            items,
            subscores,
        }
    }
}

/// What a completed check-in scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Score {
    /// None when a scored item was left unanswered.
    pub total: Option<u32>,
    pub max: u32,
    pub band: Option<String>,
    /// For PHQ-2 and GAD-2: whether the screen is positive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub positive: Option<bool>,
    /// The full form to go on to after a positive screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next: Option<String>,
    /// Scored items left unanswered.
    pub missing: Vec<String>,
    pub items: Vec<ItemScore>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscores: Vec<SubScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ItemScore {
    pub link_id: String,
    pub value: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub band: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SubScore {
    pub code: String,
    pub total: Option<u32>,
    pub max: u32,
}

impl Score {
    pub fn item(&self, link_id: &str) -> Option<u32> {
        self.items.iter().find(|i| i.link_id == link_id).and_then(|i| i.value)
    }
}

/// The shipped instruments, loaded once. A shipped Questionnaire outside the subset is a build
/// error caught by the tests, never a runtime surprise.
pub fn all() -> &'static [Instrument] {
    static ALL: OnceLock<Vec<Instrument>> = OnceLock::new();
    ALL.get_or_init(|| {
        SHIPPED.iter().map(|(id, scoring, json)| Instrument::new(id, *scoring, json).expect("shipped questionnaire is supported")).collect()
    })
}

pub fn get(id: &str) -> Result<&'static Instrument> {
    let id = id.trim().to_ascii_lowercase();
    let id = if id == "esasr" || id == "esas" { "esas-r".to_owned() } else { id };
    all().iter().find(|i| i.id == id).ok_or_else(|| Invalid::new("instrument", Problem::Unknown).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(id: &str, values: &[i64]) -> Score {
        let i = get(id).unwrap();
        i.score(&i.answers_from_values(values).unwrap())
    }

    #[test]
    fn every_shipped_questionnaire_loads() {
        assert_eq!(all().len(), 5);
        for i in all() {
            assert!(i.questionnaire.url.starts_with("https://"));
            assert!(i.questionnaire.copyright.is_some(), "{} needs its acknowledgement", i.id);
        }
    }

    #[test]
    fn phq9_band_edges() {
        let cases = [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately-severe"),
            (19, "moderately-severe"),
            (20, "severe"),
            (27, "severe"),
        ];
        for (total, band) in cases {
            // Spread the total over items 1-8, item 9 stays 0.
            let mut values = [0i64; 9];
            let mut left = total;
            for v in values.iter_mut().take(8) {
                *v = left.min(3);
                left -= *v;
            }
            if left > 0 {
                values[8] = left;
            }
            let s = score("phq9", &values);
            assert_eq!((s.total, s.band.as_deref()), (Some(total as u32), Some(band)), "total {total}");
        }
    }

    #[test]
    fn phq9_worked_example() {
        // Kroenke et al.: answers 1,0,2,1,0,0,1,0,0 give 5, mild.
        let s = score("phq9", &[1, 0, 2, 1, 0, 0, 1, 0, 0]);
        assert_eq!(s.total, Some(5));
        assert_eq!(s.band.as_deref(), Some("mild"));
        assert_eq!(s.item("phq9-9"), Some(0));
    }

    #[test]
    fn gad7_band_edges() {
        for (values, total, band) in [
            ([0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
            ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
            ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
            ([3, 3, 3, 0, 0, 0, 0], 9, "mild"),
            ([3, 3, 3, 1, 0, 0, 0], 10, "moderate"),
            ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
            ([3, 3, 3, 3, 3, 0, 0], 15, "severe"),
            ([3, 3, 3, 3, 3, 3, 3], 21, "severe"),
        ] {
            let s = score("gad7", &values);
            assert_eq!((s.total, s.band.as_deref()), (Some(total), Some(band)));
        }
    }

    #[test]
    fn short_screens_are_positive_from_three() {
        for (id, full) in [("phq2", "phq9"), ("gad2", "gad7")] {
            let neg = score(id, &[1, 1]);
            assert_eq!((neg.total, neg.positive, neg.next.as_deref()), (Some(2), Some(false), None));
            let pos = score(id, &[2, 1]);
            assert_eq!((pos.total, pos.positive, pos.next.as_deref()), (Some(3), Some(true), Some(full)));
            assert_eq!(score(id, &[3, 3]).total, Some(6));
        }
    }

    #[test]
    fn esas_items_sums_and_bands() {
        let s = score("esas-r", &[0, 1, 3, 4, 6, 7, 10, 4, 2]);
        assert_eq!(s.total, Some(37));
        let bands: Vec<_> = s.items.iter().map(|i| i.band.clone().unwrap()).collect();
        assert_eq!(bands, ["none", "mild", "mild", "moderate", "moderate", "severe", "severe", "moderate", "mild"]);
        assert_eq!(s.subscores[0].total, Some(21)); // physical: 0+1+3+4+6+7
        assert_eq!(s.subscores[1].total, Some(14)); // emotional: 10+4
        assert_eq!(s.band, None);
    }

    #[test]
    fn an_unanswered_scored_item_means_no_total() {
        let i = get("phq9").unwrap();
        let mut answers = i.answers_from_values(&[1, 1, 1, 1, 1, 1, 1, 1, 1]).unwrap();
        answers.remove(3);
        let s = i.score(&i.check(&answers).unwrap());
        assert_eq!((s.total, s.band), (None, None));
        assert_eq!(s.missing, ["phq9-4"]);
        let e = get("esas-r").unwrap();
        let mut answers = e.answers_from_values(&[1; 9]).unwrap();
        answers.pop();
        let s = e.score(&answers);
        assert_eq!(s.total, None);
        assert_eq!(s.subscores[0].total, Some(6), "the physical sum does not need wellbeing");
    }

    #[test]
    fn wrong_counts_and_values_are_refused_naming_answers() {
        let phq = get("phq9").unwrap();
        let e = phq.answers_from_values(&[1, 0, 2]).unwrap_err();
        assert!(matches!(e, Error::Invalid(Invalid { field: "answers", problem: Problem::WrongCount { expected: 9, optional: 1 } })));
        let e = phq.answers_from_values(&[1, 0, 2, 1, 0, 0, 1, 0, 4]).unwrap_err();
        assert!(matches!(e, Error::Invalid(Invalid { field: "answers", problem: Problem::OutOfRange { .. } })));
        let esas = get("esas-r").unwrap();
        let answers = esas.answers_from_values(&[0, 0, 0, 0, 0, 0, 0, 0, 11]).unwrap();
        assert!(matches!(esas.check(&answers), Err(Error::Invalid(Invalid { field: "answers", problem: Problem::OutOfRange { .. } }))));
        assert!(get("bdi").is_err());
    }

    #[test]
    fn the_difficulty_question_shows_only_after_a_problem() {
        let phq = get("phq9").unwrap();
        let mut answers = phq.answers_from_values(&[0; 9]).unwrap();
        let difficulty = ItemAnswer {
            link_id: "phq9-difficulty".into(),
            value: AnswerValue::Coding { system: Some("http://loinc.org".into()), code: "LA6573-5".into(), display: None },
        };
        answers.push(difficulty.clone());
        assert!(phq.check(&answers).is_err(), "hidden when every answer is 'not at all'");
        let mut answers = phq.answers_from_values(&[0, 1, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        answers.push(difficulty);
        assert_eq!(phq.check(&answers).unwrap().len(), 10);
        assert_eq!(phq.score(&answers).total, Some(1), "item 10 is not scored");
    }

    #[test]
    fn the_difficulty_question_may_follow_the_scored_answers() {
        for (id, n) in [("phq9", 9), ("gad7", 7)] {
            let i = get(id).unwrap();
            let mut values = vec![1i64; n];
            values.push(2);
            let answers = i.answers_from_values(&values).unwrap();
            let last = answers.last().unwrap();
            assert_eq!(last.link_id, format!("{id}-difficulty"));
            assert!(
                matches!(&last.value, AnswerValue::Coding { code, display: Some(d), .. } if code == "LA6575-0" && d == "Very difficult")
            );
            assert_eq!(i.check(&answers).unwrap().len(), n + 1);
            assert_eq!(i.score(&answers).total, Some(n as u32), "the difficulty question is not scored");
            values[n] = 4;
            assert!(matches!(
                i.answers_from_values(&values),
                Err(Error::Invalid(Invalid { field: "answers", problem: Problem::OutOfRange { .. } }))
            ));
            values.push(0);
            assert!(matches!(i.answers_from_values(&values), Err(Error::Invalid(Invalid { problem: Problem::WrongCount { .. }, .. }))));
        }
        let phq2 = get("phq2").unwrap();
        assert!(phq2.answers_from_values(&[1, 1, 1]).is_err(), "PHQ-2 has no difficulty question");
    }

    #[test]
    fn completed_by_follows_who_is_signed_in() {
        let esas = get("esas-r").unwrap();
        let answers = esas.answers_from_values(&[1; 9]).unwrap();
        let mine = esas.with_completed_by(answers.clone(), Role::Patient).unwrap();
        assert_eq!(CompletedBy::of(&mine), Some(CompletedBy::Patient));
        let theirs = esas.with_completed_by(answers.clone(), Role::Carer).unwrap();
        assert_eq!(CompletedBy::of(&theirs), Some(CompletedBy::FamilyCaregiver));
        assert!(esas.check(&theirs).is_ok(), "the item is part of the form");
        let claim = |c: CompletedBy| {
            let mut a = answers.clone();
            a.push(ItemAnswer {
                link_id: COMPLETED_BY.into(),
                value: AnswerValue::Coding { system: None, code: c.code().into(), display: None },
            });
            a
        };
        let helped = esas.with_completed_by(claim(CompletedBy::CaregiverAssisted), Role::Patient).unwrap();
        assert_eq!(CompletedBy::of(&helped), Some(CompletedBy::CaregiverAssisted));
        assert_eq!(helped.iter().filter(|a| a.link_id == COMPLETED_BY).count(), 1);
        for (c, role) in [
            (CompletedBy::Patient, Role::Carer),
            (CompletedBy::FamilyCaregiver, Role::Patient),
            (CompletedBy::HealthCareProfessionalCaregiver, Role::Patient),
        ] {
            let e = esas.with_completed_by(claim(c), role).unwrap_err();
            assert!(matches!(e, Error::Invalid(Invalid { field: "completed_by", problem: Problem::NotAllowed })), "{c:?} as {role:?}");
        }
        let phq = get("phq9").unwrap();
        let plain = phq.answers_from_values(&[0; 9]).unwrap();
        assert_eq!(phq.with_completed_by(plain.clone(), Role::Patient).unwrap(), plain, "only ESAS-r asks");
    }
}
