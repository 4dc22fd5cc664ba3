//! Reading the SQLite ledger: events, object state and histories, the search index and consumer scans.

#[allow(unused_imports)]
use super::*;
use crate::LedgerRecord;

pub(super) fn load_object(
    conn: &Connection,
    key: &str,
) -> Result<Option<ObjectState>, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT object_key, first_seq, last_seq, event_count, location, disposition, container, party FROM objects WHERE object_key = ?1",
    )?
    .query_row([key], object_row)
    .optional()
}

pub(super) fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectState> {
    Ok(ObjectState {
        id: r.get(0)?,
        first_seq: r.get::<_, i64>(1)? as u64,
        last_seq: r.get::<_, i64>(2)? as u64,
        event_count: r.get::<_, i64>(3)? as u64,
        location: r.get(4)?,
        disposition: r.get(5)?,
        container: r.get(6)?,
        party: r.get(7)?,
    })
}

pub(super) fn scan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScanRecord> {
    Ok(ScanRecord {
        object: r.get(0)?,
        scanned_at: r.get(1)?,
        city: r.get(2)?,
        province: r.get(3)?,
        channel: r.get(4)?,
    })
}

pub(super) const EVENT_COLUMNS: &str = "seq, event_id, event_hash, leaf_hash, record_time, body";

/// The rows of a `SELECT {EVENT_COLUMNS}` as recorded, body unparsed.
pub(super) fn ledger_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<LedgerRecord>, StoreError> {
    let rows = stmt.query_map(params, |r| {
        Ok(LedgerRecord {
            seq: r.get::<_, i64>(0)? as u64,
            event_id: r.get(1)?,
            event_hash: r.get(2)?,
            leaf_hash: r.get(3)?,
            record_time: r.get(4)?,
            body: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The rows of a `SELECT {EVENT_COLUMNS}` as stored events, bodies parsed.
pub(super) fn stored_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredEvent>, StoreError> {
    ledger_rows(stmt, params)?
        .into_iter()
        .map(LedgerRecord::into_stored)
        .collect()
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn commit(&self, commit: Commit) -> Result<Vec<Appended>, StoreError> {
        if commit.is_empty() {
            return Ok(Vec::new());
        }
        match self.submit(Work::Commit(commit)).await? {
            Done::Appended(a) => Ok(a),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn event_by_id(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let id = event_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE dedup_key = ?1"
            ))?;
            Ok(stored_rows(&mut stmt, [id])?.pop())
        })
        .await
    }

    async fn events_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            stored_rows(&mut stmt, params![after_seq as i64, limit])
        })
        .await
    }

    async fn recent_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT ?1"
            ))?;
            stored_rows(&mut stmt, [limit])
        })
        .await
    }

    async fn events_at_place(
        &self,
        place: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let place = place.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq IN
                 (SELECT seq FROM event_places WHERE place = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3)
                 ORDER BY seq"
            ))?;
            stored_rows(
                &mut stmt,
                params![crate::place_key(&place), after_seq as i64, i64::from(limit)],
            )
        })
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
        let step = step.to_string();
        let from = from_ms.unwrap_or(i64::MIN).max(after.event_time_ms);
        self.read(move |c| {
            // The index is (biz_step, event_time_ms) with the seq (rowid) after them: one range, no sort.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE biz_step = ?1 AND event_time_ms >= ?2
                 AND event_time_ms < ?3 AND (event_time_ms > ?4 OR seq > ?5)
                 ORDER BY event_time_ms, seq LIMIT ?6"
            ))?;
            stored_rows(
                &mut stmt,
                rusqlite::params![
                    step,
                    from,
                    to_ms.unwrap_or(i64::MAX),
                    after.event_time_ms,
                    after.seq as i64,
                    i64::from(limit)
                ],
            )
        })
        .await
    }

    async fn events_by_seq(&self, seqs: &[u64]) -> Result<Vec<StoredEvent>, StoreError> {
        let mut seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        seqs.sort_unstable();
        seqs.dedup();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1"
            ))?;
            let mut out = Vec::with_capacity(seqs.len());
            for s in seqs {
                out.extend(stored_rows(&mut stmt, [s])?);
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl Projections for SqliteStore {
    async fn search_terms(
        &self,
        term: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let term = term.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, target FROM search_terms WHERE term = ?1 ORDER BY kind, target LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![term, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn objects(&self, keys: &[String]) -> Result<Vec<ObjectState>, StoreError> {
        let keys = keys.to_vec();
        self.read(move |c| {
            let mut out = Vec::with_capacity(keys.len());
            for k in &keys {
                out.extend(load_object(c, k)?);
            }
            Ok(out)
        })
        .await
    }

    async fn object(&self, key: &str) -> Result<Option<ObjectState>, StoreError> {
        let key = key.to_string();
        self.read(move |c| Ok(load_object(c, &key)?)).await
    }

    async fn object_history(
        &self,
        key: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let key = key.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {} FROM objects ob JOIN object_events o ON o.object_id = ob.id JOIN events e ON e.seq = o.seq
                 WHERE ob.object_key = ?1 AND o.seq > ?2 ORDER BY o.seq LIMIT ?3",
                EVENT_COLUMNS
                    .split(", ")
                    .map(|c| format!("e.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            stored_rows(&mut stmt, params![key, after_seq as i64, limit])
        })
        .await
    }

    async fn contents(&self, container: &str, limit: u32) -> Result<Vec<ObjectState>, StoreError> {
        let key = container.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT object_key, first_seq, last_seq, event_count, location, disposition, container, party FROM objects
                 WHERE container = ?1 ORDER BY object_key LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![key, limit], object_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[async_trait]
impl ScanLog for SqliteStore {
    async fn record_scans(&self, scans: Vec<ScanRecord>) -> Result<Vec<u64>, StoreError> {
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        match self.submit(Work::Scans(scans)).await? {
            Done::Scans(n) => Ok(n),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn scans(&self, object: &str, limit: u32) -> Result<(u64, Vec<ScanRecord>), StoreError> {
        let key = object.to_string();
        self.read(move |c| {
            let total: i64 = c.query_row("SELECT COUNT(*) FROM scans WHERE object_key = ?1", [&key], |r| r.get(0))?;
            let mut stmt = c.prepare_cached(
                "SELECT object_key, scanned_at, city, province, channel FROM scans WHERE object_key = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![key, limit], scan_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok((total as u64, rows))
        })
        .await
    }

    async fn locate_scan(
        &self,
        object: &str,
        city: &str,
        province: &str,
    ) -> Result<bool, StoreError> {
        match self
            .submit(Work::LocateScan(
                object.into(),
                city.into(),
                province.into(),
            ))
            .await?
        {
            Done::Number(n) => Ok(n > 0),
            _ => Err(StoreError::Backend("writer answered the wrong job".into())),
        }
    }

    async fn scans_after(
        &self,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<(u64, ScanRecord)>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT object_key, scanned_at, city, province, channel, id FROM scans WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after_id as i64, limit], |r| {
                    Ok((r.get::<_, i64>(5)? as u64, scan_row(r)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}
