//! Reading events: `GET /epcis/events` and the named resources (`/epcis/eventTypes`, `/epcis/epcs/{epc}/events`, …) over the engine's query planner, as EPCISQueryDocuments.

#[allow(unused_imports)]
use super::*;

/// `GET /epcis/events/{eventID}`.
pub async fn event(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, EpcisError> {
    match st.engine.reader().event_by_id(&id).await? {
        Some(e) if me.rows.event_visible(&e.event) && wants_xml(&headers) => {
            negotiated(&headers, query_document(&[&e], None))
        }
        Some(e) if me.rows.event_visible(&e.event) => {
            let mut v = e.event_with_record_time();
            translate_epcs(&mut v, epc_format(&headers)?);
            if let Some(o) = v.as_object_mut() {
                o.insert("@context".into(), context_of(&e));
            }
            Ok(ok(v))
        }
        _ => Err(EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no event with eventID {id}"),
        )),
    }
}

/// The JSON-LD context an event needs: the standard one plus the event's own prefixes.
pub(super) fn context_of(e: &StoredEvent) -> Value {
    let mut ctx = vec![json!(CONTEXT)];
    match e.event.get("@context") {
        Some(Value::Array(a)) => {
            ctx.extend(a.iter().filter(|c| c.as_str() != Some(CONTEXT)).cloned())
        }
        Some(o @ Value::Object(_)) => ctx.push(o.clone()),
        _ => {}
    }
    Value::Array(ctx)
}

/// An EPCISQueryDocument holding `events` (their contexts merged into one), for a subscription when given
/// (query name, subscription id).
pub(crate) fn query_document(events: &[&StoredEvent], subscription: Option<(&str, &str)>) -> Value {
    let mut ctx = vec![json!(CONTEXT)];
    for e in events {
        if let Some(Value::Array(a)) = e.event.get("@context") {
            for c in a {
                if c.as_str() != Some(CONTEXT) && !ctx.contains(c) {
                    ctx.push(c.clone());
                }
            }
        }
    }
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut v = e.event_with_record_time();
            if let Some(o) = v.as_object_mut() {
                o.remove("@context");
            }
            v
        })
        .collect();
    let mut results = json!({"queryName": "SimpleEventQuery", "resultsBody": {"eventList": list}});
    if let Some((name, id)) = subscription {
        results["queryName"] = json!(name);
        results["subscriptionID"] = json!(id);
    }
    json!({
        "@context": ctx, "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": now(),
        "epcisBody": {"queryResults": results},
    })
}

/// Runs a query and answers an EPCISQueryDocument page (`Link: <…>; rel="next"` when there is more).
pub(crate) async fn run_query(
    st: &AppState,
    me: &Principal,
    headers: &HeaderMap,
    path: &str,
    mut params: Vec<(String, String)>,
    fixed: &[(String, String)],
) -> Result<Response, EpcisError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let per_page = match get("perPage") {
        None => PER_PAGE,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| {
                EpcisError::query_params(vec![suyuan_epcis::query::QueryParamError {
                    parameter: "perPage".into(),
                    message: format!("expected 1 to {MAX_PER_PAGE}, got \"{s}\""),
                }])
            })?,
    };
    let token = get("nextPageToken");
    let shown_params = params.clone();
    params.extend(fixed.iter().cloned());
    let q = Query::parse(&params, &extensions_of(headers)).map_err(EpcisError::query_params)?;
    let QueryPage { events: page, next } = st
        .engine
        .query_events(me, q, &fingerprint(&params), per_page, token.as_deref())
        .await
        .map_err(|e| match e {
            QueryError::Params(p) => EpcisError::query_params(p),
            QueryError::TooMany(m) => EpcisError::too_large(m),
            QueryError::Store(s) => s.into(),
        })?;
    let count = page.len() as u64;
    let doc = query_document(&page.iter().collect::<Vec<_>>(), None);
    let mut resp = negotiated(headers, doc)?;
    if let Some(t) = next {
        let mut q: Vec<(String, String)> = shown_params
            .into_iter()
            .filter(|(k, _)| k != "nextPageToken")
            .collect();
        q.push(("nextPageToken".into(), t.clone()));
        let url = format!(
            "{path}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        );
        if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            resp.headers_mut().insert(header::LINK, v);
        }
        if let Ok(v) = HeaderValue::from_str(&t) {
            resp.headers_mut()
                .insert(HeaderName::from_static("gs1-next-page-token"), v);
        }
    }
    resp.extensions_mut().insert(ItemCount(count));
    Ok(resp)
}

/// `GET /epcis/events?…`: every SimpleEventQuery parameter, paged with `perPage` and `nextPageToken`.
pub async fn events(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, EpcisError> {
    let params = params_of(raw.as_deref())?;
    run_query(&st, &me, &headers, "/epcis/events", params, &[]).await
}

/// The top-level resources whose values select events, and the query parameter each maps to.
pub(super) fn resource_param(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "eventTypes" => "eventType",
        "epcs" => "MATCH_anyEPC",
        "bizSteps" => "EQ_bizStep",
        "bizLocations" => "EQ_bizLocation",
        "readPoints" => "EQ_readPoint",
        "dispositions" => "EQ_disposition",
        _ => return None,
    })
}

/// `GET /epcis/{resource}/{value}/events`: the events query with that value fixed.
pub async fn resource_events(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    Path((resource, value)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, EpcisError> {
    let param = resource_param(&resource).ok_or_else(|| {
        EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no top-level resource {resource}"),
        )
    })?;
    let params = params_of(raw.as_deref())?;
    let path = format!(
        "/epcis/{resource}/{}/events",
        percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)
    );
    run_query(
        &st,
        &me,
        &headers,
        &path,
        params,
        &[(param.to_string(), value)],
    )
    .await
}

/// `GET /epcis/{resource}/{value}`: the sub-resources of one value (its events).
pub async fn resource_value(
    Path((resource, _value)): Path<(String, String)>,
) -> Result<Response, EpcisError> {
    resource_param(&resource).ok_or_else(|| {
        EpcisError::new(
            "NoSuchResourceException",
            StatusCode::NOT_FOUND,
            format!("no top-level resource {resource}"),
        )
    })?;
    Ok(ok(
        json!({"@context": [CONTEXT], "type": "Collection", "member": ["events"]}),
    ))
}

/// `GET /epcis`: the top-level resources.
pub async fn root() -> Response {
    ok(json!({"@context": [CONTEXT], "type": "Collection",
        "member": ["events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture", "queries"]}))
}

/// `GET /epcis/eventTypes`, `/bizSteps`, `/dispositions`: the standard values; `/epcs`, `/bizLocations`,
/// `/readPoints`: the values used by events, a page at a time (`perPage`, `nextPageToken`).
pub async fn collection(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(resource): Path<String>,
    QueryParams(q): QueryParams<HashMap<String, String>>,
) -> Result<Response, EpcisError> {
    let fixed: Option<Vec<String>> = match resource.as_str() {
        "eventTypes" => Some(
            [
                "AggregationEvent",
                "AssociationEvent",
                "ObjectEvent",
                "TransactionEvent",
                "TransformationEvent",
            ]
            .map(String::from)
            .to_vec(),
        ),
        "bizSteps" => Some(
            Vocab::BizStep
                .values()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        "dispositions" => Some(
            Vocab::Disposition
                .values()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        "epcs" | "bizLocations" | "readPoints" => None,
        _ => {
            return Err(EpcisError::new(
                "NoSuchResourceException",
                StatusCode::NOT_FOUND,
                format!("no top-level resource {resource}"),
            ));
        }
    };
    if let Some(values) = fixed {
        return Ok(ok(
            json!({"@context": [CONTEXT], "type": "Collection", "member": values}),
        ));
    }
    let per_page = q
        .get("perPage")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
        .unwrap_or(PER_PAGE);
    let mut cursor: u64 = match q.get("nextPageToken") {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            EpcisError::query_params(vec![suyuan_epcis::query::QueryParamError {
                parameter: "nextPageToken".into(),
                message: "unknown token".into(),
            }])
        })?,
    };
    // Distinct values in ledger order of first use, continuing after the token's seq.
    let mut seen = std::collections::BTreeSet::new();
    let mut members = Vec::new();
    let more: bool;
    let mut scanned = 0u64;
    'scan: loop {
        let batch = st.engine.reader().events_after(cursor, 1000).await?;
        let done = batch.len() < 1000;
        for e in batch {
            if members.len() >= per_page {
                more = true;
                break 'scan;
            }
            cursor = e.seq;
            scanned += 1;
            if !me.rows.event_visible(&e.event) {
                continue;
            }
            let values: Vec<String> = match resource.as_str() {
                "epcs" => suyuan_core::access::objects_of(&e.event).collect(),
                "bizLocations" => e
                    .event
                    .pointer("/bizLocation/id")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .into_iter()
                    .collect(),
                _ => e
                    .event
                    .pointer("/readPoint/id")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .into_iter()
                    .collect(),
            };
            for v in values {
                if seen.insert(v.clone()) {
                    members.push(v);
                }
            }
        }
        if done || scanned >= SCAN_LIMIT {
            more = !done;
            break;
        }
    }
    let mut resp = ok(json!({"@context": [CONTEXT], "type": "Collection", "member": members}));
    if more {
        let url = format!("/epcis/{resource}?perPage={per_page}&nextPageToken={cursor}");
        if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}
