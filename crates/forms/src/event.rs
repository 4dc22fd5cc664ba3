//! The EPCIS event a submission becomes, by its form's template: the scanned objects in their roles
//! (object, transformation input or output, aggregation parent or child), the lot master data and sensor
//! reports the template names, and every value under `sy:form` with the form's code and version, so the
//! submission is a standard, tamper-evident fact and renders with its own version forever.

use serde_json::{Map, Value, json};

use crate::fill::{Filled, Placed};
use crate::form::{Form, Role};

/// Who submitted, when, and as which submission.
#[derive(Debug, Clone)]
pub struct Context {
    /// The submission's id.
    pub submission: String,
    /// The form version submitted.
    pub version: u32,
    /// Who submitted it.
    pub actor: String,
    /// When (RFC 3339, UTC).
    pub time: String,
}

/// `v` with every object key given the `sy:` prefix (the form's own fields are Suyuan extension data).
fn prefixed(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (format!("sy:{k}"), prefixed(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(prefixed).collect()),
        other => other.clone(),
    }
}

fn of_role(placed: &[Placed], role: Role) -> (Vec<Value>, Vec<Value>) {
    let mut epcs = Vec::new();
    let mut classes = Vec::new();
    for p in placed.iter().filter(|p| p.role == role) {
        if p.scanned.kind == "class" {
            let mut q = json!({"epcClass": p.scanned.key});
            if let Some(n) = p.quantity {
                q["quantity"] = json!(n);
            }
            classes.push(q);
        } else {
            epcs.push(json!(p.scanned.key));
        }
    }
    (epcs, classes)
}

/// The event `filled` (a checked submission of `form`) becomes.
pub fn to_event(form: &Form, filled: &Filled, ctx: &Context) -> Value {
    let t = &form.event;
    let mut e = Map::new();
    e.insert("type".into(), json!(t.event_type));
    e.insert("eventTime".into(), json!(ctx.time));
    e.insert("eventTimeZoneOffset".into(), json!("+00:00"));
    let action = t.action.clone().unwrap_or_else(|| "OBSERVE".into());
    match t.event_type.as_str() {
        "AggregationEvent" => {
            e.insert(
                "action".into(),
                json!(t.action.clone().unwrap_or_else(|| "ADD".into())),
            );
            let (parents, _) = of_role(&filled.placed, Role::Parent);
            if let Some(p) = parents.first() {
                e.insert("parentID".into(), p.clone());
            }
            let (epcs, classes) = of_role(&filled.placed, Role::Child);
            e.insert("childEPCs".into(), json!(epcs));
            if !classes.is_empty() {
                e.insert("childQuantityList".into(), json!(classes));
            }
        }
        "TransformationEvent" => {
            for (role, list, qty) in [
                (Role::Input, "inputEPCList", "inputQuantityList"),
                (Role::Output, "outputEPCList", "outputQuantityList"),
            ] {
                let (epcs, classes) = of_role(&filled.placed, role);
                if !epcs.is_empty() {
                    e.insert(list.into(), json!(epcs));
                }
                if !classes.is_empty() {
                    e.insert(qty.into(), json!(classes));
                }
            }
        }
        _ => {
            e.insert("action".into(), json!(action));
            let (epcs, classes) = of_role(&filled.placed, Role::Object);
            e.insert("epcList".into(), json!(epcs));
            if !classes.is_empty() {
                e.insert("quantityList".into(), json!(classes));
            }
        }
    }
    e.insert("bizStep".into(), json!(t.biz_step));
    if let Some(d) = &t.disposition {
        e.insert("disposition".into(), json!(d));
    }
    if let Some(l) = &t.location {
        e.insert("readPoint".into(), json!({"id": l}));
        e.insert("bizLocation".into(), json!({"id": l}));
    }
    let takes_ilmd =
        t.event_type == "TransformationEvent" || (t.event_type == "ObjectEvent" && action == "ADD");
    if takes_ilmd {
        let ilmd: Map<String, Value> = t
            .ilmd
            .iter()
            .filter_map(|k| Some((format!("sy:{k}"), prefixed(filled.values.get(k)?))))
            .collect();
        if !ilmd.is_empty() {
            e.insert("ilmd".into(), Value::Object(ilmd));
        }
    }
    let reports: Vec<Value> = t
        .sensors
        .iter()
        .filter_map(|s| {
            let v = filled.values.get(&s.field)?.as_f64()?;
            let kind = if s.measurement.contains(':') {
                s.measurement.clone()
            } else {
                format!("gs1:{}", s.measurement)
            };
            Some(json!({"type": kind, "value": v, "uom": s.uom}))
        })
        .collect();
    if !reports.is_empty() {
        e.insert(
            "sensorElementList".into(),
            json!([{"sensorMetadata": {"time": ctx.time}, "sensorReport": reports}]),
        );
    }
    e.insert("sy:actor".into(), json!(ctx.actor));
    e.insert(
        "sy:form".into(),
        json!({"sy:code": form.code, "sy:version": ctx.version, "sy:submission": ctx.submission,
               "sy:values": prefixed(&Value::Object(filled.values.clone()))}),
    );
    Value::Object(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Scanned;

    #[test]
    fn a_submission_becomes_its_templates_event() {
        let form: Form = serde_json::from_value(json!({
            "code": "batch", "name": {"zh": "投料"},
            "fields": [
                {"key": "milk", "label": {"zh": "原奶"}, "type": "scan", "role": "input", "quantity_field": "kg"},
                {"key": "kg", "label": {"zh": "公斤"}, "type": "number"},
                {"key": "out", "label": {"zh": "产出"}, "type": "scan", "role": "output"},
                {"key": "temp", "label": {"zh": "温度"}, "type": "number"},
                {"key": "shift", "label": {"zh": "班次"}, "type": "text"}
            ],
            "event": {"type": "TransformationEvent", "biz_step": "commissioning", "location": "urn:epc:id:sgln:6901234.00001.0",
                      "ilmd": ["shift"], "sensors": [{"field": "temp", "type": "Temperature", "uom": "CEL"}]}
        }))
        .expect("form");
        let milk = Scanned::read("(01)06901234000016(10)M7").expect("milk");
        let out = Scanned::read("(01)06901234567892(21)1001").expect("out");
        let filled = Filled {
            values: json!({"kg": 500.0, "temp": 4.0, "shift": "A"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            placed: vec![
                Placed {
                    field: "milk".into(),
                    role: Role::Input,
                    scanned: milk.clone(),
                    quantity: Some(500.0),
                },
                Placed {
                    field: "out".into(),
                    role: Role::Output,
                    scanned: out.clone(),
                    quantity: None,
                },
            ],
        };
        let ctx = Context {
            submission: "FS-1".into(),
            version: 3,
            actor: "op1".into(),
            time: "2026-12-07T08:00:00.000Z".into(),
        };
        let e = to_event(&form, &filled, &ctx);
        assert_eq!(
            e["inputQuantityList"],
            json!([{"epcClass": milk.key, "quantity": 500.0}])
        );
        assert_eq!(e["outputEPCList"], json!([out.key]));
        assert_eq!(e["ilmd"], json!({"sy:shift": "A"}));
        assert_eq!(
            e["sensorElementList"][0]["sensorReport"][0]["type"],
            json!("gs1:Temperature")
        );
        assert_eq!(e["sy:form"]["sy:version"], json!(3));
        assert_eq!(e["sy:form"]["sy:values"]["sy:kg"], json!(500.0));
        assert_eq!(
            e["readPoint"]["id"],
            json!("urn:epc:id:sgln:6901234.00001.0")
        );
    }
}
