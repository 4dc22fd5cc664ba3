//! Writing events and documents back as JSON-LD, in the conventional field order.

#[allow(unused_imports)]
use super::*;

pub(super) fn ids(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

pub(super) fn quantities(v: &[QuantityElement]) -> Value {
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

pub(super) fn location(l: &Location) -> Value {
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
pub(super) const FIELD_ORDER: &[&str] = &[
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
