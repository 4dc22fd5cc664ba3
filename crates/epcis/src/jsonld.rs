//! EPCIS 2.0 JSON-LD: parse capture bodies (a document or a single event) into [`Event`]s with errors located
//! by JSON pointer, and serialise events back to JSON-LD.

use serde_json::{Map, Value, json};
use suyuan_core::cbv::{Vocab, is_uri};
use suyuan_core::event::*;
use suyuan_core::gs1;
use suyuan_core::time::{parse_timestamp, validate_offset};

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

pub use suyuan_core::{FieldError, ValidationErrors};

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

/// Checks that an identifier is a URI and, for EPC URIs of schemes with a GS1 key, well formed.
fn check_id(v: &str, ptr: &str, what: &str, errs: &mut Errors) {
    if !is_uri(v) {
        errs.push(
            ptr,
            format!(
                "expected {what} as a URI (EPC URN, GS1 Digital Link or urn:suyuan:…), got \"{v}\""
            ),
        );
        return;
    }
    const KEYED: &[&str] = &[
        "urn:epc:id:sgtin:",
        "urn:epc:id:sscc:",
        "urn:epc:id:sgln:",
        "urn:epc:id:grai:",
        "urn:epc:id:giai:",
        "urn:epc:id:gsrn:",
        "urn:epc:id:gsrnp:",
        "urn:epc:id:gdti:",
        "urn:epc:id:cpi:",
        "urn:epc:id:sgcn:",
        "urn:epc:id:ginc:",
        "urn:epc:id:gsin:",
        "urn:epc:id:itip:",
        "urn:epc:id:upui:",
        "urn:epc:id:pgln:",
        "urn:epc:class:lgtin:",
    ];
    if KEYED.iter().any(|p| v.starts_with(p)) && gs1::epc_uri_to_digital_link(v).is_none() {
        let scheme = v.split(':').take(4).collect::<Vec<_>>().join(":");
        errs.push(
            ptr,
            format!(
                "malformed {scheme} URI \"{v}\": expected company prefix (6–12 digits) and references of the \
                 lengths the GS1 Tag Data Standard gives"
            ),
        );
    }
}

fn get_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    ptr: &str,
    errs: &mut Errors,
) -> Option<&'a str> {
    match obj.get(key) {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            errs.push(
                format!("{ptr}/{}", esc(key)),
                format!("expected a string, got {}", describe(other)),
            );
            None
        }
    }
}

fn get_uri(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    what: &str,
    errs: &mut Errors,
) -> Option<String> {
    let s = get_str(obj, key, ptr, errs)?;
    check_id(s, &format!("{ptr}/{}", esc(key)), what, errs);
    Some(s.to_string())
}

fn get_vocab(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    vocab: Vocab,
    errs: &mut Errors,
) -> Option<String> {
    let s = get_str(obj, key, ptr, errs)?;
    match vocab.normalise(s) {
        Ok(v) => Some(v),
        Err(m) => {
            errs.push(format!("{ptr}/{}", esc(key)), m);
            None
        }
    }
}

fn get_time(obj: &Map<String, Value>, key: &str, ptr: &str, errs: &mut Errors) -> Option<String> {
    let s = get_str(obj, key, ptr, errs)?;
    match parse_timestamp(s) {
        Ok(_) => Some(s.to_string()),
        Err(m) => {
            errs.push(format!("{ptr}/{}", esc(key)), m);
            None
        }
    }
}

fn get_uri_list(obj: &Map<String, Value>, key: &str, ptr: &str, errs: &mut Errors) -> Vec<String> {
    let p = format!("{ptr}/{}", esc(key));
    match obj.get(key) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::String(s) => {
                    check_id(s, &format!("{p}/{i}"), "an EPC", errs);
                    Some(s.clone())
                }
                other => {
                    errs.push(
                        format!("{p}/{i}"),
                        format!("expected an EPC URI string, got {}", describe(other)),
                    );
                    None
                }
            })
            .collect(),
        Some(other) => {
            errs.push(
                p,
                format!("expected an array of EPC URIs, got {}", describe(other)),
            );
            Vec::new()
        }
    }
}

fn get_quantities(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errs: &mut Errors,
) -> Vec<QuantityElement> {
    let p = format!("{ptr}/{}", esc(key));
    let Some(v) = obj.get(key) else {
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        errs.push(
            p,
            format!(
                "expected an array of quantity elements, got {}",
                describe(v)
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let Some(q) = item.as_object() else {
            errs.push(
                ip,
                format!("expected a quantity element object, got {}", describe(item)),
            );
            continue;
        };
        for k in q.keys() {
            if !["epcClass", "quantity", "uom"].contains(&k.as_str()) {
                errs.push(
                    format!("{ip}/{}", esc(k)),
                    "unknown field: a quantity element has epcClass, quantity and uom",
                );
            }
        }
        let class = get_str(q, "epcClass", &ip, errs);
        if class.is_none() && !q.contains_key("epcClass") {
            errs.push(
                format!("{ip}/epcClass"),
                "required: the EPC class (or LGTIN) of this quantity",
            );
        }
        if let Some(c) = class {
            check_id(c, &format!("{ip}/epcClass"), "an EPC class", errs);
        }
        let quantity = match q.get("quantity") {
            None => None,
            Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0) => Some(n.clone()),
            Some(other) => {
                errs.push(
                    format!("{ip}/quantity"),
                    format!("expected a non-negative number, got {}", describe(other)),
                );
                None
            }
        };
        let uom = get_str(q, "uom", &ip, errs).map(str::to_string);
        if let Some(u) = &uom
            && !(u.len() >= 2 && u.len() <= 3 && u.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            errs.push(
                format!("{ip}/uom"),
                format!("expected a UN/ECE Rec 20 unit code such as \"KGM\", got \"{u}\""),
            );
        }
        if uom.is_some() && quantity.is_none() {
            errs.push(format!("{ip}/quantity"), "required when uom is given");
        }
        if let Some(c) = class {
            out.push(QuantityElement {
                epc_class: c.to_string(),
                quantity,
                uom,
            });
        }
    }
    out
}

fn get_location(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    ctx: &Context,
    errs: &mut Errors,
) -> Option<Location> {
    let p = format!("{ptr}/{}", esc(key));
    let v = obj.get(key)?;
    let Some(o) = v.as_object() else {
        errs.push(
            p,
            format!("expected an object with an \"id\", got {}", describe(v)),
        );
        return None;
    };
    let id = get_uri(o, "id", &p, "a location", errs);
    if id.is_none() && !o.contains_key("id") {
        errs.push(
            format!("{p}/id"),
            "required: the location URI (SGLN, Digital Link 414/254, geo: or your own)",
        );
    }
    let extensions = collect_extensions(o, &["id"], &p, ctx, errs);
    id.map(|id| Location { id, extensions })
}

/// Keeps every key outside `known` as an extension; bare keys that are no namespace are rejected.
fn collect_extensions(
    obj: &Map<String, Value>,
    known: &[&str],
    ptr: &str,
    ctx: &Context,
    errs: &mut Errors,
) -> Extensions {
    let mut ext = Extensions::new();
    for (k, v) in obj {
        if known.contains(&k.as_str()) {
            continue;
        }
        if ctx.expand_key(k).is_none() {
            let hint = if k.contains(':') {
                format!("the prefix of \"{k}\" is not defined in @context")
            } else {
                format!(
                    "unknown field \"{k}\": extension fields need a namespace prefix defined in @context (e.g. \"acme:{k}\")"
                )
            };
            errs.push(format!("{ptr}/{}", esc(k)), hint);
            continue;
        }
        ext.insert(k.clone(), v.clone());
    }
    ext
}

/// How a sensor attribute is checked.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Time,
    Uri,
    Decimal,
    Text,
    Bool,
    Hex,
    Voc(Vocab),
}

/// sensorMetadata attributes, in hash order.
pub(crate) const SENSOR_METADATA: &[(&str, Kind)] = &[
    ("time", Kind::Time),
    ("startTime", Kind::Time),
    ("endTime", Kind::Time),
    ("deviceID", Kind::Uri),
    ("deviceMetadata", Kind::Uri),
    ("rawData", Kind::Uri),
    ("dataProcessingMethod", Kind::Uri),
    ("bizRules", Kind::Uri),
];

/// A stored sensor report as JSON-LD: a GS1 measurement type our list does not know is written as its
/// `gs1:` CURIE, so that it reads back as the same term.
fn report_out(r: &Extensions) -> Value {
    let mut r = r.clone();
    if let Some(Value::String(t)) = r.get_mut("type")
        && !Vocab::MeasurementType.values().contains(&t.as_str())
        && !is_uri(t)
    {
        *t = format!("gs1:{t}");
    }
    Value::Object(r)
}

/// sensorReport attributes, in hash order.
pub(crate) const SENSOR_REPORT: &[(&str, Kind)] = &[
    ("type", Kind::Voc(Vocab::MeasurementType)),
    ("exception", Kind::Voc(Vocab::SensorAlert)),
    ("deviceID", Kind::Uri),
    ("deviceMetadata", Kind::Uri),
    ("rawData", Kind::Uri),
    ("dataProcessingMethod", Kind::Uri),
    ("time", Kind::Time),
    ("microorganism", Kind::Uri),
    ("chemicalSubstance", Kind::Uri),
    ("value", Kind::Decimal),
    ("component", Kind::Voc(Vocab::Component)),
    ("stringValue", Kind::Text),
    ("booleanValue", Kind::Bool),
    ("hexBinaryValue", Kind::Hex),
    ("uriValue", Kind::Uri),
    ("minValue", Kind::Decimal),
    ("maxValue", Kind::Decimal),
    ("meanValue", Kind::Decimal),
    ("sDev", Kind::Decimal),
    ("percRank", Kind::Decimal),
    ("percValue", Kind::Decimal),
    ("uom", Kind::Text),
    ("coordinateReferenceSystem", Kind::Uri),
    ("bizRules", Kind::Uri),
];

/// The vocabulary of a sensor attribute, if it has one.
pub(crate) fn sensor_vocab(table: &[(&str, Kind)], key: &str) -> Option<Vocab> {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, kind)| match kind {
            Kind::Voc(v) => Some(*v),
            _ => None,
        })
}

fn sensor_attrs(
    obj: &Map<String, Value>,
    table: &[(&str, Kind)],
    ptr: &str,
    ctx: &Context,
    errs: &mut Errors,
) -> Extensions {
    let mut out = Extensions::new();
    for (k, v) in obj {
        let p = format!("{ptr}/{}", esc(k));
        let Some((_, kind)) = table.iter().find(|(name, _)| name == k) else {
            continue;
        };
        let checked = match (kind, v) {
            (Kind::Time, Value::String(s)) => parse_timestamp(s).map(|_| v.clone()),
            (Kind::Uri, Value::String(s)) if is_uri(s) => Ok(v.clone()),
            (Kind::Uri, _) => Err(format!("expected a URI, got {}", describe(v))),
            (Kind::Decimal, Value::Number(_)) => Ok(v.clone()),
            (Kind::Decimal, _) => Err(format!("expected a number, got {}", describe(v))),
            (Kind::Text, Value::String(_)) => Ok(v.clone()),
            (Kind::Bool, Value::Bool(_)) => Ok(v.clone()),
            (Kind::Bool, _) => Err(format!("expected true or false, got {}", describe(v))),
            (Kind::Hex, Value::String(s))
                if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Ok(v.clone())
            }
            (Kind::Hex, _) => Err(format!(
                "expected hexadecimal binary (an even number of hex digits), got {}",
                describe(v)
            )),
            (Kind::Voc(voc), Value::String(s)) => voc.normalise(s).map(Value::String),
            (_, _) => Err(format!("expected a string, got {}", describe(v))),
        };
        match checked {
            Ok(val) => {
                out.insert(k.clone(), val);
            }
            Err(m) => errs.push(p, m),
        }
    }
    let known: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
    out.extend(collect_extensions(obj, &known, ptr, ctx, errs));
    out
}

fn get_sensors(
    obj: &Map<String, Value>,
    ptr: &str,
    ctx: &Context,
    errs: &mut Errors,
) -> Vec<SensorElement> {
    let p = format!("{ptr}/sensorElementList");
    let Some(v) = obj.get("sensorElementList") else {
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        errs.push(
            p,
            format!("expected an array of sensor elements, got {}", describe(v)),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let Some(el) = item.as_object() else {
            errs.push(
                ip,
                format!("expected a sensor element object, got {}", describe(item)),
            );
            continue;
        };
        let metadata = match el.get("sensorMetadata") {
            None => None,
            Some(Value::Object(m)) => Some(sensor_attrs(
                m,
                SENSOR_METADATA,
                &format!("{ip}/sensorMetadata"),
                ctx,
                errs,
            )),
            Some(other) => {
                errs.push(
                    format!("{ip}/sensorMetadata"),
                    format!("expected an object, got {}", describe(other)),
                );
                None
            }
        };
        let mut reports = Vec::new();
        match el.get("sensorReport") {
            Some(Value::Array(rs)) if !rs.is_empty() => {
                for (j, r) in rs.iter().enumerate() {
                    let rp = format!("{ip}/sensorReport/{j}");
                    match r.as_object() {
                        Some(ro) => {
                            if !ro.contains_key("type") {
                                errs.push(
                                    format!("{rp}/type"),
                                    "required: the measurement type, e.g. \"Temperature\"",
                                );
                            }
                            reports.push(sensor_attrs(ro, SENSOR_REPORT, &rp, ctx, errs));
                        }
                        None => errs.push(
                            rp,
                            format!("expected a sensor report object, got {}", describe(r)),
                        ),
                    }
                }
            }
            Some(other) => errs.push(
                format!("{ip}/sensorReport"),
                format!(
                    "expected a non-empty array of sensor reports, got {}",
                    describe(other)
                ),
            ),
            None => errs.push(
                format!("{ip}/sensorReport"),
                "required: at least one sensor report",
            ),
        }
        let extensions =
            collect_extensions(el, &["sensorMetadata", "sensorReport"], &ip, ctx, errs);
        out.push(SensorElement {
            metadata,
            reports,
            extensions,
        });
    }
    out
}

fn get_biz_transactions(
    obj: &Map<String, Value>,
    ptr: &str,
    errs: &mut Errors,
) -> Vec<BizTransaction> {
    let p = format!("{ptr}/bizTransactionList");
    let Some(v) = obj.get("bizTransactionList") else {
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        errs.push(
            p,
            format!(
                "expected an array of business transactions, got {}",
                describe(v)
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let Some(o) = item.as_object() else {
            errs.push(
                ip,
                format!(
                    "expected an object with \"bizTransaction\", got {}",
                    describe(item)
                ),
            );
            continue;
        };
        let kind = get_vocab(o, "type", &ip, Vocab::BizTransactionType, errs);
        match get_uri(o, "bizTransaction", &ip, "a business transaction", errs) {
            Some(id) => out.push(BizTransaction { kind, id }),
            None if !o.contains_key("bizTransaction") => errs.push(
                format!("{ip}/bizTransaction"),
                "required: the business transaction URI",
            ),
            None => {}
        }
    }
    out
}

fn get_source_dest(
    obj: &Map<String, Value>,
    key: &str,
    item_key: &str,
    ptr: &str,
    errs: &mut Errors,
) -> Vec<SourceDest> {
    let p = format!("{ptr}/{key}");
    let Some(v) = obj.get(key) else {
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        errs.push(p, format!("expected an array, got {}", describe(v)));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let Some(o) = item.as_object() else {
            errs.push(
                ip,
                format!(
                    "expected an object with \"type\" and \"{item_key}\", got {}",
                    describe(item)
                ),
            );
            continue;
        };
        let kind = get_vocab(o, "type", &ip, Vocab::SourceDestType, errs);
        if !o.contains_key("type") {
            errs.push(
                format!("{ip}/type"),
                "required: owning_party, possessing_party, location or a URI",
            );
        }
        let id = get_uri(o, item_key, &ip, "a party or location", errs);
        if !o.contains_key(item_key) {
            errs.push(
                format!("{ip}/{item_key}"),
                "required: the party or location URI",
            );
        }
        if let (Some(kind), Some(id)) = (kind, id) {
            out.push(SourceDest { kind, id });
        }
    }
    out
}

fn used_namespaces(e: &Event, ctx: &Context) -> Vec<(String, String)> {
    fn walk(v: &Value, keys: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    keys.push(k.clone());
                    walk(v, keys);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    let mut keys = Vec::new();
    let mut maps: Vec<&Extensions> = vec![&e.extensions];
    maps.extend(e.ilmd.as_ref());
    maps.extend(e.read_point.as_ref().map(|l| &l.extensions));
    maps.extend(e.biz_location.as_ref().map(|l| &l.extensions));
    maps.extend(e.error_declaration.as_ref().map(|d| &d.extensions));
    for s in &e.sensor_element_list {
        maps.push(&s.extensions);
        maps.extend(s.metadata.as_ref());
        maps.extend(s.reports.iter());
        // A measurement type of one's own vocabulary is a CURIE too (`example:someSensorProperty`).
        for r in &s.reports {
            for field in ["type", "exception", "component"] {
                if let Some(Value::String(v)) = r.get(field) {
                    keys.push(v.clone());
                }
            }
        }
    }
    for m in maps {
        for (k, v) in m {
            keys.push(k.clone());
            walk(v, &mut keys);
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for k in keys {
        if let Some((prefix, _)) = k.split_once(':')
            && !STANDARD_PREFIXES
                .iter()
                .any(|(p, iri)| *p == prefix && ctx.iri(prefix) == Some(iri))
            && let Some(iri) = ctx.iri(prefix)
            && !out.iter().any(|(p, _)| p == prefix)
        {
            out.push((prefix.to_string(), iri.to_string()));
        }
    }
    out
}

/// Parses one event object at `ptr`; errors go to `errs`, and `None` comes back when the event is unusable.
fn parse_event(v: &Value, ptr: &str, doc_ctx: &Context, errs: &mut Errors) -> Option<Event> {
    let Some(obj) = v.as_object() else {
        errs.push(
            ptr,
            format!("expected an event object, got {}", describe(v)),
        );
        return None;
    };
    let before = errs.0.len() + errs.1;
    let mut ctx = doc_ctx.clone();
    if let Some(c) = obj.get("@context") {
        ctx.extend_from(c);
    }
    let t = match obj.get("type") {
        Some(Value::String(s)) => match EventType::parse(s) {
            Some(t) => t,
            None => {
                errs.push(
                    format!("{ptr}/type"),
                    format!(
                        "expected ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent or \
                         TransactionEvent, got \"{s}\""
                    ),
                );
                return None;
            }
        },
        Some(other) => {
            errs.push(
                format!("{ptr}/type"),
                format!(
                    "expected the event type as a string, got {}",
                    describe(other)
                ),
            );
            return None;
        }
        None => {
            errs.push(
                format!("{ptr}/type"),
                "required: the event type, e.g. \"ObjectEvent\"",
            );
            return None;
        }
    };
    let allowed = allowed_fields(t);
    for k in obj.keys() {
        if ALL_STANDARD_FIELDS.contains(&k.as_str()) && !allowed.contains(&k.as_str()) {
            errs.push(
                format!("{ptr}/{}", esc(k)),
                format!("not a field of {}", t.as_str()),
            );
        }
    }
    let event_time = get_time(obj, "eventTime", ptr, errs);
    if let Some(Err(m)) = event_time
        .as_deref()
        .and_then(|t| parse_timestamp(t).ok())
        .map(|t| suyuan_core::time::check_not_future(&t))
    {
        errs.push(format!("{ptr}/eventTime"), m);
    }
    if !obj.contains_key("eventTime") {
        errs.push(
            format!("{ptr}/eventTime"),
            "required: when the event happened (RFC 3339 date-time)",
        );
    }
    let offset = get_str(obj, "eventTimeZoneOffset", ptr, errs).map(str::to_string);
    match &offset {
        Some(o) => {
            if let Err(m) = validate_offset(o) {
                errs.push(format!("{ptr}/eventTimeZoneOffset"), m);
            }
        }
        None if !obj.contains_key("eventTimeZoneOffset") => errs.push(
            format!("{ptr}/eventTimeZoneOffset"),
            "required: the local offset, e.g. \"+08:00\"",
        ),
        None => {}
    }
    let mut e = Event::new(
        t,
        event_time.clone().unwrap_or_default(),
        offset.clone().unwrap_or_default(),
    );
    e.event_id = get_uri(obj, "eventID", ptr, "the eventID", errs);
    e.record_time = get_time(obj, "recordTime", ptr, errs);
    match obj.get("certificationInfo") {
        None => {}
        Some(Value::String(s)) if is_uri(s) => {
            e.certification_info = Some(Value::String(s.clone()))
        }
        Some(Value::Array(a)) if a.iter().all(|x| x.as_str().is_some_and(is_uri)) => {
            e.certification_info = Some(Value::Array(a.clone()))
        }
        Some(other) => errs.push(
            format!("{ptr}/certificationInfo"),
            format!(
                "expected a URI or an array of URIs, got {}",
                describe(other)
            ),
        ),
    }
    if let Some(d) = obj.get("errorDeclaration") {
        let dp = format!("{ptr}/errorDeclaration");
        match d.as_object() {
            Some(dobj) => {
                let time = get_time(dobj, "declarationTime", &dp, errs);
                if !dobj.contains_key("declarationTime") {
                    errs.push(
                        format!("{dp}/declarationTime"),
                        "required: when the error was declared",
                    );
                }
                let reason = get_vocab(dobj, "reason", &dp, Vocab::ErrorReason, errs);
                let corrective = match dobj.get("correctiveEventIDs") {
                    None => Vec::new(),
                    Some(Value::Array(a)) => a
                        .iter()
                        .enumerate()
                        .filter_map(|(i, x)| match x.as_str() {
                            Some(s) if is_uri(s) => Some(s.to_string()),
                            _ => {
                                errs.push(
                                    format!("{dp}/correctiveEventIDs/{i}"),
                                    format!("expected an eventID URI, got {}", describe(x)),
                                );
                                None
                            }
                        })
                        .collect(),
                    Some(other) => {
                        errs.push(
                            format!("{dp}/correctiveEventIDs"),
                            format!("expected an array, got {}", describe(other)),
                        );
                        Vec::new()
                    }
                };
                let extensions = collect_extensions(
                    dobj,
                    &["declarationTime", "reason", "correctiveEventIDs"],
                    &dp,
                    &ctx,
                    errs,
                );
                if let Some(declaration_time) = time {
                    e.error_declaration = Some(ErrorDeclaration {
                        declaration_time,
                        reason,
                        corrective_event_ids: corrective,
                        extensions,
                    });
                }
            }
            None => errs.push(dp, format!("expected an object, got {}", describe(d))),
        }
    }
    e.epc_list = get_uri_list(obj, "epcList", ptr, errs);
    e.parent_id = get_uri(obj, "parentID", ptr, "the parent", errs);
    e.child_epcs = get_uri_list(obj, "childEPCs", ptr, errs);
    e.input_epc_list = get_uri_list(obj, "inputEPCList", ptr, errs);
    e.output_epc_list = get_uri_list(obj, "outputEPCList", ptr, errs);
    e.quantity_list = get_quantities(obj, "quantityList", ptr, errs);
    e.child_quantity_list = get_quantities(obj, "childQuantityList", ptr, errs);
    e.input_quantity_list = get_quantities(obj, "inputQuantityList", ptr, errs);
    e.output_quantity_list = get_quantities(obj, "outputQuantityList", ptr, errs);
    e.action = match get_str(obj, "action", ptr, errs) {
        Some(a) => match Action::parse(a) {
            Some(a) => Some(a),
            None => {
                errs.push(
                    format!("{ptr}/action"),
                    format!("expected ADD, OBSERVE or DELETE, got \"{a}\""),
                );
                None
            }
        },
        None => None,
    };
    if t != EventType::Transformation && !obj.contains_key("action") {
        errs.push(
            format!("{ptr}/action"),
            format!("required in {}: ADD, OBSERVE or DELETE", t.as_str()),
        );
    }
    e.transformation_id = get_uri(obj, "transformationID", ptr, "the transformation ID", errs);
    e.biz_step = get_vocab(obj, "bizStep", ptr, Vocab::BizStep, errs);
    e.disposition = get_vocab(obj, "disposition", ptr, Vocab::Disposition, errs);
    if let Some(pd) = obj.get("persistentDisposition") {
        let pp = format!("{ptr}/persistentDisposition");
        match pd.as_object() {
            Some(po) => {
                let mut out = PersistentDisposition::default();
                for (k, v) in po {
                    let target = match k.as_str() {
                        "set" => &mut out.set,
                        "unset" => &mut out.unset,
                        _ => {
                            errs.push(
                                format!("{pp}/{}", esc(k)),
                                "unknown field: expected \"set\" or \"unset\"",
                            );
                            continue;
                        }
                    };
                    match v.as_array() {
                        Some(items) => {
                            for (i, item) in items.iter().enumerate() {
                                match item.as_str().map(|s| Vocab::Disposition.normalise(s)) {
                                    Some(Ok(d)) => target.push(d),
                                    Some(Err(m)) => errs.push(format!("{pp}/{k}/{i}"), m),
                                    None => errs.push(
                                        format!("{pp}/{k}/{i}"),
                                        format!(
                                            "expected a disposition string, got {}",
                                            describe(item)
                                        ),
                                    ),
                                }
                            }
                        }
                        None => errs.push(
                            format!("{pp}/{k}"),
                            format!("expected an array of dispositions, got {}", describe(v)),
                        ),
                    }
                }
                e.persistent_disposition = Some(out);
            }
            None => errs.push(
                pp,
                format!(
                    "expected an object with \"set\" and/or \"unset\", got {}",
                    describe(pd)
                ),
            ),
        }
    }
    e.read_point = get_location(obj, "readPoint", ptr, &ctx, errs);
    e.biz_location = get_location(obj, "bizLocation", ptr, &ctx, errs);
    e.biz_transaction_list = get_biz_transactions(obj, ptr, errs);
    e.source_list = get_source_dest(obj, "sourceList", "source", ptr, errs);
    e.destination_list = get_source_dest(obj, "destinationList", "destination", ptr, errs);
    e.sensor_element_list = get_sensors(obj, ptr, &ctx, errs);
    if let Some(ilmd) = obj.get("ilmd") {
        match ilmd.as_object() {
            Some(m) => {
                e.ilmd = Some(collect_extensions(
                    m,
                    &[],
                    &format!("{ptr}/ilmd"),
                    &ctx,
                    errs,
                ))
            }
            None => errs.push(
                format!("{ptr}/ilmd"),
                format!(
                    "expected an object of master data fields, got {}",
                    describe(ilmd)
                ),
            ),
        }
    }
    let mut known: Vec<&str> = COMMON.to_vec();
    known.extend_from_slice(ALL_STANDARD_FIELDS);
    e.extensions = collect_extensions(obj, &known, ptr, &ctx, errs);

    // Per-type requirements of the EPCIS 2.0 schema.
    match t {
        // The schema's anyOf: epcList, a non-empty quantityList, or sensor data at a read point.
        EventType::Object
            if !obj.contains_key("epcList")
                && e.quantity_list.is_empty()
                && !(obj
                    .get("sensorElementList")
                    .and_then(Value::as_array)
                    .is_some_and(|l| !l.is_empty())
                    && obj.contains_key("readPoint")) =>
        {
            errs.push(
                format!("{ptr}/epcList"),
                "required: an ObjectEvent names its objects in epcList or quantityList, or reports sensor data \
                 (sensorElementList) at a readPoint",
            )
        }
        EventType::Aggregation | EventType::Association => {
            if e.parent_id.is_none() && (t == EventType::Association || e.action != Some(Action::Observe)) {
                errs.push(format!("{ptr}/parentID"), format!("required in {} with action ADD or DELETE", t.as_str()));
            }
            if e.child_epcs.is_empty() && e.child_quantity_list.is_empty() && e.action == Some(Action::Add) {
                errs.push(format!("{ptr}/childEPCs"), "required: at least one child in childEPCs or childQuantityList");
            }
        }
        EventType::Transaction if e.biz_transaction_list.is_empty() && !obj.contains_key("bizTransactionList") => {
            errs.push(format!("{ptr}/bizTransactionList"), "required in TransactionEvent: at least one business transaction")
        }
        EventType::Transformation
            if e.input_epc_list.is_empty()
                && e.input_quantity_list.is_empty()
                && e.output_epc_list.is_empty()
                && e.output_quantity_list.is_empty() =>
        {
            errs.push(
                format!("{ptr}/inputEPCList"),
                "required: a TransformationEvent has at least one input or output (EPCs or quantities)",
            )
        }
        _ => {}
    }
    e.namespaces = used_namespaces(&e, &ctx);
    if errs.0.len() + errs.1 > before {
        None
    } else {
        Some(e)
    }
}

fn ids(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

fn quantities(v: &[QuantityElement]) -> Value {
    Value::Array(
        v.iter()
            .map(|q| {
                let mut m = Map::new();
                m.insert("epcClass".into(), json!(q.epc_class));
                if let Some(n) = &q.quantity {
                    m.insert("quantity".into(), Value::Number(n.clone()));
                }
                if let Some(u) = &q.uom {
                    m.insert("uom".into(), json!(u));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

fn location(l: &Location) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(l.id));
    m.extend(l.extensions.clone());
    Value::Object(m)
}

/// Serialises an event as a JSON-LD object (without `@context` unless `with_context`, which adds the
/// standard context and the event's own namespace prefixes).
pub fn event_to_jsonld(e: &Event, with_context: bool) -> Value {
    let mut m = Map::new();
    if with_context {
        m.insert("@context".into(), context_value(&e.namespaces));
    }
    m.insert("type".into(), json!(e.event_type.as_str()));
    if let Some(id) = &e.event_id {
        m.insert("eventID".into(), json!(id));
    }
    m.insert("eventTime".into(), json!(e.event_time));
    if let Some(r) = &e.record_time {
        m.insert("recordTime".into(), json!(r));
    }
    m.insert(
        "eventTimeZoneOffset".into(),
        json!(e.event_time_zone_offset),
    );
    if let Some(c) = &e.certification_info {
        m.insert("certificationInfo".into(), c.clone());
    }
    if let Some(d) = &e.error_declaration {
        let mut dm = Map::new();
        dm.insert("declarationTime".into(), json!(d.declaration_time));
        if let Some(r) = &d.reason {
            dm.insert("reason".into(), json!(r));
        }
        if !d.corrective_event_ids.is_empty() {
            dm.insert("correctiveEventIDs".into(), ids(&d.corrective_event_ids));
        }
        dm.extend(d.extensions.clone());
        m.insert("errorDeclaration".into(), Value::Object(dm));
    }
    if let Some(p) = &e.parent_id {
        m.insert("parentID".into(), json!(p));
    }
    if !e.epc_list.is_empty() || (e.event_type == EventType::Object && e.quantity_list.is_empty()) {
        m.insert("epcList".into(), ids(&e.epc_list));
    }
    if !e.child_epcs.is_empty() {
        m.insert("childEPCs".into(), ids(&e.child_epcs));
    }
    if !e.input_epc_list.is_empty() {
        m.insert("inputEPCList".into(), ids(&e.input_epc_list));
    }
    if !e.input_quantity_list.is_empty() {
        m.insert(
            "inputQuantityList".into(),
            quantities(&e.input_quantity_list),
        );
    }
    if !e.output_epc_list.is_empty() {
        m.insert("outputEPCList".into(), ids(&e.output_epc_list));
    }
    if !e.output_quantity_list.is_empty() {
        m.insert(
            "outputQuantityList".into(),
            quantities(&e.output_quantity_list),
        );
    }
    if !e.quantity_list.is_empty() {
        m.insert("quantityList".into(), quantities(&e.quantity_list));
    }
    if !e.child_quantity_list.is_empty() {
        m.insert(
            "childQuantityList".into(),
            quantities(&e.child_quantity_list),
        );
    }
    if let Some(a) = e.action {
        m.insert("action".into(), json!(a.as_str()));
    }
    if let Some(t) = &e.transformation_id {
        m.insert("transformationID".into(), json!(t));
    }
    if let Some(b) = &e.biz_step {
        m.insert("bizStep".into(), json!(b));
    }
    if let Some(d) = &e.disposition {
        m.insert("disposition".into(), json!(d));
    }
    if let Some(pd) = &e.persistent_disposition {
        let mut pm = Map::new();
        if !pd.set.is_empty() {
            pm.insert("set".into(), ids(&pd.set));
        }
        if !pd.unset.is_empty() {
            pm.insert("unset".into(), ids(&pd.unset));
        }
        m.insert("persistentDisposition".into(), Value::Object(pm));
    }
    if let Some(l) = &e.read_point {
        m.insert("readPoint".into(), location(l));
    }
    if let Some(l) = &e.biz_location {
        m.insert("bizLocation".into(), location(l));
    }
    if !e.biz_transaction_list.is_empty() {
        let v = e
            .biz_transaction_list
            .iter()
            .map(|b| {
                let mut bm = Map::new();
                if let Some(k) = &b.kind {
                    bm.insert("type".into(), json!(k));
                }
                bm.insert("bizTransaction".into(), json!(b.id));
                Value::Object(bm)
            })
            .collect();
        m.insert("bizTransactionList".into(), Value::Array(v));
    }
    for (key, item, list) in [
        ("sourceList", "source", &e.source_list),
        ("destinationList", "destination", &e.destination_list),
    ] {
        if !list.is_empty() {
            let v = list
                .iter()
                .map(|s| json!({"type": s.kind, item: s.id}))
                .collect();
            m.insert(key.into(), Value::Array(v));
        }
    }
    if !e.sensor_element_list.is_empty() {
        let v = e
            .sensor_element_list
            .iter()
            .map(|s| {
                let mut sm = Map::new();
                if let Some(md) = &s.metadata {
                    sm.insert("sensorMetadata".into(), Value::Object(md.clone()));
                }
                sm.insert(
                    "sensorReport".into(),
                    Value::Array(s.reports.iter().map(report_out).collect()),
                );
                sm.extend(s.extensions.clone());
                Value::Object(sm)
            })
            .collect();
        m.insert("sensorElementList".into(), Value::Array(v));
    }
    if let Some(i) = &e.ilmd {
        m.insert("ilmd".into(), Value::Object(i.clone()));
    }
    m.extend(e.extensions.clone());
    Value::Object(m)
}

/// The `@context` value for a set of namespace prefixes.
pub fn context_value(namespaces: &[(String, String)]) -> Value {
    let mut ctx = vec![json!(EPCIS_CONTEXT)];
    for (p, iri) in namespaces {
        ctx.push(json!({ p: iri }));
    }
    Value::Array(ctx)
}

/// An `EPCISDocument` holding `events`, with one `@context` covering all their namespaces.
pub fn document_to_jsonld(events: &[Event], creation_date: &str) -> Value {
    let mut ns: Vec<(String, String)> = Vec::new();
    for e in events {
        for (p, iri) in &e.namespaces {
            if !ns.iter().any(|(q, _)| q == p) {
                ns.push((p.clone(), iri.clone()));
            }
        }
    }
    json!({
        "@context": context_value(&ns),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": creation_date,
        "epcisBody": { "eventList": events.iter().map(|e| event_to_jsonld(e, false)).collect::<Vec<_>>() }
    })
}

/// The namespace context an event's extension keys resolve against (standard prefixes plus its own).
pub fn event_context(e: &Event) -> Context {
    let mut ctx = Context::default();
    for (p, iri) in &e.namespaces {
        ctx.prefixes.retain(|(q, _)| q != p);
        ctx.prefixes.push((p.clone(), iri.clone()));
    }
    ctx
}

/// The standard fields of an event in the order Suyuan writes them.
const FIELD_ORDER: &[&str] = &[
    "@context",
    "type",
    "eventID",
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "errorDeclaration",
    "parentID",
    "epcList",
    "childEPCs",
    "inputEPCList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "quantityList",
    "childQuantityList",
    "action",
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
];

/// Puts an event object's top-level fields in the conventional order (standard fields first, then extensions in
/// their stored order); other values come back unchanged.
pub fn conventional_order(v: Value) -> Value {
    let Value::Object(mut m) = v else { return v };
    let mut out = Map::with_capacity(m.len());
    for key in FIELD_ORDER {
        if let Some(x) = m.shift_remove(*key) {
            out.insert((*key).to_string(), x);
        }
    }
    out.extend(m);
    Value::Object(out)
}
