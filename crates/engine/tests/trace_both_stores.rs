//! The trace index follows the ledger of either store: rebuilt from what is stored, then kept current.

use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_store::{PgStore, SqliteStore, Store};
use suyuan_trace::TraceOptions;

async fn exercise(store: Arc<dyn Store>) {
    let mut values = Vec::new();
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 3,
            scale: 1,
            days: 2,
        },
        &mut |v| values.push(v),
    );
    let events: Vec<suyuan_core::Event> = values
        .iter()
        .map(|v| suyuan_core::parse_capture(v).expect("valid").remove(0))
        .collect();
    let (first, rest) = events.split_at(events.len() / 2);
    let engine = Engine::new(store.clone());
    engine
        .capture_events(first.to_vec())
        .await
        .expect("first half");
    // A fresh engine over the same store rebuilds the index from the ledger ...
    let engine = Engine::new(store);
    let lot = suyuan_core::projection::object_key("urn:epc:class:lgtin:6920001.000011.RM0001");
    let edges_before = engine
        .trace_index()
        .await
        .expect("index")
        .read()
        .edge_count();
    assert!(edges_before > 0);
    // ... and follows later captures.
    for chunk in rest.chunks(500) {
        engine
            .capture_events(chunk.to_vec())
            .await
            .expect("second half");
    }
    let tracer = engine.trace_index().await.expect("index");
    assert_eq!(tracer.applied_seq(), events.len() as u64);
    // The same answers as an index built in one go from the full ledger.
    let fresh = Engine::new(engine.store().clone());
    let rebuilt = fresh.trace_index().await.expect("index");
    let followed = tracer.read();
    assert!(followed.edge_count() > edges_before);
    let rebuilt = rebuilt.read();
    assert_eq!(followed.edge_count(), rebuilt.edge_count());
    let last_can = events
        .iter()
        .rev()
        .find_map(|e| e.output_epc_list.first())
        .expect("a canning event");
    for start in [lot.clone(), suyuan_core::projection::object_key(last_can)] {
        let a = followed
            .forward(&start, &TraceOptions::default())
            .map(|t| t.nodes.len());
        let b = rebuilt
            .forward(&start, &TraceOptions::default())
            .map(|t| t.nodes.len());
        assert_eq!(a, b, "forward from {start}");
        let a = followed
            .backward(&start, &TraceOptions::default())
            .map(|t| t.nodes.len());
        let b = rebuilt
            .backward(&start, &TraceOptions::default())
            .map(|t| t.nodes.len());
        assert_eq!(a, b, "backward from {start}");
    }
    // 1,200 cans + 200 cases + 10 pallets + the lot + 2 mixes + 2 powders + 2 work orders.
    assert_eq!(
        followed
            .forward(&lot, &TraceOptions::default())
            .map(|t| t.nodes.len()),
        Some(1200 + 210 + 5 + 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    exercise(Arc::new(SqliteStore::open(dir.path()).expect("open"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Ok(url) = std::env::var("SUYUAN_TEST_PG_URL") else {
        eprintln!("skipped PostgreSQL: SUYUAN_TEST_PG_URL is not set");
        return;
    };
    let schema = format!("t_trace_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    exercise(Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect"),
    ))
    .await;
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}
