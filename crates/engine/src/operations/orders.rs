//! Work order commands: create (with its output lot), then release, start, pause, complete and close, each
//! an event on the work order's identifier; the work order as the ledger tells it, with its material
//! balance against the BOM.

use serde::{Deserialize, Serialize};
use serde_json::json;
use suyuan_ops::facts::WORK_ORDER_STEP;
use suyuan_ops::workorder::{BalanceLine, WoState, WorkOrder, balance};

use super::master::place_uri;
use super::{OpsError, event, now_text, problem};
use crate::Engine;

/// A work order to create.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct NewWorkOrder {
    /// Its number; one is given (`WO-{date}-{n}`) when absent.
    #[serde(default)]
    pub number: Option<String>,
    /// The product to make (code or GTIN).
    pub product: String,
    /// Planned quantity.
    pub planned: f64,
    /// The line (location code).
    pub line: String,
    /// The output lot; one is given (`{line}{yymmdd}{n}`) when absent.
    #[serde(default)]
    pub lot: Option<String>,
    /// Due time (RFC 3339).
    #[serde(default)]
    pub due: Option<String>,
    /// The coding rule (target `lgtin` or internal) that issues the output lot, when none is given.
    #[serde(default)]
    pub lot_rule: Option<String>,
}

/// Serials to issue for a work order's output, by a coding rule, optionally printed on a label.
#[derive(Debug, Clone, Deserialize)]
pub struct SerialRequest {
    /// Coding rule (target `sgtin` or internal).
    pub rule: String,
    /// How many.
    pub count: u64,
    /// The label they are printed on.
    #[serde(default)]
    pub label: Option<crate::codes::LabelRecord>,
}

/// A work order with its material balance.
#[derive(Debug, Clone, Serialize)]
pub struct WorkOrderView {
    /// The work order.
    #[serde(flatten)]
    pub order: WorkOrder,
    /// Inputs against BOM × output.
    pub balance: Vec<BalanceLine>,
    /// Whether any balance line is outside its tolerance.
    pub balance_flagged: bool,
    /// The states it may move to now.
    pub next: Vec<WoState>,
}

fn valid_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Engine {
    /// The work order with identifier or number `key`.
    pub async fn work_order(&self, key: &str) -> Result<WorkOrderView, OpsError> {
        let records = self.records().await?;
        let ops = self.operations().await?;
        let order = ops
            .orders
            .get(key)
            .or_else(|| ops.orders.all().find(|w| w.number == key))
            .cloned()
            .ok_or_else(|| OpsError::NotFound(format!("work order '{key}'")))?;
        drop(ops);
        let bom = records.bom(&order.product);
        let lines = balance(&order, &bom);
        Ok(WorkOrderView {
            balance_flagged: lines.iter().any(|l| l.flagged),
            next: order.state.next().to_vec(),
            balance: lines,
            order,
        })
    }

    /// Work orders, newest first, optionally in one state or on one line.
    pub async fn work_orders(
        &self,
        state: Option<WoState>,
        line: Option<&str>,
        limit: usize,
    ) -> Result<Vec<WorkOrder>, OpsError> {
        let ops = self.operations().await?;
        let mut list: Vec<WorkOrder> = ops
            .orders
            .all()
            .filter(|w| state.is_none_or(|s| w.state == s))
            .filter(|w| line.is_none_or(|l| w.line == l))
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            let t = |w: &WorkOrder| w.times.get("created").cloned().unwrap_or_default();
            t(b).cmp(&t(a)).then(b.number.cmp(&a.number))
        });
        list.truncate(limit);
        Ok(list)
    }

    /// Creates a work order: checks the product (with a BOM), the line and the quantity, and records its
    /// creation event.
    pub async fn create_work_order(
        &self,
        actor: &str,
        req: &NewWorkOrder,
    ) -> Result<WorkOrderView, OpsError> {
        let records = self.records().await?;
        let product = suyuan_ops::kinds::gtin14(&req.product)
            .unwrap_or_else(|| req.product.trim().to_string());
        if !records.has("product", &product) {
            return Err(Self::unknown("product", "product"));
        }
        if records.bom(&product).is_empty() {
            return Err(problem("product", "a product with a bill of materials"));
        }
        if records.text("location", &req.line, "level") != Some("line") {
            return Err(problem("line", "the code of a location of level 'line'"));
        }
        if !(req.planned.is_finite() && req.planned > 0.0) {
            return Err(problem("planned", "a quantity above 0"));
        }
        if let Some(d) = &req.due
            && chrono::DateTime::parse_from_rfc3339(d).is_err()
        {
            return Err(problem("due", "a time (RFC 3339, with its offset)"));
        }
        let _writing = self.ops.writing.lock().await;
        let today = chrono::Utc::now().format("%Y%m%d").to_string();
        let (count_today, on_line_today) = {
            let ops = self.operations().await?;
            let created_today = |w: &&WorkOrder| {
                w.times
                    .get("created")
                    .is_some_and(|t| t.replace('-', "").starts_with(&today))
            };
            (
                ops.orders.all().filter(created_today).count(),
                ops.orders
                    .all()
                    .filter(created_today)
                    .filter(|w| w.line == req.line)
                    .count(),
            )
        };
        let number = match &req.number {
            Some(n) if valid_number(n.trim()) => n.trim().to_string(),
            Some(_) => {
                return Err(problem(
                    "number",
                    "letters, digits, '-', '_' or '.' (at most 40)",
                ));
            }
            None => format!("WO-{today}-{:03}", count_today + 1),
        };
        let id = format!("urn:suyuan:plant:wo:{number}");
        if self.operations().await?.orders.get(&id).is_some() {
            return Err(problem(
                "number",
                format!("a number not used yet ('{number}' is)"),
            ));
        }
        let lot = match (&req.lot, &req.lot_rule) {
            (Some(l), _) if valid_number(l.trim()) => l.trim().to_string(),
            (Some(_), _) => {
                return Err(problem(
                    "lot",
                    "letters, digits, '-', '_' or '.' (at most 40)",
                ));
            }
            (None, Some(rule)) => {
                let issued = self
                    .issue_codes(&crate::codes::IssueRequest {
                        rule: rule.clone(),
                        count: 1,
                        context: suyuan_core::coding::Context {
                            line: Some(req.line.clone()),
                            product: Some(product.clone()),
                            gtin: product
                                .bytes()
                                .all(|b| b.is_ascii_digit())
                                .then(|| product.clone()),
                            ..Default::default()
                        },
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| problem("lot_rule", e.to_string()))?;
                issued
                    .codes
                    .into_iter()
                    .next()
                    .map(|c| c.code)
                    .ok_or_else(|| problem("lot_rule", "a rule that issues a lot"))?
            }
            (None, None) => format!("{}{}{:02}", req.line, &today[2..], on_line_today + 1),
        };
        let unit = records
            .text("product", &product, "unit")
            .unwrap_or("H87")
            .to_string();
        let line_place = place_uri(
            records
                .text("location", &req.line, "gln")
                .unwrap_or(&req.line),
        );
        let e = event(json!({
            "type": "ObjectEvent", "action": "ADD", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
            "epcList": [id], "bizStep": WORK_ORDER_STEP, "readPoint": {"id": line_place},
            "bizTransactionList": [{"type": "prodorder", "bizTransaction": id}],
            "sy:workOrderState": "created", "sy:actor": actor,
            "sy:workOrder": {"sy:product": product, "sy:planned": req.planned, "sy:unit": unit,
                "sy:line": req.line, "sy:lot": lot, "sy:due": req.due},
        }))?;
        self.record(vec![e]).await?;
        drop(_writing);
        self.work_order(&id).await
    }

    /// Issues serials of the work order's product for its output lot by a coding rule (commissioned, with the
    /// label they are printed on); the station records each as made when it is scanned.
    pub async fn issue_serials(
        &self,
        key: &str,
        req: &SerialRequest,
    ) -> Result<crate::codes::IssuedBatch, OpsError> {
        let wo = self.work_order(key).await?.order;
        if wo.state == suyuan_ops::workorder::WoState::Closed {
            return Err(problem(
                "work_order",
                format!("an open work order ({} is closed)", wo.number),
            ));
        }
        let records = self.records().await?;
        let place = place_uri(
            records
                .text("location", &wo.line, "gln")
                .unwrap_or(&wo.line),
        );
        self.issue_codes(&crate::codes::IssueRequest {
            rule: req.rule.clone(),
            count: req.count,
            context: suyuan_core::coding::Context {
                line: Some(wo.line.clone()),
                product: Some(wo.product.clone()),
                gtin: wo
                    .product
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| wo.product.clone()),
                ..Default::default()
            },
            location: Some(place),
            lot: Some(wo.lot.clone()),
            label: req.label.clone(),
            ..Default::default()
        })
        .await
        .map_err(|e| match e {
            crate::codes::CodeError::Store(s) => OpsError::from(s),
            other => problem("rule", other.to_string()),
        })
    }

    /// Moves a work order to `to`, when its lifecycle allows, with the event recording who did it.
    pub async fn move_work_order(
        &self,
        actor: &str,
        key: &str,
        to: WoState,
    ) -> Result<WorkOrderView, OpsError> {
        let _writing = self.ops.writing.lock().await;
        let current = self.work_order(key).await?;
        if !current.order.state.next().contains(&to) {
            return Err(problem(
                "state",
                format!(
                    "one of {} (work order {} is {})",
                    current
                        .next
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    current.order.number,
                    current.order.state.as_str()
                ),
            ));
        }
        let records = self.records().await?;
        let line = &current.order.line;
        let line_place = place_uri(records.text("location", line, "gln").unwrap_or(line));
        let e = event(json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
            "epcList": [current.order.id], "bizStep": WORK_ORDER_STEP, "readPoint": {"id": line_place},
            "bizTransactionList": [{"type": "prodorder", "bizTransaction": current.order.id}],
            "sy:workOrderState": to.as_str(), "sy:actor": actor,
        }))?;
        self.record(vec![e]).await?;
        drop(_writing);
        self.work_order(key).await
    }
}
