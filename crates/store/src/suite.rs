//! The storage conformance suite: every backend runs these same checks (see `tests/it`).
//! Each check gets a fresh, empty store.

pub use crate::suite_commit::{commit_is_all_or_nothing, outbox_entries_and_reactor_leases};
pub use crate::suite_ledger::{
    ledger_records_are_the_recorded_bytes, tree_hashes_come_back_in_the_order_asked,
};
pub use crate::suite_search::search_index_finds_serials_lots_ssccs_and_transactions;
use crate::{NewEvent, Store, StoreError, record_canonical};
use serde_json::{Value, json};
use std::sync::Arc;

mod records;

pub use records::*;

/// A store under test.
pub type TestStore = Arc<dyn Store>;

/// The PostgreSQL URL tests run against (`SUYUAN_TEST_PG_URL`). Unset, PostgreSQL tests skip and say so,
/// unless `SUYUAN_REQUIRE_SERVICES` is set (as `.ci/run` does): then a missing URL fails the test instead of
/// letting it pass green.
pub fn pg_url() -> Option<String> {
    match std::env::var("SUYUAN_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("SUYUAN_REQUIRE_SERVICES").is_some() => {
            panic!(
                "SUYUAN_TEST_PG_URL is not set, and SUYUAN_REQUIRE_SERVICES says PostgreSQL must be tested"
            )
        }
        _ => {
            eprintln!("skipped PostgreSQL: SUYUAN_TEST_PG_URL is not set");
            None
        }
    }
}

/// Parses one event (JSON-LD) and prepares it for appending.
pub fn prepare(v: Value) -> NewEvent {
    let mut events =
        suyuan_epcis::parse_capture(&v).unwrap_or_else(|e| panic!("test event rejected: {e}"));
    NewEvent::from_event(events.remove(0))
}

/// An ObjectEvent observing `serial` of the test GTIN at `minute` past 08:00.
pub fn observe(serial: u32, minute: u32) -> Value {
    json!({
        "type": "ObjectEvent",
        "eventTime": format!("2024-03-01T08:{:02}:00.000+08:00", minute % 60),
        "eventTimeZoneOffset": "+08:00",
        "epcList": [format!("urn:epc:id:sgtin:6901234.012345.{serial}")],
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"}
    })
}

fn with_id(mut v: Value, id: &str) -> Value {
    v["eventID"] = json!(id);
    v
}

/// Appending assigns gapless seqs from 1, and every event reads back unchanged with its hashes.
pub async fn append_and_read_back(s: TestStore) {
    let batch: Vec<NewEvent> = (0..5)
        .map(|i| {
            prepare(with_id(
                observe(i, i),
                &format!("urn:uuid:00000000-0000-4000-8000-00000000000{i}"),
            ))
        })
        .collect();
    let bodies: Vec<String> = batch.iter().map(|e| e.body.clone()).collect();
    let out = s.append(batch).await.expect("append");
    assert_eq!(
        out.iter().map(|a| a.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert!(out.iter().all(|a| !a.duplicate));
    let back = s.events_after(0, 100).await.expect("read");
    assert_eq!(back.len(), 5);
    for (i, e) in back.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(
            e.event,
            serde_json::from_str::<Value>(&bodies[i]).expect("stored body"),
            "body of seq {} changed",
            e.seq
        );
        assert_eq!(e.leaf_hash, out[i].leaf_hash);
    }
    let one = s
        .event_by_id("urn:uuid:00000000-0000-4000-8000-000000000003")
        .await
        .expect("by id")
        .expect("found");
    assert_eq!(one.seq, 4);
    assert!(
        s.event_by_id("urn:uuid:none")
            .await
            .expect("by id")
            .is_none()
    );
    let page = s.events_after(2, 2).await.expect("page");
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    let picked = s.events_by_seq(&[4, 2, 99]).await.expect("by seq");
    assert_eq!(picked.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 4]);
    let recent = s.recent_events(2).await.expect("recent");
    assert_eq!(recent.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 4]);
    let stats = s.stats().await.expect("stats");
    assert_eq!(
        (stats.events, stats.last_seq, stats.outbox_pending),
        (5, 5, 5)
    );
    assert!(stats.bytes > 0);
}

/// The leaf hash covers seq, record time, eventID, event hash and the whole event.
pub async fn leaf_hash_covers_the_record(s: TestStore) {
    let out = s
        .append(vec![prepare(observe(1, 1))])
        .await
        .expect("append");
    let e = s.events_after(0, 1).await.expect("read").remove(0);
    let jcs = suyuan_ledger::jcs::canonical_json(&e.event);
    let canonical = record_canonical(e.seq, &e.record_time, &e.event_id, &e.event_hash, &jcs);
    assert_eq!(hex_leaf(&canonical), out[0].leaf_hash);
    let full = suyuan_ledger::jcs::canonical_json(&json!({
        "seq": e.seq, "recordTime": e.record_time, "eventID": e.event_id, "eventHash": e.event_hash, "event": e.event
    }));
    assert_eq!(
        full, canonical,
        "record bytes must be the JCS of the whole record"
    );
}

fn hex_leaf(s: &str) -> String {
    suyuan_ledger::to_hex(&suyuan_ledger::leaf_hash(s.as_bytes()))
}

/// The same eventID twice is stored once; the second answer points at the first.
pub async fn repeat_is_stored_once(s: TestStore) {
    let e = with_id(
        observe(7, 7),
        "urn:uuid:11111111-1111-4111-8111-111111111111",
    );
    let first = s.append(vec![prepare(e.clone())]).await.expect("first");
    let second = s
        .append(vec![prepare(e.clone()), prepare(observe(8, 8))])
        .await
        .expect("second");
    assert!(!first[0].duplicate);
    assert!(second[0].duplicate);
    assert_eq!(second[0].seq, first[0].seq);
    assert_eq!(second[0].leaf_hash, first[0].leaf_hash);
    assert_eq!(second[1].seq, 2, "the repeat takes no seq");
    assert_eq!(s.stats().await.expect("stats").events, 2);
}

/// Without an eventID the canonical hash identifies the event, so a resend is recognised too.
pub async fn event_without_id_dedups_by_hash(s: TestStore) {
    let a = s.append(vec![prepare(observe(9, 9))]).await.expect("first");
    assert!(a[0].event_id.starts_with("ni:///sha-256;"));
    let b = s.append(vec![prepare(observe(9, 9))]).await.expect("again");
    assert!(b[0].duplicate);
    assert_eq!(b[0].seq, a[0].seq);
}

/// A repeat within one batch is answered like a repeat of a stored event.
pub async fn repeat_within_a_batch(s: TestStore) {
    let e = observe(3, 3);
    let out = s
        .append(vec![prepare(e.clone()), prepare(e)])
        .await
        .expect("append");
    assert_eq!((out[0].seq, out[1].seq, out[1].duplicate), (1, 1, true));
}

/// An eventID reused for different content rejects the whole batch and stores nothing of it.
pub async fn conflict_rejects_the_batch(s: TestStore) {
    let id = "urn:uuid:22222222-2222-4222-8222-222222222222";
    s.append(vec![prepare(with_id(observe(1, 1), id))])
        .await
        .expect("first");
    let err = s
        .append(vec![
            prepare(observe(2, 2)),
            prepare(with_id(observe(1, 30), id)),
        ])
        .await
        .expect_err("conflict must be rejected");
    assert!(
        matches!(err, StoreError::Conflict { seq: 1, .. }),
        "got {err:?}"
    );
    assert_eq!(
        s.stats().await.expect("stats").events,
        1,
        "nothing of the rejected batch may be stored"
    );
    let after = s.append(vec![prepare(observe(2, 2))]).await.expect("next");
    assert_eq!(after[0].seq, 2, "seqs stay gapless after a rejected batch");
}

/// An error declaration for a stored event is stored as a new event; lookups by eventID find the original.
pub async fn error_declaration_is_a_new_event(s: TestStore) {
    let id = "urn:uuid:33333333-3333-4333-8333-333333333333";
    s.append(vec![prepare(with_id(observe(1, 1), id))])
        .await
        .expect("original");
    let mut decl = with_id(observe(1, 1), id);
    decl["errorDeclaration"] =
        json!({"declarationTime": "2024-03-02T08:00:00Z", "reason": "incorrect_data"});
    let out = s.append(vec![prepare(decl)]).await.expect("declaration");
    assert_eq!((out[0].seq, out[0].duplicate), (2, false));
    assert_eq!(
        s.event_by_id(id).await.expect("lookup").expect("found").seq,
        1
    );
}

fn aggregation(action: &str, parent: &str, children: &[&str], minute: u32) -> Value {
    let mut v = json!({
        "type": "AggregationEvent",
        "eventTime": format!("2024-03-01T09:{minute:02}:00+08:00"),
        "eventTimeZoneOffset": "+08:00",
        "parentID": parent,
        "action": action,
        "bizStep": if action == "ADD" { "packing" } else { "unpacking" },
        "bizLocation": {"id": "urn:epc:id:sgln:6901234.00002.0"}
    });
    if !children.is_empty() {
        v["childEPCs"] = json!(children);
    }
    v
}

/// Object state follows location, disposition and containment; history lists every event naming it.
pub async fn object_state_projection(s: TestStore) {
    let case_a = "urn:epc:id:sscc:6901234.0000000017";
    let case_b = "urn:epc:id:sscc:6901234.0000000024";
    let can1 = "urn:epc:id:sgtin:6901234.012345.1";
    let can2 = "urn:epc:id:sgtin:6901234.012345.2";
    let key = suyuan_core::projection::object_key;
    s.append(vec![
        prepare(observe(1, 0)),
        prepare(aggregation("ADD", case_a, &[can1, can2], 1)),
    ])
    .await
    .expect("pack");
    let st = s.object(&key(can1)).await.expect("state").expect("known");
    assert_eq!(st.container.as_deref(), Some(key(case_a).as_str()));
    assert_eq!(
        st.location.as_deref(),
        Some("https://id.gs1.org/414/6901234000023")
    );
    assert_eq!((st.first_seq, st.last_seq, st.event_count), (1, 2, 2));
    assert_eq!(
        s.contents(&key(case_a), 10).await.expect("contents").len(),
        2
    );
    // Unpack one can and repack it into case B; the other stays in A.
    s.append(vec![prepare(aggregation("DELETE", case_a, &[can1], 2))])
        .await
        .expect("unpack");
    s.append(vec![prepare(aggregation("ADD", case_b, &[can1], 3))])
        .await
        .expect("repack");
    let st1 = s.object(&key(can1)).await.expect("state").expect("known");
    let st2 = s.object(&key(can2)).await.expect("state").expect("known");
    assert_eq!(st1.container.as_deref(), Some(key(case_b).as_str()));
    assert_eq!(st2.container.as_deref(), Some(key(case_a).as_str()));
    // A late unpack from A must not take can1 out of B.
    s.append(vec![prepare(aggregation("DELETE", case_a, &[can1], 4))])
        .await
        .expect("stale unpack");
    let st1 = s.object(&key(can1)).await.expect("state").expect("known");
    assert_eq!(st1.container.as_deref(), Some(key(case_b).as_str()));
    // Unpacking A without a child list empties it.
    s.append(vec![prepare(aggregation("DELETE", case_a, &[], 5))])
        .await
        .expect("empty A");
    assert_eq!(
        s.object(&key(can2))
            .await
            .expect("state")
            .expect("known")
            .container,
        None
    );
    assert!(
        s.contents(&key(case_a), 10)
            .await
            .expect("contents")
            .is_empty()
    );
    // Disposition.
    let mut hold = observe(2, 6);
    hold["disposition"] = json!("non_conformant");
    s.append(vec![prepare(hold)]).await.expect("hold");
    let st2 = s.object(&key(can2)).await.expect("state").expect("known");
    assert_eq!(st2.disposition.as_deref(), Some("non_conformant"));
    let hist = s.object_history(&key(can1), 0, 100).await.expect("history");
    assert_eq!(
        hist.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        s.object_history(&key(can1), 2, 2)
            .await
            .expect("page")
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert!(
        s.object("https://id.gs1.org/01/06901234123456/21/404")
            .await
            .expect("state")
            .is_none()
    );
    let many = s
        .objects(&[
            key(can1),
            "https://id.gs1.org/01/06901234123456/21/404".into(),
            key(case_a),
        ])
        .await
        .expect("objects");
    let mut ids: Vec<String> = many.into_iter().map(|o| o.id).collect();
    ids.sort_unstable();
    let mut want = vec![key(can1), key(case_a)];
    want.sort_unstable();
    assert_eq!(ids, want);
}

/// Concurrent writers get distinct, gapless seqs and every acknowledged event is stored.
pub async fn concurrent_appends_are_gapless(s: TestStore) {
    let mut tasks = Vec::new();
    for w in 0..8u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25u32 {
                let out = s
                    .append(vec![prepare(observe(w * 1000 + i, i))])
                    .await
                    .expect("append");
                seqs.push(out[0].seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
    assert_eq!(s.events_after(0, 1000).await.expect("read").len(), 200);
}

/// Extension fields in any namespace survive storage exactly.
pub async fn extensions_are_preserved(s: TestStore) {
    let v = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": "https://suyuan.dev/ns#"}, {"acme": "https://acme.example/epcis/"}],
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sgtin:6901234.012345.77"],
        "action": "OBSERVE",
        "sy:operator": "张伟",
        "acme:params": {"acme:temp": 72.5, "acme:list": ["b", "a"], "acme:flag": true}
    });
    s.append(vec![prepare(v)]).await.expect("append");
    let e = s.events_after(0, 1).await.expect("read").remove(0);
    assert_eq!(e.event["sy:operator"], json!("张伟"));
    assert_eq!(
        e.event["acme:params"],
        json!({"acme:temp": 72.5, "acme:list": ["b", "a"], "acme:flag": true})
    );
    let ctx = e.event["@context"].to_string();
    assert!(
        ctx.contains("https://suyuan.dev/ns#") && ctx.contains("https://acme.example/epcis/"),
        "{ctx}"
    );
    let reparsed = suyuan_epcis::parse_capture(&e.event).expect("stored event parses again");
    assert_eq!(
        suyuan_epcis::event_hash(&reparsed[0]),
        e.event_hash,
        "hash is stable across storage"
    );
}

/// The party an object was handed to follows shipping and receiving destinations (possessing party first).
pub async fn party_follows_destinations(s: TestStore) {
    let mut ship = observe(1, 1);
    ship["bizStep"] = json!("shipping");
    ship["destinationList"] = json!([
        {"type": "owning_party", "destination": "urn:epc:id:pgln:6930001.00000"},
        {"type": "possessing_party", "destination": "urn:epc:id:pgln:6930002.00000"}
    ]);
    s.append(vec![prepare(ship)]).await.expect("ship");
    let key = suyuan_core::projection::object_key("urn:epc:id:sgtin:6901234.012345.1");
    let st = s.object(&key).await.expect("state").expect("known");
    assert_eq!(
        st.party.as_deref(),
        Some("https://id.gs1.org/417/6930002000002")
    );
    s.append(vec![prepare(observe(1, 2))])
        .await
        .expect("observe");
    let st = s.object(&key).await.expect("state").expect("known");
    assert_eq!(
        st.party.as_deref(),
        Some("https://id.gs1.org/417/6930002000002"),
        "an event without destination keeps it"
    );
}

/// `record_hashes` answers the stored event and leaf hashes of the seqs asked for, skipping unknown ones.
pub async fn record_hashes_match_the_events(s: TestStore) {
    let batch: Vec<NewEvent> = (0..5).map(|i| prepare(observe(i, i))).collect();
    s.append(batch).await.expect("append");
    let got = s.record_hashes(&[4, 2, 99, 2]).await.expect("hashes");
    let stored = s.events_by_seq(&[2, 4]).await.expect("events");
    assert_eq!(
        got,
        stored
            .iter()
            .map(|e| (e.seq, e.event_hash.clone(), e.leaf_hash.clone()))
            .collect::<Vec<_>>()
    );
}

/// `events_by_step` answers the events of the given business steps within the event-time window, in
/// event-time order (ties by seq), after a position, at most `limit`.
pub async fn events_by_step_and_time(s: TestStore) {
    // Event times out of seq order, with ties (seq = i + 1).
    let minutes = [4, 7, 2, 4, 4, 11, 6, 1, 8, 3, 10, 4];
    let mut batch = Vec::new();
    for (i, m) in minutes.iter().enumerate() {
        let mut e = observe(i as u32, *m);
        e["bizStep"] = json!(["shipping", "receiving", "inspecting"][i % 3]);
        batch.push(prepare(e));
    }
    s.append(batch).await.expect("append");
    let ms = |m: u32| {
        let t = suyuan_core::time::parse_timestamp(&format!("2024-03-01T08:{m:02}:00.000+08:00"))
            .expect("time");
        suyuan_core::time::unix_millis(&t)
    };
    let seqs = |v: Vec<crate::StoredEvent>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
    let start = crate::StepPosition::START;
    let shipping = vec!["shipping".to_string()];
    assert_eq!(
        seqs(
            s.events_by_step(&shipping, None, None, start, 100)
                .await
                .expect("q")
        ),
        [10, 1, 4, 7]
    );
    assert_eq!(
        seqs(
            s.events_by_step(&shipping, Some(ms(4)), Some(ms(6)), start, 100)
                .await
                .expect("q")
        ),
        [1, 4]
    );
    let two = vec!["shipping".to_string(), "receiving".to_string()];
    let first = s
        .events_by_step(&two, None, Some(ms(6)), start, 3)
        .await
        .expect("q");
    assert_eq!(seqs(first.clone()), [8, 10, 1]);
    let after = crate::StepPosition::of(&first[2]);
    assert_eq!(
        after,
        crate::StepPosition {
            event_time_ms: ms(4),
            seq: 1
        }
    );
    assert_eq!(
        seqs(
            s.events_by_step(&two, None, Some(ms(6)), after, 3)
                .await
                .expect("q")
        ),
        [4, 5]
    );
    assert!(
        s.events_by_step(&["packing".to_string()], None, None, start, 10)
            .await
            .expect("q")
            .is_empty()
    );
}

/// `events_at_places` answers the events whose read point or business location is one of the places (in any
/// of its spellings), in seq order after a seq, at most `limit`; an event at two of them comes once.
pub async fn events_at_places_in_seq_order(s: TestStore) {
    let loc = |n: u32| format!("urn:epc:id:sgln:6901234.00001.{n}");
    let mut batch = Vec::new();
    for i in 0..9u32 {
        let mut e = observe(i, i);
        e["readPoint"] = json!({"id": loc(i % 3)});
        if i == 4 {
            e["bizLocation"] = json!({"id": loc(0)});
        }
        batch.push(prepare(e));
    }
    s.append(batch).await.expect("append");
    let key = |n: u32| suyuan_core::projection::object_key(&loc(n));
    let seqs = |v: Vec<crate::StoredEvent>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(s.events_at_place(&key(0), 0, 10).await.expect("q")),
        [1, 4, 5, 7]
    );
    assert_eq!(
        seqs(
            s.events_at_places(&[key(0), key(1)], 1, 4)
                .await
                .expect("q")
        ),
        [2, 4, 5, 7],
        "seq 5 is at both places and comes once"
    );
    assert!(
        s.events_at_place(&key(9), 0, 10)
            .await
            .expect("q")
            .is_empty()
    );
}
/// Every check, by name, for the test harness of each backend.
#[macro_export]
macro_rules! for_each_check {
    ($m:ident) => {
        $m!(
            append_and_read_back,
            leaf_hash_covers_the_record,
            repeat_is_stored_once,
            event_without_id_dedups_by_hash,
            repeat_within_a_batch,
            conflict_rejects_the_batch,
            error_declaration_is_a_new_event,
            object_state_projection,
            concurrent_appends_are_gapless,
            extensions_are_preserved,
            scans_are_counted_per_object,
            party_follows_destinations,
            definitions_are_versioned,
            sequences_are_reserved_in_disjoint_blocks,
            codes_register_all_or_none,
            record_hashes_match_the_events,
            accounts_and_access_log,
            events_by_step_and_time,
            master_data_merges_by_type_and_id,
            events_at_places_in_seq_order,
            search_index_finds_serials_lots_ssccs_and_transactions,
            commit_is_all_or_nothing,
            outbox_entries_and_reactor_leases,
            ledger_records_are_the_recorded_bytes,
            tree_hashes_come_back_in_the_order_asked
        );
    };
}
