//! The demo plant's quality: an incoming inspection plan per supplier material and the final inspection
//! plan of the can (GB/T 2828.1 level II), and the events of an inspection exactly as the engine's
//! quality module records them — the judged lot, and for a rejected lot its hold, its nonconformance
//! report and the report's later steps. Measurements come from a generator seeded by the lot, so adding
//! them leaves the rest of the factory's random draws unchanged.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use suyuan_core::projection::object_key;
use suyuan_quality::plan::{Finding, InspectionPlan, judge};
use suyuan_quality::sampling::Severity;

use crate::operations::{can_gtin, gtin};
use crate::{CANS_PER_BATCH, Rng, SUPPLIERS};

/// Suyuan's business step of nonconformance report events.
pub const NCR_STEP: &str = "https://suyuan.dev/voc/bizStep/nonconformance";

/// The demo's quality manager (user name), who takes the reports' steps.
pub const QUALITY_MANAGER: &str = "quality";

/// The inspector's user name on inspection events.
pub const INSPECTOR_USER: &str = "inspector";

/// Items per inspection unit of each supplier's material (bags, totes, boxes, cans, lids).
const PACK: [f64; 5] = [1000.0, 25.0, 20.0, 1.0, 1.0];

/// The code of the incoming plan of supplier `i`.
pub fn iqc_plan_code(i: usize) -> String {
    format!("IQC-{}", SUPPLIERS[i].lot_prefix)
}

/// The code of the can's final inspection plan.
pub const FQC_PLAN: &str = "FQC-CAN";

/// Every inspection plan of the demo plant, as the engine stores them.
pub fn plans() -> Vec<Value> {
    let mut out = Vec::new();
    for (i, s) in SUPPLIERS.iter().enumerate() {
        let characteristics = match s.lot_prefix {
            "RM" => json!([
                {"name": "蛋白质 protein", "class": "major", "nominal": 3.2, "lsl": 2.9, "unit": "g/100g", "method": "GB 5009.5", "instrument": "Kjeldahl K-1"},
                {"name": "菌落总数 total plate count", "class": "major", "usl": 200000.0, "unit": "CFU/g", "method": "GB 4789.2"},
                {"name": "抗生素残留 antibiotic residue", "class": "critical", "method": "GB 23200"}]),
            "WP" => json!([
                {"name": "蛋白质 protein", "class": "major", "nominal": 12.5, "lsl": 11.0, "usl": 14.0, "unit": "%", "method": "GB 5009.5", "instrument": "Kjeldahl K-1"},
                {"name": "水分 moisture", "class": "major", "usl": 5.0, "unit": "%", "method": "GB 5009.3"},
                {"name": "异物 foreign matter", "class": "major", "method": "visual"}]),
            "VP" => json!([
                {"name": "维生素A vitamin A", "class": "major", "nominal": 100.0, "lsl": 90.0, "usl": 110.0, "unit": "% of label", "method": "GB 5009.82"},
                {"name": "包装完好 package intact", "class": "minor", "method": "visual"}]),
            _ => json!([
                {"name": "卷边尺寸 seam dimension", "class": "major", "nominal": 1.2, "lsl": 1.1, "usl": 1.3, "unit": "mm", "method": "seam gauge", "instrument": "SG-02"},
                {"name": "外观缺陷 visual defect", "class": "minor", "method": "visual"}]),
        };
        // An AQL for each defect class the plan checks: a class with no characteristic would only
        // enlarge the sample.
        let aql: serde_json::Map<String, Value> =
            [("critical", 0.1), ("major", 1.0), ("minor", 2.5)]
                .into_iter()
                .filter(|(c, _)| {
                    characteristics
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["class"] == *c))
                })
                .map(|(c, a)| (c.to_string(), json!(a)))
                .collect();
        out.push(json!({
            "code": iqc_plan_code(i), "name": format!("{} 来料检验 incoming inspection", s.name_zh),
            "stage": "iqc", "subject": gtin(s.prefix, s.item_ref), "level": "II",
            "aql": aql, "reduced_allowed": true,
            "frequency": "each_lot", "characteristics": characteristics,
        }));
    }
    out.push(json!({
        "code": FQC_PLAN, "name": "婴儿配方奶粉 1段 出厂检验 final inspection",
        "stage": "fqc", "subject": can_gtin(), "level": "S-3",
        "aql": {"critical": 0.1, "major": 1.0, "minor": 2.5}, "reduced_allowed": false,
        "frequency": "each_lot", "characteristics": [
            {"name": "蛋白质 protein", "class": "major", "nominal": 12.0, "lsl": 11.0, "usl": 13.0, "unit": "%", "method": "GB 5009.5", "instrument": "Kjeldahl K-1"},
            {"name": "水分 moisture", "class": "major", "usl": 5.0, "unit": "%", "method": "GB 5009.3", "instrument": "MA-35"},
            {"name": "阪崎克罗诺杆菌 Cronobacter sakazakii", "class": "critical", "method": "GB 4789.40"},
            {"name": "罐体密封 can seal", "class": "minor", "method": "vacuum test"}],
        "form": "fqc-release",
    }));
    out
}

fn short_id(prefix: &str, seed: &str) -> String {
    let h = hex::encode(Sha256::digest(seed.as_bytes()));
    format!("{prefix}-{}", h[..10].to_ascii_uppercase())
}

fn plan(code: &str) -> Option<InspectionPlan> {
    plans()
        .into_iter()
        .find(|p| p["code"] == code)
        .and_then(|p| serde_json::from_value(p).ok())
}

/// One recorded inspection: the inspection event, and for a rejected lot the hold and the report's
/// raising (every event without eventID and eventTime, which the generator adds).
pub struct Inspected {
    /// The events, in order.
    pub events: Vec<Value>,
    /// The report raised, if the lot was rejected.
    pub ncr: Option<String>,
    /// Its hold.
    pub hold: Option<String>,
}

/// What an inspection is about.
pub struct Lot<'a> {
    /// The lot's class (LGTIN URN).
    pub class: &'a str,
    /// Its product GTIN.
    pub product: String,
    /// Its lot number.
    pub number: &'a str,
    /// Items in the lot (units of the plan's sampling).
    pub size: u64,
    /// The supplier's record code, for incoming lots.
    pub supplier: Option<String>,
    /// Units made of it that a rejection holds too.
    pub units: &'a [String],
}

fn findings(plan: &InspectionPlan, seed: &str, fail: Option<&str>) -> Vec<Finding> {
    let mut rng = Rng(u64::from_le_bytes(
        Sha256::digest(seed.as_bytes())[..8]
            .try_into()
            .unwrap_or([0; 8]),
    ));
    plan.characteristics
        .iter()
        .map(|c| {
            let failing = fail.is_some_and(|f| c.name.contains(f));
            if c.is_quantitative() {
                let centre = c.nominal.unwrap_or_else(|| match (c.lsl, c.usl) {
                    (Some(l), Some(u)) => (l + u) / 2.0,
                    (_, Some(u)) => u * 0.55,
                    (Some(l), _) => l * 1.1,
                    _ => 0.0,
                });
                let spread = match (c.lsl, c.usl) {
                    (Some(l), Some(u)) => (u - l) / 8.0,
                    (_, Some(u)) => u * 0.1,
                    (Some(l), _) => l * 0.03,
                    _ => 1.0,
                };
                // A failing measurement sits below the lower limit (or above the upper one).
                let shift = if failing {
                    c.lsl
                        .map(|l| l - 1.2 - centre)
                        .or_else(|| c.usl.map(|u| u * 1.2 - centre))
                        .unwrap_or(0.0)
                } else {
                    0.0
                };
                let round = |x: f64| (x * 100.0).round() / 100.0;
                Finding {
                    characteristic: c.name.clone(),
                    values: (0..5)
                        .map(|_| round(rng.around(centre + shift, spread * 1.6)))
                        .collect(),
                    defects: 0,
                }
            } else {
                Finding {
                    characteristic: c.name.clone(),
                    values: Vec::new(),
                    defects: u32::from(failing),
                }
            }
        })
        .collect()
}

/// The inspection of `lot` under plan `code` by `inspector`; `fail` names the characteristic found bad
/// (a part of its name), `note` is the inspector's remark. `None` when the plan is unknown.
pub fn inspect(
    code: &str,
    lot: &Lot<'_>,
    inspector: &str,
    fail: Option<&str>,
    note: &str,
) -> Option<Inspected> {
    let plan = plan(code)?;
    let key = object_key(lot.class);
    let id = short_id("INS", &format!("{code}\u{1f}{key}\u{1f}demo"));
    let found = findings(&plan, &id, fail);
    let j = judge(&plan, lot.size, Severity::Normal, &found).ok()?;
    let sample = j.plans.values().map(|p| p.sample_size).max().unwrap_or(0);
    let scheme = match lot.supplier.as_deref() {
        Some(s) => format!("iqc/{s}/{}", plan.subject),
        None => format!("{}/{}/-", plan.stage.as_str(), plan.subject),
    };
    let ncr = (!j.accepted).then(|| short_id("NCR", &id));
    let hold = ncr.as_ref().map(|_| short_id("H", &id));
    let defects: serde_json::Map<String, Value> = j
        .defects
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect();
    let mut events = vec![json!({
        "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
        "disposition": if j.accepted { "conformant" } else { "non_conformant" },
        "quantityList": [{"epcClass": lot.class}],
        "sy:actor": INSPECTOR_USER,
        "sy:inspection": {"sy:id": id, "sy:type": plan.stage.as_str().to_uppercase(), "sy:plan": code,
            "sy:stage": plan.stage.as_str(), "sy:product": lot.product, "sy:lot": lot.number,
            "sy:supplier": lot.supplier, "sy:lotSize": lot.size, "sy:sampleSize": sample,
            "sy:severity": "normal", "sy:accepted": j.accepted, "sy:defects": defects,
            "sy:ac": j.plans.values().map(|p| p.ac).min().unwrap_or(0),
            "sy:tighterAccepted": j.accepted_one_step_tighter, "sy:reducedAllowed": plan.reduced_allowed,
            "sy:scheme": scheme, "sy:failing": j.failing, "sy:findings": found,
            "sy:inspector": inspector, "sy:instrument": plan.characteristics.iter().find_map(|c| c.instrument.clone()),
            "sy:attachments": [], "sy:ncr": ncr, "sy:note": note},
    })];
    if let (Some(ncr), Some(hold)) = (&ncr, &hold) {
        let reason = format!(
            "{} {code} failed: {}",
            plan.stage.as_str().to_uppercase(),
            j.failing.join(", ")
        );
        let mut h = json!({
            "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "holding", "disposition": "non_sellable_other",
            "quantityList": [{"epcClass": lot.class}],
            "sy:actor": INSPECTOR_USER,
            "sy:hold": {"sy:id": hold, "sy:reason": reason, "sy:ncr": ncr, "sy:origin": key},
        });
        if !lot.units.is_empty() {
            h["epcList"] = json!(lot.units);
        }
        events.push(h);
        events.push(json!({
            "type": "ObjectEvent", "action": "ADD", "bizStep": NCR_STEP,
            "epcList": [format!("urn:suyuan:quality:ncr:{ncr}")], "sy:actor": INSPECTOR_USER,
            "sy:ncr": {"sy:id": ncr, "sy:step": "raise", "sy:state": "raised", "sy:object": key,
                "sy:inspection": id, "sy:holds": [hold], "sy:summary": format!("{reason} — {note}"), "sy:why": reason},
        }));
    }
    Some(Inspected { events, ncr, hold })
}

/// A later step of report `ncr` by the quality manager: `step` leads to `state` (`disposition` for a
/// `dispose` step).
pub fn ncr_step(ncr: &str, step: &str, state: &str, disposition: Option<&str>, why: &str) -> Value {
    json!({
        "type": "ObjectEvent", "action": "OBSERVE", "bizStep": NCR_STEP,
        "epcList": [format!("urn:suyuan:quality:ncr:{ncr}")], "sy:actor": QUALITY_MANAGER,
        "sy:ncr": {"sy:id": ncr, "sy:step": step, "sy:state": state, "sy:disposition": disposition, "sy:why": why},
    })
}

/// Items in a supplier's lot, in the units its plan samples (bags, totes, cans…).
pub fn supplier_lot_size(i: usize, quantity: f64) -> u64 {
    (quantity / PACK[i]).ceil().max(1.0) as u64
}

/// Items in a can lot.
pub fn can_lot_size() -> u64 {
    CANS_PER_BATCH as u64
}
