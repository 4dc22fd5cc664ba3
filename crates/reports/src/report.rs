//! A report's definition and its evaluation: rows of a source (flat JSON objects, each with a `time`)
//! kept by the report's period and filters, grouped with aggregates or listed, sorted, cut to a limit, and
//! laid out as the columns it names.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use suyuan_forms::{Problem, Text};

/// The sources a report reads (objects: those the newest events name), each with the fields its rows carry (`value.<key>` for a submission's
/// values and `data.<key>` for a case's data are also read).
pub const SOURCES: &[(&str, &[&str])] = &[
    (
        "events",
        &[
            "time",
            "type",
            "action",
            "biz_step",
            "disposition",
            "read_point",
            "biz_location",
            "objects",
            "quantity",
            "product",
            "lot",
            "event_id",
            "actor",
        ],
    ),
    (
        "objects",
        &[
            "time",
            "object",
            "product",
            "lot",
            "serial",
            "location",
            "disposition",
            "container",
            "party",
            "events",
        ],
    ),
    (
        "inventory",
        &[
            "time",
            "object",
            "product",
            "lot",
            "location",
            "status",
            "quantity",
            "unit",
            "container",
        ],
    ),
    (
        "inspections",
        &[
            "time",
            "id",
            "stage",
            "plan",
            "product",
            "lot",
            "supplier",
            "lot_size",
            "sample_size",
            "result",
            "defects",
            "inspector",
            "ncr",
        ],
    ),
    (
        "ncrs",
        &[
            "time",
            "id",
            "state",
            "object",
            "disposition",
            "summary",
            "inspection",
        ],
    ),
    (
        "holds",
        &["time", "id", "state", "objects", "reason", "ncr", "by"],
    ),
    (
        "tasks",
        &[
            "time", "id", "kind", "title", "role", "user", "state", "due", "overdue", "source",
        ],
    ),
    (
        "submissions",
        &["time", "id", "form", "version", "by", "event_id"],
    ),
    (
        "cases",
        &[
            "time",
            "id",
            "workflow",
            "state",
            "title",
            "subject",
            "ended",
            "escalated",
            "due",
            "started_by",
        ],
    ),
    (
        "metric",
        &["time", "category", "series", "value", "name", "detail"],
    ),
];

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Text contains.
    Contains,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less or equal.
    Lte,
    /// One of a list.
    In,
}

/// One filter: the rows whose `field` compares as asked with `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// The field.
    pub field: String,
    /// The comparison.
    pub op: Op,
    /// The value (a list for `in`).
    pub value: Value,
}

/// An aggregate of a grouped column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    /// Rows in the group.
    Count,
    /// Distinct values in the group.
    CountDistinct,
    /// Sum.
    Sum,
    /// Mean.
    Avg,
    /// Least.
    Min,
    /// Greatest.
    Max,
}

/// A column: a field (or an aggregate of it when the report groups) and its heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The field.
    pub field: String,
    /// The heading.
    pub label: Text,
    /// The aggregate (grouped reports: columns that are not grouped by need one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agg: Option<Agg>,
}

/// A sort key: a column's position (from 0) and its direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sort {
    /// The column, by position.
    pub column: usize,
    /// Largest first.
    #[serde(default)]
    pub desc: bool,
}

/// When and where a report is delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// `daily`, `weekly` (Mondays) or `monthly` (the 1st).
    pub every: String,
    /// The hour it is sent (plant time, 0–23).
    pub hour: u8,
    /// `xlsx`, `csv` or `pdf`.
    pub format: String,
    /// E-mail addresses or webhook URLs.
    pub to: Vec<String>,
}

/// A report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Its code.
    pub code: String,
    /// Its title.
    pub name: Text,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The source it reads.
    pub source: String,
    /// The metric, when the source is `metric`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Only rows of the last so many days (by `time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// The filters, all of which a row must pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// The fields rows are grouped by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<Sort>,
    /// Most rows shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Scheduled delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

/// A report's result: its headings and rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Column headings.
    pub columns: Vec<Text>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<Value>>,
    /// Rows the source gave before filters.
    pub read: usize,
}

fn problem(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem::new(field, en, zh)
}

/// The fields of `source`'s rows.
pub fn fields(source: &str) -> Option<&'static [&'static str]> {
    SOURCES.iter().find(|(s, _)| *s == source).map(|(_, f)| *f)
}

fn known(source: &str, field: &str) -> bool {
    fields(source).is_some_and(|f| f.contains(&field))
        || (source == "submissions" && field.starts_with("value."))
        || (source == "cases" && field.starts_with("data."))
}

/// The value of `field` in `row` (`value.temp` reads the nested key).
pub fn get<'a>(row: &'a Value, field: &str) -> Option<&'a Value> {
    row.get(field).or_else(|| {
        let (head, rest) = field.split_once('.')?;
        row.get(head)?.get(rest)
    })
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (as_number(a), as_number(b)) {
        (Some(x), Some(y)) if !a.is_string() || !b.is_string() => x.total_cmp(&y),
        _ => text(a).cmp(&text(b)),
    }
}

impl Filter {
    /// Whether `row` passes.
    pub fn passes(&self, row: &Value) -> bool {
        let v = get(row, &self.field).unwrap_or(&Value::Null);
        use std::cmp::Ordering::*;
        match self.op {
            Op::Eq => compare(v, &self.value) == Equal,
            Op::Ne => compare(v, &self.value) != Equal,
            Op::Contains => text(v).contains(&text(&self.value)),
            Op::Gt => !v.is_null() && compare(v, &self.value) == Greater,
            Op::Gte => !v.is_null() && compare(v, &self.value) != Less,
            Op::Lt => !v.is_null() && compare(v, &self.value) == Less,
            Op::Lte => !v.is_null() && compare(v, &self.value) != Greater,
            Op::In => self
                .value
                .as_array()
                .is_some_and(|l| l.iter().any(|x| compare(v, x) == Equal)),
        }
    }
}

impl Report {
    /// What is wrong with the definition, each with where and what was expected.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = suyuan_forms::code_problem(&self.code).into_iter().collect();
        if self.name.zh.trim().is_empty() {
            out.push(problem("name/zh", "a title", "报表名称"));
        }
        let names: Vec<&str> = SOURCES.iter().map(|(s, _)| *s).collect();
        if fields(&self.source).is_none() {
            out.push(problem(
                "source",
                format!("one of {}", names.join(", ")),
                format!("以下之一：{}", names.join("、")),
            ));
            return out;
        }
        if self.source == "metric" && self.metric.as_deref().is_none_or(str::is_empty) {
            out.push(problem("metric", "the metric's name", "指标名称"));
        }
        let field_problem = |at: &str, f: &str| {
            problem(
                at,
                format!("a field of {} ('{f}' is not one)", self.source),
                format!("{} 的字段（没有“{f}”）", self.source),
            )
        };
        for (i, f) in self.filters.iter().enumerate() {
            if !known(&self.source, &f.field) {
                out.push(field_problem(&format!("filters/{i}/field"), &f.field));
            }
            if f.op == Op::In && !f.value.is_array() {
                out.push(problem(
                    &format!("filters/{i}/value"),
                    "a list of values for `in`",
                    "“in”需要值的列表",
                ));
            }
        }
        for (i, g) in self.group_by.iter().enumerate() {
            if !known(&self.source, g) {
                out.push(field_problem(&format!("group_by/{i}"), g));
            }
        }
        if self.columns.is_empty() {
            out.push(problem("columns", "at least one column", "至少一列"));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if !known(&self.source, &c.field) {
                out.push(field_problem(&format!("columns/{i}/field"), &c.field));
            }
            if c.label.zh.trim().is_empty() {
                out.push(problem(
                    &format!("columns/{i}/label/zh"),
                    "a heading",
                    "列标题",
                ));
            }
            if !self.group_by.is_empty() && c.agg.is_none() && !self.group_by.contains(&c.field) {
                out.push(problem(
                    &format!("columns/{i}/agg"),
                    "an aggregate (count, sum, avg, min, max) for a column the report does not group by",
                    "未分组的列需要汇总方式（count、sum、avg、min、max）",
                ));
            }
        }
        for (i, s) in self.sort.iter().enumerate() {
            if s.column >= self.columns.len() {
                out.push(problem(
                    &format!("sort/{i}/column"),
                    format!(
                        "a column's position, 0 to {}",
                        self.columns.len().saturating_sub(1)
                    ),
                    format!("列序号 0 至 {}", self.columns.len().saturating_sub(1)),
                ));
            }
        }
        if let Some(s) = &self.schedule {
            if !["daily", "weekly", "monthly"].contains(&s.every.as_str()) {
                out.push(problem(
                    "schedule/every",
                    "daily, weekly or monthly",
                    "daily、weekly 或 monthly",
                ));
            }
            if s.hour > 23 {
                out.push(problem(
                    "schedule/hour",
                    "an hour from 0 to 23",
                    "0 至 23 点",
                ));
            }
            if !["xlsx", "csv", "pdf"].contains(&s.format.as_str()) {
                out.push(problem(
                    "schedule/format",
                    "xlsx, csv or pdf",
                    "xlsx、csv 或 pdf",
                ));
            }
            if s.to.is_empty() {
                out.push(problem(
                    "schedule/to",
                    "e-mail addresses or webhook URLs",
                    "邮箱或 Webhook 地址",
                ));
            }
            for (i, t) in s.to.iter().enumerate() {
                let ok = t.starts_with("https://")
                    || t.starts_with("http://")
                    || t.split_once('@')
                        .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'));
                if !ok {
                    out.push(problem(
                        &format!("schedule/to/{i}"),
                        "an e-mail address or a webhook URL",
                        "邮箱或 Webhook 地址",
                    ));
                }
            }
        }
        out
    }

    /// The report over `rows` of its source, as of `now`.
    pub fn run(&self, rows: &[Value], now: DateTime<Utc>) -> Table {
        let since = self
            .days
            .map(|d| now - Duration::days(i64::from(d)))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        let kept: Vec<&Value> = rows
            .iter()
            .filter(|r| {
                since.as_deref().is_none_or(|s| {
                    r.get("time")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t >= s)
                })
            })
            .filter(|r| self.filters.iter().all(|f| f.passes(r)))
            .collect();
        let mut out: Vec<Vec<Value>> = if self.group_by.is_empty() {
            kept.iter()
                .map(|r| {
                    self.columns
                        .iter()
                        .map(|c| get(r, &c.field).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect()
        } else {
            let mut groups: BTreeMap<Vec<String>, Vec<&Value>> = BTreeMap::new();
            for r in &kept {
                let key = self
                    .group_by
                    .iter()
                    .map(|g| text(get(r, g).unwrap_or(&Value::Null)))
                    .collect();
                groups.entry(key).or_default().push(r);
            }
            groups
                .into_values()
                .map(|members| {
                    self.columns
                        .iter()
                        .map(|c| aggregate(c, &members))
                        .collect()
                })
                .collect()
        };
        for s in self.sort.iter().rev() {
            out.sort_by(|a, b| {
                let o = compare(
                    a.get(s.column).unwrap_or(&Value::Null),
                    b.get(s.column).unwrap_or(&Value::Null),
                );
                if s.desc { o.reverse() } else { o }
            });
        }
        if let Some(n) = self.limit {
            out.truncate(n);
        }
        Table {
            columns: self.columns.iter().map(|c| c.label.clone()).collect(),
            rows: out,
            read: rows.len(),
        }
    }
}

fn aggregate(c: &Column, members: &[&Value]) -> Value {
    let values: Vec<&Value> = members
        .iter()
        .filter_map(|r| get(r, &c.field))
        .filter(|v| !v.is_null())
        .collect();
    let numbers: Vec<f64> = values.iter().filter_map(|v| as_number(v)).collect();
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    match c.agg {
        None => values.first().map(|v| (*v).clone()).unwrap_or(Value::Null),
        Some(Agg::Count) => json!(members.len()),
        Some(Agg::CountDistinct) => {
            let mut seen: Vec<String> = values.iter().map(|v| text(v)).collect();
            seen.sort();
            seen.dedup();
            json!(seen.len())
        }
        Some(Agg::Sum) => json!(round(numbers.iter().sum::<f64>())),
        Some(Agg::Avg) if numbers.is_empty() => Value::Null,
        Some(Agg::Avg) => json!(round(numbers.iter().sum::<f64>() / numbers.len() as f64)),
        Some(Agg::Min) => numbers
            .iter()
            .copied()
            .reduce(f64::min)
            .map_or(Value::Null, |x| json!(x)),
        Some(Agg::Max) => numbers
            .iter()
            .copied()
            .reduce(f64::max)
            .map_or(Value::Null, |x| json!(x)),
    }
}

/// `table` as CSV (a header row in `lang`, then the rows; RFC 4180 quoting), with a byte-order mark so
/// that spreadsheet programs read the Chinese as UTF-8.
pub fn csv(table: &Table, lang: &str) -> String {
    let cell = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("\u{feff}");
    let head: Vec<String> = table.columns.iter().map(|c| cell(c.get(lang))).collect();
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    for r in &table.rows {
        let line: Vec<String> = cells(r).iter().map(|v| cell(v)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A table row as text cells (numbers without a trailing `.0`).
pub fn cells(row: &[Value]) -> Vec<String> {
    row.iter()
        .map(|v| match v {
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
                Some(x) => format!("{x}"),
                None => n.to_string(),
            },
            other => text(other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspections() -> Vec<Value> {
        vec![
            json!({"time": "2026-12-01T08:00:00.000Z", "stage": "iqc", "supplier": "SUP1", "result": "accepted", "defects": 0, "lot_size": 100}),
            json!({"time": "2026-12-02T08:00:00.000Z", "stage": "iqc", "supplier": "SUP1", "result": "rejected", "defects": 3, "lot_size": 50}),
            json!({"time": "2026-12-03T08:00:00.000Z", "stage": "iqc", "supplier": "SUP2", "result": "accepted", "defects": 1, "lot_size": 80}),
            json!({"time": "2026-11-01T08:00:00.000Z", "stage": "fqc", "supplier": null, "result": "accepted", "defects": 0, "lot_size": 600}),
        ]
    }

    fn by_supplier() -> Report {
        serde_json::from_value(json!({
            "code": "iqc-by-supplier", "name": {"zh": "来料检验（按供应商）", "en": "Incoming inspection by supplier"},
            "source": "inspections", "days": 30,
            "filters": [{"field": "stage", "op": "eq", "value": "iqc"}],
            "group_by": ["supplier"],
            "columns": [
                {"field": "supplier", "label": {"zh": "供应商", "en": "Supplier"}},
                {"field": "time", "label": {"zh": "批数", "en": "Lots"}, "agg": "count"},
                {"field": "defects", "label": {"zh": "缺陷", "en": "Defects"}, "agg": "sum"},
                {"field": "lot_size", "label": {"zh": "平均批量", "en": "Mean lot size"}, "agg": "avg"}
            ],
            "sort": [{"column": 2, "desc": true}]
        }))
        .expect("a report")
    }

    #[test]
    fn a_grouped_report_filters_aggregates_and_sorts() {
        let r = by_supplier();
        assert_eq!(r.problems(), Vec::new());
        let now = DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        let t = r.run(&inspections(), now);
        assert_eq!(
            t.rows,
            vec![
                vec![json!("SUP1"), json!(2), json!(3.0), json!(75.0)],
                vec![json!("SUP2"), json!(1), json!(1.0), json!(80.0)],
            ]
        );
        let csv = csv(&t, "en");
        assert!(
            csv.starts_with("\u{feff}Supplier,Lots,Defects,Mean lot size\r\nSUP1,2,3,75"),
            "{csv}"
        );
    }

    #[test]
    fn problems_name_each_wrong_field() {
        let mut r = by_supplier();
        r.filters[0].field = "colour".into();
        r.columns[2].agg = None;
        r.sort[0].column = 9;
        r.schedule = Some(Schedule {
            every: "hourly".into(),
            hour: 7,
            format: "doc".into(),
            to: vec!["qa".into()],
        });
        let at: Vec<String> = r.problems().into_iter().map(|p| p.field).collect();
        for f in [
            "filters/0/field",
            "columns/2/agg",
            "sort/0/column",
            "schedule/every",
            "schedule/format",
            "schedule/to/0",
        ] {
            assert!(at.contains(&f.to_string()), "{f}: {at:?}");
        }
    }
}
