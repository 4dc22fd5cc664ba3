//! Production and warehouse operations over the one write path: master data ([`master`]), work orders
//! ([`orders`]), station scans ([`station`]), warehouse moves, packing and shipping ([`warehouse`]), process
//! parameters ([`params`]), alerts ([`alerts`]) and their figures ([`figures`]). Every action becomes events
//! through [`Engine::capture_events`], so the validators (here: [`rules::OpsRules`]) judge them as they judge
//! an EPCIS capture. Inventory and work orders are folds of the ledger (`suyuan_ops`), kept in memory and
//! brought up to the last stored event before every read, so a read after a write sees it and a rebuild
//! from the first event gives the same figures.

pub mod alerts;
pub mod figures;
pub mod master;
pub mod orders;
pub mod params;
pub mod rules;
pub mod snapshot;
pub mod station;
pub mod warehouse;
pub mod widgets;

use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};
use suyuan_core::Event;
use suyuan_ops::checks::Refusal;
use suyuan_ops::inventory::Inventory;
use suyuan_ops::kinds::FieldProblem;
use suyuan_ops::workorder::WorkOrders;
use suyuan_store::{Store, StoreError};

use crate::{CaptureError, CaptureOutcome, Engine};

pub use figures::Production;

/// Why an operation was not done; nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Fields of the request are wrong (each named, with what was expected).
    #[error("invalid request: {}", .0.iter().map(|p| format!("{}: {}", p.field, p.expected)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldProblem>),
    /// The shop floor's or the warehouse's rules refuse it.
    #[error("{0}")]
    Refused(Refusal),
    /// Something named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write path refused it or failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The file could not be read.
    #[error(transparent)]
    Import(#[from] suyuan_ops::import::ImportError),
}

impl From<StoreError> for OpsError {
    fn from(e: StoreError) -> Self {
        OpsError::Capture(CaptureError::Store(e))
    }
}

impl From<Refusal> for OpsError {
    fn from(r: Refusal) -> Self {
        OpsError::Refused(r)
    }
}

/// Located problems — (field, what was expected) — as the operations API answers them.
pub(crate) fn problems(list: impl IntoIterator<Item = (String, String)>) -> OpsError {
    OpsError::Invalid(
        list.into_iter()
            .map(|(field, expected)| FieldProblem { field, expected })
            .collect(),
    )
}

/// One problem in a field.
pub(crate) fn problem(field: &str, expected: impl Into<String>) -> OpsError {
    OpsError::Invalid(vec![FieldProblem {
        field: field.into(),
        expected: expected.into(),
    }])
}

/// The projections of operations: inventory, work orders and production figures.
#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpsState {
    /// Stock by product, lot, location and status.
    pub inventory: Inventory,
    /// Every work order.
    pub orders: WorkOrders,
    /// Output, scrap, inspections and shipments by day, shift, line and product.
    pub production: Production,
    /// Inspections, holds, nonconformance reports and sampling schemes.
    pub quality: crate::quality::QualityState,
}

impl OpsState {
    /// Folds one event into every projection.
    pub fn apply(&mut self, e: &Event, offset_minutes: i32) {
        // Units the plant ships: the first shipment of each (a distributor's onward delivery is not ours),
        // a pallet counting the cans inside it.
        let shipped = figures::shipped_by_us(&self.inventory, e);
        self.inventory.apply(e);
        self.orders.apply(e);
        self.production
            .apply(e, &self.orders, offset_minutes, shipped);
        self.quality.apply(e);
    }
}

/// The operations projections and how far they have read the ledger.
#[derive(Debug, Default)]
pub struct Ops {
    state: RwLock<OpsState>,
    seq: AtomicU64,
    catching_up: tokio::sync::Mutex<()>,
    /// Serialises the checks and writes of the warehouse and work-order commands.
    pub(crate) writing: tokio::sync::Mutex<()>,
    /// Serialises station scans of one lot, unit or work order (two stations cannot both take the last of
    /// a lot), while scans of different things run and commit together.
    pub(crate) objects: KeyedLocks,
    /// Where the projections are saved between runs, and how far that has come.
    saved: crate::snapshot::Saved,
}

/// One lock per key, made when first asked for and dropped when nobody holds it.
#[derive(Debug, Default)]
pub struct KeyedLocks {
    locks: std::sync::Mutex<
        std::collections::HashMap<String, std::sync::Weak<tokio::sync::Mutex<()>>>,
    >,
}

impl KeyedLocks {
    /// Waits for the lock of `key`.
    pub async fn lock(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() > 4096 {
                map.retain(|_, w| w.strong_count() > 0);
            }
            match map.get(key).and_then(std::sync::Weak::upgrade) {
                Some(l) => l,
                None => {
                    let l = std::sync::Arc::new(tokio::sync::Mutex::new(()));
                    map.insert(key.to_string(), std::sync::Arc::downgrade(&l));
                    l
                }
            }
        };
        lock.lock_owned().await
    }
}

const PAGE: u32 = 5_000;

/// The plant's offset from UTC in minutes (`SUYUAN_UTC_OFFSET`, default +08:00), for days and shifts.
pub fn plant_offset_minutes() -> i32 {
    let raw = std::env::var("SUYUAN_UTC_OFFSET").unwrap_or_else(|_| "+08:00".into());
    let (sign, rest) = match raw.as_bytes().first() {
        Some(b'-') => (-1, &raw[1..]),
        Some(b'+') => (1, &raw[1..]),
        _ => (1, raw.as_str()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let minutes = h.parse::<i32>().unwrap_or(8) * 60 + m.parse::<i32>().unwrap_or(0);
    sign * minutes.clamp(0, 14 * 60)
}

impl Ops {
    /// Projections saved to, and at start loaded from, the snapshot file `path`.
    pub fn with_snapshot(path: std::path::PathBuf) -> Self {
        Ops {
            saved: crate::snapshot::Saved::at(path),
            ..Ops::default()
        }
    }

    /// Reads what was stored since the last call.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<(), StoreError> {
        let _one = self.catching_up.lock().await;
        self.read_until(store, u64::MAX).await
    }

    /// Folds in stored events after the last one folded, up to seq `until` (the caller holds the lock).
    async fn read_until(&self, store: &dyn Store, until: u64) -> Result<(), StoreError> {
        self.load_snapshot_once(store).await;
        let offset = plant_offset_minutes();
        loop {
            let at = self.seq.load(Ordering::Acquire);
            if at >= until {
                break;
            }
            let want = (until - at).min(u64::from(PAGE)) as u32;
            let page = store.events_after(at, want).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            // Parsing is CPU work: on the blocking pool, so requests are not queued behind a long catch-up.
            let parsed: Vec<Event> = tokio::task::spawn_blocking(move || {
                page.iter()
                    .filter(|e| e.seq <= until)
                    .filter_map(|e| match suyuan_epcis::jsonld::parse_stored(&e.event) {
                        Ok(v) => Some(v),
                        Err(err) => {
                            tracing::warn!(seq = e.seq, error = %err, "an event the operations projections cannot read");
                            None
                        }
                    })
                    .flatten()
                    .collect()
            })
            .await
            .map_err(|e| StoreError::Backend(format!("operations task failed: {e}")))?;
            {
                let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
                for e in &parsed {
                    s.apply(e, offset);
                }
            }
            self.seq.store(last.min(until), Ordering::Release);
        }
        Ok(())
    }

    /// Folds in events this engine has just stored, without reading them back, when they follow the
    /// projections' last event directly (else the next read catches up from the store).
    pub(crate) async fn follow(
        &self,
        store: &dyn Store,
        appended: &[suyuan_store::Appended],
        events: &[Event],
    ) {
        if appended.len() != events.len() {
            return;
        }
        let _one = self.catching_up.lock().await;
        let mut new: Vec<(u64, &Event)> = appended
            .iter()
            .zip(events)
            .filter(|(a, _)| !a.duplicate)
            .map(|(a, e)| (a.seq, e))
            .collect();
        new.sort_by_key(|(seq, _)| *seq);
        let (Some(first), Some(last)) = (new.first().map(|x| x.0), new.last().map(|x| x.0)) else {
            return;
        };
        // What others stored before ours is read first (an administrative change, another server's capture).
        if self.seq.load(Ordering::Acquire) + 1 < first
            && self.read_until(store, first - 1).await.is_err()
        {
            return;
        }
        if first != self.seq.load(Ordering::Acquire) + 1 || last - first + 1 != new.len() as u64 {
            return;
        }
        let offset = plant_offset_minutes();
        {
            let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
            for (_, e) in &new {
                s.apply(e, offset);
            }
        }
        self.seq.store(last, Ordering::Release);
    }

    /// The projections, for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, OpsState> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Highest event seq folded in.
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }
}

/// Builds one event from its JSON-LD (the EPCIS context and `sy:` added), checked as a capture is.
pub(crate) fn event(mut v: Value) -> Result<Event, OpsError> {
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "@context".into(),
            serde_json::json!([crate::submit::EPCIS_CONTEXT, {"sy": crate::audit::SY_NS}]),
        );
    }
    let mut list =
        suyuan_epcis::parse_capture(&v).map_err(|e| OpsError::Capture(CaptureError::Invalid(e)))?;
    list.pop().ok_or(OpsError::Capture(CaptureError::Empty))
}

/// Now, as an EPCIS event time.
pub(crate) fn now_text() -> String {
    suyuan_core::time::format_utc_millis(chrono::Utc::now())
}

/// An eventID derived from a client's request id, so a retried request is stored once.
pub(crate) fn event_id_for(scope: &str, request_id: &str) -> String {
    let h = crate::audit::sha256_hex(&format!("{scope}\u{1f}{request_id}"));
    format!(
        "urn:uuid:{}-{}-5{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

impl Engine {
    /// The operations projections, brought up to the last stored event.
    pub async fn operations(&self) -> Result<RwLockReadGuard<'_, OpsState>, StoreError> {
        self.ops.catch_up(self.store().as_ref()).await?;
        self.save_snapshots_if_due();
        Ok(self.ops.read())
    }

    /// The seq the operations projections' last snapshot (written or loaded) reaches; 0 when none.
    pub fn operations_snapshot_seq(&self) -> u64 {
        self.ops.snapshot_seq()
    }

    /// Builds the operations projections afresh from the first event (for checking a live projection
    /// against the ledger).
    pub async fn rebuild_operations(&self) -> Result<OpsState, StoreError> {
        let fresh = Ops::default();
        fresh.catch_up(self.store().as_ref()).await?;
        Ok(fresh.state.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// Records events made by an operations command through the validators, all or nothing.
    pub(crate) async fn record(&self, events: Vec<Event>) -> Result<CaptureOutcome, OpsError> {
        let out = self.capture_events(events).await?;
        self.ops.catch_up(self.store().as_ref()).await?;
        Ok(out)
    }
}
