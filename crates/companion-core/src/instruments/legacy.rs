//! Forms as earlier builds shipped them, and how answers saved against them are read.
//!
//! PHQ-9 and GAD-7 1.0.0 had the LOINC codes of the difficulty question's last two answers
//! swapped: "Very difficult" carried LA6574-3 and "Extremely difficult" LA6575-0, where LOINC's
//! answer list LL359-1 has LA6575-0 Very difficult and LA6574-3 Extremely difficult. A saved
//! record is never rewritten, so a response pinned to 1.0.0 is read by what the person chose
//! (the display they tapped, or failing that its place in the 1.0.0 form) and given the right
//! code. Reading is idempotent: the display is set too, so a response read twice stays right.

use super::{AnswerValue, ItemAnswer};

const LOINC: &str = "http://loinc.org";
const VERY: (&str, &str) = ("LA6575-0", "Very difficult");
const EXTREMELY: (&str, &str) = ("LA6574-3", "Extremely difficult");

/// Whether a pinned form (`url|version`) is one with the swapped difficulty codes.
fn swapped(questionnaire: &str) -> bool {
    ["/Questionnaire/phq9|1.0.0", "/Questionnaire/gad7|1.0.0"].iter().any(|end| questionnaire.ends_with(end))
        && questionnaire.starts_with(crate::fhir::CANONICAL_BASE)
}

/// Corrects the difficulty answer of a response saved against a form with the swapped codes.
pub fn read_answers(questionnaire: &str, answers: &mut [ItemAnswer]) {
    if !swapped(questionnaire) {
        return;
    }
    for a in answers.iter_mut().filter(|a| a.link_id.ends_with("-difficulty")) {
        let AnswerValue::Coding { system, code, display } = &mut a.value else { continue };
        if system.as_deref().is_some_and(|s| s != LOINC) {
            continue;
        }
        let meant = match (display.as_deref(), code.as_str()) {
            (Some(d), _) if d == VERY.1 => VERY,
            (Some(d), _) if d == EXTREMELY.1 => EXTREMELY,
            // No display: the 1.0.0 form's code for the third answer was LA6574-3.
            (None, "LA6574-3") => VERY,
            (None, "LA6575-0") => EXTREMELY,
            _ => continue,
        };
        *code = meant.0.to_owned();
        *display = Some(meant.1.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::{all, ItemType};

    /// LOINC LL358-3, the PHQ-9 and GAD-7 items' answers, in order.
    const LL358_3: [(&str, &str); 4] = [
        ("LA6568-5", "Not at all"),
        ("LA6569-3", "Several days"),
        ("LA6570-1", "More than half the days"),
        ("LA6571-9", "Nearly every day"),
    ];
    /// LOINC LL359-1, the difficulty question's answers, in order.
    const LL359_1: [(&str, &str); 4] = [
        ("LA6572-7", "Not difficult at all"),
        ("LA6573-5", "Somewhat difficult"),
        ("LA6575-0", "Very difficult"),
        ("LA6574-3", "Extremely difficult"),
    ];

    #[test]
    fn every_shipped_answer_code_is_the_one_on_its_loinc_answer_list() {
        let mut checked = 0;
        for i in all() {
            for item in i.questionnaire.flat().into_iter().filter(|it| it.item_type == ItemType::Choice) {
                let loinc: Vec<(&str, &str)> = item
                    .options
                    .iter()
                    .filter(|o| o.system.as_deref() == Some(LOINC))
                    .map(|o| (o.code.as_str(), o.display.as_deref().unwrap_or("")))
                    .collect();
                if loinc.is_empty() {
                    continue;
                }
                let list: &[(&str, &str)] = if item.link_id.ends_with("-difficulty") { &LL359_1 } else { &LL358_3 };
                assert_eq!(loinc, list, "{} {}", i.id, item.link_id);
                if !item.link_id.ends_with("-difficulty") {
                    let ordinals: Vec<Option<f64>> = item.options.iter().map(|o| o.ordinal).collect();
                    assert_eq!(ordinals, [Some(0.0), Some(1.0), Some(2.0), Some(3.0)], "{} {}", i.id, item.link_id);
                }
                checked += 1;
            }
        }
        // PHQ-9 (9 + difficulty), PHQ-2 (2), GAD-7 (7 + difficulty), GAD-2 (2).
        assert_eq!(checked, 22);
    }

    fn difficulty(code: &str, display: Option<&str>) -> Vec<ItemAnswer> {
        vec![ItemAnswer {
            link_id: "phq9-difficulty".into(),
            value: AnswerValue::Coding { system: Some(LOINC.into()), code: code.into(), display: display.map(Into::into) },
        }]
    }

    fn code_of(a: &[ItemAnswer]) -> (String, Option<String>) {
        match &a[0].value {
            AnswerValue::Coding { code, display, .. } => (code.clone(), display.clone()),
            _ => unreachable!(),
        }
    }

    #[test]
    fn answers_saved_on_the_swapped_forms_are_read_as_meant_and_only_those() {
        let old = "https://fhir.companion-diary.no/Questionnaire/phq9|1.0.0";
        let mut a = difficulty("LA6574-3", Some("Very difficult"));
        read_answers(old, &mut a);
        assert_eq!(code_of(&a), ("LA6575-0".into(), Some("Very difficult".into())));
        read_answers(old, &mut a);
        assert_eq!(code_of(&a).0, "LA6575-0", "reading twice changes nothing more");
        let mut a = difficulty("LA6575-0", None);
        read_answers("https://fhir.companion-diary.no/Questionnaire/gad7|1.0.0", &mut a);
        assert_eq!(code_of(&a), ("LA6574-3".into(), Some("Extremely difficult".into())));
        let mut a = difficulty("LA6574-3", Some("Extremely difficult"));
        read_answers("https://fhir.companion-diary.no/Questionnaire/phq9|1.1.0", &mut a);
        assert_eq!(code_of(&a), ("LA6574-3".into(), Some("Extremely difficult".into())), "the current form is right as it is");
        let mut a = difficulty("LA6573-5", Some("Somewhat difficult"));
        read_answers(old, &mut a);
        assert_eq!(code_of(&a).0, "LA6573-5");
        let mut a = difficulty("LA6574-3", Some("Very difficult"));
        read_answers("https://clinic.example/Questionnaire/phq9|1.0.0", &mut a);
        assert_eq!(code_of(&a).0, "LA6574-3", "another publisher's form is theirs");
    }
}
