//! Master data tests: reading vocabularies from documents, merging, the hierarchy and SimpleMasterDataQuery.
use super::*;

fn doc() -> Value {
    json!({"type": "EPCISDocument", "epcisHeader": {"epcisMasterData": {"vocabularyList": [
        {"type": BUSINESS_LOCATION, "vocabularyElementList": [
            {"id": "urn:epc:id:sgln:6901234.00001.0",
             "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "一号工厂"},
                            {"id": "urn:epcglobal:cbv:mda#sst", "attribute": 201}],
             "children": ["urn:epc:id:sgln:6901234.00001.1"]},
            {"id": "urn:epc:id:sgln:6901234.00001.1",
             "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "车间"}],
             "children": ["urn:epc:id:sgln:6901234.00001.2"]},
            {"id": "urn:epc:id:sgln:6901234.00001.2"}
        ]},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
            {"id": "urn:epc:idpat:sgtin:6901234.012345.*",
             "attributes": [{"id": "urn:epcglobal:cbv:mda#regulatedProductName", "attribute": "婴幼儿配方奶粉"}]}
        ]}
    ]}}})
}

#[test]
fn a_header_reads_into_elements_and_back() {
    let els = from_document(&doc()).expect("valid");
    assert_eq!(els.len(), 4);
    assert_eq!(name_of(&els[0]), Some("一号工厂"));
    assert_eq!(name_of(&els[2]), None);
    assert_eq!(
        els[0].attributes[1],
        ("urn:epcglobal:cbv:mda#sst".into(), json!(201))
    );
    assert_eq!(
        vocabulary_list(&els),
        doc()["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    );
    let mut with_ns = doc();
    with_ns["@context"] = json!(["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        {"example": "http://epcis.example.com/ns"}]);
    with_ns["epcisHeader"]["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"][2]["attributes"] =
        json!([{"id": "urn:x:address", "attribute": {"example:Address": {"Street": "1"}}}]);
    let els2 = from_document(&with_ns).expect("valid");
    assert_eq!(
        els2[2].namespaces.get("example").map(String::as_str),
        Some("http://epcis.example.com/ns")
    );
    assert!(els2[0].namespaces.is_empty());
    let stored = els2[2].to_doc();
    assert_eq!(
        VocabularyElement::from_doc(&els2[2].vtype, &els2[2].id, &stored),
        els2[2]
    );
    let stored = els[1].to_doc();
    assert_eq!(
        VocabularyElement::from_doc(&els[1].vtype, &els[1].id, &stored),
        els[1]
    );
}

#[test]
fn bad_master_data_is_located() {
    let mut d = doc();
    d["epcisHeader"]["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"][1]["id"] =
        json!("not a uri");
    d["epcisHeader"]["epcisMasterData"]["vocabularyList"][1]["vocabularyElementList"][0]["attributes"]
        [0]["attribute"] = json!([1, 2]);
    let errs = from_document(&d).expect_err("invalid");
    let pointers: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/1/id",
            "/epcisHeader/epcisMasterData/vocabularyList/1/vocabularyElementList/0/attributes/0/attribute"
        ]
    );
}

#[test]
fn descendants_follow_children_and_survive_cycles() {
    let mut els = from_document(&doc()).expect("valid");
    els[2].children = vec!["urn:epc:id:sgln:6901234.00001.0".into()];
    let h = Hierarchy::of(&els);
    let root = object_key("urn:epc:id:sgln:6901234.00001.1");
    let got = h.with_descendants(std::slice::from_ref(&root));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], root);
    assert_eq!(
        h.with_descendants(&[object_key("urn:epc:id:sgln:6901234.00001.2")])
            .len(),
        3
    );
}

#[test]
fn merging_keeps_old_attributes_and_replaces_children() {
    let els = from_document(&doc()).expect("valid");
    let newer = VocabularyElement {
        attributes: vec![
            ("urn:epcglobal:cbv:mda#sst".into(), json!(202)),
            ("urn:x:new".into(), json!("n")),
        ],
        ..els[0].clone()
    };
    let merged = els[0].clone().merged_with(&VocabularyElement {
        children: Vec::new(),
        ..newer
    });
    assert_eq!(merged.attributes.len(), 3);
    assert_eq!(merged.attributes[1].1, json!(202));
    assert_eq!(merged.children, els[0].children);
}

fn params(s: &[(&str, &str)]) -> Vec<(String, String)> {
    s.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn simple_master_data_query_selects_and_shapes() {
    let els = from_document(&doc()).expect("valid");
    let h = Hierarchy::of(&els);
    let ids = |q: &[(&str, &str)]| -> Vec<String> {
        MasterDataQuery::parse(&params(q))
            .expect("parse")
            .answer(&els, &h)
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids(&[]).len(), 4);
    assert_eq!(ids(&[("vocabularyName", BUSINESS_LOCATION)]).len(), 3);
    assert_eq!(
        ids(&[("WD_name", "urn:epc:id:sgln:6901234.00001.1")]),
        [
            "urn:epc:id:sgln:6901234.00001.1",
            "urn:epc:id:sgln:6901234.00001.2"
        ]
    );
    assert_eq!(
        ids(&[("EQ_name", "urn:epc:id:sgln:6901234.00001.2")]),
        ["urn:epc:id:sgln:6901234.00001.2"]
    );
    assert_eq!(ids(&[("HASATTR", "urn:epcglobal:cbv:mda#name")]).len(), 2);
    assert_eq!(
        ids(&[("EQ_ATTR_urn:epcglobal:cbv:mda#sst", "201|300")]),
        ["urn:epc:id:sgln:6901234.00001.0"]
    );
    assert!(ids(&[("EQ_ATTR_urn:epcglobal:cbv:mda#sst", "200")]).is_empty());
    let shaped = MasterDataQuery::parse(&params(&[
        ("EQ_name", "urn:epc:id:sgln:6901234.00001.0"),
        ("attributeNames", "urn:epcglobal:cbv:mda#sst"),
        ("includeChildren", "false"),
    ]))
    .expect("parse")
    .answer(&els, &h);
    assert_eq!(shaped[0].attributes.len(), 1);
    assert!(shaped[0].children.is_empty());
    let bad = MasterDataQuery::parse(&params(&[
        ("includeAttributes", "yes"),
        ("EQ_colour", "red"),
        ("maxElementCount", "-1"),
    ]))
    .expect_err("bad");
    let named: Vec<&str> = bad.iter().map(|e| e.parameter.as_str()).collect();
    assert_eq!(named, ["includeAttributes", "EQ_colour", "maxElementCount"]);
}
