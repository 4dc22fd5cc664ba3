//! Named metrics for the dashboard. A metric turns a date range into a [`Figure`] (categories, series, rows);
//! the console declares a widget over a metric by name, so a feature adds a figure by registering a
//! [`Metric`] ([`Engine::with_metric`]) and one widget line, not a page. Built in: events per day by
//! business step, objects by current disposition, units shipped by destination and by region, consumer scans
//! per day and by region, suspicious scans, and the ledger.

mod builtin;
pub mod tally;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Serialize;
use suyuan_store::StoreError;

use crate::Engine;
pub use builtin::{SUSPICIOUS_SCANS, builtin};

/// The days a figure covers, both ends included (local dates, as the events give them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Range {
    /// The days of the range, in order (at most 366).
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from
            .iter_days()
            .take_while(|d| d <= &self.to)
            .take(366)
    }

    /// Whether `d` lies in the range.
    pub fn contains(&self, d: &NaiveDate) -> bool {
        &self.from <= d && d <= &self.to
    }
}

/// A category of a figure: its key (a day, a step, a place id) and what people call it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Category {
    /// The key the drill-down uses.
    pub key: String,
    /// Its name (master-data name, or the key).
    pub name: String,
}

/// One series of values, one per category.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Series {
    /// Its key (a business step, `scans`, `units`).
    pub key: String,
    /// Values by category.
    pub values: Vec<u64>,
}

/// One row of a list figure (suspicious scans, ledger facts).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    /// What it is about (an object id, a fact's key).
    pub key: String,
    /// Its name or value as shown.
    pub name: String,
    /// Further detail (where, when).
    pub detail: String,
    /// Its count.
    pub value: u64,
}

/// What a metric answers for a range.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Figure {
    /// The metric's name.
    pub metric: String,
    /// Categories (x axis or slices).
    pub categories: Vec<Category>,
    /// Series over the categories.
    pub series: Vec<Series>,
    /// Rows, for list figures.
    pub rows: Vec<Row>,
    /// The figure's total (sum of every value, or the rows' count).
    pub total: u64,
}

/// A named figure the dashboard can show.
#[async_trait]
pub trait Metric: Send + Sync {
    /// Its name (`events_by_step`), as widgets and `GET /api/v1/dashboard/{name}` refer to it.
    fn name(&self) -> &'static str;
    /// Its figure for `range`.
    async fn figure(&self, engine: &Engine, range: Range) -> Result<Figure, StoreError>;
}

impl Engine {
    /// Adds a metric (features call this as they register their validators).
    pub fn with_metric(mut self, m: std::sync::Arc<dyn Metric>) -> Self {
        let mut list = (*self.metrics).clone();
        list.retain(|x| x.name() != m.name());
        list.push(m);
        self.metrics = std::sync::Arc::new(list);
        self
    }

    /// The names of every registered metric.
    pub fn metric_names(&self) -> Vec<&'static str> {
        self.metrics.iter().map(|m| m.name()).collect()
    }

    /// The figure of metric `name` for `range` (`None` for an unknown name), after counting what was stored
    /// since the last figure.
    pub async fn figure(&self, name: &str, range: Range) -> Result<Option<Figure>, StoreError> {
        let Some(m) = self.metrics.iter().find(|m| m.name() == name).cloned() else {
            return Ok(None);
        };
        self.tally().await?;
        m.figure(self, range).await.map(Some)
    }

    /// The running counts, brought up to date (at most a second behind other processes' commits; this
    /// process's own commits are always counted).
    pub async fn tally(&self) -> Result<&tally::Tally, StoreError> {
        let commits = *self.committed.borrow();
        let fresh = self
            .tally
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|(at, seen)| {
                seen == commits && at.elapsed() < std::time::Duration::from_secs(1)
            });
        if !fresh {
            self.tally.catch_up(self.store().as_ref()).await?;
            *self.tally.checked.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((std::time::Instant::now(), commits));
            self.save_snapshots_if_due();
        }
        Ok(&self.tally)
    }

    /// How many objects stand in each disposition now, most first. Counted again when the genealogy index has
    /// moved on and the last count is older than ten seconds (a count walks every object: at millions of
    /// objects a fraction of a second), so a busy plant's dashboard does not pay for it on every refresh.
    pub async fn disposition_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let tracer = self.trace_index().await?;
        let seq = tracer.applied_seq();
        {
            let slot = self
                .tally
                .dispositions
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some((at, when, counts)) = slot.as_ref()
                && (*at == seq || when.elapsed() < std::time::Duration::from_secs(10))
            {
                return Ok(counts.clone());
            }
        }
        let counts = tracer.read().disposition_counts();
        *self
            .tally
            .dispositions
            .lock()
            .unwrap_or_else(|p| p.into_inner()) =
            Some((seq, std::time::Instant::now(), counts.clone()));
        Ok(counts)
    }

    /// Up to `limit` objects standing in `disposition` now, most recently touched first, and how many there
    /// are in all.
    pub async fn objects_in_disposition(
        &self,
        disposition: &str,
        limit: usize,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let tracer = self.trace_index().await?;
        Ok(tracer.read().in_disposition(disposition, limit))
    }

    /// Codes whose latest scan falls in `range`, latest first, at most `limit`: (code, its scans).
    pub async fn scanned_codes(
        &self,
        range: Range,
        limit: usize,
    ) -> Result<Vec<(String, tally::CodeScans)>, StoreError> {
        let t = self.tally().await?;
        let counts = t.read();
        let mut out: Vec<(String, tally::CodeScans)> = counts
            .codes
            .iter()
            .filter(|(_, c)| {
                chrono::DateTime::parse_from_rfc3339(&c.last.0)
                    .is_ok_and(|t| range.contains(&t.date_naive()))
            })
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect();
        out.sort_by(|a, b| b.1.last.0.cmp(&a.1.last.0).then_with(|| a.0.cmp(&b.0)));
        out.truncate(limit);
        Ok(out)
    }

    /// The default range: the 30 days up to the last day with events (or up to `today` when nothing is
    /// stored yet).
    pub async fn default_range(&self, today: NaiveDate) -> Result<Range, StoreError> {
        let t = self.tally().await?;
        let to = t
            .read()
            .days
            .iter()
            .rev()
            .find(|(_, d)| !d.steps.is_empty())
            .map(|(d, _)| *d)
            .unwrap_or(today);
        Ok(Range {
            from: to - chrono::Days::new(29),
            to,
        })
    }
}
