//! The operations projections saved between runs (see [`crate::snapshot`]): to `operations.snapshot`, loaded
//! at the first read when it belongs to this build, this ledger and this plant's time zone.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use suyuan_store::Store;

use super::{Ops, OpsState, plant_offset_minutes};
use crate::snapshot::encode;

/// What an operations snapshot file starts with.
const KIND: &[u8; 8] = b"SYOPSNAP";
/// The projections, as logs name them.
const WHAT: &str = "operations projections";

impl Ops {
    /// At the first read, starts the projections from their snapshot when it is valid for this build, this
    /// plant and this ledger; otherwise they are folded from the first event (the reason is logged). The
    /// caller holds the catch-up lock.
    pub(crate) async fn load_snapshot_once(&self, store: &dyn Store) {
        let Some((state, header, started)) = self
            .saved
            .load::<OpsState>(KIND, store, self.seq(), WHAT)
            .await
        else {
            return;
        };
        if header.offset_minutes != plant_offset_minutes() {
            tracing::warn!(
                "{WHAT} snapshot counted days in another time zone (SUYUAN_UTC_OFFSET); reading the ledger"
            );
            return;
        }
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = state;
        self.seq.store(header.seq, Ordering::Release);
        self.saved.loaded(header.seq, started, WHAT);
    }

    /// The seq the last snapshot written or loaded reaches (0 when none).
    pub fn snapshot_seq(&self) -> u64 {
        self.saved.seq()
    }

    /// Whether enough was folded since the last snapshot to write a new one.
    pub fn snapshot_due(&self) -> bool {
        self.saved.due(self.seq())
    }

    /// Saves the projections to their snapshot unless it is current. With `wait` false, a save already
    /// running makes this one a no-op; with it true (a shutdown), this one waits and then saves.
    pub async fn save_snapshot(self: &Arc<Self>, store: &dyn Store, wait: bool) {
        let me = self.clone();
        self.saved
            .save(
                store,
                wait,
                &self.catching_up,
                || self.seq(),
                WHAT,
                move |h| encode(KIND, &*me.read(), &h),
            )
            .await;
    }
}
