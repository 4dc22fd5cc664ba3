//! The unit story: one object's whole life and its ancestors' — materials, production, quality, packing,
//! logistics, consumer — as the consumer page, the UI and trace reports tell it.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use suyuan_core::projection::object_key;
use suyuan_trace::{TraceOptions, node_kind};

/// Events read per node.
const PER_NODE: u32 = 500;

/// The stages, in the order a story is told: (key, Chinese, English).
pub const STAGES: [(&str, &str, &str); 6] = [
    ("materials", "原料", "Materials"),
    ("production", "生产", "Production"),
    ("quality", "质检", "Quality"),
    ("packing", "包装", "Packing"),
    ("logistics", "物流", "Logistics"),
    ("consumer", "消费者", "Consumer"),
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

/// `GET /api/v1/objects/{uri}/story`.
pub async fn story(st: &AppState, uri: &str) -> Result<Response, ApiError> {
    Ok(Json(build(st, uri).await?).into_response())
}

/// The story of `uri` as JSON: the object, its own lots, its containers and the stages with their events.
pub async fn build(st: &AppState, uri: &str) -> Result<Value, ApiError> {
    let key = object_key(uri);
    let store = st.engine.reader();
    let Some(state) = store.object(&key).await? else {
        return Err(ApiError::NotFound(format!(
            "no event names the object {uri} (looked up as {key})"
        )));
    };
    let tracer = st.engine.trace_index().await?;
    // Ancestors (materials and production), and the containers the unit was in, with their windows.
    type Window = (String, Option<i64>, Option<i64>);
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
        let containers = fwd
            .map(|t| {
                t.nodes
                    .iter()
                    .filter(|n| n.depth > 0)
                    .map(|n| (index.name(n.node), n.from_ms, n.until_ms))
                    .filter(|(id, _, _)| node_kind(id) == "logistic_unit")
                    .collect()
            })
            .unwrap_or_default();
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
    for (node, from, until) in &containers {
        for e in store.object_history(node, 0, PER_NODE).await? {
            let t = e
                .event
                .get("eventTime")
                .and_then(Value::as_str)
                .and_then(|s| suyuan_core::time::parse_timestamp(s).ok());
            let t = t.map(|t| t.timestamp_millis()).unwrap_or(0);
            // Only what happened to the container while the unit was inside (the unpack that ended it included).
            if from.is_some_and(|f| t < f) || until.is_some_and(|u| t > u) {
                continue;
            }
            let entry = events
                .entry(e.seq)
                .or_insert_with(|| (e.event_with_record_time(), BTreeSet::new(), true));
            entry.1.insert(node.clone());
            entry.2 = true;
        }
    }
    let mut stages: HashMap<&str, Vec<Value>> = HashMap::new();
    for (seq, (event, subjects, about_unit)) in events {
        let stage = stage_of(&event, about_unit);
        stages
            .entry(stage)
            .or_default()
            .push(json!({"seq": seq, "subjects": subjects, "event": event}));
    }
    let (scan_count, scans) = store.scans(&key, 100).await?;
    if scan_count > 0 {
        stages.entry("consumer").or_default();
    }
    let told: Vec<Value> = STAGES
        .iter()
        .filter_map(|(k, zh, en)| {
            stages.remove(k).map(|mut evs| {
                evs.sort_by_key(|e| {
                    e["event"]["eventTime"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_default()
                });
                let mut v = json!({"stage": k, "label": {"zh-CN": zh, "en": en}, "events": evs});
                if *k == "consumer" {
                    v["scans"] = json!({"count": scan_count, "recent": scans});
                }
                v
            })
        })
        .collect();
    Ok(json!({
        "object": state,
        "ownLots": own_lots,
        "containers": containers.iter().map(|(id, _, _)| id).collect::<Vec<_>>(),
        "stages": told,
    }))
}
