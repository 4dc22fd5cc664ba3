//! Trace, whereabouts, recall and the unit story over HTTP.

#[allow(unused_imports)]
use super::*;

#[tokio::test]
async fn trace_backward_and_forward_follow_the_genealogy() {
    let t = test_app().await;
    let make = json!({"type": "TransformationEvent", "eventTime": "2024-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "transformationID": "urn:suyuan:demo:wo:WO-1",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM0001", "quantity": 10, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.1", "urn:epc:id:sgtin:6901234.012345.2"],
        "ilmd": {"cbvmda:lotNumber": "L1"}, "bizStep": "commissioning"});
    let pack = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.1000000001", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.1"],
        "action": "ADD", "bizStep": "packing"});
    assert_eq!(
        t.post_json("/api/v1/events", &document(vec![make, pack]))
            .await
            .status,
        StatusCode::CREATED
    );
    let can = percent_encode("urn:epc:id:sgtin:6901234.012345.1");
    let back = t.get(&format!("/api/v1/trace/backward?id={can}")).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let j = back.json();
    let ids: Vec<&str> = j["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"https://id.gs1.org/01/06920001000110/10/RM0001"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"https://id.gs1.org/01/06901234123456/10/L1"),
        "lot membership: {ids:?}"
    );
    assert!(ids.contains(&"transformation:urn:suyuan:demo:wo:WO-1"));
    let edge = &j["edges"][0];
    assert_eq!(edge["event"]["bizStep"], "commissioning", "{edge}");
    // The report names the ledger it was built on: the hashes of every event it shows (no checkpoint is
    // signed by this server, so none is named).
    let covered: Vec<u64> = j["ledger"]["events"]
        .as_array()
        .expect("covered")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    let shown: std::collections::BTreeSet<u64> = j["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["event"]["seq"].as_u64())
        .collect();
    assert_eq!(covered, shown.into_iter().collect::<Vec<_>>());
    assert!(j["ledger"]["checkpoint"].is_null());
    assert!(
        edge["event"]["eventID"]
            .as_str()
            .is_some_and(|s| s.starts_with("ni:///sha-256;"))
    );
    let lot = percent_encode("urn:epc:class:lgtin:6920001.000011.RM0001");
    let fwd = t
        .get(&format!("/api/v1/trace/forward?id={lot}"))
        .await
        .json();
    let ids: Vec<&str> = fwd["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"https://id.gs1.org/00/169012340000000013"),
        "the case holding can 1: {ids:?}"
    );
    assert_eq!(fwd["counts"]["nodes"], 5);
    // The index follows new captures.
    let pack2 = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:30:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.2000000001", "childEPCs": ["urn:epc:id:sscc:6901234.1000000001"], "action": "ADD"});
    t.post_json("/api/v1/events", &pack2).await;
    let fwd = t
        .get(&format!("/api/v1/trace/forward?id={lot}"))
        .await
        .json();
    assert_eq!(fwd["counts"]["nodes"], 6);
    let nd = t
        .send(
            Request::get(format!("/api/v1/trace/forward?id={lot}"))
                .header(header::ACCEPT, "application/x-ndjson")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(nd.content_type, "application/x-ndjson");
    let lines: Vec<Value> = nd
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines[0]["trace"]["counts"]["nodes"], 6);
    assert_eq!(lines.iter().filter(|l| l.get("node").is_some()).count(), 6);
    assert_eq!(
        lines.iter().filter(|l| l.get("edge").is_some()).count(),
        fwd["counts"]["edges"].as_u64().unwrap_or(0) as usize
    );
    assert_eq!(
        t.get("/api/v1/trace/forward?id=urn%3Aepc%3Aid%3Asgtin%3A1.2.404")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad = t
        .get("/api/v1/trace/backward?depth=0&from=yesterday&x=1")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let j = bad.json();
    let params: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(params, vec!["x", "id", "depth", "from"]);
}

#[tokio::test]
async fn where_follows_the_container_chain() {
    let t = test_app().await;
    let can = "urn:epc:id:sgtin:6901234.012345.W1";
    let case = "urn:epc:id:sscc:6901234.1000000007";
    let pallet = "urn:epc:id:sscc:6901234.2000000007";
    let agg = |parent: &str, child: &str, time: &str| {
        json!({"type": "AggregationEvent", "eventTime": time,
        "eventTimeZoneOffset": "+08:00", "parentID": parent, "childEPCs": [child], "action": "ADD",
        "bizLocation": {"id": "urn:epc:id:sgln:6901234.00006.0"}})
    };
    let mv = json!({"type": "ObjectEvent", "eventTime": "2024-03-02T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": [pallet], "action": "OBSERVE", "bizStep": "receiving", "bizLocation": {"id": "urn:epc:id:sgln:6930001.00001.0"}});
    for e in [
        agg(case, can, "2024-03-01T08:00:00+08:00"),
        agg(pallet, case, "2024-03-01T09:00:00+08:00"),
        mv,
    ] {
        assert_eq!(
            t.post_json("/api/v1/events", &e).await.status,
            StatusCode::CREATED
        );
    }
    let w = t
        .get(&format!("/api/v1/objects/{}/where", percent_encode(can)))
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.body);
    let j = w.json();
    let chain: Vec<&str> = j["containers"]
        .as_array()
        .expect("chain")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        chain,
        vec![
            "https://id.gs1.org/00/169012340000000075",
            "https://id.gs1.org/00/269012340000000072"
        ]
    );
    assert_eq!(
        j["location"], "https://id.gs1.org/414/6930001000010",
        "the can is where its pallet was received"
    );
    assert_eq!(j["outermost"], "https://id.gs1.org/00/269012340000000072");
    // Plain object lookups still work next to /where.
    assert_eq!(
        t.get(&format!("/api/v1/objects/{}", percent_encode(can)))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn recall_reports_holders_shipments_and_exports() {
    let t = test_app().await;
    let make = json!({"type": "TransformationEvent", "eventTime": "2024-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM0009", "quantity": 10, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.R1", "urn:epc:id:sgtin:6901234.012345.R2", "urn:epc:id:sgtin:6901234.012345.R3"]});
    let pack = json!({"type": "AggregationEvent", "eventTime": "2024-03-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:6901234.1000000099", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.R1", "urn:epc:id:sgtin:6901234.012345.R2"],
        "action": "ADD", "bizLocation": {"id": "urn:epc:id:sgln:6901234.00006.0"}});
    let ship = json!({"type": "ObjectEvent", "eventTime": "2024-03-02T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sscc:6901234.1000000099"], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
        "destinationList": [{"type": "possessing_party", "destination": "urn:epc:id:pgln:6930001.00000"}]});
    let recv = json!({"type": "ObjectEvent", "eventTime": "2024-03-03T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sscc:6901234.1000000099"], "action": "OBSERVE", "bizStep": "receiving",
        "bizLocation": {"id": "urn:epc:id:sgln:6930001.00001.0"}});
    assert_eq!(
        t.post_json("/api/v1/events", &document(vec![make, pack, ship, recv]))
            .await
            .status,
        StatusCode::CREATED
    );
    let lot = percent_encode("urn:epc:class:lgtin:6920001.000011.RM0009");
    let r = t.get(&format!("/api/v1/trace/recall?id={lot}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["counts"]["instances"], 3);
    assert_eq!(j["counts"]["logisticUnits"], 1);
    assert_eq!(j["counts"]["shipments"], 1);
    let holders: Vec<(&str, u64)> = j["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| {
            (
                h["party"].as_str().unwrap_or_default(),
                h["instances"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        holders.contains(&("https://id.gs1.org/417/6930001000003", 2)),
        "{holders:?}"
    );
    assert!(holders.contains(&("(not shipped)", 1)), "{holders:?}");
    let can1 = j["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["id"] == "https://id.gs1.org/01/06901234123456/21/R1")
        .expect("R1");
    assert_eq!(
        can1["location"], "https://id.gs1.org/414/6930001000010",
        "R1 is where its case was received"
    );
    // The report names the events its facts come from (this server signs no checkpoints: none named).
    let covered: Vec<u64> = j["ledger"]["events"]
        .as_array()
        .expect("covered events")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert!(
        covered.contains(&can1["lastSeq"].as_u64().expect("lastSeq")),
        "{covered:?}"
    );
    assert!(
        j["ledger"]["events"][0]["eventHash"]
            .as_str()
            .is_some_and(|h| h.starts_with("ni:///sha-256;"))
    );
    assert!(j["ledger"]["checkpoint"].is_null());
    let csv = t
        .get(&format!("/api/v1/trace/recall?id={lot}&format=csv"))
        .await;
    assert!(csv.content_type.starts_with("text/csv"));
    assert_eq!(
        csv.body.lines().count(),
        1 + 5,
        "header + 3 cans + case + lot: {}",
        csv.body
    );
    assert!(
        csv.body
            .starts_with("id,type,location,disposition,container,holder,holder_name,location_name,last_seq,last_event_hash")
    );
    let xlsx = t
        .send(
            Request::get(format!("/api/v1/trace/recall?id={lot}&format=xlsx"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.content_type.contains("spreadsheetml"));
    assert!(xlsx.headers.get(header::CONTENT_DISPOSITION).is_some());
    let bad = t
        .get(&format!("/api/v1/trace/recall?id={lot}&format=pdf"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn recall_of_a_repacked_unit_names_only_the_shipments_and_holders_it_travelled_with() {
    let t = test_app().await;
    let (unit, a, b) = (
        "urn:epc:id:sgtin:6901234.012345.RP1",
        "urn:epc:id:sscc:6901234.1000000501",
        "urn:epc:id:sscc:6901234.1000000502",
    );
    let at = |h: u32| format!("2024-03-01T{h:02}:00:00+08:00");
    let pack = |action: &str, parent: &str, h: u32| {
        json!({"type": "AggregationEvent", "eventTime": at(h), "eventTimeZoneOffset": "+08:00",
            "parentID": parent, "childEPCs": [unit], "action": action})
    };
    let ship = |parent: &str, to: &str, h: u32| {
        json!({"type": "ObjectEvent", "eventTime": at(h), "eventTimeZoneOffset": "+08:00",
            "epcList": [parent], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
            "destinationList": [{"type": "owning_party", "destination": to}]})
    };
    let events = vec![
        pack("ADD", a, 8),
        pack("DELETE", a, 9),
        pack("ADD", b, 10),
        // Case A leaves for customer X after the unit was taken out of it; case B, with the unit, for Y.
        ship(a, "urn:epc:id:pgln:6930001.00000", 11),
        ship(b, "urn:epc:id:pgln:6930002.00000", 12),
    ];
    assert_eq!(
        t.post_json("/api/v1/events", &document(events))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = t
        .get(&format!("/api/v1/trace/recall?id={}", percent_encode(unit)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    let parties: Vec<&str> = j["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .filter_map(|h| h["party"].as_str())
        .collect();
    assert_eq!(
        parties,
        vec!["https://id.gs1.org/417/6930002000002"],
        "{}",
        r.body
    );
    let shipped: Vec<&Value> = j["shipments"]
        .as_array()
        .expect("shipments")
        .iter()
        .flat_map(|s| s["logisticUnits"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(
        shipped,
        vec!["https://id.gs1.org/00/169012340000005025"],
        "{}",
        r.body
    );
    let case_a = j["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["id"] == "https://id.gs1.org/00/169012340000005018")
        .expect("case A is listed");
    assert_eq!(case_a["carriedUntil"], "2024-03-01T01:00:00.000Z");
    // The spreadsheet says it too: the case's row ends with when it stopped carrying the unit.
    let csv = t
        .get(&format!(
            "/api/v1/trace/recall?id={}&format=csv",
            percent_encode(unit)
        ))
        .await;
    assert!(
        csv.body
            .lines()
            .next()
            .is_some_and(|h| h.ends_with(",carried_until"))
    );
    assert!(
        csv.body
            .lines()
            .any(|l| l.contains("169012340000005018") && l.ends_with(",2024-03-01T01:00:00.000Z")),
        "{}",
        csv.body
    );
}

#[tokio::test]
async fn the_unit_story_groups_its_life_by_stage() {
    use suyuan_store::ScanRecord;
    let t = test_app().await;
    let rm = "urn:epc:class:lgtin:6920001.000011.RM0042";
    let other_wo = json!({"type": "TransformationEvent", "eventTime": "2024-03-01T07:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "transformationID": "urn:suyuan:demo:wo:OTHER", "inputQuantityList": [{"epcClass": rm, "quantity": 1, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.Z9"]});
    let events = vec![
        json!({"type": "ObjectEvent", "eventTime": "2024-03-01T06:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "quantityList": [{"epcClass": rm, "quantity": 100, "uom": "KGM"}], "action": "OBSERVE", "bizStep": "receiving"}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-01T06:30:00+08:00", "eventTimeZoneOffset": "+08:00",
            "quantityList": [{"epcClass": rm}], "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant"}),
        other_wo,
        json!({"type": "TransformationEvent", "eventTime": "2024-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "transformationID": "urn:suyuan:demo:wo:WO-42", "inputQuantityList": [{"epcClass": rm, "quantity": 10, "uom": "KGM"}],
            "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.S1"], "ilmd": {"cbvmda:lotNumber": "L42"}, "bizStep": "commissioning"}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-01T12:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.012345.L42"}], "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant"}),
        json!({"type": "AggregationEvent", "eventTime": "2024-03-01T13:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "parentID": "urn:epc:id:sscc:6901234.1000000042", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.S1"], "action": "ADD", "bizStep": "packing"}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-02T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "epcList": ["urn:epc:id:sscc:6901234.1000000042"], "action": "OBSERVE", "bizStep": "shipping",
            "readPoint": {"id": "urn:epc:id:sgln:6901234.00008.0"}}),
        json!({"type": "ObjectEvent", "eventTime": "2024-03-05T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "epcList": ["urn:epc:id:sgtin:6901234.012345.S1"], "action": "OBSERVE", "bizStep": "retail_selling", "disposition": "retail_sold"}),
    ];
    assert_eq!(
        t.post_json("/api/v1/events", &document(events))
            .await
            .status,
        StatusCode::CREATED
    );
    let key = "https://id.gs1.org/01/06901234123456/21/S1";
    t.store
        .record_scans(vec![ScanRecord {
            object: key.into(),
            scanned_at: "2024-03-06T10:00:00+08:00".into(),
            city: Some("成都".into()),
            province: None,
            channel: "qr".into(),
        }])
        .await
        .expect("scan");
    let r = t
        .get(&format!(
            "/api/v1/objects/{}/story",
            percent_encode("urn:epc:id:sgtin:6901234.012345.S1")
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    let stages: Vec<(String, Vec<String>)> = j["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            let steps = s["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|e| e["event"]["bizStep"].as_str().unwrap_or("-").to_string())
                .collect();
            (s["stage"].as_str().unwrap_or_default().to_string(), steps)
        })
        .collect();
    let expect = |stage: &str, steps: &[&str]| {
        (
            stage.to_string(),
            steps.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        stages,
        vec![
            expect("materials", &["receiving", "inspecting"]),
            expect("production", &["commissioning"]),
            expect("quality", &["inspecting"]),
            expect("packing", &["packing"]),
            expect("logistics", &["shipping"]),
            expect("consumer", &["retail_selling"]),
        ],
        "the other work order fed by the same lot is not part of this unit's story"
    );
    assert_eq!(j["stages"][5]["scans"]["count"], 1);
    assert_eq!(j["stages"][0]["label"]["zh-CN"], "原料");
    // The object page names places by their master data.
    let page = format!("/objects?id={}", percent_encode(key));
    assert!(
        t.get(&page)
            .await
            .body
            .contains("@ urn:epc:id:sgln:6901234.00008.0")
    );
    let md = json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:ReadPoint",
            "vocabularyElementList": [{"id": "urn:epc:id:sgln:6901234.00008.0",
                "attributes": [{"id": "urn:epcglobal:cbv:mda:name", "attribute": "成品仓"}]}]}]}},
        "epcisBody": {"eventList": []}});
    assert_eq!(
        t.post_json("/epcis/capture", &md).await.status,
        StatusCode::ACCEPTED
    );
    let named = t.get(&page).await.body;
    assert!(
        named.contains(r#"title="urn:epc:id:sgln:6901234.00008.0">@ 成品仓"#),
        "{named}"
    );
}
