//! `suyuan bench`: performance measured on the demo factory's events, reported as medians of runs.

pub(crate) use crate::bench_server::BenchServer;
use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;
use std::sync::Arc;
use suyuan_store::{SqliteStore, Store};

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Mixed load and soak from this process on a `suyuan serve` child: captures, traces, EPCIS queries,
    /// consumer scans and dashboards at stated rates; per kind throughput, p50/p99 and errors, and the
    /// server's memory after warm-up and at the end.
    Load {
        /// Print a JSON object as the last line.
        #[arg(long)]
        json: bool,
        /// Seconds of load (3600 for the soak run).
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Demo events in the store.
        #[arg(long, default_value_t = 15_000)]
        events: usize,
        /// Requests per second of capture_single, capture_batch (100 events), trace_backward, trace_forward,
        /// epcis_query (up to three pages), consumer_scan and dashboard, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "50,5,20,20,10,20,2")]
        rates: Vec<f64>,
        /// Seconds before memory is first measured [default: a tenth of the run, at least 5]; mimalloc takes
        /// about twenty minutes of the default load to reach its level (docs/reliability.md).
        #[arg(long)]
        warm_up: Option<u64>,
    },
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
        BenchCommand::Load {
            json,
            seconds,
            events,
            rates,
            warm_up,
        } => {
            let mut r = crate::bench_load::DEFAULT_RATES;
            for (i, v) in rates.iter().take(r.len()).enumerate() {
                r[i] = *v;
            }
            crate::bench_load::run(crate::bench_load::Options {
                json,
                seconds: seconds.max(1),
                events: events.max(1),
                rates: r,
                warm_up,
            })
            .await
        }
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
            crate::bench_capture::capture(
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
