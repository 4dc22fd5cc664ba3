//! Read access for the server and the tools: every read of the store and nothing that writes. Pages, API
//! handlers and features change state only through [`Engine::submit`] or an engine command (which stores the
//! change with its ledger event); this type is how the store stays sealed behind the engine.

use serde_json::Value;
use std::sync::Arc;
use suyuan_epcis::masterdata::VocabularyElement;
use suyuan_store::{
    AccessEntry, IssuedCode, ObjectState, OutboxEntry, ReactorState, ScanRecord, Stats,
    StepPosition, Store, StoreError, StoredCheckpoint, StoredDefinition, StoredEvent,
};

use crate::Engine;

/// Every read of the store, for the server and the tools.
#[derive(Clone)]
pub struct Reader(Arc<dyn Store>);

impl Engine {
    /// Read access to the store.
    pub fn reader(&self) -> Reader {
        Reader(self.store().clone())
    }
}

impl Reader {
    /// Backend name for logs and metrics (`sqlite`, `postgres`).
    pub fn backend(&self) -> &'static str {
        self.0.backend()
    }

    /// The stored event with this eventID (the original, not a later error declaration).
    pub async fn event_by_id(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        self.0.event_by_id(event_id).await
    }

    /// The stored events with one of these eventIDs — each original and, where there is one, its error
    /// declaration — after `after_seq`, in seq order.
    pub async fn events_with_ids(
        &self,
        ids: &[String],
        after_seq: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.events_with_ids(ids, after_seq).await
    }

    /// Events with `seq > after_seq`, in seq order, at most `limit`.
    pub async fn events_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.events_after(after_seq, limit).await
    }

    /// The latest events, newest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.recent_events(limit).await
    }

    /// The events at these seqs (missing seqs are left out), in seq order.
    pub async fn events_by_seq(&self, seqs: &[u64]) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.events_by_seq(seqs).await
    }

    /// Events whose read point or business location is `place` (a canonical key), after `after_seq`, in seq
    /// order, at most `limit` (served by the place index).
    pub async fn events_at_place(
        &self,
        place: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.events_at_place(place, after_seq, limit).await
    }

    /// Like [`suyuan_store::EventLog::events_at_place`] for any of several places: each place's page, merged by seq.
    pub async fn events_at_places(
        &self,
        places: &[String],
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.events_at_places(places, after_seq, limit).await
    }

    /// Events with business step `step` and an event time in `[from_ms, to_ms)` (either bound optional),
    /// after position `after`, ordered by [`suyuan_store::StepPosition`], at most `limit` (served by an index on step and time).
    pub async fn events_of_step(
        &self,
        step: &str,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        after: StepPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0
            .events_of_step(step, from_ms, to_ms, after, limit)
            .await
    }

    /// Like [`suyuan_store::EventLog::events_of_step`] for any of several steps: each step's page, merged by position.
    pub async fn events_by_step(
        &self,
        steps: &[String],
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        after: StepPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0
            .events_by_step(steps, from_ms, to_ms, after, limit)
            .await
    }

    /// Current state of an object.
    pub async fn object(&self, key: &str) -> Result<Option<ObjectState>, StoreError> {
        self.0.object(key).await
    }

    /// Events naming an object, oldest first, at most `limit` after `after_seq`.
    pub async fn object_history(
        &self,
        key: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.object_history(key, after_seq, limit).await
    }

    /// Like [`Projections::object_history`] for several objects: each one's page, merged by seq.
    pub async fn objects_history(
        &self,
        keys: &[String],
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.0.objects_history(keys, after_seq, limit).await
    }

    /// Current state of many objects at once (unknown keys are left out).
    pub async fn objects(&self, keys: &[String]) -> Result<Vec<ObjectState>, StoreError> {
        self.0.objects(keys).await
    }

    /// Objects currently inside a container.
    pub async fn contents(
        &self,
        container: &str,
        limit: u32,
    ) -> Result<Vec<ObjectState>, StoreError> {
        self.0.contents(container, limit).await
    }

    /// What the search index holds under exactly `term`: (kind, target) rows in target order, at most
    /// `limit` (see `suyuan_core::search` for the kinds).
    pub async fn search_terms(
        &self,
        term: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.0.search_terms(term, limit).await
    }

    /// The total scan count of an object and its latest scans, newest first.
    pub async fn scans(
        &self,
        object: &str,
        limit: u32,
    ) -> Result<(u64, Vec<ScanRecord>), StoreError> {
        self.0.scans(object, limit).await
    }

    /// A version of a definition (the latest when `version` is `None`).
    pub async fn definition(
        &self,
        kind: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredDefinition>, StoreError> {
        self.0.definition(kind, name, version).await
    }

    /// Every version of a definition, oldest first.
    pub async fn definition_versions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, StoreError> {
        self.0.definition_versions(kind, name).await
    }

    /// The latest version of every definition of a kind, by name.
    pub async fn definitions(&self, kind: &str) -> Result<Vec<StoredDefinition>, StoreError> {
        self.0.definitions(kind).await
    }

    /// The issued codes with this code text or identity.
    pub async fn issued(&self, code_or_uri: &str) -> Result<Vec<IssuedCode>, StoreError> {
        self.0.issued(code_or_uri).await
    }

    /// Which of these identities (URIs) are registered, revoked or not, in one read.
    pub async fn issued_uris(&self, uris: &[String]) -> Result<Vec<String>, StoreError> {
        self.0.issued_uris(uris).await
    }

    /// How many codes a rule has issued.
    pub async fn issued_count(&self, rule: &str) -> Result<u64, StoreError> {
        self.0.issued_count(rule).await
    }

    /// `(seq, leaf hash)` of the events after `after_seq`, in seq order, at most `limit`.
    pub async fn leaf_hashes(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        self.0.leaf_hashes(after_seq, limit).await
    }

    /// `(seq, event hash, leaf hash)` of the events at these seqs (missing seqs are left out), in seq order.
    pub async fn record_hashes(
        &self,
        seqs: &[u64],
    ) -> Result<Vec<(u64, String, String)>, StoreError> {
        self.0.record_hashes(seqs).await
    }

    /// How many leaves the stored tree covers.
    pub async fn tree_size(&self) -> Result<u64, StoreError> {
        self.0.tree_size().await
    }

    /// The stored hashes at these indexes, in the order asked (an index not stored is an error).
    pub async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        self.0.tree_hashes(indexes).await
    }

    /// Every checkpoint, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.0.checkpoints().await
    }

    /// The checkpoint of tree size `size`, or the latest when `None`.
    pub async fn checkpoint(
        &self,
        size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.0.checkpoint(size).await
    }

    /// One record.
    pub async fn account(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError> {
        self.0.account(kind, id).await
    }

    /// Every record of a kind, by id.
    pub async fn accounts(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError> {
        self.0.accounts(kind).await
    }

    /// The newest access log entries (of one user, when given), newest first.
    pub async fn access_log(
        &self,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        self.0.access_log(user, limit).await
    }

    /// The elements of these vocabulary types (all when empty), by type then id.
    pub async fn master_data(
        &self,
        vtypes: &[String],
    ) -> Result<Vec<VocabularyElement>, StoreError> {
        self.0.master_data(vtypes).await
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.0.ping().await
    }

    /// Counts.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        self.0.stats().await
    }

    /// Entries after `after_id`, in order, at most `limit`.
    pub async fn outbox_after(
        &self,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.0.outbox_after(after_id, limit).await
    }

    /// Every reactor's state, by name.
    pub async fn reactor_states(&self) -> Result<Vec<ReactorState>, StoreError> {
        self.0.reactor_states().await
    }
}
