//! The quality figures as dashboard metrics: first-pass yield by inspection stage, the defect Pareto by
//! characteristic, the suppliers' lot pass rate, and open reports and holds by age.

use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use suyuan_quality::ncr::NcrState;
use suyuan_store::StoreError;

use super::analysis::within;
use crate::Engine;
use crate::dashboard::{Category, Figure, Metric, Range, Series};
use crate::operations::widgets::store_error;

fn one_series(name: &str, key: &str, cats: Vec<(String, String, u64)>) -> Figure {
    let values: Vec<u64> = cats.iter().map(|c| c.2).collect();
    Figure {
        metric: name.into(),
        total: values.iter().sum(),
        categories: cats
            .into_iter()
            .map(|(key, name, _)| Category { key, name })
            .collect(),
        series: vec![Series {
            key: key.into(),
            values,
        }],
        rows: Vec::new(),
    }
}

fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        ((part as f64 / whole as f64) * 100.0).round() as u64
    }
}

/// Lots accepted at their first inspection, in percent, per stage (IQC, IPQC, FQC).
pub struct FirstPassYield;

#[async_trait]
impl Metric for FirstPassYield {
    fn name(&self) -> &'static str {
        "quality_first_pass"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let (from, to) = (range.from.to_string(), range.to.to_string());
        let cats = engine
            .quality(|q| {
                // The first inspection of each lot under each plan is its first pass.
                let mut first: BTreeMap<(&str, &str), (&str, bool)> = BTreeMap::new();
                for i in &q.inspections {
                    first
                        .entry((i.plan.as_str(), i.object.as_str()))
                        .or_insert((i.stage.as_str(), i.accepted));
                }
                let mut by_stage: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
                for i in q
                    .inspections
                    .iter()
                    .filter(|i| within(&i.at, Some(&from), Some(&to)))
                {
                    if let Some((stage, ok)) = first.remove(&(i.plan.as_str(), i.object.as_str())) {
                        let e = by_stage.entry(stage).or_default();
                        e.0 += u64::from(ok);
                        e.1 += 1;
                    }
                }
                ["iqc", "ipqc", "fqc"]
                    .iter()
                    .filter_map(|s| {
                        let (ok, all) = by_stage.get(s)?;
                        Some((s.to_string(), s.to_uppercase(), percent(*ok, *all)))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(store_error)?;
        let mut f = one_series(self.name(), "first_pass", cats);
        f.total = f.series[0].values.iter().copied().min().unwrap_or(0);
        Ok(f)
    }
}

/// Nonconforming items found per characteristic, most first (at most ten bars).
pub struct DefectPareto;

#[async_trait]
impl Metric for DefectPareto {
    fn name(&self) -> &'static str {
        "defect_pareto"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let (from, to) = (range.from.to_string(), range.to.to_string());
        let plans = engine.inspection_plans().await.map_err(store_error)?;
        let limits = |plan: &str, name: &str| {
            plans
                .iter()
                .find(|p| p.code == plan)
                .and_then(|p| p.characteristics.iter().find(|c| c.name == name))
                .cloned()
        };
        let mut counts: Vec<(String, String, u64)> = engine
            .quality(|q| {
                let mut m: BTreeMap<String, u64> = BTreeMap::new();
                for i in q
                    .inspections
                    .iter()
                    .filter(|i| within(&i.at, Some(&from), Some(&to)))
                {
                    for f in i.findings.as_array().into_iter().flatten() {
                        let name = f
                            .get("characteristic")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        // Items found nonconforming, and measurements outside the plan's limits.
                        let outside = limits(&i.plan, name).map_or(0, |c| {
                            f.get("values")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_f64)
                                .filter(|v| !c.conforms(*v))
                                .count() as u64
                        });
                        let n = f.get("defects").and_then(Value::as_u64).unwrap_or(0) + outside;
                        if n > 0 {
                            *m.entry(name.to_string()).or_default() += n;
                        }
                    }
                }
                m.into_iter().map(|(k, n)| (k.clone(), k, n)).collect()
            })
            .await
            .map_err(store_error)?;
        counts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        counts.truncate(10);
        Ok(one_series(self.name(), "defects", counts))
    }
}

/// Lots accepted at incoming inspection, in percent, per supplier (lowest first).
pub struct SupplierPassRate;

#[async_trait]
impl Metric for SupplierPassRate {
    fn name(&self) -> &'static str {
        "supplier_pass_rate"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let cards = engine
            .supplier_scorecards(Some(&range.from.to_string()), Some(&range.to.to_string()))
            .await
            .map_err(store_error)?;
        let mut by: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
        for c in cards {
            let e = by.entry(c.supplier.clone()).or_insert((c.name, 0, 0));
            e.1 += c.figures.accepted;
            e.2 += c.figures.lots;
        }
        let mut cats: Vec<(String, String, u64)> = by
            .into_iter()
            .map(|(k, (name, ok, all))| (k, name, percent(ok, all)))
            .collect();
        cats.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0)));
        let mut f = one_series(self.name(), "pass_rate", cats);
        f.total = f.series[0].values.iter().copied().min().unwrap_or(0);
        Ok(f)
    }
}

/// The age buckets of open reports and holds, in days.
pub const AGE_BUCKETS: [(&str, i64); 4] = [("d1", 1), ("d7", 7), ("d30", 30), ("older", i64::MAX)];

/// Open nonconformance reports and open holds by age (today, up to a week, a month, older).
pub struct OpenByAge;

fn bucket(at: &str, now: chrono::DateTime<chrono::Utc>) -> usize {
    let days = chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| (now - t.with_timezone(&chrono::Utc)).num_days())
        .unwrap_or(0);
    AGE_BUCKETS
        .iter()
        .position(|(_, d)| days < *d)
        .unwrap_or(AGE_BUCKETS.len() - 1)
}

#[async_trait]
impl Metric for OpenByAge {
    fn name(&self) -> &'static str {
        "quality_open_by_age"
    }
    async fn figure(&self, engine: &Engine, _range: Range) -> Result<Figure, StoreError> {
        let now = chrono::Utc::now();
        let (ncrs, holds) = engine
            .quality(|q| {
                let mut ncrs = [0u64; 4];
                let mut holds = [0u64; 4];
                for n in q.ncrs.values().filter(|n| n.state != NcrState::Closed) {
                    ncrs[bucket(&n.raised_at, now)] += 1;
                }
                for h in q.holds.all().filter(|h| h.open) {
                    holds[bucket(&h.at, now)] += 1;
                }
                (ncrs, holds)
            })
            .await
            .map_err(store_error)?;
        Ok(Figure {
            metric: self.name().into(),
            total: ncrs.iter().chain(holds.iter()).sum(),
            categories: AGE_BUCKETS
                .iter()
                .map(|(k, _)| Category {
                    key: (*k).into(),
                    name: (*k).into(),
                })
                .collect(),
            series: vec![
                Series {
                    key: "ncrs".into(),
                    values: ncrs.to_vec(),
                },
                Series {
                    key: "holds".into(),
                    values: holds.to_vec(),
                },
            ],
            rows: Vec::new(),
        })
    }
}

/// Every quality metric.
pub fn all() -> Vec<Arc<dyn Metric>> {
    vec![
        Arc::new(FirstPassYield),
        Arc::new(DefectPareto),
        Arc::new(SupplierPassRate),
        Arc::new(OpenByAge),
    ]
}
