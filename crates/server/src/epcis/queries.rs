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
        .store()
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
    let store = st.engine.store();
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
        .store()
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
        .store()
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
        .store()
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
    let cursor = st.engine.store().stats().await?.events;
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
        let Ok(batch) = st.engine.store().events_after(cursor, DELIVERY_BATCH).await else {
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

/// A subscription streams or follows a schedule, one of the two, and its schedule must be valid.
fn check_controls(schedule: Option<&Value>, stream: bool) -> Result<(), EpcisError> {
    match (schedule, stream) {
        (None, false) => Err(EpcisError::subscription_controls(
            "give a schedule, or stream=true to receive events as they are captured".into(),
        )),
        (Some(_), true) => Err(EpcisError::subscription_controls(
            "stream and schedule exclude each other".into(),
        )),
        (Some(s), false) => schedule_valid(s)
            .map_err(|m| EpcisError::subscription_controls(format!("schedule: {m}"))),
        (None, true) => Ok(()),
    }
}

/// A cron-like schedule: each field a list of values or ranges (`1,5`, `0-30`, `[0-5]`); an omitted second
/// means 0, any other omitted field means every value.
fn field_matches(spec: Option<&str>, v: u32, default_any: bool) -> bool {
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return default_any || v == 0;
    };
    spec.split(',').any(|part| {
        let part = part.trim().trim_start_matches('[').trim_end_matches(']');
        if part == "*" {
            return true;
        }
        match part.split_once('-') {
            Some((a, b)) => matches!((a.parse::<u32>(), b.parse::<u32>()), (Ok(a), Ok(b)) if (a..=b).contains(&v)),
            None => part.parse::<u32>() == Ok(v),
        }
    })
}

fn schedule_valid(s: &Value) -> Result<(), String> {
    let limits = [
        ("second", 0, 59),
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("dayOfMonth", 1, 31),
        ("month", 1, 12),
        ("dayOfWeek", 1, 7),
    ];
    let obj = s.as_object().ok_or("expected an object")?;
    for k in obj.keys() {
        if !limits.iter().any(|(n, _, _)| n == k) {
            return Err(format!("unknown field {k}"));
        }
    }
    for (name, lo, hi) in limits {
        let Some(v) = obj.get(name) else { continue };
        let text = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        for part in text.split(',') {
            let part = part.trim().trim_start_matches('[').trim_end_matches(']');
            let nums: Vec<&str> = part.split('-').collect();
            let ok = part == "*"
                || (1..=2).contains(&nums.len())
                    && nums
                        .iter()
                        .all(|n| n.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n)));
            if !ok {
                return Err(format!(
                    "{name}: expected values or ranges within {lo}-{hi}, got \"{text}\""
                ));
            }
        }
    }
    Ok(())
}

fn schedule_due(s: &Value, t: chrono::DateTime<chrono::Utc>) -> bool {
    let f = |k: &str| -> Option<String> {
        s.get(k).map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
    };
    field_matches(f("second").as_deref(), t.second(), false)
        && field_matches(f("minute").as_deref(), t.minute(), true)
        && field_matches(f("hour").as_deref(), t.hour(), true)
        && field_matches(f("dayOfMonth").as_deref(), t.day(), true)
        && field_matches(f("month").as_deref(), t.month(), true)
        && field_matches(
            f("dayOfWeek").as_deref(),
            t.weekday().number_from_monday(),
            true,
        )
}

fn public_view(id: &str, d: &Value) -> Value {
    json!({"subscriptionID": id, "dest": d["dest"], "stream": d["stream"], "schedule": d["schedule"],
           "reportIfEmpty": d["reportIfEmpty"], "createdAt": d["createdAt"], "lastNotifiedAt": d["lastNotifiedAt"],
           "initialRecordTime": d["initialRecordTime"], "failures": d["failures"], "lastError": d["lastError"],
           "signatureToken": if d["signatureToken"].is_string() { json!("(set)") } else { Value::Null }})
}

/// `POST /epcis/queries/{name}/subscriptions`: `{dest, signatureToken?, stream: true | schedule, reportIfEmpty?,
/// initialRecordTime?}`; 201 with `Location`.
pub async fn subscribe(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, EpcisError> {
    load_query(&st, &name).await?;
    let v = crate::api::events::json_body(&headers, &body)?;
    const KNOWN: [&str; 6] = [
        "dest",
        "signatureToken",
        "stream",
        "schedule",
        "reportIfEmpty",
        "initialRecordTime",
    ];
    if let Some(k) = v
        .as_object()
        .and_then(|o| o.keys().find(|k| !KNOWN.contains(&k.as_str())))
    {
        return Err(EpcisError::validation(format!(
            "/{k}: unknown field; expected {}",
            KNOWN.join(", ")
        )));
    }
    let dest = v
        .get("dest")
        .and_then(Value::as_str)
        .filter(|d| d.starts_with("http://") || d.starts_with("https://"))
        .ok_or_else(|| {
            EpcisError::validation("/dest: required, an http:// or https:// URL".into())
        })?;
    if !st.webhooks.allows(dest) {
        return Err(EpcisError::validation(format!(
            "/dest: {dest} is not on this server's webhook allow-list (an administrator sets it with \
             --webhook-allow HOST[,HOST…])"
        )));
    }
    let stream = v.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let schedule = v.get("schedule").cloned();
    check_controls(schedule.as_ref(), stream)?;
    // Where delivery starts: events recorded from initialRecordTime on, else only new ones.
    let store = st.engine.store();
    let cursor = match v.get("initialRecordTime").and_then(Value::as_str) {
        Some(t) => {
            let ms = suyuan_core::time::parse_timestamp(t)
                .map(|t| suyuan_core::time::unix_millis(&t))
                .map_err(|m| EpcisError::validation(format!("/initialRecordTime: {m}")))?;
            first_seq_recorded_from(&st, ms).await?.saturating_sub(1)
        }
        None => store.stats().await?.events,
    };
    let id = uuid_like()?;
    let doc = json!({"query": name, "owner": me.user, "dest": dest,
        "signatureToken": v.get("signatureToken").and_then(Value::as_str),
        "stream": stream, "schedule": schedule, "reportIfEmpty": v.get("reportIfEmpty").and_then(Value::as_bool).unwrap_or(false),
        "initialRecordTime": v.get("initialRecordTime"), "cursor": cursor,
        "createdAt": suyuan_core::time::format_utc_millis(chrono::Utc::now()), "lastNotifiedAt": null,
        "failures": 0, "nextAttemptMs": 0, "lastError": null, "lastRunMs": chrono::Utc::now().timestamp_millis()});
    store
        .put_account(account_kinds::SUBSCRIPTION, &id, &doc, true)
        .await?;
    let mut resp = (StatusCode::CREATED, Json(public_view(&id, &doc))).into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("/epcis/queries/{name}/subscriptions/{id}")) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(with_epcis_headers(resp))
}

async fn first_seq_recorded_from(st: &AppState, ms: i64) -> Result<u64, EpcisError> {
    // Record times grow with seq: binary search over the ledger.
    let store = st.engine.store();
    let (mut lo, mut hi) = (1u64, store.stats().await?.events + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let e = store.events_by_seq(&[mid]).await?;
        let t = e
            .first()
            .and_then(|e| suyuan_core::time::parse_timestamp(&e.record_time).ok())
            .map(|t| suyuan_core::time::unix_millis(&t))
            .unwrap_or(i64::MAX);
        if t < ms {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

fn uuid_like() -> Result<String, EpcisError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)
        .map_err(|e| EpcisError::implementation(format!("random source: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// `GET /epcis/queries/{name}/subscriptions`.
pub async fn subscriptions(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Response, EpcisError> {
    load_query(&st, &name).await?;
    // Destinations are the subscriber's business: each user sees their own, administrators all.
    let all: Vec<Value> = st
        .engine
        .store()
        .accounts(account_kinds::SUBSCRIPTION)
        .await?
        .iter()
        .filter(|(_, d)| d["query"] == name.as_str() && sees(&me, d))
        .map(|(id, d)| public_view(id, d))
        .collect();
    Ok(with_epcis_headers(Json(json!(all)).into_response()))
}

/// Whether `me` may see and end a subscription: its owner, or an administrator.
fn sees(me: &Principal, sub: &Value) -> bool {
    sub["owner"] == me.user.as_str() || me.allows(suyuan_core::access::Permission::Admin)
}

async fn owned(st: &AppState, me: &Principal, name: &str, id: &str) -> Result<Value, EpcisError> {
    st.engine
        .store()
        .account(account_kinds::SUBSCRIPTION, id)
        .await?
        .filter(|d| d["query"] == name && sees(me, d))
        .ok_or_else(|| no_such(format!("no subscription {id} of query {name}")))
}

/// `GET /epcis/queries/{name}/subscriptions/{id}`.
pub async fn subscription(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, EpcisError> {
    let d = owned(&st, &me, &name, &id).await?;
    Ok(with_epcis_headers(
        Json(public_view(&id, &d)).into_response(),
    ))
}

/// `DELETE /epcis/queries/{name}/subscriptions/{id}`.
pub async fn unsubscribe(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, EpcisError> {
    owned(&st, &me, &name, &id).await?;
    st.engine
        .store()
        .delete_account(account_kinds::SUBSCRIPTION, &id)
        .await?;
    Ok(with_epcis_headers(StatusCode::NO_CONTENT.into_response()))
}

/// The `GS1-Signature` of a delivery body: `HMAC-SHA256=<hex>` keyed with the subscriber's token.
pub fn signature(token: &str, body: &[u8]) -> Option<String> {
    // HMAC takes keys of any length; the error case cannot happen.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(token.as_bytes()).ok()?;
    mac.update(body);
    Some(format!(
        "HMAC-SHA256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

fn client() -> &'static reqwest::Client {
    static C: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}

/// Delivers what is due to every subscription once: stream subscriptions get the events recorded since their
/// cursor (up to [`DELIVERY_BATCH`]), scheduled ones at their schedule. A 2xx moves the cursor; anything else
/// is retried after 1, 2, 4 … 300 s, so every event reaches a destination at least once. Answers the number
/// of deliveries made.
pub async fn deliver_due(st: &AppState) -> Result<usize, EpcisError> {
    let store = st.engine.store();
    let now = chrono::Utc::now();
    let now_ms = now.timestamp_millis();
    let mut delivered = 0;
    for (id, mut d) in store.accounts(account_kinds::SUBSCRIPTION).await? {
        if d["nextAttemptMs"].as_i64().unwrap_or(0) > now_ms {
            continue;
        }
        let scheduled = d["schedule"].is_object();
        if scheduled {
            // Due when a matching second passed since the last run.
            let last = d["lastRunMs"].as_i64().unwrap_or(now_ms);
            let due = (last / 1000 + 1..=now_ms / 1000)
                .rev()
                .take(120)
                .filter_map(|s| chrono::DateTime::from_timestamp(s, 0))
                .any(|t| schedule_due(&d["schedule"], t));
            if !due {
                continue;
            }
        }
        // A destination taken off the allow-list receives nothing: the subscription waits, its cursor kept.
        if !st.webhooks.allows(d["dest"].as_str().unwrap_or("")) {
            continue;
        }
        // Read what is new first: a stream subscription with nothing new needs nothing else this second.
        let cursor = d["cursor"].as_u64().unwrap_or(0);
        let batch = store.events_after(cursor, DELIVERY_BATCH).await?;
        if batch.is_empty() && !scheduled {
            continue;
        }
        let name = d["query"].as_str().unwrap_or("").to_string();
        let Ok(params) = load_query(st, &name).await else {
            continue;
        };
        let owner = d["owner"].as_str().unwrap_or("").to_string();
        let Ok(Some(me)) = st.engine.principal_for(&owner).await else {
            continue;
        };
        let Ok(mut q) = Query::parse(&params, &Default::default()) else {
            continue;
        };
        st.engine.resolve_master_data(&mut q).await?;
        let last_examined = batch.last().map_or(cursor, |e| e.seq);
        let events: Vec<&StoredEvent> = batch
            .iter()
            .filter(|e| suyuan_engine::query::deliverable(&me, &q, e))
            .collect();
        if events.is_empty() && !(scheduled && d["reportIfEmpty"].as_bool().unwrap_or(false)) {
            if last_examined != cursor || scheduled {
                d["cursor"] = json!(last_examined);
                d["lastRunMs"] = json!(now_ms);
                store
                    .put_account(account_kinds::SUBSCRIPTION, &id, &d, false)
                    .await?;
            }
            continue;
        }
        let doc = crate::epcis::bindings::query_document(&events, Some((&name, &id)));
        let body = doc.to_string();
        let mut req = client()
            .post(d["dest"].as_str().unwrap_or(""))
            .header(header::CONTENT_TYPE, "application/ld+json")
            .header("GS1-EPCIS-Version", "2.0.0");
        if let Some(sig) = d["signatureToken"]
            .as_str()
            .and_then(|tok| signature(tok, body.as_bytes()))
        {
            req = req.header("GS1-Signature", sig);
        }
        let outcome = req.body(body).send().await;
        match outcome {
            Ok(r) if r.status().is_success() => {
                d["cursor"] = json!(last_examined);
                d["failures"] = json!(0);
                d["nextAttemptMs"] = json!(0);
                d["lastError"] = Value::Null;
                d["lastNotifiedAt"] = json!(suyuan_core::time::format_utc_millis(now));
                d["lastRunMs"] = json!(now_ms);
                delivered += 1;
            }
            other => {
                let failures = d["failures"].as_i64().unwrap_or(0) + 1;
                let wait = 1i64
                    .checked_shl(u32::try_from(failures - 1).unwrap_or(31).min(30))
                    .unwrap_or(MAX_BACKOFF_S)
                    .min(MAX_BACKOFF_S);
                d["failures"] = json!(failures);
                d["nextAttemptMs"] = json!(now_ms + wait * 1000);
                d["lastError"] = json!(match other {
                    Ok(r) => format!(
                        "{} answered {}",
                        d["dest"].as_str().unwrap_or(""),
                        r.status()
                    ),
                    Err(e) => format!("{}: {e}", d["dest"].as_str().unwrap_or("")),
                });
                tracing::warn!(subscription = %id, failures, "subscription delivery failed; retrying later");
            }
        }
        store
            .put_account(account_kinds::SUBSCRIPTION, &id, &d, false)
            .await?;
    }
    Ok(delivered)
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

/// EPCIS subscriptions as a reactor of the outbox: stream subscriptions get new events as they commit,
/// scheduled ones are looked at every second; one server of several delivers (the reactor's lease).
pub struct Subscriptions(pub AppState);

#[async_trait::async_trait]
impl suyuan_engine::reactor::Reactor for Subscriptions {
    fn name(&self) -> &'static str {
        "subscriptions"
    }

    async fn react(
        &self,
        _engine: &suyuan_engine::Engine,
        _entries: &[suyuan_store::OutboxEntry],
    ) -> Result<(), suyuan_engine::reactor::ReactorError> {
        deliver_due(&self.0)
            .await
            .map(|_| ())
            .map_err(|e| suyuan_engine::reactor::ReactorError(format!("{e:?}")))
    }

    fn tick(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(1))
    }
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
