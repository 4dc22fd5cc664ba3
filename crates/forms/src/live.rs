//! What a screen shows while a person fills a form in: which fields the values so far hide, and what the
//! calculated fields come to — the server evaluates the form's expressions, the browser never does.

use crate::fill::{calculate, is_empty, shown};
use crate::form::{Form, Kind};
use serde_json::{Map, Value, json};

/// What a screen shows while a person fills the form: the top-level fields hidden by their condition and
/// the calculated fields' values, from the values typed so far (numbers as typed are read as numbers).
pub fn live(form: &Form, raw: &Value) -> (Vec<String>, Map<String, Value>) {
    let mut values = Map::new();
    for f in &form.fields {
        let Some(v) = raw.get(&f.key).filter(|v| !is_empty(Some(v))) else {
            continue;
        };
        let v = match (&f.kind, v) {
            (Kind::Number { .. }, Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => json!(n),
                _ => continue,
            },
            _ => v.clone(),
        };
        values.insert(f.key.clone(), v);
    }
    let mut calculated = Map::new();
    for f in &form.fields {
        if let Kind::Calculated { expr, decimals, .. } = &f.kind
            && let Some(n) = calculate(
                expr,
                *decimals,
                &Value::Object(values.clone()),
                &Value::Null,
            )
        {
            values.insert(f.key.clone(), n.clone());
            calculated.insert(f.key.clone(), n);
        }
    }
    let here = Value::Object(values);
    let hidden = form
        .fields
        .iter()
        .filter(|f| !shown(&f.visible_if, &here, &Value::Null))
        .map(|f| f.key.clone())
        .collect();
    (hidden, calculated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fill::tests::receiving;

    #[test]
    fn a_screen_learns_what_to_hide_and_compute() {
        let (hidden, calculated) = live(&receiving(), &json!({"gross": "12.5", "result": "ok"}));
        assert_eq!(hidden, vec!["why".to_string()]);
        assert_eq!(calculated["net"], json!(12.0));
        let (hidden, _) = live(&receiving(), &json!({"result": "fail"}));
        assert!(hidden.is_empty());
    }
}
