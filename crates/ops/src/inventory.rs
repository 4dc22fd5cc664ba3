//! Inventory as a fold of the ledger: quantity by product, lot, location and status, after every event, and
//! the same figures whether followed event by event or rebuilt from the first event. Lots counted by
//! quantity (LGTIN classes) and units counted one by one (SGTINs, with the logistic units they travel in)
//! are both kept; what a case or pallet event does reaches everything inside it.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use suyuan_core::Event;
use suyuan_core::cbv::bare_term;
use suyuan_core::event::{Action, EventType};
use suyuan_core::projection::object_key;

use crate::facts::{
    Effect, Status, date_part, effect, ilmd, is_container, product_and_lot, sy_str,
};

/// An interned text.
type Id = u32;
const NONE: Id = 0;

#[derive(Debug, Default, Clone)]
struct Names {
    list: Vec<Box<str>>,
    index: HashMap<Box<str>, Id>,
}

impl Names {
    fn id(&mut self, s: &str) -> Id {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        if self.list.is_empty() {
            self.list.push("".into());
        }
        let i = self.list.len() as Id;
        self.list.push(s.into());
        self.index.insert(s.into(), i);
        i
    }
    fn get(&self, s: &str) -> Option<Id> {
        self.index.get(s).copied()
    }
    fn text(&self, i: Id) -> &str {
        self.list.get(i as usize).map_or("", |s| s)
    }
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    product: Id,
    lot: Id,
    location: Id,
    status: Status,
    parent: Id,
    gone: bool,
    shipped: bool,
    consignee: Id,
}

/// What is known of a lot counted by quantity.
#[derive(Debug, Clone, Default)]
struct Lot {
    product: Id,
    lot: Id,
    uom: Id,
    qty: BTreeMap<(Id, Status), f64>,
    expiry: Option<String>,
    supplier: Id,
    consumed: f64,
    received: f64,
    disposition: Id,
}

/// A row of the stock table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StockRow {
    /// The product's GTIN or code.
    pub product: String,
    /// The lot (empty for units whose lot is not known).
    pub lot: String,
    /// The location key.
    pub location: String,
    /// Its status.
    pub status: Status,
    /// Quantity (units count one each).
    pub quantity: f64,
    /// Unit of measure (`H87`, pieces, for units).
    pub uom: String,
    /// Expiry date, own or inherited through the genealogy (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
}

/// Filters of a stock query (empty matches all).
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    /// Product GTIN or code.
    pub product: Option<String>,
    /// Lot.
    pub lot: Option<String>,
    /// Location keys (any of them).
    pub locations: Vec<String>,
    /// Status.
    pub status: Option<Status>,
}

/// What the ledger says of one lot counted by quantity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LotFacts {
    /// Product GTIN or code.
    pub product: String,
    /// Lot.
    pub lot: String,
    /// Quantity by `(location, status)`.
    pub stock: Vec<(String, Status, f64)>,
    /// Unit of measure.
    pub uom: String,
    /// Expiry, own or inherited.
    pub expiry: Option<String>,
    /// The party it came from (key), if received from one.
    pub supplier: Option<String>,
    /// Quantity consumed into work orders.
    pub consumed: f64,
    /// Quantity received.
    pub received: f64,
    /// Its last disposition (bare CBV term).
    pub disposition: Option<String>,
}

/// Where a unit or logistic unit is, by the ledger.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitFacts {
    /// Product GTIN or code (empty for a logistic unit).
    pub product: String,
    /// Lot, when known.
    pub lot: String,
    /// Location key.
    pub location: String,
    /// Status.
    pub status: Status,
    /// The container it is in.
    pub parent: Option<String>,
    /// Consumed, sold or destroyed.
    pub gone: bool,
    /// Shipped at some time.
    pub shipped: bool,
    /// Units inside (directly).
    pub children: usize,
}

/// The inventory projection.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    names: Names,
    units: HashMap<Id, Unit>,
    children: HashMap<Id, Vec<Id>>,
    lots: HashMap<Id, Lot>,
    lot_expiry: HashMap<(Id, Id), String>,
    lot_class: HashMap<(Id, Id), Id>,
    totals: HashMap<(Id, Id, Id, Status), f64>,
    flow_expiry: HashMap<String, String>,
    events: u64,
}

fn qty(q: &suyuan_core::event::QuantityElement) -> Option<f64> {
    q.quantity.as_ref().and_then(|n| n.as_f64())
}

impl Inventory {
    /// Events folded so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    fn add_total(&mut self, k: (Id, Id, Id, Status), q: f64) {
        let v = self.totals.entry(k).or_insert(0.0);
        *v += q;
        if v.abs() < 1e-9 {
            self.totals.remove(&k);
        }
    }

    fn unit_total(&mut self, u: Unit, sign: f64) {
        if !u.gone && u.product != NONE {
            self.add_total((u.product, u.lot, u.location, u.status), sign);
        }
    }

    fn lot_add(&mut self, class: Id, loc: Id, status: Status, q: f64) {
        let Some(l) = self.lots.get_mut(&class) else {
            return;
        };
        let v = l.qty.entry((loc, status)).or_insert(0.0);
        *v += q;
        if v.abs() < 1e-9 {
            l.qty.remove(&(loc, status));
        }
        let k = (l.product, l.lot, loc, status);
        self.add_total(k, q);
    }

    /// Takes up to `q` of a lot out of `status` stock, from `from` first, then the fullest locations;
    /// answers what was taken from where.
    fn lot_take(
        &mut self,
        class: Id,
        from: Id,
        status: Option<Status>,
        q: f64,
    ) -> Vec<(Id, Status, f64)> {
        let Some(l) = self.lots.get(&class) else {
            return Vec::new();
        };
        let mut places: Vec<((Id, Status), f64)> = l
            .qty
            .iter()
            .filter(|((_, s), v)| **v > 0.0 && status.is_none_or(|st| st == *s))
            .map(|(k, v)| (*k, *v))
            .collect();
        places.sort_by(|a, b| {
            (b.0.0 == from)
                .cmp(&(a.0.0 == from))
                .then((b.0.1 == Status::Available).cmp(&(a.0.1 == Status::Available)))
                .then(b.1.total_cmp(&a.1))
        });
        let mut left = q;
        let mut taken = Vec::new();
        for ((loc, st), have) in places {
            if left <= 0.0 {
                break;
            }
            let t = have.min(left);
            self.lot_add(class, loc, st, -t);
            taken.push((loc, st, t));
            left -= t;
        }
        taken
    }

    fn lot_entry(&mut self, key: &str, uom: Option<&str>) -> Option<Id> {
        let (product, lot) = product_and_lot(key)?;
        let lot = lot?;
        let class = self.names.id(key);
        let (p, l) = (self.names.id(&product), self.names.id(&lot));
        let u = uom.map(|u| self.names.id(u)).unwrap_or(NONE);
        self.lot_class.entry((p, l)).or_insert(class);
        let entry = self.lots.entry(class).or_insert_with(|| Lot {
            product: p,
            lot: l,
            ..Lot::default()
        });
        if entry.uom == NONE {
            entry.uom = u;
        }
        Some(class)
    }

    /// Sets a unit's place and status, and the same for everything inside it.
    fn place_unit(&mut self, id: Id, location: Option<Id>, eff: Effect) {
        let mut stack = vec![id];
        let mut guard = 0usize;
        while let Some(u) = stack.pop() {
            guard += 1;
            if guard > 1_000_000 {
                break;
            }
            let Some(before) = self.units.get(&u).copied() else {
                continue;
            };
            let mut after = before;
            if let Some(loc) = location {
                after.location = loc;
            }
            match eff {
                Effect::Keep => {}
                Effect::Set(s) => {
                    after.status = s;
                    after.shipped |= s == Status::InTransit;
                }
                Effect::Gone => after.gone = true,
            }
            self.unit_total(before, -1.0);
            self.unit_total(after, 1.0);
            self.units.insert(u, after);
            if let Some(kids) = self.children.get(&u) {
                stack.extend(kids.iter().copied());
            }
        }
    }

    /// Marks a unit and its contents as shipped to `party`, unless an earlier shipment did.
    fn consign(&mut self, id: Id, party: Id) {
        let mut stack = vec![id];
        while let Some(u) = stack.pop() {
            if let Some(x) = self.units.get_mut(&u)
                && x.consignee == NONE
            {
                x.consignee = party;
                if let Some(kids) = self.children.get(&u) {
                    stack.extend(kids.iter().copied());
                }
            }
        }
    }

    /// The party the plant first shipped a unit to (directly or in a case or pallet).
    pub fn consignee(&self, key: &str) -> Option<String> {
        let u = self.units.get(&self.names.get(key)?)?;
        (u.consignee != NONE).then(|| self.names.text(u.consignee).to_string())
    }

    fn unit_entry(&mut self, key: &str, lot: Option<&str>, location: Id, status: Status) -> Id {
        let id = self.names.id(key);
        if !self.units.contains_key(&id) {
            let (product, known_lot) = if is_container(key) {
                (NONE, NONE)
            } else {
                match product_and_lot(key) {
                    Some((p, _)) => (
                        self.names.id(&p),
                        lot.map(|l| self.names.id(l)).unwrap_or(NONE),
                    ),
                    // Documents, equipment and other identifiers are not stock.
                    None => (NONE, NONE),
                }
            };
            let u = Unit {
                product,
                lot: known_lot,
                location,
                status,
                parent: NONE,
                gone: false,
                shipped: false,
                consignee: NONE,
            };
            self.unit_total(u, 1.0);
            self.units.insert(id, u);
        }
        id
    }

    fn detach(&mut self, child: Id) {
        if let Some(u) = self.units.get_mut(&child) {
            let parent = std::mem::replace(&mut u.parent, NONE);
            if parent != NONE
                && let Some(kids) = self.children.get_mut(&parent)
            {
                kids.retain(|k| *k != child);
            }
        }
    }

    /// Folds one event in.
    pub fn apply(&mut self, e: &Event) {
        self.events += 1;
        if e.error_declaration.is_some() {
            return;
        }
        let eff = effect(e);
        let new_status = match eff {
            Effect::Set(s) => s,
            _ => Status::Available,
        };
        let step = e.biz_step.as_deref().map(bare_term).unwrap_or("");
        let biz = e.biz_location.as_ref().map(|l| object_key(&l.id));
        let dest = e
            .destination_list
            .iter()
            .find(|d| bare_term(&d.kind) == "location")
            .map(|d| object_key(&d.id));
        let here = match (&biz, &dest, eff) {
            (_, Some(d), Effect::Set(Status::InTransit)) => Some(d.clone()),
            (Some(b), _, _) => Some(b.clone()),
            _ => None,
        };
        let here_id = here.as_deref().map(|h| self.names.id(h));
        let read_point = e.read_point.as_ref().map(|r| object_key(&r.id));
        let start_loc = here_id
            .or_else(|| read_point.as_deref().map(|r| self.names.id(r)))
            .unwrap_or(NONE);
        let from = sy_str(e, "from")
            .map(|f| self.names.id(&object_key(f)))
            .unwrap_or(NONE);
        let own_lot = ilmd(e, "lotNumber");
        let own_expiry = ilmd(e, "itemExpirationDate")
            .or_else(|| ilmd(e, "bestBeforeDate"))
            .or_else(|| sy_str(e, "expiry").map(str::to_string))
            .and_then(|d| date_part(&d));
        let supplier = e
            .source_list
            .iter()
            .find(|s| matches!(bare_term(&s.kind), "owning_party" | "possessing_party"))
            .map(|s| object_key(&s.id));
        match e.event_type {
            EventType::Transformation => {
                self.transform(e, start_loc, own_lot, own_expiry, new_status)
            }
            EventType::Aggregation | EventType::Association => {
                let parent = e.parent_id.as_deref().map(object_key);
                let pid = parent
                    .as_deref()
                    .map(|p| self.unit_entry(p, None, start_loc, new_status));
                let kids: Vec<String> = e.children().map(object_key).collect();
                match e.action {
                    Some(Action::Add) => {
                        for k in &kids {
                            let c = self.unit_entry(k, None, start_loc, new_status);
                            self.detach(c);
                            if let Some(p) = pid {
                                if let Some(u) = self.units.get_mut(&c) {
                                    u.parent = p;
                                }
                                self.children.entry(p).or_default().push(c);
                            }
                        }
                        if let Some(p) = pid {
                            self.place_unit(p, here_id, eff);
                        }
                    }
                    Some(Action::Delete) => {
                        let kids: Vec<Id> = if kids.is_empty() {
                            pid.and_then(|p| self.children.get(&p).cloned())
                                .unwrap_or_default()
                        } else {
                            kids.iter().filter_map(|k| self.names.get(k)).collect()
                        };
                        for c in kids {
                            self.detach(c);
                            self.place_unit(c, here_id, eff);
                        }
                        if let Some(p) = pid {
                            self.place_unit(p, here_id, eff);
                        }
                    }
                    _ => {
                        if let Some(p) = pid {
                            self.place_unit(p, here_id, eff);
                        }
                    }
                }
                for q in &e.child_quantity_list {
                    self.quantity_event(
                        e,
                        q,
                        step,
                        here_id,
                        start_loc,
                        from,
                        eff,
                        &own_expiry,
                        &supplier,
                    );
                }
            }
            EventType::Object | EventType::Transaction => {
                let consignee = (step == "shipping")
                    .then(|| {
                        e.destination_list.iter().find(|d| {
                            matches!(bare_term(&d.kind), "owning_party" | "possessing_party")
                        })
                    })
                    .flatten()
                    .map(|d| self.names.id(&object_key(&d.id)));
                for key in e.epc_list.iter().map(|k| object_key(k)) {
                    let id = if e.action == Some(Action::Add) {
                        self.unit_entry(&key, own_lot.as_deref(), start_loc, new_status)
                    } else {
                        match self.names.get(&key).filter(|i| self.units.contains_key(i)) {
                            Some(i) => i,
                            None => {
                                self.unit_entry(&key, own_lot.as_deref(), start_loc, new_status)
                            }
                        }
                    };
                    let eff = if e.action == Some(Action::Delete) {
                        Effect::Gone
                    } else {
                        eff
                    };
                    self.place_unit(id, here_id, eff);
                    if let Some(party) = consignee {
                        self.consign(id, party);
                    }
                }
                for q in &e.quantity_list {
                    self.quantity_event(
                        e,
                        q,
                        step,
                        here_id,
                        start_loc,
                        from,
                        eff,
                        &own_expiry,
                        &supplier,
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn quantity_event(
        &mut self,
        e: &Event,
        q: &suyuan_core::event::QuantityElement,
        step: &str,
        here: Option<Id>,
        start_loc: Id,
        from: Id,
        eff: Effect,
        expiry: &Option<String>,
        supplier: &Option<String>,
    ) {
        let key = object_key(&q.epc_class);
        let Some(class) = self.lot_entry(&key, q.uom.as_deref()) else {
            return;
        };
        let d = e
            .disposition
            .as_deref()
            .map(|d| self.names.id(bare_term(d)));
        let sup = supplier.as_deref().map(|s| self.names.id(s));
        if let Some(l) = self.lots.get_mut(&class) {
            if let Some(x) = expiry {
                l.expiry = Some(x.clone());
            }
            if let Some(d) = d {
                l.disposition = d;
            }
            if step == "receiving"
                && let Some(s) = sup
            {
                l.supplier = s;
            }
        }
        let amount = qty(q);
        let adds = e.action == Some(Action::Add)
            || (step == "receiving" && e.action != Some(Action::Delete));
        match (amount, e.action) {
            (Some(n), Some(Action::Delete)) => {
                self.lot_take(class, from.max(start_loc), None, n);
            }
            (Some(n), _) if adds => {
                let status = match eff {
                    Effect::Set(s) => s,
                    _ => Status::Available,
                };
                // What was in transit to us arrives: it is no longer in transit.
                let arriving: f64 = self.lots.get(&class).map_or(0.0, |l| {
                    l.qty
                        .iter()
                        .filter(|((_, s), _)| *s == Status::InTransit)
                        .map(|(_, v)| *v)
                        .sum()
                });
                if step == "receiving" && arriving > 0.0 {
                    self.lot_take(class, NONE, Some(Status::InTransit), n.min(arriving));
                }
                if let Some(l) = self.lots.get_mut(&class) {
                    l.received += n;
                }
                self.lot_add(class, start_loc, status, n);
            }
            (Some(n), _) if step == "cycle_counting" => {
                let status = match eff {
                    Effect::Set(s) => s,
                    _ => Status::Available,
                };
                self.lot_take_exact_location(class, start_loc);
                self.lot_add(class, start_loc, status, n);
            }
            (Some(n), _) => {
                let taken = self.lot_take(class, from, None, n);
                for (loc, st, t) in taken {
                    let to_loc = here.unwrap_or(loc);
                    match eff {
                        Effect::Gone => {}
                        Effect::Set(s) => self.lot_add(class, to_loc, s, t),
                        Effect::Keep => self.lot_add(class, to_loc, st, t),
                    }
                }
            }
            (None, _) => {
                // A disposition for the whole lot (an inspection, a hold, a release).
                let Effect::Set(s) = eff else { return };
                let all: Vec<((Id, Status), f64)> = self
                    .lots
                    .get(&class)
                    .map(|l| l.qty.iter().map(|(k, v)| (*k, *v)).collect())
                    .unwrap_or_default();
                for ((loc, st), v) in all {
                    if st != Status::InTransit && st != s {
                        self.lot_add(class, loc, st, -v);
                        self.lot_add(class, loc, s, v);
                    }
                }
            }
        }
    }

    fn lot_take_exact_location(&mut self, class: Id, loc: Id) -> f64 {
        let all: Vec<((Id, Status), f64)> = self
            .lots
            .get(&class)
            .map(|l| {
                l.qty
                    .iter()
                    .filter(|((x, _), _)| *x == loc)
                    .map(|(k, v)| (*k, *v))
                    .collect()
            })
            .unwrap_or_default();
        let mut sum = 0.0;
        for ((l, s), v) in all {
            self.lot_add(class, l, s, -v);
            sum += v;
        }
        sum
    }

    fn transform(
        &mut self,
        e: &Event,
        loc: Id,
        own_lot: Option<String>,
        own_expiry: Option<String>,
        status: Status,
    ) {
        let mut earliest: Option<String> = None;
        let mut note = |x: Option<String>| {
            if let Some(x) = x
                && earliest.as_ref().is_none_or(|y| x < *y)
            {
                earliest = Some(x);
            }
        };
        for q in &e.input_quantity_list {
            let key = object_key(&q.epc_class);
            let Some(class) = self.lot_entry(&key, q.uom.as_deref()) else {
                continue;
            };
            note(self.lots.get(&class).and_then(|l| l.expiry.clone()));
            let n = qty(q)
                .unwrap_or_else(|| self.lots.get(&class).map_or(0.0, |l| l.qty.values().sum()));
            self.lot_take(class, loc, None, n);
            if let Some(l) = self.lots.get_mut(&class) {
                l.consumed += n;
            }
        }
        for k in e.input_epc_list.iter().map(|k| object_key(k)) {
            if let Some(id) = self.names.get(&k)
                && let Some(u) = self.units.get(&id).copied()
            {
                note(self.lot_expiry.get(&(u.product, u.lot)).cloned());
                self.place_unit(id, None, Effect::Gone);
            }
        }
        let tkey = e.transformation_id.as_deref().map(object_key);
        if let Some(t) = &tkey {
            if let Some(x) = earliest.clone() {
                let slot = self.flow_expiry.entry(t.clone()).or_insert(x.clone());
                if x < *slot {
                    *slot = x;
                }
            }
            earliest = self.flow_expiry.get(t).cloned().or(earliest);
        }
        let expiry = own_expiry.or(earliest);
        for q in &e.output_quantity_list {
            let key = object_key(&q.epc_class);
            let Some(class) = self.lot_entry(&key, q.uom.as_deref()) else {
                continue;
            };
            if let Some(l) = self.lots.get_mut(&class) {
                if l.expiry.is_none() {
                    l.expiry = expiry.clone();
                }
                l.received += qty(q).unwrap_or(0.0);
            }
            if let Some(n) = qty(q) {
                self.lot_add(class, loc, status, n);
            }
        }
        for k in e.output_epc_list.iter().map(|k| object_key(k)) {
            let id = self.unit_entry(&k, own_lot.as_deref(), loc, status);
            if let (Some(x), Some(u)) = (expiry.clone(), self.units.get(&id).copied())
                && u.lot != NONE
            {
                self.lot_expiry.entry((u.product, u.lot)).or_insert(x);
            }
            self.place_unit(id, Some(loc), Effect::Set(status));
        }
    }

    /// The stock table: one row per product, lot, location and status with a quantity.
    pub fn stock(&self, f: &StockFilter) -> Vec<StockRow> {
        let want = |s: &Option<String>| s.as_deref().map(|x| self.names.get(x));
        let (p, l) = (want(&f.product), want(&f.lot));
        if matches!(p, Some(None)) || matches!(l, Some(None)) {
            return Vec::new();
        }
        let locs: Vec<Id> = f
            .locations
            .iter()
            .filter_map(|x| self.names.get(x))
            .collect();
        if !f.locations.is_empty() && locs.is_empty() {
            return Vec::new();
        }
        let mut rows: Vec<StockRow> = self
            .totals
            .iter()
            .filter(|((pp, ll, loc, st), q)| {
                **q > 1e-9
                    && p.is_none_or(|x| x == Some(*pp))
                    && l.is_none_or(|x| x == Some(*ll))
                    && (locs.is_empty() || locs.contains(loc))
                    && f.status.is_none_or(|s| s == *st)
            })
            .map(|((pp, ll, loc, st), q)| {
                let lot_key = self.class_of(*pp, *ll);
                let from_lot = lot_key.and_then(|c| self.lots.get(&c));
                StockRow {
                    product: self.names.text(*pp).into(),
                    lot: self.names.text(*ll).into(),
                    location: self.names.text(*loc).into(),
                    status: *st,
                    quantity: *q,
                    uom: from_lot
                        .map(|x| self.names.text(x.uom))
                        .filter(|u| !u.is_empty())
                        .unwrap_or("H87")
                        .into(),
                    expiry: from_lot
                        .and_then(|x| x.expiry.clone())
                        .or_else(|| self.lot_expiry.get(&(*pp, *ll)).cloned()),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            (&a.product, &a.lot, &a.location, a.status).cmp(&(
                &b.product,
                &b.lot,
                &b.location,
                b.status,
            ))
        });
        rows
    }

    fn class_of(&self, product: Id, lot: Id) -> Option<Id> {
        self.lot_class.get(&(product, lot)).copied()
    }

    /// What is known of a lot counted by quantity (by its key).
    pub fn lot(&self, key: &str) -> Option<LotFacts> {
        let id = self.names.get(key)?;
        let l = self.lots.get(&id)?;
        Some(LotFacts {
            product: self.names.text(l.product).into(),
            lot: self.names.text(l.lot).into(),
            stock: l
                .qty
                .iter()
                .filter(|(_, v)| **v > 1e-9)
                .map(|((loc, s), v)| (self.names.text(*loc).to_string(), *s, *v))
                .collect(),
            uom: self.names.text(l.uom).into(),
            expiry: l.expiry.clone(),
            supplier: (l.supplier != NONE).then(|| self.names.text(l.supplier).to_string()),
            consumed: l.consumed,
            received: l.received,
            disposition: (l.disposition != NONE)
                .then(|| self.names.text(l.disposition).to_string()),
        })
    }

    /// Where a unit or logistic unit is (by its key).
    pub fn unit(&self, key: &str) -> Option<UnitFacts> {
        let id = self.names.get(key)?;
        let u = self.units.get(&id)?;
        Some(UnitFacts {
            product: self.names.text(u.product).into(),
            lot: self.names.text(u.lot).into(),
            location: self.names.text(u.location).into(),
            status: u.status,
            parent: (u.parent != NONE).then(|| self.names.text(u.parent).to_string()),
            gone: u.gone,
            shipped: u.shipped,
            children: self.children.get(&id).map_or(0, Vec::len),
        })
    }

    /// The units directly inside a container.
    pub fn contents(&self, key: &str) -> Vec<String> {
        self.names
            .get(key)
            .and_then(|id| self.children.get(&id))
            .map(|kids| {
                kids.iter()
                    .map(|k| self.names.text(*k).to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Units (not containers) inside a container, at any depth, that are not gone.
    pub fn units_inside(&self, key: &str) -> Vec<String> {
        let Some(root) = self.names.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(c) = stack.pop() {
            for k in self.children.get(&c).into_iter().flatten() {
                match self.units.get(k) {
                    Some(u) if u.product != NONE && !u.gone => {
                        out.push(self.names.text(*k).to_string())
                    }
                    _ => {}
                }
                stack.push(*k);
            }
            if out.len() > 1_000_000 {
                break;
            }
        }
        out
    }

    /// Lots of `product` with available stock, earliest expiry first (first expired, first out); lots without
    /// an expiry come last. Each with its available quantity by location.
    pub fn fefo(&self, product: &str) -> Vec<(String, Option<String>, Vec<(String, f64)>)> {
        let Some(p) = self.names.get(product) else {
            return Vec::new();
        };
        let mut by_lot: BTreeMap<Id, Vec<(String, f64)>> = BTreeMap::new();
        for ((pp, ll, loc, st), q) in &self.totals {
            if *pp == p && *st == Status::Available && *q > 1e-9 {
                by_lot
                    .entry(*ll)
                    .or_default()
                    .push((self.names.text(*loc).into(), *q));
            }
        }
        let mut out: Vec<(String, Option<String>, Vec<(String, f64)>)> = by_lot
            .into_iter()
            .map(|(ll, mut locs)| {
                locs.sort_by(|a, b| a.0.cmp(&b.0));
                let expiry = self
                    .class_of(p, ll)
                    .and_then(|c| self.lots.get(&c))
                    .and_then(|x| x.expiry.clone())
                    .or_else(|| self.lot_expiry.get(&(p, ll)).cloned());
                (self.names.text(ll).to_string(), expiry, locs)
            })
            .collect();
        out.sort_by(|a, b| match (&a.1, &b.1) {
            (Some(x), Some(y)) => x.cmp(y).then(a.0.cmp(&b.0)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(&b.0),
        });
        out
    }

    /// Every row with a quantity, for comparing two projections.
    pub fn fingerprint(&self) -> Vec<StockRow> {
        self.stock(&StockFilter::default())
    }
}
