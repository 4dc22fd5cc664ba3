//! The story of one object: its whole life and its ancestors' — materials, production, quality, packing,
//! logistics, consumer — in time order, each event tagged with its stage. The console, the trace report and
//! the consumer page tell it from here.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use suyuan_core::projection::object_key;
use suyuan_store::{ObjectState, ScanRecord, StoreError};
use suyuan_trace::{TraceOptions, node_kind};

use crate::Engine;

/// Events read per node.
const PER_NODE: u32 = 500;

/// The stages, in the order a life runs.
pub const STAGES: [&str; 6] = [
    "materials",
    "production",
    "quality",
    "packing",
    "logistics",
    "consumer",
];

/// The stage of an event, given whether it concerns the unit itself (or its own lot or containers) rather
/// than an ancestor material.
pub fn stage_of(event: &Value, about_unit: bool) -> &'static str {
    let step = event.get("bizStep").and_then(Value::as_str).unwrap_or("");
    let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
    const LOGISTICS: &[&str] = &[
        "shipping",
        "receiving",
        "accepting",
        "departing",
        "arriving",
        "transporting",
        "loading",
        "unloading",
        "picking",
        "staging_outbound",
    ];
    match step {
        "retail_selling" => "consumer",
        "packing" | "unpacking" | "repackaging" | "storing" | "stock_taking" | "cycle_counting" => {
            "packing"
        }
        "inspecting" | "sampling" | "holding" if about_unit => "quality",
        "inspecting" | "sampling" | "holding" => "materials",
        s if LOGISTICS.contains(&s) && about_unit => "logistics",
        s if LOGISTICS.contains(&s) => "materials",
        _ if kind == "TransformationEvent" || step == "commissioning" => "production",
        _ if kind == "AggregationEvent" => "packing",
        _ if about_unit => "logistics",
        _ => "materials",
    }
}

/// One event of a story.
#[derive(Debug, Clone)]
pub struct StoryEvent {
    /// Ledger seq.
    pub seq: u64,
    /// Its stage ([`STAGES`]).
    pub stage: &'static str,
    /// The objects of the story it names.
    pub subjects: BTreeSet<String>,
    /// Whether it is about the object itself (or its own lots or containers) rather than a material.
    pub about_unit: bool,
    /// The event, with its record time.
    pub event: Value,
}

/// An object's story.
#[derive(Debug, Clone)]
pub struct Story {
    /// Its current state.
    pub object: ObjectState,
    /// The lots it belongs to.
    pub own_lots: BTreeSet<String>,
    /// The containers it travelled in: (id, from ms, until ms).
    pub containers: Vec<(String, Option<i64>, Option<i64>)>,
    /// Its events, oldest first.
    pub events: Vec<StoryEvent>,
    /// How often consumers scanned it, and the latest scans (newest first).
    pub scans: (u64, Vec<ScanRecord>),
}

/// A logistic unit and the window (ms) an object was inside it.
pub(crate) type Window = (String, Option<i64>, Option<i64>);

/// The logistic units a forward trace reached (the containers the object travelled in), with the window it
/// was inside each.
pub(crate) fn containers_in(
    index: &suyuan_trace::TraceIndex,
    fwd: Option<&suyuan_trace::Trace>,
) -> Vec<Window> {
    fwd.map(|t| {
        t.nodes
            .iter()
            .filter(|n| n.depth > 0)
            .map(|n| (index.name(n.node), n.from_ms, n.until_ms))
            .filter(|(id, _, _)| node_kind(id) == "logistic_unit")
            .collect()
    })
    .unwrap_or_default()
}

impl Engine {
    /// What happened to each container while the object was inside (the unpack that ended it included), at
    /// most `per` events read per container: (container, event).
    pub(crate) async fn container_events(
        &self,
        containers: &[Window],
        per: u32,
    ) -> Result<Vec<(String, suyuan_store::StoredEvent)>, StoreError> {
        let mut out = Vec::new();
        for (node, from, until) in containers {
            for e in self.store().object_history(node, 0, per).await? {
                let t = e
                    .event
                    .get("eventTime")
                    .and_then(Value::as_str)
                    .and_then(|s| suyuan_core::time::parse_timestamp(s).ok())
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(0);
                if from.is_some_and(|f| t < f) || until.is_some_and(|u| t > u) {
                    continue;
                }
                out.push((node.clone(), e));
            }
        }
        Ok(out)
    }

    /// The story of `uri` (`None` when no event names it).
    pub async fn story(&self, uri: &str) -> Result<Option<Story>, StoreError> {
        let key = object_key(uri);
        let store = self.store();
        let Some(state) = store.object(&key).await? else {
            return Ok(None);
        };
        let tracer = self.trace_index().await?;
        // Ancestors (materials and production), and the containers the unit was in, with their windows.
        let (ancestors, transformations, containers, own_lots): (
            Vec<String>,
            BTreeSet<String>,
            Vec<Window>,
            BTreeSet<String>,
        ) = {
            let index = tracer.read();
            let back = index.backward(&key, &TraceOptions::default());
            let fwd = index.forward(&key, &TraceOptions::default());
            // Membership edges the trace followed: the unit's own lots (lot → unit), and for a lot its instances
            // (lot → instance), whose own histories a lot's story does not retell.
            let (mut own_lots, mut members) = (BTreeSet::new(), BTreeSet::new());
            for e in back
                .iter()
                .flat_map(|t| t.edges.iter())
                .filter_map(|id| index.edge(*id))
                .filter(|e| e.relation == suyuan_trace::Relation::Member)
            {
                let (from, to) = (index.name(e.from), index.name(e.to));
                if to == key {
                    own_lots.insert(from);
                } else if from == key {
                    members.insert(to);
                }
            }
            let nodes: Vec<String> = back
                .map(|t| {
                    t.nodes
                        .iter()
                        .map(|n| index.name(n.node))
                        .filter(|n| !members.contains(n))
                        .collect()
                })
                .unwrap_or_else(|| vec![key.clone()]);
            let (transformations, ancestors): (Vec<String>, Vec<String>) = nodes
                .into_iter()
                .partition(|id| node_kind(id) == "transformation");
            // Only a unit or a logistic unit travels in containers; a lot's descendants' cases are not its story.
            let travels = matches!(node_kind(&key), "instance" | "logistic_unit");
            let containers = if travels {
                containers_in(&index, fwd.as_ref())
            } else {
                Vec::new()
            };
            (
                ancestors,
                transformations.into_iter().collect(),
                containers,
                own_lots,
            )
        };
        let mut events: BTreeMap<u64, (Value, BTreeSet<String>, bool)> = BTreeMap::new();
        for node in &ancestors {
            let about_unit = *node == key || own_lots.contains(node);
            for e in store.object_history(node, 0, PER_NODE).await? {
                // A lot feeds many work orders; only those in this unit's genealogy belong to its story.
                if e.event.get("type").and_then(Value::as_str) == Some("TransformationEvent") {
                    let tkey = match e.event.get("transformationID").and_then(Value::as_str) {
                        Some(t) => format!("transformation:{}", object_key(t)),
                        None => format!("transformation:{}", e.event_id),
                    };
                    if !transformations.contains(&tkey) {
                        continue;
                    }
                }
                let entry = events
                    .entry(e.seq)
                    .or_insert_with(|| (e.event_with_record_time(), BTreeSet::new(), false));
                entry.1.insert(node.clone());
                entry.2 |= about_unit;
            }
        }
        for (node, e) in self.container_events(&containers, PER_NODE).await? {
            let entry = events
                .entry(e.seq)
                .or_insert_with(|| (e.event_with_record_time(), BTreeSet::new(), true));
            entry.1.insert(node);
            entry.2 = true;
        }
        let mut told: Vec<StoryEvent> = events
            .into_iter()
            .map(|(seq, (event, subjects, about_unit))| StoryEvent {
                seq,
                stage: stage_of(&event, about_unit),
                subjects,
                about_unit,
                event,
            })
            .collect();
        told.sort_by_cached_key(|e| {
            let t = e.event.get("eventTime").and_then(Value::as_str);
            (
                t.and_then(|s| suyuan_core::time::parse_timestamp(s).ok())
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(0),
                e.seq,
            )
        });
        let scans = store.scans(&key, 100).await?;
        Ok(Some(Story {
            object: state,
            own_lots,
            containers,
            events: told,
            scans,
        }))
    }
}
