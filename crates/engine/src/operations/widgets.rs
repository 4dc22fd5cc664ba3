//! The operations figures as dashboard metrics: production and scrap per day, first-pass and final yield per
//! day, work in progress by line, available stock by product, and the flow figures (inventory turnover, days
//! of stock, on-time completion, work in progress) as rows.

use async_trait::async_trait;
use std::sync::Arc;
use suyuan_store::StoreError;

use super::OpsError;
use crate::Engine;
use crate::dashboard::{Category, Figure, Metric, Range, Row, Series};

/// An operations error as the dashboard's store error (the store's own error, else its text).
pub(crate) fn store_error(e: OpsError) -> StoreError {
    match e {
        OpsError::Capture(crate::CaptureError::Store(s)) => s,
        other => StoreError::Backend(other.to_string()),
    }
}

/// The figure `name` grouped by `group`, as `(group, value, secondary)`.
async fn points(
    engine: &Engine,
    name: &str,
    range: Range,
    group: &str,
) -> Result<Vec<(String, f64, Option<f64>)>, StoreError> {
    let f = engine
        .ops_metric(name, &range.from.to_string(), &range.to.to_string(), group)
        .await
        .map_err(store_error)?;
    Ok(f.points
        .into_iter()
        .map(|p| (p.group, p.value, p.secondary))
        .collect())
}

fn per_day(range: Range, series: Vec<(&str, Vec<(String, f64)>)>, name: &str) -> Figure {
    let days: Vec<String> = range.days().map(|d| d.to_string()).collect();
    let series: Vec<Series> = series
        .into_iter()
        .map(|(key, pts)| Series {
            key: key.into(),
            values: days
                .iter()
                .map(|d| {
                    pts.iter()
                        .find(|(g, _)| g == d)
                        .map_or(0, |(_, v)| v.round().max(0.0) as u64)
                })
                .collect(),
        })
        .collect();
    Figure {
        metric: name.into(),
        total: series.first().map_or(0, |s| s.values.iter().sum()),
        categories: days
            .iter()
            .map(|d| Category {
                key: d.clone(),
                name: d.get(5..).unwrap_or(d).to_string(),
            })
            .collect(),
        series,
        rows: Vec::new(),
    }
}

/// One series of units over named categories (lines, products).
fn by_category(
    name: &str,
    pts: &[(String, f64, Option<f64>)],
    label: impl Fn(&str) -> String,
) -> Figure {
    let values: Vec<u64> = pts
        .iter()
        .map(|(_, v, _)| v.round().max(0.0) as u64)
        .collect();
    Figure {
        metric: name.into(),
        categories: pts
            .iter()
            .map(|(g, _, _)| Category {
                key: g.clone(),
                name: label(g),
            })
            .collect(),
        total: values.iter().sum(),
        series: vec![Series {
            key: "units".into(),
            values,
        }],
        rows: Vec::new(),
    }
}

/// Output and scrap per day.
pub struct ProductionPerDay;

#[async_trait]
impl Metric for ProductionPerDay {
    fn name(&self) -> &'static str {
        "production_per_day"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let out = points(engine, "output", range, "day").await?;
        let scrap = points(engine, "scrap", range, "day").await?;
        let pick =
            |v: Vec<(String, f64, Option<f64>)>| v.into_iter().map(|(g, x, _)| (g, x)).collect();
        Ok(per_day(
            range,
            vec![("output", pick(out)), ("scrap", pick(scrap))],
            self.name(),
        ))
    }
}

/// First-pass and final yield per day, in percent.
pub struct YieldPerDay;

#[async_trait]
impl Metric for YieldPerDay {
    fn name(&self) -> &'static str {
        "yield_per_day"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        // Only days that made or inspected something: a day without production has no yield, not 0%.
        let pts = points(engine, "yield", range, "day").await?;
        let pct = |x: f64| (x * 100.0).round() as u64;
        Ok(Figure {
            metric: self.name().into(),
            categories: pts
                .iter()
                .map(|(g, _, _)| Category {
                    key: g.clone(),
                    name: g.get(5..).unwrap_or(g).to_string(),
                })
                .collect(),
            series: vec![
                Series {
                    key: "first_pass".into(),
                    values: pts.iter().map(|p| pct(p.1)).collect(),
                },
                Series {
                    key: "final".into(),
                    values: pts.iter().map(|p| pct(p.2.unwrap_or(1.0))).collect(),
                },
            ],
            total: pts.len() as u64,
            rows: Vec::new(),
        })
    }
}

/// Planned but not yet made, by line, of orders released, started or paused.
pub struct WipByLine;

#[async_trait]
impl Metric for WipByLine {
    fn name(&self) -> &'static str {
        "wip_by_line"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let pts = points(engine, "wip", range, "line").await?;
        Ok(by_category(self.name(), &pts, |g| g.to_string()))
    }
}

/// Available stock by product (named from master data).
pub struct StockByProduct;

#[async_trait]
impl Metric for StockByProduct {
    fn name(&self) -> &'static str {
        "stock_by_product"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let pts = points(engine, "stock", range, "product").await?;
        let records = engine.records().await.map_err(store_error)?;
        Ok(by_category(self.name(), &pts, |g| {
            records.label("product", g, false)
        }))
    }
}

/// Inventory turnover, days of stock, on-time completion and work in progress, as rows.
pub struct FlowFigures;

#[async_trait]
impl Metric for FlowFigures {
    fn name(&self) -> &'static str {
        "operations_flow"
    }
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError> {
        let one = |v: Vec<(String, f64, Option<f64>)>| v.first().map_or(0.0, |p| p.1);
        let turnover = one(points(engine, "inventory_turnover", range, "day").await?);
        let days = one(points(engine, "days_of_stock", range, "day").await?);
        let on_time: Vec<f64> = points(engine, "on_time", range, "line")
            .await?
            .into_iter()
            .map(|p| p.1)
            .collect();
        let on_time = if on_time.is_empty() {
            0.0
        } else {
            on_time.iter().sum::<f64>() / on_time.len() as f64
        };
        let wip: f64 = points(engine, "wip", range, "line")
            .await?
            .iter()
            .map(|p| p.1)
            .sum::<f64>()
            .max(0.0)
            + 0.0;
        let rows = vec![
            Row {
                key: "inventory_turnover".into(),
                name: String::new(),
                detail: format!("{turnover:.2}"),
                value: (turnover * 100.0).round() as u64,
            },
            Row {
                key: "days_of_stock".into(),
                name: String::new(),
                detail: format!("{days:.1}"),
                value: days.round() as u64,
            },
            Row {
                key: "on_time".into(),
                name: String::new(),
                detail: format!("{:.0}%", on_time * 100.0),
                value: (on_time * 100.0).round() as u64,
            },
            Row {
                key: "wip".into(),
                name: String::new(),
                detail: format!("{wip:.0}"),
                value: wip.round() as u64,
            },
        ];
        Ok(Figure {
            metric: self.name().into(),
            total: rows.len() as u64,
            rows,
            ..Figure::default()
        })
    }
}

/// Every operations metric, for the engine to register.
pub fn all() -> Vec<Arc<dyn Metric>> {
    vec![
        Arc::new(ProductionPerDay),
        Arc::new(YieldPerDay),
        Arc::new(WipByLine),
        Arc::new(StockByProduct),
        Arc::new(FlowFigures),
    ]
}
