//! EPCIS named queries and their subscriptions: `/epcis/queries` (create, list, get, delete, `…/events`)
//! and `/epcis/queries/{name}/subscriptions` — webhooks that receive, at least once and in ledger order,
//! the events matching the query as they are captured (`stream`) or on a cron-like `schedule`, each POST
//! signed with HMAC-SHA-256 of the subscriber's `signatureToken`, retried with exponential back-off.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{Datelike, Timelike};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use suyuan_engine::accounts::Principal;
use suyuan_epcis::query::Query;
use suyuan_store::{StoredEvent, account_kinds, kinds};

use crate::AppState;
use crate::epcis::bindings::{EpcisError, run_query, with_epcis_headers};

mod subscriptions;

pub use subscriptions::*;

/// Events one delivery carries at most (the next delivery continues).
pub const DELIVERY_BATCH: u32 = 1_000;

/// Longest wait between retries of a failing destination.
const MAX_BACKOFF_S: i64 = 300;

fn no_such(what: String) -> EpcisError {
    EpcisError::no_such_name(what)
}

/// The query of a definition as request parameters (arrays become `a|b`).
fn params_of_definition(q: &Value) -> Result<Vec<(String, String)>, EpcisError> {
    let obj = q.as_object().ok_or_else(|| {
        EpcisError::validation("/query: expected an object of query parameters".into())
    })?;
    let mut out = Vec::new();
    for (k, v) in obj {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("|"),
            Value::Object(_) => {
                return Err(EpcisError::validation(format!(
                    "/query/{k}: expected a string, number or array, got an object"
                )));
            }
        };
        out.push((k.clone(), s));
    }
    Ok(out)
}

async fn load_query(st: &AppState, name: &str) -> Result<Vec<(String, String)>, EpcisError> {
    let def = st
        .engine
        .reader()
        .definition(kinds::EPCIS_QUERY, name, None)
        .await?
        .filter(|d| d.definition.get("deleted").is_none())
        .ok_or_else(|| no_such(format!("no query named {name}")))?;
    params_of_definition(&def.definition["query"])
}

/// `POST /epcis/queries` `{name, query}`: 201 with `Location`.
pub async fn create(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, EpcisError> {
    let v = crate::api::events::json_body(&headers, &body)?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| {
            (1..=100).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .ok_or_else(|| {
            EpcisError::validation(
                "/name: required, 1 to 100 letters, digits, '-', '_' or '.'".into(),
            )
        })?
        .to_string();
    let query = v
        .get("query")
        .ok_or_else(|| EpcisError::validation("/query: required".into()))?;
    let params = params_of_definition(query)?;
    Query::parse(&params, &Default::default()).map_err(EpcisError::query_params)?;
    let store = st.engine.reader();
    if store
        .definition(kinds::EPCIS_QUERY, &name, None)
        .await?
        .is_some_and(|d| d.definition.get("deleted").is_none())
    {
        return Err(EpcisError::already_exists(format!(
            "a query named {name} exists; delete it first"
        )));
    }
    st.engine
        .save_definition(
            &me.user,
            kinds::EPCIS_QUERY,
            &name,
            &json!({"query": query}),
        )
        .await
        .map_err(crate::error::ApiError::from)?;
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({"name": name, "query": query})),
    )
        .into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("/epcis/queries/{name}")) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(with_epcis_headers(resp))
}

/// `GET /epcis/queries`.
pub async fn list(State(st): State<AppState>) -> Result<Response, EpcisError> {
    let all: Vec<Value> = st
        .engine
        .reader()
        .definitions(kinds::EPCIS_QUERY)
        .await?
        .into_iter()
        .filter(|d| d.definition.get("deleted").is_none())
        .map(|d| json!({"name": d.name, "query": d.definition["query"]}))
        .collect();
    Ok(with_epcis_headers(Json(json!(all)).into_response()))
}

/// `GET /epcis/queries/{name}`.
pub async fn get(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, EpcisError> {
    load_query(&st, &name).await?;
    let d = st
        .engine
        .reader()
        .definition(kinds::EPCIS_QUERY, &name, None)
        .await?
        .ok_or_else(|| no_such(format!("no query named {name}")))?;
    Ok(with_epcis_headers(
        Json(json!({"name": name, "query": d.definition["query"]})).into_response(),
    ))
}

/// `DELETE /epcis/queries/{name}`: the query and its subscriptions.
pub async fn delete(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Response, EpcisError> {
    load_query(&st, &name).await?;
    // Subscribers depend on the query: it goes only when nobody is subscribed to it.
    let live = st
        .engine
        .reader()
        .accounts(account_kinds::SUBSCRIPTION)
        .await?
        .iter()
        .filter(|(_, d)| d["query"] == name.as_str())
        .count();
    if live > 0 {
        return Err(EpcisError::new(
            "ValidationException",
            StatusCode::CONFLICT,
            format!(
                "query {name} has {live} live subscription(s): they are ended first (DELETE each \
                 /epcis/queries/{name}/subscriptions/{{id}})"
            ),
        ));
    }
    st.engine
        .save_definition(
            &me.user,
            kinds::EPCIS_QUERY,
            &name,
            &json!({"deleted": true}),
        )
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(with_epcis_headers(StatusCode::NO_CONTENT.into_response()))
}

/// `GET /epcis/queries/{name}/events`: runs the named query (paging parameters may be added); with
/// `Upgrade: websocket` it becomes a WebSocket subscription instead (`stream=true`, or schedule parameters
/// `second`, `minute`, `hour`, `dayOfMonth`, `month`, `dayOfWeek` with `reportIfEmpty`), sending an
/// EPCISQueryDocument per batch of new matching events.
pub async fn events(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    request: axum::extract::Request,
) -> Result<Response, EpcisError> {
    let fixed = load_query(&st, &name).await?;
    let params = crate::epcis::bindings::params_of(raw.as_deref())?;
    if headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    {
        return websocket(st, me, name, fixed, params, request).await;
    }
    if let Some((k, _)) = params
        .iter()
        .find(|(k, _)| !suyuan_epcis::query::PAGING.contains(&k.as_str()))
    {
        return Err(EpcisError::query_params(vec![
            suyuan_epcis::query::QueryParamError {
                parameter: k.clone(),
                message: "a named query takes only perPage and nextPageToken".into(),
            },
        ]));
    }
    let path = format!("/epcis/queries/{name}/events");
    run_query(&st, &me, &headers, &path, params, &fixed).await
}

async fn websocket(
    st: AppState,
    me: Principal,
    name: String,
    fixed: Vec<(String, String)>,
    params: Vec<(String, String)>,
    request: axum::extract::Request,
) -> Result<Response, EpcisError> {
    use axum::extract::FromRequestParts;
    use axum::extract::ws::WebSocketUpgrade;
    // A browser's WebSocket carries its cookies: refuse other sites (cross-site WebSocket hijacking).
    let (mut parts, _) = request.into_parts();
    if me.session.is_some() {
        crate::auth::same_origin(&parts.headers)?;
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let stream = get("stream").as_deref() == Some("true");
    let mut schedule = serde_json::Map::new();
    for k in [
        "second",
        "minute",
        "hour",
        "dayOfMonth",
        "month",
        "dayOfWeek",
    ] {
        if let Some(v) = get(k) {
            schedule.insert(k.into(), json!(v));
        }
    }
    let schedule = (!schedule.is_empty()).then_some(Value::Object(schedule));
    check_controls(schedule.as_ref(), stream)?;
    let report_if_empty = get("reportIfEmpty").as_deref() == Some("true");
    let mut q = Query::parse(&fixed, &Default::default()).map_err(EpcisError::query_params)?;
    st.engine.resolve_master_data(&mut q).await?;
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| EpcisError::validation(format!("WebSocket upgrade: {e}")))?;
    let cursor = st.engine.reader().stats().await?.events;
    Ok(upgrade.on_upgrade(move |socket| {
        ws_session(st, me, name, q, schedule, report_if_empty, cursor, socket)
    }))
}

/// Sends matching events to a WebSocket until the client goes away or the query is deleted.
#[allow(clippy::too_many_arguments)]
async fn ws_session(
    st: AppState,
    me: Principal,
    name: String,
    q: Query,
    schedule: Option<Value>,
    report_if_empty: bool,
    mut cursor: u64,
    mut socket: axum::extract::ws::WebSocket,
) {
    use axum::extract::ws::Message;
    let id = uuid_like().unwrap_or_default();
    let mut last_run = chrono::Utc::now().timestamp();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
        }
        if load_query(&st, &name).await.is_err() {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
        let now = chrono::Utc::now();
        if let Some(s) = &schedule {
            let due = (last_run + 1..=now.timestamp())
                .filter_map(|t| chrono::DateTime::from_timestamp(t, 0))
                .any(|t| schedule_due(s, t));
            last_run = now.timestamp();
            if !due {
                continue;
            }
        }
        let Ok(batch) = st
            .engine
            .reader()
            .events_after(cursor, DELIVERY_BATCH)
            .await
        else {
            continue;
        };
        let next = batch.last().map_or(cursor, |e| e.seq);
        let events: Vec<&StoredEvent> = batch
            .iter()
            .filter(|e| suyuan_engine::query::deliverable(&me, &q, e))
            .collect();
        if !events.is_empty() || (schedule.is_some() && report_if_empty) {
            let doc = crate::epcis::bindings::query_document(&events, Some((&name, &id)));
            if socket
                .send(Message::Text(doc.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
        cursor = next;
    }
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/epcis/queries", P::EventsRead, list),
        routes::post("/epcis/queries", P::QueriesWrite, create),
        routes::get("/epcis/queries/{name}", P::EventsRead, get),
        routes::delete("/epcis/queries/{name}", P::QueriesWrite, delete),
        routes::get("/epcis/queries/{name}/events", P::EventsRead, events),
        routes::get(
            "/epcis/queries/{name}/subscriptions",
            P::EventsRead,
            subscriptions,
        ),
        routes::post(
            "/epcis/queries/{name}/subscriptions",
            P::QueriesWrite,
            subscribe,
        ),
        routes::get(
            "/epcis/queries/{name}/subscriptions/{id}",
            P::EventsRead,
            subscription,
        ),
        routes::delete(
            "/epcis/queries/{name}/subscriptions/{id}",
            P::QueriesWrite,
            unsubscribe,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_match_like_cron() {
        let t = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&chrono::Utc)
        };
        let s = json!({"hour": "1", "minute": "5"});
        assert!(schedule_due(&s, t("2026-11-26T01:05:00Z")));
        assert!(
            !schedule_due(&s, t("2026-11-26T01:05:01Z")),
            "second defaults to 0"
        );
        assert!(!schedule_due(&s, t("2026-11-26T02:05:00Z")));
        let every = json!({"second": "0-59"});
        assert!(schedule_due(&every, t("2026-11-26T13:47:31Z")));
        assert!(schedule_valid(&json!({"minute": "61"})).is_err());
        assert!(schedule_valid(&json!({"minutes": "1"})).is_err());
        assert!(schedule_valid(&json!({"dayOfWeek": "[1-5]", "hour": "8,17"})).is_ok());
    }

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?").as_deref(),
            Some("HMAC-SHA256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }
}
