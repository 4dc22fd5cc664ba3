//! Accounts, master data and health on SQLite.

#[allow(unused_imports)]
use super::*;

#[async_trait]
impl MasterData for SqliteStore {
    async fn put_master_data(&self, elements: Vec<VocabularyElement>) -> Result<(), StoreError> {
        if elements.is_empty() {
            return Ok(());
        }
        self.submit(Work::MasterData(elements)).await.map(|_| ())
    }

    async fn master_data(&self, vtypes: &[String]) -> Result<Vec<VocabularyElement>, StoreError> {
        let vtypes = vtypes.to_vec();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT vtype, id, doc FROM master_data ORDER BY vtype, id")?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .filter(|(t, _, _)| vtypes.is_empty() || vtypes.contains(t))
                .map(|(t, id, doc)| crate::element_from_row(&t, &id, &doc))
                .collect()
        })
        .await
    }
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn put_account(
        &self,
        kind: &str,
        id: &str,
        doc: &Value,
        create: bool,
    ) -> Result<(), StoreError> {
        let op = AccountOp::Put {
            kind: kind.to_string(),
            id: id.to_string(),
            doc: doc.to_string(),
            create,
        };
        self.submit(Work::Account(op)).await.map(|_| ())
    }

    async fn account(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.read(move |c| {
            let doc: Option<String> = c
                .prepare_cached("SELECT doc FROM accounts WHERE kind = ?1 AND id = ?2")?
                .query_row([&kind, &id], |r| r.get(0))
                .optional()?;
            doc.map(|d| account_doc(&kind, &id, &d)).transpose()
        })
        .await
    }

    async fn accounts(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT id, doc FROM accounts WHERE kind = ?1 ORDER BY id")?;
            let rows = stmt
                .query_map([&kind], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, d)| account_doc(&kind, &id, &d).map(|v| (id, v)))
                .collect()
        })
        .await
    }

    async fn delete_account(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let op = AccountOp::Delete(kind.to_string(), id.to_string());
        match self.submit(Work::Account(op)).await? {
            Done::Number(n) => Ok(n > 0),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn log_access(&self, entry: AccessEntry) -> Result<(), StoreError> {
        self.submit(Work::Account(AccountOp::Log(entry)))
            .await
            .map(|_| ())
    }

    async fn access_log(
        &self,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        let user = user.map(str::to_string);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, user, request, status, items FROM access_log
                 WHERE ?1 IS NULL OR user = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            Ok(stmt
                .query_map(params![user, limit], |r| {
                    Ok(AccessEntry {
                        id: r.get::<_, i64>(0)? as u64,
                        at: r.get(1)?,
                        user: r.get(2)?,
                        request: r.get(3)?,
                        status: r.get(4)?,
                        items: r.get::<_, i64>(5)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[async_trait]
impl Admin for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
        .await
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        let path = self.db_path.clone();
        self.read(move |c| {
            // Seqs are gapless, so the highest seq is the count.
            let last_seq: i64 =
                c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
            let events = last_seq;
            let objects: i64 = c.query_row("SELECT COUNT(*) FROM objects", [], |r| r.get(0))?;
            let pending: i64 = c.query_row(
                "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) FROM outbox WHERE done_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            let scans: i64 = c.query_row("SELECT COUNT(*) FROM scans", [], |r| r.get(0))?;
            let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            let wal = path.with_extension("db-wal");
            Ok(Stats {
                events: events as u64,
                objects: objects as u64,
                last_seq: last_seq as u64,
                outbox_pending: pending as u64,
                scans: scans as u64,
                bytes: size(&path) + size(&wal),
            })
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
