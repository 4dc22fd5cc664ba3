//! EPCIS 2.0 JSON-LD: parse capture bodies (a document or a single event) into [`Event`]s with errors located
//! by JSON pointer, and serialise events back to JSON-LD.

use serde_json::{Map, Value, json};
use suyuan_core::cbv::{Vocab, is_uri};
use suyuan_core::event::*;
use suyuan_core::gs1;
use suyuan_core::time::{parse_timestamp, validate_offset};

pub use suyuan_core::{FieldError, ValidationErrors};

mod event;
mod fields;
mod sensors;
mod write;

use event::*;
use fields::*;
pub(crate) use sensors::*;
pub use write::*;

/// The standard EPCIS 2.0 JSON-LD context URL.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Prefixes that the standard context defines.
pub const STANDARD_PREFIXES: &[(&str, &str)] = &[
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("gs1", "https://gs1.org/voc/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms", "http://purl.org/dc/terms/"),
];

/// Most errors reported for one request; past that the list says how many more there were.
const MAX_ERRORS: usize = 100;

/// Namespace prefixes in scope: those the document and the event declare, over the standard ones.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Declared prefixes, later declarations last; the standard prefixes are not copied in.
    prefixes: Vec<(String, String)>,
}

impl Context {
    /// Adds the prefix definitions found in a JSON-LD `@context` value (string entries are remote contexts).
    pub fn extend_from(&mut self, ctx: &Value) {
        match ctx {
            Value::Array(items) => items.iter().for_each(|c| self.extend_from(c)),
            Value::Object(map) => {
                for (k, v) in map {
                    let iri = match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(o) => {
                            o.get("@id").and_then(Value::as_str).map(str::to_string)
                        }
                        _ => None,
                    };
                    if let Some(iri) = iri {
                        self.prefixes.retain(|(p, _)| p != k);
                        self.prefixes.push((k.clone(), iri));
                    }
                }
            }
            _ => {}
        }
    }

    /// The IRI a prefix stands for.
    pub fn iri(&self, prefix: &str) -> Option<&str> {
        self.prefixes
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, i)| i.as_str())
            .or_else(|| {
                STANDARD_PREFIXES
                    .iter()
                    .find(|(p, _)| *p == prefix)
                    .map(|(_, i)| *i)
            })
    }

    /// Splits an extension key into namespace IRI and local name (`acme:batch` → `https://acme.example/`,
    /// `batch`); full IRIs split after their last `/` or `#`.
    pub fn expand_key(&self, key: &str) -> Option<(String, String)> {
        if key.starts_with("http://") || key.starts_with("https://") || key.starts_with("urn:") {
            let cut = key.rfind(['/', '#', ':'])? + 1;
            return Some((key[..cut].to_string(), key[cut..].to_string()));
        }
        let (prefix, local) = key.split_once(':')?;
        Some((self.iri(prefix)?.to_string(), local.to_string()))
    }
}

/// Escapes a key for use in a JSON pointer.
fn esc(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Errors(Vec<FieldError>, usize);

impl Errors {
    fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(FieldError {
                pointer: pointer.into(),
                message: message.into(),
            });
        } else {
            self.1 += 1;
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Parses an event or document the ledger already holds: [`parse_capture`] without the check that event
/// times are not in the future (it was made at capture).
pub fn parse_stored(body: &Value) -> Result<Vec<Event>, ValidationErrors> {
    suyuan_core::time::without_clock_check(|| parse_capture(body))
}

/// Parses a capture body: an `EPCISDocument`, an `EPCISQueryDocument`, or one bare event.
pub fn parse_capture(body: &Value) -> Result<Vec<Event>, ValidationErrors> {
    let mut errs = Errors(Vec::new(), 0);
    let mut ctx = Context::default();
    let Some(root) = body.as_object() else {
        errs.push(
            "",
            format!(
                "expected a JSON object (an EPCIS document or one event), got {}",
                describe(body)
            ),
        );
        return Err(ValidationErrors(errs.0));
    };
    if let Some(c) = root.get("@context") {
        ctx.extend_from(c);
    }
    let mut events = Vec::new();
    match root.get("type").and_then(Value::as_str) {
        Some("EPCISDocument") | Some("EPCISQueryDocument") => {
            let is_query = root.get("type").and_then(Value::as_str) == Some("EPCISQueryDocument");
            if let Some(d) = root.get("creationDate").and_then(Value::as_str)
                && let Err(m) = parse_timestamp(d)
            {
                errs.push("/creationDate", m);
            }
            let (list, base) = if is_query {
                (
                    body.pointer("/epcisBody/queryResults/resultsBody/eventList"),
                    "/epcisBody/queryResults/resultsBody/eventList",
                )
            } else {
                (body.pointer("/epcisBody/eventList"), "/epcisBody/eventList")
            };
            match list {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(e) = parse_event(item, &format!("{base}/{i}"), &ctx, &mut errs) {
                            events.push(e);
                        }
                    }
                }
                Some(other) => errs.push(base, format!("expected an array of events, got {}", describe(other))),
                None => errs.push(base, "required: the document has no event list"),
            }
        }
        Some(t) if EventType::parse(t).is_some() => {
            if let Some(e) = parse_event(body, "", &ctx, &mut errs) {
                events.push(e);
            }
        }
        Some(t) => errs.push(
            "/type",
            format!(
                "expected \"EPCISDocument\", \"EPCISQueryDocument\" or an event type (ObjectEvent, AggregationEvent, \
                 TransformationEvent, AssociationEvent, TransactionEvent), got \"{t}\""
            ),
        ),
        None => errs.push("/type", "required: say what this is (\"EPCISDocument\" or an event type)"),
    }
    if errs.1 > 0 {
        errs.0.push(FieldError {
            pointer: String::new(),
            message: format!("… and {} more errors", errs.1),
        });
    }
    if errs.0.is_empty() {
        Ok(events)
    } else {
        Err(ValidationErrors(errs.0))
    }
}

/// Fields every event type may carry.
pub(crate) const COMMON: &[&str] = &[
    "@context",
    "type",
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "certificationInfo",
    "errorDeclaration",
];

/// The standard fields of an event type besides [`COMMON`].
pub(crate) fn allowed_fields(t: EventType) -> &'static [&'static str] {
    match t {
        EventType::Object => &[
            "action",
            "epcList",
            "quantityList",
            "bizStep",
            "disposition",
            "persistentDisposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "ilmd",
        ],
        EventType::Aggregation | EventType::Association => &[
            "parentID",
            "childEPCs",
            "childQuantityList",
            "action",
            "bizStep",
            "disposition",
            "persistentDisposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
        ],
        EventType::Transaction => &[
            "bizTransactionList",
            "parentID",
            "epcList",
            "quantityList",
            "action",
            "bizStep",
            "disposition",
            "persistentDisposition",
            "readPoint",
            "bizLocation",
            "sourceList",
            "destinationList",
            "sensorElementList",
        ],
        EventType::Transformation => &[
            "inputEPCList",
            "inputQuantityList",
            "outputEPCList",
            "outputQuantityList",
            "transformationID",
            "bizStep",
            "disposition",
            "persistentDisposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "ilmd",
        ],
    }
}

/// Every standard field of any event type.
pub(crate) const ALL_STANDARD_FIELDS: &[&str] = &[
    "action",
    "epcList",
    "quantityList",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
    "parentID",
    "childEPCs",
    "childQuantityList",
    "inputEPCList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "transformationID",
];
