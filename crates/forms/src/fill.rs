//! Checking a submission against its form: scanned objects prefill the fields they name, calculated
//! fields are computed, fields whose condition does not hold are left out, and every value is checked
//! against its kind — each problem names the field (`temp`, `rows/1/lot`) in both languages.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use suyuan_rules::Expression;

use crate::form::{Field, Form, Kind, Problem, Role, problem};
use crate::scan::{Found, Scanned};

/// A scanned object that stands for something in the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The field it was given in (`lot`, `boxes/0/box`).
    pub field: String,
    /// Its role.
    pub role: Role,
    /// The code, read.
    pub scanned: Scanned,
    /// The quantity of a lot, from the field the scan field names.
    pub quantity: Option<f64>,
}

/// A checked submission: the values by field key (hidden fields left out, tables as lists of rows) and
/// the objects the event names.
#[derive(Debug, Clone, PartialEq)]
pub struct Filled {
    /// The values.
    pub values: Map<String, Value>,
    /// The scanned objects with a role.
    pub placed: Vec<Placed>,
}

/// The texts given to scan fields (in the form and in table rows), for the engine to look up.
pub fn scan_texts(form: &Form, raw: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).map(str::to_string);
    for f in &form.fields {
        match &f.kind {
            Kind::Scan { .. } => out.extend(text(raw.get(&f.key))),
            Kind::Table { columns, .. } => {
                for row in raw
                    .get(&f.key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for c in columns
                        .iter()
                        .filter(|c| matches!(c.kind, Kind::Scan { .. }))
                    {
                        out.extend(text(row.get(&c.key)));
                    }
                }
            }
            _ => {}
        }
    }
    out.retain(|t| !t.is_empty());
    out.sort();
    out.dedup();
    out
}

/// Checks `raw` (field key → value as sent) against `form`, with what the engine found for each scanned
/// text (`resolved`; a text missing from it is not a code the plant knows).
pub fn check(
    form: &Form,
    raw: &Value,
    resolved: &BTreeMap<String, (Scanned, Found)>,
) -> Result<Filled, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut placed = Vec::new();
    let given = raw.as_object().cloned().unwrap_or_default();
    let mut values = Map::new();
    let scope = Scope {
        resolved,
        fields: &form.fields,
        prefix: "",
    };
    scope.fill(&given, &mut values, None, &mut placed, &mut problems);
    if problems.is_empty() {
        Ok(Filled { values, placed })
    } else {
        Err(problems)
    }
}

struct Scope<'a> {
    resolved: &'a BTreeMap<String, (Scanned, Found)>,
    fields: &'a [Field],
    prefix: &'a str,
}

impl Scope<'_> {
    /// Fills `out` from `given` for this scope's fields; `form` is the whole form's values when this scope
    /// is a table row.
    fn fill(
        &self,
        given: &Map<String, Value>,
        out: &mut Map<String, Value>,
        form: Option<&Value>,
        placed: &mut Vec<Placed>,
        problems: &mut Vec<Problem>,
    ) {
        let mut given = given.clone();
        // Scanned objects fill the fields they name when the person left them empty.
        for f in self.fields {
            if let Kind::Scan { prefill, .. } = &f.kind
                && let Some((_, found)) =
                    text_of(given.get(&f.key)).and_then(|t| self.resolved.get(t))
            {
                for (target, what) in prefill {
                    if is_empty(given.get(target))
                        && let Some(v) = found.value(what)
                    {
                        given.insert(target.clone(), json!(v));
                    }
                }
            }
        }
        let at = |k: &str| format!("{}{k}", self.prefix);
        for f in self.fields {
            if matches!(f.kind, Kind::Calculated { .. }) {
                continue;
            }
            let v = given.get(&f.key);
            if is_empty(v) {
                continue;
            }
            match self.value(
                f,
                v.unwrap_or(&Value::Null),
                &at(&f.key),
                form,
                placed,
                problems,
            ) {
                Some(x) => {
                    out.insert(f.key.clone(), x);
                }
                None => continue,
            }
        }
        // Calculated fields, in order, each seeing the ones before it.
        for f in self.fields {
            if let Kind::Calculated { expr, decimals, .. } = &f.kind {
                let here = Value::Object(out.clone());
                let (form_v, row_v) = bind(form, &here);
                if let Some(n) = calculate(expr, *decimals, form_v, row_v) {
                    out.insert(f.key.clone(), n);
                }
            }
        }
        // Conditional fields: left out when their condition does not hold (or cannot be checked yet).
        let mut hidden: Vec<&str> = Vec::new();
        for f in self.fields {
            if f.visible_if.trim().is_empty() {
                continue;
            }
            let here = Value::Object(out.clone());
            let (form_v, row_v) = bind(form, &here);
            if shown(&f.visible_if, form_v, row_v) {
                continue;
            }
            hidden.push(&f.key);
            // What the hidden field (or its rows) said goes with it; `lot` is not `lot_size`.
            let here = at(&f.key);
            let within = |path: &str| {
                path == here
                    || path
                        .strip_prefix(here.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            };
            out.remove(&f.key);
            placed.retain(|p: &Placed| !within(&p.field));
            problems.retain(|p| !within(&p.field));
        }
        for f in self.fields {
            let visible = !hidden.contains(&f.key.as_str());
            let done = out.contains_key(&f.key) || problems.iter().any(|p| p.field == at(&f.key));
            if f.required && visible && !done {
                problems.push(problem(
                    &at(&f.key),
                    format!("a value for \"{}\"", f.label.get("en")),
                    format!("请填写“{}”", f.label.zh),
                ));
            }
        }
        // A lot's quantity comes from the field its scan field names.
        for f in self.fields {
            if let Kind::Scan {
                quantity_field: Some(q),
                ..
            } = &f.kind
            {
                let here = at(&f.key);
                for p in placed.iter_mut().filter(|p| p.field == here) {
                    p.quantity = out.get(q).and_then(Value::as_f64);
                }
            }
        }
    }

    /// The checked value of field `f` given `v` (not empty), or `None` with the problem recorded.
    fn value(
        &self,
        f: &Field,
        v: &Value,
        at: &str,
        form: Option<&Value>,
        placed: &mut Vec<Placed>,
        problems: &mut Vec<Problem>,
    ) -> Option<Value> {
        let label_en = f.label.get("en");
        let label_zh = &f.label.zh;
        let mut bad = |en: String, zh: String| {
            problems.push(problem(at, en, zh));
            None
        };
        match &f.kind {
            Kind::Text { max_len, .. } => {
                let Some(s) = v.as_str().map(str::trim) else {
                    return bad(
                        format!("text for \"{label_en}\""),
                        format!("“{label_zh}”应为文本"),
                    );
                };
                if let Some(m) = max_len
                    && s.chars().count() > *m as usize
                {
                    return bad(
                        format!("at most {m} characters for \"{label_en}\""),
                        format!("“{label_zh}”最多 {m} 个字符"),
                    );
                }
                Some(json!(s))
            }
            Kind::Number {
                min,
                max,
                decimals,
                unit,
            } => {
                let n = match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
                    _ => None,
                };
                let Some(n) = n else {
                    return bad(
                        format!("a number for \"{label_en}\""),
                        format!("“{label_zh}”应为数字"),
                    );
                };
                let unit = unit.as_deref().unwrap_or("");
                if let Some(lo) = min
                    && n < *lo
                {
                    return bad(
                        format!("at least {lo} {unit} for \"{label_en}\", got {n}"),
                        format!("“{label_zh}”不得小于 {lo} {unit}，填写的是 {n}"),
                    );
                }
                if let Some(hi) = max
                    && n > *hi
                {
                    return bad(
                        format!("at most {hi} {unit} for \"{label_en}\", got {n}"),
                        format!("“{label_zh}”不得大于 {hi} {unit}，填写的是 {n}"),
                    );
                }
                if (round(n, *decimals) - n).abs() > 1e-9 {
                    return bad(
                        format!("at most {decimals} decimals for \"{label_en}\""),
                        format!("“{label_zh}”最多 {decimals} 位小数"),
                    );
                }
                Some(json!(n))
            }
            Kind::Select { options } => {
                let s = v.as_str().map(str::trim).unwrap_or("");
                if options.iter().any(|o| o.value == s) {
                    Some(json!(s))
                } else {
                    let list: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                    bad(
                        format!("one of {} for \"{label_en}\"", list.join(", ")),
                        format!("“{label_zh}”应为以下之一：{}", list.join("、")),
                    )
                }
            }
            Kind::MultiSelect { options } => {
                let chosen: Vec<String> = match v {
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                    Value::String(s) => s
                        .split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect(),
                    _ => Vec::new(),
                };
                let list: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                if chosen.is_empty() || chosen.iter().any(|c| !list.contains(&c.as_str())) {
                    return bad(
                        format!("some of {} for \"{label_en}\"", list.join(", ")),
                        format!("“{label_zh}”应从以下选择：{}", list.join("、")),
                    );
                }
                Some(json!(chosen))
            }
            Kind::Datetime { date_only } => {
                let s = v.as_str().map(str::trim).unwrap_or("");
                match datetime(s, *date_only) {
                    Some(x) => Some(json!(x)),
                    None if *date_only => bad(
                        format!("a date as YYYY-MM-DD for \"{label_en}\", got '{s}'"),
                        format!("“{label_zh}”应为日期 YYYY-MM-DD，填写的是“{s}”"),
                    ),
                    None => bad(
                        format!(
                            "a date and time as YYYY-MM-DDTHH:MM for \"{label_en}\", got '{s}'"
                        ),
                        format!("“{label_zh}”应为日期时间 YYYY-MM-DDTHH:MM，填写的是“{s}”"),
                    ),
                }
            }
            Kind::Scan {
                role,
                require_ai,
                object_kind,
                coding_rule,
                must_exist,
                ..
            } => {
                let text = v.as_str().map(str::trim).unwrap_or("");
                let Some((scanned, found)) = self.resolved.get(text) else {
                    let why = Scanned::read(text).err().unwrap_or_default();
                    return bad(
                        format!(
                            "\"{label_en}\": {}",
                            if why.0.is_empty() {
                                "a code the plant knows".into()
                            } else {
                                why.0
                            }
                        ),
                        format!(
                            "“{label_zh}”：{}",
                            if why.1.is_empty() {
                                "本厂已知的编码".into()
                            } else {
                                why.1
                            }
                        ),
                    );
                };
                if let Some(ai) = require_ai
                    && !scanned.ais.contains_key(ai)
                {
                    return bad(
                        format!("a code carrying AI ({ai}) for \"{label_en}\", got {text}"),
                        format!("“{label_zh}”的编码须含 AI ({ai})，扫描的是 {text}"),
                    );
                }
                if let Some(k) = object_kind
                    && scanned.kind != *k
                {
                    return bad(
                        format!(
                            "a code of a {k} for \"{label_en}\", got a {} ({text})",
                            scanned.kind
                        ),
                        format!(
                            "“{label_zh}”须为 {k} 编码，扫描的是 {}（{text}）",
                            scanned.kind
                        ),
                    );
                }
                if let Some(r) = coding_rule
                    && found.rule.as_deref() != Some(r.as_str())
                {
                    return bad(
                        format!("a code issued by coding rule {r} for \"{label_en}\", got {text}"),
                        format!("“{label_zh}”须为编码规则 {r} 签发的编码，扫描的是 {text}"),
                    );
                }
                if *must_exist && !found.exists {
                    return bad(
                        format!(
                            "an object already on the ledger for \"{label_en}\" ({text} is not)"
                        ),
                        format!("“{label_zh}”须为台账中已有的对象（{text} 没有记录）"),
                    );
                }
                if *role != Role::None {
                    placed.push(Placed {
                        field: at.to_string(),
                        role: *role,
                        scanned: scanned.clone(),
                        quantity: None,
                    });
                }
                Some(json!({"text": text, "key": scanned.key, "kind": scanned.kind}))
            }
            Kind::Photo | Kind::Signature => {
                let sha = v
                    .as_str()
                    .or_else(|| v.get("sha256").and_then(Value::as_str))
                    .unwrap_or("");
                if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return bad(
                        format!("an uploaded picture (its SHA-256) for \"{label_en}\""),
                        format!("“{label_zh}”应为已上传的图片（SHA-256）"),
                    );
                }
                let name = v.get("name").and_then(Value::as_str).unwrap_or("");
                Some(json!({"sha256": sha.to_ascii_lowercase(), "name": name}))
            }
            Kind::Table { columns, min_rows } => {
                let Some(rows) = v.as_array() else {
                    return bad(
                        format!("rows for \"{label_en}\""),
                        format!("“{label_zh}”应为若干行"),
                    );
                };
                let rows: Vec<&Map<String, Value>> = rows
                    .iter()
                    .filter_map(Value::as_object)
                    .filter(|r| r.values().any(|x| !is_empty(Some(x))))
                    .collect();
                if rows.len() < *min_rows as usize {
                    return bad(
                        format!("at least {min_rows} rows for \"{label_en}\""),
                        format!("“{label_zh}”至少 {min_rows} 行"),
                    );
                }
                let whole = form.cloned().unwrap_or(Value::Null);
                let mut out_rows = Vec::new();
                for (i, row) in rows.iter().enumerate() {
                    let prefix = format!("{at}/{i}/");
                    let scope = Scope {
                        resolved: self.resolved,
                        fields: columns,
                        prefix: &prefix,
                    };
                    let mut out = Map::new();
                    scope.fill(row, &mut out, Some(&whole), placed, problems);
                    out_rows.push(Value::Object(out));
                }
                Some(Value::Array(out_rows))
            }
            Kind::Calculated { .. } => None,
        }
    }
}

fn text_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).map(str::trim)
}

/// What a scope's expressions read as `form` and `row`: the whole form's values and, in a table row, the
/// row's (`here`); outside a table `here` is the form and there is no row.
fn bind<'a>(form: Option<&'a Value>, here: &'a Value) -> (&'a Value, &'a Value) {
    match form {
        Some(whole) => (whole, here),
        None => (here, &Value::Null),
    }
}

/// The value of formula `expr` with `form` and `row` bound, rounded to `decimals`; `None` while it cannot
/// be computed (a field it reads is still empty).
pub(crate) fn calculate(expr: &str, decimals: u8, form: &Value, row: &Value) -> Option<Value> {
    let n = Expression::compile(expr, &["form", "row"])
        .ok()?
        .eval(&[("form", form), ("row", row)])
        .ok()?
        .as_f64()?;
    Some(json!(round(n, decimals)))
}

/// Whether a field with condition `visible_if` is shown (no condition: always); a condition that cannot
/// be checked yet hides its field.
pub(crate) fn shown(visible_if: &str, form: &Value, row: &Value) -> bool {
    visible_if.trim().is_empty()
        || Expression::compile(visible_if, &["form", "row"])
            .ok()
            .and_then(|e| e.check(&[("form", form), ("row", row)]).ok())
            .unwrap_or(false)
}

pub(crate) fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

pub(crate) fn round(n: f64, decimals: u8) -> f64 {
    let f = 10f64.powi(i32::from(decimals.min(9)));
    (n * f).round() / f
}

/// `s` as a date (`YYYY-MM-DD`) or a date and time (`YYYY-MM-DDTHH:MM[:SS][offset]`), normalised.
fn datetime(s: &str, date_only: bool) -> Option<String> {
    let date_ok = |d: &str| {
        let b = d.as_bytes();
        d.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && d.bytes()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
            && (1..=12).contains(&d[5..7].parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&d[8..10].parse::<u32>().unwrap_or(0))
    };
    if date_only {
        return date_ok(s).then(|| s.to_string());
    }
    let (d, rest) = s.split_once(['T', ' '])?;
    if !date_ok(d) {
        return None;
    }
    let (clock, offset) = match rest.find(['+', '-', 'Z']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let parts: Vec<u32> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let offset_ok =
        offset.is_empty() || offset == "Z" || (offset.len() == 6 && offset.as_bytes()[3] == b':');
    offset_ok.then(|| format!("{d}T{h:02}:{m:02}:{sec:02}{offset}"))
}

#[cfg(test)]
pub(crate) mod tests;
