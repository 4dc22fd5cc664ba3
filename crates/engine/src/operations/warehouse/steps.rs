//! The pieces the warehouse actions are made of: reading codes and places, the events' common fields, the
//! despatch advice's lines, a count's differences, new SSCCs, and storing events with record writes.

use serde_json::{Value, json};
use suyuan_core::id::{ParseOptions, parse};
use suyuan_core::projection::object_key;
use suyuan_ops::facts::product_and_lot;
use suyuan_store::{Commit, Write};

use super::{Counted, Done};
use crate::Engine;
use crate::operations::master::{Records, place_uri};
use crate::operations::{OpsError, now_text, problem};

/// The identifier key of a scanned or typed code.
pub fn code_key(field: &str, code: &str) -> Result<String, OpsError> {
    let p = parse(code, &ParseOptions::default())
        .map_err(|e| problem(field, format!("a GS1 code, EPC or internal code ({e})")))?;
    p.dl.as_deref()
        .or(p.urn.as_deref())
        .map(object_key)
        .ok_or_else(|| {
            problem(
                field,
                "a code that identifies a lot, a unit or a logistic unit",
            )
        })
}

pub(super) fn place(records: &Records, field: &str, code: &str) -> Result<String, OpsError> {
    if let Some(r) = records.get("location", code) {
        return Ok(place_uri(
            r.get("gln").and_then(Value::as_str).unwrap_or(code),
        ));
    }
    if let Some(r) = records.get("customer", code) {
        return Ok(place_uri(
            r.get("gln").and_then(Value::as_str).unwrap_or(code),
        ));
    }
    Err(Engine::unknown(field, "location"))
}

pub(super) fn base(step: &str, disposition: Option<&str>, at: &str, id: &str) -> Value {
    let mut v = json!({"type": "ObjectEvent", "action": "OBSERVE", "eventID": id, "eventTime": now_text(),
        "eventTimeZoneOffset": "+00:00", "bizStep": step, "readPoint": {"id": at}, "bizLocation": {"id": at}});
    if let Some(d) = disposition {
        v["disposition"] = json!(d);
    }
    v
}

pub(super) fn keys(field: &str, codes: &[String]) -> Result<Vec<String>, OpsError> {
    if codes.is_empty() || codes.len() > 10_000 {
        return Err(problem(field, "1 to 10,000 codes"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let k = code_key(&format!("{field}/{i}"), c)?;
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

impl Engine {
    pub(super) fn objects_or_quantity(
        &self,
        v: &mut Value,
        key: &str,
        quantity: Option<f64>,
    ) -> Result<(), OpsError> {
        match product_and_lot(key) {
            Some((_, Some(_))) => {
                let lot = self
                    .ops
                    .read()
                    .inventory
                    .lot(key)
                    .ok_or_else(|| problem("code", "a lot with stock here"))?;
                let q = quantity.unwrap_or_else(|| lot.stock.iter().map(|(_, _, q)| q).sum());
                if !(q.is_finite() && q > 0.0) {
                    return Err(problem("quantity", "a quantity above 0"));
                }
                v["quantityList"] = json!([{"epcClass": key, "quantity": q, "uom": if lot.uom.is_empty() { "H87".to_string() } else { lot.uom }}]);
            }
            _ => v["epcList"] = json!([key]),
        }
        Ok(())
    }

    pub(super) fn despatch_lines(&self, keys: &[String]) -> Vec<Value> {
        let ops = self.ops.read();
        let mut lines: std::collections::BTreeMap<(String, String), f64> = Default::default();
        for k in keys {
            let inside = ops.inventory.units_inside(k);
            let units = if inside.is_empty() {
                vec![k.clone()]
            } else {
                inside
            };
            for u in units {
                if let Some(f) = ops.inventory.unit(&u) {
                    *lines.entry((f.product, f.lot)).or_default() += 1.0;
                }
            }
        }
        lines
            .into_iter()
            .map(|((p, l), q)| json!({"product": p, "lot": l, "quantity": q}))
            .collect()
    }

    pub(super) fn count_event(
        &self,
        at: &str,
        counted: &[Counted],
        eid: &str,
        done: &mut Done,
    ) -> Result<Value, OpsError> {
        if counted.is_empty() {
            return Err(problem("counted", "at least one counted line"));
        }
        let loc = object_key(at);
        let ops = self.ops.read();
        let mut v = base("cycle_counting", None, at, eid);
        let mut epcs = Vec::new();
        let mut quantities = Vec::new();
        for (i, c) in counted.iter().enumerate() {
            let key = code_key(&format!("counted/{i}/code"), &c.code)?;
            match product_and_lot(&key) {
                Some((_, Some(_))) => {
                    let q = c
                        .quantity
                        .filter(|q| q.is_finite() && *q >= 0.0)
                        .ok_or_else(|| {
                            problem(
                                &format!("counted/{i}/quantity"),
                                "the quantity counted (0 or more)",
                            )
                        })?;
                    let lot = ops.inventory.lot(&key);
                    let expected: f64 = lot.as_ref().map_or(0.0, |l| {
                        l.stock
                            .iter()
                            .filter(|(x, _, _)| *x == loc)
                            .map(|(_, _, q)| q)
                            .sum()
                    });
                    if (expected - q).abs() > 1e-9 {
                        done.differences.push((key.clone(), expected, q));
                    }
                    let uom = lot
                        .map(|l| l.uom)
                        .filter(|u| !u.is_empty())
                        .unwrap_or_else(|| "H87".into());
                    quantities.push(json!({"epcClass": key, "quantity": q, "uom": uom}));
                }
                _ => {
                    let here = ops
                        .inventory
                        .unit(&key)
                        .is_some_and(|u| u.location == loc && !u.gone);
                    if !here {
                        done.differences.push((key.clone(), 0.0, 1.0));
                    }
                    epcs.push(key);
                }
            }
        }
        if !epcs.is_empty() {
            v["epcList"] = json!(epcs);
        }
        if !quantities.is_empty() {
            v["quantityList"] = json!(quantities);
        }
        v["sy:differences"] = json!(
            done.differences
                .iter()
                .map(|(k, e, c)| json!({"sy:code": k, "sy:expected": e, "sy:counted": c}))
                .collect::<Vec<_>>()
        );
        Ok(v)
    }

    /// A new SSCC from the plant's company prefix and a sequence that never repeats.
    pub(super) async fn new_sscc(&self) -> Result<String, OpsError> {
        let gtins = self.own_gtins().await?;
        let prefix = crate::codes::seven_digit_prefixes(&gtins)
            .into_iter()
            .next()
            .unwrap_or_else(|| "6901234".into());
        // A number someone already printed by hand is skipped.
        for _ in 0..1000 {
            let n = self
                .store()
                .reserve_sequence("sscc", &prefix, 1, 999_999_999)
                .await?
                .ok_or_else(|| {
                    problem("parent", "an SSCC: the serial reference range is used up")
                })?;
            let body = format!("3{prefix}{:09}", n);
            let check = suyuan_core::gs1::check_digit(&body).unwrap_or(0);
            let key = format!("https://id.gs1.org/00/{body}{check}");
            if self.ops.read().inventory.unit(&key).is_none() {
                return Ok(key);
            }
        }
        Err(problem(
            "parent",
            "an SSCC: a thousand numbers in a row are already in use",
        ))
    }

    /// Stores events with record writes in one transaction, through the validators.
    pub(crate) async fn record_with(
        &self,
        events: Vec<suyuan_core::Event>,
        writes: Vec<Write>,
    ) -> Result<(), OpsError> {
        if writes.is_empty() {
            self.record(events).await?;
            return Ok(());
        }
        self.admit(&events).await?;
        let batch = crate::submit::prepare_off_thread(events).await?;
        self.commit(Commit {
            events: batch,
            writes,
        })
        .await?;
        self.ops.catch_up(self.store().as_ref()).await?;
        Ok(())
    }
}
