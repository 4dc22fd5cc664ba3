//! Process parameters, from the station screen or from equipment over MQTT: readings of one station and
//! piece of equipment are recorded as one `sensor_reporting` event on the work order running on that line
//! (and its output lot), with the readings in its sensorElementList; a reading outside the routing's
//! limits raises an alert.

use serde::Serialize;
use serde_json::{Value, json};
use suyuan_ops::params::{Reading, Source, excursion};
use suyuan_ops::workorder::WoState;

use super::master::place_uri;
use super::{OpsError, event};
use crate::Engine;

/// What recording a batch of readings did.
#[derive(Debug, Clone, Serialize)]
pub struct ParamsRecorded {
    /// The event recording them.
    pub event: String,
    /// The work order they were bound to, if one was running.
    pub work_order: Option<String>,
    /// Readings outside their limits (an alert was raised for each).
    pub excursions: usize,
}

fn sensor_type(unit: &str) -> Option<&'static str> {
    match unit {
        "CEL" | "FAH" | "KEL" => Some("Temperature"),
        "BAR" | "PAL" | "KPA" | "MBR" => Some("AbsolutePressure"),
        "KGM" | "GRM" => Some("Mass"),
        "P1" => Some("Dimensionless"),
        _ => None,
    }
}

impl Engine {
    /// Records readings from one station's equipment.
    pub async fn record_parameters(
        &self,
        source: &Source,
        readings: &[Reading],
    ) -> Result<ParamsRecorded, OpsError> {
        if readings.is_empty() {
            return Err(super::problem("readings", "at least one reading"));
        }
        let records = self.records().await?;
        if records.text("location", &source.station, "level") != Some("station") {
            return Err(OpsError::NotFound(format!("station '{}'", source.station)));
        }
        let (wo, product, lot) = {
            let ops = self.operations().await?;
            let running = ops
                .orders
                .all()
                .filter(|w| {
                    w.line == source.line && matches!(w.state, WoState::Started | WoState::Released)
                })
                .max_by(|a, b| a.times.get("started").cmp(&b.times.get("started")));
            match running {
                Some(w) => (Some(w.id.clone()), w.product.clone(), w.lot.clone()),
                None => (None, String::new(), String::new()),
            }
        };
        let limits: Vec<(String, Option<f64>, Option<f64>)> = records
            .of("routing")
            .iter()
            .filter(|(_, r, _)| {
                r.get("station").and_then(Value::as_str) == Some(&source.station)
                    && (product.is_empty()
                        || r.get("product").and_then(Value::as_str) == Some(&product))
            })
            .filter_map(|(_, r, _)| {
                Some((
                    r.get("parameter")?.as_str()?.to_string(),
                    r.get("min").and_then(Value::as_f64),
                    r.get("max").and_then(Value::as_f64),
                ))
            })
            .collect();
        let mut excursions = Vec::new();
        let reports: Vec<Value> = readings
            .iter()
            .map(|r| {
                let mut rep =
                    json!({"time": r.time, "value": r.value, "sy:parameter": r.parameter});
                if !r.unit.is_empty() {
                    rep["uom"] = json!(r.unit);
                }
                if let Some(t) = sensor_type(&r.unit) {
                    rep["type"] = json!(t);
                }
                if let Some((_, lo, hi)) = limits.iter().find(|(p, _, _)| *p == r.parameter)
                    && let Some(x) = excursion(r.value, *lo, *hi)
                {
                    rep["sy:limit"] = json!(x.limit);
                    rep["sy:bound"] = json!(x.bound);
                    excursions.push((r.clone(), x));
                }
                rep
            })
            .collect();
        let place = place_uri(
            records
                .text("location", &source.station, "gln")
                .unwrap_or(&source.station),
        );
        let last = readings
            .iter()
            .map(|r| r.time.as_str())
            .max()
            .unwrap_or_default()
            .to_string();
        let mut v = json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": last, "eventTimeZoneOffset": "+00:00",
            "bizStep": "sensor_reporting", "readPoint": {"id": place},
            "sensorElementList": [{"sensorMetadata": {"deviceID": format!("urn:suyuan:plant:equipment:{}", source.equipment)},
                "sensorReport": reports}],
            "sy:station": source.station, "sy:line": source.line, "sy:equipment": source.equipment,
        });
        match &wo {
            Some(id) => {
                v["epcList"] = json!([id]);
                v["sy:workOrder"] = json!(id);
                v["bizTransactionList"] = json!([{"type": "prodorder", "bizTransaction": id}]);
                if product.bytes().all(|b| b.is_ascii_digit()) && !lot.is_empty() {
                    v["quantityList"] =
                        json!([{"epcClass": format!("https://id.gs1.org/01/{product}/10/{lot}")}]);
                }
            }
            None => {
                v["epcList"] = json!([format!("urn:suyuan:plant:equipment:{}", source.equipment)])
            }
        }
        let out = self.record(vec![event(v)?]).await?;
        let event_id = out
            .events
            .first()
            .map(|a| a.event_id.clone())
            .unwrap_or_default();
        for (r, x) in &excursions {
            self.raise_alert(
                suyuan_ops::alerts::AlertKind::Parameter,
                &format!("{}/{}/{}", event_id, r.parameter, r.time),
                json!({"station": source.station, "equipment": source.equipment, "parameter": r.parameter,
                    "value": r.value, "unit": r.unit, "limit": x.limit, "bound": x.bound, "time": r.time,
                    "work_order": wo, "event": event_id}),
            )
            .await?;
        }
        metrics::counter!("suyuan_parameter_readings_total").increment(readings.len() as u64);
        Ok(ParamsRecorded {
            event: event_id,
            work_order: wo,
            excursions: excursions.len(),
        })
    }
}
