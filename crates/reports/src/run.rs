//! Running a report: the rows of its source kept by its period and filters, grouped with aggregates or
//! listed, sorted, cut to its limit and laid out as its columns; and a result as CSV or as text cells.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::report::{Agg, Column, Filter, Op, Report, Table};

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
    use crate::report::tests::{by_supplier, inspections};

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
}
