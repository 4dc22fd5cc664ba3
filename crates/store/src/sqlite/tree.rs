//! The Merkle tree and signed checkpoints on SQLite.

#[allow(unused_imports)]
use super::*;
use crate::LedgerRecord;

pub(super) fn extend_tree(
    conn: &Connection,
    from: u64,
    to: u64,
    hashes: &[[u8; 32]],
) -> Result<(), StoreError> {
    let actual: i64 =
        conn.query_row("SELECT size FROM tree_head WHERE id = 1", [], |r| r.get(0))?;
    if actual as u64 != from {
        return Err(StoreError::TreeMoved {
            expected: from,
            actual: actual as u64,
        });
    }
    let first = suyuan_ledger::tree::stored_count(from) as i64;
    let mut stmt = conn.prepare_cached("INSERT INTO tree_hashes (idx, hash) VALUES (?1, ?2)")?;
    for (i, h) in hashes.iter().enumerate() {
        stmt.execute(params![first + i as i64, &h[..]])?;
    }
    conn.execute("UPDATE tree_head SET size = ?1 WHERE id = 1", [to as i64])?;
    Ok(())
}

#[async_trait]
impl TreeLog for SqliteStore {
    async fn leaf_hashes(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, leaf_hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after_seq as i64, limit], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(seq, h)| Ok((seq, crate::hash_from_hex(&h)?)))
                .collect()
        })
        .await
    }

    async fn ledger_records(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                super::events::EVENT_COLUMNS
            ))?;
            super::events::ledger_rows(&mut stmt, params![after_seq as i64, limit])
        })
        .await
    }

    async fn record_hashes(&self, seqs: &[u64]) -> Result<Vec<(u64, String, String)>, StoreError> {
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        self.read(move |c| {
            // 500 seqs a statement: one index probe each inside SQLite, one statement per chunk.
            let mut out = Vec::with_capacity(seqs.len());
            for chunk in seqs.chunks(500) {
                let sql = format!(
                    "SELECT seq, event_hash, leaf_hash FROM events WHERE seq IN ({}) ORDER BY seq",
                    vec!["?"; chunk.len()].join(",")
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let params = rusqlite::params_from_iter(chunk.iter().map(|&s| s as i64));
                let rows = stmt.query_map(params, |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn tree_size(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 =
                c.query_row("SELECT size FROM tree_head WHERE id = 1", [], |r| r.get(0))?;
            Ok(n as u64)
        })
        .await
    }

    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let indexes = indexes.to_vec();
        self.read(move |c| {
            // One read transaction for the whole lookup (not one per hash), and each ascending run of
            // consecutive indexes (verify asks for thousands; a proof, for single ones) read as one range.
            let tx = c.unchecked_transaction()?;
            let mut range = tx.prepare_cached(
                "SELECT idx, hash FROM tree_hashes WHERE idx BETWEEN ?1 AND ?2 ORDER BY idx",
            )?;
            let missing =
                |i: u64| StoreError::Backend(format!("stored tree hash {i} is missing or damaged"));
            let hash = |b: &[u8], i: u64| <[u8; 32]>::try_from(b).map_err(|_| missing(i));
            let mut out = Vec::with_capacity(indexes.len());
            let mut at = 0;
            while at < indexes.len() {
                let first = indexes[at];
                let run = indexes[at..]
                    .iter()
                    .zip(first..)
                    .take_while(|(i, want)| **i == *want)
                    .count();
                let last = first + run as u64 - 1;
                let mut rows = range.query(params![first as i64, last as i64])?;
                let mut want = first;
                while let Some(r) = rows.next()? {
                    if r.get::<_, i64>(0)? as u64 != want {
                        return Err(missing(want));
                    }
                    let b = r.get_ref(1)?.as_blob().map_err(|_| missing(want))?;
                    out.push(hash(b, want)?);
                    want += 1;
                }
                if want <= last {
                    return Err(missing(want));
                }
                at += run;
            }
            Ok(out)
        })
        .await
    }

    async fn extend_tree(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: Vec<[u8; 32]>,
    ) -> Result<(), StoreError> {
        match self
            .submit(Work::ExtendTree(from_size, to_size, hashes))
            .await?
        {
            Done::Nothing => Ok(()),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn add_checkpoint(&self, size: u64, root: &str, note: &str) -> Result<(), StoreError> {
        match self
            .submit(Work::Checkpoint(size, root.to_string(), note.to_string()))
            .await?
        {
            Done::Nothing => Ok(()),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT size, root, note, created_at FROM checkpoints
                 WHERE ?1 IS NULL OR size = ?1 ORDER BY size DESC LIMIT 1",
            )?;
            Ok(stmt
                .query_row([size.map(|s| s as i64)], |r| {
                    Ok(StoredCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        root: r.get(1)?,
                        note: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT size, root, note, created_at FROM checkpoints ORDER BY size",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok(StoredCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        root: r.get(1)?,
                        note: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
