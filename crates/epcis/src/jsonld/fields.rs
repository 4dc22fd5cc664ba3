//! Reading an event's fields: identifiers, URIs, vocabulary terms, times, quantities, locations, business transactions, sources and destinations, extensions — each refusal located.

#[allow(unused_imports)]
use super::*;

/// Checks that an identifier is a URI and, for EPC URIs of schemes with a GS1 key, well formed.
/// `ptr` makes the pointer only when there is an error to place (this runs for every identifier read).
pub(super) fn check_id(v: &str, ptr: impl FnOnce() -> String, what: &str, errs: &mut Errors) {
    if !is_uri(v) {
        errs.push(
            ptr(),
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
            ptr(),
            format!(
                "malformed {scheme} URI \"{v}\": expected company prefix (6–12 digits) and references of the \
                 lengths the GS1 Tag Data Standard gives"
            ),
        );
    }
}

pub(super) fn get_str<'a>(
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

pub(super) fn get_uri(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    what: &str,
    errs: &mut Errors,
) -> Option<String> {
    let s = get_str(obj, key, ptr, errs)?;
    check_id(s, || format!("{ptr}/{}", esc(key)), what, errs);
    Some(s.to_string())
}

pub(super) fn get_vocab(
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

pub(super) fn get_time(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errs: &mut Errors,
) -> Option<String> {
    let s = get_str(obj, key, ptr, errs)?;
    match parse_timestamp(s) {
        Ok(_) => Some(s.to_string()),
        Err(m) => {
            errs.push(format!("{ptr}/{}", esc(key)), m);
            None
        }
    }
}

pub(super) fn get_uri_list(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errs: &mut Errors,
) -> Vec<String> {
    let p = format!("{ptr}/{}", esc(key));
    match obj.get(key) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::String(s) => {
                    check_id(s, || format!("{p}/{i}"), "an EPC", errs);
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

pub(super) fn get_quantities(
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
            check_id(c, || format!("{ip}/epcClass"), "an EPC class", errs);
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

pub(super) fn get_location(
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
pub(super) fn collect_extensions(
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

pub(super) fn get_biz_transactions(
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

pub(super) fn get_source_dest(
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

pub(super) fn used_namespaces(e: &Event, ctx: &Context) -> Vec<(String, String)> {
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
