//! A dashboard's definition: a grid of widgets, each over a named metric or a report, drawn as a number,
//! a line, bars, stacked bars, a pie, a table or a gauge, one or two columns wide, opening a list when
//! clicked. The plant's home page is the built-in dashboard, a definition like any other.

use serde::{Deserialize, Serialize};
use suyuan_forms::{Problem, Text};

/// How a widget draws.
pub const CHARTS: [&str; 7] = ["number", "line", "bars", "stacked", "pie", "rows", "gauge"];

/// One widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Widget {
    /// Its title.
    pub title: Text,
    /// The metric it shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The report it shows (its first column the categories, numeric columns the series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// How it draws (see [`CHARTS`]).
    pub chart: String,
    /// Two columns wide.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wide: bool,
    /// The list a click opens (`{key}` the category, `{series}` the series, `{from}`/`{to}` the range).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub drill: String,
    /// A gauge's full scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Its code (`home` is the plant's home page).
    pub code: String,
    /// Its title.
    pub name: Text,
    /// Its widgets, in grid order.
    pub widgets: Vec<Widget>,
}

fn problem(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem::new(field, en, zh)
}

impl Dashboard {
    /// What is wrong with the definition, given the metrics and reports that exist.
    pub fn problems(&self, metrics: &[String], reports: &[String]) -> Vec<Problem> {
        let mut out: Vec<Problem> = suyuan_forms::code_problem(&self.code).into_iter().collect();
        if self.name.zh.trim().is_empty() {
            out.push(problem("name/zh", "a title", "看板名称"));
        }
        if self.widgets.is_empty() {
            out.push(problem("widgets", "at least one widget", "至少一个组件"));
        }
        for (i, w) in self.widgets.iter().enumerate() {
            let at = |f: &str| format!("widgets/{i}/{f}");
            if w.title.zh.trim().is_empty() {
                out.push(problem(&at("title/zh"), "a title", "组件标题"));
            }
            match (&w.metric, &w.report) {
                (Some(m), None) if !metrics.contains(m) => out.push(problem(
                    &at("metric"),
                    format!("one of {} ('{m}' is not one)", metrics.join(", ")),
                    format!("已有指标之一（没有“{m}”）"),
                )),
                (None, Some(r)) if !reports.contains(r) => out.push(problem(
                    &at("report"),
                    format!("a saved report ('{r}' is not one)"),
                    format!("已保存的报表（没有“{r}”）"),
                )),
                (Some(_), None) | (None, Some(_)) => {}
                _ => out.push(problem(
                    &at("metric"),
                    "either a metric or a report",
                    "指标或报表，二选一",
                )),
            }
            if !CHARTS.contains(&w.chart.as_str()) {
                out.push(problem(
                    &at("chart"),
                    format!("one of {}", CHARTS.join(", ")),
                    format!("以下之一：{}", CHARTS.join("、")),
                ));
            }
            if w.chart == "gauge" && w.max.is_none_or(|m| m <= 0.0) {
                out.push(problem(
                    &at("max"),
                    "the gauge's full scale, above 0",
                    "仪表盘满量程（大于 0）",
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_widget_needs_one_known_source_and_a_chart() {
        let d: Dashboard = serde_json::from_value(json!({
            "code": "quality", "name": {"zh": "质量看板"},
            "widgets": [
                {"title": {"zh": "一次合格率"}, "metric": "quality_first_pass", "chart": "bars"},
                {"title": {"zh": "来料"}, "report": "iqc-by-supplier", "chart": "rows", "wide": true},
                {"title": {"zh": "坏"}, "metric": "nope", "chart": "donut"},
                {"title": {"zh": "表"}, "chart": "gauge"}
            ]
        }))
        .expect("a dashboard");
        let metrics = vec!["quality_first_pass".to_string()];
        let reports = vec!["iqc-by-supplier".to_string()];
        let at: Vec<String> = d
            .problems(&metrics, &reports)
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            at,
            vec![
                "widgets/2/metric",
                "widgets/2/chart",
                "widgets/3/metric",
                "widgets/3/max"
            ]
        );
    }
}
