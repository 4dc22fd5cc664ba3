//! Reading sensor elements: metadata and reports, their GS1 vocabularies and attributes.

#[allow(unused_imports)]
use super::*;

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
pub(super) fn report_out(r: &Extensions) -> Value {
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

pub(super) fn sensor_attrs(
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

pub(super) fn get_sensors(
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
