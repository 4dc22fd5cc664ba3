//! The store's capabilities, one trait each (ledger, projections, scans, codes, tree, accounts, master data, outbox, health), the `Store` that holds them all, and `open`.

#[allow(unused_imports)]
use super::*;

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
    /// Gives the newest scan of `object` the city and province a consumer's phone shared, unless it already
    /// has one; answers whether a scan was changed.
    async fn locate_scan(
        &self,
        object: &str,
        city: &str,
        province: &str,
    ) -> Result<bool, StoreError>;
    /// Scans recorded after position `after_id`, oldest first, with their positions (followers such as the
    /// dashboard tally read them in pages).
    async fn scans_after(
        &self,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<(u64, ScanRecord)>, StoreError>;
}

/// Kinds of versioned definitions users configure without code.
pub mod kinds {
    /// Coding rules (`suyuan_core::coding::RuleDef`).
    pub const CODING_RULE: &str = "coding_rule";
    /// Label templates (`suyuan_labels::LabelTemplate`).
    pub const LABEL_TEMPLATE: &str = "label_template";
    /// EPCIS named queries (`{"query": {…}}`; a deletion is a version `{"deleted": true}`).
    pub const EPCIS_QUERY: &str = "epcis_query";
    /// The consumer page's settings: contact, journey granularity, the brand's links
    /// (`suyuan_engine::consumer::ConsumerSettings`).
    pub const CONSUMER_PAGE: &str = "consumer_page";
    /// Recalls (`suyuan_engine::recall::Recall`), one version per step.
    pub const RECALL: &str = "recall";
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
    /// The events after `after_seq` as recorded (body unparsed), in seq order, at most `limit`.
    async fn ledger_records(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<LedgerRecord>, StoreError>;
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
