//! EPCIS 2.0 JSON-LD: parse capture bodies (a document or a single event) into [`Event`]s with errors located
//! by JSON pointer, and serialise events back to JSON-LD.

use serde_json::{Map, Value, json};
use suyuan_core::cbv::{Vocab, is_uri};
use suyuan_core::event::*;
use suyuan_core::gs1;
use suyuan_core::time::{parse_timestamp, validate_offset};

pub use suyuan_core::{FieldError, ValidationErrors};

mod fields;
mod sensors;
mod write;

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
