//! Writing EPCIS XML: query documents, vocabularies and events in the XSD's element order.

#[allow(unused_imports)]
use super::*;

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
pub(super) fn write_vocabularies(w: &mut XmlOut, vocabularies: &[Value]) {
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
pub(super) struct XmlOut {
    pub(super) out: String,
    pub(super) depth: usize,
    pub(super) web: bool,
}

pub(super) fn escape(s: &str) -> String {
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
    pub(super) fn cbv(&self, voc: Vocab, v: &str) -> String {
        if self.web {
            voc.expand(v)
        } else {
            voc.xml_form(v)
        }
    }

    pub(super) fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    pub(super) fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    pub(super) fn start_tag(&mut self, name: &str, attrs: &[(String, String)], empty: bool) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        self.out.push_str(if empty { "/>\n" } else { ">\n" });
    }

    pub(super) fn open(&mut self, name: &str, attrs: &[(String, String)]) {
        self.start_tag(name, attrs, false);
        self.depth += 1;
    }

    pub(super) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
    }

    pub(super) fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
    }

    pub(super) fn leaf_with(&mut self, name: &str, attrs: &[(String, String)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        self.out.push_str(&format!(">{}</{name}>\n", escape(text)));
    }
}

pub(super) fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The order of the standard fields in EPCIS 2.0 XML (TransactionEvent puts bizTransactionList first).
pub(super) const XSD_ORDER: [&str; 21] = [
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

pub(super) fn write_event(w: &mut XmlOut, e: &Value) {
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

pub(super) fn sensor_attrs(m: &Map<String, Value>) -> Vec<(String, String)> {
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
pub(super) fn extensions(w: &mut XmlOut, o: &Map<String, Value>, skip: &[&str]) {
    for (k, v) in o {
        if skip.contains(&k.as_str()) || !k.contains(':') || k.starts_with('@') {
            continue;
        }
        ext_element(w, k, v);
    }
}

pub(super) fn ext_element(w: &mut XmlOut, name: &str, v: &Value) {
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
