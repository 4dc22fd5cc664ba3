//! Reading one XML event: its fields, lists, sensor elements and extensions.

#[allow(unused_imports)]
use super::*;

pub(super) const EVENT_TYPES: [&str; 5] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];

pub(super) const EPC_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];

pub(super) const QUANTITY_LISTS: [&str; 4] = [
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
];

pub(super) const NUMERIC_ATTRS: [&str; 8] = [
    "value",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "quantity",
];

pub(super) fn event(el: &Element) -> Result<Value, XmlError> {
    if !EVENT_TYPES.contains(&el.local.as_str()) {
        return Err(XmlError(format!(
            "<{}> in the EventList is not an EPCIS event",
            el.local
        )));
    }
    let mut out = Map::new();
    out.insert("type".into(), json!(el.local));
    fields(el, &mut out)?;
    Ok(Value::Object(out))
}

/// The fields of an event (flattening 1.x `extension` and `baseExtension` wrappers).
pub(super) fn fields(el: &Element, out: &mut Map<String, Value>) -> Result<(), XmlError> {
    for c in &el.children {
        if c.ns.is_some() {
            insert_ext(out, c.qualified(), extension_value(c));
            continue;
        }
        let name = c.local.as_str();
        match name {
            "extension" | "baseExtension" => fields(c, out)?,
            n if EPC_LISTS.contains(&n) => {
                let epcs: Vec<Value> = c
                    .children
                    .iter()
                    .filter(|e| e.local == "epc")
                    .map(|e| json!(e.text.trim()))
                    .collect();
                out.insert(n.into(), Value::Array(epcs));
            }
            n if QUANTITY_LISTS.contains(&n) => {
                let q: Vec<Value> = c
                    .children
                    .iter()
                    .filter(|e| e.local == "quantityElement")
                    .map(|e| {
                        let mut m = Map::new();
                        if let Some(v) = e.text_of("epcClass") {
                            m.insert("epcClass".into(), json!(v));
                        }
                        if let Some(v) = e.text_of("quantity") {
                            m.insert("quantity".into(), number(&v));
                        }
                        if let Some(v) = e.text_of("uom") {
                            m.insert("uom".into(), json!(v));
                        }
                        Value::Object(m)
                    })
                    .collect();
                out.insert(n.into(), Value::Array(q));
            }
            "readPoint" | "bizLocation" => {
                let mut m = Map::new();
                for p in &c.children {
                    if p.ns.is_some() {
                        insert_ext(&mut m, p.qualified(), extension_value(p));
                    } else if p.local == "id" {
                        m.insert("id".into(), json!(p.text.trim()));
                    } else if p.local == "extension" {
                        for x in &p.children {
                            insert_ext(&mut m, x.qualified(), extension_value(x));
                        }
                    }
                }
                out.insert(name.into(), Value::Object(m));
            }
            "bizTransactionList" | "sourceList" | "destinationList" => {
                let (item, field) = match name {
                    "bizTransactionList" => ("bizTransaction", "bizTransaction"),
                    "sourceList" => ("source", "source"),
                    _ => ("destination", "destination"),
                };
                let list: Vec<Value> = c
                    .children
                    .iter()
                    .filter(|e| e.local == item)
                    .map(|e| {
                        let mut m = Map::new();
                        if let Some((_, _, _, t)) = e.attrs.iter().find(|a| a.2 == "type") {
                            let voc = if name == "bizTransactionList" {
                                Vocab::BizTransactionType
                            } else {
                                Vocab::SourceDestType
                            };
                            m.insert("type".into(), json!(cbv(voc, t)));
                        }
                        m.insert(field.into(), json!(e.text.trim()));
                        Value::Object(m)
                    })
                    .collect();
                out.insert(name.into(), Value::Array(list));
            }
            "persistentDisposition" => {
                let mut m = Map::new();
                for k in ["set", "unset"] {
                    let v: Vec<Value> = c
                        .children
                        .iter()
                        .filter(|e| e.local == k)
                        .map(|e| json!(cbv(Vocab::Disposition, e.text.trim())))
                        .collect();
                    if !v.is_empty() {
                        m.insert(k.into(), Value::Array(v));
                    }
                }
                out.insert(name.into(), Value::Object(m));
            }
            "errorDeclaration" => {
                let mut m = Map::new();
                for p in &c.children {
                    match (p.ns.is_some(), p.local.as_str()) {
                        (true, _) => insert_ext(&mut m, p.qualified(), extension_value(p)),
                        (false, "correctiveEventIDs") => {
                            let ids: Vec<Value> =
                                p.children.iter().map(|i| json!(i.text.trim())).collect();
                            m.insert("correctiveEventIDs".into(), Value::Array(ids));
                        }
                        (false, "extension") => {
                            for x in &p.children {
                                insert_ext(&mut m, x.qualified(), extension_value(x));
                            }
                        }
                        (false, "reason") => {
                            m.insert(
                                "reason".into(),
                                json!(cbv(Vocab::ErrorReason, p.text.trim())),
                            );
                        }
                        (false, k) => {
                            m.insert(k.into(), json!(p.text.trim()));
                        }
                    }
                }
                out.insert(name.into(), Value::Object(m));
            }
            "ilmd" => {
                let mut m = Map::new();
                for p in &c.children {
                    if p.ns.is_none() && p.local == "extension" {
                        for x in &p.children {
                            insert_ext(&mut m, x.qualified(), extension_value(x));
                        }
                    } else {
                        insert_ext(&mut m, p.qualified(), extension_value(p));
                    }
                }
                out.insert(name.into(), Value::Object(m));
            }
            "sensorElementList" => {
                let list: Vec<Value> = c
                    .children
                    .iter()
                    .filter(|e| e.local == "sensorElement")
                    .map(sensor_element)
                    .collect();
                out.insert(name.into(), Value::Array(list));
            }
            "certificationInfo" => match out.get_mut("certificationInfo") {
                Some(Value::Array(a)) => a.push(json!(c.text.trim())),
                Some(prev) => {
                    let p = prev.take();
                    *prev = json!([p, c.text.trim()]);
                }
                None => {
                    out.insert(name.into(), json!(c.text.trim()));
                }
            },
            "bizStep" => {
                out.insert(name.into(), json!(cbv(Vocab::BizStep, c.text.trim())));
            }
            "disposition" => {
                out.insert(name.into(), json!(cbv(Vocab::Disposition, c.text.trim())));
            }
            _ => {
                out.insert(name.into(), json!(c.text.trim()));
            }
        }
    }
    Ok(())
}

/// A CBV value as the JSON syntax writes it: the bare name for a standard value (XML carries URNs or web
/// URIs), anything else unchanged (the parser then says what is wrong with it).
pub(super) fn cbv(voc: Vocab, v: &str) -> String {
    voc.normalise(v).unwrap_or_else(|_| v.to_string())
}

pub(super) fn sensor_element(e: &Element) -> Value {
    let mut m = Map::new();
    let mut reports = Vec::new();
    for c in &e.children {
        if c.ns.is_some() {
            insert_ext(&mut m, c.qualified(), extension_value(c));
            continue;
        }
        match c.local.as_str() {
            "sensorMetadata" => {
                m.insert("sensorMetadata".into(), attributes(c));
            }
            "sensorReport" => reports.push(attributes(c)),
            "extension" => {
                for x in &c.children {
                    insert_ext(&mut m, x.qualified(), extension_value(x));
                }
            }
            _ => {}
        }
    }
    if !reports.is_empty() {
        m.insert("sensorReport".into(), Value::Array(reports));
    }
    Value::Object(m)
}

/// A sensor element's attributes as fields: numbers for the numeric ones, a boolean for booleanValue.
pub(super) fn attributes(e: &Element) -> Value {
    let mut m = Map::new();
    for (ns, prefix, local, value) in &e.attrs {
        let key = match (ns, prefix) {
            (Some(_), Some(p)) => format!("{p}:{local}"),
            _ => local.clone(),
        };
        let v = if ns.is_none() && NUMERIC_ATTRS.contains(&local.as_str()) {
            number(value)
        } else if ns.is_none() && local == "booleanValue" {
            match value.trim() {
                "true" | "1" => json!(true),
                "false" | "0" => json!(false),
                other => json!(other),
            }
        } else {
            json!(value)
        };
        m.insert(key, v);
    }
    Value::Object(m)
}

pub(super) fn number(s: &str) -> Value {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return json!(i);
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => json!(f),
        _ => json!(t),
    }
}

/// An extension element as JSON-LD: text, or an object of its children (repeated names become arrays).
pub(super) fn extension_value(e: &Element) -> Value {
    if e.children.is_empty() {
        return json!(e.text.trim());
    }
    let mut m = Map::new();
    for c in &e.children {
        insert_ext(&mut m, c.qualified(), extension_value(c));
    }
    Value::Object(m)
}

pub(super) fn insert_ext(m: &mut Map<String, Value>, key: String, v: Value) {
    match m.get_mut(&key) {
        Some(Value::Array(a)) => a.push(v),
        Some(prev) => {
            let p = prev.take();
            *prev = json!([p, v]);
        }
        None => {
            m.insert(key, v);
        }
    }
}
