//! The outbox and the reactors' leases and progress, on PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use crate::{Outbox, OutboxEntry, ReactorState, StoreError, now_record_time};

/// The reactor table (migration 11).
pub(super) const MIGRATION: &str = r#"
CREATE TABLE reactors (
    name           TEXT PRIMARY KEY,
    done_id        BIGINT NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    failures       BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT,
    updated_at     TEXT NOT NULL
);
"#;

const STATE_COLUMNS: &str = "name, done_id, lease_owner, lease_until_ms, failures, last_error";

fn state_from(r: &Row) -> ReactorState {
    ReactorState {
        name: r.get(0),
        done_id: r.get::<_, i64>(1) as u64,
        lease_owner: r.get(2),
        lease_until_ms: r.get(3),
        failures: r.get::<_, i64>(4) as u64,
        last_error: r.get(5),
    }
}

#[async_trait]
impl Outbox for PgStore {
    async fn outbox_after(
        &self,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, first_seq, last_seq, created FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
                &[&(after_id as i64), &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| OutboxEntry {
                id: r.get::<_, i64>(0) as u64,
                first_seq: r.get::<_, i64>(1) as u64,
                last_seq: r.get::<_, i64>(2) as u64,
                created: r.get(3),
            })
            .collect())
    }

    async fn claim_reactor(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<ReactorState>, StoreError> {
        let c = self.client().await?;
        let now = now_record_time();
        c.execute(
            "INSERT INTO reactors (name, updated_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &now],
        )
        .await?;
        let row = c
            .query_opt(
                &format!(
                    "UPDATE reactors SET lease_owner = $2, lease_until_ms = $3 + $4, updated_at = $5
                     WHERE name = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until_ms < $3)
                     RETURNING {STATE_COLUMNS}"
                ),
                &[&name, &owner, &now_ms, &lease_ms, &now],
            )
            .await?;
        Ok(row.as_ref().map(state_from))
    }

    async fn ack_reactor(&self, name: &str, owner: &str, done_id: u64) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE reactors SET done_id = GREATEST(done_id, $3), failures = 0, last_error = NULL, updated_at = $4
                 WHERE name = $1 AND lease_owner = $2",
                &[&name, &owner, &(done_id as i64), &now_record_time()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn fail_reactor(&self, name: &str, owner: &str, error: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "UPDATE reactors SET failures = failures + 1, last_error = $3, updated_at = $4
             WHERE name = $1 AND lease_owner = $2",
            &[&name, &owner, &error, &now_record_time()],
        )
        .await?;
        Ok(())
    }

    async fn release_reactor(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "UPDATE reactors SET lease_owner = NULL, lease_until_ms = 0, updated_at = $3
             WHERE name = $1 AND lease_owner = $2",
            &[&name, &owner, &now_record_time()],
        )
        .await?;
        Ok(())
    }

    async fn reactor_states(&self) -> Result<Vec<ReactorState>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {STATE_COLUMNS} FROM reactors ORDER BY name"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(state_from).collect())
    }

    async fn settle_outbox(&self, done_id: u64) -> Result<u64, StoreError> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE outbox SET done_at = $2 WHERE id <= $1 AND done_at IS NULL",
            &[&(done_id as i64), &now_record_time()],
        )
        .await?)
    }
}
