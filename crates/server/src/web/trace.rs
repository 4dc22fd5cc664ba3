//! The trace explorer: type, paste or scan any code and see the object's story beside its genealogy graph,
//! backward and forward. The page resolves the code (`web::search`), draws the story on the server and the
//! graph in the browser from `GET /api/v1/graph` (clustered, a few levels, more on demand); a click on a
//! node shows its latest events from `GET /api/v1/graph/node`.

use crate::AppState;
use crate::error::ApiError;
use crate::web::i18n::{Lang, Tr};
use crate::web::object::{StageView, story_view};
use crate::web::pages::{Chrome, event_href, friendly_time, object_href, render};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::names::Names;
use suyuan_trace::{Direction, GraphNode, GraphOptions, Relation};

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    chrome: Chrome,
    query: String,
    /// The object explored (empty when none).
    key: String,
    name: String,
    kind: String,
    choices: Vec<(String, crate::web::search::Match)>,
    enc_key: String,
    error: String,
    story: Vec<StageView>,
    object_href: String,
    report_href: String,
    recall_href: String,
    dir: &'static str,
}

/// `GET /trace?q=&dir=`: the explorer.
pub async fn page(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, _headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let chrome = Chrome::new(lang, "trace", uri, me);
    let tr = chrome.tr;
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let dir = match q.get("dir").map(String::as_str) {
        Some("forward") => "forward",
        Some("backward") => "backward",
        _ => "both",
    };
    let mut page = TracePage {
        chrome,
        query: query.clone(),
        key: String::new(),
        name: String::new(),
        kind: String::new(),
        choices: Vec::new(),
        enc_key: String::new(),
        error: String::new(),
        story: Vec::new(),
        object_href: String::new(),
        report_href: String::new(),
        recall_href: String::new(),
        dir,
    };
    if query.is_empty() {
        return render(&page, lang, set);
    }
    let answer = match crate::web::search::find(&st, me, &query).await {
        Ok(a) => a,
        Err(ApiError::BadQuery(l)) => {
            page.error = l
                .iter()
                .map(|x| x.detail.clone())
                .collect::<Vec<_>>()
                .join("; ");
            return render(&page, lang, set);
        }
        Err(e) => return e.into_response(),
    };
    let objects: Vec<_> = answer
        .matches
        .iter()
        .filter(|m| m.kind != "business_transaction")
        .cloned()
        .collect();
    if objects.len() != 1 {
        if objects.is_empty() {
            page.error = tr.t("trace.none").to_string();
        }
        page.choices = objects
            .into_iter()
            .map(|m| {
                (
                    format!("/trace?q={}", utf8_percent_encode(&m.id, NON_ALPHANUMERIC)),
                    m,
                )
            })
            .collect();
        return render(&page, lang, set);
    }
    let m = &objects[0];
    let names = match st.engine.names().await {
        Ok(n) => n,
        Err(e) => return crate::web::pages::store_down(e),
    };
    page.key = m.id.clone();
    page.name = names
        .of(&m.id)
        .map(|n| format!("{} · {}", n.name, m.name))
        .unwrap_or_else(|| m.name.clone());
    page.kind = m.kind.to_string();
    let enc = utf8_percent_encode(&m.id, NON_ALPHANUMERIC).to_string();
    page.enc_key = enc.clone();
    page.object_href = object_href(&m.id);
    page.report_href = format!("/trace/report?id={enc}&dir={dir}");
    page.recall_href = format!("/recalls/new?lots={enc}");
    if me.rows.is_all()
        && let Ok(v) = crate::web::story::build(&st, &m.id).await
    {
        page.story = story_view(&v, lang, &names);
    }
    render(&page, lang, set)
}

/// The kind a person reads for a graph node.
pub fn node_class(n: &GraphNode, own_prefixes: &[String]) -> &'static str {
    match n.kind {
        "instance" => "unit",
        "logistic_unit" if n.holds_units => "pallet",
        "logistic_unit" => "case",
        "lot" | "product" => {
            let prefix = n
                .key
                .split("/01/")
                .nth(1)
                .map(|g| g.get(1..).unwrap_or_default().to_string())
                .unwrap_or_default();
            if own_prefixes.is_empty() || own_prefixes.iter().any(|p| prefix.starts_with(p)) {
                "lot"
            } else {
                "supplier_lot"
            }
        }
        "transformation" => "operation",
        "party" => "party",
        "location" => "place",
        _ => "other",
    }
}

/// The status a person reads for a set of dispositions (most common first).
pub fn status_of(dispositions: &[(String, u64)]) -> &'static str {
    let bare = |d: &str| suyuan_engine::dashboard::tally::bare_term(d).to_string();
    let all: Vec<String> = dispositions.iter().map(|(d, _)| bare(d)).collect();
    if all.iter().any(|d| d == "recalled") {
        "recalled"
    } else if all.iter().any(|d| d == "non_conformant") {
        "non_conformant"
    } else if all
        .iter()
        .any(|d| d == "non_sellable_other" || d == "on_hold")
    {
        "on_hold"
    } else {
        match all.first().map(String::as_str) {
            Some("retail_sold") => "sold",
            Some("in_transit") => "in_transit",
            _ => "ok",
        }
    }
}

/// A node's short label: serial, lot number, SSCC, operation name.
fn short(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("transformation:") {
        let mut parts = rest.rsplit(':');
        let op = parts.next().unwrap_or(rest);
        let order = parts.next().unwrap_or_default();
        return if order.is_empty() {
            op.to_string()
        } else {
            format!("{op} · {order}")
        };
    }
    key.rsplit('/').next().unwrap_or(key).to_string()
}

/// The graph as the browser draws it, named in the reader's language.
fn graph_json(
    g: &suyuan_trace::Graph,
    names: &Names,
    own: &[String],
    tr: Tr,
    forward: bool,
) -> Value {
    let mut nodes: Vec<Value> = Vec::new();
    let mut edges: Vec<Value> = g
        .edges
        .iter()
        .map(|(f, t, r)| {
            json!({"source": g.nodes[*f].key, "target": g.nodes[*t].key,
                "relation": match r { Relation::Transform => "transform", Relation::Contain => "contain",
                    Relation::Member => "member", Relation::Associate => "associate" }})
        })
        .collect();
    for n in &g.nodes {
        let class = node_class(n, own);
        let status = status_of(&n.dispositions);
        let label = if n.count > 1 {
            let unit = tr.t(&format!("graph.kinds.{class}"));
            if n.containers > 0 {
                tr.t("graph.cluster_in")
                    .replace("{n}", &n.count.to_string())
                    .replace("{what}", unit)
                    .replace("{m}", &n.containers.to_string())
            } else {
                tr.t("graph.cluster")
                    .replace("{n}", &n.count.to_string())
                    .replace("{what}", unit)
            }
        } else {
            short(&n.key)
        };
        let product = names.of(&n.key).map(|x| x.name.clone()).unwrap_or_default();
        nodes.push(json!({
            "id": n.key, "class": class, "kind": tr.t(&format!("graph.kind.{class}")),
            "label": label, "product": product, "count": n.count, "level": n.level,
            "status": status, "statusName": tr.t(&format!("graph.status.{status}")),
            "more": n.more, "sample": n.sample, "href": object_href(&n.key),
        }));
        // Who holds them now, for the forward view's ends.
        for (party, count) in n.holders.iter().take(6).filter(|_| forward) {
            let pid = format!("party:{party}");
            if !nodes.iter().any(|x| x["id"] == pid.as_str()) {
                nodes.push(json!({"id": pid, "class": "party", "kind": tr.t("graph.kind.party"),
                    "label": names.label(party), "product": "", "count": count, "level": n.level + 1,
                    "status": "ok", "statusName": "", "more": false, "sample": [], "href": ""}));
            }
            edges.push(json!({"source": n.key, "target": pid, "relation": "holds"}));
        }
    }
    json!({"nodes": nodes, "edges": edges, "visited": g.visited})
}

/// The company prefixes of our own products, to tell supplier lots from ours.
async fn own_prefixes(st: &AppState) -> Vec<String> {
    suyuan_engine::codes::seven_digit_prefixes(&st.engine.own_gtins().await.unwrap_or_default())
}

/// `GET /api/v1/graph?id=&dir=backward|forward&levels=&lang=`: the clustered graph view.
pub async fn graph(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = q
        .get("id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("id", "the object to start from"))?;
    let dir = match q.get("dir").map(String::as_str) {
        None | Some("backward") => Direction::Backward,
        Some("forward") => Direction::Forward,
        Some(other) => {
            return Err(ApiError::bad_param(
                "dir",
                format!("backward or forward, got '{other}'"),
            ));
        }
    };
    let levels = match q.get("levels") {
        None => 8,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=20).contains(l))
            .ok_or_else(|| ApiError::bad_param("levels", "a number from 1 to 20"))?,
    };
    if !me.rows.is_all() && !st.engine.object_visible(&me.rows, id).await? {
        return Err(ApiError::NotFound(format!("no object {id} in your scope")));
    }
    let opts = GraphOptions {
        levels,
        ..GraphOptions::default()
    };
    let Some(g) = st.engine.graph(id, dir, opts).await? else {
        return Err(ApiError::NotFound(format!(
            "no event names the object {id}"
        )));
    };
    let lang = Lang::of_request(q.get("lang").map(String::as_str), &headers);
    let names = st.engine.names().await?;
    let own = own_prefixes(&st).await;
    Ok(Json(graph_json(
        &g,
        &names,
        &own,
        Tr { lang },
        dir == Direction::Forward,
    ))
    .into_response())
}

/// `GET /api/v1/graph/node?id=&lang=`: a node's name, state and latest events, for the side panel.
pub async fn node(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = q
        .get("id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("id", "the object"))?;
    let lang = Lang::of_request(q.get("lang").map(String::as_str), &headers);
    let tr = Tr { lang };
    let events = st.engine.latest_events(id, 20).await?;
    let events: Vec<_> = events
        .into_iter()
        .filter(|e| me.rows.event_visible(&e.event))
        .collect();
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("no visible event names {id}")));
    }
    let names = st.engine.names().await?;
    let state = st
        .engine
        .reader()
        .object(&suyuan_core::projection::object_key(id))
        .await?;
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            let ev = &e.event;
            let step = ev.get("bizStep").and_then(Value::as_str).unwrap_or_default();
            let place = ["bizLocation", "readPoint"]
                .iter()
                .find_map(|k| ev.get(k)?.get("id")?.as_str())
                .map(|p| names.label(p))
                .unwrap_or_default();
            json!({
                "time": friendly_time(ev.get("eventTime").and_then(Value::as_str).unwrap_or_default()),
                "step": if step.is_empty() { tr.event_type(ev.get("type").and_then(Value::as_str).unwrap_or_default()) } else { tr.step(step) },
                "disposition": ev.get("disposition").and_then(Value::as_str).map(|d| tr.disposition(d)).unwrap_or_default(),
                "place": place,
                "href": event_href(&e.event_id),
            })
        })
        .collect();
    Ok(Json(json!({
        "id": id,
        "name": names.of(id).map(|n| n.name.clone()).unwrap_or_default(),
        "disposition": state.as_ref().and_then(|s| s.disposition.as_deref()).map(|d| tr.disposition(d)).unwrap_or_default(),
        "place": state.as_ref().and_then(|s| s.location.as_deref()).map(|p| names.label(p)).unwrap_or_default(),
        "href": object_href(id),
        "trace": format!("/trace?q={}", utf8_percent_encode(id, NON_ALPHANUMERIC)),
        "events": list,
    }))
    .into_response())
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/trace", P::TraceRead, page),
        routes::get("/api/v1/graph", P::TraceRead, graph),
        routes::get("/api/v1/graph/node", P::TraceRead, node),
    ]
}
