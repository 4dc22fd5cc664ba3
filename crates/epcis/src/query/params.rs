//! Reading query parameter values: patterns, times, numbers, vocabulary terms, comparisons and lists.

#[allow(unused_imports)]
use super::*;

/// The Digital Link prefix of an EPC URN prefix with a complete company prefix and item reference
/// (`urn:epc:id:sgtin:0614141.107346.` → `https://id.gs1.org/01/10614141073464/21/`).
pub(super) fn dl_prefix(p: &str) -> Option<String> {
    let probe = format!("{p}X");
    suyuan_core::gs1::canonical_digital_link(&probe).map(|dl| dl[..dl.len() - 1].to_string())
}

pub(super) fn split(v: &str) -> Vec<String> {
    v.split('|')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub(super) fn time(p: &str, v: &str) -> Result<i64, QueryParamError> {
    parse_timestamp(v)
        .map(|t| unix_millis(&t))
        .map_err(|m| err(p, m))
}

pub(super) fn number(p: &str, v: &str) -> Result<f64, QueryParamError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| err(p, format!("expected a number, got \"{v}\"")))
}

pub(super) fn vocab(p: &str, voc: Vocab, v: &str) -> Result<Vec<String>, QueryParamError> {
    split(v)
        .iter()
        .map(|s| voc.normalise(s).map_err(|m| err(p, m)))
        .collect()
}

pub(super) fn cmp_of(op: &str) -> Option<Cmp> {
    Some(match op {
        "EQ" => Cmp::Eq,
        "GT" => Cmp::Gt,
        "GE" => Cmp::Ge,
        "LT" => Cmp::Lt,
        "LE" => Cmp::Le,
        _ => return None,
    })
}

pub(super) fn keys(v: &str) -> Vec<String> {
    split(v).iter().map(|s| object_key(s)).collect()
}

pub(super) fn patterns(v: &str) -> Vec<Pattern> {
    split(v).iter().map(|s| Pattern::parse(s)).collect()
}

pub(super) fn sensor_any(field: &'static str, v: &str) -> Filter {
    Filter::Sensor(SensorField::Report(field), SensorTest::Any(split(v)))
}

pub(super) fn str_of<'a>(e: &'a Value, k: &str) -> Option<&'a str> {
    e.get(k).and_then(Value::as_str)
}

pub(super) fn list<'a>(e: &'a Value, k: &str) -> impl Iterator<Item = &'a Value> {
    e.get(k).and_then(Value::as_array).into_iter().flatten()
}

pub(super) fn time_of(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_str)
        .and_then(|s| parse_timestamp(s).ok())
        .map(|t| unix_millis(&t))
}

pub(super) fn num_of(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

pub(super) fn cmp_f(c: Cmp, a: f64, b: f64) -> bool {
    a.partial_cmp(&b).is_some_and(|o| c.holds(o))
}
