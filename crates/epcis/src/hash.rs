//! The EPCIS event hash (CBV 2.0 §8.9): a canonical pre-hash string of the event, hashed with SHA-256 and
//! written as `ni:///sha-256;<hex>?ver=CBV2.0`. The conformance vectors of the reference implementation pin
//! down every detail (see `tests/hash_vectors.rs`); `docs/design/event-hash.md` records the choices.

use crate::jsonld::{Context, Kind, SENSOR_METADATA, SENSOR_REPORT, event_context, sensor_vocab};
use serde_json::Value;
use sha2::{Digest, Sha256};
use suyuan_core::cbv::{GS1_VOC_BASE, Vocab};
use suyuan_core::event::*;
use suyuan_core::gs1;
use suyuan_core::time::{canonical_millis, parse_timestamp};

/// The event hash URI of an event.
pub fn event_hash(e: &Event) -> String {
    hash_of_prehash(&prehash(e))
}

/// The `ni:` URI for a pre-hash string.
pub fn hash_of_prehash(prehash: &str) -> String {
    format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        hex::encode(Sha256::digest(prehash.as_bytes()))
    )
}

/// Canonical form of a value: trimmed, CBV URNs as web URIs, numbers without trailing zeros, GS1 keys as
/// constrained canonical Digital Links.
pub fn canonical_value(v: &str) -> String {
    let v = v.trim();
    for (urn, web) in [
        (
            "urn:epcglobal:cbv:bizstep:",
            "https://ref.gs1.org/cbv/BizStep-",
        ),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ] {
        if let Some(rest) = v.strip_prefix(urn) {
            return [web, rest].concat();
        }
    }
    for (curie, web) in [("cbv:", "https://ref.gs1.org/cbv/"), ("gs1:", GS1_VOC_BASE)] {
        if let Some(rest) = v.strip_prefix(curie) {
            return [web, rest].concat();
        }
    }
    if let Some(n) = canonical_number(v) {
        return n;
    }
    gs1::canonical_digital_link(v).unwrap_or_else(|| v.to_string())
}

/// A decimal written without trailing zeros (`1.0` → `1`, `0.50` → `0.5`); `None` for non-numbers.
pub fn canonical_number(v: &str) -> Option<String> {
    let s = v.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let looks_numeric = !digits.is_empty()
        && digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b"._eE+-".contains(&b));
    if !looks_numeric {
        return None;
    }
    let f: f64 = s.replace('_', "").parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 1e38 {
        Some((f as i128).to_string())
    } else {
        Some(python_float_repr(f))
    }
}

/// Shortest round-trip formatting with Python's switch to exponent notation (below 1e-4 or from 1e16).
fn python_float_repr(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{f:e}");
        // Rust writes `1e-5`; Python writes `1e-05`.
        if let Some((m, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
        s
    } else {
        format!("{f}")
    }
}

fn time_value(v: &str) -> String {
    parse_timestamp(v)
        .map(|t| canonical_millis(&t))
        .unwrap_or_else(|_| v.trim().to_string())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One `key=value` pair, or nothing when the canonical value is empty.
fn kv(key: &str, value: &str) -> String {
    let v = canonical_value(value);
    if v.is_empty() {
        return v;
    }
    // Built by hand rather than with `format!`: the pre-hash makes one of these per EPC.
    let mut out = String::with_capacity(key.len() + 1 + v.len());
    out.push_str(key);
    out.push('=');
    out.push_str(&v);
    out
}

fn sorted_join(mut parts: Vec<String>) -> String {
    parts.retain(|p| !p.is_empty());
    parts.sort();
    parts.concat()
}

fn list(name: &str, items: Vec<String>) -> String {
    let body = sorted_join(items);
    if body.is_empty() {
        String::new()
    } else {
        format!("{name}{body}")
    }
}

fn epcs(name: &str, v: &[String]) -> String {
    list(name, v.iter().map(|e| kv("epc", e)).collect())
}

fn quantities(name: &str, v: &[QuantityElement]) -> String {
    list(
        name,
        v.iter()
            .map(|q| {
                let mut s = format!("quantityElement{}", kv("epcClass", &q.epc_class));
                if let Some(n) = &q.quantity {
                    s.push_str(&kv("quantity", &n.to_string()));
                }
                if let Some(u) = &q.uom {
                    s.push_str(&kv("uom", u));
                }
                s
            })
            .collect(),
    )
}

/// Extension fields as `{namespace}local=value` strings (nested objects concatenate their children,
/// arrays repeat the key), each level sorted.
fn extension_parts(ext: &Extensions, ctx: &Context) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in ext {
        let key = expanded_key(k, ctx);
        // Comments annotate an event; they are not part of what it says.
        if key == RDFS_COMMENT {
            continue;
        }
        push_extension(&key, v, ctx, &mut out);
    }
    out
}

/// `rdfs:comment`, expanded.
const RDFS_COMMENT: &str = "{http://www.w3.org/2000/01/rdf-schema#}comment";

/// An extension key as `{namespace}local` (unchanged when its prefix is unknown).
fn expanded_key(k: &str, ctx: &Context) -> String {
    match ctx.expand_key(k) {
        Some((ns, local)) => format!("{{{ns}}}{local}"),
        None => k.to_string(),
    }
}

/// The fields a document declares to be left out of its events' hashes: the names listed under an
/// `…:ignoreFields` member of the document or of its query results (JSON-LD: an array of CURIEs; from XML:
/// the child elements), each as `{namespace}local`.
pub fn ignored_fields(doc: &Value) -> Vec<String> {
    let mut ctx = Context::default();
    if let Some(c) = doc.get("@context") {
        ctx.extend_from(c);
    }
    let holders = [
        Some(doc),
        doc.pointer("/epcisBody/queryResults"),
        doc.pointer("/epcisBody/queryResults/resultsBody"),
    ];
    let mut out = Vec::new();
    for holder in holders.into_iter().flatten().filter_map(Value::as_object) {
        for (k, v) in holder {
            if k != "ignoreFields" && !k.ends_with(":ignoreFields") {
                continue;
            }
            let names: Vec<String> = match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                Value::Object(m) => m
                    .keys()
                    .filter(|k| !k.starts_with('@') && !k.starts_with('#'))
                    .cloned()
                    .collect(),
                Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
                _ => Vec::new(),
            };
            out.extend(names.iter().map(|n| expanded_key(n.trim(), &ctx)));
        }
    }
    out
}

/// The pre-hash string of an event without the user fields named in `ignore` (`{namespace}local`, as
/// [`ignored_fields`] gives them).
pub fn prehash_ignoring(e: &Event, ignore: &[String]) -> String {
    if ignore.is_empty() {
        return prehash(e);
    }
    let ctx = event_context(e);
    let mut kept = e.clone();
    kept.extensions
        .retain(|k, _| !ignore.contains(&expanded_key(k, &ctx)));
    prehash(&kept)
}

fn push_extension(key: &str, v: &Value, ctx: &Context, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| push_extension(key, i, ctx, out)),
        Value::Object(m) => {
            let text = m.get("@value").or_else(|| m.get("#text")).and_then(scalar);
            let children: Extensions = m
                .iter()
                .filter(|(k, _)| !k.starts_with('@') && k.as_str() != "#text")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let value = text.map(|t| kv("", &t)).unwrap_or_default();
            out.push(format!(
                "{key}{value}{}",
                sorted_join(extension_parts(&children, ctx))
            ));
        }
        Value::Null => out.push(key.to_string()),
        other => {
            let s = scalar(other).unwrap_or_default();
            let c = canonical_value(&s);
            out.push(if c.is_empty() {
                key.to_string()
            } else {
                format!("{key}={c}")
            });
        }
    }
}

fn sensor_fields(attrs: &Extensions, table: &[(&str, Kind)], ctx: &Context) -> String {
    let mut s = String::new();
    for (name, _) in table {
        let Some(v) = attrs.get(*name) else { continue };
        let Some(raw) = scalar(v) else { continue };
        let value = if name.to_lowercase().contains("time") {
            time_value(&raw)
        } else if let Some(voc) = sensor_vocab(table, name) {
            // A term of one's own vocabulary written as a CURIE stands for its IRI (JSON-LD `@vocab`).
            let own = raw
                .split_once(':')
                .filter(|(p, l)| !l.starts_with("//") && *p != "gs1" && *p != "cbv")
                .and_then(|(p, l)| ctx.iri(p).map(|iri| format!("{iri}{l}")));
            canonical_value(&own.unwrap_or_else(|| voc.expand(&raw)))
        } else {
            canonical_value(&raw)
        };
        if !value.is_empty() {
            s.push_str(&format!("{name}={value}"));
        }
    }
    let known: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
    let ext: Extensions = attrs
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    s.push_str(&sorted_join(extension_parts(&ext, ctx)));
    s
}

fn location(name: &str, l: &Option<Location>, ctx: &Context) -> String {
    match l {
        Some(l) => format!(
            "{name}{}{}",
            kv("id", &l.id),
            sorted_join(extension_parts(&l.extensions, ctx))
        ),
        None => String::new(),
    }
}

/// The canonical pre-hash string of an event.
pub fn prehash(e: &Event) -> String {
    let ctx = event_context(e);
    let mut s = format!("eventType={}", e.event_type.as_str());
    s.push_str(&format!("eventTime={}", time_value(&e.event_time)));
    s.push_str(&kv("eventTimeZoneOffset", &e.event_time_zone_offset));
    if let Some(c) = &e.certification_info {
        let values: Vec<String> = match c {
            Value::Array(a) => a.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        };
        s.push_str(&sorted_join(
            values.iter().map(|v| kv("certificationInfo", v)).collect(),
        ));
    }
    s.push_str(&epcs("epcList", &e.epc_list));
    if let Some(p) = &e.parent_id {
        s.push_str(&kv("parentID", p));
    }
    s.push_str(&epcs("inputEPCList", &e.input_epc_list));
    s.push_str(&epcs("childEPCs", &e.child_epcs));
    s.push_str(&quantities("quantityList", &e.quantity_list));
    s.push_str(&quantities("childQuantityList", &e.child_quantity_list));
    s.push_str(&quantities("inputQuantityList", &e.input_quantity_list));
    s.push_str(&epcs("outputEPCList", &e.output_epc_list));
    s.push_str(&quantities("outputQuantityList", &e.output_quantity_list));
    if let Some(a) = e.action {
        s.push_str(&format!("action={}", a.as_str()));
    }
    if let Some(t) = &e.transformation_id {
        s.push_str(&kv("transformationID", t));
    }
    if let Some(b) = &e.biz_step {
        s.push_str(&kv("bizStep", &Vocab::BizStep.expand(b)));
    }
    if let Some(d) = &e.disposition {
        s.push_str(&kv("disposition", &Vocab::Disposition.expand(d)));
    }
    if let Some(pd) = &e.persistent_disposition {
        let set = sorted_join(
            pd.set
                .iter()
                .map(|d| kv("set", &Vocab::Disposition.expand(d)))
                .collect(),
        );
        let unset = sorted_join(
            pd.unset
                .iter()
                .map(|d| kv("unset", &Vocab::Disposition.expand(d)))
                .collect(),
        );
        if !set.is_empty() || !unset.is_empty() {
            s.push_str(&format!("persistentDisposition{set}{unset}"));
        }
    }
    s.push_str(&location("readPoint", &e.read_point, &ctx));
    s.push_str(&location("bizLocation", &e.biz_location, &ctx));
    if !e.sensor_element_list.is_empty() {
        let elements = e
            .sensor_element_list
            .iter()
            .map(|el| {
                let mut es = String::from("sensorElement");
                if let Some(md) = &el.metadata {
                    es.push_str(&format!(
                        "sensorMetadata{}",
                        sensor_fields(md, SENSOR_METADATA, &ctx)
                    ));
                }
                es.push_str(&sorted_join(
                    el.reports
                        .iter()
                        .map(|r| format!("sensorReport{}", sensor_fields(r, SENSOR_REPORT, &ctx)))
                        .collect(),
                ));
                es.push_str(&sorted_join(extension_parts(&el.extensions, &ctx)));
                es
            })
            .collect();
        s.push_str(&list("sensorElementList", elements));
    }
    if let Some(ilmd) = &e.ilmd {
        s.push_str(&list("ilmd", extension_parts(ilmd, &ctx)));
    }
    // The rest in lexical order: transactions, sources, destinations and user extensions.
    let mut tail = extension_parts(&e.extensions, &ctx);
    tail.push(list(
        "bizTransactionList",
        e.biz_transaction_list
            .iter()
            .map(|b| {
                let kind = b
                    .kind
                    .as_deref()
                    .map(|k| kv("type", &Vocab::BizTransactionType.expand(k)))
                    .unwrap_or_default();
                format!("{kind}{}", kv("bizTransaction", &b.id))
            })
            .collect(),
    ));
    for (name, item, v) in [
        ("sourceList", "source", &e.source_list),
        ("destinationList", "destination", &e.destination_list),
    ] {
        tail.push(list(
            name,
            v.iter()
                .map(|x| {
                    format!(
                        "{}{}",
                        kv("type", &Vocab::SourceDestType.expand(&x.kind)),
                        kv(item, &x.id)
                    )
                })
                .collect(),
        ));
    }
    s.push_str(&sorted_join(tail));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_trailing_zeros() {
        assert_eq!(canonical_number("1.0").as_deref(), Some("1"));
        assert_eq!(canonical_number("0.3434").as_deref(), Some("0.3434"));
        assert_eq!(canonical_number("452.0").as_deref(), Some("452"));
        assert_eq!(canonical_number("2019-10-21"), None);
        assert_eq!(canonical_number("AB-12"), None);
        assert_eq!(canonical_number("0.00001").as_deref(), Some("1e-05"));
    }
}
