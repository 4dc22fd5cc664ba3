//! What an event offers a rule: its type, business step and disposition as bare CBV terms, the objects it
//! names (and their lots and products), its places, the form it came from, and the event itself in a
//! plain shape for conditions — namespace prefixes dropped from keys (`sy:inspection` → `inspection`),
//! CBV values bare — so a process engineer writes `event.inspection.stage == 'fqc'`.

use serde_json::{Map, Value};
use suyuan_core::cbv::bare_term;
use suyuan_core::projection::object_key;

/// The facts of one event.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Its eventID.
    pub event_id: String,
    /// Its type (`ObjectEvent`, …).
    pub event_type: String,
    /// Its business step, bare.
    pub biz_step: String,
    /// Its disposition, bare.
    pub disposition: String,
    /// The objects it names (canonical keys), instances and lots, in order, without repeats.
    pub objects: Vec<String>,
    /// The products of those objects (GTIN-14 or the plant's product code).
    pub products: Vec<String>,
    /// Its read point and business location, each as written and as a GLN where it has one.
    pub locations: Vec<String>,
    /// The form it was submitted through, if any.
    pub form: Option<String>,
    /// The event as conditions read it.
    pub plain: Value,
}

/// `value` with namespace prefixes dropped from every key (`sy:hold` → `hold`; URIs as keys stay) and
/// JSON-LD's `@context` left out.
pub fn plain(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                if k == "@context" {
                    continue;
                }
                let key = match k.split_once(':') {
                    Some((prefix, local)) if !local.starts_with("//") && !prefix.is_empty() => {
                        local
                    }
                    _ => k.as_str(),
                };
                out.insert(key.to_string(), plain(v));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(plain).collect()),
        other => other.clone(),
    }
}

/// The product an object key belongs to: the GTIN of a GS1 key, or the plant's product code of its own
/// lot and serial URIs.
pub fn product_of(key: &str) -> Option<String> {
    if let Some(rest) = key.split("/01/").nth(1) {
        return rest.get(..14).map(str::to_string);
    }
    key.strip_prefix("urn:suyuan:plant:lot:")
        .or_else(|| key.strip_prefix("urn:suyuan:plant:serial:"))
        .and_then(|r| r.split('.').next())
        .map(str::to_string)
}

fn push(list: &mut Vec<String>, v: String) {
    if !v.is_empty() && !list.contains(&v) {
        list.push(v);
    }
}

impl Facts {
    /// The facts of `event` (EPCIS 2.0 JSON-LD, as stored).
    pub fn of(event: &Value) -> Facts {
        let text = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or_default();
        let mut objects = Vec::new();
        let strings = |k: &str| {
            event
                .get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(object_key)
                .collect::<Vec<_>>()
        };
        let classes = |k: &str| {
            event
                .get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|q| q.get("epcClass").and_then(Value::as_str))
                .map(object_key)
                .collect::<Vec<_>>()
        };
        for k in strings("epcList")
            .into_iter()
            .chain(classes("quantityList"))
            .chain(
                event
                    .get("parentID")
                    .and_then(Value::as_str)
                    .map(object_key),
            )
            .chain(strings("childEPCs"))
            .chain(classes("childQuantityList"))
            .chain(strings("inputEPCList"))
            .chain(classes("inputQuantityList"))
            .chain(strings("outputEPCList"))
            .chain(classes("outputQuantityList"))
        {
            push(&mut objects, k);
        }
        let mut products = Vec::new();
        for o in &objects {
            if let Some(p) = product_of(o) {
                push(&mut products, p);
            }
        }
        let mut locations = Vec::new();
        for k in ["readPoint", "bizLocation"] {
            if let Some(id) = event
                .get(k)
                .and_then(|v| v.get("id"))
                .and_then(Value::as_str)
            {
                push(&mut locations, id.to_string());
                let key = object_key(id);
                if let Some(gln) = key.split("/414/").nth(1).and_then(|r| r.get(..13)) {
                    push(&mut locations, gln.to_string());
                }
                push(&mut locations, key);
            }
        }
        let mut p = plain(event);
        if let Some(o) = p.as_object_mut() {
            for k in ["bizStep", "disposition"] {
                if let Some(Value::String(s)) = o.get(k) {
                    let bare = bare_term(s).to_string();
                    o.insert(k.to_string(), Value::String(bare));
                }
            }
        }
        Facts {
            event_id: text("eventID").to_string(),
            event_type: text("type").to_string(),
            biz_step: bare_term(text("bizStep")).to_string(),
            disposition: bare_term(text("disposition")).to_string(),
            form: p
                .get("form")
                .and_then(|f| f.as_str().or_else(|| f.get("code").and_then(Value::as_str)))
                .map(str::to_string),
            objects,
            products,
            locations,
            plain: p,
        }
    }

    /// The lots among its objects (classes), else its objects.
    pub fn lots(&self) -> Vec<String> {
        let lots: Vec<String> = self
            .objects
            .iter()
            .filter(|k| k.contains("/10/") || k.contains(":lot:"))
            .cloned()
            .collect();
        if lots.is_empty() {
            self.objects.clone()
        } else {
            lots
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_inspection_reads_plainly() {
        let f = Facts::of(&json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "eventID": "urn:uuid:1", "type": "ObjectEvent", "action": "OBSERVE",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-inspecting", "disposition": "non_conformant",
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.012345.L1"}],
            "epcList": ["urn:epc:id:sgtin:6901234.012345.7"],
            "readPoint": {"id": "urn:epc:id:sgln:6901234.00007.0"},
            "sy:inspection": {"sy:stage": "fqc", "sy:defects": {"critical": 1}},
        }));
        assert_eq!(
            (f.biz_step.as_str(), f.disposition.as_str()),
            ("inspecting", "non_conformant")
        );
        assert_eq!(f.products, vec!["06901234123456".to_string()]);
        assert_eq!(
            f.lots(),
            vec!["https://id.gs1.org/01/06901234123456/10/L1".to_string()]
        );
        assert!(
            f.locations
                .iter()
                .any(|l| l.len() == 13 && l.starts_with("690123400007")),
            "{:?}",
            f.locations
        );
        assert_eq!(f.plain["inspection"]["stage"], "fqc");
        assert_eq!(f.plain["bizStep"], "inspecting");
        assert!(f.plain.get("@context").is_none());
    }
}
