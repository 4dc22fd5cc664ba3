//! Reading the PostgreSQL ledger: events, object state and histories, the search index and consumer scans.

#[allow(unused_imports)]
use super::*;
use crate::LedgerRecord;

pub(super) fn object_from_row(r: &Row) -> ObjectState {
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

pub(super) const OBJECT_COLUMNS: &str =
    "object_key, first_seq, last_seq, event_count, location, disposition, container, party";
pub(super) const EVENT_COLUMNS: &str = "seq, event_id, event_hash, leaf_hash, record_time, body";

/// A row of a `SELECT {EVENT_COLUMNS}` as recorded, body unparsed.
pub(super) fn ledger_row(r: &Row) -> LedgerRecord {
    LedgerRecord {
        seq: r.get::<_, i64>(0) as u64,
        event_id: r.get(1),
        event_hash: r.get(2),
        leaf_hash: r.get(3),
        record_time: r.get(4),
        body: r.get(5),
    }
}

pub(super) fn stored_from_rows(rows: Vec<Row>) -> Result<Vec<StoredEvent>, StoreError> {
    rows.iter().map(|r| ledger_row(r).into_stored()).collect()
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
        Ok((total as u64, rows.iter().map(scan_from_row).collect()))
    }

    async fn locate_scan(
        &self,
        object: &str,
        city: &str,
        province: &str,
    ) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE scans SET city = $2, province = $3 WHERE id = \
                 (SELECT max(id) FROM scans WHERE object_key = $1) AND city IS NULL",
                &[&object, &city, &province],
            )
            .await?;
        Ok(n > 0)
    }

    async fn scans_after(
        &self,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<(u64, ScanRecord)>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT object_key, scanned_at, city, province, channel, id FROM scans WHERE id > $1 ORDER BY id LIMIT $2",
                &[&(after_id as i64), &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, i64>(5) as u64, scan_from_row(r)))
            .collect())
    }
}

fn scan_from_row(r: &tokio_postgres::Row) -> ScanRecord {
    ScanRecord {
        object: r.get(0),
        scanned_at: r.get(1),
        city: r.get(2),
        province: r.get(3),
        channel: r.get(4),
    }
}
