//! Master data captured from document headers, queried, and driving `WD_` parameters.

#[allow(unused_imports)]
use super::*;

/// Runs a check on SQLite and, when configured, on PostgreSQL.
/// A plant (sgln …0) holding a workshop (…1) holding a line (…2), as BusinessLocation master data with a
/// structured address attribute, and one event at each place.
pub(super) fn plant_doc() -> Value {
    let loc = |n: u32| format!("urn:epc:id:sgln:6901234.00001.{n}");
    let mut d = capture_doc(
        (0..3)
            .map(|n| {
                json!({"type": "ObjectEvent", "eventID": format!("urn:uuid:00000000-0000-4000-8000-10000000000{}", n + 1),
                       "eventTime": "2026-10-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
                       "action": "OBSERVE", "epcList": [format!("urn:epc:id:sgtin:6901234.012345.{n}")],
                       "bizLocation": {"id": loc(n)}, "readPoint": {"id": loc(n)}})
            })
            .collect(),
    );
    d["epcisHeader"] = json!({"epcisMasterData": {"vocabularyList": [
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
            {"id": loc(0), "attributes": [
                {"id": "urn:epcglobal:cbv:mda#name", "attribute": "一号工厂"},
                {"id": "urn:epcglobal:cbv:mda#sst", "attribute": 201},
                {"id": "https://example.org/ns/address", "attribute": {"ex:Address": {"ex:City": "上海", "ex:Zip": "200000"}}}],
             "children": [loc(1)]},
            {"id": loc(1), "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "车间"}],
             "children": [loc(2)]},
            {"id": "urn:epc:id:sgln:6930001.00001.0",
             "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "广州仓"}]}]},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
            {"id": "urn:epc:idpat:sgtin:6901234.012345.*",
             "attributes": [{"id": "urn:epcglobal:cbv:mda#regulatedProductName", "attribute": "婴幼儿配方奶粉"}]}]}
    ]}});
    d
}

pub(super) async fn master_data_is_captured_queried_and_drives_with_descendants(t: TestApp) {
    // Invalid master data refuses the whole document (rollback): no event is stored either.
    let mut bad = plant_doc();
    bad["epcisHeader"]["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"][1]["children"] =
        json!(["not a uri"]);
    let refused = post_with(&t, "/epcis/capture", &bad, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains(
            "/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/1/children/0"
        ),
        "{}",
        refused.body
    );
    assert!(ids_of(&t.get("/epcis/events").await).is_empty());
    let a = post_with(&t, "/epcis/capture", &plant_doc(), &[]).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.json()["masterDataElements"], 4);
    // WD_ follows the children; EQ_ does not.
    let within = |q: &str| {
        let t = &t;
        let q = q.to_string();
        async move {
            let mut ids = ids_of(&t.get(&format!("/epcis/events?{q}")).await);
            ids.sort_unstable();
            ids
        }
    };
    assert_eq!(
        within("WD_bizLocation=urn:epc:id:sgln:6901234.00001.0").await,
        [1, 2, 3]
    );
    assert_eq!(
        within("WD_bizLocation=urn:epc:id:sgln:6901234.00001.1").await,
        [2, 3]
    );
    assert_eq!(
        within("WD_readPoint=urn:epc:id:sgln:6901234.00001.2").await,
        [3]
    );
    assert_eq!(
        within("EQ_bizLocation=urn:epc:id:sgln:6901234.00001.0").await,
        [1]
    );
    // Pages through the place index.
    let first = t
        .get("/epcis/events?perPage=2&WD_bizLocation=urn:epc:id:sgln:6901234.00001.0")
        .await;
    assert_eq!(ids_of(&first), [1, 2]);
    let token = first.headers["gs1-next-page-token"]
        .to_str()
        .expect("token")
        .to_string();
    let second = t
        .get(&format!(
            "/epcis/events?perPage=2&WD_bizLocation=urn:epc:id:sgln:6901234.00001.0&nextPageToken={token}"
        ))
        .await;
    assert_eq!(ids_of(&second), [3]);
    // A later capture merges: a new attribute, the old ones kept.
    let mut more = capture_doc(Vec::new());
    more["epcisHeader"] = json!({"epcisMasterData": {"vocabularyList": [
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
            {"id": "urn:epc:id:sgln:6901234.00001.1", "attributes": [{"id": "urn:x:floor", "attribute": "2"}]}]}]}});
    assert_eq!(
        post_with(&t, "/epcis/capture", &more, &[]).await.status,
        StatusCode::ACCEPTED
    );
    // Event queries by the master data of their places.
    assert_eq!(
        within("HASATTR_bizLocation=urn:epcglobal:cbv:mda%23name").await,
        [1, 2]
    );
    assert_eq!(
        within("EQ_ATTR_bizLocation_urn:epcglobal:cbv:mda%23sst=201|202").await,
        [1]
    );
    assert_eq!(
        within("EQ_ATTR_readPoint_urn:x:floor=2").await,
        [2],
        "merged in later"
    );
    assert!(within("EQ_ATTR_bizLocation_urn:x:floor=3").await.is_empty());
    // Each capture of master data is an audit event on the ledger, naming the elements and their hashes.
    let audit = t.get("/api/v1/objects/urn:suyuan:sys:masterdata").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    assert_eq!(
        audit.json()["history"].as_array().map(Vec::len),
        Some(2),
        "{}",
        audit.body
    );
    assert!(audit.body.contains("masterdata.captured"));
    assert!(!audit.body.contains("urn:x:floor"), "hashes, not contents");
    assert!(
        audit.body.contains("urn:epc:id:sgln:6930001.00001.0"),
        "{}",
        audit.body
    );
    // SimpleMasterDataQuery.
    let names = |a: &Answer| -> Vec<String> {
        suyuan_epcis::masterdata::from_document(&a.json())
            .expect("master data")
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    let all = t.get("/epcis/masterData").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        all.json()["epcisBody"]["queryResults"]["queryName"],
        "SimpleMasterDataQuery"
    );
    assert_eq!(names(&all).len(), 4);
    // A partner (prefix 6930001) sees the elements of its own places only.
    let partner = super::security::user_token(
        &super::security::engine_of(&t),
        "gz",
        suyuan_core::access::Role::Partner,
    )
    .await;
    let theirs = t
        .send_as_is(super::security::req(
            &axum::http::Method::GET,
            "/epcis/masterData",
            Some(&partner),
        ))
        .await;
    assert_eq!(names(&theirs), ["urn:epc:id:sgln:6930001.00001.0"]);
    let workshop = t
        .get("/epcis/masterData?EQ_name=urn:epc:id:sgln:6901234.00001.1")
        .await
        .json();
    let el = &workshop["epcisBody"]["queryResults"]["resultsBody"]["vocabularyList"][0]["vocabularyElementList"]
        [0];
    assert_eq!(el["attributes"].as_array().map(Vec::len), Some(2), "{el}");
    assert_eq!(el["children"], json!(["urn:epc:id:sgln:6901234.00001.2"]));
    assert_eq!(
        names(&t.get("/epcis/masterData?WD_name=urn:epc:id:sgln:6901234.00001.0&vocabularyName=urn:epcglobal:epcis:vtype:BusinessLocation").await),
        ["urn:epc:id:sgln:6901234.00001.0", "urn:epc:id:sgln:6901234.00001.1"]
    );
    assert_eq!(
        names(
            &t.get("/epcis/masterData?EQ_ATTR_urn:epcglobal:cbv:mda%23sst=201")
                .await
        ),
        ["urn:epc:id:sgln:6901234.00001.0"]
    );
    let shaped = t
        .get("/epcis/masterData?HASATTR=urn:epcglobal:cbv:mda%23regulatedProductName&includeAttributes=false")
        .await
        .json();
    let product = &shaped["epcisBody"]["queryResults"]["resultsBody"]["vocabularyList"][0];
    assert_eq!(product["type"], "urn:epcglobal:epcis:vtype:EPCClass");
    assert!(
        product["vocabularyElementList"][0]
            .get("attributes")
            .is_none()
    );
    let too_many = t.get("/epcis/masterData?maxElementCount=2").await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_many.json()["type"],
        "epcisException:QueryTooLargeException"
    );
    let bad = t
        .get("/epcis/masterData?includeChildren=maybe&colour=red")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("includeChildren") && bad.body.contains("colour"),
        "{}",
        bad.body
    );
    // XML: the structured attribute keeps its element and namespace.
    let xml = get_with(
        &t,
        "/epcis/masterData?EQ_name=urn:epc:id:sgln:6901234.00001.0",
        &[("accept", "application/xml")],
    )
    .await;
    assert_eq!(xml.status, StatusCode::OK);
    assert!(xml.body.contains("<VocabularyList>"), "{}", xml.body);
    assert!(xml.body.contains("<ex:City>上海</ex:City>"), "{}", xml.body);
    assert!(
        xml.body.contains("xmlns:ex=\"https://example.org/ns/\""),
        "{}",
        xml.body
    );
    let back = suyuan_epcis::xml::document_from_xml(&xml.body).expect("our XML reads back");
    let els = suyuan_epcis::masterdata::from_document(&back).expect("valid");
    assert_eq!(els[0].attributes.len(), 3);
    assert_eq!(
        els[0].attributes[2].1,
        json!({"ex:Address": {"ex:City": "上海", "ex:Zip": "200000"}})
    );
}
