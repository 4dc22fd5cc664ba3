//! Steps of a nonconformance report, each an event with who and why, carried out on the held objects in
//! the same transaction: scrap destroys them, return to supplier sends the lot back, an approved
//! concession releases them; rework leaves them held until re-inspection releases what passed.

use serde::Deserialize;
use serde_json::json;
use suyuan_core::Event;
use suyuan_quality::ncr::{Disposition, NcrState, Step, next};

use super::state::{NCR_STEP, Ncr};
use super::{doc_uri, over_keys};
use crate::Engine;
use crate::operations::{OpsError, event, now_text, problem};

/// A step asked of a report.
#[derive(Debug, Clone, Deserialize)]
pub struct NcrRequest {
    /// `review`, `dispose`, `approve`, `reject` or `close`.
    pub action: String,
    /// For `dispose`: `rework`, `scrap`, `return_to_supplier` or `concession`.
    #[serde(default)]
    pub disposition: Option<String>,
    /// Why.
    #[serde(default)]
    pub why: String,
}

impl NcrRequest {
    fn step(&self) -> Result<Step, OpsError> {
        Ok(match self.action.as_str() {
            "review" => Step::Review,
            "approve" => Step::Approve,
            "reject" => Step::Reject,
            "close" => Step::Close,
            "dispose" => Step::Dispose {
                disposition: self
                    .disposition
                    .as_deref()
                    .and_then(Disposition::parse)
                    .ok_or_else(|| {
                        problem(
                            "disposition",
                            "one of rework, scrap, return_to_supplier, concession",
                        )
                    })?,
            },
            _ => {
                return Err(problem(
                    "action",
                    "one of review, dispose, approve, reject, close",
                ));
            }
        })
    }
}

impl Engine {
    /// Every nonconformance report, newest first.
    pub async fn ncrs(&self) -> Result<Vec<Ncr>, OpsError> {
        self.quality(|q| {
            let mut v: Vec<Ncr> = q.ncrs.values().cloned().collect();
            v.sort_by(|a, b| b.raised_at.cmp(&a.raised_at).then(b.id.cmp(&a.id)));
            v
        })
        .await
    }

    /// The nonconformance report `id`.
    pub async fn ncr(&self, id: &str) -> Result<Ncr, OpsError> {
        self.quality(|q| q.ncrs.get(id).cloned())
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("nonconformance report {id}")))
    }

    /// Takes a step of a report for `actor`, with what it does to the held objects.
    pub async fn ncr_step(&self, actor: &str, id: &str, req: &NcrRequest) -> Result<Ncr, OpsError> {
        if req.why.trim().is_empty() {
            return Err(problem("why", "a reason for the step"));
        }
        let step = req.step()?;
        let _writing = self.ops.writing.lock().await;
        let ncr = self.ncr(id).await?;
        let to = next(ncr.state, step, ncr.proposer.as_deref(), actor)
            .map_err(|e| problem("action", e.to_string()))?;
        let open_holds: Vec<(String, Vec<String>)> = self
            .quality(|q| {
                ncr.holds
                    .iter()
                    .filter_map(|h| q.holds.get(h).filter(|h| h.open))
                    .map(|h| (h.id.clone(), h.objects.clone()))
                    .collect()
            })
            .await?;
        if step == Step::Close && !open_holds.is_empty() {
            return Err(problem(
                "action",
                format!(
                    "release or scrap what the report's holds still keep before closing ({} open)",
                    open_holds
                        .iter()
                        .map(|(h, _)| h.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let disposition = match step {
            Step::Dispose { disposition } => Some(disposition),
            Step::Approve => ncr.disposition,
            _ => None,
        };
        let why = req.why.trim();
        let mut events: Vec<Event> = vec![event(json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
            "epcList": [doc_uri("ncr", id)], "bizStep": NCR_STEP, "sy:actor": actor,
            "sy:ncr": {"sy:id": id, "sy:step": step.as_str(), "sy:state": to.as_str(),
                "sy:disposition": disposition.map(Disposition::as_str), "sy:why": why},
        }))?];
        if to == NcrState::Disposed {
            let effect = match disposition {
                Some(Disposition::Scrap) => Some(("destroying", "destroyed")),
                Some(Disposition::ReturnToSupplier) => Some(("shipping", "returned")),
                _ => None,
            };
            for (hold, objects) in &open_holds {
                match effect {
                    Some((biz, disp)) => {
                        let objects: Vec<String> = if disp == "returned" {
                            // What goes back is the supplier's lot itself.
                            objects
                                .iter()
                                .filter(|k| !super::is_instance(k))
                                .cloned()
                                .collect()
                        } else {
                            objects.clone()
                        };
                        let extra = json!({"sy:actor": actor, "sy:ncr": {"sy:id": id},
                            "sy:release": {"sy:hold": hold, "sy:why": why}});
                        let mut evs = over_keys(biz, disp, &objects, &extra)?;
                        if evs.is_empty() {
                            evs = self.release_events(actor, hold, None, why).await?;
                        }
                        events.extend(evs);
                    }
                    None if disposition == Some(Disposition::Concession) => {
                        events.extend(self.release_events(actor, hold, None, why).await?);
                    }
                    None => {}
                }
            }
        }
        self.record(events).await?;
        drop(_writing);
        self.ncr(id).await
    }
}
