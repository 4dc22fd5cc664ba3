//! Loading the demo factory into a store through the normal write path.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use suyuan_demo::DemoConfig;
use suyuan_engine::Engine;
use suyuan_store::Store;

/// Events per capture while loading.
const BATCH: usize = 1000;

/// Loads the demo factory unless the store already holds events; prints what it did.
pub async fn load(store: &Arc<dyn Store>, cfg: DemoConfig) -> Result<()> {
    let stats = store.stats().await?;
    if stats.events > 0 {
        println!(
            "Reusing the existing data: {} events, {} objects.",
            stats.events, stats.objects
        );
        return Ok(());
    }
    let estimate = suyuan_demo::estimate(cfg);
    println!(
        "Loading the demo factory (seed {}, {} line(s), {} days, about {estimate} events)…",
        cfg.seed, cfg.scale, cfg.days
    );
    let bar = ProgressBar::new(estimate);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<suyuan_core::Event>, String>>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let mut failed = false;
        suyuan_demo::generate(cfg, &mut |v| {
            if failed {
                return;
            }
            match suyuan_core::parse_capture(&v) {
                Ok(mut evs) => batch.append(&mut evs),
                Err(e) => {
                    failed = true;
                    let _ = tx.blocking_send(Err(format!(
                        "the demo generator made an invalid event: {e}"
                    )));
                    return;
                }
            }
            if batch.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.blocking_send(Ok(full)).is_err() {
                    failed = true;
                }
            }
        });
        if !failed && !batch.is_empty() {
            let _ = tx.blocking_send(Ok(batch));
        }
    });
    let engine = Engine::new(store.clone());
    let started = std::time::Instant::now();
    let mut stored = 0u64;
    while let Some(batch) = rx.recv().await {
        let batch = batch.map_err(anyhow::Error::msg)?;
        let n = batch.len() as u64;
        let out = engine
            .capture_events(batch)
            .await
            .context("storing demo events")?;
        stored += out.stored as u64;
        bar.inc(n);
    }
    producer.await.context("demo generator failed")?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Stored {stored} demo events in {secs:.1} s ({:.0} events/s).",
        stored as f64 / secs.max(1e-9)
    );
    let (d, l, b) = suyuan_demo::FAILING_BATCH;
    println!(
        "Batch {} failed final inspection and is on hold.",
        suyuan_demo::batch_lot(d, l, b)
    );
    Ok(())
}
