//! The live genealogy index over a store: rebuilt from the ledger, and kept current by reading the events
//! appended since (the ledger is the source of truth, so a lost or stale index heals itself).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use suyuan_store::{Store, StoreError};
use suyuan_trace::TraceIndex;

use crate::snapshot::{ledger_tag, worth_saving};

/// Events read per step while catching up.
const PAGE: u32 = 2000;
/// One stored event read for the index.
struct Parsed {
    seq: u64,
    event_id: String,
    event: Option<suyuan_core::Event>,
    /// For an error declaration: the declared event and its seq.
    declared: Option<(suyuan_core::Event, u64)>,
}

fn parse(v: &serde_json::Value) -> Option<suyuan_core::Event> {
    suyuan_epcis::jsonld::parse_stored(v)
        .ok()
        .and_then(|mut v| v.pop())
}

/// A [`TraceIndex`] that follows a store's ledger.
#[derive(Default)]
pub struct Tracer {
    index: RwLock<TraceIndex>,
    applied: AtomicU64,
    catching_up: tokio::sync::Mutex<()>,
    /// Where the index is saved between runs, if anywhere.
    snapshot: Option<PathBuf>,
    /// Whether loading the snapshot was tried (once, at the first catch-up).
    tried_snapshot: AtomicBool,
    /// Seq covered by the last snapshot written or loaded.
    saved_seq: AtomicU64,
    saving: std::sync::Mutex<()>,
}

impl Tracer {
    /// An empty tracer; [`Tracer::catch_up`] fills it.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A tracer that starts from the snapshot at `path` when it is valid for the store, and saves there.
    pub fn with_snapshot(path: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            snapshot: Some(path),
            ..Self::default()
        })
    }

    /// Highest seq in the index.
    pub fn applied_seq(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    fn write(&self) -> RwLockWriteGuard<'_, TraceIndex> {
        match self.index.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Read access to the index.
    pub fn read(&self) -> RwLockReadGuard<'_, TraceIndex> {
        match self.index.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Applies every stored event after the last applied one, in seq order; logs progress on long runs.
    pub async fn catch_up(self: &Arc<Self>, store: &Arc<dyn Store>) -> Result<u64, StoreError> {
        let _one_at_a_time = self.catching_up.lock().await;
        if !self.tried_snapshot.swap(true, Ordering::AcqRel) {
            self.load_snapshot(store).await;
        }
        let started = std::time::Instant::now();
        let mut done = 0u64;
        loop {
            let after = self.applied_seq();
            let page = store.events_after(after, PAGE).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            // Parsing and applying a page is CPU work: it runs on the blocking pool, so that requests are never
            // queued behind an index being built (a restart after a crash rebuilds it while captures go on).
            let mut parsed: Vec<Parsed> = tokio::task::spawn_blocking(move || {
                page.into_iter()
                    .map(|s| Parsed {
                        seq: s.seq,
                        event: parse(&s.event),
                        event_id: s.event_id,
                        declared: None,
                    })
                    .collect()
            })
            .await
            .map_err(|e| StoreError::Backend(format!("trace index task failed: {e}")))?;
            // An error declaration withdraws the event first stored under its eventID.
            for p in &mut parsed {
                if p.event
                    .as_ref()
                    .is_some_and(|e| e.error_declaration.is_some())
                    && let Some(original) = store.event_by_id(&p.event_id).await?
                    && original.seq < p.seq
                {
                    p.declared = parse(&original.event).map(|e| (e, original.seq));
                }
            }
            let this = self.clone();
            done += tokio::task::spawn_blocking(move || {
                let mut index = this.write();
                for p in &parsed {
                    match &p.event {
                        Some(e) => index.apply(e, &p.event_id, p.seq),
                        None => tracing::error!(
                            seq = p.seq,
                            "stored event does not parse; left out of the trace index"
                        ),
                    }
                    if let Some((original, seq)) = &p.declared {
                        index.retract(original, *seq);
                    }
                }
                this.applied.store(last, Ordering::Release);
                parsed.len() as u64
            })
            .await
            .map_err(|e| StoreError::Backend(format!("trace index task failed: {e}")))?;
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

    /// The seq covered by the snapshot last loaded or written (0 when none).
    pub fn snapshot_seq(&self) -> u64 {
        self.saved_seq.load(Ordering::Acquire)
    }

    /// Whether enough was applied since the last snapshot to write a new one.
    pub fn snapshot_due(&self) -> bool {
        self.snapshot.is_some()
            && worth_saving(self.applied_seq(), self.saved_seq.load(Ordering::Acquire))
    }

    /// Loads the snapshot if it exists, reads back cleanly and matches the store's ledger at its seq;
    /// otherwise the index is rebuilt from the ledger (the reason is logged).
    async fn load_snapshot(&self, store: &Arc<dyn Store>) {
        let Some(path) = self.snapshot.clone() else {
            return;
        };
        if !path.exists() || self.applied_seq() > 0 {
            return;
        }
        let started = std::time::Instant::now();
        let loaded = tokio::task::spawn_blocking(move || read_snapshot(&path)).await;
        let (index, header) = match loaded {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "trace snapshot not used; rebuilding from the ledger");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "trace snapshot not used; rebuilding from the ledger");
                return;
            }
        };
        match ledger_tag(store.as_ref(), header.last_seq).await {
            Ok(Some(tag)) if tag == header.tag => {}
            Ok(_) => {
                tracing::warn!(
                    seq = header.last_seq,
                    "trace snapshot does not match this ledger; rebuilding from the ledger"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "trace snapshot not checked; rebuilding from the ledger");
                return;
            }
        }
        tracing::info!(
            seq = header.last_seq,
            nodes = index.node_count(),
            edges = index.edge_count(),
            secs = started.elapsed().as_secs_f64(),
            "trace index loaded from its snapshot"
        );
        *self.write() = index;
        self.applied.store(header.last_seq, Ordering::Release);
        self.saved_seq.store(header.last_seq, Ordering::Release);
    }

    /// Writes the index to its snapshot file (to a temporary file first, then renamed), tagged with the
    /// ledger's leaf hash at the last applied seq. Blocking; a save already running makes this a no-op.
    pub fn save_snapshot(&self, tag: &[u8]) -> std::io::Result<bool> {
        let Some(path) = self.snapshot.as_deref() else {
            return Ok(false);
        };
        let Ok(_one) = self.saving.try_lock() else {
            return Ok(false);
        };
        self.write().compact();
        let index = self.read();
        let seq = index.last_seq();
        let tmp = crate::snapshot::temporary(path);
        let written = (|| {
            let file = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            index
                .write_snapshot(&mut w, tag)
                .map_err(std::io::Error::other)?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        drop(index);
        if let Err(e) = written {
            // A failed snapshot (a full disk) must not keep taking space from the store.
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.saved_seq.store(seq, Ordering::Release);
        Ok(true)
    }

    /// Saves the snapshot if one is due, on a blocking thread (the tag is read from the store first).
    pub async fn save_if_due(self: &Arc<Self>, store: &Arc<dyn Store>) {
        if !self.snapshot_due() {
            return;
        }
        self.save_now(store).await;
    }

    /// Saves the snapshot now (on shutdown, for instance), unless it is current already.
    pub async fn save_now(self: &Arc<Self>, store: &Arc<dyn Store>) {
        let _no_catch_up = self.catching_up.lock().await;
        let seq = self.read().last_seq();
        if self.snapshot.is_none() || seq == 0 || seq == self.saved_seq.load(Ordering::Acquire) {
            return;
        }
        let tag = match ledger_tag(store.as_ref(), seq).await {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "trace snapshot not saved");
                return;
            }
        };
        let me = self.clone();
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || me.save_snapshot(&tag)).await {
            Ok(Ok(true)) => tracing::info!(
                seq,
                secs = started.elapsed().as_secs_f64(),
                "trace index snapshot saved"
            ),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "trace snapshot not saved"),
            Err(e) => tracing::warn!(error = %e, "trace snapshot not saved"),
        }
    }
}

fn read_snapshot(
    path: &Path,
) -> Result<
    (TraceIndex, suyuan_trace::snapshot::SnapshotHeader),
    suyuan_trace::snapshot::SnapshotError,
> {
    TraceIndex::read_snapshot(|| {
        Ok(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path)?,
        ))
    })
}
