//! The steady capture load of a crash trial, and what it was told.

#[allow(unused_imports)]
use super::*;
/// A capture request's events: `groups` cases, each of 9 commissioned units and the aggregation packing them.
pub(super) fn batch_document(
    run: u32,
    trial: u32,
    batch: u64,
    size: usize,
) -> (Value, Vec<String>) {
    let now = chrono::Utc::now() - chrono::Duration::seconds(60);
    let time = now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let mut events = Vec::with_capacity(size);
    let mut ids = Vec::with_capacity(size);
    // At most 20 characters, as an SGTIN's serial must be.
    let serial = |j: usize| format!("{:06x}{trial:04}{batch:06}{j:03}", run & 0xff_ffff);
    let id = |j: usize| {
        format!(
            "urn:uuid:{run:08x}-{trial:04x}-4{:03x}-8{:03x}-{j:012x}",
            (batch >> 12) & 0xfff,
            batch & 0xfff
        )
    };
    for g in 0..size.div_ceil(10) {
        let members: Vec<usize> = (g * 10..(g * 10 + 9).min(size.saturating_sub(1))).collect();
        for &j in &members {
            ids.push(id(j));
            events.push(json!({
                "type": "ObjectEvent", "eventID": id(j), "eventTime": time, "eventTimeZoneOffset": "+08:00",
                "epcList": [format!("urn:epc:id:sgtin:4012345.011111.{}", serial(j))],
                "action": "ADD", "bizStep": "commissioning", "disposition": "active"
            }));
        }
        let j = g * 10 + 9;
        if j < size {
            ids.push(id(j));
            events.push(json!({
                "type": "AggregationEvent", "eventID": id(j), "eventTime": time, "eventTimeZoneOffset": "+08:00",
                "parentID": format!("urn:epc:id:sscc:4012345.{:010}", (u64::from(trial) * 1_000_000 + batch) * 100 + g as u64),
                "childEPCs": members.iter().map(|&m| format!("urn:epc:id:sgtin:4012345.011111.{}", serial(m))).collect::<Vec<_>>(),
                "action": "ADD", "bizStep": "packing", "disposition": "in_progress"
            }));
        }
    }
    let doc = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": time,
        "epcisBody": {"eventList": events}
    });
    (doc, ids)
}

/// What one trial's load left: acknowledged events with their hash and seq, and batches whose answer never came.
#[derive(Default)]
pub(super) struct Load {
    pub(super) acked: HashMap<String, (String, u64)>,
    pub(super) unanswered: Vec<Vec<String>>,
    pub(super) refused: u64,
    pub(super) seconds: f64,
}

/// Captures at `rate` events a second (0: as fast as answered) until `kill` is raised.
pub(super) async fn load(
    url: &str,
    token: &str,
    rate: u32,
    batch: usize,
    run: u32,
    trial: u32,
    kill: Arc<AtomicBool>,
) -> Result<Load> {
    const WORKERS: u64 = 4;
    let client = staff_client(token)?;
    let out = Arc::new(Mutex::new(Load::default()));
    let started = Instant::now();
    let interval = (rate > 0)
        .then(|| Duration::from_secs_f64(WORKERS as f64 * batch as f64 / f64::from(rate)));
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (client, url, out, kill) = (client.clone(), url.to_string(), out.clone(), kill.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = 0u64;
            while !kill.load(Ordering::Acquire) {
                if let Some(i) = interval {
                    let due = started + i.mul_f64(k as f64) + i.mul_f64(w as f64 / WORKERS as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let b = k * WORKERS + w;
                k += 1;
                let (doc, ids) = batch_document(run, trial, b, batch);
                let answer = client
                    .post(format!("{url}/api/v1/events"))
                    .header("content-type", "application/ld+json")
                    .body(doc.to_string())
                    .send()
                    .await;
                let body = match answer {
                    Ok(r) if r.status().is_success() => r
                        .bytes()
                        .await
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok()),
                    Ok(r) if r.status().is_client_error() => {
                        let mut o = out.lock().await;
                        o.refused += 1;
                        if o.refused == 1 {
                            let text = r.text().await.unwrap_or_default();
                            eprintln!(
                                "a batch was refused: {}",
                                text.chars().take(400).collect::<String>()
                            );
                        }
                        continue;
                    }
                    _ => None,
                };
                let mut o = out.lock().await;
                match body {
                    Some(v) => {
                        note_acks(&v, &mut o.acked);
                    }
                    None => o.unanswered.push(ids),
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let mut o = std::mem::take(&mut *out.lock().await);
    o.seconds = started.elapsed().as_secs_f64();
    Ok(o)
}

/// Notes every event a capture's answer acknowledges: eventID → (event hash, seq).
pub(super) fn note_acks(answer: &Value, acked: &mut HashMap<String, (String, u64)>) {
    for e in answer["events"].as_array().into_iter().flatten() {
        if let (Some(id), Some(h), Some(seq)) = (
            e["eventID"].as_str(),
            e["eventHash"].as_str(),
            e["seq"].as_u64(),
        ) {
            acked.insert(id.to_string(), (h.to_string(), seq));
        }
    }
}
