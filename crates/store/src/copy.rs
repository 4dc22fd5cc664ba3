//! Copying a whole store, table by table, from one consistent snapshot: online backups, restores and the
//! move from SQLite to PostgreSQL. Both backends keep the same tables and columns, so a copy reads each
//! table in primary-key order (keyset pages, the source's own ordering) and writes the rows unchanged into
//! an empty store of either kind, in one transaction.

use crate::StoreError;
use std::path::PathBuf;

mod postgres;
mod sqlite;

pub use sqlite::{Summary, online_backup, summary};

/// Rows read and written per page.
const PAGE: usize = 5_000;

/// One value of a copied row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer of any width.
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A copied table: its name, its columns, and how many leading columns form its primary key.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The table's name.
    pub name: &'static str,
    /// Its columns, the primary key's first.
    pub columns: &'static [&'static str],
    /// How many of `columns` form the primary key.
    pub key: usize,
}

const fn t(name: &'static str, columns: &'static [&'static str], key: usize) -> Table {
    Table { name, columns, key }
}

/// Every table of a store, in the order they are copied (events first: a reader of a half-done copy is
/// never served, as the whole copy is one transaction, but progress reads naturally).
pub const TABLES: &[Table] = &[
    t(
        "events",
        &[
            "seq",
            "event_id",
            "dedup_key",
            "event_hash",
            "leaf_hash",
            "record_time",
            "event_time_ms",
            "event_type",
            "biz_step",
            "body",
        ],
        1,
    ),
    t(
        "objects",
        &[
            "id",
            "object_key",
            "first_seq",
            "last_seq",
            "event_count",
            "location",
            "disposition",
            "container",
            "party",
        ],
        1,
    ),
    t("object_events", &["object_id", "seq"], 2),
    t(
        "outbox",
        &["id", "first_seq", "last_seq", "kind", "created", "done_at"],
        1,
    ),
    t(
        "scans",
        &[
            "id",
            "object_key",
            "scanned_at",
            "city",
            "province",
            "channel",
        ],
        1,
    ),
    t(
        "definitions",
        &["kind", "name", "version", "definition", "created_at"],
        3,
    ),
    t("code_sequences", &["rule", "scope", "next"], 2),
    t(
        "codes",
        &["uri", "code", "rule", "version", "issued_at", "revoked"],
        1,
    ),
    t("tree_hashes", &["idx", "hash"], 1),
    t("tree_head", &["id", "size"], 1),
    t("checkpoints", &["size", "root", "note", "created_at"], 1),
    t("accounts", &["kind", "id", "doc", "updated_at"], 2),
    t(
        "access_log",
        &["id", "at", "user", "request", "status", "items"],
        1,
    ),
    t("master_data", &["vtype", "id", "doc", "updated_at"], 2),
    t("event_places", &["place", "seq"], 2),
    t("search_terms", &["term", "kind", "target"], 3),
    t(
        "reactors",
        &[
            "name",
            "done_id",
            "lease_owner",
            "lease_until_ms",
            "failures",
            "last_error",
            "updated_at",
        ],
        1,
    ),
];

impl Table {
    /// The column list, each name quoted (`user` is a keyword in PostgreSQL).
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The primary key's columns, quoted and comma-separated.
    fn key_list(&self) -> String {
        self.columns[..self.key]
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The query of one keyset page: up to `limit` rows in key order, after the key bound to the placeholders
    /// `mark(1)…mark(key)` when `after` (the first page otherwise).
    fn page_query(&self, after: bool, limit: usize, mark: impl Fn(usize) -> String) -> String {
        let filter = if after {
            let marks: Vec<String> = (1..=self.key).map(mark).collect();
            format!("WHERE ({}) > ({})", self.key_list(), marks.join(", "))
        } else {
            String::new()
        };
        format!(
            "SELECT {} FROM \"{}\" {filter} ORDER BY {} LIMIT {limit}",
            self.column_list(),
            self.name,
            self.key_list()
        )
    }
}

/// The tables a destination must hold nothing in, and what their rows are called in the refusal.
const MUST_BE_EMPTY: [(&str, &str); 3] = [
    ("events", "events"),
    ("accounts", "accounts"),
    ("definitions", "definitions"),
];

/// One end of a copy.
#[derive(Debug, Clone)]
pub enum Place {
    /// A SQLite database file (a data directory's `suyuan.db`, or a backup file).
    Sqlite(PathBuf),
    /// A PostgreSQL database, optionally inside a schema (tests keep each store in its own).
    Postgres {
        /// The connection URL.
        url: String,
        /// The schema, when not the URL's default search path.
        schema: Option<String>,
    },
}

impl Place {
    /// The place a target names: a `postgres://` URL, or a SQLite database file.
    pub fn parse(target: &str) -> Place {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            Place::Postgres {
                url: target.to_string(),
                schema: None,
            }
        } else {
            Place::Sqlite(PathBuf::from(target))
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Sqlite(p) => write!(f, "{}", p.display()),
            // The URL may carry a password: name only its host and database.
            Place::Postgres { url, schema } => {
                let shown = url.rsplit('@').next().unwrap_or(url);
                match schema {
                    Some(s) => write!(f, "PostgreSQL {shown} (schema {s})"),
                    None => write!(f, "PostgreSQL {shown}"),
                }
            }
        }
    }
}

/// What a copy moved: rows per table, in [`TABLES`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// Each table's name and the rows copied.
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    /// Rows copied of `table`.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// The reading end: one consistent snapshot for the whole copy.
#[async_trait::async_trait]
trait Reader: Send {
    /// Up to `limit` rows of `table` whose key follows `after` (all from the first when `None`), in key order.
    async fn page(
        &mut self,
        table: &Table,
        after: Option<&[Cell]>,
        limit: usize,
    ) -> Result<Vec<Vec<Cell>>, StoreError>;
}

/// The writing end: an empty store, written in one transaction that [`Writer::finish`] commits.
#[async_trait::async_trait]
trait Writer: Send {
    /// Empties `table` (rows the schema seeds, such as the tree head) before its rows are written.
    async fn clear(&mut self, table: &Table) -> Result<(), StoreError>;
    /// Writes rows of `table`.
    async fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> Result<(), StoreError>;
    /// Sets what the backend derives from the rows (PostgreSQL's sequences and ledger head) and commits.
    async fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

async fn reader(place: &Place) -> Result<Box<dyn Reader>, StoreError> {
    Ok(match place {
        Place::Sqlite(path) => Box::new(sqlite::SqliteReader::open(path)?),
        Place::Postgres { url, schema } => {
            Box::new(postgres::PgReader::open(url, schema.as_deref()).await?)
        }
    })
}

async fn writer(place: &Place) -> Result<Box<dyn Writer>, StoreError> {
    Ok(match place {
        Place::Sqlite(path) => Box::new(sqlite::SqliteWriter::create(path)?),
        Place::Postgres { url, schema } => {
            Box::new(postgres::PgWriter::open(url, schema.as_deref()).await?)
        }
    })
}

/// Copies every table of the store at `from` into the empty store at `to` (created with the current schema if
/// missing; refused, with nothing written, if it holds any event, account or definition). `progress` is
/// called with the table and the rows copied of it so far. The source is read from one snapshot, so a
/// running server may go on writing meanwhile; the destination is written in one transaction.
pub async fn copy_store(
    from: &Place,
    to: &Place,
    progress: &(dyn Fn(&str, u64) + Send + Sync),
) -> Result<Copied, StoreError> {
    let mut src = reader(from).await?;
    let mut dst = writer(to).await?;
    let mut copied = Copied::default();
    for table in TABLES {
        dst.clear(table).await?;
        let mut after: Option<Vec<Cell>> = None;
        let mut n = 0u64;
        loop {
            let rows = src.page(table, after.as_deref(), PAGE).await?;
            if rows.is_empty() {
                break;
            }
            dst.write(table, &rows).await?;
            n += rows.len() as u64;
            progress(table.name, n);
            let last = rows.len() < PAGE;
            after = rows.last().map(|r| r[..table.key].to_vec());
            if last {
                break;
            }
        }
        copied.tables.push((table.name.to_string(), n));
    }
    dst.finish().await?;
    Ok(copied)
}

/// The refusal of a destination that already holds data.
fn not_empty(place: impl std::fmt::Display, what: &str, n: i64) -> StoreError {
    StoreError::Backend(format!(
        "{place} is not empty ({n} {what}): restore and migrate write only into an empty store, so that \
         nothing there is overwritten"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_named_without_its_password() {
        let p = Place::parse("postgres://suyuan:s3cret@db.plant:5432/trace");
        assert_eq!(p.to_string(), "PostgreSQL db.plant:5432/trace");
        assert!(matches!(Place::parse("./data/suyuan.db"), Place::Sqlite(_)));
    }

    #[test]
    fn every_table_names_its_key_among_its_first_columns() {
        for t in TABLES {
            assert!(t.key >= 1 && t.key <= t.columns.len(), "{}", t.name);
        }
        assert_eq!(TABLES.iter().filter(|t| t.name == "events").count(), 1);
        assert_eq!(
            TABLES
                .iter()
                .find(|t| t.name == "access_log")
                .map(Table::column_list)
                .unwrap_or_default(),
            "\"id\", \"at\", \"user\", \"request\", \"status\", \"items\""
        );
    }
}
