//! Inspection plans (definitions `quality.plan`) and inspections: the plan gives the sample size of the
//! lot under the scheme's current severity; the findings judge the lot by each class's Ac/Re and the
//! characteristics' limits; the result is an `inspecting` event on the lot (disposition `conformant` or
//! `non_conformant`) with the inspector, instrument and attachments. A failed lot is held with
//! everything made from it, a nonconformance report is raised and the quality manager gets a to-do —
//! all in the same transaction as the inspection.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use suyuan_core::projection::object_key;
use suyuan_quality::plan::{Finding, InspectionPlan, Judgement, Stage, judge};
use suyuan_quality::sampling::Severity;
use suyuan_quality::switching::Stage as SwitchStage;

use super::state::NCR_STEP;
use super::{PLAN_KIND, doc_uri, short_id};
use crate::Engine;
use crate::operations::{OpsError, event, now_text, problem};

/// An attachment of an inspection: a photo or certificate, named with its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Where it is kept, if anywhere.
    #[serde(default)]
    pub url: Option<String>,
}

/// An inspection to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InspectionRequest {
    /// The plan's code.
    pub plan: String,
    /// The lot (or unit) inspected, any identifier form.
    pub object: String,
    /// Items in the lot.
    pub lot_size: u64,
    /// What was found.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Who inspected (the signed-in user when absent).
    #[serde(default)]
    pub inspector: Option<String>,
    /// Instrument used.
    #[serde(default)]
    pub instrument: Option<String>,
    /// Photos and certificates.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The supplier (IQC), when the lot's receipt does not name it.
    #[serde(default)]
    pub supplier: Option<String>,
    /// A client's id: a retried request is recorded once.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The submission of the plan's own form (the plant's extra fields), if it has one.
    #[serde(default)]
    pub submission: Option<String>,
}

/// What an inspection recorded.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionOutcome {
    /// The inspection's id.
    pub id: String,
    /// The judgement.
    pub judgement: Judgement,
    /// The severity the lot was sampled under.
    pub severity: Severity,
    /// Items to inspect under that severity.
    pub sample_size: u32,
    /// The nonconformance report raised, if the lot failed.
    pub ncr: Option<String>,
}

/// The plan's or the findings' problems as the operations API answers them (each field named).
fn invalid(list: Vec<suyuan_quality::plan::Problem>) -> OpsError {
    crate::operations::problems(list.into_iter().map(|p| (p.field, p.expected)))
}

/// The switching scheme a plan's lot counts in: per supplier and material at IQC, per product and
/// operation (or stage) otherwise.
pub fn scheme(plan: &InspectionPlan, supplier: Option<&str>) -> String {
    match plan.stage {
        Stage::Iqc => format!("iqc/{}/{}", supplier.unwrap_or("-"), plan.subject),
        s => format!(
            "{}/{}/{}",
            s.as_str(),
            plan.subject,
            plan.operation.as_deref().unwrap_or("-")
        ),
    }
}

impl Engine {
    /// Saves an inspection plan (a new version when it changed), with its ledger event.
    pub async fn save_inspection_plan(
        &self,
        actor: &str,
        plan: &InspectionPlan,
    ) -> Result<InspectionPlan, OpsError> {
        let problems = plan.problems();
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let doc = serde_json::to_value(plan).unwrap_or(Value::Null);
        self.save_definition(actor, PLAN_KIND, &plan.code, &doc)
            .await?;
        Ok(plan.clone())
    }

    /// Every inspection plan, by code.
    pub async fn inspection_plans(&self) -> Result<Vec<InspectionPlan>, OpsError> {
        let mut out: Vec<InspectionPlan> = self
            .store()
            .definitions(PLAN_KIND)
            .await?
            .into_iter()
            .filter_map(|d| serde_json::from_value(d.definition).ok())
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    /// The inspection plan `code`.
    pub async fn inspection_plan(&self, code: &str) -> Result<InspectionPlan, OpsError> {
        self.store()
            .definition(PLAN_KIND, code, None)
            .await?
            .and_then(|d| serde_json::from_value(d.definition).ok())
            .ok_or_else(|| OpsError::NotFound(format!("inspection plan {code}")))
    }

    /// The supplier of a lot as its receipt recorded it: the supplier record's code when the receipt's
    /// party is a known supplier, else the party as recorded.
    async fn supplier_of(&self, key: &str) -> Result<Option<String>, OpsError> {
        let party = {
            let ops = self.operations().await?;
            ops.inventory.lot(key).and_then(|l| l.supplier.clone())
        };
        let Some(party) = party else { return Ok(None) };
        let records = self.records().await?;
        Ok(Some(
            records
                .by_gln("supplier", &party)
                .map_or(party.clone(), str::to_string),
        ))
    }

    /// The scheme's current stage and the sample a lot of `lot_size` needs under it.
    pub async fn sampling_for(
        &self,
        plan: &InspectionPlan,
        supplier: Option<&str>,
        lot_size: u64,
    ) -> Result<(SwitchStage, u32), OpsError> {
        let key = scheme(plan, supplier);
        let stage = self
            .quality(|q| {
                q.switching
                    .get(&key)
                    .map_or(SwitchStage::Normal, |s| s.stage)
            })
            .await?;
        let n = plan
            .sample_size(lot_size, stage.severity())
            .map_err(|e| problem("lot_size", e.to_string()))?;
        Ok((stage, n))
    }

    /// Records an inspection, judging the lot; a failed lot is held with everything made from it, a
    /// nonconformance report is raised and the quality manager alerted, in one transaction.
    pub async fn record_inspection(
        &self,
        actor: &str,
        req: &InspectionRequest,
    ) -> Result<InspectionOutcome, OpsError> {
        if req.object.trim().is_empty() {
            return Err(problem("object", "the lot or unit inspected"));
        }
        for (i, a) in req.attachments.iter().enumerate() {
            if a.name.trim().is_empty()
                || a.sha256.len() != 64
                || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(problem(
                    &format!("attachments/{i}"),
                    "a file's name and its SHA-256 (64 hex digits)",
                ));
            }
        }
        if req.lot_size == 0 {
            return Err(problem(
                "lot_size",
                "the number of items in the lot, at least 1",
            ));
        }
        let plan = self.inspection_plan(&req.plan).await?;
        if let Some(sub) = &req.submission {
            let made_with = self.submission(sub).await?.map(|s| s.form);
            if made_with.is_none() || made_with != plan.form {
                return Err(problem(
                    "submission",
                    format!(
                        "a submission of the plan's form {} ({sub} is not one)",
                        plan.form.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
        }
        let key = object_key(req.object.trim());
        let _writing = self.ops.writing.lock().await;
        let supplier = match &req.supplier {
            Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => self.supplier_of(&key).await?,
        };
        let seed = req
            .request_id
            .clone()
            .unwrap_or_else(|| format!("{}\u{1f}{key}\u{1f}{}", plan.code, now_text()));
        let id = short_id("INS", &seed);
        if self
            .quality(|q| q.inspections.iter().any(|i| i.id == id))
            .await?
        {
            return Err(problem(
                "request_id",
                format!("a new request id ({id} is already recorded)"),
            ));
        }
        let (stage, _) = self
            .sampling_for(&plan, supplier.as_deref(), req.lot_size)
            .await?;
        if stage == SwitchStage::Discontinued {
            return Err(problem(
                "plan",
                format!(
                    "a scheme in use: inspection under {} is discontinued until the supplier's corrective action is accepted",
                    scheme(&plan, supplier.as_deref())
                ),
            ));
        }
        let severity = stage.severity();
        let j = judge(&plan, req.lot_size, severity, &req.findings).map_err(invalid)?;
        let sample_size = j.plans.values().map(|p| p.sample_size).max().unwrap_or(0);
        let (product, lot) = suyuan_ops::facts::product_and_lot(&key)
            .unwrap_or_else(|| (plan.subject.clone(), None));
        let ncr = (!j.accepted).then(|| short_id("NCR", &id));
        let inspector = req.inspector.clone().unwrap_or_else(|| actor.to_string());
        let defects: serde_json::Map<String, Value> = j
            .defects
            .iter()
            .map(|(c, n)| (c.as_str().to_string(), json!(n)))
            .collect();
        let min_ac = j.plans.values().map(|p| p.ac).min().unwrap_or(0);
        let mut v = json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
            "bizStep": "inspecting", "disposition": if j.accepted { "conformant" } else { "non_conformant" },
            "sy:actor": actor,
            "sy:inspection": {"sy:id": id, "sy:plan": plan.code, "sy:stage": plan.stage.as_str(),
                "sy:product": product, "sy:lot": lot, "sy:supplier": supplier, "sy:lotSize": req.lot_size,
                "sy:sampleSize": sample_size, "sy:severity": severity.as_str(), "sy:accepted": j.accepted,
                "sy:defects": defects, "sy:ac": min_ac, "sy:tighterAccepted": j.accepted_one_step_tighter,
                "sy:reducedAllowed": plan.reduced_allowed, "sy:scheme": scheme(&plan, supplier.as_deref()),
                "sy:failing": j.failing, "sy:findings": req.findings, "sy:inspector": inspector,
                "sy:instrument": req.instrument, "sy:attachments": req.attachments, "sy:ncr": ncr,
                "sy:submission": req.submission},
        });
        if super::is_instance(&key) {
            v["epcList"] = json!([key]);
        } else {
            v["quantityList"] = json!([{"epcClass": key}]);
        }
        let mut events = vec![event(v)?];
        if let Some(ncr) = &ncr {
            let reason = format!(
                "{} {} failed: {}",
                plan.stage.as_str().to_uppercase(),
                plan.code,
                j.failing.join(", ")
            );
            events.push(event(json!({
                "type": "ObjectEvent", "action": "ADD", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
                "epcList": [doc_uri("ncr", ncr)], "bizStep": NCR_STEP, "sy:actor": actor,
                "sy:ncr": {"sy:id": ncr, "sy:step": "raise", "sy:state": "raised", "sy:object": key,
                    "sy:inspection": id, "sy:holds": [], "sy:summary": reason, "sy:why": reason},
            }))?);
        }
        // Holding the lot and what was made from it, and telling the quality manager, is the built-in
        // rule `inspection-failed` (run from the outbox), which a plant edits like any other rule.
        self.record(events).await?;
        drop(_writing);
        Ok(InspectionOutcome {
            id,
            judgement: j,
            severity,
            sample_size,
            ncr,
        })
    }

    /// Resumes a discontinued scheme after the supplier's corrective action (tightened inspection).
    pub async fn resume_scheme(
        &self,
        actor: &str,
        scheme: &str,
        why: &str,
    ) -> Result<(), OpsError> {
        let stage = self
            .quality(|q| q.switching.get(scheme).map(|s| s.stage))
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("scheme {scheme}")))?;
        if stage != SwitchStage::Discontinued {
            return Err(problem(
                "scheme",
                format!("a discontinued scheme ({scheme} is {})", stage.as_str()),
            ));
        }
        let e = event(json!({
            "type": "ObjectEvent", "action": "OBSERVE", "eventTime": now_text(), "eventTimeZoneOffset": "+00:00",
            "epcList": [doc_uri("scheme", scheme)], "bizStep": "inspecting", "sy:actor": actor,
            "sy:switching": {"sy:scheme": scheme, "sy:action": "resume", "sy:why": why},
        }))?;
        self.record(vec![e]).await?;
        Ok(())
    }
}
