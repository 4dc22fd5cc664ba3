//! The SQLite ends of a copy, and online backups through SQLite's backup API.

use super::{Cell, MUST_BE_EMPTY, Reader, Table, Writer, not_empty};
use crate::StoreError;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// Reads a SQLite database inside one read transaction: in WAL mode its first read fixes the snapshot, and a
/// server writing meanwhile is neither blocked nor seen.
pub(super) struct SqliteReader {
    conn: Connection,
}

impl SqliteReader {
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Backend(format!(
                "{}: no such database file",
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        check_schema(&conn, path)?;
        conn.execute_batch("BEGIN DEFERRED")?;
        // The first read starts the snapshot every later page is read from.
        conn.query_row("SELECT COUNT(*) FROM tree_head", [], |_| Ok(()))?;
        Ok(SqliteReader { conn })
    }
}

/// Refuses a database that is not a Suyuan store, or (unless `older_ok`) not of this version's schema. A file
/// copy may be older: the store that opens it brings it up to date; a table-by-table copy may not.
fn check_version(conn: &Connection, path: &Path, older_ok: bool) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = crate::sqlite::schema_version() as i64;
    if version == known || (older_ok && version > 0 && version < known) {
        return Ok(());
    }
    Err(StoreError::Backend(format!(
        "{} has schema version {version}, this Suyuan writes version {known}: {}",
        path.display(),
        if version == 0 {
            "it is not a Suyuan store"
        } else if version < known {
            "restore it into a data directory first (`suyuan restore FILE --data DIR`), which brings it up to \
             date, then copy that (`suyuan migrate --from DIR --to …`)"
        } else {
            "upgrade Suyuan"
        }
    )))
}

/// Refuses a database that is not a Suyuan store of this version's schema.
fn check_schema(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    check_version(conn, path, false)
}

fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        // No column of the schema holds a real; kept exactly as text would lose nothing either.
        ValueRef::Real(f) => Cell::Text(f.to_string()),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Owned(SqlValue::Null),
            Cell::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
            Cell::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Cell::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

#[async_trait::async_trait]
impl Reader for SqliteReader {
    async fn page(
        &mut self,
        table: &Table,
        after: Option<&[Cell]>,
        limit: usize,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let sql = table.page_query(after.is_some(), limit, |_| "?".into());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let params = rusqlite::params_from_iter(after.unwrap_or(&[]).iter());
        let width = table.columns.len();
        let rows = stmt
            .query_map(params, |r| {
                (0..width)
                    .map(|i| r.get_ref(i).map(cell))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// Writes a new SQLite database file (refusing one that already holds data) in one transaction.
pub(super) struct SqliteWriter {
    conn: Connection,
}

impl SqliteWriter {
    pub(super) fn create(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        crate::sqlite::migrate(&mut conn)?;
        for (table, what) in MUST_BE_EMPTY {
            let n: i64 =
                conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            if n > 0 {
                return Err(not_empty(path.display(), what, n));
            }
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(SqliteWriter { conn })
    }
}

#[async_trait::async_trait]
impl Writer for SqliteWriter {
    async fn clear(&mut self, table: &Table) -> Result<(), StoreError> {
        self.conn
            .execute_batch(&format!("DELETE FROM \"{}\"", table.name))?;
        Ok(())
    }

    async fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> Result<(), StoreError> {
        let marks = vec!["?"; table.columns.len()].join(", ");
        let mut stmt = self.conn.prepare_cached(&format!(
            "INSERT INTO \"{}\" ({}) VALUES ({marks})",
            table.name,
            table.column_list()
        ))?;
        for row in rows {
            stmt.execute(rusqlite::params_from_iter(row.iter()))?;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<(), StoreError> {
        // A lease held in the source belongs to a process that does not run here.
        self.conn
            .execute_batch("UPDATE reactors SET lease_owner = NULL, lease_until_ms = 0; COMMIT")?;
        Ok(())
    }
}

/// Copies the live database `db` into a new file `out` with SQLite's backup API, in one step: the copy is the
/// database as of one moment, taken while a server goes on writing (WAL readers do not block the writer).
/// The copy is left in rollback-journal mode, a single self-contained file.
pub fn online_backup(db: &Path, out: &Path) -> Result<(), StoreError> {
    if out.exists() {
        return Err(StoreError::Backend(format!(
            "{} already exists: a backup never overwrites a file",
            out.display()
        )));
    }
    let src = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(30))?;
    check_version(&src, db, true)?;
    let mut dst = Connection::open(out)?;
    {
        let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
        // -1: every page in one step, under one read lock, so nothing written meanwhile is half-seen.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            use rusqlite::backup::StepResult;
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                _ if std::time::Instant::now() > deadline => {
                    return Err(StoreError::Backend(format!(
                        "{} stayed locked for a minute; the backup was not taken",
                        db.display()
                    )));
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    let ok: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(StoreError::Backend(format!(
            "the backup {} failed its integrity check: {ok}",
            out.display()
        )));
    }
    Ok(())
}

/// What a backup file holds, read without opening it as a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Stored events.
    pub events: u64,
    /// Leaves the stored Merkle tree covers.
    pub tree_size: u64,
    /// The newest signed checkpoint's size and root, if any.
    pub checkpoint: Option<(u64, String)>,
}

/// Reads the summary of the SQLite database file `path` (a backup).
pub fn summary(path: &Path) -> Result<Summary, StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    check_version(&conn, path, true)?;
    let events: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
    let tree_size: i64 = conn.query_row("SELECT size FROM tree_head", [], |r| r.get(0))?;
    let checkpoint = conn
        .query_row(
            "SELECT size, root FROM checkpoints ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
        )
        .optional()?;
    Ok(Summary {
        events: events as u64,
        tree_size: tree_size as u64,
        checkpoint,
    })
}
