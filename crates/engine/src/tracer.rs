//! The live genealogy index over a store: rebuilt from the ledger, and kept current by reading the events
//! appended since (the ledger is the source of truth, so a lost or stale index heals itself).

use std::sync::{Arc, RwLock, RwLockReadGuard};
use suyuan_store::{Store, StoreError};
use suyuan_trace::TraceIndex;

/// Events read per step while catching up.
const PAGE: u32 = 2000;

/// A [`TraceIndex`] that follows a store's ledger.
#[derive(Default)]
pub struct Tracer {
    index: RwLock<TraceIndex>,
    applied: std::sync::atomic::AtomicU64,
    catching_up: tokio::sync::Mutex<()>,
}

impl Tracer {
    /// An empty tracer; [`Tracer::catch_up`] fills it.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Highest seq in the index.
    pub fn applied_seq(&self) -> u64 {
        self.applied.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Read access to the index.
    pub fn read(&self) -> RwLockReadGuard<'_, TraceIndex> {
        match self.index.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Applies every stored event after the last applied one, in seq order; logs progress on long runs.
    pub async fn catch_up(&self, store: &Arc<dyn Store>) -> Result<u64, StoreError> {
        let _one_at_a_time = self.catching_up.lock().await;
        let started = std::time::Instant::now();
        let mut done = 0u64;
        loop {
            let after = self.applied_seq();
            let page = store.events_after(after, PAGE).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            let parsed: Vec<(u64, String, Option<suyuan_core::Event>)> = page
                .into_iter()
                .map(|s| {
                    let e = suyuan_core::parse_capture(&s.event)
                        .ok()
                        .and_then(|mut v| v.pop());
                    (s.seq, s.event_id, e)
                })
                .collect();
            {
                let mut index = match self.index.write() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                for (seq, event_id, event) in &parsed {
                    match event {
                        Some(e) => index.apply(e, event_id, *seq),
                        None => tracing::error!(
                            seq,
                            "stored event does not parse; left out of the trace index"
                        ),
                    }
                }
            }
            self.applied
                .store(last, std::sync::atomic::Ordering::Release);
            done += parsed.len() as u64;
            if done % 100_000 < u64::from(PAGE) && done >= 100_000 {
                tracing::info!(events = done, seq = last, "trace index catching up");
            }
        }
        if done > 10_000 {
            let index = self.read();
            tracing::info!(
                events = done,
                nodes = index.node_count(),
                edges = index.edge_count(),
                secs = started.elapsed().as_secs_f64(),
                "trace index built"
            );
        }
        Ok(done)
    }
}
