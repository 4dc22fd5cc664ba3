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
use suyuan_core::projection::ProjectionOp;
use suyuan_epcis::masterdata::VocabularyElement;
use tokio::sync::oneshot;

mod accounts;
mod codes;
mod events;
mod schema;
mod tree;
mod writer;

use codes::*;
use schema::*;
pub use schema::{migrate, migrate_up_to};
use tree::*;
use writer::*;

mod outbox;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "suyuan.db";

/// Most events one group commit takes before it commits.
const GROUP_LIMIT: usize = 20_000;

/// The schema version this Suyuan writes (`PRAGMA user_version` of an up-to-date database).
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

/// The SQLite store of one data directory.
pub struct SqliteStore {
    writer: Option<SyncSender<WriteJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
    checkpointer: Option<(SyncSender<()>, std::thread::JoinHandle<()>)>,
    readers: Arc<Mutex<Vec<Connection>>>,
    db_path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in data directory `dir` and starts its writer thread.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        SqliteStore::open_limited(dir, None)
    }

    /// Opens the store like [`SqliteStore::open`], its database kept under `max_bytes` when given: a write
    /// that would pass it fails as [`StoreError::Full`], as on a full disk, while reads go on.
    pub fn open_limited(dir: &Path, max_bytes: Option<u64>) -> Result<Self, StoreError> {
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
        if let Some(max) = max_bytes {
            let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
            let pages = i64::try_from(max).unwrap_or(i64::MAX) / page.max(512);
            conn.pragma_update(None, "max_page_count", pages.max(1))?;
        }
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
                    // Reads through mmap as the writer's do: a page already in the OS cache is not copied
                    // by a read() per page (verify spent 9% of its time there).
                    c.pragma_update(None, "mmap_size", schema::MMAP_BYTES)?;
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
