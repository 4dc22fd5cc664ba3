//! EPCIS 2.0 SimpleEventQuery parameters (the REST bindings' `query-schema.json`): parsed once into
//! filters, then matched against stored events (JSON-LD, CBV values bare). Pure: the caller picks the
//! candidate events and pages the answer.

use serde_json::Value;
use std::collections::HashMap;
use suyuan_core::cbv::Vocab;
use suyuan_core::projection::object_key;
use suyuan_core::time::{parse_timestamp, unix_millis};

mod filter;
mod format;
mod params;
#[cfg(test)]
mod tests;

use filter::*;
pub use format::*;
use params::*;

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
