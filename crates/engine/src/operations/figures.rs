//! Production and stock figures from the projections, by day, shift, line or product: output, yield
//! (first-pass and final), WIP, scrap, stock on hand, inventory turnover, days of stock and on-time
//! completion of work orders — `GET /api/v1/metrics/{name}` and the dashboard's operations widgets.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use suyuan_core::Event;
use suyuan_core::cbv::bare_term;
use suyuan_core::event::EventType;
use suyuan_ops::Status;
use suyuan_ops::facts::{product_and_lot, work_order};
use suyuan_ops::workorder::{WoState, WorkOrders};

use super::{OpsError, problem};
use crate::Engine;

/// The names of the figures.
pub const METRICS: &[&str] = &[
    "output",
    "yield",
    "wip",
    "scrap",
    "stock",
    "inventory_turnover",
    "days_of_stock",
    "on_time",
];

/// Counters of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Output of finished product.
    pub output: f64,
    /// Scrapped.
    pub scrap: f64,
    /// Inspections passed.
    pub passed: f64,
    /// Inspections failed.
    pub failed: f64,
    /// Units shipped.
    pub shipped: f64,
}

/// Bucket key: local day, shift (A 08–16, B 16–24, C 00–08), line, product.
type Key = (String, char, String, String);

/// Production counters by day, shift, line and product, folded from the ledger.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Production {
    buckets: BTreeMap<Key, Counters>,
}

fn local(e: &Event, offset_minutes: i32) -> Option<(String, char)> {
    let t = chrono::DateTime::parse_from_rfc3339(&e.event_time).ok()?;
    let local = t.with_timezone(&chrono::FixedOffset::east_opt(offset_minutes * 60)?);
    let hour = chrono::Timelike::hour(&local);
    let shift = match hour {
        8..=15 => 'A',
        16..=23 => 'B',
        _ => 'C',
    };
    Some((local.format("%Y-%m-%d").to_string(), shift))
}

fn count(e: &Event) -> f64 {
    e.epc_list.len() as f64
        + e.quantity_list
            .iter()
            .filter_map(|q| q.quantity.as_ref().and_then(|n| n.as_f64()))
            .sum::<f64>()
}

impl Production {
    /// Folds one event in (after the work orders saw it).
    pub fn apply(&mut self, e: &Event, orders: &WorkOrders, offset_minutes: i32, shipped: f64) {
        if e.error_declaration.is_some() {
            return;
        }
        let Some((day, shift)) = local(e, offset_minutes) else {
            return;
        };
        let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
        let disp = e.disposition.as_deref().map(bare_term).unwrap_or("");
        if let Some(wo) = work_order(e).and_then(|id| orders.get(&id)) {
            let key = (day.clone(), shift, wo.line.clone(), wo.product.clone());
            let c = self.buckets.entry(key).or_default();
            match e.event_type {
                EventType::Transformation => {
                    c.output += e
                        .output_epc_list
                        .iter()
                        .filter(|k| {
                            product_and_lot(&suyuan_core::projection::object_key(k))
                                .is_some_and(|(p, _)| p == wo.product)
                        })
                        .count() as f64;
                    c.output += e
                        .output_quantity_list
                        .iter()
                        .filter(|q| {
                            product_and_lot(&suyuan_core::projection::object_key(&q.epc_class))
                                .is_some_and(|(p, _)| p == wo.product)
                        })
                        .filter_map(|q| q.quantity.as_ref().and_then(|n| n.as_f64()))
                        .sum::<f64>();
                }
                _ if step == "destroying" || disp == "destroyed" => c.scrap += count(e),
                _ if step == "inspecting" && disp == "conformant" => c.passed += 1.0,
                _ if step == "inspecting" && disp == "non_conformant" => c.failed += 1.0,
                _ => {}
            }
            return;
        }
        if step == "shipping" && disp == "in_transit" {
            let n = shipped;
            if n > 0.0 {
                let c = self
                    .buckets
                    .entry((day, shift, String::new(), "*".into()))
                    .or_default();
                c.shipped += n;
            }
        }
    }

    fn sum(&self, from: &str, to: &str, group: &str) -> BTreeMap<String, Counters> {
        let mut out: BTreeMap<String, Counters> = BTreeMap::new();
        for ((day, shift, line, product), c) in self
            .buckets
            .range((from.to_string(), ' ', String::new(), String::new())..)
        {
            if day.as_str() > to {
                break;
            }
            let g = match group {
                "shift" => shift.to_string(),
                "line" => line.clone(),
                "product" => product.clone(),
                _ => day.clone(),
            };
            let t = out.entry(g).or_default();
            t.output += c.output;
            t.scrap += c.scrap;
            t.passed += c.passed;
            t.failed += c.failed;
            t.shipped += c.shipped;
        }
        out
    }
}

/// Units an event ships out of the plant for the first time: each unit counts once, a case or pallet counts
/// the units inside it, a lot counts its quantity.
pub fn shipped_by_us(inv: &suyuan_ops::inventory::Inventory, e: &Event) -> f64 {
    let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
    let disp = e.disposition.as_deref().map(bare_term).unwrap_or("");
    if step != "shipping" || disp != "in_transit" {
        return 0.0;
    }
    let mut n = 0.0;
    for k in e
        .epc_list
        .iter()
        .map(|k| suyuan_core::projection::object_key(k))
    {
        if inv.consignee(&k).is_some() {
            continue;
        }
        let inside = inv.units_inside(&k).len();
        n += if inside > 0 { inside as f64 } else { 1.0 };
    }
    n + e
        .quantity_list
        .iter()
        .filter_map(|q| q.quantity.as_ref().and_then(|x| x.as_f64()))
        .sum::<f64>()
}

/// One figure for one group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Point {
    /// The group (a day, a shift letter, a line or a product).
    pub group: String,
    /// The value.
    pub value: f64,
    /// For yield: the final yield next to the first-pass yield in `value`; for turnover and days of stock:
    /// the units shipped in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<f64>,
}

/// A figure over a period.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Its name.
    pub metric: String,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day.
    pub to: String,
    /// How it is grouped.
    pub group_by: String,
    /// The values.
    pub points: Vec<Point>,
}

impl Engine {
    /// The figure `name` from day `from` to day `to` (inclusive), grouped by `day`, `shift`, `line` or
    /// `product`.
    pub async fn ops_metric(
        &self,
        name: &str,
        from: &str,
        to: &str,
        group_by: &str,
    ) -> Result<Figure, OpsError> {
        if !METRICS.contains(&name) {
            return Err(OpsError::NotFound(format!("metric '{name}'")));
        }
        for (field, d) in [("from", from), ("to", to)] {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                return Err(problem(field, "a date (YYYY-MM-DD)"));
            }
        }
        if !matches!(group_by, "day" | "shift" | "line" | "product") {
            return Err(problem("group_by", "one of day, shift, line, product"));
        }
        let records = self.records().await?;
        let ops = self.operations().await?;
        let sums = ops.production.sum(from, to, group_by);
        let days = (chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d")
            .map_err(|_| problem("to", "a date"))?
            - chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d")
                .map_err(|_| problem("from", "a date"))?)
        .num_days()
        .max(0) as f64
            + 1.0;
        // Stock on hand is at the plant's own locations (master data), not at its customers'.
        let own = |key: &str| {
            records.of("location").is_empty() || records.location_by_place(key).is_some()
        };
        let by_product = ops.inventory.totals_by_product(Status::Available, &own);
        let stock_by = |group: &str| -> BTreeMap<String, f64> {
            if group == "product" {
                by_product.clone()
            } else {
                BTreeMap::from([("all".to_string(), by_product.values().sum())])
            }
        };
        let points: Vec<Point> = match name {
            "output" | "scrap" => sums
                .iter()
                .filter(|(_, c)| c.output + c.scrap > 0.0)
                .map(|(g, c)| Point {
                    group: g.clone(),
                    value: if name == "output" { c.output } else { c.scrap },
                    secondary: None,
                })
                .collect(),
            "yield" => sums
                .iter()
                .filter(|(_, c)| c.passed + c.failed > 0.0 || c.output + c.scrap > 0.0)
                .map(|(g, c)| Point {
                    group: g.clone(),
                    value: if c.passed + c.failed > 0.0 {
                        c.passed / (c.passed + c.failed)
                    } else {
                        1.0
                    },
                    secondary: Some(if c.output + c.scrap > 0.0 {
                        c.output / (c.output + c.scrap)
                    } else {
                        1.0
                    }),
                })
                .collect(),
            "wip" => {
                let mut m: BTreeMap<String, f64> = BTreeMap::new();
                for w in ops.orders.all().filter(|w| {
                    matches!(
                        w.state,
                        WoState::Started | WoState::Paused | WoState::Released
                    )
                }) {
                    let g = match group_by {
                        "line" => w.line.clone(),
                        "product" => w.product.clone(),
                        _ => "all".into(),
                    };
                    *m.entry(g).or_insert(0.0) += (w.planned - w.output).max(0.0);
                }
                m.into_iter()
                    .map(|(group, value)| Point {
                        group,
                        value,
                        secondary: None,
                    })
                    .collect()
            }
            "stock" => stock_by(group_by)
                .into_iter()
                .map(|(group, value)| Point {
                    group,
                    value,
                    secondary: None,
                })
                .collect(),
            "inventory_turnover" | "days_of_stock" => {
                let shipped: f64 = sums.values().map(|c| c.shipped).sum();
                // What ships is finished goods, counted in units: compare it with finished goods on hand.
                let finished = |p: &str| {
                    records.of("product").is_empty()
                        || records.text("product", p, "category") == Some("finished")
                };
                let stock: f64 = stock_by("product")
                    .iter()
                    .filter(|(p, _)| finished(p))
                    .map(|(_, q)| q)
                    .sum();
                let value = if name == "inventory_turnover" {
                    if stock > 0.0 { shipped / stock } else { 0.0 }
                } else if shipped > 0.0 {
                    stock / (shipped / days)
                } else {
                    0.0
                };
                vec![Point {
                    group: "all".into(),
                    value,
                    secondary: Some(shipped),
                }]
            }
            _ => {
                let mut m: BTreeMap<String, (f64, f64)> = BTreeMap::new();
                for w in ops.orders.all() {
                    let Some(ok) = w.on_time() else { continue };
                    let done = w
                        .times
                        .get("completed")
                        .map(|t| t[..10.min(t.len())].to_string())
                        .unwrap_or_default();
                    if done.as_str() < from || done.as_str() > to {
                        continue;
                    }
                    let g = match group_by {
                        "line" => w.line.clone(),
                        "product" => w.product.clone(),
                        _ => done,
                    };
                    let e = m.entry(g).or_insert((0.0, 0.0));
                    e.1 += 1.0;
                    if ok {
                        e.0 += 1.0;
                    }
                }
                m.into_iter()
                    .map(|(group, (a, n))| Point {
                        group,
                        value: a / n,
                        secondary: None,
                    })
                    .collect()
            }
        };
        Ok(Figure {
            metric: name.into(),
            from: from.into(),
            to: to.into(),
            group_by: group_by.into(),
            points,
        })
    }
}
