//! The clustered graph view on the demo factory: a raw-milk lot's descendants come as a handful of counted
//! clusters, a can's origins as single nodes, and the budget stops a walk with "more" marked.

use serde_json::Value;
use suyuan_core::projection::object_key;
use suyuan_trace::{Direction, GraphOptions, Relation, TraceIndex};

fn demo_index(days: u32) -> (TraceIndex, Vec<Value>) {
    let mut values = Vec::new();
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 42,
            scale: 1,
            days,
        },
        &mut |e| values.push(e),
    );
    let mut idx = TraceIndex::new();
    for (i, v) in values.iter().enumerate() {
        let e = suyuan_epcis::parse_capture(v)
            .expect("demo event")
            .remove(0);
        let id = e
            .event_id
            .clone()
            .unwrap_or_else(|| suyuan_epcis::event_hash(&e));
        idx.apply(&e, &id, i as u64 + 1);
    }
    (idx, values)
}

#[test]
fn a_raw_milk_lot_forward_is_a_few_counted_clusters() {
    let (idx, _) = demo_index(4);
    let lot = object_key(&suyuan_demo::supplier_lot(&suyuan_demo::SUPPLIERS[0], 1));
    let g = idx
        .graph(&lot, Direction::Forward, GraphOptions::default())
        .expect("the lot is indexed");
    assert!(g.nodes.len() < 40, "{} nodes drawn", g.nodes.len());
    let cans = g
        .nodes
        .iter()
        .find(|n| n.kind == "instance")
        .expect("a cluster of cans");
    assert!(cans.count >= 600, "{} cans", cans.count);
    assert_eq!(cans.containers, cans.count / 6, "six cans a case");
    assert_eq!(cans.sample.len(), 20);
    let cases = g
        .nodes
        .iter()
        .find(|n| n.kind == "logistic_unit" && !n.holds_units)
        .expect("cases");
    assert_eq!(cases.count, cans.count / 6);
    let pallets = g
        .nodes
        .iter()
        .find(|n| n.kind == "logistic_unit" && n.holds_units)
        .expect("pallets");
    assert_eq!(pallets.count, cases.count.div_ceil(20));
    assert!(
        !pallets.holders.is_empty(),
        "pallets were shipped to distributors"
    );
    // Every edge points downstream.
    assert!(
        g.edges
            .iter()
            .all(|(f, t, _)| g.nodes[*f].level < g.nodes[*t].level)
    );
    // A small budget stops the walk and says so.
    let small = idx
        .graph(
            &lot,
            Direction::Forward,
            GraphOptions {
                budget: 50,
                ..GraphOptions::default()
            },
        )
        .expect("graph");
    assert!(small.nodes.iter().any(|n| n.more), "the cut is marked");
    assert!(small.visited <= 60);
}

#[test]
fn a_can_backward_reaches_its_lot_work_orders_and_supplier_lots_as_single_nodes() {
    let (idx, values) = demo_index(3);
    let canning = values
        .iter()
        .find(|e| e["sy:operation"] == "canning")
        .expect("a canning event");
    let can = object_key(canning["outputEPCList"][0].as_str().expect("can"));
    let g = idx
        .graph(&can, Direction::Backward, GraphOptions::default())
        .expect("the can is indexed");
    let keys: Vec<&str> = g.nodes.iter().map(|n| n.key.as_str()).collect();
    let milk = object_key(&suyuan_demo::supplier_lot(&suyuan_demo::SUPPLIERS[0], 1));
    assert!(keys.contains(&milk.as_str()), "{keys:?}");
    assert!(
        g.nodes.iter().all(|n| n.count == 1),
        "no siblings clustered backward: {keys:?}"
    );
    assert!(
        g.nodes
            .iter()
            .any(|n| n.kind == "lot" && n.key.contains("/10/L"))
    );
    assert!(g.edges.iter().any(|e| e.2 == Relation::Member));
    // Backward edges still point from origin to product.
    assert!(
        g.edges
            .iter()
            .all(|(f, t, _)| g.nodes[*f].level > g.nodes[*t].level)
    );
}
