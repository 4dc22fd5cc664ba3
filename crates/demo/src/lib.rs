//! The demo factory: a deterministic (seeded) generator of an infant-formula plant's EPCIS events —
//! supplier lots with incoming inspection, mixing and spray drying as work orders, canning into serialised
//! cans, final inspection (one batch fails and is held), packing into cases and pallets, storage, shipping
//! to three distributors and on to retailers, and retail sales. `docs/demo-factory.md` documents the
//! genealogy. Pure: events come out through a callback, in event-time order, with bounded memory.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

const OPERATORS: [&str; 6] = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"];
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
/// distributors' warehouses and their stores, and the product and material classes, with CBV attributes.
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
    json!([
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": locations},
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

struct Timed {
    minute: u64,
    seq: u64,
    item: DemoItem,
}

impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        (self.minute, self.seq) == (o.minute, o.seq)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.minute, self.seq).cmp(&(o.minute, o.seq))
    }
}

/// The generator's running state.
struct Gen {
    cfg: DemoConfig,
    rng: Rng,
    queue: BinaryHeap<Reverse<Timed>>,
    counter: u64,
    next_case: u64,
    next_pallet: u64,
    suspicious_done: bool,
    order: u64,
}

fn context() -> Value {
    json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": SY_NS}])
}

impl Gen {
    fn event_id(&mut self) -> String {
        let h =
            Sha256::digest(format!("suyuan-demo/{}/{}", self.cfg.seed, self.counter).as_bytes());
        self.counter += 1;
        let x = hex::encode(&h[..16]);
        format!(
            "urn:uuid:{}-{}-8{}-a{}-{}",
            &x[0..8],
            &x[8..12],
            &x[13..16],
            &x[17..20],
            &x[20..32]
        )
    }

    fn push(&mut self, day: u32, minute: u32, mut event: Value) {
        event["@context"] = context();
        event["eventID"] = json!(self.event_id());
        event["eventTime"] = json!(local_time(day, minute));
        event["eventTimeZoneOffset"] = json!("+08:00");
        self.enqueue(day, minute, DemoItem::Event(event));
    }

    fn enqueue(&mut self, day: u32, minute: u32, item: DemoItem) {
        let abs = u64::from(day) * 1440 + u64::from(minute);
        self.order += 1;
        let seq = self.order;
        self.queue.push(Reverse(Timed {
            minute: abs,
            seq,
            item,
        }));
    }

    fn scan(
        &mut self,
        day: u32,
        minute: u32,
        object: &str,
        city: &'static str,
        province: &'static str,
    ) {
        let scan = DemoScan {
            object: object.to_string(),
            time: local_time(day, minute),
            city,
            province,
        };
        self.enqueue(day, minute, DemoItem::Scan(scan));
    }

    fn flush_before(&mut self, abs_minute: u64, sink: &mut dyn FnMut(DemoItem)) {
        while let Some(Reverse(t)) = self.queue.peek() {
            if t.minute >= abs_minute {
                break;
            }
            if let Some(Reverse(t)) = self.queue.pop() {
                sink(t.item);
            }
        }
    }

    fn receive_lots(&mut self, day: u32) {
        for (i, s) in SUPPLIERS.iter().enumerate() {
            if !day.is_multiple_of(s.lot_days) {
                continue;
            }
            let lot_no = day / s.lot_days + 1;
            let lot = supplier_lot(s, lot_no);
            let qty = s.per_batch.0 * f64::from(self.cfg.scale * BATCHES_PER_DAY * s.lot_days);
            let minute = 6 * 60 + 10 * i as u32;
            let supplier_party = format!("urn:epc:id:pgln:{}.00000", s.prefix);
            self.push(day, minute, json!({
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
                "quantityList": [{"epcClass": lot, "quantity": qty, "uom": s.per_batch.1}],
                "readPoint": {"id": our_location(2)}, "bizLocation": {"id": our_location(2)},
                "bizTransactionList": [{"type": "po", "bizTransaction": format!("urn:suyuan:demo:po:PO-{}-{}", date_code(day), i + 1)}],
                "sourceList": [{"type": "owning_party", "source": supplier_party}],
                "destinationList": [{"type": "owning_party", "destination": our_party()}],
                "sy:supplierName": s.name_zh,
            }));
            // Incoming inspection (IQC). The second whey lot is rejected and returned.
            let rejected = i == 1 && lot_no == 2;
            let inspector = self.rng.pick(&INSPECTORS).to_string();
            self.push(day, minute + 45, json!({
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
                "disposition": if rejected { "non_conformant" } else { "conformant" },
                "quantityList": [{"epcClass": lot}],
                "readPoint": {"id": our_location(7)}, "bizLocation": {"id": our_location(2)},
                "sy:inspection": {"sy:type": "IQC", "sy:result": if rejected { "fail" } else { "pass" },
                    "sy:inspector": inspector, "sy:note": if rejected { "蛋白质含量低于标准 protein below specification" } else { "" }},
            }));
            if rejected {
                self.push(day, minute + 120, json!({
                    "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "returned",
                    "quantityList": [{"epcClass": lot, "quantity": qty, "uom": s.per_batch.1}],
                    "readPoint": {"id": our_location(2)},
                    "sourceList": [{"type": "owning_party", "source": our_party()}],
                    "destinationList": [{"type": "owning_party", "destination": supplier_party}],
                }));
            }
        }
    }

    /// The supplier lot a batch on `day` consumes (the rejected whey lot is replaced by the next one).
    fn lot_in_use(&self, s_index: usize, day: u32) -> String {
        let s = &SUPPLIERS[s_index];
        let mut lot_no = day / s.lot_days + 1;
        if s_index == 1 && lot_no == 2 {
            lot_no = 1;
        }
        supplier_lot(s, lot_no)
    }

    fn batch(&mut self, day: u32, line: u32, b: u32) {
        let t0 = 8 * 60 + b * 8 * 60 + line % 4 * 7;
        let lot = batch_lot(day, line, b);
        let wo = format!(
            "urn:suyuan:demo:wo:WO-{}-{}-{}",
            date_code(day),
            line + 1,
            b + 1
        );
        let mix = format!(
            "urn:epc:class:lgtin:{COMPANY_PREFIX}.020001.MX{}{}{}",
            date_code(day),
            line + 1,
            b + 1
        );
        let powder = format!(
            "urn:epc:class:lgtin:{COMPANY_PREFIX}.020002.BP{}{}{}",
            date_code(day),
            line + 1,
            b + 1
        );
        let operator = self.rng.pick(&OPERATORS).to_string();
        let equipment_line = format!("LINE-{:02}", line + 1);
        let inputs: Vec<Value> = (0..3)
            .map(|i| json!({"epcClass": self.lot_in_use(i, day), "quantity": SUPPLIERS[i].per_batch.0, "uom": SUPPLIERS[i].per_batch.1}))
            .collect();
        let mix_temp = self.rng.around(55.0, 2.0);
        self.push(day, t0, json!({
            "type": "TransformationEvent", "bizStep": "commissioning", "disposition": "in_progress",
            "inputQuantityList": inputs,
            "outputQuantityList": [{"epcClass": mix, "quantity": 3820.0, "uom": "KGM"}],
            "transformationID": operation(&wo, "mixing"), "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
            "readPoint": {"id": our_location(3)}, "bizLocation": {"id": our_location(3)},
            "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": mix_temp, "uom": "CEL"}]}],
            "sy:workOrder": wo, "sy:operation": "mixing", "sy:operator": operator, "sy:equipment": format!("MIX-{:02}", line + 1), "sy:line": equipment_line,
        }));
        let inlet = self.rng.around(180.0, 4.0);
        let outlet = self.rng.around(85.0, 3.0);
        self.push(day, t0 + 120, json!({
            "type": "TransformationEvent", "bizStep": "commissioning", "disposition": "in_progress",
            "inputQuantityList": [{"epcClass": mix, "quantity": 3820.0, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": powder, "quantity": 1000.0, "uom": "KGM"}],
            "transformationID": operation(&wo, "spray_drying"), "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
            "readPoint": {"id": our_location(4)}, "bizLocation": {"id": our_location(4)},
            "sensorElementList": [{"sensorMetadata": {"deviceID": format!("urn:epc:id:giai:{COMPANY_PREFIX}.SD{:02}", line + 1)},
                "sensorReport": [{"type": "Temperature", "value": inlet, "uom": "CEL", "sy:point": "inlet"},
                                  {"type": "Temperature", "value": outlet, "uom": "CEL", "sy:point": "outlet"}]}],
            "sy:workOrder": wo, "sy:operation": "spray_drying", "sy:operator": operator, "sy:equipment": format!("SD-{:02}", line + 1), "sy:line": equipment_line,
        }));
        // Serials as the plant's coding rule issues them: plant, line, date, shift, daily sequence, check.
        let serials: Vec<String> = (1..=CANS_PER_BATCH as u64)
            .map(|seq| can_serial(day, line, b, seq))
            .collect();
        let cans: Vec<String> = serials
            .iter()
            .map(|serial| format!("urn:epc:id:sgtin:{COMPANY_PREFIX}.{CAN_ITEM_REF}.{serial}"))
            .collect();
        let scope = can_rule()
            .and_then(|t| t.scope(&can_context(line, b), batch_date(day)))
            .unwrap_or_default();
        let issued = IssuedSerials {
            at: local_time(day, t0 + 240),
            scope,
            serials,
        };
        self.enqueue(day, t0 + 240, DemoItem::Issued(issued));
        self.push(day, t0 + 240, json!({
            "type": "TransformationEvent", "bizStep": "commissioning", "disposition": "active",
            "inputQuantityList": [
                {"epcClass": powder, "quantity": 480.0, "uom": "KGM"},
                {"epcClass": self.lot_in_use(3, day), "quantity": 600.0, "uom": "H87"},
                {"epcClass": self.lot_in_use(4, day), "quantity": 600.0, "uom": "H87"}],
            "outputEPCList": cans,
            "transformationID": operation(&wo, "canning"), "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
            "readPoint": {"id": our_location(5)}, "bizLocation": {"id": our_location(5)},
            "ilmd": {"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": format!("{}-{}", 2028, &local_time(day, 0)[5..10])},
            "sy:workOrder": wo, "sy:operation": "canning", "sy:operator": operator, "sy:equipment": format!("CAN-{:02}", line + 1), "sy:line": equipment_line,
        }));
        let failing = (day, line, b) == FAILING_BATCH;
        let inspector = self.rng.pick(&INSPECTORS).to_string();
        let protein = self.rng.around(12.0, 0.4);
        let moisture = self.rng.around(2.6, 0.3);
        self.push(day, t0 + 420, json!({
            "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
            "disposition": if failing { "non_conformant" } else { "conformant" },
            "quantityList": [{"epcClass": can_lot_class(day, line, b), "quantity": CANS_PER_BATCH, "uom": "H87"}],
            "readPoint": {"id": our_location(7)}, "bizLocation": {"id": our_location(5)},
            "sensorElementList": [{"sensorReport": [
                {"type": "Dimensionless", "value": protein, "uom": "P1", "sy:item": "protein %"},
                {"type": "Dimensionless", "value": moisture, "uom": "P1", "sy:item": "moisture %"}]}],
            "sy:inspection": {"sy:type": "FQC", "sy:result": if failing { "fail" } else { "pass" }, "sy:inspector": inspector,
                "sy:note": if failing { "检出阪崎克罗诺杆菌 Cronobacter sakazakii detected" } else { "" }},
            "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
            "sy:workOrder": wo,
        }));
        if failing {
            self.push(day, t0 + 450, json!({
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "holding", "disposition": "non_sellable_other",
                "epcList": cans, "readPoint": {"id": our_location(7)}, "bizLocation": {"id": our_location(8)},
                "sy:hold": {"sy:reason": "FQC fail", "sy:by": inspector},
            }));
            return;
        }
        self.pack_and_ship(day, t0 + 480, &cans);
    }

    fn pack_and_ship(&mut self, day: u32, t: u32, cans: &[String]) {
        let mut cases = Vec::new();
        for (i, chunk) in cans.chunks(CANS_PER_CASE).enumerate() {
            self.next_case += 1;
            let case = sscc(1, self.next_case);
            self.push(day, t + (i as u32) / 10, json!({
                "type": "AggregationEvent", "action": "ADD", "bizStep": "packing", "disposition": "in_progress",
                "parentID": case, "childEPCs": chunk,
                "readPoint": {"id": our_location(6)}, "bizLocation": {"id": our_location(6)},
            }));
            cases.push(case);
        }
        for (p, pcases) in cases.chunks(CASES_PER_PALLET).enumerate() {
            self.next_pallet += 1;
            let pallet = sscc(2, self.next_pallet);
            let tp = t + 15 + p as u32;
            self.push(day, tp, json!({
                "type": "AggregationEvent", "action": "ADD", "bizStep": "packing", "disposition": "in_progress",
                "parentID": pallet, "childEPCs": pcases,
                "readPoint": {"id": our_location(6)}, "bizLocation": {"id": our_location(6)},
            }));
            self.push(day, tp + 30, json!({
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "storing", "disposition": "sellable_not_accessible",
                "epcList": [pallet], "readPoint": {"id": our_location(8)}, "bizLocation": {"id": our_location(8)},
            }));
            let d = (self.next_pallet % DISTRIBUTORS.len() as u64) as usize;
            let dist = &DISTRIBUTORS[d];
            let dist_party = format!("urn:epc:id:pgln:{}.00000", dist.prefix);
            let dist_dc = format!("urn:epc:id:sgln:{}.00001.0", dist.prefix);
            let po = format!("urn:suyuan:demo:po:SO-{}", self.next_pallet);
            self.push(day + 2, 9 * 60 + p as u32, json!({
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
                "epcList": [pallet], "readPoint": {"id": our_location(8)},
                "bizTransactionList": [{"type": "po", "bizTransaction": po}],
                "sourceList": [{"type": "owning_party", "source": our_party()}, {"type": "location", "source": our_location(8)}],
                "destinationList": [{"type": "owning_party", "destination": dist_party}, {"type": "location", "destination": dist_dc}],
            }));
            self.push(day + 3, 14 * 60 + p as u32, json!({
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "sellable_not_accessible",
                "epcList": [pallet], "readPoint": {"id": dist_dc}, "bizLocation": {"id": dist_dc},
                "bizTransactionList": [{"type": "po", "bizTransaction": po}],
                "sy:receivedBy": dist.name_zh,
            }));
            self.push(day + 4, 8 * 60 + p as u32, json!({
                "type": "AggregationEvent", "action": "DELETE", "bizStep": "unpacking", "parentID": pallet,
                "readPoint": {"id": dist_dc}, "bizLocation": {"id": dist_dc},
            }));
            // The distributor splits the pallet across its three stores.
            for (r, rcases) in pcases.chunks(pcases.len().div_ceil(3)).enumerate() {
                let store = format!("urn:epc:id:sgln:{}.{:05}.0", dist.prefix, 11 + r);
                let store_party = format!("urn:epc:id:pgln:{}.{:05}", dist.prefix, 11 + r);
                self.push(day + 5, 10 * 60 + p as u32 * 3 + r as u32, json!({
                    "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
                    "epcList": rcases, "readPoint": {"id": dist_dc},
                    "sourceList": [{"type": "owning_party", "source": dist_party}],
                    "destinationList": [{"type": "owning_party", "destination": store_party}, {"type": "location", "destination": store}],
                }));
                self.push(day + 6, 9 * 60 + p as u32 * 3 + r as u32, json!({
                    "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "sellable_accessible",
                    "epcList": rcases, "readPoint": {"id": store}, "bizLocation": {"id": store},
                }));
                // About one can in ten sells within four days.
                for case in rcases {
                    let global = cases.iter().position(|c| c == case).unwrap_or(0);
                    for can in &cans[global * CANS_PER_CASE..(global + 1) * CANS_PER_CASE] {
                        if self.rng.below(10) == 0 {
                            let when = 7 + self.rng.below(4) as u32;
                            let minute = 10 * 60 + self.rng.below(600) as u32;
                            self.push(day + when, minute, json!({
                                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling", "disposition": "retail_sold",
                                "epcList": [can], "readPoint": {"id": store}, "bizLocation": {"id": store},
                            }));
                            // A quarter of buyers scan the QR code at home within three days.
                            if self.rng.below(4) == 0 {
                                let later = self.rng.below(3) as u32 + 1;
                                let at = 8 * 60 + self.rng.below(780) as u32;
                                self.scan(
                                    day + when + later,
                                    at,
                                    can,
                                    dist.city_zh,
                                    dist.province_zh,
                                );
                                // The very first scanned can is scanned again far away: a suspicious copy.
                                if !self.suspicious_done {
                                    self.suspicious_done = true;
                                    self.scan(day + when + later, at + 90, can, "乌鲁木齐", "新疆");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
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
        + 1
        + (CANS_PER_BATCH / CANS_PER_CASE) as u64
        + 5 * 4
        + 5 * 6
        + (CANS_PER_BATCH / 10) as u64;
    u64::from(cfg.days) * (u64::from(cfg.scale.max(1)) * u64::from(BATCHES_PER_DAY) * per_batch + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(cfg: DemoConfig) -> Vec<Value> {
        let mut v = Vec::new();
        generate_events(cfg, &mut |e| v.push(e));
        v
    }

    #[test]
    fn sold_cans_are_scanned_and_one_looks_copied() {
        let mut scans = Vec::new();
        let mut issued = Vec::new();
        let mut sold = std::collections::HashSet::new();
        generate(DemoConfig::default(), &mut |item| match item {
            DemoItem::Event(e) if e["bizStep"] == "retail_selling" => {
                sold.insert(e["epcList"][0].as_str().unwrap_or_default().to_string());
            }
            DemoItem::Scan(s) => scans.push(s),
            DemoItem::Event(_) => {}
            DemoItem::Issued(i) => issued.extend(i.serials),
        });
        // Every can is issued by the rule, each serial once, with a right check character.
        let rule = suyuan_core::coding::Template::parse(CAN_RULE_TEMPLATE).expect("rule");
        let distinct: std::collections::HashSet<&String> = issued.iter().collect();
        assert_eq!(distinct.len(), issued.len());
        assert!(issued.iter().all(|s| rule.validate(s).is_ok()));
        assert!(sold.iter().all(|c| {
            c.rsplit('.')
                .next()
                .is_some_and(|s| distinct.contains(&s.to_string()))
        }));
        assert!(scans.len() > 50, "{}", scans.len());
        assert!(
            scans.iter().all(|s| sold.contains(&s.object)),
            "only sold cans are scanned, after the sale"
        );
        let far: Vec<&DemoScan> = scans.iter().filter(|s| s.city == "乌鲁木齐").collect();
        assert_eq!(far.len(), 1);
        assert_eq!(
            scans.iter().filter(|s| s.object == far[0].object).count(),
            2
        );
    }

    #[test]
    fn same_seed_same_events_and_every_event_is_valid() {
        let cfg = DemoConfig {
            seed: 7,
            scale: 1,
            days: 3,
        };
        let a = all(cfg);
        let b = all(cfg);
        assert_eq!(a, b);
        assert!(a.len() > 500, "{}", a.len());
        for (i, e) in a.iter().enumerate() {
            if let Err(err) = suyuan_epcis::parse_capture(e) {
                panic!("demo event {i} is invalid: {err}\n{e}");
            }
        }
        let c = all(DemoConfig { seed: 8, ..cfg });
        assert_ne!(a, c);
    }

    #[test]
    fn events_come_in_time_order() {
        let evs = all(DemoConfig {
            seed: 1,
            scale: 2,
            days: 4,
        });
        let times: Vec<i64> = evs
            .iter()
            .map(|e| {
                suyuan_core::time::parse_timestamp(e["eventTime"].as_str().unwrap_or_default())
                    .map(|t| t.timestamp())
                    .unwrap_or(0)
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn default_run_is_about_the_documented_size_with_one_failed_batch() {
        let evs = all(DemoConfig::default());
        let est = estimate(DemoConfig::default());
        let n = evs.len() as u64;
        assert!(
            n > est * 8 / 10 && n < est * 12 / 10,
            "{n} vs estimate {est}"
        );
        let fails = evs
            .iter()
            .filter(|e| {
                e["sy:inspection"]["sy:type"] == "FQC" && e["disposition"] == "non_conformant"
            })
            .count();
        assert_eq!(fails, 1);
        let failed_lot = can_lot_class(FAILING_BATCH.0, FAILING_BATCH.1, FAILING_BATCH.2);
        assert!(
            evs.iter()
                .any(|e| e["quantityList"][0]["epcClass"] == failed_lot.as_str()
                    && e["disposition"] == "non_conformant")
        );
    }
}
