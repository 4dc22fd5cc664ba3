//! Every GS1 example, JSON-LD and XML, captured and read back; what GS1's schemas accept is accepted.

#[allow(unused_imports)]
use super::*;

/// The event hashes of an EPCIS document's events (as a set: repeats are one event).
pub(super) fn hashes_of(doc: &Value) -> std::collections::BTreeSet<String> {
    suyuan_epcis::parse_capture(doc)
        .unwrap_or_else(|e| panic!("not valid: {e}\n{doc}"))
        .iter()
        .map(suyuan_epcis::event_hash)
        .collect()
}

/// The event hashes of an EPCISQueryDocument answer (JSON-LD).
pub(super) fn query_hashes(q: &Value) -> std::collections::BTreeSet<String> {
    let mut d = q.clone();
    d["type"] = json!("EPCISDocument");
    d["epcisBody"] =
        json!({"eventList": q["epcisBody"]["queryResults"]["resultsBody"]["eventList"]});
    hashes_of(&d)
}

pub(super) fn examples(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            examples(&p, out);
        } else if p.extension().is_some_and(|x| x == "jsonld" || x == "json") {
            out.push(p);
        }
    }
}

#[tokio::test]
pub(super) async fn every_gs1_json_example_is_captured_and_read_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/epcis/JSON");
    let mut files = Vec::new();
    examples(&root, &mut files);
    if files.is_empty() {
        eprintln!("skipped: {} not found", root.display());
        return;
    }
    files.sort();
    let mut total = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let doc: Value = serde_json::from_str(&text).expect("example is JSON");
        let name = f.display().to_string();
        // Examples reuse eventIDs with other content, which one repository rightly refuses: one store each.
        let t = test_app().await;
        let events = if doc["type"] == "EPCISQueryDocument" {
            // A query answer, not a capture: its events go in as a document of their own.
            doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone()
        } else {
            doc["epcisBody"]["eventList"].clone()
        };
        let mut d = doc.clone();
        d["type"] = json!("EPCISDocument");
        d["epcisBody"] = json!({"eventList": events});
        let a = post_with(&t, "/epcis/capture", &d, &[]).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{name}: {}", a.body);
        let sent = events.as_array().map_or(0, Vec::len);
        let job = a.json();
        let stored = job["stored"].as_u64().unwrap_or(0) as usize;
        let repeats = job["duplicates"].as_u64().unwrap_or(0) as usize;
        assert_eq!(stored + repeats, sent, "{name}");
        let back = t.get("/epcis/events?perPage=1000").await;
        assert_eq!(back.status, StatusCode::OK, "{name}: {}", back.body);
        let listed = back.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map_or(0, Vec::len);
        // Repeats within one document are one event.
        assert_eq!(listed, stored, "{name}");
        total += listed;
        // Read back in the other syntax: the same events, field by field (the event hash covers every field,
        // extensions included, after normalisation).
        let sent_hashes = hashes_of(&d);
        let json_back = back.json();
        assert_eq!(query_hashes(&json_back), sent_hashes, "{name}: JSON answer");
        let xml = get_with(
            &t,
            "/epcis/events?perPage=1000",
            &[("accept", "application/xml")],
        )
        .await;
        assert!(xml.content_type.starts_with("application/xml"), "{name}");
        let from_xml = suyuan_epcis::xml::document_from_xml(&xml.body)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", xml.body));
        assert_eq!(
            hashes_of(&from_xml),
            sent_hashes,
            "{name}: XML answer\n{}",
            xml.body
        );
    }
    assert!(
        total >= files.len(),
        "{total} events from {} files",
        files.len()
    );
}

#[tokio::test]
pub(super) async fn every_gs1_xml_example_is_captured_and_read_back() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/epcis");
    let mut files = Vec::new();
    examples_with(&base.join("XML"), "xml", &mut files);
    if files.is_empty() {
        eprintln!("skipped: {} not found", base.display());
        return;
    }
    files.sort();
    let mut captured = 0;
    let mut with_master_data = 0;
    let mut refused = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let name = f.display().to_string();
        // Capture jobs and placeholders are not EPCIS documents.
        if !(text.contains("EPCISDocument")
            || text.contains("EPCISQueryDocument")
            || text.contains("EPCISMasterDataDocument"))
        {
            continue;
        }
        let t = test_app().await;
        let a = t
            .send(
                Request::post("/epcis/capture")
                    .header(header::CONTENT_TYPE, "application/xml")
                    .body(Body::from(text.clone()))
                    .expect("request"),
            )
            .await;
        // Examples the standard has since made invalid are refused with the reason, not accepted.
        if let Some((_, pointer)) = OUTDATED_XML.iter().find(|(n, _)| name.ends_with(n)) {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{name}: {}", a.body);
            assert!(a.body.contains(pointer), "{name}: {}", a.body);
            continue;
        }
        if a.status != StatusCode::ACCEPTED {
            refused.push(format!("{name}: {}", a.body));
            continue;
        }
        let stored = a.json()["stored"].as_u64().unwrap_or(0);
        // A document of master data only carries no event.
        assert!(stored > 0 || !text.contains("Event>"), "{name}: {}", a.body);
        captured += 1;
        // Every event is served back, in JSON-LD, the same events as the XML sent.
        let back = t.get("/epcis/events?perPage=1000").await;
        let listed = back.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map_or(0, Vec::len) as u64;
        assert_eq!(listed, stored, "{name}");
        let sent = suyuan_epcis::xml::document_from_xml(&text).expect("read");
        assert_eq!(query_hashes(&back.json()), hashes_of(&sent), "{name}");
        // Master data in the header (or a master data document) is served back whole, in both syntaxes.
        let sent_md = suyuan_epcis::masterdata::from_document(&sent).expect("master data");
        if !sent_md.is_empty() {
            with_master_data += 1;
            let json_back = t.get("/epcis/masterData").await.json();
            let xml_back =
                get_with(&t, "/epcis/masterData", &[("accept", "application/xml")]).await;
            let xml_back =
                suyuan_epcis::xml::document_from_xml(&xml_back.body).expect("our XML reads back");
            for got in [json_back, xml_back] {
                let mut got = suyuan_epcis::masterdata::from_document(&got).expect("valid");
                let mut want = merged(&sent_md);
                let key = |e: &suyuan_epcis::masterdata::VocabularyElement| {
                    (e.vtype.clone(), e.id.clone())
                };
                got.sort_by_key(key);
                want.sort_by_key(key);
                let strip = |v: Vec<suyuan_epcis::masterdata::VocabularyElement>| {
                    v.into_iter()
                        .map(|mut e| {
                            e.namespaces.clear();
                            e
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(strip(got), strip(want), "{name}");
            }
        }
    }
    assert!(
        with_master_data >= 2,
        "master data documents: {with_master_data}"
    );
    // (GS1's XML and JSON examples of the same name are not translations of each other — their contents
    // differ — so the two syntaxes are held equal by the event-hash vectors instead, which are.)
    assert!(refused.is_empty(), "{}", refused.join("\n"));
    assert!(captured >= 20, "only {captured} XML documents captured");
}

/// Elements as the store keeps them: one per type and id, later captures merged into earlier ones.
pub(super) fn merged(
    els: &[suyuan_epcis::masterdata::VocabularyElement],
) -> Vec<suyuan_epcis::masterdata::VocabularyElement> {
    let mut out: Vec<suyuan_epcis::masterdata::VocabularyElement> = Vec::new();
    for e in els {
        match out.iter_mut().find(|o| o.vtype == e.vtype && o.id == e.id) {
            Some(o) => *o = o.clone().merged_with(e),
            None => out.push(e.clone()),
        }
    }
    out
}

/// GS1 XML examples that GS1's XSD and JSON schema refuse, each with the reason: one sensor example omits
/// the required sensorReport type. (persistentDisposition on an AggregationEvent, which the JSON schema limits
/// to two event types, is in the XSD on every type and accepted from XML; measurement types GS1 added after
/// our list, such as `gs1:EffectiveDoseRate`, are accepted.)
pub(super) const OUTDATED_XML: [(&str, &str); 1] = [(
    "XML/WithSensorData/SensorDataExamples.xml",
    "/epcisBody/eventList/8/sensorElementList/0/sensorReport/0/type: required",
)];

pub(super) fn examples_with(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            examples_with(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

pub(super) async fn post_xml(t: &TestApp, uri: &str, xml: &str) -> Answer {
    t.send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/xml")
            .body(Body::from(xml.to_string()))
            .expect("request"),
    )
    .await
}

/// Valid input that GS1's schemas accept and capture used to refuse: a persistentDisposition on an
/// AggregationEvent, a measurement type newer than our CBV list, an XML EPC list naming one EPC twice, and a
/// single XML event posted to `/events`.
#[tokio::test]
pub(super) async fn capture_accepts_what_gs1s_schemas_accept() {
    let t = test_app().await;
    let newer = json!({"type": "ObjectEvent", "eventTime": "2026-11-01T10:00:00Z", "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:6901234.012345.PD1"],
        "sensorElementList": [{"sensorReport": [{"type": "gs1:EffectiveDoseRate", "value": 0.2, "uom": "D41"}]}]});
    let a = post_with(&t, "/epcis/capture", &capture_doc(vec![newer]), &[]).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let agg = r#"<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-11-01T00:00:00Z">
      <EPCISBody><EventList><AggregationEvent>
        <eventTime>2026-11-01T10:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <parentID>urn:epc:id:sscc:6901234.1000000777</parentID>
        <childEPCs><epc>urn:epc:id:sgtin:6901234.012345.PD1</epc></childEPCs>
        <action>ADD</action>
        <persistentDisposition><set>urn:epcglobal:cbv:disp:completeness_verified</set></persistentDisposition>
      </AggregationEvent></EventList></EPCISBody></epcis:EPCISDocument>"#;
    let a = post_xml(&t, "/epcis/capture", agg).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let twice = r#"<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-11-01T00:00:00Z">
      <EPCISBody><EventList><ObjectEvent>
        <eventTime>2026-11-01T10:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <epcList><epc>urn:epc:id:sgtin:6901234.012345.TW1</epc><epc>urn:epc:id:sgtin:6901234.012345.TW1</epc></epcList>
        <action>OBSERVE</action></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>"#;
    let a = post_xml(&t, "/epcis/capture", twice).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let single = r#"<ObjectEvent xmlns:ex="https://example.org/ns/">
        <eventTime>2026-11-01T11:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <epcList><epc>urn:epc:id:sgtin:6901234.012345.SX1</epc></epcList>
        <action>OBSERVE</action><bizStep>urn:epcglobal:cbv:bizstep:inspecting</bizStep><ex:note>ok</ex:note></ObjectEvent>"#;
    let a = post_xml(&t, "/epcis/events", single).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let back = get_with(
        &t,
        &format!(
            "/epcis/events?MATCH_epc={}",
            percent_encode("urn:epc:id:sgtin:6901234.012345.SX1")
        ),
        &[],
    )
    .await;
    assert!(
        back.body.contains("https://example.org/ns/"),
        "{}",
        back.body
    );
    // A single XML event is not a document: /capture still says where to send it.
    let a = post_xml(&t, "/epcis/capture", single).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    // Elements out of the order GS1's XSD prescribes are refused, located, and nothing is stored.
    let swapped = twice
        .replace("<action>OBSERVE</action></ObjectEvent>", "</ObjectEvent>")
        .replace("<epcList>", "<action>OBSERVE</action><epcList>");
    let a = post_xml(&t, "/epcis/capture", &swapped).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        a.body.contains("/epcisBody/eventList/0/")
            && a.body.contains("does not match GS1's EPCIS 2.0 XML schema"),
        "{}",
        a.body
    );
}
