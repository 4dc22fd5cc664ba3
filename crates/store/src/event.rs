//! Events as the store takes and gives them: prepared for appending, appended, read back; and the append plan both backends share.

#[allow(unused_imports)]
use super::*;

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
    /// fields back in the conventional order (`suyuan_epcis::jsonld::conventional_order`).
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
        let event_hash = suyuan_epcis::event_hash(&e);
        let event_id = e.event_id.get_or_insert_with(|| event_hash.clone()).clone();
        let dedup_key = if e.error_declaration.is_some() {
            declaration_key(&event_id)
        } else {
            event_id.clone()
        };
        let value = suyuan_epcis::jsonld::event_to_jsonld(&e, !e.namespaces.is_empty());
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

/// A stored event exactly as the ledger recorded it: the body is its stored JCS text, unparsed, so that
/// verification hashes the very bytes the leaf was made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRecord {
    /// Ledger position.
    pub seq: u64,
    /// The eventID.
    pub event_id: String,
    /// Canonical event hash.
    pub event_hash: String,
    /// RFC 6962 leaf hash (hex).
    pub leaf_hash: String,
    /// When Suyuan recorded it.
    pub record_time: String,
    /// The event's JCS text as stored.
    pub body: String,
}

impl LedgerRecord {
    /// The leaf hash of the record recomputed from its stored fields.
    pub fn recomputed_leaf(&self) -> [u8; 32] {
        record_leaf(
            self.seq,
            &self.record_time,
            &self.event_id,
            &self.event_hash,
            &self.body,
        )
    }

    /// The record with its body parsed (in conventional key order), as reads answer it.
    pub(crate) fn into_stored(self) -> Result<StoredEvent, StoreError> {
        Ok(StoredEvent {
            event: parse_body(self.seq, &self.body)?,
            seq: self.seq,
            event_id: self.event_id,
            event_hash: self.event_hash,
            leaf_hash: self.leaf_hash,
            record_time: self.record_time,
        })
    }
}

/// The dedup key of an error declaration of event `event_id` (the original's key is the eventID itself).
pub(super) fn declaration_key(event_id: &str) -> String {
    format!("{event_id}#errorDeclaration")
}

/// Pages of events in seq order merged into one: each event once, the first `limit`.
pub(super) fn merged_by_seq(pages: Vec<Vec<StoredEvent>>, limit: u32) -> Vec<StoredEvent> {
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
    hex::encode(record_leaf(
        seq,
        record_time,
        &e.event_id,
        &e.event_hash,
        &e.body,
    ))
}

/// The RFC 6962 leaf hash of a ledger record: the hash of its JCS form ([`record_canonical`]).
fn record_leaf(
    seq: u64,
    record_time: &str,
    event_id: &str,
    event_hash: &str,
    body_jcs: &str,
) -> [u8; 32] {
    let canonical = record_canonical(seq, record_time, event_id, event_hash, body_jcs);
    suyuan_ledger::leaf_hash(canonical.as_bytes())
}

/// The JCS form of a ledger record built from the event's own JCS text (keys in JCS order).
pub fn record_canonical(
    seq: u64,
    record_time: &str,
    event_id: &str,
    event_hash: &str,
    body_jcs: &str,
) -> String {
    use suyuan_ledger::jcs::write_string;
    let mut out = String::with_capacity(body_jcs.len() + event_hash.len() + event_id.len() + 128);
    out.push_str("{\"event\":");
    out.push_str(body_jcs);
    out.push_str(",\"eventHash\":");
    write_string(event_hash, &mut out);
    out.push_str(",\"eventID\":");
    write_string(event_id, &mut out);
    out.push_str(",\"recordTime\":");
    write_string(record_time, &mut out);
    out.push_str(",\"seq\":");
    out.push_str(&seq.to_string());
    out.push('}');
    out
}

pub(crate) fn parse_body(seq: u64, body: &str) -> Result<Value, StoreError> {
    serde_json::from_str(body)
        .map(suyuan_epcis::jsonld::conventional_order)
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
