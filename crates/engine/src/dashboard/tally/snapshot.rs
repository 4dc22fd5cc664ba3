//! The dashboard's running counts saved between runs (see [`crate::snapshot`]), so that after a restart the
//! first dashboard counts only the events and scans that came after the snapshot.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use suyuan_store::Store;

use super::{Counts, Tally};
use crate::snapshot::{Saved, encode};

/// What a dashboard snapshot file starts with.
const KIND: &[u8; 8] = b"SYDASHSN";
/// The counts, as logs name them.
const WHAT: &str = "dashboard counts";

impl Tally {
    /// Counts saved to, and at start loaded from, the snapshot file `path`.
    pub fn with_snapshot(path: std::path::PathBuf) -> Self {
        Tally {
            saved: Saved::at(path),
            ..Tally::default()
        }
    }

    /// At the first read, starts from the snapshot when it belongs to this build, this ledger and this scan
    /// log; otherwise everything is counted from the first event (the reason is logged). The caller holds the
    /// catch-up lock.
    pub(super) async fn load_snapshot_once(&self, store: &dyn Store) {
        let Some(((scan_id, counts), header, started)) = self
            .saved
            .load::<(u64, Counts)>(KIND, store, self.seq(), WHAT)
            .await
        else {
            return;
        };
        // The scan log is the store's too: the last scan counted must be in it.
        let scans = match scan_id {
            0 => Ok(true),
            id => store
                .scans_after(id - 1, 1)
                .await
                .map(|s| s.first().is_some_and(|(got, _)| *got == id)),
        };
        if !matches!(scans, Ok(true)) {
            tracing::warn!(
                scan_id,
                "{WHAT} snapshot does not match this scan log; reading the ledger"
            );
            return;
        }
        *self.write() = counts;
        self.seq.store(header.seq, Ordering::Release);
        self.scan_id.store(scan_id, Ordering::Release);
        self.saved.loaded(header.seq, started, WHAT);
    }

    /// The seq the last snapshot written or loaded reaches (0 when none).
    pub fn snapshot_seq(&self) -> u64 {
        self.saved.seq()
    }

    /// Whether enough was counted since the last snapshot to write a new one.
    pub fn snapshot_due(&self) -> bool {
        self.saved.due(self.seq())
    }

    /// Saves the counts to their snapshot unless it is current. With `wait` false, a save already running
    /// makes this one a no-op; with it true (a shutdown), this one waits and then saves.
    pub async fn save_snapshot(self: &Arc<Self>, store: &dyn Store, wait: bool) {
        let me = self.clone();
        self.saved
            .save(
                store,
                wait,
                &self.catching_up,
                || self.seq(),
                WHAT,
                move |h| {
                    let scan_id = me.scan_id.load(Ordering::Acquire);
                    encode(KIND, &(scan_id, &*me.read()), &h)
                },
            )
            .await;
    }
}
