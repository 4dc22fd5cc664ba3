//! The trace index follows the ledger of either store: rebuilt from what is stored, then kept current.

mod common;

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
        .map(|v| suyuan_epcis::parse_capture(v).expect("valid").remove(0))
        .collect();
    let (first, rest) = events.split_at(events.len() / 2);
    let engine = Engine::new(store.clone());
    engine
        .capture_events(first.to_vec())
        .await
        .expect("first half");
    // A fresh engine over the same store rebuilds the index from the ledger ...
    let engine = Engine::new(store.clone());
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
    let fresh = Engine::new(store.clone());
    let rebuilt = fresh.trace_index().await.expect("index");
    let last_can = events
        .iter()
        .rev()
        .find_map(|e| e.output_epc_list.first())
        .expect("a canning event");
    {
        let followed = tracer.read();
        assert!(followed.edge_count() > edges_before);
        let rebuilt = rebuilt.read();
        assert_eq!(followed.edge_count(), rebuilt.edge_count());
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
        // 1,200 cans + 200 cases + 10 pallets + the lot + 2 mixes + 2 powders + 3 operations of 2 work orders.
        assert_eq!(
            followed
                .forward(&lot, &TraceOptions::default())
                .map(|t| t.nodes.len()),
            Some(1200 + 210 + 5 + 6)
        );
    }

    // An error declaration for the last canning event takes its cans out of their batch and lot.
    let canning = events
        .iter()
        .rev()
        .find(|e| !e.output_epc_list.is_empty())
        .expect("a canning event");
    let can = suyuan_core::projection::object_key(last_can);
    let ancestors = |t: &suyuan_engine::tracer::Tracer| {
        t.read()
            .backward(&can, &TraceOptions::default())
            .map(|t| t.nodes.len())
    };
    assert!(ancestors(tracer).is_some_and(|n| n > 3));
    let mut declaration = canning.clone();
    declaration.error_declaration = Some(suyuan_core::event::ErrorDeclaration {
        declaration_time: "2026-11-25T00:00:00Z".into(),
        reason: Some("incorrect_data".into()),
        corrective_event_ids: Vec::new(),
        extensions: Default::default(),
    });
    engine
        .capture_events(vec![declaration])
        .await
        .expect("declaration");
    let tracer = engine.trace_index().await.expect("index");
    assert_eq!(ancestors(tracer), Some(1), "only the can itself is left");
    let rebuilt = Engine::new(store.clone());
    assert_eq!(
        ancestors(rebuilt.trace_index().await.expect("index")),
        Some(1)
    );

    // The index's whereabouts agree with the store's object projection, object by object.
    let keys: Vec<String> = events
        .iter()
        .flat_map(|e| {
            e.object_ids()
                .into_iter()
                .map(suyuan_core::projection::object_key)
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .step_by(7)
        .collect();
    let states = engine.reader().objects(&keys).await.expect("objects");
    assert!(states.len() > 100);
    let index = tracer.read();
    let mut with_party = 0;
    let mut with_container = 0;
    for s in &states {
        let node = index.node(&s.id).expect("indexed");
        let w = index.whereabouts(node).expect("known");
        assert_eq!(w.last_seq, s.last_seq, "{}", s.id);
        assert_eq!(w.location, s.location, "{}", s.id);
        assert_eq!(w.disposition, s.disposition, "{}", s.id);
        assert_eq!(w.party, s.party, "{}", s.id);
        assert_eq!(w.container.map(|c| c.id), s.container, "{}", s.id);
        with_party += usize::from(s.party.is_some());
        with_container += usize::from(s.container.is_some());
    }
    assert!(
        with_party > 0 && with_container > 0,
        "the sample covers shipped and packed objects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    exercise(Arc::new(SqliteStore::open(dir.path()).expect("open"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(url) = suyuan_store::suite::pg_url() else {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_restarts_from_its_snapshot_and_refuses_a_foreign_or_damaged_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("trace-index.snapshot");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("a")).expect("open"));
    let events = common::demo_events(5, 2);
    let (first, rest) = events.split_at(events.len() - 100);
    let engine = Engine::with_trace_snapshot(store.clone(), snap.clone());
    engine
        .capture_events(first.to_vec())
        .await
        .expect("capture");
    let tracer = engine.trace_index().await.expect("index");
    assert_eq!(tracer.snapshot_seq(), 0, "small catch-ups do not save");
    engine.save_snapshots().await;
    let saved = first.len() as u64;
    assert_eq!(engine.tracer().snapshot_seq(), saved);
    engine.capture_events(rest.to_vec()).await.expect("capture");

    // A restart loads the snapshot, then reads only the events after it.
    let lot = suyuan_core::projection::object_key("urn:epc:class:lgtin:6920001.000011.RM0001");
    let answer = |t: &suyuan_engine::tracer::Tracer| {
        let index = t.read();
        let f = index.forward(&lot, &TraceOptions::default()).expect("lot");
        (f.nodes.len(), f.edges.len(), index.edge_count())
    };
    let reference = Engine::new(store.clone());
    let want = answer(reference.trace_index().await.expect("index"));
    let restarted = Engine::with_trace_snapshot(store.clone(), snap.clone());
    let t = restarted.trace_index().await.expect("index");
    assert_eq!(t.snapshot_seq(), saved, "started from the snapshot");
    assert_eq!(t.applied_seq(), events.len() as u64);
    assert_eq!(answer(t), want);

    // Another ledger (same path, different events) is refused and the index is rebuilt from its own ledger.
    let other: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("b")).expect("open"));
    Engine::new(other.clone())
        .capture_events(common::demo_events(5, 1))
        .await
        .expect("capture");
    let foreign = Engine::with_trace_snapshot(other.clone(), snap.clone());
    let t = foreign.trace_index().await.expect("index");
    assert_eq!(
        t.snapshot_seq(),
        0,
        "a snapshot of another ledger is not used"
    );
    let own = Engine::new(other);
    let edges = t.read().edge_count();
    assert_eq!(
        edges,
        own.trace_index().await.expect("index").read().edge_count()
    );

    // A damaged file is refused too.
    let mut bytes = std::fs::read(&snap).expect("snapshot");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&snap, &bytes).expect("write");
    let damaged = Engine::with_trace_snapshot(store, snap);
    let t = damaged.trace_index().await.expect("index");
    assert_eq!(t.snapshot_seq(), 0);
    assert_eq!(answer(t), want);
}
