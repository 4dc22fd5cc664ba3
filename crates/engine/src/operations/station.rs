//! The scan station: an operator's badge, a work order, each input lot and each unit or lot produced, scanned
//! in any order that makes sense; each scan is judged at once (the material against the BOM and the lot's
//! state) and, when it is production, recorded as a TransformationEvent joined to the work order by its
//! transformationID. A scan carries the client's id: a retried scan is answered as the first time and
//! stored once.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use suyuan_core::id::{ParseOptions, parse};
use suyuan_core::projection::object_key;
use suyuan_ops::checks::{MaterialCheck, Refusal, judge_material};
use suyuan_ops::facts::{WORK_ORDER_STEP, product_and_lot};
use suyuan_ops::workorder::WoState;

use super::master::{Records, place_uri};
use super::{OpsError, event, event_id_for, now_text, problem};
use crate::Engine;

/// One scan at a station.
#[derive(Debug, Clone, Deserialize)]
pub struct StationScan {
    /// The client's id for this scan (retries repeat it).
    pub id: String,
    /// What was scanned (any printed form: element string, Digital Link, EPC URN, badge, work order number).
    pub code: String,
    /// The operator's badge, once scanned.
    #[serde(default)]
    pub operator: Option<String>,
    /// The work order, once scanned.
    #[serde(default)]
    pub work_order: Option<String>,
    /// Quantity, for a material lot or a produced lot (the BOM's remaining need when absent).
    #[serde(default)]
    pub quantity: Option<f64>,
}

/// What a scan did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanDone {
    /// An operator signed on.
    Operator {
        /// Badge.
        badge: String,
        /// Name.
        name: String,
    },
    /// A work order was chosen.
    WorkOrder {
        /// Its identifier.
        id: String,
        /// Its number.
        number: String,
        /// Product made.
        product: String,
        /// Output lot.
        lot: String,
        /// Planned quantity.
        planned: f64,
        /// Output so far.
        output: f64,
    },
    /// A material lot was consumed into the work order.
    Consumed {
        /// Product.
        product: String,
        /// Lot.
        lot: String,
        /// Quantity.
        quantity: f64,
        /// Unit.
        unit: String,
        /// Its eventID.
        event: String,
    },
    /// A unit or a quantity of the output lot was produced.
    Produced {
        /// Product.
        product: String,
        /// Lot.
        lot: String,
        /// Quantity (1 for a unit).
        quantity: f64,
        /// The unit's identifier, when it was a unit.
        unit: Option<String>,
        /// Its eventID.
        event: String,
    },
}

const SCAN_KIND: &str = "station_scan";

impl Engine {
    /// Judges and, when it is production, records one scan at `station` (a location code).
    pub async fn station_scan(
        &self,
        actor: &str,
        station: &str,
        scan: &StationScan,
    ) -> Result<ScanDone, OpsError> {
        let id = scan.id.trim();
        if id.is_empty() || id.len() > 80 {
            return Err(problem("id", "the client's scan id (1 to 80 characters)"));
        }
        let code = scan.code.trim_matches([' ', '\r', '\n', '\t']);
        if code.is_empty() || code.len() > 400 {
            return Err(problem("code", "what was scanned (1 to 400 characters)"));
        }
        let state_id = format!("{station}/{id}");
        if let Some(done) = self.store().account(SCAN_KIND, &state_id).await?
            && let Ok(d) = serde_json::from_value::<ScanDone>(done)
        {
            return Ok(d);
        }
        let records = self.records().await?;
        if records.text("location", station, "level") != Some("station") {
            return Err(OpsError::NotFound(format!("station '{station}'")));
        }
        let line = records
            .location_chain(station)
            .into_iter()
            .find(|c| records.text("location", c, "level") == Some("line"))
            .unwrap_or_default();
        if records.has("operator", code) {
            let lines = records.texts("operator", code, "lines");
            if !lines.is_empty() && !lines.contains(&line.as_str()) {
                return Err(Refusal::OperatorNotOnLine {
                    operator: code.into(),
                    line,
                }
                .into());
            }
            return Ok(ScanDone::Operator {
                badge: code.into(),
                name: records.label("operator", code, false),
            });
        }
        if let Some(done) = self.scan_work_order(code, &line).await? {
            return Ok(done);
        }
        let parsed = parse(code, &ParseOptions::default()).map_err(|_| Refusal::UnknownCode {
            scanned: code.into(),
        })?;
        let key = parsed
            .dl
            .as_deref()
            .or(parsed.urn.as_deref())
            .map(object_key)
            .ok_or_else(|| Refusal::UnknownCode {
                scanned: code.into(),
            })?;
        let Some(badge) = scan
            .operator
            .as_deref()
            .filter(|b| records.has("operator", b))
        else {
            return Err(Refusal::NoOperator.into());
        };
        let Some(wo_key) = scan.work_order.as_deref() else {
            return Err(Refusal::NoWorkOrder.into());
        };
        // Scans of one lot or unit wait for each other; scans of different things go together. The first
        // production scan of a released order also starts it: once.
        let _this = self.ops.objects.lock(&key).await;
        let mut wo = self.work_order(wo_key).await?.order;
        let _order = if wo.state == WoState::Released {
            let guard = self.ops.objects.lock(&wo.id).await;
            wo = self.work_order(wo_key).await?.order;
            Some(guard)
        } else {
            None
        };
        if !wo.state.running() {
            return Err(Refusal::WorkOrderNotRunning {
                order: wo.number,
                state: wo.state.as_str().into(),
            }
            .into());
        }
        if !wo.line.is_empty() && wo.line != line {
            return Err(Refusal::WrongLine {
                order: wo.number,
                line: wo.line,
            }
            .into());
        }
        let (product, lot) = product_and_lot(&key).ok_or_else(|| Refusal::UnknownCode {
            scanned: code.into(),
        })?;
        let place = place_uri(records.text("location", station, "gln").unwrap_or(station));
        let operation = records
            .of("routing")
            .iter()
            .find(|(_, r, _)| {
                r.get("product").and_then(Value::as_str) == Some(&wo.product)
                    && r.get("station").and_then(Value::as_str) == Some(station)
            })
            .and_then(|(_, r, _)| r.get("operation").and_then(Value::as_str))
            .unwrap_or("production")
            .to_string();
        let event_id = event_id_for(station, id);
        let mut base = json!({
            "type": "TransformationEvent", "eventID": event_id, "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
            "bizStep": "commissioning", "disposition": "in_progress",
            "transformationID": wo.id, "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo.id}],
            "readPoint": {"id": place}, "bizLocation": {"id": place},
            "sy:workOrder": wo.id, "sy:operation": operation, "sy:operator": badge, "sy:line": line,
            "sy:station": station, "sy:scanId": id, "sy:actor": actor,
        });
        let done = if product == wo.product {
            self.produced(&records, &wo, &key, lot, scan.quantity, &mut base)?
        } else {
            self.consumed(
                &records,
                &wo,
                &key,
                &product,
                lot,
                scan.quantity,
                &line,
                &mut base,
            )
            .await?
        };
        let mut events = Vec::new();
        if wo.state == WoState::Released {
            events.push(event(json!({
                "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
                "epcList": [wo.id], "bizStep": WORK_ORDER_STEP, "readPoint": {"id": place},
                "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo.id}],
                "sy:workOrderState": "started", "sy:actor": actor,
            }))?);
        }
        events.push(event(base)?);
        // The answer is kept with the events, so a retry finds it.
        let answer = suyuan_store::Write::PutRecord {
            kind: SCAN_KIND.into(),
            id: state_id,
            doc: serde_json::to_value(&done).unwrap_or(Value::Null),
            create: false,
        };
        self.record_with(events, vec![answer]).await?;
        metrics::counter!("suyuan_station_scans_total").increment(1);
        Ok(done)
    }

    async fn scan_work_order(&self, code: &str, line: &str) -> Result<Option<ScanDone>, OpsError> {
        let ops = self.operations().await?;
        let Some(wo) = ops
            .orders
            .get(code)
            .or_else(|| ops.orders.all().find(|w| w.number == code))
        else {
            return Ok(None);
        };
        if !wo.state.running() {
            return Err(Refusal::WorkOrderNotRunning {
                order: wo.number.clone(),
                state: wo.state.as_str().into(),
            }
            .into());
        }
        if !wo.line.is_empty() && wo.line != line {
            return Err(Refusal::WrongLine {
                order: wo.number.clone(),
                line: wo.line.clone(),
            }
            .into());
        }
        Ok(Some(ScanDone::WorkOrder {
            id: wo.id.clone(),
            number: wo.number.clone(),
            product: wo.product.clone(),
            lot: wo.lot.clone(),
            planned: wo.planned,
            output: wo.output,
        }))
    }

    fn produced(
        &self,
        records: &Records,
        wo: &suyuan_ops::workorder::WorkOrder,
        key: &str,
        lot: Option<String>,
        quantity: Option<f64>,
        base: &mut Value,
    ) -> Result<ScanDone, OpsError> {
        let shelf = records
            .get("product", &wo.product)
            .and_then(|r| r.get("shelf_life_days"))
            .and_then(Value::as_i64);
        let mut ilmd = json!({"cbvmda:lotNumber": wo.lot});
        if let Some(days) = shelf {
            let until = chrono::Utc::now() + chrono::Duration::days(days);
            ilmd["cbvmda:itemExpirationDate"] = json!(until.format("%Y-%m-%d").to_string());
        }
        base["ilmd"] = ilmd;
        base["disposition"] = json!("active");
        let event_id = base["eventID"].as_str().unwrap_or("").to_string();
        match lot {
            None => {
                // A unit: once only.
                // Commissioned when its label was printed is fine; made already is not.
                if self
                    .ops
                    .read()
                    .inventory
                    .unit(key)
                    .is_some_and(|u| u.made || u.gone)
                {
                    return Err(Refusal::AlreadyRecorded { what: key.into() }.into());
                }
                base["outputEPCList"] = json!([key]);
                Ok(ScanDone::Produced {
                    product: wo.product.clone(),
                    lot: wo.lot.clone(),
                    quantity: 1.0,
                    unit: Some(key.into()),
                    event: event_id,
                })
            }
            Some(l) if l == wo.lot => {
                let q = quantity.unwrap_or((wo.planned - wo.output).max(0.0));
                if !(q.is_finite() && q > 0.0) {
                    return Err(problem("quantity", "a quantity above 0"));
                }
                let unit = records
                    .text("product", &wo.product, "unit")
                    .unwrap_or("H87")
                    .to_string();
                base["outputQuantityList"] = json!([{"epcClass": key, "quantity": q, "uom": unit}]);
                Ok(ScanDone::Produced {
                    product: wo.product.clone(),
                    lot: l,
                    quantity: q,
                    unit: None,
                    event: event_id,
                })
            }
            Some(l) => Err(problem(
                "code",
                format!("the work order's output lot {} (scanned lot {l})", wo.lot),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn consumed(
        &self,
        records: &Records,
        wo: &suyuan_ops::workorder::WorkOrder,
        key: &str,
        product: &str,
        lot: Option<String>,
        quantity: Option<f64>,
        line: &str,
        base: &mut Value,
    ) -> Result<ScanDone, OpsError> {
        let bom = records.bom(&wo.product);
        let inputs: Vec<String> = bom.iter().map(|l| l.input.clone()).collect();
        let Some(lot) = lot else {
            return Err(Refusal::WrongMaterial {
                product: product.into(),
                expected: inputs.join(", "),
            }
            .into());
        };
        let facts = self.ops.read().inventory.lot(key);
        let supplier_blocked = facts
            .as_ref()
            .and_then(|f| f.supplier.clone())
            .and_then(|party| {
                let code = records.by_gln("supplier", &party)?;
                (records
                    .get("supplier", code)?
                    .get("blocked")
                    .and_then(Value::as_bool)
                    == Some(true))
                .then(|| records.label("supplier", code, false))
            });
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        judge_material(&MaterialCheck {
            lot: facts.as_ref(),
            product,
            lot_number: &lot,
            bom_inputs: &inputs,
            today: &today,
            blocked_supplier: supplier_blocked.as_deref(),
            feeds_here: &|loc| Self::feeds(records, loc, line),
        })?;
        let facts = facts.ok_or_else(|| Refusal::UnknownCode {
            scanned: key.into(),
        })?;
        let available: f64 = facts
            .stock
            .iter()
            .filter(|(_, s, _)| *s == suyuan_ops::Status::Available)
            .map(|(_, _, q)| q)
            .sum();
        let line_bom = bom.iter().find(|l| l.input == product);
        let need = line_bom.map_or(0.0, |l| l.quantity * wo.planned)
            - wo.inputs.get(product).copied().unwrap_or(0.0);
        let q = match quantity {
            Some(q) if q.is_finite() && q > 0.0 => q,
            Some(_) => return Err(problem("quantity", "a quantity above 0")),
            None if need > 1e-9 => need.min(available),
            None => available.min(line_bom.map_or(available, |l| l.quantity * wo.planned)),
        };
        if q > available + 1e-9 {
            return Err(Refusal::MoreThanOnHand {
                what: lot,
                wanted: q,
                on_hand: available,
            }
            .into());
        }
        let unit = if facts.uom.is_empty() {
            line_bom.map_or("H87".to_string(), |l| l.unit.clone())
        } else {
            facts.uom.clone()
        };
        base["inputQuantityList"] = json!([{"epcClass": key, "quantity": q, "uom": unit}]);
        let event_id = base["eventID"].as_str().unwrap_or("").to_string();
        Ok(ScanDone::Consumed {
            product: product.into(),
            lot,
            quantity: q,
            unit,
            event: event_id,
        })
    }
}
