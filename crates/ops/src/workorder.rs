//! Work orders as a fold of the ledger: each lifecycle step (created, released, started, paused, completed,
//! closed) is an event on the work order's identifier, and what was made and used comes from the production
//! events that name the work order. The material balance compares the inputs with the BOM times the output.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use suyuan_core::Event;
use suyuan_core::cbv::bare_term;
use suyuan_core::event::{Action, EventType};
use suyuan_core::projection::object_key;

use crate::facts::{WORK_ORDER_STEP, product_and_lot, sy, sy_str, work_order};

/// Where a work order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum WoState {
    /// Planned, not yet on the floor.
    Created,
    /// Released to the floor: materials may be staged.
    Released,
    /// Running.
    Started,
    /// Stopped for a while.
    Paused,
    /// Production finished.
    Completed,
    /// Closed: nothing more is booked on it.
    Closed,
}

impl WoState {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            WoState::Created => "created",
            WoState::Released => "released",
            WoState::Started => "started",
            WoState::Paused => "paused",
            WoState::Completed => "completed",
            WoState::Closed => "closed",
        }
    }

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<WoState> {
        ALL_STATES.into_iter().find(|x| x.as_str() == s)
    }

    /// The states this one may move to.
    pub fn next(self) -> &'static [WoState] {
        use WoState::*;
        match self {
            Created => &[Released, Closed],
            Released => &[Started, Closed],
            Started => &[Paused, Completed],
            Paused => &[Started, Completed],
            Completed => &[Closed],
            Closed => &[],
        }
    }

    /// Whether production may be booked on the work order in this state.
    pub fn running(self) -> bool {
        matches!(self, WoState::Released | WoState::Started)
    }
}

/// Every state, in lifecycle order.
pub const ALL_STATES: [WoState; 6] = [
    WoState::Created,
    WoState::Released,
    WoState::Started,
    WoState::Paused,
    WoState::Completed,
    WoState::Closed,
];

/// A work order as the ledger tells it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkOrder {
    /// Its identifier (URI).
    pub id: String,
    /// Its short number (the last part of the identifier).
    pub number: String,
    /// The product made (GTIN or code).
    pub product: String,
    /// Planned quantity.
    pub planned: f64,
    /// Unit of the planned quantity.
    pub unit: String,
    /// The line (location code) it runs on.
    pub line: String,
    /// The output lot, when one was issued.
    pub lot: String,
    /// Due time (RFC 3339), if planned.
    pub due: Option<String>,
    /// State.
    pub state: WoState,
    /// When each state was entered (event time).
    pub times: BTreeMap<String, String>,
    /// Output of the product made.
    pub output: f64,
    /// Inputs used, by product.
    pub inputs: BTreeMap<String, f64>,
    /// Intermediates made and used inside the work order, by product.
    pub made: BTreeMap<String, f64>,
    /// Scrapped quantity.
    pub scrap: f64,
    /// Reworked quantity.
    pub rework: f64,
    /// Inspections passed and failed.
    pub inspections: (u32, u32),
    /// Events booked on it.
    pub events: u32,
}

impl WorkOrder {
    fn new(id: &str) -> WorkOrder {
        WorkOrder {
            id: id.into(),
            number: id.rsplit([':', '/']).next().unwrap_or(id).to_string(),
            product: String::new(),
            planned: 0.0,
            unit: String::new(),
            line: String::new(),
            lot: String::new(),
            due: None,
            state: WoState::Created,
            times: BTreeMap::new(),
            output: 0.0,
            inputs: BTreeMap::new(),
            made: BTreeMap::new(),
            scrap: 0.0,
            rework: 0.0,
            inspections: (0, 0),
            events: 0,
        }
    }

    /// Inputs net of the intermediates made inside the work order.
    pub fn net_inputs(&self) -> BTreeMap<String, f64> {
        self.inputs
            .iter()
            .map(|(p, q)| (p.clone(), q - self.made.get(p).copied().unwrap_or(0.0)))
            .filter(|(_, q)| *q > 1e-9)
            .collect()
    }

    /// Whether it was completed by its due time (`None` when not due or not completed).
    pub fn on_time(&self) -> Option<bool> {
        let due = self.due.as_deref()?;
        let done = self.times.get("completed")?;
        Some(done.as_str() <= due)
    }
}

/// One line of a BOM: so much input per unit of output, within a tolerance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BomLine {
    /// Input product.
    pub input: String,
    /// Quantity per unit of output.
    pub quantity: f64,
    /// Unit.
    pub unit: String,
    /// Allowed deviation, in percent.
    pub tolerance_pct: f64,
}

/// One line of a material balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceLine {
    /// Input product.
    pub input: String,
    /// BOM quantity × output.
    pub expected: f64,
    /// Used (net of intermediates).
    pub actual: f64,
    /// Deviation in percent of expected (100 when nothing was expected).
    pub deviation_pct: f64,
    /// Allowed deviation.
    pub tolerance_pct: f64,
    /// Outside the tolerance, or used without being in the BOM.
    pub flagged: bool,
    /// Unit.
    pub unit: String,
}

/// The material balance of a work order against its BOM.
pub fn balance(wo: &WorkOrder, bom: &[BomLine]) -> Vec<BalanceLine> {
    let used = wo.net_inputs();
    let mut out: Vec<BalanceLine> = bom
        .iter()
        .map(|l| {
            let expected = l.quantity * wo.output;
            let actual = used.get(&l.input).copied().unwrap_or(0.0);
            let deviation_pct = if expected > 0.0 {
                (actual - expected) / expected * 100.0
            } else if actual > 0.0 {
                100.0
            } else {
                0.0
            };
            BalanceLine {
                input: l.input.clone(),
                expected,
                actual,
                deviation_pct,
                tolerance_pct: l.tolerance_pct,
                flagged: deviation_pct.abs() > l.tolerance_pct + 1e-9,
                unit: l.unit.clone(),
            }
        })
        .collect();
    for (p, q) in used {
        if !bom.iter().any(|l| l.input == p) {
            out.push(BalanceLine {
                input: p,
                expected: 0.0,
                actual: q,
                deviation_pct: 100.0,
                tolerance_pct: 0.0,
                flagged: true,
                unit: String::new(),
            });
        }
    }
    out
}

/// Every work order the ledger tells of.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrders {
    orders: HashMap<String, WorkOrder>,
}

fn product_of(key: &str) -> String {
    product_and_lot(key)
        .map(|(p, _)| p)
        .unwrap_or_else(|| key.to_string())
}

impl WorkOrders {
    /// Folds one event in.
    pub fn apply(&mut self, e: &Event) {
        if e.error_declaration.is_some() {
            return;
        }
        let step = e.biz_step.as_deref().unwrap_or("");
        if step == WORK_ORDER_STEP {
            self.lifecycle(e);
            return;
        }
        let Some(id) = work_order(e) else { return };
        let wo = self
            .orders
            .entry(id.clone())
            .or_insert_with(|| WorkOrder::new(&id));
        wo.events += 1;
        let bare = bare_term(step);
        match e.event_type {
            EventType::Transformation => {
                for q in &e.input_quantity_list {
                    let p = product_of(&object_key(&q.epc_class));
                    *wo.inputs.entry(p).or_default() +=
                        q.quantity.as_ref().and_then(|n| n.as_f64()).unwrap_or(0.0);
                }
                for k in &e.input_epc_list {
                    *wo.inputs.entry(product_of(&object_key(k))).or_default() += 1.0;
                }
                let mut outputs: Vec<(String, f64)> = e
                    .output_quantity_list
                    .iter()
                    .map(|q| {
                        (
                            product_of(&object_key(&q.epc_class)),
                            q.quantity.as_ref().and_then(|n| n.as_f64()).unwrap_or(0.0),
                        )
                    })
                    .collect();
                outputs.extend(
                    e.output_epc_list
                        .iter()
                        .map(|k| (product_of(&object_key(k)), 1.0)),
                );
                for (p, q) in outputs {
                    if wo.product.is_empty()
                        && e.output_epc_list
                            .iter()
                            .any(|k| product_of(&object_key(k)) == p)
                    {
                        wo.product = p.clone();
                    }
                    if p == wo.product {
                        wo.output += q;
                    } else {
                        *wo.made.entry(p).or_default() += q;
                    }
                }
            }
            _ => {
                let n = e.epc_list.len() as f64
                    + e.quantity_list
                        .iter()
                        .filter_map(|q| q.quantity.as_ref().and_then(|n| n.as_f64()))
                        .sum::<f64>();
                let disp = e.disposition.as_deref().map(bare_term).unwrap_or("");
                if bare == "destroying"
                    || disp == "destroyed"
                    || (e.action == Some(Action::Delete) && bare != "unpacking")
                {
                    wo.scrap += n;
                } else if bare == "repairing" || sy_str(e, "rework").is_some() {
                    wo.rework += n;
                } else if bare == "inspecting" {
                    match disp {
                        "non_conformant" => wo.inspections.1 += 1,
                        "conformant" => wo.inspections.0 += 1,
                        _ => {}
                    }
                }
            }
        }
    }

    fn lifecycle(&mut self, e: &Event) {
        let Some(id) = e.epc_list.first() else { return };
        let Some(state) = sy_str(e, "workOrderState").and_then(WoState::parse) else {
            return;
        };
        let wo = self
            .orders
            .entry(id.clone())
            .or_insert_with(|| WorkOrder::new(id));
        if let Some(Value::Object(plan)) = sy(e, "workOrder") {
            let text = |k: &str| {
                plan.get(&format!("sy:{k}"))
                    .or_else(|| plan.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            if let Some(p) = text("product") {
                wo.product = p;
            }
            if let Some(n) = plan
                .get("sy:planned")
                .or_else(|| plan.get("planned"))
                .and_then(Value::as_f64)
            {
                wo.planned = n;
            }
            wo.unit = text("unit").unwrap_or_else(|| wo.unit.clone());
            wo.line = text("line").unwrap_or_else(|| wo.line.clone());
            wo.lot = text("lot").unwrap_or_else(|| wo.lot.clone());
            wo.due = text("due").or(wo.due.clone());
        }
        wo.state = state;
        wo.times
            .entry(state.as_str().into())
            .or_insert_with(|| e.event_time.clone());
    }

    /// The work order `id`.
    pub fn get(&self, id: &str) -> Option<&WorkOrder> {
        self.orders.get(id)
    }

    /// Every work order.
    pub fn all(&self) -> impl Iterator<Item = &WorkOrder> {
        self.orders.values()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_only_moves_forward() {
        assert!(WoState::Created.next().contains(&WoState::Released));
        assert!(!WoState::Created.next().contains(&WoState::Started));
        assert!(WoState::Paused.next().contains(&WoState::Started));
        assert!(WoState::Closed.next().is_empty());
    }

    #[test]
    fn the_balance_flags_what_is_outside_the_tolerance() {
        let mut wo = WorkOrder::new("urn:suyuan:t:wo:1");
        wo.output = 100.0;
        wo.inputs.insert("MILK".into(), 520.0);
        wo.inputs.insert("CAN".into(), 100.0);
        wo.inputs.insert("GLUE".into(), 1.0);
        let bom = [
            BomLine {
                input: "MILK".into(),
                quantity: 5.0,
                unit: "KGM".into(),
                tolerance_pct: 2.0,
            },
            BomLine {
                input: "CAN".into(),
                quantity: 1.0,
                unit: "H87".into(),
                tolerance_pct: 0.0,
            },
        ];
        let b = balance(&wo, &bom);
        assert_eq!(b.len(), 3);
        assert!(b[0].flagged, "4% over on milk");
        assert!((b[0].deviation_pct - 4.0).abs() < 1e-9);
        assert!(!b[1].flagged);
        assert!(b[2].flagged && b[2].input == "GLUE");
    }
}
