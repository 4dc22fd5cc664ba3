//! Process parameters from equipment: the MQTT topic `suyuan/{site}/{line}/{station}/{equipment}/params` and
//! its JSON payload (one reading or a list: `time`, `parameter`, `value`, `unit`), read with located errors,
//! and the check of a value against the routing's limits.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a reading came from, by its topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Site code.
    pub site: String,
    /// Line code.
    pub line: String,
    /// Station code.
    pub station: String,
    /// Equipment code.
    pub equipment: String,
}

/// One process parameter reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// When it was measured (RFC 3339).
    pub time: String,
    /// The parameter's name (as the routing names it).
    pub parameter: String,
    /// The value.
    pub value: f64,
    /// Its unit (UN/CEFACT code or text).
    pub unit: String,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// The topic is not `suyuan/{site}/{line}/{station}/{equipment}/params`.
    #[error("topic '{0}' is not suyuan/{{site}}/{{line}}/{{station}}/{{equipment}}/params")]
    Topic(String),
    /// The payload is not JSON, or a field is wrong.
    #[error("{pointer}: {expected}")]
    Payload {
        /// Where, as a JSON pointer.
        pointer: String,
        /// What was expected.
        expected: String,
    },
}

/// The topic filter a subscriber uses.
pub const TOPIC_FILTER: &str = "suyuan/+/+/+/+/params";

/// Reads a topic.
pub fn source(topic: &str) -> Result<Source, ParamError> {
    let parts: Vec<&str> = topic.split('/').collect();
    match parts.as_slice() {
        ["suyuan", site, line, station, equipment, "params"]
            if [site, line, station, equipment]
                .iter()
                .all(|p| !p.is_empty()) =>
        {
            Ok(Source {
                site: (*site).into(),
                line: (*line).into(),
                station: (*station).into(),
                equipment: (*equipment).into(),
            })
        }
        _ => Err(ParamError::Topic(topic.into())),
    }
}

fn payload_error(pointer: String, expected: &str) -> ParamError {
    ParamError::Payload {
        pointer,
        expected: expected.into(),
    }
}

fn reading(v: &Value, base: &str) -> Result<Reading, ParamError> {
    let o = v.as_object().ok_or_else(|| {
        payload_error(
            base.to_string(),
            "an object with time, parameter, value, unit",
        )
    })?;
    let text = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let time =
        text("time").ok_or_else(|| payload_error(format!("{base}/time"), "a time (RFC 3339)"))?;
    let parsed = chrono::DateTime::parse_from_rfc3339(&time)
        .map_err(|_| payload_error(format!("{base}/time"), "a time (RFC 3339, with its offset)"))?;
    let parameter = text("parameter")
        .ok_or_else(|| payload_error(format!("{base}/parameter"), "the parameter's name"))?;
    let value = o
        .get("value")
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite())
        .ok_or_else(|| payload_error(format!("{base}/value"), "a number"))?;
    let unit = text("unit").unwrap_or_default();
    Ok(Reading {
        time: parsed
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        parameter,
        value,
        unit,
    })
}

/// Reads a payload: one reading or a list of them (at most 1,000).
pub fn readings(payload: &[u8]) -> Result<Vec<Reading>, ParamError> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| payload_error(String::new(), &format!("JSON ({e})")))?;
    match &v {
        Value::Array(list) if list.len() <= 1000 && !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, r)| reading(r, &format!("/{i}")))
            .collect(),
        Value::Array(_) => Err(payload_error(
            String::new(),
            "a list of 1 to 1,000 readings",
        )),
        _ => Ok(vec![reading(&v, "")?]),
    }
}

/// A reading outside its limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Excursion {
    /// The limit broken: `min` or `max`.
    pub limit: &'static str,
    /// The limit's value.
    pub bound: f64,
}

/// Whether `value` breaks `min`/`max`.
pub fn excursion(value: f64, min: Option<f64>, max: Option<f64>) -> Option<Excursion> {
    if let Some(lo) = min
        && value < lo
    {
        return Some(Excursion {
            limit: "min",
            bound: lo,
        });
    }
    if let Some(hi) = max
        && value > hi
    {
        return Some(Excursion {
            limit: "max",
            bound: hi,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_payloads_are_read_with_located_errors() {
        let s = source("suyuan/P1/L1/S3/SD-01/params").expect("topic");
        assert_eq!(s.equipment, "SD-01");
        assert!(source("suyuan/P1/L1/S3/params").is_err());
        let r = readings(br#"{"time":"2026-12-07T08:00:00+08:00","parameter":"inlet","value":181.5,"unit":"CEL"}"#)
            .expect("one");
        assert_eq!(r[0].time, "2026-12-07T00:00:00.000Z");
        let e = readings(br#"[{"time":"2026-12-07T08:00:00Z","parameter":"x","value":"hot"}]"#)
            .expect_err("bad");
        assert_eq!(
            e,
            ParamError::Payload {
                pointer: "/0/value".into(),
                expected: "a number".into()
            }
        );
        assert!(readings(b"not json").is_err());
        assert_eq!(
            excursion(190.0, Some(170.0), Some(185.0)).map(|x| x.limit),
            Some("max")
        );
        assert_eq!(excursion(180.0, Some(170.0), Some(185.0)), None);
    }
}
