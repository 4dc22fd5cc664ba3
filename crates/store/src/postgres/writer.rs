//! Commits on PostgreSQL: events with their projections, places, search terms and outbox row in array statements, then the record changes, in one transaction.

#[allow(unused_imports)]
use super::*;

/// Inserts search index rows, ignoring those already there.
pub(super) async fn put_terms(
    tx: &tokio_postgres::Transaction<'_>,
    rows: &[suyuan_core::search::Term],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let terms: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let targets: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    tx.execute(
        "INSERT INTO search_terms (term, kind, target) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[]) \
         ON CONFLICT DO NOTHING",
        &[&terms, &kinds, &targets],
    )
    .await?;
    Ok(())
}

/// Appends a batch inside the open transaction `tx`: new events with their projection, places, search terms
/// and an outbox row; repeats answered with their stored position.
pub(super) async fn append_in(
    tx: &tokio_postgres::Transaction<'_>,
    batch: &[NewEvent],
) -> Result<Vec<Appended>, StoreError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&str> = batch.iter().map(|e| e.dedup_key.as_str()).collect();
    let dedup_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&keys];
    // Pipelined, but executed in order: the head lock is held before the repeats are looked up.
    let (head, stored) = tokio::try_join!(
        tx.query_one("SELECT last_seq FROM ledger_head WHERE id = 1 FOR UPDATE", &[]),
        tx.query(
            "SELECT dedup_key, seq, event_hash, leaf_hash, record_time, event_id FROM events WHERE dedup_key = ANY($1)",
            &dedup_params,
        ),
    )?;
    let last: i64 = head.get(0);
    let mut existing = HashMap::new();
    for r in stored {
        existing.insert(
            r.get::<_, String>(0),
            Appended {
                seq: r.get::<_, i64>(1) as u64,
                event_hash: r.get(2),
                leaf_hash: r.get(3),
                record_time: r.get(4),
                event_id: r.get(5),
                duplicate: true,
            },
        );
    }
    let record_time = now_record_time();
    let plan = plan_append(batch, last as u64 + 1, &record_time, |_, e, _| {
        Ok(existing.get(&e.dedup_key).cloned())
    })?;
    if plan.new_events.is_empty() {
        return Ok(plan.results);
    }
    let n = plan.new_events.len();
    let mut seqs = Vec::with_capacity(n);
    let (mut ids, mut dedup, mut hashes, mut leaves, mut times, mut types, mut steps, mut bodies) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut event_times = Vec::with_capacity(n);
    for (seq, e, leaf) in &plan.new_events {
        seqs.push(*seq as i64);
        ids.push(e.event_id.as_str());
        dedup.push(e.dedup_key.as_str());
        hashes.push(e.event_hash.as_str());
        leaves.push(leaf.as_str());
        times.push(record_time.as_str());
        event_times.push(e.event_time_ms);
        types.push(e.event_type.as_str());
        steps.push(e.biz_step.as_deref());
        bodies.push(e.body.as_str());
    }
    let touched = Touched::of(plan.new_events.iter().flat_map(|(_, e, _)| e.ops.iter()));
    let keys: Vec<&str> = touched.keys.iter().map(String::as_str).collect();
    let parents: Vec<&str> = touched.emptied_parents.iter().map(String::as_str).collect();
    let object_query = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE object_key = ANY($1)");
    let (first_seq, last_new_seq) = (seqs[0], seqs[seqs.len() - 1]);
    let event_params: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
        &seqs,
        &ids,
        &dedup,
        &hashes,
        &leaves,
        &times,
        &event_times,
        &types,
        &steps,
        &bodies,
    ];
    let outbox_params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&first_seq, &last_new_seq, &record_time];
    let key_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&keys];
    // Independent statements go out together (tokio-postgres pipelines them on the connection).
    let (_, _, mut rows) = tokio::try_join!(
        tx.execute(
            "INSERT INTO events (seq, event_id, dedup_key, event_hash, leaf_hash, record_time, event_time_ms, event_type, biz_step, body)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])",
            &event_params,
        ),
        tx.execute(
            "INSERT INTO outbox (first_seq, last_seq, kind, created) VALUES ($1, $2, 'events', $3)",
            &outbox_params,
        ),
        tx.query(&object_query, &key_params),
    )?;
    if !parents.is_empty() {
        rows.extend(
            tx.query(
                &format!(
                    "SELECT {OBJECT_COLUMNS} FROM objects WHERE container = ANY($1) AND NOT (object_key = ANY($2))"
                ),
                &[&parents, &keys],
            )
            .await?,
        );
    }
    let (mut places, mut place_seqs) = (Vec::new(), Vec::new());
    for (seq, e, _) in &plan.new_events {
        for p in &e.places {
            places.push(*p);
            place_seqs.push(*seq as i64);
        }
    }
    if !places.is_empty() {
        tx.execute(
            "INSERT INTO event_places (place, seq) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])",
            &[&places, &place_seqs],
        )
        .await?;
    }
    // The search index: each new object's serial, lot or SSCC, each event's transactions and lots.
    let mut terms: Vec<suyuan_core::search::Term> = Vec::new();
    {
        let known: std::collections::HashSet<String> =
            rows.iter().map(|r| r.get::<_, String>(0)).collect();
        for k in touched.keys.iter().filter(|k| !known.contains(*k)) {
            terms.extend(suyuan_core::search::object_terms(k));
        }
    }
    for (seq, e, _) in &plan.new_events {
        terms.extend(e.terms_at(*seq));
    }
    put_terms(tx, &terms).await?;
    let mut changes = ObjectChanges::new(rows.iter().map(object_from_row).collect());
    for (seq, e, _) in &plan.new_events {
        changes.apply(*seq, &e.ops);
    }
    let (mut ok, mut first, mut lastv, mut count, mut loc, mut disp, mut cont, mut party) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for r in changes.changed() {
        ok.push(r.id.as_str());
        first.push(r.first_seq as i64);
        lastv.push(r.last_seq as i64);
        count.push(r.event_count as i64);
        loc.push(r.location.as_deref());
        disp.push(r.disposition.as_deref());
        cont.push(r.container.as_deref());
        party.push(r.party.as_deref());
    }
    let ids: HashMap<String, i64> = tx
        .query(
            "INSERT INTO objects (object_key, first_seq, last_seq, event_count, location, disposition, container, party)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[])
             ON CONFLICT (object_key) DO UPDATE SET first_seq = excluded.first_seq, last_seq = excluded.last_seq,
               event_count = excluded.event_count, location = excluded.location, disposition = excluded.disposition,
               container = excluded.container, party = excluded.party
             RETURNING object_key, id",
            &[&ok, &first, &lastv, &count, &loc, &disp, &cont, &party],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect();
    let mut hist_ids = Vec::with_capacity(changes.history.len());
    let mut hist_seqs = Vec::with_capacity(changes.history.len());
    for (k, seq) in &changes.history {
        // Every object in the history was touched, hence upserted above.
        if let Some(id) = ids.get(k) {
            hist_ids.push(*id);
            hist_seqs.push(*seq as i64);
        }
    }
    let last_seq = (plan.next_seq - 1) as i64;
    let hist_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&hist_ids, &hist_seqs];
    let head_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&last_seq];
    tokio::try_join!(
        tx.execute(
            "INSERT INTO object_events (object_id, seq) SELECT * FROM UNNEST($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
            &hist_params,
        ),
        tx.execute("UPDATE ledger_head SET last_seq = $1 WHERE id = 1", &head_params),
    )?;
    Ok(plan.results)
}

/// A commit's record changes, in order, inside its transaction.
pub(super) async fn write_records(
    tx: &tokio_postgres::Transaction<'_>,
    writes: &[Write],
) -> Result<(), StoreError> {
    for w in writes {
        match w {
            Write::PutRecord {
                kind,
                id,
                doc,
                create,
            } => {
                let sql = if *create {
                    "INSERT INTO accounts (kind, id, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING"
                } else {
                    "INSERT INTO accounts (kind, id, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"
                };
                let n = tx
                    .execute(sql, &[kind, id, &doc.to_string(), &now_record_time()])
                    .await?;
                if n == 0 {
                    return Err(StoreError::Exists {
                        kind: kind.clone(),
                        id: id.clone(),
                    });
                }
            }
            Write::DeleteRecord {
                kind,
                id,
                must_exist,
            } => {
                let n = tx
                    .execute(
                        "DELETE FROM accounts WHERE kind = $1 AND id = $2",
                        &[kind, id],
                    )
                    .await?;
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
                let n = tx
                    .execute(
                        "INSERT INTO definitions (kind, name, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT DO NOTHING",
                        &[kind, name, &(*version as i32), &definition.to_string(), &now_record_time()],
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Exists {
                        kind: kind.clone(),
                        id: format!("{name} v{version}"),
                    });
                }
            }
            Write::RevokeCode { code, reason } => {
                let n = tx
                    .execute(
                        "UPDATE codes SET revoked = $2 WHERE (uri = $1 OR code = $1) AND revoked IS NULL",
                        &[code, reason],
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Missing {
                        kind: "code".into(),
                        id: code.clone(),
                    });
                }
            }
            Write::MasterData(elements) => write_master_data(tx, elements).await?,
            Write::Fail(why) => return Err(StoreError::Injected(why.clone())),
        }
    }
    Ok(())
}

/// Merges each element into the stored one of the same type and id, inside `tx`.
pub(super) async fn write_master_data(
    tx: &tokio_postgres::Transaction<'_>,
    elements: &[VocabularyElement],
) -> Result<(), StoreError> {
    let now = now_record_time();
    for e in elements {
        let old = tx
            .query_opt(
                "SELECT doc FROM master_data WHERE vtype = $1 AND id = $2 FOR UPDATE",
                &[&e.vtype, &e.id],
            )
            .await?
            .map(|r| r.get::<_, String>(0));
        let merged = crate::merge_element(old.as_deref(), e)?;
        tx.execute(
            "INSERT INTO master_data (vtype, id, doc, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (vtype, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            &[&e.vtype, &e.id, &merged.to_doc().to_string(), &now],
        )
        .await?;
    }
    Ok(())
}
