//! The demo factory: a deterministic (seeded) generator of an infant-formula plant's EPCIS events —
//! supplier lots with incoming inspection, mixing and spray drying as work orders, canning into serialised
//! cans, final inspection (one batch fails and is held), packing into cases and pallets, storage, shipping
//! to three distributors and on to retailers, and retail sales. `docs/demo-factory.md` documents the
//! genealogy. Pure: events come out through a callback, in event-time order, with bounded memory.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub mod forms;
mod generator;
pub mod operations;
pub mod quality;
pub mod reports;
#[cfg(test)]
mod tests;

use generator::*;

/// Our GS1 company prefix (a test prefix under GS1 China's 690–699 range).
pub const COMPANY_PREFIX: &str = "6901234";

/// Suyuan's JSON-LD namespace for its own extension fields.
pub const SY_NS: &str = "https://suyuan.dev/ns#";

/// The finished product: infant formula stage 1, 800 g can (GTIN-14 06901234123456).
pub const CAN_ITEM_REF: &str = "012345";

/// Cans per case.
pub const CANS_PER_CASE: usize = 6;

/// Cases per pallet.
pub const CASES_PER_PALLET: usize = 20;

/// Cans per batch.
pub const CANS_PER_BATCH: usize = 600;

/// Batches per line per day.
pub const BATCHES_PER_DAY: u32 = 2;

/// First production day (local, UTC+8).
pub const START_DATE: (i32, u32, u32) = (2026, 10, 1);

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoConfig {
    /// Random seed; the same seed gives the same events.
    pub seed: u64,
    /// Number of production lines (1 = about 14,000 events over 30 days; 700 ≈ 10M events).
    pub scale: u32,
    /// Production days.
    pub days: u32,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: 42,
            scale: 1,
            days: 30,
        }
    }
}

/// A supplier of a raw or packaging material.
pub struct Supplier {
    /// Company name (zh).
    pub name_zh: &'static str,
    /// Company name (en).
    pub name_en: &'static str,
    /// Its GS1 company prefix.
    pub prefix: &'static str,
    /// Material item reference (indicator digit first).
    pub item_ref: &'static str,
    /// Material name (en).
    pub material: &'static str,
    /// Lot code prefix.
    pub lot_prefix: &'static str,
    /// Days one lot lasts.
    pub lot_days: u32,
    /// Quantity per batch and its unit.
    pub per_batch: (f64, &'static str),
}

/// The five suppliers.
pub const SUPPLIERS: [Supplier; 5] = [
    Supplier {
        name_zh: "北大荒牧场",
        name_en: "Beidahuang Dairy Farm",
        prefix: "6920001",
        item_ref: "000011",
        material: "raw milk",
        lot_prefix: "RM",
        lot_days: 1,
        per_batch: (3000.0, "KGM"),
    },
    Supplier {
        name_zh: "恒天然乳清",
        name_en: "Hengtian Whey",
        prefix: "6920002",
        item_ref: "000021",
        material: "whey powder",
        lot_prefix: "WP",
        lot_days: 5,
        per_batch: (800.0, "KGM"),
    },
    Supplier {
        name_zh: "康维营养",
        name_en: "Kangwei Nutrition",
        prefix: "6920003",
        item_ref: "000031",
        material: "vitamin premix",
        lot_prefix: "VP",
        lot_days: 10,
        per_batch: (20.0, "KGM"),
    },
    Supplier {
        name_zh: "华东制罐",
        name_en: "East China Cans",
        prefix: "6920004",
        item_ref: "000041",
        material: "empty cans",
        lot_prefix: "CN",
        lot_days: 3,
        per_batch: (600.0, "H87"),
    },
    Supplier {
        name_zh: "顺达包装",
        name_en: "Shunda Packaging",
        prefix: "6920005",
        item_ref: "000051",
        material: "lids",
        lot_prefix: "LD",
        lot_days: 3,
        per_batch: (600.0, "H87"),
    },
];

/// A distributor and its retailers.
pub struct Distributor {
    /// Name (zh).
    pub name_zh: &'static str,
    /// Province (zh).
    pub province_zh: &'static str,
    /// Company prefix; its PGLN and GLNs derive from it.
    pub prefix: &'static str,
    /// City (zh) of the distributor and its stores.
    pub city_zh: &'static str,
}

/// The three distributors, in different provinces; each has three retail stores (location refs 00011–00013).
pub const DISTRIBUTORS: [Distributor; 3] = [
    Distributor {
        name_zh: "广州母婴商贸",
        province_zh: "广东",
        prefix: "6930001",
        city_zh: "广州",
    },
    Distributor {
        name_zh: "成都健儿供应链",
        province_zh: "四川",
        prefix: "6930002",
        city_zh: "成都",
    },
    Distributor {
        name_zh: "沈阳北方乳品",
        province_zh: "辽宁",
        prefix: "6930003",
        city_zh: "沈阳",
    },
];

/// The batch that fails final inspection: (day index from 0, line from 0, batch of the day from 0).
pub const FAILING_BATCH: (u32, u32, u32) = (11, 0, 1);

/// The operators (their badges are 1001 upwards).
pub const OPERATORS: [&str; 6] = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"];

const INSPECTORS: [&str; 3] = ["赵敏", "周杰", "吴霞"];

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    /// A normal-ish value around `mean` (sum of uniforms).
    fn around(&mut self, mean: f64, spread: f64) -> f64 {
        let u: f64 = (0..4)
            .map(|_| (self.next() >> 11) as f64 / (1u64 << 53) as f64)
            .sum::<f64>()
            / 4.0;
        ((mean + (u - 0.5) * 2.0 * spread) * 10.0).round() / 10.0
    }
}

/// Local time (UTC+8) `minutes` after midnight of day `day` from the start date, as RFC 3339.
pub fn local_time(day: u32, minutes: u32) -> String {
    let (y, m, d) = START_DATE;
    let start = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let date = start + chrono::Duration::days(i64::from(day) + i64::from(minutes / 1440));
    let min = minutes % 1440;
    format!(
        "{}T{:02}:{:02}:00.000+08:00",
        date.format("%Y-%m-%d"),
        min / 60,
        min % 60
    )
}

fn date_code(day: u32) -> String {
    let (y, m, d) = START_DATE;
    let start = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    (start + chrono::Duration::days(i64::from(day)))
        .format("%Y%m%d")
        .to_string()
}

/// The coding rule the plant issues can serials by (saved as rule `demo-can`): plant, line, year, day of the
/// year, shift, a daily sequence per line and shift, and a check character.
pub const CAN_RULE_TEMPLATE: &str =
    "{PLANT:2}{LINE:3}{YY}{JJJ}{SHIFT:1}{SEQ:4:10:daily}{CHECK:mod37-36}";

/// The issuing context of a batch's cans: plant `SH`, line `001`…, shift `1` (batch 1) or `2`.
pub fn can_context(line: u32, batch: u32) -> suyuan_core::coding::Context {
    suyuan_core::coding::Context {
        plant: Some("SH".into()),
        line: Some(format!("{:03}", line + 1)),
        shift: Some((batch + 1).to_string()),
        ..Default::default()
    }
}

/// The date a batch of `day` is made on.
pub fn batch_date(day: u32) -> chrono::NaiveDate {
    let (y, m, d) = START_DATE;
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
        + chrono::Duration::days(i64::from(day))
}

/// The `seq`-th can serial (from 1) of batch `batch` of line `line` on `day`, as rule `demo-can` issues it.
pub fn can_serial(day: u32, line: u32, batch: u32, seq: u64) -> String {
    can_rule()
        .and_then(|t| {
            t.render(
                &can_context(line, batch),
                batch_date(day),
                seq,
                &mut std::iter::empty(),
            )
        })
        .unwrap_or_else(|e| format!("INVALID-{e}"))
}

/// [`CAN_RULE_TEMPLATE`], parsed once (the generator renders every can's serial with it).
fn can_rule() -> Result<&'static suyuan_core::coding::Template, suyuan_core::coding::CodingError> {
    static RULE: std::sync::OnceLock<
        Result<suyuan_core::coding::Template, suyuan_core::coding::CodingError>,
    > = std::sync::OnceLock::new();
    RULE.get_or_init(|| suyuan_core::coding::Template::parse(CAN_RULE_TEMPLATE))
        .as_ref()
        .map_err(Clone::clone)
}

/// SGLN URN of one of our locations.
pub fn our_location(loc_ref: u32) -> String {
    format!("urn:epc:id:sgln:{COMPANY_PREFIX}.{loc_ref:05}.0")
}

/// Our plant's party id.
pub fn our_party() -> String {
    format!("urn:epc:id:pgln:{COMPANY_PREFIX}.00000")
}

/// A supplier lot (LGTIN class URN).
pub fn supplier_lot(s: &Supplier, lot_no: u32) -> String {
    format!(
        "urn:epc:class:lgtin:{}.{}.{}{lot_no:04}",
        s.prefix, s.item_ref, s.lot_prefix
    )
}

/// The product lot code of a batch.
pub fn batch_lot(day: u32, line: u32, batch: u32) -> String {
    format!("L{}{}{}", date_code(day), line + 1, batch + 1)
}

/// The transformation ID of one operation of a work order: each step is its own transformation (EPCIS joins
/// every event with one transformationID into one), the work order rides along as a `prodorder` transaction.
pub fn operation(work_order: &str, step: &str) -> String {
    format!("{}:{step}", work_order.replacen(":wo:", ":op:", 1))
}

/// The finished-can lot (LGTIN) of a batch.
pub fn can_lot_class(day: u32, line: u32, batch: u32) -> String {
    format!(
        "urn:epc:class:lgtin:{COMPANY_PREFIX}.{CAN_ITEM_REF}.{}",
        batch_lot(day, line, batch)
    )
}

/// An SSCC URN; extension digit 1 for cases, 2 for pallets.
pub fn sscc(ext: u8, n: u64) -> String {
    format!("urn:epc:id:sscc:{COMPANY_PREFIX}.{ext}{n:09}")
}

/// Where the plant's locations are (location reference → name).
pub const LOCATIONS: [(u32, &str); 8] = [
    (1, "工厂 Plant"),
    (2, "原料仓 Raw material warehouse"),
    (3, "配料间 Mixing room"),
    (4, "喷雾干燥塔 Spray dryer"),
    (5, "灌装线 Canning line"),
    (6, "包装区 Packing area"),
    (7, "质检实验室 QC lab"),
    (8, "成品仓 Finished goods warehouse"),
];

/// The factory's EPCIS master data, as a JSON-LD `vocabularyList`: the plant and its rooms (children), the
/// distributors' warehouses and their stores, the parties (plant, distributors, stores, suppliers), and the
/// product and material classes, with CBV attributes.
pub fn master_data() -> Value {
    let mda = |k: &str| format!("urn:epcglobal:cbv:mda:{k}");
    let attrs = |pairs: &[(&str, &str)]| -> Vec<Value> {
        pairs
            .iter()
            .map(|(k, v)| json!({"id": mda(k), "attribute": v}))
            .collect()
    };
    let mut locations = vec![json!({
        "id": our_location(1),
        "attributes": attrs(&[("name", LOCATIONS[0].1), ("streetAddressOne", "乳业大道 1 号"),
            ("city", "齐齐哈尔"), ("state", "黑龙江"), ("postalCode", "161000"), ("countryCode", "CN")]),
        "children": LOCATIONS[1..].iter().map(|(r, _)| our_location(*r)).collect::<Vec<_>>(),
    })];
    for (r, name) in &LOCATIONS[1..] {
        locations.push(json!({"id": our_location(*r), "attributes": attrs(&[("name", name)])}));
    }
    for d in &DISTRIBUTORS {
        let store = |r: usize| format!("urn:epc:id:sgln:{}.{:05}.0", d.prefix, 11 + r);
        locations.push(json!({
            "id": format!("urn:epc:id:sgln:{}.00001.0", d.prefix),
            "attributes": attrs(&[("name", &format!("{} 配送中心", d.name_zh)), ("city", d.city_zh),
                ("state", d.province_zh), ("countryCode", "CN")]),
            "children": (0..3).map(store).collect::<Vec<_>>(),
        }));
        for r in 0..3 {
            locations.push(json!({"id": store(r), "attributes": attrs(&[
                ("name", &format!("{}门店 {}", d.city_zh, r + 1)), ("city", d.city_zh),
                ("state", d.province_zh), ("countryCode", "CN")])}));
        }
    }
    let mut classes = vec![json!({
        "id": format!("urn:epc:idpat:sgtin:{COMPANY_PREFIX}.{CAN_ITEM_REF}.*"),
        "attributes": attrs(&[("regulatedProductName", "婴幼儿配方奶粉（1段）"),
            ("descriptionShort", "Infant formula stage 1, 800 g can"), ("netContent", "800 GRM")]),
    })];
    for sup in &SUPPLIERS {
        classes.push(json!({
            "id": format!("urn:epc:idpat:sgtin:{}.{}.*", sup.prefix, sup.item_ref),
            "attributes": attrs(&[("descriptionShort", sup.material),
                ("manufacturerOfTradeItemPartyName", sup.name_zh)]),
        }));
    }
    let mut parties = vec![
        json!({"id": our_party(), "attributes": attrs(&[("name", "示范乳业有限公司"), ("city", "齐齐哈尔"), ("state", "黑龙江")])}),
    ];
    for d in &DISTRIBUTORS {
        parties.push(json!({"id": format!("urn:epc:id:pgln:{}.00000", d.prefix),
            "attributes": attrs(&[("name", d.name_zh), ("city", d.city_zh), ("state", d.province_zh)]),
            "children": (0..3).map(|r| format!("urn:epc:id:pgln:{}.{:05}", d.prefix, 11 + r)).collect::<Vec<_>>()}));
        for r in 0..3 {
            parties.push(json!({"id": format!("urn:epc:id:pgln:{}.{:05}", d.prefix, 11 + r),
                "attributes": attrs(&[("name", &format!("{}门店 {}", d.city_zh, r + 1)), ("city", d.city_zh), ("state", d.province_zh)])}));
        }
    }
    for sup in &SUPPLIERS {
        parties.push(
            json!({"id": format!("urn:epc:id:pgln:{}.00000", sup.prefix),
            "attributes": attrs(&[("name", sup.name_zh)])}),
        );
    }
    json!([
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": locations},
        {"type": "urn:epcglobal:epcis:vtype:Party", "vocabularyElementList": parties},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": classes},
    ])
}

/// A consumer scan of a can's QR code (not an EPCIS event).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoScan {
    /// The can (SGTIN URN).
    pub object: String,
    /// When (RFC 3339, UTC+8).
    pub time: String,
    /// City of the scan.
    pub city: &'static str,
    /// Province of the scan.
    pub province: &'static str,
}

/// What the generator hands out, in time order.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoItem {
    /// An EPCIS event (JSON-LD).
    Event(Value),
    /// A consumer scan.
    Scan(DemoScan),
    /// Serials issued by rule `demo-can` for one batch, just before its canning event commissions them.
    Issued(IssuedSerials),
}

/// The serials of one batch as the coding rule issued them (register them before their commissioning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedSerials {
    /// When they were issued (the canning event's time).
    pub at: String,
    /// The sequence scope they were counted in (`Template::scope` of the batch's context and date).
    pub scope: String,
    /// The serials, sequence 1 upwards.
    pub serials: Vec<String>,
}

/// Generates the demo factory's events in event-time order, handing each to `sink`.
pub fn generate(cfg: DemoConfig, sink: &mut dyn FnMut(DemoItem)) {
    let mut g = Gen {
        cfg,
        rng: Rng(cfg.seed),
        queue: BinaryHeap::new(),
        counter: 0,
        next_case: 0,
        next_pallet: 0,
        suspicious_done: false,
        diverted_done: false,
        order: 0,
    };
    for day in 0..cfg.days {
        g.receive_lots(day);
        for line in 0..cfg.scale.max(1) {
            for b in 0..BATCHES_PER_DAY {
                g.batch(day, line, b);
            }
        }
        g.flush_before(u64::from(day + 1) * 1440, sink);
    }
    g.flush_before(u64::MAX, sink);
}

/// Generates only the events (scans dropped), in time order.
pub fn generate_events(cfg: DemoConfig, sink: &mut dyn FnMut(Value)) {
    generate(cfg, &mut |item| {
        if let DemoItem::Event(v) = item {
            sink(v)
        }
    });
}

/// Roughly how many events `cfg` produces (for progress bars).
pub fn estimate(cfg: DemoConfig) -> u64 {
    let per_batch = 3
        + 4
        + 1
        + (CANS_PER_BATCH / CANS_PER_CASE) as u64
        + 5 * 4
        + 5 * 6
        + (CANS_PER_BATCH / 10) as u64;
    u64::from(cfg.days) * (u64::from(cfg.scale.max(1)) * u64::from(BATCHES_PER_DAY) * per_batch + 4)
}
