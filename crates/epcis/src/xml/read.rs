//! Reading EPCIS XML: the element tree, documents (capture and query) and their master data, into the JSON-LD form.

#[allow(unused_imports)]
use super::*;

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
    pub(super) fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .filter(|c| !c.is_nil())
            .map(|c| c.text.trim().to_string())
    }

    pub(super) fn is_nil(&self) -> bool {
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

pub(super) fn document_from_tree(
    root: &Element,
    namespaces: &[(String, String)],
) -> Result<Value, XmlError> {
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
pub(super) fn context_of(namespaces: &[(String, String)]) -> Value {
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
pub(super) fn vocabulary_list_from_xml(list: &Element) -> Value {
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

pub(super) fn is_epcis_ns(ns: &str) -> bool {
    ns.starts_with("urn:epcglobal:epcis") || ns.starts_with("urn:epcglobal:epcis-query")
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
