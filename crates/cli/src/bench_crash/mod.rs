//! `suyuan bench crash`: crash trials. A `suyuan serve` child takes captures over HTTP at a steady rate and is
//! killed with SIGKILL at a random moment; after its restart every acknowledged event must be there with the
//! hash it was acknowledged with, no batch may be half-stored, `verify` must be green and the restarted
//! server's trace index must agree with an index built afresh from the store.

use crate::bench::{median, percentile, round_to};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use suyuan_store::Store;
use tokio::sync::Mutex;

mod check;
mod disk;
mod load;
pub(crate) mod server;

use check::*;
use load::*;
use server::*;

/// What `suyuan bench crash` runs.
pub struct Options {
    /// Print a JSON object as the last line.
    pub json: bool,
    /// Trials per store.
    pub trials: u32,
    /// Events per second offered to SQLite (PostgreSQL takes as many as it can).
    pub rate: u32,
    /// Events per capture request.
    pub batch: usize,
    /// Trials on one data directory before a fresh one (the store grows across a series, so restarts also
    /// load and catch up a saved trace index).
    pub series: u32,
    /// Longest run before the kill, in milliseconds (the kill lands uniformly between a tenth of it and it).
    pub max_run_ms: u64,
    /// PostgreSQL URL to run the trials on too (in a schema of its own, dropped afterwards).
    pub pg: Option<String>,
    /// Random seed.
    pub seed: u64,
    /// Also run the disk-full trial (needs the right to mount a tmpfs).
    pub disk_full: bool,
}

/// A small xorshift generator: kill moments and sampled objects, repeatable by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Runs `trials` crash trials on one kind of store; `make` prepares a fresh target for each series.
async fn trials(
    opts: &Options,
    rate: u32,
    rng: &mut Rng,
    make: &dyn Fn(u32) -> Result<Target>,
    label: &str,
) -> Result<Tally> {
    let mut tally = Tally::default();
    let run = (rng.next() & 0xffff_ffff) as u32;
    let mut current: Option<(Target, ServerProc, String, reqwest::Client, u64)> = None;
    for trial in 0..opts.trials {
        if trial % opts.series.max(1) == 0 {
            if let Some((t, mut s, ..)) = current.take() {
                let _ = s.child.kill();
                let _ = s.child.wait();
                drop(s);
                let _ = std::fs::remove_dir_all(&t.dir);
            }
            let t = make(trial)?;
            suyuan_engine::ledger::load_or_create_key(&t.key, "suyuan.local/ledger")?;
            let (token, seq) = token(&t.store).await?;
            let client = staff_client(&token)?;
            let (s, _) = start(&t).await?;
            current = Some((t, s, token, client, seq));
        }
        let Some((t, s, token, client, before)) = current.as_mut() else {
            bail!("no server");
        };
        let kill = Arc::new(AtomicBool::new(false));
        let loading = tokio::spawn({
            let (url, token, kill) = (s.url.clone(), token.clone(), kill.clone());
            let batch = opts.batch;
            async move { load(&url, &token, rate, batch, run, trial, kill).await }
        });
        let lo = opts.max_run_ms / 10;
        let after = lo + rng.below(opts.max_run_ms.saturating_sub(lo).max(1));
        tokio::time::sleep(Duration::from_millis(after)).await;
        // SIGKILL: no shutdown code runs.
        s.child.kill()?;
        s.child.wait()?;
        kill.store(true, Ordering::Release);
        let loaded = loading.await??;
        tally.acked += loaded.acked.len() as u64;
        tally.refused += loaded.refused;
        tally
            .load_eps
            .push(loaded.acked.len() as f64 / loaded.seconds.max(1e-9));
        let (restarted, took) = start(t).await?;
        tally.restart_ms.push(took.as_secs_f64() * 1000.0);
        *s = restarted;
        // The first capture after the restart: how long until the restarted server takes writes again.
        let mut loaded = loaded;
        let probe = Instant::now();
        let (doc, _) = batch_document(run, trial, 999_999, 10);
        let answer = client
            .post(format!("{}/api/v1/events", s.url))
            .header("content-type", "application/ld+json")
            .body(doc.to_string())
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!(
                "the first capture after restart was refused: {}",
                answer.status()
            );
        }
        let body: Value = serde_json::from_slice(&answer.bytes().await?)?;
        tally
            .first_capture_ms
            .push(probe.elapsed().as_secs_f64() * 1000.0);
        note_acks(&body, &mut loaded.acked);
        let last = check(t, s, client, *before, &loaded, rng, &mut tally).await?;
        *before = last;
        tally.events_at_end = tally.events_at_end.max(last);
        tally.trials += 1;
        eprintln!(
            "{label} trial {}/{}: killed after {after} ms, {} acked, {} unanswered batches, restart {:.0} ms, store at seq {last}",
            trial + 1,
            opts.trials,
            loaded.acked.len(),
            loaded.unanswered.len(),
            took.as_secs_f64() * 1000.0
        );
    }
    if let Some((t, s, ..)) = current.take() {
        drop(s);
        let _ = std::fs::remove_dir_all(&t.dir);
    }
    Ok(tally)
}

/// `suyuan bench crash`.
pub async fn run(opts: Options) -> Result<()> {
    let base = tempfile::tempdir()?;
    let mut rng = Rng(opts.seed.max(1));
    let root = base.path().to_path_buf();
    let sqlite = trials(
        &opts,
        opts.rate,
        &mut rng,
        &|n| {
            let dir = root.join(format!("sqlite-{n}"));
            std::fs::create_dir_all(&dir)?;
            Ok(Target {
                serve_args: vec!["--data".into(), dir.to_string_lossy().into_owned()],
                store: dir.to_string_lossy().into_owned(),
                key: dir.join("ledger.key"),
                log: dir.with_extension("log"),
                dir,
            })
        },
        "sqlite",
    )
    .await?;
    let mut out = json!({"sqlite": sqlite.json()});
    if let Some(url) = &opts.pg {
        let schema = format!("bench_crash_{}", std::process::id());
        let pg = pg_trials(&opts, &mut rng, url, &schema, &root).await;
        suyuan_store::PgStore::drop_schema(url, &schema).await?;
        out["postgres"] = pg?.json();
    }
    if opts.disk_full {
        out["disk_full"] = disk::trial(&root).await?;
    }
    let total = |k: &str| {
        ["sqlite", "postgres"]
            .iter()
            .filter_map(|s| out[s][k].as_u64())
            .sum::<u64>()
    };
    let summary = json!({
        "trials": total("trials"),
        "acked_lost": total("acked_lost"),
        "verify_failures": total("verify_failures"),
        "index_mismatches": total("index_mismatches"),
        "half_written_batches": total("half_written_batches"),
        "restart_p50_ms": out["sqlite"]["restart_p50_ms"].clone(),
    });
    if let (Some(o), Some(s)) = (out.as_object_mut(), summary.as_object()) {
        for (k, v) in s {
            o.insert(k.clone(), v.clone());
        }
    }
    if !opts.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{out}");
    }
    Ok(())
}

async fn pg_trials(
    opts: &Options,
    rng: &mut Rng,
    url: &str,
    schema: &str,
    root: &Path,
) -> Result<Tally> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let make = |n: u32| -> Result<Target> {
        let dir = root.join(format!("pg-{n}"));
        std::fs::create_dir_all(&dir)?;
        Ok(Target {
            serve_args: vec![
                "--database".into(),
                scoped.clone(),
                "--ledger-key".into(),
                dir.join("ledger.key").to_string_lossy().into_owned(),
            ],
            store: scoped.clone(),
            key: dir.join("ledger.key"),
            log: dir.with_extension("log"),
            dir,
        })
    };
    // Each series starts on an empty schema.
    let fresh = |n: u32| -> Result<Target> {
        let t = make(n)?;
        let (url, schema) = (url.to_string(), schema.to_string());
        std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                suyuan_store::PgStore::drop_schema(&url, &schema).await?;
                let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                let task = tokio::spawn(conn);
                c.batch_execute(&format!("CREATE SCHEMA {schema}")).await?;
                drop(c);
                let _ = task.await;
                Ok(())
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("schema thread panicked"))??;
        Ok(t)
    };
    trials(opts, 0, rng, &fresh, "postgres").await
}
