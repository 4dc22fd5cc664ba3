//! A report's definition and its evaluation: rows of a source (flat JSON objects, each with a `time`)
//! kept by the report's period and filters, grouped with aggregates or listed, sorted, cut to a limit, and
//! laid out as the columns it names.

use serde::{Deserialize, Serialize};
use serde_json::Value;
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
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn inspections() -> Vec<Value> {
        vec![
            json!({"time": "2026-12-01T08:00:00.000Z", "stage": "iqc", "supplier": "SUP1", "result": "accepted", "defects": 0, "lot_size": 100}),
            json!({"time": "2026-12-02T08:00:00.000Z", "stage": "iqc", "supplier": "SUP1", "result": "rejected", "defects": 3, "lot_size": 50}),
            json!({"time": "2026-12-03T08:00:00.000Z", "stage": "iqc", "supplier": "SUP2", "result": "accepted", "defects": 1, "lot_size": 80}),
            json!({"time": "2026-11-01T08:00:00.000Z", "stage": "fqc", "supplier": null, "result": "accepted", "defects": 0, "lot_size": 600}),
        ]
    }

    pub(crate) fn by_supplier() -> Report {
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
