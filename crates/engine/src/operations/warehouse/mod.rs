//! Warehouse and logistics actions, each a small set of standard EPCIS events: receiving against a purchase
//! order, putaway and moves, picking for a sales order, packing into cases and pallets (SSCCs), unpacking,
//! shipping with a despatch advice, receipt at a distributor, returns, stock counts with their differences,
//! and an RFID reader's batch of tag reads. Every action carries the client's id: a retry is answered as the
//! first time and stored once.

use serde_json::{Value, json};
use suyuan_store::Write;

use super::master::place_uri;
use super::rules::judge_event;
use super::{OpsError, event, event_id_for, now_text, problem};
use crate::Engine;

mod action;
pub use action::{Action, Counted, Done};

mod steps;

pub use steps::code_key;
use steps::{base, keys, place};

fn object_key_of(uri: String) -> String {
    suyuan_core::projection::object_key(&uri)
}

const ACTION_KIND: &str = "warehouse_action";

impl Engine {
    /// Does a warehouse action for `actor`; `id` is the client's id for it.
    pub async fn warehouse(
        &self,
        actor: &str,
        id: &str,
        action: &Action,
    ) -> Result<Done, OpsError> {
        self.act(actor, id, action, None).await
    }

    /// Does a warehouse action for `me`: plant staff may do every action; a partner only a receipt, which
    /// goes through the submit pipeline and so only for goods and places within the partner's scope.
    pub async fn warehouse_as(
        &self,
        me: &crate::accounts::Principal,
        id: &str,
        action: &Action,
    ) -> Result<Done, OpsError> {
        if me.rows.is_all() {
            return self.act(&me.user, id, action, None).await;
        }
        if !matches!(action, Action::Receipt { .. }) {
            return Err(OpsError::Capture(crate::CaptureError::Forbidden(
                "partners record receipts only; other warehouse actions are the plant's".into(),
            )));
        }
        self.act(&me.user, id, action, Some(me)).await
    }

    async fn act(
        &self,
        actor: &str,
        id: &str,
        action: &Action,
        partner: Option<&crate::accounts::Principal>,
    ) -> Result<Done, OpsError> {
        let id = id.trim();
        if id.is_empty() || id.len() > 80 {
            return Err(problem("id", "the client's action id (1 to 80 characters)"));
        }
        if let Some(done) = self.store().account(ACTION_KIND, id).await?
            && let Ok(d) = serde_json::from_value::<Done>(done)
        {
            return Ok(d);
        }
        let records = self.records().await?;
        let _writing = self.ops.writing.lock().await;
        self.ops.catch_up(self.store().as_ref()).await?;
        let eid = event_id_for("warehouse", id);
        let mut done = Done {
            events: vec![eid.clone()],
            parent: None,
            despatch: None,
            differences: Vec::new(),
            read: None,
        };
        let mut writes = Vec::new();
        let mut v = match action {
            Action::Receive {
                po,
                supplier,
                product,
                lot,
                quantity,
                expiry,
                location,
                certificate,
            } => {
                let at = place(&records, "location", location)?;
                let product = suyuan_ops::kinds::gtin14(product).unwrap_or_else(|| product.clone());
                if !records.has("product", &product) {
                    return Err(Self::unknown("product", "product"));
                }
                let sup = records
                    .get("supplier", supplier)
                    .ok_or_else(|| Self::unknown("supplier", "supplier"))?;
                if sup.get("blocked").and_then(Value::as_bool) == Some(true) {
                    return Err(suyuan_ops::checks::Refusal::BlockedSupplier {
                        lot: lot.clone(),
                        supplier: records.label("supplier", supplier, false),
                    }
                    .into());
                }
                let approved = records.texts("supplier", supplier, "materials");
                if !approved.is_empty() && !approved.contains(&product.as_str()) {
                    return Err(problem(
                        "product",
                        format!(
                            "a material approved for this supplier ({})",
                            approved.join(", ")
                        ),
                    ));
                }
                if lot.trim().is_empty() || lot.len() > 20 {
                    return Err(problem("lot", "the supplier's lot (1 to 20 characters)"));
                }
                if !(quantity.is_finite() && *quantity > 0.0) {
                    return Err(problem("quantity", "a quantity above 0"));
                }
                if let Some(x) = expiry
                    && suyuan_ops::facts::date_part(x).is_none()
                {
                    return Err(problem("expiry", "a date (YYYY-MM-DD)"));
                }
                let class = if product.bytes().all(|b| b.is_ascii_digit()) {
                    format!("https://id.gs1.org/01/{product}/10/{}", lot.trim())
                } else {
                    format!("urn:suyuan:plant:lot:{product}.{}", lot.trim())
                };
                let uom = records.text("product", &product, "unit").unwrap_or("KGM");
                let mut v = base("receiving", Some("in_progress"), &at, &eid);
                v["action"] = json!("ADD");
                v["quantityList"] = json!([{"epcClass": class, "quantity": quantity, "uom": uom}]);
                v["bizTransactionList"] =
                    json!([{"type": "po", "bizTransaction": format!("urn:suyuan:plant:po:{po}")}]);
                let party = sup
                    .get("gln")
                    .and_then(Value::as_str)
                    .filter(|g| g.len() == 13)
                    .map(|g| format!("urn:epc:id:pgln:{}.{}", &g[..7], &g[7..12]))
                    .unwrap_or_else(|| format!("urn:suyuan:plant:party:{supplier}"));
                v["sourceList"] = json!([{"type": "owning_party", "source": party}]);
                let mut ilmd = json!({"cbvmda:lotNumber": lot.trim()});
                if let Some(x) = expiry {
                    ilmd["cbvmda:itemExpirationDate"] = json!(x);
                }
                v["ilmd"] = ilmd;
                if let Some(c) = certificate
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                {
                    let plain = c.len() <= 64
                        && c.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
                    let uri = if plain {
                        format!("urn:suyuan:plant:certificate:{c}")
                    } else if c.split_once(':').is_some_and(|(scheme, _)| {
                        !scheme.is_empty()
                            && scheme.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'
                            })
                    }) && !c.contains(char::is_whitespace)
                    {
                        c.to_string()
                    } else {
                        return Err(problem(
                            "certificate",
                            "a document number (letters, digits, '-', '_', '.') or a URI",
                        ));
                    };
                    v["certificationInfo"] = json!(uri);
                }
                v
            }
            Action::Move { code, quantity, to } => {
                let at = place(&records, "to", to)?;
                let key = code_key("code", code)?;
                let mut v = base("storing", None, &at, &eid);
                self.objects_or_quantity(&mut v, &key, *quantity)?;
                v
            }
            Action::Pick {
                order,
                code,
                quantity,
                location,
            } => {
                let at = place(&records, "location", location)?;
                let key = code_key("code", code)?;
                let mut v = base("picking", None, &at, &eid);
                v["bizTransactionList"] = json!([{"type": "po", "bizTransaction": format!("urn:suyuan:plant:so:{order}")}]);
                self.objects_or_quantity(&mut v, &key, *quantity)?;
                v
            }
            Action::Pack {
                parent,
                children,
                location,
                rule,
            } => {
                let at = place(&records, "location", location)?;
                let kids = keys("children", children)?;
                let parent = match (parent, rule) {
                    (Some(p), _) => code_key("parent", p)?,
                    (None, Some(r)) => {
                        let issued = self
                            .issue_codes(&crate::codes::IssueRequest {
                                rule: r.clone(),
                                count: 1,
                                location: Some(at.clone()),
                                ..Default::default()
                            })
                            .await
                            .map_err(|e| problem("rule", e.to_string()))?;
                        let uri = issued.codes.into_iter().next().map(|c| c.uri);
                        object_key_of(
                            uri.ok_or_else(|| problem("rule", "a rule that issues an SSCC"))?,
                        )
                    }
                    (None, None) => self.new_sscc().await?,
                };
                if kids.contains(&parent) {
                    return Err(problem(
                        "children",
                        "units or cases other than the container they go into",
                    ));
                }
                done.parent = Some(parent.clone());
                json!({"type": "AggregationEvent", "action": "ADD", "eventID": eid, "eventTime": now_text(),
                    "eventTimeZoneOffset": "+00:00", "bizStep": "packing", "disposition": "in_progress",
                    "parentID": parent, "childEPCs": kids, "readPoint": {"id": at}, "bizLocation": {"id": at}})
            }
            Action::Unpack { parent, location } => {
                let at = place(&records, "location", location)?;
                json!({"type": "AggregationEvent", "action": "DELETE", "eventID": eid, "eventTime": now_text(),
                    "eventTimeZoneOffset": "+00:00", "bizStep": "unpacking", "parentID": code_key("parent", parent)?,
                    "readPoint": {"id": at}, "bizLocation": {"id": at}})
            }
            Action::Ship {
                customer,
                codes,
                from,
            } => {
                let at = place(&records, "from", from)?;
                let cust = records
                    .get("customer", customer)
                    .ok_or_else(|| Self::unknown("customer", "customer"))?;
                let dest = place_uri(cust.get("gln").and_then(Value::as_str).unwrap_or(customer));
                let party = dest
                    .replace("urn:epc:id:sgln:", "urn:epc:id:pgln:")
                    .rsplit_once('.')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_else(|| dest.clone());
                let kids = keys("codes", codes)?;
                let number = format!("DA-{}-{}", chrono::Utc::now().format("%Y%m%d"), &eid[9..17]);
                let da = format!("urn:suyuan:plant:desadv:{number}");
                let lines = self.despatch_lines(&kids);
                writes.push(Write::Definition {
                    kind: "despatch".into(), name: number.clone(), version: 1,
                    definition: json!({"number": number, "customer": customer, "from": from, "codes": kids,
                        "lines": lines, "event": eid, "by": actor, "at": now_text()}),
                });
                done.despatch = Some(number);
                let mut v = base("shipping", Some("in_transit"), &at, &eid);
                v.as_object_mut().map(|o| o.remove("bizLocation"));
                v["epcList"] = json!(kids);
                v["bizTransactionList"] = json!([{"type": "desadv", "bizTransaction": da}]);
                v["sourceList"] = json!([{"type": "location", "source": at}]);
                v["destinationList"] = json!([{"type": "owning_party", "destination": party}, {"type": "location", "destination": dest}]);
                v
            }
            Action::Receipt { codes, location } => {
                let at = place(&records, "location", location)?;
                let mut v = base("receiving", Some("sellable_not_accessible"), &at, &eid);
                v["epcList"] = json!(keys("codes", codes)?);
                v
            }
            Action::Return {
                codes,
                location,
                reason,
            } => {
                let at = place(&records, "location", location)?;
                let mut v = base("receiving", Some("returned"), &at, &eid);
                v["epcList"] = json!(keys("codes", codes)?);
                if let Some(r) = reason {
                    v["sy:reason"] = json!(r);
                }
                v
            }
            Action::Scrap {
                code,
                quantity,
                work_order,
                location,
                reason,
            }
            | Action::Rework {
                code,
                quantity,
                work_order,
                location,
                reason,
            } => {
                let scrap = matches!(action, Action::Scrap { .. });
                let at = place(&records, "location", location)?;
                let key = code_key("code", code)?;
                let mut v = if scrap {
                    base("destroying", Some("destroyed"), &at, &eid)
                } else {
                    base("repairing", Some("in_progress"), &at, &eid)
                };
                self.objects_or_quantity(&mut v, &key, *quantity)?;
                if let Some(w) = work_order {
                    let wo = self.work_order(w).await?.order;
                    v["sy:workOrder"] = json!(wo.id);
                    v["bizTransactionList"] =
                        json!([{"type": "prodorder", "bizTransaction": wo.id}]);
                }
                if let Some(r) = reason {
                    v["sy:reason"] = json!(r);
                }
                if !scrap {
                    v["sy:rework"] = json!(reason.clone().unwrap_or_else(|| "rework".into()));
                }
                v
            }
            Action::Count { location, counted } => {
                let at = place(&records, "location", location)?;
                self.count_event(&at, counted, &eid, &mut done)?
            }
            Action::Rfid {
                location,
                tags,
                purpose,
                despatch,
            } => {
                let at = place(&records, "location", location)?;
                if tags.len() > 20_000 {
                    return Err(problem("tags", "at most 20,000 reads in one batch"));
                }
                let mut seen: Vec<String> = Vec::new();
                let mut once = std::collections::HashSet::new();
                for (i, t) in tags.iter().enumerate() {
                    let k = code_key(&format!("tags/{i}"), t)?;
                    if once.insert(k.clone()) {
                        seen.push(k);
                    }
                }
                if seen.is_empty() {
                    return Err(problem("tags", "at least one tag read"));
                }
                done.read = Some(seen.len());
                match purpose.as_deref().unwrap_or("observe") {
                    "observe" => {
                        let mut v = base("inspecting", None, &at, &eid);
                        v["epcList"] = json!(seen);
                        v
                    }
                    "receive" => {
                        let mut v = base("receiving", Some("sellable_not_accessible"), &at, &eid);
                        v["epcList"] = json!(seen);
                        v
                    }
                    "count" => {
                        let counted: Vec<Counted> = seen
                            .iter()
                            .map(|k| Counted {
                                code: k.clone(),
                                quantity: None,
                            })
                            .collect();
                        self.count_event(&at, &counted, &eid, &mut done)?
                    }
                    "ship_check" => {
                        let number = despatch.as_deref().ok_or_else(|| {
                            problem(
                                "despatch",
                                "the despatch advice the reads are checked against",
                            )
                        })?;
                        let advice = self
                            .store()
                            .definition("despatch", number, None)
                            .await?
                            .ok_or_else(|| {
                                OpsError::NotFound(format!("despatch advice '{number}'"))
                            })?;
                        let expected: Vec<String> = advice.definition["codes"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default();
                        for k in &expected {
                            if !once.contains(k) {
                                done.differences.push((k.clone(), 1.0, 0.0));
                            }
                        }
                        for k in &seen {
                            if !expected.contains(k) {
                                done.differences.push((k.clone(), 0.0, 1.0));
                            }
                        }
                        let mut v = base("inspecting", None, &at, &eid);
                        v["epcList"] = json!(seen);
                        v["bizTransactionList"] = json!([{"type": "desadv", "bizTransaction": format!("urn:suyuan:plant:desadv:{number}")}]);
                        v["sy:differences"] = json!(done.differences.iter().map(|(k, e, c)| json!({"sy:code": k, "sy:expected": e, "sy:counted": c})).collect::<Vec<_>>());
                        v
                    }
                    _ => {
                        return Err(problem(
                            "purpose",
                            "one of observe, receive, count, ship_check",
                        ));
                    }
                }
            }
        };
        v["sy:actor"] = json!(actor);
        v["sy:requestId"] = json!(id);
        let body = v.clone();
        let e = event(v)?;
        if let Some(r) = judge_event(
            &self.ops.read().inventory,
            &super::rules::Overlay::default(),
            &e,
        ) {
            return Err(r.into());
        }
        match partner {
            // A partner's receipt is held to the partner's scope by the submit pipeline.
            Some(me) => {
                let mut body = body;
                body["@context"] =
                    json!([crate::submit::EPCIS_CONTEXT, {"sy": crate::audit::SY_NS}]);
                self.submit(
                    me,
                    crate::submit::Submission::rollback(crate::submit::Input::Json(body)),
                )
                .await?;
                self.ops.catch_up(self.store().as_ref()).await?;
            }
            None => self.record_with(vec![e], writes).await?,
        }
        self.save_state(
            ACTION_KIND,
            id,
            &serde_json::to_value(&done).unwrap_or(Value::Null),
        )
        .await?;
        metrics::counter!("suyuan_warehouse_actions_total").increment(1);
        Ok(done)
    }
}
