//! Capturing through the native API: repeats, located refusals, problem details, conflicts, reading back, clock skew.

#[allow(unused_imports)]
use super::*;

#[tokio::test]
async fn capture_one_event_then_repeat_it() {
    let t = test_app().await;
    let first = t.post_json("/api/v1/events", &object_event(1)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let j = first.json();
    assert_eq!(j["stored"], 1);
    assert_eq!(j["events"][0]["seq"], SETUP_EVENTS + 1);
    assert_eq!(j["events"][0]["duplicate"], false);
    assert!(
        j["events"][0]["eventHash"]
            .as_str()
            .expect("hash")
            .starts_with("ni:///sha-256;")
    );
    assert_eq!(j["events"][0]["leafHash"].as_str().expect("leaf").len(), 64);
    let again = t.post_json("/api/v1/events", &object_event(1)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["events"][0]["duplicate"], true);
    assert_eq!(again.json()["events"][0]["seq"], SETUP_EVENTS + 1);
}

#[tokio::test]
async fn invalid_document_is_rejected_with_located_errors_and_stores_nothing() {
    let t = test_app().await;
    let mut bad = object_event(4);
    bad["eventTime"] = json!("2024-13-01");
    let mut bad2 = object_event(5);
    bad2["bizStep"] = json!("shiping");
    let doc = document(vec![
        object_event(1),
        object_event(2),
        object_event(3),
        bad,
        bad2,
    ]);
    let a = t.post_json("/api/v1/events", &doc).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.content_type, "application/problem+json");
    let j = a.json();
    assert_eq!(j["code"], "validation");
    assert_eq!(
        j["errors"][0]["pointer"],
        "/epcisBody/eventList/3/eventTime"
    );
    assert_eq!(
        j["errors"][0]["detail"],
        "expected RFC 3339 date-time, got \"2024-13-01\""
    );
    assert_eq!(j["errors"][1]["pointer"], "/epcisBody/eventList/4/bizStep");
    assert!(
        j["detail"]
            .as_str()
            .expect("detail")
            .contains("/epcisBody/eventList/3/eventTime: expected RFC 3339 date-time")
    );
    let list = t.get("/api/v1/events").await.json();
    assert_eq!(
        list["events"].as_array().expect("array").len() as u64,
        SETUP_EVENTS,
        "nothing may be stored"
    );
}

#[tokio::test]
async fn malformed_requests_get_problem_details() {
    let t = test_app().await;
    let a = t
        .send(
            Request::post("/api/v1/events")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    "{\"type\": \"ObjectEvent\",\n  \"eventTime\": }",
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["code"], "bad-json");
    assert!(
        a.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("line 2 column"),
        "{}",
        a.body
    );
    let a = t
        .send(
            Request::post("/api/v1/events")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("x"))
                .expect("request"),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(a.content_type, "application/problem+json");
    let a = t.post_json("/api/v1/events", &json!([1, 2])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["errors"][0]["pointer"], "");
    let a = t.get("/api/v1/events?limit=5000&foo=1").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let j = a.json();
    let params: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(params, vec!["foo", "limit"]);
    let a = t.get("/api/v1/nothing").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.content_type, "application/problem+json");
}

#[tokio::test]
async fn reused_event_id_with_other_content_is_a_conflict() {
    let t = test_app().await;
    let mut e = object_event(1);
    e["eventID"] = json!("urn:uuid:6b1b3c7e-5a4b-4f7e-9a55-0b2d6f7e8a90");
    assert_eq!(
        t.post_json("/api/v1/events", &e).await.status,
        StatusCode::CREATED
    );
    e["disposition"] = json!("damaged");
    let a = t.post_json("/api/v1/events", &e).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.json()["code"], "event-id-conflict");
}

#[tokio::test]
async fn events_read_back_by_id_and_in_pages() {
    let t = test_app().await;
    let out = t
        .post_json(
            "/api/v1/events",
            &document((1..=5).map(object_event).collect()),
        )
        .await
        .json();
    let id = out["events"][2]["eventID"]
        .as_str()
        .expect("id")
        .to_string();
    let enc: String = percent_encode(&id);
    let one = t.get(&format!("/api/v1/events/{enc}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.json()["seq"], SETUP_EVENTS + 3);
    assert_eq!(
        one.json()["event"]["epcList"][0],
        "urn:epc:id:sgtin:6901234.012345.3"
    );
    let missing = t
        .get("/api/v1/events/urn:uuid:00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let page = t.get("/api/v1/events?after_seq=1&limit=2").await;
    let j = page.json();
    assert_eq!(
        j["events"]
            .as_array()
            .expect("array")
            .iter()
            .map(|e| e["seq"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(j["next"], "/api/v1/events?after_seq=3&limit=2");
    assert!(page.headers.get(header::LINK).is_some());
}

/// An event dated far in the future is refused, with its field named, by the API and the EPCIS capture alike.
#[tokio::test]
async fn events_from_the_future_are_refused_with_the_field_named() {
    let t = test_app().await;
    let e = json!({"type": "ObjectEvent", "eventTime": "2099-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:6901234.012345.FUT1"]});
    let a = t
        .post_json("/api/v1/events", &document(vec![e.clone()]))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        a.body.contains("/epcisBody/eventList/0/eventTime") && a.body.contains("in the future"),
        "{}",
        a.body
    );
    let a = t.post_json("/epcis/events", &e).await;
    assert!(a.status.is_client_error(), "{}", a.body);
    assert!(a.body.contains("in the future"), "{}", a.body);
    // A minute ahead is clock drift, not a mistake.
    let mut soon = e.clone();
    soon["eventTime"] = json!(suyuan_core::time::format_utc_millis(
        chrono::Utc::now() + chrono::Duration::seconds(60)
    ));
    let a = t.post_json("/api/v1/events", &document(vec![soon])).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // Nothing of the refused event was stored.
    let gone = t
        .get(&format!(
            "/api/v1/objects/{}",
            percent_encode("urn:epc:id:sgtin:6901234.012345.FUT1")
        ))
        .await;
    assert_eq!(
        gone.status,
        StatusCode::OK,
        "only the minute-ahead event names it"
    );
}

/// What the reactions of the outbox are doing is visible to an administrator: after a runtime drained the
/// Merkle tree reactor nothing waits for it; the genealogy index says how far it is behind.
#[tokio::test]
async fn administrators_see_where_the_reactions_stand() {
    use suyuan_engine::reactor::{MerkleTree, Runtime};
    let t = test_app().await;
    for serial in 1..=3 {
        let r = t.post_json("/api/v1/events", &object_event(serial)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let signer = suyuan_ledger::checkpoint::CheckpointSigner::new("suyuan.test/ledger", &[7; 32])
        .expect("signer");
    let runtime = Runtime::new(t.state.engine.clone(), "test")
        .with(Arc::new(MerkleTree::new(Arc::new(signer))));
    let before = t.get("/api/v1/reactors").await.json();
    assert_eq!(
        before["reactors"].as_array().map(Vec::len),
        Some(1),
        "only the local index before any shared reactor ran: {before}"
    );
    assert_eq!(before["reactors"][0]["name"], "trace_index");
    runtime.drain().await.expect("drain");
    let after = t.get("/api/v1/reactors").await.json();
    let merkle = after["reactors"]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "merkle_tree"))
        .unwrap_or_else(|| panic!("no merkle_tree in {after}"));
    assert_eq!(merkle["pendingEntries"], 0, "{after}");
    assert_eq!(merkle["failures"], 0);
    assert_eq!(merkle["leaseOwner"], "test");
    let index = after["reactors"]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "trace_index"))
        .expect("trace_index");
    assert!(index["eventsBehind"].as_u64().is_some(), "{after}");
    // The reaction signed a checkpoint over everything captured: the three events and the setup events.
    let cp = t
        .store
        .checkpoint(None)
        .await
        .expect("read")
        .expect("a checkpoint");
    assert_eq!(cp.size, SETUP_EVENTS + 3);
}
