//! The batch quality report of a lot: every inspection of the lot and of the lots it was made from,
//! process parameters recorded outside their limits, the nonconformance reports and holds that touch it,
//! a summary of its genealogy (what it was made from, what was made of it and where that is now), and the
//! lot's events with their hashes and the signed checkpoint that covers them.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use suyuan_core::access::RowScope;
use suyuan_core::projection::object_key;
use suyuan_quality::holds::Hold;
use suyuan_trace::TraceOptions;

use super::state::{InspectionRecord, Ncr};
use crate::Engine;
use crate::operations::{OpsError, problem};
use crate::recall::Scope;
use crate::report::{ReportError, TraceReport};

/// A process parameter reading outside its limits.
#[derive(Debug, Clone, Serialize)]
pub struct Excursion {
    /// When it was read.
    pub time: String,
    /// The parameter.
    pub parameter: String,
    /// The value read.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The limit it passed.
    pub limit: f64,
    /// `min` or `max`.
    pub bound: String,
    /// The station or equipment that read it.
    pub source: String,
}

/// What a lot was made from and what became of it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Genealogy {
    /// The lots it was made from (every level), oldest supplier lots included.
    pub inputs: Vec<String>,
    /// Units made of it (cans, items).
    pub units: usize,
    /// Cases and pallets carrying them.
    pub logistic_units: usize,
    /// Where what was made of it is now: place (`warehouse`, `in_transit`, `distributor`, …) → count.
    pub places: BTreeMap<String, usize>,
    /// Parties holding some of it outside the plant.
    pub holders: Vec<String>,
}

/// The batch quality report.
#[derive(Debug, Clone)]
pub struct BatchReport {
    /// The lot's key.
    pub lot: String,
    /// Inspections of the lot itself.
    pub inspections: Vec<InspectionRecord>,
    /// Inspections of the lots it was made from.
    pub input_inspections: Vec<InspectionRecord>,
    /// Parameters out of limits while it was made.
    pub excursions: Vec<Excursion>,
    /// Reports raised on it or on what it was made from.
    pub ncrs: Vec<Ncr>,
    /// Holds placed on it or on its inputs that reached it.
    pub holds: Vec<Hold>,
    /// The genealogy summary.
    pub genealogy: Genealogy,
    /// Its events with their hashes, and the checkpoint.
    pub trace: TraceReport,
}

/// Whether a key names a lot (a class) rather than an instance.
fn is_lot(key: &str) -> bool {
    !super::is_instance(key)
}

fn excursions_of(events: &[crate::report::ReportEvent]) -> Vec<Excursion> {
    let mut out = Vec::new();
    for e in events {
        let v = &e.story.event;
        let source = ["sy:equipment", "sy:station"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        let reports = v
            .get("sensorElementList")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("sensorReport").and_then(Value::as_array))
            .flatten();
        for r in reports {
            let (Some(limit), Some(value)) = (
                r.get("sy:limit").and_then(Value::as_f64),
                r.get("value").and_then(Value::as_f64),
            ) else {
                continue;
            };
            let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            out.push(Excursion {
                time: text("time").to_string(),
                parameter: text("sy:parameter").to_string(),
                value,
                unit: text("uom").to_string(),
                limit,
                bound: text("sy:bound").to_string(),
                source: source.clone(),
            });
        }
    }
    out
}

impl Engine {
    /// The batch quality report of `lot` (checked against the checkpoint's signature with `verifier_key`
    /// when given).
    pub async fn batch_report(
        &self,
        lot: &str,
        verifier_key: Option<&str>,
    ) -> Result<BatchReport, OpsError> {
        let key = object_key(lot.trim());
        if !is_lot(&key) {
            return Err(problem(
                "lot",
                "a lot (GS1 Digital Link with /10/, or an LGTIN class)",
            ));
        }
        let trace = match self.trace_report(&RowScope::All, &key, verifier_key).await {
            Ok(t) => t,
            Err(ReportError::NotFound(_)) => {
                return Err(OpsError::NotFound(format!("lot {key}")));
            }
            Err(ReportError::Store(e)) => return Err(e.into()),
            Err(ReportError::Ledger(e)) => {
                return Err(OpsError::Capture(crate::CaptureError::Store(
                    suyuan_store::StoreError::Backend(e.to_string()),
                )));
            }
        };
        let inputs: Vec<String> = {
            let tracer = self.trace_index().await?;
            let index = tracer.read();
            index
                .backward(&key, &TraceOptions::default())
                .map(|t| {
                    t.nodes
                        .iter()
                        .map(|n| index.name(n.node))
                        .filter(|k| *k != key && is_lot(k))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect()
                })
                .unwrap_or_default()
        };
        let items = self
            .affected(&Scope {
                lots: vec![key.clone()],
                ..Default::default()
            })
            .await
            .map_err(|e| problem("lot", e.to_string()))?;
        let mut genealogy = Genealogy {
            inputs: inputs.clone(),
            ..Default::default()
        };
        let mut holders = BTreeSet::new();
        for it in items.iter().filter(|it| it.id != key) {
            match it.kind {
                "instance" => genealogy.units += 1,
                "logistic_unit" => genealogy.logistic_units += 1,
                _ => {}
            }
            if it.kind != "lot" {
                *genealogy.places.entry(it.place.to_string()).or_default() += 1;
            }
            if let Some(h) = &it.holder {
                holders.insert(h.clone());
            }
        }
        genealogy.holders = holders.into_iter().collect();
        let reached: BTreeSet<&str> = items.iter().map(|it| it.id.as_str()).collect();
        let (inspections, input_inspections, ncrs, holds) = self
            .quality(|q| {
                let own: Vec<InspectionRecord> = q
                    .inspections
                    .iter()
                    .filter(|i| i.object == key)
                    .cloned()
                    .collect();
                let of_inputs: Vec<InspectionRecord> = q
                    .inspections
                    .iter()
                    .filter(|i| inputs.contains(&i.object))
                    .cloned()
                    .collect();
                let ncrs: Vec<Ncr> = q
                    .ncrs
                    .values()
                    .filter(|n| n.object == key || inputs.contains(&n.object))
                    .cloned()
                    .collect();
                let holds: Vec<Hold> = q
                    .holds
                    .all()
                    .filter(|h| {
                        h.origin == key
                            || h.objects
                                .iter()
                                .chain(h.released.iter())
                                .any(|o| o == &key || reached.contains(o.as_str()))
                    })
                    .cloned()
                    .collect();
                (own, of_inputs, ncrs, holds)
            })
            .await?;
        Ok(BatchReport {
            excursions: excursions_of(&trace.events),
            lot: key,
            inspections,
            input_inspections,
            ncrs,
            holds,
            genealogy,
            trace,
        })
    }
}
