//! The PostgreSQL backend: a connection pool, migrations under an advisory lock, and appends that lock the
//! ledger head row so seqs stay gapless, writing each batch with array (`UNNEST`) inserts.

use crate::objects::{ObjectChanges, Touched};
use crate::{
    AccessEntry, Accounts, CodeRegistry, IssuedCode, MasterData, ScanLog, ScanRecord,
    StoredCheckpoint, StoredDefinition, TreeLog, account_doc,
};
use crate::{
    Admin, Appended, EventLog, NewEvent, ObjectState, Projections, Stats, StepPosition, StoreError,
    StoredEvent, now_record_time, parse_body, plan_append,
};
use crate::{Commit, Write};

mod outbox;
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use suyuan_core::masterdata::VocabularyElement;
use tokio_postgres::{NoTls, Row};

/// Schema migrations, applied in order and recorded in `schema_migrations`.
const MIGRATIONS: &[&str] = &[
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
const TERMS_VERSION: usize = 10;

/// Inserts search index rows, ignoring those already there.
async fn put_terms(
    tx: &tokio_postgres::Transaction<'_>,
    rows: &[suyuan_core::search::Term],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let terms: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let targets: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    tx.execute(
        "INSERT INTO search_terms (term, kind, target) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[]) \
         ON CONFLICT DO NOTHING",
        &[&terms, &kinds, &targets],
    )
    .await?;
    Ok(())
}

/// Indexes the serials, lots and SSCCs of every stored object and the transactions and ILMD lots of every
/// stored event (a database from before the search index).
async fn backfill_terms(tx: &tokio_postgres::Transaction<'_>) -> Result<(), StoreError> {
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
            rows.extend(suyuan_core::search::stored_event_terms(&value, seq as u64));
        }
        put_terms(tx, &std::mem::take(&mut rows)).await?;
        after = last;
    }
}

/// The schema version that adds the place index.
const PLACES_VERSION: usize = 9;

/// Indexes the places of every stored event (a database from before the place index), 10,000 at a time.
async fn backfill_places(tx: &tokio_postgres::Transaction<'_>) -> Result<(), StoreError> {
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

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects to `url`, optionally inside `schema` (created if missing), and applies migrations.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        PgStore::connect_with(url, schema, true).await
    }

    async fn connect_with(
        url: &str,
        schema: Option<&str>,
        migrate: bool,
    ) -> Result<Self, StoreError> {
        let mut cfg = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        if let Some(s) = schema {
            if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(StoreError::Backend(format!("invalid schema name {s:?}")));
            }
            let (client, conn) = cfg.connect(NoTls).await?;
            let task = tokio::spawn(conn);
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
                .await?;
            drop(client);
            let _ = task.await;
            cfg.options(format!("-c search_path={s}"));
        }
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(16)
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
        let store = PgStore { pool };
        if migrate {
            store.migrate_to(MIGRATIONS.len()).await?;
        }
        Ok(store)
    }

    /// Creates the schema of an older Suyuan: the first `version` migrations only (migration tests).
    pub async fn create_at_version(
        url: &str,
        schema: &str,
        version: usize,
    ) -> Result<(), StoreError> {
        let store = PgStore::connect_with(url, Some(schema), false).await?;
        store.migrate_to(version).await
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Backend(format!("no database connection: {e}")))
    }

    async fn migrate_to(&self, target: usize) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(7157190001);
             CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());",
        )
        .await?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        let applied = usize::try_from(applied).unwrap_or(0);
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Backend(format!(
                "the database has schema version {applied}, newer than this Suyuan knows ({}): upgrade Suyuan",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(applied) {
            tx.batch_execute(sql).await?;
            if i + 1 == PLACES_VERSION {
                backfill_places(&tx).await?;
            }
            if i + 1 == TERMS_VERSION {
                backfill_terms(&tx).await?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&((i + 1) as i32)],
            )
            .await?;
            tracing::info!(version = i + 1, "postgres schema migrated");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stored events selected by an SQL tail (`WHERE …`, `ORDER BY …`).
    async fn events_where(
        &self,
        tail: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {EVENT_COLUMNS} FROM events {tail}"),
                params,
            )
            .await?;
        stored_from_rows(rows)
    }

    /// Drops `schema` and everything in it (for test teardown).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await?;
        drop(client);
        let _ = task.await;
        Ok(())
    }
}

fn object_from_row(r: &Row) -> ObjectState {
    ObjectState {
        id: r.get(0),
        first_seq: r.get::<_, i64>(1) as u64,
        last_seq: r.get::<_, i64>(2) as u64,
        event_count: r.get::<_, i64>(3) as u64,
        location: r.get(4),
        disposition: r.get(5),
        container: r.get(6),
        party: r.get(7),
    }
}

const OBJECT_COLUMNS: &str =
    "object_key, first_seq, last_seq, event_count, location, disposition, container, party";
const EVENT_COLUMNS: &str = "seq, event_id, event_hash, leaf_hash, record_time, body";

fn stored_from_rows(rows: Vec<Row>) -> Result<Vec<StoredEvent>, StoreError> {
    rows.into_iter()
        .map(|r| {
            let seq = r.get::<_, i64>(0) as u64;
            let body: String = r.get(5);
            Ok(StoredEvent {
                seq,
                event_id: r.get(1),
                event_hash: r.get(2),
                leaf_hash: r.get(3),
                record_time: r.get(4),
                event: parse_body(seq, &body)?,
            })
        })
        .collect()
}

/// Appends a batch inside the open transaction `tx`: new events with their projection, places, search terms
/// and an outbox row; repeats answered with their stored position.
async fn append_in(
    tx: &tokio_postgres::Transaction<'_>,
    batch: &[NewEvent],
) -> Result<Vec<Appended>, StoreError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&str> = batch.iter().map(|e| e.dedup_key.as_str()).collect();
    let dedup_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&keys];
    // Pipelined, but executed in order: the head lock is held before the repeats are looked up.
    let (head, stored) = tokio::try_join!(
        tx.query_one("SELECT last_seq FROM ledger_head WHERE id = 1 FOR UPDATE", &[]),
        tx.query(
            "SELECT dedup_key, seq, event_hash, leaf_hash, record_time, event_id FROM events WHERE dedup_key = ANY($1)",
            &dedup_params,
        ),
    )?;
    let last: i64 = head.get(0);
    let mut existing = HashMap::new();
    for r in stored {
        existing.insert(
            r.get::<_, String>(0),
            Appended {
                seq: r.get::<_, i64>(1) as u64,
                event_hash: r.get(2),
                leaf_hash: r.get(3),
                record_time: r.get(4),
                event_id: r.get(5),
                duplicate: true,
            },
        );
    }
    let record_time = now_record_time();
    let plan = plan_append(batch, last as u64 + 1, &record_time, |_, e, _| {
        Ok(existing.get(&e.dedup_key).cloned())
    })?;
    if plan.new_events.is_empty() {
        return Ok(plan.results);
    }
    let n = plan.new_events.len();
    let mut seqs = Vec::with_capacity(n);
    let (mut ids, mut dedup, mut hashes, mut leaves, mut times, mut types, mut steps, mut bodies) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut event_times = Vec::with_capacity(n);
    for (seq, e, leaf) in &plan.new_events {
        seqs.push(*seq as i64);
        ids.push(e.event_id.as_str());
        dedup.push(e.dedup_key.as_str());
        hashes.push(e.event_hash.as_str());
        leaves.push(leaf.as_str());
        times.push(record_time.as_str());
        event_times.push(e.event_time_ms);
        types.push(e.event_type.as_str());
        steps.push(e.biz_step.as_deref());
        bodies.push(e.body.as_str());
    }
    let touched = Touched::of(plan.new_events.iter().flat_map(|(_, e, _)| e.ops.iter()));
    let keys: Vec<&str> = touched.keys.iter().map(String::as_str).collect();
    let parents: Vec<&str> = touched.emptied_parents.iter().map(String::as_str).collect();
    let object_query = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE object_key = ANY($1)");
    let (first_seq, last_new_seq) = (seqs[0], seqs[seqs.len() - 1]);
    let event_params: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
        &seqs,
        &ids,
        &dedup,
        &hashes,
        &leaves,
        &times,
        &event_times,
        &types,
        &steps,
        &bodies,
    ];
    let outbox_params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&first_seq, &last_new_seq, &record_time];
    let key_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&keys];
    // Independent statements go out together (tokio-postgres pipelines them on the connection).
    let (_, _, mut rows) = tokio::try_join!(
        tx.execute(
            "INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, biz_step, body)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])",
            &event_params,
        ),
        tx.execute(
            "INSERT INTO outbox (first_seq, last_seq, kind, created) VALUES ($1, $2, 'events', $3)",
            &outbox_params,
        ),
        tx.query(&object_query, &key_params),
    )?;
    if !parents.is_empty() {
        rows.extend(
            tx.query(
                &format!(
                    "SELECT {OBJECT_COLUMNS} FROM objects WHERE container = ANY($1) AND NOT (object_key = ANY($2))"
                ),
                &[&parents, &keys],
            )
            .await?,
        );
    }
    let (mut places, mut place_seqs) = (Vec::new(), Vec::new());
    for (seq, e, _) in &plan.new_events {
        for p in &e.places {
            places.push(*p);
            place_seqs.push(*seq as i64);
        }
    }
    if !places.is_empty() {
        tx.execute(
            "INSERT INTO event_places (place, seq) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])",
            &[&places, &place_seqs],
        )
        .await?;
    }
    // The search index: each new object's serial, lot or SSCC, each event's transactions and lots.
    let mut terms: Vec<suyuan_core::search::Term> = Vec::new();
    {
        let known: std::collections::HashSet<String> =
            rows.iter().map(|r| r.get::<_, String>(0)).collect();
        for k in touched.keys.iter().filter(|k| !known.contains(*k)) {
            terms.extend(suyuan_core::search::object_terms(k));
        }
    }
    for (seq, e, _) in &plan.new_events {
        terms.extend(e.terms_at(*seq));
    }
    put_terms(tx, &terms).await?;
    let mut changes = ObjectChanges::new(rows.iter().map(object_from_row).collect());
    for (seq, e, _) in &plan.new_events {
        changes.apply(*seq, &e.ops);
    }
    let (mut ok, mut first, mut lastv, mut count, mut loc, mut disp, mut cont, mut party) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for r in changes.changed() {
        ok.push(r.id.as_str());
        first.push(r.first_seq as i64);
        lastv.push(r.last_seq as i64);
        count.push(r.event_count as i64);
        loc.push(r.location.as_deref());
        disp.push(r.disposition.as_deref());
        cont.push(r.container.as_deref());
        party.push(r.party.as_deref());
    }
    let ids: HashMap<String, i64> = tx
        .query(
            "INSERT INTO objects (object_key, first_seq, last_seq, event_count, location, disposition, container, party)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[])
             ON CONFLICT (object_key) DO UPDATE SET first_seq = excluded.first_seq, last_seq = excluded.last_seq,
               event_count = excluded.event_count, location = excluded.location, disposition = excluded.disposition,
               container = excluded.container, party = excluded.party
             RETURNING object_key, id",
            &[&ok, &first, &lastv, &count, &loc, &disp, &cont, &party],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect();
    let mut hist_ids = Vec::with_capacity(changes.history.len());
    let mut hist_seqs = Vec::with_capacity(changes.history.len());
    for (k, seq) in &changes.history {
        // Every object in the history was touched, hence upserted above.
        if let Some(id) = ids.get(k) {
            hist_ids.push(*id);
            hist_seqs.push(*seq as i64);
        }
    }
    let last_seq = (plan.next_seq - 1) as i64;
    let hist_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&hist_ids, &hist_seqs];
    let head_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&last_seq];
    tokio::try_join!(
        tx.execute(
            "INSERT INTO object_events (object_id, seq) SELECT * FROM UNNEST($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
            &hist_params,
        ),
        tx.execute("UPDATE ledger_head SET last_seq = $1 WHERE id = 1", &head_params),
    )?;
    Ok(plan.results)
}

/// A commit's record changes, in order, inside its transaction.
async fn write_records(
    tx: &tokio_postgres::Transaction<'_>,
    writes: &[Write],
) -> Result<(), StoreError> {
    for w in writes {
        match w {
            Write::PutRecord {
                kind,
                id,
                doc,
                create,
            } => {
                let sql = if *create {
                    "INSERT INTO accounts (kind, id, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING"
                } else {
                    "INSERT INTO accounts (kind, id, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"
                };
                let n = tx
                    .execute(sql, &[kind, id, &doc.to_string(), &now_record_time()])
                    .await?;
                if n == 0 {
                    return Err(StoreError::Exists {
                        kind: kind.clone(),
                        id: id.clone(),
                    });
                }
            }
            Write::DeleteRecord {
                kind,
                id,
                must_exist,
            } => {
                let n = tx
                    .execute(
                        "DELETE FROM accounts WHERE kind = $1 AND id = $2",
                        &[kind, id],
                    )
                    .await?;
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
                let n = tx
                    .execute(
                        "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT DO NOTHING",
                        &[kind, name, &(*version as i32), &definition.to_string(), &now_record_time()],
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Exists {
                        kind: kind.clone(),
                        id: format!("{name} v{version}"),
                    });
                }
            }
            Write::RevokeCode { code, reason } => {
                let n = tx
                    .execute(
                        "UPDATE codes SET revoked = $2 WHERE (uri = $1 OR code = $1) AND revoked IS NULL",
                        &[code, reason],
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Missing {
                        kind: "code".into(),
                        id: code.clone(),
                    });
                }
            }
            Write::MasterData(elements) => write_master_data(tx, elements).await?,
            Write::Fail(why) => return Err(StoreError::Injected(why.clone())),
        }
    }
    Ok(())
}

/// Merges each element into the stored one of the same type and id, inside `tx`.
async fn write_master_data(
    tx: &tokio_postgres::Transaction<'_>,
    elements: &[VocabularyElement],
) -> Result<(), StoreError> {
    let now = now_record_time();
    for e in elements {
        let old = tx
            .query_opt(
                "SELECT doc FROM master_data WHERE vtype = $1 AND id = $2 FOR UPDATE",
                &[&e.vtype, &e.id],
            )
            .await?
            .map(|r| r.get::<_, String>(0));
        let merged = crate::merge_element(old.as_deref(), e)?;
        tx.execute(
            "INSERT INTO master_data (vtype, id, doc, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (vtype, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            &[&e.vtype, &e.id, &merged.to_doc().to_string(), &now],
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl EventLog for PgStore {
    async fn commit(&self, commit: Commit) -> Result<Vec<Appended>, StoreError> {
        if commit.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let results = append_in(&tx, &commit.events).await?;
        write_records(&tx, &commit.writes).await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn event_by_id(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        Ok(self
            .events_where("WHERE dedup_key = $1", &[&event_id])
            .await?
            .pop())
    }

    async fn events_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.events_where(
            "WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&(after_seq as i64), &i64::from(limit)],
        )
        .await
    }

    async fn recent_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.events_where("ORDER BY seq DESC LIMIT $1", &[&i64::from(limit)])
            .await
    }

    async fn events_at_place(
        &self,
        place: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.events_where(
            "WHERE seq IN (SELECT seq FROM event_places WHERE place = $1 AND seq > $2 ORDER BY seq LIMIT $3) ORDER BY seq",
            &[
                &crate::place_key(place),
                &(after_seq as i64),
                &i64::from(limit),
            ],
        )
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
        self.events_where(
            "WHERE biz_step = $1 AND event_time_ms >= $2 AND event_time_ms < $3 AND (event_time_ms, seq) > ($4, $5)
             ORDER BY event_time_ms, seq LIMIT $6",
            &[
                &step,
                &from_ms.unwrap_or(i64::MIN).max(after.event_time_ms),
                &to_ms.unwrap_or(i64::MAX),
                &after.event_time_ms,
                &(after.seq as i64),
                &i64::from(limit),
            ],
        )
        .await
    }

    async fn events_by_seq(&self, seqs: &[u64]) -> Result<Vec<StoredEvent>, StoreError> {
        let seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        self.events_where("WHERE seq = ANY($1) ORDER BY seq", &[&seqs])
            .await
    }
}

#[async_trait]
impl Projections for PgStore {
    async fn search_terms(
        &self,
        term: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT kind, target FROM search_terms WHERE term = $1 ORDER BY kind, target LIMIT $2",
                &[&term, &i64::from(limit)],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn objects(&self, keys: &[String]) -> Result<Vec<ObjectState>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE object_key = ANY($1)"),
                &[&keys],
            )
            .await?;
        Ok(rows.iter().map(object_from_row).collect())
    }

    async fn object(&self, key: &str) -> Result<Option<ObjectState>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE object_key = $1"),
                &[&key],
            )
            .await?;
        Ok(row.as_ref().map(object_from_row))
    }

    async fn object_history(
        &self,
        key: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT e.seq, e.event_id, e.event_hash, e.leaf_hash, e.record_time, e.body
                 FROM objects ob JOIN object_events o ON o.object_id = ob.id JOIN events e ON e.seq = o.seq
                 WHERE ob.object_key = $1 AND o.seq > $2 ORDER BY o.seq LIMIT $3",
                &[&key, &(after_seq as i64), &i64::from(limit)],
            )
            .await?;
        stored_from_rows(rows)
    }

    async fn contents(&self, container: &str, limit: u32) -> Result<Vec<ObjectState>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE container = $1 ORDER BY object_key LIMIT $2"),
                &[&container, &i64::from(limit)],
            )
            .await?;
        Ok(rows.iter().map(object_from_row).collect())
    }
}

#[async_trait]
impl ScanLog for PgStore {
    async fn record_scans(&self, scans: Vec<ScanRecord>) -> Result<Vec<u64>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(scans.len());
        for s in &scans {
            // Serialise counting per object so concurrent scans of one code get distinct numbers.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&s.object])
                .await?;
            tx.execute(
                "INSERT INTO scans (object_key, scanned_at, city, province, channel) VALUES ($1, $2, $3, $4, $5)",
                &[&s.object, &s.scanned_at, &s.city, &s.province, &s.channel],
            )
            .await?;
            let n: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM scans WHERE object_key = $1",
                    &[&s.object],
                )
                .await?
                .get(0);
            out.push(n as u64);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn scans(&self, object: &str, limit: u32) -> Result<(u64, Vec<ScanRecord>), StoreError> {
        let c = self.client().await?;
        let total: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM scans WHERE object_key = $1",
                &[&object],
            )
            .await?
            .get(0);
        let rows = c
            .query(
                "SELECT object_key, scanned_at, city, province, channel FROM scans WHERE object_key = $1 ORDER BY id DESC LIMIT $2",
                &[&object, &i64::from(limit)],
            )
            .await?;
        let list = rows
            .iter()
            .map(|r| ScanRecord {
                object: r.get(0),
                scanned_at: r.get(1),
                city: r.get(2),
                province: r.get(3),
                channel: r.get(4),
            })
            .collect();
        Ok((total as u64, list))
    }
}

#[async_trait]
impl MasterData for PgStore {
    async fn put_master_data(&self, elements: Vec<VocabularyElement>) -> Result<(), StoreError> {
        if elements.is_empty() {
            return Ok(());
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        write_master_data(&tx, &elements).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn master_data(&self, vtypes: &[String]) -> Result<Vec<VocabularyElement>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT vtype, id, doc FROM master_data WHERE cardinality($1::text[]) = 0 OR vtype = ANY($1) ORDER BY vtype, id",
                &[&vtypes],
            )
            .await?;
        rows.iter()
            .map(|r| {
                crate::element_from_row(
                    &r.get::<_, String>(0),
                    &r.get::<_, String>(1),
                    &r.get::<_, String>(2),
                )
            })
            .collect()
    }
}

#[async_trait]
impl Accounts for PgStore {
    async fn put_account(
        &self,
        kind: &str,
        id: &str,
        doc: &Value,
        create: bool,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        let sql = if create {
            "INSERT INTO accounts (kind, id, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING"
        } else {
            "INSERT INTO accounts (kind, id, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"
        };
        let n = c
            .execute(sql, &[&kind, &id, &doc.to_string(), &now_record_time()])
            .await?;
        if n == 0 {
            return Err(StoreError::Exists {
                kind: kind.to_string(),
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn account(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT doc FROM accounts WHERE kind = $1 AND id = $2",
                &[&kind, &id],
            )
            .await?;
        row.map(|r| account_doc(kind, id, r.get(0))).transpose()
    }

    async fn accounts(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let c = self.client().await?;
        c.query(
            "SELECT id, doc FROM accounts WHERE kind = $1 ORDER BY id",
            &[&kind],
        )
        .await?
        .iter()
        .map(|r| {
            let id: String = r.get(0);
            account_doc(kind, &id, r.get(1)).map(|v| (id, v))
        })
        .collect()
    }

    async fn delete_account(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = c
            .execute(
                "DELETE FROM accounts WHERE kind = $1 AND id = $2",
                &[&kind, &id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn log_access(&self, e: AccessEntry) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            r#"INSERT INTO access_log (at, "user", request, status, items) VALUES ($1, $2, $3, $4, $5)"#,
            &[&e.at, &e.user, &e.request, &i32::from(e.status), &(e.items as i64)],
        )
        .await?;
        Ok(())
    }

    async fn access_log(
        &self,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                r#"SELECT id, at, "user", request, status, items FROM access_log
                   WHERE $1::TEXT IS NULL OR "user" = $1 ORDER BY id DESC LIMIT $2"#,
                &[&user, &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| AccessEntry {
                id: r.get::<_, i64>(0) as u64,
                at: r.get(1),
                user: r.get(2),
                request: r.get(3),
                status: r.get::<_, i32>(4) as u16,
                items: r.get::<_, i64>(5) as u64,
            })
            .collect())
    }
}

#[async_trait]
impl Admin for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT (SELECT last_seq FROM ledger_head WHERE id = 1),
                        (SELECT COUNT(*) FROM objects),
                        (SELECT COALESCE(SUM(last_seq - first_seq + 1), 0)::BIGINT FROM outbox WHERE done_at IS NULL),
                        (SELECT COUNT(*) FROM scans),
                        (SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = current_schema() AND c.relkind = 'r')",
                &[],
            )
            .await?;
        let last: i64 = row.get(0);
        Ok(Stats {
            events: last as u64,
            last_seq: last as u64,
            objects: row.get::<_, i64>(1) as u64,
            outbox_pending: row.get::<_, i64>(2) as u64,
            scans: row.get::<_, i64>(3) as u64,
            bytes: row.get::<_, i64>(4) as u64,
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

fn definition_from(r: &Row) -> StoredDefinition {
    let text: String = r.get(3);
    StoredDefinition {
        kind: r.get(0),
        name: r.get(1),
        version: r.get::<_, i32>(2) as u32,
        definition: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        created_at: r.get(4),
    }
}

#[async_trait]
impl CodeRegistry for PgStore {
    async fn save_definition(
        &self,
        kind: &str,
        name: &str,
        definition: &serde_json::Value,
    ) -> Result<StoredDefinition, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('definition:' || $1 || ':' || $2))",
            &[&kind, &name],
        )
        .await?;
        let latest = tx
            .query_opt(
                "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
                &[&kind, &name],
            )
            .await?
            .map(|r| definition_from(&r));
        if let Some(r) = &latest
            && &r.definition == definition
        {
            return Ok(r.clone());
        }
        let version = latest.map_or(1, |r| r.version + 1);
        let created_at = now_record_time();
        tx.execute(
            "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&kind, &name, &(version as i32), &definition.to_string(), &created_at],
        )
        .await?;
        tx.commit().await?;
        Ok(StoredDefinition {
            kind: kind.to_string(),
            name: name.to_string(),
            version,
            definition: definition.clone(),
            created_at,
        })
    }

    async fn definition(
        &self,
        kind: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredDefinition>, StoreError> {
        let c = self.client().await?;
        let v = version.map(|v| v as i32);
        Ok(c.query_opt(
            "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = $1 AND name = $2 AND ($3::INT IS NULL OR version = $3) ORDER BY version DESC LIMIT 1",
            &[&kind, &name, &v],
        )
        .await?
        .map(|r| definition_from(&r)))
    }

    async fn definition_versions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT kind, name, version, definition, created_at FROM definitions WHERE kind = $1 AND name = $2 ORDER BY version",
            &[&kind, &name],
        )
        .await?
        .iter()
        .map(definition_from)
        .collect())
    }

    async fn definitions(&self, kind: &str) -> Result<Vec<StoredDefinition>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT DISTINCT ON (name) kind, name, version, definition, created_at FROM definitions WHERE kind = $1 ORDER BY name, version DESC",
            &[&kind],
        )
        .await?
        .iter()
        .map(definition_from)
        .collect())
    }

    async fn reserve_sequence(
        &self,
        rule: &str,
        scope: &str,
        count: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        if count.saturating_add(1) > limit {
            return Ok(None);
        }
        let c = self.client().await?;
        let next = c
            .query_opt(
                "INSERT INTO code_sequences (rule, scope, next) VALUES ($1, $2, 1 + $3::BIGINT)
                 ON CONFLICT (rule, scope) DO UPDATE SET next = code_sequences.next + $3::BIGINT
                 WHERE code_sequences.next + $3::BIGINT <= $4::BIGINT
                 RETURNING next",
                &[
                    &rule,
                    &scope,
                    &(count as i64),
                    &(limit.min(i64::MAX as u64) as i64),
                ],
            )
            .await?;
        Ok(next.map(|r| r.get::<_, i64>(0) as u64 - count))
    }

    async fn register_codes(&self, codes: Vec<IssuedCode>) -> Result<(), StoreError> {
        if codes.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let col = |f: fn(&IssuedCode) -> &str| codes.iter().map(f).collect::<Vec<&str>>();
        let (uris, texts, rules, at) = (
            col(|c| &c.uri),
            col(|c| &c.code),
            col(|c| &c.rule),
            col(|c| &c.issued_at),
        );
        let versions: Vec<i32> = codes.iter().map(|c| c.version as i32).collect();
        let inserted = tx
            .query(
                "INSERT INTO codes (uri, code, rule, version, issued_at)
                 SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::INT[], $5::TEXT[])
                 ON CONFLICT (uri) DO NOTHING RETURNING uri",
                &[&uris, &texts, &rules, &versions, &at],
            )
            .await?;
        if inserted.len() != codes.len() {
            let fresh: std::collections::HashSet<String> =
                inserted.iter().map(|r| r.get::<_, String>(0)).collect();
            let dup = codes
                .iter()
                .find(|c| !fresh.contains(&c.uri))
                .unwrap_or(&codes[0]);
            return Err(StoreError::DuplicateCode {
                code: dup.code.clone(),
                uri: dup.uri.clone(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn issued(&self, code_or_uri: &str) -> Result<Vec<IssuedCode>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT uri, code, rule, version, issued_at, revoked FROM codes WHERE uri = $1 OR code = $1",
            &[&code_or_uri],
        )
        .await?
        .iter()
        .map(|r| IssuedCode {
            uri: r.get(0),
            code: r.get(1),
            rule: r.get(2),
            version: r.get::<_, i32>(3) as u32,
            issued_at: r.get(4),
            revoked: r.get(5),
        })
        .collect())
    }

    async fn issued_uris(&self, uris: &[String]) -> Result<Vec<String>, StoreError> {
        if uris.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        Ok(
            c.query("SELECT uri FROM codes WHERE uri = ANY($1)", &[&uris])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    }

    async fn revoke_code(&self, code_or_uri: &str, reason: &str) -> Result<u64, StoreError> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE codes SET revoked = $2 WHERE (uri = $1 OR code = $1) AND revoked IS NULL",
            &[&code_or_uri, &reason],
        )
        .await?)
    }

    async fn issued_count(&self, rule: &str) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one("SELECT COUNT(*) FROM codes WHERE rule = $1", &[&rule])
            .await?
            .get(0);
        Ok(n as u64)
    }
}

#[async_trait]
impl TreeLog for PgStore {
    async fn leaf_hashes(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT seq, leaf_hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&(after_seq as i64), &i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.get::<_, i64>(0) as u64, crate::hash_from_hex(r.get(1))?)))
            .collect()
    }

    async fn record_hashes(&self, seqs: &[u64]) -> Result<Vec<(u64, String, String)>, StoreError> {
        let c = self.client().await?;
        let ids: Vec<i64> = seqs.iter().map(|&s| s as i64).collect();
        Ok(c.query(
            "SELECT seq, event_hash, leaf_hash FROM events WHERE seq = ANY($1) ORDER BY seq",
            &[&ids],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
        .collect())
    }

    async fn tree_size(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one("SELECT size FROM tree_head WHERE id = 1", &[])
            .await?
            .get(0);
        Ok(n as u64)
    }

    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let c = self.client().await?;
        let ids: Vec<i64> = indexes.iter().map(|&i| i as i64).collect();
        let rows = c
            .query(
                "SELECT idx, hash FROM tree_hashes WHERE idx = ANY($1)",
                &[&ids],
            )
            .await?;
        let found: HashMap<i64, Vec<u8>> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        ids.iter()
            .map(|i| {
                found
                    .get(i)
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| {
                        StoreError::Backend(format!("stored tree hash {i} is missing or damaged"))
                    })
            })
            .collect()
    }

    async fn extend_tree(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: Vec<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let actual: i64 = tx
            .query_one("SELECT size FROM tree_head WHERE id = 1 FOR UPDATE", &[])
            .await?
            .get(0);
        if actual as u64 != from_size {
            return Err(StoreError::TreeMoved {
                expected: from_size,
                actual: actual as u64,
            });
        }
        let first = suyuan_ledger::tree::stored_count(from_size) as i64;
        let idx: Vec<i64> = (0..hashes.len() as i64).map(|i| first + i).collect();
        let bytes: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
        tx.execute(
            "INSERT INTO tree_hashes (idx, hash) SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[])",
            &[&idx, &bytes],
        )
        .await?;
        tx.execute(
            "UPDATE tree_head SET size = $1 WHERE id = 1",
            &[&(to_size as i64)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_checkpoint(&self, size: u64, root: &str, note: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
            &[&(size as i64), &root, &note, &now_record_time()],
        )
        .await?;
        Ok(())
    }

    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>, StoreError> {
        let c = self.client().await?;
        let size = size.map(|s| s as i64);
        Ok(c.query_opt(
            "SELECT size, root, note, created_at FROM checkpoints
             WHERE $1::BIGINT IS NULL OR size = $1 ORDER BY size DESC LIMIT 1",
            &[&size],
        )
        .await?
        .map(|r| StoredCheckpoint {
            size: r.get::<_, i64>(0) as u64,
            root: r.get(1),
            note: r.get(2),
            created_at: r.get(3),
        }))
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT size, root, note, created_at FROM checkpoints ORDER BY size",
            &[],
        )
        .await?
        .iter()
        .map(|r| StoredCheckpoint {
            size: r.get::<_, i64>(0) as u64,
            root: r.get(1),
            note: r.get(2),
            created_at: r.get(3),
        })
        .collect())
    }
}
