//! A form as a screen draws it: each field's input with its label, limits, choices, value and problem
//! ([`inputs`], for filling in and for the designer's preview), the submitted values read back from the
//! browser's fields ([`values_of`]), and a submission's values as lines a person reads ([`lines`]).

use serde_json::{Map, Value, json};
use suyuan_forms::form::{Field, Kind};
use suyuan_forms::{Form, Problem};

use crate::web::i18n::{Lang, Tr};
use crate::web::operations::num;

/// One input on the screen.
pub(crate) struct Input {
    /// The field key.
    pub key: String,
    /// The browser field's name (`lot`, `boxes.0.box`).
    pub name: String,
    /// The label.
    pub label: String,
    /// The kind (`text`, `number`, `scan`, …).
    pub kind: &'static str,
    /// It must be given.
    pub required: bool,
    /// The hint under it.
    pub help: String,
    /// The unit, limits and step of a number.
    pub unit: String,
    /// Least value.
    pub min: String,
    /// Greatest value.
    pub max: String,
    /// Step (from the decimals).
    pub step: String,
    /// Choices: (value, label, chosen).
    pub options: Vec<(String, String, bool)>,
    /// The value typed so far.
    pub value: String,
    /// Several lines of text.
    pub multiline: bool,
    /// A date without a time.
    pub date_only: bool,
    /// What a scan field fills (JSON: field → what), for the page's script.
    pub prefill: String,
    /// The table's columns (their labels) and rows.
    pub columns: Vec<Input>,
    /// The rows' inputs.
    pub rows: Vec<Vec<Input>>,
    /// What is wrong with it.
    pub error: String,
    /// It is shown only when a condition holds (the script asks the server).
    pub conditional: bool,
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.as_f64().map(num).unwrap_or_default(),
        Some(Value::Object(o)) => o
            .get("text")
            .or_else(|| o.get("sha256"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

/// The inputs of `fields` (browser names after `prefix`), with `values` typed so far and `problems`.
pub(crate) fn inputs(
    fields: &[Field],
    values: &Value,
    problems: &[Problem],
    lang: Lang,
    prefix: &str,
) -> Vec<Input> {
    let code = lang.code();
    fields
        .iter()
        .map(|f| {
            let name = format!("{prefix}{}", f.key);
            let path = name.replace('.', "/");
            let v = values.get(&f.key);
            let mut i = Input {
                key: f.key.clone(),
                name: name.clone(),
                label: f.label.get(code).to_string(),
                kind: f.kind.name(),
                required: f.required,
                help: f
                    .help
                    .as_ref()
                    .map(|h| h.get(code).to_string())
                    .unwrap_or_default(),
                unit: String::new(),
                min: String::new(),
                max: String::new(),
                step: String::new(),
                options: Vec::new(),
                value: text_of(v),
                multiline: false,
                date_only: false,
                prefill: String::new(),
                columns: Vec::new(),
                rows: Vec::new(),
                error: problems
                    .iter()
                    .filter(|p| p.field == path)
                    .map(|p| {
                        if lang == Lang::En {
                            p.en.clone()
                        } else {
                            p.zh.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                conditional: !f.visible_if.trim().is_empty(),
            };
            match &f.kind {
                Kind::Text { multiline, .. } => i.multiline = *multiline,
                Kind::Number {
                    unit,
                    min,
                    max,
                    decimals,
                } => {
                    i.unit = unit.clone().unwrap_or_default();
                    i.min = min.map(num).unwrap_or_default();
                    i.max = max.map(num).unwrap_or_default();
                    i.step = if *decimals == 0 {
                        "1".into()
                    } else {
                        format!("0.{}1", "0".repeat(usize::from(*decimals) - 1))
                    };
                }
                Kind::Calculated { unit, .. } => i.unit = unit.clone().unwrap_or_default(),
                Kind::Select { options } | Kind::MultiSelect { options } => {
                    let chosen: Vec<String> = match v {
                        Some(Value::Array(a)) => a.iter().map(|x| text_of(Some(x))).collect(),
                        other => vec![text_of(other)],
                    };
                    i.options = options
                        .iter()
                        .map(|o| {
                            (
                                o.value.clone(),
                                o.label.get(code).to_string(),
                                chosen.contains(&o.value),
                            )
                        })
                        .collect();
                }
                Kind::Datetime { date_only } => i.date_only = *date_only,
                Kind::Scan { prefill, .. } => {
                    let scope: Map<String, Value> = prefill
                        .iter()
                        .map(|(k, w)| (format!("{prefix}{k}"), json!(w)))
                        .collect();
                    i.prefill = Value::Object(scope).to_string();
                }
                Kind::Table { columns, min_rows } => {
                    i.columns = inputs(columns, &Value::Null, &[], lang, "");
                    let given = v.and_then(Value::as_array).cloned().unwrap_or_default();
                    let n = given.len().max(*min_rows as usize).max(2);
                    i.rows = (0..n)
                        .map(|r| {
                            inputs(
                                columns,
                                given.get(r).unwrap_or(&Value::Null),
                                problems,
                                lang,
                                &format!("{name}.{r}."),
                            )
                        })
                        .collect();
                }
                Kind::Photo | Kind::Signature => {}
            }
            i
        })
        .collect()
}

/// The values a browser sent (`name=value` pairs, repeated for a multi-select, `table.row.column` for a
/// table's cells) as the JSON a submission takes.
pub(crate) fn values_of(form: &Form, pairs: &[(String, String)]) -> Value {
    let mut out = Map::new();
    for f in &form.fields {
        let given: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == f.key)
            .map(|(_, v)| v.as_str())
            .collect();
        match &f.kind {
            Kind::MultiSelect { .. } => {
                out.insert(f.key.clone(), json!(given));
            }
            Kind::Table { .. } => {
                let mut rows: Vec<Map<String, Value>> = Vec::new();
                let head = format!("{}.", f.key);
                for (k, v) in pairs {
                    let Some(rest) = k.strip_prefix(&head) else {
                        continue;
                    };
                    let Some((r, col)) = rest.split_once('.') else {
                        continue;
                    };
                    let Ok(r) = r.parse::<usize>() else { continue };
                    if r >= 1000 {
                        continue;
                    }
                    while rows.len() <= r {
                        rows.push(Map::new());
                    }
                    rows[r].insert(col.to_string(), json!(v));
                }
                out.insert(f.key.clone(), json!(rows));
            }
            _ => {
                if let Some(v) = given.first() {
                    out.insert(f.key.clone(), json!(v));
                }
            }
        }
    }
    Value::Object(out)
}

/// One line of a submission as shown: the label, the value as text, a picture's SHA-256, or a table.
pub(crate) struct Line {
    /// The field's label.
    pub label: String,
    /// The value as text.
    pub text: String,
    /// A photo or signature.
    pub picture: String,
    /// A table's header and rows.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
}

fn shown(f: &Field, v: &Value, tr: Tr) -> String {
    let code = tr.lang.code();
    match (&f.kind, v) {
        (Kind::Select { options } | Kind::MultiSelect { options }, _) => {
            let list: Vec<String> = match v {
                Value::Array(a) => a.iter().map(|x| text_of(Some(x))).collect(),
                other => vec![text_of(Some(other))],
            };
            list.iter()
                .map(|x| {
                    options
                        .iter()
                        .find(|o| &o.value == x)
                        .map(|o| o.label.get(code).to_string())
                        .unwrap_or_else(|| x.clone())
                })
                .collect::<Vec<_>>()
                .join("、")
        }
        (Kind::Number { unit, .. } | Kind::Calculated { unit, .. }, _) => {
            format!("{} {}", text_of(Some(v)), unit.clone().unwrap_or_default())
                .trim()
                .to_string()
        }
        (Kind::Scan { .. }, Value::Object(o)) => {
            let text = o.get("text").and_then(Value::as_str).unwrap_or("");
            let key = o.get("key").and_then(Value::as_str).unwrap_or("");
            if text == key {
                key.to_string()
            } else {
                format!("{text} → {key}")
            }
        }
        _ => text_of(Some(v)),
    }
}

/// A submission's `values` as `form` (the version it was made with) shows them.
pub(crate) fn lines(form: &Form, values: &Value, tr: Tr) -> Vec<Line> {
    let code = tr.lang.code();
    form.fields
        .iter()
        .filter_map(|f| {
            let v = values.get(&f.key)?;
            let label = f.label.get(code).to_string();
            Some(match &f.kind {
                Kind::Photo | Kind::Signature => Line {
                    label,
                    text: String::new(),
                    picture: text_of(Some(v)),
                    table: None,
                },
                Kind::Table { columns, .. } => {
                    let head = columns
                        .iter()
                        .map(|c| c.label.get(code).to_string())
                        .collect();
                    let rows = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            columns
                                .iter()
                                .map(|c| r.get(&c.key).map(|x| shown(c, x, tr)).unwrap_or_default())
                                .collect()
                        })
                        .collect();
                    Line {
                        label,
                        text: String::new(),
                        picture: String::new(),
                        table: Some((head, rows)),
                    }
                }
                _ => Line {
                    label,
                    text: shown(f, v, tr),
                    picture: String::new(),
                    table: None,
                },
            })
        })
        .collect()
}
