//! One query filter and how it matches an event: fields, EPC patterns, quantities, sensor readings, master-data attributes, extensions.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone)]
pub(super) enum Filter {
    EventType(Vec<String>),
    Time(&'static str, Cmp, i64),
    RecordTime(Cmp, i64),
    Action(Vec<String>),
    Vocab(&'static str, Vec<String>),
    Place(&'static str, Vec<String>),
    /// A place or its descendants: the roots as parsed, widened by [`Query::resolve_master_data`].
    Within(&'static str, Vec<String>),
    /// A field whose vocabulary element's master data passes `test`: `ids` (canonical) are those elements,
    /// filled in by [`Query::resolve_master_data`].
    Attr {
        field: &'static str,
        test: AttrTest,
        ids: Vec<String>,
    },
    Match(Epcs, Vec<Pattern>),
    Quantity(Cmp, f64, Option<String>),
    EventId(Vec<String>),
    ErrorDeclarationExists,
    ErrorReason(Vec<String>),
    CorrectiveEventId(Vec<String>),
    ErrorDeclarationTime(Cmp, i64),
    TransformationId(Vec<String>),
    BizTransaction(String, Vec<String>),
    SourceDest(&'static str, String, Vec<String>),
    PersistentDisposition(&'static str, Vec<String>),
    SensorExists,
    Sensor(SensorField, SensorTest),
    Field {
        scope: Scope,
        inner: bool,
        name: String,
        test: FieldTest,
    },
}

/// A test on a vocabulary element's master data attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AttrTest {
    /// `HASATTR_<field>`: has one of these attributes.
    Has(Vec<String>),
    /// `EQ_ATTR_<field>_<attr>`: the attribute has one of these values.
    Eq(String, Vec<String>),
}

/// The event fields whose values are vocabulary elements with master data, for `HASATTR_` / `EQ_ATTR_`.
pub(super) const MASTER_DATA_FIELDS: [&str; 4] =
    ["readPoint", "bizLocation", "bizStep", "disposition"];

pub(super) fn master_data_field(k: &str, field: &str) -> Result<&'static str, QueryParamError> {
    MASTER_DATA_FIELDS
        .into_iter()
        .find(|f| *f == field)
        .ok_or_else(|| {
            err(
                k,
                format!(
                    "expected one of the fields {} after the prefix",
                    MASTER_DATA_FIELDS.join(", ")
                ),
            )
        })
}

/// The form a field's value and a vocabulary element id are compared in.
pub(super) fn element_key(field: &str, id: &str) -> String {
    match field {
        "bizStep" => Vocab::BizStep
            .normalise(id)
            .unwrap_or_else(|_| id.to_string()),
        "disposition" => Vocab::Disposition
            .normalise(id)
            .unwrap_or_else(|_| id.to_string()),
        _ => object_key(id),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SensorField {
    /// A field of each sensor report.
    Report(&'static str),
    /// A field of the sensor metadata.
    Metadata(&'static str),
    /// A field of the metadata or of any report.
    Both(&'static str),
}

#[derive(Debug, Clone)]
pub(super) enum SensorTest {
    Any(Vec<String>),
    Number(Cmp, f64, Option<String>),
    Time(Cmp, i64),
}

#[derive(Debug, Clone)]
pub(super) enum FieldTest {
    Exists,
    Eq(Vec<String>),
    Cmp(Cmp, String),
}

/// An EPC pattern: an exact canonical key, or a prefix (`urn:epc:idpat:sgtin:0614141.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pattern {
    Exact(String),
    Prefix(String),
}

impl Pattern {
    pub(super) fn parse(s: &str) -> Pattern {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("urn:epc:idpat:") {
            // urn:epc:idpat:sgtin:0614141.107346.* → every serial of that GTIN; .*.* → every GTIN of the prefix.
            let parts: Vec<&str> = rest.splitn(2, ':').collect();
            if let [scheme, body] = parts[..] {
                let fields: Vec<&str> = body.split('.').collect();
                let fixed: Vec<&str> = fields.iter().take_while(|f| **f != "*").copied().collect();
                if fixed.len() == fields.len() {
                    return Pattern::Exact(object_key(&format!("urn:epc:id:{scheme}:{body}")));
                }
                return Pattern::Prefix(format!("urn:epc:id:{scheme}:{}.", fixed.join(".")));
            }
        }
        Pattern::Exact(object_key(s))
    }

    pub(super) fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(k) => object_key(value) == *k,
            Pattern::Prefix(p) => {
                value.starts_with(p.as_str())
                    || suyuan_core::gs1::canonical_digital_link(value)
                        .zip(dl_prefix(p))
                        .is_some_and(|(dl, pre)| dl.starts_with(&pre))
            }
        }
    }
}

impl Filter {
    pub(super) fn matches(&self, e: &Value, record_ms: i64) -> bool {
        match self {
            Filter::EventType(t) => str_of(e, "type").is_some_and(|x| t.iter().any(|y| y == x)),
            Filter::Time(field, c, t) => time_of(e.get(*field)).is_some_and(|x| c.holds(x.cmp(t))),
            Filter::RecordTime(c, t) => c.holds(record_ms.cmp(t)),
            Filter::Action(a) => str_of(e, "action").is_some_and(|x| a.iter().any(|y| y == x)),
            Filter::Vocab(field, vals) => {
                str_of(e, field).is_some_and(|x| vals.iter().any(|y| y == x))
            }
            Filter::Attr { field, ids, .. } => {
                let value = match *field {
                    "readPoint" | "bizLocation" => e.get(*field).and_then(|p| str_of(p, "id")),
                    f => str_of(e, f),
                };
                value.is_some_and(|v| ids.contains(&element_key(field, v)))
            }
            Filter::Place(field, ks) | Filter::Within(field, ks) => e
                .get(*field)
                .and_then(|p| str_of(p, "id"))
                .is_some_and(|id| ks.contains(&object_key(id))),
            Filter::Match(which, pats) => {
                epcs(e, *which).any(|v| pats.iter().any(|p| p.matches(v)))
            }
            Filter::Quantity(c, n, uom) => quantities(e).any(|q| {
                let unit_ok = match uom {
                    Some(u) => str_of(q, "uom") == Some(u.as_str()),
                    None => true,
                };
                unit_ok
                    && q.get("quantity")
                        .and_then(num_of)
                        .is_some_and(|x| cmp_f(*c, x, *n))
            }),
            Filter::EventId(ids) => {
                str_of(e, "eventID").is_some_and(|x| ids.iter().any(|y| y == x))
            }
            Filter::ErrorDeclarationExists => e.get("errorDeclaration").is_some(),
            Filter::ErrorReason(r) => e
                .get("errorDeclaration")
                .and_then(|d| str_of(d, "reason"))
                .is_some_and(|x| r.iter().any(|y| y == x)),
            Filter::CorrectiveEventId(ids) => e
                .get("errorDeclaration")
                .map(|d| {
                    list(d, "correctiveEventIDs")
                        .filter_map(Value::as_str)
                        .any(|x| ids.iter().any(|y| y == x))
                })
                .unwrap_or(false),
            Filter::ErrorDeclarationTime(c, t) => e
                .get("errorDeclaration")
                .and_then(|d| time_of(d.get("declarationTime")))
                .is_some_and(|x| c.holds(x.cmp(t))),
            Filter::TransformationId(ids) => {
                str_of(e, "transformationID").is_some_and(|x| ids.iter().any(|y| y == x))
            }
            Filter::BizTransaction(t, vals) => list(e, "bizTransactionList").any(|b| {
                str_of(b, "type") == Some(t.as_str())
                    && str_of(b, "bizTransaction").is_some_and(|x| vals.iter().any(|y| y == x))
            }),
            Filter::SourceDest(field, t, ks) => {
                let listname = if *field == "source" {
                    "sourceList"
                } else {
                    "destinationList"
                };
                list(e, listname).any(|s| {
                    str_of(s, "type") == Some(t.as_str())
                        && str_of(s, field).is_some_and(|x| ks.contains(&object_key(x)))
                })
            }
            Filter::PersistentDisposition(which, vals) => e
                .get("persistentDisposition")
                .map(|p| {
                    list(p, which)
                        .filter_map(Value::as_str)
                        .any(|x| vals.iter().any(|y| y == x))
                })
                .unwrap_or(false),
            Filter::SensorExists => list(e, "sensorElementList").next().is_some(),
            Filter::Sensor(field, test) => list(e, "sensorElementList").any(|el| {
                let values: Vec<&Value> = match field {
                    SensorField::Report(f) => {
                        list(el, "sensorReport").filter_map(|r| r.get(*f)).collect()
                    }
                    SensorField::Metadata(f) => el
                        .get("sensorMetadata")
                        .and_then(|m| m.get(*f))
                        .into_iter()
                        .collect(),
                    SensorField::Both(f) => el
                        .get("sensorMetadata")
                        .and_then(|m| m.get(*f))
                        .into_iter()
                        .chain(list(el, "sensorReport").filter_map(|r| r.get(*f)))
                        .collect(),
                };
                let uom_ok = |r: &Value, u: &Option<String>| {
                    u.as_ref()
                        .is_none_or(|u| str_of(r, "uom") == Some(u.as_str()))
                };
                match (test, field) {
                    (SensorTest::Any(vals), _) => values.iter().any(|x| {
                        let s = match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        vals.contains(&s)
                    }),
                    (SensorTest::Time(c, t), _) => values
                        .iter()
                        .any(|x| time_of(Some(x)).is_some_and(|v| c.holds(v.cmp(t)))),
                    (SensorTest::Number(c, n, u), SensorField::Report(f)) => {
                        list(el, "sensorReport").any(|r| {
                            uom_ok(r, u)
                                && r.get(*f).and_then(num_of).is_some_and(|x| cmp_f(*c, x, *n))
                        })
                    }
                    (SensorTest::Number(c, n, _), _) => values
                        .iter()
                        .any(|x| num_of(x).is_some_and(|v| cmp_f(*c, v, *n))),
                }
            }),
            Filter::Field {
                scope,
                inner,
                name,
                test,
            } => {
                let roots: Vec<&Value> = match scope {
                    Scope::Top => vec![e],
                    Scope::Ilmd => e.get("ilmd").into_iter().collect(),
                    Scope::ErrorDeclaration => e.get("errorDeclaration").into_iter().collect(),
                    Scope::ReadPoint => e.get("readPoint").into_iter().collect(),
                    Scope::BizLocation => e.get("bizLocation").into_iter().collect(),
                    Scope::SensorElement => list(e, "sensorElementList").collect(),
                    Scope::SensorMetadata => list(e, "sensorElementList")
                        .filter_map(|s| s.get("sensorMetadata"))
                        .collect(),
                    Scope::SensorReport => list(e, "sensorElementList")
                        .flat_map(|s| list(s, "sensorReport"))
                        .collect(),
                };
                let ctx = namespaces(e);
                roots.into_iter().any(|r| {
                    let mut found = Vec::new();
                    if *inner {
                        collect_inner(r, name, &ctx, &mut found, 0);
                    } else if let Some(obj) = r.as_object() {
                        found.extend(
                            obj.iter()
                                .filter(|(k, _)| same_name(k, name, &ctx))
                                .map(|(_, v)| v),
                        );
                    }
                    found.iter().any(|v| field_test(test, v))
                })
            }
        }
    }
}

/// The event's JSON-LD prefixes (from its `@context` objects).
pub(super) fn namespaces(e: &Value) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let mut add = |o: &Value| {
        if let Some(obj) = o.as_object() {
            for (k, v) in obj {
                if let Some(s) = v.as_str() {
                    m.insert(k.clone(), s.to_string());
                }
            }
        }
    };
    match e.get("@context") {
        Some(Value::Array(a)) => a.iter().for_each(&mut add),
        Some(o) => add(o),
        None => {}
    }
    m
}

/// Whether a stored key (`ex:temp` or a full IRI) names the wanted field (`prefix:name` or full IRI).
pub(super) fn same_name(key: &str, wanted: &str, ctx: &HashMap<String, String>) -> bool {
    if key == wanted {
        return true;
    }
    let expand = |k: &str| match k.split_once(':') {
        Some((p, l)) => ctx.get(p).map(|ns| format!("{ns}{l}")),
        None => None,
    };
    expand(key).is_some_and(|k| k == wanted)
}

pub(super) fn collect_inner<'a>(
    v: &'a Value,
    name: &str,
    ctx: &HashMap<String, String>,
    out: &mut Vec<&'a Value>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                // Nested below a top-level extension field: depth ≥ 1 below the root.
                if depth > 0 && same_name(k, name, ctx) {
                    out.push(x);
                }
                if k.contains(':') || depth > 0 {
                    collect_inner(x, name, ctx, out, depth + 1);
                }
            }
        }
        Value::Array(a) => a
            .iter()
            .for_each(|x| collect_inner(x, name, ctx, out, depth)),
        _ => {}
    }
}

pub(super) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("@value").and_then(scalar),
        _ => None,
    }
}

pub(super) fn field_test(t: &FieldTest, v: &Value) -> bool {
    let values: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    match t {
        FieldTest::Exists => true,
        FieldTest::Eq(want) => values
            .iter()
            .filter_map(|x| scalar(x))
            .any(|s| want.contains(&s)),
        FieldTest::Cmp(c, want) => values.iter().filter_map(|x| scalar(x)).any(|s| {
            match (s.parse::<f64>(), want.parse::<f64>()) {
                (Ok(a), Ok(b)) => cmp_f(*c, a, b),
                _ => match (parse_timestamp(&s), parse_timestamp(want)) {
                    (Ok(a), Ok(b)) => c.holds(unix_millis(&a).cmp(&unix_millis(&b))),
                    _ => false,
                },
            }
        }),
    }
}

pub(super) fn quantities(e: &Value) -> impl Iterator<Item = &Value> {
    [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ]
    .into_iter()
    .flat_map(move |k| list(e, k))
}

pub(super) fn epcs(e: &Value, which: Epcs) -> Box<dyn Iterator<Item = &str> + '_> {
    let strs = move |k: &'static str| list(e, k).filter_map(Value::as_str);
    let classes = move |k: &'static str| list(e, k).filter_map(|q| str_of(q, "epcClass"));
    match which {
        Epcs::Epc => Box::new(strs("epcList").chain(strs("childEPCs"))),
        Epcs::Parent => Box::new(str_of(e, "parentID").into_iter()),
        Epcs::Input => Box::new(strs("inputEPCList")),
        Epcs::Output => Box::new(strs("outputEPCList")),
        Epcs::Any => Box::new(
            strs("epcList")
                .chain(strs("childEPCs"))
                .chain(strs("inputEPCList"))
                .chain(strs("outputEPCList"))
                .chain(str_of(e, "parentID")),
        ),
        Epcs::Class => Box::new(classes("quantityList").chain(classes("childQuantityList"))),
        Epcs::InputClass => Box::new(classes("inputQuantityList")),
        Epcs::OutputClass => Box::new(classes("outputQuantityList")),
        Epcs::AnyClass => Box::new(
            classes("quantityList")
                .chain(classes("childQuantityList"))
                .chain(classes("inputQuantityList"))
                .chain(classes("outputQuantityList")),
        ),
    }
}
