//! The fold itself: what each event does to lots counted by quantity, to units and the containers they
//! travel in, and to the totals by product, lot, location and status.

use suyuan_core::Event;
use suyuan_core::cbv::bare_term;
use suyuan_core::event::{Action, EventType};
use suyuan_core::projection::object_key;

use super::{Id, Inventory, Lot, NONE, Unit, qty};
use crate::facts::{
    Effect, Status, date_part, effect, ilmd, is_container, product_and_lot, sy_str,
};

impl Inventory {
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
                made: false,
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
        let lot_id = own_lot.as_deref().map(|l| self.names.id(l));
        for k in e.output_epc_list.iter().map(|k| object_key(k)) {
            let id = self.unit_entry(&k, own_lot.as_deref(), loc, status);
            // A serial commissioned when its label was printed gets its lot when it is made.
            if let (Some(l), Some(before)) = (lot_id, self.units.get(&id).copied())
                && before.lot == NONE
                && before.product != NONE
            {
                let after = Unit { lot: l, ..before };
                self.unit_total(before, -1.0);
                self.unit_total(after, 1.0);
                self.units.insert(id, after);
            }
            if let (Some(x), Some(u)) = (expiry.clone(), self.units.get(&id).copied())
                && u.lot != NONE
            {
                self.lot_expiry.entry((u.product, u.lot)).or_insert(x);
            }
            self.place_unit(id, Some(loc), Effect::Set(status));
            if let Some(u) = self.units.get_mut(&id) {
                u.made = true;
            }
        }
    }
}
