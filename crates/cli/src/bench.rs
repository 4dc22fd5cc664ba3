//! `suyuan bench`: performance measured on the demo factory's events, reported as medians of runs.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use suyuan_core::Event;
use suyuan_engine::Engine;
use suyuan_store::{PgStore, SqliteStore, Store};

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Durable capture: batched throughput on SQLite (and PostgreSQL with --pg), single-event HTTP latency.
    Capture {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// PostgreSQL URL to measure too (each run in a schema of its own, dropped afterwards).
        #[arg(long, env = "SUYUAN_BENCH_PG_URL")]
        pg: Option<String>,
        /// Events per batched run.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Events per batch.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Runs per measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Single-event requests per second.
        #[arg(long, default_value_t = 500)]
        rate: u32,
        /// Seconds of single-event load.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
}

/// Runs a benchmark command.
pub async fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Capture {
            json,
            pg,
            events,
            batch,
            runs,
            rate,
            seconds,
        } => {
            capture(
                json,
                pg,
                events,
                batch.max(1),
                runs.max(1),
                rate.max(1),
                seconds.max(1),
            )
            .await
        }
    }
}

/// The first `n` demo events, as JSON-LD.
fn demo_events(n: usize) -> Vec<Value> {
    let per_line = suyuan_demo::estimate(suyuan_demo::DemoConfig::default()) as usize;
    let scale = n.div_ceil(per_line.max(1)).max(1) as u32 + 1;
    let mut out = Vec::with_capacity(n);
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed: 42,
            scale,
            days: 30,
        },
        &mut |v| {
            if out.len() < n {
                out.push(v);
            }
        },
    );
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn batched_run(store: Arc<dyn Store>, events: &[Event], batch: usize) -> Result<f64> {
    let engine = Engine::new(store);
    let chunks: Vec<Vec<Event>> = events.chunks(batch).map(<[Event]>::to_vec).collect();
    let started = Instant::now();
    for c in chunks {
        engine
            .capture_events(c)
            .await
            .context("bench capture failed")?;
    }
    Ok(events.len() as f64 / started.elapsed().as_secs_f64())
}

#[allow(clippy::too_many_arguments)]
async fn capture(
    as_json: bool,
    pg: Option<String>,
    n: usize,
    batch: usize,
    runs: usize,
    rate: u32,
    seconds: u32,
) -> Result<()> {
    eprintln!("generating {n} demo events…");
    let values = demo_events(n);
    let events: Vec<Event> = values
        .iter()
        .map(|v| suyuan_core::parse_capture(v).map(|mut e| e.remove(0)))
        .collect::<Result<_, _>>()?;
    let mut report = serde_json::Map::new();
    let mut table = vec![];

    let mut sqlite_runs = Vec::new();
    for r in 0..runs {
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
        let eps = batched_run(store, &events, batch).await?;
        eprintln!("sqlite batched run {}: {eps:.0} events/s", r + 1);
        sqlite_runs.push(eps);
    }
    let sqlite_eps = median(sqlite_runs.clone());
    report.insert("sqlite_batched_eps".into(), json!(sqlite_eps.round()));
    report.insert(
        "sqlite_batched_runs".into(),
        json!(sqlite_runs.iter().map(|x| x.round()).collect::<Vec<_>>()),
    );
    table.push((
        "SQLite batched (events/s, median)",
        format!("{sqlite_eps:.0}"),
        "≥ 50,000",
    ));

    if let Some(url) = &pg {
        let mut pg_runs = Vec::new();
        for r in 0..runs {
            let schema = format!("bench_{}_{}", std::process::id(), r);
            let store: Arc<dyn Store> = Arc::new(PgStore::connect(url, Some(&schema)).await?);
            let eps = batched_run(store, &events, batch).await;
            PgStore::drop_schema(url, &schema).await?;
            let eps = eps?;
            eprintln!("postgres batched run {}: {eps:.0} events/s", r + 1);
            pg_runs.push(eps);
        }
        let pg_eps = median(pg_runs.clone());
        report.insert("pg_batched_eps".into(), json!(pg_eps.round()));
        report.insert(
            "pg_batched_runs".into(),
            json!(pg_runs.iter().map(|x| x.round()).collect::<Vec<_>>()),
        );
        table.push((
            "PostgreSQL batched (events/s, median)",
            format!("{pg_eps:.0}"),
            "≥ 20,000",
        ));
    }

    let (p50, p99, max, errors, achieved) = single_http(&values, rate, seconds).await?;
    report.insert("sqlite_single_rate".into(), json!(rate));
    report.insert("sqlite_single_achieved_rps".into(), json!(achieved.round()));
    report.insert(
        "sqlite_single_p50_ms".into(),
        json!((p50 * 100.0).round() / 100.0),
    );
    report.insert(
        "sqlite_single_p99_ms".into(),
        json!((p99 * 100.0).round() / 100.0),
    );
    report.insert(
        "sqlite_single_max_ms".into(),
        json!((max * 100.0).round() / 100.0),
    );
    report.insert("sqlite_single_errors".into(), json!(errors));
    table.push((
        "SQLite single event over HTTP, p50 (ms)",
        format!("{p50:.2}"),
        "",
    ));
    table.push((
        "SQLite single event over HTTP, p99 (ms)",
        format!("{p99:.2}"),
        "≤ 20",
    ));
    report.insert("events".into(), json!(n));
    report.insert("batch".into(), json!(batch));
    report.insert("runs".into(), json!(runs));

    println!("{:<44} {:>12}  target", "measurement", "value");
    for (name, value, target) in &table {
        println!("{name:<44} {value:>12}  {target}");
    }
    println!(
        "single-event load: {rate} requests/s for {seconds} s, achieved {achieved:.0}/s, {errors} errors, max {max:.2} ms"
    );
    if as_json {
        println!("{}", Value::Object(report));
    }
    Ok(())
}

/// Open-loop load: one event per request at a fixed rate; latency counts from the scheduled send time.
async fn single_http(
    values: &[Value],
    rate: u32,
    seconds: u32,
) -> Result<(f64, f64, f64, usize, f64)> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(suyuan_server::serve(
        listener,
        suyuan_server::AppState::new(Engine::new(store)),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let total = (rate * seconds) as usize;
    let bodies: Vec<String> = values
        .iter()
        .cycle()
        .take(total)
        .enumerate()
        .map(|(i, v)| {
            // Distinct events even when the demo stream is shorter than the load.
            let mut v = v.clone();
            v["eventID"] = json!(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
            v.to_string()
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let url = format!("http://{addr}/api/v1/events");
    let start = Instant::now() + Duration::from_millis(200);
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let mut tasks = Vec::with_capacity(total);
    for (i, body) in bodies.into_iter().enumerate() {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let ok = client
                .post(&url)
                .header("content-type", "application/ld+json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        }));
    }
    let mut lat = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (ms, ok) = t.await?;
        if ok { lat.push(ms) } else { errors += 1 }
    }
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    let _ = server.await;
    lat.sort_by(f64::total_cmp);
    Ok((
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(0.0),
        errors,
        achieved,
    ))
}
