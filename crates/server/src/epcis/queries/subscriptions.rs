//! Subscriptions to named queries: creating, listing and deleting them (owners and administrators), and delivering to webhooks as a reactor of the outbox, with signatures and back-off.

#[allow(unused_imports)]
use super::*;

/// A subscription streams or follows a schedule, one of the two, and its schedule must be valid.
pub(super) fn check_controls(schedule: Option<&Value>, stream: bool) -> Result<(), EpcisError> {
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
pub(super) fn field_matches(spec: Option<&str>, v: u32, default_any: bool) -> bool {
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

pub(super) fn schedule_valid(s: &Value) -> Result<(), String> {
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

pub(super) fn schedule_due(s: &Value, t: chrono::DateTime<chrono::Utc>) -> bool {
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

pub(super) fn public_view(id: &str, d: &Value) -> Value {
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
    let store = st.engine.reader();
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
    // Who sends the ledger's events where is an administrative fact: recorded with the subscription.
    st.engine
        .create_subscription(&me.user, &id, &doc)
        .await
        .map_err(crate::error::ApiError::from)?;
    let mut resp = (StatusCode::CREATED, Json(public_view(&id, &doc))).into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("/epcis/queries/{name}/subscriptions/{id}")) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(with_epcis_headers(resp))
}

pub(super) async fn first_seq_recorded_from(st: &AppState, ms: i64) -> Result<u64, EpcisError> {
    // Record times grow with seq: binary search over the ledger.
    let store = st.engine.reader();
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

pub(super) fn uuid_like() -> Result<String, EpcisError> {
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
        .reader()
        .accounts(account_kinds::SUBSCRIPTION)
        .await?
        .iter()
        .filter(|(_, d)| d["query"] == name.as_str() && sees(&me, d))
        .map(|(id, d)| public_view(id, d))
        .collect();
    Ok(with_epcis_headers(Json(json!(all)).into_response()))
}

/// Whether `me` may see and end a subscription: its owner, or an administrator.
pub(super) fn sees(me: &Principal, sub: &Value) -> bool {
    sub["owner"] == me.user.as_str() || me.allows(suyuan_core::access::Permission::Admin)
}

pub(super) async fn owned(
    st: &AppState,
    me: &Principal,
    name: &str,
    id: &str,
) -> Result<Value, EpcisError> {
    st.engine
        .reader()
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
        .delete_subscription(&me.user, &id, &name)
        .await
        .map_err(crate::error::ApiError::from)?;
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

pub(super) fn client() -> &'static reqwest::Client {
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
    let store = st.engine.reader();
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
                st.engine
                    .save_state(account_kinds::SUBSCRIPTION, &id, &d)
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
        st.engine
            .save_state(account_kinds::SUBSCRIPTION, &id, &d)
            .await?;
    }
    Ok(delivered)
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
