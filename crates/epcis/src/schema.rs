//! GS1's EPCIS 2.0 JSON schema (embedded, draft-07, checked with the `jsonschema` crate): every EPCIS
//! document or event that comes in through the EPCIS interface must satisfy it, besides the semantic checks
//! of [`crate::jsonld`].

use crate::jsonld::{FieldError, ValidationErrors};
use serde_json::Value;
use std::sync::OnceLock;

const SCHEMA: &str = include_str!("../data/epcis/EPCIS-JSON-Schema.json");

/// Most schema errors reported for one input.
const MAX_ERRORS: usize = 50;

fn validator() -> Result<&'static jsonschema::Validator, String> {
    static V: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(SCHEMA).map_err(|e| format!("embedded schema: {e}"))?;
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("embedded schema: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Checks `doc` (an EPCIS document, query document or single event) against the EPCIS 2.0 JSON schema;
/// each violation is located by JSON pointer.
pub fn validate(doc: &Value) -> Result<(), ValidationErrors> {
    validate_as(doc, false)
}

/// [`validate`] for a document read from EPCIS XML: GS1's XSD lets an EPC list name one EPC twice, so the
/// JSON schema's `uniqueItems` does not apply to it.
pub fn validate_xml_sourced(doc: &Value) -> Result<(), ValidationErrors> {
    // GS1's XSD also has persistentDisposition on every event type, the JSON schema only on two.
    let mut doc = doc.clone();
    let lists = [
        "/epcisBody/eventList",
        "/epcisBody/queryResults/resultsBody/eventList",
    ];
    let mut events: Vec<&mut Value> = Vec::new();
    if doc.get("eventTime").is_some() {
        events.push(&mut doc);
    } else if let Some(list) = lists
        .iter()
        .find(|p| doc.pointer(p).is_some())
        .and_then(|p| doc.pointer_mut(p))
        .and_then(Value::as_array_mut)
    {
        events.extend(list.iter_mut());
    }
    for e in events {
        let kind = e.get("type").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "ObjectEvent" | "TransformationEvent")
            && let Some(m) = e.as_object_mut()
        {
            m.remove("persistentDisposition");
        }
    }
    validate_as(&doc, true)
}

fn validate_as(doc: &Value, from_xml: bool) -> Result<(), ValidationErrors> {
    let v = validator().map_err(|m| {
        ValidationErrors(vec![FieldError {
            pointer: String::new(),
            message: m,
        }])
    })?;
    let mut errors: Vec<FieldError> = v
        .iter_errors(doc)
        .filter(|e| {
            !(from_xml
                && matches!(
                    e.kind(),
                    jsonschema::error::ValidationErrorKind::UniqueItems
                ))
        })
        .take(MAX_ERRORS)
        .map(|e| FieldError {
            pointer: e.instance_path().to_string(),
            message: format!("does not match the EPCIS 2.0 JSON schema: {e}"),
        })
        .collect();
    errors.dedup_by(|a, b| a.pointer == b.pointer && a.message == b.message);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(event: Value) -> Value {
        json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
               "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
               "epcisBody": {"eventList": [event]}})
    }

    #[test]
    fn valid_documents_pass_and_violations_are_located() {
        let good = json!({"type": "ObjectEvent", "eventTime": "2026-10-01T08:00:00+08:00",
                          "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
                          "epcList": ["urn:epc:id:sgtin:6901234.012345.1"]});
        assert_eq!(validate(&doc(good.clone())), Ok(()));
        let mut bad = good;
        bad["action"] = json!("SHOUT");
        let e = validate(&doc(bad)).expect_err("invalid action");
        assert!(
            e.0.iter()
                .any(|f| f.pointer == "/epcisBody/eventList/0/action"),
            "{e:?}"
        );
        let bare = json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": []});
        assert!(
            validate(&bare).is_err(),
            "a bare event needs its @context and times"
        );
    }
}
