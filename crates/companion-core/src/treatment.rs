//! The cancer treatment a patient is on. Safety rules can be limited to a treatment: on
//! immunotherapy, any new diarrhoea, cough or breathlessness is a reason to call the ward now.
//! The patient sets it (Settings, `companion treatment set`); later the clinic's plan will.

use crate::error::{Invalid, Problem};
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Treatment {
    Chemotherapy,
    Immunotherapy,
    Radiotherapy,
    TargetedTherapy,
    HormoneTherapy,
}

impl Treatment {
    pub const ALL: [Treatment; 5] =
        [Treatment::Chemotherapy, Treatment::Immunotherapy, Treatment::Radiotherapy, Treatment::TargetedTherapy, Treatment::HormoneTherapy];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a code leniently ("Targeted therapy", "targeted_therapy", "targeted").
    pub fn parse(raw: &str) -> Option<Treatment> {
        let norm = crate::symptom::code_form(raw);
        let norm = match norm.as_str() {
            "chemo" => "chemotherapy",
            "targeted" => "targeted-therapy",
            "hormone" | "hormonal-therapy" => "hormone-therapy",
            "radiation" | "radiation-therapy" => "radiotherapy",
            other => other,
        };
        norm.parse().ok()
    }

    /// Reads a comma-separated list (`immunotherapy,chemotherapy`): sorted, without repeats. An
    /// empty list means none.
    pub fn parse_list(field: &'static str, raw: &str) -> Result<Vec<Treatment>, Invalid> {
        let mut out = Vec::new();
        for part in raw.split(',').filter(|p| !p.trim().is_empty()) {
            out.push(Treatment::parse(part).ok_or(Invalid::new(field, Problem::Unknown))?);
        }
        Ok(Treatment::normalise(out))
    }

    pub fn normalise(mut list: Vec<Treatment>) -> Vec<Treatment> {
        list.sort();
        list.dedup();
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_leniently_sorted_and_without_repeats() {
        let l = Treatment::parse_list("treatments", "Immunotherapy, chemo,immunotherapy").unwrap();
        assert_eq!(l, [Treatment::Chemotherapy, Treatment::Immunotherapy]);
        assert!(Treatment::parse_list("treatments", "").unwrap().is_empty());
        assert_eq!(Treatment::parse_list("treatments", "surgery").unwrap_err().field, "treatments");
        for t in Treatment::ALL {
            assert_eq!(Treatment::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
        }
    }
}
