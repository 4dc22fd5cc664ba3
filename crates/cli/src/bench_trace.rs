//! `suyuan bench trace`: the genealogy index on a generated history — build time, memory per edge, snapshot
//! rebuild, backward and forward latencies — with `--pg` the same reachability as PostgreSQL recursive CTEs,
//! and on a real SQLite store the HTTP backward latency and the full recall report.

use crate::bench::{median, percentile, round_to};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use suyuan_core::projection::object_key;
use suyuan_engine::Engine;
use suyuan_store::{SqliteStore, Store};
use suyuan_trace::{TraceIndex, TraceOptions};

/// What the bench needs from a generated history: sample cans (for backward traces) and raw-milk lots (for
/// forward traces and recalls).
#[derive(Default)]
struct Samples {
    cans: Vec<String>,
    milk_lots: Vec<String>,
    /// Every received raw-material lot (up to a few dozen).
    raw_lots: Vec<String>,
}

impl Samples {
    fn observe(&mut self, e: &suyuan_core::Event, seq: u64) {
        if self.cans.len() < 100_000 && seq.is_multiple_of(7) {
            self.cans
                .extend(e.output_epc_list.first().map(|c| object_key(c)));
        }
        if e.biz_step.as_deref() == Some("receiving")
            && let Some(q) = e.quantity_list.first()
        {
            if q.epc_class.contains("6920001") {
                self.milk_lots.push(object_key(&q.epc_class));
            }
            if self.raw_lots.len() < 60 {
                self.raw_lots.push(object_key(&q.epc_class));
            }
        }
    }
}

/// The demo configuration that yields about `n` events.
fn config_for(n: usize) -> suyuan_demo::DemoConfig {
    let per_line = suyuan_demo::estimate(suyuan_demo::DemoConfig::default()) as usize;
    suyuan_demo::DemoConfig {
        seed: 42,
        scale: n.div_ceil(per_line.max(1)).max(1) as u32,
        days: 30,
    }
}

/// Builds the index from the first `n` demo events: one thread generates and parses, this one applies.
/// Returns the index, the samples, the seconds spent in the index's own work and the events applied.
fn build(n: usize) -> (TraceIndex, Samples, f64, usize) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<suyuan_core::Event>>(8);
    let producer = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(1000);
        let mut count = 0usize;
        suyuan_demo::generate_events(config_for(n), &mut |v| {
            if count >= n {
                return;
            }
            if let Ok(mut events) = suyuan_epcis::parse_capture(&v) {
                count += 1;
                batch.push(events.remove(0));
                if batch.len() == 1000 {
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(1000)));
                }
            }
        });
        let _ = tx.send(batch);
    });
    let mut index = TraceIndex::new();
    let mut samples = Samples::default();
    let mut seq = 0u64;
    let mut apply_secs = 0.0;
    for batch in rx {
        let t = Instant::now();
        for e in &batch {
            seq += 1;
            index.apply(e, e.event_id.as_deref().unwrap_or_default(), seq);
        }
        apply_secs += t.elapsed().as_secs_f64();
        for (i, e) in batch.iter().enumerate() {
            samples.observe(e, seq - (batch.len() - 1 - i) as u64);
        }
        if seq.is_multiple_of(1_000_000) {
            eprintln!("  {seq} events indexed");
        }
    }
    let _ = producer.join();
    let t = Instant::now();
    index.compact();
    apply_secs += t.elapsed().as_secs_f64();
    (index, samples, apply_secs, seq as usize)
}

/// Runs the trace benchmark.
pub async fn run(
    as_json: bool,
    n: usize,
    pg: Option<String>,
    queries: usize,
    store_events: usize,
) -> Result<()> {
    eprintln!("building the index from about {n} demo events…");
    let (index, samples, apply_secs, events) = build(n);
    let edges = index.edge_count();
    let bytes_per_edge = index.heap_bytes() as f64 / edges.max(1) as f64;
    eprintln!(
        "{events} events, {} nodes, {edges} edges, {bytes_per_edge:.1} bytes/edge, applied in {apply_secs:.2} s",
        index.node_count()
    );
    let mut report = serde_json::Map::new();
    report.insert("events".into(), json!(events));
    report.insert("nodes".into(), json!(index.node_count()));
    report.insert("edges".into(), json!(edges));
    report.insert("bytes_per_edge".into(), json!(round_to(bytes_per_edge, 1)));
    report.insert(
        "whereabouts_bytes_per_edge".into(),
        json!(round_to(
            index.whereabouts_heap_bytes() as f64 / edges.max(1) as f64,
            1
        )),
    );
    report.insert("index_apply_s".into(), json!(round_to(apply_secs, 2)));

    // Snapshot: written, then read back as a restart would (the rebuild).
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("trace-index.snapshot");
    let t = Instant::now();
    {
        let file = std::fs::File::create(&path)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        index.write_snapshot(&mut w, b"bench")?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    let write_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path)?.len();
    drop(index);
    let t = Instant::now();
    let (index, _) = TraceIndex::read_snapshot(|| {
        Ok(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&path)?,
        ))
    })?;
    let rebuild_s = t.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    eprintln!(
        "snapshot {:.0} MB written in {write_s:.2} s, read back in {rebuild_s:.2} s",
        size as f64 / 1e6
    );
    report.insert("snapshot_mb".into(), json!((size as f64 / 1e6).round()));
    report.insert("snapshot_write_s".into(), json!(round_to(write_s, 2)));
    report.insert("rebuild_s".into(), json!(round_to(rebuild_s, 2)));

    let mut lat = Vec::new();
    let mut ancestors = Vec::new();
    let step = (samples.cans.len() / queries.max(1)).max(1);
    let sample: Vec<&String> = samples.cans.iter().step_by(step).take(queries).collect();
    // One untimed pass first: the first touches of a freshly loaded index pay page faults and the
    // allocator's return of the freed build-time memory, which a running server has long paid.
    let cold: Vec<f64> = sample
        .iter()
        .map(|can| {
            let t = Instant::now();
            let _ = index.backward(can, &TraceOptions::default());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let mut cold_sorted = cold.clone();
    cold_sorted.sort_by(f64::total_cmp);
    report.insert(
        "backward_first_pass_p99_ms".into(),
        json!(round_to(percentile(&cold_sorted, 99.0), 4)),
    );
    for can in &sample {
        let t = Instant::now();
        let tr = index.backward(can, &TraceOptions::default());
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        ancestors.push(tr.map_or(0, |t| t.nodes.len()));
    }
    if let Some((i, ms)) = lat
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, ms)| (i, *ms))
        && let Some(t) = index.backward(sample[i], &TraceOptions::default())
    {
        let degrees: Vec<(String, usize)> = t
            .nodes
            .iter()
            .map(|n| {
                (
                    index.name(n.node),
                    index.degree(n.node, suyuan_trace::Direction::Backward),
                )
            })
            .collect();
        eprintln!(
            "slowest backward ({ms:.3} ms) from {}: {degrees:?}",
            sample[i]
        );
    }
    lat.sort_by(f64::total_cmp);
    eprintln!(
        "backward p90 {:.4} p95 {:.4} max {:.4}",
        percentile(&lat, 90.0),
        percentile(&lat, 95.0),
        lat.last().copied().unwrap_or(0.0)
    );
    // Forward traces: from the raw lot with the fewest descendants at or above 100,000 (or the most, if
    // none reaches that), and from the one with the most; medians of 5 runs.
    let mut counted: Vec<(usize, &String)> = samples
        .raw_lots
        .iter()
        .map(|l| {
            let n = index
                .forward(l, &TraceOptions::default())
                .map_or(0, |t| t.nodes.len());
            (n, l)
        })
        .collect();
    counted.sort();
    let largest = counted
        .last()
        .map(|(n, l)| (*n, (*l).clone()))
        .unwrap_or_default();
    let (fwd_nodes, fwd_lot) = counted
        .iter()
        .find(|(n, _)| *n >= 100_000)
        .map(|(n, l)| (*n, (*l).clone()))
        .unwrap_or_else(|| largest.clone());
    let time_forward = |lot: &str| {
        median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let _ = index.forward(lot, &TraceOptions::default());
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect(),
        )
    };
    let fwd_ms = time_forward(&fwd_lot);
    let largest_ms = time_forward(&largest.1);
    report.insert("forward_largest_ms".into(), json!(round_to(largest_ms, 2)));
    report.insert("forward_largest_descendants".into(), json!(largest.0));
    report.insert(
        "backward_p50_ms".into(),
        json!(round_to(percentile(&lat, 50.0), 4)),
    );
    report.insert(
        "backward_p99_ms".into(),
        json!(round_to(percentile(&lat, 99.0), 4)),
    );
    report.insert(
        "backward_ancestors_max".into(),
        json!(ancestors.iter().max()),
    );
    report.insert("forward_100k_ms".into(), json!(round_to(fwd_ms, 2)));
    report.insert("forward_descendants".into(), json!(fwd_nodes));

    if let Some(url) = pg {
        let (pg_back_p99, pg_fwd_ms, pg_fwd_nodes) =
            pg_compare(&url, &index, &sample, &fwd_lot).await?;
        report.insert("pg_backward_p99_ms".into(), json!(round_to(pg_back_p99, 3)));
        report.insert("pg_forward_ms".into(), json!(round_to(pg_fwd_ms, 1)));
        report.insert("pg_forward_descendants".into(), json!(pg_fwd_nodes));
        let back_ratio = pg_back_p99 / percentile(&lat, 99.0).max(1e-6);
        let fwd_ratio = pg_fwd_ms / fwd_ms.max(1e-6);
        report.insert("pg_backward_ratio".into(), json!(round_to(back_ratio, 1)));
        report.insert("pg_forward_ratio".into(), json!(round_to(fwd_ratio, 1)));
        report.insert(
            "pg_cte_ratio".into(),
            json!(round_to(back_ratio.min(fwd_ratio), 1)),
        );
    }
    drop(index);

    if store_events > 0 {
        let (http_p50, http_p99, recall_ms, recall_objects, load_s) =
            on_a_store(store_events, queries).await?;
        report.insert("store_events".into(), json!(store_events));
        report.insert("store_load_s".into(), json!(round_to(load_s, 1)));
        report.insert("http_backward_p50_ms".into(), json!(round_to(http_p50, 3)));
        report.insert("http_backward_p99_ms".into(), json!(round_to(http_p99, 3)));
        report.insert("recall_100k_ms".into(), json!(round_to(recall_ms, 1)));
        report.insert("recall_objects".into(), json!(recall_objects));
    }

    for (k, v) in &report {
        println!("{k:<28} {v}");
    }
    if as_json {
        println!("{}", Value::Object(report));
    }
    Ok(())
}

/// Loads about `n` demo events into a fresh SQLite store, serves it, and measures backward traces through
/// HTTP and the recall report for the largest raw-milk lot. Returns (p50, p99, recall ms, recall objects,
/// load seconds).
async fn on_a_store(n: usize, queries: usize) -> Result<(f64, f64, f64, usize, f64)> {
    let cfg = config_for(n);
    let mut samples = Samples::default();
    let mut seq = 0u64;
    suyuan_demo::generate_events(cfg, &mut |v| {
        if let Ok(mut events) = suyuan_epcis::parse_capture(&v) {
            seq += 1;
            samples.observe(&events.remove(0), seq);
        }
    });
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    eprintln!("loading about {n} demo events into SQLite…");
    let t = Instant::now();
    crate::demo::load(&store, cfg).await?;
    let load_s = t.elapsed().as_secs_f64();
    let engine = Engine::new(store);
    engine.trace_index().await?;
    let state = suyuan_server::AppState::new(engine);

    // The recall report for the lot with the most descendants (median of 3).
    let lot = {
        let tracer = state.engine.trace_index().await?;
        let index = tracer.read();
        samples
            .milk_lots
            .iter()
            .take(3)
            .max_by_key(|l| {
                index
                    .forward(l, &TraceOptions::default())
                    .map_or(0, |t| t.nodes.len())
            })
            .cloned()
            .context("no raw-milk lot in the demo")?
    };
    let mut runs = Vec::new();
    let mut objects = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let r = suyuan_server::api::recall::report(&state, &lot, &TraceOptions::default())
            .await
            .map_err(|e| anyhow::anyhow!("recall report: {e:?}"))?;
        // The report as a client gets it: serialised to JSON.
        let body = serde_json::to_vec(&r)?;
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
        objects = r.counts.objects;
        anyhow::ensure!(body.len() > objects * 50, "recall report too small");
    }
    let recall_ms = median(runs);

    // Backward traces through HTTP, one at a time.
    let server = crate::bench::BenchServer::start(state).await?;
    let addr = server.addr;
    let client = server.client(4)?;
    let step = (samples.cans.len() / queries.max(1)).max(1);
    let url = format!("http://{addr}/api/v1/trace/backward");
    let mut lat = Vec::new();
    for can in samples.cans.iter().step_by(step).take(queries) {
        let t = Instant::now();
        let resp = client.get(&url).query(&[("id", can)]).send().await?;
        let ok = resp.status().is_success();
        let _ = resp.bytes().await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(ok, "backward trace of {can} failed");
    }
    server.stop().await;
    lat.sort_by(f64::total_cmp);
    Ok((
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        recall_ms,
        objects,
        load_s,
    ))
}

/// Loads the index's live edges into PostgreSQL and runs plain reachability as recursive CTEs (no time
/// windows: a lower bound on what the same question costs there).
async fn pg_compare(
    url: &str,
    index: &TraceIndex,
    sample: &[&String],
    lot: &str,
) -> Result<(f64, f64, usize)> {
    use tokio_postgres::NoTls;
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .context("connect to PostgreSQL")?;
    let task = tokio::spawn(conn);
    let schema = format!("bench_trace_{}", std::process::id());
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema};
        CREATE UNLOGGED TABLE edges (src INT NOT NULL, dst INT NOT NULL);")).await?;
    let live = (0..index.edge_count() as u32)
        .filter_map(|i| index.edge(i))
        .filter(|e| !e.retracted)
        .count();
    eprintln!("loading {live} edges into PostgreSQL…");
    let t = Instant::now();
    let mut ids = (0..index.edge_count() as u32)
        .filter_map(|i| index.edge(i))
        .filter(|e| !e.retracted)
        .map(|e| (e.from as i32, e.to as i32));
    loop {
        let (s, d): (Vec<i32>, Vec<i32>) = ids.by_ref().take(200_000).unzip();
        if s.is_empty() {
            break;
        }
        client
            .execute(
                "INSERT INTO edges SELECT * FROM UNNEST($1::int[], $2::int[])",
                &[&s, &d],
            )
            .await?;
    }
    client
        .batch_execute("CREATE INDEX ON edges(src); CREATE INDEX ON edges(dst); ANALYZE edges;")
        .await?;
    eprintln!(
        "PostgreSQL loaded and indexed in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let back = client
        .prepare("WITH RECURSIVE up(n) AS (SELECT $1::int UNION SELECT e.src FROM edges e JOIN up ON e.dst = up.n) SELECT count(*) FROM up")
        .await?;
    let fwd = client
        .prepare("WITH RECURSIVE down(n) AS (SELECT $1::int UNION SELECT e.dst FROM edges e JOIN down ON e.src = down.n) SELECT count(*) FROM down")
        .await?;
    // One untimed pass, as for the index.
    for can in sample {
        if let Some(id) = index.node(can) {
            client.query_one(&back, &[&(id as i32)]).await?;
        }
    }
    let mut lat = Vec::new();
    for can in sample {
        let Some(id) = index.node(can) else { continue };
        let t = Instant::now();
        client.query_one(&back, &[&(id as i32)]).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    let mut runs = Vec::new();
    let mut fwd_nodes = 0usize;
    if let Some(id) = index.node(lot) {
        for _ in 0..3 {
            let t = Instant::now();
            let row = client.query_one(&fwd, &[&(id as i32)]).await?;
            runs.push(t.elapsed().as_secs_f64() * 1000.0);
            fwd_nodes = row.get::<_, i64>(0) as usize;
        }
    }
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await?;
    drop(client);
    let _ = task.await;
    Ok((percentile(&lat, 99.0), median(runs), fwd_nodes))
}
