//! The ledger-record and tree-hash checks of the storage conformance suite (see [`crate::suite`]).

use crate::suite::{TestStore, observe, prepare};

/// Ledger records are the stored events as recorded: the body is the JCS text the leaf was made of, so the
/// leaf recomputed from a record is the stored leaf hash, and pages follow seq.
pub async fn ledger_records_are_the_recorded_bytes(s: TestStore) {
    let batch = (1..=5).map(|i| prepare(observe(i, i))).collect();
    let out = s.append(batch).await.expect("append");
    let first = s.ledger_records(0, 3).await.expect("records");
    let rest = s.ledger_records(3, 100).await.expect("records");
    let all: Vec<_> = first.into_iter().chain(rest).collect();
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let events = s.events_after(0, 10).await.expect("events");
    for ((r, a), e) in all.iter().zip(&out).zip(&events) {
        assert_eq!(r.event_id, e.event_id);
        assert_eq!(r.event_hash, a.event_hash);
        assert_eq!(r.record_time, a.record_time);
        assert_eq!(r.body, suyuan_ledger::jcs::canonical_json(&e.event));
        assert_eq!(hex::encode(r.recomputed_leaf()), a.leaf_hash);
        assert_eq!(r.leaf_hash, a.leaf_hash);
    }
    assert!(s.ledger_records(5, 10).await.expect("empty").is_empty());
}

/// Stored tree hashes come back in the order asked, runs of consecutive indexes and single ones alike; an
/// index not stored is an error, not a gap.
pub async fn tree_hashes_come_back_in_the_order_asked(s: TestStore) {
    let batch = (1..=4).map(|i| prepare(observe(i, i))).collect();
    s.append(batch).await.expect("append");
    // Four leaves store seven hashes (indexes 0–6).
    let hashes: Vec<[u8; 32]> = (0..7u8).map(|i| [i + 1; 32]).collect();
    s.extend_tree(0, 4, hashes).await.expect("extend");
    let ask = [2, 3, 4, 0, 6, 5, 6];
    let got = s.tree_hashes(&ask).await.expect("hashes");
    let want: Vec<[u8; 32]> = ask.iter().map(|&i| [i as u8 + 1; 32]).collect();
    assert_eq!(got, want);
    assert!(
        s.tree_hashes(&[5, 6, 7]).await.is_err(),
        "index 7 is not stored"
    );
    assert!(s.tree_hashes(&[9]).await.is_err(), "index 9 is not stored");
}
