//! The demo plant runs through the operations projections: its batches are work orders with consumption,
//! output and a clean material balance; its warehouses have stock (the failed batch on hold, the returned
//! whey lot returned); its consumer scans raise one diversion and one counterfeit alert; and the inventory
//! projections rebuilt from the ledger equal the live ones.

use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_ops::Status;
use suyuan_ops::inventory::StockFilter;
use suyuan_ops::workorder::WoState;
use suyuan_store::{ScanRecord, SqliteStore, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_plant_runs_through_operations() {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("store"));
    let engine = Engine::new(store.clone());
    for (kind, record) in suyuan_demo::operations::records(1) {
        let map = record.as_object().cloned().unwrap_or_default();
        engine
            .save_record("demo", kind, &map)
            .await
            .unwrap_or_else(|e| panic!("{kind} {record}: {e}"));
    }
    let cfg = suyuan_demo::DemoConfig {
        seed: 42,
        scale: 1,
        days: 16,
    };
    let mut events = Vec::new();
    let mut scans = Vec::new();
    suyuan_demo::generate(cfg, &mut |item| match item {
        suyuan_demo::DemoItem::Event(v) => {
            events.push(suyuan_epcis::parse_capture(&v).expect("valid").remove(0))
        }
        suyuan_demo::DemoItem::Scan(s) => scans.push(ScanRecord {
            object: suyuan_core::projection::object_key(&s.object),
            scanned_at: s.time,
            city: Some(s.city.into()),
            province: Some(s.province.into()),
            channel: "demo".into(),
        }),
        suyuan_demo::DemoItem::Issued(_) => {}
    });
    for chunk in events.chunks(1000) {
        engine
            .capture_events(chunk.to_vec())
            .await
            .expect("demo events pass every validator");
    }
    engine.record_scans(scans).await.expect("scans");

    let can = suyuan_demo::operations::can_gtin();
    let orders = engine.work_orders(None, None, 1000).await.expect("orders");
    assert_eq!(orders.len(), 32, "two batches a day for 16 days");
    assert!(
        orders
            .iter()
            .all(|w| w.state == WoState::Closed && w.line == "L01" && w.product == can)
    );
    let first = engine
        .work_order(&orders[orders.len() - 1].id)
        .await
        .expect("order");
    assert_eq!(first.order.output, 600.0);
    assert!(!first.balance_flagged, "{:?}", first.balance);
    assert_eq!(
        first.balance.len(),
        5,
        "the five supplier materials, intermediates netted out"
    );

    {
        let ops = engine.operations().await.expect("ops");
        let stock = |product: &str, status: Status| -> f64 {
            ops.inventory
                .stock(&StockFilter {
                    product: Some(product.into()),
                    status: Some(status),
                    ..StockFilter::default()
                })
                .iter()
                .map(|r| r.quantity)
                .sum()
        };
        assert_eq!(
            stock(&can, Status::OnHold),
            600.0,
            "the batch that failed final inspection"
        );
        assert!(stock(&can, Status::Available) > 0.0);
        let whey = suyuan_demo::operations::gtin("6920002", "000021");
        assert!(
            stock(&whey, Status::Returned) > 0.0,
            "the rejected whey lot went back"
        );
        assert!(!ops.inventory.fefo(&whey).is_empty());
    }

    let raised = engine.watch_scans().await.expect("watch");
    assert!(raised >= 2, "{raised}");
    let kinds: Vec<String> = engine
        .alerts(None, None)
        .await
        .expect("alerts")
        .iter()
        .map(|a| a.kind.as_str().to_string())
        .collect();
    // The copied can (home and 新疆) is both; the diverted one (only in another distributor's province)
    // is a diversion alone.
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(
        (count("diversion"), count("counterfeit")),
        (2, 1),
        "{kinds:?}"
    );
    assert_eq!(
        engine.watch_scans().await.expect("again"),
        0,
        "each scan is judged once"
    );

    let out = engine
        .ops_metric("output", "2026-10-01", "2026-10-31", "day")
        .await
        .expect("output");
    assert_eq!(
        out.points.first().map(|p| p.value),
        Some(1200.0),
        "{:?}",
        out.points
    );
    // The plant ships whole pallets: a pallet counts its 120 cans, onward deliveries by distributors not.
    let turnover = engine
        .ops_metric("inventory_turnover", "2026-10-01", "2026-10-31", "day")
        .await
        .expect("turnover");
    let stock = engine
        .ops_metric("stock", "2026-10-01", "2026-10-31", "product")
        .await
        .expect("stock");
    let cans_at_plant = stock
        .points
        .iter()
        .find(|p| p.group == can)
        .map_or(0.0, |p| p.value);
    assert!(
        cans_at_plant < 3000.0,
        "cans not yet shipped are few, the rest is at customers: {cans_at_plant}"
    );
    // Every batch but the held one went out: 31 × 600 cans, counted inside their pallets.
    assert_eq!(
        turnover.points[0].secondary,
        Some(18_600.0),
        "{:?}",
        turnover.points
    );
    // Every projection, folded as events were captured, equals a fold of the ledger from its first event.
    let rebuilt = engine.rebuild_operations().await.expect("rebuild");
    let live = engine.operations().await.expect("ops");
    assert_eq!(
        live.inventory.fingerprint(),
        rebuilt.inventory.fingerprint()
    );
    assert!(live.orders == rebuilt.orders, "work orders");
    assert!(live.production == rebuilt.production, "production figures");
    assert!(live.quality == rebuilt.quality, "quality records");
    assert!(*live == rebuilt, "inventory");
}
