//! `suyuan bench trace`: the genealogy index on a generated history — build time, memory per edge, backward
//! and forward latencies — and, with `--pg`, the same reachability as PostgreSQL recursive CTEs.

use crate::bench::{percentile, round_to};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::time::Instant;
use suyuan_trace::{TraceIndex, TraceOptions};

/// Builds the index from about `n` demo events; returns it with the cans seen and the build seconds.
fn build(n: usize) -> (TraceIndex, Vec<String>, Vec<String>, f64, usize) {
    let per_line = suyuan_demo::estimate(suyuan_demo::DemoConfig::default()) as usize;
    let scale = n.div_ceil(per_line.max(1)).max(1) as u32;
    let mut index = TraceIndex::new();
    let mut cans = Vec::new();
    let mut milk_lots = Vec::new();
    let mut seq = 0u64;
    let mut apply_secs = 0.0;
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 42,
            scale,
            days: 30,
        },
        &mut |v| {
            if seq as usize >= n {
                return;
            }
            let Ok(mut events) = suyuan_core::parse_capture(&v) else {
                return;
            };
            let e = events.remove(0);
            seq += 1;
            if cans.len() < 100_000 && seq.is_multiple_of(7) {
                cans.extend(
                    e.output_epc_list
                        .first()
                        .map(|c| suyuan_core::projection::object_key(c)),
                );
            }
            if e.biz_step.as_deref() == Some("receiving")
                && let Some(q) = e.quantity_list.first()
                && q.epc_class.contains("6920001")
            {
                milk_lots.push(suyuan_core::projection::object_key(&q.epc_class));
            }
            let id = e.event_id.clone().unwrap_or_default();
            // Only the index's own work is timed (not generating or parsing the events).
            let t = Instant::now();
            index.apply(&e, &id, seq);
            apply_secs += t.elapsed().as_secs_f64();
        },
    );
    let t = Instant::now();
    index.compact();
    apply_secs += t.elapsed().as_secs_f64();
    (index, cans, milk_lots, apply_secs, seq as usize)
}

/// Runs the trace benchmark.
pub async fn run(as_json: bool, n: usize, pg: Option<String>, queries: usize) -> Result<()> {
    eprintln!("building the index from about {n} demo events…");
    let (index, cans, milk_lots, apply_secs, events) = build(n);
    let edges = index.edge_count();
    let bytes_per_edge = index.heap_bytes() as f64 / edges.max(1) as f64;
    eprintln!(
        "{events} events, {} nodes, {edges} edges, {bytes_per_edge:.0} bytes/edge, applied in {apply_secs:.2} s",
        index.node_count()
    );

    let mut lat = Vec::new();
    let mut ancestors = Vec::new();
    let step = (cans.len() / queries.max(1)).max(1);
    let sample: Vec<&String> = cans.iter().step_by(step).take(queries).collect();
    for can in &sample {
        let t = Instant::now();
        let tr = index.backward(can, &TraceOptions::default());
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        ancestors.push(tr.map_or(0, |t| t.nodes.len()));
    }
    lat.sort_by(f64::total_cmp);
    // Forward from the most used raw-milk lot.
    let (mut fwd_ms, mut fwd_nodes, mut fwd_lot) = (0.0, 0usize, String::new());
    for lot in milk_lots.iter().take(3) {
        let t = Instant::now();
        let tr = index.forward(lot, &TraceOptions::default());
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let count = tr.map_or(0, |t| t.nodes.len());
        if count > fwd_nodes {
            (fwd_ms, fwd_nodes, fwd_lot) = (ms, count, lot.clone());
        }
    }
    let mut report = serde_json::Map::new();
    report.insert("events".into(), json!(events));
    report.insert("nodes".into(), json!(index.node_count()));
    report.insert("edges".into(), json!(edges));
    report.insert("bytes_per_edge".into(), json!(bytes_per_edge.round()));
    report.insert(
        "index_apply_s".into(),
        json!((apply_secs * 100.0).round() / 100.0),
    );
    report.insert(
        "backward_p50_ms".into(),
        json!(round_to(percentile(&lat, 50.0), 3)),
    );
    report.insert(
        "backward_p99_ms".into(),
        json!(round_to(percentile(&lat, 99.0), 3)),
    );
    report.insert(
        "backward_ancestors_max".into(),
        json!(ancestors.iter().max()),
    );
    report.insert("forward_ms".into(), json!(round_to(fwd_ms, 3)));
    report.insert("forward_descendants".into(), json!(fwd_nodes));

    if let Some(url) = pg {
        let (pg_back_p99, pg_fwd_ms, pg_fwd_nodes) =
            pg_compare(&url, &index, &sample, &fwd_lot).await?;
        report.insert("pg_backward_p99_ms".into(), json!(round_to(pg_back_p99, 3)));
        report.insert("pg_forward_ms".into(), json!(round_to(pg_fwd_ms, 3)));
        report.insert("pg_forward_descendants".into(), json!(pg_fwd_nodes));
        let ratio =
            (pg_back_p99 / percentile(&lat, 99.0).max(1e-6)).min(pg_fwd_ms / fwd_ms.max(1e-6));
        report.insert("pg_cte_ratio".into(), json!((ratio * 10.0).round() / 10.0));
    }
    for (k, v) in &report {
        println!("{k:<28} {v}");
    }
    if as_json {
        println!("{}", Value::Object(report));
    }
    Ok(())
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
        CREATE TABLE edges (src INT NOT NULL, dst INT NOT NULL);")).await?;
    let live: Vec<(i32, i32)> = (0..index.edge_count() as u32)
        .filter_map(|i| index.edge(i))
        .filter(|e| !e.retracted)
        .map(|e| (e.from as i32, e.to as i32))
        .collect();
    eprintln!("loading {} edges into PostgreSQL…", live.len());
    for chunk in live.chunks(100_000) {
        let (s, d): (Vec<i32>, Vec<i32>) = chunk.iter().copied().unzip();
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
    let back = client
        .prepare("WITH RECURSIVE up(n) AS (SELECT $1::int UNION SELECT e.src FROM edges e JOIN up ON e.dst = up.n) SELECT count(*) FROM up")
        .await?;
    let fwd = client
        .prepare("WITH RECURSIVE down(n) AS (SELECT $1::int UNION SELECT e.dst FROM edges e JOIN down ON e.src = down.n) SELECT count(*) FROM down")
        .await?;
    let mut lat = Vec::new();
    for can in sample {
        let Some(id) = index.node(can) else { continue };
        let t = Instant::now();
        client.query_one(&back, &[&(id as i32)]).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    let (mut fwd_ms, mut fwd_nodes) = (0.0, 0usize);
    if let Some(id) = index.node(lot) {
        let t = Instant::now();
        let row = client.query_one(&fwd, &[&(id as i32)]).await?;
        fwd_ms = t.elapsed().as_secs_f64() * 1000.0;
        fwd_nodes = row.get::<_, i64>(0) as usize;
    }
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await?;
    drop(client);
    let _ = task.await;
    Ok((percentile(&lat, 99.0), fwd_ms, fwd_nodes))
}
