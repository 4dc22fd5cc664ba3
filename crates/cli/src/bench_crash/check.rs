//! After a kill: the acknowledged events, half-stored batches, verify and the restarted server's index.

#[allow(unused_imports)]
use super::*;
/// One store's trial results.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) trials: u32,
    pub(super) acked: u64,
    pub(super) acked_lost: u64,
    pub(super) half_written: u64,
    pub(super) unexpected: u64,
    pub(super) refused: u64,
    pub(super) verify_failures: u64,
    pub(super) index_mismatches: u64,
    pub(super) restart_ms: Vec<f64>,
    pub(super) first_capture_ms: Vec<f64>,
    pub(super) load_eps: Vec<f64>,
    pub(super) events_at_end: u64,
}

impl Tally {
    pub(super) fn json(&self) -> Value {
        let mut sorted = self.restart_ms.clone();
        sorted.sort_by(f64::total_cmp);
        json!({
            "trials": self.trials,
            "acked_events": self.acked,
            "acked_lost": self.acked_lost,
            "half_written_batches": self.half_written,
            "unexpected_events": self.unexpected,
            "refused_batches": self.refused,
            "verify_failures": self.verify_failures,
            "index_mismatches": self.index_mismatches,
            "restart_p50_ms": round_to(median(self.restart_ms.clone()), 1),
            "first_capture_after_restart_p50_ms": round_to(median(self.first_capture_ms.clone()), 1),
            "first_capture_after_restart_max_ms": round_to(self.first_capture_ms.iter().copied().fold(0.0, f64::max), 1),
            "restart_p99_ms": round_to(percentile(&sorted, 99.0), 1),
            "load_eps_median": round_to(median(self.load_eps.clone()), 0),
            "largest_store_events": self.events_at_end,
        })
    }
}

/// Every event stored after `after_seq`: eventID → (event hash, seq), and the (parent, first child) of the
/// aggregations among them.
pub(super) async fn stored_after(
    store: &dyn Store,
    after_seq: u64,
) -> Result<(HashMap<String, (String, u64)>, Vec<(String, String)>)> {
    let mut out = HashMap::new();
    let mut packs = Vec::new();
    let mut after = after_seq;
    loop {
        let page = store.events_after(after, 10_000).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        for e in page {
            let v = serde_json::to_value(&e.event)?;
            if let (Some(p), Some(c)) = (v["parentID"].as_str(), v["childEPCs"][0].as_str()) {
                packs.push((p.to_string(), c.to_string()));
            }
            out.insert(e.event_id, (e.event_hash, e.seq));
        }
        after = last;
    }
    Ok((out, packs))
}

/// Node and edge counts of a trace through the restarted server.
pub(super) async fn served_counts(
    client: &reqwest::Client,
    url: &str,
    direction: &str,
    id: &str,
) -> Result<(u64, u64, u64)> {
    let body = client
        .get(format!("{url}/api/v1/trace/{direction}"))
        .query(&[("id", id)])
        .send()
        .await?
        .bytes()
        .await?;
    let v: Value = serde_json::from_slice(&body)?;
    Ok((
        v["counts"]["nodes"].as_u64().unwrap_or(0),
        v["counts"]["edges"].as_u64().unwrap_or(0),
        v["indexedThroughSeq"].as_u64().unwrap_or(0),
    ))
}

/// Checks the store and the restarted server after a kill; answers the last stored seq.
pub(super) async fn check(
    target: &Target,
    server: &ServerProc,
    client: &reqwest::Client,
    before_seq: u64,
    load: &Load,
    rng: &mut Rng,
    tally: &mut Tally,
) -> Result<u64> {
    let store = suyuan_store::open(&target.store).await?;
    let (stored, packs) = stored_after(store.as_ref(), before_seq).await?;
    for (id, (hash, seq)) in &load.acked {
        if stored.get(id) != Some(&(hash.clone(), *seq)) {
            tally.acked_lost += 1;
        }
    }
    let mut known: HashSet<&str> = load.acked.keys().map(String::as_str).collect();
    for batch in &load.unanswered {
        let n = batch.iter().filter(|id| stored.contains_key(*id)).count();
        if n != 0 && n != batch.len() {
            tally.half_written += 1;
        }
        known.extend(batch.iter().map(String::as_str));
    }
    tally.unexpected += stored
        .keys()
        .filter(|id| !known.contains(id.as_str()))
        .count() as u64;
    let key = suyuan_engine::ledger::load_key(&target.key, "suyuan.local/ledger")?;
    let verified =
        suyuan_engine::ledger::verify(store.as_ref(), key.verifier_key(), &|_| {}).await?;
    if let Some(f) = verified.finding {
        eprintln!("verify failed at seq {}: {}", f.seq, f.problem);
        tally.verify_failures += 1;
    }
    let last_seq = store.stats().await?.last_seq;
    // The restarted server's index against one built afresh from the store.
    let fresh = suyuan_engine::Engine::new(store.clone());
    let tracer = fresh.trace_index().await?;
    for _ in 0..packs.len().min(5) {
        let (parent, child) = &packs[rng.below(packs.len() as u64) as usize];
        for (direction, id) in [("backward", parent), ("forward", child)] {
            let served = served_counts(client, &server.url, direction, id).await?;
            let k = suyuan_core::projection::object_key(id);
            let opts = suyuan_trace::TraceOptions::default();
            let own = {
                let index = tracer.read();
                let t = if direction == "backward" {
                    index.backward(&k, &opts)
                } else {
                    index.forward(&k, &opts)
                };
                t.map_or((0, 0), |t| (t.nodes.len() as u64, t.edges.len() as u64))
            };
            if (served.0, served.1) != own || served.2 < last_seq {
                eprintln!(
                    "index mismatch on {direction} {id}: served {served:?}, store {own:?} through seq {last_seq}"
                );
                tally.index_mismatches += 1;
            }
        }
    }
    Ok(last_seq)
}
