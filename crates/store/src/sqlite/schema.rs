//! The SQLite schema: migrations in order (`PRAGMA user_version` counts them) and the backfills some of them need.

#[allow(unused_imports)]
use super::*;

/// Schema migrations, applied in order; `PRAGMA user_version` counts the applied ones.
pub(super) const MIGRATIONS: &[&str] = &[
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
pub(super) const TERMS_VERSION: usize = 10;

/// Indexes the serials, lots and SSCCs of every stored object and the transactions and ILMD lots of every
/// stored event (a store from before the search index).
pub(super) fn backfill_terms(conn: &Connection) -> Result<(), StoreError> {
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
        for (term, kind, target) in suyuan_epcis::stored::stored_event_terms(value, seq as u64) {
            put.execute(params![term, kind, target])?;
        }
        Ok(())
    })
}

/// How much of the database file every connection, writer and readers, reads through mmap.
pub(super) const MMAP_BYTES: i64 = 1 << 30;

pub(super) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB page cache, reads through mmap. (temp_store=MEMORY made savepoint release O(journal): slower.)
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(())
}

/// The schema version that adds the place index.
pub(super) const PLACES_VERSION: usize = 9;

/// Calls `f` with the seq and body of every stored event, 10,000 read at a time, logging progress.
pub(super) fn for_each_stored(
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
pub(super) fn backfill_places(conn: &Connection) -> Result<(), StoreError> {
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
