//! The trace explorer's queries: the clustered genealogy graph around an object (built by the pure
//! [`suyuan_trace::TraceIndex::graph`] over the live index) and a node's own latest events.

use suyuan_store::{StoreError, StoredEvent};
use suyuan_trace::{Direction, Graph, GraphOptions};

use crate::Engine;

impl Engine {
    /// The graph view from `key` in `dir` (`None` when no event names it).
    pub async fn graph(
        &self,
        key: &str,
        dir: Direction,
        opts: GraphOptions,
    ) -> Result<Option<Graph>, StoreError> {
        let tracer = self.trace_index().await?;
        let key = suyuan_core::projection::object_key(key);
        Ok(tracer.read().graph(&key, dir, opts))
    }

    /// The latest `limit` events naming `key`, newest first.
    pub async fn latest_events(
        &self,
        key: &str,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let key = suyuan_core::projection::object_key(key);
        let Some(state) = self.store().object(&key).await? else {
            return Ok(Vec::new());
        };
        // The history is read oldest first; start close to the end.
        let mut events = self
            .store()
            .object_history(&key, 0, state.event_count.min(5000) as u32)
            .await?;
        events.reverse();
        events.truncate(limit as usize);
        Ok(events)
    }
}
