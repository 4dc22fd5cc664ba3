//! `suyuan bench crash`: crash trials. A `suyuan serve` child takes captures over HTTP at a steady rate and is
//! killed with SIGKILL at a random moment; after its restart every acknowledged event must be there with the
//! hash it was acknowledged with, no batch may be half-stored, `verify` must be green and the restarted
//! server's trace index must agree with an index built afresh from the store.

use crate::bench::{median, percentile, round_to};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use suyuan_store::Store;
use tokio::sync::Mutex;

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

/// A `suyuan serve` child and its base URL.
struct ServerProc {
    child: Child,
    url: String,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a series keeps its data and how the server is started on it.
struct Target {
    dir: PathBuf,
    serve_args: Vec<String>,
    store: String,
    key: PathBuf,
}

/// Starts `suyuan serve` and answers it once `/readyz` says ready, with the time that took.
async fn start(target: &Target) -> Result<(ServerProc, Duration)> {
    let started = Instant::now();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(target.dir.join("serve.log"))?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .args(&target.serve_args)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .context("cannot start suyuan serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let line = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        }),
    )
    .await
    .context("the server did not start within two minutes")???;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .with_context(|| format!("no URL in the server's first line {line:?}"))?
        .trim_end_matches('/')
        .to_string();
    let proc = ServerProc { child, url };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", proc.url)).send().await
            && r.status().is_success()
        {
            return Ok((proc, started.elapsed()));
        }
        if Instant::now() > deadline {
            bail!("the server was not ready within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A capture request's events: `groups` cases, each of 9 commissioned units and the aggregation packing them.
fn batch_document(run: u32, trial: u32, batch: u64, size: usize) -> (Value, Vec<String>) {
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
struct Load {
    acked: HashMap<String, (String, u64)>,
    unanswered: Vec<Vec<String>>,
    refused: u64,
    seconds: f64,
}

/// Captures at `rate` events a second (0: as fast as answered) until `kill` is raised.
async fn load(
    url: &str,
    token: &str,
    rate: u32,
    batch: usize,
    run: u32,
    trial: u32,
    kill: Arc<AtomicBool>,
) -> Result<Load> {
    const WORKERS: u64 = 4;
    let client = reqwest::Client::builder()
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse()?,
            );
            h
        })
        .timeout(Duration::from_secs(30))
        .build()?;
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
                        for e in v["events"].as_array().into_iter().flatten() {
                            if let (Some(id), Some(h), Some(seq)) = (
                                e["eventID"].as_str(),
                                e["eventHash"].as_str(),
                                e["seq"].as_u64(),
                            ) {
                                o.acked.insert(id.to_string(), (h.to_string(), seq));
                            }
                        }
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

/// One store's trial results.
#[derive(Default)]
struct Tally {
    trials: u32,
    acked: u64,
    acked_lost: u64,
    half_written: u64,
    unexpected: u64,
    refused: u64,
    verify_failures: u64,
    index_mismatches: u64,
    restart_ms: Vec<f64>,
    load_eps: Vec<f64>,
    events_at_end: u64,
}

impl Tally {
    fn json(&self) -> Value {
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
            "restart_p99_ms": round_to(percentile(&sorted, 99.0), 1),
            "load_eps_median": round_to(median(self.load_eps.clone()), 0),
            "largest_store_events": self.events_at_end,
        })
    }
}

/// Every event stored after `after_seq`: eventID → (event hash, seq), and the (parent, first child) of the
/// aggregations among them.
async fn stored_after(
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
async fn served_counts(
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
async fn check(
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

/// Creates the `bench` administrator and answers an API token for it.
async fn token(store: &str) -> Result<(String, u64)> {
    let engine = suyuan_engine::Engine::new(suyuan_store::open(store).await?);
    let new = suyuan_engine::accounts::NewUser {
        name: "bench".into(),
        role: "admin".into(),
        ..Default::default()
    };
    if engine.user("bench").await?.is_none() {
        engine.create_user("bench", &new).await?;
    }
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    let (token, _) = engine
        .create_token("bench", "bench", &[], expires, "crash trials")
        .await?;
    let last_seq = engine.reader().stats().await?.last_seq;
    Ok((token, last_seq))
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
            let client = reqwest::Client::builder()
                .default_headers({
                    let mut h = reqwest::header::HeaderMap::new();
                    h.insert(
                        reqwest::header::AUTHORIZATION,
                        format!("Bearer {token}").parse()?,
                    );
                    h
                })
                .build()?;
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
