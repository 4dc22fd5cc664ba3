//! The native JSON API under `/api/v1`: capture, events, objects.

use crate::AppState;
use crate::auth::ItemCount;
use crate::error::{ApiError, Located};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;
use suyuan_core::projection::object_key;
use suyuan_engine::accounts::Principal;

/// Largest page of events or history one request returns.
pub const MAX_PAGE: u32 = 1000;

/// Parses a JSON request body, checking the content type; errors name the line and column.
pub fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !(mime == "application/json" || mime == "application/ld+json" || mime.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType(if ct.is_empty() {
            "none".into()
        } else {
            ct.to_string()
        }));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))
}

/// A capture body as the submit pipeline takes it: EPCIS XML (`application/xml`, `text/xml`) or JSON.
pub fn submission_input(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<suyuan_engine::submit::Input, ApiError> {
    let xml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/xml") || ct.starts_with("text/xml"));
    if !xml {
        return Ok(suyuan_engine::submit::Input::Json(json_body(
            headers, body,
        )?));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::invalid("", format!("the XML document is not UTF-8: {e}")))?;
    Ok(suyuan_engine::submit::Input::Xml(text.to_string()))
}

/// `POST /api/v1/events`: one event or an EPCIS document, JSON-LD or XML; all stored or nothing. The same
/// document gets the same answer here, at `POST /epcis/capture` and from `suyuan import`.
pub async fn capture(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let result = async {
        let input = submission_input(&headers, &body)?;
        let submission = suyuan_engine::submit::Submission::rollback(input);
        Ok::<_, ApiError>(st.engine.submit(&me, submission).await?)
    }
    .await;
    let outcome = match &result {
        Ok(o) if o.stored > 0 => "stored",
        Ok(_) => "duplicate",
        Err(e) => e.code(),
    };
    metrics::counter!("suyuan_capture_requests_total", "outcome" => outcome).increment(1);
    metrics::histogram!("suyuan_capture_duration_seconds").record(started.elapsed().as_secs_f64());
    let out = result?;
    metrics::counter!("suyuan_events_stored_total").increment(out.stored as u64);
    metrics::counter!("suyuan_events_duplicate_total").increment(out.duplicates as u64);
    let status = if out.stored > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(out)).into_response())
}

fn parse_u64(
    q: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: u64,
    errs: &mut Vec<Located>,
) -> u64 {
    match q.get(name) {
        None => default,
        Some(s) => match s.parse::<u64>() {
            Ok(v) if v <= max => v,
            _ => {
                errs.push(Located {
                    pointer: None,
                    parameter: Some(name.into()),
                    detail: format!("expected a whole number from 0 to {max}, got \"{s}\""),
                });
                default
            }
        },
    }
}

fn check_known(q: &HashMap<String, String>, known: &[&str], errs: &mut Vec<Located>) {
    let mut unknown: Vec<&String> = q.keys().filter(|k| !known.contains(&k.as_str())).collect();
    unknown.sort();
    for k in unknown {
        errs.push(Located {
            pointer: None,
            parameter: Some(k.clone()),
            detail: format!(
                "unknown parameter; this endpoint takes {}",
                known.join(", ")
            ),
        });
    }
}

/// Paging parameters `after_seq` and `limit`.
pub fn paging(q: &HashMap<String, String>, known: &[&str]) -> Result<(u64, u32), ApiError> {
    let mut errs = Vec::new();
    check_known(q, known, &mut errs);
    let after = parse_u64(q, "after_seq", 0, i64::MAX as u64, &mut errs);
    let limit = parse_u64(q, "limit", 100, u64::from(MAX_PAGE), &mut errs) as u32;
    if limit == 0 {
        errs.push(Located {
            pointer: None,
            parameter: Some("limit".into()),
            detail: format!("expected 1 to {MAX_PAGE}, got 0"),
        });
    }
    if errs.is_empty() {
        Ok((after, limit))
    } else {
        Err(ApiError::BadQuery(errs))
    }
}

/// `GET /api/v1/events?after_seq=&limit=`: the ledger in seq order, paged.
pub async fn list_events(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (after, limit) = paging(&q, &["after_seq", "limit"])?;
    let (events, next) = st
        .engine
        .visible_events_after(&me.rows, after, limit)
        .await?;
    let count = events.len() as u64;
    let mut body = json!({ "events": events });
    let mut resp_headers = HeaderMap::new();
    if let Some(n) = next {
        let url = format!("/api/v1/events?after_seq={n}&limit={limit}");
        body["next"] = json!(url);
        if let Ok(v) = format!("<{url}>; rel=\"next\"").parse() {
            resp_headers.insert(header::LINK, v);
        }
    }
    let mut resp = (resp_headers, Json(body)).into_response();
    resp.extensions_mut().insert(ItemCount(count));
    Ok(resp)
}

/// `GET /api/v1/events/{eventId}`: one event with its ledger position and hashes.
pub async fn get_event(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match st.engine.reader().event_by_id(&id).await? {
        // Outside a partner's or regulator's scope the event does not exist for them.
        Some(e) if me.rows.event_visible(&e.event) => {
            let mut resp = Json(e).into_response();
            resp.extensions_mut().insert(ItemCount(1));
            Ok(resp)
        }
        _ => Err(ApiError::NotFound(format!("no event with eventID {id}"))),
    }
}

/// `GET /api/v1/objects/{uri}`: current state and history of one object (any of its URI spellings).
pub async fn get_object(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(uri): Path<String>,
    raw: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    // `/objects/{uri}/where`: the suffix is only the sub-resource when it is a literal path segment (a
    // percent-encoded URI carries its own slashes as %2F).
    let not_found = |uri: &str, key: &str| {
        ApiError::NotFound(format!(
            "no event names the object {uri} (looked up as {key})"
        ))
    };
    if raw.path().ends_with("/where")
        && let Some(inner) = uri.strip_suffix("/where")
    {
        if !st
            .engine
            .object_visible(&me.rows, &object_key(inner))
            .await?
        {
            return Err(not_found(inner, &object_key(inner)));
        }
        return where_is(&st, inner).await;
    }
    if raw.path().ends_with("/story")
        && let Some(inner) = uri.strip_suffix("/story")
    {
        if !me.rows.is_all() {
            return Err(ApiError::Forbidden(
                "a unit's story follows its whole genealogy; partners and regulators read events and \
                 (regulators) trace reports within their scope"
                    .into(),
            ));
        }
        return crate::web::story::story(&st, inner).await;
    }
    let (after, limit) = paging(&q, &["after_seq", "limit"])?;
    let key = object_key(&uri);
    let store = st.engine.reader();
    let Some(state) = store.object(&key).await? else {
        return Err(not_found(&uri, &key));
    };
    let (state, history) = if me.rows.is_all() {
        (state, store.object_history(&key, after, limit).await?)
    } else {
        // One read of what the principal may see serves visibility, state and the first page.
        let visible = st
            .engine
            .visible_history(&me.rows, &key, 0, u32::MAX)
            .await?;
        if visible.is_empty() {
            return Err(not_found(&uri, &key));
        }
        let page = if after == 0 {
            visible.iter().take(limit as usize).cloned().collect()
        } else {
            st.engine
                .visible_history(&me.rows, &key, after, limit)
                .await?
        };
        (
            suyuan_engine::scope::scoped_state(&me.rows, state, &visible),
            page,
        )
    };
    let contents = if me.rows.is_all() {
        store.contents(&key, MAX_PAGE).await?
    } else {
        Vec::new()
    };
    // Consumer scans are the manufacturer's data.
    let (scan_count, recent_scans) = if me.rows.is_all() {
        store.scans(&key, 20).await?
    } else {
        (0, Vec::new())
    };
    let next = (history.len() as u32 == limit)
        .then(|| history.last().map(|e| e.seq))
        .flatten();
    let mut body = json!({
        "object": state,
        "contents": contents.iter().map(|c| &c.id).collect::<Vec<_>>(),
        "history": history,
        "scans": {"count": scan_count, "recent": recent_scans},
    });
    if let Some(n) = next {
        body["next"] = json!(format!(
            "/api/v1/objects/{}?after_seq={n}&limit={limit}",
            percent_encoding::utf8_percent_encode(&uri, percent_encoding::NON_ALPHANUMERIC)
        ));
    }
    let mut resp = Json(body).into_response();
    resp.extensions_mut()
        .insert(ItemCount(history.len() as u64));
    Ok(resp)
}

/// `GET /api/v1/objects/{uri}/where`: where the object is now, through every level of containers.
async fn where_is(st: &AppState, uri: &str) -> Result<Response, ApiError> {
    let key = object_key(uri);
    let store = st.engine.reader();
    let Some(state) = store.object(&key).await? else {
        return Err(ApiError::NotFound(format!(
            "no event names the object {uri} (looked up as {key})"
        )));
    };
    let mut chain = Vec::new();
    let mut next = state.container.clone();
    while let Some(c) = next.take() {
        if chain.len() >= crate::api::recall::MAX_NESTING
            || chain.iter().any(|s: &suyuan_store::ObjectState| s.id == c)
        {
            break;
        }
        match store.object(&c).await? {
            Some(s) => {
                next = s.container.clone();
                chain.push(s);
            }
            None => break,
        }
    }
    let all: Vec<&suyuan_store::ObjectState> =
        std::iter::once(&state).chain(chain.iter()).collect();
    let located = crate::api::recall::freshest(&all, |s| s.location.as_ref());
    Ok(Json(json!({
        "object": state,
        "location": located.and_then(|s| s.location.clone()),
        "locationFrom": located.map(|s| s.id.clone()),
        "disposition": state.disposition,
        "containers": chain,
        "outermost": chain.last().map(|s| s.id.clone()),
    }))
    .into_response())
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/api/v1/events", P::EventsRead, list_events),
        routes::post("/api/v1/events", P::EventsWrite, capture),
        routes::get("/api/v1/events/{*event_id}", P::EventsRead, get_event),
        routes::get("/api/v1/objects/{*uri}", P::EventsRead, get_object),
    ]
}
