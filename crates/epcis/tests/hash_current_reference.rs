//! Documents from the reference generator's current test set (RalphTro/epcis-event-hash-generator,
//! `tests/examples`): comments are not hashed, a document's `ignoreFields` leave those fields out, query
//! documents written with their results under the root are read, and measurement types the CBV has since renamed
//! or added are hashed rather than refused.

use std::path::Path;
use suyuan_epcis::hash::{hash_of_prehash, ignored_fields, prehash_ignoring};

fn hashes_of(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/current")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let doc: serde_json::Value = if file.ends_with(".xml") {
        suyuan_epcis::xml::document_from_xml(&text).expect("XML document")
    } else {
        serde_json::from_str(&text).expect("JSON document")
    };
    let ignore = ignored_fields(&doc);
    suyuan_epcis::parse_capture(&doc)
        .expect("events")
        .iter()
        .map(|e| hash_of_prehash(&prehash_ignoring(e, &ignore)))
        .collect()
}

#[test]
fn an_rdfs_comment_is_not_hashed() {
    assert_eq!(
        hashes_of("epcisDocHavingEventWithComment.jsonld"),
        [
            "ni:///sha-256;df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6?ver=CBV2.0"
        ]
    );
}

#[test]
fn fields_a_document_ignores_are_left_out() {
    let want = [
        "ni:///sha-256;2e3080ec5bfad98586d73f1943fae80e201613c1b2c0f084b3b8cd5976aaea5c?ver=CBV2.0",
        "ni:///sha-256;bfcf5b87dd396d4f7b266e33d4a969dc5250344ed0e47e85ce8e26d1adadad11?ver=CBV2.0",
    ];
    assert_eq!(
        hashes_of("epcisXmlDocHavingEventWithIgnoreFields.xml"),
        want
    );
    // The same events in a query document whose results sit under its root.
    let q = hashes_of("epcisXmlQueryDocHavingEventWithIgnoreFields.xml");
    assert_eq!(q.len(), 2);
    // JSON-LD: the list is an array of CURIEs.
    let doc = serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"example": "https://ns.example.com/epcis/", "repository-x": "https://repository-x.example.com/"}],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-06-08T12:00:00Z",
        "repository-x:ignoreFields": ["example:testField1"],
        "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2024-06-08T10:58:56.591+02:00",
            "eventTimeZoneOffset": "+02:00", "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:4012345.011111.1"],
            "example:testField1": "1234", "example:testField4": "ABCD"}]}
    });
    let ignore = ignored_fields(&doc);
    assert_eq!(ignore, ["{https://ns.example.com/epcis/}testField1"]);
    let e = &suyuan_epcis::parse_capture(&doc).expect("event")[0];
    let pre = prehash_ignoring(e, &ignore);
    assert!(
        pre.contains("testField4=ABCD") && !pre.contains("testField1"),
        "{pre}"
    );
}

#[test]
fn renamed_added_and_own_measurement_types_are_hashed() {
    let doc = serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"example": "https://ns.example.com/epcis/"}],
        "type": "ObjectEvent", "eventTime": "2019-07-19T14:00:00.000+01:00", "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
        "sensorElementList": [{"sensorReport": [
            {"type": "gs1:MT-Temperature", "value": 12.4, "uom": "CEL"},
            {"type": "gs1:EffectiveDoseRate", "value": 1, "uom": "D41"},
            {"type": "example:someSensorProperty", "stringValue": "someSensorOutput"}]}]
    });
    let e = &suyuan_epcis::parse_capture(&doc).expect("accepted")[0];
    let pre = prehash_ignoring(e, &[]);
    for want in [
        "type=https://gs1.org/voc/MT-Temperature",
        "type=https://gs1.org/voc/EffectiveDoseRate",
        "type=https://ns.example.com/epcis/someSensorProperty",
    ] {
        assert!(pre.contains(want), "{want} in {pre}");
    }
    // A misspelt CBV term is still refused.
    let mut bad = doc.clone();
    bad["sensorElementList"][0]["sensorReport"][0]["type"] = serde_json::json!("gs1:Temp erature");
    assert!(suyuan_epcis::parse_capture(&bad).is_err());
}
