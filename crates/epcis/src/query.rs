//! EPCIS 2.0 SimpleEventQuery parameters (the REST bindings' `query-schema.json`): parsed once into
//! filters, then matched against stored events (JSON-LD, CBV values bare). Pure: the caller picks the
//! candidate events and pages the answer.

use serde_json::Value;
use std::collections::HashMap;
use suyuan_core::cbv::Vocab;
use suyuan_core::projection::object_key;
use suyuan_core::time::{parse_timestamp, unix_millis};

/// A query parameter that is unknown or malformed (a `QueryParameterException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct QueryParamError {
    /// The parameter as sent.
    pub parameter: String,
    /// What was expected.
    pub message: String,
}

fn err(p: &str, m: impl Into<String>) -> QueryParamError {
    QueryParamError {
        parameter: p.to_string(),
        message: m.into(),
    }
}

/// Order of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    /// By event time.
    EventTime,
    /// By record time (ledger order).
    RecordTime,
}

/// A parsed query: filters (all must hold) and answer shaping.
#[derive(Debug, Clone, Default)]
pub struct Query {
    filters: Vec<Filter>,
    /// `orderBy`; `None` = ledger order.
    pub order_by: Option<OrderBy>,
    /// `orderDirection` is ascending (default descending when `orderBy` is given).
    pub ascending: bool,
    /// `eventCountLimit`: answer at most this many (the first ones in the order).
    pub event_count_limit: Option<u64>,
    /// `maxEventCount`: refuse the query when more would match.
    pub max_event_count: Option<u64>,
    /// Exact objects a `MATCH_` parameter names (instances or classes, canonical keys, no wildcard): every
    /// matching event names one of them, so the caller may read only their histories as candidates.
    pub exact_objects: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Cmp::Eq => o == Equal,
            Cmp::Gt => o == Greater,
            Cmp::Ge => o != Less,
            Cmp::Lt => o == Less,
            Cmp::Le => o != Greater,
        }
    }
}

/// Which EPC-bearing fields a MATCH_ parameter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Epcs {
    Epc,
    Parent,
    Input,
    Output,
    Any,
    Class,
    InputClass,
    OutputClass,
    AnyClass,
}

/// Where an extension field is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Top,
    Ilmd,
    ErrorDeclaration,
    ReadPoint,
    BizLocation,
    SensorElement,
    SensorMetadata,
    SensorReport,
}

#[derive(Debug, Clone)]
enum Filter {
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
enum AttrTest {
    /// `HASATTR_<field>`: has one of these attributes.
    Has(Vec<String>),
    /// `EQ_ATTR_<field>_<attr>`: the attribute has one of these values.
    Eq(String, Vec<String>),
}

/// The event fields whose values are vocabulary elements with master data, for `HASATTR_` / `EQ_ATTR_`.
const MASTER_DATA_FIELDS: [&str; 4] = ["readPoint", "bizLocation", "bizStep", "disposition"];

fn master_data_field(k: &str, field: &str) -> Result<&'static str, QueryParamError> {
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
fn element_key(field: &str, id: &str) -> String {
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
enum SensorField {
    /// A field of each sensor report.
    Report(&'static str),
    /// A field of the sensor metadata.
    Metadata(&'static str),
    /// A field of the metadata or of any report.
    Both(&'static str),
}

#[derive(Debug, Clone)]
enum SensorTest {
    Any(Vec<String>),
    Number(Cmp, f64, Option<String>),
    Time(Cmp, i64),
}

#[derive(Debug, Clone)]
enum FieldTest {
    Exists,
    Eq(Vec<String>),
    Cmp(Cmp, String),
}

/// An EPC pattern: an exact canonical key, or a prefix (`urn:epc:idpat:sgtin:0614141.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Prefix(String),
}

impl Pattern {
    fn parse(s: &str) -> Pattern {
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

    fn matches(&self, value: &str) -> bool {
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

/// The Digital Link prefix of an EPC URN prefix with a complete company prefix and item reference
/// (`urn:epc:id:sgtin:0614141.107346.` → `https://id.gs1.org/01/10614141073464/21/`).
fn dl_prefix(p: &str) -> Option<String> {
    let probe = format!("{p}X");
    suyuan_core::gs1::canonical_digital_link(&probe).map(|dl| dl[..dl.len() - 1].to_string())
}

fn split(v: &str) -> Vec<String> {
    v.split('|')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn time(p: &str, v: &str) -> Result<i64, QueryParamError> {
    parse_timestamp(v)
        .map(|t| unix_millis(&t))
        .map_err(|m| err(p, m))
}

fn number(p: &str, v: &str) -> Result<f64, QueryParamError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| err(p, format!("expected a number, got \"{v}\"")))
}

fn vocab(p: &str, voc: Vocab, v: &str) -> Result<Vec<String>, QueryParamError> {
    split(v)
        .iter()
        .map(|s| voc.normalise(s).map_err(|m| err(p, m)))
        .collect()
}

fn cmp_of(op: &str) -> Option<Cmp> {
    Some(match op {
        "EQ" => Cmp::Eq,
        "GT" => Cmp::Gt,
        "GE" => Cmp::Ge,
        "LT" => Cmp::Lt,
        "LE" => Cmp::Le,
        _ => return None,
    })
}

/// Parameters that shape the answer rather than filter, handled by the caller.
pub const PAGING: [&str; 2] = ["perPage", "nextPageToken"];

impl Query {
    /// Parses query parameters (REST: repeated values separated by `|`); every unknown or malformed one is an
    /// error naming it. `extensions` maps prefixes to namespaces (`GS1-Extensions` header) for `EQ_x:y`.
    pub fn parse(
        params: &[(String, String)],
        extensions: &HashMap<String, String>,
    ) -> Result<Query, Vec<QueryParamError>> {
        let mut q = Query::default();
        let mut errors = Vec::new();
        for (k, v) in params {
            if PAGING.contains(&k.as_str()) {
                continue;
            }
            if let Err(e) = q.add(k, v, extensions) {
                errors.push(e);
            }
        }
        if q.event_count_limit.is_some() && q.max_event_count.is_some() {
            errors.push(err(
                "maxEventCount",
                "eventCountLimit and maxEventCount cannot be used together",
            ));
        }
        if errors.is_empty() {
            Ok(q)
        } else {
            Err(errors)
        }
    }

    fn add(
        &mut self,
        k: &str,
        v: &str,
        ext: &HashMap<String, String>,
    ) -> Result<(), QueryParamError> {
        let f = match k {
            "eventType" => {
                let types = split(v);
                const TYPES: [&str; 5] = [
                    "ObjectEvent",
                    "AggregationEvent",
                    "TransactionEvent",
                    "TransformationEvent",
                    "AssociationEvent",
                ];
                if let Some(bad) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
                    return Err(err(
                        k,
                        format!("expected {}, got \"{bad}\"", TYPES.join(", ")),
                    ));
                }
                Filter::EventType(types)
            }
            "GE_eventTime" => Filter::Time("eventTime", Cmp::Ge, time(k, v)?),
            "LT_eventTime" => Filter::Time("eventTime", Cmp::Lt, time(k, v)?),
            "GE_recordTime" => Filter::RecordTime(Cmp::Ge, time(k, v)?),
            "LT_recordTime" => Filter::RecordTime(Cmp::Lt, time(k, v)?),
            "EQ_action" => {
                let a = split(v);
                if let Some(bad) = a
                    .iter()
                    .find(|x| !["ADD", "OBSERVE", "DELETE"].contains(&x.as_str()))
                {
                    return Err(err(
                        k,
                        format!("expected ADD, OBSERVE or DELETE, got \"{bad}\""),
                    ));
                }
                Filter::Action(a)
            }
            "EQ_bizStep" => Filter::Vocab("bizStep", vocab(k, Vocab::BizStep, v)?),
            "EQ_disposition" => Filter::Vocab("disposition", vocab(k, Vocab::Disposition, v)?),
            "EQ_readPoint" => Filter::Place("readPoint", keys(v)),
            "EQ_bizLocation" => Filter::Place("bizLocation", keys(v)),
            "WD_readPoint" => Filter::Within("readPoint", keys(v)),
            "WD_bizLocation" => Filter::Within("bizLocation", keys(v)),
            "MATCH_epc" => self.matcher(Epcs::Epc, v),
            "MATCH_parentID" => self.matcher(Epcs::Parent, v),
            "MATCH_inputEPC" => self.matcher(Epcs::Input, v),
            "MATCH_outputEPC" => self.matcher(Epcs::Output, v),
            "MATCH_anyEPC" => self.matcher(Epcs::Any, v),
            "MATCH_epcClass" => self.matcher(Epcs::Class, v),
            "MATCH_inputEPCClass" => self.matcher(Epcs::InputClass, v),
            "MATCH_outputEPCClass" => self.matcher(Epcs::OutputClass, v),
            "MATCH_anyEPCClass" => self.matcher(Epcs::AnyClass, v),
            "EQ_quantity" | "GT_quantity" | "GE_quantity" | "LT_quantity" | "LE_quantity" => {
                Filter::Quantity(cmp_of(&k[..2]).unwrap_or(Cmp::Eq), number(k, v)?, None)
            }
            "EQ_eventID" => Filter::EventId(split(v)),
            "EXISTS_errorDeclaration" => Filter::ErrorDeclarationExists,
            "EQ_errorReason" => Filter::ErrorReason(vocab(k, Vocab::ErrorReason, v)?),
            "EQ_correctiveEventID" => Filter::CorrectiveEventId(split(v)),
            "GE_errorDeclaration_Time" => Filter::ErrorDeclarationTime(Cmp::Ge, time(k, v)?),
            "LT_errorDeclaration_Time" => Filter::ErrorDeclarationTime(Cmp::Lt, time(k, v)?),
            "EQ_transformationID" => Filter::TransformationId(split(v)),
            "EQ_persistentDisposition_set" => {
                Filter::PersistentDisposition("set", vocab(k, Vocab::Disposition, v)?)
            }
            "EQ_persistentDisposition_unset" => {
                Filter::PersistentDisposition("unset", vocab(k, Vocab::Disposition, v)?)
            }
            "EXISTS_sensorElementList" => Filter::SensorExists,
            "EQ_type" => Filter::Sensor(
                SensorField::Report("type"),
                SensorTest::Any(vocab(k, Vocab::MeasurementType, v)?),
            ),
            "EQ_deviceID" => {
                Filter::Sensor(SensorField::Both("deviceID"), SensorTest::Any(split(v)))
            }
            "EQ_dataProcessingMethod" => Filter::Sensor(
                SensorField::Both("dataProcessingMethod"),
                SensorTest::Any(split(v)),
            ),
            "EQ_microorganism" => sensor_any("microorganism", v),
            "EQ_chemicalSubstance" => sensor_any("chemicalSubstance", v),
            "EQ_stringValue" => sensor_any("stringValue", v),
            "EQ_booleanValue" => {
                let b = match v.trim() {
                    "true" | "false" => v.trim().to_string(),
                    _ => return Err(err(k, format!("expected true or false, got \"{v}\""))),
                };
                Filter::Sensor(
                    SensorField::Report("booleanValue"),
                    SensorTest::Any(vec![b]),
                )
            }
            "EQ_hexBinaryValue" => sensor_any("hexBinaryValue", v),
            "EQ_uriValue" => sensor_any("uriValue", v),
            "EQ_bizRules" => {
                Filter::Sensor(SensorField::Metadata("bizRules"), SensorTest::Any(split(v)))
            }
            "GE_time" | "LT_time" => Filter::Sensor(
                SensorField::Both("time"),
                SensorTest::Time(cmp_of(&k[..2]).unwrap_or(Cmp::Eq), time(k, v)?),
            ),
            "GE_startTime" | "LT_startTime" => Filter::Sensor(
                SensorField::Metadata("startTime"),
                SensorTest::Time(cmp_of(&k[..2]).unwrap_or(Cmp::Eq), time(k, v)?),
            ),
            "GE_endTime" | "LT_endTime" => Filter::Sensor(
                SensorField::Metadata("endTime"),
                SensorTest::Time(cmp_of(&k[..2]).unwrap_or(Cmp::Eq), time(k, v)?),
            ),
            "GT_percRank" | "GE_percRank" | "LT_percRank" | "LE_percRank" => Filter::Sensor(
                SensorField::Report("percRank"),
                SensorTest::Number(cmp_of(&k[..2]).unwrap_or(Cmp::Eq), number(k, v)?, None),
            ),
            "orderBy" => {
                self.order_by = Some(match v {
                    "eventTime" => OrderBy::EventTime,
                    "recordTime" => OrderBy::RecordTime,
                    _ => {
                        return Err(err(
                            k,
                            format!("expected eventTime or recordTime, got \"{v}\""),
                        ));
                    }
                });
                return Ok(());
            }
            "orderDirection" => {
                self.ascending = match v {
                    "ASC" => true,
                    "DESC" => false,
                    _ => return Err(err(k, format!("expected ASC or DESC, got \"{v}\""))),
                };
                return Ok(());
            }
            "eventCountLimit" | "maxEventCount" => {
                let n = v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| err(k, format!("expected a whole number ≥ 1, got \"{v}\"")))?;
                if k == "eventCountLimit" {
                    self.event_count_limit = Some(n);
                } else {
                    self.max_event_count = Some(n);
                }
                return Ok(());
            }
            _ => return self.pattern_param(k, v, ext),
        };
        self.filters.push(f);
        Ok(())
    }

    fn matcher(&mut self, which: Epcs, v: &str) -> Filter {
        let pats = patterns(v);
        if pats.iter().all(|p| matches!(p, Pattern::Exact(_))) {
            let keys: Vec<String> = pats
                .iter()
                .filter_map(|p| match p {
                    Pattern::Exact(k) => Some(k.clone()),
                    Pattern::Prefix(_) => None,
                })
                .collect();
            self.exact_objects = Some(match self.exact_objects.take() {
                // Two exact MATCH parameters: an event must name one of each, so either list narrows.
                Some(prev) if prev.len() <= keys.len() => prev,
                _ => keys,
            });
        }
        Filter::Match(which, pats)
    }

    /// The pattern-named parameters: bizTransaction/source/destination types, quantities and values with a
    /// unit, and extension fields (`EQ_ns:name`, `EXISTS_ILMD_ns:name`, `GT_INNER_ns:name`, …).
    fn pattern_param(
        &mut self,
        k: &str,
        v: &str,
        ext: &HashMap<String, String>,
    ) -> Result<(), QueryParamError> {
        if let Some(t) = k.strip_prefix("EQ_bizTransaction_") {
            let t = Vocab::BizTransactionType
                .normalise(t)
                .unwrap_or_else(|_| t.to_string());
            self.filters.push(Filter::BizTransaction(t, split(v)));
            return Ok(());
        }
        for (prefix, field) in [("EQ_source_", "source"), ("EQ_destination_", "destination")] {
            if let Some(t) = k.strip_prefix(prefix) {
                let t = Vocab::SourceDestType
                    .normalise(t)
                    .unwrap_or_else(|_| t.to_string());
                self.filters.push(Filter::SourceDest(field, t, keys(v)));
                return Ok(());
            }
        }
        if let Some(field) = k.strip_prefix("HASATTR_") {
            let field = master_data_field(k, field)?;
            self.filters.push(Filter::Attr {
                field,
                test: AttrTest::Has(split(v)),
                ids: Vec::new(),
            });
            return Ok(());
        }
        if let Some(rest) = k.strip_prefix("EQ_ATTR_") {
            let (field, attr) = rest
                .split_once('_')
                .filter(|(_, a)| !a.is_empty())
                .ok_or_else(|| err(k, "expected EQ_ATTR_<field>_<attribute>"))?;
            let field = master_data_field(k, field)?;
            self.filters.push(Filter::Attr {
                field,
                test: AttrTest::Eq(attr.to_string(), split(v)),
                ids: Vec::new(),
            });
            return Ok(());
        }
        let (op, rest) = k
            .split_once('_')
            .ok_or_else(|| err(k, "unknown query parameter"))?;
        let is_exists = op == "EXISTS";
        let cmp = cmp_of(op);
        if cmp.is_none() && !is_exists {
            return Err(err(k, "unknown query parameter"));
        }
        // Quantities and sensor values with a unit: GE_quantity_KGM, LT_value_CEL, GE_minValue_CEL, …
        for (name, field) in [
            ("quantity_", None),
            ("value_", Some("value")),
            ("minValue_", Some("minValue")),
            ("maxValue_", Some("maxValue")),
            ("meanValue_", Some("meanValue")),
            ("sDev_", Some("sDev")),
            ("percValue_", Some("percValue")),
        ] {
            if let Some(uom) = rest.strip_prefix(name)
                && (2..=4).contains(&uom.len())
                && uom
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                && let Some(c) = cmp
            {
                let n = number(k, v)?;
                self.filters.push(match field {
                    None => Filter::Quantity(c, n, Some(uom.to_string())),
                    Some(f) => Filter::Sensor(
                        SensorField::Report(f),
                        SensorTest::Number(c, n, Some(uom.to_string())),
                    ),
                });
                return Ok(());
            }
        }
        let (inner, rest) = match rest.strip_prefix("INNER_") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (scope, name) = [
            ("ILMD_", Scope::Ilmd),
            ("ERROR_DECLARATION_", Scope::ErrorDeclaration),
            ("SENSORELEMENT_", Scope::SensorElement),
            ("SENSORMETADATA_", Scope::SensorMetadata),
            ("SENSORREPORT_", Scope::SensorReport),
            ("readPoint_", Scope::ReadPoint),
            ("bizLocation_", Scope::BizLocation),
        ]
        .into_iter()
        .find_map(|(p, s)| rest.strip_prefix(p).map(|n| (s, n)))
        .unwrap_or((Scope::Top, rest));
        let Some((pfx, local)) = name.split_once(':') else {
            return Err(err(k, "unknown query parameter"));
        };
        if pfx.is_empty()
            || local.is_empty()
            || !local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(err(k, "expected an extension field name prefix:localName"));
        }
        let full = match ext.get(pfx) {
            Some(ns) => format!("{ns}{local}"),
            None => name.to_string(),
        };
        let test = match (is_exists, cmp) {
            (true, _) => FieldTest::Exists,
            (false, Some(Cmp::Eq)) => FieldTest::Eq(split(v)),
            (false, Some(c)) => FieldTest::Cmp(c, v.to_string()),
            (false, None) => return Err(err(k, "unknown query parameter")),
        };
        self.filters.push(Filter::Field {
            scope,
            inner,
            name: full,
            test,
        });
        Ok(())
    }

    /// The business steps and event-time window the query pins, when it names business steps: the caller may
    /// take only events of those steps in that window (an index) as candidates.
    pub fn step_window(&self) -> Option<(Vec<String>, Option<i64>, Option<i64>)> {
        let steps = self.filters.iter().find_map(|f| match f {
            Filter::Vocab("bizStep", v) => Some(v.clone()),
            _ => None,
        })?;
        let (mut from, mut to) = (None::<i64>, None::<i64>);
        for f in &self.filters {
            match f {
                Filter::Time("eventTime", Cmp::Ge, t) => {
                    from = Some(from.map_or(*t, |x| x.max(*t)))
                }
                Filter::Time("eventTime", Cmp::Lt, t) => to = Some(to.map_or(*t, |x| x.min(*t))),
                _ => {}
            }
        }
        Some((steps, from, to))
    }

    /// The eventIDs an `EQ_eventID` parameter allows, when it has one: the caller may look them up as the only
    /// candidates.
    pub fn event_ids(&self) -> Option<&[String]> {
        self.filters.iter().find_map(|f| match f {
            Filter::EventId(ids) => Some(ids.as_slice()),
            _ => None,
        })
    }

    /// The places (canonical keys) an `EQ_`/`WD_` readPoint or bizLocation parameter allows, or a `HASATTR_`/
    /// `EQ_ATTR_` one on those fields (the latter two after [`Query::resolve_master_data`]): every matching event
    /// is at one of them, so the caller may take only the events at those places (an index) as candidates.
    pub fn place_keys(&self) -> Option<&[String]> {
        self.filters.iter().find_map(|f| match f {
            Filter::Place(_, keys) | Filter::Within(_, keys) => Some(keys.as_slice()),
            Filter::Attr { field, ids, .. } if matches!(*field, "readPoint" | "bizLocation") => {
                Some(ids.as_slice())
            }
            _ => None,
        })
    }

    /// Whether the query needs master data: `WD_readPoint` / `WD_bizLocation` (descendants), `HASATTR_` or
    /// `EQ_ATTR_` (attributes).
    pub fn wants_master_data(&self) -> bool {
        self.filters
            .iter()
            .any(|f| matches!(f, Filter::Within(..) | Filter::Attr { .. }))
    }

    /// Resolves the filters that depend on master data against `elements` (every stored element): `WD_`
    /// places widen to their descendants, attribute tests become the ids of the elements that pass them.
    pub fn resolve_master_data(&mut self, elements: &[crate::masterdata::VocabularyElement]) {
        use crate::masterdata::{BUSINESS_LOCATION, Hierarchy, READ_POINT};
        let places = Hierarchy::of(
            elements
                .iter()
                .filter(|e| e.vtype == BUSINESS_LOCATION || e.vtype == READ_POINT),
        );
        for f in &mut self.filters {
            match f {
                Filter::Within(_, roots) => *roots = places.with_descendants(roots),
                Filter::Attr { field, test, ids } => {
                    *ids = elements
                        .iter()
                        .filter(|e| match test {
                            AttrTest::Has(names) => {
                                e.attributes.iter().any(|(a, _)| names.contains(a))
                            }
                            AttrTest::Eq(name, values) => e.attributes.iter().any(|(a, v)| {
                                a == name
                                    && values.iter().any(|x| crate::masterdata::same_value(v, x))
                            }),
                        })
                        .map(|e| element_key(field, &e.id))
                        .collect();
                }
                _ => {}
            }
        }
    }

    /// Whether `event` (stored JSON-LD) with its record time (Unix ms) satisfies every filter.
    pub fn matches(&self, event: &Value, record_ms: i64) -> bool {
        self.filters.iter().all(|f| f.matches(event, record_ms))
    }
}

fn keys(v: &str) -> Vec<String> {
    split(v).iter().map(|s| object_key(s)).collect()
}

fn patterns(v: &str) -> Vec<Pattern> {
    split(v).iter().map(|s| Pattern::parse(s)).collect()
}

fn sensor_any(field: &'static str, v: &str) -> Filter {
    Filter::Sensor(SensorField::Report(field), SensorTest::Any(split(v)))
}

fn str_of<'a>(e: &'a Value, k: &str) -> Option<&'a str> {
    e.get(k).and_then(Value::as_str)
}

fn list<'a>(e: &'a Value, k: &str) -> impl Iterator<Item = &'a Value> {
    e.get(k).and_then(Value::as_array).into_iter().flatten()
}

fn time_of(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_str)
        .and_then(|s| parse_timestamp(s).ok())
        .map(|t| unix_millis(&t))
}

fn num_of(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn cmp_f(c: Cmp, a: f64, b: f64) -> bool {
    a.partial_cmp(&b).is_some_and(|o| c.holds(o))
}

impl Filter {
    fn matches(&self, e: &Value, record_ms: i64) -> bool {
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
fn namespaces(e: &Value) -> HashMap<String, String> {
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
fn same_name(key: &str, wanted: &str, ctx: &HashMap<String, String>) -> bool {
    if key == wanted {
        return true;
    }
    let expand = |k: &str| match k.split_once(':') {
        Some((p, l)) => ctx.get(p).map(|ns| format!("{ns}{l}")),
        None => None,
    };
    expand(key).is_some_and(|k| k == wanted)
}

fn collect_inner<'a>(
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

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("@value").and_then(scalar),
        _ => None,
    }
}

fn field_test(t: &FieldTest, v: &Value) -> bool {
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

fn quantities(e: &Value) -> impl Iterator<Item = &Value> {
    [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ]
    .into_iter()
    .flat_map(move |k| list(e, k))
}

fn epcs(e: &Value, which: Epcs) -> Box<dyn Iterator<Item = &str> + '_> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(params: &[(&str, &str)]) -> Result<Query, Vec<QueryParamError>> {
        let p: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Query::parse(&p, &HashMap::new())
    }

    fn ship() -> Value {
        json!({"type": "ObjectEvent", "eventTime": "2026-10-02T08:00:00+08:00", "action": "OBSERVE",
               "bizStep": "shipping", "disposition": "in_transit",
               "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
               "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
               "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1618034"}],
               "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00001"}],
               "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"}],
               "@context": [{"example": "http://ns.example.com/epcis/"}],
               "example:myField": {"example:inner": "7"},
               "sensorElementList": [{"sensorMetadata": {"time": "2026-10-02T07:00:00Z", "deviceID": "urn:epc:id:giai:4000001.111"},
                                      "sensorReport": [{"type": "Temperature", "value": 26.0, "uom": "CEL"}]}]})
    }

    fn hit(params: &[(&str, &str)]) -> bool {
        q(params).expect("valid").matches(&ship(), 0)
    }

    #[test]
    fn the_parameter_families_match() {
        assert!(hit(&[("eventType", "ObjectEvent|AggregationEvent")]));
        assert!(!hit(&[("eventType", "AggregationEvent")]));
        assert!(hit(&[(
            "EQ_bizStep",
            "https://ref.gs1.org/cbv/BizStep-shipping"
        )]));
        assert!(hit(&[("EQ_bizStep", "urn:epcglobal:cbv:bizstep:shipping")]));
        assert!(!hit(&[("EQ_disposition", "active")]));
        assert!(hit(&[
            ("GE_eventTime", "2026-10-02T00:00:00Z"),
            ("LT_eventTime", "2026-10-03T00:00:00Z")
        ]));
        assert!(!hit(&[("LT_eventTime", "2026-10-02T00:00:00Z")]));
        assert!(hit(&[(
            "MATCH_epc",
            "https://id.gs1.org/01/10614141073464/21/2017"
        )]));
        assert!(hit(&[(
            "MATCH_epc",
            "urn:epc:idpat:sgtin:0614141.107346.*"
        )]));
        assert!(!hit(&[(
            "MATCH_epc",
            "urn:epc:idpat:sgtin:0614141.107347.*"
        )]));
        assert!(hit(&[(
            "MATCH_anyEPCClass",
            "urn:epc:class:lgtin:4012345.012345.998877"
        )]));
        assert!(hit(&[(
            "EQ_readPoint",
            "https://id.gs1.org/414/0614141073467/254/1234"
        )]));
        assert!(hit(&[(
            "EQ_bizTransaction_po",
            "urn:epc:id:gdti:0614141.00001.1618034"
        )]));
        assert!(hit(&[(
            "EQ_destination_owning_party",
            "urn:epc:id:pgln:0614141.00001"
        )]));
        assert!(!hit(&[(
            "EQ_source_owning_party",
            "urn:epc:id:pgln:0614141.00001"
        )]));
        assert!(hit(&[("GE_quantity", "200"), ("LT_quantity_KGM", "201")]));
        assert!(!hit(&[("GT_quantity", "200")]));
        assert!(hit(&[
            ("EQ_type", "gs1:Temperature"),
            ("GE_value_CEL", "25")
        ]));
        assert!(!hit(&[("GE_value_FAR", "25")]));
        assert!(hit(&[("EQ_deviceID", "urn:epc:id:giai:4000001.111")]));
        assert!(hit(&[("GE_time", "2026-10-02T06:00:00Z")]));
        assert!(!hit(&[("LT_time", "2026-10-02T06:00:00Z")]));
        assert!(hit(&[("EXISTS_sensorElementList", "")]));
        assert!(!hit(&[("EXISTS_errorDeclaration", "")]));
        assert!(hit(&[("EXISTS_example:myField", "")]));
        assert!(hit(&[("EQ_INNER_example:inner", "7")]));
        assert!(hit(&[("GT_INNER_example:inner", "6")]));
        assert!(!hit(&[("EQ_example:inner", "7")]), "not a top-level field");
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = q(&[
            ("EQ_bizStep", "shipping"),
            ("colour", "red"),
            ("GE_eventTime", "yesterday"),
        ])
        .expect_err("invalid");
        let names: Vec<&str> = e.iter().map(|x| x.parameter.as_str()).collect();
        assert_eq!(names, ["colour", "GE_eventTime"]);
        assert!(q(&[("EQ_ATTR_urn:epcglobal:cbv:mda:sst", "x")]).is_err());
        assert!(q(&[("HASATTR_epcList", "x")]).is_err());
        assert!(q(&[("EQ_ATTR_bizLocation", "x")]).is_err());
        assert!(q(&[("EQ_ATTR_bizLocation_urn:epcglobal:cbv:mda:sst", "201")]).is_ok());
        assert!(q(&[("orderDirection", "UP")]).is_err());
        assert!(q(&[("eventCountLimit", "2"), ("maxEventCount", "3")]).is_err());
        let exact = q(&[("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.2017")]).expect("ok");
        assert_eq!(
            exact.exact_objects,
            Some(vec![
                "https://id.gs1.org/01/10614141073464/21/2017".to_string()
            ])
        );
        let class = q(&[(
            "MATCH_inputEPCClass",
            "urn:epc:class:lgtin:6920001.000011.RM1",
        )])
        .expect("ok");
        assert_eq!(
            class.exact_objects,
            Some(vec![
                "https://id.gs1.org/01/06920001000110/10/RM1".to_string()
            ])
        );
        let pattern = q(&[("MATCH_epcClass", "urn:epc:idpat:sgtin:6920001.000011.*")]).expect("ok");
        assert_eq!(
            pattern.exact_objects, None,
            "a wildcard cannot use the object index"
        );
    }
}

/// How identifiers appear in answers (`GS1-EPC-Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpcFormat {
    /// As captured.
    NeverTranslates,
    /// Every GS1 key as a canonical GS1 Digital Link.
    AlwaysDigitalLink,
    /// Every GS1 key as an EPC URN (with this company-prefix length for keys captured as Digital Links).
    AlwaysEpcUrn(usize),
}

impl EpcFormat {
    /// Parses the header value (`Always_GS1_Digital_Link`, `Always_EPC_URN`, `Never_Translates`).
    pub fn parse(v: &str, gcp_length: usize) -> Option<EpcFormat> {
        match v.trim() {
            "Never_Translates" | "No_Preference" => Some(EpcFormat::NeverTranslates),
            "Always_GS1_Digital_Link" => Some(EpcFormat::AlwaysDigitalLink),
            "Always_EPC_URN" => Some(EpcFormat::AlwaysEpcUrn(gcp_length)),
            _ => None,
        }
    }

    fn apply(self, v: &str) -> Option<String> {
        match self {
            EpcFormat::NeverTranslates => None,
            EpcFormat::AlwaysDigitalLink => suyuan_core::gs1::canonical_digital_link(v),
            EpcFormat::AlwaysEpcUrn(gcp) => {
                if v.starts_with("urn:epc:") {
                    return None;
                }
                let dl = suyuan_core::id::dl::parse_digital_link(v).ok()?;
                suyuan_core::id::epc::to_epc_urn(&dl.data, gcp).ok()
            }
        }
    }
}

/// Rewrites every identifier of an event (EPCs, parent, classes, read point, business location, sources and
/// destinations) in `format`; identifiers without a GS1 key stay as they are.
pub fn translate_epcs(event: &mut Value, format: EpcFormat) {
    if format == EpcFormat::NeverTranslates {
        return;
    }
    let tr = |v: &mut Value| {
        if let Some(s) = v.as_str()
            && let Some(n) = format.apply(s)
        {
            *v = Value::String(n);
        }
    };
    for k in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        if let Some(a) = event.get_mut(k).and_then(Value::as_array_mut) {
            a.iter_mut().for_each(tr);
        }
    }
    if let Some(p) = event.get_mut("parentID") {
        tr(p);
    }
    for k in [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ] {
        for q in event
            .get_mut(k)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(c) = q.get_mut("epcClass") {
                tr(c);
            }
        }
    }
    for k in ["readPoint", "bizLocation"] {
        if let Some(id) = event.get_mut(k).and_then(|p| p.get_mut("id")) {
            tr(id);
        }
    }
    for (k, f) in [("sourceList", "source"), ("destinationList", "destination")] {
        for s in event
            .get_mut(k)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(v) = s.get_mut(f) {
                tr(v);
            }
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_translate_both_ways() {
        let mut e = json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:suyuan:demo:x:1"],
            "readPoint": {"id": "https://id.gs1.org/414/0614141073467/254/1234"},
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 2}]});
        let mut dl = e.clone();
        translate_epcs(&mut dl, EpcFormat::AlwaysDigitalLink);
        assert_eq!(
            dl["epcList"][0],
            "https://id.gs1.org/01/10614141073464/21/2017"
        );
        assert_eq!(dl["epcList"][1], "urn:suyuan:demo:x:1");
        assert_eq!(
            dl["quantityList"][0]["epcClass"],
            "https://id.gs1.org/01/04012345123456/10/998877"
        );
        translate_epcs(&mut e, EpcFormat::AlwaysEpcUrn(7));
        assert_eq!(e["readPoint"]["id"], "urn:epc:id:sgln:0614141.07346.1234");
        translate_epcs(&mut dl, EpcFormat::AlwaysEpcUrn(7));
        assert_eq!(dl["epcList"][0], "urn:epc:id:sgtin:0614141.107346.2017");
        assert_eq!(EpcFormat::parse("Always_X", 7), None);
    }
}
