//! The generator: one day of the demo factory at a time — receipts, incoming inspection, mixing, spray drying, canning, final inspection, packing, shipping and consumer scans — in time order.

#[allow(unused_imports)]
use super::*;

pub(super) struct Timed {
    pub(super) minute: u64,
    pub(super) seq: u64,
    pub(super) item: DemoItem,
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
pub(super) struct Gen {
    pub(super) cfg: DemoConfig,
    pub(super) rng: Rng,
    pub(super) queue: BinaryHeap<Reverse<Timed>>,
    pub(super) counter: u64,
    pub(super) next_case: u64,
    pub(super) next_pallet: u64,
    pub(super) suspicious_done: bool,
    pub(super) diverted_done: bool,
    pub(super) order: u64,
}

pub(super) fn context() -> Value {
    json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sy": SY_NS}])
}

impl Gen {
    pub(super) fn event_id(&mut self) -> String {
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

    pub(super) fn push(&mut self, day: u32, minute: u32, mut event: Value) {
        event["@context"] = context();
        event["eventID"] = json!(self.event_id());
        event["eventTime"] = json!(local_time(day, minute));
        event["eventTimeZoneOffset"] = json!("+08:00");
        self.enqueue(day, minute, DemoItem::Event(event));
    }

    pub(super) fn enqueue(&mut self, day: u32, minute: u32, item: DemoItem) {
        let abs = u64::from(day) * 1440 + u64::from(minute);
        self.order += 1;
        let seq = self.order;
        self.queue.push(Reverse(Timed {
            minute: abs,
            seq,
            item,
        }));
    }

    pub(super) fn scan(
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

    pub(super) fn flush_before(&mut self, abs_minute: u64, sink: &mut dyn FnMut(DemoItem)) {
        while let Some(Reverse(t)) = self.queue.peek() {
            if t.minute >= abs_minute {
                break;
            }
            if let Some(Reverse(t)) = self.queue.pop() {
                sink(t.item);
            }
        }
    }

    pub(super) fn receive_lots(&mut self, day: u32) {
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
            // Incoming inspection (IQC) under the material's plan. The second whey lot is rejected: held,
            // reported, reviewed, returned to the supplier and the report closed.
            let rejected = i == 1 && lot_no == 2;
            let inspector = self.rng.pick(&INSPECTORS).to_string();
            let number = lot.rsplit('.').next().unwrap_or_default().to_string();
            let Some(done) = crate::quality::inspect(
                &crate::quality::iqc_plan_code(i),
                &crate::quality::Lot {
                    class: &lot,
                    product: crate::operations::gtin(s.prefix, s.item_ref),
                    number: &number,
                    size: crate::quality::supplier_lot_size(i, qty),
                    supplier: Some(format!("SUP{}", i + 1)),
                    units: &[],
                },
                &inspector,
                rejected.then_some("protein"),
                if rejected {
                    "蛋白质含量低于标准 protein below specification"
                } else {
                    ""
                },
            ) else {
                continue;
            };
            for mut e in done.events {
                e["readPoint"] = json!({"id": our_location(7)});
                e["bizLocation"] = json!({"id": our_location(2)});
                self.push(day, minute + 45, e);
            }
            if let (Some(ncr), Some(hold)) = (done.ncr, done.hold) {
                use crate::quality::ncr_step;
                self.push(day, minute + 75, ncr_step(&ncr, "review", "under_review", None,
                    "MRB 评审：复检确认蛋白质低于标准 retest confirms protein below specification"));
                let why = "退回供应商，要求8D纠正措施 return to supplier with an 8D corrective action request";
                self.push(
                    day,
                    minute + 110,
                    ncr_step(&ncr, "dispose", "disposed", Some("return_to_supplier"), why),
                );
                self.push(day, minute + 120, json!({
                    "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "returned",
                    "quantityList": [{"epcClass": lot, "quantity": qty, "uom": s.per_batch.1}],
                    "readPoint": {"id": our_location(2)},
                    "sourceList": [{"type": "owning_party", "source": our_party()}],
                    "destinationList": [{"type": "owning_party", "destination": supplier_party}],
                    "sy:actor": crate::quality::QUALITY_MANAGER, "sy:ncr": {"sy:id": ncr},
                    "sy:release": {"sy:hold": hold, "sy:why": why},
                }));
                self.push(day, minute + 24 * 60, ncr_step(&ncr, "close", "closed", None,
                    "供应商已签收退货并提交8D the supplier received the lot back and answered the 8D"));
            }
        }
    }

    /// The supplier lot a batch on `day` consumes (the rejected whey lot is replaced by the next one).
    pub(super) fn lot_in_use(&self, s_index: usize, day: u32) -> String {
        let s = &SUPPLIERS[s_index];
        let mut lot_no = day / s.lot_days + 1;
        if s_index == 1 && lot_no == 2 {
            lot_no = 1;
        }
        supplier_lot(s, lot_no)
    }

    pub(super) fn batch(&mut self, day: u32, line: u32, b: u32) {
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
        self.work_order_steps(day, line, b, &wo, t0);
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
        let class = can_lot_class(day, line, b);
        let note = if failing {
            "检出阪崎克罗诺杆菌 Cronobacter sakazakii detected"
        } else {
            ""
        };
        let done = crate::quality::inspect(
            crate::quality::FQC_PLAN,
            &crate::quality::Lot {
                class: &class,
                product: crate::operations::can_gtin(),
                number: &lot,
                size: crate::quality::can_lot_size(),
                supplier: None,
                units: &cans,
            },
            &inspector,
            failing.then_some("Cronobacter"),
            note,
        );
        let (events, done_ncr) = done.map(|d| (d.events, d.ncr)).unwrap_or_default();
        for (k, mut e) in events.into_iter().enumerate() {
            e["readPoint"] = json!({"id": our_location(7)});
            e["bizLocation"] = json!({"id": our_location(if k == 0 { 5 } else { 8 })});
            if k == 0 {
                e["quantityList"] =
                    json!([{"epcClass": class, "quantity": CANS_PER_BATCH, "uom": "H87"}]);
                e["sensorElementList"] = json!([{"sensorReport": [
                    {"type": "Dimensionless", "value": protein, "uom": "P1", "sy:item": "protein %"},
                    {"type": "Dimensionless", "value": moisture, "uom": "P1", "sy:item": "moisture %"}]}]);
                e["bizTransactionList"] = json!([{"type": "prodorder", "bizTransaction": wo}]);
                e["sy:workOrder"] = json!(wo);
            }
            self.push(day, t0 + if k == 0 { 420 } else { 450 }, e);
        }
        if failing {
            if let Some(ncr) = done_ncr {
                self.push(day, t0 + 600, crate::quality::ncr_step(&ncr, "review", "under_review", None,
                    "MRB 评审中：留样复检并排查干燥塔卫生 retained samples retested, spray dryer hygiene under investigation"));
            }
            return;
        }
        self.pack_and_ship(day, t0 + 480, &cans);
    }

    pub(super) fn pack_and_ship(&mut self, day: u32, t: u32, cans: &[String]) {
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
                                // The next can scanned after the copy turns up in another distributor's
                                // province, and only there: diverted (窜货).
                                let (city, province) =
                                    if self.suspicious_done && !self.diverted_done {
                                        self.diverted_done = true;
                                        let other = &DISTRIBUTORS[(d + 1) % DISTRIBUTORS.len()];
                                        (other.city_zh, other.province_zh)
                                    } else {
                                        (dist.city_zh, dist.province_zh)
                                    };
                                self.scan(day + when + later, at, can, city, province);
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

    /// A work order's lifecycle around its batch: created and released an hour before mixing, started with
    /// it, completed after final inspection, closed when packed.
    fn work_order_steps(&mut self, day: u32, line: u32, b: u32, wo: &str, t0: u32) {
        let lot = batch_lot(day, line, b);
        let line_code = operations::line_code(line);
        let due = local_time(day, t0 + 10 * 60);
        for (minute, state) in [
            (t0 - 60, "created"),
            (t0 - 55, "released"),
            (t0, "started"),
            (t0 + 425, "completed"),
            (t0 + 500, "closed"),
        ] {
            let mut e = json!({
                "type": "ObjectEvent", "action": if state == "created" { "ADD" } else { "OBSERVE" },
                "epcList": [wo], "bizStep": "https://suyuan.dev/voc/bizStep/work_order",
                "readPoint": {"id": our_location(5)},
                "bizTransactionList": [{"type": "prodorder", "bizTransaction": wo}],
                "sy:workOrderState": state, "sy:actor": "planner",
            });
            if state == "created" {
                e["sy:workOrder"] = json!({"sy:product": operations::can_gtin(), "sy:planned": CANS_PER_BATCH,
                    "sy:unit": "H87", "sy:line": line_code, "sy:lot": lot, "sy:due": due});
            }
            self.push(day, minute, e);
        }
    }
}
