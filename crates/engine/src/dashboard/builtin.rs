//! The metrics every plant has from its ledger alone.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use suyuan_store::StoreError;

use super::tally::company_prefix;
use super::{Category, Figure, Metric, Range, Row, Series};
use crate::Engine;

/// Business steps shown as their own series; the rest are summed as `other`.
const TOP_STEPS: usize = 8;

/// A code scanned this many times, or in two cities, is suspicious.
pub const SUSPICIOUS_SCANS: u64 = 5;

/// The built-in metrics, in the order the dashboard shows them.
pub fn builtin() -> Vec<Arc<dyn Metric>> {
    vec![
        Arc::new(EventsByStep),
        Arc::new(ObjectsByDisposition),
        Arc::new(ShippedByDestination),
        Arc::new(ShippedByRegion),
        Arc::new(ScansPerDay),
        Arc::new(ScansByRegion),
        Arc::new(SuspiciousScans),
        Arc::new(Ledger),
    ]
}

fn day_categories(range: Range) -> Vec<Category> {
    range
        .days()
        .map(|d| Category {
            key: d.to_string(),
            name: d.format("%m-%d").to_string(),
        })
        .collect()
}

fn finish(metric: &str, categories: Vec<Category>, series: Vec<Series>) -> Figure {
    let total = series.iter().flat_map(|s| &s.values).sum();
    Figure {
        metric: metric.to_string(),
        categories,
        series,
        rows: Vec::new(),
        total,
    }
}

/// Events per day, by business step.
struct EventsByStep;

#[async_trait]
impl Metric for EventsByStep {
    fn name(&self) -> &'static str {
        "events_by_step"
    }

    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let counts = engine.tally.read();
        let mut totals: HashMap<&str, u64> = HashMap::new();
        for (_, d) in counts.days.range(range.from..=range.to) {
            for (s, n) in &d.steps {
                *totals.entry(s.as_str()).or_default() += n;
            }
        }
        let mut steps: Vec<(&str, u64)> = totals.into_iter().collect();
        steps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let shown: Vec<&str> = steps.iter().take(TOP_STEPS).map(|s| s.0).collect();
        let days: Vec<_> = range.days().collect();
        let mut series: Vec<Series> = shown
            .iter()
            .map(|s| Series {
                key: s.to_string(),
                values: days
                    .iter()
                    .map(|d| {
                        counts
                            .days
                            .get(d)
                            .and_then(|x| x.steps.get(*s))
                            .copied()
                            .unwrap_or(0)
                    })
                    .collect(),
            })
            .collect();
        if steps.len() > TOP_STEPS {
            series.push(Series {
                key: "other".into(),
                values: days
                    .iter()
                    .map(|d| {
                        counts.days.get(d).map_or(0, |x| {
                            x.steps
                                .iter()
                                .filter(|(k, _)| !shown.contains(&k.as_str()))
                                .map(|(_, n)| n)
                                .sum()
                        })
                    })
                    .collect(),
            });
        }
        Ok(finish(self.name(), day_categories(range), series))
    }
}

/// Objects by the disposition they stand in now (the range does not apply: it is the present).
struct ObjectsByDisposition;

#[async_trait]
impl Metric for ObjectsByDisposition {
    fn name(&self) -> &'static str {
        "objects_by_disposition"
    }

    async fn figure(&self, engine: &Engine, _range: Range) -> Result<Figure, StoreError> {
        let counts = engine.disposition_counts().await?;
        let categories = counts
            .iter()
            .map(|(k, _)| Category {
                key: k.clone(),
                name: super::tally::bare_term(k).to_string(),
            })
            .collect();
        let series = vec![Series {
            key: "objects".into(),
            values: counts.iter().map(|c| c.1).collect(),
        }];
        Ok(finish(self.name(), categories, series))
    }
}

/// Whether a shipment's source party is ours (its company prefix starts one of our GTINs), to tell our
/// shipments from our customers' onward ones.
fn ours(gtins: &[String], party: &str) -> bool {
    let p = company_prefix(party);
    gtins.is_empty()
        || (!p.is_empty()
            && gtins
                .iter()
                .any(|g| g.get(1..).is_some_and(|g| g.starts_with(p))))
}

/// Units we shipped in the range, by destination, most first.
async fn shipped(engine: &Engine, range: Range) -> Result<Vec<(String, u64)>, StoreError> {
    let gtins = engine.own_gtins().await?;
    let counts = engine.tally.read();
    let mut by: HashMap<&str, u64> = HashMap::new();
    for (_, d) in counts.days.range(range.from..=range.to) {
        for ((from, to), n) in &d.shipped {
            if *n > 0 && ours(&gtins, from) {
                *by.entry(to.as_str()).or_default() += n;
            }
        }
    }
    let mut out: Vec<(String, u64)> = by.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

/// Units we shipped, by destination (a distributor's warehouse, a store).
struct ShippedByDestination;

#[async_trait]
impl Metric for ShippedByDestination {
    fn name(&self) -> &'static str {
        "shipped_by_destination"
    }

    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let list = shipped(engine, range).await?;
        let names = engine.names().await?;
        let categories = list
            .iter()
            .map(|(k, _)| Category {
                key: k.clone(),
                name: names.label(k),
            })
            .collect();
        let series = vec![Series {
            key: "units".into(),
            values: list.iter().map(|x| x.1).collect(),
        }];
        Ok(finish(self.name(), categories, series))
    }
}

/// Units we shipped, by the destination's region (province).
struct ShippedByRegion;

#[async_trait]
impl Metric for ShippedByRegion {
    fn name(&self) -> &'static str {
        "shipped_by_region"
    }

    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let list = shipped(engine, range).await?;
        let names = engine.names().await?;
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for (to, n) in list {
            *by.entry(names.region(&to).unwrap_or_default()).or_default() += n;
        }
        let mut list: Vec<(String, u64)> = by.into_iter().collect();
        list.sort_by_key(|x| std::cmp::Reverse(x.1));
        keyed(self.name(), list, "units")
    }
}

fn keyed(metric: &str, list: Vec<(String, u64)>, series: &str) -> Result<Figure, StoreError> {
    let categories = list
        .iter()
        .map(|(k, _)| Category {
            key: k.clone(),
            name: k.clone(),
        })
        .collect();
    let series = vec![Series {
        key: series.into(),
        values: list.iter().map(|x| x.1).collect(),
    }];
    Ok(finish(metric, categories, series))
}

/// Consumer scans per day.
struct ScansPerDay;

#[async_trait]
impl Metric for ScansPerDay {
    fn name(&self) -> &'static str {
        "scans_per_day"
    }

    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let counts = engine.tally.read();
        let values = range
            .days()
            .map(|d| counts.days.get(&d).map_or(0, |x| x.scans.values().sum()))
            .collect();
        let series = vec![Series {
            key: "scans".into(),
            values,
        }];
        Ok(finish(self.name(), day_categories(range), series))
    }
}

/// Consumer scans by region (province).
struct ScansByRegion;

#[async_trait]
impl Metric for ScansByRegion {
    fn name(&self) -> &'static str {
        "scans_by_region"
    }

    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let counts = engine.tally.read();
        let mut by: HashMap<String, u64> = HashMap::new();
        for (_, d) in counts.days.range(range.from..=range.to) {
            for (p, n) in &d.scans {
                *by.entry(p.clone()).or_default() += n;
            }
        }
        let mut list: Vec<(String, u64)> = by.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        keyed(self.name(), list, "scans")
    }
}

/// Codes scanned in more than one city, or many times: possible copies. Rows: the code, its first scan's
/// city, where and when it was last scanned, its count; newest first.
struct SuspiciousScans;

#[async_trait]
impl Metric for SuspiciousScans {
    fn name(&self) -> &'static str {
        "suspicious_scans"
    }

    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let counts = engine.tally.read();
        let mut rows: Vec<Row> = counts
            .codes
            .iter()
            .filter(|(_, c)| c.cities.len() > 1 || c.count >= SUSPICIOUS_SCANS)
            .filter(|(_, c)| {
                chrono::DateTime::parse_from_rfc3339(&c.last.0)
                    .is_ok_and(|t| range.contains(&t.date_naive()))
            })
            .map(|(k, c)| Row {
                key: k.clone(),
                name: c.cities.join(" → "),
                detail: c.last.0.clone(),
                value: c.count,
            })
            .collect();
        rows.sort_by(|a, b| b.detail.cmp(&a.detail).then_with(|| a.key.cmp(&b.key)));
        Ok(Figure {
            metric: self.name().into(),
            total: rows.len() as u64,
            rows,
            ..Figure::default()
        })
    }
}

/// The ledger: events stored, Merkle tree size, the latest signed checkpoint.
struct Ledger;

#[async_trait]
impl Metric for Ledger {
    fn name(&self) -> &'static str {
        "ledger"
    }

    async fn figure(&self, engine: &Engine, _range: Range) -> Result<Figure, StoreError> {
        // Seqs are gapless: the last one counted is the number of events (no count over the objects).
        let events = engine.tally.seq();
        let latest = engine.store().checkpoint(None).await?;
        let mut rows = vec![Row {
            key: "events".into(),
            name: String::new(),
            detail: String::new(),
            value: events,
        }];
        if let Some(c) = latest {
            let signed = c.created_at.clone();
            rows.push(Row {
                key: "checkpoint".into(),
                name: c.root.clone(),
                detail: signed,
                value: c.size,
            });
        }
        Ok(Figure {
            metric: self.name().into(),
            total: events,
            rows,
            ..Figure::default()
        })
    }
}
