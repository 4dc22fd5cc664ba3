//! What a consumer may see of a product code: the product, its lot, when it was made and until when it keeps,
//! whether its lot passed final inspection, the journey at the brand's chosen granularity, how often and where
//! the code was scanned before, and whether it must not be consumed. Nothing internal: no operator,
//! supplier, internal id, event id, quantity or price leaves this module.

use serde_json::Value;
use std::collections::BTreeSet;
use suyuan_core::projection::object_key;
use suyuan_store::{ScanRecord, StoreError, StoredEvent};
use suyuan_trace::{TraceOptions, node_kind};

use crate::Engine;
use crate::dashboard::tally::bare_term;
use crate::names::Names;

/// Dispositions after which a product must not be consumed.
const UNSAFE: [&str; 8] = [
    "recalled",
    "non_conformant",
    "expired",
    "damaged",
    "destroyed",
    "disposed",
    "stolen",
    "needs_replacement",
];

/// A code scanned this many times, or in two cities, is suspicious.
const SUSPICIOUS: u64 = 5;

/// How precisely the journey is told (the brand's choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// Province or region only.
    Region,
    /// City.
    City,
    /// The store's (or warehouse's) own name.
    Place,
}

impl Granularity {
    /// Parses `region`, `city` or `place` (`store` too).
    pub fn parse(s: &str) -> Option<Granularity> {
        match s {
            "region" => Some(Granularity::Region),
            "city" => Some(Granularity::City),
            "place" | "store" => Some(Granularity::Place),
            _ => None,
        }
    }
}

/// A link the brand offers for its products (GS1 link type, target, title).
#[derive(Debug, Clone, PartialEq)]
pub struct BrandLink {
    /// GS1 link type as a CURIE (`gs1:pip`) .
    pub link_type: String,
    /// Where it leads.
    pub href: String,
    /// Its title.
    pub title: String,
}

/// The consumer page's settings (definition `consumer_page`/`default`): the contact a warning names, how
/// precisely the journey is told, the brand's own links.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerSettings {
    /// Who to contact when a product must not be consumed (a hotline, a web address).
    pub contact: String,
    /// Journey granularity.
    pub journey: Granularity,
    /// Extra links (`gs1:pip`, `gs1:recipeInfo`, …).
    pub links: Vec<BrandLink>,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        ConsumerSettings {
            contact: String::new(),
            journey: Granularity::City,
            links: Vec::new(),
        }
    }
}

impl ConsumerSettings {
    /// Reads the settings from their definition; missing or malformed parts keep their defaults.
    pub fn from_definition(v: &Value) -> ConsumerSettings {
        let d = ConsumerSettings::default();
        ConsumerSettings {
            contact: v
                .get("contact")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            journey: v
                .get("journey")
                .and_then(Value::as_str)
                .and_then(Granularity::parse)
                .unwrap_or(d.journey),
            links: v
                .get("links")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|l| {
                    let link_type = l.get("linkType")?.as_str()?;
                    let href = l.get("href")?.as_str()?;
                    (link_type.contains(':') && href.starts_with("https://")).then(|| BrandLink {
                        link_type: link_type.to_string(),
                        href: href.to_string(),
                        title: l
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or(link_type)
                            .to_string(),
                    })
                })
                .collect(),
        }
    }
}

/// One stop of the journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// What happened there: `made`, `shipped`, `received`, `on_sale`, `sold`.
    pub kind: &'static str,
    /// Where, at the chosen granularity (empty when master data does not say).
    pub place: String,
    /// When (RFC 3339, as captured).
    pub time: String,
}

/// The final inspection of the lot.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// Whether it passed.
    pub passed: bool,
    /// When (RFC 3339).
    pub time: String,
}

/// Why the product must not be consumed.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// The unit or its lot is on hold or failed inspection.
    Hold,
    /// The unit or its lot is recalled.
    Recalled,
}

/// What the consumer page shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumerView {
    /// The GTIN-14.
    pub gtin: String,
    /// Product name and English description from master data.
    pub product: Option<(String, Option<String>)>,
    /// Lot number, when known.
    pub lot: Option<String>,
    /// Serial number, when the code names one.
    pub serial: Option<String>,
    /// Whether our ledger knows this code (a unit or lot we made).
    pub known: bool,
    /// When it was made.
    pub produced: Option<String>,
    /// Its expiry date (`YYYY-MM-DD`), when recorded.
    pub expiry: Option<String>,
    /// The lot's final inspection, when recorded.
    pub inspection: Option<Inspection>,
    /// The journey, oldest first.
    pub journey: Vec<Stop>,
    /// Scans before this one.
    pub scans_before: u64,
    /// The first scan: when and city.
    pub first_scan: Option<(String, String)>,
    /// Cities it was scanned in.
    pub cities: Vec<String>,
    /// Scanned too often or in different cities.
    pub suspicious: bool,
    /// Set when it must not be consumed.
    pub warning: Option<Warning>,
}

fn str_at<'a>(e: &'a Value, k: &str) -> &'a str {
    e.get(k).and_then(Value::as_str).unwrap_or("")
}

fn place_of(e: &Value) -> Option<&str> {
    ["bizLocation", "readPoint"]
        .iter()
        .find_map(|k| e.get(k)?.get("id")?.as_str())
}

fn ilmd<'a>(e: &'a Value, field: &str) -> Option<&'a str> {
    let m = e.get("ilmd")?.as_object()?;
    m.iter()
        .find(|(k, _)| k.rsplit([':', '#', '/']).next() == Some(field))
        .and_then(|(_, v)| v.as_str())
}

/// A place as the brand chooses to name it.
fn at(names: &Names, place: &str, g: Granularity) -> String {
    let n = names.of(place);
    let parent = |f: fn(&crate::names::Named) -> Option<String>| {
        n.and_then(f).or_else(|| {
            n.and_then(|n| n.parent.as_deref())
                .and_then(|p| names.of(p))
                .and_then(f)
        })
    };
    match g {
        Granularity::Region => parent(|n| n.region.clone()).unwrap_or_default(),
        Granularity::City => parent(|n| n.city.clone())
            .or_else(|| parent(|n| n.region.clone()))
            .unwrap_or_default(),
        Granularity::Place => n.map(|n| n.name.clone()).unwrap_or_default(),
    }
}

impl Engine {
    /// The consumer page's settings (defaults when none are saved).
    pub async fn consumer_settings(&self) -> Result<ConsumerSettings, StoreError> {
        Ok(self
            .store()
            .definition(suyuan_store::kinds::CONSUMER_PAGE, "default", None)
            .await?
            .map(|d| ConsumerSettings::from_definition(&d.definition))
            .unwrap_or_default())
    }

    /// The consumer view of the product `gtin`, optionally its lot and serial, after `scans` (the code's scans
    /// so far, newest first, and their total).
    pub async fn consumer_view(
        &self,
        gtin: &str,
        lot: Option<&str>,
        serial: Option<&str>,
        granularity: Granularity,
    ) -> Result<ConsumerView, StoreError> {
        let names = self.names().await?;
        let mut v = ConsumerView {
            gtin: gtin.to_string(),
            product: names
                .product(gtin)
                .map(|n| (n.name.clone(), n.description.clone())),
            lot: lot.map(str::to_string),
            serial: serial.map(str::to_string),
            ..ConsumerView::default()
        };
        let store = self.store();
        let unit_key = serial.map(|s| object_key(&format!("https://id.gs1.org/01/{gtin}/21/{s}")));
        let mut own: Vec<StoredEvent> = Vec::new();
        if let Some(key) = &unit_key {
            if store.object(key).await?.is_none() {
                return Ok(v);
            }
            own = store.object_history(key, 0, 200).await?;
            v.known = true;
            if let Some(l) = own.iter().find_map(|e| ilmd(&e.event, "lotNumber")) {
                v.lot = Some(l.to_string());
            }
        }
        let lot_key = v
            .lot
            .as_ref()
            .map(|l| object_key(&format!("https://id.gs1.org/01/{gtin}/10/{l}")));
        let mut lot_events = Vec::new();
        if let Some(key) = &lot_key
            && store.object(key).await?.is_some()
        {
            v.known = true;
            lot_events = store.object_history(key, 0, 500).await?;
        }
        if !v.known {
            return Ok(v);
        }
        // A lot's page reads what its units were made with from one of them.
        if unit_key.is_none()
            && let Some(key) = &lot_key
        {
            let member = {
                let tracer = self.trace_index().await?;
                let index = tracer.read();
                index
                    .forward(
                        key,
                        &TraceOptions {
                            max_depth: Some(1),
                            ..TraceOptions::default()
                        },
                    )
                    .and_then(|t| {
                        t.nodes
                            .iter()
                            .find(|n| n.depth == 1 && node_kind(&index.name(n.node)) == "instance")
                            .map(|n| index.name(n.node))
                    })
            };
            if let Some(m) = member {
                own = store.object_history(&m, 0, 5).await?;
                own.retain(|e| ilmd(&e.event, "lotNumber").is_some());
            }
        }
        // Made: the unit's commissioning, else the lot's first production event.
        let made = own.iter().chain(lot_events.iter()).find(|e| {
            let step = bare_term(str_at(&e.event, "bizStep"));
            step == "commissioning" || str_at(&e.event, "type") == "TransformationEvent"
        });
        if let Some(m) = made {
            v.produced = Some(str_at(&m.event, "eventTime").to_string());
            if let Some(p) = place_of(&m.event) {
                v.journey.push(Stop {
                    kind: "made",
                    place: at(&names, p, granularity),
                    time: v.produced.clone().unwrap_or_default(),
                });
            }
        }
        v.expiry = own
            .iter()
            .chain(lot_events.iter())
            .find_map(|e| {
                ilmd(&e.event, "itemExpirationDate").or_else(|| ilmd(&e.event, "bestBeforeDate"))
            })
            .map(str::to_string);
        v.inspection = lot_events
            .iter()
            .chain(own.iter())
            .filter(|e| bare_term(str_at(&e.event, "bizStep")) == "inspecting")
            .filter_map(|e| {
                let d = bare_term(str_at(&e.event, "disposition"));
                let passed = match d {
                    "conformant" => true,
                    "non_conformant" => false,
                    _ => return None,
                };
                Some(Inspection {
                    passed,
                    time: str_at(&e.event, "eventTime").to_string(),
                })
            })
            .next_back();
        // Warnings: the latest disposition of the unit and of its lot.
        let latest = |events: &[StoredEvent]| {
            events
                .iter()
                .rev()
                .find(|e| !str_at(&e.event, "disposition").is_empty())
                .map(|e| {
                    (
                        bare_term(str_at(&e.event, "bizStep")).to_string(),
                        bare_term(str_at(&e.event, "disposition")).to_string(),
                    )
                })
        };
        for (step, disp) in [latest(&own), latest(&lot_events)].into_iter().flatten() {
            let w = if disp == "recalled" {
                Some(Warning::Recalled)
            } else if step == "holding" || UNSAFE.contains(&disp.as_str()) {
                Some(Warning::Hold)
            } else {
                None
            };
            if w.is_some() && v.warning != Some(Warning::Recalled) {
                v.warning = w;
            }
        }
        // The journey: where the unit (or the containers it travelled in, while it was inside) was received,
        // put on sale and sold.
        let mut moves: Vec<Value> = own.iter().map(|e| e.event.clone()).collect();
        if let Some(key) = &unit_key {
            let containers = {
                let tracer = self.trace_index().await?;
                let index = tracer.read();
                crate::story::containers_in(
                    &index,
                    index.forward(key, &TraceOptions::default()).as_ref(),
                )
            };
            for (_, e) in self.container_events(&containers, 100).await? {
                moves.push(e.event);
            }
        }
        moves.sort_by_cached_key(|e| {
            suyuan_core::time::parse_timestamp(str_at(e, "eventTime"))
                .map(|t| t.timestamp_millis())
                .unwrap_or(0)
        });
        let mut seen = BTreeSet::new();
        for e in &moves {
            let kind = match bare_term(str_at(e, "bizStep")) {
                "receiving" | "arriving" | "accepting" => "received",
                "retail_selling" => "sold",
                "stocking" | "storing"
                    if str_at(e, "disposition").ends_with("sellable_accessible") =>
                {
                    "on_sale"
                }
                _ => continue,
            };
            let Some(p) = place_of(e) else { continue };
            let place = at(&names, p, granularity);
            if v.journey
                .last()
                .is_some_and(|s| s.place == place && s.kind != "made")
                && kind != "sold"
            {
                continue;
            }
            if seen.insert((kind, place.clone())) {
                v.journey.push(Stop {
                    kind,
                    place,
                    time: str_at(e, "eventTime").to_string(),
                });
            }
        }
        Ok(v)
    }

    /// Places the latest scan of a code where the consumer's phone says it is (the nearest large city),
    /// unless it is placed already; answers the city and province when one was recorded.
    pub async fn consumer_locate(
        &self,
        code: &str,
        lat: f64,
        lon: f64,
    ) -> Result<Option<(&'static str, &'static str)>, StoreError> {
        let Some((city, province)) = crate::geo::nearest_city(lat, lon) else {
            return Ok(None);
        };
        let placed = self
            .store()
            .locate_scan(&object_key(code), city, province)
            .await?;
        Ok(placed.then_some((city, province)))
    }

    /// Records a consumer's visit to a code's page as a scan and fills in what earlier scans say: how many,
    /// the first, the cities, whether the pattern is suspicious. Codes we do not know are not recorded.
    pub async fn consumer_scan(
        &self,
        view: &mut ConsumerView,
        code: &str,
        scan: Option<ScanRecord>,
    ) -> Result<(), StoreError> {
        let key = object_key(code);
        let (count, recent) = self.store().scans(&key, 100).await?;
        view.scans_before = count;
        if let Some(first) = recent.last() {
            view.first_scan = Some((
                first.scanned_at.clone(),
                first.city.clone().unwrap_or_default(),
            ));
        }
        let mut cities: Vec<String> = Vec::new();
        for s in recent.iter().rev() {
            if let Some(c) = s.city.as_ref().filter(|c| !c.is_empty())
                && !cities.contains(c)
            {
                cities.push(c.clone());
            }
        }
        if let Some(s) = scan.filter(|_| view.known && view.serial.is_some()) {
            if let Some(c) = s.city.as_ref().filter(|c| !c.is_empty())
                && count > 0
                && !cities.contains(c)
            {
                cities.push(c.clone());
            }
            self.store().record_scans(vec![s]).await?;
        }
        view.suspicious = cities.len() > 1 || count >= SUSPICIOUS;
        view.cities = cities;
        Ok(())
    }
}
