//! The shop-floor and warehouse refusals, as pure judgements over what the projections know: a station scan
//! of a material lot against the work order's BOM and the lot's state, and the warehouse's "not more than
//! on hand", "not a held lot", "not into a shipped case". Each refusal has a code and its values, which the
//! screens put into the operator's language.

use serde::Serialize;

use crate::facts::Status;
use crate::inventory::LotFacts;

/// Why a scan or a warehouse action is refused.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// The code is not a badge, a work order, a lot or a unit this plant knows.
    #[error("'{scanned}' is not a badge, work order, lot or unit known here")]
    UnknownCode {
        /// What was scanned.
        scanned: String,
    },
    /// A scan that needs an operator came before a badge.
    #[error("scan your badge first")]
    NoOperator,
    /// A scan that needs a work order came before one.
    #[error("scan the work order first")]
    NoWorkOrder,
    /// The operator may not work on this line.
    #[error("operator {operator} is not assigned to line {line}")]
    OperatorNotOnLine {
        /// Operator badge.
        operator: String,
        /// The line.
        line: String,
    },
    /// The work order is not released or running.
    #[error("work order {order} is {state}; it must be released or started")]
    WorkOrderNotRunning {
        /// Work order number.
        order: String,
        /// Its state.
        state: String,
    },
    /// The work order runs on another line.
    #[error("work order {order} runs on line {line}, not here")]
    WrongLine {
        /// Work order number.
        order: String,
        /// Its line.
        line: String,
    },
    /// The material is not in the work order's BOM.
    #[error("{product} is not an input of this work order (expected: {expected})")]
    WrongMaterial {
        /// The product scanned.
        product: String,
        /// The BOM's inputs.
        expected: String,
    },
    /// The lot expired.
    #[error("lot {lot} expired on {date}")]
    Expired {
        /// Lot.
        lot: String,
        /// Its expiry.
        date: String,
    },
    /// The lot is on hold.
    #[error("lot {lot} is on hold")]
    OnHold {
        /// Lot.
        lot: String,
    },
    /// The lot was judged non-conformant.
    #[error("lot {lot} is non-conformant")]
    NonConformant {
        /// Lot.
        lot: String,
    },
    /// The lot comes from a blocked supplier.
    #[error("lot {lot} comes from blocked supplier {supplier}")]
    BlockedSupplier {
        /// Lot.
        lot: String,
        /// Supplier name.
        supplier: String,
    },
    /// The lot's stock is at another work centre.
    #[error("lot {lot} is at {location}, not in this work centre")]
    NotInWorkCentre {
        /// Lot.
        lot: String,
        /// Where it is.
        location: String,
    },
    /// Nothing of the lot is left.
    #[error("lot {lot} is already consumed")]
    AlreadyConsumed {
        /// Lot.
        lot: String,
    },
    /// More than is on hand.
    #[error("{what}: {wanted} asked, {on_hand} on hand")]
    MoreThanOnHand {
        /// Product or lot.
        what: String,
        /// Asked.
        wanted: f64,
        /// On hand.
        on_hand: f64,
    },
    /// The object (or something inside it) is held.
    #[error("{what} is on hold")]
    Held {
        /// What.
        what: String,
    },
    /// The case or pallet has been shipped.
    #[error("{container} has been shipped")]
    ContainerShipped {
        /// The container.
        container: String,
    },
    /// The case or pallet is in transit.
    #[error("{container} is in transit")]
    InTransit {
        /// The container.
        container: String,
    },
    /// The unit was already recorded (made, received or counted) and cannot be recorded again.
    #[error("{what} is already recorded")]
    AlreadyRecorded {
        /// What.
        what: String,
    },
    /// The unit was already used, sold or destroyed.
    #[error("{what} was already used, sold or destroyed")]
    Gone {
        /// What.
        what: String,
    },
}

impl Refusal {
    /// Its code (the catalogue key of its message is `refusal.{code}`).
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
            .unwrap_or_default()
    }

    /// Its values, by name, for the message template.
    pub fn values(&self) -> Vec<(String, String)> {
        let Ok(serde_json::Value::Object(m)) = serde_json::to_value(self) else {
            return Vec::new();
        };
        m.into_iter()
            .filter(|(k, _)| k != "code")
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect()
    }
}

/// What a material check needs to know.
#[derive(Clone)]
pub struct MaterialCheck<'a> {
    /// The lot, when the ledger knows it.
    pub lot: Option<&'a LotFacts>,
    /// The lot's product and lot number as scanned.
    pub product: &'a str,
    /// Lot number as scanned.
    pub lot_number: &'a str,
    /// The work order's BOM inputs.
    pub bom_inputs: &'a [String],
    /// Today (`YYYY-MM-DD`, plant time).
    pub today: &'a str,
    /// The supplier's name when it is blocked.
    pub blocked_supplier: Option<&'a str>,
    /// Whether a location may feed this work centre (its own locations and the warehouses).
    pub feeds_here: &'a dyn Fn(&str) -> bool,
}

/// Judges a scanned material lot for a work order.
pub fn judge_material(c: &MaterialCheck<'_>) -> Result<(), Refusal> {
    let lot = c.lot_number.to_string();
    if !c.bom_inputs.iter().any(|i| i == c.product) {
        return Err(Refusal::WrongMaterial {
            product: c.product.into(),
            expected: c.bom_inputs.join(", "),
        });
    }
    let Some(facts) = c.lot else {
        return Err(Refusal::UnknownCode {
            scanned: format!("{} / {}", c.product, c.lot_number),
        });
    };
    if let Some(s) = c.blocked_supplier {
        return Err(Refusal::BlockedSupplier {
            lot,
            supplier: s.into(),
        });
    }
    if facts.disposition.as_deref() == Some("non_conformant") {
        return Err(Refusal::NonConformant { lot });
    }
    let available: Vec<&(String, Status, f64)> = facts
        .stock
        .iter()
        .filter(|(_, s, q)| *s == Status::Available && *q > 1e-9)
        .collect();
    if available.is_empty() && facts.stock.iter().any(|(_, s, _)| *s == Status::OnHold) {
        return Err(Refusal::OnHold { lot });
    }
    if let Some(d) = &facts.expiry
        && d.as_str() < c.today
    {
        return Err(Refusal::Expired {
            lot,
            date: d.clone(),
        });
    }
    if available.is_empty() {
        return Err(if facts.consumed > 0.0 {
            Refusal::AlreadyConsumed { lot }
        } else {
            Refusal::MoreThanOnHand {
                what: lot,
                wanted: 1.0,
                on_hand: 0.0,
            }
        });
    }
    if !available.iter().any(|(loc, _, _)| (c.feeds_here)(loc)) {
        return Err(Refusal::NotInWorkCentre {
            lot,
            location: available[0].0.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(stock: Vec<(String, Status, f64)>, consumed: f64, expiry: Option<&str>) -> LotFacts {
        LotFacts {
            product: "MILK".into(),
            lot: "L1".into(),
            stock,
            uom: "KGM".into(),
            expiry: expiry.map(str::to_string),
            supplier: None,
            consumed,
            received: 100.0,
            disposition: None,
        }
    }

    fn judge(l: Option<&LotFacts>, product: &str, blocked: Option<&str>) -> Result<(), Refusal> {
        judge_material(&MaterialCheck {
            lot: l,
            product,
            lot_number: "L1",
            bom_inputs: &["MILK".to_string()],
            today: "2026-12-07",
            blocked_supplier: blocked,
            feeds_here: &|loc| loc.starts_with("line1") || loc == "wh",
        })
    }

    #[test]
    fn each_reason_is_told_apart() {
        let ok = lot(
            vec![("wh".into(), Status::Available, 50.0)],
            0.0,
            Some("2027-01-01"),
        );
        assert_eq!(judge(Some(&ok), "MILK", None), Ok(()));
        assert_eq!(
            judge(Some(&ok), "SUGAR", None).map_err(|r| r.code()),
            Err("wrong_material".into())
        );
        assert_eq!(
            judge(None, "MILK", None).map_err(|r| r.code()),
            Err("unknown_code".into())
        );
        assert_eq!(
            judge(Some(&ok), "MILK", Some("Acme")).map_err(|r| r.code()),
            Err("blocked_supplier".into())
        );
        let expired = lot(
            vec![("wh".into(), Status::Available, 5.0)],
            0.0,
            Some("2026-12-01"),
        );
        assert_eq!(
            judge(Some(&expired), "MILK", None).map_err(|r| r.code()),
            Err("expired".into())
        );
        let held = lot(vec![("wh".into(), Status::OnHold, 5.0)], 0.0, None);
        assert_eq!(
            judge(Some(&held), "MILK", None).map_err(|r| r.code()),
            Err("on_hold".into())
        );
        let used = lot(vec![], 100.0, None);
        assert_eq!(
            judge(Some(&used), "MILK", None).map_err(|r| r.code()),
            Err("already_consumed".into())
        );
        let elsewhere = lot(
            vec![("line2/st1".into(), Status::Available, 5.0)],
            0.0,
            None,
        );
        let r = judge(Some(&elsewhere), "MILK", None).expect_err("elsewhere");
        assert_eq!(r.code(), "not_in_work_centre");
        assert!(
            r.values()
                .contains(&("location".to_string(), "line2/st1".to_string()))
        );
        let mut nc = ok.clone();
        nc.disposition = Some("non_conformant".into());
        assert_eq!(
            judge(Some(&nc), "MILK", None).map_err(|r| r.code()),
            Err("non_conformant".into())
        );
    }
}
