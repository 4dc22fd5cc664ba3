//! `suyuan bench`: performance measured on the demo factory's events, reported as medians of runs.

pub(crate) use crate::bench_server::BenchServer;
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use suyuan_core::Event;
use suyuan_engine::{Engine, Pipeline};
use suyuan_store::{PgStore, SqliteStore, Store};

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Crash trials: a server killed with SIGKILL under steady capture, restarted and checked (`trials`,
    /// `acked_lost`, `verify_failures`, `index_mismatches`, `restart_p50_ms`).
    Crash {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Trials per store.
        #[arg(long, default_value_t = 100)]
        trials: u32,
        /// Events per second offered to SQLite (PostgreSQL takes as many as it can).
        #[arg(long, default_value_t = 10_000)]
        rate: u32,
        /// Events per capture request.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Trials on one data directory before a fresh one.
        #[arg(long, default_value_t = 10)]
        series: u32,
        /// Longest run before the kill (ms).
        #[arg(long, default_value_t = 2_000)]
        max_run_ms: u64,
        /// PostgreSQL URL to run the trials on too.
        #[arg(long, env = "SUYUAN_BENCH_PG")]
        pg: Option<String>,
        /// Random seed of the kill moments.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Skip the disk-full trial (a 48 MB tmpfs the data directory is put on).
        #[arg(long)]
        no_disk_full: bool,
    },
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
    /// The EPCIS REST bindings through HTTP: MATCH_epc and business step + one day first pages, 10k capture.
    Epcis {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Demo events in the store (rounded up to whole production lines).
        #[arg(long, default_value_t = 200_000)]
        events: usize,
        /// Queries of each kind.
        #[arg(long, default_value_t = 300)]
        queries: usize,
        /// Measure an existing SQLite data directory instead of loading the demo into a fresh one.
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// Quality: a lot with `--units` descendants put on hold, durable (`hold_100k_ms`), and GB/T 2828.1
    /// sampling lookups (`sampling_p99_us`).
    Quality {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Units made from the held lot (packed in cases of 100).
        #[arg(long, default_value_t = 100_000)]
        units: usize,
        /// Holds timed.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Sampling lookups timed.
        #[arg(long, default_value_t = 100_000)]
        lookups: usize,
    },
    /// Rules: events a second the rules reactor evaluates with `--rules` active rules over the demo stream
    /// (`rules_eps`).
    Rules {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Production lines of the demo stream.
        #[arg(long, default_value_t = 1)]
        lines: u32,
        /// Production days of the demo stream.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Active rules (the built-in one among them).
        #[arg(long, default_value_t = 200)]
        rules: usize,
        /// Passes timed.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Identification and labels: codes issued per second (SQLite), label PDFs per second, element strings
    /// parsed per second on one core.
    Labels {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Codes issued per run.
        #[arg(long, default_value_t = 100_000)]
        codes: u64,
        /// Labels rendered per run.
        #[arg(long, default_value_t = 2_000)]
        labels: usize,
        /// Element strings parsed per run.
        #[arg(long, default_value_t = 1_000_000)]
        parses: usize,
        /// Runs (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Tamper evidence: `suyuan verify` events per second and inclusion-proof latency.
    Ledger {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Demo events in the store (rounded up to whole production lines of the demo factory).
        #[arg(long, default_value_t = 200_000)]
        events: usize,
        /// Inclusion proofs to time.
        #[arg(long, default_value_t = 1000)]
        proofs: usize,
        /// Verify runs (the median is reported); 0 measures proofs only.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Measure an existing SQLite data directory (a store this size takes long to load) instead of
        /// loading the demo into a fresh one; its tree is brought up to date and a bench checkpoint signed.
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// The genealogy index: build, memory per edge, backward/forward latency; with --pg, PostgreSQL CTEs.
    Trace {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Events of demo history to index.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// PostgreSQL URL for the recursive-CTE comparison.
        #[arg(long, env = "SUYUAN_BENCH_PG_URL")]
        pg: Option<String>,
        /// Backward queries to time.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Demo events loaded into a SQLite store for the HTTP and recall figures (0 skips them).
        #[arg(long, default_value_t = 1_000_000)]
        store_events: usize,
    },
    /// The shop floor: station scans with many stations at once, process parameters over MQTT, and the
    /// inventory and figure queries on a large demo store.
    Ops {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Stations scanning at once.
        #[arg(long, default_value_t = 50)]
        stations: usize,
        /// Scans per station.
        #[arg(long, default_value_t = 40)]
        scans: usize,
        /// The MQTT broker for the parameter figure, as it is configured; without it the bench starts a
        /// Mosquitto of its own with no cap on messages in flight or queued.
        #[arg(long, env = "SUYUAN_BENCH_MQTT_URL")]
        mqtt: Option<String>,
        /// Leave out the MQTT figure.
        #[arg(long)]
        no_mqtt: bool,
        /// Milliseconds between one station's scans in the paced run.
        #[arg(long, default_value_t = 250)]
        pace_ms: u64,
        /// Parameter messages to publish.
        #[arg(long, default_value_t = 50_000)]
        messages: usize,
        /// Demo events in the store for the inventory and figure queries (0 skips them).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Queries of each kind to time.
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        /// Query an existing SQLite data directory instead of loading the demo into a fresh one.
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// The web console and the consumer page through HTTP: consumer page latency under open-loop load, a
    /// whole dashboard, the trace explorer's first graph views, and the consumer page's weight.
    Web {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Demo events in the store (rounded up to whole production lines).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Consumer page requests per second (open loop).
        #[arg(long, default_value_t = 200)]
        rate: u32,
        /// Seconds of consumer page load.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// Dashboards and graph views to time.
        #[arg(long, default_value_t = 30)]
        rounds: usize,
        /// Measure an existing SQLite data directory instead of loading the demo into a fresh one.
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
}

/// Runs a benchmark command.
pub async fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Crash {
            json,
            trials,
            rate,
            batch,
            series,
            max_run_ms,
            pg,
            seed,
            no_disk_full,
        } => {
            crate::bench_crash::run(crate::bench_crash::Options {
                disk_full: !no_disk_full,
                json,
                trials: trials.max(1),
                rate,
                batch: batch.clamp(10, 1000),
                series,
                max_run_ms: max_run_ms.max(10),
                pg,
                seed,
            })
            .await
        }
        BenchCommand::Ledger {
            json,
            events,
            proofs,
            runs,
            data,
        } => crate::bench_ledger::run(json, events.max(1), proofs.max(1), runs, data).await,
        BenchCommand::Epcis {
            json,
            events,
            queries,
            data,
        } => crate::bench_epcis::run(json, events.max(1), queries.max(1), data).await,
        BenchCommand::Quality {
            json,
            units,
            runs,
            lookups,
        } => crate::bench_quality::run(json, units, runs, lookups).await,
        BenchCommand::Rules {
            json,
            lines,
            days,
            rules,
            runs,
        } => crate::bench_rules::run(json, lines.max(1), days.max(1), rules.max(1), runs).await,
        BenchCommand::Ops {
            json,
            stations,
            scans,
            mqtt,
            no_mqtt,
            pace_ms,
            messages,
            events,
            rounds,
            data,
        } => {
            crate::bench_ops::run(crate::bench_ops::Options {
                json,
                stations: stations.max(1),
                scans: scans.max(2),
                pace_ms,
                mqtt: match (no_mqtt, mqtt) {
                    (true, _) => crate::bench_ops::Broker::Skip,
                    (false, Some(u)) => crate::bench_ops::Broker::Url(u),
                    (false, None) => crate::bench_ops::Broker::Own,
                },
                messages: messages.max(1),
                events,
                rounds: rounds.max(1),
                data,
            })
            .await
        }
        BenchCommand::Web {
            json,
            events,
            rate,
            seconds,
            rounds,
            data,
        } => {
            crate::bench_web::run(crate::bench_web::Options {
                json,
                events: events.max(1),
                rate: rate.max(1),
                seconds: seconds.max(1),
                rounds: rounds.max(1),
                data,
            })
            .await
        }
        BenchCommand::Labels {
            json,
            codes,
            labels,
            parses,
            runs,
        } => {
            crate::bench_labels::run(
                json,
                codes.max(1),
                labels.max(1),
                parses.max(1),
                runs.max(1),
            )
            .await
        }
        BenchCommand::Trace {
            json,
            events,
            pg,
            queries,
            store_events,
        } => crate::bench_trace::run(json, events, pg, queries, store_events).await,
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
pub(crate) fn demo_events(n: usize) -> Vec<Value> {
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

/// `x` rounded to `decimals` places, for reports.
/// The store a benchmark measures: an existing SQLite data directory, or the demo factory with as many
/// production lines as `events` needs, streamed through the write path into a fresh temporary one (kept alive
/// by the returned directory).
pub(crate) async fn demo_store(
    events: usize,
    data: Option<&std::path::Path>,
) -> Result<(tempfile::TempDir, Arc<dyn Store>)> {
    let dir = tempfile::tempdir()?;
    if let Some(d) = data {
        return Ok((dir, Arc::new(SqliteStore::open(d)?)));
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path())?);
    let per_line = suyuan_demo::estimate(suyuan_demo::DemoConfig::default()).max(1);
    let cfg = suyuan_demo::DemoConfig {
        scale: u32::try_from((events as u64).div_ceil(per_line))
            .unwrap_or(u32::MAX)
            .max(1),
        ..suyuan_demo::DemoConfig::default()
    };
    crate::demo::load(&store, cfg).await?;
    Ok((dir, store))
}

pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// The median of `v` (0 when empty).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// The `p`th percentile of sorted values (nearest rank).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

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

async fn capture(
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
