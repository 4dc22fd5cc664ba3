//! Accounts, master data and health on PostgreSQL.

#[allow(unused_imports)]
use super::*;

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
