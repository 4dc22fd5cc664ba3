//! Tamper evidence on either store: the tree and signed checkpoints follow the ledger, proofs verify, and
//! `verify` names the first bad record for each kind of tampering (edited, deleted, reordered, forged,
//! truncated events; a replaced checkpoint; a changed tree hash; another key).

use std::sync::Arc;
use suyuan_engine::{Engine, ledger};
use suyuan_ledger::checkpoint::CheckpointSigner;
use suyuan_ledger::tree;
use suyuan_store::{PgStore, SqliteStore, Store};

/// Runs raw SQL against the store under test, behind its back.
enum Db {
    Sqlite(std::path::PathBuf),
    Pg(String, String),
}

impl Db {
    async fn exec(&self, sql: &str) {
        match self {
            Db::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open");
                c.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("timeout");
                c.execute_batch(sql).expect(sql);
            }
            Db::Pg(url, schema) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("SET search_path TO {schema}; {sql}"))
                    .await
                    .expect(sql);
            }
        }
    }
}

fn signer(seed: u8) -> CheckpointSigner {
    CheckpointSigner::new("suyuan.test/ledger", &[seed; 32]).expect("signer")
}

async fn load(store: &Arc<dyn Store>, days: u32, limit: usize) -> u64 {
    let mut values = Vec::new();
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 5,
            scale: 1,
            days,
        },
        &mut |v| values.push(v),
    );
    let events: Vec<suyuan_core::Event> = values
        .iter()
        .take(limit)
        .map(|v| suyuan_epcis::parse_capture(v).expect("valid").remove(0))
        .collect();
    let engine = Engine::new(store.clone());
    for chunk in events.chunks(200) {
        engine
            .capture_events(chunk.to_vec())
            .await
            .expect("capture");
    }
    events.len() as u64
}

async fn finding(store: &dyn Store, key: &str) -> Option<(u64, String)> {
    let v = ledger::verify(store, key, &|_| {})
        .await
        .expect("verify runs");
    v.finding.map(|f| (f.seq, f.problem))
}

async fn exercise(store: Arc<dyn Store>, db: Db) {
    let s = signer(1);
    let n = load(&store, 3, 600).await;
    // Checkpoints at two sizes, proofs against them.
    let first = ledger::checkpoint(store.as_ref(), &s)
        .await
        .expect("checkpoint")
        .expect("one");
    assert_eq!(first.size, n);
    let extra = load_more(&store, 250).await;
    let second = ledger::checkpoint(store.as_ref(), &s)
        .await
        .expect("checkpoint")
        .expect("two");
    assert_eq!(second.size, n + extra);
    let parsed = suyuan_ledger::checkpoint::verify(&second.note, s.verifier_key()).expect("signed");
    let p = ledger::inclusion(store.as_ref(), 123, Some(second.size))
        .await
        .expect("inclusion");
    let proof: Vec<[u8; 32]> = p.proof.iter().map(|h| hex32(h)).collect();
    tree::check_inclusion(&proof, second.size, parsed.root, 122, hex32(&p.leaf_hash))
        .expect("proof verifies");
    let c = ledger::consistency(store.as_ref(), first.size, second.size)
        .await
        .expect("consistency");
    let cp: Vec<[u8; 32]> = c.proof.iter().map(|h| hex32(h)).collect();
    tree::check_consistency(
        &cp,
        second.size,
        parsed.root,
        first.size,
        hex32(&first.root),
    )
    .expect("consistent");
    assert!(
        ledger::inclusion(store.as_ref(), second.size + 1, None)
            .await
            .is_err()
    );
    // Intact.
    let v = ledger::verify(store.as_ref(), s.verifier_key(), &|_| {})
        .await
        .expect("verify");
    assert_eq!((v.events, v.checkpoints, v.finding), (second.size, 2, None));
    let last = second.size;
    // Each tampering, then its undo.
    let time = store.events_by_seq(&[7]).await.expect("read")[0].event["eventTime"]
        .as_str()
        .expect("time")
        .to_string();
    let cases: Vec<(String, String, u64)> = vec![
        (
            format!("UPDATE events SET body = replace(body, '{time}', '2020-01-01T00:00:00.000Z') WHERE seq = 7"),
            format!("UPDATE events SET body = replace(body, '2020-01-01T00:00:00.000Z', '{time}') WHERE seq = 7"),
            7,
        ),
        (
            "CREATE TABLE saved AS SELECT * FROM events WHERE seq = 9; DELETE FROM events WHERE seq = 9".into(),
            "INSERT INTO events SELECT * FROM saved; DROP TABLE saved".into(),
            9,
        ),
        (
            "CREATE TABLE saved AS SELECT seq, body FROM events WHERE seq IN (4, 5); \
             UPDATE events SET body = (SELECT body FROM saved WHERE saved.seq = 9 - events.seq) WHERE seq IN (4, 5)".into(),
            "UPDATE events SET body = (SELECT body FROM saved WHERE saved.seq = events.seq) WHERE seq IN (4, 5); DROP TABLE saved".into(),
            4,
        ),
        (
            format!(
                "INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, biz_step, body) \
                 SELECT {}, 'urn:uuid:forged', 'forged', event_hash, leaf_hash, record_time, event_time_ms, event_type, biz_step, body FROM events WHERE seq = 3",
                last + 1
            ),
            format!("DELETE FROM events WHERE seq = {}", last + 1),
            last + 1,
        ),
        (
            format!("CREATE TABLE saved AS SELECT * FROM events WHERE seq > {}; DELETE FROM events WHERE seq > {}", last - 5, last - 5),
            "INSERT INTO events SELECT * FROM saved; DROP TABLE saved".into(),
            last - 4,
        ),
        (
            "CREATE TABLE saved AS SELECT * FROM tree_hashes WHERE idx = 5; UPDATE tree_hashes SET hash = (SELECT hash FROM tree_hashes WHERE idx = 6) WHERE idx = 5".into(),
            "UPDATE tree_hashes SET hash = (SELECT hash FROM saved) WHERE idx = 5; DROP TABLE saved".into(),
            // Stored hash 5 is the level-1 node over records 2 and 3.
            3,
        ),
        (
            format!(
                "CREATE TABLE saved AS SELECT * FROM checkpoints WHERE size = {}; UPDATE checkpoints SET note = '{}' WHERE size = {}",
                first.size,
                signer(2).sign(first.size, &hex32(&first.root)).expect("forged note").replace('\'', "''"),
                first.size
            ),
            format!("UPDATE checkpoints SET note = (SELECT note FROM saved) WHERE size = {}; DROP TABLE saved", first.size),
            first.size,
        ),
    ];
    for (tamper, undo, want) in cases {
        db.exec(&tamper).await;
        let f = finding(store.as_ref(), s.verifier_key()).await;
        assert_eq!(f.as_ref().map(|f| f.0), Some(want), "{tamper}: {f:?}");
        db.exec(&undo).await;
        assert_eq!(
            finding(store.as_ref(), s.verifier_key()).await,
            None,
            "undo of {tamper}"
        );
    }
    // Another key does not verify the checkpoints.
    let f = finding(store.as_ref(), signer(3).verifier_key())
        .await
        .expect("wrong key");
    assert!(f.1.contains("signature"), "{f:?}");
}

async fn load_more(store: &Arc<dyn Store>, limit: usize) -> u64 {
    let engine = Engine::new(store.clone());
    let mut values = Vec::new();
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 6,
            scale: 1,
            days: 2,
        },
        &mut |v| values.push(v),
    );
    // The store already holds a demo with the same SSCCs, shipped: packing into them again is refused (a
    // shipped case is sealed), so the second load brings every event but the packing.
    let events: Vec<suyuan_core::Event> = values
        .iter()
        .filter(|v| v["type"] != "AggregationEvent")
        .take(limit)
        .map(|v| suyuan_epcis::parse_capture(v).expect("valid").remove(0))
        .collect();
    engine.capture_events(events.clone()).await.expect("more");
    events.len() as u64
}

/// A small deterministic random source for the mutation suite.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// `count` random mutations of the stored data, each detected with the right first bad seq, each undone.
async fn random_mutations(store: Arc<dyn Store>, db: Db, count: usize) {
    let s = signer(1);
    load(&store, 1, 80).await;
    let half = ledger::checkpoint(store.as_ref(), &s)
        .await
        .expect("cp")
        .expect("one")
        .size;
    let _ = load_more(&store, 100).await;
    let total = ledger::checkpoint(store.as_ref(), &s)
        .await
        .expect("cp")
        .expect("two")
        .size;
    let stored_hashes = tree::stored_count(total);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let events = store
        .events_by_seq(&(1..=total).collect::<Vec<_>>())
        .await
        .expect("events");
    let save = |lo: u64, hi: u64| {
        format!("CREATE TABLE saved AS SELECT * FROM events WHERE seq BETWEEN {lo} AND {hi}")
    };
    let restore = |lo: u64, hi: u64| {
        format!(
            "DELETE FROM events WHERE seq BETWEEN {lo} AND {hi}; INSERT INTO events SELECT * FROM saved; DROP TABLE saved"
        )
    };
    for i in 0..count {
        let seq = 1 + rng.below(total);
        let e = &events[(seq - 1) as usize];
        let kind = rng.below(10);
        let (tamper, undo, want) = match kind {
            0 => {
                let t = e.event["eventTime"].as_str().expect("time");
                let changed = format!("1999{}", &t[4..]);
                (
                    format!(
                        "{}; UPDATE events SET body = replace(body, '{t}', '{changed}') WHERE seq = {seq}",
                        save(seq, seq)
                    ),
                    restore(seq, seq),
                    seq,
                )
            }
            1 => (
                format!(
                    "{}; UPDATE events SET record_time = '2001-01-01T00:00:00.000Z' WHERE seq = {seq}",
                    save(seq, seq)
                ),
                restore(seq, seq),
                seq,
            ),
            2 => (
                format!(
                    "{}; UPDATE events SET event_id = 'urn:uuid:forged-{i}' WHERE seq = {seq}",
                    save(seq, seq)
                ),
                restore(seq, seq),
                seq,
            ),
            3 => (
                format!(
                    "{}; UPDATE events SET event_hash = 'ni:///sha-256;00?ver=CBV2.0' WHERE seq = {seq}",
                    save(seq, seq)
                ),
                restore(seq, seq),
                seq,
            ),
            4 => (
                format!(
                    "{}; UPDATE events SET leaf_hash = '{}' WHERE seq = {seq}",
                    save(seq, seq),
                    "ab".repeat(32)
                ),
                restore(seq, seq),
                seq,
            ),
            5 => (
                format!("{}; DELETE FROM events WHERE seq = {seq}", save(seq, seq)),
                restore(seq, seq),
                seq,
            ),
            6 if seq < total && events[seq as usize].event != e.event => (
                format!(
                    "{}; UPDATE events SET body = (SELECT body FROM saved WHERE saved.seq = {} - events.seq) WHERE seq IN ({seq}, {})",
                    save(seq, seq + 1),
                    2 * seq + 1,
                    seq + 1
                ),
                restore(seq, seq + 1),
                seq,
            ),
            7 => (
                format!(
                    "{}; DELETE FROM events WHERE seq >= {seq}",
                    save(seq, total)
                ),
                restore(seq, total),
                seq,
            ),
            8 => {
                let idx = rng.below(stored_hashes);
                (
                    format!(
                        "CREATE TABLE saved AS SELECT * FROM tree_hashes WHERE idx = {idx}; \
                         UPDATE tree_hashes SET hash = (SELECT hash FROM tree_hashes WHERE idx = {}) WHERE idx = {idx}",
                        (idx + 1) % stored_hashes
                    ),
                    format!(
                        "UPDATE tree_hashes SET hash = (SELECT hash FROM saved) WHERE idx = {idx}; DROP TABLE saved"
                    ),
                    tree::first_record_of(idx) + 1,
                )
            }
            _ => {
                let which = if rng.below(2) == 0 { half } else { total };
                (
                    format!(
                        "CREATE TABLE saved AS SELECT * FROM checkpoints; \
                         UPDATE checkpoints SET note = replace(note, '\n{which}\n', '\n{}\n') WHERE size = {which}",
                        which - 1
                    ),
                    "DELETE FROM checkpoints; INSERT INTO checkpoints SELECT * FROM saved; DROP TABLE saved".into(),
                    which,
                )
            }
        };
        db.exec(&tamper).await;
        let f = finding(store.as_ref(), s.verifier_key()).await;
        assert_eq!(
            f.as_ref().map(|f| f.0),
            Some(want),
            "mutation {i} (kind {kind}): {tamper}: {f:?}"
        );
        db.exec(&undo).await;
    }
    assert_eq!(
        finding(store.as_ref(), s.verifier_key()).await,
        None,
        "every mutation undone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_random_mutations_are_all_detected_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("open"));
    random_mutations(
        store,
        Db::Sqlite(dir.path().join(suyuan_store::sqlite::DB_FILE)),
        1000,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_mutations_are_all_detected_postgres() {
    let Some(url) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schema = format!("t_mut_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect"),
    );
    random_mutations(store, Db::Pg(url.clone(), schema.clone()), 300).await;
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).expect("hex");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("open"));
    let db = Db::Sqlite(dir.path().join(suyuan_store::sqlite::DB_FILE));
    exercise(store, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(url) = suyuan_store::suite::pg_url() else {
        return;
    };
    let schema = format!("t_ledger_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect"),
    );
    exercise(store, Db::Pg(url.clone(), schema.clone())).await;
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}

#[test]
fn the_key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.key");
    let a = ledger::load_or_create_key(&path, "suyuan.test/ledger").expect("create");
    let b = ledger::load_or_create_key(&path, "suyuan.test/ledger").expect("reuse");
    assert_eq!(a.verifier_key(), b.verifier_key());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    std::fs::write(&path, "zz").expect("damage");
    assert!(ledger::load_or_create_key(&path, "suyuan.test/ledger").is_err());
}
