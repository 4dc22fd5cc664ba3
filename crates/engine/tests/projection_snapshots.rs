//! The operations projections and the dashboard counts restart from their snapshots: a restart loads them and
//! reads only the events (and scans) stored after them, to the same state a read from the first event gives;
//! a snapshot of another ledger or a damaged one is refused and the ledger is read instead.

mod common;

use common::demo_events;
use std::path::Path;
use std::sync::Arc;
use suyuan_engine::{DASHBOARD_SNAPSHOT, Engine, OPERATIONS_SNAPSHOT};
use suyuan_store::{PgStore, ScanRecord, SqliteStore, Store};

async fn load(engine: &Engine, events: &[suyuan_core::Event]) {
    for chunk in events.chunks(1000) {
        engine
            .capture_events(chunk.to_vec())
            .await
            .expect("demo events pass every validator");
    }
}

/// Consumer scans of a can, in two cities.
fn scans(n: usize) -> Vec<ScanRecord> {
    (0..n)
        .map(|i| ScanRecord {
            object: "https://id.gs1.org/01/06920001000011/21/S1".into(),
            scanned_at: format!("2026-10-0{}T10:00:00+08:00", i + 1),
            city: Some(["上海", "杭州"][i % 2].into()),
            province: Some(["上海", "浙江"][i % 2].into()),
            channel: "test".into(),
        })
        .collect()
}

/// An engine keeping its snapshots in `dir`, as the server does.
fn engine_at(store: &Arc<dyn Store>, dir: &Path) -> Engine {
    Engine::with_trace_snapshot(store.clone(), dir.join("trace-index.snapshot"))
}

async fn exercise(store: Arc<dyn Store>, other: Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join(OPERATIONS_SNAPSHOT);
    let events = demo_events(5, 6);
    let (first, rest) = events.split_at(events.len() - 200);

    let engine = engine_at(&store, dir.path());
    load(&engine, first).await;
    engine.record_scans(scans(3)).await.expect("scans");
    drop(engine.operations().await.expect("ops"));
    engine.tally().await.expect("tally");
    assert!(!snap.exists(), "a small ledger is not worth a snapshot");
    engine.save_snapshots().await;
    assert_eq!(engine.operations_snapshot_seq(), first.len() as u64);
    assert!(snap.exists(), "a clean shutdown saves the projections");
    let dashboard = dir.path().join(DASHBOARD_SNAPSHOT);
    assert!(dashboard.exists(), "and the dashboard counts");
    load(&engine, rest).await;
    engine.record_scans(scans(5)).await.expect("scans");

    // The dashboard restarts from its snapshot, then counts the events and scans after it.
    let reference = Engine::new(store.clone());
    let restarted = engine_at(&store, dir.path());
    let tally = restarted.tally().await.expect("tally");
    assert_eq!(
        tally.snapshot_seq(),
        first.len() as u64,
        "started from the snapshot"
    );
    assert_eq!(tally.seq(), events.len() as u64);
    let want_tally = reference.tally().await.expect("tally");
    assert_eq!(
        want_tally
            .read()
            .codes
            .values()
            .map(|c| c.count)
            .sum::<u64>(),
        8
    );
    let same = *tally.read() == *want_tally.read();
    assert!(
        same,
        "snapshot + what came after = counting from the first event"
    );

    // A restart starts from the snapshot and folds only the events after it.
    let fresh = || async {
        Engine::new(store.clone())
            .rebuild_operations()
            .await
            .expect("rebuild")
    };
    let want = fresh().await;
    assert!(
        want.orders.all().next().is_some() && !want.quality.inspections.is_empty(),
        "the demo has work orders and inspections to compare"
    );
    let restarted = engine_at(&store, dir.path());
    let same = *restarted.operations().await.expect("ops") == want;
    assert_eq!(
        restarted.operations_snapshot_seq(),
        first.len() as u64,
        "started from the snapshot"
    );
    assert!(
        same,
        "snapshot + the events after it = a fold from the first event"
    );

    // A snapshot of another ledger is not used: that ledger is folded from its first event.
    load(&Engine::new(other.clone()), &demo_events(9, 2)).await;
    let own = Engine::new(other.clone())
        .rebuild_operations()
        .await
        .expect("rebuild");
    let foreign = engine_at(&other, dir.path());
    let same = *foreign.operations().await.expect("ops") == own;
    assert_eq!(foreign.operations_snapshot_seq(), 0, "refused");
    assert!(same, "its own ledger's state");

    // Nor is a damaged one.
    let mut bytes = std::fs::read(&snap).expect("snapshot");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&snap, &bytes).expect("write");
    let damaged = engine_at(&store, dir.path());
    let same = *damaged.operations().await.expect("ops") == want;
    assert_eq!(damaged.operations_snapshot_seq(), 0, "refused");
    assert!(same);

    // A second clean shutdown writes a whole snapshot again, which the next start uses.
    damaged.save_snapshots().await;
    let again = engine_at(&store, dir.path());
    let same = *again.operations().await.expect("ops") == want;
    assert_eq!(again.operations_snapshot_seq(), events.len() as u64);
    assert!(same);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    exercise(
        Arc::new(SqliteStore::open(&dir.path().join("a")).expect("open")),
        Arc::new(SqliteStore::open(&dir.path().join("b")).expect("open")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(url) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schemas = [
        format!("t_opsnap_a_{}", std::process::id()),
        format!("t_opsnap_b_{}", std::process::id()),
    ];
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for schema in &schemas {
        PgStore::drop_schema(&url, schema).await.expect("clean");
        stores.push(Arc::new(
            PgStore::connect(&url, Some(schema)).await.expect("connect"),
        ));
    }
    let other = stores.pop().expect("b");
    let store = stores.pop().expect("a");
    exercise(store, other).await;
    for schema in &schemas {
        PgStore::drop_schema(&url, schema).await.expect("drop");
    }
}
