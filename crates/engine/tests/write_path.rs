//! The write path end to end on SQLite: validation errors store nothing, batches are atomic, repeats are idempotent.

use serde_json::json;
use std::sync::Arc;
use suyuan_engine::{CaptureError, Engine};
use suyuan_store::SqliteStore;

fn doc(events: serde_json::Value) -> serde_json::Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-03-01T00:00:00Z",
        "epcisBody": {"eventList": events}
    })
}

fn ev(serial: u32, time: &str) -> serde_json::Value {
    json!({"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+08:00",
           "epcList": [format!("urn:epc:id:sgtin:6901234.012345.{serial}")], "action": "OBSERVE", "bizStep": "cbv:BizStep-shipping"})
}

#[tokio::test]
async fn one_bad_event_rejects_the_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::new(Arc::new(SqliteStore::open(dir.path()).expect("open")));
    let body = doc(json!([
        ev(1, "2024-03-01T08:00:00+08:00"),
        ev(2, "2024-03-01T08:00:00+08:00"),
        ev(3, "2024-13-01")
    ]));
    match engine.capture(&body).await {
        Err(CaptureError::Invalid(errs)) => {
            assert_eq!(errs.0.len(), 1);
            assert_eq!(
                errs.0[0].to_string(),
                "/epcisBody/eventList/2/eventTime: expected RFC 3339 date-time, got \"2024-13-01\""
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(engine.reader().stats().await.expect("stats").events, 0);
    let ok = engine
        .capture(&doc(json!([ev(1, "2024-03-01T08:00:00+08:00")])))
        .await
        .expect("valid capture");
    assert_eq!((ok.stored, ok.duplicates, ok.events[0].seq), (1, 0, 1));
    let again = engine
        .capture(&doc(json!([ev(1, "2024-03-01T08:00:00+08:00")])))
        .await
        .expect("repeat");
    assert_eq!(
        (again.stored, again.duplicates, again.events[0].seq),
        (0, 1, 1)
    );
}

#[tokio::test]
async fn cbv_spellings_are_stored_bare() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::new(Arc::new(SqliteStore::open(dir.path()).expect("open")));
    engine
        .capture(&ev(5, "2024-03-01T08:00:00+08:00"))
        .await
        .expect("capture");
    let stored = engine.reader().events_after(0, 1).await.expect("read");
    assert_eq!(stored[0].event["bizStep"], json!("shipping"));
}
