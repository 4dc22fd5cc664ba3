//! EPCIS 2.0 XML documents (and 1.x-style `extension` / `baseExtension` wrappers) read into the JSON-LD
//! document form, so that one parser, one validator and one event hash serve both syntaxes. Extension
//! elements keep their namespace and prefix (`prefix:localName`, the prefix declared in `@context`).

use quick_xml::NsReader;
use quick_xml::events::Event as XmlEvent;
use quick_xml::name::ResolveResult;
use serde_json::{Map, Value, json};
use suyuan_core::cbv::Vocab;

/// The EPCIS 2.0 JSON-LD context every converted document names first.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Why an XML document could not be read; nothing of it was used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XML: {0}")]
pub struct XmlError(pub String);

/// One element of the document tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub(crate) ns: Option<String>,
    pub(crate) prefix: Option<String>,
    pub(crate) local: String,
    pub(crate) attrs: Vec<(Option<String>, Option<String>, String, String)>,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

impl Element {
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.ns.is_none() && c.local == name)
    }

    /// The text of a child element; `None` when it is absent or `xsi:nil`.
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .filter(|c| !c.is_nil())
            .map(|c| c.text.trim().to_string())
    }

    fn is_nil(&self) -> bool {
        self.attrs.iter().any(|(ns, _, local, v)| {
            local == "nil"
                && ns.as_deref() == Some("http://www.w3.org/2001/XMLSchema-instance")
                && v.trim() == "true"
        })
    }

    pub(crate) fn qualified(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }
}

pub(crate) fn parse_tree(text: &str) -> Result<(Element, Vec<(String, String)>), XmlError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut namespaces: Vec<(String, String)> = Vec::new();
    let mut root: Option<Element> = None;
    let err = |pos: u64, e: String| XmlError(format!("at byte {pos}: {e}"));
    loop {
        let at = reader.buffer_position();
        let (resolved, ev) = reader
            .read_resolved_event()
            .map_err(|e| err(at, e.to_string()))?;
        match ev {
            XmlEvent::Start(ref s) | XmlEvent::Empty(ref s) => {
                let ns = match resolved {
                    ResolveResult::Bound(n) => {
                        Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                    }
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => {
                        return Err(err(
                            at,
                            format!(
                                "undeclared namespace prefix {}",
                                String::from_utf8_lossy(&p)
                            ),
                        ));
                    }
                };
                let name = s.name();
                let prefix = name
                    .prefix()
                    .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
                let local = String::from_utf8_lossy(name.local_name().as_ref()).into_owned();
                let mut el = Element {
                    ns,
                    prefix,
                    local,
                    ..Element::default()
                };
                for a in s.attributes() {
                    let a = a.map_err(|e| err(at, e.to_string()))?;
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    let value = a
                        .unescape_value()
                        .map_err(|e| err(at, e.to_string()))?
                        .into_owned();
                    if let Some(p) = key.strip_prefix("xmlns:") {
                        if !namespaces.iter().any(|(k, _)| k == p) {
                            namespaces.push((p.to_string(), value));
                        }
                        continue;
                    }
                    if key == "xmlns" {
                        continue;
                    }
                    let (ans, _) = reader.resolver().resolve_attribute(a.key);
                    let ans = match ans {
                        ResolveResult::Bound(n) => {
                            Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                        }
                        _ => None,
                    };
                    let (apfx, alocal) = match key.split_once(':') {
                        Some((p, l)) => (Some(p.to_string()), l.to_string()),
                        None => (None, key.clone()),
                    };
                    el.attrs.push((ans, apfx, alocal, value));
                }
                if matches!(ev, XmlEvent::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            XmlEvent::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| err(at, "unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            XmlEvent::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.xml_content().map_err(|e| err(at, e.to_string()))?;
                    top.text.push_str(&s);
                }
            }
            XmlEvent::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            XmlEvent::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = String::from_utf8_lossy(&r.into_inner()).into_owned();
                    let ch = match name.as_str() {
                        "amp" => "&".to_string(),
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        n => n
                            .strip_prefix("#x")
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
                            .and_then(char::from_u32)
                            .map(String::from)
                            .ok_or_else(|| err(at, format!("unknown entity &{n};")))?,
                    };
                    top.text.push_str(&ch);
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError(format!(
            "unclosed element <{}>",
            stack[stack.len() - 1].local
        )));
    }
    let root = root.ok_or_else(|| XmlError("no root element".into()))?;
    Ok((root, namespaces))
}

/// Whether an XML document (by its first bytes) looks like XML rather than JSON.
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// Reads an EPCIS 2.0 XML `EPCISDocument` or `EPCISQueryDocument` into the JSON-LD document form
/// (`EPCISDocument` with `epcisBody.eventList`).
pub fn document_from_xml(text: &str) -> Result<Value, XmlError> {
    let (root, namespaces) = parse_tree(text)?;
    document_from_tree(&root, &namespaces)
}

/// [`document_from_xml`] for a document that GS1's XSD accepts, from one reading of the text: the inner
/// `Err` holds the findings against the XSD ([`crate::xsd::violations`]), the outer one an unreadable text.
#[allow(clippy::type_complexity)]
pub fn document_from_xml_checked(
    text: &str,
) -> Result<Result<Value, Vec<crate::jsonld::FieldError>>, XmlError> {
    let (root, namespaces) = parse_tree(text)?;
    let violations = crate::xsd::violations_of(&root);
    if !violations.is_empty() {
        return Ok(Err(violations));
    }
    document_from_tree(&root, &namespaces).map(Ok)
}

fn document_from_tree(root: &Element, namespaces: &[(String, String)]) -> Result<Value, XmlError> {
    // One event on its own (`<ObjectEvent>…`), as `POST /events` takes it.
    if EVENT_TYPES.contains(&root.local.as_str()) {
        let mut e = event(root)?;
        e["@context"] = context_of(namespaces);
        return Ok(e);
    }
    let empty = Element::default();
    let body = match root.child("EPCISBody") {
        Some(b) => b,
        // A query document may carry its results straight under the root (as some implementations write it).
        None if root.local == "EPCISQueryDocument" && root.child("resultsBody").is_some() => &empty,
        None => return Err(XmlError(format!("<{}> has no <EPCISBody>", root.local))),
    };
    let results = body
        .children
        .iter()
        .find(|c| c.local == "QueryResults")
        .and_then(|q| q.child("resultsBody"))
        .or_else(|| root.child("resultsBody"));
    let header = root.child("EPCISHeader");
    let header_md = header.and_then(|h| h.child("EPCISMasterData")).or_else(|| {
        header
            .and_then(|h| h.child("extension"))
            .and_then(|x| x.child("EPCISMasterData"))
    });
    let (list, vocabularies) = match root.local.as_str() {
        "EPCISDocument" => (
            body.child("EventList"),
            header_md.and_then(|m| m.child("VocabularyList")),
        ),
        "EPCISQueryDocument" => (
            results.and_then(|r| r.child("EventList")),
            results.and_then(|r| r.child("VocabularyList")),
        ),
        "EPCISMasterDataDocument" => (None, body.child("VocabularyList")),
        other => {
            return Err(XmlError(format!(
                "expected <epcis:EPCISDocument>, <epcismd:EPCISMasterDataDocument> or <epcisq:EPCISQueryDocument>, got <{other}>"
            )));
        }
    };
    let mut events = Vec::new();
    if let Some(list) = list {
        for c in &list.children {
            if c.ns.is_none() && c.local == "extension" {
                for inner in &c.children {
                    events.push(event(inner)?);
                }
            } else {
                events.push(event(c)?);
            }
        }
    }
    let mut doc = json!({"@context": context_of(namespaces), "type": "EPCISDocument",
        "epcisBody": {"eventList": events}});
    if let Some(v) = vocabularies {
        doc["epcisHeader"] =
            json!({"epcisMasterData": {"vocabularyList": vocabulary_list_from_xml(v)}});
    }
    // Fields the document declares to be left out of event hashes (`<x:ignoreFields><a:b/>…`), as CURIEs.
    let ignored: Vec<Value> = std::iter::once(root)
        .chain(body.children.iter().filter(|c| c.local == "QueryResults"))
        .flat_map(|holder| holder.children.iter())
        .filter(|c| c.local == "ignoreFields")
        .flat_map(|c| c.children.iter())
        .map(|f| json!(f.qualified()))
        .collect();
    if !ignored.is_empty() {
        doc["ignoreFields"] = Value::Array(ignored);
    }
    for (_, _, k, v) in &root.attrs {
        if k == "schemaVersion" || k == "creationDate" {
            doc[k.as_str()] = json!(v);
        }
    }
    if doc.get("schemaVersion").is_none() {
        doc["schemaVersion"] = json!("2.0");
    }
    if doc.get("creationDate").is_none() {
        doc["creationDate"] = json!("1970-01-01T00:00:00Z");
    }
    Ok(doc)
}

/// The JSON-LD `@context` for a document's namespace declarations: EPCIS's own and the user namespaces.
fn context_of(namespaces: &[(String, String)]) -> Value {
    let mut ctx = vec![json!(EPCIS_CONTEXT)];
    let mut map = Map::new();
    for (p, ns) in namespaces {
        if is_epcis_ns(ns) || ns == "http://www.w3.org/2001/XMLSchema-instance" {
            continue;
        }
        map.insert(p.clone(), json!(ns));
    }
    if !map.is_empty() {
        ctx.push(Value::Object(map));
    }
    Value::Array(ctx)
}

/// A `<VocabularyList>` as the JSON-LD `vocabularyList`: attribute values are their text (as written, never
/// turned into numbers) or, when they hold elements, an object of those elements.
fn vocabulary_list_from_xml(list: &Element) -> Value {
    let mut out = Vec::new();
    for voc in list.children.iter().filter(|c| c.local == "Vocabulary") {
        let vtype = voc
            .attrs
            .iter()
            .find(|a| a.2 == "type")
            .map_or("", |a| a.3.as_str());
        let mut elements = Vec::new();
        for el in voc
            .child("VocabularyElementList")
            .map(|l| l.children.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|c| c.local == "VocabularyElement")
        {
            let mut m = Map::new();
            if let Some(id) = el.attrs.iter().find(|a| a.2 == "id") {
                m.insert("id".into(), json!(id.3));
            }
            let attributes: Vec<Value> = el
                .children
                .iter()
                .filter(|c| c.local == "attribute")
                .map(|a| {
                    let id = a
                        .attrs
                        .iter()
                        .find(|x| x.2 == "id")
                        .map_or("", |x| x.3.as_str());
                    json!({"id": id, "attribute": extension_value(a)})
                })
                .collect();
            if !attributes.is_empty() {
                m.insert("attributes".into(), Value::Array(attributes));
            }
            if let Some(kids) = el.child("children") {
                let ids: Vec<Value> = kids
                    .children
                    .iter()
                    .filter(|c| c.local == "id")
                    .map(|c| json!(c.text.trim()))
                    .collect();
                m.insert("children".into(), Value::Array(ids));
            }
            elements.push(Value::Object(m));
        }
        out.push(json!({"type": vtype, "vocabularyElementList": elements}));
    }
    Value::Array(out)
}

fn is_epcis_ns(ns: &str) -> bool {
    ns.starts_with("urn:epcglobal:epcis") || ns.starts_with("urn:epcglobal:epcis-query")
}

const EVENT_TYPES: [&str; 5] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];

const EPC_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
const QUANTITY_LISTS: [&str; 4] = [
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
];
const NUMERIC_ATTRS: [&str; 8] = [
    "value",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "quantity",
];

fn event(el: &Element) -> Result<Value, XmlError> {
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
fn fields(el: &Element, out: &mut Map<String, Value>) -> Result<(), XmlError> {
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
fn cbv(voc: Vocab, v: &str) -> String {
    voc.normalise(v).unwrap_or_else(|_| v.to_string())
}

fn sensor_element(e: &Element) -> Value {
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
fn attributes(e: &Element) -> Value {
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

fn number(s: &str) -> Value {
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
fn extension_value(e: &Element) -> Value {
    if e.children.is_empty() {
        return json!(e.text.trim());
    }
    let mut m = Map::new();
    for c in &e.children {
        insert_ext(&mut m, c.qualified(), extension_value(c));
    }
    Value::Object(m)
}

fn insert_ext(m: &mut Map<String, Value>, key: String, v: Value) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_into_json_ld() {
        let x = r#"<?xml version="1.0"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://ns.example.com/epcis/"
    schemaVersion="2.0" creationDate="2020-03-03T13:07:51.709Z">
  <EPCISBody><EventList>
    <ObjectEvent>
      <eventTime>2020-03-04T11:00:30.000+01:00</eventTime>
      <eventTimeZoneOffset>+01:00</eventTimeZoneOffset>
      <epcList><epc>urn:epc:id:sscc:4012345.0000000333</epc></epcList>
      <action>OBSERVE</action>
      <bizStep>urn:epcglobal:cbv:bizstep:departing</bizStep>
      <readPoint><id>urn:epc:id:sgln:4012345.00011.987</id></readPoint>
      <extension><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:4012345.012345.998877</epcClass>
        <quantity>200</quantity><uom>KGM</uom></quantityElement></quantityList></extension>
      <ex:myField><ex:sub>2</ex:sub><ex:sub>5</ex:sub></ex:myField>
      <ex:note>a &amp; b</ex:note>
    </ObjectEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>"#;
        let d = document_from_xml(x).expect("xml");
        assert_eq!(d["@context"][1]["ex"], "https://ns.example.com/epcis/");
        let e = &d["epcisBody"]["eventList"][0];
        assert_eq!(e["type"], "ObjectEvent");
        assert_eq!(e["epcList"][0], "urn:epc:id:sscc:4012345.0000000333");
        assert_eq!(e["quantityList"][0]["quantity"], 200);
        assert_eq!(e["ex:myField"]["ex:sub"], json!(["2", "5"]));
        assert_eq!(e["ex:note"], "a & b");
        assert!(crate::parse_capture(&d).is_ok());
        assert!(document_from_xml("<a><b></a>").is_err());
        assert!(document_from_xml("<x:EPCISDocument/>").is_err());
    }
}

/// The namespace of the EPCIS 2.0 XML document elements.
pub const EPCIS_NS: &str = "urn:epcglobal:epcis:xsd:2";
/// The namespace of the EPCIS 2.0 XML query elements.
pub const EPCIS_QUERY_NS: &str = "urn:epcglobal:epcis-query:xsd:2";

/// Writes an EPCISQueryDocument (JSON-LD form, as the REST bindings answer) as EPCIS 2.0 XML: CBV values as
/// URNs, extension fields as elements of their namespaces (declared on the root from the `@context`).
/// `cbv_web_uris` writes CBV values as web URIs (`GS1-CBV-XML-Format: Always_Web_URI`) instead of URNs.
pub fn query_document_to_xml(doc: &Value, cbv_web_uris: bool) -> String {
    let mut ns: Vec<(String, String)> = vec![
        ("epcis".into(), EPCIS_NS.into()),
        ("epcisq".into(), EPCIS_QUERY_NS.into()),
        ("gs1".into(), "https://gs1.org/voc/".into()),
    ];
    let mut add_ctx = |c: &Value| {
        if let Some(o) = c.as_object() {
            for (k, v) in o {
                if let Some(v) = v.as_str()
                    && !ns.iter().any(|(p, _)| p == k)
                {
                    ns.push((k.clone(), v.to_string()));
                }
            }
        }
    };
    match doc.get("@context") {
        Some(Value::Array(a)) => a.iter().for_each(&mut add_ctx),
        Some(o) => add_ctx(o),
        None => {}
    }
    // Prefixes the standard JSON-LD context defines, which events may use without declaring them.
    add_ctx(
        &json!({"cbv": "https://ref.gs1.org/cbv/", "cbvmda": "urn:epcglobal:cbv:mda:",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "owl": "http://www.w3.org/2002/07/owl#",
        "xsd": "http://www.w3.org/2001/XMLSchema#", "dcterms": "http://purl.org/dc/terms/"}),
    );
    let results = &doc["epcisBody"]["queryResults"];
    let mut w = XmlOut {
        web: cbv_web_uris,
        ..XmlOut::default()
    };
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut attrs: Vec<(String, String)> = ns
        .iter()
        .map(|(p, u)| (format!("xmlns:{p}"), u.clone()))
        .collect();
    attrs.push(("schemaVersion".into(), "2.0".into()));
    if let Some(d) = doc.get("creationDate").and_then(Value::as_str) {
        attrs.push(("creationDate".into(), d.into()));
    }
    w.open("epcisq:EPCISQueryDocument", &attrs);
    w.open("EPCISBody", &[]);
    w.open("epcisq:QueryResults", &[]);
    w.leaf(
        "queryName",
        results["queryName"].as_str().unwrap_or("SimpleEventQuery"),
    );
    if let Some(id) = results.get("subscriptionID").and_then(Value::as_str) {
        w.leaf("subscriptionID", id);
    }
    w.open("resultsBody", &[]);
    if let Some(vocabularies) = results["resultsBody"]["vocabularyList"].as_array() {
        write_vocabularies(&mut w, vocabularies);
    } else {
        w.open("EventList", &[]);
        for e in results["resultsBody"]["eventList"]
            .as_array()
            .into_iter()
            .flatten()
        {
            write_event(&mut w, e);
        }
        w.close("EventList");
    }
    w.close("resultsBody");
    w.close("epcisq:QueryResults");
    w.close("EPCISBody");
    w.close("epcisq:EPCISQueryDocument");
    w.out
}

/// A `<VocabularyList>` from the JSON-LD `vocabularyList` (attribute objects become their elements).
fn write_vocabularies(w: &mut XmlOut, vocabularies: &[Value]) {
    w.open("VocabularyList", &[]);
    for voc in vocabularies {
        let vtype = voc["type"].as_str().unwrap_or_default();
        w.open("Vocabulary", &[("type".into(), vtype.into())]);
        w.open("VocabularyElementList", &[]);
        for el in voc["vocabularyElementList"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = el["id"].as_str().unwrap_or_default();
            w.open("VocabularyElement", &[("id".into(), id.into())]);
            for a in el["attributes"].as_array().into_iter().flatten() {
                let attrs = [(
                    "id".to_string(),
                    a["id"].as_str().unwrap_or_default().to_string(),
                )];
                match &a["attribute"] {
                    Value::Object(o) => {
                        w.open("attribute", &attrs);
                        for (k, x) in o {
                            ext_element(w, k, x);
                        }
                        w.close("attribute");
                    }
                    v => w.leaf_with("attribute", &attrs, &scalar_text(v)),
                }
            }
            if let Some(kids) = el["children"].as_array() {
                w.open("children", &[]);
                for k in kids {
                    w.leaf("id", k.as_str().unwrap_or_default());
                }
                w.close("children");
            }
            w.close("VocabularyElement");
        }
        w.close("VocabularyElementList");
        w.close("Vocabulary");
    }
    w.close("VocabularyList");
}

/// A small indenting XML writer (escaping text and attribute values).
#[derive(Default)]
struct XmlOut {
    out: String,
    depth: usize,
    web: bool,
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

impl XmlOut {
    /// A CBV value in the chosen XML form.
    fn cbv(&self, voc: Vocab, v: &str) -> String {
        if self.web {
            voc.expand(v)
        } else {
            voc.xml_form(v)
        }
    }

    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(String, String)], empty: bool) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        self.out.push_str(if empty { "/>\n" } else { ">\n" });
    }

    fn open(&mut self, name: &str, attrs: &[(String, String)]) {
        self.start_tag(name, attrs, false);
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
    }

    fn leaf_with(&mut self, name: &str, attrs: &[(String, String)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        self.out.push_str(&format!(">{}</{name}>\n", escape(text)));
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The order of the standard fields in EPCIS 2.0 XML (TransactionEvent puts bizTransactionList first).
const XSD_ORDER: [&str; 21] = [
    "inputEPCList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "transformationID",
    "parentID",
    "epcList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "action",
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

fn write_event(w: &mut XmlOut, e: &Value) {
    let t = e["type"].as_str().unwrap_or("ObjectEvent").to_string();
    w.open(&t, &[]);
    let text = |w: &mut XmlOut, k: &str| {
        if let Some(v) = e.get(k).and_then(Value::as_str) {
            w.leaf(k, v);
        }
    };
    text(w, "eventTime");
    text(w, "recordTime");
    text(w, "eventTimeZoneOffset");
    match e.get("certificationInfo") {
        Some(Value::Array(a)) => a
            .iter()
            .for_each(|c| w.leaf("certificationInfo", &scalar_text(c))),
        Some(c) => w.leaf("certificationInfo", &scalar_text(c)),
        None => {}
    }
    text(w, "eventID");
    if let Some(d) = e.get("errorDeclaration").and_then(Value::as_object) {
        w.open("errorDeclaration", &[]);
        if let Some(v) = d.get("declarationTime").and_then(Value::as_str) {
            w.leaf("declarationTime", v);
        }
        if let Some(v) = d.get("reason").and_then(Value::as_str) {
            w.leaf("reason", &w.cbv(Vocab::ErrorReason, v));
        }
        if let Some(ids) = d.get("correctiveEventIDs").and_then(Value::as_array) {
            w.open("correctiveEventIDs", &[]);
            ids.iter()
                .for_each(|i| w.leaf("correctiveEventID", &scalar_text(i)));
            w.close("correctiveEventIDs");
        }
        extensions(w, d, &["declarationTime", "reason", "correctiveEventIDs"]);
        w.close("errorDeclaration");
    }
    let event_type = suyuan_core::EventType::parse(&t).unwrap_or(suyuan_core::EventType::Object);
    let allowed = crate::jsonld::allowed_fields(event_type);
    let mut order: Vec<&str> = XSD_ORDER
        .into_iter()
        .filter(|f| allowed.contains(f))
        .collect();
    if event_type == suyuan_core::EventType::Transaction {
        order.retain(|f| *f != "bizTransactionList");
        order.insert(0, "bizTransactionList");
    }
    for k in &order {
        let Some(v) = e.get(*k) else { continue };
        match *k {
            "epcList" | "childEPCs" | "inputEPCList" | "outputEPCList" => {
                w.open(k, &[]);
                v.as_array()
                    .into_iter()
                    .flatten()
                    .for_each(|x| w.leaf("epc", &scalar_text(x)));
                w.close(k);
            }
            "quantityList" | "childQuantityList" | "inputQuantityList" | "outputQuantityList" => {
                w.open(k, &[]);
                for q in v.as_array().into_iter().flatten() {
                    w.open("quantityElement", &[]);
                    if let Some(c) = q.get("epcClass") {
                        w.leaf("epcClass", &scalar_text(c));
                    }
                    if let Some(n) = q.get("quantity") {
                        w.leaf("quantity", &scalar_text(n));
                    }
                    if let Some(u) = q.get("uom") {
                        w.leaf("uom", &scalar_text(u));
                    }
                    w.close("quantityElement");
                }
                w.close(k);
            }
            "bizStep" => w.leaf(k, &w.cbv(Vocab::BizStep, &scalar_text(v))),
            "disposition" => w.leaf(k, &w.cbv(Vocab::Disposition, &scalar_text(v))),
            "persistentDisposition" => {
                w.open(k, &[]);
                for which in ["set", "unset"] {
                    for d in v.get(which).and_then(Value::as_array).into_iter().flatten() {
                        w.leaf(which, &w.cbv(Vocab::Disposition, &scalar_text(d)));
                    }
                }
                w.close(k);
            }
            "readPoint" | "bizLocation" => {
                w.open(k, &[]);
                if let Some(id) = v.get("id") {
                    w.leaf("id", &scalar_text(id));
                }
                if let Some(o) = v.as_object() {
                    extensions(w, o, &["id"]);
                }
                w.close(k);
            }
            "bizTransactionList" | "sourceList" | "destinationList" => {
                let (item, voc) = match *k {
                    "bizTransactionList" => ("bizTransaction", Vocab::BizTransactionType),
                    "sourceList" => ("source", Vocab::SourceDestType),
                    _ => ("destination", Vocab::SourceDestType),
                };
                w.open(k, &[]);
                for b in v.as_array().into_iter().flatten() {
                    let attrs: Vec<(String, String)> = b
                        .get("type")
                        .map(|t| vec![("type".to_string(), w.cbv(voc, &scalar_text(t)))])
                        .unwrap_or_default();
                    w.leaf_with(item, &attrs, &scalar_text(&b[item]));
                }
                w.close(k);
            }
            "sensorElementList" => {
                w.open(k, &[]);
                for s in v.as_array().into_iter().flatten() {
                    w.open("sensorElement", &[]);
                    if let Some(m) = s.get("sensorMetadata").and_then(Value::as_object) {
                        w.start_tag("sensorMetadata", &sensor_attrs(m), true);
                    }
                    for r in s
                        .get("sensorReport")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(r) = r.as_object() {
                            w.start_tag("sensorReport", &sensor_attrs(r), true);
                        }
                    }
                    if let Some(o) = s.as_object() {
                        extensions(w, o, &["sensorMetadata", "sensorReport"]);
                    }
                    w.close("sensorElement");
                }
                w.close(k);
            }
            "ilmd" => {
                w.open(k, &[]);
                if let Some(o) = v.as_object() {
                    extensions(w, o, &[]);
                }
                w.close(k);
            }
            _ => w.leaf(k, &scalar_text(v)),
        }
    }
    if let Some(o) = e.as_object() {
        let mut standard: Vec<&str> = crate::jsonld::COMMON.to_vec();
        standard.extend_from_slice(crate::jsonld::ALL_STANDARD_FIELDS);
        extensions(w, o, &standard);
    }
    w.close(&t);
}

fn sensor_attrs(m: &Map<String, Value>) -> Vec<(String, String)> {
    m.iter()
        .map(|(k, v)| {
            let text = scalar_text(v);
            let text = match k.as_str() {
                "type" => Vocab::MeasurementType.xml_form(&text),
                "exception" => Vocab::SensorAlert.xml_form(&text),
                "component" => Vocab::Component.xml_form(&text),
                _ => text,
            };
            (k.clone(), text)
        })
        .collect()
}

/// Extension fields (`prefix:name` keys) as elements; arrays repeat the element.
fn extensions(w: &mut XmlOut, o: &Map<String, Value>, skip: &[&str]) {
    for (k, v) in o {
        if skip.contains(&k.as_str()) || !k.contains(':') || k.starts_with('@') {
            continue;
        }
        ext_element(w, k, v);
    }
}

fn ext_element(w: &mut XmlOut, name: &str, v: &Value) {
    // A key written as a full IRI gets a prefix declared on the element itself.
    if name.contains("://") || name.starts_with("urn:") {
        let cut = name.rfind(['/', '#', ':']).map_or(0, |i| i + 1);
        let (ns, local) = name.split_at(cut);
        let qname = format!("ext:{local}");
        let decl = vec![("xmlns:ext".to_string(), ns.to_string())];
        match v {
            Value::Object(o) if !o.contains_key("@value") => {
                w.open(&qname, &decl);
                for (k, x) in o {
                    if !k.starts_with('@') {
                        ext_element(w, k, x);
                    }
                }
                w.close(&qname);
            }
            Value::Array(a) => a.iter().for_each(|x| ext_element(w, name, x)),
            other => {
                let text = match other {
                    Value::Object(o) => scalar_text(&o["@value"]),
                    x => scalar_text(x),
                };
                w.leaf_with(&qname, &decl, &text);
            }
        }
        return;
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| ext_element(w, name, x)),
        Value::Object(o) if o.contains_key("@value") => {
            w.leaf(name, &scalar_text(&o["@value"]));
        }
        Value::Object(o) => {
            w.open(name, &[]);
            for (k, x) in o {
                if !k.starts_with('@') {
                    ext_element(w, k, x);
                }
            }
            w.close(name);
        }
        other => w.leaf(name, &scalar_text(other)),
    }
}
