//! Warming up after a start: the operations projections (which the capture checks read), the genealogy
//! index (which traces read) and the dashboard counts are kept in memory and read from their snapshots and the
//! ledger when a server starts. Until all three have read it, the server says it is not ready, so that a load
//! balancer sends requests elsewhere instead of queuing them behind the rebuild.

use crate::Engine;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use suyuan_store::StoreError;

/// Whether a warm-up is running, and the ledger head it is reading up to.
#[derive(Debug)]
pub struct Warm {
    done: AtomicBool,
    target: AtomicU64,
}

impl Default for Warm {
    /// Warm: an engine nobody asked to warm up (tests, commands) serves at once.
    fn default() -> Self {
        Warm {
            done: AtomicBool::new(true),
            target: AtomicU64::new(0),
        }
    }
}

/// How far a warm-up has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warming {
    /// The ledger head at start, which both must reach.
    pub target: u64,
    /// Events the operations projections have read.
    pub operations: u64,
    /// Events the genealogy index has read.
    pub genealogy: u64,
    /// Events the dashboard counts have read.
    pub dashboard: u64,
}

impl Engine {
    /// Marks the engine as warming up and answers the work that reads the ledger into the operations
    /// projections and the genealogy index, side by side; run it beside the server.
    pub fn start_warm_up(
        &self,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + 'static {
        self.warm.done.store(false, Ordering::Release);
        let engine = self.clone();
        async move {
            // The newest event's seq (one indexed row), not `stats()`, which counts every object.
            let head = engine
                .store()
                .recent_events(1)
                .await?
                .first()
                .map_or(0, |e| e.seq);
            engine.warm.target.store(head, Ordering::Release);
            let started = std::time::Instant::now();
            let store = engine.store().clone();
            let (ops, index, tally) = tokio::join!(
                engine.ops.catch_up(store.as_ref()),
                engine.tracer.catch_up(&store),
                engine.tally.catch_up(store.as_ref())
            );
            // Ready even when one failed: the next request reads what is missing itself, as before.
            engine.warm.done.store(true, Ordering::Release);
            ops?;
            index?;
            tally?;
            // A first start on a long ledger saves at once, so that the next one (after a crash, say) loads.
            engine.save_snapshots_if_due();
            tracing::info!(
                events = head,
                secs = started.elapsed().as_secs_f64(),
                "operations projections, genealogy index and dashboard counts read the ledger"
            );
            Ok(())
        }
    }

    /// `None` when warm; otherwise how far the warm-up has come.
    pub fn warming(&self) -> Option<Warming> {
        if self.warm.done.load(Ordering::Acquire) {
            return None;
        }
        Some(Warming {
            target: self.warm.target.load(Ordering::Acquire),
            operations: self.ops.seq(),
            genealogy: self.tracer.applied_seq(),
            dashboard: self.tally.seq(),
        })
    }
}
