//! The storage conformance suite on every backend: SQLite always, PostgreSQL when `SUYUAN_TEST_PG_URL` is set
//! (each test in a schema of its own, dropped afterwards).

use std::sync::Arc;
use suyuan_store::suite::{self, TestStore};
use suyuan_store::{PgStore, SqliteStore};

mod copy;

macro_rules! sqlite_tests {
    ($($name:ident),*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store: TestStore = Arc::new(SqliteStore::open(dir.path()).expect("open sqlite"));
                    suite::$name(store).await;
                }
            )*
        }
    };
}

macro_rules! postgres_tests {
    ($($name:ident),*) => {
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(url) = suyuan_store::suite::pg_url() else {
                        return;
                    };
                    let schema = format!("t_{}_{}", stringify!($name), std::process::id());
                    PgStore::drop_schema(&url, &schema).await.expect("clean schema");
                    let store: TestStore = Arc::new(PgStore::connect(&url, Some(&schema)).await.expect("connect postgres"));
                    suite::$name(store).await;
                    PgStore::drop_schema(&url, &schema).await.expect("drop schema");
                }
            )*
        }
    };
}

suyuan_store::for_each_check!(sqlite_tests);
suyuan_store::for_each_check!(postgres_tests);

/// A store reopened on the same directory keeps its events and continues the seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reopen_continues_the_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = SqliteStore::open(dir.path()).expect("open");
        use suyuan_store::EventLog;
        s.append(vec![suite::prepare(suite::observe(1, 1))])
            .await
            .expect("append");
    }
    use suyuan_store::EventLog;
    let s = SqliteStore::open(dir.path()).expect("reopen");
    let out = s
        .append(vec![suite::prepare(suite::observe(2, 2))])
        .await
        .expect("append");
    assert_eq!(out[0].seq, 2);
    // The place index covers the event stored before it existed (backfilled by the migration) and the new one.
    let place = suyuan_core::projection::object_key("urn:epc:id:sgln:6901234.00001.0");
    let at: Vec<u64> = s
        .events_at_place(&place, 0, 10)
        .await
        .expect("place")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(at, [1, 2]);
}

/// After a migration from schema version 1: its event reads back, scans and reactor progress have their tables,
/// and appending continues after its seq.
async fn the_v1_row_survives_and_every_table_works(s: &dyn suyuan_store::Store) {
    assert_eq!(
        s.event_by_id("urn:uuid:1")
            .await
            .expect("read")
            .map(|e| e.seq),
        Some(1)
    );
    let n = s
        .record_scans(vec![suyuan_store::ScanRecord {
            object: "x".into(),
            scanned_at: "2024-01-01T00:00:00Z".into(),
            city: None,
            province: None,
            channel: "qr".into(),
        }])
        .await
        .expect("scans table exists after migration");
    assert_eq!(n.len(), 1);
    assert!(s.reactor_states().await.expect("reactors table").is_empty());
    let out = s
        .append(vec![suite::prepare(suite::observe(1, 1))])
        .await
        .expect("append");
    assert_eq!(out[0].seq, 2);
}

/// A PostgreSQL database of schema version 1 is migrated at start and keeps its events (like SQLite's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrates_an_old_schema_and_keeps_data() {
    let Some(url) = suite::pg_url() else {
        return;
    };
    let schema = format!("t_oldest_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    PgStore::create_at_version(&url, &schema, 1)
        .await
        .expect("schema v1");
    {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!(
                r#"SET search_path TO {schema};
                INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, body)
                VALUES (1, 'urn:uuid:1', 'urn:uuid:1', 'ni:///sha-256;00?ver=CBV2.0', '00', '2024-01-01T00:00:00.000Z', 0, 'ObjectEvent',
                        '{{"readPoint":{{"id":"urn:epc:id:sgln:6901234.00001.0"}},"type":"ObjectEvent"}}');
                UPDATE ledger_head SET last_seq = 1 WHERE id = 1;
                SELECT 1 FROM events WHERE seq = 1;"#
            ))
            .await
            .expect("insert v1 row");
        let v: i32 = client
            .query_one(
                &format!("SELECT MAX(version) FROM {schema}.schema_migrations"),
                &[],
            )
            .await
            .expect("version")
            .get(0);
        assert_eq!(v, 1);
        drop(client);
        let _ = task.await;
    }
    let s = PgStore::connect(&url, Some(&schema))
        .await
        .expect("connect migrates");
    the_v1_row_survives_and_every_table_works(&s).await;
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}

/// A database written by schema version 1 is migrated at start and keeps its events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrates_an_old_schema_and_keeps_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut conn = rusqlite::Connection::open(dir.path().join(suyuan_store::sqlite::DB_FILE))
            .expect("open");
        suyuan_store::sqlite::migrate_up_to(&mut conn, 1).expect("schema v1");
        conn.execute(
            r#"INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, body)
             VALUES (1, 'urn:uuid:1', 'urn:uuid:1', 'ni:///sha-256;00?ver=CBV2.0', '00', '2024-01-01T00:00:00.000Z', 0, 'ObjectEvent',
                     '{"readPoint":{"id":"urn:epc:id:sgln:6901234.00001.0"},"type":"ObjectEvent"}')"#,
            [],
        )
        .expect("insert v1 row");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, 1);
    }
    let s = SqliteStore::open(dir.path()).expect("open migrates");
    the_v1_row_survives_and_every_table_works(&s).await;
}

/// A database from before the search index gets its objects and events indexed by the migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backfills_the_search_index() {
    use suyuan_store::{EventLog, Projections};
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = SqliteStore::open(dir.path()).expect("open");
        let mut e = suite::observe(77, 1);
        e["bizTransactionList"] =
            serde_json::json!([{"type": "po", "bizTransaction": "urn:suyuan:demo:po:PO-9"}]);
        s.append(vec![suite::prepare(e)]).await.expect("append");
    }
    {
        // Back to the schema before the index, as an older Suyuan left it.
        let conn = rusqlite::Connection::open(dir.path().join(suyuan_store::sqlite::DB_FILE))
            .expect("open");
        conn.execute_batch(
            "DROP TABLE search_terms; DROP TABLE reactors; PRAGMA user_version = 9;",
        )
        .expect("downgrade");
    }
    let s = SqliteStore::open(dir.path()).expect("open migrates");
    assert_eq!(
        s.search_terms("77", 10).await.expect("search"),
        [(
            "serial".to_string(),
            "https://id.gs1.org/01/06901234123456/21/77".to_string()
        )]
    );
    assert_eq!(s.search_terms("PO-9", 10).await.expect("search").len(), 1);
}

/// A PostgreSQL database from before the search index gets its objects and events indexed by the migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backfills_the_search_index() {
    use suyuan_store::{EventLog, Projections};
    let Some(url) = suite::pg_url() else {
        return;
    };
    let schema = format!("t_backfill_terms_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    {
        let s = PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect");
        let mut e = suite::observe(77, 1);
        e["bizTransactionList"] =
            serde_json::json!([{"type": "po", "bizTransaction": "urn:suyuan:demo:po:PO-9"}]);
        s.append(vec![suite::prepare(e)]).await.expect("append");
    }
    {
        // Back to the schema before the index, as an older Suyuan left it.
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "SET search_path TO {schema}; DROP TABLE search_terms; DROP TABLE reactors; \
                 DELETE FROM schema_migrations WHERE version >= 10;"
            ))
            .await
            .expect("downgrade");
        drop(client);
        let _ = task.await;
    }
    let s = PgStore::connect(&url, Some(&schema))
        .await
        .expect("connect migrates");
    assert_eq!(
        s.search_terms("77", 10).await.expect("search"),
        [(
            "serial".to_string(),
            "https://id.gs1.org/01/06901234123456/21/77".to_string()
        )]
    );
    assert_eq!(s.search_terms("PO-9", 10).await.expect("search").len(), 1);
    assert_eq!(
        s.search_terms("urn:suyuan:demo:po:PO-9", 10)
            .await
            .expect("search")
            .iter()
            .filter(|(k, _)| k == "transaction_event")
            .count(),
        1
    );
    drop(s);
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}
