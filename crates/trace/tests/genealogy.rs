//! Trace answers on the demo factory's documented genealogy, time-aware containment, error declarations,
//! and a property test against a naive reference on random histories.

use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use suyuan_core::projection::object_key;
use suyuan_trace::{TraceIndex, TraceOptions};

/// Indexes events as the engine does: in order, and for an error declaration the declared event (the first
/// with that eventID) is retracted.
fn index_of(values: &[Value]) -> TraceIndex {
    let mut idx = TraceIndex::new();
    let mut by_id: HashMap<String, (suyuan_core::Event, u64)> = HashMap::new();
    for (i, v) in values.iter().enumerate() {
        let mut events =
            suyuan_epcis::parse_capture(v).unwrap_or_else(|e| panic!("event {i} invalid: {e}"));
        let e = events.remove(0);
        let id = e
            .event_id
            .clone()
            .unwrap_or_else(|| suyuan_epcis::event_hash(&e));
        let seq = i as u64 + 1;
        idx.apply(&e, &id, seq);
        if e.error_declaration.is_some() {
            if let Some((original, at)) = by_id.get(&id) {
                idx.retract(original, *at);
            }
        } else {
            by_id.entry(id).or_insert((e, seq));
        }
    }
    idx
}

/// The index of `values`, compacted, written to a snapshot and read back.
fn round_trip(values: &[Value]) -> TraceIndex {
    let mut idx = index_of(values);
    idx.compact();
    let mut bytes = Vec::new();
    idx.write_snapshot(&mut bytes, b"tag").expect("write");
    let (back, header) =
        TraceIndex::read_snapshot(|| Ok(std::io::Cursor::new(&bytes[..]))).expect("read back");
    assert_eq!(header.tag, b"tag");
    assert_eq!(header.last_seq, idx.last_seq());
    back
}

fn ids_in(idx: &TraceIndex, t: &suyuan_trace::Trace) -> BTreeSet<String> {
    t.nodes.iter().map(|n| idx.name(n.node)).collect()
}

fn demo(days: u32) -> Vec<Value> {
    let mut v = Vec::new();
    suyuan_demo_events(days, &mut v);
    v
}

fn suyuan_demo_events(days: u32, out: &mut Vec<Value>) {
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 42,
            scale: 1,
            days,
        },
        &mut |e| out.push(e),
    );
}

#[test]
fn demo_backward_from_a_shipped_can_reaches_its_batch_and_supplier_lots() {
    let events = demo(6);
    let idx = index_of(&events);
    // The first can of the first canning event (day 0, line 1, batch 1).
    let canning = events
        .iter()
        .find(|e| e["sy:operation"] == "canning")
        .expect("a canning event");
    let can = object_key(canning["outputEPCList"][0].as_str().expect("can"));
    let back = idx
        .backward(&can, &TraceOptions::default())
        .expect("can is indexed");
    let got = ids_in(&idx, &back);
    let lgtin = |s: &str| object_key(s);
    for want in [
        "urn:epc:class:lgtin:6901234.020002.BP2026100111",
        "urn:epc:class:lgtin:6901234.020001.MX2026100111",
        "urn:epc:class:lgtin:6920001.000011.RM0001",
        "urn:epc:class:lgtin:6920002.000021.WP0001",
        "urn:epc:class:lgtin:6920003.000031.VP0001",
        "urn:epc:class:lgtin:6920004.000041.CN0001",
        "urn:epc:class:lgtin:6920005.000051.LD0001",
        "urn:epc:class:lgtin:6901234.012345.L2026100111",
    ] {
        assert!(
            got.contains(&lgtin(want)),
            "backward trace misses {want}: {got:?}"
        );
    }
    // Each operation of the work order is its own transformation.
    for step in ["mixing", "spray_drying", "canning"] {
        let node = format!("transformation:urn:suyuan:demo:op:WO-20261001-1-1:{step}");
        assert!(got.contains(&node), "backward trace misses {node}");
    }
    // Nothing from another day or batch.
    assert!(!got.contains(&lgtin("urn:epc:class:lgtin:6920001.000011.RM0002")));
    assert!(!got.contains(&lgtin("urn:epc:class:lgtin:6901234.020002.BP2026100112")));
    // Backward never walks into containers.
    assert!(
        !got.iter().any(|n| n.starts_with("https://id.gs1.org/00/")),
        "{got:?}"
    );
}

#[test]
fn demo_backward_from_the_failing_lot_reaches_its_steps_in_order_and_its_supplier_lots() {
    let (day, line, batch) = suyuan_demo::FAILING_BATCH;
    let events = demo(day + 2);
    let idx = index_of(&events);
    let lot = object_key(&suyuan_demo::can_lot_class(day, line, batch));
    let back = idx
        .backward(&lot, &TraceOptions::default())
        .expect("lot is indexed");
    let got = ids_in(&idx, &back);
    let wo = format!(
        "WO-{}-{}-{}",
        &suyuan_demo::local_time(day, 0)[..10].replace('-', ""),
        line + 1,
        batch + 1
    );
    for want in [
        "urn:epc:class:lgtin:6920001.000011.RM0012",
        "urn:epc:class:lgtin:6920002.000021.WP0003",
        "urn:epc:class:lgtin:6920003.000031.VP0002",
        "urn:epc:class:lgtin:6920004.000041.CN0004",
        "urn:epc:class:lgtin:6920005.000051.LD0004",
    ] {
        assert!(
            got.contains(&object_key(want)),
            "backward trace of the lot misses {want}"
        );
    }
    // The steps in their order: a step's depth from the lot grows as the genealogy goes back in time.
    let depth = |step: &str| {
        let key = format!("transformation:urn:suyuan:demo:op:{wo}:{step}");
        back.nodes
            .iter()
            .find(|n| idx.name(n.node) == key)
            .map(|n| n.depth)
            .unwrap_or_else(|| panic!("backward trace misses {key}: {got:?}"))
    };
    let (canning, drying, mixing) = (depth("canning"), depth("spray_drying"), depth("mixing"));
    assert!(
        canning < drying && drying < mixing,
        "{canning} {drying} {mixing}"
    );
    // The mix lot sits between mixing and drying, the powder between drying and canning.
    let edge_between = |from: &str, to: &str| {
        back.edges
            .iter()
            .filter_map(|&e| idx.edge(e))
            .any(|e| idx.name(e.from).ends_with(from) && idx.name(e.to).ends_with(to))
    };
    assert!(edge_between(
        ":mixing",
        &format!("MX{}{}{}", &wo[3..11], line + 1, batch + 1)
    ));
    assert!(edge_between(
        &format!("MX{}{}{}", &wo[3..11], line + 1, batch + 1),
        ":spray_drying"
    ));
    assert!(edge_between(
        ":spray_drying",
        &format!("BP{}{}{}", &wo[3..11], line + 1, batch + 1)
    ));
    assert!(edge_between(
        &format!("BP{}{}{}", &wo[3..11], line + 1, batch + 1),
        ":canning"
    ));
    // Not the neighbouring batch's powder, nor any container: the lot was held, never packed.
    assert!(!got.iter().any(|n| n.contains("BP2026101211")), "{got:?}");
    assert!(!got.iter().any(|n| n.starts_with("https://id.gs1.org/00/")));
}

/// A can's backward trace reaches its lot but not its siblings' origins: two canning events of one lot, each
/// with its own powder.
#[test]
fn backward_from_a_can_does_not_fan_out_into_its_siblings_but_the_lot_does() {
    let canning = |i: u32, powder: &str, can: &str| {
        ev(
            json!({"type": "TransformationEvent", "eventTime": format!("2024-01-01T1{i}:00:00Z"),
            "inputQuantityList": [{"epcClass": powder, "quantity": 1, "uom": "KGM"}],
            "outputEPCList": [can], "ilmd": {"cbvmda:lotNumber": "L1"}}),
        )
    };
    let (p1, p2) = (
        "urn:epc:class:lgtin:6901234.020002.P1",
        "urn:epc:class:lgtin:6901234.020002.P2",
    );
    let (c1, c2) = (
        "urn:epc:id:sgtin:6901234.012345.C1",
        "urn:epc:id:sgtin:6901234.012345.C2",
    );
    let idx = index_of(&[canning(0, p1, c1), canning(1, p2, c2)]);
    let lot = object_key("urn:epc:class:lgtin:6901234.012345.L1");
    let of_can = ids_in(
        &idx,
        &idx.backward(&object_key(c1), &TraceOptions::default())
            .expect("can"),
    );
    assert!(of_can.contains(&object_key(p1)) && of_can.contains(&lot));
    assert!(
        !of_can.contains(&object_key(p2)) && !of_can.contains(&object_key(c2)),
        "{of_can:?}"
    );
    let of_lot = ids_in(
        &idx,
        &idx.backward(&lot, &TraceOptions::default()).expect("lot"),
    );
    for want in [p1, p2, c1, c2] {
        assert!(
            of_lot.contains(&object_key(want)),
            "lot's backward trace misses {want}"
        );
    }
    // Time-aware: up to 10:30, the lot had only its first can.
    let early = TraceOptions {
        to_ms: Some(1_704_105_000_000),
        ..Default::default()
    };
    let of_lot = ids_in(&idx, &idx.backward(&lot, &early).expect("lot"));
    assert!(
        of_lot.contains(&object_key(p1)) && !of_lot.contains(&object_key(p2)),
        "{of_lot:?}"
    );
}

#[test]
fn demo_forward_from_a_raw_milk_lot_reaches_exactly_that_days_cans_cases_and_pallets() {
    let events = demo(6);
    let idx = index_of(&events);
    let rm = object_key("urn:epc:class:lgtin:6920001.000011.RM0002"); // received day 1
    let fwd = idx.forward(&rm, &TraceOptions::default()).expect("indexed");
    let got = ids_in(&idx, &fwd);
    let cans: HashSet<String> = events
        .iter()
        .filter(|e| {
            e["sy:operation"] == "canning"
                && e["sy:workOrder"]
                    .as_str()
                    .is_some_and(|w| w.contains("20261002"))
        })
        .flat_map(|e| e["outputEPCList"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.as_str().map(object_key))
        .collect();
    assert_eq!(cans.len(), 1200);
    let got_cans: HashSet<String> = got
        .iter()
        .filter(|n| n.starts_with("https://id.gs1.org/01/06901234123456/21/"))
        .cloned()
        .collect();
    assert_eq!(got_cans, cans, "exactly the 1,200 cans of day 1");
    let cases = got
        .iter()
        .filter(|n| n.starts_with("https://id.gs1.org/00/1"))
        .count();
    let pallets = got
        .iter()
        .filter(|n| n.starts_with("https://id.gs1.org/00/2"))
        .count();
    assert_eq!((cases, pallets), (200, 10));
}

fn ev(v: Value) -> Value {
    let mut v = v;
    v["eventTimeZoneOffset"] = json!("+00:00");
    v
}

fn pack(action: &str, parent: &str, children: &[&str], time: &str) -> Value {
    let mut v = json!({"type": "AggregationEvent", "action": action, "parentID": parent, "eventTime": time});
    if !children.is_empty() {
        v["childEPCs"] = json!(children);
    }
    ev(v)
}

#[test]
fn containment_is_time_aware_and_nested() {
    let can = "urn:epc:id:sgtin:6901234.012345.C1";
    let a = "urn:epc:id:sscc:6901234.1000000001";
    let b = "urn:epc:id:sscc:6901234.1000000002";
    let p_early = "urn:epc:id:sscc:6901234.2000000001";
    let p_late = "urn:epc:id:sscc:6901234.2000000002";
    let events = vec![
        pack("ADD", a, &[can], "2024-01-01T10:00:00Z"),
        pack("ADD", p_early, &[a], "2024-01-01T10:30:00Z"),
        pack("DELETE", a, &[can], "2024-01-01T11:00:00Z"),
        pack("ADD", b, &[can], "2024-01-01T11:05:00Z"),
        pack("ADD", p_late, &[a], "2024-01-01T12:00:00Z"),
    ];
    let idx = index_of(&events);
    let fwd = ids_in(
        &idx,
        &idx.forward(&object_key(can), &TraceOptions::default())
            .expect("indexed"),
    );
    for want in [a, b, p_early] {
        assert!(fwd.contains(&object_key(want)), "forward misses {want}");
    }
    assert!(
        !fwd.contains(&object_key(p_late)),
        "case A went onto the late pallet after the can left it"
    );
    // Backward from the late pallet: case A, but not the can.
    let back = ids_in(
        &idx,
        &idx.backward(&object_key(p_late), &TraceOptions::default())
            .expect("indexed"),
    );
    assert!(back.contains(&object_key(a)) && !back.contains(&object_key(can)));
    let back = ids_in(
        &idx,
        &idx.backward(&object_key(p_early), &TraceOptions::default())
            .expect("indexed"),
    );
    assert!(
        back.contains(&object_key(can)),
        "the can was in case A while A was on the early pallet"
    );
}

#[test]
fn an_error_declaration_takes_the_event_out_of_the_genealogy() {
    let t = ev(
        json!({"type": "TransformationEvent", "eventTime": "2024-01-01T10:00:00Z",
        "eventID": "urn:uuid:11111111-1111-4111-8111-111111111111",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM0001", "quantity": 1, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:6901234.012345.X1"]}),
    );
    let mut decl = t.clone();
    decl["errorDeclaration"] =
        json!({"declarationTime": "2024-01-02T00:00:00Z", "reason": "incorrect_data"});
    let can = object_key("urn:epc:id:sgtin:6901234.012345.X1");
    let idx = index_of(std::slice::from_ref(&t));
    assert_eq!(
        idx.backward(&can, &TraceOptions::default())
            .map(|t| t.nodes.len()),
        Some(3)
    );
    let idx = index_of(&[t, decl]);
    assert_eq!(
        idx.backward(&can, &TraceOptions::default())
            .map(|t| t.nodes.len()),
        Some(1)
    );
}

// ---- property test against a naive reference ----

#[derive(Debug, Clone)]
enum Op {
    Transform { inputs: Vec<u8>, outputs: Vec<u8> },
    Pack { parent: u8, children: Vec<u8> },
    Unpack { parent: u8, children: Vec<u8> },
}

fn node_uri(n: u8) -> String {
    // 0..7 are lots, 8..15 units, 16..23 cases.
    match n {
        0..8 => format!("urn:epc:class:lgtin:6901234.012345.L{n}"),
        8..16 => format!("urn:epc:id:sgtin:6901234.012345.U{n}"),
        _ => format!("urn:epc:id:sscc:6901234.10000000{:02}", n),
    }
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            prop::collection::vec(0u8..16, 1..3),
            prop::collection::vec(0u8..16, 1..3)
        )
            .prop_map(|(inputs, outputs)| Op::Transform { inputs, outputs }),
        (16u8..24, prop::collection::vec(8u8..24, 1..3))
            .prop_map(|(parent, children)| Op::Pack { parent, children }),
        (16u8..24, prop::collection::vec(8u8..24, 0..2))
            .prop_map(|(parent, children)| Op::Unpack { parent, children }),
    ]
}

fn to_event(op: &Op, i: usize) -> Value {
    let time = format!("2024-01-01T{:02}:{:02}:00Z", i / 60, i % 60);
    let id = format!("urn:uuid:00000000-0000-4000-8000-{i:012}");
    let uris = |v: &[u8]| v.iter().map(|n| node_uri(*n)).collect::<Vec<_>>();
    let mut v = match op {
        Op::Transform { inputs, outputs } => {
            let (ic, ie): (Vec<u8>, Vec<u8>) = inputs.iter().partition(|n| **n < 8);
            let (oc, oe): (Vec<u8>, Vec<u8>) = outputs.iter().partition(|n| **n < 8);
            let q = |v: &[u8]| {
                v.iter()
                    .map(|n| json!({"epcClass": node_uri(*n)}))
                    .collect::<Vec<_>>()
            };
            json!({"type": "TransformationEvent", "inputEPCList": uris(&ie), "inputQuantityList": q(&ic),
                   "outputEPCList": uris(&oe), "outputQuantityList": q(&oc)})
        }
        Op::Pack { parent, children } => {
            json!({"type": "AggregationEvent", "action": "ADD", "parentID": node_uri(*parent), "childEPCs": uris(children)})
        }
        Op::Unpack { parent, children } => {
            let mut v = json!({"type": "AggregationEvent", "action": "DELETE", "parentID": node_uri(*parent)});
            if !children.is_empty() {
                v["childEPCs"] = json!(uris(children));
            }
            v
        }
    };
    v["eventTime"] = json!(time);
    v["eventTimeZoneOffset"] = json!("+00:00");
    v["eventID"] = json!(id);
    v
}

/// The reference: edges rebuilt from the history without the declared events, then a fixpoint over
/// (node, window) states with the documented step rules.
fn naive(ops: &[(Op, bool)], start: &str, forward: bool) -> BTreeSet<String> {
    #[derive(Clone)]
    struct E {
        from: String,
        to: String,
        flow: bool,
        start: i64,
        end: i64,
    }
    let mut edges: Vec<E> = Vec::new();
    for (i, (op, declared)) in ops.iter().enumerate() {
        if *declared {
            continue;
        }
        let t = i as i64 * 60_000 + 1_704_067_200_000;
        match op {
            Op::Transform { inputs, outputs } => {
                let tx = format!("transformation:urn:uuid:00000000-0000-4000-8000-{i:012}");
                for n in inputs {
                    edges.push(E {
                        from: object_key(&node_uri(*n)),
                        to: tx.clone(),
                        flow: true,
                        start: t,
                        end: t + 1,
                    });
                }
                for n in outputs {
                    edges.push(E {
                        from: tx.clone(),
                        to: object_key(&node_uri(*n)),
                        flow: true,
                        start: t,
                        end: t + 1,
                    });
                }
            }
            Op::Pack { parent, children } => {
                let p = object_key(&node_uri(*parent));
                for c in children {
                    let c = object_key(&node_uri(*c));
                    for e in edges
                        .iter_mut()
                        .filter(|e| !e.flow && e.from == c && e.to == p && e.end == i64::MAX)
                    {
                        e.end = t;
                    }
                    edges.push(E {
                        from: c,
                        to: p.clone(),
                        flow: false,
                        start: t,
                        end: i64::MAX,
                    });
                }
            }
            Op::Unpack { parent, children } => {
                let p = object_key(&node_uri(*parent));
                let cs: Vec<String> = children.iter().map(|c| object_key(&node_uri(*c))).collect();
                for e in edges.iter_mut() {
                    if !e.flow
                        && e.to == p
                        && e.end == i64::MAX
                        && (cs.is_empty() || cs.contains(&e.from))
                    {
                        e.end = t;
                    }
                }
            }
        }
    }
    let mut states: Vec<(String, i64, i64)> = vec![(start.to_string(), i64::MIN, i64::MAX)];
    loop {
        let mut new = Vec::new();
        for (n, lo, hi) in &states {
            for e in &edges {
                let next = if e.flow {
                    if forward && e.from == *n && e.start >= *lo && e.start < *hi {
                        Some((e.to.clone(), e.start, i64::MAX))
                    } else if !forward && e.to == *n && e.start < *hi {
                        Some((e.from.clone(), i64::MIN, e.start + 1))
                    } else {
                        None
                    }
                } else {
                    let (a, b) = ((*lo).max(e.start), (*hi).min(e.end));
                    let ends = if forward {
                        (&e.from, &e.to)
                    } else {
                        (&e.to, &e.from)
                    };
                    (ends.0 == n && a < b).then(|| (ends.1.clone(), a, b))
                };
                if let Some(s) = next
                    && !states
                        .iter()
                        .chain(&new)
                        .any(|(m, a, b)| *m == s.0 && *a <= s.1 && s.2 <= *b)
                {
                    new.push(s);
                }
            }
        }
        if new.is_empty() {
            break;
        }
        states.extend(new);
    }
    states.into_iter().map(|s| s.0).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn index_matches_the_naive_reference(
        ops in prop::collection::vec((op_strategy(), prop::bool::weighted(0.15)), 1..25),
        start in 0u8..24,
    ) {
        let mut values: Vec<Value> = ops.iter().enumerate().map(|(i, (op, _))| to_event(op, i)).collect();
        for (i, (op, declared)) in ops.iter().enumerate() {
            if *declared {
                let mut d = to_event(op, i);
                d["errorDeclaration"] = json!({"declarationTime": "2024-02-01T00:00:00Z"});
                values.push(d);
            }
        }
        let idx = index_of(&values);
        let key = object_key(&node_uri(start));
        let reloaded = round_trip(&values);
        for forward in [true, false] {
            let opts = TraceOptions::default();
            let (a, b) = if forward {
                (idx.forward(&key, &opts), reloaded.forward(&key, &opts))
            } else {
                (idx.backward(&key, &opts), reloaded.backward(&key, &opts))
            };
            prop_assert_eq!(a, b, "snapshot answers differ, forward={}", forward);
        }
        for forward in [true, false] {
            let got: BTreeSet<String> = match if forward { idx.forward(&key, &TraceOptions::default()) } else { idx.backward(&key, &TraceOptions::default()) } {
                Some(t) => ids_in(&idx, &t),
                None => BTreeSet::from([key.clone()]),
            };
            let want = naive(&ops, &key, forward);
            prop_assert_eq!(&got, &want, "forward={} from {}", forward, key);
        }
    }
}

#[test]
fn a_snapshot_reads_back_the_same_index_and_damage_is_detected() {
    let events = demo(3);
    let mut idx = index_of(&events);
    idx.compact();
    let mut bytes = Vec::new();
    idx.write_snapshot(&mut bytes, b"leaf").expect("write");
    let (back, header) =
        TraceIndex::read_snapshot(|| Ok(std::io::Cursor::new(&bytes[..]))).expect("read");
    assert_eq!(header.last_seq, events.len() as u64);
    assert_eq!(
        (back.node_count(), back.edge_count()),
        (idx.node_count(), idx.edge_count())
    );
    let lot = object_key("urn:epc:class:lgtin:6920001.000011.RM0001");
    let opts = TraceOptions::default();
    assert_eq!(back.forward(&lot, &opts), idx.forward(&lot, &opts));
    assert!(
        idx.forward(&lot, &opts)
            .is_some_and(|t| t.nodes.len() > 1000)
    );
    // Any damaged byte, a truncation or a foreign file is refused.
    for at in [0, 13, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        assert!(
            TraceIndex::read_snapshot(|| Ok(std::io::Cursor::new(&bad[..]))).is_err(),
            "damage at byte {at} went unnoticed"
        );
    }
    let cut = &bytes[..bytes.len() - 9];
    assert!(TraceIndex::read_snapshot(|| Ok(std::io::Cursor::new(cut))).is_err());
    // Uncompacted indexes are not written half.
    let mut fresh = index_of(&events);
    assert!(fresh.write_snapshot(&mut Vec::new(), b"").is_err());
    fresh.compact();
    assert!(fresh.write_snapshot(&mut Vec::new(), b"").is_ok());
}

#[test]
fn large_traces_give_the_same_answers_as_small_ones() {
    // 6,000 cans from one lot, packed 10 to a case; the last 100 cases are packed after a later lot's
    // transformation and unpacked again, so windows matter past the point where traversals switch from a
    // hash map to an array of positions.
    let can = |i: usize| format!("urn:epc:id:sgtin:6901234.012345.C{i}");
    let case = |i: usize| format!("urn:epc:id:sscc:6901234.{:010}", 2_000_000 + i);
    let cans: Vec<String> = (0..6000).map(can).collect();
    let mut events = vec![ev(
        json!({"type": "TransformationEvent", "eventTime": "2024-01-01T08:00:00Z",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.BIG1", "quantity": 1, "uom": "KGM"}],
        "outputEPCList": cans}),
    )];
    for c in 0..600 {
        let children: Vec<&str> = cans[c * 10..c * 10 + 10]
            .iter()
            .map(String::as_str)
            .collect();
        events.push(pack("ADD", &case(c), &children, "2024-01-01T09:00:00Z"));
    }
    // The first 100 cases are also put on a pallet, but only after they were emptied.
    for c in 0..100 {
        events.push(pack("DELETE", &case(c), &[], "2024-01-01T10:00:00Z"));
        events.push(pack(
            "ADD",
            "urn:epc:id:sscc:6901234.0999999999",
            &[&case(c)],
            "2024-01-01T11:00:00Z",
        ));
    }
    let idx = index_of(&events);
    let lot = object_key("urn:epc:class:lgtin:6920001.000011.BIG1");
    let fwd = ids_in(
        &idx,
        &idx.forward(&lot, &TraceOptions::default())
            .expect("indexed"),
    );
    // lot + transformation + cans + cases, and not the pallet (its cases were empty by then).
    assert_eq!(fwd.len(), 1 + 1 + 6000 + 600);
    assert!(!fwd.contains(&object_key("urn:epc:id:sscc:6901234.0999999999")));
    // Depth limits hold on the large path too.
    let shallow = idx
        .forward(
            &lot,
            &TraceOptions {
                max_depth: Some(2),
                ..Default::default()
            },
        )
        .expect("indexed");
    assert_eq!(shallow.nodes.len(), 1 + 1 + 6000);
}
