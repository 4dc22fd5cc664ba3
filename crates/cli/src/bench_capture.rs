//! `suyuan bench capture`: durable capture, batched on SQLite (and PostgreSQL with `--pg`) through the engine,
//! and single events through HTTP at a fixed rate.

use crate::bench::{BenchServer, demo_events, median, percentile, round_to};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use suyuan_core::Event;
use suyuan_engine::{Engine, Pipeline};
use suyuan_store::{PgStore, SqliteStore, Store};

async fn batched_run(store: Arc<dyn Store>, events: &[Event], batch: usize) -> Result<f64> {
    let chunks: Vec<Vec<Event>> = events.chunks(batch).map(<[Event]>::to_vec).collect();
    let mut pipeline = Pipeline::new(Engine::new(store));
    let started = Instant::now();
    for c in chunks {
        pipeline.push(c).await.context("bench capture failed")?;
    }
    pipeline.finish().await.context("bench capture failed")?;
    Ok(events.len() as f64 / started.elapsed().as_secs_f64())
}

/// Station-style events: one object each (a scan at an inspection, storage or shipping station), with an
/// operator extension and, every third event, a temperature reading.
fn station_events(n: usize) -> Vec<Value> {
    let steps = ["inspecting", "storing", "picking", "shipping", "receiving"];
    (0..n)
        .map(|i| {
            let mut v = json!({
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": suyuan_demo::SY_NS}],
                "type": "ObjectEvent",
                "eventID": format!("urn:uuid:00000000-0000-4000-9000-{i:012}"),
                "eventTime": suyuan_demo::local_time((i / 40_000) as u32, ((i / 30) % 1440) as u32),
                "eventTimeZoneOffset": "+08:00",
                "epcList": [format!("urn:epc:id:sgtin:6901234.012345.S{i:09}")],
                "action": "OBSERVE",
                "bizStep": steps[i % steps.len()],
                "disposition": "in_progress",
                "readPoint": {"id": suyuan_demo::our_location(5 + (i % 4) as u32)},
                "bizLocation": {"id": suyuan_demo::our_location(8)},
                "sy:operator": "张伟",
                "sy:station": format!("ST-{:02}", i % 12),
            });
            if i % 3 == 0 {
                v["sensorElementList"] = json!([{"sensorReport": [{"type": "Temperature", "value": 21.5, "uom": "CEL"}]}]);
            }
            v
        })
        .collect()
}

fn parse_all(values: &[Value]) -> Result<Vec<Event>> {
    Ok(values
        .iter()
        .map(|v| suyuan_epcis::parse_capture(v).map(|mut e| e.remove(0)))
        .collect::<Result<_, _>>()?)
}

/// Validation output to store input on one core: hash, serialise, projection changes; no I/O.
fn measure_prepare(events: &[Event], runs: usize) -> (f64, Vec<f64>) {
    let mut all = Vec::new();
    for _ in 0..runs {
        let input = events.to_vec();
        let started = Instant::now();
        let prepared: Vec<_> = input
            .into_iter()
            .map(suyuan_store::NewEvent::from_event)
            .collect();
        let eps = prepared.len() as f64 / started.elapsed().as_secs_f64();
        all.push(eps);
    }
    (median(all.clone()), all)
}

/// The store alone: batches prepared beforehand, only appends timed.
async fn measure_append_only(
    events: &[Event],
    batch: usize,
    runs: usize,
) -> Result<(f64, Vec<f64>)> {
    let mut all = Vec::new();
    for r in 0..runs {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open(dir.path())?;
        let prepared: Vec<_> = events
            .chunks(batch)
            .map(|c| suyuan_engine::prepare(c.to_vec()))
            .collect();
        let started = Instant::now();
        for b in prepared {
            suyuan_store::EventLog::append(&store, b).await?;
        }
        let eps = events.len() as f64 / started.elapsed().as_secs_f64();
        eprintln!("sqlite append-only run {}: {eps:.0} events/s", r + 1);
        all.push(eps);
    }
    Ok((median(all.clone()), all))
}

/// Median events/s of `runs` batched runs, each on a fresh store.
async fn measure_batched(
    label: &str,
    pg: Option<&str>,
    events: &[Event],
    batch: usize,
    runs: usize,
) -> Result<(f64, Vec<f64>)> {
    let mut all = Vec::new();
    for r in 0..runs {
        let eps = match pg {
            None => {
                let dir = tempfile::tempdir()?;
                batched_run(Arc::new(SqliteStore::open(dir.path())?), events, batch).await?
            }
            Some(url) => {
                let schema = format!("bench_{}_{r}", std::process::id());
                let store = Arc::new(PgStore::connect(url, Some(&schema)).await?);
                let eps = batched_run(store, events, batch).await;
                PgStore::drop_schema(url, &schema).await?;
                eps?
            }
        };
        eprintln!("{label} run {}: {eps:.0} events/s", r + 1);
        all.push(eps);
    }
    Ok((median(all.clone()), all))
}

pub(crate) async fn capture(
    as_json: bool,
    pg: Option<String>,
    n: usize,
    batch: usize,
    runs: usize,
    rate: u32,
    seconds: u32,
) -> Result<()> {
    eprintln!("generating {n} station events and {n} demo events…");
    let station_values = station_events(n.max((rate * seconds) as usize));
    let station = parse_all(&station_values[..n])?;
    let demo = parse_all(&demo_events(n))?;
    let mut report = serde_json::Map::new();
    let mut table: Vec<(String, String, &str)> = vec![];
    let mut record =
        |key: &str, label: &str, target: &'static str, (eps, runs): (f64, Vec<f64>)| {
            report.insert(key.into(), json!(eps.round()));
            report.insert(
                format!("{key}_runs"),
                json!(runs.iter().map(|x| x.round()).collect::<Vec<_>>()),
            );
            table.push((label.to_string(), format!("{eps:.0}"), target));
        };
    record(
        "sqlite_batched_eps",
        "SQLite batched, station events (ev/s)",
        "≥ 50,000",
        measure_batched("sqlite station", None, &station, batch, runs).await?,
    );
    record(
        "prepare_eps",
        "Prepare alone, one core, station events (ev/s)",
        "",
        measure_prepare(&station, runs),
    );
    record(
        "sqlite_append_only_eps",
        "SQLite store alone, station events (ev/s)",
        "",
        measure_append_only(&station, batch, runs).await?,
    );
    record(
        "sqlite_batched_demo_eps",
        "SQLite batched, demo mix (ev/s)",
        "",
        measure_batched("sqlite demo", None, &demo, batch, runs).await?,
    );
    if let Some(url) = pg.as_deref() {
        record(
            "pg_batched_eps",
            "PostgreSQL batched, station events (ev/s)",
            "≥ 20,000",
            measure_batched("postgres station", Some(url), &station, batch, runs).await?,
        );
        record(
            "pg_batched_demo_eps",
            "PostgreSQL batched, demo mix (ev/s)",
            "",
            measure_batched("postgres demo", Some(url), &demo, batch, runs).await?,
        );
    }
    let (p50, p99, max, errors, achieved) = single_http(&station_values, rate, seconds).await?;
    report.insert("sqlite_single_rate".into(), json!(rate));
    report.insert("sqlite_single_achieved_rps".into(), json!(achieved.round()));
    report.insert("sqlite_single_p50_ms".into(), json!(round_to(p50, 2)));
    report.insert("sqlite_single_p99_ms".into(), json!(round_to(p99, 2)));
    report.insert("sqlite_single_max_ms".into(), json!(round_to(max, 2)));
    report.insert("sqlite_single_errors".into(), json!(errors));
    table.push((
        "SQLite single event over HTTP, p50 (ms)".into(),
        format!("{p50:.2}"),
        "",
    ));
    table.push((
        "SQLite single event over HTTP, p99 (ms)".into(),
        format!("{p99:.2}"),
        "≤ 20",
    ));
    report.insert("events".into(), json!(n));
    report.insert("batch".into(), json!(batch));
    report.insert("runs".into(), json!(runs));

    println!("{:<46} {:>10}  target", "measurement", "value");
    for (name, value, target) in &table {
        println!("{name:<46} {value:>10}  {target}");
    }
    println!(
        "single-event load: station events, {rate} requests/s for {seconds} s, achieved {achieved:.0}/s, {errors} errors, max {max:.2} ms"
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
    let server = BenchServer::start(suyuan_server::AppState::new(Engine::new(store))).await?;
    let addr = server.addr;
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
    let client = server.client(256)?;
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
    server.stop().await;
    lat.sort_by(f64::total_cmp);
    Ok((
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(0.0),
        errors,
        achieved,
    ))
}
