//! The quality projection: inspections, holds, nonconformance reports and the switching state of each
//! sampling scheme, folded from the ledger with the operations projections (so a read after a write sees
//! it, and a rebuild from the first event gives the same state).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use suyuan_core::Event;
use suyuan_core::cbv::bare_term;
use suyuan_core::projection::object_key;
use suyuan_ops::facts::{SY_NS, sy};
use suyuan_quality::holds::{Hold, Holds};
use suyuan_quality::ncr::{Disposition, NcrState};
use suyuan_quality::switching::{LotResult, Switching};

/// The business step of nonconformance report events.
pub const NCR_STEP: &str = "https://suyuan.dev/voc/bizStep/nonconformance";
/// The business step of a hold's release.
pub const RELEASE_STEP: &str = "https://suyuan.dev/voc/bizStep/releasing";

/// A field of a Suyuan extension object, in any prefix spelling.
pub fn field<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.get(format!("sy:{name}"))
        .or_else(|| v.get(format!("{SY_NS}{name}")))
        .or_else(|| v.get(name))
}

fn text(v: &Value, name: &str) -> Option<String> {
    field(v, name).and_then(Value::as_str).map(str::to_string)
}

fn texts(v: &Value, name: &str) -> Vec<String> {
    field(v, name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A value as the ledger stores it (RFC 8785: keys in order, numbers as ECMAScript writes them), so that
/// an event folded as it is captured and one read back from the store give the same record.
fn as_stored(v: Option<&Value>) -> Value {
    v.and_then(|v| serde_json::from_str(&suyuan_ledger::jcs::canonical_json(v)).ok())
        .unwrap_or(Value::Null)
}

/// One inspection as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionRecord {
    /// Its id.
    pub id: String,
    /// The plan's code.
    pub plan: String,
    /// `iqc`, `ipqc` or `fqc`.
    pub stage: String,
    /// What was inspected (a lot's or a unit's key).
    pub object: String,
    /// Product or material code.
    pub product: String,
    /// Lot number, where known.
    pub lot: Option<String>,
    /// Supplier (IQC).
    pub supplier: Option<String>,
    /// Items in the lot.
    pub lot_size: u64,
    /// Items inspected.
    pub sample_size: u64,
    /// `normal`, `tightened` or `reduced`.
    pub severity: String,
    /// Whether the lot was accepted.
    pub accepted: bool,
    /// Nonconforming items found.
    pub defects: u64,
    /// Defects per class.
    pub by_class: BTreeMap<String, u64>,
    /// Characteristics that failed.
    pub failing: Vec<String>,
    /// The findings as entered (characteristic, values, defects).
    #[serde(with = "crate::snapshot::value_text")]
    pub findings: Value,
    /// Who inspected.
    pub inspector: String,
    /// Instrument used.
    pub instrument: Option<String>,
    /// Attachments (name and SHA-256 of photos and certificates).
    #[serde(with = "crate::snapshot::value_text")]
    pub attachments: Value,
    /// When (event time).
    pub at: String,
    /// The switching scheme it counts in.
    pub scheme: String,
    /// The NCR it opened, if any.
    pub ncr: Option<String>,
}

/// One step of a nonconformance report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NcrStep {
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// `raise`, `review`, `dispose`, `approve`, `reject`, `close`.
    pub step: String,
    /// The state it led to.
    pub state: String,
    /// Why.
    pub why: String,
}

/// A nonconformance report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ncr {
    /// Its id.
    pub id: String,
    /// Where it stands.
    pub state: NcrState,
    /// What was decided (proposed, for a concession awaiting approval).
    pub disposition: Option<Disposition>,
    /// Who proposed the pending disposition.
    pub proposer: Option<String>,
    /// The nonconforming object (the failed lot).
    pub object: String,
    /// The inspection that raised it, if any.
    pub inspection: Option<String>,
    /// The holds it owns.
    pub holds: Vec<String>,
    /// What was found.
    pub summary: String,
    /// When it was raised.
    pub raised_at: String,
    /// Every step.
    pub history: Vec<NcrStep>,
}

/// The quality projection.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityState {
    /// Every hold.
    pub holds: Holds,
    /// Every nonconformance report by id.
    pub ncrs: BTreeMap<String, Ncr>,
    /// Every inspection, in ledger order.
    pub inspections: Vec<InspectionRecord>,
    /// The switching state of each scheme (supplier/material, or product/operation).
    pub switching: BTreeMap<String, Switching>,
}

impl QualityState {
    /// Folds one event.
    pub fn apply(&mut self, e: &Event) {
        if e.error_declaration.is_some() {
            return;
        }
        let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
        let actor = sy(e, "actor")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let at = e.event_time.clone();
        if let Some(i) = sy(e, "inspection") {
            self.inspection(e, i, &actor, &at);
        }
        if step == "holding"
            && let Some(h) = sy(e, "hold")
        {
            let objects = keys(e);
            // A hold placed for a report (by the rule, or by hand) is one of the report's holds.
            if let (Some(n), Some(id)) = (text(h, "ncr"), text(h, "id"))
                && let Some(r) = self.ncrs.get_mut(&n)
                && !r.holds.contains(&id)
            {
                r.holds.push(id);
            }
            self.holds.place(Hold {
                id: text(h, "id").unwrap_or_default(),
                reason: text(h, "reason").unwrap_or_default(),
                ncr: text(h, "ncr"),
                origin: text(h, "origin")
                    .unwrap_or_else(|| objects.first().cloned().unwrap_or_default()),
                by: actor.clone(),
                at: at.clone(),
                objects,
                released: Vec::new(),
                open: true,
            });
        }
        if let Some(r) = sy(e, "release") {
            let hold = text(r, "hold").unwrap_or_default();
            let part = field(r, "objects").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(object_key)
                    .collect::<Vec<_>>()
            });
            self.holds.release(&hold, part.as_deref());
        }
        if let Some(n) = sy(e, "ncr").filter(|_| step == NCR_STEP) {
            self.ncr(n, &actor, &at);
        }
        if let Some(s) = sy(e, "switching")
            && let (Some(scheme), Some("resume")) =
                (text(s, "scheme"), text(s, "action").as_deref())
        {
            self.switching.entry(scheme).or_default().resume();
        }
    }

    fn inspection(&mut self, e: &Event, i: &Value, actor: &str, at: &str) {
        let accepted = field(i, "accepted")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let scheme = text(i, "scheme").unwrap_or_default();
        let by_class: BTreeMap<String, u64> = field(i, "defects")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.trim_start_matches("sy:").to_string(),
                            v.as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !scheme.is_empty() && field(i, "original").and_then(Value::as_bool) != Some(false) {
            let lot = LotResult {
                accepted,
                ac: field(i, "ac").and_then(Value::as_u64).unwrap_or(0) as u32,
                accepted_one_step_tighter: field(i, "tighterAccepted")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            let allowed = field(i, "reducedAllowed")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            self.switching
                .entry(scheme.clone())
                .or_default()
                .record(lot, allowed);
        }
        let object = keys(e).into_iter().next().unwrap_or_default();
        self.inspections.push(InspectionRecord {
            id: text(i, "id").unwrap_or_default(),
            plan: text(i, "plan").unwrap_or_default(),
            stage: text(i, "stage").unwrap_or_default(),
            product: text(i, "product").unwrap_or_default(),
            lot: text(i, "lot"),
            supplier: text(i, "supplier"),
            lot_size: field(i, "lotSize").and_then(Value::as_u64).unwrap_or(0),
            sample_size: field(i, "sampleSize").and_then(Value::as_u64).unwrap_or(0),
            severity: text(i, "severity").unwrap_or_else(|| "normal".into()),
            accepted,
            defects: by_class.values().sum(),
            by_class,
            failing: texts(i, "failing"),
            findings: as_stored(field(i, "findings")),
            inspector: text(i, "inspector").unwrap_or_else(|| actor.to_string()),
            instrument: text(i, "instrument"),
            attachments: as_stored(field(i, "attachments")),
            at: at.to_string(),
            scheme,
            ncr: text(i, "ncr"),
            object,
        });
    }

    fn ncr(&mut self, n: &Value, actor: &str, at: &str) {
        let Some(id) = text(n, "id") else { return };
        let step = text(n, "step").unwrap_or_default();
        let state = text(n, "state")
            .and_then(|s| NcrState::ALL.into_iter().find(|x| x.as_str() == s))
            .unwrap_or(NcrState::Raised);
        let disposition = text(n, "disposition").and_then(|d| Disposition::parse(&d));
        let entry = self.ncrs.entry(id.clone()).or_insert_with(|| Ncr {
            id: id.clone(),
            state,
            disposition: None,
            proposer: None,
            object: text(n, "object").unwrap_or_default(),
            inspection: text(n, "inspection"),
            holds: texts(n, "holds"),
            summary: text(n, "summary").unwrap_or_default(),
            raised_at: at.to_string(),
            history: Vec::new(),
        });
        entry.state = state;
        if step == "dispose" {
            entry.disposition = disposition;
            entry.proposer = Some(actor.to_string());
        }
        if step == "reject" {
            entry.disposition = None;
            entry.proposer = None;
        }
        for h in texts(n, "holds") {
            if !entry.holds.contains(&h) {
                entry.holds.push(h);
            }
        }
        entry.history.push(NcrStep {
            at: at.to_string(),
            by: actor.to_string(),
            step,
            state: state.as_str().to_string(),
            why: text(n, "why").unwrap_or_default(),
        });
    }

    /// The open holds on `key`, named for a refusal: "hold H (reason), NCR N".
    pub fn hold_names(&self, key: &str) -> Option<String> {
        let holds = self.holds.on(key);
        if holds.is_empty() {
            return None;
        }
        Some(
            holds
                .iter()
                .map(|h| match &h.ncr {
                    Some(n) => format!("hold {} ({}), NCR {n}", h.id, h.reason),
                    None => format!("hold {} ({})", h.id, h.reason),
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

/// The object keys an event names: its EPCs, its classes, its parent and children, its inputs.
pub fn keys(e: &Event) -> Vec<String> {
    let mut out: Vec<String> = e.epc_list.iter().map(|k| object_key(k)).collect();
    out.extend(e.quantity_list.iter().map(|q| object_key(&q.epc_class)));
    if let Some(p) = &e.parent_id {
        out.push(object_key(p));
    }
    out.extend(e.children().map(object_key));
    out.extend(e.input_epc_list.iter().map(|k| object_key(k)));
    out.extend(
        e.input_quantity_list
            .iter()
            .map(|q| object_key(&q.epc_class)),
    );
    out
}
