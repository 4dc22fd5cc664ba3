//! The recall report: a forward trace, then for every affected unit, case, pallet and lot where it is now,
//! who holds it, and which shipments carried affected goods to which customer. JSON, CSV or XLSX.

use crate::AppState;
use crate::error::{ApiError, Located};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use suyuan_core::projection::object_key;
use suyuan_store::ObjectState;
use suyuan_trace::{TraceOptions, node_kind};

/// Most container levels followed when locating an object.
pub(crate) const MAX_NESTING: usize = 16;

/// A logistic unit and the window (ms) in which it carried affected goods.
type Carried = (String, Option<i64>, Option<i64>);

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
    /// The holder's name from master data, when it has one.
    #[serde(rename = "holderName", skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
    /// The location's name from master data, when it has one.
    #[serde(rename = "locationName", skip_serializing_if = "Option::is_none")]
    pub location_name: Option<String>,
    /// Seq of its last event.
    #[serde(rename = "lastSeq")]
    pub last_seq: u64,
    /// When it stopped carrying affected goods (a case the affected units were unpacked from); such an
    /// object is listed but holds nothing affected, so it counts for no holder.
    #[serde(rename = "carriedUntil", skip_serializing_if = "Option::is_none")]
    pub carried_until: Option<String>,
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

/// A recall report: what is affected, who holds it, which shipments carried it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecallReport {
    /// The traced object's key.
    pub id: String,
    /// The ledger seq the index had reached.
    #[serde(rename = "indexedThroughSeq")]
    pub indexed_through_seq: u64,
    /// Totals.
    pub counts: Counts,
    /// Per holding party.
    pub holders: Vec<Holder>,
    /// Shipping events that handed affected logistic units to a party.
    pub shipments: Vec<Shipment>,
    /// Every affected object.
    pub objects: Vec<Affected>,
    /// The checkpoint the report was built on and the events its facts come from.
    pub ledger: crate::api::ledger::LedgerAnchor,
}

/// Totals of a recall report.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Affected objects.
    pub objects: usize,
    /// Of which serialised units.
    pub instances: usize,
    /// Of which cases and pallets.
    pub logistic_units: usize,
    /// Of which lots.
    pub lots: usize,
    /// Holding parties (including "(not shipped)").
    pub holders: usize,
    /// Shipments.
    pub shipments: usize,
}

/// What one party holds.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// The party, or "(not shipped)".
    pub party: String,
    /// Units it holds.
    pub instances: u64,
    /// Cases and pallets it holds.
    pub logistic_units: u64,
    /// Lots.
    pub lots: u64,
    /// Where those are.
    pub locations: std::collections::BTreeSet<String>,
}

/// One shipment of affected goods.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shipment {
    /// Ledger seq of the shipping event.
    pub seq: u64,
    /// Its eventID.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Its eventTime.
    #[serde(rename = "eventTime")]
    pub event_time: Value,
    /// Its destinationList.
    pub destinations: Value,
    /// Affected logistic units it handed over.
    #[serde(rename = "logisticUnits")]
    pub logistic_units: Vec<String>,
}

/// Builds the report for `id`. Everything but the shipments' event details comes from the trace index (the
/// genealogy and every object's whereabouts), so a recall of 100,000 units reads a few hundred events.
pub async fn report(
    st: &AppState,
    id: &str,
    opts: &TraceOptions,
) -> Result<RecallReport, ApiError> {
    let key = object_key(id);
    let started = std::time::Instant::now();
    let store = st.engine.reader();
    let tracer = st.engine.trace_index().await?;
    let (objects, handovers, edge_seqs) = {
        let index = tracer.read();
        let Some(trace) = index.forward(&key, opts) else {
            return Err(ApiError::NotFound(format!(
                "no event names the object {id} (looked up as {key})"
            )));
        };
        let edge_seqs: Vec<u64> = trace
            .edges
            .iter()
            .filter_map(|e| index.edge(*e).map(|e| e.seq))
            .collect();
        // Per handover seq, the affected logistic units it handed over with the window they carried
        // affected goods in: a case shipped after the units left it shipped nothing affected.
        let mut handovers: BTreeMap<u64, Vec<Carried>> = BTreeMap::new();
        let mut objects = Vec::new();
        for n in &trace.nodes {
            let name = index.name(n.node);
            let kind = node_kind(&name);
            if !matches!(kind, "instance" | "logistic_unit" | "lot" | "other") {
                continue;
            }
            let Some(w) = index.state(n.node).filter(|w| w.last_seq > 0) else {
                continue;
            };
            let (location, holder, _) = index.located(n.node);
            if kind == "logistic_unit" {
                for seq in w.handovers {
                    handovers
                        .entry(*seq)
                        .or_default()
                        .push((name.clone(), n.from_ms, n.until_ms));
                }
            }
            let carried_until = n.until_ms.and_then(suyuan_core::time::format_unix_millis);
            objects.push(Affected {
                holder_name: None,
                location_name: None,
                kind,
                location: location.map(str::to_string),
                disposition: w.disposition.map(str::to_string),
                container: w.container.map(|c| index.name(c)),
                holder: holder.map(str::to_string),
                last_seq: w.last_seq,
                carried_until,
                id: name,
            });
        }
        (objects, handovers, edge_seqs)
    };
    let located_ms = started.elapsed().as_secs_f64() * 1000.0;
    // People read names: the holders and places by their master-data names.
    let names = st.engine.names().await?;
    let mut objects = objects;
    for o in &mut objects {
        o.holder_name = o
            .holder
            .as_deref()
            .and_then(|h| names.of(h))
            .map(|n| n.name.clone());
        o.location_name = o
            .location
            .as_deref()
            .and_then(|l| names.of(l))
            .map(|n| n.name.clone());
    }

    // Who holds what now.
    let mut holders: BTreeMap<&str, Holder> = BTreeMap::new();
    for o in objects.iter().filter(|o| o.carried_until.is_none()) {
        let party = o.holder.as_deref().unwrap_or("(not shipped)");
        let entry = holders.entry(party).or_insert_with(|| Holder {
            party: party.to_string(),
            instances: 0,
            logistic_units: 0,
            lots: 0,
            locations: Default::default(),
        });
        match o.kind {
            "instance" => entry.instances += 1,
            "logistic_unit" => entry.logistic_units += 1,
            _ => entry.lots += 1,
        }
        if let Some(l) = &o.location
            && !entry.locations.contains(l)
        {
            entry.locations.insert(l.clone());
        }
    }
    let holders: Vec<Holder> = holders.into_values().collect();

    // Shipments: the events that handed affected logistic units to a party.
    let seqs: Vec<u64> = handovers.keys().copied().collect();
    let mut shipments: Vec<Shipment> = Vec::new();
    for e in store.events_by_seq(&seqs).await? {
        if e.event.get("bizStep").and_then(Value::as_str) != Some("shipping") {
            continue;
        }
        let at = e
            .event
            .get("eventTime")
            .and_then(Value::as_str)
            .and_then(|t| suyuan_core::time::parse_timestamp(t).ok())
            .map(|t| t.timestamp_millis());
        let logistic_units: Vec<String> = handovers
            .get(&e.seq)
            .into_iter()
            .flatten()
            .filter(|(_, from, until)| {
                at.is_some_and(|t| from.is_none_or(|f| f <= t) && until.is_none_or(|u| t < u))
            })
            .map(|(name, _, _)| name.clone())
            .collect();
        if logistic_units.is_empty() {
            continue;
        }
        let destinations = e
            .event
            .get("destinationList")
            .cloned()
            .unwrap_or(Value::Null);
        shipments.push(Shipment {
            seq: e.seq,
            event_time: e.event["eventTime"].clone(),
            event_id: e.event_id,
            destinations,
            logistic_units,
        });
    }
    tracing::debug!(
        located_ms,
        shipments_ms = started.elapsed().as_secs_f64() * 1000.0,
        "recall report"
    );
    let mut seqs = edge_seqs;
    seqs.extend(objects.iter().map(|o| o.last_seq));
    seqs.extend(shipments.iter().map(|s| s.seq));
    seqs.sort_unstable();
    seqs.dedup();
    let ledger = crate::api::ledger::anchor(st, &seqs).await?;
    let count = |k: &str| objects.iter().filter(|o| o.kind == k).count();
    Ok(RecallReport {
        id: key,
        indexed_through_seq: tracer.applied_seq(),
        counts: Counts {
            objects: objects.len(),
            instances: count("instance"),
            logistic_units: count("logistic_unit"),
            lots: count("lot"),
            holders: holders.len(),
            shipments: shipments.len(),
        },
        holders,
        shipments,
        objects,
        ledger,
    })
}

fn rows(report: &RecallReport) -> impl Iterator<Item = [String; 11]> + '_ {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let hashes: HashMap<u64, &str> = report
        .ledger
        .events
        .iter()
        .map(|e| (e.seq, e.event_hash.as_str()))
        .collect();
    report.objects.iter().map(move |o| {
        [
            o.id.clone(),
            o.kind.to_string(),
            s(&o.location),
            s(&o.disposition),
            s(&o.container),
            s(&o.holder),
            s(&o.holder_name),
            s(&o.location_name),
            o.last_seq.to_string(),
            hashes
                .get(&o.last_seq)
                .copied()
                .unwrap_or_default()
                .to_string(),
            s(&o.carried_until),
        ]
    })
}

const HEADER: [&str; 11] = [
    "id",
    "type",
    "location",
    "disposition",
    "container",
    "holder",
    "holder_name",
    "location_name",
    "last_seq",
    "last_event_hash",
    "carried_until",
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
pub fn to_csv(report: &RecallReport) -> String {
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
pub fn to_xlsx(report: &RecallReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = wb.add_worksheet().set_name("objects")?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in rows(report).enumerate() {
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
    for (r, h) in report.holders.iter().enumerate() {
        let r = (r + 1) as u32;
        sheet.write_string(r, 0, &h.party)?;
        for (c, n) in [h.instances, h.logistic_units, h.lots].iter().enumerate() {
            sheet.write_number(r, (c + 1) as u16, *n as f64)?;
        }
        let locations: Vec<&str> = h.locations.iter().map(String::as_str).collect();
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
    for (r, s) in report.shipments.iter().enumerate() {
        let r = (r + 1) as u32;
        sheet.write_number(r, 0, s.seq as f64)?;
        sheet.write_string(r, 1, &s.event_id)?;
        sheet.write_string(r, 2, s.event_time.as_str().unwrap_or_default())?;
        let dest: Vec<String> = s
            .destinations
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
        sheet.write_string(r, 4, s.logistic_units.join(" "))?;
    }
    let sheet = wb.add_worksheet().set_name("ledger")?;
    sheet.write_string_with_format(0, 0, "tree_size", &bold)?;
    sheet.write_number(0, 1, report.ledger.tree_size as f64)?;
    sheet.write_string_with_format(1, 0, "root", &bold)?;
    sheet.write_string(1, 1, report.ledger.root.as_deref().unwrap_or_default())?;
    sheet.write_string_with_format(2, 0, "checkpoint", &bold)?;
    sheet.write_string(
        2,
        1,
        report.ledger.checkpoint.as_deref().unwrap_or_default(),
    )?;
    for (c, h) in ["seq", "event_hash", "leaf_hash"].iter().enumerate() {
        sheet.write_string_with_format(4, c as u16, *h, &bold)?;
    }
    for (r, e) in report.ledger.events.iter().enumerate() {
        let r = (r + 5) as u32;
        sheet.write_number(r, 0, e.seq as f64)?;
        sheet.write_string(r, 1, &e.event_hash)?;
        sheet.write_string(r, 2, &e.leaf_hash)?;
    }
    wb.save_to_buffer()
}

/// `GET /api/v1/trace/recall?id=…&format=json|csv|xlsx` (plus `depth`, `from`, `to` as for traces).
pub async fn recall(
    State(st): State<AppState>,
    axum::Extension(me): axum::Extension<suyuan_engine::accounts::Principal>,
    Query(mut q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if !me.rows.is_all() {
        return Err(ApiError::Forbidden(
            "a recall report names every holder of everything made from a lot, beyond any grant; \
             regulators use the forward trace, which stays within their grants"
                .into(),
        ));
    }
    let format = q.remove("format").unwrap_or_else(|| "json".into());
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(ApiError::BadQuery(vec![Located {
            pointer: None,
            parameter: Some("format".into()),
            detail: format!("expected json, csv or xlsx, got \"{format}\""),
        }]));
    }
    let (id, opts) = crate::api::trace::options(&q)?;
    let report = report(&st, &id, &opts).await?;
    // The file is named after what people call the object (its serial, lot or SSCC) and the day.
    let short: String = id
        .rsplit(['/', ':', '.'])
        .next()
        .unwrap_or("object")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    let stem = format!("recall-{short}-{}", chrono::Utc::now().format("%Y-%m-%d"));
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

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![routes::get("/api/v1/trace/recall", P::TraceRead, recall)]
}
