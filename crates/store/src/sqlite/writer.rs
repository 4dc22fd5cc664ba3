//! The SQLite writer thread: group commit of every waiting write in one transaction, each in its own savepoint, and the statements a commit runs (events, projections, records).

#[allow(unused_imports)]
use super::*;

/// What the writer thread is asked to write.
pub(super) enum Work {
    Commit(Commit),
    Scans(Vec<ScanRecord>),
    LocateScan(String, String, String),
    SaveDefinition(String, String, Box<Value>),
    Reserve(String, String, u64, u64),
    Register(Vec<IssuedCode>),
    Revoke(String, String),
    ExtendTree(u64, u64, Vec<[u8; 32]>),
    Checkpoint(u64, String, String),
    Account(AccountOp),
    MasterData(Vec<VocabularyElement>),
    Reactor(outbox::ReactorOp),
}

/// A write to the account tables.
pub(super) enum AccountOp {
    Put {
        kind: String,
        id: String,
        doc: String,
        create: bool,
    },
    Delete(String, String),
    Log(AccessEntry),
}

/// What it answers.
pub(super) enum Done {
    Appended(Vec<Appended>),
    Scans(Vec<u64>),
    Definition(StoredDefinition),
    Number(u64),
    Reserved(Option<u64>),
    Claimed(Option<crate::ReactorState>),
    Nothing,
}

pub(super) struct WriteJob {
    pub(super) work: Work,
    pub(super) reply: oneshot::Sender<Result<Done, StoreError>>,
}

impl WriteJob {
    fn size(&self) -> usize {
        match &self.work {
            Work::Commit(c) => c.size(),

            Work::Scans(s) => s.len(),
            Work::LocateScan(..) => 1,
            Work::Register(c) => c.len() / 8,
            Work::ExtendTree(_, _, h) => h.len() / 8,
            Work::Checkpoint(..) => 1,
            Work::SaveDefinition(..) | Work::Reserve(..) | Work::Revoke(..) => 1,
            Work::Account(_) => 1,
            Work::MasterData(m) => m.len(),
            Work::Reactor(_) => 1,
        }
    }
}

/// Ids the writer hands out: ledger seqs and object ids.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counters {
    pub(super) seq: u64,
    pub(super) object_id: i64,
}

pub(super) fn writer_loop(
    mut conn: Connection,
    rx: Receiver<WriteJob>,
    mut next: Counters,
    restart_wal: Arc<AtomicBool>,
) {
    while let Ok(first) = rx.recv() {
        // Between transactions, when the checkpointer asks: copy the rest of the WAL back and start it over.
        if restart_wal.swap(false, Ordering::Relaxed)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "WAL restart failed; it will be retried");
        }
        let mut jobs = vec![first];
        let mut events = jobs[0].size();
        while events < GROUP_LIMIT {
            match rx.try_recv() {
                Ok(j) => {
                    events += j.size();
                    jobs.push(j);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let results = write_group(&mut conn, &mut next, &jobs);
        for (job, r) in jobs.into_iter().zip(results) {
            let _ = job.reply.send(r);
        }
    }
}

pub(super) fn run_job(
    conn: &Connection,
    next: Counters,
    work: &Work,
) -> Result<(Done, Counters), StoreError> {
    match work {
        Work::Commit(commit) => {
            let (res, next) = append_batch(conn, next, &commit.events)?;
            write_records(conn, &commit.writes)?;
            Ok((Done::Appended(res), next))
        }
        Work::Scans(scans) => insert_scans(conn, scans).map(|n| (Done::Scans(n), next)),
        Work::LocateScan(object, city, province) => conn
            .execute(
                "UPDATE scans SET city = ?2, province = ?3 WHERE id = \
                 (SELECT max(id) FROM scans WHERE object_key = ?1) AND city IS NULL",
                params![object, city, province],
            )
            .map(|n| (Done::Number(n as u64), next))
            .map_err(StoreError::from),
        Work::SaveDefinition(kind, name, def) => {
            save_definition(conn, kind, name, def).map(|r| (Done::Definition(r), next))
        }
        Work::Reserve(rule, scope, count, limit) => {
            reserve(conn, rule, scope, *count, *limit).map(|n| (Done::Reserved(n), next))
        }
        Work::Register(codes) => register(conn, codes).map(|_| (Done::Nothing, next)),
        Work::Revoke(code, reason) => revoke(conn, code, reason).map(|n| (Done::Number(n), next)),
        Work::ExtendTree(from, to, hashes) => {
            extend_tree(conn, *from, *to, hashes).map(|_| (Done::Nothing, next))
        }
        Work::Checkpoint(size, root, note) => conn
            .execute(
                "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (size) DO NOTHING",
                params![*size as i64, root, note, now_record_time()],
            )
            .map(|_| (Done::Nothing, next))
            .map_err(StoreError::from),
        Work::Account(op) => write_account(conn, op).map(|n| (Done::Number(n), next)),
        Work::MasterData(elements) => {
            write_master_data(conn, elements).map(|_| (Done::Nothing, next))
        }
        Work::Reactor(op) => outbox::run(conn, op).map(|d| (d, next)),
    }
}

/// A commit's record changes, in order, inside its transaction.
pub(super) fn write_records(conn: &Connection, writes: &[Write]) -> Result<(), StoreError> {
    for w in writes {
        match w {
            Write::PutRecord {
                kind,
                id,
                doc,
                create,
            } => {
                write_account(
                    conn,
                    &AccountOp::Put {
                        kind: kind.clone(),
                        id: id.clone(),
                        doc: doc.to_string(),
                        create: *create,
                    },
                )?;
            }
            Write::DeleteRecord {
                kind,
                id,
                must_exist,
            } => {
                let n = write_account(conn, &AccountOp::Delete(kind.clone(), id.clone()))?;
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
                let n = conn.execute(
                    "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![kind, name, version, definition.to_string(), now_record_time()],
                )?;
                if n == 0 {
                    return Err(StoreError::Exists {
                        kind: kind.clone(),
                        id: format!("{name} v{version}"),
                    });
                }
            }
            Write::RevokeCode { code, reason } => {
                if revoke(conn, code, reason)? == 0 {
                    return Err(StoreError::Missing {
                        kind: "code".into(),
                        id: code.clone(),
                    });
                }
            }
            Write::MasterData(elements) => write_master_data(conn, elements)?,
            Write::Fail(why) => return Err(StoreError::Injected(why.clone())),
        }
    }
    Ok(())
}

/// Merges each element into the stored one of the same type and id.
pub(super) fn write_master_data(
    conn: &Connection,
    elements: &[VocabularyElement],
) -> Result<(), StoreError> {
    let mut find =
        conn.prepare_cached("SELECT doc FROM master_data WHERE vtype = ?1 AND id = ?2")?;
    let mut put = conn.prepare_cached(
        "INSERT INTO master_data (vtype, id, doc, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (vtype, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
    )?;
    let now = now_record_time();
    for e in elements {
        let old: Option<String> = find.query_row([&e.vtype, &e.id], |r| r.get(0)).optional()?;
        let merged = crate::merge_element(old.as_deref(), e)?;
        put.execute(params![e.vtype, e.id, merged.to_doc().to_string(), now])?;
    }
    Ok(())
}

pub(super) fn write_account(conn: &Connection, op: &AccountOp) -> Result<u64, StoreError> {
    match op {
        AccountOp::Put {
            kind,
            id,
            doc,
            create,
        } => {
            let sql = if *create {
                "INSERT INTO accounts (kind, id, doc, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, id) DO NOTHING"
            } else {
                "INSERT INTO accounts (kind, id, doc, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"
            };
            let n = conn.execute(sql, params![kind, id, doc, now_record_time()])?;
            if n == 0 {
                return Err(StoreError::Exists {
                    kind: kind.clone(),
                    id: id.clone(),
                });
            }
            Ok(1)
        }
        AccountOp::Delete(kind, id) => Ok(conn.execute(
            "DELETE FROM accounts WHERE kind = ?1 AND id = ?2",
            params![kind, id],
        )? as u64),
        AccountOp::Log(e) => {
            conn.execute(
                "INSERT INTO access_log (at, user, request, status, items) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![e.at, e.user, e.request, e.status, e.items as i64],
            )?;
            Ok(1)
        }
    }
}

/// The next seq and object id as the database has them (another process may have appended meanwhile).
pub(super) fn read_counters(conn: &Connection) -> Result<Counters, rusqlite::Error> {
    let seq: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events", [], |r| {
        r.get(0)
    })?;
    let object_id: i64 =
        conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM objects", [], |r| {
            r.get(0)
        })?;
    Ok(Counters {
        seq: seq as u64,
        object_id,
    })
}

/// Writes every job in one transaction; each job's result is final only when the commit succeeded.
pub(super) fn write_group(
    conn: &mut Connection,
    next: &mut Counters,
    jobs: &[WriteJob],
) -> Vec<Result<Done, StoreError>> {
    let start = *next;
    let attempt = (|| -> Result<Vec<Result<Done, StoreError>>, StoreError> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Under the write lock: another process (`suyuan token create --data …`, an import) may have written.
        *next = read_counters(&tx)?;
        if let [job] = jobs {
            // Alone in the group: no savepoint needed, a failure rolls the transaction back.
            return match run_job(&tx, *next, &job.work) {
                Ok((res, after)) => {
                    tx.commit()?;
                    *next = after;
                    Ok(vec![Ok(res)])
                }
                Err(e) => Ok(vec![Err(e)]),
            };
        }
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let sp = tx.savepoint()?;
            let outcome = run_job(&sp, *next, &job.work);
            match outcome {
                Ok((res, after)) => {
                    sp.commit()?;
                    *next = after;
                    results.push(Ok(res));
                }
                Err(e) => {
                    drop(sp);
                    // A full disk (and some I/O errors) makes SQLite roll the whole transaction back: the
                    // jobs before this one are gone too, so the whole group fails with this error.
                    if tx.is_autocommit() {
                        return Err(e);
                    }
                    results.push(Err(e));
                }
            }
        }
        tx.commit()?;
        Ok(results)
    })();
    match attempt {
        Ok(r) => r,
        Err(e) => {
            *next = start;
            let msg = e.to_string();
            tracing::error!(error = %msg, "sqlite group commit failed");
            let full = match &e {
                StoreError::Full(detail) => Some(detail.clone()),
                _ => None,
            };
            jobs.iter()
                .map(|_| {
                    Err(match &full {
                        Some(detail) => StoreError::Full(detail.clone()),
                        None => StoreError::Backend(msg.clone()),
                    })
                })
                .collect()
        }
    }
}

/// Appends one batch inside the open transaction; returns the results and the next free seq.
pub(super) fn append_batch(
    conn: &Connection,
    next: Counters,
    batch: &[NewEvent],
) -> Result<(Vec<Appended>, Counters), StoreError> {
    let record_time = now_record_time();
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, biz_step, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(dedup_key) DO NOTHING",
    )?;
    let mut find = conn.prepare_cached(
        "SELECT seq, event_hash, leaf_hash, record_time, event_id FROM events WHERE dedup_key = ?1",
    )?;
    let plan = plan_append(batch, next.seq, &record_time, |seq, e, leaf| {
        let inserted = insert.execute(params![
            seq as i64,
            e.event_id,
            e.dedup_key,
            e.event_hash,
            leaf,
            record_time,
            e.event_time_ms,
            e.event_type,
            e.biz_step,
            e.body
        ])?;
        if inserted == 1 {
            return Ok(None);
        }
        let stored = find
            .query_row([&e.dedup_key], |r| {
                Ok(Appended {
                    seq: r.get::<_, i64>(0)? as u64,
                    event_hash: r.get(1)?,
                    leaf_hash: r.get(2)?,
                    record_time: r.get(3)?,
                    event_id: r.get(4)?,
                    duplicate: true,
                })
            })
            .optional()?;
        stored.map(Some).ok_or_else(|| {
            StoreError::Backend(format!(
                "event {} was neither inserted nor found",
                e.dedup_key
            ))
        })
    })?;
    let mut object_id = next.object_id;
    apply_projection(conn, &plan.new_events, &mut object_id)?;
    let mut place = conn.prepare_cached("INSERT INTO event_places (place, seq) VALUES (?1, ?2)")?;
    let mut term = conn.prepare_cached(
        "INSERT OR IGNORE INTO search_terms (term, kind, target) VALUES (?1, ?2, ?3)",
    )?;
    for (seq, e, _) in &plan.new_events {
        for p in &e.places {
            place.execute(params![p, *seq as i64])?;
        }
        for (t, kind, target) in e.terms_at(*seq) {
            term.execute(params![t, kind, target])?;
        }
    }
    if let (Some((first, ..)), Some((last, ..))) = (plan.new_events.first(), plan.new_events.last())
    {
        conn.prepare_cached(
            "INSERT INTO outbox (first_seq, last_seq, kind, created) VALUES (?1, ?2, 'events', ?3)",
        )?
        .execute(params![*first as i64, *last as i64, record_time])?;
    }
    Ok((
        plan.results,
        Counters {
            seq: plan.next_seq,
            object_id,
        },
    ))
}

/// Applies the projection changes of new events in seq order, one statement per change; the semantics
/// are those of `objects::ObjectChanges`, which the PostgreSQL backend applies in memory.
pub(super) fn apply_projection(
    conn: &Connection,
    new_events: &[(u64, &NewEvent, String)],
    next_object_id: &mut i64,
) -> Result<(), StoreError> {
    let mut touch = conn.prepare_cached(
        "INSERT INTO objects (object_key, id, first_seq, last_seq, event_count, location, disposition, party)
         VALUES (?1, ?5, ?2, ?2, 1, ?3, ?4, ?6)
         ON CONFLICT(object_key) DO UPDATE SET last_seq = excluded.last_seq, event_count = event_count + 1,
           location = COALESCE(excluded.location, location), disposition = COALESCE(excluded.disposition, disposition),
           party = COALESCE(excluded.party, party)
         RETURNING id",
    )?;
    let mut hist = conn
        .prepare_cached("INSERT OR IGNORE INTO object_events (object_id, seq) VALUES (?1, ?2)")?;
    let mut set = conn.prepare_cached("UPDATE objects SET container = ?2 WHERE object_key = ?1")?;
    let mut clear = conn.prepare_cached(
        "UPDATE objects SET container = NULL WHERE object_key = ?1 AND container = ?2",
    )?;
    let mut clear_all =
        conn.prepare_cached("UPDATE objects SET container = NULL WHERE container = ?1")?;
    let mut term = conn.prepare_cached(
        "INSERT OR IGNORE INTO search_terms (term, kind, target) VALUES (?1, ?2, ?3)",
    )?;
    for (seq, e, _) in new_events {
        let seq = *seq as i64;
        for op in &e.ops {
            match op {
                ProjectionOp::Touch {
                    object,
                    location,
                    disposition,
                    party,
                } => {
                    let fresh = *next_object_id;
                    let id: i64 = touch.query_row(
                        params![object, seq, location, disposition, fresh, party],
                        |r| r.get(0),
                    )?;
                    if id == fresh {
                        *next_object_id += 1;
                        // A new object: its serial, lot or SSCC goes into the search index.
                        for (t, kind, target) in suyuan_core::search::object_terms(object) {
                            term.execute(params![t, kind, target])?;
                        }
                    }
                    hist.execute(params![id, seq])?;
                }
                ProjectionOp::SetContainer { child, parent } => {
                    set.execute(params![child, parent])?;
                }
                ProjectionOp::ClearContainer { child, parent } => {
                    clear.execute(params![child, parent])?;
                }
                ProjectionOp::ClearChildrenOf { parent } => {
                    clear_all.execute(params![parent])?;
                }
            }
        }
    }
    Ok(())
}

/// Inserts consumer scans; returns, for each, how many times its object has been scanned so far.
pub(super) fn insert_scans(
    conn: &Connection,
    scans: &[ScanRecord],
) -> Result<Vec<u64>, StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO scans (object_key, scanned_at, city, province, channel) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut count = conn.prepare_cached("SELECT COUNT(*) FROM scans WHERE object_key = ?1")?;
    let mut out = Vec::with_capacity(scans.len());
    for s in scans {
        insert.execute(params![
            s.object,
            s.scanned_at,
            s.city,
            s.province,
            s.channel
        ])?;
        out.push(count.query_row([&s.object], |r| r.get::<_, i64>(0))? as u64);
    }
    Ok(out)
}
