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
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use suyuan_epcis::masterdata::VocabularyElement;
use tokio_postgres::{NoTls, Row};

mod accounts;
mod codes;
mod events;
mod schema;
mod tree;
mod writer;

use events::*;
use schema::*;
use writer::*;

mod outbox;

/// The schema version this Suyuan writes (the last `schema_migrations` version of an up-to-date database).
pub fn schema_version() -> usize {
    MIGRATIONS.len()
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
