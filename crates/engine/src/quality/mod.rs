//! Quality over the one write path: inspection plans and inspections judged by GB/T 2828.1
//! ([`inspect`]), holds that follow the genealogy and their release ([`holds`]), and the nonconformance
//! report's life with its dispositions ([`ncr`]). Every step is events through
//! [`Engine::capture_events`]; the state ([`state::QualityState`]) is folded with the operations
//! projections, so the warehouse, the station and EPCIS capture refuse held objects naming the hold.

pub mod analysis;
pub mod attachments;
pub mod holds;
pub mod inspect;
pub mod ncr;
pub mod report;
pub mod state;
pub mod widgets;

use serde_json::{Value, json};
use suyuan_core::Event;

use crate::Engine;
use crate::operations::{OpsError, event, now_text};

pub use state::{InspectionRecord, Ncr, QualityState};

/// The definition kind of inspection plans.
pub const PLAN_KIND: &str = "quality.plan";

/// Most object keys one hold or release event names (a hold of 100,000 objects is 20 events, stored
/// together).
pub const KEYS_PER_EVENT: usize = 5_000;

/// A short id derived from `seed` with `prefix` (`H-…`, `NCR-…`, `INS-…`): the same request gives the
/// same id, so a retried request is stored once.
pub(crate) fn short_id(prefix: &str, seed: &str) -> String {
    format!(
        "{prefix}-{}",
        crate::audit::sha256_hex(seed)[..10].to_ascii_uppercase()
    )
}

/// The URI of a nonconformance report or a hold, as an event's object.
pub(crate) fn doc_uri(kind: &str, id: &str) -> String {
    format!("urn:suyuan:quality:{kind}:{id}")
}

/// Whether a key names one object (a unit, case or pallet) rather than a lot.
pub(crate) fn is_instance(key: &str) -> bool {
    !(key.contains("/10/") || key.contains(":lot:"))
}

/// Events of business step `step` and disposition `disposition` over `keys` (instances in `epcList`,
/// lots in `quantityList`), at most [`KEYS_PER_EVENT`] keys each, every one carrying `extra` fields.
pub(crate) fn over_keys(
    step: &str,
    disposition: &str,
    keys: &[String],
    extra: &Value,
) -> Result<Vec<Event>, OpsError> {
    let now = now_text();
    let mut out = Vec::new();
    for chunk in keys.chunks(KEYS_PER_EVENT) {
        let (units, lots): (Vec<&String>, Vec<&String>) =
            chunk.iter().partition(|k| is_instance(k));
        let mut v = json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now, "eventTimeZoneOffset": "+00:00",
            "bizStep": step, "disposition": disposition,
        });
        if !units.is_empty() {
            v["epcList"] = json!(units);
        }
        if !lots.is_empty() {
            v["quantityList"] = Value::Array(lots.iter().map(|l| json!({"epcClass": l})).collect());
        }
        if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
            for (k, val) in x {
                o.insert(k.clone(), val.clone());
            }
        }
        out.push(event(v)?);
    }
    Ok(out)
}

impl Engine {
    /// Runs `f` over the quality projection brought up to the last stored event.
    pub async fn quality<T>(&self, f: impl FnOnce(&QualityState) -> T) -> Result<T, OpsError> {
        let ops = self.operations().await?;
        Ok(f(&ops.quality))
    }
}
