//! Storage for Suyuan: the [`Store`] trait (split by capability), an embedded SQLite backend with group
//! commit and a PostgreSQL backend, plus the conformance [`suite`] that both must pass.

pub mod objects;
pub mod postgres;
pub mod sqlite;
pub mod suite;
mod suite_commit;
mod suite_search;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use suyuan_core::Event;
use suyuan_core::masterdata::VocabularyElement;
use suyuan_core::projection::ProjectionOp;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Errors of a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An eventID is already stored with different content; the whole batch was rejected.
    #[error(
        "eventID {event_id} is already stored (seq {seq}) with different content: stored hash {stored_hash}, sent {sent_hash}"
    )]
    Conflict {
        /// The eventID.
        event_id: String,
        /// Seq of the stored event.
        seq: u64,
        /// Hash of the stored event.
        stored_hash: String,
        /// Hash of the rejected one.
        sent_hash: String,
    },
    /// The database failed; the batch was not stored.
    #[error("database error: {0}")]
    Backend(String),
    /// An issued code's identity is already registered; nothing of the batch was registered.
    #[error("code {code} ({uri}) was already issued; no code of this batch was registered")]
    DuplicateCode {
        /// The code text.
        code: String,
        /// Its identity.
        uri: String,
    },
    /// The Merkle tree was extended by someone else meanwhile; nothing was written.
    #[error("the Merkle tree is at size {actual}, not {expected}")]
    TreeMoved {
        /// The size the caller extended from.
        expected: u64,
        /// The stored size.
        actual: u64,
    },
    /// An account record with this kind and id already exists; nothing was written.
    #[error("{kind} '{id}' already exists")]
    Exists {
        /// Record kind (see [`account_kinds`]).
        kind: String,
        /// Its id.
        id: String,
    },
    /// A record a commit changes does not exist (or is already in the state asked for); nothing was written.
    #[error("no {kind} '{id}' to change")]
    Missing {
        /// Record kind (`code`, an account kind, …).
        kind: String,
        /// Its id.
        id: String,
    },
    /// A write injected by a test failed on purpose; nothing of the commit was written.
    #[error("injected failure: {0}")]
    Injected(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// Stored data could not be read back (a damaged row).
    #[error("stored data is damaged at seq {seq}: {reason}")]
    Corrupt {
        /// Seq of the damaged row.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// An event ready to append: validated, normalised, hashed, serialised.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The eventID (the event hash when the capture had none).
    pub event_id: String,
    /// What makes a capture a repeat: the eventID, or eventID + `#errorDeclaration` for a correction.
    pub dedup_key: String,
    /// Canonical EPCIS event hash.
    pub event_hash: String,
    /// `ObjectEvent`, …
    pub event_type: String,
    /// Business step as stored (bare CBV value or URI).
    pub biz_step: Option<String>,
    /// Event time, ms since the epoch (UTC).
    pub event_time_ms: i64,
    /// The event in JCS (RFC 8785) form: what is stored and what the leaf hash covers. Readers get the
    /// fields back in the conventional order (`suyuan_core::jsonld::conventional_order`).
    pub body: String,
    /// Projection changes to apply with the event.
    pub ops: Vec<ProjectionOp>,
    /// Its read point and business location (each once) as place index keys ([`place_key`]).
    pub places: Vec<i64>,
    /// What the event puts in the search index besides its new objects' serials, lots and SSCCs
    /// (`suyuan_core::search::event_terms`).
    pub terms: Vec<suyuan_core::search::Term>,
    /// The business transactions it carries (each is linked to the event's seq in the search index).
    pub transactions: Vec<String>,
}

impl NewEvent {
    /// Its search-index rows once stored at `seq`: its own terms and its transactions' links to it.
    pub fn terms_at(&self, seq: u64) -> impl Iterator<Item = suyuan_core::search::Term> + '_ {
        self.terms.iter().cloned().chain(
            self.transactions
                .iter()
                .map(move |t| suyuan_core::search::transaction_event(t, seq)),
        )
    }

    /// Prepares a parsed event: fills a missing eventID with the event hash and serialises it.
    pub fn from_event(mut e: Event) -> NewEvent {
        let event_hash = suyuan_core::event_hash(&e);
        let event_id = e.event_id.get_or_insert_with(|| event_hash.clone()).clone();
        let dedup_key = if e.error_declaration.is_some() {
            declaration_key(&event_id)
        } else {
            event_id.clone()
        };
        let value = suyuan_core::jsonld::event_to_jsonld(&e, !e.namespaces.is_empty());
        let event_time_ms = suyuan_core::time::parse_timestamp(&e.event_time)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0);
        NewEvent {
            event_id,
            dedup_key,
            event_hash,
            event_type: e.event_type.as_str().to_string(),
            biz_step: e.biz_step.clone(),
            event_time_ms,
            body: suyuan_ledger::jcs::canonical_json(&value),
            ops: suyuan_core::projection::projection_ops(&e),
            places: places_of(&value),
            terms: suyuan_core::search::event_terms(&e),
            transactions: e
                .biz_transaction_list
                .iter()
                .map(|b| b.id.clone())
                .collect(),
        }
    }
}

/// The outcome of appending one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    /// The eventID.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Ledger position.
    pub seq: u64,
    /// Canonical event hash.
    #[serde(rename = "eventHash")]
    pub event_hash: String,
    /// RFC 6962 leaf hash (hex).
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// When Suyuan recorded it.
    #[serde(rename = "recordTime")]
    pub record_time: String,
    /// True when the event was already stored and this capture changed nothing.
    pub duplicate: bool,
}

/// A stored event as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Ledger position.
    pub seq: u64,
    /// The eventID.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Canonical event hash.
    #[serde(rename = "eventHash")]
    pub event_hash: String,
    /// RFC 6962 leaf hash (hex).
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// When Suyuan recorded it.
    #[serde(rename = "recordTime")]
    pub record_time: String,
    /// The event (JSON-LD).
    pub event: Value,
}

/// The dedup key of an error declaration of event `event_id` (the original's key is the eventID itself).
fn declaration_key(event_id: &str) -> String {
    format!("{event_id}#errorDeclaration")
}

/// Pages of events in seq order merged into one: each event once, the first `limit`.
fn merged_by_seq(pages: Vec<Vec<StoredEvent>>, limit: u32) -> Vec<StoredEvent> {
    if pages.len() == 1 {
        return pages.into_iter().flatten().collect();
    }
    let mut all: Vec<StoredEvent> = pages.into_iter().flatten().collect();
    all.sort_by_key(|e| e.seq);
    all.dedup_by_key(|e| e.seq);
    all.truncate(limit as usize);
    all
}

/// The place index keys of an event's read point and business location (JSON-LD), each once.
pub(crate) fn places_of(event: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for field in ["readPoint", "bizLocation"] {
        if let Some(id) = event
            .get(field)
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
        {
            let key = place_key(&suyuan_core::projection::object_key(id));
            if !out.contains(&key) {
                out.push(key);
            }
        }
    }
    out
}

/// The place index key of a place's canonical key: its 64-bit FNV-1a hash. Index rows stay 16 bytes instead
/// of a URL each; a collision only adds candidates, which the query's own place filter then drops.
pub fn place_key(canonical: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canonical.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// Where an event stands in event-time order: its event time (Unix milliseconds, as stored for the index)
/// then its seq. Pages of [`EventLog::events_by_step`] continue after one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct StepPosition {
    /// Event time in Unix milliseconds.
    pub event_time_ms: i64,
    /// Ledger position.
    pub seq: u64,
}

impl StepPosition {
    /// Before every event.
    pub const START: StepPosition = StepPosition {
        event_time_ms: i64::MIN,
        seq: 0,
    };

    /// The position of a stored event (its `eventTime` read as the write path reads it).
    pub fn of(e: &StoredEvent) -> StepPosition {
        StepPosition {
            event_time_ms: e
                .event
                .get("eventTime")
                .and_then(Value::as_str)
                .and_then(|t| suyuan_core::time::parse_timestamp(t).ok())
                .map_or(0, |t| t.timestamp_millis()),
            seq: e.seq,
        }
    }
}

impl StoredEvent {
    /// The event as JSON-LD with Suyuan's record time filled in as `recordTime`.
    pub fn event_with_record_time(&self) -> Value {
        let mut v = self.event.clone();
        if let Some(m) = v.as_object_mut() {
            m.insert("recordTime".into(), Value::String(self.record_time.clone()));
        }
        v
    }
}

/// Current state of one object (the first projection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ObjectState {
    /// Object key (canonical Digital Link or the URI as given).
    pub id: String,
    /// Seq of the first event naming it.
    #[serde(rename = "firstSeq")]
    pub first_seq: u64,
    /// Seq of the last event naming it.
    #[serde(rename = "lastSeq")]
    pub last_seq: u64,
    /// How many events name it.
    #[serde(rename = "eventCount")]
    pub event_count: u64,
    /// Last business location.
    pub location: Option<String>,
    /// Last disposition.
    pub disposition: Option<String>,
    /// The container it is in now, if any.
    pub container: Option<String>,
    /// The party it was last handed to (shipping/receiving destination), if any.
    pub party: Option<String>,
}

/// Counts for dashboards and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Stored events.
    pub events: u64,
    /// Known objects.
    pub objects: u64,
    /// Highest seq.
    #[serde(rename = "lastSeq")]
    pub last_seq: u64,
    /// Outbox rows not yet handled by reactions.
    #[serde(rename = "outboxPending")]
    pub outbox_pending: u64,
    /// Consumer scans recorded.
    pub scans: u64,
    /// Bytes the store occupies.
    pub bytes: u64,
}

/// One consumer scan of a code (not an EPCIS event: it lives outside the ledger, DESIGN §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanRecord {
    /// Object key of the scanned item.
    pub object: String,
    /// When (RFC 3339).
    #[serde(rename = "scannedAt")]
    pub scanned_at: String,
    /// Coarse location: city.
    pub city: Option<String>,
    /// Coarse location: province.
    pub province: Option<String>,
    /// How the scan arrived (`qr`, `demo`, …).
    pub channel: String,
}

/// A change to the store's records, written in the same transaction as a [`Commit`]'s events.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Writes a record (a JSON document under a kind and an id: accounts, and the projections features
    /// declare); with `create` it must not exist yet ([`StoreError::Exists`]).
    PutRecord {
        /// Record kind.
        kind: String,
        /// Its id.
        id: String,
        /// The document.
        doc: Value,
        /// Refuse when it exists.
        create: bool,
    },
    /// Deletes a record; with `must_exist` a missing one fails the commit ([`StoreError::Missing`]).
    DeleteRecord {
        /// Record kind.
        kind: String,
        /// Its id.
        id: String,
        /// Fail when it does not exist.
        must_exist: bool,
    },
    /// Stores version `version` of a definition; refused ([`StoreError::Exists`]) when that version is
    /// already stored (someone saved meanwhile: read again and retry).
    Definition {
        /// Definition kind (`coding-rule`, `label-template`, …).
        kind: String,
        /// Its name.
        name: String,
        /// The version this write creates.
        version: u32,
        /// The definition.
        definition: Value,
    },
    /// Marks an issued, unrevoked code (by text or identity) revoked; fails ([`StoreError::Missing`]) when
    /// there is none.
    RevokeCode {
        /// Code text or identity URI.
        code: String,
        /// Why.
        reason: String,
    },
    /// Merges vocabulary elements into the stored master data.
    MasterData(Vec<VocabularyElement>),
    /// Fails the commit after everything before it was written (tests of atomicity only).
    Fail(String),
}

/// Events and record changes that are stored together or not at all.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Events to append (repeats are answered with their stored position).
    pub events: Vec<NewEvent>,
    /// Record changes, applied in order after the events.
    pub writes: Vec<Write>,
}

impl Commit {
    /// A commit of events alone.
    pub fn events(events: Vec<NewEvent>) -> Commit {
        Commit {
            events,
            writes: Vec::new(),
        }
    }

    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.writes.is_empty()
    }

    /// Its size for group-commit accounting (events plus record changes).
    pub fn size(&self) -> usize {
        self.events.len()
            + self
                .writes
                .iter()
                .map(|w| match w {
                    Write::MasterData(m) => m.len(),
                    _ => 1,
                })
                .sum::<usize>()
    }
}

/// Appending and reading the event ledger.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Stores a commit atomically: every new event with its projection changes, search terms and an outbox
    /// row, then the record changes; repeats are answered with their stored position, and a conflicting
    /// eventID or a failing write rejects all of it.
    async fn commit(&self, commit: Commit) -> Result<Vec<Appended>, StoreError>;
    /// Appends a batch atomically ([`EventLog::commit`] of events alone).
    async fn append(&self, batch: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        self.commit(Commit::events(batch)).await
    }
    /// The stored event with this eventID (the original, not a later error declaration).
    async fn event_by_id(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError>;
    /// The stored events with one of these eventIDs — each original and, where there is one, its error
    /// declaration — after `after_seq`, in seq order.
    async fn events_with_ids(
        &self,
        ids: &[String],
        after_seq: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut pages = Vec::new();
        for id in ids {
            for key in [id.clone(), declaration_key(id)] {
                // `event_by_id` looks up the dedup key: the eventID, or the declaration's.
                if let Some(e) = self.event_by_id(&key).await? {
                    pages.push(vec![e]);
                }
            }
        }
        let mut all = merged_by_seq(pages, u32::MAX);
        all.retain(|e| e.seq > after_seq);
        Ok(all)
    }
    /// Events with `seq > after_seq`, in seq order, at most `limit`.
    async fn events_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// The latest events, newest first.
    async fn recent_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;
    /// The events at these seqs (missing seqs are left out), in seq order.
    async fn events_by_seq(&self, seqs: &[u64]) -> Result<Vec<StoredEvent>, StoreError>;
    /// Events whose read point or business location is `place` (a canonical key), after `after_seq`, in seq
    /// order, at most `limit` (served by the place index).
    async fn events_at_place(
        &self,
        place: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Like [`EventLog::events_at_place`] for any of several places: each place's page, merged by seq.
    async fn events_at_places(
        &self,
        places: &[String],
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut pages = Vec::new();
        for place in places {
            pages.push(self.events_at_place(place, after_seq, limit).await?);
        }
        Ok(merged_by_seq(pages, limit))
    }
    /// Events with business step `step` and an event time in `[from_ms, to_ms)` (either bound optional),
    /// after position `after`, ordered by [`StepPosition`], at most `limit` (served by an index on step and time).
    async fn events_of_step(
        &self,
        step: &str,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        after: StepPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Like [`EventLog::events_of_step`] for any of several steps: each step's page, merged by position.
    async fn events_by_step(
        &self,
        steps: &[String],
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        after: StepPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut all = Vec::new();
        for step in steps {
            all.extend(
                self.events_of_step(step, from_ms, to_ms, after, limit)
                    .await?,
            );
        }
        if steps.len() > 1 {
            all.sort_by_cached_key(StepPosition::of);
            all.dedup_by_key(|e| e.seq);
            all.truncate(limit as usize);
        }
        Ok(all)
    }
}

/// Reading projections.
#[async_trait]
pub trait Projections: Send + Sync {
    /// Current state of an object.
    async fn object(&self, key: &str) -> Result<Option<ObjectState>, StoreError>;
    /// Events naming an object, oldest first, at most `limit` after `after_seq`.
    async fn object_history(
        &self,
        key: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Like [`Projections::object_history`] for several objects: each one's page, merged by seq.
    async fn objects_history(
        &self,
        keys: &[String],
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut pages = Vec::new();
        for key in keys {
            pages.push(self.object_history(key, after_seq, limit).await?);
        }
        Ok(merged_by_seq(pages, limit))
    }
    /// Current state of many objects at once (unknown keys are left out).
    async fn objects(&self, keys: &[String]) -> Result<Vec<ObjectState>, StoreError>;
    /// Objects currently inside a container.
    async fn contents(&self, container: &str, limit: u32) -> Result<Vec<ObjectState>, StoreError>;
    /// What the search index holds under exactly `term`: (kind, target) rows in target order, at most
    /// `limit` (see `suyuan_core::search` for the kinds).
    async fn search_terms(
        &self,
        term: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError>;
}

/// Consumer scans of product codes.
#[async_trait]
pub trait ScanLog: Send + Sync {
    /// Records scans; answers, for each, how many times its object has been scanned so far.
    async fn record_scans(&self, scans: Vec<ScanRecord>) -> Result<Vec<u64>, StoreError>;
    /// The total scan count of an object and its latest scans, newest first.
    async fn scans(&self, object: &str, limit: u32) -> Result<(u64, Vec<ScanRecord>), StoreError>;
}

/// Kinds of versioned definitions users configure without code.
pub mod kinds {
    /// Coding rules (`suyuan_core::coding::RuleDef`).
    pub const CODING_RULE: &str = "coding_rule";
    /// Label templates (`suyuan_labels::LabelTemplate`).
    pub const LABEL_TEMPLATE: &str = "label_template";
    /// EPCIS named queries (`{"query": {…}}`; a deletion is a version `{"deleted": true}`).
    pub const EPCIS_QUERY: &str = "epcis_query";
}

/// One version of a user-configured definition (coding rule, label template, …) as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDefinition {
    /// Its kind (see [`kinds`]).
    pub kind: String,
    /// Its name, unique within the kind.
    pub name: String,
    /// Version, from 1; editing a rule stores a new version.
    pub version: u32,
    /// The definition (JSON).
    pub definition: Value,
    /// When this version was saved (RFC 3339).
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

/// One issued code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCode {
    /// The code as printed.
    pub code: String,
    /// The identity it stands for (Digital Link or internal URN); unique across all issued codes.
    pub uri: String,
    /// Rule name.
    pub rule: String,
    /// Rule version it was issued under.
    pub version: u32,
    /// When (RFC 3339).
    #[serde(rename = "issuedAt")]
    pub issued_at: String,
    /// Why it was revoked, if it was.
    pub revoked: Option<String>,
}

/// Versioned definitions, coding-rule sequences and the register of issued codes.
#[async_trait]
pub trait CodeRegistry: Send + Sync {
    /// Stores `definition` as the next version of `kind`/`name` (an unchanged definition keeps its version).
    async fn save_definition(
        &self,
        kind: &str,
        name: &str,
        definition: &Value,
    ) -> Result<StoredDefinition, StoreError>;
    /// A version of a definition (the latest when `version` is `None`).
    async fn definition(
        &self,
        kind: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredDefinition>, StoreError>;
    /// Every version of a definition, oldest first.
    async fn definition_versions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StoredDefinition>, StoreError>;
    /// The latest version of every definition of a kind, by name.
    async fn definitions(&self, kind: &str) -> Result<Vec<StoredDefinition>, StoreError>;
    /// Reserves `count` consecutive sequence numbers of `rule` in `scope` in one transaction and answers
    /// the first; no number is ever handed out twice, across processes and restarts. Answers `None`, and
    /// reserves nothing, when the block would reach `limit`.
    async fn reserve_sequence(
        &self,
        rule: &str,
        scope: &str,
        count: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError>;
    /// Registers issued codes, all or none: a code whose identity is already registered refuses the batch.
    async fn register_codes(&self, codes: Vec<IssuedCode>) -> Result<(), StoreError>;
    /// The issued codes with this code text or identity.
    async fn issued(&self, code_or_uri: &str) -> Result<Vec<IssuedCode>, StoreError>;
    /// Which of these identities (URIs) are registered, revoked or not, in one read.
    async fn issued_uris(&self, uris: &[String]) -> Result<Vec<String>, StoreError>;
    /// Revokes a code (by text or identity); answers how many were revoked.
    async fn revoke_code(&self, code_or_uri: &str, reason: &str) -> Result<u64, StoreError>;
    /// How many codes a rule has issued.
    async fn issued_count(&self, rule: &str) -> Result<u64, StoreError>;
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCheckpoint {
    /// Tree size it signs.
    pub size: u64,
    /// Root hash (hex).
    pub root: String,
    /// The signed note (C2SP `tlog-checkpoint` + `signed-note`).
    pub note: String,
    /// When it was made (RFC 3339).
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

/// The Merkle tree over the ledger's leaf hashes (tlog stored hashes) and its signed checkpoints.
#[async_trait]
pub trait TreeLog: Send + Sync {
    /// `(seq, leaf hash)` of the events after `after_seq`, in seq order, at most `limit`.
    async fn leaf_hashes(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<(u64, [u8; 32])>, StoreError>;
    /// `(seq, event hash, leaf hash)` of the events at these seqs (missing seqs are left out), in seq order.
    async fn record_hashes(&self, seqs: &[u64]) -> Result<Vec<(u64, String, String)>, StoreError>;
    /// How many leaves the stored tree covers.
    async fn tree_size(&self) -> Result<u64, StoreError>;
    /// The stored hashes at these indexes, in the order asked (an index not stored is an error).
    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError>;
    /// Extends the tree from `from_size` to `to_size` leaves with the stored hashes that follow; refuses,
    /// changing nothing, when the stored size is not `from_size` (another writer got there first).
    async fn extend_tree(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: Vec<[u8; 32]>,
    ) -> Result<(), StoreError>;
    /// Stores a signed checkpoint (one per size).
    async fn add_checkpoint(&self, size: u64, root: &str, note: &str) -> Result<(), StoreError>;
    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError>;
    /// The checkpoint of tree size `size`, or the latest when `None`.
    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>, StoreError>;
}

/// Kinds of account records.
pub mod account_kinds {
    /// Users (name, role, password hash, scope).
    pub const USER: &str = "user";
    /// Login sessions, keyed by the SHA-256 of the session cookie.
    pub const SESSION: &str = "session";
    /// API tokens, keyed by token id (the secret is stored as a SHA-256).
    pub const TOKEN: &str = "token";
    /// Regulator grants.
    pub const GRANT: &str = "grant";
    /// EPCIS query subscriptions (destination, signature token, cursor, delivery state).
    pub const SUBSCRIPTION: &str = "subscription";
}

/// One read by a logged principal (regulators): who, when, what, how much.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessEntry {
    /// Position in the access log (assigned by the store; 0 when writing).
    pub id: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The user.
    pub user: String,
    /// Method and path with query.
    pub request: String,
    /// HTTP status answered.
    pub status: u16,
    /// Events or objects the answer held, when known.
    pub items: u64,
}

/// Users, sessions, API tokens and grants as JSON documents under a kind and an id, and the access log.
/// The engine gives them meaning; the store only keeps them.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Writes a record; with `create` it must not exist yet ([`StoreError::Exists`]).
    async fn put_account(
        &self,
        kind: &str,
        id: &str,
        doc: &Value,
        create: bool,
    ) -> Result<(), StoreError>;
    /// One record.
    async fn account(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError>;
    /// Every record of a kind, by id.
    async fn accounts(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError>;
    /// Deletes a record; whether it existed.
    async fn delete_account(&self, kind: &str, id: &str) -> Result<bool, StoreError>;
    /// Appends to the access log.
    async fn log_access(&self, entry: AccessEntry) -> Result<(), StoreError>;
    /// The newest access log entries (of one user, when given), newest first.
    async fn access_log(
        &self,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError>;
}

/// EPCIS master data: vocabulary elements by vocabulary type and id.
#[async_trait]
pub trait MasterData: Send + Sync {
    /// Stores elements in one transaction, each merged into the stored element of the same type and id
    /// ([`VocabularyElement::merged_with`]).
    async fn put_master_data(&self, elements: Vec<VocabularyElement>) -> Result<(), StoreError>;
    /// The elements of these vocabulary types (all when empty), by type then id.
    async fn master_data(&self, vtypes: &[String]) -> Result<Vec<VocabularyElement>, StoreError>;
}

/// `new` merged into the stored element `old` (its `doc` column), or `new` itself when there is none.
pub(crate) fn merge_element(
    old: Option<&str>,
    new: &VocabularyElement,
) -> Result<VocabularyElement, StoreError> {
    Ok(match old {
        None => new.clone(),
        Some(doc) => element_from_row(&new.vtype, &new.id, doc)?.merged_with(new),
    })
}

/// A stored master data row as an element.
pub(crate) fn element_from_row(
    vtype: &str,
    id: &str,
    doc: &str,
) -> Result<VocabularyElement, StoreError> {
    let v: Value = serde_json::from_str(doc).map_err(|e| {
        StoreError::Backend(format!("stored master data {vtype} {id} is not JSON: {e}"))
    })?;
    Ok(VocabularyElement::from_doc(vtype, id, &v))
}

/// Health and counts.
#[async_trait]
pub trait Admin: Send + Sync {
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Counts.
    async fn stats(&self) -> Result<Stats, StoreError>;
    /// Backend name for logs and metrics (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
}

/// One outbox entry: the range of events one commit added, in commit order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// Position in the outbox (commit order).
    pub id: u64,
    /// First new seq of the commit.
    #[serde(rename = "firstSeq")]
    pub first_seq: u64,
    /// Last new seq of the commit.
    #[serde(rename = "lastSeq")]
    pub last_seq: u64,
    /// When it was committed (the events' record time).
    pub created: String,
}

/// A reactor's progress through the outbox and who runs it, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReactorState {
    /// The reactor's name.
    pub name: String,
    /// The last outbox entry it finished.
    #[serde(rename = "doneId")]
    pub done_id: u64,
    /// The engine holding its lease, if any.
    #[serde(rename = "leaseOwner")]
    pub lease_owner: Option<String>,
    /// When the lease ends (ms since the epoch).
    #[serde(rename = "leaseUntilMs")]
    pub lease_until_ms: i64,
    /// Failures since its last success.
    pub failures: u64,
    /// The last failure.
    #[serde(rename = "lastError")]
    pub last_error: Option<String>,
}

/// The outbox and the shared progress of the reactors that drain it. Leases let several engines on one
/// database share the work without two running the same reactor at once.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Entries after `after_id`, in order, at most `limit`.
    async fn outbox_after(&self, after_id: u64, limit: u32)
    -> Result<Vec<OutboxEntry>, StoreError>;
    /// Takes (or renews) the reactor's lease for `owner` until `now_ms + lease_ms` when it is free, expired or
    /// already `owner`'s; answers the state when `owner` holds it.
    async fn claim_reactor(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<ReactorState>, StoreError>;
    /// Records that the reactor finished every entry up to `done_id` (never moving back) and clears its
    /// failures; false when `owner` no longer holds the lease (nothing is written then).
    async fn ack_reactor(&self, name: &str, owner: &str, done_id: u64) -> Result<bool, StoreError>;
    /// Counts a failure of the reactor and keeps its message.
    async fn fail_reactor(&self, name: &str, owner: &str, error: &str) -> Result<(), StoreError>;
    /// Gives the lease up (a clean stop), so another engine takes over at once.
    async fn release_reactor(&self, name: &str, owner: &str) -> Result<(), StoreError>;
    /// Every reactor's state, by name.
    async fn reactor_states(&self) -> Result<Vec<ReactorState>, StoreError>;
    /// Marks the entries up to `done_id` done (every reactor has finished them); how many changed.
    async fn settle_outbox(&self, done_id: u64) -> Result<u64, StoreError>;
}

/// Everything a backend provides.
pub trait Store:
    EventLog + Projections + ScanLog + CodeRegistry + TreeLog + Accounts + MasterData + Outbox + Admin
{
}

impl<
    T: EventLog
        + Projections
        + ScanLog
        + CodeRegistry
        + TreeLog
        + Accounts
        + MasterData
        + Outbox
        + Admin,
> Store for T
{
}

/// Opens the store a URL or path names: `postgres://…` or `postgresql://…` for PostgreSQL, anything else as a
/// SQLite data directory.
pub async fn open(target: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PgStore::connect(target, None).await?))
    } else {
        Ok(std::sync::Arc::new(SqliteStore::open(
            std::path::Path::new(target),
        )?))
    }
}

/// Parses a stored account document.
pub(crate) fn account_doc(kind: &str, id: &str, doc: &str) -> Result<Value, StoreError> {
    serde_json::from_str(doc)
        .map_err(|e| StoreError::Backend(format!("stored {kind} '{id}' is not JSON: {e}")))
}

/// The current time as Suyuan writes record times.
pub(crate) fn now_record_time() -> String {
    suyuan_core::time::format_utc_millis(chrono::Utc::now())
}

/// The leaf hash of a record, given the event's JCS text.
pub(crate) fn leaf_hash_hex(seq: u64, record_time: &str, e: &NewEvent) -> String {
    let canonical = record_canonical(seq, record_time, &e.event_id, &e.event_hash, &e.body);
    hex::encode(suyuan_ledger::leaf_hash(canonical.as_bytes()))
}

/// The JCS form of a ledger record built from the event's own JCS text (keys in JCS order).
pub fn record_canonical(
    seq: u64,
    record_time: &str,
    event_id: &str,
    event_hash: &str,
    body_jcs: &str,
) -> String {
    let s = |v: &str| suyuan_ledger::jcs::canonical_json(&Value::String(v.to_string()));
    format!(
        "{{\"event\":{body_jcs},\"eventHash\":{},\"eventID\":{},\"recordTime\":{},\"seq\":{seq}}}",
        s(event_hash),
        s(event_id),
        s(record_time)
    )
}

pub(crate) fn parse_body(seq: u64, body: &str) -> Result<Value, StoreError> {
    serde_json::from_str(body)
        .map(suyuan_core::jsonld::conventional_order)
        .map_err(|e| StoreError::Corrupt {
            seq,
            reason: format!("event body is not JSON: {e}"),
        })
}

/// What appending a batch will do, decided from the stored events the batch repeats.
pub(crate) struct Plan<'a> {
    /// One result per event of the batch, in order.
    pub results: Vec<Appended>,
    /// The events to insert, with their seq and leaf hash.
    pub new_events: Vec<(u64, &'a NewEvent, String)>,
    /// The next free seq after this batch.
    pub next_seq: u64,
}

/// Assigns seqs to the new events of a batch and answers repeats (stored before, or earlier in the same
/// batch) with their stored position; a repeat with different content is a conflict that rejects the batch.
///
/// `place(seq, event, leaf)` either stores the event at `seq` and answers `None`, or answers the already
/// stored event with the same de-duplication key (SQLite inserts optimistically and looks up only on a
/// clash; PostgreSQL answers from rows it fetched for the whole batch and inserts afterwards).
pub(crate) fn plan_append<'a>(
    batch: &'a [NewEvent],
    mut next_seq: u64,
    record_time: &str,
    mut place: impl FnMut(u64, &NewEvent, &str) -> Result<Option<Appended>, StoreError>,
) -> Result<Plan<'a>, StoreError> {
    let mut fresh: std::collections::HashMap<&str, Appended> = std::collections::HashMap::new();
    let mut results = Vec::with_capacity(batch.len());
    let mut new_events = Vec::new();
    for e in batch {
        let seq = next_seq;
        let leaf = leaf_hash_hex(seq, record_time, e);
        let stored = match fresh.get(e.dedup_key.as_str()) {
            Some(a) => Some(a.clone()),
            None => place(seq, e, &leaf)?,
        };
        if let Some(stored) = stored {
            if stored.event_hash != e.event_hash {
                return Err(StoreError::Conflict {
                    event_id: e.event_id.clone(),
                    seq: stored.seq,
                    stored_hash: stored.event_hash,
                    sent_hash: e.event_hash.clone(),
                });
            }
            results.push(Appended {
                duplicate: true,
                ..stored
            });
            continue;
        }
        next_seq += 1;
        let a = Appended {
            event_id: e.event_id.clone(),
            seq,
            event_hash: e.event_hash.clone(),
            leaf_hash: leaf.clone(),
            record_time: record_time.to_string(),
            duplicate: false,
        };
        fresh.insert(e.dedup_key.as_str(), a.clone());
        results.push(a);
        new_events.push((seq, e, leaf));
    }
    Ok(Plan {
        results,
        new_events,
        next_seq,
    })
}

/// Parses a stored hex hash.
pub(crate) fn hash_from_hex(s: &str) -> Result<[u8; 32], StoreError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)
        .map_err(|e| StoreError::Backend(format!("stored hash {s} is not 32 bytes of hex: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod place_key_tests {
    /// The place index key is FNV-1a 64: stored keys must not change between versions.
    #[test]
    fn place_keys_are_fnv1a_64() {
        assert_eq!(super::place_key("") as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::place_key("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::place_key("foobar") as u64, 0x8594_4171_f739_67e8);
    }
}
