//! The trace report: an object's story as the reader may see it, each event with its hashes and an inclusion
//! proof checked against the latest signed checkpoint, so that a regulator can verify every fact offline with
//! the ledger's public key.

use serde::Serialize;
use suyuan_core::access::RowScope;
use suyuan_store::{StoreError, StoredCheckpoint};

use crate::Engine;
use crate::ledger::LedgerError;
use crate::story::StoryEvent;

/// Events a report lists at most.
pub const MAX_EVENTS: usize = 500;

/// One event of a report with its proof.
#[derive(Debug, Clone, Serialize)]
pub struct ReportEvent {
    /// The story event.
    #[serde(skip)]
    pub story: StoryEvent,
    /// Its eventID.
    pub event_id: String,
    /// Canonical event hash.
    pub event_hash: String,
    /// RFC 6962 leaf hash (hex).
    pub leaf_hash: String,
    /// The inclusion proof's sibling hashes.
    pub proof: Vec<String>,
    /// Whether the proof leads from the leaf to the checkpoint's root.
    pub verified: bool,
}

/// A trace report.
#[derive(Debug, Clone)]
pub struct TraceReport {
    /// The object.
    pub key: String,
    /// The checkpoint it is built on.
    pub checkpoint: Option<StoredCheckpoint>,
    /// Whether the checkpoint's signature verifies with the ledger's key.
    pub signature_ok: bool,
    /// Its events, oldest first.
    pub events: Vec<ReportEvent>,
    /// Events left out beyond [`MAX_EVENTS`].
    pub more: usize,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No event the reader may see names the object.
    #[error("no visible event names {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger could not prove an event.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl Engine {
    /// The trace report of `key` for a reader with row scope `rows`, checked against the latest checkpoint
    /// (its signature with `verifier_key` when given).
    pub async fn trace_report(
        &self,
        rows: &RowScope,
        key: &str,
        verifier_key: Option<&str>,
    ) -> Result<TraceReport, ReportError> {
        let story = self
            .story(key)
            .await?
            .ok_or_else(|| ReportError::NotFound(key.to_string()))?;
        let mut visible: Vec<StoryEvent> = story
            .events
            .into_iter()
            .filter(|e| rows.event_visible(&e.event))
            .collect();
        if visible.is_empty() {
            return Err(ReportError::NotFound(key.to_string()));
        }
        let more = visible.len().saturating_sub(MAX_EVENTS);
        visible.truncate(MAX_EVENTS);
        let checkpoint = self.store().checkpoint(None).await?;
        let signature_ok = match (&checkpoint, verifier_key) {
            (Some(c), Some(k)) => suyuan_ledger::checkpoint::verify(&c.note, k).is_ok(),
            _ => false,
        };
        let seqs: Vec<u64> = visible.iter().map(|e| e.seq).collect();
        let hashes = self.store().record_hashes(&seqs).await?;
        let ids = self.store().events_by_seq(&seqs).await?;
        let mut events = Vec::with_capacity(visible.len());
        for e in visible {
            let (event_hash, leaf_hash) = hashes
                .iter()
                .find(|h| h.0 == e.seq)
                .map(|h| (h.1.clone(), h.2.clone()))
                .unwrap_or_default();
            let event_id = ids
                .iter()
                .find(|s| s.seq == e.seq)
                .map(|s| s.event_id.clone())
                .unwrap_or_default();
            let (proof, verified) = match &checkpoint {
                Some(c) if e.seq <= c.size => {
                    let p = self.inclusion(e.seq, Some(c.size)).await?;
                    let ok = check(&p.proof, c.size, &c.root, e.seq, &p.leaf_hash)
                        && p.leaf_hash == leaf_hash;
                    (p.proof, ok)
                }
                _ => (Vec::new(), false),
            };
            events.push(ReportEvent {
                story: e,
                event_id,
                event_hash,
                leaf_hash,
                proof,
                verified,
            });
        }
        Ok(TraceReport {
            key: suyuan_core::projection::object_key(key),
            checkpoint,
            signature_ok,
            events,
            more,
        })
    }
}

fn hash(hex_text: &str) -> Option<[u8; 32]> {
    hex::decode(hex_text).ok()?.try_into().ok()
}

/// Whether `proof` leads from `leaf` at `seq` to `root` in the tree of `size` leaves.
fn check(proof: &[String], size: u64, root: &str, seq: u64, leaf: &str) -> bool {
    let (Some(root), Some(leaf)) = (hash(root), hash(leaf)) else {
        return false;
    };
    let Some(path) = proof.iter().map(|h| hash(h)).collect::<Option<Vec<_>>>() else {
        return false;
    };
    suyuan_ledger::tree::check_inclusion(&path, size, root, seq - 1, leaf).is_ok()
}
