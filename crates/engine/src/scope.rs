//! Row scopes applied to reads and writes: which events and objects a partner or regulator may see, and
//! which events a partner may capture. Internal roles pass through unchanged.

use serde_json::Value;
use suyuan_core::access::{RowScope, objects_of};
use suyuan_core::projection::object_key;
use suyuan_store::{ObjectState, StoreError, StoredEvent};

use crate::Engine;
use crate::accounts::Principal;

/// Events read per round while looking for visible ones.
const SCAN_BATCH: u32 = 1_000;
/// Events examined per request at most; the answer then continues from where the scan stopped.
const SCAN_LIMIT: u64 = 50_000;
/// History entries examined per object.
const HISTORY: u32 = 2_000;

impl Engine {
    /// A page of visible events after `after`, and the seq to continue from when there may be more.
    pub async fn visible_events_after(
        &self,
        rows: &RowScope,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<StoredEvent>, Option<u64>), StoreError> {
        let store = self.store();
        if rows.is_all() {
            let page = store.events_after(after, limit).await?;
            let next = (page.len() as u32 == limit)
                .then(|| page.last().map(|e| e.seq))
                .flatten();
            return Ok((page, next));
        }
        let mut out = Vec::new();
        let mut cursor = after;
        let mut scanned = 0u64;
        loop {
            let batch = store.events_after(cursor, SCAN_BATCH).await?;
            let done = (batch.len() as u32) < SCAN_BATCH;
            for e in batch {
                cursor = e.seq;
                scanned += 1;
                if rows.event_visible(&e.event) {
                    out.push(e);
                    if out.len() as u32 == limit {
                        return Ok((out, Some(cursor)));
                    }
                }
            }
            if done {
                return Ok((out, None));
            }
            if scanned >= SCAN_LIMIT {
                return Ok((out, Some(cursor)));
            }
        }
    }

    /// The visible part of an object's history (all of it for internal roles, up to `limit`).
    pub async fn visible_history(
        &self,
        rows: &RowScope,
        key: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let store = self.store();
        if rows.is_all() {
            return store.object_history(key, after, limit).await;
        }
        let mut h = store.object_history(key, after, HISTORY).await?;
        h.retain(|e| rows.event_visible(&e.event));
        h.truncate(limit as usize);
        Ok(h)
    }

    /// Whether the principal sees this object at all: internal roles always; others when a visible event
    /// names it.
    pub async fn object_visible(&self, rows: &RowScope, key: &str) -> Result<bool, StoreError> {
        Ok(rows.is_all() || !self.visible_history(rows, key, 0, 1).await?.is_empty())
    }

    /// Refuses a partner's capture that is not about its own shipments: each event must name one of its
    /// parties or locations, and each object must carry its company prefix or already be visible to it.
    /// Other roles capture freely (their permission was checked by the caller). `Ok(Some(reason))` refuses.
    pub async fn capture_scope(
        &self,
        me: &Principal,
        body: &Value,
    ) -> Result<Option<String>, StoreError> {
        if !matches!(me.rows, RowScope::Partner { .. }) {
            return Ok(None);
        }
        let (events, base): (Vec<&Value>, &str) = match body
            .get("epcisBody")
            .and_then(|b| b.get("eventList"))
            .and_then(Value::as_array)
        {
            Some(list) => (list.iter().collect(), "/epcisBody/eventList/"),
            None => (vec![body], ""),
        };
        for (i, e) in events.iter().enumerate() {
            let at = if base.is_empty() {
                String::new()
            } else {
                format!("{base}{i}")
            };
            if !me.rows.event_visible(e) {
                return Ok(Some(format!(
                    "{at}: a partner captures only events at its own locations or naming it as source or \
                     destination; none of this event's parties or locations has your company prefix"
                )));
            }
            for o in objects_of(e) {
                let key = object_key(&o);
                if !me.rows.object_visible(&key) && !self.object_visible(&me.rows, &key).await? {
                    return Ok(Some(format!(
                        "{at}: {o} was neither shipped to you nor carries your company prefix"
                    )));
                }
            }
        }
        Ok(None)
    }
}

/// An object's current state as a scoped principal may see it: when its latest event lies outside the scope,
/// the state is told as of the last visible event (location and disposition from the visible events; holder
/// and container not told — they belong to someone else's part of the chain).
pub fn scoped_state(
    rows: &RowScope,
    mut state: ObjectState,
    visible: &[StoredEvent],
) -> ObjectState {
    if rows.is_all() {
        return state;
    }
    let last_visible = visible.iter().map(|e| e.seq).max();
    if last_visible != Some(state.last_seq) {
        let mut ordered: Vec<&StoredEvent> = visible.iter().collect();
        ordered.sort_by_key(|e| e.seq);
        let last_of = |field: &str| {
            ordered
                .iter()
                .rev()
                .find_map(|e| e.event.pointer(field).and_then(Value::as_str))
                .map(str::to_string)
        };
        state.location = last_of("/bizLocation/id").map(|l| object_key(&l));
        state.disposition = last_of("/disposition");
        state.party = None;
        state.container = None;
        state.last_seq = last_visible.unwrap_or(0);
    }
    state.event_count = visible.len() as u64;
    state
}
