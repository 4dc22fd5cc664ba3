//! The embedded SQLite backend: one file in the data directory, WAL with `synchronous=FULL`, and group
//! commit — one writer thread owns the write connection, drains every waiting append into one
//! transaction (each append in its own savepoint, so one bad batch fails alone), commits once, then answers.

use crate::{
    AccessEntry, Accounts, CodeRegistry, IssuedCode, MasterData, ScanLog, ScanRecord,
    StoredCheckpoint, StoredDefinition, TreeLog, account_doc,
};
use crate::{
    Admin, Appended, EventLog, NewEvent, ObjectState, Projections, Stats, StepPosition, StoreError,
    StoredEvent, now_record_time, parse_body, plan_append,
};
use crate::{Commit, Write};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
use suyuan_core::masterdata::VocabularyElement;
use suyuan_core::projection::ProjectionOp;
use tokio::sync::oneshot;

mod outbox;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "suyuan.db";

/// Most events one group commit takes before it commits.
const GROUP_LIMIT: usize = 20_000;

/// Schema migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL,
    dedup_key     TEXT NOT NULL UNIQUE,
    event_hash    TEXT NOT NULL,
    leaf_hash     TEXT NOT NULL,
    record_time   TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
    event_type    TEXT NOT NULL,
    biz_step      TEXT,
    body          TEXT NOT NULL
);
CREATE TABLE objects (
    id          INTEGER PRIMARY KEY,
    object_key  TEXT NOT NULL UNIQUE,
    first_seq   INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    location    TEXT,
    disposition TEXT,
    container   TEXT
);
CREATE INDEX objects_container ON objects(container) WHERE container IS NOT NULL;
CREATE TABLE object_events (
    object_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (object_id, seq)
) WITHOUT ROWID;
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    created   TEXT NOT NULL,
    done_at   TEXT
);
CREATE INDEX outbox_pending ON outbox(id) WHERE done_at IS NULL;
"#,
    r#"
CREATE TABLE scans (
    id         INTEGER PRIMARY KEY,
    object_key TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    city       TEXT,
    province   TEXT,
    channel    TEXT NOT NULL
);
CREATE INDEX scans_object ON scans(object_key, id);
"#,
    r#"
ALTER TABLE objects ADD COLUMN party TEXT;
"#,
    r#"
CREATE TABLE definitions (
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, name, version)
);
CREATE TABLE code_sequences (
    rule  TEXT NOT NULL,
    scope TEXT NOT NULL,
    next  INTEGER NOT NULL,
    PRIMARY KEY (rule, scope)
);
CREATE TABLE codes (
    uri       TEXT PRIMARY KEY,
    code      TEXT NOT NULL,
    rule      TEXT NOT NULL,
    version   INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    revoked   TEXT
);
CREATE INDEX codes_code ON codes(code);
CREATE INDEX codes_rule ON codes(rule);
"#,
    r#"
CREATE TABLE tree_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TABLE tree_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO tree_head VALUES (1, 0);
CREATE TABLE checkpoints (
    size       INTEGER PRIMARY KEY,
    root       TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE accounts (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE access_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    user    TEXT NOT NULL,
    request TEXT NOT NULL,
    status  INTEGER NOT NULL,
    items   INTEGER NOT NULL
);
CREATE INDEX access_log_user ON access_log(user, id);
"#,
    r#"
CREATE INDEX events_step_time ON events(biz_step, event_time_ms);
"#,
    r#"
CREATE TABLE master_data (
    vtype      TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (vtype, id)
) WITHOUT ROWID;
"#,
    // The place index; existing events are indexed by `backfill_places` in the same transaction.
    r#"
CREATE TABLE event_places (
    place INTEGER NOT NULL,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (place, seq)
) WITHOUT ROWID;
"#,
    // The search index; existing objects and events are indexed by `backfill_terms` in the same transaction.
    r#"
CREATE TABLE search_terms (
    term   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (term, kind, target)
) WITHOUT ROWID;
"#,
    outbox::MIGRATION,
];

/// The schema version that adds the search index.
const TERMS_VERSION: usize = 10;

/// Indexes the serials, lots and SSCCs of every stored object and the transactions and ILMD lots of every
/// stored event (a store from before the search index).
fn backfill_terms(conn: &Connection) -> Result<(), StoreError> {
    let mut put = conn
        .prepare("INSERT OR IGNORE INTO search_terms (term, kind, target) VALUES (?1, ?2, ?3)")?;
    {
        let mut keys = conn.prepare("SELECT object_key FROM objects")?;
        let mut rows = keys.query([])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            for (term, kind, target) in suyuan_core::search::object_terms(&key) {
                put.execute(params![term, kind, target])?;
            }
        }
    }
    for_each_stored(conn, "indexing the search terms", |seq, value| {
        for (term, kind, target) in suyuan_core::search::stored_event_terms(value, seq as u64) {
            put.execute(params![term, kind, target])?;
        }
        Ok(())
    })
}

/// What the writer thread is asked to write.
enum Work {
    Commit(Commit),
    Scans(Vec<ScanRecord>),
    SaveDefinition(String, String, Box<Value>),
    Reserve(String, String, u64, u64),
    Register(Vec<IssuedCode>),
    Revoke(String, String),
    ExtendTree(u64, u64, Vec<[u8; 32]>),
    Checkpoint(u64, String, String),
    Account(AccountOp),
    MasterData(Vec<VocabularyElement>),
    Reactor(outbox::ReactorOp),
}

/// A write to the account tables.
enum AccountOp {
    Put {
        kind: String,
        id: String,
        doc: String,
        create: bool,
    },
    Delete(String, String),
    Log(AccessEntry),
}

/// What it answers.
enum Done {
    Appended(Vec<Appended>),
    Scans(Vec<u64>),
    Definition(StoredDefinition),
    Number(u64),
    Reserved(Option<u64>),
    Claimed(Option<crate::ReactorState>),
    Nothing,
}

struct WriteJob {
    work: Work,
    reply: oneshot::Sender<Result<Done, StoreError>>,
}

impl WriteJob {
    fn size(&self) -> usize {
        match &self.work {
            Work::Commit(c) => c.size(),

            Work::Scans(s) => s.len(),
            Work::Register(c) => c.len() / 8,
            Work::ExtendTree(_, _, h) => h.len() / 8,
            Work::Checkpoint(..) => 1,
            Work::SaveDefinition(..) | Work::Reserve(..) | Work::Revoke(..) => 1,
            Work::Account(_) => 1,
            Work::MasterData(m) => m.len(),
            Work::Reactor(_) => 1,
        }
    }
}

/// The SQLite store of one data directory.
pub struct SqliteStore {
    writer: Option<SyncSender<WriteJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
    checkpointer: Option<(SyncSender<()>, std::thread::JoinHandle<()>)>,
    readers: Arc<Mutex<Vec<Connection>>>,
    db_path: PathBuf,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB page cache, reads through mmap. (temp_store=MEMORY made savepoint release O(journal): slower.)
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    Ok(())
}

/// The schema version that adds the place index.
const PLACES_VERSION: usize = 9;

/// Calls `f` with the seq and body of every stored event, 10,000 read at a time, logging progress.
fn for_each_stored(
    conn: &Connection,
    what: &str,
    mut f: impl FnMut(i64, &Value) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut read =
        conn.prepare("SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT 10000")?;
    let mut after = 0i64;
    loop {
        let rows = read
            .query_map([after], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(());
        };
        for (seq, body) in &rows {
            f(*seq, &parse_body(*seq as u64, body)?)?;
        }
        if after == 0 || last / 1_000_000 != after / 1_000_000 {
            tracing::info!(through_seq = last, "{what} of stored events");
        }
        after = last;
    }
}

/// Indexes the places of every stored event (a store from before the place index).
fn backfill_places(conn: &Connection) -> Result<(), StoreError> {
    let mut put =
        conn.prepare("INSERT OR IGNORE INTO event_places (place, seq) VALUES (?1, ?2)")?;
    for_each_stored(conn, "indexing the places", |seq, event| {
        for place in crate::places_of(event) {
            put.execute(params![place, seq])?;
        }
        Ok(())
    })
}

/// Applies the pending migrations to `conn`.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_up_to(conn, MIGRATIONS.len())
}

/// Applies pending migrations up to schema version `target` (migration tests build old schemas with it).
pub fn migrate_up_to(conn: &mut Connection, target: usize) -> Result<(), StoreError> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database has schema version {applied}, newer than this Suyuan knows ({}): upgrade Suyuan",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        if i + 1 == PLACES_VERSION {
            backfill_places(&tx)?;
        }
        if i + 1 == TERMS_VERSION {
            backfill_terms(&tx)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "sqlite schema migrated");
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the store in data directory `dir` and starts its writer thread.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let db_path = dir.join(DB_FILE);
        let mut conn = Connection::open(&db_path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let next_seq: i64 =
            conn.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events", [], |r| {
                r.get(0)
            })?;
        let next_object_id: i64 =
            conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM objects", [], |r| {
                r.get(0)
            })?;
        // Checkpoints run on their own thread so the writer never stalls copying the WAL back.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let ckpt_conn = Connection::open(&db_path)?;
        configure(&ckpt_conn)?;
        let (stop_tx, stop_rx) = sync_channel::<()>(1);
        let restart_wal = Arc::new(AtomicBool::new(false));
        let checkpointer = std::thread::Builder::new()
            .name("suyuan-sqlite-checkpoint".into())
            .spawn({
                let restart_wal = restart_wal.clone();
                move || checkpoint_loop(ckpt_conn, stop_rx, restart_wal)
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the checkpoint thread: {e}")))?;
        let (tx, rx) = sync_channel::<WriteJob>(1024);
        let thread = std::thread::Builder::new()
            .name("suyuan-sqlite-writer".into())
            .spawn(move || {
                writer_loop(
                    conn,
                    rx,
                    Counters {
                        seq: next_seq as u64,
                        object_id: next_object_id,
                    },
                    restart_wal,
                )
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            writer: Some(tx),
            thread: Some(thread),
            checkpointer: Some((stop_tx, checkpointer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            db_path,
        })
    }

    /// Path of the database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    async fn submit(&self, work: Work) -> Result<Done, StoreError> {
        let (reply, rx) = oneshot::channel();
        let writer = self.writer.as_ref().ok_or(StoreError::Closed)?.clone();
        tokio::task::spawn_blocking(move || writer.send(WriteJob { work, reply }))
            .await
            .map_err(|_| StoreError::Closed)?
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let pool = self.readers.clone();
        let path = self.db_path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.lock().map_err(|_| StoreError::Closed)?.pop();
            let conn = match conn {
                Some(c) => c,
                None => {
                    let c = Connection::open(&path)?;
                    c.busy_timeout(std::time::Duration::from_secs(10))?;
                    c
                }
            };
            let out = f(&conn);
            if let Ok(mut p) = pool.lock()
                && p.len() < 8
            {
                p.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Backend(format!("reader task failed: {e}")))?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.writer.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some((stop, t)) = self.checkpointer.take() {
            let _ = stop.send(());
            let _ = t.join();
        }
    }
}

/// WAL frames (pages) beyond which the writer is asked to start the WAL over (≈ 256 MiB).
const WAL_RESTART_FRAMES: i64 = 65_536;

/// Copies committed WAL frames into the database every 250 ms (PASSIVE: never blocks the writer), and
/// truncates the WAL on shutdown. A PASSIVE checkpoint cannot rewind the WAL while the writer never pauses
/// (a bulk load), and a RESTART from this thread would starve behind the writer's lock; so once the WAL
/// holds more than [`WAL_RESTART_FRAMES`] it raises `restart_wal`, and the writer runs the RESTART itself
/// between two transactions.
fn checkpoint_loop(conn: Connection, stop: Receiver<()>, restart_wal: Arc<AtomicBool>) {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        let stopping = match stop.recv_timeout(std::time::Duration::from_millis(250)) {
            Err(RecvTimeoutError::Timeout) => false,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        };
        let mode = if stopping { "TRUNCATE" } else { "PASSIVE" };
        // (busy, frames in the WAL, frames copied), or -1s when the database is not in WAL mode.
        match conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(1)
        }) {
            Ok(frames) if frames > WAL_RESTART_FRAMES => restart_wal.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; it will be retried"),
        }
        if stopping {
            return;
        }
    }
}

/// Ids the writer hands out: ledger seqs and object ids.
#[derive(Debug, Clone, Copy)]
struct Counters {
    seq: u64,
    object_id: i64,
}

fn writer_loop(
    mut conn: Connection,
    rx: Receiver<WriteJob>,
    mut next: Counters,
    restart_wal: Arc<AtomicBool>,
) {
    while let Ok(first) = rx.recv() {
        // Between transactions, when the checkpointer asks: copy the rest of the WAL back and start it over.
        if restart_wal.swap(false, Ordering::Relaxed)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "WAL restart failed; it will be retried");
        }
        let mut jobs = vec![first];
        let mut events = jobs[0].size();
        while events < GROUP_LIMIT {
            match rx.try_recv() {
                Ok(j) => {
                    events += j.size();
                    jobs.push(j);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let results = write_group(&mut conn, &mut next, &jobs);
        for (job, r) in jobs.into_iter().zip(results) {
            let _ = job.reply.send(r);
        }
    }
}

fn run_job(conn: &Connection, next: Counters, work: &Work) -> Result<(Done, Counters), StoreError> {
    match work {
        Work::Commit(commit) => {
            let (res, next) = append_batch(conn, next, &commit.events)?;
            write_records(conn, &commit.writes)?;
            Ok((Done::Appended(res), next))
        }
        Work::Scans(scans) => insert_scans(conn, scans).map(|n| (Done::Scans(n), next)),
        Work::SaveDefinition(kind, name, def) => {
            save_definition(conn, kind, name, def).map(|r| (Done::Definition(r), next))
        }
        Work::Reserve(rule, scope, count, limit) => {
            reserve(conn, rule, scope, *count, *limit).map(|n| (Done::Reserved(n), next))
        }
        Work::Register(codes) => register(conn, codes).map(|_| (Done::Nothing, next)),
        Work::Revoke(code, reason) => revoke(conn, code, reason).map(|n| (Done::Number(n), next)),
        Work::ExtendTree(from, to, hashes) => {
            extend_tree(conn, *from, *to, hashes).map(|_| (Done::Nothing, next))
        }
        Work::Checkpoint(size, root, note) => conn
            .execute(
                "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (size) DO NOTHING",
                params![*size as i64, root, note, now_record_time()],
            )
            .map(|_| (Done::Nothing, next))
            .map_err(StoreError::from),
        Work::Account(op) => write_account(conn, op).map(|n| (Done::Number(n), next)),
        Work::MasterData(elements) => {
            write_master_data(conn, elements).map(|_| (Done::Nothing, next))
        }
        Work::Reactor(op) => outbox::run(conn, op).map(|d| (d, next)),
    }
}

/// A commit's record changes, in order, inside its transaction.
fn write_records(conn: &Connection, writes: &[Write]) -> Result<(), StoreError> {
    for w in writes {
        match w {
            Write::PutRecord {
                kind,
                id,
                doc,
                create,
            } => {
                write_account(
                    conn,
                    &AccountOp::Put {
                        kind: kind.clone(),
                        id: id.clone(),
                        doc: doc.to_string(),
                        create: *create,
                    },
                )?;
            }
            Write::DeleteRecord {
                kind,
                id,
                must_exist,
            } => {
                let n = write_account(conn, &AccountOp::Delete(kind.clone(), id.clone()))?;
                if n == 0 && *must_exist {
                    return Err(StoreError::Missing {
                        kind: kind.clone(),
                        id: id.clone(),
                    });
                }
            }
            Write::Definition {
                kind,
                name,
                version,
                definition,
            } => {
                let n = conn.execute(
                    "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![kind, name, version, definition.to_string(), now_record_time()],
                )?;
                if n == 0 {
                    return Err(StoreError::Exists {
                        kind: kind.clone(),
                        id: format!("{name} v{version}"),
                    });
                }
            }
            Write::RevokeCode { code, reason } => {
                if revoke(conn, code, reason)? == 0 {
                    return Err(StoreError::Missing {
                        kind: "code".into(),
                        id: code.clone(),
                    });
                }
            }
            Write::MasterData(elements) => write_master_data(conn, elements)?,
            Write::Fail(why) => return Err(StoreError::Injected(why.clone())),
        }
    }
    Ok(())
}

/// Merges each element into the stored one of the same type and id.
fn write_master_data(conn: &Connection, elements: &[VocabularyElement]) -> Result<(), StoreError> {
    let mut find =
        conn.prepare_cached("SELECT doc FROM master_data WHERE vtype = ?1 AND id = ?2")?;
    let mut put = conn.prepare_cached(
        "INSERT INTO master_data (vtype, id, doc, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (vtype, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
    )?;
    let now = now_record_time();
    for e in elements {
        let old: Option<String> = find.query_row([&e.vtype, &e.id], |r| r.get(0)).optional()?;
        let merged = crate::merge_element(old.as_deref(), e)?;
        put.execute(params![e.vtype, e.id, merged.to_doc().to_string(), now])?;
    }
    Ok(())
}

fn write_account(conn: &Connection, op: &AccountOp) -> Result<u64, StoreError> {
    match op {
        AccountOp::Put {
            kind,
            id,
            doc,
            create,
        } => {
            let sql = if *create {
                "INSERT INTO accounts (kind, id, doc, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, id) DO NOTHING"
            } else {
                "INSERT INTO accounts (kind, id, doc, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"
            };
            let n = conn.execute(sql, params![kind, id, doc, now_record_time()])?;
            if n == 0 {
                return Err(StoreError::Exists {
                    kind: kind.clone(),
                    id: id.clone(),
                });
            }
            Ok(1)
        }
        AccountOp::Delete(kind, id) => Ok(conn.execute(
            "DELETE FROM accounts WHERE kind = ?1 AND id = ?2",
            params![kind, id],
        )? as u64),
        AccountOp::Log(e) => {
            conn.execute(
                "INSERT INTO access_log (at, user, request, status, items) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![e.at, e.user, e.request, e.status, e.items as i64],
            )?;
            Ok(1)
        }
    }
}

/// The next seq and object id as the database has them (another process may have appended meanwhile).
fn read_counters(conn: &Connection) -> Result<Counters, rusqlite::Error> {
    let seq: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events", [], |r| {
        r.get(0)
    })?;
    let object_id: i64 =
        conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM objects", [], |r| {
            r.get(0)
        })?;
    Ok(Counters {
        seq: seq as u64,
        object_id,
    })
}

/// Writes every job in one transaction; each job's result is final only when the commit succeeded.
fn write_group(
    conn: &mut Connection,
    next: &mut Counters,
    jobs: &[WriteJob],
) -> Vec<Result<Done, StoreError>> {
    let start = *next;
    let attempt = (|| -> Result<Vec<Result<Done, StoreError>>, StoreError> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Under the write lock: another process (`suyuan token create --data …`, an import) may have written.
        *next = read_counters(&tx)?;
        if let [job] = jobs {
            // Alone in the group: no savepoint needed, a failure rolls the transaction back.
            return match run_job(&tx, *next, &job.work) {
                Ok((res, after)) => {
                    tx.commit()?;
                    *next = after;
                    Ok(vec![Ok(res)])
                }
                Err(e) => Ok(vec![Err(e)]),
            };
        }
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let sp = tx.savepoint()?;
            let outcome = run_job(&sp, *next, &job.work);
            match outcome {
                Ok((res, after)) => {
                    sp.commit()?;
                    *next = after;
                    results.push(Ok(res));
                }
                Err(e) => {
                    drop(sp);
                    results.push(Err(e));
                }
            }
        }
        tx.commit()?;
        Ok(results)
    })();
    match attempt {
        Ok(r) => r,
        Err(e) => {
            *next = start;
            let msg = e.to_string();
            tracing::error!(error = %msg, "sqlite group commit failed");
            jobs.iter()
                .map(|_| Err(StoreError::Backend(msg.clone())))
                .collect()
        }
    }
}

fn load_object(conn: &Connection, key: &str) -> Result<Option<ObjectState>, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT object_key, first_seq, last_seq, event_count, location, disposition, container, party FROM objects WHERE object_key = ?1",
    )?
    .query_row([key], object_row)
    .optional()
}

fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectState> {
    Ok(ObjectState {
        id: r.get(0)?,
        first_seq: r.get::<_, i64>(1)? as u64,
        last_seq: r.get::<_, i64>(2)? as u64,
        event_count: r.get::<_, i64>(3)? as u64,
        location: r.get(4)?,
        disposition: r.get(5)?,
        container: r.get(6)?,
        party: r.get(7)?,
    })
}

/// Appends one batch inside the open transaction; returns the results and the next free seq.
fn append_batch(
    conn: &Connection,
    next: Counters,
    batch: &[NewEvent],
) -> Result<(Vec<Appended>, Counters), StoreError> {
    let record_time = now_record_time();
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, biz_step, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(dedup_key) DO NOTHING",
    )?;
    let mut find = conn.prepare_cached(
        "SELECT seq, event_hash, leaf_hash, record_time, event_id FROM events WHERE dedup_key = ?1",
    )?;
    let plan = plan_append(batch, next.seq, &record_time, |seq, e, leaf| {
        let inserted = insert.execute(params![
            seq as i64,
            e.event_id,
            e.dedup_key,
            e.event_hash,
            leaf,
            record_time,
            e.event_time_ms,
            e.event_type,
            e.biz_step,
            e.body
        ])?;
        if inserted == 1 {
            return Ok(None);
        }
        let stored = find
            .query_row([&e.dedup_key], |r| {
                Ok(Appended {
                    seq: r.get::<_, i64>(0)? as u64,
                    event_hash: r.get(1)?,
                    leaf_hash: r.get(2)?,
                    record_time: r.get(3)?,
                    event_id: r.get(4)?,
                    duplicate: true,
                })
            })
            .optional()?;
        stored.map(Some).ok_or_else(|| {
            StoreError::Backend(format!(
                "event {} was neither inserted nor found",
                e.dedup_key
            ))
        })
    })?;
    let mut object_id = next.object_id;
    apply_projection(conn, &plan.new_events, &mut object_id)?;
    let mut place = conn.prepare_cached("INSERT INTO event_places (place, seq) VALUES (?1, ?2)")?;
    let mut term = conn.prepare_cached(
        "INSERT OR IGNORE INTO search_terms (term, kind, target) VALUES (?1, ?2, ?3)",
    )?;
    for (seq, e, _) in &plan.new_events {
        for p in &e.places {
            place.execute(params![p, *seq as i64])?;
        }
        for (t, kind, target) in e.terms_at(*seq) {
            term.execute(params![t, kind, target])?;
        }
    }
    if let (Some((first, ..)), Some((last, ..))) = (plan.new_events.first(), plan.new_events.last())
    {
        conn.prepare_cached(
            "INSERT INTO outbox (first_seq, last_seq, kind, created) VALUES (?1, ?2, 'events', ?3)",
        )?
        .execute(params![*first as i64, *last as i64, record_time])?;
    }
    Ok((
        plan.results,
        Counters {
            seq: plan.next_seq,
            object_id,
        },
    ))
}

/// Applies the projection changes of new events in seq order, one statement per change; the semantics
/// are those of `objects::ObjectChanges`, which the PostgreSQL backend applies in memory.
fn apply_projection(
    conn: &Connection,
    new_events: &[(u64, &NewEvent, String)],
    next_object_id: &mut i64,
) -> Result<(), StoreError> {
    let mut touch = conn.prepare_cached(
        "INSERT INTO objects (object_key, id, first_seq, last_seq, event_count, location, disposition, party)
         VALUES (?1, ?5, ?2, ?2, 1, ?3, ?4, ?6)
         ON CONFLICT(object_key) DO UPDATE SET last_seq = excluded.last_seq, event_count = event_count + 1,
           location = COALESCE(excluded.location, location), disposition = COALESCE(excluded.disposition, disposition),
           party = COALESCE(excluded.party, party)
         RETURNING id",
    )?;
    let mut hist = conn
        .prepare_cached("INSERT OR IGNORE INTO object_events (object_id, seq) VALUES (?1, ?2)")?;
    let mut set = conn.prepare_cached("UPDATE objects SET container = ?2 WHERE object_key = ?1")?;
    let mut clear = conn.prepare_cached(
        "UPDATE objects SET container = NULL WHERE object_key = ?1 AND container = ?2",
    )?;
    let mut clear_all =
        conn.prepare_cached("UPDATE objects SET container = NULL WHERE container = ?1")?;
    let mut term = conn.prepare_cached(
        "INSERT OR IGNORE INTO search_terms (term, kind, target) VALUES (?1, ?2, ?3)",
    )?;
    for (seq, e, _) in new_events {
        let seq = *seq as i64;
        for op in &e.ops {
            match op {
                ProjectionOp::Touch {
                    object,
                    location,
                    disposition,
                    party,
                } => {
                    let fresh = *next_object_id;
                    let id: i64 = touch.query_row(
                        params![object, seq, location, disposition, fresh, party],
                        |r| r.get(0),
                    )?;
                    if id == fresh {
                        *next_object_id += 1;
                        // A new object: its serial, lot or SSCC goes into the search index.
                        for (t, kind, target) in suyuan_core::search::object_terms(object) {
                            term.execute(params![t, kind, target])?;
                        }
                    }
                    hist.execute(params![id, seq])?;
                }
                ProjectionOp::SetContainer { child, parent } => {
                    set.execute(params![child, parent])?;
                }
                ProjectionOp::ClearContainer { child, parent } => {
                    clear.execute(params![child, parent])?;
                }
                ProjectionOp::ClearChildrenOf { parent } => {
                    clear_all.execute(params![parent])?;
                }
            }
        }
    }
    Ok(())
}

/// Inserts consumer scans; returns, for each, how many times its object has been scanned so far.
fn insert_scans(conn: &Connection, scans: &[ScanRecord]) -> Result<Vec<u64>, StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO scans (object_key, scanned_at, city, province, channel) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut count = conn.prepare_cached("SELECT COUNT(*) FROM scans WHERE object_key = ?1")?;
    let mut out = Vec::with_capacity(scans.len());
    for s in scans {
        insert.execute(params![
            s.object,
            s.scanned_at,
            s.city,
            s.province,
            s.channel
        ])?;
        out.push(count.query_row([&s.object], |r| r.get::<_, i64>(0))? as u64);
    }
    Ok(out)
}

fn scan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScanRecord> {
    Ok(ScanRecord {
        object: r.get(0)?,
        scanned_at: r.get(1)?,
        city: r.get(2)?,
        province: r.get(3)?,
        channel: r.get(4)?,
    })
}

const EVENT_COLUMNS: &str = "seq, event_id, event_hash, leaf_hash, record_time, body";

fn stored_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, event_id, event_hash, leaf_hash, record_time, body) = row?;
        let seq = seq as u64;
        out.push(StoredEvent {
            seq,
            event_id,
            event_hash,
            leaf_hash,
            record_time,
            event: parse_body(seq, &body)?,
        });
    }
    Ok(out)
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn commit(&self, commit: Commit) -> Result<Vec<Appended>, StoreError> {
        if commit.is_empty() {
            return Ok(Vec::new());
        }
        match self.submit(Work::Commit(commit)).await? {
            Done::Appended(a) => Ok(a),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn event_by_id(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let id = event_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE dedup_key = ?1"
            ))?;
            Ok(stored_rows(&mut stmt, [id])?.pop())
        })
        .await
    }

    async fn events_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            stored_rows(&mut stmt, params![after_seq as i64, limit])
        })
        .await
    }

    async fn recent_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT ?1"
            ))?;
            stored_rows(&mut stmt, [limit])
        })
        .await
    }

    async fn events_at_place(
        &self,
        place: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let place = place.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq IN
                 (SELECT seq FROM event_places WHERE place = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3)
                 ORDER BY seq"
            ))?;
            stored_rows(
                &mut stmt,
                params![crate::place_key(&place), after_seq as i64, i64::from(limit)],
            )
        })
        .await
    }

    async fn events_of_step(
        &self,
        step: &str,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        after: StepPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let step = step.to_string();
        let from = from_ms.unwrap_or(i64::MIN).max(after.event_time_ms);
        self.read(move |c| {
            // The index is (biz_step, event_time_ms) with the seq (rowid) after them: one range, no sort.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE biz_step = ?1 AND event_time_ms >= ?2
                 AND event_time_ms < ?3 AND (event_time_ms > ?4 OR seq > ?5)
                 ORDER BY event_time_ms, seq LIMIT ?6"
            ))?;
            stored_rows(
                &mut stmt,
                rusqlite::params![
                    step,
                    from,
                    to_ms.unwrap_or(i64::MAX),
                    after.event_time_ms,
                    after.seq as i64,
                    i64::from(limit)
                ],
            )
        })
        .await
    }

    async fn events_by_seq(&self, seqs: &[u64]) -> Result<Vec<StoredEvent>, StoreError> {
        let mut seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        seqs.sort_unstable();
        seqs.dedup();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1"
            ))?;
            let mut out = Vec::with_capacity(seqs.len());
            for s in seqs {
                out.extend(stored_rows(&mut stmt, [s])?);
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl Projections for SqliteStore {
    async fn search_terms(
        &self,
        term: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let term = term.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, target FROM search_terms WHERE term = ?1 ORDER BY kind, target LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![term, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn objects(&self, keys: &[String]) -> Result<Vec<ObjectState>, StoreError> {
        let keys = keys.to_vec();
        self.read(move |c| {
            let mut out = Vec::with_capacity(keys.len());
            for k in &keys {
                out.extend(load_object(c, k)?);
            }
            Ok(out)
        })
        .await
    }

    async fn object(&self, key: &str) -> Result<Option<ObjectState>, StoreError> {
        let key = key.to_string();
        self.read(move |c| Ok(load_object(c, &key)?)).await
    }

    async fn object_history(
        &self,
        key: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let key = key.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {} FROM objects ob JOIN object_events o ON o.object_id = ob.id JOIN events e ON e.seq = o.seq
                 WHERE ob.object_key = ?1 AND o.seq > ?2 ORDER BY o.seq LIMIT ?3",
                EVENT_COLUMNS
                    .split(", ")
                    .map(|c| format!("e.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            stored_rows(&mut stmt, params![key, after_seq as i64, limit])
        })
        .await
    }

    async fn contents(&self, container: &str, limit: u32) -> Result<Vec<ObjectState>, StoreError> {
        let key = container.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT object_key, first_seq, last_seq, event_count, location, disposition, container, party FROM objects
                 WHERE container = ?1 ORDER BY object_key LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![key, limit], object_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[async_trait]
impl ScanLog for SqliteStore {
    async fn record_scans(&self, scans: Vec<ScanRecord>) -> Result<Vec<u64>, StoreError> {
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        match self.submit(Work::Scans(scans)).await? {
            Done::Scans(n) => Ok(n),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn scans(&self, object: &str, limit: u32) -> Result<(u64, Vec<ScanRecord>), StoreError> {
        let key = object.to_string();
        self.read(move |c| {
            let total: i64 = c.query_row("SELECT COUNT(*) FROM scans WHERE object_key = ?1", [&key], |r| r.get(0))?;
            let mut stmt = c.prepare_cached(
                "SELECT object_key, scanned_at, city, province, channel FROM scans WHERE object_key = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![key, limit], scan_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok((total as u64, rows))
        })
        .await
    }
}

fn save_definition(
    conn: &Connection,
    kind: &str,
    name: &str,
    def: &Value,
) -> Result<StoredDefinition, StoreError> {
    let latest = conn
        .query_row(
            "SELECT version, definition, created_at FROM definitions WHERE kind = ?1 AND name = ?2 ORDER BY version DESC LIMIT 1",
            [kind, name],
            |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
        )
        .optional()?;
    let stored = |version, created_at| StoredDefinition {
        kind: kind.to_string(),
        name: name.to_string(),
        version,
        definition: def.clone(),
        created_at,
    };
    if let Some((version, text, created_at)) = &latest
        && serde_json::from_str::<Value>(text).ok().as_ref() == Some(def)
    {
        return Ok(stored(*version, created_at.clone()));
    }
    let version = latest.map_or(1, |(v, _, _)| v + 1);
    let created_at = now_record_time();
    conn.execute(
        "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![kind, name, version, def.to_string(), created_at],
    )?;
    Ok(stored(version, created_at))
}

fn reserve(
    conn: &Connection,
    rule: &str,
    scope: &str,
    count: u64,
    limit: u64,
) -> Result<Option<u64>, StoreError> {
    if count.saturating_add(1) > limit {
        return Ok(None);
    }
    let next: Option<i64> = conn
        .query_row(
            "INSERT INTO code_sequences (rule, scope, next) VALUES (?1, ?2, 1 + ?3)
             ON CONFLICT (rule, scope) DO UPDATE SET next = next + ?3 WHERE next + ?3 <= ?4
             RETURNING next",
            params![rule, scope, count as i64, limit.min(i64::MAX as u64) as i64],
            |r| r.get(0),
        )
        .optional()?;
    Ok(next.map(|n| n as u64 - count))
}

fn register(conn: &Connection, codes: &[IssuedCode]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO codes (uri, code, rule, version, issued_at, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (uri) DO NOTHING",
    )?;
    for c in codes {
        let n = stmt.execute(params![
            c.uri,
            c.code,
            c.rule,
            c.version,
            c.issued_at,
            c.revoked
        ])?;
        if n == 0 {
            return Err(StoreError::DuplicateCode {
                code: c.code.clone(),
                uri: c.uri.clone(),
            });
        }
    }
    Ok(())
}

fn revoke(conn: &Connection, code: &str, reason: &str) -> Result<u64, StoreError> {
    let n = conn.execute(
        "UPDATE codes SET revoked = ?2 WHERE (uri = ?1 OR code = ?1) AND revoked IS NULL",
        params![code, reason],
    )?;
    Ok(n as u64)
}

fn extend_tree(
    conn: &Connection,
    from: u64,
    to: u64,
    hashes: &[[u8; 32]],
) -> Result<(), StoreError> {
    let actual: i64 =
        conn.query_row("SELECT size FROM tree_head WHERE id = 1", [], |r| r.get(0))?;
    if actual as u64 != from {
        return Err(StoreError::TreeMoved {
            expected: from,
            actual: actual as u64,
        });
    }
    let first = suyuan_ledger::tree::stored_count(from) as i64;
    let mut stmt = conn.prepare_cached("INSERT INTO tree_hashes (idx, hash) VALUES (?1, ?2)")?;
    for (i, h) in hashes.iter().enumerate() {
        stmt.execute(params![first + i as i64, &h[..]])?;
    }
    conn.execute("UPDATE tree_head SET size = ?1 WHERE id = 1", [to as i64])?;
    Ok(())
}

fn definition_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDefinition> {
    let text: String = r.get(3)?;
    Ok(StoredDefinition {
        kind: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        definition: serde_json::from_str(&text).unwrap_or(Value::Null),
        created_at: r.get(4)?,
    })
}

fn code_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IssuedCode> {
    Ok(IssuedCode {
        uri: r.get(0)?,
        code: r.get(1)?,
        rule: r.get(2)?,
        version: r.get(3)?,
        issued_at: r.get(4)?,
        revoked: r.get(5)?,
    })
}

#[async_trait]
impl CodeRegistry for SqliteStore {
    async fn save_definition(
        &self,
        kind: &str,
        name: &str,
        definition: &Value,
    ) -> Result<StoredDefinition, StoreError> {
        let work = Work::SaveDefinition(
            kind.to_string(),
            name.to_string(),
            Box::new(definition.clone()),
        );
        match self.submit(work).await? {
            Done::Definition(r) => Ok(r),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn definition(
        &self,
        kind: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredDefinition>, StoreError> {
        let (kind, name) = (kind.to_string(), name.to_string());
        self.read(move |c| {
            let sql = "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = ?1 AND name = ?2 AND (?3 IS NULL OR version = ?3) ORDER BY version DESC LIMIT 1";
            Ok(c.query_row(sql, params![kind, name, version], definition_row).optional()?)
        })
        .await
    }

    async fn definition_versions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, StoreError> {
        let (kind, name) = (kind.to_string(), name.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = ?1 AND name = ?2 ORDER BY version",
            )?;
            Ok(stmt.query_map([kind, name], definition_row)?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn definitions(&self, kind: &str) -> Result<Vec<StoredDefinition>, StoreError> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.kind, d.name, d.version, d.definition, d.created_at FROM definitions d
                 WHERE d.kind = ?1 AND d.version = (SELECT MAX(version) FROM definitions WHERE kind = d.kind AND name = d.name)
                 ORDER BY d.name",
            )?;
            Ok(stmt.query_map([kind], definition_row)?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn reserve_sequence(
        &self,
        rule: &str,
        scope: &str,
        count: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        match self
            .submit(Work::Reserve(
                rule.to_string(),
                scope.to_string(),
                count,
                limit,
            ))
            .await?
        {
            Done::Reserved(n) => Ok(n),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn register_codes(&self, codes: Vec<IssuedCode>) -> Result<(), StoreError> {
        if codes.is_empty() {
            return Ok(());
        }
        match self.submit(Work::Register(codes)).await? {
            Done::Nothing => Ok(()),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn issued(&self, code_or_uri: &str) -> Result<Vec<IssuedCode>, StoreError> {
        let key = code_or_uri.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT uri, code, rule, version, issued_at, revoked FROM codes WHERE uri = ?1
                 UNION SELECT uri, code, rule, version, issued_at, revoked FROM codes WHERE code = ?1",
            )?;
            Ok(stmt.query_map([key], code_row)?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn issued_uris(&self, uris: &[String]) -> Result<Vec<String>, StoreError> {
        let uris = uris.to_vec();
        self.read(move |c| {
            let mut out = Vec::new();
            for chunk in uris.chunks(500) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut stmt =
                    c.prepare(&format!("SELECT uri FROM codes WHERE uri IN ({marks})"))?;
                let found = stmt
                    .query_map(rusqlite::params_from_iter(chunk), |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                out.extend(found);
            }
            Ok(out)
        })
        .await
    }

    async fn revoke_code(&self, code_or_uri: &str, reason: &str) -> Result<u64, StoreError> {
        match self
            .submit(Work::Revoke(code_or_uri.to_string(), reason.to_string()))
            .await?
        {
            Done::Number(n) => Ok(n),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn issued_count(&self, rule: &str) -> Result<u64, StoreError> {
        let rule = rule.to_string();
        self.read(move |c| {
            let n: i64 =
                c.query_row("SELECT COUNT(*) FROM codes WHERE rule = ?1", [rule], |r| {
                    r.get(0)
                })?;
            Ok(n as u64)
        })
        .await
    }
}

#[async_trait]
impl TreeLog for SqliteStore {
    async fn leaf_hashes(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, leaf_hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after_seq as i64, limit], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(seq, h)| Ok((seq, crate::hash_from_hex(&h)?)))
                .collect()
        })
        .await
    }

    async fn record_hashes(&self, seqs: &[u64]) -> Result<Vec<(u64, String, String)>, StoreError> {
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        self.read(move |c| {
            // 500 seqs a statement: one index probe each inside SQLite, one statement per chunk.
            let mut out = Vec::with_capacity(seqs.len());
            for chunk in seqs.chunks(500) {
                let sql = format!(
                    "SELECT seq, event_hash, leaf_hash FROM events WHERE seq IN ({}) ORDER BY seq",
                    vec!["?"; chunk.len()].join(",")
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let params = rusqlite::params_from_iter(chunk.iter().map(|&s| s as i64));
                let rows = stmt.query_map(params, |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn tree_size(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 =
                c.query_row("SELECT size FROM tree_head WHERE id = 1", [], |r| r.get(0))?;
            Ok(n as u64)
        })
        .await
    }

    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let indexes = indexes.to_vec();
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT hash FROM tree_hashes WHERE idx = ?1")?;
            indexes
                .iter()
                .map(|i| {
                    let b: Option<Vec<u8>> =
                        stmt.query_row([*i as i64], |r| r.get(0)).optional()?;
                    b.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                        .ok_or_else(|| {
                            StoreError::Backend(format!(
                                "stored tree hash {i} is missing or damaged"
                            ))
                        })
                })
                .collect()
        })
        .await
    }

    async fn extend_tree(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: Vec<[u8; 32]>,
    ) -> Result<(), StoreError> {
        match self
            .submit(Work::ExtendTree(from_size, to_size, hashes))
            .await?
        {
            Done::Nothing => Ok(()),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn add_checkpoint(&self, size: u64, root: &str, note: &str) -> Result<(), StoreError> {
        match self
            .submit(Work::Checkpoint(size, root.to_string(), note.to_string()))
            .await?
        {
            Done::Nothing => Ok(()),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT size, root, note, created_at FROM checkpoints
                 WHERE ?1 IS NULL OR size = ?1 ORDER BY size DESC LIMIT 1",
            )?;
            Ok(stmt
                .query_row([size.map(|s| s as i64)], |r| {
                    Ok(StoredCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        root: r.get(1)?,
                        note: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT size, root, note, created_at FROM checkpoints ORDER BY size",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok(StoredCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        root: r.get(1)?,
                        note: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[async_trait]
impl MasterData for SqliteStore {
    async fn put_master_data(&self, elements: Vec<VocabularyElement>) -> Result<(), StoreError> {
        if elements.is_empty() {
            return Ok(());
        }
        self.submit(Work::MasterData(elements)).await.map(|_| ())
    }

    async fn master_data(&self, vtypes: &[String]) -> Result<Vec<VocabularyElement>, StoreError> {
        let vtypes = vtypes.to_vec();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT vtype, id, doc FROM master_data ORDER BY vtype, id")?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .filter(|(t, _, _)| vtypes.is_empty() || vtypes.contains(t))
                .map(|(t, id, doc)| crate::element_from_row(&t, &id, &doc))
                .collect()
        })
        .await
    }
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn put_account(
        &self,
        kind: &str,
        id: &str,
        doc: &Value,
        create: bool,
    ) -> Result<(), StoreError> {
        let op = AccountOp::Put {
            kind: kind.to_string(),
            id: id.to_string(),
            doc: doc.to_string(),
            create,
        };
        self.submit(Work::Account(op)).await.map(|_| ())
    }

    async fn account(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.read(move |c| {
            let doc: Option<String> = c
                .prepare_cached("SELECT doc FROM accounts WHERE kind = ?1 AND id = ?2")?
                .query_row([&kind, &id], |r| r.get(0))
                .optional()?;
            doc.map(|d| account_doc(&kind, &id, &d)).transpose()
        })
        .await
    }

    async fn accounts(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT id, doc FROM accounts WHERE kind = ?1 ORDER BY id")?;
            let rows = stmt
                .query_map([&kind], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, d)| account_doc(&kind, &id, &d).map(|v| (id, v)))
                .collect()
        })
        .await
    }

    async fn delete_account(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let op = AccountOp::Delete(kind.to_string(), id.to_string());
        match self.submit(Work::Account(op)).await? {
            Done::Number(n) => Ok(n > 0),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn log_access(&self, entry: AccessEntry) -> Result<(), StoreError> {
        self.submit(Work::Account(AccountOp::Log(entry)))
            .await
            .map(|_| ())
    }

    async fn access_log(
        &self,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        let user = user.map(str::to_string);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, user, request, status, items FROM access_log
                 WHERE ?1 IS NULL OR user = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            Ok(stmt
                .query_map(params![user, limit], |r| {
                    Ok(AccessEntry {
                        id: r.get::<_, i64>(0)? as u64,
                        at: r.get(1)?,
                        user: r.get(2)?,
                        request: r.get(3)?,
                        status: r.get(4)?,
                        items: r.get::<_, i64>(5)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[async_trait]
impl Admin for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
        .await
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        let path = self.db_path.clone();
        self.read(move |c| {
            // Seqs are gapless, so the highest seq is the count.
            let last_seq: i64 =
                c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
            let events = last_seq;
            let objects: i64 = c.query_row("SELECT COUNT(*) FROM objects", [], |r| r.get(0))?;
            let pending: i64 = c.query_row(
                "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) FROM outbox WHERE done_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            let scans: i64 = c.query_row("SELECT COUNT(*) FROM scans", [], |r| r.get(0))?;
            let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            let wal = path.with_extension("db-wal");
            Ok(Stats {
                events: events as u64,
                objects: objects as u64,
                last_seq: last_seq as u64,
                outbox_pending: pending as u64,
                scans: scans as u64,
                bytes: size(&path) + size(&wal),
            })
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
