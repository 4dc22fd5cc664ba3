//! Reports and dashboards: definitions (kinds `report` and `dashboard`, versioned, each version on the
//! ledger), the rows each report source offers (flat objects with a `time`, read from the projections
//! and the ledger), running a report, and the record of scheduled deliveries sent.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use suyuan_reports::{Dashboard, Report, Table};
use suyuan_store::StoreError;

use crate::Engine;
use crate::dashboard::Range;
use crate::forms::FormError;
use crate::operations::OpsError;

/// The definition kind of reports.
pub const REPORT_KIND: &str = "report";

/// The definition kind of dashboards.
pub const DASHBOARD_KIND: &str = "dashboard";

/// The record kind of scheduled deliveries made (`{code}/{period}`).
pub const DELIVERY_KIND: &str = "report.delivered";

/// Newest events a report over `events` reads.
pub const EVENT_ROWS: u32 = 50_000;

/// A definition with its version and when it was saved.
#[derive(Debug, Clone, Serialize)]
pub struct Versioned<T> {
    /// The definition.
    pub def: T,
    /// Its version.
    pub version: u32,
    /// When it was saved.
    pub saved_at: String,
}

fn versioned<T: serde::de::DeserializeOwned>(
    d: suyuan_store::StoredDefinition,
) -> Option<Versioned<T>> {
    Some(Versioned {
        def: serde_json::from_value(d.definition).ok()?,
        version: d.version,
        saved_at: d.created_at,
    })
}

fn event_row(e: &suyuan_store::StoredEvent) -> Value {
    let v = &e.event;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let place = |k: &str| {
        v.get(k)
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut keys: Vec<String> = Vec::new();
    for list in ["epcList", "inputEPCList", "outputEPCList", "childEPCs"] {
        for x in v.get(list).and_then(Value::as_array).into_iter().flatten() {
            keys.extend(x.as_str().map(suyuan_core::projection::object_key));
        }
    }
    let mut quantity = 0.0;
    for list in [
        "quantityList",
        "inputQuantityList",
        "outputQuantityList",
        "childQuantityList",
    ] {
        for q in v.get(list).and_then(Value::as_array).into_iter().flatten() {
            if let Some(c) = q.get("epcClass").and_then(Value::as_str) {
                keys.push(suyuan_core::projection::object_key(c));
            }
            quantity += q.get("quantity").and_then(Value::as_f64).unwrap_or(0.0);
        }
    }
    let (product, lot) = keys
        .iter()
        .find_map(|k| suyuan_ops::facts::product_and_lot(k))
        .unwrap_or_default();
    json!({"time": s("eventTime"), "type": s("type"), "action": s("action"),
        "biz_step": suyuan_core::cbv::bare_term(s("bizStep")), "disposition": suyuan_core::cbv::bare_term(s("disposition")),
        "read_point": place("readPoint"), "biz_location": place("bizLocation"), "objects": keys.len(),
        "quantity": quantity, "product": product, "lot": lot, "event_id": e.event_id,
        "actor": v.get("sy:actor").and_then(Value::as_str).unwrap_or("")})
}

impl Engine {
    /// The rows `source` offers (`metric`: the named metric's figure over `range`).
    pub async fn report_rows(
        &self,
        source: &str,
        metric: Option<&str>,
        range: Range,
    ) -> Result<Vec<Value>, FormError> {
        let now = crate::operations::now_text();
        Ok(match source {
            "events" => self
                .store()
                .recent_events(EVENT_ROWS)
                .await?
                .iter()
                .map(event_row)
                .collect(),
            "objects" => {
                // The objects the newest events name, each with its state now and its newest event's time.
                let mut keys: Vec<String> = Vec::new();
                let mut last: std::collections::HashMap<String, String> =
                    std::collections::HashMap::new();
                for e in self.store().recent_events(EVENT_ROWS).await? {
                    // Administrative changes name users, tokens and definitions, not goods.
                    if e.event.get("sy:change").is_some() {
                        continue;
                    }
                    let at = e.event.get("eventTime").and_then(Value::as_str).unwrap_or("");
                    for k in suyuan_core::access::objects_of(&e.event) {
                        let k = suyuan_core::projection::object_key(&k);
                        if !last.contains_key(&k) {
                            last.insert(k.clone(), at.to_string());
                            keys.push(k);
                        }
                    }
                }
                let mut rows = Vec::with_capacity(keys.len());
                for chunk in keys.chunks(1_000) {
                    for o in self.store().objects(chunk).await? {
                        let (product, lot) =
                            suyuan_ops::facts::product_and_lot(&o.id).unwrap_or_default();
                        let serial = o
                            .id
                            .split_once("/21/")
                            .map(|(_, s)| s.to_string())
                            .unwrap_or_default();
                        rows.push(json!({"time": last.get(&o.id), "object": o.id, "product": product,
                            "lot": lot, "serial": serial, "location": o.location, "container": o.container,
                            "party": o.party, "disposition": o.disposition.as_deref().map(suyuan_core::cbv::bare_term),
                            "events": o.event_count}));
                    }
                }
                rows
            }
            "inventory" => {
                let ops = self.operations().await?;
                ops.inventory
                    .stock(&suyuan_ops::inventory::StockFilter::default())
                    .into_iter()
                    .map(|r| {
                        json!({"time": now, "object": if r.lot.is_empty() { r.product.clone() } else { format!("{} {}", r.product, r.lot) },
                            "product": r.product, "lot": r.lot, "location": r.location, "status": r.status.as_str(),
                            "quantity": r.quantity, "unit": r.uom, "container": ""})
                    })
                    .collect()
            }
            "inspections" | "ncrs" | "holds" => {
                self.quality(|q| match source {
                    "inspections" => q
                        .inspections
                        .iter()
                        .map(|i| {
                            json!({"time": i.at, "id": i.id, "stage": i.stage, "plan": i.plan, "product": i.product,
                                "lot": i.lot, "supplier": i.supplier, "lot_size": i.lot_size, "sample_size": i.sample_size,
                                "result": if i.accepted { "accepted" } else { "rejected" }, "defects": i.defects,
                                "inspector": i.inspector, "ncr": i.ncr})
                        })
                        .collect(),
                    "ncrs" => q
                        .ncrs
                        .values()
                        .map(|n| {
                            json!({"time": n.raised_at, "id": n.id, "state": n.state.as_str(), "object": n.object,
                                "disposition": n.disposition.map(|d| d.as_str()), "summary": n.summary,
                                "inspection": n.inspection})
                        })
                        .collect(),
                    _ => q
                        .holds
                        .all()
                        .map(|h| {
                            json!({"time": h.at, "id": h.id, "state": if h.open { "open" } else { "released" },
                                "objects": h.objects.len(), "reason": h.reason, "ncr": h.ncr, "by": h.by})
                        })
                        .collect(),
                })
                .await?
            }
            "tasks" => self
                .tasks()
                .await?
                .into_iter()
                .map(|t| {
                    let overdue =
                        t.state == "open" && t.due.as_deref().is_some_and(|d| d < now.as_str());
                    json!({"time": t.created_at, "id": t.id, "kind": t.kind, "title": t.title, "role": t.role,
                        "user": t.user, "state": t.state, "due": t.due, "overdue": overdue, "source": t.source})
                })
                .collect(),
            "submissions" => self
                .submissions(None, usize::MAX)
                .await?
                .into_iter()
                .map(|s| {
                    let values: serde_json::Map<String, Value> = s
                        .values
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| {
                            let v = v.get("text").cloned().unwrap_or_else(|| v.clone());
                            (k.clone(), v)
                        })
                        .collect();
                    json!({"time": s.at, "id": s.id, "form": s.form, "version": s.version, "by": s.by,
                        "event_id": s.event_id, "value": values})
                })
                .collect(),
            "cases" => self
                .cases()
                .await?
                .into_iter()
                .map(|c| {
                    json!({"time": c.started_at, "id": c.id, "workflow": c.workflow, "state": c.state,
                        "title": c.title, "subject": c.subject, "ended": c.ended, "escalated": c.escalated,
                        "due": c.due, "started_by": c.started_by, "data": c.data})
                })
                .collect(),
            "metric" => {
                let name = metric.unwrap_or("");
                let f = self
                    .figure(name, range)
                    .await?
                    .ok_or_else(|| OpsError::NotFound(format!("metric {name}")))?;
                let mut rows = Vec::new();
                for s in &f.series {
                    for (c, v) in f.categories.iter().zip(&s.values) {
                        rows.push(json!({"time": now, "category": c.key, "name": c.name, "series": s.key,
                            "value": v, "detail": ""}));
                    }
                }
                for r in &f.rows {
                    rows.push(json!({"time": now, "category": r.key, "name": r.name, "series": "",
                        "value": r.value, "detail": r.detail}));
                }
                rows
            }
            other => return Err(OpsError::NotFound(format!("report source {other}")).into()),
        })
    }

    /// Runs `report` as of `now` (a metric over its `days`, or the last 30).
    pub async fn run_report(
        &self,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<Table, FormError> {
        let problems = report.problems();
        if !problems.is_empty() {
            return Err(FormError::Invalid(problems));
        }
        let to = now.date_naive();
        let days = u64::from(report.days.unwrap_or(30).clamp(1, 366));
        let range = Range {
            from: to - chrono::Days::new(days - 1),
            to,
        };
        let rows = self
            .report_rows(&report.source, report.metric.as_deref(), range)
            .await?;
        Ok(report.run(&rows, now))
    }

    /// Saves a report (a new version when it changed) after checking every field.
    pub async fn save_report(
        &self,
        actor: &str,
        r: &Report,
    ) -> Result<Versioned<Report>, FormError> {
        let mut problems = r.problems();
        if let Some(m) = &r.metric
            && r.source == "metric"
            && !self.metric_names().contains(&m.as_str())
        {
            problems.push(suyuan_forms::Problem::new(
                "metric",
                format!(
                    "one of {} ('{m}' is not one)",
                    self.metric_names().join(", ")
                ),
                format!("已有指标之一（没有“{m}”）"),
            ));
        }
        if !problems.is_empty() {
            return Err(FormError::Invalid(problems));
        }
        let doc = serde_json::to_value(r).unwrap_or(Value::Null);
        let d = self
            .save_definition(actor, REPORT_KIND, &r.code, &doc)
            .await
            .map_err(OpsError::from)?;
        versioned(d).ok_or_else(|| OpsError::NotFound(format!("report {}", r.code)).into())
    }

    /// The latest version of every report, by code.
    pub async fn reports(&self) -> Result<Vec<Versioned<Report>>, StoreError> {
        self.latest_of(REPORT_KIND).await
    }

    /// The latest version of every definition of `kind` that reads as a `T`, by name.
    async fn latest_of<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Vec<Versioned<T>>, StoreError> {
        let mut v: Vec<(String, Versioned<T>)> = self
            .store()
            .definitions(kind)
            .await?
            .into_iter()
            .filter_map(|d| Some((d.name.clone(), versioned(d)?)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v.into_iter().map(|(_, x)| x).collect())
    }

    /// The latest version of report `code`.
    pub async fn report(&self, code: &str) -> Result<Versioned<Report>, FormError> {
        self.store()
            .definition(REPORT_KIND, code, None)
            .await?
            .and_then(versioned)
            .ok_or_else(|| OpsError::NotFound(format!("report {code}")).into())
    }

    /// Saves a dashboard (a new version when it changed) after checking that its widgets name metrics
    /// and reports that exist.
    pub async fn save_dashboard(
        &self,
        actor: &str,
        d: &Dashboard,
    ) -> Result<Versioned<Dashboard>, FormError> {
        let metrics: Vec<String> = self.metric_names().iter().map(|m| m.to_string()).collect();
        let reports: Vec<String> = self
            .reports()
            .await?
            .into_iter()
            .map(|r| r.def.code)
            .collect();
        let problems = d.problems(&metrics, &reports);
        if !problems.is_empty() {
            return Err(FormError::Invalid(problems));
        }
        let doc = serde_json::to_value(d).unwrap_or(Value::Null);
        let s = self
            .save_definition(actor, DASHBOARD_KIND, &d.code, &doc)
            .await
            .map_err(OpsError::from)?;
        versioned(s).ok_or_else(|| OpsError::NotFound(format!("dashboard {}", d.code)).into())
    }

    /// The latest version of every saved dashboard, by code.
    pub async fn dashboards(&self) -> Result<Vec<Versioned<Dashboard>>, StoreError> {
        self.latest_of(DASHBOARD_KIND).await
    }

    /// The latest saved version of dashboard `code`, if it was saved.
    pub async fn dashboard(&self, code: &str) -> Result<Option<Versioned<Dashboard>>, StoreError> {
        Ok(self
            .store()
            .definition(DASHBOARD_KIND, code, None)
            .await?
            .and_then(versioned))
    }

    /// Whether the delivery `key` (`{code}/{period}/{recipient}`) was made.
    pub async fn delivered(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.store().account(DELIVERY_KIND, key).await?.is_some())
    }

    /// Records delivery `key` as made, with what it said.
    pub async fn mark_delivered(&self, key: &str, doc: &Value) -> Result<(), StoreError> {
        self.save_state(DELIVERY_KIND, key, doc).await
    }
}
