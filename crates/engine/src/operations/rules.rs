//! The warehouse's refusals as a validator on the submit pipeline, so they hold for every way in (the
//! warehouse screens, the API and an EPCIS capture of our own moves alike): no shipping or picking more than
//! is on hand, no picking or shipping a held lot or unit, no packing into a case that has been shipped, no
//! unpacking a case that is in transit.

use async_trait::async_trait;
use std::collections::HashMap;
use suyuan_core::cbv::bare_term;
use suyuan_core::event::{Action, EventType};
use suyuan_core::projection::object_key;
use suyuan_core::{Event, FieldError};
use suyuan_ops::Status;
use suyuan_ops::checks::Refusal;
use suyuan_ops::inventory::Inventory;
use suyuan_store::StoreError;

use crate::Engine;
use crate::validate::{Origin, Validator, Verdict};

/// The warehouse's refusals.
pub struct OpsRules;

/// What the events before this one in the same submission did to the objects the rules look at (the
/// inventory is as it was before the submission).
#[derive(Debug, Default)]
pub struct Overlay {
    /// Status and "has been shipped" of units and containers named by earlier events.
    units: HashMap<String, (Status, bool)>,
    /// Lot quantities taken (positive) or added (negative) by earlier events.
    taken: HashMap<String, f64>,
}

impl Overlay {
    /// Notes what an accepted event does.
    pub fn note(&mut self, e: &Event) {
        let eff = suyuan_ops::facts::effect(e);
        let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
        let mut touched: Vec<String> = e.epc_list.iter().map(|k| object_key(k)).collect();
        if let Some(p) = &e.parent_id {
            touched.push(object_key(p));
        }
        for k in touched {
            let entry = self.units.entry(k).or_insert((Status::Available, false));
            if let suyuan_ops::facts::Effect::Set(s) = eff {
                entry.0 = s;
                entry.1 |= s == Status::InTransit;
            }
        }
        for q in &e.quantity_list {
            let Some(n) = q.quantity.as_ref().and_then(|n| n.as_f64()) else {
                continue;
            };
            let sign = match step {
                "shipping" | "picking" => 1.0,
                "receiving" => -1.0,
                _ => 0.0,
            };
            *self.taken.entry(object_key(&q.epc_class)).or_default() += sign * n;
        }
    }

    fn unit(&self, inv: &Inventory, key: &str) -> Option<(Status, bool)> {
        self.units
            .get(key)
            .copied()
            .or_else(|| inv.unit(key).map(|u| (u.status, u.shipped)))
    }
}

fn held_or_gone(inv: &Inventory, key: &str) -> Option<Refusal> {
    let u = inv.unit(key)?;
    if u.gone {
        return Some(Refusal::Gone { what: key.into() });
    }
    if u.status == Status::OnHold {
        return Some(Refusal::Held { what: key.into() });
    }
    inv.units_inside(key).into_iter().find_map(|k| {
        let c = inv.unit(&k)?;
        (c.status == Status::OnHold).then_some(Refusal::Held { what: k })
    })
}

/// The refusal, if any, of one event against the inventory as it stands (and as earlier events of the
/// same submission left it).
pub fn judge_event(inv: &Inventory, seen: &Overlay, e: &Event) -> Option<Refusal> {
    if e.error_declaration.is_some() {
        return None;
    }
    let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
    let disp = e.disposition.as_deref().map(bare_term).unwrap_or("");
    match (e.event_type, step) {
        (EventType::Object | EventType::Transaction, "shipping" | "picking") => {
            // Sending back what failed inspection is how a held lot leaves.
            let returning = disp == "returned" || disp == "destroyed";
            for q in &e.quantity_list {
                let key = object_key(&q.epc_class);
                let Some(lot) = inv.lot(&key) else { continue };
                let Some(wanted) = q.quantity.as_ref().and_then(|n| n.as_f64()) else {
                    continue;
                };
                let usable =
                    |s: Status| s == Status::Available || (returning && s != Status::InTransit);
                let on_hand: f64 = lot
                    .stock
                    .iter()
                    .filter(|(_, s, _)| usable(*s))
                    .map(|(_, _, v)| v)
                    .sum::<f64>()
                    - seen.taken.get(&key).copied().unwrap_or(0.0);
                let held: f64 = lot
                    .stock
                    .iter()
                    .filter(|(_, s, _)| *s == Status::OnHold)
                    .map(|(_, _, v)| v)
                    .sum();
                if !returning && held > 1e-9 && on_hand + 1e-9 < wanted {
                    return Some(Refusal::Held {
                        what: format!("{} / {}", lot.product, lot.lot),
                    });
                }
                if wanted > on_hand + 1e-9 {
                    return Some(Refusal::MoreThanOnHand {
                        what: format!("{} / {}", lot.product, lot.lot),
                        wanted,
                        on_hand,
                    });
                }
            }
            if !returning {
                for k in e.epc_list.iter().map(|k| object_key(k)) {
                    if let Some(r) = held_or_gone(inv, &k) {
                        return Some(r);
                    }
                }
            }
            None
        }
        (EventType::Transformation, _) => {
            // Nothing held goes into production.
            let inputs = e
                .input_epc_list
                .iter()
                .chain(e.input_quantity_list.iter().map(|q| &q.epc_class));
            for k in inputs.map(|k| object_key(k)) {
                if let Some(r) = held_or_gone(inv, &k).filter(|r| matches!(r, Refusal::Held { .. }))
                {
                    return Some(r);
                }
                if let Some(lot) = inv.lot(&k)
                    && !lot.stock.is_empty()
                    && lot.stock.iter().all(|(_, s, _)| *s == Status::OnHold)
                {
                    return Some(Refusal::Held {
                        what: format!("{} / {}", lot.product, lot.lot),
                    });
                }
            }
            None
        }
        (EventType::Object, "retail_selling") => e
            .epc_list
            .iter()
            .map(|k| object_key(k))
            .find_map(|k| held_or_gone(inv, &k).filter(|r| matches!(r, Refusal::Held { .. }))),
        (EventType::Aggregation, _) => {
            let parent = object_key(e.parent_id.as_deref()?);
            let (status, shipped) = seen.unit(inv, &parent)?;
            match e.action {
                Some(Action::Add) if step == "packing" => {
                    if status == Status::InTransit || shipped {
                        return Some(Refusal::ContainerShipped { container: parent });
                    }
                    e.children()
                        .map(object_key)
                        .find_map(|k| held_or_gone(inv, &k))
                }
                Some(Action::Delete) if status == Status::InTransit => {
                    Some(Refusal::InTransit { container: parent })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[async_trait]
impl Validator for OpsRules {
    fn name(&self) -> &'static str {
        "warehouse"
    }

    async fn judge(
        &self,
        engine: &Engine,
        events: &[Event],
        origin: Origin,
    ) -> Result<Verdict, StoreError> {
        let relevant = events.iter().any(|e| {
            matches!(
                e.biz_step.as_deref().map(bare_term),
                Some("shipping" | "picking" | "packing" | "unpacking" | "retail_selling")
            ) || matches!(
                e.event_type,
                EventType::Aggregation | EventType::Transformation
            )
        });
        let mut verdict = Verdict::default();
        if !relevant {
            return Ok(verdict);
        }
        let ops = engine.operations().await?;
        let mut seen = Overlay::default();
        for (i, e) in events.iter().enumerate() {
            let refusal = judge_event(&ops.inventory, &seen, e);
            seen.note(e);
            let Some(r) = refusal else { continue };
            // Name the hold and its nonconformance report.
            let holds = matches!(r, Refusal::Held { .. })
                .then(|| {
                    crate::quality::state::keys(e).iter().find_map(|k| {
                        ops.quality.hold_names(k).or_else(|| {
                            ops.inventory
                                .units_inside(k)
                                .iter()
                                .find_map(|c| ops.quality.hold_names(c))
                        })
                    })
                })
                .flatten()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            let message = format!("refused ({}): {r}{holds}", r.code());
            if origin == Origin::Partner {
                // A partner's fact is stored; the plant is told (and alerted by the watch).
                verdict.warnings.push(crate::acceptance::CaptureWarning {
                    pointer: format!("/epcisBody/eventList/{i}"),
                    code: "held_object",
                    detail: message,
                });
                continue;
            }
            verdict.refused.push((
                i,
                FieldError {
                    pointer: format!("/epcisBody/eventList/{i}"),
                    message,
                },
            ));
        }
        Ok(verdict)
    }
}
