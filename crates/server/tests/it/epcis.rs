//! The EPCIS 2.0 REST bindings: capture and capture jobs, every GS1 JSON example captured (when
//! `../shared/conformance` is beside the repository), query parameter families against a fixture with exact
//! expected event sets, paging with `nextPageToken`, and EPCIS exceptions.

use super::*;
use std::path::{Path, PathBuf};

mod examples;
mod masterdata;
mod subscriptions;

use masterdata::*;
use subscriptions::*;

fn capture_doc(events: Vec<Value>) -> Value {
    json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                        {"ex": "https://example.org/ns/"}],
           "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
           "epcisBody": {"eventList": events}})
}

async fn get_with(t: &TestApp, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    t.send(b.body(Body::empty()).expect("request")).await
}

async fn post_with(t: &TestApp, uri: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/ld+json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    t.send(b.body(Body::from(body.to_string())).expect("request"))
        .await
}

/// Six events with an id each (`e1` … `e6`) across the parameter families.
fn fixture() -> Vec<Value> {
    let base = |n: u32, t: &str| {
        json!({"type": "ObjectEvent", "eventID": format!("urn:uuid:00000000-0000-4000-8000-10000000000{n}"),
               "eventTime": t, "eventTimeZoneOffset": "+08:00", "action": "OBSERVE"})
    };
    let mut e1 = base(1, "2026-10-01T08:00:00+08:00");
    e1["action"] = json!("ADD");
    e1["bizStep"] = json!("commissioning");
    e1["disposition"] = json!("active");
    e1["epcList"] = json!([
        "urn:epc:id:sgtin:6901234.012345.1",
        "urn:epc:id:sgtin:6901234.012345.2"
    ]);
    e1["readPoint"] = json!({"id": "urn:epc:id:sgln:6901234.00001.0"});
    e1["ex:line"] = json!("L1");
    let mut e2 = base(2, "2026-10-02T08:00:00+08:00");
    e2["bizStep"] = json!("shipping");
    e2["disposition"] = json!("in_transit");
    e2["epcList"] = json!(["urn:epc:id:sgtin:6901234.012345.1"]);
    e2["bizTransactionList"] =
        json!([{"type": "po", "bizTransaction": "urn:epc:id:gdti:6901234.00001.7"}]);
    e2["destinationList"] =
        json!([{"type": "owning_party", "destination": "urn:epc:id:pgln:6930001.00000"}]);
    let mut e3 = base(3, "2026-10-03T08:00:00+08:00");
    e3["bizStep"] = json!("receiving");
    e3["epcList"] = json!(["urn:epc:id:sgtin:6901234.012345.1"]);
    e3["bizLocation"] = json!({"id": "urn:epc:id:sgln:6930001.00001.0"});
    let e4 = json!({"type": "AggregationEvent", "eventID": "urn:uuid:00000000-0000-4000-8000-100000000004",
        "eventTime": "2026-10-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "ADD",
        "bizStep": "packing", "parentID": "urn:epc:id:sscc:6901234.1000000001",
        "childEPCs": ["urn:epc:id:sgtin:6901234.012345.2"]});
    let e5 = json!({"type": "TransformationEvent", "eventID": "urn:uuid:00000000-0000-4000-8000-100000000005",
        "eventTime": "2026-10-01T07:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM1", "quantity": 300, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.3"], "transformationID": "urn:suyuan:demo:wo:WO-1",
        "sensorElementList": [{"sensorMetadata": {"time": "2026-10-01T07:00:00+08:00"},
            "sensorReport": [{"type": "gs1:Temperature", "value": 72.5, "uom": "CEL"}]}]});
    let mut e6 = base(6, "2026-10-04T08:00:00+08:00");
    e6["epcList"] = json!(["urn:epc:id:sgtin:6901234.012345.3"]);
    e6["errorDeclaration"] =
        json!({"declarationTime": "2026-10-05T00:00:00Z", "reason": "incorrect_data"});
    vec![e1, e2, e3, e4, e5, e6]
}

fn ids_of(a: &Answer) -> Vec<u32> {
    let j = a.json();
    j["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap_or_else(|| panic!("no event list: {}", a.body))
        .iter()
        .filter_map(|e| e["eventID"].as_str())
        .filter_map(|id| id.strip_prefix("urn:uuid:00000000-0000-4000-8000-1"))
        .filter_map(|n| n.parse::<u32>().ok())
        .collect()
}

async fn loaded(t: TestApp) -> TestApp {
    let a = post_with(&t, "/epcis/capture", &capture_doc(fixture()), &[]).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    t
}

#[tokio::test]
async fn capture_answers_a_job_and_events_come_back_as_a_query_document() {
    let t = test_app().await;
    let a = post_with(&t, "/epcis/capture", &capture_doc(fixture()), &[]).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.headers["gs1-epcis-version"], "2.0.0");
    assert_eq!(a.headers["gs1-epcis-capture-limit"], "10000");
    let loc = a.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let job = t.get(&loc).await.json();
    assert_eq!(
        (
            job["running"].clone(),
            job["success"].clone(),
            job["stored"].clone()
        ),
        (json!(false), json!(true), json!(6))
    );
    assert_eq!(
        t.get("/epcis/capture").await.json()[0]["captureID"],
        job["captureID"]
    );
    // Invalid: nothing stored, the errors located, the job says so too.
    let mut bad = fixture();
    bad[2]["eventTime"] = json!("yesterday");
    bad[0]["eventID"] = json!("urn:uuid:00000000-0000-4000-8000-200000000001");
    let r = post_with(&t, "/epcis/capture", &capture_doc(bad.clone()), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["type"], "epcisException:ValidationException");
    assert!(
        r.body.contains("/epcisBody/eventList/2/eventTime"),
        "{}",
        r.body
    );
    let failed = t
        .get(r.headers[header::LOCATION].to_str().expect("location"))
        .await
        .json();
    assert_eq!(failed["success"], false);
    assert_eq!(
        t.get("/epcis/events/urn:uuid:00000000-0000-4000-8000-200000000001")
            .await
            .status,
        StatusCode::NOT_FOUND,
        "rollback stored nothing"
    );
    // proceed: the valid events are stored, the invalid one is listed.
    let p = post_with(
        &t,
        "/epcis/capture",
        &capture_doc(bad),
        &[("GS1-Capture-Error-Behaviour", "proceed")],
    )
    .await;
    assert_eq!(p.status, StatusCode::ACCEPTED, "{}", p.body);
    let pj = p.json();
    assert_eq!(
        (pj["success"].clone(), pj["stored"].clone()),
        (json!(false), json!(1))
    );
    assert_eq!(
        pj["errors"][0]["pointer"],
        "/epcisBody/eventList/2/eventTime"
    );
    // One event through /events, read back with its context and record time.
    let one = json!({"type": "ObjectEvent", "eventTime": "2026-10-09T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sgtin:6901234.012345.9"], "action": "OBSERVE", "bizStep": "inspecting"});
    // The EPCIS interface holds inputs to GS1's JSON schema: a bare event must carry its @context.
    let no_context = post_with(&t, "/epcis/events", &one, &[]).await;
    assert_eq!(no_context.status, StatusCode::BAD_REQUEST);
    assert!(no_context.body.contains("@context"), "{}", no_context.body);
    let mut one = one;
    one["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]);
    let c = post_with(&t, "/epcis/events", &one, &[]).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let back = t
        .get(c.headers[header::LOCATION].to_str().expect("location"))
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let bj = back.json();
    assert_eq!(bj["bizStep"], "inspecting");
    assert!(bj["recordTime"].is_string() && bj["@context"].is_array());
    // Only EPCIS and CBV 2.0 are spoken.
    for (h, v) in [
        ("GS1-EPCIS-Version", "1.2"),
        ("GS1-EPCIS-Min", "2.1"),
        ("GS1-CBV-Max", "1.2"),
    ] {
        let a = get_with(&t, "/epcis/events", &[(h, v)]).await;
        assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE, "{h}: {v}");
        assert_eq!(a.json()["type"], "epcisException:NotAcceptableException");
    }
    let fine = get_with(
        &t,
        "/epcis/events",
        &[("GS1-EPCIS-Version", "2.0.0"), ("GS1-EPCIS-Min", "1.2")],
    )
    .await;
    assert_eq!(fine.status, StatusCode::OK);
    let doc_to_events = post_with(&t, "/epcis/events", &capture_doc(fixture()), &[]).await;
    assert_eq!(doc_to_events.status, StatusCode::BAD_REQUEST);
}

async fn every_parameter_family_selects_exactly_its_events(t: TestApp) {
    let t = loaded(t).await;
    let cases: [(&str, &[u32]); 22] = [
        ("", &[1, 2, 3, 4, 5, 6]),
        ("eventType=AggregationEvent|TransformationEvent", &[4, 5]),
        (
            "GE_eventTime=2026-10-02T00:00:00%2B08:00&LT_eventTime=2026-10-04T00:00:00%2B08:00",
            &[2, 3],
        ),
        ("EQ_action=ADD", &[1, 4]),
        (
            "EQ_bizStep=shipping|urn:epcglobal:cbv:bizstep:receiving",
            &[2, 3],
        ),
        ("EQ_disposition=https://ref.gs1.org/cbv/Disp-active", &[1]),
        ("EQ_readPoint=https://id.gs1.org/414/6901234000016", &[1]),
        ("EQ_bizLocation=urn:epc:id:sgln:6930001.00001.0", &[3]),
        ("MATCH_epc=urn:epc:id:sgtin:6901234.012345.1", &[1, 2, 3]),
        (
            "MATCH_epc=https://id.gs1.org/01/06901234123456/21/2",
            &[1, 4],
        ),
        (
            "MATCH_anyEPC=urn:epc:idpat:sgtin:6901234.012345.*",
            &[1, 2, 3, 4, 5, 6],
        ),
        ("MATCH_parentID=urn:epc:id:sscc:6901234.1000000001", &[4]),
        (
            "MATCH_inputEPCClass=urn:epc:class:lgtin:6920001.000011.RM1",
            &[5],
        ),
        ("MATCH_outputEPC=urn:epc:id:sgtin:6901234.012345.3", &[5]),
        ("GE_quantity_KGM=300&LT_quantity=301", &[5]),
        ("EQ_bizTransaction_po=urn:epc:id:gdti:6901234.00001.7", &[2]),
        (
            "EQ_destination_owning_party=urn:epc:id:pgln:6930001.00000",
            &[2],
        ),
        ("EQ_transformationID=urn:suyuan:demo:wo:WO-1", &[5]),
        (
            "EXISTS_errorDeclaration=&EQ_errorReason=incorrect_data",
            &[6],
        ),
        ("EQ_type=gs1:Temperature&GT_value_CEL=70", &[5]),
        ("EQ_ex:line=L1", &[1]),
        (
            "EQ_eventID=urn:uuid:00000000-0000-4000-8000-100000000003",
            &[3],
        ),
    ];
    for (q, want) in cases {
        let a = t.get(&format!("/epcis/events?{q}")).await;
        assert_eq!(a.status, StatusCode::OK, "{q}: {}", a.body);
        let mut got = ids_of(&a);
        got.sort_unstable();
        assert_eq!(got, want, "{q}");
    }
    // EQ_eventID looks events up by id: the originals and error declarations (e6 is one), nothing scanned.
    let mut by_id = ids_of(
        &t.get("/epcis/events?EQ_eventID=urn:uuid:00000000-0000-4000-8000-100000000006|urn:uuid:00000000-0000-4000-8000-100000000002|urn:uuid:none")
            .await,
    );
    by_id.sort_unstable();
    assert_eq!(by_id, [2, 6]);
    // Ordering and limits.
    let by_time = t
        .get("/epcis/events?orderBy=eventTime&orderDirection=ASC&eventType=ObjectEvent")
        .await;
    assert_eq!(ids_of(&by_time), [1, 2, 3, 6]);
    let newest = t
        .get("/epcis/events?orderBy=eventTime&eventCountLimit=2")
        .await;
    assert_eq!(ids_of(&newest), [6, 3]);
    let too_many = t.get("/epcis/events?maxEventCount=3").await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_many.json()["type"],
        "epcisException:QueryTooLargeException"
    );
    // The top-level resources' event sub-resources fix one parameter.
    assert_eq!(ids_of(&t.get("/epcis/bizSteps/shipping/events").await), [2]);
    assert_eq!(
        ids_of(&t.get("/epcis/eventTypes/AggregationEvent/events").await),
        [4]
    );
    let epc = percent_encode("urn:epc:id:sgtin:6901234.012345.3");
    assert_eq!(
        ids_of(&t.get(&format!("/epcis/epcs/{epc}/events")).await),
        [5, 6]
    );
    // Identifiers come back as captured, or translated as GS1-EPC-Format asks.
    let as_dl = get_with(
        &t,
        "/epcis/events?EQ_eventID=urn:uuid:00000000-0000-4000-8000-100000000002",
        &[("GS1-EPC-Format", "Always_GS1_Digital_Link")],
    )
    .await;
    let e2 = &as_dl.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0];
    assert_eq!(
        e2["epcList"][0],
        "https://id.gs1.org/01/06901234123456/21/1"
    );
    assert_eq!(
        e2["destinationList"][0]["destination"],
        "https://id.gs1.org/417/6930001000003"
    );
    let bad_format = get_with(&t, "/epcis/events", &[("GS1-EPC-Format", "Sometimes")]).await;
    assert_eq!(bad_format.status, StatusCode::NOT_ACCEPTABLE);
    let web = get_with(
        &t,
        "/epcis/events?EQ_bizStep=shipping",
        &[
            ("accept", "application/xml"),
            ("GS1-CBV-XML-Format", "Always_Web_URI"),
        ],
    )
    .await;
    assert!(
        web.body
            .contains("<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>"),
        "{}",
        web.body
    );
    let urn = get_with(
        &t,
        "/epcis/events?EQ_bizStep=shipping",
        &[("accept", "application/xml")],
    )
    .await;
    assert!(
        urn.body
            .contains("<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>"),
        "{}",
        urn.body
    );
    let types = t.get("/epcis/eventTypes").await.json();
    assert_eq!(types["type"], "Collection");
    assert_eq!(types["member"].as_array().map(Vec::len), Some(5));
    let locations = t.get("/epcis/bizLocations").await.json();
    assert_eq!(
        locations["member"],
        json!(["urn:epc:id:sgln:6930001.00001.0"])
    );
}

async fn pages_follow_next_page_tokens_and_bad_parameters_are_named(t: TestApp) {
    let t = loaded(t).await;
    let mut seen = Vec::new();
    let mut next = Some(
        "/epcis/events?perPage=4&MATCH_anyEPC=urn:epc:idpat:sgtin:6901234.012345.*".to_string(),
    );
    let mut pages = 0;
    while let Some(url) = next.take() {
        let a = t.get(&url).await;
        assert_eq!(a.status, StatusCode::OK, "{url}: {}", a.body);
        seen.extend(ids_of(&a));
        pages += 1;
        next = a
            .headers
            .get(header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix('<'))
            .and_then(|l| l.split_once('>'))
            .map(|(u, _)| u.to_string());
    }
    assert_eq!((pages, seen), (2, vec![1, 2, 3, 4, 5, 6]));
    // Sorted answers collect from the same narrow candidates (object history, step index) before sorting.
    let newest = t
        .get("/epcis/events?MATCH_epc=urn:epc:id:sgtin:6901234.012345.1&orderBy=eventTime")
        .await;
    assert_eq!(ids_of(&newest), [3, 2, 1]);
    let by_step = t
        .get("/epcis/events?EQ_bizStep=commissioning|packing|receiving|shipping&orderBy=eventTime&orderDirection=DESC")
        .await;
    assert_eq!(ids_of(&by_step), [3, 2, 4, 1]);
    // Exact identifiers page through the named objects' histories (two objects merged in seq order).
    let objects = "MATCH_epc=urn:epc:id:sgtin:6901234.012345.1|urn:epc:id:sgtin:6901234.012345.3";
    let first = t.get(&format!("/epcis/events?perPage=3&{objects}")).await;
    assert_eq!(ids_of(&first), [1, 2, 3]);
    let token = first.headers["gs1-next-page-token"]
        .to_str()
        .expect("token")
        .to_string();
    let rest = t
        .get(&format!(
            "/epcis/events?perPage=3&{objects}&nextPageToken={token}"
        ))
        .await;
    assert_eq!(
        ids_of(&rest),
        [6],
        "e5 names sgtin 3 as an output, not in its epcList"
    );
    // Business-step queries page through the step/time index in event-time order (e4 is packed before e2
    // ships, though recorded after it), with or without orderBy=eventTime ascending.
    let steps =
        "EQ_bizStep=commissioning|packing|receiving|shipping&GE_eventTime=2026-10-01T00:00:00Z";
    for order in ["", "&orderBy=eventTime&orderDirection=ASC"] {
        let first = t
            .get(&format!("/epcis/events?perPage=2&{steps}{order}"))
            .await;
        assert_eq!(ids_of(&first), [1, 4], "{order}");
        let token = first.headers["gs1-next-page-token"]
            .to_str()
            .expect("token")
            .to_string();
        let second = t
            .get(&format!(
                "/epcis/events?perPage=2&{steps}{order}&nextPageToken={token}"
            ))
            .await;
        assert_eq!(ids_of(&second), [2, 3], "{order}");
        assert!(!second.headers.contains_key(header::LINK), "{order}");
    }
    let sorted = t.get("/epcis/events?perPage=4&orderBy=eventTime").await;
    let link = sorted.headers[header::LINK]
        .to_str()
        .expect("link")
        .to_string();
    let url = link[1..link.find('>').expect("url")].to_string();
    assert_eq!(ids_of(&sorted), [6, 3, 2, 4], "newest first");
    assert_eq!(ids_of(&t.get(&url).await), [1, 5]);
    // A token of another query is refused.
    let token = url.split("nextPageToken=").nth(1).expect("token");
    let replay = t
        .get(&format!(
            "/epcis/events?EQ_bizStep=shipping&nextPageToken={token}"
        ))
        .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    let bad = t
        .get("/epcis/events?EQ_bizStep=shipping&colour=red&GE_eventTime=soon")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let j = bad.json();
    assert_eq!(j["type"], "epcisException:QueryParameterException");
    let named: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(named, ["colour", "GE_eventTime"]);
    let missing = t.get("/epcis/events/urn:uuid:nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["type"],
        "epcisException:NoSuchResourceException"
    );
    assert_eq!(
        t.get("/epcis/colours").await.json()["type"],
        "epcisException:NoSuchResourceException"
    );
}

#[tokio::test]
async fn options_discovers_methods_versions_and_capture_limits() {
    let t = test_app().await;
    let options = |uri: &str| Request::options(uri).body(Body::empty()).expect("request");
    let capture = t.send(options("/epcis/capture")).await;
    assert_eq!(capture.status, StatusCode::NO_CONTENT, "{}", capture.body);
    let h = |a: &Answer, k: &str| {
        a.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(h(&capture, "allow"), "OPTIONS, POST, GET");
    assert_eq!(h(&capture, "gs1-epcis-version"), "2.0.0");
    assert_eq!(h(&capture, "gs1-epcis-capture-limit"), "10000");
    assert_eq!(h(&capture, "gs1-epcis-capture-file-size-limit"), "67108864");
    assert_eq!(
        h(&capture, "gs1-capture-error-behaviour"),
        "rollback, proceed"
    );
    let events = t.send(options("/epcis/events")).await;
    assert_eq!(events.status, StatusCode::NO_CONTENT);
    assert_eq!(h(&events, "allow"), "OPTIONS, GET, POST");
    assert_eq!(h(&events, "gs1-epc-format"), "Never_Translates");
    assert!(h(&events, "gs1-epcis-capture-file-size-limit").is_empty());
    let location = t
        .send(options(
            "/epcis/bizLocations/urn:epc:id:sgln:6901234.00001.0",
        ))
        .await;
    assert_eq!(h(&location, "allow"), "OPTIONS, GET");
    // Without credentials: refused like the resource itself.
    let anonymous = t.send_as_is(options("/epcis/events")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let released = t
        .send(
            Request::delete("/epcis/nextPageToken/0_5_5.abcdef")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT);
    // No_Preference is a format a client may send.
    let any = get_with(
        &t,
        "/epcis/events",
        &[
            ("GS1-EPC-Format", "No_Preference"),
            ("GS1-CBV-XML-Format", "No_Preference"),
        ],
    )
    .await;
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
}

/// The plant's own codes over EPCIS: a rule that refuses unknown serials refuses a rollback capture with the
/// serial located, leaves only that event out of a proceeding one, and newer measurement types are warned of.
#[tokio::test]
async fn own_codes_and_newer_terms_are_judged_at_capture() {
    let t = test_app().await;
    let rule = json!({"name": "cans", "definition": {"template": "C{SEQ:5}", "target": "sgtin",
        "gtin": "6901234000016", "unknown_codes": "refuse"}});
    let a = t.post_json("/api/v1/coding-rules", &rule).await;
    assert!(a.status.is_success(), "{}", a.body);
    let event = |serial: &str, minute: u32| {
        json!({"type": "ObjectEvent", "eventTime": format!("2026-11-01T10:{minute:02}:00Z"), "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE", "epcList": [format!("urn:epc:id:sgtin:6901234.000001.{serial}")]})
    };
    let doc = capture_doc(vec![event("OK1", 1), event("FAKE1", 2)]);
    let a = post_with(&t, "/epcis/capture", &doc, &[]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        a.body.contains("/epcisBody/eventList/1/epcList/0") && a.body.contains("never issued"),
        "{}",
        a.body
    );
    // Proceeding: the unknown serial's event is left out, the other one is stored.
    let mut ok = event("OK2", 3);
    ok["sensorElementList"] =
        json!([{"sensorReport": [{"type": "gs1:EffectiveDoseRate", "value": 0.1, "uom": "D41"}]}]);
    ok["epcList"] = json!(["urn:epc:id:sgtin:6920001.000011.OTHER"]);
    let doc = capture_doc(vec![event("FAKE2", 4), ok]);
    let a = post_with(
        &t,
        "/epcis/capture",
        &doc,
        &[("gs1-capture-error-behaviour", "proceed")],
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let job = a.json();
    assert_eq!(job["stored"], 1, "{job}");
    assert_eq!(
        job["errors"][0]["pointer"],
        "/epcisBody/eventList/0/epcList/0"
    );
    assert_eq!(
        job["warnings"][0]["code"], "unknown_measurement_type",
        "{job}"
    );
    assert_eq!(
        job["warnings"][0]["pointer"],
        "/epcisBody/eventList/1/sensorElementList/0/sensorReport/0/type"
    );
    // More refused events than an answer names one by one: every one of them is still left out.
    let mut many: Vec<Value> = (0..150).map(|i| event(&format!("FAKE{i:03}"), 5)).collect();
    let mut other = event("OTHER2", 6);
    other["epcList"] = json!(["urn:epc:id:sgtin:6920001.000011.OTHER2"]);
    many.push(other);
    let a = post_with(
        &t,
        "/epcis/capture",
        &capture_doc(many),
        &[("gs1-capture-error-behaviour", "proceed")],
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let job = a.json();
    assert_eq!(job["stored"], 1, "{job}");
    assert_eq!(job["errors"].as_array().map(Vec::len), Some(101));
}

macro_rules! on_both_stores {
    ($($check:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(super::test_app().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    if let Some(t) = super::pg_app(concat!("epcis_", stringify!($check))).await {
                        super::$check(t).await;
                    }
                }
            )*
        }
    };
}

on_both_stores!(
    every_parameter_family_selects_exactly_its_events,
    pages_follow_next_page_tokens_and_bad_parameters_are_named,
    named_queries_and_webhook_subscriptions_deliver_at_least_once,
    websocket_subscriptions_stream_new_matching_events,
    master_data_is_captured_queried_and_drives_with_descendants
);
