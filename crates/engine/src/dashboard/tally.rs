//! The dashboard's running counts: events per local day and business step, units shipped per day, source
//! and destination, consumer scans per day and region, and scans per code. Kept in memory by following the
//! ledger and the scan log (like the genealogy index, it heals itself from them), so a dashboard reads a few
//! hundred counters instead of a million events.

use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use suyuan_store::{ScanRecord, Store, StoreError};

mod snapshot;

/// Events or scans read per step while catching up.
const PAGE: u32 = 5000;

/// One local day's counts.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Day {
    /// Events by business step (bare CBV name; `""` when none).
    pub steps: HashMap<String, u64>,
    /// Units shipped, by (source owning party, destination location or party).
    pub shipped: HashMap<(String, String), u64>,
    /// Consumer scans by province (`""` when unknown).
    pub scans: HashMap<String, u64>,
}

/// What one scanned code has seen.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeScans {
    /// Scans so far.
    pub count: u64,
    /// The first scan: when and where (city).
    pub first: (String, String),
    /// The latest scan: when and where (city).
    pub last: (String, String),
    /// Distinct cities it was scanned in.
    pub cities: Vec<String>,
}

/// The counts themselves.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Per local day.
    pub days: BTreeMap<NaiveDate, Day>,
    /// Units inside each container that currently holds something (cases hold cans, pallets hold cases).
    containers: HashMap<String, u64>,
    /// Per scanned code.
    pub codes: HashMap<String, CodeScans>,
}

/// Objects by disposition (most first), the genealogy seq and the moment they were counted at.
pub(crate) type Census = (u64, std::time::Instant, Vec<(String, u64)>);

/// The running counts and how far they have read.
#[derive(Default)]
pub struct Tally {
    counts: RwLock<Counts>,
    seq: AtomicU64,
    scan_id: AtomicU64,
    catching_up: tokio::sync::Mutex<()>,
    /// When the store was last read, and the local commit count then: figures asked for within a second of
    /// a read, with no commit of this process since, are answered from memory.
    pub(crate) checked: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
    /// Objects by disposition, as last counted, and the genealogy seq it was counted at.
    pub(crate) dispositions: std::sync::Mutex<Option<Census>>,
    /// Where the counts are saved between runs, and how far that has come.
    saved: crate::snapshot::Saved,
}

/// The bare CBV term of a stored value (`shipping` from `https://ref.gs1.org/cbv/BizStep-shipping` or
/// `urn:epcglobal:cbv:bizstep:shipping`); any other URN's last segment.
pub fn bare_term(v: &str) -> &str {
    match suyuan_core::cbv::bare_term(v) {
        b if b.len() != v.len() => b,
        _ => v.rsplit(':').next().unwrap_or(v),
    }
}

/// The GS1 company prefix of a party or location URN (`6901234` of `urn:epc:id:pgln:6901234.00000`).
pub fn company_prefix(id: &str) -> &str {
    let tail = id.rsplit(':').next().unwrap_or(id);
    tail.split('.').next().unwrap_or(tail)
}

fn local_date(e: &Value) -> Option<NaiveDate> {
    let t = DateTime::parse_from_rfc3339(e.get("eventTime")?.as_str()?).ok()?;
    let off = e
        .get("eventTimeZoneOffset")
        .and_then(Value::as_str)
        .and_then(suyuan_core::time::parse_offset)
        .unwrap_or(*t.offset());
    Some(t.with_timezone(&off).date_naive())
}

fn strs(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The entry of a source or destination list of a type (`owning_party`, `location`), bare or as a URI.
fn endpoint<'a>(e: &'a Value, list: &str, field: &str, kind: &str) -> Option<&'a str> {
    e.get(list)?.as_array()?.iter().find_map(|s| {
        let t = s.get("type")?.as_str()?;
        (bare_term(t) == kind).then(|| s.get(field)?.as_str())?
    })
}

impl Counts {
    fn units(&self, epc: &str) -> u64 {
        self.containers.get(epc).copied().unwrap_or(1)
    }

    /// Counts one stored event.
    pub fn apply_event(&mut self, e: &Value) {
        let Some(day) = local_date(e) else { return };
        // Suyuan's own administrative events (users, definitions) are not the plant's activity.
        if e.get("bizStep")
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with("https://suyuan.dev/voc/"))
        {
            return;
        }
        let step = e
            .get("bizStep")
            .and_then(Value::as_str)
            .map(bare_term)
            .unwrap_or("");
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        let action = e.get("action").and_then(Value::as_str).unwrap_or("");
        if kind == "AggregationEvent"
            && let Some(parent) = e.get("parentID").and_then(Value::as_str)
        {
            let children: u64 = strs(e.get("childEPCs")).map(|c| self.units(c)).sum();
            match action {
                "ADD" => *self.containers.entry(parent.to_string()).or_default() += children,
                "DELETE" if children == 0 => {
                    self.containers.remove(parent);
                }
                "DELETE" => {
                    let left = self.units(parent).saturating_sub(children);
                    if left == 0 {
                        self.containers.remove(parent);
                    } else {
                        self.containers.insert(parent.to_string(), left);
                    }
                }
                _ => {}
            }
        }
        let shipped = if step == "shipping" {
            let units: u64 = strs(e.get("epcList"))
                .chain(strs(e.get("childEPCs")))
                .chain(e.get("parentID").and_then(Value::as_str))
                .map(|c| self.units(c))
                .sum();
            let from = endpoint(e, "sourceList", "source", "owning_party").unwrap_or("");
            let to = endpoint(e, "destinationList", "destination", "location")
                .or_else(|| endpoint(e, "destinationList", "destination", "owning_party"));
            to.map(|to| ((from.to_string(), to.to_string()), units))
        } else {
            None
        };
        let d = self.days.entry(day).or_default();
        *d.steps.entry(step.to_string()).or_default() += 1;
        if let Some((key, units)) = shipped {
            *d.shipped.entry(key).or_default() += units;
        }
    }

    /// Counts one consumer scan.
    pub fn apply_scan(&mut self, s: &ScanRecord) {
        let Ok(t) = DateTime::parse_from_rfc3339(&s.scanned_at) else {
            return;
        };
        let province = s.province.clone().unwrap_or_default();
        *self
            .days
            .entry(t.date_naive())
            .or_default()
            .scans
            .entry(province)
            .or_default() += 1;
        let city = s.city.clone().unwrap_or_default();
        let c = self.codes.entry(s.object.clone()).or_default();
        if c.count == 0 {
            c.first = (s.scanned_at.clone(), city.clone());
        }
        c.count += 1;
        c.last = (s.scanned_at.clone(), city.clone());
        if !city.is_empty() && !c.cities.contains(&city) {
            c.cities.push(city);
        }
    }
}

impl Tally {
    /// Reads what was stored since the last call; one caller at a time.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<(), StoreError> {
        let _one = self.catching_up.lock().await;
        self.load_snapshot_once(store).await;
        let (started, from) = (std::time::Instant::now(), self.seq());
        loop {
            let page = store
                .events_after(self.seq.load(Ordering::Acquire), PAGE)
                .await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            {
                let mut c = self.write();
                for e in &page {
                    c.apply_event(&e.event);
                }
            }
            self.seq.store(last, Ordering::Release);
        }
        loop {
            let page = store
                .scans_after(self.scan_id.load(Ordering::Acquire), PAGE)
                .await?;
            let Some(last) = page.last().map(|s| s.0) else {
                break;
            };
            {
                let mut c = self.write();
                for (_, s) in &page {
                    c.apply_scan(s);
                }
            }
            self.scan_id.store(last, Ordering::Release);
        }
        let counted = self.seq() - from;
        if counted > 10_000 {
            tracing::info!(
                events = counted,
                secs = started.elapsed().as_secs_f64(),
                "dashboard counts read the ledger"
            );
        }
        Ok(())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Counts> {
        self.counts.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The counts, for reading.
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Counts> {
        self.counts.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Highest event seq counted.
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn units_follow_containers_into_shipments() {
        let mut c = Counts::default();
        let at = "2026-10-01T23:30:00Z";
        c.apply_event(&json!({"type": "AggregationEvent", "action": "ADD", "eventTime": at,
            "eventTimeZoneOffset": "+08:00", "parentID": "case1", "childEPCs": ["a", "b", "c"], "bizStep": "packing"}));
        c.apply_event(&json!({"type": "AggregationEvent", "action": "ADD", "eventTime": at,
            "eventTimeZoneOffset": "+08:00", "parentID": "pal", "childEPCs": ["case1", "d"], "bizStep": "packing"}));
        c.apply_event(&json!({"type": "ObjectEvent", "action": "OBSERVE", "eventTime": at,
            "eventTimeZoneOffset": "+08:00", "epcList": ["pal"],
            "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
            "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00000"}],
            "destinationList": [{"type": "https://ref.gs1.org/cbv/SDT-location", "destination": "dc"}]}));
        // 23:30 UTC is the next morning at +08:00.
        let day = NaiveDate::from_ymd_opt(2026, 10, 2).expect("date");
        let d = &c.days[&day];
        assert_eq!(d.steps["packing"], 2);
        assert_eq!(d.steps["shipping"], 1);
        assert_eq!(
            d.shipped[&(
                "urn:epc:id:pgln:6901234.00000".to_string(),
                "dc".to_string()
            )],
            4
        );
        c.apply_event(
            &json!({"type": "AggregationEvent", "action": "DELETE", "eventTime": at,
            "parentID": "pal", "childEPCs": [], "bizStep": "unpacking"}),
        );
        assert_eq!(c.units("pal"), 1, "an emptied pallet counts as itself");
        assert_eq!(company_prefix("urn:epc:id:pgln:6901234.00000"), "6901234");
    }

    #[test]
    fn scans_keep_first_last_and_cities() {
        let mut c = Counts::default();
        let scan = |at: &str, city: &str| ScanRecord {
            object: "can".into(),
            scanned_at: at.into(),
            city: Some(city.into()),
            province: Some("广东".into()),
            channel: "qr".into(),
        };
        c.apply_scan(&scan("2026-10-20T10:00:00+08:00", "广州"));
        c.apply_scan(&scan("2026-10-20T11:30:00+08:00", "乌鲁木齐"));
        let s = &c.codes["can"];
        assert_eq!(s.count, 2);
        assert_eq!(s.first.1, "广州");
        assert_eq!(s.cities.len(), 2);
        let day = NaiveDate::from_ymd_opt(2026, 10, 20).expect("date");
        assert_eq!(c.days[&day].scans["广东"], 2);
    }
}
