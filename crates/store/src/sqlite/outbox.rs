//! The outbox and the reactors' leases and progress, on SQLite (writes go through the writer thread).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Done, SqliteStore, Work};
use crate::{Outbox, OutboxEntry, ReactorState, StoreError, now_record_time};

/// The reactor table (migration 11).
pub(super) const MIGRATION: &str = r#"
CREATE TABLE reactors (
    name           TEXT PRIMARY KEY,
    done_id        INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    updated_at     TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// A write to the reactor table or the outbox.
pub(super) enum ReactorOp {
    Claim {
        name: String,
        owner: String,
        now_ms: i64,
        lease_ms: i64,
    },
    Ack {
        name: String,
        owner: String,
        done_id: u64,
    },
    Fail {
        name: String,
        owner: String,
        error: String,
    },
    Release {
        name: String,
        owner: String,
    },
    Settle(u64),
}

const STATE_COLUMNS: &str = "name, done_id, lease_owner, lease_until_ms, failures, last_error";

fn state_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReactorState> {
    Ok(ReactorState {
        name: r.get(0)?,
        done_id: r.get::<_, i64>(1)? as u64,
        lease_owner: r.get(2)?,
        lease_until_ms: r.get(3)?,
        failures: r.get::<_, i64>(4)? as u64,
        last_error: r.get(5)?,
    })
}

/// Runs one reactor write inside the writer's transaction.
pub(super) fn run(conn: &Connection, op: &ReactorOp) -> Result<Done, StoreError> {
    let now = now_record_time();
    match op {
        ReactorOp::Claim {
            name,
            owner,
            now_ms,
            lease_ms,
        } => {
            conn.execute(
                "INSERT INTO reactors (name, updated_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, now],
            )?;
            let state = conn
                .query_row(
                    &format!(
                        "UPDATE reactors SET lease_owner = ?2, lease_until_ms = ?3 + ?4, updated_at = ?5
                         WHERE name = ?1 AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until_ms < ?3)
                         RETURNING {STATE_COLUMNS}"
                    ),
                    params![name, owner, now_ms, lease_ms, now],
                    state_row,
                )
                .optional()?;
            Ok(Done::Claimed(state))
        }
        ReactorOp::Ack {
            name,
            owner,
            done_id,
        } => Ok(Done::Number(conn.execute(
            "UPDATE reactors SET done_id = MAX(done_id, ?3), failures = 0, last_error = NULL, updated_at = ?4
             WHERE name = ?1 AND lease_owner = ?2",
            params![name, owner, *done_id as i64, now],
        )? as u64)),
        ReactorOp::Fail { name, owner, error } => Ok(Done::Number(conn.execute(
            "UPDATE reactors SET failures = failures + 1, last_error = ?3, updated_at = ?4
             WHERE name = ?1 AND lease_owner = ?2",
            params![name, owner, error, now],
        )? as u64)),
        ReactorOp::Release { name, owner } => Ok(Done::Number(conn.execute(
            "UPDATE reactors SET lease_owner = NULL, lease_until_ms = 0, updated_at = ?3
             WHERE name = ?1 AND lease_owner = ?2",
            params![name, owner, now],
        )? as u64)),
        ReactorOp::Settle(done_id) => Ok(Done::Number(conn.execute(
            "UPDATE outbox SET done_at = ?2 WHERE id <= ?1 AND done_at IS NULL",
            params![*done_id as i64, now],
        )? as u64)),
    }
}

impl SqliteStore {
    async fn reactor_op(&self, op: ReactorOp) -> Result<Done, StoreError> {
        self.submit(Work::Reactor(op)).await
    }
}

fn number(d: Done) -> Result<u64, StoreError> {
    match d {
        Done::Number(n) => Ok(n),
        _ => Err(StoreError::Backend("writer answered the wrong job".into())),
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn outbox_after(
        &self,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, first_seq, last_seq, created FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_id as i64, limit], |r| {
                Ok(OutboxEntry {
                    id: r.get::<_, i64>(0)? as u64,
                    first_seq: r.get::<_, i64>(1)? as u64,
                    last_seq: r.get::<_, i64>(2)? as u64,
                    created: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn claim_reactor(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<ReactorState>, StoreError> {
        match self
            .reactor_op(ReactorOp::Claim {
                name: name.into(),
                owner: owner.into(),
                now_ms,
                lease_ms,
            })
            .await?
        {
            Done::Claimed(s) => Ok(s),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn ack_reactor(&self, name: &str, owner: &str, done_id: u64) -> Result<bool, StoreError> {
        let op = ReactorOp::Ack {
            name: name.into(),
            owner: owner.into(),
            done_id,
        };
        Ok(number(self.reactor_op(op).await?)? == 1)
    }

    async fn fail_reactor(&self, name: &str, owner: &str, error: &str) -> Result<(), StoreError> {
        let op = ReactorOp::Fail {
            name: name.into(),
            owner: owner.into(),
            error: error.into(),
        };
        number(self.reactor_op(op).await?).map(|_| ())
    }

    async fn release_reactor(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let op = ReactorOp::Release {
            name: name.into(),
            owner: owner.into(),
        };
        number(self.reactor_op(op).await?).map(|_| ())
    }

    async fn reactor_states(&self) -> Result<Vec<ReactorState>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {STATE_COLUMNS} FROM reactors ORDER BY name"
            ))?;
            let rows = stmt.query_map([], state_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn settle_outbox(&self, done_id: u64) -> Result<u64, StoreError> {
        number(self.reactor_op(ReactorOp::Settle(done_id)).await?)
    }
}
