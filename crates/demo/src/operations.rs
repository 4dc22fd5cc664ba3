//! The demo plant's operations master data — locations (site, workshop, lines, stations, warehouses, bins),
//! products and materials, the can's BOM and routing with its parameter limits, equipment, suppliers,
//! distributors with their sales regions and stores, operators — as records of the operations kinds, in an
//! order where every record's references come before it.

use serde_json::{Value, json};

use crate::{CAN_ITEM_REF, CANS_PER_BATCH, COMPANY_PREFIX, DISTRIBUTORS, OPERATORS, SUPPLIERS};

/// A GLN (13 digits) from a 7-digit company prefix and a 5-digit location reference.
pub fn gln(prefix: &str, reference: u32) -> String {
    let body = format!("{prefix}{reference:05}");
    let check = suyuan_core::gs1::check_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

/// The GTIN-14 of a 7-digit prefix and an item reference whose first digit is the indicator.
pub fn gtin(prefix: &str, item_ref: &str) -> String {
    let (indicator, item) = item_ref.split_at(1);
    let body = format!("{indicator}{prefix}{item}");
    let check = suyuan_core::gs1::check_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

/// The finished can's GTIN.
pub fn can_gtin() -> String {
    gtin(COMPANY_PREFIX, CAN_ITEM_REF)
}

/// The code of production line `line` (from 0).
pub fn line_code(line: u32) -> String {
    format!("L{:02}", line + 1)
}

/// Operator badges, in the order of the operators' names.
pub fn badge(i: usize) -> String {
    format!("{}", 1001 + i)
}

/// Every record: `(kind, record)`, references first.
pub fn records(lines: u32) -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&'static str, Value)> = Vec::new();
    let mut loc =
        |code: &str, zh: &str, en: &str, level: &str, parent: &str, gln: Option<String>| {
            out.push((
                "location",
                json!({"code": code, "name_zh": zh, "name_en": en, "level": level,
            "parent": parent, "gln": gln}),
            ));
        };
    loc(
        "PLANT",
        "示范乳业工厂",
        "Demo dairy plant",
        "site",
        "",
        Some(gln(COMPANY_PREFIX, 1)),
    );
    loc(
        "WS1",
        "生产车间",
        "Production workshop",
        "workshop",
        "PLANT",
        None,
    );
    loc(
        "QC",
        "质检实验室",
        "QC lab",
        "workshop",
        "PLANT",
        Some(gln(COMPANY_PREFIX, 7)),
    );
    loc(
        "RM",
        "原料仓",
        "Raw material warehouse",
        "warehouse",
        "PLANT",
        Some(gln(COMPANY_PREFIX, 2)),
    );
    loc("RM-A01", "原料库位 A01", "Raw bin A01", "bin", "RM", None);
    loc(
        "FG",
        "成品仓",
        "Finished goods warehouse",
        "warehouse",
        "PLANT",
        Some(gln(COMPANY_PREFIX, 8)),
    );
    loc(
        "PACK",
        "包装区",
        "Packing area",
        "zone",
        "FG",
        Some(gln(COMPANY_PREFIX, 6)),
    );
    loc(
        "FG-A01",
        "成品库位 A01",
        "Finished bin A01",
        "bin",
        "FG",
        None,
    );
    loc("DOCK", "发货月台", "Shipping dock", "zone", "FG", None);
    for l in 0..lines.max(1) {
        let code = line_code(l);
        loc(
            &code,
            &format!("{} 号线", l + 1),
            &format!("Line {}", l + 1),
            "line",
            "WS1",
            None,
        );
    }
    // The rooms every line uses are line 1's stations (the demo's events name them by SGLN).
    loc(
        "MIX",
        "配料间",
        "Mixing room",
        "station",
        "L01",
        Some(gln(COMPANY_PREFIX, 3)),
    );
    loc(
        "SD",
        "喷雾干燥塔",
        "Spray dryer",
        "station",
        "L01",
        Some(gln(COMPANY_PREFIX, 4)),
    );
    loc(
        "CAN",
        "灌装线",
        "Canning line",
        "station",
        "L01",
        Some(gln(COMPANY_PREFIX, 5)),
    );
    let can = can_gtin();
    out.push(("product", json!({"code": can, "name_zh": "婴幼儿配方奶粉（1段）800 克", "name_en": "Infant formula stage 1, 800 g",
        "unit": "H87", "shelf_life_days": 540, "category": "finished"})));
    out.push((
        "product",
        json!({"code": gtin(COMPANY_PREFIX, "020001"), "name_zh": "混合料", "name_en": "Mix",
        "unit": "KGM", "shelf_life_days": 2, "category": "semi_finished"}),
    ));
    out.push((
        "product",
        json!({"code": gtin(COMPANY_PREFIX, "020002"), "name_zh": "基粉", "name_en": "Base powder",
        "unit": "KGM", "shelf_life_days": 30, "category": "semi_finished"}),
    ));
    let names_zh = ["生牛乳", "乳清粉", "维生素预混料", "空罐", "罐盖"];
    for (s, zh) in SUPPLIERS.iter().zip(names_zh) {
        let category = if s.per_batch.1 == "H87" {
            "packaging"
        } else {
            "raw"
        };
        out.push(("product", json!({"code": gtin(s.prefix, s.item_ref), "name_zh": zh, "name_en": s.material,
            "unit": s.per_batch.1, "shelf_life_days": if category == "raw" { 90 } else { 720 }, "category": category})));
    }
    for s in &SUPPLIERS {
        out.push((
            "bom",
            json!({"product": can, "input": gtin(s.prefix, s.item_ref),
            "quantity": s.per_batch.0 / CANS_PER_BATCH as f64, "unit": s.per_batch.1,
            "tolerance_pct": if s.per_batch.1 == "H87" { 0.0 } else { 2.0 }}),
        ));
    }
    for (step, op, station, param, lo, hi) in [
        (1, "mixing", "MIX", "temperature", 50.0, 60.0),
        (2, "spray_drying", "SD", "inlet temperature", 170.0, 190.0),
        (3, "spray_drying", "SD", "outlet temperature", 80.0, 90.0),
        (4, "canning", "CAN", "fill weight", 795.0, 810.0),
    ] {
        let unit = if param == "fill weight" { "GRM" } else { "CEL" };
        out.push((
            "routing",
            json!({"product": can, "step": step, "operation": op, "station": station,
            "parameter": param, "min": lo, "max": hi, "unit": unit}),
        ));
    }
    for l in 0..lines.max(1) {
        for (kind, zh, station) in [
            ("MIX", "配料罐", "MIX"),
            ("SD", "干燥塔", "SD"),
            ("CAN", "灌装机", "CAN"),
        ] {
            out.push(("equipment", json!({"code": format!("{kind}-{:02}", l + 1),
                "name_zh": format!("{zh} {:02}", l + 1), "name_en": format!("{kind} {:02}", l + 1), "station": station})));
        }
    }
    for (i, s) in SUPPLIERS.iter().enumerate() {
        out.push((
            "supplier",
            json!({"code": format!("SUP{}", i + 1), "name_zh": s.name_zh, "name_en": s.name_en,
            "gln": gln(s.prefix, 0), "materials": [gtin(s.prefix, s.item_ref)], "blocked": false}),
        ));
    }
    for (i, d) in DISTRIBUTORS.iter().enumerate() {
        let code = format!("D{}", i + 1);
        out.push((
            "customer",
            json!({"code": code, "name_zh": d.name_zh, "level": "distributor",
            "regions": [d.province_zh], "gln": gln(d.prefix, 0)}),
        ));
        for r in 0..3u32 {
            out.push((
                "customer",
                json!({"code": format!("{code}-S{}", r + 1),
                "name_zh": format!("{}门店 {}", d.city_zh, r + 1), "level": "store", "parent": code,
                "gln": gln(d.prefix, 11 + r)}),
            ));
        }
    }
    let lines_list: Vec<String> = (0..lines.max(1)).map(line_code).collect();
    for (i, name) in OPERATORS.iter().enumerate() {
        out.push((
            "operator",
            json!({"badge": badge(i), "name": name, "lines": lines_list}),
        ));
    }
    // Empty values mean "not given".
    for (_, v) in &mut out {
        if let Some(o) = v.as_object_mut() {
            o.retain(|_, x| !x.is_null() && x != "");
        }
    }
    // The canning line records its line clearance, the finished goods warehouse its rounds, on the plant's
    // own forms.
    for (kind, v) in out.iter_mut() {
        if *kind == "location" && v["code"] == "CAN" {
            v["form"] = json!("line-clearance");
        }
        if *kind == "location" && v["code"] == "FG" {
            v["form"] = json!("storage-check");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_valid_check_digits() {
        assert_eq!(can_gtin(), "06901234123456");
        assert_eq!(gtin("6920001", "000011"), "06920001000110");
        assert_eq!(gln("6901234", 1).len(), 13);
        let r = records(2);
        assert!(
            r.iter()
                .any(|(k, v)| *k == "location" && v["code"] == "L02")
        );
        assert_eq!(r.iter().filter(|(k, _)| *k == "bom").count(), 5);
    }
}
