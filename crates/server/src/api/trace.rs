//! Trace queries over HTTP: `GET /api/v1/trace/backward?id=…` and `GET /api/v1/trace/forward?id=…`.

use crate::AppState;
use crate::auth::ItemCount;
use crate::error::{ApiError, Located};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use suyuan_core::access::RowScope;
use suyuan_core::projection::object_key;
use suyuan_engine::accounts::Principal;
use suyuan_trace::{Direction, TraceOptions, node_kind};

const PARAMS: &[&str] = &["id", "depth", "from", "to"];

fn bad(parameter: &str, detail: impl Into<String>) -> Located {
    Located {
        pointer: None,
        parameter: Some(parameter.into()),
        detail: detail.into(),
    }
}

/// Reads `id`, `depth`, `from`, `to`; every problem is reported at once.
pub(crate) fn options(q: &HashMap<String, String>) -> Result<(String, TraceOptions), ApiError> {
    let mut errs = Vec::new();
    let mut unknown: Vec<&String> = q.keys().filter(|k| !PARAMS.contains(&k.as_str())).collect();
    unknown.sort();
    for k in unknown {
        errs.push(bad(
            k,
            format!(
                "unknown parameter; this endpoint takes {}",
                PARAMS.join(", ")
            ),
        ));
    }
    let id = match q.get("id").map(|s| s.trim()) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => {
            errs.push(bad(
                "id",
                "required: the object's URI (EPC URN, GS1 Digital Link or your own code)",
            ));
            String::new()
        }
    };
    let mut opts = TraceOptions::default();
    if let Some(d) = q.get("depth") {
        match d.parse::<u32>() {
            Ok(v) if v > 0 => opts.max_depth = Some(v),
            _ => errs.push(bad(
                "depth",
                format!("expected a whole number of hops ≥ 1, got \"{d}\""),
            )),
        }
    }
    for (name, slot) in [("from", &mut opts.from_ms), ("to", &mut opts.to_ms)] {
        if let Some(t) = q.get(name) {
            match suyuan_core::time::parse_timestamp(t) {
                Ok(ts) => *slot = Some(ts.timestamp_millis()),
                Err(m) => errs.push(bad(name, m)),
            }
        }
    }
    if errs.is_empty() {
        Ok((id, opts))
    } else {
        Err(ApiError::BadQuery(errs))
    }
}

fn time_of(ms: Option<i64>) -> Value {
    ms.and_then(suyuan_core::time::format_unix_millis)
        .map_or(Value::Null, Value::String)
}

async fn run(
    st: AppState,
    rows: RowScope,
    q: HashMap<String, String>,
    dir: Direction,
    ndjson: bool,
) -> Result<Response, ApiError> {
    let (id, opts) = options(&q)?;
    let key = object_key(&id);
    // A scoped trace starts only from an object within the scope (else it does not exist for them).
    let in_scope = rows.is_all()
        || (rows.object_visible(&key) && st.engine.object_visible(&rows, &key).await?);
    if !in_scope {
        return Err(ApiError::NotFound(format!(
            "no event names the object {id} (looked up as {key})"
        )));
    }
    let store = st.engine.reader();
    let tracer = st.engine.trace_index().await?;
    type EdgeRow = (String, String, suyuan_trace::Relation, u64, Option<u64>);
    let found: Option<(Vec<Value>, Vec<EdgeRow>)> = {
        let index = tracer.read();
        let trace = match dir {
            Direction::Backward => index.backward(&key, &opts),
            Direction::Forward => index.forward(&key, &opts),
        };
        trace.map(|t| {
            let nodes = t
                .nodes
                .iter()
                .map(|n| {
                    let id = index.name(n.node);
                    json!({"id": id, "type": node_kind(&id), "depth": n.depth,
                           "from": time_of(n.from_ms), "until": time_of(n.until_ms)})
                })
                .collect();
            let edges = t
                .edges
                .iter()
                .filter_map(|id| index.edge(*id))
                .map(|e| {
                    (
                        index.name(e.from),
                        index.name(e.to),
                        e.relation,
                        e.seq,
                        e.end_seq,
                    )
                })
                .collect();
            (nodes, edges)
        })
    };
    let (nodes, edges) = match found {
        Some(v) => v,
        None => {
            if store.object(&key).await?.is_none() {
                return Err(ApiError::NotFound(format!(
                    "no event names the object {id} (looked up as {key})"
                )));
            }
            (
                vec![
                    json!({"id": key, "type": node_kind(&key), "depth": 0, "from": null, "until": null}),
                ],
                Vec::new(),
            )
        }
    };
    let seqs: Vec<u64> = edges
        .iter()
        .flat_map(|e| std::iter::once(e.3).chain(e.4))
        .collect::<BTreeSet<u64>>()
        .into_iter()
        .collect();
    let events: HashMap<u64, Value> = store
        .events_by_seq(&seqs)
        .await?
        .into_iter()
        .filter(|e| rows.event_visible(&e.event))
        .map(|e| {
            let summary = json!({
                "seq": e.seq, "eventID": e.event_id, "type": e.event["type"], "eventTime": e.event["eventTime"],
                "bizStep": e.event.get("bizStep").cloned().unwrap_or(Value::Null),
            });
            (e.seq, summary)
        })
        .collect();
    // Scoped: only objects within the scope, linked by events within it.
    let total_nodes = nodes.len();
    let nodes: Vec<Value> = nodes
        .into_iter()
        .filter(|n| n["id"].as_str().is_some_and(|i| rows.object_visible(i)))
        .collect();
    let edges: Vec<Value> = edges
        .into_iter()
        .filter(|(from, to, _, seq, _)| {
            rows.is_all()
                || (events.contains_key(seq)
                    && rows.object_visible(from)
                    && rows.object_visible(to))
        })
        .map(|(from, to, relation, seq, end_seq)| {
            let mut v =
                json!({"from": from, "to": to, "relation": relation, "event": events.get(&seq)});
            if let Some(s) = end_seq {
                v["endedBy"] = events.get(&s).cloned().unwrap_or(Value::Null);
            }
            v
        })
        .collect();
    let direction = if dir == Direction::Backward {
        "backward"
    } else {
        "forward"
    };
    let mut head = json!({
        "id": key,
        "direction": direction,
        "indexedThroughSeq": tracer.applied_seq(),
        "counts": {"nodes": nodes.len(), "edges": edges.len()},
    });
    if !rows.is_all() {
        head["counts"]["outsideScope"] = json!(total_nodes - nodes.len());
    }
    let items = (nodes.len() + edges.len()) as u64;
    // The checkpoint this report was built on and the hashes of every event it shows, for the reader to verify.
    let mut covered: Vec<u64> = events.keys().copied().collect();
    covered.sort_unstable();
    head["ledger"] = json!(crate::api::ledger::anchor(&st, &covered).await?);
    if ndjson {
        // One line per record, produced as the client reads: large recalls never become one giant string.
        let lines = std::iter::once(json!({"trace": head}))
            .chain(nodes.into_iter().map(|n| json!({"node": n})))
            .chain(edges.into_iter().map(|e| json!({"edge": e})))
            .map(|v| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(format!("{v}\n"))));
        let mut resp = Response::new(axum::body::Body::from_stream(futures_util::stream::iter(
            lines,
        )));
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/x-ndjson"),
        );
        resp.extensions_mut().insert(ItemCount(items));
        return Ok(resp);
    }
    let mut body = head;
    body["nodes"] = Value::Array(nodes);
    body["edges"] = Value::Array(edges);
    let mut resp = Json(body).into_response();
    resp.extensions_mut().insert(ItemCount(items));
    Ok(resp)
}

/// Whether the client asked for newline-delimited JSON.
fn wants_ndjson(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/x-ndjson"))
}

/// `GET /api/v1/trace/backward?id=&depth=&from=&to=`: where the object came from.
pub async fn backward(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    run(st, me.rows, q, Direction::Backward, wants_ndjson(&headers)).await
}

/// `GET /api/v1/trace/forward?id=&depth=&from=&to=`: everything made from or holding the object.
pub async fn forward(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    run(st, me.rows, q, Direction::Forward, wants_ndjson(&headers)).await
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/trace/backward", P::TraceRead, backward),
        routes::get("/api/v1/trace/forward", P::TraceRead, forward),
    ]
}
