//! The commit and outbox checks of the storage conformance suite (see [`crate::suite`]).

use crate::suite::{TestStore, observe, prepare};
use crate::{Commit, StoreError, Write};
use serde_json::json;
use suyuan_epcis::masterdata::VocabularyElement;

fn element(id: &str, name: &str) -> VocabularyElement {
    let doc = json!({"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [{"id": id, "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": name}]}]});
    let doc = json!({"epcisHeader": {"epcisMasterData": {"vocabularyList": [doc]}}});
    suyuan_epcis::masterdata::from_document(&doc)
        .expect("test master data")
        .remove(0)
}

/// A commit is all or nothing: a write failing after the events, the records, a definition, a revocation and
/// the master data leaves no event, no projection, no search term, no outbox row and none of the records; a
/// commit that succeeds has all of them.
pub async fn commit_is_all_or_nothing(s: TestStore) {
    let loc = "urn:epc:id:sgln:6901234.00001.0";
    let writes = |fail: bool| {
        let mut w = vec![
            Write::PutRecord {
                kind: "user".into(),
                id: "li".into(),
                doc: json!({"role": "operator"}),
                create: true,
            },
            Write::Definition {
                kind: "coding-rule".into(),
                name: "r".into(),
                version: 1,
                definition: json!({"template": "{SEQ:4}"}),
            },
            Write::MasterData(vec![element(loc, "车间")]),
        ];
        if fail {
            w.push(Write::Fail("test".into()));
        }
        w
    };
    let failed = s
        .commit(Commit {
            events: vec![prepare(observe(1, 1)), prepare(observe(2, 2))],
            writes: writes(true),
        })
        .await;
    assert!(matches!(failed, Err(StoreError::Injected(_))), "{failed:?}");
    let stats = s.stats().await.expect("stats");
    assert_eq!(
        (stats.events, stats.objects, stats.outbox_pending),
        (0, 0, 0)
    );
    assert!(s.account("user", "li").await.expect("read").is_none());
    assert!(
        s.definition("coding-rule", "r", None)
            .await
            .expect("read")
            .is_none()
    );
    assert!(s.master_data(&[]).await.expect("read").is_empty());
    assert!(s.search_terms("1", 10).await.expect("search").is_empty());
    assert!(s.outbox_after(0, 10).await.expect("outbox").is_empty());

    let ok = s
        .commit(Commit {
            events: vec![prepare(observe(1, 1)), prepare(observe(2, 2))],
            writes: writes(false),
        })
        .await
        .expect("commit");
    assert_eq!(ok.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(s.stats().await.expect("stats").objects, 2);
    assert!(s.account("user", "li").await.expect("read").is_some());
    assert_eq!(
        s.definition("coding-rule", "r", None)
            .await
            .expect("read")
            .map(|d| d.version),
        Some(1)
    );
    assert_eq!(s.master_data(&[]).await.expect("read").len(), 1);
    // The same version again, or a record created twice, fails the whole commit and stores no event.
    for w in [writes(false).swap_remove(1), writes(false).swap_remove(0)] {
        let again = s
            .commit(Commit {
                events: vec![prepare(observe(3, 3))],
                writes: vec![w],
            })
            .await;
        assert!(matches!(again, Err(StoreError::Exists { .. })), "{again:?}");
    }
    assert_eq!(s.stats().await.expect("stats").events, 2);
    // Revoking or deleting what is not there fails the commit.
    for w in [
        Write::RevokeCode {
            code: "nope".into(),
            reason: "test".into(),
        },
        Write::DeleteRecord {
            kind: "grant".into(),
            id: "nope".into(),
            must_exist: true,
        },
    ] {
        let missing = s
            .commit(Commit {
                events: vec![prepare(observe(4, 4))],
                writes: vec![w],
            })
            .await;
        assert!(
            matches!(missing, Err(StoreError::Missing { .. })),
            "{missing:?}"
        );
    }
    assert_eq!(s.stats().await.expect("stats").events, 2);
}

/// Each commit that stores events adds one outbox entry in commit order; a reactor's lease is held by one
/// owner until it expires or is released, its progress only moves forward, and settled entries stop
/// counting as pending.
pub async fn outbox_entries_and_reactor_leases(s: TestStore) {
    s.append(vec![prepare(observe(1, 1)), prepare(observe(2, 2))])
        .await
        .expect("append");
    s.append(vec![prepare(observe(1, 1))])
        .await
        .expect("repeat");
    s.append(vec![prepare(observe(3, 3))])
        .await
        .expect("append");
    let entries = s.outbox_after(0, 10).await.expect("outbox");
    assert_eq!(
        entries
            .iter()
            .map(|e| (e.first_seq, e.last_seq))
            .collect::<Vec<_>>(),
        vec![(1, 2), (3, 3)],
        "a repeat adds no entry"
    );
    assert!(entries[0].id < entries[1].id);
    assert_eq!(
        s.outbox_after(entries[0].id, 10)
            .await
            .expect("outbox")
            .len(),
        1
    );

    let a = s.claim_reactor("r", "a", 1_000, 500).await.expect("claim");
    assert_eq!(a.map(|st| st.done_id), Some(0));
    assert!(
        s.claim_reactor("r", "b", 1_200, 500)
            .await
            .expect("claim")
            .is_none()
    );
    assert!(s.ack_reactor("r", "a", entries[0].id).await.expect("ack"));
    assert!(
        !s.ack_reactor("r", "b", entries[1].id).await.expect("ack"),
        "b holds no lease"
    );
    assert!(
        s.ack_reactor("r", "a", 0).await.expect("ack"),
        "never moves back"
    );
    s.fail_reactor("r", "a", "boom").await.expect("fail");
    // Expired: b takes over where a acknowledged.
    let b = s.claim_reactor("r", "b", 1_600, 500).await.expect("claim");
    let b = b.expect("expired lease is free");
    assert_eq!((b.done_id, b.failures), (entries[0].id, 1));
    assert_eq!(b.last_error.as_deref(), Some("boom"));
    assert!(
        !s.ack_reactor("r", "a", entries[1].id).await.expect("ack"),
        "a lost it"
    );
    s.release_reactor("r", "b").await.expect("release");
    assert!(
        s.claim_reactor("r", "a", 1_700, 500)
            .await
            .expect("claim")
            .is_some()
    );
    let states = s.reactor_states().await.expect("states");
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].lease_owner.as_deref(), Some("a"));

    assert_eq!(s.stats().await.expect("stats").outbox_pending, 3);
    assert_eq!(s.settle_outbox(entries[0].id).await.expect("settle"), 1);
    assert_eq!(s.stats().await.expect("stats").outbox_pending, 1);
}
