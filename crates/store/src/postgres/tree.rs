//! The Merkle tree and signed checkpoints on PostgreSQL.

#[allow(unused_imports)]
use super::*;
use crate::LedgerRecord;

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

    async fn ledger_records(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    super::events::EVENT_COLUMNS
                ),
                &[&(after_seq as i64), &i64::from(limit)],
            )
            .await?;
        Ok(rows.iter().map(super::events::ledger_row).collect())
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
