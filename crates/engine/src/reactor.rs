//! Reactions from the outbox: one runtime drains the outbox in commit order for every registered
//! [`Reactor`], at least once (a reactor must be idempotent: a crash between reacting and acknowledging
//! repeats the entries), retrying failures with back-off. A shared reactor (Merkle tree, subscriptions, the
//! features' rules) runs on one engine at a time under a lease kept in the store, so two servers on one
//! PostgreSQL share the work without doubling it; a local one (the in-memory genealogy index) runs in every
//! engine. Metrics per reactor: `suyuan_reactor_pending_entries`, `suyuan_reactor_lag_seconds`,
//! `suyuan_reactor_failures_total`.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use suyuan_store::{OutboxEntry, StoreError};

use crate::Engine;

/// Why a reaction failed; it is retried with back-off.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReactorError(pub String);

impl From<StoreError> for ReactorError {
    fn from(e: StoreError) -> Self {
        ReactorError(e.to_string())
    }
}

/// Something that follows the ledger: told of every commit, in order.
#[async_trait]
pub trait Reactor: Send + Sync {
    /// Its name (the key of its progress in the store, and its metrics label).
    fn name(&self) -> &'static str;
    /// Shared reactors run on one engine at a time (lease); local ones in every engine, their progress kept
    /// in memory.
    fn shared(&self) -> bool {
        true
    }
    /// Reacts to entries in commit order; `Ok` means done with them. An empty slice is a tick: work due with
    /// time rather than new events.
    async fn react(&self, engine: &Engine, entries: &[OutboxEntry]) -> Result<(), ReactorError>;
    /// How often it wants a tick when no entries come (checkpoints by age, scheduled subscriptions).
    fn tick(&self) -> Option<Duration> {
        None
    }
    /// Whether it works only on ticks (SLA timers, scheduled reports): it reads no outbox entries and
    /// does not hold back their settling.
    fn ticks_only(&self) -> bool {
        false
    }
}

/// Milliseconds since the epoch; tests move it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now_ms(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock tests set by hand.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `ms`.
    pub fn at(ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(ms)))
    }

    /// Moves it forward.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How the runtime paces itself.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// How often to look for commits of other processes when this one made none.
    pub poll: Duration,
    /// Most entries handed to one reaction.
    pub batch: u32,
    /// First wait after a failure (doubling up to `max_backoff`).
    pub min_backoff: Duration,
    /// Longest wait after failures.
    pub max_backoff: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            batch: 500,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What one step of one reactor did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Reacted to entries up to this outbox id.
    Reacted(u64),
    /// Nothing new (a tick may have run).
    Idle,
    /// Another engine holds the lease.
    Elsewhere,
}

/// The reactors of one engine and the state of their local progress.
pub struct Runtime {
    engine: Engine,
    owner: String,
    clock: Arc<dyn Clock>,
    settings: Settings,
    reactors: Vec<Slot>,
}

struct Slot {
    reactor: Arc<dyn Reactor>,
    /// Progress of a local reactor (outbox id).
    local_done: AtomicI64,
    /// When it last ticked (clock ms).
    last_tick: AtomicI64,
}

impl Runtime {
    /// A runtime for `engine`, named `owner` in leases (unique per process: host and pid, or a test's name).
    pub fn new(engine: Engine, owner: impl Into<String>) -> Runtime {
        Runtime {
            engine,
            owner: owner.into(),
            clock: Arc::new(SystemClock),
            settings: Settings::default(),
            reactors: Vec::new(),
        }
    }

    /// A name for this process in leases: host name and process id.
    pub fn process_owner() -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "suyuan".into());
        format!("{host}:{}", std::process::id())
    }

    /// With a clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Runtime {
        self.clock = clock;
        self
    }

    /// With other pacing.
    pub fn with_settings(mut self, settings: Settings) -> Runtime {
        self.settings = settings;
        self
    }

    /// With one more reactor.
    pub fn with(mut self, reactor: Arc<dyn Reactor>) -> Runtime {
        self.reactors.push(Slot {
            reactor,
            local_done: AtomicI64::new(0),
            last_tick: AtomicI64::new(i64::MIN),
        });
        self
    }

    /// The names of its reactors.
    pub fn names(&self) -> Vec<&'static str> {
        self.reactors.iter().map(|s| s.reactor.name()).collect()
    }

    /// One step of the reactor at `index`: claims its lease (shared), hands it the next entries, and
    /// acknowledges them when it succeeded.
    pub async fn step(&self, index: usize) -> Result<Step, ReactorError> {
        let Some(slot) = self.reactors.get(index) else {
            return Ok(Step::Idle);
        };
        let r = &slot.reactor;
        let name = r.name();
        let now = self.clock.now_ms();
        let store = self.engine.store();
        let done = if r.shared() {
            let lease = self.settings.lease.as_millis() as i64;
            match store.claim_reactor(name, &self.owner, now, lease).await? {
                Some(state) => state.done_id,
                None => return Ok(Step::Elsewhere),
            }
        } else {
            slot.local_done.load(Ordering::SeqCst) as u64
        };
        if r.ticks_only() {
            self.tick_if_due(slot, now).await?;
            return Ok(Step::Idle);
        }
        let entries = store.outbox_after(done, self.settings.batch).await?;
        let Some(last) = entries.last().map(|e| e.id) else {
            metrics::gauge!("suyuan_reactor_pending_entries", "reactor" => name).set(0.0);
            metrics::gauge!("suyuan_reactor_lag_seconds", "reactor" => name).set(0.0);
            self.tick_if_due(slot, now).await?;
            return Ok(Step::Idle);
        };
        if let Some(first) = entries.first()
            && let Ok(t) = chrono::DateTime::parse_from_rfc3339(&first.created)
        {
            let lag = (now - t.timestamp_millis()).max(0) as f64 / 1000.0;
            metrics::gauge!("suyuan_reactor_lag_seconds", "reactor" => name).set(lag);
        }
        metrics::gauge!("suyuan_reactor_pending_entries", "reactor" => name)
            .set(entries.len() as f64);
        self.guarded(r.as_ref(), &entries).await?;
        if r.shared() {
            if !store.ack_reactor(name, &self.owner, last).await? {
                tracing::warn!(
                    reactor = name,
                    "lease lost while reacting; the next holder repeats these entries"
                );
                return Ok(Step::Elsewhere);
            }
            self.settle().await?;
        } else {
            slot.local_done.store(last as i64, Ordering::SeqCst);
        }
        slot.last_tick.store(now, Ordering::SeqCst);
        Ok(Step::Reacted(last))
    }

    /// Runs a reaction, counting and recording a failure.
    /// Runs the reactor's tick (with no entries) when its period has passed since the last one.
    async fn tick_if_due(&self, slot: &Slot, now: i64) -> Result<(), ReactorError> {
        let Some(every) = slot.reactor.tick() else {
            return Ok(());
        };
        let since = now.saturating_sub(slot.last_tick.load(Ordering::SeqCst));
        if since >= every.as_millis() as i64 {
            self.guarded(slot.reactor.as_ref(), &[]).await?;
            slot.last_tick.store(now, Ordering::SeqCst);
        }
        Ok(())
    }

    async fn guarded(&self, r: &dyn Reactor, entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        match r.react(&self.engine, entries).await {
            Ok(()) => Ok(()),
            Err(e) => {
                metrics::counter!("suyuan_reactor_failures_total", "reactor" => r.name())
                    .increment(1);
                if r.shared()
                    && let Err(s) = self
                        .engine
                        .store()
                        .fail_reactor(r.name(), &self.owner, &e.0)
                        .await
                {
                    tracing::warn!(reactor = r.name(), error = %s, "recording a reactor failure failed");
                }
                Err(e)
            }
        }
    }

    /// Marks the outbox entries every shared reactor has finished as done.
    async fn settle(&self) -> Result<(), StoreError> {
        let states = self.engine.store().reactor_states().await?;
        let shared = self
            .reactors
            .iter()
            .filter(|s| s.reactor.shared() && !s.reactor.ticks_only());
        let low = shared
            .map(|s| {
                states
                    .iter()
                    .find(|st| st.name == s.reactor.name())
                    .map_or(0, |st| st.done_id)
            })
            .min();
        if let Some(low) = low.filter(|l| *l > 0) {
            self.engine.store().settle_outbox(low).await?;
        }
        Ok(())
    }

    /// Steps every reactor until none has anything left (tests, and a tool's last act before it exits).
    pub async fn drain(&self) -> Result<(), ReactorError> {
        loop {
            let mut any = false;
            for i in 0..self.reactors.len() {
                if let Step::Reacted(_) = self.step(i).await? {
                    any = true;
                }
            }
            if !any {
                return Ok(());
            }
        }
    }

    /// Gives up every shared lease this runtime holds (a clean stop).
    pub async fn release(&self) {
        for s in self.reactors.iter().filter(|s| s.reactor.shared()) {
            if let Err(e) = self
                .engine
                .store()
                .release_reactor(s.reactor.name(), &self.owner)
                .await
            {
                tracing::warn!(reactor = s.reactor.name(), error = %e, "releasing a lease failed");
            }
        }
    }

    /// Runs every reactor until `stop` fires: each steps at once after a commit of this engine, every `poll`
    /// otherwise (commits of other processes), and after a failure waits a doubling back-off. Leases are
    /// released on the way out.
    pub async fn run(self: Arc<Self>, stop: tokio::sync::watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for i in 0..self.reactors.len() {
            let (rt, mut stop) = (self.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut commits = rt.engine.commits();
                let mut backoff = rt.settings.min_backoff;
                let mut failing = false;
                loop {
                    let wait = match rt.step(i).await {
                        Ok(Step::Reacted(_)) => {
                            failing = false;
                            backoff = rt.settings.min_backoff;
                            continue;
                        }
                        Ok(_) => {
                            failing = false;
                            backoff = rt.settings.min_backoff;
                            rt.settings.poll
                        }
                        Err(e) => {
                            let name = rt.reactors[i].reactor.name();
                            if !failing {
                                tracing::error!(reactor = name, error = %e, "a reaction failed; retrying with back-off");
                            }
                            failing = true;
                            let w = backoff;
                            backoff = (backoff * 2).min(rt.settings.max_backoff);
                            w
                        }
                    };
                    tokio::select! {
                        _ = commits.changed(), if !failing => {}
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => break,
                    }
                    if *stop.borrow() {
                        break;
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        self.release().await;
    }
}

/// Keeps the in-memory genealogy index up with the ledger (every engine has its own).
pub struct TraceIndex;

#[async_trait]
impl Reactor for TraceIndex {
    fn name(&self) -> &'static str {
        "trace_index"
    }

    fn shared(&self) -> bool {
        false
    }

    async fn react(&self, engine: &Engine, _entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        engine.trace_index().await?;
        Ok(())
    }
}

/// Keeps the dashboard's running counts up with the ledger and the scan log (every engine has its own).
pub struct DashboardTally;

#[async_trait]
impl Reactor for DashboardTally {
    fn name(&self) -> &'static str {
        "dashboard_tally"
    }

    fn shared(&self) -> bool {
        false
    }

    async fn react(&self, engine: &Engine, _entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        engine.tally().await?;
        // Count objects by disposition here, not in a visitor's request.
        engine.disposition_counts().await?;
        Ok(())
    }

    fn tick(&self) -> Option<Duration> {
        // Consumer scans are not ledger events: count them as they come.
        Some(Duration::from_secs(5))
    }
}

/// Integrates new events into the Merkle tree and signs a checkpoint every 10,000 events or minute.
pub struct MerkleTree {
    signer: Arc<suyuan_ledger::checkpoint::CheckpointSigner>,
}

impl MerkleTree {
    /// Signing checkpoints with `signer`.
    pub fn new(signer: Arc<suyuan_ledger::checkpoint::CheckpointSigner>) -> MerkleTree {
        MerkleTree { signer }
    }
}

#[async_trait]
impl Reactor for MerkleTree {
    fn name(&self) -> &'static str {
        "merkle_tree"
    }

    async fn react(&self, engine: &Engine, _entries: &[OutboxEntry]) -> Result<(), ReactorError> {
        let store = engine.store().as_ref();
        let err = |e: crate::ledger::LedgerError| ReactorError(e.to_string());
        let size = crate::ledger::integrate(store).await.map_err(err)?;
        let last = store.checkpoint(None).await?;
        let signed = last.as_ref().map_or(0, |c| c.size);
        let age_ms = last
            .as_ref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(&c.created_at).ok())
            .map_or(i64::MAX, |t| {
                chrono::Utc::now().timestamp_millis() - t.timestamp_millis()
            });
        if size > signed && (size - signed >= 10_000 || age_ms >= 60_000) {
            crate::ledger::checkpoint(store, &self.signer)
                .await
                .map_err(err)?;
        }
        Ok(())
    }

    fn tick(&self) -> Option<Duration> {
        Some(Duration::from_secs(60))
    }
}

/// How far one reactor is behind the ledger, for operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReactorStatus {
    /// The reactor.
    pub name: String,
    /// `shared` (one engine at a time, under a lease) or `local` (every engine).
    pub kind: &'static str,
    /// The last outbox entry it finished (shared reactors).
    #[serde(rename = "doneId", skip_serializing_if = "Option::is_none")]
    pub done_id: Option<u64>,
    /// Outbox entries waiting for it (counted up to 10,000).
    #[serde(rename = "pendingEntries")]
    pub pending_entries: usize,
    /// When the oldest waiting entry was committed.
    #[serde(rename = "oldestPending", skip_serializing_if = "Option::is_none")]
    pub oldest_pending: Option<String>,
    /// Events it has not applied yet (local reactors: the genealogy index).
    #[serde(rename = "eventsBehind", skip_serializing_if = "Option::is_none")]
    pub events_behind: Option<u64>,
    /// The engine holding its lease and until when (ms since the epoch).
    #[serde(rename = "leaseOwner", skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    /// Failures since its last success, and the last one.
    pub failures: u64,
    /// The last failure.
    #[serde(rename = "lastError", skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Engine {
    /// Where every shared reactor of the store stands, and how far this engine's genealogy index is behind.
    pub async fn reactor_status(&self) -> Result<Vec<ReactorStatus>, StoreError> {
        let store = self.store();
        let mut out = Vec::new();
        for s in store.reactor_states().await? {
            let pending = store.outbox_after(s.done_id, 10_000).await?;
            out.push(ReactorStatus {
                name: s.name,
                kind: "shared",
                done_id: Some(s.done_id),
                pending_entries: pending.len(),
                oldest_pending: pending.first().map(|e| e.created.clone()),
                events_behind: None,
                lease_owner: s.lease_owner,
                failures: s.failures,
                last_error: s.last_error,
            });
        }
        let last = store.stats().await?.last_seq;
        out.push(ReactorStatus {
            name: TraceIndex.name().to_string(),
            kind: "local",
            done_id: None,
            pending_entries: 0,
            oldest_pending: None,
            events_behind: Some(last.saturating_sub(self.tracer().applied_seq())),
            lease_owner: None,
            failures: 0,
            last_error: None,
        });
        Ok(out)
    }
}
