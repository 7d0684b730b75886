//! The subset of FHIR R4 `Questionnaire` that Companion renders, and the answers to it.
//!
//! Supported: items of type `group`, `display`, `choice` (coded `answerOption`s, optionally with
//! an `ordinalValue`), `integer` (with `minValue`/`maxValue`), `boolean`, `string` and `text`;
//! `enableWhen` with `enableBehavior`; `required`; `prefix`; `code`. Anything else (another item
//! type, `repeats`, `answerValueSet`, an unknown extension or element) is refused when the
//! Questionnaire is loaded, naming what and where, so a form is never half-rendered.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

const ORDINAL: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
/// SDC's short label of an item (for charts and result tables), e.g. a clinic's licensed form's
/// own name for an ESAS-r item.
const SHORT_TEXT: &str = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-shortText";

pub use crate::error::Unsupported;

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Questionnaire {
    pub url: String,
    pub version: String,
    pub title: String,
    /// The language it is written in (BCP 47, e.g. `en`, `nb`), when it says.
    pub language: Option<String>,
    pub copyright: Option<String>,
    pub items: Vec<Item>,
    /// The resource as it came, for the UI to render and for export.
    #[serde(skip)]
    pub resource: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    Group,
    Display,
    Choice,
    Integer,
    Boolean,
    String,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Item {
    pub link_id: String,
    pub text: Option<String>,
    /// The form's own short label of the item (SDC `shortText`), when it has one.
    pub short_text: Option<String>,
    pub item_type: ItemType,
    pub required: bool,
    pub options: Vec<AnswerOption>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub enable_when: Vec<EnableWhen>,
    /// True: all conditions must hold; false: any one.
    pub enable_all: bool,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct AnswerOption {
    pub system: Option<String>,
    pub code: String,
    pub display: Option<String>,
    pub ordinal: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct EnableWhen {
    pub question: String,
    pub operator: String,
    pub answer: AnswerValue,
}

/// One answer as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AnswerValue {
    Coding {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        system: Option<String>,
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
    Integer {
        value: i64,
    },
    Boolean {
        value: bool,
    },
    String {
        value: String,
    },
}

/// The answer to one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ItemAnswer {
    pub link_id: String,
    pub value: AnswerValue,
}

fn unsupported(what: impl Into<String>) -> Unsupported {
    Unsupported(what.into())
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl Questionnaire {
    /// Reads a Questionnaire and checks it stays inside the subset.
    pub fn load(json: &str) -> Result<Questionnaire, Unsupported> {
        let resource: Value = serde_json::from_str(json).map_err(|_| unsupported("not valid JSON"))?;
        if resource.get("resourceType").and_then(Value::as_str) != Some("Questionnaire") {
            return Err(unsupported("resourceType is not Questionnaire"));
        }
        let url = text_of(&resource, "url").ok_or_else(|| unsupported("url is missing"))?;
        let version = text_of(&resource, "version").ok_or_else(|| unsupported("version is missing"))?;
        let title = text_of(&resource, "title").or_else(|| text_of(&resource, "name")).unwrap_or_else(|| url.clone());
        if resource.get("extension").is_some() || resource.get("modifierExtension").is_some() {
            return Err(unsupported("extensions on the Questionnaire itself"));
        }
        let raw_items = resource.get("item").and_then(Value::as_array).ok_or_else(|| unsupported("no items"))?;
        let items = raw_items.iter().map(item).collect::<Result<Vec<_>, _>>()?;
        let language = text_of(&resource, "language");
        let q = Questionnaire { url, version, title, language, copyright: text_of(&resource, "copyright"), items, resource };
        let mut seen = std::collections::HashSet::new();
        for it in q.flat() {
            if !seen.insert(it.link_id.as_str()) {
                return Err(unsupported(format!("linkId {} is used twice", it.link_id)));
            }
        }
        for it in q.flat() {
            for ew in &it.enable_when {
                if q.find(&ew.question).is_none() {
                    return Err(unsupported(format!("item {}: enableWhen names an unknown question", it.link_id)));
                }
            }
        }
        Ok(q)
    }

    /// Every item, depth first.
    pub fn flat(&self) -> Vec<&Item> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
            for i in items {
                out.push(i);
                walk(&i.items, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }

    pub fn find(&self, link_id: &str) -> Option<&Item> {
        self.flat().into_iter().find(|i| i.link_id == link_id)
    }

    /// The canonical reference a response is pinned to: `url|version`.
    pub fn canonical(&self) -> String {
        format!("{}|{}", self.url, self.version)
    }

    /// Whether an item is shown, given the answers so far (FHIR enableWhen semantics).
    pub fn enabled(&self, item: &Item, answers: &BTreeMap<String, AnswerValue>) -> bool {
        if item.enable_when.is_empty() {
            return true;
        }
        let mut results = item.enable_when.iter().map(|ew| {
            let answer = answers.get(&ew.question);
            match ew.operator.as_str() {
                "exists" => answer.is_some() == matches!(ew.answer, AnswerValue::Boolean { value: true }),
                op => answer.is_some_and(|a| compare(a, op, &ew.answer)),
            }
        });
        if item.enable_all {
            results.all(|r| r)
        } else {
            results.any(|r| r)
        }
    }
}

fn compare(a: &AnswerValue, op: &str, b: &AnswerValue) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (AnswerValue::Coding { code: x, system: sx, .. }, AnswerValue::Coding { code: y, system: sy, .. }) => {
            let same = x == y && (sx.is_none() || sy.is_none() || sx == sy);
            return match op {
                "=" => same,
                "!=" => !same,
                _ => false,
            };
        }
        (AnswerValue::Integer { value: x }, AnswerValue::Integer { value: y }) => x.cmp(y),
        (AnswerValue::Boolean { value: x }, AnswerValue::Boolean { value: y }) => x.cmp(y),
        (AnswerValue::String { value: x }, AnswerValue::String { value: y }) => x.cmp(y),
        _ => return op == "!=",
    };
    match op {
        "=" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        ">" => ord == Ordering::Greater,
        "<" => ord == Ordering::Less,
        ">=" => ord != Ordering::Less,
        "<=" => ord != Ordering::Greater,
        _ => false,
    }
}

const ITEM_KEYS: &[&str] = &[
    "linkId",
    "text",
    "type",
    "required",
    "repeats",
    "item",
    "answerOption",
    "enableWhen",
    "enableBehavior",
    "extension",
    "prefix",
    "code",
    "readOnly",
];

fn item(v: &Value) -> Result<Item, Unsupported> {
    let link_id = text_of(v, "linkId").ok_or_else(|| unsupported("an item has no linkId"))?;
    let at = |what: &str| unsupported(format!("item {link_id}: {what}"));
    if let Some(obj) = v.as_object() {
        if let Some(key) = obj.keys().find(|k| !ITEM_KEYS.contains(&k.as_str())) {
            return Err(at(&format!("element {key} is not supported")));
        }
    }
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let item_type = match kind {
        "group" => ItemType::Group,
        "display" => ItemType::Display,
        "choice" => ItemType::Choice,
        "integer" => ItemType::Integer,
        "boolean" => ItemType::Boolean,
        "string" => ItemType::String,
        "text" => ItemType::Text,
        other => return Err(at(&format!("type {other} is not supported"))),
    };
    if v.get("repeats").and_then(Value::as_bool) == Some(true) {
        return Err(at("repeating items are not supported"));
    }
    if v.get("readOnly").and_then(Value::as_bool) == Some(true) {
        return Err(at("read-only items are not supported"));
    }
    let (mut min, mut max, mut short_text) = (None, None, None);
    for ext in v.get("extension").and_then(Value::as_array).into_iter().flatten() {
        match ext.get("url").and_then(Value::as_str) {
            Some(SHORT_TEXT) => short_text = ext.get("valueString").and_then(Value::as_str).map(str::to_owned),
            Some(MIN_VALUE) if item_type == ItemType::Integer => min = ext.get("valueInteger").and_then(Value::as_i64),
            Some(MAX_VALUE) if item_type == ItemType::Integer => max = ext.get("valueInteger").and_then(Value::as_i64),
            Some(url) => return Err(at(&format!("extension {url} is not supported"))),
            None => return Err(at("an extension has no url")),
        }
    }
    let mut options = Vec::new();
    for opt in v.get("answerOption").and_then(Value::as_array).into_iter().flatten() {
        if item_type != ItemType::Choice {
            return Err(at("answerOption on an item that is not a choice"));
        }
        let coding = opt.get("valueCoding").ok_or_else(|| at("only coded answer options are supported"))?;
        let mut ordinal = None;
        for ext in opt.get("extension").and_then(Value::as_array).into_iter().flatten() {
            match ext.get("url").and_then(Value::as_str) {
                Some(ORDINAL) => ordinal = ext.get("valueDecimal").and_then(Value::as_f64),
                _ => return Err(at("an answer option has an unsupported extension")),
            }
        }
        options.push(AnswerOption {
            system: text_of(coding, "system"),
            code: text_of(coding, "code").ok_or_else(|| at("an answer option has no code"))?,
            display: text_of(coding, "display"),
            ordinal,
        });
    }
    if item_type == ItemType::Choice && options.is_empty() {
        return Err(at("a choice needs answerOption (answerValueSet is not supported)"));
    }
    let mut enable_when = Vec::new();
    for ew in v.get("enableWhen").and_then(Value::as_array).into_iter().flatten() {
        let question = text_of(ew, "question").ok_or_else(|| at("enableWhen without a question"))?;
        let operator = text_of(ew, "operator").ok_or_else(|| at("enableWhen without an operator"))?;
        if !["exists", "=", "!=", ">", "<", ">=", "<="].contains(&operator.as_str()) {
            return Err(at("enableWhen operator is not supported"));
        }
        let answer = if let Some(c) = ew.get("answerCoding") {
            AnswerValue::Coding { system: text_of(c, "system"), code: text_of(c, "code").unwrap_or_default(), display: None }
        } else if let Some(b) = ew.get("answerBoolean").and_then(Value::as_bool) {
            AnswerValue::Boolean { value: b }
        } else if let Some(i) = ew.get("answerInteger").and_then(Value::as_i64) {
            AnswerValue::Integer { value: i }
        } else if let Some(s) = ew.get("answerString").and_then(Value::as_str) {
            AnswerValue::String { value: s.to_owned() }
        } else {
            return Err(at("enableWhen answer type is not supported"));
        };
        enable_when.push(EnableWhen { question, operator, answer });
    }
    let enable_all = match v.get("enableBehavior").and_then(Value::as_str) {
        None | Some("all") => true,
        Some("any") => false,
        Some(_) => return Err(at("enableBehavior is not all or any")),
    };
    let items = v.get("item").and_then(Value::as_array).into_iter().flatten().map(item).collect::<Result<Vec<_>, _>>()?;
    if !items.is_empty() && item_type != ItemType::Group {
        return Err(at("only groups may contain items"));
    }
    Ok(Item {
        link_id: link_id.clone(),
        text: text_of(v, "text"),
        short_text,
        item_type,
        required: v.get("required").and_then(Value::as_bool).unwrap_or(false),
        options,
        min,
        max,
        enable_when,
        enable_all,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_item(item: Value) -> String {
        json!({"resourceType": "Questionnaire", "url": "urn:test", "version": "1", "item": [item]}).to_string()
    }

    #[test]
    fn refuses_what_is_outside_the_subset_and_says_where() {
        let cases = [
            (json!({"linkId": "a", "type": "date"}), "type date"),
            (json!({"linkId": "a", "type": "choice", "answerValueSet": "http://x"}), "answerValueSet"),
            (json!({"linkId": "a", "type": "string", "repeats": true}), "repeating"),
            (json!({"linkId": "a", "type": "integer", "extension": [{"url": "http://x/slider"}]}), "http://x/slider"),
            (json!({"linkId": "a", "type": "string", "initial": [{"valueString": "x"}]}), "initial"),
            (json!({"linkId": "a", "type": "choice", "answerOption": [{"valueString": "x"}]}), "coded"),
            (
                json!({"linkId": "a", "type": "string", "enableWhen": [{"question": "zz", "operator": "exists", "answerBoolean": true}]}),
                "unknown question",
            ),
        ];
        for (item, needle) in cases {
            let err = Questionnaire::load(&with_item(item)).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().contains("item a") || needle == "initial" || err.to_string().contains("a:"), "{err}");
        }
        assert!(Questionnaire::load("{}").is_err());
        assert!(Questionnaire::load(&json!({"resourceType": "Patient"}).to_string()).is_err());
    }

    #[test]
    fn enable_when_follows_the_answers() {
        let q = Questionnaire::load(&with_item(json!({"linkId": "g", "type": "group", "item": [
            {"linkId": "name", "type": "string"},
            {"linkId": "rate", "type": "integer", "enableWhen": [{"question": "name", "operator": "exists", "answerBoolean": true}]},
            {"linkId": "hi", "type": "display", "enableBehavior": "any", "enableWhen": [
                {"question": "rate", "operator": ">=", "answerInteger": 7},
                {"question": "name", "operator": "=", "answerString": "x"}]}
        ]})))
        .unwrap();
        let rate = q.find("rate").unwrap();
        let hi = q.find("hi").unwrap();
        let mut answers = BTreeMap::new();
        assert!(!q.enabled(rate, &answers));
        answers.insert("name".to_string(), AnswerValue::String { value: "y".into() });
        assert!(q.enabled(rate, &answers));
        assert!(!q.enabled(hi, &answers));
        answers.insert("rate".to_string(), AnswerValue::Integer { value: 7 });
        assert!(q.enabled(hi, &answers));
    }

    #[test]
    fn an_items_short_text_is_read_from_the_sdc_extension() {
        let ext = json!([{"url": SHORT_TEXT, "valueString": "tretthet"}]);
        let q = Questionnaire::load(&with_item(json!({"linkId": "a", "type": "string", "extension": ext}))).unwrap();
        assert_eq!(q.find("a").unwrap().short_text.as_deref(), Some("tretthet"));
    }
}
