//! The ledger over HTTP: key, checkpoints, inclusion and consistency proofs.

#[allow(unused_imports)]
use super::*;

#[tokio::test]
async fn ledger_key_checkpoint_and_proofs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("open store"));
    let signer = Arc::new(
        suyuan_ledger::checkpoint::CheckpointSigner::new("suyuan.test/ledger", &[4u8; 32])
            .expect("signer"),
    );
    let state = AppState::new(Engine::new(store.clone())).with_signer(signer.clone());
    let t = app_with(state, store, dir).await;
    let setup = t.get("/api/v1/ledger/checkpoint").await;
    assert_eq!(
        suyuan_ledger::checkpoint::verify(&setup.body, signer.verifier_key())
            .expect("signed")
            .size,
        SETUP_EVENTS
    );
    for i in 0..20 {
        let mut e = object_event(i);
        e["eventID"] = json!(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
        assert_eq!(
            t.post_json("/api/v1/events", &e).await.status,
            StatusCode::CREATED
        );
    }
    let key = t.get("/api/v1/ledger/key").await;
    assert_eq!(key.body.trim(), signer.verifier_key());
    let cp = t.get("/api/v1/ledger/checkpoint").await;
    assert!(cp.content_type.starts_with("text/plain"));
    let parsed =
        suyuan_ledger::checkpoint::verify(&cp.body, signer.verifier_key()).expect("signed");
    assert_eq!(parsed.size, SETUP_EVENTS + 20);
    let p = t
        .get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007")
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let j = p.json();
    assert_eq!(
        (j["seq"].clone(), j["treeSize"].clone()),
        (json!(SETUP_EVENTS + 8), json!(SETUP_EVENTS + 20))
    );
    assert_eq!(j["checkpoint"].as_str(), Some(cp.body.as_str()));
    let hex32 = |v: &Value| {
        let mut out = [0u8; 32];
        hex::decode_to_slice(v.as_str().expect("hex"), &mut out).expect("32 bytes");
        out
    };
    let path: Vec<[u8; 32]> = j["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(hex32)
        .collect();
    suyuan_ledger::tree::check_inclusion(
        &path,
        SETUP_EVENTS + 20,
        parsed.root,
        SETUP_EVENTS + 7,
        hex32(&j["leafHash"]),
    )
    .expect("proof verifies");
    let older = t
        .get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007?size=10")
        .await
        .json();
    assert_eq!(older["treeSize"], 10);
    assert_eq!(
        t.get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007?size=5")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/v1/proofs/urn:uuid:none").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/v1/proofs/urn:uuid:00000000-0000-4000-8000-000000000007?size=x")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let c = t
        .get(&format!(
            "/api/v1/ledger/consistency?from=10&to={}",
            SETUP_EVENTS + 20
        ))
        .await
        .json();
    let cpath: Vec<[u8; 32]> = c["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(hex32)
        .collect();
    suyuan_ledger::tree::check_consistency(
        &cpath,
        SETUP_EVENTS + 20,
        parsed.root,
        10,
        hex32(&c["fromRoot"]),
    )
    .expect("consistent");
    assert_eq!(
        t.get("/api/v1/ledger/consistency?from=10").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.get("/api/v1/ledger/consistency?from=10&to=99")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
