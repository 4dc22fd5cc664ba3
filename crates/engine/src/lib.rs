//! The one write path of Suyuan. Every input — HTTP, EPCIS capture, CLI import, the demo generator — hands
//! its events to [`Engine::capture`], which validates and normalises them (core), then appends them in one
//! transaction together with their projection changes and outbox rows (store).

pub mod acceptance;
pub mod accounts;
pub mod codes;
pub mod ledger;
pub mod tracer;

use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use suyuan_core::{Event, ValidationErrors};
use suyuan_store::{Appended, NewEvent, Store, StoreError};

/// Most events one capture may carry.
pub const MAX_BATCH: usize = 10_000;

/// Why a capture was rejected; nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The input is not a valid EPCIS document or event.
    #[error("invalid capture: {0}")]
    Invalid(#[from] ValidationErrors),
    /// The capture holds more events than one request may.
    #[error("the capture holds {count} events; at most {limit} are accepted in one request")]
    TooLarge {
        /// Events sent.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The capture holds no event.
    #[error("the capture holds no event")]
    Empty,
    /// An eventID is already stored with other content.
    #[error(transparent)]
    Conflict(StoreError),
    /// The store failed; retry later.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CaptureError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } => CaptureError::Conflict(e),
            other => CaptureError::Store(other),
        }
    }
}

/// What a successful capture did.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureOutcome {
    /// One entry per event, in input order.
    pub events: Vec<Appended>,
    /// Events newly stored.
    pub stored: usize,
    /// Events that were already stored.
    pub duplicates: usize,
    /// What the capturer should know about events it stored (e.g. own codes that were never issued).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<acceptance::CaptureWarning>,
}

/// The write path over one store, and the genealogy index that follows it.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    tracer: Arc<tracer::Tracer>,
    policies: Arc<acceptance::Policies>,
}

impl Engine {
    /// An engine writing to `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Engine {
            store,
            tracer: tracer::Tracer::new(),
            policies: Arc::default(),
        }
    }

    /// An engine whose genealogy index is saved to, and at start loaded from, the snapshot file `path`.
    pub fn with_trace_snapshot(store: Arc<dyn Store>, path: std::path::PathBuf) -> Self {
        Engine {
            store,
            tracer: tracer::Tracer::with_snapshot(path),
            policies: Arc::default(),
        }
    }

    /// The genealogy index; call [`Engine::trace_index`] for an up-to-date one.
    pub fn tracer(&self) -> &Arc<tracer::Tracer> {
        &self.tracer
    }

    /// Brings the genealogy index up to the last stored event and returns it.
    pub async fn trace_index(&self) -> Result<&tracer::Tracer, StoreError> {
        self.tracer.catch_up(&self.store).await?;
        if self.tracer.snapshot_due() {
            let (tracer, store) = (self.tracer.clone(), self.store.clone());
            tokio::spawn(async move { tracer.save_if_due(&store).await });
        }
        Ok(&self.tracer)
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Captures a JSON-LD body (an EPCIS document or one event): all of it, or nothing.
    pub async fn capture(&self, body: &Value) -> Result<CaptureOutcome, CaptureError> {
        let events = suyuan_core::parse_capture(body)?;
        self.capture_events(events).await
    }

    /// Captures already-parsed events: all of them, or nothing.
    pub async fn capture_events(&self, events: Vec<Event>) -> Result<CaptureOutcome, CaptureError> {
        if events.is_empty() {
            return Err(CaptureError::Empty);
        }
        if events.len() > MAX_BATCH {
            return Err(CaptureError::TooLarge {
                count: events.len(),
                limit: MAX_BATCH,
            });
        }
        let mut warnings = self.check_own_codes(&events).await?;
        warnings.extend(acceptance::vocabulary_warnings(&events));
        let batch = if events.len() > 64 {
            tokio::task::spawn_blocking(move || prepare(events))
                .await
                .map_err(|e| {
                    CaptureError::Store(StoreError::Backend(format!("prepare task failed: {e}")))
                })?
        } else {
            prepare(events)
        };
        let appended = self.store.append(batch).await?;
        let Totals { stored, duplicates } = Totals::of(&appended);
        Ok(CaptureOutcome {
            stored,
            duplicates,
            events: appended,
            warnings,
        })
    }
}

/// Normalises events for the store: eventIDs, hashes, serialised forms and projection changes.
pub fn prepare(mut events: Vec<Event>) -> Vec<NewEvent> {
    // Hashing and serialising is CPU work: large batches use every core.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if events.len() < 256 || threads < 2 {
        return events.into_iter().map(NewEvent::from_event).collect();
    }
    let per = events.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while events.len() > per {
        let tail = events.split_off(per);
        parts.push(std::mem::replace(&mut events, tail));
    }
    parts.push(events);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(NewEvent::from_event)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Totals of a pipelined capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Events newly stored.
    pub stored: usize,
    /// Events that were already stored.
    pub duplicates: usize,
}

impl Totals {
    /// Counts new and repeated events in an append's answer.
    pub fn of(appended: &[Appended]) -> Totals {
        let duplicates = appended.iter().filter(|a| a.duplicate).count();
        Totals {
            stored: appended.len() - duplicates,
            duplicates,
        }
    }
}

/// Captures a sequence of batches in order, preparing (hashing, serialising) the next batch while the
/// previous one is being written. Each batch is atomic on its own; batches are appended in push order.
pub struct Pipeline {
    engine: Engine,
    pending: Option<tokio::task::JoinHandle<Vec<NewEvent>>>,
    totals: Totals,
    warnings: usize,
}

impl Pipeline {
    /// A pipeline writing through `engine`.
    pub fn new(engine: Engine) -> Self {
        Pipeline {
            engine,
            pending: None,
            totals: Totals::default(),
            warnings: 0,
        }
    }

    /// How many warnings the batches pushed so far drew (unknown own codes under a warning policy).
    pub fn warnings(&self) -> usize {
        self.warnings
    }

    /// Queues a batch; returns once the batch before it is stored.
    pub async fn push(&mut self, events: Vec<Event>) -> Result<Totals, CaptureError> {
        if events.is_empty() {
            return Ok(self.totals);
        }
        if events.len() > MAX_BATCH {
            return Err(CaptureError::TooLarge {
                count: events.len(),
                limit: MAX_BATCH,
            });
        }
        // Own codes are checked against the register as this batch stands (the server logs the warnings).
        let warnings = self.engine.check_own_codes(&events).await?;
        self.warnings += warnings.len();
        let next = tokio::task::spawn_blocking(move || prepare(events));
        if let Some(prev) = self.pending.replace(next) {
            self.append(prev).await?;
        }
        Ok(self.totals)
    }

    /// Stores the last queued batch and returns the totals.
    pub async fn finish(mut self) -> Result<Totals, CaptureError> {
        if let Some(prev) = self.pending.take() {
            self.append(prev).await?;
        }
        Ok(self.totals)
    }

    async fn append(
        &mut self,
        handle: tokio::task::JoinHandle<Vec<NewEvent>>,
    ) -> Result<(), CaptureError> {
        let batch = handle.await.map_err(|e| {
            CaptureError::Store(StoreError::Backend(format!("prepare task failed: {e}")))
        })?;
        let t = Totals::of(&self.engine.store.append(batch).await?);
        self.totals.stored += t.stored;
        self.totals.duplicates += t.duplicates;
        Ok(())
    }
}
