//! The recall report: a forward trace, then for every affected unit, case, pallet and lot where it is now,
//! who holds it, and which shipments carried affected goods to which customer. JSON, CSV or XLSX.

use crate::AppState;
use crate::error::{ApiError, Located};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use suyuan_core::projection::object_key;
use suyuan_store::ObjectState;
use suyuan_trace::{TraceOptions, node_kind};

/// Most container levels followed when locating an object.
pub(crate) const MAX_NESTING: usize = 16;
/// Most history events read per logistic unit when collecting shipments.
const HISTORY_LIMIT: u32 = 1000;

/// One affected object with where it is now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Affected {
    /// Object key.
    pub id: String,
    /// `instance`, `logistic_unit` or `lot`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Current location (its own, or its outermost container's when that moved later).
    pub location: Option<String>,
    /// Current disposition.
    pub disposition: Option<String>,
    /// Immediate container.
    pub container: Option<String>,
    /// The party holding it (the last destination party of it or its containers).
    pub holder: Option<String>,
    /// Seq of its last event.
    #[serde(rename = "lastSeq")]
    pub last_seq: u64,
}

/// Effective location and holder: the freshest values among the object and its container chain.
fn locate(
    obj: &ObjectState,
    states: &HashMap<String, ObjectState>,
) -> (Option<String>, Option<String>) {
    let mut chain = vec![obj];
    let mut next = obj.container.as_deref();
    while let Some(c) = next {
        if chain.len() > MAX_NESTING || chain.iter().any(|s| s.id == c) {
            break;
        }
        match states.get(c) {
            Some(s) => {
                chain.push(s);
                next = s.container.as_deref();
            }
            None => break,
        }
    }
    (
        freshest(&chain, |s| s.location.as_ref()).and_then(|s| s.location.clone()),
        freshest(&chain, |s| s.party.as_ref()).and_then(|s| s.party.clone()),
    )
}

/// The member of an object's container chain with the freshest value of `f`: a can moves with its case,
/// so the case's later location is the can's.
pub(crate) fn freshest<'a>(
    chain: &[&'a ObjectState],
    f: fn(&ObjectState) -> Option<&String>,
) -> Option<&'a ObjectState> {
    chain
        .iter()
        .copied()
        .filter(|s| f(s).is_some())
        .max_by_key(|s| s.last_seq)
}

/// Builds the report for `id`.
pub async fn report(st: &AppState, id: &str, opts: &TraceOptions) -> Result<Value, ApiError> {
    let key = object_key(id);
    let store = st.engine.store().clone();
    let tracer = st.engine.trace_index().await?;
    let reached: Vec<String> = {
        let index = tracer.read();
        match index.forward(&key, opts) {
            Some(t) => t.nodes.iter().map(|n| index.name(n.node)).collect(),
            None => vec![key.clone()],
        }
    };
    let affected_keys: Vec<String> = reached
        .into_iter()
        .filter(|k| matches!(node_kind(k), "instance" | "logistic_unit" | "lot" | "other"))
        .collect();
    let mut states: HashMap<String, ObjectState> = store
        .objects(&affected_keys)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    if states.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no event names the object {id} (looked up as {key})"
        )));
    }
    // Containers outside the trace (repacked later) are fetched level by level.
    for _ in 0..MAX_NESTING {
        let missing: Vec<String> = states
            .values()
            .filter_map(|s| s.container.clone())
            .filter(|c| !states.contains_key(c))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            break;
        }
        let found = store.objects(&missing).await?;
        if found.is_empty() {
            break;
        }
        states.extend(found.into_iter().map(|s| (s.id.clone(), s)));
    }
    let objects: Vec<Affected> = affected_keys
        .iter()
        .filter_map(|k| states.get(k))
        .map(|s| {
            let (location, holder) = locate(s, &states);
            Affected {
                id: s.id.clone(),
                kind: node_kind(&s.id),
                location,
                disposition: s.disposition.clone(),
                container: s.container.clone(),
                holder,
                last_seq: s.last_seq,
            }
        })
        .collect();

    // Who holds what now.
    let mut holders: BTreeMap<String, (u64, u64, u64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    for o in &objects {
        let entry = holders
            .entry(o.holder.clone().unwrap_or_else(|| "(not shipped)".into()))
            .or_default();
        match o.kind {
            "instance" => entry.0 += 1,
            "logistic_unit" => entry.1 += 1,
            _ => entry.2 += 1,
        }
        if let Some(l) = &o.location {
            entry.3.insert(l.clone());
        }
    }

    // Shipments that carried affected logistic units or units.
    let mut shipments: BTreeMap<u64, (Value, Vec<String>)> = BTreeMap::new();
    for o in objects.iter().filter(|o| o.kind == "logistic_unit") {
        for e in store.object_history(&o.id, 0, HISTORY_LIMIT).await? {
            if e.event.get("bizStep").and_then(Value::as_str) != Some("shipping") {
                continue;
            }
            let entry = shipments.entry(e.seq).or_insert_with(|| {
                let destinations = e.event.get("destinationList").cloned().unwrap_or(Value::Null);
                (
                    json!({"seq": e.seq, "eventID": e.event_id, "eventTime": e.event["eventTime"], "destinations": destinations}),
                    Vec::new(),
                )
            });
            entry.1.push(o.id.clone());
        }
    }
    let count = |k: &str| objects.iter().filter(|o| o.kind == k).count();
    Ok(json!({
        "id": key,
        "indexedThroughSeq": tracer.applied_seq(),
        "counts": {
            "objects": objects.len(), "instances": count("instance"), "logisticUnits": count("logistic_unit"),
            "lots": count("lot"), "holders": holders.len(), "shipments": shipments.len(),
        },
        "holders": holders.into_iter().map(|(party, (instances, units, lots, locations))| json!({
            "party": party, "instances": instances, "logisticUnits": units, "lots": lots, "locations": locations,
        })).collect::<Vec<_>>(),
        "shipments": shipments.into_values().map(|(mut v, objs)| { v["logisticUnits"] = json!(objs); v }).collect::<Vec<_>>(),
        "objects": objects,
    }))
}

fn rows(report: &Value) -> Vec<[String; 7]> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    report["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    [
                        s(&o["id"]),
                        s(&o["type"]),
                        s(&o["location"]),
                        s(&o["disposition"]),
                        s(&o["container"]),
                        s(&o["holder"]),
                        o["lastSeq"].to_string(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default()
}

const HEADER: [&str; 7] = [
    "id",
    "type",
    "location",
    "disposition",
    "container",
    "holder",
    "last_seq",
];

/// Quotes a CSV field when it needs it (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The report's objects as CSV (one row per affected object).
pub fn to_csv(report: &Value) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in rows(report) {
        out.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The report as an XLSX workbook: objects, holders, shipments. Identifiers are written as text (Excel
/// would otherwise drop leading zeros and digits past 15).
pub fn to_xlsx(report: &Value) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = wb.add_worksheet().set_name("objects")?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in rows(report).iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string((r + 1) as u32, c as u16, v)?;
        }
    }
    let sheet = wb.add_worksheet().set_name("holders")?;
    for (c, h) in ["party", "instances", "logistic_units", "lots", "locations"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, h) in report["holders"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let r = (r + 1) as u32;
        sheet.write_string(r, 0, h["party"].as_str().unwrap_or_default())?;
        for (c, k) in ["instances", "logisticUnits", "lots"].iter().enumerate() {
            sheet.write_number(r, (c + 1) as u16, h[*k].as_f64().unwrap_or(0.0))?;
        }
        let locations: Vec<&str> = h["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        sheet.write_string(r, 4, locations.join(" "))?;
    }
    let sheet = wb.add_worksheet().set_name("shipments")?;
    for (c, h) in [
        "seq",
        "event_id",
        "event_time",
        "destinations",
        "logistic_units",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, s) in report["shipments"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let r = (r + 1) as u32;
        sheet.write_number(r, 0, s["seq"].as_f64().unwrap_or(0.0))?;
        sheet.write_string(r, 1, s["eventID"].as_str().unwrap_or_default())?;
        sheet.write_string(r, 2, s["eventTime"].as_str().unwrap_or_default())?;
        let dest: Vec<String> = s["destinations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{}={}",
                    d["type"].as_str().unwrap_or_default(),
                    d["destination"].as_str().unwrap_or_default()
                )
            })
            .collect();
        sheet.write_string(r, 3, dest.join(" "))?;
        let units: Vec<&str> = s["logisticUnits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        sheet.write_string(r, 4, units.join(" "))?;
    }
    wb.save_to_buffer()
}

/// `GET /api/v1/trace/recall?id=…&format=json|csv|xlsx` (plus `depth`, `from`, `to` as for traces).
pub async fn recall(
    State(st): State<AppState>,
    Query(mut q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let format = q.remove("format").unwrap_or_else(|| "json".into());
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(ApiError::BadQuery(vec![Located {
            pointer: None,
            parameter: Some("format".into()),
            detail: format!("expected json, csv or xlsx, got \"{format}\""),
        }]));
    }
    let (id, opts) = crate::trace_api::options(&q)?;
    let report = report(&st, &id, &opts).await?;
    let stem = format!(
        "recall-{}",
        id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    );
    let attach = |ext: &str| {
        HeaderValue::from_str(&format!("attachment; filename=\"{stem}.{ext}\""))
            .unwrap_or(HeaderValue::from_static("attachment"))
    };
    match format.as_str() {
        "csv" => {
            let mut resp = to_csv(&report).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            resp.headers_mut()
                .insert(header::CONTENT_DISPOSITION, attach("csv"));
            Ok(resp)
        }
        "xlsx" => {
            let bytes = to_xlsx(&report)
                .map_err(|e| ApiError::Unavailable(format!("could not build the workbook: {e}")))?;
            let mut resp = bytes.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            );
            resp.headers_mut()
                .insert(header::CONTENT_DISPOSITION, attach("xlsx"));
            Ok(resp)
        }
        _ => Ok(Json(report).into_response()),
    }
}
