//! Inventory as a fold of the ledger: quantity by product, lot, location and status, after every event, and
//! the same figures whether followed event by event or rebuilt from the first event. Lots counted by
//! quantity (LGTIN classes) and units counted one by one (SGTINs, with the logistic units they travel in)
//! are both kept; what a case or pallet event does reaches everything inside it.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::facts::Status;

mod fold;
mod names;
mod sized;

use names::{Id, Names};

const NONE: Id = 0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Unit {
    product: Id,
    lot: Id,
    location: Id,
    status: Status,
    parent: Id,
    gone: bool,
    shipped: bool,
    consignee: Id,
    made: bool,
}

/// What is known of a lot counted by quantity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

/// A page of the stock table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StockPage {
    /// The rows of the page, in order.
    pub rows: Vec<StockRow>,
    /// Rows that match, in all.
    pub total_rows: usize,
    /// Their quantity, in all.
    pub total_quantity: f64,
}

/// One total matching a stock query, before its row is built.
struct Hit<'a> {
    names: (&'a str, &'a str, &'a str, Status),
    ids: (Id, Id),
    quantity: f64,
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
    /// Made (the output of a transformation), not only commissioned.
    pub made: bool,
    /// Units inside (directly).
    pub children: usize,
}

/// A lot with available stock: its number, its expiry (own or inherited) and the quantity by location.
pub type FefoLot = (String, Option<String>, Vec<(String, f64)>);

/// The inventory projection.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    names: Names,
    #[serde(deserialize_with = "sized::map")]
    units: HashMap<Id, Unit>,
    #[serde(deserialize_with = "sized::map")]
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

    /// The party the plant first shipped a unit to (directly or in a case or pallet).
    pub fn consignee(&self, key: &str) -> Option<String> {
        let u = self.units.get(&self.names.get(key)?)?;
        (u.consignee != NONE).then(|| self.names.text(u.consignee).to_string())
    }

    /// The stock table: one row per product, lot, location and status with a quantity.
    pub fn stock(&self, f: &StockFilter) -> Vec<StockRow> {
        self.stock_page(f, usize::MAX).rows
    }

    /// The first `limit` rows of the stock table in order, with the count and quantity of all rows that
    /// match (rows are built only for the page).
    pub fn stock_page(&self, f: &StockFilter, limit: usize) -> StockPage {
        let mut page = StockPage::default();
        let want = |s: &Option<String>| s.as_deref().map(|x| self.names.get(x));
        let (p, l) = (want(&f.product), want(&f.lot));
        if matches!(p, Some(None)) || matches!(l, Some(None)) {
            return page;
        }
        let locs: Vec<Id> = f
            .locations
            .iter()
            .filter_map(|x| self.names.get(x))
            .collect();
        if !f.locations.is_empty() && locs.is_empty() {
            return page;
        }
        let mut hits: Vec<Hit<'_>> = self
            .totals
            .iter()
            .filter(|((pp, ll, loc, st), q)| {
                **q > 1e-9
                    && p.is_none_or(|x| x == Some(*pp))
                    && l.is_none_or(|x| x == Some(*ll))
                    && (locs.is_empty() || locs.contains(loc))
                    && f.status.is_none_or(|s| s == *st)
            })
            .map(|((pp, ll, loc, st), q)| Hit {
                names: (
                    self.names.text(*pp),
                    self.names.text(*ll),
                    self.names.text(*loc),
                    *st,
                ),
                ids: (*pp, *ll),
                quantity: *q,
            })
            .collect();
        page.total_rows = hits.len();
        page.total_quantity = hits.iter().map(|h| h.quantity).sum();
        let cmp = |a: &Hit<'_>, b: &Hit<'_>| a.names.cmp(&b.names);
        if limit < hits.len() {
            hits.select_nth_unstable_by(limit, cmp);
            hits.truncate(limit);
        }
        hits.sort_by(cmp);
        page.rows = hits
            .into_iter()
            .map(|h| {
                let (pp, ll) = h.ids;
                let from_lot = self.class_of(pp, ll).and_then(|c| self.lots.get(&c));
                StockRow {
                    product: h.names.0.into(),
                    lot: h.names.1.into(),
                    location: h.names.2.into(),
                    status: h.names.3,
                    quantity: h.quantity,
                    uom: from_lot
                        .map(|x| self.names.text(x.uom))
                        .filter(|u| !u.is_empty())
                        .unwrap_or("H87")
                        .into(),
                    expiry: from_lot
                        .and_then(|x| x.expiry.clone())
                        .or_else(|| self.lot_expiry.get(&(pp, ll)).cloned()),
                }
            })
            .collect();
        page
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
            made: u.made,
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
    pub fn fefo(&self, product: &str) -> Vec<FefoLot> {
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
        let mut out: Vec<FefoLot> = by_lot
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

    /// Quantity by product in `status`, at the locations `keep` accepts (each location is asked once).
    pub fn totals_by_product(
        &self,
        status: Status,
        keep: &dyn Fn(&str) -> bool,
    ) -> BTreeMap<String, f64> {
        let mut kept: HashMap<Id, bool> = HashMap::new();
        let mut by: HashMap<Id, f64> = HashMap::new();
        for ((p, _, loc, st), q) in &self.totals {
            if *st != status || *q <= 1e-9 {
                continue;
            }
            let ok = *kept
                .entry(*loc)
                .or_insert_with(|| keep(self.names.text(*loc)));
            if ok {
                *by.entry(*p).or_insert(0.0) += q;
            }
        }
        by.into_iter()
            .map(|(p, q)| (self.names.text(p).to_string(), q))
            .collect()
    }

    /// Every row with a quantity, for comparing two projections.
    pub fn fingerprint(&self) -> Vec<StockRow> {
        self.stock(&StockFilter::default())
    }
}
