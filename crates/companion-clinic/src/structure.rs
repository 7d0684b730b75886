//! Strict FHIR R4 structure at the door: every incoming resource is checked against the
//! official R4 (4.0.1) JSON schema (the definitions the server's types reach, in
//! `fhir/r4-subset.schema.json`, made by `tests/fhir/schema-subset.mjs`): element names,
//! arrays against single values, primitive formats, and the codes of required value sets. Then
//! what the schema cannot say: nesting depth, and R4's narrative rules (txt-1, txt-2).
//!
//! Errors name the element (`Observation.status`) and the rule, never the value sent: a value
//! can be health data.

use crate::error::{StoreError, StoreResult};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

const SCHEMA: &str = include_str!("../fhir/r4-subset.schema.json");

/// JSON nested deeper than this is refused before anything else looks at it.
pub const MAX_DEPTH: usize = 32;

struct Schemas {
    /// One validator per resource type.
    validators: HashMap<String, jsonschema::Validator>,
    /// A primitive's pattern, to its name (`dateTime`), for errors.
    patterns: HashMap<String, String>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let doc: Value = serde_json::from_str(SCHEMA).expect("the bundled R4 schema is JSON");
        let defs = doc["definitions"].as_object().expect("definitions");
        let patterns = defs.iter().filter_map(|(name, d)| Some((d.get("pattern")?.as_str()?.to_owned(), name.clone()))).collect();
        let validators = crate::fhir::TYPES
            .iter()
            .map(|(t, _)| *t)
            .chain(["Patient"])
            .map(|t| {
                let mut root = doc.clone();
                root["$ref"] = Value::String(format!("#/definitions/{t}"));
                let v = jsonschema::options().with_draft(jsonschema::Draft::Draft6).build(&root).expect("the bundled R4 schema compiles");
                (t.to_owned(), v)
            })
            .collect();
        Schemas { validators, patterns }
    })
}

/// Compiles the validators now (at start-up) rather than on the first upload.
pub fn warm_up() {
    let _ = schemas();
}

/// How deeply a JSON value nests (a scalar is 1).
pub fn depth(v: &Value) -> usize {
    // Iterative: a hostile document cannot overflow the stack here.
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// `/component/0/code` of an Observation as `Observation.component[0].code`.
fn element_path(rtype: &str, pointer: &str) -> String {
    let mut out = rtype.to_owned();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            out.push('.');
            out.push_str(&part);
        }
    }
    out
}

/// Checks a resource's structure against R4. 400 with the element named.
pub fn check(rtype: &str, body: &Value) -> StoreResult<()> {
    if depth(body) > MAX_DEPTH {
        return Err(StoreError::invalid(format!("the JSON is nested deeper than {MAX_DEPTH} levels")));
    }
    // Contained resources only as a CareTeam's members' roles (their numbers and hours).
    if let Some(contained) = body.get("contained") {
        let roles = rtype == "CareTeam"
            && contained
                .as_array()
                .is_some_and(|a| a.iter().all(|r| r.get("resourceType").and_then(Value::as_str) == Some("PractitionerRole")));
        if !roles {
            return Err(StoreError::unprocessable(format!("{rtype}.contained: contained resources are not accepted here")));
        }
    }
    let s = schemas();
    let Some(validator) = s.validators.get(rtype) else {
        return Err(StoreError::invalid(format!("resource type {rtype} is not accepted here")));
    };
    if let Some(e) = validator.iter_errors(body).next() {
        let path = element_path(rtype, e.instance_path().as_str());
        let why = match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let names: Vec<String> = unexpected.iter().map(|u| format!("{path}.{u}")).collect();
                return Err(StoreError::structure(format!("{}: not an element of {rtype} in FHIR R4", names.join(", "))));
            }
            ValidationErrorKind::Enum { .. } => "not one of the codes its value set allows".to_owned(),
            ValidationErrorKind::Pattern { pattern } => match s.patterns.get(pattern) {
                Some(primitive) => format!("not a valid FHIR {primitive}"),
                None => "not in the format FHIR R4 requires".to_owned(),
            },
            ValidationErrorKind::Type { kind } => format!("must be {}", type_words(&format!("{kind:?}"))),
            ValidationErrorKind::Required { property } => {
                return Err(StoreError::unprocessable(format!("{path}.{} is required", property.as_str().unwrap_or("?"))));
            }
            ValidationErrorKind::Constant { .. } => "does not match the resource type".to_owned(),
            ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => "is not a valid value here".to_owned(),
            ValidationErrorKind::MinItems { .. } => "must not be an empty array".to_owned(),
            _ => "does not follow FHIR R4's structure".to_owned(),
        };
        return Err(StoreError::structure(format!("{path}: {why}")));
    }
    if let Some(div) = body.pointer("/text/div").and_then(Value::as_str) {
        narrative(div).map_err(|why| StoreError::structure(format!("{rtype}.text.div: {why}")))?;
    }
    Ok(())
}

fn type_words(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    let one = ["array", "object", "string", "number", "integer", "boolean"].into_iter().find(|t| k.contains(t));
    match one {
        Some("array") => "an array".into(),
        Some("object") => "an object".into(),
        Some("integer") => "an integer".into(),
        Some(t) => format!("a {t}"),
        None => "of another JSON type".into(),
    }
}

/// The elements R4 allows in a narrative (txt-1).
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

/// The attributes R4 allows in a narrative (txt-1).
const ATTRIBUTES: &[&str] = &[
    "abbr",
    "accesskey",
    "align",
    "alt",
    "axis",
    "bgcolor",
    "border",
    "cellhalign",
    "cellpadding",
    "cellspacing",
    "cellvalign",
    "char",
    "charoff",
    "charset",
    "cite",
    "class",
    "colspan",
    "compact",
    "coords",
    "dir",
    "frame",
    "headers",
    "height",
    "href",
    "hreflang",
    "hspace",
    "id",
    "lang",
    "longdesc",
    "name",
    "nowrap",
    "rel",
    "rev",
    "rowspan",
    "rules",
    "scope",
    "shape",
    "span",
    "src",
    "start",
    "style",
    "summary",
    "tabindex",
    "title",
    "type",
    "valign",
    "value",
    "vspace",
    "width",
    "xml:lang",
    "xmlns",
];

/// R4's narrative rules: an XHTML `div` with only basic formatting elements and attributes
/// (txt-1; so no scripts, no forms, no event handlers), and some text or an image (txt-2).
pub fn narrative(div: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(div);
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut content = false;
    loop {
        let event = reader.read_event().map_err(|_| "is not well-formed XHTML".to_owned())?;
        let start = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e.clone()),
            _ => None,
        };
        if let Some(e) = start {
            let name = e.name().as_ref().to_owned();
            if depth == 0 {
                if seen_root || name != "div" {
                    return Err("must be one XHTML div".into());
                }
                seen_root = true;
                let xmlns = e.attributes().flatten().find(|a| a.key.as_ref() == "xmlns").map(|a| a.value.into_owned());
                if xmlns.as_deref() != Some("http://www.w3.org/1999/xhtml") {
                    return Err("the div must be in the XHTML namespace".into());
                }
            }
            if !ELEMENTS.contains(&name.as_str()) {
                return Err(format!("the element <{name}> is not allowed in a narrative"));
            }
            content |= name == "img";
            for a in e.attributes() {
                let a = a.map_err(|_| "is not well-formed XHTML".to_owned())?;
                let key = a.key.as_ref().to_ascii_lowercase();
                if !ATTRIBUTES.contains(&key.as_str()) {
                    return Err(format!("the attribute {key} is not allowed in a narrative"));
                }
                // As a browser reads it: entities resolved, spaces and controls dropped.
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|_| "is not well-formed XHTML".to_owned())?
                    .to_ascii_lowercase();
                let squashed: String = value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
                if (key == "href" || key == "src") && !safe_link(&squashed) {
                    return Err(format!("the attribute {key} may link only to http, https or mailto"));
                }
            }
            if matches!(event, Event::Start(_)) {
                depth += 1;
            }
        }
        match event {
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) => {
                if depth == 0 && !t.trim().is_empty() {
                    return Err("text outside the div".into());
                }
                content |= !t.trim().is_empty();
            }
            Event::CData(_) => content = true,
            Event::Eof => break,
            Event::DocType(_) | Event::PI(_) => return Err("may not hold a doctype or processing instruction".into()),
            _ => {}
        }
    }
    if !seen_root {
        return Err("must be one XHTML div".into());
    }
    if !content {
        return Err("must hold some text or an image (txt-2)".into());
    }
    Ok(())
}

/// A link a narrative may hold: relative, a fragment, or http, https or mailto.
fn safe_link(url: &str) -> bool {
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(c), Some(p)) if p < c => true,
        (Some(c), _) => matches!(&url[..c], "http" | "https" | "mailto"),
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs() -> Value {
        json!({"resourceType": "Observation", "id": "a-1", "status": "final", "code": {"text": "x"},
               "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-11-01T10:00:00.000Z", "valueInteger": 3})
    }

    fn refused(mut f: impl FnMut(&mut Value)) -> (u16, String) {
        let mut o = obs();
        f(&mut o);
        let e = check("Observation", &o).unwrap_err();
        (e.http().status.as_u16(), e.http().message)
    }

    #[test]
    fn the_official_r4_schema_refuses_bad_codes_dates_and_unknown_elements() {
        assert!(check("Observation", &obs()).is_ok());
        assert_eq!(
            refused(|o| o["status"] = json!("bogus")),
            (400, "Observation.status: not one of the codes its value set allows".into())
        );
        assert_eq!(
            refused(|o| o["effectiveDateTime"] = json!("2026-13-45T99:99:99Z")),
            (400, "Observation.effectiveDateTime: not a valid FHIR dateTime".into())
        );
        assert_eq!(refused(|o| o["bogus"] = json!(1)), (400, "Observation.bogus: not an element of Observation in FHIR R4".into()));
        assert_eq!(refused(|o| o["code"]["coding"] = json!({"code": "x"})), (400, "Observation.code.coding: must be an array".into()));
        assert_eq!(refused(|o| o["id"] = json!("has space")).0, 400);
        assert_eq!(refused(|o| o["contained"] = json!([])).0, 422);
        // The value sent is never repeated back.
        assert!(!refused(|o| o["note"] = json!([{ "text": 5 }])).1.contains('5'));
    }

    #[test]
    fn deep_json_is_refused() {
        let mut v = json!("x");
        for _ in 0..40 {
            v = json!([v]);
        }
        assert_eq!(depth(&v), 41);
        assert_eq!(refused(|o| o["extension"] = v.clone()).0, 400);
    }

    #[test]
    fn narratives_follow_r4s_rules() {
        let ok = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>Temperature <b>38.4</b></p></div>"#;
        assert!(narrative(ok).is_ok());
        assert!(narrative(
            r##"<div xmlns="http://www.w3.org/1999/xhtml"><a href="https://sykehus.no/a:b">a</a> <a href="#x">b</a></div>"##
        )
        .is_ok());
        for bad in [
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">a</p></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href=" javascript:x()">a</a></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="&#106;avascript:x()">a</a></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><img src="data:image/svg+xml,x"/></div>"#,
            r#"<div><p>no namespace</p></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>a</p></div><div/>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>"#,
        ] {
            assert!(narrative(bad).is_err(), "{bad}");
        }
        assert_eq!(
            refused(|o| o["text"] = json!({"status": "generated", "div": r#"<div xmlns="http://www.w3.org/1999/xhtml"><iframe/>x</div>"#}))
                .0,
            400
        );
    }
}
