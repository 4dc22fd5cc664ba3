//! Holds that follow the genealogy: a hold on a lot reaches everything made from it — its units, the
//! cases and pallets they are packed in, what is in transit or at a distributor (listed for recall) — as
//! the trace engine finds it at the time of the hold, and moves it to on-hold stock. Releasing a hold
//! frees exactly what it held that no other open hold keeps.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use suyuan_core::Event;
use suyuan_core::projection::object_key;

use super::state::RELEASE_STEP;
use super::{over_keys, short_id};
use crate::Engine;
use crate::operations::{OpsError, problem};
use crate::recall::{RecallError, Scope};

/// A request to hold an object by hand.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HoldRequest {
    /// The object: a lot, unit, case or pallet (any identifier form).
    pub object: String,
    /// Why.
    pub reason: String,
    /// Whether everything made from it is held too (default yes).
    #[serde(default)]
    pub only_this: bool,
    /// The nonconformance report it belongs to.
    #[serde(default)]
    pub ncr: Option<String>,
    /// A client's id for the request: a retry places the hold once.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// A hold as placed: how many objects, and those already out of the plant (for recall).
#[derive(Debug, Clone, Serialize)]
pub struct HoldPlaced {
    /// The hold's id.
    pub hold: String,
    /// Objects it keeps.
    pub objects: usize,
    /// Objects in transit, at a distributor or a store, or sold: to recall.
    pub outside: Vec<Value>,
}

/// A request to release a hold (all of it, or part after a rework).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReleaseRequest {
    /// Why.
    pub why: String,
    /// Only these objects (after a partial rework); all when absent.
    #[serde(default)]
    pub objects: Option<Vec<String>>,
}

fn recall_problem(e: RecallError) -> OpsError {
    match e {
        RecallError::Invalid { message, .. } => problem("object", message),
        RecallError::NotFound(m) => OpsError::NotFound(m),
        RecallError::Capture(c) => OpsError::Capture(c),
    }
}

impl Engine {
    /// The keys a hold on `object` reaches (the object first) and those already outside the plant.
    pub(crate) async fn hold_reach(
        &self,
        object: &str,
        only_this: bool,
    ) -> Result<(Vec<String>, Vec<Value>), OpsError> {
        let key = object_key(object.trim());
        if only_this {
            return Ok((vec![key], Vec::new()));
        }
        let items = self
            .affected(&Scope {
                lots: vec![key.clone()],
                ..Default::default()
            })
            .await
            .map_err(recall_problem)?;
        let mut keys = vec![key.clone()];
        let mut outside = Vec::new();
        for it in items {
            if it.id == key {
                continue;
            }
            if matches!(
                it.place,
                "in_transit" | "distributor" | "store" | "sold" | "scanned"
            ) {
                outside.push(json!({"object": it.id, "kind": it.kind, "place": it.place,
                    "holder": it.holder, "location": it.location}));
            }
            keys.push(it.id);
        }
        Ok((keys, outside))
    }

    /// The hold events over `keys`.
    pub(crate) fn hold_events(
        &self,
        actor: &str,
        hold: &str,
        reason: &str,
        ncr: Option<&str>,
        keys: &[String],
    ) -> Result<Vec<Event>, OpsError> {
        over_keys(
            "holding",
            "non_sellable_other",
            keys,
            &json!({"sy:actor": actor,
                "sy:hold": {"sy:id": hold, "sy:reason": reason, "sy:ncr": ncr, "sy:origin": keys.first()}}),
        )
    }

    /// Holds an object by hand (and, unless asked otherwise, everything made from it).
    pub async fn place_hold(&self, actor: &str, req: &HoldRequest) -> Result<HoldPlaced, OpsError> {
        if req.object.trim().is_empty() {
            return Err(problem("object", "the lot, unit, case or pallet to hold"));
        }
        if req.reason.trim().is_empty() {
            return Err(problem("reason", "why it is held"));
        }
        let _writing = self.ops.writing.lock().await;
        let seed = req.request_id.clone().unwrap_or_else(|| {
            format!(
                "{}\u{1f}{}\u{1f}{}",
                req.object,
                req.reason,
                super::super::operations::now_text()
            )
        });
        let hold = short_id("H", &seed);
        if self.quality(|q| q.holds.get(&hold).is_some()).await? {
            let objects = self
                .quality(|q| q.holds.get(&hold).map_or(0, |h| h.objects.len()))
                .await?;
            return Ok(HoldPlaced {
                hold,
                objects,
                outside: Vec::new(),
            });
        }
        let (keys, outside) = self.hold_reach(&req.object, req.only_this).await?;
        let events =
            self.hold_events(actor, &hold, req.reason.trim(), req.ncr.as_deref(), &keys)?;
        self.record(events).await?;
        Ok(HoldPlaced {
            hold,
            objects: keys.len(),
            outside,
        })
    }

    /// The release events of `hold` (all of it, or `part`): the objects freed, and the record of the
    /// release (also when every object is still kept by another hold).
    pub(crate) async fn release_events(
        &self,
        actor: &str,
        hold: &str,
        part: Option<&[String]>,
        why: &str,
    ) -> Result<Vec<Event>, OpsError> {
        let part: Option<Vec<String>> =
            part.map(|p| p.iter().map(|k| object_key(k.trim())).collect());
        let (open, freed) = self
            .quality(|q| {
                (
                    q.holds.get(hold).is_some_and(|h| h.open),
                    q.holds.freed_by(hold, part.as_deref()),
                )
            })
            .await?;
        if !open {
            return Err(OpsError::NotFound(format!("open hold {hold}")));
        }
        let mut release = json!({"sy:hold": hold, "sy:why": why});
        if let Some(p) = &part {
            release["sy:objects"] = json!(p);
        }
        let extra = json!({"sy:actor": actor, "sy:release": release});
        if freed.is_empty() {
            // Nothing leaves on-hold stock (another hold keeps it all): the release is still recorded.
            let v = json!({
                "type": "ObjectEvent", "action": "OBSERVE", "eventTime": crate::operations::now_text(),
                "eventTimeZoneOffset": "+00:00", "bizStep": RELEASE_STEP,
                "epcList": [super::doc_uri("hold", hold)],
                "sy:actor": actor, "sy:release": release,
            });
            return Ok(vec![crate::operations::event(v)?]);
        }
        // Only the first event carries the release record; the rest free the remaining objects.
        let mut events = over_keys(RELEASE_STEP, "active", &freed, &extra)?;
        for e in events.iter_mut().skip(1) {
            e.extensions.retain(|k, _| !k.ends_with("release"));
        }
        // A freed case or pallet frees what is inside it; what another hold keeps in there is held again
        // by that hold in the same transaction.
        let again: Vec<(String, String, Option<String>, Vec<String>)> = {
            let ops = self.operations().await?;
            let mut by_hold: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for c in freed.iter().filter(|k| suyuan_ops::facts::is_container(k)) {
                for inside in ops.inventory.units_inside(c) {
                    for h in ops.quality.holds.on(&inside) {
                        if h.id != hold {
                            by_hold
                                .entry(h.id.clone())
                                .or_default()
                                .push(inside.clone());
                        }
                    }
                }
            }
            by_hold
                .into_iter()
                .filter_map(|(id, keys)| {
                    let h = ops.quality.holds.get(&id)?;
                    Some((id, h.reason.clone(), h.ncr.clone(), keys))
                })
                .collect()
        };
        for (id, reason, ncr, keys) in again {
            events.extend(self.hold_events(actor, &id, &reason, ncr.as_deref(), &keys)?);
        }
        Ok(events)
    }

    /// Releases a hold (all of it, or part after a rework), freeing what no other open hold keeps.
    pub async fn release_hold(
        &self,
        actor: &str,
        hold: &str,
        req: &ReleaseRequest,
    ) -> Result<Vec<String>, OpsError> {
        if req.why.trim().is_empty() {
            return Err(problem("why", "why the hold is released"));
        }
        let _writing = self.ops.writing.lock().await;
        let freed = self
            .quality(|q| q.holds.freed_by(hold, req.objects.as_deref()))
            .await?;
        let events = self
            .release_events(actor, hold, req.objects.as_deref(), req.why.trim())
            .await?;
        self.record(events).await?;
        Ok(freed)
    }
}
