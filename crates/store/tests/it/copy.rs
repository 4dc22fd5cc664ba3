//! Whole-store copies: an online SQLite backup while the writer runs, SQLite → PostgreSQL → SQLite with every
//! table intact and the ledger continuing, and the refusal of a destination that holds data.

use serde_json::json;
use std::sync::Arc;
use suyuan_store::copy::{Place, copy_store, online_backup};
use suyuan_store::suite::{observe, prepare};
use suyuan_store::{Admin, EventLog, PgStore, ScanLog, ScanRecord, SqliteStore, Store};

fn scan(object: &str) -> ScanRecord {
    ScanRecord {
        object: object.into(),
        scanned_at: "2024-03-01T08:00:00Z".into(),
        city: Some("Hohhot".into()),
        province: None,
        channel: "qr".into(),
    }
}

/// A store with a little of everything: events and their objects, the tree and a checkpoint, an account,
/// a definition and a scan.
async fn fill(s: &dyn Store) {
    let batch = (0..12).map(|i| prepare(observe(i, i))).collect();
    s.append(batch).await.expect("append");
    s.extend_tree(0, 1, vec![[7u8; 32]]).await.expect("tree");
    s.add_checkpoint(1, "root-1", "note-1")
        .await
        .expect("checkpoint");
    s.put_account(
        "user",
        "wang",
        &json!({"role": "admin", "name": "王"}),
        true,
    )
    .await
    .expect("account");
    s.save_definition("form", "milk", &json!({"fields": [1, 2]}))
        .await
        .expect("definition");
    s.record_scans(vec![scan("urn:epc:id:sgtin:6901234.012345.1")])
        .await
        .expect("scan");
}

/// Asserts `b` holds what `a` holds.
async fn same(a: &dyn Store, b: &dyn Store) {
    let (ea, eb) = (
        a.events_after(0, 1000).await.expect("events a"),
        b.events_after(0, 1000).await.expect("events b"),
    );
    assert_eq!(ea.len(), eb.len());
    for (x, y) in ea.iter().zip(&eb) {
        assert_eq!(
            (
                x.seq,
                &x.event_id,
                &x.event_hash,
                &x.leaf_hash,
                &x.record_time
            ),
            (
                y.seq,
                &y.event_id,
                &y.event_hash,
                &y.leaf_hash,
                &y.record_time
            )
        );
        assert_eq!(x.event, y.event);
    }
    assert_eq!(
        a.object("urn:epc:id:sgtin:6901234.012345.3")
            .await
            .expect("object a"),
        b.object("urn:epc:id:sgtin:6901234.012345.3")
            .await
            .expect("object b")
    );
    assert_eq!(b.tree_size().await.expect("size"), 1);
    assert_eq!(b.tree_hashes(&[0]).await.expect("hashes"), vec![[7u8; 32]]);
    assert_eq!(
        b.checkpoint(None)
            .await
            .expect("checkpoint")
            .map(|c| c.root),
        Some("root-1".into())
    );
    assert_eq!(
        b.account("user", "wang").await.expect("account"),
        Some(json!({"role": "admin", "name": "王"}))
    );
    assert_eq!(
        b.definition("form", "milk", None)
            .await
            .expect("definition")
            .map(|d| d.definition),
        Some(json!({"fields": [1, 2]}))
    );
    let (sa, sb) = (a.stats().await.expect("a"), b.stats().await.expect("b"));
    assert_eq!(
        (sa.events, sa.objects, sa.last_seq, sa.scans),
        (sb.events, sb.objects, sb.last_seq, sb.scans)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_is_one_consistent_moment_while_the_writer_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("live")).expect("open"));
    fill(store.as_ref()).await;
    let writing = {
        let s = store.clone();
        tokio::spawn(async move {
            for i in 100..400u32 {
                s.append(vec![prepare(observe(i, i))])
                    .await
                    .expect("append");
            }
        })
    };
    let db = store.db_path().to_path_buf();
    let out = dir.path().join("copy").join("suyuan.db");
    std::fs::create_dir_all(out.parent().expect("dir")).expect("mkdir");
    tokio::task::spawn_blocking({
        let out = out.clone();
        move || online_backup(&db, &out)
    })
    .await
    .expect("join")
    .expect("backup");
    writing.await.expect("writer");
    let again = online_backup(store.db_path(), &out).expect_err("never overwrites");
    assert!(again.to_string().contains("already exists"), "{again}");

    let copy = SqliteStore::open(out.parent().expect("dir")).expect("open the backup");
    let events = copy.events_after(0, 10_000).await.expect("events");
    assert!(events.len() >= 12, "the backup holds what was there before");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "gapless: no half-seen write"
    );
    assert_eq!(
        copy.stats().await.expect("stats").last_seq,
        events.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_and_back_keeps_every_table_and_the_ledger_continues() {
    let Some(url) = suyuan_store::suite::pg_url() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let origin = SqliteStore::open(&dir.path().join("origin")).expect("open");
    fill(&origin).await;
    let from = Place::Sqlite(origin.db_path().to_path_buf());
    let schema = format!("t_copy_{}", std::process::id());
    PgStore::drop_schema(&url, &schema).await.expect("clean");
    let to = Place::Postgres {
        url: url.clone(),
        schema: Some(schema.clone()),
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let copied = copy_store(&from, &to, &|t, n| {
        seen.lock().expect("lock").push((t.to_string(), n))
    })
    .await
    .expect("copy to postgres");
    assert_eq!(copied.rows("events"), 12);
    assert_eq!(copied.rows("tree_hashes"), 1);
    assert!(seen.lock().expect("lock").contains(&("events".into(), 12)));

    let pg = PgStore::connect(&url, Some(&schema))
        .await
        .expect("connect");
    same(&origin, &pg).await;
    // The ledger, the object ids and the scan ids continue after the copied ones.
    let next = pg
        .append(vec![prepare(observe(500, 1))])
        .await
        .expect("append");
    assert_eq!(next[0].seq, 13);
    let counts = pg
        .record_scans(vec![scan("urn:epc:id:sgtin:6901234.012345.1")])
        .await
        .expect("scan");
    assert_eq!(counts, vec![2]);

    // A destination holding data is refused, and keeps what it had.
    let refused = copy_store(&from, &to, &|_, _| {})
        .await
        .expect_err("not empty");
    assert!(refused.to_string().contains("not empty"), "{refused}");
    assert_eq!(pg.stats().await.expect("stats").events, 13);

    // And back into a new SQLite file.
    let back_dir = dir.path().join("back");
    copy_store(
        &to,
        &Place::Sqlite(back_dir.join(suyuan_store::sqlite::DB_FILE)),
        &|_, _| {},
    )
    .await
    .expect("copy back");
    let back = SqliteStore::open(&back_dir).expect("open back");
    same(&pg, &back).await;
    assert_eq!(
        back.append(vec![prepare(observe(501, 2))])
            .await
            .expect("append")[0]
            .seq,
        14
    );
    PgStore::drop_schema(&url, &schema).await.expect("drop");
}

/// A table or column a later migration adds must be copied too: the copy's list names every table of the
/// schema and every column of each.
#[test]
fn the_copy_names_every_table_of_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = rusqlite::Connection::open(dir.path().join("s.db")).expect("open");
    suyuan_store::sqlite::migrate(&mut conn).expect("migrate");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("prepare");
    let mut schema: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    schema.sort();
    let mut copied: Vec<String> = suyuan_store::copy::TABLES
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    copied.sort();
    assert_eq!(copied, schema);
    // And every column: a column a migration adds is copied, never dropped.
    for t in suyuan_store::copy::TABLES {
        let mut info = conn
            .prepare(&format!("PRAGMA table_info({})", t.name))
            .expect("table_info");
        let mut columns: Vec<String> = info
            .query_map([], |r| r.get(1))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        columns.sort();
        let mut listed: Vec<String> = t.columns.iter().map(|c| c.to_string()).collect();
        listed.sort();
        assert_eq!(listed, columns, "columns of {}", t.name);
    }
}

/// A backup from an older Suyuan: copied as a file it opens and is brought up to date; copied table by table
/// it is refused, naming the way round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_backup_is_restored_as_a_file_and_refused_table_by_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&old).expect("open");
        suyuan_store::sqlite::migrate_up_to(&mut conn, 5).expect("old schema");
    }
    let refused = copy_store(
        &Place::Sqlite(old.clone()),
        &Place::Sqlite(dir.path().join("new").join("suyuan.db")),
        &|_, _| {},
    )
    .await
    .expect_err("older schema");
    assert!(
        refused
            .to_string()
            .contains("suyuan restore FILE --data DIR"),
        "{refused}"
    );
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).expect("mkdir");
    online_backup(&old, &restored.join("suyuan.db")).expect("file copy");
    let store = SqliteStore::open(&restored).expect("opened and migrated");
    assert_eq!(store.stats().await.expect("stats").events, 0);
    assert!(online_backup(&dir.path().join("missing.db"), &dir.path().join("x.db")).is_err());
}
