//! The PostgreSQL schema: migrations in order (`schema_migrations` records them) and the backfills some of them need.

#[allow(unused_imports)]
use super::*;

/// Schema migrations, applied in order and recorded in `schema_migrations`.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE ledger_head (id INT PRIMARY KEY CHECK (id = 1), last_seq BIGINT NOT NULL);
INSERT INTO ledger_head VALUES (1, 0);
CREATE TABLE events (
    seq           BIGINT PRIMARY KEY,
    event_id      TEXT NOT NULL,
    dedup_key     TEXT NOT NULL UNIQUE,
    event_hash    TEXT NOT NULL,
    leaf_hash     TEXT NOT NULL,
    record_time   TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    event_type    TEXT NOT NULL,
    biz_step      TEXT,
    body          TEXT NOT NULL
);
CREATE TABLE objects (
    id          BIGSERIAL PRIMARY KEY,
    object_key  TEXT NOT NULL UNIQUE,
    first_seq   BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    location    TEXT,
    disposition TEXT,
    container   TEXT
);
CREATE INDEX objects_container ON objects(container) WHERE container IS NOT NULL;
CREATE TABLE object_events (
    object_id BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (object_id, seq)
);
CREATE TABLE outbox (
    id        BIGSERIAL PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_seq  BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    created   TEXT NOT NULL,
    done_at   TEXT
);
CREATE INDEX outbox_pending ON outbox(id) WHERE done_at IS NULL;
"#,
    r#"
CREATE TABLE scans (
    id         BIGSERIAL PRIMARY KEY,
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
    version    INT NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, name, version)
);
CREATE TABLE code_sequences (
    rule  TEXT NOT NULL,
    scope TEXT NOT NULL,
    next  BIGINT NOT NULL,
    PRIMARY KEY (rule, scope)
);
CREATE TABLE codes (
    uri       TEXT PRIMARY KEY,
    code      TEXT NOT NULL,
    rule      TEXT NOT NULL,
    version   INT NOT NULL,
    issued_at TEXT NOT NULL,
    revoked   TEXT
);
CREATE INDEX codes_code ON codes(code);
CREATE INDEX codes_rule ON codes(rule);
"#,
    r#"
CREATE TABLE tree_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);
CREATE TABLE tree_head (
    id   INT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO tree_head VALUES (1, 0);
CREATE TABLE checkpoints (
    size       BIGINT PRIMARY KEY,
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
    id      BIGSERIAL PRIMARY KEY,
    at      TEXT NOT NULL,
    "user"  TEXT NOT NULL,
    request TEXT NOT NULL,
    status  INT NOT NULL,
    items   BIGINT NOT NULL
);
CREATE INDEX access_log_user ON access_log("user", id);
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
);
"#,
    // The place index; existing events are indexed by `backfill_places` in the same transaction.
    r#"
CREATE TABLE event_places (
    place BIGINT NOT NULL,
    seq   BIGINT NOT NULL,
    PRIMARY KEY (place, seq)
);
"#,
    // The search index; existing objects and events are indexed by `backfill_terms` in the same transaction.
    r#"
CREATE TABLE search_terms (
    term   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (term, kind, target)
);
"#,
    outbox::MIGRATION,
];

/// The schema version that adds the search index.
pub(super) const TERMS_VERSION: usize = 10;

/// Indexes the serials, lots and SSCCs of every stored object and the transactions and ILMD lots of every
/// stored event (a database from before the search index).
pub(super) async fn backfill_terms(tx: &tokio_postgres::Transaction<'_>) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for r in tx.query("SELECT object_key FROM objects", &[]).await? {
        rows.extend(suyuan_core::search::object_terms(r.get(0)));
        if rows.len() >= 10_000 {
            put_terms(tx, &std::mem::take(&mut rows)).await?;
        }
    }
    put_terms(tx, &std::mem::take(&mut rows)).await?;
    let mut after = 0i64;
    loop {
        let events = tx
            .query(
                "SELECT seq, body FROM events WHERE seq > $1 ORDER BY seq LIMIT 10000",
                &[&after],
            )
            .await?;
        let Some(last) = events.last().map(|r| r.get::<_, i64>(0)) else {
            return Ok(());
        };
        for r in &events {
            let seq: i64 = r.get(0);
            let value = parse_body(seq as u64, r.get(1))?;
            rows.extend(suyuan_epcis::stored::stored_event_terms(&value, seq as u64));
        }
        put_terms(tx, &std::mem::take(&mut rows)).await?;
        after = last;
    }
}

/// The schema version that adds the place index.
pub(super) const PLACES_VERSION: usize = 9;

/// Indexes the places of every stored event (a database from before the place index), 10,000 at a time.
pub(super) async fn backfill_places(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(), StoreError> {
    let mut after = 0i64;
    loop {
        let rows = tx
            .query(
                "SELECT seq, body FROM events WHERE seq > $1 ORDER BY seq LIMIT 10000",
                &[&after],
            )
            .await?;
        let Some(last) = rows.last().map(|r| r.get::<_, i64>(0)) else {
            return Ok(());
        };
        let (mut places, mut seqs) = (Vec::new(), Vec::new());
        for r in &rows {
            let seq: i64 = r.get(0);
            for p in crate::places_of(&parse_body(seq as u64, r.get(1))?) {
                places.push(p);
                seqs.push(seq);
            }
        }
        tx.execute(
            "INSERT INTO event_places (place, seq) SELECT * FROM UNNEST($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
            &[&places, &seqs],
        )
        .await?;
        after = last;
    }
}
