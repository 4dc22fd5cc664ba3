//! The application layer of Suyuan. Every way in — HTTP, EPCIS capture, CLI import, the demo, and the
//! stations, forms and rule actions to come — is a thin adapter over [`Engine::submit`] (the [`submit`]
//! pipeline: read → schema and semantic checks → scope → the features' [`validate::Validator`]s → one
//! transaction); every other change is an engine command that stores the change and its ledger event
//! together ([`audit`]). Reactions (genealogy index, Merkle tree, subscriptions, and the features' rules) run
//! from the outbox ([`reactor`]).

pub mod acceptance;
pub mod accounts;
pub mod audit;
pub mod codes;
pub mod consumer;
pub mod dashboard;
pub mod explorer;
pub mod forms;
pub mod geo;
pub mod ledger;
pub mod names;
pub mod operations;
pub mod quality;
pub mod query;
pub mod reactor;
pub mod reader;
pub mod recall;
pub mod report;
pub mod reports;
pub mod rules;
pub mod scope;
pub mod snapshot;
pub mod story;
pub mod submit;
pub mod tasks;
pub mod tracer;
pub mod validate;
pub mod warm;
pub mod workflows;

use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use suyuan_core::{Event, ValidationErrors};
use suyuan_store::{Appended, Commit, NewEvent, Store, StoreError};

/// Most events one capture may carry.
pub const MAX_BATCH: usize = 10_000;

/// The file name of the operations projections' snapshot, beside the genealogy index's.
pub const OPERATIONS_SNAPSHOT: &str = "operations.snapshot";
/// The file name of the dashboard counts' snapshot, beside the genealogy index's.
pub const DASHBOARD_SNAPSHOT: &str = "dashboard.snapshot";

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
    /// The principal may not capture this (a partner naming someone else's goods or places).
    #[error("{0}")]
    Forbidden(String),
    /// An eventID is already stored with other content; `pointer` locates the event in the document when known.
    #[error("{error}")]
    Conflict {
        /// Where, as a JSON pointer (empty when not known).
        pointer: String,
        /// The store's account of it.
        error: StoreError,
    },
    /// The store failed; retry later.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CaptureError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } => CaptureError::Conflict {
                pointer: String::new(),
                error: e,
            },
            other => CaptureError::Store(other),
        }
    }
}

impl CaptureError {
    /// The refusal's located reasons, when the input was at fault (invalid, refused by a validator, an
    /// eventID reused for other content).
    pub fn located(&self) -> Option<Vec<suyuan_core::FieldError>> {
        match self {
            CaptureError::Invalid(v) => Some(v.0.clone()),
            CaptureError::Conflict { pointer, error } => Some(vec![suyuan_core::FieldError {
                pointer: pointer.clone(),
                message: error.to_string(),
            }]),
            _ => None,
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
    /// Master data vocabulary elements stored from the document's header.
    #[serde(rename = "masterDataElements", skip_serializing_if = "is_zero")]
    pub master_data: usize,
    /// Events left out of a `proceed` submission, each located in the document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<suyuan_core::FieldError>,
    /// What the capturer should know about events it stored (e.g. own codes that were never issued).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<acceptance::CaptureWarning>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The application layer over one store: the submit pipeline and its validators, engine commands, queries,
/// the genealogy index and the reactions.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    tracer: Arc<tracer::Tracer>,
    policies: Arc<acceptance::Policies>,
    validators: Arc<Vec<Arc<dyn validate::Validator>>>,
    committed: Arc<tokio::sync::watch::Sender<u64>>,
    metrics: Arc<Vec<Arc<dyn dashboard::Metric>>>,
    tally: Arc<dashboard::tally::Tally>,
    names: Arc<names::NameCache>,
    ops: Arc<operations::Ops>,
    records: Arc<operations::master::RecordCache>,
    warm: Arc<warm::Warm>,
}

impl Engine {
    /// An engine writing to `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_tracer(store, tracer::Tracer::new())
    }

    /// An engine whose genealogy index is saved to, and at start loaded from, the snapshot file `path`, its
    /// operations projections to and from [`OPERATIONS_SNAPSHOT`] beside it, and its dashboard counts to and
    /// from [`DASHBOARD_SNAPSHOT`].
    pub fn with_trace_snapshot(store: Arc<dyn Store>, path: std::path::PathBuf) -> Self {
        let ops = operations::Ops::with_snapshot(path.with_file_name(OPERATIONS_SNAPSHOT));
        let tally = dashboard::tally::Tally::with_snapshot(path.with_file_name(DASHBOARD_SNAPSHOT));
        let mut engine = Self::with_tracer(store, tracer::Tracer::with_snapshot(path));
        engine.ops = Arc::new(ops);
        engine.tally = Arc::new(tally);
        engine
    }

    fn with_tracer(store: Arc<dyn Store>, tracer: Arc<tracer::Tracer>) -> Self {
        Engine {
            store,
            tracer,
            policies: Arc::default(),
            validators: Arc::new(vec![
                Arc::new(validate::OwnCodes),
                Arc::new(validate::Vocabulary),
                Arc::new(operations::rules::OpsRules),
            ]),
            committed: Arc::new(tokio::sync::watch::channel(0).0),
            metrics: Arc::new(
                dashboard::builtin()
                    .into_iter()
                    .chain(operations::widgets::all())
                    .chain(quality::widgets::all())
                    .collect(),
            ),
            tally: Arc::default(),
            names: Arc::default(),
            ops: Arc::default(),
            records: Arc::default(),
            warm: Arc::default(),
        }
    }

    /// This engine with one more validator, which every later submission passes.
    pub fn with_validator(mut self, v: Arc<dyn validate::Validator>) -> Self {
        let mut list = (*self.validators).clone();
        list.push(v);
        self.validators = Arc::new(list);
        self
    }

    /// The genealogy index; call [`Engine::trace_index`] for an up-to-date one.
    pub fn tracer(&self) -> &Arc<tracer::Tracer> {
        &self.tracer
    }

    /// Brings the genealogy index up to the last stored event and returns it.
    pub async fn trace_index(&self) -> Result<&tracer::Tracer, StoreError> {
        self.tracer.catch_up(&self.store).await?;
        self.save_snapshots_if_due();
        Ok(&self.tracer)
    }

    /// Saves the genealogy index, the operations projections and the dashboard counts, each on its own task,
    /// when enough was read since its last snapshot.
    pub(crate) fn save_snapshots_if_due(&self) {
        if self.tracer.snapshot_due() {
            let (tracer, store) = (self.tracer.clone(), self.store.clone());
            tokio::spawn(async move { tracer.save_if_due(&store).await });
        }
        if self.ops.snapshot_due() {
            let (ops, store) = (self.ops.clone(), self.store.clone());
            tokio::spawn(async move { ops.save_snapshot(store.as_ref(), false).await });
        }
        if self.tally.snapshot_due() {
            let (tally, store) = (self.tally.clone(), self.store.clone());
            tokio::spawn(async move { tally.save_snapshot(store.as_ref(), false).await });
        }
    }

    /// The store, for the engine's own modules; everyone else reads through [`Engine::reader`] and writes
    /// through [`Engine::submit`] and the engine commands.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Saves the genealogy index, operations projection and dashboard count snapshots now (a clean shutdown),
    /// so the next start loads them. Each first reads what was stored since it last read (the last moments before
    /// shutdown), so the snapshots cover the whole ledger and the next start has nothing to catch up.
    pub async fn save_snapshots(&self) {
        // What was never built (a server stopped while starting) is not built now: nothing is saved then.
        if self.tracer.applied_seq() > 0
            && let Err(e) = self.tracer.catch_up(&self.store).await
        {
            tracing::warn!(error = %e, "the genealogy index could not read the newest events before saving");
        }
        self.tracer.save_now(&self.store).await;
        if self.ops.seq() > 0
            && let Err(e) = self.ops.catch_up(self.store.as_ref()).await
        {
            tracing::warn!(error = %e, "the operations projections could not read the newest events before saving");
        }
        self.ops.save_snapshot(self.store.as_ref(), true).await;
        if self.tally.seq() > 0
            && let Err(e) = self.tally.catch_up(self.store.as_ref()).await
        {
            tracing::warn!(error = %e, "the dashboard counts could not read the newest events before saving");
        }
        self.tally.save_snapshot(self.store.as_ref(), true).await;
    }

    /// Stores a commit and wakes the reactions of this process.
    pub(crate) async fn commit(&self, commit: Commit) -> Result<Vec<Appended>, CaptureError> {
        let renames = commit
            .writes
            .iter()
            .any(|w| matches!(w, suyuan_store::Write::MasterData(_)));
        let out = self.store.commit(commit).await?;
        if renames {
            self.names.forget().await;
        }
        if out.iter().any(|a| !a.duplicate) {
            self.committed.send_modify(|n| *n += 1);
        }
        Ok(out)
    }

    /// A receiver told of every commit that stored something (the reactor runtime waits on it).
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Captures a JSON-LD body (an EPCIS document or one event) as the system: all of it, or nothing.
    pub async fn capture(&self, body: &Value) -> Result<CaptureOutcome, CaptureError> {
        self.submit(
            &accounts::Principal::system("suyuan"),
            submit::Submission::rollback(submit::Input::Json(body.clone())),
        )
        .await
    }

    /// The gate for events the engine or a tool made (already parsed): at most [`MAX_BATCH`], and every
    /// validator's refusal refuses them all; answers the warnings as a capture lists them.
    pub(crate) async fn admit(
        &self,
        events: &[Event],
    ) -> Result<Vec<acceptance::CaptureWarning>, CaptureError> {
        if events.len() > MAX_BATCH {
            return Err(CaptureError::TooLarge {
                count: events.len(),
                limit: MAX_BATCH,
            });
        }
        let verdict = self.judge(events, validate::Origin::Plant).await?;
        if !verdict.refused.is_empty() {
            let errors = verdict.refused.into_iter().map(|(_, e)| e).collect();
            return Err(CaptureError::Invalid(ValidationErrors(
                acceptance::capped_errors(errors),
            )));
        }
        Ok(acceptance::listed_warnings(verdict.warnings))
    }

    /// Captures events the engine or a tool made (already parsed) through the validators: all of them, or
    /// nothing.
    pub async fn capture_events(&self, events: Vec<Event>) -> Result<CaptureOutcome, CaptureError> {
        self.capture_events_with(events, Vec::new()).await
    }

    /// Like [`Engine::capture_events`], with record changes (a feature's projection: a form submission)
    /// written in the same transaction as the events.
    pub async fn capture_events_with(
        &self,
        events: Vec<Event>,
        writes: Vec<suyuan_store::Write>,
    ) -> Result<CaptureOutcome, CaptureError> {
        if events.is_empty() {
            return Err(CaptureError::Empty);
        }
        let warnings = self.admit(&events).await?;
        let kept = events.clone();
        let batch = submit::prepare_off_thread(events).await?;
        let appended = self
            .commit(Commit {
                events: batch,
                writes,
            })
            .await?;
        // The operations projections take what was just stored as it is, without reading it back.
        self.ops.follow(self.store.as_ref(), &appended, &kept).await;
        self.save_snapshots_if_due();
        let Totals { stored, duplicates } = Totals::of(&appended);
        Ok(CaptureOutcome {
            stored,
            duplicates,
            events: appended,
            master_data: 0,
            errors: Vec::new(),
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
    pending: Option<(tokio::task::JoinHandle<Vec<NewEvent>>, Vec<Event>)>,
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
        // Hashing this batch overlaps storing the one before; the validators judge this batch once that one
        // is stored, against the store as it then stands (a pallet received in one batch may be unpacked in
        // the next).
        let kept = events.clone();
        let next = tokio::task::spawn_blocking(move || prepare(events));
        if let Some(prev) = self.pending.take()
            && let Err(e) = self.append(prev).await
        {
            next.abort();
            return Err(e);
        }
        match self.engine.admit(&kept).await {
            Ok(w) => self.warnings += w.len(),
            Err(e) => {
                next.abort();
                return Err(e);
            }
        }
        self.pending = Some((next, kept));
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
        (handle, events): (tokio::task::JoinHandle<Vec<NewEvent>>, Vec<Event>),
    ) -> Result<(), CaptureError> {
        let batch = handle.await.map_err(|e| {
            CaptureError::Store(StoreError::Backend(format!("prepare task failed: {e}")))
        })?;
        let appended = self.engine.commit(Commit::events(batch)).await?;
        self.engine
            .ops
            .follow(self.engine.store.as_ref(), &appended, &events)
            .await;
        self.engine.save_snapshots_if_due();
        let t = Totals::of(&appended);
        self.totals.stored += t.stored;
        self.totals.duplicates += t.duplicates;
        Ok(())
    }
}
